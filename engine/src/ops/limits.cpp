#include "ops/limits.hpp"

#include "ops/metrics.hpp"
#include "util/local_days.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace tezgah::engine {

namespace {

using std::chrono::seconds;
using SystemTime = std::chrono::system_clock::time_point;

constexpr std::chrono::milliseconds kMinuteKeyLife{120000};           // a minute's counter, and the next's
constexpr std::chrono::milliseconds kInFlightLife{10 * 60 * 1000};    // safety: a crashed instance's turns
constexpr std::chrono::milliseconds kTokenDayLife{48 * 3600 * 1000};  // any zone's day, and a margin

constexpr std::string_view kOver = " is over its plan's ";
constexpr std::string_view kPlan = " (plan \"";
constexpr std::string_view kRetry = "; retry after ";

long long unix_seconds(SystemTime now) {
    return std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
}

long long unix_minute(SystemTime now) {
    const long long s = unix_seconds(now);
    return s >= 0 ? s / 60 : (s - 59) / 60;
}

/// From `now` to the end of its unix minute, at least a second.
seconds to_next_minute(SystemTime now) {
    return seconds(std::max(1LL, (unix_minute(now) + 1) * 60 - unix_seconds(now)));
}

/// From `now` to the next midnight of `timezone`, at least a second.
seconds to_midnight(SystemTime now, const std::string& timezone) {
    const auto midnight = day_start(next_day(day_at(now, timezone)), timezone);
    return seconds(std::max<long long>(1, std::chrono::ceil<seconds>(midnight - now).count()));
}

struct Keys {
    std::string tenant_minute;
    std::string customer_minute;
    std::string in_flight;
    std::string tokens_day;
};

Keys keys_of(const LimitSubject& who, SystemTime now) {
    const std::string minute = std::to_string(unix_minute(now));
    return Keys{"rl:t:" + who.tenant + ":" + minute, "rl:c:" + who.tenant + ":" + who.user + ":" + minute,
                "inflight:" + who.tenant, "tok:" + who.tenant + ":" + day_at(now, who.timezone).str()};
}

long long number_at(std::string_view text, std::size_t from, std::size_t* end) {
    long long value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + from, text.data() + text.size(), value);
    *end = static_cast<std::size_t>(ptr - text.data());
    return ec == std::errc() ? value : -1;
}

}  // namespace

sdk::Error refusal_error(const std::string& tenant, const Refusal& refusal) {
    return sdk::Error{sdk::errc::rate_limited,
                      "tenant \"" + tenant + "\"" + std::string(kOver) +
                          std::string(to_string(refusal.limit)) + std::string(kPlan) + refusal.plan +
                          "\": " + std::to_string(refusal.figure) + ")" + std::string(kRetry) +
                          std::to_string(refusal.retry_after.count()) + " s"};
}

std::optional<Refusal> refusal_of(const sdk::Error& error) {
    if (error.code != sdk::errc::rate_limited) return std::nullopt;
    const std::string_view m = error.message;
    const auto over = m.find(kOver);
    if (over == std::string_view::npos) return std::nullopt;
    const auto name_at = over + kOver.size();
    const auto plan_at = m.find(kPlan, name_at);
    const auto retry_at = m.rfind(kRetry);
    if (plan_at == std::string_view::npos || retry_at == std::string_view::npos || retry_at < plan_at)
        return std::nullopt;
    auto limit = limit_named(m.substr(name_at, plan_at - name_at));
    if (!limit) return std::nullopt;
    Refusal out;
    out.limit = *limit;
    const auto plan_begin = plan_at + kPlan.size();
    const auto plan_end = m.find("\": ", plan_begin);
    if (plan_end == std::string_view::npos || plan_end > retry_at) return std::nullopt;
    out.plan = std::string(m.substr(plan_begin, plan_end - plan_begin));
    std::size_t end = 0;
    out.figure = number_at(m, plan_end + 3, &end);
    const long long retry = number_at(m, retry_at + kRetry.size(), &end);
    if (retry < 0) return std::nullopt;
    out.retry_after = seconds(retry);
    return out;
}

Limiter::Admission::Admission(Admission&& other) noexcept
    : shared_(std::exchange(other.shared_, nullptr)),
      in_flight_key_(std::move(other.in_flight_key_)),
      tokens_key_(std::move(other.tokens_key_)),
      tokens_(other.tokens_),
      refusal_(std::move(other.refusal_)) {}

Limiter::Admission& Limiter::Admission::operator=(Admission&& other) noexcept {
    if (this == &other) return *this;
    release();
    shared_ = std::exchange(other.shared_, nullptr);
    in_flight_key_ = std::move(other.in_flight_key_);
    tokens_key_ = std::move(other.tokens_key_);
    tokens_ = other.tokens_;
    refusal_ = std::move(other.refusal_);
    return *this;
}

Limiter::Admission::~Admission() { release(); }

void Limiter::Admission::release() noexcept {
    SharedState* shared = std::exchange(shared_, nullptr);
    if (shared == nullptr) return;
    try {
        if (tokens_ > 0)
            shared->add_all({{in_flight_key_, -1, kInFlightLife}, {tokens_key_, tokens_, kTokenDayLife}});
        else
            shared->add(in_flight_key_, -1, kInFlightLife);
    } catch (const std::exception& e) {
        // The counter's lifetime puts it right; the turn itself is done and stored.
        log_event(spdlog::level::warn, "limits", "a turn's place in flight could not be given back",
                  {{"key", in_flight_key_}, {"error", e.what()}});
    }
}

const Plan* Limiter::plan_of(std::string_view plan) const {
    if (plan.empty()) return nullptr;
    return plans_.find(plan);
}

std::optional<Refusal> Limiter::blocked(const std::string& tenant, SystemTime now) {
    std::lock_guard lock(blocks_mutex_);
    auto it = blocks_.find(tenant);
    if (it == blocks_.end()) return std::nullopt;
    if (it->second.until <= now) {
        blocks_.erase(it);
        return std::nullopt;
    }
    Refusal refusal = it->second.refusal;
    refusal.retry_after =
        seconds(std::max<long long>(1, std::chrono::ceil<seconds>(it->second.until - now).count()));
    return refusal;
}

Limiter::Admission Limiter::admit(const LimitSubject& who, SystemTime now) {
    Admission out;
    const Plan* plan = plan_of(who.plan);
    if (plan == nullptr) return out;
    if (auto refusal = blocked(who.tenant, now)) {
        Metrics::global().rate_limited(who.tenant, to_string(refusal->limit));
        out.refusal_ = std::move(refusal);
        return out;
    }
    const Keys keys = keys_of(who, now);
    const auto values = shared_.add_all({{keys.tenant_minute, 1, kMinuteKeyLife},
                                         {keys.customer_minute, 1, kMinuteKeyLife},
                                         {keys.in_flight, 1, kInFlightLife},
                                         {keys.tokens_day, 0, kTokenDayLife}});
    // In kLimits order: what each figure is compared with, and how long its window has to run.
    const long long used[] = {values[0], values[1], values[3], values[2]};
    auto& metrics = Metrics::global();
    std::optional<Refusal> refusal;
    for (Limit limit : kLimits) {
        const auto i = static_cast<std::size_t>(limit);
        metrics.plan_usage(who.tenant, to_string(limit), static_cast<double>(used[i]));
        const auto figure = plan->figure(limit);
        if (!figure) continue;
        metrics.plan_limit(who.tenant, who.plan, to_string(limit), static_cast<double>(*figure));
        // A turn may start while the day's tokens are below the figure (it may cross it); the
        // others count this turn.
        const bool over = limit == Limit::llm_tokens_per_day ? used[i] >= *figure : used[i] > *figure;
        if (!over) continue;
        const seconds wait = limit == Limit::llm_tokens_per_day ? to_midnight(now, who.timezone)
                             : limit == Limit::turns_in_flight  ? seconds(1)
                                                                : to_next_minute(now);
        // Of several limits reached, the one that lasts longest: no retry succeeds before it ends.
        if (!refusal || wait > refusal->retry_after) refusal = Refusal{limit, wait, who.plan, *figure};
    }
    if (refusal) {
        // Taken back: a refused message uses none of the tenant's or the customer's allowance.
        shared_.add_all({{keys.tenant_minute, -1, kMinuteKeyLife},
                         {keys.customer_minute, -1, kMinuteKeyLife},
                         {keys.in_flight, -1, kInFlightLife}});
        metrics.rate_limited(who.tenant, to_string(refusal->limit));
        if (refusal->limit == Limit::messages_per_minute || refusal->limit == Limit::llm_tokens_per_day) {
            std::lock_guard lock(blocks_mutex_);
            blocks_[who.tenant] = Block{*refusal, now + refusal->retry_after};
        }
        out.refusal_ = std::move(refusal);
        return out;
    }
    // Turns given back by an instance after their counter expired under them leave it below one
    // with this turn counted: set it right (races with another admission cost at most a turn).
    if (values[2] < 1) shared_.add(keys.in_flight, 1 - values[2], kInFlightLife);
    out.shared_ = &shared_;
    out.in_flight_key_ = keys.in_flight;
    out.tokens_key_ = keys.tokens_day;
    return out;
}

bool Limiter::tell_once(const LimitSubject& who, const Refusal& refusal, SystemTime now) {
    const bool daily = refusal.limit == Limit::llm_tokens_per_day;
    const std::string window = daily ? day_at(now, who.timezone).str() : std::to_string(unix_minute(now));
    const auto life = std::chrono::milliseconds(
        ((daily ? to_midnight(now, who.timezone) : to_next_minute(now)) + seconds(60)));
    return shared_.put_if_absent("rl:told:" + who.tenant + ":" + who.user + ":" + window, "1", life);
}

std::vector<Limiter::Standing> Limiter::standing(const LimitSubject& who, SystemTime now) {
    std::vector<Standing> out;
    const Plan* plan = plan_of(who.plan);
    if (plan == nullptr) return out;
    const Keys keys = keys_of(who, now);
    // Adding nothing reads every counter in one round trip.
    std::vector<CounterAdd> reads = {{keys.tenant_minute, 0, kMinuteKeyLife},
                                     {keys.in_flight, 0, kInFlightLife},
                                     {keys.tokens_day, 0, kTokenDayLife}};
    if (!who.user.empty()) reads.push_back({keys.customer_minute, 0, kMinuteKeyLife});
    const auto values = shared_.add_all(reads);
    for (Limit limit : kLimits) {
        Standing s{limit, plan->figure(limit), 0};
        switch (limit) {
            case Limit::messages_per_minute:
                s.used = values[0];
                break;
            case Limit::customer_messages_per_minute:
                s.used = who.user.empty() ? 0 : values[3];
                break;
            case Limit::llm_tokens_per_day:
                s.used = values[2];
                break;
            case Limit::turns_in_flight:
                s.used = std::max(0LL, values[1]);
                break;
        }
        out.push_back(s);
    }
    return out;
}

}  // namespace tezgah::engine
