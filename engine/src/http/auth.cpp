// Authentication of operators' requests by API key (docs/operators.md, "Keys").
#include "http/exchange.hpp"

namespace tezgah::engine::http {

bool is_loopback_address(std::string_view address) {
    if (address.starts_with("::ffff:")) address.remove_prefix(7);
    return address.starts_with("127.") || address == "::1";
}

std::optional<ApiKey> Routes::authorize(Exchange& ex, const std::string& tenant, std::string_view scope) {
    auto refuse = [&](int status, std::string_view code, const std::string& message) {
        if (status == 401) ex.set_header("WWW-Authenticate", "Bearer");
        ex.send_error(status, code, message);
        return std::optional<ApiKey>{};
    };
    std::string_view header = ex.request.header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.empty())
        return refuse(401, "unauthorized", "this route needs an API key: Authorization: Bearer KEY");
    if (header.size() <= kBearer.size() || !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                                                       [](char a, char b) {
                                                           return std::tolower(static_cast<unsigned char>(a)) ==
                                                                  std::tolower(static_cast<unsigned char>(b));
                                                       }))
        return refuse(401, "unauthorized", "Authorization: expected \"Bearer KEY\"");
    std::string_view presented = header.substr(kBearer.size());
    while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
    while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
    auto key = verify_api_key(engine.database(), presented);
    if (!key) {
        ex.send_error(key.error());
        return {};
    }
    if (!*key) return refuse(401, "unauthorized", "the API key is not known or was revoked");
    ex.key_id = (*key)->id;
    if (tenant.empty() ? !(*key)->all_tenants() : !(*key)->covers(tenant))
        return refuse(403, "forbidden",
                      tenant.empty() ? "this route needs a key for every tenant"
                                     : "the API key is not for tenant \"" + tenant + "\"");
    if (!(*key)->has_scope(scope))
        return refuse(403, "forbidden", "the API key lacks the scope " + std::string(scope));
    return *key;
}

}  // namespace tezgah::engine::http
