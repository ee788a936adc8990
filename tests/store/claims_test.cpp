// Claims on client message ids, on both backends: a message stored with an id is its turn's until
// the claim is old enough or released; then exactly one retry takes it over (the row moves to the
// retry's conversation, never duplicated); a turn taken over stores no reply (nor the outbox
// message queued with it); a database of the version before claims is upgraded with its ids
// neither stuck nor reopened.
#include <soci/soci.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "store/connection_url.hpp"
#include "store/migrations.hpp"
#include "store_fixture.hpp"

namespace tezgah::engine::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

class ClaimTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (!db) return;
        add_tenant("gece-butik");
    }

    Conversation open(const std::string& user, Clock::time_point at, const std::string& session = {}) {
        auto c = db->open_conversation("gece-butik", user, "webhook", session, at, std::chrono::minutes(30));
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? c.value() : Conversation{};
    }

    /// Stores the customer's message with `client_id` at `at`: claimed then, as a turn does.
    std::string store(const Conversation& c, const std::string& client_id, Clock::time_point at,
                      const std::string& text = "iade ne kadar sürer?") {
        auto id =
            db->append_message("gece-butik", c.id, StoredMessage{"user", text, "", "tr", at}, client_id);
        EXPECT_TRUE(id.ok()) << id.error().message;
        return id.ok() ? id.value() : std::string();
    }

    TurnRecord turn(const Conversation& c, const std::string& inbound, std::optional<Clock::time_point> claim,
                    Clock::time_point at) {
        TurnRecord t;
        t.tenant_id = "gece-butik";
        t.conversation_id = c.id;
        t.user_id = c.user_id;
        t.channel = "webhook";
        t.in_reply_to = inbound;
        t.reply = StoredMessage{"assistant", "14 gün içinde.", "intent", "tr", at};
        t.reply_json = R"({"reply":"14 gün içinde."})";
        t.tool_calls.push_back(ToolCallRecord{"gece-butik", c.id, "", "search_knowledge_base",
                                              json::object{{"query", "iade"}}, json::array{}, true, 1, ""});
        t.claimed_at = claim;
        return t;
    }

    std::size_t messages_in(const Conversation& c) {
        auto messages = db->recent_messages("gece-butik", c.id, 100);
        EXPECT_TRUE(messages.ok()) << messages.error().message;
        return messages.ok() ? messages->size() : 0;
    }

    const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1'750'000'000));
};
TEZGAH_STORE_BACKENDS(ClaimTest);

TEST_P(ClaimTest, AMessageStoredWithAnIdIsClaimedAtItsTime) {
    auto c = open("u1", t0);
    auto id = store(c, "wamid.1", t0 + 250ms);
    auto stored = db->stored_reply("gece-butik", "wamid.1");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->message_id, id);
    EXPECT_EQ(stored->conversation_id, c.id);
    EXPECT_EQ(stored->user_id, "u1");
    EXPECT_EQ(stored->claimed_at, t0 + 250ms);
    EXPECT_FALSE(stored->reply_json.has_value());
}

TEST_P(ClaimTest, ARetryTakesTheMessageOverOnlyOnceItsClaimIsStale) {
    auto c = open("u1", t0);
    auto id = store(c, "wamid.2", t0);

    auto early = db->take_over_message("gece-butik", "wamid.2", c.id, t0 - 1ms, t0 + 29s);
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, "duplicate_in_flight");

    auto taken = db->take_over_message("gece-butik", "wamid.2", c.id, t0, t0 + 30s);
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    EXPECT_EQ(taken->message_id, id);
    EXPECT_EQ(taken->from_conversation, c.id);
    EXPECT_EQ(taken->message.role, "user");
    EXPECT_EQ(taken->message.text, "iade ne kadar sürer?");
    EXPECT_EQ(taken->message.at, t0);
    auto stored = db->stored_reply("gece-butik", "wamid.2");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->claimed_at, t0 + 30s);
    EXPECT_EQ(messages_in(c), 1u);

    // The new claim is young: a second retry just after finds the message held.
    auto again = db->take_over_message("gece-butik", "wamid.2", c.id, t0 + 1s, t0 + 31s);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, "duplicate_in_flight");

    auto unknown = db->take_over_message("gece-butik", "wamid.none", c.id, t0 + 1h, t0 + 1h);
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "not_found");
}

TEST_P(ClaimTest, ATakenOverMessageMovesToTheRetrysConversationWithoutACopy) {
    auto first = open("u1", t0, "session-1");
    store(first, "wamid.3", t0);
    auto second = open("u1", t0 + 1h, "session-2");
    ASSERT_NE(second.id, first.id);

    auto taken = db->take_over_message("gece-butik", "wamid.3", second.id, t0 + 1h, t0 + 1h);
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    EXPECT_EQ(taken->from_conversation, first.id);
    EXPECT_EQ(messages_in(first), 0u);
    EXPECT_EQ(messages_in(second), 1u);
    auto stored = db->stored_reply("gece-butik", "wamid.3");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->conversation_id, second.id);

    // Its reply goes with it, and a retry after that gets the reply.
    ASSERT_TRUE(db->finish_turn(turn(second, taken->message_id, t0 + 1h, t0 + 1h + 1s)).ok());
    stored = db->stored_reply("gece-butik", "wamid.3");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    ASSERT_TRUE(stored->reply_json.has_value());
    EXPECT_EQ(*stored->reply_json, R"({"reply":"14 gün içinde."})");

    // Another tenant's conversation is not a place to move it to.
    add_tenant("nefes-studyo");
    auto elsewhere =
        db->open_conversation("nefes-studyo", "u1", "webhook", "", t0 + 2h, std::chrono::minutes(30));
    ASSERT_TRUE(elsewhere.ok()) << elsewhere.error().message;
    store(second, "wamid.4", t0 + 1h);
    auto refused = db->take_over_message("gece-butik", "wamid.4", elsewhere->id, t0 + 2h, t0 + 2h);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "not_found");
}

TEST_P(ClaimTest, ATurnWhoseMessageWasTakenOverStoresNothing) {
    auto c = open("u1", t0);
    auto id = store(c, "wamid.5", t0);
    auto taken = db->take_over_message("gece-butik", "wamid.5", c.id, t0 + 30s, t0 + 30s);
    ASSERT_TRUE(taken.ok()) << taken.error().message;

    // The first attempt, far past its deadline, finishes after all: its reply is not stored.
    auto late = db->finish_turn(turn(c, id, t0, t0 + 31s));
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, "duplicate_in_flight");
    EXPECT_EQ(messages_in(c), 1u);
    auto calls = db->tool_calls("gece-butik", c.id);
    ASSERT_TRUE(calls.ok()) << calls.error().message;
    EXPECT_TRUE(calls->empty());

    // The retry's turn holds the claim: its reply is the one.
    ASSERT_TRUE(db->finish_turn(turn(c, id, t0 + 30s, t0 + 32s)).ok());
    EXPECT_EQ(messages_in(c), 2u);
    // Answered, the message is never taken over again, however old its claim.
    auto after = db->take_over_message("gece-butik", "wamid.5", c.id, t0 + 24h, t0 + 24h);
    ASSERT_FALSE(after.ok());
    EXPECT_EQ(after.error().code, "duplicate_in_flight");
}

TEST_P(ClaimTest, AReplyQueuedWithItsTurnIsStoredWithItOrNotAtAll) {
    auto outbound = [](const std::string& key) {
        OutboxRecord r;
        r.id = "out-" + key;
        r.tenant_id = "gece-butik";
        r.channel = "twilio";
        r.recipient = "whatsapp:+905550000001";
        r.idempotency_key = key;
        r.payload = R"({"text":"14 gün içinde."})";
        r.created_at = Clock::now();
        return r;
    };
    auto c = open("u1", t0);
    // Taken over by a retry: neither the reply nor its outbox message is stored.
    auto id = store(c, "SM1", t0);
    ASSERT_TRUE(db->take_over_message("gece-butik", "SM1", c.id, t0 + 30s, t0 + 30s).ok());
    auto late = turn(c, id, t0, t0 + 31s);
    late.outbound = outbound("reply:" + c.id + ":SM1");
    ASSERT_FALSE(db->finish_turn(late).ok());
    EXPECT_FALSE(db->outbox_message("gece-butik", "out-reply:" + c.id + ":SM1").ok());

    // The holder's turn: both, in one write.
    auto held = turn(c, id, t0 + 30s, t0 + 32s);
    held.outbound = outbound("reply:" + c.id + ":SM1");
    ASSERT_TRUE(db->finish_turn(held).ok());
    auto queued = db->outbox_message("gece-butik", "out-reply:" + c.id + ":SM1");
    ASSERT_TRUE(queued.ok()) << queued.error().message;
    EXPECT_EQ(queued->state, "queued");
    EXPECT_EQ(queued->recipient, "whatsapp:+905550000001");
    EXPECT_EQ(messages_in(c), 2u);

    // A message with the same key queued before (a redelivery's) is not queued again.
    auto second = store(c, "SM2", t0 + 40s);
    auto again = turn(c, second, t0 + 40s, t0 + 41s);
    again.outbound = outbound("reply:" + c.id + ":SM1");
    again.outbound->id = "out-again";
    ASSERT_TRUE(db->finish_turn(again).ok());
    EXPECT_FALSE(db->outbox_message("gece-butik", "out-again").ok());
}

TEST_P(ClaimTest, AReleasedMessageIsTakenOverAtOnce) {
    auto c = open("u1", t0);
    auto id = store(c, "wamid.6", t0);
    // Only the claim's holder releases it.
    ASSERT_TRUE(db->release_message("gece-butik", id, t0 - 1s).ok());
    auto held = db->stored_reply("gece-butik", "wamid.6");
    ASSERT_TRUE(held.ok()) << held.error().message;
    EXPECT_EQ(held->claimed_at, t0);

    ASSERT_TRUE(db->release_message("gece-butik", id, t0).ok());
    auto released = db->stored_reply("gece-butik", "wamid.6");
    ASSERT_TRUE(released.ok()) << released.error().message;
    EXPECT_EQ(released->claimed_at, Clock::time_point{});
    // However young the claims a retry would wait for, this one is free.
    auto taken = db->take_over_message("gece-butik", "wamid.6", c.id, t0 - 1h, t0 + 1s);
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    EXPECT_EQ(taken->message_id, id);

    // An answered message stays answered.
    ASSERT_TRUE(db->finish_turn(turn(c, id, t0 + 1s, t0 + 2s)).ok());
    ASSERT_TRUE(db->release_message("gece-butik", id, t0 + 1s).ok());
    auto answered = db->stored_reply("gece-butik", "wamid.6");
    ASSERT_TRUE(answered.ok()) << answered.error().message;
    EXPECT_TRUE(answered->reply_json.has_value());
    EXPECT_FALSE(db->take_over_message("gece-butik", "wamid.6", c.id, t0 + 24h, t0 + 24h).ok());
}

TEST_P(ClaimTest, OfManyRetriesRacingInTwoProcessesExactlyOneTakesTheMessage) {
    auto c = open("u1", t0);
    store(c, "wamid.7", t0);
    auto other = open_again();  // a second process on the same database
    ASSERT_NE(other, nullptr);

    constexpr int kThreads = 8;
    std::vector<sdk::Result<TakenOver>> results(kThreads, sdk::Error{"unset", ""});
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            while (!go) std::this_thread::yield();
            Database& mine = t % 2 ? *other : *db;
            // Each a moment after the stale limit: a claim taken by one is young to every other.
            results[t] =
                mine.take_over_message("gece-butik", "wamid.7", c.id, t0 + 30s, t0 + 30s + 1ms * (t + 1));
        });
    }
    go = true;
    for (auto& thread : threads) thread.join();

    int taken = 0;
    int winner = -1;
    for (int t = 0; t < kThreads; ++t) {
        if (results[t].ok()) {
            ++taken;
            winner = t;
        } else {
            EXPECT_EQ(results[t].error().code, "duplicate_in_flight") << results[t].error().message;
        }
    }
    ASSERT_EQ(taken, 1);
    // The claim is the winner's.
    auto stored = db->stored_reply("gece-butik", "wamid.7");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->claimed_at, t0 + 30s + 1ms * (winner + 1));
    EXPECT_EQ(messages_in(c), 1u);
}

TEST_P(ClaimTest, ADatabaseOfTheVersionBeforeClaimsIsUpgradedWithItsIdsNeitherStuckNorReopened) {
    ScratchDatabase old(GetParam());
    ASSERT_TRUE(old.error().empty()) << old.error();
    if (GetParam() == Backend::sqlite) {  // Database::open makes the folder; this session does not
        auto target = store::parse_database_url(old.url());
        ASSERT_TRUE(target.ok()) << target.error().message;
        std::filesystem::create_directories(std::filesystem::path(target->sqlite_path).parent_path());
    }
    {
        // What the previous build left: a message whose turn never answered, and one answered.
        auto sql = open_sql_session(old.url());
        ASSERT_NE(sql, nullptr);
        ASSERT_EQ(store::migrate(*sql, GetParam(), 3), 3);
        const long long at =
            std::chrono::duration_cast<std::chrono::milliseconds>(t0.time_since_epoch()).count();
        *sql
            << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('gece-butik', 'Gece', :c, :u)",
            soci::use(at), soci::use(at);
        *sql << "INSERT INTO customers (tenant_id, id, first_seen_at, last_seen_at, last_channel) "
                "VALUES ('gece-butik', 'u1', :f, :l, 'webhook')",
            soci::use(at), soci::use(at);
        *sql << "INSERT INTO conversations (id, tenant_id, user_id, channel, session_id, state, created_at, "
                "last_message_at) VALUES ('c-old', 'gece-butik', 'u1', 'webhook', 's-old', '{}', :c, :l)",
            soci::use(at), soci::use(at);
        *sql << "INSERT INTO messages (id, tenant_id, conversation_id, role, text, method, language, at, "
                "client_message_id) VALUES ('m-stuck', 'gece-butik', 'c-old', 'user', 'iade?', '', 'tr', :a, "
                "'old-stuck')",
            soci::use(at);
        *sql << "INSERT INTO messages (id, tenant_id, conversation_id, role, text, method, language, at, "
                "client_message_id) VALUES ('m-done', 'gece-butik', 'c-old', 'user', 'kargo?', '', 'tr', :a, "
                "'old-done')",
            soci::use(at);
        *sql << "INSERT INTO messages (id, tenant_id, conversation_id, role, text, method, language, at, "
                "reply_json, in_reply_to) VALUES ('m-reply', 'gece-butik', 'c-old', 'assistant', '3 gün', "
                "'intent', 'tr', :a, '{\"reply\":\"3 gün\"}', 'm-done')",
            soci::use(at);
    }
    auto upgraded = Database::open(old.url());
    ASSERT_TRUE(upgraded.ok()) << upgraded.error().message;
    auto& up = **upgraded;
    EXPECT_EQ(up.schema_version(), store::latest_schema_version());

    // The unanswered message counts as claimed when it was stored: stuck no longer than a new one.
    auto stuck = up.stored_reply("gece-butik", "old-stuck");
    ASSERT_TRUE(stuck.ok()) << stuck.error().message;
    EXPECT_EQ(stuck->claimed_at, t0);
    EXPECT_FALSE(stuck->reply_json.has_value());
    auto early = up.take_over_message("gece-butik", "old-stuck", "c-old", t0 - 1ms, t0 + 29s);
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, "duplicate_in_flight");
    auto taken = up.take_over_message("gece-butik", "old-stuck", "c-old", t0, t0 + 30s);
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    EXPECT_EQ(taken->message_id, "m-stuck");

    // The answered one keeps its reply and is never taken over.
    auto done = up.stored_reply("gece-butik", "old-done");
    ASSERT_TRUE(done.ok()) << done.error().message;
    ASSERT_TRUE(done->reply_json.has_value());
    EXPECT_EQ(*done->reply_json, R"({"reply":"3 gün"})");
    auto reopened = up.take_over_message("gece-butik", "old-done", "c-old", t0 + 24h, t0 + 24h);
    ASSERT_FALSE(reopened.ok());
    EXPECT_EQ(reopened.error().code, "duplicate_in_flight");
}

}  // namespace
}  // namespace tezgah::engine::testing
