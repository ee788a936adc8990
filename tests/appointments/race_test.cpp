// The race, in one process, on SQLite and PostgreSQL: many customers at once for the last place of
// a slot, every one through the plugin as a turn calls it. Exactly as many bookings as there were
// places, the others refused as taken with the nearest alternatives, and the table agrees.
// (The same race from two `tezgah serve` processes on one PostgreSQL is in serve_test.cpp.)
#include "appointments/appointments_fixture.hpp"

#include <atomic>
#include <barrier>
#include <thread>

namespace tezgah::testing {
namespace {

struct RaceOutcome {
    int booked = 0;
    int taken = 0;
    int with_alternatives = 0;
    std::vector<std::string> other;  ///< anything else: errors, other reasons
};

class RaceTest : public StudioTest {
protected:
    /// `attempts` customers at once for `service` at `date` `time`.
    RaceOutcome race(int attempts, const std::string& service, const std::string& date,
                     const std::string& time) {
        RaceOutcome outcome;
        std::mutex mutex;
        std::barrier start(attempts);
        std::vector<std::thread> threads;
        for (int i = 0; i < attempts; ++i) {
            threads.emplace_back([&, i] {
                const std::string user = "racer-" + std::to_string(i);
                const json::object args{{"service", service},
                                        {"date", date},
                                        {"time", time},
                                        {"customer_name", "Yarışçı " + std::to_string(i)},
                                        {"customer_phone", "+9055500" + std::to_string(10000 + i)}};
                start.arrive_and_wait();
                auto r = call("create_appointment", args, user);
                std::lock_guard lock(mutex);
                if (!r.ok()) {
                    outcome.other.push_back(r.error().code + ": " + r.error().message);
                } else if (r->at("booked") == true) {
                    ++outcome.booked;
                } else if (r->at("reason") == "taken") {
                    ++outcome.taken;
                    if (!r->at("alternatives").as_array().empty()) ++outcome.with_alternatives;
                } else {
                    outcome.other.push_back(json::serialize(*r));
                }
            });
        }
        for (auto& t : threads) t.join();
        return outcome;
    }
};

TEST_P(RaceTest, AHundredCustomersForTheLastPlaceGiveExactlyOneBooking) {
    auto outcome = race(100, "reformer-pilates", "2026-12-03", "10:00");
    EXPECT_EQ(outcome.booked, 1);
    EXPECT_EQ(outcome.taken, 99);
    EXPECT_EQ(outcome.with_alternatives, 99);
    EXPECT_TRUE(outcome.other.empty()) << outcome.other.front();
    const auto rows = stored();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].status, "confirmed");
    EXPECT_EQ(events->actions().size(), 1u);
}

TEST_P(RaceTest, ThirtyCustomersForAClassOfEightGiveExactlyEightBookings) {
    auto outcome = race(30, "mat-pilates", "2026-12-02", "19:00");
    EXPECT_EQ(outcome.booked, 8);
    EXPECT_EQ(outcome.taken, 22);
    EXPECT_TRUE(outcome.other.empty()) << outcome.other.front();
    EXPECT_EQ(stored("confirmed").size(), 8u);
    auto full = ok("check_availability", {{"service", "mat-pilates"}, {"date", "2026-12-02"}}, "late-comer");
    EXPECT_TRUE(full.at("slots").as_array().empty()) << json::serialize(full);
}

TEST_P(RaceTest, MovesAndBookingsRacingForOnePlaceNeverOverlap) {
    // Eight customers hold Ayşe's day from 09:00 to 17:00, one an hour; each tries to move to
    // 17:00, the day's last free time, while eight others try to book it: one wins.
    std::vector<std::string> ids;
    for (int i = 0; i < 8; ++i) {
        const std::string time = (i < 1 ? "09:00" : std::to_string(9 + i) + ":00");
        auto booked = book("reformer-pilates", "2026-12-03", time, "mover-" + std::to_string(i));
        ASSERT_EQ(booked.at("booked"), true) << time << json::serialize(booked);
        ids.emplace_back(booked.at("appointment").at("id").as_string());
    }
    std::barrier start(16);
    std::atomic<int> won{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            auto r = call("reschedule_appointment",
                          {{"appointment_id", ids[static_cast<std::size_t>(i)]},
                           {"date", "2026-12-03"},
                           {"time", "17:00"}},
                          "mover-" + std::to_string(i));
            if (r.ok() && r->at("rescheduled") == true) ++won;
        });
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            auto r = call("create_appointment",
                          {{"service", "reformer-pilates"},
                           {"date", "2026-12-03"},
                           {"time", "17:00"},
                           {"customer_name", "Yeni"},
                           {"customer_phone", "+905550000001"}},
                          "booker-" + std::to_string(i));
            if (r.ok() && r->at("booked") == true) ++won;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    // Whatever won, no two confirmed appointments of Ayşe overlap (with their buffers).
    auto rows = stored("confirmed");
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    for (std::size_t i = 1; i < rows.size(); ++i)
        EXPECT_LE(rows[i - 1].end + std::chrono::minutes(rows[i - 1].buffer_minutes), rows[i].start)
            << rows[i - 1].id << " overlaps " << rows[i].id;
}

TEZGAH_STORE_BACKENDS(RaceTest);

}  // namespace
}  // namespace tezgah::testing
