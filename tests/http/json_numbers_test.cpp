// Numbers in what the server sends, read as raw text the way a person or a client sees them:
// "confidence":0.9 and "cost_usd":0, never Boost.JSON's 9E-1 and 0E0.
#include "http_fixture.hpp"

#include <regex>

using namespace tezgah::testing;

namespace {

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

/// A JSON number value in exponent form (`"x":9E-1`, `[2.5E0`); ids and text are not matched.
bool has_exponent_number(const std::string& text) {
    static const std::regex exponent(R"([:\[,]-?[0-9][0-9.]*[eE][-+]?[0-9])");
    return std::regex_search(text, exponent);
}

/// execution_time_ms with at most two decimals.
bool has_short_execution_time(const std::string& text) {
    static const std::regex time(R"("execution_time_ms":[0-9]+(\.[0-9]{1,2})?[,}])");
    return std::regex_search(text, time);
}

using JsonNumbers = ServerFixture;

TEST_F(JsonNumbers, TheChatReplyWritesNumbersPlainly) {
    start();
    auto reply = chat("gece-butik", chat_body("kadife sabahlık ne kadar?", "numbers"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(contains(reply.body, R"("confidence":0.9,)")) << reply.body;
    EXPECT_TRUE(contains(reply.body, R"("cost_usd":0})")) << reply.body;
    EXPECT_TRUE(has_short_execution_time(reply.body)) << reply.body;
    EXPECT_FALSE(has_exponent_number(reply.body)) << reply.body;
}

TEST_F(JsonNumbers, TheEventStreamWritesNumbersPlainly) {
    start();
    auto reply = chat("gece-butik", chat_body("kadife sabahlık ne kadar?", "numbers-sse"),
                      {{"Accept", "text/event-stream"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    auto events = parse_events(reply.body);
    ASSERT_FALSE(events.empty()) << reply.body;
    ASSERT_EQ(events.back().name, "done") << reply.body;
    const std::string& done = events.back().data;
    EXPECT_TRUE(contains(done, R"("confidence":0.9,)")) << done;
    EXPECT_TRUE(contains(done, R"("cost_usd":0})")) << done;
    EXPECT_TRUE(has_short_execution_time(done)) << done;
    bool tool_call = false;
    for (const auto& event : events) {
        tool_call = tool_call || event.name == "tool_call";
        EXPECT_FALSE(has_exponent_number(event.data)) << event.name << ": " << event.data;
    }
    EXPECT_TRUE(tool_call) << reply.body;
}

TEST_F(JsonNumbers, HealthWebhookAndErrorsWriteNumbersPlainly) {
    start();
    auto detailed = http_request(port, "GET", "/health/detailed");
    ASSERT_EQ(detailed.status, 200) << detailed.body;
    EXPECT_TRUE(std::regex_search(detailed.body, std::regex(R"("uptime_seconds":[0-9]+(\.[0-9]+)?,)")))
        << detailed.body;
    EXPECT_TRUE(std::regex_search(detailed.body, std::regex(R"("latency_ms":[0-9]+(\.[0-9]+)?[,}])")))
        << detailed.body;
    EXPECT_FALSE(has_exponent_number(detailed.body)) << detailed.body;

    auto webhook = http_request(
        port, "POST", "/webhook",
        R"({"mesaj_metni": "kadife sabahlık ne kadar?", "kullanici_id": "5", "isletme_id": "gece-butik"})");
    ASSERT_EQ(webhook.status, 200) << webhook.body;
    EXPECT_TRUE(std::regex_search(webhook.body, std::regex(R"("response_time_ms":[0-9]+,)"))) << webhook.body;
    EXPECT_FALSE(has_exponent_number(webhook.body)) << webhook.body;

    auto error = http_request(port, "GET", "/nowhere", "", {{"X-Request-Id", "req-7"}});
    EXPECT_EQ(error.body,
              R"({"error":{"code":"not_found","message":"no route for GET /nowhere","request_id":"req-7"}})");
}

}  // namespace
