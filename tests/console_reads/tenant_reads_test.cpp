// The console's reads of a tenant over real HTTP against `tezgah serve`, on both databases: the
// tenants a key covers, a tenant's profile (resources and the services each one gives, for the
// calendar), its offerings and knowledge searched with Turkish letters and paged, and its info
// with a value read from the environment shown as `${NAME}`, never as the value.
#include "console_reads/console_reads_fixture.hpp"

#include <set>

namespace tezgah::testing {
namespace {

constexpr const char* kWifiSecret = "gizli-wifi-sifresi-2026";

class TenantReads : public ConsoleReads {
protected:
    void SetUp() override {
        ConsoleReads::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        ::setenv("TEZGAH_NEFES_STUDYO__WIFI", kWifiSecret, 1);
        edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json", [](json::value& v) {
            v.at("business").at("info").as_object()["wifi"] = "${TEZGAH_NEFES_STUDYO__WIFI}";
        });
        shop = key("gece-butik", {"chat:write"});  // any scope: these reads need none in particular
        studio = key("nefes-studyo", {"analytics:read"});
        everything = key("", {"ops:read"});
        start();
    }
    std::string shop, studio, everything;
};
TEZGAH_STORE_BACKENDS(TenantReads);

std::vector<std::string> ids_of(const json::value& list) {
    std::vector<std::string> out;
    for (const auto& item : list.as_array()) out.emplace_back(item.at("id").as_string());
    return out;
}

TEST_P(TenantReads, TheTenantsAKeyCoversAreListedByIdWithTheirLocale) {
    auto own = get("/v1/tenants", shop);
    ASSERT_EQ(own.status, 200) << own.body;
    EXPECT_EQ(ids_of(own.json().at("tenants")), std::vector<std::string>{"gece-butik"});
    const auto first = own.json().at("tenants").as_array()[0].as_object();
    EXPECT_EQ(first.at("name"), "Gece Butik");
    EXPECT_EQ(first.at("language"), "tr");
    EXPECT_EQ(first.at("timezone"), "Europe/Istanbul");
    EXPECT_EQ(first.at("currency"), "TRY");
    EXPECT_EQ(json::serialize(first.at("languages")), R"(["tr","en"])");

    auto all = get("/v1/tenants", everything);
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(ids_of(all.json().at("tenants")), (std::vector<std::string>{"gece-butik", "nefes-studyo"}));

    EXPECT_EQ(get("/v1/tenants", "").status, 401);
    EXPECT_EQ(http_request(port, "POST", "/v1/tenants", "{}", {{"Authorization", "Bearer " + shop}}).status,
              405);
}

TEST_P(TenantReads, TheProfileHasTheResourcesAndTheServicesEachGivesForTheCalendar) {
    auto reply = get("/v1/tenants/nefes-studyo", studio);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto profile = reply.json().as_object();
    EXPECT_EQ(profile.at("id"), "nefes-studyo");
    EXPECT_EQ(profile.at("name"), "Nefes Pilates & Yoga Stüdyosu");
    EXPECT_EQ(json::serialize(profile.at("channels")), R"(["webhook"])");
    EXPECT_EQ(json::serialize(profile.at("tools")), R"(["catalog","knowledge"])");
    EXPECT_EQ(profile.at("appointments"), false);  // the fixture does not enable the appointments tool

    std::map<std::string, std::set<std::string>> services_of;
    for (const auto& r : profile.at("resources").as_array()) {
        auto& set = services_of[std::string(r.at("id").as_string())];
        for (const auto& s : r.at("services").as_array()) set.emplace(s.as_string());
    }
    EXPECT_EQ(services_of["ayse"],
              (std::set<std::string>{"reformer-pilates", "reformer-duet", "deneme-dersi"}));
    EXPECT_EQ(services_of["salon-a"], (std::set<std::string>{"mat-pilates", "hatha-yoga", "yin-yoga"}));
    EXPECT_EQ(services_of["zeynep"], (std::set<std::string>{"hamile-yogasi", "nefes-calismasi"}));
    EXPECT_EQ(services_of["mert"], (std::set<std::string>{"fizyoterapi", "spor-masaji"}));
    EXPECT_EQ(profile.at("resources").as_array()[0].at("name"), "Ayşe Demir");

    // Every bookable service, and not the monthly package (a product).
    const auto services = profile.at("services").as_array();
    EXPECT_EQ(services.size(), 10u) << reply.body;
    bool saw_group_class = false;
    for (const auto& s : services) {
        EXPECT_NE(s.at("id"), "aylik-paket");
        if (s.at("id") == "mat-pilates") {
            saw_group_class = true;
            EXPECT_EQ(s.at("name"), "Mat Pilates Grup Dersi");
            EXPECT_EQ(s.at("duration_min"), 60);
            EXPECT_EQ(s.at("capacity"), 8);
            EXPECT_EQ(s.at("provider"), "salon-a");
            EXPECT_EQ(s.at("price").to_number<double>(), 400);
        }
        if (s.at("id") == "reformer-pilates") {
            EXPECT_FALSE(s.as_object().contains("capacity"));
        }
    }
    EXPECT_TRUE(saw_group_class);

    // The shop has no resources and sells products; its one service has no duration: not bookable.
    auto shop_profile = get("/v1/tenants/gece-butik", shop);
    ASSERT_EQ(shop_profile.status, 200) << shop_profile.body;
    EXPECT_EQ(shop_profile.json().at("resources").as_array().size(), 0u);
    EXPECT_EQ(shop_profile.json().at("services").as_array().size(), 0u);
}

TEST_P(TenantReads, EveryRouteNeedsAKeyOfTheTenantButNoParticularScope) {
    for (const std::string rest : {"", "/offerings", "/knowledge", "/info"}) {
        SCOPED_TRACE(rest);
        auto none = get("/v1/tenants/gece-butik" + rest, "");
        EXPECT_EQ(none.status, 401) << none.body;
        EXPECT_EQ(none.error_code(), "unauthorized");
        auto other = get("/v1/tenants/gece-butik" + rest, studio);
        EXPECT_EQ(other.status, 403) << other.body;
        EXPECT_EQ(other.error_code(), "forbidden");
        EXPECT_EQ(other.body.find("Gecelik"), std::string::npos);
        EXPECT_EQ(get("/v1/tenants/gece-butik" + rest, shop).status, 200);
        EXPECT_EQ(get("/v1/tenants/gece-butik" + rest, everything).status, 200);
    }
    auto unknown = get("/v1/tenants/no-such-shop", everything);
    EXPECT_EQ(unknown.status, 404) << unknown.body;
}

TEST_P(TenantReads, OfferingsAreFoundByTurkishWordsWhateverTheirCase) {
    auto gecelik = get("/v1/tenants/gece-butik/offerings?q=gecelik", shop);
    ASSERT_EQ(gecelik.status, 200) << gecelik.body;
    // By name, as a Turkish reader folds it (İ with i, Ş with s).
    EXPECT_EQ(ids_of(gecelik.json().at("offerings")),
              (std::vector<std::string>{"dantelli-gecelik", "hamile-gecelik", "ipek-gecelik",
                                        "pamuklu-gecelik", "saten-gecelik-bordo", "saten-gecelik-siyah"}));
    EXPECT_EQ(gecelik.json().at("total"), 6);
    EXPECT_TRUE(gecelik.json().at("next").is_null());

    const auto upper = get("/v1/tenants/gece-butik/offerings?q=%C4%B0PEK", shop);  // İPEK
    const auto lower = get("/v1/tenants/gece-butik/offerings?q=ipek", shop);
    ASSERT_EQ(upper.status, 200) << upper.body;
    EXPECT_EQ(ids_of(upper.json().at("offerings")), std::vector<std::string>{"ipek-gecelik"});
    EXPECT_EQ(upper.body, lower.body);
    const auto ipek = upper.json().at("offerings").as_array()[0].as_object();
    EXPECT_EQ(ipek.at("name"), "İpek Gecelik");
    EXPECT_EQ(ipek.at("type"), "PRODUCT");
    EXPECT_TRUE(ipek.contains("price") && ipek.contains("stock") && ipek.contains("aliases"));

    // An alias ("çorap"), a category ("iç giyim"), a type.
    EXPECT_EQ(ids_of(get("/v1/tenants/gece-butik/offerings?q=%C3%A7orap", shop).json().at("offerings")),
              (std::vector<std::string>{"kulotlu-corap", "soket-corap"}));
    EXPECT_EQ(get("/v1/tenants/gece-butik/offerings?q=i%C3%A7+giyim", shop).json().at("total"), 5);
    EXPECT_EQ(
        get("/v1/tenants/gece-butik/offerings?category=I%C3%87+G%C4%B0Y%C4%B0M", shop).json().at("total"), 5);
    EXPECT_EQ(ids_of(get("/v1/tenants/gece-butik/offerings?type=service", shop).json().at("offerings")),
              std::vector<std::string>{"hediye-paketi"});
    EXPECT_EQ(get("/v1/tenants/gece-butik/offerings?q=zzz", shop).json().at("total"), 0);

    EXPECT_EQ(get("/v1/tenants/gece-butik/offerings?type=gift", shop).status, 422);
    EXPECT_EQ(get("/v1/tenants/gece-butik/offerings?limit=0", shop).status, 422);
    EXPECT_EQ(get("/v1/tenants/gece-butik/offerings?limit=201", shop).status, 422);
    EXPECT_EQ(get("/v1/tenants/gece-butik/offerings?cursor=nonsense", shop).status, 422);
    EXPECT_EQ(get("/v1/tenants/gece-butik/offerings?q=" + std::string(201, 'a'), shop).status, 422);
}

TEST_P(TenantReads, PagesFollowEachOtherWithoutDuplicatesOrGaps) {
    auto whole = get("/v1/tenants/gece-butik/offerings?limit=200", shop);
    ASSERT_EQ(whole.status, 200);
    const auto all = ids_of(whole.json().at("offerings"));
    ASSERT_EQ(all.size(), 27u);
    for (const char* route : {"offerings", "knowledge"}) {
        SCOPED_TRACE(route);
        const std::string field = std::string(route) == "offerings" ? "offerings" : "entries";
        const auto expected =
            ids_of(get("/v1/tenants/gece-butik/" + std::string(route) + "?limit=200", shop).json().at(field));
        std::vector<std::string> paged;
        std::string cursor;
        int pages = 0;
        do {
            auto page = get("/v1/tenants/gece-butik/" + std::string(route) + "?limit=4" +
                                (cursor.empty() ? "" : "&cursor=" + cursor),
                            shop);
            ASSERT_EQ(page.status, 200) << page.body;
            const auto body = page.json();
            EXPECT_LE(body.at(field).as_array().size(), 4u);
            EXPECT_EQ(body.at("total").to_number<std::size_t>(), expected.size());
            for (const auto& id : ids_of(body.at(field))) paged.push_back(id);
            cursor = body.at("next").is_null() ? "" : std::string(body.at("next").as_string());
            ++pages;
        } while (!cursor.empty() && pages < 50);
        EXPECT_EQ(paged, expected);
        EXPECT_EQ(pages, static_cast<int>((expected.size() + 3) / 4));
    }
}

TEST_P(TenantReads, KnowledgeIsSearchedInQuestionsAnswersAndKeywords) {
    auto reply = get("/v1/tenants/gece-butik/knowledge?q=kargo", shop);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto found = ids_of(reply.json().at("entries"));
    EXPECT_TRUE(std::find(found.begin(), found.end(), "kargo-ucret") != found.end()) << reply.body;
    EXPECT_TRUE(std::find(found.begin(), found.end(), "kargo-sure") != found.end()) << reply.body;
    const auto upper = get("/v1/tenants/gece-butik/knowledge?q=%C4%B0ADE", shop);  // İADE
    ASSERT_EQ(upper.status, 200);
    EXPECT_EQ(upper.body, get("/v1/tenants/gece-butik/knowledge?q=iade", shop).body);
    const auto entries = upper.json().at("entries").as_array();
    for (const auto& e : entries) {
        EXPECT_TRUE(e.as_object().contains("question") && e.as_object().contains("answer"));
    }
    EXPECT_GE(upper.json().at("total").to_number<int>(), 2);
}

TEST_P(TenantReads, InfoShowsAnEnvironmentValueAsItsNameNeverTheValue) {
    auto reply = get("/v1/tenants/nefes-studyo/info", studio);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto info = reply.json().at("info").as_object();
    EXPECT_EQ(info.at("otopark"), "Ücretsiz otopark mevcut.");
    EXPECT_EQ(info.at("wifi"), "${TEZGAH_NEFES_STUDYO__WIFI}");
    EXPECT_EQ(reply.body.find(kWifiSecret), std::string::npos);
    // In the manifest's order.
    std::vector<std::string> keys;
    for (const auto& [k, v] : info) keys.emplace_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"iptal", "otopark", "wifi"}));
}

}  // namespace
}  // namespace tezgah::testing
