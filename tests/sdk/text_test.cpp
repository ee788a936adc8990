// The SDK's Turkish-aware text utilities: folding, stems, typos, language guessing and ranking
// against the gece-butik fixture catalog and knowledge base.
#include <tezgah/sdk/markup.hpp>
#include <tezgah/sdk/testing/fakes.hpp>
#include <tezgah/sdk/text.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tezgah::sdk::text {
namespace {

const std::string kButik = std::string(TEZGAH_FIXTURES_DIR) + "/gece-butik";

TEST(Fold, LowersTurkishCapitalsByTurkishRules) {
    EXPECT_EQ(fold("İSTANBUL"), "istanbul");
    EXPECT_EQ(fold("KAPIDA"), "kapida");
    EXPECT_EQ(lower_tr("KAPIDA"), "kapıda");
    EXPECT_EQ(lower_tr("İSTANBUL"), "istanbul");
    EXPECT_EQ(lower_tr("ŞÇĞÖÜ"), "şçğöü");
}

TEST(Fold, FoldsTurkishLettersToAscii) {
    EXPECT_EQ(fold("ışçğöü âîû"), "iscgou aiu");
    EXPECT_EQ(fold("Geceliğin fiyatı?"), "geceligin fiyati");
    EXPECT_EQ(fold("Çocuk Pijaması"), "cocuk pijamasi");
}

TEST(Fold, PunctuationBecomesSingleSpacesAndApostrophesJoin) {
    EXPECT_EQ(fold("  saten,   gecelik!!  ne kadar?? "), "saten gecelik ne kadar");
    EXPECT_EQ(fold("Kadıköy'de"), "kadikoyde");
    EXPECT_EQ(fold("merhaba 👋 nasılsınız"), "merhaba nasilsiniz");
}

TEST(Fold, DropsInvalidUtf8) {
    const std::string broken = std::string("gece") + '\xff' + "lik";
    EXPECT_FALSE(valid_utf8(broken));
    EXPECT_EQ(fold(broken), "gecelik");
    EXPECT_TRUE(valid_utf8("geceliğin fiyatı"));
    EXPECT_FALSE(valid_utf8(std::string("\xc3", 1)));
}

TEST(Utf8, RepairReplacesEachBadByteAndKeepsValidText) {
    EXPECT_EQ(repair_utf8("geceliğin fiyatı"), "geceliğin fiyatı");
    std::size_t replaced = 99;
    EXPECT_EQ(repair_utf8("", &replaced), "");
    EXPECT_EQ(replaced, 0u);
    // "ğ" cut in half, a stray continuation byte, an overlong "/", a surrogate.
    EXPECT_EQ(repair_utf8(std::string("\xc4", 1), &replaced), "\uFFFD");
    EXPECT_EQ(replaced, 1u);
    EXPECT_EQ(repair_utf8(std::string("a\x80"
                                      "b") +
                              "\xc0\xaf" + "\xed\xa0\x80",
                          &replaced),
              "a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
    EXPECT_EQ(replaced, 6u);
    EXPECT_TRUE(valid_utf8(repair_utf8(std::string("\xff\xfe\xf4\x90\x80\x80"))));
}

TEST(Tokens, SplitsFoldedWords) {
    EXPECT_EQ(tokens("Saten GECELİK, ne kadar?"),
              (std::vector<std::string>{"saten", "gecelik", "ne", "kadar"}));
    EXPECT_TRUE(tokens(" ?! ").empty());
}

TEST(Stem, StripsTurkishInflections) {
    EXPECT_EQ(stem("geceligin"), "gecelik");
    EXPECT_EQ(stem("geceligi"), "gecelik");
    EXPECT_EQ(stem("sabahligi"), "sabahlik");
    EXPECT_EQ(stem("pijamalar"), "pijama");
    EXPECT_EQ(stem("pijamasi"), "pijama");
    EXPECT_EQ(stem("pijamalari"), "pijama");
    EXPECT_EQ(stem("geceliklerden"), "gecelik");
    EXPECT_EQ(stem("pijamaya"), "pijama");
    EXPECT_EQ(stem("kargoda"), "kargo");
    EXPECT_EQ(stem("iadesi"), "iade");
}

TEST(Stem, StripsEnglishPlurals) {
    EXPECT_EQ(stem("nightgowns"), "nightgown");
    EXPECT_EQ(stem("dresses"), "dress");
    EXPECT_EQ(stem("pyjamas"), "pyjama");
    EXPECT_EQ(stem("panties"), "panty");
}

TEST(Stem, NeverGoesBelowThreeLettersAndKeepsShortWords) {
    EXPECT_EQ(stem("mi"), "mi");
    EXPECT_EQ(stem("ada"), "ada");
    EXPECT_EQ(stem("iade"), "iade");
    EXPECT_GE(stem("evler").size(), 3U);
    EXPECT_GE(stem("lari").size(), 3U);
}

TEST(Similarity, ToleratesTyposAndRejectsStrangers) {
    EXPECT_DOUBLE_EQ(similarity("gecelik", "gecelik"), 1.0);
    EXPECT_GT(similarity("gecelk", "gecelik"), 0.8);
    EXPECT_GT(similarity("pijma", "pijama"), 0.8);
    EXPECT_GT(similarity("pijaam", "pijama"), 0.8);  // transposition counts as one edit
    EXPECT_LT(similarity("xyzzy", "gecelik"), 0.3);
    EXPECT_DOUBLE_EQ(similarity("", "abc"), 0.0);
}

TEST(DetectLanguage, RecognisesTurkishMessages) {
    for (const char* message : {
             "saten gecelik ne kadar",
             "Merhaba, bordo gecelik var mı?",
             "kargo ücreti ne kadar",
             "iade koşulları nelerdir",
             "pijamalar stokta mı",
             "yarın saat kaçta açıksınız",
             "Kapıda ödeme yapabilir miyim?",
             "geceliğin fiyatı",
             "teşekkürler iyi günler",
             "erkek pijama takımı istiyorum",
             "adresiniz nerede",
             "sabahlığın rengi ne",
         }) {
        EXPECT_EQ(detect_language(message, "en"), "tr") << message;
    }
}

TEST(DetectLanguage, RecognisesEnglishMessages) {
    for (const char* message : {
             "how much is the velvet robe",
             "Do you have satin nightgowns in stock?",
             "what is your return policy",
             "How much is shipping?",
             "Hello, are you open tomorrow?",
             "where is your store",
             "I want to buy a black nightgown",
             "Can I exchange a size?",
             "what are your opening hours",
             "Do you sell kids pyjamas?",
             "thanks a lot",
             "is the burgundy one available",
         }) {
        EXPECT_EQ(detect_language(message, "tr"), "en") << message;
    }
}

TEST(DetectLanguage, FallsBackWhenThereIsNothingToTell) {
    EXPECT_EQ(detect_language("", "tr"), "tr");
    EXPECT_EQ(detect_language("123 456", "en"), "en");
    EXPECT_EQ(detect_language("👍", "tr"), "tr");
}

class CatalogMatch : public ::testing::Test {
protected:
    void SetUp() override { host_.load_offerings_file(kButik + "/data/offerings.json"); }

    std::vector<OfferingMatch> match(std::string_view query, std::string_view language = "tr") const {
        return match_offerings(host_.offerings.offerings, query, language, 5);
    }

    testing::FakeHost host_;
};

TEST_F(CatalogMatch, FindsASatinNightgownByNameAndQuestionWords) {
    const auto found = match("saten gecelik ne kadar");
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found.front().offering.id.rfind("saten-gecelik-", 0), 0U) << found.front().offering.id;
    ASSERT_GE(found.size(), 2U);
    EXPECT_EQ(found[1].offering.id.rfind("saten-gecelik-", 0), 0U) << found[1].offering.id;
}

TEST_F(CatalogMatch, ColourWordPutsThatVariantFirst) {
    const auto found = match("bordo gecelik");
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found.front().offering.id, "saten-gecelik-bordo");
    const auto black = match("siyah saten gecelik");
    ASSERT_FALSE(black.empty());
    EXPECT_EQ(black.front().offering.id, "saten-gecelik-siyah");
}

TEST_F(CatalogMatch, UnderstandsInflectedWords) {
    const auto nightgown = match("geceliğin fiyatı");
    ASSERT_FALSE(nightgown.empty());
    EXPECT_EQ(nightgown.front().offering.category, "Gecelik");

    const auto pyjamas = match("pijamalar");
    ASSERT_FALSE(pyjamas.empty());
    EXPECT_EQ(pyjamas.front().offering.category, "Pijama");

    const auto robe = match("sabahlığı");
    ASSERT_FALSE(robe.empty());
    EXPECT_EQ(robe.front().offering.category, "Sabahlık");
}

TEST_F(CatalogMatch, ToleratesTypos) {
    const auto nightgown = match("gecelk");
    ASSERT_FALSE(nightgown.empty());
    EXPECT_EQ(nightgown.front().offering.category, "Gecelik");
    const auto pyjama = match("pijma");
    ASSERT_FALSE(pyjama.empty());
    EXPECT_EQ(pyjama.front().offering.category, "Pijama");
    const auto inflected_typo = match("pijmalar");
    ASSERT_FALSE(inflected_typo.empty());
    EXPECT_EQ(inflected_typo.front().offering.category, "Pijama");
}

TEST_F(CatalogMatch, AStrippedVowelDoesNotMakeATypoMatch) {
    // "kadife" (velvet) must not pass for "kadın" (women's) once its final vowel is stripped.
    for (const auto& found : match("kadife"))
        EXPECT_EQ(found.offering.category, "Sabahlık") << found.offering.id;
}

TEST_F(CatalogMatch, MatchesEnglishTranslations) {
    const auto found = match("velvet robe", "en");
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found.front().offering.id, "kadife-sabahlik");
    const auto tr_words = match("how much is the burgundy nightgown", "en");
    ASSERT_FALSE(tr_words.empty());
    EXPECT_EQ(tr_words.front().offering.id, "saten-gecelik-bordo");
}

TEST_F(CatalogMatch, PhraseBeatsASharedWord) {
    const auto found = match("erkek pijama");
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found.front().offering.id, "erkek-pijama-takimi");
    for (std::size_t i = 1; i < found.size(); ++i) EXPECT_LT(found[i].score, found.front().score);
}

TEST_F(CatalogMatch, ScoresAreSortedAndBounded) {
    const auto found = match("pijama");
    ASSERT_GE(found.size(), 2U);
    for (std::size_t i = 0; i < found.size(); ++i) {
        EXPECT_GT(found[i].score, 0.0);
        EXPECT_LE(found[i].score, 1.0);
        if (i > 0) {
            EXPECT_LE(found[i].score, found[i - 1].score);
        }
    }
    EXPECT_LE(match_offerings(host_.offerings.offerings, "pijama", "tr", 2).size(), 2U);
}

TEST_F(CatalogMatch, NonsenseAndStopWordsFindNothing) {
    EXPECT_TRUE(match("xyzzy").empty());
    EXPECT_TRUE(match("").empty());
    EXPECT_TRUE(match("ne kadar").empty());
}

class KnowledgeRank : public ::testing::Test {
protected:
    void SetUp() override { host_.load_knowledge_file(kButik + "/data/knowledge.json"); }
    testing::FakeHost host_;
};

TEST_F(KnowledgeRank, FindsByTurkishKeyword) {
    const auto hits = rank_knowledge(host_.knowledge_base.entries, "iade", "tr", 3);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits.front().entry.id, "iade");
}

TEST_F(KnowledgeRank, FindsByInflectedQuestion) {
    const auto hits = rank_knowledge(host_.knowledge_base.entries, "kargo ücreti ne kadar", "tr", 3);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits.front().entry.id, "kargo-ucret");
}

TEST_F(KnowledgeRank, FindsByEnglishTranslation) {
    const auto hits = rank_knowledge(host_.knowledge_base.entries, "what is your return policy", "en", 3);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits.front().entry.id, "iade");
}

TEST_F(KnowledgeRank, NothingForUnrelatedWords) {
    EXPECT_TRUE(rank_knowledge(host_.knowledge_base.entries, "xyzzy plugh", "tr", 3).empty());
}

}  // namespace
}  // namespace tezgah::sdk::text

TEST(Markup, EscapesTheFiveCharactersAndDropsWhatXmlForbids) {
    EXPECT_EQ(tezgah::sdk::text::escape_markup("Tom & \"Jerry\" <b>'s</b>"),
              "Tom &amp; &quot;Jerry&quot; &lt;b&gt;&apos;s&lt;/b&gt;");
    EXPECT_EQ(tezgah::sdk::text::escape_markup(std::string("a\x01"
                                                           "b\tc\nd\re\x1f",
                                                           10)),
              "ab\tc\nd\re");
    EXPECT_EQ(tezgah::sdk::text::escape_markup("Şile çiçekçisi"), "Şile çiçekçisi");  // UTF-8 kept
}
