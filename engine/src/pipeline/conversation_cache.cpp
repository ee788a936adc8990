#include "pipeline/conversation_cache.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

namespace tezgah::engine {

ConversationCache::ConversationCache(std::size_t capacity, std::size_t shards) {
    if (shards == 0) shards = 1;
    per_shard_ = std::max<std::size_t>(1, capacity / shards);
    for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

std::string ConversationCache::key(const std::string& tenant, const std::string& user,
                                   const std::string& channel) {
    std::string out;
    out.reserve(tenant.size() + user.size() + channel.size() + 2);
    out += tenant;
    out += '\x1f';
    out += user;
    out += '\x1f';
    out += channel;
    return out;
}

ConversationCache::Shard& ConversationCache::shard(const std::string& key) {
    return *shards_[std::hash<std::string>{}(key) % shards_.size()];
}

std::optional<CachedConversation> ConversationCache::get(const std::string& key) {
    auto& s = shard(key);
    std::lock_guard lock(s.mutex);
    auto it = s.index.find(key);
    if (it == s.index.end()) return std::nullopt;
    s.order.splice(s.order.begin(), s.order, it->second);
    return it->second->second;
}

void ConversationCache::put(const std::string& key, CachedConversation conversation) {
    auto& s = shard(key);
    std::lock_guard lock(s.mutex);
    if (auto it = s.index.find(key); it != s.index.end()) {
        it->second->second = std::move(conversation);
        s.order.splice(s.order.begin(), s.order, it->second);
        return;
    }
    s.order.emplace_front(key, std::move(conversation));
    s.index.emplace(key, s.order.begin());
    while (s.index.size() > per_shard_) {
        s.index.erase(s.order.back().first);
        s.order.pop_back();
    }
}

void ConversationCache::erase(const std::string& key) {
    auto& s = shard(key);
    std::lock_guard lock(s.mutex);
    if (auto it = s.index.find(key); it != s.index.end()) {
        s.order.erase(it->second);
        s.index.erase(it);
    }
}

std::size_t ConversationCache::erase_tenants(const std::set<std::string, std::less<>>& tenants) {
    if (tenants.empty()) return 0;
    std::size_t erased = 0;
    for (auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        for (auto it = s->order.begin(); it != s->order.end();) {
            // The key starts with the tenant's id up to the first separator (key()).
            const std::string_view key = it->first;
            if (!tenants.contains(key.substr(0, key.find('\x1f')))) {
                ++it;
                continue;
            }
            s->index.erase(it->first);
            it = s->order.erase(it);
            ++erased;
        }
    }
    return erased;
}

std::size_t ConversationCache::size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s->mutex);
        n += s->index.size();
    }
    return n;
}

}  // namespace tezgah::engine
