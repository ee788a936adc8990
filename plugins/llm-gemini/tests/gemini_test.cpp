// The gemini provider over real HTTP on loopback: the plugin sends through the engine's HTTP client
// to the fake Gemini server (tests/support/fake_gemini.hpp), which speaks the documented wire format
// and refuses, like the real API, what Gemini refuses (schema keywords outside its subset, a thought
// signature not sent back, function responses that answer nothing...).
#include "schema.hpp"
#include "support/fake_gemini.hpp"
#include "util/http_client.hpp"

#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>
#include <boost/dll/shared_library.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;  // llm-gemini's own

namespace {

namespace sdk = tezgah::sdk;
namespace json = boost::json;
using tezgah::plugins::gemini::has_properties;
using tezgah::plugins::gemini::to_gemini_schema;
using tezgah::testing::FakeGemini;
using tezgah::testing::FakeGeminiCall;
using tezgah::testing::FakeGeminiScript;
using Clock = std::chrono::steady_clock;

/// Host services whose HTTP client is the engine's real one: requests really go over loopback.
class LoopbackHost : public sdk::testing::FakeHost {
public:
    sdk::HttpClient& http() override { return client; }
    tezgah::engine::PocoHttpClient client;
};

/// A key of its own for every provider: breakers are process-wide per base URL and key, and a
/// port may be reused by a later test.
std::string fresh_key() {
    static std::atomic<int> n{0};
    return "AIzaSyTestKey-" + std::to_string(++n) + "-abcdefghij";
}

/// The fake server, a host and the plugin under test, configured to talk to each other.
struct Gemini {
    explicit Gemini(json::object extra = {}) : key(fresh_key()) {
        json::object config{{"api_key", key}, {"base_url", server.base_url()}, {"timeout_ms", 20000}};
        for (const auto& [k, v] : extra) config[k] = v;
        auto made = sdk::testing::instantiate(tezgah_plugin_descriptor, host, config);
        if (!made) throw std::runtime_error("gemini: " + host.log.lines.back().second);
        provider.reset(dynamic_cast<sdk::LlmProvider*>(made.release()));
    }

    sdk::Result<sdk::ProviderResponse> complete(const sdk::ProviderRequest& request,
                                                sdk::StreamSink* sink = nullptr) {
        return provider->complete(request, sink);
    }

    json::object body(std::size_t i) const { return json::parse(server.requests().at(i).body).as_object(); }

    /// Neither a message nor a log line may carry the key.
    void expect_key_kept_secret(const sdk::Error& error) const {
        EXPECT_EQ(error.message.find(key), std::string::npos) << error.message;
        for (const auto& [level, line] : host.log.lines) EXPECT_EQ(line.find(key), std::string::npos) << line;
    }

    FakeGemini server;
    LoopbackHost host;
    std::string key;
    std::unique_ptr<sdk::LlmProvider> provider;
};

struct Deltas : sdk::StreamSink {
    explicit Deltas(FakeGemini* lockstep = nullptr) : server(lockstep) {}
    void on_text(std::string_view delta) override {
        pieces.emplace_back(delta);
        if (server) server->release();
    }
    std::string joined() const {
        std::string out;
        for (const auto& p : pieces) out += p;
        return out;
    }
    FakeGemini* server;  ///< a lockstep stream's server, released at each delta
    std::vector<std::string> pieces;
};

const char* const kProductSchema = R"({
  "type": "object",
  "properties": {
    "product": {"type": "string", "minLength": 1, "description": "The product, in the customer's words."},
    "query_type": {"type": "string", "enum": ["price", "stock", "details"]}
  },
  "required": ["product"],
  "additionalProperties": false
})";

sdk::ToolSpec product_tool() {
    return {"get_product_info", "Price, stock and details of a product",
            json::parse(kProductSchema).as_object()};
}

sdk::ToolSpec general_info_tool() {
    return {
        "get_general_info", "Business information",
        json::parse(R"({"type":"object","properties":{"info_type":{"type":"string"}},"required":["info_type"],
                            "additionalProperties":false})")
            .as_object()};
}

sdk::ProviderRequest question(const std::string& text, std::vector<sdk::ToolSpec> tools = {}) {
    sdk::ProviderRequest r;
    r.tenant_id = "gece-butik";
    r.language = "tr";
    r.system_prompt = "Sen Gece Butik'in asistanısın.";
    r.messages.push_back({sdk::Role::user, text, {}, std::nullopt});
    r.tools = std::move(tools);
    return r;
}

sdk::Message tool_message(const sdk::ToolCall& call, json::value content, bool ok = true,
                          std::string error = {}) {
    sdk::ToolResult result{call.id, call.name, ok, std::move(content), std::move(error), 1.0};
    return {sdk::Role::tool, "", {}, result};
}

long long millis_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// --- the request ---

TEST(GeminiRequest, BodyHeadersAndUrlFollowTheWireFormat) {
    Gemini g(json::object{{"temperature", 0.3}, {"max_output_tokens", 512}});
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    auto request = question(
        "saten gecelik ne kadar?",
        {product_tool(), {"list_my_appointments", "Your appointments", json::object{{"type", "object"}}}});
    request.messages.insert(request.messages.begin(),
                            {sdk::Role::assistant, "Hoş geldiniz!", {}, std::nullopt});
    request.messages.insert(request.messages.begin(), {sdk::Role::user, "merhaba", {}, std::nullopt});
    auto response = g.complete(request);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_TRUE(g.server.refusals().empty());

    const auto sent = g.server.requests().at(0);
    EXPECT_EQ(sent.method, "POST");
    EXPECT_EQ(sent.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    EXPECT_EQ(sent.query.find("key"), std::string::npos) << "the key goes in a header, never in the URL";
    EXPECT_EQ(sent.header("x-goog-api-key"), g.key);
    EXPECT_NE(sent.header("content-type").find("application/json"), std::string::npos);

    auto body = g.body(0);
    EXPECT_EQ(body.at("systemInstruction").at("parts").at(0).at("text"), "Sen Gece Butik'in asistanısın.");
    const auto& contents = body.at("contents").as_array();
    ASSERT_EQ(contents.size(), 3u);
    EXPECT_EQ(contents[0].at("role"), "user");
    EXPECT_EQ(contents[0].at("parts").at(0).at("text"), "merhaba");
    EXPECT_EQ(contents[1].at("role"), "model");
    EXPECT_EQ(contents[1].at("parts").at(0).at("text"), "Hoş geldiniz!");
    EXPECT_EQ(contents[2].at("role"), "user");
    EXPECT_EQ(contents[2].at("parts").at(0).at("text"), "saten gecelik ne kadar?");

    const auto& declarations = body.at("tools").at(0).at("functionDeclarations").as_array();
    ASSERT_EQ(declarations.size(), 2u);
    EXPECT_EQ(declarations[0].at("name"), "get_product_info");
    EXPECT_EQ(declarations[0].at("description"), "Price, stock and details of a product");
    const auto& parameters = declarations[0].at("parameters").as_object();
    EXPECT_FALSE(parameters.contains("additionalProperties"));
    EXPECT_FALSE(parameters.at("properties").at("product").as_object().contains("minLength"));
    EXPECT_EQ(parameters.at("required"), json::array{"product"});
    EXPECT_EQ(parameters.at("properties").at("query_type").at("enum"),
              (json::array{"price", "stock", "details"}));
    EXPECT_FALSE(declarations[1].as_object().contains("parameters"))
        << "an object without properties is left out";
    EXPECT_EQ(body.at("toolConfig").at("functionCallingConfig").at("mode"), "AUTO");
    EXPECT_EQ(body.at("generationConfig").at("temperature").to_number<double>(), 0.3);
    EXPECT_EQ(body.at("generationConfig").at("maxOutputTokens"), 512);
    EXPECT_EQ(sent.body.find(g.key), std::string::npos);
}

TEST(GeminiRequest, NoToolsMeansNoToolsFieldAndNoToolConfig) {
    Gemini g(json::object{{"model", "gemini-2.5-flash"}});
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    ASSERT_TRUE(g.complete(question("merhaba")));
    auto body = g.body(0);
    EXPECT_EQ(g.server.requests().at(0).path, "/v1beta/models/gemini-2.5-flash:generateContent");
    EXPECT_FALSE(body.contains("tools"));
    EXPECT_FALSE(body.contains("toolConfig"));
    EXPECT_FALSE(body.contains("generationConfig"));
}

// --- answers ---

TEST(GeminiAnswer, TextWithUsage) {
    Gemini g;
    auto script = FakeGeminiScript::answer("Saten gecelik 1.299 TL, stokta var.");
    script.prompt_tokens = 42;
    script.candidates_tokens = 7;
    script.thoughts_tokens = 3;
    g.server.push_back(script);
    auto response = g.complete(question("saten gecelik ne kadar?"));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->text, "Saten gecelik 1.299 TL, stokta var.");
    EXPECT_TRUE(response->tool_calls.empty());
    EXPECT_EQ(response->usage.input_tokens, 42);
    EXPECT_EQ(response->usage.output_tokens, 10) << "candidates plus thoughts";
    EXPECT_FALSE(response->usage.estimated);
    EXPECT_EQ(response->method, "llm");
    EXPECT_GE(response->confidence, 0.7);
}

TEST(GeminiAnswer, UsageMissingIsEstimated) {
    Gemini g;
    auto script = FakeGeminiScript::answer("Saten gecelik 1.299 TL.");
    script.usage = false;
    g.server.push_back(script);
    auto response = g.complete(question("saten gecelik ne kadar?"));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_TRUE(response->usage.estimated);
    EXPECT_GT(response->usage.input_tokens, 0);
    EXPECT_GT(response->usage.output_tokens, 0);
}

TEST(GeminiAnswer, ThoughtPartsAreNotShownToTheCustomer) {
    Gemini g;
    g.server.push_back([] {
        FakeGeminiScript s;
        s.raw_body = R"({"candidates":[{"content":{"role":"model","parts":[
            {"text":"The user asks for a price...","thought":true},{"text":"1.299 TL."}]},"finishReason":"STOP"}],
            "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"thoughtsTokenCount":20}})";
        return s;
    }());
    auto response = g.complete(question("fiyat?"));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->text, "1.299 TL.");
    EXPECT_EQ(response->usage.output_tokens, 24);
}

TEST(GeminiAnswer, OneFunctionCallBecomesAToolCallWithAnId) {
    Gemini g;
    g.server.push_back(
        FakeGeminiScript::function_calls({{"get_product_info", json::object{{"product", "saten gecelik"}}}}));
    auto response = g.complete(question("saten gecelik ne kadar?", {product_tool()}));
    ASSERT_TRUE(response) << response.error().message;
    ASSERT_EQ(response->tool_calls.size(), 1u);
    const auto& call = response->tool_calls[0];
    EXPECT_EQ(call.name, "get_product_info");
    EXPECT_EQ(call.arguments, (json::object{{"product", "saten gecelik"}}));
    EXPECT_FALSE(call.id.empty());
}

TEST(GeminiAnswer, ParallelFunctionCallsKeepOrderAndGeminiIds) {
    Gemini g;
    g.server.push_back(FakeGeminiScript::function_calls({
        {"get_product_info", json::object{{"product", "saten gecelik"}}, "call-a", ""},
        {"get_general_info", json::object{{"info_type", "kargo"}}, "call-b", ""},
        {"get_general_info", nullptr, "", ""},  // no args at all
    }));
    auto response =
        g.complete(question("gecelik ne kadar, kargo ücretli mi?", {product_tool(), general_info_tool()}));
    ASSERT_TRUE(response) << response.error().message;
    ASSERT_EQ(response->tool_calls.size(), 3u);
    EXPECT_EQ(response->tool_calls[0].id, "call-a");
    EXPECT_EQ(response->tool_calls[0].name, "get_product_info");
    EXPECT_EQ(response->tool_calls[1].id, "call-b");
    EXPECT_EQ(response->tool_calls[1].arguments, (json::object{{"info_type", "kargo"}}));
    EXPECT_TRUE(response->tool_calls[2].arguments.empty());
    EXPECT_FALSE(response->tool_calls[2].id.empty());
    EXPECT_NE(response->tool_calls[2].id, response->tool_calls[1].id);
}

TEST(GeminiAnswer, ArgumentsThatAreNotAnObjectAreFlaggedForTheHost) {
    Gemini g;
    g.server.push_back([] {
        FakeGeminiScript s;
        s.raw_body = R"({"candidates":[{"content":{"role":"model","parts":[
            {"functionCall":{"name":"get_product_info","args":"saten gecelik"}}]},"finishReason":"STOP"}]})";
        return s;
    }());
    auto response = g.complete(question("saten gecelik", {product_tool()}));
    ASSERT_TRUE(response) << response.error().message;
    ASSERT_EQ(response->tool_calls.size(), 1u);
    EXPECT_EQ(response->tool_calls[0].arguments.at(sdk::llm::kInvalidArguments), "\"saten gecelik\"");
}

TEST(GeminiAnswer, BlockedPromptOrNoCandidatesIsABadResponse) {
    Gemini g;
    auto blocked = FakeGeminiScript::answer("");
    blocked.block_reason = "SAFETY";
    g.server.push_back(blocked);
    auto response = g.complete(question("..."));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "bad_response");
    EXPECT_NE(response.error().message.find("SAFETY"), std::string::npos);

    FakeGeminiScript empty;
    empty.raw_body = R"({"candidates": [], "usageMetadata": {"promptTokenCount": 3}})";
    g.server.push_back(empty);
    response = g.complete(question("..."));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "bad_response");
    EXPECT_NE(response.error().message.find("no candidates"), std::string::npos);
}

// --- a whole tool round: the fake refuses a thought signature that does not come back ---

TEST(GeminiToolRound, ResultsGoBackAsFunctionResponsesWithTheSignedTurnUnchanged) {
    Gemini g;  // no script: the fake model decides, and signs its first function call
    auto request = question("saten gecelik ne kadar?", {product_tool(), general_info_tool()});
    auto first = g.complete(request);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->tool_calls.size(), 1u);
    const auto call = first->tool_calls[0];
    EXPECT_EQ(call.name, "get_product_info");

    request.messages.push_back({sdk::Role::assistant, first->text, first->tool_calls, std::nullopt});
    request.messages.push_back(tool_message(
        call,
        json::object{
            {"product",
             json::object{{"name", "Saten Gecelik"}, {"price", 1299}, {"currency", "TRY"}, {"stock", 4}}}}));
    request.step = 1;
    auto second = g.complete(request);
    ASSERT_TRUE(second) << second.error().message
                        << "\nrefusals: " << (g.server.refusals().empty() ? "" : g.server.refusals().back());
    EXPECT_TRUE(second->tool_calls.empty());
    EXPECT_NE(second->text.find("Saten Gecelik: 1299 TRY"), std::string::npos) << second->text;
    EXPECT_TRUE(g.server.refusals().empty());

    auto body = g.body(1);
    const auto& contents = body.at("contents").as_array();
    ASSERT_EQ(contents.size(), 3u);
    const auto& model = contents[1].as_object();
    EXPECT_EQ(model.at("role"), "model");
    const auto& part = model.at("parts").at(0).as_object();
    EXPECT_EQ(part.at("functionCall").at("name"), "get_product_info");
    EXPECT_TRUE(part.contains("thoughtSignature")) << "the model's turn goes back as the model sent it";
    EXPECT_FALSE(part.at("functionCall").as_object().contains("id")) << "our own ids are never sent";
    const auto& answer = contents[2].as_object();
    EXPECT_EQ(answer.at("role"), "user");
    const auto& response = answer.at("parts").at(0).at("functionResponse").as_object();
    EXPECT_EQ(response.at("name"), "get_product_info");
    EXPECT_EQ(response.at("response").at("product").at("price"), 1299);
    EXPECT_FALSE(response.contains("id"));
}

TEST(GeminiToolRound, WithoutTheSignedTurnTheFakeRefusesLikeGemini) {
    // Another instance has not seen the model's turn: it can only rebuild it from the ToolCalls,
    // without the signature, and Gemini refuses that. (The engine keeps one instance per tenant.)
    Gemini g;
    auto request = question("saten gecelik ne kadar?", {product_tool()});
    auto first = g.complete(request);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->tool_calls.size(), 1u);
    request.messages.push_back({sdk::Role::assistant, "", first->tool_calls, std::nullopt});
    request.messages.push_back(tool_message(first->tool_calls[0], json::object{{"text", "1.299 TL"}}));

    json::object config{{"api_key", g.key}, {"base_url", g.server.base_url()}};
    auto other = sdk::testing::instantiate(tezgah_plugin_descriptor, g.host, config);
    ASSERT_TRUE(other);
    auto* provider = dynamic_cast<sdk::LlmProvider*>(other.get());
    auto second = provider->complete(request, nullptr);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, "bad_request");
    EXPECT_NE(second.error().message.find("thought_signature"), std::string::npos) << second.error().message;
}

TEST(GeminiToolRound, ParallelResultsInOneTurnEchoGeminiIdsAndWrapNonObjects) {
    Gemini g;
    g.server.push_back(FakeGeminiScript::function_calls({
        {"get_product_info", json::object{{"product", "saten gecelik"}}, "call-a", "sig-parallel"},
        {"get_general_info", json::object{{"info_type", "kargo"}}, "call-b", ""},
    }));
    auto request = question("gecelik ne kadar, kargo?", {product_tool(), general_info_tool()});
    auto first = g.complete(request);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->tool_calls.size(), 2u);
    request.messages.push_back({sdk::Role::assistant, "", first->tool_calls, std::nullopt});
    request.messages.push_back(tool_message(first->tool_calls[0], json::string("1.299 TL")));
    request.messages.push_back(tool_message(first->tool_calls[1], nullptr, false, "no such topic"));
    g.server.push_back(FakeGeminiScript::answer("Gecelik 1.299 TL; kargo bilgisi bulunamadı."));
    auto second = g.complete(request);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(g.server.refusals().empty());

    auto body = g.body(1);
    const auto& contents = body.at("contents").as_array();
    ASSERT_EQ(contents.size(), 3u);
    EXPECT_EQ(contents[1].at("parts").at(0).at("thoughtSignature"), "sig-parallel");
    const auto& parts = contents[2].at("parts").as_array();
    ASSERT_EQ(parts.size(), 2u) << "consecutive tool results make one user turn";
    EXPECT_EQ(parts[0].at("functionResponse").at("id"), "call-a");
    EXPECT_EQ(parts[0].at("functionResponse").at("response"), (json::object{{"result", "1.299 TL"}}));
    EXPECT_EQ(parts[1].at("functionResponse").at("id"), "call-b");
    EXPECT_EQ(parts[1].at("functionResponse").at("response"), (json::object{{"error", "no such topic"}}));
}

// --- streaming ---

TEST(GeminiStream, TextDeltasArriveInOrderAndMakeTheFinalText) {
    Gemini g;
    auto script = FakeGeminiScript::answer("Saten gecelik 1.299 TL, stokta 4 adet var.");
    script.pieces = {"Saten gecelik ", "1.299 TL, ", "stokta 4 adet var."};
    script.lockstep = true;  // the server sends the next event only once the sink has the last one
    script.prompt_tokens = 50;
    script.candidates_tokens = 12;
    g.server.push_back(script);
    Deltas sink(&g.server);
    auto response = g.complete(question("saten gecelik ne kadar?"), &sink);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(sink.pieces, (std::vector<std::string>{"Saten gecelik ", "1.299 TL, ", "stokta 4 adet var."}));
    EXPECT_EQ(g.server.lockstep_timeouts(), 0)
        << "each piece reached the sink while the stream was still open";
    EXPECT_EQ(sink.joined(), "Saten gecelik 1.299 TL, stokta 4 adet var.");
    EXPECT_EQ(response->text, sink.joined());
    EXPECT_EQ(response->usage.input_tokens, 50);
    EXPECT_EQ(response->usage.output_tokens, 12);
    EXPECT_FALSE(response->usage.estimated);

    const auto sent = g.server.requests().at(0);
    EXPECT_EQ(sent.path, "/v1beta/models/gemini-2.0-flash:streamGenerateContent");
    EXPECT_EQ(sent.query, "alt=sse");
}

TEST(GeminiStream, FunctionCallInAStreamAndTheRoundAfterIt) {
    Gemini g;
    auto script = FakeGeminiScript::function_calls(
        {{"get_product_info", json::object{{"product", "kadife sabahlık"}}, "", "sig-stream"}});
    script.text = "Hemen bakıyorum.";
    g.server.push_back(script);
    Deltas sink;
    auto request = question("kadife sabahlık var mı?", {product_tool()});
    auto first = g.complete(request, &sink);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(sink.joined(), "Hemen bakıyorum.");
    ASSERT_EQ(first->tool_calls.size(), 1u);
    EXPECT_EQ(first->tool_calls[0].arguments.at("product"), "kadife sabahlık");

    // The next call of the turn, streamed too: the model's turn (text and the signed call, from
    // several events) goes back whole, and the fake model answers from the result.
    request.messages.push_back({sdk::Role::assistant, first->text, first->tool_calls, std::nullopt});
    request.messages.push_back(
        tool_message(first->tool_calls[0], json::object{{"text", "Kadife sabahlık: 899 TRY"}}));
    Deltas second_sink;
    auto second = g.complete(request, &second_sink);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(g.server.refusals().empty());
    EXPECT_NE(second->text.find("899 TRY"), std::string::npos) << second->text;
    EXPECT_EQ(second_sink.joined(), second->text);
}

TEST(GeminiStream, DroppedMidStreamIsAnError) {
    Gemini g(json::object{{"max_retries", 0}});
    auto script = FakeGeminiScript::answer("Saten gecelik 1.299 TL, stokta var.");
    script.pieces = {"Saten gecelik ", "1.299 TL, ", "stokta var."};
    script.drop_mid_stream = true;
    g.server.push_back(script);
    Deltas sink;
    auto response = g.complete(question("saten gecelik ne kadar?"), &sink);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "unavailable") << response.error().message;
    g.expect_key_kept_secret(response.error());
}

TEST(GeminiStream, MalformedEventIsABadResponse) {
    Gemini g;
    g.server.push_back(FakeGeminiScript::malformed());
    Deltas sink;
    auto response = g.complete(question("merhaba"), &sink);
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "bad_response");
    EXPECT_EQ(g.server.request_count(), 1u);
}

TEST(GeminiStream, ErrorStatusBeforeTheStreamIsRetried) {
    Gemini g;
    g.server.push_back(
        FakeGeminiScript::error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."));
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    Deltas sink;
    auto response = g.complete(question("merhaba"), &sink);
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(sink.joined(), "Merhaba!");
    EXPECT_EQ(g.server.request_count(), 2u);
}

// --- errors, retries, deadline, breaker ---

TEST(GeminiErrors, RateLimitedWithRetryDelayWaitsThenSucceeds) {
    Gemini g;
    g.server.push_back(FakeGeminiScript::error(429, "RESOURCE_EXHAUSTED",
                                               "Quota exceeded for metric: requests per minute", "1s"));
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    const auto start = Clock::now();
    auto response = g.complete(question("merhaba"));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->text, "Merhaba!");
    EXPECT_EQ(g.server.request_count(), 2u);
    EXPECT_GE(millis_since(start), 900) << "Google's retryDelay is honoured";
}

TEST(GeminiErrors, RetryDelayBeyondTheDeadlineFailsAtOnce) {
    Gemini g(json::object{{"timeout_ms", 3000}});
    g.server.push_back(FakeGeminiScript::error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "60s"));
    const auto start = Clock::now();
    auto response = g.complete(question("merhaba"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "rate_limited");
    EXPECT_NE(response.error().message.find("gemini: 429 RESOURCE_EXHAUSTED: Quota exceeded"),
              std::string::npos)
        << response.error().message;
    EXPECT_EQ(g.server.request_count(), 1u);
    EXPECT_LT(millis_since(start), 30000) << "it must not wait the 60 s it was asked to";
    g.expect_key_kept_secret(response.error());
}

TEST(GeminiErrors, ServerErrorsAreRetriedWithBackoff) {
    Gemini g;
    g.server.push_back(FakeGeminiScript::error(500, "INTERNAL", "An internal error has occurred."));
    g.server.push_back(FakeGeminiScript::error(500, "INTERNAL", "An internal error has occurred."));
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    auto response = g.complete(question("merhaba"));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(g.server.request_count(), 3u);
}

TEST(GeminiErrors, ServerErrorOnEveryAttemptIsUnavailable) {
    Gemini g(json::object{{"max_retries", 1}});
    for (int i = 0; i < 2; ++i)
        g.server.push_back(FakeGeminiScript::error(503, "UNAVAILABLE", "The model is overloaded."));
    auto response = g.complete(question("merhaba"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "unavailable");
    EXPECT_NE(response.error().message.find("gemini: 503 UNAVAILABLE: The model is overloaded."),
              std::string::npos);
    EXPECT_EQ(g.server.request_count(), 2u);
}

TEST(GeminiErrors, BadRequestIsNotRetried) {
    Gemini g;
    g.server.push_back(
        FakeGeminiScript::error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."));
    auto response = g.complete(question("merhaba"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "bad_request");
    EXPECT_EQ(response.error().message,
              "gemini: 400 INVALID_ARGUMENT: Request contains an invalid argument.");
    EXPECT_EQ(g.server.request_count(), 1u);
}

TEST(GeminiErrors, PermissionDeniedIsUnauthorized) {
    Gemini g;
    g.server.push_back(
        FakeGeminiScript::error(403, "PERMISSION_DENIED", "Your API key was reported as leaked."));
    auto response = g.complete(question("merhaba"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "unauthorized");
    EXPECT_EQ(g.server.request_count(), 1u);
    g.expect_key_kept_secret(response.error());
}

TEST(GeminiErrors, WrongKeyIsRefusedAndNeverShown) {
    Gemini g;
    g.server.require_key("AIzaSyTheRightOne");
    auto response = g.complete(question("merhaba"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "bad_request");
    EXPECT_NE(response.error().message.find("API key not valid"), std::string::npos);
    g.expect_key_kept_secret(response.error());
}

TEST(GeminiErrors, MalformedJsonBodyIsABadResponse) {
    Gemini g;
    g.server.push_back(FakeGeminiScript::malformed());
    auto response = g.complete(question("merhaba"));
    ASSERT_FALSE(response);
    EXPECT_EQ(response.error().code, "bad_response");
    EXPECT_EQ(g.server.request_count(), 1u);
}

TEST(GeminiErrors, StallLongerThanTheTimeoutEndsInTime) {
    Gemini g(json::object{{"timeout_ms", 500}});
    auto script = FakeGeminiScript::answer("too late");
    script.stall = std::chrono::milliseconds(4000);
    g.server.push_back(script);
    const auto start = Clock::now();
    auto response = g.complete(question("merhaba"));
    const auto took = millis_since(start);
    ASSERT_FALSE(response);
    EXPECT_TRUE(response.error().code == "timeout" || response.error().code == "deadline_exceeded")
        << response.error().code << ": " << response.error().message;
    EXPECT_LT(took, 3500) << "the call must end near its 500 ms budget, not when the server answers";
}

TEST(GeminiErrors, TheTurnsDeadlineBoundsTheCall) {
    Gemini g;  // timeout_ms 20000, but the engine's deadline is 600 ms away
    auto script = FakeGeminiScript::answer("too late");
    script.stall = std::chrono::milliseconds(4000);
    g.server.push_back(script);
    auto request = question("merhaba");
    request.deadline = Clock::now() + std::chrono::milliseconds(600);
    const auto start = Clock::now();
    auto response = g.complete(request);
    ASSERT_FALSE(response);
    EXPECT_LT(millis_since(start), 3500);
}

TEST(GeminiErrors, BreakerOpensAfterRepeatedFailuresAndRefusesWithoutARequest) {
    Gemini g(json::object{{"max_retries", 0}, {"breaker_failures", 2}, {"breaker_cooldown_ms", 600000}});
    for (int i = 0; i < 2; ++i) {
        g.server.push_back(FakeGeminiScript::error(503, "UNAVAILABLE", "The model is overloaded."));
        auto response = g.complete(question("merhaba"));
        ASSERT_FALSE(response);
        EXPECT_EQ(response.error().code, "unavailable");
    }
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    auto refused = g.complete(question("merhaba"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "circuit_open");
    EXPECT_EQ(g.server.request_count(), 2u) << "an open breaker sends nothing";
}

TEST(GeminiErrors, BadRequestsDoNotOpenTheBreaker) {
    Gemini g(json::object{{"max_retries", 0}, {"breaker_failures", 2}});
    for (int i = 0; i < 3; ++i) {
        g.server.push_back(
            FakeGeminiScript::error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."));
        auto response = g.complete(question("merhaba"));
        ASSERT_FALSE(response);
        EXPECT_EQ(response.error().code, "bad_request");
    }
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    EXPECT_TRUE(g.complete(question("merhaba")));
}

/// The host's HTTP client breaking its promise never to throw, on the sends it is told to (counted
/// from 0): what a host's bug, or std::bad_alloc, looks like to the plugin.
class ThrowingHttpClient : public sdk::testing::FakeHttpClient {
public:
    sdk::Result<sdk::HttpResponse> send(const sdk::OutboundRequest& request) override {
        if (throw_on.count(sent.size())) {
            sent.push_back(request);
            throw std::runtime_error("the HTTP client broke");
        }
        return FakeHttpClient::send(request);
    }
    std::set<std::size_t> throw_on;
};

class ThrowingHost : public sdk::testing::FakeHost {
public:
    sdk::HttpClient& http() override { return client; }
    ThrowingHttpClient client;
};

sdk::HttpResponse http_response(int status, std::string body) {
    sdk::HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

TEST(GeminiErrors, AHalfOpenTrialThatThrowsDoesNotLockTheBreaker) {
    ThrowingHost host;
    // One failure opens the breaker; with no cool-down, the next call is its half-open trial.
    json::object config{{"api_key", fresh_key()},
                        {"base_url", "http://gemini.test"},
                        {"max_retries", 0},
                        {"breaker_failures", 1},
                        {"breaker_cooldown_ms", 0}};
    auto made = sdk::testing::instantiate(tezgah_plugin_descriptor, host, config);
    ASSERT_TRUE(made) << host.log.lines.back().second;
    std::unique_ptr<sdk::LlmProvider> provider(dynamic_cast<sdk::LlmProvider*>(made.release()));
    ASSERT_NE(provider, nullptr);
    host.client.responses.push_back(http_response(
        503, R"({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})"));
    host.client.throw_on = {1};  // the trial
    host.client.responses.push_back(
        http_response(200, R"({"candidates": [{"content": {"role": "model", "parts": [{"text": "Merhaba!"}]},
                                  "finishReason": "STOP"}]})"));

    auto failed = provider->complete(question("merhaba"), nullptr);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, "unavailable");
    auto trial = provider->complete(question("merhaba"), nullptr);
    ASSERT_FALSE(trial);
    EXPECT_EQ(trial.error().code, "internal");
    auto later = provider->complete(question("merhaba"), nullptr);
    ASSERT_TRUE(later) << later.error().code << ": " << later.error().message
                       << " (the thrown trial must count as a failure, not stay in flight for ever)";
    EXPECT_EQ(later->text, "Merhaba!");
    EXPECT_EQ(host.client.sent.size(), 3u);
}

// --- configuration ---

TEST(GeminiConfig, ApiKeyIsRequired) {
    sdk::testing::FakeHost host;
    EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, host, {{"model", "gemini-2.0-flash"}}),
              nullptr);
    EXPECT_TRUE(host.log.contains("gemini: api_key: required")) << host.log.lines.back().second;
    host.log.lines.clear();
    EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, host, {{"api_key", ""}}), nullptr);
    EXPECT_TRUE(host.log.contains("gemini: api_key: required"));
    // The key's value never shows, even where it is wrong.
    host.log.lines.clear();
    EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, host, {{"api_key", 12345}}), nullptr);
    EXPECT_TRUE(host.log.contains("gemini: api_key: expected a string, got a number"));
    EXPECT_FALSE(host.log.contains("12345"));
}

TEST(GeminiConfig, DescriptorDeclaresEveryKeyWithItsDefault) {
    EXPECT_STREQ(tezgah_plugin_descriptor.name, "gemini");
    EXPECT_EQ(tezgah_plugin_descriptor.kind, sdk::PluginKind::llm);
    std::map<std::string, std::string> defaults;
    for (std::size_t i = 0; i < tezgah_plugin_descriptor.config_key_count; ++i) {
        const auto& k = tezgah_plugin_descriptor.config_keys[i];
        defaults[k.name] = k.default_json ? k.default_json : "";
    }
    EXPECT_EQ(defaults.at("model"), "\"gemini-2.0-flash\"");
    EXPECT_EQ(defaults.at("base_url"), "\"https://generativelanguage.googleapis.com\"");
    EXPECT_EQ(defaults.at("timeout_ms"), "15000");
    EXPECT_EQ(defaults.at("max_retries"), "2");
    EXPECT_EQ(defaults.at("breaker_failures"), "5");
    EXPECT_EQ(defaults.at("breaker_cooldown_ms"), "30000");
    EXPECT_TRUE(defaults.count("temperature"));
    EXPECT_TRUE(defaults.count("max_output_tokens"));
    EXPECT_TRUE(defaults.count("api_key"));
}

// --- schema conversion ---

const std::set<std::string> kAllowedKeywords = {
    "type",  "format",   "description", "nullable", "enum",    "properties", "required",
    "items", "minItems", "maxItems",    "minimum",  "maximum", "anyOf",      "propertyOrdering"};

/// Every keyword anywhere in a converted schema is one Gemini knows.
void expect_only_allowed_keywords(const json::object& schema, const std::string& path = "$") {
    for (const auto& [key, value] : schema) {
        EXPECT_TRUE(kAllowedKeywords.count(std::string(key))) << path << ": " << key;
        if (key == "properties")
            for (const auto& [name, sub] : value.as_object())
                expect_only_allowed_keywords(sub.as_object(), path + "." + std::string(name));
        if (key == "items") expect_only_allowed_keywords(value.as_object(), path + "[]");
        if (key == "anyOf")
            for (const auto& sub : value.as_array())
                expect_only_allowed_keywords(sub.as_object(), path + "|");
    }
}

/// The catalog and knowledge tool plugins, loaded from the build, for their real schemas.
std::vector<sdk::ToolSpec> builtin_tool_specs() {
    static std::vector<boost::dll::shared_library> libraries;  // outlive the tools made from them
    static sdk::testing::FakeHost host;
    std::vector<sdk::ToolSpec> specs;
    for (const char* name : {"tool-catalog.so", "tool-knowledge.so"}) {
        libraries.emplace_back(std::string(TEZGAH_TEST_PLUGIN_DIR) + "/" + name);
        const auto& d = libraries.back().get<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
        static std::vector<sdk::PluginPtr> tools;  // as long as the libraries
        tools.push_back(sdk::testing::instantiate(d, host));
        if (!tools.back()) throw std::runtime_error(std::string(name) + ": " + host.log.lines.back().second);
        auto* tool = dynamic_cast<sdk::Tool*>(tools.back().get());
        for (auto& spec : tool->specs()) specs.push_back(std::move(spec));
    }
    return specs;
}

TEST(GeminiSchema, BuiltInToolSchemasConvertToWhatGeminiAccepts) {
    auto specs = builtin_tool_specs();
    ASSERT_GE(specs.size(), 4u);
    std::set<std::string> names;
    for (const auto& spec : specs) {
        names.insert(spec.name);
        auto converted = to_gemini_schema(spec.parameters);
        SCOPED_TRACE(spec.name + ": " + json::serialize(converted));
        expect_only_allowed_keywords(converted);
        EXPECT_EQ(FakeGemini::check_schema(converted), "");
        // Nothing the model needs is lost: the same properties, the same required ones.
        const auto& original = spec.parameters.at("properties").as_object();
        if (has_properties(converted)) {
            EXPECT_EQ(converted.at("properties").as_object().size(), original.size());
            if (const auto* required = spec.parameters.if_contains("required")) {
                EXPECT_EQ(converted.at("required"), *required);
            }
        } else {
            EXPECT_TRUE(original.empty());
        }
        if (spec.parameters.contains("additionalProperties")) {
            EXPECT_NE(FakeGemini::check_schema(spec.parameters), "") << "the fake must refuse the raw schema";
        }
    }
    EXPECT_TRUE(names.count("get_product_info"));
    EXPECT_TRUE(names.count("search_knowledge_base"));

    // And through the wire: a request declaring every built-in tool is accepted.
    Gemini g;
    g.server.push_back(FakeGeminiScript::answer("Merhaba!"));
    auto response = g.complete(question("merhaba", specs));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_TRUE(g.server.refusals().empty());
}

const char* const kNastySchema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://example.com/order.json",
  "title": "Order",
  "type": "object",
  "additionalProperties": false,
  "$defs": {
    "Address": {"type": "object", "title": "Address",
                "properties": {"city": {"type": "string", "default": "İstanbul"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                "required": ["city", "country"], "additionalProperties": false},
    "Node": {"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
  },
  "definitions": {"Colour": {"type": "string", "enum": ["black", "bordo"]}},
  "properties": {
    "address": {"$ref": "#/$defs/Address", "description": "Where to send it"},
    "colour": {"$ref": "#/definitions/Colour"},
    "missing": {"$ref": "#/$defs/Nowhere"},
    "remote": {"$ref": "https://example.com/other.json"},
    "tree": {"$ref": "#/$defs/Node"},
    "kind": {"const": "order"},
    "size": {"type": "integer", "enum": [36, 38, 40]},
    "note": {"type": ["string", "null"], "maxLength": 200, "examples": ["kapıya bırakın"]},
    "amount": {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "format": "decimal"}]},
    "maybe_count": {"anyOf": [{"type": "integer", "minimum": 1, "format": "int32"}, {"type": "null"}]},
    "when": {"type": "string", "format": "date-time"},
    "email": {"type": "string", "format": "email"},
    "mixed": {"type": ["integer", "string"]},
    "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": true, "minItems": 1, "maxItems": 5, "default": []},
    "bare_list": {"type": "array"},
    "anything": {},
    "extra": {"type": "object", "additionalProperties": {"type": "string"}},
    "merged": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                         {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]},
    "flag": {"type": "boolean", "default": false, "deprecated": true}
  },
  "required": ["address", "kind", "ghost"],
  "dependentRequired": {"note": ["when"]},
  "if": {"properties": {"kind": {"const": "order"}}}, "then": {"required": ["size"]}
})";

TEST(GeminiSchema, NastySchemaIsRewrittenIntoTheSubset) {
    const auto raw = json::parse(kNastySchema).as_object();
    EXPECT_NE(FakeGemini::check_schema(raw).find("Unknown name"), std::string::npos)
        << "the fake refuses the raw schema";
    const auto s = to_gemini_schema(raw);
    SCOPED_TRACE(json::serialize(s));
    expect_only_allowed_keywords(s);
    EXPECT_EQ(FakeGemini::check_schema(s), "");

    EXPECT_EQ(s.at("type"), "object");
    EXPECT_EQ(s.at("description"), "Order") << "a title stands in for a missing description";
    EXPECT_EQ(s.at("required"), (json::array{"address", "kind"})) << "only names that are properties";
    const auto& p = s.at("properties").as_object();

    const auto& address = p.at("address").as_object();
    EXPECT_EQ(address.at("type"), "object");
    EXPECT_EQ(address.at("description"), "Where to send it");
    EXPECT_EQ(address.at("properties").at("zip"), (json::object{{"type", "string"}}));
    EXPECT_EQ(address.at("required"), json::array{"city"});
    EXPECT_EQ(p.at("colour"), (json::object{{"type", "string"}, {"enum", json::array{"black", "bordo"}}}));
    EXPECT_EQ(p.at("missing"), (json::object{{"type", "object"}}));
    EXPECT_EQ(p.at("remote"), (json::object{{"type", "object"}}));

    // A recursive definition ends after a few levels instead of looping.
    const json::object* node = &p.at("tree").as_object();
    int depth = 0;
    while (node->contains("properties") && node->at("properties").as_object().contains("children")) {
        node = &node->at("properties").at("children").at("items").as_object();
        ++depth;
    }
    EXPECT_GT(depth, 2);
    EXPECT_LT(depth, 20);

    EXPECT_EQ(p.at("kind"), (json::object{{"type", "string"}, {"enum", json::array{"order"}}}));
    EXPECT_EQ(p.at("size"), (json::object{{"type", "string"}, {"enum", json::array{"36", "38", "40"}}}));
    EXPECT_EQ(p.at("note"), (json::object{{"type", "string"}, {"nullable", true}}));
    EXPECT_EQ(p.at("amount").at("anyOf"),
              (json::array{json::object{{"type", "number"}}, json::object{{"type", "string"}}}));
    EXPECT_EQ(p.at("maybe_count"),
              (json::object{{"type", "integer"}, {"format", "int32"}, {"nullable", true}, {"minimum", 1}}));
    EXPECT_EQ(p.at("when"), (json::object{{"type", "string"}, {"format", "date-time"}}));
    EXPECT_EQ(p.at("email"), (json::object{{"type", "string"}}));
    EXPECT_EQ(p.at("mixed").at("anyOf"),
              (json::array{json::object{{"type", "integer"}}, json::object{{"type", "string"}}}));
    EXPECT_EQ(p.at("tags"), (json::object{{"type", "array"},
                                          {"items", json::object{{"type", "string"}}},
                                          {"minItems", 1},
                                          {"maxItems", 5}}));
    EXPECT_EQ(p.at("bare_list"),
              (json::object{{"type", "array"}, {"items", json::object{{"type", "string"}}}}));
    EXPECT_EQ(p.at("anything"), (json::object{{"type", "string"}}));
    EXPECT_EQ(p.at("extra"), (json::object{{"type", "object"}}));
    const auto& merged = p.at("merged").as_object();
    EXPECT_EQ(merged.at("properties").as_object().size(), 2u);
    EXPECT_EQ(merged.at("required"), (json::array{"a", "b"}));
    EXPECT_EQ(p.at("flag"), (json::object{{"type", "boolean"}}));

    // Through the wire too.
    Gemini g;
    g.server.push_back(FakeGeminiScript::answer("Tamam."));
    auto response = g.complete(question("sipariş", {{"place_order", "Places an order", raw}}));
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_TRUE(g.server.refusals().empty());
}

TEST(GeminiSchema, OddInputsStillGiveAValidSchema) {
    for (
        const char* text :
        {R"({})", R"({"type": "object"})", R"({"type": "object", "properties": {}})", R"({"$ref": "#"})",
         R"({"type": "null"})", R"({"enum": [null]})", R"({"type": 7})",
         R"({"type": "object", "properties": {"x": true, "y": {"type": "any"}}})",
         R"({"type": "object", "properties": {"n": {"type": "integer", "minimum": 0.5, "maximum": "9"}}})",
         R"({"anyOf": [{"required": ["a"]}, {"required": ["b"]}], "type": "object", "properties": {"a": {"type": "string"}}})"}) {
        auto converted = to_gemini_schema(json::parse(text).as_object());
        SCOPED_TRACE(std::string(text) + " -> " + json::serialize(converted));
        expect_only_allowed_keywords(converted);
        // Sent as parameters only with properties; then Gemini must accept it. Nested, any form must pass.
        json::object wrapper{{"type", "object"}, {"properties", json::object{{"p", converted}}}};
        EXPECT_EQ(FakeGemini::check_schema(wrapper), "");
        if (has_properties(converted)) {
            EXPECT_EQ(FakeGemini::check_schema(converted), "");
        }
    }
}

}  // namespace
