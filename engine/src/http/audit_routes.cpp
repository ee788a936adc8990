// GET /v1/audit and GET /v1/tenants/{tenant}/audit: the audit log of keyed requests, newest first,
// in pages (docs/operators.md, "Keys and the audit log").
#include "http/exchange.hpp"
#include "http/request_parts.hpp"

#include "store/sql_support.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <limits>

namespace tezgah::engine::http {
namespace {

bool tenant_id_shape(std::string_view id) {
    return id.size() >= 2 && id.size() <= 63 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
           });
}

bool key_id_shape(std::string_view id) {
    return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

/// A whole number in [minimum, maximum], or none.
std::optional<long long> whole_number(const std::string& text, long long minimum, long long maximum) {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < minimum ||
        value > maximum)
        return std::nullopt;
    return value;
}

/// "2026-12-02T13:40:00.123Z".
std::string utc_text(std::chrono::system_clock::time_point at) {
    const long long ms = store::to_millis(at);
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buffer;
}

}  // namespace

void Routes::audit_entries(Exchange& ex, const std::string& tenant) {
    const auto params_or = query_params_or_answer(ex);
    if (!params_or) return;
    const auto& params = *params_or;
    for (const auto& [name, value] : params) {
        if (name != "key" && name != "limit" && name != "cursor" && !(tenant.empty() && name == "tenant"))
            return ex.send_error(400, "invalid_field",
                                 "query: unknown parameter \"" + name + "\" (known: " +
                                     (tenant.empty() ? "tenant, " : "") + "key, limit, cursor)");
    }
    AuditQuery query;
    query.tenant_id = tenant;
    if (auto it = params.find("tenant"); it != params.end() && !it->second.empty()) {
        if (!tenant_id_shape(it->second))
            return ex.send_error(400, "invalid_field",
                                 "tenant: expected a tenant id ([a-z0-9-], 2 to 63 characters)");
        query.tenant_id = it->second;
    }
    if (auto it = params.find("key"); it != params.end() && !it->second.empty()) {
        if (!key_id_shape(it->second))
            return ex.send_error(400, "invalid_field",
                                 "key: expected a key id (16 hex digits, as `tezgah keys list` shows)");
        query.key_id = it->second;
    }
    if (auto it = params.find("limit"); it != params.end()) {
        auto limit = whole_number(it->second, 1, 500);
        if (!limit)
            return ex.send_error(400, "invalid_field", "limit: expected a whole number from 1 to 500");
        query.limit = static_cast<int>(*limit);
    }
    if (auto it = params.find("cursor"); it != params.end() && !it->second.empty()) {
        auto cursor = whole_number(it->second, 1, std::numeric_limits<long long>::max());
        if (!cursor)
            return ex.send_error(400, "invalid_field", "cursor: expected the `next` of an earlier page");
        query.before = *cursor;
    }
    if (!tenant.empty()) {
        auto known = engine.tenant(tenant);
        if (!known) return ex.send_error(known.error());
    }
    // What was answered before this request is on the page (the writer batches every 200 ms).
    if (audit != nullptr) audit->flush();
    auto page = read_audit(engine.database(), query);
    if (!page) return ex.send_error(page.error());
    json::array entries;
    for (const auto& e : page->entries) {
        entries.push_back(json::object{{"id", e.id},
                                       {"key_id", e.key_id},
                                       {"method", e.method},
                                       {"route", e.route},
                                       {"tenant", e.tenant_id},
                                       {"status", e.status},
                                       {"client", e.client},
                                       {"request_id", e.request_id},
                                       {"at", utc_text(e.at)}});
    }
    json::object body{{"entries", std::move(entries)}};
    body["next"] = page->next > 0 ? json::value(std::to_string(page->next)) : json::value(nullptr);
    ex.send_json(200, body);
}

}  // namespace tezgah::engine::http
