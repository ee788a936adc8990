// The metrics registry: what it counts, and the Prometheus text it renders.
#include "ops/metrics.hpp"
#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using tezgah::engine::Metrics;

namespace {

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

class MetricsTest : public ::testing::Test {
protected:
    void SetUp() override { Metrics::global().reset(); }
    void TearDown() override { Metrics::global().reset(); }
};

TEST_F(MetricsTest, CountsRequestsByRouteMethodAndStatusWithCumulativeBuckets) {
    auto& m = Metrics::global();
    m.http_request("/health", "GET", 200, 0.0004);
    m.http_request("/health", "GET", 200, 0.003);
    m.http_request("/health", "GET", 503, 2.0);
    const auto text = m.render();
    EXPECT_TRUE(contains(text, R"(tezgah_http_requests_total{method="GET",route="/health",status="200"} 2)"))
        << text;
    EXPECT_TRUE(contains(text, R"(tezgah_http_requests_total{method="GET",route="/health",status="503"} 1)"));
    EXPECT_TRUE(
        contains(text, R"(tezgah_http_request_duration_seconds_bucket{route="/health",le="0.0005"} 1)"));
    EXPECT_TRUE(
        contains(text, R"(tezgah_http_request_duration_seconds_bucket{route="/health",le="0.005"} 2)"));
    EXPECT_TRUE(
        contains(text, R"(tezgah_http_request_duration_seconds_bucket{route="/health",le="+Inf"} 3)"));
    EXPECT_TRUE(contains(text, R"(tezgah_http_request_duration_seconds_count{route="/health"} 3)"));
    EXPECT_TRUE(contains(text, "# TYPE tezgah_http_request_duration_seconds histogram"));
}

TEST_F(MetricsTest, CountsMessagesToolCallsTokensAndTheTenantGauge) {
    auto& m = Metrics::global();
    m.message("gece-butik", "intent");
    m.message("gece-butik", "intent");
    m.tool_call("get_product_info", true);
    m.tool_call("get_product_info", false);
    m.tokens("gece-butik", "", 120, 30);
    m.db_operation("append_message", 0.002);
    m.tenants_loaded(2);
    const auto text = m.render();
    EXPECT_TRUE(contains(text, R"(tezgah_messages_total{method="intent",tenant="gece-butik"} 2)")) << text;
    EXPECT_TRUE(contains(text, R"(tezgah_tool_calls_total{outcome="ok",tool="get_product_info"} 1)"));
    EXPECT_TRUE(contains(text, R"(tezgah_tool_calls_total{outcome="error",tool="get_product_info"} 1)"));
    EXPECT_TRUE(contains(text, R"(tezgah_llm_tokens_total{direction="input",tenant="gece-butik"} 120)"));
    EXPECT_TRUE(
        contains(text, R"(tezgah_db_operation_duration_seconds_count{operation="append_message"} 1)"));
    EXPECT_TRUE(contains(text, "tezgah_tenants_loaded 2"));
}

TEST_F(MetricsTest, CountsModelCallsCostsCacheBudgetsAndRetries) {
    auto& m = Metrics::global();
    m.llm_call("gece-butik", "gemini", "gemini-2.0-flash", true);
    m.llm_call("gece-butik", "gemini", "gemini-2.0-flash", true);
    m.llm_call("gece-butik", "openai", "gpt-4o-mini", false);
    m.llm_cost("gece-butik", "gemini-2.0-flash", 0.0004);
    m.llm_cost("gece-butik", "gemini-2.0-flash", 0.0002);
    m.llm_cost("gece-butik", "local", 0);  // free: no series
    m.tokens("gece-butik", "gemini-2.0-flash", 2000, 500);
    m.response_cache("gece-butik", "hit");
    m.response_cache("gece-butik", "miss");
    m.response_cache("gece-butik", "miss");
    m.response_cache("gece-butik", "negative_hit");
    m.budget_exceeded("gece-butik", "day");
    m.provider_retry("openai");
    m.provider_retry("openai");
    const auto text = m.render();
    EXPECT_TRUE(contains(
        text,
        R"(tezgah_llm_calls_total{model="gemini-2.0-flash",outcome="ok",provider="gemini",tenant="gece-butik"} 2)"))
        << text;
    EXPECT_TRUE(contains(
        text,
        R"(tezgah_llm_calls_total{model="gpt-4o-mini",outcome="error",provider="openai",tenant="gece-butik"} 1)"));
    EXPECT_TRUE(
        contains(text, R"(tezgah_llm_cost_usd_total{model="gemini-2.0-flash",tenant="gece-butik"} 0.0006)"))
        << text;
    EXPECT_FALSE(contains(text, R"(tezgah_llm_cost_usd_total{model="local",tenant="gece-butik"})"));
    EXPECT_TRUE(contains(
        text,
        R"(tezgah_llm_tokens_total{direction="input",model="gemini-2.0-flash",tenant="gece-butik"} 2000)"));
    EXPECT_TRUE(
        contains(text, R"(tezgah_response_cache_requests_total{result="miss",tenant="gece-butik"} 2)"));
    EXPECT_TRUE(contains(
        text, R"(tezgah_response_cache_requests_total{result="negative_hit",tenant="gece-butik"} 1)"));
    EXPECT_TRUE(contains(text, R"(tezgah_budget_exceeded_total{period="day",tenant="gece-butik"} 1)"));
    EXPECT_TRUE(contains(text, R"(tezgah_provider_retries_total{provider="openai"} 2)"));
    EXPECT_TRUE(contains(text, "# TYPE tezgah_llm_cost_usd_total counter"));
}

TEST_F(MetricsTest, TheExpositionPassesPromtool) {
    auto& m = Metrics::global();
    m.http_request("/health", "GET", 200, 0.001);
    m.message("gece-butik", "llm");
    m.tool_call("search_catalog", true);
    m.db_operation("write_batch", 0.002);
    m.tokens("gece-butik", "", 10, 5);
    m.tokens("gece-butik", "gpt-4o-mini", 100, 50);
    m.llm_call("gece-butik", "openai", "gpt-4o-mini", true);
    m.llm_cost("gece-butik", "gpt-4o-mini", 0.000045);
    m.response_cache("gece-butik", "hit");
    m.budget_exceeded("nefes-studyo", "month");
    m.provider_retry("gemini");
    m.tenants_loaded(2);
    tezgah::testing::TempDir scratch;
    const auto file = scratch.path() / "metrics.txt";
    tezgah::testing::write(file, m.render());
    ASSERT_EQ(std::system("command -v promtool > /dev/null"), 0)
        << "promtool is missing: install the Debian package prometheus (scripts/setup)";
    const auto out = scratch.path() / "out";
    const auto command = "promtool check metrics < " + file.string() + " > " + out.string() + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << tezgah::testing::slurp(out) << "\n" << m.render();
}

TEST_F(MetricsTest, EscapesLabelValues) {
    Metrics::global().tool_call("a\"b\\c\nd", true);
    EXPECT_TRUE(contains(Metrics::global().render(), R"(tool="a\"b\\c\nd")"));
}

TEST_F(MetricsTest, CountsEveryUpdateFromManyThreads) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([] {
            for (int i = 0; i < 1000; ++i) Metrics::global().http_request("/x", "POST", 200, 0.001);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_TRUE(contains(Metrics::global().render(),
                         R"(tezgah_http_requests_total{method="POST",route="/x",status="200"} 8000)"));
}

TEST_F(MetricsTest, ResetForgetsEverySeriesAndCountsAfresh) {
    auto& m = Metrics::global();
    m.tool_call("search_catalog", true);
    m.db_operation("write_batch", 0.002);
    m.tenants_loaded(3);
    m.reset();
    auto text = m.render();
    EXPECT_FALSE(contains(text, "search_catalog")) << text;
    EXPECT_FALSE(contains(text, "write_batch"));
    EXPECT_TRUE(contains(text, "tezgah_tenants_loaded 0"));
    m.tool_call("search_catalog", true);
    text = m.render();
    EXPECT_TRUE(contains(text, R"(tezgah_tool_calls_total{outcome="ok",tool="search_catalog"} 1)")) << text;
}

TEST_F(MetricsTest, MakesEachSeriesOnceWhenManyThreadsSeeItFirst) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([] {
            for (int i = 0; i < 500; ++i) Metrics::global().tool_call("tool-" + std::to_string(i % 50), true);
        });
    }
    for (auto& t : threads) t.join();
    const auto text = Metrics::global().render();
    for (int i = 0; i < 50; ++i) {
        const auto series =
            R"(tezgah_tool_calls_total{outcome="ok",tool="tool-)" + std::to_string(i) + R"("} 80)";
        EXPECT_TRUE(contains(text, series + "\n")) << series << "\n" << text;
    }
}

}  // namespace
