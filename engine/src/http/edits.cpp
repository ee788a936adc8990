// Operators' edits and the earlier orchestrator's admin API (http/edits.hpp).
#include "http/edits.hpp"

#include "http/request_parts.hpp"

#include "pipeline/engine.hpp"
#include "store/business_stats.hpp"
#include "tenants/folder_edits.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

#include <cmath>
#include <optional>
#include <vector>

namespace tezgah::engine::http {
namespace {

constexpr std::string_view kCatalogWrite = "catalog:write";
constexpr std::string_view kKnowledgeWrite = "knowledge:write";
constexpr std::string_view kAnalyticsRead = "analytics:read";

/// A path segment with %XX decoded; none when it is malformed, empty, not UTF-8 or holds a
/// control character or a slash.
std::optional<std::string> decode_segment(std::string_view segment) {
    auto decoded = percent_decode(segment, false);
    if (!decoded) return std::nullopt;
    const std::string& out = *decoded;
    if (out.empty() || out.size() > 200 || !sdk::text::valid_utf8(out)) return std::nullopt;
    for (char c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '/') return std::nullopt;
    }
    return out;
}

/// The segments of `path` after `prefix`, split on '/', each decoded; none when one is malformed.
/// `path` must hold exactly `count` of them.
std::optional<std::vector<std::string>> segments(std::string_view path, std::size_t count) {
    std::vector<std::string> out;
    while (true) {
        const auto slash = path.find('/');
        auto decoded = decode_segment(path.substr(0, slash));
        if (!decoded) return std::nullopt;
        out.push_back(std::move(*decoded));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    if (out.size() != count) return std::nullopt;
    return out;
}

/// An edit's error with its status: 503 when the folder could not be written (nothing changed),
/// 409 when the file on disk is not what the manifest says, else the contract's status.
void send_edit_error(Exchange& ex, const sdk::Error& error) {
    if (error.code == kWriteFailed) return ex.send_error(503, kWriteFailed, error.message);
    if (error.code == kFileConflict) return ex.send_error(409, kFileConflict, error.message);
    ex.send_error(error);
}

/// The tenant a request edits, loaded; otherwise answers (404 unknown, 503 not loadable).
std::shared_ptr<Tenant> tenant_for(Routes& routes, Exchange& ex, const std::string& id) {
    ex.tenant = id;
    auto tenant = routes.engine.tenant(id);
    if (!tenant) {
        ex.send_error(tenant.error());
        return nullptr;
    }
    return *tenant;
}

/// One line per edit that landed: who (the key's id, never the key), what, where.
void log_edit(const Exchange& ex, std::string_view what, const std::string& target) {
    log_event(
        spdlog::level::info, "operators", "tenant folder edited",
        {{"tenant", ex.tenant}, {"key_id", ex.key_id}, {"edit", std::string(what)}, {"target", target}});
}

ApplyEdit reload(Routes& routes, const std::string& tenant) {
    return [&routes, tenant] { return routes.engine.reload_tenant(tenant); };
}

void bad_segment(Exchange& ex, const char* what) {
    ex.send_error(400, "bad_request",
                  std::string(what) + ": expected one path segment of 1 to 200 bytes of UTF-8 text");
}

// --- /v1/tenants/{tenant}/... ---

void patch_offering_route(Routes& routes, Exchange& ex, const std::string& tenant_id,
                          std::string_view raw_id) {
    if (!allow_methods(ex, {"PATCH"})) return;
    if (!routes.authorize(ex, tenant_id, kCatalogWrite)) return;
    auto id = segments(raw_id, 1);
    if (!id) return bad_segment(ex, "offering id");
    auto body = json_object_body(ex);
    if (!body) return;
    auto tenant = tenant_for(routes, ex, tenant_id);
    if (!tenant) return;
    auto edited = patch_offering(tenant->manifest(), (*id)[0], *body, reload(routes, tenant_id));
    if (!edited) return send_edit_error(ex, edited.error());
    log_edit(ex, "offering", (*id)[0]);
    ex.send_json(200, edited->stored);
}

void put_info_route(Routes& routes, Exchange& ex, const std::string& tenant_id, std::string_view raw_key) {
    if (!allow_methods(ex, {"PUT"})) return;
    if (!routes.authorize(ex, tenant_id, kKnowledgeWrite)) return;
    auto key = segments(raw_key, 1);
    if (!key) return bad_segment(ex, "info key");
    auto body = json_object_body(ex);
    if (!body) return;
    for (const auto& [field, value] : *body) {
        if (field != "text")
            return ex.send_error(400, "invalid_field",
                                 std::string(field) + ": unknown field (allowed: text)");
    }
    const auto* text = body->if_contains("text");
    if (text == nullptr || text->is_null()) return ex.send_error(400, "missing_field", "text: required");
    if (!text->is_string())
        return ex.send_error(400, "invalid_field",
                             std::string("text: expected a string, got ") + sdk::kind_of(*text));
    auto tenant = tenant_for(routes, ex, tenant_id);
    if (!tenant) return;
    auto edited =
        put_info(tenant->manifest(), (*key)[0], std::string(text->get_string()), reload(routes, tenant_id));
    if (!edited) return send_edit_error(ex, edited.error());
    log_edit(ex, "info", (*key)[0]);
    ex.send_json(edited->created ? 201 : 200, edited->stored);
}

void knowledge_route(Routes& routes, Exchange& ex, const std::string& tenant_id, std::string_view raw_id) {
    if (!allow_methods(ex, {"PUT", "DELETE"})) return;
    if (!routes.authorize(ex, tenant_id, kKnowledgeWrite)) return;
    auto id = segments(raw_id, 1);
    if (!id) return bad_segment(ex, "knowledge id");
    if (ex.request.method == "DELETE") {
        auto tenant = tenant_for(routes, ex, tenant_id);
        if (!tenant) return;
        auto removed = delete_knowledge(tenant->manifest(), (*id)[0], reload(routes, tenant_id));
        if (!removed) return send_edit_error(ex, removed.error());
        log_edit(ex, "knowledge deleted", (*id)[0]);
        return ex.send_json(200, json::object{{"deleted", true}, {"entry", removed->stored}});
    }
    auto body = json_object_body(ex);
    if (!body) return;
    auto tenant = tenant_for(routes, ex, tenant_id);
    if (!tenant) return;
    auto edited = put_knowledge(tenant->manifest(), (*id)[0], *body, reload(routes, tenant_id));
    if (!edited) return send_edit_error(ex, edited.error());
    log_edit(ex, "knowledge", (*id)[0]);
    ex.send_json(edited->created ? 201 : 200, edited->stored);
}

// --- the orchestrator's admin API ---

json::object cache_figures(const Tenant& tenant) {
    const auto stats = tenant.response_cache().stats();
    const long long lookups = stats.hits + stats.misses;
    return json::object{
        {"total_cached_queries", stats.entries},
        {"memory_usage_bytes", stats.bytes},
        {"memory_usage_mb", std::round(static_cast<double>(stats.bytes) / 1024.0 / 1024.0 * 100.0) / 100.0},
        {"hits", stats.hits},
        {"misses", stats.misses},
        {"hit_rate", lookups == 0 ? 0.0 : static_cast<double>(stats.hits) / static_cast<double>(lookups)}};
}

/// Whether a cached answer may have quoted `offering`: a card of it, or its name, an alias or a
/// translated name in the reply's words.
bool mentions(const CachedAnswer& answer, const sdk::Offering& offering) {
    for (const auto& card : answer.cards)
        if (card.id == offering.id) return true;
    for (const auto& option : answer.options)
        if (option.id == offering.id) return true;
    const std::string reply = " " + sdk::text::fold(answer.reply) + " ";
    const auto has = [&](const std::string& words) {
        const std::string folded = sdk::text::fold(words);
        return !folded.empty() && reply.find(" " + folded + " ") != std::string::npos;
    };
    if (has(offering.name)) return true;
    for (const auto& alias : offering.aliases)
        if (has(alias)) return true;
    for (const auto& [language, t] : offering.translations) {
        if (has(t.name)) return true;
        for (const auto& alias : t.aliases)
            if (has(alias)) return true;
    }
    return false;
}

void invalidate_cache(Routes& routes, Exchange& ex, const std::string& id) {
    ex.route = "/admin/cache/invalidate/{id}";
    if (!allow_methods(ex, {"POST"})) return;
    if (!routes.authorize(ex, id, kCatalogWrite)) return;
    auto tenant = tenant_for(routes, ex, id);
    if (!tenant) return;
    const auto dropped = tenant->response_cache().clear();
    tenant->forget_searches();
    ex.send_json(200, json::object{{"success", true},
                                   {"message", "Cache invalidated for business " + id},
                                   {"invalidated_entries", dropped}});
}

void invalidate_product(Routes& routes, Exchange& ex, const std::string& id, const std::string& product_id) {
    ex.route = "/admin/cache/invalidate-product/{id}/{product_id}";
    if (!allow_methods(ex, {"POST"})) return;
    if (!routes.authorize(ex, id, kCatalogWrite)) return;
    auto tenant = tenant_for(routes, ex, id);
    if (!tenant) return;
    auto offering = tenant->catalog().get(product_id);
    if (!offering) return ex.send_error(404, "not_found", "unknown offering \"" + product_id + "\"");
    const auto dropped = tenant->response_cache().erase_if(
        [&](const std::string&, const CachedAnswer& answer) { return mentions(answer, *offering); });
    tenant->forget_searches();
    ex.send_json(200, json::object{{"success", true},
                                   {"message", "Product cache invalidated for " + product_id},
                                   {"invalidated_entries", dropped}});
}

void cache_stats(Routes& routes, Exchange& ex, const std::string& id) {
    ex.route = "/admin/cache/stats/{id}";
    if (!allow_methods(ex, {"GET"})) return;
    if (!routes.authorize(ex, id, kAnalyticsRead)) return;
    auto tenant = tenant_for(routes, ex, id);
    if (!tenant) return;
    json::object out{{"success", true}, {"message", "Cache stats for business " + id}};
    for (auto& [key, value] : cache_figures(*tenant)) out[key] = value;
    ex.send_json(200, out);
}

void update_product(Routes& routes, Exchange& ex, const std::string& id, const std::string& product_id) {
    ex.route = "/admin/products/{id}/{product_id}";
    if (!allow_methods(ex, {"PUT"})) return;
    if (!routes.authorize(ex, id, kCatalogWrite)) return;
    auto body = json_object_body(ex);
    if (!body) return;
    json::object patch;
    for (const auto& [field, value] : *body) {
        if (field != "price" && field != "stock_quantity")
            return ex.send_error(400, "invalid_field",
                                 std::string(field) + ": unknown field (allowed: price, stock_quantity)");
        if (value.is_null()) continue;  // as the orchestrator: absent or null leaves it as it is
        if (field == "price") {
            if (!value.is_number())
                return ex.send_error(400, "invalid_field",
                                     std::string("price: expected a number, got ") + sdk::kind_of(value));
            patch["price"] = value;
        } else {
            const bool whole = value.is_int64() || value.is_uint64() ||
                               (value.is_double() && std::floor(value.get_double()) == value.get_double());
            if (!whole)
                return ex.send_error(
                    400, "invalid_field",
                    std::string("stock_quantity: expected an integer, got ") + sdk::kind_of(value));
            patch["stock"] = value;
        }
    }
    if (patch.empty())
        return ex.send_error(400, "missing_field", "price, stock_quantity: at least one is required");
    auto tenant = tenant_for(routes, ex, id);
    if (!tenant) return;
    auto edited = patch_offering(tenant->manifest(), product_id, patch, reload(routes, id));
    if (!edited) {
        // The orchestrator's field name, not the file's.
        if (edited.error().code == sdk::errc::invalid_value && edited.error().message.starts_with("stock:"))
            return ex.send_error(422, "invalid_value", "stock_quantity:" + edited.error().message.substr(6));
        return send_edit_error(ex, edited.error());
    }
    log_edit(ex, "offering", product_id);
    ex.send_json(200, json::object{{"success", true},
                                   {"message", "Product updated successfully"},
                                   {"product", edited->stored}});
}

void update_meta(Routes& routes, Exchange& ex, const std::string& id) {
    ex.route = "/admin/business/{id}/meta";
    if (!allow_methods(ex, {"PUT"})) return;
    if (!routes.authorize(ex, id, kKnowledgeWrite)) return;
    auto body = json_object_body(ex);
    if (!body) return;
    for (const auto& [field, value] : *body) {
        if (field != "info_type" && field != "new_value")
            return ex.send_error(400, "invalid_field",
                                 std::string(field) + ": unknown field (allowed: info_type, new_value)");
    }
    std::string values[2];
    const char* names[2] = {"info_type", "new_value"};
    for (int i = 0; i < 2; ++i) {
        const auto* value = body->if_contains(names[i]);
        if (value == nullptr || value->is_null())
            return ex.send_error(400, "missing_field", std::string(names[i]) + ": required");
        if (!value->is_string())
            return ex.send_error(400, "invalid_field",
                                 std::string(names[i]) + ": expected a string, got " + sdk::kind_of(*value));
        values[i] = std::string(value->get_string());
    }
    auto tenant = tenant_for(routes, ex, id);
    if (!tenant) return;
    auto edited = put_info(tenant->manifest(), values[0], values[1], reload(routes, id));
    if (!edited) {
        auto error = edited.error();
        if (error.message.starts_with("key:")) error.message = "info_type:" + error.message.substr(4);
        if (error.message.starts_with("text:")) error.message = "new_value:" + error.message.substr(5);
        return send_edit_error(ex, error);
    }
    log_edit(ex, "info", values[0]);
    ex.send_json(200, json::object{{"success", true},
                                   {"message", "Business " + values[0] + " updated successfully"},
                                   {"info_type", values[0]},
                                   {"new_value", values[1]}});
}

void stats(Routes& routes, Exchange& ex, const std::string& id) {
    ex.route = "/stats/{id}";
    if (!allow_methods(ex, {"GET"})) return;
    if (!routes.authorize(ex, id, kAnalyticsRead)) return;
    auto tenant = tenant_for(routes, ex, id);
    if (!tenant) return;
    auto figures = business_stats(routes.engine.database(), id, std::chrono::system_clock::now());
    if (!figures) return ex.send_error(figures.error());
    json::object by_method;
    for (const auto& [method, count] : figures->replies_by_method) by_method[method] = count;
    const auto cached =
        figures->replies_by_method.count("cache") ? figures->replies_by_method.at("cache") : 0;
    ex.send_json(200, json::object{{"success", true},
                                   {"message", "Stats for business " + id},
                                   {"isletme_id", id},
                                   {"total_conversations", figures->conversations},
                                   {"unique_users", figures->customers},
                                   {"total_messages", figures->customer_messages + figures->bot_messages},
                                   {"customer_messages", figures->customer_messages},
                                   {"bot_messages", figures->bot_messages},
                                   {"messages_last_24h", figures->messages_last_24h},
                                   {"replies_by_method", std::move(by_method)},
                                   {"cache_hit_rate", figures->bot_messages == 0
                                                          ? 0.0
                                                          : static_cast<double>(cached) /
                                                                static_cast<double>(figures->bot_messages)},
                                   {"cache", cache_figures(*tenant)}});
}

}  // namespace

bool operator_edits(Routes& routes, Exchange& ex, const std::string& tenant, std::string_view rest) {
    struct Route {
        std::string_view prefix;
        const char* name;
        void (*handle)(Routes&, Exchange&, const std::string&, std::string_view);
    };
    static constexpr Route kRoutes[] = {
        {"/offerings/", "/v1/tenants/{tenant}/offerings/{id}", patch_offering_route},
        {"/info/", "/v1/tenants/{tenant}/info/{key}", put_info_route},
        {"/knowledge/", "/v1/tenants/{tenant}/knowledge/{id}", knowledge_route},
    };
    for (const auto& route : kRoutes) {
        if (!rest.starts_with(route.prefix)) continue;
        ex.route = route.name;
        ex.tenant = tenant;
        route.handle(routes, ex, tenant, rest.substr(route.prefix.size()));
        return true;
    }
    return false;
}

bool orchestrator_admin(Routes& routes, Exchange& ex) {
    const std::string_view path = ex.path;
    const auto with = [&](std::string_view prefix, std::size_t count, const char* route,
                          auto&& handle) -> bool {
        if (!path.starts_with(prefix)) return false;
        ex.route = route;
        auto parts = segments(path.substr(prefix.size()), count);
        if (!parts) {
            bad_segment(ex, "path");
            return true;
        }
        handle(*parts);
        return true;
    };
    constexpr std::string_view kBusiness = "/admin/business/", kMeta = "/meta";
    if (path.starts_with(kBusiness) && path.ends_with(kMeta) &&
        path.size() > kBusiness.size() + kMeta.size()) {
        ex.route = "/admin/business/{id}/meta";
        auto parts =
            segments(path.substr(kBusiness.size(), path.size() - kBusiness.size() - kMeta.size()), 1);
        if (!parts) {
            bad_segment(ex, "path");
            return true;
        }
        update_meta(routes, ex, (*parts)[0]);
        return true;
    }
    if (with("/admin/cache/invalidate/", 1, "/admin/cache/invalidate/{id}",
             [&](const auto& p) { invalidate_cache(routes, ex, p[0]); }))
        return true;
    if (with("/admin/cache/invalidate-product/", 2, "/admin/cache/invalidate-product/{id}/{product_id}",
             [&](const auto& p) { invalidate_product(routes, ex, p[0], p[1]); }))
        return true;
    if (with("/admin/cache/stats/", 1, "/admin/cache/stats/{id}",
             [&](const auto& p) { cache_stats(routes, ex, p[0]); }))
        return true;
    if (with("/admin/products/", 2, "/admin/products/{id}/{product_id}",
             [&](const auto& p) { update_product(routes, ex, p[0], p[1]); }))
        return true;
    if (with("/stats/", 1, "/stats/{id}", [&](const auto& p) { stats(routes, ex, p[0]); })) return true;
    return false;
}

}  // namespace tezgah::engine::http
