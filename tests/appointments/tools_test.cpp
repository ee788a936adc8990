// The five appointment tools through the engine, on SQLite and PostgreSQL: what a customer can
// book, see, move and cancel, every refusal named in the contract (never a booking on one), each
// customer kept to their own appointments, and the events operators follow.
#include "appointments/appointments_fixture.hpp"

#include <regex>

namespace tezgah::testing {
namespace {

std::string text_of(const json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

bool has_time(const json::array& slots, const std::string& time) {
    return std::any_of(slots.begin(), slots.end(),
                       [&](const json::value& s) { return s.at("time") == json::string(time); });
}

TEST_P(StudioTest, OnlyATenantThatEnablesTheToolHasABookingService) {
    EXPECT_NE(studio->appointments(), nullptr);
    EXPECT_NE(studio->tool_spec("create_appointment"), nullptr);
    auto shop = e->tenant("gece-butik");
    ASSERT_TRUE(shop.ok()) << shop.error().message;
    EXPECT_EQ((*shop)->appointments(), nullptr);
    EXPECT_EQ((*shop)->tool_spec("create_appointment"), nullptr);
}

TEST_P(StudioTest, ACustomerBooksAMisspelledServiceSeesItTakenAndListsItAsTheirs) {
    auto day = ok("check_availability", {{"service", "reformr"}, {"date", "2026-12-03"}}, "c-1");
    EXPECT_EQ(day.at("service").at("id"), "reformer-pilates") << json::serialize(day);
    EXPECT_EQ(day.at("service").at("group"), false);
    EXPECT_EQ(day.at("timezone"), "Europe/Istanbul");
    EXPECT_TRUE(has_time(day.at("slots").as_array(), "10:00")) << json::serialize(day);
    EXPECT_EQ(day.at("slots").at(0).at("resource"), "ayse");
    EXPECT_EQ(day.at("slots").at(0).at("resource_name"), "Ayşe Demir");

    auto booked = book("reformr", "2026-12-03", "10:00", "c-1");
    ASSERT_EQ(booked.at("booked"), true) << json::serialize(booked);
    const auto& a = booked.at("appointment").as_object();
    EXPECT_TRUE(std::regex_match(text_of(a.at("id")), std::regex("apt_[0-9a-f]{16}"))) << a.at("id");
    EXPECT_EQ(a.at("service"), "reformer-pilates");
    EXPECT_EQ(a.at("resource"), "ayse");
    EXPECT_EQ(a.at("start"), "2026-12-03T10:00:00+03:00");
    EXPECT_EQ(a.at("end"), "2026-12-03T10:50:00+03:00");
    EXPECT_EQ(a.at("status"), "confirmed");
    EXPECT_EQ(a.at("channel"), "whatsapp-cloud");
    EXPECT_EQ(a.at("created_at"), "2026-12-02T06:00:00Z");
    const auto rows = stored();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].user_id, "c-1");
    EXPECT_EQ(rows[0].buffer_minutes, 10);
    EXPECT_EQ(rows[0].conversation_id, "conv-c-1");

    // Taken now, and so is 10:30 (the session and its buffer hold Ayşe until 11:00); 11:00 is free.
    for (const char* time : {"10:00", "10:30"}) {
        auto again = ok("check_availability",
                        {{"service", "reformer-pilates"}, {"date", "2026-12-03"}, {"time", time}}, "c-2");
        EXPECT_EQ(again.at("requested").at("available"), false) << time;
        EXPECT_EQ(again.at("requested").at("reason"), "taken") << time;
        EXPECT_FALSE(again.at("alternatives").as_array().empty());
        EXPECT_LE(again.at("alternatives").as_array().size(), 3u);
        EXPECT_NE(text_of(again.at("message")).find("dolu"), std::string::npos) << again.at("message");
        EXPECT_FALSE(has_time(again.at("slots").as_array(), time));
    }
    auto eleven = ok("check_availability",
                     {{"service", "reformer-pilates"}, {"date", "2026-12-03"}, {"time", "11:00"}}, "c-2");
    EXPECT_EQ(eleven.at("requested").at("available"), true) << json::serialize(eleven);

    auto mine = ok("list_my_appointments", {}, "c-1");
    ASSERT_EQ(mine.at("appointments").as_array().size(), 1u);
    EXPECT_EQ(mine.at("appointments").at(0).at("id"), a.at("id"));
    EXPECT_TRUE(ok("list_my_appointments", {}, "c-2").at("appointments").as_array().empty());
    EXPECT_EQ(events->actions(), std::vector<std::string>{"created"});
    EXPECT_EQ(events->events().at(0).at("by"), "customer");
    EXPECT_EQ(events->events().at(0).at("appointment").at("id"), a.at("id"));
}

TEST_P(StudioTest, AnotherCustomerCanNeitherSeeNorCancelNorMoveMine) {
    auto booked = book("reformer-pilates", "2026-12-03", "10:00", "c-1");
    ASSERT_EQ(booked.at("booked"), true);
    const std::string id = text_of(booked.at("appointment").at("id"));
    auto cancelled = call("cancel_appointment", {{"appointment_id", id}}, "c-2");
    ASSERT_FALSE(cancelled.ok());
    EXPECT_EQ(cancelled.error().code, "not_found");
    auto unknown = call("cancel_appointment", {{"appointment_id", "apt_0000000000000000"}}, "c-2");
    ASSERT_FALSE(unknown.ok());
    // The same answer as for an id that does not exist: nothing tells the two apart.
    EXPECT_EQ(unknown.error().code, "not_found");
    EXPECT_EQ(cancelled.error().message.find("c-1"), std::string::npos) << cancelled.error().message;
    auto moved = call("reschedule_appointment",
                      {{"appointment_id", id}, {"date", "2026-12-03"}, {"time", "14:00"}}, "c-2");
    ASSERT_FALSE(moved.ok());
    EXPECT_EQ(moved.error().code, "not_found");
    // A customer without a user id owns nothing, not even the operator's bookings (user_id "").
    EXPECT_FALSE(call("cancel_appointment", {{"appointment_id", id}}, "").ok());
    const auto rows = stored();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].status, "confirmed");
    EXPECT_EQ(rows[0].start, studio_now() + std::chrono::hours(24 + 1));
}

TEST_P(StudioTest, CancellingGivesThePolicyAndSaysWhenItIsLate) {
    auto tomorrow = book("reformer-pilates", "2026-12-03", "10:00", "c-1");
    auto today = book("reformer-pilates", "2026-12-02", "15:00", "c-1");
    ASSERT_EQ(tomorrow.at("booked"), true) << json::serialize(tomorrow);
    ASSERT_EQ(today.at("booked"), true) << json::serialize(today);
    EXPECT_EQ(ok("list_my_appointments", {}, "c-1").at("appointments").at(0).at("start"),
              "2026-12-02T15:00:00+03:00");

    // 25 hours ahead: within the studio's "12 saat" rule.
    auto early = ok("cancel_appointment", {{"appointment_id", tomorrow.at("appointment").at("id")}}, "c-1");
    EXPECT_EQ(early.at("cancelled"), true) << json::serialize(early);
    EXPECT_EQ(early.at("policy"), "Dersten 12 saat öncesine kadar ücretsiz iptal.");
    EXPECT_EQ(early.at("late"), false);
    EXPECT_EQ(early.at("appointment").at("status"), "cancelled");
    // 6 hours ahead: late.
    auto late = ok("cancel_appointment", {{"appointment_id", today.at("appointment").at("id")}}, "c-1");
    EXPECT_EQ(late.at("cancelled"), true);
    EXPECT_EQ(late.at("late"), true);
    // Once is enough.
    auto twice = ok("cancel_appointment", {{"appointment_id", tomorrow.at("appointment").at("id")}}, "c-1");
    EXPECT_EQ(twice.at("cancelled"), false);
    EXPECT_EQ(twice.at("reason"), "already_cancelled");
    EXPECT_TRUE(ok("list_my_appointments", {}, "c-1").at("appointments").as_array().empty());
    EXPECT_EQ(stored("cancelled").size(), 2u);
    // The freed time can be booked by someone else.
    EXPECT_EQ(book("reformer-pilates", "2026-12-03", "10:00", "c-2").at("booked"), true);
    EXPECT_EQ(events->actions(),
              (std::vector<std::string>{"created", "created", "cancelled", "cancelled", "created"}));

    // Past: the clock moves beyond a booking's start.
    auto later = book("reformer-pilates", "2026-12-03", "12:00", "c-3");
    ASSERT_EQ(later.at("booked"), true);
    clock.set(studio_now() + std::chrono::hours(30));
    auto past = ok("cancel_appointment", {{"appointment_id", later.at("appointment").at("id")}}, "c-3");
    EXPECT_EQ(past.at("cancelled"), false);
    EXPECT_EQ(past.at("reason"), "past");
}

TEST_P(StudioTest, ReschedulingKeepsTheIdAndNeverTakesAnotherCustomersPlace) {
    auto mine = book("reformer-pilates", "2026-12-03", "10:00", "c-1");
    ASSERT_EQ(mine.at("booked"), true);
    const std::string id = text_of(mine.at("appointment").at("id"));
    auto moved = ok("reschedule_appointment",
                    {{"appointment_id", id}, {"date", "2026-12-03"}, {"time", "14:00"}}, "c-1");
    ASSERT_EQ(moved.at("rescheduled"), true) << json::serialize(moved);
    EXPECT_EQ(moved.at("appointment").at("id"), json::string(id));
    EXPECT_EQ(moved.at("appointment").at("start"), "2026-12-03T14:00:00+03:00");
    EXPECT_EQ(moved.at("previous").at("start"), "2026-12-03T10:00:00+03:00");
    // Half an hour later overlaps only its own old place: allowed.
    auto nudged = ok("reschedule_appointment",
                     {{"appointment_id", id}, {"date", "2026-12-03"}, {"time", "14:30"}}, "c-1");
    EXPECT_EQ(nudged.at("rescheduled"), true) << json::serialize(nudged);
    // 10:00 is free again for another customer, who then holds 16:00 too.
    EXPECT_EQ(book("reformer-pilates", "2026-12-03", "10:00", "c-2").at("booked"), true);
    EXPECT_EQ(book("reformer-pilates", "2026-12-03", "16:00", "c-2").at("booked"), true);
    auto refused = ok("reschedule_appointment",
                      {{"appointment_id", id}, {"date", "2026-12-03"}, {"time", "16:00"}}, "c-1", "en");
    EXPECT_EQ(refused.at("rescheduled"), false);
    EXPECT_EQ(refused.at("reason"), "taken");
    EXPECT_FALSE(refused.at("alternatives").as_array().empty());
    EXPECT_NE(text_of(refused.at("message")).find("taken"), std::string::npos) << refused.at("message");
    auto refused_past = ok("reschedule_appointment",
                           {{"appointment_id", id}, {"date", "2026-12-01"}, {"time", "10:00"}}, "c-1");
    EXPECT_EQ(refused_past.at("reason"), "past");

    const auto rows = stored();
    ASSERT_EQ(rows.size(), 3u);
    const auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& a) { return a.id == id; });
    ASSERT_NE(it, rows.end());
    EXPECT_EQ(it->start, studio_now() + std::chrono::hours(29) + std::chrono::minutes(30));  // 14:30 local
    EXPECT_FALSE(it->reminder_at.has_value());
    EXPECT_EQ(events->actions(),
              (std::vector<std::string>{"created", "rescheduled", "rescheduled", "created", "created"}));
    // The business's notice of a move says where it was.
    const auto first_move = events->events().at(1);
    EXPECT_EQ(first_move.at("previous").at("start"), "2026-12-03T10:00:00+03:00")
        << json::serialize(first_move);
    EXPECT_EQ(first_move.at("appointment").at("start"), "2026-12-03T14:00:00+03:00");
}

TEST_P(StudioTest, EveryRefusalIsNamedAndNothingIsBookedOnOne) {
    struct Case {
        std::string service, date, time, reason;
    };
    const std::vector<Case> cases = {
        {"reformer-pilates", "2026-12-01", "10:00", "past"},
        {"reformer-pilates", "2026-12-02", "08:30", "past"},
        {"reformer-pilates", "2026-12-02", "09:30", "too_soon"},
        {"reformer-pilates", "2027-03-01", "10:00", "too_far"},
        {"reformer-pilates", "2026-12-06", "10:00", "closed_day"},     // Ayşe does not work on Sundays
        {"reformer-pilates", "2026-12-08", "10:00", "closed_day"},     // the studio's closure
        {"reformer-pilates", "2026-12-03", "19:00", "outside_hours"},  // Ayşe works until 18:00
        {"reformer-pilates", "2026-12-03", "17:30", "outside_hours"},  // it would end after 18:00
        {"reformer-pilates", "2026-12-03", "10:15", "off_grid"},
        {"mat-pilates", "2026-12-02", "18:00", "off_grid"},  // the class starts at 19:00 only
    };
    for (const auto& c : cases) {
        auto checked =
            ok("check_availability", {{"service", c.service}, {"date", c.date}, {"time", c.time}}, "c-1");
        EXPECT_EQ(checked.at("requested").at("available"), false) << c.date << " " << c.time;
        EXPECT_EQ(checked.at("requested").at("reason"), json::string(c.reason)) << c.date << " " << c.time;
        EXPECT_FALSE(text_of(checked.at("message")).empty());
        auto refused = book(c.service, c.date, c.time, "c-1");
        EXPECT_EQ(refused.at("booked"), false) << c.date << " " << c.time;
        EXPECT_EQ(refused.at("reason"), json::string(c.reason)) << c.date << " " << c.time;
        EXPECT_FALSE(text_of(refused.at("message")).empty());
        EXPECT_LE(refused.at("alternatives").as_array().size(), 3u);
    }
    // A refused time is offered its nearest free neighbours, on the day or the days after.
    auto off_grid = book("reformer-pilates", "2026-12-03", "10:15", "c-1", "en");
    ASSERT_EQ(off_grid.at("alternatives").as_array().size(), 3u) << json::serialize(off_grid);
    EXPECT_EQ(off_grid.at("alternatives").at(0).at("date"), "2026-12-03");
    EXPECT_NE(text_of(off_grid.at("message")).find("every 30 minutes"), std::string::npos)
        << off_grid.at("message");
    // Beyond the horizon (today + 60 days = 2027-01-31): the free times of its last week.
    auto too_far = book("reformer-pilates", "2027-03-01", "10:00", "c-1");
    ASSERT_FALSE(too_far.at("alternatives").as_array().empty()) << json::serialize(too_far);
    EXPECT_LE(text_of(too_far.at("alternatives").at(0).at("date")), "2027-01-31");
    EXPECT_GE(text_of(too_far.at("alternatives").at(0).at("date")), "2027-01-25");
    auto sunday = book("reformer-pilates", "2026-12-06", "10:00", "c-1");
    ASSERT_FALSE(sunday.at("alternatives").as_array().empty());
    EXPECT_EQ(sunday.at("alternatives").at(0).at("date"), "2026-12-07");

    // Arguments: a clear error, never a booking.
    const auto error_of = [&](json::object args) {
        auto r = call("create_appointment", args, "c-1");
        return r.ok() ? std::string("ok: ") + json::serialize(*r) : r.error().code + ": " + r.error().message;
    };
    const json::object good{{"service", "reformer-pilates"},
                            {"date", "2026-12-03"},
                            {"time", "10:00"},
                            {"customer_name", "Ayşe Yılmaz"},
                            {"customer_phone", "+905551112233"}};
    const auto with = [&](const char* key, json::value value) {
        json::object args = good;
        args[key] = std::move(value);
        return args;
    };
    EXPECT_TRUE(error_of(with("service", "kickboks")).starts_with("not_found: service"))
        << error_of(with("service", "kickboks"));
    EXPECT_TRUE(error_of(with("service", "aylik-paket")).starts_with("not_found"))
        << "a product is not a service";
    EXPECT_TRUE(error_of(with("date", "03.12.2026")).starts_with("invalid_argument: date"))
        << error_of(with("date", "03.12.2026"));
    EXPECT_TRUE(error_of(with("date", "2026-02-30")).starts_with("invalid_argument: date"));
    EXPECT_TRUE(error_of(with("time", "25:00")).starts_with("invalid_argument: time"));
    EXPECT_TRUE(error_of(with("time", "10am")).starts_with("invalid_argument: time"));
    EXPECT_TRUE(error_of(with("customer_name", "  ")).starts_with("invalid_argument: customer_name"));
    EXPECT_TRUE(error_of(with("customer_phone", "")).starts_with("invalid_argument: customer_phone"));
    EXPECT_TRUE(stored().empty());
    EXPECT_TRUE(events->actions().empty());
    // And the same arguments, well formed, book.
    EXPECT_TRUE(error_of(good).starts_with("ok: ")) << error_of(good);
}

TEST_P(StudioTest, MessagesAreInTheTurnsLanguage) {
    ASSERT_EQ(book("reformer-pilates", "2026-12-03", "10:00", "c-1").at("booked"), true);
    auto tr = book("reformer-pilates", "2026-12-03", "10:00", "c-2", "tr");
    auto en = book("reformer-pilates", "2026-12-03", "10:00", "c-2", "en");
    EXPECT_NE(text_of(tr.at("message")).find("3 Aralık 10:00 dolu"), std::string::npos) << tr.at("message");
    EXPECT_NE(text_of(tr.at("message")).find("En yakın uygun saatler"), std::string::npos)
        << tr.at("message");
    EXPECT_NE(text_of(en.at("message")).find("Dec 3 10:00 is taken"), std::string::npos) << en.at("message");
    auto full_day =
        ok("check_availability", {{"service", "reformer-pilates"}, {"date", "2026-12-06"}}, "c-2", "en");
    EXPECT_TRUE(full_day.at("slots").as_array().empty());
    EXPECT_FALSE(full_day.at("alternatives").as_array().empty());
    EXPECT_NE(text_of(full_day.at("message")).find("No free times"), std::string::npos)
        << full_day.at("message");
}

TEST_P(StudioTest, AGroupClassTakesAsManyAsItHasPlaces) {
    auto before = ok("check_availability", {{"service", "mat pilates"}, {"date", "2026-12-02"}}, "c-0");
    ASSERT_EQ(before.at("slots").as_array().size(), 1u) << json::serialize(before);
    EXPECT_EQ(before.at("service").at("group"), true);
    EXPECT_EQ(before.at("slots").at(0).at("time"), "19:00");
    EXPECT_EQ(before.at("slots").at(0).at("places_left"), 8);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(book("mat-pilates", "2026-12-02", "19:00", "c-" + std::to_string(i)).at("booked"), true);
    auto after = ok("check_availability", {{"service", "mat-pilates"}, {"date", "2026-12-02"}}, "c-0");
    EXPECT_EQ(after.at("slots").at(0).at("places_left"), 5);
}

TEST_P(StudioTest, TheToolsSettingsShapeTheGrid) {
    // The default grid of 30 minutes offers 09:00, 09:30...; the studio's own is checked in
    // EveryRefusalIsNamed. Here a second engine would be needed for other settings: see
    // SettingsTest below.
    auto day = ok("check_availability", {{"service", "reformer-pilates"}, {"date", "2026-12-03"}}, "c-1");
    const auto& slots = day.at("slots").as_array();
    ASSERT_GE(slots.size(), 2u);
    EXPECT_EQ(slots.at(0).at("time"), "09:00");
    EXPECT_EQ(slots.at(1).at("time"), "09:30");
    EXPECT_EQ(slots.back().at("time"), "17:00");  // ends 17:50, before Ayşe leaves at 18:00
}

class SettingsTest : public StudioTest {
protected:
    void SetUp() override {
        settings = {{"slot_minutes", 60}, {"min_notice_minutes", 24 * 60}, {"max_days_ahead", 3}};
        StudioTest::SetUp();
    }
};

TEST_P(SettingsTest, GridNoticeAndHorizonComeFromTheTenantsToolEntry) {
    auto day = ok("check_availability", {{"service", "reformer-pilates"}, {"date", "2026-12-04"}}, "c-1");
    const auto& slots = day.at("slots").as_array();
    ASSERT_FALSE(slots.empty());
    EXPECT_TRUE(has_time(slots, "10:00"));
    EXPECT_FALSE(has_time(slots, "10:30"));
    EXPECT_EQ(book("reformer-pilates", "2026-12-04", "08:00", "c-1").at("reason"), "outside_hours");
    EXPECT_EQ(book("reformer-pilates", "2026-12-03", "08:00", "c-1").at("reason"), "too_soon");
    EXPECT_EQ(book("reformer-pilates", "2026-12-07", "10:00", "c-1").at("reason"), "too_far");
    EXPECT_EQ(book("reformer-pilates", "2026-12-04", "10:30", "c-1").at("reason"), "off_grid");
    EXPECT_EQ(book("reformer-pilates", "2026-12-04", "10:00", "c-1").at("booked"), true);
}

TEST_P(StudioTest, OperatorChangesThroughTheServiceKeepTheRules) {
    auto& bookings = e->bookings();
    const auto op = apt::Actor::operator_();
    auto booked = bookings.create_appointment(*studio,
                                              {{"service", "reformer-pilates"},
                                               {"date", "2026-12-03"},
                                               {"time", "10:00"},
                                               {"customer_name", "Telefonla Arayan"},
                                               {"customer_phone", "+905550000000"}},
                                              op);
    ASSERT_TRUE(booked.ok());
    const std::string id = text_of(booked->at("appointment").at("id"));
    EXPECT_EQ(stored().at(0).user_id, "");
    auto cancelled =
        bookings.update(*studio, id, apt::AppointmentPatch{.status = std::string("cancelled")}, op);
    ASSERT_TRUE(cancelled.ok());
    EXPECT_EQ(cancelled->at("appointment").at("status"), "cancelled");
    // Someone takes the place; confirming the cancelled one again is refused.
    ASSERT_EQ(book("reformer-pilates", "2026-12-03", "10:00", "c-1").at("booked"), true);
    auto again = bookings.update(*studio, id, apt::AppointmentPatch{.status = std::string("confirmed")}, op);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->at("reason"), "taken") << json::serialize(*again);
    EXPECT_EQ(stored("confirmed").size(), 1u);
    auto noted =
        bookings.update(*studio, id, apt::AppointmentPatch{.notes = std::string("aradı, gelemeyecek")}, op);
    ASSERT_TRUE(noted.ok());
    EXPECT_EQ(noted->at("appointment").at("notes"), "aradı, gelemeyecek");
    EXPECT_EQ(events->events().back().at("by"), "operator");
    EXPECT_EQ(events->actions(), (std::vector<std::string>{"created", "cancelled", "created", "updated"}));
}

TEST_P(StudioTest, ToolSpecsTellAModelWhatItNeeds) {
    for (const char* name : {"check_availability", "create_appointment", "list_my_appointments",
                             "cancel_appointment", "reschedule_appointment"}) {
        const auto* spec = studio->tool_spec(name);
        ASSERT_NE(spec, nullptr) << name;
        EXPECT_FALSE(spec->cacheable) << name;
    }
    EXPECT_TRUE(studio->tool_spec("check_availability")->read_only);
    EXPECT_FALSE(studio->tool_spec("create_appointment")->read_only);
}

TEZGAH_STORE_BACKENDS(StudioTest);
TEZGAH_STORE_BACKENDS(SettingsTest);

}  // namespace
}  // namespace tezgah::testing
