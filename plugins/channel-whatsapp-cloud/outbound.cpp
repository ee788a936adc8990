// The sending side of the WhatsApp Cloud API: an outbound message as the Graph API's JSON, within
// every limit of Meta's (shortened with "…" or degraded to a simpler form, never refused), and the
// reading of the Graph API's answers.
#include "whatsapp.hpp"

#include <tezgah/sdk/llm.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace tezgah::plugins::whatsapp {
namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // "…", one character

/// Byte length of the first `count` characters of valid UTF-8 `text`.
std::size_t prefix_bytes(std::string_view text, std::size_t count) {
    std::size_t i = 0;
    while (i < text.size() && count > 0) {
        ++i;
        while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
        --count;
    }
    return i;
}

bool english(const RenderSettings& settings) { return settings.language == "en"; }

std::string price_text(double price, const std::string& currency) {
    char buffer[64];
    if (price == std::floor(price) && std::fabs(price) < 1e15)
        std::snprintf(buffer, sizeof buffer, "%.0f", price);
    else
        std::snprintf(buffer, sizeof buffer, "%.2f", price);
    return std::string(buffer) + (currency.empty() ? "" : " " + currency);
}

/// A card as one line of text: "Title — subtitle — 120 TRY".
std::string card_line(const sdk::ReplyCard& card) {
    std::string line = card.title;
    if (!card.subtitle.empty()) line += " \xE2\x80\x94 " + card.subtitle;
    if (card.price) line += " \xE2\x80\x94 " + price_text(*card.price, card.currency);
    return line;
}

/// The message's text with its cards below it (as lines), when they are not shown otherwise.
std::string text_with_cards(const sdk::OutboundMessage& message) {
    std::string out = message.text;
    for (const auto& card : message.cards)
        out += (out.empty() ? "" : "\n") + std::string("\xE2\x80\xA2 ") + card_line(card);
    return out;
}

/// A template parameter as Meta takes it: no new lines or tabs, no more than four spaces in a
/// row, not empty, at most 1024 characters.
std::string template_parameter(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    int spaces = 0;
    for (const char c : value) {
        const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
        if (space) {
            if (++spaces > 1 || out.empty()) continue;
            out += ' ';
        } else {
            spaces = 0;
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.empty()) out = "-";
    return shorten(out, Limits::template_parameter);
}

std::string value_text(const json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_null()) return {};
    return json::serialize(v);
}

json::object template_body(const sdk::MessageTemplate& tmpl, const RenderSettings& settings) {
    TemplateMapping mapping;
    if (auto it = settings.templates.find(tmpl.name); it != settings.templates.end()) {
        mapping = it->second;
    } else {
        // Not mapped: Meta's name is the tenant's, and the variables named 1, 2, ... go in order.
        mapping.meta_name = tmpl.name;
        std::vector<std::pair<long, std::string>> numbered;
        for (const auto& [key, _] : tmpl.variables) {
            const std::string name(key);
            if (!name.empty() && name.size() < 4 && std::all_of(name.begin(), name.end(), ::isdigit))
                numbered.emplace_back(std::stol(name), name);
        }
        std::sort(numbered.begin(), numbered.end());
        for (auto& [_, name] : numbered) mapping.variables.push_back(std::move(name));
    }
    if (mapping.meta_name.empty()) mapping.meta_name = tmpl.name;
    if (mapping.language.empty()) mapping.language = settings.language;
    json::object out{{"name", mapping.meta_name}, {"language", json::object{{"code", mapping.language}}}};
    json::array parameters;
    for (const auto& variable : mapping.variables) {
        const auto* v = tmpl.variables.if_contains(variable);
        parameters.push_back(
            json::object{{"type", "text"}, {"text", template_parameter(v ? value_text(*v) : std::string())}});
    }
    if (!parameters.empty())
        out["components"] =
            json::array{json::object{{"type", "body"}, {"parameters", std::move(parameters)}}};
    return out;
}

/// Ids for the options: their own when present, unique and short enough, else "option-N".
std::vector<std::string> option_ids(const std::vector<sdk::ReplyOption>& options, std::size_t max_bytes) {
    std::vector<std::string> ids;
    ids.reserve(options.size());
    std::set<std::string> seen;
    for (std::size_t i = 0; i < options.size(); ++i) {
        std::string id = options[i].id.empty() ? options[i].title : options[i].id;
        if (id.empty() || id.size() > max_bytes || seen.count(id)) id = "option-" + std::to_string(i + 1);
        seen.insert(id);
        ids.push_back(std::move(id));
    }
    return ids;
}

std::optional<json::object> reply_buttons(const sdk::OutboundMessage& message, const std::string& body) {
    if (message.options.size() > Limits::buttons || sdk::text::length(body) > Limits::button_body)
        return std::nullopt;
    const auto ids = option_ids(message.options, Limits::button_id);
    json::array buttons;
    std::set<std::string> titles;
    for (std::size_t i = 0; i < message.options.size(); ++i) {
        std::string title = shorten(message.options[i].title, Limits::button_title);
        if (title.empty() || !titles.insert(title).second) return std::nullopt;  // Meta wants them distinct
        buttons.push_back(
            json::object{{"type", "reply"}, {"reply", json::object{{"id", ids[i]}, {"title", title}}}});
    }
    return json::object{{"type", "button"},
                        {"body", json::object{{"text", body}}},
                        {"action", json::object{{"buttons", std::move(buttons)}}}};
}

json::object list_message(const sdk::OutboundMessage& message, const std::string& body,
                          const RenderSettings& settings) {
    const auto ids = option_ids(message.options, Limits::row_id);
    json::array rows;
    for (std::size_t i = 0; i < message.options.size() && i < Limits::list_rows; ++i) {
        json::object row{{"id", ids[i]}, {"title", shorten(message.options[i].title, Limits::row_title)}};
        if (!message.options[i].description.empty())
            row["description"] = shorten(message.options[i].description, Limits::row_description);
        rows.push_back(std::move(row));
    }
    const std::string label = english(settings) ? "Options"
                                                : "Se\xC3\xA7"
                                                  "enekler";
    return json::object{
        {"type", "list"},
        {"body", json::object{{"text", shorten(body, Limits::list_body)}}},
        {"action", json::object{{"button", shorten(label, Limits::list_button)},
                                {"sections", json::array{json::object{{"rows", std::move(rows)}}}}}}};
}

/// More options than a list holds: numbered lines under the text, every option kept (the
/// customer answers with a number or a title).
std::string numbered_text(const std::string& body, const std::vector<sdk::ReplyOption>& options) {
    std::string lines;
    for (std::size_t i = 0; i < options.size(); ++i) {
        lines += "\n" + std::to_string(i + 1) + ". " + options[i].title;
        if (!options[i].description.empty()) lines += " \xE2\x80\x94 " + options[i].description;
    }
    const std::size_t lines_length = sdk::text::length(lines);
    if (lines_length + 2 >= Limits::text_body) return shorten(body + "\n" + lines, Limits::text_body);
    return shorten(body, Limits::text_body - lines_length - 1) + "\n" + lines;
}

json::object error_json(const std::string& body) {
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_object()) return {};
    const auto* error = parsed.get_object().if_contains("error");
    return error != nullptr && error->is_object() ? error->get_object() : json::object{};
}

}  // namespace

std::string shorten(std::string_view text, std::size_t max) {
    if (sdk::text::length(text) <= max) return std::string(text);
    if (max == 0) return {};
    std::string out(text.substr(0, prefix_bytes(text, max - 1)));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += kEllipsis;
    return out;
}

json::object graph_message(const sdk::OutboundMessage& message, const RenderSettings& settings) {
    json::object out{
        {"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", message.recipient}};
    if (message.template_message) {
        out["type"] = "template";
        out["template"] = template_body(*message.template_message, settings);
        return out;
    }
    std::string body = text_with_cards(message);
    if (message.options.empty()) {
        // One card with a picture: the picture, with the text as its caption when it fits.
        if (message.cards.size() == 1 && !message.cards[0].image_url.empty() && !body.empty() &&
            sdk::text::length(body) <= Limits::caption) {
            out["type"] = "image";
            out["image"] = json::object{{"link", message.cards[0].image_url}, {"caption", body}};
            return out;
        }
        out["type"] = "text";
        out["text"] =
            json::object{{"body", body.empty() ? std::string(kEllipsis) : shorten(body, Limits::text_body)},
                         {"preview_url", false}};
        return out;
    }
    if (body.empty())
        body = english(settings) ? "Please choose:"
                                 : "L\xC3\xBC"
                                   "tfen se\xC3\xA7"
                                   "in:";
    if (message.options.size() > Limits::list_rows) {
        out["type"] = "text";
        out["text"] = json::object{{"body", numbered_text(body, message.options)}, {"preview_url", false}};
        return out;
    }
    out["type"] = "interactive";
    if (auto buttons = reply_buttons(message, body))
        out["interactive"] = std::move(*buttons);
    else
        out["interactive"] = list_message(message, body, settings);
    return out;
}

sdk::SendResult send_outcome(const sdk::Result<sdk::HttpResponse>& response) {
    sdk::SendResult out = sdk::send_result(response);
    if (!response) return out;
    const int status = response->status;
    if (status >= 200 && status < 300) {
        boost::system::error_code ec;
        auto parsed = json::parse(response->body, ec);
        if (!ec && parsed.is_object()) {
            if (const auto* messages = parsed.get_object().if_contains("messages");
                messages != nullptr && messages->is_array() && !messages->get_array().empty() &&
                messages->get_array()[0].is_object()) {
                if (const auto* id = messages->get_array()[0].get_object().if_contains("id");
                    id && id->is_string())
                    out.provider_id = std::string(id->get_string());
            }
        }
        if (out.provider_id.empty()) {
            // Accepted, but no id to match its statuses with: kept as sent, and said so.
            out.error = "the Graph API accepted the message without a message id";
        }
        return out;
    }
    const auto error = error_json(response->body);
    long long code = 0;
    if (const auto* c = error.if_contains("code"); c != nullptr && c->is_number())
        code = c->to_number<long long>();
    std::string message;
    if (const auto* m = error.if_contains("message"); m != nullptr && m->is_string())
        message = m->get_string();
    if (const auto* data = error.if_contains("error_data"); data != nullptr && data->is_object()) {
        if (const auto* d = data->get_object().if_contains("details"); d != nullptr && d->is_string())
            message += (message.empty() ? "" : ": ") + std::string(d->get_string());
    }
    if (!message.empty()) out.error = "HTTP " + std::to_string(status) + ": " + shorten(message, 500);
    // Meta's throttling codes: the app's (4), the account's (80007), the number's (130429), spam
    // (131048) and a customer's pair (131056) rate limits: try again later.
    constexpr long long kThrottled[] = {4, 80007, 130429, 131048, 131056};
    if (code == 131047) {
        out.outcome = sdk::SendResult::Outcome::window_closed;
    } else if (std::find(std::begin(kThrottled), std::end(kThrottled), code) != std::end(kThrottled)) {
        out.outcome = sdk::SendResult::Outcome::retry_later;
        out.retry_after = sdk::llm::retry_after(*response);
    }
    return out;
}

}  // namespace tezgah::plugins::whatsapp
