// The `tezgah` binary as users and scripts run it.
#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>

using namespace tezgah::testing;

namespace {

struct Run {
    int status = -1;
    std::string out;
};

/// Runs the binary; standard error is dropped, or with `with_errors` read along with standard output.
Run run(const std::string& args, const std::string& input = {}, bool with_errors = false) {
    TempDir tmp;
    auto in = tmp.path() / "stdin";
    write(in, input);
    std::string cmd = std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah " + args + " < " + in.string() +
                      (with_errors ? " 2>&1" : " 2>/dev/null");
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf{};
    while (auto n = std::fread(buf.data(), 1, buf.size(), p)) r.out.append(buf.data(), n);
    int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

/// Runs the binary with standard output and standard error kept apart, as `> out 2> err` does.
struct SplitRun {
    int status = -1;
    std::string out;
    std::string err;
};

SplitRun run_split(const std::string& args) {
    TempDir tmp;
    const auto out = tmp.path() / "out";
    const auto err = tmp.path() / "err";
    const std::string cmd = std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah " + args + " < /dev/null > " +
                            out.string() + " 2> " + err.string();
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

TEST(Cli, CheckAcceptsTheFixtures) {
    auto r = run_split("check " + fixtures_dir().string());
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("gece-butik: ok\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nefes-studyo: ok\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 tenant(s) checked, 0 problem(s)\n"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Cli, CheckWritesItsWholeReportToStandardOutput) {
    TempDir dir;
    copy_fixtures(dir.path());
    edit_json(dir.path() / "gece-butik" / "tenant.json",
              [](json::value& v) { v.as_object()["plan"] = "platinum"; });
    // `tezgah check DIR > report.txt`: the file holds the problems, each folder's line and the totals.
    auto r = run_split("check " + dir.path().string());
    EXPECT_EQ(r.status, 1);
    const std::string folder = (dir.path() / "gece-butik").string();
    EXPECT_NE(r.out.find(folder + "/tenant.json: plan: \"platinum\" is not one of"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(folder + ": 1 problem(s)\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find((dir.path() / "nefes-studyo").string() + ": ok\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 tenant(s) checked, 1 problem(s)\n"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Cli, CheckSaysOnStandardErrorWhenThereIsNothingToCheck) {
    TempDir dir;
    auto missing = run_split("check " + (dir.path() / "nope").string());
    EXPECT_EQ(missing.status, 1);
    EXPECT_TRUE(missing.out.empty()) << missing.out;
    EXPECT_EQ(missing.err, "tezgah check: " + (dir.path() / "nope").string() + ": not a folder\n");
    auto empty = run_split("check " + dir.path().string());
    EXPECT_EQ(empty.status, 1);
    EXPECT_TRUE(empty.out.empty()) << empty.out;
    EXPECT_NE(empty.err.find("tezgah check: " + dir.path().string() + ": no tenant folders"),
              std::string::npos)
        << empty.err;
}

TEST(Cli, CheckAcceptsTheShippedExampleTenants) {
    auto r = run("check " + std::string(TEZGAH_SOURCE_DIR) + "/tenants");
    EXPECT_EQ(r.status, 0) << r.out;
}

TEST(Cli, CheckNamesEveryProblemOfABrokenCopyAndExitsOne) {
    TempDir dir;
    copy_fixtures(dir.path());
    edit_json(dir.path() / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["plan"] = "platinum";
        v.as_object()["locale"].as_object()["currency"] = "lira";
    });
    write(dir.path() / "nefes-studyo" / "data" / "knowledge.json", "[{\"id\": 1}]");
    auto r = run("check " + dir.path().string());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("gece-butik/tenant.json: plan: \"platinum\" is not one of"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("gece-butik/tenant.json: locale.currency: \"lira\" is not an ISO 4217 code"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("nefes-studyo/data/knowledge.json: [0].id: expected string"), std::string::npos)
        << r.out;
}

TEST(Cli, CheckReportsAScriptThatRunsOutOfBudgetWhileLoading) {
    TempDir dir;
    copy_fixtures(dir.path());
    const auto folder = dir.path() / "gece-butik";
    write(folder / "rules" / "slow.lua",
          "local s = string.rep('a', 4 * 1024 * 1024)\nwhile true do local _ = s:upper() end\n"
          "return tezgah.rule { name = 'x', on_reply = function(ctx, r) return r end }\n");
    write(folder / "rules" / "spin.lua",
          "local z = string.rep('0', 1024 * 1024)\nwhile true do for _ = 1, z do end end\n"
          "return tezgah.rule { name = 'y', on_reply = function(ctx, r) return r end }\n");
    edit_json(folder / "tenant.json", [](json::value& v) {
        v.as_object()["rules"] = json::array{"rules/slow.lua", "rules/spin.lua"};
        v.as_object()["lua"] = json::object{{"max_ms", 5000}};  // above the ceiling: 300 ms apply
    });
    const auto started = std::chrono::steady_clock::now();
    auto r = run("check --lua-max-ms 300 " + dir.path().string());
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));  // it was 56 s
    EXPECT_EQ(r.status, 1) << r.out;
    const auto slow = (folder / "rules" / "slow.lua").string();
    const auto spin = (folder / "rules" / "spin.lua").string();
    // Each problem names the file; Lua shortens a long path in the position after it.
    EXPECT_TRUE(std::regex_search(
        r.out,
        std::regex(slow +
                   ": script: .*/rules/slow\\.lua:2: (CPU budget exhausted|wall-clock limit exceeded)")))
        << r.out;
    EXPECT_TRUE(std::regex_search(
        r.out,
        std::regex(spin + ": script: .*/rules/spin\\.lua:2: wall-clock limit exceeded \\(more than 300 ms")))
        << r.out;
    EXPECT_NE(r.out.find(folder.string() + ": 2 problem(s)"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(folder.string() + ": ok"), std::string::npos) << r.out;

    auto bad = run("check --lua-max-ms 0 " + dir.path().string(), {}, true);
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.out.find("tezgah check: --lua-max-ms 0: expected a whole number >= 1"), std::string::npos)
        << bad.out;
}

TEST(Cli, ChatInScriptedJsonModeAnswersEachLine) {
    TempDir dir;
    auto r = run("chat --tenant gece-butik --json --tenants " + fixtures_dir().string() +
                     " --db sqlite:" + (dir.path() / "t.db").string(),
                 "merhaba\nsaten gecelik ne kadar?\npeki bordo olanı?\n");
    EXPECT_EQ(r.status, 0);
    std::vector<json::object> replies;
    std::size_t start = 0;
    while (start < r.out.size()) {
        auto end = r.out.find('\n', start);
        auto line = r.out.substr(start, end - start);
        if (!line.empty()) replies.push_back(json::parse(line).as_object());
        if (end == std::string::npos) break;
        start = end + 1;
    }
    ASSERT_EQ(replies.size(), 3u) << r.out;
    for (const char* key : {"reply", "session_id", "conversation_id", "method", "confidence", "language",
                            "tool_calls", "handoff", "usage", "execution_time_ms"})
        EXPECT_TRUE(replies[1].contains(key)) << key;
    EXPECT_NE(std::string(replies[1].at("reply").as_string()).find("299,99"), std::string::npos) << r.out;
    EXPECT_EQ(replies[0].at("session_id"), replies[2].at("session_id"));
}

TEST(Cli, ChatCallsAShippedTenantsLuaToolOffline) {
    // The salon's price_estimate (tenants/makas-kuafor/tools/fiyat-tahmini.lua) through the
    // offline assistant: balayage's list price, 3500 TL, × 1.5 for long hair.
    TempDir dir;
    auto r = run("chat --tenant makas-kuafor --json --tenants " + std::string(TEZGAH_SOURCE_DIR) +
                     "/tenants --db sqlite:" + (dir.path() / "t.db").string(),
                 "uzun saça balyaj kaç para?\n");
    EXPECT_EQ(r.status, 0);
    const auto reply = json::parse(r.out).as_object();
    EXPECT_NE(std::string(reply.at("reply").as_string()).find("5250 TL"), std::string::npos) << r.out;
    const auto& calls = reply.at("tool_calls").as_array();
    ASSERT_EQ(calls.size(), 1u) << r.out;
    EXPECT_EQ(calls[0].at("name"), "price_estimate");
    EXPECT_EQ(calls[0].at("arguments").at("hair_length"), "uzun");
    EXPECT_EQ(calls[0].at("ok"), true);
}

TEST(Cli, ChatJsonWritesNumbersAsPeopleDo) {
    TempDir dir;
    auto r = run("chat --tenant gece-butik --json --tenants " + fixtures_dir().string() +
                     " --db sqlite:" + (dir.path() / "t.db").string(),
                 "kadife sabahlık ne kadar?\n");
    EXPECT_EQ(r.status, 0);
    // Boost.JSON alone writes 9E-1, 0E0 and 2.534673E0.
    EXPECT_NE(r.out.find(R"("confidence":0.9,)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(R"("cost_usd":0})"), std::string::npos) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"("execution_time_ms":[0-9]+(\.[0-9]{1,2})?\})")))
        << r.out;
    EXPECT_FALSE(std::regex_search(r.out, std::regex(R"(:-?[0-9][0-9.]*E)"))) << r.out;
}

TEST(Cli, ChatAnswersAtTheMomentClockSays) {
    TempDir dir;
    const std::string db = " --db sqlite:" + (dir.path() / "t.db").string();
    // Saturday 21:30 in Istanbul: the shop is closed on Sundays.
    auto saturday = run("chat --tenant gece-butik --json --clock 2026-12-05T21:30:00+03:00 --tenants " +
                            fixtures_dir().string() + db,
                        "yarın açık mısınız?\n");
    EXPECT_EQ(saturday.status, 0);
    EXPECT_NE(saturday.out.find("kapalı"), std::string::npos) << saturday.out;
    // Wednesday 11:00: Thursday's hours.
    auto wednesday = run("chat --tenant gece-butik --json --user w --clock 2026-12-02T08:00:00Z --tenants " +
                             fixtures_dir().string() + db,
                         "yarın açık mısınız?\n");
    EXPECT_NE(wednesday.out.find("10:00-20:00"), std::string::npos) << wednesday.out;

    auto bad = run("chat --tenant gece-butik --clock 2026-12-05 --tenants " + fixtures_dir().string() + db,
                   "hi\n", true);
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.out.find("--clock 2026-12-05: expected a date and time with its UTC offset"),
              std::string::npos)
        << bad.out;
}

TEST(Cli, ChatRefusesAnUnknownTenant) {
    TempDir dir;
    auto r = run("chat --tenant nope --tenants " + fixtures_dir().string() +
                     " --db sqlite:" + (dir.path() / "t.db").string(),
                 "hi\n");
    EXPECT_EQ(r.status, 1);
}

TEST(Cli, PluginsListsTheBuiltInPlugins) {
    auto r = run("plugins");
    EXPECT_EQ(r.status, 0);
    for (const char* name :
         {"local  kind=llm", "catalog  kind=tool", "knowledge  kind=tool", "webhook  kind=channel"})
        EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
}

TEST(Cli, PluginsShowCapabilitiesRangesAllowedValuesAndSecretsFromTheDeclaredKeys) {
    auto r = run("plugins");
    for (const char* line : {
             "    capabilities: offline, streams",
             "    config max_list_items (integer from 1 to 50, default 8): ",
             "    config api_key (string, secret, required): ",
             "    config tool_choice (string: auto, none, required, omit, default \"auto\"): ",
             "    config base_url (url, default \"https://api.openai.com/v1\"): ",
         })
        EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
    auto table = run("plugins catalog --markdown");
    EXPECT_EQ(table.status, 0);
    EXPECT_EQ(table.out.rfind("| key | type | default | description |\n", 0), 0u) << table.out;
    EXPECT_NE(table.out.find("| `max_results` | integer from 1 to 50 | `5` | "), std::string::npos)
        << table.out;
    EXPECT_EQ(run("plugins nosuchplugin --markdown", {}, true).status, 1);
}

TEST(Cli, CheckNamesTheKeyTheRangeAndWhatWasGivenForAPluginsConfig) {
    TempDir dir;
    copy_fixtures(dir.path());
    edit_json(dir.path() / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["llm"] = json::object{
            {"provider", "openai"}, {"model", "gpt-4o-mini"},     {"api_key", 4.25},
            {"timeout_ms", 0},      {"tool_choice", "sometimes"}, {"base_url", "ftp://example.com"}};
    });
    auto r = run("check " + dir.path().string());
    EXPECT_EQ(r.status, 1);
    for (const char* problem : {
             "gece-butik/tenant.json: llm.api_key: expected a string, got a number\n",
             "gece-butik/tenant.json: llm.timeout_ms: expected an integer from 1 to 600000, got 0\n",
             "gece-butik/tenant.json: llm.tool_choice: expected one of auto, none, required, omit, got "
             "\"sometimes\"\n",
             "gece-butik/tenant.json: llm.base_url: expected an http:// or https:// URL, got "
             "\"ftp://example.com\"\n",
         })
        EXPECT_NE(r.out.find(problem), std::string::npos) << problem << "\n" << r.out;
    EXPECT_EQ(r.out.find("4.25"), std::string::npos) << "a secret's value is never printed";
}

TEST(Cli, HelpAndUnknownCommands) {
    EXPECT_EQ(run("--help").status, 0);
    EXPECT_NE(run("--help").out.find("tezgah check"), std::string::npos);
    EXPECT_NE(run("--help").out.find("tezgah usage"), std::string::npos);
    EXPECT_NE(run("--help").out.find("--prices FILE"), std::string::npos);
    EXPECT_NE(run("--help").out.find("--lua-max-ms N"), std::string::npos);
    EXPECT_NE(run("--help").out.find("--lua-concurrency N"), std::string::npos);
    EXPECT_EQ(run("frobnicate").status, 2);
    auto usage_help = run("usage --help");
    EXPECT_EQ(usage_help.status, 0);
    EXPECT_NE(usage_help.out.find("--since DATE"), std::string::npos) << usage_help.out;
}

TEST(Cli, ABadPricesFileStopsChatAndServeWithExitTwo) {
    TempDir dir;
    write(dir.path() / "prices.json", R"({"models": {"gpt-4o": {"input_per_mtok_usd": "cheap"}}})");
    const std::string db = " --db sqlite:" + (dir.path() / "t.db").string();
    auto chat = run("chat --tenant gece-butik --json --tenants " + fixtures_dir().string() + db +
                        " --prices " + (dir.path() / "prices.json").string(),
                    "merhaba\n", true);
    EXPECT_EQ(chat.status, 2);
    EXPECT_NE(chat.out.find("prices.json: models.gpt-4o.input_per_mtok_usd: expected a number"),
              std::string::npos)
        << chat.out;
    auto serve = run("serve --listen 127.0.0.1:0 --tenants " + fixtures_dir().string() + db + " --prices " +
                         (dir.path() / "missing.json").string(),
                     {}, true);
    EXPECT_EQ(serve.status, 2);
    EXPECT_NE(serve.out.find("missing.json"), std::string::npos) << serve.out;

    write(dir.path() / "good.json",
          R"({"models": {"acme-large": {"input_per_mtok_usd": 1, "output_per_mtok_usd": 2}}})");
    auto good = run("chat --tenant gece-butik --json --tenants " + fixtures_dir().string() + db +
                        " --prices " + (dir.path() / "good.json").string(),
                    "merhaba\n");
    EXPECT_EQ(good.status, 0) << good.out;
}

/// Sets an environment variable for the commands a test runs, and removes it after.
class ScopedEnv {
public:
    ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
        ::setenv(name_.c_str(), value.c_str(), 1);
    }
    ~ScopedEnv() { ::unsetenv(name_.c_str()); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string name_;
};

TEST(Cli, CheckNamesTheVariableNeverItsValue) {
    TempDir dir;
    copy_fixtures(dir.path());
    ScopedEnv tz("TEZGAH_GECE_BUTIK__TZ", "Mars/s3cr3t-Olympus");
    ScopedEnv url("TEZGAH_GECE_BUTIK__BASE_URL", "ftp://s3cr3t.example.com/v1");
    ScopedEnv key("TEZGAH_GECE_BUTIK__OPENAI_API_KEY", "sk-s3cr3t-0123456789");
    edit_json(dir.path() / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["locale"].as_object()["timezone"] = "${TEZGAH_GECE_BUTIK__TZ}";
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"model", "gpt-4o-mini"},
                                            {"base_url", "${TEZGAH_GECE_BUTIK__BASE_URL}"},
                                            {"api_key", "${TEZGAH_GECE_BUTIK__OPENAI_API_KEY}"}};
    });
    auto r = run("check " + dir.path().string() + " --log-level debug", {}, true);
    EXPECT_EQ(r.status, 1);
    for (const char* problem : {
             "gece-butik/tenant.json: locale.timezone: the value of ${TEZGAH_GECE_BUTIK__TZ} is not a known "
             "time zone\n",
             "gece-butik/tenant.json: llm.base_url: expected an http:// or https:// URL, got the value of "
             "${TEZGAH_GECE_BUTIK__BASE_URL}\n",
         })
        EXPECT_NE(r.out.find(problem), std::string::npos) << problem << "\n" << r.out;
    EXPECT_EQ(r.out.find("s3cr3t"), std::string::npos) << r.out;
}

TEST(Cli, CheckWarnsOfAChannelDisabledByAnUnsetVariableAndStrictRefusesIt) {
    TempDir dir;
    copy_fixtures(dir.path());
    ::unsetenv("TEZGAH_GECE_BUTIK__WA_SECRET");
    edit_json(dir.path() / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["channels"].as_object()["whatsapp-cloud"] =
            json::object{{"phone_number_id", "106540352242922"},
                         {"access_token", "t"},
                         {"app_secret", "${TEZGAH_GECE_BUTIK__WA_SECRET}"},
                         {"verify_token", "v"}};
    });
    const std::string warning =
        "warning: " + (dir.path() / "gece-butik" / "tenant.json").string() +
        ": channels.whatsapp-cloud.app_secret: environment variable TEZGAH_GECE_BUTIK__WA_SECRET is not set: "
        "the whatsapp-cloud channel is disabled\n";
    auto r = run("check " + dir.path().string());
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find(warning), std::string::npos) << r.out;
    auto strict = run("check " + dir.path().string() + " --strict");
    EXPECT_EQ(strict.status, 1) << strict.out;
    EXPECT_NE(strict.out.find("channels.whatsapp-cloud.app_secret: environment variable"), std::string::npos);
}

TEST(Cli, AManifestReadsOnlyItsTenantsVariablesAndTheSharedOnes) {
    TempDir dir;
    copy_fixtures(dir.path());
    ScopedEnv other("SHARED_PHONE", "+90 212 555 00 00");
    ScopedEnv none("TEZGAH_SHARED_ENV", "");
    edit_json(dir.path() / "gece-butik" / "tenant.json",
              [](json::value& v) { v.as_object()["business"].as_object()["phone"] = "${SHARED_PHONE}"; });
    const std::string folder = dir.path().string();
    auto refused = run("check " + folder);
    EXPECT_EQ(refused.status, 1);
    EXPECT_NE(
        refused.out.find("gece-butik/tenant.json: business.phone: ${SHARED_PHONE} is not this tenant's "
                         "variable: gece-butik reads TEZGAH_GECE_BUTIK__<NAME> and the variables shared "
                         "with --shared-env (now none); name it TEZGAH_GECE_BUTIK__SHARED_PHONE, or "
                         "share it with --shared-env SHARED_PHONE\n"),
        std::string::npos)
        << refused.out;
    EXPECT_EQ(run("check " + folder + " --shared-env OTHER,SHARED_PHONE").status, 0);
    {
        ScopedEnv by_env("TEZGAH_SHARED_ENV", "SHARED_PHONE");
        EXPECT_EQ(run("check " + folder).status, 0);
    }
    // chat and serve read it the same way.
    const std::string db = " --db sqlite:" + (dir.path() / "t.db").string();
    auto chat = run("chat --tenant gece-butik --json --tenants " + folder + db, "merhaba\n", true);
    EXPECT_EQ(chat.status, 1);
    EXPECT_NE(chat.out.find("${SHARED_PHONE} is not this tenant's variable"), std::string::npos) << chat.out;
    auto shared_chat = run(
        "chat --tenant gece-butik --json --shared-env SHARED_PHONE --tenants " + folder + db, "merhaba\n");
    EXPECT_EQ(shared_chat.status, 0) << shared_chat.out;

    // A bad list stops the command before anything runs.
    auto bad = run("check " + folder + " --shared-env 'SHARED_PHONE,2X'", {}, true);
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.out.find("tezgah check: --shared-env: \"2X\" is not an environment variable name"),
              std::string::npos)
        << bad.out;
    auto engine_own =
        run("serve --listen 127.0.0.1:0 --tenants " + folder + db + " --shared-env TEZGAH_DB", {}, true);
    EXPECT_EQ(engine_own.status, 2);
    EXPECT_NE(engine_own.out.find("tezgah serve: --shared-env: TEZGAH_DB: TEZGAH_ variables are"),
              std::string::npos)
        << engine_own.out;
    {
        ScopedEnv by_env("TEZGAH_SHARED_ENV", "bad-name");
        auto bad_env = run("check " + folder, {}, true);
        EXPECT_EQ(bad_env.status, 2);
        EXPECT_NE(bad_env.out.find("tezgah check: TEZGAH_SHARED_ENV: \"bad-name\""), std::string::npos)
            << bad_env.out;
    }
    EXPECT_NE(run("--help").out.find("--shared-env NAME,..."), std::string::npos);
}

TEST(Cli, CheckRefusesADataFileLinkedOutOfTheTenantFolder) {
    TempDir dir;
    copy_fixtures(dir.path());
    const auto offerings = dir.path() / "gece-butik" / "data" / "offerings.json";
    fs::remove(offerings);
    fs::create_symlink("/etc/passwd", offerings);
    auto r = run("check " + dir.path().string(), {}, true);
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("gece-butik/tenant.json: data.offerings: \"data/offerings.json\" leads outside the "
                         "tenant folder (a symbolic link to /etc/passwd)\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("root:"), std::string::npos) << r.out;
}

TEST(Cli, ServeRefusesAnInFlightMarginThatIsNotAWholeNumberOfMillisecondsUpToADay) {
    TempDir dir;
    const std::string serve = "serve --listen 127.0.0.1:0 --tenants " + fixtures_dir().string() +
                              " --db sqlite:" + (dir.path() / "t.db").string();
    auto negative = run(serve + " --in-flight-margin-ms -1", {}, true);
    EXPECT_EQ(negative.status, 2);
    EXPECT_NE(negative.out.find("--in-flight-margin-ms -1: expected a whole number >= 0 and <= 86400000"),
              std::string::npos)
        << negative.out;
    ::setenv("TEZGAH_IN_FLIGHT_MARGIN_MS", "many", 1);  // the environment as well as the option
    auto from_env = run(serve, {}, true);
    ::unsetenv("TEZGAH_IN_FLIGHT_MARGIN_MS");
    EXPECT_EQ(from_env.status, 2);
    EXPECT_NE(from_env.out.find("TEZGAH_IN_FLIGHT_MARGIN_MS many: expected a whole number"),
              std::string::npos)
        << from_env.out;
    auto words = run(serve + " --in-flight-margin-ms 10s", {}, true);
    EXPECT_EQ(words.status, 2);
    EXPECT_NE(words.out.find("--in-flight-margin-ms 10s: expected a whole number"), std::string::npos)
        << words.out;
    EXPECT_NE(run("--help").out.find("--in-flight-margin-ms MS"), std::string::npos);
}

TEST(Cli, ServeRefusesOutboxSettingsOutOfRange) {
    TempDir dir;
    const std::string serve = "serve --listen 127.0.0.1:0 --tenants " + fixtures_dir().string() +
                              " --db sqlite:" + (dir.path() / "t.db").string();
    auto lease = run(serve + " --outbox-lease-ms 5", {}, true);
    EXPECT_EQ(lease.status, 2);
    EXPECT_NE(lease.out.find("--outbox-lease-ms 5: expected a whole number >= 1000"), std::string::npos)
        << lease.out;
    auto workers = run(serve + " --outbox-workers 0", {}, true);
    EXPECT_EQ(workers.status, 2);
    EXPECT_NE(workers.out.find("--outbox-workers 0: expected a whole number >= 1 and <= 256"),
              std::string::npos)
        << workers.out;
    ::setenv("TEZGAH_OUTBOX_RETRY_MS", "soon", 1);
    auto from_env = run(serve, {}, true);
    ::unsetenv("TEZGAH_OUTBOX_RETRY_MS");
    EXPECT_EQ(from_env.status, 2);
    EXPECT_NE(from_env.out.find("TEZGAH_OUTBOX_RETRY_MS soon: expected a whole number"), std::string::npos)
        << from_env.out;
    EXPECT_NE(run("--help").out.find("--outbox-retry-ms MS"), std::string::npos);
}

}  // namespace
