// The provider helpers of the SDK: server-sent events, retries, the circuit breaker, estimates.
#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/testing/fakes.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace tezgah::sdk::llm {
namespace {

using namespace std::chrono_literals;

std::vector<SseEvent> parse_in_pieces(const std::string& stream, std::size_t piece) {
    SseParser parser;
    std::vector<SseEvent> events;
    auto keep = [&](const SseEvent& e) { events.push_back(e); };
    for (std::size_t i = 0; i < stream.size(); i += piece)
        parser.feed(std::string_view(stream).substr(i, piece), keep);
    parser.finish(keep);
    return events;
}

TEST(SseParser, EventsArriveWhateverTheChunkingAndLineEnds) {
    const std::string stream =
        ": keep-alive\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: delta\ndata: line one\ndata: line two\n\ndata: "
        "[DONE]\n\n";
    for (std::size_t piece : {1u, 3u, 7u, 1000u}) {
        auto events = parse_in_pieces(stream, piece);
        ASSERT_EQ(events.size(), 3u) << "piece " << piece;
        EXPECT_EQ(events[0].data, "{\"a\":1}");
        EXPECT_EQ(events[1].event, "delta");
        EXPECT_EQ(events[1].data, "line one\nline two");
        EXPECT_EQ(events[2].data, "[DONE]");
    }
}

TEST(SseParser, ALastEventWithoutABlankLineIsDeliveredAtTheEnd) {
    auto events = parse_in_pieces("data: {\"x\":1}\r\n\r\ndata: {\"x\":2}", 5);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].data, "{\"x\":2}");
}

HttpResponse status(int code, std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse r;
    r.status = code;
    r.headers = std::move(headers);
    r.body = "{}";
    return r;
}

TEST(SendWithRetries, RetriesServerErrorsAndTimeoutsThenReturnsTheAnswer) {
    testing::FakeHttpClient http;
    http.responses.push_back(status(503));
    http.responses.push_back(Error{"timeout", "http://x: timed out"});
    http.responses.push_back(status(200));
    RetryReport report;
    auto r = send_with_retries(http, OutboundRequest{}, RetryPolicy{3, 1ms, 5ms},
                               std::chrono::steady_clock::now() + 10s, {}, &report);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(report.attempts, 3);
    EXPECT_EQ(http.sent.size(), 3u);
}

TEST(SendWithRetries, ClientErrorsAreNotRetried) {
    testing::FakeHttpClient http;
    http.responses.push_back(status(400));
    http.responses.push_back(status(200));
    auto r = send_with_retries(http, OutboundRequest{}, RetryPolicy{3, 1ms, 5ms},
                               std::chrono::steady_clock::now() + 10s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(http.sent.size(), 1u);
}

TEST(SendWithRetries, GivesUpAtOnceWhenTheServersDelayOutlastsTheDeadline) {
    testing::FakeHttpClient http;
    http.responses.push_back(status(429, {{"Retry-After", "30"}}));
    http.responses.push_back(status(200));
    const auto started = std::chrono::steady_clock::now();
    auto r = send_with_retries(http, OutboundRequest{}, RetryPolicy{3, 1ms, 60000ms}, started + 2s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 429);
    EXPECT_EQ(http.sent.size(), 1u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);  // did not wait the 30 s
}

TEST(SendWithRetries, HonoursTheServersDelayWhenThereIsTime) {
    testing::FakeHttpClient http;
    http.responses.push_back(status(429));
    http.responses.push_back(status(200));
    const auto started = std::chrono::steady_clock::now();
    auto r = send_with_retries(http, OutboundRequest{}, RetryPolicy{3, 1ms, 5000ms}, started + 20s,
                               [](const HttpResponse&) { return std::optional<Millis>(300ms); });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
    EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
}

TEST(SendWithRetries, EachAttemptsTimeoutIsClampedToTheDeadline) {
    testing::FakeHttpClient http;
    http.responses.push_back(status(200));
    OutboundRequest request;
    request.timeout_ms = 60000;
    auto r = send_with_retries(http, request, RetryPolicy{}, std::chrono::steady_clock::now() + 2s);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(http.sent.size(), 1u);
    EXPECT_LE(http.sent[0].timeout_ms, 2000);
    EXPECT_GT(http.sent[0].timeout_ms, 0);
}

TEST(SendWithRetries, APastDeadlineSendsNothing) {
    testing::FakeHttpClient http;
    http.responses.push_back(status(200));
    auto r =
        send_with_retries(http, OutboundRequest{}, RetryPolicy{}, std::chrono::steady_clock::now() - 1ms);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "deadline_exceeded");
    EXPECT_TRUE(http.sent.empty());
}

TEST(RetryAfter, ReadsSecondsAndDurations) {
    EXPECT_EQ(retry_after(status(429, {{"retry-after", "7"}})), Millis(7000));
    EXPECT_FALSE(retry_after(status(429)).has_value());
    EXPECT_EQ(parse_duration("19s"), Millis(19000));
    EXPECT_EQ(parse_duration("0.5s"), Millis(500));
    EXPECT_FALSE(parse_duration("soon").has_value());
    EXPECT_FALSE(parse_duration("-3s").has_value());
}

/// A steady clock that stands still until the test moves it.
struct ManualClock {
    SteadyTime now = std::chrono::steady_clock::now();
    TimeSource source() {
        return [this] { return now; };
    }
};

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresAndLetsOneTrialThroughAfterTheCoolDown) {
    ManualClock clock;
    CircuitBreaker breaker(3, 200ms, clock.source());
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(breaker.allow());
        breaker.record_failure();
    }
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::open);
    EXPECT_FALSE(breaker.allow());
    clock.now += 199ms;
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::open);
    EXPECT_FALSE(breaker.allow());  // still cooling down
    clock.now += 1ms;
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::half_open);
    EXPECT_TRUE(breaker.allow());   // the trial
    EXPECT_FALSE(breaker.allow());  // one at a time
    breaker.record_success();
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::closed);
    EXPECT_TRUE(breaker.allow());
}

TEST(CircuitBreaker, AFailedTrialOpensItAgainForAWholeCoolDown) {
    ManualClock clock;
    CircuitBreaker breaker(1, 10s, clock.source());
    ASSERT_TRUE(breaker.allow());
    breaker.record_failure();
    clock.now += 10s;
    ASSERT_TRUE(breaker.allow());  // the trial
    breaker.record_failure();
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::open);
    clock.now += 9s;
    EXPECT_FALSE(breaker.allow());
    clock.now += 1s;
    EXPECT_TRUE(breaker.allow());
}

TEST(CircuitBreaker, ASuccessResetsTheCount) {
    CircuitBreaker breaker(2, 10s);
    breaker.record_failure();
    breaker.record_success();
    breaker.record_failure();
    EXPECT_TRUE(breaker.allow());
}

TEST(CircuitBreaker, TenantsSharingACredentialShareTheBreaker) {
    auto a = circuit_breaker("test|https://x|" + fingerprint("key-1"));
    auto b = circuit_breaker("test|https://x|" + fingerprint("key-1"));
    auto c = circuit_breaker("test|https://x|" + fingerprint("key-2"));
    EXPECT_EQ(a.get(), b.get());
    EXPECT_NE(a.get(), c.get());
    EXPECT_EQ(fingerprint("key-1").find("key"), std::string::npos);
}

TEST(BreakerOutcome, TransportErrorsFailExceptWhenTheCallWasGivenUp) {
    for (const char* code : {"timeout", "unavailable", "tls", "bad_response", "internal"})
        EXPECT_EQ(breaker_outcome(Error{code, "x"}), CallOutcome::failure) << code;
    for (const char* code : {"cancelled", "deadline_exceeded"})
        EXPECT_EQ(breaker_outcome(Error{code, "x"}), CallOutcome::abandoned) << code;
}

TEST(BreakerOutcome, OverloadRateLimitsServerErrorsAndRefusedCredentialsFail) {
    for (int code : {401, 403, 408, 429, 500, 502, 503, 504, 599})
        EXPECT_EQ(breaker_outcome(status(code)), CallOutcome::failure) << code;
    for (int code : {200, 204, 301, 400, 404, 409, 422})
        EXPECT_EQ(breaker_outcome(status(code)), CallOutcome::success) << code << ": the server answered";
}

TEST(BreakerCall, RecordsTheFirstOutcomeOnly) {
    CircuitBreaker breaker(2, 10s);
    {
        BreakerCall call(breaker);
        ASSERT_TRUE(call.allowed());
        call.record(CallOutcome::failure);
        call.record(CallOutcome::success);  // ignored: the failure stands
    }
    {
        BreakerCall call(breaker);
        call.record(CallOutcome::failure);
    }
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::open);
}

TEST(BreakerCall, AnAbandonedTrialFreesTheSlotAndCountsNothing) {
    ManualClock clock;
    CircuitBreaker breaker(1, 10s, clock.source());
    BreakerCall(breaker).record(CallOutcome::failure);
    clock.now += 10s;
    {
        BreakerCall trial(breaker);
        ASSERT_TRUE(trial.allowed());
        EXPECT_FALSE(BreakerCall(breaker).allowed());  // one trial at a time
        trial.record(CallOutcome::abandoned);
    }
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::half_open);
    BreakerCall next(breaker);
    EXPECT_TRUE(next.allowed()) << "the next call is the trial";
    next.record(CallOutcome::success);
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::closed);
}

TEST(BreakerCall, ATrialThatEndsWithoutAnOutcomeIsAFailureAndDoesNotBlockTheBreaker) {
    ManualClock clock;
    CircuitBreaker breaker(1, 10s, clock.source());
    BreakerCall(breaker).record(CallOutcome::failure);
    clock.now += 10s;
    try {
        BreakerCall trial(breaker);
        ASSERT_TRUE(trial.allowed());
        throw std::runtime_error("the call went wrong");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::open) << "the lost trial counted as a failure";
    EXPECT_FALSE(BreakerCall(breaker).allowed());
    clock.now += 10s;
    BreakerCall later(breaker);
    EXPECT_TRUE(later.allowed()) << "after the cool-down, a new trial goes through";
}

TEST(BreakerCall, ARefusedCallRecordsNothing) {
    CircuitBreaker breaker(1, 10s);
    BreakerCall(breaker).record(CallOutcome::failure);
    {
        BreakerCall refused(breaker);
        EXPECT_FALSE(refused.allowed());
        refused.record(CallOutcome::success);  // ignored: it never went out
    }
    EXPECT_EQ(breaker.state(), CircuitBreaker::State::open);
}

TEST(Estimates, ConfidenceFollowsHowTheAnswerEnded) {
    EXPECT_GE(estimate_confidence("Saten gecelik 899 TL, stokta var.", "STOP", true), 0.85);
    EXPECT_LT(estimate_confidence("Saten gecelik 899 TL ve", "MAX_TOKENS", false), 0.6);
    EXPECT_LT(estimate_confidence("Bu konuda emin değilim, mağazayı arayın.", "stop", false), 0.5);
    EXPECT_LT(estimate_confidence("I'm not sure about that.", "stop", false), 0.5);
    EXPECT_LT(estimate_confidence("", "stop", false), 0.1);
    EXPECT_LT(estimate_confidence("...", "SAFETY", false), 0.3);
    EXPECT_EQ(estimate_tokens(""), 0);
    EXPECT_EQ(estimate_tokens("abcd"), 1);
    EXPECT_EQ(estimate_tokens("abcde"), 2);
}

}  // namespace
}  // namespace tezgah::sdk::llm
