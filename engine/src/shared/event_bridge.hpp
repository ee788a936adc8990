#pragma once
// Events across instances (util/events.hpp): every event this instance publishes goes out on the
// shared channel `events`, and every event another instance sent is published again in this
// instance's EventHub with `origin` set to that instance's id. So `/events` on any instance shows
// every instance's events, and an operator's reply posted on one instance reaches a widget socket
// held by another. Sending happens on a thread of the bridge's: a publisher never waits on Redis.
// Events sent while Redis is away are lost to the other instances (each still has its own).

#include "shared/shared_state.hpp"
#include "util/events.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::engine {

class EventBridge {
public:
    /// The channel events travel on between instances.
    static constexpr const char* kChannel = "events";

    /// Starts bridging `hub` and `shared`; both must outlive the bridge.
    EventBridge(EventHub& hub, SharedState& shared);
    /// Sends what is still queued, then stops.
    ~EventBridge();
    EventBridge(const EventBridge&) = delete;
    EventBridge& operator=(const EventBridge&) = delete;

    /// What goes on the channel for `events`: a JSON array of {"origin", "type", "tenant", "data"}.
    static std::string encode(const std::vector<const Event*>& events, const std::string& origin);
    /// The events of a payload from another instance (an array as encode() writes, or one object);
    /// what does not parse is skipped.
    static std::vector<Event> decode(const std::string& payload);

private:
    void send_loop();

    EventHub& hub_;
    SharedState& shared_;
    std::uint64_t hub_subscription_ = 0;
    std::uint64_t shared_subscription_ = 0;
    std::mutex mutex_;
    std::condition_variable queued_;
    std::vector<Event> pending_;
    bool stopping_ = false;
    std::thread sender_;
};

}  // namespace tezgah::engine
