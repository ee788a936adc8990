// The operator API for conversations, handoff and tickets, under /v1/tenants/{tenant}
// (docs/operators.md, "Conversations and handoff"): list and read conversations, take over, reply
// on the customer's channel, release; tickets; and `GET /events`, the tenant's live events as
// server-sent events. Every route needs a key of the tenant: conversations:read to read,
// conversations:write to act.
#include "http/departures.hpp"
#include "http/exchange.hpp"
#include "http/request_parts.hpp"

#include "pipeline/engine.hpp"
#include "store/agents.hpp"
#include "store/conversation_list.hpp"
#include "store/handoffs.hpp"
#include "store/sql_support.hpp"
#include "tenants/tenant.hpp"
#include "util/local_days.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

namespace tezgah::engine::http {
namespace {

constexpr std::size_t kMaxOperatorText = 4096;      ///< characters in an operator's reply
constexpr std::size_t kMaxPage = 200;               ///< conversations or tickets per page
constexpr std::size_t kConversationMessages = 500;  ///< messages in GET /conversations/{id}
constexpr std::size_t kMaxAssigneeBytes = 200;
constexpr std::size_t kMaxSearchCharacters = 200;      ///< `q` of the conversations list
constexpr auto kKeepAlive = std::chrono::seconds(15);  ///< a comment line on a quiet event stream

/// `limit` of the query (1..kMaxPage), or `fallback`; an error message when it is not one.
std::optional<std::size_t> page_limit(const std::map<std::string, std::string>& params,
                                      std::size_t fallback) {
    auto it = params.find("limit");
    if (it == params.end()) return fallback;
    const auto& text = it->second;
    if (text.empty() || text.size() > 4 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    const auto n = static_cast<std::size_t>(std::stoul(text));
    if (n < 1 || n > kMaxPage) return std::nullopt;
    return n;
}

/// Who sent a message, as operators read it: customer, bot or operator.
std::string sender(const std::string& role) {
    return role == "user" ? "customer" : role == "operator" ? "operator" : "bot";
}

json::object message_json(const OperatorView& m) {
    return json::object{{"id", m.id},     {"from", sender(m.role)}, {"role", m.role},
                        {"text", m.text}, {"method", m.method},     {"at", store::to_millis(m.at)}};
}

json::value assignee_json(const std::optional<AssigneeRef>& assignee) {
    if (!assignee) return nullptr;
    return json::object{{"id", assignee->id}, {"name", assignee->name}};
}

/// A conversation as the list shows it: to_json(ConversationInfo) and what an inbox needs.
json::object summary_json(const ConversationSummary& c) {
    json::object out = to_json(static_cast<const ConversationInfo&>(c));
    out["last_message"] = c.last_message
                              ? json::value(json::object{{"from", sender(c.last_message->role)},
                                                         {"text", c.last_message->text},
                                                         {"at", store::to_millis(c.last_message->at)}})
                              : json::value(nullptr);
    out["message_count"] = c.message_count;
    out["ticket"] = c.ticket
                        ? json::value(json::object{{"id", c.ticket->id},
                                                   {"reason", c.ticket->reason},
                                                   {"category", c.ticket->category},
                                                   {"priority", c.ticket->priority},
                                                   {"status", c.ticket->status},
                                                   {"created_at", store::to_millis(c.ticket->created_at)}})
                        : json::value(nullptr);
    out["customer_name"] = c.customer_name;
    out["assignee"] = assignee_json(c.assignee);
    return out;
}

/// An id from the path: any bytes but '/', at most 200 of them, valid UTF-8 (checked before a query).
bool sane_path_id(std::string_view id) {
    return !id.empty() && id.size() <= 200 && sdk::text::valid_utf8(id) &&
           id.find('\0') == std::string_view::npos;
}

/// One `GET /events` stream's queue: the hub's handler (on the publisher's thread) only queues.
struct EventQueue {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Event> events;
    bool overflowed = false;
};
constexpr std::size_t kMaxQueuedEvents = 10000;  ///< a client that reads slower than this is let go

}  // namespace

bool Routes::operator_route(Exchange& ex, const std::string& tenant, std::string_view rest) {
    constexpr std::string_view kConversations = "/conversations";
    constexpr std::string_view kTickets = "/tickets";
    std::string_view tail;
    enum class Kind { list, one, takeover, messages, release, tickets, ticket, events } kind;
    std::string id;
    if (rest == kConversations) {
        kind = Kind::list;
        ex.route = "/v1/tenants/{tenant}/conversations";
    } else if (rest.starts_with(std::string(kConversations) + "/")) {
        tail = rest.substr(kConversations.size() + 1);
        const auto slash = tail.find('/');
        id = std::string(tail.substr(0, slash));
        const std::string_view action =
            slash == std::string_view::npos ? std::string_view{} : tail.substr(slash);
        if (action.empty()) {
            kind = Kind::one;
            ex.route = "/v1/tenants/{tenant}/conversations/{id}";
        } else if (action == "/takeover") {
            kind = Kind::takeover;
            ex.route = "/v1/tenants/{tenant}/conversations/{id}/takeover";
        } else if (action == "/messages") {
            kind = Kind::messages;
            ex.route = "/v1/tenants/{tenant}/conversations/{id}/messages";
        } else if (action == "/release") {
            kind = Kind::release;
            ex.route = "/v1/tenants/{tenant}/conversations/{id}/release";
        } else {
            return false;
        }
    } else if (rest == kTickets) {
        kind = Kind::tickets;
        ex.route = "/v1/tenants/{tenant}/tickets";
    } else if (rest.starts_with(std::string(kTickets) + "/") &&
               rest.find('/', kTickets.size() + 1) == std::string_view::npos) {
        kind = Kind::ticket;
        id = std::string(rest.substr(kTickets.size() + 1));
        ex.route = "/v1/tenants/{tenant}/tickets/{id}";
    } else if (rest == "/events") {
        kind = Kind::events;
        ex.route = "/v1/tenants/{tenant}/events";
    } else {
        return false;
    }
    ex.tenant = tenant;
    const bool reads =
        kind == Kind::list || kind == Kind::one || kind == Kind::tickets || kind == Kind::events;
    switch (kind) {
        case Kind::list:
        case Kind::one:
        case Kind::tickets:
        case Kind::events:
            if (!allow_methods(ex, {"GET"})) return true;
            break;
        case Kind::takeover:
        case Kind::messages:
        case Kind::release:
            if (!allow_methods(ex, {"POST"})) return true;
            break;
        case Kind::ticket:
            if (!allow_methods(ex, {"PATCH"})) return true;
            break;
    }
    if (!authorize(ex, tenant, reads ? "conversations:read" : "conversations:write")) return true;
    if (auto known = engine.tenant(tenant); !known) {
        ex.send_error(known.error());
        return true;
    }
    if ((kind != Kind::list && kind != Kind::tickets && kind != Kind::events) && !sane_path_id(id)) {
        ex.send_error(404, "not_found",
                      "no such " + std::string(kind == Kind::ticket ? "ticket" : "conversation"));
        return true;
    }
    auto params = query_params(ex.request.query);
    if (!params) {
        ex.send_error(params.error());
        return true;
    }
    switch (kind) {
        case Kind::list:
            list_conversations_route(ex, tenant, *params);
            break;
        case Kind::one:
            conversation_route(ex, tenant, id);
            break;
        case Kind::takeover:
            takeover_route(ex, tenant, id);
            break;
        case Kind::messages:
            operator_message_route(ex, tenant, id);
            break;
        case Kind::release:
            release_route(ex, tenant, id);
            break;
        case Kind::tickets:
            tickets_route(ex, tenant, *params);
            break;
        case Kind::ticket:
            ticket_patch_route(ex, tenant, id);
            break;
        case Kind::events:
            events_route(ex, tenant);
            break;
    }
    return true;
}

void Routes::list_conversations_route(Exchange& ex, const std::string& tenant,
                                      const std::map<std::string, std::string>& params) {
    ConversationFilter filter;
    if (auto it = params.find("status"); it != params.end() && !it->second.empty()) {
        if (!valid_conversation_status(it->second))
            return ex.send_error(422, "invalid_value",
                                 "status: \"" + it->second + "\" is not one of bot, handed_over, closed");
        filter.status = it->second;
    }
    if (auto it = params.find("channel"); it != params.end()) filter.channel = it->second;
    if (auto it = params.find("user_id"); it != params.end()) filter.user_id = it->second;
    if (auto it = params.find("cursor"); it != params.end()) filter.cursor = it->second;
    if (auto it = params.find("assignee"); it != params.end() && !it->second.empty()) {
        constexpr std::string_view kAgentPrincipal = "agent:";  // ex.key_id of an agent's session
        if (it->second == "none") {
            filter.assignee = std::string();
        } else if (it->second == "me") {
            if (!ex.key_id.starts_with(kAgentPrincipal))
                return ex.send_error(
                    422, "invalid_value",
                    "assignee: \"me\" is the signed-in agent; this request was made with a key");
            filter.assignee = ex.key_id.substr(kAgentPrincipal.size());
        } else if (it->second.starts_with("ag_") && sane_path_id(it->second)) {
            filter.assignee = it->second;
        } else {
            return ex.send_error(422, "invalid_value",
                                 "assignee: expected an agent's id (ag_...), me or none, got \"" +
                                     it->second.substr(0, 40) + "\"");
        }
    }
    if (auto it = params.find("q"); it != params.end()) {
        if (sdk::text::length(it->second) > kMaxSearchCharacters)
            return ex.send_error(422, "invalid_value",
                                 "q: longer than " + std::to_string(kMaxSearchCharacters) + " characters");
        filter.text = std::string(sdk::text::trim(it->second));
    }
    // from and to are the tenant's days: the last message on or after from's midnight, before the
    // midnight after to, on its wall clock.
    std::string timezone = "UTC";
    if (auto known = engine.tenant(tenant); known) timezone = (*known)->profile().timezone;
    for (const char* name : {"from", "to"}) {
        auto it = params.find(name);
        if (it == params.end() || it->second.empty()) continue;
        const auto day = parse_day(it->second);
        if (!day)
            return ex.send_error(
                422, "invalid_value",
                std::string(name) + ": expected a date YYYY-MM-DD, got \"" + it->second.substr(0, 40) + "\"");
        if (std::string_view(name) == "from")
            filter.active_from_ms = store::to_millis(day_start(*day, timezone));
        else
            filter.active_until_ms = store::to_millis(day_start(next_day(*day), timezone));
    }
    const auto limit = page_limit(params, 50);
    if (!limit)
        return ex.send_error(422, "invalid_value",
                             "limit: expected a whole number from 1 to " + std::to_string(kMaxPage));
    filter.limit = *limit;
    auto page = list_conversations(engine.database(), tenant, filter);
    if (!page) return ex.send_error(page.error());
    json::array list;
    for (const auto& c : page->conversations) list.push_back(summary_json(c));
    ex.send_json(200,
                 json::object{{"conversations", std::move(list)},
                              {"next", page->next.empty() ? json::value(nullptr) : json::value(page->next)}});
}

void Routes::conversation_route(Exchange& ex, const std::string& tenant, const std::string& id) {
    auto& db = engine.database();
    auto found = find_conversation(db, tenant, id);
    if (!found) return ex.send_error(found.error());
    if (!*found) return ex.send_error(404, "not_found", "conversation \"" + id + "\" not found");
    auto messages = conversation_messages(db, tenant, id, kConversationMessages);
    if (!messages) return ex.send_error(messages.error());
    auto tickets = list_tickets(db, tenant, "", id, kMaxPage);
    if (!tickets) return ex.send_error(tickets.error());
    auto calls = db.tool_calls(tenant, id);
    if (!calls) return ex.send_error(calls.error());
    std::map<std::string, json::array> calls_of;  // reply id -> its tool calls, in order
    for (const auto& call : *calls)
        calls_of[call.message_id].push_back(
            json::object{{"name", call.tool}, {"arguments", call.arguments}, {"ok", call.ok}});
    auto assigned = conversation_assignee(db, tenant, id);
    if (!assigned) return ex.send_error(assigned.error());
    json::object out = to_json(**found);
    out["assignee"] = *assigned
                          ? json::value(json::object{{"id", (*assigned)->id}, {"name", (*assigned)->name}})
                          : json::value(nullptr);
    json::array list;
    // A turn the bot kept silent for stores an empty reply: not a message anyone sent.
    for (const auto& m : *messages) {
        if (m.role == "assistant" && m.text.empty()) continue;
        json::object item = message_json(m);
        if (m.role == "assistant") {
            auto it = calls_of.find(m.id);
            item["tool_calls"] = it == calls_of.end() ? json::array{} : std::move(it->second);
            if (m.handoff) item["handoff"] = true;
        }
        list.push_back(std::move(item));
    }
    out["messages"] = std::move(list);
    json::array ticket_list;
    for (const auto& t : *tickets) ticket_list.push_back(to_json(t, false));
    out["tickets"] = std::move(ticket_list);
    ex.send_json(200, out);
}

void Routes::takeover_route(Exchange& ex, const std::string& tenant, const std::string& id) {
    auto taken = engine.handoffs().take_over(tenant, id);
    if (!taken) return ex.send_error(taken.error());
    ex.send_json(200, to_json(*taken));
}

void Routes::release_route(Exchange& ex, const std::string& tenant, const std::string& id) {
    auto released = engine.handoffs().release(tenant, id);
    if (!released) return ex.send_error(released.error());
    ex.send_json(200, to_json(*released));
}

void Routes::operator_message_route(Exchange& ex, const std::string& tenant, const std::string& id) {
    auto body = json_object_body(ex);
    if (!body) return;
    const auto* text = body->if_contains("text");
    if (text == nullptr) return ex.send_error(400, "missing_field", "text: required");
    if (!text->is_string()) return ex.send_error(400, "invalid_field", "text: expected a string");
    const std::string value(text->get_string());
    if (!sdk::text::valid_utf8(value)) return ex.send_error(422, "invalid_value", "text: not valid UTF-8");
    if (value.find('\0') != std::string::npos)
        return ex.send_error(422, "invalid_value", "text: contains a NUL character (\\u0000)");
    if (sdk::text::trim(value).empty()) return ex.send_error(422, "invalid_value", "text: must not be empty");
    if (sdk::text::length(value) > kMaxOperatorText)
        return ex.send_error(422, "invalid_value",
                             "text: longer than " + std::to_string(kMaxOperatorText) + " characters");
    for (const auto& [key, v] : *body)
        if (key != "text")
            return ex.send_error(400, "invalid_field", "body: unknown field \"" + std::string(key) + "\"");
    auto delivered = engine.handoffs().reply(tenant, id, value);
    if (!delivered) return ex.send_error(delivered.error());
    json::object out{{"id", delivered->message.id},
                     {"conversation_id", delivered->conversation.id},
                     {"channel", delivered->conversation.channel},
                     {"status", "queued"},
                     {"delivery", delivered->via},
                     {"conversation_status", delivered->conversation.status},
                     {"at", store::to_millis(delivered->message.at)}};
    if (!delivered->outbox_id.empty()) out["outbox_id"] = delivered->outbox_id;
    ex.send_json(202, out);
}

void Routes::tickets_route(Exchange& ex, const std::string& tenant,
                           const std::map<std::string, std::string>& params) {
    std::string status;
    if (auto it = params.find("status"); it != params.end() && !it->second.empty()) {
        if (!valid_ticket_status(it->second))
            return ex.send_error(422, "invalid_value",
                                 "status: \"" + it->second + "\" is not one of open, assigned, resolved");
        status = it->second;
    }
    const auto limit = page_limit(params, 100);
    if (!limit)
        return ex.send_error(422, "invalid_value",
                             "limit: expected a whole number from 1 to " + std::to_string(kMaxPage));
    auto tickets = list_tickets(engine.database(), tenant, status, "", *limit);
    if (!tickets) return ex.send_error(tickets.error());
    json::array list;
    for (const auto& t : *tickets) list.push_back(to_json(t));
    ex.send_json(200, json::object{{"tickets", std::move(list)}});
}

void Routes::ticket_patch_route(Exchange& ex, const std::string& tenant, const std::string& id) {
    auto body = json_object_body(ex);
    if (!body) return;
    TicketPatch patch;
    for (const auto& [key, value] : *body) {
        if (key == "status") {
            if (!value.is_string()) return ex.send_error(400, "invalid_field", "status: expected a string");
            if (!valid_ticket_status(value.get_string()))
                return ex.send_error(422, "invalid_value",
                                     "status: \"" + std::string(value.get_string()) +
                                         "\" is not one of open, assigned, resolved");
            patch.status = std::string(value.get_string());
        } else if (key == "priority") {
            if (!value.is_string()) return ex.send_error(400, "invalid_field", "priority: expected a string");
            if (!valid_ticket_priority(value.get_string()))
                return ex.send_error(422, "invalid_value",
                                     "priority: \"" + std::string(value.get_string()) +
                                         "\" is not one of low, medium, high, urgent");
            patch.priority = std::string(value.get_string());
        } else if (key == "assignee") {
            if (value.is_null()) {
                patch.assignee = std::string();
                continue;
            }
            if (!value.is_string())
                return ex.send_error(400, "invalid_field", "assignee: expected a string or null");
            const std::string_view a = value.get_string();
            if (!sdk::text::valid_utf8(a) || a.find('\0') != std::string_view::npos ||
                a.size() > kMaxAssigneeBytes)
                return ex.send_error(422, "invalid_value",
                                     "assignee: valid UTF-8 without NUL, at most " +
                                         std::to_string(kMaxAssigneeBytes) + " bytes");
            patch.assignee = std::string(a);
        } else {
            return ex.send_error(
                400, "invalid_field",
                "body: unknown field \"" + std::string(key) + "\" (status, assignee, priority)");
        }
    }
    if (!patch.status && !patch.priority && !patch.assignee)
        return ex.send_error(400, "missing_field", "body: give at least one of status, assignee, priority");
    auto updated = update_ticket(engine.database(), tenant, id, patch, std::chrono::system_clock::now());
    if (!updated) return ex.send_error(updated.error());
    if (!*updated) return ex.send_error(404, "not_found", "ticket \"" + id + "\" not found");
    engine.handoffs().ticket_changed(**updated);
    ex.send_json(200, to_json(**updated));
}

void Routes::events_route(Exchange& ex, const std::string& tenant) {
    auto queue = std::make_shared<EventQueue>();
    const auto subscription = engine.events().subscribe([queue, tenant](const Event& event) {
        if (event.tenant_id != tenant) return;  // another tenant's: never on this stream
        std::lock_guard lock(queue->mutex);
        if (queue->events.size() >= kMaxQueuedEvents) {
            queue->overflowed = true;
        } else {
            queue->events.push_back(event);
        }
        queue->wake.notify_one();
    });
    struct Unsubscribe {
        EventHub& hub;
        std::uint64_t id;
        ~Unsubscribe() { hub.unsubscribe(id); }
    } unsubscribe{engine.events(), subscription};

    std::atomic<bool> gone{false};
    auto departure = Departures::global().watch(ex.socket_fd(), &gone);
    ex.set_header("Cache-Control", "no-cache");
    ex.set_header("X-Accel-Buffering", "no");
    if (!ex.start_stream(200, "text/event-stream")) return;
    if (!ex.write_chunk(": connected to the events of tenant " + tenant + "\n\n")) return;
    log_event(spdlog::level::info, "http", "event stream opened", {{"tenant", tenant}, {"key", ex.key_id}});
    auto last_write = std::chrono::steady_clock::now();
    while (!gone && !stopping) {
        std::deque<Event> batch;
        bool overflowed = false;
        {
            std::unique_lock lock(queue->mutex);
            queue->wake.wait_for(lock, std::chrono::milliseconds(200),
                                 [&] { return !queue->events.empty() || queue->overflowed; });
            batch.swap(queue->events);
            overflowed = queue->overflowed;
        }
        if (overflowed) {
            log_event(spdlog::level::warn, "http", "event stream closed: the client reads too slowly",
                      {{"tenant", tenant}});
            break;
        }
        std::string chunk;
        for (const auto& event : batch) {
            chunk += "event: " + event.type + "\ndata: " + sdk::json_text(event.data) + "\n\n";
        }
        const auto now = std::chrono::steady_clock::now();
        if (chunk.empty() && now - last_write >= kKeepAlive) chunk = ": keep-alive\n\n";
        if (chunk.empty()) continue;
        if (!ex.write_chunk(chunk)) break;
        last_write = now;
    }
    ex.end_stream();
}

}  // namespace tezgah::engine::http
