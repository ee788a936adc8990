#include "tenants/response_cache.hpp"

#include <tezgah/sdk/text.hpp>

namespace tezgah::engine {

std::string ResponseCache::key(std::string_view language, std::string_view question) {
    return std::string(language) + "|" + sdk::text::fold(question);
}

std::optional<CachedAnswer> ResponseCache::get(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        ++misses_;
        return std::nullopt;
    }
    if (it->second.expires <= now) {
        lru_.erase(it->second.lru);
        entries_.erase(it);
        ++misses_;
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    ++hits_;
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

std::size_t ResponseCache::clear() {
    std::lock_guard lock(mutex_);
    const auto count = entries_.size();
    entries_.clear();
    lru_.clear();
    return count;
}

std::size_t ResponseCache::erase_if(
    const std::function<bool(const std::string&, const CachedAnswer&)>& drop) {
    std::lock_guard lock(mutex_);
    std::size_t count = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (drop(it->first, it->second.answer)) {
            lru_.erase(it->second.lru);
            it = entries_.erase(it);
            ++count;
        } else {
            ++it;
        }
    }
    return count;
}

ResponseCacheStats ResponseCache::stats() const {
    std::lock_guard lock(mutex_);
    ResponseCacheStats out;
    out.entries = entries_.size();
    for (const auto& [key, entry] : entries_) {
        out.bytes += key.size() + entry.answer.reply.size() + entry.answer.language.size();
        for (const auto& o : entry.answer.options)
            out.bytes += o.id.size() + o.title.size() + o.description.size();
        for (const auto& c : entry.answer.cards)
            out.bytes += c.id.size() + c.title.size() + c.subtitle.size();
    }
    out.hits = hits_;
    out.misses = misses_;
    return out;
}

}  // namespace tezgah::engine
