#pragma once
// Proxies for outbound HTTP from the environment, as curl reads them:
//   https:// URLs: https_proxy, then HTTPS_PROXY; http:// URLs: http_proxy, then HTTP_PROXY;
//   then all_proxy / ALL_PROXY for both. Empty means unset.
//   A proxy URL is [http://][user:password@]host[:port] (port 1080 when omitted, like curl);
//   user and password are percent-decoded and sent as Basic Proxy-Authorization.
//   no_proxy, then NO_PROXY: comma-separated host names, domain suffixes (".example.com" and
//   "example.com" both match "api.example.com"), IP addresses, CIDR blocks ("10.0.0.0/8"), or "*"
//   for every host. Nothing is implicitly direct: localhost goes through the proxy unless listed.

#include <optional>
#include <string>
#include <string_view>

namespace tezgah::engine::http {

struct ProxyConfig {
    std::string host;  ///< without brackets
    int port = 1080;
    std::string authorization;  ///< "Basic ..." or empty
    /// host:port, for messages (no credentials).
    std::string display() const;
};

/// Whether `host` is exempt from the proxy under `no_proxy` (curl's rules, above).
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

/// Parses a proxy URL. Throws Failure "invalid_argument" / "unsupported" naming `variable` only
/// (the value may hold a password).
ProxyConfig parse_proxy_url(std::string_view value, std::string_view variable);

/// The proxy for a request to `scheme`://`host` from the environment, if any.
std::optional<ProxyConfig> proxy_from_environment(std::string_view scheme, std::string_view host);

}  // namespace tezgah::engine::http
