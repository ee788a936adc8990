// Rich replies over the chat API (DESIGN "Rich replies"): the options and cards of a reply in the
// JSON reply, in the stream's `done` event and in the reply a retried message id gets back; a
// customer's "2", an option's title or its id continuing the conversation, in Turkish and English;
// and, with a remote model (the real openai and gemini plugins against their fake servers), the
// options taken from the catalogue results the model asked for.
#include "http_fixture.hpp"
#include "support/fake_gemini.hpp"
#include "support/fake_openai.hpp"

#include <gtest/gtest.h>

namespace tezgah::testing {
namespace {

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

std::vector<std::string> field_of(const json::value& reply, const char* list, const char* field) {
    std::vector<std::string> out;
    for (const auto& item : reply.at(list).as_array()) out.emplace_back(item.at(field).as_string());
    return out;
}

std::string body_with(const std::string& text, const std::string& user, json::object extra = {}) {
    json::object body{{"text", text}, {"user_id", user}};
    for (auto& [k, v] : extra) body[k] = v;
    return json::serialize(body);
}

class RichRepliesTest : public ServerFixture {
protected:
    json::value say(const std::string& tenant, const std::string& user, const std::string& text) {
        auto reply = chat(tenant, chat_body(text, user));
        EXPECT_EQ(reply.status, 200) << reply.body;
        return json::parse(reply.body);
    }
};

const std::vector<std::string> kYogaTr = {"Hatha Yoga", "Yin Yoga", "Hamile Yogası"};

TEST_F(RichRepliesTest, TheOfflineAssistantsListIsOfferedAndTwoPicksTheSecondInTurkish) {
    start();
    auto list = say("nefes-studyo", "tr1", "yoga dersleriniz neler?");
    EXPECT_EQ(field_of(list, "options", "title"), kYogaTr) << json::serialize(list);
    EXPECT_EQ(field_of(list, "options", "id"),
              (std::vector<std::string>{"hatha-yoga", "yin-yoga", "hamile-yogasi"}));
    // The text is the reply as before: the options are not numbered into it.
    EXPECT_FALSE(contains(std::string(list.at("reply").as_string()), "1.")) << list.at("reply");

    auto second = say("nefes-studyo", "tr1", "2");
    const std::string text(second.at("reply").as_string());
    EXPECT_TRUE(contains(text, "Yin Yoga")) << text;
    EXPECT_TRUE(contains(text, "450")) << text;
    EXPECT_FALSE(contains(text, "Hatha")) << text;

    // The options are the last reply's: after an answer that offers none, "2" is just "2".
    auto hours = say("nefes-studyo", "tr1", "adresiniz nerede?");
    EXPECT_TRUE(hours.at("options").as_array().empty()) << json::serialize(hours);
}

TEST_F(RichRepliesTest, TitleIdAndOrdinalPicksInEnglish) {
    start();
    auto list = say("nefes-studyo", "en1", "what yoga classes do you have?");
    const auto titles = field_of(list, "options", "title");
    ASSERT_EQ(titles.size(), 3u) << json::serialize(list);
    EXPECT_EQ(list.at("language").as_string(), "en");

    // The title, written in another case: the answer is about that class.
    std::string lower = titles[2];
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto by_title = say("nefes-studyo", "en1", lower);
    EXPECT_TRUE(contains(std::string(by_title.at("reply").as_string()), titles[2])) << by_title.at("reply");
    EXPECT_EQ(by_title.at("language").as_string(), "en");

    // A button's id (what a channel passes on when one is pressed), after the list again.
    say("nefes-studyo", "en1", "what yoga classes do you have?");
    auto by_id = say("nefes-studyo", "en1", "hatha-yoga");
    EXPECT_TRUE(contains(std::string(by_id.at("reply").as_string()), titles[0])) << by_id.at("reply");

    say("nefes-studyo", "en1", "what yoga classes do you have?");
    auto by_ordinal = say("nefes-studyo", "en1", "the second one");
    EXPECT_TRUE(contains(std::string(by_ordinal.at("reply").as_string()), titles[1]))
        << by_ordinal.at("reply");
}

TEST_F(RichRepliesTest, TheDoneEventAndARetriedMessageIdCarryTheOptions) {
    start();
    auto streamed =
        chat("nefes-studyo", body_with("yoga dersleriniz neler?", "sse1", {{"message_id", "m-1"}}),
             {{"Accept", "text/event-stream"}});
    ASSERT_EQ(streamed.status, 200) << streamed.body;
    auto events = parse_events(streamed.body);
    ASSERT_FALSE(events.empty());
    ASSERT_EQ(events.back().name, "done");
    auto done = json::parse(events.back().data);
    EXPECT_EQ(field_of(done, "options", "title"), kYogaTr);
    EXPECT_TRUE(done.at("cards").as_array().empty());

    // The same message id again: the stored reply, options included, and no new turn.
    auto retried =
        chat("nefes-studyo", body_with("yoga dersleriniz neler?", "sse1", {{"message_id", "m-1"}}));
    ASSERT_EQ(retried.status, 200) << retried.body;
    auto again = json::parse(retried.body);
    EXPECT_EQ(again.at("reply"), done.at("reply"));
    EXPECT_EQ(again.at("options"), done.at("options"));
}

TEST_F(RichRepliesTest, AProductTheAssistantDescribesComesAsACard) {
    start();
    auto reply = say("gece-butik", "card1", "kadife sabahlık ne kadar?");
    ASSERT_EQ(reply.at("cards").as_array().size(), 1u) << json::serialize(reply);
    const auto& card = reply.at("cards").as_array().front().as_object();
    EXPECT_EQ(card.at("id").as_string(), "kadife-sabahlik");
    EXPECT_EQ(card.at("title").as_string(), "Kadife Sabahlık");
    EXPECT_DOUBLE_EQ(card.at("price").to_number<double>(), 599.0);
    EXPECT_EQ(card.at("currency").as_string(), "TRY");
    EXPECT_FALSE(card.contains("image_url"));  // the catalogue has none
}

// A remote model writes text only; what its reply offers comes from the tools it called.
TEST_F(RichRepliesTest, ARemoteModelsCatalogueListBecomesOptionsAndTwoPicksFromThem) {
    FakeOpenAi fake;
    fake.push_back(
        FakeOpenAiBehaviour::tool_calls({{"list_offerings", R"({"category": "Sabahlık"})", "c1"}}));
    fake.push_back(FakeOpenAiBehaviour::answer("Sabahlıklarımız: Kadife Sabahlık ve Pike Sabahlık."));
    fake.push_back(FakeOpenAiBehaviour::answer("Pike Sabahlık 429 TL."));
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"api_key", "k"},
                                            {"base_url", fake.base_url()},
                                            {"model", "gpt-4o-mini"},
                                            {"max_retries", 0}};
    });
    start();
    auto list = say("gece-butik", "r1", "sabahlıklarınız hangileri?");
    EXPECT_EQ(list.at("method").as_string(), "llm") << json::serialize(list);
    EXPECT_EQ(field_of(list, "options", "id"),
              (std::vector<std::string>{"kadife-sabahlik", "pike-sabahlik"}));
    EXPECT_EQ(field_of(list, "options", "title"),
              (std::vector<std::string>{"Kadife Sabahlık", "Pike Sabahlık"}));

    auto pick = say("gece-butik", "r1", "2.");
    EXPECT_EQ(pick.at("reply").as_string(), "Pike Sabahlık 429 TL.");
    // The model was asked about the title, as if the customer had typed it.
    const auto bodies = fake.bodies();
    ASSERT_EQ(bodies.size(), 3u);
    const auto& messages = bodies.back().at("messages").as_array();
    const std::string asked(messages.back().at("content").as_string());
    EXPECT_TRUE(contains(asked, "<customer_message>\nPike Sabahlık\n</customer_message>")) << asked;
    EXPECT_TRUE(fake.rejections().empty()) << fake.rejections().front();
}

TEST_F(RichRepliesTest, AGeminiModelsProductLookupBecomesACard) {
    FakeGemini fake;
    fake.push_back(FakeGeminiScript::function_calls(
        {{"get_product_info", json::object{{"product", "kadife sabahlık"}}}}));
    fake.push_back(FakeGeminiScript::answer("Kadife Sabahlık 599 TL, stokta var."));
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "gemini"},
                                            {"api_key", "test-key"},
                                            {"base_url", fake.base_url()},
                                            {"model", "gemini-2.0-flash"},
                                            {"max_retries", 0}};
    });
    start();
    auto reply = say("gece-butik", "g1", "kadife sabahlık var mı?");
    EXPECT_EQ(reply.at("method").as_string(), "llm") << json::serialize(reply);
    ASSERT_EQ(reply.at("cards").as_array().size(), 1u) << json::serialize(reply);
    EXPECT_EQ(reply.at("cards").as_array().front().at("id").as_string(), "kadife-sabahlik");
    EXPECT_DOUBLE_EQ(reply.at("cards").as_array().front().at("price").to_number<double>(), 599.0);
}

}  // namespace
}  // namespace tezgah::testing
