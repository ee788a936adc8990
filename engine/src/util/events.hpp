#pragma once
// What happens in the engine that operators follow live: a customer's message, a handoff, a
// ticket, an appointment (DESIGN "Operators"). Publishers (the turn pipeline, the operator API)
// call publish(); subscribers (each `GET /events` stream, the notifier) are called on the
// publisher's thread, so a handler only queues what it got and returns. Process-wide; with several
// instances on one Redis (shared/event_bridge.hpp), each instance's events are published again in
// every other one with `origin` set: a subscriber that *shows* events (a `/events` stream, the
// widget's push of an operator's reply) takes them all; one that *acts* on them (the notifier
// storing notices) skips those with an origin, since the instance they came from acts on them.

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tezgah::engine {

struct Event {
    std::string type;  ///< message | handoff | ticket | appointment | release
    std::string tenant_id;
    boost::json::object data;  ///< what a `/events` stream sends as the event's data
    /// Empty for this instance's own events; the id of the instance an event came from through
    /// Redis otherwise (SharedState::instance_id()).
    std::string origin{};
};

class EventHub {
public:
    using Handler = std::function<void(const Event&)>;

    /// Adds a handler; returns its id, for unsubscribe().
    std::uint64_t subscribe(Handler handler) {
        std::lock_guard lock(mutex_);
        handlers_.emplace(++last_id_, std::move(handler));
        return last_id_;
    }
    void unsubscribe(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        handlers_.erase(id);
    }
    /// Calls every handler with `event`; a handler that throws is skipped (and the others still run).
    void publish(const Event& event) {
        std::lock_guard lock(mutex_);
        for (auto& [id, handler] : handlers_) {
            try {
                handler(event);
            } catch (...) {  // NOLINT(bugprone-empty-catch): a subscriber's failure is its own
            }
        }
    }

private:
    std::mutex mutex_;
    std::uint64_t last_id_ = 0;
    std::unordered_map<std::uint64_t, Handler> handlers_;
};

}  // namespace tezgah::engine
