// The booking service (appointments/book.hpp): the five tools' operations on the contract's JSON,
// for the `appointments` plugin (through sdk::AppointmentBook) and for the operator routes.
#include "appointments/book.hpp"

#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace tezgah::engine::appointments {
namespace {

namespace text = sdk::text;
using sdk::Error;
using sdk::Result;

constexpr std::size_t kAlternatives = 3;
/// When the asked day has nothing free, alternatives come from this many following days.
constexpr int kAlternativeDays = 14;
constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxPhoneChars = 40;
constexpr std::size_t kMaxNotesChars = 1000;
constexpr int kMaxRangeDays = 60;

bool english(const std::string& language) { return language == "en"; }

std::string language_of(const Actor& actor, const Tenant& tenant) {
    const std::string& chosen = actor.language.empty() ? tenant.profile().language : actor.language;
    return english(chosen) ? "en" : "tr";
}

std::string timezone_of(const Tenant& tenant) {
    return tenant.profile().timezone.empty() ? "UTC" : tenant.profile().timezone;
}

Error invalid(std::string message) { return Error{"invalid_argument", std::move(message)}; }

std::string string_arg(const json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    return value && value->is_string() ? std::string(text::trim(value->get_string())) : std::string();
}

/// "HH:MM" (or "H:MM") as minutes after midnight.
std::optional<int> parse_time(std::string_view time) {
    const auto colon = time.find(':');
    if (colon == std::string_view::npos || colon < 1 || colon > 2 || time.size() != colon + 3)
        return std::nullopt;
    for (std::size_t i = 0; i < time.size(); ++i)
        if (i != colon && !std::isdigit(static_cast<unsigned char>(time[i]))) return std::nullopt;
    const int hours = std::stoi(std::string(time.substr(0, colon)));
    const int minutes = std::stoi(std::string(time.substr(colon + 1)));
    if (hours > 23 || minutes > 59) return std::nullopt;
    return hours * 60 + minutes;
}

/// `en` when the turn speaks English, else Turkish: the message goes to the customer.
std::string say(bool en, std::string english, std::string turkish) {
    return en ? std::move(english) : std::move(turkish);
}

Result<Day> date_arg(const json::object& args, bool en) {
    const std::string value = string_arg(args, "date");
    if (value.empty())
        return invalid(say(en, "date: required, as YYYY-MM-DD", "date: gerekli, YYYY-AA-GG biçiminde"));
    auto day = parse_day(value);
    const std::string shown = value.substr(0, 40);
    if (!day)
        return invalid(say(en, "date: expected a date YYYY-MM-DD, got \"" + shown + "\"",
                           "date: \"" + shown + "\" bir tarih değil; YYYY-AA-GG biçiminde olmalı"));
    return *day;
}

Result<int> time_arg(const json::object& args, bool en) {
    const std::string value = string_arg(args, "time");
    if (value.empty())
        return invalid(
            say(en, "time: required, as HH:MM (24-hour)", "time: gerekli, SS:DD biçiminde (24 saat)"));
    auto minutes = parse_time(value);
    const std::string shown = value.substr(0, 40);
    if (!minutes)
        return invalid(say(en, "time: expected HH:MM (24-hour), got \"" + shown + "\"",
                           "time: \"" + shown + "\" bir saat değil; SS:DD biçiminde olmalı (24 saat)"));
    return *minutes;
}

std::string hhmm(int minutes) { return fmt::format("{:02}:{:02}", minutes / 60, minutes % 60); }

/// A day as people read it: "3 Aralık" / "Dec 3".
std::string day_words(const Day& day, const std::string& language) {
    static constexpr std::array<const char*, 12> kTr = {"Ocak",  "Şubat",   "Mart",   "Nisan",
                                                        "Mayıs", "Haziran", "Temmuz", "Ağustos",
                                                        "Eylül", "Ekim",    "Kasım",  "Aralık"};
    static constexpr std::array<const char*, 12> kEn = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto month = std::clamp<unsigned>(day.month, 1, 12) - 1;
    return english(language) ? fmt::format("{} {}", kEn[month], day.day)
                             : fmt::format("{} {}", day.day, kTr[month]);
}

/// Why the business's `business.info` says cancelling costs: the entry whose key folds to
/// "iptal…" or "cancel…" (the catalog tool answers the same entry for "cancel").
std::string cancellation_policy(const sdk::TenantProfile& profile) {
    for (const auto& [key, value] : profile.info) {
        const std::string folded = text::fold(key);
        if (folded.starts_with("iptal") || folded.starts_with("cancel")) return value;
    }
    return {};
}

/// The notice the policy asks for, when it names one: "12 saat", "24 hours", "1 gün", "2 days".
std::optional<std::chrono::minutes> policy_notice(const std::string& policy) {
    const std::string folded = text::fold(policy);
    for (std::size_t i = 0; i < folded.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(folded[i])) ||
            (i > 0 && std::isdigit(static_cast<unsigned char>(folded[i - 1]))))
            continue;
        std::size_t j = i;
        while (j < folded.size() && std::isdigit(static_cast<unsigned char>(folded[j]))) ++j;
        if (j - i > 4) continue;
        const long amount = std::stol(folded.substr(i, j - i));
        std::size_t k = j;
        while (k < folded.size() && (folded[k] == ' ' || folded[k] == '-')) ++k;
        const std::string_view unit = std::string_view(folded).substr(k);
        if (unit.starts_with("saat") || unit.starts_with("hour") || unit.starts_with("hr") ||
            (unit.starts_with("h") &&
             (unit.size() == 1 || !std::isalpha(static_cast<unsigned char>(unit[1])))))
            return std::chrono::hours(amount);
        if (unit.starts_with("gun") || unit.starts_with("day")) return std::chrono::hours(24 * amount);
        if (unit.starts_with("dakika") || unit.starts_with("min")) return std::chrono::minutes(amount);
    }
    return std::nullopt;
}

const sdk::Resource* find_resource(const Tenant& tenant, const std::string& id) {
    for (const auto& resource : tenant.profile().resources)
        if (resource.id == id) return &resource;
    return nullptr;
}

/// An offering a customer can book: a service with a duration, still offered.
bool bookable(const sdk::Offering& offering) {
    return offering.available && offering.duration_min && *offering.duration_min > 0 &&
           offering.type != "PRODUCT";
}

Names names_of(const Tenant& tenant, const Appointment& a, const std::string& language) {
    Names names;
    if (auto service = tenant.catalog().get(a.service_id)) names.service = service->name_in(language);
    if (const auto* resource = find_resource(tenant, a.resource_id)) names.resource = resource->name;
    return names;
}

/// What a question about one service needs, resolved once.
struct Service {
    sdk::Offering offering;
    const sdk::Resource* resource = nullptr;
    bool group() const { return !offering.schedule.empty(); }
    std::chrono::minutes duration() const { return std::chrono::minutes(offering.duration_min.value_or(0)); }
};

}  // namespace

std::optional<Settings> settings_of(const Tenant& tenant) {
    for (const auto& ref : tenant.manifest().tools) {
        if (ref.name != "appointments") continue;
        Settings settings;
        const auto integer = [&](const char* key, int& into) {
            if (const auto* v = ref.config.if_contains(key); v && v->is_number()) into = v->to_number<int>();
        };
        integer("slot_minutes", settings.slot_minutes);
        integer("min_notice_minutes", settings.min_notice_minutes);
        integer("max_days_ahead", settings.max_days_ahead);
        integer("reminder_hours", settings.reminder_hours);
        if (settings.slot_minutes < 1) settings.slot_minutes = 30;
        if (const auto* closures = ref.config.if_contains("closures"); closures && closures->is_array()) {
            for (const auto& item : closures->get_array())
                if (item.is_string())
                    if (auto day = parse_day(item.get_string())) settings.closures.push_back(*day);
        }
        return settings;
    }
    return std::nullopt;
}

json::object slot_json(const Slot& slot, const sdk::Resource& resource, const std::string& timezone) {
    return json::object{{"date", day_at(slot.start, timezone).str()},
                        {"time", hhmm_local(slot.start, timezone)},
                        {"start", iso_local(slot.start, timezone)},
                        {"end", iso_local(slot.end, timezone)},
                        {"resource", resource.id},
                        {"resource_name", resource.name},
                        {"places_left", slot.places_left}};
}

Actor Actor::customer(const sdk::TurnContext& turn) {
    Actor actor;
    actor.by = "customer";
    actor.user_id = turn.user_id;
    actor.channel = turn.channel;
    actor.conversation_id = turn.conversation_id;
    actor.language = turn.language;
    return actor;
}

Actor Actor::operator_(std::string language) {
    Actor actor;
    actor.by = "operator";
    actor.language = std::move(language);
    return actor;
}

namespace {

/// One question of a tool call, with everything resolved: the tenant, the service, the settings,
/// the clock, the language. Holds the logic that check, create and reschedule share.
class Desk {
public:
    Desk(Bookings& bookings, const Tenant& tenant, const Actor& actor, Settings settings)
        : bookings_(bookings),
          tenant_(tenant),
          actor_(actor),
          settings_(std::move(settings)),
          language_(language_of(actor, tenant)),
          timezone_(timezone_of(tenant)),
          now_(bookings.now()),
          today_(day_at(now_, timezone_)) {}

    const std::string& language() const { return language_; }
    const std::string& timezone() const { return timezone_; }
    TimePoint now() const { return now_; }
    bool en() const { return english(language_); }

    /// The service the customer named: an offering id, else the catalog's best match among the
    /// bookable services. not_found names the services there are.
    Result<Service> service(const std::string& wanted) const {
        if (text::fold(wanted).empty())
            return invalid(en() ? "service: required: a service's id or name"
                                : "service: gerekli: hizmetin adı");
        std::optional<sdk::Offering> found;
        if (auto exact = tenant_.catalog().get(wanted); exact && bookable(*exact)) found = std::move(exact);
        if (!found) {
            for (auto& match : tenant_.catalog().find(wanted, language_, 10)) {
                if (bookable(match.offering)) {
                    found = std::move(match.offering);
                    break;
                }
            }
        }
        if (!found) {
            std::string known;
            for (const auto& offering : tenant_.catalog().all()) {
                if (!bookable(offering)) continue;
                known += (known.empty() ? "" : ", ") + offering.name_in(language_) + " (" + offering.id + ")";
            }
            return Error{sdk::errc::not_found,
                         "service: no service matches \"" + wanted.substr(0, 80) +
                             "\"; the services are: " + (known.empty() ? "none" : known)};
        }
        return with_resource(std::move(*found));
    }

    Result<Service> with_resource(sdk::Offering offering) const {
        const auto* resource = find_resource(tenant_, offering.provider);
        if (resource == nullptr)
            return Error{sdk::errc::not_found, "service \"" + offering.id + "\": its provider \"" +
                                                   offering.provider +
                                                   "\" is not among the business's resources"};
        return Service{std::move(offering), resource};
    }

    /// The availability question for `days` days from `from`, with the resource's appointments.
    Result<Query> query(const Service& service, const Day& from, int days) const {
        Query q;
        q.service = &service.offering;
        q.resource = service.resource;
        q.business_hours = &tenant_.profile().hours;
        q.timezone = timezone_;
        q.settings = settings_;
        q.from = from;
        q.days = std::max(days, 1);
        q.now = now_;
        // A day or two either side: an appointment of the evening before may hold into the range.
        auto busy = busy_intervals(bookings_.database(), tenant_.id(), service.resource->id,
                                   day_start(add_days(from, -1), timezone_),
                                   day_start(add_days(from, q.days + 1), timezone_));
        if (!busy) return busy.error();
        q.busy = std::move(busy).value();
        return q;
    }

    /// The first free slots from `from` on, at most `count`, within the horizon.
    std::vector<Slot> first_free(const Service& service, Day from, std::size_t count) const {
        if (days_between(from, today_) > 0) from = today_;
        const int left = settings_.max_days_ahead - days_between(today_, from) + 1;
        if (left <= 0) return {};
        auto q = query(service, from, std::min(left, kAlternativeDays));
        if (!q) return {};
        auto slots = free_slots(*q);
        if (slots.size() > count) slots.resize(count);
        return slots;
    }

    /// The nearest free slots to `start` on its day; when that day has none, the first free ones of
    /// the following days (for a day beyond the horizon, of the horizon's last week). `except`: a
    /// Busy to leave out (the appointment being moved).
    std::vector<Slot> alternatives(const Service& service, const Day& day, std::optional<TimePoint> start,
                                   const Busy* except = nullptr) const {
        std::vector<Slot> nearest;
        if (auto q = query(service, day, 1)) {
            if (except != nullptr) leave_out(q->busy, *except);
            nearest = start ? nearest_slots(*q, *start, kAlternatives) : free_slots(*q);
            if (nearest.size() > kAlternatives) nearest.resize(kAlternatives);
        }
        if (!nearest.empty()) return nearest;
        if (day_refusal(day) == Refusal::too_far)
            return first_free(service, add_days(today_, std::max(0, settings_.max_days_ahead - 6)),
                              kAlternatives);
        return first_free(service, add_days(day, 1), kAlternatives);
    }

    static void leave_out(std::vector<Busy>& busy, const Busy& except) {
        const auto it = std::find_if(busy.begin(), busy.end(), [&](const Busy& b) {
            return b.start == except.start && b.end == except.end && b.service == except.service;
        });
        if (it != busy.end()) busy.erase(it);
    }

    json::array slots_json(const std::vector<Slot>& slots, const Service& service) const {
        json::array out;
        for (const auto& slot : slots) out.push_back(slot_json(slot, *service.resource, timezone_));
        return out;
    }

    /// "10:00, 11:00" on the asked day, "4 Aralık 10:00" on another.
    std::string list_times(const std::vector<Slot>& slots, const Day& day) const {
        std::string out;
        for (const auto& slot : slots) {
            const Day on = day_at(slot.start, timezone_);
            std::string item = hhmm_local(slot.start, timezone_);
            if (on.str() != day.str()) item = day_words(on, language_) + " " + item;
            out += (out.empty() ? "" : ", ") + item;
        }
        return out;
    }

    /// Why `time` on `day` cannot be booked, then what can, for the customer.
    std::string refusal_message(Refusal refusal, const Day& day, std::optional<int> time,
                                const Service& service, const std::vector<Slot>& alternatives) const {
        const std::string when = day_words(day, language_) + (time ? " " + hhmm(*time) : "");
        std::string out;
        switch (refusal) {
            case Refusal::past:
                out = en() ? when + " has already passed." : when + " geçmişte kaldı.";
                break;
            case Refusal::too_soon:
                out = en() ? fmt::format("Bookings need at least {} minutes' notice.",
                                         settings_.min_notice_minutes)
                           : fmt::format("Randevular en az {} dakika önceden alınabiliyor.",
                                         settings_.min_notice_minutes);
                break;
            case Refusal::too_far:
                out = en() ? fmt::format("Bookings can be made at most {} days ahead.",
                                         settings_.max_days_ahead)
                           : fmt::format("En fazla {} gün sonrası için randevu alınabiliyor.",
                                         settings_.max_days_ahead);
                break;
            case Refusal::closed_day:
                out = en() ? "There is no " + service.offering.name_in(language_) + " on " +
                                 day_words(day, language_) + "."
                           : day_words(day, language_) + " günü " + service.offering.name_in(language_) +
                                 " için müsaitlik yok.";
                break;
            case Refusal::outside_hours:
                out = en() ? when + " is outside our hours for " + service.offering.name_in(language_) + "."
                           : when + ", " + service.offering.name_in(language_) +
                                 " için çalışma saatlerimizin dışında.";
                break;
            case Refusal::off_grid:
                if (service.group())
                    out = en() ? service.offering.name_in(language_) + " starts only at its scheduled times."
                               : service.offering.name_in(language_) +
                                     " yalnızca programdaki saatlerde başlıyor.";
                else
                    out = en() ? fmt::format("Appointments start every {} minutes; {} is not a start time.",
                                             settings_.slot_minutes, time ? hhmm(*time) : std::string())
                               : fmt::format(
                                     "Randevular {} dakikada bir başlıyor; {} bir başlangıç saati değil.",
                                     settings_.slot_minutes, time ? hhmm(*time) : std::string());
                break;
            case Refusal::taken:
                out = en() ? when + " is taken." : when + " dolu.";
                break;
            case Refusal::none:
                break;
        }
        return append_alternatives(out, alternatives, day);
    }

    std::string append_alternatives(std::string out, const std::vector<Slot>& alternatives,
                                    const Day& day) const {
        if (!out.empty()) out += " ";
        if (alternatives.empty())
            out += en() ? "There are no free times in the coming days." : "Önümüzdeki günlerde boş yer yok.";
        else
            out += (en() ? "The nearest free times: " : "En yakın uygun saatler: ") +
                   list_times(alternatives, day) + ".";
        return out;
    }

    /// The day's own verdict before any time: past, beyond the horizon, or none.
    Refusal day_refusal(const Day& day) const {
        if (days_between(today_, day) < 0) return Refusal::past;
        if (days_between(today_, day) > settings_.max_days_ahead) return Refusal::too_far;
        return Refusal::none;
    }

    /// The instant `minutes` after midnight of `day`, or why there is none (a time the clock skips).
    std::optional<TimePoint> start_of(const Day& day, int minutes) const {
        return local_instant(day, minutes, timezone_);
    }

    /// The check the store runs under the resource's lock: the whole of check_start over the
    /// appointments as they are then.
    PlacesCheck locked_check(const Query& base, TimePoint start) const {
        return [base, start](const std::vector<Busy>& busy) {
            Query q = base;
            q.busy = busy;
            return check_start(q, start);
        };
    }

    json::object appointment_json(const Appointment& a) const {
        return to_json(a, timezone_, names_of(tenant_, a, language_));
    }

    /// `previous`: where a moved appointment was ({start, end}), told to the business's targets.
    void publish(const std::string& action, const Appointment& a, json::object previous = {}) const {
        Event event;
        event.type = "appointment";
        event.tenant_id = tenant_.id();
        event.data = json::object{
            {"action", action},
            {"by", actor_.is_operator() ? "operator" : "customer"},
            {"appointment", appointment_json(a)},
            {"conversation_id", actor_.conversation_id.empty() ? a.conversation_id : actor_.conversation_id}};
        if (!previous.empty()) event.data["previous"] = std::move(previous);
        bookings_.events().publish(event);
    }

    /// The appointment `id` when this actor may see it: any of the tenant's for an operator, only
    /// their own for a customer. not_found otherwise, the same either way.
    Result<Appointment> own(const std::string& id) const {
        const std::string shown = id.substr(0, 80);
        const auto missing =
            Error{sdk::errc::not_found,
                  actor_.is_operator() ? "appointment \"" + shown + "\" not found"
                  : en()               ? "appointment_id: no appointment \"" + shown + "\" of yours"
                         : "appointment_id: size ait \"" + shown + "\" numaralı bir randevu yok"};
        if (id.empty()) return invalid(en() ? "appointment_id: required" : "appointment_id: gerekli");
        auto found = find_appointment(bookings_.database(), tenant_.id(), id);
        if (!found) return found.error();
        if (!*found) return missing;
        if (!actor_.is_operator() && (actor_.user_id.empty() || (*found)->user_id != actor_.user_id))
            return missing;
        return std::move(**found);
    }

private:
    Bookings& bookings_;
    const Tenant& tenant_;
    const Actor& actor_;
    Settings settings_;
    std::string language_;
    std::string timezone_;
    TimePoint now_;
    Day today_;
};

Result<Settings> settings_or_error(const Tenant& tenant) {
    auto settings = settings_of(tenant);
    if (!settings)
        return Error{sdk::errc::not_found, "tenant \"" + tenant.id() + "\" does not enable appointments"};
    return *settings;
}

json::object service_json(const Service& service, const std::string& language) {
    return json::object{{"id", service.offering.id},
                        {"name", service.offering.name_in(language)},
                        {"duration_min", service.offering.duration_min.value_or(0)},
                        {"price", service.offering.price},
                        {"currency", service.offering.currency},
                        {"group", service.group()}};
}

/// What the tenant's plugins reach through HostServices::appointments(): this tenant, the turn's
/// customer.
class TenantBook final : public sdk::AppointmentBook {
public:
    TenantBook(Bookings& bookings, const Tenant& tenant) : bookings_(bookings), tenant_(tenant) {}
    Result<json::value> check_availability(const json::object& a, const sdk::TurnContext& turn) override {
        return bookings_.check_availability(tenant_, a, Actor::customer(turn));
    }
    Result<json::value> create_appointment(const json::object& a, const sdk::TurnContext& turn) override {
        return bookings_.create_appointment(tenant_, a, Actor::customer(turn));
    }
    Result<json::value> list_my_appointments(const json::object& a, const sdk::TurnContext& turn) override {
        return bookings_.list_my_appointments(tenant_, a, Actor::customer(turn));
    }
    Result<json::value> cancel_appointment(const json::object& a, const sdk::TurnContext& turn) override {
        return bookings_.cancel_appointment(tenant_, a, Actor::customer(turn));
    }
    Result<json::value> reschedule_appointment(const json::object& a, const sdk::TurnContext& turn) override {
        return bookings_.reschedule_appointment(tenant_, a, Actor::customer(turn));
    }

private:
    Bookings& bookings_;
    const Tenant& tenant_;
};

}  // namespace

Bookings::Bookings(Database& db, EventHub& events, Now now)
    : db_(db), events_(events), now_(std::move(now)) {}

std::unique_ptr<sdk::AppointmentBook> Bookings::book_for(const Tenant& tenant) {
    if (!settings_of(tenant)) return nullptr;
    return std::make_unique<TenantBook>(*this, tenant);
}

Result<json::value> Bookings::check_availability(const Tenant& tenant, const json::object& args,
                                                 const Actor& actor) {
    auto settings = settings_or_error(tenant);
    if (!settings) return settings.error();
    Desk desk(*this, tenant, actor, *settings);
    auto service = desk.service(string_arg(args, "service"));
    if (!service) return service.error();
    auto day = date_arg(args, desk.en());
    if (!day) return day.error();
    std::optional<int> time;
    if (!string_arg(args, "time").empty()) {
        auto parsed = time_arg(args, desk.en());
        if (!parsed) return parsed.error();
        time = *parsed;
    }
    auto q = desk.query(*service, *day, 1);
    if (!q) return q.error();
    const auto slots = free_slots(*q);

    json::object out{{"service", service_json(*service, desk.language())},
                     {"date", day->str()},
                     {"timezone", desk.timezone()},
                     {"slots", desk.slots_json(slots, *service)}};
    std::vector<Slot> alternatives;
    std::string message;
    if (time) {
        const auto start = desk.start_of(*day, *time);
        const Refusal refusal = start ? check_start(*q, *start) : Refusal::outside_hours;
        out["requested"] = json::object{{"time", hhmm(*time)}, {"available", refusal == Refusal::none}};
        if (refusal != Refusal::none) {
            out["requested"].as_object()["reason"] = refusal_name(refusal);
            alternatives = desk.alternatives(*service, *day, start);
            message = desk.refusal_message(refusal, *day, time, *service, alternatives);
        }
    } else if (slots.empty()) {
        alternatives = desk.alternatives(*service, *day, std::nullopt);
        const Refusal refusal = desk.day_refusal(*day);
        message = refusal != Refusal::none
                      ? desk.refusal_message(refusal, *day, std::nullopt, *service, alternatives)
                      : desk.append_alternatives(
                            desk.en() ? "No free times on " + day_words(*day, desk.language()) + "."
                                      : day_words(*day, desk.language()) + " için boş yer yok.",
                            alternatives, *day);
    }
    out["alternatives"] = desk.slots_json(alternatives, *service);
    out["message"] = message;
    return json::value(std::move(out));
}

Result<json::value> Bookings::availability(const Tenant& tenant, const std::string& service_text,
                                           const std::string& date, int days, const Actor& actor) {
    if (days <= 1)
        return check_availability(tenant, json::object{{"service", service_text}, {"date", date}}, actor);
    if (days > kMaxRangeDays) return invalid("days: at most " + std::to_string(kMaxRangeDays));
    auto settings = settings_or_error(tenant);
    if (!settings) return settings.error();
    Desk desk(*this, tenant, actor, *settings);
    auto service = desk.service(service_text);
    if (!service) return service.error();
    auto day = parse_day(date);
    if (!day) return invalid("date: expected a date YYYY-MM-DD, got \"" + date.substr(0, 40) + "\"");
    auto q = desk.query(*service, *day, days);
    if (!q) return q.error();
    const auto slots = free_slots(*q);
    return json::value(json::object{{"service", service_json(*service, desk.language())},
                                    {"date", day->str()},
                                    {"days", days},
                                    {"timezone", desk.timezone()},
                                    {"slots", desk.slots_json(slots, *service)},
                                    {"alternatives", json::array{}},
                                    {"message", ""}});
}

Result<json::value> Bookings::create_appointment(const Tenant& tenant, const json::object& args,
                                                 const Actor& actor) {
    auto settings = settings_or_error(tenant);
    if (!settings) return settings.error();
    Desk desk(*this, tenant, actor, *settings);
    // The customer's details first: a model that forgot them asks, whatever the time.
    const std::string name = string_arg(args, "customer_name");
    const std::string phone = string_arg(args, "customer_phone");
    const std::string notes = string_arg(args, "notes");
    const bool en = desk.en();
    if (name.empty())
        return invalid(
            say(en, "customer_name: required: the customer's name", "customer_name: müşterinin adı gerekli"));
    if (phone.empty())
        return invalid(say(en, "customer_phone: required: the customer's phone number",
                           "customer_phone: müşterinin telefon numarası gerekli"));
    if (!text::valid_utf8(name) || text::length(name) > kMaxNameChars)
        return invalid("customer_name: at most " + std::to_string(kMaxNameChars) + " characters of text");
    if (!text::valid_utf8(phone) || text::length(phone) > kMaxPhoneChars ||
        std::none_of(phone.begin(), phone.end(), [](unsigned char c) { return std::isdigit(c); }))
        return invalid(say(en, "customer_phone: expected a phone number, got \"" + phone.substr(0, 40) + "\"",
                           "customer_phone: \"" + phone.substr(0, 40) + "\" bir telefon numarası değil"));
    if (!text::valid_utf8(notes) || text::length(notes) > kMaxNotesChars)
        return invalid("notes: at most " + std::to_string(kMaxNotesChars) + " characters of text");
    auto service = desk.service(string_arg(args, "service"));
    if (!service) return service.error();
    auto day = date_arg(args, desk.en());
    if (!day) return day.error();
    auto time = time_arg(args, desk.en());
    if (!time) return time.error();

    const auto refused = [&](Refusal refusal, std::optional<TimePoint> start) {
        const auto alternatives = desk.alternatives(*service, *day, start);
        return json::value(
            json::object{{"booked", false},
                         {"reason", refusal_name(refusal)},
                         {"message", desk.refusal_message(refusal, *day, *time, *service, alternatives)},
                         {"alternatives", desk.slots_json(alternatives, *service)}});
    };
    const auto start = desk.start_of(*day, *time);
    if (!start) return refused(Refusal::outside_hours, std::nullopt);
    auto q = desk.query(*service, *day, 1);
    if (!q) return q.error();
    if (const Refusal refusal = check_start(*q, *start); refusal != Refusal::none)
        return refused(refusal, start);

    Appointment a;
    a.id = new_appointment_id();
    a.tenant_id = tenant.id();
    a.service_id = service->offering.id;
    a.resource_id = service->resource->id;
    a.start = *start;
    a.end = *start + service->duration();
    a.buffer_minutes = service->offering.buffer_minutes;
    a.customer_name = name;
    a.customer_phone = phone;
    a.notes = notes;
    a.status = kConfirmed;
    a.channel = actor.channel;
    a.user_id = actor.user_id;
    a.conversation_id = actor.conversation_id;
    a.created_at = a.updated_at = desk.now();
    auto booked = book(db_, a, desk.locked_check(*q, *start));
    if (!booked) return booked.error();
    if (!booked->done) {
        const auto refusal = booked->reason == "taken" ? Refusal::taken : check_start(*q, *start);
        return refused(refusal == Refusal::none ? Refusal::taken : refusal, start);
    }
    desk.publish("created", booked->appointment);
    log_event(spdlog::level::info, "appointments", "appointment booked",
              {{"tenant", tenant.id()}, {"appointment", a.id}, {"service", a.service_id}, {"by", actor.by}});
    return json::value(
        json::object{{"booked", true}, {"appointment", desk.appointment_json(booked->appointment)}});
}

Result<json::value> Bookings::list_my_appointments(const Tenant& tenant, const json::object& /*arguments*/,
                                                   const Actor& actor) {
    auto settings = settings_or_error(tenant);
    if (!settings) return settings.error();
    Desk desk(*this, tenant, actor, *settings);
    json::array list;
    // A customer without a user id has no appointments of their own (an operator's have user_id "").
    if (!actor.user_id.empty()) {
        AppointmentFilter filter;
        filter.user_id = actor.user_id;
        filter.status = kConfirmed;
        filter.from = desk.now();
        filter.limit = 100;
        auto found = list_appointments(db_, tenant.id(), filter);
        if (!found) return found.error();
        for (const auto& a : *found) list.push_back(desk.appointment_json(a));
    }
    return json::value(json::object{{"appointments", std::move(list)}});
}

Result<json::value> Bookings::cancel_appointment(const Tenant& tenant, const json::object& args,
                                                 const Actor& actor) {
    auto settings = settings_or_error(tenant);
    if (!settings) return settings.error();
    Desk desk(*this, tenant, actor, *settings);
    auto a = desk.own(string_arg(args, "appointment_id"));
    if (!a) return a.error();
    const auto refused = [&](const char* reason) {
        const std::string message =
            std::string_view(reason) == "already_cancelled"
                ? (desk.en() ? "This appointment was already cancelled." : "Bu randevu zaten iptal edilmiş.")
                : (desk.en() ? "This appointment is in the past; it cannot be cancelled."
                             : "Bu randevunun zamanı geçti; iptal edilemez.");
        return json::value(json::object{{"cancelled", false}, {"reason", reason}, {"message", message}});
    };
    if (a->status == kCancelled) return refused("already_cancelled");
    if (a->status != kConfirmed || a->start <= desk.now()) return refused("past");
    auto cancelled = cancel(db_, tenant.id(), a->id, desk.now());
    if (!cancelled) return cancelled.error();
    if (!*cancelled) return Error{sdk::errc::not_found, "appointment \"" + a->id + "\" not found"};
    const std::string policy = cancellation_policy(tenant.profile());
    const auto notice = policy_notice(policy);
    const bool late = notice && a->start - desk.now() < *notice;
    desk.publish("cancelled", **cancelled);
    return json::value(json::object{{"cancelled", true},
                                    {"appointment", desk.appointment_json(**cancelled)},
                                    {"policy", policy},
                                    {"late", late}});
}

Result<json::value> Bookings::reschedule_appointment(const Tenant& tenant, const json::object& args,
                                                     const Actor& actor) {
    auto settings = settings_or_error(tenant);
    if (!settings) return settings.error();
    Desk desk(*this, tenant, actor, *settings);
    auto a = desk.own(string_arg(args, "appointment_id"));
    if (!a) return a.error();
    auto day = date_arg(args, desk.en());
    if (!day) return day.error();
    auto time = time_arg(args, desk.en());
    if (!time) return time.error();
    const auto not_movable = [&](const char* reason) {
        const std::string message =
            std::string_view(reason) == "already_cancelled"
                ? (desk.en() ? "This appointment was cancelled; book a new one instead."
                             : "Bu randevu iptal edilmiş; yeni bir randevu alınabilir.")
                : (desk.en() ? "This appointment is in the past; it cannot be moved."
                             : "Bu randevunun zamanı geçti; değiştirilemez.");
        return json::value(json::object{{"rescheduled", false},
                                        {"reason", reason},
                                        {"message", message},
                                        {"alternatives", json::array{}}});
    };
    if (a->status == kCancelled) return not_movable("already_cancelled");
    if (a->status != kConfirmed || (!actor.is_operator() && a->start <= desk.now()))
        return not_movable("past");
    auto offering = tenant.catalog().get(a->service_id);
    if (!offering || !offering->duration_min)
        return Error{sdk::errc::not_found, "appointment \"" + a->id + "\": its service \"" + a->service_id +
                                               "\" is no longer offered"};
    // Same service and resource: the booked resource, even if the catalog names another now.
    offering->provider = a->resource_id;
    auto service = desk.with_resource(std::move(*offering));
    if (!service) return service.error();
    const Busy itself{a->start, a->end, a->buffer_minutes, a->service_id};

    const auto refused = [&](Refusal refusal, std::optional<TimePoint> start) {
        const auto alternatives = desk.alternatives(*service, *day, start, &itself);
        return json::value(
            json::object{{"rescheduled", false},
                         {"reason", refusal_name(refusal)},
                         {"message", desk.refusal_message(refusal, *day, *time, *service, alternatives)},
                         {"alternatives", desk.slots_json(alternatives, *service)}});
    };
    const auto start = desk.start_of(*day, *time);
    if (!start) return refused(Refusal::outside_hours, std::nullopt);
    auto q = desk.query(*service, *day, 1);
    if (!q) return q.error();
    Desk::leave_out(q->busy, itself);
    if (const Refusal refusal = check_start(*q, *start); refusal != Refusal::none)
        return refused(refusal, start);
    auto moved = reschedule(db_, tenant.id(), a->id, *start, *start + service->duration(), desk.now(),
                            desk.locked_check(*q, *start));
    if (!moved) return moved.error();
    if (!moved->done) {
        if (moved->reason == "not_found")
            return Error{sdk::errc::not_found, "appointment \"" + a->id + "\" not found"};
        if (moved->reason == "not_confirmed")
            return not_movable(moved->appointment.status == kCancelled ? "already_cancelled" : "past");
        return refused(moved->reason == "taken" ? Refusal::taken : check_start(*q, *start), start);
    }
    json::object previous{{"start", iso_local(moved->previous_start, desk.timezone())},
                          {"end", iso_local(moved->previous_end, desk.timezone())}};
    desk.publish("rescheduled", moved->appointment, previous);
    return json::value(json::object{{"rescheduled", true},
                                    {"appointment", desk.appointment_json(moved->appointment)},
                                    {"previous", std::move(previous)}});
}

Result<json::object> Bookings::appointment_json(const Tenant& tenant, const std::string& id) {
    auto found = find_appointment(db_, tenant.id(), id);
    if (!found) return found.error();
    if (!*found) return Error{sdk::errc::not_found, "appointment \"" + id.substr(0, 80) + "\" not found"};
    const std::string language = language_of(Actor::operator_(), tenant);
    return to_json(**found, timezone_of(tenant), names_of(tenant, **found, language));
}

Result<json::array> Bookings::appointments_json(const Tenant& tenant, const AppointmentFilter& filter) {
    auto found = list_appointments(db_, tenant.id(), filter);
    if (!found) return found.error();
    const std::string language = language_of(Actor::operator_(), tenant);
    const std::string timezone = timezone_of(tenant);
    json::array out;
    for (const auto& a : *found) out.push_back(to_json(a, timezone, names_of(tenant, a, language)));
    return out;
}

Result<json::value> Bookings::update(const Tenant& tenant, const std::string& id,
                                     const AppointmentPatch& patch, const Actor& actor) {
    auto settings = settings_or_error(tenant);
    if (!settings) return settings.error();
    Desk desk(*this, tenant, actor, *settings);
    auto current = desk.own(id);
    if (!current) return current.error();
    if (patch.date.has_value() != patch.time.has_value())
        return invalid(patch.date ? "time: required with date (a move needs both)"
                                  : "date: required with time");
    if (patch.status && !valid_status(*patch.status))
        return invalid("status: \"" + patch.status->substr(0, 40) +
                       "\" is not one of confirmed, cancelled, completed, no_show");
    if (patch.notes && (!text::valid_utf8(*patch.notes) || text::length(*patch.notes) > kMaxNotesChars))
        return invalid("notes: at most " + std::to_string(kMaxNotesChars) + " characters of text");

    Appointment latest = *current;
    // One event for the whole change: "cancelled" when it cancels, else "updated" (a move publishes
    // its own "rescheduled").
    bool updated = false, cancelled = false;
    // Status first when it confirms again (a move needs a confirmed appointment), last otherwise.
    const bool confirming = patch.status && *patch.status == kConfirmed && current->status != kConfirmed;
    if (confirming) {
        auto offering = tenant.catalog().get(current->service_id);
        const auto* resource = find_resource(tenant, current->resource_id);
        const int capacity = offering && resource ? capacity_of(*offering, *resource) : 1;
        const auto now = desk.now();
        const Appointment held = *current;
        // A past appointment takes no place anyone could book; a future one needs its place free.
        auto confirmed =
            reconfirm(db_, tenant.id(), id, now, [held, capacity, now](const std::vector<Busy>& busy) {
                if (held.start <= now) return Refusal::none;
                return places_left(capacity, held.start, held.end, held.buffer_minutes, busy) >= 1
                           ? Refusal::none
                           : Refusal::taken;
            });
        if (!confirmed) return confirmed.error();
        if (!confirmed->done)
            return json::value(json::object{{"confirmed", false},
                                            {"reason", confirmed->reason},
                                            {"message", desk.en() ? "Its place has been taken since."
                                                                  : "Bu randevunun yeri bu arada doldu."},
                                            {"alternatives", json::array{}}});
        latest = confirmed->appointment;
        updated = true;
    }
    if (patch.date) {
        auto moved = reschedule_appointment(
            tenant, json::object{{"appointment_id", id}, {"date", *patch.date}, {"time", *patch.time}},
            actor);
        if (!moved) return moved.error();
        if (moved->as_object().at("rescheduled") != true) return moved;
        auto again = find_appointment(db_, tenant.id(), id);
        if (!again) return again.error();
        if (*again) latest = **again;
    }
    if (patch.notes && *patch.notes != latest.notes) {
        auto noted = set_notes(db_, tenant.id(), id, *patch.notes, desk.now());
        if (!noted) return noted.error();
        if (*noted) latest = **noted;
        updated = true;
    }
    if (patch.status && !confirming && *patch.status != latest.status) {
        auto changed = set_status(db_, tenant.id(), id, *patch.status, desk.now());
        if (!changed) return changed.error();
        if (*changed) latest = **changed;
        (*patch.status == kCancelled ? cancelled : updated) = true;
    }
    if (cancelled || updated) desk.publish(cancelled ? "cancelled" : "updated", latest);
    return json::value(json::object{{"appointment", desk.appointment_json(latest)}});
}

}  // namespace tezgah::engine::appointments
