// GET /v1/tenants/{tenant}/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD (docs/operators.md, "Analytics"):
// a key with analytics:read; days in the tenant's locale.timezone; the last 7 days by default.
#include "http/exchange.hpp"

#include "pipeline/engine.hpp"
#include "store/analytics.hpp"
#include "tenants/tenant.hpp"

namespace tezgah::engine::http {
namespace {

constexpr int kMaxDays = 366;

/// The query's parameters, percent-decoded; a malformed escape keeps its text as sent (it is then
/// no valid date either).
std::map<std::string, std::string> query_parameters(std::string_view query) {
    auto decode = [](std::string_view text) {
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '+') {
                out += ' ';
            } else if (text[i] == '%' && i + 2 < text.size() &&
                       std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                       std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
                out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                out += text[i];
            }
        }
        return out;
    };
    std::map<std::string, std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        out.emplace(decode(pair.substr(0, eq)),
                    eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
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

    const auto parameters = query_parameters(ex.request.query);
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
    ex.send_json(200, analytics_json(*figures));
}

}  // namespace tezgah::engine::http
