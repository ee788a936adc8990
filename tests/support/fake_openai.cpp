#include "support/fake_openai.hpp"

#include <tezgah/sdk/random.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <regex>

#include "support/fake_model.hpp"

namespace tezgah::testing {
namespace json = boost::json;

namespace {

const char* type_name(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
        case json::kind::uint64:
            return "an integer";
        case json::kind::double_:
            return "a decimal";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "unknown";
}

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// Pieces of `text`, each a word with the spaces after it, so a stream sends one word a chunk.
std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto space = text.find(' ', start);
        auto end = space == std::string::npos ? text.size() : text.find_first_not_of(' ', space);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(start, end - start));
        start = end;
    }
    return out;
}

/// `text` cut in `n` pieces on UTF-8 boundaries (some may be empty for short text).
std::vector<std::string> pieces(const std::string& text, std::size_t n) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 1; i <= n; ++i) {
        std::size_t end = i == n ? text.size() : std::max(start, text.size() * i / n);
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
        out.push_back(text.substr(start, end - start));
        start = end;
    }
    return out;
}

std::atomic<int> completion_counter{0};

}  // namespace

const char* to_string(FakeOpenAiFlavour flavour) noexcept {
    switch (flavour) {
        case FakeOpenAiFlavour::openai:
            return "openai";
        case FakeOpenAiFlavour::ollama:
            return "ollama";
        case FakeOpenAiFlavour::vllm:
            return "vllm";
        case FakeOpenAiFlavour::llamacpp:
            return "llamacpp";
    }
    return "openai";
}

// --- behaviours ---

FakeOpenAiBehaviour FakeOpenAiBehaviour::automatic() { return {}; }

FakeOpenAiBehaviour FakeOpenAiBehaviour::answer(std::string text) {
    FakeOpenAiBehaviour b;
    b.kind = Kind::text;
    b.text = std::move(text);
    return b;
}

FakeOpenAiBehaviour FakeOpenAiBehaviour::tool_calls(std::vector<FakeOpenAiCall> calls) {
    FakeOpenAiBehaviour b;
    b.kind = Kind::tool_calls;
    b.calls = std::move(calls);
    return b;
}

FakeOpenAiBehaviour FakeOpenAiBehaviour::error(int status, std::string type, std::string message,
                                               std::string code) {
    FakeOpenAiBehaviour b;
    b.kind = Kind::error;
    b.status = status;
    b.error_type = std::move(type);
    b.error_message = std::move(message);
    b.error_code = std::move(code);
    return b;
}

FakeOpenAiBehaviour FakeOpenAiBehaviour::malformed() {
    FakeOpenAiBehaviour b;
    b.kind = Kind::malformed;
    return b;
}

FakeOpenAiBehaviour FakeOpenAiBehaviour::stall(std::chrono::milliseconds delay) {
    FakeOpenAiBehaviour b;
    b.kind = Kind::stall;
    b.delay = delay;
    return b;
}

FakeOpenAiBehaviour FakeOpenAiBehaviour::drop(std::string text) {
    FakeOpenAiBehaviour b;
    b.kind = Kind::drop;
    b.text = std::move(text);
    return b;
}

FakeOpenAiBehaviour FakeOpenAiBehaviour::stream_error(std::string message) {
    FakeOpenAiBehaviour b;
    b.kind = Kind::stream_error;
    b.error_type = "server_error";
    b.error_message = std::move(message);
    return b;
}

FakeOpenAiBehaviour&& FakeOpenAiBehaviour::retry_after(std::string value) && {
    headers.emplace_back("Retry-After", std::move(value));
    return std::move(*this);
}

FakeOpenAiBehaviour&& FakeOpenAiBehaviour::header(std::string name, std::string value) && {
    headers.emplace_back(std::move(name), std::move(value));
    return std::move(*this);
}

FakeOpenAiBehaviour&& FakeOpenAiBehaviour::without_usage() && {
    usage = false;
    return std::move(*this);
}

FakeOpenAiBehaviour&& FakeOpenAiBehaviour::finish(std::string reason) && {
    finish_reason = std::move(reason);
    return std::move(*this);
}

// --- the server ---

FakeOpenAi::FakeOpenAi(FakeOpenAiOptions options) : options_(std::move(options)) {
    server_ = std::make_unique<FakeHttpServer>(
        [this](const RecordedRequest& r, FakeReply& reply) { handle(r, reply); });
}

FakeOpenAi::FakeOpenAi(FakeOpenAiFlavour flavour) : FakeOpenAi(FakeOpenAiOptions{flavour}) {}

FakeOpenAi::~FakeOpenAi() { server_.reset(); }  // a stalled handler ends as the server stops

std::string FakeOpenAi::base_url() const { return server_->url() + "/v1"; }

std::vector<RecordedRequest> FakeOpenAi::requests() const { return server_->requests(); }

std::size_t FakeOpenAi::request_count() const { return server_->request_count(); }

bool FakeOpenAi::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    return server_->wait_for_requests(n, timeout);
}

bool FakeOpenAi::wait_for_cut_offs(std::size_t n, std::chrono::milliseconds timeout) const {
    return server_->wait_for_cut_offs(n, timeout);
}

std::vector<json::value> FakeOpenAi::bodies() const {
    std::vector<json::value> out;
    for (const auto& r : server_->requests()) {
        boost::system::error_code ec;
        auto v = json::parse(r.body, ec);
        out.push_back(ec ? json::value(nullptr) : v);
    }
    return out;
}

std::vector<std::string> FakeOpenAi::rejections() const {
    std::lock_guard lock(mutex_);
    return rejections_;
}

void FakeOpenAi::push_back(FakeOpenAiBehaviour behaviour) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(behaviour));
}

namespace {

/// A refusal of the request, in the flavour's error body.
struct Refusal {
    int status = 400;
    std::string message;
    std::string param;
    std::string code;
    std::string type = "invalid_request_error";
};

/// Checks a request as the real API does; the first problem found is the answer.
class Validator {
public:
    Validator(const FakeOpenAiOptions& options, const RecordedRequest& request)
        : options_(options), request_(request) {}

    std::optional<Refusal> check(json::object& body_out) {
        if (request_.method != "POST" || request_.path != "/v1/chat/completions")
            return Refusal{404,
                           "Unknown request URL: " + request_.method + " " + request_.path +
                               ". Please check the URL for typos, or see the docs at "
                               "https://platform.openai.com/docs/api-reference/.",
                           "", "unknown_url"};
        if (!options_.api_key.empty()) {
            auto auth = request_.header("authorization");
            if (auth.empty())
                return Refusal{
                    401,
                    "You didn't provide an API key. You need to provide your API key in an Authorization "
                    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "", ""};
            if (auth != "Bearer " + options_.api_key) {
                std::string shown = auth.size() > 7 ? auth.substr(7) : std::string();
                if (shown.size() > 8)
                    shown = shown.substr(0, 3) + std::string(shown.size() - 7, '*') +
                            shown.substr(shown.size() - 4);
                return Refusal{
                    401,
                    "Incorrect API key provided: " + shown +
                        ". You can find your API key at https://platform.openai.com/account/api-keys.",
                    "", "invalid_api_key"};
            }
        }
        auto content_type = request_.header("content-type");
        if (content_type.rfind("application/json", 0) != 0)
            return Refusal{400,
                           "Invalid Content-Type header (" + content_type + "), expected application/json.",
                           "", ""};
        boost::system::error_code ec;
        auto value = json::parse(request_.body, ec);
        if (ec || !value.is_object())
            return Refusal{400,
                           "We could not parse the JSON body of your request. (HINT: This likely means you "
                           "aren't using your HTTP "
                           "library correctly. The OpenAI API expects a JSON payload, but what was sent was "
                           "not valid JSON.)",
                           "", ""};
        body_out = value.get_object();
        const auto& body = body_out;
        const auto* model = body.if_contains("model");
        if (!model || !model->is_string() || model->get_string().empty())
            return Refusal{400, "you must provide a model parameter", "", ""};
        if (auto r = messages(body)) return r;
        if (auto r = tools(body)) return r;
        if (const auto* stream = body.if_contains("stream");
            stream && !stream->is_bool() && !stream->is_null())
            return invalid_type("stream", "a boolean", *stream);
        const bool streaming =
            body.contains("stream") && body.at("stream").is_bool() && body.at("stream").get_bool();
        if (const auto* so = body.if_contains("stream_options"); so && !so->is_null() && ollama() == false) {
            if (!so->is_object()) return invalid_type("stream_options", "an object", *so);
            if (!streaming)
                return Refusal{400,
                               "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                               "stream_options", ""};
        }
        if (const auto* t = body.if_contains("temperature"); t && !t->is_null()) {
            if (!t->is_number()) return invalid_type("temperature", "a number", *t);
            auto d = t->to_number<double>();
            if (d < 0 || d > 2)
                return Refusal{
                    400,
                    "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got " +
                        json::serialize(*t) + " instead.",
                    "temperature", "decimal_above_max_value"};
        }
        if (const auto* m = body.if_contains("max_tokens"); m && !m->is_null()) {
            if (!m->is_int64() && !m->is_uint64()) return invalid_type("max_tokens", "an integer", *m);
            if (m->is_int64() && m->get_int64() < 1)
                return Refusal{400,
                               "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1.",
                               "max_tokens", "integer_below_min_value"};
        }
        return std::nullopt;
    }

private:
    bool ollama() const { return options_.flavour == FakeOpenAiFlavour::ollama; }

    static Refusal invalid_type(const std::string& param, const std::string& expected,
                                const json::value& got) {
        return Refusal{400,
                       "Invalid type for '" + param + "': expected " + expected + ", but got " +
                           type_name(got) + " instead.",
                       param, "invalid_type"};
    }
    static Refusal missing(const std::string& param) {
        return Refusal{400, "Missing required parameter: '" + param + "'.", param,
                       "missing_required_parameter"};
    }
    static bool is_content(const json::value& v) { return v.is_string() || v.is_array(); }

    std::optional<Refusal> messages(const json::object& body) {
        const auto* messages = body.if_contains("messages");
        if (!messages) return missing("messages");
        if (!messages->is_array()) return invalid_type("messages", "an array", *messages);
        const auto& list = messages->get_array();
        if (list.empty())
            return Refusal{400,
                           "Invalid 'messages': empty array. Expected an array with minimum length 1, but "
                           "got an empty array instead.",
                           "messages", "empty_array"};
        std::vector<std::string> called;  // ids of the last assistant message's tool_calls
        std::vector<std::string> unanswered;
        bool after_calls = false;  // only tool messages since an assistant with tool_calls
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string at = "messages[" + std::to_string(i) + "]";
            if (!list[i].is_object()) return invalid_type(at, "an object", list[i]);
            const auto& m = list[i].get_object();
            const auto* role_value = m.if_contains("role");
            if (!role_value) return missing(at + ".role");
            std::string role =
                role_value->is_string() ? std::string(role_value->get_string()) : std::string();
            static const char* known[] = {"system", "developer", "user", "assistant", "tool"};
            if (std::find(std::begin(known), std::end(known), role) == std::end(known))
                return Refusal{
                    400,
                    "Invalid value: '" + role +
                        "'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'function'.",
                    at + ".role", "invalid_value"};
            if (role != "tool" && !unanswered.empty()) return unanswered_calls(unanswered);
            const auto* content = m.if_contains("content");
            if (role == "tool") {
                const auto* id = m.if_contains("tool_call_id");
                if (!id) return missing(at + ".tool_call_id");
                if (!id->is_string()) return invalid_type(at + ".tool_call_id", "a string", *id);
                if (!content) return missing(at + ".content");
                if (!is_content(*content))
                    return invalid_type(at + ".content", "one of a string or array of objects", *content);
                std::string call_id(id->get_string());
                if (!after_calls || std::find(called.begin(), called.end(), call_id) == called.end())
                    return Refusal{400,
                                   "Invalid parameter: messages with role 'tool' must be a response to a "
                                   "preceeding message with 'tool_calls'.",
                                   at + ".role", ""};
                unanswered.erase(std::remove(unanswered.begin(), unanswered.end(), call_id),
                                 unanswered.end());
                continue;
            }
            after_calls = false;
            if (role != "assistant") {
                if (!content) return missing(at + ".content");
                if (!is_content(*content))
                    return invalid_type(at + ".content", "one of a string or array of objects", *content);
                continue;
            }
            const auto* calls = m.if_contains("tool_calls");
            if (content && !content->is_null() && !is_content(*content))
                return invalid_type(at + ".content", "one of a string or array of objects", *content);
            if ((!content || content->is_null()) && (!calls || calls->is_null()))
                return missing(at + ".content");
            if (!calls || calls->is_null()) continue;
            if (!calls->is_array()) return invalid_type(at + ".tool_calls", "an array", *calls);
            if (calls->get_array().empty())
                return Refusal{400,
                               "Invalid '" + at +
                                   ".tool_calls': empty array. Expected an array with minimum length 1, but "
                                   "got an empty array instead.",
                               at + ".tool_calls", "empty_array"};
            called.clear();
            for (std::size_t j = 0; j < calls->get_array().size(); ++j) {
                const std::string cat = at + ".tool_calls[" + std::to_string(j) + "]";
                const auto& c = calls->get_array()[j];
                if (!c.is_object()) return invalid_type(cat, "an object", c);
                const auto& call = c.get_object();
                const auto* id = call.if_contains("id");
                if (!id) return missing(cat + ".id");
                if (!id->is_string() || id->get_string().empty())
                    return invalid_type(cat + ".id", "a string", *id);
                if (str(call, "type") != "function") return missing(cat + ".type");
                const auto* function = call.if_contains("function");
                if (!function) return missing(cat + ".function");
                if (!function->is_object()) return invalid_type(cat + ".function", "an object", *function);
                const auto* name = function->get_object().if_contains("name");
                if (!name) return missing(cat + ".function.name");
                if (!name->is_string()) return invalid_type(cat + ".function.name", "a string", *name);
                const auto* arguments = function->get_object().if_contains("arguments");
                if (!arguments) return missing(cat + ".function.arguments");
                if (!arguments->is_string())
                    return invalid_type(cat + ".function.arguments", "a string", *arguments);
                called.emplace_back(id->get_string());
            }
            unanswered = called;
            after_calls = true;
        }
        if (!unanswered.empty()) return unanswered_calls(unanswered);
        return std::nullopt;
    }

    static Refusal unanswered_calls(const std::vector<std::string>& ids) {
        std::string list;
        for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
        return Refusal{
            400,
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
            "'tool_call_id'. The following tool_call_ids did not have response messages: " +
                list,
            "messages", ""};
    }

    std::optional<Refusal> tools(const json::object& body) {
        const auto* tools = body.if_contains("tools");
        const bool has_tools = tools && !tools->is_null();
        std::vector<std::string> names;
        if (has_tools) {
            if (!tools->is_array()) return invalid_type("tools", "an array", *tools);
            if (tools->get_array().empty())
                return Refusal{400,
                               "Invalid 'tools': empty array. Expected an array with minimum length 1, but "
                               "got an empty array instead.",
                               "tools", "empty_array"};
            static const std::regex name_pattern("^[a-zA-Z0-9_-]{1,64}$");
            for (std::size_t i = 0; i < tools->get_array().size(); ++i) {
                const std::string at = "tools[" + std::to_string(i) + "]";
                const auto& t = tools->get_array()[i];
                if (!t.is_object()) return invalid_type(at, "an object", t);
                if (str(t.get_object(), "type") != "function") return missing(at + ".type");
                const auto* function = t.get_object().if_contains("function");
                if (!function) return missing(at + ".function");
                if (!function->is_object()) return invalid_type(at + ".function", "an object", *function);
                const auto& f = function->get_object();
                const auto* name = f.if_contains("name");
                if (!name) return missing(at + ".function.name");
                if (!name->is_string()) return invalid_type(at + ".function.name", "a string", *name);
                if (!std::regex_match(std::string(name->get_string()), name_pattern))
                    return Refusal{400,
                                   "Invalid '" + at +
                                       ".function.name': string does not match pattern. Expected a string "
                                       "that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                                   at + ".function.name", "invalid_value"};
                if (const auto* d = f.if_contains("description"); d && !d->is_string())
                    return invalid_type(at + ".function.description", "a string", *d);
                if (const auto* p = f.if_contains("parameters")) {
                    if (!p->is_object()) return invalid_type(at + ".function.parameters", "an object", *p);
                    if (str(p->get_object(), "type") != "object")
                        return Refusal{400,
                                       "Invalid schema for function '" + std::string(name->get_string()) +
                                           "': schema must be a JSON Schema of 'type: \"object\"'.",
                                       at + ".function.parameters", "invalid_function_parameters"};
                }
                names.emplace_back(name->get_string());
            }
            if (options_.flavour == FakeOpenAiFlavour::llamacpp && !options_.llamacpp_jinja)
                return Refusal{400, "tools param requires --jinja flag", "", ""};
        }
        const auto* choice = body.if_contains("tool_choice");
        if (!choice || choice->is_null() || ollama()) return std::nullopt;  // Ollama ignores tool_choice
        if (!has_tools)
            return Refusal{
                400,
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice", ""};
        if (choice->is_string()) {
            std::string c(choice->get_string());
            if (c != "none" && c != "auto" && c != "required")
                return Refusal{
                    400, "Invalid value: '" + c + "'. Supported values are: 'none', 'auto', and 'required'.",
                    "tool_choice", "invalid_value"};
            if (c == "auto" && options_.flavour == FakeOpenAiFlavour::vllm && !options_.vllm_auto_tool_choice)
                return Refusal{400,
                               "\"auto\" tool choice requires --enable-auto-tool-choice and "
                               "--tool-call-parser to be set",
                               "", ""};
            return std::nullopt;
        }
        if (!choice->is_object()) return invalid_type("tool_choice", "a string or an object", *choice);
        const auto* f = choice->get_object().if_contains("function");
        std::string name = f && f->is_object() ? str(f->get_object(), "name") : std::string();
        if (std::find(names.begin(), names.end(), name) == names.end())
            return Refusal{400,
                           "Invalid value for 'tool_choice': no function named '" + name +
                               "' was specified in the 'tools' parameter.",
                           "tool_choice", ""};
        return std::nullopt;
    }

    const FakeOpenAiOptions& options_;
    const RecordedRequest& request_;
};

/// What the fake model answers with, before it is put on the wire.
struct Decision {
    std::string text;
    std::vector<FakeOpenAiCall> calls;
    std::string finish_reason;
    bool usage = true;
};

Decision decide_automatically(const json::object& body, FakeOpenAiFlavour flavour) {
    std::vector<FakeTurnMessage> conversation;
    std::map<std::string, std::string> call_names;
    for (const auto& item : body.at("messages").get_array()) {
        const auto& m = item.get_object();
        const auto role = str(m, "role");
        if (role == "user") {
            conversation.push_back({"user", str(m, "content"), {}, {}});
        } else if (role == "assistant") {
            conversation.push_back({"assistant", str(m, "content"), {}, {}});
            if (const auto* calls = m.if_contains("tool_calls"); calls && calls->is_array())
                for (const auto& c : calls->get_array())
                    call_names[str(c.get_object(), "id")] =
                        str(c.get_object().at("function").get_object(), "name");
        } else if (role == "tool") {
            FakeTurnMessage t{"tool", {}, call_names[str(m, "tool_call_id")], {}};
            auto content = str(m, "content");
            boost::system::error_code ec;
            auto parsed = json::parse(content, ec);
            t.tool_result = ec ? json::value(content) : parsed;
            conversation.push_back(std::move(t));
        }
    }
    std::vector<std::string> tool_names;
    const auto choice = str(body, "tool_choice");
    const bool tools_off = choice == "none" && flavour != FakeOpenAiFlavour::ollama;
    if (const auto* tools = body.if_contains("tools"); tools && tools->is_array() && !tools_off)
        for (const auto& t : tools->get_array())
            tool_names.push_back(str(t.get_object().at("function").get_object(), "name"));
    auto decided = fake_model_decide(conversation, tool_names);
    Decision out;
    out.text = decided.text;
    for (const auto& [name, arguments] : decided.calls)
        out.calls.push_back({name, json::serialize(arguments), {}});
    return out;
}

std::string call_id(FakeOpenAiFlavour flavour) {
    switch (flavour) {
        case FakeOpenAiFlavour::openai:
            return "call_" +
                   sdk::random_chars(24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        case FakeOpenAiFlavour::ollama:
            return "call_" + sdk::random_chars(8, "abcdefghijklmnopqrstuvwxyz0123456789");
        case FakeOpenAiFlavour::vllm:
            return "chatcmpl-tool-" + sdk::random_hex(16);
        case FakeOpenAiFlavour::llamacpp:
            return {};
    }
    return {};
}

/// Renders one answer, whole or as a stream, in the flavour's dialect.
class Renderer {
public:
    Renderer(const FakeOpenAiOptions& options, const json::object& body, FakeReply& reply)
        : options_(options), reply_(reply), model_(str(body, "model")) {
        stream_ = body.contains("stream") && body.at("stream").is_bool() && body.at("stream").get_bool();
        if (const auto* so = body.if_contains("stream_options"); so && so->is_object())
            if (const auto* u = so->get_object().if_contains("include_usage"); u && u->is_bool())
                include_usage_ = u->get_bool();
        prompt_tokens_ = static_cast<std::int64_t>(json::serialize(body).size() / 4);
        id_ = "chatcmpl-" + std::to_string(++completion_counter);
    }

    bool streaming() const { return stream_; }

    void whole(Decision d) {
        assign_ids(d);
        json::object message{{"role", "assistant"}};
        message["content"] = d.text.empty() && !d.calls.empty() ? json::value(nullptr) : json::value(d.text);
        if (!d.calls.empty()) {
            json::array calls;
            for (const auto& c : d.calls) {
                json::object call;
                if (!c.id.empty()) call["id"] = c.id;
                call["type"] = "function";
                call["function"] = json::object{{"name", c.name}, {"arguments", c.arguments}};
                calls.push_back(std::move(call));
            }
            message["tool_calls"] = std::move(calls);
        }
        if (options_.flavour == FakeOpenAiFlavour::openai) {
            message["refusal"] = nullptr;
            message["annotations"] = json::array{};
        }
        json::object out{{"id", id_},
                         {"object", "chat.completion"},
                         {"created", 1735689600},
                         {"model", model_},
                         {"choices", json::array{json::object{{"index", 0},
                                                              {"message", std::move(message)},
                                                              {"logprobs", nullptr},
                                                              {"finish_reason", finish(d)}}}}};
        if (d.usage) out["usage"] = usage(d);
        if (options_.flavour == FakeOpenAiFlavour::openai) {
            out["service_tier"] = "default";
            out["system_fingerprint"] = "fp_fake0001";
        }
        if (options_.flavour == FakeOpenAiFlavour::llamacpp)
            out["timings"] = json::object{{"prompt_n", prompt_tokens_}, {"predicted_ms", 12.5}};
        reply_.status(200);
        reply_.content_type("application/json");
        reply_.body(json::serialize(out));
    }

    void stream(Decision d) {
        assign_ids(d);
        open();
        json::object first_delta{{"role", "assistant"}, {"content", ""}};
        if (options_.flavour == FakeOpenAiFlavour::openai) first_delta["refusal"] = nullptr;
        send(chunk(std::move(first_delta)));
        for (const auto& w : words(d.text)) send(chunk(json::object{{"content", w}}));
        stream_calls(d.calls);
        auto last = chunk(json::object{}, finish(d));
        if (options_.flavour == FakeOpenAiFlavour::llamacpp && d.usage) {
            last["usage"] = usage(d);  // llama-server: usage (and timings) on the finish chunk
            last["timings"] = json::object{{"prompt_n", prompt_tokens_}, {"predicted_ms", 12.5}};
        }
        send(last);
        if (include_usage_ && d.usage && options_.flavour != FakeOpenAiFlavour::llamacpp) {
            auto u = base();
            u["choices"] = json::array{};
            u["usage"] = usage(d);
            send(u);
        }
        done();
    }

    /// Some text, then the connection closes.
    void stream_then_drop(const std::string& text) {
        open();
        send(chunk(json::object{{"role", "assistant"}, {"content", ""}}));
        for (const auto& w : words(text)) send(chunk(json::object{{"content", w}}));
        reply_.drop();
    }

    void stream_then_error(const std::string& text, const std::string& type, const std::string& message) {
        open();
        for (const auto& w : words(text)) send(chunk(json::object{{"content", w}}));
        send(json::object{
            {"error",
             json::object{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}});
    }

    void malformed() {
        if (!stream_) {
            reply_.status(200);
            reply_.content_type("application/json");
            reply_.body(
                R"({"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{"index": 0, "message": {"content": "Mer)");
            return;
        }
        open();
        send(chunk(json::object{{"role", "assistant"}, {"content", ""}}));
        raw("data: {\"id\": \"chatcmpl-broken\", \"choices\": [{\"delta\": {\"content\": \"Mer\n\n");
        done();
    }

private:
    void assign_ids(Decision& d) {
        for (auto& c : d.calls)
            if (c.id.empty()) c.id = call_id(options_.flavour);
    }

    std::string finish(const Decision& d) const {
        if (!d.finish_reason.empty()) return d.finish_reason;
        if (d.calls.empty()) return "stop";
        return options_.flavour == FakeOpenAiFlavour::ollama ? "stop" : "tool_calls";
    }

    json::object usage(const Decision& d) const {
        std::int64_t completion = 1 + static_cast<std::int64_t>(d.text.size() / 4);
        for (const auto& c : d.calls)
            completion += static_cast<std::int64_t>((c.name.size() + c.arguments.size()) / 4) + 1;
        json::object u{{"prompt_tokens", prompt_tokens_},
                       {"completion_tokens", completion},
                       {"total_tokens", prompt_tokens_ + completion}};
        if (options_.flavour == FakeOpenAiFlavour::openai) {
            u["prompt_tokens_details"] = json::object{{"cached_tokens", 0}, {"audio_tokens", 0}};
            u["completion_tokens_details"] = json::object{{"reasoning_tokens", 0}, {"audio_tokens", 0}};
        }
        return u;
    }

    json::object base() const {
        json::object c{
            {"id", id_}, {"object", "chat.completion.chunk"}, {"created", 1735689600}, {"model", model_}};
        if (options_.flavour == FakeOpenAiFlavour::openai) {
            c["service_tier"] = "default";
            c["system_fingerprint"] = "fp_fake0001";
        }
        if (options_.flavour == FakeOpenAiFlavour::ollama) c["system_fingerprint"] = "fp_ollama";
        return c;
    }

    json::object chunk(json::object delta, std::string finish_reason = {}) const {
        auto c = base();
        c["choices"] = json::array{json::object{
            {"index", 0},
            {"delta", std::move(delta)},
            {"logprobs", nullptr},
            {"finish_reason", finish_reason.empty() ? json::value(nullptr) : json::value(finish_reason)}}};
        if (options_.flavour == FakeOpenAiFlavour::openai) {
            if (include_usage_) c["usage"] = nullptr;
            c["obfuscation"] =
                sdk::random_chars(6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        }
        return c;
    }

    static json::object call_fragment(std::size_t index, const FakeOpenAiCall* head, std::string arguments) {
        json::object f{{"index", index}};
        json::object function;
        if (head) {
            if (!head->id.empty()) f["id"] = head->id;
            f["type"] = "function";
            function["name"] = head->name;
        }
        function["arguments"] = std::move(arguments);
        f["function"] = std::move(function);
        return f;
    }

    void stream_calls(const std::vector<FakeOpenAiCall>& calls) {
        if (calls.empty()) return;
        auto send_fragment = [&](json::object fragment) {
            json::object delta{{"tool_calls", json::array{std::move(fragment)}}};
            send(chunk(std::move(delta)));
        };
        switch (options_.flavour) {
            case FakeOpenAiFlavour::ollama:
                // Each call whole in its own delta, every one at index 0 (as Ollama before 0.6 did).
                for (const auto& c : calls) {
                    json::object delta{{"role", "assistant"},
                                       {"content", ""},
                                       {"tool_calls", json::array{call_fragment(0, &c, c.arguments)}}};
                    send(chunk(std::move(delta)));
                }
                return;
            case FakeOpenAiFlavour::openai: {
                // Heads first, then the argument pieces of the calls interleaved.
                std::vector<std::vector<std::string>> parts;
                for (std::size_t i = 0; i < calls.size(); ++i) {
                    send_fragment(call_fragment(i, &calls[i], ""));
                    parts.push_back(pieces(calls[i].arguments, 3));
                }
                for (std::size_t round = 0; round < 3; ++round)
                    for (std::size_t i = 0; i < calls.size(); ++i)
                        send_fragment(call_fragment(i, nullptr, parts[i][round]));
                return;
            }
            case FakeOpenAiFlavour::vllm:
            case FakeOpenAiFlavour::llamacpp:
                // One call after the other: head, then its argument pieces.
                for (std::size_t i = 0; i < calls.size(); ++i) {
                    send_fragment(call_fragment(i, &calls[i], ""));
                    for (const auto& p : pieces(calls[i].arguments, 4))
                        if (!p.empty()) send_fragment(call_fragment(i, nullptr, p));
                }
                return;
        }
    }

    void open() {
        reply_.status(200);
        reply_.content_type("text/event-stream; charset=utf-8");
        reply_.header("Cache-Control", "no-cache");
    }
    void send(const json::object& event) { raw("data: " + json::serialize(event) + "\n\n"); }
    void raw(const std::string& text) {
        reply_.chunk(text);
        if (options_.chunk_pause.count() > 0) reply_.pause(options_.chunk_pause);
    }
    void done() { raw("data: [DONE]\n\n"); }

    const FakeOpenAiOptions& options_;
    FakeReply& reply_;
    std::string model_;
    std::string id_;
    bool stream_ = false;
    bool include_usage_ = false;
    std::int64_t prompt_tokens_ = 0;
};

}  // namespace

void FakeOpenAi::handle(const RecordedRequest& request, FakeReply& reply) {
    json::object body;
    if (auto refusal = Validator(options_, request).check(body)) {
        {
            std::lock_guard lock(mutex_);
            rejections_.push_back(std::to_string(refusal->status) + " " + refusal->message);
        }
        reply.status(refusal->status);
        reply.content_type("application/json");
        if (options_.flavour == FakeOpenAiFlavour::vllm) {
            if (refusal->status == 401)
                reply.body(R"({"error": "Unauthorized"})");
            else
                reply.body(json::serialize(json::object{{"object", "error"},
                                                        {"message", refusal->message},
                                                        {"type", "BadRequestError"},
                                                        {"param", nullptr},
                                                        {"code", refusal->status}}));
            return;
        }
        json::object error{
            {"message", refusal->message},
            {"type", refusal->type},
            {"param", refusal->param.empty() ? json::value(nullptr) : json::value(refusal->param)},
            {"code", refusal->code.empty() ? json::value(nullptr) : json::value(refusal->code)}};
        if (options_.flavour == FakeOpenAiFlavour::llamacpp) error["code"] = refusal->status;
        reply.body(json::serialize(json::object{{"error", std::move(error)}}));
        return;
    }

    FakeOpenAiBehaviour behaviour;
    {
        std::lock_guard lock(mutex_);
        if (!queue_.empty()) {
            behaviour = std::move(queue_.front());
            queue_.pop_front();
        }
    }
    for (const auto& [name, value] : behaviour.headers) reply.header(name, value);
    Renderer render(options_, body, reply);
    using Kind = FakeOpenAiBehaviour::Kind;
    switch (behaviour.kind) {
        case Kind::error: {
            json::object error{{"message", behaviour.error_message},
                               {"type", behaviour.error_type},
                               {"param", nullptr},
                               {"code", behaviour.error_code.empty() ? json::value(nullptr)
                                                                     : json::value(behaviour.error_code)}};
            reply.status(behaviour.status);
            reply.content_type("application/json");
            reply.body(json::serialize(json::object{{"error", std::move(error)}}));
            return;
        }
        case Kind::malformed:
            render.malformed();
            return;
        case Kind::drop:
            if (render.streaming())
                render.stream_then_drop(behaviour.text);
            else
                reply.drop();
            return;
        case Kind::stream_error:
            if (render.streaming()) {
                render.stream_then_error("Merhaba,", behaviour.error_type, behaviour.error_message);
            } else {
                reply.status(500);
                reply.content_type("application/json");
                reply.body(
                    json::serialize(json::object{{"error", json::object{{"message", behaviour.error_message},
                                                                        {"type", behaviour.error_type},
                                                                        {"param", nullptr},
                                                                        {"code", nullptr}}}}));
            }
            return;
        case Kind::stall:
            if (!reply.stall(behaviour.delay)) return;  // the client hung up, or the server stops
            break;
        case Kind::automatic:
        case Kind::text:
        case Kind::tool_calls:
            break;
    }
    Decision decision;
    if (behaviour.kind == Kind::text || behaviour.kind == Kind::tool_calls) {
        decision.text = behaviour.text;
        decision.calls = behaviour.calls;
    } else {
        decision = decide_automatically(body, options_.flavour);
    }
    decision.finish_reason = behaviour.finish_reason;
    decision.usage = behaviour.usage;
    if (render.streaming())
        render.stream(std::move(decision));
    else
        render.whole(std::move(decision));
}

}  // namespace tezgah::testing
