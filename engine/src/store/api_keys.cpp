// Operators' API keys: made, checked, listed and revoked (store/api_keys.hpp).
#include "store/api_keys.hpp"

#include "store/sql_support.hpp"
#include "util/digest.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

namespace tezgah::engine {
namespace {

using store::from_millis;
using store::to_millis;

constexpr std::string_view kPrefix = "tzk_";
constexpr std::size_t kIdHex = 16;
constexpr std::size_t kSecretHex = 64;

bool all_hex(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string out;
    for (const auto& s : scopes) out += (out.empty() ? "" : ",") + s;
    return out;
}

std::vector<std::string> split_scopes(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = text.find(',', start);
        const auto end = comma == std::string::npos ? text.size() : comma;
        if (end > start) out.push_back(text.substr(start, end - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

struct KeyRow {
    ApiKey key;
    std::string secret_hash;
};

void read_rows(soci::session& sql, const std::string& where, const std::string& id,
               std::vector<KeyRow>& out) {
    out.clear();
    KeyRow row;
    std::string scopes;
    long long created = 0, used = 0, revoked = 0;
    soci::statement st =
        (sql.prepare
             << "SELECT id, name, tenant_id, scopes, secret_hash, created_at, last_used_at, revoked_at "
                "FROM api_keys " +
                    where,
         soci::into(row.key.id), soci::into(row.key.name), soci::into(row.key.tenant_id), soci::into(scopes),
         soci::into(row.secret_hash), soci::into(created), soci::into(used), soci::into(revoked));
    if (!id.empty()) st.exchange(soci::use(id));
    st.define_and_bind();
    st.execute();
    while (st.fetch()) {
        row.key.scopes = split_scopes(scopes);
        row.key.created_at = from_millis(created);
        row.key.last_used_at = from_millis(used);
        row.key.revoked_at = from_millis(revoked);
        out.push_back(row);
    }
}

}  // namespace

const std::vector<std::string>& api_key_scopes() {
    static const std::vector<std::string> scopes = {
        "chat:write",      "calendar:read",     "conversations:read", "conversations:write", "catalog:write",
        "knowledge:write", "appointments:read", "appointments:write", "analytics:read",      "tenant:admin",
        "ops:read"};
    return scopes;
}

bool ApiKey::has_scope(std::string_view scope) const {
    return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

sdk::Result<NewApiKey> create_api_key(Database& db, const std::string& name, const std::string& tenant_id,
                                      const std::vector<std::string>& scopes,
                                      std::chrono::system_clock::time_point now) {
    if (scopes.empty())
        return sdk::make_error(sdk::errc::invalid_value, "scopes: a key needs at least one scope");
    std::vector<std::string> unique;
    for (const auto& scope : scopes) {
        const auto& known = api_key_scopes();
        if (std::find(known.begin(), known.end(), scope) == known.end()) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            return sdk::make_error(sdk::errc::invalid_value,
                                   "scopes: unknown scope \"" + scope + "\" (known: " + list + ")");
        }
        if (std::find(unique.begin(), unique.end(), scope) == unique.end()) unique.push_back(scope);
    }
    if (name.size() > 200) return sdk::make_error(sdk::errc::invalid_value, "name: longer than 200 bytes");

    NewApiKey made;
    made.key.id = sdk::random_hex(kIdHex / 2);
    made.key.name = name;
    made.key.tenant_id = tenant_id;
    made.key.scopes = unique;
    made.key.created_at = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
    const std::string secret = sdk::random_hex(kSecretHex / 2);
    made.secret = std::string(kPrefix) + made.key.id + "_" + secret;
    const std::string hash = sha256_hex(secret);
    const std::string joined = join_scopes(unique);
    const long long created = to_millis(now);
    auto stored = db.write("create_api_key", [&](soci::session& sql) {
        sql << "INSERT INTO api_keys (id, name, tenant_id, scopes, secret_hash, created_at) "
               "VALUES (:id, :name, :tenant, :scopes, :hash, :created)",
            soci::use(made.key.id), soci::use(name), soci::use(tenant_id), soci::use(joined), soci::use(hash),
            soci::use(created);
    });
    if (!stored) return stored.error();
    return made;
}

namespace {

/// The key `presented` names: valid, or only known by its id (wrong secret, revoked), or neither.
sdk::Result<KeyCheck> lookup_api_key(Database& db, std::string_view presented) {
    KeyCheck out;
    // tzk_ + 16 hex + _ + 64 hex; anything else is not a key (and is not looked up).
    if (presented.size() != kPrefix.size() + kIdHex + 1 + kSecretHex || !presented.starts_with(kPrefix) ||
        presented[kPrefix.size() + kIdHex] != '_')
        return out;
    const std::string id(presented.substr(kPrefix.size(), kIdHex));
    const std::string_view secret = presented.substr(kPrefix.size() + kIdHex + 1);
    if (!all_hex(id) || !all_hex(secret)) return out;
    std::vector<KeyRow> rows;
    auto read =
        db.read("verify_api_key", [&](soci::session& sql) { read_rows(sql, "WHERE id = :id", id, rows); });
    if (!read) return read.error();
    if (rows.empty()) return out;
    out.known_id = id;
    const std::string hash = sha256_hex(secret);
    const auto& row = rows.front();
    if (row.secret_hash.size() != hash.size() ||
        CRYPTO_memcmp(row.secret_hash.data(), hash.data(), hash.size()) != 0)
        return out;
    if (row.key.revoked()) return out;
    out.key = row.key;
    return out;
}

/// Valid keys recently verified, by database and the SHA-256 of the presented text.
class KeyCache {
public:
    std::optional<ApiKey> find(const Database* db, const std::string& hash,
                               std::chrono::steady_clock::time_point now) {
        std::lock_guard lock(mutex_);
        auto it = entries_.find({db, hash});
        if (it == entries_.end()) return std::nullopt;
        if (now >= it->second.expires) {
            entries_.erase(it);
            return std::nullopt;
        }
        return it->second.key;
    }
    void put(const Database* db, const std::string& hash, const ApiKey& key,
             std::chrono::steady_clock::time_point now) {
        std::lock_guard lock(mutex_);
        if (entries_.size() >= kApiKeyCacheEntries) entries_.clear();
        entries_[{db, hash}] = Entry{key, now + kApiKeyCacheTtl};
    }
    void forget_id(const std::string& id) {
        std::lock_guard lock(mutex_);
        std::erase_if(entries_, [&](const auto& entry) { return entry.second.key.id == id; });
    }
    void clear() {
        std::lock_guard lock(mutex_);
        entries_.clear();
    }

private:
    struct Entry {
        ApiKey key;
        std::chrono::steady_clock::time_point expires;
    };
    std::mutex mutex_;
    std::map<std::pair<const Database*, std::string>, Entry> entries_;
};

KeyCache& key_cache() {
    static KeyCache cache;
    return cache;
}

}  // namespace

sdk::Result<std::optional<ApiKey>> verify_api_key(Database& db, std::string_view presented) {
    auto checked = lookup_api_key(db, presented);
    if (!checked) return checked.error();
    return std::move(checked->key);
}

sdk::Result<KeyCheck> check_api_key(Database& db, std::string_view presented,
                                    std::chrono::steady_clock::time_point now) {
    const std::string hash = sha256_hex(presented);
    if (auto cached = key_cache().find(&db, hash, now)) {
        const std::string id = cached->id;
        return KeyCheck{std::move(cached), id};
    }
    auto checked = lookup_api_key(db, presented);
    if (!checked) return checked.error();
    if (checked->key) key_cache().put(&db, hash, *checked->key, now);
    return checked;
}

void forget_cached_api_keys() { key_cache().clear(); }

sdk::Result<std::vector<ApiKey>> list_api_keys(Database& db) {
    std::vector<KeyRow> rows;
    auto read = db.read("list_api_keys", [&](soci::session& sql) {
        read_rows(sql, "ORDER BY created_at DESC, id", "", rows);
    });
    if (!read) return read.error();
    std::vector<ApiKey> out;
    out.reserve(rows.size());
    for (auto& row : rows) out.push_back(std::move(row.key));
    return out;
}

sdk::Result<bool> revoke_api_key(Database& db, const std::string& id,
                                 std::chrono::system_clock::time_point now) {
    const long long at = to_millis(now);
    bool changed = false;
    auto written = db.write("revoke_api_key " + id, [&](soci::session& sql) {
        soci::statement st =
            (sql.prepare << "UPDATE api_keys SET revoked_at = :at WHERE id = :id AND revoked_at = 0",
             soci::use(at), soci::use(id));
        st.execute(true);
        changed = st.get_affected_rows() > 0;
    });
    if (!written) return written.error();
    key_cache().forget_id(id);  // revoked through this process: refused at once
    return changed;
}

sdk::Status touch_api_key(Database& db, const std::string& id, std::chrono::system_clock::time_point now) {
    const long long at = to_millis(now);
    return db.write("touch_api_key " + id, [&](soci::session& sql) {
        sql << "UPDATE api_keys SET last_used_at = :at WHERE id = :id AND last_used_at < :at2", soci::use(at),
            soci::use(id), soci::use(at);
    });
}

}  // namespace tezgah::engine
