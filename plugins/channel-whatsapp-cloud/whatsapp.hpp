#pragma once
// The WhatsApp Cloud API channel's parts: the webhook (signature, verification, messages and
// statuses) and the Graph API's message formats with Meta's limits.
// Wire formats: ../shared/reference/wire-formats.md, "WhatsApp Cloud API".

#include <tezgah/sdk/sdk.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::plugins::whatsapp {

namespace json = boost::json;

/// `sha256=<hex>` of HMAC-SHA256(secret, body), as Meta signs a webhook (X-Hub-Signature-256).
std::string hub_signature(std::string_view secret, std::string_view body);
/// Whether `header` is the signature of `body` with `secret`, compared in constant time.
bool signature_matches(std::string_view header, std::string_view secret, std::string_view body);

/// The value of `name` in a URL query (percent-decoded, '+' as a space), or none.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

/// One message of a webhook, as Meta sent it, read into what a turn needs.
struct WebhookMessage {
    std::string wamid;
    std::string from;  ///< the customer's wa_id
    std::string profile_name;
    std::string type;       ///< text, interactive, button, image, ...
    std::string text;       ///< the text, the chosen option's title, the button's text, or a caption
    std::string choice_id;  ///< interactive: the reply's id; button: its payload
    std::string media_id;   ///< image (audio, video, document, sticker): Meta's media id
    std::string mime_type;
};

/// A status update of a message the business sent.
struct WebhookStatus {
    std::string wamid;
    std::string status;  ///< sent, delivered, read, failed (others are ignored)
    std::string error;   ///< failed: "131026: Message undeliverable (details)"
};

/// What one webhook POST carried for this phone number.
struct Webhook {
    std::vector<WebhookMessage> messages;
    std::vector<WebhookStatus> statuses;
};

/// Reads a webhook body (already verified) for `phone_number_id`: the changes of other numbers
/// are skipped. Errors name the field (400 invalid_json / missing_field / invalid_field).
sdk::Result<Webhook> read_webhook(std::string_view body, std::string_view phone_number_id);

/// A template as the tenant maps it to Meta's: `templates` {name: {"name", "language", "variables"}}.
struct TemplateMapping {
    std::string meta_name;               ///< the approved template's name at Meta
    std::string language;                ///< its language code ("tr", "en_US")
    std::vector<std::string> variables;  ///< the message's variables, in the order of {{1}}, {{2}}...
};

/// What the channel sends, and how (see docs/channels.md, "WhatsApp Cloud API").
struct RenderSettings {
    std::string language = "tr";  ///< the tenant's: labels ("Seçenekler") and template default
    std::map<std::string, TemplateMapping> templates;
};

/// Meta's limits (characters), from the wire-format reference.
struct Limits {
    static constexpr std::size_t text_body = 4096;
    static constexpr std::size_t button_body = 1024;
    static constexpr std::size_t buttons = 3;
    static constexpr std::size_t button_title = 20;
    static constexpr std::size_t button_id = 256;
    static constexpr std::size_t list_body = 4096;
    static constexpr std::size_t list_rows = 10;
    static constexpr std::size_t list_button = 20;
    static constexpr std::size_t row_title = 24;
    static constexpr std::size_t row_description = 72;
    static constexpr std::size_t row_id = 200;
    static constexpr std::size_t header_footer = 60;
    static constexpr std::size_t caption = 1024;
    static constexpr std::size_t template_parameter = 1024;
};

/// `text` cut to at most `max` characters, ending with "…" when it was cut (never inside a
/// UTF-8 sequence).
std::string shorten(std::string_view text, std::size_t max);

/// The Graph API body for `message` to its recipient, within every limit of Meta's.
json::object graph_message(const sdk::OutboundMessage& message, const RenderSettings& settings);

/// Reads the Graph API's answer to a send: 2xx accepted with the wamid; error code 131047 (the
/// customer's window) window_closed; 429, 5xx, Meta's throttling codes and transport errors retry
/// later (Retry-After honoured); any other refusal failed with Meta's message.
sdk::SendResult send_outcome(const sdk::Result<sdk::HttpResponse>& response);

}  // namespace tezgah::plugins::whatsapp
