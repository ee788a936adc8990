// The earlier orchestrator's admin API through `tezgah serve`, with keys: cache invalidation and
// stats, products, business meta and /stats/{id} answer `{"success": true, "message", ...}` and do
// what they say; errors keep the contract's error body. On SQLite and PostgreSQL.
#include "edits/edits_fixture.hpp"

#include "support/fake_openai.hpp"

namespace tezgah::testing {
namespace {

using AdminApiTest = EditsTest;

TEST_P(AdminApiTest, ProductsAndMetaWriteTheFolderAndAreLiveAtOnce) {
    serve();
    EXPECT_NE(ask("saten gecelik siyah ne kadar?", "a1").find("299,99"), std::string::npos);

    auto product = call("PUT", "/admin/products/gece-butik/saten-gecelik-siyah",
                        R"({"price": 349.99, "stock_quantity": 15})", gece);
    ASSERT_EQ(product.status, 200) << product.body;
    EXPECT_EQ(product.json().at("success").as_bool(), true);
    EXPECT_EQ(product.json().at("message").as_string(), "Product updated successfully");
    EXPECT_EQ(product.json().at("product").at("price").as_double(), 349.99);
    EXPECT_EQ(product.json().at("product").at("stock").as_int64(), 15);
    EXPECT_NE(ask("saten gecelik siyah ne kadar?", "a1").find("349,99"), std::string::npos);
    const auto offerings = on_disk("data/offerings.json");
    for (const auto& r : offerings.as_array()) {
        if (r.at("id").as_string() != "saten-gecelik-siyah") continue;
        EXPECT_EQ(r.at("price").as_double(), 349.99);
        EXPECT_EQ(r.at("stock").as_int64(), 15);
    }

    auto meta = call("PUT", "/admin/business/gece-butik/meta",
                     R"({"info_type": "iade", "new_value": "İade 30 gün içinde yapılabilir"})", gece);
    ASSERT_EQ(meta.status, 200) << meta.body;
    EXPECT_EQ(meta.json(), json::parse(R"({"success": true, "message": "Business iade updated successfully",
                                          "info_type": "iade", "new_value": "İade 30 gün içinde yapılabilir"})"));
    EXPECT_EQ(on_disk("tenant.json").at("business").at("info").at("iade").as_string(),
              "İade 30 gün içinde yapılabilir");
    auto [status, output] = check();
    EXPECT_EQ(status, 0) << output;

    // Bad input: the contract's error body, naming the orchestrator's fields.
    auto negative =
        call("PUT", "/admin/products/gece-butik/saten-gecelik-siyah", R"({"stock_quantity": -3})", gece);
    EXPECT_EQ(negative.status, 422) << negative.body;
    EXPECT_TRUE(negative.json().at("error").at("message").as_string().starts_with("stock_quantity:"))
        << negative.body;
    auto empty = call("PUT", "/admin/products/gece-butik/saten-gecelik-siyah", R"({})", gece);
    EXPECT_EQ(empty.status, 400) << empty.body;
    EXPECT_EQ(empty.error_code(), "missing_field");
    auto unknown = call("PUT", "/admin/products/gece-butik/no-such-product", R"({"price": 5})", gece);
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    auto no_value = call("PUT", "/admin/business/gece-butik/meta", R"({"info_type": "iade"})", gece);
    EXPECT_EQ(no_value.status, 400) << no_value.body;
    EXPECT_NE(no_value.body.find("new_value"), std::string::npos);
    auto wrong_method = call("GET", "/admin/products/gece-butik/saten-gecelik-siyah", "", gece, "");
    EXPECT_EQ(wrong_method.status, 405);
    auto other_tenant =
        call("PUT", "/admin/products/gece-butik/saten-gecelik-siyah", R"({"price": 1})", nefes);
    EXPECT_EQ(other_tenant.status, 403) << other_tenant.body;
    auto no_key =
        call("PUT", "/admin/business/gece-butik/meta", R"({"info_type": "iade", "new_value": "x"})", "");
    EXPECT_EQ(no_key.status, 401) << no_key.body;
    EXPECT_EQ(on_disk("tenant.json").at("business").at("info").at("iade").as_string(),
              "İade 30 gün içinde yapılabilir");
}

TEST_P(AdminApiTest, CacheStatsInvalidationAndStatsAnswerAsTheOrchestratorDid) {
    serve();
    ask("saten gecelik siyah ne kadar?", "s1");
    ask("kargo ücreti ne kadar?", "s2");

    auto cache = call("GET", "/admin/cache/stats/gece-butik", "", gece, "");
    ASSERT_EQ(cache.status, 200) << cache.body;
    const auto figures = cache.json().as_object();
    EXPECT_EQ(figures.at("success").as_bool(), true);
    EXPECT_FALSE(figures.at("message").as_string().empty());
    for (const char* key :
         {"total_cached_queries", "memory_usage_bytes", "memory_usage_mb", "hits", "misses", "hit_rate"})
        EXPECT_TRUE(figures.contains(key)) << key;

    auto stats = call("GET", "/stats/gece-butik", "", gece, "");
    ASSERT_EQ(stats.status, 200) << stats.body;
    const auto s = stats.json().as_object();
    EXPECT_EQ(s.at("success").as_bool(), true);
    EXPECT_EQ(s.at("total_conversations").as_int64(), 2);
    EXPECT_EQ(s.at("unique_users").as_int64(), 2);
    EXPECT_EQ(s.at("customer_messages").as_int64(), 2);
    EXPECT_EQ(s.at("bot_messages").as_int64(), 2);
    EXPECT_EQ(s.at("total_messages").as_int64(), 4);
    EXPECT_EQ(s.at("messages_last_24h").as_int64(), 4);
    EXPECT_EQ(s.at("replies_by_method").at("intent").as_int64(), 2);
    EXPECT_TRUE(s.at("cache").is_object());
    // Another tenant's figures are its own: nothing of gece-butik's.
    auto other = call("GET", "/stats/nefes-studyo", "", nefes, "");
    ASSERT_EQ(other.status, 200) << other.body;
    EXPECT_EQ(other.json().at("total_conversations").as_int64(), 0);
    EXPECT_EQ(call("GET", "/stats/gece-butik", "", nefes, "").status, 403);
    EXPECT_EQ(call("GET", "/admin/cache/stats/gece-butik", "", "", "").status, 401);

    auto all = call("POST", "/admin/cache/invalidate/gece-butik", "", gece, "");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(all.json().at("success").as_bool(), true);
    EXPECT_EQ(all.json().at("message").as_string(), "Cache invalidated for business gece-butik");
    auto after = call("GET", "/admin/cache/stats/gece-butik", "", gece, "").json();
    EXPECT_EQ(after.at("total_cached_queries").as_int64(), 0);

    auto product =
        call("POST", "/admin/cache/invalidate-product/gece-butik/saten-gecelik-siyah", "", gece, "");
    ASSERT_EQ(product.status, 200) << product.body;
    EXPECT_EQ(product.json().at("message").as_string(), "Product cache invalidated for saten-gecelik-siyah");
    auto unknown = call("POST", "/admin/cache/invalidate-product/gece-butik/no-such-product", "", gece, "");
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    EXPECT_TRUE(unknown.json().at("error").is_object());
    auto unknown_tenant = call("POST", "/admin/cache/invalidate/no-such-shop", "", every, "");
    EXPECT_EQ(unknown_tenant.status, 404) << unknown_tenant.body;
    EXPECT_EQ(unknown_tenant.error_code(), "unknown_tenant");
    auto reader = call("POST", "/admin/cache/invalidate/gece-butik", "", gece_reader, "");
    EXPECT_EQ(reader.status, 403) << reader.body;
    auto get = call("GET", "/admin/cache/invalidate/gece-butik", "", gece, "");
    EXPECT_EQ(get.status, 405);
}

TEST_P(AdminApiTest, InvalidationDropsTheRemoteModelsCachedAnswersItNames) {
    // A tenant that pays for a remote model keeps its answers to first questions (the response cache).
    FakeOpenAi model;
    edit_json(tenant_file("tenant.json"), [&](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"api_key", "k"},
                                            {"base_url", model.base_url()},
                                            {"model", "gpt-4o-mini"},
                                            {"max_retries", 0}};
    });
    serve();
    const auto turn = [&](const std::string& text, const std::string& user) {
        auto reply = http_request(port, "POST", "/v1/tenants/gece-butik/chat", chat_body(text, user));
        EXPECT_EQ(reply.status, 200) << reply.body;
        return reply.json();
    };
    const auto cached_entries = [&] {
        return call("GET", "/admin/cache/stats/gece-butik", "", gece, "")
            .json()
            .at("total_cached_queries")
            .as_int64();
    };
    const std::string price = "saten gecelik siyah ne kadar?", shipping = "iade koşulları nelerdir?";
    EXPECT_EQ(turn(price, "r1").at("method").as_string(), "llm");
    EXPECT_EQ(turn(shipping, "r2").at("method").as_string(), "llm");
    EXPECT_EQ(turn(price, "r3").at("method").as_string(), "cache");
    ASSERT_EQ(cached_entries(), 2);
    auto stats = call("GET", "/admin/cache/stats/gece-butik", "", gece, "").json();
    EXPECT_EQ(stats.at("hits").as_int64(), 1);
    EXPECT_GT(stats.at("memory_usage_bytes").as_int64(), 0);

    // The product's answer goes; the other stays.
    auto product =
        call("POST", "/admin/cache/invalidate-product/gece-butik/saten-gecelik-siyah", "", gece, "");
    ASSERT_EQ(product.status, 200) << product.body;
    EXPECT_EQ(product.json().at("invalidated_entries").as_int64(), 1);
    EXPECT_EQ(cached_entries(), 1);
    EXPECT_EQ(turn(price, "r4").at("method").as_string(), "llm");
    EXPECT_EQ(turn(shipping, "r5").at("method").as_string(), "cache");

    // The whole tenant's cache.
    auto all = call("POST", "/admin/cache/invalidate/gece-butik", "", gece, "");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(all.json().at("invalidated_entries").as_int64(), 2);
    EXPECT_EQ(cached_entries(), 0);
    EXPECT_EQ(turn(shipping, "r6").at("method").as_string(), "llm");

    // An edit starts the cache afresh too: the next answer is the model's, with the new price.
    EXPECT_EQ(turn(price, "r7").at("method").as_string(), "llm");
    EXPECT_EQ(turn(price, "r8").at("method").as_string(), "cache");
    ASSERT_EQ(call("PATCH", "/v1/tenants/gece-butik/offerings/saten-gecelik-siyah", R"({"price": 411})", gece)
                  .status,
              200);
    auto fresh = turn(price, "r9");
    EXPECT_EQ(fresh.at("method").as_string(), "llm");
    EXPECT_NE(json::serialize(fresh).find("411"), std::string::npos) << fresh;
    auto figures = call("GET", "/stats/gece-butik", "", gece, "").json();
    EXPECT_EQ(figures.at("replies_by_method").at("cache").as_int64(), 3);  // r3, r5, r8
    EXPECT_EQ(figures.at("bot_messages").as_int64(), 9);
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminApiTest, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         ::tezgah::engine::testing::backend_name);

}  // namespace
}  // namespace tezgah::testing
