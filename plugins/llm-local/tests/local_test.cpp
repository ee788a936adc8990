// The offline assistant, end to end: each case in cases.json is a conversation with one of the
// fixture tenants or the example tenants in tenants/, run through a loop equal to the engine's
// (provider → tools → provider, at most four steps, session updates merged, history kept) with
// the REAL catalog and knowledge tool plugins loaded from the build's plugin folder. Every case
// is its own test, so a failure names the message that was answered wrong.
#include "../assistant.hpp"

#include <tezgah/sdk/json_schema.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/testing/fakes.hpp>
#include <tezgah/sdk/text.hpp>

#include <gtest/gtest.h>
#include <boost/dll/shared_library.hpp>
#include <boost/filesystem/operations.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;  // llm-local's own

namespace {

namespace sdk = tezgah::sdk;
namespace json = boost::json;
namespace local = tezgah::plugins::local;
using sdk::testing::FakeHost;

/// A tool plugin shared library, loaded once for the whole test run.
struct ToolLibrary {
    boost::dll::shared_library library;
    const sdk::PluginDescriptor* descriptor = nullptr;
};

const std::vector<std::unique_ptr<ToolLibrary>>& tool_libraries() {
    static const auto libraries = [] {
        std::vector<std::unique_ptr<ToolLibrary>> out;
        for (const char* name : {"tool-catalog.so", "tool-knowledge.so"}) {
            auto lib = std::make_unique<ToolLibrary>();
            lib->library.load(std::string(TEZGAH_TEST_PLUGIN_DIR) + "/" + name);
            lib->descriptor = &lib->library.get<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
            out.push_back(std::move(lib));
        }
        return out;
    }();
    return libraries;
}

/// One fixture tenant with its host, tools and the assistant under test.
struct Tenant {
    FakeHost host;
    std::vector<sdk::ToolPtr> tools;
    std::unique_ptr<sdk::LlmProvider> provider;
};

/// A fixture tenant, or else one of the example tenants shipped in the repository's tenants/
/// folder (their Lua tools and rules are not run here: only the catalog and knowledge tools).
std::string tenant_dir(const std::string& id) {
    for (const std::string& root :
         {std::string(TEZGAH_FIXTURES_DIR), std::string(TEZGAH_SOURCE_DIR) + "/tenants"}) {
        const std::string dir = root + "/" + id;
        if (boost::filesystem::exists(dir + "/tenant.json")) return dir;
    }
    throw std::runtime_error("no tenant " + id +
                             " in " TEZGAH_FIXTURES_DIR " or " TEZGAH_SOURCE_DIR "/tenants");
}

Tenant& tenant(const std::string& id) {
    // Load the libraries before the tenants exist, so that at exit the tenants' tools are
    // destroyed while their code is still loaded (statics die in reverse order).
    const auto& libraries = tool_libraries();
    static std::map<std::string, std::unique_ptr<Tenant>> tenants;
    auto& slot = tenants[id];
    if (slot) return *slot;
    slot = std::make_unique<Tenant>();
    const std::string dir = tenant_dir(id);
    slot->host.load_manifest_file(dir + "/tenant.json");
    slot->host.load_offerings_file(dir + "/data/offerings.json");
    slot->host.load_knowledge_file(dir + "/data/knowledge.json");
    if (boost::filesystem::exists(dir + "/data/resources.json"))
        slot->host.load_resources_file(dir + "/data/resources.json");
    for (const auto& lib : libraries) {
        auto made = sdk::testing::instantiate(*lib->descriptor, slot->host);
        if (!made)
            throw std::runtime_error(std::string(lib->descriptor->name) + ": " +
                                     slot->host.log.lines.back().second);
        slot->tools.emplace_back(dynamic_cast<sdk::Tool*>(made.release()));
    }
    auto made = sdk::testing::instantiate(tezgah_plugin_descriptor, slot->host);
    if (!made) throw std::runtime_error("llm-local: " + slot->host.log.lines.back().second);
    slot->provider.reset(dynamic_cast<sdk::LlmProvider*>(made.release()));
    return *slot;
}

struct Collect : sdk::StreamSink {
    void on_text(std::string_view delta) override { text += delta; }
    std::string text;
};

/// What one turn produced, as a customer and the engine see it.
struct TurnOutcome {
    std::string reply;
    std::string streamed;
    std::string language;
    bool handoff = false;
    double confidence = 0;
    std::vector<std::string> tools_called;
    std::string method;
    bool estimated_usage = false;
};

/// The engine's assistant loop, reduced to what the provider can observe.
class Conversation {
public:
    Conversation(Tenant& t, std::vector<std::string> enabled_tools) : t_(t) {
        for (const auto& tool : t_.tools)
            for (auto& spec : tool->specs())
                if (enabled_tools.empty() ||
                    std::find(enabled_tools.begin(), enabled_tools.end(), spec.name) != enabled_tools.end())
                    specs_.push_back({std::move(spec), tool.get()});
    }

    TurnOutcome say(const std::string& text) {
        TurnOutcome out;
        history_.push_back({sdk::Role::user, text, {}, std::nullopt});
        std::vector<sdk::Message> messages = history_;
        sdk::ProviderRequest request;
        request.tenant_id = t_.host.profile.id;
        request.language = sdk::text::detect_language(text, t_.host.profile.language);
        for (const auto& s : specs_) request.tools.push_back(s.first);
        Collect sink;
        for (int step = 0; step < 4; ++step) {
            request.messages = messages;
            request.session = session_;
            request.step = step;
            auto response = t_.provider->complete(request, &sink);
            if (!response.ok()) throw std::runtime_error("complete: " + response.error().message);
            for (const auto& [k, v] : response->session_updates) session_[k] = v;
            out.language = response->language;
            out.handoff = out.handoff || response->handoff;
            out.confidence = response->confidence;
            out.method = response->method;
            out.estimated_usage = response->usage.estimated;
            if (response->tool_calls.empty()) {
                out.reply = response->text;
                break;
            }
            messages.push_back({sdk::Role::assistant, response->text, response->tool_calls, std::nullopt});
            for (const auto& call : response->tool_calls) {
                out.tools_called.push_back(call.name);
                messages.push_back({sdk::Role::tool, "", {}, run(call, request.language)});
            }
        }
        out.streamed = sink.text;
        history_.push_back({sdk::Role::assistant, out.reply, {}, std::nullopt});
        return out;
    }

private:
    sdk::ToolResult run(const sdk::ToolCall& call, const std::string& language) {
        sdk::ToolResult result{call.id, call.name, false, nullptr, "", 0};
        auto it = std::find_if(specs_.begin(), specs_.end(),
                               [&](const auto& s) { return s.first.name == call.name; });
        if (it == specs_.end()) {
            result.error = "unknown tool " + call.name;
            return result;
        }
        if (auto status = sdk::validate_json(call.arguments, it->first.parameters); !status.ok()) {
            result.error = status.error().message;
            return result;
        }
        sdk::TurnContext turn{t_.host.profile.id, "u1", "s1", "c1", language, "test", &session_};
        auto answer = it->second->invoke(call, turn);
        if (answer.ok()) {
            result.ok = true;
            result.content = answer.value();
        } else {
            result.error = answer.error().message;
        }
        return result;
    }

    Tenant& t_;
    std::vector<std::pair<sdk::ToolSpec, sdk::Tool*>> specs_;
    std::vector<sdk::Message> history_;
    json::object session_;
};

// ---- the conversation cases ----

struct Case {
    std::string name;
    json::object spec;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> load_cases() {
    std::vector<Case> cases;
    // cases.json; cases_people.json: people, class schedules, days and complaints at a set time;
    // cases_attributes.json: the size chart, an offering's attributes and its alternatives.
    // cases_attributes2.json: an offering's facts as customers ask them (allergy statements,
    // capacity, packages, a category's materials, products for a need).
    // cases_totals.json: orders, fees, discounts, dates, shared class words and unknown questions.
    // cases_totals2.json: totals as customers ask them (number words, weights, follow-ups, packages).
    // cases_totals3.json: orders mixing items with classes, discounts and free delivery reached by
    // several items, counts for each item ("ikişer"), "hepsi ne kadar" and an item removed.
    // cases_totals4.json: totals as the four tenants' customers ask them (prices × counts in new
    // words, fees, a count asked after a price, several items and services).
    // cases_people2.json: parts of a day, "now", follow-ups, typos and two questions about people
    // and classes.
    // cases_people3.json: people and days as customers ask them ("kaça kadar", "yarından sonra",
    // "3 gün sonra", "who teaches on Sundays"), complaints said in other words, questions the
    // tenant has no answer for, and size advice from measurements or between two numbers.
    for (const char* file :
         {LLM_LOCAL_CASES, LLM_LOCAL_PEOPLE_CASES, LLM_LOCAL_ATTRIBUTE_CASES, LLM_LOCAL_ATTRIBUTE2_CASES,
          LLM_LOCAL_TOTALS_CASES, LLM_LOCAL_TOTALS2_CASES, LLM_LOCAL_TOTALS3_CASES, LLM_LOCAL_TOTALS4_CASES,
          LLM_LOCAL_PEOPLE2_CASES, LLM_LOCAL_PEOPLE3_CASES}) {
        auto value = json::parse(sdk::testing::read_file(file));
        for (const auto& c : value.as_array()) {
            std::string name;
            for (char ch : std::string(c.as_object().at("name").as_string()))
                name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
            cases.push_back({name, c.as_object()});
        }
    }
    return cases;
}

bool mentions(const std::string& reply, const std::string& needle) {
    if (reply.find(needle) != std::string::npos) return true;
    return sdk::text::lower_tr(reply).find(sdk::text::lower_tr(needle)) != std::string::npos;
}

std::vector<std::string> strings(const json::object& o, const char* key) {
    std::vector<std::string> out;
    if (const auto* v = o.if_contains(key))
        for (const auto& s : v->as_array()) out.emplace_back(s.as_string());
    return out;
}

struct Tally : ::testing::Environment {
    int passed = 0, total = 0, untuned_passed = 0, untuned_total = 0;
    void TearDown() override {
        if (total == 0) return;
        std::cout << "[llm-local] conversation cases passed: " << passed << "/" << total;
        if (untuned_total) std::cout << " (not tuned on: " << untuned_passed << "/" << untuned_total << ")";
        std::cout << "\n";
    }
};
Tally& tally = *static_cast<Tally*>(::testing::AddGlobalTestEnvironment(new Tally));

std::chrono::system_clock::time_point case_time(const std::string& iso) {
    std::tm tm{};
    std::istringstream in(iso);
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

class ConversationCase : public ::testing::TestWithParam<Case> {};

TEST_P(ConversationCase, AnswersLikeTheShopWould) {
    const auto& spec = GetParam().spec;
    // "pending": a case written before the assistant handles it, with what is missing.
    if (const auto* pending = spec.if_contains("pending")) GTEST_SKIP() << pending->as_string();
    auto& t = tenant(std::string(spec.at("tenant").as_string()));
    // "time": the moment the conversation happens, UTC ("2026-12-04T10:00:00Z"); else a fixed one.
    t.host.time.set(case_time(spec.contains("time") ? std::string(spec.at("time").as_string())
                                                    : std::string("2026-12-02T09:00:00Z")));
    Conversation conversation(t, strings(spec, "tools"));
    int n = 0;
    for (const auto& turn_value : spec.at("turns").as_array()) {
        const auto& turn = turn_value.as_object();
        const std::string said(turn.at("user").as_string());
        auto out = conversation.say(said);
        SCOPED_TRACE("turn " + std::to_string(++n) + ": \"" + said + "\" -> \"" + out.reply + "\"");
        EXPECT_FALSE(out.reply.empty());
        EXPECT_EQ(out.streamed, out.reply) << "the streamed text is the reply";
        EXPECT_EQ(out.method, "intent");
        EXPECT_TRUE(out.estimated_usage);
        for (const auto& s : strings(turn, "contains"))
            EXPECT_TRUE(mentions(out.reply, s)) << "missing: " << s;
        for (const auto& s : strings(turn, "not_contains"))
            EXPECT_FALSE(mentions(out.reply, s)) << "must not say: " << s;
        if (auto any = strings(turn, "any"); !any.empty()) {
            EXPECT_TRUE(std::any_of(any.begin(), any.end(), [&](const auto& s) {
                return mentions(out.reply, s);
            })) << "none of the expected phrasings";
        }
        bool handoff = turn.contains("handoff") && turn.at("handoff").as_bool();
        EXPECT_EQ(out.handoff, handoff);
        if (turn.contains("language")) {
            EXPECT_EQ(out.language, std::string(turn.at("language").as_string()));
        }
        for (const auto& tool : strings(turn, "tools"))
            EXPECT_NE(std::find(out.tools_called.begin(), out.tools_called.end(), tool),
                      out.tools_called.end())
                << "expected a call to " << tool;
        for (const auto& tool : strings(turn, "no_tools"))
            EXPECT_EQ(std::find(out.tools_called.begin(), out.tools_called.end(), tool),
                      out.tools_called.end())
                << "did not expect a call to " << tool;
        if (turn.contains("max_confidence")) {
            EXPECT_LE(out.confidence, turn.at("max_confidence").to_number<double>());
        }
        if (turn.contains("min_confidence")) {
            EXPECT_GE(out.confidence, turn.at("min_confidence").to_number<double>());
        }
    }
    bool untuned = spec.contains("untuned") && spec.at("untuned").as_bool();
    ++tally.total;
    tally.untuned_total += untuned;
    if (!HasFailure()) {
        ++tally.passed;
        tally.untuned_passed += untuned;
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, ConversationCase, ::testing::ValuesIn(load_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- the plugin's own contract ----

TEST(LocalProvider, FormatsPricesTheLocalWay) {
    // format_price is internal; the replies show it. A price asked in each language:
    Conversation tr(tenant("nefes-studyo"), {});
    EXPECT_NE(tr.say("8 derslik aylık paket ne kadar?").reply.find("2.800 TL"), std::string::npos);
    Conversation en(tenant("nefes-studyo"), {});
    EXPECT_NE(en.say("How much is the monthly pass?").reply.find("2,800 TL"), std::string::npos);
}

TEST(LocalProvider, RejectsABadListSize) {
    FakeHost host;
    EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, host, {{"max_list_items", 0}}), nullptr);
    EXPECT_TRUE(host.log.contains("local: max_list_items: expected an integer from 1 to 50, got 0"));
}

TEST(LocalProvider, ListsNoMoreThanConfigured) {
    auto& t = tenant("nefes-studyo");
    auto made = sdk::testing::instantiate(tezgah_plugin_descriptor, t.host, {{"max_list_items", 2}});
    ASSERT_TRUE(made);
    std::unique_ptr<sdk::LlmProvider> small(dynamic_cast<sdk::LlmProvider*>(made.release()));
    std::swap(small, t.provider);
    Conversation c(t, {});
    auto reply = c.say("Hangi dersleriniz var?").reply;
    std::swap(small, t.provider);
    EXPECT_NE(reply.find("daha"), std::string::npos) << reply;
    std::size_t prices = 0;
    for (auto pos = reply.find(" TL"); pos != std::string::npos; pos = reply.find(" TL", pos + 1)) ++prices;
    EXPECT_EQ(prices, 2u) << reply;
}

// A new tenant writing its fees and discounts in its own sentences gets them read the same way.
TEST(LocalProvider, ReadsFeesAndDiscountsFromKnowledgeSentences) {
    auto entry = [](std::string id, std::vector<std::string> keywords, std::string tr, std::string en) {
        sdk::KnowledgeEntry e;
        e.id = std::move(id);
        e.keywords = std::move(keywords);
        e.answer = std::move(tr);
        e.translations["en"].answer = std::move(en);
        return e;
    };
    const auto charges = local::charges_of({
        entry("kargo", {"kargo", "shipping"},
              "300 TL'nin üzerindeki siparişlerde kargo ücretsiz, diğerlerinde 39,90 TL.",
              "Shipping is free over 300 TL; otherwise it is 39.90 TL."),
        entry("paket", {"paket", "wrap"}, "İsterseniz 15 TL karşılığında hediye kutusu hazırlarız.",
              "A gift box costs 15 TL."),
        entry("toptan", {"toptan", "wholesale"}, "100 adet ve üzeri alımlarda %12,5 indirim.",
              "12.5% off orders of 100 or more."),
        entry("iade", {"iade"}, "14 gün içinde iade edebilirsiniz.", "Returns within 14 days."),
    });
    ASSERT_EQ(charges.size(), 3u);
    EXPECT_EQ(charges[0].amount, 39.90);
    EXPECT_EQ(charges[0].free_from, 300);
    EXPECT_EQ(charges[1].amount, 15);
    EXPECT_EQ(charges[1].label_tr, "hediye kutusu");
    EXPECT_EQ(charges[1].label_en, "gift box");
    EXPECT_EQ(charges[2].kind, local::Charge::Kind::discount);
    EXPECT_EQ(charges[2].percent, 12.5);
    EXPECT_EQ(charges[2].min_quantity, 100);
    EXPECT_TRUE(local::asks_for(charges[0], {"kargo", "dahil"}));
    EXPECT_FALSE(local::asks_for(charges[0], {"iade"}));
}

// Try a conversation by hand: TENANT=gece-butik SAY='merhaba|saten gecelik ne kadar'
// [AT=2026-12-02T09:00:00Z] [SEPARATE=1: each message its own conversation]
//   llm-local_test --gtest_also_run_disabled_tests --gtest_filter='*Say*'
TEST(LocalProvider, DISABLED_Say) {
    const char* id = std::getenv("TENANT");
    const char* say = std::getenv("SAY");
    if (!id || !say) GTEST_SKIP() << "set TENANT and SAY";
    const char* at = std::getenv("AT");  // the moment, UTC, as a case's "time"
    tenant(id).host.time.set(case_time(at ? at : "2026-12-02T09:00:00Z"));
    // SAY='a|b' is one conversation; with SEPARATE=1 every message starts its own.
    const bool separate = std::getenv("SEPARATE") != nullptr;
    auto c = std::make_unique<Conversation>(tenant(id), std::vector<std::string>{});
    std::string all = say;
    for (std::size_t start = 0; start <= all.size();) {
        auto end = all.find('|', start);
        if (end == std::string::npos) end = all.size();
        if (separate) c = std::make_unique<Conversation>(tenant(id), std::vector<std::string>{});
        auto out = c->say(all.substr(start, end - start));
        std::cout << "> " << all.substr(start, end - start) << "\n  [" << out.language
                  << (out.handoff ? ", handoff" : "") << ", " << out.confidence << "]";
        for (const auto& t : out.tools_called) std::cout << " " << t;
        std::cout << "\n  " << out.reply << "\n";
        start = end + 1;
    }
}

TEST(LocalProvider, DeclaresItselfAsTheLocalLlm) {
    EXPECT_STREQ(tezgah_plugin_descriptor.name, "local");
    EXPECT_EQ(tezgah_plugin_descriptor.kind, sdk::PluginKind::llm);
}

}  // namespace
