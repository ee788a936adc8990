// The `widget` channel plugin: the web chat widget. It serves the script (`GET /widget.js`, one
// file for every tenant, cached by ETag) and a demo page per tenant (`GET
// /v1/tenants/{tenant}/channels/widget`), and declares the widget's configuration. The WebSocket
// itself (`GET .../widget/ws`) is the engine's: a socket outlives any request a plugin sees
// (engine/src/http/widget_socket.cpp reads this plugin's config from the tenant's manifest).
//
// Its pages answer without a turn, through ChannelSender::delivery_reports' `answer` (the host's
// way for a channel to answer a request itself); it sends nothing through the outbox.
#include "assets.hpp"

#include <tezgah/sdk/markup.hpp>
#include <tezgah/sdk/sdk.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tezgah::plugins::widget {
namespace {

namespace json = boost::json;
using sdk::Error;
using sdk::Result;

constexpr std::string_view kScriptPath = "/widget.js";

/// The script's ETag: FNV-1a over its bytes, fixed for a build.
std::string script_etag() {
    std::uint64_t hash = 14695981039346656037ull;
    for (const char c : kWidgetScript) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ull;
    }
    char text[24];
    std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
    return text;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

/// True for "#rgb" and "#rrggbb".
bool hex_color(std::string_view color) {
    if ((color.size() != 4 && color.size() != 7) || color.front() != '#') return false;
    for (const char c : color.substr(1))
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

/// "https://shop.example" or "http://localhost:8000": a scheme and a host, no path.
bool plain_origin(std::string_view origin) {
    const auto scheme = origin.find("://");
    if (scheme == std::string_view::npos) return false;
    const auto name = origin.substr(0, scheme);
    if (name != "http" && name != "https") return false;
    const auto host = origin.substr(scheme + 3);
    return !host.empty() && host.find_first_of("/?# ") == std::string_view::npos;
}

sdk::HttpResponse answer(int status, std::string content_type, std::string body) {
    sdk::HttpResponse out;
    out.status = status;
    out.content_type = std::move(content_type);
    out.body = std::move(body);
    return out;
}

class WidgetChannel final : public sdk::Channel, public sdk::ChannelSender {
public:
    WidgetChannel(sdk::HostServices& host, std::string title) : host_(host), title_(std::move(title)) {}

    std::vector<sdk::Route> routes() const override {
        return {sdk::Route{"GET", "/", sdk::RouteScope::tenant},
                sdk::Route{"GET", "/ws", sdk::RouteScope::tenant},
                sdk::Route{"GET", std::string(kScriptPath), sdk::RouteScope::process}};
    }

    Result<sdk::DeliveryReports> delivery_reports(const sdk::HttpRequest& request) override {
        sdk::DeliveryReports out;
        if (request.path == kScriptPath) {
            out.answer = script(request);
        } else if (request.path == "/") {
            out.answer = demo_page();
        } else if (request.path == "/ws") {
            // The engine takes WebSocket handshakes before they get here.
            auto refusal = answer(
                426, "application/json",
                sdk::json_text(json::object{{"error", json::object{{"code", "upgrade_required"},
                                                                   {"message",
                                                                    "widget socket: a WebSocket handshake "
                                                                    "(Upgrade: websocket) is expected"}}}}));
            refusal.headers.emplace_back("Upgrade", "websocket");
            out.answer = std::move(refusal);
        }
        return out;
    }

    Result<sdk::InboundMessage> parse(const sdk::HttpRequest& request) override {
        return Error{sdk::errc::not_found, "widget: no route for " + request.method + " " + request.path};
    }

    sdk::HttpResponse render(const sdk::InboundMessage& /*message*/, const sdk::TurnReply& reply) override {
        return answer(200, "application/json", sdk::json_text(sdk::to_json(reply)));
    }

    sdk::SendResult send(const sdk::OutboundMessage& /*message*/) override {
        sdk::SendResult out;
        out.outcome = sdk::SendResult::Outcome::failed;
        out.error =
            "the widget answers over its WebSocket; messages queued in the outbox are not "
            "delivered to it";
        return out;
    }

    std::optional<sdk::OutboundMessage> reply_message(const sdk::InboundMessage& /*message*/,
                                                      const sdk::TurnReply& /*reply*/) override {
        return std::nullopt;
    }

private:
    static sdk::HttpResponse script(const sdk::HttpRequest& request) {
        static const std::string etag = script_etag();
        auto out = answer(200, "text/javascript; charset=utf-8", std::string(kWidgetScript));
        if (request.header("if-none-match") == etag) {
            out.status = 304;
            out.body.clear();
        }
        out.headers.emplace_back("ETag", etag);
        // Short: a new release reaches pages within minutes; revalidation costs a 304.
        out.headers.emplace_back("Cache-Control", "public, max-age=300");
        out.headers.emplace_back("Access-Control-Allow-Origin", "*");
        return out;
    }

    sdk::HttpResponse demo_page() const {
        const auto& tenant = host_.tenant();
        std::string page(kDemoPage);
        replace_all(page, "{{lang}}", sdk::text::escape_markup(tenant.language));
        replace_all(page, "{{tenant}}", sdk::text::escape_markup(tenant.id));
        replace_all(page, "{{name}}", sdk::text::escape_markup(title_.empty() ? tenant.name : title_));
        auto out = answer(200, "text/html; charset=utf-8", std::move(page));
        out.headers.emplace_back("Cache-Control", "no-cache");
        return out;
    }

    sdk::HostServices& host_;
    std::string title_;
};

const sdk::ConfigKey kConfig[] = {
    {.name = "allowed_origins",
     .type = sdk::ConfigType::string_list,
     .default_json = "[]",
     .description =
         "Origins of the pages that may open the widget (\"https://shop.example\"); the engine's "
         "own origin (its demo page) is always allowed. Others are refused at the handshake (403)."},
    {.name = "title",
     .type = sdk::ConfigType::string,
     .description = "The panel's title; the tenant's name when not set."},
    {.name = "color",
     .type = sdk::ConfigType::string,
     .default_json = "\"#0f766e\"",
     .description = "The launcher's and the panel's accent colour, \"#rgb\" or \"#rrggbb\"."},
    {.name = "greeting",
     .type = sdk::ConfigType::string,
     .description = "The first bubble a new visitor sees; a greeting in the page's language when not set."},
};

Result<sdk::PluginPtr> make_widget(const json::object& config, sdk::HostServices& host) {
    const sdk::ConfigView view(config);
    const std::string color = view.string("color");
    if (!color.empty() && !hex_color(color))
        return Error{sdk::errc::invalid_value,
                     "color: expected \"#rgb\" or \"#rrggbb\", got \"" + color + "\""};
    if (const auto* origins = config.if_contains("allowed_origins");
        origins != nullptr && origins->is_array()) {
        for (const auto& origin : origins->get_array()) {
            if (!origin.is_string() || !plain_origin(origin.get_string()))
                return Error{
                    sdk::errc::invalid_value,
                    "allowed_origins: " + json::serialize(origin) +
                        ": expected an origin such as \"https://shop.example\" (a scheme and a host, "
                        "no path)"};
        }
    }
    return sdk::PluginPtr(std::make_unique<WidgetChannel>(host, view.string("title")));
}

}  // namespace
}  // namespace tezgah::plugins::widget

TEZGAH_SENDING_CHANNEL_PLUGIN("widget", "1.0.0", "The web chat widget: widget.js, a demo page, its WebSocket",
                              tezgah::plugins::widget::kConfig, &tezgah::plugins::widget::make_widget);
