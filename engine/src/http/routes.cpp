// The route handlers: chat (JSON and server-sent events), channel routes, health and metrics.
#include "http/calendar.hpp"
#include "http/channel_turns.hpp"
#include "http/console.hpp"
#include "http/departures.hpp"
#include "http/edits.hpp"
#include "http/exchange.hpp"
#include "http/notices.hpp"
#include "http/tenant_reads.hpp"
#include "http/widget_socket.hpp"

#include "ops/metrics.hpp"
#include "plugins/guarded.hpp"
#include "tenants/tenant.hpp"
#include "util/log.hpp"
#include "util/suspend.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/random.hpp>

#include <fstream>

namespace tezgah::engine::http {
namespace {

using SteadyClock = std::chrono::steady_clock;

/// Answers 405 with Allow unless the request's method is `method`.
bool require_method(Exchange& ex, std::string_view method) {
    if (ex.request.method == method) return true;
    ex.set_header("Allow", std::string(method));
    ex.send_error(405, "method_not_allowed",
                  ex.request.method + " " + ex.path + ": only " + std::string(method) + " is allowed");
    return false;
}

/// Writes server-sent events, starting the stream on the first event so errors found before any
/// text can still be ordinary JSON errors. Write failures (the client left) end the writing, not
/// the turn: it completes and is stored.
class EventStream : public TurnStream {
public:
    EventStream(Exchange& ex, std::atomic<bool>& gone) : ex_(ex), gone_(gone) {}

    /// The text sent so far is withdrawn: a provider failed part-way and the next one answers.
    void on_reset() override { event("reset", "{}"); }

    void on_text(std::string_view delta) override {
        if (delta.empty()) return;
        event("delta", sdk::json_text(json::object{{"text", delta}}));
    }

    void event(std::string_view name, const std::string& data) {
        if (broken_) return;
        if (!started_) {
            started_ = true;
            ex_.set_header("Cache-Control", "no-cache");
            broken_ = !ex_.start_stream(200, "text/event-stream");
        }
        std::string frame;
        frame.reserve(data.size() + name.size() + 16);
        frame += "event: ";
        frame += name;
        frame += "\ndata: ";
        frame += data;  // serialized JSON holds no raw newline
        frame += "\n\n";
        if (!broken_) broken_ = !ex_.write_chunk(frame);
        if (broken_) gone_ = true;
    }

    /// The last chunk: the stream is complete.
    void finish() {
        if (started_) ex_.end_stream();
    }

    bool started() const { return started_; }
    bool broken() const { return broken_; }

private:
    Exchange& ex_;
    bool started_ = false;
    bool broken_ = false;
    std::atomic<bool>& gone_;  ///< set when a write fails: the client has gone
};

/// A WebSocket handshake: `Upgrade: websocket` (any letter case).
bool websocket_upgrade(const Request& request) {
    std::string upgrade(request.header("upgrade"));
    for (auto& c : upgrade) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return upgrade == "websocket";
}

bool wants_event_stream(const Request& request) {
    return request.header("accept").find("text/event-stream") != std::string_view::npos;
}

/// The request as a channel plugin sees it; header names lower case.
sdk::HttpRequest channel_request(Exchange& ex, std::string path) {
    sdk::HttpRequest out;
    out.method = ex.request.method;
    out.path = std::move(path);
    out.query = ex.request.query;
    out.headers = ex.request.headers;
    out.body = ex.request.body;
    out.remote_address = ex.request.client_address;
    return out;
}

/// The channel's reply, sent as it is (status, headers, content type and body).
void send_channel_response(Exchange& ex, const sdk::HttpResponse& reply) {
    for (const auto& [name, value] : reply.headers) ex.set_header(name, value);
    ex.send(reply.status, reply.content_type, reply.body);
}

/// The outbox message of the reply a channel that sends wants sent, or none.
sdk::Result<std::optional<sdk::OutboundMessage>> outbound_reply(sdk::ChannelSender& sender,
                                                                const std::string& plugin,
                                                                const sdk::InboundMessage& message,
                                                                const sdk::TurnReply& reply) {
    auto outbound =
        guarded("channel " + plugin + " reply_message", [&] { return sender.reply_message(message, reply); });
    if (!outbound) return outbound.error();
    if (!*outbound) return std::optional<sdk::OutboundMessage>{};
    sdk::OutboundMessage out = std::move(**outbound);
    out.tenant_id = message.tenant_id;
    out.channel = plugin;
    if (out.recipient.empty()) out.recipient = message.user_id;
    if (out.idempotency_key.empty()) {
        // A redelivered message (same id) is answered from the stored turn: the same key, queued once.
        out.idempotency_key = message.message_id.empty()
                                  ? "reply:" + sdk::random_hex(16)
                                  : "reply:" + reply.conversation_id + ":" + message.message_id;
    }
    return std::optional<sdk::OutboundMessage>(std::move(out));
}

/// Whether the reply to `message` went through the outbox already: a redelivery of a message whose
/// turn missed the reply deadline is answered from the stored turn, and must not be answered again
/// in the HTTP response (the customer would get it twice).
bool sent_by_outbox(Engine& engine, sdk::ChannelSender& sender, const std::string& plugin,
                    const sdk::InboundMessage& message, const sdk::TurnReply& reply) {
    if (message.message_id.empty()) return false;
    auto out = outbound_reply(sender, plugin, message, reply);
    if (!out || !*out) return false;
    auto held = engine.outbox().holds((*out)->tenant_id, (*out)->idempotency_key);
    return held && *held;
}

/// The reply a channel that sends wants sent through the outbox, stored there before the HTTP
/// answer goes out: once the provider hears 2xx it will not deliver the message again.
sdk::Status queue_reply(Engine& engine, sdk::ChannelSender& sender, const std::string& plugin,
                        const sdk::InboundMessage& message, const sdk::TurnReply& reply) {
    auto out = outbound_reply(sender, plugin, message, reply);
    if (!out) return out.error();
    if (!*out) return {};
    auto stored = engine.outbox().enqueue(**out);
    if (!stored) return stored.error();
    return {};
}

/// The channel's answer that says nothing: its render() of an empty reply (Twilio's `<Response/>`).
/// For a request whose message a later one of the burst answers, or whose turn missed the deadline.
/// Waits until a channel turn past its reply deadline has stored the customer's message (`last`,
/// the burst's last part, is stored after the others) or has ended, up to `limit`: the channel's
/// empty answer is its acknowledgement, and a channel does not deliver an acknowledged message
/// again, so a process killed after it must find the message in the database.
void wait_until_stored(Engine& engine, const sdk::InboundMessage& last, const std::atomic<bool>& ended,
                       std::chrono::milliseconds limit) {
    const auto until = SteadyClock::now() + limit;
    auto pause = std::chrono::milliseconds(1);
    while (!ended.load() && SteadyClock::now() < until) {
        if (!last.message_id.empty() && engine.database().stored_reply(last.tenant_id, last.message_id))
            return;
        pause_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
}

void send_empty_answer(Exchange& ex, sdk::Channel& channel, const std::string& plugin,
                       const sdk::InboundMessage& message) {
    auto rendered = guarded("channel " + plugin + " render", [&]() -> sdk::Result<sdk::HttpResponse> {
        return channel.render(message, sdk::TurnReply{});
    });
    if (!rendered) return ex.send_error(rendered.error());
    send_channel_response(ex, *rendered);
}

/// A turn the tenant's plan refused (ops/limits.hpp) is stored, with the customer's polite note the
/// first time in the window and with nothing after (Engine::answer_refused); any other result as it
/// is. A customer on a channel cannot be told "429, retry after": they are told in words, once.
sdk::Result<sdk::TurnReply> unless_refused(Engine& engine, const std::vector<sdk::InboundMessage>& burst,
                                           sdk::Result<sdk::TurnReply> reply) {
    if (reply || reply.error().code != sdk::errc::rate_limited) return reply;
    return engine.answer_refused(burst, reply.error());
}

/// A refused turn after its note: the channel answers nothing and sends nothing.
bool silent(const sdk::TurnReply& reply) { return reply.method == "rate_limited" && reply.reply.empty(); }

/// Runs a turn for a message a channel parsed, then lets the channel render it. `channel` is the
/// tenant's own instance of the channel (checks per-tenant settings such as a secret). A channel
/// that sends reads its delivery reports first, and has its reply queued in the outbox. The
/// channel's manifest block may pace its turns (http/channel_turns.hpp): bursts, and a deadline
/// for the answer in the HTTP response.
void channel_turn(Exchange& ex, Engine& engine, ChannelTurns& turns, const std::shared_ptr<Tenant>& tenant,
                  sdk::Channel& channel, const std::string& plugin, const sdk::HttpRequest& request,
                  const std::string& tenant_id) {
    const auto arrived = SteadyClock::now();
    sdk::ChannelSender* sender = tenant->sender(plugin);
    if (sender != nullptr) {
        auto reports = guarded("channel " + plugin + " delivery_reports",
                               [&] { return sender->delivery_reports(request); });
        if (!reports) return ex.send_error(reports.error());
        for (const auto& report : reports->reports) {
            auto moved = engine.outbox().report(tenant_id, plugin, report);
            // The provider calls again when it hears an error: the report is kept for that.
            if (!moved) return ex.send_error(moved.error());
        }
        if (reports->answer) return send_channel_response(ex, *reports->answer);
    }
    // One message per request, or several from a channel that parses batches (kChannelBatches).
    std::vector<sdk::InboundMessage> messages;
    if (sdk::ChannelBatch* batch = tenant->batcher(plugin)) {
        auto parsed =
            guarded("channel " + plugin + " parse_batch", [&] { return batch->parse_batch(request); });
        if (!parsed) return ex.send_error(parsed.error());
        messages = std::move(parsed).value();
    } else {
        auto parsed = guarded("channel " + plugin + " parse", [&] { return channel.parse(request); });
        if (!parsed) return ex.send_error(parsed.error());
        messages.push_back(std::move(parsed).value());
    }
    if (messages.empty()) return ex.send_error(400, "bad_request", "the request carries no message");
    for (auto& m : messages) {
        m.tenant_id = tenant_id;
        if (m.channel.empty()) m.channel = plugin;
        if (m.message_id.empty() && messages.size() == 1)
            m.message_id = std::string(request.header("idempotency-key"));
    }
    if (messages.size() > 1) {
        // Several customers in one request: a turn for each, in order, without pacing; the request
        // fails with the first turn that fails, and the provider's redelivery is answered from the
        // turns already stored.
        sdk::TurnReply last_reply;
        for (const auto& m : messages) {
            auto reply = unless_refused(engine, {m}, engine.handle(m));
            if (!reply) return ex.send_error(reply.error());
            if (sender != nullptr && !silent(*reply)) {
                if (auto queued = queue_reply(engine, *sender, plugin, m, *reply); !queued)
                    return ex.send_error(queued.error());
            }
            last_reply = std::move(reply).value();
        }
        auto rendered = guarded("channel " + plugin + " render", [&]() -> sdk::Result<sdk::HttpResponse> {
            return channel.render(messages.back(), last_reply);
        });
        if (!rendered) return ex.send_error(rendered.error());
        return send_channel_response(ex, *rendered);
    }
    std::optional<sdk::InboundMessage> message = std::move(messages.front());

    ChannelPacing pacing;
    if (auto it = tenant->manifest().channels.find(plugin); it != tenant->manifest().channels.end())
        pacing = channel_pacing(it->second);
    if (!pacing.paced()) {
        auto reply = unless_refused(engine, {*message}, engine.handle(*message));
        if (!reply) return ex.send_error(reply.error());
        if (silent(*reply)) return send_empty_answer(ex, channel, plugin, *message);
        if (sender != nullptr) {
            if (auto queued = queue_reply(engine, *sender, plugin, *message, *reply); !queued)
                return ex.send_error(queued.error());
        }
        auto rendered = guarded("channel " + plugin + " render", [&]() -> sdk::Result<sdk::HttpResponse> {
            return channel.render(*message, *reply);
        });
        if (!rendered) return ex.send_error(rendered.error());
        return send_channel_response(ex, *rendered);
    }

    // Refused before it joins a burst: a message that cannot be answered never takes others with it.
    if (auto checked = engine.check_message(*message); !checked) return ex.send_error(checked.error());
    std::vector<sdk::InboundMessage> burst;
    if (pacing.burst_window.count() > 0) {
        auto gathered = turns.gather(*message, pacing.burst_window);
        if (!gathered) return send_empty_answer(ex, channel, plugin, *message);
        burst = std::move(gathered).value();
    } else {
        burst.push_back(*message);
    }
    const sdk::InboundMessage last = burst.back();
    const std::vector<sdk::InboundMessage> parts = burst;
    std::optional<sdk::Result<sdk::TurnReply>> reply;
    if (pacing.reply_within && sender != nullptr) {
        // The reply of a turn that misses the deadline goes through the outbox when it is done; the
        // tenant's version is kept alive for it.
        auto ended = std::make_shared<std::atomic<bool>>(false);
        // Queued with the reply's own write; a message the channel cannot make is logged, and the
        // reply is stored all the same (a person sees it in the conversation).
        Engine::ReplyOutbound outbound =
            [tenant, plugin,
             last](const sdk::TurnReply& turn) -> sdk::Result<std::optional<sdk::OutboundMessage>> {
            if (silent(turn)) return std::optional<sdk::OutboundMessage>{};
            sdk::ChannelSender* late_sender = tenant->sender(plugin);
            if (late_sender == nullptr) return std::optional<sdk::OutboundMessage>{};
            auto out = outbound_reply(*late_sender, plugin, last, turn);
            if (!out) {
                log_event(spdlog::level::err, "http", "a late reply could not be queued",
                          {{"tenant", last.tenant_id}, {"channel", plugin}, {"error", out.error().message}});
                return std::optional<sdk::OutboundMessage>{};
            }
            return out;
        };
        reply = turns.run_until(
            std::move(burst), arrived + *pacing.reply_within, std::move(outbound),
            [&engine, tenant, plugin, last, parts, ended](const sdk::Result<sdk::TurnReply>& turn,
                                                          bool settled) {
                ended->store(true);
                if (settled) return;
                const auto late = unless_refused(engine, parts, turn);
                if (late && silent(*late)) return;
                if (!late) {
                    log_event(spdlog::level::warn, "http", "a late channel turn failed",
                              {{"tenant", last.tenant_id},
                               {"channel", plugin},
                               {"error", tenant->redact(late.error().message)}});
                    return;
                }
                sdk::ChannelSender* late_sender = tenant->sender(plugin);
                if (late_sender == nullptr) return;
                if (auto queued = queue_reply(engine, *late_sender, plugin, last, *late); !queued)
                    log_event(
                        spdlog::level::err, "http", "a late reply could not be queued",
                        {{"tenant", last.tenant_id}, {"channel", plugin}, {"error", queued.error().message}});
            });
        if (!reply) {
            wait_until_stored(engine, last, *ended, std::chrono::seconds(10));
            return send_empty_answer(ex, channel, plugin, last);
        }
        *reply = unless_refused(engine, parts, std::move(*reply));
        if (!*reply) return ex.send_error(reply->error());
        if (silent(**reply) || sent_by_outbox(engine, *sender, plugin, last, **reply))
            return send_empty_answer(ex, channel, plugin, last);
    } else {
        reply = unless_refused(engine, parts, engine.handle_burst(burst));
        if (!*reply) return ex.send_error(reply->error());
        if (silent(**reply)) return send_empty_answer(ex, channel, plugin, last);
        if (sender != nullptr) {
            if (auto queued = queue_reply(engine, *sender, plugin, last, **reply); !queued)
                return ex.send_error(queued.error());
        }
    }
    auto rendered = guarded("channel " + plugin + " render", [&]() -> sdk::Result<sdk::HttpResponse> {
        return channel.render(last, **reply);
    });
    if (!rendered) return ex.send_error(rendered.error());
    send_channel_response(ex, *rendered);
}

long long resident_memory_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
    }
    return 0;
}

struct DatabaseCheck {
    bool ok = false;
    double latency_ms = 0;
    std::string error;
};

DatabaseCheck check_database(Engine& engine) {
    DatabaseCheck out;
    const auto begun = SteadyClock::now();
    sdk::Status status = sdk::Status::success();
    try {
        status = engine.database().ping();
    } catch (const std::exception& e) {
        status = sdk::Error{sdk::errc::internal, e.what()};
    }
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - begun).count();
    Metrics::global().db_operation("ping", seconds);
    out.ok = status.ok();
    out.latency_ms = seconds * 1000;
    if (!status.ok()) out.error = status.error().message;
    return out;
}

std::string overall_status(const DatabaseCheck& db, const std::vector<TenantStatus>& tenants,
                           const Engine& engine) {
    if (!db.ok) return "down";
    if (!engine.plugins().refused().empty()) return "degraded";
    for (const auto& t : tenants) {
        if (t.state == "failed" || !t.reload_error.empty()) return "degraded";
    }
    // Redis away: turns answer, from this instance's memory (shared/redis_state.hpp).
    if (engine.shared().health() == SharedHealth::degraded) return "degraded";
    return "ok";
}

}  // namespace

bool Routes::operations_route(std::string_view path) {
    return path == "/health" || path == "/health/ready" || path == "/health/detailed" || path == "/metrics";
}

bool Routes::turn_route(std::string_view path) const {
    constexpr std::string_view kTenants = "/v1/tenants/";
    if (path.starts_with(kTenants)) {
        auto rest = path.substr(kTenants.size());
        const auto slash = rest.find('/');
        if (slash == std::string_view::npos) return false;
        rest.remove_prefix(slash);
        return rest == "/chat" || rest.starts_with("/channels/");
    }
    return channels.find(std::string(path)) != nullptr;
}

void Routes::dispatch(Exchange& ex) {
    const std::string& path = ex.path;
    if (path == "/health") {
        ex.route = "/health";
        if (require_method(ex, "GET")) health(ex);
        return;
    }
    if (path == "/health/ready") {
        ex.route = "/health/ready";
        if (require_method(ex, "GET")) health_ready(ex);
        return;
    }
    if (path == "/health/detailed") {
        ex.route = "/health/detailed";
        if (require_method(ex, "GET") && keyed_off_loopback(ex, "", "ops:read")) health_detailed(ex);
        return;
    }
    if (path == "/metrics") {
        ex.route = "/metrics";
        if (require_method(ex, "GET") && keyed_off_loopback(ex, "", "ops:read")) metrics(ex);
        return;
    }
    if (path == "/v1/audit") {
        ex.route = "/v1/audit";
        if (require_method(ex, "GET") && authorize(ex, "", "ops:read")) audit_entries(ex, "");
        return;
    }
    if (path == "/console" || path.starts_with("/console/")) {
        ex.route = "/console/";
        if (console != nullptr) return console->serve(ex);
        return ex.send_error(404, "not_found", "this server does not serve the console");
    }
    if (path == "/v1/session") return session_route(ex);
    if (path == "/openapi.json") {
        ex.route = "/openapi.json";
        if (require_method(ex, "GET")) openapi(ex);
        return;
    }
    if (tenant_reads(*this, ex)) return;
    constexpr std::string_view kTenants = "/v1/tenants/";
    if (path.starts_with(kTenants)) {
        const auto tenant_end = path.find('/', kTenants.size());
        if (tenant_end != std::string::npos && tenant_end > kTenants.size()) {
            std::string tenant = path.substr(kTenants.size(), tenant_end - kTenants.size());
            std::string_view rest = std::string_view(path).substr(tenant_end);
            if (rest == "/chat") {
                ex.route = "/v1/tenants/{tenant}/chat";
                ex.tenant = tenant;
                if (require_method(ex, "POST") && keyed_off_loopback(ex, tenant, "chat:write"))
                    chat(ex, tenant);
                return;
            }
            if (rest == "/audit") {
                ex.route = "/v1/tenants/{tenant}/audit";
                ex.tenant = tenant;
                if (require_method(ex, "GET") && authorize(ex, tenant, "tenant:admin"))
                    audit_entries(ex, tenant);
                return;
            }
            if (agents_route(ex, tenant, rest)) return;
            if (operator_route(ex, tenant, rest)) return;
            if (appointments_route(ex, tenant, rest)) return;
            if (rest == "/notices") {
                ex.route = "/v1/tenants/{tenant}/notices";
                ex.tenant = tenant;
                if (require_method(ex, "GET")) notices_route(*this, ex, tenant);
                return;
            }
            if (operator_edits(*this, ex, tenant, rest)) return;
            if (calendar_route(*this, ex, tenant, rest)) return;
            if (rest == "/analytics") {
                ex.route = "/v1/tenants/{tenant}/analytics";
                ex.tenant = tenant;
                if (require_method(ex, "GET")) analytics(ex, tenant);
                return;
            }
            constexpr std::string_view kChannels = "/channels/";
            if (rest.starts_with(kChannels)) {
                rest.remove_prefix(kChannels.size());
                const auto plugin_end = rest.find('/');
                std::string plugin(rest.substr(0, plugin_end));
                std::string subpath(plugin_end == std::string_view::npos ? std::string_view("/")
                                                                         : rest.substr(plugin_end));
                if (!plugin.empty() && engine.plugins().find(plugin, sdk::PluginKind::channel) != nullptr) {
                    ex.route = "/v1/tenants/{tenant}/channels/" + plugin;
                    ex.tenant = tenant;
                    // The widget's WebSocket is the engine's: the socket outlives the request.
                    if (plugin == kWidgetChannel && subpath == "/ws" && widgets != nullptr &&
                        websocket_upgrade(ex.request)) {
                        ex.route += "/ws";
                        if (require_method(ex, "GET")) widgets->handshake(ex, tenant);
                        return;
                    }
                    tenant_channel(ex, tenant, plugin, subpath);
                    return;
                }
            }
        }
    } else if (orchestrator_admin(*this, ex)) {
        return;
    } else if (const auto* mounts = channels.find(path)) {
        ex.route = path;
        for (const auto& mount : *mounts) {
            if (mount.method == ex.request.method) return process_channel(ex, mount);
        }
        std::string allow;
        for (const auto& mount : *mounts) allow += (allow.empty() ? "" : ", ") + mount.method;
        ex.set_header("Allow", allow);
        return ex.send_error(405, "method_not_allowed",
                             ex.request.method + " " + path + ": allowed: " + allow);
    }
    ex.send_error(404, "not_found", "no route for " + ex.request.method + " " + path);
}

void Routes::chat(Exchange& ex, const std::string& tenant) {
    const auto content_type = ex.request.header("content-type");
    if (!sdk::is_json_content_type(content_type)) {
        return ex.send_error(
            415, "unsupported_media_type",
            "Content-Type: expected application/json, got '" + std::string(content_type) + "'");
    }
    auto parsed = parse_chat_body(ex.request.body);
    if (!parsed) return ex.send_error(parsed.error());

    sdk::InboundMessage message;
    message.tenant_id = tenant;
    message.user_id = std::move(parsed->user_id);
    message.text = std::move(parsed->text);
    message.channel = "api";
    message.platform = "api";
    message.session_id = std::move(parsed->session_id);
    message.message_id = std::move(parsed->message_id);
    // The header stands for message_id, and is checked as it would be (the engine refuses NUL,
    // invalid UTF-8 and more than 256 bytes).
    if (message.message_id.empty()) message.message_id = std::string(ex.request.header("idempotency-key"));

    // A customer who hangs up while the model is still thinking cancels the call in flight.
    std::atomic<bool> gone{false};
    auto departure = Departures::global().watch(ex.socket_fd(), &gone);
    if (!wants_event_stream(ex.request)) {
        auto reply = engine.handle(message, nullptr, &gone);
        if (!reply) return ex.send_error(reply.error());
        return ex.send_json(200, sdk::to_json(*reply));
    }

    EventStream stream(ex, gone);
    auto reply = engine.handle(message, &stream, &gone);
    if (!reply) {
        if (!stream.started()) return ex.send_error(reply.error());
        // Text was already streamed; the failure comes as the last event.
        const auto& error = reply.error();
        stream.event(
            "error",
            sdk::json_text(json::object{
                {"error", json::object{{"code", error.code == sdk::errc::internal ? "internal" : error.code},
                                       {"message", error.message},
                                       {"request_id", ex.request_id}}}}));
    } else {
        for (const auto& call : reply->tool_calls) {
            stream.event("tool_call",
                         sdk::json_text(json::object{
                             {"name", call.name}, {"arguments", call.arguments}, {"ok", call.ok}}));
        }
        stream.event("done", sdk::json_text(sdk::to_json(*reply)));
    }
    stream.finish();
    if (stream.broken()) {
        log_event(spdlog::level::info, "http", "client left during the stream; the turn was completed",
                  {{"request_id", ex.request_id}, {"tenant", tenant}});
    }
}

void Routes::process_channel(Exchange& ex, const ProcessChannels::Mount& mount) {
    // The earlier orchestrator's /webhook carries a customer's turn as the chat API does: keyed
    // (chat:write, for the isletme_id's tenant) from anything but loopback.
    std::optional<ApiKey> key;
    if (mount.plugin == "webhook" &&
        (!is_loopback_address(ex.request.client_address) || !ex.request.header("authorization").empty())) {
        key = authenticate(ex);
        if (!key) return;
    }
    const auto request = channel_request(ex, ex.path);
    // A request the channel answers itself, for no tenant (the widget's script, say). Errors are
    // the tenant's instance's to report: this one has no tenant's settings to verify anything with.
    if (mount.sender != nullptr) {
        auto reports = guarded("channel " + mount.plugin + " delivery_reports",
                               [&] { return mount.sender->delivery_reports(request); });
        if (reports && reports->reports.empty() && reports->answer)
            return send_channel_response(ex, *reports->answer);
    }
    auto first = guarded("channel " + mount.plugin + " parse", [&] { return mount.channel->parse(request); });
    if (!first) return ex.send_error(first.error());
    const std::string tenant_id = first->tenant_id;
    ex.tenant = tenant_id;
    if (key && !permit(ex, *key, tenant_id, "chat:write")) return;
    auto tenant = engine.tenant(tenant_id);
    if (!tenant) return ex.send_error(tenant.error());
    sdk::Channel* own = (*tenant)->channel(mount.plugin);
    if (own == nullptr) {
        return ex.send_error(404, "unknown_tenant",
                             "tenant \"" + tenant_id + "\" does not enable the " + mount.plugin + " channel");
    }
    channel_turn(ex, engine, turns, *tenant, *own, mount.plugin, request, tenant_id);
}

void Routes::tenant_channel(Exchange& ex, const std::string& tenant_id, const std::string& plugin,
                            const std::string& subpath) {
    auto tenant = engine.tenant(tenant_id);
    if (!tenant) return ex.send_error(tenant.error());
    sdk::Channel* channel = (*tenant)->channel(plugin);
    if (channel == nullptr) {
        const auto& disabled = (*tenant)->manifest().disabled_channels;
        // 503, not 404: the provider delivers again later, so once the variable is set nothing was lost.
        if (auto why = disabled.find(plugin); why != disabled.end())
            return ex.send_error(
                503, "channel_disabled",
                "tenant \"" + tenant_id + "\" has the " + plugin + " channel disabled: " + why->second);
        return ex.send_error(404, "not_found",
                             "tenant \"" + tenant_id + "\" does not enable the " + plugin + " channel");
    }
    auto routes = guarded("channel " + plugin + " routes",
                          [&]() -> sdk::Result<std::vector<sdk::Route>> { return channel->routes(); });
    if (!routes) return ex.send_error(routes.error());
    std::string allow;
    for (const auto& route : *routes) {
        if (route.scope != sdk::RouteScope::tenant || route.path != subpath) continue;
        if (route.method == ex.request.method) {
            return channel_turn(ex, engine, turns, *tenant, *channel, plugin, channel_request(ex, subpath),
                                tenant_id);
        }
        allow += (allow.empty() ? "" : ", ") + route.method;
    }
    if (!allow.empty()) {
        ex.set_header("Allow", allow);
        return ex.send_error(405, "method_not_allowed",
                             ex.request.method + " " + ex.path + ": allowed: " + allow);
    }
    ex.send_error(404, "not_found", "no route for " + ex.request.method + " " + ex.path);
}

void Routes::health(Exchange& ex) {
    const auto db = check_database(engine);
    const auto status = overall_status(db, engine.tenants(), engine);
    ex.send_json(status == "down" ? 503 : 200,
                 json::object{{"status", status}, {"redis", to_string(engine.shared().health())}});
}

void Routes::health_ready(Exchange& ex) {
    // Readiness, not liveness: a draining server is alive (it finishes its turns) but must get no
    // new traffic, and one still starting has not opened its outbox yet.
    switch (readiness.load()) {
        case Readiness::ready:
            ex.send_json(200, json::object{{"status", "ready"}});
            return;
        case Readiness::starting:
            ex.send_json(503, json::object{{"status", "starting"}});
            return;
        case Readiness::draining:
            ex.send_json(503, json::object{{"status", "draining"}});
            return;
    }
}

void Routes::health_detailed(Exchange& ex) {
    const auto db = check_database(engine);
    const auto tenants = engine.tenants();
    json::object database{{"ok", db.ok}, {"latency_ms", db.latency_ms}};
    if (!db.ok) database["error"] = db.error;

    json::array loaded;
    for (const auto& plugin : engine.plugins().plugins()) {
        loaded.push_back(json::object{
            {"name", plugin.name}, {"kind", sdk::to_string(plugin.kind)}, {"version", plugin.version}});
    }
    json::array refused;
    for (const auto& refusal : engine.plugins().refused()) {
        refused.push_back(json::object{{"path", refusal.path}, {"reason", refusal.reason}});
    }
    json::array tenant_list;
    for (const auto& t : tenants) {
        json::object entry{{"id", t.id}, {"state", t.state}};
        if (!t.error.empty()) entry["error"] = t.error;
        if (!t.reload_error.empty()) entry["reload_error"] = t.reload_error;
        if (!t.disabled_channels.empty()) {
            json::object disabled;
            for (const auto& [channel, why] : t.disabled_channels) disabled[channel] = why;
            entry["disabled_channels"] = std::move(disabled);
        }
        tenant_list.push_back(std::move(entry));
    }
    // Messages queued for longer than they should be: a provider down, a channel disabled.
    json::object outbox;
    bool outbox_stuck = false;
    if (auto health = engine.outbox().health()) {
        json::array stuck;
        const auto now = std::chrono::system_clock::now();
        for (const auto& r : health->stuck) {
            json::object entry{{"id", r.id},
                               {"tenant", r.tenant_id},
                               {"channel", r.channel},
                               {"attempts", r.attempts},
                               {"queued_seconds", std::chrono::duration<double>(now - r.created_at).count()}};
            if (!r.error.empty()) entry["error"] = r.error;
            stuck.push_back(std::move(entry));
        }
        outbox_stuck = !stuck.empty();
        outbox = json::object{{"queued", health->queued},
                              {"stuck_after_seconds",
                               std::chrono::duration<double>(engine.outbox().options().stuck_after).count()},
                              {"stuck", std::move(stuck)}};
    } else {
        outbox = json::object{{"error", health.error().message}};
    }
    const double uptime = std::chrono::duration<double>(SteadyClock::now() - started).count();
    auto status = overall_status(db, tenants, engine);
    if (status == "ok" && outbox_stuck) status = "degraded";
    ex.send_json(
        status == "down" ? 503 : 200,
        json::object{
            {"status", status},
            {"version", TEZGAH_VERSION},
            {"uptime_seconds", uptime},
            {"memory_rss_bytes", resident_memory_bytes()},
            {"database", std::move(database)},
            {"http", json::object{{"in_flight", in_flight.load()},
                                  {"connections", connections.load()},
                                  {"widget_sockets", widgets != nullptr ? widgets->open() : 0}}},
            {"plugins", json::object{{"loaded", std::move(loaded)}, {"refused", std::move(refused)}}},
            {"tenants", std::move(tenant_list)},
            {"outbox", std::move(outbox)},
            {"redis", json::object{{"state", to_string(engine.shared().health())},
                                   {"instance_id", engine.shared().instance_id()},
                                   {"round_trips", engine.shared().round_trips()},
                                   {"errors", engine.shared().errors()}}}});
}

void Routes::metrics(Exchange& ex) {
    int loaded = 0;
    for (const auto& t : engine.tenants()) loaded += t.state == "loaded";
    Metrics::global().tenants_loaded(loaded);
    Metrics::global().widget_sockets(widgets != nullptr ? widgets->open() : 0);
    engine.outbox().update_metrics();
    ex.send(200, "text/plain; version=0.0.4; charset=utf-8",
            Metrics::global().render() + shared_state_metrics(engine.shared()));
}

}  // namespace tezgah::engine::http
