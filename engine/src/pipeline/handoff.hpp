#pragma once
// Handoff to a person (DESIGN "Operators: keys, conversations, handoff"; docs/operators.md,
// "Conversations and handoff"). A conversation is `bot`, `handed_over` or `closed`. A turn that
// sets `handoff` for a tenant that enables the `handoff` tool hands it over: a ticket with the
// transcript, one acknowledgement to the customer (the turn's reply), and the events `handoff`
// and `ticket`. While handed over the bot is silent; operators take over, answer on the customer's
// own channel and release through the API (http/conversations_api.cpp), or the conversation goes
// back to the bot after `release_after_minutes` without a word from an operator, checked when the
// customer writes next and by a sweep every minute.

#include "outbox/outbox.hpp"
#include "store/handoffs.hpp"
#include "tenants/tenant.hpp"
#include "util/events.hpp"
#include "util/periodic.hpp"

#include <tezgah/sdk/plugin.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::engine {

/// The `handoff` tool's settings a tenant enables (none: the tenant does not).
struct HandoffSettings {
    std::chrono::minutes release_after{60};
};
std::optional<HandoffSettings> handoff_settings(const Tenant& tenant);

/// The ticket priority a reason calls for: a complaint, an injury or harm is high; a customer who
/// asked for a person medium; low confidence low; anything else medium.
std::string priority_for_reason(std::string_view reason);
/// The ticket category of a reason ("complaint", "injury", "request", "topic", "low_confidence", ...).
std::string category_for_reason(std::string_view reason);
/// "A person will answer you here shortly", in `language` (tr, else en).
std::string handoff_acknowledgement(std::string_view language, const sdk::TenantProfile& profile);

/// How a turn of a conversation goes, given its state.
struct TurnGate {
    bool handed_over = false;  ///< the bot stays silent
    /// Operator messages to give the customer with this turn (channels that cannot be pushed to).
    std::vector<OperatorView> relay;
};

/// Where an operator's reply went.
struct OperatorDelivery {
    OperatorView message;
    ConversationInfo conversation;
    std::string via;  ///< outbox | widget | next_turn
    std::string outbox_id;
};

class Handoffs {
public:
    using TenantLookup = std::function<sdk::Result<std::shared_ptr<Tenant>>(const std::string&)>;
    /// Loaded tenants' ids (for the sweep).
    using TenantIds = std::function<std::vector<std::string>()>;
    Handoffs(Database& db, EventHub& events, Outbox& outbox, TenantLookup tenants, TenantIds tenant_ids,
             const sdk::Clock* clock);
    ~Handoffs();
    Handoffs(const Handoffs&) = delete;
    Handoffs& operator=(const Handoffs&) = delete;

    void set_clock(const sdk::Clock* clock) { clock_ = clock; }

    /// Before a turn of `conversation_id` on `channel` (the customer's message is stored): whether
    /// the bot is silent, and the operator messages that this turn hands to the customer. A
    /// conversation whose operators have been silent past release_after_minutes is released here.
    /// `status`: the conversation's status as the message was stored (Database::append_message),
    /// when known; a conversation the bot holds then needs no read.
    sdk::Result<TurnGate> before_turn(const Tenant& tenant, const std::string& conversation_id,
                                      const std::string& channel, const std::string* status = nullptr);
    /// A turn set `handoff`: for a tenant with the handoff tool, hands the conversation over and
    /// opens its ticket (none when the tenant has no handoff tool or it was handed over already).
    /// `customer_text`: the message that led to it (the events' `text`).
    std::optional<Ticket> hand_over(const Tenant& tenant, const std::string& conversation_id,
                                    const std::string& user_id, const std::string& channel,
                                    const std::string& reason, const std::string& category,
                                    const std::string& priority, const std::string& customer_text);

    /// The operator API's actions. Errors: not_found (no such conversation of the tenant).
    sdk::Result<ConversationInfo> take_over(const std::string& tenant_id, const std::string& conversation_id);
    sdk::Result<OperatorDelivery> reply(const std::string& tenant_id, const std::string& conversation_id,
                                        const std::string& text);
    sdk::Result<ConversationInfo> release(const std::string& tenant_id, const std::string& conversation_id);
    /// Publishes the `ticket` event of a changed ticket.
    void ticket_changed(const Ticket& ticket);
    /// A customer's message or the bot's reply, for `/events` (`from`: customer | bot).
    void message_event(const std::string& tenant_id, const std::string& conversation_id,
                       const std::string& user_id, const std::string& channel, const std::string& from,
                       const std::string& text, bool handed_over);

    /// Releases the conversations whose operators have been silent too long, for every loaded
    /// tenant with the handoff tool; how many were released.
    std::size_t sweep();
    /// Runs sweep() every `interval` on a thread until stop() (serve).
    void start(std::chrono::milliseconds interval = std::chrono::minutes(1));
    void stop();

private:
    void publish_release(const ConversationInfo& conversation, const std::string& by);

    Database& db_;
    EventHub& events_;
    Outbox& outbox_;
    TenantLookup tenants_;
    TenantIds tenant_ids_;
    std::atomic<const sdk::Clock*> clock_;

    Periodic sweeper_;  ///< last: stopped before the members its sweep() uses go
};

}  // namespace tezgah::engine
