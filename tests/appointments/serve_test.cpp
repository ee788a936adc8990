// The operator routes over real HTTP against `tezgah serve` (SQLite and PostgreSQL), the race for
// the last place from two `tezgah serve` processes on one PostgreSQL, and `tezgah check` naming a
// bad closure.
#include "appointments/appointments_fixture.hpp"

#include "http/http_fixture.hpp"
#include "store/api_keys.hpp"
#include "support/serve_process.hpp"

#include <barrier>
#include <thread>

namespace tezgah::testing {
namespace {

const std::string kApi = "/v1/tenants/nefes-studyo";

class AppointmentsServe : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        studio_with_appointments(dir.path() / "tenants");
        auto db = engine::Database::open(scratch->url());
        ASSERT_TRUE(db.ok()) << db.error().message;
        const auto now = std::chrono::system_clock::now();
        auto make = [&](const std::string& tenant, std::vector<std::string> scopes) {
            auto made = engine::create_api_key(**db, "test", tenant, scopes, now);
            EXPECT_TRUE(made.ok());
            return made.ok() ? made->secret : std::string();
        };
        writer = make(kStudio, {"appointments:read", "appointments:write"});
        reader = make(kStudio, {"appointments:read"});
        other = make("gece-butik", {"appointments:read", "appointments:write"});
        events_key = make(kStudio, {"conversations:read"});
    }

    /// `tezgah serve` in `folder` on the scratch database, its clock at the studio's now.
    std::unique_ptr<ServeProcess> serve(const fs::path& folder, std::uint16_t& port_out) {
        auto process = std::make_unique<ServeProcess>(
            folder, "127.0.0.1:0",
            std::vector<std::string>{"--db", scratch->url(), "--clock", utc_text(studio_now())});
        port_out = port_of(process->ready_line());
        EXPECT_NE(port_out, 0) << slurp(folder / "serve.log");
        return process;
    }

    HttpReply api(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& key = "", std::uint16_t on = 0) {
        std::vector<std::pair<std::string, std::string>> headers;
        const std::string& k = key.empty() ? writer : key;
        if (k != "none") headers.emplace_back("Authorization", "Bearer " + k);
        return http_request(on == 0 ? port : on, method, kApi + path, body, headers);
    }

    static std::string booking(const std::string& date, const std::string& time,
                               const std::string& service = "reformer", const std::string& extra = "") {
        return R"({"service": ")" + service + R"(", "date": ")" + date + R"(", "time": ")" + time +
               R"(", "customer_name": "Ayşe Yılmaz", "customer_phone": "+905551112233")" + extra + "}";
    }

    TempDir dir;
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
    std::uint16_t port = 0;
    std::string writer, reader, other, events_key;
};

TEST_P(AppointmentsServe, OperatorsBookMoveChangeAndCancelOverHttp) {
    auto process = serve(dir.path(), port);
    // Free times of a day, and of three days.
    auto day = api("GET", "/availability?service=reformer&date=2026-12-03", "", reader);
    ASSERT_EQ(day.status, 200) << day.body;
    EXPECT_EQ(day.json().at("service").at("id"), "reformer-pilates");
    EXPECT_EQ(day.json().at("slots").at(0).at("start"), "2026-12-03T09:00:00+03:00");
    auto days = api("GET", "/availability?service=reformer-pilates&date=2026-12-03&days=3", "", reader);
    ASSERT_EQ(days.status, 200) << days.body;
    EXPECT_GT(days.json().at("slots").as_array().size(), day.json().at("slots").as_array().size());
    EXPECT_EQ(api("GET", "/availability?date=2026-12-03").status, 400);
    EXPECT_EQ(api("GET", "/availability?service=reformer&date=3.12.2026").status, 400);
    EXPECT_EQ(api("GET", "/availability?service=reformer&date=2026-12-03&days=61").status, 400);
    EXPECT_EQ(api("GET", "/availability?service=kickboks&date=2026-12-03").status, 404);

    // Book: 201; the same time again: 409 with the nearest alternatives.
    auto made =
        api("POST", "/appointments", booking("2026-12-03", "10:00", "reformer", R"(, "channel": "phone")"));
    ASSERT_EQ(made.status, 201) << made.body;
    const auto appointment = made.json().at("appointment");
    const std::string id(appointment.at("id").as_string());
    EXPECT_EQ(appointment.at("start"), "2026-12-03T10:00:00+03:00");
    EXPECT_EQ(appointment.at("channel"), "phone");
    auto taken = api("POST", "/appointments", booking("2026-12-03", "10:00"));
    ASSERT_EQ(taken.status, 409) << taken.body;
    EXPECT_EQ(taken.error_code(), "slot_taken");
    EXPECT_FALSE(taken.json().at("error").at("request_id").as_string().empty());
    EXPECT_EQ(taken.json().at("alternatives").as_array().size(), 3u) << taken.body;
    // Other refusals: 422 with the reason; bad bodies: 400; an unknown service: 404.
    auto past = api("POST", "/appointments", booking("2026-12-01", "10:00"));
    EXPECT_EQ(past.status, 422) << past.body;
    EXPECT_EQ(past.error_code(), "past");
    EXPECT_EQ(api("POST", "/appointments", booking("2026-12-06", "10:00")).error_code(), "closed_day");
    EXPECT_EQ(api("POST", "/appointments", booking("2026-12-03", "10:15")).error_code(), "off_grid");
    EXPECT_EQ(api("POST", "/appointments", booking("03.12.2026", "10:00")).status, 400);
    EXPECT_EQ(api("POST", "/appointments", booking("2026-12-03", "ten")).status, 400);
    EXPECT_EQ(api("POST", "/appointments", R"({"service": "reformer", "date": "2026-12-03"})").status, 400);
    EXPECT_EQ(api("POST", "/appointments", booking("2026-12-03", "11:00", "reformer", R"(, "colour": "red")"))
                  .status,
              400);
    EXPECT_EQ(api("POST", "/appointments", "{\"service\": ").status, 400);
    EXPECT_EQ(api("POST", "/appointments", booking("2026-12-03", "11:00", "kickboks")).status, 404);
    EXPECT_EQ(
        api("POST", "/appointments",
            R"({"service": "reformer", "date": "2026-12-03", "time": "11:00", "customer_name": "", "customer_phone": "1"})")
            .status,
        400);

    // Read one, and the list with its filters.
    auto one = api("GET", "/appointments/" + id, "", reader);
    ASSERT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(one.json().at("appointment").at("customer_name"), "Ayşe Yılmaz");
    EXPECT_EQ(api("GET", "/appointments/apt_0000000000000000").status, 404);
    ASSERT_EQ(api("POST", "/appointments", booking("2026-12-04", "10:00")).status, 201);
    auto both = api("GET", "/appointments?from=2026-12-03&to=2026-12-04", "", reader);
    ASSERT_EQ(both.status, 200);
    EXPECT_EQ(both.json().at("appointments").as_array().size(), 2u) << both.body;
    EXPECT_EQ(
        api("GET", "/appointments?from=2026-12-04&to=2026-12-04").json().at("appointments").as_array().size(),
        1u);
    EXPECT_EQ(api("GET", "/appointments?resource=zeynep").json().at("appointments").as_array().size(), 0u);
    EXPECT_EQ(
        api("GET", "/appointments?service=reformer-pilates").json().at("appointments").as_array().size(), 2u);
    EXPECT_EQ(api("GET", "/appointments?status=sleeping").status, 400);
    EXPECT_EQ(api("GET", "/appointments?from=tomorrow").status, 400);

    // Move: 200 with the same id; onto a taken time: 409, and it stays.
    auto moved = api("PATCH", "/appointments/" + id, R"({"date": "2026-12-03", "time": "14:00"})");
    ASSERT_EQ(moved.status, 200) << moved.body;
    EXPECT_EQ(moved.json().at("appointment").at("id"), json::string(id));
    EXPECT_EQ(moved.json().at("appointment").at("start"), "2026-12-03T14:00:00+03:00");
    ASSERT_EQ(api("POST", "/appointments", booking("2026-12-03", "16:00")).status, 201);
    auto clash = api("PATCH", "/appointments/" + id, R"({"date": "2026-12-03", "time": "16:00"})");
    EXPECT_EQ(clash.status, 409) << clash.body;
    EXPECT_FALSE(clash.json().at("alternatives").as_array().empty());
    EXPECT_EQ(api("GET", "/appointments/" + id).json().at("appointment").at("start"),
              "2026-12-03T14:00:00+03:00");
    // Status and notes.
    auto done = api("PATCH", "/appointments/" + id, R"({"status": "completed", "notes": "iyi geçti"})");
    ASSERT_EQ(done.status, 200) << done.body;
    EXPECT_EQ(done.json().at("appointment").at("status"), "completed");
    EXPECT_EQ(done.json().at("appointment").at("notes"), "iyi geçti");
    EXPECT_EQ(
        api("PATCH", "/appointments/" + id, R"({"status": "no_show"})").json().at("appointment").at("status"),
        "no_show");
    EXPECT_EQ(api("PATCH", "/appointments/" + id, R"({"status": "done"})").status, 422);
    EXPECT_EQ(api("PATCH", "/appointments/" + id, R"({})").status, 400);
    EXPECT_EQ(api("PATCH", "/appointments/" + id, R"({"date": "2026-12-03"})").status, 400);
    EXPECT_EQ(api("PATCH", "/appointments/" + id, R"({"status": 3})").status, 400);
    EXPECT_EQ(api("PATCH", "/appointments/apt_0000000000000000", R"({"status": "completed"})").status, 404);
    // Cancel.
    auto cancelled = api("DELETE", "/appointments/" + id);
    ASSERT_EQ(cancelled.status, 200) << cancelled.body;
    EXPECT_EQ(cancelled.json().at("appointment").at("status"), "cancelled");
    EXPECT_EQ(api("GET", "/appointments?status=cancelled").json().at("appointments").as_array().size(), 1u);
    EXPECT_EQ(api("DELETE", "/appointments/apt_0000000000000000").status, 404);

    // Keys: none 401; read-only may not write; another tenant's key 403; wrong method 405.
    EXPECT_EQ(api("GET", "/appointments", "", "none").status, 401);
    EXPECT_EQ(api("POST", "/appointments", booking("2026-12-03", "12:00"), reader).status, 403);
    EXPECT_EQ(api("GET", "/appointments", "", other).status, 403);
    EXPECT_EQ(api("PUT", "/appointments/" + id).status, 405);
    EXPECT_EQ(api("POST", "/availability").status, 405);
}

TEST_P(AppointmentsServe, OperatorBookingsReachTheEventStream) {
    auto process = serve(dir.path(), port);
    // Subscribe with a raw request on its own thread, then book.
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    socket.setReceiveTimeout(Poco::Timespan(5, 0));
    const std::string request = "GET " + kApi +
                                "/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                                "Authorization: Bearer " +
                                events_key + "\r\n\r\n";
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string seen;
    char buffer[4096];
    while (seen.find("connected") == std::string::npos) {
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        ASSERT_GT(n, 0);
        seen.append(buffer, static_cast<std::size_t>(n));
    }
    ASSERT_EQ(api("POST", "/appointments", booking("2026-12-03", "10:00")).status, 201);
    while (seen.find("event: appointment") == std::string::npos ||
           seen.find("\"created\"") == std::string::npos) {
        const int n = socket.receiveBytes(buffer, sizeof buffer);
        ASSERT_GT(n, 0) << seen;
        seen.append(buffer, static_cast<std::size_t>(n));
    }
    EXPECT_NE(seen.find("\"by\":\"operator\""), std::string::npos) << seen;
}

TEZGAH_STORE_BACKENDS(AppointmentsServe);

/// Two `tezgah serve` processes on one PostgreSQL.
using TwoProcesses = AppointmentsServe;

TEST_P(TwoProcesses, AHundredPostsAcrossTwoServersGiveOneBooking) {
    if (GetParam() != Backend::postgresql) GTEST_SKIP() << "two processes share a PostgreSQL";
    TempDir second;
    studio_with_appointments(second.path() / "tenants");
    std::uint16_t port_a = 0, port_b = 0;
    auto a = serve(dir.path(), port_a);
    auto b = serve(second.path(), port_b);
    ASSERT_NE(port_a, 0);
    ASSERT_NE(port_b, 0);
    // Both load the studio before the race (a first request loads a tenant).
    ASSERT_EQ(api("GET", "/appointments", "", reader, port_a).status, 200);
    ASSERT_EQ(api("GET", "/appointments", "", reader, port_b).status, 200);

    constexpr int kAttempts = 100;
    std::barrier start(kAttempts);
    std::mutex mutex;
    std::map<int, int> statuses;
    int with_alternatives = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < kAttempts; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            auto r = api("POST", "/appointments", booking("2026-12-03", "10:00"), "",
                         i % 2 == 0 ? port_a : port_b);
            std::lock_guard lock(mutex);
            ++statuses[r.status];
            if (r.status == 409 && r.error_code() == "slot_taken" &&
                !r.json().at("alternatives").as_array().empty())
                ++with_alternatives;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(statuses[201], 1);
    EXPECT_EQ(statuses[409], kAttempts - 1);
    EXPECT_EQ(with_alternatives, kAttempts - 1);
    EXPECT_EQ(statuses.size(), 2u);
    // The table holds one row, whoever asks.
    auto db = engine::Database::open(scratch->url());
    ASSERT_TRUE(db.ok());
    auto rows = apt::list_appointments(**db, kStudio, {});
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows->size(), 1u);
    EXPECT_EQ(api("GET", "/appointments", "", reader, port_b).json().at("appointments").as_array().size(),
              1u);
}

TEZGAH_STORE_BACKENDS(TwoProcesses);

TEST(AppointmentsCheck, TezgahCheckNamesAClosureThatIsNotADate) {
    TempDir dir;
    studio_with_appointments(dir.path() / "tenants",
                             {{"closures", json::array{"2026-12-31", "2026-13-01"}}, {"slot_minutes", 0}});
    const std::string command = (fs::path(TEZGAH_BINARY_DIR) / "bin" / "tezgah").string() + " check " +
                                (dir.path() / "tenants").string() + " --plugins " + plugin_dir().string() +
                                " 2>&1";
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    const int status = ::pclose(pipe);
    EXPECT_NE(status, 0) << output;
    EXPECT_NE(output.find("closures[1]"), std::string::npos) << output;
    EXPECT_NE(output.find("2026-13-01"), std::string::npos) << output;
    EXPECT_NE(output.find("slot_minutes"), std::string::npos) << output;
    EXPECT_EQ(output.find("2026-12-31\" is not"), std::string::npos) << output;
}

}  // namespace
}  // namespace tezgah::testing
