// The appointments tool alone, through the SDK fakes: its five specs and their schemas, the
// forwarding of each call to the host's booking service, the clear error without one, and the
// settings it accepts and refuses. The booking itself is tested through the engine in
// tests/appointments.
#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <map>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::plugins::appointments {
namespace {

namespace json = boost::json;

std::string logged(const sdk::testing::FakeHost& host) {
    std::string out;
    for (const auto& line : host.log.lines) out += line.second + "\n";
    return out;
}

/// Records what it was asked and answers with the tool's name and the turn's customer.
class RecordingBook final : public sdk::AppointmentBook {
public:
    sdk::Result<json::value> check_availability(const json::object& a, const sdk::TurnContext& t) override {
        return answer("check_availability", a, t);
    }
    sdk::Result<json::value> create_appointment(const json::object& a, const sdk::TurnContext& t) override {
        return answer("create_appointment", a, t);
    }
    sdk::Result<json::value> list_my_appointments(const json::object& a, const sdk::TurnContext& t) override {
        return answer("list_my_appointments", a, t);
    }
    sdk::Result<json::value> cancel_appointment(const json::object& a, const sdk::TurnContext& t) override {
        return answer("cancel_appointment", a, t);
    }
    sdk::Result<json::value> reschedule_appointment(const json::object& a,
                                                    const sdk::TurnContext& t) override {
        return answer("reschedule_appointment", a, t);
    }
    std::vector<std::string> calls;

private:
    sdk::Result<json::value> answer(const std::string& tool, const json::object& a,
                                    const sdk::TurnContext& t) {
        calls.push_back(tool);
        return json::value(json::object{{"tool", tool}, {"arguments", a}, {"user", t.user_id}});
    }
};

TEST(AppointmentsTool, DeclaresFiveToolsOnlyTheReadingOnesReadOnlyNoneCacheable) {
    sdk::testing::FakeHost host;
    auto plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host);
    auto* tool = dynamic_cast<sdk::Tool*>(plugin.get());
    ASSERT_NE(tool, nullptr) << logged(host);
    std::map<std::string, sdk::ToolSpec> specs;
    for (auto& spec : tool->specs()) specs[spec.name] = spec;
    ASSERT_EQ(specs.size(), 5u);
    for (const auto& [name, spec] : specs) {
        EXPECT_FALSE(spec.cacheable) << name;
        EXPECT_EQ(spec.read_only, name == "check_availability" || name == "list_my_appointments") << name;
        EXPECT_FALSE(spec.description.empty()) << name;
    }
    EXPECT_NE(specs["create_appointment"].description.find("confirm"), std::string::npos);
    EXPECT_NE(specs["check_availability"]
                  .parameters.at("properties")
                  .at("date")
                  .at("description")
                  .as_string()
                  .find("YYYY-MM-DD"),
              std::string::npos);

    const auto& create = specs["create_appointment"].parameters;
    EXPECT_TRUE(sdk::validate_json(json::object{{"service", "reformer"},
                                                {"date", "2026-12-03"},
                                                {"time", "10:00"},
                                                {"customer_name", "Ayşe"},
                                                {"customer_phone", "+905551112233"}},
                                   create)
                    .ok());
    EXPECT_FALSE(sdk::validate_json(
                     json::object{{"service", "reformer"}, {"date", "2026-12-03"}, {"time", "10:00"}}, create)
                     .ok());
    EXPECT_FALSE(sdk::validate_json(json::object{{"appointment_id", "apt_1"}, {"extra", 1}},
                                    specs["cancel_appointment"].parameters)
                     .ok());
    EXPECT_TRUE(sdk::validate_json(json::object{}, specs["list_my_appointments"].parameters).ok());
}

TEST(AppointmentsTool, ForwardsEveryCallToTheHostsBookingService) {
    sdk::testing::FakeHost host;
    RecordingBook book;
    host.bookings = &book;
    auto plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host);
    auto* tool = dynamic_cast<sdk::Tool*>(plugin.get());
    ASSERT_NE(tool, nullptr) << logged(host);
    sdk::TurnContext turn;
    turn.user_id = "905551112233";
    for (const char* name : {"check_availability", "create_appointment", "list_my_appointments",
                             "cancel_appointment", "reschedule_appointment"}) {
        const json::object args{{"appointment_id", "apt_0123456789abcdef"}};
        auto result = tool->invoke(sdk::ToolCall{"c", name, args}, turn);
        ASSERT_TRUE(result.ok()) << name << ": " << result.error().message;
        EXPECT_EQ(result->at("tool"), json::string(name));
        EXPECT_EQ(result->at("arguments"), args);
        EXPECT_EQ(result->at("user"), "905551112233");
    }
    EXPECT_EQ(book.calls.size(), 5u);
    EXPECT_FALSE(tool->invoke(sdk::ToolCall{"c", "book_everything", {}}, turn).ok());
}

TEST(AppointmentsTool, WithoutABookingServiceSaysSoInsteadOfBooking) {
    sdk::testing::FakeHost host;
    auto plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host);
    auto* tool = dynamic_cast<sdk::Tool*>(plugin.get());
    ASSERT_NE(tool, nullptr);
    sdk::TurnContext turn;
    auto result = tool->invoke(sdk::ToolCall{"c", "list_my_appointments", {}}, turn);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "unavailable");
    EXPECT_NE(result.error().message.find("booking service"), std::string::npos) << result.error().message;
}

TEST(AppointmentsTool, ChecksItsSettingsAndNamesABadClosure) {
    sdk::testing::FakeHost host;
    EXPECT_NE(sdk::testing::instantiate(tezgah_plugin_descriptor, host,
                                        json::object{{"slot_minutes", 15},
                                                     {"min_notice_minutes", 120},
                                                     {"max_days_ahead", 30},
                                                     {"closures", json::array{"2026-12-31", "2027-01-01"}},
                                                     {"reminder_hours", 2}}),
              nullptr)
        << logged(host);
    for (const auto& [config, named] : std::vector<std::pair<json::object, std::string>>{
             {json::object{{"slot_minutes", 0}}, "slot_minutes"},
             {json::object{{"max_days_ahead", 400}}, "max_days_ahead"},
             {json::object{{"reminder_hours", -1}}, "reminder_hours"},
             {json::object{{"closures", json::array{"2026-12-31", "2026-13-01"}}}, "2026-13-01"},
             {json::object{{"closures", json::array{"31.12.2026"}}}, "31.12.2026"},
             {json::object{{"closures", "2026-12-31"}}, "closures"},
             {json::object{{"slots", 30}}, "slots"}}) {
        sdk::testing::FakeHost refused;
        EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, refused, config), nullptr) << named;
        EXPECT_NE(logged(refused).find(named), std::string::npos) << logged(refused);
    }
}

}  // namespace
}  // namespace tezgah::plugins::appointments
