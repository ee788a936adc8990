#pragma once
// The HTTP server. One connection loop (a thread running Boost.Asio) holds every connection while
// it is idle or while a request arrives, with a deadline for a request's headers and one for its
// body, and hands each complete request to a worker; an idle or slow connection holds no worker.
// A request that runs a turn (chat, channels) is handled by a coroutine on a few turn threads
// instead: while it waits on a remote model it holds no thread (util/coroutine.hpp).
// Routes:
//   POST /v1/tenants/{tenant}/chat                 the contract's chat turn (JSON or server-sent events)
//   *    /v1/tenants/{tenant}/channels/<plugin>... a channel plugin's tenant-scoped routes
//   *    <path>                                    a channel plugin's process-wide routes (POST /webhook)
//   GET  /console/...                              the console's files (http/console.hpp)
//   GET  /health, /health/ready, /health/detailed, /metrics
//                                                  answered by their own worker, even when every chat
//                                                  worker is busy
// See docs/http-api.md and docs/security.md.

#include "pipeline/engine.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tezgah::engine::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;  ///< 0: any free port (see HttpServer::port())
    /// Requests handled at once: worker threads for most routes, and, separately, turns (the chat
    /// API and channel routes), which run as coroutines on `turn_threads` threads.
    int threads = 128;
    int queue = 256;  ///< complete requests waiting for a worker (or a turn's place); beyond: 503
    /// Threads running the turns' coroutines; a turn waiting on a remote model holds none. 0: eight
    /// per core, at least 16 (SQLite and group-commit waits still block a thread briefly, and with
    /// fewer the cores idle while they do).
    int turn_threads = 0;
    std::size_t max_body_bytes = 1024 * 1024;             ///< larger bodies: 413
    std::size_t max_header_bytes = 16 * 1024;             ///< request line and headers; beyond: 414 or 431
    std::size_t max_headers = 100;                        ///< header fields; beyond: 431
    std::chrono::milliseconds header_deadline{5000};      ///< from a request's first byte to its last header
    std::chrono::milliseconds body_deadline{10000};       ///< from the headers to the body's last byte
    std::chrono::milliseconds keep_alive_timeout{10000};  ///< an idle connection is closed after
    std::chrono::milliseconds io_timeout{15000};          ///< to write one piece of a response
    std::size_t max_connections = 10000;            ///< beyond: the oldest idle connection goes, else 503
    std::size_t max_connections_per_address = 256;  ///< from one client address; beyond: 429
    /// Addresses (or CIDR blocks, "10.0.0.0/8") of reverse proxies whose X-Forwarded-For names the
    /// client; their own connections are not counted against the per-address cap.
    std::vector<std::string> trusted_proxies;
    /// The console's files (docs/console.md): empty, those embedded in the binary; otherwise this
    /// folder's, read on every request (for working on the console).
    std::string console_dir;
};

/// Parses "HOST:PORT", "[v6]:PORT" or ":PORT" into options.host/port. False with `error` set otherwise.
bool parse_listen(const std::string& text, ServerOptions& options, std::string& error);

class HttpServer {
public:
    /// `engine` must be started and outlive the server.
    HttpServer(Engine& engine, ServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds, mounts the channel plugins' process-wide routes, and starts serving. Errors:
    /// address_in_use (another process listens there), invalid_value, unavailable.
    sdk::Status start();
    /// The bound port (the chosen one when options.port was 0).
    std::uint16_t port() const;
    /// GET /health/ready answers 200 from now on (tezgah_ready 1): call it once everything that
    /// serves (the outbox, the sweeps) runs. Until then it answers 503 "starting".
    void set_ready();

    /// What a drain left running when its time ran out.
    struct Unfinished {
        int requests = 0;       ///< HTTP requests begun and not answered (chat turns among them)
        int channel_turns = 0;  ///< channel turns past their reply deadline, not yet in the outbox
        bool any() const { return requests > 0 || channel_turns > 0; }
    };
    /// The graceful part of stopping (SIGTERM): GET /health/ready answers 503 "draining" at once, no
    /// new connection is accepted, idle ones close, widget sockets are closed with 1001 (the widget
    /// reconnects, through the load balancer, to another instance), and requests and channel turns
    /// in flight finish (their replies stored, a late channel reply queued in the outbox), up to
    /// `grace`. Returns what was still running then; when something was, its threads still run it
    /// and stop() would wait for them: the caller exits the process instead (what was acknowledged
    /// is in the database).
    Unfinished drain(std::chrono::milliseconds grace);

    /// drain(), then cuts off what is left and ends the threads (waiting for a worker still inside
    /// a turn). True when every request finished within `grace`.
    bool stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tezgah::engine::http
