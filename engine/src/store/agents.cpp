// The console's staff: agent accounts, passwords, sessions, sign-in and assignment (store/agents.hpp).
#include "store/agents.hpp"

#include "store/sql_support.hpp"
#include "util/digest.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/text.hpp>

#include <argon2.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <semaphore>

namespace tezgah::engine {
namespace {

using store::from_millis;
using store::to_millis;

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr const char* kConflict = "conflict";

/// Argon2 holds memory_kib while it runs: a flood of sign-ins must not hold it many times over.
std::counting_semaphore<>& hashing_slots() {
    static std::counting_semaphore<> slots(2);
    return slots;
}

struct HashingSlot {
    HashingSlot() { hashing_slots().acquire(); }
    ~HashingSlot() { hashing_slots().release(); }
    HashingSlot(const HashingSlot&) = delete;
    HashingSlot& operator=(const HashingSlot&) = delete;
};

/// E-mails compare without letter case (ASCII: the domain's, and the local parts people use).
std::string email_key(std::string_view email) {
    std::string out(email);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

constexpr const char* kAgentColumns =
    "id, tenant_id, name, email, role, disabled, created_at, last_sign_in_at, password_hash";

struct AgentRow {
    Agent agent;
    int disabled = 0;
    long long created = 0, signed_in = 0;
    std::string password_hash;
    void finish() {
        agent.disabled = disabled != 0;
        agent.created_at = from_millis(created);
        agent.last_sign_in_at = from_millis(signed_in);
    }
};

/// Agents `where` selects (`params` bound in order).
std::vector<AgentRow> read_agents(soci::session& sql, const std::string& where,
                                  const std::vector<std::string>& params) {
    std::vector<AgentRow> out;
    AgentRow row;
    soci::statement st(sql);
    st.exchange(soci::into(row.agent.id));
    st.exchange(soci::into(row.agent.tenant_id));
    st.exchange(soci::into(row.agent.name));
    st.exchange(soci::into(row.agent.email));
    st.exchange(soci::into(row.agent.role));
    st.exchange(soci::into(row.disabled));
    st.exchange(soci::into(row.created));
    st.exchange(soci::into(row.signed_in));
    st.exchange(soci::into(row.password_hash));
    for (const auto& p : params) st.exchange(soci::use(p));
    st.alloc();
    st.prepare(std::string("SELECT ") + kAgentColumns + " FROM agents " + where);
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        row.finish();
        out.push_back(row);
    }
    return out;
}

/// Enabled owners of the tenant other than `except`.
long long other_enabled_owners(soci::session& sql, const std::string& tenant_id, const std::string& except) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM agents WHERE tenant_id = :t AND role = 'owner' AND disabled = 0 AND id <> "
           ":id",
        soci::into(n), soci::use(tenant_id), soci::use(except);
    return n;
}

bool email_taken(soci::session& sql, const std::string& tenant_id, const std::string& key,
                 const std::string& except) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM agents WHERE tenant_id = :t AND email_key = :k AND id <> :id", soci::into(n),
        soci::use(tenant_id), soci::use(key), soci::use(except);
    return n > 0;
}

/// A hash to check a password against when the e-mail is unknown: the same work as a real one.
const std::string& decoy_hash() {
    static const std::string hash = [] {
        auto made = hash_password(sdk::random_hex(16));
        return made ? *made : std::string();
    }();
    return hash;
}

}  // namespace

bool valid_agent_role(std::string_view role) { return role == kRoleOwner || role == kRoleAgent; }

const std::vector<std::string>& role_scopes(std::string_view role) {
    static const std::vector<std::string> owner = {
        "conversations:read", "conversations:write", "catalog:write",  "knowledge:write", "appointments:read",
        "appointments:write", "calendar:read",       "analytics:read", "tenant:admin"};
    static const std::vector<std::string> agent = {"conversations:read", "conversations:write",
                                                   "appointments:read", "appointments:write",
                                                   "calendar:read"};
    static const std::vector<std::string> none;
    return role == kRoleOwner ? owner : role == kRoleAgent ? agent : none;
}

sdk::Result<std::string> hash_password(std::string_view password, const PasswordParameters& parameters) {
    std::array<unsigned char, kSaltBytes> salt{};
    const std::string salt_hex = sdk::random_hex(kSaltBytes);
    for (std::size_t i = 0; i < kSaltBytes; ++i)
        salt[i] = static_cast<unsigned char>(std::stoi(salt_hex.substr(i * 2, 2), nullptr, 16));
    const std::size_t length = argon2_encodedlen(parameters.time_cost, parameters.memory_kib,
                                                 parameters.parallelism, kSaltBytes, kHashBytes, Argon2_id);
    std::string encoded(length, '\0');
    int result = ARGON2_OK;
    {
        HashingSlot slot;
        result = argon2id_hash_encoded(parameters.time_cost, parameters.memory_kib, parameters.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(), kHashBytes,
                                       encoded.data(), encoded.size());
    }
    if (result != ARGON2_OK)
        return sdk::Error{sdk::errc::internal, std::string("argon2id: ") + argon2_error_message(result)};
    encoded.resize(encoded.find('\0'));
    return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
    if (encoded.empty()) return false;
    const std::string text(encoded);  // argon2 wants a NUL-terminated string
    HashingSlot slot;
    return argon2id_verify(text.c_str(), password.data(), password.size()) == ARGON2_OK;
}

sdk::Status check_agent_name(std::string_view name) {
    if (!sdk::text::valid_utf8(name)) return sdk::Error{sdk::errc::invalid_value, "name: not valid UTF-8"};
    if (std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        return sdk::Error{sdk::errc::invalid_value, "name: contains a control character"};
    const auto n = sdk::text::length(name);
    if (sdk::text::trim(name).empty() || n > 100)
        return sdk::Error{sdk::errc::invalid_value, "name: 1 to 100 characters"};
    return {};
}

sdk::Status check_agent_email(std::string_view email) {
    if (email.size() < 3 || email.size() > 254)
        return sdk::Error{sdk::errc::invalid_value, "email: 3 to 254 bytes"};
    const auto at = email.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
        email.find('@', at + 1) != std::string_view::npos)
        return sdk::Error{sdk::errc::invalid_value, "email: expected one @ between a name and a domain"};
    if (!sdk::text::valid_utf8(email) ||
        std::any_of(email.begin(), email.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; }))
        return sdk::Error{sdk::errc::invalid_value, "email: no spaces or control characters, valid UTF-8"};
    return {};
}

sdk::Status check_agent_password(std::string_view password) {
    if (password.size() < 10 || password.size() > 200)
        return sdk::Error{sdk::errc::invalid_value, "password: 10 to 200 bytes"};
    return {};
}

sdk::Result<Agent> create_agent(Database& db, const NewAgent& fields,
                                std::chrono::system_clock::time_point now) {
    if (auto ok = check_agent_name(fields.name); !ok) return ok.error();
    if (auto ok = check_agent_email(fields.email); !ok) return ok.error();
    if (auto ok = check_agent_password(fields.password); !ok) return ok.error();
    if (!valid_agent_role(fields.role))
        return sdk::Error{sdk::errc::invalid_value,
                          "role: \"" + fields.role + "\" is not one of owner, agent"};
    auto hash = hash_password(fields.password);
    if (!hash) return hash.error();
    Agent agent;
    agent.id = "ag_" + sdk::random_hex(8);
    agent.tenant_id = fields.tenant_id;
    agent.name = std::string(sdk::text::trim(fields.name));
    agent.email = fields.email;
    agent.role = fields.role;
    agent.created_at = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
    const std::string key = email_key(fields.email);
    const long long at = to_millis(now);
    bool taken = false;
    auto written = db.write("create_agent", [&](soci::session& sql) {
        taken = email_taken(sql, agent.tenant_id, key, "");
        if (taken) return;
        sql << "INSERT INTO agents (id, tenant_id, name, email, email_key, role, password_hash, disabled, "
               "created_at, updated_at) VALUES (:id, :t, :n, :e, :k, :r, :h, 0, :c, :u)",
            soci::use(agent.id), soci::use(agent.tenant_id), soci::use(agent.name), soci::use(agent.email),
            soci::use(key), soci::use(agent.role), soci::use(*hash), soci::use(at), soci::use(at);
    });
    if (!written) return written.error();
    if (taken)
        return sdk::Error{kConflict,
                          "email: tenant \"" + agent.tenant_id + "\" has an agent with that e-mail"};
    return agent;
}

sdk::Result<std::vector<Agent>> list_agents(Database& db, const std::string& tenant_id) {
    std::vector<AgentRow> rows;
    auto read = db.read("list_agents " + tenant_id, [&](soci::session& sql) {
        rows = read_agents(sql, "WHERE tenant_id = :t ORDER BY name, id", {tenant_id});
    });
    if (!read) return read.error();
    std::vector<Agent> out;
    out.reserve(rows.size());
    for (auto& r : rows) out.push_back(std::move(r.agent));
    return out;
}

sdk::Result<std::optional<Agent>> find_agent(Database& db, const std::string& tenant_id,
                                             const std::string& id) {
    std::vector<AgentRow> rows;
    auto read = db.read("find_agent " + id, [&](soci::session& sql) {
        rows = tenant_id.empty() ? read_agents(sql, "WHERE id = :id", {id})
                                 : read_agents(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, id});
    });
    if (!read) return read.error();
    if (rows.empty()) return std::optional<Agent>();
    return std::optional<Agent>(std::move(rows.front().agent));
}

sdk::Result<std::optional<Agent>> update_agent(Database& db, const std::string& tenant_id,
                                               const std::string& id, const AgentPatch& patch,
                                               std::chrono::system_clock::time_point now,
                                               const std::string& keep_session) {
    if (patch.name)
        if (auto ok = check_agent_name(*patch.name); !ok) return ok.error();
    if (patch.email)
        if (auto ok = check_agent_email(*patch.email); !ok) return ok.error();
    if (patch.password)
        if (auto ok = check_agent_password(*patch.password); !ok) return ok.error();
    if (patch.role && !valid_agent_role(*patch.role))
        return sdk::Error{sdk::errc::invalid_value,
                          "role: \"" + *patch.role + "\" is not one of owner, agent"};
    std::string hash;
    if (patch.password) {
        auto made = hash_password(*patch.password);
        if (!made) return made.error();
        hash = std::move(made).value();
    }
    const long long at = to_millis(now);
    std::optional<Agent> result;
    std::string conflict;
    auto written = db.write("update_agent " + id, [&](soci::session& sql) {
        result.reset();
        conflict.clear();
        auto rows = read_agents(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, id});
        if (rows.empty()) return;
        Agent agent = rows.front().agent;
        if (patch.name) agent.name = std::string(sdk::text::trim(*patch.name));
        if (patch.email) agent.email = *patch.email;
        if (patch.role) agent.role = *patch.role;
        if (patch.disabled) agent.disabled = *patch.disabled;
        const Agent& before = rows.front().agent;
        const bool was_owner = before.role == kRoleOwner && !before.disabled;
        const bool still_owner = agent.role == kRoleOwner && !agent.disabled;
        if (was_owner && !still_owner && other_enabled_owners(sql, tenant_id, id) == 0) {
            conflict = "the tenant's last enabled owner cannot be demoted or disabled";
            return;
        }
        const std::string key = email_key(agent.email);
        if (patch.email && email_taken(sql, tenant_id, key, id)) {
            conflict = "email: tenant \"" + tenant_id + "\" has another agent with that e-mail";
            return;
        }
        const int disabled = agent.disabled ? 1 : 0;
        sql << "UPDATE agents SET name = :n, email = :e, email_key = :k, role = :r, disabled = :d, "
               "updated_at = :u WHERE tenant_id = :t AND id = :id",
            soci::use(agent.name), soci::use(agent.email), soci::use(key), soci::use(agent.role),
            soci::use(disabled), soci::use(at), soci::use(tenant_id), soci::use(id);
        if (!hash.empty())
            sql << "UPDATE agents SET password_hash = :h WHERE tenant_id = :t AND id = :id", soci::use(hash),
                soci::use(tenant_id), soci::use(id);
        if (!hash.empty() || agent.disabled)
            sql << "DELETE FROM agent_sessions WHERE agent_id = :id AND token_hash <> :keep", soci::use(id),
                soci::use(keep_session);
        result = agent;
    });
    if (!written) return written.error();
    if (!conflict.empty()) return sdk::Error{kConflict, conflict};
    return result;
}

sdk::Result<bool> remove_agent(Database& db, const std::string& tenant_id, const std::string& id) {
    bool removed = false;
    bool last_owner = false;
    auto written = db.write("remove_agent " + id, [&](soci::session& sql) {
        removed = false;
        last_owner = false;
        auto rows = tenant_id.empty()
                        ? read_agents(sql, "WHERE id = :id", {id})
                        : read_agents(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, id});
        if (rows.empty()) return;
        const Agent& agent = rows.front().agent;
        if (agent.role == kRoleOwner && !agent.disabled &&
            other_enabled_owners(sql, agent.tenant_id, id) == 0) {
            last_owner = true;
            return;
        }
        sql << "DELETE FROM agent_sessions WHERE agent_id = :id", soci::use(id);
        sql << "DELETE FROM canned_replies WHERE tenant_id = :t AND owner_kind = 'agent' AND owner_id = :id "
               "AND shared = 0",
            soci::use(agent.tenant_id), soci::use(id);
        sql << "UPDATE conversations SET assignee = NULL WHERE tenant_id = :t AND assignee = :id",
            soci::use(agent.tenant_id), soci::use(id);
        sql << "DELETE FROM agents WHERE id = :id", soci::use(id);
        removed = true;
    });
    if (!written) return written.error();
    if (last_owner) return sdk::Error{kConflict, "the tenant's last enabled owner cannot be removed"};
    return removed;
}

std::chrono::system_clock::time_point AgentSession::expires_at() const {
    return std::min(last_used_at + kSessionIdle, created_at + kSessionLife);
}

std::string session_token_hash(std::string_view token) { return sha256_hex(token); }

sdk::Result<SignIn> sign_in(Database& db, const std::string& tenant_id, const std::string& email,
                            const std::string& password, std::chrono::system_clock::time_point now) {
    SignIn out;
    const std::string key = email_key(email);
    const long long at = to_millis(now);
    const long long window_start = to_millis(now - kSignInWindow);
    long long failures = 0;
    long long oldest = 0;
    std::vector<AgentRow> rows;
    auto read = db.read("sign_in " + tenant_id, [&](soci::session& sql) {
        soci::indicator oldest_null = soci::i_ok;
        sql << "SELECT COUNT(*), MIN(at) FROM sign_in_failures WHERE tenant_id = :t AND email_key = :k AND "
               "at > :w",
            soci::into(failures), soci::into(oldest, oldest_null), soci::use(tenant_id), soci::use(key),
            soci::use(window_start);
        if (oldest_null != soci::i_ok) oldest = 0;
        rows = read_agents(sql, "WHERE tenant_id = :t AND email_key = :k", {tenant_id, key});
    });
    if (!read) return read.error();
    if (failures >= kSignInFailures) {
        out.outcome = SignIn::Outcome::rate_limited;
        const auto free_at = from_millis(oldest) + kSignInWindow;
        out.retry_after =
            std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(free_at - now));
        return out;
    }
    // The same Argon2 work whether the e-mail is known or not.
    const bool known = !rows.empty();
    const bool matches = verify_password(known ? rows.front().password_hash : decoy_hash(), password);
    if (!known || !matches || rows.front().agent.disabled) {
        auto written = db.write("sign_in_failure " + tenant_id, [&](soci::session& sql) {
            // Failures out of the window count for nothing: the tenant's are swept here.
            sql << "DELETE FROM sign_in_failures WHERE tenant_id = :t AND at <= :w", soci::use(tenant_id),
                soci::use(window_start);
            sql << "INSERT INTO sign_in_failures (tenant_id, email_key, at) VALUES (:t, :k, :a)",
                soci::use(tenant_id), soci::use(key), soci::use(at);
        });
        if (!written) return written.error();
        out.outcome = SignIn::Outcome::refused;
        return out;
    }
    rows.front().finish();
    out.session.agent = rows.front().agent;
    out.session.agent.last_sign_in_at = from_millis(at);
    out.token = sdk::random_hex(32);
    out.session.token_hash = session_token_hash(out.token);
    out.session.csrf_token = sdk::random_hex(32);
    out.session.created_at = from_millis(at);
    out.session.last_used_at = from_millis(at);
    const std::string& agent_id = out.session.agent.id;
    auto written = db.write("sign_in " + tenant_id, [&](soci::session& sql) {
        sql << "DELETE FROM sign_in_failures WHERE tenant_id = :t AND email_key = :k", soci::use(tenant_id),
            soci::use(key);
        // Sessions of the tenant that ended are swept at each sign-in.
        const long long idle_before = to_millis(now - kSessionIdle);
        const long long born_before = to_millis(now - kSessionLife);
        sql << "DELETE FROM agent_sessions WHERE tenant_id = :t AND (last_used_at <= :i OR created_at <= :b)",
            soci::use(tenant_id), soci::use(idle_before), soci::use(born_before);
        sql << "INSERT INTO agent_sessions (token_hash, agent_id, tenant_id, csrf_token, created_at, "
               "last_used_at) VALUES (:h, :a, :t, :c, :n, :u)",
            soci::use(out.session.token_hash), soci::use(agent_id), soci::use(tenant_id),
            soci::use(out.session.csrf_token), soci::use(at), soci::use(at);
        sql << "UPDATE agents SET last_sign_in_at = :n WHERE id = :id", soci::use(at), soci::use(agent_id);
    });
    if (!written) return written.error();
    out.outcome = SignIn::Outcome::signed_in;
    return out;
}

sdk::Result<std::optional<AgentSession>> find_session(Database& db, std::string_view token,
                                                      std::chrono::system_clock::time_point now) {
    // 64 hex digits; anything else is not a token (and is not looked up).
    if (token.size() != 64 || !std::all_of(token.begin(), token.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }))
        return std::optional<AgentSession>();
    AgentSession session;
    session.token_hash = session_token_hash(token);
    std::string agent_id, csrf;
    long long created = 0, used = 0;
    bool found = false;
    std::vector<AgentRow> rows;
    auto read = db.read("find_session", [&](soci::session& sql) {
        soci::statement st = (sql.prepare << "SELECT agent_id, csrf_token, created_at, last_used_at FROM "
                                             "agent_sessions WHERE token_hash = :h",
                              soci::into(agent_id), soci::into(csrf), soci::into(created), soci::into(used),
                              soci::use(session.token_hash));
        found = st.execute(true);
        if (found) rows = read_agents(sql, "WHERE id = :id", {agent_id});
    });
    if (!read) return read.error();
    if (!found || rows.empty()) return std::optional<AgentSession>();
    rows.front().finish();
    session.agent = rows.front().agent;
    session.csrf_token = csrf;
    session.created_at = from_millis(created);
    session.last_used_at = from_millis(used);
    if (session.agent.disabled || now >= session.expires_at()) return std::optional<AgentSession>();
    if (now - session.last_used_at >= kSessionTouchEvery) {
        const long long at = to_millis(now);
        auto written = db.write("touch_session", [&](soci::session& sql) {
            sql << "UPDATE agent_sessions SET last_used_at = :a WHERE token_hash = :h AND last_used_at < :a2",
                soci::use(at), soci::use(session.token_hash), soci::use(at);
        });
        if (!written) return written.error();
        session.last_used_at = from_millis(at);
    }
    return std::optional<AgentSession>(std::move(session));
}

sdk::Result<bool> end_session(Database& db, const std::string& token_hash) {
    bool ended = false;
    auto written = db.write("end_session", [&](soci::session& sql) {
        soci::statement st =
            (sql.prepare << "DELETE FROM agent_sessions WHERE token_hash = :h", soci::use(token_hash));
        st.execute(true);
        ended = st.get_affected_rows() > 0;
    });
    if (!written) return written.error();
    return ended;
}

sdk::Result<std::optional<Agent>> assign_conversation(Database& db, const std::string& tenant_id,
                                                      const std::string& conversation_id,
                                                      const std::string& agent_id) {
    bool conversation_found = false;
    std::optional<Agent> assignee;
    bool agent_known = true;
    auto written = db.write("assign_conversation " + conversation_id, [&](soci::session& sql) {
        assignee.reset();
        agent_known = true;
        long long n = 0;
        sql << "SELECT COUNT(*) FROM conversations WHERE tenant_id = :t AND id = :id", soci::into(n),
            soci::use(tenant_id), soci::use(conversation_id);
        conversation_found = n > 0;
        if (!conversation_found) return;
        if (agent_id.empty()) {
            sql << "UPDATE conversations SET assignee = NULL WHERE tenant_id = :t AND id = :id",
                soci::use(tenant_id), soci::use(conversation_id);
            return;
        }
        auto rows = read_agents(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, agent_id});
        if (rows.empty()) {
            agent_known = false;
            return;
        }
        rows.front().finish();
        assignee = rows.front().agent;
        sql << "UPDATE conversations SET assignee = :a WHERE tenant_id = :t AND id = :id",
            soci::use(agent_id), soci::use(tenant_id), soci::use(conversation_id);
    });
    if (!written) return written.error();
    if (!conversation_found)
        return sdk::Error{sdk::errc::not_found, "conversation \"" + conversation_id + "\" not found"};
    if (!agent_known)
        return sdk::Error{sdk::errc::invalid_value,
                          "agent_id: tenant \"" + tenant_id + "\" has no agent \"" + agent_id + "\""};
    return assignee;
}

sdk::Result<std::optional<Agent>> conversation_assignee(Database& db, const std::string& tenant_id,
                                                        const std::string& conversation_id) {
    std::vector<AgentRow> rows;
    auto read = db.read("conversation_assignee " + conversation_id, [&](soci::session& sql) {
        rows = read_agents(sql,
                           "WHERE tenant_id = :t AND id = (SELECT assignee FROM conversations WHERE "
                           "tenant_id = :t2 AND id = :c)",
                           {tenant_id, tenant_id, conversation_id});
    });
    if (!read) return read.error();
    if (rows.empty()) return std::optional<Agent>();
    rows.front().finish();
    return std::optional<Agent>(rows.front().agent);
}

}  // namespace tezgah::engine
