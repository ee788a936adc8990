#pragma once
// The engine's HTTP client for plugins (language-model providers, channels that send), behind
// host.http(). HTTP/1.1 over Poco sockets, https:// with verified TLS 1.2+, proxies from the
// environment, a pool of keep-alive connections, a total time limit per request, the turn's
// deadline and cancellation, and incremental delivery of the body for server-sent events.
//
// Error codes: "timeout", "unavailable" (refused, reset, DNS, closed early), "tls", "cancelled",
// "bad_response", "unsupported" (scheme), "invalid_argument" (malformed URL, method or header),
// "internal" (the caller's on_chunk threw). Messages name the URL without its query string and
// never quote header values. See docs/plugin-authoring.md, "Outbound HTTP (host.http())".

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <tezgah/sdk/host.hpp>

namespace tezgah::engine {

/// Limits for the outbound calls made on this thread (the engine sets them around a provider call).
struct CallLimits {
    std::chrono::steady_clock::time_point deadline{};  ///< zero: none
    const std::atomic<bool>* cancelled = nullptr;      ///< set when the customer left; not owned
};

/// Installs `limits` for this thread until destroyed (nests: the previous ones come back).
class ScopedCallLimits {
public:
    explicit ScopedCallLimits(CallLimits limits);
    ~ScopedCallLimits();
    ScopedCallLimits(const ScopedCallLimits&) = delete;
    ScopedCallLimits& operator=(const ScopedCallLimits&) = delete;

private:
    CallLimits previous_;
};

/// The limits installed on this thread (none by default).
const CallLimits& current_call_limits();

/// How many requests send() was asked for on this thread so far (the engine counts a provider
/// call's retries with it).
std::uint64_t requests_sent_on_this_thread();

/// Swaps this thread's call limits and count of requests sent with `limits` and `sent`: a turn
/// running as a coroutine takes them along when it moves to another thread (util/coroutine.hpp).
void swap_call_state(CallLimits& limits, std::uint64_t& sent);

class PocoHttpClient : public tezgah::sdk::HttpClient {
public:
    struct Options {
        std::size_t max_idle_per_origin = 32;             ///< idle keep-alive connections kept per origin
        std::chrono::milliseconds idle_expiry{30000};     ///< an idle connection older than this is closed
        std::chrono::milliseconds connect_timeout{5000};  ///< at most this (and at most the total) to connect
        std::size_t max_body_bytes = 32u << 20;           ///< a longer response body is "bad_response"
    };

    PocoHttpClient();
    explicit PocoHttpClient(Options options);
    ~PocoHttpClient() override;
    PocoHttpClient(const PocoHttpClient&) = delete;
    PocoHttpClient& operator=(const PocoHttpClient&) = delete;

    /// Thread-safe. Transport failures are errors; any HTTP status is a response.
    tezgah::sdk::Result<tezgah::sdk::HttpResponse> send(const tezgah::sdk::OutboundRequest& request) override;

    /// Idle connections in the pool now (all origins).
    std::size_t idle_connections() const;

    class Pool;  // internal (http_connection.hpp)

private:
    Options options_;
    std::unique_ptr<Pool> pool_;
};

}  // namespace tezgah::engine
