// Rules and tools written in Lua, as a tenant writes them: replies, handoff, reply rewriting,
// session kept across turns, catalog lookups, tool schemas and results, strict declarations.
#include "lua/script_fixture.hpp"

#include <chrono>
#include <thread>

namespace tezgah::engine::lua::testing {
namespace {

using namespace std::chrono;

// 2024-06-02 was a Sunday, 2024-06-03 a Monday.
system_clock::time_point utc(int year, int month, int day, int hour, int minute) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return system_clock::from_time_t(timegm(&tm));
}

constexpr const char* kAfterHours = R"(
return tezgah.rule {
  name = "after-hours",
  description = "Tells customers when the shop is closed",
  on_message = function(ctx, msg)
    if ctx.is_closed() then
      return ctx.reply("Şu an kapalıyız, yarın 10:00'da açılıyoruz.")
    end
  end,
}
)";

TEST_F(ScriptTest, RuleRepliesOnlyWhenTheShopIsClosed) {
    host.profile.hours = {{"mon", "10:00-20:00"}, {"sun", "closed"}};
    auto* rule = load_rule("rules/after-hours.lua", kAfterHours);
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rule->name(), "after-hours");

    auto context = turn();
    host.time.set(utc(2024, 6, 2, 12, 0));  // Sunday: closed
    auto closed = rule->on_message(context, message("merhaba"));
    ASSERT_TRUE(closed.ok()) << closed.error().message;
    ASSERT_TRUE(closed->reply.has_value());
    EXPECT_EQ(*closed->reply, "Şu an kapalıyız, yarın 10:00'da açılıyoruz.");
    EXPECT_FALSE(closed->handoff);

    host.time.set(utc(2024, 6, 3, 12, 0));  // Monday noon: open
    auto open = rule->on_message(context, message("merhaba"));
    ASSERT_TRUE(open.ok()) << open.error().message;
    EXPECT_FALSE(open->reply.has_value());
}

TEST_F(ScriptTest, FoldAndMentionsUseTheEnginesTurkishFolding) {
    auto* rule = load_rule("rules/words.lua", R"(
return tezgah.rule {
  name = "words",
  on_message = function(ctx, msg)
    if tezgah.mentions(msg.text, {"randevu", "fistik"}) then
      return ctx.reply("evet: " .. tezgah.fold(msg.text))
    end
  end,
}
)");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    auto yes = rule->on_message(context, message("FISTIKLI Baklava var mı?"));
    ASSERT_TRUE(yes.ok()) << yes.error().message;
    ASSERT_TRUE(yes->reply.has_value());
    EXPECT_EQ(*yes->reply, "evet: fistikli baklava var mi");
    auto booking = rule->on_message(context, message("RANDEVU almak istiyorum"));
    ASSERT_TRUE(booking.ok());
    EXPECT_TRUE(booking->reply.has_value());
    auto no = rule->on_message(context, message("simit ne kadar"));
    ASSERT_TRUE(no.ok());
    EXPECT_FALSE(no->reply.has_value());

    auto* bad = load_rule("rules/bad-words.lua", R"(
return tezgah.rule {
  name = "bad-words",
  on_message = function(ctx, msg) return tezgah.mentions(msg.text, {"ok", 42}) and ctx.reply("x") end,
}
)");
    ASSERT_NE(bad, nullptr);
    auto failed = bad->on_message(context, message("hello"));
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.error().message.find("words[2] is not a string"), std::string::npos)
        << failed.error().message;
}

TEST_F(ScriptTest, MessageAndContextCarryTheTurn) {
    auto* rule = load_rule("rules/echo.lua", R"(
return tezgah.rule {
  name = "echo",
  on_message = function(ctx, msg)
    return table.concat({msg.text, msg.user_id, msg.channel, msg.language, ctx.tenant, ctx.user_id,
                         ctx.language, tostring(ctx.now())}, "|")
  end,
})");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    context.language = "en";
    auto decision = rule->on_message(context, message("do you have robes?"));
    ASSERT_TRUE(decision.ok()) << decision.error().message;
    auto now = duration_cast<seconds>(host.time.now().time_since_epoch()).count();
    EXPECT_EQ(*decision->reply,
              "do you have robes?|u-42|webhook|en|gece-butik|u-42|en|" + std::to_string(now));
}

TEST_F(ScriptTest, RuleHandsOffWithAReason) {
    auto* rule = load_rule("rules/person.lua", R"(
return tezgah.rule {
  name = "person",
  on_message = function(ctx, msg)
    if msg.text:lower():find("yetkili", 1, true) then ctx.handoff("müşteri yetkili istedi") end
  end,
})");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    auto asked = rule->on_message(context, message("bir yetkili ile görüşmek istiyorum"));
    ASSERT_TRUE(asked.ok()) << asked.error().message;
    EXPECT_TRUE(asked->handoff);
    EXPECT_EQ(asked->handoff_reason, "müşteri yetkili istedi");
    EXPECT_FALSE(asked->reply.has_value());

    auto other = rule->on_message(context, message("fiyat nedir"));
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->handoff);
}

TEST_F(ScriptTest, OnReplyRewritesOrKeepsTheReply) {
    auto* rule = load_rule("rules/signature.lua", R"(
return tezgah.rule {
  name = "signature",
  on_reply = function(ctx, reply)
    if reply:find("TL") then return reply .. " [KDV dahil]" end
  end,
})");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    auto rewritten = rule->on_reply(context, "Saten gecelik 299,99 TL");
    ASSERT_TRUE(rewritten.ok()) << rewritten.error().message;
    EXPECT_EQ(*rewritten, "Saten gecelik 299,99 TL [KDV dahil]");
    auto kept = rule->on_reply(context, "Merhaba!");
    ASSERT_TRUE(kept.ok());
    EXPECT_EQ(*kept, "Merhaba!");
    // A rule without on_message lets every message through.
    auto decision = rule->on_message(context, message("merhaba"));
    ASSERT_TRUE(decision.ok());
    EXPECT_FALSE(decision->reply.has_value());
}

TEST_F(ScriptTest, SessionPersistsAcrossTurns) {
    auto* rule = load_rule("rules/greeting.lua", R"(
return tezgah.rule {
  name = "greeting",
  on_message = function(ctx, msg)
    ctx.session.visits = (ctx.session.visits or 0) + 1
    ctx.session.seen = ctx.session.seen or {}
    table.insert(ctx.session.seen, msg.text)
    ctx.session.scratch = function() end   -- not JSON: dropped
    if ctx.session.visits == 1 then return ctx.reply("Hoş geldiniz!") end
    return ctx.reply("Tekrar hoş geldiniz, " .. ctx.session.visits .. ". ziyaretiniz")
  end,
})");
    ASSERT_NE(rule, nullptr);
    json::object session{{"cart", json::array{"saten-gecelik-siyah"}}};
    auto context = turn(&session);

    auto first = rule->on_message(context, message("selam"));
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(*first->reply, "Hoş geldiniz!");
    EXPECT_EQ(session.at("visits"), json::value(1));

    auto second = rule->on_message(context, message("yine ben"));
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(*second->reply, "Tekrar hoş geldiniz, 2. ziyaretiniz");
    EXPECT_EQ(session.at("visits"), json::value(2));
    EXPECT_EQ(session.at("seen"), (json::array{"selam", "yine ben"}));
    EXPECT_EQ(session.at("cart"), json::array{"saten-gecelik-siyah"});  // untouched keys stay
    EXPECT_FALSE(session.contains("scratch"));
    EXPECT_TRUE(host.log.contains("session.scratch"));
}

TEST_F(ScriptTest, CatalogFindAnswersFromTheTenantCatalog) {
    host.load_offerings_file(std::string(TEZGAH_FIXTURES_DIR) + "/gece-butik/data/offerings.json");
    ASSERT_FALSE(host.offerings.offerings.empty());
    const auto& wanted = host.offerings.offerings.front();
    auto* rule = load_rule("rules/finder.lua", R"(
return tezgah.rule {
  name = "finder",
  on_message = function(ctx, msg)
    local found = ctx.catalog.find(msg.text)
    if #found == 0 then return ctx.reply("yok") end
    local first = found[1]
    return ctx.reply(string.format("%s|%s|%.2f|%s|%s|%s|%s", first.id, first.name, first.price,
      first.currency, tostring(first.stock), tostring(first.available), first.category))
  end,
})");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    auto decision = rule->on_message(context, message(wanted.name));
    ASSERT_TRUE(decision.ok()) << decision.error().message;
    char price[32];
    std::snprintf(price, sizeof price, "%.2f", wanted.price);
    std::string stock = wanted.stock ? std::to_string(*wanted.stock) : "nil";
    EXPECT_EQ(*decision->reply, wanted.id + "|" + wanted.name + "|" + price + "|" + wanted.currency + "|" +
                                    stock + "|" + (wanted.available ? "true" : "false") + "|" +
                                    wanted.category);
    auto nothing = rule->on_message(context, message("zzzzqqqq xxyyzz"));
    ASSERT_TRUE(nothing.ok()) << nothing.error().message;
    EXPECT_EQ(*nothing->reply, "yok");
}

TEST_F(ScriptTest, LogGoesToTheHostLogger) {
    auto* rule = load_rule("rules/logger.lua", R"(
return tezgah.rule { name = "logger", on_message = function(ctx, msg) ctx.log("saw " .. msg.text); print("printed", 7) end })");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    ASSERT_TRUE(rule->on_message(context, message("hello")).ok());
    EXPECT_TRUE(host.log.contains("rules/logger.lua: saw hello"));
    EXPECT_TRUE(host.log.contains("printed\t7"));
}

constexpr const char* kLoyaltyTool = R"(
return tezgah.tool {
  name = "loyalty_points", description = "Müşterinin sadakat puanı",
  parameters = { type = "object", properties = { phone = { type = "string" }, note = {} }, required = { "phone" } },
  run = function(ctx, args)
    ctx.session.last_phone = args.phone
    if args.phone == "text" then return "sadece metin" end
    return { points = #args.phone * 10, phone = args.phone, tiers = { "bronz", "gümüş" }, ratio = 10 / 4,
             whole = 10 / 2, tenant = ctx.tenant, nested = { flags = args.flags } }
  end,
}
)";

TEST_F(ScriptTest, ToolOffersItsSpecWithAJsonSchema) {
    auto* tool = load_tool("tools/loyalty.lua", kLoyaltyTool);
    ASSERT_NE(tool, nullptr);
    auto specs = tool->specs();
    ASSERT_EQ(specs.size(), 1u);
    EXPECT_EQ(specs[0].name, "loyalty_points");
    EXPECT_EQ(specs[0].description, "Müşterinin sadakat puanı");
    EXPECT_EQ(json::value(specs[0].parameters), json::parse(R"({"type": "object",
        "properties": {"phone": {"type": "string"}, "note": {}}, "required": ["phone"]})"));
}

TEST_F(ScriptTest, ToolRunsWithJsonArgumentsAndAnswersJson) {
    auto* tool = load_tool("tools/loyalty.lua", kLoyaltyTool);
    ASSERT_NE(tool, nullptr);
    json::object session;
    auto context = turn(&session);
    sdk::ToolCall call{"call-1", "loyalty_points",
                       json::parse(R"({"phone": "05321234567", "flags": [true, false]})").as_object()};
    auto result = tool->invoke(call, context);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(*result, json::parse(R"({"points": 110, "phone": "05321234567", "tiers": ["bronz", "gümüş"],
        "ratio": 2.5, "whole": 5, "tenant": "gece-butik", "nested": {"flags": [true, false]}})"));
    EXPECT_EQ(session.at("last_phone"), json::value("05321234567"));

    call.arguments = json::object{{"phone", "text"}};
    auto text = tool->invoke(call, context);
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_EQ(*text, json::value("sadece metin"));

    call.name = "other_tool";
    auto wrong = tool->invoke(call, context);
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, "unknown_tool");
}

TEST_F(ScriptTest, ToolReturningSomethingNotJsonFailsClearly) {
    auto* tool = load_tool("tools/bad.lua", R"(
return tezgah.tool { name = "bad", description = "returns a function",
  run = function(ctx, args) return { ok = true, callback = function() end } end })");
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(json::value(tool->specs()[0].parameters), json::parse(R"({"type":"object","properties":{}})"));
    auto context = turn();
    auto result = tool->invoke(sdk::ToolCall{"c", "bad", {}}, context);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "lua_error");
    EXPECT_NE(result.error().message.find("tools/bad.lua"), std::string::npos) << result.error().message;
    EXPECT_NE(result.error().message.find("result.callback: a function"), std::string::npos)
        << result.error().message;
}

TEST_F(ScriptTest, CtxReplyIsOnlyForOnMessage) {
    auto* tool = load_tool("tools/replier.lua", R"(
return tezgah.tool { name = "replier", description = "misuses ctx.reply",
  run = function(ctx, args) return ctx.reply("no") end })");
    ASSERT_NE(tool, nullptr);
    auto context = turn();
    auto result = tool->invoke(sdk::ToolCall{"c", "replier", {}}, context);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("tools/replier.lua:3: ctx.reply: only in on_message"),
              std::string::npos)
        << result.error().message;
}

TEST_F(ScriptTest, AToolsExamplesAreKeptForOfflineProviders) {
    auto loaded = load("tools/quote.lua", R"(
return tezgah.tool { name = "quote", description = "a cake's price",
  examples = { "2 kg çikolatalı pasta ne kadar", "how much is a 3 kg cake" },
  run = function(ctx, args) return {} end })");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->examples,
              (std::vector<std::string>{"2 kg çikolatalı pasta ne kadar", "how much is a 3 kg cake"}));
    auto plain = load("tools/plain.lua", R"(
return tezgah.tool { name = "plain", description = "d", run = function(ctx, args) return {} end })");
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_TRUE(plain->examples.empty());
}

struct BadDeclaration {
    const char* source;
    const char* expected;  // a substring of the error
};

TEST_F(ScriptTest, DeclarationsAreCheckedStrictly) {
    const BadDeclaration cases[] = {
        {"return tezgah.rule { name = 'x', on_mesage = function() end }",
         ":1: tezgah.rule: unknown field 'on_mesage'"},
        {"return tezgah.rule { on_message = function() end }", ":1: tezgah.rule: name: required"},
        {"return tezgah.rule { name = 42, on_message = function() end }",
         "tezgah.rule: name: expected a string, got a number"},
        {"return tezgah.rule { name = 'x' }", "tezgah.rule: needs on_message, on_reply or both"},
        {"return tezgah.rule { name = 'x', on_reply = 'text' }",
         "on_reply: expected a function, got a string"},
        {"return tezgah.rule 'x'", "tezgah.rule: expected a table"},
        {"return tezgah.tool { name = 'x', run = function() end }", "tezgah.tool: description: required"},
        {"return tezgah.tool { name = 'has space', description = 'd', run = function() end }",
         "tezgah.tool: name: 'has space' must be"},
        {"return tezgah.tool { name = 'x', description = 'd' }", "tezgah.tool: run: required"},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end,\n"
         "  parameters = { type = 'object', properties = { a = {} }, required = { 'b' } } }",
         ":1: tezgah.tool: parameters.required[1]: 'b' is not in parameters.properties"},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end, parameters = { type = "
         "'string' } }",
         "parameters.type: must be \"object\""},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end, examples = 'hi' }",
         "tezgah.tool: examples: expected a table, got a string"},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end, examples = {} }",
         "tezgah.tool: examples: expected a list of 1 to 20 phrases, got 0"},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end, examples = { 'a', 2 } }",
         "tezgah.tool: examples[2]: expected a string, got a number"},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end, examples = { 'a', '' } }",
         "tezgah.tool: examples[2]: must not be empty"},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end, examples = { a = 'b' } }",
         "tezgah.tool: examples: expected a list of 1 to 20 phrases, got 0"},
        {"return tezgah.tool { name = 'x', description = 'd', run = function() end,\n"
         "  examples = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q',"
         " 'r', 's', 't', 'u' } }",
         "tezgah.tool: examples: expected a list of 1 to 20 phrases, got 21"},
        {"return { name = 'x', on_message = function() end }",
         "must return tezgah.rule{...} or tezgah.tool{...}"},
        {"local x = 1", "must return tezgah.rule{...} or tezgah.tool{...}; it returned a nil"},
    };
    int i = 0;
    for (const auto& bad : cases) {
        std::string name = "rules/bad" + std::to_string(i++) + ".lua";
        auto loaded = load(name, bad.source);
        ASSERT_FALSE(loaded.ok()) << bad.source;
        EXPECT_EQ(loaded.error().code, "lua_error");
        EXPECT_NE(loaded.error().message.find(name), std::string::npos) << loaded.error().message;
        EXPECT_NE(loaded.error().message.find(bad.expected), std::string::npos)
            << "source: " << bad.source << "\nerror: " << loaded.error().message;
    }
    EXPECT_TRUE(host.log.contains("unknown field 'on_mesage'"));
}

TEST_F(ScriptTest, CheckScriptReportsProblemsWithoutATenant) {
    EXPECT_TRUE(check_script(write("rules/after-hours.lua", kAfterHours), ScriptKind::rule).empty());
    EXPECT_TRUE(check_script(write("tools/loyalty.lua", kLoyaltyTool), ScriptKind::tool).empty());

    auto wrong_kind = check_script(write("rules/loyalty.lua", kLoyaltyTool), ScriptKind::rule);
    ASSERT_EQ(wrong_kind.size(), 1u);
    EXPECT_EQ(wrong_kind[0], "kind: expected a rule (return tezgah.rule{...}), found a tool");

    auto syntax = check_script(
        write("rules/broken.lua", "return tezgah.rule {\n name = 'x'\n on_message = 1 }"), ScriptKind::rule);
    ASSERT_EQ(syntax.size(), 1u);
    EXPECT_NE(syntax[0].find("script: "), std::string::npos);
    EXPECT_NE(syntax[0].find("broken.lua:3:"), std::string::npos) << syntax[0];

    auto missing = check_script("/nonexistent/rules/none.lua", ScriptKind::rule);
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_NE(missing[0].find("/nonexistent/rules/none.lua"), std::string::npos);
}

TEST_F(ScriptTest, OneScriptServesSeveralThreads) {
    auto* rule = load_rule("rules/counter.lua", R"(
local calls = 0
return tezgah.rule { name = "counter", on_message = function(ctx, msg)
  calls = calls + 1
  local s = 0
  for i = 1, 1000 do s = s + i end
  return ctx.reply(msg.text .. ":" .. s)
end })");
    ASSERT_NE(rule, nullptr);
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                auto context = turn();
                std::string text = std::to_string(t) + "-" + std::to_string(i);
                auto decision = rule->on_message(context, message(text));
                if (decision.ok() && decision->reply == text + ":500500") ++good;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(good.load(), 200);
}

}  // namespace
}  // namespace tezgah::engine::lua::testing

namespace tezgah::engine::lua::testing {
namespace {

/// The ```lua blocks of docs/lua.md that are complete scripts.
std::vector<std::string> documented_scripts() {
    std::string doc = sdk::testing::read_file(std::string(TEZGAH_SOURCE_DIR) + "/docs/lua.md");
    std::vector<std::string> scripts;
    for (std::size_t at = doc.find("```lua\n"); at != std::string::npos; at = doc.find("```lua\n", at)) {
        at += 7;
        std::size_t end = doc.find("```", at);
        std::string block = doc.substr(at, end - at);
        if (block.find("return tezgah.") != std::string::npos) scripts.push_back(block);
        at = end;
    }
    return scripts;
}

TEST_F(ScriptTest, TheDocumentedExamplesWork) {
    auto scripts = documented_scripts();
    ASSERT_EQ(scripts.size(), 2u);
    host.load_offerings_file(std::string(TEZGAH_FIXTURES_DIR) + "/gece-butik/data/offerings.json");
    host.profile.hours = {{"mon", "10:00-20:00"}};
    host.time.set(utc(2024, 6, 3, 12, 0));  // Monday noon: open

    auto* rule = load_rule("rules/vip.lua", scripts[0]);
    ASSERT_NE(rule, nullptr);
    json::object session;
    auto context = turn(&session);
    context.user_id = "905321112233";
    auto greeted = rule->on_message(context, message("merhaba"));
    ASSERT_TRUE(greeted.ok()) << greeted.error().message;
    EXPECT_EQ(*greeted->reply, "Hoş geldiniz Ayşe Hanım! Size nasıl yardımcı olabilirim?");
    auto complaint = rule->on_message(context, message("bir şikayetim var"));
    ASSERT_TRUE(complaint.ok());
    EXPECT_TRUE(complaint->handoff);
    EXPECT_EQ(session.at("visits"), json::value(2));

    auto* tool = load_tool("tools/gift-set.lua", scripts[1]);
    ASSERT_NE(tool, nullptr);
    auto result = tool->invoke(
        sdk::ToolCall{"c", "suggest_gift_set", json::object{{"budget", 100000}, {"query", "gecelik"}}},
        context);
    ASSERT_TRUE(result.ok()) << result.error().message;
    ASSERT_TRUE(result->is_object()) << json::serialize(*result);
    EXPECT_FALSE(result->at("items").as_array().empty());
    EXPECT_EQ(result->at("currency"), json::value("TRY"));
    for (const auto& script : {"rules/vip.lua", "tools/gift-set.lua"})
        EXPECT_TRUE(check_script(write(script, scripts[script[0] == 'r' ? 0 : 1]),
                                 script[0] == 'r' ? ScriptKind::rule : ScriptKind::tool)
                        .empty());
}

}  // namespace
}  // namespace tezgah::engine::lua::testing
