// A tenant whose manifest sets no `llm.budget` gets the operator's default daily budget
// (`tezgah serve --default-daily-usd`, TEZGAH_DEFAULT_DAILY_USD; 10 USD unless set), never an
// unlimited one: over real HTTP against the binary, with a paid model served by a fake provider.
#include "security/security_fixture.hpp"

#include "support/fake_openai.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace tezgah::testing {
namespace {

class DefaultBudget : public ::testing::Test {
protected:
    void SetUp() override {
        copy_fixtures(dir.path() / "tenants");
        // gece-butik on a paid model, without a budget; the response cache off so each turn asks.
        edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
            v.as_object()["llm"] = json::object{
                {"provider", "openai"},   {"api_key", "test-key"}, {"base_url", fake.base_url()},
                {"model", "gpt-4o-mini"}, {"max_retries", 1},      {"cache", json::object{{"ttl_s", 0}}}};
        });
    }
    void TearDown() override { ::unsetenv("TEZGAH_DEFAULT_DAILY_USD"); }

    std::string method_of(std::uint16_t port, const std::string& user) {
        auto reply = http_request(port, "POST", "/v1/tenants/gece-butik/chat",
                                  chat_body("saten gecelik ne kadar?", user));
        EXPECT_EQ(reply.status, 200) << reply.body;
        return reply.status == 200 ? std::string(reply.json().at("method").as_string()) : "";
    }

    FakeOpenAi fake;
    TempDir dir;
};

TEST_F(DefaultBudget, ATenantWithoutABudgetStopsAtTheOperatorsDefault) {
    ServeProcess serve(dir.path(), "127.0.0.1:0", {"--default-daily-usd", "0.0000001"});
    const auto port = port_of(serve.ready_line());
    ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");
    EXPECT_EQ(method_of(port, "a"), "llm");
    const auto calls = fake.request_count();
    EXPECT_EQ(method_of(port, "b"), "fallback");  // the offline assistant: nothing more spent
    EXPECT_EQ(fake.request_count(), calls);
}

TEST_F(DefaultBudget, TheEnvironmentSetsItTooAndTheDefaultOfTenDollarsLetsTurnsThrough) {
    {
        ::setenv("TEZGAH_DEFAULT_DAILY_USD", "0.0000001", 1);
        ServeProcess serve(dir.path());
        const auto port = port_of(serve.ready_line());
        ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");
        EXPECT_EQ(method_of(port, "c"), "llm");
        EXPECT_EQ(method_of(port, "d"), "fallback");
        ::unsetenv("TEZGAH_DEFAULT_DAILY_USD");
    }
    // Unset: 10 USD a day, far above what two turns cost (spend is per day: the turns above count).
    TempDir other;
    copy_fixtures(other.path() / "tenants");
    fs::copy_file(dir.path() / "tenants" / "gece-butik" / "tenant.json",
                  other.path() / "tenants" / "gece-butik" / "tenant.json",
                  fs::copy_options::overwrite_existing);
    ServeProcess serve(other.path());
    const auto port = port_of(serve.ready_line());
    ASSERT_NE(port, 0) << slurp(other.path() / "serve.log");
    EXPECT_EQ(method_of(port, "e"), "llm");
    EXPECT_EQ(method_of(port, "f"), "llm");
}

TEST_F(DefaultBudget, ABadValueIsRefusedAtStart) {
    for (const std::string value : {"-1", "ten", ""}) {
        SCOPED_TRACE(value);
        ServeProcess serve(dir.path(), "127.0.0.1:0", {"--default-daily-usd", value});
        EXPECT_EQ(serve.ready_line(), "");
        EXPECT_EQ(serve.wait(), 2);
        EXPECT_NE(slurp(dir.path() / "serve.log").find("--default-daily-usd"), std::string::npos);
    }
}

}  // namespace
}  // namespace tezgah::testing
