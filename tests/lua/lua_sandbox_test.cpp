// Every escape and exhaustion attempt is contained with a clear error, and the same script state
// answers the next call.
#include "lua/script_fixture.hpp"

#include <chrono>
#include <regex>

namespace tezgah::engine::lua::testing {
namespace {

// One script holding every attack, chosen by the message text; "ping" answers "pong".
constexpr const char* kAttacker = R"(
local saved_ctx
local saved_co
local attacks = {
  io_open = function() return io.open("/etc/passwd") end,
  os_execute = function() return os.execute("touch /tmp/tezgah-pwned") end,
  os_getenv = function() return os.getenv("HOME") end,
  os_exit = function() return os.exit(1) end,
  require = function() return require("os") end,
  dofile = function() return dofile("/etc/passwd") end,
  loadfile = function() return loadfile("/etc/passwd") end,
  binary_load = function()
    local f, err = load("\27LuaT\0\25\147\13\10\26\10\4\8\8xV\0\0\0\0\0\0\0\0\0\0\0(w@")
    if f then return "binary chunk loaded" end
    error(err)
  end,
  load_text = function() return load("return 6 * 7")() end,
  string_dump = function() return string.dump(function() end) end,
  debug = function() return debug.sethook() end,
  package = function() return package.loaded end,
  collectgarbage = function() return collectgarbage("count") end,
  read_global = function() return undefined_thing end,
  write_global = function() new_global = 1 end,
  unlock_globals = function() setmetatable(_G, nil) end,
  rawset_env = function() return getmetatable(_G) end,
  gc_finalizer = function() setmetatable({}, { __gc = function() while true do end end }) end,
  endless = function()
    while true do end
  end,
  pcall_endless = function()
    pcall(function() while true do end end)
    return "escaped the budget"
  end,
  coroutine_endless = function()
    coroutine.resume(coroutine.create(function() while true do end end))
    return "escaped the budget"
  end,
  coroutine_wrap_endless = function() coroutine.wrap(function() while true do end end)() end,
  rep_bomb = function() return string.rep("x", 1e12) end,
  rep_empty = function() return #string.rep("", 1e15) end,
  table_bomb = function()
    local t = {}
    for i = 1, 1e9 do t[i] = { i, i, i, i } end
  end,
  concat_bomb = function()
    local s = "x"
    while true do s = s .. s end
  end,
  pcall_memory = function()
    pcall(function() local s = "x" while true do s = s .. s end end)
    return "escaped the memory cap"
  end,
  pattern_bomb = function() return string.rep("a", 3000):find(".-.-.-b") end,
  gsub_bomb = function() return (string.rep("a", 4000):gsub(".-.-b", "")) end,
  long_subject = function() return string.rep("a", 5000):find("a") end,
  long_pattern = function() return ("abc"):find(string.rep("a?", 200)) end,
  table_move = function() return table.move({}, 1, 1e12, 2) end,
  runtime_error = function()
    local order = nil
    return order.total
  end,
  table_error = function() error({ code = 42 }) end,
  save_ctx = function(ctx) saved_ctx = ctx return "saved" end,
  use_saved = function() return saved_ctx.reply("from the past") end,
  use_saved_catalog = function() return saved_ctx.catalog.find("gecelik") end,
  start_co = function(ctx)
    saved_co = coroutine.create(function() coroutine.yield() return ctx.reply("late") end)
    coroutine.resume(saved_co)
    return "started"
  end,
  resume_co = function()
    local ok, err = coroutine.resume(saved_co)
    if ok then return "coroutine used a dead ctx" end
    error(err, 0)
  end,
}

return tezgah.rule {
  name = "attacker",
  on_message = function(ctx, msg)
    if msg.text == "ping" then return ctx.reply("pong") end
    local result = attacks[msg.text](ctx)
    if result ~= nil then return ctx.reply(tostring(result)) end
  end,
}
)";

class SandboxTest : public ScriptTest {
protected:
    void SetUp() override {
        rule = load_rule("rules/attacker.lua", kAttacker);
        ASSERT_NE(rule, nullptr);
    }

    sdk::Result<sdk::RuleDecision> attack(const std::string& name) {
        auto context = turn();
        auto started = std::chrono::steady_clock::now();
        auto result = rule->on_message(context, message(name));
        elapsed = std::chrono::steady_clock::now() - started;
        return result;
    }

    /// The attack fails with `code` and a message naming the file, a line and `expected`; then the
    /// same state still answers.
    void expect_contained(const std::string& name, const std::string& code, const std::string& expected) {
        SCOPED_TRACE(name);
        auto result = attack(name);
        ASSERT_FALSE(result.ok()) << "the attack succeeded: "
                                  << (result->reply ? *result->reply : "(no reply)");
        EXPECT_EQ(result.error().code, code) << result.error().message;
        EXPECT_TRUE(std::regex_search(result.error().message, std::regex(R"(rules/attacker\.lua:\d+: )")))
            << result.error().message;
        EXPECT_NE(result.error().message.find(expected), std::string::npos) << result.error().message;
        EXPECT_LT(elapsed, std::chrono::seconds(5));
        EXPECT_TRUE(host.log.contains(result.error().message));
        expect_still_answers();
    }

    void expect_still_answers() {
        auto context = turn();
        auto pong = rule->on_message(context, message("ping"));
        ASSERT_TRUE(pong.ok()) << pong.error().message;
        ASSERT_TRUE(pong->reply.has_value());
        EXPECT_EQ(*pong->reply, "pong");
    }

    sdk::Rule* rule = nullptr;
    std::chrono::steady_clock::duration elapsed{};
};

TEST_F(SandboxTest, NoFilesProcessesOrEnvironment) {
    expect_contained("io_open", "lua_error", "unknown global 'io'");
    expect_contained("os_execute", "lua_error", "attempt to call a nil value (field 'execute')");
    expect_contained("os_getenv", "lua_error", "attempt to call a nil value (field 'getenv')");
    expect_contained("os_exit", "lua_error", "attempt to call a nil value (field 'exit')");
    expect_contained("require", "lua_error", "unknown global 'require'");
    expect_contained("dofile", "lua_error", "unknown global 'dofile'");
    expect_contained("loadfile", "lua_error", "unknown global 'loadfile'");
    expect_contained("debug", "lua_error", "unknown global 'debug'");
    expect_contained("package", "lua_error", "unknown global 'package'");
    expect_contained("collectgarbage", "lua_error", "unknown global 'collectgarbage'");
}

TEST_F(SandboxTest, OnlyTextChunksLoad) {
    expect_contained("binary_load", "lua_error", "attempt to load a binary chunk (mode is 't')");
    expect_contained("string_dump", "lua_error", "attempt to call a nil value (field 'dump')");
    auto context = turn();
    auto text = rule->on_message(context, message("load_text"));
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_EQ(*text->reply, "42");
}

TEST_F(SandboxTest, GlobalsRefuseUnknownNames) {
    expect_contained("read_global", "lua_error", "unknown global 'undefined_thing'");
    expect_contained("write_global", "lua_error", "unknown global 'new_global'");
    expect_contained("unlock_globals", "lua_error", "cannot change a protected metatable");
    expect_contained("gc_finalizer", "lua_error", "__gc metamethods are not allowed");
    auto context = turn();
    auto locked = rule->on_message(context, message("rawset_env"));
    ASSERT_TRUE(locked.ok());
    EXPECT_EQ(*locked->reply, "locked");
}

TEST_F(SandboxTest, EndlessLoopsRunOutOfBudget) {
    expect_contained("endless", "lua_timeout", "CPU budget exhausted");
    expect_contained("pcall_endless", "lua_timeout", "CPU budget exhausted");
    expect_contained("coroutine_endless", "lua_timeout", "CPU budget exhausted");
    expect_contained("coroutine_wrap_endless", "lua_timeout", "CPU budget exhausted");
    expect_contained("table_move", "lua_timeout", "CPU budget exhausted");
}

TEST_F(SandboxTest, TheBudgetErrorNamesTheLoopLine) {
    auto result = attack("endless");
    ASSERT_FALSE(result.ok());
    // The `while true do end` of `endless` is on line 39 of kAttacker (which starts with a newline).
    std::string source = kAttacker;
    auto line = std::count(source.begin(), source.begin() + source.find("    while true do end"), '\n') + 1;
    EXPECT_NE(result.error().message.find("rules/attacker.lua:" + std::to_string(line) + ":"),
              std::string::npos)
        << result.error().message;
}

TEST_F(SandboxTest, MemoryBombsHitTheCap) {
    expect_contained("rep_bomb", "lua_memory", "memory limit of 16777216 bytes exceeded");
    expect_contained("table_bomb", "lua_memory", "memory limit of 16777216 bytes exceeded");
    expect_contained("concat_bomb", "lua_memory", "memory limit of 16777216 bytes exceeded");
    expect_contained("pcall_memory", "lua_memory", "memory limit of 16777216 bytes exceeded");
    auto context = turn();
    auto empty = rule->on_message(context, message("rep_empty"));
    ASSERT_TRUE(empty.ok()) << empty.error().message;
    EXPECT_EQ(*empty->reply, "0");
}

TEST_F(SandboxTest, PatternFunctionsAreBounded) {
    expect_contained("pattern_bomb", "lua_timeout", "CPU budget exhausted");
    expect_contained("gsub_bomb", "lua_timeout", "CPU budget exhausted");
    expect_contained("long_subject", "lua_error",
                     "string.find: subject of 5000 bytes is over the sandbox limit of 4096");
    expect_contained("long_pattern", "lua_error",
                     "string.find: pattern of 400 bytes is over the sandbox limit of 256");
}

TEST_F(SandboxTest, ErrorsNameTheFileAndLine) {
    expect_contained("runtime_error", "lua_error", "attempt to index a nil value (local 'order')");
    expect_contained("table_error", "lua_error", "error object is a table value");
}

TEST_F(SandboxTest, HostObjectsAreDeadAfterTheCall) {
    auto context = turn();
    ASSERT_TRUE(rule->on_message(context, message("save_ctx")).ok());
    expect_contained("use_saved", "lua_error", "ctx.reply: this ctx is dead");
    expect_contained("use_saved_catalog", "lua_error", "ctx.catalog.find: this ctx is dead");
    ASSERT_TRUE(rule->on_message(context, message("start_co")).ok());
    expect_contained("resume_co", "lua_error", "ctx.reply: this ctx is dead");
}

TEST_F(ScriptTest, SyntaxErrorsNameTheLine) {
    auto loaded = load("rules/syntax.lua",
                       "return tezgah.rule {\n  name = 'x',\n  on_message = function(ctx, msg)\n"
                       "    if msg.text = 'a' then end\n  end,\n}\n");
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, "lua_error");
    EXPECT_NE(loaded.error().message.find("rules/syntax.lua:4:"), std::string::npos)
        << loaded.error().message;
    EXPECT_TRUE(host.log.contains("rules/syntax.lua:4:"));
}

TEST_F(ScriptTest, TopLevelCodeIsBudgetedAndCapped) {
    auto looping =
        load("rules/loop.lua", "while true do end\nreturn tezgah.rule { name = 'x', on_reply = print }");
    ASSERT_FALSE(looping.ok());
    EXPECT_EQ(looping.error().code, "lua_timeout");
    EXPECT_NE(looping.error().message.find("rules/loop.lua:1:"), std::string::npos)
        << looping.error().message;

    Limits small = test_limits();
    small.memory_bytes = 1 << 20;
    auto hungry = load("rules/hungry.lua", "local t = {}\nfor i = 1, 1e7 do t[i] = tostring(i) end", small);
    ASSERT_FALSE(hungry.ok());
    EXPECT_EQ(hungry.error().code, "lua_memory");
    EXPECT_NE(hungry.error().message.find("rules/hungry.lua:2: memory limit of 1048576 bytes exceeded"),
              std::string::npos)
        << hungry.error().message;
}

TEST_F(ScriptTest, ASmallBudgetStillLetsShortHooksRun) {
    Limits tight = test_limits();
    tight.instructions_per_call = 20'000;
    auto* rule = load_rule("rules/tight.lua", R"(
return tezgah.rule { name = "tight", on_message = function(ctx, msg)
  local n = tonumber(msg.text)
  local s = 0
  for i = 1, n do s = s + i end
  return ctx.reply(tostring(s))
end })",
                           tight);
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    for (int round = 0; round < 3; ++round) {  // the budget is per call, not per script
        auto small = rule->on_message(context, message("100"));
        ASSERT_TRUE(small.ok()) << small.error().message;
        EXPECT_EQ(*small->reply, "5050");
    }
    auto big = rule->on_message(context, message("1000000"));
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, "lua_timeout");
}

// The bounded pattern functions keep Lua's semantics.
TEST_F(ScriptTest, PatternFunctionsBehaveLikeLuas) {
    auto* tool = load_tool("tools/patterns.lua", R"lua(
return tezgah.tool { name = "patterns", description = "pattern checks", run = function(ctx, args)
  local out = {}
  local function add(...) local t = table.pack(...) for i = 1, t.n do out[#out + 1] = tostring(t[i]) end end
  add(("hello world"):find("o w"))
  add(("hello world"):find("l+"))
  add(("hello world"):find("(o)(r)"))
  add(("a.b"):find(".", 1, true))
  add(("key = value"):match("^(%w+)%s*=%s*(%w+)$"))
  add(("  trim me  "):match("^%s*(.-)%s*$"))
  add(("THE (quick) fox"):find("%((%a+)%)"))
  add(("f(a(b)c)d"):match("%b()"))
  add(("THE (quick) fox"):gsub("%f[%a]%a+", function(w) return w:lower() end))
  add(("hello world"):gsub("o", "0", 1))
  add(("abc"):gsub("", "-"))
  add(("hello"):gsub("l", { l = "L" }))
  add(("x = 1, y = 2"):gsub("(%w+) = (%w+)", "%2 = %1"))
  add(("abc"):match("()b()"))
  add(("aaa"):match("^(a*)a$"))
  add(("[x]"):match("[]x[]+"))
  add(("2024-06-03"):match("(%d+)-(%d+)-(%d+)"))
  for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do add(k .. ":" .. v) end
  add(("abab"):find("(ab)%1"))
  add(pcall(string.find, "x", "[a"))
  add(pcall(string.gsub, "x", "x", "%2"))
  return table.concat(out, " ")
end })lua");
    ASSERT_NE(tool, nullptr);
    auto context = turn();
    auto result = tool->invoke(sdk::ToolCall{"c", "patterns", {}}, context);
    ASSERT_TRUE(result.ok()) << result.error().message;
    // What the stock lua5.4 interpreter prints for the same checks.
    std::string expected =
        "5 7 3 4 8 9 o r 2 2 key value trim me 5 11 quick (a(b)c) the (quick) fox 3 hell0 world 1 "
        "-a-b-c- 4 heLLo 2 1 = x, 2 = y 2 2 3 aa [x] 2024 06 03 a:1 b:2 1 4 ab false malformed pattern "
        "(missing ']') false invalid capture index %2";
    EXPECT_EQ(result->as_string(), expected);
}

}  // namespace
}  // namespace tezgah::engine::lua::testing

namespace tezgah::engine::lua::testing {
namespace {

// Metatables on the tables the host reads cannot make host code run script code.
TEST_F(ScriptTest, MetatablesOnHostReadTablesAreIgnored) {
    auto sneaky = load("rules/sneaky.lua", R"(
return tezgah.rule(setmetatable({ on_message = function() end }, { __index = { name = "hidden" } })))");
    ASSERT_FALSE(sneaky.ok());
    EXPECT_NE(sneaky.error().message.find("tezgah.rule: name: required"), std::string::npos)
        << sneaky.error().message;

    auto* rule = load_rule("rules/trap.lua", R"(
return tezgah.rule { name = "trap", on_message = function(ctx, msg)
  ctx.session = nil
  setmetatable(ctx, { __index = function() while true do end end })
  pcall(function() getmetatable(ctx.reply("x")).__gc = function() while true do end end end)
  return ctx.reply("still here")
end })");
    ASSERT_NE(rule, nullptr);
    json::object session{{"kept", 1}};
    auto context = turn(&session);
    auto decision = rule->on_message(context, message("hi"));
    ASSERT_TRUE(decision.ok()) << decision.error().message;
    EXPECT_EQ(*decision->reply, "still here");
    EXPECT_EQ(session.at("kept"), json::value(1));
    EXPECT_TRUE(host.log.contains("ctx.session is no longer a table"));
}

}  // namespace
}  // namespace tezgah::engine::lua::testing
