#pragma once
// The durable outbox: every outbound message is stored first (Database::outbox_enqueue), then
// sent by a small pool of workers through its channel's sdk::ChannelSender — never from a
// request thread. An attempt the provider asks to repeat (429, 5xx, a transport error) is tried
// again after an exponential backoff with jitter, or after the provider's Retry-After when that
// is longer; any other refusal fails the message for good with the provider's words. The stored
// state decides what happens after a restart or a kill -9: a queued message is sent (again, when
// an attempt was cut off: the claim of a dead worker expires after the lease), an accepted one
// never. Status callbacks move a sent message on to delivered, read or failed.
// See docs/channels.md, "Outbox".

#include "store/database.hpp"
#include "tenants/tenant.hpp"

#include <tezgah/sdk/channel.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::engine {

struct OutboxOptions {
    int workers = 4;                              ///< sends in flight at once, per process
    std::chrono::milliseconds first_retry{2000};  ///< the backoff before the 2nd attempt; doubles after
    std::chrono::milliseconds max_retry{std::chrono::minutes(10)};  ///< the longest backoff
    int max_attempts = 25;  ///< then a message that is still to be retried fails, keeping its last error
    /// How long a worker's claim on a message lasts: past it (its process died mid-attempt) another
    /// worker, here or in another instance, tries again. Longer than any send takes.
    std::chrono::milliseconds lease{std::chrono::seconds(60)};
    std::chrono::milliseconds poll{1000};  ///< how often the database is asked for due messages
    /// The customer's window on a channel that keeps one (sdk::kChannelCustomerWindow): after
    /// this long without a message from them, only a template may go out.
    std::chrono::milliseconds customer_window{std::chrono::hours(24)};
    /// The clock the window is read with: the engine's (`--clock`), which stamps the customers'
    /// messages. Null: the system clock.
    const sdk::Clock* clock = nullptr;
    /// A message still queued this long after it was stored is stuck (/health/detailed).
    std::chrono::milliseconds stuck_after{std::chrono::minutes(5)};
};

/// The payload a message is stored with, and back.
std::string outbox_payload(const sdk::OutboundMessage& message);
sdk::OutboundMessage outbound_message(const OutboxRecord& record);

/// The backoff before attempt `attempt + 1` when attempt `attempt` (1, 2, ...) is to be retried:
/// first_retry * 2^(attempt-1), capped at max_retry, then a random point in its upper half
/// (jitter, so that messages failed together do not come back together); never shorter than the
/// provider's `retry_after`.
std::chrono::milliseconds outbox_backoff(const OutboxOptions& options, int attempt,
                                         std::optional<std::chrono::milliseconds> retry_after,
                                         std::mt19937_64& random);

class Outbox {
public:
    /// The tenant a message belongs to (Engine::tenant): its channels send.
    using TenantLookup = std::function<sdk::Result<std::shared_ptr<Tenant>>(const std::string&)>;

    Outbox(Database& db, TenantLookup tenants, OutboxOptions options = {});
    /// Stops the workers (stop()).
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    /// Stores `message` as queued and wakes a worker. `tenant_id`, `channel`, `recipient` and
    /// `idempotency_key` are required; `id` is chosen here. Idempotent on the key: a message
    /// stored with it already comes back as stored, and nothing is queued again.
    sdk::Result<OutboxRecord> enqueue(const sdk::OutboundMessage& message);
    /// The record enqueue() would store for `message` (the same checks), for a caller that stores
    /// it in a transaction of its own (TurnRecord::outbound); wake() once it is committed.
    static sdk::Result<OutboxRecord> prepare(const sdk::OutboundMessage& message);
    /// Tells the workers a message was queued.
    void wake();
    /// Whether a message with `idempotency_key` is stored for the tenant (in any state).
    sdk::Result<bool> holds(const std::string& tenant_id, const std::string& idempotency_key);
    /// Records a delivery report of the tenant's channel. True when it moved a message on.
    sdk::Result<bool> report(const std::string& tenant_id, const std::string& channel,
                             const sdk::DeliveryReport& report);

    /// Starts the workers, which send until stop(). Without them nothing is sent (`tezgah chat`).
    void start();
    /// Stops taking messages and waits for the attempts in flight.
    void stop();

    /// Claims what is due now (one batch) and sends it on this thread, one message after the
    /// other: how many attempts were made. For tests that step the outbox themselves.
    std::size_t run_due();

    struct Health {
        long long queued = 0;
        std::vector<OutboxRecord> stuck;  ///< queued for longer than stuck_after, oldest first (≤ 20)
    };
    sdk::Result<Health> health();
    /// Sets the outbox gauges of /metrics from the database (every tenant, every instance).
    void update_metrics();

    const OutboxOptions& options() const { return options_; }

private:
    void dispatch_loop();
    void worker_loop();
    /// One attempt at a claimed message, recorded.
    void attempt(const OutboxRecord& record);
    sdk::SendResult send(const OutboxRecord& record);
    /// Whether `record`'s customer wrote on its channel within the window; an error when the
    /// database cannot tell.
    sdk::Result<bool> window_open(const OutboxRecord& record);

    Database& db_;
    TenantLookup tenants_;
    OutboxOptions options_;

    std::mutex mutex_;
    std::condition_variable wake_dispatcher_;
    std::condition_variable wake_workers_;
    std::deque<OutboxRecord> claimed_;  ///< handed from the dispatcher to the workers
    int idle_workers_ = 0;
    bool woken_ = false;  ///< a message was queued since the dispatcher last looked
    bool stopping_ = false;
    std::mt19937_64 random_;
    std::vector<std::thread> threads_;
};

}  // namespace tezgah::engine
