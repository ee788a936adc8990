// A tenant's knowledge base over a real database: a search the database fails answers "nothing
// found" to the tool, and is not remembered: once the database answers, the entry is found again.
#include "store/database.hpp"
#include "tenants/tenant.hpp"

#include "support/temp_tenants.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <gtest/gtest.h>

using namespace tezgah::engine;
using namespace tezgah::testing;

namespace {

TEST(TenantKnowledge, ASearchTheDatabaseFailedIsNotRemembered) {
    TempDir dir;
    const auto path = (dir.path() / "tezgah.db").string();
    auto opened = Database::open("sqlite:" + path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto& db = **opened;
    ASSERT_TRUE(db.upsert_tenant("gece-butik", "Gece Butik").ok());
    sdk::KnowledgeEntry shipping;
    shipping.id = "kargo";
    shipping.question = "Kargo ne kadar sürer?";
    shipping.answer = "Siparişler 2-3 iş gününde teslim edilir.";
    shipping.keywords = {"kargo", "teslimat"};
    auto imported = db.import_knowledge("gece-butik", {shipping});
    ASSERT_TRUE(imported.ok()) << imported.error().message;
    TenantKnowledge knowledge(db, "gece-butik", {shipping});

    // The knowledge table goes away under the open database.
    soci::session sql(soci::sqlite3, "db=" + path);
    sql << "PRAGMA busy_timeout=15000";
    sql << "ALTER TABLE knowledge RENAME TO knowledge_away";
    EXPECT_TRUE(knowledge.search("kargo", "tr", 3).empty());

    sql << "ALTER TABLE knowledge_away RENAME TO knowledge";
    auto hits = knowledge.search("kargo", "tr", 3);
    ASSERT_EQ(hits.size(), 1u) << "the failed search's empty answer was remembered";
    EXPECT_EQ(hits[0].entry.id, "kargo");
}

}  // namespace
