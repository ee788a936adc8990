// The turn pipeline end to end, in process: real plugins from the build, SQLite, the fixtures.
#include "pipeline/engine.hpp"

#include "support/engine_fixture.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>

using namespace tezgah::engine;
using namespace tezgah::testing;
namespace sdk = tezgah::sdk;

namespace {

using EngineTest = EngineFixture;

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

TEST_F(EngineTest, AnswersAPriceQuestionThroughTheCatalogToolAndPersistsTheTurn) {
    auto e = start();
    auto r = ask(*e, "gece-butik", "u1", "saten gecelik ne kadar, stokta var mı?");
    EXPECT_TRUE(contains(r.reply, "299,99")) << r.reply;
    EXPECT_EQ(r.method, "intent");
    EXPECT_EQ(r.language, "tr");
    ASSERT_FALSE(r.tool_calls.empty());
    EXPECT_EQ(r.tool_calls[0].name, "get_product_info");
    EXPECT_TRUE(r.tool_calls[0].ok);
    EXPECT_FALSE(r.session_id.empty());
    EXPECT_FALSE(r.conversation_id.empty());
    // The function-call log and both messages are stored.
    auto calls = e->database().tool_calls("gece-butik", r.conversation_id);
    ASSERT_TRUE(calls.ok()) << calls.error().message;
    ASSERT_FALSE(calls->empty());
    EXPECT_EQ((*calls)[0].tool, "get_product_info");
    EXPECT_TRUE((*calls)[0].ok);
    auto messages = e->database().recent_messages("gece-butik", r.conversation_id, 10);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    ASSERT_EQ(messages->size(), 2u);
    EXPECT_EQ((*messages)[0].role, "user");
    EXPECT_EQ((*messages)[1].text, r.reply);
}

TEST_F(EngineTest, FollowUpsCarryAcrossTurnsAndSessionsEndAfterThirtyIdleMinutes) {
    auto e = start();
    auto first = ask(*e, "gece-butik", "u2", "saten gecelik siyah ne kadar?");
    auto second = ask(*e, "gece-butik", "u2", "peki bordo olanı?");
    EXPECT_EQ(first.session_id, second.session_id);
    EXPECT_TRUE(contains(second.reply, "Bordo") || contains(second.reply, "bordo")) << second.reply;
    clock.advance(std::chrono::minutes(31));
    auto third = ask(*e, "gece-butik", "u2", "merhaba");
    EXPECT_NE(third.session_id, second.session_id);
}

TEST_F(EngineTest, TenantsAndUsersNeverSeeEachOthersState) {
    auto e = start();
    ask(*e, "gece-butik", "same-user", "saten gecelik siyah ne kadar?");
    auto other = ask(*e, "nefes-studyo", "same-user", "fiyatı ne kadar?");
    EXPECT_FALSE(contains(other.reply, "299,99")) << other.reply;
    EXPECT_FALSE(contains(other.reply, "Gecelik")) << other.reply;
    auto r = ask(*e, "nefes-studyo", "someone", "reformer pilates ne kadar?");
    EXPECT_TRUE(contains(r.reply, "900")) << r.reply;
}

TEST_F(EngineTest, EnglishQuestionsGetEnglishAnswers) {
    auto e = start();
    auto r = ask(*e, "gece-butik", "en1", "How much is the velvet robe?");
    EXPECT_EQ(r.language, "en");
    EXPECT_TRUE(contains(r.reply, "599")) << r.reply;
}

TEST_F(EngineTest, BadInputIsRefusedWithACode) {
    auto e = start();
    auto empty = e->handle(msg("gece-butik", "u", "   "));
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, "invalid_value");
    auto unknown = e->handle(msg("no-such-shop", "u", "merhaba"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "unknown_tenant");
    auto bad = e->handle(msg("gece-butik", "u", std::string("caf\xC3", 4)));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, "invalid_value");
    auto huge = e->handle(msg("gece-butik", "u", std::string(20000, 'a')));
    ASSERT_FALSE(huge.ok());
    EXPECT_EQ(huge.error().code, "invalid_value");
}

TEST_F(EngineTest, OneBrokenTenantNeverStopsTheOthers) {
    write(dir.path() / "tenants" / "gece-butik" / "tenant.json", "{ not json");
    auto e = start();
    auto broken = e->handle(msg("gece-butik", "u", "merhaba"));
    ASSERT_FALSE(broken.ok());
    EXPECT_EQ(broken.error().code, "invalid_tenant");
    EXPECT_TRUE(contains(broken.error().message, "tenant.json: -: malformed JSON")) << broken.error().message;
    auto fine = ask(*e, "nefes-studyo", "u", "hatha yoga ne kadar?");
    EXPECT_TRUE(contains(fine.reply, "450")) << fine.reply;
    bool failed_listed = false;
    for (const auto& t : e->tenants()) failed_listed |= t.id == "gece-butik" && t.state == "failed";
    EXPECT_TRUE(failed_listed);
}

TEST_F(EngineTest, LuaRulesAnswerRewriteAndFailWithoutStoppingTheConversation) {
    auto folder = dir.path() / "tenants" / "gece-butik";
    write(folder / "rules" / "vip.lua", R"(
return tezgah.rule {
  name = "vip",
  on_message = function(ctx, msg)
    if msg.text:find("VIP") then return ctx.reply("Hoş geldiniz, değerli müşterimiz!") end
  end,
  on_reply = function(ctx, reply) return reply .. " 🌙" end,
})");
    write(folder / "rules" / "broken.lua", R"(
return tezgah.rule {
  name = "broken",
  on_message = function(ctx, msg) error("database of loyalty points is down") end,
})");
    write(folder / "rules" / "loop.lua", R"(
return tezgah.rule {
  name = "loop",
  on_reply = function(ctx, reply) while true do end end,
})");
    edit_json(folder / "tenant.json", [](json::value& v) {
        v.as_object()["rules"] = json::array{"rules/broken.lua", "rules/loop.lua", "rules/vip.lua"};
    });
    auto e = start();
    auto vip = ask(*e, "gece-butik", "v", "VIP müşteriyim");
    EXPECT_EQ(vip.method, "rule");
    EXPECT_TRUE(contains(vip.reply, "değerli müşterimiz")) << vip.reply;
    EXPECT_TRUE(contains(vip.reply, "🌙")) << vip.reply;
    auto normal = ask(*e, "gece-butik", "w", "saten gecelik ne kadar?");
    EXPECT_EQ(normal.method, "intent");
    EXPECT_TRUE(contains(normal.reply, "299,99")) << normal.reply;
    EXPECT_TRUE(contains(normal.reply, "🌙")) << normal.reply;
}

TEST_F(EngineTest, ReimportingEditedDataUpdatesPricesAndDropsRemovedEntries) {
    {
        auto e = start();
        auto r = ask(*e, "gece-butik", "p", "kadife sabahlık ne kadar?");
        EXPECT_TRUE(contains(r.reply, "599")) << r.reply;
    }
    edit_json(dir.path() / "tenants" / "gece-butik" / "data" / "offerings.json", [](json::value& v) {
        auto& a = v.as_array();
        for (auto& o : a)
            if (o.as_object()["id"] == "kadife-sabahlik") o.as_object()["price"] = 649.0;
        a.erase(std::remove_if(a.begin(), a.end(),
                               [](const json::value& o) { return o.at("id") == "pike-sabahlik"; }),
                a.end());
    });
    auto e = start();
    auto r = ask(*e, "gece-butik", "p2", "kadife sabahlık ne kadar?");
    EXPECT_TRUE(contains(r.reply, "649")) << r.reply;
    auto tenant = e->tenant("gece-butik");
    ASSERT_TRUE(tenant.ok());
    EXPECT_FALSE((*tenant)->catalog().get("pike-sabahlik").has_value());
    EXPECT_EQ((*tenant)->catalog().all().size(), 26u);
}

TEST_F(EngineTest, HandoffOnRequestForAPersonAndOnTopics) {
    auto e = start();
    auto human = ask(*e, "gece-butik", "h", "bir yetkiliyle görüşmek istiyorum");
    EXPECT_TRUE(human.handoff);
    auto topic = ask(*e, "gece-butik", "h2", "tüketici hakem heyetine başvuracağım");
    EXPECT_TRUE(topic.handoff);
    auto price = ask(*e, "gece-butik", "h3", "çocuk pijama fiyatı?");
    EXPECT_FALSE(price.handoff);
}

class CollectingSink : public sdk::StreamSink {
public:
    void on_text(std::string_view d) override {
        text += d;
        ++pieces;
    }
    std::string text;
    int pieces = 0;
};

TEST_F(EngineTest, StreamsTheReplyText) {
    auto e = start();
    CollectingSink sink;
    auto r = e->handle(msg("gece-butik", "s", "merhaba"), &sink);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(sink.text, r->reply);
    EXPECT_GE(sink.pieces, 1);
}

TEST_F(EngineTest, ABrokenTenantIsFailedFromTheStartWithEveryProblemBeforeItsFirstMessage) {
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["locale"].as_object()["timezone"] = "Mars/Olympus";
        v.as_object()["tools"] =
            json::array{"catalog", json::object{{"name", "knowledge"}, {"colour", "red"}}};
    });
    auto e = start();
    std::map<std::string, TenantStatus> status;
    for (const auto& t : e->tenants()) status[t.id] = t;
    ASSERT_EQ(status.count("gece-butik"), 1u);
    EXPECT_EQ(status["gece-butik"].state, "failed");
    EXPECT_TRUE(
        contains(status["gece-butik"].error, "locale.timezone: \"Mars/Olympus\" is not a known time zone"))
        << status["gece-butik"].error;
    EXPECT_TRUE(contains(status["gece-butik"].error, "tools[1].colour: unknown key"))
        << status["gece-butik"].error;
    EXPECT_EQ(status["nefes-studyo"].state, "not_loaded");  // a sound tenant still loads lazily
    auto refused = e->handle(msg("gece-butik", "u", "merhaba"));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, "invalid_tenant");
    // Fixed, it is loaded again by the next reload pass.
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["locale"].as_object()["timezone"] = "Europe/Istanbul";
        v.as_object()["tools"] = json::array{"catalog", "knowledge"};
    });
    e->reload_all();
    EXPECT_TRUE(contains(ask(*e, "gece-butik", "u", "saten gecelik ne kadar?").reply, "299,99"));
}

TEST_F(EngineTest, WithThousandsOfTenantsTheCheckRunsInTheBackgroundAndStillFindsTheBrokenOne) {
    auto base = dir.path() / "tenants";
    for (int i = 0; i < 120; ++i) {
        const std::string id = "magaza-" + std::to_string(i);
        write(base / id / "tenant.json", "{\"id\": \"" + id + "\", \"name\": \"Mağaza " + std::to_string(i) +
                                             "\", \"tools\": [\"catalog\"]}");
    }
    write(base / "magaza-77" / "tenant.json", R"({"id": "magaza-77", "name": "Bozuk", "plan": "gold"})");
    auto e = start();
    // The check runs on its own thread: wait (seconds at most) for its verdict on the broken one.
    std::string state;
    for (int i = 0; i < 400 && state != "failed"; ++i) {
        for (const auto& t : e->tenants())
            if (t.id == "magaza-77") state = t.state;
        if (state != "failed") std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(state, "failed");
    EXPECT_EQ(ask(*e, "magaza-3", "u", "merhaba").method, "intent");
}

TEST_F(EngineTest, ATenantWithNoLlmIsAnsweredByTheInstalledOfflineProvider) {
    edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json",
              [](json::value& v) { v.as_object().erase("llm"); });
    auto e = start();
    auto tenant = e->tenant("nefes-studyo");
    ASSERT_TRUE(tenant.ok()) << tenant.error().message;
    ASSERT_EQ((*tenant)->providers().size(), 1u);
    EXPECT_EQ((*tenant)->providers()[0].name, "local");
    EXPECT_TRUE((*tenant)->providers()[0].offline);
    EXPECT_EQ((*tenant)->providers()[0].model, "local");  // as the plugin reports it
    EXPECT_FALSE((*tenant)->has_remote_provider());
    EXPECT_TRUE(contains(ask(*e, "nefes-studyo", "u", "hatha yoga ne kadar?").reply, "450"));
}

TEST_F(EngineTest, OnlyRulesThatRewriteRepliesHoldTheStreamBack) {
    auto folder = dir.path() / "tenants" / "gece-butik";
    write(folder / "rules" / "greet.lua", R"(
return tezgah.rule {
  name = "greet",
  on_message = function(ctx, msg) if msg.text == "selam" then return ctx.reply("Selam!") end end,
})");
    edit_json(folder / "tenant.json",
              [](json::value& v) { v.as_object()["rules"] = json::array{"rules/greet.lua"}; });
    {
        auto e = start();
        auto tenant = e->tenant("gece-butik");
        ASSERT_TRUE(tenant.ok()) << tenant.error().message;
        EXPECT_FALSE((*tenant)->has_on_reply_rules());
    }
    write(folder / "rules" / "sign.lua", R"(
return tezgah.rule { name = "sign", on_reply = function(ctx, reply) return reply .. " — Ece" end })");
    edit_json(folder / "tenant.json", [](json::value& v) {
        v.as_object()["rules"] = json::array{"rules/greet.lua", "rules/sign.lua"};
    });
    auto e = start();
    auto tenant = e->tenant("gece-butik");
    ASSERT_TRUE(tenant.ok()) << tenant.error().message;
    EXPECT_TRUE((*tenant)->has_on_reply_rules());
    CollectingSink sink;
    auto r = e->handle(msg("gece-butik", "s", "saten gecelik ne kadar?"), &sink);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(contains(r->reply, " — Ece"));
    EXPECT_EQ(sink.text, r->reply);  // the rewritten reply, sent once
    EXPECT_EQ(sink.pieces, 1);
}

TEST_F(EngineTest, AComplaintIsAnsweredWithAnApologyAndAHandoffEvenWhenARuleWouldAnswerIt) {
    // A rule like an out-of-hours booking note answers anything that mentions a person to talk to;
    // a complaint is a handoff topic, so the assistant apologises and hands over instead.
    auto folder = dir.path() / "tenants" / "gece-butik";
    write(folder / "rules" / "closed.lua", R"(
return tezgah.rule {
  name = "closed",
  on_message = function(ctx, msg)
    if tezgah.mentions(msg.text, {"yetkili"}) then return ctx.reply("Şu an kapalıyız; randevu için arayın.") end
  end,
})");
    edit_json(folder / "tenant.json", [](json::value& v) {
        v.as_object()["rules"] = json::array{"rules/closed.lua"};
        v.as_object()["handoff"].as_object()["topics"] = json::array{"şikayet"};
    });
    auto e = start();
    auto complaint = ask(*e, "gece-butik", "c1", "şikayetim var, yetkiliyle görüşmek istiyorum");
    EXPECT_TRUE(complaint.handoff);
    EXPECT_NE(complaint.method, "rule");
    EXPECT_TRUE(contains(complaint.reply, "üzgün")) << complaint.reply;
    EXPECT_FALSE(contains(complaint.reply, "randevu için arayın")) << complaint.reply;
    auto terrible = ask(*e, "gece-butik", "c3", "berbat bir hizmet, yetkiliyle görüşmek istiyorum");
    EXPECT_TRUE(terrible.handoff);
    EXPECT_TRUE(contains(terrible.reply, "üzgün")) << terrible.reply;
    auto other = ask(*e, "gece-butik", "c2", "yetkili biri var mı");
    EXPECT_EQ(other.method, "rule");
}

TEST_F(EngineTest, AHandoffTopicMatchesItsWordsInflectedOrWithoutTurkishLetters) {
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [](json::value& v) {
        v.as_object()["handoff"].as_object()["topics"] = json::array{"toptan sipariş"};
    });
    auto e = start();
    for (const std::string text :
         {"toptan siparişler için kiminle görüşmeliyim", "toptancı olarak siparis vermek istiyorum"}) {
        auto r = ask(*e, "gece-butik", "t-" + text, text);
        EXPECT_TRUE(r.handoff) << text;
    }
    EXPECT_FALSE(ask(*e, "gece-butik", "t3", "sipariş durumum nedir").handoff);
}

}  // namespace

namespace {

// A rule that cuts a two-byte letter in half hands over bytes that are not UTF-8: they are repaired
// (U+FFFD) before anything is stored or sent, so the turn's database write succeeds (PostgreSQL
// refuses invalid UTF-8 in text: set TEZGAH_TEST_PG_URL to run this against it too) and a retried
// message id gets the stored reply back.
TEST_F(EngineTest, ALetterCutInHalfByARuleIsRepairedBeforeItIsStored) {
    auto folder = dir.path() / "tenants" / "gece-butik";
    write(folder / "rules" / "cut.lua", R"(
local half = string.sub("ğ", 1, 1)
return tezgah.rule {
  name = "cut",
  on_message = function(ctx, msg)
    ctx.session["not" .. half] = "değer" .. half
    ctx.handoff("yarım " .. half)
    return ctx.reply("Merhaba " .. half)
  end,
  on_reply = function(ctx, reply) return reply .. string.sub("ş", 2) end,
})");
    edit_json(folder / "tenant.json",
              [](json::value& v) { v.as_object()["rules"] = json::array{"rules/cut.lua"}; });
    std::vector<std::string> urls = {"sqlite:" + (dir.path() / "var" / "cut.db").string()};
    if (const char* pg = std::getenv("TEZGAH_TEST_PG_URL"); pg && *pg) urls.emplace_back(pg);
    for (const auto& url : urls) {
        SCOPED_TRACE(url);
        EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = url;
        o.plugin_path = {plugin_dir()};
        Engine e(o);
        ASSERT_TRUE(e.start().ok());
        const std::string id =
            "cut-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
        auto first = e.handle(msg("gece-butik", "u-cut", "merhaba", id));
        ASSERT_TRUE(first.ok()) << first.error().message;
        EXPECT_EQ(first->reply, "Merhaba \uFFFD\uFFFD");
        EXPECT_TRUE(first->handoff);
        auto messages = e.database().recent_messages("gece-butik", first->conversation_id, 10);
        ASSERT_TRUE(messages.ok()) << messages.error().message;
        ASSERT_EQ(messages->size(), 2u);
        EXPECT_EQ((*messages)[1].text, first->reply);
        auto again = e.handle(msg("gece-butik", "u-cut", "merhaba", id));
        ASSERT_TRUE(again.ok()) << again.error().message;
        EXPECT_EQ(again->reply, first->reply);
        EXPECT_EQ(again->conversation_id, first->conversation_id);
    }
}

}  // namespace
