#pragma once
// The HTTP server: Poco Net with a bounded pool and queue. Routes:
//   POST /v1/tenants/{tenant}/chat                 the contract's chat turn (JSON or server-sent events)
//   *    /v1/tenants/{tenant}/channels/<plugin>... a channel plugin's tenant-scoped routes
//   *    <path>                                    a channel plugin's process-wide routes (POST /webhook)
//   GET  /health, /health/detailed, /metrics
// See docs/http-api.md.

#include "pipeline/engine.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace tezgah::engine::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;                    ///< 0: any free port (see HttpServer::port())
    int threads = 128;                            ///< connections served at once (keep-alive holds one)
    int queue = 256;                              ///< accepted connections waiting for a thread; beyond: 503
    std::size_t max_body_bytes = 1024 * 1024;     ///< larger bodies: 413
    std::chrono::milliseconds io_timeout{15000};  ///< per read or write on a connection
    std::chrono::milliseconds body_deadline{10000};       ///< to read one whole request body
    std::chrono::milliseconds keep_alive_timeout{10000};  ///< an idle keep-alive connection is closed after
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

    /// Binds, mounts the channel plugins' process-wide routes, and starts serving.
    sdk::Status start();
    /// The bound port (the chosen one when options.port was 0).
    std::uint16_t port() const;
    /// Stops accepting, lets requests in flight finish (up to `grace`, then cuts them off).
    /// True when every request finished within `grace`.
    bool stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tezgah::engine::http
