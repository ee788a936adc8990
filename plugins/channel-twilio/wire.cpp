#include "wire.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/markup.hpp>
#include <tezgah/sdk/text.hpp>
#include <tezgah/sdk/types.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace tezgah::plugins::twilio {
namespace {

namespace json = boost::json;

/// Twilio refuses longer bodies (error 21617).
constexpr std::size_t kMaxBodyCharacters = 1600;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

sdk::Result<std::string> decode_component(std::string_view in, std::string_view what) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            const int hi = i + 1 < in.size() ? hex_digit(in[i + 1]) : -1;
            const int lo = i + 2 < in.size() ? hex_digit(in[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return sdk::Error{sdk::errc::bad_request,
                                  "twilio form: " + std::string(what) + ": a broken %-escape"};
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    if (!sdk::text::valid_utf8(out))
        return sdk::Error{sdk::errc::bad_request, "twilio form: " + std::string(what) + ": not valid UTF-8"};
    if (out.find('\0') != std::string::npos)
        return sdk::Error{sdk::errc::bad_request, "twilio form: " + std::string(what) + ": contains a NUL"};
    return out;
}

bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

std::string percent_encode(std::string_view in) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(in.size() * 3);
    for (const char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        if (unreserved(c)) {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

/// Cuts `text` to `max` characters (not bytes), ending with "…" when it was longer.
std::string cut(std::string text, std::size_t max) {
    if (sdk::text::length(text) <= max) return text;
    std::size_t chars = 0;
    std::size_t i = 0;
    while (i < text.size() && chars < max - 1) {
        ++i;
        while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
        ++chars;
    }
    text.resize(i);
    return text + "…";
}

std::string price_text(double price, const std::string& currency) {
    std::array<char, 48> buffer{};
    if (price == std::floor(price))
        std::snprintf(buffer.data(), buffer.size(), "%.0f", price);
    else
        std::snprintf(buffer.data(), buffer.size(), "%.2f", price);
    std::string out(buffer.data());
    if (!currency.empty()) out += " " + currency;
    return out;
}

}  // namespace

sdk::Result<Form> parse_form(std::string_view body) {
    Form out;
    std::size_t start = 0;
    while (start <= body.size()) {
        auto end = body.find('&', start);
        if (end == std::string_view::npos) end = body.size();
        std::string_view pair = body.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) {
            if (end == body.size()) break;
            continue;
        }
        const auto eq = pair.find('=');
        auto name = decode_component(pair.substr(0, eq), "a field name");
        if (!name) return name.error();
        if (name->empty()) return sdk::Error{sdk::errc::bad_request, "twilio form: a field without a name"};
        std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        auto value = decode_component(raw_value, *name);
        if (!value) return value.error();
        out.emplace_back(std::move(name).value(), std::move(value).value());
        if (end == body.size()) break;
    }
    return out;
}

std::string encode_form(const Form& form) {
    std::string out;
    for (const auto& [name, value] : form) {
        if (!out.empty()) out += '&';
        out += percent_encode(name);
        out += '=';
        out += percent_encode(value);
    }
    return out;
}

std::string_view form_value(const Form& form, std::string_view name) {
    for (const auto& [n, v] : form)
        if (n == name) return v;
    return {};
}

std::string base64(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3), '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(std::max(n, 0)));
    return out;
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(digest.size() * 2);
    for (const unsigned char c : digest) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

std::string signature(std::string_view auth_token, std::string_view url, const Form& params) {
    std::vector<std::pair<std::string_view, std::string_view>> sorted(params.begin(), params.end());
    std::sort(sorted.begin(), sorted.end());
    std::string data(url);
    for (const auto& [name, value] : sorted) {
        data += name;
        data += value;
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &length);
    return base64(std::string_view(reinterpret_cast<const char*>(mac.data()), length));
}

std::vector<std::string> url_variants(std::string_view url) {
    std::vector<std::string> out{std::string(url)};
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return out;
    const std::string_view scheme = url.substr(0, scheme_end);
    const std::size_t host_start = scheme_end + 3;
    const std::size_t host_end = std::min(url.find_first_of("/?#", host_start), url.size());
    std::string_view authority = url.substr(host_start, host_end - host_start);
    const std::string_view rest = url.substr(host_end);
    // The port follows the last ':' outside an IPv6 literal's brackets.
    const auto colon = authority.rfind(':');
    const bool has_port =
        colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos;
    const std::string prefix = std::string(url.substr(0, host_start));
    if (has_port) {
        out.push_back(prefix + std::string(authority.substr(0, colon)) + std::string(rest));
    } else {
        const char* port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nullptr;
        if (port != nullptr) out.push_back(prefix + std::string(authority) + port + std::string(rest));
    }
    return out;
}

bool valid_signature(std::string_view auth_token, std::string_view given, std::string_view url,
                     const Form& params, std::string_view body) {
    if (given.empty()) return false;
    // A JSON body: the URL carries its hash and the parameters are empty.
    std::string body_hash;
    if (const auto q = url.find('?'); q != std::string_view::npos) {
        if (auto query = parse_form(url.substr(q + 1)))
            body_hash = std::string(form_value(*query, "bodySHA256"));
    }
    bool ok = false;
    for (const auto& candidate : url_variants(url)) {
        const std::string expected = body_hash.empty() ? signature(auth_token, candidate, params)
                                                       : signature(auth_token, candidate, Form{});
        ok |= equal_constant_time(expected, given);
    }
    if (ok && !body_hash.empty()) ok = equal_constant_time(sha256_hex(body), body_hash);
    return ok;
}

std::string message_body(const Outgoing& out) {
    std::string body = out.text;
    if (!out.cards.empty()) {
        std::string lines;
        for (const auto& card : out.cards) {
            lines += "\n• " + card.title;
            if (!card.subtitle.empty()) lines += " — " + card.subtitle;
            if (card.price) lines += " (" + price_text(*card.price, card.currency) + ")";
        }
        body += (body.empty() ? lines.substr(1) : "\n" + lines);
    }
    if (!out.options.empty()) {
        std::string lines;
        int n = 0;
        for (const auto& option : out.options) {
            lines += "\n" + std::to_string(++n) + ". " + option.title;
            if (!option.description.empty()) lines += " — " + option.description;
        }
        body += (body.empty() ? lines.substr(1) : "\n" + lines);
    }
    return cut(std::move(body), kMaxBodyCharacters);
}

std::string media_url(const Outgoing& out) {
    for (const auto& card : out.cards)
        if (!card.image_url.empty()) return card.image_url;
    return {};
}

std::string twiml(const Outgoing& out) {
    static constexpr std::string_view kHeader = R"(<?xml version="1.0" encoding="UTF-8"?>)";
    const std::string body = message_body(out);
    const std::string media = media_url(out);
    if (sdk::text::trim(body).empty() && media.empty()) return std::string(kHeader) + "<Response/>";
    std::string xml(kHeader);
    xml += "<Response><Message>";
    if (media.empty()) {
        xml += sdk::text::escape_markup(body);
    } else {
        xml += "<Body>" + sdk::text::escape_markup(body) + "</Body><Media>" +
               sdk::text::escape_markup(media) + "</Media>";
    }
    xml += "</Message></Response>";
    return xml;
}

std::string twilio_error(std::string_view body, int* code) {
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_object()) return {};
    const auto& o = parsed.get_object();
    const auto* c = o.if_contains("code");
    const auto* m = o.if_contains("message");
    if (c == nullptr || !c->is_number() || m == nullptr || !m->is_string()) return {};
    const auto number = c->to_number<std::int64_t>();
    if (code != nullptr) *code = static_cast<int>(number);
    return "Twilio error " + std::to_string(number) + ": " + std::string(m->get_string());
}

std::optional<sdk::DeliveryState> delivery_state(std::string_view status) {
    if (status == "sent") return sdk::DeliveryState::sent;
    if (status == "delivered") return sdk::DeliveryState::delivered;
    if (status == "read") return sdk::DeliveryState::read;
    if (status == "failed" || status == "undelivered" || status == "canceled")
        return sdk::DeliveryState::failed;
    return std::nullopt;
}

}  // namespace tezgah::plugins::twilio
