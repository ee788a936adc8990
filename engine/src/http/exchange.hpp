#pragma once
// Inside the HTTP server: a request read whole by the connection loop (Request), one request
// being answered by a worker (Exchange), the process-wide channel instances, and the route
// handlers. Not used outside engine/src/http/.

#include "http/channel_turns.hpp"
#include "http/server.hpp"
#include "plugins/registry.hpp"
#include "store/api_keys.hpp"
#include "store/audit_log.hpp"

#include <tezgah/sdk/channel.hpp>
#include <tezgah/sdk/plugin.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tezgah::engine::http {

namespace json = boost::json;

/// A fresh request id: 16 lower-case hex digits.
std::string new_request_id();
/// An incoming X-Request-Id worth keeping: 1..128 characters of [A-Za-z0-9._:-].
bool sane_request_id(std::string_view id);
/// `{"error": {"code", "message", "request_id"}}`.
std::string error_body(std::string_view code, std::string_view message, std::string_view request_id);

/// A request as the connection loop read it: head and whole body, within the limits.
struct Request {
    std::string method;
    std::string target;  ///< as sent: path and query
    std::string path;    ///< without the query
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower case, in order
    std::string body;
    bool keep_alive = true;        ///< HTTP/1.1 without `Connection: close`
    std::string client_address;    ///< the peer, or the X-Forwarded-For client behind a trusted proxy
    bool forwarded_https = false;  ///< a trusted proxy says the client used HTTPS (X-Forwarded-Proto)
    std::string request_id;
    std::chrono::steady_clock::time_point started;  ///< the request's first byte

    /// The first header named `name` (lower case), or empty.
    std::string_view header(std::string_view name) const;
};

/// Where a worker writes its answer: the connection's socket, written directly with a deadline
/// per write. Owned by the connection; valid while the worker handles the request.
class ResponseWriter {
public:
    virtual ~ResponseWriter() = default;
    /// Writes all of `bytes`; false when the client is gone or too slow (the connection closes).
    virtual bool write(std::string_view bytes) = 0;
    /// The socket, for noticing a client that leaves (http/departures.hpp); -1 when none.
    virtual int fd() const = 0;
};

/// One request and its response, with what the access log and metrics need.
class Exchange {
public:
    Exchange(const Request& request, ResponseWriter& writer, const ServerOptions& options);

    const Request& request;
    const ServerOptions& options;
    const std::string& request_id;
    const std::string& path;
    std::string route = "not_found";  ///< a route template, for logs and metrics
    std::string tenant;
    std::string key_id;  ///< the API key that authenticated the request (Routes::authorize), if any
    int status = 0;      ///< set once the response started
    bool close = false;  ///< the connection closes after this response

    void set_header(std::string name, std::string value);
    void send(int status, std::string_view content_type, std::string_view body);
    void send_json(int status, const json::value& value);
    void send_error(int status, std::string_view code, std::string_view message);
    /// An engine or plugin error with its contract status (internal errors without details).
    void send_error(const sdk::Error& error);
    bool sent() const { return status != 0; }

    /// A chunked response whose body comes in pieces (server-sent events). False when the
    /// client is gone.
    bool start_stream(int status, std::string_view content_type);
    bool write_chunk(std::string_view data);
    void end_stream();

    int socket_fd() const { return writer_.fd(); }

    /// Called on the connection loop's thread with the connection's socket, to serve it as a
    /// WebSocket from then on; `owner` keeps the connection (and its place in the server's counts)
    /// for as long as it is held.
    using SocketTakeover =
        std::function<void(boost::asio::ip::tcp::socket& socket, std::shared_ptr<void> owner)>;
    /// Instead of a response: once the worker is done, the connection loop hands the socket to
    /// `takeover` (which writes the 101 and serves the WebSocket). Counts as the response (101).
    void accept_upgrade(SocketTakeover takeover) {
        status = 101;
        upgrade = std::move(takeover);
    }
    SocketTakeover upgrade;

private:
    std::string head(int status, std::string_view content_type) const;
    ResponseWriter& writer_;
    std::vector<std::pair<std::string, std::string>> headers_;
    bool streaming_ = false;
    bool broken_ = false;
};

/// Whether `address` (a client address as Request::client_address holds it) is on loopback:
/// 127.0.0.0/8, ::1, or an IPv4-mapped loopback address.
bool is_loopback_address(std::string_view address);

/// The value of the request's `tezgah_session` cookie (an agent's console session), or empty.
std::string_view session_cookie(const Request& request);

/// The status line's reason for `status` ("OK", "Not Found").
const char* reason_phrase(int status) noexcept;

/// One instance of every channel plugin that mounts process-wide routes.
class ProcessChannels {
public:
    explicit ProcessChannels(const PluginRegistry& registry);
    ~ProcessChannels();

    struct Mount {
        std::string method;
        std::string plugin;
        sdk::Channel* channel;
        sdk::ChannelSender* sender;  ///< the same instance when the channel sends, else null
    };
    /// The mounts at exactly `path`, or null.
    const std::vector<Mount>* find(const std::string& path) const;

private:
    struct Holder;
    std::vector<std::unique_ptr<Holder>> holders_;
    std::map<std::string, std::vector<Mount>> mounts_;
};

class WidgetSockets;
class ConsoleSite;

/// For Routes::authorize and permit: a route any key covering the tenant may read, whatever its
/// scopes (the console's reads of a tenant's profile, catalog and knowledge).
inline constexpr std::string_view kAnyScope{};

/// The request handlers. Each sends exactly one response (or an event stream).
struct Routes {
    Routes(Engine& engine_, const ProcessChannels& channels_)
        : engine(engine_), channels(channels_), started(std::chrono::steady_clock::now()) {}

    Engine& engine;
    const ProcessChannels& channels;
    std::chrono::steady_clock::time_point started;
    std::atomic<int> in_flight{0};     ///< requests begun and not yet answered (shown in /health/detailed)
    std::atomic<int> connections{0};   ///< open connections (shown in /health/detailed)
    WidgetSockets* widgets = nullptr;  ///< the web widget's WebSockets (set by the server)
    const ConsoleSite* console = nullptr;  ///< the console's files (set by the server)
    ChannelTurns turns{engine};            ///< bursts, and channel turns that run past their deadline
    /// What GET /health/ready answers: a load balancer sends traffic only while it is `ready`.
    enum class Readiness { starting, ready, draining };
    std::atomic<Readiness> readiness{Readiness::starting};

    /// True for the routes the operations worker answers, so they answer while every chat
    /// worker is busy: /health, /health/ready, /health/detailed, /metrics.
    static bool operations_route(std::string_view path);
    /// True for the routes that run a customer's turn and so may wait on a remote model: the chat
    /// API, a tenant's channel routes and the channels' process-wide routes. The server runs them
    /// as coroutines on its turn threads (util/coroutine.hpp); the rest go to worker threads.
    bool turn_route(std::string_view path) const;

    /// The request's key (`Authorization: Bearer KEY`) when it may use `scope` on `tenant` (an
    /// empty `tenant`: a process-wide route, which only a key for every tenant may use; `scope`
    /// kAnyScope: any key covering the tenant, whatever its scopes). Otherwise
    /// answers 401 (no key, an unknown or revoked one) or 403 (another tenant's key, a key without
    /// the scope) and returns none. Sets ex.key_id.
    std::optional<ApiKey> authorize(Exchange& ex, const std::string& tenant, std::string_view scope);
    /// The first half of authorize(): the request's key when it is valid, else 401 answered.
    std::optional<ApiKey> authenticate(Exchange& ex);
    /// authenticate() for an agent's console session (the `tezgah_session` cookie, used only
    /// without an Authorization header; http/agents_api.cpp): the session must be current, and a
    /// method other than GET/HEAD must carry its X-CSRF-Token and no foreign Origin (else 403
    /// csrf_failed). Sets ex.key_id to "agent:<id>".
    std::optional<ApiKey> authenticate_session(Exchange& ex, std::string_view token);
    /// authenticate() for a key presented some other way (the calendar feed's `?key=`).
    std::optional<ApiKey> authenticate_key(Exchange& ex, std::string_view presented);
    /// The second half: true when `key` may use `scope` on `tenant`, else 403 answered.
    bool permit(Exchange& ex, const ApiKey& key, const std::string& tenant, std::string_view scope);
    /// For routes keyed only off loopback (DESIGN "Operators"): true when the client is on
    /// loopback and presents no key, else as authorize() (a key presented is always checked).
    bool keyed_off_loopback(Exchange& ex, const std::string& tenant, std::string_view scope);
    AuditLog* audit = nullptr;  ///< where keyed requests are recorded (set by the server)
    /// GET /v1/audit (`tenant` empty) and GET /v1/tenants/{tenant}/audit, once authorized.
    void audit_entries(Exchange& ex, const std::string& tenant);

    void dispatch(Exchange& ex);
    void chat(Exchange& ex, const std::string& tenant);
    void process_channel(Exchange& ex, const ProcessChannels::Mount& mount);
    void tenant_channel(Exchange& ex, const std::string& tenant, const std::string& plugin,
                        const std::string& subpath);
    void health(Exchange& ex);
    void health_ready(Exchange& ex);
    void health_detailed(Exchange& ex);
    void metrics(Exchange& ex);

    // --- the operator API for conversations, handoff and tickets (http/conversations_api.cpp) ---
    std::atomic<bool> stopping{false};  ///< set when the server stops: event streams end
    /// Answers `rest` (the path after /v1/tenants/{tenant}) when it is one of these routes.
    bool operator_route(Exchange& ex, const std::string& tenant, std::string_view rest);
    void list_conversations_route(Exchange& ex, const std::string& tenant,
                                  const std::map<std::string, std::string>& params);
    void conversation_route(Exchange& ex, const std::string& tenant, const std::string& id);
    void takeover_route(Exchange& ex, const std::string& tenant, const std::string& id);
    void operator_message_route(Exchange& ex, const std::string& tenant, const std::string& id);
    void release_route(Exchange& ex, const std::string& tenant, const std::string& id);
    void tickets_route(Exchange& ex, const std::string& tenant,
                       const std::map<std::string, std::string>& params);
    void ticket_patch_route(Exchange& ex, const std::string& tenant, const std::string& id);
    void events_route(Exchange& ex, const std::string& tenant);
    // --- the operator API for appointments (http/appointments_api.cpp) ---
    /// Answers `rest` (the path after /v1/tenants/{tenant}) when it is /availability,
    /// /appointments or /appointments/{id}.
    bool appointments_route(Exchange& ex, const std::string& tenant, std::string_view rest);
    void availability_route(Exchange& ex, const Tenant& tenant,
                            const std::map<std::string, std::string>& params);
    void list_appointments_route(Exchange& ex, const Tenant& tenant,
                                 const std::map<std::string, std::string>& params);
    void book_route(Exchange& ex, const Tenant& tenant);
    /// PATCH (move, status, notes) and DELETE (cancel) of /appointments/{id}.
    void change_appointment_route(Exchange& ex, const Tenant& tenant, const std::string& id);
    /// GET /v1/tenants/{tenant}/analytics (http/analytics.cpp).
    void analytics(Exchange& ex, const std::string& tenant);
    /// The console's staff (http/agents_api.cpp): sign-in and out, agents, assignment, notes,
    /// canned replies under /v1/tenants/{tenant}; answers when `rest` is one of them.
    bool agents_route(Exchange& ex, const std::string& tenant, std::string_view rest);
    /// GET /v1/session: who is asking (a key or an agent's session).
    void session_route(Exchange& ex);
    /// GET /openapi.json: the OpenAPI document of every route (http/openapi.cpp).
    void openapi(Exchange& ex);
};

/// The chat body's fields after checking their types.
struct ChatBody {
    std::string text;
    std::string user_id;
    std::string session_id;
    std::string message_id;
};
/// Errors: invalid_json, missing_field, invalid_field (wrong type). The values' own checks
/// (UTF-8, NUL, lengths, an empty text) are the engine's, the same for every channel.
sdk::Result<ChatBody> parse_chat_body(std::string_view body);

}  // namespace tezgah::engine::http
