#pragma once
/// @file text.hpp
/// Turkish-aware text utilities shared by the engine and plugins: folding, tokens, suffix
/// stripping, fuzzy similarity, language guessing, and ranking of offerings and knowledge entries.

#include <tezgah/sdk/catalog.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::sdk::text {

/// Lower case with Turkish rules (İ→i, I→ı) then folded to ASCII (ı→i, ş→s, ç→c, ğ→g, ö→o, ü→u,
/// â→a ...); punctuation becomes spaces, runs of spaces collapse. Invalid UTF-8 bytes are dropped.
std::string fold(std::string_view utf8);

/// Lower case with Turkish rules, keeping the letters (İ→i, I→ı, Ş→ş ...).
std::string lower_tr(std::string_view utf8);

/// Folded words of `utf8`, in order.
std::vector<std::string> tokens(std::string_view utf8);

/// Strips common Turkish inflectional suffixes from a folded word ("geceligin" → "gecelik",
/// "pijamalar" → "pijama", "sabahligi" → "sabahlik"); English plurals too. Never shorter than 3.
std::string stem(std::string_view folded_word);

/// 0..1 similarity of two folded words, tolerant of one or two typos (Damerau-Levenshtein).
double similarity(std::string_view a, std::string_view b);

/// "tr" or "en" for a customer message; `fallback` when there is too little to tell.
std::string detect_language(std::string_view utf8, std::string_view fallback = "tr");

/// Ranks offerings against a customer's words (names, aliases, category, translations; stems and
/// typos), best first, at most `limit`, dropping weak matches.
std::vector<OfferingMatch> match_offerings(const std::vector<Offering>& offerings, std::string_view query,
                                           std::string_view language, std::size_t limit);

/// Ranks knowledge entries against a question by folded, stemmed word overlap with question,
/// keywords and answer (a fallback where full-text search is not at hand, e.g. in fakes).
std::vector<KnowledgeHit> rank_knowledge(const std::vector<KnowledgeEntry>& entries, std::string_view query,
                                         std::string_view language, std::size_t limit);

/// How well a customer's word matches a known word, both folded, 0..1: the same stem, a Turkish
/// suffix the stemmer missed, a consonant softened ("gecelig-" on "gecelik"), or a typo.
double word_match(std::string_view customer_word, std::string_view known_word);

/// The first of `topics` whose every word matches a word of `text` (word_match >= 0.85, so
/// inflected and misspelt forms count): a tenant's handoff topics, for the offline assistant and
/// the engine alike. None when no topic matches.
std::optional<std::string> matching_topic(std::string_view text, const std::vector<std::string>& topics);

/// True when `utf8` is valid UTF-8.
bool valid_utf8(std::string_view utf8) noexcept;

/// `utf8` with each byte that does not begin a valid UTF-8 sequence (a letter cut in half, a stray
/// continuation byte, an overlong form, a surrogate) replaced by U+FFFD. Valid text comes back
/// unchanged. `replaced`, when given, receives the number of bytes replaced.
std::string repair_utf8(std::string_view utf8, std::size_t* replaced = nullptr);

/// The number of code points (characters) of valid UTF-8 text.
std::size_t length(std::string_view utf8) noexcept;

/// `text` without leading and trailing ASCII white space.
std::string_view trim(std::string_view text) noexcept;

}  // namespace tezgah::sdk::text
