#pragma once
// One tenant's figures for the earlier orchestrator's `GET /stats/{id}` (docs/operators.md, "The
// orchestrator's admin API"): conversations, customers, messages, and replies by method.

#include "store/database.hpp"

#include <chrono>
#include <map>
#include <string>

namespace tezgah::engine {

struct BusinessStats {
    long long conversations = 0;
    long long customers = 0;                             ///< distinct user ids
    long long customer_messages = 0;                     ///< role "user"
    long long bot_messages = 0;                          ///< role "assistant": the replies
    long long messages_last_24h = 0;                     ///< both roles, since `now` - 24 h
    std::map<std::string, long long> replies_by_method;  ///< llm, intent, rule, cache, fallback ...
};

/// The figures of `tenant_id` (all of its history). Errors: store_error.
sdk::Result<BusinessStats> business_stats(Database& db, const std::string& tenant_id,
                                          std::chrono::system_clock::time_point now);

}  // namespace tezgah::engine
