// Log lines written while the server handles a request carry that request's id: the access log,
// the engine's lines and every plugin's (a Lua rule's ctx.log, a provider plugin's warning), so an
// operator finds a request's whole story from its X-Request-Id.
#include "http_fixture.hpp"
#include "support/fake_openai.hpp"

#include "support/captured_log.hpp"

namespace tezgah::testing {
namespace {

using engine::log;

std::string text_of(const json::object& line, const char* key) {
    const auto* v = line.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string("(none)");
}

class RequestLog : public ServerFixture {
protected:
    // A member, so that it outlives the server: TearDown stops the server before the members go,
    // and a sink must not be removed while a server thread may still write through it.
    CapturedLog captured;
};

TEST_F(RequestLog, ALuaRulesLogLineDuringAChatCarriesTheResponsesRequestId) {
    const auto tenant = dir.path() / "tenants" / "gece-butik";
    write(tenant / "rules" / "kayit.lua", R"(return tezgah.rule {
  name = "kayit",
  on_message = function(ctx, msg) ctx.log("mesaj geldi: " .. msg.text) end,
})");
    edit_json(tenant / "tenant.json",
              [](json::value& v) { v.as_object()["rules"] = json::array{"rules/kayit.lua"}; });
    start();

    auto reply = chat("gece-butik", chat_body("kadife sabahlık ne kadar?", "log-1"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    const std::string id = reply.header("x-request-id");
    ASSERT_FALSE(id.empty());
    auto lines = captured.lines_with("mesaj geldi: kadife sabahlık ne kadar?");
    ASSERT_EQ(lines.size(), 1u) << captured.text();
    EXPECT_EQ(text_of(lines[0], "logger"), "lua.rules/kayit.lua[gece-butik]") << captured.text();
    EXPECT_EQ(text_of(lines[0], "request_id"), id) << captured.text();

    // A client's own id is the one the lines carry; the access log line has it too. That line is
    // written after the response; the connection's next request is read only once it is.
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    auto own = http_request(port, "POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "log-2"),
                            {{"X-Request-Id", "istek-42"}}, &session);
    ASSERT_EQ(own.status, 200) << own.body;
    ASSERT_EQ(http_request(port, "GET", "/health", "", {}, &session).status, 200);
    EXPECT_EQ(own.header("x-request-id"), "istek-42");
    lines = captured.lines_with("mesaj geldi: merhaba");
    ASSERT_EQ(lines.size(), 1u) << captured.text();
    EXPECT_EQ(text_of(lines[0], "request_id"), "istek-42");
    bool access_logged = false;
    for (const auto& line : captured.lines_with("request")) {
        if (text_of(line, "logger") == "http" && text_of(line, "request_id") == "istek-42")
            access_logged = true;
    }
    EXPECT_TRUE(access_logged) << captured.text();
}

TEST_F(RequestLog, AProviderPluginsWarningAndTheEnginesErrorCarryTheRequestId) {
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::error(401, "invalid_request_error", "Incorrect API key provided"));
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"api_key", "k"},
                                            {"base_url", fake.base_url()},
                                            {"model", "gpt-4o-mini"},
                                            {"max_retries", 0}};
    });
    start();

    auto reply =
        chat("gece-butik", chat_body("kadife sabahlık ne kadar?", "log-3"), {{"X-Request-Id", "istek-43"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(json::parse(reply.body).at("method"), "fallback") << reply.body;

    auto plugin_lines = captured.lines_with("Incorrect API key provided");
    bool plugin_logged = false;
    for (const auto& line : plugin_lines) {
        if (text_of(line, "logger") != "llm.openai[gece-butik]") continue;
        plugin_logged = true;
        EXPECT_EQ(text_of(line, "request_id"), "istek-43") << captured.text();
    }
    EXPECT_TRUE(plugin_logged) << captured.text();
    auto engine_lines = captured.lines_with("provider failed");
    ASSERT_FALSE(engine_lines.empty()) << captured.text();
    EXPECT_EQ(text_of(engine_lines[0], "request_id"), "istek-43");
}

TEST(RequestIdScope, NestsAndLeavesNoIdBehind) {
    EXPECT_EQ(engine::current_request_id(), "");
    {
        const engine::RequestIdScope outer("outer-1");
        EXPECT_EQ(engine::current_request_id(), "outer-1");
        {
            const engine::RequestIdScope inner("inner-2");
            EXPECT_EQ(engine::current_request_id(), "inner-2");
        }
        EXPECT_EQ(engine::current_request_id(), "outer-1");
    }
    EXPECT_EQ(engine::current_request_id(), "");
}

}  // namespace
}  // namespace tezgah::testing
