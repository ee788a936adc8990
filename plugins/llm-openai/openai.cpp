// llm-openai: OpenAI chat completions, and every server that speaks them (Together AI, Ollama,
// vLLM, llama.cpp's llama-server). One POST per model call, streamed as server-sent events when
// the host wants text as it comes; retries, the server's Retry-After and a circuit breaker per
// server and key through the SDK's llm helpers.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <tezgah/sdk/config.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/plugin.hpp>

#include "wire.hpp"

namespace tezgah::plugins::openai {
namespace {

using sdk::llm::Millis;

const char* const kToolChoices[] = {"auto", "none", "required", "omit", nullptr};

const sdk::ConfigKey kConfig[] = {
    {.name = "base_url",
     .type = sdk::ConfigType::url,
     .default_json = "\"https://api.openai.com/v1\"",
     .description = "The API root; /chat/completions is added. Ollama http://localhost:11434/v1, vLLM "
                    "http://localhost:8000/v1, llama-server http://localhost:8080/v1, Together AI "
                    "https://api.together.xyz/v1 (a trailing / is dropped)."},
    {.name = "api_key",
     .type = sdk::ConfigType::string,
     .description =
         "Sent as Authorization: Bearer. Write \"${TEZGAH_<TENANT>__OPENAI_API_KEY}\", never the key. "
         "Empty or absent: no Authorization header (local servers).",
     .secret = true},
    {.name = "model",
     .type = sdk::ConfigType::string,
     .required = true,
     .description = "The model name, e.g. gpt-4o-mini or qwen2.5:7b."},
    {.name = "timeout_ms",
     .type = sdk::ConfigType::integer,
     .default_json = "15000",
     .description =
         "Time limit of one attempt, a streamed answer included; the turn's deadline caps it further.",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(600000)},
    {.name = "max_retries",
     .type = sdk::ConfigType::integer,
     .default_json = "2",
     .description = "Retries after the first attempt on timeouts, 408, 429 and 5xx.",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(10)},
    {.name = "temperature",
     .type = sdk::ConfigType::number,
     .description = "Sampling temperature; the server's default when absent.",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(2)},
    {.name = "max_tokens",
     .type = sdk::ConfigType::integer,
     .description = "The most tokens of one answer; the server's default when absent.",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(10000000)},
    {.name = "tool_choice",
     .type = sdk::ConfigType::string,
     .default_json = "\"auto\"",
     .description = "Sent with the tools; omit: not sent (Ollama).",
     .allowed = kToolChoices},
    {.name = "stream_usage",
     .type = sdk::ConfigType::boolean,
     .default_json = "true",
     .description =
         "When streaming, ask for the usage chunk (stream_options.include_usage); false for servers that "
         "refuse it."},
    {.name = "headers",
     .type = sdk::ConfigType::object,
     .description =
         "Extra request headers, name to string value (e.g. OpenAI-Organization, OpenAI-Project)."},
    {.name = "breaker_failures",
     .type = sdk::ConfigType::integer,
     .default_json = "5",
     .description =
         "Consecutive failures (after retries) that open the circuit breaker of this server and key.",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(1000)},
    {.name = "breaker_cooldown_ms",
     .type = sdk::ConfigType::integer,
     .default_json = "30000",
     .description = "How long an open breaker refuses calls before letting one trial call through.",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(3600000)},
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
            return sdk::Error{"internal", redact(std::string("openai: ") + e.what(), settings_.api_key)};
        } catch (...) {
            return sdk::Error{"internal", "openai: unknown exception"};
        }
    }

    std::string model() const override { return settings_.model; }

private:
    sdk::Result<sdk::ProviderResponse> call(const sdk::ProviderRequest& request, sdk::StreamSink* sink) {
        // Records this call's outcome on the breaker once, and a failure if it ends without one (an
        // exception): a half-open breaker's trial call must always settle it.
        sdk::llm::BreakerCall breaker_call(*breaker_);
        if (!breaker_call.allowed())
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
                breaker_call.record(sdk::llm::breaker_outcome(result));
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
            breaker_call.record(sdk::llm::breaker_outcome(result));
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
                breaker_call.record(error->code == "bad_response" ? sdk::llm::CallOutcome::success
                                                                  : sdk::llm::CallOutcome::failure);
                return fail(*error, report);
            }
            if (!assembler.complete()) {
                breaker_call.record(sdk::llm::CallOutcome::failure);
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
        breaker_call.record(sdk::llm::CallOutcome::success);
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

/// The extra headers of `headers`: names and values a request can carry (the key table says only
/// that it is an object).
sdk::Status read_headers(const json::object* headers, std::vector<std::pair<std::string, std::string>>& out) {
    if (!headers) return {};
    for (const auto& [name, value] : *headers) {
        if (!value.is_string())
            return sdk::Error{"invalid_value", "headers." + std::string(name) + ": expected a string"};
        if (name.empty() || name.find_first_of(" :\r\n") != std::string_view::npos ||
            value.get_string().find_first_of("\r\n") != json::string::npos)
            return sdk::Error{"invalid_value", "headers: \"" + std::string(name) + "\": not a valid header"};
        out.emplace_back(std::string(name), std::string(value.get_string()));
    }
    return {};
}

/// Builds the provider from a config the host checked against kConfig (defaults filled).
sdk::Result<sdk::PluginPtr> make_openai(const json::object& config, sdk::HostServices& host) {
    const sdk::ConfigView c(config);
    Settings s;
    s.base_url = c.string("base_url");
    s.api_key = c.string("api_key");
    s.model = c.string("model");
    s.timeout_ms = static_cast<int>(c.integer("timeout_ms"));
    s.max_retries = static_cast<int>(c.integer("max_retries"));
    s.temperature = c.optional_number("temperature");
    s.max_tokens = c.optional_integer("max_tokens");
    s.tool_choice = c.string("tool_choice");
    s.stream_usage = c.boolean("stream_usage");
    s.breaker_failures = static_cast<int>(c.integer("breaker_failures"));
    s.breaker_cooldown_ms = static_cast<int>(c.integer("breaker_cooldown_ms"));
    if (auto status = read_headers(c.object("headers"), s.headers); !status) return status.error();
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
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

TEZGAH_LLM_PLUGIN("openai", "1.0.0",
                  "OpenAI chat completions and compatible servers (Together AI, Ollama, vLLM, llama.cpp)",
                  tezgah::plugins::openai::kConfig, &tezgah::plugins::openai::make_openai,
                  tezgah::sdk::kProviderStreams);
