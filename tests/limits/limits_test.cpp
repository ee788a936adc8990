// The limiter through the engine: each plan's figures, table-driven (the figure's next message in
// the window is refused, with the limit's name and how long to wait, and let through once the
// window has passed, on a fixed clock); two Engine instances sharing one SharedState; a flooding
// tenant or customer using nobody else's allowance; the polite note of a refused channel message.
#include "ops/limits.hpp"
#include "ops/metrics.hpp"
#include "pipeline/engine.hpp"
#include "support/temp_tenants.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;
using engine::Engine;
using engine::Limit;
using engine::refusal_of;
using std::chrono::seconds;
using std::chrono::sys_days;

constexpr const char* kPlans = R"({"plans": {
  "free":       {"messages_per_minute": 4,  "customer_messages_per_minute": 2, "llm_tokens_per_day": 2000,
                 "turns_in_flight": 1},
  "basic":      {"messages_per_minute": 6,  "customer_messages_per_minute": 3, "llm_tokens_per_day": 4000,
                 "turns_in_flight": 2},
  "premium":    {"messages_per_minute": 8,  "customer_messages_per_minute": 4, "llm_tokens_per_day": 6000,
                 "turns_in_flight": 3},
  "enterprise": {"messages_per_minute": 10, "customer_messages_per_minute": 5, "llm_tokens_per_day": 9000,
                 "turns_in_flight": 4}}})";

/// 10:00:15 UTC, 13:00:15 in Istanbul (both fixture tenants' zone): 45 s to the end of the minute,
/// and the tenants' day ends at 21:00 UTC.
const auto kMorning = sys_days{std::chrono::year{2026} / 12 / 3} + 10h + 15s;
const auto kIstanbulMidnight = sys_days{std::chrono::year{2026} / 12 / 3} + 21h;

engine::Plans plans() {
    auto parsed = engine::parse_plans(kPlans, "plans.json");
    EXPECT_TRUE(parsed) << parsed.error().message;
    return parsed ? std::move(parsed).value() : engine::Plans{};
}

class LimitsTest : public ::testing::Test {
protected:
    void SetUp() override {
        copy_fixtures(dir.path() / "tenants");
        clock.set(kMorning);
        engine::Metrics::global().reset();
    }

    void set_plan(const std::string& tenant, const std::string& plan) {
        edit_json(dir.path() / "tenants" / tenant / "tenant.json", [&](json::value& v) {
            if (plan.empty())
                v.as_object().erase("plan");
            else
                v.as_object()["plan"] = plan;
        });
    }

    /// A started engine over the plans above; `shared`: the state it shares with others.
    std::unique_ptr<Engine> start(std::shared_ptr<engine::SharedState> shared = nullptr) {
        engine::EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = "sqlite:" + (dir.path() / "var" / "tezgah.db").string();
        o.plugin_path = {plugin_dir()};
        o.plans = plans();
        o.shared_state = std::move(shared);
        auto e = std::make_unique<Engine>(o);
        auto s = e->start();
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        e->set_clock(&clock);
        return e;
    }

    static sdk::InboundMessage msg(const std::string& tenant, const std::string& user,
                                   const std::string& text = "saten gecelik ne kadar?") {
        sdk::InboundMessage m;
        m.tenant_id = tenant;
        m.user_id = user;
        m.text = text;
        m.channel = "test";
        return m;
    }

    /// A turn that must be let through.
    static sdk::TurnReply allowed(Engine& e, const sdk::InboundMessage& m) {
        auto r = e.handle(m);
        EXPECT_TRUE(r.ok()) << m.user_id << ": " << (r.ok() ? "" : r.error().message);
        return r.ok() ? std::move(r).value() : sdk::TurnReply{};
    }

    /// A turn that must be refused: the refusal it carries.
    static engine::Refusal refused(Engine& e, const sdk::InboundMessage& m) {
        auto r = e.handle(m);
        EXPECT_FALSE(r.ok()) << m.user_id << " was let through";
        if (r.ok()) return {};
        EXPECT_EQ(r.error().code, "rate_limited") << r.error().message;
        auto refusal = refusal_of(r.error());
        EXPECT_TRUE(refusal) << r.error().message;
        return refusal.value_or(engine::Refusal{});
    }

    TempDir dir;
    sdk::testing::FakeClock clock;
};

struct Figures {
    const char* plan;
    long long messages_per_minute;
    long long customer_messages_per_minute;
    long long llm_tokens_per_day;
    long long turns_in_flight;
};

class EachPlan : public LimitsTest, public ::testing::WithParamInterface<Figures> {};

TEST_P(EachPlan, TheTenantsMessageAfterItsFigureWaitsForTheNextMinute) {
    const auto& f = GetParam();
    set_plan("gece-butik", f.plan);
    auto e = start();
    // Each customer once: only the tenant's figure can stop them.
    for (long long i = 0; i < f.messages_per_minute; ++i)
        allowed(*e, msg("gece-butik", "c" + std::to_string(i)));
    const auto refusal = refused(*e, msg("gece-butik", "one-more"));
    EXPECT_EQ(refusal.limit, Limit::messages_per_minute);
    EXPECT_EQ(refusal.retry_after, 45s);
    EXPECT_EQ(refusal.plan, f.plan);
    EXPECT_EQ(refusal.figure, f.messages_per_minute);
    // The tenant stays refused until the minute ends: the HTTP server sends its chat requests to
    // the refusals' own workers.
    auto blocked = e->limits().blocked("gece-butik", clock.now());
    ASSERT_TRUE(blocked);
    EXPECT_EQ(blocked->limit, Limit::messages_per_minute);
    // The other tenant (no plan) is not held back by it.
    allowed(*e, msg("nefes-studyo", "one-more", "merhaba"));
    EXPECT_FALSE(e->limits().blocked("nefes-studyo", clock.now()));
    clock.advance(44s);  // still the same minute
    EXPECT_EQ(refused(*e, msg("gece-butik", "one-more")).retry_after, 1s);
    clock.advance(1s);  // the next minute
    EXPECT_FALSE(e->limits().blocked("gece-butik", clock.now()));
    allowed(*e, msg("gece-butik", "one-more"));
}

TEST_P(EachPlan, ACustomersMessageAfterTheirFigureWaitsWhileOthersGoOn) {
    const auto& f = GetParam();
    set_plan("gece-butik", f.plan);
    auto e = start();
    for (long long i = 0; i < f.customer_messages_per_minute; ++i) allowed(*e, msg("gece-butik", "ayse"));
    const auto refusal = refused(*e, msg("gece-butik", "ayse"));
    EXPECT_EQ(refusal.limit, Limit::customer_messages_per_minute);
    EXPECT_EQ(refusal.retry_after, 45s);
    EXPECT_EQ(refusal.figure, f.customer_messages_per_minute);
    allowed(*e, msg("gece-butik", "fatma"));  // another customer of the same tenant
    clock.advance(45s);
    allowed(*e, msg("gece-butik", "ayse"));
}

TEST_P(EachPlan, TurnsStopWhenTheDaysTokensAreSpentUntilTheTenantsMidnight) {
    const auto& f = GetParam();
    set_plan("gece-butik", f.plan);
    auto e = start();
    long long spent = 0;
    long long before_last = 0;
    int turns = 0;
    for (; turns < 200; ++turns) {
        // A minute apart, each its own customer: only the tokens can stop them.
        clock.advance(60s);
        auto r = e->handle(msg("gece-butik", "t" + std::to_string(turns)));
        if (!r) {
            auto refusal = refusal_of(r.error());
            ASSERT_TRUE(refusal) << r.error().message;
            EXPECT_EQ(refusal->limit, Limit::llm_tokens_per_day);
            EXPECT_EQ(refusal->retry_after, std::chrono::ceil<seconds>(kIstanbulMidnight - clock.now()));
            break;
        }
        before_last = spent;
        spent += r->usage.input_tokens + r->usage.output_tokens;
    }
    ASSERT_GT(turns, 0);
    ASSERT_LT(turns, 200) << "the model's turns never reached " << f.llm_tokens_per_day << " tokens";
    EXPECT_LT(before_last, f.llm_tokens_per_day);  // the last turn let through started below it
    EXPECT_GE(spent, f.llm_tokens_per_day);
    // After midnight in Istanbul, a new day.
    clock.set(kIstanbulMidnight + 1s);
    allowed(*e, msg("gece-butik", "next-day"));
}

/// A reply stream that holds its turn until released: turns in flight on demand.
class HeldTurns {
public:
    class Sink : public sdk::StreamSink {
    public:
        explicit Sink(HeldTurns& held) : held_(held) {}
        void on_text(std::string_view) override { held_.hold(); }

    private:
        HeldTurns& held_;
    };

    void hold() {
        std::unique_lock lock(mutex_);
        if (counted_) return;  // once per turn is enough: later deltas go on
        ++inside_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
    }
    void wait_inside(int n) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, 20s, [&] { return inside_ >= n; });
    }
    int inside() {
        std::lock_guard lock(mutex_);
        return inside_;
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        counted_ = true;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int inside_ = 0;
    bool released_ = false;
    bool counted_ = false;
};

TEST_P(EachPlan, ATurnBeyondTheTurnsInFlightIsRefusedUntilOneEnds) {
    const auto& f = GetParam();
    set_plan("gece-butik", f.plan);
    auto e = start();
    HeldTurns held;
    std::vector<std::thread> running;
    for (long long i = 0; i < f.turns_in_flight; ++i) {
        running.emplace_back([&, i] {
            HeldTurns::Sink sink(held);
            auto r = e->handle(msg("gece-butik", "slow" + std::to_string(i)), &sink);
            EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        });
    }
    held.wait_inside(static_cast<int>(f.turns_in_flight));
    ASSERT_EQ(held.inside(), f.turns_in_flight);
    const auto refusal = refused(*e, msg("gece-butik", "waiting"));
    EXPECT_EQ(refusal.limit, Limit::turns_in_flight);
    EXPECT_EQ(refusal.retry_after, 1s);
    EXPECT_EQ(refusal.figure, f.turns_in_flight);
    held.release();
    for (auto& t : running) t.join();
    clock.advance(60s);  // the turns above counted in this minute; the next one is clear
    allowed(*e, msg("gece-butik", "waiting"));
}

INSTANTIATE_TEST_SUITE_P(Plans, EachPlan,
                         ::testing::Values(Figures{"free", 4, 2, 2000, 1}, Figures{"basic", 6, 3, 4000, 2},
                                           Figures{"premium", 8, 4, 6000, 3},
                                           Figures{"enterprise", 10, 5, 9000, 4}),
                         [](const auto& info) { return std::string(info.param.plan); });

TEST_F(LimitsTest, ATenantWithoutAPlanHasNoLimits) {
    set_plan("gece-butik", "");
    auto e = start();
    for (int i = 0; i < 15; ++i) allowed(*e, msg("gece-butik", "ayse"));
}

TEST_F(LimitsTest, TwoInstancesSharingOneStateHoldTheLimitTogether) {
    set_plan("gece-butik", "basic");  // 6 a minute, 3 a customer
    std::shared_ptr<engine::SharedState> shared = engine::make_local_state();
    auto first = start(shared);
    auto second = start(shared);
    for (int i = 0; i < 6; ++i) allowed(i % 2 ? *second : *first, msg("gece-butik", "c" + std::to_string(i)));
    EXPECT_EQ(refused(*first, msg("gece-butik", "c6")).limit, Limit::messages_per_minute);
    EXPECT_EQ(refused(*second, msg("gece-butik", "c7")).limit, Limit::messages_per_minute);
    clock.advance(60s);
    // A customer who writes to both instances has one allowance.
    allowed(*first, msg("gece-butik", "ayse"));
    allowed(*second, msg("gece-butik", "ayse"));
    allowed(*first, msg("gece-butik", "ayse"));
    EXPECT_EQ(refused(*second, msg("gece-butik", "ayse")).limit, Limit::customer_messages_per_minute);
}

TEST_F(LimitsTest, TwoInstancesRacingStayWithinTheirFigure) {
    set_plan("gece-butik", "enterprise");  // 10 a minute
    std::shared_ptr<engine::SharedState> shared = engine::make_local_state();
    auto first = start(shared);
    auto second = start(shared);
    std::atomic<int> let_through{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t) {
        senders.emplace_back([&, t] {
            Engine& e = t % 2 ? *second : *first;
            for (int i = 0; i < 6; ++i)
                if (e.handle(msg("gece-butik", "r" + std::to_string(t) + "-" + std::to_string(i))))
                    ++let_through;
        });
    }
    for (auto& s : senders) s.join();
    EXPECT_EQ(let_through.load(), 10);
}

TEST_F(LimitsTest, AFloodingCustomerUsesNoOtherCustomersOrTenantsAllowance) {
    set_plan("gece-butik", "free");  // 4 a minute, 2 a customer
    set_plan("nefes-studyo", "free");
    auto e = start();
    int flood_let_through = 0;
    for (int i = 0; i < 30; ++i)
        if (e->handle(msg("gece-butik", "flood"))) ++flood_let_through;
    EXPECT_EQ(flood_let_through, 2);
    // The refused 28 were taken back: the tenant's other customers have the rest of the minute.
    allowed(*e, msg("gece-butik", "ayse"));
    allowed(*e, msg("gece-butik", "ayse"));
    EXPECT_EQ(refused(*e, msg("gece-butik", "fatma")).limit, Limit::messages_per_minute);
    // Another tenant's allowance is its own.
    for (int i = 0; i < 4; ++i) allowed(*e, msg("nefes-studyo", "n" + std::to_string(i), "merhaba"));
}

TEST_F(LimitsTest, AFloodingTenantUsesNoOtherTenantsAllowance) {
    set_plan("gece-butik", "free");
    set_plan("nefes-studyo", "free");
    auto e = start();
    int let_through = 0;
    for (int i = 0; i < 40; ++i)
        if (e->handle(msg("gece-butik", "f" + std::to_string(i)))) ++let_through;
    EXPECT_EQ(let_through, 4);
    for (int i = 0; i < 4; ++i) allowed(*e, msg("nefes-studyo", "n" + std::to_string(i), "merhaba"));
    EXPECT_EQ(refused(*e, msg("nefes-studyo", "n4", "merhaba")).limit, Limit::messages_per_minute);
    const std::string metrics = engine::Metrics::global().render();
    EXPECT_NE(
        metrics.find(R"(tezgah_rate_limited_total{limit="messages_per_minute",tenant="gece-butik"} 36)"),
        std::string::npos)
        << metrics;
    EXPECT_NE(
        metrics.find(R"(tezgah_plan_limit{limit="messages_per_minute",plan="free",tenant="gece-butik"} 4)"),
        std::string::npos);
}

TEST_F(LimitsTest, ARefusedChannelMessageIsStoredAndTheCustomerToldOncePerWindow) {
    set_plan("gece-butik", "free");
    auto e = start();
    allowed(*e, msg("gece-butik", "ayse"));
    allowed(*e, msg("gece-butik", "ayse"));
    auto over = e->handle(msg("gece-butik", "ayse", "bir sorum daha var"));
    ASSERT_FALSE(over);
    auto told = e->answer_refused({msg("gece-butik", "ayse", "bir sorum daha var")}, over.error());
    ASSERT_TRUE(told) << told.error().message;
    EXPECT_EQ(told->method, "rate_limited");
    EXPECT_NE(told->reply.find("bir dakika sonra"), std::string::npos) << told->reply;
    auto again = e->answer_refused({msg("gece-butik", "ayse", "hala bekliyorum")}, over.error());
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->reply, "");  // once a window
    // Both are in the conversation, for a person to read; nothing went to a model.
    auto stored = e->database().recent_messages("gece-butik", told->conversation_id, 20);
    ASSERT_TRUE(stored);
    std::vector<std::string> texts;
    for (const auto& m : *stored) texts.push_back(m.text);
    EXPECT_NE(std::find(texts.begin(), texts.end(), "bir sorum daha var"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), "hala bekliyorum"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), told->reply), texts.end());
    // The next window: told again, in the customer's language.
    clock.advance(60s);
    allowed(*e, msg("gece-butik", "john", "hello"));
    allowed(*e, msg("gece-butik", "john", "hello again"));
    auto english = e->handle(msg("gece-butik", "john", "how much is the satin nightgown?"));
    ASSERT_FALSE(english);
    auto told_en =
        e->answer_refused({msg("gece-butik", "john", "how much is the satin nightgown?")}, english.error());
    ASSERT_TRUE(told_en);
    EXPECT_NE(told_en->reply.find("Please write to us again in a minute"), std::string::npos)
        << told_en->reply;
}

}  // namespace
}  // namespace tezgah::testing
