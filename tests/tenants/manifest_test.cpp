#include "tenants/manifest.hpp"
#include "plugins/registry.hpp"

#include "support/temp_tenants.hpp"
#include "tenants/check_problems.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

using namespace tezgah::engine;
using namespace tezgah::testing;

namespace {

class ManifestTest : public ::testing::Test {
protected:
    void SetUp() override {
        registry.load_directories({plugin_dir()});
        copy_fixtures(dir.path());
    }

    std::vector<std::string> problems_of(const std::string& tenant) {
        return check_problems(dir.path() / tenant, registry);
    }

    static bool has(const std::vector<std::string>& problems, const std::string& needle) {
        return has_problem(problems, needle);
    }
    static std::string all(const std::vector<std::string>& problems) { return problem_lines(problems); }

    TempDir dir;
    PluginRegistry registry;
};

TEST_F(ManifestTest, TheFixturesAreValid) {
    for (const char* tenant : {"gece-butik", "nefes-studyo"}) {
        auto problems = problems_of(tenant);
        EXPECT_TRUE(problems.empty()) << all(problems);
        auto loaded = load_manifest(dir.path() / tenant, &registry);
        ASSERT_TRUE(loaded.manifest);
        EXPECT_EQ(loaded.manifest->profile.id, tenant);
    }
    auto m = *load_manifest(dir.path() / "gece-butik", &registry).manifest;
    EXPECT_EQ(m.profile.hours.at("sun"), "closed");
    EXPECT_EQ(m.profile.info.size(), 3u);
    EXPECT_EQ(m.profile.info[0].first, "iade");
    EXPECT_EQ(m.tools.size(), 2u);
    std::vector<tezgah::engine::Problem> problems;
    auto data = load_data(m, problems);
    EXPECT_EQ(data.offerings.size(), 27u);
}

TEST_F(ManifestTest, EveryProblemIsNamedWithPathFieldAndMessage) {
    auto file = dir.path() / "gece-butik" / "tenant.json";
    edit_json(file, [](json::value& v) {
        auto& o = v.as_object();
        o["colour"] = "blue";                                  // unknown top-level key
        o["plan"] = "gold";                                    // not an allowed plan
        o["locale"].as_object()["timezone"] = "Mars/Olympus";  // unknown zone
        o["business"].as_object()["hours"].as_object()["mon"] = "20:00-10:00";
        o["business"].as_object()["hours"].as_object()["fun"] = "10:00-11:00";
        o["handoff"].as_object()["confidence_threshold"] = 1.5;
        o["tools"].as_array().push_back("weather");  // no such plugin
        o["channels"].as_object()["webhook"] = json::object{{"colour", 1}};
        o["llm"].as_object()["provider"] = "nonexistent";
    });
    auto problems = problems_of("gece-butik");
    const std::string f = file.string() + ": ";
    EXPECT_TRUE(has(problems, f + "colour: unknown key")) << all(problems);
    EXPECT_TRUE(has(problems, f + "plan: \"gold\" is not one of")) << all(problems);
    EXPECT_TRUE(has(problems, f + "locale.timezone: \"Mars/Olympus\" is not a known time zone"))
        << all(problems);
    EXPECT_TRUE(has(problems, f + "business.hours.mon: expected \"HH:MM-HH:MM\"")) << all(problems);
    EXPECT_TRUE(has(problems, f + "business.hours.fun: unknown day")) << all(problems);
    EXPECT_TRUE(has(problems, f + "handoff.confidence_threshold: must be between 0 and 1")) << all(problems);
    EXPECT_TRUE(has(problems, f + "tools[2]: unknown tool plugin \"weather\"")) << all(problems);
    EXPECT_TRUE(has(problems, f + "channels.webhook.colour: unknown key")) << all(problems);
    EXPECT_TRUE(has(problems, f + "llm: unknown llm plugin \"nonexistent\"")) << all(problems);
}

TEST_F(ManifestTest, IdMustMatchTheFolderAndThePattern) {
    auto file = dir.path() / "nefes-studyo" / "tenant.json";
    edit_json(file, [](json::value& v) { v.as_object()["id"] = "Nefes_Studyo"; });
    EXPECT_TRUE(has(problems_of("nefes-studyo"), "id: \"Nefes_Studyo\" must match [a-z0-9-]{2,63}"));
    edit_json(file, [](json::value& v) { v.as_object()["id"] = "gece-butik"; });
    EXPECT_TRUE(
        has(problems_of("nefes-studyo"), "id: \"gece-butik\" must equal the folder name \"nefes-studyo\""));
}

TEST_F(ManifestTest, MalformedAndTruncatedJsonNameTheLine) {
    auto file = dir.path() / "gece-butik" / "tenant.json";
    auto text = slurp(file);
    write(file, text.substr(0, text.size() / 2));
    auto problems = problems_of("gece-butik");
    ASSERT_EQ(problems.size(), 1u) << all(problems);
    EXPECT_NE(problems[0].find(file.string() + ": -: truncated JSON at line"), std::string::npos)
        << problems[0];
    write(file, "{\"id\": \"gece-butik\",\n  \"name\": oops}");
    problems = problems_of("gece-butik");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("malformed JSON at line 2"), std::string::npos) << problems[0];
}

TEST_F(ManifestTest, SecretsComeFromTheTenantsOwnEnvironmentVariables) {
    auto file = dir.path() / "gece-butik" / "tenant.json";
    edit_json(file, [](json::value& v) {
        v.as_object()["persona"].as_object()["name"] = "${TEZGAH_GECE_BUTIK__PERSONA}";
    });
    ::unsetenv("TEZGAH_GECE_BUTIK__PERSONA");
    EXPECT_TRUE(has(problems_of("gece-butik"),
                    "persona.name: environment variable TEZGAH_GECE_BUTIK__PERSONA is not set"));
    ::setenv("TEZGAH_GECE_BUTIK__PERSONA", "Ayla", 1);
    EXPECT_TRUE(problems_of("gece-butik").empty());
    auto loaded = load_manifest(dir.path() / "gece-butik", &registry);
    EXPECT_EQ(loaded.manifest->profile.persona.name, "Ayla");
    ::unsetenv("TEZGAH_GECE_BUTIK__PERSONA");
}

TEST_F(ManifestTest, DataFileProblemsNameTheRecordAndField) {
    auto offerings = dir.path() / "gece-butik" / "data" / "offerings.json";
    edit_json(offerings, [](json::value& v) {
        auto& a = v.as_array();
        a[3].as_object()["price"] = "cheap";
        a[5].as_object()["id"] = a[0].as_object()["id"];
        a[7].as_object()["type"] = "THING";
    });
    auto knowledge = dir.path() / "gece-butik" / "data" / "knowledge.json";
    write(knowledge, "[{\"id\": \"x\"}");
    auto problems = problems_of("gece-butik");
    EXPECT_TRUE(has(problems, offerings.string() + ": [3].price: expected number")) << all(problems);
    EXPECT_TRUE(has(problems, offerings.string() + ": [5].id: duplicate id \"saten-gecelik-siyah\""))
        << all(problems);
    EXPECT_TRUE(has(problems, offerings.string() + ": [7].type: expected PRODUCT or SERVICE"))
        << all(problems);
    EXPECT_TRUE(has(problems, knowledge.string() + ": -: truncated JSON")) << all(problems);
}

TEST_F(ManifestTest, MissingDataFilesAndScriptsAreNamed) {
    std::filesystem::remove(dir.path() / "nefes-studyo" / "data" / "resources.json");
    auto file = dir.path() / "nefes-studyo" / "tenant.json";
    edit_json(file, [](json::value& v) {
        v.as_object()["rules"] = json::array{"rules/missing.lua", "../../etc/passwd.lua"};
    });
    auto problems = problems_of("nefes-studyo");
    EXPECT_TRUE(has(problems, file.string() + ": data.resources: cannot read \"data/resources.json\""))
        << all(problems);
    EXPECT_TRUE(has(problems, file.string() + ": rules[0]: script \"rules/missing.lua\" not found"))
        << all(problems);
    EXPECT_TRUE(
        has(problems,
            file.string() + ": rules[1]: \"../../etc/passwd.lua\" must be a path inside the tenant folder"))
        << all(problems);
}

TEST_F(ManifestTest, BrokenLuaIsReportedByCheck) {
    auto folder = dir.path() / "gece-butik";
    write(folder / "rules" / "broken.lua",
          "return tezgah.rule { name = 'x', on_message = function(ctx, msg) if then end }\n");
    edit_json(folder / "tenant.json",
              [](json::value& v) { v.as_object()["rules"] = json::array{"rules/broken.lua"}; });
    auto problems = problems_of("gece-butik");
    EXPECT_TRUE(has(problems, (folder / "rules" / "broken.lua").string())) << all(problems);
}

TEST_F(ManifestTest, TheLuaBlockSetsTheWallClockWithinTheServersCeiling) {
    auto file = dir.path() / "gece-butik" / "tenant.json";
    auto loaded = load_manifest(dir.path() / "gece-butik", &registry);
    ASSERT_TRUE(loaded.manifest);
    EXPECT_FALSE(loaded.manifest->lua_max_ms);
    lua::ServerLimits server;  // 100 ms unless asked, at most 1000
    EXPECT_EQ(lua_limits(*loaded.manifest, server).wall_per_call, std::chrono::milliseconds(100));

    edit_json(file, [](json::value& v) { v.as_object()["lua"] = json::object{{"max_ms", 250}}; });
    loaded = load_manifest(dir.path() / "gece-butik", &registry);
    ASSERT_TRUE(loaded.problems.empty()) << loaded.problems.front().str();
    EXPECT_EQ(loaded.manifest->lua_max_ms, 250);
    EXPECT_EQ(lua_limits(*loaded.manifest, server).wall_per_call, std::chrono::milliseconds(250));
    server.max_ms = 200;  // tezgah serve --lua-max-ms 200
    EXPECT_EQ(lua_limits(*loaded.manifest, server).wall_per_call, std::chrono::milliseconds(200));

    edit_json(file, [](json::value& v) {
        v.as_object()["lua"] = json::object{{"max_ms", 0}, {"budget", 5}};
    });
    auto problems = problems_of("gece-butik");
    const std::string f = file.string() + ": ";
    EXPECT_TRUE(has(problems, f + "lua.max_ms: must be between 1 and 60000")) << all(problems);
    EXPECT_TRUE(has(problems, f + "lua.budget: unknown key (expected one of: max_ms)")) << all(problems);
}

TEST_F(ManifestTest, AScriptWhoseTopLevelRunsOutOfBudgetIsAProblemNamingTheFile) {
    auto folder = dir.path() / "gece-butik";
    write(folder / "rules" / "slow.lua",
          "local s = string.rep('a', 4 * 1024 * 1024)\nwhile true do local _ = s:upper() end\n"
          "return tezgah.rule { name = 'x', on_reply = function(ctx, r) return r end }\n");
    edit_json(folder / "tenant.json",
              [](json::value& v) { v.as_object()["rules"] = json::array{"rules/slow.lua"}; });
    const auto started = std::chrono::steady_clock::now();
    auto problems = problems_of("gece-butik");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    const auto script = (folder / "rules" / "slow.lua").string();
    // Lua shortens a long path in the position ("...gece-butik/rules/slow.lua:2:"); the problem's
    // path is the whole one.
    ASSERT_EQ(problems.size(), 1u) << all(problems);
    EXPECT_EQ(problems[0].rfind(script + ": script: ", 0), 0u) << problems[0];
    // The CPU budget, or on a busy machine the wall-clock limit of one call, whichever ends it first.
    EXPECT_TRUE(problems[0].find("/rules/slow.lua:2: CPU budget exhausted") != std::string::npos ||
                problems[0].find("/rules/slow.lua:2: wall-clock limit exceeded") != std::string::npos)
        << problems[0];
}

TEST_F(ManifestTest, DiscoverFindsEveryTenantFolderOrASingleOne) {
    auto found = discover_tenants(dir.path());
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].filename(), "gece-butik");
    auto single = discover_tenants(dir.path() / "nefes-studyo");
    ASSERT_EQ(single.size(), 1u);
}

}  // namespace

namespace {

TEST_F(ManifestTest, TheEnginesLlmSettingsAreReadAndChecked) {
    auto file = dir.path() / "gece-butik" / "tenant.json";
    edit_json(file, [](json::value& v) {
        auto& llm = v.as_object()["llm"].as_object();
        llm["deadline_ms"] = 8000;
        llm["budget"] = json::object{{"daily_usd", 2.5},
                                     {"monthly_usd", 40},
                                     {"on_exceed", "refuse"},
                                     {"message", "Bugünlük bu kadar."}};
        llm["cache"] = json::object{{"ttl_s", 120}, {"negative_ttl_s", 5}};
        v.as_object()["handoff"].as_object()["low_confidence_turns"] = 2;
    });
    auto loaded = load_manifest(dir.path() / "gece-butik", &registry);
    ASSERT_TRUE(loaded.problems.empty()) << loaded.problems.front().str();
    const auto& m = *loaded.manifest;
    EXPECT_EQ(m.llm_policy.deadline_ms, 8000);
    EXPECT_EQ(m.llm_policy.daily_usd, 2.5);
    EXPECT_EQ(m.llm_policy.monthly_usd, 40.0);
    EXPECT_TRUE(m.llm_policy.refuse_on_exceed);
    EXPECT_EQ(m.llm_policy.refuse_message, "Bugünlük bu kadar.");
    EXPECT_EQ(m.llm_policy.cache_ttl_s, 120);
    EXPECT_EQ(m.llm_policy.cache_negative_ttl_s, 5);
    EXPECT_EQ(m.handoff_low_confidence_turns, 2);
    // The engine's settings are not handed to the provider plugin as its config.
    EXPECT_FALSE(m.llm.config.contains("deadline_ms"));
    EXPECT_FALSE(m.llm.config.contains("budget"));
}

TEST_F(ManifestTest, BadLlmSettingsNameTheField) {
    auto file = dir.path() / "gece-butik" / "tenant.json";
    edit_json(file, [](json::value& v) {
        auto& llm = v.as_object()["llm"].as_object();
        llm["deadline_ms"] = 50;
        llm["budget"] = json::object{
            {"daily_usd", -1}, {"monthly_usd", "lots"}, {"on_exceed", "panic"}, {"weekly_usd", 1}};
        llm["cache"] = json::object{{"ttl_s", "long"}};
        llm["fallback"] = json::array{json::object{{"provider", "local"}, {"deadline_ms", 1000}}};
        v.as_object()["handoff"].as_object()["low_confidence_turns"] = 500;
    });
    auto problems = problems_of("gece-butik");
    const std::string f = file.string() + ": ";
    EXPECT_TRUE(has(problems, f + "llm.deadline_ms: must be between 1000 and 300000")) << all(problems);
    EXPECT_TRUE(has(problems, f + "llm.budget.daily_usd: must not be negative")) << all(problems);
    EXPECT_TRUE(has(problems, f + "llm.budget.monthly_usd: expected number")) << all(problems);
    EXPECT_TRUE(has(problems, f + "llm.budget.on_exceed: \"panic\"")) << all(problems);
    EXPECT_TRUE(has(problems, f + "llm.budget.weekly_usd: unknown key")) << all(problems);
    EXPECT_TRUE(has(problems, f + "llm.cache.ttl_s: expected integer")) << all(problems);
    EXPECT_TRUE(has(problems, f + "llm.fallback[0].deadline_ms: set on \"llm\" itself")) << all(problems);
    EXPECT_TRUE(has(problems, f + "handoff.low_confidence_turns: must be between 0 and 100"))
        << all(problems);
}

}  // namespace
