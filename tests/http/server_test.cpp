// The HTTP server end to end over loopback: routes, the contract's errors, streaming, the webhook,
// limits, overload, health and metrics. Real plugins from the build, SQLite, the fixtures.
#include "http_fixture.hpp"

#include "ops/metrics.hpp"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <set>
#include <thread>

using namespace tezgah::testing;

namespace {

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

/// Offering names of a fixture tenant, lower case, for cross-tenant leak checks.
std::vector<std::string> offering_names(const std::string& tenant) {
    auto value = boost::json::parse(slurp(fixtures_dir() / tenant / "data" / "offerings.json"));
    const auto& list = value.is_array() ? value.as_array() : value.at("offerings").as_array();
    std::vector<std::string> out;
    for (const auto& o : list) out.push_back(std::string(o.at("name").as_string()));
    return out;
}

std::string first_offering_name(const std::string& tenant) { return offering_names(tenant).front(); }

using HttpServerTest = ServerFixture;

TEST_F(HttpServerTest, ChatAnswersWithTheContractsReplyObjectAndARequestId) {
    start();
    const auto product = first_offering_name("gece-butik");
    auto reply = chat("gece-butik", chat_body(product + " ne kadar?", "u1"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_FALSE(reply.header("x-request-id").empty());
    auto body = reply.json().as_object();
    for (const char* field : {"reply", "session_id", "conversation_id", "method", "confidence", "language",
                              "tool_calls", "handoff", "usage", "execution_time_ms"}) {
        EXPECT_TRUE(body.contains(field)) << field << " missing from " << reply.body;
    }
    EXPECT_FALSE(body.at("reply").as_string().empty());
    EXPECT_TRUE(body.at("usage").as_object().contains("input_tokens"));

    // The same user continues the same session.
    auto again = chat("gece-butik", chat_body("teşekkürler", "u1"));
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(again.json().at("session_id"), body.at("session_id"));
}

TEST_F(HttpServerTest, HonoursASaneIncomingRequestIdAndReplacesAnInsaneOne) {
    start();
    auto kept = http_request(port, "GET", "/health", "", {{"X-Request-Id", "abc-123.xyz"}});
    EXPECT_EQ(kept.header("x-request-id"), "abc-123.xyz");
    auto replaced = http_request(port, "GET", "/health", "", {{"X-Request-Id", "bad id with spaces"}});
    EXPECT_FALSE(replaced.header("x-request-id").empty());
    EXPECT_NE(replaced.header("x-request-id"), "bad id with spaces");
    auto error = http_request(port, "GET", "/nowhere", "", {{"X-Request-Id", "req-42"}});
    EXPECT_EQ(error.json().at("error").at("request_id"), "req-42");
}

struct ErrorCase {
    std::string name;
    std::string path;
    std::string method;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string code;
};

TEST_F(HttpServerTest, EveryBadRequestGetsTheContractsErrorWithTheFittingStatus) {
    start();
    std::string invalid_utf8 = R"({"text": "fiyat )" + std::string("\xC3\x28\xFF") + R"(", "user_id": "u1"})";
    const std::vector<ErrorCase> cases = {
        {"malformed JSON", "/v1/tenants/gece-butik/chat", "POST", "{text: nope}", {}, 400, "invalid_json"},
        {"truncated JSON",
         "/v1/tenants/gece-butik/chat",
         "POST",
         R"({"text": "merhaba", "user_id": "u)",
         {},
         400,
         "invalid_json"},
        {"not an object", "/v1/tenants/gece-butik/chat", "POST", R"(["merhaba"])", {}, 400, "invalid_json"},
        {"missing text",
         "/v1/tenants/gece-butik/chat",
         "POST",
         R"({"user_id": "u1"})",
         {},
         400,
         "missing_field"},
        {"missing user",
         "/v1/tenants/gece-butik/chat",
         "POST",
         R"({"text": "merhaba"})",
         {},
         400,
         "missing_field"},
        {"text a number",
         "/v1/tenants/gece-butik/chat",
         "POST",
         R"({"text": 5, "user_id": "u1"})",
         {},
         400,
         "invalid_field"},
        {"unknown tenant",
         "/v1/tenants/yok-boyle-biri/chat",
         "POST",
         chat_body("merhaba", "u1"),
         {},
         404,
         "unknown_tenant"},
        {"unknown route", "/v2/everything", "GET", "", {}, 404, "not_found"},
        {"wrong method", "/v1/tenants/gece-butik/chat", "GET", "", {}, 405, "method_not_allowed"},
        {"wrong content type",
         "/v1/tenants/gece-butik/chat",
         "POST",
         chat_body("merhaba", "u1"),
         {{"Content-Type", "text/plain"}},
         415,
         "unsupported_media_type"},
        {"empty text",
         "/v1/tenants/gece-butik/chat",
         "POST",
         chat_body("   ", "u1"),
         {},
         422,
         "invalid_value"},
        {"20,000 characters",
         "/v1/tenants/gece-butik/chat",
         "POST",
         chat_body(std::string(20000, 'a'), "u1"),
         {},
         422,
         "invalid_value"},
        {"invalid UTF-8", "/v1/tenants/gece-butik/chat", "POST", invalid_utf8, {}, 422, "invalid_value"},
    };
    for (const auto& c : cases) {
        auto reply = http_request(port, c.method, c.path, c.body, c.headers);
        EXPECT_EQ(reply.status, c.status) << c.name << ": " << reply.body;
        EXPECT_EQ(reply.error_code(), c.code) << c.name << ": " << reply.body;
        EXPECT_FALSE(reply.header("x-request-id").empty()) << c.name;
        auto json = reply.json();
        ASSERT_TRUE(json.is_object()) << c.name << ": " << reply.body;
        EXPECT_FALSE(json.at("error").at("message").as_string().empty()) << c.name;
        EXPECT_EQ(std::string(json.at("error").at("request_id").as_string()), reply.header("x-request-id"))
            << c.name;
        if (c.status == 405) {
            EXPECT_EQ(reply.header("allow"), "POST") << c.name;
        }
    }
    // The server still answers after all of that.
    EXPECT_EQ(chat("gece-butik", chat_body("merhaba", "u1")).status, 200);
}

TEST_F(HttpServerTest, RefusesABodyOverTheLimitByContentLengthAndByChunkedBody) {
    ServerOptions options;
    options.max_body_bytes = 4096;
    start(options);
    // Declared too large: refused from the headers, before the body is sent.
    auto declared = raw_exchange(port,
                                 "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: t\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 100000\r\n"
                                 "Expect: 100-continue\r\n\r\n");
    EXPECT_EQ(raw_status(declared), 413) << declared;
    EXPECT_TRUE(contains(declared, "payload_too_large")) << declared;
    EXPECT_TRUE(contains(lower(declared), "x-request-id:")) << declared;
    EXPECT_FALSE(contains(declared, "100 Continue")) << declared;

    // Chunked: counted while it is read.
    std::string chunked =
        "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    const std::string piece(1000, 'x');
    for (int i = 0; i < 8; ++i) chunked += "3e8\r\n" + piece + "\r\n";
    chunked += "0\r\n\r\n";
    auto streamed = raw_exchange(port, chunked);
    EXPECT_EQ(raw_status(streamed), 413) << streamed.substr(0, 300);
    EXPECT_TRUE(contains(streamed, "payload_too_large"));

    // Within the limit is fine.
    EXPECT_EQ(chat("gece-butik", chat_body("merhaba", "u1")).status, 200);
}

TEST_F(HttpServerTest, StreamsDeltasToolCallsAndDoneLast) {
    start();
    const auto product = first_offering_name("gece-butik");
    auto reply =
        chat("gece-butik", chat_body(product + " ne kadar?", "sse-user"), {{"Accept", "text/event-stream"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(contains(reply.header("content-type"), "text/event-stream"));
    EXPECT_FALSE(reply.header("x-request-id").empty());
    auto events = parse_events(reply.body);
    ASSERT_GE(events.size(), 2u) << reply.body;
    EXPECT_EQ(events.back().name, "done");
    std::string streamed;
    int tool_calls = 0;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        auto data = boost::json::parse(events[i].data).as_object();
        if (events[i].name == "delta") streamed += data.at("text").as_string();
        if (events[i].name == "tool_call") {
            ++tool_calls;
            EXPECT_TRUE(data.contains("name") && data.contains("arguments") && data.contains("ok"));
        }
    }
    auto done = boost::json::parse(events.back().data).as_object();
    EXPECT_EQ(streamed, std::string(done.at("reply").as_string()));
    EXPECT_FALSE(streamed.empty());
    EXPECT_EQ(static_cast<std::size_t>(tool_calls), done.at("tool_calls").as_array().size());
    EXPECT_GT(tool_calls, 0) << "a price question goes through the catalog tool";

    // Errors before the stream starts are ordinary JSON errors.
    auto error = chat("yok-boyle", chat_body("merhaba", "u1"), {{"Accept", "text/event-stream"}});
    EXPECT_EQ(error.status, 404);
    EXPECT_EQ(error.error_code(), "unknown_tenant");
}

TEST_F(HttpServerTest, AClientLeavingMidStreamDoesNotStopTheTurnOrTheServer) {
    start();
    const std::string body = chat_body("merhaba, iade koşullarınız neler?", "leaver");
    {
        Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
        std::string request =
            "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        socket.sendBytes(request.data(), static_cast<int>(request.size()));
        char buffer[64];
        socket.setReceiveTimeout(Poco::Timespan(10, 0));
        ASSERT_GT(socket.receiveBytes(buffer, sizeof buffer), 0);  // the stream started
        socket.setLinger(true, 0);                                 // leave with a reset
        socket.close();
    }
    // The next message of the same customer continues the conversation, and the message sent by
    // the client that left is in it: the turn completed and was stored.
    auto next = chat("gece-butik", chat_body("teşekkürler", "leaver"));
    ASSERT_EQ(next.status, 200) << next.body;
    const std::string conversation(next.json().at("conversation_id").as_string());
    auto messages = engine->database().recent_messages("gece-butik", conversation, 10);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    bool found = false;
    for (const auto& m : *messages) found = found || m.text == "merhaba, iade koşullarınız neler?";
    EXPECT_TRUE(found);
}

TEST_F(HttpServerTest, WebhookAnswersInTheOrchestratorsShapeAndKeepsTheSession) {
    start();
    const std::string body =
        R"({"mesaj_metni": "merhaba", "kullanici_id": "905551112233", "isletme_id": "gece-butik", "platform": "whatsapp"})";
    auto first = http_request(port, "POST", "/webhook", body);
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_FALSE(first.header("x-request-id").empty());
    auto reply = first.json().as_object();
    EXPECT_EQ(reply.at("success"), true);
    EXPECT_FALSE(reply.at("message").as_string().empty());
    EXPECT_FALSE(reply.at("session_id").as_string().empty());
    EXPECT_TRUE(reply.at("response_time_ms").is_number());

    auto second = http_request(port, "POST", "/webhook", body);
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(second.json().at("session_id"), reply.at("session_id"));

    auto unknown =
        http_request(port, "POST", "/webhook",
                     R"({"mesaj_metni": "merhaba", "kullanici_id": "1", "isletme_id": "yok-boyle"})");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.error_code(), "unknown_tenant");
    auto missing =
        http_request(port, "POST", "/webhook", R"({"kullanici_id": "1", "isletme_id": "gece-butik"})");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(missing.error_code(), "missing_field");
    auto wrong_method = http_request(port, "GET", "/webhook");
    EXPECT_EQ(wrong_method.status, 405);
    EXPECT_EQ(wrong_method.header("allow"), "POST");
}

TEST_F(HttpServerTest, WebhookRefusesATenantThatDoesNotEnableTheChannel) {
    edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json",
              [](boost::json::value& v) { v.as_object().erase("channels"); });
    start();
    auto reply =
        http_request(port, "POST", "/webhook",
                     R"({"mesaj_metni": "merhaba", "kullanici_id": "1", "isletme_id": "nefes-studyo"})");
    EXPECT_EQ(reply.status, 404) << reply.body;
    EXPECT_EQ(reply.error_code(), "unknown_tenant");
    // The tenant's own chat route is unaffected.
    EXPECT_EQ(chat("nefes-studyo", chat_body("merhaba", "u1")).status, 200);
}

TEST_F(HttpServerTest, WebhookChecksTheTenantsOwnSecret) {
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [](boost::json::value& v) {
        v.as_object()["channels"] =
            boost::json::object{{"webhook", boost::json::object{{"secret", "s3cret"}}}};
    });
    start();
    const std::string body = R"({"mesaj_metni": "merhaba", "kullanici_id": "1", "isletme_id": "gece-butik"})";
    auto refused = http_request(port, "POST", "/webhook", body);
    EXPECT_EQ(refused.status, 401) << refused.body;
    EXPECT_EQ(refused.error_code(), "unauthorized");
    auto allowed = http_request(port, "POST", "/webhook", body, {{"X-Webhook-Secret", "s3cret"}});
    EXPECT_EQ(allowed.status, 200) << allowed.body;
}

TEST_F(HttpServerTest, ConcurrentSessionsAcrossTenantsNeverSeeTheOtherTenantsProducts) {
    ServerOptions options;
    options.threads = 32;
    start(options);
    const std::vector<std::string> tenants = {"gece-butik", "nefes-studyo"};
    std::map<std::string, std::vector<std::string>> names;
    for (const auto& t : tenants) names[t] = offering_names(t);
    std::atomic<int> failures{0};
    std::vector<std::string> problems(32);
    std::vector<std::thread> threads;
    for (int i = 0; i < 32; ++i) {
        threads.emplace_back([&, i] {
            const auto& tenant = tenants[i % 2];
            const auto& other = tenants[1 - i % 2];
            Poco::Net::HTTPClientSession session("127.0.0.1", port);  // keep-alive across the turns
            std::string session_id;
            for (int turn = 0; turn < 4; ++turn) {
                const auto& product =
                    names[tenant][static_cast<std::size_t>(turn + i) % names[tenant].size()];
                auto reply = http_request(port, "POST", "/v1/tenants/" + tenant + "/chat",
                                          chat_body(product + " fiyatı nedir?", "user-" + std::to_string(i)),
                                          {}, &session);
                if (reply.status != 200) {
                    ++failures;
                    problems[static_cast<std::size_t>(i)] = std::to_string(reply.status) + " " + reply.body;
                    return;
                }
                auto body = reply.json().as_object();
                const std::string text(body.at("reply").as_string());
                for (const auto& foreign : names[other]) {
                    if (contains(text, foreign)) {
                        ++failures;
                        problems[static_cast<std::size_t>(i)] =
                            tenant + " mentioned " + foreign + ": " + text;
                    }
                }
                const std::string sid(body.at("session_id").as_string());
                if (!session_id.empty() && sid != session_id) {
                    ++failures;
                    problems[static_cast<std::size_t>(i)] = "session changed";
                }
                session_id = sid;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    for (const auto& p : problems) EXPECT_TRUE(p.empty()) << p;
}

TEST_F(HttpServerTest, ASlowClientDribblingItsBodyIsCutOffWithoutBlockingOthers) {
    ServerOptions options;
    options.threads = 4;
    options.body_deadline = std::chrono::milliseconds(1000);
    options.io_timeout = std::chrono::milliseconds(3000);
    start(options);
    std::atomic<bool> cut{false};
    std::string slow_reply;
    std::chrono::steady_clock::duration slow_took{};
    std::thread slow([&] {
        const auto begun = std::chrono::steady_clock::now();
        Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
        const std::string head =
            "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: t\r\n"
            "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n";
        socket.sendBytes(head.data(), static_cast<int>(head.size()));
        socket.setReceiveTimeout(Poco::Timespan(0, 100 * 1000));
        char buffer[4096];
        for (int i = 0; i < 200 && !cut; ++i) {  // one byte per 100 ms: 20 s if never cut off
            try {
                socket.sendBytes("{", 1);
            } catch (const std::exception&) {
                cut = true;
                break;
            }
            try {
                int n = socket.receiveBytes(buffer, sizeof buffer);
                if (n > 0) slow_reply.append(buffer, static_cast<std::size_t>(n));
                cut = true;  // an answer, or the server closed the connection
            } catch (const Poco::TimeoutException&) {
            } catch (const std::exception&) {
                cut = true;
            }
        }
        slow_took = std::chrono::steady_clock::now() - begun;
    });
    // Others are served meanwhile, promptly.
    for (int i = 0; i < 5; ++i) {
        const auto begun = std::chrono::steady_clock::now();
        auto reply = chat("nefes-studyo", chat_body("merhaba", "other-" + std::to_string(i)));
        EXPECT_EQ(reply.status, 200);
        EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(2));
    }
    slow.join();
    EXPECT_TRUE(cut.load());
    EXPECT_LT(slow_took, std::chrono::seconds(5));
    if (!slow_reply.empty()) {
        EXPECT_EQ(raw_status(slow_reply), 408) << slow_reply;
        EXPECT_TRUE(contains(slow_reply, "request_timeout"));
    }
}

// One tenant's rule burns its whole wall clock on every message, and its customers flood the
// server with more turns than it has threads. Its calls at once are capped and the excess turns skip
// the rule at once, so its turns hold the threads briefly: another tenant is answered promptly, and
// the flooding tenant's customers are still answered (without the rule).
TEST_F(HttpServerTest, AnotherTenantIsAnsweredWhileOneTenantsScriptBurns) {
    auto folder = dir.path() / "tenants" / "gece-butik";
    write(folder / "rules" / "burn.lua", R"(
return tezgah.rule { name = "burn", on_message = function(ctx, msg)
  local z = string.rep("0", 256 * 1024)
  while true do for _ = 1, z do end end   -- converts z on every pass: only the clock stops it
end })");
    edit_json(folder / "tenant.json", [](json::value& v) {
        v.as_object()["rules"] = json::array{"rules/burn.lua"};
        v.as_object()["lua"] = json::object{{"max_ms", 1000}};
    });
    tezgah::engine::Metrics::global().reset();
    ServerOptions options;
    options.threads = 8;
    lua.calls_per_tenant = 2;  // tezgah serve --threads 8: a quarter of the threads
    start(options);

    std::atomic<bool> stop{false};
    std::atomic<int> flood_answered{0};
    std::atomic<int> flood_failed{0};
    std::vector<std::thread> flood;
    for (int i = 0; i < 12; ++i) {
        flood.emplace_back([&, i] {
            for (int k = 0; !stop; ++k) {
                auto reply = chat("gece-butik", chat_body("merhaba", "flood-" + std::to_string(i)));
                (reply.status == 200 ? flood_answered : flood_failed)++;
            }
        });
    }
    // Wait until the burning tenant is at its cap: its excess calls are being turned away.
    const std::string busy = R"(tezgah_lua_skipped_total{reason="busy",tenant="gece-butik"})";
    const auto waited = std::chrono::steady_clock::now();
    while (!contains(tezgah::engine::Metrics::global().render(), busy) &&
           std::chrono::steady_clock::now() - waited < std::chrono::seconds(60))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(contains(tezgah::engine::Metrics::global().render(), busy));

    std::chrono::steady_clock::duration slowest{};
    for (int i = 0; i < 5; ++i) {
        const auto begun = std::chrono::steady_clock::now();
        auto reply = chat("nefes-studyo", chat_body("merhaba", "other-" + std::to_string(i)));
        const auto took = std::chrono::steady_clock::now() - begun;
        slowest = std::max(slowest, took);
        EXPECT_EQ(reply.status, 200) << reply.body;
        EXPECT_LT(took, std::chrono::seconds(2));
    }
    stop = true;
    for (auto& t : flood) t.join();
    std::printf(
        "[ measured ] the other tenant's slowest turn while one tenant burned: %.3f s; flooding "
        "tenant: %d turns answered\n",
        std::chrono::duration<double>(slowest).count(), flood_answered.load());
    EXPECT_GT(flood_answered.load(), 0);
    EXPECT_EQ(flood_failed.load(), 0);
    const auto metrics = tezgah::engine::Metrics::global().render();
    EXPECT_TRUE(contains(metrics, R"(tezgah_lua_skipped_total{reason="wall_clock",tenant="gece-butik"})"))
        << metrics;
}

TEST_F(HttpServerTest, HealthReportsStatusAndTheDetailedViewEveryTenant) {
    start();
    ASSERT_EQ(chat("gece-butik", chat_body("merhaba", "u1")).status, 200);
    auto health = http_request(port, "GET", "/health");
    ASSERT_EQ(health.status, 200);
    EXPECT_EQ(health.json().at("status"), "ok");

    auto detailed = http_request(port, "GET", "/health/detailed");
    ASSERT_EQ(detailed.status, 200) << detailed.body;
    auto body = detailed.json().as_object();
    EXPECT_EQ(body.at("status"), "ok");
    EXPECT_EQ(body.at("database").at("ok"), true);
    EXPECT_TRUE(body.at("database").at("latency_ms").is_number());
    EXPECT_GE(body.at("uptime_seconds").as_double(), 0);
    EXPECT_GT(body.at("memory_rss_bytes").as_int64(), 0);
    EXPECT_FALSE(body.at("version").as_string().empty());
    std::set<std::string> plugins;
    for (const auto& p : body.at("plugins").at("loaded").as_array())
        plugins.insert(std::string(p.at("name").as_string()));
    EXPECT_TRUE(plugins.count("webhook") && plugins.count("local") && plugins.count("catalog"))
        << detailed.body;
    std::map<std::string, std::string> states;
    for (const auto& t : body.at("tenants").as_array())
        states[std::string(t.at("id").as_string())] = std::string(t.at("state").as_string());
    EXPECT_EQ(states["gece-butik"], "loaded");
    EXPECT_EQ(states["nefes-studyo"], "not_loaded");
}

TEST_F(HttpServerTest, HealthIsDegradedWhenATenantFailedToLoad) {
    edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json",
              [](boost::json::value& v) { v.as_object()["no_such_key"] = 1; });
    start();
    auto chat_reply = chat("nefes-studyo", chat_body("merhaba", "u1"));
    EXPECT_EQ(chat_reply.status, 503) << chat_reply.body;
    EXPECT_EQ(chat_reply.error_code(), "tenant_unavailable");
    EXPECT_EQ(http_request(port, "GET", "/health").json().at("status"), "degraded");
    auto detailed = http_request(port, "GET", "/health/detailed").json();
    for (const auto& t : detailed.at("tenants").as_array()) {
        if (t.at("id") == "nefes-studyo") {
            EXPECT_EQ(t.at("state"), "failed");
            EXPECT_TRUE(contains(std::string(t.at("error").as_string()), "no_such_key"));
        }
    }
    // The other tenant keeps serving.
    EXPECT_EQ(chat("gece-butik", chat_body("merhaba", "u1")).status, 200);
}

TEST_F(HttpServerTest, MetricsPassPromtoolAndCountTheRequestsMade) {
    tezgah::engine::Metrics::global().reset();
    start();
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(chat("gece-butik", chat_body("merhaba", "m" + std::to_string(i))).status, 200);
    ASSERT_EQ(http_request(port, "GET", "/no/such/route").status, 404);
    // A request is counted once its response is written, so the last one may land a moment after
    // the client has read it: poll briefly.
    auto metrics = http_request(port, "GET", "/metrics");
    for (int i = 0; i < 100 && !contains(metrics.body, R"(route="not_found",status="404"} 1)"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        metrics = http_request(port, "GET", "/metrics");
    }
    ASSERT_EQ(metrics.status, 200);
    EXPECT_TRUE(contains(metrics.header("content-type"), "text/plain"));
    EXPECT_TRUE(contains(
        metrics.body,
        R"(tezgah_http_requests_total{method="POST",route="/v1/tenants/{tenant}/chat",status="200"} 3)"))
        << metrics.body;
    EXPECT_TRUE(contains(metrics.body,
                         R"(tezgah_http_requests_total{method="GET",route="not_found",status="404"} 1)"));
    EXPECT_TRUE(contains(
        metrics.body, R"(tezgah_http_request_duration_seconds_count{route="/v1/tenants/{tenant}/chat"} 3)"));
    EXPECT_TRUE(contains(metrics.body, "tezgah_tenants_loaded 1"));
    EXPECT_TRUE(contains(metrics.body, R"(tezgah_messages_total{method="intent",tenant="gece-butik"} 3)"))
        << metrics.body;

    TempDir scratch;
    const auto file = scratch.path() / "metrics.txt";
    write(file, metrics.body);
    ASSERT_EQ(std::system("command -v promtool > /dev/null"), 0)
        << "promtool is missing: install the Debian package prometheus (scripts/setup)";
    const auto command =
        "promtool check metrics < " + file.string() + " > " + (scratch.path() / "out").string() + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << slurp(scratch.path() / "out");
}

TEST_F(HttpServerTest, ARetriedMessageIdGetsTheStoredReplyNotASecondAnswer) {
    start();
    auto body = [](const std::string& user) {
        return boost::json::serialize(boost::json::object{
            {"text", "kadife sabahlık ne kadar?"}, {"user_id", user}, {"message_id", "msg-42"}});
    };
    auto first = chat("gece-butik", body("retry-user"));
    ASSERT_EQ(first.status, 200) << first.body;
    auto second = chat("gece-butik", body("retry-user"));
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(second.json().at("reply"), first.json().at("reply"));
    EXPECT_EQ(second.json().at("conversation_id"), first.json().at("conversation_id"));
    // Another customer may not reuse the id.
    auto other = chat("gece-butik", body("someone-else"));
    EXPECT_EQ(other.status, 409) << other.body;
    EXPECT_EQ(other.json().at("error").at("code"), "duplicate");
}

TEST(ParseListen, AcceptsHostPortForms) {
    tezgah::engine::http::ServerOptions o;
    std::string error;
    ASSERT_TRUE(tezgah::engine::http::parse_listen("127.0.0.1:0", o, error));
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 0);
    ASSERT_TRUE(tezgah::engine::http::parse_listen(":9090", o, error));
    EXPECT_EQ(o.host, "0.0.0.0");
    EXPECT_EQ(o.port, 9090);
    ASSERT_TRUE(tezgah::engine::http::parse_listen("[::1]:8080", o, error));
    EXPECT_EQ(o.host, "::1");
    EXPECT_FALSE(tezgah::engine::http::parse_listen("localhost", o, error));
    EXPECT_TRUE(contains(error, "HOST:PORT"));
    EXPECT_FALSE(tezgah::engine::http::parse_listen("localhost:99999", o, error));
}

}  // namespace
