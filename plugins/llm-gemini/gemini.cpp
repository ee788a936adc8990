// The `gemini` llm plugin: Google's Gemini through the generativelanguage v1beta REST API, with
// function calling, streaming (server-sent events), retries that honour Google's RetryInfo and the
// turn's deadline, and a circuit breaker per base URL and key.
#include "schema.hpp"
#include "wire.hpp"

#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/plugin.hpp>

#include <atomic>
#include <memory>
#include <random>
#include <string>

namespace tezgah::plugins::gemini {

namespace {

namespace llm = sdk::llm;
using sdk::Result;

const sdk::ConfigKey kConfig[] = {
    {"api_key", sdk::ConfigType::string, true, nullptr,
     "The Gemini API key, sent in the x-goog-api-key header. Use \"${GEMINI_API_KEY}\" to read it from the "
     "environment."},
    {"model", sdk::ConfigType::string, false, "\"gemini-2.0-flash\"",
     "The model, e.g. gemini-2.0-flash or gemini-2.5-flash."},
    {"base_url", sdk::ConfigType::string, false, "\"https://generativelanguage.googleapis.com\"",
     "Where the API lives; /v1beta/models/... is appended."},
    {"timeout_ms", sdk::ConfigType::integer, false, "15000",
     "Time for one call, retries included, when the turn sets no deadline; also each attempt's timeout."},
    {"max_retries", sdk::ConfigType::integer, false, "2",
     "Retries after the first attempt on timeouts, 429 and 5xx (0 to 10)."},
    {"temperature", sdk::ConfigType::number, false, nullptr,
     "Sampling temperature, 0 to 2; the model's default when absent."},
    {"max_output_tokens", sdk::ConfigType::integer, false, nullptr,
     "Cap on the tokens of one answer; the model's default when absent."},
    {"breaker_failures", sdk::ConfigType::integer, false, "5",
     "Consecutive failures that open the circuit breaker (calls refused at once, so the fallback answers)."},
    {"breaker_cooldown_ms", sdk::ConfigType::integer, false, "30000",
     "How long an open breaker refuses calls before it lets one trial call through."},
};

struct Settings {
    std::string api_key;
    std::string model = "gemini-2.0-flash";
    std::string base_url = "https://generativelanguage.googleapis.com";
    int timeout_ms = 15000;
    int max_retries = 2;
    GenerationSettings generation;
    int breaker_failures = 5;
    int breaker_cooldown_ms = 30000;
};

/// Reads `key` as an integer in [low, high] when present.
std::optional<sdk::Error> read_int(const json::object& config, const char* key, std::int64_t low,
                                   std::int64_t high, const std::function<void(std::int64_t)>& set) {
    const auto* v = config.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    std::optional<std::int64_t> n;
    if (v->is_int64())
        n = v->get_int64();
    else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(high))
        n = static_cast<std::int64_t>(v->get_uint64());
    if (!n || *n < low || *n > high)
        return sdk::Error{"invalid_value", std::string(key) + ": expected an integer from " +
                                               std::to_string(low) + " to " + std::to_string(high)};
    set(*n);
    return std::nullopt;
}

std::optional<sdk::Error> read_string(const json::object& config, const char* key, std::string& out) {
    const auto* v = config.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) return sdk::Error{"invalid_value", std::string(key) + ": expected a string"};
    out = v->get_string();
    return std::nullopt;
}

Result<Settings> read_settings(const json::object& config) {
    Settings s;
    if (auto e = read_string(config, "api_key", s.api_key)) return *e;
    if (s.api_key.empty())
        return sdk::Error{"missing_field",
                          "api_key: required (e.g. \"${GEMINI_API_KEY}\", with that variable set)"};
    if (auto e = read_string(config, "model", s.model)) return *e;
    if (s.model.rfind("models/", 0) == 0) s.model.erase(0, 7);
    if (s.model.empty() || s.model.find_first_of("/?#: ") != std::string::npos)
        return sdk::Error{"invalid_value", "model: expected a model name such as gemini-2.0-flash"};
    if (auto e = read_string(config, "base_url", s.base_url)) return *e;
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
        return sdk::Error{"invalid_value", "base_url: expected an http:// or https:// URL"};
    if (auto e =
            read_int(config, "timeout_ms", 1, 600000, [&](auto n) { s.timeout_ms = static_cast<int>(n); }))
        return *e;
    if (auto e = read_int(config, "max_retries", 0, 10, [&](auto n) { s.max_retries = static_cast<int>(n); }))
        return *e;
    if (const auto* t = config.if_contains("temperature"); t && !t->is_null()) {
        if (!t->is_number() || t->to_number<double>() < 0 || t->to_number<double>() > 2)
            return sdk::Error{"invalid_value", "temperature: expected a number from 0 to 2"};
        s.generation.temperature = t->to_number<double>();
    }
    if (auto e = read_int(config, "max_output_tokens", 1, 1000000,
                          [&](auto n) { s.generation.max_output_tokens = n; }))
        return *e;
    if (auto e = read_int(config, "breaker_failures", 1, 1000,
                          [&](auto n) { s.breaker_failures = static_cast<int>(n); }))
        return *e;
    if (auto e = read_int(config, "breaker_cooldown_ms", 0, 86400000,
                          [&](auto n) { s.breaker_cooldown_ms = static_cast<int>(n); }))
        return *e;
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

private:
    Result<sdk::ProviderResponse> call(const sdk::ProviderRequest& request, sdk::StreamSink* sink) {
        json::object body = build_request_body(request, settings_.generation, memory_);
        if (body.at("contents").as_array().empty())
            return fail(sdk::Error{"bad_request", "gemini: the request has no message to send"});

        // The call that finds a half-open breaker is its one trial: it must settle the breaker.
        const bool trial = breaker_->state() == llm::CircuitBreaker::State::half_open;
        if (!breaker_->allow())
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
            // Running out of the turn's time, or the customer leaving, says nothing about Gemini.
            const bool says_nothing = error.code == "deadline_exceeded" || error.code == "cancelled";
            if (says_nothing)
                breaker_->record_abandoned();  // frees a half-open breaker's trial, counts nothing
            else
                breaker_->record_failure();
            return fail(sdk::Error{error.code, "gemini: " + error.message + attempts(report)});
        }
        const sdk::HttpResponse& response = *result;
        if (response.status >= 200 && response.status < 300) {
            if (sink) {
                parser.finish(on_event);
                if (!stream_error && events == 0) read_whole(response.body, reader, stream_error, sink);
                if (stream_error) {
                    breaker_->record_success();
                    return fail(*stream_error);
                }
                if (!reader.finished()) {
                    breaker_->record_failure();
                    return fail(sdk::Error{"unavailable", "gemini: stream ended early, after " +
                                                              std::to_string(reader.chunks()) +
                                                              " chunk(s) and no finishReason"});
                }
            } else {
                boost::system::error_code ec;
                json::value whole = json::parse(response.body, ec);
                if (ec) {
                    breaker_->record_success();
                    return fail(
                        sdk::Error{"bad_response", "gemini: " + std::to_string(response.status) +
                                                       " with a body that is not JSON: " + ec.message()});
                }
                if (auto added = reader.add(whole); !added) {
                    breaker_->record_success();
                    return fail(added.error());
                }
            }
            breaker_->record_success();
            auto answer = reader.finish(
                request, [this] { return new_call_id(); }, memory_);
            if (!answer) return fail(answer.error());
            return answer;
        }
        return fail(http_error(response, report, trial));
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

    sdk::Error http_error(const sdk::HttpResponse& response, const llm::RetryReport& report, bool trial) {
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
        bool failure = false;
        if (status == 400 || status == 404) {
            code = "bad_request";
        } else if (status == 401 || status == 403) {
            code = "unauthorized";
            failure = true;
        } else if (status == 429) {
            code = "rate_limited";
            failure = true;
        } else if (status >= 500) {
            code = "unavailable";
            failure = true;
        } else if (status == 408) {
            code = "timeout";
            failure = true;
        } else {
            code = "bad_response";
        }
        if (failure)
            breaker_->record_failure();
        else if (trial)
            breaker_->record_success();  // the server answered: it is up
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

    static std::string random_hex(int bytes) {
        thread_local std::mt19937_64 rng{std::random_device{}()};
        static const char* digits = "0123456789abcdef";
        std::string out;
        std::uint64_t r = rng();
        for (int i = 0; i < bytes * 2; ++i, r >>= 4) out += digits[r & 15];
        return out;
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

TEZGAH_PLUGIN(
    "gemini", llm, "1.0.0",
    "Google Gemini (generativelanguage v1beta): function calling, streaming, retries, circuit breaker",
    tezgah::plugins::gemini::kConfig, &tezgah::plugins::gemini::make_gemini);
