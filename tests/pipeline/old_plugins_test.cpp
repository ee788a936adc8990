// Plugins built for ABI 1.0 and 1.1 (tests/plugins/abi/) serving a tenant through the whole turn:
// an old model calls an old tool, its answer is stored, and its usage is recorded under the model
// its config names.
#include "pipeline/engine.hpp"

#include "support/engine_fixture.hpp"

using namespace tezgah::engine;
using namespace tezgah::testing;

namespace {

class OldPluginsTest : public EngineFixture {
protected:
    std::unique_ptr<Engine> start_with_old_plugins() {
        EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = "sqlite:" + (dir.path() / "var" / "tezgah.db").string();
        const fs::path old = fs::path(TEZGAH_SOURCE_DIR) / "tests" / "plugins" / "abi";
        o.plugin_path = {plugin_dir(), old / "v1.0", old / "v1.1"};
        auto e = std::make_unique<Engine>(o);
        auto s = e->start();
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        e->set_clock(&clock);
        return e;
    }
};

TEST_F(OldPluginsTest, AModelBuiltFor1_0CallsAToolBuiltFor1_1AndTheTurnIsStored) {
    edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json", [](json::value& v) {
        auto& m = v.as_object();
        m["llm"] = json::object{{"provider", "old-llm-1-0"}, {"model", "eski-model"}};
        m["tools"] = json::array{json::object{{"name", "old-tool-1-1"}, {"label", "x"}}, "catalog"};
    });
    auto e = start_with_old_plugins();
    auto r = e->handle(msg("nefes-studyo", "u", "merhaba"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->method, "llm");
    EXPECT_EQ(r->reply, "old model heard {\"echo\":\">sesses\"}");
    ASSERT_EQ(r->tool_calls.size(), 1u);
    EXPECT_EQ(r->tool_calls[0].name, "old_echo_1_1");
    EXPECT_TRUE(r->tool_calls[0].ok);
    auto usage = e->database().usage("nefes-studyo", r->conversation_id);
    ASSERT_TRUE(usage.ok()) << usage.error().message;
    ASSERT_FALSE(usage->empty());
    EXPECT_EQ(usage->front().provider, "old-llm-1-0");
    EXPECT_EQ(usage->front().model, "eski-model");  // from its config: a 1.0 provider has no model()
    // An old tool is not taken for cacheable: nothing a remote model said on it is cached.
    auto tenant = e->tenant("nefes-studyo");
    ASSERT_TRUE(tenant.ok());
    EXPECT_FALSE((*tenant)->tool_spec("old_echo_1_1")->cacheable);
    EXPECT_TRUE((*tenant)->tool_spec("get_product_info")->cacheable);
    EXPECT_TRUE((*tenant)->has_remote_provider());  // it declared nothing: taken for a remote model
}

}  // namespace
