#include "util/http_proxy.hpp"

#include <Poco/Base64Encoder.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/NumberParser.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "util/http_connection.hpp"

namespace tezgah::engine::http {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? std::string(trim(value)) : std::string();
}

/// `host` without brackets, trailing dot, in lower case.
std::string normal_host(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    while (!host.empty() && host.back() == '.') host.remove_suffix(1);
    return lower(host);
}

bool cidr_matches(std::string_view entry, const Poco::Net::IPAddress& host) {
    const auto slash = entry.find('/');
    Poco::Net::IPAddress network;
    unsigned bits = 0;
    if (!Poco::Net::IPAddress::tryParse(normal_host(entry.substr(0, slash)), network)) return false;
    if (!Poco::NumberParser::tryParseUnsigned(std::string(entry.substr(slash + 1)), bits)) return false;
    if (network.family() != host.family()) return false;
    const unsigned max_bits = network.family() == Poco::Net::IPAddress::IPv4 ? 32 : 128;
    if (bits > max_bits) return false;
    const Poco::Net::IPAddress mask(bits, network.family());
    return (network & mask) == (host & mask);
}

}  // namespace

std::string ProxyConfig::display() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view raw_host) {
    const std::string host = normal_host(raw_host);
    Poco::Net::IPAddress host_ip;
    const bool host_is_ip = Poco::Net::IPAddress::tryParse(host, host_ip);
    std::size_t start = 0;
    while (start <= no_proxy.size()) {
        auto end = no_proxy.find_first_of(", ", start);
        if (end == std::string_view::npos) end = no_proxy.size();
        std::string_view entry = trim(no_proxy.substr(start, end - start));
        start = end + 1;
        if (entry.empty()) continue;
        if (entry == "*") return true;
        if (host_is_ip) {
            if (entry.find('/') != std::string_view::npos) {
                if (cidr_matches(entry, host_ip)) return true;
                continue;
            }
            Poco::Net::IPAddress entry_ip;
            if (Poco::Net::IPAddress::tryParse(normal_host(entry), entry_ip) && entry_ip == host_ip)
                return true;
            continue;
        }
        while (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
        const std::string domain = normal_host(entry);
        if (domain.empty()) continue;
        if (host == domain) return true;
        if (host.size() > domain.size() &&
            host.compare(host.size() - domain.size(), domain.size(), domain) == 0 &&
            host[host.size() - domain.size() - 1] == '.')
            return true;
    }
    return false;
}

ProxyConfig parse_proxy_url(std::string_view value, std::string_view variable) {
    const std::string name(variable);
    std::string_view rest = trim(value);
    if (auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
        const std::string scheme = lower(rest.substr(0, scheme_end));
        if (scheme != "http")
            fail("unsupported",
                 name + ": proxy scheme " + scheme + ":// is not supported (only http:// proxies)");
        rest.remove_prefix(scheme_end + 3);
    }
    rest = rest.substr(0, rest.find_first_of("/?#"));
    ProxyConfig proxy;
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        rest.remove_prefix(at + 1);
        const auto colon = userinfo.find(':');
        std::string user, password;
        Poco::URI::decode(std::string(userinfo.substr(0, colon)), user);
        if (colon != std::string_view::npos)
            Poco::URI::decode(std::string(userinfo.substr(colon + 1)), password);
        std::ostringstream encoded;
        Poco::Base64Encoder encoder(encoded);
        encoder.rdbuf()->setLineLength(0);
        encoder << user << ':' << password;
        encoder.close();
        proxy.authorization = "Basic " + encoded.str();
    }
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) fail("invalid_argument", name + ": not a valid proxy URL");
        proxy.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') fail("invalid_argument", name + ": not a valid proxy URL");
            port_text = rest.substr(1);
        }
    } else {
        const auto colon = rest.find(':');
        proxy.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    }
    if (proxy.host.empty()) fail("invalid_argument", name + ": the proxy URL has no host");
    if (!port_text.empty()) {
        unsigned port = 0;
        if (!Poco::NumberParser::tryParseUnsigned(std::string(port_text), port) || port == 0 || port > 65535)
            fail("invalid_argument", name + ": the proxy URL has an invalid port");
        proxy.port = static_cast<int>(port);
    }
    return proxy;
}

std::optional<ProxyConfig> proxy_from_environment(std::string_view scheme, std::string_view host) {
    const char* const https_names[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    const char* const http_names[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"};
    const auto& names = scheme == "https" ? https_names : http_names;
    for (const char* name : names) {
        const std::string value = env(name);
        if (value.empty()) continue;
        std::string no_proxy = env("no_proxy");
        if (no_proxy.empty()) no_proxy = env("NO_PROXY");
        if (no_proxy_matches(no_proxy, host)) return std::nullopt;
        return parse_proxy_url(value, name);
    }
    return std::nullopt;
}

}  // namespace tezgah::engine::http
