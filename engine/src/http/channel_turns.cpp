#include "http/channel_turns.hpp"

#include "util/log.hpp"
#include "util/suspend.hpp"

#include <tezgah/sdk/json_text.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

namespace tezgah::engine::http {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::optional<std::chrono::milliseconds> milliseconds_at(const json::object& config, std::string_view key) {
    const auto* v = config.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64() && v->get_int64() >= 0) return std::chrono::milliseconds(v->get_int64());
    if (v->is_uint64()) return std::chrono::milliseconds(static_cast<long long>(v->get_uint64()));
    return std::nullopt;
}

/// What a turn that runs off its request shares with the request that waits for it.
struct DetachedTurn {
    std::mutex mutex;
    Signal finished;  ///< set once `done`; a request waiting on a turn thread holds no thread
    bool done = false;
    bool abandoned = false;  ///< the request answered without it: the reply goes by the outbox
    bool answering = false;  ///< decided before the reply's write: the request waits and answers
    bool settled = false;    ///< the turn's write asked `outbound` (and queued what it gave)
    std::optional<sdk::Result<sdk::TurnReply>> result;
};

}  // namespace

ChannelPacing channel_pacing(const json::object& config) {
    ChannelPacing out;
    out.reply_within = milliseconds_at(config, "reply_within_ms");
    out.burst_window = milliseconds_at(config, "burst_window_ms").value_or(std::chrono::milliseconds(0));
    return out;
}

ChannelTurns::~ChannelTurns() { drain(); }

namespace {

std::string message_text(const sdk::InboundMessage& m) {
    return sdk::json_text(json::object{{"tenant_id", m.tenant_id},
                                       {"user_id", m.user_id},
                                       {"text", m.text},
                                       {"channel", m.channel},
                                       {"session_id", m.session_id},
                                       {"message_id", m.message_id},
                                       {"platform", m.platform},
                                       {"metadata", m.metadata}});
}

std::optional<sdk::InboundMessage> message_from(const std::string& text) {
    boost::system::error_code ec;
    auto parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) return std::nullopt;
    const auto& o = parsed.get_object();
    auto at = [&](std::string_view key) {
        const auto* v = o.if_contains(key);
        return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    sdk::InboundMessage m{at("tenant_id"),  at("user_id"),    at("text"),     at("channel"),
                          at("session_id"), at("message_id"), at("platform"), {}};
    if (const auto* metadata = o.if_contains("metadata"); metadata && metadata->is_object())
        m.metadata = metadata->get_object();
    return m;
}

long long wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::optional<std::vector<sdk::InboundMessage>> ChannelTurns::gather_shared(
    const sdk::InboundMessage& message, std::chrono::milliseconds window) {
    auto& shared = engine_.shared();
    const std::string key = "burst:" + message.tenant_id + ":" + message.channel + ":" + message.user_id;
    const std::string lead_key = key + ":lead";
    const std::string opened_key = key + ":opened";
    // Long enough for the longest burst, short enough that an abandoned one goes.
    const auto ttl = window * (kMaxBurstWindows + 1) + std::chrono::seconds(5);
    static std::atomic<unsigned long long> tickets{0};
    const std::string ticket = shared.instance_id() + ":" + std::to_string(++tickets);
    // Wall-clock times: the instances' steady clocks do not agree.
    const long long arrived = wall_ms();
    const std::size_t length = shared.push(key, message_text(message), ttl);
    long long opened = arrived;
    if (length == 1) {
        shared.put(opened_key, std::to_string(arrived), ttl);
    } else if (auto text = shared.get(opened_key)) {
        opened = std::atoll(text->c_str());
    }
    shared.put(lead_key, ticket, ttl);  // the newest request answers; the one before stops waiting
    const auto pause = std::clamp(window / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(25));
    while (true) {
        const long long until =
            std::min(arrived + window.count(), opened + kMaxBurstWindows * window.count());
        if (length < kMaxBurstMessages && wall_ms() < until) {
            pause_for(std::min(pause, std::chrono::milliseconds(std::max(1LL, until - wall_ms()))));
            if (shared.get(lead_key) != ticket) return std::nullopt;
            continue;
        }
        if (shared.get(lead_key) != ticket) return std::nullopt;
        auto items = shared.take_all(key);
        shared.erase_if_equal(lead_key, ticket);
        shared.erase(opened_key);
        std::vector<sdk::InboundMessage> burst;
        for (const auto& item : items) {
            auto m = message_from(item);
            if (!m) continue;
            // A redelivery of a message already in the burst is answered with it.
            const bool seen =
                !m->message_id.empty() &&
                std::any_of(burst.begin(), burst.end(), [&](const sdk::InboundMessage& earlier) {
                    return earlier.message_id == m->message_id;
                });
            if (!seen) burst.push_back(std::move(*m));
        }
        // Another instance's request took this message with its burst (it answers).
        if (burst.empty()) return std::nullopt;
        return burst;
    }
}

std::optional<std::vector<sdk::InboundMessage>> ChannelTurns::gather(const sdk::InboundMessage& message,
                                                                     std::chrono::milliseconds window) {
    // With Redis, a customer's messages may reach several instances: the burst is gathered there.
    if (engine_.shared().health() != SharedHealth::local) return gather_shared(message, window);
    std::string key = message.tenant_id;
    key += '\x1f';
    key += message.channel;
    key += '\x1f';
    key += message.user_id;
    std::unique_lock lock(mutex_);
    const std::uint64_t ticket = ++tickets_;
    const auto now = SteadyClock::now();
    auto& slot = open_[key];
    if (!slot) {
        slot = std::make_shared<Burst>();
        slot->opened = now;
    }
    const std::shared_ptr<Burst> burst = slot;
    const bool seen =
        !message.message_id.empty() &&
        std::any_of(burst->parts.begin(), burst->parts.end(),
                    [&](const sdk::InboundMessage& m) { return m.message_id == message.message_id; });
    if (!seen) burst->parts.push_back(message);
    burst->newest = ticket;
    burst->last_arrival = now;
    burst->changed.notify_all();  // the request that was to answer it answers no more
    while (true) {
        if (burst->newest != ticket) return std::nullopt;
        const auto until = std::min(burst->last_arrival + window, burst->opened + kMaxBurstWindows * window);
        if (SteadyClock::now() >= until || burst->parts.size() >= kMaxBurstMessages) {
            if (auto it = open_.find(key); it != open_.end() && it->second == burst) open_.erase(it);
            return std::move(burst->parts);
        }
        if (in_coroutine()) {
            // On a turn thread: the wait must not hold the thread (util/suspend.hpp).
            lock.unlock();
            pause_for(
                std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now()),
                           std::chrono::milliseconds(1), std::chrono::milliseconds(5)));
            lock.lock();
            continue;
        }
        burst->changed.wait_until(lock, until);
    }
}

std::optional<sdk::Result<sdk::TurnReply>> ChannelTurns::run_until(std::vector<sdk::InboundMessage> burst,
                                                                   SteadyClock::time_point deadline,
                                                                   Engine::ReplyOutbound outbound,
                                                                   Late late) {
    bool inline_turn = false;
    {
        std::lock_guard lock(mutex_);
        if (detached_ >= kMaxDetachedTurns)
            inline_turn = true;
        else
            ++detached_;
    }
    if (inline_turn) {
        // Too many turns already run off their requests: this one answers when it is done.
        log_event(spdlog::level::warn, "http", "too many channel turns past their deadline; answering late",
                  {{"running", std::to_string(kMaxDetachedTurns)}});
        return engine_.handle_burst(burst);
    }
    auto shared = std::make_shared<DetachedTurn>();
    // A deadline already past (`reply_within_ms` 0) sends every reply through the outbox, however
    // quickly its turn ends: the request does not wait to see.
    shared->abandoned = deadline <= SteadyClock::now();
    auto turn = [this, shared, burst = std::move(burst), outbound = std::move(outbound),
                 late = std::move(late)] {
        // Asked just before the reply is stored: who answers is settled here, once.
        const Engine::ReplyOutbound decide =
            [&](const sdk::TurnReply& reply) -> sdk::Result<std::optional<sdk::OutboundMessage>> {
            {
                std::lock_guard lock(shared->mutex);
                if (!shared->abandoned) {
                    shared->answering = true;
                    return std::optional<sdk::OutboundMessage>{};
                }
            }
            auto message = outbound(reply);
            std::lock_guard lock(shared->mutex);
            shared->settled = message.ok();
            return message;
        };
        auto result = engine_.handle_burst(burst, nullptr, &decide);
        bool abandoned = false;
        bool settled = false;
        {
            std::lock_guard lock(shared->mutex);
            shared->done = true;
            abandoned = shared->abandoned;
            settled = shared->settled && result.ok();
            if (!abandoned) shared->result = result;
        }
        shared->finished.set();
        if (abandoned) {
            try {
                late(result, settled);
            } catch (const std::exception& e) {
                log_event(spdlog::level::err, "http", "a late channel reply could not be queued",
                          {{"error", e.what()}});
            }
        }
        std::lock_guard lock(mutex_);
        --detached_;
        idle_.notify_all();
    };
    if (pool_ != nullptr)
        pool_->post_detached(std::move(turn));
    else
        dispatch(std::move(turn));

    shared->finished.wait_until(deadline);
    std::unique_lock lock(shared->mutex);
    if (!shared->done && shared->answering) {
        // Its reply is being stored for this request to carry: the write is a moment away.
        lock.unlock();
        shared->finished.wait_until(SteadyClock::now() + std::chrono::hours(1));
        lock.lock();
    }
    if (shared->done) return std::move(shared->result);
    shared->abandoned = true;
    return std::nullopt;
}

void ChannelTurns::dispatch(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    // A waiting runner for every queued task, else one more runner.
    if (static_cast<std::size_t>(idle_runners_) >= tasks_.size()) {
        task_ready_.notify_one();
        return;
    }
    runners_.emplace_back([this] { runner_loop(); });
}

void ChannelTurns::runner_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
        ++idle_runners_;
        task_ready_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
        --idle_runners_;
        if (tasks_.empty()) return;  // stopping, nothing left
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        lock.lock();
    }
}

int ChannelTurns::wait_idle(SteadyClock::time_point until) {
    std::unique_lock lock(mutex_);
    idle_.wait_until(lock, until, [&] { return detached_ == 0; });
    return detached_;
}

void ChannelTurns::drain() {
    std::vector<std::thread> runners;
    {
        std::unique_lock lock(mutex_);
        if (detached_ > 0)
            log_event(spdlog::level::info, "http", "waiting for channel turns past their deadline",
                      {{"running", std::to_string(detached_)}});
        idle_.wait(lock, [&] { return detached_ == 0; });
        stopping_ = true;
        runners.swap(runners_);
    }
    task_ready_.notify_all();
    for (auto& runner : runners) runner.join();
    std::lock_guard lock(mutex_);
    stopping_ = false;  // a server started again on the same routes gets new runners
}

}  // namespace tezgah::engine::http
