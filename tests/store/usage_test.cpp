// Usage and costs: one row per provider call of a turn, the turn's cost on its reply, spend over a
// time range for budgets, the quarter-hour slices `tezgah usage` reads, and the SpendTracker seeded
// from a real database; on both backends.
#include "ops/costs.hpp"
#include "store_fixture.hpp"

#include <date/date.h>

namespace tezgah::engine::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

Clock::time_point utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
    return date::sys_days{date::year{year} / month / day} + std::chrono::hours{hour} +
           std::chrono::minutes{minute};
}

class UsageTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (!db) return;
        add_tenant("gece-butik");
        add_tenant("nefes-studyo");
    }

    Conversation open(const std::string& tenant, const std::string& user) {
        auto c = db->open_conversation(tenant, user, "webhook", "", t0, std::chrono::minutes(30));
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? c.value() : Conversation{};
    }

    /// A usage row of `tenant` at `at` costing `usd`.
    void spend(const std::string& tenant, Clock::time_point at, double usd,
               const std::string& model = "gpt-4o-mini", bool estimated = false) {
        UsageRecord r{tenant, "c-" + tenant, "openai", model, 1000, 200, usd};
        r.at = at;
        r.estimated = estimated;
        auto stored = db->record_usage(r);
        ASSERT_TRUE(stored.ok()) << stored.error().message;
    }

    const Clock::time_point t0 = utc(2024, 6, 10, 12);
};
TEZGAH_STORE_BACKENDS(UsageTest);

TEST_P(UsageTest, ATurnStoresOneRowPerProviderCallAndItsCostOnTheReply) {
    auto c = open("gece-butik", "905551112233");
    auto in =
        db->append_message("gece-butik", c.id, StoredMessage{"user", "siyah gecelik var mı", "", "tr", t0});
    ASSERT_TRUE(in.ok()) << in.error().message;

    TurnRecord turn{"gece-butik",
                    c.id,
                    "905551112233",
                    "webhook",
                    *in,
                    StoredMessage{"assistant", "Var, 299,99 TL.", "llm", "tr", t0 + 2s},
                    "{}",
                    {},
                    {},
                    {}};
    UsageRecord first{"gece-butik", c.id, "openai", "gpt-4o-mini", 1200, 40, 0.000204};
    first.step = 0;
    UsageRecord second{"gece-butik", c.id, "openai", "gpt-4o-mini", 1500, 80, 0.000273};
    second.step = 1;
    UsageRecord fallback{"gece-butik", c.id, "gemini", "gemini-2.0-flash", 900, 60, 0.000114};
    fallback.step = 0;
    fallback.estimated = true;
    turn.usage = {first, second, fallback};
    auto reply_id = db->finish_turn(turn);
    ASSERT_TRUE(reply_id.ok()) << reply_id.error().message;

    auto usage = db->usage("gece-butik", c.id);
    ASSERT_TRUE(usage.ok()) << usage.error().message;
    const auto& rows = *usage;
    ASSERT_EQ(rows.size(), 3u);
    for (const auto& row : rows) {
        EXPECT_EQ(row.message_id, *reply_id);
        EXPECT_EQ(row.tenant_id, "gece-butik");
        EXPECT_EQ(row.conversation_id, c.id);
    }
    EXPECT_EQ(rows[0].model, "gpt-4o-mini");
    EXPECT_EQ(rows[0].step, 0);
    EXPECT_EQ(rows[0].input_tokens, 1200);
    EXPECT_EQ(rows[0].output_tokens, 40);
    EXPECT_DOUBLE_EQ(rows[0].cost_usd, 0.000204);
    EXPECT_FALSE(rows[0].estimated);
    EXPECT_EQ(rows[1].step, 1);
    EXPECT_EQ(rows[2].provider, "gemini");
    EXPECT_TRUE(rows[2].estimated);
    // Stored when the turn was: rows without a time of their own take the time of writing.
    EXPECT_LE(Clock::now() - rows[0].at, 10min);

    auto cost = db->message_cost("gece-butik", *reply_id);
    ASSERT_TRUE(cost.ok()) << cost.error().message;
    EXPECT_NEAR(*cost, 0.000204 + 0.000273 + 0.000114, 1e-12);
    // Not another tenant's, and a plain message costs nothing.
    EXPECT_EQ(db->message_cost("nefes-studyo", *reply_id).error().code, "not_found");
    EXPECT_DOUBLE_EQ(*db->message_cost("gece-butik", *in), 0);
    auto others = db->usage("nefes-studyo", c.id);
    ASSERT_TRUE(others.ok()) << others.error().message;
    EXPECT_TRUE(others->empty());

    // A turn without model calls stores no usage and costs 0.
    TurnRecord quiet{"gece-butik",
                     c.id,
                     "905551112233",
                     "webhook",
                     *in,
                     StoredMessage{"assistant", "Rica ederim.", "rule", "tr", t0 + 3s},
                     "{}",
                     {},
                     {},
                     {}};
    auto quiet_id = db->finish_turn(quiet);
    ASSERT_TRUE(quiet_id.ok());
    auto after_quiet = db->usage("gece-butik", c.id);
    ASSERT_TRUE(after_quiet.ok()) << after_quiet.error().message;
    EXPECT_EQ(after_quiet->size(), 3u);
    EXPECT_DOUBLE_EQ(*db->message_cost("gece-butik", *quiet_id), 0);
}

TEST_P(UsageTest, SpentIsTheSumOverAHalfOpenRange) {
    const auto from = utc(2024, 6, 10);
    const auto to = utc(2024, 6, 11);
    spend("gece-butik", from - 1ms, 100);  // before
    spend("gece-butik", from, 0.25);       // the first moment counts
    spend("gece-butik", from + 12h, 0.5);
    spend("gece-butik", to - 1ms, 0.125);
    spend("gece-butik", to, 100);           // the end does not
    spend("nefes-studyo", from + 1h, 100);  // another tenant

    auto spent = db->spent_usd("gece-butik", from, to);
    ASSERT_TRUE(spent.ok()) << spent.error().message;
    EXPECT_DOUBLE_EQ(*spent, 0.875);
    EXPECT_DOUBLE_EQ(*db->spent_usd("gece-butik", from + 1h, from + 2h), 0);
    EXPECT_DOUBLE_EQ(*db->spent_usd("yok-boyle-dukkan", from, to), 0);
    EXPECT_DOUBLE_EQ(*db->spent_usd("nefes-studyo", from, to), 100);
}

TEST_P(UsageTest, SlicesSumEachQuarterHourPerModel) {
    const auto day = utc(2024, 6, 10);
    spend("gece-butik", day + 10h + 1min, 0.25);
    spend("gece-butik", day + 10h + 14min, 0.25, "gpt-4o-mini", true);
    spend("gece-butik", day + 10h + 15min, 0.5);                     // the next quarter
    spend("gece-butik", day + 10h + 5min, 1.0, "gemini-2.0-flash");  // another model
    spend("gece-butik", day + 30h, 2.0);                             // outside

    auto slices = db->usage_slices("gece-butik", day, day + 24h);
    ASSERT_TRUE(slices.ok()) << slices.error().message;
    ASSERT_EQ(slices->size(), 3u);
    const auto& a = (*slices)[0];
    EXPECT_EQ(a.start, day + 10h);
    EXPECT_EQ(a.model, "gemini-2.0-flash");
    EXPECT_EQ(a.calls, 1);
    const auto& b = (*slices)[1];
    EXPECT_EQ(b.start, day + 10h);
    EXPECT_EQ(b.provider, "openai");
    EXPECT_EQ(b.model, "gpt-4o-mini");
    EXPECT_EQ(b.calls, 2);
    EXPECT_EQ(b.input_tokens, 2000);
    EXPECT_EQ(b.output_tokens, 400);
    EXPECT_DOUBLE_EQ(b.cost_usd, 0.5);
    EXPECT_EQ(b.estimated_calls, 1);
    EXPECT_EQ((*slices)[2].start, day + 10h + 15min);
    EXPECT_TRUE(db->usage_slices("nefes-studyo", day, day + 24h)->empty());
}

TEST_P(UsageTest, TheSpendTrackerIsSeededFromTheDatabase) {
    // 22:30 UTC on 9 June is 01:30 on 10 June in Istanbul.
    spend("gece-butik", utc(2024, 6, 9, 22, 30), 1.0);
    spend("gece-butik", utc(2024, 6, 10, 9), 0.5);
    spend("gece-butik", utc(2024, 5, 31, 22), 4.0);  // 1 June in Istanbul, 31 May in UTC
    SpendTracker tracker(*db);
    const auto now = utc(2024, 6, 10, 12);
    EXPECT_DOUBLE_EQ(tracker.spent("gece-butik", Period::day, now, "Europe/Istanbul"), 1.5);
    EXPECT_DOUBLE_EQ(tracker.spent("gece-butik", Period::month, now, "Europe/Istanbul"), 5.5);
    SpendTracker in_utc(*db);
    EXPECT_DOUBLE_EQ(in_utc.spent("gece-butik", Period::day, now, "UTC"), 0.5);
    EXPECT_DOUBLE_EQ(in_utc.spent("gece-butik", Period::month, now, "UTC"), 1.5);

    // Later turns are counted without asking; a check sees them.
    tracker.add("gece-butik", 0.5, now);
    auto check = tracker.check(Budget{2.0, std::nullopt}, "gece-butik", now + 1min, "Europe/Istanbul");
    EXPECT_FALSE(check.allowed);
    EXPECT_EQ(check.period, "day");
    EXPECT_DOUBLE_EQ(check.spent_usd, 2.0);
    // A new tracker (a restarted process) finds the same in the database once the row is stored.
    spend("gece-butik", now, 0.5);
    SpendTracker restarted(*db);
    EXPECT_DOUBLE_EQ(restarted.spent("gece-butik", Period::day, now + 1min, "Europe/Istanbul"), 2.0);
}

}  // namespace
}  // namespace tezgah::engine::testing
