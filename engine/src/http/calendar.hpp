#pragma once
// GET /v1/tenants/{tenant}/calendar.ics — the tenant's appointments as an iCalendar feed that
// calendar apps subscribe to (docs/appointments.md, "Calendar feed"). A subscription URL carries
// its key as `?key=KEY`, and a URL leaks (a shared screen, a browser's history, a proxy's log), so
// such a key must have the scope calendar:read and no other; a request with
// `Authorization: Bearer KEY` may use a key with calendar:read or appointments:read. The key in the
// query never reaches a log: the request log and the audit log record the route, not the URL.

#include "http/exchange.hpp"

#include <string>
#include <string_view>

namespace tezgah::engine::http {

/// Answers the feed's route when `rest` (the path after /v1/tenants/{tenant}) is "/calendar.ics".
bool calendar_route(Routes& routes, Exchange& ex, const std::string& tenant, std::string_view rest);

}  // namespace tezgah::engine::http
