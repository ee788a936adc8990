#pragma once
/// @file host.hpp
/// Services the engine hands to every plugin instance. The host owns them; a plugin keeps the
/// reference for its own lifetime, which the host guarantees is shorter than theirs.

#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::sdk {

enum class LogLevel { trace, debug, info, warn, error };

/// A logger named `<kind>.<name>[tenant]`; lines are JSON with the current request id.
class Logger {
public:
    virtual ~Logger();
    virtual void log(LogLevel level, std::string_view message) = 0;
    void debug(std::string_view m) { log(LogLevel::debug, m); }
    void info(std::string_view m) { log(LogLevel::info, m); }
    void warn(std::string_view m) { log(LogLevel::warn, m); }
    void error(std::string_view m) { log(LogLevel::error, m); }
};

/// Wall-clock time; replaceable in tests.
class Clock {
public:
    virtual ~Clock();
    virtual std::chrono::system_clock::time_point now() const = 0;
};

/// What a tenant's manifest says about the business, for tools and providers.
struct TenantProfile {
    std::string id;
    std::string name;
    std::string language = "tr";         ///< default language
    std::vector<std::string> languages;  ///< languages it answers in
    std::string timezone = "UTC";
    std::string currency = "TRY";
    std::string phone;
    std::string email;
    std::string address;
    std::map<std::string, std::string> hours;               ///< "mon".."sun" -> "HH:MM-HH:MM" | "closed"
    std::vector<std::pair<std::string, std::string>> info;  ///< business.info, in manifest order
    Persona persona;
    double handoff_confidence_threshold = 0;
    std::vector<std::string> handoff_topics;
    std::vector<Resource> resources;  ///< data.resources: people, rooms, equipment
};

/// An outbound HTTP request (providers, channels that send).
struct OutboundRequest {
    std::string method = "POST";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int timeout_ms = 20000;
    /// When set, the body of a successful (2xx) response is delivered in pieces as it arrives
    /// (server-sent events); an error's body comes back whole in HttpResponse::body only.
    std::function<void(std::string_view chunk)> on_chunk;
};

/// An HTTP response, inbound (channels) or outbound (HttpClient).
struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string content_type = "application/json";
    std::string body;
};

/// A blocking HTTP client. Errors are transport failures; HTTP statuses come back as responses.
class HttpClient {
public:
    virtual ~HttpClient();
    virtual Result<HttpResponse> send(const OutboundRequest& request) = 0;
};

/// Everything the host lends a plugin instance.
class HostServices {
public:
    virtual ~HostServices();
    virtual Logger& logger() = 0;
    /// The tenant this instance serves; an empty profile for process-wide channel instances.
    virtual const TenantProfile& tenant() const = 0;
    virtual const CatalogStore& catalog() const = 0;
    virtual const KnowledgeStore& knowledge() const = 0;
    virtual const Clock& clock() const = 0;
    virtual HttpClient& http() = 0;
    /// Whether the business is open at `when`, in the tenant's time zone and hours.
    virtual bool is_open_at(std::chrono::system_clock::time_point when) const = 0;
};

/// The turn a plugin is called in. Owned by the host; valid only during the call.
struct TurnContext {
    std::string tenant_id;
    std::string user_id;
    std::string session_id;
    std::string conversation_id;
    std::string language;
    std::string channel;
    json::object* session = nullptr;  ///< the conversation's session state; tools may write to it
};

}  // namespace tezgah::sdk
