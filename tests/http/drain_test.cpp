// `tezgah serve` draining on SIGTERM (docs/operations.md, "Draining"): readiness for a load
// balancer, a slow model turn in flight answered and stored before the process exits 0, and a
// drain whose time runs out exiting anyway, saying what it left.
#include "http_fixture.hpp"
#include "support/fake_openai.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <future>
#include <thread>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

/// The fixture tenants, gece-butik answering through the openai plugin against `fake`.
void use_fake_model(const fs::path& dir, const FakeOpenAi& fake) {
    copy_fixtures(dir / "tenants");
    edit_json(dir / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] =
            json::object{{"provider", "openai"},   {"api_key", "k"},   {"base_url", fake.base_url()},
                         {"model", "gpt-4o-mini"}, {"max_retries", 0}, {"deadline_ms", 60000},
                         {"timeout_ms", 60000}};
    });
}

std::string chat_with_id(const std::string& text, const std::string& user, const std::string& message_id) {
    return json::serialize(json::object{{"text", text}, {"user_id", user}, {"message_id", message_id}});
}

/// True when a new connection to `port` is refused (or answered 503): a load balancer stops
/// sending to it.
bool takes_no_new_traffic(std::uint16_t port) {
    try {
        return http_request(port, "GET", "/health/ready").status == 503;
    } catch (const std::exception&) {
        return true;  // refused or closed: the listener is gone
    }
}

TEST(Drain, ASlowModelTurnInFlightAtSigtermIsAnsweredAndStoredThenTheProcessExitsZero) {
    TempDir dir;
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::stall(1500ms));
    use_fake_model(dir.path(), fake);
    std::string reply_text;
    std::size_t model_calls = 0;
    {
        ServeProcess serve(dir.path(), "127.0.0.1:0", {"--drain-seconds", "20"});
        const auto port = port_of(serve.ready_line());
        ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
        auto ready = http_request(port, "GET", "/health/ready");
        EXPECT_EQ(ready.status, 200);
        EXPECT_EQ(ready.json().at("status"), "ready");
        EXPECT_NE(http_request(port, "GET", "/metrics").body.find("\ntezgah_ready 1"), std::string::npos);

        auto turn = std::async(std::launch::async, [port] {
            return http_request(port, "POST", "/v1/tenants/gece-butik/chat",
                                chat_with_id("saten gecelik ne kadar?", "drain-user", "drain-m1"));
        });
        ASSERT_TRUE(fake.wait_for_requests(1)) << "the model was never called";
        const auto signalled = std::chrono::steady_clock::now();
        serve.signal(SIGTERM);
        // New traffic is refused at once, while the turn is still waiting on the model.
        std::this_thread::sleep_for(100ms);
        EXPECT_TRUE(takes_no_new_traffic(port));
        EXPECT_EQ(turn.wait_for(0ms), std::future_status::timeout)
            << "the turn ended before the model answered";

        const auto answered = turn.get();
        ASSERT_EQ(answered.status, 200) << answered.body;
        reply_text = std::string(answered.json().at("reply").as_string());
        EXPECT_FALSE(reply_text.empty());
        model_calls = fake.request_count();  // the question and the answer after its tool call
        EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
        EXPECT_LT(std::chrono::steady_clock::now() - signalled, 10s);
        EXPECT_NE(slurp(dir.path() / "serve.log").find("draining"), std::string::npos);
    }
    // The reply was stored: a retry of the same message id on a new process is answered from the
    // database, without asking the model again.
    ServeProcess again(dir.path());
    const auto port = port_of(again.ready_line());
    ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
    auto retried = http_request(port, "POST", "/v1/tenants/gece-butik/chat",
                                chat_with_id("saten gecelik ne kadar?", "drain-user", "drain-m1"));
    ASSERT_EQ(retried.status, 200) << retried.body;
    EXPECT_EQ(std::string(retried.json().at("reply").as_string()), reply_text);
    EXPECT_EQ(fake.request_count(), model_calls);
    again.signal(SIGTERM);
    EXPECT_EQ(again.wait(), 0);
}

TEST(Drain, WhenTheDrainTimeRunsOutTheProcessExitsAndSaysWhatItLeft) {
    TempDir dir;
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::stall(30s));
    use_fake_model(dir.path(), fake);
    ServeProcess serve(dir.path(), "127.0.0.1:0", {"--drain-seconds", "1"});
    const auto port = port_of(serve.ready_line());
    ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
    auto turn = std::async(std::launch::async, [port] {
        try {
            return http_request(port, "POST", "/v1/tenants/gece-butik/chat",
                                chat_with_id("saten gecelik ne kadar?", "stuck-user", "stuck-m1"));
        } catch (const std::exception&) {
            return HttpReply{};  // the process went away under it
        }
    });
    ASSERT_TRUE(fake.wait_for_requests(1));
    const auto signalled = std::chrono::steady_clock::now();
    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
    EXPECT_LT(std::chrono::steady_clock::now() - signalled, 5s);
    const auto log = slurp(dir.path() / "serve.log");
    EXPECT_NE(log.find("exiting with work unfinished"), std::string::npos) << log;
    EXPECT_NE(log.find("\"requests\":\"1\""), std::string::npos) << log;
    turn.wait();
}

}  // namespace
}  // namespace tezgah::testing
