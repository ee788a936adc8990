// Stores and sends notices (notify/notifier.hpp).
#include "notify/notifier.hpp"

#include "pipeline/engine.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>

#include <algorithm>
#include <cmath>

namespace tezgah::engine::notify {
namespace {

using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;

/// Events queued for the recorder at most; beyond, new ones are dropped with an error line (a
/// database that stopped answering must not grow the process without bound).
constexpr std::size_t kMaxQueuedEvents = 100000;

std::string action_of(const Event& event) {
    const auto* v = event.data.if_contains("action");
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

milliseconds notice_backoff(const NotifierOptions& options, int attempt, std::mt19937_64& random) {
    const int doublings = std::clamp(attempt - 1, 0, 40);
    const double full = std::min(static_cast<double>(options.first_retry.count()) * std::pow(2.0, doublings),
                                 static_cast<double>(options.max_retry.count()));
    std::uniform_real_distribution<double> upper_half(full / 2, full);
    return milliseconds(static_cast<long long>(upper_half(random)));
}

bool notifies(const Event& event) {
    // Another instance's event (through Redis): that instance stores its notices.
    if (!event.origin.empty()) return false;
    const std::string action = action_of(event);
    if (event.type == "handoff") {
        // An operator's own takeover is published as a handoff without a ticket: not news to them.
        const auto* ticket = event.data.if_contains("ticket_id");
        return !(ticket && ticket->is_string() && ticket->get_string().empty());
    }
    // A customer's handoff opens its ticket and is notified as the handoff (with the ticket's id);
    // a ticket event notifies only when it says it is a new ticket made on its own.
    if (event.type == "ticket") return action == "created";
    // An appointment booked, cancelled or moved; other changes (a status set to completed, notes)
    // are the business's own doing and are not told back to it.
    if (event.type == "appointment")
        return action.empty() || action == "created" || action == "booked" || action == "cancelled" ||
               action == "rescheduled";
    return false;
}

Notifier::Notifier(Database& db, EventHub& events, sdk::HttpClient& http, TargetLookup targets,
                   NotifierOptions options)
    : db_(db),
      events_(events),
      http_(http),
      targets_(std::move(targets)),
      options_(std::move(options)),
      random_(std::random_device{}()) {
    options_.workers = std::max(1, options_.workers);
    options_.max_attempts = std::max(1, options_.max_attempts);
}

Notifier::~Notifier() { stop(); }

Notifier::TargetLookup Notifier::engine_targets(Engine& engine) {
    return [&engine](const std::string& tenant_id) -> sdk::Result<NotifyTargets> {
        auto tenant = engine.tenant(tenant_id);
        if (!tenant) return tenant.error();
        return notify_targets((*tenant)->manifest());
    };
}

sdk::Result<std::vector<Notice>> Notifier::notices_for(const Event& event) {
    std::vector<Notice> out;
    if (!notifies(event) || event.tenant_id.empty()) return out;
    auto targets = targets_(event.tenant_id);
    if (!targets) return targets.error();
    if (targets->empty()) return out;
    const std::string payload = json::serialize(notice_body(event.type, event.tenant_id, event.data));
    const auto now = std::chrono::time_point_cast<milliseconds>(Clock::now());
    for (const auto& kind : targets->kinds()) {
        Notice n;
        n.id = sdk::random_hex(12);
        n.tenant_id = event.tenant_id;
        n.event = event.type;
        n.target = kind;
        n.payload = payload;
        n.created_at = n.updated_at = n.next_attempt_at = now;
        out.push_back(std::move(n));
    }
    return out;
}

sdk::Status Notifier::store(const std::vector<Notice>& notices) {
    if (notices.empty()) return {};
    if (auto stored = insert_notices(db_, notices); !stored) return stored;
    for (const auto& n : notices)
        log_event(spdlog::level::debug, "notify", "notice queued",
                  {{"tenant", n.tenant_id}, {"event", n.event}, {"target", n.target}, {"id", n.id}});
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    wake_dispatcher_.notify_one();
    return {};
}

sdk::Result<std::vector<Notice>> Notifier::record(const Event& event) {
    auto notices = notices_for(event);
    if (!notices) return notices;
    if (auto stored = store(*notices); !stored) return stored.error();
    return notices;
}

void Notifier::start() {
    {
        std::lock_guard lock(mutex_);
        if (running_) return;
        running_ = true;
        stopping_ = false;
        threads_.emplace_back([this] { recorder_loop(); });
        threads_.emplace_back([this] { dispatch_loop(); });
        for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
    }
    subscription_ = events_.subscribe([this](const Event& event) {
        if (!notifies(event)) return;  // most events (messages) cost nothing more
        std::lock_guard lock(mutex_);
        if (events_in_.size() >= kMaxQueuedEvents) {
            log_event(spdlog::level::err, "notify", "event dropped: too many waiting to be stored",
                      {{"tenant", event.tenant_id}, {"event", event.type}});
            return;
        }
        events_in_.push_back(event);
        wake_recorder_.notify_one();
    });
}

void Notifier::stop() {
    {
        std::lock_guard lock(mutex_);
        if (!running_) return;
    }
    events_.unsubscribe(subscription_);
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_recorder_.notify_all();
    wake_dispatcher_.notify_all();
    wake_workers_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
    // Claimed but not attempted: given back, so that the next start need not wait for the lease.
    for (const auto& n : claimed_) {
        if (auto released = release_notice(db_, n.id, n.claimed_until); !released)
            log_event(spdlog::level::warn, "notify", "claim not given back; it ends with its lease",
                      {{"id", n.id}, {"error", released.error().message}});
    }
    claimed_.clear();
    idle_workers_ = 0;
    std::lock_guard lock(mutex_);
    running_ = false;
}

void Notifier::recorder_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_recorder_.wait(lock, [&] { return stopping_ || !events_in_.empty(); });
        if (events_in_.empty()) return;  // stopping, and everything queued was stored
        std::deque<Event> batch;
        batch.swap(events_in_);
        lock.unlock();
        // Everything that came meanwhile is stored in one transaction.
        std::vector<Notice> notices;
        for (const auto& event : batch) {
            auto made = notices_for(event);
            if (!made) {
                log_event(
                    spdlog::level::err, "notify", "notices not stored: the tenant's targets are not known",
                    {{"tenant", event.tenant_id}, {"event", event.type}, {"error", made.error().message}});
                continue;
            }
            for (auto& n : *made) notices.push_back(std::move(n));
        }
        if (auto stored = store(notices); !stored)
            log_event(spdlog::level::err, "notify", "notices not stored",
                      {{"notices", std::to_string(notices.size())}, {"error", stored.error().message}});
        lock.lock();
    }
}

void Notifier::dispatch_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const std::size_t free = idle_workers_ > static_cast<int>(claimed_.size())
                                     ? static_cast<std::size_t>(idle_workers_) - claimed_.size()
                                     : 0;
        auto wait_until = std::chrono::steady_clock::now() + options_.poll;
        if (free > 0) {
            woken_ = false;
            lock.unlock();
            const auto now = Clock::now();
            // A read first: an idle notifier costs one SELECT per poll, no write transaction.
            auto due = next_notice_due(db_);
            std::vector<Notice> got;
            if (due && *due && **due <= now) {
                auto claimed = claim_notices(db_, now, now + options_.lease, free);
                if (claimed) got = std::move(claimed).value();
            } else if (due && *due) {
                wait_until = std::min(wait_until, std::chrono::steady_clock::now() +
                                                      std::chrono::duration_cast<milliseconds>(**due - now) +
                                                      milliseconds(1));
            }
            lock.lock();
            if (!got.empty()) {
                for (auto& n : got) claimed_.push_back(std::move(n));
                wake_workers_.notify_all();
                continue;  // perhaps more is due
            }
        }
        wake_dispatcher_.wait_until(lock, wait_until, [&] {
            const bool has_free = idle_workers_ > static_cast<int>(claimed_.size());
            return stopping_ || (woken_ && has_free);
        });
    }
}

void Notifier::worker_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
        ++idle_workers_;
        wake_dispatcher_.notify_one();
        wake_workers_.wait(lock, [&] { return stopping_ || !claimed_.empty(); });
        --idle_workers_;
        if (stopping_) return;
        Notice notice = std::move(claimed_.front());
        claimed_.pop_front();
        lock.unlock();
        attempt(notice);
        lock.lock();
        woken_ = true;  // a worker is free again: look for more at once
    }
}

std::size_t Notifier::run_due() {
    constexpr std::size_t kBatch = 64;
    const auto now = Clock::now();
    auto claimed = claim_notices(db_, now, now + options_.lease, kBatch);
    if (!claimed) return 0;
    for (const auto& n : *claimed) attempt(n);
    return claimed->size();
}

SendOutcome Notifier::send(const Notice& notice) {
    // The target as configured now: secrets live in the environment, never in the notices table.
    auto targets = targets_(notice.tenant_id);
    if (!targets) return {SendOutcome::Kind::retry, "tenant not available: " + targets.error().message};
    if (notice.target == "webhook" && targets->webhook)
        return send_webhook(http_, *targets->webhook, notice.id, notice.payload, options_.send);
    if (notice.target == "slack" && targets->slack)
        return send_slack(http_, *targets->slack, notice.payload, options_.send);
    if (notice.target == "email" && targets->email)
        return send_email(*targets->email, notice.id, notice.payload, options_.send);
    return {SendOutcome::Kind::failed,
            "tenant \"" + notice.tenant_id + "\" no longer configures a " + notice.target + " target"};
}

void Notifier::attempt(const Notice& notice) {
    SendOutcome result;
    try {
        result = send(notice);
    } catch (const std::exception& e) {
        result = {SendOutcome::Kind::retry, std::string("unexpected: ") + e.what()};
    }
    NoticeAttempt done;
    done.id = notice.id;
    done.claimed_until = notice.claimed_until;
    done.now = Clock::now();
    done.error = result.error;
    switch (result.kind) {
        case SendOutcome::Kind::sent:
            done.state = "sent";
            done.error.clear();
            break;
        case SendOutcome::Kind::failed:
            done.state = "failed";
            break;
        case SendOutcome::Kind::retry:
        default:
            if (notice.attempts >= options_.max_attempts) {
                done.state = "failed";
                done.error =
                    "gave up after " + std::to_string(notice.attempts) + " attempts: " + result.error;
            } else {
                std::lock_guard lock(mutex_);
                done.state = "queued";
                done.next_attempt_at = done.now + notice_backoff(options_, notice.attempts, random_);
            }
            break;
    }
    auto recorded = finish_notice(db_, done);
    auto log = [&](spdlog::level::level_enum level, std::string_view message) {
        log_event(level, "notify", message,
                  {{"tenant", notice.tenant_id},
                   {"event", notice.event},
                   {"target", notice.target},
                   {"id", notice.id},
                   {"attempt", std::to_string(notice.attempts)},
                   {"state", done.state},
                   {"error", done.error}});
    };
    if (!recorded)
        log(spdlog::level::err, "could not record an attempt: " + recorded.error().message);
    else if (!*recorded)
        log(spdlog::level::warn, "attempt outlived its claim; another one decides");
    else if (done.state == "failed")
        log(spdlog::level::warn, "notice not sent");
    else if (done.state == "queued")
        log(spdlog::level::info, "notice to be retried");
    else
        log(spdlog::level::debug, "notice sent");
}

}  // namespace tezgah::engine::notify
