#pragma once
// Small helpers every area uses: files, ids, time zones, opening hours.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace tezgah::engine {

/// The whole file, or nullopt when it cannot be read.
std::optional<std::string> read_file(const std::filesystem::path& path);

/// 16 random bytes as 32 hex characters.
std::string random_id();

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

/// The folder holding the running executable.
std::filesystem::path executable_dir();

}  // namespace tezgah::engine
