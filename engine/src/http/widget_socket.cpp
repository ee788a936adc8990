// The web widget's WebSocket: handshake checks on a worker, then frames on the connection loop,
// turns on the workers. See widget_socket.hpp.
#include "http/widget_socket.hpp"

#include "ops/limits.hpp"
#include "util/digest.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/rand.h>

#include <array>
#include <cstdlib>

namespace tezgah::engine::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

/// Pending writes beyond this (a client that does not read): the socket is closed.
constexpr std::size_t kMaxPendingBytes = 1024 * 1024;
/// A client's message id is echoed back and kept for idempotency; longer ones are refused.
constexpr std::size_t kMaxClientIdBytes = 64;

std::string random_key_hex(std::size_t bytes) {
    std::vector<unsigned char> buffer(bytes);
    if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) return {};
    return hex(buffer.data(), buffer.size());
}

/// Compares without stopping at the first difference.
bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// "https://Shop.example/" → "https://shop.example".
std::string normalize_origin(std::string_view origin) {
    std::string out = lower(sdk::text::trim(origin));
    while (!out.empty() && out.back() == '/') out.pop_back();
    return out;
}

std::string frame_text(const json::object& frame) { return sdk::json_text(frame); }

std::string error_frame(std::string_view code, std::string_view message) {
    return frame_text(json::object{{"type", "error"}, {"code", code}, {"message", message}});
}

}  // namespace

// --- visitor tokens ---

std::string VisitorTokens::mac(std::string_view text) const { return hmac_sha256_hex(key_, text); }

std::string VisitorTokens::issue(const std::string& tenant, std::string& visitor_id) const {
    visitor_id = random_key_hex(16);
    const auto issued =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::string body = "v1." + tenant + "." + visitor_id + "." + std::to_string(issued);
    return body + "." + mac(body);
}

std::optional<std::string> VisitorTokens::check(std::string_view token, const std::string& tenant) const {
    if (token.size() > 256) return std::nullopt;
    const auto last = token.rfind('.');
    if (last == std::string_view::npos) return std::nullopt;
    const auto body = token.substr(0, last);
    if (!equal_constant_time(mac(body), token.substr(last + 1))) return std::nullopt;
    // v1.<tenant>.<visitor>.<issued>: a tenant id has no dots.
    const std::string prefix = "v1." + tenant + ".";
    if (!body.starts_with(prefix)) return std::nullopt;
    const auto rest = body.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    return std::string(rest.substr(0, dot));
}

std::string widget_signing_key(Engine& engine) {
    if (const char* configured = std::getenv("TEZGAH_SECRET_KEY");
        configured != nullptr && *configured != '\0')
        return configured;
    auto stored = engine.database().server_secret("widget_token_key", random_key_hex(32));
    if (stored && !stored->empty()) return *stored;
    log_event(spdlog::level::err, "widget",
              "the widget's signing key could not be read from the database; visitor tokens of this "
              "process will not be accepted after a restart",
              {{"error", stored ? std::string("empty") : stored.error().message}});
    return random_key_hex(32);
}

bool widget_origin_allowed(std::string_view origin, std::string_view host,
                           const json::object& tenant_config) {
    const std::string wanted = normalize_origin(origin);
    if (wanted.empty() || wanted == "null") return false;
    const std::string own_host = lower(host);
    if (!own_host.empty() && (wanted == "http://" + own_host || wanted == "https://" + own_host)) return true;
    if (const auto* list = tenant_config.if_contains("allowed_origins");
        list != nullptr && list->is_array()) {
        for (const auto& entry : list->get_array())
            if (entry.is_string() && normalize_origin(entry.get_string()) == wanted) return true;
    }
    return false;
}

// --- one socket ---

struct WidgetSockets::Session : std::enable_shared_from_this<Session> {
    Session(WidgetSockets& hub_, tcp::socket& socket, std::shared_ptr<void> owner_, std::string tenant_,
            json::object settings_)
        : hub(hub_),
          ws(socket),
          owner(std::move(owner_)),
          tenant(std::move(tenant_)),
          settings(std::move(settings_)) {}

    ~Session() {
        if (counted) --hub.open_;
    }

    WidgetSockets& hub;
    websocket::stream<tcp::socket&> ws;
    std::shared_ptr<void> owner;  // the HTTP connection: keeps it counted while the socket is open
    const std::string tenant;
    const json::object settings;  // title, color, greeting: sent in `welcome`
    beast::flat_buffer buffer;
    std::deque<std::string> outgoing;
    std::size_t pending_bytes = 0;
    bool writing = false;
    bool closed = false;
    bool counted = false;
    bool greeted = false;                                // hello answered (or being answered)
    std::string visitor;                                 // after hello
    std::list<std::weak_ptr<Session>>::iterator listed;  // in hub.sessions_ while open
    bool is_listed = false;

    void start(const bhttp::request<bhttp::empty_body>& request, const std::string& request_id) {
        counted = true;
        ++hub.open_;
        listed = hub.sessions_.insert(hub.sessions_.end(), weak_from_this());
        is_listed = true;
        websocket::stream_base::timeout timeout{};
        timeout.handshake_timeout = std::chrono::seconds(10);
        timeout.idle_timeout = hub.limits.idle_timeout;
        timeout.keep_alive_pings = true;
        ws.set_option(timeout);
        ws.set_option(websocket::stream_base::decorator([request_id](websocket::response_type& response) {
            response.set(bhttp::field::server, "tezgah");
            response.set("X-Request-Id", request_id);
        }));
        ws.read_message_max(hub.limits.max_frame_bytes);
        ws.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->finish();
            self->read();
        });
    }

    void read() {
        ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->finish();
            const bool text = self->ws.got_text();
            std::string frame = beast::buffers_to_string(self->buffer.data());
            self->buffer.consume(self->buffer.size());
            self->on_frame(text, frame);
            self->read();
        });
    }

    void finish() {
        closed = true;
        outgoing.clear();
        pending_bytes = 0;
        if (is_listed) {
            hub.sessions_.erase(listed);
            is_listed = false;
        }
        forget_visitor();
    }

    /// Listed by visitor once greeted: an operator's reply is pushed to every socket of theirs.
    void list_visitor() {
        std::lock_guard lock(hub.visitors_mutex_);
        visitor_key = tenant + '\n' + user_id();
        hub.visitors_.emplace(visitor_key, weak_from_this());
    }
    void forget_visitor() {
        if (visitor_key.empty()) return;
        std::lock_guard lock(hub.visitors_mutex_);
        auto [first, last] = hub.visitors_.equal_range(visitor_key);
        for (auto it = first; it != last; ++it) {
            if (auto other = it->second.lock(); !other || other.get() == this) {
                hub.visitors_.erase(it);
                break;
            }
        }
        visitor_key.clear();
    }
    std::string visitor_key;  // tenant '\n' user id, while listed in hub.visitors_

    /// The server is stopping: a close frame (1001, going away), then the socket closes.
    void go_away() {
        if (closed) return;
        closed = true;
        ws.async_close(websocket::close_reason(websocket::close_code::going_away),
                       [self = shared_from_this()](beast::error_code) {});
    }

    /// Queues a frame (loop thread).
    void send(std::string frame) {
        if (closed) return;
        pending_bytes += frame.size();
        if (pending_bytes > kMaxPendingBytes) {
            // The client does not read what it is sent: let it go rather than hold its frames.
            closed = true;
            beast::error_code ignored;
            beast::get_lowest_layer(ws).close(ignored);
            return;
        }
        outgoing.push_back(std::move(frame));
        if (!writing) write_next();
    }

    void write_next() {
        if (closed || outgoing.empty()) {
            writing = false;
            return;
        }
        writing = true;
        ws.text(true);
        ws.async_write(asio::buffer(outgoing.front()),
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                           if (self->closed) return;
                           self->pending_bytes -= self->outgoing.front().size();
                           self->outgoing.pop_front();
                           if (ec) return self->finish();
                           self->write_next();
                       });
    }

    /// Queues a frame from any thread.
    void post(std::string frame) {
        asio::post(ws.get_executor(), [self = shared_from_this(), frame = std::move(frame)]() mutable {
            self->send(std::move(frame));
        });
    }

    void on_frame(bool text, const std::string& frame) {
        if (!text) return send(error_frame("bad_frame", "frames are JSON text; binary frames are not read"));
        boost::system::error_code ec;
        json::value parsed = json::parse(frame, ec);
        if (ec || !parsed.is_object())
            return send(error_frame("invalid_json", "a frame is a JSON object with a \"type\""));
        const auto& object = parsed.get_object();
        const auto* type = object.if_contains("type");
        if (type == nullptr || !type->is_string())
            return send(error_frame("missing_field", "type: required (hello or message)"));
        if (type->get_string() == "hello") return on_hello(object);
        if (type->get_string() == "message") return on_message(object);
        send(error_frame("invalid_value",
                         "type: \"" + std::string(type->get_string()) + "\" is not one of hello, message"));
    }

    void on_hello(const json::object& frame) {
        if (greeted) return send(error_frame("invalid_value", "hello: this socket has said hello already"));
        std::optional<std::string> known;
        if (const auto* token = frame.if_contains("visitor_token"); token != nullptr && token->is_string())
            known = hub.tokens.check(token->get_string(), tenant);
        greeted = true;
        if (!known) {
            // New visitors, and tokens that are forged, expired by a new key, or another tenant's.
            const std::string token = hub.tokens.issue(tenant, visitor);
            list_visitor();
            return send(welcome(token, json::array{}));
        }
        visitor = *known;
        list_visitor();
        // The history is read from the database on a worker, never on the loop.
        auto self = shared_from_this();
        const bool queued =
            hub.run_on_worker([self, token = std::string(frame.at("visitor_token").get_string())] {
                self->post(self->welcome(token, self->history()));
            });
        if (!queued) send(welcome(std::string(frame.at("visitor_token").get_string()), json::array{}));
    }

    std::string welcome(const std::string& token, json::array history) const {
        json::object frame{{"type", "welcome"}, {"visitor_token", token}, {"history", std::move(history)}};
        for (const char* key : {"title", "color", "greeting"}) {
            if (const auto* value = settings.if_contains(key); value != nullptr && value->is_string())
                frame[key] = value->get_string();
        }
        return frame_text(frame);
    }

    std::string user_id() const { return "widget:" + visitor; }
    std::string session_id() const { return "widget-" + visitor; }

    /// The visitor's conversation so far, oldest first (worker thread).
    json::array history() const {
        json::array out;
        auto& db = hub.engine.database();
        auto conversation = db.open_conversation(tenant, user_id(), std::string(kWidgetChannel), session_id(),
                                                 std::chrono::system_clock::now(), std::chrono::hours(24));
        if (!conversation) {
            log_event(spdlog::level::warn, "widget", "history could not be read",
                      {{"tenant", tenant}, {"error", conversation.error().message}});
            return out;
        }
        if (conversation->is_new) return out;
        auto messages = db.recent_messages(tenant, conversation->id, hub.limits.history_messages);
        if (!messages) return out;
        for (const auto& m : *messages) {
            if (m.text.empty()) continue;
            const auto at =
                std::chrono::duration_cast<std::chrono::milliseconds>(m.at.time_since_epoch()).count();
            out.push_back(json::object{{"from", m.role == "user"       ? "customer"
                                                : m.role == "operator" ? "operator"
                                                                       : "bot"},
                                       {"text", m.text},
                                       {"at", at}});
        }
        return out;
    }

    void on_message(const json::object& frame) {
        if (!greeted || visitor.empty())
            return send(error_frame("hello_first", "send {\"type\": \"hello\"} first"));
        const auto* text = frame.if_contains("text");
        if (text == nullptr || !text->is_string())
            return send(error_frame("missing_field", "text: required (a string)"));
        std::string id;
        if (const auto* given = frame.if_contains("id"); given != nullptr && !given->is_null()) {
            if (!given->is_string() || given->get_string().size() > kMaxClientIdBytes)
                return send(error_frame("invalid_field", "id: a string of at most 64 bytes"));
            id = std::string(given->get_string());
        }
        if (!hub.allow_message(tenant + "\n" + visitor, SteadyClock::now()))
            return send(frame_text(
                json::object{{"type", "error"},
                             {"code", "rate_limited"},
                             {"message", "more than " + std::to_string(hub.limits.messages_per_minute) +
                                             " messages a minute; wait a moment"},
                             {"id", id}}));

        sdk::InboundMessage message;
        message.tenant_id = tenant;
        message.user_id = user_id();
        message.text = std::string(text->get_string());
        message.channel = std::string(kWidgetChannel);
        message.platform = std::string(kWidgetChannel);
        message.session_id = session_id();
        if (!id.empty()) message.message_id = "widget:" + visitor + ":" + id;

        send(frame_text(json::object{{"type", "typing"}}));
        auto self = shared_from_this();
        const bool queued =
            hub.run_on_worker([self, message = std::move(message), id] { self->turn(message, id); });
        if (!queued) send(error_frame("overloaded", "the server is at capacity; send again shortly"));
    }

    /// Streams `delta` (and `reset`) frames to the socket as the turn produces text.
    class FrameStream final : public TurnStream {
    public:
        explicit FrameStream(Session& session) : session_(session) {}
        void on_text(std::string_view delta) override {
            if (!delta.empty()) session_.post(frame_text(json::object{{"type", "delta"}, {"text", delta}}));
        }
        void on_reset() override { session_.post(frame_text(json::object{{"type", "reset"}})); }

    private:
        Session& session_;
    };

    /// One turn, on a worker. The turn completes and is stored even when the socket has closed:
    /// the visitor finds it in the history when they come back.
    void turn(const sdk::InboundMessage& message, const std::string& id) {
        FrameStream stream(*this);
        auto reply = hub.engine.handle(message, &stream);
        if (!reply) {
            const auto& error = reply.error();
            if (auto refusal = refusal_of(error)) {
                // Over the tenant's plan: the message is stored; the visitor reads the polite note
                // (`text`) the first time in the window, and the error frame alone after.
                auto stored = hub.engine.answer_refused({message}, error);
                json::object frame{{"type", "error"},
                                   {"code", error.code},
                                   {"message", error.message},
                                   {"limit", to_string(refusal->limit)},
                                   {"retry_after", refusal->retry_after.count()}};
                if (stored && !stored->reply.empty()) frame["text"] = stored->reply;
                if (!id.empty()) frame["id"] = id;
                return post(frame_text(frame));
            }
            const bool internal = sdk::error_status(error.code) == 500;
            if (internal)
                log_event(spdlog::level::err, "widget", "turn failed",
                          {{"tenant", tenant}, {"code", error.code}, {"error", error.message}});
            json::object frame{{"type", "error"},
                               {"code", internal ? "internal" : error.code},
                               {"message", internal ? "the message could not be answered" : error.message}};
            if (!id.empty()) frame["id"] = id;
            return post(frame_text(frame));
        }
        json::object frame = sdk::to_json(*reply);
        frame["type"] = "reply";
        frame["from"] = "bot";
        if (!id.empty()) frame["id"] = id;
        post(frame_text(frame));
    }
};

// --- the hub ---

WidgetSockets::WidgetSockets(Engine& engine_, std::function<bool(std::function<void()>)> run_on_worker_,
                             WidgetLimits limits_)
    : engine(engine_),
      limits(limits_),
      tokens(widget_signing_key(engine_)),
      run_on_worker(std::move(run_on_worker_)) {
    // An operator's reply to a widget conversation (pipeline/handoff.cpp publishes it) is shown
    // live as a `reply` frame from "operator"; without an open socket it is in the next welcome's history.
    events_subscription_ = engine.events().subscribe([this](const Event& event) {
        if (event.type != "message") return;
        const auto& d = event.data;
        const auto* from = d.if_contains("from");
        const auto* channel = d.if_contains("channel");
        if (!from || *from != "operator" || !channel || *channel != json::string(kWidgetChannel)) return;
        sdk::TurnReply reply;
        reply.reply = std::string(d.at("text").as_string());
        reply.conversation_id = std::string(d.at("conversation_id").as_string());
        if (const auto* session = d.if_contains("session_id"); session && session->is_string())
            reply.session_id = std::string(session->get_string());
        reply.method = "operator";
        reply.handoff = true;
        json::object frame = sdk::to_json(reply);
        frame["type"] = "reply";
        frame["from"] = "operator";
        if (const auto* id = d.if_contains("id")) frame["message_id"] = *id;
        push(event.tenant_id, std::string(d.at("user_id").as_string()), frame_text(frame));
    });
}

WidgetSockets::~WidgetSockets() { engine.events().unsubscribe(events_subscription_); }

int WidgetSockets::push(const std::string& tenant, const std::string& user_id, const std::string& frame) {
    std::vector<std::shared_ptr<Session>> targets;
    {
        std::lock_guard lock(visitors_mutex_);
        auto [first, last] = visitors_.equal_range(tenant + '\n' + user_id);
        for (auto it = first; it != last; ++it)
            if (auto session = it->second.lock()) targets.push_back(std::move(session));
    }
    for (const auto& session : targets) session->post(frame);
    return static_cast<int>(targets.size());
}

void WidgetSockets::close_all() {
    for (const auto& weak : sessions_)
        if (auto session = weak.lock()) session->go_away();
}

bool WidgetSockets::allow_message(const std::string& visitor_key, SteadyClock::time_point now) {
    const auto window = std::chrono::minutes(1);
    if (now - last_sweep_ > window) {
        last_sweep_ = now;
        for (auto it = recent_.begin(); it != recent_.end();) {
            if (it->second.empty() || now - it->second.back() > window)
                it = recent_.erase(it);
            else
                ++it;
        }
    }
    auto& times = recent_[visitor_key];
    while (!times.empty() && now - times.front() >= window) times.pop_front();
    if (static_cast<int>(times.size()) >= limits.messages_per_minute) return false;
    times.push_back(now);
    return true;
}

void WidgetSockets::handshake(Exchange& ex, const std::string& tenant_id) {
    auto tenant = engine.tenant(tenant_id);
    if (!tenant) return ex.send_error(tenant.error());
    if ((*tenant)->channel(std::string(kWidgetChannel)) == nullptr)
        return ex.send_error(404, "not_found",
                             "tenant \"" + tenant_id + "\" does not enable the widget channel");
    const auto& channels = (*tenant)->manifest().channels;
    const auto config_it = channels.find(std::string(kWidgetChannel));
    const json::object config = config_it == channels.end() ? json::object{} : config_it->second;
    const auto origin = ex.request.header("origin");
    if (origin.empty())
        return ex.send_error(403, "forbidden", "widget socket: the Origin header is required");
    if (!widget_origin_allowed(origin, ex.request.header("host"), config))
        return ex.send_error(403, "forbidden",
                             "widget socket: origin " + std::string(origin) + " is not in tenant \"" +
                                 tenant_id + "\"'s allowed_origins");

    // The handshake request as Beast answers it (the loop writes the 101).
    auto request = std::make_shared<bhttp::request<bhttp::empty_body>>();
    request->method(bhttp::verb::get);
    request->target(ex.request.target);
    request->version(11);
    for (const auto& [name, value] : ex.request.headers) request->insert(name, value);
    json::object settings;
    for (const char* key : {"title", "color", "greeting"}) {
        if (const auto* value = config.if_contains(key); value != nullptr && value->is_string())
            settings[key] = value->get_string();
    }
    if (!settings.contains("title")) settings["title"] = (*tenant)->profile().name;
    ex.accept_upgrade([this, request, tenant_id, settings = std::move(settings), request_id = ex.request_id](
                          tcp::socket& socket, std::shared_ptr<void> owner) {
        auto session = std::make_shared<Session>(*this, socket, std::move(owner), tenant_id, settings);
        session->start(*request, request_id);
    });
}

}  // namespace tezgah::engine::http
