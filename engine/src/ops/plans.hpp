#pragma once
// The operator's plans file (`tezgah serve --plans FILE`, TEZGAH_PLANS; DESIGN "Scale"): what each
// plan allows a tenant whose manifest names it.
//   {"plans": {"free": {"messages_per_minute": 30, "customer_messages_per_minute": 6,
//                       "llm_tokens_per_day": 50000, "turns_in_flight": 4},
//              "basic": {...}, "premium": {...}, "enterprise": {...}}}
// A figure left out (or null) is unlimited; so is a plan the file leaves out. Anything else the
// file holds is an error that names the file and the field.

#include <tezgah/sdk/result.hpp>

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tezgah::engine {

namespace sdk = tezgah::sdk;

/// What a plan limits. The names are the plans file's fields, the 429's `limit` and the metrics'
/// `limit` label.
enum class Limit { messages_per_minute, customer_messages_per_minute, llm_tokens_per_day, turns_in_flight };

inline constexpr std::array<Limit, 4> kLimits = {Limit::messages_per_minute,
                                                 Limit::customer_messages_per_minute,
                                                 Limit::llm_tokens_per_day, Limit::turns_in_flight};
/// The plan names a manifest's `plan` and the plans file may use.
inline constexpr std::array<std::string_view, 4> kPlanNames = {"free", "basic", "premium", "enterprise"};

std::string_view to_string(Limit limit);
/// The limit of that name, if it is one.
std::optional<Limit> limit_named(std::string_view name);

/// One plan's figures; none: unlimited.
struct Plan {
    std::array<std::optional<long long>, kLimits.size()> figures{};
    std::optional<long long> figure(Limit limit) const { return figures[static_cast<std::size_t>(limit)]; }
};

struct Plans {
    std::string source;  ///< the file, as the operator named it; empty: no plans file
    std::map<std::string, Plan, std::less<>> plans;

    /// The plan of that name, or null (no plans file, or a plan the file leaves out: unlimited).
    const Plan* find(std::string_view name) const;
    bool configured() const { return !source.empty(); }
};

/// Reads a plans file. Errors (invalid_value) name the file as given and the field, one problem a
/// line: `plans.json: plans.basic.messages_per_minute: must be a positive integer`.
sdk::Result<Plans> load_plans(const std::filesystem::path& file);
/// The same from text; `source` names it in errors.
sdk::Result<Plans> parse_plans(std::string_view text, const std::string& source);

}  // namespace tezgah::engine
