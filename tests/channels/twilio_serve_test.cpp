// The twilio channel through the real binary: `tezgah serve` on loopback, WhatsApp messages posted
// as Twilio posts them and signed by the official `twilio` npm package, replies read from the TwiML
// answer or from a fake Twilio REST API, the stored conversation read from the database.
#include "channels/fake_twilio.hpp"
#include "channels/twilio_requests.hpp"

#include "http/http_fixture.hpp"
#include "store/api_keys.hpp"
#include "store/database.hpp"
#include "support/fake_openai.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include <sys/wait.h>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;
constexpr const char* kSid = kTwilioSid;
constexpr const char* kToken = kTwilioToken;
constexpr const char* kFrom = kTwilioFrom;
bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

class TwilioServeTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(fs::exists(fs::path(TEZGAH_SOURCE_DIR) / "tests/node/node_modules/twilio"))
            << "run scripts/setup-node";
        copy_fixtures(dir.path() / "tenants");
        ::setenv("TEZGAH_GECE_BUTIK__TWILIO_AUTH_TOKEN", kToken, 1);
        ::unsetenv("TEZGAH_NEFES_STUDYO__TWILIO_AUTH_TOKEN");
        configure({});
        // The other tenant enables twilio with a variable that is not set: disabled, not failed.
        edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json", [&](json::value& v) {
            v.as_object()["channels"].as_object()["twilio"] =
                json::object{{"account_sid", kSid},
                             {"auth_token", "${TEZGAH_NEFES_STUDYO__TWILIO_AUTH_TOKEN}"},
                             {"from", kFrom}};
        });
    }

    /// gece-butik's twilio block: the fake's address, no bursts, then `extra`.
    void configure(const json::object& extra) {
        json::object block{
            {"account_sid", kSid},     {"auth_token", "${TEZGAH_GECE_BUTIK__TWILIO_AUTH_TOKEN}"},
            {"from", kFrom},           {"api_base_url", twilio.url()},
            {"reply_within_ms", 8000}, {"burst_window_ms", 0}};
        for (const auto& [k, v] : extra) block[k] = v;
        edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json",
                  [&](json::value& v) { v.as_object()["channels"].as_object()["twilio"] = block; });
    }

    /// gece-butik answers through a remote model that takes `delay` to answer each turn.
    void slow_model(std::chrono::milliseconds delay, int turns = 4) {
        for (int i = 0; i < turns; ++i) model.push_back(FakeOpenAiBehaviour::stall(delay));
        edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
            v.as_object()["llm"] = json::object{{"provider", "openai"},
                                                {"api_key", "k"},
                                                {"base_url", model.base_url()},
                                                {"model", "gpt-4o-mini"},
                                                {"max_retries", 0}};
        });
    }

    void start() {
        serve = std::make_unique<ServeProcess>(
            dir.path(), "127.0.0.1:0",
            std::vector<std::string>{"--outbox-retry-ms", "50", "--outbox-max-retry-ms", "300"});
        port = port_of(serve->ready_line());
        ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");
    }

    std::string path(const std::string& tenant = "gece-butik", const std::string& sub = "") const {
        return "/v1/tenants/" + tenant + "/channels/twilio" + sub;
    }
    std::string local_url(const std::string& p) const {
        return "http://127.0.0.1:" + std::to_string(port) + p;
    }

    HttpReply post(const std::string& p, const std::string& body, const std::string& signature,
                   const std::string& content_type = "application/x-www-form-urlencoded") {
        std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", content_type},
                                                                 {"I-Twilio-Idempotency-Token", "t"}};
        if (!signature.empty()) headers.emplace_back("X-Twilio-Signature", signature);
        return http_request(port, "POST", p, body, headers);
    }

    /// Posts `form` to `p`, signed over the URL Twilio would have called (`signed_url`, else the
    /// local one) by the twilio package.
    HttpReply signed_post(const std::string& p, const Form& form, const std::string& signed_url = "") {
        return post(p, form_body(form),
                    twilio_signature(kToken, signed_url.empty() ? local_url(p) : signed_url, form));
    }

    std::unique_ptr<engine::Database> database() {
        auto db = engine::Database::open("sqlite:" + (dir.path() / "var" / "tezgah.db").string());
        EXPECT_TRUE(db) << db.error().message;
        return db ? std::move(db).value() : nullptr;
    }

    /// The customer's conversation on the twilio channel, as stored.
    std::vector<engine::StoredMessage> stored_messages(const std::string& user,
                                                       json::object* state = nullptr) {
        auto db = database();
        if (!db) return {};
        auto conversation =
            db->open_conversation("gece-butik", user, "twilio", "", std::chrono::system_clock::now(), 3600s);
        EXPECT_TRUE(conversation);
        if (!conversation) return {};
        if (state) *state = conversation->state;
        auto messages = db->recent_messages("gece-butik", conversation->id, 50);
        return messages ? std::move(messages).value() : std::vector<engine::StoredMessage>{};
    }

    std::vector<engine::OutboxRecord> outbox() {
        auto db = database();
        if (!db) return {};
        auto messages = db->outbox_messages("gece-butik", 100);
        return messages ? std::move(messages).value() : std::vector<engine::OutboxRecord>{};
    }

    template <class Done>
    bool eventually(Done&& done, std::chrono::milliseconds timeout = 20s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() > until) return false;
            std::this_thread::sleep_for(20ms);
        }
        return true;
    }

    TempDir dir;
    FakeTwilio twilio{kSid, kToken};
    FakeOpenAi model;
    std::unique_ptr<ServeProcess> serve;
    std::uint16_t port = 0;
};

TEST(TwilioPackage, SignsThePublishedVector) {
    const Form params{{"CallSid", "CA1234567890ABCDE"},
                      {"Caller", "+14158675309"},
                      {"Digits", "1234"},
                      {"From", "+14158675309"},
                      {"To", "+18005551212"}};
    auto signatures =
        twilio_signatures("12345", {{"https://mycompany.com/myapp.php?foo=1&bar=2", params},
                                    {"https://mycompany.com:443/myapp.php?foo=1&bar=2", params}});
    ASSERT_EQ(signatures.size(), 2u) << "run scripts/setup-node";
    EXPECT_EQ(signatures[0], "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    EXPECT_EQ(signatures[1], "kvajT1Ptam85bY51eRf/AJRuM3w=");
}

TEST_F(TwilioServeTest, AQuickTurnIsAnsweredAsTwimlAndNothingIsSent) {
    start();
    auto reply = signed_post(path(), inbound("SM00000000000000000000000000000001", "whatsapp:+905551110001",
                                             "saten gecelik ne kadar?"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(contains(reply.headers["content-type"], "xml"));
    EXPECT_TRUE(reply.body.starts_with(R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>)"))
        << reply.body;
    EXPECT_TRUE(contains(reply.body, "TL")) << reply.body;
    EXPECT_TRUE(reply.body.ends_with("</Message></Response>"));
    auto messages = stored_messages("whatsapp:+905551110001");
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].text, "saten gecelik ne kadar?");
    EXPECT_EQ(messages[0].metadata.at("profile_name").as_string(), "Ayşe");
    EXPECT_TRUE(outbox().empty());
    EXPECT_EQ(twilio.server().request_count(), 0u);
}

TEST_F(TwilioServeTest, ASlowTurnGetsAnEmptyResponseAndItsReplyGoesThroughTheMessagesApi) {
    // Behind a proxy: Twilio calls (and signs) the public address, not the engine's own.
    const std::string public_url = "https://bot.example.com";
    configure({{"reply_within_ms", 300}, {"public_url", public_url}});
    slow_model(3000ms);
    start();
    const std::string user = "whatsapp:+905551110002";
    const auto form = inbound("SM00000000000000000000000000000002", user, "iade süresi ne kadar?");
    const std::string signature = twilio_signature(kToken, public_url + path(), form);
    const auto began = std::chrono::steady_clock::now();
    auto reply = post(path(), form_body(form), signature);
    const auto took = std::chrono::steady_clock::now() - began;
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.body, kEmptyTwiml);
    EXPECT_LT(took, 2500ms);  // answered at the 300 ms deadline, not when the model is done

    ASSERT_TRUE(twilio.server().wait_for_requests(1)) << slurp(dir.path() / "serve.log");
    ASSERT_TRUE(eventually([&] { return twilio.accepted().size() == 1; }));
    const auto sent = twilio.accepted().front();
    EXPECT_EQ(sent.fields.at("To"), user);
    EXPECT_EQ(sent.fields.at("From"), kFrom);
    EXPECT_FALSE(sent.fields.at("Body").empty());
    EXPECT_EQ(sent.fields.at("StatusCallback"), public_url + path("gece-butik", "/status"));
    EXPECT_TRUE(twilio.rejections().empty());
    ASSERT_TRUE(eventually([&] {
        auto o = outbox();
        return o.size() == 1 && o.front().state == "sent";
    }));
    EXPECT_EQ(outbox().front().provider_id, sent.sid);

    // Twilio reports the delivery to the status callback: the outbox moves on.
    const Form status{
        {"SmsSid", sent.sid}, {"SmsStatus", "delivered"},   {"MessageStatus", "delivered"},
        {"To", user},         {"MessageSid", sent.sid},     {"AccountSid", kSid},
        {"From", kFrom},      {"ApiVersion", "2010-04-01"}, {"ChannelToAddress", "+905551110002"}};
    auto callback = signed_post(path("gece-butik", "/status"), status, sent.fields.at("StatusCallback"));
    EXPECT_EQ(callback.status, 200) << callback.body;
    EXPECT_EQ(outbox().front().state, "delivered");
    // The turn's messages are stored once.
    EXPECT_EQ(stored_messages(user).size(), 2u);

    // Twilio delivers the message again (as it does when it heard no answer): the reply went
    // through the Messages API already, so the TwiML answer is empty and nothing is sent again.
    auto again = post(path(), form_body(form), signature);
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.body, kEmptyTwiml);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(twilio.accepted().size(), 1u);
    EXPECT_EQ(outbox().size(), 1u);
    EXPECT_EQ(stored_messages(user).size(), 2u);
}

TEST_F(TwilioServeTest, ARedeliveredMessageSidIsAnsweredOnce) {
    start();
    const auto form =
        inbound("SM00000000000000000000000000000003", "whatsapp:+905551110003", "kargo ücreti ne kadar?");
    const std::string signature = twilio_signature(kToken, local_url(path()), form);
    auto first = post(path(), form_body(form), signature);
    auto again = post(path(), form_body(form), signature);
    ASSERT_EQ(first.status, 200) << first.body;
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.body, first.body);
    EXPECT_EQ(stored_messages("whatsapp:+905551110003").size(), 2u);
}

TEST_F(TwilioServeTest, ACustomerWhoAsksForAPersonGetsTheOperatorsReplyThroughTheMessagesApi) {
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["tools"].as_array().push_back(json::object{{"name", "handoff"}});
    });
    std::string key;
    {
        auto db = database();  // the key, made before the server opens the database
        ASSERT_NE(db, nullptr);
        auto made =
            engine::create_api_key(*db, "test", "gece-butik", {"conversations:read", "conversations:write"},
                                   std::chrono::system_clock::now());
        ASSERT_TRUE(made) << made.error().message;
        key = made->secret;
    }
    start();
    auto api = [&](const std::string& method, const std::string& p, const std::string& body = "") {
        return http_request(port, method, "/v1/tenants/gece-butik" + p, body,
                            {{"Authorization", "Bearer " + key}});
    };
    const std::string user = "whatsapp:+905551110077";
    int sid = 70;
    auto say = [&](const std::string& text) {
        const auto form = inbound("SM000000000000000000000000000000" + std::to_string(++sid), user, text);
        return post(path(), form_body(form), twilio_signature(kToken, local_url(path()), form));
    };
    auto asked = say("bir yetkiliyle görüşmek istiyorum");
    ASSERT_EQ(asked.status, 200) << asked.body;
    EXPECT_TRUE(contains(asked.body, "yetkili")) << asked.body;  // acknowledged in the TwiML answer

    auto handed = api("GET", "/conversations?status=handed_over&channel=twilio");
    ASSERT_EQ(handed.status, 200) << handed.body;
    ASSERT_EQ(handed.json().at("conversations").as_array().size(), 1u) << handed.body;
    const std::string conversation(handed.json().at("conversations").at(0).at("id").as_string());

    // The bot is silent; the operator's reply goes out through Twilio's Messages API.
    auto waiting = say("saten gecelik ne kadar?");
    ASSERT_EQ(waiting.status, 200) << waiting.body;
    EXPECT_EQ(waiting.body, kEmptyTwiml);
    auto replied = api("POST", "/conversations/" + conversation + "/messages",
                       R"({"text": "Merhaba, ben Selin; saten gecelik 1.299 TL."})");
    ASSERT_EQ(replied.status, 202) << replied.body;
    EXPECT_EQ(replied.json().at("delivery"), "outbox") << replied.body;
    ASSERT_TRUE(eventually([&] { return twilio.accepted().size() == 1; })) << slurp(dir.path() / "serve.log");
    EXPECT_EQ(twilio.accepted().front().fields.at("To"), user);
    EXPECT_EQ(twilio.accepted().front().fields.at("Body"), "Merhaba, ben Selin; saten gecelik 1.299 TL.");

    // Released: the bot answers again, in the TwiML answer; nothing more is sent.
    ASSERT_EQ(api("POST", "/conversations/" + conversation + "/release").status, 200);
    auto bot = say("saten gecelik ne kadar?");
    ASSERT_EQ(bot.status, 200) << bot.body;
    EXPECT_TRUE(contains(bot.body, "TL")) << bot.body;
    EXPECT_EQ(twilio.accepted().size(), 1u);
    EXPECT_TRUE(twilio.rejections().empty());
}

TEST_F(TwilioServeTest, AMediaOnlyMessageIsStoredAndHandedToAPerson) {
    start();
    const std::string user = "whatsapp:+905551110004";
    auto form = inbound("SM00000000000000000000000000000004", user, "");
    for (auto& [name, value] : form)
        if (name == "NumMedia") value = "1";
    const std::string media = "https://api.twilio.com/2010-04-01/Accounts/" + std::string(kSid) +
                              "/Messages/SM4/Media/ME0123456789";
    form.emplace_back("MediaUrl0", media);
    form.emplace_back("MediaContentType0", "image/jpeg");
    auto reply = signed_post(path(), form);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(contains(reply.body, "teşekkürler")) << reply.body;
    json::object state;
    auto messages = stored_messages(user, &state);
    ASSERT_EQ(messages.size(), 2u);
    const auto& stored_media = messages[0].metadata.at("media").as_array();
    ASSERT_EQ(stored_media.size(), 1u);
    EXPECT_EQ(stored_media[0].at("url").as_string(), media);
    EXPECT_EQ(stored_media[0].at("content_type").as_string(), "image/jpeg");
    EXPECT_EQ(state.at("handoff_reason").as_string(), "media");
}

TEST_F(TwilioServeTest, AButtonIsTheCustomersChoice) {
    start();
    const std::string user = "whatsapp:+905551110005";
    auto form = inbound("SM00000000000000000000000000000005", user, "Kargo");
    form.emplace_back("ButtonText", "Kargo");
    form.emplace_back("ButtonPayload", "info-kargo");
    auto reply = signed_post(path(), form);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(contains(reply.body, "<Message>")) << reply.body;
    auto messages = stored_messages(user);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].text, "Kargo");
    EXPECT_EQ(messages[0].metadata.at("button").at("payload").as_string(), "info-kargo");
}

TEST_F(TwilioServeTest, ABurstOfThreeMessagesGetsOneReply) {
    configure({{"burst_window_ms", 1200}});
    start();
    const std::string user = "whatsapp:+905551110006";
    const std::vector<std::string> texts{"merhaba", "saten gecelik", "fiyatı ne kadar?"};
    std::vector<std::pair<std::string, Form>> requests;
    for (std::size_t i = 0; i < texts.size(); ++i)
        requests.emplace_back(
            local_url(path()),
            inbound("SM0000000000000000000000000000006" + std::to_string(i), user, texts[i]));
    auto signatures = twilio_signatures(kToken, requests);
    ASSERT_EQ(signatures.size(), 3u);
    std::vector<std::future<HttpReply>> replies;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        replies.push_back(std::async(std::launch::async, [&, i] {
            return post(path(), form_body(requests[i].second), signatures[i]);
        }));
        std::this_thread::sleep_for(150ms);  // the customer types the next line
    }
    std::vector<std::string> bodies;
    for (auto& r : replies) {
        auto reply = r.get();
        EXPECT_EQ(reply.status, 200) << reply.body;
        bodies.push_back(reply.body);
    }
    EXPECT_EQ(bodies[0], kEmptyTwiml);
    EXPECT_EQ(bodies[1], kEmptyTwiml);
    EXPECT_TRUE(contains(bodies[2], "<Message>")) << bodies[2];
    EXPECT_TRUE(contains(bodies[2], "TL")) << bodies[2];  // the price: the question spans the lines
    auto messages = stored_messages(user);
    ASSERT_EQ(messages.size(), 4u);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        EXPECT_EQ(messages[i].role, "user");
        EXPECT_EQ(messages[i].text, texts[i]);
    }
    EXPECT_EQ(messages[3].role, "assistant");
    // A redelivery of the first line is answered with the burst's reply, not a turn of its own.
    auto again = post(path(), form_body(requests[0].second), signatures[0]);
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(stored_messages(user).size(), 4u);
}

TEST_F(TwilioServeTest, TheOutboxRetriesTwilioAndKeepsItsErrors) {
    configure({{"reply_within_ms", 100}});
    slow_model(600ms, 20);
    twilio.then(FakeTwilio::Answer::too_many);
    twilio.then(FakeTwilio::Answer::server_error);
    twilio.then(FakeTwilio::Answer::drop);
    start();
    auto reply = signed_post(
        path(), inbound("SM00000000000000000000000000000007", "whatsapp:+905551110007", "merhaba"));
    EXPECT_EQ(reply.body, kEmptyTwiml);
    ASSERT_TRUE(eventually([&] { return twilio.accepted().size() == 1; }, 30s))
        << slurp(dir.path() / "serve.log");
    EXPECT_EQ(twilio.server().request_count(), 4u);
    EXPECT_EQ(outbox().front().state, "sent");

    // Refused for good: failed, with Twilio's own words.
    twilio.then(FakeTwilio::Answer::bad_request);
    auto refused =
        signed_post(path(), inbound("SM00000000000000000000000000000008", "whatsapp:+905551110008",
                                    "kargo kaç günde gelir?"));  // not the first's: no cached answer
    EXPECT_EQ(refused.body, kEmptyTwiml);
    ASSERT_TRUE(eventually([&] {
        auto o = outbox();
        return o.size() == 2 && o.back().state == "failed";
    }));
    EXPECT_TRUE(contains(outbox().back().error, "Twilio error 21211: The 'To' number"))
        << outbox().back().error;
    EXPECT_TRUE(twilio.rejections().empty());
}

TEST_F(TwilioServeTest, BadInputIsRefusedClearlyAndNothingIsStored) {
    start();
    const std::string user = "whatsapp:+905551110009";
    const auto good = inbound("SM00000000000000000000000000000009", user, "merhaba");
    auto missing_sid = good;
    std::erase_if(missing_sid, [](const auto& f) { return f.first == "MessageSid"; });
    auto bad_media = good;
    for (auto& [name, value] : bad_media)
        if (name == "NumMedia") value = "lots";
    const Form bad_status{{"MessageSid", "SM1"}, {"AccountSid", kSid}};
    auto signatures = twilio_signatures(kToken, {{local_url(path()), good},
                                                 {local_url(path()), missing_sid},
                                                 {local_url(path()), bad_media},
                                                 {local_url(path("gece-butik", "/status")), bad_status},
                                                 {local_url(path("no-such-shop")), good},
                                                 {local_url(path("nefes-studyo")), good}});
    ASSERT_EQ(signatures.size(), 6u);
    auto expect_error = [&](const HttpReply& reply, int status, const std::string& code,
                            const std::string& words) {
        EXPECT_EQ(reply.status, status) << reply.body;
        auto body = reply.json();
        ASSERT_TRUE(body.is_object()) << reply.body;
        EXPECT_EQ(body.at("error").at("code").as_string(), code) << reply.body;
        EXPECT_TRUE(contains(std::string(body.at("error").at("message").as_string()), words)) << reply.body;
        EXPECT_FALSE(body.at("error").at("request_id").as_string().empty());
    };
    const std::string body = form_body(good);
    expect_error(post(path(), body, ""), 403, "forbidden", "X-Twilio-Signature: missing");
    expect_error(post(path(), body, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), 403, "forbidden", "does not match");
    // Signed for another token, or for another body.
    expect_error(post(path(), body, twilio_signature("another-token", local_url(path()), good)), 403,
                 "forbidden", "does not match");
    expect_error(post(path(), form_body(inbound("SM9", user, "değişti")), signatures[0]), 403, "forbidden",
                 "does not match");
    expect_error(post(path(), R"({"Body": "merhaba"})", signatures[0], "application/json"), 415,
                 "unsupported_media_type", "application/x-www-form-urlencoded");
    expect_error(post(path(), "Body=%zz&From=x", signatures[0]), 400, "bad_request", "Body");
    expect_error(post(path(), form_body(missing_sid), signatures[1]), 400, "missing_field", "MessageSid");
    expect_error(post(path(), form_body(bad_media), signatures[2]), 400, "bad_request", "NumMedia");
    expect_error(post(path("gece-butik", "/status"), form_body(bad_status), ""), 403, "forbidden", "missing");
    expect_error(post(path("gece-butik", "/status"), form_body(bad_status), signatures[3]), 400,
                 "missing_field", "MessageStatus");
    expect_error(post(path("no-such-shop"), body, signatures[4]), 404, "unknown_tenant", "no-such-shop");
    expect_error(post(path("nefes-studyo"), body, signatures[5]), 503, "channel_disabled",
                 "TEZGAH_NEFES_STUDYO__TWILIO_AUTH_TOKEN is not set");
    expect_error(post(path(), std::string(2 * 1024 * 1024, 'a'), signatures[0]), 413, "payload_too_large",
                 "");

    // Nothing was stored, and the server still serves: the signed message is answered.
    auto reply = post(path(), body, signatures[0]);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(contains(reply.body, "<Message>"));
    EXPECT_EQ(stored_messages(user).size(), 2u);
    // The disabled channel is shown with its reason; the tenant itself serves.
    auto health = http_request(port, "GET", "/health/detailed").json();
    bool shown = false;
    for (const auto& t : health.at("tenants").as_array())
        if (t.at("id").as_string() == "nefes-studyo" && t.as_object().contains("disabled_channels"))
            shown = contains(std::string(t.at("disabled_channels").at("twilio").as_string()), "is not set");
    EXPECT_TRUE(shown) << json::serialize(health);
}

/// `tezgah check DIR [more]`: its standard output and exit status.
std::pair<std::string, int> tezgah_check(const fs::path& tenants, const std::string& more = "") {
    const std::string command = std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah check '" + tenants.string() +
                                "' --plugins '" + plugin_dir().string() + "' " + more + " 2>&1";
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return {"", -1};
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
    const int status = ::pclose(pipe);
    return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST_F(TwilioServeTest, CheckWarnsOfAChannelWhoseVariableIsUnsetAndStrictRefusesIt) {
    auto [out, status] = tezgah_check(dir.path() / "tenants");
    EXPECT_EQ(status, 0) << out;
    EXPECT_TRUE(contains(out, "warning: ")) << out;
    EXPECT_TRUE(contains(out,
                         "nefes-studyo/tenant.json: channels.twilio.auth_token: environment variable "
                         "TEZGAH_NEFES_STUDYO__TWILIO_AUTH_TOKEN is not set: the twilio channel is disabled"))
        << out;
    EXPECT_TRUE(contains(out, "0 problem(s)")) << out;
    auto [strict, strict_status] = tezgah_check(dir.path() / "tenants", "--strict");
    EXPECT_EQ(strict_status, 1) << strict;
    // The value of a variable that is set never shows.
    EXPECT_FALSE(contains(out + strict, kToken));
    // The shipped tenants pass, their twilio block disabled until its variables are set.
    auto [shipped, shipped_status] = tezgah_check(fs::path(TEZGAH_SOURCE_DIR) / "tenants");
    EXPECT_EQ(shipped_status, 0) << shipped;
}

}  // namespace
}  // namespace tezgah::testing
