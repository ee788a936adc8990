// The `whatsapp-cloud` channel plugin: Meta's WhatsApp Cloud API. Meta verifies the webhook with a
// GET (hub.challenge), then posts customers' messages and the statuses of sent ones, signed with
// the app secret (X-Hub-Signature-256). Replies go out through the engine's outbox to the Graph
// API's /{phone_number_id}/messages as text, reply buttons, a list, an image or a template.
#include "whatsapp.hpp"

#include <tezgah/sdk/llm.hpp>

#include <map>
#include <string>
#include <vector>

namespace tezgah::plugins::whatsapp {
namespace {

using sdk::Error;
using sdk::Result;

/// The engine's limit on a message's text (docs/http-api.md): longer texts are cut, not refused,
/// since Meta would deliver a refused webhook again and again.
constexpr std::size_t kMaxTextCharacters = 4000;

struct Settings {
    std::string phone_number_id;
    std::string access_token;
    std::string app_secret;
    std::string verify_token;
    std::string messages_url;  ///< {api_base_url}/{graph_version}/{phone_number_id}/messages
    int timeout_ms = 20000;
    RenderSettings render;
};

bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

sdk::HttpResponse json_answer(int status, const json::object& body) {
    return sdk::HttpResponse{status, {}, "application/json", json::serialize(body)};
}

/// Text as a turn takes it: valid UTF-8, no NUL, at most the engine's length.
std::string clean_text(std::string_view text) {
    std::string out = sdk::text::repair_utf8(text);
    std::erase(out, '\0');
    return shorten(sdk::text::trim(out), kMaxTextCharacters);
}

class WhatsAppCloud final : public sdk::Channel, public sdk::ChannelSender, public sdk::ChannelBatch {
public:
    WhatsAppCloud(Settings settings, sdk::HostServices& host) : settings_(std::move(settings)), host_(host) {}

    std::vector<sdk::Route> routes() const override {
        return {sdk::Route{"GET", "/", sdk::RouteScope::tenant},
                sdk::Route{"POST", "/", sdk::RouteScope::tenant}};
    }

    /// Meta's verification (GET) and the statuses of a notification (POST).
    Result<sdk::DeliveryReports> delivery_reports(const sdk::HttpRequest& request) override {
        sdk::DeliveryReports out;
        if (request.method == "GET") {
            auto answer = verification(request);
            if (!answer) return answer.error();
            out.answer = std::move(answer).value();
            return out;
        }
        auto webhook = verified_webhook(request);
        if (!webhook) return webhook.error();
        for (const auto& status : webhook->statuses) {
            auto state = sdk::parse_delivery_state(status.status);
            // "deleted", "warning" and states Meta adds later move nothing.
            if (!state || *state == sdk::DeliveryState::queued ||
                *state == sdk::DeliveryState::window_closed || status.wamid.empty())
                continue;
            out.reports.push_back(sdk::DeliveryReport{status.wamid, *state, status.error});
        }
        if (webhook->messages.empty())
            out.answer = json_answer(200, json::object{{"received", true}, {"statuses", out.reports.size()}});
        return out;
    }

    Result<std::vector<sdk::InboundMessage>> parse_batch(const sdk::HttpRequest& request) override {
        auto webhook = verified_webhook(request);
        if (!webhook) return webhook.error();
        // One turn per customer: what one customer sent in one notification is one burst.
        std::vector<sdk::InboundMessage> out;
        std::map<std::string, std::size_t> by_customer;
        for (const auto& m : webhook->messages) {
            const bool media = !m.media_id.empty();
            if (m.text.empty() && !media) continue;  // a reaction, a location...: nothing to answer
            std::string text = clean_text(m.text);
            if (media) {
                // Kept with the message, in its text: what it was and Meta's id to fetch it by.
                text += (text.empty() ? "" : "\n") + std::string("[") + m.type + " " +
                        (m.mime_type.empty() ? "?" : m.mime_type) + " media:" + m.media_id + "]";
            }
            auto [it, fresh] = by_customer.emplace(m.from, out.size());
            if (fresh) {
                sdk::InboundMessage message;
                message.user_id = m.from;
                message.channel = "whatsapp-cloud";
                message.platform = "whatsapp";
                message.message_id = m.wamid;
                message.metadata["wamids"] = json::array{};
                if (!m.profile_name.empty()) message.metadata["profile_name"] = m.profile_name;
                out.push_back(std::move(message));
            }
            auto& message = out[it->second];
            message.text += (message.text.empty() ? "" : "\n") + text;
            message.metadata["wamids"].as_array().push_back(json::string(m.wamid));
            if (!m.choice_id.empty()) message.metadata["choice_id"] = m.choice_id;
            if (media) {
                if (!message.metadata.contains("media")) message.metadata["media"] = json::array{};
                message.metadata["media"].as_array().push_back(
                    json::object{{"type", m.type}, {"id", m.media_id}, {"mime_type", m.mime_type}});
                if (m.text.empty()) message.metadata["media_only"] = true;
            } else {
                message.metadata["media_only"] = false;
            }
        }
        for (auto& message : out) {
            message.text = shorten(message.text, kMaxTextCharacters);
            const auto* media_only = message.metadata.if_contains("media_only");
            if (media_only != nullptr && media_only->is_bool() && media_only->get_bool()) {
                // No assistant here reads pictures: a polite answer, and a person takes over.
                message.metadata["handoff"] = json::object{{"reason", "media"}, {"reply", media_reply()}};
            }
        }
        return out;
    }

    Result<sdk::InboundMessage> parse(const sdk::HttpRequest& request) override {
        auto batch = parse_batch(request);
        if (!batch) return batch.error();
        if (batch->empty())
            return Error{sdk::errc::invalid_value, "whatsapp-cloud webhook: no message to answer"};
        return std::move(batch->front());
    }

    sdk::HttpResponse render(const sdk::InboundMessage& /*message*/,
                             const sdk::TurnReply& /*reply*/) override {
        // Meta wants a quick 200; every reply goes through the Graph API, from the outbox.
        return json_answer(200, json::object{{"received", true}});
    }

    std::optional<sdk::OutboundMessage> reply_message(const sdk::InboundMessage& message,
                                                      const sdk::TurnReply& reply) override {
        if (reply.reply.empty()) return std::nullopt;  // a silent bot (a person has taken over)
        sdk::OutboundMessage out;
        out.text = reply.reply;
        out.options = reply.options;
        out.cards = reply.cards;
        if (const auto* wamids = message.metadata.if_contains("wamids"))
            out.metadata["in_reply_to"] = *wamids;
        return out;
    }

    sdk::SendResult send(const sdk::OutboundMessage& message) override {
        sdk::OutboundRequest request;
        request.method = "POST";
        request.url = settings_.messages_url;
        request.timeout_ms = settings_.timeout_ms;
        request.headers = {{"Authorization", "Bearer " + settings_.access_token},
                           {"Content-Type", "application/json"},
                           {"Idempotency-Key", message.idempotency_key}};
        request.body = json::serialize(graph_message(message, settings_.render));
        return send_outcome(host_.http().send(request));
    }

private:
    Result<sdk::HttpResponse> verification(const sdk::HttpRequest& request) const {
        const auto mode = query_value(request.query, "hub.mode");
        const auto token = query_value(request.query, "hub.verify_token");
        const auto challenge = query_value(request.query, "hub.challenge");
        if (!mode || !token || !challenge)
            return Error{sdk::errc::missing_field,
                         "whatsapp-cloud verification: the query needs hub.mode, hub.verify_token and "
                         "hub.challenge"};
        if (*mode != "subscribe")
            return Error{sdk::errc::invalid_value,
                         "whatsapp-cloud verification: hub.mode: expected \"subscribe\""};
        if (!same_secret(*token, settings_.verify_token))
            return Error{sdk::errc::forbidden,
                         "whatsapp-cloud verification: hub.verify_token does not match the channel's "
                         "verify_token"};
        return sdk::HttpResponse{200, {}, "text/plain", *challenge};
    }

    Result<Webhook> verified_webhook(const sdk::HttpRequest& request) const {
        const auto signature = request.header("x-hub-signature-256");
        if (signature.empty())
            return Error{sdk::errc::forbidden, "whatsapp-cloud webhook: header X-Hub-Signature-256: missing"};
        if (!signature_matches(signature, settings_.app_secret, request.body))
            return Error{sdk::errc::forbidden,
                         "whatsapp-cloud webhook: header X-Hub-Signature-256: does not match the body "
                         "signed with the channel's app_secret"};
        if (!sdk::is_json_content_type(request.header("content-type")))
            return Error{sdk::errc::unsupported_media_type,
                         "whatsapp-cloud webhook: Content-Type: expected application/json, got '" +
                             std::string(request.header("content-type")).substr(0, 100) + "'"};
        return read_webhook(request.body, settings_.phone_number_id);
    }

    std::string media_reply() const {
        if (settings_.render.language == "en")
            return "Thank you, we received your file. Someone from our team will look at it and get back to "
                   "you shortly.";
        return "Te\xC5\x9F"
               "ekk\xC3\xBC"
               "rler, g\xC3\xB6"
               "nderdi\xC4\x9F"
               "iniz dosyay\xC4\xB1 ald\xC4\xB1"
               "k. Ekibimizden "
               "biri inceleyip en k\xC4\xB1"
               "sa s\xC3\xBC"
               "rede size d\xC3\xB6"
               "necek.";
    }

    Settings settings_;
    sdk::HostServices& host_;
};

const sdk::ConfigKey kConfig[] = {
    {.name = "phone_number_id",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "The business phone number's id (Meta app dashboard, WhatsApp > API Setup)"},
    {.name = "access_token",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "A system user's access token with whatsapp_business_messaging, e.g. "
                    "\"${TEZGAH_<TENANT>__WHATSAPP_TOKEN}\"",
     .secret = true},
    {.name = "app_secret",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "The app secret (App settings > Basic): webhooks are checked against X-Hub-Signature-256 "
                    "with it",
     .secret = true},
    {.name = "verify_token",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "The verify token typed into the webhook settings; Meta's GET verification must carry it",
     .secret = true},
    {.name = "graph_version",
     .type = sdk::ConfigType::string,
     .default_json = "\"v21.0\"",
     .description = "The Graph API version in the send URL"},
    {.name = "api_base_url",
     .type = sdk::ConfigType::url,
     .default_json = "\"https://graph.facebook.com\"",
     .description = "Where the Graph API listens (a test server, a proxy)"},
    {.name = "burst_window_ms",
     .type = sdk::ConfigType::integer,
     .default_json = "1500",
     .description = "Messages of one customer within this time make one turn (0 turns it off)",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(60000)},
    {.name = "templates",
     .type = sdk::ConfigType::object,
     .description = "The tenant's template names mapped to Meta's approved templates: {name: {\"name\", "
                    "\"language\", \"variables\": [names in the order of {{1}}, {{2}}...]}}"},
    {.name = "reopen_template",
     .type = sdk::ConfigType::string,
     .description = "The template sent instead of a reply outside the customer's 24-hour window (its "
                    "variable \"text\" is the reply); without one such a reply is kept as window_closed"},
};

Result<std::map<std::string, TemplateMapping>> read_templates(const json::object* templates) {
    std::map<std::string, TemplateMapping> out;
    if (templates == nullptr) return out;
    for (const auto& [key, value] : *templates) {
        const std::string field = "templates." + std::string(key);
        if (!value.is_object()) return Error{sdk::errc::invalid_config, field + ": expected an object"};
        const auto& o = value.get_object();
        TemplateMapping mapping;
        for (const auto& [k, v] : o) {
            if (k == "name" || k == "language") {
                if (!v.is_string() || v.get_string().empty())
                    return Error{sdk::errc::invalid_config,
                                 field + "." + std::string(k) + ": expected a string"};
                (k == "name" ? mapping.meta_name : mapping.language) = std::string(v.get_string());
            } else if (k == "variables") {
                if (!v.is_array())
                    return Error{sdk::errc::invalid_config, field + ".variables: expected an array"};
                for (const auto& name : v.get_array()) {
                    if (!name.is_string())
                        return Error{sdk::errc::invalid_config, field + ".variables: expected strings"};
                    mapping.variables.emplace_back(name.get_string());
                }
            } else {
                return Error{
                    sdk::errc::invalid_config,
                    field + "." + std::string(k) + ": unknown key (expected name, language, variables)"};
            }
        }
        if (mapping.meta_name.empty()) mapping.meta_name = std::string(key);
        out.emplace(std::string(key), std::move(mapping));
    }
    return out;
}

Result<sdk::PluginPtr> make_whatsapp_cloud(const json::object& config, sdk::HostServices& host) {
    const sdk::ConfigView view(config);
    Settings settings;
    settings.phone_number_id = view.string("phone_number_id");
    settings.access_token = view.string("access_token");
    settings.app_secret = view.string("app_secret");
    settings.verify_token = view.string("verify_token");
    for (const char c : settings.phone_number_id) {
        if (c < '0' || c > '9')
            return Error{sdk::errc::invalid_config,
                         "phone_number_id: expected digits (Meta's id of the number)"};
    }
    std::string base = view.string("api_base_url");
    while (!base.empty() && base.back() == '/') base.pop_back();
    settings.messages_url =
        base + "/" + view.string("graph_version") + "/" + settings.phone_number_id + "/messages";
    auto templates = read_templates(view.object("templates"));
    if (!templates) return templates.error();
    settings.render.templates = std::move(templates).value();
    settings.render.language = host.tenant().language.empty() ? "tr" : host.tenant().language;
    return sdk::PluginPtr(std::make_unique<WhatsAppCloud>(std::move(settings), host));
}

}  // namespace
}  // namespace tezgah::plugins::whatsapp

TEZGAH_CHANNEL_PLUGIN("whatsapp-cloud", "1.0.0",
                      "WhatsApp through Meta's Cloud API (webhooks in, Graph API out)",
                      tezgah::plugins::whatsapp::kConfig, &tezgah::plugins::whatsapp::make_whatsapp_cloud,
                      tezgah::sdk::kChannelSends | tezgah::sdk::kChannelCustomerWindow |
                          tezgah::sdk::kChannelBatches);
