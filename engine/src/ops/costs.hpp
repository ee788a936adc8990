#pragma once
// What language-model calls cost: a price table (built-in list prices, overridable from a JSON
// file), the process's spend per tenant per day and month for budgets, and the budget check.
// Prices are per million tokens in US dollars; see docs/operations.md.

#include "shared/shared_state.hpp"

#include <tezgah/sdk/result.hpp>

#include <chrono>
#include <concepts>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tezgah::engine {

namespace sdk = tezgah::sdk;

struct ModelPrice {
    double input_per_mtok_usd = 0;
    double output_per_mtok_usd = 0;
};

/// The cost of one provider call.
struct Cost {
    double usd = 0;
    bool known = false;  ///< false when the model is not in the table (then usd is 0)
};

/// Model name → price. Lookup takes the exact name, then the name without a leading path
/// ("models/gemini-2.0-flash-001", "openai/gpt-4o"), then the longest known name that is a prefix of
/// it ending at a word boundary ("gpt-4o-mini-2024-07-18" → gpt-4o-mini). Thread-safe.
class PriceTable {
public:
    /// A table holding the built-in defaults.
    PriceTable();
    PriceTable(const PriceTable&) = delete;
    PriceTable& operator=(const PriceTable&) = delete;

    /// The built-in list prices (checked when written; operators should check them: docs/operations.md).
    static const std::map<std::string, ModelPrice>& defaults();

    /// Merges `{"models": {"<model>": {"input_per_mtok_usd": x, "output_per_mtok_usd": y}}}` over
    /// what the table holds. All or nothing: on an error the table is unchanged, and the message
    /// names the file, the model and the field (`prices.json: models.gpt-4o.input_per_mtok_usd: ...`).
    sdk::Status load(const std::string& path);
    /// Sets one model's price (tests, and code that knows better).
    void set(const std::string& model, ModelPrice price);

    /// The price of `model` by the lookup rule above, or nullopt.
    std::optional<ModelPrice> find(std::string_view model) const;
    /// What `input_tokens` in and `output_tokens` out cost on `model`. An unknown model costs 0
    /// (known = false) and logs one warning per model for the life of the table.
    Cost cost(std::string_view model, long long input_tokens, long long output_tokens) const;

private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, ModelPrice, std::less<>> models_;
    mutable std::mutex warned_mutex_;
    mutable std::set<std::string, std::less<>> warned_;
};

/// The process's price table. On first use it loads the file named by env TEZGAH_PRICES, if set
/// (a bad file is logged and the defaults kept: use configure_prices at start-up to fail instead).
PriceTable& prices();

/// Start-up: loads `path` into prices(), or, when `path` is empty, the file named by
/// TEZGAH_PRICES; nothing to do when neither is given. The error names the file.
sdk::Status configure_prices(const std::string& path);

// ---------------------------------------------------------------- spend and budgets

enum class Period { day, month };

/// "day" | "month".
const char* to_string(Period period);

using TimePoint = std::chrono::system_clock::time_point;

/// The calendar day or month holding `now` on the wall clock of `timezone` (UTC when unknown),
/// as [from, to) in UTC. A midnight skipped by a clock change starts the day at the change.
std::pair<TimePoint, TimePoint> period_bounds(Period period, TimePoint now, const std::string& timezone);

/// A tenant's spending limits (the manifest's `llm.budget`).
struct Budget {
    std::optional<double> daily_usd;
    std::optional<double> monthly_usd;
    enum class OnExceed { fallback, refuse } on_exceed = OnExceed::fallback;
};

/// Whether a tenant may spend on a paid model now.
struct BudgetCheck {
    bool allowed = true;
    std::string period;    ///< when not allowed: the limit reached, "day" or "month" (month before day)
    double limit_usd = 0;  ///< when not allowed: that limit
    double spent_usd = 0;  ///< when not allowed: spent in that period so far
};

/// Spend in [from, to) as the database holds it (Database::spent_usd).
using SpendSource =
    std::function<sdk::Result<double>(const std::string& tenant, TimePoint from, TimePoint to)>;

/// What each tenant has spent today and this month, kept in the process so a turn never waits on a
/// query: the first question about a tenant's day (or month) asks `source`, later turns' costs are
/// added as they happen, and a new day or month (or another time zone) asks again. Thread-safe.
///
/// With Redis (`shared` given and not local), the figures live in shared money counters
/// `spend:<tenant>:day:<YYYY-MM-DD>` and `spend:<tenant>:month:<YYYY-MM>` (the tenant's local
/// date), so every instance sees what the others spent: a counter that is absent is seeded from
/// `source` (put_if_absent of the database's figure), and each turn's cost is added to it.
///
/// A turn stored just before the seeding query and added just after it counts twice: the error
/// is small, rare and on the side of the budget.
class SpendTracker {
public:
    explicit SpendTracker(SpendSource source, SharedState* shared = nullptr);
    /// Seeded from `store` (a Database: anything with spent_usd(tenant, from, to)), which must
    /// outlive the tracker. A template so that ops need not know the store.
    template <class Store>
        requires requires(Store& store, const std::string& tenant, TimePoint t) {
            { store.spent_usd(tenant, t, t) } -> std::convertible_to<sdk::Result<double>>;
        }
    explicit SpendTracker(Store& store, SharedState* shared = nullptr)
        : SpendTracker(SpendSource([&store](const std::string& tenant, TimePoint from, TimePoint to) {
                           return sdk::Result<double>(store.spent_usd(tenant, from, to));
                       }),
                       shared) {}

    /// Spent by `tenant` in the day or month holding `now` in `timezone`. When the database cannot
    /// answer, the error is logged, the costs added since count, and the next call asks again.
    double spent(const std::string& tenant, Period period, TimePoint now, const std::string& timezone);
    /// Counts `usd` spent by `tenant` at `at` (after each turn, with its total cost, once the turn
    /// is stored); `timezone` is the tenant's (it names the shared counters).
    void add(const std::string& tenant, double usd, TimePoint at, const std::string& timezone = {});
    /// Checks `budget` at `now`: not allowed once the month's or the day's spend reached its limit.
    BudgetCheck check(const Budget& budget, const std::string& tenant, TimePoint now,
                      const std::string& timezone);
    /// Forgets what is tracked for `tenant` (every tenant when empty): the next question asks the database.
    void forget(const std::string& tenant = {});

    /// The shared counter of `tenant`'s spend in the day or month holding `now` in `timezone`.
    static std::string shared_key(const std::string& tenant, Period period, TimePoint now,
                                  const std::string& timezone);

private:
    bool sharing() const;
    double shared_spent(const std::string& tenant, Period period, TimePoint now, const std::string& timezone);
    void shared_add(const std::string& tenant, double usd, TimePoint at, const std::string& timezone);

    struct Window {
        TimePoint from, to;
        double usd = 0;
        bool seeded = false;
    };
    using Key = std::pair<std::string, Period>;

    SpendSource source_;
    SharedState* shared_;
    std::mutex mutex_;
    std::map<Key, Window> windows_;
};

}  // namespace tezgah::engine
