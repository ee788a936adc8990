#pragma once
// A scriptable HTTP server on loopback for tests and benchmarks: the fake Gemini and
// OpenAI-compatible servers, slow and broken servers. Each request is recorded, then handed to a
// handler that answers whole, streams in chunks with pauses, stalls, or drops the connection
// mid-way. A test waits for what the server saw (wait_for_requests, wait_for_cut_offs), never for
// a length of time.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Poco {
class ThreadPool;
}
namespace Poco::Net {
class HTTPServer;
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Poco::Net

namespace tezgah::testing {

/// How long a test waits for something a fake server should see before it fails: generous, as
/// the machine may be busy; an event that comes returns the wait at once.
inline constexpr std::chrono::seconds kEventTimeout{20};

struct RecordedRequest {
    std::string method;
    std::string path;                                          ///< without the query
    std::string query;                                         ///< after '?', raw
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower case
    std::string body;
    int remote_port = 0;  ///< the client's port: tells connections apart
    /// The first header named `name` (lower case), or empty.
    std::string header(std::string_view name) const;
};

/// The handler's side of one exchange.
class FakeReply {
public:
    /// `server_stopping` ends a stall when the server shuts down.
    FakeReply(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
              const std::atomic<bool>& server_stopping);
    ~FakeReply();
    void status(int code);
    void header(const std::string& name, const std::string& value);
    void content_type(const std::string& type);
    /// The whole body, with Content-Length. Ends the reply.
    void body(std::string_view text);
    /// A piece of a streamed (chunked) body, flushed at once.
    void chunk(std::string_view text);
    /// A slow server between two pieces of its answer: waits `how_long`, whatever the client does.
    void pause(std::chrono::milliseconds how_long);
    /// A server that takes `how_long` before it answers: waits, but stops as soon as the client
    /// hangs up (closes the connection: it gave up, or its call was cancelled) or the server shuts
    /// down. True when the whole time passed; false when there is no one left to answer. A hang-up
    /// ends the reply (nothing more is sent) and counts the request as cut off.
    bool stall(std::chrono::milliseconds how_long);
    /// Whether the client hung up during a stall().
    bool client_left() const { return client_left_; }
    /// Closes the connection at once: no end of the chunked body, no more bytes.
    void drop();

private:
    Poco::Net::HTTPServerRequest& request_;
    Poco::Net::HTTPServerResponse& response_;
    const std::atomic<bool>& server_stopping_;
    std::ostream* stream_ = nullptr;
    bool done_ = false;
    bool client_left_ = false;
};

using FakeHandler = std::function<void(const RecordedRequest&, FakeReply&)>;

class FakeHttpServer {
public:
    /// Listens on 127.0.0.1 on a free port with up to `threads` connections served at once.
    explicit FakeHttpServer(FakeHandler handler, int threads = 64);
    ~FakeHttpServer();
    FakeHttpServer(const FakeHttpServer&) = delete;
    FakeHttpServer& operator=(const FakeHttpServer&) = delete;

    int port() const { return port_; }
    /// "http://127.0.0.1:<port>"
    std::string url() const;
    void set_handler(FakeHandler handler);
    std::vector<RecordedRequest> requests() const;
    std::size_t request_count() const;
    void clear_requests();
    /// Blocks until `n` requests have arrived (counted since the start or clear_requests()), or
    /// `timeout` passed: whether they did.
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = kEventTimeout) const;
    /// Requests whose client hung up while the handler stalled (FakeReply::stall).
    std::size_t cut_off_count() const;
    /// Blocks until `n` requests were cut off, or `timeout` passed: whether they were.
    bool wait_for_cut_offs(std::size_t n, std::chrono::milliseconds timeout = kEventTimeout) const;

    // Used by the server's request handler.
    void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;  // a request arrived, or one was cut off
    FakeHandler handler_;
    std::vector<RecordedRequest> requests_;
    std::size_t cut_offs_ = 0;
    std::atomic<bool> stopping_{false};
    std::unique_ptr<Poco::ThreadPool> pool_;  // outlives the server
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    int port_ = 0;
};

}  // namespace tezgah::testing
