#pragma once
// Process-wide counters and histograms, rendered in the Prometheus text format at GET /metrics.
// Thread-safe and cheap on the hot path (atomics or a short lock per update).

#include <string>
#include <string_view>

namespace tezgah::engine {

class Metrics {
public:
    /// The process's registry.
    static Metrics& global();

    /// One HTTP request: tezgah_http_requests_total{route,method,status} and
    /// tezgah_http_request_duration_seconds{route} (histogram).
    void http_request(std::string_view route, std::string_view method, int status, double seconds);
    /// One answered turn: tezgah_messages_total{tenant,method}.
    void message(std::string_view tenant, std::string_view method);
    /// One tool call: tezgah_tool_calls_total{tool,outcome="ok"|"error"}.
    void tool_call(std::string_view tool, bool ok);
    /// One database operation: tezgah_db_operation_duration_seconds{operation} (histogram).
    void db_operation(std::string_view operation, double seconds);
    /// tezgah_tenants_loaded (gauge).
    void tenants_loaded(int count);
    /// tezgah_llm_tokens_total{tenant,direction="input"|"output"}.
    void tokens(std::string_view tenant, long long input, long long output);

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    std::string render() const;

    /// Forgets every value (tests).
    void reset();
};

}  // namespace tezgah::engine
