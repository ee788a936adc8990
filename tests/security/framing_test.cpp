// Framing: every request the server cannot take is refused with the contract's JSON error and an
// X-Request-Id, and logged — long URLs and headers, bad request lines and lengths, broken chunked
// bodies, transfer codings it does not speak (at once, not after a timeout).
#include "security/security_fixture.hpp"

#include "support/captured_log.hpp"

#include <gtest/gtest.h>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

struct FramingCase {
    std::string name;
    std::string bytes;
    int status;
    std::string code;
};

std::string chat_head(const std::string& extra) {
    return "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
           extra;
}

class Framing : public ServerFixture {
protected:
    // Outlives the server: the fixture's TearDown stops it before members go (a sink removed
    // while server threads log would race).
    CapturedLog log;
};

TEST_F(Framing, EveryRefusalCarriesTheJsonErrorAndARequestIdAndIsLogged) {
    start();
    const std::string body = chat_body("merhaba", "u1");
    std::string many_headers = "GET /health HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 150; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
    many_headers += "\r\n";
    const std::vector<FramingCase> cases = {
        {"a 100 KB URL", "GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414,
         "uri_too_long"},
        {"a 100 KB header",
         "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100 * 1024, 'b') + "\r\n\r\n", 431,
         "headers_too_large"},
        {"150 headers", many_headers, 431, "headers_too_large"},
        {"a garbage request line", "HELLO THERE\r\n\r\n", 400, "bad_request"},
        {"binary garbage", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 16), 400,
         "bad_request"},
        {"Content-Length: abc", chat_head("Content-Length: abc\r\n\r\n") + body, 400, "bad_request"},
        {"two different Content-Lengths",
         chat_head("Content-Length: " + std::to_string(body.size()) + "\r\nContent-Length: 3\r\n\r\n") + body,
         400, "bad_request"},
        {"a broken chunked body",
         chat_head("Transfer-Encoding: chunked\r\n\r\nZZ\r\nnot a chunk\r\n0\r\n\r\n"), 400, "bad_request"},
        {"Transfer-Encoding: gzip", chat_head("Transfer-Encoding: gzip\r\n\r\n") + body, 501,
         "not_implemented"},
        {"HTTP/2.0 in the request line", "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505, "bad_request"},
    };
    for (const auto& c : cases) {
        std::string answer;
        const auto took = timed([&] { answer = raw_exchange(port, c.bytes, 20s); });
        EXPECT_LT(took, 3s) << c.name << ": answered only after a timeout";
        EXPECT_EQ(raw_status(answer), c.status) << c.name << ": " << answer.substr(0, 400);
        const auto error = raw_json(answer);
        ASSERT_TRUE(error.is_object()) << c.name << ": no JSON body: " << answer.substr(0, 400);
        EXPECT_EQ(error.at("error").at("code").as_string(), c.code) << c.name;
        EXPECT_FALSE(error.at("error").at("message").as_string().empty()) << c.name;
        const auto request_id = raw_header(answer, "X-Request-Id");
        EXPECT_FALSE(request_id.empty()) << c.name;
        EXPECT_EQ(error.at("error").at("request_id").as_string(), request_id) << c.name;
        bool logged = false;
        for (const auto& line : log.lines_with("request"))
            logged =
                logged || (line.contains("request_id") && line.at("request_id").as_string() == request_id &&
                           line.at("status").as_string() == std::to_string(c.status));
        EXPECT_TRUE(logged) << c.name << ": not in the log:\n" << log.text();
    }
    // The server still answers after all of that.
    EXPECT_EQ(chat("gece-butik", chat_body("merhaba", "u1")).status, 200);
}

TEST_F(Framing, ABodyThatStopsHalfWayIsCutOffAtTheBodyDeadline) {
    ServerOptions options;
    options.body_deadline = 1s;
    start(options);
    const std::string body = chat_body("merhaba", "u1");
    std::string answer;
    const auto took = timed([&] {
        answer = raw_exchange(
            port,
            chat_head("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n") + body.substr(0, 5),
            20s);
    });
    EXPECT_LT(took, 8s);
    EXPECT_EQ(raw_status(answer), 408) << answer;
    EXPECT_EQ(raw_json(answer).at("error").at("code").as_string(), "request_timeout");
}

TEST_F(Framing, PipelinedRequestsOnOneConnectionAreAllAnswered) {
    start();
    const std::string body = chat_body("merhaba", "pipelined");
    const std::string chat_request =
        chat_head("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n") + body;
    const auto answer = raw_exchange(port,
                                     "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + chat_request +
                                         "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                     20s);
    std::size_t responses = 0;
    for (std::size_t at = answer.find("HTTP/1.1 200"); at != std::string::npos;
         at = answer.find("HTTP/1.1 200", at + 1))
        ++responses;
    EXPECT_EQ(responses, 3u) << answer;
}

}  // namespace
}  // namespace tezgah::testing
