// Handoff end to end, over real HTTP against `tezgah serve`, on SQLite and PostgreSQL: a customer
// asks for a person (chat API, /webhook, WhatsApp Cloud, a model calling handover_to_human), gets one
// acknowledgement, a ticket opens, the bot goes silent, an operator answers through the API on the
// customer's own channel, releases, and the bot answers again. Plus the event stream and bad input.
#include "channels/fake_graph.hpp"

#include "http/event_reader.hpp"
#include "http/http_fixture.hpp"
#include "outbox/outbox_fixture.hpp"
#include "store/api_keys.hpp"
#include "store/store_fixture.hpp"
#include "support/fake_openai.hpp"
#include "support/hmac_hex.hpp"
#include "support/serve_process.hpp"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <thread>

namespace tezgah::testing {
namespace {

using engine::Backend;
using namespace std::chrono_literals;

constexpr const char* kPhone = "106540352242922";
constexpr const char* kToken = "EAAtest-token";
constexpr const char* kSecret = "app-secret-for-tests";
const std::string kWhatsApp = "/v1/tenants/gece-butik/channels/whatsapp-cloud";
const std::string kApi = "/v1/tenants/gece-butik";

std::string sign(const std::string& body) { return "sha256=" + hmac_sha256_hex(kSecret, body); }

std::string whatsapp_text(const std::string& from, const std::string& wamid, const std::string& text) {
    json::object message{{"from", from},
                         {"id", wamid},
                         {"timestamp", "1733130000"},
                         {"type", "text"},
                         {"text", json::object{{"body", text}}}};
    json::object value{
        {"messaging_product", "whatsapp"},
        {"metadata", json::object{{"display_phone_number", "15550001111"}, {"phone_number_id", kPhone}}},
        {"contacts", json::array{json::object{{"profile", json::object{{"name", "Ayşe"}}}, {"wa_id", from}}}},
        {"messages", json::array{message}}};
    return json::serialize(json::object{
        {"object", "whatsapp_business_account"},
        {"entry", json::array{json::object{
                      {"id", "102290129340398"},
                      {"changes", json::array{json::object{{"field", "messages"}, {"value", value}}}}}}}});
}

class HandoffServe : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        ::setenv("TEZGAH_GECE_BUTIK__WA_TOKEN", kToken, 1);
        ::setenv("TEZGAH_GECE_BUTIK__WA_APP_SECRET", kSecret, 1);
        const auto tenants = dir.path() / "tenants";
        fs::copy(fixtures_dir(), tenants, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        edit_json(tenants / "gece-butik" / "tenant.json", [&](json::value& v) {
            auto& o = v.as_object();
            o["tools"].as_array().push_back(json::object{{"name", "handoff"}, {"release_after_minutes", 60}});
            o["channels"].as_object()["whatsapp-cloud"] =
                json::object{{"phone_number_id", kPhone},
                             {"access_token", "${TEZGAH_GECE_BUTIK__WA_TOKEN}"},
                             {"app_secret", "${TEZGAH_GECE_BUTIK__WA_APP_SECRET}"},
                             {"verify_token", "verify-me"},
                             {"burst_window_ms", 0},
                             {"api_base_url", graph.url()}};
        });
        // Keys, made in the database before the server opens it.
        auto db = engine::Database::open(scratch->url());
        ASSERT_TRUE(db.ok()) << db.error().message;
        const auto now = std::chrono::system_clock::now();
        auto make = [&](const std::string& tenant, std::vector<std::string> scopes) {
            auto made = engine::create_api_key(**db, "test", tenant, scopes, now);
            EXPECT_TRUE(made.ok());
            return made.ok() ? made->secret : std::string();
        };
        key = make("gece-butik", {"conversations:read", "conversations:write"});
        reader_key = make("gece-butik", {"conversations:read"});
        other_key = make("nefes-studyo", {"conversations:read", "conversations:write"});
        chat_key = make("gece-butik", {"chat:write"});
    }

    std::unique_ptr<ServeProcess> serve() {
        auto process = std::make_unique<ServeProcess>(
            dir.path(), "127.0.0.1:0",
            std::vector<std::string>{"--db", scratch->url(), "--outbox-retry-ms", "50",
                                     "--outbox-max-retry-ms", "200"});
        port = port_of(process->ready_line());
        EXPECT_NE(port, 0) << slurp(dir.path() / "serve.log");
        return process;
    }

    HttpReply chat(const std::string& text, const std::string& user,
                   const std::string& tenant = "gece-butik") {
        return http_request(port, "POST", "/v1/tenants/" + tenant + "/chat", chat_body(text, user));
    }
    HttpReply api(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& with_key = "") {
        std::vector<std::pair<std::string, std::string>> headers{
            {"Authorization", "Bearer " + (with_key.empty() ? key : with_key)}};
        return http_request(port, method, kApi + path, body, headers);
    }
    std::vector<json::object> sent_to(const std::string& to) {
        std::vector<json::object> out;
        for (auto& body : graph.accepted())
            if (body.at("to") == json::string(to)) out.push_back(std::move(body));
        return out;
    }
    static std::string text_of(const json::object& body) {
        if (body.at("type") == "text") return std::string(body.at("text").at("body").as_string());
        return json::serialize(body);
    }
    std::string log() { return slurp(dir.path() / "serve.log"); }

    TempDir dir;
    FakeGraph graph{kPhone, kToken};
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
    std::uint16_t port = 0;
    std::string key, reader_key, other_key, chat_key;
};

TEST_P(HandoffServe, ChatApiCustomerAsksForAPersonAnOperatorAnswersAndReleases) {
    auto process = serve();
    // The customer asks for a person: one acknowledgement, and the conversation is handed over.
    auto asked = chat("bir yetkiliyle görüşmek istiyorum", "c-1");
    ASSERT_EQ(asked.status, 200) << asked.body;
    const auto first = asked.json().as_object();
    EXPECT_EQ(first.at("handoff"), true) << asked.body;
    EXPECT_FALSE(first.at("reply").as_string().empty()) << asked.body;
    const std::string conversation(first.at("conversation_id").as_string());

    auto handed = api("GET", "/conversations?status=handed_over");
    ASSERT_EQ(handed.status, 200) << handed.body;
    const auto handed_json = handed.json();
    const auto& list = handed_json.at("conversations").as_array();
    ASSERT_EQ(list.size(), 1u) << handed.body;
    EXPECT_EQ(list[0].at("id"), json::string(conversation));
    EXPECT_EQ(list[0].at("user_id"), "c-1");
    EXPECT_EQ(list[0].at("channel"), "api");
    EXPECT_EQ(list[0].at("status"), "handed_over");

    // A ticket with the transcript, medium priority: the customer asked for a person.
    auto tickets = api("GET", "/tickets?status=open");
    ASSERT_EQ(tickets.status, 200) << tickets.body;
    const auto tickets_json = tickets.json();
    const auto& ticket_list = tickets_json.at("tickets").as_array();
    ASSERT_EQ(ticket_list.size(), 1u) << tickets.body;
    const auto& ticket = ticket_list[0].as_object();
    EXPECT_EQ(ticket.at("conversation_id"), json::string(conversation));
    EXPECT_EQ(ticket.at("priority"), "medium") << tickets.body;
    EXPECT_EQ(ticket.at("status"), "open");
    EXPECT_NE(json::serialize(ticket.at("transcript")).find("yetkiliyle"), std::string::npos) << tickets.body;

    // While handed over the bot is silent, and does not say again that a person will answer.
    auto waiting = chat("saten gecelik ne kadar?", "c-1");
    ASSERT_EQ(waiting.status, 200) << waiting.body;
    EXPECT_EQ(waiting.json().at("reply"), "") << waiting.body;
    EXPECT_EQ(waiting.json().at("method"), "handoff") << waiting.body;
    EXPECT_EQ(waiting.json().at("handoff"), true);
    EXPECT_EQ(waiting.json().at("conversation_id"), json::string(conversation));

    // The operator answers; the chat API, which cannot be pushed to, gives it with the next turn.
    auto replied = api("POST", "/conversations/" + conversation + "/messages",
                       R"({"text": "Merhaba, ben Selin. Siparişinize bakıyorum."})");
    ASSERT_EQ(replied.status, 202) << replied.body;
    EXPECT_EQ(replied.json().at("delivery"), "next_turn") << replied.body;
    auto next = chat("teşekkürler", "c-1");
    ASSERT_EQ(next.status, 200) << next.body;
    EXPECT_EQ(next.json().at("reply"), "Merhaba, ben Selin. Siparişinize bakıyorum.") << next.body;
    EXPECT_EQ(next.json().at("method"), "operator");
    auto again = chat("tamam", "c-1");  // given once only
    EXPECT_EQ(again.json().at("reply"), "") << again.body;

    auto one = api("GET", "/conversations/" + conversation);
    ASSERT_EQ(one.status, 200) << one.body;
    const auto one_json = one.json();
    const auto& messages = one_json.at("messages").as_array();
    std::string froms;
    for (const auto& m : messages) froms += std::string(m.at("from").as_string()) + ",";
    EXPECT_EQ(froms, "customer,bot,customer,operator,customer,customer,") << one.body;
    EXPECT_EQ(one.json().at("tickets").as_array().size(), 1u);

    // The ticket is taken and solved.
    const std::string ticket_id(ticket.at("id").as_string());
    auto assigned = api("PATCH", "/tickets/" + ticket_id, R"({"assignee": "selin"})");
    ASSERT_EQ(assigned.status, 200) << assigned.body;
    EXPECT_EQ(assigned.json().at("status"), "assigned");
    auto resolved = api("PATCH", "/tickets/" + ticket_id, R"({"status": "resolved", "priority": "low"})");
    ASSERT_EQ(resolved.status, 200) << resolved.body;
    EXPECT_EQ(resolved.json().at("status"), "resolved");
    EXPECT_EQ(api("GET", "/tickets?status=open").json().at("tickets").as_array().size(), 0u);

    // Released: the bot answers again.
    auto released = api("POST", "/conversations/" + conversation + "/release");
    ASSERT_EQ(released.status, 200) << released.body;
    EXPECT_EQ(released.json().at("status"), "bot");
    auto bot = chat("saten gecelik ne kadar?", "c-1");
    ASSERT_EQ(bot.status, 200) << bot.body;
    EXPECT_NE(std::string(bot.json().at("reply").as_string()).find("TL"), std::string::npos) << bot.body;
    EXPECT_EQ(bot.json().at("handoff"), false) << bot.body;
}

TEST_P(HandoffServe, EnglishComplaintIsHighPriorityAndOperatorsCanTakeOverAnyConversation) {
    auto process = serve();
    auto human = chat("can I talk to a human?", "c-en");
    ASSERT_EQ(human.status, 200) << human.body;
    EXPECT_EQ(human.json().at("handoff"), true) << human.body;
    // Acknowledged in the customer's language.
    EXPECT_EQ(human.json().at("language"), "en") << human.body;
    EXPECT_EQ(human.body.find("yetkili"), std::string::npos) << human.body;
    auto complaint = chat("my order arrived damaged, this is unacceptable", "c-angry");
    ASSERT_EQ(complaint.status, 200) << complaint.body;
    EXPECT_EQ(complaint.json().at("handoff"), true) << complaint.body;
    auto hurt = chat("ürününüzün fermuarı elimi kesti, yaralandım", "c-hurt");
    ASSERT_EQ(hurt.status, 200) << hurt.body;
    EXPECT_EQ(hurt.json().at("handoff"), true) << hurt.body;
    auto tickets = api("GET", "/tickets").json().at("tickets").as_array();
    ASSERT_EQ(tickets.size(), 3u);
    for (const auto& t : tickets) {
        if (t.at("user_id") == "c-angry" || t.at("user_id") == "c-hurt") {
            EXPECT_EQ(t.at("priority"), "high") << json::serialize(t);
        }
        if (t.at("user_id") == "c-en") {
            EXPECT_EQ(t.at("priority"), "medium") << json::serialize(t);
        }
    }
    for (const auto& text : {"insanla konuşmak istiyorum", "gerçek biriyle görüşebilir miyim"}) {
        auto r = chat(text, std::string("c-tr-") + text);
        EXPECT_EQ(r.json().at("handoff"), true) << text << ": " << r.body;
    }

    // An operator takes over a conversation the bot is having.
    auto bot = chat("saten gecelik ne kadar?", "c-bot");
    const std::string conversation(bot.json().at("conversation_id").as_string());
    auto taken = api("POST", "/conversations/" + conversation + "/takeover");
    ASSERT_EQ(taken.status, 200) << taken.body;
    EXPECT_EQ(taken.json().at("status"), "handed_over");
    auto silent = chat("kırmızı olan var mı?", "c-bot");
    EXPECT_EQ(silent.json().at("reply"), "") << silent.body;
    api("POST", "/conversations/" + conversation + "/release");
    auto back = chat("saten gecelik ne kadar?", "c-bot");
    EXPECT_NE(back.json().at("reply"), "") << back.body;
}

TEST_P(HandoffServe, WhatsAppCustomerGetsOneAcknowledgementTheOperatorsReplyAndTheBotAfterRelease) {
    auto process = serve();
    const std::string customer = "905551112233";
    auto asked = http_request(
        port, "POST", kWhatsApp, whatsapp_text(customer, "wamid.H1", "bir yetkiliyle görüşmek istiyorum"),
        {{"X-Hub-Signature-256",
          sign(whatsapp_text(customer, "wamid.H1", "bir yetkiliyle görüşmek istiyorum"))}});
    ASSERT_EQ(asked.status, 200) << asked.body;
    ASSERT_TRUE(eventually([&] { return sent_to(customer).size() == 1; })) << log();
    const std::string ack = text_of(sent_to(customer)[0]);
    EXPECT_NE(ack.find("yetkili"), std::string::npos) << ack;

    auto handed = api("GET", "/conversations?status=handed_over&channel=whatsapp-cloud");
    ASSERT_EQ(handed.status, 200) << handed.body;
    ASSERT_EQ(handed.json().at("conversations").as_array().size(), 1u) << handed.body;
    const std::string conversation(handed.json().at("conversations").at(0).at("id").as_string());

    // The bot stays silent: the customer's message is stored, nothing is sent.
    const std::string body = whatsapp_text(customer, "wamid.H2", "saten gecelik ne kadar?");
    auto silent = http_request(port, "POST", kWhatsApp, body, {{"X-Hub-Signature-256", sign(body)}});
    ASSERT_EQ(silent.status, 200) << silent.body;
    auto one = api("GET", "/conversations/" + conversation);
    EXPECT_NE(one.body.find("saten gecelik ne kadar?"), std::string::npos) << one.body;

    // The operator's reply reaches the customer through the outbox and the Graph API.
    auto replied = api("POST", "/conversations/" + conversation + "/messages",
                       R"({"text": "Merhaba, ben Selin; saten gecelik 1.299 TL."})");
    ASSERT_EQ(replied.status, 202) << replied.body;
    EXPECT_EQ(replied.json().at("delivery"), "outbox");
    ASSERT_TRUE(eventually([&] { return sent_to(customer).size() == 2; })) << log();
    EXPECT_EQ(text_of(sent_to(customer)[1]), "Merhaba, ben Selin; saten gecelik 1.299 TL.");

    // Released: the bot answers again (and nothing else was sent meanwhile).
    ASSERT_EQ(api("POST", "/conversations/" + conversation + "/release").status, 200);
    const std::string later = whatsapp_text(customer, "wamid.H3", "saten gecelik ne kadar?");
    ASSERT_EQ(http_request(port, "POST", kWhatsApp, later, {{"X-Hub-Signature-256", sign(later)}}).status,
              200);
    ASSERT_TRUE(eventually([&] { return sent_to(customer).size() == 3; })) << log();
    EXPECT_NE(text_of(sent_to(customer)[2]).find("TL"), std::string::npos) << text_of(sent_to(customer)[2]);
}

TEST_P(HandoffServe, WebhookCustomerGetsTheOperatorsReplyWithTheirNextMessageAndTheBotAfterRelease) {
    auto process = serve();
    const std::string customer = "905550000777";
    auto send = [&](const std::string& text) {
        auto reply = http_request(port, "POST", "/webhook",
                                  json::serialize(json::object{{"mesaj_metni", text},
                                                               {"kullanici_id", customer},
                                                               {"isletme_id", "gece-butik"},
                                                               {"platform", "whatsapp"}}));
        EXPECT_EQ(reply.status, 200) << reply.body;
        return reply.status == 200 ? reply.json().as_object() : json::object{};
    };
    auto asked = send("bir yetkiliyle görüşmek istiyorum");
    EXPECT_EQ(asked["handoff"], true) << json::serialize(asked);
    EXPECT_NE(std::string(asked["message"].as_string()).find("yetkili"), std::string::npos)
        << json::serialize(asked);

    auto handed = api("GET", "/conversations?status=handed_over&channel=webhook");
    ASSERT_EQ(handed.status, 200) << handed.body;
    ASSERT_EQ(handed.json().at("conversations").as_array().size(), 1u) << handed.body;
    const std::string conversation(handed.json().at("conversations").at(0).at("id").as_string());
    EXPECT_EQ(handed.json().at("conversations").at(0).at("user_id"), json::string(customer));

    // Silent while handed over; the webhook cannot be pushed to, so the operator's reply comes
    // back with the customer's next message, once.
    auto waiting = send("saten gecelik ne kadar?");
    EXPECT_EQ(waiting["message"], "") << json::serialize(waiting);
    auto replied = api("POST", "/conversations/" + conversation + "/messages",
                       R"({"text": "Merhaba, ben Selin; saten gecelik 1.299 TL."})");
    ASSERT_EQ(replied.status, 202) << replied.body;
    EXPECT_EQ(replied.json().at("delivery"), "next_turn") << replied.body;
    auto relayed = send("teşekkürler");
    EXPECT_EQ(relayed["message"], "Merhaba, ben Selin; saten gecelik 1.299 TL.") << json::serialize(relayed);
    EXPECT_EQ(send("tamam")["message"], "");

    ASSERT_EQ(api("POST", "/conversations/" + conversation + "/release").status, 200);
    auto bot = send("saten gecelik ne kadar?");
    EXPECT_NE(std::string(bot["message"].as_string()).find("TL"), std::string::npos) << json::serialize(bot);
    EXPECT_EQ(bot["handoff"], false) << json::serialize(bot);
}

TEST_P(HandoffServe, TheEventStreamCarriesThisTenantsHandoffTicketAndMessagesOnly) {
    auto process = serve();
    EventReader events(port, kApi + "/events", "Authorization: Bearer " + reader_key);
    ASSERT_TRUE(eventually([&] { return events.has(": connected"); }, 10s)) << events.text();
    EventReader others(port, "/v1/tenants/nefes-studyo/events", "Authorization: Bearer " + other_key);
    ASSERT_TRUE(eventually([&] { return others.has(": connected"); }, 10s)) << others.text();

    auto asked = chat("bir yetkiliyle görüşmek istiyorum", "c-ev");
    ASSERT_EQ(asked.status, 200) << asked.body;
    const std::string conversation(asked.json().at("conversation_id").as_string());
    ASSERT_TRUE(eventually([&] { return events.has("event: ticket"); }, 10s)) << events.text();
    const auto seen = parse_events(events.text().substr(events.text().find("\r\n\r\n") + 4));
    bool handoff = false, message = false;
    for (const auto& e : seen) {
        if (e.name == "handoff") {
            handoff = true;
            const auto data = json::parse(e.data).as_object();
            EXPECT_EQ(data.at("tenant"), "gece-butik");
            EXPECT_EQ(data.at("conversation_id"), json::string(conversation));
            EXPECT_EQ(data.at("user_id"), "c-ev");
            EXPECT_EQ(data.at("channel"), "api");
            EXPECT_EQ(data.at("priority"), "medium");
            EXPECT_FALSE(data.at("ticket_id").as_string().empty());
            EXPECT_EQ(data.at("text"), "bir yetkiliyle görüşmek istiyorum");
            EXPECT_TRUE(data.contains("reason"));
        }
        if (e.name == "message" && e.data.find("yetkiliyle") != std::string::npos) message = true;
    }
    EXPECT_TRUE(handoff) << events.text();
    EXPECT_TRUE(message) << events.text();
    // A customer's message while handed over, and the operator's reply, are streamed.
    chat("orada mısınız?", "c-ev");
    api("POST", "/conversations/" + conversation + "/messages", R"({"text": "Buradayım."})");
    ASSERT_TRUE(eventually([&] { return events.has("orada mısınız?") && events.has("Buradayım."); }, 10s))
        << events.text();
    api("POST", "/conversations/" + conversation + "/release");
    ASSERT_TRUE(eventually([&] { return events.has("event: release"); }, 10s)) << events.text();
    // Nothing of gece-butik on nefes-studyo's stream.
    EXPECT_EQ(others.text().find("gece-butik"), std::string::npos) << others.text();
    EXPECT_EQ(others.text().find("event: "), std::string::npos) << others.text();
    // The stream ends when the server stops.
    process->signal(SIGTERM);
    EXPECT_TRUE(eventually([&] { return events.closed(); }, 15s));
}

TEST_P(HandoffServe, BadRequestsGetClearErrorsAndNoOtherTenantsData) {
    auto process = serve();
    auto asked = chat("bir yetkiliyle görüşmek istiyorum", "c-bad");
    const std::string conversation(asked.json().at("conversation_id").as_string());
    const std::string path = kApi + "/conversations/" + conversation;

    EXPECT_EQ(http_request(port, "GET", kApi + "/conversations").status, 401);
    EXPECT_EQ(api("GET", "/conversations", "", "tzk_0000000000000000_" + std::string(64, '0')).status, 401);
    auto foreign = api("GET", "/conversations/" + conversation, "", other_key);
    EXPECT_EQ(foreign.status, 403) << foreign.body;
    EXPECT_EQ(foreign.body.find("c-bad"), std::string::npos);
    EXPECT_EQ(
        api("POST", "/conversations/" + conversation + "/messages", R"({"text":"x"})", reader_key).status,
        403);
    EXPECT_EQ(api("GET", "/conversations", "", chat_key).status, 403);
    // nefes-studyo's own key sees none of gece-butik's conversations through its own tenant.
    auto theirs = http_request(port, "GET", "/v1/tenants/nefes-studyo/conversations/" + conversation, "",
                               {{"Authorization", "Bearer " + other_key}});
    EXPECT_EQ(theirs.status, 404) << theirs.body;
    auto their_list = http_request(port, "GET", "/v1/tenants/nefes-studyo/conversations", "",
                                   {{"Authorization", "Bearer " + other_key}});
    EXPECT_EQ(their_list.status, 200);
    EXPECT_EQ(their_list.body.find("c-bad"), std::string::npos) << their_list.body;

    auto unknown = api("GET", "/conversations/no-such-conversation");
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    EXPECT_NE(unknown.body.find("request_id"), std::string::npos);
    EXPECT_EQ(api("POST", "/conversations/no-such/messages", R"({"text":"x"})").status, 404);
    EXPECT_EQ(api("POST", "/conversations/no-such/takeover").status, 404);
    EXPECT_EQ(api("POST", "/conversations/no-such/release").status, 404);
    auto malformed = api("POST", "/conversations/" + conversation + "/messages", "{\"text\": ");
    EXPECT_EQ(malformed.status, 400) << malformed.body;
    EXPECT_NE(malformed.body.find("invalid_json"), std::string::npos);
    auto missing = api("POST", "/conversations/" + conversation + "/messages", R"({"words": "x"})");
    EXPECT_EQ(missing.status, 400) << missing.body;
    EXPECT_NE(missing.body.find("text"), std::string::npos);
    EXPECT_EQ(api("POST", "/conversations/" + conversation + "/messages", R"({"text": 5})").status, 400);
    EXPECT_EQ(api("POST", "/conversations/" + conversation + "/messages", R"({"text": "   "})").status, 422);
    EXPECT_EQ(api("POST", "/conversations/" + conversation + "/messages",
                  json::serialize(json::object{{"text", std::string(5000, 'a')}}))
                  .status,
              422);
    auto wrong_type = http_request(port, "POST", path + "/messages", "text=hi",
                                   {{"Authorization", "Bearer " + key}, {"Content-Type", "text/plain"}});
    EXPECT_EQ(wrong_type.status, 415) << wrong_type.body;
    auto status = api("GET", "/conversations?status=sleeping");
    EXPECT_EQ(status.status, 422) << status.body;
    EXPECT_NE(status.body.find("status"), std::string::npos);
    EXPECT_EQ(api("GET", "/conversations?limit=0").status, 422);
    EXPECT_EQ(api("GET", "/conversations?cursor=garbage").status, 422);
    EXPECT_EQ(api("GET", "/tickets?status=closed").status, 422);
    const std::string ticket(api("GET", "/tickets").json().at("tickets").at(0).at("id").as_string());
    auto bad_status = api("PATCH", "/tickets/" + ticket, R"({"status": "done"})");
    EXPECT_EQ(bad_status.status, 422) << bad_status.body;
    EXPECT_NE(bad_status.body.find("status"), std::string::npos);
    EXPECT_EQ(api("PATCH", "/tickets/" + ticket, R"({"priority": "asap"})").status, 422);
    EXPECT_EQ(api("PATCH", "/tickets/" + ticket, R"({"colour": "red"})").status, 400);
    EXPECT_EQ(api("PATCH", "/tickets/" + ticket, R"({})").status, 400);
    EXPECT_EQ(api("PATCH", "/tickets/tk_nope", R"({"status": "resolved"})").status, 404);
    auto method = api("DELETE", "/conversations/" + conversation);
    EXPECT_EQ(method.status, 405) << method.body;
    // The ticket is unchanged by the refused edits.
    EXPECT_EQ(api("GET", "/tickets").json().at("tickets").at(0).at("status"), "open");

    // Paging walks every conversation once.
    for (int i = 0; i < 5; ++i) chat("merhaba", "c-page-" + std::to_string(i));
    std::set<std::string> seen;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        auto r = api("GET", "/conversations?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_EQ(r.status, 200) << r.body;
        const auto page_json = r.json();
        for (const auto& c : page_json.at("conversations").as_array())
            seen.insert(std::string(c.at("id").as_string()));
        if (page_json.at("next").is_null()) break;
        cursor = std::string(page_json.at("next").as_string());
    }
    EXPECT_EQ(seen.size(), 6u);
}

TEST_P(HandoffServe, AModelThatCallsHandoverToHumanHandsTheConversationOver) {
    FakeOpenAi model;
    model.push_back(FakeOpenAiBehaviour::tool_calls(
        {{"handover_to_human",
          R"({"reason": "customer wants to speak to a person about a refund", "priority": "high"})"}}));
    model.push_back(
        FakeOpenAiBehaviour::answer("Sizi hemen bir yetkilimize aktarıyorum; buradan size yazacak."));
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"model", "gpt-4o-mini"},
                                            {"base_url", model.base_url()},
                                            {"api_key", "sk-test"}};
    });
    auto process = serve();
    auto asked = chat("gerçek biriyle görüşebilir miyim, param iade edilmedi", "c-model");
    ASSERT_EQ(asked.status, 200) << asked.body << log();
    EXPECT_EQ(asked.json().at("handoff"), true) << asked.body;
    EXPECT_EQ(asked.json().at("reply"), "Sizi hemen bir yetkilimize aktarıyorum; buradan size yazacak.");
    auto tickets = api("GET", "/tickets").json().at("tickets").as_array();
    ASSERT_EQ(tickets.size(), 1u);
    EXPECT_EQ(tickets[0].at("priority"), "high");
    EXPECT_EQ(tickets[0].at("reason"), "customer wants to speak to a person about a refund");
    // Handed over: the model is not asked again.
    auto silent = chat("merhaba?", "c-model");
    EXPECT_EQ(silent.json().at("reply"), "") << silent.body;
}

TEST_P(HandoffServe, AfterReleaseAfterMinutesOfOperatorSilenceTheBotAnswersAgain) {
    // The server's clock is moved on by a restart with --clock: two hours later than the handoff.
    auto at = [](std::chrono::system_clock::time_point t) {
        const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char buffer[32];
        std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
        return std::string(buffer);
    };
    const auto now = std::chrono::system_clock::now();
    std::string conversation;
    {
        auto process = std::make_unique<ServeProcess>(
            dir.path(), "127.0.0.1:0", std::vector<std::string>{"--db", scratch->url(), "--clock", at(now)});
        port = port_of(process->ready_line());
        ASSERT_NE(port, 0) << log();
        auto asked = chat("can I talk to a human?", "c-late");
        ASSERT_EQ(asked.json().at("handoff"), true) << asked.body;
        conversation = std::string(asked.json().at("conversation_id").as_string());
        auto operator_said =
            api("POST", "/conversations/" + conversation + "/messages", R"({"text": "One moment."})");
        ASSERT_EQ(operator_said.status, 202) << operator_said.body;
        // Within the hour, still the operator's.
        EXPECT_EQ(chat("hello?", "c-late").json().at("reply"), "One moment.");
        process->signal(SIGTERM);
        process->wait();
    }
    auto process = std::make_unique<ServeProcess>(
        dir.path(), "127.0.0.1:0",
        std::vector<std::string>{"--db", scratch->url(), "--clock", at(now + std::chrono::hours(2))});
    port = port_of(process->ready_line());
    ASSERT_NE(port, 0) << log();
    // The sweep gives it back to the bot, without a word to the customer.
    ASSERT_TRUE(eventually(
        [&] { return api("GET", "/conversations/" + conversation).json().at("status") == "bot"; }, 20s))
        << api("GET", "/conversations/" + conversation).body;
    auto back = chat("saten gecelik ne kadar?", "c-late");
    EXPECT_NE(std::string(back.json().at("reply").as_string()).find("TL"), std::string::npos) << back.body;
    EXPECT_EQ(back.json().at("handoff"), false) << back.body;
}

TEST_P(HandoffServe, TheShopsWebhookIsToldOnceSignedWhenACustomerAsksForAPerson) {
    // The shop's receiver checks the signature as docs/operators.md shows; it fails once, then
    // recovers: the notice arrives once, and its state is visible through the API.
    const std::string hook_secret = "whsec-for-the-handoff-test";
    ::setenv("TEZGAH_GECE_BUTIK__HOOK_SECRET", hook_secret.c_str(), 1);
    std::atomic<int> calls{0}, bad_signatures{0};
    std::mutex mutex;
    std::vector<json::object> received;
    FakeHttpServer receiver([&](const RecordedRequest& r, FakeReply& reply) {
        const std::string header(r.header("x-tezgah-signature"));
        const auto comma = header.find(",v1=");
        const std::string t = comma == std::string::npos ? "" : header.substr(2, comma - 2);
        const std::string hex = hmac_sha256_hex(hook_secret, t + "." + r.body);
        if (!header.starts_with("t=") || comma == std::string::npos || header.substr(comma + 4) != hex) {
            ++bad_signatures;
            reply.status(401);
            return reply.body("bad signature");
        }
        if (++calls == 1) {
            reply.status(503);
            return reply.body("down for a moment");
        }
        std::lock_guard lock(mutex);
        received.push_back(json::parse(r.body).as_object());
        reply.status(204);
        reply.body("");
    });
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        for (auto& tool : v.at("tools").as_array())
            if (tool.is_object() && tool.at("name") == "handoff")
                tool.as_object()["notify"] =
                    json::object{{"webhook", json::object{{"url", receiver.url() + "/hooks/tezgah"},
                                                          {"secret", "${TEZGAH_GECE_BUTIK__HOOK_SECRET}"}}}};
    });
    auto process = std::make_unique<ServeProcess>(
        dir.path(), "127.0.0.1:0",
        std::vector<std::string>{"--db", scratch->url(), "--notify-retry-ms", "50"});
    port = port_of(process->ready_line());
    ASSERT_NE(port, 0) << log();

    auto asked = chat("bir yetkiliyle görüşmek istiyorum", "c-notify");
    ASSERT_EQ(asked.status, 200) << asked.body;
    EXPECT_EQ(asked.json().at("handoff"), true) << asked.body;
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return !received.empty();
    })) << log();
    std::this_thread::sleep_for(500ms);  // a second copy would come within the retry delay
    std::lock_guard lock(mutex);
    ASSERT_EQ(received.size(), 1u) << log();
    EXPECT_EQ(bad_signatures.load(), 0);
    const auto& notice = received.front();
    EXPECT_EQ(notice.at("event"), "handoff");
    EXPECT_EQ(notice.at("tenant"), "gece-butik");
    EXPECT_EQ(notice.at("user_id"), "c-notify");
    EXPECT_EQ(notice.at("channel"), "api");
    EXPECT_EQ(notice.at("priority"), "medium");
    EXPECT_EQ(notice.at("conversation_id"), asked.json().at("conversation_id"));
    EXPECT_FALSE(notice.at("ticket_id").as_string().empty());
    EXPECT_NE(json::serialize(notice.at("text")).find("yetkiliyle"), std::string::npos)
        << json::serialize(notice);

    auto notices = api("GET", "/notices", "", reader_key);
    ASSERT_EQ(notices.status, 200) << notices.body;
    const auto listed = notices.json();
    ASSERT_EQ(listed.at("notices").as_array().size(), 1u) << notices.body;
    EXPECT_EQ(listed.at("notices").as_array()[0].at("state"), "sent") << notices.body;
    EXPECT_EQ(listed.at("notices").as_array()[0].at("attempts"), 2) << notices.body;
    EXPECT_EQ(notices.body.find(hook_secret), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, HandoffServe, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         ::tezgah::engine::testing::backend_name);

}  // namespace
}  // namespace tezgah::testing
