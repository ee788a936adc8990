// The outbox in process, on both backends: messages stored first, sent by the workers through the
// test channel `relay` over real HTTP to a fake provider, retried on 429/500/dropped connections,
// failed for good on 400, resumed by a new engine on the same database, moved on by reports.
#include "outbox/outbox_fixture.hpp"

#include "outbox/outbox.hpp"
#include "pipeline/engine.hpp"
#include "store/store_fixture.hpp"

#include <tezgah/sdk/channel.hpp>

#include <gtest/gtest.h>

#include <random>

namespace tezgah::testing {
namespace {

using engine::Backend;
using engine::Engine;
using engine::EngineOptions;
using engine::OutboxRecord;
using Answer = FakeProvider::Answer;
using namespace std::chrono_literals;

class OutboxTest : public RelayOnBackendTest {
protected:
    /// A started engine on the test's database; its outbox retries within milliseconds.
    std::unique_ptr<Engine> start_engine() {
        EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = scratch->url();
        o.plugin_path = {plugin_dir(), OUTBOX_PLUGIN_DIR};
        o.outbox.workers = 2;
        o.outbox.first_retry = 20ms;
        o.outbox.max_retry = 200ms;
        o.outbox.poll = 50ms;
        auto e = std::make_unique<Engine>(o);
        auto s = e->start();
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        return e;
    }

    static sdk::OutboundMessage message(const std::string& key, const std::string& text = "Merhaba!") {
        sdk::OutboundMessage m;
        m.tenant_id = "gece-butik";
        m.channel = "relay";
        m.recipient = "+905551112233";
        m.text = text;
        m.idempotency_key = key;
        return m;
    }

    static OutboxRecord stored(Engine& e, const std::string& id) {
        auto r = e.database().outbox_message("gece-butik", id);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? *r : OutboxRecord{};
    }

    /// Waits until message `id` is no longer queued: its final state.
    static OutboxRecord settled(Engine& e, const std::string& id) {
        OutboxRecord r;
        EXPECT_TRUE(eventually([&] {
            r = stored(e, id);
            return r.state != "queued";
        })) << "still queued after "
            << r.attempts << " attempts: " << r.error;
        return r;
    }
};

TEST_P(OutboxTest, RetriedOn429500AndDroppedConnectionsThenSentOnce) {
    provider.then(Answer::server_error);
    provider.then(Answer::too_many);  // Retry-After: 1
    // Twice: the host's HTTP client tries a request again at once when a connection it reused
    // turns out closed; the second drop, on a new connection, fails the attempt.
    provider.then(Answer::drop);
    provider.then(Answer::drop);
    auto e = start_engine();
    auto queued = e->outbox().enqueue(message("k-retried"));
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    EXPECT_EQ(queued->state, "queued");
    e->outbox().start();
    auto r = settled(*e, queued->id);
    EXPECT_EQ(r.state, "sent") << r.error;
    EXPECT_GE(r.attempts, 4);  // 500, 429, a dropped connection (or two), then 200
    EXPECT_LE(r.attempts, 5);
    EXPECT_EQ(r.provider_id, "p-k-retried");
    EXPECT_TRUE(r.error.empty()) << r.error;
    auto requests = provider.server().requests();
    ASSERT_EQ(requests.size(), 5u);
    for (const auto& request : requests) {  // every attempt carried the same key
        EXPECT_EQ(request.header("idempotency-key"), "k-retried");
        EXPECT_EQ(request.header("authorization"), "Bearer test-token");
        EXPECT_EQ(json::parse(request.body).at("text").as_string(), "Merhaba!");
    }
    EXPECT_EQ(provider.accepted().at("k-retried"), 1);
}

TEST_P(OutboxTest, BadRequestFailsForGoodWithTheProvidersError) {
    provider.always(Answer::bad_request);
    auto e = start_engine();
    auto queued = e->outbox().enqueue(message("k-refused"));
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    e->outbox().start();
    auto r = settled(*e, queued->id);
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.attempts, 1);
    EXPECT_NE(r.error.find("HTTP 400"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("recipient is not a WhatsApp user"), std::string::npos) << r.error;
    e->outbox().stop();
    EXPECT_EQ(provider.server().request_count(), 1u);
}

TEST_P(OutboxTest, TheSameKeyIsQueuedOnce) {
    auto e = start_engine();
    auto first = e->outbox().enqueue(message("k-once", "first"));
    auto again = e->outbox().enqueue(message("k-once", "second"));
    ASSERT_TRUE(first.ok() && again.ok());
    EXPECT_EQ(first->id, again->id);
    auto all = e->database().outbox_messages("gece-butik", 100);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), 1u);
    e->outbox().start();
    EXPECT_EQ(settled(*e, first->id).state, "sent");
    EXPECT_EQ(json::parse(provider.server().requests().at(0).body).at("text").as_string(), "first");
}

TEST_P(OutboxTest, ARestartedEngineSendsWhatWasQueuedExactlyOnce) {
    provider.always(Answer::server_error);
    std::vector<std::string> ids;
    {
        auto e = start_engine();
        for (int i = 0; i < 5; ++i) {
            auto queued = e->outbox().enqueue(message("k-restart-" + std::to_string(i)));
            ASSERT_TRUE(queued.ok()) << queued.error().message;
            ids.push_back(queued->id);
        }
        e->outbox().start();
        ASSERT_TRUE(provider.server().wait_for_requests(5));
    }  // stopped while the provider fails: everything is still queued
    provider.always(Answer::ok);
    auto e = start_engine();
    for (const auto& id : ids) EXPECT_EQ(stored(*e, id).state, "queued");
    e->outbox().start();
    for (const auto& id : ids) EXPECT_EQ(settled(*e, id).state, "sent");
    const auto accepted = provider.accepted();
    EXPECT_EQ(accepted.size(), 5u);
    for (const auto& [key, count] : accepted) EXPECT_EQ(count, 1) << key;
}

TEST_P(OutboxTest, AChannelThatDoesNotSendKeepsTheMessageQueued) {
    auto e = start_engine();
    auto m = message("k-webhook");
    m.channel = "webhook";  // receives only
    auto queued = e->outbox().enqueue(m);
    ASSERT_TRUE(queued.ok());
    EXPECT_EQ(e->outbox().run_due(), 1u);
    auto r = stored(*e, queued->id);
    EXPECT_EQ(r.state, "queued");
    EXPECT_NE(r.error.find("no channel \"webhook\" that sends"), std::string::npos) << r.error;
    EXPECT_EQ(provider.server().request_count(), 0u);
}

TEST_P(OutboxTest, DeliveryReportsMoveAMessageForwardOnly) {
    auto e = start_engine();
    auto queued = e->outbox().enqueue(message("k-reports"));
    ASSERT_TRUE(queued.ok());
    EXPECT_EQ(e->outbox().run_due(), 1u);
    ASSERT_EQ(stored(*e, queued->id).state, "sent");
    auto report = [&](sdk::DeliveryState state, const std::string& error = {}) {
        auto moved = e->outbox().report("gece-butik", "relay", {"p-k-reports", state, error});
        EXPECT_TRUE(moved.ok()) << moved.error().message;
        return moved.ok() && *moved;
    };
    EXPECT_TRUE(report(sdk::DeliveryState::delivered));
    EXPECT_FALSE(report(sdk::DeliveryState::sent));  // late and out of order: ignored
    EXPECT_TRUE(report(sdk::DeliveryState::read));
    EXPECT_FALSE(report(sdk::DeliveryState::delivered));
    EXPECT_FALSE(report(sdk::DeliveryState::failed, "too late"));
    EXPECT_EQ(stored(*e, queued->id).state, "read");
    // Another tenant's or channel's report of the same provider id finds nothing.
    auto other =
        e->outbox().report("nefes-studyo", "relay", {"p-k-reports", sdk::DeliveryState::failed, "x"});
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(*other);

    auto second = e->outbox().enqueue(message("k-undeliverable"));
    ASSERT_TRUE(second.ok());
    e->outbox().run_due();
    auto failed = e->outbox().report("gece-butik", "relay",
                                     {"p-k-undeliverable", sdk::DeliveryState::failed, "number blocked"});
    ASSERT_TRUE(failed.ok());
    EXPECT_TRUE(*failed);
    auto r = stored(*e, second->id);
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.error, "number blocked");
}

TEST_P(OutboxTest, GivesUpAfterTheLastAttemptKeepingTheError) {
    provider.always(Answer::server_error);
    auto e = start_engine();
    auto queued = e->outbox().enqueue(message("k-give-up"));
    ASSERT_TRUE(queued.ok());
    // Attempts are claimed as they come due: step the outbox until it stops retrying.
    engine::OutboxRecord r;
    ASSERT_TRUE(eventually(
        [&] {
            e->outbox().run_due();
            r = stored(*e, queued->id);
            return r.state != "queued";
        },
        std::chrono::minutes(2)));
    EXPECT_EQ(r.state, "failed");
    EXPECT_EQ(r.attempts, e->outbox().options().max_attempts);
    EXPECT_NE(r.error.find("gave up after"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("provider is down"), std::string::npos) << r.error;
}

TEST_P(OutboxTest, HealthShowsStuckMessages) {
    provider.always(Answer::server_error);
    EngineOptions o;
    o.tenants_dir = dir.path() / "tenants";
    o.db_url = scratch->url();
    o.plugin_path = {plugin_dir(), OUTBOX_PLUGIN_DIR};
    o.outbox.stuck_after = 0ms;
    Engine e(o);
    ASSERT_TRUE(e.start().ok());
    auto queued = e.outbox().enqueue(message("k-stuck"));
    ASSERT_TRUE(queued.ok());
    e.outbox().run_due();
    auto health = e.outbox().health();
    ASSERT_TRUE(health.ok()) << health.error().message;
    EXPECT_EQ(health->queued, 1);
    ASSERT_EQ(health->stuck.size(), 1u);
    EXPECT_EQ(health->stuck[0].id, queued->id);
    EXPECT_NE(health->stuck[0].error.find("provider is down"), std::string::npos);
}

TEST_P(OutboxTest, PayloadKeepsOptionsCardsAndTemplate) {
    auto e = start_engine();
    auto m = message("k-rich", "Hangisi?");
    m.options = {{"1", "Saten gecelik", ""}, {"2", "Pamuklu pijama", "en çok satan"}};
    m.cards = {{"p1", "Saten gecelik", "Siyah", 899.9, "TRY", "https://example.com/p1.jpg"}};
    m.template_message = sdk::MessageTemplate{"reopen", json::object{{"1", "Ayşe"}}};
    m.metadata = json::object{{"turn", "t1"}};
    auto queued = e->outbox().enqueue(m);
    ASSERT_TRUE(queued.ok());
    auto back = engine::outbound_message(stored(*e, queued->id));
    EXPECT_EQ(back.text, "Hangisi?");
    ASSERT_EQ(back.options.size(), 2u);
    EXPECT_EQ(back.options[1].description, "en çok satan");
    ASSERT_EQ(back.cards.size(), 1u);
    EXPECT_EQ(back.cards[0].price, 899.9);
    ASSERT_TRUE(back.template_message.has_value());
    EXPECT_EQ(back.template_message->name, "reopen");
    EXPECT_EQ(back.template_message->variables.at("1").as_string(), "Ayşe");
    EXPECT_EQ(back.metadata.at("turn").as_string(), "t1");
    EXPECT_EQ(back.idempotency_key, "k-rich");
}

TEST_P(OutboxTest, AStoredMessageNeedsItsAddresses) {
    auto e = start_engine();
    auto m = message("");
    auto queued = e->outbox().enqueue(m);
    ASSERT_FALSE(queued.ok());
    EXPECT_EQ(queued.error().code, "missing_field");
    EXPECT_NE(queued.error().message.find("idempotency_key"), std::string::npos);
}

TEST_P(OutboxTest, TwoEnginesOnOneDatabaseSendEachMessageOnce) {
    auto a = start_engine();
    auto b = start_engine();
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        auto queued = a->outbox().enqueue(message("k-shared-" + std::to_string(i)));
        ASSERT_TRUE(queued.ok());
        ids.push_back(queued->id);
    }
    a->outbox().start();
    b->outbox().start();
    for (const auto& id : ids) EXPECT_EQ(settled(*a, id).state, "sent");
    const auto accepted = provider.accepted();
    EXPECT_EQ(accepted.size(), 20u);
    for (const auto& [key, count] : accepted) EXPECT_EQ(count, 1) << key;
    EXPECT_EQ(provider.server().request_count(), 20u);
}

TEST(OutboxBackoff, DoublesWithJitterUpToTheCapAndHonoursRetryAfter) {
    engine::OutboxOptions o;
    o.first_retry = 1000ms;
    o.max_retry = 8000ms;
    std::mt19937_64 random(42);
    for (int i = 0; i < 50; ++i) {
        auto first = engine::outbox_backoff(o, 1, std::nullopt, random);
        EXPECT_GE(first, 500ms);
        EXPECT_LE(first, 1000ms);
        auto third = engine::outbox_backoff(o, 3, std::nullopt, random);
        EXPECT_GE(third, 2000ms);
        EXPECT_LE(third, 4000ms);
        auto capped = engine::outbox_backoff(o, 30, std::nullopt, random);
        EXPECT_GE(capped, 4000ms);
        EXPECT_LE(capped, 8000ms);
    }
    EXPECT_EQ(engine::outbox_backoff(o, 1, 30000ms, random), 30000ms);
}

TEST(SendResult, ClassifiesTheProvidersAnswer) {
    using Outcome = sdk::SendResult::Outcome;
    auto with = [](int status, std::string body,
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
        return sdk::send_result(sdk::Result<sdk::HttpResponse>(sdk::HttpResponse{status, headers, "", body}),
                                "id-1");
    };
    EXPECT_EQ(with(201, "{}").outcome, Outcome::accepted);
    EXPECT_EQ(with(201, "{}").provider_id, "id-1");
    auto limited = with(429, "slow", {{"Retry-After", "7"}});
    EXPECT_EQ(limited.outcome, Outcome::retry_later);
    EXPECT_EQ(limited.retry_after, 7000ms);
    EXPECT_EQ(with(503, "").outcome, Outcome::retry_later);
    EXPECT_EQ(with(501, "").outcome, Outcome::retry_later);
    EXPECT_EQ(with(408, "").outcome, Outcome::retry_later);
    auto refused = with(403, "not allowed");
    EXPECT_EQ(refused.outcome, Outcome::failed);
    EXPECT_EQ(refused.error, "HTTP 403: not allowed");
    EXPECT_EQ(with(400, std::string(2000, 'x')).error.size(), std::string("HTTP 400: ").size() + 500);
    auto transport = sdk::send_result(sdk::Result<sdk::HttpResponse>(sdk::Error{"unavailable", "refused"}));
    EXPECT_EQ(transport.outcome, Outcome::retry_later);
    EXPECT_EQ(transport.error, "refused");
}

TEZGAH_STORE_BACKENDS(OutboxTest);

}  // namespace
}  // namespace tezgah::testing
