#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <ctime>
#include <map>
#include <random>
#include <thread>
#include <utility>

namespace tezgah::sdk::llm {

namespace {
std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

// --- server-sent events ---

void SseParser::feed(std::string_view bytes, const Handler& on_event) {
    pending_.append(bytes);
    std::size_t start = 0;
    for (;;) {
        auto nl = pending_.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view l(pending_.data() + start, nl - start);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        line(l, on_event);
        start = nl + 1;
    }
    pending_.erase(0, start);
}

void SseParser::finish(const Handler& on_event) {
    if (!pending_.empty()) {
        std::string rest = std::move(pending_);
        pending_.clear();
        if (!rest.empty() && rest.back() == '\r') rest.pop_back();
        line(rest, on_event);
    }
    line({}, on_event);
}

void SseParser::line(std::string_view l, const Handler& on_event) {
    if (l.empty()) {
        if (has_data_) on_event(event_);
        event_ = {};
        has_data_ = false;
        return;
    }
    if (l.front() == ':') return;  // a comment (keep-alive)
    auto colon = l.find(':');
    std::string_view field = l.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "data") {
        if (has_data_) event_.data += '\n';
        event_.data.append(value);
        has_data_ = true;
    } else if (field == "event") {
        event_.event.assign(value);
    }
}

// --- retries ---

bool retryable_status(int status) noexcept {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<Millis> retry_after(const HttpResponse& response) {
    for (const auto& [name, value] : response.headers) {
        if (ascii_lower(name) != "retry-after") continue;
        std::string v(text::trim(value));
        if (v.empty()) return std::nullopt;
        if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
            if (v.size() > 9) return Millis(std::chrono::hours(24));
            return Millis(std::stoll(v) * 1000);
        }
        // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT".
        std::tm tm{};
        if (strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return std::nullopt;
        auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
        auto wait = std::chrono::duration_cast<Millis>(when - std::chrono::system_clock::now());
        return std::max(wait, Millis(0));
    }
    return std::nullopt;
}

std::optional<Millis> parse_duration(std::string_view text) {
    text = text::trim(text);
    if (text.size() < 2 || text.back() != 's') return std::nullopt;
    text.remove_suffix(1);
    double seconds = 0;
    try {
        std::size_t used = 0;
        std::string s(text);
        seconds = std::stod(s, &used);
        if (used != s.size() || !(seconds >= 0) || seconds > 86400.0 * 365) return std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return Millis(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

namespace {

std::atomic<WaitFunction> g_wait{nullptr};

void wait_for(Millis duration) {
    if (auto wait = g_wait.load(std::memory_order_acquire)) return wait(duration);
    std::this_thread::sleep_for(duration);
}

Millis jittered_backoff(const RetryPolicy& policy, int attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto ceiling = policy.base_delay.count() * (std::int64_t{1} << std::min(attempt - 1, 20));
    ceiling = std::min<std::int64_t>(ceiling, policy.max_delay.count());
    if (ceiling <= 0) return Millis(0);
    std::uniform_int_distribution<std::int64_t> pick(0, ceiling);
    return Millis(pick(rng));
}

}  // namespace

void set_wait_function(WaitFunction wait) noexcept { g_wait.store(wait, std::memory_order_release); }

Result<HttpResponse> send_with_retries(
    HttpClient& http, OutboundRequest request, const RetryPolicy& policy, SteadyTime deadline,
    const std::function<std::optional<Millis>(const HttpResponse&)>& server_delay, RetryReport* report) {
    RetryReport local;
    RetryReport& r = report ? *report : local;
    r = {};
    const int max_attempts = std::max(1, policy.max_attempts);
    const int configured_timeout = request.timeout_ms;
    bool delivered = false;
    if (request.on_chunk) {
        auto inner = std::move(request.on_chunk);
        request.on_chunk = [inner = std::move(inner), &delivered](std::string_view chunk) {
            delivered = true;
            inner(chunk);
        };
    }
    std::optional<Result<HttpResponse>> last;
    for (int attempt = 1; attempt <= max_attempts; ++attempt) {
        auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            if (last) return std::move(*last);
            return Error{"deadline_exceeded", request.url + ": no time left before the turn's deadline"};
        }
        request.timeout_ms = static_cast<int>(std::min<std::int64_t>(configured_timeout, left.count()));
        ++r.attempts;
        auto result = http.send(request);
        r.last_status = result ? result->status : 0;
        bool retry = false;
        std::optional<Millis> wait;
        if (!result) {
            retry = result.error().code == "timeout" || result.error().code == "unavailable";
        } else if (retryable_status(result->status)) {
            retry = true;
            if (server_delay) wait = server_delay(*result);
            if (!wait) wait = retry_after(*result);
        }
        if (!retry || delivered || attempt == max_attempts) return result;
        if (!wait) wait = jittered_backoff(policy, attempt);
        left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
        // A wait the turn cannot afford, or longer than the policy allows: give up now, so the
        // fallback answers in time.
        if (*wait >= left || *wait > policy.max_delay) return result;
        last.emplace(std::move(result));
        wait_for(*wait);
    }
    return std::move(*last);
}

// --- circuit breaker ---

CircuitBreaker::CircuitBreaker(int failure_threshold, Millis cool_down)
    : CircuitBreaker(failure_threshold, cool_down, TimeSource{}) {}

CircuitBreaker::CircuitBreaker(int failure_threshold, Millis cool_down, TimeSource now)
    : threshold_(std::max(1, failure_threshold)), cool_down_(cool_down), now_(std::move(now)) {}

SteadyTime CircuitBreaker::now() const { return now_ ? now_() : std::chrono::steady_clock::now(); }

bool CircuitBreaker::allow() {
    std::lock_guard lock(mutex_);
    if (state_ == State::closed) return true;
    if (state_ == State::open) {
        if (now() - opened_at_ < cool_down_) return false;
        state_ = State::half_open;
        trial_in_flight_ = false;
    }
    if (trial_in_flight_) return false;  // half-open: one trial at a time
    trial_in_flight_ = true;
    return true;
}

void CircuitBreaker::record_success() {
    std::lock_guard lock(mutex_);
    failures_ = 0;
    state_ = State::closed;
    trial_in_flight_ = false;
}

void CircuitBreaker::record_failure() {
    std::lock_guard lock(mutex_);
    ++failures_;
    if (state_ == State::half_open || failures_ >= threshold_) {
        state_ = State::open;
        opened_at_ = now();
        trial_in_flight_ = false;
    }
}

void CircuitBreaker::record_abandoned() {
    std::lock_guard lock(mutex_);
    trial_in_flight_ = false;
}

CircuitBreaker::State CircuitBreaker::state() const {
    std::lock_guard lock(mutex_);
    if (state_ == State::open && now() - opened_at_ >= cool_down_) return State::half_open;
    return state_;
}

const char* to_string(CircuitBreaker::State state) noexcept {
    switch (state) {
        case CircuitBreaker::State::closed:
            return "closed";
        case CircuitBreaker::State::open:
            return "open";
        case CircuitBreaker::State::half_open:
            return "half_open";
    }
    return "closed";
}

std::shared_ptr<CircuitBreaker> circuit_breaker(const std::string& key, int failure_threshold,
                                                Millis cool_down) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<CircuitBreaker>> breakers;
    std::lock_guard lock(mutex);
    auto& slot = breakers[key];
    if (!slot) slot = std::make_shared<CircuitBreaker>(failure_threshold, cool_down);
    return slot;
}

const char* to_string(CallOutcome outcome) noexcept {
    switch (outcome) {
        case CallOutcome::success:
            return "success";
        case CallOutcome::failure:
            return "failure";
        case CallOutcome::abandoned:
            return "abandoned";
    }
    return "failure";
}

CallOutcome breaker_outcome(const Result<HttpResponse>& exchange) {
    if (!exchange) {
        const auto& code = exchange.error().code;
        return code == "cancelled" || code == "deadline_exceeded" ? CallOutcome::abandoned
                                                                  : CallOutcome::failure;
    }
    const int status = exchange->status;
    const bool failed = status == 401 || status == 403 || status == 408 || status == 429 || status >= 500;
    return failed ? CallOutcome::failure : CallOutcome::success;
}

BreakerCall::BreakerCall(CircuitBreaker& breaker) : breaker_(breaker), allowed_(breaker.allow()) {}

BreakerCall::~BreakerCall() {
    // No outcome: the call ended by an exception or a path that forgot it. Counting it as a
    // failure also ends a half-open breaker's trial, which would otherwise refuse every call after.
    if (allowed_ && !recorded_) breaker_.record_failure();
}

void BreakerCall::record(CallOutcome outcome) {
    if (!allowed_ || recorded_) return;
    recorded_ = true;
    switch (outcome) {
        case CallOutcome::success:
            breaker_.record_success();
            return;
        case CallOutcome::failure:
            breaker_.record_failure();
            return;
        case CallOutcome::abandoned:
            breaker_.record_abandoned();
            return;
    }
}

std::string redact(std::string text, std::string_view secret) {
    if (secret.size() < 4) return text;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
        text.replace(at, secret.size(), "[redacted]");
    return text;
}

std::string fingerprint(std::string_view secret) {
    // FNV-1a, 64 bits: enough to tell credentials apart in keys and logs; not a secret hash.
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : secret) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    static const char* digits = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = digits[h & 15];
    return out;
}

// --- estimates ---

std::int64_t estimate_tokens(std::string_view text) {
    if (text.empty()) return 0;
    return static_cast<std::int64_t>((text.size() + 3) / 4);
}

std::int64_t estimate_tokens(const ProviderRequest& request) {
    std::int64_t n = estimate_tokens(request.system_prompt);
    for (const auto& m : request.messages) {
        n += 4 + estimate_tokens(m.text);
        for (const auto& c : m.tool_calls)
            n += estimate_tokens(c.name) + estimate_tokens(json::serialize(c.arguments));
        if (m.tool_result)
            n += estimate_tokens(json::serialize(m.tool_result->content)) +
                 estimate_tokens(m.tool_result->error);
    }
    for (const auto& t : request.tools)
        n += estimate_tokens(t.name) + estimate_tokens(t.description) +
             estimate_tokens(json::serialize(t.parameters));
    return n;
}

double estimate_confidence(std::string_view text, std::string_view finish_reason, bool used_tools) {
    if (text::trim(text).empty()) return 0.0;
    std::string finish = ascii_lower(finish_reason);
    if (finish == "safety" || finish == "content_filter" || finish == "recitation" || finish == "blocklist" ||
        finish == "prohibited_content")
        return 0.2;
    double c = 0.8;
    if (finish == "length" || finish == "max_tokens") c = 0.5;
    static const char* hedges[] = {
        "emin degilim",       "bilmiyorum",    "bilgim yok",   "bilgiye sahip degilim", "yardimci olamiyorum",
        "maalesef bu konuda", "not sure",      "i don t know", "i do not know",         "i m unable",
        "i am unable",        "i cannot help", "i can t help", "no information"};
    std::string folded = text::fold(text);
    for (const char* h : hedges) {
        if (folded.find(h) != std::string::npos) {
            c = std::min(c, 0.35);
            break;
        }
    }
    if (used_tools && c >= 0.8) c = 0.9;
    return c;
}

SteadyTime deadline_of(const ProviderRequest& request, Millis fallback) {
    if (request.deadline != SteadyTime{}) return request.deadline;
    return std::chrono::steady_clock::now() + fallback;
}

}  // namespace tezgah::sdk::llm
