#pragma once
// An Engine over a temporary copy of the fixture tenants (SQLite, the build's plugins, a fake
// clock), and helpers to send it messages. Shared by the pipeline tests.

#include "pipeline/engine.hpp"
#include "support/temp_tenants.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tezgah::testing {

class EngineFixture : public ::testing::Test {
protected:
    void SetUp() override { copy_fixtures(dir.path() / "tenants"); }

    /// A started engine on the copy, with `clock` as its clock. Several may share the database.
    std::unique_ptr<engine::Engine> start() {
        engine::EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = db_url.empty() ? "sqlite:" + (dir.path() / "var" / "tezgah.db").string() : db_url;
        o.plugin_path = {plugin_dir()};
        auto e = std::make_unique<engine::Engine>(o);
        auto s = e->start();
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        e->set_clock(&clock);
        return e;
    }

    static sdk::InboundMessage msg(const std::string& tenant, const std::string& user,
                                   const std::string& text, const std::string& message_id = {},
                                   const std::string& session_id = {}) {
        sdk::InboundMessage m;
        m.tenant_id = tenant;
        m.user_id = user;
        m.text = text;
        m.channel = "test";
        m.message_id = message_id;
        m.session_id = session_id;
        return m;
    }

    /// The reply to `m`; a failed turn fails the test and gives an empty reply.
    static sdk::TurnReply ask(engine::Engine& e, const sdk::InboundMessage& m) {
        auto r = e.handle(m);
        EXPECT_TRUE(r.ok()) << m.text << ": " << (r.ok() ? "" : r.error().code + " " + r.error().message);
        return r.ok() ? r.value() : sdk::TurnReply{};
    }

    static sdk::TurnReply ask(engine::Engine& e, const std::string& tenant, const std::string& user,
                              const std::string& text) {
        return ask(e, msg(tenant, user, text));
    }

    TempDir dir;
    std::string db_url;  ///< empty: a SQLite file in `dir`
    sdk::testing::FakeClock clock;
};

}  // namespace tezgah::testing
