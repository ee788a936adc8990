#pragma once
// Writes Lua scripts into a temporary folder and loads them against a FakeHost.

#include "lua/lua_host.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace tezgah::engine::lua::testing {

namespace fs = std::filesystem;
namespace json = boost::json;

/// The production limits, but a wall clock no busy test machine reaches: a test that means to stop a
/// script by time sets its own.
inline Limits test_limits() {
    Limits limits;
    limits.wall_per_call = std::chrono::seconds(30);
    return limits;
}

class ScriptTest : public ::testing::Test {
protected:
    ScriptTest() {
        static std::atomic<int> counter{0};
        folder_ = fs::temp_directory_path() /
                  ("tezgah-lua-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::create_directories(folder_ / "rules");
        fs::create_directories(folder_ / "tools");
        host.profile.id = "gece-butik";
        host.profile.language = "tr";
    }
    ~ScriptTest() override {
        std::error_code ignored;
        fs::remove_all(folder_, ignored);
    }

    /// Writes `source` to `relative` (e.g. "rules/x.lua") and returns the full path.
    std::string write(const std::string& relative, const std::string& source) {
        auto path = folder_ / relative;
        std::ofstream(path, std::ios::binary) << source;
        return path.string();
    }

    sdk::Result<LoadedScript> load(const std::string& relative, const std::string& source,
                                   const Limits& limits = test_limits()) {
        return load_script(write(relative, source), relative, host, limits);
    }

    /// Loads a rule and returns it; fails the test when it does not load.
    sdk::Rule* load_rule(const std::string& relative, const std::string& source,
                         const Limits& limits = test_limits()) {
        auto loaded = load(relative, source, limits);
        EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
        if (!loaded.ok()) return nullptr;
        EXPECT_EQ(loaded->kind, ScriptKind::rule);
        plugins_.push_back(std::move(loaded->plugin));
        return dynamic_cast<sdk::Rule*>(plugins_.back().get());
    }

    sdk::Tool* load_tool(const std::string& relative, const std::string& source,
                         const Limits& limits = test_limits()) {
        auto loaded = load(relative, source, limits);
        EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
        if (!loaded.ok()) return nullptr;
        EXPECT_EQ(loaded->kind, ScriptKind::tool);
        plugins_.push_back(std::move(loaded->plugin));
        return dynamic_cast<sdk::Tool*>(plugins_.back().get());
    }

    sdk::TurnContext turn(json::object* session = nullptr) {
        sdk::TurnContext context;
        context.tenant_id = "gece-butik";
        context.user_id = "u-42";
        context.session_id = "s-1";
        context.language = "tr";
        context.channel = "webhook";
        context.session = session;
        return context;
    }

    static sdk::InboundMessage message(const std::string& text) {
        sdk::InboundMessage inbound;
        inbound.tenant_id = "gece-butik";
        inbound.user_id = "u-42";
        inbound.text = text;
        inbound.channel = "webhook";
        return inbound;
    }

    sdk::testing::FakeHost host;

private:
    fs::path folder_;
    std::vector<sdk::PluginPtr> plugins_;
};

}  // namespace tezgah::engine::lua::testing
