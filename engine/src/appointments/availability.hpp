#pragma once
// The availability engine (docs/appointments.md, "Availability"): the free start times of one
// service on one resource over a range of days, from the business's hours, the resource's hours,
// closures and time off, the appointments already booked with their buffers, the slot grid,
// minimum notice and the booking horizon; a group class at its scheduled times with the places it
// has left. Pure: no database, no clock of its own; every input is given. Times are UTC instants;
// days and hours are read on the tenant's wall clock (`timezone`), across daylight-saving changes.

#include "util/local_days.hpp"

#include <tezgah/sdk/catalog.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine::appointments {

namespace sdk = tezgah::sdk;
using TimePoint = std::chrono::system_clock::time_point;

/// The `appointments` tool's settings (the tenant's `tools` entry; DESIGN "Appointments").
struct Settings {
    int slot_minutes = 30;        ///< the grid private sessions start on, from the opening time
    int min_notice_minutes = 60;  ///< no start sooner than this after now
    int max_days_ahead = 60;      ///< no start on a day later than today + this (the tenant's today)
    std::vector<Day> closures;    ///< days the business is closed
    int reminder_hours = 24;      ///< reminders go out this long before the start
};

/// An appointment already booked on the resource, as availability sees it. It holds the resource
/// from `start` to `end` plus `buffer_minutes` (the service's buffer when it was booked).
struct Busy {
    TimePoint start;
    TimePoint end;
    int buffer_minutes = 0;
    std::string service;  ///< its offering id (a group class's places count its own bookings)
};

/// One question: free slots of `service` on `resource`, on the days `from` .. `from + days - 1`.
struct Query {
    const sdk::Offering* service = nullptr;   ///< duration_min, buffer_minutes, schedule, capacity
    const sdk::Resource* resource = nullptr;  ///< hours, capacity, time_off
    const std::map<std::string, std::string>* business_hours =
        nullptr;  ///< "mon" -> "09:00-18:00" | "closed"
    std::string timezone = "UTC";
    Settings settings;
    Day from;
    int days = 1;
    TimePoint now;
    std::vector<Busy> busy;  ///< the resource's confirmed appointments that may touch the range
};

/// A time the service can start.
struct Slot {
    TimePoint start;
    TimePoint end;        ///< start + duration (the buffer is not part of it)
    int places_left = 1;  ///< group class: places not yet taken; private: the resource's capacity left
};

/// Why a requested start is not offered (for the tools' messages).
enum class Refusal {
    none,           ///< it is free
    past,           ///< before now
    too_soon,       ///< within the minimum notice
    too_far,        ///< beyond the horizon
    closed_day,     ///< a closure, a day without hours (business or resource), or time off
    outside_hours,  ///< the day is open, but not at that time (or the service would end after closing)
    off_grid,       ///< not a start of the grid, or not a scheduled time of the group class
    taken,          ///< the resource (or the class) is full then
};

/// The refusal's name in the tools' answers and the API's errors ("too_soon"); empty for none.
const char* refusal_name(Refusal refusal);

/// Every free slot of the query, earliest first.
std::vector<Slot> free_slots(const Query& query);

/// Whether `start` could be booked, and if not why (checked in the order of Refusal's members).
Refusal check_start(const Query& query, TimePoint start);

/// `start`'s nearest free slots (by distance in time, either side, earliest first on a tie),
/// at most `count`, looking `query.days` days from `query.from`.
std::vector<Slot> nearest_slots(const Query& query, TimePoint start, std::size_t count);

/// The places a service of `capacity` has left at [start, end + buffer) given `busy`: the capacity
/// minus the most appointments that overlap at any one moment of it. Used by free_slots and by the
/// store's check inside the booking transaction, so the two can never disagree.
int places_left(int capacity, TimePoint start, TimePoint end, int buffer_minutes,
                const std::vector<Busy>& busy);

/// How many may share a start of `service` on `resource`: a group class's capacity (at most the
/// room's), else the resource's capacity.
int capacity_of(const sdk::Offering& service, const sdk::Resource& resource);

/// A wall-clock time on `day` in `timezone` as an instant; nullopt when the clock skips it (the
/// hour lost to daylight saving). An ambiguous time (the hour repeated) is its first occurrence.
std::optional<TimePoint> local_instant(const Day& day, int minutes_after_midnight,
                                       const std::string& timezone);

/// `when` as ISO 8601 with the zone's offset at that moment ("2026-12-15T15:00:00+03:00").
std::string iso_local(TimePoint when, const std::string& timezone);

/// "HH:MM" of `when` on the zone's wall clock.
std::string hhmm_local(TimePoint when, const std::string& timezone);

}  // namespace tezgah::engine::appointments
