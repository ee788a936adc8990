// `tezgah usage`: a tenant's model calls, tokens and cost by local day and model, run as users run it.
#include "cli/usage_report.hpp"
#include "store/database.hpp"
#include "support/temp_tenants.hpp"

#include <date/date.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <regex>
#include <sstream>

namespace tezgah::engine {
namespace {

using namespace std::chrono_literals;
using tezgah::testing::fixtures_dir;
using tezgah::testing::TempDir;
using Clock = std::chrono::system_clock;

Clock::time_point utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
    return date::sys_days{date::year{year} / month / day} + std::chrono::hours{hour} +
           std::chrono::minutes{minute};
}

struct Run {
    int status = -1;
    std::string out;
};

/// The binary with standard output and standard error together.
Run run_tezgah(const std::string& args) {
    const std::string cmd = std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah " + args + " < /dev/null 2>&1";
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf{};
    while (auto n = std::fread(buf.data(), 1, buf.size(), p)) r.out.append(buf.data(), n);
    const int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

/// The whitespace-separated fields of the first line starting with `prefix` and holding `needle`.
std::vector<std::string> line_fields(const std::string& text, const std::string& prefix,
                                     const std::string& needle) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(prefix, 0) != 0 || line.find(needle) == std::string::npos) continue;
        std::istringstream words(line);
        std::vector<std::string> out;
        for (std::string w; words >> w;) out.push_back(w);
        return out;
    }
    return {};
}

/// A SQLite database holding a few days of gece-butik's model calls.
class UsageCommand : public ::testing::Test {
protected:
    void SetUp() override {
        url = "sqlite:" + (dir.path() / "tezgah.db").string();
        auto opened = Database::open(url);
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        auto db = std::move(opened).value();
        ASSERT_TRUE(db->upsert_tenant("gece-butik", "Gece Butik").ok());
        // 22:30 UTC on 9 June is 01:30 on 10 June in Istanbul.
        add(*db, utc(2024, 6, 9, 22, 30), "openai", "gpt-4o-mini", 1000, 100, 0.00021);
        add(*db, utc(2024, 6, 10, 9), "openai", "gpt-4o-mini", 2000, 300, 0.00048, true);
        add(*db, utc(2024, 6, 10, 9, 1), "gemini", "gemini-2.0-flash", 4000, 500, 0.0006);
        add(*db, utc(2024, 6, 12, 8), "openai", "gpt-4o-mini", 500, 50, 0.000105);
        add(*db, utc(2024, 7, 1, 8), "openai", "gpt-4o-mini", 9999, 9999, 1.0);  // outside the ranges asked
    }

    static void add(Database& db, Clock::time_point at, const std::string& provider, const std::string& model,
                    long long in, long long out, double usd, bool estimated = false) {
        UsageRecord r{"gece-butik", "c1", provider, model, in, out, usd};
        r.at = at;
        r.estimated = estimated;
        ASSERT_TRUE(db.record_usage(r).ok());
    }

    std::string common(const std::string& tenant = "gece-butik") const {
        return "usage --tenant " + tenant + " --db " + url;
    }

    TempDir dir;
    TempDir no_tenants;
    std::string url;
};

TEST_F(UsageCommand, PrintsDaysInTheTenantsTimeZoneByModelWithTotals) {
    auto r =
        run_tezgah(common() + " --since 2024-06-09 --until 2024-06-12 --tenants " + fixtures_dir().string());
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("Usage of gece-butik from 2024-06-09 to 2024-06-12, days in Europe/Istanbul"),
              std::string::npos)
        << r.out;
    // Both gpt-4o-mini calls fall on 10 June in Istanbul.
    EXPECT_TRUE(line_fields(r.out, "2024-06-09", "").empty()) << r.out;
    EXPECT_EQ(
        line_fields(r.out, "2024-06-10", "gpt-4o-mini"),
        (std::vector<std::string>{"2024-06-10", "openai", "gpt-4o-mini", "2", "3000", "400", "0.000690"}))
        << r.out;
    EXPECT_EQ(line_fields(r.out, "2024-06-10", "gemini-2.0-flash"),
              (std::vector<std::string>{"2024-06-10", "gemini", "gemini-2.0-flash", "1", "4000", "500",
                                        "0.000600"}));
    EXPECT_EQ(
        line_fields(r.out, "2024-06-12", "gpt-4o-mini"),
        (std::vector<std::string>{"2024-06-12", "openai", "gpt-4o-mini", "1", "500", "50", "0.000105"}));
    EXPECT_EQ(line_fields(r.out, "total", ""),
              (std::vector<std::string>{"total", "4", "7500", "950", "0.001395"}));
    EXPECT_NE(r.out.find("1 call(s) had estimated token counts"), std::string::npos) << r.out;
}

TEST_F(UsageCommand, WithoutTheTenantFolderDaysAreInUtc) {
    auto r = run_tezgah(common() + " --since 2024-06-09 --until 2024-06-10 --tenants " +
                        no_tenants.path().string());
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("days in UTC (no tenant folder at "), std::string::npos) << r.out;
    EXPECT_EQ(
        line_fields(r.out, "2024-06-09", "gpt-4o-mini"),
        (std::vector<std::string>{"2024-06-09", "openai", "gpt-4o-mini", "1", "1000", "100", "0.000210"}))
        << r.out;
    EXPECT_EQ(line_fields(r.out, "2024-06-10", "gpt-4o-mini")[3], "1");
    EXPECT_EQ(line_fields(r.out, "total", "")[1], "3");
}

TEST_F(UsageCommand, JsonHoldsTheSameReport) {
    auto r = run_tezgah(common() + " --since 2024-06-10 --until 2024-06-12 --json --tenants " +
                        fixtures_dir().string());
    ASSERT_EQ(r.status, 0) << r.out;
    boost::system::error_code ec;
    auto value = boost::json::parse(r.out, ec);
    ASSERT_FALSE(ec) << r.out;
    const auto& report = value.as_object();
    EXPECT_EQ(report.at("tenant"), "gece-butik");
    EXPECT_EQ(report.at("timezone"), "Europe/Istanbul");
    EXPECT_EQ(report.at("since"), "2024-06-10");
    EXPECT_EQ(report.at("until"), "2024-06-12");
    const auto& days = report.at("days").as_array();
    ASSERT_EQ(days.size(), 3u) << r.out;
    const auto& first = days[0].as_object();
    EXPECT_EQ(first.at("date"), "2024-06-10");
    EXPECT_EQ(first.at("provider"), "gemini");
    EXPECT_EQ(first.at("model"), "gemini-2.0-flash");
    EXPECT_EQ(first.at("calls").to_number<int>(), 1);
    EXPECT_EQ(first.at("input_tokens").to_number<int>(), 4000);
    EXPECT_NEAR(first.at("cost_usd").to_number<double>(), 0.0006, 1e-12);
    EXPECT_EQ(days[1].at("estimated_calls").to_number<int>(), 1);
    const auto& totals = report.at("totals").as_object();
    EXPECT_EQ(totals.at("calls").to_number<int>(), 4);
    EXPECT_EQ(totals.at("output_tokens").to_number<int>(), 950);
    EXPECT_NEAR(totals.at("cost_usd").to_number<double>(), 0.001395, 1e-12);
    // As people write them: Boost.JSON alone writes 6E-4.
    EXPECT_NE(r.out.find(R"("cost_usd":0.0006,)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(R"("cost_usd":0.001395,)"), std::string::npos) << r.out;
    EXPECT_FALSE(std::regex_search(r.out, std::regex(R"(:-?[0-9][0-9.]*[eE])"))) << r.out;
}

TEST_F(UsageCommand, JsonWritesAFreeModelsCostAsZeroAndATinyOneExactly) {
    {
        auto db = Database::open(url);
        ASSERT_TRUE(db.ok()) << db.error().message;
        add(**db, utc(2024, 6, 20, 9), "local", "local", 120, 30, 0);
        add(**db, utc(2024, 6, 21, 9), "openai", "gpt-4o-mini", 1, 0, 1e-7);
    }
    auto r = run_tezgah(common() + " --since 2024-06-20 --until 2024-06-21 --json --tenants " +
                        fixtures_dir().string());
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find(R"("model":"local","calls":1,"input_tokens":120,"output_tokens":30,"cost_usd":0,)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(R"("cost_usd":1e-7,)"), std::string::npos) << r.out;
    EXPECT_EQ(boost::json::parse(r.out).at("totals").at("cost_usd").to_number<double>(), 1e-7);
}

TEST_F(UsageCommand, ATenantWithoutRowsHasNoUsage) {
    auto r = run_tezgah(common("yok-boyle-dukkan") + " --since 2024-06-01 --until 2024-06-30");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("no usage"), std::string::npos) << r.out;
    auto json = run_tezgah(common("yok-boyle-dukkan") + " --since 2024-06-01 --until 2024-06-30 --json");
    EXPECT_EQ(json.status, 0);
    auto value = boost::json::parse(json.out);
    EXPECT_TRUE(value.at("days").as_array().empty());
    EXPECT_EQ(value.at("totals").at("calls").to_number<int>(), 0);
}

TEST_F(UsageCommand, BadOptionsExitTwoNamingTheOption) {
    auto bad_since = run_tezgah(common() + " --since 2024-13-01");
    EXPECT_EQ(bad_since.status, 2);
    EXPECT_NE(bad_since.out.find("--since 2024-13-01: expected a date YYYY-MM-DD"), std::string::npos)
        << bad_since.out;
    auto bad_until = run_tezgah(common() + " --since 2024-06-01 --until 1.7.2024");
    EXPECT_EQ(bad_until.status, 2);
    EXPECT_NE(bad_until.out.find("--until 1.7.2024"), std::string::npos) << bad_until.out;
    auto backwards = run_tezgah(common() + " --since 2024-06-10 --until 2024-06-01");
    EXPECT_EQ(backwards.status, 2);
    EXPECT_NE(backwards.out.find("before --since"), std::string::npos) << backwards.out;
    auto no_since = run_tezgah(common());
    EXPECT_EQ(no_since.status, 2);
    EXPECT_NE(no_since.out.find("--since"), std::string::npos) << no_since.out;
    auto no_tenant = run_tezgah("usage --since 2024-06-01 --db " + url);
    EXPECT_EQ(no_tenant.status, 2);
    EXPECT_NE(no_tenant.out.find("--tenant"), std::string::npos) << no_tenant.out;
}

TEST_F(UsageCommand, AMissingDatabaseIsAnErrorNotANewEmptyOne) {
    const auto missing = dir.path() / "nope.db";
    auto r = run_tezgah("usage --tenant gece-butik --since 2024-06-01 --db sqlite:" + missing.string());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(missing));
}

// ---------------------------------------------------------------- the report, in process

TEST(UsageReport, DatesAreStrict) {
    using cli::parse_day;
    EXPECT_TRUE(parse_day("2024-02-29"));
    EXPECT_FALSE(parse_day("2023-02-29"));
    EXPECT_FALSE(parse_day("2024-2-9"));
    EXPECT_FALSE(parse_day("2024-06-1x"));
    EXPECT_FALSE(parse_day(""));
    EXPECT_EQ(parse_day("2024-12-31")->str(), "2024-12-31");
    EXPECT_EQ(cli::next_day(*parse_day("2024-12-31")).str(), "2025-01-01");
    EXPECT_EQ(cli::day_start(*parse_day("2024-06-10"), "Europe/Istanbul"), utc(2024, 6, 9, 21));
    EXPECT_EQ(cli::day_start(*parse_day("2024-06-10"), "UTC"), utc(2024, 6, 10));
}

TEST(UsageReport, SlicesRegroupIntoLocalDays) {
    cli::UsageReport report;
    report.timezone = "Asia/Kolkata";  // UTC+5:30: a day starts on a half hour
    std::vector<UsageSlice> slices = {
        {utc(2024, 6, 9, 18, 15), "openai", "gpt-4o", 1, 10, 1, 0.5, 0},   // 23:45 on 9 June
        {utc(2024, 6, 9, 18, 30), "openai", "gpt-4o", 2, 20, 2, 0.25, 1},  // 00:00 on 10 June
        {utc(2024, 6, 10, 3), "openai", "gpt-4o", 1, 5, 1, 0.25, 0},
    };
    cli::add_slices(report, slices);
    ASSERT_EQ(report.lines.size(), 2u);
    EXPECT_EQ(report.lines[0].date, "2024-06-09");
    EXPECT_EQ(report.lines[0].calls, 1);
    EXPECT_EQ(report.lines[1].date, "2024-06-10");
    EXPECT_EQ(report.lines[1].calls, 3);
    EXPECT_EQ(report.lines[1].input_tokens, 25);
    EXPECT_EQ(report.totals.calls, 4);
    EXPECT_DOUBLE_EQ(report.totals.cost_usd, 1.0);
    EXPECT_EQ(report.totals.estimated_calls, 1);
}

}  // namespace
}  // namespace tezgah::engine
