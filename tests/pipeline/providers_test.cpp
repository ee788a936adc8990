// The fixture tenants on real language-model plugins (llm-gemini, llm-openai), pointed through
// `llm.base_url` at fake Gemini and OpenAI servers on loopback: tool calls, streaming, every
// failure ending in an answer, the deadline, budgets, the response cache, costs and handoff.
#include "support/engine_fixture.hpp"
#include "support/fake_gemini.hpp"
#include "support/fake_openai.hpp"

#include "ops/metrics.hpp"

#include <tezgah/sdk/llm.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

/// Records what a streaming client receives, reset events included.
class RecordingStream : public engine::TurnStream {
public:
    void on_text(std::string_view delta) override {
        std::lock_guard lock(mutex);
        events.push_back("delta:" + std::string(delta));
        text += delta;
    }
    void on_reset() override {
        std::lock_guard lock(mutex);
        events.push_back("reset");
        text.clear();
    }
    std::mutex mutex;
    std::vector<std::string> events;
    std::string text;  ///< what the client shows: the deltas since the last reset
};

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

bool called(const sdk::TurnReply& reply, const std::string& tool) {
    for (const auto& c : reply.tool_calls)
        if (c.name == tool && c.ok) return true;
    return false;
}

class ProvidersTest : public EngineFixture {
protected:
    /// Points `tenant` at a provider: `llm` replaced by `llm` (fallbacks and settings included).
    void set_llm(const std::string& tenant, json::object llm) {
        edit_json(dir.path() / "tenants" / tenant / "tenant.json",
                  [&](json::value& v) { v.as_object()["llm"] = std::move(llm); });
    }
    json::object gemini_llm(const FakeGemini& fake) {
        return {{"provider", "gemini"},
                {"api_key", "test-key"},
                {"base_url", fake.base_url()},
                {"model", "gemini-2.0-flash"},
                {"max_retries", 1}};
    }
    json::object openai_llm(const FakeOpenAi& fake) {
        return {{"provider", "openai"},
                {"api_key", "test-key"},
                {"base_url", fake.base_url()},
                {"model", "gpt-4o-mini"},
                {"max_retries", 1}};
    }
    /// The price of "saten gecelik" in the catalog, as a number (answers quote it as 299,99 or 299.99).
    double saten_price(engine::Engine& e) {
        auto tenant = e.tenant("gece-butik");
        EXPECT_TRUE(tenant.ok());
        auto match = (*tenant)->catalog().find("saten gecelik", "tr", 1);
        EXPECT_FALSE(match.empty());
        return match.empty() ? 0.0 : match[0].offering.price;
    }
    static bool quotes(const std::string& text, double price) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f", price);
        std::string dot = buf, comma = buf;
        comma[comma.find('.')] = ',';
        auto whole = std::to_string(static_cast<long long>(price));
        if (price == static_cast<double>(static_cast<long long>(price)) && contains(text, whole)) return true;
        return contains(text, dot) || contains(text, comma) ||
               contains(text, json::serialize(json::value(price)));
    }

    sdk::TurnReply ask_streamed(engine::Engine& e, const std::string& tenant, const std::string& user,
                                const std::string& text, RecordingStream& stream) {
        auto r = e.handle(msg(tenant, user, text), &stream);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? r.value() : sdk::TurnReply{};
    }
};

// --- answers through tool calls, both providers, streamed and not ---

TEST_F(ProvidersTest, GeminiAnswersPriceStockAndPolicyThroughToolCalls) {
    FakeGemini fake;
    set_llm("gece-butik", gemini_llm(fake));
    auto e = start();
    const auto price = saten_price(*e);

    auto reply = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar, stokta var mı?");
    EXPECT_EQ(reply.method, "llm");
    EXPECT_TRUE(called(reply, "get_product_info"));
    EXPECT_TRUE(quotes(reply.reply, price)) << reply.reply;
    EXPECT_TRUE(contains(reply.reply, "stok")) << reply.reply;
    EXPECT_GT(reply.usage.input_tokens, 0);

    auto policy = ask(*e, "gece-butik", "u2", "iade koşulları neler?");
    EXPECT_EQ(policy.method, "llm");
    EXPECT_TRUE(called(policy, "get_general_info"));
    EXPECT_TRUE(contains(policy.reply, "14 gün")) << policy.reply;
    EXPECT_TRUE(fake.refusals().empty()) << fake.refusals().front();
    // Two calls a turn: the function call, then the answer with the function's response.
    EXPECT_EQ(fake.request_count(), 4u);
}

TEST_F(ProvidersTest, GeminiStreamsTheAnswer) {
    FakeGemini fake;
    set_llm("gece-butik", gemini_llm(fake));
    auto e = start();
    RecordingStream stream;
    auto reply = ask_streamed(*e, "gece-butik", "u1", "saten gecelik ne kadar?", stream);
    EXPECT_EQ(reply.method, "llm");
    EXPECT_TRUE(called(reply, "get_product_info"));
    EXPECT_EQ(stream.text, reply.reply);
    EXPECT_GT(stream.events.size(), 1u);  // in pieces, as produced
    EXPECT_TRUE(contains(fake.requests().back().path, ":streamGenerateContent"));
    EXPECT_TRUE(fake.refusals().empty()) << fake.refusals().front();
}

TEST_F(ProvidersTest, OpenAiAnswersPriceStockAndPolicyThroughToolCalls) {
    FakeOpenAi fake;
    set_llm("gece-butik", openai_llm(fake));
    auto e = start();
    const auto price = saten_price(*e);

    auto reply = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar, stokta var mı?");
    EXPECT_EQ(reply.method, "llm");
    EXPECT_TRUE(called(reply, "get_product_info"));
    EXPECT_TRUE(quotes(reply.reply, price)) << reply.reply;

    auto policy = ask(*e, "gece-butik", "u2", "kargo ücreti ne kadar?");
    EXPECT_TRUE(called(policy, "get_general_info"));
    EXPECT_TRUE(contains(policy.reply, "500 TL")) << policy.reply;
    EXPECT_TRUE(fake.rejections().empty()) << fake.rejections().front();
    // The tool result went back as a role "tool" message answering the call's id.
    auto bodies = fake.bodies();
    ASSERT_GE(bodies.size(), 2u);
    const auto& messages = bodies[1].as_object().at("messages").as_array();
    EXPECT_EQ(messages.back().as_object().at("role").as_string(), "tool");
}

TEST_F(ProvidersTest, OpenAiStreamsAndEveryCompatibleServerAnswers) {
    for (auto flavour : {FakeOpenAiFlavour::openai, FakeOpenAiFlavour::ollama, FakeOpenAiFlavour::vllm,
                         FakeOpenAiFlavour::llamacpp}) {
        SCOPED_TRACE(to_string(flavour));
        FakeOpenAi fake(flavour);
        auto llm = openai_llm(fake);
        if (flavour == FakeOpenAiFlavour::ollama) {
            llm["tool_choice"] = "omit";
            llm.erase("api_key");
        }
        set_llm("nefes-studyo", llm);
        auto e = start();
        RecordingStream stream;
        auto reply = ask_streamed(*e, "nefes-studyo", "u1", "reformer pilates ne kadar?", stream);
        EXPECT_EQ(reply.method, "llm");
        EXPECT_TRUE(called(reply, "get_product_info"));
        EXPECT_EQ(stream.text, reply.reply);
        EXPECT_TRUE(contains(reply.reply, "Bilgi:")) << reply.reply;
        EXPECT_TRUE(fake.rejections().empty()) << fake.rejections().front();
        auto plain = ask(*e, "nefes-studyo", "u2", "otopark var mı?");
        EXPECT_EQ(plain.method, "llm");
    }
}

// --- every failure ends in an answer ---

TEST_F(ProvidersTest, EveryOpenAiFailureEndsInTheOfflineAssistantsAnswer) {
    struct Case {
        const char* name;
        std::function<void(FakeOpenAi&)> script;
    };
    const std::vector<Case> cases = {
        {"500 twice",
         [](FakeOpenAi& f) {
             f.push_back(FakeOpenAiBehaviour::error(500, "server_error", "boom"));
             f.push_back(FakeOpenAiBehaviour::error(500, "server_error", "boom"));
         }},
        {"400",
         [](FakeOpenAi& f) { f.push_back(FakeOpenAiBehaviour::error(400, "invalid_request_error", "bad")); }},
        {"401",
         [](FakeOpenAi& f) { f.push_back(FakeOpenAiBehaviour::error(401, "invalid_request_error", "key")); }},
        {"malformed", [](FakeOpenAi& f) { f.push_back(FakeOpenAiBehaviour::malformed()); }},
        {"429 for a minute",
         [](FakeOpenAi& f) {
             f.push_back(
                 FakeOpenAiBehaviour::error(429, "rate_limit_exceeded", "slow down").retry_after("60"));
         }},
        {"dropped every time",
         [](FakeOpenAi& f) {
             for (int i = 0; i < 4; ++i) f.push_back(FakeOpenAiBehaviour::drop());
         }},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        FakeOpenAi fake;
        c.script(fake);
        set_llm("gece-butik", openai_llm(fake));
        auto e = start();
        const auto started = std::chrono::steady_clock::now();
        auto reply = ask(*e, "gece-butik", std::string("u-") + c.name, "saten gecelik ne kadar?");
        EXPECT_EQ(reply.method, "fallback");
        EXPECT_TRUE(quotes(reply.reply, saten_price(*e))) << reply.reply;  // the offline assistant's answer
        EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);        // the 429 was not waited out
    }
}

TEST_F(ProvidersTest, AStalledProviderIsAbandonedAtItsShareOfTheDeadline) {
    FakeGemini fake;
    auto script = FakeGeminiScript::answer("too late");
    script.stall = 6s;
    fake.push_back(script);
    auto llm = gemini_llm(fake);
    llm["deadline_ms"] = 2000;
    llm["max_retries"] = 0;
    set_llm("gece-butik", llm);
    auto e = start();
    const auto started = std::chrono::steady_clock::now();
    auto reply = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar?");
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(reply.method, "fallback");
    EXPECT_TRUE(quotes(reply.reply, saten_price(*e))) << reply.reply;
    EXPECT_LT(took, 5s);  // the deadline is 2 s; the fake would answer after 6 s
}

TEST_F(ProvidersTest, RetriesAreCountedInTheMetrics) {
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::error(503, "server_error", "busy"));
    set_llm("gece-butik", openai_llm(fake));
    auto e = start();
    auto count = [] {
        auto text = engine::Metrics::global().render();
        const std::string series = "tezgah_provider_retries_total{provider=\"openai\"} ";
        auto at = text.find(series);
        return at == std::string::npos ? 0.0 : std::stod(text.substr(at + series.size()));
    };
    const double before = count();
    auto reply = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar?");
    EXPECT_EQ(reply.method, "llm");  // the second attempt answered
    EXPECT_EQ(count(), before + 1);
}

TEST_F(ProvidersTest, TheFallbackChainGoesGeminiThenOpenAiThenLocal) {
    FakeGemini gemini;
    gemini.push_back(FakeGeminiScript::error(503, "UNAVAILABLE", "overloaded"));
    gemini.push_back(FakeGeminiScript::error(503, "UNAVAILABLE", "overloaded"));
    FakeOpenAi openai;
    auto llm = gemini_llm(gemini);
    llm["fallback"] = json::array{openai_llm(openai), json::object{{"provider", "local"}}};
    set_llm("gece-butik", llm);
    auto e = start();
    auto reply = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar?");
    EXPECT_EQ(reply.method, "fallback");
    EXPECT_TRUE(contains(reply.reply, "Bilgi:")) << reply.reply;  // the OpenAI-compatible model answered
    EXPECT_EQ(gemini.request_count(), 2u);                        // one retry, then the next provider
    EXPECT_GE(openai.request_count(), 1u);
}

TEST_F(ProvidersTest, AStreamThatDropsMidwayIsWithdrawnAndTheFallbackAnswers) {
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::drop("Saten gecelik şu anda"));
    auto llm = openai_llm(fake);
    llm["max_retries"] = 0;
    set_llm("gece-butik", llm);
    auto e = start();
    RecordingStream stream;
    auto reply = ask_streamed(*e, "gece-butik", "u1", "saten gecelik ne kadar?", stream);
    EXPECT_EQ(reply.method, "fallback");
    EXPECT_EQ(stream.text, reply.reply);  // what the client shows is the final answer only
    bool reset = std::find(stream.events.begin(), stream.events.end(), "reset") != stream.events.end();
    EXPECT_TRUE(reset);
}

TEST_F(ProvidersTest, AnInvalidToolCallGoesBackOnceThenTheTurnFallsBack) {
    {
        FakeOpenAi fake;
        fake.push_back(
            FakeOpenAiBehaviour::tool_calls({{"get_product_info", R"({"colour": "red"})", "call_1"}}));
        fake.push_back(FakeOpenAiBehaviour::tool_calls(
            {{"get_product_info", R"({"product": "saten gecelik"})", "call_2"}}));
        set_llm("gece-butik", openai_llm(fake));
        auto e = start();
        auto reply = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar?");
        // The error went back to the model, which then called the tool properly.
        EXPECT_EQ(reply.method, "llm");
        auto bodies = fake.bodies();
        ASSERT_GE(bodies.size(), 2u);
        auto second = json::serialize(bodies[1]);
        EXPECT_TRUE(contains(second, "invalid arguments")) << second;
        EXPECT_TRUE(called(reply, "get_product_info"));
    }
    {
        FakeOpenAi fake;
        fake.push_back(
            FakeOpenAiBehaviour::tool_calls({{"get_product_info", R"({"colour": "red"})", "call_1"}}));
        fake.push_back(FakeOpenAiBehaviour::tool_calls({{"get_product_info", "not json", "call_2"}}));
        set_llm("gece-butik", openai_llm(fake));
        auto e = start();
        auto reply = ask(*e, "gece-butik", "u2", "saten gecelik ne kadar?");
        EXPECT_EQ(reply.method, "fallback");
        EXPECT_TRUE(quotes(reply.reply, saten_price(*e))) << reply.reply;
        EXPECT_EQ(fake.request_count(), 2u);
    }
}

// --- costs, budgets and the cache ---

TEST_F(ProvidersTest, UsageAndCostAreRecordedPerProviderCall) {
    FakeOpenAi fake;
    set_llm("gece-butik", openai_llm(fake));
    auto e = start();
    auto reply = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar?");
    EXPECT_GT(reply.usage.input_tokens, 0);
    EXPECT_GT(reply.usage.output_tokens, 0);
    EXPECT_GT(reply.cost_usd, 0.0);  // gpt-4o-mini is in the default price table
    auto spent = e->database().spent_usd("gece-butik", std::chrono::system_clock::now() - 24h,
                                         std::chrono::system_clock::now() + 24h);
    ASSERT_TRUE(spent.ok());
    EXPECT_NEAR(*spent, reply.cost_usd, 1e-9);
}

TEST_F(ProvidersTest, ABudgetStopsSpendingAtTheLimit) {
    struct Case {
        const char* on_exceed;
        const char* tenant;
        const char* question;
        const char* phone;
    };
    // One tenant each: spending is per tenant, and both engines share the database.
    for (const auto& c :
         {Case{"fallback", "gece-butik", "saten gecelik ne kadar?", ""},
          Case{"refuse", "nefes-studyo", "reformer pilates ne kadar?", "+90 212 444 02 02"}}) {
        SCOPED_TRACE(c.on_exceed);
        FakeOpenAi fake;
        auto llm = openai_llm(fake);
        llm["budget"] = json::object{{"daily_usd", 0.0000001}, {"on_exceed", c.on_exceed}};
        llm["cache"] = json::object{{"ttl_s", 0}};
        set_llm(c.tenant, llm);
        auto e = start();
        auto first = ask(*e, c.tenant, "a", c.question);
        EXPECT_EQ(first.method, "llm");
        EXPECT_GT(first.cost_usd, 0.0);
        const auto calls = fake.request_count();
        auto second = ask(*e, c.tenant, "b", c.question);
        EXPECT_EQ(fake.request_count(), calls);  // nothing more was spent
        EXPECT_EQ(second.method, "fallback");
        EXPECT_EQ(second.cost_usd, 0.0);
        if (std::string(c.on_exceed) == "fallback")
            EXPECT_TRUE(quotes(second.reply, saten_price(*e))) << second.reply;  // the offline assistant
        else
            EXPECT_TRUE(contains(second.reply, c.phone)) << second.reply;  // the polite refusal
    }
}

TEST_F(ProvidersTest, TheSameFirstQuestionIsAnsweredFromCacheUntilTheCatalogChanges) {
    FakeOpenAi fake;
    set_llm("gece-butik", openai_llm(fake));
    auto e = start();
    auto first = ask(*e, "gece-butik", "u1", "Saten gecelik ne kadar?");
    EXPECT_EQ(first.method, "llm");
    const auto calls = fake.request_count();
    auto second = ask(*e, "gece-butik", "u2", "saten gecelik ne kadar");
    EXPECT_EQ(second.method, "cache");
    EXPECT_EQ(second.reply, first.reply);
    EXPECT_EQ(fake.request_count(), calls);

    // An edit of the catalog: the next same question goes to the model again.
    auto offerings = dir.path() / "tenants" / "gece-butik" / "data" / "offerings.json";
    edit_json(offerings, [](json::value& v) { v.as_array()[0].as_object()["price"] = 1234.5; });
    e->reload_all();
    auto third = ask(*e, "gece-butik", "u3", "saten gecelik ne kadar?");
    EXPECT_EQ(third.method, "llm");
    EXPECT_GT(fake.request_count(), calls);
}

TEST_F(ProvidersTest, AFailureIsRememberedBriefly) {
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::error(400, "invalid_request_error", "bad"));
    set_llm("gece-butik", openai_llm(fake));
    auto e = start();
    auto first = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar?");
    EXPECT_EQ(first.method, "fallback");
    auto second = ask(*e, "gece-butik", "u2", "saten gecelik ne kadar?");
    EXPECT_EQ(second.method, "cache");
    EXPECT_EQ(second.reply, first.reply);
    EXPECT_EQ(fake.request_count(), 1u);
}

// --- confidence and handoff ---

TEST_F(ProvidersTest, RepeatedDoubtfulAnswersHandTheConversationToAPerson) {
    FakeOpenAi fake;
    // Cut short by the token limit: doubtful (0.5), though not below the tenant's threshold (0.5).
    for (int i = 0; i < 3; ++i)
        fake.push_back(FakeOpenAiBehaviour::answer("Özel dikim için").finish("length"));
    auto llm = openai_llm(fake);
    llm["cache"] = json::object{{"ttl_s", 0}};
    set_llm("gece-butik", llm);
    auto e = start();
    auto a = ask(*e, "gece-butik", "u1", "ipek kimono dikiyor musunuz?");
    auto b = ask(*e, "gece-butik", "u1", "peki özel dikim?");
    EXPECT_FALSE(a.handoff);
    EXPECT_FALSE(b.handoff);
    EXPECT_LT(a.confidence, 0.6);
    auto c = ask(*e, "gece-butik", "u1", "kumaş seçebilir miyim?");
    EXPECT_TRUE(c.handoff);
}

TEST_F(ProvidersTest, ACustomerWhoLeavesCancelsTheProviderCall) {
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::stall(8s));
    auto llm = openai_llm(fake);
    llm["max_retries"] = 0;
    set_llm("gece-butik", llm);
    auto e = start();
    std::atomic<bool> gone{false};
    std::thread leave([&] {
        EXPECT_TRUE(fake.wait_for_requests(1)) << "the provider was never called";
        gone = true;  // the customer leaves while the model "thinks"
    });
    const auto started = std::chrono::steady_clock::now();
    auto r = e->handle(msg("gece-butik", "u1", "saten gecelik ne kadar?"), nullptr, &gone);
    leave.join();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->method, "fallback");  // stored, answered by the offline assistant
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    EXPECT_TRUE(fake.wait_for_cut_offs(1)) << "the provider call was not cancelled";
}

TEST_F(ProvidersTest, CustomersWhoLeaveDoNotOpenTheCircuitBreaker) {
    FakeOpenAi fake;
    for (int i = 0; i < 3; ++i) fake.push_back(FakeOpenAiBehaviour::stall(5s));
    auto llm = openai_llm(fake);
    llm["max_retries"] = 0;
    llm["breaker_failures"] = 2;
    llm["cache"] = json::object{{"ttl_s", 0}};
    set_llm("gece-butik", llm);
    auto e = start();
    for (int i = 0; i < 3; ++i) {
        std::atomic<bool> gone{false};
        std::thread leave([&] {
            EXPECT_TRUE(fake.wait_for_requests(static_cast<std::size_t>(i) + 1)) << "no provider call " << i;
            gone = true;
        });
        auto r = e->handle(msg("gece-butik", "leaver-" + std::to_string(i), "saten gecelik ne kadar?"),
                           nullptr, &gone);
        leave.join();
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->method, "fallback");
    }
    // The model never failed: the next customer still gets it.
    auto reply = ask(*e, "gece-butik", "stayer", "saten gecelik ne kadar?");
    EXPECT_EQ(reply.method, "llm");
}

}  // namespace
}  // namespace tezgah::testing
