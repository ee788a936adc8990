// A message id can never be stuck: one left in flight by a server killed with SIGKILL mid-turn
// answers 409 duplicate_in_flight until the turn's deadline and the in-flight margin have passed,
// then exactly once; the same id then gets the same reply.
#include "http/http_fixture.hpp"
#include "support/fake_openai.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace tezgah::testing;

namespace {

TEST(StuckIds, AMessageIdInFlightWhenTheServerWasKilledIsAnsweredAfterTheDeadlineAndTheMargin) {
    using namespace std::chrono;
    FakeOpenAi model;
    model.push_back(FakeOpenAiBehaviour::stall(minutes(5)));  // the first attempt's model never answers
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    auto use_deadline = [&](int deadline_ms) {
        edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
            v.as_object()["llm"] =
                json::object{{"provider", "openai"},   {"api_key", "k"},   {"base_url", model.base_url()},
                             {"model", "gpt-4o-mini"}, {"max_retries", 0}, {"deadline_ms", deadline_ms}};
        });
    };
    // The first server gives the turn a long deadline, so it is surely still waiting on the model
    // when it is killed (with 1 s, the fallback could answer first on a busy machine). The restarted
    // server judges the claim by what it is configured with: a deadline of 1 s plus a margin of 4 s.
    use_deadline(60000);
    const auto expiry = milliseconds(1000) + milliseconds(4000);
    const std::string body = json::serialize(
        json::object{{"text", "saten gecelik ne kadar?"}, {"user_id", "killed"}, {"message_id", "m-killed"}});
    const std::string path = "/v1/tenants/gece-butik/chat";

    // The claim is taken after `sent`, when the server stores the message.
    const auto sent = steady_clock::now();
    bool in_flight = false;
    {
        ServeProcess first(dir.path());
        const auto port = port_of(first.ready_line());
        ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
        std::thread client([&] {
            try {
                http_request(port, "POST", path, body);  // never answered: the server dies
            } catch (const std::exception&) {
            }
        });
        // Once the model has the request, the message is stored and its turn is in flight.
        in_flight = model.wait_for_requests(1);
        first.signal(SIGKILL);
        first.wait();
        client.join();
    }
    ASSERT_TRUE(in_flight) << "the model was never called: " << slurp(dir.path() / "serve.log");

    use_deadline(1000);
    ServeProcess second(dir.path(), "127.0.0.1:0", {"--in-flight-margin-ms", "4000"});
    const auto port = port_of(second.ready_line());
    ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");

    // Retried as a client would: 409 while the killed attempt might still be answering, then
    // answered. The only waits that are not for an event are these pauses between retries.
    int refused = 0;
    HttpReply answered;
    while (true) {
        auto r = http_request(port, "POST", path, body);
        if (r.status != 409) {
            answered = std::move(r);
            break;
        }
        EXPECT_EQ(r.error_code(), "duplicate_in_flight") << r.body;
        ++refused;
        ASSERT_LT(steady_clock::now() - sent, expiry + seconds(60)) << "still refused: " << r.body;
        std::this_thread::sleep_for(milliseconds(250));
    }
    const auto answered_after = steady_clock::now() - sent;
    ASSERT_EQ(answered.status, 200) << answered.body;
    EXPECT_GE(answered_after, expiry) << "answered before the claim could have expired";
    EXPECT_GT(refused, 0) << "the restart took longer than the claim lasts; nothing was refused";
    const auto reply = answered.json().as_object();
    EXPECT_FALSE(reply.at("reply").as_string().empty());
    EXPECT_GE(model.request_count(), 2u);  // the retry's turn asked the model again

    // Answered now: the same id gets the same reply, and nothing runs again.
    const auto asked = model.request_count();
    auto again = http_request(port, "POST", path, body);
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.json().at("reply"), reply.at("reply"));
    EXPECT_EQ(model.request_count(), asked);
    second.signal(SIGTERM);
    EXPECT_EQ(second.wait(), 0) << slurp(dir.path() / "serve.log");

    // One customer message for the id, and one reply, in the conversation.
    auto db = tezgah::engine::Database::open("sqlite:" + (dir.path() / "var" / "tezgah.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    auto messages =
        (*db)->recent_messages("gece-butik", std::string(reply.at("conversation_id").as_string()), 100);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    ASSERT_EQ(messages->size(), 2u);
    EXPECT_EQ((*messages)[0].role, "user");
    EXPECT_EQ((*messages)[0].text, "saten gecelik ne kadar?");
    EXPECT_EQ((*messages)[1].role, "assistant");
}

}  // namespace
