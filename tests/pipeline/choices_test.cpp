// Picking one of the last reply's options: by number, ordinal, id or title, in Turkish and
// English; and the options and cards a remote model's turn gets from the tools it called.
#include "pipeline/choices.hpp"
#include "pipeline/turn_json.hpp"

#include <gtest/gtest.h>

using namespace tezgah::engine;
namespace sdk = tezgah::sdk;
namespace json = boost::json;

namespace {

const std::vector<sdk::ReplyOption> kClasses = {{"yoga-1", "Hatha Yoga", {}},
                                                {"pil-2", "Mat Pilates Grup Dersi", {}},
                                                {"nefes-3", "Nefes Çalışması", {}}};

std::string pick(std::string_view text, const std::vector<sdk::ReplyOption>& options = kClasses) {
    auto chosen = chosen_option(text, options);
    return chosen ? chosen->id : std::string("-");
}

TEST(Choices, ANumberPicksByPosition) {
    EXPECT_EQ(pick("2"), "pil-2");
    EXPECT_EQ(pick(" 2. "), "pil-2");
    EXPECT_EQ(pick("3)"), "nefes-3");
    EXPECT_EQ(pick("#1"), "yoga-1");
    EXPECT_EQ(pick("4"), "-");  // there is no fourth
    EXPECT_EQ(pick("0"), "-");
}

TEST(Choices, OrdinalWordsInBothLanguages) {
    EXPECT_EQ(pick("ikincisi"), "pil-2");
    EXPECT_EQ(pick("İkincisi lütfen"), "pil-2");
    EXPECT_EQ(pick("üçüncü"), "nefes-3");
    EXPECT_EQ(pick("ilki"), "yoga-1");
    EXPECT_EQ(pick("the second one"), "pil-2");
    EXPECT_EQ(pick("Third, please"), "nefes-3");
    EXPECT_EQ(pick("option 1"), "yoga-1");
}

TEST(Choices, TheTitleWhateverItsCaseAndDiacritics) {
    EXPECT_EQ(pick("hatha yoga"), "yoga-1");
    EXPECT_EQ(pick("NEFES CALISMASI"), "nefes-3");
    EXPECT_EQ(pick("Nefes çalışması!"), "nefes-3");
}

TEST(Choices, TheIdAButtonSends) {
    EXPECT_EQ(pick("pil-2"), "pil-2");
    EXPECT_EQ(pick("YOGA-1"), "yoga-1");
}

TEST(Choices, AnythingElseIsNoPick) {
    EXPECT_EQ(pick("2 tane"), "-");
    EXPECT_EQ(pick("2 or 3"), "-");
    EXPECT_EQ(pick("ikincisi ne kadar?"), "-");
    EXPECT_EQ(pick("hatha yoga ne kadar"), "-");
    EXPECT_EQ(pick("22"), "-");
    EXPECT_EQ(pick("2", {}), "-");  // no options were offered
}

TEST(Choices, TheSessionKeepsTheLastOptionsAndForgetsThemWhenNoneAreOffered) {
    json::object session;
    remember_options(session, kClasses);
    auto kept = last_options(session);
    ASSERT_EQ(kept.size(), 3u);
    EXPECT_EQ(kept[1].id, "pil-2");
    EXPECT_EQ(kept[1].title, "Mat Pilates Grup Dersi");
    remember_options(session, {});
    EXPECT_FALSE(session.contains(kLastOptionsKey));
}

TEST(Choices, ARemoteModelsListBecomesOptionsAndItsProductACard) {
    std::vector<ToolCallRecord> calls(2);
    calls[0].ok = true;
    calls[0].result = json::parse(R"({"items": [{"id": "a", "name": "Saten Gecelik"},
        {"id": "b", "name": "Pamuk Pijama"}, {"name": "no id"}], "categories": []})");
    calls[1].ok = true;
    calls[1].result = json::parse(R"({"found": true, "product": {"id": "c", "name": "İpek Sabahlık",
        "price": 899.9, "currency": "TRY", "category": "Sabahlık",
        "attributes": {"image_url": "https://shop.example/c.jpg"}}, "also_matching": [{"id": "a", "name": "Saten Gecelik"}]})");
    auto parts = rich_from_tool_results(calls);
    ASSERT_EQ(parts.options.size(), 3u);  // the described product first, then the list, once each
    EXPECT_EQ(parts.options[0].id, "c");
    EXPECT_EQ(parts.options[1].title, "Saten Gecelik");
    EXPECT_EQ(parts.options[2].id, "b");
    ASSERT_EQ(parts.cards.size(), 1u);
    EXPECT_EQ(parts.cards[0].title, "İpek Sabahlık");
    EXPECT_DOUBLE_EQ(parts.cards[0].price.value_or(0), 899.9);
    EXPECT_EQ(parts.cards[0].currency, "TRY");
    EXPECT_EQ(parts.cards[0].image_url, "https://shop.example/c.jpg");
    calls[0].ok = false;  // a failed call offers nothing
    calls.pop_back();
    EXPECT_TRUE(rich_from_tool_results(calls).options.empty());
}

TEST(Choices, TurnReplyJsonCarriesOptionsAndCardsAndReadsBack) {
    sdk::TurnReply reply;
    reply.reply = "x";
    auto empty = sdk::to_json(reply);
    EXPECT_TRUE(empty.at("options").as_array().empty());
    EXPECT_TRUE(empty.at("cards").as_array().empty());
    reply.options = {{"yes", "Evet", {}}, {"no", "Hayır", "vazgeç"}};
    reply.cards = {{"c", "İpek Sabahlık", {}, 899.9, "TRY", {}}};
    auto j = sdk::to_json(reply);
    EXPECT_EQ(json::serialize(j.at("options")),
              R"([{"id":"yes","title":"Evet"},{"id":"no","title":"Hayır","description":"vazgeç"}])");
    const auto& card = j.at("cards").as_array().at(0).as_object();
    EXPECT_EQ(card.size(), 4u);  // no subtitle or image_url when there are none
    EXPECT_DOUBLE_EQ(card.at("price").as_double(), 899.9);
    EXPECT_EQ(card.at("currency").as_string(), "TRY");
    // As stored with the turn and read back for a retried message id.
    auto back = turn_reply_from_json(json::serialize(j));
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(back->options.size(), 2u);
    EXPECT_EQ(back->options[1].description, "vazgeç");
    ASSERT_EQ(back->cards.size(), 1u);
    EXPECT_EQ(back->cards[0].title, "İpek Sabahlık");
    EXPECT_DOUBLE_EQ(back->cards[0].price.value_or(0), 899.9);
    // A reply stored before options existed reads back with none.
    auto old = turn_reply_from_json(R"({"reply": "eski"})");
    ASSERT_TRUE(old.ok());
    EXPECT_TRUE(old->options.empty());
}

}  // namespace
