#include "tenants/response_cache.hpp"

#include <tezgah/sdk/text.hpp>

namespace tezgah::engine {

std::string ResponseCache::key(std::string_view language, std::string_view question) {
    return std::string(language) + "|" + sdk::text::fold(question);
}

std::optional<CachedAnswer> ResponseCache::get(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires <= now) {
        lru_.erase(it->second.lru);
        entries_.erase(it);
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.answer;
}

void ResponseCache::put(const std::string& key, CachedAnswer answer, std::chrono::seconds ttl,
                        Clock::time_point now) {
    if (ttl.count() <= 0 || max_entries_ == 0) return;
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        it->second.answer = std::move(answer);
        it->second.expires = now + ttl;
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return;
    }
    while (entries_.size() >= max_entries_) {
        entries_.erase(lru_.back());
        lru_.pop_back();
    }
    lru_.push_front(key);
    entries_.emplace(key, Entry{std::move(answer), now + ttl, lru_.begin()});
}

}  // namespace tezgah::engine
