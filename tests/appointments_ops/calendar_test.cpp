// The calendar feed: the iCalendar document's rules (folding, escaping, the VTIMEZONE's real
// transitions), and GET /v1/tenants/{tenant}/calendar.ics over real HTTP against `tezgah serve` on
// both databases — what it holds, who may read it (a key in the URL only with the scope
// calendar:read alone), its caching, and that the key in the URL never reaches the server's log.
// tests/node/ics.test.js parses the same feed with ical.js.
#include "appointments_ops/appointment_rows.hpp"

#include "appointments/calendar.hpp"
#include "http/http_fixture.hpp"
#include "store/api_keys.hpp"
#include "support/serve_process.hpp"

#include <tezgah/sdk/text.hpp>

#include <gtest/gtest.h>

namespace tezgah::testing {
namespace {

namespace appointments = engine::appointments;
using engine::Backend;
using engine::testing::ScratchDatabase;

/// The content lines, unfolded (RFC 5545 3.1).
std::vector<std::string> unfolded(const std::string& ics) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < ics.size()) {
        const auto end = ics.find("\r\n", at);
        const std::string line = ics.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (!line.empty() && line.front() == ' ' && !out.empty())
            out.back() += line.substr(1);
        else
            out.push_back(line);
        if (end == std::string::npos) break;
        at = end + 2;
    }
    return out;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

/// Every physical line is CRLF-terminated, at most 75 octets, valid UTF-8.
void expect_well_formed(const std::string& ics) {
    ASSERT_TRUE(ics.ends_with("\r\n"));
    std::size_t at = 0;
    while (at < ics.size()) {
        const auto end = ics.find("\r\n", at);
        ASSERT_NE(end, std::string::npos);
        const std::string line = ics.substr(at, end - at);
        EXPECT_EQ(line.find('\n'), std::string::npos) << "a bare LF in: " << line;
        EXPECT_EQ(line.find('\r'), std::string::npos) << "a bare CR in: " << line;
        EXPECT_LE(line.size(), 75u) << line;
        EXPECT_TRUE(sdk::text::valid_utf8(line)) << "a character split across lines: " << line;
        at = end + 2;
    }
}

TEST(CalendarDocument, LongLinesAreFoldedAt75OctetsWithoutSplittingACharacter) {
    std::string text = "SUMMARY:";
    while (text.size() < 400) text += "Çağrı Öztürk — şimdi ";
    const std::string folded = appointments::content_line(text);
    expect_well_formed(folded);
    EXPECT_EQ(unfolded(folded), std::vector<std::string>{text});
    // Exactly 75 octets stays on one line.
    const std::string exact(75, 'x');
    EXPECT_EQ(appointments::content_line(exact), exact + "\r\n");
    EXPECT_EQ(appointments::content_line(exact + "y"), exact + "\r\n y\r\n");
}

TEST(CalendarDocument, TextIsEscaped) {
    EXPECT_EQ(appointments::escape_text("Bağdat Cad. No:210, Suadiye; İstanbul"),
              "Bağdat Cad. No:210\\, Suadiye\\; İstanbul");
    EXPECT_EQ(appointments::escape_text("a\\b\r\nc\nd\re\x01"), "a\\\\b\\nc\\nd\\ne");
}

/// The VTIMEZONE's components: kind, DTSTART, TZOFFSETFROM, TZOFFSETTO.
std::vector<std::array<std::string, 4>> components(const std::string& vtimezone) {
    std::vector<std::array<std::string, 4>> out;
    for (const auto& line : unfolded(vtimezone)) {
        if (line == "BEGIN:STANDARD" || line == "BEGIN:DAYLIGHT") out.push_back({line.substr(6), "", "", ""});
        if (out.empty()) continue;
        if (line.starts_with("DTSTART:")) out.back()[1] = line.substr(8);
        if (line.starts_with("TZOFFSETFROM:")) out.back()[2] = line.substr(13);
        if (line.starts_with("TZOFFSETTO:")) out.back()[3] = line.substr(11);
    }
    return out;
}

TEST(CalendarDocument, TheTimeZoneHasTheZonesRealTransitions) {
    const auto from =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_of("2026-11-01T00:00:00Z")));
    const auto until =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_of("2027-04-01T00:00:00Z")));
    const std::string berlin = appointments::vtimezone("Europe/Berlin", from, until);
    expect_well_formed(berlin);
    EXPECT_TRUE(has_line(unfolded(berlin), "TZID:Europe/Berlin"));
    using C = std::array<std::string, 4>;
    // In force on 1 January 2026 (since October 2025), then the changes of 2026 and 2027, each at its
    // wall time on the clock before it: 02:00 CET → 03:00 CEST on the last Sunday of March, 03:00
    // CEST → 02:00 CET on the last Sunday of October.
    EXPECT_EQ(components(berlin), (std::vector<C>{{"STANDARD", "20251026T030000", "+0200", "+0100"},
                                                  {"DAYLIGHT", "20260329T020000", "+0100", "+0200"},
                                                  {"STANDARD", "20261025T030000", "+0200", "+0100"},
                                                  {"DAYLIGHT", "20270328T020000", "+0100", "+0200"},
                                                  {"STANDARD", "20271031T030000", "+0200", "+0100"}}));
    EXPECT_NE(berlin.find("TZNAME:CEST"), std::string::npos);

    // Istanbul has kept +03 all year since September 2016: one component.
    const std::string istanbul = appointments::vtimezone("Europe/Istanbul", from, until);
    EXPECT_EQ(components(istanbul), (std::vector<C>{{"STANDARD", "20160907T000000", "+0300", "+0300"}}));
    // A zone the tz database does not know is described as UTC.
    EXPECT_EQ(components(appointments::vtimezone("Mars/Olympus", from, until)),
              (std::vector<C>{{"STANDARD", "19700101T000000", "+0000", "+0000"}}));
}

// --- the route ---

constexpr const char* kClock = "2026-12-01T10:00:00+03:00";

class CalendarFeed : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        copy_fixtures(dir.path() / "tenants");
        auto db = engine::Database::open(scratch->url());
        ASSERT_TRUE(db) << db.error().message;
        auto key = [&](const std::string& tenant, std::vector<std::string> scopes) {
            auto made = engine::create_api_key(**db, "calendar test", tenant, scopes,
                                               std::chrono::system_clock::now());
            EXPECT_TRUE(made) << made.error().message;
            return made ? made->secret : std::string();
        };
        calendar_key = key("nefes-studyo", {"calendar:read"});
        broad_key = key("nefes-studyo", {"calendar:read", "appointments:read"});
        appointments_key = key("nefes-studyo", {"appointments:read"});
        analytics_key = key("nefes-studyo", {"analytics:read"});
        other_calendar_key = key("gece-butik", {"calendar:read"});

        auto sql = engine::testing::open_sql_session(scratch->url());
        ASSERT_TRUE(sql);
        const long long booked = ms_of("2026-11-20T09:00:00+03:00");
        AppointmentRow a;
        a.id = "apt_00000000000000a1";
        a.start = ms_of("2026-12-03T10:00:00+03:00");
        a.notes = "Bel fıtığı; dikkat, lütfen";
        a.created = booked;
        insert_appointment(*sql, a);
        AppointmentRow cancelled = a;
        cancelled.id = "apt_00000000000000a2";
        cancelled.start = ms_of("2026-12-04T11:00:00+03:00");
        cancelled.status = "cancelled";
        cancelled.customer_name = "Mehmet Kaya";
        cancelled.notes = "";
        cancelled.updated = booked + 3600 * 1000;
        insert_appointment(*sql, cancelled);
        AppointmentRow far = a;
        far.id = "apt_00000000000000a3";
        far.start = ms_of("2027-03-01T10:00:00+03:00");  // past the 60-day horizon
        insert_appointment(*sql, far);
        AppointmentRow old = a;
        old.id = "apt_00000000000000a4";
        old.start = ms_of("2026-10-01T10:00:00+03:00");  // more than 30 days back
        insert_appointment(*sql, old);
        AppointmentRow elsewhere = a;
        elsewhere.id = "apt_00000000000000b1";
        elsewhere.tenant = "gece-butik";
        insert_appointment(*sql, elsewhere);

        process = std::make_unique<ServeProcess>(
            dir.path(), "127.0.0.1:0",
            std::vector<std::string>{"--db", scratch->url(), "--clock", kClock, "--log-level", "debug"});
        port = port_of(process->ready_line());
        ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
    }

    HttpReply feed(const std::string& query, const std::string& bearer = "",
                   const std::string& tenant = "nefes-studyo") {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
        return http_request(port, "GET", "/v1/tenants/" + tenant + "/calendar.ics" + query, "", headers);
    }

    TempDir dir;
    std::unique_ptr<ScratchDatabase> scratch;
    std::unique_ptr<ServeProcess> process;
    std::uint16_t port = 0;
    std::string calendar_key, broad_key, appointments_key, analytics_key, other_calendar_key;
};

TEST_P(CalendarFeed, ACalendarKeyInTheUrlReadsTheTenantsAppointmentsInItsTimeZone) {
    auto reply = feed("?key=" + calendar_key);
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.header("content-type"), "text/calendar; charset=utf-8");
    EXPECT_EQ(reply.header("cache-control"), "private, max-age=60");
    expect_well_formed(reply.body);
    const auto lines = unfolded(reply.body);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), "BEGIN:VCALENDAR");
    EXPECT_EQ(lines.back(), "END:VCALENDAR");
    for (const char* line :
         {"VERSION:2.0", "X-WR-TIMEZONE:Europe/Istanbul",
          "X-WR-CALNAME:Nefes Pilates & Yoga Stüdyosu — randevular", "TZID:Europe/Istanbul",
          "UID:apt_00000000000000a1@nefes-studyo.tezgah", "DTSTART;TZID=Europe/Istanbul:20261203T100000",
          "DTEND;TZID=Europe/Istanbul:20261203T105000", "STATUS:CONFIRMED",
          "SUMMARY:Reformer Pilates (Birebir) — Elif Şahin",
          "DESCRIPTION:Telefon: +905551112233\\nPersonel: Ayşe Demir\\nNot: Bel fıtığı\\; "
          "dikkat\\, lütfen",
          "LOCATION:Bağdat Caddesi No:210\\, Suadiye\\, İstanbul",
          "UID:apt_00000000000000a2@nefes-studyo.tezgah", "STATUS:CANCELLED",
          "SUMMARY:Reformer Pilates (Birebir) — Mehmet Kaya", "SEQUENCE:3600"})
        EXPECT_TRUE(has_line(lines, line)) << line << " not in\n" << reply.body;
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.starts_with("PRODID:"); }));
    EXPECT_EQ(std::count(lines.begin(), lines.end(), "BEGIN:VEVENT"), 2) << reply.body;
    // Outside the window (more than 30 days back, past the horizon) and another tenant's: absent.
    for (const char* absent : {"apt_00000000000000a3", "apt_00000000000000a4", "apt_00000000000000b1"})
        EXPECT_EQ(reply.body.find(absent), std::string::npos) << absent;

    // Unchanged, a calendar app's conditional request gets a 304 without the document.
    const std::string etag = reply.header("etag");
    ASSERT_FALSE(etag.empty());
    auto again = http_request(port, "GET", "/v1/tenants/nefes-studyo/calendar.ics?key=" + calendar_key, "",
                              {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
}

TEST_P(CalendarFeed, OnlyAKeyWhoseOnlyScopeIsCalendarReadMayBeInTheUrl) {
    auto broad = feed("?key=" + broad_key);
    EXPECT_EQ(broad.status, 403) << broad.body;
    EXPECT_EQ(broad.error_code(), "forbidden");
    const std::string message(broad.json().at("error").at("message").as_string());
    EXPECT_NE(message.find("calendar:read"), std::string::npos) << message;
    EXPECT_NE(message.find("tezgah keys create"), std::string::npos) << message;
    EXPECT_EQ(broad.body.find("BEGIN:VCALENDAR"), std::string::npos);

    EXPECT_EQ(feed("?key=" + appointments_key).status, 403);    // lacks calendar:read
    EXPECT_EQ(feed("?key=" + other_calendar_key).status, 403);  // another tenant's
    EXPECT_EQ(feed("?key=" + other_calendar_key, "", "gece-butik").status, 200);
    auto unknown = feed("?key=tzk_0000000000000000_" + std::string(64, '0'));
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(unknown.error_code(), "unauthorized");
    EXPECT_EQ(feed("").status, 401);

    // In the Authorization header a key may also read it with appointments:read, or with more scopes.
    EXPECT_EQ(feed("", calendar_key).status, 200);
    EXPECT_EQ(feed("", appointments_key).status, 200);
    EXPECT_EQ(feed("", broad_key).status, 200);
    EXPECT_EQ(feed("", analytics_key).status, 403);
    EXPECT_EQ(
        http_request(port, "POST", "/v1/tenants/nefes-studyo/calendar.ics?key=" + calendar_key, "{}").status,
        405);
}

TEST_P(CalendarFeed, TheKeyInTheUrlNeverReachesTheServersLog) {
    EXPECT_EQ(feed("?key=" + calendar_key).status, 200);
    EXPECT_EQ(feed("?key=" + broad_key).status, 403);
    EXPECT_EQ(feed("?key=" + calendar_key.substr(0, 30) + "0000").status, 401);
    process->signal(SIGTERM);
    EXPECT_EQ(process->wait(), 0);
    const std::string log = slurp(dir.path() / "serve.log");
    // The requests were logged, by their route.
    EXPECT_NE(log.find("/v1/tenants/{tenant}/calendar.ics"), std::string::npos) << log;
    for (const auto& key : {calendar_key, broad_key}) {
        const std::string secret = key.substr(key.rfind('_') + 1);
        EXPECT_EQ(log.find(secret), std::string::npos) << "a key's secret is in the log";
        EXPECT_EQ(log.find(key.substr(0, 30)), std::string::npos) << "a key is in the log";
    }
}

TEZGAH_STORE_BACKENDS(CalendarFeed);

}  // namespace
}  // namespace tezgah::testing
