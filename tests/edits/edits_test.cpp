// Operators' edits of a tenant's folder through `tezgah serve`: PATCH /offerings/{id}, PUT
// /info/{key}, PUT and DELETE /knowledge/{id}. An edit is in the very next answer, the file on disk
// is valid JSON in the folder's layout and `tezgah check` accepts it; bad input changes nothing;
// concurrent edits of one file, through two instances, all land; a read-only folder gives a clear error and
// leaves the file as it was; another tenant's key cannot edit. On SQLite and PostgreSQL.
#include "edits/edits_fixture.hpp"

#include <sys/stat.h>

#include <thread>

namespace tezgah::testing {
namespace {

constexpr const char* kOffering = "/v1/tenants/gece-butik/offerings/saten-gecelik-siyah";

TEST_P(EditsTest, APriceEditIsQuotedInTheVeryNextAnswer) {
    serve();
    EXPECT_NE(ask("saten gecelik siyah ne kadar?", "c1").find("299,99"), std::string::npos);

    auto patched = call("PATCH", kOffering, R"({"price": 349.5, "stock": 3})", gece);
    ASSERT_EQ(patched.status, 200) << patched.body;
    EXPECT_EQ(patched.json().at("price").as_double(), 349.5);
    EXPECT_EQ(patched.json().at("stock").as_int64(), 3);
    EXPECT_EQ(patched.json().at("name").as_string(), "Saten Gecelik Siyah");  // the rest kept

    // No wait for the folder watcher: the next turn sees it (a new customer, and the same one).
    EXPECT_NE(ask("saten gecelik siyah ne kadar?", "c2").find("349,50"), std::string::npos);
    EXPECT_NE(ask("saten gecelik siyah ne kadar?", "c1").find("349,50"), std::string::npos);

    // On disk: the folder's layout, the edit in place, every other record as it was.
    const std::string text = slurp(tenant_file("data/offerings.json"));
    EXPECT_TRUE(text.starts_with("[\n  {\n    \"id\": \"saten-gecelik-siyah\",\n    \"type\": \"PRODUCT\""))
        << text;
    EXPECT_NE(text.find("\"price\": 349.5,"), std::string::npos);
    EXPECT_NE(text.find("\"price\": 299.99,"), std::string::npos);  // the burgundy one, untouched
    EXPECT_NE(text.find("\"name\": \"Black Satin Nightgown\""), std::string::npos);  // UTF-8 and nesting kept
    const auto records = json::parse(text).as_array();
    EXPECT_EQ(records.size(),
              json::parse(slurp(fixtures_dir() / "gece-butik/data/offerings.json")).as_array().size());
    auto [status, output] = check();
    EXPECT_EQ(status, 0) << output;
}

TEST_P(EditsTest, KnowledgeAndInfoEditsAreLiveAndTheManifestKeepsItsVariables) {
    // A value read from the environment: the edit must write the reference back, never the value.
    edit_json(tenant_file("tenant.json"), [](json::value& v) {
        v.as_object()["persona"].as_object()["name"] = "${TEZGAH_GECE_BUTIK__PERSONA_NAME}";
    });
    serve({"TEZGAH_GECE_BUTIK__PERSONA_NAME=GizliAsistan"});

    auto put = call(
        "PUT", "/v1/tenants/gece-butik/knowledge/kargo-ucret",
        json::serialize(json::object{{"question", "Kargo ücreti ne kadar?"},
                                     {"answer", "Artık her siparişte kargo ücretsiz, ertesi gün teslim."},
                                     {"category", "kargo"},
                                     {"keywords", json::array{"kargo", "teslimat", "shipping"}}}),
        gece);
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(put.json().at("id").as_string(), "kargo-ucret");
    EXPECT_NE(ask("kargo ücreti ne kadar?", "k1").find("her siparişte kargo ücretsiz"), std::string::npos);

    auto added = call("PUT", "/v1/tenants/gece-butik/knowledge/otopark",
                      R"({"question": "Otopark var mı?", "answer": "Mağazanın önünde ücretsiz otopark var.",
                          "category": "magaza", "keywords": ["otopark", "park", "araba"]})",
                      gece);
    ASSERT_EQ(added.status, 201) << added.body;
    EXPECT_NE(ask("otopark var mı?", "k2").find("ücretsiz otopark"), std::string::npos);

    auto info = call("PUT", "/v1/tenants/gece-butik/info/odeme",
                     R"({"text": "Yalnızca kredi kartı kabul edilir."})", gece);
    ASSERT_EQ(info.status, 200) << info.body;
    EXPECT_EQ(info.json(), json::parse(R"({"key": "odeme", "text": "Yalnızca kredi kartı kabul edilir."})"));
    auto new_key = call("PUT", "/v1/tenants/gece-butik/info/%C3%A7alisma-saatleri",
                        R"({"text": "Bayramlarda kapalıyız."})", gece);
    ASSERT_EQ(new_key.status, 201) << new_key.body;

    const std::string manifest = slurp(tenant_file("tenant.json"));
    EXPECT_NE(manifest.find("\"${TEZGAH_GECE_BUTIK__PERSONA_NAME}\""), std::string::npos) << manifest;
    EXPECT_EQ(manifest.find("GizliAsistan"), std::string::npos);
    const auto root = json::parse(manifest);
    EXPECT_EQ(root.at("business").at("info").at("odeme").as_string(), "Yalnızca kredi kartı kabul edilir.");
    EXPECT_EQ(root.at("business").at("info").at("çalisma-saatleri").as_string(), "Bayramlarda kapalıyız.");
    // Key order kept: the edited key where it was, the new one last.
    std::vector<std::string> keys;
    for (const auto& [key, value] : root.at("business").at("info").as_object()) keys.emplace_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"iade", "kargo", "odeme", "çalisma-saatleri"}));
    // An operator's key cannot make a text that reads the tenant's environment.
    auto sneaky = call("PUT", "/v1/tenants/gece-butik/info/x",
                       R"({"text": "${TEZGAH_GECE_BUTIK__PERSONA_NAME}"})", gece);
    EXPECT_EQ(sneaky.status, 422) << sneaky.body;

    auto removed = call("DELETE", "/v1/tenants/gece-butik/knowledge/otopark", "", gece, "");
    ASSERT_EQ(removed.status, 200) << removed.body;
    EXPECT_EQ(removed.json().at("entry").at("id").as_string(), "otopark");
    EXPECT_EQ(ask("otopark var mı?", "k3").find("ücretsiz otopark"), std::string::npos);
    const auto knowledge = on_disk("data/knowledge.json");
    for (const auto& entry : knowledge.as_array()) EXPECT_NE(entry.at("id").as_string(), "otopark");

    auto [status, output] = check("TEZGAH_GECE_BUTIK__PERSONA_NAME=GizliAsistan");
    EXPECT_EQ(status, 0) << output;
}

TEST_P(EditsTest, BadInputIsRefusedNamingTheFieldAndChangesNothing) {
    serve();
    const std::string offerings = slurp(tenant_file("data/offerings.json"));
    const std::string knowledge = slurp(tenant_file("data/knowledge.json"));
    const std::string manifest = slurp(tenant_file("tenant.json"));

    auto negative = call("PATCH", kOffering, R"({"price": -5})", gece);
    EXPECT_EQ(negative.status, 422) << negative.body;
    EXPECT_EQ(negative.error_code(), "invalid_value");
    EXPECT_TRUE(negative.json().at("error").at("message").as_string().starts_with("price:")) << negative.body;
    EXPECT_FALSE(negative.json().at("error").at("request_id").as_string().empty());

    auto stock = call("PATCH", kOffering, R"({"stock": -1})", gece);
    EXPECT_EQ(stock.status, 422) << stock.body;
    auto type = call("PATCH", kOffering, R"({"type": "GADGET"})", gece);
    EXPECT_EQ(type.status, 422) << type.body;
    auto no_name = call("PATCH", kOffering, R"({"name": null})", gece);
    EXPECT_EQ(no_name.status, 422) << no_name.body;
    EXPECT_NE(no_name.body.find("name: required"), std::string::npos);
    auto renamed = call("PATCH", kOffering, R"({"id": "another"})", gece);
    EXPECT_EQ(renamed.status, 422) << renamed.body;

    auto unknown = call("PATCH", "/v1/tenants/gece-butik/offerings/no-such-thing", R"({"price": 1})", gece);
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    EXPECT_EQ(unknown.error_code(), "not_found");
    auto unknown_tenant = call("PATCH", "/v1/tenants/no-such-shop/offerings/x", R"({"price": 1})", every);
    EXPECT_EQ(unknown_tenant.status, 404) << unknown_tenant.body;

    auto malformed = call("PATCH", kOffering, R"({"price": )", gece);
    EXPECT_EQ(malformed.status, 400) << malformed.body;
    EXPECT_EQ(malformed.error_code(), "invalid_json");
    auto not_object = call("PATCH", kOffering, R"([1, 2])", gece);
    EXPECT_EQ(not_object.status, 400) << not_object.body;
    auto wrong_type = call("PATCH", kOffering, R"({"price": "ucuz"})", gece);
    EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;
    EXPECT_EQ(wrong_type.error_code(), "invalid_field");
    EXPECT_TRUE(wrong_type.json().at("error").at("message").as_string().starts_with("price:"));
    auto fraction = call("PATCH", kOffering, R"({"stock": 2.5})", gece);
    EXPECT_EQ(fraction.status, 400) << fraction.body;
    auto typo = call("PATCH", kOffering, R"({"prize": 10})", gece);
    EXPECT_EQ(typo.status, 400) << typo.body;
    EXPECT_NE(typo.body.find("prize"), std::string::npos);
    auto text_plain = call("PATCH", kOffering, R"({"price": 10})", gece, "text/plain");
    EXPECT_EQ(text_plain.status, 415) << text_plain.body;
    auto get = call("GET", kOffering, "", gece, "");
    EXPECT_EQ(get.status, 405);
    EXPECT_EQ(get.header("allow"), "PATCH");

    auto missing_answer =
        call("PUT", "/v1/tenants/gece-butik/knowledge/yeni", R"({"question": "Soru?"})", gece);
    EXPECT_EQ(missing_answer.status, 422) << missing_answer.body;
    EXPECT_NE(missing_answer.body.find("answer: required"), std::string::npos);
    auto keywords = call("PUT", "/v1/tenants/gece-butik/knowledge/yeni",
                         R"({"question": "Soru?", "answer": "Cevap.", "keywords": "tek"})", gece);
    EXPECT_EQ(keywords.status, 400) << keywords.body;
    auto no_such_entry = call("DELETE", "/v1/tenants/gece-butik/knowledge/no-such-entry", "", gece, "");
    EXPECT_EQ(no_such_entry.status, 404) << no_such_entry.body;

    auto no_text = call("PUT", "/v1/tenants/gece-butik/info/kargo", R"({})", gece);
    EXPECT_EQ(no_text.status, 400) << no_text.body;
    EXPECT_EQ(no_text.error_code(), "missing_field");
    auto number_text = call("PUT", "/v1/tenants/gece-butik/info/kargo", R"({"text": 5})", gece);
    EXPECT_EQ(number_text.status, 400) << number_text.body;
    auto empty_text = call("PUT", "/v1/tenants/gece-butik/info/kargo", R"({"text": ""})", gece);
    EXPECT_EQ(empty_text.status, 422) << empty_text.body;
    auto bad_segment = call("PUT", "/v1/tenants/gece-butik/info/%ZZ", R"({"text": "x"})", gece);
    EXPECT_EQ(bad_segment.status, 400) << bad_segment.body;

    EXPECT_EQ(slurp(tenant_file("data/offerings.json")), offerings);
    EXPECT_EQ(slurp(tenant_file("data/knowledge.json")), knowledge);
    EXPECT_EQ(slurp(tenant_file("tenant.json")), manifest);
    EXPECT_NE(ask("saten gecelik siyah ne kadar?", "b1").find("299,99"), std::string::npos);
}

TEST_P(EditsTest, ConcurrentEditsOfOneFileAllLand) {
    serve();
    // A second instance on the same folder and database: edits through either land.
    EditServer second(dir.path(), db_url, {}, "serve-2.log");
    ASSERT_NE(second.port(), 0) << slurp(dir.path() / "serve-2.log");
    constexpr int kThreads = 12;
    std::vector<std::thread> threads;
    std::vector<int> statuses(kThreads);
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            // Half touch one offering's attributes, half the price of another offering each.
            const bool same = i % 2 == 0;
            const std::string path =
                same ? std::string(kOffering)
                     : "/v1/tenants/gece-butik/offerings/" +
                           std::string(i % 4 == 1 ? "saten-gecelik-bordo" : "kadin-pijama-takimi");
            const std::string body =
                same ? json::serialize(
                           json::object{{"attributes", json::object{{"t" + std::to_string(i), i}}}})
                     : json::serialize(json::object{{"aliases", json::array{"alias-" + std::to_string(i)}}});
            statuses[i] = http_request(i % 3 == 0 ? second.port() : port, "PATCH", path, body,
                                       {{"Authorization", gece}, {"Content-Type", "application/json"}})
                              .status;
        });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) EXPECT_EQ(statuses[i], 200) << i;

    const auto records = on_disk("data/offerings.json").as_array();
    const json::object* edited = nullptr;
    for (const auto& r : records)
        if (r.at("id").as_string() == "saten-gecelik-siyah") edited = &r.as_object();
    ASSERT_NE(edited, nullptr);
    for (int i = 0; i < kThreads; i += 2)
        EXPECT_EQ(edited->at("attributes").at("t" + std::to_string(i)).as_int64(), i) << i;
    EXPECT_EQ(edited->at("attributes").at("renk").as_string(), "siyah");  // merged, not replaced
    // Each of the other edits replaced the aliases of its offering: the last one of each stands,
    // and it is one of those sent.
    for (const char* other : {"saten-gecelik-bordo", "kadin-pijama-takimi"}) {
        for (const auto& r : records) {
            if (r.at("id").as_string() != other) continue;
            ASSERT_EQ(r.at("aliases").as_array().size(), 1u) << other;
            EXPECT_TRUE(r.at("aliases").at(0).as_string().starts_with("alias-")) << other;
        }
    }
    // No temporary file left behind in the folder.
    for (const auto& entry : fs::directory_iterator(tenant_file("data")))
        EXPECT_FALSE(entry.path().filename().string().starts_with(".")) << entry.path();
    auto [status, output] = check();
    EXPECT_EQ(status, 0) << output;
}

TEST_P(EditsTest, AReadOnlyFolderGivesAClearErrorAndLeavesTheFileAsItWas) {
    serve();
    const std::string before = slurp(tenant_file("data/offerings.json"));
    ASSERT_EQ(::chmod(tenant_file("data").c_str(), 0555), 0);
    auto refused = call("PATCH", kOffering, R"({"price": 1})", gece);
    ::chmod(tenant_file("data").c_str(), 0755);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(refused.error_code(), "write_failed");
    const std::string message(refused.json().at("error").at("message").as_string());
    EXPECT_NE(message.find("data/offerings.json"), std::string::npos) << message;
    EXPECT_NE(message.find("unchanged"), std::string::npos) << message;
    EXPECT_EQ(message.find(dir.path().string()), std::string::npos) << "no server paths in answers";
    EXPECT_EQ(slurp(tenant_file("data/offerings.json")), before);
    EXPECT_NE(ask("saten gecelik siyah ne kadar?", "r1").find("299,99"), std::string::npos);

    // Writable again: the same edit lands.
    auto accepted = call("PATCH", kOffering, R"({"price": 1})", gece);
    EXPECT_EQ(accepted.status, 200) << accepted.body;
}

TEST_P(EditsTest, OnlyAKeyOfTheTenantWithTheScopeEdits) {
    serve();
    const std::string before = slurp(tenant_file("data/offerings.json"));
    const std::string manifest = slurp(tenant_file("tenant.json"));
    struct Case {
        std::string method, path, body, auth;
        int status;
    };
    const std::vector<Case> cases = {
        {"PATCH", kOffering, R"({"price": 1})", "", 401},
        {"PATCH", kOffering, R"({"price": 1})", "Bearer tzk_0000000000000000_" + std::string(64, '0'), 401},
        {"PATCH", kOffering, R"({"price": 1})", nefes, 403},
        {"PATCH", kOffering, R"({"price": 1})", gece_reader, 403},
        {"PUT", "/v1/tenants/gece-butik/info/kargo", R"({"text": "x"})", nefes, 403},
        {"PUT", "/v1/tenants/gece-butik/knowledge/kargo-ucret", R"({"question": "q", "answer": "a"})", nefes,
         403},
        {"DELETE", "/v1/tenants/gece-butik/knowledge/kargo-ucret", "", nefes, 403},
        {"DELETE", "/v1/tenants/gece-butik/knowledge/kargo-ucret", "", gece_reader, 403},
    };
    for (const auto& c : cases) {
        auto reply = call(c.method, c.path, c.body, c.auth, c.body.empty() ? "" : "application/json");
        EXPECT_EQ(reply.status, c.status) << c.method << " " << c.path << ": " << reply.body;
        EXPECT_EQ(reply.body.find("Saten"), std::string::npos) << reply.body;
        EXPECT_EQ(reply.body.find("299"), std::string::npos) << reply.body;
    }
    EXPECT_EQ(slurp(tenant_file("data/offerings.json")), before);
    EXPECT_EQ(slurp(tenant_file("tenant.json")), manifest);
    // A key for every tenant may.
    EXPECT_EQ(call("PATCH", kOffering, R"({"available": true})", every).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, EditsTest, ::testing::Values(Backend::sqlite, Backend::postgresql),
                         ::tezgah::engine::testing::backend_name);

}  // namespace
}  // namespace tezgah::testing
