#pragma once
// The limiter: what a tenant's plan (ops/plans.hpp) allows, held over every instance of the engine
// through SharedState (local memory, or Redis with `--redis`). Checked where a turn starts
// (Engine::handle and Engine::handle_burst), before anything is stored or sent to a model:
//   messages_per_minute           the tenant's turns in this unix minute      rl:t:<tenant>:<minute>
//   customer_messages_per_minute  one customer's turns in this unix minute    rl:c:<tenant>:<user>:<minute>
//   llm_tokens_per_day            model tokens on the tenant's local date     tok:<tenant>:<date>
//   turns_in_flight               the tenant's turns running now              inflight:<tenant>
// One add_all() round trip admits a turn (the two minute counters +1, in flight +1, the day's tokens
// +0 to read them); a refusal takes its increments back in one more, so a refused message uses none
// of the tenant's or another customer's allowance. The turn's Admission gives its place in flight
// back, and adds the turn's tokens, in one round trip when it ends, whichever way it ends.

#include "ops/plans.hpp"
#include "shared/shared_state.hpp"

#include <tezgah/sdk/result.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tezgah::engine {

/// A turn the limiter refused.
struct Refusal {
    Limit limit = Limit::messages_per_minute;
    std::chrono::seconds retry_after{1};  ///< to the end of the window (the Retry-After header)
    std::string plan;
    long long figure = 0;  ///< what the plan allows
};

/// The error of a refused turn (code rate_limited), with a message that names the limit, the plan
/// and when to try again.
sdk::Error refusal_error(const std::string& tenant, const Refusal& refusal);
/// The refusal an error made by refusal_error() carries (the HTTP layer's 429 and the channels'
/// polite reply read it back); none for any other error.
std::optional<Refusal> refusal_of(const sdk::Error& error);

/// What the limiter needs to know of a turn.
struct LimitSubject {
    std::string tenant;
    std::string plan;      ///< the manifest's `plan`; empty: no plan, no limits
    std::string user;      ///< the customer
    std::string timezone;  ///< the tenant's `locale.timezone`: when its token day ends
};

class Limiter {
public:
    /// A turn let through: holds its place among the tenant's turns in flight until destroyed.
    class Admission {
    public:
        Admission() = default;
        Admission(Admission&& other) noexcept;
        Admission& operator=(Admission&& other) noexcept;
        Admission(const Admission&) = delete;
        Admission& operator=(const Admission&) = delete;
        /// Gives the place back and adds the tokens (one round trip).
        ~Admission();

        /// Set when the turn was refused (then nothing is held).
        const std::optional<Refusal>& refusal() const { return refusal_; }
        /// Tokens the turn's model calls used, added to the tenant's day when the turn ends.
        void add_tokens(long long tokens) { tokens_ += tokens; }

    private:
        friend class Limiter;
        void release() noexcept;
        SharedState* shared_ = nullptr;  ///< null: nothing held
        std::string in_flight_key_;
        std::string tokens_key_;
        long long tokens_ = 0;
        std::optional<Refusal> refusal_;
    };

    /// Where one figure stands now (the analytics route).
    struct Standing {
        Limit limit = Limit::messages_per_minute;
        std::optional<long long> figure;  ///< none: unlimited
        long long used = 0;
    };

    Limiter(SharedState& shared, Plans plans) : shared_(shared), plans_(std::move(plans)) {}

    const Plans& plans() const { return plans_; }
    /// The figures of a tenant on `plan`: null when it has none (no plan, no plans file, or a plan
    /// the file leaves out).
    const Plan* plan_of(std::string_view plan) const;

    /// Counts a turn of `who` at `now` and lets it through, or refuses it.
    Admission admit(const LimitSubject& who, std::chrono::system_clock::time_point now);

    /// The refusal of every turn of `tenant` at `now`, when this instance saw one of the tenant's
    /// whole limits reached (messages_per_minute, llm_tokens_per_day) and its window has not
    /// ended: a counter that reached its figure stays there until then, so admit() answers without
    /// a round trip to the shared state, and the HTTP server can send such a chat request to
    /// the refusals' own workers instead of the chat workers (http/server.cpp).
    std::optional<Refusal> blocked(const std::string& tenant, std::chrono::system_clock::time_point now);

    /// Whether `who` is to be told of `refusal` now: true the first time in the refusal's window
    /// (`rl:told:<tenant>:<user>:<window>`), false after, until the window ends.
    bool tell_once(const LimitSubject& who, const Refusal& refusal,
                   std::chrono::system_clock::time_point now);

    /// The tenant's figures and what it used of them in the current windows (`who.user` empty: the
    /// customer figure shows its limit only). Empty when the tenant has no plan figures.
    std::vector<Standing> standing(const LimitSubject& who, std::chrono::system_clock::time_point now);

private:
    struct Block {
        Refusal refusal;
        std::chrono::system_clock::time_point until;
    };

    SharedState& shared_;
    Plans plans_;
    std::mutex blocks_mutex_;
    std::unordered_map<std::string, Block> blocks_;  ///< tenant → its whole limit reached, until
};

}  // namespace tezgah::engine
