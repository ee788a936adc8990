// The whatsapp-cloud channel end to end: Meta's webhooks over real HTTP to `tezgah serve`, replies
// through the outbox to the fake Graph API, statuses moving them on, the 24-hour window, and bad
// input on every route — on both database backends. Webhooks are signed here with OpenSSL's HMAC,
// not with the channel's own code.
#include "channels/fake_graph.hpp"

#include "http/http_fixture.hpp"
#include "outbox/outbox_fixture.hpp"
#include "store/store_fixture.hpp"
#include "support/hmac_hex.hpp"
#include "support/serve_process.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <signal.h>
#include <cstdio>
#include <ctime>

namespace tezgah::testing {
namespace {

using engine::Backend;
using Answer = FakeGraph::Answer;

constexpr const char* kPhone = "106540352242922";
constexpr const char* kOtherPhone = "106540352249999";
constexpr const char* kToken = "EAAtest-token";
constexpr const char* kSecret = "app-secret-for-tests";
constexpr const char* kVerify = "verify-me";
const std::string kRoute = "/v1/tenants/gece-butik/channels/whatsapp-cloud";

std::string sign(const std::string& body, const std::string& secret = kSecret) {
    return "sha256=" + hmac_sha256_hex(secret, body);
}

json::object text_message(const std::string& from, const std::string& wamid, const std::string& text) {
    return {{"from", from},
            {"id", wamid},
            {"timestamp", "1733130000"},
            {"type", "text"},
            {"text", json::object{{"body", text}}}};
}

/// A notification as Meta posts it, for the number `phone`.
std::string webhook(const json::array& messages, const json::array& statuses = {},
                    const std::string& phone = kPhone) {
    json::object value{
        {"messaging_product", "whatsapp"},
        {"metadata", json::object{{"display_phone_number", "15550001111"}, {"phone_number_id", phone}}}};
    json::array contacts;
    for (const auto& m : messages)
        contacts.push_back(
            json::object{{"profile", json::object{{"name", "Ayşe"}}}, {"wa_id", m.at("from")}});
    if (!messages.empty()) {
        value["contacts"] = contacts;
        value["messages"] = messages;
    }
    if (!statuses.empty()) value["statuses"] = statuses;
    return json::serialize(json::object{
        {"object", "whatsapp_business_account"},
        {"entry", json::array{json::object{
                      {"id", "102290129340398"},
                      {"changes", json::array{json::object{{"field", "messages"}, {"value", value}}}}}}}});
}

json::object status(const std::string& wamid, const std::string& state, const std::string& to) {
    json::object out{{"id", wamid}, {"status", state}, {"timestamp", "1733130100"}, {"recipient_id", to}};
    if (state == "failed")
        out["errors"] = json::array{json::object{
            {"code", 131026},
            {"title", "Message undeliverable"},
            {"error_data", json::object{{"details", "Receiver is incapable of receiving this message"}}}}};
    return out;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

class WhatsAppServe : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        ::setenv("TEZGAH_GECE_BUTIK__WA_TOKEN", kToken, 1);
        ::setenv("TEZGAH_GECE_BUTIK__WA_APP_SECRET", kSecret, 1);
        ::setenv("TEZGAH_GECE_BUTIK__WA_VERIFY", kVerify, 1);
        ::setenv("TEZGAH_NEFES_STUDYO__WA_TOKEN", kToken, 1);
        ::unsetenv("TEZGAH_NEFES_STUDYO__WA_UNSET");
        const auto tenants = dir.path() / "tenants";
        fs::copy(fixtures_dir(), tenants, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        configure("gece-butik", kPhone,
                  {{"reopen_template", "yeniden_baglan"},
                   {"templates",
                    json::object{{"yeniden_baglan", json::object{{"name", "reopen_conversation"},
                                                                 {"language", "tr"},
                                                                 {"variables", json::array{"text"}}}}}}});
        configure("nefes-studyo", kOtherPhone, {});
    }

    void configure(const std::string& tenant, const std::string& phone, const json::object& more) {
        const std::string prefix = tenant == "gece-butik" ? "TEZGAH_GECE_BUTIK__" : "TEZGAH_NEFES_STUDYO__";
        edit_json(dir.path() / "tenants" / tenant / "tenant.json", [&](json::value& v) {
            json::object config{
                {"phone_number_id", phone},
                {"access_token", "${" + prefix + "WA_TOKEN}"},
                {"app_secret", tenant == "gece-butik" ? "${TEZGAH_GECE_BUTIK__WA_APP_SECRET}" : kSecret},
                {"verify_token", tenant == "gece-butik" ? "${TEZGAH_GECE_BUTIK__WA_VERIFY}" : kVerify},
                {"api_base_url", graph.url()}};
            for (const auto& [k, value] : more) config[k] = value;
            v.as_object()["channels"].as_object()["whatsapp-cloud"] = std::move(config);
        });
    }

    /// Every tenant's outbox rows, for a failure's message.
    std::string outbox_rows() {
        std::string out;
        auto db = engine::Database::open(scratch->url());
        if (!db) return db.error().message;
        for (const char* tenant : {"gece-butik", "nefes-studyo"}) {
            auto rows = (*db)->outbox_messages(tenant, 100);
            if (!rows) return rows.error().message;
            for (const auto& r : *rows)
                out += std::string(tenant) + " " + r.recipient + " " + r.state +
                       " attempts=" + std::to_string(r.attempts) + " " + r.error + "\n";
        }
        return out;
    }

    std::unique_ptr<ServeProcess> serve(const std::vector<std::string>& more = {}) {
        std::vector<std::string> args{"--db",
                                      scratch->url(),
                                      "--outbox-retry-ms",
                                      "50",
                                      "--outbox-max-retry-ms",
                                      "200",
                                      "--outbox-lease-ms",
                                      "1000"};
        args.insert(args.end(), more.begin(), more.end());
        auto process = std::make_unique<ServeProcess>(dir.path(), "127.0.0.1:0", args);
        port = port_of(process->ready_line());
        EXPECT_NE(port, 0) << slurp(dir.path() / "serve.log");
        return process;
    }

    HttpReply post(const std::string& body, const std::string& route = kRoute) {
        return http_request(port, "POST", route, body, {{"X-Hub-Signature-256", sign(body)}});
    }

    std::string metrics() { return http_request(port, "GET", "/metrics").body; }
    bool has_metric(const std::string& line) { return metrics().find(line) != std::string::npos; }
    /// The bodies Meta accepted for `to`.
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

    TempDir dir;
    FakeGraph graph{kPhone, kToken};
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
    std::uint16_t port = 0;
};

TEST_P(WhatsAppServe, MetaVerifiesTheWebhookWithItsToken) {
    auto process = serve();
    auto ok = http_request(
        port, "GET", kRoute + "?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444");
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(ok.body, "1158201444");
    EXPECT_EQ(ok.headers["content-type"].rfind("text/plain", 0), 0u) << ok.headers["content-type"];
    auto wrong =
        http_request(port, "GET", kRoute + "?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1");
    EXPECT_EQ(wrong.status, 403) << wrong.body;
    EXPECT_NE(wrong.body.find("hub.verify_token"), std::string::npos) << wrong.body;
    EXPECT_NE(wrong.body.find("request_id"), std::string::npos);
    auto missing = http_request(port, "GET", kRoute + "?hub.mode=subscribe");
    EXPECT_EQ(missing.status, 400) << missing.body;
}

TEST_P(WhatsAppServe, ATextIsAnsweredThroughTheGraphAPIAndStatusesMoveItOn) {
    auto process = serve();
    const std::string body = webhook({text_message("905551112233", "wamid.IN1", "saten gecelik ne kadar?")});
    auto answered = post(body);
    ASSERT_EQ(answered.status, 200) << answered.body;
    ASSERT_TRUE(eventually([&] { return sent_to("905551112233").size() == 1; }))
        << slurp(dir.path() / "serve.log");
    const auto reply = sent_to("905551112233").front();
    EXPECT_EQ(reply.at("messaging_product"), "whatsapp");
    EXPECT_NE(text_of(reply).find("299"), std::string::npos) << text_of(reply);

    // Meta delivers the same notification again: answered, not sent twice.
    EXPECT_EQ(post(body).status, 200);
    ASSERT_TRUE(eventually([&] { return has_metric("tezgah_outbox_messages{state=\"sent\"} 1"); }));

    // delivered, then read; a late "delivered" changes nothing.
    EXPECT_EQ(post(webhook({}, {status("wamid.FAKE1", "delivered", "905551112233")})).status, 200);
    EXPECT_TRUE(eventually([&] { return has_metric("tezgah_outbox_messages{state=\"delivered\"} 1"); }));
    EXPECT_EQ(post(webhook({}, {status("wamid.FAKE1", "read", "905551112233")})).status, 200);
    EXPECT_EQ(post(webhook({}, {status("wamid.FAKE1", "delivered", "905551112233")})).status, 200);
    EXPECT_TRUE(has_metric("tezgah_outbox_messages{state=\"read\"} 1")) << metrics();
    EXPECT_EQ(graph.accepted().size(), 1u);

    // Another customer; Meta reports their reply failed.
    ASSERT_EQ(post(webhook({text_message("905559998877", "wamid.IN2", "merhaba")})).status, 200);
    ASSERT_TRUE(eventually([&] { return sent_to("905559998877").size() == 1; }));
    // Reported once the outbox has stored the send (its wamid): the fake may have answered first.
    ASSERT_TRUE(eventually([&] { return has_metric("tezgah_outbox_messages{state=\"sent\"} 1"); }))
        << metrics();
    EXPECT_EQ(post(webhook({}, {status("wamid.FAKE2", "failed", "905559998877")})).status, 200);
    EXPECT_TRUE(eventually([&] { return has_metric("tezgah_outbox_messages{state=\"failed\"} 1"); }))
        << metrics();
    EXPECT_TRUE(graph.violations().empty());
}

TEST_P(WhatsAppServe, ARepliesOptionsLeaveAsAListTheCustomerCanPickFrom) {
    auto process = serve();
    ASSERT_EQ(post(webhook({text_message("905551113344", "wamid.O1", "gecelikleriniz neler?")})).status, 200);
    ASSERT_TRUE(eventually([&] { return sent_to("905551113344").size() == 1; }))
        << slurp(dir.path() / "serve.log");
    const auto sent = sent_to("905551113344").front();
    ASSERT_EQ(sent.at("type"), "interactive") << json::serialize(sent);
    const auto& interactive = sent.at("interactive").as_object();
    EXPECT_EQ(interactive.at("type"), "list") << json::serialize(sent);
    std::vector<std::string> ids;
    for (const auto& section : interactive.at("action").at("sections").as_array())
        for (const auto& row : section.at("rows").as_array()) ids.emplace_back(row.at("id").as_string());
    EXPECT_EQ(ids, (std::vector<std::string>{"saten-gecelik-siyah", "pamuklu-gecelik", "dantelli-gecelik",
                                             "hamile-gecelik", "saten-gecelik-bordo"}))
        << json::serialize(sent);
    EXPECT_NE(json::serialize(interactive.at("body")).find("Gecelik"), std::string::npos)
        << json::serialize(sent);
    EXPECT_TRUE(graph.violations().empty());
}

TEST_P(WhatsAppServe, ButtonAndListRepliesAreTheCustomersChoice) {
    auto process = serve();
    json::object list{
        {"from", "905551110001"},
        {"id", "wamid.L1"},
        {"timestamp", "1733130000"},
        {"type", "interactive"},
        {"interactive", json::object{{"type", "list_reply"},
                                     {"list_reply", json::object{{"id", "saten-gecelik-bordo"},
                                                                 {"title", "Saten Gecelik Bordo"},
                                                                 {"description", "299,99 TL"}}}}}};
    json::object button{
        {"from", "905551110002"},
        {"id", "wamid.B1"},
        {"timestamp", "1733130000"},
        {"type", "interactive"},
        {"interactive", json::object{{"type", "button_reply"},
                                     {"button_reply", json::object{{"id", "pamuklu-gecelik"},
                                                                   {"title", "Pamuklu Uzun Gecelik"}}}}}};
    json::object quick{
        {"from", "905551110003"},
        {"id", "wamid.T1"},
        {"timestamp", "1733130000"},
        {"type", "button"},
        {"button", json::object{{"payload", "price-dantel"}, {"text", "Dantelli Askılı Gecelik"}}}};
    // Three customers in one notification: a turn for each.
    ASSERT_EQ(post(webhook({list, button, quick})).status, 200);
    ASSERT_TRUE(eventually([&] { return graph.accepted().size() == 3; })) << slurp(dir.path() / "serve.log");
    EXPECT_NE(text_of(sent_to("905551110001").at(0)).find("299"), std::string::npos);
    EXPECT_NE(text_of(sent_to("905551110002").at(0)).find("249"), std::string::npos);
    EXPECT_NE(text_of(sent_to("905551110003").at(0)).find("349"), std::string::npos);
}

TEST_P(WhatsAppServe, APictureAloneGetsAPoliteAnswerAndAPerson) {
    auto process = serve();
    json::object image{
        {"from", "905551234000"},
        {"id", "wamid.IMG1"},
        {"timestamp", "1733130000"},
        {"type", "image"},
        {"image", json::object{{"id", "1479537139650973"},
                               {"mime_type", "image/jpeg"},
                               {"sha256", "29ed500fa64eb55fc19dc4124acb300e5dcc54a0f822a301ae99944db"}}}};
    ASSERT_EQ(post(webhook({image})).status, 200);
    ASSERT_TRUE(eventually([&] { return sent_to("905551234000").size() == 1; }))
        << slurp(dir.path() / "serve.log");
    EXPECT_NE(text_of(sent_to("905551234000").front()).find("Ekibimizden"), std::string::npos)
        << text_of(sent_to("905551234000").front());
}

TEST_P(WhatsAppServe, OutsideTheWindowOnlyATemplateGoesOut) {
    // Meta says the window is closed: the reply goes as the tenant's reopen_template, its text a
    // parameter of it.
    graph.close_window("905550000001");
    {
        auto process = serve();
        ASSERT_EQ(post(webhook({text_message("905550000001", "wamid.W1", "saten gecelik ne kadar?")})).status,
                  200);
        ASSERT_TRUE(eventually([&] { return sent_to("905550000001").size() == 1; }))
            << slurp(dir.path() / "serve.log");
        const auto sent = sent_to("905550000001").front();
        ASSERT_EQ(sent.at("type"), "template");
        EXPECT_EQ(sent.at("template").at("name"), "reopen_conversation");
        EXPECT_NE(json::serialize(sent.at("template").at("components")).find("299"), std::string::npos);
    }
    // The stored time says it: customers write two days ago (--clock) while Meta fails; the
    // server is killed; started again now, the replies are past their window. gece-butik's goes as
    // its template, nefes-studyo's (no reopen_template) is kept window_closed.
    graph.always(Answer::server_error);
    const auto two_days_ago = std::chrono::system_clock::now() - std::chrono::hours(48);
    {
        // A send cut off by the kill holds its message for the lease: the shortest, so that the
        // restart below does not wait a minute for it.
        auto process = serve({"--clock", iso_time(two_days_ago), "--outbox-lease-ms", "1000"});
        ASSERT_EQ(post(webhook({text_message("905550000002", "wamid.W2", "saten gecelik ne kadar?")})).status,
                  200);
        ASSERT_EQ(post(webhook({text_message("905550000003", "wamid.W3", "merhaba")}, {}, kOtherPhone),
                       "/v1/tenants/nefes-studyo/channels/whatsapp-cloud")
                      .status,
                  200);
        ASSERT_TRUE(graph.server().wait_for_requests(4));
        process->signal(SIGKILL);
        process->wait();
    }
    const std::string killed_log = slurp(dir.path() / "serve.log");
    graph.always(Answer::ok);
    auto process = serve({"--outbox-lease-ms", "1000"});
    ASSERT_TRUE(eventually([&] { return sent_to("905550000002").size() == 1; }))
        << slurp(dir.path() / "serve.log");
    EXPECT_EQ(sent_to("905550000002").front().at("type"), "template");
    ASSERT_TRUE(eventually([&] { return has_metric("tezgah_outbox_messages{state=\"window_closed\"} 1"); }))
        << metrics() << "\n--- the killed server's log:\n"
        << killed_log << "\n--- now:\n"
        << slurp(dir.path() / "serve.log") << "\n--- outbox:\n"
        << outbox_rows();
    EXPECT_TRUE(sent_to("905550000003").empty());
    EXPECT_TRUE(graph.violations().empty());
}

TEST_P(WhatsAppServe, BadInputIsRefusedClearlyAndNothingIsStored) {
    // nefes-studyo's channel reads a variable that is not set: disabled, the tenant still serves.
    edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json", [&](json::value& v) {
        v.at("channels").at("whatsapp-cloud").as_object()["app_secret"] = "${TEZGAH_NEFES_STUDYO__WA_UNSET}";
    });
    auto process = serve();
    const std::string body = webhook({text_message("905551112233", "wamid.BAD", "saten gecelik ne kadar?")});
    auto code_of = [](const HttpReply& r) {
        auto parsed = r.json();
        return parsed.is_object() && parsed.as_object().contains("error")
                   ? std::string(parsed.at("error").at("code").as_string())
                   : std::string("-");
    };
    auto unsigned_post = http_request(port, "POST", kRoute, body);
    EXPECT_EQ(unsigned_post.status, 403) << unsigned_post.body;
    EXPECT_NE(unsigned_post.body.find("X-Hub-Signature-256"), std::string::npos);
    auto wrong =
        http_request(port, "POST", kRoute, body, {{"X-Hub-Signature-256", sign(body, "other-secret")}});
    EXPECT_EQ(wrong.status, 403) << wrong.body;
    EXPECT_EQ(code_of(wrong), "forbidden");
    const std::string malformed = "{\"object\": \"whatsapp_business_account\", \"entry\": [";
    auto bad_json = post(malformed);
    EXPECT_EQ(bad_json.status, 400) << bad_json.body;
    EXPECT_EQ(code_of(bad_json), "invalid_json");
    auto bad_type = http_request(port, "POST", kRoute, body,
                                 {{"X-Hub-Signature-256", sign(body)}, {"Content-Type", "text/plain"}});
    EXPECT_EQ(bad_type.status, 415) << bad_type.body;
    const std::string not_messages = webhook({json::object{{"from", "905551112233"}, {"type", "text"}}});
    auto missing_id = post(not_messages);
    EXPECT_EQ(missing_id.status, 400) << missing_id.body;
    EXPECT_NE(missing_id.body.find("entry[0].changes[0].value.messages[0].id"), std::string::npos)
        << missing_id.body;
    auto unknown = post(body, "/v1/tenants/no-such-shop/channels/whatsapp-cloud");
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    auto disabled = post(webhook({text_message("905551112233", "wamid.D", "merhaba")}, {}, kOtherPhone),
                         "/v1/tenants/nefes-studyo/channels/whatsapp-cloud");
    EXPECT_EQ(disabled.status, 503) << disabled.body;
    EXPECT_EQ(code_of(disabled), "channel_disabled");
    EXPECT_NE(disabled.body.find("TEZGAH_NEFES_STUDYO__WA_UNSET"), std::string::npos) << disabled.body;
    EXPECT_EQ(http_request(port, "POST", "/v1/tenants/nefes-studyo/chat", chat_body("merhaba", "u1")).status,
              200);
    auto huge = raw_exchange(port, "POST " + kRoute +
                                       " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                                       "Content-Length: 5000000\r\nX-Hub-Signature-256: sha256=00\r\n\r\n");
    EXPECT_EQ(raw_status(huge), 413) << huge.substr(0, 200);

    // Nothing was stored or sent; the server keeps serving, and a good message is answered.
    EXPECT_EQ(graph.server().request_count(), 0u);
    const auto figures = metrics();
    for (const char* state : {"queued", "sent", "failed", "window_closed"})
        EXPECT_NE(figures.find("tezgah_outbox_messages{state=\"" + std::string(state) + "\"} 0"),
                  std::string::npos)
            << figures;
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
    ASSERT_EQ(post(body).status, 200);
    EXPECT_TRUE(eventually([&] { return sent_to("905551112233").size() == 1; }));
}

INSTANTIATE_TEST_SUITE_P(Backends, WhatsAppServe, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         ::tezgah::engine::testing::backend_name);

}  // namespace
}  // namespace tezgah::testing
