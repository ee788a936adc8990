// What the console reads about a tenant (http/tenant_reads.hpp). Everything here is read from the
// loaded tenant in memory: no query reaches the database but the key's check.
#include "http/tenant_reads.hpp"

#include "http/request_parts.hpp"

#include "pipeline/engine.hpp"
#include "tenants/tenant.hpp"
#include "util/digest.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <optional>
#include <vector>

namespace tezgah::engine::http {
namespace {

constexpr std::string_view kPrefix = "/v1/tenants";
constexpr std::size_t kDefaultPage = 50;
constexpr std::size_t kMaxPage = 200;
constexpr std::size_t kMaxQueryCharacters = 200;

json::array string_array(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& s : items) out.emplace_back(s);
    return out;
}

/// The fields every tenant's entry has, in the list and in the profile.
json::object summary_json(const sdk::TenantProfile& p) {
    return json::object{{"id", p.id},
                        {"name", p.name},
                        {"language", p.language},
                        {"languages", string_array(p.languages)},
                        {"timezone", p.timezone},
                        {"currency", p.currency}};
}

json::object hours_json(const std::map<std::string, std::string>& hours) {
    json::object out;
    for (const char* day : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
        if (auto it = hours.find(day); it != hours.end()) out[day] = it->second;
    return out;
}

/// An offering the booking service would book: a service with a duration, still offered
/// (docs/appointments.md, "Enabling it").
bool bookable(const sdk::Offering& o) { return o.type != "PRODUCT" && o.duration_min && o.available; }

json::object profile_json(const Tenant& tenant) {
    const auto& p = tenant.profile();
    json::object out = summary_json(p);
    json::array channels;
    for (const auto& [name, config] : tenant.manifest().channels)
        if (!tenant.manifest().disabled_channels.contains(name)) channels.emplace_back(name);
    out["channels"] = std::move(channels);
    json::array tools;
    for (const auto& ref : tenant.manifest().tools)
        tools.emplace_back(ref.name.empty() ? ref.script : ref.name);
    out["tools"] = std::move(tools);
    out["appointments"] = tenant.appointments() != nullptr;
    out["hours"] = hours_json(p.hours);

    auto offerings = tenant.catalog().all();
    std::stable_sort(offerings.begin(), offerings.end(), [](const sdk::Offering& a, const sdk::Offering& b) {
        return sdk::text::fold(a.name) < sdk::text::fold(b.name);
    });
    json::array services;
    std::map<std::string, json::array> by_resource;
    for (const auto& o : offerings) {
        if (!bookable(o)) continue;
        json::object s{{"id", o.id}, {"name", o.name}, {"duration_min", *o.duration_min}};
        if (o.capacity) s["capacity"] = *o.capacity;
        if (!o.provider.empty()) {
            s["provider"] = o.provider;
            by_resource[o.provider].emplace_back(o.id);
        }
        s["price"] = o.price;
        services.push_back(std::move(s));
    }
    json::array resources;
    for (const auto& r : p.resources) {
        auto it = by_resource.find(r.id);
        resources.push_back(json::object{{"id", r.id},
                                         {"name", r.name},
                                         {"type", r.type},
                                         {"capacity", r.capacity},
                                         {"hours", hours_json(r.hours)},
                                         {"services", it == by_resource.end() ? json::array{} : it->second}});
    }
    out["resources"] = std::move(resources);
    out["services"] = std::move(services);
    return out;
}

// --- paging lists held in memory ---

/// One item of a list in its order: `key` sorts it (folded text, then the id) and is its cursor.
struct Row {
    std::string key;
    json::object item;
};

std::string sort_key(std::string_view text, std::string_view id) {
    std::string key = sdk::text::fold(text);
    key += '\x1f';
    key += id;
    return key;
}

std::optional<std::string> unhex(std::string_view text) {
    if (text.size() % 2 != 0 || text.size() > 4096) return std::nullopt;
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int high = digit(text[i]), low = digit(text[i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
    }
    return out;
}

/// The page's parameters, checked: `limit` 1..200 (50), `cursor` a `next` this API gave, `q` at
/// most 200 characters (folded). Answers 422 naming the parameter and returns none otherwise.
struct PageRequest {
    std::size_t limit = kDefaultPage;
    std::string after;  ///< the sort key of the last row of the page before; empty: from the start
    std::string folded_query;
};

std::optional<PageRequest> page_request(Exchange& ex, const std::map<std::string, std::string>& params) {
    PageRequest out;
    if (auto it = params.find("limit"); it != params.end()) {
        const auto& text = it->second;
        const bool digits =
            !text.empty() && text.size() <= 4 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        const std::size_t n = digits ? std::stoul(text) : 0;
        if (n < 1 || n > kMaxPage) {
            ex.send_error(422, "invalid_value",
                          "limit: expected a whole number from 1 to " + std::to_string(kMaxPage));
            return std::nullopt;
        }
        out.limit = n;
    }
    if (auto it = params.find("cursor"); it != params.end() && !it->second.empty()) {
        auto key = unhex(it->second);
        if (!key || key->find('\x1f') == std::string::npos) {
            ex.send_error(422, "invalid_value", "cursor: not a cursor this API gave");
            return std::nullopt;
        }
        out.after = std::move(*key);
    }
    if (auto it = params.find("q"); it != params.end()) {
        if (sdk::text::length(it->second) > kMaxQueryCharacters) {
            ex.send_error(422, "invalid_value",
                          "q: longer than " + std::to_string(kMaxQueryCharacters) + " characters");
            return std::nullopt;
        }
        out.folded_query = std::string(sdk::text::trim(sdk::text::fold(it->second)));
    }
    return out;
}

/// True when the folded query is empty or inside one of `texts`, folded (case- and
/// Turkish-letter-insensitive: "İPEK", "ipek" and "IPEK" find "İpek").
bool matches(const std::string& folded_query, std::initializer_list<const std::string*> texts,
             const std::vector<std::string>& more = {}) {
    if (folded_query.empty()) return true;
    for (const auto* t : texts)
        if (sdk::text::fold(*t).find(folded_query) != std::string::npos) return true;
    for (const auto& t : more)
        if (sdk::text::fold(t).find(folded_query) != std::string::npos) return true;
    return false;
}

/// `{name: [page], "next", "total"}` of `rows` (all that match), sorted here.
json::object page_json(std::vector<Row> rows, const PageRequest& request, const char* name) {
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.key < b.key; });
    const auto first =
        request.after.empty()
            ? rows.begin()
            : std::upper_bound(rows.begin(), rows.end(), request.after,
                               [](const std::string& key, const Row& r) { return key < r.key; });
    json::array page;
    std::string next;
    for (auto it = first; it != rows.end(); ++it) {
        if (page.size() == request.limit) {
            next = hex(std::prev(it)->key);
            break;
        }
        page.push_back(std::move(it->item));
    }
    return json::object{{name, std::move(page)},
                        {"next", next.empty() ? json::value(nullptr) : json::value(next)},
                        {"total", rows.size()}};
}

void offerings_route(Exchange& ex, const Tenant& tenant, const std::map<std::string, std::string>& params) {
    auto request = page_request(ex, params);
    if (!request) return;
    std::string type, category;
    if (auto it = params.find("type"); it != params.end() && !it->second.empty()) {
        type = it->second;
        std::transform(type.begin(), type.end(), type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (type != "PRODUCT" && type != "SERVICE")
            return ex.send_error(422, "invalid_value",
                                 "type: \"" + it->second.substr(0, 40) + "\" is not one of PRODUCT, SERVICE");
    }
    if (auto it = params.find("category"); it != params.end()) category = sdk::text::fold(it->second);
    std::vector<Row> rows;
    for (const auto& o : tenant.catalog().all()) {
        if (!type.empty() && o.type != type) continue;
        if (!category.empty() && sdk::text::fold(o.category) != category) continue;
        if (!matches(request->folded_query, {&o.id, &o.name, &o.category}, o.aliases)) continue;
        rows.push_back({sort_key(o.name, o.id), sdk::to_json(o)});
    }
    ex.send_json(200, page_json(std::move(rows), *request, "offerings"));
}

void knowledge_route(Exchange& ex, const Tenant& tenant, const std::map<std::string, std::string>& params) {
    auto request = page_request(ex, params);
    if (!request) return;
    std::vector<Row> rows;
    for (const auto& e : tenant.knowledge().all()) {
        std::vector<std::string> more = e.keywords;
        for (const auto& [language, t] : e.translations) {
            more.push_back(t.question);
            more.push_back(t.answer);
        }
        if (!matches(request->folded_query, {&e.id, &e.question, &e.answer, &e.category}, more)) continue;
        json::object item = sdk::to_json(e);
        // Optional fields are left out when empty, as the contract shows them.
        if (e.category.empty()) item.erase("category");
        if (e.keywords.empty()) item.erase("keywords");
        rows.push_back({sort_key(e.question, e.id), std::move(item)});
    }
    ex.send_json(200, page_json(std::move(rows), *request, "entries"));
}

void info_route(Exchange& ex, const Tenant& tenant) {
    json::object info;
    for (const auto& [key, text] : tenant.profile().info) {
        // A value read from the environment is shown as the manifest wrote it, never as its value.
        const std::string variable = tenant.manifest().env_values.variable_at("business.info." + key);
        info[key] = variable.empty() ? tenant.redact(text) : "${" + variable + "}";
    }
    ex.send_json(200, json::object{{"info", std::move(info)}});
}

void tenants_route(Routes& routes, Exchange& ex) {
    auto key = routes.authenticate(ex);
    if (!key) return;
    json::array list;
    for (const auto& status : routes.engine.tenants()) {
        if (!key->covers(status.id) || status.state == "failed") continue;
        auto tenant = routes.engine.tenant(status.id);  // tenants load on first use
        if (!tenant) continue;                          // one that does not load is not listed
        list.push_back(summary_json((*tenant)->profile()));
    }
    std::sort(list.begin(), list.end(), [](const json::value& a, const json::value& b) {
        return a.at("id").as_string() < b.at("id").as_string();
    });
    ex.send_json(200, json::object{{"tenants", std::move(list)}});
}

}  // namespace

bool tenant_reads(Routes& routes, Exchange& ex) {
    std::string_view path = ex.path;
    if (!path.starts_with(kPrefix)) return false;
    path.remove_prefix(kPrefix.size());
    if (path.empty()) {
        ex.route = "/v1/tenants";
        if (allow_methods(ex, {"GET"})) tenants_route(routes, ex);
        return true;
    }
    if (!path.starts_with('/')) return false;
    path.remove_prefix(1);
    const auto slash = path.find('/');
    const std::string tenant_id(path.substr(0, slash));
    const std::string_view rest = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
    if (tenant_id.empty()) return false;
    enum class Kind { profile, offerings, knowledge, info } kind;
    if (rest.empty()) {
        kind = Kind::profile;
        ex.route = "/v1/tenants/{tenant}";
    } else if (rest == "/offerings") {
        kind = Kind::offerings;
        ex.route = "/v1/tenants/{tenant}/offerings";
    } else if (rest == "/knowledge") {
        kind = Kind::knowledge;
        ex.route = "/v1/tenants/{tenant}/knowledge";
    } else if (rest == "/info") {
        kind = Kind::info;
        ex.route = "/v1/tenants/{tenant}/info";
    } else {
        return false;
    }
    ex.tenant = tenant_id;
    if (!allow_methods(ex, {"GET"})) return true;
    if (!routes.authorize(ex, tenant_id, kAnyScope)) return true;
    auto params = query_params_or_answer(ex);
    if (!params) return true;
    auto tenant = routes.engine.tenant(tenant_id);
    if (!tenant) {
        ex.send_error(tenant.error());
        return true;
    }
    switch (kind) {
        case Kind::profile:
            ex.send_json(200, profile_json(**tenant));
            break;
        case Kind::offerings:
            offerings_route(ex, **tenant, *params);
            break;
        case Kind::knowledge:
            knowledge_route(ex, **tenant, *params);
            break;
        case Kind::info:
            info_route(ex, **tenant);
            break;
    }
    return true;
}

}  // namespace tezgah::engine::http
