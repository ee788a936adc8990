// Reading the parts of an operator request (http/request_parts.hpp).
#include "http/request_parts.hpp"

#include "util/digest.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

namespace tezgah::engine::http {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+' && plus_is_space) {
            out += ' ';
        } else if (text[i] == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

sdk::Result<std::map<std::string, std::string>> query_params(std::string_view query) {
    std::map<std::string, std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq), true);
        auto value =
            percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!key || !value || !sdk::text::valid_utf8(*value) || value->find('\0') != std::string::npos)
            return sdk::Error{sdk::errc::bad_request, "query: parameter " + std::string(pair.substr(0, eq)) +
                                                          " is not valid percent-encoded UTF-8"};
        out[*key] = std::move(*value);
    }
    return out;
}

std::optional<std::map<std::string, std::string>> query_params_or_answer(Exchange& ex) {
    auto params = query_params(ex.request.query);
    if (!params) {
        ex.send_error(400, "bad_request", params.error().message);
        return std::nullopt;
    }
    return std::move(params).value();
}

bool allow_methods(Exchange& ex, std::initializer_list<std::string_view> methods) {
    std::string allow;
    for (auto method : methods) {
        if (ex.request.method == method) return true;
        allow += (allow.empty() ? "" : ", ") + std::string(method);
    }
    ex.set_header("Allow", allow);
    ex.send_error(405, "method_not_allowed", ex.request.method + " " + ex.path + ": allowed: " + allow);
    return false;
}

std::optional<json::object> json_object_body(Exchange& ex, bool empty_ok) {
    if (empty_ok && ex.request.body.empty()) return json::object{};
    const auto content_type = ex.request.header("content-type");
    if (!sdk::is_json_content_type(content_type)) {
        ex.send_error(415, "unsupported_media_type",
                      "Content-Type: expected application/json, got '" + std::string(content_type) + "'");
        return std::nullopt;
    }
    boost::system::error_code ec;
    json::value body = json::parse(ex.request.body, ec);
    if (ec) {
        ex.send_error(400, "invalid_json", "body: not valid JSON (" + ec.message() + ")");
        return std::nullopt;
    }
    if (!body.is_object()) {
        ex.send_error(400, "invalid_json", "body: expected a JSON object");
        return std::nullopt;
    }
    return std::move(body.get_object());
}

std::string strong_etag(std::string_view body) { return "\"" + sha256_hex(body).substr(0, 32) + "\""; }

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    while (!if_none_match.empty()) {
        const auto comma = if_none_match.find(',');
        auto tag = if_none_match.substr(0, comma);
        while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
        while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == etag || tag == "*") return true;
        if (comma == std::string_view::npos) break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace tezgah::engine::http
