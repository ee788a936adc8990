// The twilio plugin's wire formats alone: the published signature vectors, forms, TwiML and the
// text a reply with options becomes. The plugin over real HTTP is in tests/channels.
#include "../wire.hpp"

#include <tezgah/sdk/text.hpp>

#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::plugins::twilio {
namespace {

namespace json = boost::json;

const Form kVectorParams = {{"CallSid", "CA1234567890ABCDE"},
                            {"Caller", "+14158675309"},
                            {"Digits", "1234"},
                            {"From", "+14158675309"},
                            {"To", "+18005551212"}};

TEST(TwilioSignature, MatchesThePublishedVectors) {
    EXPECT_EQ(signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", kVectorParams),
              "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    EXPECT_EQ(signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", kVectorParams),
              "kvajT1Ptam85bY51eRf/AJRuM3w=");
    // Either signature is accepted for either form of the URL.
    for (const char* url :
         {"https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com:443/myapp.php?foo=1&bar=2"}) {
        EXPECT_TRUE(valid_signature("12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", url, kVectorParams, ""));
        EXPECT_TRUE(valid_signature("12345", "kvajT1Ptam85bY51eRf/AJRuM3w=", url, kVectorParams, ""));
    }
    EXPECT_FALSE(valid_signature("12346", "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                                 "https://mycompany.com/myapp.php?foo=1&bar=2", kVectorParams, ""));
    EXPECT_FALSE(
        valid_signature("12345", "", "https://mycompany.com/myapp.php?foo=1&bar=2", kVectorParams, ""));
    auto changed = kVectorParams;
    changed[2].second = "1235";
    EXPECT_FALSE(valid_signature(
        "12345", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "https://mycompany.com/myapp.php?foo=1&bar=2", changed, ""));
}

TEST(TwilioSignature, AJsonBodyIsSignedThroughItsHashInTheUrl) {
    const std::string body = R"({"property": "value", "boolean": true})";
    const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=" + sha256_hex(body);
    const std::string sig = signature("12345", url, {});
    EXPECT_TRUE(valid_signature("12345", sig, url, {}, body));
    EXPECT_FALSE(valid_signature("12345", sig, url, {}, body + " "));
}

TEST(TwilioForm, DecodesAndRefusesBrokenEscapes) {
    auto form = parse_form("Body=Merhaba+d%C3%BCnya%21&From=whatsapp%3A%2B905551112233&Empty=&NumMedia=0");
    ASSERT_TRUE(form) << form.error().message;
    EXPECT_EQ(form_value(*form, "Body"), "Merhaba dünya!");
    EXPECT_EQ(form_value(*form, "From"), "whatsapp:+905551112233");
    EXPECT_EQ(form_value(*form, "Empty"), "");
    EXPECT_FALSE(parse_form("Body=%zz"));
    EXPECT_FALSE(parse_form("Body=%4"));
    EXPECT_FALSE(parse_form("Body=%C3%28"));  // invalid UTF-8
    EXPECT_FALSE(parse_form("Body=a%00b"));
    EXPECT_EQ(parse_form(encode_form({{"Body", "a&b=c ü+"}})).value().at(0).second, "a&b=c ü+");
}

TEST(TwilioTwiml, EscapesTextAndSaysNothingForAnEmptyReply) {
    EXPECT_EQ(twiml(Outgoing{}), R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
    EXPECT_EQ(twiml(Outgoing{"Fiyat <150 TL> & \"kargo\" 'ücretsiz'\x01", {}, {}}),
              R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>Fiyat &lt;150 TL&gt; &amp; )"
              R"(&quot;kargo&quot; &apos;ücretsiz&apos;</Message></Response>)");
}

TEST(TwilioBody, OptionsBecomeNumberedLines) {
    Outgoing out{"Hangi saat uygun?", {{"s1", "10:00", ""}, {"s2", "11:30", "Ayşe ile"}}, {}};
    EXPECT_EQ(message_body(out), "Hangi saat uygun?\n\n1. 10:00\n2. 11:30 — Ayşe ile");
    out.cards = {{"p1", "Saten gecelik", "Siyah", 450.0, "TRY", "https://example.com/g.jpg"}};
    EXPECT_EQ(message_body(out),
              "Hangi saat uygun?\n\n• Saten gecelik — Siyah (450 TRY)\n\n1. 10:00\n2. 11:30 — Ayşe ile");
    EXPECT_EQ(media_url(out), "https://example.com/g.jpg");
    EXPECT_NE(twiml(out).find("<Media>https://example.com/g.jpg</Media>"), std::string::npos);
}

TEST(TwilioBody, IsCutToTwiliosLimit) {
    std::string long_text;
    for (int i = 0; i < 2000; ++i) long_text += "ş";
    const auto body = message_body(Outgoing{long_text, {}, {}});
    EXPECT_EQ(sdk::text::length(body), 1600u);
    EXPECT_TRUE(body.ends_with("…"));
}

TEST(TwilioErrors, ReadsTwiliosErrorBody) {
    int code = 0;
    EXPECT_EQ(
        twilio_error(
            R"({"code": 21211, "message": "The 'To' number is not valid.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})",
            &code),
        "Twilio error 21211: The 'To' number is not valid.");
    EXPECT_EQ(code, 21211);
    EXPECT_EQ(twilio_error("<html>"), "");
    EXPECT_EQ(delivery_state("undelivered"), sdk::DeliveryState::failed);
    EXPECT_EQ(delivery_state("read"), sdk::DeliveryState::read);
    EXPECT_FALSE(delivery_state("sending"));
}

/// The plugin built as the engine builds it, sending through a scripted HTTP client.
class TwilioSend : public ::testing::Test {
protected:
    sdk::ChannelSender& sender(json::object extra = {}) {
        json::object config{{"account_sid", "AC1"}, {"auth_token", "tok"}, {"from", "whatsapp:+1415"}};
        for (auto& [k, v] : extra) config[k] = v;
        plugin_ = sdk::testing::instantiate(tezgah_plugin_descriptor, host_, config);
        EXPECT_NE(plugin_, nullptr);
        return *dynamic_cast<sdk::ChannelSender*>(plugin_.get());
    }
    void answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
        host_.web.responses.push_back(
            sdk::HttpResponse{status, std::move(headers), "application/json", std::move(body)});
    }
    Form sent_form(std::size_t i = 0) { return parse_form(host_.web.sent.at(i).body).value(); }

    sdk::OutboundMessage message() {
        sdk::OutboundMessage m;
        m.tenant_id = "gece-butik";
        m.recipient = "whatsapp:+905551112233";
        m.text = "Hangi saat uygun?";
        m.options = {{"s1", "10:00", ""}, {"s2", "11:30", "Ayşe ile"}};
        return m;
    }

    sdk::testing::FakeHost host_;
    sdk::PluginPtr plugin_;
};

TEST_F(TwilioSend, OptionsGoAsNumberedTextThroughTheMessagesApi) {
    auto& s = sender({{"public_url", "https://bot.example.com/"}});
    answer(201, R"({"sid": "SM123", "status": "queued"})");
    auto result = s.send(message());
    EXPECT_EQ(result.outcome, sdk::SendResult::Outcome::accepted);
    EXPECT_EQ(result.provider_id, "SM123");
    const auto& request = host_.web.sent.at(0);
    EXPECT_EQ(request.url, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json");
    bool basic = false;
    for (const auto& [name, value] : request.headers)
        basic |= name == "Authorization" && value == "Basic " + base64("AC1:tok");
    EXPECT_TRUE(basic);
    auto form = sent_form();
    EXPECT_EQ(form_value(form, "To"), "whatsapp:+905551112233");
    EXPECT_EQ(form_value(form, "From"), "whatsapp:+1415");
    EXPECT_EQ(form_value(form, "Body"), "Hangi saat uygun?\n\n1. 10:00\n2. 11:30 — Ayşe ile");
    EXPECT_EQ(form_value(form, "StatusCallback"),
              "https://bot.example.com/v1/tenants/gece-butik/channels/twilio/status");
}

TEST_F(TwilioSend, ATenantsQuickReplyTemplateCarriesTheOptions) {
    auto& s = sender({{"templates", json::object{{"options_2", json::object{{"content_sid", "HX2"}}}}}});
    answer(201, R"({"sid": "SM124"})");
    EXPECT_EQ(s.send(message()).outcome, sdk::SendResult::Outcome::accepted);
    auto form = sent_form();
    EXPECT_EQ(form_value(form, "ContentSid"), "HX2");
    EXPECT_EQ(form_value(form, "Body"), "");
    auto variables = json::parse(form_value(form, "ContentVariables")).as_object();
    EXPECT_EQ(variables.at("1").as_string(), "Hangi saat uygun?");
    EXPECT_EQ(variables.at("3").as_string(), "11:30");
}

TEST_F(TwilioSend, TwiliosAnswersAreClassified) {
    auto& s = sender({{"templates", json::object{{"yeniden", json::object{{"content_sid", "HX9"}}}}},
                      {"reopen_template", "yeniden"}});
    answer(429, R"({"code": 20429, "message": "Too Many Requests", "status": 429})", {{"Retry-After", "7"}});
    auto limited = s.send(message());
    EXPECT_EQ(limited.outcome, sdk::SendResult::Outcome::retry_later);
    EXPECT_EQ(limited.retry_after, std::chrono::milliseconds(7000));
    answer(503, "Service Unavailable");
    EXPECT_EQ(s.send(message()).outcome, sdk::SendResult::Outcome::retry_later);
    host_.web.responses.push_back(sdk::Error{sdk::errc::unavailable, "connection reset"});
    EXPECT_EQ(s.send(message()).outcome, sdk::SendResult::Outcome::retry_later);
    answer(400,
           R"({"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})");
    auto refused = s.send(message());
    EXPECT_EQ(refused.outcome, sdk::SendResult::Outcome::failed);
    EXPECT_EQ(refused.error, "Twilio error 21211: The 'To' number is not a valid phone number. (HTTP 400)");
    // Outside the 24-hour window: the tenant's reopening template goes instead.
    answer(
        400,
        R"({"code": 63016, "message": "Failed to send freeform message because you are outside the allowed window.", "status": 400})");
    answer(201, R"({"sid": "SM125"})");
    auto reopened = s.send(message());
    EXPECT_EQ(reopened.outcome, sdk::SendResult::Outcome::accepted);
    EXPECT_EQ(form_value(sent_form(host_.web.sent.size() - 1), "ContentSid"), "HX9");
}

TEST_F(TwilioSend, WithoutAReopeningTemplateTheMessageIsKeptWindowClosed) {
    auto& s = sender();
    answer(400, R"({"code": 63016, "message": "outside the allowed window", "status": 400})");
    EXPECT_EQ(s.send(message()).outcome, sdk::SendResult::Outcome::window_closed);
}

}  // namespace
}  // namespace tezgah::plugins::twilio
