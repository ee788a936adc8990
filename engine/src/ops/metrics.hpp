#pragma once
// Process-wide counters and histograms, rendered in the Prometheus text format at GET /metrics.
// Thread-safe and cheap on the hot path (atomics or a short lock per update).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    /// tezgah_widget_sockets (gauge): the web widget's open WebSockets.
    void widget_sockets(int count);
    /// tezgah_ready (gauge): 1 while the server takes traffic (GET /health/ready answers 200), 0
    /// while it starts or drains.
    void ready(bool taking_traffic);
    /// A tenant unloaded after being idle (--tenant-idle-minutes): tezgah_tenants_unloaded_total.
    void tenant_unloaded();
    /// Tokens of one model call: tezgah_llm_tokens_total{tenant,model,direction="input"|"output"}
    /// (an empty model leaves the label out).
    void tokens(std::string_view tenant, std::string_view model, long long input, long long output);
    /// One provider call: tezgah_llm_calls_total{tenant,provider,model,outcome="ok"|"error"}.
    void llm_call(std::string_view tenant, std::string_view provider, std::string_view model, bool ok);
    /// What a provider call cost: tezgah_llm_cost_usd_total{tenant,model} (a float counter).
    void llm_cost(std::string_view tenant, std::string_view model, double usd);

    /// One response-cache lookup: tezgah_response_cache_requests_total{tenant,result}, result
    /// "hit", "miss" or "negative_hit" (a failure remembered briefly).
    void response_cache(std::string_view tenant, std::string_view result);
    /// A turn that found a budget spent: tezgah_budget_exceeded_total{tenant,period="day"|"month"}.
    void budget_exceeded(std::string_view tenant, std::string_view period);
    /// A provider call tried again: tezgah_provider_retries_total{provider}.
    void provider_retry(std::string_view provider);

    /// A Lua rule or tool call that did not complete: tezgah_lua_skipped_total{tenant,reason}, reason
    /// "busy" (the tenant's calls at their cap, or the script busy), "cpu_budget", "wall_clock",
    /// "memory" or "error".
    void lua_skipped(std::string_view tenant, std::string_view reason);
    /// A script log line (ctx.log, print) over the tenant's rate: tezgah_lua_log_dropped_total{tenant}.
    void lua_log_dropped(std::string_view tenant);

    /// One outbox attempt: tezgah_outbox_sends_total{tenant,channel,result} (result "accepted",
    /// "retry_later", "failed", "window_closed") and tezgah_outbox_send_duration_seconds{channel}
    /// (the channel's send call).
    void outbox_send(std::string_view tenant, std::string_view channel, std::string_view result,
                     double seconds);
    /// From stored to accepted by the provider: tezgah_outbox_queue_wait_seconds{channel}.
    void outbox_queue_wait(std::string_view channel, double seconds);
    /// A delivery report that moved a message: tezgah_outbox_reports_total{channel,state}.
    void outbox_report(std::string_view channel, std::string_view state);
    /// Messages by state over every tenant: tezgah_outbox_messages{state} (every state, 0 when
    /// absent) and tezgah_outbox_queue_depth (queued).
    void outbox_states(const std::vector<std::pair<std::string, long long>>& counts);

    /// A tenant's plan figure: tezgah_plan_limit{tenant,plan,limit} (ops/limits.hpp).
    void plan_limit(std::string_view tenant, std::string_view plan, std::string_view limit, double figure);
    /// What the tenant used of it at its latest turn: tezgah_plan_usage{tenant,limit}.
    void plan_usage(std::string_view tenant, std::string_view limit, double used);
    /// A turn refused over a plan's limit: tezgah_rate_limited_total{tenant,limit}.
    void rate_limited(std::string_view tenant, std::string_view limit);

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    std::string render() const;

    /// Forgets every value (tests).
    void reset();
};

}  // namespace tezgah::engine
