#pragma once
// A fake OpenAI-compatible chat-completions server on loopback, for the llm-openai plugin's tests
// and the engine's end-to-end tests. Like the real API it validates every request (path, JSON,
// model, key, messages, tools) and answers 400 with OpenAI's error envelope when one is wrong.
// Answers come from a queue of scripted behaviours, then from fake_model_decide() (automatic).
//
//   FakeOpenAi server;                                  // flavour openai, no key required
//   server.push_back(FakeOpenAiBehaviour::error(429, "rate_limit_exceeded", "slow down").retry_after("1"));
//   config["base_url"] = server.base_url();             // http://127.0.0.1:<port>/v1
//
// Flavours copy the quirks of the servers that speak the format:
// - openai: `usage: null` on every chunk and one `choices: []` usage chunk before [DONE] when
//   `stream_options.include_usage`; an unknown `obfuscation` field in chunks; tool-call arguments
//   streamed in fragments, the calls of a parallel answer interleaved.
// - ollama: accepts and ignores `tool_choice`; each tool call whole in one delta (every one at
//   index 0, as older Ollama did); finish_reason "stop" even after tool calls; a usage chunk only
//   when asked for.
// - vllm: refuses tool_choice "auto" unless started with --enable-auto-tool-choice
//   (`vllm_auto_tool_choice`), with its pre-0.9 top-level error body `{"object": "error", ...}`;
//   ids "chatcmpl-tool-<hex>".
// - llamacpp: no tool-call ids at all; tools refused unless started with --jinja
//   (`llamacpp_jinja`); usage on the chunk that carries finish_reason, plus a `timings` field.

#include <boost/json.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "support/fake_http_server.hpp"

namespace tezgah::testing {

enum class FakeOpenAiFlavour { openai, ollama, vllm, llamacpp };

const char* to_string(FakeOpenAiFlavour flavour) noexcept;

/// One tool call of a scripted answer. `arguments` is the raw string the server sends.
struct FakeOpenAiCall {
    std::string name;
    std::string arguments;
    std::string id;  ///< empty: the flavour's own id (none for llamacpp)
};

/// One scripted answer, used for one request.
struct FakeOpenAiBehaviour {
    enum class Kind { automatic, text, tool_calls, error, malformed, stall, drop, stream_error };
    Kind kind = Kind::automatic;
    std::string text;
    std::vector<FakeOpenAiCall> calls;
    int status = 200;
    std::string error_type;
    std::string error_code;
    std::string error_message;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};  ///< stall: how long before any byte
    bool usage = true;                   ///< false: no usage anywhere
    std::string finish_reason;           ///< empty: "stop", or "tool_calls" after calls

    static FakeOpenAiBehaviour automatic();
    static FakeOpenAiBehaviour answer(std::string text);
    static FakeOpenAiBehaviour tool_calls(std::vector<FakeOpenAiCall> calls);
    /// `status` with OpenAI's envelope {"error": {message, type, param, code}}.
    static FakeOpenAiBehaviour error(int status, std::string type, std::string message,
                                     std::string code = {});
    /// 200 with a body (or a stream chunk) that is not JSON.
    static FakeOpenAiBehaviour malformed();
    /// Waits `delay` before answering the next behaviour's way (automatic); never answers before.
    /// A client that hangs up meanwhile gets no answer, and the request counts as cut off.
    static FakeOpenAiBehaviour stall(std::chrono::milliseconds delay);
    /// Streams part of the text, then closes the connection (no finish_reason, no [DONE]); not
    /// streamed: closes the connection without answering.
    static FakeOpenAiBehaviour drop(std::string text = "Merhaba, size");
    /// Streams some text, then `data: {"error": {...}}`.
    static FakeOpenAiBehaviour stream_error(std::string message);

    FakeOpenAiBehaviour&& retry_after(std::string value) &&;
    FakeOpenAiBehaviour&& header(std::string name, std::string value) &&;
    FakeOpenAiBehaviour&& without_usage() &&;
    FakeOpenAiBehaviour&& finish(std::string reason) &&;
};

struct FakeOpenAiOptions {
    FakeOpenAiFlavour flavour = FakeOpenAiFlavour::openai;
    std::string api_key;  ///< set: requests need `Authorization: Bearer <key>` (401 otherwise)
    bool vllm_auto_tool_choice = true;
    bool llamacpp_jinja = true;
    std::chrono::milliseconds chunk_pause{0};  ///< between streamed chunks
};

class FakeOpenAi {
public:
    explicit FakeOpenAi(FakeOpenAiOptions options = {});
    explicit FakeOpenAi(FakeOpenAiFlavour flavour);
    ~FakeOpenAi();
    FakeOpenAi(const FakeOpenAi&) = delete;
    FakeOpenAi& operator=(const FakeOpenAi&) = delete;

    /// "http://127.0.0.1:<port>/v1"
    std::string base_url() const;
    FakeOpenAiFlavour flavour() const { return options_.flavour; }
    std::vector<RecordedRequest> requests() const;
    std::size_t request_count() const;
    /// Blocks until `n` requests have arrived, or `timeout` passed: whether they did.
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = kEventTimeout) const;
    /// Blocks until the clients of `n` stalled requests hung up (calls cancelled or timed out on the
    /// client's side), or `timeout` passed: whether they did.
    bool wait_for_cut_offs(std::size_t n, std::chrono::milliseconds timeout = kEventTimeout) const;
    /// The bodies of the requests, parsed (null when not JSON).
    std::vector<boost::json::value> bodies() const;
    /// Why requests were refused with 400/401/404, in order: a test that expects none checks it.
    std::vector<std::string> rejections() const;

    /// Adds a scripted answer; an empty queue answers automatically.
    void push_back(FakeOpenAiBehaviour behaviour);

private:
    void handle(const RecordedRequest& request, FakeReply& reply);

    FakeOpenAiOptions options_;
    mutable std::mutex mutex_;
    std::deque<FakeOpenAiBehaviour> queue_;
    std::vector<std::string> rejections_;
    std::unique_ptr<FakeHttpServer> server_;
};

}  // namespace tezgah::testing
