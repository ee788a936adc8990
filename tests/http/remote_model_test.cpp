// The chat API over a remote model (the openai plugin against the fake server): a stream that
// breaks part-way is withdrawn with a `reset` event; a customer who hangs up cancels the call in
// flight; the model's calls and the cache show in /metrics.
#include "http_fixture.hpp"
#include "support/fake_openai.hpp"

#include <Poco/Net/StreamSocket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

class RemoteModelTest : public ServerFixture {
protected:
    void use(const FakeOpenAi& fake, json::object extra = {}) {
        json::object llm{{"provider", "openai"},
                         {"api_key", "k"},
                         {"base_url", fake.base_url()},
                         {"model", "gpt-4o-mini"},
                         {"max_retries", 0}};
        for (auto& [k, v] : extra) llm[k] = v;
        edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json",
                  [&](json::value& v) { v.as_object()["llm"] = llm; });
    }
};

TEST_F(RemoteModelTest, AStreamBrokenPartWayIsWithdrawnAndTheFallbacksAnswerFollows) {
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::drop("Saten gecelik şu anda"));
    use(fake);
    start();
    auto reply =
        chat("gece-butik", chat_body("saten gecelik ne kadar?", "u1"), {{"Accept", "text/event-stream"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    auto events = parse_events(reply.body);
    ASSERT_FALSE(events.empty());
    std::string shown;  // what a client shows: the deltas since the last reset
    bool reset = false;
    for (const auto& e : events) {
        if (e.name == "reset") {
            reset = true;
            shown.clear();
        } else if (e.name == "delta") {
            shown += json::parse(e.data).at("text").as_string();
        }
    }
    EXPECT_TRUE(reset) << reply.body;
    ASSERT_EQ(events.back().name, "done");
    auto done = json::parse(events.back().data).as_object();
    EXPECT_EQ(done.at("method").as_string(), "fallback");
    EXPECT_EQ(shown, std::string(done.at("reply").as_string()));
}

TEST_F(RemoteModelTest, ACustomerWhoHangsUpCancelsTheModelCall) {
    FakeOpenAi fake;
    fake.push_back(FakeOpenAiBehaviour::stall(10s));
    use(fake, {{"deadline_ms", 30000}, {"timeout_ms", 30000}});
    start();
    {
        Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
        const std::string body = chat_body("saten gecelik ne kadar?", "leaver");
        const std::string request =
            "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: x\r\nContent-Type: "
            "application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        socket.sendBytes(request.data(), static_cast<int>(request.size()));
        ASSERT_TRUE(fake.wait_for_requests(1)) << "the model was never called";
        socket.close();  // the customer leaves while the model "thinks"
    }
    // The same customer's next message waits for the first turn: it comes back long before the
    // stalled model would have answered, because that call was cancelled.
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(fake.wait_for_cut_offs(1)) << "the model call was not cancelled";
    auto next = chat("gece-butik", chat_body("kargo ücreti ne kadar?", "leaver"));
    EXPECT_EQ(next.status, 200) << next.body;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
}

// Turns run as coroutines on the turn threads: twenty customers waiting a second each on the
// model are answered together by a server with one turn thread, not one after the other.
TEST_F(RemoteModelTest, TurnsWaitingOnTheModelHoldNoTurnThread) {
    FakeOpenAi fake;
    constexpr int kCustomers = 20;
    for (int i = 0; i < kCustomers; ++i) fake.push_back(FakeOpenAiBehaviour::stall(1s));
    use(fake, {{"deadline_ms", 30000}, {"timeout_ms", 30000}});
    ServerOptions options;
    options.turn_threads = 1;
    start(options);
    std::vector<std::thread> customers;
    std::atomic<int> by_model{0};
    std::mutex mutex;
    std::string failure;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < kCustomers; ++i) {
        customers.emplace_back([&, i] {
            auto reply =
                chat("gece-butik", chat_body("saten gecelik ne kadar?", "waiting-" + std::to_string(i)));
            if (reply.status == 200 && contains(reply.body, "\"method\":\"llm\"")) {
                ++by_model;
                return;
            }
            std::lock_guard lock(mutex);
            failure = std::to_string(reply.status) + " " + reply.body;
        });
    }
    for (auto& customer : customers) customer.join();
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(by_model, kCustomers) << failure;
    EXPECT_LT(took, 10s) << "one turn thread answered the waiting customers one at a time";
}

TEST_F(RemoteModelTest, ModelCallsCostsAndTheCacheShowInMetrics) {
    FakeOpenAi fake;
    use(fake);
    start();
    EXPECT_EQ(chat("gece-butik", chat_body("iade koşulları neler?", "m1")).status, 200);
    auto cached = chat("gece-butik", chat_body("iade koşulları neler?", "m2"));
    EXPECT_EQ(json::parse(cached.body).at("method").as_string(), "cache") << cached.body;
    auto metrics = http_request(port, "GET", "/metrics").body;
    EXPECT_NE(metrics.find("tezgah_llm_calls_total{"), std::string::npos);
    EXPECT_NE(metrics.find("tezgah_llm_cost_usd_total{"), std::string::npos);
    EXPECT_NE(metrics.find("tezgah_response_cache_requests_total{"), std::string::npos);
    EXPECT_NE(metrics.find("result=\"hit\""), std::string::npos);
}

// Workers are held by turns, never by connections: with every worker busy on a model that does
// not answer and the queue full, a chat request is refused at once with 503, /health still
// answers, and the queued turn is served once a worker is free.
TEST_F(RemoteModelTest, AnswersOverloadedWith503WhenEveryWorkerAndTheQueueAreTaken) {
    FakeOpenAi fake;
    for (int i = 0; i < 3; ++i) fake.push_back(FakeOpenAiBehaviour::stall(3s));
    use(fake, {{"deadline_ms", 30000}, {"timeout_ms", 30000}});
    ServerOptions options;
    options.threads = 2;
    options.queue = 1;
    start(options);
    auto send_chat = [&](const std::string& user) {
        auto socket = std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress("127.0.0.1", port));
        const std::string body = chat_body("saten gecelik ne kadar?", user);
        const std::string request =
            "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
            "application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        socket->sendBytes(request.data(), static_cast<int>(request.size()));
        return socket;
    };
    // Two turns hold both workers while the model thinks; a third waits in the queue.
    auto first = send_chat("busy-1");
    auto second = send_chat("busy-2");
    ASSERT_TRUE(fake.wait_for_requests(2)) << "the two turns never reached the model";
    auto queued = send_chat("queued");
    std::this_thread::sleep_for(200ms);  // let the loop queue it
    // A fourth is turned away at once, with the contract's error.
    const std::string body = chat_body("merhaba", "refused");
    const auto begun = std::chrono::steady_clock::now();
    auto rejected = raw_exchange(port,
                                 "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: x\r\nConnection: "
                                 "close\r\nContent-Type: application/json\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n" + body,
                                 std::chrono::seconds(5));
    EXPECT_LT(std::chrono::steady_clock::now() - begun, 2s);
    EXPECT_EQ(raw_status(rejected), 503) << rejected;
    EXPECT_TRUE(contains(rejected, "\"overloaded\"")) << rejected;
    EXPECT_TRUE(contains(lower(rejected), "retry-after:")) << rejected;
    EXPECT_TRUE(contains(lower(rejected), "x-request-id:")) << rejected;
    // /health has its own worker.
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);

    // Once the model answers, the queued turn is served.
    queued->setReceiveTimeout(Poco::Timespan(20, 0));
    std::string answer;
    char buffer[4096];
    try {
        for (int n; (n = queued->receiveBytes(buffer, sizeof buffer)) > 0;)
            answer.append(buffer, static_cast<std::size_t>(n));
    } catch (const std::exception&) {
    }
    EXPECT_EQ(raw_status(answer), 200) << answer;
}

}  // namespace
}  // namespace tezgah::testing
