// The handoff tool alone, through the SDK fakes: its arguments, what it tells the model, and the
// settings it accepts and refuses (the engine's handover is tested end to end in tests/operators).
#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::plugins::handoff {
namespace {

namespace json = boost::json;

std::string logged(const sdk::testing::FakeHost& host) {
    std::string out;
    for (const auto& line : host.log.lines) out += line.second + "\n";
    return out;
}

TEST(HandoffTool, HandsOverWithAReasonAndRefusesArgumentsOutsideItsSchema) {
    sdk::testing::FakeHost host;
    auto plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host);
    auto* tool = dynamic_cast<sdk::Tool*>(plugin.get());
    ASSERT_NE(tool, nullptr) << logged(host);
    const auto specs = tool->specs();
    ASSERT_EQ(specs.size(), 1u);
    EXPECT_EQ(specs[0].name, "handover_to_human");
    EXPECT_FALSE(specs[0].cacheable);

    json::object args{{"reason", "customer asked for a person"}, {"priority", "medium"}};
    ASSERT_TRUE(sdk::validate_json(args, specs[0].parameters).ok());
    sdk::TurnContext turn;
    turn.language = "en";
    auto result = tool->invoke(sdk::ToolCall{"c1", "handover_to_human", args}, turn);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->at("handed_over"), true);
    EXPECT_NE(std::string(result->at("instructions").as_string()).find("English"), std::string::npos);

    EXPECT_FALSE(sdk::validate_json(json::object{{"priority", "high"}}, specs[0].parameters).ok());
    EXPECT_FALSE(
        sdk::validate_json(json::object{{"reason", "x"}, {"priority", "soon"}}, specs[0].parameters).ok());
    EXPECT_FALSE(tool->invoke(sdk::ToolCall{"c2", "handover_to_human", json::object{}}, turn).ok());
}

TEST(HandoffTool, AcceptsEveryNotifyTargetOfTheContract) {
    sdk::testing::FakeHost host;
    const json::object config{
        {"release_after_minutes", 30},
        {"notify",
         json::object{{"webhook", json::object{{"url", "https://example.com/hook"}, {"secret", "s"}}},
                      {"slack", json::object{{"webhook_url", "https://hooks.slack.com/services/T/B/X"}}},
                      {"email", json::object{{"smtp_host", "127.0.0.1"},
                                             {"smtp_port", 2525},
                                             {"starttls", true},
                                             {"username", "u"},
                                             {"password", "p"},
                                             {"from", "bot@example.com"},
                                             {"to", json::array{"owner@example.com"}}}}}}};
    EXPECT_NE(sdk::testing::instantiate(tezgah_plugin_descriptor, host, config), nullptr) << logged(host);
}

TEST(HandoffTool, RefusesABadSettingNamingIt) {
    const std::vector<std::pair<json::object, std::string>> cases = {
        {json::object{{"release_after_minutes", 0}}, "release_after_minutes"},
        {json::object{{"notify", json::object{{"pager", json::object{}}}}}, "notify.pager"},
        {json::object{{"notify", json::object{{"webhook", json::object{{"secret", "s"}}}}}},
         "notify.webhook.url"},
        {json::object{{"notify", json::object{{"webhook", json::object{{"url", "ftp://x"}}}}}},
         "notify.webhook.url"},
        {json::object{{"notify", json::object{{"email", json::object{{"smtp_host", "h"},
                                                                     {"from", "a@b"},
                                                                     {"to", "c@d"},
                                                                     {"smtp_port", 70000}}}}}},
         "notify.email.smtp_port"},
        {json::object{
             {"notify", json::object{{"slack", json::object{{"webhook_url", "https://h"}, {"x", 1}}}}}},
         "notify.slack.x"},
    };
    for (const auto& [config, field] : cases) {
        sdk::testing::FakeHost host;
        EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, host, config), nullptr) << field;
        EXPECT_NE(logged(host).find(field), std::string::npos) << logged(host);
    }
}

}  // namespace
}  // namespace tezgah::plugins::handoff
