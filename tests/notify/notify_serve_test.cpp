// `tezgah serve` runs the notifier: a notice left queued in the database (by an earlier run that
// stopped before sending it) is taken up by the next start and settled, its state readable through
// the API; the server stops cleanly with its workers. No tenant of the fixtures configures a
// target, so the notice settles as failed, saying why.
#include "http/http_fixture.hpp"
#include "notify/notices.hpp"
#include "store/api_keys.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

TEST(NotifyServe, AQueuedNoticeIsSettledByTheNextStartAndShownByTheApi) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    fs::create_directories(dir.path() / "var");
    std::string key;
    {
        auto db = engine::Database::open("sqlite:" + (dir.path() / "var" / "tezgah.db").string());
        ASSERT_TRUE(db.ok()) << db.error().message;
        auto made = engine::create_api_key(**db, "ops", "gece-butik", {"conversations:read"},
                                           std::chrono::system_clock::now());
        ASSERT_TRUE(made.ok());
        key = made->secret;
        engine::notify::Notice n;
        n.id = "left-by-an-earlier-run";
        n.tenant_id = "gece-butik";
        n.event = "handoff";
        n.target = "webhook";
        n.payload = R"({"event":"handoff","tenant":"gece-butik"})";
        n.created_at = std::chrono::system_clock::now();
        ASSERT_TRUE(engine::notify::insert_notices(**db, {n}).ok());
    }

    ServeProcess serve(dir.path(), "127.0.0.1:0", {"--block-private-targets", "--notify-workers", "2"});
    const auto port = port_of(serve.ready_line());
    ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");

    json::object notice;
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
        auto reply = http_request(port, "GET", "/v1/tenants/gece-butik/notices", "",
                                  {{"Authorization", "Bearer " + key}});
        ASSERT_EQ(reply.status, 200) << reply.body;
        const auto value = reply.json();
        const auto& list = value.at("notices").as_array();
        ASSERT_EQ(list.size(), 1u);
        notice = list.front().as_object();
        if (notice.at("state") != "queued") break;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(notice.at("id"), "left-by-an-earlier-run");
    EXPECT_EQ(notice.at("state"), "failed");
    EXPECT_EQ(notice.at("attempts").as_int64(), 1);
    EXPECT_NE(std::string(notice.at("last_error").as_string()).find("no longer configures a webhook target"),
              std::string::npos)
        << notice;

    auto anonymous = http_request(port, "GET", "/v1/tenants/gece-butik/notices");
    EXPECT_EQ(anonymous.status, 401);

    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
}

TEST(NotifyServe, NotifyOptionsAreChecked) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    ServeProcess serve(dir.path(), "127.0.0.1:0", {"--notify-workers", "0"});
    EXPECT_EQ(serve.ready_line(), "");
    EXPECT_EQ(serve.wait(), 2);
    EXPECT_NE(slurp(dir.path() / "serve.log").find("--notify-workers"), std::string::npos);
}

}  // namespace
}  // namespace tezgah::testing
