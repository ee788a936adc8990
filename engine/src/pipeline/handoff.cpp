// Handoff to a person: conversation states, tickets, operators' replies (pipeline/handoff.hpp).
#include "pipeline/handoff.hpp"

#include "store/sql_support.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

namespace tezgah::engine {
namespace {

namespace json = boost::json;

/// The widget: an open socket is pushed to (http/widget_socket.cpp subscribes to `message`).
constexpr std::string_view kWidget = "widget";

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

/// An operator took the conversation over: a `handoff` event without a ticket (the notifier tells
/// no one of it; `/events` shows it).
void publish_takeover(EventHub& events, const std::string& tenant_id, const std::string& conversation_id,
                      const std::string& user_id, const std::string& channel) {
    events.publish(Event{"handoff", tenant_id,
                         json::object{{"tenant", tenant_id},
                                      {"conversation_id", conversation_id},
                                      {"user_id", user_id},
                                      {"channel", channel},
                                      {"reason", "operator took over"},
                                      {"priority", ""},
                                      {"ticket_id", ""},
                                      {"text", ""},
                                      {"by", "operator"}}});
}
}  // namespace

std::optional<HandoffSettings> handoff_settings(const Tenant& tenant) {
    for (const auto& ref : tenant.manifest().tools) {
        if (ref.name != "handoff") continue;
        HandoffSettings out;
        if (const auto* v = ref.config.if_contains("release_after_minutes"); v && v->is_number()) {
            const auto minutes = v->to_number<std::int64_t>();
            if (minutes > 0) out.release_after = std::chrono::minutes(minutes);
        }
        return out;
    }
    return std::nullopt;
}

std::string priority_for_reason(std::string_view reason) {
    const std::string folded = sdk::text::fold(reason);
    for (std::string_view high : {"injur", "complain", "harm", "sikayet", "yaralan", "hurt", "danger"})
        if (contains(folded, high)) return "high";
    if (folded.starts_with("topic")) return "high";
    if (contains(folded, "low confidence") || contains(folded, "low_confidence")) return "low";
    return "medium";
}

std::string category_for_reason(std::string_view reason) {
    const std::string folded = sdk::text::fold(reason);
    if (contains(folded, "injur")) return "injury";
    if (contains(folded, "complain") || contains(folded, "harm")) return "complaint";
    if (folded.starts_with("topic")) return "topic";
    if (contains(folded, "low confidence")) return "low_confidence";
    if (folded == "media") return "media";
    if (folded == "human" || folded == "requested" || contains(folded, "person") || contains(folded, "human"))
        return "request";
    return "other";
}

std::string handoff_acknowledgement(std::string_view language, const sdk::TenantProfile& profile) {
    if (language == "en")
        return "I've passed your message to " +
               (profile.name.empty() ? std::string("our team") : profile.name) +
               "'s team; a member of staff will answer you here shortly.";
    return "Mesajınızı " + (profile.name.empty() ? std::string("ekibimize") : profile.name + " ekibine") +
           " ilettim; bir çalışma arkadaşımız en kısa sürede size buradan yazacak.";
}

Handoffs::Handoffs(Database& db, EventHub& events, Outbox& outbox, TenantLookup tenants, TenantIds tenant_ids,
                   const sdk::Clock* clock)
    : db_(db),
      events_(events),
      outbox_(outbox),
      tenants_(std::move(tenants)),
      tenant_ids_(std::move(tenant_ids)),
      clock_(clock) {}

Handoffs::~Handoffs() { stop(); }

sdk::Result<TurnGate> Handoffs::before_turn(const Tenant& tenant, const std::string& conversation_id,
                                            const std::string& channel, const std::string* status) {
    TurnGate gate;
    if (status && *status != kStatusHandedOver) return gate;
    auto found = find_conversation(db_, tenant.id(), conversation_id);
    if (!found) return found.error();
    if (!*found || (*found)->status != kStatusHandedOver) return gate;
    const auto now = clock_.load()->now();
    const auto settings = handoff_settings(tenant).value_or(HandoffSettings{});
    const auto last_word = std::max((*found)->status_at, (*found)->operator_at);
    if (last_word < now - settings.release_after) {
        // The operators have been silent past release_after_minutes: the bot answers again.
        auto released = give_back(db_, tenant.id(), conversation_id, now, now - settings.release_after);
        if (!released) return released.error();
        if (*released) publish_release(**found, "timeout");
        return gate;
    }
    gate.handed_over = true;
    const bool pushed = channel == kWidget || tenant.sender(channel) != nullptr;
    if (!pushed) {
        auto relay = take_operator_messages(db_, tenant.id(), conversation_id);
        if (!relay) return relay.error();
        gate.relay = std::move(relay).value();
    }
    return gate;
}

std::optional<Ticket> Handoffs::hand_over(const Tenant& tenant, const std::string& conversation_id,
                                          const std::string& user_id, const std::string& channel,
                                          const std::string& reason, const std::string& category,
                                          const std::string& priority, const std::string& customer_text) {
    if (!handoff_settings(tenant)) return std::nullopt;
    Ticket ticket;
    ticket.tenant_id = tenant.id();
    ticket.conversation_id = conversation_id;
    ticket.user_id = user_id;
    ticket.channel = channel;
    ticket.reason = reason.empty() ? "requested" : reason;
    ticket.category = category.empty() ? category_for_reason(ticket.reason) : category;
    ticket.priority = valid_ticket_priority(priority) ? priority : priority_for_reason(ticket.reason);
    auto made = engine::hand_over(db_, std::move(ticket), clock_.load()->now());
    if (!made) {
        log_event(
            spdlog::level::err, "handoff", "the handoff could not be stored",
            {{"tenant", tenant.id()}, {"conversation", conversation_id}, {"error", made.error().message}});
        return std::nullopt;
    }
    if (!*made) return std::nullopt;
    const Ticket& t = **made;
    log_event(spdlog::level::info, "handoff", "conversation handed over",
              {{"tenant", t.tenant_id},
               {"conversation", t.conversation_id},
               {"ticket", t.id},
               {"priority", t.priority}});
    json::object data{{"tenant", t.tenant_id}, {"conversation_id", t.conversation_id},
                      {"user_id", t.user_id},  {"channel", t.channel},
                      {"reason", t.reason},    {"priority", t.priority},
                      {"ticket_id", t.id},     {"text", customer_text},
                      {"category", t.category}};
    events_.publish(Event{"handoff", t.tenant_id, data});
    data["status"] = t.status;
    events_.publish(Event{"ticket", t.tenant_id, std::move(data)});
    return t;
}

sdk::Result<ConversationInfo> Handoffs::take_over(const std::string& tenant_id,
                                                  const std::string& conversation_id) {
    auto taken = engine::take_over(db_, tenant_id, conversation_id, clock_.load()->now());
    if (!taken) return taken.error();
    auto found = find_conversation(db_, tenant_id, conversation_id);
    if (!found) return found.error();
    if (!*found)
        return sdk::Error{sdk::errc::not_found, "conversation \"" + conversation_id + "\" not found"};
    if (*taken) {
        const auto& c = **found;
        publish_takeover(events_, tenant_id, c.id, c.user_id, c.channel);
    }
    return **found;
}

sdk::Result<OperatorDelivery> Handoffs::reply(const std::string& tenant_id,
                                              const std::string& conversation_id, const std::string& text) {
    auto found = find_conversation(db_, tenant_id, conversation_id);
    if (!found) return found.error();
    if (!*found)
        return sdk::Error{sdk::errc::not_found, "conversation \"" + conversation_id +
                                                    "\" not found for tenant \"" + tenant_id + "\""};
    OperatorDelivery out;
    out.conversation = **found;
    auto stored = store_operator_message(db_, tenant_id, conversation_id, text, "", clock_.load()->now());
    if (!stored) return stored.error();
    out.message = std::move(stored).value();
    const bool was_bot = out.conversation.status != kStatusHandedOver;
    out.conversation.status = kStatusHandedOver;
    out.conversation.updated_at = std::max(out.conversation.updated_at, out.message.at);

    const auto& c = out.conversation;
    sdk::ChannelSender* sender = nullptr;
    std::shared_ptr<Tenant> tenant;
    if (auto loaded = tenants_(tenant_id)) {
        tenant = std::move(loaded).value();
        sender = tenant->sender(c.channel);
    }
    if (c.channel == kWidget) {
        out.via = "widget";  // pushed to the visitor's open sockets (http/widget_socket.cpp)
    } else if (sender != nullptr) {
        // Through the outbox, as every outbound message: retried, resumed after a restart, and
        // outside WhatsApp's 24-hour window sent as the tenant's reopen template.
        sdk::OutboundMessage message;
        message.tenant_id = tenant_id;
        message.channel = c.channel;
        message.recipient = c.user_id;
        message.text = text;
        message.idempotency_key = "operator:" + out.message.id;
        message.metadata["from"] = "operator";
        auto queued = outbox_.enqueue(message);
        if (!queued) return queued.error();
        out.via = "outbox";
        out.outbox_id = queued->id;
    } else {
        out.via = "next_turn";
    }
    if (was_bot) publish_takeover(events_, tenant_id, c.id, c.user_id, c.channel);
    events_.publish(Event{"message", tenant_id,
                          json::object{{"tenant", tenant_id},
                                       {"conversation_id", c.id},
                                       {"session_id", c.session_id},
                                       {"user_id", c.user_id},
                                       {"channel", c.channel},
                                       {"from", "operator"},
                                       {"id", out.message.id},
                                       {"text", text},
                                       {"status", c.status},
                                       {"at", store::to_millis(out.message.at)}}});
    return out;
}

sdk::Result<ConversationInfo> Handoffs::release(const std::string& tenant_id,
                                                const std::string& conversation_id) {
    auto released = give_back(db_, tenant_id, conversation_id, clock_.load()->now());
    if (!released) return released.error();
    auto found = find_conversation(db_, tenant_id, conversation_id);
    if (!found) return found.error();
    if (!*found)
        return sdk::Error{sdk::errc::not_found, "conversation \"" + conversation_id + "\" not found"};
    if (*released) publish_release(**found, "operator");
    return **found;
}

void Handoffs::ticket_changed(const Ticket& t) {
    events_.publish(Event{"ticket", t.tenant_id,
                          json::object{{"tenant", t.tenant_id},
                                       {"conversation_id", t.conversation_id},
                                       {"user_id", t.user_id},
                                       {"channel", t.channel},
                                       {"reason", t.reason},
                                       {"priority", t.priority},
                                       {"ticket_id", t.id},
                                       {"text", ""},
                                       {"category", t.category},
                                       {"status", t.status},
                                       {"assignee", t.assignee}}});
}

void Handoffs::message_event(const std::string& tenant_id, const std::string& conversation_id,
                             const std::string& user_id, const std::string& channel, const std::string& from,
                             const std::string& text, bool handed_over) {
    events_.publish(Event{"message", tenant_id,
                          json::object{{"tenant", tenant_id},
                                       {"conversation_id", conversation_id},
                                       {"user_id", user_id},
                                       {"channel", channel},
                                       {"from", from},
                                       {"text", text},
                                       {"status", handed_over ? kStatusHandedOver : kStatusBot},
                                       {"at", store::to_millis(clock_.load()->now())}}});
}

void Handoffs::publish_release(const ConversationInfo& c, const std::string& by) {
    log_event(spdlog::level::info, "handoff", "conversation released to the bot",
              {{"tenant", c.tenant_id}, {"conversation", c.id}, {"by", by}});
    events_.publish(Event{"release", c.tenant_id,
                          json::object{{"tenant", c.tenant_id},
                                       {"conversation_id", c.id},
                                       {"user_id", c.user_id},
                                       {"channel", c.channel},
                                       {"by", by}}});
}

std::size_t Handoffs::sweep() {
    std::size_t released = 0;
    const auto now = clock_.load()->now();
    for (const auto& id : tenant_ids_()) {
        auto tenant = tenants_(id);
        if (!tenant) continue;
        const auto settings = handoff_settings(**tenant);
        if (!settings) continue;
        const auto idle_before = now - settings->release_after;
        auto idle = idle_handovers(db_, id, idle_before);
        if (!idle) continue;
        for (const auto& c : *idle) {
            auto gone = give_back(db_, id, c.id, now, idle_before);
            if (gone && *gone) {
                publish_release(c, "timeout");
                ++released;
            }
        }
    }
    return released;
}

void Handoffs::start(std::chrono::milliseconds interval) {
    sweeper_.start(interval, "handoff", "release sweep", [this] { sweep(); });
}

void Handoffs::stop() { sweeper_.stop(); }

}  // namespace tezgah::engine
