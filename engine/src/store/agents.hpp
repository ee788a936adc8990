#pragma once
// The console's staff (docs/console.md, "Staff accounts and sign-in"): agent accounts of one
// tenant each, with a role (owner | agent) whose scopes they get, a password hashed with Argon2id,
// and sessions. A session's token (256 random bits) is given once, at sign-in, and stored only as
// its SHA-256; a session ends kSessionIdle after its last use and kSessionLife after sign-in at the
// latest. Failed sign-ins are counted per e-mail of a tenant: kSignInFailures within
// kSignInWindow and sign-in is refused until the oldest of them is out of the window. Every query
// filters on tenant_id; times are ms since the epoch (schema version 15).

#include "store/database.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine {

inline constexpr const char* kRoleOwner = "owner";
inline constexpr const char* kRoleAgent = "agent";
bool valid_agent_role(std::string_view role);
/// The scopes of a role on its own tenant (the contract's section 1); empty for an unknown role.
const std::vector<std::string>& role_scopes(std::string_view role);

inline constexpr std::chrono::hours kSessionIdle{12};
inline constexpr std::chrono::hours kSessionLife{24 * 7};
inline constexpr int kSignInFailures = 10;
inline constexpr std::chrono::minutes kSignInWindow{15};
/// A session's last use is written when it is at least this old: not on every request.
inline constexpr std::chrono::seconds kSessionTouchEvery{60};

/// Argon2id's parameters for new hashes (a stored hash carries its own, so these may change).
struct PasswordParameters {
    std::uint32_t time_cost = 3;       ///< passes
    std::uint32_t memory_kib = 19456;  ///< 19 MiB
    std::uint32_t parallelism = 1;
};
inline constexpr PasswordParameters kPasswordParameters{};

/// An Argon2id hash of `password` as its encoded string ($argon2id$v=19$m=...). Errors: internal.
sdk::Result<std::string> hash_password(std::string_view password,
                                       const PasswordParameters& parameters = kPasswordParameters);
/// Whether `password` matches `encoded` (false for a malformed one). At most a few hashes run at
/// once in the process (each holds memory_kib); the others wait.
bool verify_password(std::string_view encoded, std::string_view password);

struct Agent {
    std::string id;  ///< ag_<16 hex>
    std::string tenant_id;
    std::string name;
    std::string email;
    std::string role = kRoleAgent;
    bool disabled = false;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point last_sign_in_at{};  ///< the epoch: never
};

/// The fields of a new agent, checked by create_agent.
struct NewAgent {
    std::string tenant_id;
    std::string name;
    std::string email;
    std::string password;
    std::string role = kRoleAgent;
};

/// Checks of the fields, each error naming the field: invalid_value.
sdk::Status check_agent_name(std::string_view name);
sdk::Status check_agent_email(std::string_view email);
sdk::Status check_agent_password(std::string_view password);

/// Stores a new agent. Errors: invalid_value naming the field; "conflict" when the tenant has an
/// agent with that e-mail (any letter case); store_error.
sdk::Result<Agent> create_agent(Database& db, const NewAgent& agent,
                                std::chrono::system_clock::time_point now);
/// The tenant's agents, by name.
sdk::Result<std::vector<Agent>> list_agents(Database& db, const std::string& tenant_id);
/// Agent `id` of the tenant; none when there is none. `tenant_id` empty: of any tenant (the CLI).
sdk::Result<std::optional<Agent>> find_agent(Database& db, const std::string& tenant_id,
                                             const std::string& id);

struct AgentPatch {
    std::optional<std::string> name;
    std::optional<std::string> email;
    std::optional<std::string> password;
    std::optional<std::string> role;
    std::optional<bool> disabled;
};
/// Changes agent `id`; none when the tenant has none by that id. A password change or disabling
/// ends the agent's sessions but `keep_session` (the token hash of the session making the change,
/// or empty). Errors: invalid_value naming the field; "conflict" for a taken e-mail, or when the
/// change would leave the tenant without an enabled owner.
sdk::Result<std::optional<Agent>> update_agent(Database& db, const std::string& tenant_id,
                                               const std::string& id, const AgentPatch& patch,
                                               std::chrono::system_clock::time_point now,
                                               const std::string& keep_session = "");
/// Removes agent `id` with its sessions, its own canned replies and its assignments; false when
/// there is none. "conflict" when it is the tenant's last enabled owner.
sdk::Result<bool> remove_agent(Database& db, const std::string& tenant_id, const std::string& id);

/// A signed-in agent's session.
struct AgentSession {
    Agent agent;
    std::string token_hash;  ///< SHA-256 hex of the token: the session's id
    std::string csrf_token;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point last_used_at{};
    /// When it ends if not used again: last use + kSessionIdle, at most sign-in + kSessionLife.
    std::chrono::system_clock::time_point expires_at() const;
};

struct SignIn {
    enum class Outcome { signed_in, refused, rate_limited };
    Outcome outcome = Outcome::refused;
    AgentSession session;                ///< signed_in
    std::string token;                   ///< signed_in: the cookie's value, given this once
    std::chrono::seconds retry_after{};  ///< rate_limited
};
/// Signs in with an e-mail and a password. refused for an unknown e-mail, a wrong password or a
/// disabled agent alike (the same work is done for each, so the time says nothing either), each
/// counted as a failure; rate_limited once kSignInFailures are counted within kSignInWindow (the
/// password is not even checked then). Errors: store_error.
sdk::Result<SignIn> sign_in(Database& db, const std::string& tenant_id, const std::string& email,
                            const std::string& password, std::chrono::system_clock::time_point now);
/// The session whose token is `token`, when it is current and its agent enabled; none otherwise.
/// Records its use (at most once every kSessionTouchEvery). Errors: store_error.
sdk::Result<std::optional<AgentSession>> find_session(Database& db, std::string_view token,
                                                      std::chrono::system_clock::time_point now);
/// Ends the session `token_hash` (signing out). False when there was none.
sdk::Result<bool> end_session(Database& db, const std::string& token_hash);
/// The SHA-256 of a session token, as stored.
std::string session_token_hash(std::string_view token);

/// Assigns the tenant's conversation to agent `agent_id` (empty: nobody). "not_found" for no such
/// conversation; invalid_value for an agent the tenant does not have.
sdk::Result<std::optional<Agent>> assign_conversation(Database& db, const std::string& tenant_id,
                                                      const std::string& conversation_id,
                                                      const std::string& agent_id);
/// The agent a conversation is assigned to; none when nobody (or no such conversation).
sdk::Result<std::optional<Agent>> conversation_assignee(Database& db, const std::string& tenant_id,
                                                        const std::string& conversation_id);

}  // namespace tezgah::engine
