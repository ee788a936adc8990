#include "appointments/availability.hpp"

#include "util/common.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <set>

namespace tezgah::engine::appointments {
namespace {

using Minutes = std::chrono::minutes;

/// The zone, or nullptr (UTC) when the tz database does not know it.
const date::time_zone* find_zone(const std::string& timezone) {
    try {
        return date::locate_zone(timezone);
    } catch (const std::exception&) {
        return nullptr;
    }
}

date::local_days to_local_days(const Day& day) {
    return date::local_days{date::year{day.year} / date::month{day.month} / date::day{day.day}};
}

date::local_seconds to_local(const date::time_zone* zone, TimePoint when) {
    const auto utc = date::floor<std::chrono::seconds>(when);
    return zone ? zone->to_local(utc) : date::local_seconds{utc.time_since_epoch()};
}

/// A wall time as an instant: nullopt when skipped, the first occurrence when repeated.
std::optional<TimePoint> wall_to_instant(const date::time_zone* zone, date::local_seconds local) {
    if (zone == nullptr) return TimePoint{local.time_since_epoch()};
    const auto info = zone->get_info(local);
    switch (info.result) {
        case date::local_info::unique:
        case date::local_info::ambiguous:
            return TimePoint{local.time_since_epoch() - info.first.offset};
        default:
            return std::nullopt;
    }
}

/// An opening or closing wall time as an instant. A skipped time is the moment of the change, so
/// "open 02:00" on the spring-forward night opens at 03:00 summer time. A repeated closing time
/// is its last occurrence: a business open through the night stays open until the clock shows
/// the closing time for the last time. A repeated opening time is its first occurrence.
TimePoint boundary_instant(const date::time_zone* zone, date::local_seconds local, bool closing) {
    if (zone == nullptr) return TimePoint{local.time_since_epoch()};
    return zone->to_sys(local, closing ? date::choose::latest : date::choose::earliest);
}

/// Opening and closing minute of an "HH:MM-HH:MM" range, or nullopt ("closed", malformed).
std::optional<std::pair<int, int>> parse_range(const std::string& range) {
    const auto dash = range.find('-');
    if (dash == std::string::npos) return std::nullopt;
    const auto from = parse_hhmm(std::string_view(range).substr(0, dash));
    const auto to = parse_hhmm(std::string_view(range).substr(dash + 1));
    if (!from || !to || *from >= *to) return std::nullopt;
    return std::pair{*from, *to};
}

/// The opening minutes of each weekday (0 = Sunday) by an hours map; a missing day is closed.
std::array<std::optional<std::pair<int, int>>, 7> week_of(const std::map<std::string, std::string>* hours) {
    std::array<std::optional<std::pair<int, int>>, 7> week;
    if (hours == nullptr) return week;
    for (int weekday = 0; weekday < 7; ++weekday) {
        const auto it = hours->find(weekday_key(weekday));
        if (it != hours->end()) week[weekday] = parse_range(it->second);
    }
    return week;
}

/// When the resource is held by appointments: each is [start, end + buffer), sorted by start,
/// so a candidate finds the few that overlap it by binary search instead of a scan.
class Occupancy {
public:
    explicit Occupancy(const std::vector<Busy>& busy) {
        holds_.reserve(busy.size());
        for (const auto& b : busy) {
            const TimePoint until = b.end + Minutes{std::max(0, b.buffer_minutes)};
            if (until <= b.start) continue;
            holds_.push_back({b.start, until});
            longest_ = std::max(longest_, until - b.start);
        }
        std::sort(holds_.begin(), holds_.end(),
                  [](const Hold& a, const Hold& b) { return a.start < b.start; });
    }

    /// `capacity` minus the most holds that overlap at one moment of [from, to), never below 0.
    int places_left(int capacity, TimePoint from, TimePoint to) const {
        if (capacity <= 0) return 0;
        if (to <= from) return capacity;
        // A hold overlapping [from, to) starts before `to` and after `from - longest`.
        const auto first = std::upper_bound(holds_.begin(), holds_.end(), from - longest_,
                                            [](TimePoint t, const Hold& h) { return t < h.start; });
        const auto last = std::lower_bound(holds_.begin(), holds_.end(), to,
                                           [](const Hold& h, TimePoint t) { return h.start < t; });
        starts_.clear();
        ends_.clear();
        for (auto it = first; it != last; ++it) {
            if (it->until <= from) continue;
            starts_.push_back(std::max(it->start, from));
            ends_.push_back(std::min(it->until, to));
        }
        if (starts_.empty()) return capacity;
        if (starts_.size() == 1) return std::max(0, capacity - 1);
        // The holds are half-open: one that ends when another starts does not overlap it, so
        // an end at the same moment as a start is counted first. `starts_` is already sorted.
        std::sort(ends_.begin(), ends_.end());
        int now = 0;
        int most = 0;
        std::size_t e = 0;
        for (const auto& s : starts_) {
            while (e < ends_.size() && ends_[e] <= s) {
                --now;
                ++e;
            }
            most = std::max(most, ++now);
        }
        return std::max(0, capacity - most);
    }

private:
    struct Hold {
        TimePoint start;
        TimePoint until;
    };
    std::vector<Hold> holds_;
    TimePoint::duration longest_{0};
    mutable std::vector<TimePoint> starts_;  // scratch, reused across candidates
    mutable std::vector<TimePoint> ends_;
};

/// A local day's open interval for the query's service and resource.
struct Window {
    date::local_days day;
    int weekday = 0;  ///< 0 = Sunday
    int open_minute = 0;
    int close_minute = 0;
    TimePoint open;
    TimePoint close;
};

/// What one query needs, worked out once: the zone, the parsed hours, closures, the sorted holds.
class Plan {
public:
    explicit Plan(const Query& query)
        : query_(query),
          zone_(find_zone(query.timezone)),
          business_(week_of(query.business_hours)),
          resource_(week_of(query.resource ? &query.resource->hours : nullptr)),
          occupancy_(query.busy),
          slot_minutes_(query.settings.slot_minutes > 0 ? query.settings.slot_minutes
                                                        : Settings{}.slot_minutes) {
        for (const auto& day : query.settings.closures) closures_.insert(day.str());
        const auto now_local = date::floor<date::days>(to_local(zone_, query.now));
        today_ = now_local;
        if (query.service && query.service->duration_min && *query.service->duration_min > 0 &&
            query.resource) {
            duration_ = Minutes{*query.service->duration_min};
            hold_ = duration_ + Minutes{std::max(0, query.service->buffer_minutes)};
            capacity_ = capacity_of(*query.service, *query.resource);
            group_ = !query.service->schedule.empty();
            bookable_ = true;
        }
    }

    bool bookable() const { return bookable_; }

    /// The open interval of `day`, or nullopt when it has none (closure, no hours, time off).
    std::optional<Window> window(date::local_days day) const {
        const date::year_month_day ymd{day};
        const Day as_day{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                         static_cast<unsigned>(ymd.day())};
        const std::string text = as_day.str();
        if (closures_.count(text)) return std::nullopt;
        for (const auto& off : query_.resource->time_off) {
            if (off.from <= text && text <= off.to) return std::nullopt;
        }
        const int weekday = static_cast<int>(date::weekday{day}.c_encoding());
        const auto& business = business_[weekday];
        const auto& resource = resource_[weekday];
        if (!business || !resource) return std::nullopt;
        Window w;
        w.day = day;
        w.weekday = weekday;
        w.open_minute = std::max(business->first, resource->first);
        w.close_minute = std::min(business->second, resource->second);
        if (w.open_minute >= w.close_minute) return std::nullopt;
        w.open = boundary_instant(zone_, day + Minutes{w.open_minute}, false);
        w.close = boundary_instant(zone_, day + Minutes{w.close_minute}, true);
        if (w.open >= w.close) return std::nullopt;
        return w;
    }

    /// Whether `day` is past the booking horizon.
    bool beyond_horizon(date::local_days day) const {
        return (day - today_).count() > query_.settings.max_days_ahead;
    }

    /// The places left for a start within `w` at wall minute `minute`, or nullopt when that start
    /// is not offered (skipped wall time, ends after closing, too soon).
    std::optional<Slot> candidate(const Window& w, int minute) const {
        const auto start = wall_to_instant(zone_, w.day + Minutes{minute});
        if (!start || *start < w.open) return std::nullopt;
        const TimePoint end = *start + duration_;
        if (end > w.close) return std::nullopt;
        if (*start < earliest()) return std::nullopt;
        const int places = occupancy_.places_left(capacity_, *start, *start + hold_);
        if (places <= 0) return std::nullopt;
        return Slot{*start, end, places};
    }

    /// The wall minutes a start may have on `w`'s day: the grid, or the class's scheduled times.
    std::vector<int> start_minutes(const Window& w) const {
        std::vector<int> minutes;
        if (group_) {
            const std::string key = weekday_key(w.weekday);
            for (const auto& at : query_.service->schedule) {
                if (at.day != key) continue;
                if (const auto minute = parse_hhmm(at.time)) minutes.push_back(*minute);
            }
            std::sort(minutes.begin(), minutes.end());
            minutes.erase(std::unique(minutes.begin(), minutes.end()), minutes.end());
            return minutes;
        }
        for (int minute = w.open_minute; minute < w.close_minute; minute += slot_minutes_)
            minutes.push_back(minute);
        return minutes;
    }

    TimePoint earliest() const {
        return query_.now + Minutes{std::max(0, query_.settings.min_notice_minutes)};
    }

    std::vector<Slot> free_slots() const {
        std::vector<Slot> slots;
        if (!bookable_ || query_.days <= 0) return slots;
        const auto from = to_local_days(query_.from);
        const auto earliest_day = date::floor<date::days>(to_local(zone_, earliest()));
        for (int d = 0; d < query_.days; ++d) {
            const auto day = from + date::days{d};
            if (beyond_horizon(day)) break;
            // A day that ends before the first allowed start has nothing to offer.
            if (day < earliest_day) continue;
            const auto w = window(day);
            if (!w) continue;
            for (int minute : start_minutes(*w)) {
                if (auto slot = candidate(*w, minute)) slots.push_back(*slot);
            }
        }
        return slots;
    }

    Refusal check(TimePoint start) const {
        if (start < query_.now) return Refusal::past;
        if (start < earliest()) return Refusal::too_soon;
        const auto local = to_local(zone_, start);
        const auto day = date::floor<date::days>(local);
        if (beyond_horizon(day)) return Refusal::too_far;
        if (!bookable_) return Refusal::closed_day;
        const auto w = window(day);
        if (!w) return Refusal::closed_day;
        if (start < w->open || start + duration_ > w->close) return Refusal::outside_hours;
        // On the grid (or a scheduled time): a whole minute whose wall time is a start of the day
        // and whose first occurrence is this instant (the repeated hour's second pass is not).
        const auto since_midnight = local - day;
        if (start != date::floor<std::chrono::seconds>(start) ||
            since_midnight % Minutes{1} != std::chrono::seconds{0})
            return Refusal::off_grid;
        const int minute = static_cast<int>(date::floor<Minutes>(since_midnight).count());
        const auto minutes = start_minutes(*w);
        if (!std::binary_search(minutes.begin(), minutes.end(), minute)) return Refusal::off_grid;
        const auto first = wall_to_instant(zone_, day + Minutes{minute});
        if (!first || *first != start) return Refusal::off_grid;
        if (occupancy_.places_left(capacity_, start, start + hold_) <= 0) return Refusal::taken;
        return Refusal::none;
    }

private:
    const Query& query_;
    const date::time_zone* zone_;
    std::array<std::optional<std::pair<int, int>>, 7> business_;
    std::array<std::optional<std::pair<int, int>>, 7> resource_;
    std::set<std::string> closures_;
    Occupancy occupancy_;
    int slot_minutes_;
    date::local_days today_;
    bool bookable_ = false;
    bool group_ = false;
    Minutes duration_{0};
    Minutes hold_{0};
    int capacity_ = 0;
};

}  // namespace

std::vector<Slot> free_slots(const Query& query) { return Plan(query).free_slots(); }

Refusal check_start(const Query& query, TimePoint start) { return Plan(query).check(start); }

std::vector<Slot> nearest_slots(const Query& query, TimePoint start, std::size_t count) {
    auto slots = free_slots(query);
    const auto distance = [start](const Slot& slot) {
        return slot.start < start ? start - slot.start : slot.start - start;
    };
    // Slots are earliest first, so a stable sort by distance keeps the earlier of two equally near.
    std::stable_sort(slots.begin(), slots.end(),
                     [&](const Slot& a, const Slot& b) { return distance(a) < distance(b); });
    if (slots.size() > count) slots.resize(count);
    return slots;
}

int places_left(int capacity, TimePoint start, TimePoint end, int buffer_minutes,
                const std::vector<Busy>& busy) {
    return Occupancy(busy).places_left(capacity, start, end + Minutes{std::max(0, buffer_minutes)});
}

int capacity_of(const sdk::Offering& service, const sdk::Resource& resource) {
    const int room = std::max(0, resource.capacity);
    if (service.schedule.empty()) return room;
    if (!service.capacity) return room;
    return std::clamp(*service.capacity, 0, room);
}

std::optional<TimePoint> local_instant(const Day& day, int minutes_after_midnight,
                                       const std::string& timezone) {
    return wall_to_instant(find_zone(timezone), to_local_days(day) + Minutes{minutes_after_midnight});
}

std::string iso_local(TimePoint when, const std::string& timezone) {
    const auto utc = date::floor<std::chrono::seconds>(when);
    const auto* zone = find_zone(timezone);
    const std::chrono::seconds offset = zone ? zone->get_info(utc).offset : std::chrono::seconds{0};
    const date::local_seconds local{utc.time_since_epoch() + offset};
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss clock{local - day};
    const long offset_minutes = std::labs(static_cast<long>(offset.count() / 60));
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       clock.hours().count(), clock.minutes().count(), clock.seconds().count(),
                       offset.count() < 0 ? '-' : '+', offset_minutes / 60, offset_minutes % 60);
}

std::string hhmm_local(TimePoint when, const std::string& timezone) {
    const auto local = to_local(find_zone(timezone), when);
    const date::hh_mm_ss clock{local - date::floor<date::days>(local)};
    return fmt::format("{:02}:{:02}", clock.hours().count(), clock.minutes().count());
}

const char* refusal_name(Refusal refusal) {
    switch (refusal) {
        case Refusal::none:
            return "";
        case Refusal::past:
            return "past";
        case Refusal::too_soon:
            return "too_soon";
        case Refusal::too_far:
            return "too_far";
        case Refusal::closed_day:
            return "closed_day";
        case Refusal::outside_hours:
            return "outside_hours";
        case Refusal::off_grid:
            return "off_grid";
        case Refusal::taken:
            return "taken";
    }
    return "taken";
}

}  // namespace tezgah::engine::appointments
