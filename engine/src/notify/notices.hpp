#pragma once
// The stored notices (table `notices`, schema 11): one row per event and target, queued until a
// worker sends it. Claims work as the outbox's: a conditional UPDATE gives a due notice to one
// worker, in any number of processes, until its lease ends. Raw SQL through Database::read/write.

#include "store/database.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine::notify {

struct Notice {
    std::string id;
    std::string tenant_id;
    std::string event;    ///< handoff | ticket | appointment
    std::string target;   ///< webhook | slack | email
    std::string payload;  ///< the body every target is sent from (JSON; notify/targets.hpp notice_body)
    std::string state = "queued";  ///< queued | sent | failed
    int attempts = 0;              ///< attempts claimed so far (the one in flight included)
    std::string last_error;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point updated_at{};
    std::chrono::system_clock::time_point next_attempt_at{};
    std::chrono::system_clock::time_point claimed_until{};  ///< epoch: not claimed
    std::chrono::system_clock::time_point sent_at{};        ///< epoch: not sent
};

/// How an attempt ended, to record.
struct NoticeAttempt {
    std::string id;
    std::chrono::system_clock::time_point claimed_until;  ///< the claim the attempt held
    std::string state;                                    ///< queued (again), sent or failed
    std::string error;
    std::chrono::system_clock::time_point next_attempt_at{};
    std::chrono::system_clock::time_point now{};
};

/// Stores `notices` (queued, due at created_at) in one transaction.
sdk::Status insert_notices(Database& db, const std::vector<Notice>& notices);

/// Claims up to `limit` due notices whose claim (if any) ended, oldest due first; each counts one
/// more attempt and is held until `lease_until`.
sdk::Result<std::vector<Notice>> claim_notices(Database& db, std::chrono::system_clock::time_point now,
                                               std::chrono::system_clock::time_point lease_until,
                                               std::size_t limit);

/// Records an attempt and ends its claim. A sent notice is recorded even when its claim ended
/// meanwhile (it went out: another attempt would send it twice); any other outcome only while the
/// claim is still the attempt's. False when nothing was recorded.
sdk::Result<bool> finish_notice(Database& db, const NoticeAttempt& attempt);

/// Gives back a claim no attempt was made on (a stopping process): due again at once, the attempt
/// not counted.
sdk::Status release_notice(Database& db, const std::string& id,
                           std::chrono::system_clock::time_point claimed_until);

/// When the next queued notice is due (its next attempt, or the end of its claim when later).
sdk::Result<std::optional<std::chrono::system_clock::time_point>> next_notice_due(Database& db);

/// The tenant's notices, newest first, at most `limit`; only those in `state` when it is not empty.
sdk::Result<std::vector<Notice>> list_notices(Database& db, const std::string& tenant_id,
                                              const std::string& state, std::size_t limit);

/// The tenant's notice `id`; not_found when it has none.
sdk::Result<Notice> find_notice(Database& db, const std::string& tenant_id, const std::string& id);

}  // namespace tezgah::engine::notify
