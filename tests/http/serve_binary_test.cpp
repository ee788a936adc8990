// `tezgah serve` as a process: the ready line, SIGTERM finishing a request in flight before
// exiting 0, live edits, and a busy port refused. (A server killed mid-turn: tests/security.)
#include "http_fixture.hpp"
#include "support/fake_openai.hpp"
#include "support/serve_process.hpp"

#include <Poco/Net/ServerSocket.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

using namespace tezgah::testing;

namespace {

TEST(ServeBinary, PrintsItsAddressWhenReadyAndFinishesARequestInFlightOnSigterm) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    ServeProcess serve(dir.path());
    const std::string line = serve.ready_line();
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << "ready line: '" << line << "'";
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
    ASSERT_GT(port, 0);
    ASSERT_EQ(http_request(port, "GET", "/health").status, 200);

    // A request in flight: its headers and half its body are sent.
    const std::string body = chat_body("merhaba", "sigterm-user");
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    const std::string head =
        "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10);
    socket.sendBytes(head.data(), static_cast<int>(head.size()));
    // Wait until the server is handling it (this request plus the health request itself).
    bool handling = false;
    for (int i = 0; i < 500 && !handling; ++i) {
        auto detailed = http_request(port, "GET", "/health/detailed").json();
        handling = detailed.at("http").at("in_flight").as_int64() >= 2;
    }
    ASSERT_TRUE(handling);

    serve.signal(SIGTERM);
    const std::string rest = body.substr(10);
    socket.sendBytes(rest.data(), static_cast<int>(rest.size()));
    socket.setReceiveTimeout(Poco::Timespan(20, 0));
    std::string answer;
    char buffer[4096];
    try {
        for (int n; (n = socket.receiveBytes(buffer, sizeof buffer)) > 0;)
            answer.append(buffer, static_cast<std::size_t>(n));
    } catch (const std::exception&) {
    }
    EXPECT_EQ(raw_status(answer), 200) << answer;
    EXPECT_NE(answer.find("\"reply\""), std::string::npos) << answer;
    EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
}

/// The reply text to a price question, over HTTP.
std::string price_reply(std::uint16_t port, const std::string& user) {
    auto reply = http_request(port, "POST", "/v1/tenants/gece-butik/chat",
                              chat_body("kadife sabahlık ne kadar?", user));
    return reply.status == 200 ? std::string(reply.json().at("reply").as_string()) : reply.body;
}

void set_robe_price(const fs::path& tenants, double price) {
    edit_json(tenants / "gece-butik" / "data" / "offerings.json", [&](json::value& v) {
        for (auto& o : v.as_array())
            if (o.at("id").as_string() == "kadife-sabahlik") o.as_object()["price"] = price;
    });
}

/// Asks until the reply contains `needle` or `limit` passes.
bool answers_within(std::uint16_t port, const std::string& needle, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        if (price_reply(port, "reload-" + std::to_string(i)).find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

TEST(ServeBinary, EditsAreLiveWithinTwoSecondsAndABadEditKeepsTheLastGoodVersion) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    ServeProcess serve(dir.path());
    const std::string line = serve.ready_line();
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
    ASSERT_NE(price_reply(port, "before").find("599"), std::string::npos);

    // A valid edit, no signal: the watcher makes it live.
    set_robe_price(dir.path() / "tenants", 649);
    EXPECT_TRUE(answers_within(port, "649", std::chrono::seconds(2))) << "the edit was not live within 2 s";

    // An edit that fails validation: the last good version keeps answering, and health says why.
    write(dir.path() / "tenants" / "gece-butik" / "tenant.json", "{\"id\": \"gece-butik\", \"name\": ");
    bool reported = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!reported && std::chrono::steady_clock::now() < deadline) {
        auto detailed = http_request(port, "GET", "/health/detailed");
        reported = detailed.body.find("reload_error") != std::string::npos &&
                   detailed.body.find("truncated JSON") != std::string::npos;
        if (!reported) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(reported) << http_request(port, "GET", "/health/detailed").body;
    EXPECT_NE(price_reply(port, "after-bad-edit").find("649"), std::string::npos);
    EXPECT_EQ(http_request(port, "GET", "/health").json().at("status"), "degraded");

    // A new tenant folder appears; SIGHUP reloads at once.
    fs::copy(dir.path() / "tenants" / "nefes-studyo", dir.path() / "tenants" / "nefes-moda",
             fs::copy_options::recursive);
    edit_json(dir.path() / "tenants" / "nefes-moda" / "tenant.json",
              [](json::value& v) { v.as_object()["id"] = "nefes-moda"; });
    serve.signal(SIGHUP);
    bool added = false;
    for (int i = 0; i < 40 && !added; ++i) {
        added =
            http_request(port, "POST", "/v1/tenants/nefes-moda/chat", chat_body("merhaba", "hup")).status ==
            200;
        if (!added) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(added);
    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
}

TEST(ServeBinary, RefusesAPortAlreadyInUseAndSaysHowToPickAnother) {
    TempDir first_dir;
    copy_fixtures(first_dir.path() / "tenants");
    ServeProcess first(first_dir.path());
    const std::string first_line = first.ready_line();
    const auto port = port_of(first_line);
    ASSERT_GT(port, 0) << "ready line: '" << first_line << "'";
    const std::string address = "127.0.0.1:" + std::to_string(port);

    // A second server on the same port: it must not start (with SO_REUSEPORT it did, silently, and
    // the kernel split the connections between the two).
    TempDir second_dir;
    copy_fixtures(second_dir.path() / "tenants");
    ServeProcess second(second_dir.path(), address);
    EXPECT_EQ(second.ready_line(), "");  // its standard output closes without a ready line
    EXPECT_EQ(second.wait(), 1);
    const std::string said = slurp(second_dir.path() / "serve.log");
    EXPECT_NE(said.find("tezgah serve: listen on " + address + ": the port is already in use"),
              std::string::npos)
        << said;
    EXPECT_NE(said.find("--listen HOST:PORT"), std::string::npos) << said;

    // Every connection still reaches the first server.
    for (int i = 0; i < 20; ++i) ASSERT_EQ(http_request(port, "GET", "/health").status, 200);
    first.signal(SIGTERM);
    EXPECT_EQ(first.wait(), 0) << slurp(first_dir.path() / "serve.log");

    // A port some other program listens on is refused the same way.
    Poco::Net::ServerSocket other(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string other_address = "127.0.0.1:" + std::to_string(other.address().port());
    TempDir third_dir;
    copy_fixtures(third_dir.path() / "tenants");
    ServeProcess third(third_dir.path(), other_address);
    EXPECT_EQ(third.ready_line(), "");
    EXPECT_EQ(third.wait(), 1);
    EXPECT_NE(slurp(third_dir.path() / "serve.log").find(other_address + ": the port is already in use"),
              std::string::npos);
}

}  // namespace
