// The plans file (ops/plans.hpp): what it accepts, and errors that name the file and the field.
#include "ops/plans.hpp"

#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>

namespace tezgah::testing {
namespace {

using engine::Limit;
using engine::parse_plans;

TEST(PlansFile, ReadsEveryFigureAndLeavesMissingOnesUnlimited) {
    auto plans = parse_plans(R"({"plans": {
        "free": {"messages_per_minute": 30, "customer_messages_per_minute": 6,
                 "llm_tokens_per_day": 50000, "turns_in_flight": 4},
        "basic": {"messages_per_minute": 120, "llm_tokens_per_day": null},
        "enterprise": {}}})",
                             "plans.json");
    ASSERT_TRUE(plans) << plans.error().message;
    const auto* free = plans->find("free");
    ASSERT_NE(free, nullptr);
    EXPECT_EQ(free->figure(Limit::messages_per_minute), 30);
    EXPECT_EQ(free->figure(Limit::customer_messages_per_minute), 6);
    EXPECT_EQ(free->figure(Limit::llm_tokens_per_day), 50000);
    EXPECT_EQ(free->figure(Limit::turns_in_flight), 4);
    const auto* basic = plans->find("basic");
    ASSERT_NE(basic, nullptr);
    EXPECT_EQ(basic->figure(Limit::messages_per_minute), 120);
    EXPECT_FALSE(basic->figure(Limit::llm_tokens_per_day));  // null: unlimited
    EXPECT_FALSE(basic->figure(Limit::turns_in_flight));     // left out: unlimited
    EXPECT_NE(plans->find("enterprise"), nullptr);
    EXPECT_EQ(plans->find("premium"), nullptr);  // a plan left out: unlimited
    EXPECT_TRUE(plans->configured());
}

struct BrokenPlans {
    const char* text;
    const char* message;
};

class PlansFileErrors : public ::testing::TestWithParam<BrokenPlans> {};

TEST_P(PlansFileErrors, NameTheFileAndTheField) {
    auto plans = parse_plans(GetParam().text, "plans.json");
    ASSERT_FALSE(plans);
    EXPECT_EQ(plans.error().code, "invalid_value");
    EXPECT_EQ(plans.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    EachMistake, PlansFileErrors,
    ::testing::Values(
        BrokenPlans{R"({"plans": {"basic": {"messages_per_minute": 0}}})",
                    "plans.json: plans.basic.messages_per_minute: must be a positive integer"},
        BrokenPlans{R"({"plans": {"basic": {"messages_per_minute": -5}}})",
                    "plans.json: plans.basic.messages_per_minute: must be a positive integer"},
        BrokenPlans{R"({"plans": {"free": {"llm_tokens_per_day": 1.5}}})",
                    "plans.json: plans.free.llm_tokens_per_day: must be a positive integer"},
        BrokenPlans{R"({"plans": {"free": {"turns_in_flight": "4"}}})",
                    "plans.json: plans.free.turns_in_flight: must be a positive integer"},
        BrokenPlans{
            R"({"plans": {"gold": {}}})",
            "plans.json: plans.gold: unknown plan (expected one of: free, basic, premium, enterprise)"},
        BrokenPlans{
            R"({"plans": {"free": {"messages_a_minute": 3}}})",
            "plans.json: plans.free.messages_a_minute: unknown field (expected one of: "
            "messages_per_minute, customer_messages_per_minute, llm_tokens_per_day, turns_in_flight)"},
        BrokenPlans{R"({"plans": {"free": 30}})",
                    "plans.json: plans.free: expected an object of figures (messages_per_minute, "
                    "customer_messages_per_minute, llm_tokens_per_day, turns_in_flight)"},
        BrokenPlans{R"({"plan": {}})",
                    "plans.json: plan: unknown field (expected \"plans\")\n"
                    "plans.json: plans: required"},
        BrokenPlans{R"([1, 2])", "plans.json: -: expected an object with \"plans\""},
        BrokenPlans{R"({"plans": )", "plans.json: -: not valid JSON: incomplete JSON"}));

TEST(PlansFile, ReportsEveryProblemOneALine) {
    auto plans =
        parse_plans(R"({"plans": {"free": {"messages_per_minute": 0, "turns_in_flight": 0}}})", "plans.json");
    ASSERT_FALSE(plans);
    EXPECT_EQ(plans.error().message,
              "plans.json: plans.free.messages_per_minute: must be a positive integer\n"
              "plans.json: plans.free.turns_in_flight: must be a positive integer");
}

TEST(PlansFile, AFileThatCannotBeReadIsNamed) {
    TempDir dir;
    auto plans = engine::load_plans(dir.path() / "missing.json");
    ASSERT_FALSE(plans);
    EXPECT_EQ(plans.error().message, (dir.path() / "missing.json").string() + ": -: cannot read the file");
}

}  // namespace
}  // namespace tezgah::testing
