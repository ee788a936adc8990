#include "cli/usage_report.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <tuple>

namespace tezgah::engine::cli {
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

std::chrono::system_clock::time_point day_start(const Day& day, const std::string& timezone) {
    const date::local_seconds midnight{to_local_days(day)};
    const auto* zone = find_zone(timezone);
    if (!zone) return date::sys_seconds{midnight.time_since_epoch()};
    return zone->to_sys(midnight, date::choose::earliest);
}

Day next_day(const Day& day) { return from_local_days(to_local_days(day) + date::days{1}); }

void add_slices(UsageReport& report, const std::vector<UsageSlice>& slices) {
    std::map<std::tuple<std::string, std::string, std::string>, UsageLine> by_day;
    for (const auto& line : report.lines) by_day[{line.date, line.provider, line.model}] = line;
    for (const auto& slice : slices) {
        const auto date = day_at(slice.start, report.timezone).str();
        auto& line = by_day[{date, slice.provider, slice.model}];
        line.date = date;
        line.provider = slice.provider;
        line.model = slice.model;
        for (auto* sum : {&line, &report.totals}) {
            sum->calls += slice.calls;
            sum->input_tokens += slice.input_tokens;
            sum->output_tokens += slice.output_tokens;
            sum->cost_usd += slice.cost_usd;
            sum->estimated_calls += slice.estimated_calls;
        }
    }
    report.lines.clear();
    for (auto& [key, line] : by_day) report.lines.push_back(std::move(line));
}

std::string usage_text(const UsageReport& report) {
    std::string out =
        fmt::format("Usage of {} from {} to {}, days in {} ({})\n", report.tenant, report.since.str(),
                    report.until.str(), report.timezone, report.timezone_source);
    if (report.lines.empty()) return out + "no usage\n";
    std::size_t provider_width = 8, model_width = 5;
    for (const auto& line : report.lines) {
        provider_width = std::max(provider_width, line.provider.size());
        model_width = std::max(model_width, line.model.empty() ? 1 : line.model.size());
    }
    auto row = [&](std::string_view date, std::string_view provider, std::string_view model,
                   std::string_view calls, std::string_view input, std::string_view output,
                   std::string_view cost) {
        return fmt::format("{:<10}  {:<{}}  {:<{}}  {:>7}  {:>13}  {:>13}  {:>12}\n", date, provider,
                           provider_width, model, model_width, calls, input, output, cost);
    };
    out += row("day", "provider", "model", "calls", "input tokens", "output tokens", "cost (USD)");
    for (const auto& l : report.lines) {
        out += row(l.date, l.provider, l.model.empty() ? "-" : l.model, std::to_string(l.calls),
                   std::to_string(l.input_tokens), std::to_string(l.output_tokens),
                   fmt::format("{:.6f}", l.cost_usd));
    }
    const auto& t = report.totals;
    out += row("total", "", "", std::to_string(t.calls), std::to_string(t.input_tokens),
               std::to_string(t.output_tokens), fmt::format("{:.6f}", t.cost_usd));
    if (t.estimated_calls > 0)
        out += fmt::format("{} call(s) had estimated token counts (the provider reported none)\n",
                           t.estimated_calls);
    return out;
}

boost::json::object usage_json(const UsageReport& report) {
    auto counts = [](boost::json::object entry, const UsageLine& l) {
        entry["calls"] = l.calls;
        entry["input_tokens"] = l.input_tokens;
        entry["output_tokens"] = l.output_tokens;
        entry["cost_usd"] = std::round(l.cost_usd * 1e9) / 1e9;  // to the nano-dollar: no 0.000230199999…
        entry["estimated_calls"] = l.estimated_calls;
        return entry;
    };
    boost::json::array days;
    for (const auto& l : report.lines)
        days.push_back(counts({{"date", l.date}, {"provider", l.provider}, {"model", l.model}}, l));
    return {{"tenant", report.tenant},     {"timezone", report.timezone},
            {"since", report.since.str()}, {"until", report.until.str()},
            {"days", std::move(days)},     {"totals", counts({}, report.totals)}};
}

}  // namespace tezgah::engine::cli
