#include "util/local_days.hpp"

#include <date/tz.h>
#include <fmt/format.h>

namespace tezgah::engine {
namespace {

const date::time_zone* find_zone(const std::string& timezone) {
    try {
        return date::locate_zone(timezone);
    } catch (const std::exception&) {
        return nullptr;
    }
}

Day from_local_days(date::local_days day) {
    const date::year_month_day ymd{day};
    return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
            static_cast<unsigned>(ymd.day())};
}

date::local_days to_local_days(const Day& day) {
    return date::local_days{date::year{day.year} / date::month{day.month} / date::day{day.day}};
}

}  // namespace

std::string Day::str() const { return fmt::format("{:04}-{:02}-{:02}", year, month, day); }

std::optional<Day> parse_day(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    int value[3] = {0, 0, 0};
    const std::pair<std::size_t, std::size_t> fields[3] = {{0, 4}, {5, 2}, {8, 2}};
    for (int i = 0; i < 3; ++i) {
        for (std::size_t k = 0; k < fields[i].second; ++k) {
            const char c = text[fields[i].first + k];
            if (c < '0' || c > '9') return std::nullopt;
            value[i] = value[i] * 10 + (c - '0');
        }
    }
    const date::year_month_day ymd{date::year{value[0]}, date::month{static_cast<unsigned>(value[1])},
                                   date::day{static_cast<unsigned>(value[2])}};
    if (!ymd.ok()) return std::nullopt;
    return Day{value[0], static_cast<unsigned>(value[1]), static_cast<unsigned>(value[2])};
}

Day day_at(std::chrono::system_clock::time_point when, const std::string& timezone) {
    const auto utc = date::floor<std::chrono::seconds>(when);
    const auto* zone = find_zone(timezone);
    const date::local_seconds local =
        zone ? zone->to_local(utc) : date::local_seconds{utc.time_since_epoch()};
    return from_local_days(date::floor<date::days>(local));
}

int hour_at(std::chrono::system_clock::time_point when, const std::string& timezone) {
    const auto utc = date::floor<std::chrono::seconds>(when);
    const auto* zone = find_zone(timezone);
    const date::local_seconds local =
        zone ? zone->to_local(utc) : date::local_seconds{utc.time_since_epoch()};
    return static_cast<int>(date::floor<std::chrono::hours>(local - date::floor<date::days>(local)).count());
}

std::chrono::system_clock::time_point day_start(const Day& day, const std::string& timezone) {
    const date::local_seconds midnight{to_local_days(day)};
    const auto* zone = find_zone(timezone);
    if (!zone) return date::sys_seconds{midnight.time_since_epoch()};
    return zone->to_sys(midnight, date::choose::earliest);
}

Day next_day(const Day& day) { return add_days(day, 1); }

Day add_days(const Day& day, int days) { return from_local_days(to_local_days(day) + date::days{days}); }

int days_between(const Day& from, const Day& to) {
    return static_cast<int>((to_local_days(to) - to_local_days(from)).count());
}

}  // namespace tezgah::engine
