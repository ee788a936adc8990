// The connection options of `tezgah serve` as an operator gives them on the command line.
#include "security/security_fixture.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

TEST(ServeOptions, ATrustedProxyGivenOnTheCommandLineNamesTheClientInTheLog) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    ServeProcess serve(dir.path(), "127.0.0.1:0",
                       {"--trusted-proxy", "127.0.0.3, 10.0.0.0/8", "--max-connections-per-address", "4",
                        "--header-timeout", "800"});
    const auto port = port_of(serve.ready_line());
    ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
    const int proxy = connect_from("127.0.0.3", port);
    ASSERT_GE(proxy, 0);
    send_all(proxy,
             "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n");
    EXPECT_EQ(raw_status(read_until_closed(proxy, 5s)), 200);
    ::close(proxy);
    // --header-timeout: headers that stop half-way get 408 after 0.8 s.
    const int slow = connect_from("127.0.0.2", port);
    ASSERT_GE(slow, 0);
    send_all(slow, "GET /health HTTP/1.1\r\nHost: x\r\n");
    std::string answer;
    EXPECT_LT(timed([&] { answer = read_until_closed(slow, 10s); }), 5s);
    EXPECT_EQ(raw_status(answer), 408) << answer;
    ::close(slow);
    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait(), 0);
    EXPECT_TRUE(has(slurp(dir.path() / "serve.log"), "\"client\":\"203.0.113.9\""))
        << slurp(dir.path() / "serve.log");
}

TEST(ServeOptions, ABadTrustedProxyOrLimitIsRefusedWithAMessageThatNamesIt) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    {
        ServeProcess serve(dir.path(), "127.0.0.1:0", {"--trusted-proxy", "proxy.example.com"});
        EXPECT_EQ(serve.ready_line(), "");
        EXPECT_NE(serve.wait(), 0);
        EXPECT_TRUE(
            has(slurp(dir.path() / "serve.log"), "--trusted-proxy proxy.example.com: expected an IP address"))
            << slurp(dir.path() / "serve.log");
    }
    {
        ServeProcess serve(dir.path(), "127.0.0.1:0", {"--max-connections-per-address", "0"});
        EXPECT_EQ(serve.ready_line(), "");
        EXPECT_EQ(serve.wait(), 2);
        EXPECT_TRUE(has(slurp(dir.path() / "serve.log"),
                        "--max-connections-per-address 0: expected a whole number >= 1"))
            << slurp(dir.path() / "serve.log");
    }
}

}  // namespace
}  // namespace tezgah::testing
