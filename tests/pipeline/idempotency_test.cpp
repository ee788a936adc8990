// The write path of a turn: the conversation cache (hits, misses, restarts, idle sessions, explicit
// session ids, a history that cannot be read) and idempotent message ids (a retried request gets
// the reply it already got).
#include "pipeline/conversation_cache.hpp"
#include "pipeline/engine.hpp"

#include "support/engine_fixture.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <atomic>
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
