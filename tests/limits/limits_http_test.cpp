// What a client and a customer see of the limits over real HTTP: the chat API's 429 with
// Retry-After and the limit's name; the analytics route's `limits`; /metrics; the twilio channel's
// polite reply once per window (`tezgah serve --plans`, requests signed by the official `twilio`
// npm package); and the plans file refused by `tezgah serve` and checked by `tezgah check`.
#include "channels/fake_twilio.hpp"
#include "channels/twilio_requests.hpp"
#include "http/http_fixture.hpp"
#include "ops/limits.hpp"
#include "store/api_keys.hpp"
#include "store/database.hpp"
#include "support/serve_process.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include <sys/wait.h>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPlans = R"({"plans": {
  "free":  {"messages_per_minute": 4, "customer_messages_per_minute": 2, "turns_in_flight": 2},
  "basic": {"messages_per_minute": 60, "llm_tokens_per_day": 100000}}})";

const auto kMorning = std::chrono::sys_days{std::chrono::year{2026} / 12 / 3} + 10h + 15s;

void set_plan(const fs::path& tenants, const std::string& tenant, const std::string& plan) {
    edit_json(tenants / tenant / "tenant.json", [&](json::value& v) { v.as_object()["plan"] = plan; });
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

class LimitsOverHttp : public ::testing::Test {
protected:
    void SetUp() override {
        copy_fixtures(dir.path() / "tenants");
        set_plan(dir.path() / "tenants", "gece-butik", "free");
        clock.set(kMorning);
        engine::EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = "sqlite:" + (dir.path() / "var" / "tezgah.db").string();
        o.plugin_path = {plugin_dir()};
        auto plans = engine::parse_plans(kPlans, "plans.json");
        ASSERT_TRUE(plans);
        o.plans = std::move(plans).value();
        engine = std::make_unique<engine::Engine>(o);
        ASSERT_TRUE(engine->start().ok());
        engine->set_clock(&clock);
        engine::http::ServerOptions options;
        options.host = "127.0.0.1";
        options.port = 0;
        server = std::make_unique<engine::http::HttpServer>(*engine, options);
        ASSERT_TRUE(server->start().ok());
        port = server->port();
    }
    void TearDown() override {
        if (server) server->stop(10s);
        server.reset();
        engine.reset();
    }

    HttpReply chat(const std::string& user, const std::string& text = "saten gecelik ne kadar?",
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        return http_request(port, "POST", "/v1/tenants/gece-butik/chat", chat_body(text, user), headers);
    }

    TempDir dir;
    sdk::testing::FakeClock clock;
    std::unique_ptr<engine::Engine> engine;
    std::unique_ptr<engine::http::HttpServer> server;
    std::uint16_t port = 0;
};

TEST_F(LimitsOverHttp, TheChatApiAnswers429WithRetryAfterAndTheLimit) {
    EXPECT_EQ(chat("ayse").status, 200);
    EXPECT_EQ(chat("ayse").status, 200);
    auto over = chat("ayse");
    ASSERT_EQ(over.status, 429) << over.body;
    EXPECT_EQ(over.header("retry-after"), "45");  // to the end of the minute
    EXPECT_EQ(over.error_code(), "rate_limited");
    EXPECT_EQ(over.json().at("error").at("limit").as_string(), "customer_messages_per_minute");
    // A streaming client is refused the same way, before any event.
    auto streamed = chat("ayse", "merhaba", {{"Accept", "text/event-stream"}});
    EXPECT_EQ(streamed.status, 429);
    EXPECT_EQ(streamed.json().at("error").at("limit").as_string(), "customer_messages_per_minute");
    // The tenant's figure: two more customers fill it.
    EXPECT_EQ(chat("fatma").status, 200);
    EXPECT_EQ(chat("zeynep").status, 200);
    auto tenant_over = chat("hakan");
    ASSERT_EQ(tenant_over.status, 429);
    EXPECT_EQ(tenant_over.json().at("error").at("limit").as_string(), "messages_per_minute");
    clock.advance(45s);
    EXPECT_EQ(chat("hakan").status, 200);
}

TEST_F(LimitsOverHttp, AnalyticsAndMetricsShowThePlanAndItsUse) {
    EXPECT_EQ(chat("ayse").status, 200);
    EXPECT_EQ(chat("fatma").status, 200);
    EXPECT_EQ(chat("fatma").status, 200);
    EXPECT_EQ(chat("fatma").status, 429);
    auto key = engine::create_api_key(engine->database(), "limits test", "gece-butik", {"analytics:read"},
                                      std::chrono::system_clock::now());
    ASSERT_TRUE(key) << key.error().message;
    auto analytics = http_request(port, "GET", "/v1/tenants/gece-butik/analytics", "",
                                  {{"Authorization", "Bearer " + key->secret}});
    ASSERT_EQ(analytics.status, 200) << analytics.body;
    const json::value body = analytics.json();
    ASSERT_TRUE(body.is_object() && body.as_object().contains("limits")) << analytics.body;
    const auto& limits = body.at("limits").as_object();
    EXPECT_EQ(limits.at("plan").as_string(), "free");
    EXPECT_EQ(limits.at("messages_per_minute").at("limit").as_int64(), 4);
    EXPECT_EQ(limits.at("messages_per_minute").at("used").as_int64(), 3);  // the refused one is not used
    EXPECT_EQ(limits.at("customer_messages_per_minute").at("limit").as_int64(), 2);
    EXPECT_TRUE(limits.at("llm_tokens_per_day").at("limit").is_null());  // unlimited on free
    EXPECT_GT(limits.at("llm_tokens_per_day").at("used").as_int64(), 0);
    EXPECT_EQ(limits.at("turns_in_flight").at("used").as_int64(), 0);

    auto metrics = http_request(port, "GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_TRUE(contains(
        metrics.body,
        R"(tezgah_plan_limit{limit="customer_messages_per_minute",plan="free",tenant="gece-butik"} 2)"))
        << metrics.body;
    EXPECT_TRUE(
        contains(metrics.body, R"(tezgah_plan_usage{limit="messages_per_minute",tenant="gece-butik"})"));
    EXPECT_TRUE(
        contains(metrics.body,
                 R"(tezgah_rate_limited_total{limit="customer_messages_per_minute",tenant="gece-butik"})"));
}

// --- the twilio channel, through the real binary ---

constexpr const char* kSid = kTwilioSid;
constexpr const char* kToken = kTwilioToken;
constexpr const char* kFrom = kTwilioFrom;

TEST(LimitsOnChannels, TwilioCustomersAreToldOncePerWindowThenAnsweredWithSilence) {
    ASSERT_TRUE(fs::exists(fs::path(TEZGAH_SOURCE_DIR) / "tests/node/node_modules/twilio"))
        << "run scripts/setup-node";
    TempDir dir;
    FakeTwilio twilio{kSid, kToken};
    copy_fixtures(dir.path() / "tenants");
    set_plan(dir.path() / "tenants", "gece-butik", "free");  // 2 messages a customer a minute
    ::setenv("TEZGAH_GECE_BUTIK__TWILIO_AUTH_TOKEN", kToken, 1);
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["channels"].as_object()["twilio"] =
            json::object{{"account_sid", kSid},     {"auth_token", "${TEZGAH_GECE_BUTIK__TWILIO_AUTH_TOKEN}"},
                         {"from", kFrom},           {"api_base_url", twilio.url()},
                         {"reply_within_ms", 8000}, {"burst_window_ms", 0}};
    });
    write(dir.path() / "plans.json", kPlans);
    // Five seconds into a minute: the test's requests stay in one window.
    ServeProcess serve(dir.path(), "127.0.0.1:0",
                       {"--plans", (dir.path() / "plans.json").string(), "--clock", "2026-12-03T10:00:05Z"});
    const auto port = port_of(serve.ready_line());
    ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");
    const std::string path = "/v1/tenants/gece-butik/channels/twilio";
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
    const std::string user = "whatsapp:+905551110009";
    auto post = [&](int n, const std::string& text) {
        const auto form = inbound("SM0000000000000000000000000000010" + std::to_string(n), user, text);
        return http_request(port, "POST", path, form_body(form),
                            {{"Content-Type", "application/x-www-form-urlencoded"},
                             {"X-Twilio-Signature", twilio_signature(kToken, url, form)}});
    };
    for (int n = 1; n <= 2; ++n) {
        auto answered = post(n, "saten gecelik ne kadar?");
        ASSERT_EQ(answered.status, 200) << answered.body;
        EXPECT_TRUE(contains(answered.body, "TL")) << answered.body;
    }
    auto told = post(3, "bir de kimono var mı?");
    ASSERT_EQ(told.status, 200) << told.body;
    EXPECT_TRUE(contains(told.body, "<Message>")) << told.body;
    EXPECT_TRUE(contains(told.body, "bir dakika sonra tekrar yazın")) << told.body;
    auto silent = post(4, "cevap verir misiniz?");
    ASSERT_EQ(silent.status, 200) << silent.body;
    EXPECT_EQ(silent.body, kEmptyTwiml);
    // Nothing was sent through the Messages API, and every message is stored.
    EXPECT_EQ(twilio.server().request_count(), 0u);
    auto db = engine::Database::open("sqlite:" + (dir.path() / "var" / "tezgah.db").string());
    ASSERT_TRUE(db);
    auto conversation = (*db)->open_conversation("gece-butik", user, "twilio", "",
                                                 std::chrono::system_clock::now(), 3600s * 24 * 365 * 10);
    ASSERT_TRUE(conversation);
    auto messages = (*db)->recent_messages("gece-butik", conversation->id, 50);
    ASSERT_TRUE(messages);
    std::vector<std::string> texts;
    for (const auto& m : *messages) texts.push_back(m.text);
    EXPECT_NE(std::find(texts.begin(), texts.end(), "bir de kimono var mı?"), texts.end());
    EXPECT_NE(std::find(texts.begin(), texts.end(), "cevap verir misiniz?"), texts.end());
}

// --- the plans file on the command line ---

/// Runs the binary with `args`; its exit status, and standard output and error in `output`.
int run_tezgah(const std::string& args, std::string& output) {
    const std::string command =
        (fs::path(TEZGAH_BINARY_DIR) / "bin" / "tezgah").string() + " " + args + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return -1;
    std::array<char, 4096> buffer{};
    output.clear();
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
    const int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PlansOnTheCommandLine, ServeRefusesToStartOnABrokenPlansFile) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    write(dir.path() / "plans.json", R"({"plans": {"basic": {"messages_per_minute": 0}}})");
    ServeProcess serve(dir.path(), "127.0.0.1:0", {"--plans", (dir.path() / "plans.json").string()});
    EXPECT_EQ(serve.ready_line(), "");
    EXPECT_EQ(serve.wait(), 2);
    EXPECT_TRUE(contains(slurp(dir.path() / "serve.log"),
                         "tezgah serve: " + (dir.path() / "plans.json").string() +
                             ": plans.basic.messages_per_minute: must be a positive integer"))
        << slurp(dir.path() / "serve.log");
}

TEST(PlansOnTheCommandLine, CheckNamesAManifestsPlanThePlansFileLacks) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    write(dir.path() / "plans.json", R"({"plans": {"premium": {"messages_per_minute": 100}}})");
    const std::string plugins = "--plugins " + plugin_dir().string();
    std::string output;
    // gece-butik is on basic, nefes-studyo on premium.
    EXPECT_EQ(run_tezgah("check " + (dir.path() / "tenants").string() + " " + plugins + " --plans " +
                             (dir.path() / "plans.json").string(),
                         output),
              1);
    EXPECT_TRUE(contains(output, "gece-butik/tenant.json: plan: \"basic\" is not a plan of " +
                                     (dir.path() / "plans.json").string()))
        << output;
    EXPECT_FALSE(contains(output, "nefes-studyo/tenant.json: plan")) << output;
    // Without the file, as before.
    EXPECT_EQ(run_tezgah("check " + (dir.path() / "tenants").string() + " " + plugins, output), 0) << output;
}

}  // namespace
}  // namespace tezgah::testing
