// The `appointments` tool plugin: the five booking tools a model or the offline assistant calls,
// with schemas and descriptions a model can follow. The engine does the booking (its booking
// service, reached through HostServices::appointments(), ABI 1.6): it holds the appointments,
// keeps two customers from the last place, and answers in the contract's JSON. This plugin
// declares the tools and the settings (`slot_minutes`, `min_notice_minutes`, `max_days_ahead`,
// `closures`, `reminder_hours`) that the engine reads from the manifest, and forwards each call.
#include <tezgah/sdk/sdk.hpp>

#include <cctype>
#include <string>
#include <vector>

namespace tezgah::plugins::appointments {
namespace {

namespace json = boost::json;
using sdk::Error;
using sdk::Result;

const char* const kCheckSchema = R"({
  "type": "object",
  "properties": {
    "service": {"type": "string", "minLength": 1, "maxLength": 200,
                "description": "The service: its id, or the customer's own words for it (e.g. 'reformer', 'hatha yoga', 'saç kesimi')."},
    "date": {"type": "string",
             "description": "The day, YYYY-MM-DD, on the business's calendar (its time zone). Work out 'tomorrow', 'yarın', 'next Tuesday' yourself from today's date."},
    "time": {"type": "string",
             "description": "Optional: the time the customer wants, HH:MM, 24-hour, business's time zone ('akşam 7' is 19:00). Omit to list the day's free times."}
  },
  "required": ["service", "date"],
  "additionalProperties": false
})";

const char* const kCreateSchema = R"({
  "type": "object",
  "properties": {
    "service": {"type": "string", "minLength": 1, "maxLength": 200,
                "description": "The service: its id, or the customer's own words for it."},
    "date": {"type": "string",
             "description": "The day, YYYY-MM-DD, on the business's calendar."},
    "time": {"type": "string",
             "description": "The start time, HH:MM, 24-hour, business's time zone."},
    "customer_name": {"type": "string", "minLength": 1, "maxLength": 200,
                      "description": "The customer's name, as they gave it. Ask for it; never invent one."},
    "customer_phone": {"type": "string", "minLength": 1, "maxLength": 40,
                       "description": "The customer's phone number, as they gave it (on WhatsApp, their own number)."},
    "notes": {"type": "string", "maxLength": 1000,
              "description": "Optional: anything the customer wants the business to know."}
  },
  "required": ["service", "date", "time", "customer_name", "customer_phone"],
  "additionalProperties": false
})";

const char* const kListSchema = R"({
  "type": "object",
  "properties": {},
  "additionalProperties": false
})";

const char* const kCancelSchema = R"({
  "type": "object",
  "properties": {
    "appointment_id": {"type": "string", "minLength": 1, "maxLength": 100,
                       "description": "The appointment's id (apt_...), from list_my_appointments or the booking."}
  },
  "required": ["appointment_id"],
  "additionalProperties": false
})";

const char* const kRescheduleSchema = R"({
  "type": "object",
  "properties": {
    "appointment_id": {"type": "string", "minLength": 1, "maxLength": 100,
                       "description": "The appointment's id (apt_...), from list_my_appointments or the booking."},
    "date": {"type": "string",
             "description": "The new day, YYYY-MM-DD, on the business's calendar."},
    "time": {"type": "string",
             "description": "The new start time, HH:MM, 24-hour, business's time zone."}
  },
  "required": ["appointment_id", "date", "time"],
  "additionalProperties": false
})";

json::object parse_schema(const char* text) { return json::parse(text).as_object(); }

class AppointmentsTool final : public sdk::Tool {
public:
    explicit AppointmentsTool(sdk::HostServices& host) : host_(host) {}

    /// Nothing is cacheable: the answers change with every booking. Only the two that read are
    /// read-only.
    std::vector<sdk::ToolSpec> specs() const override {
        return {
            {.name = "check_availability",
             .description =
                 "Free times for a service on a day (the business's calendar and time zone), or whether one "
                 "time is free. When the time is not free the answer gives the reason, a 'message' to pass "
                 "on to the customer, and up to 3 nearest free 'alternatives'. Call it before offering "
                 "times.",
             .parameters = parse_schema(kCheckSchema),
             .read_only = true,
             .cacheable = false},
            {.name = "create_appointment",
             .description =
                 "Books the service at that date and time for the customer. Before calling it, tell the "
                 "customer the service, day, time and name and ask them to confirm; call it only after they "
                 "say yes. Answers {booked: true, appointment} or {booked: false, reason, message, "
                 "alternatives}: when refused, pass the message on and offer the alternatives; nothing was "
                 "booked.",
             .parameters = parse_schema(kCreateSchema),
             .read_only = false,
             .cacheable = false},
            {.name = "list_my_appointments",
             .description =
                 "This customer's own upcoming appointments (ids, services, times). Use it before cancelling "
                 "or moving one, to find its id.",
             .parameters = parse_schema(kListSchema),
             .read_only = true,
             .cacheable = false},
            {.name = "cancel_appointment",
             .description =
                 "Cancels one of this customer's appointments, after they confirmed which one. Answers "
                 "{cancelled: true, appointment, policy, late}: tell the customer it is cancelled and, when "
                 "'late' is true, what the cancellation 'policy' says; or {cancelled: false, reason}.",
             .parameters = parse_schema(kCancelSchema),
             .read_only = false,
             .cacheable = false},
            {.name = "reschedule_appointment",
             .description =
                 "Moves one of this customer's appointments to another date and time (same service, same "
                 "person), after they confirmed. Answers {rescheduled: true, appointment, previous} or "
                 "{rescheduled: false, reason, message, alternatives}: when refused, the appointment stays "
                 "where it was; pass the message on and offer the alternatives.",
             .parameters = parse_schema(kRescheduleSchema),
             .read_only = false,
             .cacheable = false},
        };
    }

    Result<json::value> invoke(const sdk::ToolCall& call, sdk::TurnContext& turn) override {
        auto* book = host_.appointments();
        if (book == nullptr)
            return Error{
                "unavailable",
                "appointments: this host offers no booking service (an engine older than ABI 1.6, or "
                "appointments are not enabled for this tenant)"};
        const auto& args = call.arguments;
        if (call.name == "check_availability") return book->check_availability(args, turn);
        if (call.name == "create_appointment") return book->create_appointment(args, turn);
        if (call.name == "list_my_appointments") return book->list_my_appointments(args, turn);
        if (call.name == "cancel_appointment") return book->cancel_appointment(args, turn);
        if (call.name == "reschedule_appointment") return book->reschedule_appointment(args, turn);
        return Error{"invalid_argument", "appointments: unknown tool '" + call.name + "'"};
    }

private:
    sdk::HostServices& host_;
};

/// A strict YYYY-MM-DD that is a real date.
bool is_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (i != 4 && i != 7 && !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    const int year = std::stoi(std::string(text.substr(0, 4)));
    const int month = std::stoi(std::string(text.substr(5, 2)));
    const int day = std::stoi(std::string(text.substr(8, 2)));
    if (month < 1 || month > 12 || day < 1) return false;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

const sdk::ConfigKey kConfig[] = {
    {.name = "slot_minutes",
     .type = sdk::ConfigType::integer,
     .default_json = "30",
     .description = "Private sessions start every this many minutes from the opening time.",
     .minimum = sdk::bound(5),
     .maximum = sdk::bound(240)},
    {.name = "min_notice_minutes",
     .type = sdk::ConfigType::integer,
     .default_json = "60",
     .description = "No booking starts sooner than this after now.",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(20160)},
    {.name = "max_days_ahead",
     .type = sdk::ConfigType::integer,
     .default_json = "60",
     .description = "No booking on a day later than today plus this many days (the business's today).",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(366)},
    {.name = "closures",
     .type = sdk::ConfigType::string_list,
     .default_json = "[]",
     .description = "Days the business is closed, YYYY-MM-DD: no bookings then."},
    {.name = "reminder_hours",
     .type = sdk::ConfigType::integer,
     .default_json = "24",
     .description = "Customers are reminded this many hours before their appointment (0: no reminders).",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(168)},
};

Result<sdk::PluginPtr> make_appointments(const json::object& config, sdk::HostServices& host) {
    const auto closures = sdk::ConfigView(config).strings("closures");
    for (std::size_t i = 0; i < closures.size(); ++i)
        if (!is_date(closures[i]))
            return Error{sdk::errc::invalid_config, "closures[" + std::to_string(i) + "]: \"" + closures[i] +
                                                        "\" is not a date YYYY-MM-DD"};
    return sdk::PluginPtr(std::make_unique<AppointmentsTool>(host));
}

}  // namespace
}  // namespace tezgah::plugins::appointments

TEZGAH_PLUGIN("appointments", tool, "1.0.0",
              "Bookings: check_availability, create_appointment, list_my_appointments, cancel_appointment, "
              "reschedule_appointment",
              tezgah::plugins::appointments::kConfig, &tezgah::plugins::appointments::make_appointments);
