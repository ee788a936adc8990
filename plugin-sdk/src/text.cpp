// Turkish-aware text utilities: case folding, tokens, suffix stripping, fuzzy similarity, language
// guessing, and ranking of offerings and knowledge entries.
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace tezgah::sdk::text {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

/// Decodes one code point at `pos`, advancing it; kInvalid (and one byte consumed) on bad input.
char32_t decode(std::string_view s, std::size_t& pos) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = byte(pos);
    if (c < 0x80) {
        ++pos;
        return c;
    }
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
        length = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        length = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        length = 4, cp = c & 0x07, min = 0x10000;
    } else {
        ++pos;
        return kInvalid;
    }
    if (pos + length > s.size()) {
        ++pos;
        return kInvalid;
    }
    for (std::size_t i = 1; i < length; ++i) {
        const unsigned char next = byte(pos + i);
        if ((next & 0xC0) != 0x80) {
            ++pos;
            return kInvalid;
        }
        cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++pos;
        return kInvalid;
    }
    pos += length;
    return cp;
}

void encode(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Lower case of one code point with Turkish rules (I → ı, İ → i).
char32_t lower_cp(char32_t cp) {
    if (cp == U'I') return U'ı';
    if (cp == U'İ') return U'i';
    if (cp >= U'A' && cp <= U'Z') return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
    if (cp == 0x178) return 0xFF;
    if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) return (cp % 2 == 0) ? cp + 1 : cp;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) return (cp % 2 == 1) ? cp + 1 : cp;
    if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;  // Greek
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                 // Cyrillic
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    return cp;
}

// ASCII base letters of U+0100..U+017F (Latin Extended-A), one per code point.
constexpr std::string_view kLatinExtA =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllllll"
    "lnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
static_assert(kLatinExtA.size() == 0x80);
// ASCII of U+00C0..U+00FF (Latin-1 letters); '\0' marks symbols (× ÷) and multi-letter ones.
constexpr std::string_view kLatin1("aaaaaa\0ceeeeiiiidnooooo\0ouuuuyt\0aaaaaa\0ceeeeiiiidnooooo\0ouuuuyty",
                                   64);
static_assert(kLatin1[0x3F] == 'y' && kLatin1[0x17] == '\0');

bool is_separator(char32_t cp) {
    if (cp < 0x80) return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'));
    if (cp <= 0xBF) return true;                    // Latin-1 punctuation and symbols
    if (cp == 0xD7 || cp == 0xF7) return true;      // × ÷
    if (cp >= 0x2000 && cp <= 0x2BFF) return true;  // punctuation, arrows, symbols
    if (cp >= 0x3000 && cp <= 0x303F) return true;  // CJK punctuation
    if (cp >= 0xFE00 && cp <= 0xFE0F) return true;  // variation selectors
    if (cp >= 0x1F000) return true;                 // emoji and pictographs
    return false;
}

bool is_apostrophe(char32_t cp) { return cp == U'\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x02BC; }

/// Appends the folded (ASCII where known) form of an already lower-cased code point.
void append_folded(char32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp >= 0xC0 && cp <= 0xFF) {
        if (cp == 0xE6 || cp == 0xC6) {
            out += "ae";
        } else if (cp == 0xDF) {
            out += "ss";
        } else if (const char c = kLatin1[cp - 0xC0]; c != '\0') {
            out += c;
        }
    } else if (cp >= 0x100 && cp <= 0x17F) {
        out += kLatinExtA[cp - 0x100];
    } else if (cp >= 0x300 && cp <= 0x36F) {
        // combining marks (e.g. the dot of a decomposed İ): dropped
    } else {
        encode(cp, out);
    }
}

// memcmp, not string_view's ==: these run millions of times a turn's second, and GCC leaves
// string_view::compare out of line here (with its substr bounds check).
bool ends_with(std::string_view word, std::string_view suffix) {
    return word.size() >= suffix.size() &&
           std::memcmp(word.data() + (word.size() - suffix.size()), suffix.data(), suffix.size()) == 0;
}

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

/// Words that carry no product meaning in a customer's question, in both languages (folded).
const std::unordered_set<std::string>& stop_words() {
    // clang-format off
    static const std::unordered_set<std::string> words = {
        // Turkish
        "ne", "kadar", "var", "mi", "mu", "misin", "musun", "fiyat", "fiyati",
        "fiyatlari", "fiyatlar", "stok", "stokta", "stoklarda", "stogu", "stokda", "bir", "bu", "su",
        "o", "ve", "ile", "icin", "da", "de", "ki", "acaba", "merhaba", "selam", "iyi", "gunler",
        "lutfen", "tesekkurler", "tesekkur", "ederim", "sey", "ben", "bana", "sizde", "sizin",
        "hangi", "nedir", "nasil", "kac", "tl", "lira", "ucret", "ucreti", "istiyorum", "alabilir",
        "miyim", "mevcut", "kaldi", "hala", "hakkinda", "bilgi", "almak", "olur", "olarak", "misiniz",
        "musunuz", "yok", "en", "cok",
        // English
        "how", "much", "is", "the", "a", "an", "price", "prices", "cost", "costs", "do", "does", "you",
        "have", "has", "in", "stock", "of", "for", "to", "i", "me", "my", "we", "your", "what", "whats",
        "are", "there", "any", "it", "this", "that", "please", "hi", "hello", "thanks", "can", "get",
        "want", "would", "like", "some", "about", "available", "still", "on", "at", "and", "or",
        "with", "many", "left", "tell", "sell", "buy", "info", "which",
    };
    // clang-format on
    return words;
}

bool is_stop_word(const std::string& word) { return stop_words().contains(word); }

/// Content words of a query: folded, stop words dropped.
std::vector<std::string> content_tokens(std::string_view utf8) {
    std::vector<std::string> out;
    for (auto& token : tokens(utf8)) {
        if (!is_stop_word(token)) out.push_back(std::move(token));
    }
    return out;
}

/// The forms a folded word is compared by: itself and its stem.
struct Word {
    std::string raw;
    std::string stemmed;
};

Word make_word(std::string raw) {
    Word word{std::move(raw), {}};
    word.stemmed = stem(word.raw);
    return word;
}

std::vector<Word> make_words(const std::vector<std::string>& folded) {
    std::vector<Word> out;
    out.reserve(folded.size());
    for (const auto& token : folded) out.push_back(make_word(token));
    return out;
}

bool has_digit(std::string_view word) {
    return std::any_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// How well two words match, 0 when not at all: exact forms 1, inflections ~0.95, typos less.
/// `word` is the verbal noun ("-ma", "-me") of the noun `root`: "boyama" of "boya", so that
/// "saç boyası" finds "Saç Boyama".
bool verbal_noun_of(std::string_view word, std::string_view root) {
    return root.size() >= 4 && word.size() == root.size() + 2 && word.substr(0, root.size()) == root &&
           (word.ends_with("ma") || word.ends_with("me"));
}

double word_match(const Word& query, const Word& target) {
    if (query.raw == target.raw) return 1.0;
    if (query.stemmed == target.stemmed || query.raw == target.stemmed || query.stemmed == target.raw) {
        return 0.95;
    }
    // The English plural of a short word the stemmer leaves alone: "teas" on "tea".
    if (target.raw.size() == 3 && query.raw == target.raw + "s") return 0.9;
    if (verbal_noun_of(target.raw, query.stemmed) || verbal_noun_of(query.raw, target.stemmed)) return 0.85;
    const std::size_t shortest = std::min(query.raw.size(), target.raw.size());
    if (shortest <= 3 || has_digit(query.raw) || has_digit(target.raw)) return 0.0;
    // Typos are compared raw to raw, and stem to stem only where a real suffix (two letters or
    // more) came off both: a lone stripped vowel ("kadif(e)") would otherwise look like "kadin".
    double best = similarity(query.raw, target.raw);
    const auto suffix_stripped = [](const Word& w) { return w.raw.size() >= w.stemmed.size() + 2; };
    if (suffix_stripped(query) || suffix_stripped(target)) {
        const std::string& a = suffix_stripped(query) ? query.stemmed : query.raw;
        const std::string& b = suffix_stripped(target) ? target.stemmed : target.raw;
        best = std::max(best, similarity(a, b));
    }
    // One typo in a short word is tolerated only from five letters up.
    const double threshold = shortest <= 4 ? 0.99 : 0.75;
    return best >= threshold ? best * 0.9 : 0.0;
}

/// A phrase an offering can be called by, with how much a match on it counts.
struct Phrase {
    std::vector<Word> words;
    double weight = 1.0;
};

/// Scores `query` against one phrase: query coverage dominates, phrase coverage and word order
/// refine it (a phrase matched whole and in order beats a single shared word).
double phrase_score(const std::vector<Word>& query, const Phrase& phrase, std::vector<double>& covered) {
    if (query.empty() || phrase.words.empty()) return 0;
    std::vector<double> phrase_best(phrase.words.size(), 0.0);
    std::vector<int> position(query.size(), -1);
    double query_sum = 0;
    for (std::size_t q = 0; q < query.size(); ++q) {
        double best = 0;
        for (std::size_t p = 0; p < phrase.words.size(); ++p) {
            const double s = word_match(query[q], phrase.words[p]);
            if (s > best) {
                best = s;
                position[q] = static_cast<int>(p);
            }
            phrase_best[p] = std::max(phrase_best[p], s);
        }
        if (best == 0) position[q] = -1;
        query_sum += best;
        covered[q] = std::max(covered[q], best * std::min(1.0, phrase.weight + 0.2));
    }
    double phrase_sum = 0;
    for (const double s : phrase_best) phrase_sum += s;
    const double query_coverage = query_sum / static_cast<double>(query.size());
    const double phrase_coverage = phrase_sum / static_cast<double>(phrase.words.size());
    double in_order = 0;
    for (std::size_t q = 1; q < query.size(); ++q) {
        if (position[q] >= 0 && position[q - 1] >= 0 && position[q] == position[q - 1] + 1) in_order += 1;
    }
    const double order_bonus = query.size() > 1 ? 0.05 * in_order / static_cast<double>(query.size() - 1) : 0;
    return std::min(1.0, query_coverage * (0.7 + 0.3 * phrase_coverage) + order_bonus * query_coverage) *
           phrase.weight;
}

std::vector<Phrase> phrases_of(const Offering& offering, std::string_view language) {
    std::vector<Phrase> out;
    const bool has_wanted_translation = offering.translations.contains(std::string(language));
    const double original_weight = has_wanted_translation ? 0.97 : 1.0;
    const auto add = [&](std::string_view text, double weight) {
        auto words = tokens(text);
        if (!words.empty()) out.push_back(Phrase{make_words(words), weight});
    };
    add(offering.name, original_weight);
    for (const auto& alias : offering.aliases) add(alias, original_weight);
    for (const auto& [lang, translation] : offering.translations) {
        const double weight = lang == language ? 1.0 : 0.95;
        add(translation.name, weight);
        for (const auto& alias : translation.aliases) add(alias, weight);
    }
    add(offering.category, 0.8);
    add(offering.id, 0.9);
    for (const auto& [key, value] : offering.attributes) {
        if (value.is_string()) add(value.as_string(), 0.6);
    }
    return out;
}

/// Damerau-Levenshtein distance (optimal string alignment) over bytes of folded ASCII words.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    // Three rolling rows (a transposition looks two rows back) instead of the whole table: words
    // are short, so the rows usually live on the stack and a comparison allocates nothing.
    constexpr std::size_t kStackColumns = 48;
    std::array<std::size_t, 3 * kStackColumns> stack_rows;
    std::vector<std::size_t> heap_rows;
    std::size_t* rows = stack_rows.data();
    if (m + 1 > kStackColumns) {
        heap_rows.resize(3 * (m + 1));
        rows = heap_rows.data();
    }
    std::size_t* two_back = rows;
    std::size_t* back = rows + (m + 1);
    std::size_t* row = rows + 2 * (m + 1);
    for (std::size_t j = 0; j <= m; ++j) back[j] = j;
    for (std::size_t i = 1; i <= n; ++i) {
        row[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({back[j] + 1, row[j - 1] + 1, back[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                row[j] = std::min(row[j], two_back[j - 2] + 1);
            }
        }
        std::size_t* oldest = two_back;
        two_back = back;
        back = row;
        row = oldest;
    }
    return back[m];
}

/// Strips the longest of `suffixes` that leaves at least `min_left` characters; true if stripped.
bool strip_one(std::string& word, std::initializer_list<std::string_view> suffixes, std::size_t min_left) {
    std::string_view best;
    for (const auto suffix : suffixes) {
        if (suffix.size() > best.size() && ends_with(word, suffix) &&
            word.size() - suffix.size() >= min_left) {
            best = suffix;
        }
    }
    if (best.empty()) return false;
    word.resize(word.size() - best.size());
    return true;
}

}  // namespace

bool valid_utf8(std::string_view utf8) noexcept {
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        if (decode(utf8, pos) == kInvalid) return false;
    }
    return true;
}

std::string repair_utf8(std::string_view utf8, std::size_t* replaced) {
    std::size_t count = 0;
    std::string out;
    out.reserve(utf8.size());
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const std::size_t start = pos;
        if (decode(utf8, pos) == kInvalid) {
            out += "\xEF\xBF\xBD";  // U+FFFD; decode() consumed the one bad byte
            ++count;
        } else {
            out.append(utf8.substr(start, pos - start));
        }
    }
    if (replaced) *replaced = count;
    return out;
}

std::string lower_tr(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size());
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const char32_t cp = decode(utf8, pos);
        if (cp == kInvalid) continue;
        encode(lower_cp(cp), out);
    }
    return out;
}

std::string fold(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size());
    bool pending_space = false;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const char32_t cp = decode(utf8, pos);
        if (cp == kInvalid || is_apostrophe(cp)) continue;  // "Kadıköy'de" → "kadikoyde"
        if (is_separator(cp)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) {
            out += ' ';
            pending_space = false;
        }
        append_folded(lower_cp(cp), out);
    }
    return out;
}

std::vector<std::string> tokens(std::string_view utf8) {
    std::vector<std::string> out;
    const std::string folded = fold(utf8);
    std::size_t start = 0;
    while (start < folded.size()) {
        std::size_t end = folded.find(' ', start);
        if (end == std::string::npos) end = folded.size();
        if (end > start) out.emplace_back(folded.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string stem(std::string_view folded_word) {
    std::string word(folded_word);
    if (word.size() <= 3 || has_digit(word)) return word;
    const std::size_t original = word.size();

    // Case endings (outermost): ablative, locative, genitive, instrumental, dative, accusative.
    bool stripped_case =
        strip_one(word, {"ndan", "nden", "ntan", "nten", "dan", "den", "tan", "ten", "nda", "nde",
                         "da",   "de",   "ta",   "te",   "nin", "nun", "in",  "un",  "yla", "yle",
                         "la",   "le",   "ya",   "ye",   "yi",  "yu",  "na",  "ne",  "ni",  "nu"},
                  3);
    // A bare vowel (dative -a/-e, accusative -i/-u) only after a consonant, leaving four letters.
    const bool ends_possessive =
        ends_with(word, "si") || ends_with(word, "su") || ends_with(word, "lari") || ends_with(word, "leri");
    if (!stripped_case && !ends_possessive && word.size() >= 5 && is_vowel(word.back()) &&
        !is_vowel(word[word.size() - 2])) {
        word.pop_back();
        stripped_case = true;
    }
    // Possessive: -leri/-lari, -si/-su, -i/-u (after a consonant).
    bool stripped_possessive = strip_one(word, {"lari", "leri", "si", "su"}, 3);
    if (!stripped_possessive && stripped_case && word.size() >= 5 &&
        (word.back() == 'i' || word.back() == 'u') && !is_vowel(word[word.size() - 2])) {
        word.pop_back();
        stripped_possessive = true;
    }
    // Plural (innermost).
    const bool stripped_plural = strip_one(word, {"lar", "ler"}, 3);

    if (word.size() != original) {
        // Consonant softening before a vowel ending: gecelig(i) → gecelik, kitab(ı) → kitap.
        const bool vowel_suffix = stripped_case || stripped_possessive;
        if (vowel_suffix && !stripped_plural && word.size() >= 4 && is_vowel(word[word.size() - 2])) {
            if (word.back() == 'g')
                word.back() = 'k';
            else if (word.back() == 'b')
                word.back() = 'p';
        } else if (vowel_suffix && !stripped_plural && ends_with(word, "ng") && word.size() >= 4) {
            word.back() = 'k';  // renk → rengi
        }
        return word;
    }

    // English plurals: -ies → -y, -sses/-xes/-ches/-shes → drop -es, other -s.
    if (word.size() >= 5 && ends_with(word, "ies")) return word.substr(0, word.size() - 3) + "y";
    if (word.size() >= 5 && (ends_with(word, "sses") || ends_with(word, "xes") || ends_with(word, "ches") ||
                             ends_with(word, "shes") || ends_with(word, "zes"))) {
        return word.substr(0, word.size() - 2);
    }
    if (word.size() >= 5 && word.back() == 's' && !ends_with(word, "ss") && !ends_with(word, "us") &&
        !ends_with(word, "is")) {
        word.pop_back();
    }
    return word;
}

double similarity(std::string_view a, std::string_view b) {
    if (a == b) return 1.0;
    if (a.empty() || b.empty()) return 0.0;
    const std::size_t longest = std::max(a.size(), b.size());
    const std::size_t distance = edit_distance(a, b);
    return 1.0 - static_cast<double>(distance) / static_cast<double>(longest);
}

std::string detect_language(std::string_view utf8, std::string_view fallback) {
    // clang-format off
    static const std::unordered_set<std::string> english = {
        "how", "much", "is", "the", "do", "you", "have", "price", "stock", "what", "are", "your", "can",
        "i", "a", "an", "of", "for", "to", "in", "it", "does", "there", "any", "please", "hello", "hi",
        "thanks", "thank", "where", "when", "open", "hours", "shipping", "return", "policy", "want",
        "buy", "order", "my", "this", "that", "and", "with", "available", "cost", "would", "like",
        "size", "color", "delivery", "book", "appointment", "which", "tomorrow", "today", "yes", "no",
        "ok", "okay", "cheap", "how's", "did", "will", "sell", "still", "left", "many", "need", "get",
        "who", "whom", "teaches", "teach", "works", "work", "working", "instructor", "instructors", "teacher",
        "class", "classes", "weekend", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "injured", "hurt", "staff", "team", "schedule", "time", "days", "week", "tonight", "was",
    };
    // clang-format on
    // clang-format off
    static const std::unordered_set<std::string> turkish = {
        "ne", "kadar", "var", "mi", "mu", "fiyat", "fiyati", "stok", "stokta", "merhaba", "selam",
        "nedir", "nasil", "nerede", "neden", "hangi", "kac", "bir", "ve", "ile", "icin", "bu", "su",
        "evet", "hayir", "tesekkurler", "tesekkur", "ederim", "lutfen", "istiyorum", "yarin", "bugun",
        "saat", "adres", "iade", "kargo", "siparis", "randevu", "beden", "renk", "ucret", "ucreti",
        "acik", "kapali", "misiniz", "musunuz", "miyim", "yok", "tamam", "gun", "gunaydin", "iyi",
        "aksamlar", "kapida", "odeme", "indirim", "gecelik", "pijama", "sabahlik", "ben", "sizde",
        "olur", "acaba", "de", "da", "ki", "daha", "cok", "kadin", "erkek", "cocuk", "hala", "nasilsiniz",
    };
    // clang-format on
    static const std::array<std::string_view, 14> turkish_suffixes = {
        "lar", "ler", "mi",   "misiniz", "iyor", "yor",  "nin",
        "dan", "den", "sini", "lik",     "lari", "leri", "miyim"};

    // Turkish letters are the strongest sign.
    const std::string lowered = lower_tr(utf8);
    int tr_score = 0;
    for (const std::string_view letter : {"ı", "ş", "ğ", "ç", "ö", "ü"}) {
        std::size_t at = 0;
        while ((at = lowered.find(letter, at)) != std::string::npos) {
            tr_score += 2;
            at += letter.size();
        }
    }
    int en_score = 0;
    const auto words = tokens(utf8);
    for (const auto& word : words) {
        const bool is_en = english.contains(word);
        const bool is_tr = turkish.contains(word);
        if (is_en && !is_tr) en_score += 2;
        if (is_tr && !is_en) tr_score += 2;
        if (!is_en && !is_tr && word.size() >= 5) {
            for (const auto suffix : turkish_suffixes) {
                if (ends_with(word, suffix)) {
                    tr_score += 1;
                    break;
                }
            }
            if (ends_with(word, "ing") || ends_with(word, "tion") || ends_with(word, "ght")) en_score += 1;
        }
    }
    if (tr_score == 0 && en_score == 0) return std::string(fallback);
    if (en_score > tr_score) return "en";
    if (tr_score > en_score) return "tr";
    return std::string(fallback);
}

std::vector<OfferingMatch> match_offerings(const std::vector<Offering>& offerings, std::string_view query,
                                           std::string_view language, std::size_t limit) {
    std::vector<OfferingMatch> out;
    auto query_tokens = content_tokens(query);
    if (query_tokens.empty()) query_tokens = tokens(query);  // "fiyat" alone: try the words anyway
    if (query_tokens.empty() || limit == 0) return out;
    const auto query_words = make_words(query_tokens);

    for (const auto& offering : offerings) {
        std::vector<double> covered(query_words.size(), 0.0);
        double best_phrase = 0;
        for (const auto& phrase : phrases_of(offering, language)) {
            best_phrase = std::max(best_phrase, phrase_score(query_words, phrase, covered));
        }
        double union_sum = 0;
        for (const double c : covered) union_sum += c;
        const double union_coverage = union_sum / static_cast<double>(query_words.size());
        const double score = std::min(1.0, 0.75 * best_phrase + 0.25 * union_coverage);
        if (score >= 0.3) out.push_back(OfferingMatch{offering, score});
    }
    std::stable_sort(out.begin(), out.end(), [](const OfferingMatch& a, const OfferingMatch& b) {
        if (a.score != b.score) return a.score > b.score;
        return a.offering.in_stock() && !b.offering.in_stock();
    });
    if (out.size() > limit) out.resize(limit);
    return out;
}

std::vector<KnowledgeHit> rank_knowledge(const std::vector<KnowledgeEntry>& entries, std::string_view query,
                                         std::string_view language, std::size_t limit) {
    std::vector<KnowledgeHit> out;
    auto query_tokens = content_tokens(query);
    if (query_tokens.empty()) query_tokens = tokens(query);
    if (query_tokens.empty() || limit == 0) return out;
    // Unique query words.
    std::vector<std::string> unique;
    for (auto& token : query_tokens) {
        if (std::find(unique.begin(), unique.end(), token) == unique.end())
            unique.push_back(std::move(token));
    }
    const auto query_words = make_words(unique);

    for (const auto& entry : entries) {
        struct Field {
            std::vector<Word> words;
            double weight;
        };
        std::vector<Field> fields;
        const auto add = [&](std::string_view text, double weight) {
            fields.push_back(Field{make_words(tokens(text)), weight});
        };
        for (const auto& keyword : entry.keywords) add(keyword, 2.0);
        add(entry.category, 1.5);
        add(entry.question, 1.5);
        add(entry.answer, 0.75);
        for (const auto& [lang, translation] : entry.translations) {
            const double bonus = lang == language ? 1.0 : 0.9;
            add(translation.question, 1.5 * bonus);
            add(translation.answer, 0.75 * bonus);
        }
        double total = 0;
        for (const auto& q : query_words) {
            double best = 0;
            for (const auto& field : fields) {
                for (const auto& w : field.words) {
                    const double s = word_match(q, w);
                    if (s >= 0.8) best = std::max(best, s * field.weight);
                }
            }
            total += best;
        }
        const double score = total / (2.0 * static_cast<double>(query_words.size()));
        if (score > 0.2) out.push_back(KnowledgeHit{entry, std::min(1.0, score)});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const KnowledgeHit& a, const KnowledgeHit& b) { return a.score > b.score; });
    if (out.size() > limit) out.resize(limit);
    return out;
}

std::size_t length(std::string_view utf8) noexcept {
    std::size_t count = 0;
    for (const char c : utf8) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return count;
}

std::string_view trim(std::string_view text) noexcept {
    const auto space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    while (!text.empty() && space(text.front())) text.remove_prefix(1);
    while (!text.empty() && space(text.back())) text.remove_suffix(1);
    return text;
}

namespace {

bool starts_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && std::memcmp(s.data(), p.data(), p.size()) == 0;
}

struct StemHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// The stems of the words this thread compared lately: word_match runs for every pair of a
/// message word and a catalogue word, and stemming is most of its cost. Bounded, so that a stream
/// of made-up words cannot grow it without end.
class StemMemo {
public:
    /// Makes room for two look-ups whose results stay valid until the next call of `reserve`.
    void reserve() {
        if (stems_.size() >= kMaxEntries) stems_.clear();
    }
    const std::string& operator()(std::string_view word) {
        if (auto it = stems_.find(word); it != stems_.end()) return it->second;
        return stems_.emplace(std::string(word), stem(word)).first->second;
    }

private:
    static constexpr std::size_t kMaxEntries = 1 << 16;
    std::unordered_map<std::string, std::string, StemHash, std::equal_to<>> stems_;
};

/// `word` starts with `prefix` minus its last letter, then `last`: "gecelig..." on "gecelik".
bool starts_with_softened(std::string_view word, std::string_view prefix, char last) {
    return word.size() >= prefix.size() && starts_with(word, prefix.substr(0, prefix.size() - 1)) &&
           word[prefix.size() - 1] == last;
}

}  // namespace

double word_match(std::string_view q, std::string_view t) {
    if (q.empty() || t.empty()) return 0;
    if (q == t) return 1;
    // Stemming keeps a word's first letter, and every looser test below wants the same first
    // letter: words that start differently never match (most pairs, answered without stemming).
    if (q[0] != t[0]) return 0;
    thread_local StemMemo stem;
    stem.reserve();
    const std::string& sq = stem(q);
    const std::string& st = stem(t);
    if (sq == st) return 0.95;
    // The English plural of a short word the stemmer leaves alone: "teas" on "tea".
    if (t.size() == 3 && q.size() == 4 && q.back() == 's' && starts_with(q, t)) return 0.9;
    // Turkish suffixes the stemmer missed: "pijamaniz" on "pijama", "sabahligi" on "sabahlik".
    if (t.size() >= 4 && q.size() > t.size() && q.size() - t.size() <= 8 && starts_with(q, t)) return 0.9;
    if (t.size() >= 4 && t.back() == 'k' && starts_with_softened(q, t, 'g')) return 0.9;
    if (t.size() >= 4 && t.back() == 'p' && starts_with_softened(q, t, 'b')) return 0.9;
    if (t.size() >= 4 && t.back() == 't' && q.size() > t.size() && starts_with_softened(q, t, 'd'))
        return 0.9;  // "simidin" on "simit"
    if (q.size() < 4 || t.size() < 4 || q[0] != t[0]) return 0;
    // Same root, different suffixes: "tablonuz" and "tablosu".
    std::size_t common = 0;
    while (common < q.size() && common < t.size() && q[common] == t[common]) ++common;
    if (common >= 5 && common * 10 >= std::min(q.size(), t.size()) * 7) return 0.8;
    if (verbal_noun_of(t, sq) || verbal_noun_of(q, st)) return 0.8;
    // A typo is told from another word only from five letters up: "hava" (weather) is not "havlu"
    // (towel), nor "free" "fres".
    std::size_t shorter = std::min(q.size(), t.size());
    if (shorter < 5) return 0;
    double sim = std::max(similarity(q, t), similarity(sq, st));
    double needed = shorter >= 6 ? 0.78 : 0.79;
    return sim >= needed ? 0.8 * sim : 0;
}

std::optional<std::string> matching_topic(std::string_view text, const std::vector<std::string>& topics) {
    if (topics.empty()) return std::nullopt;
    const auto words = tokens(text);
    for (const auto& topic : topics) {
        const auto topic_words = tokens(topic);
        if (topic_words.empty()) continue;
        const bool all = std::all_of(topic_words.begin(), topic_words.end(), [&](const std::string& t) {
            return std::any_of(words.begin(), words.end(),
                               [&](const std::string& w) { return word_match(w, t) >= 0.85; });
        });
        if (all) return topic;
    }
    return std::nullopt;
}

}  // namespace tezgah::sdk::text
