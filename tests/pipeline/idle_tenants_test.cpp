// Idle tenants (`tezgah serve --tenant-idle-minutes`): a tenant without a message for the idle time
// is unloaded by the watcher — its memory freed, its status "unloaded" — and its next message loads
// it again and is answered as before. Time is a clock the test moves.
#include "ops/metrics.hpp"
#include "pipeline/engine.hpp"

#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace tezgah::engine;
using namespace tezgah::testing;
namespace sdk = tezgah::sdk;

namespace {

using namespace std::chrono_literals;

/// A clock that stands still until the test moves it.
class ManualClock final : public sdk::Clock {
public:
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(millis_.load()));
    }
    void advance(std::chrono::milliseconds by) { millis_ += by.count(); }

private:
    std::atomic<long long> millis_{1796115600000};  // 2026-12-01T09:00:00Z
};

/// tezgah_tenants_unloaded_total as /metrics shows it.
double unloaded_total() {
    const auto text = Metrics::global().render();
    const std::string name = "\ntezgah_tenants_unloaded_total ";
    const auto at = text.find(name);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size()));
}

class IdleTenants : public ::testing::Test {
protected:
    void SetUp() override {
        copy_fixtures(dir.path() / "tenants");
        engine = std::make_unique<Engine>(options("t.db", 30min));
        engine->set_clock(&clock);
        ASSERT_TRUE(engine->start().ok());
    }
    void TearDown() override {
        if (engine) engine->stop_watching();
    }

    std::string ask(const std::string& tenant, const std::string& text) {
        sdk::InboundMessage m;
        m.tenant_id = tenant;
        m.user_id = "idle-user";
        m.text = text;
        m.channel = "test";
        auto r = engine->handle(m);
        return r.ok() ? r->reply : "ERROR " + r.error().code + ": " + r.error().message;
    }

    /// An engine on the copied tenants, its database `db` in the folder; `idle` zero: never unloads.
    EngineOptions options(const std::string& db, std::chrono::minutes idle) const {
        EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = "sqlite:" + (dir.path() / db).string();
        o.plugin_path = {plugin_dir()};
        o.tenant_idle = idle;
        return o;
    }

    std::string state(const std::string& id) {
        for (const auto& s : engine->tenants())
            if (s.id == id) return s.state;
        return "(absent)";
    }

    /// Waits (the watcher runs every 10 ms) until `id` is in `wanted`, up to five seconds.
    bool reaches(const std::string& id, const std::string& wanted) {
        for (int i = 0; i < 500; ++i) {
            if (state(id) == wanted) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    ManualClock clock;
    TempDir dir;
    std::unique_ptr<Engine> engine;
};

TEST_F(IdleTenants, ATenantIdleForTheSetTimeIsUnloadedFreedAndLoadedAgainOnItsNextMessage) {
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("599"), std::string::npos);
    {
        auto a = ask("nefes-studyo", "merhaba");
        EXPECT_FALSE(a.starts_with("ERROR")) << a;
    }
    std::weak_ptr<Tenant> first_load = engine->tenant("gece-butik").value();
    const double unloaded_before = unloaded_total();
    engine->start_watching(10ms);

    // 20 minutes on, the studio writes again; 15 minutes later the shop has been idle for 35.
    clock.advance(20min);
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(state("gece-butik"), "loaded") << "unloaded before its idle time";
    EXPECT_FALSE(ask("nefes-studyo", "yoga dersleri ne zaman?").starts_with("ERROR"));
    clock.advance(15min);

    ASSERT_TRUE(reaches("gece-butik", "unloaded")) << state("gece-butik");
    EXPECT_EQ(state("nefes-studyo"), "loaded");  // used 15 minutes ago
    EXPECT_TRUE(first_load.expired()) << "something still holds the unloaded tenant: its memory is not freed";
    EXPECT_EQ(unloaded_total(), unloaded_before + 1);

    // Its next message loads it again and is answered as before.
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("599"), std::string::npos);
    EXPECT_EQ(state("gece-butik"), "loaded");

    // The studio, idle now for 30 minutes, goes too; nothing is unloaded twice.
    clock.advance(15min);
    ASSERT_TRUE(reaches("nefes-studyo", "unloaded"));
    EXPECT_EQ(state("gece-butik"), "loaded");
    EXPECT_EQ(unloaded_total(), unloaded_before + 2);
}

TEST_F(IdleTenants, AConversationOfAnUnloadedTenantContinuesFromTheDatabaseAfterItLoadsAgain) {
    // Tenants unloaded after 10 idle minutes, well within a conversation's 30 (idle_timeout).
    engine = std::make_unique<Engine>(options("t3.db", 10min));
    engine->set_clock(&clock);
    ASSERT_TRUE(engine->start().ok());
    // "stokta var mı?" names no product: only the turn before (its session and history) says which.
    EXPECT_NE(ask("gece-butik", "Kadife sabahlık kaç TL?").find("599"), std::string::npos);
    EXPECT_FALSE(ask("nefes-studyo", "merhaba").starts_with("ERROR"));
    EXPECT_EQ(engine->cached_conversations(), 2u);
    engine->start_watching(10ms);
    clock.advance(6min);
    EXPECT_FALSE(ask("nefes-studyo", "yoga dersleri ne zaman?").starts_with("ERROR"));
    clock.advance(6min);
    ASSERT_TRUE(reaches("gece-butik", "unloaded")) << state("gece-butik");

    // Its customer's cached conversation went with it; the studio's (still loaded) stays.
    EXPECT_EQ(engine->cached_conversations(), 1u) << "the unloaded tenant's conversation is still cached";

    // Loaded again, the shop reads the conversation from the database and continues it.
    const auto reply = ask("gece-butik", "stokta var mı?");
    EXPECT_NE(reply.find("Kadife Sabahlık"), std::string::npos) << reply;
    EXPECT_TRUE(reply.find("stokta var") != std::string::npos ||
                reply.find("stokta son") != std::string::npos)
        << reply;
    EXPECT_EQ(engine->cached_conversations(), 2u);
}

TEST_F(IdleTenants, ATenantNeverAskedForStaysNotLoadedAndWithoutAnIdleTimeNothingIsUnloaded) {
    EXPECT_FALSE(ask("gece-butik", "merhaba").starts_with("ERROR"));
    engine->stop_watching();
    // A second engine on the same folder without an idle time: its tenants stay loaded.
    Engine keeps(options("t2.db", 0min));
    keeps.set_clock(&clock);
    ASSERT_TRUE(keeps.start().ok());
    sdk::InboundMessage m;
    m.tenant_id = "gece-butik";
    m.user_id = "keeper";
    m.text = "merhaba";
    m.channel = "test";
    ASSERT_TRUE(keeps.handle(m).ok());
    keeps.start_watching(10ms);
    engine->start_watching(10ms);
    clock.advance(24h);
    ASSERT_TRUE(reaches("gece-butik", "unloaded"));
    EXPECT_EQ(state("nefes-studyo"), "not_loaded");  // never loaded: nothing to unload
    std::string kept;
    for (const auto& s : keeps.tenants())
        if (s.id == "gece-butik") kept = s.state;
    EXPECT_EQ(kept, "loaded");
    keeps.stop_watching();
}

}  // namespace
