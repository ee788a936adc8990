// `tezgah serve --redis`: the option, /health's `redis` field and status, /health/detailed and the
// /metrics lines, with Redis answering, stopped and back; a malformed URL names the option.

#include "shared/redis_server.hpp"

#include "http/event_reader.hpp"
#include "http/http_fixture.hpp"
#include "store/api_keys.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tezgah::testing {
namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

class ServeRedisTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed (scripts/setup)";
        copy_fixtures(dir.path() / "tenants");
        fs::create_directories(dir.path() / "var");
        ASSERT_TRUE(redis.start());
    }

    TempDir dir;
    RedisServer redis;
};

TEST_F(ServeRedisTest, HealthAndMetricsFollowRedis) {
    ServeProcess serve(dir.path(), "127.0.0.1:0", {"--redis", redis.url()});
    const std::string line = serve.ready_line();
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    ASSERT_TRUE(line.starts_with(prefix)) << line;
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));

    ASSERT_EQ(http_request(port, "POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "u1")).status,
              200);
    auto health = http_request(port, "GET", "/health").json();
    EXPECT_EQ(health.at("status"), "ok");
    EXPECT_EQ(health.at("redis"), "ok");
    auto detailed = http_request(port, "GET", "/health/detailed").json();
    EXPECT_EQ(detailed.at("redis").at("state"), "ok");
    EXPECT_GE(detailed.at("redis").at("round_trips").as_int64(), 2);  // the customer's lock
    auto metrics = http_request(port, "GET", "/metrics").body;
    EXPECT_TRUE(contains(metrics, "\ntezgah_redis_up 1\n")) << metrics;
    EXPECT_TRUE(contains(metrics, "\ntezgah_redis_round_trips_total ")) << metrics;
    EXPECT_TRUE(contains(metrics, "\ntezgah_redis_errors_total 0\n")) << metrics;

    redis.stop();
    auto answered =
        http_request(port, "POST", "/v1/tenants/gece-butik/chat", chat_body("kargo ne kadar?", "u2"));
    EXPECT_EQ(answered.status, 200) << answered.body;
    health = http_request(port, "GET", "/health").json();
    EXPECT_EQ(health.at("status"), "degraded");
    EXPECT_EQ(health.at("redis"), "degraded");
    metrics = http_request(port, "GET", "/metrics").body;
    EXPECT_TRUE(contains(metrics, "\ntezgah_redis_up 0\n")) << metrics;
    EXPECT_FALSE(contains(metrics, "\ntezgah_redis_errors_total 0\n")) << metrics;

    ASSERT_TRUE(redis.start());
    EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/health").json().at("redis") == "ok"; }));
    EXPECT_EQ(http_request(port, "GET", "/health").json().at("status"), "ok");
}

TEST_F(ServeRedisTest, EventsOnOneInstanceShowEveryInstancesEvents) {
    std::string reader_key;
    {
        auto db = engine::Database::open("sqlite:" + (dir.path() / "var" / "tezgah.db").string());
        ASSERT_TRUE(db.ok()) << db.error().message;
        auto made = engine::create_api_key(**db, "test", "gece-butik", {"conversations:read"},
                                           std::chrono::system_clock::now());
        ASSERT_TRUE(made.ok());
        reader_key = made->secret;
    }
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    ServeProcess a(dir.path(), "127.0.0.1:0", {"--redis", redis.url()});
    const std::string a_line = a.ready_line();
    ASSERT_TRUE(a_line.starts_with(prefix)) << a_line;
    ServeProcess b(dir.path(), "127.0.0.1:0", {"--redis", redis.url()});
    const std::string b_line = b.ready_line();
    ASSERT_TRUE(b_line.starts_with(prefix)) << b_line;
    const auto a_port = static_cast<std::uint16_t>(std::stoi(a_line.substr(prefix.size())));
    const auto b_port = static_cast<std::uint16_t>(std::stoi(b_line.substr(prefix.size())));

    // Watching on b; customers talk to a.
    EventReader events(b_port, "/v1/tenants/gece-butik/events", "Authorization: Bearer " + reader_key);
    ASSERT_TRUE(eventually([&] { return events.has(": connected"); })) << events.text();
    // b's subscription is made on a connection of its own, a moment after it is ready: turns until
    // a customer's message reaches it (the first event seen may be a bot's reply, when the
    // subscription began between a turn's two events).
    int turn = 0;
    auto customers = [&] {
        std::vector<json::object> out;
        for (auto& e : events.events("message"))
            if (e.at("from") == "customer") out.push_back(std::move(e));
        return out;
    };
    ASSERT_TRUE(eventually([&] {
        const auto text = "kargo ne kadar " + std::to_string(++turn) + "?";
        EXPECT_EQ(http_request(a_port, "POST", "/v1/tenants/gece-butik/chat", chat_body(text, "u1")).status,
                  200);
        return !customers().empty();
    })) << events.text();
    const auto seen = customers();
    EXPECT_EQ(seen.front().at("user_id"), "u1");
    EXPECT_TRUE(seen.front().at("text").as_string().starts_with("kargo ne kadar")) << seen.front();
}

TEST_F(ServeRedisTest, WithoutRedisHealthSaysLocalAndMetricsHaveNoRedisLines) {
    ServeProcess serve(dir.path());
    const std::string line = serve.ready_line();
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    ASSERT_TRUE(line.starts_with(prefix)) << line;
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
    auto health = http_request(port, "GET", "/health").json();
    EXPECT_EQ(health.at("status"), "ok");
    EXPECT_EQ(health.at("redis"), "local");
    EXPECT_FALSE(contains(http_request(port, "GET", "/metrics").body, "tezgah_redis_up"));
}

TEST_F(ServeRedisTest, AMalformedUrlNamesTheOptionAndTheValue) {
    ServeProcess serve(dir.path(), "127.0.0.1:0", {"--redis", "redis//cache"});
    EXPECT_EQ(serve.ready_line(), "");
    EXPECT_EQ(serve.wait(), 2);
    std::ifstream log(dir.path() / "serve.log");
    std::stringstream text;
    text << log.rdbuf();
    EXPECT_TRUE(contains(text.str(), "--redis: \"redis//cache\": expected redis://HOST:PORT[/DB]"))
        << text.str();
}

}  // namespace
}  // namespace tezgah::testing
