#pragma once
// What operators read and change (docs/operators.md, "Conversations and handoff"): a
// conversation's state (bot | handed_over | closed), its tickets, and the messages operators write
// (role "operator" in `messages`). Kept in its own file on Database::read/write, like the keys.
// Every query filters on tenant_id; times are ms since the epoch (schema version 10).

#include "store/database.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine {

/// The states of a conversation, as stored in conversations.status.
inline constexpr const char* kStatusBot = "bot";
inline constexpr const char* kStatusHandedOver = "handed_over";
inline constexpr const char* kStatusClosed = "closed";
bool valid_conversation_status(std::string_view status);

/// A conversation as operators list it.
struct ConversationInfo {
    std::string id;
    std::string tenant_id;
    std::string user_id;
    std::string channel;
    std::string session_id;
    std::string status = kStatusBot;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point updated_at{};   ///< its last message
    std::chrono::system_clock::time_point status_at{};    ///< the status last changed (epoch: never)
    std::chrono::system_clock::time_point operator_at{};  ///< an operator last took over or wrote
};

/// A ticket: made when a conversation is handed over (docs/operators.md).
struct Ticket {
    std::string id;
    std::string tenant_id;
    std::string conversation_id;
    std::string user_id;
    std::string channel;
    std::string reason;
    std::string category;
    std::string priority;         ///< low | medium | high | urgent
    std::string status = "open";  ///< open | assigned | resolved
    std::string assignee;
    boost::json::array transcript;  ///< [{"role", "text", "at"}] at the time of the handoff
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point updated_at{};
};
boost::json::object to_json(const Ticket& ticket, bool with_transcript = true);
boost::json::object to_json(const ConversationInfo& conversation);
bool valid_ticket_status(std::string_view status);
bool valid_ticket_priority(std::string_view priority);

/// A stored message as operators read it.
struct OperatorView {
    long long seq = 0;
    std::string id;
    std::string role;  ///< user | assistant | operator
    std::string text;
    std::string method;
    std::chrono::system_clock::time_point at{};
    bool handoff = false;  ///< a reply that handed the conversation over (its stored JSON says so)
};

/// The tenant's conversation `id`; none when it has none by that id.
sdk::Result<std::optional<ConversationInfo>> find_conversation(Database& db, const std::string& tenant_id,
                                                               const std::string& id);
/// The list of a tenant's conversations: store/conversation_list.hpp.
/// The conversation's messages, oldest first, at most `limit` (the latest ones).
sdk::Result<std::vector<OperatorView>> conversation_messages(Database& db, const std::string& tenant_id,
                                                             const std::string& conversation_id,
                                                             std::size_t limit);

/// A turn asked for a person: in one transaction, the conversation goes to handed_over and
/// `ticket` (id, user, channel, reason, category, priority set by the caller) is stored with the
/// transcript so far. None (and nothing written) when the conversation was handed over already.
sdk::Result<std::optional<Ticket>> hand_over(Database& db, Ticket ticket,
                                             std::chrono::system_clock::time_point now);
/// An operator takes over (from bot or closed): true when the state changed. False also when it
/// was handed over already (the operator's time is still moved on). "not_found" for no such conversation.
sdk::Result<bool> take_over(Database& db, const std::string& tenant_id, const std::string& conversation_id,
                            std::chrono::system_clock::time_point now);
/// Back to the bot: true when it was handed over (or closed). `only_if_idle_before`: only when no
/// operator acted since then (the release_after_minutes sweep); the epoch: unconditionally.
sdk::Result<bool> give_back(Database& db, const std::string& tenant_id, const std::string& conversation_id,
                            std::chrono::system_clock::time_point now,
                            std::chrono::system_clock::time_point only_if_idle_before = {});
/// Stores an operator's message (role operator) and takes the conversation over when the bot had
/// it. Returns the stored message. "not_found" for no such conversation.
sdk::Result<OperatorView> store_operator_message(Database& db, const std::string& tenant_id,
                                                 const std::string& conversation_id, const std::string& text,
                                                 const std::string& language,
                                                 std::chrono::system_clock::time_point now);
/// Operator messages the customer has not been given yet on a channel that cannot be pushed to
/// (the chat API, /webhook): returned once, oldest first, and marked given.
sdk::Result<std::vector<OperatorView>> take_operator_messages(Database& db, const std::string& tenant_id,
                                                              const std::string& conversation_id);
/// Handed-over conversations of the tenant whose operator (or handoff) has been silent since
/// `idle_before`.
sdk::Result<std::vector<ConversationInfo>> idle_handovers(Database& db, const std::string& tenant_id,
                                                          std::chrono::system_clock::time_point idle_before);
/// The tenants with a handed-over conversation: the release sweep visits these alone, so that ten
/// thousand tenants with none are neither loaded nor kept from being unloaded when idle.
sdk::Result<std::vector<std::string>> tenants_with_handovers(Database& db);

/// Tickets of the tenant, the newest first; `status` or `conversation_id` empty: any.
sdk::Result<std::vector<Ticket>> list_tickets(Database& db, const std::string& tenant_id,
                                              const std::string& status, const std::string& conversation_id,
                                              std::size_t limit);
struct TicketPatch {
    std::optional<std::string> status;
    std::optional<std::string> assignee;
    std::optional<std::string> priority;
};
/// Changes a ticket; none when the tenant has no such ticket.
sdk::Result<std::optional<Ticket>> update_ticket(Database& db, const std::string& tenant_id,
                                                 const std::string& id, const TicketPatch& patch,
                                                 std::chrono::system_clock::time_point now);

}  // namespace tezgah::engine
