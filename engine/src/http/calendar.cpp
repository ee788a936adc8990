// The calendar feed's route (http/calendar.hpp).
#include "http/calendar.hpp"

#include "http/request_parts.hpp"

#include "appointments/book.hpp"
#include "appointments/calendar.hpp"
#include "appointments/store.hpp"
#include "pipeline/engine.hpp"

#include <tezgah/sdk/errors.hpp>

namespace tezgah::engine::http {
namespace {

constexpr std::string_view kCalendarRead = "calendar:read";
constexpr std::string_view kAppointmentsRead = "appointments:read";
/// The most appointments one feed holds (the window is about 90 days).
constexpr std::size_t kMaxEvents = 20000;

/// The key of the request when it may read `tenant`'s feed, else answered (401 or 403).
bool may_read(Routes& routes, Exchange& ex, const std::string& tenant,
              const std::map<std::string, std::string>& params) {
    if (auto it = params.find("key"); it != params.end()) {
        auto key = routes.authenticate_key(ex, it->second);
        if (!key) return false;
        if (!routes.permit(ex, *key, tenant, kCalendarRead)) return false;
        if (key->scopes.size() != 1) {
            // The key is in a URL now, where it leaks; one that can do more must not be used so.
            ex.send_error(
                403, "forbidden",
                "a key in the URL (?key=) may have the scope calendar:read only, and this one has " +
                    std::to_string(key->scopes.size()) +
                    " scopes; make a key for the calendar with `tezgah keys create --tenant " + tenant +
                    " --scopes calendar:read`, and revoke this one: it has been in a URL");
            return false;
        }
        return true;
    }
    auto key = routes.authenticate(ex);
    if (!key) return false;
    // Either scope will do for a request whose key travels in the header.
    return routes.permit(ex, *key, tenant,
                         key->has_scope(kAppointmentsRead) ? kAppointmentsRead : kCalendarRead);
}

void feed(Routes& routes, Exchange& ex, const std::string& tenant_id) {
    const auto params = query_params_or_answer(ex);
    if (!params) return;
    if (!may_read(routes, ex, tenant_id, *params)) return;
    auto tenant = routes.engine.tenant(tenant_id);
    if (!tenant) return ex.send_error(tenant.error());
    const auto& profile = (*tenant)->profile();
    const std::string timezone = profile.timezone.empty() ? "UTC" : profile.timezone;
    const auto settings = appointments::settings_of(**tenant).value_or(appointments::Settings{});

    const auto window = appointments::feed_window(routes.engine.now(), timezone, settings.max_days_ahead);
    appointments::AppointmentFilter filter;
    filter.from = window.from;
    filter.to = window.until;
    filter.limit = kMaxEvents;
    auto stored = appointments::list_appointments(routes.engine.database(), tenant_id, filter);
    if (!stored) return ex.send_error(stored.error());

    appointments::CalendarHead head;
    head.name = (profile.name.empty() ? tenant_id : profile.name) +
                (profile.language == "en" ? " — appointments" : " — randevular");
    head.timezone = timezone;
    head.from = window.from;
    head.until = window.until;
    std::vector<appointments::CalendarEvent> events;
    events.reserve(stored->size());
    for (const auto& a : *stored) events.push_back(appointments::calendar_event(a, **tenant));
    const std::string body = appointments::calendar_ics(head, events);

    // Calendar apps ask every few minutes: unchanged, the answer is a 304 without the document.
    const std::string etag = strong_etag(body);
    ex.set_header("Cache-Control", "private, max-age=60");
    ex.set_header("ETag", etag);
    if (etag_matches(ex.request.header("if-none-match"), etag))
        return ex.send(304, "text/calendar; charset=utf-8", "");
    ex.set_header("Content-Disposition", "inline; filename=\"" + tenant_id + ".ics\"");
    ex.send(200, "text/calendar; charset=utf-8", body);
}

}  // namespace

bool calendar_route(Routes& routes, Exchange& ex, const std::string& tenant, std::string_view rest) {
    if (rest != "/calendar.ics") return false;
    ex.route = "/v1/tenants/{tenant}/calendar.ics";
    ex.tenant = tenant;
    if (allow_methods(ex, {"GET"})) feed(routes, ex, tenant);
    return true;
}

}  // namespace tezgah::engine::http
