#include "util/http_connection.hpp"

#include <Poco/Error.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/HostEntry.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/SocketImpl.h>
#include <Poco/String.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include "util/coroutine.hpp"
#include "util/http_tls.hpp"

namespace tezgah::engine::http {

using namespace std::chrono;
using Poco::Net::Socket;

void fail(std::string code, std::string detail, bool retryable) {
    throw Failure{std::move(code), std::move(detail), retryable};
}

// ---- Budget ----------------------------------------------------------------------------------

Budget::Budget(int timeout_ms, const CallLimits& limits) : cancelled_(limits.cancelled) {
    total_ms_ = timeout_ms > 0 ? timeout_ms : 20000;
    deadline_ = Clock::now() + milliseconds(total_ms_);
    turn_limited_ = limits.deadline != Clock::time_point{} && limits.deadline < deadline_;
    if (turn_limited_) deadline_ = limits.deadline;
}

void Budget::check(std::string_view phase) const {
    if (cancelled_ && cancelled_->load(std::memory_order_relaxed))
        fail("cancelled", "cancelled while " + std::string(phase) + " (the caller left)");
    if (Clock::now() >= deadline_) {
        if (turn_limited_) fail("timeout", "the turn deadline was reached while " + std::string(phase));
        fail("timeout", "timed out after " + std::to_string(total_ms_) + " ms while " + std::string(phase));
    }
}

microseconds Budget::slice() const {
    const auto left = duration_cast<microseconds>(deadline_ - Clock::now());
    // A coroutine's wait is ended at once by a departure (cancel_calls): it needs no short slices
    // to notice one, and each slice would wake it for nothing. A flag set some other way is still
    // seen within a second.
    const auto longest = in_coroutine() ? microseconds(1'000'000) : microseconds(100'000);
    return std::clamp(left, microseconds(1000), longest);
}

// ---- Connection ------------------------------------------------------------------------------

Connection::Connection(const Poco::Net::StreamSocket& socket) : socket_(socket) {}

Connection::~Connection() {
    try {
        socket_.close();
    } catch (...) {
    }
}

void Connection::consume(std::size_t n) {
    pos_ += std::min(n, buffer_.size() - pos_);
    if (pos_ == buffer_.size()) {
        buffer_.clear();
        pos_ = 0;
    }
}

namespace {

/// The server closed a TLS connection without close_notify: the end of the stream, like a TCP close.
bool unexpected_eof(const Poco::Exception& e) {
    return dynamic_cast<const Poco::Net::SSLConnectionUnexpectedlyClosedException*>(&e) != nullptr ||
           e.message().find("unexpected eof") != std::string::npos;
}

}  // namespace

bool Connection::receive_more(const Budget& budget, std::string_view phase) {
    char chunk[16 * 1024];
    for (;;) {
        budget.check(phase);
        int n = 0;
        try {
            if (socket_.available() <= 0 &&
                !wait_ready(socket_.impl()->sockfd(), Readiness::read, budget.slice()))
                continue;
            n = socket_.receiveBytes(chunk, sizeof chunk);
        } catch (const Poco::TimeoutException&) {
            continue;  // a TLS record arrived in part; wait for the rest
        } catch (const Poco::Net::ConnectionResetException&) {
            fail("unavailable", "the connection was reset by the server", received_ == 0);
        } catch (const Poco::Net::SSLException& e) {
            if (unexpected_eof(e)) return false;
            fail("unavailable", "TLS error while " + std::string(phase) + ": " + e.message(), received_ == 0);
        } catch (const Poco::Exception& e) {
            fail("unavailable", "receive failed while " + std::string(phase) + ": " + e.displayText(),
                 received_ == 0);
        }
        if (n > 0) {
            if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {
                buffer_.erase(0, pos_);
                pos_ = 0;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
            received_ += static_cast<std::size_t>(n);
            return true;
        }
        if (n == 0) return false;
        // Nothing to read after all (a TLS record in part, or a post-handshake message).
        if (n == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE)
            wait_ready(socket_.impl()->sockfd(), Readiness::write, budget.slice());
    }
}

void Connection::send_all(std::string_view data, const Budget& budget, std::string_view phase) {
    while (!data.empty()) {
        budget.check(phase);
        int n = 0;
        try {
            n = socket_.sendBytes(
                data.data(), static_cast<int>(std::min<std::size_t>(data.size(), 64 * 1024)), MSG_NOSIGNAL);
        } catch (const Poco::TimeoutException&) {
            n = -1;
        } catch (const Poco::Exception& e) {
            fail("unavailable",
                 "the connection was lost while " + std::string(phase) + " (" + e.displayText() + ")", true);
        }
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        const auto mode = n == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_READ && socket_.secure()
                              ? Readiness::read
                              : Readiness::write;
        wait_ready(socket_.impl()->sockfd(), mode, budget.slice());
    }
}

void Connection::start_tls(const std::string& host, const Poco::Net::Context::Ptr& context,
                           const Budget& budget) {
    if (!pending().empty()) fail("bad_response", "unexpected bytes before the TLS handshake");
    const std::string phase = "in the TLS handshake with " + host;
    clear_certificate_failure();
    try {
        socket_.setBlocking(false);  // so attach() only prepares the handshake; it is driven below
        auto secure = Poco::Net::SecureStreamSocket::attach(socket_, host, context);
        for (;;) {
            budget.check(phase);
            // The reason for a rejected certificate is kept per thread, and a turn that waited
            // may go on on another thread: cleared before each step, read in the same step.
            clear_certificate_failure();
            const int rc = secure.completeHandshake();
            if (rc == 1) break;
            if (rc == 0) fail("unavailable", "the server closed the connection in the TLS handshake");
            const auto mode =
                rc == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE ? Readiness::write : Readiness::read;
            wait_ready(secure.impl()->sockfd(), mode, budget.slice());
        }
        check_certificate_host(secure, host);
        socket_ = secure;
    } catch (const Failure&) {
        throw;
    } catch (const Poco::Net::SSLException& e) {
        std::string reason = take_certificate_failure();
        if (!reason.empty()) fail("tls", "certificate verify failed: " + reason);
        fail("tls", "TLS handshake with " + host + " failed: " + e.message());
    } catch (const Poco::TimeoutException&) {
        budget.check(phase);
        fail("timeout", "timed out " + phase);
    } catch (const Poco::Exception& e) {
        std::string reason = take_certificate_failure();
        if (!reason.empty()) fail("tls", "certificate verify failed: " + reason);
        fail("unavailable", "TLS handshake with " + host + " failed: " + e.displayText());
    }
}

bool Connection::looks_dead() {
    if (!pending().empty()) return true;
    try {
        for (int i = 0; i < 4; ++i) {
            if (!socket_.poll(Poco::Timespan(0), Socket::SELECT_READ | Socket::SELECT_ERROR) &&
                socket_.available() <= 0)
                return false;
            char byte[256];
            const int n = socket_.receiveBytes(byte, sizeof byte);
            if (n >= 0) return true;  // closed (0) or bytes nobody asked for
            // < 0: a TLS message with no data (e.g. a session ticket): look again
        }
        return false;
    } catch (...) {
        return true;
    }
}

// ---- Opening a connection --------------------------------------------------------------------

namespace {

std::string authority(const std::string& host, int port) {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::vector<Poco::Net::SocketAddress> resolve(const std::string& host, int port) {
    std::vector<Poco::Net::SocketAddress> out;
    Poco::Net::IPAddress ip;
    if (Poco::Net::IPAddress::tryParse(host, ip)) {
        out.emplace_back(ip, static_cast<Poco::UInt16>(port));
        return out;
    }
    try {
        // getaddrinfo blocks: a turn running as a coroutine has it done on a thread kept for that.
        Poco::Net::HostEntry entry;
        run_blocking([&] { entry = Poco::Net::DNS::hostByName(host); });
        for (const auto& address : entry.addresses())
            out.emplace_back(address, static_cast<Poco::UInt16>(port));
    } catch (const Poco::Exception& e) {
        fail("unavailable", "cannot resolve host " + host + " (" + e.name() + ")");
    }
    if (out.empty()) fail("unavailable", "cannot resolve host " + host + " (no addresses)");
    // IPv4 first: a loopback or dual-stack server more often listens there.
    std::stable_partition(out.begin(), out.end(),
                          [](const auto& a) { return a.family() == Poco::Net::SocketAddress::IPv4; });
    return out;
}

Poco::Net::StreamSocket connect_tcp(const std::string& host, int port, const Budget& budget,
                                    milliseconds connect_timeout) {
    const std::string where = authority(host, port);
    const std::string phase = "connecting to " + where;
    const auto addresses = resolve(host, port);
    const auto connect_deadline = std::min(budget.deadline(), Budget::Clock::now() + connect_timeout);
    std::string last_error = "no address";
    for (const auto& address : addresses) {
        Poco::Net::StreamSocket socket;
        try {
            socket.connectNB(address);
        } catch (const Poco::Exception& e) {
            last_error = e.message().empty() ? e.displayText() : e.message();
            continue;
        }
        for (;;) {
            budget.check(phase);
            const auto now = Budget::Clock::now();
            if (now >= connect_deadline)
                fail("timeout", "could not connect to " + where + " within " +
                                    std::to_string(duration_cast<milliseconds>(connect_timeout).count()) +
                                    " ms");
            const auto left = duration_cast<microseconds>(connect_deadline - now);
            const auto wait = std::clamp(left, microseconds(1000), microseconds(100'000));
            if (!wait_ready(socket.impl()->sockfd(), Readiness::write, wait)) continue;
            const int error = socket.impl()->socketError();
            if (error != 0) {
                last_error = Poco::Error::getMessage(error);
                socket = Poco::Net::StreamSocket();
            }
            break;
        }
        if (!socket.impl()->initialized()) continue;
        socket.setNoDelay(true);
        return socket;
    }
    fail("unavailable", "cannot connect to " + where + " (" + last_error + ")");
}

/// Asks the proxy for a tunnel to the target (https through a proxy).
void open_tunnel(Connection& connection, const Target& target, const ProxyConfig& proxy,
                 const Budget& budget) {
    const std::string to = authority(target.host, target.port);
    std::string request = "CONNECT " + to + " HTTP/1.1\r\nHost: " + to + "\r\n";
    if (!proxy.authorization.empty()) request += "Proxy-Authorization: " + proxy.authorization + "\r\n";
    request += "\r\n";
    connection.send_all(request, budget, "asking the proxy " + proxy.display() + " for a tunnel");
    ResponseHead head = read_response_head(connection, budget);
    if (head.status < 200 || head.status > 299) {
        std::string detail = "the proxy " + proxy.display() + " refused the tunnel to " + to + ": " +
                             std::to_string(head.status) + " " + head.reason;
        if (head.status == 407) detail += " (proxy credentials missing or wrong)";
        fail("unavailable", detail);
    }
}

}  // namespace

std::unique_ptr<Connection> open_connection(const Target& target, const std::optional<ProxyConfig>& proxy,
                                            const Poco::Net::Context::Ptr& tls, const Budget& budget,
                                            milliseconds connect_timeout) {
    const std::string& host = proxy ? proxy->host : target.host;
    const int port = proxy ? proxy->port : target.port;
    auto connection = std::make_unique<Connection>(connect_tcp(host, port, budget, connect_timeout));
    if (target.https()) {
        if (proxy) open_tunnel(*connection, target, *proxy, budget);
        connection->start_tls(target.host, tls, budget);
    }
    return connection;
}

// ---- Response head ---------------------------------------------------------------------------

std::string ResponseHead::values(std::string_view name) const {
    std::string out;
    for (const auto& [n, v] : headers)
        if (Poco::icompare(n, std::string(name)) == 0) out += (out.empty() ? "" : ", ") + v;
    return out;
}

bool ResponseHead::has(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [&](const auto& h) { return Poco::icompare(h.first, std::string(name)) == 0; });
}

namespace {

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxHeaders = 256;

bool is_token_char(unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

ResponseHead parse_head(std::string_view text) {
    ResponseHead head;
    bool first = true;
    while (!text.empty()) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (first) {
            first = false;
            // HTTP/1.x SP 3DIGIT [SP reason]
            if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." ||
                !std::isdigit(static_cast<unsigned char>(line[7])) || line[8] != ' ' ||
                !std::isdigit(static_cast<unsigned char>(line[9])) ||
                !std::isdigit(static_cast<unsigned char>(line[10])) ||
                !std::isdigit(static_cast<unsigned char>(line[11])) || (line.size() > 12 && line[12] != ' '))
                fail("bad_response", "the server did not answer with an HTTP/1.x status line");
            head.minor_version = line[7] - '0';
            head.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
            if (line.size() > 13) head.reason = std::string(line.substr(13));
            continue;
        }
        if (line.empty()) break;
        if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
            if (head.headers.empty()) fail("bad_response", "malformed response header");
            head.headers.back().second += " " + std::string(trim_ows(line));
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 ||
            !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                         [](char c) { return is_token_char(static_cast<unsigned char>(c)); }))
            fail("bad_response", "malformed response header");
        if (head.headers.size() >= kMaxHeaders) fail("bad_response", "too many response headers");
        head.headers.emplace_back(std::string(line.substr(0, colon)),
                                  std::string(trim_ows(line.substr(colon + 1))));
    }
    return head;
}

/// Where the head ends (after its blank line) in `data`, or npos.
std::size_t head_end(std::string_view data) {
    for (std::size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
        if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
        if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
    }
    return std::string_view::npos;
}

}  // namespace

ResponseHead read_response_head(Connection& connection, const Budget& budget) {
    for (;;) {
        // Blank lines before a status line are tolerated (RFC 9112, 2.2).
        while (!connection.pending().empty() &&
               (connection.pending().front() == '\r' || connection.pending().front() == '\n'))
            connection.consume(1);
        const auto data = connection.pending();
        if (const auto end = head_end(data); end != std::string_view::npos) {
            ResponseHead head = parse_head(data.substr(0, end));
            connection.consume(end);
            return head;
        }
        if (data.size() > kMaxHead) fail("bad_response", "the response headers are larger than 64 KiB");
        const bool nothing_yet = connection.received() == 0;
        if (!connection.receive_more(budget, "waiting for the response headers")) {
            if (nothing_yet) fail("unavailable", "the server closed the connection without answering", true);
            fail("unavailable", "connection closed before the end of the response headers");
        }
    }
}

}  // namespace tezgah::engine::http

// ---- Pool ------------------------------------------------------------------------------------

namespace tezgah::engine {

PocoHttpClient::Pool::Pool(std::size_t max_idle_per_route, std::chrono::milliseconds idle_expiry)
    : max_idle_(max_idle_per_route), expiry_(idle_expiry) {}

PocoHttpClient::Pool::~Pool() = default;

std::unique_ptr<http::Connection> PocoHttpClient::Pool::take(const std::string& route) {
    std::vector<std::unique_ptr<http::Connection>> closed;  // closed outside the lock
    for (;;) {
        std::unique_ptr<http::Connection> candidate;
        {
            std::lock_guard lock(mutex_);
            sweep_locked(closed);
            auto it = idle_.find(route);
            if (it == idle_.end() || it->second.empty()) return nullptr;
            candidate = std::move(it->second.back());  // the most recently used
            it->second.pop_back();
            if (it->second.empty()) idle_.erase(it);
        }
        if (candidate->expires > std::chrono::steady_clock::now() && !candidate->looks_dead())
            return candidate;
        closed.push_back(std::move(candidate));
    }
}

void PocoHttpClient::Pool::put(const std::string& route, std::unique_ptr<http::Connection> connection,
                               std::optional<std::chrono::seconds> server_keep_alive) {
    if (max_idle_ == 0) return;
    auto lifetime = expiry_;
    // Leave a second of margin before the server's own idle timeout.
    if (server_keep_alive)
        lifetime =
            std::min<std::chrono::milliseconds>(lifetime, *server_keep_alive - std::chrono::seconds(1));
    if (lifetime <= std::chrono::milliseconds::zero()) return;
    connection->expires = std::chrono::steady_clock::now() + lifetime;
    connection->reset_received();
    std::vector<std::unique_ptr<http::Connection>> closed;
    std::lock_guard lock(mutex_);
    auto& queue = idle_[route];
    queue.push_back(std::move(connection));
    while (queue.size() > max_idle_) {
        closed.push_back(std::move(queue.front()));
        queue.pop_front();
    }
    sweep_locked(closed);
}

std::size_t PocoHttpClient::Pool::idle() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [route, queue] : idle_) n += queue.size();
    return n;
}

void PocoHttpClient::Pool::sweep_locked(std::vector<std::unique_ptr<http::Connection>>& closed) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sweep_ < std::chrono::seconds(5)) return;
    last_sweep_ = now;
    for (auto it = idle_.begin(); it != idle_.end();) {
        auto& queue = it->second;
        while (!queue.empty() && queue.front()->expires <= now) {
            closed.push_back(std::move(queue.front()));
            queue.pop_front();
        }
        it = queue.empty() ? idle_.erase(it) : std::next(it);
    }
}

}  // namespace tezgah::engine
