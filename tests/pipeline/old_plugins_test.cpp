// Plugins built for ABI 1.0, 1.1 and 1.4 (tests/plugins/abi/) serving a tenant through the whole
// turn: an old model calls an old tool, its answer is stored, and its usage is recorded under the
// model its config names (1.0) or its model() (1.4). A 1.4 model returns the ProviderResponse of
// before 1.5 (no options, no cards): the engine reads it through that layout.
#include "pipeline/engine.hpp"

#include "support/engine_fixture.hpp"

#include <algorithm>

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
        o.plugin_path = {plugin_dir(), old / "v1.0", old / "v1.1", old / "v1.4"};
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

TEST_F(OldPluginsTest, AModelBuiltFor1_4AnswersThroughItsOldResponseLayout) {
    edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json", [](json::value& v) {
        auto& m = v.as_object();
        m["llm"] = json::object{{"provider", "old-llm-1-4"}};
        m["tools"] = json::array{json::object{{"name", "old-tool-1-1"}, {"label", "x"}}, "catalog"};
    });
    auto e = start_with_old_plugins();
    for (int turn = 0; turn < 2; ++turn) {  // and again: nothing of the first answer is misread
        auto r = e->handle(msg("nefes-studyo", "u", turn == 0 ? "merhaba" : "yine ben"));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->method, "llm");
        EXPECT_EQ(r->reply, "old model heard {\"echo\":\">sesses\"}");
        EXPECT_DOUBLE_EQ(r->confidence, 0.9);
        ASSERT_EQ(r->tool_calls.size(), 1u);
        EXPECT_EQ(r->tool_calls[0].name, "old_echo_1_1");
        // Its echo tool answers no offerings: nothing to offer, and nothing read past its layout.
        EXPECT_TRUE(r->options.empty());
        EXPECT_TRUE(r->cards.empty());
        auto j = tezgah::sdk::to_json(*r);
        EXPECT_TRUE(j.at("options").as_array().empty());
    }
    auto conversation = e->handle(msg("nefes-studyo", "u", "son"));
    ASSERT_TRUE(conversation.ok()) << conversation.error().message;
    auto used = e->database().usage("nefes-studyo", conversation->conversation_id);
    ASSERT_TRUE(used.ok()) << used.error().message;
    ASSERT_FALSE(used->empty());
    EXPECT_EQ(used->front().model, "old-model-7");  // its model(), called through the 1.4 table
    // The answer's usage as the model reported it (its tool-call step reported none: estimated).
    EXPECT_TRUE(std::any_of(used->begin(), used->end(), [](const auto& u) {
        return u.input_tokens == 10 && u.output_tokens == 5 && !u.estimated;
    }));
}

}  // namespace
