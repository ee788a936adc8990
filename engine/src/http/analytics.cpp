// GET /v1/tenants/{tenant}/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD (docs/operators.md, "Analytics"):
// a key with analytics:read; days in the tenant's locale.timezone; the last 7 days by default.
// Appointments count by the day they start on.
#include "http/exchange.hpp"
#include "http/request_parts.hpp"

#include "pipeline/engine.hpp"
#include "store/analytics.hpp"
#include "tenants/tenant.hpp"

namespace tezgah::engine::http {
namespace {

constexpr int kMaxDays = 366;

/// The tenant's plan and, for each figure, what it allows (null: unlimited) and what was used in
/// the current window (ops/limits.hpp); `plan` null when the tenant has none, or no plans file.
json::object limits_json(Engine& engine, const Tenant& tenant) {
    auto who = Engine::limit_subject(tenant, "");
    json::object out;
    const Plan* plan = engine.limits().plan_of(who.plan);
    out["plan"] = plan == nullptr ? json::value(nullptr) : json::value(who.plan);
    for (const auto& standing : engine.limits().standing(who, engine.now())) {
        json::object figure;
        figure["limit"] = standing.figure ? json::value(*standing.figure) : json::value(nullptr);
        figure["used"] = standing.used;
        out[to_string(standing.limit)] = std::move(figure);
    }
    return out;
}

}  // namespace

void Routes::analytics(Exchange& ex, const std::string& tenant_id) {
    if (!authorize(ex, tenant_id, "analytics:read")) return;
    auto tenant = engine.tenant(tenant_id);
    if (!tenant) return ex.send_error(tenant.error());
    const auto& profile = (*tenant)->profile();

    AnalyticsQuery query;
    query.tenant_id = tenant_id;
    query.timezone = profile.timezone.empty() ? "UTC" : profile.timezone;
    query.confidence_threshold = profile.handoff_confidence_threshold;

    const auto parameters_or = query_params_or_answer(ex);
    if (!parameters_or) return;
    const auto& parameters = *parameters_or;
    std::optional<Day> from, to;
    for (const char* name : {"from", "to"}) {
        auto it = parameters.find(name);
        if (it == parameters.end()) continue;
        auto day = parse_day(it->second);
        if (!day)
            return ex.send_error(
                400, "invalid_field",
                std::string(name) + ": expected a date YYYY-MM-DD, got \"" + it->second.substr(0, 40) + "\"");
        (std::string_view(name) == "from" ? from : to) = *day;
    }
    // The last 7 days (today included) by default; one bound alone spans 7 days from or to it.
    if (!to) to = from ? add_days(*from, 6) : day_at(engine.now(), query.timezone);
    if (!from) from = add_days(*to, -6);
    const int span = days_between(*from, *to);
    if (span < 0)
        return ex.send_error(400, "invalid_field", "from: " + from->str() + " is after to: " + to->str());
    if (span + 1 > kMaxDays)
        return ex.send_error(400, "invalid_field",
                             "from, to: the range spans " + std::to_string(span + 1) + " days; at most " +
                                 std::to_string(kMaxDays) + " are allowed");
    query.from = *from;
    query.to = *to;

    auto figures = read_analytics(engine.database(), query);
    if (!figures) return ex.send_error(figures.error());
    // The names of the services and resources, as the tenant calls them now.
    for (auto& c : figures->appointments_by_service)
        if (auto offering = (*tenant)->catalog().get(c.id)) c.name = offering->name_in(profile.language);
    for (auto& c : figures->appointments_by_resource)
        for (const auto& r : profile.resources)
            if (r.id == c.id) c.name = r.name;
    json::object body = analytics_json(*figures);
    body["limits"] = limits_json(engine, **tenant);
    ex.send_json(200, body);
}

}  // namespace tezgah::engine::http
