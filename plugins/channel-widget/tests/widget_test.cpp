// The widget channel plugin: its routes, the script with its caching headers, the demo page, and
// the configuration it refuses. The WebSocket is the engine's (tests/node/widget_socket.test.js).
#include <tezgah/sdk/sdk.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <string>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;

namespace tezgah::plugins::widget {
namespace {

namespace json = boost::json;

struct Built {
    sdk::PluginPtr plugin;
    sdk::Channel* channel = nullptr;
    sdk::ChannelSender* sender = nullptr;
};

class WidgetChannel : public ::testing::Test {
protected:
    Built make(const json::object& config) {
        Built out;
        out.plugin = sdk::testing::instantiate(tezgah_plugin_descriptor, host_, config);
        out.channel = dynamic_cast<sdk::Channel*>(out.plugin.get());
        out.sender = dynamic_cast<sdk::ChannelSender*>(out.plugin.get());
        return out;
    }

    static sdk::HttpRequest get(std::string path, std::string if_none_match = {}) {
        sdk::HttpRequest request;
        request.method = "GET";
        request.path = std::move(path);
        if (!if_none_match.empty()) request.headers.emplace_back("if-none-match", std::move(if_none_match));
        return request;
    }

    static std::string header(const sdk::HttpResponse& response, std::string_view name) {
        for (const auto& [key, value] : response.headers)
            if (key == name) return value;
        return {};
    }

    sdk::testing::FakeHost host_;
};

TEST_F(WidgetChannel, DeclaresItsRoutesAndSends) {
    EXPECT_TRUE(tezgah_plugin_descriptor.capabilities & sdk::kChannelSends);
    auto built = make({});
    ASSERT_NE(built.channel, nullptr);
    ASSERT_NE(built.sender, nullptr);
    const auto routes = built.channel->routes();
    ASSERT_EQ(routes.size(), 3u);
    EXPECT_EQ(routes[0].path, "/");
    EXPECT_EQ(routes[1].path, "/ws");
    EXPECT_EQ(routes[2].path, "/widget.js");
    EXPECT_EQ(routes[2].scope, sdk::RouteScope::process);
}

TEST_F(WidgetChannel, ServesTheScriptWithAnEtagAndAnswers304WhenItMatches) {
    auto built = make({});
    auto first = built.sender->delivery_reports(get("/widget.js"));
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(first->answer);
    EXPECT_EQ(first->answer->status, 200);
    EXPECT_NE(first->answer->content_type.find("javascript"), std::string::npos);
    EXPECT_NE(first->answer->body.find("attachShadow"), std::string::npos);
    const auto etag = header(*first->answer, "ETag");
    ASSERT_FALSE(etag.empty());
    EXPECT_NE(header(*first->answer, "Cache-Control").find("max-age"), std::string::npos);

    auto again = built.sender->delivery_reports(get("/widget.js", etag));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->answer->status, 304);
    EXPECT_TRUE(again->answer->body.empty());
    EXPECT_EQ(header(*again->answer, "ETag"), etag);

    auto stale = built.sender->delivery_reports(get("/widget.js", "\"0000\""));
    EXPECT_EQ(stale->answer->status, 200);
}

TEST_F(WidgetChannel, TheDemoPageCarriesTheTenantsTagAndEscapesItsName) {
    host_.profile.id = "gece-butik";
    host_.profile.name = "Gece <Butik>";
    host_.profile.language = "tr";
    auto built = make({});
    auto page = built.sender->delivery_reports(get("/"));
    ASSERT_TRUE(page.ok());
    ASSERT_TRUE(page->answer);
    EXPECT_EQ(page->answer->status, 200);
    const auto& html = page->answer->body;
    EXPECT_NE(html.find(R"(<script src="/widget.js" data-tenant="gece-butik" async></script>)"),
              std::string::npos);
    EXPECT_NE(html.find(R"(<html lang="tr">)"), std::string::npos);
    EXPECT_NE(html.find("Gece &lt;Butik&gt;"), std::string::npos);
    EXPECT_EQ(html.find("Gece <Butik>"), std::string::npos);
}

TEST_F(WidgetChannel, APlainGetOfTheSocketIsTold426) {
    auto built = make({});
    auto answer = built.sender->delivery_reports(get("/ws"));
    ASSERT_TRUE(answer.ok());
    ASSERT_TRUE(answer->answer);
    EXPECT_EQ(answer->answer->status, 426);
    EXPECT_NE(answer->answer->body.find("upgrade_required"), std::string::npos);
}

TEST_F(WidgetChannel, RefusesAColourOrAnOriginItCannotUse) {
    EXPECT_NE(make({{"color", "#0f766e"}}).plugin, nullptr);
    EXPECT_NE(make({{"color", "#abc"}}).plugin, nullptr);
    EXPECT_EQ(make({{"color", "red; background: url(x)"}}).plugin, nullptr);
    EXPECT_NE(
        make({{"allowed_origins", json::array{"https://shop.example", "http://127.0.0.1:8000"}}}).plugin,
        nullptr);
    EXPECT_EQ(make({{"allowed_origins", json::array{"https://shop.example/page"}}}).plugin, nullptr);
    EXPECT_EQ(make({{"allowed_origins", json::array{"shop.example"}}}).plugin, nullptr);
    EXPECT_EQ(make({{"colour", "#fff"}}).plugin, nullptr);  // unknown key
}

TEST_F(WidgetChannel, QueuesNothingInTheOutbox) {
    auto built = make({});
    sdk::InboundMessage message;
    sdk::TurnReply reply;
    EXPECT_FALSE(built.sender->reply_message(message, reply).has_value());
}

}  // namespace
}  // namespace tezgah::plugins::widget
