// The whatsapp-cloud channel's send(), over real HTTP to the fake Graph API: every kind of reply
// rendered within Meta's limits (the fake refuses, as Meta does, any message that breaks one),
// and every answer of the Graph API read as the outbox needs it.
#include "channels/fake_graph.hpp"

#include "util/http_client.hpp"

#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::testing {
namespace {

namespace json = boost::json;
using Outcome = sdk::SendResult::Outcome;
using Answer = FakeGraph::Answer;

constexpr const char* kPhone = "106540352242922";
constexpr const char* kToken = "EAAtest-token";

/// The SDK's fake host with the engine's real HTTP client.
class RealHttpHost : public sdk::testing::FakeHost {
public:
    sdk::HttpClient& http() override { return client; }
    engine::PocoHttpClient client;
};

class WhatsAppSend : public ::testing::Test {
protected:
    void SetUp() override {
        host.profile.language = "tr";
        json::object config{
            {"phone_number_id", kPhone},
            {"access_token", kToken},
            {"app_secret", "s3cret"},
            {"verify_token", "verify-me"},
            {"api_base_url", graph.url()},
            {"templates",
             json::object{{"hatirlatma", json::object{{"name", "appointment_reminder"},
                                                      {"language", "tr"},
                                                      {"variables", json::array{"name", "time"}}}}}}};
        plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host, config);
        ASSERT_NE(plugin, nullptr);
        sender = dynamic_cast<sdk::ChannelSender*>(plugin.get());
        ASSERT_NE(sender, nullptr);
    }

    sdk::OutboundMessage message(std::string text) {
        sdk::OutboundMessage m;
        m.id = "m1";
        m.tenant_id = "gece-butik";
        m.channel = "whatsapp-cloud";
        m.recipient = "905551112233";
        m.text = std::move(text);
        m.idempotency_key = "reply:c:wamid.1";
        return m;
    }

    /// Sends `m`, expects Meta to accept it, and returns the body Meta got.
    json::object accepted(const sdk::OutboundMessage& m) {
        const auto before = graph.accepted().size();
        auto result = sender->send(m);
        EXPECT_EQ(result.outcome, Outcome::accepted) << result.error;
        EXPECT_TRUE(result.provider_id.starts_with("wamid.")) << result.provider_id;
        EXPECT_TRUE(graph.violations().empty()) << graph.violations().front();
        const auto all = graph.accepted();
        if (all.size() != before + 1) return {};
        return all.back();
    }

    FakeGraph graph{kPhone, kToken};
    RealHttpHost host;
    sdk::PluginPtr plugin;
    sdk::ChannelSender* sender = nullptr;
};

std::vector<sdk::ReplyOption> options(std::size_t n, const std::string& title,
                                      const std::string& description = "") {
    std::vector<sdk::ReplyOption> out;
    for (std::size_t i = 1; i <= n; ++i)
        out.push_back({"opt-" + std::to_string(i), title + " " + std::to_string(i), description});
    return out;
}

TEST_F(WhatsAppSend, TextGoesAsTextAndALongOneIsShortenedToMetasLimit) {
    auto body = accepted(message("Saten gecelik: 1.250 TL, stokta var."));
    EXPECT_EQ(body.at("type"), "text");
    EXPECT_EQ(body.at("to"), "905551112233");
    EXPECT_EQ(body.at("text").at("body"), "Saten gecelik: 1.250 TL, stokta var.");
    EXPECT_EQ(graph.server().requests().back().header("authorization"), std::string("Bearer ") + kToken);

    std::string long_text;
    while (sdk::text::length(long_text) < 5000) long_text += "Çok uzun bir cevap. ";
    body = accepted(message(long_text));
    const std::string sent(body.at("text").at("body").as_string());
    EXPECT_EQ(sdk::text::length(sent), 4096u);
    EXPECT_TRUE(sent.ends_with("…"));
}

TEST_F(WhatsAppSend, UpToThreeOptionsAreReplyButtonsWithTitlesShortenedToTwenty) {
    auto m = message("Hangi rengi istersiniz?");
    m.options = {{"red", "Bordo saten gecelik uzun", ""}, {"black", "Siyah", ""}, {"", "Şampanya", ""}};
    auto body = accepted(m);
    ASSERT_EQ(body.at("type"), "interactive");
    const auto& interactive = body.at("interactive").as_object();
    EXPECT_EQ(interactive.at("type"), "button");
    const auto& buttons = interactive.at("action").at("buttons").as_array();
    ASSERT_EQ(buttons.size(), 3u);
    EXPECT_EQ(buttons[0].at("reply").at("id"), "red");
    EXPECT_EQ(buttons[0].at("reply").at("title"), "Bordo saten gecelik…");
    EXPECT_EQ(buttons[2].at("reply").at("id"), "Şampanya");  // no id: its title stands for it
}

TEST_F(WhatsAppSend, FourToTenOptionsAreAListWithRowsWithinTheirLimits) {
    auto m = message("Hangi ürün?");
    m.options = options(7, "Çok uzun bir ürün adı ki yirmi dört harfi geçer", std::string(100, 'd'));
    auto body = accepted(m);
    const auto& interactive = body.at("interactive").as_object();
    EXPECT_EQ(interactive.at("type"), "list");
    EXPECT_EQ(interactive.at("action").at("button"), "Seçenekler");
    const auto& rows = interactive.at("action").at("sections").at(0).at("rows").as_array();
    ASSERT_EQ(rows.size(), 7u);
    EXPECT_EQ(sdk::text::length(rows[0].at("title").as_string()), 24u);
    EXPECT_EQ(sdk::text::length(rows[0].at("description").as_string()), 72u);
    EXPECT_EQ(rows[6].at("id"), "opt-7");
}

TEST_F(WhatsAppSend, MoreThanTenOptionsBecomeNumberedTextKeepingEveryOne) {
    auto m = message("Saatler:");
    m.options = options(12, "Saat");
    auto body = accepted(m);
    EXPECT_EQ(body.at("type"), "text");
    const std::string text(body.at("text").at("body").as_string());
    EXPECT_NE(text.find("1. Saat 1"), std::string::npos) << text;
    EXPECT_NE(text.find("12. Saat 12"), std::string::npos) << text;
}

TEST_F(WhatsAppSend, ButtonsThatWouldBreakALimitDegradeToAList) {
    // A body longer than the 1,024 characters of a button message.
    auto m = message(std::string(2000, 'a'));
    m.options = options(2, "Evet");
    auto body = accepted(m);
    EXPECT_EQ(body.at("interactive").at("type"), "list");
    // Titles that are the same once shortened: Meta wants distinct button titles.
    auto same = message("Hangisi?");
    same.options = {{"a", "Saten gecelik bordo renk", ""}, {"b", "Saten gecelik bordo desenli", ""}};
    body = accepted(same);
    EXPECT_EQ(body.at("interactive").at("type"), "list");
}

TEST_F(WhatsAppSend, CardsAreAPictureWithCaptionOrTextLines) {
    auto m = message("Önerim:");
    m.cards = {{"p1", "Saten gecelik", "Bordo", 1250.0, "TRY", "https://example.com/p1.jpg"}};
    auto body = accepted(m);
    EXPECT_EQ(body.at("type"), "image");
    EXPECT_EQ(body.at("image").at("link"), "https://example.com/p1.jpg");
    EXPECT_EQ(body.at("image").at("caption"), "Önerim:\n• Saten gecelik — Bordo — 1250 TRY");

    m.cards.push_back({"p2", "Pamuk pijama", "", 499.9, "TRY", ""});
    body = accepted(m);
    EXPECT_EQ(body.at("type"), "text");
    EXPECT_NE(body.at("text").at("body").as_string().find("• Pamuk pijama — 499.90 TRY"), std::string::npos);
}

TEST_F(WhatsAppSend, TemplatesCarryTheirVariablesAsMetaTakesThem) {
    auto m = message("");
    m.template_message =
        sdk::MessageTemplate{"hatirlatma", json::object{{"name", "Ayşe"}, {"time", "yarın\n14:00"}}};
    auto body = accepted(m);
    EXPECT_EQ(body.at("type"), "template");
    const auto& tmpl = body.at("template").as_object();
    EXPECT_EQ(tmpl.at("name"), "appointment_reminder");
    EXPECT_EQ(tmpl.at("language").at("code"), "tr");
    const auto& parameters = tmpl.at("components").at(0).at("parameters").as_array();
    ASSERT_EQ(parameters.size(), 2u);
    EXPECT_EQ(parameters[0].at("text"), "Ayşe");
    EXPECT_EQ(parameters[1].at("text"), "yarın 14:00");  // Meta refuses new lines in parameters

    // A template the tenant did not map: Meta's name is the tenant's, no parameters.
    m.template_message = sdk::MessageTemplate{"yeniden_baglan", json::object{{"text", "a\n\nb"}}};
    body = accepted(m);
    EXPECT_EQ(body.at("template").at("name"), "yeniden_baglan");
    EXPECT_FALSE(body.at("template").as_object().contains("components"));
}

TEST_F(WhatsAppSend, GraphAnswersAreReadForTheOutbox) {
    graph.then(Answer::too_many);
    auto result = sender->send(message("a"));
    EXPECT_EQ(result.outcome, Outcome::retry_later);
    ASSERT_TRUE(result.retry_after.has_value());
    EXPECT_EQ(result.retry_after->count(), 1000);

    graph.then(Answer::server_error);
    EXPECT_EQ(sender->send(message("a")).outcome, Outcome::retry_later);

    // (The client tries a dropped keep-alive connection once more on a new one: both dropped.)
    graph.always(Answer::drop);
    EXPECT_EQ(sender->send(message("a")).outcome, Outcome::retry_later);
    graph.always(Answer::ok);

    graph.then(Answer::bad_request);
    result = sender->send(message("a"));
    EXPECT_EQ(result.outcome, Outcome::failed);
    EXPECT_EQ(result.error,
              "HTTP 400: (#131026) Message undeliverable: Receiver is incapable of receiving this message");

    graph.close_window("905551112233");
    result = sender->send(message("a"));
    EXPECT_EQ(result.outcome, Outcome::window_closed);
    EXPECT_NE(result.error.find("131047"), std::string::npos);
}

TEST_F(WhatsAppSend, AWrongTokenFailsWithMetasMessage) {
    json::object config{{"phone_number_id", kPhone},
                        {"access_token", "wrong"},
                        {"app_secret", "s"},
                        {"verify_token", "v"},
                        {"api_base_url", graph.url()}};
    auto other = sdk::testing::instantiate(tezgah_plugin_descriptor, host, config);
    ASSERT_NE(other, nullptr);
    auto result = dynamic_cast<sdk::ChannelSender*>(other.get())->send(message("a"));
    EXPECT_EQ(result.outcome, Outcome::failed);
    EXPECT_NE(result.error.find("HTTP 401: Invalid OAuth access token"), std::string::npos) << result.error;
}

TEST_F(WhatsAppSend, ConfigIsCheckedAsTheDesignSays) {
    sdk::testing::FakeHost fake;
    EXPECT_EQ(
        sdk::testing::instantiate(tezgah_plugin_descriptor, fake, json::object{{"phone_number_id", kPhone}}),
        nullptr);
    for (const char* key : {"access_token", "app_secret", "verify_token"})
        EXPECT_TRUE(fake.log.contains(key)) << key;
    const auto keys = sdk::config_keys(tezgah_plugin_descriptor);
    std::vector<std::string> names;
    for (const auto& k : keys) names.emplace_back(k.name);
    EXPECT_EQ(names, (std::vector<std::string>{"phone_number_id", "access_token", "app_secret",
                                               "verify_token", "graph_version", "api_base_url",
                                               "burst_window_ms", "templates", "reopen_template"}));
}

}  // namespace
}  // namespace tezgah::testing
