#pragma once
// Operators' API keys (docs/operators.md, "Keys"): random secrets shown once, stored as SHA-256
// hashes, compared in constant time. A key belongs to one tenant or to every tenant and carries
// scopes. The key a client sends is `tzk_<id>_<secret>`: the id (16 hex digits) finds the row, the
// secret (64 hex digits, 256 random bits) proves it.

#include "store/database.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine {

/// Every scope a key may carry (DESIGN "Operators: keys, conversations, handoff").
const std::vector<std::string>& api_key_scopes();

/// A key as stored (without its secret).
struct ApiKey {
    std::string id;
    std::string name;
    std::string tenant_id;  ///< empty: every tenant
    std::vector<std::string> scopes;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point last_used_at{};  ///< the epoch: never used
    std::chrono::system_clock::time_point revoked_at{};    ///< the epoch: not revoked
    /// Set when the principal is an agent's console session (store/agents.hpp), not a key: then
    /// `id` is "agent:<agent_id>", `name` the agent's, and `scopes` its role's on its tenant.
    std::string agent_id;

    bool all_tenants() const { return tenant_id.empty(); }
    bool revoked() const { return revoked_at.time_since_epoch().count() != 0; }
    bool agent() const { return !agent_id.empty(); }
    bool has_scope(std::string_view scope) const;
    /// Whether the key may act on `tenant` (its own, or any for an all-tenants key).
    bool covers(std::string_view tenant) const { return tenant_id.empty() || tenant_id == tenant; }
};

/// A key just made: the stored row and the whole key, to be shown once.
struct NewApiKey {
    ApiKey key;
    std::string secret;  ///< `tzk_<id>_<secret>`: what the client sends
};

/// Makes and stores a key. `tenant_id` empty: every tenant. Errors: invalid_value for an unknown or
/// missing scope, a name over 200 bytes; store_error.
sdk::Result<NewApiKey> create_api_key(Database& db, const std::string& name, const std::string& tenant_id,
                                      const std::vector<std::string>& scopes,
                                      std::chrono::system_clock::time_point now);

/// The key `presented` names, when its secret matches and it is not revoked; none otherwise (a
/// malformed text included). Errors: store_error only.
sdk::Result<std::optional<ApiKey>> verify_api_key(Database& db, std::string_view presented);

/// Every key, newest first (revoked ones too).
sdk::Result<std::vector<ApiKey>> list_api_keys(Database& db);

/// Revokes key `id`; false when there is no such key or it was revoked already.
sdk::Result<bool> revoke_api_key(Database& db, const std::string& id,
                                 std::chrono::system_clock::time_point now);

/// Records that key `id` was used at `now` (the stored time moves forward only).
sdk::Status touch_api_key(Database& db, const std::string& id, std::chrono::system_clock::time_point now);

/// How long a verified key is remembered in memory (check_api_key): within this time a key revoked
/// by another process (`tezgah keys revoke`, another instance) may still be accepted here. A revoke
/// through this process (revoke_api_key) forgets it at once.
inline constexpr std::chrono::seconds kApiKeyCacheTtl{10};
/// Keys remembered at most; beyond, the cache is emptied and fills again.
inline constexpr std::size_t kApiKeyCacheEntries = 10000;

/// What a presented key turned out to be.
struct KeyCheck {
    std::optional<ApiKey> key;  ///< set when it is valid (its secret matches, not revoked)
    std::string known_id;       ///< the id of a stored key it names, valid or not (for the audit log)
};

/// verify_api_key, remembered for kApiKeyCacheTtl by the SHA-256 of the whole presented text (a
/// valid key only; a refusal always asks the database). Thread-safe. Errors: store_error only.
sdk::Result<KeyCheck> check_api_key(
    Database& db, std::string_view presented,
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

/// Empties the cache of check_api_key (every key, every database).
void forget_cached_api_keys();

}  // namespace tezgah::engine
