#include "shared/event_bridge.hpp"

#include "util/log.hpp"

namespace tezgah::engine {

namespace json = boost::json;

namespace {

/// Events sent in one message at most: under load several go out in one round trip.
constexpr std::size_t kMaxBatch = 256;
/// Events waiting to be sent at most; beyond, new ones are not sent (Redis is slow or away).
constexpr std::size_t kMaxPending = 100000;

}  // namespace

EventBridge::EventBridge(EventHub& hub, SharedState& shared) : hub_(hub), shared_(shared) {
    shared_subscription_ = shared_.subscribe(kChannel, [this](const std::string& payload) {
        for (const auto& event : decode(payload)) hub_.publish(event);
    });
    hub_subscription_ = hub_.subscribe([this](const Event& event) {
        if (!event.origin.empty()) return;  // another instance's: it was sent by that instance
        std::lock_guard lock(mutex_);
        if (pending_.size() >= kMaxPending) return;
        pending_.push_back(event);
        queued_.notify_one();
    });
    sender_ = std::thread([this] { send_loop(); });
}

EventBridge::~EventBridge() {
    hub_.unsubscribe(hub_subscription_);
    shared_.unsubscribe(shared_subscription_);
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    queued_.notify_all();
    sender_.join();
}

std::string EventBridge::encode(const std::vector<const Event*>& events, const std::string& origin) {
    json::array out;
    out.reserve(events.size());
    for (const auto* event : events)
        out.push_back(json::object{
            {"origin", origin}, {"type", event->type}, {"tenant", event->tenant_id}, {"data", event->data}});
    return json::serialize(out);
}

std::vector<Event> EventBridge::decode(const std::string& payload) {
    std::vector<Event> out;
    boost::system::error_code ec;
    auto parsed = json::parse(payload, ec);
    if (ec) return out;
    auto take = [&out](const json::value& v) {
        const auto* o = v.if_object();
        if (o == nullptr) return;
        const auto* origin = o->if_contains("origin");
        const auto* type = o->if_contains("type");
        const auto* tenant = o->if_contains("tenant");
        const auto* data = o->if_contains("data");
        if (!origin || !origin->is_string() || origin->get_string().empty() || !type || !type->is_string() ||
            !tenant || !tenant->is_string() || !data || !data->is_object())
            return;
        out.push_back(Event{std::string(type->get_string()), std::string(tenant->get_string()),
                            data->get_object(), std::string(origin->get_string())});
    };
    if (parsed.is_array()) {
        for (const auto& v : parsed.get_array()) take(v);
    } else {
        take(parsed);
    }
    return out;
}

void EventBridge::send_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
        queued_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        if (pending_.empty()) return;  // stopping, nothing left
        std::vector<Event> batch;
        if (pending_.size() <= kMaxBatch) {
            batch.swap(pending_);
        } else {
            batch.assign(std::make_move_iterator(pending_.begin()),
                         std::make_move_iterator(pending_.begin() + kMaxBatch));
            pending_.erase(pending_.begin(), pending_.begin() + kMaxBatch);
        }
        lock.unlock();
        std::vector<const Event*> views;
        views.reserve(batch.size());
        for (const auto& event : batch) views.push_back(&event);
        shared_.publish(kChannel, encode(views, shared_.instance_id()));
        lock.lock();
    }
}

}  // namespace tezgah::engine
