// Two Engines on one database and one Redis behave as one (DESIGN "Scale"): a customer's lock held
// by one keeps the other out, an answer cached by one is served by the other, a budget spent on
// one stops the other, events and reload notices cross over; Redis stopped mid-run: turns go on.

#include "shared/redis_server.hpp"

#include "http/channel_turns.hpp"
#include "notify/notifier.hpp"
#include "support/engine_fixture.hpp"
#include "support/fake_openai.hpp"
#include "util/http_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace tezgah::engine {
namespace {

using std::chrono::milliseconds;
using testing::eventually;
using testing::FakeOpenAi;
using testing::RedisServer;

class InstancesTest : public testing::EngineFixture {
protected:
    void SetUp() override {
        EngineFixture::SetUp();
        if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed (scripts/setup)";
        ASSERT_TRUE(redis.start());
    }

    /// An engine on the shared SQLite file and the shared Redis.
    std::unique_ptr<Engine> instance() {
        EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = "sqlite:" + (dir.path() / "var" / "tezgah.db").string();
        o.plugin_path = {testing::plugin_dir()};
        o.redis_url = redis.url();
        auto e = std::make_unique<Engine>(o);
        auto s = e->start();
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        e->set_clock(&clock);
        return e;
    }

    void set_llm(const std::string& tenant, json::object llm) {
        testing::edit_json(dir.path() / "tenants" / tenant / "tenant.json",
                           [&](json::value& v) { v.as_object()["llm"] = std::move(llm); });
    }
    static json::object openai_llm(const FakeOpenAi& fake) {
        return {{"provider", "openai"},
                {"api_key", "test-key"},
                {"base_url", fake.base_url()},
                {"model", "gpt-4o-mini"},
                {"max_retries", 1}};
    }

    RedisServer redis;
};

TEST_F(InstancesTest, ACustomersLockHeldByOneInstanceKeepsTheOtherOut) {
    auto a = instance();
    auto b = instance();
    ASSERT_EQ(a->shared().health(), SharedHealth::ok);
    // A turn of customer u1 in progress on instance a (its lock, as a's turn would hold it).
    const auto key = ConversationLocks::shared_key("gece-butik", "test", "u1");
    ASSERT_TRUE(a->shared().put_if_absent(key, a->shared().instance_id() + ":1", milliseconds(10000)));
    std::atomic<bool> answered{false};
    std::thread turn([&] {
        auto reply = b->handle(msg("gece-butik", "u1", "saten gecelik ne kadar?"));
        EXPECT_TRUE(reply.ok());
        answered = true;
    });
    // Another customer is not held up.
    EXPECT_FALSE(ask(*b, "gece-butik", "u2", "saten gecelik ne kadar?").reply.empty());
    std::this_thread::sleep_for(milliseconds(200));
    EXPECT_FALSE(answered.load());
    EXPECT_TRUE(a->shared().erase_if_equal(key, a->shared().instance_id() + ":1"));
    EXPECT_TRUE(eventually([&] { return answered.load(); }));
    turn.join();
    EXPECT_FALSE(a->shared().get(key).has_value());  // b released its own
}

TEST_F(InstancesTest, AnAnswerCachedByOneInstanceIsServedByTheOtherUntilAnEdit) {
    FakeOpenAi fake;
    set_llm("gece-butik", openai_llm(fake));
    auto a = instance();
    auto b = instance();
    auto first = ask(*a, "gece-butik", "u1", "Saten gecelik ne kadar?");
    EXPECT_EQ(first.method, "llm");
    const auto calls = fake.request_count();
    auto second = ask(*b, "gece-butik", "u2", "saten gecelik ne kadar");
    EXPECT_EQ(second.method, "cache");
    EXPECT_EQ(second.reply, first.reply);
    EXPECT_EQ(fake.request_count(), calls);

    // An operator's edit on b: a hears of it at once (not from its watcher: none runs here), and
    // the same question goes to the model again on either. First, a listens (its subscription is
    // made on a connection of its own): b's events reach it.
    std::atomic<bool> heard{false};
    auto subscription =
        a->events().subscribe([&](const Event& event) { heard = heard || !event.origin.empty(); });
    ASSERT_TRUE(eventually([&] {
        b->events().publish(Event{"note", "gece-butik", json::object{}});
        return heard.load();
    }));
    a->events().unsubscribe(subscription);
    auto before = a->tenant("gece-butik");
    ASSERT_TRUE(before.ok());
    testing::edit_json(dir.path() / "tenants" / "gece-butik" / "data" / "offerings.json",
                       [](json::value& v) { v.as_array()[0].as_object()["price"] = 1234.5; });
    ASSERT_TRUE(b->reload_tenant("gece-butik").ok());
    EXPECT_TRUE(eventually([&] {
        auto now = a->tenant("gece-butik");
        return now.ok() && now->get() != before->get();
    }));
    auto third = ask(*a, "gece-butik", "u3", "saten gecelik ne kadar?");
    EXPECT_EQ(third.method, "llm");
    EXPECT_GT(fake.request_count(), calls);
}

TEST_F(InstancesTest, ABudgetSpentOnOneInstanceStopsTheOther) {
    FakeOpenAi fake;
    auto llm = openai_llm(fake);
    llm["budget"] = json::object{{"daily_usd", 0.0000001}, {"on_exceed", "fallback"}};
    llm["cache"] = json::object{{"ttl_s", 0}};
    set_llm("gece-butik", llm);
    auto a = instance();
    auto b = instance();
    // b asks first, so that it reads the day's figure before a spends (it must not keep its own
    // from then on); its model call fails, and costs nothing.
    fake.push_back(testing::FakeOpenAiBehaviour::error(400, "invalid_request_error", "bad"));
    auto warm = ask(*b, "gece-butik", "u0", "saten gecelik ne kadar?");
    EXPECT_EQ(warm.method, "fallback");
    EXPECT_EQ(warm.cost_usd, 0.0);
    auto first = ask(*a, "gece-butik", "u1", "saten gecelik ne kadar?");
    EXPECT_EQ(first.method, "llm");
    EXPECT_GT(first.cost_usd, 0.0);
    const auto calls = fake.request_count();
    auto second = ask(*b, "gece-butik", "u2", "saten gecelik ne kadar?");
    EXPECT_EQ(second.method, "fallback");
    EXPECT_EQ(fake.request_count(), calls);
}

TEST_F(InstancesTest, EventsOfOneInstanceReachTheOtherWithTheirOrigin) {
    auto a = instance();
    auto b = instance();
    std::mutex mutex;
    std::vector<Event> seen_by_b;
    auto subscription = b->events().subscribe([&](const Event& event) {
        std::lock_guard lock(mutex);
        seen_by_b.push_back(event);
    });
    // The bridge subscribes on its own connection: a turn on a, until b has seen one.
    int turns = 0;
    ASSERT_TRUE(eventually([&] {
        ask(*a, "gece-butik", "u" + std::to_string(++turns), "merhaba");
        std::lock_guard lock(mutex);
        return !seen_by_b.empty();
    }));
    Event handoff{"handoff", "gece-butik", json::object{{"conversation_id", "c1"}, {"ticket_id", "t1"}}};
    EXPECT_TRUE(notify::notifies(handoff));
    a->events().publish(handoff);
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return seen_by_b.back().type == "handoff";
    }));
    b->events().unsubscribe(subscription);
    std::lock_guard lock(mutex);
    const auto& message = seen_by_b.front();
    EXPECT_EQ(message.type, "message");
    EXPECT_EQ(message.origin, a->shared().instance_id());
    const auto& received = seen_by_b.back();
    EXPECT_EQ(received.origin, a->shared().instance_id());
    EXPECT_EQ(received.data.at("ticket_id").as_string(), "t1");
    // b's notifier leaves it to a's, which stored its notices already: it stores none for it,
    // where it would for the same event of its own.
    EXPECT_FALSE(notify::notifies(received));
    PocoHttpClient http;
    notify::Notifier notifier(b->database(), b->events(), http, [](const std::string&) {
        notify::NotifyTargets targets;
        targets.webhook = notify::WebhookTarget{"http://127.0.0.1:9/hook", "secret"};
        return sdk::Result<notify::NotifyTargets>(targets);
    });
    auto stored = notifier.record(received);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_TRUE(stored->empty());
    Event own = received;
    own.origin.clear();
    auto stored_own = notifier.record(own);
    ASSERT_TRUE(stored_own.ok()) << stored_own.error().message;
    EXPECT_EQ(stored_own->size(), 1u);
    for (const auto& event : seen_by_b) EXPECT_NE(event.origin, b->shared().instance_id());
}

TEST_F(InstancesTest, ABurstSpreadOverTwoInstancesIsAnsweredOnceByTheLastRequest) {
    auto a = instance();
    auto b = instance();
    http::ChannelTurns a_turns(*a), b_turns(*b);
    const milliseconds window(1000);
    auto part = [](const std::string& id, const std::string& text) {
        auto m = msg("gece-butik", "u1", text, id);
        m.channel = "webhook";
        return m;
    };
    // Each request joins once the one before is in the burst (its lead key set): the order of
    // arrival does not depend on how threads are scheduled.
    const std::string lead = "burst:gece-butik:webhook:u1:lead";
    std::optional<std::vector<sdk::InboundMessage>> first, redelivered;
    std::thread on_a([&] { first = a_turns.gather(part("m1", "merhaba"), window); });
    ASSERT_TRUE(eventually([&] { return a->shared().get(lead).has_value(); }));
    const auto first_lead = a->shared().get(lead);
    const auto started = std::chrono::steady_clock::now();
    std::thread again_on_a([&] { redelivered = a_turns.gather(part("m1", "merhaba"), window); });
    ASSERT_TRUE(eventually([&] { return a->shared().get(lead) != first_lead; }));
    auto last = b_turns.gather(part("m2", "saten gecelik var mı?"), window);
    const auto took = std::chrono::steady_clock::now() - started;
    on_a.join();
    again_on_a.join();
    EXPECT_FALSE(first.has_value());        // a later message came within the window
    EXPECT_FALSE(redelivered.has_value());  // so did this one's
    ASSERT_TRUE(last.has_value());
    ASSERT_EQ(last->size(), 2u);  // the redelivery of m1 is not a third message
    EXPECT_EQ((*last)[0].message_id, "m1");
    EXPECT_EQ((*last)[1].message_id, "m2");
    EXPECT_EQ((*last)[1].channel, "webhook");
    EXPECT_GE(took, window);  // the last message's window
    // The burst is gone: the next message starts a new one.
    auto next = a_turns.gather(part("m3", "teşekkürler"), milliseconds(50));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->size(), 1u);
}

TEST_F(InstancesTest, TurnsGoOnWhileRedisIsAwayAndRedisIsUsedAgainWhenItIsBack) {
    auto a = instance();
    EXPECT_FALSE(ask(*a, "gece-butik", "u1", "saten gecelik ne kadar?").reply.empty());
    const auto before = a->shared().round_trips();
    EXPECT_GT(before, 0);

    redis.stop();
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(ask(*a, "gece-butik", "u1", "iade koşulları neler?").reply.empty());
    EXPECT_FALSE(ask(*a, "gece-butik", "u2", "kargo ne kadar?").reply.empty());
    EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(3000));
    EXPECT_EQ(a->shared().health(), SharedHealth::degraded);

    ASSERT_TRUE(redis.start());
    EXPECT_TRUE(eventually([&] { return a->shared().health() == SharedHealth::ok; }));
    const auto back = a->shared().round_trips();
    EXPECT_FALSE(ask(*a, "gece-butik", "u1", "teşekkürler").reply.empty());
    EXPECT_GT(a->shared().round_trips(), back);  // the lock is taken in Redis again
}

TEST_F(InstancesTest, AnEngineWhoseRedisDoesNotAnswerStartsDegraded) {
    redis.stop();
    auto a = instance();
    EXPECT_EQ(a->shared().health(), SharedHealth::degraded);
    EXPECT_FALSE(ask(*a, "gece-butik", "u1", "saten gecelik ne kadar?").reply.empty());
}

}  // namespace
}  // namespace tezgah::engine
