// "${NAME}" in a manifest: a tenant reads its own variables (TEZGAH_<ID>__<REST>) and the ones the
// operator shares, nothing else; a value read so never shows in a problem's message, even one a
// plugin's config check or factory writes.
#include "plugins/registry.hpp"
#include "store/database.hpp"
#include "tenants/manifest.hpp"
#include "tenants/tenant.hpp"
#include "util/host.hpp"

#include "support/captured_log.hpp"
#include "support/temp_tenants.hpp"
#include "tenants/check_problems.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace tezgah::engine;
using namespace tezgah::testing;

namespace {

/// Sets environment variables for one test and removes them after it.
class Environment {
public:
    Environment& set(const std::string& name, const std::string& value) {
        ::setenv(name.c_str(), value.c_str(), 1);
        names_.push_back(name);
        return *this;
    }
    ~Environment() {
        for (const auto& name : names_) ::unsetenv(name.c_str());
    }

private:
    std::vector<std::string> names_;
};

class SecretsTest : public ::testing::Test {
protected:
    void SetUp() override {
        registry.load_directories({plugin_dir()});
        copy_fixtures(dir.path());
    }

    fs::path manifest(const std::string& tenant = "gece-butik") const {
        return dir.path() / tenant / "tenant.json";
    }

    std::vector<std::string> problems_of(const std::string& tenant, const SharedEnv& shared = {}) {
        return check_problems(dir.path() / tenant, registry, shared);
    }

    static bool has(const std::vector<std::string>& problems, const std::string& needle) {
        return has_problem(problems, needle);
    }
    static std::string all(const std::vector<std::string>& problems) { return problem_lines(problems); }

    TempDir dir;
    PluginRegistry registry;
    Environment env;
};

TEST_F(SecretsTest, ATenantReadsItsOwnVariables) {
    EXPECT_EQ(tenant_env_prefix("gece-butik"), "TEZGAH_GECE_BUTIK__");
    env.set("TEZGAH_GECE_BUTIK__PERSONA", "Ayla").set("TEZGAH_GECE_BUTIK__OPENAI_API_KEY", "sk-own");
    edit_json(manifest(), [](json::value& v) {
        v.as_object()["persona"].as_object()["name"] = "${TEZGAH_GECE_BUTIK__PERSONA}";
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"model", "gpt-4o-mini"},
                                            {"api_key", "${TEZGAH_GECE_BUTIK__OPENAI_API_KEY}"}};
    });
    auto problems = problems_of("gece-butik");
    EXPECT_TRUE(problems.empty()) << all(problems);
    auto loaded = load_manifest(dir.path() / "gece-butik", &registry);
    ASSERT_TRUE(loaded.manifest);
    EXPECT_EQ(loaded.manifest->profile.persona.name, "Ayla");
    EXPECT_EQ(loaded.manifest->llm.config.at("api_key"), "sk-own");
}

TEST_F(SecretsTest, AnyOtherVariableIsRefusedSayingHowToMakeItTheTenants) {
    env.set("OPENAI_API_KEY", "sk-server-wide")
        .set("TEZGAH_GECE__TONE", "tone-of-gece")
        .set("TEZGAH_NEFES_STUDYO__PHONE", "+90 555 000 11 22")
        .set("TEZGAH_SECRET_KEY", "engine-signing-key");
    edit_json(manifest(), [](json::value& v) {
        auto& o = v.as_object();
        o["llm"] =
            json::object{{"provider", "openai"}, {"model", "gpt-4o-mini"}, {"api_key", "${OPENAI_API_KEY}"}};
        o["persona"].as_object()["tone"] = "${TEZGAH_GECE__TONE}";  // the double underscore ends the id
        o["business"].as_object()["phone"] = "${TEZGAH_NEFES_STUDYO__PHONE}";
        o["persona"].as_object()["instructions"] = "${TEZGAH_SECRET_KEY}";
    });
    auto problems = problems_of("gece-butik");
    const std::string f = manifest().string() + ": ";
    // The message says which names this tenant reads, and how to make the one it wants readable.
    EXPECT_TRUE(has(problems, f + "llm.api_key: ${OPENAI_API_KEY} is not this tenant's variable: gece-butik "
                                  "reads TEZGAH_GECE_BUTIK__<NAME> and the variables shared with "
                                  "--shared-env (now none); name it TEZGAH_GECE_BUTIK__OPENAI_API_KEY, or "
                                  "share it with --shared-env OPENAI_API_KEY"))
        << all(problems);
    // TEZGAH_ names are never shared: renaming is the only way.
    EXPECT_TRUE(has(problems, f + "persona.tone: ${TEZGAH_GECE__TONE} is not this tenant's variable: "
                                  "gece-butik reads TEZGAH_GECE_BUTIK__<NAME> and the variables shared with "
                                  "--shared-env (now none); name it TEZGAH_GECE_BUTIK__TONE"))
        << all(problems);
    EXPECT_TRUE(has(problems, f + "business.phone: ${TEZGAH_NEFES_STUDYO__PHONE} is not this tenant's "
                                  "variable: gece-butik reads TEZGAH_GECE_BUTIK__<NAME> and the variables "
                                  "shared with --shared-env (now none); name it TEZGAH_GECE_BUTIK__PHONE"))
        << all(problems);
    EXPECT_TRUE(has(problems, f + "persona.instructions: ${TEZGAH_SECRET_KEY} is not this tenant's variable: "
                                  "gece-butik reads TEZGAH_GECE_BUTIK__<NAME> and the variables shared with "
                                  "--shared-env (now none); name it TEZGAH_GECE_BUTIK__SECRET_KEY"))
        << all(problems);
    EXPECT_FALSE(has(problems, "share it with --shared-env TEZGAH_")) << all(problems);
    // With variables shared, the message lists them.
    auto with_shared = problems_of("gece-butik", {"SMTP_PASSWORD", "MAPS_KEY"});
    EXPECT_TRUE(has(with_shared,
                    "llm.api_key: ${OPENAI_API_KEY} is not this tenant's variable: gece-butik "
                    "reads TEZGAH_GECE_BUTIK__<NAME> and the variables shared with --shared-env "
                    "(now MAPS_KEY, SMTP_PASSWORD); name it"))
        << all(with_shared);
    // Nothing was read.
    auto loaded = load_manifest(dir.path() / "gece-butik", &registry);
    ASSERT_TRUE(loaded.manifest);
    EXPECT_EQ(loaded.manifest->profile.phone, "");
    EXPECT_EQ(loaded.manifest->profile.persona.instructions, "");
    EXPECT_EQ(loaded.manifest->llm.config.at("api_key"), "");
    for (const char* value : {"sk-server-wide", "tone-of-gece", "000 11 22", "engine-signing-key"})
        EXPECT_EQ(all(problems).find(value), std::string::npos) << value;
}

TEST_F(SecretsTest, AVariableTheOperatorSharesIsReadByEveryTenant) {
    env.set("OPENAI_API_KEY", "sk-shared");
    for (const char* tenant : {"gece-butik", "nefes-studyo"}) {
        edit_json(manifest(tenant), [](json::value& v) {
            v.as_object()["llm"] = json::object{
                {"provider", "openai"}, {"model", "gpt-4o-mini"}, {"api_key", "${OPENAI_API_KEY}"}};
        });
        auto problems = problems_of(tenant, {"OPENAI_API_KEY"});
        EXPECT_TRUE(problems.empty()) << all(problems);
        auto loaded = load_manifest(dir.path() / tenant, &registry, {"OPENAI_API_KEY"});
        ASSERT_TRUE(loaded.manifest);
        EXPECT_EQ(loaded.manifest->llm.config.at("api_key"), "sk-shared");
    }
}

TEST_F(SecretsTest, AnUnsetVariableOfTheTenantIsNamed) {
    ::unsetenv("TEZGAH_GECE_BUTIK__PERSONA");
    ::unsetenv("SHARED_PERSONA");
    edit_json(manifest(), [](json::value& v) {
        v.as_object()["persona"].as_object()["name"] = "${TEZGAH_GECE_BUTIK__PERSONA}";
        v.as_object()["persona"].as_object()["tone"] = "${SHARED_PERSONA}";
    });
    auto problems = problems_of("gece-butik", {"SHARED_PERSONA"});
    EXPECT_TRUE(has(problems, "persona.name: environment variable TEZGAH_GECE_BUTIK__PERSONA is not set"))
        << all(problems);
    EXPECT_TRUE(has(problems, "persona.tone: environment variable SHARED_PERSONA is not set"))
        << all(problems);
}

TEST_F(SecretsTest, TheIdNamesTheVariablesSoItCannotComeFromTheEnvironment) {
    env.set("TEZGAH_GECE_BUTIK__ID", "gece-butik").set("TEZGAH_GECE_BUTIK__PERSONA", "Ayla");
    edit_json(manifest(), [](json::value& v) {
        v.as_object()["id"] = "${TEZGAH_GECE_BUTIK__ID}";
        v.as_object()["persona"].as_object()["name"] = "${TEZGAH_GECE_BUTIK__PERSONA}";
    });
    auto problems = problems_of("gece-butik");
    EXPECT_TRUE(has(problems, "id: \"${TEZGAH_GECE_BUTIK__ID}\": the id cannot come from the environment"))
        << all(problems);
    EXPECT_TRUE(has(problems,
                    "persona.name: ${TEZGAH_GECE_BUTIK__PERSONA} is not read: a tenant's own variables are "
                    "named after its id, and this manifest's id is missing or not right, so it reads only "
                    "the variables shared with --shared-env (now none)"))
        << all(problems);

    // An id that is not the folder's name reads no variable either: not another tenant's, not its own.
    env.set("TEZGAH_NEFES_STUDYO__PERSONA", "Nefes");
    edit_json(manifest(), [](json::value& v) {
        v.as_object()["id"] = "nefes-studyo";
        v.as_object()["persona"].as_object()["name"] = "${TEZGAH_NEFES_STUDYO__PERSONA}";
    });
    problems = problems_of("gece-butik");
    EXPECT_TRUE(has(problems, "id: \"nefes-studyo\" must equal the folder name \"gece-butik\""))
        << all(problems);
    EXPECT_TRUE(has(problems, "persona.name: ${TEZGAH_NEFES_STUDYO__PERSONA} is not read")) << all(problems);
}

TEST_F(SecretsTest, AnIdWithADoubleDashCannotNameVariables) {
    fs::rename(dir.path() / "gece-butik", dir.path() / "gece--butik");
    env.set("TEZGAH_GECE__BUTIK__PERSONA", "Ayla");
    edit_json(manifest("gece--butik"), [](json::value& v) {
        v.as_object()["id"] = "gece--butik";
        v.as_object()["persona"].as_object()["name"] = "${TEZGAH_GECE__BUTIK__PERSONA}";
    });
    auto problems = problems_of("gece--butik");
    EXPECT_TRUE(has(problems,
                    "persona.name: ${TEZGAH_GECE__BUTIK__PERSONA} is not read: the id \"gece--butik\" "
                    "cannot name variables (\"--\" or a trailing \"-\" makes a double underscore, which "
                    "ends the id in TEZGAH_<ID>__<REST>), so it reads only the variables shared with "
                    "--shared-env (now none); rename the tenant"))
        << all(problems);

    // A name without the prefix can be shared with it, and is then read.
    env.set("BUTIK_PERSONA", "Ayla");
    edit_json(manifest("gece--butik"),
              [](json::value& v) { v.as_object()["persona"].as_object()["name"] = "${BUTIK_PERSONA}"; });
    EXPECT_TRUE(has(problems_of("gece--butik"), "; share it with --shared-env BUTIK_PERSONA"))
        << all(problems_of("gece--butik"));
    EXPECT_TRUE(problems_of("gece--butik", {"BUTIK_PERSONA"}).empty()) << all(problems_of("gece--butik"));
}

TEST_F(SecretsTest, AValueFromTheEnvironmentIsNeverShownInAProblem) {
    env.set("TEZGAH_GECE_BUTIK__TZ", "Mars/s3cr3t-zone")
        .set("TEZGAH_GECE_BUTIK__PLAN", "gold-s3cr3t")
        .set("TEZGAH_GECE_BUTIK__EMAIL", "no-at-sign-s3cr3t")
        .set("TEZGAH_GECE_BUTIK__BASE_URL", "ftp://s3cr3t.example/v1")
        .set("TEZGAH_GECE_BUTIK__TOOL", "weather-s3cr3t")
        .set("TEZGAH_GECE_BUTIK__OFFERINGS", "../s3cr3t/offerings.json")
        .set("TEZGAH_GECE_BUTIK__HANDOFF", "handoff-s3cr3t")
        .set("TEZGAH_GECE_BUTIK__KNOWLEDGE", "data/s3cr3t-knowledge.json")
        .set("TEZGAH_GECE_BUTIK__RULE", "rules/s3cr3t.lua");
    write(dir.path() / "gece-butik" / "data" / "s3cr3t-knowledge.json", "[{\"id\": 1,");
    write(dir.path() / "gece-butik" / "rules" / "s3cr3t.lua", "return tezgah.rule {\n");
    edit_json(manifest(), [](json::value& v) {
        auto& o = v.as_object();
        o["plan"] = "${TEZGAH_GECE_BUTIK__PLAN}";
        o["locale"].as_object()["timezone"] = "${TEZGAH_GECE_BUTIK__TZ}";
        o["business"].as_object()["email"] = "${TEZGAH_GECE_BUTIK__EMAIL}";
        o["llm"] = json::object{
            {"provider", "openai"}, {"model", "gpt-4o-mini"}, {"base_url", "${TEZGAH_GECE_BUTIK__BASE_URL}"}};
        o["tools"].as_array().push_back("${TEZGAH_GECE_BUTIK__TOOL}");
        o["data"].as_object()["offerings"] = "${TEZGAH_GECE_BUTIK__OFFERINGS}";
        o["data"].as_object()["knowledge"] = "${TEZGAH_GECE_BUTIK__KNOWLEDGE}";
        o["rules"] = json::array{"${TEZGAH_GECE_BUTIK__RULE}"};
        o["handoff"].as_object()["topics"] = "${TEZGAH_GECE_BUTIK__HANDOFF}";
    });
    auto problems = problems_of("gece-butik");
    const std::string f = manifest().string() + ": ";
    EXPECT_TRUE(
        has(problems, f + "locale.timezone: the value of ${TEZGAH_GECE_BUTIK__TZ} is not a known time zone"))
        << all(problems);
    EXPECT_TRUE(has(problems, f + "plan: the value of ${TEZGAH_GECE_BUTIK__PLAN} is not one of"))
        << all(problems);
    EXPECT_TRUE(
        has(problems, f + "business.email: the value of ${TEZGAH_GECE_BUTIK__EMAIL} is not an e-mail"))
        << all(problems);
    // The plugin's config check, in the SDK, quotes what it was given.
    EXPECT_TRUE(has(problems, f + "llm.base_url: expected an http:// or https:// URL, got the value of "
                                  "${TEZGAH_GECE_BUTIK__BASE_URL}"))
        << all(problems);
    EXPECT_TRUE(has(problems, f + "tools[2]: unknown tool plugin the value of ${TEZGAH_GECE_BUTIK__TOOL}"))
        << all(problems);
    EXPECT_TRUE(
        has(problems, f + "data.offerings: the value of ${TEZGAH_GECE_BUTIK__OFFERINGS} must be a path "
                          "inside the tenant folder"))
        << all(problems);
    EXPECT_TRUE(has(problems, f + "handoff.topics: expected array")) << all(problems);
    // A file named by a variable: the problems in it name the variable in their path too.
    EXPECT_TRUE(has(problems, (dir.path() / "gece-butik").string() + "/${TEZGAH_GECE_BUTIK__KNOWLEDGE}: -: "))
        << all(problems);
    EXPECT_TRUE(has(problems, "${TEZGAH_GECE_BUTIK__RULE}")) << all(problems);
    EXPECT_EQ(all(problems).find("s3cr3t"), std::string::npos) << all(problems);
}

TEST_F(SecretsTest, APluginFactorysMessageDoesNotShowAValueEither) {
    // gemini's factory checks the model name beyond what its key table says, and quotes it.
    env.set("TEZGAH_GECE_BUTIK__GEMINI_API_KEY", "AIza-s3cr3t-key")
        .set("TEZGAH_GECE_BUTIK__MODEL", "bad/s3cr3t");
    edit_json(manifest(), [](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "gemini"},
                                            {"api_key", "${TEZGAH_GECE_BUTIK__GEMINI_API_KEY}"},
                                            {"model", "${TEZGAH_GECE_BUTIK__MODEL}"}};
    });
    EXPECT_TRUE(problems_of("gece-butik").empty()) << all(problems_of("gece-butik"));
    auto db = Database::open("sqlite:" + (dir.path() / "tezgah.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    NoHttpClient http;
    auto tenant = load_tenant(dir.path() / "gece-butik", registry, **db, SystemClock::instance(), http);
    ASSERT_FALSE(tenant.ok());
    const auto& message = tenant.error().message;
    EXPECT_NE(message.find("llm: model: expected a model name such as gemini-2.0-flash, got the value of "
                           "${TEZGAH_GECE_BUTIK__MODEL}"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
}

TEST(EnvValues, HideEveryValueNamingItsVariable) {
    EnvValues values;
    values.add("llm.api_key", "TEZGAH_T__KEY", "abcd1234");
    values.add("llm.model", "TEZGAH_T__PART", "abcd");
    values.add("locale.currency", "TEZGAH_T__CUR", "TR");
    values.add("persona.name", "TEZGAH_T__EMPTY", "");
    // Quoted as messages quote values, any length; bare, only from kMinBareLength characters.
    EXPECT_EQ(values.redact("got \"TR\", or TR"), "got the value of ${TEZGAH_T__CUR}, or TR");
    // The longest value wins where two start at the same place: none of the longer one is left.
    EXPECT_EQ(values.redact("key=abcd1234 then abcd"), "key=${TEZGAH_T__KEY} then ${TEZGAH_T__PART}");
    EXPECT_EQ(values.redact("\"abcd1234\""), "the value of ${TEZGAH_T__KEY}");
    // A replacement is not searched again.
    EnvValues inside;
    inside.add("a", "TEZGAH_T__A", "value");
    EXPECT_EQ(inside.redact("\"value\" and value"), "the value of ${TEZGAH_T__A} and ${TEZGAH_T__A}");
    // Two variables with one value: the one read at the problem's field names it.
    EnvValues same;
    same.add("business.phone", "TEZGAH_T__PHONE", "5551234");
    same.add("persona.name", "TEZGAH_T__NAME", "5551234");
    EXPECT_EQ(same.redact("\"5551234\"", "persona.name"), "the value of ${TEZGAH_T__NAME}");
    EXPECT_EQ(same.redact("\"5551234\"", "business.phone"), "the value of ${TEZGAH_T__PHONE}");
    EXPECT_TRUE(EnvValues().redact("nothing to hide") == "nothing to hide");
}

TEST(TenantLoggerTest, APluginsLogLineNamesTheVariableNotItsValue) {
    CapturedLog captured;
    EnvValues values;
    values.add("channels.webhook.secret", "TEZGAH_T__HOOK", "hook-s3cr3t");
    TenantLogger logger("channel", "webhook", "t", values);
    logger.log(tezgah::sdk::LogLevel::warn, "refused a request: x-webhook-secret is not hook-s3cr3t");
    const auto lines = captured.lines_with("refused a request");
    ASSERT_EQ(lines.size(), 1u) << captured.text();
    EXPECT_EQ(lines[0].at("message").as_string(),
              "refused a request: x-webhook-secret is not ${TEZGAH_T__HOOK}");
    EXPECT_EQ(captured.text().find("s3cr3t"), std::string::npos) << captured.text();
}

TEST(SharedEnvList, NamesSeparatedByCommas) {
    auto parsed = parse_shared_env(" OPENAI_API_KEY, SMTP_PASSWORD,,");
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, (SharedEnv{"OPENAI_API_KEY", "SMTP_PASSWORD"}));
    EXPECT_TRUE(parse_shared_env("")->empty());
    auto bad = parse_shared_env("OPENAI_API_KEY,1BAD");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(
        bad.error().message,
        "\"1BAD\" is not an environment variable name (letters, digits and _, not starting with a digit)");
    auto engine_own = parse_shared_env("TEZGAH_GECE_BUTIK__KEY");
    ASSERT_FALSE(engine_own.ok());
    EXPECT_NE(
        engine_own.error().message.find("TEZGAH_GECE_BUTIK__KEY: TEZGAH_ variables are the engine's own"),
        std::string::npos)
        << engine_own.error().message;
}

}  // namespace
