// The connection loop and the workers.
//
// One thread runs a Boost.Asio io_context that owns every connection while it waits for a request
// or reads one: the first byte of a request must come within the keep-alive timeout, its headers
// within `header_deadline` of that byte, its body within `body_deadline` of the headers. A request
// that breaks the framing rules is answered there, with the contract's JSON error and an
// X-Request-Id. A complete request goes to a worker (the chat pool, or the operations worker for
// /health and /metrics); the worker writes its response straight to the socket and hands the
// connection back to the loop. So a thousand idle or dribbling connections cost memory and file
// descriptors, never a worker, and a slow client is cut off by the clock, not by its own pace.
// Asio rather than Poco: Poco's HTTPServer gives each connection a thread until it closes.
#include "http/server.hpp"

#include "http/console.hpp"
#include "http/exchange.hpp"
#include "http/widget_socket.hpp"
#include "ops/metrics.hpp"
#include "util/coroutine.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace tezgah::engine::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

/// A longer request line (method, URL, version) is refused with 414.
constexpr std::size_t kMaxRequestLine = 8 * 1024;

std::string_view method_label(std::string_view method) {
    static constexpr std::string_view kKnown[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (auto known : kKnown)
        if (method == known) return known;
    return "OTHER";  // clients choose the method: keep the label set bounded
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Requests waiting for a worker, and the workers: started as work comes, up to `max_threads`.
class WorkerPool {
public:
    WorkerPool(int max_threads, std::size_t max_queued)
        : max_threads_(max_threads), max_queued_(max_queued) {}
    ~WorkerPool() { join(); }

    /// Queues `task`; false when the queue is full (the caller answers 503).
    bool try_post(std::function<void()> task) {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        const bool must_wait = busy_ + queue_.size() >= threads_.size();
        if (must_wait && static_cast<int>(threads_.size()) >= max_threads_ && queue_.size() >= max_queued_)
            return false;
        queue_.push_back(std::move(task));
        if (must_wait && static_cast<int>(threads_.size()) < max_threads_)
            threads_.emplace_back([this] { run(); });
        wake_.notify_one();
        return true;
    }

    /// Waits until the queue is empty and no task runs, up to `until`; false when time ran out.
    bool drain(SteadyClock::time_point until) {
        std::unique_lock lock(mutex_);
        return idle_.wait_until(lock, until, [this] { return queue_.empty() && busy_ == 0; });
    }

    void join() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        threads_.clear();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left
            auto task = std::move(queue_.front());
            queue_.pop_front();
            ++busy_;
            lock.unlock();
            task();
            lock.lock();
            --busy_;
            if (queue_.empty() && busy_ == 0) idle_.notify_all();
        }
    }

    const int max_threads_;
    const std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<std::function<void()>> queue_;
    std::vector<std::thread> threads_;
    std::size_t busy_ = 0;
    bool stopping_ = false;
};

/// An address or a CIDR block a reverse proxy may come from.
struct Network {
    asio::ip::address address;
    unsigned prefix = 0;

    bool contains(const asio::ip::address& a) const {
        if (a.is_v4() != address.is_v4()) return false;
        auto bytes_of = [](const asio::ip::address& x) {
            std::vector<unsigned char> out;
            if (x.is_v4()) {
                auto b = x.to_v4().to_bytes();
                out.assign(b.begin(), b.end());
            } else {
                auto b = x.to_v6().to_bytes();
                out.assign(b.begin(), b.end());
            }
            return out;
        };
        const auto want = bytes_of(address);
        const auto have = bytes_of(a);
        unsigned bits = prefix;
        for (std::size_t i = 0; i < want.size() && bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
            const unsigned char mask = bits >= 8 ? 0xFF : static_cast<unsigned char>(0xFF << (8 - bits));
            if ((want[i] & mask) != (have[i] & mask)) return false;
        }
        return true;
    }
};

std::optional<Network> parse_network(const std::string& text) {
    const auto slash = text.find('/');
    boost::system::error_code ec;
    auto address = asio::ip::make_address(text.substr(0, slash), ec);
    if (ec) return std::nullopt;
    const unsigned full = address.is_v4() ? 32 : 128;
    unsigned prefix = full;
    if (slash != std::string::npos) {
        char* end = nullptr;
        const long n = std::strtol(text.c_str() + slash + 1, &end, 10);
        if (*end != '\0' || n < 0 || n > static_cast<long>(full)) return std::nullopt;
        prefix = static_cast<unsigned>(n);
    }
    return Network{address, prefix};
}

class Connection;

}  // namespace

struct HttpServer::Impl {
    Impl(Engine& e, ServerOptions o) : engine(e), options(std::move(o)) {}

    Engine& engine;
    ServerOptions options;
    std::vector<Network> trusted;
    std::unique_ptr<ProcessChannels> channels;
    std::unique_ptr<Routes> routes;
    std::unique_ptr<ConsoleSite> console;    ///< the console's files
    std::unique_ptr<AuditLog> audit;         ///< keyed requests, written in batches off the request path
    std::unique_ptr<WidgetSockets> widgets;  ///< after workers: its turns run there

    // --- the open connections (declared before the loop: its pending handlers hold connections,
    // whose destructors update these) ---
    std::mutex registry_mutex;
    std::size_t connections = 0;
    std::map<std::string, std::size_t> per_address;
    std::list<std::weak_ptr<Connection>> idle;  ///< waiting for a request, oldest first
    std::list<std::weak_ptr<Connection>> all;   ///< every open connection, to close them at stop

    asio::io_context io{1};
    std::optional<tcp::acceptor> acceptor;
    std::thread loop;
    std::unique_ptr<WorkerPool> workers;
    std::unique_ptr<WorkerPool> operations;
    std::unique_ptr<WorkerPool> refusals;  ///< chat requests of a tenant over its plan (refused_early)

    /// A POST /v1/tenants/{tenant}/chat whose tenant the limiter refuses until its window ends.
    bool refused_early(const Request& request) {
        constexpr std::string_view kPrefix = "/v1/tenants/";
        constexpr std::string_view kChat = "/chat";
        const std::string_view path = request.path;
        if (request.method != "POST" || !path.starts_with(kPrefix) || !path.ends_with(kChat) ||
            path.size() <= kPrefix.size() + kChat.size())
            return false;
        const std::string tenant(path.substr(kPrefix.size(), path.size() - kPrefix.size() - kChat.size()));
        if (tenant.find('/') != std::string::npos) return false;
        return engine.limits().blocked(tenant, engine.now()).has_value();
    }
    std::unique_ptr<CoroutinePool> turns;  ///< chat and channel requests, widget turns
    std::atomic<bool> stopping{false};
    bool started = false;
    bool drained = false;  ///< drain() ran
    bool stopped = false;
    HttpServer::Unfinished unfinished;  ///< what drain() left running
    std::uint16_t bound_port = 0;

    bool trusted_peer(const asio::ip::address& peer) const {
        return std::any_of(trusted.begin(), trusted.end(),
                           [&](const Network& n) { return n.contains(peer); });
    }

    /// The client of a request: the peer, or, when the peer is a trusted proxy, the last address
    /// of X-Forwarded-For that is not one of the trusted proxies.
    std::string client_address(const asio::ip::address& peer, std::string_view forwarded) const {
        if (!trusted_peer(peer) || forwarded.empty()) return peer.to_string();
        std::string client = peer.to_string();
        while (!forwarded.empty()) {
            const auto comma = forwarded.rfind(',');
            const auto entry =
                trim(comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1));
            forwarded = comma == std::string_view::npos ? std::string_view() : forwarded.substr(0, comma);
            boost::system::error_code ec;
            auto address = asio::ip::make_address(std::string(entry), ec);
            if (ec) break;  // not an address: trust nothing further left
            client = address.to_string();
            if (!trusted_peer(address)) break;
        }
        return client;
    }

    void accept();
    /// Every open connection, held (so none dies while the caller goes through them).
    std::vector<std::shared_ptr<Connection>> open_connections();
    /// Closes idle connections, the oldest first, until there is room for one more.
    bool make_room();
    void finished_request(const std::shared_ptr<Connection>& connection, bool close);
};

namespace {

/// Writes a refusal the loop answers itself (no worker): the JSON error, X-Request-Id, close.
std::string refusal_text(int status, std::string_view code, std::string_view message,
                         const std::string& request_id) {
    const std::string body = error_body(code, message, request_id);
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                      "\r\nServer: tezgah\r\nContent-Type: application/json\r\nX-Request-Id: " + request_id +
                      "\r\nConnection: close\r\n";
    if (status == 503 || status == 429) out += "Retry-After: 1\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return out;
}

void log_request(std::string_view request_id, std::string_view method, std::string_view route,
                 std::string_view tenant, int status, double seconds, std::string_view client) {
    Metrics::global().http_request(route, method_label(method), status, seconds);
    char latency[32];
    std::snprintf(latency, sizeof latency, "%.3f", seconds * 1000);
    log_event(status >= 500 ? spdlog::level::warn : spdlog::level::info, "http", "request",
              {{"request_id", std::string(request_id)},
               {"method", std::string(method_label(method))},
               {"route", std::string(route)},
               {"tenant", std::string(tenant)},
               {"status", std::to_string(status)},
               {"latency_ms", latency},
               {"client", std::string(client)}});
}

class Connection final : public std::enable_shared_from_this<Connection>, public ResponseWriter {
public:
    Connection(HttpServer::Impl& server, tcp::socket socket, asio::ip::address peer)
        : server_(server),
          socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          fd_(socket_.native_handle()),
          peer_(std::move(peer)),
          peer_text_(peer_.to_string()) {}

    ~Connection() override {
        request_done();
        std::lock_guard lock(server_.registry_mutex);
        if (!registered_) return;
        --server_.connections;
        --server_.routes->connections;
        server_.all.erase(all_it_);
        if (idle_) server_.idle.erase(idle_it_);
        if (!trusted_) {
            auto it = server_.per_address.find(peer_text_);
            if (it != server_.per_address.end() && --it->second == 0) server_.per_address.erase(it);
        }
    }

    /// Counts it, then waits for its first request; refuses it when the server holds as many
    /// connections as it can (`room` false) or its address holds too many.
    void start(bool room) {
        boost::system::error_code ec;
        socket_.non_blocking(true, ec);
        socket_.set_option(tcp::no_delay(true), ec);
        bool too_many = false;
        {
            std::lock_guard lock(server_.registry_mutex);
            registered_ = true;
            ++server_.connections;
            ++server_.routes->connections;
            all_it_ = server_.all.insert(server_.all.end(), weak_from_this());
            trusted_ = server_.trusted_peer(peer_);
            too_many =
                !trusted_ && ++server_.per_address[peer_text_] > server_.options.max_connections_per_address;
        }
        if (!room)
            return refuse(503, "overloaded", "overloaded", "the server holds as many connections as it can");
        if (too_many)
            return refuse(429, "too_many_connections", "rate_limited",
                          "too many connections from " + peer_text_ + " (at most " +
                              std::to_string(server_.options.max_connections_per_address) + ")");
        wait_for_request();
    }

    // --- ResponseWriter: the worker writes straight to the socket ---
    bool write(std::string_view bytes) override {
        const int fd = this->fd();
        const auto deadline = SteadyClock::now() + server_.options.io_timeout;
        while (!bytes.empty()) {
            const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n > 0) {
                bytes.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
            if (left.count() <= 0) return false;  // the client reads too slowly: cut off
            if (in_coroutine()) {  // a turn: waits without its thread; a closed peer fails the send
                wait_ready(fd, Readiness::write,
                           std::min<std::chrono::milliseconds>(left, std::chrono::seconds(1)));
                continue;
            }
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000))) < 0 &&
                errno != EINTR)
                return false;
            if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
        }
        return true;
    }
    int fd() const override { return fd_; }

    /// After a worker answered: the next request, or close.
    void resume(bool close) {
        processing_ = false;
        if (close || server_.stopping) return close_gracefully();
        wait_for_request();
    }

    /// After a worker accepted a WebSocket upgrade: the socket is served as a WebSocket from now
    /// on, on this loop; the connection stays counted while the WebSocket holds it.
    void take_over(const Exchange::SocketTakeover& takeover) {
        processing_ = false;
        if (server_.stopping) return close_now();
        disarm();
        takeover(socket_, shared_from_this());
    }

    /// Closes it now (stop, or room needed for a new connection). While a worker still writes to
    /// it, only shuts it down: its descriptor must not be reused under the worker's feet.
    void close_now() {
        boost::system::error_code ec;
        disarm();
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        if (!processing_) socket_.close(ec);
    }

    bool idle() const { return idle_; }

private:
    /// Waits for the first byte of a request, up to the keep-alive timeout (idle: closed first
    /// when connections run short).
    void wait_for_request() {
        parser_.reset();
        if (buffer_.size() > 0) return begin_request();  // the next request is already here
        {
            std::lock_guard lock(server_.registry_mutex);
            idle_ = true;
            idle_it_ = server_.idle.insert(server_.idle.end(), weak_from_this());
        }
        arm(SteadyClock::now() + server_.options.keep_alive_timeout);
        socket_.async_read_some(buffer_.prepare(8192),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->leave_idle();
                                    self->disarm();
                                    if (ec) return self->close_now();  // timed out, closed, or evicted
                                    self->buffer_.commit(n);
                                    self->begin_request();
                                });
    }

    void leave_idle() {
        std::lock_guard lock(server_.registry_mutex);
        if (!idle_) return;
        idle_ = false;
        server_.idle.erase(idle_it_);
    }

    void begin_request() {
        started_ = SteadyClock::now();
        if (!counted_) {
            counted_ = true;
            ++server_.routes->in_flight;
        }
        request_id_ = new_request_id();
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
        parser_->body_limit(server_.options.max_body_bytes);
        arm(started_ + server_.options.header_deadline);
        bhttp::async_read_header(socket_, buffer_, *parser_,
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec) return self->framing_error(ec, true);
                                     self->on_header();
                                 });
    }

    void on_header() {
        const auto& head = parser_->get();
        if (const auto incoming = head["X-Request-Id"]; sane_request_id(incoming))
            request_id_ = std::string(incoming);
        std::size_t fields = 0;
        for (auto it = head.begin(); it != head.end(); ++it) ++fields;
        if (fields > server_.options.max_headers)
            return refuse(431, "headers_too_large", "headers_too_large",
                          "request headers: " + std::to_string(fields) + " fields; at most " +
                              std::to_string(server_.options.max_headers));
        if (head.target().size() > kMaxRequestLine)
            return refuse(414, "uri_too_long", "uri_too_long",
                          "request line: longer than " + std::to_string(kMaxRequestLine) + " bytes");
        if (const auto coding = head[bhttp::field::transfer_encoding]; !coding.empty()) {
            // Anything but chunked alone would leave the body's end to guesswork (and a request
            // with both framings is how requests are smuggled past proxies).
            if (head.count(bhttp::field::content_length) > 0)
                return refuse(400, "bad_request", "bad_request",
                              "request headers: both Transfer-Encoding and Content-Length");
            if (lower(trim(coding)) != "chunked")
                return refuse(501, "not_implemented", "not_implemented",
                              "Transfer-Encoding: " + std::string(coding) +
                                  ": only chunked is supported for request bodies");
        }
        if (head.version() != 11 && head.version() != 10)
            return refuse(505, "bad_request", "bad_request", "only HTTP/1.0 and HTTP/1.1 are spoken here");
        if (const auto length = parser_->content_length(); length && *length > server_.options.max_body_bytes)
            return refuse(413, "payload_too_large", "payload_too_large",
                          "request body: " + std::to_string(*length) + " bytes; the limit is " +
                              std::to_string(server_.options.max_body_bytes));
        if (parser_->is_done()) return on_request();
        arm(SteadyClock::now() + server_.options.body_deadline);
        if (lower(head[bhttp::field::expect]) == "100-continue") {
            static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            asio::async_write(socket_, asio::buffer(kContinue),
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                  if (ec) return self->framing_error(ec, false);
                                  self->read_body();
                              });
            return;
        }
        read_body();
    }

    void read_body() {
        bhttp::async_read(socket_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->framing_error(ec, false);
                              self->on_request();
                          });
    }

    /// A request that could not be read: answered when the client can still be told.
    void framing_error(const beast::error_code& ec, bool in_header) {
        if (timed_out_)
            return refuse(408, "request_timeout", "request_timeout",
                          in_header ? "request headers: not received within " +
                                          std::to_string(server_.options.header_deadline.count()) + " ms"
                                    : "request body: not received within " +
                                          std::to_string(server_.options.body_deadline.count()) + " ms");
        if (ec == bhttp::error::header_limit) {
            // The parser takes the request line first: without one, the line (the URL) is too long.
            if (!parser_ || parser_->get().target().empty())
                return refuse(414, "uri_too_long", "uri_too_long",
                              "request line: longer than " +
                                  std::to_string(server_.options.max_header_bytes) + " bytes");
            return refuse(
                431, "headers_too_large", "headers_too_large",
                "request headers: more than " + std::to_string(server_.options.max_header_bytes) + " bytes");
        }
        if (ec == bhttp::error::body_limit)
            return refuse(
                413, "payload_too_large", "payload_too_large",
                "request body: more than " + std::to_string(server_.options.max_body_bytes) + " bytes");
        if (ec == bhttp::error::bad_transfer_encoding)
            return refuse(501, "not_implemented", "not_implemented",
                          "Transfer-Encoding: only chunked is supported for request bodies");
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
            ec == asio::error::connection_reset || ec == bhttp::error::partial_message ||
            ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
            request_done();
            return close_now();  // the client left: nobody to tell
        }
        if (ec == bhttp::error::bad_version) {
            // A well-formed version that is not 1.x (HTTP/2.0 in plain text): 505; garbage: 400.
            const auto data = beast::buffers_to_string(buffer_.data());
            const auto line = std::string_view(data).substr(0, data.find("\r\n"));
            const auto at = line.rfind(" HTTP/");
            if (at != std::string_view::npos && line.size() == at + 9 &&
                std::isdigit(static_cast<unsigned char>(line[at + 6])) && line[at + 7] == '.' &&
                std::isdigit(static_cast<unsigned char>(line[at + 8])))
                return refuse(505, "bad_request", "bad_request",
                              "request line: " + std::string(line.substr(at + 1)) +
                                  ": only HTTP/1.0 and HTTP/1.1 are spoken here");
        }
        std::string what;
        if (ec == bhttp::error::bad_content_length)
            what = "Content-Length: not a valid length";
        else if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension)
            what = "request body: broken chunked encoding";
        else if (ec == bhttp::error::bad_method || ec == bhttp::error::bad_target ||
                 ec == bhttp::error::bad_version)
            what = "request line: not an HTTP/1.1 request line";
        else
            what = (in_header ? "request headers: " : "request body: ") + ec.message();
        refuse(400, "bad_request", "bad_request", what);
    }

    /// Answers from the loop (no worker), then closes: refusals of what could not be read.
    void refuse(int status, std::string_view route, std::string_view code, const std::string& message) {
        leave_idle();
        const std::string method = parser_ ? std::string(parser_->get().method_string()) : std::string();
        if (request_id_.empty()) request_id_ = new_request_id();
        const auto text = std::make_shared<std::string>(refusal_text(status, code, message, request_id_));
        const auto now = SteadyClock::now();
        const double seconds = started_ == SteadyClock::time_point{}
                                   ? 0.0
                                   : std::chrono::duration<double>(now - started_).count();
        log_request(request_id_, method, route, "", status, seconds, peer_text_);
        request_done();
        arm(SteadyClock::now() + server_.options.io_timeout);
        asio::async_write(
            socket_, asio::buffer(*text),
            [self = shared_from_this(), text](beast::error_code, std::size_t) { self->close_gracefully(); });
    }

    /// Stops sending, reads and drops what the client still sends for a moment (so it reads the
    /// answer rather than a reset), then closes.
    void close_gracefully() {
        boost::system::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_send, ec);
        arm(SteadyClock::now() + std::chrono::seconds(1));
        drain();
    }

    void drain() {
        buffer_.clear();
        socket_.async_read_some(buffer_.prepare(16384),
                                [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                    if (ec) return self->close_now();
                                    self->drain();
                                });
    }

    void on_request() {
        disarm();
        auto& message = parser_->get();
        auto request = std::make_shared<Request>();
        request->method = std::string(message.method_string());
        request->target = std::string(message.target());
        const auto question = request->target.find('?');
        request->path = request->target.substr(0, question);
        if (question != std::string::npos) request->query = request->target.substr(question + 1);
        for (const auto& field : message)
            request->headers.emplace_back(lower(field.name_string()), std::string(field.value()));
        request->body = std::move(message.body());
        request->keep_alive = message.keep_alive();
        request->client_address = server_.client_address(peer_, message["X-Forwarded-For"]);
        request->forwarded_https =
            server_.trusted_peer(peer_) && lower(message["X-Forwarded-Proto"]) == "https";
        request->request_id = request_id_;
        request->started = started_;
        parser_.reset();

        const bool operations = Routes::operations_route(request->path);
        // A chat turn of a tenant over its plan's limit until its window ends (ops/limits.hpp) is
        // refused on workers of its own: a flooding tenant's 429s never hold the turn threads
        // (nor their share of the CPU) that other tenants' turns need.
        const bool refused = !operations && server_.refused_early(*request);
        auto self = shared_from_this();
        processing_ = true;
        auto task = [self, request] { self->answer(*request); };
        const bool queued =
            refused ? server_.refusals->try_post(std::move(task))
            : !operations && server_.routes->turn_route(request->path)
                ? server_.turns->try_post(std::move(task))
                : (operations ? *server_.operations : *server_.workers).try_post(std::move(task));
        if (!queued) {
            processing_ = false;
            refuse(503, "overloaded", "overloaded", "the server is at capacity; retry shortly");
        }
    }

    /// On a worker: the route's answer, written to the socket; then the connection goes back to
    /// the loop.
    void answer(const Request& request) {
        RequestIdScope scope(request.request_id);
        auto& routes = *server_.routes;
        Exchange ex(request, *this, server_.options);
        try {
            routes.dispatch(ex);
        } catch (const std::exception& e) {
            log_event(spdlog::level::err, "http", "request handler threw",
                      {{"request_id", ex.request_id}, {"route", ex.route}, {"error", e.what()}});
        }
        if (!ex.sent()) {
            ex.close = true;
            ex.send_error(500, "internal", "the request could not be completed");
        }
        const double seconds = std::chrono::duration<double>(SteadyClock::now() - request.started).count();
        log_request(request.request_id, request.method, ex.route, ex.tenant, ex.status, seconds,
                    request.client_address);
        if (!ex.key_id.empty() && server_.audit)
            server_.audit->record(AuditEntry{0, ex.key_id, std::string(method_label(request.method)),
                                             ex.route, ex.tenant, ex.status, request.client_address,
                                             request.request_id, std::chrono::system_clock::now()});
        request_done();
        if (ex.upgrade) {
            asio::post(server_.io, [self = shared_from_this(), takeover = std::move(ex.upgrade)] {
                self->take_over(takeover);
            });
            return;
        }
        server_.finished_request(shared_from_this(), ex.close);
    }

    /// A request begun (its first byte arrived) is in flight until it is answered or abandoned:
    /// shown in /health/detailed, and waited for at stop.
    void request_done() {
        if (!counted_) return;
        counted_ = false;
        --server_.routes->in_flight;
    }

    /// When `deadline` passes, cancels what the connection waits for; its handler then finds
    /// timed_out_ set. Arming again, or disarm(), forgets the previous deadline.
    void arm(SteadyClock::time_point deadline) {
        timed_out_ = false;
        const auto generation = ++deadline_generation_;
        timer_.expires_at(deadline);
        timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
            if (ec || generation != self->deadline_generation_) return;
            self->timed_out_ = true;
            boost::system::error_code ignored;
            self->socket_.cancel(ignored);
        });
    }
    void disarm() {
        ++deadline_generation_;
        timer_.cancel();
    }

    HttpServer::Impl& server_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    std::uint64_t deadline_generation_ = 0;
    bool timed_out_ = false;
    const int fd_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    const asio::ip::address peer_;
    const std::string peer_text_;
    bool trusted_ = false;
    bool registered_ = false;
    bool idle_ = false;                    ///< in the server's idle list (registry_mutex)
    bool counted_ = false;                 ///< counted in routes->in_flight (loop, then worker)
    std::atomic<bool> processing_{false};  ///< a worker holds it
    std::list<std::weak_ptr<Connection>>::iterator idle_it_;
    std::list<std::weak_ptr<Connection>>::iterator all_it_;
    SteadyClock::time_point started_{};
    std::string request_id_;

    friend struct tezgah::engine::http::HttpServer::Impl;
};

}  // namespace

void HttpServer::Impl::accept() {
    acceptor->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == asio::error::operation_aborted || stopping) return;
            // Out of file descriptors, say: wait a moment rather than spin.
            log_event(spdlog::level::warn, "http", "accept failed", {{"error", ec.message()}});
            auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(50));
            timer->async_wait([this, timer](boost::system::error_code) { accept(); });
            return;
        }
        boost::system::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        if (!peer_ec) {
            std::size_t open = 0;
            {
                std::lock_guard lock(registry_mutex);
                open = connections;
            }
            const bool room = open < options.max_connections || make_room();
            std::make_shared<Connection>(*this, std::move(socket), peer.address())->start(room);
        }
        if (!stopping) accept();
    });
}

std::vector<std::shared_ptr<Connection>> HttpServer::Impl::open_connections() {
    std::vector<std::shared_ptr<Connection>> out;
    std::lock_guard lock(registry_mutex);
    for (const auto& weak : all)
        if (auto c = weak.lock()) out.push_back(std::move(c));
    return out;
}

bool HttpServer::Impl::make_room() {
    std::shared_ptr<Connection> oldest;
    {
        std::lock_guard lock(registry_mutex);
        while (!idle.empty() && !oldest) {
            oldest = idle.front().lock();
            idle.pop_front();
            if (oldest) oldest->idle_ = false;  // out of the list already
        }
    }
    if (!oldest) return false;
    oldest->close_now();  // its pending read ends, and with it the connection
    return true;
}

void HttpServer::Impl::finished_request(const std::shared_ptr<Connection>& connection, bool close) {
    asio::post(io, [connection, close] { connection->resume(close); });
}

bool parse_listen(const std::string& text, ServerOptions& options, std::string& error) {
    std::string host;
    std::string port;
    if (text.starts_with("[")) {
        const auto close = text.find("]:");
        if (close == std::string::npos) {
            error = "--listen " + text + ": expected [IPv6]:PORT";
            return false;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) {
            error = "--listen " + text + ": expected HOST:PORT";
            return false;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty()) host = "0.0.0.0";
    char* end = nullptr;
    const long number = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || number < 0 || number > 65535) {
        error = "--listen " + text + ": port must be 0..65535";
        return false;
    }
    options.host = host;
    options.port = static_cast<std::uint16_t>(number);
    return true;
}

HttpServer::HttpServer(Engine& engine, ServerOptions options)
    : impl_(std::make_unique<Impl>(engine, std::move(options))) {}

HttpServer::~HttpServer() {
    try {
        stop(std::chrono::seconds(5));
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "http", "stopping the server failed", {{"error", e.what()}});
    } catch (...) {
    }
}

sdk::Status HttpServer::start() {
    auto& o = impl_->options;
    if (o.threads < 1 || o.queue < 0 || o.max_body_bytes == 0 || o.max_connections == 0 ||
        o.max_connections_per_address == 0)
        return sdk::Error{sdk::errc::invalid_value,
                          "server options: threads must be >= 1, queue >= 0, max body, connections and "
                          "connections per address > 0"};
    for (const auto& proxy : o.trusted_proxies) {
        auto network = parse_network(proxy);
        if (!network)
            return sdk::Error{
                sdk::errc::invalid_value,
                "--trusted-proxy " + proxy + ": expected an IP address or a CIDR block (10.0.0.0/8)"};
        impl_->trusted.push_back(*network);
    }
    // A client that leaves mid-reply must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    // Every connection is a file descriptor: take what the system allows, and keep some back.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
        if (files.rlim_cur < files.rlim_max) {
            files.rlim_cur = files.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &files);
            ::getrlimit(RLIMIT_NOFILE, &files);
        }
        if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur > 512)
            o.max_connections = std::min<std::size_t>(o.max_connections, files.rlim_cur - 256);
    }
    // As --listen takes it: an IPv6 host in brackets.
    const std::string host = o.host.find(':') == std::string::npos ? o.host : "[" + o.host + "]";
    const std::string address = host + ":" + std::to_string(o.port);
    boost::system::error_code ec;
    const auto ip = asio::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
    if (ec) return sdk::Error{sdk::errc::invalid_value, "listen on " + address + ": not an IP address"};
    auto& acceptor = impl_->acceptor.emplace(impl_->io);
    const tcp::endpoint endpoint(ip, o.port);
    acceptor.open(endpoint.protocol(), ec);
    // SO_REUSEADDR lets a restart bind while the last run's connections linger in TIME_WAIT; not
    // SO_REUSEPORT, with which a second server would bind the same port and split the traffic.
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (ec == asio::error::address_in_use)
        return sdk::Error{"address_in_use",
                          "listen on " + address +
                              ": the port is already in use (another tezgah serve?). Pick another "
                              "with --listen HOST:PORT (or TEZGAH_LISTEN), e.g. --listen " +
                              host + ":" + std::to_string(o.port == 65535 ? 8080 : o.port + 1) +
                              ", or port 0 for any free one"};
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return sdk::Error{sdk::errc::unavailable, "listen on " + address + ": " + ec.message()};
    impl_->bound_port = acceptor.local_endpoint().port();

    impl_->channels = std::make_unique<ProcessChannels>(impl_->engine.plugins());
    impl_->routes = std::make_unique<Routes>(impl_->engine, *impl_->channels);
    impl_->audit = std::make_unique<AuditLog>(impl_->engine.database());
    impl_->routes->audit = impl_->audit.get();
    impl_->console = std::make_unique<ConsoleSite>(o.console_dir);
    impl_->routes->console = impl_->console.get();
    impl_->workers = std::make_unique<WorkerPool>(o.threads, static_cast<std::size_t>(o.queue));
    impl_->operations = std::make_unique<WorkerPool>(2, 64);
    impl_->refusals = std::make_unique<WorkerPool>(2, 256);
    CoroutinePool::Options turn_options;
    turn_options.threads = o.turn_threads > 0
                               ? o.turn_threads
                               : std::max(16, 8 * static_cast<int>(std::thread::hardware_concurrency()));
    turn_options.max_running = o.threads;
    turn_options.max_queued = static_cast<std::size_t>(o.queue);
    impl_->turns = std::make_unique<CoroutinePool>(turn_options);
    impl_->routes->turns.run_on(impl_->turns.get());
    impl_->widgets = std::make_unique<WidgetSockets>(
        impl_->engine, [turns = impl_->turns.get()](std::function<void()> task) {
            return turns->try_post(std::move(task));
        });
    impl_->routes->widgets = impl_->widgets.get();
    impl_->accept();
    impl_->loop = std::thread([this] {
        for (;;) {
            try {
                impl_->io.run();
                return;
            } catch (const std::exception& e) {
                log_event(spdlog::level::err, "http", "connection loop error", {{"error", e.what()}});
            }
        }
    });
    impl_->started = true;
    log_event(spdlog::level::info, "http", "listening",
              {{"host", o.host},
               {"port", std::to_string(impl_->bound_port)},
               {"threads", std::to_string(o.threads)},
               {"turn_threads", std::to_string(impl_->turns->threads())},
               {"queue", std::to_string(o.queue)},
               {"max_connections", std::to_string(o.max_connections)},
               {"max_body_bytes", std::to_string(o.max_body_bytes)}});
    return {};
}

std::uint16_t HttpServer::port() const { return impl_->bound_port ? impl_->bound_port : impl_->options.port; }

void HttpServer::set_ready() {
    if (!impl_->started || impl_->stopping) return;
    impl_->routes->readiness = Routes::Readiness::ready;
    Metrics::global().ready(true);
}

HttpServer::Unfinished HttpServer::drain(std::chrono::milliseconds grace) {
    if (!impl_->started || impl_->drained) return impl_->unfinished;
    impl_->drained = true;
    // A load balancer's next check takes this instance out; until then, new connections are
    // refused and it sends them to the others.
    impl_->routes->readiness = Routes::Readiness::draining;
    Metrics::global().ready(false);
    impl_->stopping = true;
    impl_->routes->stopping = true;  // event streams (GET /events) end
    // No new connections; idle ones close now; requests being read are dropped.
    asio::post(impl_->io, [impl = impl_.get()] {
        boost::system::error_code ec;
        impl->acceptor->close(ec);
        for (const auto& c : impl->open_connections())
            if (c->idle()) c->close_now();
        impl->widgets->close_all();
    });
    // Requests in flight finish, up to the grace period: those still arriving (their deadlines
    // bound them), then those being answered.
    const auto until = SteadyClock::now() + grace;
    while (impl_->routes->in_flight.load() > 0 && SteadyClock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    impl_->workers->drain(until);
    impl_->operations->drain(until);
    impl_->refusals->drain(until);
    impl_->turns->drain(until);
    // Channel turns past their reply deadline put their replies in the outbox when they are done.
    const int channel_turns = impl_->routes->turns.wait_idle(until);
    impl_->unfinished = Unfinished{impl_->routes->in_flight.load(), channel_turns};
    if (impl_->unfinished.any())
        log_event(spdlog::level::warn, "http", "drain time ran out",
                  {{"grace_ms", std::to_string(grace.count())},
                   {"requests_unfinished", std::to_string(impl_->unfinished.requests)},
                   {"channel_turns_unfinished", std::to_string(impl_->unfinished.channel_turns)}});
    // Widgets told to go away answer the close frame; wait (a second at most) so the frame is
    // written before the loop stops, and they see 1001 rather than a dropped connection.
    const auto widgets_until =
        std::max(SteadyClock::now(), std::min(until, SteadyClock::now() + std::chrono::seconds(1)));
    while (impl_->widgets->open() > 0 && SteadyClock::now() < widgets_until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return impl_->unfinished;
}

bool HttpServer::stop(std::chrono::milliseconds grace) {
    if (!impl_->started || impl_->stopped) return true;
    const bool in_time = !drain(grace).any();
    impl_->stopped = true;
    // Every connection closes; a worker still writing finds its socket gone.
    asio::post(impl_->io, [impl = impl_.get()] {
        for (const auto& c : impl->open_connections()) c->close_now();
    });
    impl_->workers->join();
    impl_->operations->join();
    impl_->refusals->join();
    impl_->audit->stop();  // every answered request's entry is stored
    // Channel turns that missed their deadline queue their replies before the engine goes (they
    // run on the turn threads, which end after them).
    impl_->routes->turns.drain();
    impl_->turns->join();
    log_event(spdlog::level::info, "http", "turn threads stopped",
              {{"deepest_stack_kib", std::to_string(CoroutinePool::deepest_stack() / 1024)}});
    impl_->audit->stop();  // every answered request's entry is stored
    impl_->io.stop();
    if (impl_->loop.joinable()) impl_->loop.join();
    log_event(spdlog::level::info, "http", "stopped", {});
    return in_time;
}

}  // namespace tezgah::engine::http
