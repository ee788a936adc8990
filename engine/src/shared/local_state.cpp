// SharedState in this process's memory (shared/shared_state.hpp): one instance without Redis.

#include "shared/shared_state.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <random>
#include <unordered_map>

namespace tezgah::engine {

std::string_view to_string(SharedHealth health) {
    switch (health) {
        case SharedHealth::local:
            return "local";
        case SharedHealth::ok:
            return "ok";
        case SharedHealth::degraded:
            return "degraded";
    }
    return "local";
}

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string random_instance_id() {
    std::random_device device;
    std::uniform_int_distribution<unsigned> hex(0, 15);
    std::string id;
    for (int i = 0; i < 16; ++i) id += "0123456789abcdef"[hex(device)];
    return id;
}

class LocalState final : public SharedState {
public:
    LocalState() : instance_id_(random_instance_id()) {}

    long long add(const std::string& key, long long delta, std::chrono::milliseconds ttl) override {
        std::lock_guard lock(mutex_);
        return add_locked(key, delta, ttl, SteadyClock::now());
    }

    std::vector<long long> add_all(const std::vector<CounterAdd>& adds) override {
        std::lock_guard lock(mutex_);
        auto now = SteadyClock::now();
        std::vector<long long> values;
        values.reserve(adds.size());
        for (const auto& one : adds) values.push_back(add_locked(one.key, one.delta, one.ttl, now));
        return values;
    }

    double add_float(const std::string& key, double delta, std::chrono::milliseconds ttl) override {
        std::lock_guard lock(mutex_);
        auto& entry = live(key, ttl, SteadyClock::now());
        double value = entry.value.empty() ? 0.0 : std::stod(entry.value);
        value += delta;
        entry.value = std::to_string(value);
        return value;
    }

    std::optional<std::string> get(const std::string& key) override {
        std::lock_guard lock(mutex_);
        auto it = values_.find(key);
        if (it == values_.end()) return std::nullopt;
        if (it->second.expires <= SteadyClock::now()) {
            values_.erase(it);
            return std::nullopt;
        }
        return it->second.value;
    }

    void put(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) override {
        std::lock_guard lock(mutex_);
        sweep(SteadyClock::now());
        values_[key] = Value{value, SteadyClock::now() + ttl};
    }

    bool put_if_absent(const std::string& key, const std::string& value,
                       std::chrono::milliseconds ttl) override {
        std::lock_guard lock(mutex_);
        auto now = SteadyClock::now();
        auto it = values_.find(key);
        if (it != values_.end() && it->second.expires > now) return false;
        values_[key] = Value{value, now + ttl};
        return true;
    }

    bool erase_if_equal(const std::string& key, const std::string& value) override {
        std::lock_guard lock(mutex_);
        auto it = values_.find(key);
        if (it == values_.end() || it->second.value != value) return false;
        bool live = it->second.expires > SteadyClock::now();
        values_.erase(it);
        return live;
    }

    void erase(const std::string& key) override {
        std::lock_guard lock(mutex_);
        values_.erase(key);
        lists_.erase(key);
    }

    std::size_t push(const std::string& key, const std::string& value,
                     std::chrono::milliseconds ttl) override {
        std::lock_guard lock(mutex_);
        auto now = SteadyClock::now();
        auto& list = lists_[key];
        if (list.items.empty() || list.expires <= now) {
            list.items.clear();
            list.expires = now + ttl;
        }
        list.items.push_back(value);
        return list.items.size();
    }

    std::vector<std::string> take_all(const std::string& key) override {
        std::lock_guard lock(mutex_);
        auto it = lists_.find(key);
        if (it == lists_.end()) return {};
        std::vector<std::string> items;
        if (it->second.expires > SteadyClock::now())
            items.assign(it->second.items.begin(), it->second.items.end());
        lists_.erase(it);
        return items;
    }

    // One instance: nobody else to tell, and nobody else to hear from.
    void publish(const std::string&, const std::string&) override {}
    std::uint64_t subscribe(const std::string&, Subscriber) override { return ++last_subscription_; }
    void unsubscribe(std::uint64_t) override {}

    SharedHealth health() const override { return SharedHealth::local; }
    const std::string& instance_id() const override { return instance_id_; }
    long long round_trips() const override { return 0; }

private:
    struct Value {
        std::string value;
        SteadyClock::time_point expires;
    };
    struct List {
        std::deque<std::string> items;
        SteadyClock::time_point expires;
    };

    Value& live(const std::string& key, std::chrono::milliseconds ttl, SteadyClock::time_point now) {
        sweep(now);
        auto& entry = values_[key];
        if (entry.expires <= now) entry = Value{{}, now + ttl};
        return entry;
    }

    long long add_locked(const std::string& key, long long delta, std::chrono::milliseconds ttl,
                         SteadyClock::time_point now) {
        auto& entry = live(key, ttl, now);
        long long value = entry.value.empty() ? 0 : std::stoll(entry.value);
        value += delta;
        entry.value = std::to_string(value);
        return value;
    }

    /// Drops expired keys now and then, so counters of past minutes do not pile up.
    void sweep(SteadyClock::time_point now) {
        if (++writes_since_sweep_ < 4096) return;
        writes_since_sweep_ = 0;
        std::erase_if(values_, [now](const auto& entry) { return entry.second.expires <= now; });
        std::erase_if(lists_, [now](const auto& entry) { return entry.second.expires <= now; });
    }

    const std::string instance_id_;
    std::mutex mutex_;
    std::unordered_map<std::string, Value> values_;
    std::unordered_map<std::string, List> lists_;
    std::size_t writes_since_sweep_ = 0;
    std::atomic<std::uint64_t> last_subscription_{0};
};

}  // namespace

std::unique_ptr<SharedState> make_local_state() { return std::make_unique<LocalState>(); }

std::string shared_state_metrics(const SharedState& state) {
    if (state.health() == SharedHealth::local) return {};
    const bool up = state.health() == SharedHealth::ok;
    return "# HELP tezgah_redis_up 1 while Redis answers; 0 while this instance uses its own memory\n"
           "# TYPE tezgah_redis_up gauge\n"
           "tezgah_redis_up " +
           std::string(up ? "1" : "0") +
           "\n"
           "# HELP tezgah_redis_round_trips_total Round trips to Redis since the start\n"
           "# TYPE tezgah_redis_round_trips_total counter\n"
           "tezgah_redis_round_trips_total " +
           std::to_string(state.round_trips()) +
           "\n"
           "# HELP tezgah_redis_errors_total Redis operations that failed (each used this instance's "
           "memory)\n"
           "# TYPE tezgah_redis_errors_total counter\n"
           "tezgah_redis_errors_total " +
           std::to_string(state.errors()) + "\n";
}

}  // namespace tezgah::engine
