// A value a manifest read from the environment is never shown by the server: not on
// /health/detailed, not in the log, not in an error a client gets, whether the tenant failed its
// check at start or failed to build a plugin when first used. The variable is named instead.
#include "http/http_fixture.hpp"

#include "support/captured_log.hpp"
#include "support/fake_openai.hpp"

#include <cstdlib>

namespace tezgah::testing {
namespace {

constexpr const char* kSecret = "s3cr3t-4711";

class SecretsOverHttp : public ServerFixture {
protected:
    void TearDown() override {
        ServerFixture::TearDown();
        for (const char* name :
             {"TEZGAH_GECE_BUTIK__TZ", "TEZGAH_GECE_BUTIK__BASE_URL", "TEZGAH_GECE_BUTIK__MODEL",
              "TEZGAH_NEFES_STUDYO__MODEL", "TEZGAH_NEFES_STUDYO__GEMINI_API_KEY",
              "TEZGAH_NEFES_STUDYO__PHONE", "SERVER_SECRET"})
            ::unsetenv(name);
    }

    /// The `error` /health/detailed shows for `tenant`.
    std::string health_error(const std::string& tenant) {
        auto detailed = http_request(port, "GET", "/health/detailed");
        EXPECT_EQ(detailed.status, 200) << detailed.body;
        EXPECT_EQ(detailed.body.find(kSecret), std::string::npos) << detailed.body;
        const auto body = detailed.json();
        for (const auto& t : body.at("tenants").as_array()) {
            if (t.at("id").as_string() != tenant) continue;
            const auto* error = t.as_object().if_contains("error");
            return error ? std::string(error->as_string()) : std::string();
        }
        return "(not listed)";
    }

    // Outlives the server (TearDown stops it before the members go).
    CapturedLog captured;
};

TEST_F(SecretsOverHttp, ATenantFailingItsCheckNamesTheVariableOnHealthAndInTheLog) {
    ::setenv("TEZGAH_GECE_BUTIK__TZ", (std::string("Mars/") + kSecret).c_str(), 1);
    ::setenv("TEZGAH_GECE_BUTIK__BASE_URL", (std::string("ftp://") + kSecret + ".example/v1").c_str(), 1);
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["locale"].as_object()["timezone"] = "${TEZGAH_GECE_BUTIK__TZ}";
        v.as_object()["llm"] = json::object{
            {"provider", "openai"}, {"model", "gpt-4o-mini"}, {"base_url", "${TEZGAH_GECE_BUTIK__BASE_URL}"}};
    });
    start();
    auto reply = chat("gece-butik", chat_body("merhaba", "u1"));
    EXPECT_EQ(reply.status, 503) << reply.body;
    EXPECT_EQ(reply.body.find(kSecret), std::string::npos) << reply.body;

    const auto error = health_error("gece-butik");
    EXPECT_NE(error.find("locale.timezone: the value of ${TEZGAH_GECE_BUTIK__TZ} is not a known time zone"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("llm.base_url: expected an http:// or https:// URL, got the value of "
                         "${TEZGAH_GECE_BUTIK__BASE_URL}"),
              std::string::npos)
        << error;
    EXPECT_FALSE(captured.lines_with("tenant failed").empty()) << captured.text();
    EXPECT_NE(captured.text().find("${TEZGAH_GECE_BUTIK__TZ}"), std::string::npos) << captured.text();
    EXPECT_EQ(captured.text().find(kSecret), std::string::npos) << captured.text();
    // The other tenant keeps serving.
    EXPECT_EQ(chat("nefes-studyo", chat_body("merhaba", "u1")).status, 200);
}

TEST_F(SecretsOverHttp, APluginRefusingItsConfigWhenTheTenantLoadsDoesNotShowTheValue) {
    // Valid by the key table, so the tenant passes its check; gemini's factory refuses the model
    // name and quotes it.
    ::setenv("TEZGAH_NEFES_STUDYO__GEMINI_API_KEY", (std::string("AIza-") + kSecret).c_str(), 1);
    ::setenv("TEZGAH_NEFES_STUDYO__MODEL", (std::string("models/bad/") + kSecret).c_str(), 1);
    edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json", [](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "gemini"},
                                            {"api_key", "${TEZGAH_NEFES_STUDYO__GEMINI_API_KEY}"},
                                            {"model", "${TEZGAH_NEFES_STUDYO__MODEL}"}};
    });
    start();
    EXPECT_EQ(health_error("nefes-studyo"), "");
    auto reply = chat("nefes-studyo", chat_body("merhaba", "u1"));
    EXPECT_EQ(reply.status, 503) << reply.body;
    EXPECT_EQ(reply.body.find(kSecret), std::string::npos) << reply.body;
    const auto error = health_error("nefes-studyo");
    EXPECT_NE(error.find("llm: model: expected a model name such as gemini-2.0-flash, got the value of "
                         "${TEZGAH_NEFES_STUDYO__MODEL}"),
              std::string::npos)
        << error;
    EXPECT_FALSE(captured.lines_with("tenant failed to load").empty()) << captured.text();
    EXPECT_EQ(captured.text().find(kSecret), std::string::npos) << captured.text();
}

TEST_F(SecretsOverHttp, AProvidersErrorQuotingAValueIsLoggedWithTheVariableNamed) {
    // The server refuses the model and quotes its name, as OpenAI does; the plugin's error is
    // logged by the engine ("provider failed"), and the offline assistant answers.
    const std::string model = std::string("gpt-") + kSecret;
    ::setenv("TEZGAH_GECE_BUTIK__MODEL", model.c_str(), 1);
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::error(
        404, "invalid_request_error",
        "The model `" + model + "` does not exist or you do not have access to it.", "model_not_found"));
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"api_key", "k"},
                                            {"base_url", fake.base_url()},
                                            {"model", "${TEZGAH_GECE_BUTIK__MODEL}"},
                                            {"max_retries", 0}};
    });
    start();
    auto reply = chat("gece-butik", chat_body("saten gecelik ne kadar?", "u1"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.json().at("method").as_string(), "fallback") << reply.body;
    EXPECT_EQ(reply.body.find(kSecret), std::string::npos) << reply.body;
    EXPECT_EQ(fake.requests().size(), 1u);
    const auto failed = captured.lines_with("provider failed");
    ASSERT_FALSE(failed.empty()) << captured.text();
    EXPECT_NE(json::serialize(failed.front()).find("${TEZGAH_GECE_BUTIK__MODEL}"), std::string::npos)
        << captured.text();
    EXPECT_EQ(captured.text().find(kSecret), std::string::npos) << captured.text();
    EXPECT_EQ(health_error("gece-butik"), "");
}

// The probe's attack: a manifest that reads the server's or another tenant's variable, to tell it
// to customers or send it to a base_url of its choosing. The tenant is refused, nothing is read.
TEST_F(SecretsOverHttp, AManifestCannotReadTheServersOrAnotherTenantsVariables) {
    ::setenv("SERVER_SECRET", kSecret, 1);
    ::setenv("TEZGAH_NEFES_STUDYO__PHONE", kSecret, 1);
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["business"].as_object()["phone"] = "${TEZGAH_NEFES_STUDYO__PHONE}";
        v.as_object()["persona"].as_object()["instructions"] = "${SERVER_SECRET}";
    });
    start();
    auto reply = chat("gece-butik", chat_body("telefon numaranız ne?", "u1"));
    EXPECT_EQ(reply.status, 503) << reply.body;
    EXPECT_EQ(reply.body.find(kSecret), std::string::npos) << reply.body;
    const auto error = health_error("gece-butik");
    EXPECT_NE(error.find("${TEZGAH_NEFES_STUDYO__PHONE} is not this tenant's variable"), std::string::npos)
        << error;
    EXPECT_NE(error.find("${SERVER_SECRET} is not this tenant's variable"), std::string::npos) << error;
    EXPECT_EQ(captured.text().find(kSecret), std::string::npos) << captured.text();
    // The tenant the variable belongs to is unaffected.
    EXPECT_EQ(chat("nefes-studyo", chat_body("merhaba", "u1")).status, 200);
}

// A symbolic link in one tenant's folder must not serve another tenant's data, or any file.
TEST_F(SecretsOverHttp, ASymbolicLinkOutOfTheTenantFolderIsRefusedAndNothingIsServedFromIt) {
    const auto offerings = dir.path() / "tenants" / "gece-butik" / "data" / "offerings.json";
    fs::remove(offerings);
    fs::create_symlink(dir.path() / "tenants" / "nefes-studyo" / "data" / "offerings.json", offerings);
    const auto knowledge = dir.path() / "tenants" / "gece-butik" / "data" / "knowledge.json";
    fs::remove(knowledge);
    fs::create_symlink("/etc/passwd", knowledge);
    start();
    auto reply = chat("gece-butik", chat_body("reformer pilates ne kadar?", "u1"));
    EXPECT_EQ(reply.status, 503) << reply.body;
    EXPECT_EQ(lower(reply.body).find("reformer"), std::string::npos) << reply.body;
    const auto error = health_error("gece-butik");
    EXPECT_NE(error.find("leads outside the tenant folder"), std::string::npos) << error;
    EXPECT_EQ(error.find("root:"), std::string::npos) << error;
    EXPECT_EQ(captured.text().find("root:x:"), std::string::npos);
}

}  // namespace
}  // namespace tezgah::testing
