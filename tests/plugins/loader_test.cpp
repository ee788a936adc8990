#include "plugins/registry.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace tezgah::engine;
namespace sdk = tezgah::sdk;

namespace {

const fs::path kDir = FIXTURE_PLUGIN_DIR;

const PluginRefusal* refusal_for(const PluginRegistry& r, const std::string& file) {
    for (const auto& x : r.refused())
        if (fs::path(x.path).filename() == file) return &x;
    return nullptr;
}

TEST(PluginLoader, LoadsAGoodPluginWithItsDescriptor) {
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(kDir / "good-echo.so"));
    const auto* p = r.find("echo", sdk::PluginKind::tool);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->version, "1.2.3");
    EXPECT_EQ(p->abi_major, sdk::kAbiMajor);
    ASSERT_EQ(p->config.size(), 2u);
    EXPECT_STREQ(p->config[0].name, "prefix");
    EXPECT_EQ(p->config[1].type, sdk::ConfigType::integer);
}

TEST(PluginLoader, RefusesEachBadFileWithTheFileAndTheReasonAndKeepsGoing) {
    fs::path junk = fs::temp_directory_path() / "tezgah-loader-junk";
    fs::create_directories(junk);
    std::ofstream(junk / "readme.so") << "this is not a library";
    PluginRegistry r;
    r.load_directories({kDir, junk});
    // The good one loads, whatever else is in the folder.
    EXPECT_NE(r.find("echo"), nullptr);
    const auto* major = refusal_for(r, "abi-major-2.so");
    ASSERT_NE(major, nullptr);
    EXPECT_NE(major->reason.find("ABI 2.0"), std::string::npos) << major->reason;
    EXPECT_NE(major->reason.find("another major"), std::string::npos) << major->reason;
    const auto* minor = refusal_for(r, "abi-newer-minor.so");
    ASSERT_NE(minor, nullptr);
    EXPECT_NE(minor->reason.find("newer"), std::string::npos) << minor->reason;
    const auto* none = refusal_for(r, "no-descriptor.so");
    ASSERT_NE(none, nullptr);
    EXPECT_NE(none->reason.find("no plugin descriptor"), std::string::npos) << none->reason;
    const auto* text = refusal_for(r, "readme.so");
    ASSERT_NE(text, nullptr);
    EXPECT_NE(text->reason.find("not a shared library"), std::string::npos);
    // good-echo.so and duplicate-echo.so declare the same name: the second is refused.
    const auto* dup = refusal_for(r, "good-echo.so");
    ASSERT_NE(dup, nullptr) << "expected the later file of the two 'echo' plugins to be refused";
    EXPECT_NE(dup->reason.find("duplicate plugin name \"echo\""), std::string::npos) << dup->reason;
    EXPECT_NE(r.find("thrower"), nullptr);
    fs::remove_all(junk);
}

TEST(PluginLoader, ValidatesConfigAgainstTheDeclaredKeysAndFillsDefaults) {
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(kDir / "good-echo.so"));
    const auto& p = *r.find("echo");
    sdk::json::object config{{"times", "three"}, {"colour", "red"}};
    auto problems = PluginRegistry::validate_config(p, config);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].key, "times");
    EXPECT_EQ(problems[0].message, "expected an integer, got a string");
    EXPECT_EQ(problems[1].key, "colour");
    EXPECT_EQ(problems[1].message, "unknown key (known: prefix, times)");
    sdk::json::object ok;
    EXPECT_TRUE(PluginRegistry::validate_config(p, ok).empty());
    EXPECT_EQ(ok.at("times").as_int64(), 1);
}

TEST(PluginLoader, AnInstanceKeepsItsLibraryLoadedAfterTheRegistryIsGone) {
    sdk::testing::FakeHost host;
    PluginInstance instance;
    {
        PluginRegistry r;
        ASSERT_TRUE(r.load_file(kDir / "good-echo.so"));
        auto made = r.instantiate(*r.find("echo"), {}, host);
        ASSERT_TRUE(made.ok()) << made.error().message;
        instance = std::move(made).value();
    }
    auto* tool = instance.as<sdk::Tool>();
    ASSERT_NE(tool, nullptr);
    sdk::TurnContext turn;
    auto answer = tool->invoke({"c1", "echo", sdk::json::object{{"text", "merhaba"}}}, turn);
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer->as_string(), "merhaba");
    EXPECT_EQ(tool->specs().at(0).name, "echo");
}

TEST(PluginLoader, AFactoryThatThrowsIsAnErrorNotACrash) {
    sdk::testing::FakeHost host;
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(kDir / "throwing-factory.so"));
    auto made = r.instantiate(*r.find("thrower"), {}, host);
    ASSERT_FALSE(made.ok());
    EXPECT_NE(made.error().message.find("boom in factory"), std::string::npos);
}

// --- plugins built for older minor versions, and descriptors that grew ---

const fs::path kOld = OLD_ABI_PLUGIN_DIR;

class OldAbi : public ::testing::TestWithParam<std::string> {
protected:
    std::string version() const { return GetParam(); }
    std::string tag() const { return version() == "1.0" ? "1-0" : "1-1"; }
    fs::path file(const std::string& kind) const {
        return kOld / ("v" + version()) / ("old-" + kind + ".so");
    }
};

TEST_P(OldAbi, ItsDescriptorAndConfigKeysAreReadInTheLayoutItWasBuiltWith) {
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(file("tool"))) << (r.refused().empty() ? "" : r.refused().back().reason);
    const auto* p = r.find("old-tool-" + tag(), sdk::PluginKind::tool);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->abi_major, 1);
    EXPECT_EQ(p->abi_minor, version() == "1.0" ? 0 : 1);
    EXPECT_EQ(p->version, "0.9.0");
    // Three keys of 32 bytes each: read with this engine's larger ConfigKey they would be garbage.
    ASSERT_EQ(p->config.size(), 3u);
    EXPECT_STREQ(p->config[0].name, "prefix");
    EXPECT_STREQ(p->config[0].default_json, "\">\"");
    EXPECT_STREQ(p->config[1].name, "times");
    EXPECT_EQ(p->config[1].type, sdk::ConfigType::integer);
    EXPECT_STREQ(p->config[1].description, "How many times the text is repeated");
    EXPECT_STREQ(p->config[2].name, "label");
    EXPECT_TRUE(p->config[2].required);
    for (const auto& key : p->config) {  // what 1.2 added reads as unset
        EXPECT_FALSE(key.secret);
        EXPECT_FALSE(key.minimum.set);
        EXPECT_FALSE(key.maximum.set);
        EXPECT_EQ(key.allowed, nullptr);
    }
    sdk::json::object config{{"times", "many"}};
    auto problems = PluginRegistry::validate_config(*p, config);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].key, "times");
    EXPECT_EQ(problems[1].key, "label");
    EXPECT_EQ(problems[1].message, "required");
}

TEST_P(OldAbi, AToolIsCalledThroughTheInterfaceItWasBuiltAgainst) {
    sdk::testing::FakeHost host;
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(file("tool")));
    auto made = r.instantiate(*r.find("old-tool-" + tag()), {{"label", "x"}, {"times", 3}}, host);
    ASSERT_TRUE(made.ok()) << made.error().message;
    auto* tool = made->as<sdk::Tool>();
    ASSERT_NE(tool, nullptr);
    const auto specs = tool->specs();
    ASSERT_EQ(specs.size(), 1u);
    EXPECT_EQ(specs[0].name, "old_echo_" + std::string(version() == "1.0" ? "1_0" : "1_1"));
    EXPECT_EQ(specs[0].description, "Repeats the text it is given");
    EXPECT_EQ(specs[0].parameters.at("required").as_array().at(0), "text");
    EXPECT_FALSE(specs[0].read_only);  // it never said: nothing is assumed
    EXPECT_FALSE(specs[0].cacheable);
    sdk::TurnContext turn;
    auto answer = tool->invoke({"c1", specs[0].name, {{"text", "ab"}}}, turn);
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ(answer->at("echo"), ">ababab");  // the default prefix, three times
}

TEST_P(OldAbi, AModelAnswersAndNamesTheModelItsConfigSays) {
    sdk::testing::FakeHost host;
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(file("llm")));
    const auto* p = r.find("old-llm-" + tag(), sdk::PluginKind::llm);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->capabilities, 0u);  // declared none: a remote model that may stream
    for (const auto& [config, model] : {std::pair{sdk::json::object{}, std::string("old-model-7")},
                                        std::pair{sdk::json::object{{"model", "m-2"}}, std::string("m-2")}}) {
        auto made = r.instantiate(*p, config, host);
        ASSERT_TRUE(made.ok()) << made.error().message;
        auto* provider = made->as<sdk::LlmProvider>();
        ASSERT_NE(provider, nullptr);
        EXPECT_EQ(provider->model(), model);
        sdk::ProviderRequest request;
        request.messages.push_back({sdk::Role::user, "merhaba", {}, {}});
        auto answer = provider->complete(request, nullptr);
        ASSERT_TRUE(answer.ok()) << answer.error().message;
        EXPECT_EQ(answer->text, "old model heard ");
        EXPECT_EQ(answer->usage.input_tokens, 10);
        EXPECT_DOUBLE_EQ(answer->confidence, 0.9);
    }
}

// ABI 1.3 appended ProviderRequest::tool_examples: a 1.2 plugin is called as it is and never
// reads past `deadline`.
TEST(OldAbi1_2, PluginsBuiltBeforeToolExamplesAreCalledAsTheyAre) {
    sdk::testing::FakeHost host;
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(kOld / "v1.2" / "old-tool.so"))
        << (r.refused().empty() ? "" : r.refused().back().reason);
    ASSERT_TRUE(r.load_file(kOld / "v1.2" / "old-llm.so"))
        << (r.refused().empty() ? "" : r.refused().back().reason);
    const auto* tool_info = r.find("old-tool-1-2", sdk::PluginKind::tool);
    const auto* llm_info = r.find("old-llm-1-2", sdk::PluginKind::llm);
    ASSERT_NE(tool_info, nullptr);
    ASSERT_NE(llm_info, nullptr);
    EXPECT_EQ(llm_info->abi_minor, 2);

    auto tool = r.instantiate(*tool_info, {{"label", "x"}, {"times", 2}}, host);
    ASSERT_TRUE(tool.ok()) << tool.error().message;
    const auto specs = tool->as<sdk::Tool>()->specs();
    ASSERT_EQ(specs.size(), 1u);
    EXPECT_EQ(specs[0].name, "old_echo_1_2");

    auto llm = r.instantiate(*llm_info, {}, host);
    ASSERT_TRUE(llm.ok()) << llm.error().message;
    auto* provider = llm->as<sdk::LlmProvider>();
    EXPECT_EQ(provider->model(), "old-model-7");
    sdk::ProviderRequest request;
    request.messages.push_back({sdk::Role::user, "merhaba", {}, {}});
    request.tools = specs;
    request.tool_examples["old_echo_1_2"] = {"say it twice", "echo this"};
    auto first = provider->complete(request, nullptr);
    ASSERT_TRUE(first.ok()) << first.error().message;
    ASSERT_EQ(first->tool_calls.size(), 1u);
    EXPECT_EQ(first->tool_calls[0].name, "old_echo_1_2");
    request.step = 1;
    request.tools.clear();
    auto second = provider->complete(request, nullptr);
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->text, "old model heard ");
}

// ABI 1.4 added channels that send (ChannelSender, declared by a capability bit). A 1.3 channel
// had no such interface: it loads and is called as a receiver, whatever bits its descriptor holds.
TEST(OldAbi1_3, AChannelBuiltBeforeChannelsCouldSendIsAReceiver) {
    sdk::testing::FakeHost host;
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(kOld / "v1.3" / "old-channel.so"))
        << (r.refused().empty() ? "" : r.refused().back().reason);
    const auto* info = r.find("old-channel-1-3", sdk::PluginKind::channel);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->abi_minor, 3);
    EXPECT_EQ(info->capabilities, 0u);  // its stray bit is not read as kChannelSends
    EXPECT_FALSE(info->has(sdk::kChannelSends));
    auto made = r.instantiate(*info, {}, host);
    ASSERT_TRUE(made.ok()) << made.error().message;
    auto* channel = made->as<sdk::Channel>();
    ASSERT_NE(channel, nullptr);
    EXPECT_EQ(made->as<sdk::ChannelSender>(), nullptr);
    ASSERT_EQ(channel->routes().size(), 1u);
    sdk::HttpRequest request;
    request.method = "POST";
    request.body = "merhaba";
    auto message = channel->parse(request);
    ASSERT_TRUE(message.ok()) << message.error().message;
    EXPECT_EQ(message->text, "merhaba");
    sdk::TurnReply reply;
    reply.reply = "hoş geldiniz";
    EXPECT_EQ(channel->render(*message, reply).body, "old channel says hoş geldiniz");
}

TEST(PluginLoader, AChannelThatSaysItSendsMustBeASender) {
    sdk::testing::FakeHost host;
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(kDir / "not-a-sender.so")) << r.refused().back().reason;
    const auto* info = r.find("not-a-sender", sdk::PluginKind::channel);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->abi_minor, sdk::kAbiMinor);
    EXPECT_TRUE(info->has(sdk::kChannelSends));
    auto made = r.instantiate(*info, {}, host);
    ASSERT_FALSE(made.ok());
    EXPECT_EQ(made.error().code, "plugin_failed");
    EXPECT_NE(made.error().message.find("not a channel plugin that sends (a ChannelSender)"),
              std::string::npos)
        << made.error().message;
}

INSTANTIATE_TEST_SUITE_P(Versions, OldAbi, ::testing::Values("1.0", "1.1"),
                         [](const auto& info) { return info.param == "1.0" ? "Abi1_0" : "Abi1_1"; });

TEST(PluginLoader, ConfigKeysLargerThanThisEnginesAreSteppedThroughWithTheirRecordedSize) {
    PluginRegistry r;
    ASSERT_TRUE(r.load_file(kDir / "wide-keys.so")) << r.refused().back().reason;
    const auto& p = *r.find("wide");
    ASSERT_EQ(p.config.size(), 3u);
    EXPECT_STREQ(p.config[0].name, "limit");
    EXPECT_TRUE(p.config[0].minimum.set);
    EXPECT_EQ(p.config[0].maximum.value, 9);
    EXPECT_STREQ(p.config[1].name, "mode");
    ASSERT_NE(p.config[1].allowed, nullptr);
    EXPECT_STREQ(p.config[1].allowed[1], "careful");
    EXPECT_STREQ(p.config[2].name, "token");
    EXPECT_TRUE(p.config[2].secret);

    sdk::json::object config{{"limit", 12}, {"mode", "slow"}};
    auto problems = PluginRegistry::validate_config(p, config);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_EQ(problems[0].key + ": " + problems[0].message, "limit: expected an integer from 1 to 9, got 12");
    EXPECT_EQ(problems[1].key + ": " + problems[1].message,
              "mode: expected one of fast, careful, got \"slow\"");
    EXPECT_EQ(problems[2].key + ": " + problems[2].message, "token: required");

    // A secret's value never appears in a message.
    sdk::json::object secret{{"token", 123456}};
    problems = PluginRegistry::validate_config(p, secret);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].message, "expected a string, got a number");
    EXPECT_EQ(secret.at("limit"), 3);  // defaults filled
    EXPECT_EQ(secret.at("mode"), "fast");
}

TEST(PluginLoader, APluginWhoseKeysContradictThemselvesIsRefusedNamingTheKey) {
    PluginRegistry r;
    EXPECT_FALSE(r.load_file(kDir / "bad-default.so"));
    const auto* refused = refusal_for(r, "bad-default.so");
    ASSERT_NE(refused, nullptr);
    EXPECT_NE(refused->reason.find("limit: default 12: expected an integer from 1 to 9"), std::string::npos)
        << refused->reason;
}

TEST(PluginLoader, ADescriptorSmallerThanItsMinorVersionSaysIsRefused) {
    PluginRegistry r;
    EXPECT_FALSE(r.load_file(kDir / "short-descriptor.so"));
    const auto* refused = refusal_for(r, "short-descriptor.so");
    ASSERT_NE(refused, nullptr);
    const std::string ours = "ABI 1." + std::to_string(sdk::kAbiMinor);  // the fixture claims ours
    EXPECT_NE(refused->reason.find("descriptor too small for " + ours + " (72 bytes, at least 80)"),
              std::string::npos)
        << refused->reason;
}

}  // namespace
