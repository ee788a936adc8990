// Lua that cannot starve anyone: work inside built-in functions is charged to the CPU budget, every
// call has a wall clock, a tenant's calls at once are capped, its log lines are rate-limited, and
// text a script hands over is valid UTF-8. Each attack below ran for minutes (or wrote megabytes)
// before; the limits here are generous seconds, for two busy cores.
#include "lua/script_fixture.hpp"

#include "ops/metrics.hpp"

#include <tezgah/sdk/text.hpp>

#include <atomic>
#include <chrono>
#include <thread>

namespace tezgah::engine::lua::testing {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// Each attack builds its own data, so that every call starts from the same state; "ping" answers.
constexpr const char* kBurner = R"(
local MB = 1024 * 1024
local function long(n) return string.rep("a", n) end
local attacks = {
  upper = function() local s = long(4 * MB) while true do local _ = s:upper() end end,
  lower = function() local s = long(4 * MB) while true do local _ = s:lower() end end,
  format = function() local s = long(4 * MB) while true do local _ = string.format("%s", s) end end,
  format_precision = function() local s = long(4 * MB) while true do local _ = string.format("%.1s", s) end end,
  reverse = function() local s = long(4 * MB) while true do local _ = s:reverse() end end,
  rep = function() while true do local _ = string.rep("ab", 2 * MB) end end,
  concat = function() local s = long(4 * MB) while true do local _ = s .. "x" end end,
  table_concat = function()
    local t = {} for i = 1, 100000 do t[i] = "abcdefgh" end
    while true do local _ = table.concat(t) end
  end,
  fold = function() local t = string.rep("Ğ", 30000) while true do local _ = tezgah.fold(t) end end,
  mentions = function()
    local t = string.rep("Ğ", 30000)
    while true do local _ = tezgah.mentions(t, { "x", "y" }) end
  end,
  mentions_long_words = function()
    local t, w = string.rep("a", 60000), string.rep("a", 30000) .. "b"
    while true do local _ = tezgah.mentions(t, { w }) end
  end,
  sort = function()
    local t = {} for i = 1, 200000 do t[i] = -i end
    while true do table.sort(t) end
  end,
  sort_comparator = function()
    local t = {} for i = 1, 200000 do t[i] = -i end
    while true do table.sort(t, function(a, b) return a > b end) end
  end,
  utf8_len = function() local s = long(4 * MB) while true do local _ = utf8.len(s) end end,
  utf8_codes = function()
    local s = "a" .. string.rep("\x80", 4 * MB)
    local step = utf8.codes(s)
    while true do pcall(step, s, 1) end
  end,
  byte = function() local s = long(50000) while true do local _ = select("#", s:byte(1, -1)) end end,
  tonumber = function() local z = string.rep("0", 4 * MB) while true do local _ = tonumber(z) end end,
  arithmetic = function() local z = string.rep("0", 4 * MB) while true do local _ = z + 0 end end,
  unpack = function()
    local t = {} for i = 1, 100000 do t[i] = i end
    while true do local _ = select("#", table.unpack(t)) end
  end,
  insert_front = function() local t = {} while true do table.insert(t, 1, true) end end,
  load = function() local chunk = string.rep(" ", 4 * MB) while true do load(chunk) end end,
  pcall_concat = function()
    local s = long(4 * MB)
    while true do pcall(function() local _ = s .. "x" end) end
  end,
  coroutine_concat = function()
    coroutine.wrap(function()
      local s = long(4 * MB)
      while true do pcall(function() local _ = s .. "x" end) end
    end)()
  end,
  -- VM instructions that do much work and are not charged: the wall clock stops them.
  compare = function()
    local a, b = long(3 * MB), long(3 * MB)
    while true do local _ = a == b end
  end,
  for_limit = function() local z = string.rep("0", 2 * MB) while true do for _ = 1, z do end end end,
  spin = function() while true do end end,
}

return tezgah.rule { name = "burner", on_message = function(ctx, msg)
  if msg.text == "ping" then return ctx.reply("pong") end
  local result = attacks[msg.text](ctx)
  if result ~= nil then return ctx.reply(result) end
end })";

class LimitsTest : public ScriptTest {
protected:
    void SetUp() override { Metrics::global().reset(); }

    /// Sends `name` to `rule`; the time it took is in `elapsed`.
    sdk::Result<sdk::RuleDecision> attack(sdk::Rule* rule, const std::string& name) {
        auto context = turn();
        const auto started = Clock::now();
        auto result = rule->on_message(context, message(name));
        elapsed = Clock::now() - started;
        return result;
    }

    /// The attack is stopped with lua_timeout and `expected` in its message, within seconds, and the
    /// same script answers the next message.
    void expect_stopped(sdk::Rule* rule, const std::string& name, const std::string& expected) {
        SCOPED_TRACE(name);
        auto result = attack(rule, name);
        ASSERT_FALSE(result.ok()) << "the attack finished: "
                                  << (result->reply ? *result->reply : "(no reply)");
        EXPECT_EQ(result.error().code, "lua_timeout") << result.error().message;
        EXPECT_NE(result.error().message.find("rules/burner.lua:"), std::string::npos)
            << result.error().message;
        EXPECT_NE(result.error().message.find(expected), std::string::npos) << result.error().message;
        EXPECT_LT(elapsed, seconds(10));
        auto context = turn();
        auto pong = rule->on_message(context, message("ping"));
        ASSERT_TRUE(pong.ok()) << pong.error().message;
        EXPECT_EQ(pong->reply, "pong");
    }

    Clock::duration elapsed{};
};

TEST_F(LimitsTest, WorkInsideBuiltInFunctionsIsChargedToTheBudget) {
    auto* rule = load_rule("rules/burner.lua", kBurner);  // a 30 s wall clock: the budget stops these
    ASSERT_NE(rule, nullptr);
    for (const char* name : {"upper",
                             "lower",
                             "format",
                             "format_precision",
                             "reverse",
                             "rep",
                             "concat",
                             "table_concat",
                             "fold",
                             "mentions",
                             "mentions_long_words",
                             "sort",
                             "sort_comparator",
                             "utf8_len",
                             "utf8_codes",
                             "byte",
                             "tonumber",
                             "arithmetic",
                             "unpack",
                             "insert_front",
                             "load",
                             "pcall_concat",
                             "coroutine_concat"})
        expect_stopped(rule, name, "CPU budget exhausted");
}

TEST_F(LimitsTest, InstructionsThatAreNotChargedAreStoppedByTheWallClock) {
    Limits limits;                                     // the production wall clock, 100 ms
    limits.instructions_per_call = 1'000'000'000'000;  // only the clock can stop these
    auto* rule = load_rule("rules/burner.lua", kBurner, limits);
    ASSERT_NE(rule, nullptr);
    for (const char* name : {"compare", "for_limit", "spin"})
        expect_stopped(rule, name, "wall-clock limit exceeded (more than 100 ms in one call)");
}

TEST_F(LimitsTest, TheWallClockIsPerScriptAndAtLeastWhatWasGiven) {
    Limits limits;
    limits.instructions_per_call = 1'000'000'000'000;
    limits.wall_per_call = std::chrono::milliseconds(300);
    auto* rule = load_rule("rules/burner.lua", kBurner, limits);
    ASSERT_NE(rule, nullptr);
    expect_stopped(rule, "spin", "wall-clock limit exceeded (more than 300 ms in one call)");
    EXPECT_GE(elapsed, std::chrono::milliseconds(300));  // never early
}

TEST_F(LimitsTest, ASmallBudgetCountsBuiltInsNotJustInstructions) {
    Limits tight = test_limits();
    tight.instructions_per_call = 50'000;
    auto* rule = load_rule("rules/tight.lua", R"(
return tezgah.rule { name = "tight", on_message = function(ctx, msg)
  return ctx.reply(tostring(#string.rep("a", tonumber(msg.text)):upper()))
end })",
                           tight);
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    auto small = rule->on_message(context, message("1000"));
    ASSERT_TRUE(small.ok()) << small.error().message;
    EXPECT_EQ(small->reply, "1000");
    // A handful of instructions, but 200,000 bytes read and more allocated.
    auto big = rule->on_message(context, message("200000"));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, "lua_timeout");
}

// What a busy but honest rule does on a long message stays well inside the budget.
TEST_F(LimitsTest, OrdinaryStringWorkFitsTheBudget) {
    auto* rule = load_rule("rules/busy.lua", R"(
return tezgah.rule { name = "busy", on_message = function(ctx, msg)
  local text = string.rep(msg.text .. " ", 70)           -- 3.5 KB, like a long message
  local words, out = {}, ""
  for word in text:gmatch("%S+") do words[#words + 1] = word:lower() end
  table.sort(words)
  for i = 1, 1000 do out = out .. words[(i % #words) + 1]:sub(1, 4) end   -- naive building
  local folded = tezgah.fold(text)
  local upper = text:upper()
  local found = tezgah.mentions(text, { "fiyat", "kargo", "iade", "indirim", "beden" })
  return ctx.reply(#words .. " " .. #out .. " " .. tostring(found) .. " " .. utf8.len(text) ..
                   " " .. #table.concat(words, ",") .. " " .. #folded .. " " .. #upper)
end })");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    auto result = rule->on_message(context, message("Bu saten gecelik kaç lira, kargo ücreti var mı?"));
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->reply.value_or("").substr(0, 4), "630 ");
}

TEST_F(LimitsTest, LoadingIsBoundedTheSameWay) {
    const std::string tail = "\nreturn tezgah.rule { name = 'x', on_reply = function(ctx, r) return r end }";
    auto started = Clock::now();
    auto burning =
        load("rules/slow-load.lua",
             "local s = string.rep('a', 4 * 1024 * 1024)\nwhile true do local _ = s:upper() end" + tail);
    EXPECT_LT(Clock::now() - started, seconds(10));
    ASSERT_FALSE(burning.ok());
    EXPECT_EQ(burning.error().code, "lua_timeout");
    EXPECT_NE(burning.error().message.find("rules/slow-load.lua:2: CPU budget exhausted"), std::string::npos)
        << burning.error().message;

    Limits limits;  // the production wall clock, 100 ms
    limits.instructions_per_call = 1'000'000'000'000;
    started = Clock::now();
    auto spinning = load("rules/spin-load.lua", "while true do end" + tail, limits);
    EXPECT_LT(Clock::now() - started, seconds(10));
    ASSERT_FALSE(spinning.ok());
    EXPECT_NE(spinning.error().message.find("rules/spin-load.lua:1: wall-clock limit exceeded"),
              std::string::npos)
        << spinning.error().message;

    auto problems = check_script(write("rules/slow-check.lua", "while true do end" + tail), ScriptKind::rule,
                                 {}, test_limits());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_NE(problems[0].find("script: "), std::string::npos) << problems[0];
    EXPECT_NE(problems[0].find("slow-check.lua:1: CPU budget exhausted"), std::string::npos) << problems[0];
}

TEST_F(LimitsTest, AStoppedCallIsCountedByReason) {
    auto* rule = load_rule("rules/burner.lua", kBurner);
    ASSERT_NE(rule, nullptr);
    ASSERT_FALSE(attack(rule, "upper").ok());
    ASSERT_FALSE(attack(rule, "nonexistent").ok());  // attacks[...] is nil: an ordinary error
    const std::string metrics = Metrics::global().render();
    EXPECT_NE(metrics.find(R"(tezgah_lua_skipped_total{reason="cpu_budget",tenant="gece-butik"} 1)"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find(R"(tezgah_lua_skipped_total{reason="error",tenant="gece-butik"} 1)"),
              std::string::npos)
        << metrics;
}

// ---- calls at once --------------------------------------------------------------------------------

TEST(TenantQuota, HoldsAtMostItsCapAndFreesAPlaceOnLeaving) {
    TenantQuota quota("t", QuotaOptions{.calls_at_once = 2});
    auto first = quota.enter(std::chrono::milliseconds(0));
    auto second = quota.enter(std::chrono::milliseconds(0));
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);
    EXPECT_FALSE(quota.enter(std::chrono::milliseconds(20)));
    {
        auto moved = std::move(first);
        EXPECT_TRUE(moved);
    }  // leaves
    EXPECT_TRUE(quota.enter(std::chrono::milliseconds(0)));
}

TEST_F(LimitsTest, CallsBeyondTheTenantsCapAreNotRun) {
    auto quota = std::make_shared<TenantQuota>("gece-butik", QuotaOptions{.calls_at_once = 1});
    auto loaded = load_script(write("rules/burner.lua", kBurner), "rules/burner.lua", host, {}, quota);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    auto* rule = dynamic_cast<sdk::Rule*>(loaded->plugin.get());
    {
        auto taken = quota->enter(std::chrono::milliseconds(0));  // another script of the tenant runs
        ASSERT_TRUE(taken);
        auto result = attack(rule, "ping");
        ASSERT_FALSE(result.ok());
        EXPECT_EQ(result.error().code, "lua_busy");
        EXPECT_NE(result.error().message.find("rules/burner.lua: not run: the tenant's scripts are at their "
                                              "limit of 1 calls at once"),
                  std::string::npos)
            << result.error().message;
        EXPECT_LT(elapsed, seconds(5));
    }
    auto result = attack(rule, "ping");
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->reply, "pong");
    EXPECT_NE(
        Metrics::global().render().find(R"(tezgah_lua_skipped_total{reason="busy",tenant="gece-butik"} 1)"),
        std::string::npos);
}

/// A host whose clock tells when a script has started (ctx.now()).
class SignallingHost : public sdk::testing::FakeHost {
public:
    class StartClock : public sdk::Clock {
    public:
        std::chrono::system_clock::time_point now() const override {
            started = true;
            return std::chrono::system_clock::now();
        }
        mutable std::atomic<bool> started{false};
    };
    const sdk::Clock& clock() const override { return start_clock; }
    StartClock start_clock;
};

TEST_F(LimitsTest, ATurnDoesNotQueueBehindABusyScript) {
    SignallingHost signalling;
    signalling.profile.id = "gece-butik";
    Limits limits;
    limits.instructions_per_call = 1'000'000'000'000;
    limits.wall_per_call = std::chrono::milliseconds(4000);  // a waiting call gives up after 1 s
    auto loaded = load_script(write("rules/slow.lua", R"(
return tezgah.rule { name = "slow", on_message = function(ctx, msg)
  if msg.text == "slow" then ctx.now() while true do end end
  return ctx.reply("pong")
end })"),
                              "rules/slow.lua", signalling, limits);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    auto* rule = dynamic_cast<sdk::Rule*>(loaded->plugin.get());
    std::thread slow([&] {
        auto context = turn();
        auto result = rule->on_message(context, message("slow"));
        EXPECT_FALSE(result.ok());
    });
    while (!signalling.start_clock.started) std::this_thread::yield();
    auto result = attack(rule, "ping");
    slow.join();
    ASSERT_FALSE(result.ok()) << "answered while the script was busy";
    EXPECT_EQ(result.error().code, "lua_busy");
    EXPECT_NE(result.error().message.find("the script was still busy with another call after 1000 ms"),
              std::string::npos)
        << result.error().message;
}

// ---- log lines ------------------------------------------------------------------------------------

TEST_F(LimitsTest, LogLinesAreRateLimitedCutAndCounted) {
    auto* rule = load_rule("rules/chatty.lua", R"(
return tezgah.rule { name = "chatty", on_message = function(ctx, msg)
  local line = string.rep("x", 5000)
  for i = 1, 10000 do ctx.log(line) print(line) end
  return ctx.reply("done")
end })");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    auto result = rule->on_message(context, message("go"));
    ASSERT_TRUE(result.ok()) << result.error().message;
    std::size_t lines = 0;
    std::size_t bytes = 0;
    for (const auto& [level, line] : host.log.lines) {
        if (line.starts_with("rules/chatty.lua: xxx")) {
            ++lines;
            bytes += line.size();
            EXPECT_NE(line.find(" [3976 bytes cut]"), std::string::npos) << line.substr(line.size() - 40);
        }
    }
    // The burst (100), and what 20 lines a second add while the loop runs.
    EXPECT_GE(lines, 100u);
    EXPECT_LT(lines, 400u);
    EXPECT_LT(bytes, 500'000u);  // it was 10 MB per message
    EXPECT_NE(Metrics::global().render().find(R"(tezgah_lua_log_dropped_total{tenant="gece-butik"})"),
              std::string::npos);
}

TEST(TenantQuota, ALogLineIsCutAtALetterBoundary) {
    TenantQuota quota("t", QuotaOptions{.log_line_bytes = 5});
    EXPECT_EQ(quota.cut_log_line("abcde"), "abcde");
    EXPECT_EQ(quota.cut_log_line("abcdğ"), "abcd [2 bytes cut]");
    EXPECT_EQ(quota.cut_log_line("abcdef"), "abcde [1 bytes cut]");
}

// ---- UTF-8 ----------------------------------------------------------------------------------------

TEST_F(LimitsTest, TextAScriptHandsOverIsValidUtf8) {
    auto* rule = load_rule("rules/cut.lua", R"(
local half = string.sub("ğ", 1, 1)
return tezgah.rule { name = "cut",
  on_message = function(ctx, msg)
    ctx.session["k" .. half] = { text = "v" .. half, nested = "a\0b" }
    if msg.text == "handoff" then ctx.handoff("neden" .. half) return nil end
    if msg.text == "marker" then return ctx.reply("ma" .. half) end
    return "Merhaba " .. half
  end,
  on_reply = function(ctx, reply) return reply .. half end,
})");
    ASSERT_NE(rule, nullptr);
    json::object session;
    auto context = turn(&session);
    auto plain = rule->on_message(context, message("hi"));
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(plain->reply, "Merhaba \uFFFD");
    auto marker = rule->on_message(context, message("marker"));
    ASSERT_TRUE(marker.ok());
    EXPECT_EQ(marker->reply, "ma\uFFFD");
    auto handoff = rule->on_message(context, message("handoff"));
    ASSERT_TRUE(handoff.ok());
    EXPECT_EQ(handoff->handoff_reason, "neden\uFFFD");
    auto rewritten = rule->on_reply(context, "Tamam");
    ASSERT_TRUE(rewritten.ok());
    EXPECT_EQ(*rewritten, "Tamam\uFFFD");
    const std::string stored = json::serialize(session);
    EXPECT_TRUE(sdk::text::valid_utf8(stored)) << stored;
    ASSERT_TRUE(session.contains("k\uFFFD")) << stored;
    EXPECT_EQ(session.at("k\uFFFD").at("nested"), "a\uFFFDb");
    EXPECT_TRUE(host.log.contains("rules/cut.lua: on_message handed over text that is not valid UTF-8"));

    auto* tool = load_tool("tools/cut.lua", R"(
return tezgah.tool { name = "cut", description = "d", run = function(ctx, args)
  return { ["ad" .. string.sub("ş", 2)] = string.sub("ş", 1, 1), list = { "\xff" } }
end })");
    ASSERT_NE(tool, nullptr);
    auto result = tool->invoke(sdk::ToolCall{"c", "cut", {}}, context);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(*result, (json::object{{"ad\uFFFD", "\uFFFD"}, {"list", json::array{"\uFFFD"}}}));
}

}  // namespace
}  // namespace tezgah::engine::lua::testing
