#pragma once
// A scriptable HTTP server on loopback for tests and benchmarks: the fake Gemini and
// OpenAI-compatible servers, slow and broken servers. Each request is recorded, then handed to a
// handler that answers whole, streams in chunks with pauses, or drops the connection mid-way.

#include <chrono>
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
    FakeReply(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
    ~FakeReply();
    void status(int code);
    void header(const std::string& name, const std::string& value);
    void content_type(const std::string& type);
    /// The whole body, with Content-Length. Ends the reply.
    void body(std::string_view text);
    /// A piece of a streamed (chunked) body, flushed at once.
    void chunk(std::string_view text);
    void pause(std::chrono::milliseconds how_long);
    /// Closes the connection at once: no end of the chunked body, no more bytes.
    void drop();

private:
    Poco::Net::HTTPServerRequest& request_;
    Poco::Net::HTTPServerResponse& response_;
    std::ostream* stream_ = nullptr;
    bool done_ = false;
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

    // Used by the server's request handler.
    void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

private:
    mutable std::mutex mutex_;
    FakeHandler handler_;
    std::vector<RecordedRequest> requests_;
    std::unique_ptr<Poco::ThreadPool> pool_;  // outlives the server
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    int port_ = 0;
};

}  // namespace tezgah::testing
