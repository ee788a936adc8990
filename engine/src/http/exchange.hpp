#pragma once
// Inside the HTTP server: one request being answered (Exchange), the process-wide channel
// instances, and the route handlers. Not used outside engine/src/http/.

#include "http/server.hpp"
#include "plugins/registry.hpp"

#include <tezgah/sdk/plugin.hpp>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine::http {

namespace json = boost::json;

/// A fresh request id: 16 lower-case hex digits.
std::string new_request_id();
/// An incoming X-Request-Id worth keeping: 1..128 characters of [A-Za-z0-9._:-].
bool sane_request_id(std::string_view id);
/// `{"error": {"code", "message", "request_id"}}`.
std::string error_body(std::string_view code, std::string_view message, std::string_view request_id);

/// One request and its response, with what the access log and metrics need.
class Exchange {
public:
    Exchange(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
             const ServerOptions& options);

    Poco::Net::HTTPServerRequest& request;
    Poco::Net::HTTPServerResponse& response;
    const ServerOptions& options;
    std::string request_id;
    std::string path;  ///< the URI's path (no query)
    std::string query;
    std::string route = "not_found";  ///< a route template, for logs and metrics
    std::string tenant;
    int status = 0;  ///< set once the response started
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    /// Reads the whole body within the size limit and the body deadline. On false the error
    /// reply has been sent and the connection will close.
    bool read_body(std::string& body);
    void send(int status, std::string_view content_type, std::string_view body);
    void send_json(int status, const json::value& value);
    void send_error(int status, std::string_view code, std::string_view message);
    /// An engine or plugin error with its contract status (internal errors without details).
    void send_error(const sdk::Error& error);
    bool sent() const { return status != 0; }
    /// After replying without reading the whole body: stop sending, read and drop what the client
    /// still sends for a moment, so it sees the reply instead of a reset.
    void linger();
};

/// One instance of every channel plugin that mounts process-wide routes.
class ProcessChannels {
public:
    explicit ProcessChannels(const PluginRegistry& registry);
    ~ProcessChannels();

    struct Mount {
        std::string method;
        std::string plugin;
        sdk::Channel* channel;
    };
    /// The mounts at exactly `path`, or null.
    const std::vector<Mount>* find(const std::string& path) const;

private:
    struct Holder;
    std::vector<std::unique_ptr<Holder>> holders_;
    std::map<std::string, std::vector<Mount>> mounts_;
};

/// The request handlers. Each sends exactly one response (or an event stream).
struct Routes {
    Routes(Engine& engine_, const ProcessChannels& channels_)
        : engine(engine_), channels(channels_), started(std::chrono::steady_clock::now()) {}

    Engine& engine;
    const ProcessChannels& channels;
    std::chrono::steady_clock::time_point started;
    std::atomic<int> in_flight{0};  ///< requests being handled now (shown in /health/detailed)

    void dispatch(Exchange& ex);
    void chat(Exchange& ex, const std::string& tenant);
    void process_channel(Exchange& ex, const ProcessChannels::Mount& mount);
    void tenant_channel(Exchange& ex, const std::string& tenant, const std::string& plugin,
                        const std::string& subpath);
    void health(Exchange& ex);
    void health_detailed(Exchange& ex);
    void metrics(Exchange& ex);
};

/// The chat body's fields after checking their types.
struct ChatBody {
    std::string text;
    std::string user_id;
    std::string session_id;
    std::string message_id;
};
/// Errors: invalid_json, missing_field, invalid_field (wrong type), invalid_value (bad UTF-8 or
/// too long an id). The text's own checks (empty, length, UTF-8) are the engine's.
sdk::Result<ChatBody> parse_chat_body(std::string_view body);

}  // namespace tezgah::engine::http
