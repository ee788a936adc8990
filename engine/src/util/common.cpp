#include "util/common.hpp"

#include <date/tz.h>

#include <unistd.h>
#include <fstream>
#include <sstream>

namespace tezgah::engine {

std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return out.str();
}

std::optional<int> parse_hhmm(std::string_view text) {
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(text[0]) || !digit(text[1]) || !digit(text[3]) || !digit(text[4])) return std::nullopt;
    int h = (text[0] - '0') * 10 + (text[1] - '0');
    int m = (text[3] - '0') * 10 + (text[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
}

bool valid_hours_range(std::string_view range) {
    if (range == "closed") return true;
    auto dash = range.find('-');
    if (dash == std::string_view::npos) return false;
    auto from = parse_hhmm(range.substr(0, dash));
    auto to = parse_hhmm(range.substr(dash + 1));
    return from && to && *from < *to;
}

bool valid_timezone(const std::string& name) {
    try {
        return date::locate_zone(name) != nullptr;
    } catch (const std::exception&) {
        return false;
    }
}

namespace {

constexpr const char* kWeekdayKeys[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/// The zone, or nullptr (UTC) when the tz database does not know it.
const date::time_zone* find_zone(const std::string& timezone) {
    try {
        return date::locate_zone(timezone);
    } catch (const std::exception&) {
        return nullptr;
    }
}

date::local_seconds to_local(const date::time_zone* zone, std::chrono::system_clock::time_point when) {
    auto utc = date::floor<std::chrono::seconds>(when);
    if (zone == nullptr) return date::local_seconds{utc.time_since_epoch()};
    return zone->to_local(utc);
}

std::chrono::system_clock::time_point to_sys(const date::time_zone* zone, date::local_seconds local) {
    if (zone == nullptr) return date::sys_seconds{local.time_since_epoch()};
    // A time skipped by a clock change maps to the change; a repeated one to its first occurrence.
    return zone->to_sys(local, date::choose::earliest);
}

/// Opening and closing minute of `day` (a weekday 0..6) by `hours`, or nullopt when closed.
std::optional<std::pair<int, int>> opening_minutes(const std::map<std::string, std::string>& hours,
                                                   int weekday) {
    auto it = hours.find(kWeekdayKeys[weekday]);
    if (it == hours.end() || it->second == "closed") return std::nullopt;
    std::string_view range = it->second;
    auto dash = range.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto from = parse_hhmm(range.substr(0, dash));
    auto to = parse_hhmm(range.substr(dash + 1));
    if (!from || !to || *from >= *to) return std::nullopt;
    return std::pair{*from, *to};
}

LocalTime breakdown(date::local_seconds local) {
    auto day = date::floor<date::days>(local);
    date::year_month_day ymd{day};
    date::hh_mm_ss clock{local - day};
    LocalTime out;
    out.year = static_cast<int>(ymd.year());
    out.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    out.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
    out.hour = static_cast<int>(clock.hours().count());
    out.minute = static_cast<int>(clock.minutes().count());
    out.second = static_cast<int>(clock.seconds().count());
    out.weekday = static_cast<int>(date::weekday{day}.c_encoding());
    out.yday = static_cast<int>((day - date::local_days{ymd.year() / date::January / 1}).count()) + 1;
    return out;
}

}  // namespace

bool is_open_at(const std::map<std::string, std::string>& hours, const std::string& timezone,
                std::chrono::system_clock::time_point when) {
    auto local = to_local(find_zone(timezone), when);
    auto day = date::floor<date::days>(local);
    auto range = opening_minutes(hours, static_cast<int>(date::weekday{day}.c_encoding()));
    if (!range) return false;
    int minute = static_cast<int>(date::floor<std::chrono::minutes>(local - day).count());
    return minute >= range->first && minute < range->second;
}

LocalTime local_time_at(const std::string& timezone, std::chrono::system_clock::time_point when) {
    return breakdown(to_local(find_zone(timezone), when));
}

const char* weekday_key(int weekday) {
    if (weekday < 0 || weekday > 6) return "";
    return kWeekdayKeys[weekday];
}

std::optional<Opening> next_opening(const std::map<std::string, std::string>& hours,
                                    const std::string& timezone, std::chrono::system_clock::time_point when) {
    const auto* zone = find_zone(timezone);
    auto local = to_local(zone, when);
    auto today = date::floor<date::days>(local);
    // Eight days: today's later opening, the next six days, and today's weekday a week on.
    for (int ahead = 0; ahead <= 7; ++ahead) {
        auto day = today + date::days{ahead};
        auto range = opening_minutes(hours, static_cast<int>(date::weekday{day}.c_encoding()));
        if (!range) continue;
        date::local_seconds opens = day + std::chrono::minutes{range->first};
        if (opens <= local) continue;
        auto at = to_sys(zone, opens);
        if (at <= when) continue;
        return Opening{at, breakdown(opens), ahead};
    }
    return std::nullopt;
}

std::filesystem::path executable_dir() {
    char buf[4096];
    auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return std::filesystem::current_path();
    buf[n] = 0;
    return std::filesystem::path(buf).parent_path();
}

}  // namespace tezgah::engine
