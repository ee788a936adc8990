// Reminders before appointments (appointments/reminders.hpp).
#include "appointments/reminders.hpp"

#include "appointments/book.hpp"
#include "store/sql_support.hpp"
#include "util/log.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <soci/soci.h>

namespace tezgah::engine::appointments {
namespace {

const date::time_zone* find_zone(const std::string& timezone) {
    try {
        return date::locate_zone(timezone);
    } catch (const std::exception&) {
        return nullptr;
    }
}

/// "3 Aralık Perşembe" or "Thursday 3 December": the start's day on the tenant's wall clock.
std::string day_words(TimePoint when, const std::string& timezone, bool turkish) {
    static const char* const kMonthsTr[] = {"Ocak",   "Şubat",   "Mart",  "Nisan", "Mayıs", "Haziran",
                                            "Temmuz", "Ağustos", "Eylül", "Ekim",  "Kasım", "Aralık"};
    static const char* const kMonthsEn[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
    static const char* const kDaysTr[] = {"Pazar",    "Pazartesi", "Salı",     "Çarşamba",
                                          "Perşembe", "Cuma",      "Cumartesi"};
    static const char* const kDaysEn[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
    const auto utc = date::floor<std::chrono::seconds>(when);
    const auto* zone = find_zone(timezone);
    const date::local_days day =
        date::floor<date::days>(zone ? zone->to_local(utc) : date::local_seconds{utc.time_since_epoch()});
    const date::year_month_day ymd{day};
    const unsigned weekday = date::weekday{day}.c_encoding();
    const unsigned month = static_cast<unsigned>(ymd.month()) - 1;
    const std::string number = std::to_string(static_cast<unsigned>(ymd.day()));
    if (turkish) return number + " " + kMonthsTr[month] + " " + kDaysTr[weekday];
    return std::string(kDaysEn[weekday]) + " " + number + " " + kMonthsEn[month];
}

/// Whether `tenant`'s channel `channel` maps a template named kReminderTemplate.
bool has_reminder_template(const Tenant& tenant, const std::string& channel) {
    auto it = tenant.manifest().channels.find(channel);
    if (it == tenant.manifest().channels.end()) return false;
    const auto* templates = it->second.if_contains("templates");
    return templates && templates->is_object() && templates->get_object().contains(kReminderTemplate);
}

}  // namespace

ReminderText reminder_text(const Appointment& a, const Tenant& tenant, const std::string& language) {
    const auto& profile = tenant.profile();
    const bool turkish = language != "en";
    const std::string timezone = profile.timezone.empty() ? "UTC" : profile.timezone;
    ReminderText out;
    out.customer_name = a.customer_name;
    out.service = a.service_id;
    if (auto offering = tenant.catalog().get(a.service_id))
        out.service = offering->name_in(turkish ? "tr" : "en");
    out.date = day_words(a.start, timezone, turkish);
    out.time = hhmm_local(a.start, timezone);
    out.business = profile.name.empty() ? tenant.id() : profile.name;
    const std::string hello = a.customer_name.empty() ? (turkish ? "Merhaba" : "Hello")
                                                      : (turkish ? "Merhaba " : "Hello ") + a.customer_name;
    if (turkish)
        out.text = hello + ", " + out.business + " randevunuzu hatırlatırız: " + out.service + ", " +
                   out.date + " saat " + out.time +
                   ". Gelemeyecekseniz lütfen buradan yazın; görüşmek üzere!";
    else
        out.text = hello + ", a reminder of your appointment at " + out.business + ": " + out.service + ", " +
                   out.date + " at " + out.time + ". If you cannot make it, just reply here; see you then!";
    return out;
}

Reminders::Reminders(Database& db, Outbox& outbox, TenantLookup tenants, TenantIds tenant_ids, Now now)
    : db_(db),
      outbox_(outbox),
      tenants_(std::move(tenants)),
      tenant_ids_(std::move(tenant_ids)),
      now_(std::move(now)) {}

Reminders::~Reminders() { stop(); }

std::string Reminders::customer_language(const Appointment& a) {
    if (a.conversation_id.empty()) return "";
    std::string language;
    auto read = db_.read("reminder language [" + a.tenant_id + "]", [&](soci::session& sql) {
        language.clear();
        soci::indicator ind = soci::i_ok;
        sql << "SELECT language FROM messages WHERE tenant_id = :t AND conversation_id = :c AND role = "
               "'assistant' "
               "ORDER BY seq DESC LIMIT 1",
            soci::into(language, ind), soci::use(a.tenant_id), soci::use(a.conversation_id);
        if (!sql.got_data() || ind != soci::i_ok) language.clear();
    });
    return read ? language : std::string();
}

std::size_t Reminders::sweep_tenant(const Tenant& tenant, TimePoint now) {
    const auto settings = settings_of(tenant);
    if (!settings || settings->reminder_hours <= 0) return 0;
    const auto ahead = std::chrono::hours(settings->reminder_hours);
    AppointmentFilter filter;
    filter.from = now;  // a start that has passed is not reminded of
    filter.to = now + ahead + std::chrono::milliseconds(1);
    filter.status = kConfirmed;
    filter.limit = 10000;
    auto due = list_appointments(db_, tenant.id(), filter);
    if (!due) {
        log_event(spdlog::level::err, "appointments", "reminders: the due appointments could not be read",
                  {{"tenant", tenant.id()}, {"error", due.error().message}});
        return 0;
    }
    std::size_t queued = 0;
    for (const auto& a : *due) {
        if (a.reminder_at || a.start <= now) continue;
        // Claimed by whoever sets reminder_at first (this sweep, another instance's): only the
        // winner queues, and only while the appointment is confirmed at this start.
        bool claimed = false;
        const long long at = store::to_millis(now);
        const long long start = store::to_millis(a.start);
        auto written = db_.write("claim reminder [" + a.tenant_id + "]", [&](soci::session& sql) {
            claimed = false;
            soci::statement st =
                (sql.prepare
                     << "UPDATE appointments SET reminder_at = :now WHERE tenant_id = :t AND id = :id "
                        "AND reminder_at IS NULL AND status = 'confirmed' AND start_at = :start",
                 soci::use(at), soci::use(a.tenant_id), soci::use(a.id), soci::use(start));
            st.execute(true);
            claimed = st.get_affected_rows() > 0;
        });
        if (!written) {
            log_event(spdlog::level::err, "appointments", "reminders: an appointment could not be claimed",
                      {{"tenant", a.tenant_id}, {"appointment", a.id}, {"error", written.error().message}});
            continue;
        }
        if (!claimed) continue;

        auto skip = [&](const char* why) {
            log_event(spdlog::level::debug, "appointments", "no reminder",
                      {{"tenant", a.tenant_id}, {"appointment", a.id}, {"channel", a.channel}, {"why", why}});
        };
        if (a.created_at > a.start - ahead) {
            skip("booked within reminder_hours of its start");
            continue;
        }
        if (a.channel.empty() || a.user_id.empty() || tenant.sender(a.channel) == nullptr) {
            skip("the channel it was booked on cannot send to the customer");
            continue;
        }

        std::string language = customer_language(a);
        if (language != "tr" && language != "en") language = tenant.profile().language == "en" ? "en" : "tr";
        const auto words = reminder_text(a, tenant, language);
        sdk::OutboundMessage message;
        message.tenant_id = a.tenant_id;
        message.channel = a.channel;
        message.recipient = a.user_id;
        message.text = words.text;
        message.idempotency_key = "reminder:" + a.id + ":" + std::to_string(start);
        message.metadata["from"] = "reminder";
        message.metadata["appointment_id"] = a.id;
        // Outside the customer's 24-hour window only a template may go out: the channel's reminder
        // template when it maps one, else the outbox sends its reopen_template in the text's place.
        if (tenant.has_customer_window(a.channel) && has_reminder_template(tenant, a.channel)) {
            auto last = db_.last_inbound_at(a.tenant_id, a.user_id, a.channel);
            const bool open = last && *last && **last > now - outbox_.options().customer_window;
            if (!open)
                message.template_message = sdk::MessageTemplate{
                    kReminderTemplate, json::object{{"text", words.text},
                                                    {"customer_name", words.customer_name},
                                                    {"service", words.service},
                                                    {"date", words.date},
                                                    {"time", words.time},
                                                    {"business", words.business}}};
        }
        auto stored = outbox_.enqueue(message);
        if (!stored) {
            // Given back, so that the next sweep tries again (the key keeps it to one message).
            log_event(spdlog::level::err, "appointments", "reminders: the reminder could not be queued",
                      {{"tenant", a.tenant_id}, {"appointment", a.id}, {"error", stored.error().message}});
            (void)db_.write("release reminder [" + a.tenant_id + "]", [&](soci::session& sql) {
                sql << "UPDATE appointments SET reminder_at = NULL WHERE tenant_id = :t AND id = :id AND "
                       "reminder_at = :now",
                    soci::use(a.tenant_id), soci::use(a.id), soci::use(at);
            });
            continue;
        }
        log_event(spdlog::level::info, "appointments", "reminder queued",
                  {{"tenant", a.tenant_id},
                   {"appointment", a.id},
                   {"channel", a.channel},
                   {"outbox_id", stored->id}});
        ++queued;
    }
    return queued;
}

std::size_t Reminders::sweep() {
    std::size_t queued = 0;
    const auto now = now_();
    for (const auto& id : tenant_ids_()) {
        auto tenant = tenants_(id);
        if (!tenant) continue;
        queued += sweep_tenant(**tenant, now);
    }
    return queued;
}

void Reminders::start(std::chrono::milliseconds interval) {
    sweeper_.start(interval, "appointments", "reminder sweep", [this] { sweep(); });
}

void Reminders::stop() { sweeper_.stop(); }

}  // namespace tezgah::engine::appointments
