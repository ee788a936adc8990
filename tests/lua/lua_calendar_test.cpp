// ctx.hours, ctx.local_time() and ctx.next_opening(): the tenant's calendar, read from its manifest
// (business.hours, locale.timezone) and the host's clock.
#include "lua/script_fixture.hpp"

#include <date/tz.h>

namespace tezgah::engine::lua::testing {
namespace {

using namespace std::chrono;

/// Runs `body` (the inside of on_message, returning a string) and gives its reply.
class CalendarTest : public ScriptTest {
protected:
    CalendarTest() {
        host.profile.timezone = "Europe/Istanbul";
        host.profile.hours = {
            {"mon", "10:00-20:00"}, {"tue", "10:00-20:00"}, {"wed", "closed"}, {"sat", "09:30-14:00"}};
    }

    std::string run(const std::string& body) {
        auto* rule = load_rule(
            "rules/calendar.lua",
            "return tezgah.rule { name = 'calendar', on_message = function(ctx, msg)\n" + body + "\nend }");
        if (rule == nullptr) return "(not loaded)";
        auto context = turn();
        auto decision = rule->on_message(context, message("?"));
        if (!decision.ok()) return "error: " + decision.error().message;
        return decision->reply.value_or("(nil)");
    }

    void set_local(int year, unsigned month, unsigned day, int hour, int minute) {
        date::local_seconds local =
            date::local_days{date::year{year} / month / day} + hours{hour} + minutes{minute};
        host.time.set(date::locate_zone(host.profile.timezone)->to_sys(local));
    }
};

TEST_F(CalendarTest, HoursListEveryDayWithMissingOnesClosed) {
    EXPECT_EQ(run("local h = ctx.hours\n"
                  "return table.concat({h.mon, h.tue, h.wed, h.thu, h.fri, h.sat, h.sun}, ',')"),
              "10:00-20:00,10:00-20:00,closed,closed,closed,09:30-14:00,closed");
}

TEST_F(CalendarTest, LocalTimeIsTheTenantsWallClock) {
    host.time.set(date::sys_days{date::year{2024} / 12 / 31} + hours{22} + minutes{5} + seconds{9});  // UTC
    EXPECT_EQ(run("local t = ctx.local_time()\n"
                  "return string.format('%d-%d-%d %d:%d:%d %s %d %s %s %s %s', t.year, t.month, t.day,"
                  " t.hour, t.min, t.sec, t.wday, t.yday, t.date, t.time, t.day_name_tr, t.day_name_en)"),
              "2025-1-1 1:5:9 wed 1 2025-01-01 01:05 Çarşamba Wednesday");
}

TEST_F(CalendarTest, LocalTimeOfAnotherInstant) {
    set_local(2024, 6, 3, 12, 0);
    EXPECT_EQ(run("return ctx.local_time(ctx.now() + 2 * 86400).wday"), "wed");
    EXPECT_NE(run("return ctx.local_time('soon')").find("bad argument #1 to 'local_time'"),
              std::string::npos);
}

TEST_F(CalendarTest, NextOpeningLaterToday) {
    set_local(2024, 6, 3, 8, 45);  // Monday, before 10:00
    EXPECT_EQ(
        run("local o = ctx.next_opening()\n"
            "return string.format('%s %s %s %s %d %s %s %s', o.wday, o.day_name_tr, o.day_name_en, o.time,"
            " o.in_minutes, tostring(o.today), tostring(o.tomorrow), o.date)"),
        "mon Pazartesi Monday 10:00 75 true false 2024-06-03");
    EXPECT_EQ(run("return tostring(ctx.next_opening().epoch - ctx.now())"), "4500");
}

TEST_F(CalendarTest, NextOpeningWhileOpenIsTheFollowingDay) {
    set_local(2024, 6, 3, 12, 0);  // Monday, open
    EXPECT_EQ(
        run("local o = ctx.next_opening(); return o.wday .. ' ' .. o.time .. ' ' .. tostring(o.tomorrow)"),
        "tue 10:00 true");
}

TEST_F(CalendarTest, NextOpeningSkipsClosedDays) {
    set_local(2024, 6, 4, 21, 0);  // Tuesday night; Wednesday to Friday closed
    EXPECT_EQ(run("local o = ctx.next_opening()\n"
                  "return string.format('%s %s %d %d', o.wday, o.time, o.days_ahead, o.in_minutes)"),
              "sat 09:30 4 " + std::to_string((3 * 24 + 12) * 60 + 30));
}

TEST_F(CalendarTest, NextOpeningIsNilWhenNeverOpen) {
    host.profile.hours = {{"mon", "closed"}};
    EXPECT_EQ(run("return tostring(ctx.next_opening())"), "nil");
}

TEST_F(CalendarTest, IsClosedTakesAnInstant) {
    set_local(2024, 6, 3, 12, 0);  // the FakeHost reads hours in UTC: 09:00 there, before opening
    EXPECT_EQ(run("return tostring(ctx.is_closed()) .. ' ' .. tostring(ctx.is_closed(ctx.now() + 3600))"),
              "true false");
}

TEST_F(CalendarTest, CalendarFunctionsDieWithTheCall) {
    auto* rule = load_rule("rules/keep.lua", R"(
local kept
return tezgah.rule { name = "keep", on_message = function(ctx, msg)
  if kept then return tostring(pcall(kept.next_opening)) .. tostring(pcall(kept.local_time)) end
  kept = ctx
end })");
    ASSERT_NE(rule, nullptr);
    auto context = turn();
    ASSERT_TRUE(rule->on_message(context, message("a")).ok());
    auto second = rule->on_message(context, message("b"));
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*second->reply, "falsefalse");
}

}  // namespace
}  // namespace tezgah::engine::lua::testing
