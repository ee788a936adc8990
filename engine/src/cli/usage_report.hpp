#pragma once
// `tezgah usage`: a tenant's language-model calls, tokens and cost by local day and model.

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "util/local_days.hpp"

namespace tezgah::engine::cli {

// The days of the report (util/local_days.hpp).
using engine::Day;
using engine::day_at;
using engine::day_start;
using engine::next_day;
using engine::parse_day;

/// One line of the report: a day and a provider's model (the totals line has neither).
struct UsageLine {
    std::string date;
    std::string provider;
    std::string model;
    std::int64_t calls = 0;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    double cost_usd = 0;
    std::int64_t estimated_calls = 0;
};

struct UsageReport {
    std::string tenant;
    std::string timezone;          ///< the zone the days are in
    std::string timezone_source;   ///< where the zone came from, for the header
    Day since, until;              ///< both included
    std::vector<UsageLine> lines;  ///< by date, then provider and model
    UsageLine totals;
};

/// Regroups quarter-hour slices into local days of `report.timezone` and sums the totals.
void add_slices(UsageReport& report, const std::vector<UsageSlice>& slices);

/// The report as a table with a header line and a totals line; "no usage" when there is none.
std::string usage_text(const UsageReport& report);
/// The same as JSON: {tenant, timezone, since, until, days: [...], totals: {...}}.
boost::json::object usage_json(const UsageReport& report);

}  // namespace tezgah::engine::cli
