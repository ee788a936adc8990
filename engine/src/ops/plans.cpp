#include "ops/plans.hpp"

#include <tezgah/sdk/errors.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <vector>

namespace tezgah::engine {

namespace json = boost::json;

namespace {

std::string_view name_of(std::string_view name) { return name; }
std::string_view name_of(Limit limit) { return to_string(limit); }

/// "free, basic, premium, enterprise": what a message lists as expected.
template <class Names>
std::string joined(const Names& names) {
    std::string out;
    for (const auto& name : names) {
        if (!out.empty()) out += ", ";
        out += name_of(name);
    }
    return out;
}

}  // namespace

std::string_view to_string(Limit limit) {
    switch (limit) {
        case Limit::messages_per_minute:
            return "messages_per_minute";
        case Limit::customer_messages_per_minute:
            return "customer_messages_per_minute";
        case Limit::llm_tokens_per_day:
            return "llm_tokens_per_day";
        case Limit::turns_in_flight:
            return "turns_in_flight";
    }
    return "unknown";
}

std::optional<Limit> limit_named(std::string_view name) {
    for (Limit limit : kLimits)
        if (to_string(limit) == name) return limit;
    return std::nullopt;
}

const Plan* Plans::find(std::string_view name) const {
    auto it = plans.find(name);
    return it == plans.end() ? nullptr : &it->second;
}

sdk::Result<Plans> parse_plans(std::string_view text, const std::string& source) {
    std::vector<std::string> problems;
    auto problem = [&](const std::string& field, const std::string& message) {
        problems.push_back(source + ": " + field + ": " + message);
    };
    auto failed = [&]() -> sdk::Error {
        std::string message;
        for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
        return sdk::Error{sdk::errc::invalid_value, message};
    };
    boost::system::error_code ec;
    json::value root = json::parse(text, ec);
    if (ec) {
        problem("-", "not valid JSON: " + ec.message());
        return failed();
    }
    if (!root.is_object()) {
        problem("-", "expected an object with \"plans\"");
        return failed();
    }
    for (const auto& [key, value] : root.get_object())
        if (key != "plans") problem(std::string(key), "unknown field (expected \"plans\")");
    const auto* plans = root.get_object().if_contains("plans");
    if (plans == nullptr) {
        problem("plans", "required");
        return failed();
    }
    if (!plans->is_object()) {
        problem("plans", "expected an object of plans (" + joined(kPlanNames) + ")");
        return failed();
    }
    Plans out;
    out.source = source;
    for (const auto& [name, entry] : plans->get_object()) {
        const std::string where = "plans." + std::string(name);
        if (std::find(kPlanNames.begin(), kPlanNames.end(), std::string_view(name)) == kPlanNames.end()) {
            problem(where, "unknown plan (expected one of: " + joined(kPlanNames) + ")");
            continue;
        }
        if (!entry.is_object()) {
            problem(where, "expected an object of figures (" + joined(kLimits) + ")");
            continue;
        }
        Plan plan;
        for (const auto& [key, value] : entry.get_object()) {
            const std::string field = where + "." + std::string(key);
            auto limit = limit_named(key);
            if (!limit) {
                problem(field, "unknown field (expected one of: " + joined(kLimits) + ")");
                continue;
            }
            if (value.is_null()) continue;  // as if left out: unlimited
            std::optional<long long> figure;
            if (value.is_int64() && value.get_int64() > 0) figure = value.get_int64();
            if (value.is_uint64() && value.get_uint64() <= static_cast<std::uint64_t>(LLONG_MAX))
                figure = static_cast<long long>(value.get_uint64());
            if (!figure) {
                problem(field, "must be a positive integer");
                continue;
            }
            plan.figures[static_cast<std::size_t>(*limit)] = figure;
        }
        out.plans.emplace(std::string(name), plan);
    }
    if (!problems.empty()) return failed();
    return out;
}

sdk::Result<Plans> load_plans(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return sdk::Error{sdk::errc::not_found, file.string() + ": -: cannot read the file"};
    std::ostringstream text;
    text << in.rdbuf();
    return parse_plans(text.str(), file.string());
}

}  // namespace tezgah::engine
