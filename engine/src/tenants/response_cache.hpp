#pragma once
// Answers to the same question, for a while: a tenant's customers ask "kargo ücreti ne kadar?"
// many times a day, and a remote model need not be paid for each. One cache per loaded tenant, so
// an edit of its catalog or knowledge (which loads the tenant anew) starts it empty. Bounded (least
// recently used entries go); failures are remembered briefly (negative entries), so a question that
// makes the provider fail goes straight to the fallback for a while.

#include <tezgah/sdk/types.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tezgah::engine {

struct CachedAnswer {
    std::string reply;
    double confidence = 1;
    std::string language;
    bool negative = false;  ///< the provider failed on this question; `reply` is the fallback's
    std::vector<sdk::ReplyOption> options;  ///< what the answer offered
    std::vector<sdk::ReplyCard> cards;
};

/// What a cache holds and how it served, since it was made (the tenant's version loaded).
struct ResponseCacheStats {
    std::size_t entries = 0;
    std::size_t bytes = 0;  ///< questions' keys and answers' texts, roughly what the entries take
    long long hits = 0;     ///< negative hits included
    long long misses = 0;
};

/// A cached answer as the shared cache holds it (JSON), and back; none when `text` is not one.
std::string cached_answer_text(const CachedAnswer& answer);
std::optional<CachedAnswer> cached_answer_from(std::string_view text);

/// A digest of the tenant folder's files (names and contents, dot files left out): the same on
/// every instance that reads the same files, and different after any edit. It names the tenant's
/// version in the shared response cache (`cache:<tenant>:<version>:<key>`), so an edit on one
/// instance makes every instance ask anew.
std::string tenant_version_hash(const std::filesystem::path& folder);

class ResponseCache {
public:
    using Clock = std::chrono::steady_clock;
    explicit ResponseCache(std::size_t max_entries = 5000) : max_entries_(max_entries) {}

    /// The key of a question: its language and its folded words (case, accents, punctuation and
    /// spacing do not matter).
    static std::string key(std::string_view language, std::string_view question);

    std::optional<CachedAnswer> get(const std::string& key, Clock::time_point now = Clock::now());
    void put(const std::string& key, CachedAnswer answer, std::chrono::seconds ttl,
             Clock::time_point now = Clock::now());

    /// Removes every entry; how many there were.
    std::size_t clear();
    /// Removes the entries `drop(key, answer)` picks; how many.
    std::size_t erase_if(const std::function<bool(const std::string&, const CachedAnswer&)>& drop);
    ResponseCacheStats stats() const;

private:
    struct Entry {
        CachedAnswer answer;
        Clock::time_point expires;
        std::list<std::string>::iterator lru;
    };
    mutable std::mutex mutex_;
    std::size_t max_entries_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_;  // most recent first
    long long hits_ = 0;
    long long misses_ = 0;
};

}  // namespace tezgah::engine
