#include "pipeline/conversation_locks.hpp"

#include "util/suspend.hpp"

#include <algorithm>
#include <atomic>

namespace tezgah::engine {

namespace {

/// Polls `ready` with pause_for: 1 ms, growing to 10 ms.
template <class Ready>
void wait_until(Ready&& ready) {
    std::chrono::milliseconds pause(1);
    while (!ready()) {
        pause_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(10));
    }
}

std::string next_nonce() {
    static std::atomic<unsigned long long> turns{0};
    return std::to_string(++turns);
}

}  // namespace

std::string ConversationLocks::shared_key(const std::string& tenant, const std::string& channel,
                                          const std::string& user) {
    return "lock:" + tenant + ":" + channel + ":" + user;
}

ConversationLocks::Guard::Guard(ConversationLocks& locks, std::string local_key,
                                const std::string& shared_key, std::chrono::milliseconds ttl)
    : locks_(locks), local_key_(std::move(local_key)) {
    {
        std::lock_guard table(locks_.table_mutex_);
        auto& entry = locks_.table_[local_key_];
        if (!entry) entry = std::make_unique<Entry>();
        ++entry->users;
        entry_ = entry.get();
    }
    // A flag under the table's mutex, not a std::mutex per customer: a turn run as a coroutine
    // (util/coroutine.hpp) may end on another thread than the one it took the lock on.
    auto take = [this] {
        std::lock_guard table(locks_.table_mutex_);
        if (entry_->held) return false;
        entry_->held = true;
        return true;
    };
    if (!take()) wait_until(take);
    // The local mutex first: this instance's turns of the customer queue here, not on Redis.
    auto* shared = locks_.shared_;
    if (shared == nullptr || shared->health() == SharedHealth::local) return;
    holder_ = shared->instance_id() + ":" + next_nonce();
    shared_key_ = shared_key;
    if (!shared->put_if_absent(shared_key_, holder_, ttl))
        wait_until([&] { return shared->put_if_absent(shared_key_, holder_, ttl); });
}

ConversationLocks::Guard::~Guard() {
    if (!shared_key_.empty()) {
        try {
            locks_.shared_->erase_if_equal(shared_key_, holder_);
        } catch (...) {  // NOLINT(bugprone-empty-catch): the key expires by itself
        }
    }
    std::lock_guard table(locks_.table_mutex_);
    entry_->held = false;
    auto it = locks_.table_.find(local_key_);
    if (it != locks_.table_.end() && --it->second->users == 0) locks_.table_.erase(it);
}

}  // namespace tezgah::engine
