// The engine's HTTP client (host.http()) over real sockets on loopback: requests arrive as sent,
// streaming, timeouts, dropped connections, keep-alive reuse and recovery, the turn's deadline,
// cancellation, proxies (absolute-form and CONNECT) and verified TLS with a CA made by openssl.
#include "util/http_client.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/String.h>
#include <Poco/ThreadPool.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <boost/asio.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_http_server.hpp"
#include "util/coroutine.hpp"
#include "util/http_proxy.hpp"
#include "util/suspend.hpp"

namespace tezgah::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tezgah::sdk::OutboundRequest;
using tezgah::testing::FakeHttpServer;
using tezgah::testing::FakeReply;
using tezgah::testing::RecordedRequest;

// ---- Helpers ---------------------------------------------------------------------------------

/// Sets and unsets environment variables; restores them all when destroyed.
class EnvGuard {
public:
    EnvGuard() {
        for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                 "ALL_PROXY", "no_proxy", "NO_PROXY", "TEZGAH_CA_FILE"})
            unset(name);
    }
    ~EnvGuard() {
        for (const auto& [name, value] : saved_) {
            if (value)
                ::setenv(name.c_str(), value->c_str(), 1);
            else
                ::unsetenv(name.c_str());
        }
    }
    void set(const std::string& name, const std::string& value) {
        save(name);
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    void unset(const std::string& name) {
        save(name);
        ::unsetenv(name.c_str());
    }

private:
    void save(const std::string& name) {
        if (saved_.count(name)) return;
        const char* value = std::getenv(name.c_str());
        saved_[name] = value ? std::optional<std::string>(value) : std::nullopt;
    }
    std::map<std::string, std::optional<std::string>> saved_;
};

/// A one-way latch with bounded waits, shared between a test and its servers.
class Gate {
public:
    void open() {
        {
            std::lock_guard lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }
    /// True when opened within `timeout`.
    bool wait_for(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return open_; });
    }
    bool is_open() {
        std::lock_guard lock(mutex_);
        return open_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

/// Opens a gate when the test ends, before the servers declared earlier wait for their handlers.
struct OpenOnExit {
    std::shared_ptr<Gate> gate;
    ~OpenOnExit() { gate->open(); }
};

/// A TCP server on loopback that runs `session` for each connection in its own thread, for what
/// an HTTP server library won't do: dribbling headers, closing kept-alive connections, tunnels.
class RawServer {
public:
    using Session = std::function<void(Poco::Net::StreamSocket&, int index, RawServer&)>;

    explicit RawServer(Session session)
        : session_(std::move(session)), listener_(Poco::Net::SocketAddress("127.0.0.1", 0), 64) {
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~RawServer() {
        stopping_ = true;
        stop_.open();
        acceptor_.join();
        for (auto& t : threads_) t.join();
    }
    int port() const { return listener_.address().port(); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    int connections() const { return connections_.load(); }
    int finished() const { return finished_.load(); }
    bool stopping() const { return stopping_.load(); }
    /// Sleeps up to `timeout`, less if the server stops; true when it stops.
    bool wait_stop(std::chrono::milliseconds timeout) { return stop_.wait_for(timeout); }

private:
    void accept_loop() {
        while (!stopping_) {
            try {
                if (!listener_.poll(Poco::Timespan(50'000), Poco::Net::Socket::SELECT_READ)) continue;
                Poco::Net::StreamSocket socket = listener_.acceptConnection();
                const int index = connections_++;
                threads_.emplace_back([this, socket, index]() mutable {
                    try {
                        socket.setReceiveTimeout(Poco::Timespan(10, 0));
                        session_(socket, index, *this);
                    } catch (...) {
                    }
                    try {
                        socket.close();
                    } catch (...) {
                    }
                    ++finished_;
                });
            } catch (...) {
            }
        }
    }

    Session session_;
    Poco::Net::ServerSocket listener_;
    std::thread acceptor_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0};
    std::atomic<int> finished_{0};
    Gate stop_;
};

/// Reads one request (head and Content-Length body); empty at the end of the stream.
std::string read_request(Poco::Net::StreamSocket& socket) {
    std::string data;
    char buffer[4096];
    std::size_t head_end = std::string::npos;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) return {};
        data.append(buffer, static_cast<std::size_t>(n));
    }
    std::size_t length = 0;
    if (auto at = data.find("Content-Length: "); at != std::string::npos && at < head_end)
        length = std::stoul(data.substr(at + 16));
    while (data.size() < head_end + 4 + length) {
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) return {};
        data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
}

void send_text(Poco::Net::StreamSocket& socket, const std::string& text) {
    socket.sendBytes(text.data(), static_cast<int>(text.size()));
}

/// A proxy that opens CONNECT tunnels (https through a proxy); it records each CONNECT line.
class TunnelProxy {
public:
    TunnelProxy()
        : server_(
              [this](Poco::Net::StreamSocket& client, int, RawServer& server) { tunnel(client, server); }) {}
    std::string url() const { return server_.url(); }
    std::vector<std::string> connect_lines() {
        std::lock_guard lock(mutex_);
        return lines_;
    }

private:
    void tunnel(Poco::Net::StreamSocket& client, RawServer& server) {
        const std::string head = read_request(client);
        const std::string line = head.substr(0, head.find("\r\n"));
        {
            std::lock_guard lock(mutex_);
            lines_.push_back(line);
        }
        if (line.rfind("CONNECT ", 0) != 0) {
            send_text(client, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        const std::string authority = line.substr(8, line.find(' ', 8) - 8);
        const auto colon = authority.rfind(':');
        // The tests' TLS server listens on 127.0.0.1 whatever name the client used.
        Poco::Net::StreamSocket upstream(Poco::Net::SocketAddress(
            "127.0.0.1", static_cast<Poco::UInt16>(std::stoi(authority.substr(colon + 1)))));
        send_text(client, "HTTP/1.1 200 Connection established\r\n\r\n");
        char buffer[16384];
        while (!server.stopping()) {
            for (auto [from, to] : {std::pair{&client, &upstream}, std::pair{&upstream, &client}}) {
                if (!from->poll(Poco::Timespan(10'000), Poco::Net::Socket::SELECT_READ)) continue;
                const int n = from->receiveBytes(buffer, sizeof buffer);
                if (n <= 0) return;
                to->sendBytes(buffer, n);
            }
        }
    }

    std::mutex mutex_;
    std::vector<std::string> lines_;
    RawServer server_;  // last: its threads stop before the members above go
};

OutboundRequest get(const std::string& url, int timeout_ms = 10000) {
    OutboundRequest request;
    request.method = "GET";
    request.url = url;
    request.timeout_ms = timeout_ms;
    return request;
}

std::string header(const tezgah::sdk::HttpResponse& response, const std::string& name) {
    for (const auto& [n, v] : response.headers)
        if (Poco::icompare(n, name) == 0) return v;
    return {};
}

std::set<int> connection_ports(const FakeHttpServer& server) {
    std::set<int> ports;
    for (const auto& r : server.requests()) ports.insert(r.remote_port);
    return ports;
}

class HttpClientTest : public ::testing::Test {
protected:
    EnvGuard env_;  // no proxies, no extra CA, unless a test sets them
};

// ---- Requests and responses ------------------------------------------------------------------

TEST_F(HttpClientTest, GetWithHeadersArrivesAsSentAndStatusAndHeadersComeBack) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) {
        reply.status(404);
        reply.header("X-Reply", "yes");
        reply.content_type("application/problem+json");
        reply.body(R"({"error":"no such model"})");
    });
    PocoHttpClient client;
    auto request = get(server.url() + "/v1/models/x?alt=sse&key=abc");
    request.headers = {{"X-Api-Key", "k-123"}, {"Accept", "application/json"}};
    auto response = client.send(request);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 404);
    EXPECT_EQ(response->body, R"({"error":"no such model"})");
    EXPECT_EQ(response->content_type, "application/problem+json");
    EXPECT_EQ(header(*response, "x-reply"), "yes");

    ASSERT_EQ(server.request_count(), 1u);
    const auto r = server.requests().front();
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.path, "/v1/models/x");
    EXPECT_EQ(r.query, "alt=sse&key=abc");
    EXPECT_EQ(r.header("x-api-key"), "k-123");
    EXPECT_EQ(r.header("accept"), "application/json");
    EXPECT_EQ(r.header("host"), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(r.body, "");
}

TEST_F(HttpClientTest, PostBodyArrivesWhole) {
    FakeHttpServer server([](const RecordedRequest& r, FakeReply& reply) {
        reply.status(201);
        reply.body(std::to_string(r.body.size()));
    });
    PocoHttpClient client;
    OutboundRequest request;
    request.url = server.url() + "/v1/chat";
    request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer t"}};
    std::string body(1 << 20, 'x');
    for (std::size_t i = 0; i < body.size(); i += 997) body[i] = static_cast<char>('a' + i % 26);
    request.body = body;
    auto response = client.send(request);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 201);
    EXPECT_EQ(response->body, std::to_string(body.size()));
    const auto r = server.requests().front();
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("authorization"), "Bearer t");
    EXPECT_EQ(r.body, body);
}

TEST_F(HttpClientTest, AnErrorsBodyComesBackWholeAndNeverReachesOnChunk) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) {
        reply.status(429);
        reply.content_type("application/json");
        reply.header("Retry-After", "1");
        reply.chunk(R"({"error": {"message": "slow down",)");
        reply.chunk(R"( "type": "rate_limit_exceeded"}})");
    });
    PocoHttpClient client;
    auto request = get(server.url() + "/stream", 30000);
    std::size_t delivered = 0;
    request.on_chunk = [&](std::string_view piece) { delivered += piece.size(); };
    auto response = client.send(request);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->status, 429);
    EXPECT_EQ(delivered, 0u);  // so a retry loop does not take the error for a started answer
    EXPECT_EQ(response->body, R"({"error": {"message": "slow down", "type": "rate_limit_exceeded"}})");
}

TEST_F(HttpClientTest, StreamedChunksReachOnChunkBeforeTheResponseEnds) {
    auto first_seen = std::make_shared<Gate>();
    auto last_sent = std::make_shared<std::atomic<bool>>(false);
    FakeHttpServer server([first_seen, last_sent](const RecordedRequest&, FakeReply& reply) {
        reply.content_type("text/event-stream");
        reply.chunk("data: one\n\n");
        // The next chunk waits until the client has seen the first (or 10 s, so a client that
        // buffers the whole response still finishes and fails the assertion below).
        first_seen->wait_for(10s);
        reply.pause(300ms);
        *last_sent = true;
        reply.chunk("data: two\n\n");
    });
    OpenOnExit opener{first_seen};
    PocoHttpClient client;
    auto request = get(server.url() + "/stream", 30000);
    std::string received;
    std::vector<std::string> pieces;
    bool first_before_last = false;
    request.on_chunk = [&](std::string_view piece) {
        pieces.emplace_back(piece);
        received.append(piece);
        if (!first_seen->is_open() && received.find("data: one\n\n") != std::string::npos) {
            first_before_last = !*last_sent;
            first_seen->open();
        }
    };
    auto response = client.send(request);
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_TRUE(first_before_last) << "the first event reached on_chunk only after the last was sent";
    EXPECT_GE(pieces.size(), 2u);
    EXPECT_EQ(received, "data: one\n\ndata: two\n\n");
    EXPECT_EQ(response->body, received);
    EXPECT_EQ(response->content_type, "text/event-stream");
}

TEST_F(HttpClientTest, HeadResponseHasNoBodyAndKeepsTheConnection) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) { reply.body("twelve bytes"); });
    PocoHttpClient client;
    auto head = get(server.url() + "/h");
    head.method = "HEAD";
    auto first = client.send(head);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->body, "");
    auto second = client.send(get(server.url() + "/g"));
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->body, "twelve bytes");
    EXPECT_EQ(connection_ports(server).size(), 1u);
}

// ---- Timeouts and broken servers -------------------------------------------------------------

TEST_F(HttpClientTest, TotalTimeoutOnAServerThatNeverAnswers) {
    auto release = std::make_shared<Gate>();
    FakeHttpServer server([release](const RecordedRequest&, FakeReply& reply) {
        release->wait_for(20s);
        reply.body("late");
    });
    OpenOnExit opener{release};
    PocoHttpClient client;
    auto response = client.send(get(server.url() + "/v1/stall?key=SECRET", 500));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "timeout");
    EXPECT_NE(response.error().message.find(server.url() + "/v1/stall"), std::string::npos)
        << response.error().message;
    EXPECT_EQ(response.error().message.find("SECRET"), std::string::npos) << response.error().message;
    EXPECT_EQ(client.idle_connections(), 0u);
}

TEST_F(HttpClientTest, TotalTimeoutOnAServerDribblingTheBody) {
    auto release = std::make_shared<Gate>();
    FakeHttpServer server([release](const RecordedRequest&, FakeReply& reply) {
        for (int i = 0; i < 200 && !release->is_open(); ++i) {
            reply.chunk("x");
            reply.pause(50ms);
        }
    });
    OpenOnExit opener{release};
    PocoHttpClient client;
    auto request = get(server.url() + "/dribble", 800);
    std::string received;
    request.on_chunk = [&](std::string_view piece) { received.append(piece); };
    auto response = client.send(request);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "timeout");
    EXPECT_NE(response.error().message.find("800 ms"), std::string::npos) << response.error().message;
    EXPECT_FALSE(received.empty()) << "the bytes that came before the timeout reach on_chunk";
}

TEST_F(HttpClientTest, TotalTimeoutOnAServerDribblingTheHeaders) {
    RawServer server([](Poco::Net::StreamSocket& socket, int, RawServer& self) {
        read_request(socket);
        const std::string head = "HTTP/1.1 200 OK\r\n";
        for (std::size_t i = 0; !self.stopping(); ++i) {
            send_text(socket, std::string(1, i < head.size() ? head[i] : "X-Slow: y\r\n"[i % 11]));
            if (self.wait_stop(50ms)) break;
        }
    });
    PocoHttpClient client;
    auto response = client.send(get(server.url() + "/slow-head", 800));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "timeout");
    EXPECT_NE(response.error().message.find("response headers"), std::string::npos)
        << response.error().message;
}

TEST_F(HttpClientTest, ConnectionDroppedMidChunkedBodyIsUnavailableAfterDeliveringWhatCame) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) {
        reply.chunk("partial");
        reply.drop();
    });
    PocoHttpClient client;
    auto request = get(server.url() + "/drop");
    std::string received;
    request.on_chunk = [&](std::string_view piece) { received.append(piece); };
    auto response = client.send(request);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "unavailable");
    EXPECT_NE(response.error().message.find("connection closed before the end of the response"),
              std::string::npos)
        << response.error().message;
    EXPECT_EQ(received, "partial");
}

TEST_F(HttpClientTest, ConnectionDroppedBeforeContentLengthBytesIsUnavailable) {
    RawServer server([](Poco::Net::StreamSocket& socket, int, RawServer&) {
        read_request(socket);
        send_text(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    });
    PocoHttpClient client;
    auto request = get(server.url() + "/short");
    std::string received;
    request.on_chunk = [&](std::string_view piece) { received.append(piece); };
    auto response = client.send(request);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "unavailable");
    EXPECT_NE(response.error().message.find("connection closed before the end of the response"),
              std::string::npos)
        << response.error().message;
    EXPECT_EQ(received, "0123456789");
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailableAndHidesQueryAndCredentials) {
    int port = 0;
    {
        Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
        port = probe.address().port();
    }  // closed: nothing listens there now
    PocoHttpClient client;
    auto response =
        client.send(get("http://user:PASSWORD@127.0.0.1:" + std::to_string(port) + "/v1/x?key=SECRET"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "unavailable");
    EXPECT_NE(response.error().message.find("http://127.0.0.1:" + std::to_string(port) + "/v1/x"),
              std::string::npos)
        << response.error().message;
    EXPECT_EQ(response.error().message.find("SECRET"), std::string::npos);
    EXPECT_EQ(response.error().message.find("PASSWORD"), std::string::npos);
}

TEST_F(HttpClientTest, UnknownHostIsUnavailable) {
    PocoHttpClient client;
    auto response = client.send(get("http://no-such-host.invalid/x", 10000));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "unavailable");
    EXPECT_NE(response.error().message.find("no-such-host.invalid"), std::string::npos)
        << response.error().message;
}

TEST_F(HttpClientTest, OtherSchemesAreUnsupportedAndBadInputIsRejected) {
    PocoHttpClient client;
    auto ftp = client.send(get("ftp://example.com/file"));
    ASSERT_FALSE(ftp.ok());
    EXPECT_EQ(ftp.error().code, "unsupported");

    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) { reply.body("ok"); });
    auto request = get(server.url() + "/x");
    request.headers = {{"X-Evil", "a\r\nInjected: yes"}};
    auto injected = client.send(request);
    ASSERT_FALSE(injected.ok());
    EXPECT_EQ(injected.error().code, "invalid_argument");
    EXPECT_EQ(injected.error().message.find("Injected"), std::string::npos)
        << "header values stay out of messages";
    EXPECT_EQ(server.request_count(), 0u);
}

TEST_F(HttpClientTest, BodyOverTheLimitIsBadResponse) {
    FakeHttpServer server([](const RecordedRequest& r, FakeReply& reply) {
        if (r.path == "/chunked") {
            for (int i = 0; i < 8; ++i) reply.chunk(std::string(512, 'c'));
        } else {
            reply.body(std::string(4096, 'b'));
        }
    });
    PocoHttpClient::Options options;
    options.max_body_bytes = 1024;
    PocoHttpClient client(options);
    for (const char* path : {"/whole", "/chunked"}) {
        auto response = client.send(get(server.url() + path));
        ASSERT_FALSE(response.ok()) << path;
        EXPECT_EQ(response.error().code, "bad_response") << path;
        EXPECT_NE(response.error().message.find("larger than 1024 bytes"), std::string::npos)
            << response.error().message;
    }
}

TEST_F(HttpClientTest, GarbageInsteadOfHttpIsBadResponse) {
    RawServer server([](Poco::Net::StreamSocket& socket, int, RawServer&) {
        read_request(socket);
        send_text(socket, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    });
    PocoHttpClient client;
    auto response = client.send(get(server.url() + "/"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "bad_response");
}

// ---- Connection reuse ------------------------------------------------------------------------

TEST_F(HttpClientTest, TenSequentialRequestsShareOneConnection) {
    FakeHttpServer server([](const RecordedRequest& r, FakeReply& reply) {
        if (r.path == "/stream") {
            reply.chunk("a");
            reply.chunk("b");
        } else {
            reply.body("ok " + r.path);
        }
    });
    PocoHttpClient client;
    for (int i = 0; i < 10; ++i) {
        auto request = get(server.url() + (i % 3 == 2 ? "/stream" : "/r" + std::to_string(i)));
        if (i % 2) {
            request.method = "POST";
            request.body = R"({"n":)" + std::to_string(i) + "}";
        }
        auto response = client.send(request);
        ASSERT_TRUE(response.ok()) << i << ": " << response.error().message;
        EXPECT_EQ(response->status, 200);
    }
    EXPECT_EQ(server.request_count(), 10u);
    EXPECT_EQ(connection_ports(server).size(), 1u) << "every request should reuse the first connection";
    EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(HttpClientTest, ConnectionCloseFromTheServerIsNotReused) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) {
        reply.header("Connection", "close");
        reply.body("bye");
    });
    PocoHttpClient client;
    for (int i = 0; i < 3; ++i) {
        auto response = client.send(get(server.url() + "/close"));
        ASSERT_TRUE(response.ok()) << response.error().message;
    }
    EXPECT_EQ(connection_ports(server).size(), 3u);
    EXPECT_EQ(client.idle_connections(), 0u);
}

TEST_F(HttpClientTest, ConnectionTheServerClosedWhileIdleIsReplaced) {
    RawServer server([](Poco::Net::StreamSocket& socket, int, RawServer&) {
        if (read_request(socket).empty()) return;
        send_text(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        // and closes the kept-alive connection at once, as an idle timeout would
    });
    PocoHttpClient client;
    auto first = client.send(get(server.url() + "/1"));
    ASSERT_TRUE(first.ok()) << first.error().message;
    for (int i = 0; i < 500 && server.finished() < 1; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(server.finished(), 1);
    auto second = client.send(get(server.url() + "/2"));
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->body, "ok");
    EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpClientTest, ReusedConnectionClosedAsTheRequestArrivesIsRetriedOnce) {
    std::atomic<int> requests{0};
    RawServer server([&](Poco::Net::StreamSocket& socket, int index, RawServer&) {
        for (int served = 0;; ++served) {
            if (read_request(socket).empty()) return;
            ++requests;
            // The first connection answers once, then closes on the next request without a byte:
            // the race between a server's idle timeout and a client reusing the connection.
            if (index == 0 && served == 1) return;
            send_text(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    PocoHttpClient client;
    auto first = client.send(get(server.url() + "/1"));
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto second = client.send(get(server.url() + "/2"));
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->body, "ok");
    EXPECT_EQ(server.connections(), 2);
    EXPECT_EQ(requests.load(), 3);
}

TEST_F(HttpClientTest, FreshConnectionClosedWithoutAnswerIsNotRetried) {
    RawServer server([](Poco::Net::StreamSocket& socket, int, RawServer&) { read_request(socket); });
    PocoHttpClient client;
    auto response = client.send(get(server.url() + "/x"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "unavailable");
    EXPECT_EQ(server.connections(), 1);
}

TEST_F(HttpClientTest, ConcurrentRequestsShareThePoolSafely) {
    FakeHttpServer server([](const RecordedRequest& r, FakeReply& reply) {
        if (r.path == "/stream") {
            reply.chunk("s1");
            reply.chunk("s2");
        } else {
            reply.body(r.body);
        }
    });
    PocoHttpClient client;
    constexpr int kThreads = 8;
    constexpr int kEach = 10;
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto request = get(server.url() + (i % 2 ? "/stream" : "/echo"), 30000);
                request.method = "POST";
                request.body = std::to_string(t) + "/" + std::to_string(i);
                auto response = client.send(request);
                if (response.ok() && response->body == (i % 2 ? "s1s2" : request.body)) ++good;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(good.load(), kThreads * kEach);
    EXPECT_LE(connection_ports(server).size(), static_cast<std::size_t>(kThreads))
        << "a connection is opened only when none is idle";
}

TEST_F(HttpClientTest, OnChunkThatThrowsEndsTheRequest) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) {
        reply.chunk("one");
        reply.chunk("two");
    });
    PocoHttpClient client;
    auto request = get(server.url() + "/stream");
    request.on_chunk = [](std::string_view) { throw std::runtime_error("plugin bug"); };
    auto response = client.send(request);
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "internal");
    EXPECT_NE(response.error().message.find("plugin bug"), std::string::npos) << response.error().message;
    EXPECT_EQ(client.idle_connections(), 0u);
}

// ---- The turn's deadline and cancellation ----------------------------------------------------

TEST_F(HttpClientTest, TurnDeadlineCutsARequestWithALongerTimeout) {
    auto release = std::make_shared<Gate>();
    FakeHttpServer server([release](const RecordedRequest&, FakeReply& reply) {
        release->wait_for(20s);
        reply.body("late");
    });
    OpenOnExit opener{release};
    PocoHttpClient client;
    ScopedCallLimits limits({std::chrono::steady_clock::now() + 400ms, nullptr});
    auto response = client.send(get(server.url() + "/slow", 60000));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "timeout");
    EXPECT_NE(response.error().message.find("turn deadline"), std::string::npos) << response.error().message;
}

TEST_F(HttpClientTest, PastTurnDeadlineFailsWithoutConnecting) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) { reply.body("ok"); });
    PocoHttpClient client;
    {
        ScopedCallLimits limits({std::chrono::steady_clock::now() - 1ms, nullptr});
        auto response = client.send(get(server.url() + "/x"));
        ASSERT_FALSE(response.ok());
        EXPECT_EQ(response.error().code, "timeout");
        EXPECT_NE(response.error().message.find("turn deadline"), std::string::npos)
            << response.error().message;
    }
    EXPECT_EQ(server.request_count(), 0u);
    auto after = client.send(get(server.url() + "/x"));  // the limits ended with their scope
    EXPECT_TRUE(after.ok()) << after.error().message;
}

TEST_F(HttpClientTest, ScopedCallLimitsNest) {
    const auto outer_deadline = std::chrono::steady_clock::now() + 10s;
    std::atomic<bool> flag{false};
    {
        ScopedCallLimits outer({outer_deadline, &flag});
        {
            ScopedCallLimits inner({outer_deadline - 5s, nullptr});
            EXPECT_EQ(current_call_limits().deadline, outer_deadline - 5s);
            EXPECT_EQ(current_call_limits().cancelled, nullptr);
        }
        EXPECT_EQ(current_call_limits().deadline, outer_deadline);
        EXPECT_EQ(current_call_limits().cancelled, &flag);
    }
    EXPECT_EQ(current_call_limits().deadline, std::chrono::steady_clock::time_point{});
}

TEST_F(HttpClientTest, CancellationFromAnotherThreadEndsAStalledRequest) {
    auto release = std::make_shared<Gate>();
    FakeHttpServer server([release](const RecordedRequest&, FakeReply& reply) {
        reply.chunk("data: thinking\n\n");
        release->wait_for(30s);
        reply.chunk("data: done\n\n");
    });
    OpenOnExit opener{release};
    PocoHttpClient client;
    std::atomic<bool> cancelled{false};
    auto request = get(server.url() + "/stream", 60000);
    auto started = std::make_shared<Gate>();
    request.on_chunk = [&](std::string_view) { started->open(); };
    std::thread canceller([&] {
        started->wait_for(20s);
        cancelled = true;
    });
    ScopedCallLimits limits({{}, &cancelled});
    auto response = client.send(request);
    canceller.join();
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "cancelled") << response.error().message;
    EXPECT_EQ(client.idle_connections(), 0u) << "a cancelled connection is closed, not pooled";
}

TEST_F(HttpClientTest, CancellationIsNoticedWithinAFewSeconds) {
    auto release = std::make_shared<Gate>();
    FakeHttpServer server([release](const RecordedRequest&, FakeReply& reply) {
        release->wait_for(30s);
        reply.body("late");
    });
    OpenOnExit opener{release};
    PocoHttpClient client;
    std::atomic<bool> cancelled{false};
    std::atomic<std::chrono::steady_clock::time_point::rep> cancelled_at{0};
    std::thread canceller([&] {
        // Once the request has reached the server, the customer leaves.
        for (int i = 0; i < 2000 && server.request_count() == 0; ++i) std::this_thread::sleep_for(10ms);
        cancelled_at = std::chrono::steady_clock::now().time_since_epoch().count();
        cancelled = true;
    });
    ScopedCallLimits limits({{}, &cancelled});
    auto response = client.send(get(server.url() + "/stall", 60000));
    const auto returned = std::chrono::steady_clock::now();
    canceller.join();
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "cancelled");
    const auto waited = returned - std::chrono::steady_clock::time_point(
                                       std::chrono::steady_clock::duration(cancelled_at.load()));
    EXPECT_LT(waited, 5s) << "the client should notice cancellation within ~100 ms";
}

TEST_F(HttpClientTest, AlreadyCancelledSendsNothing) {
    FakeHttpServer server([](const RecordedRequest&, FakeReply& reply) { reply.body("ok"); });
    PocoHttpClient client;
    std::atomic<bool> cancelled{true};
    ScopedCallLimits limits({{}, &cancelled});
    auto response = client.send(get(server.url() + "/x"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "cancelled");
    EXPECT_EQ(server.request_count(), 0u);
}

// ---- Proxies ---------------------------------------------------------------------------------

TEST_F(HttpClientTest, HttpProxyFromTheEnvironmentGetsAbsoluteFormRequests) {
    FakeHttpServer proxy([](const RecordedRequest&, FakeReply& reply) { reply.body("from the proxy"); });
    env_.set("HTTP_PROXY", "http://user:p%40ss@127.0.0.1:" + std::to_string(proxy.port()));
    PocoHttpClient client;
    auto response = client.send(get("http://upstream.test:8080/v1/x?y=1"));
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->body, "from the proxy");
    ASSERT_EQ(proxy.request_count(), 1u);
    const auto r = proxy.requests().front();
    EXPECT_EQ(r.path, "http://upstream.test:8080/v1/x");
    EXPECT_EQ(r.query, "y=1");
    EXPECT_EQ(r.header("host"), "upstream.test:8080");
    EXPECT_EQ(r.header("proxy-authorization"), "Basic dXNlcjpwQHNz");  // user:p@ss

    // The lower-case name wins, as in curl.
    FakeHttpServer other([](const RecordedRequest&, FakeReply& reply) { reply.body("lower-case proxy"); });
    env_.set("http_proxy", other.url());
    auto lower = client.send(get("http://upstream.test/"));
    ASSERT_TRUE(lower.ok()) << lower.error().message;
    EXPECT_EQ(lower->body, "lower-case proxy");
    EXPECT_EQ(other.requests().front().path, "http://upstream.test/");
}

TEST_F(HttpClientTest, NoProxyBypassesTheProxy) {
    FakeHttpServer proxy([](const RecordedRequest&, FakeReply& reply) { reply.body("from the proxy"); });
    FakeHttpServer target([](const RecordedRequest&, FakeReply& reply) { reply.body("direct"); });
    env_.set("HTTP_PROXY", proxy.url());
    env_.set("NO_PROXY", "example.com, 127.0.0.1");
    PocoHttpClient client;
    auto response = client.send(get(target.url() + "/x"));
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->body, "direct");
    EXPECT_EQ(proxy.request_count(), 0u);

    // Without NO_PROXY even loopback goes through the proxy (curl's behaviour).
    env_.unset("NO_PROXY");
    auto proxied = client.send(get(target.url() + "/x"));
    ASSERT_TRUE(proxied.ok()) << proxied.error().message;
    EXPECT_EQ(proxied->body, "from the proxy");
    EXPECT_EQ(proxy.request_count(), 1u);
}

TEST_F(HttpClientTest, NoProxyFollowsCurlsRules) {
    using http::no_proxy_matches;
    EXPECT_TRUE(no_proxy_matches("*", "anything.example"));
    EXPECT_TRUE(no_proxy_matches("example.com", "example.com"));
    EXPECT_TRUE(no_proxy_matches("example.com", "api.example.com"));
    EXPECT_TRUE(no_proxy_matches(".example.com", "api.example.com"));
    EXPECT_TRUE(no_proxy_matches(".example.com", "example.com"));
    EXPECT_TRUE(no_proxy_matches("foo, EXAMPLE.com", "Api.Example.Com"));
    EXPECT_FALSE(no_proxy_matches("example.com", "badexample.com"));
    EXPECT_FALSE(no_proxy_matches("", "localhost"));
    EXPECT_FALSE(no_proxy_matches("example.com", "localhost"));
    EXPECT_TRUE(no_proxy_matches("localhost,127.0.0.1", "127.0.0.1"));
    EXPECT_FALSE(no_proxy_matches("0.0.1", "127.0.0.1"));
    EXPECT_TRUE(no_proxy_matches("10.0.0.0/8", "10.1.2.3"));
    EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3"));
    EXPECT_TRUE(no_proxy_matches("::1", "[::1]"));
}

TEST_F(HttpClientTest, ProxyUrlsParse) {
    const auto p = http::parse_proxy_url("http://a%3Ab:c@proxy.corp:3128/", "HTTPS_PROXY");
    EXPECT_EQ(p.host, "proxy.corp");
    EXPECT_EQ(p.port, 3128);
    EXPECT_EQ(p.authorization, "Basic YTpiOmM=");  // a:b:c
    const auto bare = http::parse_proxy_url("proxy.corp", "HTTP_PROXY");
    EXPECT_EQ(bare.port, 1080);
    EXPECT_TRUE(bare.authorization.empty());
    env_.set("HTTPS_PROXY", "socks5://proxy.corp:1080");
    PocoHttpClient client;
    auto response = client.send(get("https://example.com/"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "unsupported");
    EXPECT_NE(response.error().message.find("HTTPS_PROXY"), std::string::npos);
}

// ---- HTTPS -----------------------------------------------------------------------------------

/// A CA, a server certificate for localhost / 127.0.0.1 and one for another name, made with the
/// openssl command line in a temporary folder.
struct TestPki {
    fs::path dir;
    std::string skip_reason;

    TestPki() {
        if (std::system("openssl version > /dev/null 2>&1") != 0) {
            skip_reason = "the openssl command line is not installed (apt-get install openssl)";
            return;
        }
        std::random_device random;
        dir = fs::temp_directory_path() /
              ("tezgah-http-tls-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
        fs::create_directories(dir);
        std::ofstream(dir / "server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                             "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        std::ofstream(dir / "other.ext") << "subjectAltName=DNS:other.example\n"
                                            "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        const std::string d = "'" + dir.string() + "'";
        const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        const std::string log = " >> " + d + "/openssl.log 2>&1";
        const std::vector<std::string> commands = {
            "openssl req -x509 " + ec + " -keyout " + d + "/ca.key -out " + d +
                "/ca.crt -days 3 -subj '/CN=Tezgah Test CA' -addext basicConstraints=critical,CA:TRUE"
                " -addext keyUsage=critical,keyCertSign,cRLSign" +
                log,
            "openssl req " + ec + " -keyout " + d + "/server.key -out " + d +
                "/server.csr -subj /CN=localhost" + log,
            "openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
                "/ca.key -CAcreateserial -out " + d + "/server.crt -days 3 -extfile " + d + "/server.ext" +
                log,
            "openssl req " + ec + " -keyout " + d + "/other.key -out " + d +
                "/other.csr -subj /CN=other.example" + log,
            "openssl x509 -req -in " + d + "/other.csr -CA " + d + "/ca.crt -CAkey " + d +
                "/ca.key -CAcreateserial -out " + d + "/other.crt -days 3 -extfile " + d + "/other.ext" + log,
        };
        for (const auto& command : commands) {
            if (std::system(command.c_str()) != 0) {
                std::ifstream in(dir / "openssl.log");
                std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                skip_reason = "openssl failed (" + command + "): " + text;
                return;
            }
        }
    }
    ~TestPki() {
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
    }
    std::string file(const char* name) const { return (dir / name).string(); }
};

/// A Poco HTTPS server on 127.0.0.1 with the given certificate; answers "hello over tls".
class HttpsServer {
public:
    HttpsServer(const std::string& certificate, const std::string& key) {
        Poco::Net::initializeSSL();
        Poco::Net::Context::Ptr context = new Poco::Net::Context(
            Poco::Net::Context::TLS_SERVER_USE, key, certificate, "", Poco::Net::Context::VERIFY_NONE);
        Poco::Net::SecureServerSocket socket(context);
        socket.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true);
        socket.listen(64);
        port_ = socket.address().port();
        auto* params = new Poco::Net::HTTPServerParams;
        params->setKeepAlive(true);
        params->setMaxThreads(8);
        pool_ = std::make_unique<Poco::ThreadPool>(2, 12);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), *pool_, socket, params);
        server_->start();
    }
    ~HttpsServer() {
        server_->stopAll(true);
        server_.reset();
        pool_->joinAll();
    }
    int port() const { return port_; }
    std::set<int> connection_ports() {
        std::lock_guard lock(mutex_);
        return ports_;
    }

private:
    class Handler : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handler(HttpsServer& server) : server_(server) {}
        void handleRequest(Poco::Net::HTTPServerRequest& request,
                           Poco::Net::HTTPServerResponse& response) override {
            {
                std::lock_guard lock(server_.mutex_);
                server_.ports_.insert(request.clientAddress().port());
            }
            if (request.getURI() == "/slow") std::this_thread::sleep_for(800ms);
            response.setContentType("text/plain");
            response.sendBuffer("hello over tls", 14);
        }

    private:
        HttpsServer& server_;
    };
    class Factory : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(HttpsServer& server) : server_(server) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handler(server_);
        }

    private:
        HttpsServer& server_;
    };

    int port_ = 0;
    std::mutex mutex_;
    std::set<int> ports_;
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

class HttpsClientTest : public HttpClientTest {
protected:
    static void SetUpTestSuite() { pki_ = new TestPki; }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }
    void SetUp() override {
        if (!pki_->skip_reason.empty()) GTEST_SKIP() << pki_->skip_reason;
    }
    static TestPki* pki_;
};
TestPki* HttpsClientTest::pki_ = nullptr;

TEST_F(HttpsClientTest, TrustedThroughTezgahCaFile) {
    HttpsServer server(pki_->file("server.crt"), pki_->file("server.key"));
    env_.set("TEZGAH_CA_FILE", pki_->file("ca.crt"));
    PocoHttpClient client;
    for (const std::string host : {"127.0.0.1", "localhost", "127.0.0.1"}) {
        auto response = client.send(get("https://" + host + ":" + std::to_string(server.port()) + "/hello"));
        ASSERT_TRUE(response.ok()) << host << ": " << response.error().code << " "
                                   << response.error().message;
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(response->body, "hello over tls");
    }
    EXPECT_EQ(server.connection_ports().size(), 2u) << "one kept-alive connection per host name";
}

TEST_F(HttpsClientTest, UnknownCaIsATlsError) {
    HttpsServer server(pki_->file("server.crt"), pki_->file("server.key"));
    PocoHttpClient client;
    const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/hello";
    auto response = client.send(get(url + "?key=SECRET"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "tls");
    EXPECT_EQ(response.error().message.rfind(url + ": certificate", 0), 0u) << response.error().message;
    EXPECT_NE(response.error().message.find("issuer"), std::string::npos) << response.error().message;
    EXPECT_EQ(response.error().message.find("SECRET"), std::string::npos);
}

TEST_F(HttpsClientTest, CertificateForAnotherHostIsATlsError) {
    HttpsServer server(pki_->file("other.crt"), pki_->file("other.key"));
    env_.set("TEZGAH_CA_FILE", pki_->file("ca.crt"));
    PocoHttpClient client;
    for (const std::string host : {"127.0.0.1", "localhost"}) {
        const std::string url = "https://" + host + ":" + std::to_string(server.port()) + "/hello";
        auto response = client.send(get(url));
        ASSERT_FALSE(response.ok()) << host;
        EXPECT_EQ(response.error().code, "tls");
        EXPECT_EQ(response.error().message.rfind(url + ": certificate", 0), 0u) << response.error().message;
        EXPECT_NE(response.error().message.find("other.example"), std::string::npos)
            << response.error().message;
    }
}

TEST_F(HttpsClientTest, MissingCaFileIsATlsError) {
    HttpsServer server(pki_->file("server.crt"), pki_->file("server.key"));
    env_.set("TEZGAH_CA_FILE", pki_->file("no-such-ca.crt"));
    PocoHttpClient client;
    auto response = client.send(get("https://127.0.0.1:" + std::to_string(server.port()) + "/"));
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, "tls");
    EXPECT_NE(response.error().message.find("TEZGAH_CA_FILE"), std::string::npos) << response.error().message;
}

TEST_F(HttpsClientTest, HttpsThroughAConnectProxy) {
    HttpsServer server(pki_->file("server.crt"), pki_->file("server.key"));
    TunnelProxy proxy;
    env_.set("TEZGAH_CA_FILE", pki_->file("ca.crt"));
    env_.set("HTTPS_PROXY", proxy.url());
    env_.set("HTTP_PROXY", "http://127.0.0.1:1");  // not for https URLs
    PocoHttpClient client;
    const std::string authority = "localhost:" + std::to_string(server.port());
    for (int i = 0; i < 2; ++i) {
        auto response = client.send(get("https://" + authority + "/hello"));
        ASSERT_TRUE(response.ok()) << response.error().code << " " << response.error().message;
        EXPECT_EQ(response->body, "hello over tls");
    }
    const auto lines = proxy.connect_lines();
    ASSERT_EQ(lines.size(), 1u) << "the tunnel is kept alive and reused";
    EXPECT_EQ(lines.front(), "CONNECT " + authority + " HTTP/1.1");
}

// ---- Inside a turn running as a coroutine (util/coroutine.hpp) --------------------------------

/// Threads of this process now.
std::size_t thread_count() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/task")) ++n;
    return n;
}

/// An HTTP server on one thread (Boost.Asio) that answers every request "ok" after `delay`: any
/// number of requests in flight cost it no thread, so a test can count the client's threads.
class DelayedServer {
public:
    explicit DelayedServer(std::chrono::milliseconds delay) : delay_(delay), acceptor_(io_) {
        namespace asio = boost::asio;
        const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
        acceptor_.open(endpoint.protocol());
        acceptor_.bind(endpoint);
        acceptor_.listen(1024);
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~DelayedServer() {
        io_.stop();
        thread_.join();
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    int received() const { return received_.load(); }
    /// Waits until `n` requests have arrived; false after `timeout`.
    bool wait_for_requests(int n, std::chrono::milliseconds timeout) const {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (received_.load() < n) {
            if (std::chrono::steady_clock::now() > until) return false;
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }

private:
    struct Session {
        explicit Session(boost::asio::io_context& io) : socket(io), timer(io) {}
        boost::asio::ip::tcp::socket socket;
        boost::asio::steady_timer timer;
        boost::asio::streambuf buffer;
    };

    void accept() {
        auto session = std::make_shared<Session>(io_);
        acceptor_.async_accept(session->socket, [this, session](boost::system::error_code ec) {
            if (ec) return;
            serve(session);
            accept();
        });
    }

    void serve(const std::shared_ptr<Session>& session) {
        boost::asio::async_read_until(
            session->socket, session->buffer, "\r\n\r\n",
            [this, session](boost::system::error_code ec, std::size_t n) {
                if (ec) return;
                session->buffer.consume(n);
                ++received_;
                session->timer.expires_after(delay_);
                session->timer.async_wait([this, session](boost::system::error_code ec) {
                    if (ec) return;
                    static const std::string kReply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    boost::asio::async_write(session->socket, boost::asio::buffer(kReply),
                                             [this, session](boost::system::error_code ec, std::size_t) {
                                                 if (!ec) serve(session);
                                             });
                });
            });
    }

    std::chrono::milliseconds delay_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::atomic<int> received_{0};
    std::thread thread_;
};

CoroutinePool::Options turn_threads(int threads) {
    CoroutinePool::Options options;
    options.threads = threads;
    options.max_running = 1024;
    return options;
}

TEST_F(HttpClientTest, TwoHundredCallsInFlightUseNoMoreThreadsThanThePool) {
    DelayedServer server(1500ms);
    PocoHttpClient client;
    const std::size_t before = thread_count();
    CoroutinePool pool(turn_threads(4));
    std::atomic<int> answered{0};
    std::atomic<int> in_coroutine_calls{0};
    for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(pool.try_post([&] {
            if (in_coroutine()) ++in_coroutine_calls;
            auto response = client.send(get(server.url() + "/slow"));
            if (response.ok() && response->status == 200 && response->body == "ok") ++answered;
        }));
    }
    // All 200 wait on the server at once: four threads blocking on calls would hold four at most.
    ASSERT_TRUE(server.wait_for_requests(200, 20s)) << "only " << server.received() << " calls in flight";
    const std::size_t during = thread_count();
    ASSERT_TRUE(pool.drain(std::chrono::steady_clock::now() + 30s));
    EXPECT_EQ(answered, 200);
    EXPECT_EQ(in_coroutine_calls, 200);
    EXPECT_LE(during, before + 4) << "threads before: " << before << ", with 200 calls in flight: " << during;
}

TEST_F(HttpClientTest, TheTurnDeadlineEndsACallInACoroutineAndFreesItsThreadMeanwhile) {
    DelayedServer server(60s);  // never answers within the test
    PocoHttpClient client;
    CoroutinePool pool(turn_threads(1));
    std::optional<tezgah::sdk::Result<tezgah::sdk::HttpResponse>> result;
    std::atomic<long long> took_ms{0};
    std::atomic<int> ticks{0};  // another task on the same single thread, while the call waits
    ASSERT_TRUE(pool.try_post([&] {
        const auto started = std::chrono::steady_clock::now();
        ScopedCallLimits limits({started + 400ms, nullptr});
        result = client.send(get(server.url() + "/stalls", 30000));
        took_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                .count();
    }));
    ASSERT_TRUE(pool.try_post([&] {
        for (int i = 0; i < 5; ++i) {
            pause_for(20ms);
            ++ticks;
        }
    }));
    ASSERT_TRUE(pool.drain(std::chrono::steady_clock::now() + 20s));
    ASSERT_TRUE(result.has_value());
    ASSERT_FALSE(result->ok());
    EXPECT_EQ(result->error().code, "timeout");
    EXPECT_NE(result->error().message.find("turn deadline"), std::string::npos) << result->error().message;
    EXPECT_GE(took_ms, 400);
    EXPECT_LT(took_ms, 5000);
    EXPECT_EQ(ticks, 5);
}

TEST_F(HttpClientTest, CancellationEndsACallInACoroutine) {
    DelayedServer server(60s);
    PocoHttpClient client;
    CoroutinePool pool(turn_threads(1));
    std::atomic<bool> cancelled{false};
    std::optional<tezgah::sdk::Result<tezgah::sdk::HttpResponse>> result;
    std::atomic<long long> finished_at{0};
    ASSERT_TRUE(pool.try_post([&] {
        ScopedCallLimits limits({{}, &cancelled});
        result = client.send(get(server.url() + "/stalls", 30000));
        finished_at = std::chrono::steady_clock::now().time_since_epoch().count();
    }));
    ASSERT_TRUE(server.wait_for_requests(1, 20s));
    const auto cancelled_at = std::chrono::steady_clock::now();
    cancel_calls(cancelled);  // the customer hung up (http/departures.cpp)
    ASSERT_TRUE(pool.drain(std::chrono::steady_clock::now() + 20s));
    ASSERT_TRUE(result.has_value());
    ASSERT_FALSE(result->ok());
    EXPECT_EQ(result->error().code, "cancelled");
    const auto after =
        std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(finished_at.load())) -
        cancelled_at;
    // At once: the wait is woken, not left to its next check a second later.
    EXPECT_LT(after, 800ms) << "the cancelled call went on";
}

TEST_F(HttpsClientTest, TlsCallsInACoroutineShareOneThread) {
    HttpsServer server(pki_->file("server.crt"), pki_->file("server.key"));
    CoroutinePool pool(turn_threads(1));
    // A certificate the client does not trust is refused on this path too.
    PocoHttpClient untrusting;
    std::optional<tezgah::sdk::Result<tezgah::sdk::HttpResponse>> refused;
    ASSERT_TRUE(pool.try_post([&] {
        refused = untrusting.send(get("https://127.0.0.1:" + std::to_string(server.port()) + "/hello"));
    }));
    ASSERT_TRUE(pool.drain(std::chrono::steady_clock::now() + 30s));
    ASSERT_TRUE(refused.has_value());
    ASSERT_FALSE(refused->ok());
    EXPECT_EQ(refused->error().code, "tls");
    EXPECT_NE(refused->error().message.find("certificate verify failed"), std::string::npos)
        << refused->error().message;

    env_.set("TEZGAH_CA_FILE", pki_->file("ca.crt"));
    PocoHttpClient client;
    constexpr int kCalls = 8;  // the server answers 8 at once, each after 800 ms
    std::atomic<int> answered{0};
    std::atomic<int> failed{0};
    std::mutex mutex;
    std::string failure;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) {
        ASSERT_TRUE(pool.try_post([&] {
            auto response = client.send(get("https://localhost:" + std::to_string(server.port()) + "/slow"));
            if (response.ok() && response->status == 200 && response->body == "hello over tls") {
                ++answered;
                return;
            }
            ++failed;
            std::lock_guard lock(mutex);
            failure = response.ok() ? std::to_string(response->status) : response.error().message;
        }));
    }
    ASSERT_TRUE(pool.drain(std::chrono::steady_clock::now() + 30s));
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(answered, kCalls) << failure;
    // One thread holding each call would take 8 x 800 ms; the handshakes and waits interleave.
    EXPECT_LT(took, 4s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

}  // namespace
}  // namespace tezgah::engine
