#pragma once
// A fake Gemini (generativelanguage v1beta) on loopback, speaking the documented wire format:
// generateContent and streamGenerateContent?alt=sse, the x-goog-api-key header, Google's error
// envelope. Like the real API it validates every request and refuses with 400 INVALID_ARGUMENT what
// Gemini refuses: a schema keyword outside its subset, a model turn whose thoughtSignature came back
// changed or missing, functionResponse parts that do not answer the preceding functionCall turn,
// roles other than user/model. Each request takes the next scripted answer (push_back); with none
// left, the fake answers through fake_model_decide (tests/support/fake_model.hpp), putting a
// thoughtSignature on the first function call the way thinking models do.

#include "support/fake_http_server.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::testing {

/// One functionCall part of a scripted answer.
struct FakeGeminiCall {
    std::string name;
    boost::json::value args = boost::json::object{};  ///< any JSON; null leaves "args" out
    std::string id;                                   ///< Gemini's own call id; empty: none (the usual)
    std::string thought_signature;                    ///< empty: none
};

/// One scripted answer, used for one request (whole, or streamed when the request asked to stream).
struct FakeGeminiScript {
    std::string text;                   ///< the answer's text
    std::vector<std::string> pieces;    ///< streamed: the text in these events; empty: `text` split in three
    std::vector<FakeGeminiCall> calls;  ///< functionCall parts, after the text
    std::string finish_reason = "STOP";
    bool usage = true;           ///< false: no usageMetadata at all
    int prompt_tokens = -1;      ///< -1: the body's size / 4
    int candidates_tokens = -1;  ///< -1: the answer's size / 4
    int thoughts_tokens = 0;     ///< > 0: thoughtsTokenCount reported too
    std::string block_reason;    ///< set: promptFeedback.blockReason and no candidates

    int status = 200;          ///< not 2xx: an error in Google's envelope
    std::string error_status;  ///< e.g. "RESOURCE_EXHAUSTED"
    std::string error_message;
    std::string retry_delay;  ///< e.g. "1s": a google.rpc.RetryInfo detail

    std::string raw_body;                ///< set: answered as is (streamed: as one event's data)
    std::chrono::milliseconds stall{0};  ///< wait this long before answering (none if the client hangs up)
    std::chrono::milliseconds event_gap{0};  ///< streamed: pause between events
    /// Streamed: each event after the first waits (up to 10 s) for a release() from the client's
    /// side, so a test can prove that text reached it before the rest of the stream was sent.
    bool lockstep = false;
    bool drop_mid_stream = false;  ///< send part of the answer, then close the connection

    static FakeGeminiScript answer(std::string text);
    static FakeGeminiScript function_calls(std::vector<FakeGeminiCall> calls);
    static FakeGeminiScript error(int status, std::string google_status, std::string message,
                                  std::string retry_delay = {});
    static FakeGeminiScript malformed();
};

class FakeGemini {
public:
    FakeGemini();
    ~FakeGemini();
    FakeGemini(const FakeGemini&) = delete;
    FakeGemini& operator=(const FakeGemini&) = delete;

    /// "http://127.0.0.1:<port>": the plugin's base_url.
    std::string base_url() const;
    std::vector<RecordedRequest> requests() const;
    std::size_t request_count() const;
    /// Blocks until `n` requests have arrived, or `timeout` passed: whether they did.
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = kEventTimeout) const;
    /// Blocks until the clients of `n` stalled requests hung up (calls cancelled or timed out on the
    /// client's side), or `timeout` passed: whether they did.
    bool wait_for_cut_offs(std::size_t n, std::chrono::milliseconds timeout = kEventTimeout) const;
    /// Queues the answer to a coming request.
    void push_back(FakeGeminiScript script);
    /// Requests carrying another key are refused as Google does (400 INVALID_ARGUMENT, API_KEY_INVALID).
    void require_key(std::string key);
    /// Every refusal the fake's validation answered, "<status> <message>", in order.
    std::vector<std::string> refusals() const;
    /// Lets a `lockstep` stream send its next event.
    void release();
    /// How many `lockstep` events went out after 10 s without a release().
    int lockstep_timeouts() const;

    /// Checks a functionDeclaration's `parameters` as Gemini does. Empty when accepted, else the
    /// message Gemini would answer. `path` names the schema in messages.
    static std::string check_schema(const boost::json::value& schema,
                                    const std::string& path = "tools[0].function_declarations[0].parameters");

private:
    struct Refusal {
        int status;
        std::string google_status;
        std::string message;
    };
    void handle(const RecordedRequest& request, FakeReply& reply);
    std::optional<Refusal> validate(const boost::json::object& body);
    FakeGeminiScript automatic(const boost::json::object& body) const;
    void refuse(FakeReply& reply, const Refusal& refusal);
    void remember_signatures(const FakeGeminiScript& script);

    mutable std::mutex mutex_;
    std::deque<FakeGeminiScript> scripts_;
    std::string required_key_;
    std::vector<std::string> refusals_;
    std::map<std::string, boost::json::object> signed_parts_;  ///< thoughtSignature → the part sent
    int signature_counter_ = 0;
    std::condition_variable released_cv_;
    int released_ = 0;
    int lockstep_timeouts_ = 0;
    std::unique_ptr<FakeHttpServer> server_;  // last: stops before the state it uses goes away
};

}  // namespace tezgah::testing
