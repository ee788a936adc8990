// The outbox through the real binary: customers write on the `relay` channel, their replies are
// queued while the provider fails, `tezgah serve` is killed with SIGKILL, started again on the same
// database, and every reply reaches the provider exactly once; status callbacks, /metrics and
// /health/detailed see it. On both backends.
#include "outbox/outbox_fixture.hpp"

#include "http/http_fixture.hpp"
#include "store/store_fixture.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <signal.h>

namespace tezgah::testing {
namespace {

using engine::Backend;
using Answer = FakeProvider::Answer;

class ServeOutboxTest : public RelayOnBackendTest {
protected:
    std::unique_ptr<ServeProcess> serve() {
        auto process = std::make_unique<ServeProcess>(
            dir.path(), "127.0.0.1:0",
            std::vector<std::string>{"--db", scratch->url(), "--plugins",
                                     plugin_dir().string() + ":" + OUTBOX_PLUGIN_DIR, "--outbox-retry-ms",
                                     "50", "--outbox-max-retry-ms", "300", "--outbox-lease-ms", "1000"});
        port = port_of(process->ready_line());
        EXPECT_NE(port, 0) << slurp(dir.path() / "serve.log");
        return process;
    }

    HttpReply customer_writes(const std::string& id, const std::string& from) {
        const std::string body =
            json::serialize(json::object{{"from", from}, {"text", "saten gecelik ne kadar?"}, {"id", id}});
        return http_request(port, "POST", "/v1/tenants/gece-butik/channels/relay", body);
    }

    long long queued_now() {
        auto health = http_request(port, "GET", "/health/detailed").json();
        if (!health.is_object()) return -1;
        return health.at("outbox").at("queued").as_int64();
    }

    std::uint16_t port = 0;
};

TEST_P(ServeOutboxTest, RepliesQueuedWhenKilledReachTheProviderExactlyOnce) {
    constexpr int kCustomers = 6;
    provider.always(Answer::server_error);
    {
        auto first = serve();
        ASSERT_NE(port, 0);
        for (int i = 0; i < kCustomers; ++i) {
            auto reply = customer_writes("m-" + std::to_string(i), "+90555000000" + std::to_string(i));
            ASSERT_EQ(reply.status, 202) << reply.body;
        }
        // The same inbound message again (the provider redelivers it): answered, not queued twice.
        ASSERT_EQ(customer_writes("m-0", "+905550000000").status, 202);
        // Every reply tried, some more than once, all refused.
        ASSERT_TRUE(provider.server().wait_for_requests(2 * kCustomers));
        EXPECT_EQ(provider.accepted_keys(), 0u);
        EXPECT_EQ(queued_now(), kCustomers);
        first->signal(SIGKILL);
        first->wait();
    }
    provider.always(Answer::ok);
    auto second = serve();
    ASSERT_NE(port, 0);
    ASSERT_TRUE(eventually([&] { return queued_now() == 0; })) << slurp(dir.path() / "serve.log");
    const auto accepted = provider.accepted();
    EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kCustomers));
    for (const auto& [key, count] : accepted) EXPECT_EQ(count, 1) << key;
    // Each customer got the answer to their own question.
    for (const auto& request : provider.server().requests()) {
        auto body = json::parse(request.body);
        EXPECT_TRUE(body.at("to").as_string().starts_with("+90555000000"));
        EXPECT_FALSE(body.at("text").as_string().empty());
    }

    // A status callback moves one on; /metrics counts by state.
    const std::string delivered_id = "p-" + accepted.begin()->first;
    auto status = http_request(port, "POST", "/v1/tenants/gece-butik/channels/relay/status",
                               json::serialize(json::object{{"id", delivered_id}, {"status", "delivered"}}));
    EXPECT_EQ(status.status, 200) << status.body;
    auto metrics = http_request(port, "GET", "/metrics").body;
    EXPECT_NE(metrics.find("tezgah_outbox_queue_depth 0"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("tezgah_outbox_messages{state=\"delivered\"} 1"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("tezgah_outbox_messages{state=\"sent\"} " + std::to_string(kCustomers - 1)),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find(
                  "tezgah_outbox_sends_total{channel=\"relay\",result=\"accepted\",tenant=\"gece-butik\"}"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("tezgah_outbox_send_duration_seconds_count{channel=\"relay\"}"),
              std::string::npos);

    // A report that names no message, or a state that is not one, changes nothing and says so.
    auto unknown = http_request(port, "POST", "/v1/tenants/gece-butik/channels/relay/status",
                                json::serialize(json::object{{"id", "p-nobody"}, {"status", "read"}}));
    EXPECT_EQ(unknown.status, 200);
    auto bad = http_request(port, "POST", "/v1/tenants/gece-butik/channels/relay/status",
                            json::serialize(json::object{{"id", delivered_id}, {"status", "lost"}}));
    EXPECT_EQ(bad.status, 422) << bad.body;
}

TEST_P(ServeOutboxTest, AMessageTheProviderRefusesIsFailedAndShownWithItsError) {
    provider.always(Answer::bad_request);
    auto process = serve();
    ASSERT_NE(port, 0);
    ASSERT_EQ(customer_writes("m-refused", "+905551234567").status, 202);
    ASSERT_TRUE(eventually([&] {
        return http_request(port, "GET", "/metrics")
                   .body.find("tezgah_outbox_messages{state=\"failed\"} 1") != std::string::npos;
    }));
    EXPECT_EQ(queued_now(), 0);
    EXPECT_EQ(provider.server().request_count(), 1u);
    auto health = http_request(port, "GET", "/health/detailed").json();
    EXPECT_EQ(health.at("status").as_string(), "ok");
}

TEST_P(ServeOutboxTest, AStuckProviderDegradesDetailedHealthNotLiveness) {
    provider.always(Answer::server_error);
    auto process = serve();
    ASSERT_NE(port, 0);
    ASSERT_EQ(customer_writes("m-stuck", "+905557654321").status, 202);
    ASSERT_TRUE(provider.server().wait_for_requests(2));
    auto health = http_request(port, "GET", "/health/detailed").json();
    EXPECT_EQ(health.at("outbox").at("queued").as_int64(), 1);
    // Not stuck yet: it was queued moments ago (stuck after five minutes).
    EXPECT_EQ(health.at("outbox").at("stuck").as_array().size(), 0u);
    EXPECT_EQ(http_request(port, "GET", "/health").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServeOutboxTest, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         ::tezgah::engine::testing::backend_name);

}  // namespace
}  // namespace tezgah::testing
