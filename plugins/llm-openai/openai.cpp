// llm-openai: OpenAI chat completions, and every server that speaks them (Together AI, Ollama,
// vLLM, llama.cpp's llama-server). One POST per model call, streamed as server-sent events when
// the host wants text as it comes; retries, the server's Retry-After and a circuit breaker per
// server and key through the SDK's llm helpers.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/plugin.hpp>

#include "wire.hpp"

namespace tezgah::plugins::openai {
namespace {

using sdk::llm::Millis;

const sdk::ConfigKey kConfig[] = {
    {"base_url", sdk::ConfigType::string, false, "\"https://api.openai.com/v1\"",
     "The API root; /chat/completions is added. Ollama http://localhost:11434/v1, vLLM "
     "http://localhost:8000/v1, llama-server http://localhost:8080/v1, Together AI "
     "https://api.together.xyz/v1."},
    {"api_key", sdk::ConfigType::string, false, nullptr,
     "Sent as Authorization: Bearer. Write \"${OPENAI_API_KEY}\", never the key. Empty or absent: no "
     "Authorization header (local servers)."},
    {"model", sdk::ConfigType::string, true, nullptr, "The model name, e.g. gpt-4o-mini or qwen2.5:7b."},
    {"timeout_ms", sdk::ConfigType::integer, false, "15000",
     "Time limit of one attempt, a streamed answer included; the turn's deadline caps it further."},
    {"max_retries", sdk::ConfigType::integer, false, "2",
     "Retries after the first attempt on timeouts, 408, 429 and 5xx (0 to 10)."},
    {"temperature", sdk::ConfigType::number, false, nullptr,
     "Sampling temperature, 0 to 2; the server's default when absent."},
    {"max_tokens", sdk::ConfigType::integer, false, nullptr,
     "The most tokens of one answer; the server's default when absent."},
    {"tool_choice", sdk::ConfigType::string, false, "\"auto\"",
     "auto, none or required, sent with the tools; omit: not sent (Ollama)."},
    {"stream_usage", sdk::ConfigType::boolean, false, "true",
     "When streaming, ask for the usage chunk (stream_options.include_usage); false for servers that refuse "
     "it."},
    {"headers", sdk::ConfigType::object, false, nullptr,
     "Extra request headers, name to string value (e.g. OpenAI-Organization)."},
    {"breaker_failures", sdk::ConfigType::integer, false, "5",
     "Consecutive failures (after retries) that open the circuit breaker of this server and key."},
    {"breaker_cooldown_ms", sdk::ConfigType::integer, false, "30000",
     "How long an open breaker refuses calls before letting one trial call through."},
};

/// Hands a streamed body to the caller only once it is server-sent events. A server that ignored
/// `stream: true` answers one JSON object: it is kept whole and read as a plain answer (`passed()`
/// says which). The host never streams an error's body, so errors need no gate.
class EventStreamGate final : public sdk::HttpClient {
public:
    explicit EventStreamGate(sdk::HttpClient& inner) : inner_(inner) {}

    sdk::Result<sdk::HttpResponse> send(const sdk::OutboundRequest& request) override {
        passed_ = false;
        if (!request.on_chunk) return inner_.send(request);
        std::string held;
        bool decided = false;
        sdk::OutboundRequest gated = request;
        gated.on_chunk = [&](std::string_view chunk) {
            if (passed_) {
                request.on_chunk(chunk);
                return;
            }
            held.append(chunk);
            if (!decided) {
                auto start = held.find_first_not_of(" \t\r\n");
                if (start == std::string::npos || held.size() - start < 7) return;  // "retry:" + 1
                decided = true;
                passed_ = looks_like_event_stream(held);
            }
            if (passed_) {
                request.on_chunk(held);
                held.clear();
            }
        };
        auto result = inner_.send(gated);
        if (result && !passed_ && result->body.empty()) result->body = std::move(held);
        return result;
    }

    /// Whether the last attempt's body went to the caller's on_chunk.
    bool passed() const { return passed_; }

private:
    sdk::HttpClient& inner_;
    bool passed_ = false;
};

bool breaker_counts(int status) {
    return status == 401 || status == 403 || status == 408 || status == 429 || status >= 500;
}

class OpenAiProvider final : public sdk::LlmProvider {
public:
    OpenAiProvider(sdk::HostServices& host, Settings settings)
        : host_(host),
          settings_(std::move(settings)),
          breaker_(sdk::llm::circuit_breaker(
              "openai|" + settings_.base_url + "|" + sdk::llm::fingerprint(settings_.api_key),
              settings_.breaker_failures, Millis(settings_.breaker_cooldown_ms))) {}

    sdk::Result<sdk::ProviderResponse> complete(const sdk::ProviderRequest& request,
                                                sdk::StreamSink* sink) override {
        try {
            return call(request, sink);
        } catch (const std::exception& e) {
            breaker_->record_failure();  // never leave a half-open breaker's trial call unanswered
            return sdk::Error{"internal", redact(std::string("openai: ") + e.what(), settings_.api_key)};
        } catch (...) {
            breaker_->record_failure();
            return sdk::Error{"internal", "openai: unknown exception"};
        }
    }

private:
    sdk::Result<sdk::ProviderResponse> call(const sdk::ProviderRequest& request, sdk::StreamSink* sink) {
        if (!breaker_->allow())
            return sdk::Error{"circuit_open",
                              "openai: circuit breaker open for " + settings_.base_url +
                                  " after repeated failures; calls paused for up to " +
                                  std::to_string((settings_.breaker_cooldown_ms + 999) / 1000) + " s"};
        const bool stream = sink != nullptr;
        sdk::OutboundRequest out;
        out.method = "POST";
        out.url = settings_.base_url + "/chat/completions";
        out.headers = {{"Content-Type", "application/json"},
                       {"Accept", stream ? "text/event-stream" : "application/json"},
                       {"User-Agent", "tezgah-llm-openai/1.0"}};
        if (!settings_.api_key.empty())
            out.headers.emplace_back("Authorization", "Bearer " + settings_.api_key);
        for (const auto& header : settings_.headers) out.headers.push_back(header);
        out.body = sdk::json_text(request_body(settings_, request, stream));
        out.timeout_ms = settings_.timeout_ms;

        StreamAssembler assembler(sink, settings_.api_key);
        if (stream) out.on_chunk = [&assembler](std::string_view chunk) { assembler.feed(chunk); };

        sdk::llm::RetryPolicy policy;
        policy.max_attempts = settings_.max_retries + 1;
        const auto deadline =
            sdk::llm::deadline_of(request, Millis(settings_.timeout_ms) * policy.max_attempts +
                                               policy.max_delay * settings_.max_retries);
        EventStreamGate gate(host_.http());
        sdk::llm::RetryReport report;
        auto result =
            sdk::llm::send_with_retries(gate, std::move(out), policy, deadline, retry_after_ms, &report);

        const bool streamed = stream && gate.passed();
        if (streamed) assembler.finish();
        if (!result) {
            // Some servers close the connection without ending the chunked body after [DONE].
            if (!(streamed && assembler.complete() && !assembler.error())) {
                // The customer leaving, or the turn's deadline, says nothing about the server.
                const auto& code = result.error().code;
                if (code == "cancelled" || code == "deadline_exceeded")
                    breaker_->record_abandoned();
                else
                    breaker_->record_failure();
                auto error = result.error();
                if (streamed && assembler.started())
                    error.message = "openai: stream ended early, after " +
                                    std::to_string(assembler.text_bytes()) + " bytes of text (" +
                                    error.message + ")";
                else
                    error.message = "openai: " + error.message;
                return fail(std::move(error), report);
            }
        } else if (result->status < 200 || result->status >= 300) {
            if (breaker_counts(result->status))
                breaker_->record_failure();
            else
                breaker_->record_success();  // the server is up; it refused this request
            return fail(error_from_response(*result, settings_.api_key), report);
        }

        sdk::Result<Answer> answer = sdk::Error{"bad_response", "openai: no answer"};
        if (streamed || (stream && looks_like_event_stream(result->body))) {
            if (!streamed) {
                assembler.feed(result->body);
                assembler.finish();
            }
            if (const auto& error = assembler.error()) {
                // An error event is the server failing; a chunk it garbled is counted like a 2xx.
                if (error->code == "bad_response")
                    breaker_->record_success();
                else
                    breaker_->record_failure();
                return fail(*error, report);
            }
            if (!assembler.complete()) {
                breaker_->record_failure();
                return fail(sdk::Error{"unavailable",
                                       "openai: stream ended early: no finish_reason and no [DONE] after " +
                                           std::to_string(assembler.text_bytes()) + " bytes of text"},
                            report);
            }
            answer = assembler.answer();
        } else {
            // Not streamed: answered whole (a server that ignores `stream: true`) or not asked to.
            answer = parse_completion(result->body, settings_.api_key);
            if (answer && sink && !answer->response.text.empty()) sink->on_text(answer->response.text);
        }
        breaker_->record_success();
        if (!answer) return fail(answer.error(), report);

        auto response = std::move(answer->response);
        if (!answer->has_usage) {
            response.usage.input_tokens = sdk::llm::estimate_tokens(request);
            std::int64_t output = sdk::llm::estimate_tokens(response.text);
            for (const auto& c : response.tool_calls)
                output += sdk::llm::estimate_tokens(c.name) +
                          sdk::llm::estimate_tokens(json::serialize(c.arguments));
            response.usage.output_tokens = output;
            response.usage.estimated = true;
        }
        const bool used_tools = std::any_of(request.messages.begin(), request.messages.end(),
                                            [](const sdk::Message& m) { return m.role == sdk::Role::tool; });
        response.confidence = sdk::llm::estimate_confidence(response.text, answer->finish_reason, used_tools);
        response.method = "llm";
        return response;
    }

    sdk::Error fail(sdk::Error error, const sdk::llm::RetryReport& report) {
        error.message = redact(std::move(error.message), settings_.api_key);
        host_.logger().warn(error.message + " [" + error.code + ", " + std::to_string(report.attempts) +
                            (report.attempts == 1 ? " attempt]" : " attempts]"));
        return error;
    }

    sdk::HostServices& host_;
    Settings settings_;
    std::shared_ptr<sdk::llm::CircuitBreaker> breaker_;
};

/// Reads a tenant's config; the first problem names the key.
class ConfigReader {
public:
    explicit ConfigReader(const json::object& config) : config_(config) {}

    void string(const char* key, std::string& out) {
        if (const auto* v = present(key)) {
            if (v->is_string())
                out = std::string(v->get_string());
            else
                problem(key, "expected a string");
        }
    }
    void integer(const char* key, int& out, std::int64_t min, std::int64_t max) {
        std::optional<std::int64_t> value;
        integer(key, value, min, max);
        if (value) out = static_cast<int>(*value);
    }
    void integer(const char* key, std::optional<std::int64_t>& out, std::int64_t min, std::int64_t max) {
        const auto* v = present(key);
        if (!v) return;
        std::optional<std::int64_t> n;
        if (v->is_int64()) n = v->get_int64();
        if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max))
            n = static_cast<std::int64_t>(v->get_uint64());
        if (v->is_double() && std::isfinite(v->get_double()) &&
            v->get_double() == std::floor(v->get_double()) && std::abs(v->get_double()) < 1e15)
            n = static_cast<std::int64_t>(v->get_double());
        if (!n || *n < min || *n > max)
            problem(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
        else
            out = n;
    }
    void number(const char* key, std::optional<double>& out, double min, double max) {
        const auto* v = present(key);
        if (!v) return;
        if (!v->is_number() || v->to_number<double>() < min || v->to_number<double>() > max) {
            problem(key, "expected a number from " + std::to_string(static_cast<int>(min)) + " to " +
                             std::to_string(static_cast<int>(max)));
            return;
        }
        out = v->to_number<double>();
    }
    void boolean(const char* key, bool& out) {
        if (const auto* v = present(key)) {
            if (v->is_bool())
                out = v->get_bool();
            else
                problem(key, "expected true or false");
        }
    }
    void headers(const char* key, std::vector<std::pair<std::string, std::string>>& out) {
        const auto* v = present(key);
        if (!v) return;
        if (!v->is_object()) return problem(key, "expected an object of header names to strings");
        for (const auto& [name, value] : v->get_object()) {
            if (!value.is_string()) return problem(key, std::string(name) + ": expected a string");
            if (name.empty() || name.find_first_of(" :\r\n") != std::string_view::npos ||
                value.get_string().find_first_of("\r\n") != json::string::npos)
                return problem(key, "\"" + std::string(name) + "\": not a valid header");
            out.emplace_back(std::string(name), std::string(value.get_string()));
        }
    }
    void problem(const std::string& key, const std::string& what) {
        if (!error_) error_ = sdk::Error{"invalid_value", key + ": " + what};
    }
    const std::optional<sdk::Error>& error() const { return error_; }

private:
    const json::value* present(const char* key) const {
        const auto* v = config_.if_contains(key);
        return v && !v->is_null() ? v : nullptr;
    }
    const json::object& config_;
    std::optional<sdk::Error> error_;
};

sdk::Result<sdk::PluginPtr> make_openai(const json::object& config, sdk::HostServices& host) {
    Settings s;
    s.base_url = "https://api.openai.com/v1";
    ConfigReader read(config);
    read.string("base_url", s.base_url);
    read.string("api_key", s.api_key);
    read.string("model", s.model);
    read.integer("timeout_ms", s.timeout_ms, 1, 600000);
    read.integer("max_retries", s.max_retries, 0, 10);
    read.number("temperature", s.temperature, 0, 2);
    read.integer("max_tokens", s.max_tokens, 1, 10000000);
    read.string("tool_choice", s.tool_choice);
    read.boolean("stream_usage", s.stream_usage);
    read.headers("headers", s.headers);
    read.integer("breaker_failures", s.breaker_failures, 1, 1000);
    read.integer("breaker_cooldown_ms", s.breaker_cooldown_ms, 0, 3600000);
    if (s.model.empty()) read.problem("model", "required (the model name, e.g. gpt-4o-mini)");
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
        read.problem("base_url", "expected an http:// or https:// URL");
    if (s.tool_choice != "auto" && s.tool_choice != "none" && s.tool_choice != "required" &&
        s.tool_choice != "omit")
        read.problem("tool_choice", "expected auto, none, required or omit");
    if (read.error()) return *read.error();
    if (!s.api_key.empty())  // the key's own header wins over one in `headers`
        std::erase_if(s.headers, [](const auto& h) {
            std::string lower = h.first;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return std::tolower(c); });
            return lower == "authorization";
        });
    return sdk::PluginPtr(std::make_unique<OpenAiProvider>(host, std::move(s)));
}

}  // namespace
}  // namespace tezgah::plugins::openai

TEZGAH_PLUGIN("openai", llm, "1.0.0",
              "OpenAI chat completions and compatible servers (Together AI, Ollama, vLLM, llama.cpp)",
              tezgah::plugins::openai::kConfig, &tezgah::plugins::openai::make_openai);
