#include "wire.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/text.hpp>

namespace tezgah::plugins::openai {

namespace {

std::string string_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object* object_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<std::int64_t> integer_of(const json::value* v) {
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double() && std::isfinite(v->get_double())) return static_cast<std::int64_t>(v->get_double());
    return std::nullopt;
}

/// A message's content: a string, or (some compatible servers) an array of {type: "text", text}.
std::string content_text(const json::value* content) {
    if (!content) return {};
    if (content->is_string()) return std::string(content->get_string());
    std::string out;
    if (content->is_array())
        for (const auto& part : content->get_array())
            if (part.is_object() && string_of(part.get_object(), "type") == "text")
                out += string_of(part.get_object(), "text");
    return out;
}

std::optional<sdk::Usage> usage_of(const json::value* v) {
    if (!v || !v->is_object()) return std::nullopt;
    const auto& o = v->get_object();
    auto in = integer_of(o.if_contains("prompt_tokens"));
    auto out = integer_of(o.if_contains("completion_tokens"));
    if (!in && !out) return std::nullopt;
    sdk::Usage usage;
    usage.input_tokens = in.value_or(0);
    usage.output_tokens = out.value_or(0);
    return usage;
}

/// At most `limit` bytes of `text` on one line, cut on a UTF-8 boundary, for messages.
std::string snippet(std::string_view text, std::size_t limit = 200) {
    text = sdk::text::trim(text);
    std::string out(text.substr(0, limit));
    if (text.size() > limit) {
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
        if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
        out += "...";
    }
    std::replace(out.begin(), out.end(), '\n', ' ');
    std::replace(out.begin(), out.end(), '\r', ' ');
    return out;
}

std::string code_for_status(int status) {
    if (status == 401 || status == 403) return "unauthorized";
    if (status == 408) return "timeout";
    if (status == 429) return "rate_limited";
    if (status >= 500) return "unavailable";
    if (status >= 400) return "bad_request";  // 400, 404, 422 and the other refusals of the request
    return "bad_response";
}

/// The code of an error reported inside a 2xx answer (a stream's error event), from its type.
std::string code_for_type(std::string_view type, const json::value* code) {
    if (auto status = integer_of(code); status && *status >= 400 && *status < 600)
        return code_for_status(static_cast<int>(*status));
    std::string t(type);
    if (code && code->is_string()) t += std::string(" ") + std::string(code->get_string());
    if (t.find("rate_limit") != std::string::npos || t.find("insufficient_quota") != std::string::npos)
        return "rate_limited";
    if (t.find("invalid_api_key") != std::string::npos || t.find("authentication") != std::string::npos ||
        t.find("permission") != std::string::npos)
        return "unauthorized";
    if (t.find("invalid_request") != std::string::npos) return "bad_request";
    return "unavailable";
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

// --- the request ---

json::object request_body(const Settings& settings, const sdk::ProviderRequest& request, bool stream) {
    json::object body;
    body["model"] = settings.model;
    json::array messages;
    if (!request.system_prompt.empty())
        messages.push_back(json::object{{"role", "system"}, {"content", request.system_prompt}});
    // The calls of the last assistant message that no tool message has answered yet: a result
    // that names no call (or an unknown one) answers the pending call of its name, else the next.
    std::vector<std::pair<std::string, std::string>> pending;  // id, name
    CallIds ids;
    for (const auto& m : request.messages) {
        switch (m.role) {
            case sdk::Role::system:
                messages.push_back(json::object{{"role", "system"}, {"content", m.text}});
                break;
            case sdk::Role::user:
                messages.push_back(json::object{{"role", "user"}, {"content", m.text}});
                break;
            case sdk::Role::assistant: {
                json::object message{{"role", "assistant"}};
                if (m.tool_calls.empty()) {
                    message["content"] = m.text;
                } else {
                    message["content"] = m.text.empty() ? json::value(nullptr) : json::value(m.text);
                    json::array calls;
                    pending.clear();
                    for (const auto& call : m.tool_calls) {
                        auto id = ids.assign(call.id);
                        pending.emplace_back(id, call.name);
                        calls.push_back(json::object{
                            {"id", id},
                            {"type", "function"},
                            {"function", json::object{{"name", call.name},
                                                      {"arguments", sdk::json_text(call.arguments)}}}});
                    }
                    message["tool_calls"] = std::move(calls);
                }
                messages.push_back(std::move(message));
                break;
            }
            case sdk::Role::tool: {
                std::string id;
                std::string content = m.text;
                if (m.tool_result) {
                    const auto& r = *m.tool_result;
                    auto it = std::find_if(pending.begin(), pending.end(),
                                           [&](const auto& p) { return p.first == r.call_id; });
                    if (it == pending.end())
                        it = std::find_if(pending.begin(), pending.end(),
                                          [&](const auto& p) { return p.second == r.name; });
                    if (it == pending.end()) it = pending.begin();
                    if (it != pending.end()) {
                        id = it->first;
                        pending.erase(it);
                    } else {
                        id = r.call_id;
                    }
                    content =
                        r.ok ? sdk::json_text(r.content) : sdk::json_text(json::object{{"error", r.error}});
                } else if (!pending.empty()) {
                    id = pending.front().first;
                    pending.erase(pending.begin());
                }
                messages.push_back(
                    json::object{{"role", "tool"}, {"tool_call_id", id}, {"content", content}});
                break;
            }
        }
    }
    body["messages"] = std::move(messages);
    if (!request.tools.empty()) {
        json::array tools;
        for (const auto& t : request.tools) {
            json::object function{{"name", t.name}, {"description", t.description}};
            function["parameters"] = t.parameters.empty()
                                         ? json::object{{"type", "object"}, {"properties", json::object{}}}
                                         : t.parameters;
            tools.push_back(json::object{{"type", "function"}, {"function", std::move(function)}});
        }
        body["tools"] = std::move(tools);
        if (settings.tool_choice != "omit") body["tool_choice"] = settings.tool_choice;
    }
    if (settings.temperature) body["temperature"] = *settings.temperature;
    if (settings.max_tokens) body["max_tokens"] = *settings.max_tokens;
    if (stream) {
        body["stream"] = true;
        if (settings.stream_usage) body["stream_options"] = json::object{{"include_usage", true}};
    }
    return body;
}

// --- the answer ---

json::object parse_arguments(std::string_view raw) {
    if (sdk::text::trim(raw).empty()) return {};
    boost::system::error_code ec;
    auto value = json::parse(raw, ec);
    if (!ec && value.is_object()) return std::move(value.get_object());
    if (!ec && value.is_string()) {  // encoded twice by some models: "\"{\\\"a\\\": 1}\""
        auto inner = json::parse(value.get_string(), ec);
        if (!ec && inner.is_object()) return std::move(inner.get_object());
    }
    return json::object{{sdk::llm::kInvalidArguments, raw}};
}

std::string CallIds::assign(std::string_view server_id) {
    if (!server_id.empty() && used_.insert(std::string(server_id)).second) return std::string(server_id);
    for (;;) {
        std::string id =
            "call_" + sdk::random_chars(24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        if (used_.insert(id).second) return id;
    }
}

sdk::Result<Answer> parse_completion(std::string_view body, std::string_view api_key) {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);
    if (ec || !value.is_object())
        return sdk::Error{"bad_response",
                          "openai: the answer is not a JSON object: " + redact(snippet(body), api_key)};
    if (auto error = error_from_envelope(value, 0, api_key)) return *error;
    const auto& root = value.get_object();
    const auto* choices = root.if_contains("choices");
    if (!choices || !choices->is_array() || choices->get_array().empty() ||
        !choices->get_array()[0].is_object())
        return sdk::Error{"bad_response",
                          "openai: the answer has no choices: " + redact(snippet(body), api_key)};
    const auto& choice = choices->get_array()[0].get_object();
    const auto* message = object_of(choice, "message");
    if (!message) return sdk::Error{"bad_response", "openai: the answer's first choice has no message"};

    Answer answer;
    answer.finish_reason = string_of(choice, "finish_reason");
    answer.response.text = content_text(message->if_contains("content"));
    if (const auto* calls = message->if_contains("tool_calls"); calls && calls->is_array()) {
        CallIds ids;
        for (const auto& item : calls->get_array()) {
            if (!item.is_object()) return sdk::Error{"bad_response", "openai: a tool call is not an object"};
            const auto& call = item.get_object();
            const auto* function = object_of(call, "function");
            std::string name = function ? string_of(*function, "name") : std::string();
            if (name.empty()) return sdk::Error{"bad_response", "openai: a tool call has no function name"};
            json::object arguments;
            if (const auto* args = function->if_contains("arguments"); args && args->is_string())
                arguments = parse_arguments(args->get_string());
            else if (args && args->is_object())  // some compatible servers send the object itself
                arguments = args->get_object();
            else if (args && !args->is_null())
                arguments = json::object{{sdk::llm::kInvalidArguments, sdk::json_text(*args)}};
            answer.response.tool_calls.push_back(
                {ids.assign(string_of(call, "id")), std::move(name), std::move(arguments)});
        }
    }
    if (auto usage = usage_of(root.if_contains("usage"))) {
        answer.response.usage = *usage;
        answer.has_usage = true;
    }
    return answer;
}

// --- streaming ---

void StreamAssembler::feed(std::string_view bytes) {
    parser_.feed(bytes, [this](const sdk::llm::SseEvent& e) { event(e); });
}

void StreamAssembler::finish() {
    parser_.finish([this](const sdk::llm::SseEvent& e) { event(e); });
}

void StreamAssembler::event(const sdk::llm::SseEvent& e) {
    if (error_ || done_) return;
    ++events_;
    auto data = sdk::text::trim(e.data);
    if (data.empty()) return;
    if (data == "[DONE]") {
        done_ = true;
        return;
    }
    boost::system::error_code ec;
    auto value = json::parse(data, ec);
    if (ec || !value.is_object()) {
        error_ = sdk::Error{"bad_response", "openai: a stream chunk is not a JSON object: " +
                                                redact(snippet(data), api_key_)};
        return;
    }
    if (auto error = error_from_envelope(value, 0, api_key_)) {
        error_ = std::move(*error);
        return;
    }
    const auto& chunk = value.get_object();
    if (auto usage = usage_of(chunk.if_contains("usage"))) usage_ = usage;
    const auto* choices = chunk.if_contains("choices");
    if (!choices || !choices->is_array()) return;
    for (const auto& item : choices->get_array()) {
        if (!item.is_object()) continue;
        const auto& choice = item.get_object();
        if (integer_of(choice.if_contains("index")).value_or(0) != 0) continue;  // n = 1: one choice
        if (const auto* delta = object_of(choice, "delta")) {
            if (const auto* content = delta->if_contains("content"); content && !content->is_null()) {
                auto piece = content_text(content);
                if (!piece.empty()) {
                    text_ += piece;
                    if (sink_) sink_->on_text(piece);
                }
            }
            if (const auto* calls = delta->if_contains("tool_calls"); calls && calls->is_array())
                for (const auto& call : calls->get_array())
                    if (call.is_object()) tool_call_delta(call.get_object());
        }
        auto finish = string_of(choice, "finish_reason");
        if (!finish.empty()) finish_reason_ = std::move(finish);
    }
}

void StreamAssembler::tool_call_delta(const json::object& delta) {
    const auto index = integer_of(delta.if_contains("index"));
    const auto id = string_of(delta, "id");
    const auto* function = object_of(delta, "function");
    const auto name = function ? string_of(*function, "name") : std::string();
    std::string arguments;
    if (function)
        if (const auto* a = function->if_contains("arguments")) {
            if (a->is_string())
                arguments = std::string(a->get_string());
            else if (!a->is_null())
                arguments = sdk::json_text(*a);
        }

    std::optional<std::size_t> slot;
    if (index) {
        for (const auto& [i, s] : slot_of_index_)
            if (i == *index) slot = s;
        // A new id at a known index is a new call: servers that send each call whole may
        // number every one of them 0.
        if (slot && !id.empty() && !calls_[*slot].id.empty() && calls_[*slot].id != id) slot.reset();
    } else if (!calls_.empty() && ((id.empty() && name.empty()) || (!id.empty() && calls_.back().id == id))) {
        slot = calls_.size() -
               1;  // no index: a fragment without id or name, or with its id, continues the last call
    }
    if (!slot) {
        calls_.push_back({});
        slot = calls_.size() - 1;
        if (index) {
            auto it = std::find_if(slot_of_index_.begin(), slot_of_index_.end(),
                                   [&](const auto& p) { return p.first == *index; });
            if (it != slot_of_index_.end())
                it->second = *slot;
            else
                slot_of_index_.emplace_back(*index, *slot);
        }
    }
    auto& call = calls_[*slot];
    if (call.id.empty()) call.id = id;
    if (call.name.empty()) call.name = name;
    call.arguments += arguments;
}

sdk::Result<Answer> StreamAssembler::answer() {
    Answer answer;
    answer.response.text = text_;
    answer.finish_reason = finish_reason_;
    CallIds ids;
    for (const auto& call : calls_) {
        if (call.name.empty())
            return sdk::Error{"bad_response", "openai: a streamed tool call has no function name"};
        answer.response.tool_calls.push_back(
            {ids.assign(call.id), call.name, parse_arguments(call.arguments)});
    }
    if (usage_) {
        answer.response.usage = *usage_;
        answer.has_usage = true;
    }
    return answer;
}

bool looks_like_event_stream(std::string_view body) {
    auto start = std::find_if_not(body.begin(), body.end(), is_space);
    std::string_view rest(start, body.end());
    for (std::string_view field : {"data:", "event:", "id:", "retry:", ":"})
        if (rest.substr(0, field.size()) == field) return true;
    return false;
}

// --- errors ---

std::optional<sdk::Error> error_from_envelope(const json::value& body, int status, std::string_view api_key) {
    if (!body.is_object()) return std::nullopt;
    const auto& o = body.get_object();
    std::string message;
    std::string type;
    const json::value* code = nullptr;
    if (const auto* e = o.if_contains("error"); e && !e->is_null()) {
        if (e->is_object()) {
            const auto& error = e->get_object();
            message = string_of(error, "message");
            type = string_of(error, "type");
            code = error.if_contains("code");
            if (type.empty() && code && code->is_string()) type = std::string(code->get_string());
        } else if (e->is_string()) {
            message = std::string(e->get_string());  // Ollama's native {"error": "..."}
        } else {
            return std::nullopt;
        }
    } else if (string_of(o, "object") == "error") {  // vLLM before 0.9: the error at the top level
        message = string_of(o, "message");
        type = string_of(o, "type");
        code = o.if_contains("code");
    } else {
        return std::nullopt;
    }
    std::string text = "openai: ";
    text += status > 0 ? std::to_string(status) : std::string("error in the answer");
    if (!type.empty()) text += " " + type;
    text += ": " + (message.empty() ? std::string("(no message)") : snippet(message, 500));
    return sdk::Error{status > 0 ? code_for_status(status) : code_for_type(type, code),
                      redact(std::move(text), api_key)};
}

sdk::Error error_from_response(const sdk::HttpResponse& response, std::string_view api_key) {
    boost::system::error_code ec;
    auto value = json::parse(response.body, ec);
    std::optional<sdk::Error> error;
    if (!ec) error = error_from_envelope(value, response.status, api_key);
    if (!error) {
        auto body = snippet(response.body);
        error = sdk::Error{
            code_for_status(response.status),
            redact("openai: " + std::to_string(response.status) + (body.empty() ? "" : ": " + body),
                   api_key)};
    }
    if (response.status == 429) {
        auto wait = retry_after_ms(response);
        if (!wait) wait = sdk::llm::retry_after(response);
        if (wait) error->message += " (retry after " + std::to_string((wait->count() + 999) / 1000) + " s)";
    }
    return *error;
}

std::optional<sdk::llm::Millis> retry_after_ms(const sdk::HttpResponse& response) {
    for (const auto& [name, value] : response.headers) {
        if (name.size() != 14) continue;
        std::string lower(name);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (lower != "retry-after-ms") continue;
        try {
            std::size_t used = 0;
            std::string v(sdk::text::trim(value));
            double ms = std::stod(v, &used);
            if (used != v.size() || !(ms >= 0) || ms > 86400e3) return std::nullopt;
            return sdk::llm::Millis(static_cast<std::int64_t>(std::llround(ms)));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace tezgah::plugins::openai
