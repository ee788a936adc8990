#include "wire.hpp"

#include "schema.hpp"

#include <tezgah/sdk/json_text.hpp>

#include <algorithm>

namespace tezgah::plugins::gemini {

// --- turn memory ---

void TurnMemory::remember(const std::string& first_call_id, json::object content) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = turns_.insert_or_assign(first_call_id, std::move(content));
    (void)it;
    if (!inserted) return;
    order_.push_back(first_call_id);
    while (order_.size() > capacity_) {
        turns_.erase(order_.front());
        order_.pop_front();
    }
}

std::optional<json::object> TurnMemory::recall(const std::string& first_call_id) const {
    std::lock_guard lock(mutex_);
    auto it = turns_.find(first_call_id);
    if (it == turns_.end()) return std::nullopt;
    return it->second;
}

std::size_t TurnMemory::size() const {
    std::lock_guard lock(mutex_);
    return turns_.size();
}

// --- request ---

namespace {

json::object text_part(std::string_view text) { return json::object{{"text", text}}; }

/// The `response` object of a functionResponse: Gemini wants an object.
json::object response_object(const sdk::ToolResult& result) {
    if (!result.ok) return json::object{{"error", result.error.empty() ? "the tool failed" : result.error}};
    if (result.content.is_object()) return result.content.get_object();
    return json::object{{"result", result.content}};
}

/// Function calls of a model content: (name, id or empty), in order.
std::vector<std::pair<std::string, std::string>> calls_of(const json::object& content) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto* parts = content.if_contains("parts");
    if (!parts || !parts->is_array()) return out;
    for (const auto& part : parts->get_array()) {
        if (!part.is_object()) continue;
        const auto* call = part.get_object().if_contains("functionCall");
        if (!call || !call->is_object()) continue;
        const auto& c = call->get_object();
        std::string name, id;
        if (const auto* n = c.if_contains("name"); n && n->is_string()) name = n->get_string();
        if (const auto* i = c.if_contains("id"); i && i->is_string()) id = i->get_string();
        out.emplace_back(std::move(name), std::move(id));
    }
    return out;
}

bool is_model_turn(const json::value& content) {
    if (!content.is_object()) return false;
    const auto* role = content.get_object().if_contains("role");
    return role && role->is_string() && role->get_string() == "model";
}

}  // namespace

json::object build_request_body(const sdk::ProviderRequest& request, const GenerationSettings& settings,
                                const TurnMemory& memory) {
    json::object body;

    std::string system = request.system_prompt;
    for (const auto& m : request.messages)
        if (m.role == sdk::Role::system && !m.text.empty()) system += (system.empty() ? "" : "\n\n") + m.text;
    if (!system.empty()) body["systemInstruction"] = json::object{{"parts", json::array{text_part(system)}}};

    json::array contents;
    const auto& messages = request.messages;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        switch (m.role) {
            case sdk::Role::system:
                break;
            case sdk::Role::user:
                if (!m.text.empty())
                    contents.push_back(
                        json::object{{"role", "user"}, {"parts", json::array{text_part(m.text)}}});
                break;
            case sdk::Role::assistant: {
                if (!m.tool_calls.empty()) {
                    if (auto stored = memory.recall(m.tool_calls.front().id)) {
                        if (!stored->contains("role")) (*stored)["role"] = "model";
                        contents.push_back(std::move(*stored));
                        break;
                    }
                }
                json::array parts;
                if (!m.text.empty()) parts.push_back(text_part(m.text));
                // Rebuilt from the ToolCalls: our generated ids are never sent to Gemini.
                for (const auto& call : m.tool_calls)
                    parts.push_back(json::object{
                        {"functionCall", json::object{{"name", call.name}, {"args", call.arguments}}}});
                if (!parts.empty())
                    contents.push_back(json::object{{"role", "model"}, {"parts", std::move(parts)}});
                break;
            }
            case sdk::Role::tool: {
                // Consecutive tool results answer one model turn: one user turn of functionResponse parts.
                std::size_t end = i;
                while (end < messages.size() && messages[end].role == sdk::Role::tool) ++end;
                const sdk::Message* caller = nullptr;  // the assistant message that made the calls
                for (std::size_t k = i; k-- > 0;)
                    if (messages[k].role == sdk::Role::assistant) {
                        caller = &messages[k];
                        break;
                    }
                std::vector<std::pair<std::string, std::string>> model_calls;
                if (!contents.empty() && is_model_turn(contents.back()))
                    model_calls = calls_of(contents.back().get_object());
                json::array parts;
                for (std::size_t k = i; k < end; ++k) {
                    const auto& tm = messages[k];
                    sdk::ToolResult result;
                    if (tm.tool_result) {
                        result = *tm.tool_result;
                    } else {
                        result.ok = true;
                        result.content = json::string(tm.text);
                    }
                    std::string name = result.name;
                    const std::size_t position = k - i;
                    if (name.empty() && caller) {
                        for (const auto& c : caller->tool_calls)
                            if (c.id == result.call_id) name = c.name;
                        if (name.empty() && position < caller->tool_calls.size())
                            name = caller->tool_calls[position].name;
                    }
                    if (name.empty() && position < model_calls.size()) name = model_calls[position].first;
                    if (model_calls.empty()) {
                        // No function call turn to answer (a history cut short): Gemini would refuse
                        // a functionResponse here, so the result goes as text.
                        parts.push_back(
                            text_part("Result of " + name + ": " + sdk::json_text(response_object(result))));
                        continue;
                    }
                    json::object response{{"name", name}, {"response", response_object(result)}};
                    // Echo the call's id only when Gemini gave one (ours never go out).
                    for (const auto& [call_name, call_id] : model_calls)
                        if (!call_id.empty() && call_id == result.call_id) {
                            response["id"] = call_id;
                            break;
                        }
                    parts.push_back(json::object{{"functionResponse", std::move(response)}});
                }
                if (!parts.empty())
                    contents.push_back(json::object{{"role", "user"}, {"parts", std::move(parts)}});
                i = end - 1;
                break;
            }
        }
    }
    body["contents"] = std::move(contents);

    json::object generation;
    if (settings.temperature) generation["temperature"] = *settings.temperature;
    if (settings.max_output_tokens) generation["maxOutputTokens"] = *settings.max_output_tokens;
    if (!generation.empty()) body["generationConfig"] = std::move(generation);

    if (!request.tools.empty()) {
        json::array declarations;
        for (const auto& tool : request.tools) {
            json::object d{{"name", tool.name}, {"description", tool.description}};
            json::object parameters = to_gemini_schema(tool.parameters);
            if (has_properties(parameters)) d["parameters"] = std::move(parameters);
            declarations.push_back(std::move(d));
        }
        body["tools"] = json::array{json::object{{"functionDeclarations", std::move(declarations)}}};
        body["toolConfig"] = json::object{{"functionCallingConfig", json::object{{"mode", "AUTO"}}}};
    }
    return body;
}

// --- response ---

namespace {

sdk::Error shape_error(std::string_view what) {
    return sdk::Error{"bad_response", "gemini: unexpected response: " + std::string(what)};
}

std::optional<std::int64_t> count_of(const json::object& usage, const char* key) {
    const auto* v = usage.if_contains(key);
    if (!v) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
    return std::nullopt;
}

}  // namespace

sdk::Result<std::string> ResponseReader::add(const json::value& chunk) {
    if (!chunk.is_object()) return shape_error("not a JSON object");
    const auto& o = chunk.get_object();
    ++chunks_;
    std::string added;
    if (const auto* feedback = o.if_contains("promptFeedback"); feedback && feedback->is_object())
        if (const auto* reason = feedback->get_object().if_contains("blockReason");
            reason && reason->is_string())
            block_reason_ = reason->get_string();
    if (const auto* usage = o.if_contains("usageMetadata")) {
        if (!usage->is_object()) return shape_error("usageMetadata is not an object");
        usage_ = usage->get_object();
    }
    const auto* candidates = o.if_contains("candidates");
    if (!candidates || candidates->is_null()) return added;
    if (!candidates->is_array()) return shape_error("candidates is not an array");
    if (candidates->get_array().empty()) return added;
    const auto& first = candidates->get_array().front();
    if (!first.is_object()) return shape_error("candidates[0] is not an object");
    const auto& candidate = first.get_object();
    any_candidate_ = true;
    if (const auto* reason = candidate.if_contains("finishReason"); reason && reason->is_string())
        finish_reason_ = reason->get_string();
    const auto* content = candidate.if_contains("content");
    if (!content || content->is_null()) return added;
    if (!content->is_object()) return shape_error("candidates[0].content is not an object");
    const auto* parts = content->get_object().if_contains("parts");
    if (parts && !parts->is_null() && !parts->is_array())
        return shape_error("candidates[0].content.parts is not an array");
    // Kept whole when the turn came in one piece, so it goes back exactly as it was sent.
    if (++content_chunks_ == 1)
        content_ = content->get_object();
    else
        content_.reset();
    if (!parts || parts->is_null()) return added;
    for (const auto& part : parts->get_array()) {
        if (!part.is_object()) return shape_error("a part is not an object");
        const auto& p = part.get_object();
        if (const auto* call = p.if_contains("functionCall")) {
            if (!call->is_object()) return shape_error("functionCall is not an object");
            const auto* name = call->get_object().if_contains("name");
            if (!name || !name->is_string() || name->get_string().empty())
                return shape_error("functionCall without a name");
        }
        parts_.push_back(part);
        const auto* text = p.if_contains("text");
        const auto* thought = p.if_contains("thought");
        bool is_thought = thought && thought->is_bool() && thought->get_bool();
        if (text && text->is_string() && !is_thought) added.append(text->get_string());
    }
    text_ += added;
    return added;
}

sdk::Result<sdk::ProviderResponse> ResponseReader::finish(const sdk::ProviderRequest& request,
                                                          const std::function<std::string()>& new_id,
                                                          TurnMemory& memory) const {
    if (!block_reason_.empty())
        return sdk::Error{"bad_response", "gemini: the prompt was blocked (promptFeedback.blockReason " +
                                              block_reason_ + ")"};
    if (!any_candidate_) return sdk::Error{"bad_response", "gemini: the response has no candidates"};

    sdk::ProviderResponse out;
    out.method = "llm";
    out.text = text_;
    for (const auto& part : parts_) {
        const auto* call = part.get_object().if_contains("functionCall");
        if (!call) continue;
        const auto& c = call->get_object();
        sdk::ToolCall tc;
        tc.name = c.at("name").get_string();
        if (const auto* id = c.if_contains("id"); id && id->is_string() && !id->get_string().empty())
            tc.id = id->get_string();
        else
            tc.id = new_id();
        const auto* args = c.if_contains("args");
        if (!args || args->is_null())
            tc.arguments = {};
        else if (args->is_object())
            tc.arguments = args->get_object();
        else
            tc.arguments = json::object{{sdk::llm::kInvalidArguments, sdk::json_text(*args)}};
        out.tool_calls.push_back(std::move(tc));
    }
    if (!out.tool_calls.empty()) {
        json::object content;
        if (content_) {
            content = *content_;
        } else {
            content["parts"] = parts_;
            content["role"] = "model";
        }
        if (!content.contains("role")) content["role"] = "model";
        memory.remember(out.tool_calls.front().id, std::move(content));
    }

    std::optional<std::int64_t> input, output, thoughts;
    if (usage_) {
        input = count_of(*usage_, "promptTokenCount");
        output = count_of(*usage_, "candidatesTokenCount");
        thoughts = count_of(*usage_, "thoughtsTokenCount");
    }
    if (input) {
        out.usage.input_tokens = *input;
    } else {
        out.usage.input_tokens = sdk::llm::estimate_tokens(request);
        out.usage.estimated = true;
    }
    if (output || thoughts) {
        out.usage.output_tokens = output.value_or(0) + thoughts.value_or(0);
    } else {
        std::int64_t n = sdk::llm::estimate_tokens(text_);
        for (const auto& call : out.tool_calls)
            n += sdk::llm::estimate_tokens(call.name) +
                 sdk::llm::estimate_tokens(json::serialize(call.arguments));
        out.usage.output_tokens = n;
        out.usage.estimated = true;
    }

    bool used_tools = std::any_of(request.messages.begin(), request.messages.end(),
                                  [](const sdk::Message& m) { return m.tool_result.has_value(); });
    out.confidence = sdk::llm::estimate_confidence(out.text, finish_reason_, used_tools);
    return out;
}

// --- errors ---

std::optional<GoogleError> parse_google_error(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* e = v.get_object().if_contains("error");
    if (!e || !e->is_object()) return std::nullopt;
    const auto& error = e->get_object();
    GoogleError out;
    if (const auto* c = error.if_contains("code"); c && c->is_int64())
        out.code = static_cast<int>(c->get_int64());
    if (const auto* s = error.if_contains("status"); s && s->is_string()) out.status = s->get_string();
    if (const auto* m = error.if_contains("message"); m && m->is_string()) out.message = m->get_string();
    if (const auto* details = error.if_contains("details"); details && details->is_array()) {
        for (const auto& d : details->get_array()) {
            if (!d.is_object()) continue;
            const auto* type = d.get_object().if_contains("@type");
            const auto* delay = d.get_object().if_contains("retryDelay");
            if (type && type->is_string() &&
                type->get_string() == "type.googleapis.com/google.rpc.RetryInfo" && delay &&
                delay->is_string())
                out.retry_delay = sdk::llm::parse_duration(delay->get_string());
        }
    }
    return out;
}

}  // namespace tezgah::plugins::gemini
