// The `gemini` llm plugin: Google's Gemini through the generativelanguage v1beta REST API, with
// function calling, streaming (server-sent events), retries that honour Google's RetryInfo and the
// turn's deadline, and a circuit breaker per base URL and key.
#include "schema.hpp"
#include "wire.hpp"

#include <tezgah/sdk/config.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/random.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace tezgah::plugins::gemini {

namespace {

namespace llm = sdk::llm;
using sdk::random_hex;
using sdk::Result;

const sdk::ConfigKey kConfig[] = {
    {.name = "api_key",
     .type = sdk::ConfigType::string,
     .required = true,
     .description =
         "The Gemini API key, sent in the x-goog-api-key header. Use \"${TEZGAH_<TENANT>__GEMINI_API_KEY}\" "
         "to read it from the environment.",
     .secret = true},
    {.name = "model",
     .type = sdk::ConfigType::string,
     .default_json = "\"gemini-2.0-flash\"",
     .description = "The model, e.g. gemini-2.0-flash or gemini-2.5-flash (a leading models/ is accepted)."},
    {.name = "base_url",
     .type = sdk::ConfigType::url,
     .default_json = "\"https://generativelanguage.googleapis.com\"",
     .description = "Where the API lives; /v1beta/models/{model}:generateContent is appended."},
    {.name = "timeout_ms",
     .type = sdk::ConfigType::integer,
     .default_json = "15000",
     .description =
         "Time for one call, retries included, when the turn sets no deadline; also each attempt's timeout.",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(600000)},
    {.name = "max_retries",
     .type = sdk::ConfigType::integer,
     .default_json = "2",
     .description =
         "Retries after the first attempt on timeouts, 429 and 5xx (3 attempts in all by default).",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(10)},
    {.name = "temperature",
     .type = sdk::ConfigType::number,
     .description = "generationConfig.temperature; the model's default when absent.",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(2)},
    {.name = "max_output_tokens",
     .type = sdk::ConfigType::integer,
     .description = "generationConfig.maxOutputTokens; the model's default when absent.",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(1000000)},
    {.name = "breaker_failures",
     .type = sdk::ConfigType::integer,
     .default_json = "5",
     .description = "Consecutive failures that open the circuit breaker (calls refused at once, so the "
                    "fallback answers).",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(1000)},
    {.name = "breaker_cooldown_ms",
     .type = sdk::ConfigType::integer,
     .default_json = "30000",
     .description = "How long an open breaker refuses calls before it lets one trial call through.",
     .minimum = sdk::bound(0),
     .maximum = sdk::bound(86400000)},
};

struct Settings {
    std::string api_key;
    std::string model;
    std::string base_url;
    int timeout_ms = 15000;
    int max_retries = 2;
    GenerationSettings generation;
    int breaker_failures = 5;
    int breaker_cooldown_ms = 30000;
};

/// The settings of a config the host checked against kConfig (defaults filled); only what the
/// key table cannot say is checked here.
Result<Settings> read_settings(const json::object& config) {
    const sdk::ConfigView c(config);
    Settings s;
    s.api_key = c.string("api_key");
    s.model = c.string("model");
    if (s.model.rfind("models/", 0) == 0) s.model.erase(0, 7);
    if (s.model.empty() || s.model.find_first_of("/?#: ") != std::string::npos)
        return sdk::Error{"invalid_value", "model: expected a model name such as gemini-2.0-flash, got \"" +
                                               c.string("model") + "\""};
    s.base_url = c.string("base_url");
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    s.timeout_ms = static_cast<int>(c.integer("timeout_ms"));
    s.max_retries = static_cast<int>(c.integer("max_retries"));
    s.generation.temperature = c.optional_number("temperature");
    s.generation.max_output_tokens = c.optional_integer("max_output_tokens");
    s.breaker_failures = static_cast<int>(c.integer("breaker_failures"));
    s.breaker_cooldown_ms = static_cast<int>(c.integer("breaker_cooldown_ms"));
    return s;
}

class GeminiProvider final : public sdk::LlmProvider {
public:
    GeminiProvider(sdk::HostServices& host, Settings settings)
        : host_(host),
          settings_(std::move(settings)),
          breaker_(
              llm::circuit_breaker("gemini|" + settings_.base_url + "|" + llm::fingerprint(settings_.api_key),
                                   settings_.breaker_failures, llm::Millis(settings_.breaker_cooldown_ms))),
          instance_tag_(random_hex(4)) {}

    Result<sdk::ProviderResponse> complete(const sdk::ProviderRequest& request,
                                           sdk::StreamSink* sink) override {
        try {
            return call(request, sink);
        } catch (const std::exception& e) {
            return sdk::Error{"internal", llm::redact(std::string("gemini: ") + e.what(), settings_.api_key)};
        } catch (...) {
            return sdk::Error{"internal", "gemini: unknown failure"};
        }
    }

    std::string model() const override { return settings_.model; }

private:
    Result<sdk::ProviderResponse> call(const sdk::ProviderRequest& request, sdk::StreamSink* sink) {
        json::object body = build_request_body(request, settings_.generation, memory_);
        if (body.at("contents").as_array().empty())
            return fail(sdk::Error{"bad_request", "gemini: the request has no message to send"});

        // Records this call's outcome on the breaker once, and a failure if it ends without one (an
        // exception): a half-open breaker's trial call must always settle it.
        llm::BreakerCall breaker_call(*breaker_);
        if (!breaker_call.allowed())
            return sdk::Error{"circuit_open", "gemini: circuit open after repeated failures at " +
                                                  settings_.base_url + "; not calling it for now"};

        sdk::OutboundRequest out;
        out.method = "POST";
        out.url = settings_.base_url + "/v1beta/models/" + settings_.model +
                  (sink ? ":streamGenerateContent?alt=sse" : ":generateContent");
        out.headers = {{"x-goog-api-key", settings_.api_key}, {"Content-Type", "application/json"}};
        if (sink) out.headers.emplace_back("Accept", "text/event-stream");
        out.body = sdk::json_text(body);
        out.timeout_ms = settings_.timeout_ms;

        ResponseReader reader;
        llm::SseParser parser;
        std::optional<sdk::Error> stream_error;
        std::size_t events = 0;
        auto on_event = [&](const llm::SseEvent& event) {
            if (stream_error) return;
            ++events;
            boost::system::error_code ec;
            json::value chunk = json::parse(event.data, ec);
            if (ec) {
                stream_error = sdk::Error{"bad_response", "gemini: malformed JSON in stream event " +
                                                              std::to_string(events) + ": " + ec.message()};
                return;
            }
            if (chunk.is_object() && chunk.get_object().contains("error")) {
                auto google = parse_google_error(event.data);
                stream_error = sdk::Error{
                    "unavailable", "gemini: error in the stream: " +
                                       (google ? google->status + ": " + google->message : event.data)};
                return;
            }
            auto delta = reader.add(chunk);
            if (!delta) {
                stream_error = delta.error();
                return;
            }
            if (!delta->empty()) sink->on_text(*delta);
        };
        if (sink) out.on_chunk = [&](std::string_view bytes) { parser.feed(bytes, on_event); };

        llm::RetryPolicy policy;
        policy.max_attempts = settings_.max_retries + 1;
        const auto deadline = llm::deadline_of(request, llm::Millis(settings_.timeout_ms));
        auto server_delay = [](const sdk::HttpResponse& response) -> std::optional<llm::Millis> {
            auto error = parse_google_error(response.body);
            return error ? error->retry_delay : std::nullopt;
        };
        llm::RetryReport report;
        // The host streams only a successful body to on_chunk: an error's JSON comes back whole,
        // and a 429 or 503 on a streamed call is still retried.
        auto result = llm::send_with_retries(host_.http(), out, policy, deadline, server_delay, &report);

        if (!result) {
            const auto& error = result.error();
            breaker_call.record(llm::breaker_outcome(result));
            return fail(sdk::Error{error.code, "gemini: " + error.message + attempts(report)});
        }
        const sdk::HttpResponse& response = *result;
        if (response.status >= 200 && response.status < 300) {
            if (sink) {
                parser.finish(on_event);
                if (!stream_error && events == 0) read_whole(response.body, reader, stream_error, sink);
                if (stream_error) {
                    // An error Gemini sent inside the stream is Gemini failing; an event it garbled
                    // is counted like the 2xx it came with.
                    breaker_call.record(stream_error->code == "bad_response" ? llm::CallOutcome::success
                                                                             : llm::CallOutcome::failure);
                    return fail(*stream_error);
                }
                if (!reader.finished()) {
                    breaker_call.record(llm::CallOutcome::failure);
                    return fail(sdk::Error{"unavailable", "gemini: stream ended early, after " +
                                                              std::to_string(reader.chunks()) +
                                                              " chunk(s) and no finishReason"});
                }
            } else {
                boost::system::error_code ec;
                json::value whole = json::parse(response.body, ec);
                if (ec) {
                    breaker_call.record(llm::CallOutcome::success);
                    return fail(
                        sdk::Error{"bad_response", "gemini: " + std::to_string(response.status) +
                                                       " with a body that is not JSON: " + ec.message()});
                }
                if (auto added = reader.add(whole); !added) {
                    breaker_call.record(llm::CallOutcome::success);
                    return fail(added.error());
                }
            }
            breaker_call.record(llm::CallOutcome::success);
            auto answer = reader.finish(
                request, [this] { return new_call_id(); }, memory_);
            if (!answer) return fail(answer.error());
            return answer;
        }
        breaker_call.record(llm::breaker_outcome(result));
        return fail(http_error(response, report));
    }

    /// A streamed call whose server answered plain JSON (one response, or an array of them).
    void read_whole(const std::string& body, ResponseReader& reader, std::optional<sdk::Error>& error,
                    sdk::StreamSink* sink) {
        if (body.find_first_not_of(" \t\r\n") == std::string::npos) return;
        boost::system::error_code ec;
        json::value whole = json::parse(body, ec);
        if (ec) {
            error = sdk::Error{"bad_response", "gemini: the stream is neither server-sent events nor JSON"};
            return;
        }
        json::array chunks = whole.is_array() ? whole.get_array() : json::array{whole};
        for (const auto& chunk : chunks) {
            auto delta = reader.add(chunk);
            if (!delta) {
                error = delta.error();
                return;
            }
            if (!delta->empty()) sink->on_text(*delta);
        }
    }

    static sdk::Error http_error(const sdk::HttpResponse& response, const llm::RetryReport& report) {
        const int status = response.status;
        auto google = parse_google_error(response.body);
        std::string message = "gemini: " + std::to_string(status);
        if (google) {
            if (!google->status.empty()) message += " " + google->status;
            if (!google->message.empty()) message += ": " + google->message;
        } else {
            std::string snippet = response.body.substr(0, 200);
            for (auto& c : snippet)
                if (c == '\n' || c == '\r') c = ' ';
            message += snippet.empty() ? " (empty body)" : " (not Google's error format: " + snippet + ")";
        }
        if (status == 429 && google && google->retry_delay)
            message += " (asked to retry in " + std::to_string(google->retry_delay->count()) + " ms)";
        message += attempts(report);

        std::string code;
        if (status == 400 || status == 404) {
            code = "bad_request";
        } else if (status == 401 || status == 403) {
            code = "unauthorized";
        } else if (status == 429) {
            code = "rate_limited";
        } else if (status >= 500) {
            code = "unavailable";
        } else if (status == 408) {
            code = "timeout";
        } else {
            code = "bad_response";
        }
        return sdk::Error{code, message};
    }

    static std::string attempts(const llm::RetryReport& report) {
        return report.attempts > 1 ? " (after " + std::to_string(report.attempts) + " attempts)" : "";
    }

    sdk::Error fail(sdk::Error error) {
        error.message = llm::redact(std::move(error.message), settings_.api_key);
        host_.logger().warn(error.code + ": " + error.message);
        return error;
    }

    std::string new_call_id() {
        return "gemini-" + instance_tag_ + "-" + std::to_string(++counter_) + "-" + random_hex(4);
    }

    sdk::HostServices& host_;
    const Settings settings_;
    std::shared_ptr<llm::CircuitBreaker> breaker_;
    TurnMemory memory_;
    const std::string instance_tag_;
    std::atomic<std::uint64_t> counter_{0};
};

Result<sdk::PluginPtr> make_gemini(const json::object& config, sdk::HostServices& host) {
    auto settings = read_settings(config);
    if (!settings) return settings.error();
    return sdk::PluginPtr(std::make_unique<GeminiProvider>(host, std::move(settings).value()));
}

}  // namespace

}  // namespace tezgah::plugins::gemini

TEZGAH_LLM_PLUGIN(
    "gemini", "1.0.0",
    "Google Gemini (generativelanguage v1beta): function calling, streaming, retries, circuit breaker",
    tezgah::plugins::gemini::kConfig, &tezgah::plugins::gemini::make_gemini, tezgah::sdk::kProviderStreams);
