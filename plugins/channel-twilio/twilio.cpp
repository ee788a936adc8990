// The `twilio` channel plugin: WhatsApp (or SMS) through Twilio. Inbound messages come as signed
// form posts to POST /v1/tenants/{tenant}/channels/twilio, status callbacks to .../twilio/status;
// replies go back as TwiML in the HTTP answer when the turn is quick, else through the outbox and
// Twilio's Messages API. See README.md and docs/channels.md.
#include "wire.hpp"

#include <tezgah/sdk/sdk.hpp>

#include <string>
#include <vector>

namespace tezgah::plugins::twilio {
namespace {

namespace json = boost::json;
using sdk::Error;
using sdk::Result;

constexpr int kMaxMedia = 10;  // Twilio sends at most ten attachments
constexpr int kSendTimeoutMs = 15000;
constexpr int kWindowClosedError = 63016;  // "outside the allowed window": templates only

struct Template {
    std::string content_sid;
    json::object variables;
};

/// What a turn's reply becomes on Twilio. Rich replies (ABI 1.5) add their options and cards here.
Outgoing outgoing_of(const sdk::TurnReply& reply) {
    return Outgoing{reply.reply, reply.options, reply.cards};
}

Outgoing outgoing_of(const sdk::OutboundMessage& message) {
    return Outgoing{message.text, message.options, message.cards};
}

std::string variable_text(const json::value& v) {
    return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

sdk::HttpResponse xml_response(int status, std::string body) {
    return sdk::HttpResponse{status, {}, "application/xml; charset=utf-8", std::move(body)};
}

bool form_content_type(std::string_view content_type) {
    const auto semicolon = content_type.find(';');
    auto type = sdk::text::trim(content_type.substr(0, semicolon));
    std::string lower(type);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "application/x-www-form-urlencoded";
}

class TwilioChannel final : public sdk::Channel, public sdk::ChannelSender {
public:
    TwilioChannel(const json::object& config, std::map<std::string, Template> templates,
                  sdk::HostServices& host)
        : host_(host), templates_(std::move(templates)) {
        sdk::ConfigView view(config);
        account_sid_ = view.string("account_sid");
        auth_token_ = view.string("auth_token");
        from_ = view.string("from");
        public_url_ = view.string("public_url");
        while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
        api_base_url_ = view.string("api_base_url");
        while (!api_base_url_.empty() && api_base_url_.back() == '/') api_base_url_.pop_back();
        reopen_template_ = view.string("reopen_template");
    }

    std::vector<sdk::Route> routes() const override {
        return {sdk::Route{"POST", "/", sdk::RouteScope::tenant},
                sdk::Route{"POST", "/status", sdk::RouteScope::tenant}};
    }

    Result<sdk::InboundMessage> parse(const sdk::HttpRequest& request) override {
        auto form = verified_form(request);
        if (!form) return form.error();
        const Form& f = *form;
        if (auto account = form_value(f, "AccountSid"); !account.empty() && account != account_sid_)
            return Error{sdk::errc::forbidden,
                         "twilio: AccountSid: not the account of channels.twilio.account_sid"};
        sdk::InboundMessage m;
        m.channel = "twilio";
        m.message_id = std::string(form_value(f, "MessageSid"));
        if (m.message_id.empty()) return Error{sdk::errc::missing_field, "twilio form: MessageSid: required"};
        m.user_id = std::string(form_value(f, "From"));
        if (m.user_id.empty()) return Error{sdk::errc::missing_field, "twilio form: From: required"};
        m.platform = m.user_id.starts_with("whatsapp:") ? "whatsapp" : "sms";

        // The customer's choice of a quick-reply button counts as the text of the turn: its title
        // (as if typed), else its payload (an option's id).
        const auto button_text = sdk::text::trim(form_value(f, "ButtonText"));
        const auto button_payload = sdk::text::trim(form_value(f, "ButtonPayload"));
        if (!button_text.empty() || !button_payload.empty()) {
            m.text = std::string(!button_text.empty() ? button_text : button_payload);
            m.metadata["button"] = json::object{{"text", button_text}, {"payload", button_payload}};
        } else {
            m.text = std::string(form_value(f, "Body"));
        }

        auto media = read_media(f);
        if (!media) return media.error();
        if (!media->empty()) m.metadata["media"] = std::move(media).value();
        if (auto name = form_value(f, "ProfileName"); !name.empty()) m.metadata["profile_name"] = name;
        if (auto wa_id = form_value(f, "WaId"); !wa_id.empty()) m.metadata["wa_id"] = wa_id;
        const auto latitude = form_value(f, "Latitude");
        const auto longitude = form_value(f, "Longitude");
        if (!latitude.empty() && !longitude.empty())
            m.metadata["location"] = json::object{{"latitude", latitude}, {"longitude", longitude}};
        return m;
    }

    sdk::HttpResponse render(const sdk::InboundMessage& /*message*/, const sdk::TurnReply& reply) override {
        return xml_response(200, twiml(outgoing_of(reply)));
    }

    std::optional<sdk::OutboundMessage> reply_message(const sdk::InboundMessage& /*message*/,
                                                      const sdk::TurnReply& reply) override {
        const Outgoing out = outgoing_of(reply);
        if (sdk::text::trim(message_body(out)).empty() && media_url(out).empty()) return std::nullopt;
        sdk::OutboundMessage message;
        message.text = out.text;
        message.options = out.options;
        message.cards = out.cards;
        return message;
    }

    Result<sdk::DeliveryReports> delivery_reports(const sdk::HttpRequest& request) override {
        sdk::DeliveryReports out;
        if (request.path != "/status") return out;
        auto form = verified_form(request);
        if (!form) return form.error();
        const auto sid = form_value(*form, "MessageSid");
        if (sid.empty())
            return Error{sdk::errc::missing_field, "twilio status callback: MessageSid: required"};
        const auto status = form_value(*form, "MessageStatus");
        if (status.empty())
            return Error{sdk::errc::missing_field, "twilio status callback: MessageStatus: required"};
        if (auto state = delivery_state(status)) {
            std::string error;
            if (*state == sdk::DeliveryState::failed) {
                const auto code = form_value(*form, "ErrorCode");
                const auto words = form_value(*form, "ErrorMessage");
                error = "Twilio " + std::string(status);
                if (!code.empty()) error += ": error " + std::string(code);
                if (!words.empty()) error += ": " + std::string(words);
            }
            out.reports.push_back({std::string(sid), *state, std::move(error)});
        }
        out.answer = xml_response(200, twiml(Outgoing{}));
        return out;
    }

    sdk::SendResult send(const sdk::OutboundMessage& message) override {
        const Outgoing out = outgoing_of(message);
        Form form{{"To", message.recipient}, {"From", from_}};
        if (message.template_message) {
            auto added =
                add_template(form, message.template_message->name, message.template_message->variables);
            if (!added) return failed(added.error().message);
        } else if (const auto* buttons = options_template(out)) {
            json::object variables{{"1", out.text}};
            for (std::size_t i = 0; i < out.options.size(); ++i)
                variables[std::to_string(i + 2)] = out.options[i].title;
            add_content(form, *buttons, variables);
        } else {
            form.emplace_back("Body", message_body(out));
            if (auto media = media_url(out); !media.empty()) form.emplace_back("MediaUrl", media);
        }
        auto result = post(form, message.tenant_id);
        if (result.outcome != sdk::SendResult::Outcome::window_closed || message.template_message ||
            reopen_template_.empty())
            return result;
        // Outside the customer's 24-hour window only a template goes: the tenant's reopening one.
        Form reopen{{"To", message.recipient}, {"From", from_}};
        auto added = add_template(reopen, reopen_template_, {});
        if (!added) return failed(added.error().message);
        return post(reopen, message.tenant_id);
    }

private:
    static sdk::SendResult failed(std::string error) {
        sdk::SendResult out;
        out.outcome = sdk::SendResult::Outcome::failed;
        out.error = std::move(error);
        return out;
    }

    /// Reads and verifies a request: no signature 403, not a form 415, a broken form 400, a
    /// signature that does not match 403.
    Result<Form> verified_form(const sdk::HttpRequest& request) const {
        const auto given = request.header("x-twilio-signature");
        if (given.empty()) return Error{sdk::errc::forbidden, "twilio: X-Twilio-Signature: missing"};
        if (!form_content_type(request.header("content-type")))
            return Error{sdk::errc::unsupported_media_type,
                         "twilio: Content-Type: expected application/x-www-form-urlencoded, got '" +
                             std::string(request.header("content-type")) + "'"};
        auto params = parse_form(request.body);
        if (!params) return params.error();
        for (const auto& url : signed_urls(request)) {
            if (valid_signature(auth_token_, given, url, *params, request.body)) return params;
        }
        return Error{
            sdk::errc::forbidden,
            "twilio: X-Twilio-Signature: does not match the request (is channels.twilio.public_url the "
            "URL Twilio calls, and auth_token the account's?)"};
    }

    /// The URLs Twilio may have signed: under public_url, and as received (the Host header).
    std::vector<std::string> signed_urls(const sdk::HttpRequest& request) const {
        std::string path = "/v1/tenants/" + host_.tenant().id + "/channels/twilio";
        if (request.path != "/") path += request.path;
        const std::string query = request.query.empty() ? "" : "?" + request.query;
        std::vector<std::string> bases;
        if (!public_url_.empty()) bases.push_back(public_url_);
        if (auto host = request.header("host"); !host.empty()) {
            auto proto = request.header("x-forwarded-proto");
            bases.push_back((proto == "https" ? std::string("https") : std::string("http")) + "://" +
                            std::string(host));
        }
        std::vector<std::string> out;
        out.reserve(bases.size() * 2);
        for (const auto& base : bases) {
            out.push_back(base + path + query);
            if (request.path == "/") out.push_back(base + path + "/" + query);  // configured with a slash
        }
        return out;
    }

    static Result<json::array> read_media(const Form& f) {
        json::array media;
        const auto count_text = form_value(f, "NumMedia");
        if (count_text.empty()) return media;
        int count = 0;
        for (const char c : count_text) {
            if (c < '0' || c > '9' || count > kMaxMedia)
                return Error{sdk::errc::bad_request, "twilio form: NumMedia: expected 0 to 10"};
            count = count * 10 + (c - '0');
        }
        if (count > kMaxMedia)
            return Error{sdk::errc::bad_request, "twilio form: NumMedia: expected 0 to 10"};
        for (int i = 0; i < count; ++i) {
            const std::string n = std::to_string(i);
            const auto url = form_value(f, "MediaUrl" + n);
            if (url.empty())
                return Error{sdk::errc::missing_field, "twilio form: MediaUrl" + n + ": required"};
            media.push_back(
                json::object{{"url", url}, {"content_type", form_value(f, "MediaContentType" + n)}});
        }
        return media;
    }

    /// The tenant's quick-reply template for a reply with this many options (`templates.options_N`).
    const Template* options_template(const Outgoing& out) const {
        if (out.options.empty()) return nullptr;
        auto it = templates_.find("options_" + std::to_string(out.options.size()));
        return it == templates_.end() ? nullptr : &it->second;
    }

    static void add_content(Form& form, const Template& t, const json::object& variables) {
        json::object merged;
        for (const auto& [k, v] : t.variables) merged[k] = variable_text(v);
        for (const auto& [k, v] : variables) merged[k] = variable_text(v);
        form.emplace_back("ContentSid", t.content_sid);
        if (!merged.empty()) form.emplace_back("ContentVariables", json::serialize(merged));
    }

    sdk::Status add_template(Form& form, const std::string& name, const json::object& variables) const {
        auto it = templates_.find(name);
        if (it == templates_.end())
            return Error{
                sdk::errc::invalid_value,
                "template \"" + name + "\" is not in channels.twilio.templates (name its content_sid there)"};
        add_content(form, it->second, variables);
        return {};
    }

    sdk::SendResult post(Form& form, const std::string& tenant_id) {
        if (!public_url_.empty())
            form.emplace_back("StatusCallback",
                              public_url_ + "/v1/tenants/" + tenant_id + "/channels/twilio/status");
        sdk::OutboundRequest request;
        request.method = "POST";
        request.url = api_base_url_ + "/2010-04-01/Accounts/" + account_sid_ + "/Messages.json";
        request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "application/json"},
                           {"Authorization", "Basic " + base64(account_sid_ + ":" + auth_token_)}};
        request.body = encode_form(form);
        request.timeout_ms = kSendTimeoutMs;
        auto response = host_.http().send(request);
        std::string sid;
        if (response && response->status / 100 == 2) {
            boost::system::error_code ec;
            auto parsed = json::parse(response->body, ec);
            if (!ec && parsed.is_object()) {
                if (const auto* v = parsed.get_object().if_contains("sid"); v && v->is_string())
                    sid = std::string(v->get_string());
            }
        }
        auto result = sdk::send_result(response, sid);
        if (response && response->status / 100 != 2) {
            int code = 0;
            if (auto words = twilio_error(response->body, &code); !words.empty()) {
                result.error = words + " (HTTP " + std::to_string(response->status) + ")";
                if (code == kWindowClosedError) result.outcome = sdk::SendResult::Outcome::window_closed;
            }
        }
        return result;
    }

    sdk::HostServices& host_;
    std::map<std::string, Template> templates_;
    std::string account_sid_;
    std::string auth_token_;
    std::string from_;
    std::string public_url_;
    std::string api_base_url_;
    std::string reopen_template_;
};

Result<sdk::PluginPtr> make_twilio(const json::object& config, sdk::HostServices& host) {
    sdk::ConfigView view(config);
    for (const char* key : {"account_sid", "auth_token", "from"}) {
        if (sdk::text::trim(view.string(key)).empty())
            return Error{sdk::errc::invalid_config, std::string(key) + ": must not be empty"};
    }
    std::map<std::string, Template> templates;
    if (const auto* block = view.object("templates")) {
        for (const auto& [name, value] : *block) {
            const std::string field = "templates." + std::string(name);
            if (!value.is_object()) return Error{sdk::errc::invalid_config, field + ": expected an object"};
            const auto& t = value.get_object();
            const auto* sid = t.if_contains("content_sid");
            if (sid == nullptr || !sid->is_string() || sid->get_string().empty())
                return Error{sdk::errc::invalid_config, field + ".content_sid: required (the HX... id)"};
            Template entry{std::string(sid->get_string()), {}};
            if (const auto* vars = t.if_contains("variables")) {
                if (!vars->is_object())
                    return Error{sdk::errc::invalid_config, field + ".variables: expected an object"};
                entry.variables = vars->get_object();
            }
            for (const auto& [key, _] : t) {
                if (key != "content_sid" && key != "variables")
                    return Error{
                        sdk::errc::invalid_config,
                        field + "." + std::string(key) + ": unknown key (expected content_sid, variables)"};
            }
            templates.emplace(std::string(name), std::move(entry));
        }
    }
    if (auto reopen = view.string("reopen_template"); !reopen.empty() && !templates.contains(reopen))
        return Error{sdk::errc::invalid_config, "reopen_template: \"" + reopen + "\" is not in templates"};
    return sdk::PluginPtr(std::make_unique<TwilioChannel>(config, std::move(templates), host));
}

const sdk::ConfigKey kConfig[] = {
    {.name = "account_sid",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "The Twilio account SID (AC...)"},
    {.name = "auth_token",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "The account's auth token: checks X-Twilio-Signature and authenticates sends. Use "
                    "\"${TEZGAH_<TENANT>__TWILIO_AUTH_TOKEN}\"",
     .secret = true},
    {.name = "from",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "The sender replies come from: \"whatsapp:+90...\" (the number Twilio gave)"},
    {.name = "public_url",
     .type = sdk::ConfigType::url,
     .description = "The engine's address as Twilio calls it, e.g. https://bot.example.com, when behind a "
                    "proxy: signatures are checked over it, and sends ask for status callbacks to it"},
    {.name = "api_base_url",
     .type = sdk::ConfigType::url,
     .default_json = R"("https://api.twilio.com")",
     .description = "Where the Messages API is"},
    {.name = "reply_within_ms",
     .type = sdk::ConfigType::integer,
     .default_json = "3000",
     .description = "A turn done within this is answered as TwiML; a slower one's reply goes through the "
                    "Messages API",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(14000)},
    {.name = "burst_window_ms",
     .type = sdk::ConfigType::integer,
     .default_json = "1500",
     .description =
         "Messages of one customer this close together make one turn and one reply; 0 turns it off",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(10000)},
    {.name = "templates",
     .type = sdk::ConfigType::object,
     .default_json = "{}",
     .description = "Content templates by name: {\"content_sid\": \"HX...\", \"variables\": {...}}; "
                    "\"options_N\" sends a reply with N options as that quick-reply template"},
    {.name = "reopen_template",
     .type = sdk::ConfigType::string,
     .description = "The template (a name in templates) sent instead of a reply outside the customer's "
                    "24-hour window"},
};

}  // namespace
}  // namespace tezgah::plugins::twilio

TEZGAH_CHANNEL_PLUGIN("twilio", "1.0.0", "WhatsApp through Twilio: signed webhooks, TwiML, the Messages API",
                      tezgah::plugins::twilio::kConfig, &tezgah::plugins::twilio::make_twilio,
                      tezgah::sdk::kChannelSends | tezgah::sdk::kChannelCustomerWindow);
