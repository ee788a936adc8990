#pragma once
// Operators' edits of a tenant's catalog, info and knowledge, and the earlier orchestrator's admin
// API (docs/operators.md, "Editing the catalog, info and knowledge" and "The orchestrator's admin
// API"). Both write through tenants/folder_edits.hpp and make the tenant live at once.

#include "http/exchange.hpp"

#include <string>
#include <string_view>

namespace tezgah::engine::http {

/// `PATCH /offerings/{id}`, `PUT /info/{key}`, `PUT|DELETE /knowledge/{id}` under
/// `/v1/tenants/{tenant}` (`rest` is the path after the tenant). False when `rest` is none of
/// them (nothing was answered).
bool operator_edits(Routes& routes, Exchange& ex, const std::string& tenant, std::string_view rest);

/// `/admin/cache/...`, `/admin/products/...`, `/admin/business/.../meta` and `/stats/{id}`.
/// False when `ex.path` is none of them.
bool orchestrator_admin(Routes& routes, Exchange& ex);

}  // namespace tezgah::engine::http
