#pragma once
// A tenant's figures over a range of days in its own time zone (docs/operators.md, "Analytics"):
// conversations, messages, handoffs, tools, unanswered questions, replies by method, response
// times, cost, the response cache and appointments. Read with Database::read from the tables the pipeline
// writes (messages, tool_calls, usage) and, once they exist, the handoff tool's tickets.

#include "store/database.hpp"
#include "util/local_days.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tezgah::engine {

/// What to count: one tenant, the local days [from, to] (both included) of `timezone`.
struct AnalyticsQuery {
    std::string tenant_id;
    std::string timezone = "UTC";
    Day from, to;
    /// The tenant's handoff.confidence_threshold: a reply below it counts as unanswered.
    double confidence_threshold = 0;
    std::size_t unanswered_limit = 20;  ///< the most frequent unanswered questions kept
};

struct AnalyticsDay {
    std::string date;
    std::int64_t conversations = 0;  ///< with at least one message that day
    std::int64_t messages = 0;
    double cost_usd = 0;
};

struct NamedCount {
    std::string name;
    std::int64_t count = 0;
    std::int64_t failed = 0;  ///< tools only
};

struct CostLine {
    std::string provider;
    std::string model;
    std::int64_t calls = 0;
    double cost_usd = 0;
};

/// Appointments of one service or resource (or all of them), by what became of them.
struct AppointmentCounts {
    std::string id;           ///< the service's or resource's id ("" for the total)
    std::string name;         ///< its name in the tenant's language (filled by the route; "" when gone)
    std::int64_t booked = 0;  ///< confirmed, completed and no-show: the places that were taken
    std::int64_t cancelled = 0;
    std::int64_t completed = 0;
    std::int64_t no_shows = 0;
};

struct Analytics {
    AnalyticsQuery query;
    std::int64_t conversations = 0;  ///< with at least one message in the range
    std::int64_t customer_messages = 0, assistant_messages = 0, operator_messages = 0;
    std::int64_t handed_over = 0;             ///< conversations handed over in the range
    std::vector<NamedCount> handoff_reasons;  ///< from tickets, most frequent first
    std::vector<NamedCount> tools;            ///< most called first
    std::vector<NamedCount> unanswered;       ///< name: the question as first asked
    std::map<std::string, std::int64_t> replies_by_method;
    std::int64_t replies = 0;               ///< the assistant's replies
    std::vector<double> response_times_ms;  ///< sorted
    std::vector<CostLine> cost;             ///< most expensive first
    std::vector<AnalyticsDay> by_day;       ///< every day of the range, in order
    /// Customer messages by the hour of the tenant's wall clock they came in (0..23), over the range.
    std::array<std::int64_t, 24> customer_messages_by_hour{};
    /// Appointments that start in the range (by start, not by when they were booked).
    AppointmentCounts appointments;
    std::vector<AppointmentCounts> appointments_by_service;   ///< most booked first
    std::vector<AppointmentCounts> appointments_by_resource;  ///< most booked first
};

/// Reads the figures. Errors: store_error naming the query and the tenant.
sdk::Result<Analytics> read_analytics(Database& db, const AnalyticsQuery& query);

/// The answer of GET /v1/tenants/{tenant}/analytics.
boost::json::object analytics_json(const Analytics& figures);

/// The `p`-th percentile (0..100) of sorted `values` by the nearest-rank method; 0 when empty.
double percentile(const std::vector<double>& sorted, double p);

}  // namespace tezgah::engine
