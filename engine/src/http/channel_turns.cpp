#include "http/channel_turns.hpp"

#include "util/log.hpp"
#include "util/suspend.hpp"

#include <algorithm>
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

std::optional<std::vector<sdk::InboundMessage>> ChannelTurns::gather(const sdk::InboundMessage& message,
                                                                     std::chrono::milliseconds window) {
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
    auto turn = [this, shared, burst = std::move(burst), late = std::move(late)] {
        auto result = engine_.handle_burst(burst);
        bool abandoned = false;
        {
            std::lock_guard lock(shared->mutex);
            shared->done = true;
            abandoned = shared->abandoned;
            if (!abandoned) shared->result = result;
        }
        shared->finished.set();
        if (abandoned) {
            try {
                late(result);
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
    std::lock_guard lock(shared->mutex);
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
