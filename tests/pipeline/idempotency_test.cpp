// The write path of a turn: the conversation cache (hits, misses, restarts, idle sessions, explicit
// session ids, a history that cannot be read) and idempotent message ids (a retried request gets
// the reply it already got; an id whose turn failed or died is answered on a retry, at once or
// after the deadline plus the margin, and never twice; on both backends).
#include "pipeline/conversation_cache.hpp"
#include "pipeline/engine.hpp"

#include "store/store_fixture.hpp"
#include "support/engine_fixture.hpp"
#include "support/fake_openai.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace tezgah::engine;
using namespace tezgah::testing;
namespace sdk = tezgah::sdk;

namespace {

using TurnStoreTest = EngineFixture;

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// ------------------------------------------------------------------ idempotency

TEST_F(TurnStoreTest, RepeatedMessageIdGetsTheStoredReplyAndRunsNothingTwice) {
    auto e = start();
    auto first = ask(*e, msg("gece-butik", "u1", "saten gecelik ne kadar?", "req-1"));
    ASSERT_FALSE(first.tool_calls.empty());
    auto calls_before = e->database().tool_calls("gece-butik", first.conversation_id);
    ASSERT_TRUE(calls_before.ok()) << calls_before.error().message;

    auto again = ask(*e, msg("gece-butik", "u1", "saten gecelik ne kadar?", "req-1"));
    EXPECT_EQ(again.reply, first.reply);
    EXPECT_EQ(again.session_id, first.session_id);
    EXPECT_EQ(again.conversation_id, first.conversation_id);
    EXPECT_EQ(again.method, first.method);
    EXPECT_EQ(again.language, first.language);
    ASSERT_EQ(again.tool_calls.size(), first.tool_calls.size());
    EXPECT_EQ(again.tool_calls[0].name, first.tool_calls[0].name);
    EXPECT_EQ(again.tool_calls[0].arguments, first.tool_calls[0].arguments);

    auto messages = e->database().recent_messages("gece-butik", first.conversation_id, 100);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    EXPECT_EQ(messages->size(), 2u);
    auto calls_after = e->database().tool_calls("gece-butik", first.conversation_id);
    ASSERT_TRUE(calls_after.ok()) << calls_after.error().message;
    EXPECT_EQ(calls_after->size(), calls_before->size());

    // The reply is kept in the database, not only in this process: a restarted engine answers the same.
    e.reset();
    auto restarted = start();
    auto after_restart = ask(*restarted, msg("gece-butik", "u1", "saten gecelik ne kadar?", "req-1"));
    EXPECT_EQ(after_restart.reply, first.reply);
    EXPECT_EQ(after_restart.conversation_id, first.conversation_id);
    auto messages_after_restart =
        restarted->database().recent_messages("gece-butik", first.conversation_id, 100);
    ASSERT_TRUE(messages_after_restart.ok()) << messages_after_restart.error().message;
    EXPECT_EQ(messages_after_restart->size(), 2u);
}

TEST_F(TurnStoreTest, RepeatedMessageIdStreamsTheStoredReply) {
    auto e = start();
    auto first = ask(*e, msg("gece-butik", "s1", "kargo ne kadar sürer?", "req-s"));
    struct Collect : sdk::StreamSink {
        std::string text;
        void on_text(std::string_view delta) override { text += delta; }
    } sink;
    auto again = e->handle(msg("gece-butik", "s1", "kargo ne kadar sürer?", "req-s"), &sink);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(sink.text, first.reply);
}

TEST_F(TurnStoreTest, TenantsUseMessageIdsIndependently) {
    auto e = start();
    auto a = ask(*e, msg("gece-butik", "u", "saten gecelik ne kadar?", "shared-id"));
    auto b = ask(*e, msg("nefes-studyo", "u", "hatha yoga ne kadar?", "shared-id"));
    EXPECT_TRUE(contains(b.reply, "450")) << b.reply;
    EXPECT_NE(a.conversation_id, b.conversation_id);
    auto messages = e->database().recent_messages("nefes-studyo", b.conversation_id, 100);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    EXPECT_EQ(messages->size(), 2u);
}

TEST_F(TurnStoreTest, AnotherCustomersMessageIdIsRefusedWithoutTheirReply) {
    auto e = start();
    auto mine = ask(*e, msg("gece-butik", "alice", "saten gecelik ne kadar?", "id-7"));
    auto theirs = e->handle(msg("gece-butik", "bob", "merhaba", "id-7"));
    ASSERT_FALSE(theirs.ok());
    EXPECT_EQ(theirs.error().code, "duplicate");
    EXPECT_FALSE(contains(theirs.error().message, mine.reply));
}

TEST_F(TurnStoreTest, MessageIdWhoseFirstAttemptHasNoReplyIsInFlight) {
    auto e = start();
    ask(*e, msg("gece-butik", "u9", "merhaba"));
    // A first attempt that stored the customer's message and then died before its reply.
    auto c = e->database().open_conversation("gece-butik", "u9", "test", "", clock.now(),
                                             std::chrono::minutes(30));
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(e->database()
                    .append_message("gece-butik", c->id,
                                    StoredMessage{"user", "iade?", "", "tr", clock.now()}, "half-done")
                    .ok());
    auto retry = e->handle(msg("gece-butik", "u9", "iade?", "half-done"));
    ASSERT_FALSE(retry.ok());
    EXPECT_EQ(retry.error().code, "duplicate_in_flight");
    EXPECT_TRUE(contains(retry.error().message, "half-done")) << retry.error().message;
}

TEST_F(TurnStoreTest, ConcurrentDuplicatesProduceOneAnswer) {
    auto e = start();
    ask(*e, msg("gece-butik", "warm", "merhaba"));  // the tenant is loaded before the race
    constexpr int kThreads = 8;
    std::vector<sdk::Result<sdk::TurnReply>> results(kThreads, sdk::Error{"unset", ""});
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go) std::this_thread::yield();
            results[t] = e->handle(msg("gece-butik", "racer", "saten gecelik ne kadar?", "same-request"));
        });
    }
    go = true;
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(results[0].ok()) << results[0].error().message;
    for (int t = 0; t < kThreads; ++t) {
        ASSERT_TRUE(results[t].ok()) << t << ": " << results[t].error().code;
        EXPECT_EQ(results[t]->reply, results[0]->reply);
        EXPECT_EQ(results[t]->conversation_id, results[0]->conversation_id);
    }
    auto messages = e->database().recent_messages("gece-butik", results[0]->conversation_id, 100);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    EXPECT_EQ(messages->size(), 2u);
    auto calls = e->database().tool_calls("gece-butik", results[0]->conversation_id);
    ASSERT_TRUE(calls.ok()) << calls.error().message;
    EXPECT_EQ(calls->size(), results[0]->tool_calls.size());
}

// ------------------------------------------------------------------ message ids that cannot get stuck

/// Turns whose message ids fail, die or race, on both backends.
class StuckIdTest : public EngineFixture, public ::testing::WithParamInterface<Backend> {
protected:
    void SetUp() override {
        EngineFixture::SetUp();
        if (GetParam() == Backend::postgresql &&
            tezgah::engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<tezgah::engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        db_url = scratch->url();
    }

    /// How long a turn of gece-butik holds its message id: its deadline plus the margin.
    static std::chrono::milliseconds expiry(Engine& e) {
        auto tenant = e.tenant("gece-butik");
        EXPECT_TRUE(tenant.ok()) << tenant.error().message;
        return std::chrono::milliseconds((*tenant)->manifest().llm_policy.deadline_ms) +
               kDefaultInFlightMargin;
    }

    /// While on, the database refuses every reply, so each turn fails as it stores its reply.
    void refuse_replies(bool on) {
        if (!sql) sql = tezgah::engine::testing::open_sql_session(db_url);
        ASSERT_NE(sql, nullptr);
        const bool sqlite = GetParam() == Backend::sqlite;
        if (on && sqlite) {
            *sql << "CREATE TRIGGER refuse_replies BEFORE INSERT ON messages WHEN NEW.role = 'assistant' "
                    "BEGIN SELECT RAISE(ABORT, 'replies are refused by the test'); END";
        } else if (on) {
            *sql << "CREATE FUNCTION refuse_replies() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.role = 'assistant' THEN RAISE EXCEPTION 'replies are refused by the test'; END "
                    "IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql";
            *sql << "CREATE TRIGGER refuse_replies BEFORE INSERT ON messages FOR EACH ROW "
                    "EXECUTE FUNCTION refuse_replies()";
        } else {
            *sql << (sqlite ? "DROP TRIGGER refuse_replies" : "DROP TRIGGER refuse_replies ON messages");
        }
    }

    /// Stored messages with this client id, in every conversation.
    int stored_with_id(const std::string& client_id) {
        if (!sql) sql = tezgah::engine::testing::open_sql_session(db_url);
        int count = -1;
        if (sql)
            *sql << "SELECT COUNT(*) FROM messages WHERE client_message_id = :m", soci::into(count),
                soci::use(client_id);
        return count;
    }

    std::vector<StoredMessage> messages_of(Engine& e, const std::string& conversation_id) {
        auto messages = e.database().recent_messages("gece-butik", conversation_id, 100);
        EXPECT_TRUE(messages.ok()) << messages.error().message;
        return messages.ok() ? messages.value() : std::vector<StoredMessage>{};
    }

    std::unique_ptr<tezgah::engine::testing::ScratchDatabase> scratch;
    std::unique_ptr<soci::session> sql;
};
TEZGAH_STORE_BACKENDS(StuckIdTest);

TEST_P(StuckIdTest, ATurnThatFailedGivesItsIdBackAndARetryIsAnsweredAtOnce) {
    auto e = start();
    ask(*e, msg("gece-butik", "warm", "merhaba"));  // the tenant is loaded before the database breaks
    refuse_replies(true);
    auto failed = e->handle(msg("gece-butik", "f1", "saten gecelik ne kadar?", "fails-once"));
    ASSERT_FALSE(failed.ok()) << "answered although its reply could not be stored";
    EXPECT_EQ(failed.error().code, "store_error") << failed.error().message;
    refuse_replies(false);

    // The same moment on the engine's clock: nothing expired, the failed turn gave the id back.
    auto retry = ask(*e, msg("gece-butik", "f1", "saten gecelik ne kadar?", "fails-once"));
    EXPECT_FALSE(retry.tool_calls.empty());
    EXPECT_TRUE(contains(retry.reply, "TL")) << retry.reply;
    auto messages = messages_of(*e, retry.conversation_id);
    ASSERT_EQ(messages.size(), 2u);  // one customer message per id, and its reply
    EXPECT_EQ(messages[0].role, "user");
    EXPECT_EQ(messages[1].role, "assistant");
    EXPECT_EQ(stored_with_id("fails-once"), 1);

    auto again = ask(*e, msg("gece-butik", "f1", "saten gecelik ne kadar?", "fails-once"));
    EXPECT_EQ(again.reply, retry.reply);
    EXPECT_EQ(messages_of(*e, retry.conversation_id).size(), 2u);
}

TEST_P(StuckIdTest, AnIdLeftByAProcessThatDiedIsRefusedUntilTheDeadlineAndTheMarginThenAnswered) {
    const auto t0 = clock.now();
    std::string conversation_id;
    {
        // A process that stored the customer's message, then died before its turn answered.
        auto died = start();
        ASSERT_TRUE(died->tenant("gece-butik").ok());  // loaded: the tenant is in the database
        auto c =
            died->database().open_conversation("gece-butik", "d1", "test", "", t0, std::chrono::minutes(30));
        ASSERT_TRUE(c.ok()) << c.error().message;
        conversation_id = c->id;
        auto stored = died->database().append_message(
            "gece-butik", c->id, StoredMessage{"user", "kargo ne kadar sürer?", "", "tr", t0}, "died");
        ASSERT_TRUE(stored.ok()) << stored.error().message;
    }
    auto e = start();
    const auto wait = expiry(*e);
    EXPECT_EQ(wait, std::chrono::milliseconds(20000) + kDefaultInFlightMargin);  // the default deadline, 20 s

    clock.set(t0 + wait - std::chrono::milliseconds(1));
    auto early = e->handle(msg("gece-butik", "d1", "kargo ne kadar sürer?", "died"));
    ASSERT_FALSE(early.ok()) << "answered while the first attempt might still run: " << early->reply;
    EXPECT_EQ(early.error().code, "duplicate_in_flight");
    EXPECT_TRUE(contains(early.error().message, "\"died\"")) << early.error().message;
    EXPECT_TRUE(contains(early.error().message, "within 1 s")) << early.error().message;

    clock.set(t0 + wait);
    auto answered = ask(*e, msg("gece-butik", "d1", "kargo ne kadar sürer?", "died"));
    EXPECT_FALSE(answered.reply.empty());
    EXPECT_EQ(answered.conversation_id, conversation_id);
    auto messages = messages_of(*e, conversation_id);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].text, "kargo ne kadar sürer?");
    EXPECT_EQ(messages[0].at, std::chrono::time_point_cast<std::chrono::milliseconds>(t0));
    EXPECT_EQ(messages[1].role, "assistant");
    EXPECT_EQ(stored_with_id("died"), 1);

    // Answered now: later retries get that reply, on this engine and on a fresh one.
    EXPECT_EQ(ask(*e, msg("gece-butik", "d1", "kargo ne kadar sürer?", "died")).reply, answered.reply);
    clock.set(t0 + 10 * wait);
    auto fresh = start();
    EXPECT_EQ(ask(*fresh, msg("gece-butik", "d1", "kargo ne kadar sürer?", "died")).reply, answered.reply);
    EXPECT_EQ(messages_of(*e, conversation_id).size(), 2u);
}

TEST_P(StuckIdTest, TwoRetriesRacingForAnExpiredIdGetOneAnswerAndOneRefusal) {
    // The retry that takes the message waits on a model that stalls until the test stops it: the
    // other retry meets the fresh claim.
    auto model = std::make_unique<FakeOpenAi>();
    model->push_back(FakeOpenAiBehaviour::stall(std::chrono::minutes(5)));
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] =
            json::object{{"provider", "openai"},   {"api_key", "k"},   {"base_url", model->base_url()},
                         {"model", "gpt-4o-mini"}, {"max_retries", 0}, {"deadline_ms", 120000}};
    });
    auto a = start();
    auto b = start();  // another process on the same database
    ASSERT_TRUE(a->tenant("gece-butik").ok());
    ASSERT_TRUE(b->tenant("gece-butik").ok());
    const std::string text = "kadife sabahlığı iade edebilir miyim?";
    const auto t0 = clock.now();
    {
        auto c =
            a->database().open_conversation("gece-butik", "r1", "test", "", t0, std::chrono::minutes(30));
        ASSERT_TRUE(c.ok()) << c.error().message;
        ASSERT_TRUE(
            a->database()
                .append_message("gece-butik", c->id, StoredMessage{"user", text, "", "tr", t0}, "raced")
                .ok());
    }
    clock.set(t0 + expiry(*a));

    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<sdk::Result<sdk::TurnReply>> results;  // in the order they came back
    auto retry = [&](Engine& e) {
        auto r = e.handle(msg("gece-butik", "r1", text, "raced"));
        std::lock_guard lock(mutex);
        results.push_back(std::move(r));
        arrived.notify_all();
    };
    std::thread first([&] { retry(*a); });
    std::thread second([&] { retry(*b); });
    {
        std::unique_lock lock(mutex);
        arrived.wait_for(lock, kEventTimeout, [&] { return !results.empty(); });
    }
    const bool model_called = model->wait_for_requests(1);
    const auto bodies = model->bodies();
    model.reset();  // the stalled call ends; the offline assistant answers that turn
    first.join();
    second.join();

    ASSERT_EQ(results.size(), 2u);
    ASSERT_FALSE(results[0].ok()) << "both retries ran the turn";
    EXPECT_EQ(results[0].error().code, "duplicate_in_flight") << results[0].error().message;
    ASSERT_TRUE(results[1].ok()) << results[1].error().code << " " << results[1].error().message;
    EXPECT_EQ(results[1]->method, "fallback");
    EXPECT_EQ(stored_with_id("raced"), 1);
    EXPECT_EQ(messages_of(*a, results[1]->conversation_id).size(), 2u);

    // The model saw the customer's message once: the stored copy is this turn's, not an earlier one.
    ASSERT_TRUE(model_called);
    ASSERT_EQ(bodies.size(), 1u);
    int seen = 0;
    for (const auto& m : bodies[0].at("messages").as_array()) {
        const auto* content = m.as_object().if_contains("content");
        if (m.at("role") == "user" && content && content->is_string() &&
            contains(std::string(content->as_string()), text))
            ++seen;
    }
    EXPECT_EQ(seen, 1) << json::serialize(bodies[0]);
}

// ------------------------------------------------------------------ the conversation cache

TEST_F(TurnStoreTest, RestartResumesTheConversationFromTheDatabase) {
    auto e = start();
    auto first = ask(*e, msg("gece-butik", "r1", "saten gecelik siyah ne kadar?"));
    e.reset();
    auto restarted = start();
    // The follow-up needs the earlier turn (history and slots), which only the database has now.
    auto second = ask(*restarted, msg("gece-butik", "r1", "peki bordo olanı?"));
    EXPECT_EQ(second.session_id, first.session_id);
    EXPECT_EQ(second.conversation_id, first.conversation_id);
    EXPECT_TRUE(contains(second.reply, "Bordo") || contains(second.reply, "bordo")) << second.reply;
    auto messages = restarted->database().recent_messages("gece-butik", first.conversation_id, 100);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    EXPECT_EQ(messages->size(), 4u);
}

TEST_F(TurnStoreTest, AHistoryTheDatabaseCannotReadFailsTheTurnInsteadOfRunningWithout) {
    auto e = start();
    auto first = ask(*e, msg("gece-butik", "h1", "saten gecelik siyah ne kadar?"));
    e.reset();
    auto restarted = start();  // no cache: the history can only come from the database
    // The column the history is read in the order of goes away under the open database: only that
    // read needs it (opening the conversation still works), so the turn fails exactly there.
    soci::session sql(soci::sqlite3, "db=" + (dir.path() / "var" / "tezgah.db").string());
    sql << "PRAGMA busy_timeout=15000";
    sql << "ALTER TABLE messages RENAME COLUMN seq TO seq_away";
    auto failed = restarted->handle(msg("gece-butik", "h1", "peki bordo olanı?"));
    ASSERT_FALSE(failed.ok()) << "answered without its history: " << failed->reply;
    EXPECT_EQ(failed.error().code, "store_error");
    EXPECT_TRUE(contains(failed.error().message,
                         "recent_messages [gece-butik] conversation " + first.conversation_id))
        << failed.error().message;

    // Once the database answers again, the same follow-up is answered with its history.
    sql << "ALTER TABLE messages RENAME COLUMN seq_away TO seq";
    auto second = ask(*restarted, msg("gece-butik", "h1", "peki bordo olanı?"));
    EXPECT_EQ(second.conversation_id, first.conversation_id);
    EXPECT_TRUE(contains(second.reply, "Bordo") || contains(second.reply, "bordo")) << second.reply;
}

TEST_F(TurnStoreTest, IdleRuleHoldsForCachedConversations) {
    auto e = start();
    auto first = ask(*e, msg("gece-butik", "i1", "merhaba"));
    clock.advance(std::chrono::minutes(29));
    auto second = ask(*e, msg("gece-butik", "i1", "kargo ne kadar?"));
    EXPECT_EQ(second.session_id, first.session_id);  // 29 minutes after the last message: same session
    clock.advance(std::chrono::minutes(29));
    auto third = ask(*e, msg("gece-butik", "i1", "iade var mı?"));
    EXPECT_EQ(third.session_id, first.session_id);  // the clock counts from the last message, not the first
    clock.advance(std::chrono::minutes(31));
    auto fourth = ask(*e, msg("gece-butik", "i1", "merhaba"));
    EXPECT_NE(fourth.session_id, first.session_id);
    EXPECT_NE(fourth.conversation_id, first.conversation_id);
    // Another engine on the same database (no cache) agrees on which conversation is open.
    auto other = start();
    auto fifth = ask(*other, msg("gece-butik", "i1", "teşekkürler"));
    EXPECT_EQ(fifth.conversation_id, fourth.conversation_id);
}

TEST_F(TurnStoreTest, ExplicitSessionIdsSwitchConversationsAsTheDatabaseWould) {
    auto e = start();
    auto a = ask(*e, msg("gece-butik", "x1", "merhaba", {}, "session-a"));
    EXPECT_EQ(a.session_id, "session-a");
    auto a2 = ask(*e, msg("gece-butik", "x1", "kargo ne kadar?"));  // none given: the open one
    EXPECT_EQ(a2.conversation_id, a.conversation_id);
    auto b = ask(*e, msg("gece-butik", "x1", "merhaba", {}, "session-b"));
    EXPECT_EQ(b.session_id, "session-b");
    EXPECT_NE(b.conversation_id, a.conversation_id);
    auto b2 = ask(*e, msg("gece-butik", "x1", "iade var mı?"));  // the latest is session-b now
    EXPECT_EQ(b2.conversation_id, b.conversation_id);
    auto back = ask(*e, msg("gece-butik", "x1", "teşekkürler", {}, "session-a"));
    EXPECT_EQ(back.conversation_id, a.conversation_id);
    auto latest = ask(*e, msg("gece-butik", "x1", "görüşürüz"));
    EXPECT_EQ(latest.conversation_id, a.conversation_id);
    // Someone else's session id is not taken over, cached or not.
    auto intruder = ask(*e, msg("gece-butik", "x2", "merhaba", {}, "session-a"));
    EXPECT_NE(intruder.conversation_id, a.conversation_id);
    EXPECT_NE(intruder.session_id, "session-a");
}

TEST(ConversationCacheTest, KeepsTheMostRecentlyUsedWithinItsBound) {
    ConversationCache cache(2, 1);
    auto entry = [](const std::string& id) {
        CachedConversation c;
        c.id = id;
        return c;
    };
    cache.put("a", entry("A"));
    cache.put("b", entry("B"));
    ASSERT_TRUE(cache.get("a").has_value());  // a is now the most recent
    cache.put("c", entry("C"));
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_FALSE(cache.get("b").has_value());
    EXPECT_EQ(cache.get("a")->id, "A");
    EXPECT_EQ(cache.get("c")->id, "C");
    cache.put("a", entry("A2"));
    EXPECT_EQ(cache.get("a")->id, "A2");
    cache.erase("a");
    EXPECT_FALSE(cache.get("a").has_value());
    EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
