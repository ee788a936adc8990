// SharedState over a real redis-server (shared/redis_state.*): the operations, two instances on one
// Redis, and Redis stopped and started again under them.

#include "shared/redis_state.hpp"
#include "shared/redis_server.hpp"

#include "ops/costs.hpp"
#include "pipeline/conversation_locks.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace tezgah::engine {
namespace {

using std::chrono::milliseconds;
using testing::eventually;
using testing::RedisServer;

class RedisStateTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed (scripts/setup)";
        ASSERT_TRUE(server.start());
    }

    std::unique_ptr<SharedState> connect(RedisOptions options = {}) {
        auto state = make_redis_state(server.url(), options);
        EXPECT_TRUE(state.ok()) << (state.ok() ? "" : state.error().message);
        return state.ok() ? std::move(state).value() : make_local_state();
    }

    RedisServer server;
};

TEST(RedisUrlTest, TakesHostPortAndDatabaseAndNamesTheOptionInErrors) {
    auto address = parse_redis_url("redis://10.0.0.5:6380/2");
    ASSERT_TRUE(address.ok());
    EXPECT_EQ(address->host, "10.0.0.5");
    EXPECT_EQ(address->port, 6380);
    EXPECT_EQ(address->database, 2);
    auto plain = parse_redis_url("redis://cache");
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(plain->port, 6379);
    EXPECT_EQ(plain->database, 0);

    auto bad = parse_redis_url("http://cache:6379", "TEZGAH_REDIS");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "TEZGAH_REDIS: \"http://cache:6379\": expected redis://HOST:PORT[/DB]");
    auto port = parse_redis_url("redis://cache:99999");
    ASSERT_FALSE(port.ok());
    EXPECT_EQ(port.error().message,
              "--redis: \"redis://cache:99999\": the port must be a number from 1 to 65535");
    EXPECT_FALSE(parse_redis_url("redis://cache:6379/x").ok());
    EXPECT_FALSE(make_redis_state("redis://:6379").ok());
}

TEST_F(RedisStateTest, CountersValuesLocksAndListsLiveInRedis) {
    auto state = connect();
    EXPECT_EQ(state->health(), SharedHealth::ok);
    EXPECT_EQ(state->add("rl:a", 1, milliseconds(300)), 1);
    EXPECT_EQ(state->add("rl:a", 2, milliseconds(300)), 3);
    EXPECT_EQ(state->add_all({{"rl:a", 1, milliseconds(300)}, {"rl:b", 5, milliseconds(300)}}),
              (std::vector<long long>{4, 5}));
    EXPECT_DOUBLE_EQ(state->add_float("spend:a", 0.25, milliseconds(1000)), 0.25);
    EXPECT_DOUBLE_EQ(state->add_float("spend:a", 0.5, milliseconds(1000)), 0.75);

    EXPECT_FALSE(state->get("v").has_value());
    state->put("v", "x y", milliseconds(1000));
    EXPECT_EQ(state->get("v"), "x y");
    state->erase("v");
    EXPECT_FALSE(state->get("v").has_value());

    EXPECT_TRUE(state->put_if_absent("lock:t:c:u", "me", milliseconds(1000)));
    EXPECT_FALSE(state->put_if_absent("lock:t:c:u", "other", milliseconds(1000)));
    EXPECT_FALSE(state->erase_if_equal("lock:t:c:u", "other"));
    EXPECT_TRUE(state->erase_if_equal("lock:t:c:u", "me"));
    EXPECT_TRUE(state->put_if_absent("lock:t:c:u", "other", milliseconds(1000)));

    EXPECT_EQ(state->push("burst:t:c:u", "one", milliseconds(1000)), 1u);
    EXPECT_EQ(state->push("burst:t:c:u", "two", milliseconds(1000)), 2u);
    EXPECT_EQ(state->take_all("burst:t:c:u"), (std::vector<std::string>{"one", "two"}));
    EXPECT_TRUE(state->take_all("burst:t:c:u").empty());

    // Everything has its lifetime: counters start again once theirs is over.
    std::this_thread::sleep_for(milliseconds(400));
    EXPECT_EQ(state->add("rl:a", 1, milliseconds(300)), 1);
    EXPECT_EQ(state->errors(), 0);
    EXPECT_GT(state->round_trips(), 15);
}

TEST_F(RedisStateTest, TwoInstancesShareCountersAndHearEachOther) {
    // What the subscribers write to outlives both connections: a message may still arrive while
    // they close.
    std::mutex mutex;
    std::vector<std::string> heard_by_a, heard_by_b;
    auto a = connect();
    auto b = connect();
    EXPECT_NE(a->instance_id(), b->instance_id());
    a->add("rl:shared", 2, milliseconds(5000));
    EXPECT_EQ(b->add("rl:shared", 1, milliseconds(5000)), 3);

    a->subscribe("events", [&](const std::string& p) {
        std::lock_guard lock(mutex);
        heard_by_a.push_back(p);
    });
    b->subscribe("events", [&](const std::string& p) {
        std::lock_guard lock(mutex);
        heard_by_b.push_back(p);
    });
    // The subscriptions are made on their own connections: publish until one is heard.
    ASSERT_TRUE(eventually([&] {
        a->publish("events", "from a");
        std::lock_guard lock(mutex);
        return !heard_by_b.empty();
    }));
    // a's subscription may still be on its way: b publishes until a hears it.
    ASSERT_TRUE(eventually([&] {
        b->publish("events", "from b");
        std::lock_guard lock(mutex);
        return !heard_by_a.empty();
    }));
    std::lock_guard lock(mutex);
    EXPECT_EQ(heard_by_b.front(), "from a");
    for (const auto& p : heard_by_a) EXPECT_EQ(p, "from b");  // nobody hears itself
    for (const auto& p : heard_by_b) EXPECT_EQ(p, "from a");
}

TEST_F(RedisStateTest, ALockHeldOnOneInstanceKeepsTheOtherOutUntilReleased) {
    auto a_state = connect();
    auto b_state = connect();
    ConversationLocks a(a_state.get()), b(b_state.get());
    const auto key = ConversationLocks::shared_key("t", "api", "u");
    std::atomic<bool> b_in{false};
    std::thread other;
    {
        ConversationLocks::Guard held(a, "t/u", key, milliseconds(5000));
        other = std::thread([&] {
            ConversationLocks::Guard waiting(b, "t/u", key, milliseconds(5000));
            b_in = true;
        });
        std::this_thread::sleep_for(milliseconds(150));
        EXPECT_FALSE(b_in.load());
    }
    EXPECT_TRUE(eventually([&] { return b_in.load(); }));
    other.join();
    EXPECT_FALSE(a_state->get(key).has_value());  // released by its holder
}

TEST_F(RedisStateTest, ALockWhoseHolderDiedExpires) {
    auto dead = connect();
    auto live = connect();
    const auto key = ConversationLocks::shared_key("t", "api", "u");
    ASSERT_TRUE(dead->put_if_absent(key, "gone:1", milliseconds(300)));  // taken, never released
    ConversationLocks locks(live.get());
    const auto started = std::chrono::steady_clock::now();
    { ConversationLocks::Guard taken(locks, "t/u", key, milliseconds(5000)); }
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, milliseconds(200));
    EXPECT_LT(waited, milliseconds(3000));
}

TEST_F(RedisStateTest, SpendAddedOnOneInstanceIsSeenByTheOther) {
    auto a_state = connect();
    auto b_state = connect();
    std::atomic<int> seeds{0};
    // The database's figure: 1.5 USD spent earlier today.
    SpendSource database = [&](const std::string&, TimePoint, TimePoint) {
        ++seeds;
        return sdk::Result<double>(1.5);
    };
    SpendTracker a(database, a_state.get()), b(database, b_state.get());
    const auto now = std::chrono::system_clock::now();
    EXPECT_DOUBLE_EQ(a.spent("gece-butik", Period::day, now, "Europe/Istanbul"), 1.5);
    a.add("gece-butik", 0.25, now, "Europe/Istanbul");
    EXPECT_DOUBLE_EQ(b.spent("gece-butik", Period::day, now, "Europe/Istanbul"), 1.75);
    b.add("gece-butik", 0.25, now, "Europe/Istanbul");
    EXPECT_DOUBLE_EQ(a.spent("gece-butik", Period::day, now, "Europe/Istanbul"), 2.0);
    // Seeded once per counter: the day's by the first to ask, the month's by the first to add.
    EXPECT_EQ(seeds.load(), 2);
    auto check =
        b.check(Budget{2.0, std::nullopt, Budget::OnExceed::fallback}, "gece-butik", now, "Europe/Istanbul");
    EXPECT_FALSE(check.allowed);
    EXPECT_EQ(check.period, "day");
}

TEST_F(RedisStateTest, RedisStoppedThenStartedAgainIsDegradedThenOk) {
    auto a = connect();
    auto b = connect();
    std::atomic<int> heard{0};
    b->subscribe("reload", [&](const std::string&) { ++heard; });
    ASSERT_TRUE(eventually([&] {
        a->publish("reload", "gece-butik");
        return heard.load() > 0;
    }));
    a->add("rl:x", 10, milliseconds(60000));

    server.stop();
    const auto started = std::chrono::steady_clock::now();
    // The operation that finds Redis gone answers from memory, at once.
    EXPECT_EQ(a->add("rl:x", 1, milliseconds(60000)), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
    EXPECT_EQ(a->health(), SharedHealth::degraded);
    EXPECT_EQ(a->add("rl:x", 1, milliseconds(60000)), 2);
    EXPECT_GE(a->errors(), 1);
    EXPECT_TRUE(a->put_if_absent("lock:t:c:u", "a", milliseconds(60000)));

    ASSERT_TRUE(server.start());
    EXPECT_TRUE(
        eventually([&] { return a->health() == SharedHealth::ok && b->health() == SharedHealth::ok; }));
    // Back on Redis (a new, empty one here): what was counted in memory is not merged back.
    EXPECT_EQ(a->add("rl:x", 1, milliseconds(60000)), 1);
    EXPECT_EQ(b->add("rl:x", 1, milliseconds(60000)), 2);
    // The subscription is made again on the new connection.
    heard = 0;
    EXPECT_TRUE(eventually([&] {
        a->publish("reload", "gece-butik");
        return heard.load() > 0;
    }));
}

TEST(RedisStateStartTest, ARedisThatDoesNotAnswerAtStartLeavesTheStateDegraded) {
    const auto started = std::chrono::steady_clock::now();
    auto state = make_redis_state("redis://127.0.0.1:" + std::to_string(RedisServer::free_port()));
    ASSERT_TRUE(state.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
    EXPECT_EQ((*state)->health(), SharedHealth::degraded);
    EXPECT_EQ((*state)->add("rl:a", 1, milliseconds(1000)), 1);  // from memory
    EXPECT_EQ((*state)->add("rl:a", 1, milliseconds(1000)), 2);
}

}  // namespace
}  // namespace tezgah::engine
