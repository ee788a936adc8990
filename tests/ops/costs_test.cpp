// What model calls cost (the price table), and the spend that budgets check (SpendTracker).
#include "ops/costs.hpp"
#include "support/captured_log.hpp"
#include "support/temp_tenants.hpp"
#include "util/log.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

namespace tezgah::engine {
namespace {

using namespace std::chrono;
using tezgah::testing::CapturedLog;
using tezgah::testing::TempDir;
using tezgah::testing::write;

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

TimePoint utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
    return date::sys_days{date::year{year} / month / day} + hours{hour} + minutes{minute};
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

// ---------------------------------------------------------------- the price table

TEST(PriceTable, KnowsTheCommonModelsByDefault) {
    PriceTable table;
    for (const char* model :
         {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash",
          "gemini-2.0-flash-lite", "gemini-1.5-flash", "gemini-1.5-pro", "gpt-4o", "gpt-4o-mini", "gpt-4.1",
          "gpt-4.1-mini", "gpt-4.1-nano", "o3-mini", "o4-mini", "local"})
        EXPECT_TRUE(table.find(model)) << model;
    auto mini = table.cost("gpt-4o-mini", 1'000'000, 1'000'000);
    EXPECT_TRUE(mini.known);
    EXPECT_NEAR(mini.usd, 0.15 + 0.60, 1e-12);
    auto flash = table.cost("gemini-2.0-flash", 2000, 500);
    EXPECT_NEAR(flash.usd, (2000 * 0.10 + 500 * 0.40) / 1e6, 1e-15);
    auto local = table.cost("local", 5000, 5000);
    EXPECT_TRUE(local.known);
    EXPECT_EQ(local.usd, 0);
}

TEST(PriceTable, DatedAndPathNamesCostWhatTheirModelCosts) {
    PriceTable table;
    auto price_of = [&](const char* model) { return table.find(model); };
    ASSERT_TRUE(price_of("gpt-4o-mini-2024-07-18"));
    EXPECT_EQ(price_of("gpt-4o-mini-2024-07-18")->input_per_mtok_usd,
              table.find("gpt-4o-mini")->input_per_mtok_usd);
    ASSERT_TRUE(price_of("gpt-4o-2024-08-06"));
    EXPECT_EQ(price_of("gpt-4o-2024-08-06")->output_per_mtok_usd, table.find("gpt-4o")->output_per_mtok_usd);
    ASSERT_TRUE(price_of("models/gemini-2.0-flash-001"));
    EXPECT_EQ(price_of("models/gemini-2.0-flash-001")->input_per_mtok_usd,
              table.find("gemini-2.0-flash")->input_per_mtok_usd);
    // The longest known prefix wins: flash-lite, not flash.
    ASSERT_TRUE(price_of("gemini-2.5-flash-lite-preview-06-17"));
    EXPECT_EQ(price_of("gemini-2.5-flash-lite-preview-06-17")->output_per_mtok_usd,
              table.find("gemini-2.5-flash-lite")->output_per_mtok_usd);
    ASSERT_TRUE(price_of("gpt-4.1-nano-2025-04-14"));
    EXPECT_EQ(price_of("gpt-4.1-nano-2025-04-14")->input_per_mtok_usd,
              table.find("gpt-4.1-nano")->input_per_mtok_usd);
    // A prefix that stops inside a word is another model.
    EXPECT_FALSE(price_of("gpt-4omni"));
    EXPECT_FALSE(price_of("gpt-4"));
}

TEST(PriceTable, AnUnknownModelCostsNothingAndIsReportedOnce) {
    PriceTable table;
    CapturedLog captured;
    for (int i = 0; i < 3; ++i) {
        auto cost = table.cost("acme-large-9", 1000, 1000);
        EXPECT_FALSE(cost.known);
        EXPECT_EQ(cost.usd, 0);
    }
    table.cost("acme-small-2", 10, 10);
    const auto text = captured.text();
    EXPECT_EQ(count(text, "acme-large-9"), 1u) << text;
    EXPECT_EQ(count(text, "acme-small-2"), 1u) << text;
    EXPECT_TRUE(contains(text, "\"level\":\"warn\"")) << text;
}

TEST(PriceTable, AFileOverridesAndAddsModels) {
    TempDir dir;
    const auto file = dir.path() / "prices.json";
    write(file, R"({"models": {
        "gpt-4o": {"input_per_mtok_usd": 2, "output_per_mtok_usd": 8},
        "acme-large": {"input_per_mtok_usd": 3.5, "output_per_mtok_usd": 14}}})");
    PriceTable table;
    ASSERT_TRUE(table.load(file.string()).ok());
    EXPECT_EQ(table.find("gpt-4o")->input_per_mtok_usd, 2);
    EXPECT_EQ(table.find("gpt-4o-2024-08-06")->output_per_mtok_usd, 8);
    EXPECT_NEAR(table.cost("acme-large", 1'000'000, 500'000).usd, 3.5 + 7, 1e-12);
    // The defaults not named stay.
    EXPECT_EQ(table.find("gpt-4o-mini")->input_per_mtok_usd,
              PriceTable::defaults().at("gpt-4o-mini").input_per_mtok_usd);
}

TEST(PriceTable, ABadFileIsRefusedNamingFileModelAndFieldAndChangesNothing) {
    TempDir dir;
    const auto file = dir.path() / "prices.json";
    const std::string path = file.string();
    PriceTable table;
    const double before = table.find("gpt-4o")->input_per_mtok_usd;
    struct Case {
        std::string text;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {"{\"models\": ", path + ": -: not valid JSON"},
        {"[1, 2]", path + ": -: expected an object"},
        {"{}", path + ": models: required"},
        {"{\"model\": {}}", path + ": model: unknown key"},
        {"{\"models\": [1]}", path + ": models: expected an object"},
        {R"({"models": {"gpt-4o": 3}})", path + ": models.gpt-4o: expected {"},
        {R"({"models": {"gpt-4o": {"input_per_mtok_usd": 1, "output_per_mtok_usd": 2}, "acme": {"input_per_mtok_usd": 1}}})",
         path + ": models.acme.output_per_mtok_usd: required"},
        {R"({"models": {"acme": {"input_per_mtok_usd": "1", "output_per_mtok_usd": 2}}})",
         path + ": models.acme.input_per_mtok_usd: expected a number"},
        {R"({"models": {"acme": {"input_per_mtok_usd": 1, "output_per_mtok_usd": -2}}})",
         path + ": models.acme.output_per_mtok_usd: must be 0 or more"},
        {R"({"models": {"acme": {"input_per_mtok_usd": 1, "output_per_mtok_usd": 2, "cached_usd": 1}}})",
         path + ": models.acme.cached_usd: unknown key"},
    };
    for (const auto& c : cases) {
        write(file, c.text);
        auto loaded = table.load(path);
        ASSERT_FALSE(loaded.ok()) << c.text;
        EXPECT_TRUE(contains(loaded.error().message, c.expected))
            << loaded.error().message << "\nexpected: " << c.expected;
        EXPECT_EQ(table.find("gpt-4o")->input_per_mtok_usd, before) << c.text;  // all or nothing
        EXPECT_FALSE(table.find("acme")) << c.text;
    }
    auto missing = table.load((dir.path() / "nope.json").string());
    ASSERT_FALSE(missing.ok());
    EXPECT_TRUE(contains(missing.error().message, "nope.json")) << missing.error().message;
}

TEST(PriceTable, TheProcessTableLoadsTheFileNamedAtStartOrByTheEnvironment) {
    TempDir dir;
    write(dir.path() / "given.json",
          R"({"models": {"given-model": {"input_per_mtok_usd": 1, "output_per_mtok_usd": 1}}})");
    write(dir.path() / "env.json",
          R"({"models": {"env-model": {"input_per_mtok_usd": 2, "output_per_mtok_usd": 2}}})");
    write(dir.path() / "bad.json", R"({"models": {"bad-model": {}}})");
    ASSERT_TRUE(configure_prices((dir.path() / "given.json").string()).ok());
    EXPECT_TRUE(prices().find("given-model"));

    ::setenv("TEZGAH_PRICES", (dir.path() / "env.json").c_str(), 1);
    ASSERT_TRUE(configure_prices("").ok());
    EXPECT_EQ(prices().find("env-model")->input_per_mtok_usd, 2);

    ::setenv("TEZGAH_PRICES", (dir.path() / "bad.json").c_str(), 1);
    auto bad = configure_prices("");
    ::unsetenv("TEZGAH_PRICES");
    ASSERT_FALSE(bad.ok());
    EXPECT_TRUE(contains(bad.error().message, "bad.json: models.bad-model.input_per_mtok_usd: required"))
        << bad.error().message;
    EXPECT_TRUE(configure_prices("").ok());  // neither given: nothing to do
}

// ---------------------------------------------------------------- periods

TEST(Periods, DaysAndMonthsFollowTheTenantsWallClock) {
    const auto late_evening_utc = utc(2024, 6, 30, 22, 30);  // 01:30 on 1 July in Istanbul (UTC+3)
    auto [day_from, day_to] = period_bounds(Period::day, late_evening_utc, "Europe/Istanbul");
    EXPECT_EQ(day_from, utc(2024, 6, 30, 21));
    EXPECT_EQ(day_to, utc(2024, 7, 1, 21));
    auto [month_from, month_to] = period_bounds(Period::month, late_evening_utc, "Europe/Istanbul");
    EXPECT_EQ(month_from, utc(2024, 6, 30, 21));
    EXPECT_EQ(month_to, utc(2024, 7, 31, 21));

    auto [utc_day_from, utc_day_to] = period_bounds(Period::day, late_evening_utc, "UTC");
    EXPECT_EQ(utc_day_from, utc(2024, 6, 30));
    EXPECT_EQ(utc_day_to, utc(2024, 7, 1));
    auto [utc_month_from, utc_month_to] = period_bounds(Period::month, late_evening_utc, "UTC");
    EXPECT_EQ(utc_month_from, utc(2024, 6, 1));
    EXPECT_EQ(utc_month_to, utc(2024, 7, 1));

    // Unknown zone: UTC. A day with a clock change has 23 hours.
    EXPECT_EQ(period_bounds(Period::day, late_evening_utc, "No/Such_Zone").first, utc(2024, 6, 30));
    auto [dst_from, dst_to] = period_bounds(Period::day, utc(2024, 3, 10, 12), "America/New_York");
    EXPECT_EQ(dst_from, utc(2024, 3, 10, 5));
    EXPECT_EQ(dst_to, utc(2024, 3, 11, 4));
    // December rolls into the next year.
    EXPECT_EQ(period_bounds(Period::month, utc(2024, 12, 15), "UTC").second, utc(2025, 1, 1));
}

// ---------------------------------------------------------------- the spend tracker

/// A database stand-in that answers sums of the rows it was given and counts questions.
struct ScriptedSpend {
    struct Row {
        std::string tenant;
        TimePoint at;
        double usd;
    };
    std::vector<Row> rows;
    std::atomic<int> questions{0};
    bool failing = false;

    sdk::Result<double> spent_usd(const std::string& tenant, TimePoint from, TimePoint to) {
        ++questions;
        if (failing) return sdk::make_error("store_error", "database is away");
        double sum = 0;
        for (const auto& r : rows)
            if (r.tenant == tenant && r.at >= from && r.at < to) sum += r.usd;
        return sum;
    }
};

TEST(SpendTracker, SeedsOnceThenCountsWhatIsAdded) {
    ScriptedSpend db;
    db.rows = {{"gece-butik", utc(2024, 6, 10, 8), 0.25},
               {"gece-butik", utc(2024, 6, 9, 8), 1.0},  // yesterday
               {"nefes-studyo", utc(2024, 6, 10, 8), 5.0}};
    SpendTracker tracker(db);
    const auto now = utc(2024, 6, 10, 12);
    EXPECT_DOUBLE_EQ(tracker.spent("gece-butik", Period::day, now, "UTC"), 0.25);
    EXPECT_DOUBLE_EQ(tracker.spent("gece-butik", Period::month, now, "UTC"), 1.25);
    EXPECT_EQ(db.questions.load(), 2);

    tracker.add("gece-butik", 0.5, now);
    tracker.add("gece-butik", 0.125, now + minutes(1));
    EXPECT_DOUBLE_EQ(tracker.spent("gece-butik", Period::day, now + minutes(2), "UTC"), 0.875);
    EXPECT_DOUBLE_EQ(tracker.spent("gece-butik", Period::month, now + minutes(2), "UTC"), 1.875);
    EXPECT_EQ(db.questions.load(), 2) << "no query once seeded";
    // Another tenant has its own.
    EXPECT_DOUBLE_EQ(tracker.spent("nefes-studyo", Period::day, now, "UTC"), 5.0);
}

TEST(SpendTracker, ANewDayAsksTheDatabaseAgain) {
    ScriptedSpend db;
    SpendTracker tracker(db);
    const auto evening = utc(2024, 6, 10, 20, 30);  // 23:30 in Istanbul
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, evening, "Europe/Istanbul"), 0);
    tracker.add("t", 2.0, evening);
    db.rows.push_back({"t", evening, 2.0});
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, evening + minutes(10), "Europe/Istanbul"), 2.0);
    const int asked = db.questions.load();

    // 21:00 UTC is midnight in Istanbul: a new day there, still the same day in UTC.
    const auto after_midnight = utc(2024, 6, 10, 21, 5);
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, after_midnight, "Europe/Istanbul"), 0);
    EXPECT_EQ(db.questions.load(), asked + 1);
    tracker.add("t", 0.5, after_midnight);
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, after_midnight, "Europe/Istanbul"), 0.5);
    // A late add for the day before does not count in the new day.
    tracker.add("t", 9.0, evening);
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, after_midnight, "Europe/Istanbul"), 0.5);

    // In UTC the same moments are one day.
    SpendTracker in_utc(db);
    EXPECT_DOUBLE_EQ(in_utc.spent("t", Period::day, after_midnight, "UTC"), 2.0);
}

TEST(SpendTracker, AFailedSeedCountsThisProcessAndAsksAgainNextTime) {
    ScriptedSpend db;
    db.rows = {{"t", utc(2024, 6, 10, 1), 3.0}};
    db.failing = true;
    SpendTracker tracker(db);
    const auto now = utc(2024, 6, 10, 12);
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, now, "UTC"), 0);
    tracker.add("t", 0.5, now);
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, now, "UTC"), 0.5);
    db.failing = false;
    db.rows.push_back({"t", now, 0.5});
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, now, "UTC"), 3.5);
    const int asked = db.questions.load();
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, now, "UTC"), 3.5);
    EXPECT_EQ(db.questions.load(), asked);
}

TEST(SpendTracker, ChecksTheMonthThenTheDay) {
    ScriptedSpend db;
    const auto now = utc(2024, 6, 10, 12);
    db.rows = {{"t", utc(2024, 6, 2), 8.0}, {"t", utc(2024, 6, 10, 9), 1.5}};
    SpendTracker tracker(db);

    EXPECT_TRUE(tracker.check(Budget{}, "t", now, "UTC").allowed);
    EXPECT_TRUE(tracker.check(Budget{2.0, 20.0}, "t", now, "UTC").allowed);

    auto day = tracker.check(Budget{1.5, 20.0}, "t", now, "UTC");
    EXPECT_FALSE(day.allowed);
    EXPECT_EQ(day.period, "day");
    EXPECT_DOUBLE_EQ(day.limit_usd, 1.5);
    EXPECT_DOUBLE_EQ(day.spent_usd, 1.5);

    auto month = tracker.check(Budget{1.0, 9.0, Budget::OnExceed::refuse}, "t", now, "UTC");
    EXPECT_FALSE(month.allowed);
    EXPECT_EQ(month.period, "month");
    EXPECT_DOUBLE_EQ(month.limit_usd, 9.0);
    EXPECT_DOUBLE_EQ(month.spent_usd, 9.5);

    // A limit of 0 means no paid calls at all.
    EXPECT_FALSE(tracker.check(Budget{0.0, std::nullopt}, "fresh", now, "UTC").allowed);
    // Spending up to the limit is allowed until it is reached.
    tracker.add("t", 0.25, now);
    EXPECT_TRUE(tracker.check(Budget{2.0, std::nullopt}, "t", now, "UTC").allowed);
    tracker.add("t", 0.25, now);
    EXPECT_FALSE(tracker.check(Budget{2.0, std::nullopt}, "t", now, "UTC").allowed);
}

TEST(SpendTracker, CountsEveryAddFromManyThreads) {
    ScriptedSpend db;
    SpendTracker tracker(db);
    const auto now = utc(2024, 6, 10, 12);
    ASSERT_DOUBLE_EQ(tracker.spent("t", Period::month, now, "Europe/Istanbul"), 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 1000; ++k) {
                tracker.add("t", 0.25, now);
                (void)tracker.spent("t", Period::day, now, "Europe/Istanbul");
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::month, now, "Europe/Istanbul"), 2000.0);
}

TEST(SpendTracker, ForgettingATenantAsksAgain) {
    ScriptedSpend db;
    SpendTracker tracker(db);
    const auto now = utc(2024, 6, 10, 12);
    tracker.spent("t", Period::day, now, "UTC");
    db.rows.push_back({"t", now, 1.0});  // stored by another process
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, now, "UTC"), 0);
    tracker.forget("t");
    EXPECT_DOUBLE_EQ(tracker.spent("t", Period::day, now, "UTC"), 1.0);
}

}  // namespace
}  // namespace tezgah::engine
