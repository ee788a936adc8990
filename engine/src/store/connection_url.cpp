// Database URL parsing and redaction.
#include "store/connection_url.hpp"

#include <cctype>
#include <optional>
#include <string_view>

namespace tezgah::engine {

namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

std::optional<std::string_view> strip_postgres_scheme(std::string_view url) {
    for (std::string_view scheme : {"postgresql://", "postgres://"}) {
        if (url.starts_with(scheme)) return url.substr(scheme.size());
    }
    return std::nullopt;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        int hi = hex_value(in[i + 1]);
        int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

/// A libpq keyword/value pair, the value quoted so that spaces and quotes survive.
std::string conninfo_pair(std::string_view key, std::string_view value) {
    std::string out(key);
    out += "='";
    for (char c : value) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    out += "' ";
    return out;
}

}  // namespace

std::string redact_url(const std::string& url) {
    std::string out = url;
    // Any scheme://user:password@host form, not only the ones we accept.
    if (auto scheme_end = url.find("://"); scheme_end != std::string::npos) {
        std::size_t start = scheme_end + 3;
        std::size_t end = url.find_first_of("/?", start);
        if (end == std::string::npos) end = url.size();
        std::size_t at = url.rfind('@', end);
        if (at != std::string::npos && at >= start) {
            std::size_t colon = url.find(':', start);
            if (colon != std::string::npos && colon < at)
                out = url.substr(0, colon + 1) + "***" + url.substr(at);
        }
    }
    // A password given as a query parameter.
    for (std::size_t pos = out.find("password="); pos != std::string::npos;
         pos = out.find("password=", pos + 1)) {
        if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&') continue;
        std::size_t value = pos + 9;
        std::size_t end = out.find('&', value);
        out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
    return out;
}

namespace store {

sdk::Result<ConnectionTarget> parse_database_url(const std::string& url) {
    auto invalid = [&](const std::string& why) {
        return sdk::make_error("invalid_argument", "database URL \"" + redact_url(url) + "\": " + why);
    };

    if (url.starts_with(kSqlitePrefix)) {
        std::string path = url.substr(kSqlitePrefix.size());
        if (path.starts_with("//")) path.erase(0, 2);  // sqlite:///abs/path
        if (path.empty()) return invalid("no file path after \"sqlite:\"");
        return ConnectionTarget{Backend::sqlite, path, {}};
    }

    auto rest = strip_postgres_scheme(url);
    if (!rest) return invalid("expected sqlite:PATH or postgresql://user@host:port/db");

    std::string_view body = *rest;
    std::string_view query;
    if (auto q = body.find('?'); q != std::string_view::npos) {
        query = body.substr(q + 1);
        body = body.substr(0, q);
    }
    std::string_view authority = body;
    std::string_view database;
    if (auto slash = body.find('/'); slash != std::string_view::npos) {
        authority = body.substr(0, slash);
        database = body.substr(slash + 1);
    }

    std::string conninfo;
    std::string_view hostport = authority;
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        hostport = authority.substr(at + 1);
        std::string_view user = userinfo;
        std::optional<std::string_view> password;
        if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
            user = userinfo.substr(0, colon);
            password = userinfo.substr(colon + 1);
        }
        auto decoded_user = percent_decode(user);
        if (!decoded_user) return invalid("bad percent-encoding in the user name");
        if (!decoded_user->empty()) conninfo += conninfo_pair("user", *decoded_user);
        if (password) {
            auto decoded = percent_decode(*password);
            if (!decoded) return invalid("bad percent-encoding in the password");
            conninfo += conninfo_pair("password", *decoded);
        }
    }

    std::string_view host = hostport;
    std::string_view port;
    if (hostport.starts_with('[')) {  // [::1]:5432
        auto close = hostport.find(']');
        if (close == std::string_view::npos) return invalid("unclosed '[' in the host");
        host = hostport.substr(1, close - 1);
        std::string_view after = hostport.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return invalid("expected ':' after ']'");
            port = after.substr(1);
        }
    } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
        host = hostport.substr(0, colon);
        port = hostport.substr(colon + 1);
    }
    if (host.empty()) return invalid("no host");
    for (char c : port) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return invalid("port is not a number");
    }
    auto decoded_host = percent_decode(host);  // a unix socket folder may be %2F-encoded
    if (!decoded_host) return invalid("bad percent-encoding in the host");
    conninfo += conninfo_pair("host", *decoded_host);
    if (!port.empty()) conninfo += conninfo_pair("port", port);

    auto decoded_db = percent_decode(database);
    if (!decoded_db) return invalid("bad percent-encoding in the database name");
    if (decoded_db->empty()) return invalid("no database name after the host");
    conninfo += conninfo_pair("dbname", *decoded_db);

    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) return invalid("query parameter without a value");
        auto key = percent_decode(pair.substr(0, eq));
        auto value = percent_decode(pair.substr(eq + 1));
        if (!key || !value) return invalid("bad percent-encoding in a query parameter");
        for (char c : *key) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
                return invalid("bad query parameter name \"" + *key + "\"");
        }
        conninfo += conninfo_pair(*key, *value);
    }
    if (!conninfo.empty()) conninfo.pop_back();
    return ConnectionTarget{Backend::postgresql, {}, conninfo};
}

}  // namespace store
}  // namespace tezgah::engine
