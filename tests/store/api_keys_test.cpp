// Operators' keys and the audit log in the store, on both backends: keys verified and cached (a
// revoke here is at once, one elsewhere within the cache's time), the audit log's batching writer
// (nothing lost at stop, last use written once a minute), and its pages.
#include "store_fixture.hpp"

#include "store/api_keys.hpp"
#include "store/audit_log.hpp"

#include <soci/soci.h>

#include <set>

namespace tezgah::engine::testing {
namespace {

using namespace std::chrono_literals;

class ApiKeysTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        forget_cached_api_keys();
    }
    NewApiKey make(const std::string& tenant, const std::vector<std::string>& scopes) {
        auto made = create_api_key(*db, "k", tenant, scopes, std::chrono::system_clock::now());
        EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
        return made.ok() ? *made : NewApiKey{};
    }
};
TEZGAH_STORE_BACKENDS(ApiKeysTest);

TEST_P(ApiKeysTest, AKeyIsCheckedCachedAndARevokeHereIsAtOnce) {
    if (!db) return;
    const auto key = make("gece-butik", {"chat:write"});
    const auto t0 = std::chrono::steady_clock::now();
    auto checked = check_api_key(*db, key.secret, t0);
    ASSERT_TRUE(checked.ok());
    ASSERT_TRUE(checked->key.has_value());
    EXPECT_EQ(checked->key->tenant_id, "gece-butik");
    EXPECT_TRUE(checked->key->has_scope("chat:write"));
    EXPECT_EQ(checked->known_id, key.key.id);

    // A wrong secret for a real id: refused, the id known (for the audit log).
    std::string wrong = key.secret;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    auto refused = check_api_key(*db, wrong, t0);
    ASSERT_TRUE(refused.ok());
    EXPECT_FALSE(refused->key.has_value());
    EXPECT_EQ(refused->known_id, key.key.id);
    // Not a key at all: nothing known.
    auto garbage = check_api_key(*db, "Bearer nonsense", t0);
    ASSERT_TRUE(garbage.ok());
    EXPECT_FALSE(garbage->key.has_value());
    EXPECT_TRUE(garbage->known_id.empty());

    // Revoked through this process: refused at once, though cached.
    auto revoked = revoke_api_key(*db, key.key.id, std::chrono::system_clock::now());
    ASSERT_TRUE(revoked.ok() && *revoked);
    auto after = check_api_key(*db, key.secret, t0 + 1s);
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(after->key.has_value());
    EXPECT_EQ(after->known_id, key.key.id);
    // Revoking again says so.
    auto again = revoke_api_key(*db, key.key.id, std::chrono::system_clock::now());
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(*again);
}

TEST_P(ApiKeysTest, ARevokeByAnotherProcessIsSeenWithinTheCachesTime) {
    if (!db) return;
    const auto key = make("", {"ops:read"});
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(check_api_key(*db, key.secret, t0)->key.has_value());
    // Another process (tezgah keys revoke) writes the revocation: this one does not hear of it.
    {
        auto sql = open_sql_session(scratch->url());
        ASSERT_NE(sql, nullptr);
        *sql << "UPDATE api_keys SET revoked_at = 1 WHERE id = :id", soci::use(key.key.id);
    }
    EXPECT_TRUE(check_api_key(*db, key.secret, t0 + kApiKeyCacheTtl - 1s)->key.has_value());
    EXPECT_FALSE(check_api_key(*db, key.secret, t0 + kApiKeyCacheTtl + 1s)->key.has_value());
    // Uncached, the database is asked each time.
    EXPECT_FALSE(verify_api_key(*db, key.secret)->has_value());
}

TEST_P(ApiKeysTest, TheAuditLogWritesInBatchesLosesNothingAtStopAndTouchesKeysOnceAMinute) {
    if (!db) return;
    const auto key = make("gece-butik", {"chat:write"});
    const auto now = std::chrono::system_clock::now();
    {
        AuditLog log(*db, 50ms, 60s);
        for (int i = 0; i < 20; ++i)
            log.record(AuditEntry{0, key.key.id, "POST", "/v1/tenants/{tenant}/chat",
                                  i % 2 ? "gece-butik" : "nefes-studyo", 200, "203.0.113.7",
                                  "r" + std::to_string(i), now});
        log.touch(key.key.id, now);
        log.touch(key.key.id, now + 30s);  // within the minute: not written
        log.flush();
        AuditQuery everything;
        everything.limit = 1000;
        auto page = read_audit(*db, everything);
        ASSERT_TRUE(page.ok());
        EXPECT_EQ(page->entries.size(), 20u);
        // Recorded just before the stop: written by it.
        for (int i = 20; i < 25; ++i)
            log.record(AuditEntry{0, key.key.id, "GET", "/v1/tenants/{tenant}/audit", "gece-butik", 403,
                                  "127.0.0.1", "r" + std::to_string(i), now});
        log.stop();
        log.record(AuditEntry{0, key.key.id, "GET", "/metrics", "", 200, "127.0.0.1", "late", now});
    }
    auto other = open_again();
    ASSERT_NE(other, nullptr);
    AuditQuery everything;
    everything.limit = 1000;
    auto page = read_audit(*other, everything);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->entries.size(), 25u);
    EXPECT_EQ(page->entries.front().request_id, "r24");  // newest first
    EXPECT_EQ(page->entries.back().request_id, "r0");
    EXPECT_EQ(page->entries.front().status, 403);
    EXPECT_EQ(page->entries.front().client, "127.0.0.1");
    auto keys = list_api_keys(*other);
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(keys->size(), 1u);
    EXPECT_EQ(std::chrono::floor<std::chrono::milliseconds>(keys->front().last_used_at),
              std::chrono::floor<std::chrono::milliseconds>(now));
}

TEST_P(ApiKeysTest, AuditPagesFilterByTenantAndKeyAndNeverRepeat) {
    if (!db) return;
    const auto now = std::chrono::system_clock::now();
    std::vector<AuditEntry> entries;
    for (int i = 0; i < 9; ++i)
        entries.push_back(AuditEntry{0, i % 3 == 0 ? "aaaaaaaaaaaaaaaa" : "bbbbbbbbbbbbbbbb", "GET", "/x",
                                     i % 2 ? "gece-butik" : "nefes-studyo", 200, "c", std::to_string(i),
                                     now});
    ASSERT_TRUE(append_audit(*db, entries).ok());

    AuditQuery query;
    query.tenant_id = "gece-butik";
    query.limit = 2;
    std::set<std::string> seen;
    int pages = 0;
    for (;;) {
        auto page = read_audit(*db, query);
        ASSERT_TRUE(page.ok());
        ++pages;
        for (const auto& e : page->entries) {
            EXPECT_EQ(e.tenant_id, "gece-butik");
            EXPECT_TRUE(seen.insert(e.request_id).second) << e.request_id;
        }
        if (page->next == 0) break;
        query.before = page->next;
        ASSERT_LT(pages, 10);
    }
    EXPECT_EQ(seen, (std::set<std::string>{"1", "3", "5", "7"}));
    EXPECT_EQ(pages, 2);

    AuditQuery by_key;
    by_key.key_id = "aaaaaaaaaaaaaaaa";
    auto keyed = read_audit(*db, by_key);
    ASSERT_TRUE(keyed.ok());
    ASSERT_EQ(keyed->entries.size(), 3u);
    EXPECT_EQ(keyed->entries[0].request_id, "6");
    EXPECT_EQ(keyed->next, 0);
}

}  // namespace
}  // namespace tezgah::engine::testing
