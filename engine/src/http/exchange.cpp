#include "http/exchange.hpp"

#include "ops/limits.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/text.hpp>

#include <cctype>
#include <cstdio>

namespace tezgah::engine::http {
namespace {

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

/// A field of the chat body that must be a string when present.
sdk::Result<std::string> optional_string(const json::object& body, std::string_view field) {
    const auto* value = body.if_contains(field);
    if (value == nullptr || value->is_null()) return std::string();
    if (!value->is_string())
        return sdk::Error{sdk::errc::invalid_field, "body: " + std::string(field) + ": expected a string"};
    return std::string(value->get_string());
}

}  // namespace

std::string new_request_id() { return sdk::random_hex(8); }

bool sane_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == ':'))
            return false;
    }
    return true;
}

std::string error_body(std::string_view code, std::string_view message, std::string_view request_id) {
    return sdk::json_text(json::object{
        {"error", json::object{{"code", code}, {"message", message}, {"request_id", request_id}}}});
}

const char* reason_phrase(int status) noexcept {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 301:
            return "Moved Permanently";
        case 304:
            return "Not Modified";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Content";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
    }
    return "Unknown";
}

std::string_view Request::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (same_name(key, name)) return value;
    return {};
}

sdk::Result<ChatBody> parse_chat_body(std::string_view body) {
    json::parse_options options;
    options.allow_invalid_utf8 = true;  // reported as invalid_value by the engine, naming the field
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec, {}, options);
    if (ec) return sdk::Error{sdk::errc::invalid_json, "body: not valid JSON: " + ec.message()};
    if (!parsed.is_object()) return sdk::Error{sdk::errc::invalid_json, "body: expected a JSON object"};
    const auto& object = parsed.get_object();

    ChatBody out;
    for (const char* required : {"text", "user_id"}) {
        const auto* value = object.if_contains(required);
        if (value == nullptr || value->is_null())
            return sdk::Error{sdk::errc::missing_field, "body: " + std::string(required) + ": required"};
    }
    auto text = optional_string(object, "text");
    if (!text) return text.error();
    out.text = std::move(*text);
    auto user_id = optional_string(object, "user_id");
    if (!user_id) return user_id.error();
    if (user_id->empty()) return sdk::Error{sdk::errc::missing_field, "body: user_id: empty"};
    out.user_id = std::move(*user_id);
    auto session = optional_string(object, "session_id");
    if (!session) return session.error();
    out.session_id = std::move(*session);
    auto message = optional_string(object, "message_id");
    if (!message) return message.error();
    out.message_id = std::move(*message);
    return out;
}

Exchange::Exchange(const Request& request_, ResponseWriter& writer, const ServerOptions& options_)
    : request(request_),
      options(options_),
      request_id(request_.request_id),
      path(request_.path),
      close(!request_.keep_alive),
      writer_(writer) {}

void Exchange::set_header(std::string name, std::string value) {
    for (auto& [key, existing] : headers_) {
        if (same_name(key, name)) {
            existing = std::move(value);
            return;
        }
    }
    headers_.emplace_back(std::move(name), std::move(value));
}

std::string Exchange::head(int status_code, std::string_view content_type) const {
    std::string out;
    out.reserve(256);
    out += "HTTP/1.1 ";
    out += std::to_string(status_code);
    out += ' ';
    out += reason_phrase(status_code);
    out += "\r\nServer: tezgah\r\nX-Request-Id: ";
    out += request_id;
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\n";
    for (const auto& [name, value] : headers_) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    return out;
}

void Exchange::send(int status_code, std::string_view content_type, std::string_view body) {
    status = status_code;
    std::string out = head(status_code, content_type);
    out += "Content-Length: ";
    out += std::to_string(body.size());
    out += "\r\n\r\n";
    if (request.method != "HEAD") out += body;
    if (!writer_.write(out)) close = true;  // the client went away; nothing to tell it
}

void Exchange::send_json(int status_code, const json::value& value) {
    send(status_code, "application/json", sdk::json_text(value));
}

void Exchange::send_error(int status_code, std::string_view code, std::string_view message) {
    if (status_code == 503) set_header("Retry-After", "1");
    send(status_code, "application/json", error_body(code, message, request_id));
}

void Exchange::send_error(const sdk::Error& error) {
    if (error.code == sdk::errc::invalid_tenant) {
        send_error(503, "tenant_unavailable",
                   "tenant \"" + tenant + "\" is not available: its configuration failed to load");
        return;
    }
    if (auto refusal = refusal_of(error)) {
        // Over the tenant's plan (ops/limits.hpp): when to try again, and which limit.
        set_header("Retry-After", std::to_string(refusal->retry_after.count()));
        return send(
            429, "application/json",
            sdk::json_text(json::object{{"error", json::object{{"code", error.code},
                                                               {"message", error.message},
                                                               {"request_id", request_id},
                                                               {"limit", to_string(refusal->limit)}}}}));
    }
    const int code_status = sdk::error_status(error.code);
    if (code_status == 500) {
        log_event(
            spdlog::level::err, "http", "request failed",
            {{"request_id", request_id}, {"tenant", tenant}, {"code", error.code}, {"error", error.message}});
        send_error(500, "internal", "the request could not be completed");
        return;
    }
    send_error(code_status, error.code, error.message);
}

bool Exchange::start_stream(int status_code, std::string_view content_type) {
    status = status_code;
    streaming_ = true;
    std::string out = head(status_code, content_type);
    out += "Transfer-Encoding: chunked\r\n\r\n";
    broken_ = !writer_.write(out);
    if (broken_) close = true;
    return !broken_;
}

bool Exchange::write_chunk(std::string_view data) {
    if (broken_ || data.empty()) return !broken_;
    char size[24];
    const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    std::string frame(size, static_cast<std::size_t>(n));
    frame += data;
    frame += "\r\n";
    broken_ = !writer_.write(frame);
    if (broken_) close = true;
    return !broken_;
}

void Exchange::end_stream() {
    if (!streaming_ || broken_) return;
    if (!writer_.write("0\r\n\r\n")) close = true;
}

}  // namespace tezgah::engine::http
