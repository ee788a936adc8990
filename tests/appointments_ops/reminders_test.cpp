// Reminders before appointments, through the outbox to the fake Graph API of the whatsapp-cloud
// channel (tests/channels/fake_graph.hpp), on both databases: one reminder reminder_hours before
// the start and never again (another sweep, a restart, a second process), none for a cancelled
// appointment or one booked where no message can be sent, a new one after a reschedule, the
// channel's template outside the customer's 24-hour window and plain text in their language within
// it. In process with a fixed clock, and through `tezgah serve --clock`.
#include "appointments_ops/appointment_rows.hpp"

#include "appointments/reminders.hpp"
#include "channels/fake_graph.hpp"
#include "outbox/outbox_fixture.hpp"
#include "pipeline/engine.hpp"
#include "support/serve_process.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace tezgah::testing {
namespace {

namespace appointments = engine::appointments;
using engine::Backend;
using engine::testing::ScratchDatabase;
using namespace std::chrono_literals;

constexpr const char* kPhone = "106540352242922";
constexpr const char* kToken = "EAAtest-token";
constexpr const char* kTenant = "nefes-studyo";
constexpr const char* kElif = "905551112233";  // never wrote: her window is closed
constexpr const char* kJohn = "905559998877";  // writes in English during the test

std::chrono::system_clock::time_point at(const std::string& iso) {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_of(iso)));
}

class Reminders : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        ::setenv("TEZGAH_NEFES_STUDYO__WA_TOKEN", kToken, 1);
        copy_fixtures(dir.path() / "tenants");
        // The studio books through WhatsApp, and maps a reminder template for outside the window.
        edit_json(dir.path() / "tenants" / kTenant / "tenant.json", [&](json::value& v) {
            auto& manifest = v.as_object();
            manifest["channels"].as_object()["whatsapp-cloud"] = json::object{
                {"phone_number_id", kPhone},
                {"access_token", "${TEZGAH_NEFES_STUDYO__WA_TOKEN}"},
                {"app_secret", "app-secret-for-tests"},
                {"verify_token", "verify-me"},
                {"api_base_url", graph.url()},
                {"templates", json::object{{"appointment_reminder",
                                            json::object{{"name", "randevu_hatirlatma"},
                                                         {"language", "tr"},
                                                         {"variables", json::array{"customer_name", "service",
                                                                                   "date", "time"}}}}}}};
            manifest["tools"].as_array().push_back(
                json::object{{"name", "appointments"}, {"reminder_hours", 24}});
        });
        // The schema, as the engine makes it, before rows are written.
        auto db = engine::Database::open(scratch->url());
        ASSERT_TRUE(db) << db.error().message;
        sql = engine::testing::open_sql_session(scratch->url());
        ASSERT_TRUE(sql);
    }
    void TearDown() override {
        reminders.reset();
        engine.reset();
    }

    /// An engine on the database with the fixed clock, and the reminders over it (as a restart
    /// makes them anew).
    void start() {
        reminders.reset();
        engine.reset();
        engine::EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = scratch->url();
        o.plugin_path = {plugin_dir()};
        engine = std::make_unique<engine::Engine>(o);
        engine->set_clock(&clock);
        auto started = engine->start();
        ASSERT_TRUE(started.ok()) << started.error().message;
        auto* e = engine.get();
        reminders = std::make_unique<appointments::Reminders>(
            e->database(), e->outbox(), [e](const std::string& id) { return e->tenant(id); },
            [] {
                return std::vector<std::string>{"gece-butik", kTenant};
            },
            [this] { return clock.now(); });
    }

    /// A sweep, then the outbox sends what is due: how many reminders the sweep queued.
    std::size_t sweep() {
        const auto queued = reminders->sweep();
        engine->outbox().run_due();
        return queued;
    }

    std::optional<long long> reminder_at(const std::string& id) {
        long long value = 0;
        soci::indicator ind = soci::i_null;
        *sql << "SELECT reminder_at FROM appointments WHERE id = :i", soci::into(value, ind), soci::use(id);
        if (ind != soci::i_ok) return std::nullopt;
        return value;
    }

    AppointmentRow row(const std::string& id, const std::string& start, const std::string& booked) {
        AppointmentRow a;
        a.id = id;
        a.start = ms_of(start);
        a.created = ms_of(booked);
        return a;
    }

    static std::vector<std::string> parameters(const json::object& body) {
        std::vector<std::string> out;
        for (const auto& p : body.at("template").at("components").at(0).at("parameters").as_array())
            out.emplace_back(p.at("text").as_string());
        return out;
    }

    TempDir dir;
    FakeGraph graph{kPhone, kToken};
    std::unique_ptr<ScratchDatabase> scratch;
    std::unique_ptr<soci::session> sql;
    sdk::testing::FakeClock clock;
    std::unique_ptr<engine::Engine> engine;
    std::unique_ptr<appointments::Reminders> reminders;
};

TEST_P(Reminders, OneReminderAtTheRightTimeAsTheTemplateOutsideTheWindowAndNeverAgain) {
    // Tuesday 1 December, 09:00 in Istanbul; the appointment is Wednesday 15:00, booked last week.
    clock.set(at("2026-12-01T09:00:00+03:00"));
    insert_appointment(*sql,
                       row("apt_000000000000000a", "2026-12-02T15:00:00+03:00", "2026-11-24T10:00:00+03:00"));
    auto cancelled = row("apt_000000000000000b", "2026-12-02T15:00:00+03:00", "2026-11-24T10:00:00+03:00");
    cancelled.status = "cancelled";
    cancelled.user_id = "905550000001";
    insert_appointment(*sql, cancelled);
    auto by_api = row("apt_000000000000000c", "2026-12-02T15:00:00+03:00", "2026-11-24T10:00:00+03:00");
    by_api.channel = "api";  // the chat API cannot be written to
    by_api.user_id = "api-user";
    insert_appointment(*sql, by_api);
    auto by_operator = row("apt_000000000000000d", "2026-12-02T15:00:00+03:00", "2026-11-24T10:00:00+03:00");
    by_operator.channel = "";
    by_operator.user_id = "";
    insert_appointment(*sql, by_operator);
    // Booked this morning for this afternoon: the booking's confirmation was its reminder.
    auto late = row("apt_000000000000000e", "2026-12-01T14:00:00+03:00", "2026-12-01T08:30:00+03:00");
    late.user_id = "905550000002";
    insert_appointment(*sql, late);
    start();

    EXPECT_EQ(sweep(), 0u);
    clock.set(at("2026-12-01T14:59:00+03:00"));  // a minute before it is due
    EXPECT_EQ(sweep(), 0u);
    EXPECT_TRUE(graph.accepted().empty());
    EXPECT_FALSE(reminder_at("apt_000000000000000a"));

    clock.set(at("2026-12-01T15:00:30+03:00"));
    EXPECT_EQ(sweep(), 1u);
    auto sent = graph.accepted();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(graph.violations().empty());
    EXPECT_EQ(sent[0].at("to"), kElif);
    // Elif never wrote: outside the window, as the channel's reminder template, with the figures.
    ASSERT_EQ(sent[0].at("type"), "template") << json::serialize(sent[0]);
    EXPECT_EQ(sent[0].at("template").at("name"), "randevu_hatirlatma");
    EXPECT_EQ(parameters(sent[0]), (std::vector<std::string>{"Elif Şahin", "Reformer Pilates (Birebir)",
                                                             "2 Aralık Çarşamba", "15:00"}));
    EXPECT_EQ(*reminder_at("apt_000000000000000a"), ms_of("2026-12-01T15:00:30+03:00"));

    // Neither the next sweeps nor a restart send it again; the others are settled, never sent.
    clock.set(at("2026-12-01T15:01:30+03:00"));
    EXPECT_EQ(sweep(), 0u);
    start();
    EXPECT_EQ(sweep(), 0u);
    clock.set(at("2026-12-02T14:00:00+03:00"));
    EXPECT_EQ(sweep(), 0u);
    EXPECT_EQ(graph.accepted().size(), 1u);
    EXPECT_FALSE(reminder_at("apt_000000000000000b"));  // cancelled: never claimed
    for (const char* settled : {"apt_000000000000000c", "apt_000000000000000d", "apt_000000000000000e"})
        EXPECT_TRUE(reminder_at(settled)) << settled;
    auto rows = engine->database().outbox_messages(kTenant, 10);
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].idempotency_key,
              "reminder:apt_000000000000000a:" + std::to_string(ms_of("2026-12-02T15:00:00+03:00")));
    EXPECT_EQ((*rows)[0].state, "sent");
}

TEST_P(Reminders, AMovedAppointmentIsRemindedAgainAndWithinTheWindowInTheCustomersLanguage) {
    clock.set(at("2026-12-01T14:00:00+03:00"));
    start();
    // John writes in English on WhatsApp: his window is open for 24 hours.
    sdk::InboundMessage hello;
    hello.tenant_id = kTenant;
    hello.user_id = kJohn;
    hello.channel = "whatsapp-cloud";
    hello.text = "Hello, how much is a private reformer pilates session?";
    auto reply = engine->handle(hello);
    ASSERT_TRUE(reply) << reply.error().message;
    ASSERT_EQ(reply->language, "en");
    auto booked = row("apt_00000000000000f1", "2026-12-02T10:00:00+03:00", "2026-11-28T10:00:00+03:00");
    booked.user_id = kJohn;
    booked.customer_name = "John Smith";
    booked.conversation_id = reply->conversation_id;
    insert_appointment(*sql, booked);

    EXPECT_EQ(sweep(), 1u);
    auto sent = graph.accepted();
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_EQ(sent[0].at("type"), "text") << json::serialize(sent[0]);
    const std::string first(sent[0].at("text").at("body").as_string());
    for (const char* part : {"Hello John Smith", "Nefes Pilates & Yoga Stüdyosu",
                             "Reformer Pilates (Private)", "Wednesday 2 December", "10:00"})
        EXPECT_NE(first.find(part), std::string::npos) << part << " not in: " << first;

    // Moved to Thursday 11:00 (the store makes its reminder due again): reminded of the new time
    // once it is 24 hours away, and only then.
    const auto moved = appointments::reschedule(
        engine->database(), kTenant, "apt_00000000000000f1", at("2026-12-03T11:00:00+03:00"),
        at("2026-12-03T11:50:00+03:00"), clock.now(),
        [](const std::vector<appointments::Busy>&) { return appointments::Refusal::none; });
    ASSERT_TRUE(moved) << moved.error().message;
    ASSERT_TRUE(moved->done) << moved->reason;
    EXPECT_FALSE(reminder_at("apt_00000000000000f1"));
    EXPECT_EQ(sweep(), 0u);
    clock.set(at("2026-12-02T11:00:00+03:00"));
    EXPECT_EQ(sweep(), 1u);
    EXPECT_EQ(sweep(), 0u);
    sent = graph.accepted();
    ASSERT_EQ(sent.size(), 2u);
    ASSERT_EQ(sent[1].at("type"), "text") << json::serialize(sent[1]);  // he wrote 21 hours ago
    const std::string second(sent[1].at("text").at("body").as_string());
    EXPECT_NE(second.find("Thursday 3 December"), std::string::npos) << second;
    EXPECT_NE(second.find("11:00"), std::string::npos) << second;
}

TEST_P(Reminders, ServeSendsDueRemindersAtStartAndARestartSendsNoneAgain) {
    insert_appointment(*sql,
                       row("apt_00000000000000s1", "2026-12-02T15:00:00+03:00", "2026-11-24T10:00:00+03:00"));
    auto later = row("apt_00000000000000s2", "2026-12-02T16:00:00+03:00", "2026-11-24T10:00:00+03:00");
    later.user_id = "905550000003";
    insert_appointment(*sql, later);
    auto serve = [&](const std::string& clock_at) {
        auto process = std::make_unique<ServeProcess>(
            dir.path(), "127.0.0.1:0",
            std::vector<std::string>{"--db", scratch->url(), "--clock", clock_at, "--outbox-retry-ms", "50"});
        EXPECT_GT(port_of(process->ready_line()), 0) << slurp(dir.path() / "serve.log");
        return process;
    };
    {
        // 15:30 the day before: the first is due, the second not yet.
        auto process = serve("2026-12-01T15:30:00+03:00");
        ASSERT_TRUE(eventually([&] { return graph.accepted().size() >= 1; }))
            << slurp(dir.path() / "serve.log");
    }  // killed (SIGKILL)
    {
        // 16:30: the restart's first sweep finds the second due, and the first reminded already.
        auto process = serve("2026-12-01T16:30:00+03:00");
        ASSERT_TRUE(eventually([&] { return graph.accepted().size() >= 2; }))
            << slurp(dir.path() / "serve.log");
        std::this_thread::sleep_for(1500ms);  // an outbox poll and more: nothing else comes
    }
    const auto sent = graph.accepted();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].at("to"), kElif);
    EXPECT_EQ(sent[1].at("to"), "905550000003");
    for (const auto& body : sent) EXPECT_EQ(body.at("type"), "template");
}

TEZGAH_STORE_BACKENDS(Reminders);

}  // namespace
}  // namespace tezgah::testing
