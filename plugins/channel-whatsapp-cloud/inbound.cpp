// The webhook side of the WhatsApp Cloud API: Meta's signature, the verification query, and the
// messages and statuses of a notification.
#include "whatsapp.hpp"

#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

namespace tezgah::plugins::whatsapp {
namespace {

/// Poco's SHA-256 with the block and digest sizes its HMACEngine asks for.
class Sha256Engine : public Poco::SHA2Engine {
public:
    enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
    Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

sdk::Error body_error(std::string_view code, std::string_view field, std::string_view why) {
    return sdk::Error{std::string(code),
                      "whatsapp-cloud webhook: " + std::string(field) + ": " + std::string(why)};
}

std::string string_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object* object_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

/// An optional array field: absent or null is empty; another type is an error naming it.
sdk::Result<const json::array*> array_at(const json::object& o, std::string_view key,
                                         const std::string& field) {
    static const json::array kEmpty;
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return &kEmpty;
    if (!v->is_array()) return body_error(sdk::errc::invalid_field, field, "expected an array");
    return &v->get_array();
}

/// What a customer sends as media: the types Meta delivers with a media id.
bool is_media(std::string_view type) {
    return type == "image" || type == "audio" || type == "video" || type == "document" || type == "sticker";
}

sdk::Result<WebhookMessage> read_message(const json::object& m, const std::string& field,
                                         const std::map<std::string, std::string>& names) {
    WebhookMessage out;
    out.wamid = string_at(m, "id");
    out.from = string_at(m, "from");
    out.type = string_at(m, "type");
    if (out.wamid.empty()) return body_error(sdk::errc::missing_field, field + ".id", "required");
    if (out.from.empty()) return body_error(sdk::errc::missing_field, field + ".from", "required");
    if (out.wamid.size() > sdk::kMaxMessageIdBytes)
        return body_error(sdk::errc::invalid_value, field + ".id", "too long");
    if (out.from.size() > sdk::kMaxUserIdBytes)
        return body_error(sdk::errc::invalid_value, field + ".from", "too long");
    if (auto it = names.find(out.from); it != names.end()) out.profile_name = it->second;
    if (out.type == "text") {
        const auto* text = object_at(m, "text");
        if (text == nullptr) return body_error(sdk::errc::missing_field, field + ".text", "required");
        out.text = string_at(*text, "body");
    } else if (out.type == "interactive") {
        const auto* interactive = object_at(m, "interactive");
        if (interactive == nullptr)
            return body_error(sdk::errc::missing_field, field + ".interactive", "required");
        const auto* reply = object_at(*interactive, "button_reply");
        if (reply == nullptr) reply = object_at(*interactive, "list_reply");
        if (reply == nullptr)
            return body_error(sdk::errc::missing_field, field + ".interactive",
                              "expected button_reply or list_reply");
        out.text = string_at(*reply, "title");
        out.choice_id = string_at(*reply, "id");
    } else if (out.type == "button") {
        const auto* button = object_at(m, "button");
        if (button == nullptr) return body_error(sdk::errc::missing_field, field + ".button", "required");
        out.text = string_at(*button, "text");
        out.choice_id = string_at(*button, "payload");
    } else if (is_media(out.type)) {
        const auto* media = object_at(m, out.type);
        if (media == nullptr) return body_error(sdk::errc::missing_field, field + "." + out.type, "required");
        out.media_id = string_at(*media, "id");
        out.mime_type = string_at(*media, "mime_type");
        out.text = string_at(*media, "caption");
    }
    // Anything else (a reaction, a location, "unsupported", a system notice) is kept with its
    // type and no text: the channel does not answer it.
    return out;
}

WebhookStatus read_status(const json::object& s) {
    WebhookStatus out;
    out.wamid = string_at(s, "id");
    out.status = string_at(s, "status");
    if (const auto* errors = s.if_contains("errors"); errors != nullptr && errors->is_array()) {
        for (const auto& e : errors->get_array()) {
            if (!e.is_object()) continue;
            const auto& o = e.get_object();
            std::string line;
            if (const auto* code = o.if_contains("code"); code != nullptr && code->is_number())
                line = std::to_string(code->to_number<long long>()) + ": ";
            line += string_at(o, "title").empty() ? string_at(o, "message") : string_at(o, "title");
            if (const auto* data = object_at(o, "error_data")) {
                if (auto details = string_at(*data, "details"); !details.empty())
                    line += " (" + details + ")";
            }
            out.error += (out.error.empty() ? "" : "; ") + line;
        }
    }
    return out;
}

}  // namespace

std::string hub_signature(std::string_view secret, std::string_view body) {
    Poco::HMACEngine<Sha256Engine> hmac{std::string(secret)};
    hmac.update(body.data(), static_cast<unsigned>(body.size()));
    return "sha256=" + Poco::DigestEngine::digestToHex(hmac.digest());
}

bool signature_matches(std::string_view header, std::string_view secret, std::string_view body) {
    const std::string expected = hub_signature(secret, body);
    if (header.size() != expected.size() || !header.starts_with("sha256=")) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        // Hex digits in either case: Meta sends lower case.
        char c = header[i];
        if (i >= 7 && c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        diff |= static_cast<unsigned char>(c ^ expected[i]);
    }
    return diff == 0;
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const auto eq = pair.find('=');
        std::string decoded_name;
        std::string decoded_value;
        for (int part = 0; part < 2; ++part) {
            std::string_view raw =
                part == 0 ? pair.substr(0, eq)
                          : (eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
            std::string& out = part == 0 ? decoded_name : decoded_value;
            for (std::size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] == '+') {
                    out += ' ';
                } else if (raw[i] == '%' && i + 2 < raw.size() + 0 && hex_value(raw[i + 1]) >= 0 &&
                           hex_value(raw[i + 2]) >= 0) {
                    out += static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
                    i += 2;
                } else {
                    out += raw[i];
                }
            }
        }
        if (decoded_name == name) return decoded_value;
    }
    return std::nullopt;
}

sdk::Result<Webhook> read_webhook(std::string_view body, std::string_view phone_number_id) {
    json::parse_options options;
    options.max_depth = 64;
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec, {}, options);
    if (ec) return sdk::Error{sdk::errc::invalid_json, "whatsapp-cloud webhook: body: " + ec.message()};
    if (!parsed.is_object())
        return sdk::Error{sdk::errc::invalid_json, "whatsapp-cloud webhook: body: expected a JSON object"};
    const auto& root = parsed.get_object();
    if (const auto object = string_at(root, "object"); object != "whatsapp_business_account")
        return body_error(sdk::errc::invalid_value, "object",
                          "expected \"whatsapp_business_account\", got \"" + object.substr(0, 64) + "\"");
    Webhook out;
    auto entries = array_at(root, "entry", "entry");
    if (!entries) return entries.error();
    for (std::size_t e = 0; e < (*entries)->size(); ++e) {
        const std::string entry_field = "entry[" + std::to_string(e) + "]";
        const auto& entry = (**entries)[e];
        if (!entry.is_object())
            return body_error(sdk::errc::invalid_field, entry_field, "expected an object");
        auto changes = array_at(entry.get_object(), "changes", entry_field + ".changes");
        if (!changes) return changes.error();
        for (std::size_t c = 0; c < (*changes)->size(); ++c) {
            const std::string field = entry_field + ".changes[" + std::to_string(c) + "]";
            const auto& change = (**changes)[c];
            if (!change.is_object()) return body_error(sdk::errc::invalid_field, field, "expected an object");
            if (string_at(change.get_object(), "field") != "messages") continue;  // account updates etc.
            const auto* value = object_at(change.get_object(), "value");
            if (value == nullptr) return body_error(sdk::errc::missing_field, field + ".value", "required");
            // Another number of the same business account: not this tenant's.
            const auto* metadata = object_at(*value, "metadata");
            if (metadata == nullptr || string_at(*metadata, "phone_number_id") != phone_number_id) continue;
            std::map<std::string, std::string> names;
            auto contacts = array_at(*value, "contacts", field + ".value.contacts");
            if (!contacts) return contacts.error();
            for (const auto& contact : **contacts) {
                if (!contact.is_object()) continue;
                const auto* profile = object_at(contact.get_object(), "profile");
                if (profile != nullptr)
                    names[string_at(contact.get_object(), "wa_id")] = string_at(*profile, "name");
            }
            auto messages = array_at(*value, "messages", field + ".value.messages");
            if (!messages) return messages.error();
            for (std::size_t m = 0; m < (*messages)->size(); ++m) {
                const std::string message_field = field + ".value.messages[" + std::to_string(m) + "]";
                const auto& message = (**messages)[m];
                if (!message.is_object())
                    return body_error(sdk::errc::invalid_field, message_field, "expected an object");
                auto read = read_message(message.get_object(), message_field, names);
                if (!read) return read.error();
                out.messages.push_back(std::move(read).value());
            }
            auto statuses = array_at(*value, "statuses", field + ".value.statuses");
            if (!statuses) return statuses.error();
            for (const auto& status : **statuses) {
                if (status.is_object()) out.statuses.push_back(read_status(status.get_object()));
            }
        }
    }
    return out;
}

}  // namespace tezgah::plugins::whatsapp
