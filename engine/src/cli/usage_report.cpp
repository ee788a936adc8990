#include "cli/usage_report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <tuple>

namespace tezgah::engine::cli {

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
