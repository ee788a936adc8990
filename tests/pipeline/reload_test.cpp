// Hot reload: edits are live without a restart; a bad edit keeps the last good version serving.
#include "pipeline/engine.hpp"

#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace tezgah::engine;
using namespace tezgah::testing;
namespace sdk = tezgah::sdk;

namespace {

class ReloadTest : public ::testing::Test {
protected:
    void SetUp() override {
        copy_fixtures(dir.path() / "tenants");
        EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = "sqlite:" + (dir.path() / "t.db").string();
        o.plugin_path = {plugin_dir()};
        engine = std::make_unique<Engine>(o);
        ASSERT_TRUE(engine->start().ok());
    }

    std::string ask(const std::string& tenant, const std::string& text) {
        sdk::InboundMessage m;
        m.tenant_id = tenant;
        m.user_id = "u" + std::to_string(++users);
        m.text = text;
        m.channel = "test";
        auto r = engine->handle(m);
        return r.ok() ? r->reply : "ERROR " + r.error().code + ": " + r.error().message;
    }

    void set_price(const std::string& id, double price) {
        edit_json(dir.path() / "tenants" / "gece-butik" / "data" / "offerings.json", [&](json::value& v) {
            for (auto& o : v.as_array())
                if (o.at("id").as_string() == id) o.as_object()["price"] = price;
        });
    }

    const TenantStatus* status(const std::string& id) {
        statuses = engine->tenants();
        for (const auto& s : statuses)
            if (s.id == id) return &s;
        return nullptr;
    }

    TempDir dir;
    std::unique_ptr<Engine> engine;
    std::vector<TenantStatus> statuses;
    int users = 0;
};

TEST_F(ReloadTest, AnEditedPriceIsLiveAfterAReload) {
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("599"), std::string::npos);
    set_price("kadife-sabahlik", 649);
    auto summary = engine->reload_all();
    ASSERT_EQ(summary.reloaded, std::vector<std::string>{"gece-butik"});
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("649"), std::string::npos);
    // Nothing changed: nothing reloads.
    EXPECT_TRUE(engine->reload_all().reloaded.empty());
}

TEST_F(ReloadTest, AnInvalidEditKeepsTheLastGoodVersionAndSaysWhy) {
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("599"), std::string::npos);
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json",
              [](json::value& v) { v.as_object()["plan"] = "galactic"; });
    auto summary = engine->reload_all();
    ASSERT_EQ(summary.failed, std::vector<std::string>{"gece-butik"});
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("599"), std::string::npos);
    const auto* s = status("gece-butik");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->state, "loaded");
    EXPECT_NE(s->reload_error.find("tenant.json: plan: \"galactic\" is not one of"), std::string::npos)
        << s->reload_error;
    // Fixing it makes the next reload take it, and clears the error.
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json",
              [](json::value& v) { v.as_object()["plan"] = "premium"; });
    set_price("kadife-sabahlik", 579);
    EXPECT_EQ(engine->reload_all().reloaded, std::vector<std::string>{"gece-butik"});
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("579"), std::string::npos);
    EXPECT_TRUE(status("gece-butik")->reload_error.empty());
}

TEST_F(ReloadTest, TenantFoldersAddedAndRemovedAppearAndDisappear) {
    std::filesystem::copy(dir.path() / "tenants" / "nefes-studyo", dir.path() / "tenants" / "nefes-kadikoy",
                          std::filesystem::copy_options::recursive);
    edit_json(dir.path() / "tenants" / "nefes-kadikoy" / "tenant.json",
              [](json::value& v) { v.as_object()["id"] = "nefes-kadikoy"; });
    EXPECT_NE(ask("nefes-kadikoy", "merhaba").find("unknown_tenant"), std::string::npos);
    auto summary = engine->reload_all();
    ASSERT_EQ(summary.added, std::vector<std::string>{"nefes-kadikoy"});
    EXPECT_NE(ask("nefes-kadikoy", "hatha yoga ne kadar?").find("450"), std::string::npos);
    std::filesystem::remove_all(dir.path() / "tenants" / "nefes-kadikoy");
    summary = engine->reload_all();
    ASSERT_EQ(summary.removed, std::vector<std::string>{"nefes-kadikoy"});
    EXPECT_NE(ask("nefes-kadikoy", "merhaba").find("unknown_tenant"), std::string::npos);
}

TEST_F(ReloadTest, AFailedTenantRecoversWhenItsFilesAreFixed) {
    auto manifest = dir.path() / "tenants" / "nefes-studyo" / "tenant.json";
    auto good = slurp(manifest);
    write(manifest, "{ broken");
    engine->reload_all();
    EXPECT_NE(ask("nefes-studyo", "merhaba").find("invalid_tenant"), std::string::npos);
    write(manifest, good);
    EXPECT_EQ(engine->reload_all().reloaded, std::vector<std::string>{"nefes-studyo"});
    EXPECT_NE(ask("nefes-studyo", "hatha yoga ne kadar?").find("450"), std::string::npos);
}

TEST_F(ReloadTest, TheWatcherPicksUpAnEditWithinTwoSeconds) {
    EXPECT_NE(ask("gece-butik", "kadife sabahlık ne kadar?").find("599"), std::string::npos);
    engine->start_watching(std::chrono::milliseconds(200));
    set_price("kadife-sabahlik", 619);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    bool live = false;
    while (!live && std::chrono::steady_clock::now() < deadline) {
        live = ask("gece-butik", "kadife sabahlık ne kadar?").find("619") != std::string::npos;
        if (!live) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    engine->stop_watching();
    EXPECT_TRUE(live) << "the edit was not live within 2 seconds";
}

TEST_F(ReloadTest, ATurnInFlightFinishesOnTheVersionItStartedWith) {
    auto before = engine->tenant("gece-butik");
    ASSERT_TRUE(before.ok());
    set_price("kadife-sabahlik", 700);
    engine->reload_all();
    auto after = engine->tenant("gece-butik");
    ASSERT_TRUE(after.ok());
    EXPECT_NE(before->get(), after->get());
    // The old version is still whole for whoever holds it.
    EXPECT_EQ((*before)->catalog().get("kadife-sabahlik")->price, 599);
    EXPECT_EQ((*after)->catalog().get("kadife-sabahlik")->price, 700);
}

}  // namespace
