// Poco plumbing: the pool, the overload guard, the handler factory, the access log, shutdown.
#include "http/server.hpp"

#include <tezgah/sdk/errors.hpp>

#include "http/exchange.hpp"
#include "ops/metrics.hpp"
#include "util/log.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/ThreadPool.h>

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <future>
#include <list>
#include <mutex>
#include <thread>

namespace tezgah::engine::http {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string_view method_label(const std::string& method) {
    static constexpr std::string_view kKnown[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (auto known : kKnown) {
        if (method == known) return known;
    }
    return "OTHER";  // clients choose the method: keep the label set bounded
}

/// Answers connections the server has no room for with a 503 and closes them, without taking a
/// worker thread: the reply is written at once (a fresh socket's buffer takes it), then one
/// thread reads and drops what each client still sends until it closes (or a second passes),
/// so the client reads the 503 instead of a reset.
class OverloadRejecter {
public:
    OverloadRejecter() : thread_([this] { run(); }) {}
    ~OverloadRejecter() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }

    void reject(const Poco::Net::StreamSocket& socket) {
        const std::string id = new_request_id();
        const std::string body = error_body("overloaded", "the server is at capacity; retry shortly", id);
        std::string reply =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
            "Connection: close\r\nX-Request-Id: " +
            id + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        const int fd = socket.impl()->sockfd();
        (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(fd, SHUT_WR);
        Metrics::global().http_request("overloaded", "OTHER", 503, 0);
        log_event(spdlog::level::warn, "http", "request",
                  {{"request_id", id}, {"route", "overloaded"}, {"status", "503"}});
        std::lock_guard lock(mutex_);
        if (incoming_.size() + lingering_ >= kMaxLingering) return;  // closes now
        incoming_.push_back({socket, SteadyClock::now() + std::chrono::seconds(1)});
        wake_.notify_one();
    }

private:
    struct Pending {
        Poco::Net::StreamSocket socket;
        SteadyClock::time_point until;
    };
    static constexpr std::size_t kMaxLingering = 4096;

    void run() {
        std::list<Pending> pending;
        std::vector<pollfd> fds;
        char discard[4096];
        while (true) {
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || !incoming_.empty() || !pending.empty(); });
                if (stopping_) return;
                for (auto& p : incoming_) pending.push_back(std::move(p));
                incoming_.clear();
                lingering_ = pending.size();
            }
            fds.clear();
            for (const auto& p : pending) fds.push_back({p.socket.impl()->sockfd(), POLLIN, 0});
            ::poll(fds.data(), fds.size(), 50);
            const auto now = SteadyClock::now();
            std::size_t i = 0;
            for (auto it = pending.begin(); it != pending.end(); ++i) {
                bool done = now >= it->until;
                if (!done && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                    const auto n = ::recv(fds[i].fd, discard, sizeof discard, MSG_DONTWAIT);
                    done = n <= 0;
                }
                it = done ? pending.erase(it) : std::next(it);  // erasing closes the socket
            }
            std::lock_guard lock(mutex_);
            lingering_ = pending.size();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Pending> incoming_;
    std::size_t lingering_ = 0;
    bool stopping_ = false;
    std::thread thread_;  // last: starts after the members above exist
};

/// Turns connections away in the acceptor thread, before they are queued, when every worker is
/// busy and the queue holds `queue` connections already. Poco's own queue limit is set above
/// ours so that it, which closes sockets without a word, never triggers first.
class OverloadFilter : public Poco::Net::TCPServerConnectionFilter {
public:
    OverloadFilter(int capacity, OverloadRejecter& rejecter) : capacity_(capacity), rejecter_(rejecter) {}
    void attach(Poco::Net::HTTPServer* server) { server_ = server; }

    bool accept(const Poco::Net::StreamSocket& socket) override {
        auto* server = server_.load();
        if (server == nullptr) return true;
        if (server->currentConnections() + server->queuedConnections() < capacity_) return true;
        rejecter_.reject(socket);
        return false;
    }

private:
    int capacity_;
    OverloadRejecter& rejecter_;
    std::atomic<Poco::Net::HTTPServer*> server_{nullptr};
};

/// One request: routes it, catches what escapes, writes the access log line and the metrics.
class RequestHandler : public Poco::Net::HTTPRequestHandler {
public:
    RequestHandler(Routes& routes, const ServerOptions& options, bool too_large)
        : routes_(routes), options_(options), too_large_(too_large) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        Exchange ex(request, response, options_);
        const RequestIdScope request_scope(ex.request_id);
        ++routes_.in_flight;
        try {
            if (too_large_) {
                ex.route = "payload_too_large";
                std::string unused;
                ex.read_body(unused);  // answers 413 from the declared length, before the body comes
            } else {
                routes_.dispatch(ex);
            }
        } catch (const std::exception& e) {
            log_event(spdlog::level::err, "http", "request handler threw",
                      {{"request_id", ex.request_id}, {"route", ex.route}, {"error", e.what()}});
        }
        --routes_.in_flight;
        if (!ex.sent()) {
            response.setKeepAlive(false);
            ex.send_error(500, "internal", "the request could not be completed");
        }
        const double seconds = std::chrono::duration<double>(SteadyClock::now() - ex.started).count();
        const auto method = method_label(request.getMethod());
        Metrics::global().http_request(ex.route, method, ex.status, seconds);
        char latency[32];
        std::snprintf(latency, sizeof latency, "%.3f", seconds * 1000);
        log_event(ex.status >= 500 ? spdlog::level::warn : spdlog::level::info, "http", "request",
                  {{"request_id", ex.request_id},
                   {"method", std::string(method)},
                   {"route", ex.route},
                   {"tenant", ex.tenant},
                   {"status", std::to_string(ex.status)},
                   {"latency_ms", latency}});
    }

private:
    Routes& routes_;
    const ServerOptions& options_;
    bool too_large_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    HandlerFactory(Routes& routes, const ServerOptions& options) : routes_(routes), options_(options) {}

    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest& request) override {
        // A status other than 200 here keeps Poco from sending "100 Continue": an oversized body
        // is refused before the client sends it.
        const bool too_large =
            request.getContentLength64() > static_cast<Poco::Int64>(options_.max_body_bytes);
        if (too_large) request.response().setStatus(Poco::Net::HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE);
        return new RequestHandler(routes_, options_, too_large);
    }

private:
    Routes& routes_;
    const ServerOptions& options_;
};

}  // namespace

struct HttpServer::Impl {
    Engine& engine;
    ServerOptions options;
    std::unique_ptr<ProcessChannels> channels;
    std::unique_ptr<Routes> routes;
    std::unique_ptr<OverloadRejecter> rejecter;
    std::unique_ptr<Poco::ThreadPool> pool;
    std::unique_ptr<Poco::Net::HTTPServer> server;
    std::thread stopper;
    bool stopped = false;
};

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
    : impl_(std::make_unique<Impl>(Impl{engine, std::move(options), {}, {}, {}, {}, {}, {}, false})) {}

HttpServer::~HttpServer() {
    stop(std::chrono::seconds(5));
    if (impl_->stopper.joinable()) impl_->stopper.join();
}

sdk::Status HttpServer::start() {
    auto& o = impl_->options;
    if (o.threads < 1 || o.queue < 0 || o.max_body_bytes == 0)
        return sdk::Error{sdk::errc::invalid_value,
                          "server options: threads must be >= 1, queue >= 0, max body > 0"};
    // A client that leaves mid-reply must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        Poco::Net::ServerSocket socket;
        // SO_REUSEADDR lets a restart bind while the last run's connections linger in TIME_WAIT.
        // Not SO_REUSEPORT (Poco's two-argument bind sets both): with it a second server binds
        // the same port without a word and the kernel splits the traffic between the two.
        socket.bind(Poco::Net::SocketAddress(o.host, o.port), /*reuseAddress=*/true, /*reusePort=*/false);
        socket.listen(std::max(64, o.queue + o.threads));

        impl_->channels = std::make_unique<ProcessChannels>(impl_->engine.plugins());
        impl_->routes = std::make_unique<Routes>(impl_->engine, *impl_->channels);
        impl_->rejecter = std::make_unique<OverloadRejecter>();
        impl_->pool = std::make_unique<Poco::ThreadPool>(std::min(2, o.threads), o.threads, 60);

        Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(o.threads);
        params->setMaxQueued(o.queue + 64);  // our filter refuses at o.queue; Poco's silent limit stays above
        params->setTimeout(Poco::Timespan(o.io_timeout.count() * 1000));
        params->setKeepAlive(true);
        params->setKeepAliveTimeout(Poco::Timespan(o.keep_alive_timeout.count() * 1000));
        params->setMaxKeepAliveRequests(0);
        params->setServerName("tezgah");

        Poco::AutoPtr<OverloadFilter> filter = new OverloadFilter(o.threads + o.queue, *impl_->rejecter);
        impl_->server = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*impl_->routes, o),
                                                                *impl_->pool, socket, params);
        filter->attach(impl_->server.get());
        impl_->server->setConnectionFilter(filter);
        impl_->server->start();
    } catch (const Poco::Exception& e) {
        // As --listen takes it: an IPv6 host in brackets.
        const std::string host = o.host.find(':') == std::string::npos ? o.host : "[" + o.host + "]";
        const std::string address = host + ":" + std::to_string(o.port);
        if (e.code() == EADDRINUSE) {
            return sdk::Error{"address_in_use",
                              "listen on " + address +
                                  ": the port is already in use (another tezgah serve?). Pick another "
                                  "with --listen HOST:PORT (or TEZGAH_LISTEN), e.g. --listen " +
                                  host + ":" + std::to_string(o.port == 65535 ? 8080 : o.port + 1) +
                                  ", or port 0 for any free one"};
        }
        return sdk::Error{sdk::errc::unavailable, "listen on " + address + ": " + e.displayText()};
    } catch (const std::exception& e) {
        return sdk::Error{sdk::errc::unavailable,
                          "listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what()};
    }
    log_event(spdlog::level::info, "http", "listening",
              {{"host", o.host},
               {"port", std::to_string(port())},
               {"threads", std::to_string(o.threads)},
               {"queue", std::to_string(o.queue)},
               {"max_body_bytes", std::to_string(o.max_body_bytes)}});
    return {};
}

std::uint16_t HttpServer::port() const { return impl_->server ? impl_->server->port() : impl_->options.port; }

bool HttpServer::stop(std::chrono::milliseconds grace) {
    if (!impl_->server || impl_->stopped) return true;
    impl_->stopped = true;
    impl_->server->stop();  // no new connections
    // Connections close after the request they are serving; idle keep-alive ones at once.
    auto finished = std::make_shared<std::promise<void>>();
    auto done = finished->get_future();
    impl_->stopper = std::thread([server = impl_->server.get(), pool = impl_->pool.get(), finished] {
        server->stopAll(false);
        pool->joinAll();
        finished->set_value();
    });
    bool in_time = done.wait_for(grace) == std::future_status::ready;
    if (!in_time) {
        log_event(spdlog::level::warn, "http",
                  "requests still running after the grace period; cutting them off",
                  {{"grace_ms", std::to_string(grace.count())}});
        impl_->server->stopAll(true);
        done.wait();
    }
    impl_->stopper.join();
    log_event(spdlog::level::info, "http", "stopped", {});
    return in_time;
}

}  // namespace tezgah::engine::http
