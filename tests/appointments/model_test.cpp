// A remote model books through tool calls: the fake OpenAI and Gemini servers call
// check_availability, then create_appointment, list_my_appointments and cancel_appointment, one
// customer turn each, through the real provider plugins and the appointments plugin. The booking
// is in the database, the model gets the tools' answers back, and the cancellation too.
#include "appointments/appointments_fixture.hpp"

#include "support/fake_gemini.hpp"
#include "support/fake_openai.hpp"

namespace tezgah::testing {
namespace {

const json::object kCheck{{"service", "reformer"}, {"date", "2026-12-03"}, {"time", "10:00"}};
const json::object kCreate{{"service", "reformer"},
                           {"date", "2026-12-03"},
                           {"time", "10:00"},
                           {"customer_name", "Ayşe Yılmaz"},
                           {"customer_phone", "+905551112233"}};

class ModelTest : public StudioTest {
protected:
    /// The engine starts in the test, once the fake model's address is in the studio's `llm`.
    void SetUp() override {}
    sdk::TurnReply say(const std::string& text) {
        sdk::InboundMessage m;
        m.tenant_id = kStudio;
        m.user_id = "c-model";
        m.channel = "webhook";
        m.text = text;
        auto r = e->handle(m);
        EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
        return r.ok() ? *r : sdk::TurnReply{};
    }
    static bool called(const sdk::TurnReply& reply, const std::string& tool) {
        for (const auto& c : reply.tool_calls)
            if (c.name == tool && c.ok) return true;
        return false;
    }
    /// What the model was told a tool answered, in the request after its call (as the wire carries it).
    static bool told(const std::string& request_body, const std::string& part) {
        return request_body.find(part) != std::string::npos;
    }

    /// The whole booking, one customer turn per tool; `script(tool, args)` queues the model's call
    /// of `tool` and then its answer.
    template <class Script, class LastBody>
    void book_list_and_cancel(Script script, LastBody last_body) {
        script("check_availability", kCheck, "Yarın 10:00 boş, ayırayım mı?");
        auto checked = say("yarın sabah 10'da reformer için yer var mı?");
        EXPECT_TRUE(called(checked, "check_availability")) << checked.reply;
        EXPECT_EQ(checked.reply, "Yarın 10:00 boş, ayırayım mı?");
        EXPECT_TRUE(told(last_body(), "\\\"available\\\":true") || told(last_body(), "\"available\":true"))
            << last_body();
        EXPECT_TRUE(stored().empty());

        script("create_appointment", kCreate, "Randevunuz oluşturuldu.");
        auto created = say("evet, adım Ayşe Yılmaz, telefonum +905551112233");
        EXPECT_TRUE(called(created, "create_appointment")) << created.reply;
        auto rows = stored();
        ASSERT_EQ(rows.size(), 1u);
        EXPECT_EQ(rows[0].user_id, "c-model");
        EXPECT_EQ(rows[0].channel, "webhook");
        EXPECT_EQ(rows[0].customer_name, "Ayşe Yılmaz");
        EXPECT_EQ(rows[0].service_id, "reformer-pilates");
        EXPECT_EQ(rows[0].start, studio_now() + std::chrono::hours(25));
        EXPECT_FALSE(rows[0].conversation_id.empty());
        EXPECT_TRUE(told(last_body(), rows[0].id)) << last_body();

        script("list_my_appointments", json::object{}, "Yarın 10:00'da reformer randevunuz var.");
        auto listed = say("randevularım neler?");
        EXPECT_TRUE(called(listed, "list_my_appointments"));
        EXPECT_TRUE(told(last_body(), rows[0].id)) << last_body();

        script("cancel_appointment", json::object{{"appointment_id", rows[0].id}}, "İptal ettim.");
        auto cancelled = say("onu iptal et lütfen");
        EXPECT_TRUE(called(cancelled, "cancel_appointment"));
        EXPECT_TRUE(told(last_body(), "12 saat")) << last_body();  // the policy went back to the model
        EXPECT_EQ(stored("cancelled").size(), 1u);
        EXPECT_TRUE(stored("confirmed").empty());
        EXPECT_EQ(events->actions(), (std::vector<std::string>{"created", "cancelled"}));
    }
};

TEST_P(ModelTest, AnOpenAiModelBooksListsAndCancelsThroughToolCalls) {
    FakeOpenAi model;
    llm = {{"provider", "openai"},
           {"api_key", "test-key"},
           {"base_url", model.base_url()},
           {"model", "gpt-4o-mini"},
           {"max_retries", 1}};
    StudioTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    book_list_and_cancel(
        [&](const std::string& tool, const json::object& args, const std::string& answer) {
            model.push_back(FakeOpenAiBehaviour::tool_calls({{tool, json::serialize(args)}}));
            model.push_back(FakeOpenAiBehaviour::answer(answer));
        },
        [&] { return model.requests().back().body; });
    EXPECT_TRUE(model.rejections().empty()) << model.rejections().front();
    // The tools were offered with their schemas.
    const auto first = model.bodies().front();
    EXPECT_NE(json::serialize(first.at("tools")).find("create_appointment"), std::string::npos);
}

TEST_P(ModelTest, AGeminiModelBooksListsAndCancelsThroughFunctionCalls) {
    FakeGemini model;
    llm = {{"provider", "gemini"},
           {"api_key", "test-key"},
           {"base_url", model.base_url()},
           {"model", "gemini-2.0-flash"},
           {"max_retries", 1}};
    StudioTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    book_list_and_cancel(
        [&](const std::string& tool, const json::object& args, const std::string& answer) {
            model.push_back(FakeGeminiScript::function_calls({{tool, args}}));
            model.push_back(FakeGeminiScript::answer(answer));
        },
        [&] { return model.requests().back().body; });
    EXPECT_TRUE(model.refusals().empty()) << model.refusals().front();
}

/// The model drives the engine; one backend is enough here (the tools' own tests run on both).
INSTANTIATE_TEST_SUITE_P(Sqlite, ModelTest, ::testing::Values(Backend::sqlite),
                         engine::testing::backend_name);

}  // namespace
}  // namespace tezgah::testing
