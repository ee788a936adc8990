#pragma once
/// @file llm.hpp
/// What every remote language-model provider needs besides its own wire format: server-sent
/// events, retries with backoff that honour the server's delay and the turn's deadline, a circuit
/// breaker per provider and credential, token estimates and a confidence estimate.

#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/result.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tezgah::sdk::llm {

using Millis = std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

/// A provider whose model sent tool-call arguments that are not a JSON object (OpenAI sends them as
/// a string to parse) passes the call on with arguments `{kInvalidArguments: "<the raw text>"}`:
/// the host answers the model with the error instead of running the tool.
inline constexpr const char* kInvalidArguments = "__invalid_arguments__";

/// One server-sent event: its `event:` name (empty when none) and its `data:` lines joined by "\n".
struct SseEvent {
    std::string event;
    std::string data;
};

/// Parses a text/event-stream fed in arbitrary pieces (LF or CRLF line ends; comments ignored).
class SseParser {
public:
    using Handler = std::function<void(const SseEvent&)>;
    /// Feeds bytes; calls `on_event` for every event completed by a blank line.
    void feed(std::string_view bytes, const Handler& on_event);
    /// The stream ended: delivers a last event that had no blank line after it.
    void finish(const Handler& on_event);

private:
    void line(std::string_view line, const Handler& on_event);
    std::string pending_;
    SseEvent event_;
    bool has_data_ = false;
};

/// How a provider call is retried.
struct RetryPolicy {
    int max_attempts = 3;    ///< attempts in all, the first included
    Millis base_delay{300};  ///< backoff before attempt n is random in [0, base * 2^(n-1)]
    Millis max_delay{5000};  ///< cap of one backoff, and of a server-requested delay
};

/// True for the statuses worth another attempt: 408, 429, 500, 502, 503, 504.
bool retryable_status(int status) noexcept;

/// `Retry-After` as seconds ("19") or as an HTTP date; none when absent or unreadable.
std::optional<Millis> retry_after(const HttpResponse& response);

/// A Google-style duration such as "19s", "0.5s" or "1.500s"; none when unreadable.
std::optional<Millis> parse_duration(std::string_view text);

/// What send_with_retries did, for logs and metrics.
struct RetryReport {
    int attempts = 0;
    int last_status = 0;  ///< 0 when the last attempt failed in transport
};

/// Sends `request`, retrying transport failures ("timeout", "unavailable") and retryable statuses
/// with exponential backoff and full jitter. A delay the server asks for (`server_delay`, else
/// `Retry-After`) replaces the backoff. Never waits past `deadline`: each attempt's timeout is
/// clamped to it, and a wait that would cross it ends the call at once. A streaming request
/// (`on_chunk` set) is not retried once a chunk has been delivered.
/// Returns the last HTTP response (whatever its status) or the transport error; "deadline_exceeded"
/// when no time was left for an attempt.
Result<HttpResponse> send_with_retries(
    HttpClient& http, OutboundRequest request, const RetryPolicy& policy, SteadyTime deadline,
    const std::function<std::optional<Millis>(const HttpResponse&)>& server_delay = {},
    RetryReport* report = nullptr);

/// How send_with_retries waits between attempts. The host installs one that suspends a turn run
/// as a coroutine rather than blocking its thread (the engine's pause_for); by default, and with
/// null, the thread sleeps. Set once at start, before any call.
using WaitFunction = void (*)(Millis);
void set_wait_function(WaitFunction wait) noexcept;

/// Where a circuit breaker reads the time. Empty: `std::chrono::steady_clock::now`; a test passes
/// a clock it moves itself, so that it never sleeps through a cool-down.
using TimeSource = std::function<SteadyTime()>;

/// Closed → open after `failure_threshold` consecutive failures; open refuses calls for
/// `cool_down`, then lets one trial call through (half-open): its success closes the breaker, its
/// failure opens it again. Thread-safe. A provider goes through it with a BreakerCall, which
/// records every call's outcome exactly once.
class CircuitBreaker {
public:
    enum class State { closed, open, half_open };
    explicit CircuitBreaker(int failure_threshold = 5, Millis cool_down = Millis(30000));
    /// ABI 1.2. `now` is read under the breaker's lock, so it must not call back into the breaker.
    /// (1.2 made the breaker larger: get one from circuit_breaker(), never build one in a plugin.)
    CircuitBreaker(int failure_threshold, Millis cool_down, TimeSource now);
    /// Whether a call may go out now. A true answer from a half-open breaker makes that call its
    /// trial: until the trial's outcome is recorded, every other call is refused.
    bool allow();
    void record_success();
    void record_failure();
    /// The call ended for a reason that says nothing about the server (the customer left, the
    /// turn's deadline came first): nothing is counted, and a half-open breaker's trial slot is
    /// freed for the next call.
    void record_abandoned();
    State state() const;

private:
    SteadyTime now() const;

    mutable std::mutex mutex_;
    int threshold_;
    Millis cool_down_;
    int failures_ = 0;
    State state_ = State::closed;
    bool trial_in_flight_ = false;
    SteadyTime opened_at_{};
    TimeSource now_;  // ABI 1.2: last, after what 1.1 had
};

const char* to_string(CircuitBreaker::State state) noexcept;

/// The process-wide breaker of one provider and credential (e.g. "gemini|<key fingerprint>|<base>"):
/// tenants sharing a key share its breaker. The first call fixes the threshold and cool-down.
std::shared_ptr<CircuitBreaker> circuit_breaker(const std::string& key, int failure_threshold = 5,
                                                Millis cool_down = Millis(30000));

/// What one call through a circuit breaker says about the server.
enum class CallOutcome {
    success,    ///< the server answered, whatever it said: it is up
    failure,    ///< the server failed, or could not be reached
    abandoned,  ///< the call ended for a reason that says nothing about the server
};

const char* to_string(CallOutcome outcome) noexcept;

/// The one rule by which every provider's breaker counts a call, applied to what
/// send_with_retries returned (after its retries):
/// - a transport error: `abandoned` for "cancelled" (the customer left) and "deadline_exceeded"
///   (no time was left before the turn's deadline); `failure` for every other code: "timeout",
///   "unavailable", "tls", "bad_response" (an answer that is not HTTP), and any other the client
///   reports;
/// - an HTTP status: `failure` for 408, 429 and 5xx (the server is overloaded or broken) and for
///   401 and 403 (the credential is refused: every call with it would fail the same way, and a
///   breaker belongs to one credential); `success` for any other status: the server answered, and
///   refusing this one request (400, 404, 422...) says that it is up.
///
/// A 2xx answer is a success even when its body cannot be read. A stream the server breaks off
/// after its 2xx (it ends before the answer does, or sends an error inside it) is the provider's
/// to record as a failure, as it would a dropped connection.
CallOutcome breaker_outcome(const Result<HttpResponse>& exchange);

/// One call through a circuit breaker, from `allow()` to its outcome (RAII). The constructor asks
/// the breaker; when `allowed()` is false the breaker is open: send nothing, the guard records
/// nothing. An allowed call records exactly one outcome: the first `record()`; later ones are
/// ignored. A guard destroyed with none recorded — an exception, a forgotten return — records a
/// failure, so a half-open breaker's trial call can never stay in flight for ever.
///
///     llm::BreakerCall call(*breaker_);
///     if (!call.allowed()) return sdk::Error{"circuit_open", "..."};
///     auto result = llm::send_with_retries(host_.http(), request, policy, deadline);
///     if (!result || result->status < 200 || result->status >= 300) {
///         call.record(llm::breaker_outcome(result));
///         return ...;  // the error
///     }
///     if (/* the stream ended before the answer did */) {
///         call.record(llm::CallOutcome::failure);
///         return ...;
///     }
///     call.record(llm::CallOutcome::success);
///
/// `breaker` is borrowed and must outlive the guard. Not copyable, not movable.
class BreakerCall {
public:
    explicit BreakerCall(CircuitBreaker& breaker);
    ~BreakerCall();
    BreakerCall(const BreakerCall&) = delete;
    BreakerCall& operator=(const BreakerCall&) = delete;

    /// Whether the breaker let the call through.
    bool allowed() const noexcept { return allowed_; }
    /// Records the call's outcome on the breaker, unless one was recorded already or the call was
    /// refused.
    void record(CallOutcome outcome);

private:
    CircuitBreaker& breaker_;
    const bool allowed_;
    bool recorded_ = false;
};

/// `text` with every occurrence of `secret` (an API key a server or library echoed back)
/// replaced by "[redacted]", so that no message or log line carries it. Secrets shorter than four
/// characters are left alone: replacing them would garble the text and hide nothing.
std::string redact(std::string text, std::string_view secret);

/// A short, stable, non-reversible fingerprint of a secret, for keys and logs.
std::string fingerprint(std::string_view secret);

/// Tokens in `text`, estimated (about four bytes of UTF-8 a token, never 0 for non-empty text).
std::int64_t estimate_tokens(std::string_view text);

/// Tokens of a whole request as a provider would count them, estimated.
std::int64_t estimate_tokens(const ProviderRequest& request);

/// A confidence for a model's answer: high for a complete answer, lower when it was cut off
/// (`finish_reason` "length"/"MAX_TOKENS"), refused ("SAFETY", "content_filter"), empty, or hedges
/// ("emin değilim", "I'm not sure"...). `used_tools` (the answer rests on tool results) raises it.
double estimate_confidence(std::string_view text, std::string_view finish_reason, bool used_tools);

/// The deadline of a request: `request.deadline` when set, else now + `fallback`.
SteadyTime deadline_of(const ProviderRequest& request, Millis fallback);

}  // namespace tezgah::sdk::llm
