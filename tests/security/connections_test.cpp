// Slow and greedy clients: one host holding a thousand silent or dribbling connections must not
// keep anyone else waiting; a request's headers have a deadline; one address holds at most its
// share of connections; idle connections make room first. Limits are generous (seconds): the
// precise figures are measured by scripts/bench.
#include "security/security_fixture.hpp"

#include "support/captured_log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

class SlowClients : public ServerFixture {
protected:
    void TearDown() override {
        stop_dribbling = true;
        if (dribbler.joinable()) dribbler.join();
        for (int fd : attackers) ::close(fd);
        ServerFixture::TearDown();
    }

    /// `count` connections from `source` that send nothing at all.
    void open_silent(const std::string& source, int count) {
        for (int i = 0; i < count; ++i) {
            const int fd = connect_from(source, port);
            ASSERT_GE(fd, 0) << "connection " << i << " from " << source;
            attackers.push_back(fd);
        }
    }

    /// `count` connections from `source` that send a request line, then a header byte now and then.
    std::vector<int> open_dribbling(const std::string& source, int count) {
        std::vector<int> fds;
        for (int i = 0; i < count; ++i) {
            const int fd = connect_from(source, port);
            EXPECT_GE(fd, 0);
            if (fd < 0) break;
            send_all(fd, "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            attackers.push_back(fd);
            fds.push_back(fd);
        }
        dribbler = std::thread([this, fds] {
            while (!stop_dribbling) {
                for (int fd : fds) send_all(fd, "a");
                std::this_thread::sleep_for(200ms);
            }
        });
        return fds;
    }

    std::vector<int> attackers;
    std::thread dribbler;
    // Outlives the server (see ServerFixture::TearDown).
    CapturedLog log;
    std::atomic<bool> stop_dribbling{false};
};

TEST_F(SlowClients, AThousandSilentAndDribblingSocketsFromOneHostDoNotDelayAnotherClient) {
    ServerOptions options;
    options.max_connections_per_address = 2000;  // let all of them in: the loop must hold them
    options.header_deadline = 3s;
    options.keep_alive_timeout = 60s;
    start(options);
    open_silent("127.0.0.2", 600);
    const auto dribbling = open_dribbling("127.0.0.2", 400);
    ASSERT_EQ(dribbling.size(), 400u);
    std::this_thread::sleep_for(300ms);  // the loop has them all

    // Another client is answered at once, for /health and for a chat turn.
    for (int i = 0; i < 5; ++i) {
        HttpReply health;
        EXPECT_LT(timed([&] { health = http_request(port, "GET", "/health"); }), 2s);
        EXPECT_EQ(health.status, 200);
        HttpReply reply;
        EXPECT_LT(timed([&] {
                      reply = chat("gece-butik", chat_body("kargo ne kadar?", "other-" + std::to_string(i)));
                  }),
                  2s);
        EXPECT_EQ(reply.status, 200) << reply.body;
    }

    // The dribblers are cut off at the header deadline with the contract's error.
    for (int k = 0; k < 5; ++k) {
        const auto answer = read_until_closed(dribbling[static_cast<std::size_t>(k) * 80], 10s);
        EXPECT_EQ(raw_status(answer), 408) << answer;
        EXPECT_EQ(raw_json(answer).at("error").at("code").as_string(), "request_timeout") << answer;
        EXPECT_FALSE(raw_header(answer, "X-Request-Id").empty()) << answer;
    }
}

TEST_F(SlowClients, OneAddressHoldsAtMostItsShareOfConnections) {
    ServerOptions options;
    options.max_connections_per_address = 256;
    options.keep_alive_timeout = 60s;
    start(options);
    open_silent("127.0.0.2", 256);
    std::this_thread::sleep_for(200ms);
    // The 257th from that address is refused at once, with the contract's error.
    const int extra = connect_from("127.0.0.2", port);
    ASSERT_GE(extra, 0);
    const auto refused = read_until_closed(extra, 5s);
    ::close(extra);
    EXPECT_EQ(raw_status(refused), 429) << refused;
    EXPECT_EQ(raw_json(refused).at("error").at("code").as_string(), "rate_limited") << refused;
    EXPECT_FALSE(raw_header(refused, "Retry-After").empty()) << refused;
    EXPECT_FALSE(raw_header(refused, "X-Request-Id").empty()) << refused;
    // Everyone else is served.
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
    EXPECT_EQ(chat("gece-butik", chat_body("merhaba", "neighbour")).status, 200);
}

TEST_F(SlowClients, ATrustedProxysConnectionsAreNotCappedAndItsForwardedForNamesTheClient) {
    ServerOptions options;
    options.max_connections_per_address = 8;
    options.keep_alive_timeout = 60s;
    options.trusted_proxies = {"127.0.0.3/32"};
    start(options);
    open_silent("127.0.0.3", 20);  // a reverse proxy holds many connections
    auto through_proxy = connect_from("127.0.0.3", port);
    ASSERT_GE(through_proxy, 0);
    send_all(through_proxy,
             "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n");
    EXPECT_EQ(raw_status(read_until_closed(through_proxy, 5s)), 200);
    ::close(through_proxy);
    // An untrusted peer cannot choose its own address by sending the header.
    auto spoofer = connect_from("127.0.0.4", port);
    ASSERT_GE(spoofer, 0);
    send_all(spoofer,
             "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: 198.51.100.9\r\n\r\n");
    EXPECT_EQ(raw_status(read_until_closed(spoofer, 5s)), 200);
    ::close(spoofer);
    std::vector<std::string> clients;
    for (const auto& line : log.lines_with("request"))
        if (line.contains("client")) clients.emplace_back(line.at("client").as_string());
    EXPECT_NE(std::find(clients.begin(), clients.end(), "203.0.113.7"), clients.end());
    EXPECT_NE(std::find(clients.begin(), clients.end(), "127.0.0.4"), clients.end());
    EXPECT_EQ(std::find(clients.begin(), clients.end(), "198.51.100.9"), clients.end());
}

TEST_F(SlowClients, IdleConnectionsAreClosedFirstWhenConnectionsRunShort) {
    ServerOptions options;
    options.max_connections = 40;
    options.max_connections_per_address = 1000;
    options.keep_alive_timeout = 60s;
    start(options);
    // 40 keep-alive connections, each idle after one request. Each answer is read before the next
    // connection opens, so the connections fall idle in the order they were opened (workers answer
    // in parallel, and the first connection's answer need not be the first one written).
    std::vector<int> idle;
    for (int i = 0; i < 40; ++i) {
        const int fd = connect_from("127.0.0.2", port);
        ASSERT_GE(fd, 0);
        send_all(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        pollfd answered{fd, POLLIN, 0};
        ASSERT_EQ(::poll(&answered, 1, 5000), 1) << "connection " << i << " got no answer";
        char buffer[4096];
        ASSERT_GT(::recv(fd, buffer, sizeof buffer, 0), 0) << "connection " << i;
        std::this_thread::sleep_for(5ms);  // the server files it as idle just after writing
        idle.push_back(fd);
        attackers.push_back(fd);
    }
    std::this_thread::sleep_for(300ms);
    // A new client is served: the oldest idle connection made room.
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
    EXPECT_TRUE(closed_within(idle.front(), 5s)) << "the oldest idle connection was not closed";

    // When every connection is busy arriving (none idle), a new one is refused with 503.
    for (int fd : attackers) ::close(fd);
    attackers.clear();
    std::this_thread::sleep_for(300ms);
    for (int i = 0; i < 40; ++i) {
        const int fd = connect_from("127.0.0.2", port);
        ASSERT_GE(fd, 0);
        send_all(fd, "GET /health HTTP/1.1\r\nHost: x\r\n");  // headers never finished
        attackers.push_back(fd);
    }
    std::this_thread::sleep_for(300ms);
    const auto refused = raw_exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 5s);
    EXPECT_EQ(raw_status(refused), 503) << refused;
    EXPECT_FALSE(raw_header(refused, "X-Request-Id").empty()) << refused;
}

TEST_F(SlowClients, ASilentConnectionIsClosedAfterTheKeepAliveTimeout) {
    ServerOptions options;
    options.keep_alive_timeout = 1s;
    start(options);
    const int fd = connect_from("127.0.0.2", port);
    ASSERT_GE(fd, 0);
    attackers.push_back(fd);
    EXPECT_TRUE(closed_within(fd, 10s));
}

}  // namespace
}  // namespace tezgah::testing
