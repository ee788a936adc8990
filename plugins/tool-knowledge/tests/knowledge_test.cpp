// The knowledge tool against the gece-butik fixture knowledge base, through the SDK fakes.
#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <string>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::plugins::knowledge {
namespace {

namespace json = boost::json;

const std::string kButik = std::string(TEZGAH_FIXTURES_DIR) + "/gece-butik";

class KnowledgeTool : public ::testing::Test {
protected:
    void SetUp() override {
        host_.load_manifest_file(kButik + "/tenant.json");
        host_.load_knowledge_file(kButik + "/data/knowledge.json");
        plugin_ = sdk::testing::instantiate(tezgah_plugin_descriptor, host_);
        tool_ = dynamic_cast<sdk::Tool*>(plugin_.get());
        ASSERT_NE(tool_, nullptr);
    }

    sdk::Result<json::value> search(json::object args, const std::string& language = "tr") {
        const auto specs = tool_->specs();
        if (auto checked = sdk::validate_json(args, specs.at(0).parameters); !checked) return checked.error();
        sdk::TurnContext turn;
        turn.language = language;
        return tool_->invoke(sdk::ToolCall{"call-1", "search_knowledge_base", std::move(args)}, turn);
    }

    sdk::testing::FakeHost host_;
    sdk::PluginPtr plugin_;
    sdk::Tool* tool_ = nullptr;
};

TEST_F(KnowledgeTool, DeclaresSearchKnowledgeBase) {
    EXPECT_STREQ(tezgah_plugin_descriptor.name, "knowledge");
    EXPECT_EQ(tezgah_plugin_descriptor.kind, sdk::PluginKind::tool);
    const auto specs = tool_->specs();
    ASSERT_EQ(specs.size(), 1U);
    EXPECT_EQ(specs[0].name, "search_knowledge_base");
    EXPECT_EQ(specs[0].parameters.at("additionalProperties"), json::value(false));
    EXPECT_FALSE(search({{"query", "iade"}, {"limit", 11}}).ok());
    EXPECT_FALSE(search({{"limit", 2}}).ok());
}

TEST_F(KnowledgeTool, FindsReturnsInTurkish) {
    auto result = search({{"query", "iade"}});
    ASSERT_TRUE(result.ok()) << result.error().message;
    const auto& results = result->at("results").as_array();
    ASSERT_FALSE(results.empty());
    EXPECT_LE(results.size(), 3U);
    const auto& best = results[0].as_object();
    EXPECT_EQ(best.at("id"), json::value("iade"));
    EXPECT_EQ(best.at("question"), json::value("İade koşulları nelerdir?"));
    EXPECT_NE(best.at("answer").as_string().find("14 gün"), json::string::npos);
    EXPECT_EQ(best.at("category"), json::value("iade"));
    EXPECT_GT(best.at("score").to_number<double>(), 0.0);
}

TEST_F(KnowledgeTool, AnswersInEnglishForAnEnglishQuestion) {
    auto result = search({{"query", "return policy"}}, "en");
    ASSERT_TRUE(result.ok());
    const auto& results = result->at("results").as_array();
    ASSERT_FALSE(results.empty());
    EXPECT_EQ(results[0].at("id"), json::value("iade"));
    EXPECT_EQ(results[0].at("question"), json::value("What is your return policy?"));
    EXPECT_NE(results[0].at("answer").as_string().find("14 days"), json::string::npos);
}

TEST_F(KnowledgeTool, HonoursTheLimit) {
    auto result = search({{"query", "kargo iade değişim"}, {"limit", 1}});
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->at("results").as_array().size(), 1U);
}

TEST_F(KnowledgeTool, NothingRelatedGivesAnEmptyList) {
    auto result = search({{"query", "xyzzy plugh"}});
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result->at("results").as_array().empty());
}

}  // namespace
}  // namespace tezgah::plugins::knowledge
