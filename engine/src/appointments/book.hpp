#pragma once
// The engine's booking service (docs/appointments.md, "Tools" and "Operator API"): the five tools
// of the `appointments` plugin with the contract's JSON, used by the plugin through the SDK
// (sdk::AppointmentBook, one per tenant that enables the tool) and by the operator routes
// (http/appointments_api.cpp). It resolves the service (an offering id, or the customer's words
// matched as the catalog matches them), checks the date and time against availability, books
// through the store's locked transaction (appointments/store.hpp), offers the nearest free
// alternatives on a refusal, keeps each customer to their own appointments, and publishes
// `appointment` events.

#include "appointments/availability.hpp"
#include "appointments/store.hpp"
#include "tenants/tenant.hpp"
#include "util/events.hpp"

#include <tezgah/sdk/host.hpp>

#include <boost/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tezgah::engine::appointments {

namespace json = boost::json;

/// The tenant's `appointments` settings (its `tools` entry {"name": "appointments", ...}, defaults
/// filled); none when the tenant does not enable the tool.
std::optional<Settings> settings_of(const Tenant& tenant);

/// The contract's Slot JSON: {"date", "time" (the tenant's wall clock), "start", "end" (ISO 8601
/// with offset), "resource", "resource_name", "places_left"}.
json::object slot_json(const Slot& slot, const sdk::Resource& resource, const std::string& timezone);

/// Who asks. A customer (`by` "customer") sees and changes only the appointments booked with
/// their own user_id in this tenant; an operator (`by` "operator") any of the tenant's.
struct Actor {
    std::string by = "customer";  ///< customer | operator (the events' `by`)
    std::string user_id;          ///< the customer; an operator's booking may name one (else "")
    std::string channel;          ///< stored with a booking ("" for an operator's, unless given)
    std::string conversation_id;  ///< stored with a booking and sent with the events
    std::string language;         ///< "tr" or "en": the messages; empty: the tenant's default

    bool is_operator() const { return by == "operator"; }
    /// The turn's customer, as the plugin's calls come.
    static Actor customer(const sdk::TurnContext& turn);
    static Actor operator_(std::string language = {});
};

/// The operator's PATCH: each set field changes.
struct AppointmentPatch {
    std::optional<std::string> date;  ///< with time: a move (reschedule)
    std::optional<std::string> time;
    std::optional<std::string> status;  ///< confirmed | cancelled | completed | no_show
    std::optional<std::string> notes;
};

/// The booking service of the engine, for every tenant. Thread-safe; it keeps no state of its own
/// beyond the references it was given.
class Bookings : public AppointmentBooks {
public:
    using Now = std::function<TimePoint()>;
    /// `now`: the engine's clock (tests fix it).
    Bookings(Database& db, EventHub& events, Now now);

    // --- the five tools (sdk::AppointmentBook), JSON in and out as in the contract. Errors:
    // invalid_argument (a malformed date or time, an empty name or phone), not_found (an unknown
    // service; an appointment id unknown or another customer's), store_error. A refusal (a taken
    // or past time...) is an answer with a reason, a message in the actor's language and the
    // nearest alternatives, never a booking. ---
    sdk::Result<json::value> check_availability(const Tenant& tenant, const json::object& arguments,
                                                const Actor& actor);
    sdk::Result<json::value> create_appointment(const Tenant& tenant, const json::object& arguments,
                                                const Actor& actor);
    sdk::Result<json::value> list_my_appointments(const Tenant& tenant, const json::object& arguments,
                                                  const Actor& actor);
    sdk::Result<json::value> cancel_appointment(const Tenant& tenant, const json::object& arguments,
                                                const Actor& actor);
    sdk::Result<json::value> reschedule_appointment(const Tenant& tenant, const json::object& arguments,
                                                    const Actor& actor);

    // --- the operator side (http/appointments_api.cpp) ---
    /// check_availability over `days` days from `date` (1..60; more than one: slots over the range).
    sdk::Result<json::value> availability(const Tenant& tenant, const std::string& service,
                                          const std::string& date, int days, const Actor& actor);
    /// The tenant's appointment `id` as JSON; not_found when it has none.
    sdk::Result<json::object> appointment_json(const Tenant& tenant, const std::string& id);
    /// The tenant's appointments as JSON, earliest first.
    sdk::Result<json::array> appointments_json(const Tenant& tenant, const AppointmentFilter& filter);
    /// An operator's change: a move (when date and time are given: {"rescheduled": false, ...} on a
    /// refusal, as reschedule_appointment answers), a status, notes. {"appointment": {...}} when
    /// done. Errors: not_found, invalid_argument.
    sdk::Result<json::value> update(const Tenant& tenant, const std::string& id,
                                    const AppointmentPatch& patch, const Actor& actor);

    /// The tenant's sdk::AppointmentBook (AppointmentBooks): null when it does not enable the tool.
    std::unique_ptr<sdk::AppointmentBook> book_for(const Tenant& tenant) override;

    Database& database() { return db_; }
    EventHub& events() { return events_; }
    TimePoint now() const { return now_(); }

private:
    Database& db_;
    EventHub& events_;
    Now now_;
};

}  // namespace tezgah::engine::appointments
