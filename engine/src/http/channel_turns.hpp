#pragma once
// How the turns of a channel's customers are paced, for channels whose manifest block asks for it
// (docs/channels.md, "Reply deadline" and "Bursts"). Both keys are generic: any channel plugin
// that declares them gets the behaviour.
//   `burst_window_ms`  messages of one customer (tenant, channel, user) that come within this of
//                      each other make one turn and one reply; the requests of the earlier ones
//                      are answered at once with the channel's empty answer.
//   `reply_within_ms`  (channels that send) a turn done within this of its request's arrival is
//                      answered in the HTTP response; a slower one gets the channel's empty answer
//                      at the deadline, keeps running off the request's thread, and its reply goes
//                      through the outbox when it is done.

#include "pipeline/engine.hpp"
#include "util/coroutine.hpp"

#include <tezgah/sdk/types.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace tezgah::engine::http {

struct ChannelPacing {
    std::optional<std::chrono::milliseconds> reply_within;  ///< none: the reply waits for the turn
    std::chrono::milliseconds burst_window{0};              ///< 0: every message is its own turn
    bool paced() const { return reply_within.has_value() || burst_window.count() > 0; }
};

/// The pacing keys of a channel's manifest block (non-negative integers; anything else: absent).
ChannelPacing channel_pacing(const json::object& config);

class ChannelTurns {
public:
    /// At most this many messages make one burst, and a burst gathers for at most this many
    /// windows: a customer who keeps writing is still answered.
    static constexpr std::size_t kMaxBurstMessages = 10;
    static constexpr int kMaxBurstWindows = 5;
    /// Turns running off their requests at once; beyond, a request waits for its own turn.
    static constexpr int kMaxDetachedTurns = 512;

    explicit ChannelTurns(Engine& engine) : engine_(engine) {}
    /// Where turns that run off their requests go: coroutines on the server's turn threads (set
    /// by the server before it serves). Without one, runner threads of its own.
    void run_on(CoroutinePool* pool) { pool_ = pool; }
    /// Waits for the turns still running (drain()).
    ~ChannelTurns();
    ChannelTurns(const ChannelTurns&) = delete;
    ChannelTurns& operator=(const ChannelTurns&) = delete;

    /// Adds `message` to its customer's burst and waits while the burst may grow. Returns the
    /// burst's messages, oldest first, when this request answers it; none when a later message of
    /// the same customer came within the window (that request answers; this one says nothing). A
    /// message whose id is in the burst already (a redelivery) is not added twice.
    std::optional<std::vector<sdk::InboundMessage>> gather(const sdk::InboundMessage& message,
                                                           std::chrono::milliseconds window);

    /// Runs the turn of `burst` off the request and waits for it until `deadline`. Its result when
    /// it was done in time; none when not. Whether the request answers is decided just before the
    /// turn stores its reply: a request still waiting then waits for the write and answers; past
    /// the deadline, `outbound` makes the reply's outbox message, queued in the same transaction
    /// as the reply (Engine::ReplyOutbound: a kill cannot store the one without the other). Then
    /// `late` gets the result on the turn's thread once it is done, with `settled` true when that
    /// write asked `outbound` and stored what it gave (nothing left to queue), false when it did not
    /// (a refused turn, a failure, a redelivery answered from its stored turn).
    using Late = std::function<void(const sdk::Result<sdk::TurnReply>&, bool settled)>;
    std::optional<sdk::Result<sdk::TurnReply>> run_until(std::vector<sdk::InboundMessage> burst,
                                                         std::chrono::steady_clock::time_point deadline,
                                                         Engine::ReplyOutbound outbound, Late late);

    /// Waits until no turn runs off its request (the server stops before the engine goes), and
    /// ends the threads that ran them.
    void drain();
    /// Waits until no turn runs off its request, up to `until`; the number still running then.
    int wait_idle(std::chrono::steady_clock::time_point until);

private:
    /// gather() across instances, with Redis (`burst:<tenant>:<channel>:<user>` holds the
    /// messages, `...:lead` the request that answers them, `...:opened` when the burst began).
    std::optional<std::vector<sdk::InboundMessage>> gather_shared(const sdk::InboundMessage& message,
                                                                  std::chrono::milliseconds window);
    /// Hands `task` to an idle runner thread, or starts one.
    void dispatch(std::function<void()> task);
    void runner_loop();

    struct Burst {
        std::vector<sdk::InboundMessage> parts;
        std::uint64_t newest = 0;  ///< the ticket of the request that answers it
        std::chrono::steady_clock::time_point opened;
        std::chrono::steady_clock::time_point last_arrival;
        std::condition_variable changed;
    };

    Engine& engine_;
    CoroutinePool* pool_ = nullptr;
    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<Burst>> open_;
    std::uint64_t tickets_ = 0;
    std::condition_variable idle_;
    int detached_ = 0;  ///< turns running off their requests
    // Runner threads, kept between turns (starting a thread per turn costs more than the turn's
    // hand-off): a runner waits for tasks; one more is started when none is idle.
    std::condition_variable task_ready_;
    std::deque<std::function<void()>> tasks_;
    std::vector<std::thread> runners_;
    int idle_runners_ = 0;
    bool stopping_ = false;
};

}  // namespace tezgah::engine::http
