// The offline assistant calling the tenants' own Lua tools, end to end: the conversations of
// plugins/llm-local/tests/cases_tools.json and cases_tools2.json (the assistant's dev cases for
// tenant tools) run
// through a real engine with the shipped tenants (tenants/lezzet-firini's cake_order_quote,
// tenants/makas-kuafor's price_estimate), their Lua tools and rules, at each case's fixed moment.
// A turn checks the reply's text and language, and which tools it called: `tool` must have been
// called and have succeeded, `no_tool` must not have been called.
#include "support/engine_fixture.hpp"
#include "tenants/tenant.hpp"

#include <tezgah/sdk/text.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace tezgah::testing {
namespace {

const fs::path kCaseDir = fs::path(TEZGAH_SOURCE_DIR) / "plugins" / "llm-local" / "tests";

struct Case {
    std::string name;
    json::object spec;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> load_cases() {
    std::vector<Case> out;
    for (const char* file : {"cases_tools.json", "cases_tools2.json"}) {
        const json::value doc = json::parse(slurp(kCaseDir / file));
        for (const auto& c : doc.as_array())
            out.push_back({std::string(c.at("name").as_string()), c.as_object()});
    }
    return out;
}

/// "2026-12-02T07:00:00Z"
std::chrono::system_clock::time_point utc(const std::string& s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    EXPECT_EQ(std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &sec), 6) << s;
    const std::chrono::year_month_day date{std::chrono::year{y},
                                           std::chrono::month{static_cast<unsigned>(mo)},
                                           std::chrono::day{static_cast<unsigned>(d)}};
    return std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(sec);
}

std::vector<std::string> strings(const json::object& o, std::string_view key) {
    std::vector<std::string> out;
    if (const auto* v = o.if_contains(key))
        for (const auto& s : v->as_array()) out.emplace_back(s.as_string());
    return out;
}

std::string string_or(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v ? std::string(v->as_string()) : std::string();
}

class TenantTools : public EngineFixture, public ::testing::WithParamInterface<Case> {
protected:
    /// The shipped tenants, with their Lua tools and rules, beside the fixture tenants.
    void SetUp() override {
        EngineFixture::SetUp();
        for (const auto& entry : fs::directory_iterator(fs::path(TEZGAH_SOURCE_DIR) / "tenants"))
            if (entry.is_directory())
                fs::copy(entry.path(), dir.path() / "tenants" / entry.path().filename(),
                         fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    }
};

TEST_P(TenantTools, Conversation) {
    const auto& spec = GetParam().spec;
    // "pending": a case written before the assistant handles it, with what is missing.
    if (const auto* pending = spec.if_contains("pending")) GTEST_SKIP() << pending->as_string();
    const std::string tenant(spec.at("tenant").as_string());
    clock.set(utc(std::string(spec.at("time").as_string())));
    auto engine = start();
    ASSERT_TRUE(engine);
    for (const auto& turn_value : spec.at("turns").as_array()) {
        const auto& turn = turn_value.as_object();
        const std::string user_text(turn.at("user").as_string());
        const auto reply = ask(*engine, tenant, "customer", user_text);
        const std::string folded = sdk::text::fold(reply.reply);
        for (const auto& want : strings(turn, "contains"))
            EXPECT_NE(folded.find(sdk::text::fold(want)), std::string::npos)
                << user_text << " → " << reply.reply << "\n  missing: " << want;
        for (const auto& unwanted : strings(turn, "not_contains"))
            EXPECT_EQ(folded.find(sdk::text::fold(unwanted)), std::string::npos)
                << user_text << " → " << reply.reply << "\n  should not say: " << unwanted;
        if (auto language = string_or(turn, "language"); !language.empty()) {
            EXPECT_EQ(reply.language, language) << user_text << " → " << reply.reply;
        }
        auto called = [&](const std::string& name) {
            return std::find_if(reply.tool_calls.begin(), reply.tool_calls.end(),
                                [&](const auto& c) { return c.name == name; });
        };
        if (auto tool = string_or(turn, "tool"); !tool.empty()) {
            auto it = called(tool);
            ASSERT_NE(it, reply.tool_calls.end())
                << user_text << " → " << reply.reply << "\n  did not call " << tool;
            EXPECT_TRUE(it->ok) << user_text << ": " << tool << " failed";
        }
        if (auto tool = string_or(turn, "no_tool"); !tool.empty()) {
            EXPECT_EQ(called(tool), reply.tool_calls.end())
                << user_text << " → " << reply.reply << "\n  should not call " << tool;
        }
        clock.advance(std::chrono::seconds(20));
    }
}

TEST_F(TenantTools, TheHostHandsProvidersTheLuaToolsExamples) {
    auto engine = start();
    ASSERT_TRUE(engine);
    auto bakery = engine->tenant("lezzet-firini");
    ASSERT_TRUE(bakery.ok());
    const auto& examples = (*bakery)->tool_examples();
    ASSERT_TRUE(examples.count("cake_order_quote"));
    EXPECT_GE(examples.at("cake_order_quote").size(), 2u);
    EXPECT_FALSE(examples.count("get_product_info"));  // a plugin's tool declares none
}

INSTANTIATE_TEST_SUITE_P(Cases, TenantTools, ::testing::ValuesIn(load_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tezgah::testing
