// The openai provider over real HTTP on loopback: the plugin sends through the engine's Poco client
// to FakeOpenAi (tests/support/fake_openai.hpp), which validates every request like the real API
// and answers in the wire format of OpenAI, Ollama, vLLM or llama.cpp's server.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include "support/fake_http_server.hpp"
#include "support/fake_openai.hpp"
#include "util/http_client.hpp"

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;  // llm-openai's own

namespace {

namespace sdk = tezgah::sdk;
namespace json = boost::json;
using tezgah::testing::FakeOpenAi;
using tezgah::testing::FakeOpenAiBehaviour;
using tezgah::testing::FakeOpenAiCall;
using tezgah::testing::FakeOpenAiFlavour;
using tezgah::testing::FakeOpenAiOptions;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// A host whose HTTP client really sends: the engine's own.
class LoopbackHost : public sdk::testing::FakeHost {
public:
    sdk::HttpClient& http() override { return client; }
    tezgah::engine::PocoHttpClient client;
};

class RecordingSink : public sdk::StreamSink {
public:
    void on_text(std::string_view delta) override { deltas.emplace_back(delta); }
    std::string joined() const {
        std::string out;
        for (const auto& d : deltas) out += d;
        return out;
    }
    std::vector<std::string> deltas;
};

/// A key no other test uses: breakers are process-wide per server and key, and ports get reused.
std::string fresh_key() {
    static std::atomic<int> n{0};
    return "sk-test-" + std::to_string(++n);
}

json::object config_for(const FakeOpenAi& server, json::object extra = {}) {
    json::object config{{"base_url", server.base_url()},
                        {"model", "gpt-4o-mini"},
                        {"api_key", fresh_key()},
                        {"timeout_ms", 10000},
                        {"max_retries", 2}};
    for (auto& [k, v] : extra) config[k] = v;
    return config;
}

sdk::ToolSpec product_tool() {
    return {
        "get_product_info", "Price, stock and details of a product",
        json::parse(
            R"({"type": "object", "properties": {"product": {"type": "string"}}, "required": ["product"]})")
            .as_object()};
}

sdk::ToolSpec info_tool() {
    return {
        "get_general_info", "Business information: hours, address, returns, shipping",
        json::parse(R"({"type": "object", "properties": {"info_type": {"type": "string"}}})").as_object()};
}

sdk::ProviderRequest question(std::string text = "Saten gecelik ne kadar?", bool with_tools = true) {
    sdk::ProviderRequest r;
    r.tenant_id = "gece-butik";
    r.language = "tr";
    r.system_prompt = "Sen Gece Butik'in asistanı Ece'sin. Fiyatları TL olarak söyle.";
    r.messages.push_back({sdk::Role::user, std::move(text), {}, {}});
    if (with_tools) r.tools = {product_tool(), info_tool()};
    return r;
}

/// One provider instance over the real client.
struct Fixture {
    explicit Fixture(const json::object& config) {
        plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host, config);
        provider = dynamic_cast<sdk::LlmProvider*>(plugin.get());
    }
    sdk::Result<sdk::ProviderResponse> complete(const sdk::ProviderRequest& r,
                                                sdk::StreamSink* sink = nullptr) {
        return provider->complete(r, sink);
    }
    LoopbackHost host;
    sdk::PluginPtr plugin;
    sdk::LlmProvider* provider = nullptr;
};

const json::object& body_of(const FakeOpenAi& server, std::size_t i) {
    static thread_local std::vector<json::value> keep;
    keep = server.bodies();
    return keep.at(i).as_object();
}

std::string rejections(const FakeOpenAi& server) {
    std::string out;
    for (const auto& r : server.rejections()) out += r + "\n";
    return out;
}

/// Runs the tool calls of `answer` with canned results and appends the round to `request`.
void answer_tools(sdk::ProviderRequest& request, const sdk::ProviderResponse& answer) {
    request.messages.push_back({sdk::Role::assistant, answer.text, answer.tool_calls, {}});
    for (const auto& call : answer.tool_calls) {
        sdk::ToolResult result{call.id, call.name, true, nullptr, {}, 1.0};
        if (call.name == "get_product_info")
            result.content = json::parse(
                R"({"product": {"name": "Saten Gecelik Siyah", "price": 299.99, "currency": "TRY", "stock": 5}})");
        else
            result.content = json::object{{"text", "Kargo 500 TL üzeri ücretsiz."}};
        request.messages.push_back({sdk::Role::tool, {}, {}, result});
    }
    request.step++;
}

// --- the request ---

TEST(OpenAiRequest, SendsSystemFirstToolsToolChoiceAndTheBearerKey) {
    FakeOpenAi server(FakeOpenAiOptions{FakeOpenAiFlavour::openai, "sk-proj-secret-1"});
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(
        config_for(server, {{"api_key", "sk-proj-secret-1"}, {"temperature", 0.2}, {"max_tokens", 300}}));
    ASSERT_NE(f.provider, nullptr);
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message << "\n" << rejections(server);

    ASSERT_EQ(server.request_count(), 1u);
    const auto request = server.requests()[0];
    EXPECT_EQ(request.path, "/v1/chat/completions");
    EXPECT_EQ(request.header("authorization"), "Bearer sk-proj-secret-1");
    EXPECT_EQ(request.header("content-type").rfind("application/json", 0), 0u);
    const auto& body = body_of(server, 0);
    EXPECT_EQ(body.at("model"), "gpt-4o-mini");
    const auto& messages = body.at("messages").as_array();
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].at("role"), "system");
    EXPECT_EQ(messages[0].at("content"), "Sen Gece Butik'in asistanı Ece'sin. Fiyatları TL olarak söyle.");
    EXPECT_EQ(messages[1].at("role"), "user");
    EXPECT_EQ(messages[1].at("content"), "Saten gecelik ne kadar?");
    const auto& tools = body.at("tools").as_array();
    ASSERT_EQ(tools.size(), 2u);
    EXPECT_EQ(tools[0].at("type"), "function");
    EXPECT_EQ(tools[0].at("function").at("name"), "get_product_info");
    EXPECT_EQ(tools[0].at("function").at("description"), "Price, stock and details of a product");
    EXPECT_EQ(tools[0].at("function").at("parameters").at("required").as_array()[0], "product");
    EXPECT_EQ(body.at("tool_choice"), "auto");
    EXPECT_EQ(body.at("temperature").to_number<double>(), 0.2);
    EXPECT_EQ(body.at("max_tokens").to_number<int>(), 300);
    EXPECT_FALSE(body.contains("stream"));
    EXPECT_TRUE(server.rejections().empty()) << rejections(server);
}

TEST(OpenAiRequest, NoKeyNoAuthorizationHeaderAndOmitLeavesToolChoiceOut) {
    FakeOpenAi server(FakeOpenAiFlavour::ollama);
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    auto config =
        config_for(server, {{"tool_choice", "omit"}, {"headers", json::object{{"X-Shop", "gece-butik"}}}});
    config.erase("api_key");
    Fixture f(config);
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    const auto request = server.requests().at(0);
    EXPECT_EQ(request.header("authorization"), "");
    EXPECT_EQ(request.header("x-shop"), "gece-butik");
    const auto& body = body_of(server, 0);
    EXPECT_TRUE(body.contains("tools"));
    EXPECT_FALSE(body.contains("tool_choice"));
}

TEST(OpenAiRequest, NoToolsNoToolChoiceAndTrailingSlashIsStripped) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(config_for(server, {{"base_url", server.base_url() + "/"}, {"tool_choice", "required"}}));
    auto r = f.complete(question("merhaba", false));
    ASSERT_TRUE(r) << r.error().message << "\n" << rejections(server);
    EXPECT_EQ(server.requests().at(0).path, "/v1/chat/completions");
    EXPECT_FALSE(body_of(server, 0).contains("tools"));
    EXPECT_FALSE(body_of(server, 0).contains("tool_choice"));
}

TEST(OpenAiRequest, ToolChoiceRequiredIsSentAsIs) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(config_for(server, {{"tool_choice", "required"}}));
    ASSERT_TRUE(f.complete(question()));
    EXPECT_EQ(body_of(server, 0).at("tool_choice"), "required");
}

TEST(OpenAiRequest, WrongKeyIsUnauthorizedAndTheKeyIsNeverInTheMessage) {
    FakeOpenAi server(FakeOpenAiOptions{FakeOpenAiFlavour::openai, "sk-proj-right-key"});
    Fixture f(config_for(server, {{"api_key", "sk-proj-wrong-key-123456"}}));
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "unauthorized");
    EXPECT_NE(r.error().message.find("openai: 401"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("sk-proj-wrong-key-123456"), std::string::npos) << r.error().message;
    EXPECT_EQ(server.request_count(), 1u);  // a refused key is not retried
}

TEST(OpenAiRequest, AKeyEchoedByTheServerIsRedacted) {
    FakeOpenAi server;
    const std::string key = "sk-echoed-" + fresh_key();
    server.push_back(FakeOpenAiBehaviour::error(400, "invalid_request_error",
                                                "the key " + key + " cannot use this model"));
    Fixture f(config_for(server, {{"api_key", key}}));
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.find(key), std::string::npos) << r.error().message;
    EXPECT_FALSE(f.host.log.contains(key));
}

// --- whole answers ---

TEST(OpenAiAnswer, TextWithUsage) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::answer("Saten Gecelik Siyah 299,99 TL."));
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->text, "Saten Gecelik Siyah 299,99 TL.");
    EXPECT_TRUE(r->tool_calls.empty());
    EXPECT_EQ(r->method, "llm");
    EXPECT_FALSE(r->usage.estimated);
    EXPECT_GT(r->usage.input_tokens, 0);
    EXPECT_GT(r->usage.output_tokens, 0);
    EXPECT_GE(r->confidence, 0.7);
}

TEST(OpenAiAnswer, MissingUsageIsEstimated) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba, nasıl yardımcı olabilirim?").without_usage());
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->usage.estimated);
    EXPECT_GT(r->usage.input_tokens, 0);
    EXPECT_GT(r->usage.output_tokens, 0);
}

TEST(OpenAiAnswer, CutOffAnswerHasLowerConfidence) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::answer("Saten gecelik fiyatı").finish("length"));
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_LT(r->confidence, 0.7);
}

TEST(OpenAiAnswer, SingleToolCallWithArgumentsParsedFromTheString) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::tool_calls(
        {{"get_product_info", R"({"product": "saten gecelik"})", "call_abc123"}}));
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->tool_calls.size(), 1u);
    EXPECT_EQ(r->tool_calls[0].id, "call_abc123");
    EXPECT_EQ(r->tool_calls[0].name, "get_product_info");
    EXPECT_EQ(r->tool_calls[0].arguments.at("product"), "saten gecelik");
}

TEST(OpenAiAnswer, ParallelToolCalls) {
    FakeOpenAi server;
    server.push_back(
        FakeOpenAiBehaviour::tool_calls({{"get_product_info", R"({"product": "saten gecelik"})", ""},
                                         {"get_general_info", R"({"info_type": "kargo"})", ""}}));
    Fixture f(config_for(server));
    auto r = f.complete(question("Saten gecelik ne kadar, kargo ücretli mi?"));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->tool_calls.size(), 2u);
    EXPECT_EQ(r->tool_calls[0].name, "get_product_info");
    EXPECT_EQ(r->tool_calls[0].arguments.at("product"), "saten gecelik");
    EXPECT_EQ(r->tool_calls[1].name, "get_general_info");
    EXPECT_EQ(r->tool_calls[1].arguments.at("info_type"), "kargo");
    EXPECT_FALSE(r->tool_calls[0].id.empty());
    EXPECT_NE(r->tool_calls[0].id, r->tool_calls[1].id);
}

TEST(OpenAiAnswer, ArgumentsThatAreNotAnObjectAreFlaggedAndEmptyOnesAreEmpty) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::tool_calls({{"get_product_info", R"({"product": "saten)", "call_1"},
                                                      {"get_general_info", "", "call_2"},
                                                      {"get_product_info", "[1, 2]", "call_3"}}));
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->tool_calls.size(), 3u);
    EXPECT_EQ(r->tool_calls[0].arguments.at(sdk::llm::kInvalidArguments), R"({"product": "saten)");
    EXPECT_TRUE(r->tool_calls[1].arguments.empty());
    EXPECT_EQ(r->tool_calls[2].arguments.at(sdk::llm::kInvalidArguments), "[1, 2]");
}

TEST(OpenAiAnswer, AFullToolRoundSendsStringArgumentsAndToolMessages) {
    FakeOpenAi server;  // automatic: the fake model calls get_product_info, then answers from it
    Fixture f(config_for(server));
    auto request = question();
    auto first = f.complete(request);
    ASSERT_TRUE(first) << first.error().message << "\n" << rejections(server);
    ASSERT_EQ(first->tool_calls.size(), 1u);
    EXPECT_EQ(first->tool_calls[0].name, "get_product_info");
    EXPECT_EQ(first->tool_calls[0].arguments.at("product"), "Saten gecelik ne kadar?");
    answer_tools(request, *first);
    auto second = f.complete(request);
    ASSERT_TRUE(second) << second.error().message << "\n" << rejections(server);
    EXPECT_TRUE(second->tool_calls.empty());
    EXPECT_NE(second->text.find("Saten Gecelik Siyah"), std::string::npos) << second->text;
    EXPECT_GE(second->confidence, 0.8);  // rests on a tool's answer

    const auto& body = body_of(server, 1);
    const auto& messages = body.at("messages").as_array();
    ASSERT_EQ(messages.size(), 4u);
    const auto& assistant = messages[2].as_object();
    EXPECT_EQ(assistant.at("role"), "assistant");
    EXPECT_TRUE(assistant.at("content").is_null());
    const auto& call = assistant.at("tool_calls").as_array().at(0);
    EXPECT_EQ(call.at("id"), json::value(first->tool_calls[0].id));
    EXPECT_EQ(call.at("type"), "function");
    ASSERT_TRUE(call.at("function").at("arguments").is_string());
    EXPECT_EQ(json::parse(call.at("function").at("arguments").as_string()).at("product"),
              "Saten gecelik ne kadar?");
    const auto& tool = messages[3].as_object();
    EXPECT_EQ(tool.at("role"), "tool");
    EXPECT_EQ(tool.at("tool_call_id"), json::value(first->tool_calls[0].id));
    ASSERT_TRUE(tool.at("content").is_string());
    EXPECT_EQ(json::parse(tool.at("content").as_string()).at("product").at("name"), "Saten Gecelik Siyah");
    EXPECT_TRUE(server.rejections().empty()) << rejections(server);
}

TEST(OpenAiAnswer, AFailedToolGoesBackAsAnErrorObject) {
    FakeOpenAi server;
    server.push_back(
        FakeOpenAiBehaviour::tool_calls({{"get_product_info", R"({"product": "ipek"})", "call_x"}}));
    server.push_back(FakeOpenAiBehaviour::answer("Maalesef bulamadım."));
    Fixture f(config_for(server));
    auto request = question();
    auto first = f.complete(request);
    ASSERT_TRUE(first) << first.error().message;
    request.messages.push_back({sdk::Role::assistant, "", first->tool_calls, {}});
    request.messages.push_back(
        {sdk::Role::tool,
         {},
         {},
         sdk::ToolResult{"call_x", "get_product_info", false, nullptr, "no such product", 1}});
    auto second = f.complete(request);
    ASSERT_TRUE(second) << second.error().message << "\n" << rejections(server);
    const auto& tool = body_of(server, 1).at("messages").as_array().at(3);
    EXPECT_EQ(json::parse(tool.at("content").as_string()), json::parse(R"({"error": "no such product"})"));
}

// --- streaming ---

TEST(OpenAiStream, TextDeltasArriveInOrderAndMakeTheAnswer) {
    FakeOpenAi server;  // openai flavour: usage: null on chunks, "obfuscation", a usage chunk
    const std::string text = "Saten Gecelik Siyah 299,99 TL, stokta 5 adet var. İyi günler!";
    server.push_back(FakeOpenAiBehaviour::answer(text));
    Fixture f(config_for(server));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message << "\n" << rejections(server);
    EXPECT_GT(sink.deltas.size(), 5u);
    EXPECT_EQ(sink.deltas.front(), "Saten ");
    EXPECT_EQ(sink.joined(), text);
    EXPECT_EQ(r->text, text);
    EXPECT_FALSE(r->usage.estimated);  // from the usage chunk
    EXPECT_GT(r->usage.input_tokens, 0);
    const auto& body = body_of(server, 0);
    EXPECT_EQ(body.at("stream"), true);
    EXPECT_EQ(body.at("stream_options").at("include_usage"), true);
    EXPECT_EQ(server.requests()[0].header("accept"), "text/event-stream");
}

TEST(OpenAiStream, ToolCallsAreReassembledFromInterleavedFragments) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::tool_calls(
        {{"get_product_info", R"({"product": "saten gecelik ğüşıöç"})", "call_one"},
         {"get_general_info", R"({"info_type": "kargo"})", "call_two"}}));
    Fixture f(config_for(server));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->tool_calls.size(), 2u);
    EXPECT_EQ(r->tool_calls[0].id, "call_one");
    EXPECT_EQ(r->tool_calls[0].name, "get_product_info");
    EXPECT_EQ(r->tool_calls[0].arguments.at("product"), "saten gecelik ğüşıöç");
    EXPECT_EQ(r->tool_calls[1].id, "call_two");
    EXPECT_EQ(r->tool_calls[1].arguments.at("info_type"), "kargo");
    EXPECT_EQ(sink.joined(), "");
}

TEST(OpenAiStream, MissingUsageChunkIsEstimated) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!").without_usage());
    Fixture f(config_for(server));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->text, "Merhaba!");
    EXPECT_TRUE(r->usage.estimated);
    EXPECT_GT(r->usage.input_tokens, 0);
}

TEST(OpenAiStream, StreamUsageFalseSendsNoStreamOptions) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(config_for(server, {{"stream_usage", false}}));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(body_of(server, 0).contains("stream_options"));
    EXPECT_TRUE(r->usage.estimated);  // nothing asked, nothing sent
}

TEST(OpenAiStream, UnknownFieldsCrlfAndCommentsAreIgnored) {
    // Raw bytes as a server might send them: fields this client never heard of at every level,
    // CRLF line ends, a keep-alive comment, and one event split across two TCP writes.
    tezgah::testing::FakeHttpServer raw([](const tezgah::testing::RecordedRequest&,
                                           tezgah::testing::FakeReply& reply) {
        reply.status(200);
        reply.content_type("text/event-stream");
        reply.chunk(": keep-alive\r\n\r\n");
        reply.chunk(
            "data: "
            "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
            "\"obfuscation\":\"xyz\","
            "\"new_top_level\":{\"a\":[1,2]},\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
            "\"content\":\"Mer\","
            "\"reasoning_content\":\"thinking\",\"annotations\":[]},\"logprobs\":null,\"finish_reason\":null,"
            "\"extra\":1}],"
            "\"usage\":null}\r\n\r\n");
        reply.chunk("data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"haba\"},\"fin");
        reply.chunk("ish_reason\":\"stop\"}],\"usage\":null}\r\n\r\n");
        reply.chunk(
            "data: "
            "{\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_"
            "tokens\":13,"
            "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"future_field\":7}}}\r\n\r\n");
        reply.chunk("data: [DONE]\r\n\r\n");
    });
    json::object config{{"base_url", raw.url() + "/v1"}, {"model", "m"}, {"api_key", fresh_key()}};
    Fixture f(config);
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->text, "Merhaba");
    EXPECT_EQ(sink.deltas, (std::vector<std::string>{"Mer", "haba"}));
    EXPECT_EQ(r->usage.input_tokens, 11);
    EXPECT_EQ(r->usage.output_tokens, 2);
    EXPECT_FALSE(r->usage.estimated);
}

TEST(OpenAiStream, AServerThatAnswersWholeStillReachesTheSink) {
    tezgah::testing::FakeHttpServer raw([](const tezgah::testing::RecordedRequest&,
                                           tezgah::testing::FakeReply& reply) {
        reply.status(200);
        reply.content_type("application/json");
        reply.body(
            R"({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Merhaba!"}, "finish_reason": "stop"}]})");
    });
    Fixture f(json::object{{"base_url", raw.url() + "/v1"}, {"model", "m"}, {"api_key", fresh_key()}});
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(sink.joined(), "Merhaba!");
    EXPECT_TRUE(r->usage.estimated);
}

TEST(OpenAiStream, DroppedMidStreamIsAnError) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::drop("Saten gecelik fiyatı"));
    Fixture f(config_for(server));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "unavailable");
    EXPECT_NE(r.error().message.find("stream ended early"), std::string::npos) << r.error().message;
    EXPECT_EQ(server.request_count(), 1u);  // text already reached the customer: no second try
}

TEST(OpenAiStream, AnErrorEventIsAnError) {
    FakeOpenAi server;
    server.push_back(
        FakeOpenAiBehaviour::stream_error("The server had an error while processing your request."));
    Fixture f(config_for(server));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "unavailable");
    EXPECT_NE(r.error().message.find("server_error: The server had an error"), std::string::npos)
        << r.error().message;
}

TEST(OpenAiStream, MalformedChunkIsABadResponse) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::malformed());
    Fixture f(config_for(server));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "bad_response");
}

TEST(OpenAiStream, ARateLimitBeforeTheStreamIsRetried) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::error(429, "requests", "Rate limit reached for gpt-4o-mini",
                                                "rate_limit_exceeded")
                         .header("retry-after-ms", "50"));
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(config_for(server));
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(sink.joined(), "Merhaba!");
    EXPECT_EQ(server.request_count(), 2u);
}

// --- compatible servers ---

class Flavours : public ::testing::TestWithParam<std::tuple<FakeOpenAiFlavour, bool>> {};

TEST_P(Flavours, AnswerAToolRound) {
    const auto [flavour, streaming] = GetParam();
    FakeOpenAi server(flavour);
    json::object extra;
    if (flavour == FakeOpenAiFlavour::ollama) extra["tool_choice"] = "omit";
    Fixture f(config_for(server, extra));
    RecordingSink sink;
    auto request = question();
    auto first = f.complete(request, streaming ? &sink : nullptr);
    ASSERT_TRUE(first) << first.error().message << "\n" << rejections(server);
    ASSERT_EQ(first->tool_calls.size(), 1u);
    EXPECT_EQ(first->tool_calls[0].name, "get_product_info");
    EXPECT_FALSE(first->tool_calls[0].id.empty());  // llama.cpp sends none: the plugin makes one
    EXPECT_EQ(first->tool_calls[0].arguments.at("product"), "Saten gecelik ne kadar?");
    answer_tools(request, *first);
    auto second = f.complete(request, streaming ? &sink : nullptr);
    ASSERT_TRUE(second) << second.error().message << "\n" << rejections(server);
    EXPECT_NE(second->text.find("Saten Gecelik Siyah:"), std::string::npos) << second->text;
    EXPECT_NE(second->text.find("stok: 5"), std::string::npos) << second->text;
    if (streaming) {
        EXPECT_EQ(sink.joined(), second->text);
    }
    EXPECT_TRUE(server.rejections().empty()) << rejections(server);
}

INSTANTIATE_TEST_SUITE_P(
    Servers, Flavours,
    ::testing::Combine(::testing::Values(FakeOpenAiFlavour::openai, FakeOpenAiFlavour::ollama,
                                         FakeOpenAiFlavour::vllm, FakeOpenAiFlavour::llamacpp),
                       ::testing::Bool()),
    [](const auto& info) {
        return std::string(tezgah::testing::to_string(std::get<0>(info.param))) +
               (std::get<1>(info.param) ? "Streaming" : "Whole");
    });

TEST(OpenAiCompatible, OllamaWholeCallsAllAtIndexZeroStayApart) {
    FakeOpenAi server(FakeOpenAiFlavour::ollama);
    server.push_back(
        FakeOpenAiBehaviour::tool_calls({{"get_product_info", R"({"product": "saten gecelik"})", ""},
                                         {"get_general_info", R"({"info_type": "kargo"})", ""}}));
    auto config = config_for(server, {{"tool_choice", "omit"}});
    config.erase("api_key");
    Fixture f(config);
    RecordingSink sink;
    auto r = f.complete(question(), &sink);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->tool_calls.size(), 2u);
    EXPECT_EQ(r->tool_calls[0].arguments.at("product"), "saten gecelik");
    EXPECT_EQ(r->tool_calls[1].arguments.at("info_type"), "kargo");
    EXPECT_NE(r->tool_calls[0].id, r->tool_calls[1].id);
}

TEST(OpenAiCompatible, VllmWithoutAutoToolChoiceIsABadRequest) {
    FakeOpenAiOptions options;
    options.flavour = FakeOpenAiFlavour::vllm;
    options.vllm_auto_tool_choice = false;
    FakeOpenAi server(options);
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "bad_request");
    EXPECT_NE(r.error().message.find("--enable-auto-tool-choice"), std::string::npos) << r.error().message;
    EXPECT_EQ(server.request_count(), 1u);
}

TEST(OpenAiCompatible, LlamaCppWithoutJinjaRefusesTools) {
    FakeOpenAiOptions options;
    options.flavour = FakeOpenAiFlavour::llamacpp;
    options.llamacpp_jinja = false;
    FakeOpenAi server(options);
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "bad_request");
    EXPECT_NE(r.error().message.find("--jinja"), std::string::npos) << r.error().message;
}

// --- errors, retries, the breaker ---

TEST(OpenAiErrors, RateLimitedWithRetryAfterThenSuccess) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::error(429, "requests", "Rate limit reached for gpt-4o-mini",
                                                "rate_limit_exceeded")
                         .retry_after("1"));
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(config_for(server));
    const auto started = Clock::now();
    auto r = f.complete(question());
    const auto waited = Clock::now() - started;
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->text, "Merhaba!");
    EXPECT_EQ(server.request_count(), 2u);
    EXPECT_GE(waited, milliseconds(950));  // the server's Retry-After was honoured
}

TEST(OpenAiErrors, RetryAfterLongerThanTheDeadlineGivesUpAtOnce) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::error(429, "requests", "Rate limit reached", "rate_limit_exceeded")
                         .retry_after("120"));
    Fixture f(config_for(server));
    auto request = question();
    request.deadline = Clock::now() + std::chrono::seconds(20);
    const auto started = Clock::now();
    auto r = f.complete(request);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "rate_limited");
    EXPECT_NE(r.error().message.find("openai: 429 requests: Rate limit reached"), std::string::npos)
        << r.error().message;
    EXPECT_EQ(server.request_count(), 1u);
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(20));  // did not sit out the 120 s
}

TEST(OpenAiErrors, ServerErrorThenSuccess) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::error(500, "server_error",
                                                "The server had an error while processing your request."));
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(server.request_count(), 2u);
}

TEST(OpenAiErrors, ServerErrorsUntilTheRetriesRunOutAreUnavailable) {
    FakeOpenAi server;
    for (int i = 0; i < 3; ++i)
        server.push_back(FakeOpenAiBehaviour::error(503, "server_error", "Overloaded"));
    Fixture f(config_for(server, {{"max_retries", 2}}));
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "unavailable");
    EXPECT_NE(r.error().message.find("openai: 503 server_error: Overloaded"), std::string::npos)
        << r.error().message;
    EXPECT_EQ(server.request_count(), 3u);
}

TEST(OpenAiErrors, BadRequestIsNotRetried) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::error(400, "invalid_request_error",
                                                "Invalid value for 'model': 'gpt-9'.", "model_not_found"));
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "bad_request");
    EXPECT_EQ(r.error().message, "openai: 400 invalid_request_error: Invalid value for 'model': 'gpt-9'.");
    EXPECT_EQ(server.request_count(), 1u);
}

TEST(OpenAiErrors, NotFoundAndUnprocessableAreBadRequests) {
    for (int status : {404, 422}) {
        FakeOpenAi server;
        server.push_back(FakeOpenAiBehaviour::error(status, "invalid_request_error", "nope"));
        Fixture f(config_for(server));
        auto r = f.complete(question());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, "bad_request") << status;
        EXPECT_EQ(server.request_count(), 1u);
    }
}

TEST(OpenAiErrors, MalformedJsonIsABadResponse) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::malformed());
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "bad_response");
    EXPECT_NE(r.error().message.find("openai:"), std::string::npos);
}

TEST(OpenAiErrors, AStallTimesOut) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::stall(std::chrono::seconds(30)));
    Fixture f(config_for(server, {{"timeout_ms", 500}, {"max_retries", 0}}));
    const auto started = Clock::now();
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "timeout");
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(25));  // bounded by timeout_ms, not the stall
}

TEST(OpenAiErrors, AStallIsBoundedByTheTurnsDeadline) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::stall(std::chrono::seconds(30)));
    server.push_back(FakeOpenAiBehaviour::stall(std::chrono::seconds(30)));
    Fixture f(config_for(server, {{"timeout_ms", 60000}, {"max_retries", 1}}));
    auto request = question();
    request.deadline = Clock::now() + milliseconds(800);
    const auto started = Clock::now();
    auto r = f.complete(request);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == "timeout" || r.error().code == "deadline_exceeded") << r.error().code;
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(25));
}

TEST(OpenAiErrors, ADroppedConnectionBeforeTheAnswerIsRetried) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::drop());
    server.push_back(FakeOpenAiBehaviour::answer("Merhaba!"));
    Fixture f(config_for(server));
    auto r = f.complete(question());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(server.request_count(), 2u);
}

TEST(OpenAiErrors, TheBreakerOpensAndThenRefusesWithoutARequest) {
    FakeOpenAi server;
    for (int i = 0; i < 2; ++i) server.push_back(FakeOpenAiBehaviour::error(500, "server_error", "down"));
    Fixture f(
        config_for(server, {{"max_retries", 0}, {"breaker_failures", 2}, {"breaker_cooldown_ms", 60000}}));
    EXPECT_EQ(f.complete(question()).error().code, "unavailable");
    EXPECT_EQ(f.complete(question()).error().code, "unavailable");
    auto r = f.complete(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "circuit_open");
    EXPECT_EQ(server.request_count(), 2u);
}

TEST(OpenAiErrors, TheBreakerIsSharedByInstancesWithTheSameServerAndKey) {
    FakeOpenAi server;
    server.push_back(FakeOpenAiBehaviour::error(401, "invalid_request_error", "Incorrect API key provided",
                                                "invalid_api_key"));
    auto config =
        config_for(server, {{"max_retries", 0}, {"breaker_failures", 1}, {"breaker_cooldown_ms", 60000}});
    Fixture a(config);
    Fixture b(config);
    EXPECT_EQ(a.complete(question()).error().code, "unauthorized");
    EXPECT_EQ(b.complete(question()).error().code, "circuit_open");
    EXPECT_EQ(server.request_count(), 1u);
}

// --- configuration ---

TEST(OpenAiConfig, ModelIsRequiredAndValuesAreChecked) {
    sdk::testing::FakeHost host;
    EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, host, json::object{{"api_key", "k"}}),
              nullptr);
    EXPECT_TRUE(host.log.contains("model")) << host.log.lines.size();
    for (const auto& bad : {json::object{{"model", "m"}, {"tool_choice", "sometimes"}},
                            json::object{{"model", "m"}, {"base_url", "ftp://x"}},
                            json::object{{"model", "m"}, {"timeout_ms", "fast"}},
                            json::object{{"model", "m"}, {"temperature", 3}},
                            json::object{{"model", "m"}, {"headers", json::object{{"X-A", 1}}}}}) {
        sdk::testing::FakeHost h;
        EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, h, bad), nullptr)
            << json::serialize(bad);
    }
    EXPECT_NE(sdk::testing::instantiate(tezgah_plugin_descriptor, host, json::object{{"model", "m"}}),
              nullptr);
}

TEST(OpenAiConfig, DescriptorDeclaresTheKeys) {
    EXPECT_STREQ(tezgah_plugin_descriptor.name, "openai");
    EXPECT_EQ(tezgah_plugin_descriptor.kind, sdk::PluginKind::llm);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < tezgah_plugin_descriptor.config_key_count; ++i)
        names.emplace_back(tezgah_plugin_descriptor.config_keys[i].name);
    EXPECT_EQ(names, (std::vector<std::string>{"base_url", "api_key", "model", "timeout_ms", "max_retries",
                                               "temperature", "max_tokens", "tool_choice", "stream_usage",
                                               "headers", "breaker_failures", "breaker_cooldown_ms"}));
}

}  // namespace
