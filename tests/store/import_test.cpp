// Migrations, idempotent imports and exact reads, on both backends.
#include <algorithm>
#include <thread>

#include "store_fixture.hpp"

namespace tezgah::engine::testing {
namespace {

class ImportTest : public StoreTest {};
TEZGAH_STORE_BACKENDS(ImportTest);

std::vector<std::string> ids_of(const auto& records) {
    std::vector<std::string> ids;
    for (const auto& r : records) ids.push_back(r.id);
    return ids;
}

TEST_P(ImportTest, MigrationsRunOnceAndReopeningKeepsData) {
    int version = db->schema_version();
    EXPECT_GE(version, 1);
    EXPECT_EQ(db->backend(), GetParam());
    EXPECT_TRUE(db->ping().ok());
    add_tenant("gece-butik");
    ASSERT_TRUE(db->import_offerings("gece-butik", fixture_offerings("gece-butik")).ok());

    auto again = open_again();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->schema_version(), version);
    auto stored = again->offerings("gece-butik");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->size(), fixture_offerings("gece-butik").size());
}

TEST_P(ImportTest, ConcurrentOpensOfAFreshDatabaseBothSucceed) {
    // A second fresh database, opened by two "processes" at once.
    ScratchDatabase fresh(GetParam());
    ASSERT_TRUE(fresh.error().empty()) << fresh.error();
    std::vector<sdk::Result<std::unique_ptr<Database>>> results;
    results.reserve(2);
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
        threads.emplace_back([&] {
            auto opened = Database::open(fresh.url());
            std::lock_guard lock(mutex);
            results.push_back(std::move(opened));
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(results.size(), 2u);
    for (auto& r : results) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r.value()->schema_version(), db->schema_version());
    }
}

TEST_P(ImportTest, ReimportCountsInsertedUpdatedUnchangedRemoved) {
    add_tenant("gece-butik");
    auto offerings = fixture_offerings("gece-butik");
    ASSERT_GE(offerings.size(), 3u);

    auto first = db->import_offerings("gece-butik", offerings);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->inserted, static_cast<int>(offerings.size()));
    EXPECT_EQ(first->updated + first->unchanged + first->removed, 0);

    auto same = db->import_offerings("gece-butik", offerings);
    ASSERT_TRUE(same.ok()) << same.error().message;
    EXPECT_EQ(same->unchanged, static_cast<int>(offerings.size()));
    EXPECT_EQ(same->inserted + same->updated + same->removed, 0);

    // Edit one, drop one, add one.
    auto edited = offerings;
    edited[0].price += 10;
    std::string dropped = edited[1].id;
    edited.erase(edited.begin() + 1);
    sdk::Offering added = edited.back();
    added.id = "yeni-urun";
    added.name = "Yeni Ürün";
    edited.push_back(added);

    auto changed = db->import_offerings("gece-butik", edited);
    ASSERT_TRUE(changed.ok()) << changed.error().message;
    EXPECT_EQ(changed->inserted, 1);
    EXPECT_EQ(changed->updated, 1);
    EXPECT_EQ(changed->removed, 1);
    EXPECT_EQ(changed->unchanged, static_cast<int>(offerings.size()) - 2);

    auto stored = db->offerings("gece-butik");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(ids_of(*stored), ids_of(edited));
    EXPECT_DOUBLE_EQ(stored->front().price, offerings.front().price + 10);
    auto stored_ids = ids_of(*stored);
    EXPECT_EQ(std::count(stored_ids.begin(), stored_ids.end(), dropped), 0);

    // The dropped one coming back counts as inserted.
    auto back = db->import_offerings("gece-butik", offerings);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->inserted, 1);
    EXPECT_EQ(back->updated, 1);
    EXPECT_EQ(back->removed, 1);
    auto restored = db->offerings("gece-butik");
    ASSERT_TRUE(restored.ok()) << restored.error().message;
    EXPECT_EQ(ids_of(*restored), ids_of(offerings));
}

TEST_P(ImportTest, ReorderingKeepsFileOrderAndCountsUnchanged) {
    add_tenant("gece-butik");
    auto offerings = fixture_offerings("gece-butik");
    ASSERT_TRUE(db->import_offerings("gece-butik", offerings).ok());
    std::reverse(offerings.begin(), offerings.end());
    auto stats = db->import_offerings("gece-butik", offerings);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->unchanged, static_cast<int>(offerings.size()));
    auto stored = db->offerings("gece-butik");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(ids_of(*stored), ids_of(offerings));
}

TEST_P(ImportTest, FixtureRecordsReadBackExactlyInFileOrder) {
    add_tenant("gece-butik");
    add_tenant("nefes-studyo");
    auto offerings = fixture_offerings("gece-butik");
    EXPECT_EQ(offerings.size(), 27u);
    ASSERT_TRUE(db->import_offerings("gece-butik", offerings).ok());
    auto stored = db->offerings("gece-butik");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    ASSERT_EQ(stored->size(), offerings.size());
    for (std::size_t i = 0; i < offerings.size(); ++i) {
        EXPECT_EQ(json::serialize(sdk::to_json((*stored)[i])), json::serialize(sdk::to_json(offerings[i])))
            << "offering " << i;
        EXPECT_EQ((*stored)[i].stock, offerings[i].stock) << offerings[i].id;
        EXPECT_EQ((*stored)[i].duration_min, offerings[i].duration_min) << offerings[i].id;
    }

    auto knowledge = fixture_knowledge("nefes-studyo");
    ASSERT_TRUE(db->import_knowledge("nefes-studyo", knowledge).ok());
    auto stored_knowledge = db->knowledge("nefes-studyo");
    ASSERT_TRUE(stored_knowledge.ok()) << stored_knowledge.error().message;
    ASSERT_EQ(stored_knowledge->size(), knowledge.size());
    for (std::size_t i = 0; i < knowledge.size(); ++i) {
        EXPECT_EQ(json::serialize(sdk::to_json((*stored_knowledge)[i])),
                  json::serialize(sdk::to_json(knowledge[i])));
    }

    auto resources = fixture_resources("nefes-studyo");
    ASSERT_FALSE(resources.empty());
    auto stats = db->import_resources("nefes-studyo", resources);
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    EXPECT_EQ(stats->inserted, static_cast<int>(resources.size()));
    auto stored_resources = db->resources("nefes-studyo");
    ASSERT_TRUE(stored_resources.ok()) << stored_resources.error().message;
    ASSERT_EQ(stored_resources->size(), resources.size());
    for (std::size_t i = 0; i < resources.size(); ++i) {
        const auto& stored_resource = (*stored_resources)[i];
        EXPECT_EQ(stored_resource.id, resources[i].id);
        EXPECT_EQ(stored_resource.name, resources[i].name);
        EXPECT_EQ(stored_resource.type, resources[i].type);
        EXPECT_EQ(stored_resource.capacity, resources[i].capacity);
        EXPECT_EQ(stored_resource.hours, resources[i].hours);
    }
    EXPECT_EQ(db->import_resources("nefes-studyo", resources)->unchanged, static_cast<int>(resources.size()));
}

TEST_P(ImportTest, ImportForUnknownTenantIsNotFound) {
    auto stats = db->import_offerings("kimse", fixture_offerings("gece-butik"));
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.error().code, "not_found");
    EXPECT_NE(stats.error().message.find("kimse"), std::string::npos);
}

TEST_P(ImportTest, DuplicateIdsAreRejectedAndNothingIsWritten) {
    add_tenant("gece-butik");
    auto offerings = fixture_offerings("gece-butik");
    offerings.push_back(offerings.front());
    auto stats = db->import_offerings("gece-butik", offerings);
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.error().code, "invalid_value");
    EXPECT_NE(stats.error().message.find(offerings.front().id), std::string::npos);
    auto stored = db->offerings("gece-butik");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_TRUE(stored->empty());
}

TEST_P(ImportTest, TenantsNeverSeeEachOthersRows) {
    add_tenant("dukkan-a");
    add_tenant("dukkan-b");
    auto a = fixture_offerings("gece-butik");
    auto b = a;
    for (auto& o : b) o.price += 1000;  // same ids, other prices
    b.pop_back();
    ASSERT_TRUE(db->import_offerings("dukkan-a", a).ok());
    ASSERT_TRUE(db->import_offerings("dukkan-b", b).ok());

    auto stored_a = db->offerings("dukkan-a");
    ASSERT_TRUE(stored_a.ok()) << stored_a.error().message;
    auto stored_b = db->offerings("dukkan-b");
    ASSERT_TRUE(stored_b.ok()) << stored_b.error().message;
    ASSERT_EQ(stored_a->size(), a.size());
    ASSERT_EQ(stored_b->size(), b.size());
    for (std::size_t i = 0; i < b.size(); ++i) {
        EXPECT_DOUBLE_EQ((*stored_a)[i].price, a[i].price);
        EXPECT_DOUBLE_EQ((*stored_b)[i].price, b[i].price);
    }
    // Removing from one tenant leaves the other alone.
    auto stats = db->import_offerings("dukkan-b", {});
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->removed, static_cast<int>(b.size()));
    auto emptied_b = db->offerings("dukkan-b");
    ASSERT_TRUE(emptied_b.ok()) << emptied_b.error().message;
    EXPECT_TRUE(emptied_b->empty());
    auto kept_a = db->offerings("dukkan-a");
    ASSERT_TRUE(kept_a.ok()) << kept_a.error().message;
    EXPECT_EQ(kept_a->size(), a.size());
    auto unknown_c = db->offerings("dukkan-c");
    ASSERT_TRUE(unknown_c.ok()) << unknown_c.error().message;
    EXPECT_TRUE(unknown_c->empty());
}

}  // namespace
}  // namespace tezgah::engine::testing
