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
    EXPECT_EQ(p->config[0].name, "prefix");
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
    EXPECT_EQ(problems[0], "times: expected integer");
    EXPECT_EQ(problems[1], "colour: unknown key (known: prefix, times)");
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

}  // namespace
