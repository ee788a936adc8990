#pragma once
// The assistant part of a turn (Engine::run_assistant): the response cache, the budget, and the
// provider chain with its deadline, tool calls and fallbacks; and the client's stream, whose way
// of receiving the reply is decided once per turn. Internal to the pipeline.

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

/// How the reply reaches a client that wants it as it is made, decided once per turn: `live`
/// (no rule may rewrite the reply) lets a streaming provider's text through as it comes; otherwise,
/// or when the provider does not stream, the whole reply goes once the turn knows it.
class ReplyStream final : public sdk::StreamSink {
public:
    /// `client` may be null (a plain JSON request); `live` as above.
    ReplyStream(sdk::StreamSink* client, bool live);

    /// What a provider that streams is handed: this stream when live, else null.
    sdk::StreamSink* for_provider(bool provider_streams) {
        return live_ && provider_streams ? this : nullptr;
    }
    void on_text(std::string_view delta) override;
    /// A provider failed after streaming part of its answer: the client is told to forget it.
    void withdraw();
    /// The turn's final reply: the client gets it whole unless it has already streamed.
    void finish(const std::string& reply);

private:
    sdk::StreamSink* client_;
    TurnStream* events_;  ///< the client, when it can withdraw text
    bool live_;
    std::string streamed_;
};

/// What run_assistant needs to know about the turn.
struct AssistantInput {
    Tenant& tenant;
    const sdk::InboundMessage& message;
    const std::string& language;               ///< the reply's language
    const std::deque<StoredMessage>& history;  ///< earlier messages, oldest first
    sdk::TurnContext& turn;                    ///< the turn; `turn.session` is the session state
    std::chrono::steady_clock::time_point started;
    const std::atomic<bool>* cancelled;  ///< the customer left (may be null)
    ReplyStream& stream;
    bool handoff_requested = false;  ///< a rule already asked for a person: the answer is not cached
};

/// What the assistant answered.
struct AssistantOutcome {
    std::string reply;
    std::string method;  ///< llm | intent | cache | fallback
    double confidence = 1;
    std::string language;  ///< the reply's language when the provider said; empty: the turn's
    bool handoff = false;  ///< the provider judged that a person should take over
    std::string handoff_reason;
    std::vector<sdk::ToolCallSummary> tool_calls;  ///< as the reply reports them
    std::vector<ToolCallRecord> calls;             ///< the function-call log
    std::vector<UsageRecord> usage;                ///< one row per provider call
    sdk::Usage tokens;                             ///< summed over the calls
    double cost_usd = 0;
    std::vector<sdk::ReplyOption> options;  ///< what the customer can pick next (pipeline/choices.hpp)
    std::vector<sdk::ReplyCard> cards;
};

}  // namespace tezgah::engine
