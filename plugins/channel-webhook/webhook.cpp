// The `webhook` channel plugin: the earlier orchestrator's `POST /webhook`, one process-wide route
// whose body names the tenant (`isletme_id`), answered in the orchestrator's reply shape.
#include <tezgah/sdk/sdk.hpp>

#include <cctype>
#include <cmath>
#include <string>
#include <vector>

namespace tezgah::plugins::webhook {
namespace {

namespace json = boost::json;
using sdk::Error;
using sdk::Result;

constexpr std::size_t kMaxTextCharacters = 4000;
constexpr std::string_view kSecretHeader = "x-webhook-secret";

/// Compares without stopping at the first difference, so timing tells nothing about the secret.
bool equal_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    }
    return diff == 0;
}

Error missing(std::string_view field) {
    return Error{"missing_field", "webhook body: " + std::string(field) + ": required"};
}
Error invalid(std::string_view field, std::string_view why) {
    return Error{"invalid_value", "webhook body: " + std::string(field) + ": " + std::string(why)};
}

/// A required or optional string field; numbers become their decimal text when `numbers_ok`.
Result<std::string> string_field(const json::object& body, std::string_view field, bool required,
                                 bool numbers_ok) {
    const auto* value = body.if_contains(field);
    if (value == nullptr || value->is_null()) {
        if (required) return missing(field);
        return std::string();
    }
    if (numbers_ok && (value->is_int64() || value->is_uint64())) {
        return value->is_int64() ? std::to_string(value->get_int64()) : std::to_string(value->get_uint64());
    }
    if (numbers_ok && value->is_double()) {
        const double number = value->get_double();
        if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 9e15) {
            return std::to_string(static_cast<long long>(number));
        }
        return invalid(field, "expected a string or an integer");
    }
    if (!value->is_string())
        return invalid(field, numbers_ok ? "expected a string or an integer" : "expected a string");
    const std::string_view text = value->get_string();
    if (!sdk::text::valid_utf8(text)) return invalid(field, "invalid UTF-8");
    const std::string_view trimmed = sdk::text::trim(text);
    if (trimmed.empty() && required)
        return Error{"missing_field", "webhook body: " + std::string(field) + ": empty"};
    return std::string(trimmed);
}

bool valid_tenant_id(std::string_view id) {
    if (id.size() < 2 || id.size() > 63) return false;
    for (const char c : id) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    return true;
}

class WebhookChannel final : public sdk::Channel {
public:
    explicit WebhookChannel(std::string secret) : secret_(std::move(secret)) {}

    std::vector<sdk::Route> routes() const override {
        return {sdk::Route{"POST", "/webhook", sdk::RouteScope::process}};
    }

    Result<sdk::InboundMessage> parse(const sdk::HttpRequest& request) override {
        if (!secret_.empty() && !equal_secret(request.header(kSecretHeader), secret_)) {
            return Error{"unauthorized", "webhook: header x-webhook-secret: missing or wrong"};
        }
        if (!sdk::is_json_content_type(request.header("content-type"))) {
            return Error{"unsupported_media_type", "webhook: Content-Type: expected application/json, got '" +
                                                       std::string(request.header("content-type")) + "'"};
        }
        json::parse_options options;
        options.allow_invalid_utf8 = true;  // reported per field below, naming the field
        boost::system::error_code ec;
        json::value parsed = json::parse(request.body, ec, {}, options);
        if (ec) return Error{"invalid_json", "webhook body: " + ec.message()};
        if (!parsed.is_object()) return Error{"invalid_json", "webhook body: expected a JSON object"};
        const auto& body = parsed.get_object();

        auto text = string_field(body, "mesaj_metni", true, false);
        if (!text) return text.error();
        if (sdk::text::length(*text) > kMaxTextCharacters) {
            return invalid("mesaj_metni",
                           "longer than " + std::to_string(kMaxTextCharacters) + " characters");
        }
        auto user = string_field(body, "kullanici_id", true, true);
        if (!user) return user.error();
        auto tenant = string_field(body, "isletme_id", true, false);
        if (!tenant) return tenant.error();
        if (!valid_tenant_id(*tenant)) return invalid("isletme_id", "expected a tenant id ([a-z0-9-]{2,63})");
        auto platform = string_field(body, "platform", false, false);
        if (!platform) return platform.error();
        auto session = string_field(body, "session_id", false, false);
        if (!session) return session.error();
        auto message_id = string_field(body, "mesaj_id", false, true);
        if (!message_id) return message_id.error();

        sdk::InboundMessage message;
        message.tenant_id = std::move(*tenant);
        message.user_id = std::move(*user);
        message.text = std::move(*text);
        message.channel = "webhook";
        message.session_id = std::move(*session);
        message.message_id = std::move(*message_id);
        message.platform = platform->empty() ? "webhook" : std::move(*platform);
        return message;
    }

    sdk::HttpResponse render(const sdk::InboundMessage& /*message*/, const sdk::TurnReply& reply) override {
        const json::object body{
            {"success", true},
            {"message", reply.reply},
            {"session_id", reply.session_id},
            {"response_time_ms", static_cast<std::int64_t>(std::llround(reply.execution_time_ms))},
            {"handoff", reply.handoff}};
        sdk::HttpResponse response;
        response.status = 200;
        response.content_type = "application/json";
        response.body = sdk::json_text(body);
        return response;
    }

private:
    std::string secret_;
};

const sdk::ConfigKey kConfig[] = {
    {.name = "secret",
     .type = sdk::ConfigType::string,
     .description = "When set, requests must carry the header x-webhook-secret with this value (else 401). "
                    "Use \"${TEZGAH_<TENANT>__WEBHOOK_SECRET}\" to read it from the environment.",
     .secret = true},
};

Result<sdk::PluginPtr> make_webhook(const json::object& config, sdk::HostServices& /*host*/) {
    return sdk::PluginPtr(std::make_unique<WebhookChannel>(sdk::ConfigView(config).string("secret")));
}

}  // namespace
}  // namespace tezgah::plugins::webhook

TEZGAH_PLUGIN("webhook", channel, "1.0.0", "The earlier orchestrator's POST /webhook",
              tezgah::plugins::webhook::kConfig, &tezgah::plugins::webhook::make_webhook);
