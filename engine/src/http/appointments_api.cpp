// The operator API for appointments, under /v1/tenants/{tenant} (docs/appointments.md, "Operator
// API"): GET /availability, GET|POST /appointments, GET|PATCH|DELETE /appointments/{id}. Keys of
// the tenant: appointments:read to read, appointments:write to book and change. The booking
// service (appointments/book.hpp) does the work, with the same checks as the customers' tools and
// the same locked transaction: a taken time is 409 with the nearest free alternatives.
#include "http/exchange.hpp"
#include "http/request_parts.hpp"

#include "appointments/book.hpp"
#include "pipeline/engine.hpp"
#include "util/local_days.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>

namespace tezgah::engine::http {
namespace {

namespace apt = appointments;

constexpr std::size_t kMaxList = 1000;  ///< appointments in one GET /appointments
constexpr int kMaxListDays = 366;

bool sane_id(std::string_view id) {
    return !id.empty() && id.size() <= 200 && sdk::text::valid_utf8(id) &&
           id.find('\0') == std::string_view::npos;
}

/// The booking service's errors as the operator API answers them: a malformed argument is the
/// request's fault (400), an unknown service or appointment 404, the rest as everywhere.
void send_booking_error(Exchange& ex, const sdk::Error& error) {
    if (error.code == "invalid_argument") return ex.send_error(400, "invalid_field", error.message);
    ex.send_error(error);
}

/// A refusal (`reason`, `message`, `alternatives`) as 409 (taken) or 422 (any other reason), with
/// the alternatives beside the error.
void send_refusal(Exchange& ex, const json::object& refusal) {
    const auto* reason = refusal.if_contains("reason");
    const std::string code = reason && reason->is_string() ? std::string(reason->get_string()) : "taken";
    const auto* message = refusal.if_contains("message");
    const auto* alternatives = refusal.if_contains("alternatives");
    const bool taken = code == "taken";
    json::object body{
        {"error", json::object{{"code", taken ? "slot_taken" : code},
                               {"message", message && message->is_string() ? message->get_string() : ""},
                               {"request_id", ex.request_id}}},
        {"alternatives", alternatives ? *alternatives : json::array{}}};
    ex.send_json(taken ? 409 : 422, body);
}

/// The body's string fields among `allowed`; otherwise answers 400 naming the field and returns none.
std::optional<std::map<std::string, std::string>> string_fields(
    Exchange& ex, const json::object& body, std::initializer_list<std::string_view> allowed) {
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : body) {
        if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
            std::string names;
            for (auto name : allowed) names += (names.empty() ? "" : ", ") + std::string(name);
            ex.send_error(400, "invalid_field",
                          "body: unknown field \"" + std::string(key) + "\" (" + names + ")");
            return std::nullopt;
        }
        if (!value.is_string()) {
            ex.send_error(400, "invalid_field", std::string(key) + ": expected a string");
            return std::nullopt;
        }
        const std::string_view text = value.get_string();
        if (!sdk::text::valid_utf8(text) || text.find('\0') != std::string_view::npos) {
            ex.send_error(400, "invalid_field", std::string(key) + ": not valid UTF-8 text");
            return std::nullopt;
        }
        out[std::string(key)] = std::string(text);
    }
    return out;
}

}  // namespace

bool Routes::appointments_route(Exchange& ex, const std::string& tenant_id, std::string_view rest) {
    constexpr std::string_view kAppointments = "/appointments";
    enum class Kind { availability, list, one } kind;
    std::string id;
    if (rest == "/availability") {
        kind = Kind::availability;
        ex.route = "/v1/tenants/{tenant}/availability";
    } else if (rest == kAppointments) {
        kind = Kind::list;
        ex.route = "/v1/tenants/{tenant}/appointments";
    } else if (rest.starts_with(std::string(kAppointments) + "/") &&
               rest.find('/', kAppointments.size() + 1) == std::string_view::npos) {
        kind = Kind::one;
        id = std::string(rest.substr(kAppointments.size() + 1));
        ex.route = "/v1/tenants/{tenant}/appointments/{id}";
    } else {
        return false;
    }
    ex.tenant = tenant_id;
    switch (kind) {
        case Kind::availability:
            if (!allow_methods(ex, {"GET"})) return true;
            break;
        case Kind::list:
            if (!allow_methods(ex, {"GET", "POST"})) return true;
            break;
        case Kind::one:
            if (!allow_methods(ex, {"GET", "PATCH", "DELETE"})) return true;
            break;
    }
    const bool reads = ex.request.method == "GET";
    if (!authorize(ex, tenant_id, reads ? "appointments:read" : "appointments:write")) return true;
    auto tenant = engine.tenant(tenant_id);
    if (!tenant) {
        ex.send_error(tenant.error());
        return true;
    }
    if (kind == Kind::one && !sane_id(id)) {
        ex.send_error(404, "not_found", "no such appointment");
        return true;
    }
    const auto params = query_params_or_answer(ex);
    if (!params) return true;
    const Tenant& t = **tenant;
    if (kind == Kind::availability) {
        availability_route(ex, t, *params);
    } else if (kind == Kind::list) {
        if (reads)
            list_appointments_route(ex, t, *params);
        else
            book_route(ex, t);
    } else if (ex.request.method == "GET") {
        auto found = engine.bookings().appointment_json(t, id);
        if (!found) return send_booking_error(ex, found.error()), true;
        ex.send_json(200, json::object{{"appointment", std::move(found).value()}});
    } else {
        change_appointment_route(ex, t, id);
    }
    return true;
}

void Routes::availability_route(Exchange& ex, const Tenant& tenant,
                                const std::map<std::string, std::string>& params) {
    const auto service = params.find("service");
    const auto date = params.find("date");
    if (service == params.end() || service->second.empty())
        return ex.send_error(400, "missing_field", "service: required (an offering id or name)");
    if (date == params.end() || date->second.empty())
        return ex.send_error(400, "missing_field", "date: required (YYYY-MM-DD)");
    int days = 1;
    if (auto it = params.find("days"); it != params.end()) {
        const auto& text = it->second;
        const bool digits =
            !text.empty() && text.size() <= 2 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        days = digits ? std::stoi(text) : 0;
        if (days < 1 || days > 60)
            return ex.send_error(400, "invalid_field", "days: expected a whole number from 1 to 60");
    }
    auto result =
        engine.bookings().availability(tenant, service->second, date->second, days, apt::Actor::operator_());
    if (!result) return send_booking_error(ex, result.error());
    ex.send_json(200, *result);
}

void Routes::list_appointments_route(Exchange& ex, const Tenant& tenant,
                                     const std::map<std::string, std::string>& params) {
    const std::string timezone = tenant.profile().timezone.empty() ? "UTC" : tenant.profile().timezone;
    apt::AppointmentFilter filter;
    filter.limit = kMaxList;
    std::optional<Day> from, to;
    for (const char* name : {"from", "to"}) {
        auto it = params.find(name);
        if (it == params.end() || it->second.empty()) continue;
        auto day = parse_day(it->second);
        if (!day)
            return ex.send_error(
                400, "invalid_field",
                std::string(name) + ": expected a date YYYY-MM-DD, got \"" + it->second.substr(0, 40) + "\"");
        (std::string_view(name) == "from" ? from : to) = *day;
    }
    if (from && to && days_between(*from, *to) < 0)
        return ex.send_error(400, "invalid_field", "from: " + from->str() + " is after to: " + to->str());
    if (from && to && days_between(*from, *to) + 1 > kMaxListDays)
        return ex.send_error(400, "invalid_field",
                             "from, to: at most " + std::to_string(kMaxListDays) + " days at once");
    // Days on the tenant's calendar; `to` is included.
    if (from) filter.from = day_start(*from, timezone);
    if (to) filter.to = day_start(add_days(*to, 1), timezone);
    if (auto it = params.find("status"); it != params.end() && !it->second.empty()) {
        if (!apt::valid_status(it->second))
            return ex.send_error(400, "invalid_field",
                                 "status: \"" + it->second.substr(0, 40) +
                                     "\" is not one of confirmed, cancelled, completed, no_show");
        filter.status = it->second;
    }
    if (auto it = params.find("resource"); it != params.end()) filter.resource = it->second;
    if (auto it = params.find("service"); it != params.end()) filter.service = it->second;
    auto list = engine.bookings().appointments_json(tenant, filter);
    if (!list) return send_booking_error(ex, list.error());
    ex.send_json(200, json::object{{"appointments", std::move(list).value()}});
}

void Routes::book_route(Exchange& ex, const Tenant& tenant) {
    auto body = json_object_body(ex);
    if (!body) return;
    auto fields = string_fields(
        ex, *body,
        {"service", "date", "time", "customer_name", "customer_phone", "notes", "channel", "user_id"});
    if (!fields) return;
    for (const char* required : {"service", "date", "time", "customer_name", "customer_phone"})
        if (!fields->count(required))
            return ex.send_error(400, "missing_field", std::string(required) + ": required");
    auto actor = apt::Actor::operator_();
    json::object arguments;
    for (const auto& [key, value] : *fields) {
        if (key == "channel")
            actor.channel = value;
        else if (key == "user_id")
            actor.user_id = value;
        else
            arguments[key] = value;
    }
    auto result = engine.bookings().create_appointment(tenant, arguments, actor);
    if (!result) return send_booking_error(ex, result.error());
    const auto& answer = result->as_object();
    if (answer.at("booked") != true) return send_refusal(ex, answer);
    ex.send_json(201, json::object{{"appointment", answer.at("appointment")}});
}

void Routes::change_appointment_route(Exchange& ex, const Tenant& tenant, const std::string& id) {
    apt::AppointmentPatch patch;
    if (ex.request.method == "DELETE") {
        patch.status = apt::kCancelled;
    } else {
        auto body = json_object_body(ex);
        if (!body) return;
        auto fields = string_fields(ex, *body, {"date", "time", "status", "notes"});
        if (!fields) return;
        if (fields->empty())
            return ex.send_error(400, "missing_field", "body: give date and time, status, or notes");
        for (auto& [key, value] : *fields) {
            auto& slot = key == "date"     ? patch.date
                         : key == "time"   ? patch.time
                         : key == "status" ? patch.status
                                           : patch.notes;
            slot = std::move(value);
        }
        if (patch.status && !apt::valid_status(*patch.status))
            return ex.send_error(422, "invalid_value",
                                 "status: \"" + patch.status->substr(0, 40) +
                                     "\" is not one of confirmed, cancelled, completed, no_show");
    }
    auto result = engine.bookings().update(tenant, id, patch, apt::Actor::operator_());
    if (!result) return send_booking_error(ex, result.error());
    const auto& answer = result->as_object();
    if (!answer.contains("appointment")) return send_refusal(ex, answer);
    ex.send_json(200, answer);
}

}  // namespace tezgah::engine::http
