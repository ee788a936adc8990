#include "ops/costs.hpp"

#include <tezgah/sdk/errors.hpp>

#include <date/tz.h>
#include <boost/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "util/log.hpp"

namespace tezgah::engine {

namespace json = boost::json;

// ---------------------------------------------------------------- the price table

const std::map<std::string, ModelPrice>& PriceTable::defaults() {
    // Public list prices, US dollars per million tokens, standard (not batch) tier; for models
    // priced by prompt length, the short-prompt price. Checked when written: see docs/operations.md.
    static const std::map<std::string, ModelPrice> table = {
        // Google Gemini API (paid tier, text input)
        {"gemini-2.5-pro", {1.25, 10.00}},
        {"gemini-2.5-flash", {0.30, 2.50}},
        {"gemini-2.5-flash-lite", {0.10, 0.40}},
        {"gemini-2.0-flash", {0.10, 0.40}},
        {"gemini-2.0-flash-lite", {0.075, 0.30}},
        {"gemini-1.5-flash", {0.075, 0.30}},
        {"gemini-1.5-pro", {1.25, 5.00}},
        // OpenAI
        {"gpt-4o", {2.50, 10.00}},
        {"gpt-4o-mini", {0.15, 0.60}},
        {"gpt-4.1", {2.00, 8.00}},
        {"gpt-4.1-mini", {0.40, 1.60}},
        {"gpt-4.1-nano", {0.10, 0.40}},
        {"o3-mini", {1.10, 4.40}},
        {"o4-mini", {1.10, 4.40}},
        // The offline assistant
        {"local", {0, 0}},
    };
    return table;
}

PriceTable::PriceTable() : models_(defaults().begin(), defaults().end()) {}

namespace {

sdk::Error price_error(const std::string& path, const std::string& field, const std::string& message) {
    return sdk::make_error(sdk::errc::invalid_value, path + ": " + field + ": " + message);
}

}  // namespace

sdk::Status PriceTable::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return sdk::make_error(sdk::errc::not_found, path + ": -: cannot read the file");
    std::ostringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    json::value root = json::parse(text.str(), ec);
    if (ec) return price_error(path, "-", "not valid JSON: " + ec.message());
    if (!root.is_object()) return price_error(path, "-", "expected an object with \"models\"");
    for (const auto& [key, value] : root.as_object()) {
        if (key != "models") return price_error(path, std::string(key), "unknown key (expected \"models\")");
    }
    const auto* models = root.as_object().if_contains("models");
    if (!models) return price_error(path, "models", "required");
    if (!models->is_object()) return price_error(path, "models", "expected an object of model names");

    std::map<std::string, ModelPrice> read;
    for (const auto& [name, entry] : models->as_object()) {
        const std::string where = "models." + std::string(name);
        if (name.empty()) return price_error(path, where, "empty model name");
        if (!entry.is_object())
            return price_error(path, where,
                               "expected {\"input_per_mtok_usd\": x, \"output_per_mtok_usd\": y}");
        for (const auto& [key, value] : entry.as_object()) {
            if (key != "input_per_mtok_usd" && key != "output_per_mtok_usd")
                return price_error(path, where + "." + std::string(key), "unknown key");
        }
        ModelPrice price;
        for (auto [field, target] : {std::pair{"input_per_mtok_usd", &price.input_per_mtok_usd},
                                     std::pair{"output_per_mtok_usd", &price.output_per_mtok_usd}}) {
            const auto* value = entry.as_object().if_contains(field);
            if (!value) return price_error(path, where + "." + field, "required");
            if (!value->is_number()) return price_error(path, where + "." + field, "expected a number");
            double number = value->to_number<double>();
            if (!(number >= 0)) return price_error(path, where + "." + field, "must be 0 or more");
            *target = number;
        }
        read[std::string(name)] = price;
    }
    std::unique_lock lock(mutex_);
    for (auto& [name, price] : read) models_[name] = price;
    return {};
}

void PriceTable::set(const std::string& model, ModelPrice price) {
    std::unique_lock lock(mutex_);
    models_[model] = price;
}

std::optional<ModelPrice> PriceTable::find(std::string_view model) const {
    std::shared_lock lock(mutex_);
    if (auto it = models_.find(model); it != models_.end()) return it->second;
    // "models/gemini-2.0-flash" (Gemini's resource names), "openai/gpt-4o" (gateways).
    if (auto slash = model.rfind('/'); slash != std::string_view::npos) model.remove_prefix(slash + 1);
    if (auto it = models_.find(model); it != models_.end()) return it->second;
    // The longest known name that model starts with, ending where a word does: dated and
    // versioned names ("gpt-4o-mini-2024-07-18", "gemini-2.0-flash-001") cost what their family costs.
    std::optional<ModelPrice> best;
    std::size_t best_length = 0;
    for (const auto& [name, price] : models_) {
        if (name.size() <= best_length || name.size() >= model.size() || !model.starts_with(name)) continue;
        if (std::isalnum(static_cast<unsigned char>(model[name.size()]))) continue;
        best = price;
        best_length = name.size();
    }
    return best;
}

Cost PriceTable::cost(std::string_view model, long long input_tokens, long long output_tokens) const {
    auto price = find(model);
    if (!price) {
        bool first = false;
        {
            std::lock_guard lock(warned_mutex_);
            first = warned_.emplace(model).second;
        }
        if (first)
            log_event(spdlog::level::warn, "costs", "no price for this model: its calls are counted at 0 USD",
                      {{"model", std::string(model)}});
        return {0, false};
    }
    const double usd = (static_cast<double>(std::max(0LL, input_tokens)) * price->input_per_mtok_usd +
                        static_cast<double>(std::max(0LL, output_tokens)) * price->output_per_mtok_usd) /
                       1e6;
    return {usd, true};
}

namespace {

struct ProcessPrices {
    PriceTable table;
    std::once_flag from_environment;
};

ProcessPrices& process_prices() {
    static ProcessPrices instance;
    return instance;
}

std::string prices_env() {
    const char* value = std::getenv("TEZGAH_PRICES");
    return value ? value : "";
}

}  // namespace

PriceTable& prices() {
    auto& p = process_prices();
    std::call_once(p.from_environment, [&] {
        auto path = prices_env();
        if (path.empty()) return;
        if (auto loaded = p.table.load(path); !loaded)
            log_event(spdlog::level::err, "costs", "TEZGAH_PRICES not loaded; using the built-in prices",
                      {{"error", loaded.error().message}});
    });
    return p.table;
}

sdk::Status configure_prices(const std::string& path) {
    auto& p = process_prices();
    std::call_once(p.from_environment, [] {});  // what is loaded here replaces the lazy load
    const std::string file = path.empty() ? prices_env() : path;
    if (file.empty()) return {};
    return p.table.load(file);
}

// ---------------------------------------------------------------- periods

const char* to_string(Period period) { return period == Period::day ? "day" : "month"; }

std::pair<TimePoint, TimePoint> period_bounds(Period period, TimePoint now, const std::string& timezone) {
    const date::time_zone* zone = nullptr;
    try {
        zone = date::locate_zone(timezone);
    } catch (const std::exception&) {
        zone = nullptr;  // unknown: UTC
    }
    const auto utc = date::floor<std::chrono::seconds>(now);
    const date::local_seconds local =
        zone ? zone->to_local(utc) : date::local_seconds{utc.time_since_epoch()};
    const auto today = date::floor<date::days>(local);
    date::local_days start, end;
    if (period == Period::day) {
        start = today;
        end = today + date::days{1};
    } else {
        const date::year_month_day ymd{today};
        const auto month = ymd.year() / ymd.month();
        start = date::local_days{month / 1};
        end = date::local_days{(month + date::months{1}) / 1};
    }
    auto to_sys = [&](date::local_days day) -> TimePoint {
        const date::local_seconds midnight{day};
        if (!zone) return date::sys_seconds{midnight.time_since_epoch()};
        return zone->to_sys(midnight, date::choose::earliest);
    };
    return {to_sys(start), to_sys(end)};
}

// ---------------------------------------------------------------- spend

SpendTracker::SpendTracker(SpendSource source, SharedState* shared)
    : source_(std::move(source)), shared_(shared) {}

bool SpendTracker::sharing() const { return shared_ != nullptr && shared_->health() != SharedHealth::local; }

namespace {

/// A shared spend counter outlives its period by a day: a turn that ends just after midnight
/// still finds it, and Redis forgets it after.
std::chrono::milliseconds spend_ttl(Period period) {
    using namespace std::chrono_literals;
    return period == Period::day ? std::chrono::milliseconds(48h) : std::chrono::milliseconds(32 * 24h);
}

double money(const std::string& text) {
    try {
        return std::stod(text);
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

std::string SpendTracker::shared_key(const std::string& tenant, Period period, TimePoint now,
                                     const std::string& timezone) {
    const date::time_zone* zone = nullptr;
    try {
        zone = timezone.empty() ? nullptr : date::locate_zone(timezone);
    } catch (const std::exception&) {
        zone = nullptr;  // unknown: UTC, as period_bounds
    }
    const auto utc = date::floor<std::chrono::seconds>(now);
    const date::local_seconds local =
        zone ? zone->to_local(utc) : date::local_seconds{utc.time_since_epoch()};
    return "spend:" + tenant + ":" + to_string(period) + ":" +
           date::format(period == Period::day ? "%Y-%m-%d" : "%Y-%m", date::floor<date::days>(local));
}

double SpendTracker::shared_spent(const std::string& tenant, Period period, TimePoint now,
                                  const std::string& timezone) {
    const auto key = shared_key(tenant, period, now, timezone);
    if (auto value = shared_->get(key)) return money(*value);
    // Nobody counted this period yet (or Redis forgot it): the database's figure, once.
    const auto [from, to] = period_bounds(period, now, timezone);
    auto stored = source_ ? source_(tenant, from, to) : sdk::Result<double>(0.0);
    if (!stored) {
        log_event(spdlog::level::err, "costs", "spend not read from the database; counting from 0",
                  {{"tenant", tenant}, {"period", to_string(period)}, {"error", stored.error().message}});
        return 0;
    }
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", *stored);
    if (shared_->put_if_absent(key, text, spend_ttl(period))) return *stored;
    auto value = shared_->get(key);  // another instance seeded it meanwhile
    return value ? money(*value) : *stored;
}

void SpendTracker::shared_add(const std::string& tenant, double usd, TimePoint at,
                              const std::string& timezone) {
    for (auto period : {Period::day, Period::month}) {
        const auto key = shared_key(tenant, period, at, timezone);
        const double total = shared_->add_float(key, usd, spend_ttl(period));
        if (std::abs(total - usd) > 1e-12) continue;
        // The counter was absent (this turn made it): the database, which holds this turn
        // already, has the period's whole figure.
        const auto [from, to] = period_bounds(period, at, timezone);
        auto stored = source_ ? source_(tenant, from, to) : sdk::Result<double>(0.0);
        if (stored && *stored > total) {
            char text[64];
            std::snprintf(text, sizeof text, "%.17g", *stored);
            shared_->put(key, text, spend_ttl(period));
        }
    }
}

double SpendTracker::spent(const std::string& tenant, Period period, TimePoint now,
                           const std::string& timezone) {
    if (sharing()) return shared_spent(tenant, period, now, timezone);
    const auto [from, to] = period_bounds(period, now, timezone);
    const Key key{tenant, period};
    {
        std::lock_guard lock(mutex_);
        auto& window = windows_[key];
        if (window.from != from || window.to != to) window = Window{from, to, 0, false};  // new period
        if (window.seeded) return window.usd;
    }
    // Asked without the lock: other tenants' turns do not wait on this query.
    auto stored = source_ ? source_(tenant, from, to) : sdk::Result<double>(0.0);
    std::lock_guard lock(mutex_);
    auto& window = windows_[key];
    if (window.from != from || window.to != to) return stored ? *stored : 0;  // moved on meanwhile
    if (window.seeded) return window.usd;
    if (!stored) {
        log_event(spdlog::level::err, "costs",
                  "spend not read from the database; counting this process's only",
                  {{"tenant", tenant}, {"period", to_string(period)}, {"error", stored.error().message}});
        return window.usd;
    }
    // The stored rows include the turns added while this window waited to be seeded.
    window.usd = *stored;
    window.seeded = true;
    return window.usd;
}

void SpendTracker::add(const std::string& tenant, double usd, TimePoint at, const std::string& timezone) {
    if (usd == 0) return;
    if (sharing()) return shared_add(tenant, usd, at, timezone);
    std::lock_guard lock(mutex_);
    for (auto period : {Period::day, Period::month}) {
        auto it = windows_.find(Key{tenant, period});
        if (it == windows_.end()) continue;  // not asked about yet: the database will have it
        auto& window = it->second;
        if (at >= window.from && at < window.to) window.usd += usd;
    }
}

BudgetCheck SpendTracker::check(const Budget& budget, const std::string& tenant, TimePoint now,
                                const std::string& timezone) {
    // The month first: when both are spent, the longer wait is the one to report.
    for (auto [period, limit] :
         {std::pair{Period::month, budget.monthly_usd}, std::pair{Period::day, budget.daily_usd}}) {
        if (!limit) continue;
        const double used = spent(tenant, period, now, timezone);
        if (used >= *limit) return BudgetCheck{false, to_string(period), *limit, used};
    }
    return {};
}

void SpendTracker::forget(const std::string& tenant) {
    std::lock_guard lock(mutex_);
    if (tenant.empty()) {
        windows_.clear();
        return;
    }
    std::erase_if(windows_, [&](const auto& entry) { return entry.first.first == tenant; });
}

}  // namespace tezgah::engine
