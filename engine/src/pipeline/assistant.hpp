#pragma once
// The assistant part of a turn (Engine::run_assistant): the response cache, the budget, and the
// provider chain with its deadline, tool calls and fallbacks. Internal to the pipeline.

#include "store/database.hpp"
#include "tenants/tenant.hpp"

#include <tezgah/sdk/plugin.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <string>
#include <vector>

namespace tezgah::engine {

class TurnStream;

/// Passes text on to the client's sink, counting what went through.
class CountingSink : public sdk::StreamSink {
public:
    explicit CountingSink(sdk::StreamSink* next) : next_(next) {}
    void on_text(std::string_view delta) override {
        streamed_ += delta;
        if (next_) next_->on_text(delta);
    }
    const std::string& streamed() const { return streamed_; }
    void clear() { streamed_.clear(); }

private:
    sdk::StreamSink* next_;
    std::string streamed_;
};

/// Runs a plugin call, turning an exception into an Error{"plugin_failed"}.
template <class F>
auto guarded(const std::string& what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::exception& e) {
        return sdk::Error{"plugin_failed", what + " threw: " + e.what()};
    } catch (...) {
        return sdk::Error{"plugin_failed", what + " threw an unknown exception"};
    }
}

/// Everything run_assistant reads and writes, owned by run_turn.
struct AssistantTurn {
    Tenant& tenant;
    const sdk::InboundMessage& message;
    const std::string& language;
    const std::deque<StoredMessage>& history;
    json::object& state;
    sdk::TurnContext& turn;
    std::chrono::steady_clock::time_point started;
    const std::atomic<bool>* cancelled;  ///< the customer left (may be null)
    CountingSink* direct;                ///< text streamed straight to the client, or null
    TurnStream* events;                  ///< the client's stream, when it can withdraw text
    sdk::TurnReply& out;
    std::string& handoff_reason;
    std::vector<ToolCallRecord>& calls;
    std::vector<UsageRecord>& usage;
};

}  // namespace tezgah::engine
