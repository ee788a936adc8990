#include "ops/metrics.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tezgah::engine {
namespace {

// Upper bounds in seconds. Chat turns are expected in the low milliseconds, so the
// buckets are dense there; the tail still shows requests that wait on a remote LLM.
constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

struct Histogram {
    std::array<unsigned long long, kLatencyBuckets.size()> buckets{};  // not cumulative
    unsigned long long count = 0;
    double sum = 0;

    void observe(double seconds) {
        for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
            if (seconds <= kLatencyBuckets[i]) {
                ++buckets[i];
                break;
            }
        }
        ++count;
        sum += seconds;
    }
};

/// Label values escaped per the text format: backslash, double quote and newline.
void append_escaped(std::string& out, std::string_view value) {
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

/// `name="value",name="value"` for the given pairs, used both as the map key and in the output.
std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
    std::string out;
    for (const auto& [name, value] : pairs) {
        if (!out.empty()) out += ',';
        out += name;
        out += "=\"";
        append_escaped(out, value);
        out += '"';
    }
    return out;
}

std::string format_number(double value) {
    char buffer[400];  // fixed notation of any double fits
    auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);  // shortest exact
    return std::string(buffer, result.ptr);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

std::string format_number(unsigned long long value) { return std::to_string(value); }

/// A counter's samples: whole counts, or US dollars.
template <class Value>
void render_counters(std::string& out, std::string_view name, std::string_view help,
                     const std::map<std::string, Value>& values) {
    header(out, name, "counter", help);
    for (const auto& [label_text, value] : values) {
        out += name;
        out += '{';
        out += label_text;
        out += "} ";
        out += format_number(value);
        out += '\n';
    }
}

void render_histograms(std::string& out, std::string_view name, std::string_view help,
                       const std::map<std::string, Histogram>& values) {
    header(out, name, "histogram", help);
    for (const auto& [label_text, histogram] : values) {
        unsigned long long cumulative = 0;
        for (std::size_t i = 0; i <= kLatencyBuckets.size(); ++i) {
            std::string bound = "+Inf";
            if (i < kLatencyBuckets.size()) {
                cumulative += histogram.buckets[i];
                bound = format_number(kLatencyBuckets[i]);
            } else {
                cumulative = histogram.count;
            }
            out += name;
            out += "_bucket{";
            out += label_text;
            out += ",le=\"";
            out += bound;
            out += "\"} ";
            out += std::to_string(cumulative);
            out += '\n';
        }
        out += name;
        out += "_sum{";
        out += label_text;
        out += "} ";
        out += format_number(histogram.sum);
        out += '\n';
        out += name;
        out += "_count{";
        out += label_text;
        out += "} ";
        out += std::to_string(histogram.count);
        out += '\n';
    }
}

// One lock for the whole registry: every update is a map lookup and an increment, far shorter
// than the request it records, and render() sees a consistent snapshot.
struct Registry {
    mutable std::mutex mutex;
    std::map<std::string, unsigned long long> http_requests;
    std::map<std::string, Histogram> http_durations;
    std::map<std::string, unsigned long long> messages;
    std::map<std::string, unsigned long long> tool_calls;
    std::map<std::string, Histogram> db_durations;
    std::map<std::string, unsigned long long> tokens;
    std::map<std::string, unsigned long long> llm_calls;
    std::map<std::string, double> llm_cost;
    std::map<std::string, unsigned long long> response_cache;
    std::map<std::string, unsigned long long> budget_exceeded;
    std::map<std::string, unsigned long long> provider_retries;
    std::atomic<int> tenants_loaded{0};
};

Registry& registry() {
    static Registry instance;
    return instance;
}

/// One more in the counter `member` of the registry, under `key`.
void increment(std::map<std::string, unsigned long long> Registry::*member, std::string key) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    ++(r.*member)[std::move(key)];
}

}  // namespace

Metrics& Metrics::global() {
    static Metrics instance;
    return instance;
}

void Metrics::http_request(std::string_view route, std::string_view method, int status, double seconds) {
    const std::string status_text = std::to_string(status);
    std::string counter_key = labels({{"route", route}, {"method", method}, {"status", status_text}});
    std::string histogram_key = labels({{"route", route}});
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    ++r.http_requests[std::move(counter_key)];
    r.http_durations[std::move(histogram_key)].observe(seconds);
}

void Metrics::message(std::string_view tenant, std::string_view method) {
    increment(&Registry::messages, labels({{"tenant", tenant}, {"method", method}}));
}

void Metrics::tool_call(std::string_view tool, bool ok) {
    increment(&Registry::tool_calls, labels({{"tool", tool}, {"outcome", ok ? "ok" : "error"}}));
}

void Metrics::db_operation(std::string_view operation, double seconds) {
    std::string key = labels({{"operation", operation}});
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.db_durations[std::move(key)].observe(seconds);
}

void Metrics::tenants_loaded(int count) { registry().tenants_loaded.store(count); }

void Metrics::tokens(std::string_view tenant, std::string_view model, long long input, long long output) {
    auto key = [&](std::string_view direction) {
        return model.empty() ? labels({{"tenant", tenant}, {"direction", direction}})
                             : labels({{"tenant", tenant}, {"model", model}, {"direction", direction}});
    };
    std::string input_key = key("input");
    std::string output_key = key("output");
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    if (input > 0) r.tokens[std::move(input_key)] += static_cast<unsigned long long>(input);
    if (output > 0) r.tokens[std::move(output_key)] += static_cast<unsigned long long>(output);
}

void Metrics::llm_call(std::string_view tenant, std::string_view provider, std::string_view model, bool ok) {
    increment(&Registry::llm_calls, labels({{"tenant", tenant},
                                            {"provider", provider},
                                            {"model", model},
                                            {"outcome", ok ? "ok" : "error"}}));
}

void Metrics::llm_cost(std::string_view tenant, std::string_view model, double usd) {
    if (!(usd > 0)) return;  // a counter never goes down; free calls add nothing
    std::string key = labels({{"tenant", tenant}, {"model", model}});
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.llm_cost[std::move(key)] += usd;
}

void Metrics::response_cache(std::string_view tenant, std::string_view result) {
    increment(&Registry::response_cache, labels({{"tenant", tenant}, {"result", result}}));
}

void Metrics::budget_exceeded(std::string_view tenant, std::string_view period) {
    increment(&Registry::budget_exceeded, labels({{"tenant", tenant}, {"period", period}}));
}

void Metrics::provider_retry(std::string_view provider) {
    increment(&Registry::provider_retries, labels({{"provider", provider}}));
}

std::string Metrics::render() const {
    auto& r = registry();
    std::string out;
    out.reserve(8192);
    std::lock_guard lock(r.mutex);
    render_counters(out, "tezgah_http_requests_total", "HTTP requests answered, by route, method and status.",
                    r.http_requests);
    render_histograms(out, "tezgah_http_request_duration_seconds",
                      "Time from reading the request to the last byte of the reply, by route.",
                      r.http_durations);
    render_counters(out, "tezgah_messages_total", "Chat turns answered, by tenant and answering method.",
                    r.messages);
    render_counters(out, "tezgah_tool_calls_total", "Tool calls made during turns, by tool and outcome.",
                    r.tool_calls);
    render_histograms(out, "tezgah_db_operation_duration_seconds",
                      "Database operation latency, by operation.", r.db_durations);
    render_counters(out, "tezgah_llm_tokens_total", "Language model tokens, by tenant, model and direction.",
                    r.tokens);
    render_counters(out, "tezgah_llm_calls_total",
                    "Language model provider calls, by tenant, provider, model and outcome.", r.llm_calls);
    render_counters(out, "tezgah_llm_cost_usd_total",
                    "What language model calls cost in US dollars by the price table, by tenant and model.",
                    r.llm_cost);
    render_counters(out, "tezgah_response_cache_requests_total",
                    "Response cache lookups, by tenant and result (hit, miss, negative_hit).",
                    r.response_cache);
    render_counters(out, "tezgah_budget_exceeded_total",
                    "Turns that found a tenant's daily or monthly model budget spent, by tenant and period.",
                    r.budget_exceeded);
    render_counters(out, "tezgah_provider_retries_total", "Provider calls tried again, by provider.",
                    r.provider_retries);
    header(out, "tezgah_tenants_loaded", "gauge", "Tenants currently loaded and serving.");
    out += "tezgah_tenants_loaded ";
    out += std::to_string(r.tenants_loaded.load());
    out += '\n';
    return out;
}

void Metrics::reset() {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.http_requests.clear();
    r.http_durations.clear();
    r.messages.clear();
    r.tool_calls.clear();
    r.db_durations.clear();
    r.tokens.clear();
    r.llm_calls.clear();
    r.llm_cost.clear();
    r.response_cache.clear();
    r.budget_exceeded.clear();
    r.provider_retries.clear();
    r.tenants_loaded.store(0);
}

}  // namespace tezgah::engine
