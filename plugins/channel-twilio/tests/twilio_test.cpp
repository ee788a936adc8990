// The twilio plugin's wire formats alone: the published signature vectors, forms, TwiML and the
// text a reply with options becomes. The plugin over real HTTP is in tests/channels.
#include "../wire.hpp"

#include <tezgah/sdk/text.hpp>

#include <gtest/gtest.h>

namespace tezgah::plugins::twilio {
namespace {

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

}  // namespace
}  // namespace tezgah::plugins::twilio
