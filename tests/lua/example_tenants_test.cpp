// The Lua scripts the example tenants ship (tenants/*/rules, tenants/*/tools), loaded as the engine
// loads them, with each tenant's own tenant.json and offerings, at chosen moments of its week.
#include "lua/lua_host.hpp"
#include "util/common.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <date/tz.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace tezgah::engine::lua::testing {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;

const std::string kTenants = std::string(TEZGAH_SOURCE_DIR) + "/tenants/";

/// A FakeHost holding a shipped tenant. Its opening hours follow the manifest's time zone, as the
/// real host's do (sdk::testing::FakeHost reads them in UTC).
class TenantHost : public sdk::testing::FakeHost {
public:
    bool is_open_at(system_clock::time_point when) const override {
        return engine::is_open_at(profile.hours, profile.timezone, when);
    }
};

class ExampleTenant : public ::testing::Test {
protected:
    void use_tenant(const std::string& id) {
        tenant_ = id;
        host.load_manifest_file(kTenants + id + "/tenant.json");
        host.load_offerings_file(kTenants + id + "/data/offerings.json");
    }

    /// Sets the clock to a wall-clock time in the tenant's time zone.
    void set_local(int year, unsigned month, unsigned day, int hour, int minute) {
        using namespace date;
        local_seconds local = local_days{date::year{year} / month / day} + std::chrono::hours{hour} +
                              std::chrono::minutes{minute};
        host.time.set(locate_zone(host.profile.timezone)->to_sys(local));
    }

    /// Loads the tenant's script `relative` as a sdk::Rule or sdk::Tool; nullptr when it fails.
    template <class Kind>
    Kind* load(const std::string& relative) {
        auto loaded = load_script(kTenants + tenant_ + "/" + relative, relative, host);
        EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
        if (!loaded.ok()) return nullptr;
        plugins_.push_back(std::move(loaded->plugin));
        return dynamic_cast<Kind*>(plugins_.back().get());
    }

    sdk::TurnContext turn(const std::string& language = "tr") {
        sdk::TurnContext context;
        context.tenant_id = tenant_;
        context.user_id = "u-1";
        context.session_id = "s-1";
        context.language = language;
        context.channel = "webhook";
        context.session = &session;
        return context;
    }

    sdk::InboundMessage message(const std::string& text) const {
        sdk::InboundMessage inbound;
        inbound.tenant_id = tenant_;
        inbound.user_id = "u-1";
        inbound.text = text;
        inbound.channel = "webhook";
        return inbound;
    }

    /// "09:30" from the manifest's "09:30-19:30" for `day`.
    std::string opens_on(const std::string& day) const { return host.profile.hours.at(day).substr(0, 5); }

    TenantHost host;
    json::object session;

private:
    std::string tenant_;
    std::vector<sdk::PluginPtr> plugins_;
};

// ---- makas-kuafor: rules/mesai-disi.lua ------------------------------------------------------

class SalonOutOfHours : public ExampleTenant {
protected:
    void SetUp() override {
        use_tenant("makas-kuafor");
        rule = load<sdk::Rule>("rules/mesai-disi.lua");
        ASSERT_NE(rule, nullptr);
    }

    std::optional<std::string> answer(const std::string& text, const std::string& language = "tr") {
        auto context = turn(language);
        auto decision = rule->on_message(context, message(text));
        EXPECT_TRUE(decision.ok()) << decision.error().message;
        return decision.ok() ? decision->reply : std::nullopt;
    }

    sdk::Rule* rule = nullptr;
};

TEST_F(SalonOutOfHours, BookingRequestOnClosedMondayGetsTuesdaysOpeningTime) {
    ASSERT_EQ(host.profile.hours.at("mon"), "closed");
    set_local(2024, 6, 3, 14, 0);  // Monday afternoon
    auto reply = answer("Yarın randevu alabilir miyim?");
    ASSERT_TRUE(reply.has_value());
    EXPECT_NE(reply->find("yarın saat " + opens_on("tue")), std::string::npos) << *reply;
    EXPECT_NE(reply->find(host.profile.phone), std::string::npos) << *reply;
}

TEST_F(SalonOutOfHours, SundayEveningNamesTuesdayBecauseMondayIsClosed) {
    set_local(2024, 6, 2, 18, 0);  // Sunday, after the 17:00 close
    auto tr = answer("RANDEVU istiyorum");
    ASSERT_TRUE(tr.has_value());
    EXPECT_NE(tr->find("Salı günü saat " + opens_on("tue")), std::string::npos) << *tr;
    auto en = answer("Can I book a haircut?", "en");
    ASSERT_TRUE(en.has_value());
    EXPECT_NE(en->find("on Tuesday at " + opens_on("tue")), std::string::npos) << *en;
}

TEST_F(SalonOutOfHours, EarlyMorningSaysToday) {
    set_local(2024, 6, 8, 8, 0);  // Saturday before opening
    auto reply = answer("Müsait saat var mı?");
    ASSERT_TRUE(reply.has_value());
    EXPECT_NE(reply->find("bugün saat " + opens_on("sat")), std::string::npos) << *reply;
}

TEST_F(SalonOutOfHours, HoursAreReadInTheSalonsTimeZone) {
    // 07:00 UTC on a Tuesday is 10:00 in İzmir: open, so the assistant answers.
    host.time.set(date::sys_days{date::year{2024} / 6 / 4} + std::chrono::hours{7});
    EXPECT_FALSE(answer("randevu almak istiyorum").has_value());
    // 06:00 UTC is 09:00 there: not open yet.
    host.time.set(date::sys_days{date::year{2024} / 6 / 4} + std::chrono::hours{6});
    auto reply = answer("randevu almak istiyorum");
    ASSERT_TRUE(reply.has_value());
    EXPECT_NE(reply->find("bugün saat " + opens_on("tue")), std::string::npos) << *reply;
}

TEST_F(SalonOutOfHours, OtherQuestionsGetTheNoteOncePerClosedPeriod) {
    set_local(2024, 6, 3, 20, 0);  // Monday evening
    EXPECT_FALSE(answer("Balyaj ne kadar?").has_value());

    auto context = turn();
    auto first = rule->on_reply(context, "Balyaj 2.500 TL'dir.");
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_NE(first->find("yarın saat " + opens_on("tue")), std::string::npos) << *first;
    auto second = rule->on_reply(context, "Başka bir sorunuz var mı?");
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*second, "Başka bir sorunuz var mı?");

    set_local(2024, 6, 4, 20, 0);  // Tuesday after closing: a new closed period
    auto next = rule->on_reply(context, "Keratin 3.000 TL'dir.");
    ASSERT_TRUE(next.ok());
    EXPECT_NE(next->find("yarın saat " + opens_on("wed")), std::string::npos) << *next;

    set_local(2024, 6, 5, 12, 0);  // open: the reply is left alone
    auto open = rule->on_reply(context, "Buyurun.");
    ASSERT_TRUE(open.ok());
    EXPECT_EQ(*open, "Buyurun.");
}

TEST_F(SalonOutOfHours, AReplyThatSaysWeAreClosedGetsNoSecondNote) {
    set_local(2024, 6, 4, 21, 0);  // Tuesday after closing
    auto context = turn();
    const std::string said = "Şu an kapalıyız. Tekrar açılış: yarın (Çarşamba) 09:30.";
    auto reply = rule->on_reply(context, said);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(*reply, said);
    // The note is still owed to the next reply of this closed period.
    auto next = rule->on_reply(context, "Keratin 3.000 TL'dir.");
    ASSERT_TRUE(next.ok());
    EXPECT_NE(next->find("yarın saat " + opens_on("wed")), std::string::npos) << *next;
}

// ---- lezzet-firini: tools/pasta-teklifi.lua -------------------------------------------------------

class BakeryCakeQuote : public ExampleTenant {
protected:
    void SetUp() override {
        use_tenant("lezzet-firini");
        tool = load<sdk::Tool>("tools/pasta-teklifi.lua");
        ASSERT_NE(tool, nullptr);
    }

    json::object quote(json::object arguments, const std::string& language = "tr") {
        sdk::ToolCall call;
        call.name = "cake_order_quote";
        call.arguments = std::move(arguments);
        auto context = turn(language);
        auto result = tool->invoke(call, context);
        EXPECT_TRUE(result.ok()) << result.error().message;
        if (!result.ok() || !result->is_object()) return {};
        return result->get_object();
    }

    void expect_pickup(const json::object& answer, const std::string& date, const std::string& day,
                       const std::string& time) {
        EXPECT_EQ(answer.at("pickup_date").as_string(), date) << json::serialize(answer);
        EXPECT_EQ(answer.at("pickup_day").as_string(), day) << json::serialize(answer);
        EXPECT_EQ(answer.at("pickup_time").as_string(), time) << json::serialize(answer);
    }

    sdk::Tool* tool = nullptr;
};

TEST_F(BakeryCakeQuote, PricesFromTheCatalogWithDeposit) {
    set_local(2024, 6, 4, 12, 0);
    auto chocolate = host.offerings.get("pasta-cikolatali");
    ASSERT_TRUE(chocolate.has_value());
    auto answer = quote({{"kg", 2.3}, {"type", "çikolatalı"}, {"photo_print", true}});
    ASSERT_EQ(answer.at("found"), true) << json::serialize(answer);
    EXPECT_EQ(answer.at("cake_id").as_string(), "pasta-cikolatali");
    double expected = chocolate->price * 2.5 + 250;  // 2.3 kg rounds to 2.5
    EXPECT_DOUBLE_EQ(answer.at("price").to_number<double>(), expected);
    EXPECT_DOUBLE_EQ(answer.at("deposit").to_number<double>(), std::floor(expected / 2 + 0.5));  // whole TL
}

TEST_F(BakeryCakeQuote, SaturdayOrderSkipsSundayForPickup) {
    ASSERT_EQ(host.profile.hours.at("sun"), "closed");
    set_local(2024, 6, 8, 10, 0);  // Saturday 10:00: Monday and Tuesday are the two working days
    expect_pickup(quote({{"kg", 1}, {"type", "meyveli"}}), "2024-06-11", "Salı", "10:00");
    expect_pickup(quote({{"kg", 1}, {"type", "fruit"}}, "en"), "2024-06-11", "Tuesday", "10:00");
}

TEST_F(BakeryCakeQuote, OrderWhileClosedCountsFromTheNextOpening) {
    set_local(2024, 6, 7, 21, 0);  // Friday night: work starts Saturday at its opening
    expect_pickup(quote({{"kg", 1}, {"type", "meyveli"}}), "2024-06-11", "Salı", opens_on("sat"));
    set_local(2024, 6, 9, 12, 0);  // Sunday: work starts Monday morning
    expect_pickup(quote({{"kg", 1}, {"type", "meyveli"}}), "2024-06-12", "Çarşamba", opens_on("mon"));
}

TEST_F(BakeryCakeQuote, PickupWaitsForThatDaysOpening) {
    // Thursday 07:10 + two working days is Saturday 07:10, before Saturday's later opening.
    ASSERT_LT(opens_on("thu"), "07:10");
    ASSERT_GT(opens_on("sat"), "07:10");
    set_local(2024, 6, 6, 7, 10);
    expect_pickup(quote({{"kg", 1}, {"type", "meyveli"}}), "2024-06-08", "Cumartesi", opens_on("sat"));
}

TEST_F(BakeryCakeQuote, DiscontinuedCakeIsNotQuoted) {
    set_local(2024, 6, 4, 12, 0);
    auto answer = quote({{"kg", 1}, {"type", "kestaneli"}});
    EXPECT_EQ(answer.at("found"), false);
    EXPECT_NE(std::string(answer.at("message").as_string()).find("artık yapılmıyor"), std::string::npos);
}

// ---- lezzet-firini: rules/gunun-firsati.lua -------------------------------------------------------

class BakeryDailySpecial : public ExampleTenant {
protected:
    void SetUp() override {
        use_tenant("lezzet-firini");
        rule = load<sdk::Rule>("rules/gunun-firsati.lua");
        ASSERT_NE(rule, nullptr);
    }

    std::string reply_to(const std::string& text, const std::string& reply = "Buyurun.") {
        auto context = turn();
        auto decision = rule->on_message(context, message(text));
        EXPECT_TRUE(decision.ok()) << decision.error().message;
        auto rewritten = rule->on_reply(context, reply);
        EXPECT_TRUE(rewritten.ok()) << rewritten.error().message;
        return rewritten.ok() ? *rewritten : std::string();
    }

    sdk::Rule* rule = nullptr;
};

TEST_F(BakeryDailySpecial, BeforeElevenTheFirstReplyOfTheDayCarriesThatDaysSpecial) {
    set_local(2024, 6, 4, 9, 0);  // Tuesday morning
    std::string first = reply_to("Günaydın, poğaça var mı?");
    EXPECT_NE(first.find("Salı fırsatı"), std::string::npos) << first;
    EXPECT_EQ(reply_to("Teşekkürler"), "Buyurun.");  // once a day

    set_local(2024, 6, 5, 10, 59);  // the next day, still before 11:00
    EXPECT_NE(reply_to("Merhaba").find("Çarşamba fırsatı"), std::string::npos);
}

TEST_F(BakeryDailySpecial, NotFromElevenLocalTime) {
    set_local(2024, 6, 4, 11, 0);  // 08:00 UTC: before 11 in UTC, not in Ankara
    EXPECT_EQ(reply_to("Günaydın"), "Buyurun.");
}

TEST_F(BakeryDailySpecial, NotOnAComplaintNorWhenSoldOut) {
    set_local(2024, 6, 4, 9, 0);
    EXPECT_EQ(reply_to("Dünkü poğaça bozuktu, şikayetçiyim"), "Buyurun.");
    for (auto& offering : host.offerings.offerings)
        if (offering.id == "peynirli-pogaca") offering.stock = 0;
    EXPECT_EQ(reply_to("Günaydın"), "Buyurun.");
}

TEST_F(BakeryDailySpecial, NothingWhileClosed) {
    set_local(2024, 6, 4, 6, 30);  // before the 07:00 opening
    EXPECT_EQ(reply_to("Günaydın"), "Buyurun.");
}

// ---- the scripts without hours still load and run ------------------------------------------------

TEST_F(ExampleTenant, AllergenNoticeFollowsANutProduct) {
    use_tenant("lezzet-firini");
    auto* rule = load<sdk::Rule>("rules/alerjen-uyarisi.lua");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    ASSERT_TRUE(rule->on_message(context, message("Baklava var mı?")).ok());
    auto reply = rule->on_reply(context, "Fıstıklı baklavamız var.");
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_NE(reply->find("Alerjen uyarısı"), std::string::npos) << *reply;
}

TEST_F(ExampleTenant, PriceEstimateGrowsWithHairLength) {
    use_tenant("makas-kuafor");
    auto* tool = load<sdk::Tool>("tools/fiyat-tahmini.lua");
    ASSERT_NE(tool, nullptr);
    sdk::ToolCall call;
    call.name = "price_estimate";
    auto context = turn();
    call.arguments = json::object{{"service", "balyaj"}, {"hair_length", "kisa"}};
    auto short_hair = tool->invoke(call, context);
    call.arguments = json::object{{"service", "balyaj"}, {"hair_length", "long"}};
    auto long_hair = tool->invoke(call, context);
    ASSERT_TRUE(short_hair.ok() && long_hair.ok());
    EXPECT_LT(short_hair->at("price").to_number<double>(), long_hair->at("price").to_number<double>());
}

}  // namespace
}  // namespace tezgah::engine::lua::testing
