// Authentication of operators' requests by API key (docs/operators.md, "Keys and the audit log").
#include "http/exchange.hpp"

namespace tezgah::engine::http {
namespace {

void refuse(Exchange& ex, int status, std::string_view code, const std::string& message) {
    if (status == 401) ex.set_header("WWW-Authenticate", "Bearer");
    ex.send_error(status, code, message);
}

}  // namespace

bool is_loopback_address(std::string_view address) {
    if (address.starts_with("::ffff:")) address.remove_prefix(7);
    return address.starts_with("127.") || address == "::1";
}

std::optional<ApiKey> Routes::authorize(Exchange& ex, const std::string& tenant, std::string_view scope) {
    auto key = authenticate(ex);
    if (!key || !permit(ex, *key, tenant, scope)) return std::nullopt;
    return key;
}

std::optional<ApiKey> Routes::authenticate(Exchange& ex) {
    std::string_view header = ex.request.header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.empty()) {
        if (auto token = session_cookie(ex.request); !token.empty()) return authenticate_session(ex, token);
        refuse(ex, 401, "unauthorized", "this route needs an API key: Authorization: Bearer KEY");
        return std::nullopt;
    }
    if (header.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), header.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
        refuse(ex, 401, "unauthorized", "Authorization: expected \"Bearer KEY\"");
        return std::nullopt;
    }
    std::string_view presented = header.substr(kBearer.size());
    while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
    while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
    return authenticate_key(ex, presented);
}

std::optional<ApiKey> Routes::authenticate_key(Exchange& ex, std::string_view presented) {
    auto checked = check_api_key(engine.database(), presented);
    if (!checked) {
        ex.send_error(checked.error());
        return std::nullopt;
    }
    // A refused key that names a stored one is recorded too (a revoked key still in use, a guess).
    ex.key_id = checked->known_id;
    if (!checked->key) {
        refuse(ex, 401, "unauthorized", "the API key is not known or was revoked");
        return std::nullopt;
    }
    if (audit != nullptr) audit->touch(checked->key->id, std::chrono::system_clock::now());
    return std::move(checked->key);
}

bool Routes::permit(Exchange& ex, const ApiKey& key, const std::string& tenant, std::string_view scope) {
    if (tenant.empty() ? !key.all_tenants() : !key.covers(tenant)) {
        refuse(ex, 403, "forbidden",
               tenant.empty() ? "this route needs a key for every tenant"
                              : "the API key is not for tenant \"" + tenant + "\"");
        return false;
    }
    if (scope != kAnyScope && !key.has_scope(scope)) {
        refuse(ex, 403, "forbidden", "the API key lacks the scope " + std::string(scope));
        return false;
    }
    return true;
}

bool Routes::keyed_off_loopback(Exchange& ex, const std::string& tenant, std::string_view scope) {
    if (is_loopback_address(ex.request.client_address) && ex.request.header("authorization").empty())
        return true;
    return authorize(ex, tenant, scope).has_value();
}

}  // namespace tezgah::engine::http
