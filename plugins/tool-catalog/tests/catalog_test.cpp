// The catalog tool against the gece-butik fixture tenant, through the SDK fakes.
#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::plugins::catalog {
namespace {

namespace json = boost::json;
using sdk::testing::FakeHost;

const std::string kButik = std::string(TEZGAH_FIXTURES_DIR) + "/gece-butik";

/// 2024-01-01 was a Monday; 2024-01-07 a Sunday.
std::chrono::system_clock::time_point utc(int day, int hour) {
    using namespace std::chrono;
    return sys_days{year{2024} / January / day} + hours{hour};
}

class CatalogTool : public ::testing::Test {
protected:
    void SetUp() override {
        host_.load_manifest_file(kButik + "/tenant.json");
        host_.load_offerings_file(kButik + "/data/offerings.json");
        plugin_ = sdk::testing::instantiate(tezgah_plugin_descriptor, host_);
        tool_ = dynamic_cast<sdk::Tool*>(plugin_.get());
        ASSERT_NE(tool_, nullptr);
    }

    /// Runs a tool after checking the arguments against its schema, as the engine does.
    sdk::Result<json::value> call(const std::string& name, json::object args,
                                  const std::string& language = "tr") {
        for (const auto& spec : tool_->specs()) {
            if (spec.name != name) continue;
            if (auto checked = sdk::validate_json(args, spec.parameters); !checked) return checked.error();
        }
        sdk::TurnContext turn;
        turn.tenant_id = "gece-butik";
        turn.language = language;
        return tool_->invoke(sdk::ToolCall{"call-1", name, std::move(args)}, turn);
    }

    json::object product(const std::string& words, const std::string& language = "tr") {
        auto result = call("get_product_info", {{"product", words}}, language);
        EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
        return result.ok() ? result->as_object() : json::object{};
    }

    FakeHost host_;
    sdk::PluginPtr plugin_;
    sdk::Tool* tool_ = nullptr;
};

TEST_F(CatalogTool, DeclaresTheThreeToolsWithStrictSchemas) {
    EXPECT_STREQ(tezgah_plugin_descriptor.name, "catalog");
    EXPECT_EQ(tezgah_plugin_descriptor.kind, sdk::PluginKind::tool);
    const auto specs = tool_->specs();
    ASSERT_EQ(specs.size(), 3U);
    EXPECT_EQ(specs[0].name, "get_product_info");
    EXPECT_EQ(specs[1].name, "list_offerings");
    EXPECT_EQ(specs[2].name, "get_general_info");
    for (const auto& spec : specs) {
        EXPECT_FALSE(spec.description.empty());
        EXPECT_EQ(spec.parameters.at("additionalProperties"), json::value(false)) << spec.name;
        for (const auto& [key, property] : spec.parameters.at("properties").as_object()) {
            EXPECT_TRUE(property.as_object().contains("description")) << spec.name << "." << key;
        }
    }
    EXPECT_FALSE(call("get_product_info", {{"product", "x"}, {"colour", "red"}}).ok());
    EXPECT_FALSE(call("get_product_info", {{"product", "x"}, {"query_type", "weight"}}).ok());
}

TEST_F(CatalogTool, FindsAProductByTheCustomersWordsWithItsSiblings) {
    const auto answer = product("saten gecelik ne kadar");
    ASSERT_EQ(answer.at("found"), json::value(true));
    const auto& found = answer.at("product").as_object();
    EXPECT_EQ(found.at("id").as_string().subview().substr(0, 14), "saten-gecelik-");
    EXPECT_EQ(found.at("price").to_number<double>(), 299.99);
    EXPECT_EQ(found.at("currency"), json::value("TRY"));
    EXPECT_EQ(found.at("type"), json::value("PRODUCT"));
    EXPECT_EQ(found.at("category"), json::value("Gecelik"));
    EXPECT_TRUE(found.at("attributes").is_object());
    // Both satin nightgowns are named: the other one as also matching.
    const auto& also = answer.at("also_matching").as_array();
    ASSERT_FALSE(also.empty());
    EXPECT_EQ(also[0].at("id").as_string().subview().substr(0, 14), "saten-gecelik-");
    EXPECT_NE(also[0].at("id"), found.at("id"));
    for (const auto& key : {"id", "name", "price", "currency", "stock", "in_stock", "category"}) {
        EXPECT_TRUE(also[0].as_object().contains(key)) << key;
    }
}

TEST_F(CatalogTool, FindsAProductById) {
    const auto answer = product("pamuklu-gecelik");
    ASSERT_EQ(answer.at("found"), json::value(true));
    EXPECT_EQ(answer.at("product").at("id"), json::value("pamuklu-gecelik"));
    EXPECT_EQ(answer.at("product").at("stock"), json::value(25));
    EXPECT_EQ(answer.at("product").at("in_stock"), json::value(true));
    EXPECT_EQ(answer.at("query_type"), json::value("details"));
    EXPECT_TRUE(answer.at("alternatives").as_array().empty());
}

TEST_F(CatalogTool, SoldOutProductComesWithInStockAlternativesOfItsCategory) {
    for (const auto* words : {"bordo gecelik", "polar pijama"}) {
        const auto answer = product(words);
        ASSERT_EQ(answer.at("found"), json::value(true)) << words;
        const auto& found = answer.at("product").as_object();
        EXPECT_EQ(found.at("stock"), json::value(0)) << words;
        EXPECT_EQ(found.at("in_stock"), json::value(false)) << words;
        const auto& alternatives = answer.at("alternatives").as_array();
        ASSERT_FALSE(alternatives.empty()) << words;
        EXPECT_LE(alternatives.size(), 3U);
        for (const auto& alternative : alternatives) {
            EXPECT_EQ(alternative.at("in_stock"), json::value(true)) << words;
            EXPECT_EQ(alternative.at("category"), found.at("category")) << words;
            EXPECT_NE(alternative.at("id"), found.at("id"));
        }
    }
    EXPECT_EQ(product("bordo gecelik").at("product").at("id"), json::value("saten-gecelik-bordo"));
    EXPECT_EQ(product("polar pijama").at("product").at("id"), json::value("polar-pijama"));
}

TEST_F(CatalogTool, DiscontinuedProductIsNeverInStock) {
    const auto answer = product("ipek gecelik");
    ASSERT_EQ(answer.at("found"), json::value(true));
    const auto& found = answer.at("product").as_object();
    EXPECT_EQ(found.at("id"), json::value("ipek-gecelik"));
    EXPECT_EQ(found.at("available"), json::value(false));
    EXPECT_EQ(found.at("in_stock"), json::value(false));
    const auto& alternatives = answer.at("alternatives").as_array();
    ASSERT_FALSE(alternatives.empty());
    for (const auto& alternative : alternatives) EXPECT_EQ(alternative.at("in_stock"), json::value(true));
    for (const auto& also : answer.at("also_matching").as_array())
        EXPECT_NE(also.at("id"), json::value("ipek-gecelik"));
}

TEST_F(CatalogTool, AnswersInEnglishWithEnglishNames) {
    const auto answer = product("velvet robe", "en");
    ASSERT_EQ(answer.at("found"), json::value(true));
    EXPECT_EQ(answer.at("product").at("id"), json::value("kadife-sabahlik"));
    EXPECT_EQ(answer.at("product").at("name"), json::value("Velvet Robe"));
    EXPECT_EQ(answer.at("product").at("original_name"), json::value("Kadife Sabahlık"));
    // Turkish words in an English turn still find it, named in English.
    const auto turkish_words = product("kadife sabahlık", "en");
    EXPECT_EQ(turkish_words.at("product").at("name"), json::value("Velvet Robe"));
}

TEST_F(CatalogTool, InflectionsAndTyposStillFind) {
    EXPECT_EQ(product("geceliğin fiyatı").at("product").at("category"), json::value("Gecelik"));
    EXPECT_EQ(product("gecelk").at("product").at("category"), json::value("Gecelik"));
    EXPECT_EQ(product("pijma").at("product").at("category"), json::value("Pijama"));
    EXPECT_EQ(product("erkek pijama").at("product").at("id"), json::value("erkek-pijama-takimi"));
}

TEST_F(CatalogTool, UnknownProductGivesSuggestionsInStock) {
    const auto answer = product("xyzzy");
    EXPECT_EQ(answer.at("found"), json::value(false));
    EXPECT_EQ(answer.at("query"), json::value("xyzzy"));
    const auto& suggestions = answer.at("suggestions").as_array();
    ASSERT_FALSE(suggestions.empty());
    EXPECT_LE(suggestions.size(), 3U);
    for (const auto& suggestion : suggestions) EXPECT_EQ(suggestion.at("in_stock"), json::value(true));
}

TEST_F(CatalogTool, KeepsTheQueryType) {
    auto result = call("get_product_info", {{"product", "kadife sabahlık"}, {"query_type", "stock"}});
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->at("query_type"), json::value("stock"));
    EXPECT_EQ(result->at("product").at("stock"), json::value(6));
}

TEST_F(CatalogTool, ListsACategoryWithCounts) {
    auto result = call("list_offerings", {{"category", "pijama"}});
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->at("category"), json::value("Pijama"));
    const auto& items = result->at("items").as_array();
    EXPECT_EQ(items.size(), 5U);
    for (const auto& item : items) {
        EXPECT_EQ(item.at("category"), json::value("Pijama"));
        EXPECT_EQ(item.at("type"), json::value("PRODUCT"));
    }
    bool counted = false;
    for (const auto& category : result->at("categories").as_array()) {
        if (category.at("name") == json::value("Pijama")) {
            counted = true;
            EXPECT_EQ(category.at("count"), json::value(5));
        }
        // The discontinued silk nightgown is not counted.
        if (category.at("name") == json::value("Gecelik")) {
            EXPECT_EQ(category.at("count"), json::value(5));
        }
    }
    EXPECT_TRUE(counted);
}

TEST_F(CatalogTool, ListsEverythingAvailableOrOneType) {
    auto all = call("list_offerings", {});
    ASSERT_TRUE(all.ok());
    EXPECT_TRUE(all->at("category").is_null());
    for (const auto& item : all->at("items").as_array())
        EXPECT_NE(item.at("id"), json::value("ipek-gecelik"));
    EXPECT_EQ(all->at("items").as_array().size(), host_.offerings.offerings.size() - 1);

    auto services = call("list_offerings", {{"type", "SERVICE"}});
    ASSERT_TRUE(services.ok());
    for (const auto& item : services->at("items").as_array())
        EXPECT_EQ(item.at("type"), json::value("SERVICE"));

    auto english = call("list_offerings", {{"category", "pyjamas"}}, "en");
    ASSERT_TRUE(english.ok());
    EXPECT_EQ(english->at("category"), json::value("Pijama"));
}

TEST_F(CatalogTool, OpeningHoursWithOpenNow) {
    host_.time.set(utc(1, 12));  // Monday noon
    auto open = call("get_general_info", {{"info_type", "hours"}});
    ASSERT_TRUE(open.ok());
    EXPECT_EQ(open->at("info_type"), json::value("hours"));
    EXPECT_EQ(open->at("hours").at("mon"), json::value("10:00-20:00"));
    EXPECT_EQ(open->at("hours").at("sun"), json::value("closed"));
    EXPECT_EQ(open->at("open_now"), json::value(true));
    EXPECT_NE(open->at("value").as_string().find("10:00-20:00"), json::string::npos);

    host_.time.set(utc(7, 12));  // Sunday
    auto closed = call("get_general_info", {{"info_type", "çalışma saatleri"}});
    ASSERT_TRUE(closed.ok());
    EXPECT_EQ(closed->at("open_now"), json::value(false));
}

TEST_F(CatalogTool, AddressPhoneAndContact) {
    auto address = call("get_general_info", {{"info_type", "adres"}});
    ASSERT_TRUE(address.ok());
    EXPECT_EQ(address->at("info_type"), json::value("address"));
    EXPECT_EQ(address->at("value"), json::value(host_.profile.address));
    auto contact = call("get_general_info", {{"info_type", "contact"}});
    ASSERT_TRUE(contact.ok());
    EXPECT_EQ(contact->at("phone"), json::value(host_.profile.phone));
    EXPECT_EQ(contact->at("email"), json::value(host_.profile.email));
}

TEST_F(CatalogTool, BusinessInfoTopicsByKeySynonymAndInflection) {
    auto returns = call("get_general_info", {{"info_type", "iade"}});
    ASSERT_TRUE(returns.ok());
    EXPECT_EQ(returns->at("info_type"), json::value("iade"));
    EXPECT_NE(returns->at("value").as_string().find("14 gün"), json::string::npos);

    auto shipping = call("get_general_info", {{"info_type", "kargo ücreti"}});
    ASSERT_TRUE(shipping.ok());
    EXPECT_EQ(shipping->at("info_type"), json::value("kargo"));

    auto english = call("get_general_info", {{"info_type", "shipping"}}, "en");
    ASSERT_TRUE(english.ok());
    EXPECT_EQ(english->at("info_type"), json::value("kargo"));

    auto payment = call("get_general_info", {{"info_type", "ödeme"}});
    ASSERT_TRUE(payment.ok());
    EXPECT_EQ(payment->at("info_type"), json::value("odeme"));
}

TEST_F(CatalogTool, UnknownTopicIsNotFoundNamingTheKnownOnes) {
    auto unknown = call("get_general_info", {{"info_type", "otopark"}});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, "not_found");
    EXPECT_NE(unknown.error().message.find("otopark"), std::string::npos);
    EXPECT_NE(unknown.error().message.find("kargo"), std::string::npos);
    EXPECT_NE(unknown.error().message.find("hours"), std::string::npos);
}

TEST_F(CatalogTool, RejectsABadMaxResults) {
    FakeHost host;
    EXPECT_EQ(sdk::testing::instantiate(tezgah_plugin_descriptor, host, {{"max_results", 0}}), nullptr);
    EXPECT_TRUE(host.log.contains("max_results"));
    EXPECT_NE(sdk::testing::instantiate(tezgah_plugin_descriptor, host, {{"max_results", 2}}), nullptr);
}

}  // namespace
}  // namespace tezgah::plugins::catalog
