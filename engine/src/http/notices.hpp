#pragma once
// GET /v1/tenants/{tenant}/notices?state=&limit= — the tenant's notices to its people (webhook,
// Slack, e-mail) and how sending them went (docs/operators.md, "Notifications"). Scope
// conversations:read.

#include "http/exchange.hpp"

#include <string>

namespace tezgah::engine::http {

void notices_route(Routes& routes, Exchange& ex, const std::string& tenant);

}  // namespace tezgah::engine::http
