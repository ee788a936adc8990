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

// The chat API's text limit (docs/http-api.md; the id limits are the SDK's): the webhook
// validates exactly like the chat API.
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

Error field_error(std::string_view code, std::string_view field, std::string_view why) {
    return Error{std::string(code), "webhook body: " + std::string(field) + ": " + std::string(why)};
}

/// How a string field is read: as the chat API reads its own.
struct FieldRule {
    bool required = false;
    bool numbers_ok = false;    ///< an integer becomes its decimal text (ids sent as numbers)
    bool empty_ok = false;      ///< the text: empty is an invalid value (422), not a missing field
    std::size_t max_bytes = 0;  ///< 0: no limit here
};

/// A string field, trimmed: absent, null or (for ids) empty → 400 missing_field; the wrong type
/// → 400 invalid_field; invalid UTF-8, a NUL or too many bytes → 422 invalid_value.
Result<std::string> string_field(const json::object& body, std::string_view field, FieldRule rule) {
    const auto* value = body.if_contains(field);
    if (value == nullptr || value->is_null()) {
        if (rule.required) return field_error(sdk::errc::missing_field, field, "required");
        return std::string();
    }
    if (rule.numbers_ok && (value->is_int64() || value->is_uint64())) {
        return value->is_int64() ? std::to_string(value->get_int64()) : std::to_string(value->get_uint64());
    }
    if (rule.numbers_ok && value->is_double()) {
        const double number = value->get_double();
        if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 9e15) {
            return std::to_string(static_cast<long long>(number));
        }
        return field_error(sdk::errc::invalid_field, field, "expected a string or an integer");
    }
    if (!value->is_string())
        return field_error(sdk::errc::invalid_field, field,
                           rule.numbers_ok ? "expected a string or an integer" : "expected a string");
    std::string_view text = value->get_string();
    if (!sdk::text::valid_utf8(text)) return field_error(sdk::errc::invalid_value, field, "not valid UTF-8");
    if (text.find('\0') != std::string_view::npos)
        return field_error(sdk::errc::invalid_value, field, "contains a NUL character (\\u0000)");
    text = sdk::text::trim(text);
    if (text.empty() && rule.required && !rule.empty_ok)
        return field_error(sdk::errc::missing_field, field, "empty");
    if (rule.max_bytes > 0 && text.size() > rule.max_bytes)
        return field_error(sdk::errc::invalid_value, field,
                           "longer than " + std::to_string(rule.max_bytes) + " bytes");
    return std::string(text);
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
            return Error{sdk::errc::unauthorized, "webhook: header x-webhook-secret: missing or wrong"};
        }
        if (!sdk::is_json_content_type(request.header("content-type"))) {
            return Error{sdk::errc::unsupported_media_type,
                         "webhook: Content-Type: expected application/json, got '" +
                             std::string(request.header("content-type")) + "'"};
        }
        json::parse_options options;
        options.allow_invalid_utf8 = true;  // reported per field below, naming the field
        boost::system::error_code ec;
        json::value parsed = json::parse(request.body, ec, {}, options);
        if (ec) return Error{sdk::errc::invalid_json, "webhook body: " + ec.message()};
        if (!parsed.is_object())
            return Error{sdk::errc::invalid_json, "webhook body: expected a JSON object"};
        const auto& body = parsed.get_object();

        auto text = string_field(body, "mesaj_metni", {.required = true, .empty_ok = true});
        if (!text) return text.error();
        if (sdk::text::trim(*text).empty())
            return field_error(sdk::errc::invalid_value, "mesaj_metni", "must not be empty");
        if (sdk::text::length(*text) > kMaxTextCharacters) {
            return field_error(sdk::errc::invalid_value, "mesaj_metni",
                               "longer than " + std::to_string(kMaxTextCharacters) + " characters");
        }
        auto user = string_field(body, "kullanici_id",
                                 {.required = true, .numbers_ok = true, .max_bytes = sdk::kMaxUserIdBytes});
        if (!user) return user.error();
        auto tenant = string_field(body, "isletme_id", {.required = true});
        if (!tenant) return tenant.error();
        // As a tenant in the chat API's path: a name that cannot be a tenant is an unknown one.
        if (!valid_tenant_id(*tenant))
            return Error{sdk::errc::unknown_tenant, "webhook body: isletme_id: no such tenant"};
        auto platform = string_field(body, "platform", {.max_bytes = 64});
        if (!platform) return platform.error();
        auto session = string_field(body, "session_id", {.max_bytes = sdk::kMaxSessionIdBytes});
        if (!session) return session.error();
        auto message_id =
            string_field(body, "mesaj_id", {.numbers_ok = true, .max_bytes = sdk::kMaxMessageIdBytes});
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
