#pragma once
// The open conversation of each (tenant, customer, channel), kept in memory between turns so a
// steady-state turn reads nothing from the database: its id, session id, state, last activity and
// the last messages sent to the provider as history. Bounded: least recently used entries go.
//
// The cache is per process. The database stays the source of truth: a miss (a restart, an
// eviction, a session id the cache does not hold, an idle conversation) asks
// Database::open_conversation, which applies the same rules. Several engine instances on one
// PostgreSQL each keep their own cache, so a customer moving between instances can see a cached
// conversation the other instance has since moved on from; sharing it (Redis) is future work.

#include "store/database.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace tezgah::engine {

struct CachedConversation {
    std::string id;
    std::string session_id;
    std::string channel;  ///< the conversation's own channel (its cache key's)
    json::object state;
    std::chrono::system_clock::time_point last_activity;  ///< its last message's time
    std::deque<StoredMessage> history;                    ///< the last messages, oldest first
};

class ConversationCache {
public:
    /// At most `capacity` entries over all shards (at least one per shard).
    explicit ConversationCache(std::size_t capacity, std::size_t shards = 16);

    static std::string key(const std::string& tenant, const std::string& user, const std::string& channel);

    /// A copy of the entry, marked most recently used.
    std::optional<CachedConversation> get(const std::string& key);
    /// Inserts or replaces; evicts the least recently used entry of the shard when full.
    void put(const std::string& key, CachedConversation conversation);
    void erase(const std::string& key);
    /// Drops every entry of the tenants in `tenants` (they were unloaded: their customers' next
    /// turns read the conversation from the database again). The number dropped.
    std::size_t erase_tenants(const std::set<std::string, std::less<>>& tenants);
    std::size_t size() const;

private:
    struct Shard {
        mutable std::mutex mutex;
        std::list<std::pair<std::string, CachedConversation>> order;  ///< most recent first
        std::unordered_map<std::string, decltype(order)::iterator> index;
    };
    Shard& shard(const std::string& key);

    std::size_t per_shard_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace tezgah::engine
