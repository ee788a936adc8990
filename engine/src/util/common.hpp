#pragma once
// Small helpers every area uses: files, time zones, opening hours.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace tezgah::engine {

/// The whole file, or nullopt when it cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path);

/// Minutes since midnight of an "HH:MM" time, or nullopt.
std::optional<int> parse_hhmm(std::string_view text);

/// True when `range` is "HH:MM-HH:MM" with the start before the end, or "closed".
bool valid_hours_range(std::string_view range);

/// True when `name` is a time zone in the system's tz database.
bool valid_timezone(const std::string& name);

/// Whether `hours` ("mon".."sun" → "HH:MM-HH:MM" | "closed"; a missing day is closed) say open at
/// `when` in time zone `timezone` (UTC when unknown).
bool is_open_at(const std::map<std::string, std::string>& hours, const std::string& timezone,
                std::chrono::system_clock::time_point when);

/// A moment as the clock on the business's wall shows it.
struct LocalTime {
    int year = 1970;
    int month = 1;  ///< 1..12
    int day = 1;    ///< 1..31
    int hour = 0;
    int minute = 0;
    int second = 0;
    int weekday = 4;  ///< 0 = Sunday .. 6 = Saturday (as std::tm and date::weekday::c_encoding)
    int yday = 1;     ///< 1..366
};

/// `when` in time zone `timezone` (UTC when unknown).
LocalTime local_time_at(const std::string& timezone, std::chrono::system_clock::time_point when);

/// "sun", "mon", .. "sat" for weekday 0..6 (the keys of business.hours); "" out of range.
const char* weekday_key(int weekday);

/// When a business next opens.
struct Opening {
    std::chrono::system_clock::time_point at;
    LocalTime local;  ///< `at` on the business's wall clock
    int days_ahead;   ///< calendar days from the local day of the moment asked about (0 = same day)
};

/// The first opening strictly after `when` by `hours` (as in is_open_at) in `timezone`, looking a
/// week ahead; nullopt when every day is closed. Being open at `when` does not count: the answer
/// is the opening after that.
std::optional<Opening> next_opening(const std::map<std::string, std::string>& hours,
                                    const std::string& timezone, std::chrono::system_clock::time_point when);

/// The folder holding the running executable.
std::filesystem::path executable_dir();

}  // namespace tezgah::engine
