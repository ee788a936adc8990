#include "util/http_client.hpp"

#include <tezgah/sdk/errors.hpp>

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "util/http_connection.hpp"
#include "util/http_proxy.hpp"
#include "util/http_tls.hpp"

namespace tezgah::engine {
namespace sdk = tezgah::sdk;
using http::fail;

// ---- Call limits -----------------------------------------------------------------------------

namespace {
thread_local CallLimits t_limits;
}

ScopedCallLimits::ScopedCallLimits(CallLimits limits) : previous_(t_limits) { t_limits = limits; }
ScopedCallLimits::~ScopedCallLimits() { t_limits = previous_; }
const CallLimits& current_call_limits() { return t_limits; }

namespace {
thread_local std::uint64_t t_sent = 0;
}  // namespace

std::uint64_t requests_sent_on_this_thread() { return t_sent; }

void swap_call_state(CallLimits& limits, std::uint64_t& sent) {
    std::swap(t_limits, limits);
    std::swap(t_sent, sent);
}

namespace {

// ---- The URL ---------------------------------------------------------------------------------

using http::lower;

/// The URL as messages show it: no query, fragment or credentials (keys sometimes live there).
std::string url_for_messages(std::string_view url) {
    url = url.substr(0, url.find_first_of("?#"));
    std::string out(url);
    if (auto scheme = out.find("://"); scheme != std::string::npos) {
        const auto start = scheme + 3;
        const auto end = std::min(out.find('/', start), out.size());
        if (auto at = out.rfind('@', end); at != std::string::npos && at >= start)
            out.erase(start, at + 1 - start);
    }
    return out;
}

http::Target parse_target(const std::string& url) {
    Poco::URI uri;
    try {
        uri = Poco::URI(url);
    } catch (const Poco::Exception&) {
        fail("invalid_argument", "not a valid URL");
    }
    http::Target target;
    target.scheme = lower(uri.getScheme());
    if (target.scheme != "http" && target.scheme != "https")
        fail("unsupported", target.scheme.empty()
                                ? "the URL has no scheme (http:// or https://)"
                                : target.scheme + ":// URLs are not supported (only http and https)");
    target.host = uri.getHost();
    if (target.host.empty()) fail("invalid_argument", "the URL has no host");
    target.port = uri.getPort();
    if (target.port <= 0) fail("invalid_argument", "the URL has no valid port");
    const bool v6 = target.host.find(':') != std::string::npos;
    target.host_header = v6 ? "[" + target.host + "]" : target.host;
    if (target.port != (target.https() ? 443 : 80)) target.host_header += ":" + std::to_string(target.port);
    target.userinfo = uri.getUserInfo();
    // The request target exactly as written (Poco::URI would re-encode the path).
    std::string_view rest(url);
    rest.remove_prefix(rest.find("://") + 3);
    rest = rest.substr(0, rest.find('#'));
    const auto path_start = rest.find_first_of("/?");
    target.path = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
    if (target.path.front() == '?') target.path.insert(0, "/");
    for (unsigned char c : target.path)
        if (c <= ' ' || c == 0x7f)
            fail("invalid_argument", "the URL has spaces or control characters (encode them)");
    return target;
}

std::string base64(std::string_view text) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder.write(text.data(), static_cast<std::streamsize>(text.size()));
    encoder.close();
    return out.str();
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) ||
               std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    });
}

bool has_token(std::string_view list, std::string_view token) {
    std::size_t start = 0;
    while (start <= list.size()) {
        auto end = list.find(',', start);
        if (end == std::string_view::npos) end = list.size();
        std::string_view item = list.substr(start, end - start);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
        while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
        if (Poco::icompare(std::string(item), std::string(token)) == 0) return true;
        start = end + 1;
    }
    return false;
}

// ---- The request -----------------------------------------------------------------------------

struct RequestHead {
    std::string text;
    bool close = false;  // the caller asked for Connection: close
};

RequestHead build_head(const sdk::OutboundRequest& request, const http::Target& target,
                       const std::optional<http::ProxyConfig>& proxy) {
    const std::string method = request.method.empty() ? "GET" : request.method;
    if (!is_token(method)) fail("invalid_argument", "not a valid HTTP method");
    RequestHead head;
    std::string fields;
    bool host = false, agent = false, authorization = false;
    for (const auto& [name, value] : request.headers) {
        if (!is_token(name)) fail("invalid_argument", "not a valid header name");
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
            fail("invalid_argument", "header " + name + " has a line break in its value");
        const std::string key = lower(name);
        if (key == "content-length" || key == "transfer-encoding") continue;  // the client frames the body
        host |= key == "host";
        agent |= key == "user-agent";
        authorization |= key == "authorization";
        if (key == "connection" && has_token(value, "close")) head.close = true;
        fields += name + ": " + value + "\r\n";
    }
    const bool via_proxy = proxy && !target.https();  // plain http goes to the proxy in absolute form
    head.text = method + " " +
                (via_proxy ? target.scheme + "://" + target.host_header + target.path : target.path) +
                " HTTP/1.1\r\n";
    if (!host) head.text += "Host: " + target.host_header + "\r\n";
    if (!agent) head.text += "User-Agent: tezgah/" TEZGAH_VERSION "\r\n";
    if (!authorization && !target.userinfo.empty()) {
        std::string userinfo;
        Poco::URI::decode(target.userinfo, userinfo);
        head.text += "Authorization: Basic " + base64(userinfo) + "\r\n";
    }
    if (via_proxy && !proxy->authorization.empty())
        head.text += "Proxy-Authorization: " + proxy->authorization + "\r\n";
    head.text += fields;
    static const char* const kNoBodyMethods[] = {"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"};
    const bool bodyless = std::any_of(std::begin(kNoBodyMethods), std::end(kNoBodyMethods),
                                      [&](const char* m) { return method == m; });
    if (!request.body.empty() || !bodyless)
        head.text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    head.text += "\r\n";
    return head;
}

// ---- The response ----------------------------------------------------------------------------

struct Exchange {
    sdk::HttpResponse response;
    bool reusable = false;
    std::optional<std::chrono::seconds> keep_alive;
};

class BodyReader {
public:
    BodyReader(http::Connection& connection, const http::Budget& budget, const sdk::OutboundRequest& request,
               std::string& body, std::size_t limit, bool stream)
        : connection_(connection),
          budget_(budget),
          request_(request),
          body_(body),
          limit_(limit),
          stream_(stream) {}

    /// Waits for bytes; a stream that ends here ends before the response does.
    void need_more() {
        if (!connection_.receive_more(budget_, kPhase))
            fail("unavailable", "connection closed before the end of the response");
    }

    /// Delivers up to `count` received bytes (at least one, waiting if none); returns how many.
    std::size_t deliver_some(std::size_t count) {
        if (connection_.pending().empty()) need_more();
        const auto piece = connection_.pending().substr(0, count);
        emit(piece);
        connection_.consume(piece.size());
        return piece.size();
    }

    void fixed_length(std::size_t length) {
        if (length > limit_) too_large();
        while (length > 0) length -= deliver_some(length);
    }

    void until_close() {
        for (;;) {
            if (connection_.pending().empty() && !connection_.receive_more(budget_, kPhase)) return;
            const auto piece = connection_.pending();
            emit(piece);
            connection_.consume(piece.size());
        }
    }

    /// Returns false when the stream ended right after the last chunk, without the final CRLF.
    bool chunked() {
        for (;;) {
            const std::string size_line = line(true);
            std::string_view hex(size_line);
            hex = hex.substr(0, hex.find(';'));  // chunk extensions are ignored
            while (!hex.empty() && (hex.back() == ' ' || hex.back() == '\t')) hex.remove_suffix(1);
            std::size_t size = 0;
            if (hex.empty() || hex.size() > 15)
                fail("bad_response", "malformed chunk size in the response body");
            for (char c : hex) {
                if (!std::isxdigit(static_cast<unsigned char>(c)))
                    fail("bad_response", "malformed chunk size in the response body");
                size = size * 16 +
                       static_cast<std::size_t>(std::isdigit(static_cast<unsigned char>(c))
                                                    ? c - '0'
                                                    : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
            }
            if (size == 0) {
                // Trailers up to a blank line; a server that closes right here sent the whole body.
                for (;;) {
                    if (connection_.pending().find('\n') == std::string_view::npos) {
                        if (connection_.pending().size() > 8192)
                            fail("bad_response", "malformed chunked response body");
                        if (!connection_.receive_more(budget_, kPhase)) return false;
                        continue;
                    }
                    if (line(true).empty()) return true;
                }
            }
            if (body_.size() + size > limit_) too_large();
            while (size > 0) size -= deliver_some(size);
            if (!line(false).empty()) fail("bad_response", "malformed chunked response body");
        }
    }

private:
    static constexpr const char* kPhase = "reading the response body";

    /// One line (without CRLF) of chunked framing.
    std::string line(bool may_be_long) {
        for (;;) {
            const auto data = connection_.pending();
            if (const auto eol = data.find('\n'); eol != std::string_view::npos) {
                std::string out(data.substr(0, eol));
                if (!out.empty() && out.back() == '\r') out.pop_back();
                connection_.consume(eol + 1);
                return out;
            }
            if (data.size() > (may_be_long ? 8192u : 2u))
                fail("bad_response", "malformed chunked response body");
            need_more();
        }
    }

    void emit(std::string_view piece) {
        if (piece.empty()) return;
        if (body_.size() + piece.size() > limit_) too_large();
        body_.append(piece);
        if (!stream_ || !request_.on_chunk) return;
        try {
            request_.on_chunk(piece);
        } catch (const std::exception& e) {
            fail("internal", std::string("the on_chunk callback threw: ") + e.what());
        } catch (...) {
            fail("internal", "the on_chunk callback threw");
        }
    }

    [[noreturn]] void too_large() {
        fail("bad_response", "the response body is larger than " + std::to_string(limit_) + " bytes");
    }

    http::Connection& connection_;
    const http::Budget& budget_;
    const sdk::OutboundRequest& request_;
    std::string& body_;
    std::size_t limit_;
    bool stream_;
};

std::optional<std::size_t> content_length(const http::ResponseHead& head) {
    if (!head.has("content-length")) return std::nullopt;
    // Repeated identical values ("5, 5") are allowed (RFC 9110, 8.6); anything else is not.
    const std::string values = head.values("content-length");
    std::optional<std::size_t> length;
    std::size_t start = 0;
    while (start <= values.size()) {
        auto end = values.find(',', start);
        if (end == std::string::npos) end = values.size();
        std::string item = Poco::trim(values.substr(start, end - start));
        start = end + 1;
        Poco::UInt64 n = 0;
        if (item.empty() ||
            !std::all_of(item.begin(), item.end(), [](unsigned char c) { return std::isdigit(c); }) ||
            !Poco::NumberParser::tryParseUnsigned64(item, n) || (length && *length != n))
            fail("bad_response", "invalid Content-Length in the response");
        length = static_cast<std::size_t>(n);
    }
    return length;
}

std::optional<std::chrono::seconds> keep_alive_timeout(const http::ResponseHead& head) {
    const std::string value = lower(head.values("keep-alive"));
    const auto at = value.find("timeout=");
    if (at == std::string::npos) return std::nullopt;
    unsigned seconds = 0;
    std::string digits;
    for (auto i = at + 8; i < value.size() && std::isdigit(static_cast<unsigned char>(value[i])); ++i)
        digits += value[i];
    if (!Poco::NumberParser::tryParseUnsigned(digits, seconds)) return std::nullopt;
    return std::chrono::seconds(seconds);
}

Exchange exchange(http::Connection& connection, const RequestHead& head, const sdk::OutboundRequest& request,
                  const http::Budget& budget, std::size_t body_limit) {
    connection.reset_received();
    connection.send_all(head.text, budget, "sending the request");
    connection.send_all(request.body, budget, "sending the request");

    http::ResponseHead response_head;
    do {
        response_head = http::read_response_head(connection, budget);
    } while (response_head.status >= 100 && response_head.status < 200 && response_head.status != 101);
    if (response_head.status == 101)
        fail("bad_response", "the server switched protocols (101), which is not supported");

    Exchange out;
    out.response.status = response_head.status;
    out.response.headers = response_head.headers;
    out.response.content_type = response_head.values("content-type");

    const std::string method = request.method.empty() ? "GET" : request.method;
    const bool no_body = method == "HEAD" || response_head.status == 204 || response_head.status == 304;
    bool framed = true;
    // Only a successful response streams: an error's body comes back whole, so a caller may still
    // retry it (nothing of it reached on_chunk).
    const bool success = response_head.status >= 200 && response_head.status < 300;
    BodyReader body(connection, budget, request, out.response.body, body_limit, success);
    if (!no_body) {
        const std::string encodings = lower(response_head.values("transfer-encoding"));
        if (!encodings.empty()) {
            std::string last =
                encodings.substr(encodings.rfind(',') == std::string::npos ? 0 : encodings.rfind(',') + 1);
            last = Poco::trim(last);
            if (last == "chunked")
                framed = body.chunked();
            else {
                body.until_close();
                framed = false;
            }
        } else if (auto length = content_length(response_head)) {
            body.fixed_length(*length);
        } else {
            body.until_close();
            framed = false;
        }
    }

    const std::string connection_header = response_head.values("connection");
    const bool server_keeps = response_head.minor_version >= 1 ? !has_token(connection_header, "close")
                                                               : has_token(connection_header, "keep-alive");
    out.reusable = framed && server_keeps && !head.close && connection.pending().empty();
    out.keep_alive = keep_alive_timeout(response_head);
    return out;
}

std::string route_key(const http::Target& target, const std::optional<http::ProxyConfig>& proxy,
                      const std::string& ca_file) {
    std::string key = target.scheme + "://" + target.host_header + ":" + std::to_string(target.port);
    if (proxy) key += " via " + proxy->display() + " " + proxy->authorization;
    if (target.https()) key += " trusting " + ca_file;
    return key;
}

}  // namespace

// ---- PocoHttpClient --------------------------------------------------------------------------

PocoHttpClient::PocoHttpClient() : PocoHttpClient(Options{}) {}

PocoHttpClient::PocoHttpClient(Options options)
    : options_(options), pool_(std::make_unique<Pool>(options.max_idle_per_origin, options.idle_expiry)) {}

PocoHttpClient::~PocoHttpClient() = default;

std::size_t PocoHttpClient::idle_connections() const { return pool_->idle(); }

sdk::Result<sdk::HttpResponse> PocoHttpClient::send(const sdk::OutboundRequest& request) {
    ++t_sent;
    const std::string shown = url_for_messages(request.url);
    try {
        const CallLimits limits = t_limits;
        if (limits.cancelled && limits.cancelled->load())
            return sdk::Error{sdk::errc::cancelled, shown + ": cancelled before sending (the caller left)"};
        if (limits.deadline != std::chrono::steady_clock::time_point{} &&
            limits.deadline <= std::chrono::steady_clock::now())
            return sdk::Error{sdk::errc::timeout,
                              shown + ": the turn deadline has passed; the request was not sent"};

        const http::Target target = parse_target(request.url);
        const auto proxy = http::proxy_from_environment(target.scheme, target.host);
        std::string ca_file;
        Poco::Net::Context::Ptr tls;
        if (target.https()) {
            if (const char* file = std::getenv("TEZGAH_CA_FILE")) ca_file = file;
            tls = http::client_tls_context(ca_file);
        }
        const RequestHead head = build_head(request, target, proxy);
        const std::string route = route_key(target, proxy, ca_file);
        const http::Budget budget(request.timeout_ms, limits);

        for (int attempt = 0;; ++attempt) {
            std::unique_ptr<http::Connection> connection = attempt == 0 ? pool_->take(route) : nullptr;
            const bool reused = connection != nullptr;
            if (!connection)
                connection = http::open_connection(target, proxy, tls, budget, options_.connect_timeout);
            try {
                Exchange result = exchange(*connection, head, request, budget, options_.max_body_bytes);
                if (result.reusable) pool_->put(route, std::move(connection), result.keep_alive);
                return std::move(result.response);
            } catch (const http::Failure& failure) {
                // The server closed the idle connection as the request went out: try once more on a
                // new one, as nothing of a response arrived (and so nothing reached on_chunk).
                if (reused && attempt == 0 && failure.retryable && connection->received() == 0) continue;
                throw;
            }
        }
    } catch (const http::Failure& failure) {
        return sdk::Error{failure.code, shown + ": " + failure.detail};
    } catch (const Poco::TimeoutException& e) {
        return sdk::Error{sdk::errc::timeout, shown + ": " + e.displayText()};
    } catch (const Poco::Net::SSLException& e) {
        return sdk::Error{"tls", shown + ": " + e.displayText()};
    } catch (const Poco::Exception& e) {
        return sdk::Error{sdk::errc::unavailable, shown + ": " + e.displayText()};
    } catch (const std::exception& e) {
        return sdk::Error{sdk::errc::internal, shown + ": " + e.what()};
    } catch (...) {
        return sdk::Error{sdk::errc::internal, shown + ": unknown error"};
    }
}

}  // namespace tezgah::engine
