// The notifier against real receivers on loopback: an HTTP server that checks the webhook's
// signature, a Slack-shaped receiver, and Debian's aiosmtpd with STARTTLS required (certificates
// made by openssl here). The engine serves the fixture tenants over real HTTP on SQLite and
// PostgreSQL; the notices' state is read through GET /v1/tenants/{tenant}/notices with a key.
//
// The tenant's notify block is read by the manifest loader without a plugin registry
// (load_manifest(folder, nullptr)), from a copy of the tenant's folder whose tools list the
// handoff tool, and the tests publish the events on the engine's hub themselves: every target and
// failure is driven here; a real handoff turn reaching the shop's webhook under `tezgah serve` is
// tests/handoff/handoff_serve_test.cpp's.
#include "http/http_fixture.hpp"
#include "notify/notifier.hpp"
#include "store/api_keys.hpp"
#include "store/store_fixture.hpp"
#include "support/fake_http_server.hpp"
#include "support/hmac_hex.hpp"
#include "util/http_client.hpp"

#include <openssl/hmac.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

namespace tezgah::testing {
namespace {

using engine::Backend;
using engine::Event;
using engine::testing::PostgresServer;
using engine::testing::ScratchDatabase;
namespace notify = engine::notify;
using namespace std::chrono_literals;

constexpr const char* kTenant = "gece-butik";
constexpr const char* kSecret = "whsec_7f3a9c";

/// HMAC-SHA256 as a receiver computes it (support/hmac_hex.hpp): not the engine's code.
std::string receiver_hmac(const std::string& key, const std::string& text) {
    return hmac_sha256_hex(key, text);
}

/// Whether `header` ("t=UNIX,v1=HEX") signs `body` with `secret`, within 5 minutes of now.
bool signature_valid(const std::string& header, const std::string& body, const std::string& secret) {
    const auto comma = header.find(",v1=");
    if (!header.starts_with("t=") || comma == std::string::npos) return false;
    const std::string t = header.substr(2, comma - 2);
    const std::string v1 = header.substr(comma + 4);
    const long long sent = std::atoll(t.c_str());
    const long long now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    return std::llabs(now - sent) < 300 && v1 == receiver_hmac(secret, t + "." + body);
}

/// A CA and a certificate for 127.0.0.1, made with the openssl command line.
struct TestPki {
    fs::path dir;
    std::string error;
    explicit TestPki(const fs::path& where) : dir(where) {
        fs::create_directories(dir);
        std::ofstream(dir / "server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                             "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        const std::string d = "'" + dir.string() + "'";
        const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        const std::string log = " >> " + d + "/openssl.log 2>&1";
        for (const std::string& command : {"openssl req -x509 " + ec + " -keyout " + d + "/ca.key -out " + d +
                                               "/ca.crt -days 3 -subj '/CN=Tezgah Notify Test CA' -addext "
                                               "basicConstraints=critical,CA:TRUE"
                                               " -addext keyUsage=critical,keyCertSign,cRLSign" +
                                               log,
                                           "openssl req " + ec + " -keyout " + d + "/server.key -out " + d +
                                               "/server.csr -subj /CN=localhost" + log,
                                           "openssl x509 -req -in " + d + "/server.csr -CA " + d +
                                               "/ca.crt -CAkey " + d + "/ca.key -CAcreateserial -out " + d +
                                               "/server.crt -days 3 -extfile " + d + "/server.ext" + log}) {
            if (std::system(command.c_str()) != 0) {
                error = "openssl failed: " + command + "\n" + slurp(dir / "openssl.log");
                return;
            }
        }
    }
    std::string file(const char* name) const { return (dir / name).string(); }
};

/// tests/notify/smtp_sink.py (aiosmtpd) as a child process; stops when its stdin closes.
class SmtpSink {
public:
    SmtpSink(const TestPki& pki, const fs::path& out, int fail_first = 0) : out_(out) {
        int in[2], from[2];
        if (::pipe(in) != 0 || ::pipe(from) != 0) return;
        const std::string script = std::string(TEZGAH_SOURCE_DIR) + "/tests/notify/smtp_sink.py";
        std::vector<std::string> args = {"/usr/bin/python3",        script,       pki.file("server.crt"),
                                         pki.file("server.key"),    out.string(), "--fail-first",
                                         std::to_string(fail_first)};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(from[1], STDOUT_FILENO);
            ::close(in[1]);
            ::close(from[0]);
            ::execv(argv[0], argv.data());
            std::_Exit(127);
        }
        ::close(in[0]);
        ::close(from[1]);
        stdin_ = in[1];
        FILE* reader = ::fdopen(from[0], "r");
        char line[128] = {};
        if (reader && std::fgets(line, sizeof line, reader) && std::string(line).starts_with("PORT "))
            port_ = std::atoi(line + 5);
        if (reader) std::fclose(reader);
    }
    ~SmtpSink() {
        if (stdin_ >= 0) ::close(stdin_);
        if (pid_ > 0) {
            for (int i = 0; i < 50; ++i) {
                if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
                std::this_thread::sleep_for(100ms);
            }
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    int port() const { return port_; }
    /// The messages it accepted so far (one JSON object each).
    std::vector<json::object> messages() const {
        std::vector<json::object> out;
        std::ifstream in(out_);
        std::string line;
        while (std::getline(in, line))
            if (!line.empty()) out.push_back(json::parse(line).as_object());
        return out;
    }
    bool wait_for_messages(std::size_t n, std::chrono::milliseconds timeout = kEventTimeout) const {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            if (messages().size() >= n) return true;
            std::this_thread::sleep_for(20ms);
        }
        return messages().size() >= n;
    }

private:
    fs::path out_;
    pid_t pid_ = -1;
    int stdin_ = -1;
    int port_ = 0;
};

/// Polls `check` until it is true or `timeout` passed.
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = kEventTimeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (check()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return check();
}

Event handoff_event(const std::string& text = "Siparişim hasarlı geldi, bir yetkiliyle görüşmek istiyorum") {
    return Event{"handoff", kTenant,
                 json::object{{"tenant", kTenant},
                              {"conversation_id", "conv-42"},
                              {"user_id", "+905551112233"},
                              {"channel", "whatsapp"},
                              {"reason", "complaint"},
                              {"priority", "high"},
                              {"ticket_id", "T-1001"},
                              {"text", text}}};
}

class Notify : public ServerFixture, public ::testing::WithParamInterface<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        ServerFixture::SetUp();
        scratch = std::make_unique<ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        db_url = scratch->url();
        start();
        auto made = engine::create_api_key(engine->database(), "ops", kTenant, {"conversations:read"},
                                           std::chrono::system_clock::now());
        ASSERT_TRUE(made.ok());
        key = made->secret;
        options.workers = 2;
        options.first_retry = 50ms;
        options.max_retry = 200ms;
        options.poll = 50ms;
        options.send.timeout = 3s;
    }
    void TearDown() override {
        notifier.reset();
        ServerFixture::TearDown();
        scratch.reset();
    }

    /// Writes the tenant's manifest with the handoff tool and `notify` into a folder of its own,
    /// and starts a notifier that reads its targets from there.
    void start_notifier(json::object notify_block) {
        const fs::path folder = dir.path() / "notify-manifests" / kTenant;
        fs::create_directories(folder);
        fs::copy(dir.path() / "tenants" / kTenant, folder,
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        edit_json(folder / "tenant.json", [&](json::value& v) {
            v.as_object()["tools"].as_array().push_back(
                json::object{{"name", "handoff"}, {"release_after_minutes", 60}, {"notify", notify_block}});
        });
        lookup = [folder](const std::string& tenant) -> sdk::Result<notify::NotifyTargets> {
            if (tenant != kTenant) return notify::NotifyTargets{};
            auto loaded = engine::load_manifest(folder, nullptr);
            if (!loaded.manifest)
                return sdk::make_error("invalid_tenant", loaded.problems.empty()
                                                             ? "no manifest"
                                                             : loaded.problems.front().str());
            return notify::notify_targets(*loaded.manifest);
        };
        notifier =
            std::make_unique<notify::Notifier>(engine->database(), engine->events(), http, lookup, options);
        notifier->start();
    }

    HttpReply notices(const std::string& query = "", const std::string& with_key = "") {
        return http_request(port, "GET", std::string("/v1/tenants/") + kTenant + "/notices" + query, "",
                            {{"Authorization", "Bearer " + (with_key.empty() ? key : with_key)}});
    }
    /// The notices the API lists, newest first.
    json::array listed(const std::string& query = "") {
        auto reply = notices(query);
        EXPECT_EQ(reply.status, 200) << reply.body;
        auto v = reply.json();
        return v.is_object() && v.as_object().contains("notices") ? v.at("notices").as_array()
                                                                  : json::array();
    }
    /// Waits until every listed notice is in `state` (and there are `count`).
    bool all_in_state(std::size_t count, const std::string& state) {
        return eventually([&] {
            auto list = listed();
            if (list.size() != count) return false;
            for (const auto& n : list)
                if (n.at("state").as_string() != state) return false;
            return true;
        });
    }

    std::unique_ptr<ScratchDatabase> scratch;
    std::string key;
    engine::PocoHttpClient http;
    notify::NotifierOptions options;
    notify::Notifier::TargetLookup lookup;
    std::unique_ptr<notify::Notifier> notifier;
};

TEST_P(Notify, EveryTargetGetsTheHandoffSignedInSlackAndByMailOverStartTls) {
    TestPki pki(dir.path() / "pki");
    ASSERT_TRUE(pki.error.empty()) << pki.error;
    SmtpSink smtp(pki, dir.path() / "mail.jsonl");
    ASSERT_GT(smtp.port(), 0) << "aiosmtpd did not start (apt-get install python3-aiosmtpd)";
    options.send.ca_file = pki.file("ca.crt");

    std::atomic<int> bad_signatures{0};
    FakeHttpServer webhook([&](const RecordedRequest& r, FakeReply& reply) {
        if (!signature_valid(r.header("x-tezgah-signature"), r.body, kSecret)) {
            ++bad_signatures;
            reply.status(401);
            return reply.body("bad signature");
        }
        reply.status(204);
        reply.body("");
    });
    FakeHttpServer slack([&](const RecordedRequest&, FakeReply& reply) {
        reply.status(200);
        reply.content_type("text/plain");
        reply.body("ok");
    });
    start_notifier(
        json::object{{"webhook", {{"url", webhook.url() + "/hooks/tezgah"}, {"secret", kSecret}}},
                     {"slack", {{"webhook_url", slack.url() + "/services/T000/B000/XXXX"}}},
                     {"email",
                      {{"smtp_host", "127.0.0.1"},
                       {"smtp_port", smtp.port()},
                       {"starttls", true},
                       {"username", "notify"},
                       {"password", "s3cret"},
                       {"from", "bot@gece-butik.example"},
                       {"to", json::array{"sahip@gece-butik.example", "destek@gece-butik.example"}}}}});

    engine->events().publish(handoff_event());

    ASSERT_TRUE(webhook.wait_for_requests(1));
    ASSERT_TRUE(slack.wait_for_requests(1));
    ASSERT_TRUE(smtp.wait_for_messages(1));
    ASSERT_TRUE(all_in_state(3, "sent")) << notices().body;

    // The webhook: the contract's body, signed, as JSON.
    const auto hook = webhook.requests().front();
    EXPECT_EQ(bad_signatures.load(), 0);
    EXPECT_EQ(hook.method, "POST");
    EXPECT_EQ(hook.path, "/hooks/tezgah");
    EXPECT_EQ(hook.header("content-type"), "application/json");
    const auto body = json::parse(hook.body).as_object();
    EXPECT_EQ(body.at("event"), "handoff");
    EXPECT_EQ(body.at("tenant"), kTenant);
    EXPECT_EQ(body.at("conversation_id"), "conv-42");
    EXPECT_EQ(body.at("user_id"), "+905551112233");
    EXPECT_EQ(body.at("channel"), "whatsapp");
    EXPECT_EQ(body.at("reason"), "complaint");
    EXPECT_EQ(body.at("priority"), "high");
    EXPECT_EQ(body.at("ticket_id"), "T-1001");
    EXPECT_EQ(body.at("text"), "Siparişim hasarlı geldi, bir yetkiliyle görüşmek istiyorum");
    // A receiver with another secret would refuse it.
    EXPECT_FALSE(signature_valid(hook.header("x-tezgah-signature"), hook.body, "another-secret"));

    // Slack: {"text"} with the tenant, reason, priority, ticket and the customer's words.
    const auto posted = slack.requests().front();
    EXPECT_EQ(posted.path, "/services/T000/B000/XXXX");
    const auto slack_body = json::parse(posted.body).as_object();
    ASSERT_TRUE(slack_body.contains("text"));
    const std::string text(slack_body.at("text").as_string());
    for (const char* part : {kTenant, "complaint", "*high*", "T-1001", "bir yetkiliyle görüşmek istiyorum"})
        EXPECT_NE(text.find(part), std::string::npos) << part << " not in " << text;

    // The mail: over TLS, authenticated, with the headers and the text in UTF-8.
    const auto mail = smtp.messages().front();
    EXPECT_TRUE(mail.at("tls").as_bool());
    EXPECT_TRUE(mail.at("authenticated").as_bool());
    EXPECT_EQ(mail.at("mail_from"), "bot@gece-butik.example");
    EXPECT_EQ(mail.at("rcpt_tos"), (json::array{"sahip@gece-butik.example", "destek@gece-butik.example"}));
    EXPECT_EQ(mail.at("from"), "bot@gece-butik.example");
    EXPECT_EQ(mail.at("content_type"), "text/plain");
    EXPECT_EQ(mail.at("charset"), "utf-8");
    const std::string subject(mail.at("subject").as_string());
    EXPECT_NE(subject.find("[gece-butik]"), std::string::npos) << subject;
    EXPECT_NE(subject.find("complaint (high)"), std::string::npos) << subject;
    const std::string mail_text(mail.at("body").as_string());
    EXPECT_NE(mail_text.find("Siparişim hasarlı geldi, bir yetkiliyle görüşmek istiyorum"), std::string::npos)
        << mail_text;
    EXPECT_NE(mail_text.find("Ticket: T-1001"), std::string::npos) << mail_text;

    // The API: one notice per target, sent on the first attempt, with no secret anywhere.
    const auto list = listed();
    std::set<std::string> targets;
    for (const auto& n : list) {
        targets.insert(std::string(n.at("target").as_string()));
        EXPECT_EQ(n.at("event"), "handoff");
        EXPECT_EQ(n.at("attempts").as_int64(), 1);
        EXPECT_TRUE(n.at("last_error").is_null());
        EXPECT_TRUE(n.at("sent_at").is_string());
    }
    EXPECT_EQ(targets, (std::set<std::string>{"email", "slack", "webhook"}));
    const auto raw = notices().body;
    EXPECT_EQ(raw.find(kSecret), std::string::npos);
    EXPECT_EQ(raw.find("s3cret"), std::string::npos);
    EXPECT_EQ(mail.at("notice_id"), [&] {
        for (const auto& n : list)
            if (n.at("target") == "email") return n.at("id");
        return json::value();
    }());
}

/// An appointment event as the booking service publishes it (the contract's Event data).
Event appointment_event(const std::string& action, const std::string& start) {
    json::object data{
        {"action", action},
        {"by", "customer"},
        {"conversation_id", "conv-7"},
        {"appointment", json::object{{"id", "apt_0123456789abcdef"},
                                     {"service", "reformer-pilates"},
                                     {"service_name", "Reformer Pilates (Birebir)"},
                                     {"resource", "ayse"},
                                     {"resource_name", "Ayşe Demir"},
                                     {"start", start},
                                     {"end", "2026-12-15T15:50:00+03:00"},
                                     {"customer_name", "Elif Şahin"},
                                     {"customer_phone", "+905551112233"},
                                     {"notes", ""},
                                     {"status", action == "cancelled" ? "cancelled" : "confirmed"},
                                     {"channel", "whatsapp-cloud"},
                                     {"created_at", "2026-12-01T09:00:00Z"}}}};
    if (action == "rescheduled")
        data["previous"] =
            json::object{{"start", "2026-12-14T10:00:00+03:00"}, {"end", "2026-12-14T10:50:00+03:00"}};
    return Event{"appointment", kTenant, std::move(data)};
}

TEST_P(Notify, CancelledAndMovedAppointmentsAreToldWithTheAppointmentAndOtherChangesAreNot) {
    FakeHttpServer webhook([&](const RecordedRequest& r, FakeReply& reply) {
        reply.status(signature_valid(r.header("x-tezgah-signature"), r.body, kSecret) ? 204 : 401);
        reply.body("");
    });
    FakeHttpServer slack([&](const RecordedRequest&, FakeReply& reply) {
        reply.status(200);
        reply.content_type("text/plain");
        reply.body("ok");
    });
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}},
                                {"slack", {{"webhook_url", slack.url() + "/services/T0/B0/X"}}}});
    // A status set by the business itself (completed, notes) is not news to it.
    engine->events().publish(appointment_event("updated", "2026-12-15T15:00:00+03:00"));
    engine->events().publish(appointment_event("cancelled", "2026-12-15T15:00:00+03:00"));
    engine->events().publish(appointment_event("rescheduled", "2026-12-15T15:00:00+03:00"));
    ASSERT_TRUE(webhook.wait_for_requests(2));
    ASSERT_TRUE(slack.wait_for_requests(2));
    ASSERT_TRUE(all_in_state(4, "sent")) << notices().body;
    std::this_thread::sleep_for(300ms);  // the "updated" event would have come by now
    ASSERT_EQ(webhook.request_count(), 2u);

    std::map<std::string, json::object> by_action;
    for (const auto& r : webhook.requests()) {
        auto body = json::parse(r.body).as_object();
        EXPECT_EQ(body.at("event"), "appointment");
        EXPECT_EQ(body.at("tenant"), kTenant);
        EXPECT_EQ(body.at("conversation_id"), "conv-7");
        by_action[std::string(body.at("action").as_string())] = std::move(body);
    }
    ASSERT_EQ(by_action.size(), 2u);
    const auto& cancelled = by_action.at("cancelled");
    EXPECT_EQ(cancelled.at("by"), "customer");
    EXPECT_EQ(cancelled.at("appointment").at("id"), "apt_0123456789abcdef");
    EXPECT_EQ(cancelled.at("appointment").at("status"), "cancelled");
    EXPECT_FALSE(cancelled.contains("previous"));
    const auto& moved = by_action.at("rescheduled");
    EXPECT_EQ(moved.at("appointment").at("start"), "2026-12-15T15:00:00+03:00");
    EXPECT_EQ(moved.at("previous").at("start"), "2026-12-14T10:00:00+03:00");

    // Slack says what happened, to which appointment, and from where it moved.
    std::vector<std::string> texts;
    for (const auto& r : slack.requests()) texts.emplace_back(json::parse(r.body).at("text").as_string());
    std::sort(texts.begin(), texts.end());
    ASSERT_EQ(texts.size(), 2u);
    const std::string& said_cancelled = texts[0].find("cancelled") != std::string::npos ? texts[0] : texts[1];
    const std::string& said_moved = texts[0].find("cancelled") != std::string::npos ? texts[1] : texts[0];
    for (const char* part : {"*Appointment cancelled*", "Reformer Pilates (Birebir)",
                             "2026-12-15T15:00:00+03:00", "Elif Şahin", "+905551112233"})
        EXPECT_NE(said_cancelled.find(part), std::string::npos) << part << " not in " << said_cancelled;
    for (const char* part :
         {"*Appointment moved*", "2026-12-15T15:00:00+03:00", "*Was:* 2026-12-14T10:00:00+03:00"})
        EXPECT_NE(said_moved.find(part), std::string::npos) << part << " not in " << said_moved;
}

TEST_P(Notify, AReceiverThatFailsThenRecoversGetsTheNoticeOnce) {
    std::atomic<int> seen{0};
    FakeHttpServer webhook([&](const RecordedRequest&, FakeReply& reply) {
        const int n = ++seen;
        reply.status(n == 1 ? 500 : n == 2 ? 503 : 200);
        reply.body(n <= 2 ? "down for maintenance" : "ok");
    });
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}}});
    engine->events().publish(handoff_event());

    ASSERT_TRUE(all_in_state(1, "sent")) << notices().body;
    // Well past a few more backoffs: nothing more arrives.
    std::this_thread::sleep_for(500ms);
    const auto requests = webhook.requests();
    ASSERT_EQ(requests.size(), 3u);
    int delivered = 0;
    for (const auto& r : requests)
        EXPECT_EQ(r.header("x-tezgah-notice-id"), requests.front().header("x-tezgah-notice-id"));
    delivered = seen.load() - 2;
    EXPECT_EQ(delivered, 1);
    const auto notice = listed().front();
    EXPECT_EQ(notice.at("attempts").as_int64(), 3);
    EXPECT_TRUE(notice.at("last_error").is_null());
}

TEST_P(Notify, A400FailsTheNoticeForGoodAndTheApiSaysWhy) {
    FakeHttpServer webhook([&](const RecordedRequest&, FakeReply& reply) {
        reply.status(400);
        reply.body("unknown hook");
    });
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}}});
    engine->events().publish(handoff_event());

    ASSERT_TRUE(all_in_state(1, "failed")) << notices().body;
    std::this_thread::sleep_for(500ms);  // ten backoffs' worth: not tried again
    EXPECT_EQ(webhook.request_count(), 1u);
    const auto notice = listed("?state=failed").front();
    EXPECT_EQ(notice.at("attempts").as_int64(), 1);
    const std::string error(notice.at("last_error").as_string());
    EXPECT_NE(error.find("HTTP 400"), std::string::npos) << error;
    EXPECT_NE(error.find("unknown hook"), std::string::npos) << error;
    EXPECT_TRUE(listed("?state=sent").empty());
    EXPECT_TRUE(listed("?state=queued").empty());
}

TEST_P(Notify, ATargetThatNeverRecoversFailsAfterMaxAttempts) {
    FakeHttpServer webhook([&](const RecordedRequest&, FakeReply& reply) {
        reply.status(502);
        reply.body("bad gateway");
    });
    options.max_attempts = 3;
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}}});
    engine->events().publish(handoff_event());
    ASSERT_TRUE(all_in_state(1, "failed")) << notices().body;
    EXPECT_EQ(webhook.request_count(), 3u);
    const auto notice = listed().front();
    EXPECT_EQ(notice.at("attempts").as_int64(), 3);
    EXPECT_NE(std::string(notice.at("last_error").as_string()).find("gave up after 3 attempts"),
              std::string::npos);
}

TEST_P(Notify, AHangingTargetDelaysNeitherThePublisherNorTheChatReply) {
    // Every worker stuck on a receiver that never answers (until the notifier's timeout).
    FakeHttpServer webhook([&](const RecordedRequest&, FakeReply& reply) {
        if (reply.stall(60s)) reply.body("too late");
    });
    options.send.timeout = 5s;
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}}});

    // A chat turn before anything hangs, for comparison.
    const auto before = std::chrono::steady_clock::now();
    auto first = chat(kTenant, chat_body("kadife sabahlık fiyatı ne", "hang-1"));
    const auto baseline = std::chrono::steady_clock::now() - before;
    ASSERT_EQ(first.status, 200) << first.body;

    std::chrono::steady_clock::duration slowest_publish{};
    for (int i = 0; i < 20; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        engine->events().publish(handoff_event("yetkili lütfen " + std::to_string(i)));
        slowest_publish = std::max(slowest_publish, std::chrono::steady_clock::now() - t0);
    }
    ASSERT_TRUE(webhook.wait_for_requests(1));  // a worker is now held by the receiver

    const auto t1 = std::chrono::steady_clock::now();
    auto second = chat(kTenant, chat_body("kadife sabahlık fiyatı ne", "hang-2"));
    const auto with_hang = std::chrono::steady_clock::now() - t1;
    ASSERT_EQ(second.status, 200) << second.body;

    EXPECT_LT(slowest_publish, 100ms) << "a publish waited for the notifier";
    EXPECT_LT(with_hang, baseline + 1s)
        << "the turn took " << std::chrono::duration_cast<std::chrono::milliseconds>(with_hang).count()
        << " ms with the target hanging";
    // Every event was stored at once, though none could be sent.
    EXPECT_TRUE(eventually([&] { return listed("?limit=100").size() == 20; }));
    notifier->stop();  // ends the held attempts (their sockets close with the client's timeout)
}

TEST_P(Notify, PrivateTargetsAreRefusedWhenTheOperatorBlocksThem) {
    FakeHttpServer webhook([&](const RecordedRequest&, FakeReply& reply) { reply.body("ok"); });
    options.send.block_private_targets = true;
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}}});
    engine->events().publish(handoff_event());
    ASSERT_TRUE(all_in_state(1, "failed")) << notices().body;
    EXPECT_EQ(webhook.request_count(), 0u);
    const std::string error(listed().front().at("last_error").as_string());
    EXPECT_NE(error.find("127.0.0.1"), std::string::npos) << error;
    EXPECT_NE(error.find("--block-private-targets"), std::string::npos) << error;
}

TEST_P(Notify, ANoticeClaimedByAWorkerThatDiedIsSentAfterItsLease) {
    FakeHttpServer webhook([&](const RecordedRequest&, FakeReply& reply) { reply.body("ok"); });
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}}});
    notifier->stop();  // a process that stores, then dies before it sends
    auto stored = notifier->record(handoff_event());
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    ASSERT_EQ(stored->size(), 1u);
    const auto now = std::chrono::system_clock::now();
    auto claimed = notify::claim_notices(engine->database(), now, now + 700ms, 10);  // its worker's claim
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 1u);

    notifier =
        std::make_unique<notify::Notifier>(engine->database(), engine->events(), http, lookup, options);
    notifier->start();  // the next start
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(webhook.request_count(), 0u) << "sent while another worker held it";
    ASSERT_TRUE(all_in_state(1, "sent")) << notices().body;
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(webhook.request_count(), 1u);
    EXPECT_EQ(listed().front().at("attempts").as_int64(), 2);
}

TEST_P(Notify, MailIsRetriedAfterATransientRefusal) {
    TestPki pki(dir.path() / "pki");
    ASSERT_TRUE(pki.error.empty()) << pki.error;
    SmtpSink smtp(pki, dir.path() / "mail.jsonl", 1);
    ASSERT_GT(smtp.port(), 0);
    options.send.ca_file = pki.file("ca.crt");
    start_notifier(json::object{{"email",
                                 {{"smtp_host", "127.0.0.1"},
                                  {"smtp_port", smtp.port()},
                                  {"from", "bot@gece-butik.example"},
                                  {"to", "sahip@gece-butik.example"}}}});
    engine->events().publish(handoff_event());
    ASSERT_TRUE(all_in_state(1, "sent")) << notices().body;
    EXPECT_EQ(smtp.messages().size(), 1u);
    EXPECT_FALSE(smtp.messages().front().at("authenticated").as_bool());
    EXPECT_EQ(listed().front().at("attempts").as_int64(), 2);
}

TEST_P(Notify, MailWithWrongCredentialsFailsForGood) {
    TestPki pki(dir.path() / "pki");
    ASSERT_TRUE(pki.error.empty()) << pki.error;
    SmtpSink smtp(pki, dir.path() / "mail.jsonl");
    ASSERT_GT(smtp.port(), 0);
    options.send.ca_file = pki.file("ca.crt");
    start_notifier(json::object{{"email",
                                 {{"smtp_host", "127.0.0.1"},
                                  {"smtp_port", smtp.port()},
                                  {"username", "notify"},
                                  {"password", "not-the-password"},
                                  {"from", "bot@gece-butik.example"},
                                  {"to", "sahip@gece-butik.example"}}}});
    engine->events().publish(handoff_event());
    ASSERT_TRUE(all_in_state(1, "failed")) << notices().body;
    EXPECT_TRUE(smtp.messages().empty());
    const auto notice = listed().front();
    EXPECT_EQ(notice.at("attempts").as_int64(), 1);  // a 5xx is the server's "never"
    const std::string error(notice.at("last_error").as_string());
    EXPECT_NE(error.find("535"), std::string::npos) << error;
    EXPECT_EQ(error.find("not-the-password"), std::string::npos) << error;
}

TEST_P(Notify, MailToAServerWithAnUntrustedCertificateIsNotSent) {
    TestPki pki(dir.path() / "pki");
    ASSERT_TRUE(pki.error.empty()) << pki.error;
    SmtpSink smtp(pki, dir.path() / "mail.jsonl");
    ASSERT_GT(smtp.port(), 0);
    options.max_attempts = 1;  // the CA file is not given: verification fails
    start_notifier(json::object{{"email",
                                 {{"smtp_host", "127.0.0.1"},
                                  {"smtp_port", smtp.port()},
                                  {"from", "bot@gece-butik.example"},
                                  {"to", "sahip@gece-butik.example"}}}});
    engine->events().publish(handoff_event());
    ASSERT_TRUE(all_in_state(1, "failed")) << notices().body;
    EXPECT_TRUE(smtp.messages().empty());
    const std::string error(listed().front().at("last_error").as_string());
    EXPECT_NE(error.find("TLS"), std::string::npos) << error;
}

TEST_P(Notify, TheNoticesApiNeedsAKeyForTheTenantWithTheScope) {
    FakeHttpServer webhook([&](const RecordedRequest&, FakeReply& reply) { reply.body("ok"); });
    start_notifier(json::object{{"webhook", {{"url", webhook.url()}, {"secret", kSecret}}}});
    engine->events().publish(handoff_event());
    ASSERT_TRUE(all_in_state(1, "sent"));

    const auto now = std::chrono::system_clock::now();
    auto other =
        engine::create_api_key(engine->database(), "other", "nefes-studyo", {"conversations:read"}, now);
    auto unscoped = engine::create_api_key(engine->database(), "chat", kTenant, {"chat:write"}, now);
    auto everyone = engine::create_api_key(engine->database(), "all", "", {"conversations:read"}, now);
    ASSERT_TRUE(other.ok() && unscoped.ok() && everyone.ok());

    const std::string path = std::string("/v1/tenants/") + kTenant + "/notices";
    auto none = http_request(port, "GET", path);
    EXPECT_EQ(none.status, 401);
    auto wrong = notices("", "tzk_0000000000000000_" + std::string(64, 'a'));
    EXPECT_EQ(wrong.status, 401);
    auto foreign = notices("", other->secret);
    EXPECT_EQ(foreign.status, 403);
    EXPECT_EQ(foreign.body.find("webhook"), std::string::npos) << foreign.body;
    auto no_scope = notices("", unscoped->secret);
    EXPECT_EQ(no_scope.status, 403);
    EXPECT_EQ(notices("", everyone->secret).status, 200);

    // The other tenant's list is its own (empty), even for a key of every tenant.
    auto theirs = http_request(port, "GET", "/v1/tenants/nefes-studyo/notices", "",
                               {{"Authorization", "Bearer " + everyone->secret}});
    EXPECT_EQ(theirs.status, 200);
    EXPECT_EQ(theirs.json().at("notices").as_array().size(), 0u);
    auto unknown = http_request(port, "GET", "/v1/tenants/no-such-shop/notices", "",
                                {{"Authorization", "Bearer " + everyone->secret}});
    EXPECT_EQ(unknown.status, 404);

    auto bad_state = notices("?state=lost");
    EXPECT_EQ(bad_state.status, 400);
    EXPECT_EQ(bad_state.error_code(), "invalid_field");
    EXPECT_NE(bad_state.body.find("state"), std::string::npos);
    auto bad_limit = notices("?limit=0");
    EXPECT_EQ(bad_limit.status, 400);
    EXPECT_NE(bad_limit.body.find("limit"), std::string::npos);
    auto post = http_request(port, "POST", path, "{}", {{"Authorization", "Bearer " + key}});
    EXPECT_EQ(post.status, 405);
}

INSTANTIATE_TEST_SUITE_P(Backends, Notify, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         engine::testing::backend_name);

// ---- the notify block and the signature, without a server ------------------------------------

TEST(NotifyConfig, ProblemsNameTheField) {
    auto check = [](const char* text, const char* field) {
        auto parsed = notify::parse_notify_targets(json::parse(text).as_object());
        ASSERT_FALSE(parsed.ok()) << text;
        EXPECT_EQ(parsed.error().code, "invalid_value");
        EXPECT_NE(parsed.error().message.find(field), std::string::npos) << parsed.error().message;
    };
    check(R"({"notify": {"webhook": {"url": "ftp://x", "secret": "s"}}})", "notify.webhook.url");
    check(R"({"notify": {"webhook": {"url": "https://x.example/h"}}})", "notify.webhook.secret");
    check(R"({"notify": {"slack": {}}})", "notify.slack.webhook_url");
    check(R"({"notify": {"email": {"smtp_host": "h", "smtp_port": 70000, "from": "a@b", "to": "c@d"}}})",
          "notify.email.smtp_port");
    check(R"({"notify": {"email": {"smtp_host": "h", "from": "a@b", "to": []}}})", "notify.email.to");
    check(R"({"notify": {"email": {"smtp_host": "h", "from": "nobody", "to": "c@d"}}})", "notify.email.from");
    check(R"({"notify": {"email": {"smtp_host": "h", "from": "a@b", "to": "c@d", "username": "u"}}})",
          "notify.email.password");
    check(R"({"notify": {"pager": {}}})", "notify.pager");
    check(R"({"notify": "yes"})", "notify");
}

TEST(NotifyConfig, TargetsAndDefaults) {
    auto parsed = notify::parse_notify_targets(json::parse(R"({"release_after_minutes": 30, "notify": {
        "slack": {"webhook_url": "https://hooks.slack.com/services/T/B/X"},
        "email": {"smtp_host": "smtp.example.com", "smtp_port": "2525", "from": "a@b.example", "to": "c@d.example"}}})")
                                                   .as_object());
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_FALSE(parsed->webhook);
    EXPECT_EQ(parsed->kinds(), (std::vector<std::string>{"slack", "email"}));
    EXPECT_EQ(parsed->email->smtp_port, 2525);  // a port from "${...}" arrives as text
    EXPECT_TRUE(parsed->email->starttls);
    auto none = notify::parse_notify_targets(json::object{{"release_after_minutes", 60}});
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
}

TEST(NotifySignature, MatchesAnIndependentHmac) {
    // `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test`
    EXPECT_EQ(notify::webhook_signature("whsec_test", 1700000000, R"({"a":1})"),
              "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
    EXPECT_EQ(notify::signature_header("whsec_test", 1700000000, R"({"a":1})"),
              "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
}

TEST(NotifyTargets, PrivateAddressesAreRecognised) {
    EXPECT_NE(notify::private_target_refusal("127.0.0.1"), "");
    EXPECT_NE(notify::private_target_refusal("localhost"), "");
    EXPECT_NE(notify::private_target_refusal("10.1.2.3"), "");
    EXPECT_NE(notify::private_target_refusal("192.168.0.10"), "");
    EXPECT_NE(notify::private_target_refusal("172.20.0.1"), "");
    EXPECT_NE(notify::private_target_refusal("169.254.169.254"), "");
    EXPECT_NE(notify::private_target_refusal("::1"), "");
    EXPECT_NE(notify::private_target_refusal("fd00::1"), "");
    EXPECT_EQ(notify::private_target_refusal("93.184.216.34"), "");
    EXPECT_EQ(notify::private_target_refusal("172.32.0.1"), "");
    EXPECT_EQ(notify::private_target_refusal("2606:4700::1111"), "");
}

TEST(NotifyEvents, OnlyHandoffsNewTicketsAndAppointmentsNotify) {
    EXPECT_TRUE(notify::notifies(Event{"handoff", kTenant, {}}));
    EXPECT_TRUE(notify::notifies(handoff_event()));
    // An operator's takeover (the engine publishes it as a handoff without a ticket).
    EXPECT_FALSE(
        notify::notifies(Event{"handoff", kTenant, {{"reason", "operator took over"}, {"ticket_id", ""}}}));
    // The ticket a customer's handoff opened comes with the handoff: not told twice.
    EXPECT_FALSE(notify::notifies(Event{"ticket", kTenant, {{"ticket_id", "T-1"}, {"status", "open"}}}));
    EXPECT_TRUE(notify::notifies(Event{"ticket", kTenant, {{"action", "created"}}}));
    EXPECT_FALSE(notify::notifies(Event{"ticket", kTenant, {{"action", "updated"}}}));
    EXPECT_TRUE(notify::notifies(Event{"appointment", kTenant, {}}));
    EXPECT_TRUE(notify::notifies(Event{"appointment", kTenant, {{"action", "created"}}}));
    EXPECT_TRUE(notify::notifies(Event{"appointment", kTenant, {{"action", "cancelled"}}}));
    EXPECT_TRUE(notify::notifies(Event{"appointment", kTenant, {{"action", "rescheduled"}}}));
    EXPECT_FALSE(notify::notifies(Event{"appointment", kTenant, {{"action", "updated"}}}));
    EXPECT_FALSE(notify::notifies(Event{"message", kTenant, {}}));
    EXPECT_FALSE(notify::notifies(Event{"release", kTenant, {}}));
}

}  // namespace
}  // namespace tezgah::testing
