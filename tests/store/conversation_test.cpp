// Conversations: the idle-session rule, explicit session ids, state, messages with idempotent
// client ids, the function-call log and usage, tenant isolation; on both backends.
#include "store_fixture.hpp"

#include "store/handoffs.hpp"

namespace tezgah::engine::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

constexpr auto kIdle = std::chrono::seconds(30min);

class ConversationTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (!db) return;
        add_tenant("gece-butik");
        add_tenant("nefes-studyo");
    }

    Conversation open(const std::string& user, Clock::time_point at, const std::string& session = {},
                      const std::string& tenant = "gece-butik", const std::string& channel = "webhook") {
        auto c = db->open_conversation(tenant, user, channel, session, at, kIdle);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? c.value() : Conversation{};
    }

    std::string say(const Conversation& c, const std::string& text, Clock::time_point at,
                    const std::string& client_id = {}) {
        StoredMessage m{"user", text, "", "tr", at};
        auto id = db->append_message(c.tenant_id, c.id, m, client_id);
        EXPECT_TRUE(id.ok()) << id.error().message;
        return id.ok() ? id.value() : std::string();
    }

    const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1'750'000'000));
};
TEZGAH_STORE_BACKENDS(ConversationTest);

TEST_P(ConversationTest, SameConversationWithinIdleTimeout) {
    auto first = open("905551112233", t0);
    EXPECT_TRUE(first.is_new);
    EXPECT_FALSE(first.id.empty());
    EXPECT_FALSE(first.session_id.empty());
    EXPECT_EQ(first.channel, "webhook");
    say(first, "merhaba", t0 + 1min);

    auto again = open("905551112233", t0 + 1min + kIdle - 1s);
    EXPECT_FALSE(again.is_new);
    EXPECT_EQ(again.id, first.id);
    EXPECT_EQ(again.session_id, first.session_id);
}

TEST_P(ConversationTest, NewConversationAfterIdleTimeoutOrOnAnotherChannel) {
    auto first = open("905551112233", t0);
    say(first, "merhaba", t0);

    auto later = open("905551112233", t0 + kIdle + 1s);
    EXPECT_TRUE(later.is_new);
    EXPECT_NE(later.id, first.id);
    EXPECT_NE(later.session_id, first.session_id);

    auto other_channel = open("905551112233", t0 + kIdle + 2s, {}, "gece-butik", "widget");
    EXPECT_TRUE(other_channel.is_new);
    EXPECT_NE(other_channel.id, later.id);

    auto other_user = open("905559998877", t0 + kIdle + 3s);
    EXPECT_TRUE(other_user.is_new);
    EXPECT_NE(other_user.id, later.id);
}

TEST_P(ConversationTest, ExplicitSessionIdIsHonoured) {
    auto first = open("web-user-1", t0, "oturum-abc");
    EXPECT_TRUE(first.is_new);
    EXPECT_EQ(first.session_id, "oturum-abc");
    say(first, "merhaba", t0);

    // Known session: continued even long after the idle timeout.
    auto resumed = open("web-user-1", t0 + 5h, "oturum-abc");
    EXPECT_FALSE(resumed.is_new);
    EXPECT_EQ(resumed.id, first.id);

    // A new session id from the client starts a new conversation with that id.
    auto fresh = open("web-user-1", t0 + 5h + 1s, "oturum-def");
    EXPECT_TRUE(fresh.is_new);
    EXPECT_EQ(fresh.session_id, "oturum-def");
    EXPECT_NE(fresh.id, first.id);

    // Another customer presenting someone else's session id does not get into it.
    auto intruder = open("web-user-2", t0 + 5h + 2s, "oturum-abc");
    EXPECT_TRUE(intruder.is_new);
    EXPECT_NE(intruder.id, first.id);
    EXPECT_NE(intruder.session_id, "oturum-abc");
}

TEST_P(ConversationTest, StateIsKeptWithTheConversation) {
    auto c = open("905551112233", t0);
    json::object state{{"slots", json::object{{"service", "reformer"}}}, {"turns", 2}};
    ASSERT_TRUE(db->save_state("gece-butik", c.id, state).ok());
    auto again = open("905551112233", t0 + 1min);
    EXPECT_EQ(again.id, c.id);
    EXPECT_EQ(json::serialize(again.state), json::serialize(state));

    auto missing = db->save_state("gece-butik", "no-such-conversation", state);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, "not_found");
}

TEST_P(ConversationTest, MessagesComeBackOldestFirst) {
    auto c = open("905551112233", t0);
    for (int i = 0; i < 5; ++i) {
        StoredMessage m{i % 2 ? "assistant" : "user", "mesaj " + std::to_string(i), i % 2 ? "intent" : "",
                        i % 2 ? "tr" : "en", t0 + std::chrono::seconds(i)};
        ASSERT_TRUE(db->append_message("gece-butik", c.id, m).ok());
    }
    auto last_three = db->recent_messages("gece-butik", c.id, 3);
    ASSERT_TRUE(last_three.ok()) << last_three.error().message;
    const auto& recent = *last_three;
    ASSERT_EQ(recent.size(), 3u);
    EXPECT_EQ(recent[0].text, "mesaj 2");
    EXPECT_EQ(recent[2].text, "mesaj 4");
    EXPECT_EQ(recent[1].role, "assistant");
    EXPECT_EQ(recent[1].method, "intent");
    EXPECT_EQ(recent[1].language, "tr");
    EXPECT_EQ(recent[2].language, "en");
    EXPECT_EQ(recent[2].at, t0 + 4s);
    auto all = db->recent_messages("gece-butik", c.id, 50);
    ASSERT_TRUE(all.ok()) << all.error().message;
    EXPECT_EQ(all->size(), 5u);

    auto orphan =
        db->append_message("gece-butik", "no-such-conversation", StoredMessage{"user", "x", "", "tr", t0});
    ASSERT_FALSE(orphan.ok());
    EXPECT_EQ(orphan.error().code, "not_found");
}

TEST_P(ConversationTest, ClientMessageIdMakesAppendIdempotent) {
    auto c = open("905551112233", t0);
    auto first =
        db->append_message("gece-butik", c.id, StoredMessage{"user", "merhaba", "", "tr", t0}, "wamid.1");
    ASSERT_TRUE(first.ok()) << first.error().message;

    auto retry = db->append_message("gece-butik", c.id, StoredMessage{"user", "merhaba", "", "tr", t0 + 1s},
                                    "wamid.1");
    ASSERT_FALSE(retry.ok());
    EXPECT_EQ(retry.error().code, "duplicate");
    EXPECT_NE(retry.error().message.find(first.value()), std::string::npos);
    auto stored = db->recent_messages("gece-butik", c.id, 10);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->size(), 1u);

    // Unique per tenant: another tenant may use the same client id; empty ids never collide.
    auto other = open("905551112233", t0, {}, "nefes-studyo");
    EXPECT_TRUE(
        db->append_message("nefes-studyo", other.id, StoredMessage{"user", "selam", "", "tr", t0}, "wamid.1")
            .ok());
    EXPECT_TRUE(db->append_message("gece-butik", c.id, StoredMessage{"assistant", "a", "", "tr", t0}).ok());
    EXPECT_TRUE(db->append_message("gece-butik", c.id, StoredMessage{"assistant", "b", "", "tr", t0}).ok());
    auto stored_after = db->recent_messages("gece-butik", c.id, 10);
    ASSERT_TRUE(stored_after.ok()) << stored_after.error().message;
    EXPECT_EQ(stored_after->size(), 3u);
}

TEST_P(ConversationTest, ToolCallsAndUsageRoundTrip) {
    auto c = open("905551112233", t0);
    auto message_id = say(c, "siyah gecelik ne kadar", t0);
    ToolCallRecord call{"gece-butik",
                        c.id,
                        message_id,
                        "get_product_info",
                        json::object{{"product", "siyah gecelik"}, {"query_type", "price"}},
                        json::value{{"price", 299.99}, {"currency", "TRY"}},
                        true,
                        3.5,
                        ""};
    ASSERT_TRUE(db->record_tool_call(call).ok());
    ToolCallRecord failed{
        "gece-butik", c.id,  "",   "check_availability",       json::object{{"date", "yarın"}},
        nullptr,      false, 0.25, "date: expected YYYY-MM-DD"};
    ASSERT_TRUE(db->record_tool_call(failed).ok());

    auto calls = db->tool_calls("gece-butik", c.id);
    ASSERT_TRUE(calls.ok()) << calls.error().message;
    const auto& log = *calls;
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].tool, "get_product_info");
    EXPECT_EQ(log[0].message_id, message_id);
    EXPECT_EQ(json::serialize(log[0].arguments), json::serialize(call.arguments));
    EXPECT_EQ(json::serialize(log[0].result), json::serialize(call.result));
    EXPECT_TRUE(log[0].ok);
    EXPECT_DOUBLE_EQ(log[0].duration_ms, 3.5);
    EXPECT_FALSE(log[1].ok);
    EXPECT_EQ(log[1].error, "date: expected YYYY-MM-DD");
    EXPECT_TRUE(log[1].result.is_null());
    auto others = db->tool_calls("nefes-studyo", c.id);
    ASSERT_TRUE(others.ok()) << others.error().message;
    EXPECT_TRUE(others->empty());

    EXPECT_TRUE(
        db->record_usage(UsageRecord{"gece-butik", c.id, "gemini", "gemini-2.0-flash", 120, 45, 0.0004})
            .ok());
}

TEST_P(ConversationTest, ConversationsAreInvisibleToOtherTenants) {
    auto a = open("905551112233", t0, "ortak-oturum", "gece-butik");
    say(a, "gizli mesaj", t0);
    ASSERT_TRUE(db->save_state("gece-butik", a.id, json::object{{"secret", true}}).ok());

    // Same user, same session id, other tenant: a different conversation.
    auto b = open("905551112233", t0 + 1s, "ortak-oturum", "nefes-studyo");
    EXPECT_TRUE(b.is_new);
    EXPECT_NE(b.id, a.id);
    EXPECT_TRUE(b.state.empty());
    auto b_idle = open("905551112233", t0 + 2s, {}, "nefes-studyo");
    EXPECT_NE(b_idle.id, a.id);

    auto seen_by_other = db->recent_messages("nefes-studyo", a.id, 10);
    ASSERT_TRUE(seen_by_other.ok()) << seen_by_other.error().message;
    EXPECT_TRUE(seen_by_other->empty());
    EXPECT_EQ(db->append_message("nefes-studyo", a.id, StoredMessage{"user", "x", "", "tr", t0}).error().code,
              "not_found");
    EXPECT_EQ(db->save_state("nefes-studyo", a.id, json::object{}).error().code, "not_found");
    auto seen_by_owner = db->recent_messages("gece-butik", a.id, 10);
    ASSERT_TRUE(seen_by_owner.ok()) << seen_by_owner.error().message;
    EXPECT_EQ(seen_by_owner->size(), 1u);

    auto unknown = db->open_conversation("yok-boyle-dukkan", "u", "webhook", "", t0, kIdle);
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "not_found");
}

TEST_P(ConversationTest, StoringAMessageTellsWhetherAPersonHasTheConversation) {
    // A turn learns from the write of the customer's message whether the bot may answer: the
    // status as the message was stored, with no read of its own (pipeline/handoff.cpp).
    auto c = open("905551112233", t0);
    std::string status;
    ASSERT_TRUE(
        db->append_message(c.tenant_id, c.id, StoredMessage{"user", "merhaba", "", "tr", t0}, {}, &status)
            .ok());
    EXPECT_EQ(status, "bot");

    auto taken = take_over(*db, c.tenant_id, c.id, t0 + 1s);
    ASSERT_TRUE(taken.ok()) << taken.error().message;
    ASSERT_TRUE(*taken);
    ASSERT_TRUE(db->append_message(c.tenant_id, c.id,
                                   StoredMessage{"user", "orada misiniz", "", "tr", t0 + 2s}, "m-2", &status)
                    .ok());
    EXPECT_EQ(status, "handed_over");

    auto released = give_back(*db, c.tenant_id, c.id, t0 + 3s);
    ASSERT_TRUE(released.ok()) << released.error().message;
    ASSERT_TRUE(
        db->append_message(c.tenant_id, c.id, StoredMessage{"user", "tamam", "", "tr", t0 + 4s}, {}, &status)
            .ok());
    EXPECT_EQ(status, "bot");

    // Another tenant's conversation: nothing stored, and the status is not told.
    status = "unchanged";
    EXPECT_EQ(
        db->append_message("nefes-studyo", c.id, StoredMessage{"user", "x", "", "tr", t0 + 5s}, {}, &status)
            .error()
            .code,
        "not_found");
    EXPECT_EQ(status, "unchanged");
    auto stored = db->recent_messages(c.tenant_id, c.id, 10);
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->size(), 3u);
}

}  // namespace
}  // namespace tezgah::engine::testing
