// Opening hours in a time zone: is_open_at, local_time_at, next_opening.
#include "util/common.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>

namespace tezgah::engine {
namespace {

using namespace std::chrono;

const std::map<std::string, std::string> kSalon = {
    {"mon", "closed"},      {"tue", "09:30-19:30"}, {"wed", "09:30-19:30"}, {"thu", "09:30-19:30"},
    {"fri", "09:30-19:30"}, {"sat", "09:30-19:30"}, {"sun", "11:00-17:00"}};

system_clock::time_point at_local(const std::string& zone, int year, unsigned month, unsigned day, int hour,
                                  int minute) {
    date::local_seconds local =
        date::local_days{date::year{year} / month / day} + hours{hour} + minutes{minute};
    return date::locate_zone(zone)->to_sys(local);
}

TEST(Calendar, LocalTimeBreaksDownInTheZone) {
    auto when = date::sys_days{date::year{2024} / 3 / 1} + hours{22} + minutes{30};  // UTC
    LocalTime local = local_time_at("Europe/Istanbul", when);
    EXPECT_EQ(local.year, 2024);
    EXPECT_EQ(local.month, 3);
    EXPECT_EQ(local.day, 2);
    EXPECT_EQ(local.hour, 1);
    EXPECT_EQ(local.minute, 30);
    EXPECT_STREQ(weekday_key(local.weekday), "sat");
    EXPECT_EQ(local.yday, 31 + 29 + 2);
    EXPECT_EQ(local_time_at("No/Such_Zone", when).hour, 22);  // unknown zone: UTC
}

TEST(Calendar, NextOpeningIsStrictlyAfter) {
    const std::string zone = "Europe/Istanbul";
    auto opening = next_opening(kSalon, zone, at_local(zone, 2024, 6, 4, 9, 30));  // Tuesday at opening
    ASSERT_TRUE(opening);
    EXPECT_EQ(opening->days_ahead, 1);
    EXPECT_EQ(opening->at, at_local(zone, 2024, 6, 5, 9, 30));
}

TEST(Calendar, NextOpeningSkipsTheClosedMonday) {
    const std::string zone = "Europe/Istanbul";
    auto opening = next_opening(kSalon, zone, at_local(zone, 2024, 6, 2, 18, 0));  // Sunday evening
    ASSERT_TRUE(opening);
    EXPECT_EQ(opening->days_ahead, 2);
    EXPECT_STREQ(weekday_key(opening->local.weekday), "tue");
    EXPECT_EQ(opening->local.hour * 60 + opening->local.minute, 9 * 60 + 30);
    EXPECT_FALSE(is_open_at(kSalon, zone, at_local(zone, 2024, 6, 3, 12, 0)));
}

TEST(Calendar, OnlyOneOpenDayIsAWeekAway) {
    std::map<std::string, std::string> weekly = {{"fri", "08:00-12:00"}};
    const std::string zone = "Europe/Istanbul";
    auto opening = next_opening(weekly, zone, at_local(zone, 2024, 6, 7, 9, 0));  // Friday, open
    ASSERT_TRUE(opening);
    EXPECT_EQ(opening->days_ahead, 7);
    EXPECT_EQ(opening->at, at_local(zone, 2024, 6, 14, 8, 0));
    EXPECT_FALSE(next_opening({{"mon", "closed"}}, zone, at_local(zone, 2024, 6, 7, 9, 0)));
}

TEST(Calendar, NextOpeningAcrossAClockChange) {
    // Berlin moved from UTC+1 to UTC+2 in the night to Sunday 2024-03-31.
    std::map<std::string, std::string> daily = {{"sat", "10:00-18:00"}, {"sun", "10:00-18:00"}};
    auto opening = next_opening(daily, "Europe/Berlin", at_local("Europe/Berlin", 2024, 3, 30, 20, 0));
    ASSERT_TRUE(opening);
    EXPECT_EQ(opening->at, date::sys_days{date::year{2024} / 3 / 31} + hours{8});
    EXPECT_EQ(opening->local.hour, 10);
}

}  // namespace
}  // namespace tezgah::engine
