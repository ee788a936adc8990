#pragma once
// State that several instances of the engine share (DESIGN "Storage and scale", "Scale"): counters
// with a lifetime (rate limits, budget spend, tokens a day, turns in flight), values with a
// lifetime (the response cache), keys held by one holder (per-customer turn locks, burst leaders),
// lists (a burst's messages) and publish/subscribe (events fanned out to every instance, reload
// notices). Without `--redis` the engine uses LocalState: the same operations in this process's
// memory, so one instance works exactly as before. With `--redis URL` (shared/redis_state.*) every
// operation goes to Redis; when Redis cannot be reached, each operation falls back to the local
// state, health() says `degraded`, and the engine goes back to Redis when it answers again.
//
// Keys are plain strings; callers prefix them by purpose and tenant ("rl:t:<tenant>:<minute>").
// The implementation adds its own namespace ("tezgah:") in Redis.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine {

enum class SharedHealth {
    local,     ///< no Redis configured: this process's memory
    ok,        ///< Redis configured and answering
    degraded,  ///< Redis configured and not answering: local state until it does
};

std::string_view to_string(SharedHealth health);

/// One counter change of SharedState::add_all.
struct CounterAdd {
    std::string key;
    long long delta = 1;
    std::chrono::milliseconds ttl{60000};  ///< set when the counter is created
};

class SharedState {
public:
    using Subscriber = std::function<void(const std::string& payload)>;
    virtual ~SharedState() = default;

    /// Adds `delta` to the counter `key` (0 when absent; created with `ttl`); its new value.
    virtual long long add(const std::string& key, long long delta, std::chrono::milliseconds ttl) = 0;
    /// Several add()s in one round trip; their new values, in order.
    virtual std::vector<long long> add_all(const std::vector<CounterAdd>& adds) = 0;
    /// The same for a counter of money (budget spend, US dollars).
    virtual double add_float(const std::string& key, double delta, std::chrono::milliseconds ttl) = 0;

    /// The value of `key`, when it is set and has not expired.
    virtual std::optional<std::string> get(const std::string& key) = 0;
    /// Sets `key` to `value` for `ttl`.
    virtual void put(const std::string& key, const std::string& value, std::chrono::milliseconds ttl) = 0;
    /// Sets `key` to `value` for `ttl` unless it is set; whether it was set (a lock taken).
    virtual bool put_if_absent(const std::string& key, const std::string& value,
                               std::chrono::milliseconds ttl) = 0;
    /// Removes `key` if its value is `value` (a lock released by its holder only); whether it was.
    virtual bool erase_if_equal(const std::string& key, const std::string& value) = 0;
    /// Removes `key`.
    virtual void erase(const std::string& key) = 0;

    /// Appends `value` to the list `key` (created with `ttl`); the list's length after it.
    virtual std::size_t push(const std::string& key, const std::string& value,
                             std::chrono::milliseconds ttl) = 0;
    /// Every value of the list `key`, oldest first, and the list removed, in one step.
    virtual std::vector<std::string> take_all(const std::string& key) = 0;

    /// Sends `payload` to the subscribers of `channel` in every *other* instance (this instance's
    /// own subscribers are not called: it already handled what it publishes).
    virtual void publish(const std::string& channel, const std::string& payload) = 0;
    /// Calls `subscriber` (on a thread of the implementation's) with what other instances publish
    /// on `channel`; an id for unsubscribe().
    virtual std::uint64_t subscribe(const std::string& channel, Subscriber subscriber) = 0;
    virtual void unsubscribe(std::uint64_t id) = 0;

    virtual SharedHealth health() const = 0;
    /// This instance's id (random per process): what it publishes carries it.
    virtual const std::string& instance_id() const = 0;
    /// Round trips to Redis since the start (0 without Redis): for /metrics and the benchmark.
    virtual long long round_trips() const = 0;
    /// Operations Redis failed (each then used this process's memory): for /metrics.
    virtual long long errors() const { return 0; }
};

/// This process's memory: what one instance uses without Redis, and what RedisState falls back to.
std::unique_ptr<SharedState> make_local_state();

/// The `/metrics` lines of `state` (Prometheus text): tezgah_redis_up, tezgah_redis_round_trips_total
/// and tezgah_redis_errors_total. Empty without Redis (health local): nothing to watch.
std::string shared_state_metrics(const SharedState& state);

}  // namespace tezgah::engine
