// The availability engine (engine/src/appointments/availability.*) over the studio fixture
// (nefes-studyo: private sessions with Ayşe, Zeynep and Mert, group classes in Salon A), and over
// a Berlin business across both daylight-saving changes. The studio's hours, services and
// resources are read from its files, so a change to the fixture shows up here.
#include "appointments/availability.hpp"
#include "util/common.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <date/date.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tezgah::engine::appointments {
namespace {

namespace json = boost::json;
using std::chrono::minutes;

const std::string kStudio = std::string(TEZGAH_FIXTURES_DIR) + "/nefes-studyo";

json::value load_json(const std::string& path) {
    const auto text = read_file(path);
    if (!text) throw std::runtime_error(path + ": cannot read");
    return json::parse(*text);
}

Day day(const char* text) { return *parse_day(text); }

/// An instant written as UTC ("2026-12-07T07:00Z" style, minutes precision).
TimePoint utc(int y, unsigned mo, unsigned d, int h, int mi) {
    return date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + std::chrono::hours{h} +
           minutes{mi};
}

/// The studio as its files describe it.
class Studio : public ::testing::Test {
protected:
    void SetUp() override {
        const auto tenant = load_json(kStudio + "/tenant.json").as_object();
        timezone_ = json::value_to<std::string>(tenant.at("locale").at("timezone"));
        for (const auto& [key, value] : tenant.at("business").at("hours").as_object())
            hours_[std::string(key)] = json::value_to<std::string>(value);
        const auto offerings = load_json(kStudio + "/data/offerings.json");
        for (const auto& item : offerings.as_array()) {
            auto offering = sdk::parse_offering(item);
            ASSERT_TRUE(offering.ok()) << offering.error().message;
            offerings_[offering->id] = *offering;
        }
        const auto resources = load_json(kStudio + "/data/resources.json");
        for (const auto& item : resources.as_array()) {
            auto resource = sdk::parse_resource(item);
            ASSERT_TRUE(resource.ok()) << resource.error().message;
            resources_[resource->id] = *resource;
        }
        // Tuesday 2026-12-01, 09:00 in Istanbul (UTC+3 all year).
        now_ = utc(2026, 12, 1, 6, 0);
    }

    /// `service`'s slots on its provider over `days` days from `from`, with nothing booked.
    Query query(const std::string& service, const char* from, int days = 1) {
        const auto& offering = offerings_.at(service);
        Query q;
        q.service = &offering;
        q.resource = &resources_.at(offering.provider);
        q.business_hours = &hours_;
        q.timezone = timezone_;
        q.from = day(from);
        q.days = days;
        q.now = now_;
        return q;
    }

    /// An instant on the studio's wall clock.
    TimePoint at(const char* on, const char* hhmm) const {
        return *local_instant(day(on), *parse_hhmm(hhmm), timezone_);
    }

    /// `service` booked at `on` `hhmm` as the store would hand it to availability.
    Busy booked(const std::string& service, const char* on, const char* hhmm) const {
        const auto& offering = offerings_.at(service);
        const TimePoint start = at(on, hhmm);
        return Busy{start, start + minutes{*offering.duration_min}, offering.buffer_minutes, service};
    }

    std::vector<std::string> times(const std::vector<Slot>& slots) const {
        std::vector<std::string> out;
        for (const auto& slot : slots) out.push_back(hhmm_local(slot.start, timezone_));
        return out;
    }

    std::vector<std::string> days_and_times(const std::vector<Slot>& slots) const {
        std::vector<std::string> out;
        for (const auto& slot : slots)
            out.push_back(day_at(slot.start, timezone_).str() + " " + hhmm_local(slot.start, timezone_));
        return out;
    }

    std::string timezone_;
    std::map<std::string, std::string> hours_;
    std::map<std::string, sdk::Offering> offerings_;
    std::map<std::string, sdk::Resource> resources_;
    TimePoint now_;
};

// --- the grid, opening and closing ---------------------------------------------------------------

TEST_F(Studio, PrivateSessionStartsEverySlotFromOpeningAndEndsByClosing) {
    // Monday: the studio opens 07:00-21:00, Ayşe works 09:00-18:00. Reformer is 50 minutes: the
    // last start is 17:00 (ends 17:50); 17:30 would end at 18:20.
    const auto slots = free_slots(query("reformer-pilates", "2026-12-07"));
    const std::vector<std::string> expected = {"09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
                                               "12:00", "12:30", "13:00", "13:30", "14:00", "14:30",
                                               "15:00", "15:30", "16:00", "16:30", "17:00"};
    EXPECT_EQ(times(slots), expected);
    ASSERT_FALSE(slots.empty());
    EXPECT_EQ(iso_local(slots.front().start, timezone_), "2026-12-07T09:00:00+03:00");
    EXPECT_EQ(iso_local(slots.front().end, timezone_), "2026-12-07T09:50:00+03:00");
    EXPECT_EQ(slots.front().start, utc(2026, 12, 7, 6, 0));
    for (const auto& slot : slots) EXPECT_EQ(slot.places_left, 1);
}

TEST_F(Studio, TheGridCountsFromTheResourcesOpeningWithItsOwnStep) {
    // Tuesday: Zeynep works 12:00-20:00 inside the studio's 07:00-21:00. A 45-minute grid starts
    // at her 12:00, not at the studio's 07:00; Nefes Çalışması lasts 45 minutes.
    auto q = query("nefes-calismasi", "2026-12-08");
    q.settings.slot_minutes = 45;
    const std::vector<std::string> expected = {"12:00", "12:45", "13:30", "14:15", "15:00",
                                               "15:45", "16:30", "17:15", "18:00", "18:45"};
    EXPECT_EQ(times(free_slots(q)), expected);  // 19:30 would end at 20:15
}

TEST_F(Studio, OpenHoursAreTheBusinessHoursIntersectedWithTheResources) {
    // Saturday: Ayşe 10:00-14:00 inside the studio's 09:00-17:00.
    EXPECT_EQ(times(free_slots(query("reformer-pilates", "2026-12-12"))),
              (std::vector<std::string>{"10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00"}));
    // The studio closing early that Saturday cuts her hours too.
    hours_["sat"] = "09:00-12:00";
    EXPECT_EQ(times(free_slots(query("reformer-pilates", "2026-12-12"))),
              (std::vector<std::string>{"10:00", "10:30", "11:00"}));
    // And opening late moves the first start: the grid begins at the later opening.
    hours_["sat"] = "10:15-17:00";
    EXPECT_EQ(times(free_slots(query("reformer-pilates", "2026-12-12"))),
              (std::vector<std::string>{"10:15", "10:45", "11:15", "11:45", "12:15", "12:45"}));
}

TEST_F(Studio, ADayWithoutHoursHasNoSlots) {
    // Ayşe has no Sunday hours; the studio is open.
    EXPECT_TRUE(free_slots(query("reformer-pilates", "2026-12-06")).empty());
    // Zeynep works Sundays, but not when the studio is closed or its Sunday is missing.
    EXPECT_FALSE(free_slots(query("nefes-calismasi", "2026-12-06")).empty());
    hours_["sun"] = "closed";
    EXPECT_TRUE(free_slots(query("nefes-calismasi", "2026-12-06")).empty());
    hours_.erase("sun");
    EXPECT_TRUE(free_slots(query("nefes-calismasi", "2026-12-06")).empty());
    // No business hours given at all: nothing is open.
    auto q = query("nefes-calismasi", "2026-12-08");
    q.business_hours = nullptr;
    EXPECT_TRUE(free_slots(q).empty());
}

TEST_F(Studio, ARangeOfDaysSkipsClosedDaysInOrder) {
    // Mon 7 .. Sun 13 for Ayşe: Monday-Friday 17 starts each, Saturday 7, Sunday none.
    const auto slots = free_slots(query("reformer-pilates", "2026-12-07", 7));
    EXPECT_EQ(slots.size(), 5u * 17u + 7u);
    EXPECT_TRUE(std::is_sorted(slots.begin(), slots.end(),
                               [](const Slot& a, const Slot& b) { return a.start < b.start; }));
    EXPECT_EQ(day_at(slots.back().start, timezone_).str(), "2026-12-12");
}

// --- buffers and what is booked -------------------------------------------------------------------

TEST_F(Studio, ABookedSessionAndItsBufferBlockTheStartsItOverlaps) {
    // Reformer booked 10:00 (50 minutes + 10 buffer) holds Ayşe until 11:00: 09:30 and 10:30 are
    // gone, 09:00 (held 09:00-10:00) and 11:00 stay.
    auto q = query("reformer-pilates", "2026-12-07");
    q.busy = {booked("reformer-pilates", "2026-12-07", "10:00")};
    const auto free = times(free_slots(q));
    EXPECT_EQ(std::vector<std::string>(free.begin(), free.begin() + 3),
              (std::vector<std::string>{"09:00", "11:00", "11:30"}));
}

TEST_F(Studio, TheBookedBufferBlocksTheNextGridStartEvenWhenTheSessionHasEnded) {
    // A trial lesson (30 minutes + 10 buffer) booked 10:00 ends 10:30, but Ayşe is held until
    // 10:40: another trial at 10:30 is not offered; 11:00 is.
    auto q = query("deneme-dersi", "2026-12-07");
    q.busy = {booked("deneme-dersi", "2026-12-07", "10:00")};
    const auto free = times(free_slots(q));
    EXPECT_EQ(std::count(free.begin(), free.end(), "10:30"), 0);
    EXPECT_EQ(std::count(free.begin(), free.end(), "11:00"), 1);
    EXPECT_EQ(check_start(q, at("2026-12-07", "10:30")), Refusal::taken);
    // The candidate's own buffer counts as well: 09:30 would hold her until 10:10.
    EXPECT_EQ(std::count(free.begin(), free.end(), "09:30"), 0);
    EXPECT_EQ(std::count(free.begin(), free.end(), "09:00"), 1);
}

TEST_F(Studio, AnotherServiceOfTheSameResourceBlocksIt) {
    // A duet at 14:00 on Ayşe blocks the private reformer at 14:00 and 14:30.
    auto q = query("reformer-pilates", "2026-12-07");
    q.busy = {booked("reformer-duet", "2026-12-07", "14:00")};
    EXPECT_EQ(check_start(q, at("2026-12-07", "14:00")), Refusal::taken);
    EXPECT_EQ(check_start(q, at("2026-12-07", "14:30")), Refusal::taken);
    EXPECT_EQ(check_start(q, at("2026-12-07", "15:00")), Refusal::none);
}

// --- group classes and capacity ---------------------------------------------------------------------

TEST_F(Studio, AGroupClassStartsOnlyAtItsScheduledTimes) {
    // Hatha Yoga: Tuesday and Thursday 18:30, Sunday 11:00, in Salon A.
    const auto slots = free_slots(query("hatha-yoga", "2026-12-07", 7));
    EXPECT_EQ(days_and_times(slots),
              (std::vector<std::string>{"2026-12-08 18:30", "2026-12-10 18:30", "2026-12-13 11:00"}));
    for (const auto& slot : slots) {
        EXPECT_EQ(slot.places_left, *offerings_.at("hatha-yoga").capacity);
        EXPECT_EQ(slot.end - slot.start, minutes{75});
    }
    auto q = query("hatha-yoga", "2026-12-08");
    EXPECT_EQ(check_start(q, at("2026-12-08", "18:00")), Refusal::off_grid);
    EXPECT_EQ(check_start(q, at("2026-12-08", "18:30")), Refusal::none);
    // Monday the room is open but the class does not meet.
    EXPECT_TRUE(free_slots(query("hatha-yoga", "2026-12-07")).empty());
    EXPECT_EQ(check_start(query("hatha-yoga", "2026-12-07"), at("2026-12-07", "18:30")), Refusal::off_grid);
}

TEST_F(Studio, AGroupClassCountsItsPlacesAndAFullClassHasNoSlot) {
    const int capacity = *offerings_.at("mat-pilates").capacity;
    auto q = query("mat-pilates", "2026-12-07");  // Monday 19:00
    for (int taken = 0; taken < capacity; ++taken) {
        const auto slots = free_slots(q);
        ASSERT_EQ(slots.size(), 1u) << taken << " booked";
        EXPECT_EQ(slots.front().places_left, capacity - taken);
        EXPECT_EQ(hhmm_local(slots.front().start, timezone_), "19:00");
        q.busy.push_back(booked("mat-pilates", "2026-12-07", "19:00"));
    }
    EXPECT_TRUE(free_slots(q).empty());
    EXPECT_EQ(check_start(q, at("2026-12-07", "19:00")), Refusal::taken);
    // A cancellation (the store leaves it out of `busy`) frees one place.
    q.busy.pop_back();
    ASSERT_EQ(free_slots(q).size(), 1u);
    EXPECT_EQ(free_slots(q).front().places_left, 1);
}

TEST_F(Studio, AGroupClassMustFitTheBusinessHours) {
    // The studio closing at 19:30 on Mondays leaves no room for Mat Pilates at 19:00 (60 minutes).
    hours_["mon"] = "07:00-19:30";
    EXPECT_TRUE(free_slots(query("mat-pilates", "2026-12-07")).empty());
    EXPECT_EQ(check_start(query("mat-pilates", "2026-12-07"), at("2026-12-07", "19:00")),
              Refusal::outside_hours);
    // Yin Yoga on Monday 07:30 is inside 07:00-19:30 and still meets.
    EXPECT_EQ(times(free_slots(query("yin-yoga", "2026-12-07"))), (std::vector<std::string>{"07:30"}));
}

TEST_F(Studio, ARoomLimitsAClassAndAPrivateSessionByItsCapacity) {
    const auto& room = resources_.at("salon-a");
    // A class announced for more people than the room holds gets the room's capacity.
    auto big = offerings_.at("hatha-yoga");
    big.capacity = room.capacity + 4;
    EXPECT_EQ(capacity_of(big, room), room.capacity);
    EXPECT_EQ(capacity_of(offerings_.at("hatha-yoga"), room), *offerings_.at("hatha-yoga").capacity);
    // A private service has the resource's capacity: one for a person, the room's for a room.
    EXPECT_EQ(capacity_of(offerings_.at("reformer-pilates"), resources_.at("ayse")), 1);
    auto rental = offerings_.at("spor-masaji");
    rental.provider = "salon-a";
    EXPECT_EQ(capacity_of(rental, room), room.capacity);
    Query q = query("spor-masaji", "2026-12-07");
    q.service = &rental;
    q.resource = &room;
    const auto before = free_slots(q);
    ASSERT_FALSE(before.empty());
    EXPECT_EQ(before.front().places_left, room.capacity);
    EXPECT_EQ(hhmm_local(before.front().start, timezone_), "07:00");
    for (int i = 0; i < 3; ++i)
        q.busy.push_back(Busy{before.front().start, before.front().end, 10, "spor-masaji"});
    EXPECT_EQ(free_slots(q).front().places_left, room.capacity - 3);
}

TEST_F(Studio, PlacesLeftCountsTheMostAppointmentsAtOneMoment) {
    const TimePoint ten = utc(2026, 12, 7, 7, 0);
    auto span = [&](int from, int to) { return Busy{ten + minutes{from}, ten + minutes{to}, 0, "x"}; };
    // 10:00-11:00, 10:30-11:30 and 11:00-12:00: never more than two at once (the first ends as
    // the third starts).
    const std::vector<Busy> busy = {span(0, 60), span(30, 90), span(60, 120)};
    EXPECT_EQ(places_left(2, ten, ten + minutes{120}, 0, busy), 0);
    EXPECT_EQ(places_left(3, ten, ten + minutes{120}, 0, busy), 1);
    EXPECT_EQ(places_left(2, ten + minutes{90}, ten + minutes{120}, 0, busy), 1);
    // Touching is not overlapping; a buffer makes it overlap.
    EXPECT_EQ(places_left(1, ten + minutes{120}, ten + minutes{150}, 0, busy), 1);
    EXPECT_EQ(places_left(1, ten - minutes{30}, ten, 0, busy), 1);
    EXPECT_EQ(places_left(1, ten - minutes{30}, ten, 1, busy), 0);
    // The buffer of a booked one holds the resource after its end.
    const std::vector<Busy> buffered = {Busy{ten, ten + minutes{30}, 15, "x"}};
    EXPECT_EQ(places_left(1, ten + minutes{40}, ten + minutes{70}, 0, buffered), 0);
    EXPECT_EQ(places_left(1, ten + minutes{45}, ten + minutes{75}, 0, buffered), 1);
    // Never below zero, even when more are booked than the capacity.
    EXPECT_EQ(places_left(1, ten, ten + minutes{60}, 0, busy), 0);
    EXPECT_EQ(places_left(2, ten, ten + minutes{120}, 0, {span(0, 60), span(0, 60), span(0, 60)}), 0);
}

// --- time off, closures, notice, horizon --------------------------------------------------------------

TEST_F(Studio, TimeOffClosesTheResourcesDaysInclusively) {
    // Mert is off 2027-01-11..15 (his Monday, Wednesday and Friday that week).
    const auto& off = resources_.at("mert").time_off;
    ASSERT_EQ(off.size(), 1u);
    EXPECT_EQ(off.front().from, "2027-01-11");
    EXPECT_EQ(off.front().to, "2027-01-15");
    const auto slots = free_slots(query("spor-masaji", "2027-01-08", 11));  // Fri 8 .. Mon 18
    std::set<std::string> days;
    for (const auto& slot : slots) days.insert(day_at(slot.start, timezone_).str());
    EXPECT_EQ(days, (std::set<std::string>{"2027-01-08", "2027-01-18"}));
    auto q = query("spor-masaji", "2027-01-11");
    EXPECT_EQ(check_start(q, at("2027-01-11", "10:00")), Refusal::closed_day);
    EXPECT_EQ(check_start(q, at("2027-01-15", "18:00")), Refusal::closed_day);
    EXPECT_EQ(check_start(q, at("2027-01-18", "10:00")), Refusal::none);
    // The time off is his: Ayşe works that week.
    EXPECT_FALSE(free_slots(query("reformer-pilates", "2027-01-13")).empty());
}

TEST_F(Studio, AClosureClosesTheWholeDay) {
    auto q = query("reformer-pilates", "2026-12-08", 3);  // Tue 8 .. Thu 10
    q.settings.closures = {day("2026-12-09")};
    std::set<std::string> days;
    for (const auto& slot : free_slots(q)) days.insert(day_at(slot.start, timezone_).str());
    EXPECT_EQ(days, (std::set<std::string>{"2026-12-08", "2026-12-10"}));
    EXPECT_EQ(check_start(q, at("2026-12-09", "10:00")), Refusal::closed_day);
    // A group class as well.
    auto yoga = query("hatha-yoga", "2026-12-10");
    yoga.settings.closures = {day("2026-12-10")};
    EXPECT_TRUE(free_slots(yoga).empty());
}

TEST_F(Studio, MinimumNoticeHidesStartsTooSoon) {
    // Monday 08:00 with two hours' notice: the first start is 10:00.
    auto q = query("reformer-pilates", "2026-12-07");
    q.now = at("2026-12-07", "08:00");
    q.settings.min_notice_minutes = 120;
    EXPECT_EQ(times(free_slots(q)).front(), "10:00");
    EXPECT_EQ(check_start(q, at("2026-12-07", "09:30")), Refusal::too_soon);
    EXPECT_EQ(check_start(q, at("2026-12-07", "10:00")), Refusal::none);
    // Asked at 10:05, today's past starts are gone (and earlier days too).
    q.now = at("2026-12-07", "10:05");
    q.settings.min_notice_minutes = 0;
    EXPECT_EQ(times(free_slots(q)).front(), "10:30");
    EXPECT_EQ(check_start(q, at("2026-12-07", "10:00")), Refusal::past);
    q.from = day("2026-12-04");
    q.days = 4;
    EXPECT_EQ(days_and_times(free_slots(q)).front(), "2026-12-07 10:30");
}

TEST_F(Studio, TheHorizonEndsOnTodayPlusMaxDaysAhead) {
    // Today is 2026-12-01; 60 days ahead is Saturday 2027-01-30.
    auto q = query("reformer-pilates", "2027-01-28", 5);  // Thu 28 .. Mon Feb 1
    std::set<std::string> days;
    for (const auto& slot : free_slots(q)) days.insert(day_at(slot.start, timezone_).str());
    EXPECT_EQ(days, (std::set<std::string>{"2027-01-28", "2027-01-29", "2027-01-30"}));
    EXPECT_EQ(check_start(q, at("2027-01-30", "13:00")), Refusal::none);
    EXPECT_EQ(check_start(q, at("2027-02-01", "10:00")), Refusal::too_far);
    q.settings.max_days_ahead = 7;
    EXPECT_TRUE(free_slots(q).empty());
    q.from = day("2026-12-08");
    q.days = 1;
    EXPECT_FALSE(free_slots(q).empty());  // today + 7
    q.from = day("2026-12-09");
    EXPECT_TRUE(free_slots(q).empty());
}

// --- check_start, reason by reason ---------------------------------------------------------------------

struct StartCase {
    const char* what;
    const char* day;
    const char* time;
    int second;
    Refusal expected;
};

TEST_F(Studio, CheckStartGivesEachRefusal) {
    // Ayşe's reformer; now is Monday 2026-12-07 10:00 with an hour's notice; 12:00 is booked;
    // the studio is closed on 2026-12-09.
    auto q = query("reformer-pilates", "2026-12-07");
    q.now = at("2026-12-07", "10:00");
    q.settings.closures = {day("2026-12-09")};
    q.busy = {booked("reformer-pilates", "2026-12-07", "12:00")};
    const StartCase cases[] = {
        {"free", "2026-12-07", "13:00", 0, Refusal::none},
        {"before now", "2026-12-07", "09:30", 0, Refusal::past},
        {"yesterday", "2026-12-06", "15:00", 0, Refusal::past},
        {"within the notice", "2026-12-07", "10:30", 0, Refusal::too_soon},
        {"past the horizon", "2027-02-10", "10:00", 0, Refusal::too_far},
        {"a closure", "2026-12-09", "10:00", 0, Refusal::closed_day},
        {"Ayşe's Sunday", "2026-12-13", "10:00", 0, Refusal::closed_day},
        {"before she starts", "2026-12-08", "08:00", 0, Refusal::outside_hours},
        {"ends after closing", "2026-12-08", "17:30", 0, Refusal::outside_hours},
        {"at closing", "2026-12-08", "18:00", 0, Refusal::outside_hours},
        {"between grid starts", "2026-12-08", "09:15", 0, Refusal::off_grid},
        {"not a whole minute", "2026-12-08", "09:30", 30, Refusal::off_grid},
        {"booked", "2026-12-07", "12:00", 0, Refusal::taken},
        {"held by the booking's buffer", "2026-12-07", "12:30", 0, Refusal::taken},
        {"runs into the booking", "2026-12-07", "11:30", 0, Refusal::taken},
        {"held until the booking starts", "2026-12-07", "11:00", 0, Refusal::none},
        {"right after the buffer", "2026-12-07", "13:00", 0, Refusal::none},
    };
    for (const auto& c : cases) {
        const TimePoint start = at(c.day, c.time) + std::chrono::seconds{c.second};
        EXPECT_EQ(check_start(q, start), c.expected) << c.what;
    }
    // Every free slot passes check_start, and check_start agrees with free_slots on the whole day.
    q.from = day("2026-12-07");
    q.days = 2;
    const auto slots = free_slots(q);
    for (const auto& slot : slots)
        EXPECT_EQ(check_start(q, slot.start), Refusal::none) << iso_local(slot.start, timezone_);
    std::size_t accepted = 0;
    for (TimePoint t = at("2026-12-07", "00:00"); t < at("2026-12-09", "00:00"); t += minutes{5})
        accepted += check_start(q, t) == Refusal::none;
    EXPECT_EQ(accepted, slots.size());
}

// --- nearest slots --------------------------------------------------------------------------------------

TEST_F(Studio, NearestSlotsAreOrderedByDistanceThenEarliest) {
    auto q = query("reformer-pilates", "2026-12-07", 2);
    q.busy = {booked("reformer-pilates", "2026-12-07", "10:00")};
    // Free: 09:00, 11:00, 11:30, 12:00, ... 10:00 is taken; 09:00 and 11:00 are both an hour away.
    EXPECT_EQ(times(nearest_slots(q, at("2026-12-07", "10:00"), 3)),
              (std::vector<std::string>{"09:00", "11:00", "11:30"}));
    // From 10:30: 11:00 (30), 11:30 (60), then 09:00 and 12:00 at 90: the earlier wins.
    EXPECT_EQ(times(nearest_slots(q, at("2026-12-07", "10:30"), 4)),
              (std::vector<std::string>{"11:00", "11:30", "09:00", "12:00"}));
    // A closed day's nearest come from the following days in range, first ones first.
    auto sunday = query("reformer-pilates", "2026-12-13", 2);
    EXPECT_EQ(days_and_times(nearest_slots(sunday, at("2026-12-13", "10:00"), 3)),
              (std::vector<std::string>{"2026-12-14 09:00", "2026-12-14 09:30", "2026-12-14 10:00"}));
    EXPECT_TRUE(nearest_slots(query("reformer-pilates", "2026-12-13"), at("2026-12-13", "10:00"), 3).empty());
    EXPECT_EQ(nearest_slots(q, at("2026-12-07", "10:00"), 0).size(), 0u);
}

// --- wall clocks --------------------------------------------------------------------------------------

TEST(WallClock, IsoLocalHhmmLocalAndLocalInstant) {
    const TimePoint noon_utc = utc(2026, 12, 15, 12, 0);
    EXPECT_EQ(iso_local(noon_utc, "Europe/Istanbul"), "2026-12-15T15:00:00+03:00");
    EXPECT_EQ(iso_local(noon_utc, "UTC"), "2026-12-15T12:00:00+00:00");
    EXPECT_EQ(iso_local(noon_utc, "America/New_York"), "2026-12-15T07:00:00-05:00");
    EXPECT_EQ(iso_local(noon_utc, "Asia/Kolkata"), "2026-12-15T17:30:00+05:30");
    EXPECT_EQ(iso_local(noon_utc + std::chrono::milliseconds{999}, "UTC"), "2026-12-15T12:00:00+00:00");
    EXPECT_EQ(hhmm_local(noon_utc, "Europe/Istanbul"), "15:00");
    EXPECT_EQ(hhmm_local(noon_utc, "America/New_York"), "07:00");
    // The day before in New York: 23:30 on 2026-12-14.
    EXPECT_EQ(hhmm_local(utc(2026, 12, 15, 4, 30), "America/New_York"), "23:30");
    EXPECT_EQ(local_instant(day("2026-12-15"), 15 * 60, "Europe/Istanbul"), noon_utc);
    EXPECT_EQ(local_instant(day("2026-12-15"), 24 * 60, "Europe/Istanbul"), utc(2026, 12, 15, 21, 0));
    // An unknown zone reads as UTC.
    EXPECT_EQ(local_instant(day("2026-12-15"), 12 * 60, "Mars/Olympus"), noon_utc);
    EXPECT_EQ(iso_local(noon_utc, "Mars/Olympus"), "2026-12-15T12:00:00+00:00");
}

// --- daylight saving (Europe/Berlin) ----------------------------------------------------------------------

/// A business in Berlin, open 00:00-06:00 every day, with one person working the same hours.
class Berlin : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* key : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
            hours_[key] = "00:00-06:00";
            person_.hours[key] = "00:00-06:00";
        }
        person_.id = "nachtschicht";
        person_.name = "Nachtschicht";
        person_.type = "person";
        service_.id = "sitzung";
        service_.type = "SERVICE";
        service_.name = "Sitzung";
        service_.duration_min = 60;
        service_.provider = person_.id;
    }

    Query query(const char* on, TimePoint now) const {
        Query q;
        q.service = &service_;
        q.resource = &person_;
        q.business_hours = &hours_;
        q.timezone = "Europe/Berlin";
        q.settings.min_notice_minutes = 0;
        q.from = day(on);
        q.now = now;
        return q;
    }

    std::vector<std::string> starts(const std::vector<Slot>& slots) const {
        std::vector<std::string> out;
        for (const auto& slot : slots) out.push_back(iso_local(slot.start, "Europe/Berlin"));
        return out;
    }

    std::map<std::string, std::string> hours_;
    sdk::Resource person_;
    sdk::Offering service_;
};

TEST_F(Berlin, SpringForwardSkipsTheLostHour) {
    // 2027-03-28: at 02:00 CET the clocks go to 03:00 CEST (01:00 UTC). 02:00 and 02:30 do not
    // exist; the six wall hours are five real ones.
    const auto slots = free_slots(query("2027-03-28", utc(2027, 3, 1, 0, 0)));
    EXPECT_EQ(starts(slots),
              (std::vector<std::string>{
                  "2027-03-28T00:00:00+01:00", "2027-03-28T00:30:00+01:00", "2027-03-28T01:00:00+01:00",
                  "2027-03-28T01:30:00+01:00", "2027-03-28T03:00:00+02:00", "2027-03-28T03:30:00+02:00",
                  "2027-03-28T04:00:00+02:00", "2027-03-28T04:30:00+02:00", "2027-03-28T05:00:00+02:00"}));
    ASSERT_EQ(slots.size(), 9u);
    EXPECT_EQ(slots[0].start, utc(2027, 3, 27, 23, 0));
    EXPECT_EQ(slots[3].start, utc(2027, 3, 28, 0, 30));
    EXPECT_EQ(slots[4].start, utc(2027, 3, 28, 1, 0));  // 03:00 CEST follows 01:30 CET by 30 minutes
    // 01:30 for an hour ends at 03:30 summer time: sixty real minutes.
    EXPECT_EQ(iso_local(slots[3].end, "Europe/Berlin"), "2027-03-28T03:30:00+02:00");
    for (const auto& slot : slots) EXPECT_EQ(slot.end - slot.start, minutes{60});
    // The last one ends exactly at closing, 06:00 CEST = 04:00 UTC.
    EXPECT_EQ(slots.back().end, utc(2027, 3, 28, 4, 0));
    EXPECT_EQ(local_instant(day("2027-03-28"), 2 * 60, "Europe/Berlin"), std::nullopt);
    EXPECT_EQ(local_instant(day("2027-03-28"), 2 * 60 + 30, "Europe/Berlin"), std::nullopt);
    EXPECT_EQ(local_instant(day("2027-03-28"), 3 * 60, "Europe/Berlin"), utc(2027, 3, 28, 1, 0));
}

TEST_F(Berlin, SpringForwardNinetyMinutesFromHalfPastOneEndAtFour) {
    service_.duration_min = 90;
    const auto q = query("2027-03-28", utc(2027, 3, 1, 0, 0));
    const auto slots = free_slots(q);
    ASSERT_EQ(slots.size(), 8u);  // 00:00, 00:30, 01:00, 01:30, 03:00 .. 04:30 (ends 06:00)
    EXPECT_EQ(iso_local(slots[3].start, "Europe/Berlin"), "2027-03-28T01:30:00+01:00");
    EXPECT_EQ(iso_local(slots[3].end, "Europe/Berlin"), "2027-03-28T04:00:00+02:00");
    EXPECT_EQ(slots[3].end - slots[3].start, minutes{90});
    EXPECT_EQ(slots[3].end, utc(2027, 3, 28, 2, 0));
    EXPECT_EQ(hhmm_local(slots.back().start, "Europe/Berlin"), "04:30");
    EXPECT_EQ(check_start(q, utc(2027, 3, 28, 0, 30)), Refusal::none);
    EXPECT_EQ(check_start(q, utc(2027, 3, 28, 2, 30)), Refusal::none);          // 04:30 CEST
    EXPECT_EQ(check_start(q, utc(2027, 3, 28, 3, 0)), Refusal::outside_hours);  // 05:00 CEST ends 06:30
}

TEST_F(Berlin, FallBackOffersTheRepeatedHourOnce) {
    // 2026-10-25: at 03:00 CEST the clocks go back to 02:00 CET (01:00 UTC); 02:00-03:00 happens
    // twice. Its wall times are offered once, at their first (summer-time) occurrence; the six
    // wall hours are seven real ones.
    const auto q = query("2026-10-25", utc(2026, 10, 1, 0, 0));
    const auto slots = free_slots(q);
    EXPECT_EQ(starts(slots),
              (std::vector<std::string>{
                  "2026-10-25T00:00:00+02:00", "2026-10-25T00:30:00+02:00", "2026-10-25T01:00:00+02:00",
                  "2026-10-25T01:30:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
                  "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00", "2026-10-25T04:00:00+01:00",
                  "2026-10-25T04:30:00+01:00", "2026-10-25T05:00:00+01:00"}));
    ASSERT_EQ(slots.size(), 11u);
    EXPECT_EQ(slots[0].start, utc(2026, 10, 24, 22, 0));
    EXPECT_EQ(slots[5].start, utc(2026, 10, 25, 0, 30));
    EXPECT_EQ(slots[6].start, utc(2026, 10, 25, 2, 0));  // 90 real minutes after 02:30 CEST
    // An hour from 02:30 summer time ends at 02:30 winter time.
    EXPECT_EQ(iso_local(slots[5].end, "Europe/Berlin"), "2026-10-25T02:30:00+01:00");
    for (const auto& slot : slots) EXPECT_EQ(slot.end - slot.start, minutes{60});
    EXPECT_EQ(slots.back().end, utc(2026, 10, 25, 5, 0));  // 06:00 CET
    EXPECT_EQ(local_instant(day("2026-10-25"), 2 * 60 + 30, "Europe/Berlin"), utc(2026, 10, 25, 0, 30));
    EXPECT_EQ(hhmm_local(utc(2026, 10, 25, 1, 30), "Europe/Berlin"), "02:30");
    EXPECT_EQ(iso_local(utc(2026, 10, 25, 1, 30), "Europe/Berlin"), "2026-10-25T02:30:00+01:00");
    // The second 02:30 is not a start of the grid; the first is.
    EXPECT_EQ(check_start(q, utc(2026, 10, 25, 1, 30)), Refusal::off_grid);
    EXPECT_EQ(check_start(q, utc(2026, 10, 25, 0, 30)), Refusal::none);
}

TEST_F(Berlin, FallBackNinetyMinutesEndInWinterTime) {
    service_.duration_min = 90;
    const auto slots = free_slots(query("2026-10-25", utc(2026, 10, 1, 0, 0)));
    ASSERT_GE(slots.size(), 4u);
    EXPECT_EQ(iso_local(slots[3].start, "Europe/Berlin"), "2026-10-25T01:30:00+02:00");
    EXPECT_EQ(iso_local(slots[3].end, "Europe/Berlin"), "2026-10-25T02:00:00+01:00");
    EXPECT_EQ(slots[3].end - slots[3].start, minutes{90});
    EXPECT_EQ(hhmm_local(slots.back().start, "Europe/Berlin"), "04:30");  // ends 06:00 CET
}

TEST_F(Berlin, AWeekAcrossTheChangeKeepsTheWallTime) {
    // Open 09:00-10:00: one start a day, at 09:00 on the wall, 08:00 UTC before the change and
    // 07:00 UTC after.
    for (const char* key : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
        hours_[key] = person_.hours[key] = "09:00-10:00";
    auto q = query("2027-03-27", utc(2027, 3, 1, 0, 0));
    q.days = 3;
    const auto slots = free_slots(q);
    ASSERT_EQ(slots.size(), 3u);
    EXPECT_EQ(slots[0].start, utc(2027, 3, 27, 8, 0));
    EXPECT_EQ(slots[1].start, utc(2027, 3, 28, 7, 0));
    EXPECT_EQ(slots[2].start, utc(2027, 3, 29, 7, 0));
    EXPECT_EQ(starts(slots),
              (std::vector<std::string>{"2027-03-27T09:00:00+01:00", "2027-03-28T09:00:00+02:00",
                                        "2027-03-29T09:00:00+02:00"}));
}

TEST_F(Berlin, AnOpeningInTheLostHourOpensAtTheChange) {
    // Open 02:00-05:00 on the spring-forward night: the clock reaches 03:00 at once, so the
    // first start is 03:00 CEST, and there are two real hours.
    for (const char* key : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
        hours_[key] = "02:00-05:00";  // person: 00-06
    const auto slots = free_slots(query("2027-03-28", utc(2027, 3, 1, 0, 0)));
    EXPECT_EQ(starts(slots),
              (std::vector<std::string>{"2027-03-28T03:00:00+02:00", "2027-03-28T03:30:00+02:00",
                                        "2027-03-28T04:00:00+02:00"}));
}

}  // namespace
}  // namespace tezgah::engine::appointments
