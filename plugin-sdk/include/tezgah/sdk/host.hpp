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

struct TurnContext;

/// ABI 1.6: the host's booking service for one tenant (docs/appointments.md, "Tools"). The
/// `appointments` tool plugin forwards its five tools here: the host holds the appointments, keeps
/// two customers from the same place, and answers in the contract's JSON. Arguments have been
/// checked against the tool's schema; `turn` names the customer (tenant + user_id), the channel,
/// the conversation and the language of the messages. A refusal (a taken time, a past date) is an
/// answer, not an error; errors are `invalid_argument` (a malformed date or time, an empty name or
/// phone) and `not_found` (an unknown service, an appointment that is not this customer's). Owned
/// by the host; safe to call from several threads at once.
class AppointmentBook {
public:
    virtual ~AppointmentBook();
    /// `{service, date, time?}` → the free slots of that day, the requested time's verdict, the
    /// nearest alternatives.
    virtual Result<json::value> check_availability(const json::object& arguments,
                                                   const TurnContext& turn) = 0;
    /// `{service, date, time, customer_name, customer_phone, notes?}` → booked, or refused with the
    /// reason and alternatives.
    virtual Result<json::value> create_appointment(const json::object& arguments,
                                                   const TurnContext& turn) = 0;
    /// `{}` → the customer's confirmed appointments from now on, earliest first.
    virtual Result<json::value> list_my_appointments(const json::object& arguments,
                                                     const TurnContext& turn) = 0;
    /// `{appointment_id}` → cancelled (with the business's cancellation policy), or why not.
    virtual Result<json::value> cancel_appointment(const json::object& arguments,
                                                   const TurnContext& turn) = 0;
    /// `{appointment_id, date, time}` → moved (same id), or refused with the reason and alternatives.
    virtual Result<json::value> reschedule_appointment(const json::object& arguments,
                                                       const TurnContext& turn) = 0;
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
    /// ABI 1.6: the tenant's booking service, or null when the tenant does not enable
    /// appointments (or the host has none). Appended and not pure: a host built for 1.5 has no
    /// such entry, and a plugin built for 1.5 never calls it. Owned by the host.
    virtual AppointmentBook* appointments() { return nullptr; }
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
