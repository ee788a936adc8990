#pragma once
// What the outbox tests share: a fake provider on loopback that answers as it is told (200, 429
// with Retry-After, 500, 400, a dropped connection) and counts what it accepted per idempotency
// key, and a copy of the fixture tenants whose gece-butik enables the test channel `relay`.

#include "store/store_fixture.hpp"
#include "support/fake_http_server.hpp"
#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace tezgah::testing {

/// The fake provider of the `relay` channel: POST /messages.
class FakeProvider {
public:
    enum class Answer { ok, too_many, server_error, bad_request, drop };

    FakeProvider()
        : server_([this](const RecordedRequest& request, FakeReply& reply) { answer(request, reply); }) {}

    std::string url() const { return server_.url(); }
    FakeHttpServer& server() { return server_; }

    /// Answers from now on, once the scripted answers are used up.
    void always(Answer answer) {
        std::lock_guard lock(mutex_);
        default_ = answer;
    }
    /// The next answers, in order, before the default.
    void then(Answer answer) {
        std::lock_guard lock(mutex_);
        script_.push_back(answer);
    }
    /// 200 answers given, per Idempotency-Key.
    std::map<std::string, int> accepted() const {
        std::lock_guard lock(mutex_);
        return accepted_;
    }
    std::size_t accepted_keys() const { return accepted().size(); }

private:
    void answer(const RecordedRequest& request, FakeReply& reply) {
        Answer answer;
        {
            std::lock_guard lock(mutex_);
            if (!script_.empty()) {
                answer = script_.front();
                script_.pop_front();
            } else {
                answer = default_;
            }
            if (answer == Answer::ok) ++accepted_[request.header("idempotency-key")];
        }
        reply.content_type("application/json");
        switch (answer) {
            case Answer::ok:
                reply.status(200);
                reply.body(R"({"id":"p-)" + request.header("idempotency-key") + R"("})");
                return;
            case Answer::too_many:
                reply.status(429);
                reply.header("Retry-After", "1");
                reply.body(R"({"error":"slow down"})");
                return;
            case Answer::server_error:
                reply.status(500);
                reply.body(R"({"error":"provider is down"})");
                return;
            case Answer::bad_request:
                reply.status(400);
                reply.body(R"({"error":"recipient is not a WhatsApp user"})");
                return;
            case Answer::drop:
                reply.drop();
                return;
        }
    }

    mutable std::mutex mutex_;
    std::deque<Answer> script_;
    Answer default_ = Answer::ok;
    std::map<std::string, int> accepted_;
    FakeHttpServer server_;  // last: stops before what its handler uses goes
};

/// The fixture tenants in `tenants`, gece-butik with the `relay` channel pointed at `provider`.
inline void tenants_with_relay(const fs::path& tenants, const std::string& provider) {
    fs::copy(fixtures_dir(), tenants, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    edit_json(tenants / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["channels"].as_object()["relay"] = json::object{{"api_base_url", provider}};
    });
}

/// Waits (polling) until `done()` or `timeout`: whether it happened. For state kept in a
/// database or another process, which cannot signal.
template <class Done>
bool eventually(Done&& done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

/// A test on each database backend with the relay tenants in a temporary folder and a fake provider.
class RelayOnBackendTest : public ::testing::TestWithParam<engine::Backend> {
protected:
    void SetUp() override {
        if (GetParam() == engine::Backend::postgresql &&
            engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        tenants_with_relay(dir.path() / "tenants", provider.url());
    }

    TempDir dir;
    FakeProvider provider;
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
};

}  // namespace tezgah::testing
