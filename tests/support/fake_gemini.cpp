#include "support/fake_gemini.hpp"

#include "support/fake_model.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <thread>

namespace tezgah::testing {

namespace json = boost::json;

// --- scripts ---

FakeGeminiScript FakeGeminiScript::answer(std::string text) {
    FakeGeminiScript s;
    s.text = std::move(text);
    return s;
}

FakeGeminiScript FakeGeminiScript::function_calls(std::vector<FakeGeminiCall> calls) {
    FakeGeminiScript s;
    s.calls = std::move(calls);
    return s;
}

FakeGeminiScript FakeGeminiScript::error(int status, std::string google_status, std::string message,
                                         std::string retry_delay) {
    FakeGeminiScript s;
    s.status = status;
    s.error_status = std::move(google_status);
    s.error_message = std::move(message);
    s.retry_delay = std::move(retry_delay);
    return s;
}

FakeGeminiScript FakeGeminiScript::malformed() {
    FakeGeminiScript s;
    s.raw_body = R"({"candidates": [{"content": {"parts": [{"text": "yarım)";
    return s;
}

namespace {

// --- helpers ---

/// A field read under its camelCase or snake_case name.
const json::value* field(const json::object& o, const char* camel, const char* snake) {
    if (const auto* v = o.if_contains(camel)) return v;
    return o.if_contains(snake);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string unknown_name(const std::string& name, const std::string& path) {
    std::string where = path.empty() ? "" : " at '" + path + "'";
    return "Invalid JSON payload received. Unknown name \"" + name + "\"" + where + ": Cannot find field.";
}

bool allowed(const std::string& key, std::initializer_list<const char*> names) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return key == n; });
}

json::object error_body(int status, const std::string& google_status, const std::string& message,
                        const std::string& retry_delay = {}) {
    json::array details;
    if (google_status == "RESOURCE_EXHAUSTED")
        details.push_back(json::object{
            {"@type", "type.googleapis.com/google.rpc.QuotaFailure"},
            {"violations",
             json::array{json::object{
                 {"quotaMetric", "generativelanguage.googleapis.com/generate_content_free_tier_requests"},
                 {"quotaId", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}}}}});
    if (!retry_delay.empty())
        details.push_back(
            json::object{{"@type", "type.googleapis.com/google.rpc.RetryInfo"}, {"retryDelay", retry_delay}});
    json::object error{{"code", status}, {"message", message}, {"status", google_status}};
    if (!details.empty()) error["details"] = std::move(details);
    return json::object{{"error", std::move(error)}};
}

int estimate(std::size_t bytes) { return static_cast<int>(bytes / 4 + 1); }

/// The answer's text in streamed pieces: as scripted, else cut in three at spaces.
std::vector<std::string> split_text(const FakeGeminiScript& s) {
    if (!s.pieces.empty()) return s.pieces;
    if (s.text.empty()) return {};
    std::vector<std::string> out;
    const std::size_t target = std::max<std::size_t>(1, s.text.size() / 3);
    std::size_t start = 0;
    while (start < s.text.size()) {
        std::size_t cut = out.size() == 2 ? std::string::npos : s.text.find(' ', start + target);
        if (cut == std::string::npos) {
            out.push_back(s.text.substr(start));
            break;
        }
        out.push_back(s.text.substr(start, cut + 1 - start));
        start = cut + 1;
    }
    return out;
}

json::object call_part(const FakeGeminiCall& c) {
    json::object call{{"name", c.name}};
    if (!c.args.is_null()) call["args"] = c.args;
    if (!c.id.empty()) call["id"] = c.id;
    json::object part{{"functionCall", std::move(call)}};
    if (!c.thought_signature.empty()) part["thoughtSignature"] = c.thought_signature;
    return part;
}

json::object usage_of(const FakeGeminiScript& s, std::size_t request_bytes) {
    int prompt = s.prompt_tokens >= 0 ? s.prompt_tokens : estimate(request_bytes);
    std::size_t answer_bytes = s.text.size();
    for (const auto& c : s.calls) answer_bytes += c.name.size() + json::serialize(c.args).size();
    int candidates = s.candidates_tokens >= 0 ? s.candidates_tokens : estimate(answer_bytes);
    json::object u{{"promptTokenCount", prompt},
                   {"candidatesTokenCount", candidates},
                   {"totalTokenCount", prompt + candidates + s.thoughts_tokens}};
    if (s.thoughts_tokens > 0) u["thoughtsTokenCount"] = s.thoughts_tokens;
    return u;
}

json::object chunk_of(json::array parts, const std::string& finish_reason) {
    json::object candidate{{"content", json::object{{"parts", std::move(parts)}, {"role", "model"}}},
                           {"index", 0}};
    if (!finish_reason.empty()) candidate["finishReason"] = finish_reason;
    return json::object{{"candidates", json::array{std::move(candidate)}}, {"modelVersion", "fake-gemini"}};
}

/// The whole answer as one GenerateContentResponse.
json::object whole_response(const FakeGeminiScript& s, std::size_t request_bytes) {
    json::object out;
    if (!s.block_reason.empty()) {
        out["promptFeedback"] = json::object{{"blockReason", s.block_reason}};
    } else {
        json::array parts;
        if (!s.text.empty()) parts.push_back(json::object{{"text", s.text}});
        for (const auto& c : s.calls) parts.push_back(call_part(c));
        out = chunk_of(std::move(parts), s.finish_reason);
    }
    if (s.usage) out["usageMetadata"] = usage_of(s, request_bytes);
    return out;
}

/// The answer as the chunks of a stream: text pieces, then the calls; the last chunk carries
/// finishReason and usage.
std::vector<json::object> stream_chunks(const FakeGeminiScript& s, std::size_t request_bytes) {
    std::vector<json::object> out;
    if (!s.block_reason.empty()) {
        out.push_back(whole_response(s, request_bytes));
        return out;
    }
    for (const auto& piece : split_text(s))
        out.push_back(chunk_of(json::array{json::object{{"text", piece}}}, ""));
    if (!s.calls.empty()) {
        json::array parts;
        for (const auto& c : s.calls) parts.push_back(call_part(c));
        out.push_back(chunk_of(std::move(parts), ""));
    }
    if (out.empty()) out.push_back(chunk_of(json::array{json::object{{"text", ""}}}, ""));
    auto& last = out.back();
    last["candidates"].as_array()[0].as_object()["finishReason"] = s.finish_reason;
    if (s.usage) last["usageMetadata"] = usage_of(s, request_bytes);
    return out;
}

std::string event(std::string_view data) { return "data: " + std::string(data) + "\r\n\r\n"; }

// --- schema validation ---

const char* const kSchemaType = "(type.googleapis.com/google.ai.generativelanguage.v1beta.Schema)";

std::string check(const json::value& v, const std::string& path, bool top) {
    if (!v.is_object()) return "Invalid value at '" + path + "' " + kSchemaType + ", " + json::serialize(v);
    const auto& s = v.get_object();
    for (const auto& [key, value] : s) {
        (void)value;
        std::string k(key);
        if (!allowed(k, {"type", "format", "description", "nullable", "enum", "properties", "required",
                         "items", "minItems", "min_items", "maxItems", "max_items", "minimum", "maximum",
                         "anyOf", "any_of", "propertyOrdering", "property_ordering"}))
            return unknown_name(k, path);
    }
    std::string type;
    if (const auto* t = s.if_contains("type")) {
        if (t->is_array())
            return "Invalid JSON payload received. Proto field is not repeating, cannot start list. at '" +
                   path + ".type'";
        if (!t->is_string())
            return "Invalid value at '" + path +
                   ".type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), " +
                   json::serialize(*t);
        type = lower(t->get_string());
        if (!allowed(type, {"string", "number", "integer", "boolean", "array", "object", "null"}))
            return "Invalid value at '" + path +
                   ".type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), \"" +
                   std::string(t->get_string()) + "\"";
    }
    const auto* any_of = field(s, "anyOf", "any_of");
    if (type.empty() && !any_of) return "* GenerateContentRequest." + path + ".type: must be specified";
    if (const auto* d = s.if_contains("description"); d && !d->is_string())
        return "Invalid value at '" + path + ".description' (TYPE_STRING), " + json::serialize(*d);
    if (const auto* n = s.if_contains("nullable"); n && !n->is_bool())
        return "Invalid value at '" + path + ".nullable' (TYPE_BOOL), " + json::serialize(*n);
    if (const auto* f = s.if_contains("format")) {
        if (!f->is_string())
            return "Invalid value at '" + path + ".format' (TYPE_STRING), " + json::serialize(*f);
        std::string_view format = f->get_string();
        bool ok = (type == "string" && (format == "enum" || format == "date-time")) ||
                  (type == "integer" && (format == "int32" || format == "int64")) ||
                  (type == "number" && (format == "float" || format == "double"));
        if (!ok)
            return "* GenerateContentRequest." + path + ".format: format \"" + std::string(format) +
                   "\" is not supported for type " + (type.empty() ? "unspecified" : type);
    }
    if (const auto* e = s.if_contains("enum")) {
        if (!e->is_array())
            return "Invalid value at '" + path + ".enum' (TYPE_STRING), " + json::serialize(*e);
        if (type != "string")
            return "* GenerateContentRequest." + path + ".enum: only allowed for STRING type";
        for (std::size_t i = 0; i < e->get_array().size(); ++i)
            if (!e->get_array()[i].is_string())
                return "Invalid value at '" + path + ".enum[" + std::to_string(i) + "]' (TYPE_STRING), " +
                       json::serialize(e->get_array()[i]);
    }
    std::set<std::string> names;
    if (const auto* p = s.if_contains("properties")) {
        if (!p->is_object()) return "Invalid value at '" + path + ".properties' " + json::serialize(*p);
        if (type != "object")
            return "* GenerateContentRequest." + path + ".properties: only allowed for OBJECT type";
        if (p->get_object().empty())
            return "* GenerateContentRequest." + path + ".properties: should be non-empty for OBJECT type";
        for (const auto& [name, sub] : p->get_object()) {
            names.insert(std::string(name));
            if (auto problem = check(sub, path + ".properties[" + std::string(name) + "].value", false);
                !problem.empty())
                return problem;
        }
    } else if (top && type == "object") {
        return "* GenerateContentRequest." + path + ".properties: should be non-empty for OBJECT type";
    }
    if (const auto* r = s.if_contains("required")) {
        if (!r->is_array())
            return "Invalid value at '" + path + ".required' (TYPE_STRING), " + json::serialize(*r);
        for (std::size_t i = 0; i < r->get_array().size(); ++i) {
            const auto& name = r->get_array()[i];
            if (!name.is_string())
                return "Invalid value at '" + path + ".required[" + std::to_string(i) + "]' (TYPE_STRING)";
            if (!names.count(std::string(name.get_string())))
                return "* GenerateContentRequest." + path + ".required[" + std::to_string(i) +
                       "]: property is not defined";
        }
    }
    if (const auto* o = field(s, "propertyOrdering", "property_ordering")) {
        if (!o->is_array()) return "Invalid value at '" + path + ".property_ordering' (TYPE_STRING)";
        for (const auto& name : o->get_array())
            if (!name.is_string() || !names.count(std::string(name.get_string())))
                return "* GenerateContentRequest." + path + ".property_ordering: " + json::serialize(name) +
                       " is not a property";
    }
    if (const auto* i = s.if_contains("items")) {
        if (type != "array")
            return "* GenerateContentRequest." + path + ".items: only allowed for ARRAY type";
        if (auto problem = check(*i, path + ".items", false); !problem.empty()) return problem;
    } else if (type == "array") {
        return "* GenerateContentRequest." + path + ".items: missing field.";
    }
    for (const auto& [camel, snake] :
         {std::pair{"minItems", "min_items"}, std::pair{"maxItems", "max_items"}}) {
        const auto* n = field(s, camel, snake);
        if (!n) continue;
        bool ok = (n->is_int64() && n->get_int64() >= 0) || n->is_uint64() ||
                  (n->is_string() && !n->get_string().empty() &&
                   std::all_of(n->get_string().begin(), n->get_string().end(),
                               [](char c) { return c >= '0' && c <= '9'; }));
        if (!ok) return "Invalid value at '" + path + "." + snake + "' (TYPE_INT64), " + json::serialize(*n);
    }
    for (const char* key : {"minimum", "maximum"})
        if (const auto* n = s.if_contains(key); n && !n->is_number())
            return "Invalid value at '" + path + "." + key + "' (TYPE_DOUBLE), " + json::serialize(*n);
    if (any_of) {
        if (!any_of->is_array() || any_of->get_array().empty())
            return "* GenerateContentRequest." + path + ".any_of: must be a non-empty list of schemas";
        for (std::size_t i = 0; i < any_of->get_array().size(); ++i)
            if (auto problem =
                    check(any_of->get_array()[i], path + ".any_of[" + std::to_string(i) + "]", false);
                !problem.empty())
                return problem;
    }
    return {};
}

}  // namespace

std::string FakeGemini::check_schema(const json::value& schema, const std::string& path) {
    return check(schema, path, true);
}

// --- the server ---

FakeGemini::FakeGemini()
    : server_(std::make_unique<FakeHttpServer>(
          [this](const RecordedRequest& r, FakeReply& reply) { handle(r, reply); })) {}

FakeGemini::~FakeGemini() { server_.reset(); }

std::string FakeGemini::base_url() const { return server_->url(); }

std::vector<RecordedRequest> FakeGemini::requests() const { return server_->requests(); }

std::size_t FakeGemini::request_count() const { return server_->request_count(); }

bool FakeGemini::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    return server_->wait_for_requests(n, timeout);
}

bool FakeGemini::wait_for_cut_offs(std::size_t n, std::chrono::milliseconds timeout) const {
    return server_->wait_for_cut_offs(n, timeout);
}

void FakeGemini::push_back(FakeGeminiScript script) {
    std::lock_guard lock(mutex_);
    scripts_.push_back(std::move(script));
}

void FakeGemini::require_key(std::string key) {
    std::lock_guard lock(mutex_);
    required_key_ = std::move(key);
}

std::vector<std::string> FakeGemini::refusals() const {
    std::lock_guard lock(mutex_);
    return refusals_;
}

void FakeGemini::release() {
    {
        std::lock_guard lock(mutex_);
        ++released_;
    }
    released_cv_.notify_all();
}

int FakeGemini::lockstep_timeouts() const {
    std::lock_guard lock(mutex_);
    return lockstep_timeouts_;
}

void FakeGemini::refuse(FakeReply& reply, const Refusal& refusal) {
    {
        std::lock_guard lock(mutex_);
        refusals_.push_back(std::to_string(refusal.status) + " " + refusal.message);
    }
    reply.status(refusal.status);
    reply.content_type("application/json; charset=UTF-8");
    reply.body(json::serialize(error_body(refusal.status, refusal.google_status, refusal.message)));
}

std::optional<FakeGemini::Refusal> FakeGemini::validate(const json::object& body) {
    auto invalid = [](std::string message) { return Refusal{400, "INVALID_ARGUMENT", std::move(message)}; };
    for (const auto& [key, value] : body) {
        (void)value;
        std::string k(key);
        if (!allowed(k, {"contents", "systemInstruction", "system_instruction", "tools", "toolConfig",
                         "tool_config", "generationConfig", "generation_config", "safetySettings",
                         "safety_settings", "cachedContent", "cached_content", "labels"}))
            return invalid(unknown_name(k, ""));
    }

    if (const auto* system = field(body, "systemInstruction", "system_instruction")) {
        if (!system->is_object())
            return invalid(
                "Invalid value at 'system_instruction' "
                "(type.googleapis.com/google.ai.generativelanguage.v1beta.Content)");
        const auto* parts = system->get_object().if_contains("parts");
        if (!parts || !parts->is_array() || parts->get_array().empty())
            return invalid("* GenerateContentRequest.system_instruction.parts: must not be empty");
        for (const auto& p : parts->get_array())
            if (!p.is_object() || !p.get_object().contains("text") || !p.get_object().at("text").is_string())
                return invalid(
                    "* GenerateContentRequest.system_instruction.parts: only text parts are allowed");
    }

    // Tools and their schemas.
    std::set<std::string> declared;
    if (const auto* tools = body.if_contains("tools")) {
        if (!tools->is_array())
            return invalid(
                "Invalid value at 'tools' (type.googleapis.com/google.ai.generativelanguage.v1beta.Tool)");
        static const std::regex name_pattern("[A-Za-z_][A-Za-z0-9_.:-]{0,63}");
        for (std::size_t t = 0; t < tools->get_array().size(); ++t) {
            const auto& tool = tools->get_array()[t];
            const std::string tpath = "tools[" + std::to_string(t) + "]";
            if (!tool.is_object()) return invalid("Invalid value at '" + tpath + "'");
            for (const auto& [key, value] : tool.get_object()) {
                (void)value;
                if (!allowed(std::string(key),
                             {"functionDeclarations", "function_declarations", "googleSearch",
                              "google_search", "codeExecution", "code_execution", "urlContext"}))
                    return invalid(unknown_name(std::string(key), tpath));
            }
            const auto* decls = field(tool.get_object(), "functionDeclarations", "function_declarations");
            if (!decls) continue;
            if (!decls->is_array()) return invalid("Invalid value at '" + tpath + ".function_declarations'");
            for (std::size_t d = 0; d < decls->get_array().size(); ++d) {
                const auto& decl = decls->get_array()[d];
                const std::string dpath = tpath + ".function_declarations[" + std::to_string(d) + "]";
                if (!decl.is_object()) return invalid("Invalid value at '" + dpath + "'");
                for (const auto& [key, value] : decl.get_object()) {
                    (void)value;
                    if (!allowed(std::string(key),
                                 {"name", "description", "parameters", "response", "behavior"}))
                        return invalid(unknown_name(std::string(key), dpath));
                }
                const auto* name = decl.get_object().if_contains("name");
                if (!name || !name->is_string() ||
                    !std::regex_match(std::string(name->get_string()), name_pattern))
                    return invalid(
                        "* GenerateContentRequest." + dpath +
                        ".name: Invalid function name. Must start with a letter or an underscore. Must be "
                        "a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum "
                        "length of 64.");
                declared.insert(std::string(name->get_string()));
                if (const auto* parameters = decl.get_object().if_contains("parameters"))
                    if (auto problem = check(*parameters, dpath + ".parameters", true); !problem.empty())
                        return invalid(problem);
            }
        }
    }
    if (const auto* config = field(body, "toolConfig", "tool_config")) {
        if (!config->is_object()) return invalid("Invalid value at 'tool_config'");
        if (const auto* fc =
                field(config->get_object(), "functionCallingConfig", "function_calling_config")) {
            if (!fc->is_object()) return invalid("Invalid value at 'tool_config.function_calling_config'");
            std::string mode;
            if (const auto* m = fc->get_object().if_contains("mode"); m && m->is_string())
                mode = m->get_string();
            if (!mode.empty() && !allowed(mode, {"AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"}))
                return invalid(
                    "Invalid value at 'tool_config.function_calling_config.mode' "
                    "(type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "
                    "\"" +
                    mode + "\"");
            if (field(fc->get_object(), "allowedFunctionNames", "allowed_function_names") && mode != "ANY")
                return invalid(
                    "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: "
                    "allowed_function_names should only be set when the mode is ANY.");
        }
    }
    if (const auto* generation = field(body, "generationConfig", "generation_config")) {
        if (!generation->is_object()) return invalid("Invalid value at 'generation_config'");
        for (const auto& [key, value] : generation->get_object()) {
            std::string k(key);
            if (!allowed(k, {"temperature",
                             "maxOutputTokens",
                             "max_output_tokens",
                             "topP",
                             "top_p",
                             "topK",
                             "top_k",
                             "candidateCount",
                             "candidate_count",
                             "stopSequences",
                             "stop_sequences",
                             "responseMimeType",
                             "response_mime_type",
                             "responseSchema",
                             "response_schema",
                             "thinkingConfig",
                             "thinking_config",
                             "seed",
                             "presencePenalty",
                             "frequencyPenalty"}))
                return invalid(unknown_name(k, "generation_config"));
            if (k == "temperature" &&
                (!value.is_number() || value.to_number<double>() < 0 || value.to_number<double>() > 2))
                return invalid(
                    "* GenerateContentRequest.generation_config.temperature: must be between 0 and 2");
            if ((k == "maxOutputTokens" || k == "max_output_tokens") &&
                !(value.is_int64() && value.get_int64() > 0))
                return invalid(
                    "* GenerateContentRequest.generation_config.max_output_tokens: must be positive");
        }
    }

    // Contents: roles, parts, the call/response pairing and the thought signatures.
    const auto* contents = body.if_contains("contents");
    if (!contents || !contents->is_array() || contents->get_array().empty())
        return invalid("* GenerateContentRequest.contents: contents is not specified");
    const auto& turns = contents->get_array();
    // Like Gemini, a missing signature is refused in the current turn only: since the last user
    // message that is not function responses.
    std::size_t current_turn = 0;
    for (std::size_t i = 0; i < turns.size(); ++i) {
        if (!turns[i].is_object()) continue;
        const auto* role = turns[i].get_object().if_contains("role");
        const auto* parts = turns[i].get_object().if_contains("parts");
        if (!role || *role != "user" || !parts || !parts->is_array()) continue;
        for (const auto& p : parts->get_array())
            if (p.is_object() && p.get_object().contains("text")) current_turn = i;
    }
    std::vector<std::pair<std::string, std::string>> previous_calls;  // (name, id) of the turn before
    bool previous_was_call_turn = false;
    for (std::size_t i = 0; i < turns.size(); ++i) {
        const std::string cpath = "contents[" + std::to_string(i) + "]";
        if (!turns[i].is_object())
            return invalid("Invalid value at '" + cpath +
                           "' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content)");
        const auto& turn = turns[i].get_object();
        for (const auto& [key, value] : turn) {
            (void)value;
            if (!allowed(std::string(key), {"role", "parts"}))
                return invalid(unknown_name(std::string(key), cpath));
        }
        std::string role;
        if (const auto* r = turn.if_contains("role"); r && r->is_string()) role = r->get_string();
        if (role != "user" && role != "model") return invalid("Please use a valid role: user, model.");
        const auto* parts = turn.if_contains("parts");
        if (!parts || !parts->is_array() || parts->get_array().empty())
            return invalid("* GenerateContentRequest." + cpath + ".parts: contents.parts must not be empty.");
        std::vector<std::pair<std::string, std::string>> calls;
        std::vector<std::pair<std::string, std::string>> responses;
        for (std::size_t p = 0; p < parts->get_array().size(); ++p) {
            const std::string ppath = cpath + ".parts[" + std::to_string(p) + "]";
            const auto& pv = parts->get_array()[p];
            if (!pv.is_object()) return invalid("Invalid value at '" + ppath + "'");
            const auto& part = pv.get_object();
            int data_fields = 0;
            for (const auto& [key, value] : part) {
                std::string k(key);
                if (!allowed(k, {"text", "functionCall", "function_call", "functionResponse",
                                 "function_response", "inlineData", "inline_data", "fileData", "file_data",
                                 "thought", "thoughtSignature", "thought_signature", "executableCode",
                                 "codeExecutionResult", "videoMetadata"}))
                    return invalid(unknown_name(k, ppath));
                if (k != "thought" && k != "thoughtSignature" && k != "thought_signature" &&
                    k != "videoMetadata")
                    ++data_fields;
                if (k == "text" && !value.is_string())
                    return invalid("Invalid value at '" + ppath + ".text' (TYPE_STRING), " +
                                   json::serialize(value));
            }
            if (data_fields != 1)
                return invalid("* GenerateContentRequest." + ppath +
                               ".data: required oneof field 'data' must have one initialized field");
            if (const auto* call = field(part, "functionCall", "function_call")) {
                if (role != "model")
                    return invalid("* GenerateContentRequest." + ppath +
                                   ".function_call: only allowed in a model turn");
                if (!call->is_object()) return invalid("Invalid value at '" + ppath + ".function_call'");
                const auto& c = call->get_object();
                const auto* name = c.if_contains("name");
                if (!name || !name->is_string() || name->get_string().empty())
                    return invalid("* GenerateContentRequest." + ppath +
                                   ".function_call.name: Name cannot be empty.");
                if (const auto* args = c.if_contains("args"); args && !args->is_object())
                    return invalid("Invalid value at '" + ppath +
                                   ".function_call.args' (type.googleapis.com/google.protobuf.Struct), " +
                                   json::serialize(*args));
                std::string id;
                if (const auto* v = c.if_contains("id"); v && v->is_string()) id = v->get_string();
                calls.emplace_back(std::string(name->get_string()), id);

                // A call the fake sent with a thoughtSignature must come back with it, unchanged.
                const auto* sig = field(part, "thoughtSignature", "thought_signature");
                std::lock_guard lock(mutex_);
                if (sig) {
                    auto it = sig->is_string() ? signed_parts_.find(std::string(sig->get_string()))
                                               : signed_parts_.end();
                    if (it == signed_parts_.end())
                        return invalid("Unable to submit request because Thought signature is not valid. (" +
                                       ppath + ")");
                    if (json::value(it->second) != pv)
                        return invalid(
                            "Unable to submit request because the model turn at " + cpath +
                            " was changed: a part with a thought signature must be sent back unchanged.");
                } else if (i > current_turn) {
                    for (const auto& [signature, sent] : signed_parts_) {
                        const auto& sent_call = sent.at("functionCall").get_object();
                        const auto* sent_args = sent_call.if_contains("args");
                        const auto* args = c.if_contains("args");
                        json::value a = args ? *args : json::value(json::object{});
                        json::value b = sent_args ? *sent_args : json::value(json::object{});
                        if (sent_call.at("name") == *name && a == b)
                            return invalid(
                                "Function call is missing a thought_signature in functionCall parts. This is "
                                "required for tools to work correctly, and missing thought_signature may "
                                "lead "
                                "to degraded model performance. Additional data, function call "
                                "`default_api:" +
                                std::string(name->get_string()) + "` , position " + std::to_string(i + 1) +
                                ". Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures "
                                "for more details.");
                    }
                }
            } else if (const auto* sig = field(part, "thoughtSignature", "thought_signature")) {
                std::lock_guard lock(mutex_);
                auto it = sig->is_string() ? signed_parts_.find(std::string(sig->get_string()))
                                           : signed_parts_.end();
                if (it == signed_parts_.end() || json::value(it->second) != pv)
                    return invalid("Unable to submit request because Thought signature is not valid. (" +
                                   ppath + ")");
            }
            if (const auto* response = field(part, "functionResponse", "function_response")) {
                if (role != "user")
                    return invalid("* GenerateContentRequest." + ppath +
                                   ".function_response: only allowed in a user turn");
                if (!response->is_object())
                    return invalid("Invalid value at '" + ppath + ".function_response'");
                const auto& r = response->get_object();
                for (const auto& [key, value] : r) {
                    (void)value;
                    if (!allowed(std::string(key), {"name", "response", "id", "willContinue", "scheduling"}))
                        return invalid(unknown_name(std::string(key), ppath + ".function_response"));
                }
                const auto* name = r.if_contains("name");
                if (!name || !name->is_string() || name->get_string().empty())
                    return invalid("* GenerateContentRequest." + ppath +
                                   ".function_response.name: Name cannot be empty.");
                const auto* body_value = r.if_contains("response");
                if (!body_value || !body_value->is_object())
                    return invalid("Invalid value at '" + ppath +
                                   ".function_response.response' "
                                   "(type.googleapis.com/google.protobuf.Struct)");
                std::string id;
                if (const auto* v = r.if_contains("id"); v && v->is_string()) id = v->get_string();
                responses.emplace_back(std::string(name->get_string()), id);
            }
        }
        if (!responses.empty()) {
            if (!previous_was_call_turn)
                return invalid(
                    "Please ensure that function response turn comes immediately after a function call "
                    "turn.");
            if (responses.size() != previous_calls.size())
                return invalid(
                    "Please ensure that the number of function response parts is equal to the number of "
                    "function call parts of the function call turn.");
            std::multiset<std::string> call_names, response_names;
            for (const auto& c : previous_calls) call_names.insert(c.first);
            for (const auto& r : responses) response_names.insert(r.first);
            if (call_names != response_names)
                return invalid("* GenerateContentRequest." + cpath +
                               ": the names of the function responses do not match the function calls of the "
                               "previous turn.");
            for (const auto& r : responses)
                if (!r.second.empty() && std::none_of(previous_calls.begin(), previous_calls.end(),
                                                      [&](const auto& c) { return c.second == r.second; }))
                    return invalid("* GenerateContentRequest." + cpath + ": function response id \"" +
                                   r.second + "\" answers no function call of the previous turn.");
        } else if (previous_was_call_turn) {
            return invalid(
                "Please ensure that function call turn comes immediately after a user turn or after a "
                "function response turn, and is followed by a function response turn.");
        }
        previous_was_call_turn = !calls.empty();
        previous_calls = std::move(calls);
    }
    (void)declared;
    return std::nullopt;
}

FakeGeminiScript FakeGemini::automatic(const json::object& body) const {
    std::vector<FakeTurnMessage> conversation;
    const auto& turns = body.at("contents").get_array();
    for (const auto& t : turns) {
        const auto& turn = t.get_object();
        const bool user = turn.at("role").get_string() == "user";
        std::string text;
        for (const auto& p : turn.at("parts").get_array()) {
            const auto& part = p.get_object();
            if (const auto* s = part.if_contains("text");
                s && !(part.contains("thought") && part.at("thought") == true))
                text += s->get_string();
            if (const auto* r = field(part, "functionResponse", "function_response")) {
                FakeTurnMessage m;
                m.role = "tool";
                m.tool_name = r->get_object().at("name").get_string();
                m.tool_result = r->get_object().at("response");
                conversation.push_back(std::move(m));
            }
        }
        if (!text.empty()) conversation.push_back({user ? "user" : "assistant", text, {}, nullptr});
    }
    std::vector<std::string> tool_names;
    if (const auto* tools = body.if_contains("tools"))
        for (const auto& tool : tools->get_array())
            if (const auto* decls = field(tool.get_object(), "functionDeclarations", "function_declarations"))
                for (const auto& d : decls->get_array())
                    tool_names.emplace_back(d.get_object().at("name").get_string());
    auto decision = fake_model_decide(conversation, tool_names);
    FakeGeminiScript script;
    script.text = decision.text;
    for (auto& [name, args] : decision.calls) script.calls.push_back({name, std::move(args), {}, {}});
    return script;
}

void FakeGemini::remember_signatures(const FakeGeminiScript& script) {
    std::lock_guard lock(mutex_);
    for (const auto& c : script.calls)
        if (!c.thought_signature.empty()) signed_parts_[c.thought_signature] = call_part(c);
}

void FakeGemini::handle(const RecordedRequest& request, FakeReply& reply) {
    static const std::regex route("/v1beta/models/([A-Za-z0-9._-]+):(generateContent|streamGenerateContent)");
    std::smatch match;
    if (!std::regex_match(request.path, match, route))
        return refuse(reply,
                      {404, "NOT_FOUND",
                       "Requested entity was not found. (" + request.method + " " + request.path + ")"});
    if (request.method != "POST")
        return refuse(reply, {404, "NOT_FOUND", "Method not found: " + request.method + " " + request.path});
    const bool streaming = match[2] == "streamGenerateContent";
    const bool sse = request.query.find("alt=sse") != std::string::npos;

    std::string key = request.header("x-goog-api-key");
    if (key.empty()) {
        static const std::regex key_param("(^|&)key=([^&]*)");
        std::smatch k;
        if (std::regex_search(request.query, k, key_param)) key = k[2];
    }
    if (key.empty())
        return refuse(reply,
                      {403, "PERMISSION_DENIED",
                       "Method doesn't allow unregistered callers (callers without established identity). "
                       "Please use API Key or other form of API consumer identity to call this API."});
    {
        std::lock_guard lock(mutex_);
        if (!required_key_.empty() && key != required_key_) {
            refusals_.push_back("400 API key not valid");
            reply.status(400);
            reply.content_type("application/json; charset=UTF-8");
            auto body =
                error_body(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.");
            body["error"].as_object()["details"] =
                json::array{json::object{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                         {"reason", "API_KEY_INVALID"},
                                         {"domain", "googleapis.com"}}};
            return reply.body(json::serialize(body));
        }
    }

    boost::system::error_code ec;
    json::value parsed = json::parse(request.body, ec);
    if (ec || !parsed.is_object())
        return refuse(reply, {400, "INVALID_ARGUMENT",
                              "Invalid JSON payload received. Unexpected token." +
                                  (ec ? " (" + ec.message() + ")" : std::string())});
    if (auto refusal = validate(parsed.get_object())) return refuse(reply, *refusal);

    FakeGeminiScript script;
    bool scripted = false;
    {
        std::lock_guard lock(mutex_);
        if (!scripts_.empty()) {
            script = std::move(scripts_.front());
            scripts_.pop_front();
            scripted = true;
        }
    }
    if (!scripted) {
        script = automatic(parsed.get_object());
        if (!script.calls.empty()) {
            std::lock_guard lock(mutex_);
            script.calls.front().thought_signature = "fake-signature-" + std::to_string(++signature_counter_);
        }
    }
    remember_signatures(script);
    if (script.stall.count() > 0 && !reply.stall(script.stall)) return;  // no one left to answer

    if (script.status < 200 || script.status >= 300) {
        reply.status(script.status);
        reply.content_type("application/json; charset=UTF-8");
        if (!script.raw_body.empty()) return reply.body(script.raw_body);
        return reply.body(json::serialize(
            error_body(script.status, script.error_status, script.error_message, script.retry_delay)));
    }

    if (!streaming) {
        reply.content_type("application/json; charset=UTF-8");
        std::string body = script.raw_body.empty()
                               ? json::serialize(whole_response(script, request.body.size()))
                               : script.raw_body;
        if (script.drop_mid_stream) {
            reply.chunk(body.substr(0, body.size() / 2));
            return reply.drop();
        }
        return reply.body(body);
    }

    std::vector<std::string> events;
    if (!script.raw_body.empty()) {
        events.push_back(script.raw_body);
    } else {
        for (const auto& chunk : stream_chunks(script, request.body.size()))
            events.push_back(json::serialize(chunk));
    }
    if (!sse) {  // without alt=sse Google streams one JSON array
        reply.content_type("application/json; charset=UTF-8");
        std::string body = "[";
        for (std::size_t i = 0; i < events.size(); ++i) body += (i ? ",\r\n" : "") + events[i];
        return reply.body(body + "]");
    }
    reply.content_type("text/event-stream");
    int released_before = 0;
    {
        std::lock_guard lock(mutex_);
        released_before = released_;
    }
    const std::size_t send =
        script.drop_mid_stream ? std::max<std::size_t>(1, events.size() - 1) : events.size();
    for (std::size_t i = 0; i < send; ++i) {
        if (i > 0 && script.event_gap.count() > 0) reply.pause(script.event_gap);
        if (i > 0 && script.lockstep) {
            std::unique_lock lock(mutex_);
            const int wanted = released_before + static_cast<int>(i);
            if (!released_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return released_ >= wanted; }))
                ++lockstep_timeouts_;
        }
        if (script.drop_mid_stream && events.size() == 1) {  // only one event: cut it in half
            reply.chunk(event(events[i]).substr(0, events[i].size() / 2));
            break;
        }
        reply.chunk(event(events[i]));
    }
    if (script.drop_mid_stream) return reply.drop();
}

}  // namespace tezgah::testing
