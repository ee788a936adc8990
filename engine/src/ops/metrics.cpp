#include "ops/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <charconv>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace tezgah::engine {
namespace {

// Upper bounds in seconds. Chat turns are expected in the low milliseconds, so the
// buckets are dense there; the tail still shows requests that wait on a remote LLM.
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
    static const prometheus::Histogram::BucketBoundaries buckets = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
    return buckets;
}

struct Label {
    std::string_view name;
    std::string_view value;
};
using LabelList = std::initializer_list<Label>;

/// Names and values in one string, each value preceded by its length so that no two label sets
/// give the same key whatever bytes the values hold. The buffer is reused per thread: finding a
/// series already seen allocates nothing.
const std::string& lookup_key(LabelList labels) {
    thread_local std::string key;
    key.clear();
    for (const auto& [name, value] : labels) {
        key += name;
        key += '=';
        const std::size_t size = value.size();
        key.append(reinterpret_cast<const char*>(&size), sizeof size);
        key += value;
    }
    return key;
}

struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

/// The series of one family, found by their labels in a map of our own: prometheus-cpp's
/// Family::Add would build a std::map of the labels and take the family's lock on every update.
/// Not synchronised itself: find() under a shared lock, add() under the exclusive one (Store).
template <class Metric>
class Series {
public:
    explicit Series(prometheus::Family<Metric>& family) : family_(family) {}

    Metric* find(std::string_view key) const {
        auto it = known_.find(key);
        return it == known_.end() ? nullptr : it->second;
    }

    Metric& add(std::string_view key, LabelList labels) {
        if (Metric* found = find(key)) return *found;  // another thread made it between the locks
        prometheus::Labels names_and_values;
        for (const auto& [name, value] : labels) names_and_values.emplace(name, value);
        Metric* made = nullptr;
        if constexpr (std::is_same_v<Metric, prometheus::Histogram>)
            made = &family_.Add(names_and_values, latency_buckets());
        else
            made = &family_.Add(names_and_values);
        known_.emplace(key, made);
        return *made;
    }

private:
    prometheus::Family<Metric>& family_;
    std::unordered_map<std::string, Metric*, KeyHash, std::equal_to<>> known_;
};

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& registry, const std::string& name,
                                                 const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Histogram>& histogram(prometheus::Registry& registry, const std::string& name,
                                                     const std::string& help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

/// Every family and series. Replaced whole by Metrics::reset(): prometheus-cpp cannot empty a
/// family in one call, and a fresh registry is certain to hold nothing left over.
struct State {
    prometheus::Registry registry;
    Series<prometheus::Counter> http_requests{counter(
        registry, "tezgah_http_requests_total", "HTTP requests answered, by route, method and status.")};
    Series<prometheus::Histogram> http_durations{
        histogram(registry, "tezgah_http_request_duration_seconds",
                  "Time from reading the request to the last byte of the reply, by route.")};
    Series<prometheus::Counter> messages{
        counter(registry, "tezgah_messages_total", "Chat turns answered, by tenant and answering method.")};
    Series<prometheus::Counter> tool_calls{
        counter(registry, "tezgah_tool_calls_total", "Tool calls made during turns, by tool and outcome.")};
    Series<prometheus::Histogram> db_durations{histogram(registry, "tezgah_db_operation_duration_seconds",
                                                         "Database operation latency, by operation.")};
    Series<prometheus::Counter> tokens{counter(registry, "tezgah_llm_tokens_total",
                                               "Language model tokens, by tenant, model and direction.")};
    Series<prometheus::Counter> llm_calls{
        counter(registry, "tezgah_llm_calls_total",
                "Language model provider calls, by tenant, provider, model and outcome.")};
    Series<prometheus::Counter> llm_cost{
        counter(registry, "tezgah_llm_cost_usd_total",
                "What language model calls cost in US dollars by the price table, by tenant and model.")};
    Series<prometheus::Counter> response_cache{
        counter(registry, "tezgah_response_cache_requests_total",
                "Response cache lookups, by tenant and result (hit, miss, negative_hit).")};
    Series<prometheus::Counter> budget_exceeded{
        counter(registry, "tezgah_budget_exceeded_total",
                "Turns that found a tenant's daily or monthly model budget spent, by tenant and period.")};
    Series<prometheus::Counter> provider_retries{
        counter(registry, "tezgah_provider_retries_total", "Provider calls tried again, by provider.")};
    Series<prometheus::Counter> lua_skipped{
        counter(registry, "tezgah_lua_skipped_total",
                "Lua rule and tool calls that did not complete, by tenant and reason (busy, cpu_budget, "
                "wall_clock, memory, error).")};
    Series<prometheus::Counter> lua_log_dropped{
        counter(registry, "tezgah_lua_log_dropped_total",
                "Script log lines dropped over the tenant's rate, by tenant.")};
    Series<prometheus::Counter> outbox_sends{
        counter(registry, "tezgah_outbox_sends_total",
                "Outbox attempts to send, by tenant, channel and result (accepted, retry_later, failed, "
                "window_closed).")};
    Series<prometheus::Histogram> outbox_send_durations{histogram(
        registry, "tezgah_outbox_send_duration_seconds", "Time of one send call to a channel's provider.")};
    Series<prometheus::Histogram> outbox_queue_waits{
        histogram(registry, "tezgah_outbox_queue_wait_seconds",
                  "Time from storing an outbound message to its provider accepting it, by channel.")};
    Series<prometheus::Counter> outbox_reports{
        counter(registry, "tezgah_outbox_reports_total",
                "Delivery reports that moved a message on, by channel and state.")};
    // Plans and limits (ops/limits.hpp).
    Series<prometheus::Gauge> plan_limit{
        prometheus::BuildGauge()
            .Name("tezgah_plan_limit")
            .Help("What a tenant's plan allows, by tenant, plan and limit (unlimited figures are absent).")
            .Register(registry)};
    Series<prometheus::Gauge> plan_usage{
        prometheus::BuildGauge()
            .Name("tezgah_plan_usage")
            .Help("What a tenant used of each plan figure in its current window, as of its latest turn.")
            .Register(registry)};
    Series<prometheus::Counter> rate_limited{counter(
        registry, "tezgah_rate_limited_total", "Turns refused over a plan's limit, by tenant and limit.")};
    prometheus::Family<prometheus::Gauge>& outbox_messages = prometheus::BuildGauge()
                                                                 .Name("tezgah_outbox_messages")
                                                                 .Help("Outbound messages stored, by state.")
                                                                 .Register(registry);
    prometheus::Gauge& outbox_queue_depth =
        prometheus::BuildGauge()
            .Name("tezgah_outbox_queue_depth")
            .Help("Outbound messages queued: not yet accepted by their provider.")
            .Register(registry)
            .Add({});
    prometheus::Gauge& tenants_loaded = prometheus::BuildGauge()
                                            .Name("tezgah_tenants_loaded")
                                            .Help("Tenants currently loaded and serving.")
                                            .Register(registry)
                                            .Add({});
    prometheus::Gauge& widget_sockets = prometheus::BuildGauge()
                                            .Name("tezgah_widget_sockets")
                                            .Help("The web widget's open WebSockets.")
                                            .Register(registry)
                                            .Add({});
    prometheus::Gauge& ready = prometheus::BuildGauge()
                                   .Name("tezgah_ready")
                                   .Help(
                                       "1 while the server takes traffic (GET /health/ready answers "
                                       "200); 0 while it starts or drains.")
                                   .Register(registry)
                                   .Add({});
    prometheus::Counter& tenants_unloaded =
        prometheus::BuildCounter()
            .Name("tezgah_tenants_unloaded_total")
            .Help("Tenants unloaded after --tenant-idle-minutes without a message.")
            .Register(registry)
            .Add({});
};

// Updates hold the lock shared, so they run side by side (the values themselves are atomics);
// only a series seen for the first time, and reset(), which frees every series, take it alone.
class Store {
public:
    /// Calls `change` with the series of `member` for `labels`, made on first use.
    template <class Metric, class Change>
    void update(Series<Metric> State::*member, LabelList labels, Change&& change) {
        const std::string& key = lookup_key(labels);
        {
            std::shared_lock lock(mutex_);
            if (Metric* found = ((*state_).*member).find(key)) {
                change(*found);
                return;
            }
        }
        std::unique_lock lock(mutex_);
        change(((*state_).*member).add(key, labels));
    }

    void set_tenants_loaded(int count) {
        std::shared_lock lock(mutex_);
        state_->tenants_loaded.Set(count);
    }

    void set_widget_sockets(int count) {
        std::shared_lock lock(mutex_);
        state_->widget_sockets.Set(count);
    }

    void set_ready(bool taking_traffic) {
        std::shared_lock lock(mutex_);
        state_->ready.Set(taking_traffic ? 1 : 0);
    }

    void count_tenant_unloaded() {
        std::shared_lock lock(mutex_);
        state_->tenants_unloaded.Increment();
    }

    void set_outbox_states(const std::vector<std::pair<std::string, long long>>& counts) {
        static const char* const kStates[] = {"queued", "sent",   "delivered",
                                              "read",   "failed", "window_closed"};
        std::unique_lock lock(mutex_);
        for (const char* state : kStates) {
            long long count = 0;
            for (const auto& [name, n] : counts)
                if (name == state) count = n;
            state_->outbox_messages.Add({{"state", state}}).Set(static_cast<double>(count));
            if (std::string_view(state) == "queued")
                state_->outbox_queue_depth.Set(static_cast<double>(count));
        }
    }

    std::string render() const {
        std::vector<prometheus::MetricFamily> families;
        {
            std::shared_lock lock(mutex_);
            families = state_->registry.Collect();
        }
        return prometheus::TextSerializer().Serialize(families);
    }

    void reset() {
        std::unique_lock lock(mutex_);
        state_ = std::make_unique<State>();
    }

private:
    mutable std::shared_mutex mutex_;
    std::unique_ptr<State> state_ = std::make_unique<State>();
};

Store& store() {
    static Store instance;
    return instance;
}

void increment(Series<prometheus::Counter> State::*member, LabelList labels) {
    store().update(member, labels, [](prometheus::Counter& c) { c.Increment(); });
}

}  // namespace

Metrics& Metrics::global() {
    static Metrics instance;
    return instance;
}

void Metrics::http_request(std::string_view route, std::string_view method, int status, double seconds) {
    char status_text[16];
    const auto end = std::to_chars(status_text, status_text + sizeof status_text, status).ptr;
    increment(&State::http_requests, {{"route", route}, {"method", method}, {"status", {status_text, end}}});
    store().update(&State::http_durations, {{"route", route}},
                   [&](prometheus::Histogram& h) { h.Observe(seconds); });
}

void Metrics::message(std::string_view tenant, std::string_view method) {
    increment(&State::messages, {{"tenant", tenant}, {"method", method}});
}

void Metrics::tool_call(std::string_view tool, bool ok) {
    increment(&State::tool_calls, {{"tool", tool}, {"outcome", ok ? "ok" : "error"}});
}

void Metrics::db_operation(std::string_view operation, double seconds) {
    store().update(&State::db_durations, {{"operation", operation}},
                   [&](prometheus::Histogram& h) { h.Observe(seconds); });
}

void Metrics::tenants_loaded(int count) { store().set_tenants_loaded(count); }

void Metrics::widget_sockets(int count) { store().set_widget_sockets(count); }

void Metrics::ready(bool taking_traffic) { store().set_ready(taking_traffic); }

void Metrics::tenant_unloaded() { store().count_tenant_unloaded(); }

void Metrics::tokens(std::string_view tenant, std::string_view model, long long input, long long output) {
    auto add = [&](std::string_view direction, long long count) {
        if (count <= 0) return;
        auto by = [&](prometheus::Counter& c) { c.Increment(static_cast<double>(count)); };
        if (model.empty())
            store().update(&State::tokens, {{"tenant", tenant}, {"direction", direction}}, by);
        else
            store().update(&State::tokens, {{"tenant", tenant}, {"model", model}, {"direction", direction}},
                           by);
    };
    add("input", input);
    add("output", output);
}

void Metrics::llm_call(std::string_view tenant, std::string_view provider, std::string_view model, bool ok) {
    increment(
        &State::llm_calls,
        {{"tenant", tenant}, {"provider", provider}, {"model", model}, {"outcome", ok ? "ok" : "error"}});
}

void Metrics::llm_cost(std::string_view tenant, std::string_view model, double usd) {
    if (!(usd > 0)) return;  // a counter never goes down; free calls add nothing
    store().update(&State::llm_cost, {{"tenant", tenant}, {"model", model}},
                   [&](prometheus::Counter& c) { c.Increment(usd); });
}

void Metrics::response_cache(std::string_view tenant, std::string_view result) {
    increment(&State::response_cache, {{"tenant", tenant}, {"result", result}});
}

void Metrics::budget_exceeded(std::string_view tenant, std::string_view period) {
    increment(&State::budget_exceeded, {{"tenant", tenant}, {"period", period}});
}

void Metrics::provider_retry(std::string_view provider) {
    increment(&State::provider_retries, {{"provider", provider}});
}

void Metrics::lua_skipped(std::string_view tenant, std::string_view reason) {
    increment(&State::lua_skipped, {{"tenant", tenant}, {"reason", reason}});
}

void Metrics::lua_log_dropped(std::string_view tenant) {
    increment(&State::lua_log_dropped, {{"tenant", tenant}});
}

void Metrics::outbox_send(std::string_view tenant, std::string_view channel, std::string_view result,
                          double seconds) {
    increment(&State::outbox_sends, {{"tenant", tenant}, {"channel", channel}, {"result", result}});
    store().update(&State::outbox_send_durations, {{"channel", channel}},
                   [&](prometheus::Histogram& h) { h.Observe(seconds); });
}

void Metrics::outbox_queue_wait(std::string_view channel, double seconds) {
    store().update(&State::outbox_queue_waits, {{"channel", channel}},
                   [&](prometheus::Histogram& h) { h.Observe(seconds); });
}

void Metrics::outbox_report(std::string_view channel, std::string_view state) {
    increment(&State::outbox_reports, {{"channel", channel}, {"state", state}});
}

void Metrics::outbox_states(const std::vector<std::pair<std::string, long long>>& counts) {
    store().set_outbox_states(counts);
}

void Metrics::plan_limit(std::string_view tenant, std::string_view plan, std::string_view limit,
                         double figure) {
    store().update(&State::plan_limit, {{"tenant", tenant}, {"plan", plan}, {"limit", limit}},
                   [&](prometheus::Gauge& g) { g.Set(figure); });
}

void Metrics::plan_usage(std::string_view tenant, std::string_view limit, double used) {
    store().update(&State::plan_usage, {{"tenant", tenant}, {"limit", limit}},
                   [&](prometheus::Gauge& g) { g.Set(used); });
}

void Metrics::rate_limited(std::string_view tenant, std::string_view limit) {
    increment(&State::rate_limited, {{"tenant", tenant}, {"limit", limit}});
}

std::string Metrics::render() const { return store().render(); }

void Metrics::reset() { store().reset(); }

}  // namespace tezgah::engine
