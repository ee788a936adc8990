#pragma once
// What the console reads about a tenant (docs/operators.md, "Reading a tenant"): the tenants a key
// covers, a tenant's profile with its resources and bookable services, and its offerings,
// knowledge and info as loaded, searched and paged. Any key (or agent) covering the tenant may
// read them: they are what the assistant tells customers anyway, minus nothing secret (a value
// read from the environment is shown as its `${NAME}`).

#include "http/exchange.hpp"

namespace tezgah::engine::http {

/// Answers `GET /v1/tenants`, `GET /v1/tenants/{tenant}` and `GET /v1/tenants/{tenant}/offerings`,
/// `/knowledge`, `/info`. False when `ex.path` is none of them (nothing was answered).
bool tenant_reads(Routes& routes, Exchange& ex);

}  // namespace tezgah::engine::http
