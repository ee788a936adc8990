// Analytics' busiest hours over real HTTP against `tezgah serve` on both databases: customer
// messages counted by the hour of the tenant's wall clock (Europe/Istanbul, UTC+3), over the
// tenant's days, 24 entries whatever the range holds.
#include "console_reads/console_reads_fixture.hpp"

namespace tezgah::testing {
namespace {

using AnalyticsHours = ConsoleReads;
TEZGAH_STORE_BACKENDS(AnalyticsHours);

TEST_P(AnalyticsHours, CustomerMessagesAreCountedByTheTenantsLocalHour) {
    insert(ConversationRow{"c-1", "nefes-studyo", "u-1", "api", "bot", ms_of("2026-11-29T20:00:00+03:00"),
                           ms_of("2026-12-01T00:05:00+03:00")});
    int n = 0;
    auto message = [&](const std::string& role, const std::string& at,
                       const std::string& tenant = "nefes-studyo", const std::string& conversation = "c-1") {
        insert(MessageRow{"m-" + std::to_string(++n), tenant, conversation, role, "merhaba",
                          role == "user" ? "" : "intent", ms_of(at)});
    };
    message("user", "2026-11-29T23:50:00+03:00");       // the day before the range
    message("user", "2026-11-30T00:10:00+03:00");       // 21:10 UTC the day before: Istanbul's midnight hour
    message("user", "2026-11-30T09:10:00+03:00");       // 06:10 UTC
    message("assistant", "2026-11-30T09:11:00+03:00");  // replies are not customers' messages
    message("user", "2026-11-30T09:59:59+03:00");
    message("operator", "2026-11-30T10:00:00+03:00");
    message("user", "2026-11-30T23:59:00+03:00");
    message("user", "2026-12-01T00:05:00+03:00");  // 30 November in UTC, the next day in Istanbul
    insert(ConversationRow{"c-2", "gece-butik", "u-2", "api", "bot", ms_of("2026-11-30T09:00:00+03:00")});
    message("user", "2026-11-30T09:30:00+03:00", "gece-butik", "c-2");  // another tenant's
    const std::string analyst = key("nefes-studyo", {"analytics:read"});
    const std::string reader = key("nefes-studyo", {"conversations:read"});
    start("2026-12-02T12:00:00+03:00");

    auto reply = get("/v1/tenants/nefes-studyo/analytics?from=2026-11-30&to=2026-11-30", analyst);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto figures = reply.json();
    const auto& hours = figures.at("by_hour").as_array();
    ASSERT_EQ(hours.size(), 24u);
    std::vector<long long> counts;
    for (std::size_t h = 0; h < hours.size(); ++h) {
        EXPECT_EQ(hours[h].at("hour"), static_cast<long long>(h));
        counts.push_back(hours[h].at("messages").to_number<long long>());
    }
    std::vector<long long> expected(24, 0);
    expected[0] = 1;
    expected[9] = 2;
    expected[23] = 1;
    EXPECT_EQ(counts, expected);
    EXPECT_EQ(figures.at("messages").at("customer"), 4);  // the hours add up to the customers' messages

    // An empty range still has its 24 hours.
    auto empty = get("/v1/tenants/nefes-studyo/analytics?from=2026-10-01&to=2026-10-02", analyst);
    ASSERT_EQ(empty.status, 200);
    ASSERT_EQ(empty.json().at("by_hour").as_array().size(), 24u);
    const auto empty_hours = empty.json().at("by_hour").as_array();
    for (const auto& h : empty_hours) EXPECT_EQ(h.at("messages"), 0);

    EXPECT_EQ(get("/v1/tenants/nefes-studyo/analytics", "").status, 401);
    EXPECT_EQ(get("/v1/tenants/nefes-studyo/analytics", reader).status, 403);
}

}  // namespace
}  // namespace tezgah::testing
