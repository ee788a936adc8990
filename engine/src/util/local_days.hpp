#pragma once
// Calendar days on a tenant's wall clock: `tezgah usage` and the analytics route count by the day
// of the tenant's `locale.timezone`, not by UTC's.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tezgah::engine {

/// A calendar date.
struct Day {
    int year = 1970;
    unsigned month = 1;
    unsigned day = 1;
    std::string str() const;  ///< YYYY-MM-DD
};

/// A strict YYYY-MM-DD that is a real date, or nullopt.
std::optional<Day> parse_day(std::string_view text);
/// `when`'s date on the wall clock of `timezone` (UTC when unknown).
Day day_at(std::chrono::system_clock::time_point when, const std::string& timezone);
/// The hour (0..23) of `when` on the wall clock of `timezone` (UTC when unknown).
int hour_at(std::chrono::system_clock::time_point when, const std::string& timezone);
/// When `day` begins in `timezone` (UTC when unknown); a skipped midnight begins it at the change.
std::chrono::system_clock::time_point day_start(const Day& day, const std::string& timezone);
/// The day after `day`.
Day next_day(const Day& day);
/// `day` moved by `days` (negative: earlier).
Day add_days(const Day& day, int days);
/// The number of days from `from` to `to` (negative when `to` is earlier).
int days_between(const Day& from, const Day& to);

}  // namespace tezgah::engine
