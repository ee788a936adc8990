#pragma once
// One customer's turns run one at a time; different customers never wait for each other (a turn
// may wait seconds on a remote model). In this process, a flag per customer; with Redis, also a
// key per customer (`lock:<tenant>:<channel>:<user>`) that other instances respect. The key lives
// for the tenant's deadline plus the in-flight margin, so a lock whose holder died frees itself.
// A wait for either is a poll with pause_for() (util/suspend.hpp), never a blocking lock: a turn
// run as a coroutine then gives its thread to other turns while it waits.

#include "shared/shared_state.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tezgah::engine {

class ConversationLocks {
    struct Entry;

public:
    /// `shared`: where other instances' locks are (null, or its health local: this process only).
    explicit ConversationLocks(SharedState* shared = nullptr) : shared_(shared) {}
    void set_shared(SharedState* shared) { shared_ = shared; }

    /// Holds the lock of one customer while it lives.
    class Guard {
    public:
        /// `local_key`: the customer in this process; `shared_key`: the key other instances see;
        /// `ttl`: how long that key outlives a holder that died.
        Guard(ConversationLocks& locks, std::string local_key, const std::string& shared_key,
              std::chrono::milliseconds ttl);
        ~Guard();
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;

    private:
        ConversationLocks& locks_;
        std::string local_key_;
        Entry* entry_;
        std::string shared_key_;  ///< empty: no key was taken
        std::string holder_;      ///< this instance's id and this turn's nonce
    };

    /// The shared key of one customer on one channel.
    static std::string shared_key(const std::string& tenant, const std::string& channel,
                                  const std::string& user);

private:
    struct Entry {
        bool held = false;  ///< under table_mutex_
        std::size_t users = 0;
    };
    SharedState* shared_;
    std::mutex table_mutex_;
    std::unordered_map<std::string, std::unique_ptr<Entry>> table_;
};

}  // namespace tezgah::engine
