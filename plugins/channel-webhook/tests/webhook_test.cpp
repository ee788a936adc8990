// The webhook channel: request checks, field errors and the reply shape, through the SDK fakes.
#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <string>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::plugins::webhook {
namespace {

namespace json = boost::json;

sdk::HttpRequest post(std::string body, std::string content_type = "application/json") {
    sdk::HttpRequest request;
    request.method = "POST";
    request.path = "/webhook";
    if (!content_type.empty()) request.headers.emplace_back("content-type", std::move(content_type));
    request.body = std::move(body);
    return request;
}

std::string body(const json::object& fields) { return json::serialize(fields); }

const json::object kValid{{"mesaj_metni", "  saten gecelik ne kadar  "},
                          {"kullanici_id", "905551112233"},
                          {"isletme_id", "gece-butik"},
                          {"platform", "whatsapp"}};

class WebhookChannel : public ::testing::Test {
protected:
    void SetUp() override { channel_ = make({}); }

    sdk::ChannelPtr make(const json::object& config) {
        auto plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host_, config);
        auto* channel = dynamic_cast<sdk::Channel*>(plugin.get());
        if (channel == nullptr) return nullptr;
        plugin.release();
        return sdk::ChannelPtr(channel);
    }

    /// The error code of parsing `fields` with one field replaced (or removed when null).
    std::string error_with(std::string_view field, const json::value& value) {
        json::object fields = kValid;
        if (value.is_null())
            fields.erase(field);
        else
            fields[field] = value;
        auto parsed = channel_->parse(post(body(fields)));
        if (parsed.ok()) return "ok";
        EXPECT_NE(parsed.error().message.find(field), std::string::npos) << parsed.error().message;
        return parsed.error().code;
    }

    sdk::testing::FakeHost host_;
    sdk::ChannelPtr channel_;
};

TEST_F(WebhookChannel, MountsOneProcessWideRoute) {
    EXPECT_STREQ(tezgah_plugin_descriptor.name, "webhook");
    EXPECT_EQ(tezgah_plugin_descriptor.kind, sdk::PluginKind::channel);
    ASSERT_NE(channel_, nullptr);
    const auto routes = channel_->routes();
    ASSERT_EQ(routes.size(), 1U);
    EXPECT_EQ(routes[0].method, "POST");
    EXPECT_EQ(routes[0].path, "/webhook");
    EXPECT_EQ(routes[0].scope, sdk::RouteScope::process);
}

TEST_F(WebhookChannel, ParsesTheOrchestratorsBody) {
    json::object fields = kValid;
    fields["session_id"] = "s-1";
    fields["mesaj_id"] = "m-42";
    fields["unknown_extra"] = json::array{1, 2};
    auto parsed = channel_->parse(post(body(fields), "application/json; charset=utf-8"));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->text, "saten gecelik ne kadar");
    EXPECT_EQ(parsed->user_id, "905551112233");
    EXPECT_EQ(parsed->tenant_id, "gece-butik");
    EXPECT_EQ(parsed->channel, "webhook");
    EXPECT_EQ(parsed->platform, "whatsapp");
    EXPECT_EQ(parsed->session_id, "s-1");
    EXPECT_EQ(parsed->message_id, "m-42");
}

TEST_F(WebhookChannel, NumericUserIdAndDefaultPlatform) {
    json::object fields = kValid;
    fields["kullanici_id"] = 905551112233LL;
    fields.erase("platform");
    auto parsed = channel_->parse(post(body(fields)));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->user_id, "905551112233");
    EXPECT_EQ(parsed->platform, "webhook");
}

TEST_F(WebhookChannel, RequiresJsonContentType) {
    for (const auto* type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
        auto parsed = channel_->parse(post(body(kValid), type));
        ASSERT_FALSE(parsed.ok()) << type;
        EXPECT_EQ(parsed.error().code, "unsupported_media_type") << type;
        EXPECT_EQ(sdk::error_status(parsed.error().code), 415);
    }
    EXPECT_TRUE(channel_->parse(post(body(kValid), "Application/JSON")).ok());
}

TEST_F(WebhookChannel, RejectsBadAndTruncatedJson) {
    const std::string whole = body(kValid);
    for (const std::string& bad : {std::string("{not json"), whole.substr(0, whole.size() / 2),
                                   std::string(""), std::string("[1,2]"), std::string("\"text\"")}) {
        auto parsed = channel_->parse(post(bad));
        ASSERT_FALSE(parsed.ok()) << bad;
        EXPECT_EQ(parsed.error().code, "invalid_json") << bad;
        EXPECT_EQ(sdk::error_status(parsed.error().code), 400);
    }
}

// As the chat API: absent or null → 400 missing_field, the wrong type → 400 invalid_field, a value
// that is not acceptable (empty text, too long, invalid UTF-8, NUL) → 422 invalid_value.
TEST_F(WebhookChannel, MessageTextErrors) {
    EXPECT_EQ(error_with("mesaj_metni", nullptr), "missing_field");
    EXPECT_EQ(error_with("mesaj_metni", "   \n "), "invalid_value");
    EXPECT_EQ(error_with("mesaj_metni", ""), "invalid_value");
    EXPECT_EQ(error_with("mesaj_metni", 12), "invalid_field");
    EXPECT_EQ(error_with("mesaj_metni", json::value(std::string(4001, 'a'))), "invalid_value");
    EXPECT_EQ(error_with("mesaj_metni", json::value("gece\xff\xfe"
                                                    "lik")),
              "invalid_value");
    EXPECT_EQ(error_with("mesaj_metni", json::value(std::string("gece\0lik", 8))), "invalid_value");
    // 4000 characters of two bytes each are within the limit.
    std::string turkish;
    for (int i = 0; i < 4000; ++i) turkish += "ş";
    EXPECT_EQ(error_with("mesaj_metni", json::value(turkish)), "ok");
}

TEST_F(WebhookChannel, UserAndTenantErrors) {
    EXPECT_EQ(error_with("kullanici_id", nullptr), "missing_field");
    EXPECT_EQ(error_with("kullanici_id", ""), "missing_field");
    EXPECT_EQ(error_with("kullanici_id", json::array{}), "invalid_field");
    EXPECT_EQ(error_with("kullanici_id", 1.5), "invalid_field");
    EXPECT_EQ(error_with("kullanici_id", json::value(std::string(256, 'u'))), "ok");
    EXPECT_EQ(error_with("kullanici_id", json::value(std::string(257, 'u'))), "invalid_value");
    EXPECT_EQ(error_with("kullanici_id", json::value(std::string(1000000, 'u'))), "invalid_value");
    EXPECT_EQ(error_with("kullanici_id", json::value(std::string("pgvictim\0zzz", 12))), "invalid_value");
    EXPECT_EQ(error_with("isletme_id", nullptr), "missing_field");
    EXPECT_EQ(error_with("isletme_id", 7), "invalid_field");
    EXPECT_EQ(error_with("isletme_id", "../etc"), "unknown_tenant");
    EXPECT_EQ(error_with("platform", true), "invalid_field");
    EXPECT_EQ(error_with("session_id", 3), "invalid_field");
    EXPECT_EQ(error_with("session_id", json::value(std::string(129, 's'))), "invalid_value");
    EXPECT_EQ(error_with("mesaj_id", json::value(std::string(257, 'm'))), "invalid_value");
    EXPECT_EQ(sdk::error_status("invalid_field"), 400);
    EXPECT_EQ(sdk::error_status("invalid_value"), 422);
}

TEST_F(WebhookChannel, SecretWhenConfigured) {
    auto guarded = make({{"secret", "s3cret"}});
    ASSERT_NE(guarded, nullptr);
    auto request = post(body(kValid));
    auto without = guarded->parse(request);
    ASSERT_FALSE(without.ok());
    EXPECT_EQ(without.error().code, "unauthorized");
    EXPECT_EQ(sdk::error_status(without.error().code), 401);

    request.headers.emplace_back("x-webhook-secret", "wrong!");
    EXPECT_EQ(guarded->parse(request).error().code, "unauthorized");

    request.headers.back().second = "s3cret";
    EXPECT_TRUE(guarded->parse(request).ok());

    EXPECT_EQ(make({{"secret", 5}}), nullptr);
}

TEST_F(WebhookChannel, RendersTheOrchestratorsReply) {
    auto parsed = channel_->parse(post(body(kValid)));
    ASSERT_TRUE(parsed.ok());
    sdk::TurnReply reply;
    reply.reply = "Saten Gecelik Siyah 299,99 TL, stokta var.";
    reply.session_id = "sess-9";
    reply.execution_time_ms = 41.7;
    reply.handoff = false;
    const auto response = channel_->render(*parsed, reply);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.content_type, "application/json");
    const auto answer = json::parse(response.body).as_object();
    EXPECT_EQ(answer.at("success"), json::value(true));
    EXPECT_EQ(answer.at("message"), json::value(reply.reply));
    EXPECT_EQ(answer.at("session_id"), json::value("sess-9"));
    ASSERT_TRUE(answer.at("response_time_ms").is_int64());
    EXPECT_EQ(answer.at("response_time_ms").as_int64(), 42);
    EXPECT_EQ(answer.at("handoff"), json::value(false));
}

}  // namespace
}  // namespace tezgah::plugins::webhook
