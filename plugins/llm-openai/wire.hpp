#pragma once
// The OpenAI chat-completions wire format: the request body, the answer (whole or streamed as
// server-sent events) and the error envelope. No I/O here: openai.cpp sends and receives.

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>
#include <vector>

namespace tezgah::plugins::openai {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

/// A tenant's `llm` block for this plugin, checked by make_openai().
struct Settings {
    std::string base_url;  ///< without a trailing '/'
    std::string api_key;   ///< empty: no Authorization header (Ollama, vLLM, llama.cpp)
    std::string model;
    int timeout_ms = 15000;
    int max_retries = 2;
    std::optional<double> temperature;
    std::optional<std::int64_t> max_tokens;
    std::string tool_choice = "auto";  ///< auto | none | required | omit (the field is not sent)
    bool stream_usage = true;
    std::vector<std::pair<std::string, std::string>> headers;
    int breaker_failures = 5;
    int breaker_cooldown_ms = 30000;
};

/// The JSON body of POST {base_url}/chat/completions for `request`.
json::object request_body(const Settings& settings, const sdk::ProviderRequest& request, bool stream);

/// Parses a tool call's `arguments` string: an object as is, "" (or only spaces) as {}, anything
/// else as {kInvalidArguments: raw} so the host answers the model with the error.
json::object parse_arguments(std::string_view raw);

/// Gives each call an id: the server's when it sent one (and it is not taken yet), else a fresh one.
class CallIds {
public:
    std::string assign(std::string_view server_id);

private:
    std::set<std::string> used_;
};

/// What a finished answer carried besides text and calls.
struct Answer {
    sdk::ProviderResponse response;
    std::string finish_reason;
    bool has_usage = false;
};

/// A non-streamed chat.completion body. Errors: "bad_response" (not JSON, no choices...), or
/// the mapped error of an error envelope sent with a 2xx status.
sdk::Result<Answer> parse_completion(std::string_view body, std::string_view api_key);

/// Reassembles a streamed answer from `chat.completion.chunk` events: text deltas go to the
/// sink as they come, tool-call fragments are joined by `index`, the usage chunk is kept.
class StreamAssembler {
public:
    StreamAssembler(sdk::StreamSink* sink, std::string api_key) : sink_(sink), api_key_(std::move(api_key)) {}
    /// Body bytes as they arrive.
    void feed(std::string_view bytes);
    /// The body ended (or the connection did).
    void finish();

    bool started() const { return events_ > 0; }
    std::size_t text_bytes() const { return text_.size(); }
    /// `data: [DONE]` seen, or a finish_reason: the model's answer is complete.
    bool complete() const { return done_ || !finish_reason_.empty(); }
    /// An error event, or a chunk that is not JSON: the first one wins.
    const std::optional<sdk::Error>& error() const { return error_; }
    /// The answer so far, with the calls in order of their first fragment; "bad_response" when a
    /// call never got a name.
    sdk::Result<Answer> answer();

private:
    struct PartialCall {
        std::string id;
        std::string name;
        std::string arguments;
    };
    void event(const sdk::llm::SseEvent& e);
    void tool_call_delta(const json::object& delta);

    sdk::StreamSink* sink_;
    std::string api_key_;
    sdk::llm::SseParser parser_;
    std::size_t events_ = 0;
    bool done_ = false;
    std::string text_;
    std::string finish_reason_;
    std::optional<sdk::Usage> usage_;
    std::vector<PartialCall> calls_;
    std::vector<std::pair<std::int64_t, std::size_t>> slot_of_index_;  ///< stream index → calls_
    std::optional<sdk::Error> error_;
};

/// Whether a body is server-sent events (starts with `data:`, `event:`, `id:`, `retry:` or `:`).
bool looks_like_event_stream(std::string_view body);

/// The error for a response that is not 2xx: code from the status, message naming the provider,
/// status, the server's error type and message (`openai: 400 invalid_request_error: ...`).
sdk::Error error_from_response(const sdk::HttpResponse& response, std::string_view api_key);

/// The error in an OpenAI error envelope `{"error": {...}}` (also vLLM's older top-level
/// `{"object": "error", "message": ...}`), or none when `body` is not one.
std::optional<sdk::Error> error_from_envelope(const json::value& body, int status, std::string_view api_key);

/// `retry-after-ms` (OpenAI's own header, milliseconds); none when absent or unreadable.
std::optional<sdk::llm::Millis> retry_after_ms(const sdk::HttpResponse& response);

using sdk::llm::redact;  // the API key never reaches a message or a log

}  // namespace tezgah::plugins::openai
