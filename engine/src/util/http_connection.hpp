#pragma once
// Internals of PocoHttpClient: the time budget of one request, a connection (plain or TLS) with
// its receive buffer, opening one (direct, through a proxy, CONNECT tunnel), reading a response
// head, and the pool of idle keep-alive connections.
//
// Sockets are non-blocking: every wait is a wait_ready() of at most 100 ms, after which the budget
// is checked again (cancellation, the total time, the turn's deadline). In a turn running as a
// coroutine (util/coroutine.hpp) that wait suspends the turn instead of blocking its thread, lasts
// up to a second, and ends at once when the customer leaves (cancel_calls).

#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/http_client.hpp"
#include "util/http_proxy.hpp"

namespace tezgah::engine::http {

/// ASCII lower case: schemes, host names, header names and tokens.
inline std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// A failure inside the client; send() turns it into sdk::Error{code, "<url>: " + detail}.
struct Failure {
    std::string code;
    std::string detail;
    /// Nothing of a response arrived: on a reused connection the request may go again on a new one.
    bool retryable = false;
};

[[noreturn]] void fail(std::string code, std::string detail, bool retryable = false);

/// The time left to one request: its own total, clamped to the turn's deadline, and the caller's
/// cancellation flag.
class Budget {
public:
    using Clock = std::chrono::steady_clock;
    Budget(int timeout_ms, const CallLimits& limits);
    /// Throws Failure "cancelled" or "timeout" (naming `phase`) when the request must stop.
    void check(std::string_view phase) const;
    /// How long the next wait may last: at most 100 ms (a second in a coroutine, whose wait a
    /// departure ends: util/coroutine.hpp) and at most what is left (at least 1 ms).
    std::chrono::microseconds slice() const;
    Clock::time_point deadline() const { return deadline_; }
    int total_ms() const { return total_ms_; }

private:
    Clock::time_point deadline_;
    int total_ms_;
    bool turn_limited_;  // the turn's deadline comes before the request's own total
    const std::atomic<bool>* cancelled_;
};

/// One connection to an origin (or to a proxy for plain http), with the bytes received and not
/// yet consumed.
class Connection {
public:
    explicit Connection(const Poco::Net::StreamSocket& socket);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Received bytes not consumed yet.
    std::string_view pending() const { return std::string_view(buffer_).substr(pos_); }
    void consume(std::size_t n);
    /// Waits for more bytes and appends them to pending(); false at the end of the stream.
    bool receive_more(const Budget& budget, std::string_view phase);
    /// Sends everything; a lost connection is Failure "unavailable" (retryable).
    void send_all(std::string_view data, const Budget& budget, std::string_view phase);
    /// Starts TLS on this (connected) socket, verifies the chain and the host name.
    void start_tls(const std::string& host, const Poco::Net::Context::Ptr& context, const Budget& budget);
    /// Whether an idle connection was closed by the server (or has unexpected bytes).
    bool looks_dead();

    /// Bytes received since the last reset_received(): none means nothing of a response came.
    std::size_t received() const { return received_; }
    void reset_received() { received_ = 0; }

    Budget::Clock::time_point expires{};  ///< when idle in the pool: closed after this

private:
    Poco::Net::StreamSocket socket_;
    std::string buffer_;
    std::size_t pos_ = 0;
    std::size_t received_ = 0;
};

/// Where a request goes.
struct Target {
    std::string scheme;  ///< "http" | "https"
    std::string host;    ///< without brackets
    int port = 0;
    std::string host_header;  ///< host[:port], IPv6 in brackets
    std::string path;         ///< request target in origin form ("/a?b"), as written in the URL
    std::string userinfo;     ///< "user:pass" from the URL, percent-encoded as written
    bool https() const { return scheme == "https"; }
};

/// Opens a connection for `target`: TCP (through `proxy` when set), the CONNECT tunnel for https
/// through a proxy, then TLS with `tls` for https.
std::unique_ptr<Connection> open_connection(const Target& target, const std::optional<ProxyConfig>& proxy,
                                            const Poco::Net::Context::Ptr& tls, const Budget& budget,
                                            std::chrono::milliseconds connect_timeout);

/// A response's status line and headers.
struct ResponseHead {
    int minor_version = 1;  ///< HTTP/1.x
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  ///< as received
    /// Every value of header `name` (case-insensitive), joined with ", ".
    std::string values(std::string_view name) const;
    bool has(std::string_view name) const;
};

/// Reads one response head from `connection` (at most 64 KiB).
ResponseHead read_response_head(Connection& connection, const Budget& budget);

}  // namespace tezgah::engine::http

namespace tezgah::engine {

/// Idle keep-alive connections per route (scheme, host, port, proxy, trust store), thread-safe.
class PocoHttpClient::Pool {
public:
    Pool(std::size_t max_idle_per_route, std::chrono::milliseconds idle_expiry);
    ~Pool();
    /// An idle connection for `route` that still looks alive, or null.
    std::unique_ptr<http::Connection> take(const std::string& route);
    /// Keeps `connection` for reuse; `server_keep_alive` is the server's Keep-Alive timeout.
    void put(const std::string& route, std::unique_ptr<http::Connection> connection,
             std::optional<std::chrono::seconds> server_keep_alive);
    std::size_t idle() const;

private:
    void sweep_locked(std::vector<std::unique_ptr<http::Connection>>& closed);

    const std::size_t max_idle_;
    const std::chrono::milliseconds expiry_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::deque<std::unique_ptr<http::Connection>>> idle_;
    std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace tezgah::engine
