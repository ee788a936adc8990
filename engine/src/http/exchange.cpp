#include "http/exchange.hpp"

#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/text.hpp>

#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocket.h>

#include <cctype>

namespace tezgah::engine::http {
namespace {

using SteadyClock = std::chrono::steady_clock;

sdk::Result<std::string> optional_string(const json::object& body, std::string_view field,
                                         std::size_t max_length) {
    const auto* value = body.if_contains(field);
    if (value == nullptr || value->is_null()) return std::string();
    if (!value->is_string())
        return sdk::Error{sdk::errc::invalid_field, "body: " + std::string(field) + ": expected a string"};
    std::string_view text = value->get_string();
    if (!sdk::text::valid_utf8(text))
        return sdk::Error{sdk::errc::invalid_value, "body: " + std::string(field) + ": not valid UTF-8"};
    if (text.size() > max_length)
        return sdk::Error{sdk::errc::invalid_value, "body: " + std::string(field) + ": longer than " +
                                                        std::to_string(max_length) + " bytes"};
    return std::string(text);
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

sdk::Result<ChatBody> parse_chat_body(std::string_view body) {
    json::parse_options options;
    options.allow_invalid_utf8 = true;  // reported as invalid_value naming the field
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec, {}, options);
    if (ec) return sdk::Error{sdk::errc::invalid_json, "body: not valid JSON: " + ec.message()};
    if (!parsed.is_object()) return sdk::Error{sdk::errc::invalid_json, "body: expected a JSON object"};
    const auto& object = parsed.get_object();

    ChatBody out;
    const auto* text = object.if_contains("text");
    if (text == nullptr || text->is_null())
        return sdk::Error{sdk::errc::missing_field, "body: text: required"};
    if (!text->is_string()) return sdk::Error{sdk::errc::invalid_field, "body: text: expected a string"};
    out.text = std::string(text->get_string());

    const auto* user = object.if_contains("user_id");
    if (user == nullptr || user->is_null())
        return sdk::Error{sdk::errc::missing_field, "body: user_id: required"};
    if (!user->is_string()) return sdk::Error{sdk::errc::invalid_field, "body: user_id: expected a string"};
    auto user_id = optional_string(object, "user_id", 256);
    if (!user_id) return user_id.error();
    if (user_id->empty()) return sdk::Error{sdk::errc::missing_field, "body: user_id: empty"};
    out.user_id = std::move(*user_id);

    auto session = optional_string(object, "session_id", 128);
    if (!session) return session.error();
    out.session_id = std::move(*session);
    auto message = optional_string(object, "message_id", 256);
    if (!message) return message.error();
    out.message_id = std::move(*message);
    return out;
}

Exchange::Exchange(Poco::Net::HTTPServerRequest& request_, Poco::Net::HTTPServerResponse& response_,
                   const ServerOptions& options_)
    : request(request_), response(response_), options(options_) {
    const auto& incoming = request.get("X-Request-Id", "");
    request_id = sane_request_id(incoming) ? incoming : new_request_id();
    response.set("X-Request-Id", request_id);
    const std::string& uri = request.getURI();
    const auto question = uri.find('?');
    path = uri.substr(0, question);
    if (question != std::string::npos) query = uri.substr(question + 1);
}

bool Exchange::read_body(std::string& body) {
    const auto declared = request.getContentLength64();
    if (declared > static_cast<Poco::Int64>(options.max_body_bytes)) {
        response.setKeepAlive(false);
        send_error(413, "payload_too_large",
                   "request body: " + std::to_string(declared) + " bytes; the limit is " +
                       std::to_string(options.max_body_bytes));
        linger();
        return false;
    }
    if (declared > 0) body.reserve(static_cast<std::size_t>(declared));
    std::istream& in = request.stream();
    const auto deadline = started + options.body_deadline;
    char buffer[8192];
    // get() makes one read from the socket (bounded by the per-read timeout) and readsome() takes
    // what that read brought, so the deadline is checked after every read: a client dribbling a
    // byte at a time is cut off at the deadline.
    while (true) {
        const int first = in.get();
        if (first == std::char_traits<char>::eof()) break;
        body.push_back(static_cast<char>(first));
        const std::streamsize more = in.readsome(buffer, sizeof buffer);
        if (more > 0) body.append(buffer, static_cast<std::size_t>(more));
        if (body.size() > options.max_body_bytes) {
            response.setKeepAlive(false);
            send_error(413, "payload_too_large",
                       "request body: more than " + std::to_string(options.max_body_bytes) + " bytes");
            linger();
            return false;
        }
        if (SteadyClock::now() > deadline) {
            response.setKeepAlive(false);
            send_error(408, "request_timeout", "request body: not received within the deadline");
            return false;
        }
    }
    if (in.bad()) {
        response.setKeepAlive(false);
        // A read timed out, the connection dropped, or the chunked framing was broken.
        if (SteadyClock::now() - started >= options.io_timeout * 9 / 10)
            send_error(408, "request_timeout", "request body: the client stopped sending");
        else
            send_error(400, "bad_request", "request body: could not be read (framing or connection error)");
        return false;
    }
    return true;
}

void Exchange::send(int status_code, std::string_view content_type, std::string_view body) {
    status = status_code;
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status_code));
    response.setContentType(std::string(content_type));
    response.setContentLength64(static_cast<Poco::Int64>(body.size()));
    try {
        // Flushed here rather than when Poco drops the stream, so linger() can follow it.
        std::ostream& out = response.send();
        if (request.getMethod() != "HEAD") out.write(body.data(), static_cast<std::streamsize>(body.size()));
        out.flush();
    } catch (const std::exception&) {
        // The client went away; nothing to tell it.
    }
}

void Exchange::send_json(int status_code, const json::value& value) {
    send(status_code, "application/json", sdk::json_text(value));
}

void Exchange::send_error(int status_code, std::string_view code, std::string_view message) {
    if (status_code == 503) response.set("Retry-After", "1");
    send(status_code, "application/json", error_body(code, message, request_id));
}

void Exchange::send_error(const sdk::Error& error) {
    if (error.code == sdk::errc::invalid_tenant) {
        send_error(503, "tenant_unavailable",
                   "tenant \"" + tenant + "\" is not available: its configuration failed to load");
        return;
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

void Exchange::linger() {
    response.setKeepAlive(false);
    auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
    if (impl == nullptr) return;
    try {
        Poco::Net::StreamSocket& socket = impl->socket();
        socket.shutdownSend();
        socket.setReceiveTimeout(Poco::Timespan(0, 200 * 1000));
        const auto until = SteadyClock::now() + std::chrono::seconds(1);
        char buffer[16384];
        std::size_t drained = 0;
        while (SteadyClock::now() < until && drained < 8 * options.max_body_bytes) {
            const int n = socket.receiveBytes(buffer, sizeof buffer);
            if (n <= 0) break;
            drained += static_cast<std::size_t>(n);
        }
    } catch (const std::exception&) {
        // Timed out or reset: the connection closes either way.
    }
}

}  // namespace tezgah::engine::http
