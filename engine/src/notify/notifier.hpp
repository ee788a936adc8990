#pragma once
// The notifier: tells a tenant's people what happened — a customer asking for a person (`handoff`),
// a new `ticket`, an `appointment` — on every target the tenant's `handoff` tool config names
// (notify/targets.hpp). It follows the engine's event hub; its handler only queues the event, and
// a recorder thread stores one notice per target at once (the only work an event costs the
// turn that published it). Workers then send the stored notices as the outbox sends messages: a
// claim with a lease (one sender per notice, in any number of processes), retries with an
// exponential backoff on 429, 5xx and transport errors, failed for good on any other refusal or
// after max_attempts, resumed after a restart. A target that hangs holds one worker until its
// timeout, never a turn. See docs/operators.md, "Notifications".

#include "notify/notices.hpp"
#include "notify/targets.hpp"
#include "util/events.hpp"

#include <tezgah/sdk/host.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::engine {
class Engine;
}

namespace tezgah::engine::notify {

struct NotifierOptions {
    int workers = 4;                              ///< notices sent at once, per process
    std::chrono::milliseconds first_retry{5000};  ///< the backoff before the 2nd attempt; doubles after
    std::chrono::milliseconds max_retry{std::chrono::minutes(30)};  ///< the longest backoff
    int max_attempts = 10;  ///< then a notice still to be retried fails, keeping its last error
    /// A worker's claim on a notice; past it (its process died mid-attempt) another worker tries.
    /// Longer than any attempt takes (send.timeout, per SMTP command).
    std::chrono::milliseconds lease{std::chrono::minutes(2)};
    std::chrono::milliseconds poll{1000};  ///< how often the database is asked for due notices
    SendOptions send;                      ///< timeouts, --block-private-targets, the SMTP CA file
};

/// A notice's backoff before attempt `attempt + 1`: first_retry * 2^(attempt-1) capped at
/// max_retry, then a random point in its upper half.
std::chrono::milliseconds notice_backoff(const NotifierOptions& options, int attempt,
                                         std::mt19937_64& random);

/// Which events notify: a customer's handoff (not an operator's takeover, published as a handoff
/// with an empty "ticket_id"), a ticket event only with "action": "created" (a customer's handoff
/// already carries its new ticket; updates do not notify), an appointment whose "action" is
/// absent, "created", "booked", "cancelled" or "rescheduled".
bool notifies(const Event& event);

class Notifier {
public:
    /// A tenant's targets as configured now (secrets read from the environment by the loader).
    using TargetLookup = std::function<sdk::Result<NotifyTargets>(const std::string& tenant_id)>;

    /// `http` sends webhooks and Slack messages (the engine's client). Nothing runs before start().
    Notifier(Database& db, EventHub& events, sdk::HttpClient& http, TargetLookup targets,
             NotifierOptions options = {});
    /// Stops (stop()).
    ~Notifier();
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    /// The targets of the engine's tenants: each tenant's `handoff` tool entry.
    static TargetLookup engine_targets(Engine& engine);

    /// Follows the event hub and starts the recorder and the workers.
    void start();
    /// Leaves the hub, stores what was queued, waits for the attempts in flight and gives back
    /// the claims no attempt was made on.
    void stop();

    /// Stores one notice per target of the event's tenant now (on this thread): the notices.
    /// An event that does not notify, or a tenant without targets: none.
    sdk::Result<std::vector<Notice>> record(const Event& event);

    /// Claims what is due now and sends it on this thread: how many attempts were made.
    std::size_t run_due();

    const NotifierOptions& options() const { return options_; }

private:
    /// One notice per target of the event's tenant (not stored yet).
    sdk::Result<std::vector<Notice>> notices_for(const Event& event);
    /// Stores `notices` in one transaction and wakes the dispatcher.
    sdk::Status store(const std::vector<Notice>& notices);
    void recorder_loop();
    void dispatch_loop();
    void worker_loop();
    void attempt(const Notice& notice);
    SendOutcome send(const Notice& notice);

    Database& db_;
    EventHub& events_;
    sdk::HttpClient& http_;
    TargetLookup targets_;
    NotifierOptions options_;
    std::uint64_t subscription_ = 0;

    std::mutex mutex_;
    std::condition_variable wake_recorder_;
    std::condition_variable wake_dispatcher_;
    std::condition_variable wake_workers_;
    std::deque<Event> events_in_;  ///< queued by the hub's handler for the recorder
    std::deque<Notice> claimed_;   ///< handed from the dispatcher to the workers
    int idle_workers_ = 0;
    bool woken_ = false;
    bool stopping_ = false;
    bool running_ = false;
    std::mt19937_64 random_;
    std::vector<std::thread> threads_;
};

}  // namespace tezgah::engine::notify
