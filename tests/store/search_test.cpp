// Full-text search over the knowledge base: Turkish with and without diacritics, English through
// translations, ranking, removal and tenant scope, on both backends.
#include "store_fixture.hpp"

namespace tezgah::engine::testing {
namespace {

class SearchTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (!db) return;
        add_tenant("gece-butik");
        auto stats = db->import_knowledge("gece-butik", fixture_knowledge("gece-butik"));
        ASSERT_TRUE(stats.ok()) << stats.error().message;
    }

    std::string first_hit(const std::string& tenant, const std::string& query,
                          const std::string& language = "tr") {
        auto hits = db->search_knowledge(tenant, query, language, 5);
        if (!hits) return "(error: " + hits.error().message + ")";  // equals no id: the caller's check fails
        return hits->empty() ? std::string("(no hit)") : hits->front().entry.id;
    }
};
TEZGAH_STORE_BACKENDS(SearchTest);

TEST_P(SearchTest, TurkishQueryFindsPaymentWithAndWithoutDiacritics) {
    EXPECT_EQ(first_hit("gece-butik", "kapıda ödeme var mı?"), "odeme");
    EXPECT_EQ(first_hit("gece-butik", "kapida odeme"), "odeme");
    EXPECT_EQ(first_hit("gece-butik", "KAPIDA ÖDEME"), "odeme");
}

TEST_P(SearchTest, ReturnPolicyFoundInTurkishAndEnglish) {
    EXPECT_EQ(first_hit("gece-butik", "iade"), "iade");
    EXPECT_EQ(first_hit("gece-butik", "iade koşullarınız nedir"), "iade");
    EXPECT_EQ(first_hit("gece-butik", "return policy", "en"), "iade");
    EXPECT_EQ(first_hit("gece-butik", "how much is shipping", "en"), "kargo-ucret");
}

TEST_P(SearchTest, HitsAreRankedBestFirstAndLimited) {
    auto hits = db->search_knowledge("gece-butik", "kargo sipariş iade ödeme", "tr", 3);
    ASSERT_TRUE(hits.ok()) << hits.error().message;
    ASSERT_EQ(hits->size(), 3u);
    for (std::size_t i = 1; i < hits->size(); ++i) EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
    EXPECT_GT(hits->back().score, 0);
    auto nonsense = db->search_knowledge("gece-butik", "zzqx wvyk", "tr", 5);
    ASSERT_TRUE(nonsense.ok()) << nonsense.error().message;
    EXPECT_TRUE(nonsense->empty());
    auto nothing = db->search_knowledge("gece-butik", "", "tr", 5);
    ASSERT_TRUE(nothing.ok()) << nothing.error().message;
    EXPECT_TRUE(nothing->empty());
}

TEST_P(SearchTest, RemovedAndEditedEntriesAreSearchedAsTheyAreNow) {
    auto entries = fixture_knowledge("gece-butik");
    std::erase_if(entries, [](const auto& e) { return e.id == "odeme"; });
    for (auto& e : entries) {
        if (e.id == "hediye") e.keywords.push_back("kurdele");
    }
    auto stats = db->import_knowledge("gece-butik", entries);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->removed, 1);
    EXPECT_EQ(stats->updated, 1);
    auto hits = db->search_knowledge("gece-butik", "kapıda ödeme", "tr", 20);
    ASSERT_TRUE(hits.ok()) << hits.error().message;
    for (const auto& hit : *hits) EXPECT_NE(hit.entry.id, "odeme");
    EXPECT_EQ(first_hit("gece-butik", "kurdele"), "hediye");
    auto stored = db->knowledge("gece-butik");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->size(), entries.size());
}

TEST_P(SearchTest, SearchStaysInItsTenant) {
    add_tenant("baska-dukkan");
    auto other = fixture_knowledge("gece-butik");
    ASSERT_FALSE(other.empty());
    other.resize(1);  // the same id "iade", another answer
    other[0].answer = "Başka dükkanın iade cevabı";
    ASSERT_TRUE(db->import_knowledge("baska-dukkan", other).ok());

    auto hits = db->search_knowledge("baska-dukkan", "kapıda ödeme iade", "tr", 20);
    ASSERT_TRUE(hits.ok()) << hits.error().message;
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ((*hits)[0].entry.answer, "Başka dükkanın iade cevabı");
    auto own = db->search_knowledge("gece-butik", "iade", "tr", 20);
    ASSERT_TRUE(own.ok()) << own.error().message;
    for (const auto& hit : *own) EXPECT_NE(hit.entry.answer, "Başka dükkanın iade cevabı");
    auto nobody = db->search_knowledge("nobody", "iade", "tr", 5);
    ASSERT_TRUE(nobody.ok()) << nobody.error().message;
    EXPECT_TRUE(nobody->empty());
}

}  // namespace
}  // namespace tezgah::engine::testing
