#pragma once
// The conversations list operators and the console read (docs/operators.md, "Conversations and
// handoff"): filtered by state, channel, customer, text and time, each with what an inbox shows
// (its last message, how many messages, its open ticket, its agent, the customer's name). One query
// per page,
// whatever the page's size: a page is chosen first, then its rows are completed.

#include "store/handoffs.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine {

struct ConversationFilter {
    std::string status;   ///< empty: any. handed_over lists the newest handover first
    std::string channel;  ///< empty: any
    std::string user_id;  ///< empty: any
    /// Text in any of its messages, matched case-insensitively and with Turkish letters and their
    /// ASCII forms alike ("İPEK", "ipek" and "IPEK" find "İpek"; "sac" finds "saç"). Empty: any.
    std::string text;
    /// The agent it is assigned to (conversations.assignee, schema 15); "": nobody's. None: any.
    std::optional<std::string> assignee;
    long long active_from_ms = 0;   ///< last message at or after (ms); 0: no bound
    long long active_until_ms = 0;  ///< last message before (ms); 0: no bound
    std::size_t limit = 50;
    std::string cursor;  ///< `next` of the page before; empty: the first page
};

/// A conversation's last message as a list shows it.
struct LastMessage {
    std::string role;  ///< user | assistant | operator
    std::string text;  ///< at most kLastMessageCharacters characters
    std::chrono::system_clock::time_point at{};
};
inline constexpr std::size_t kLastMessageCharacters = 200;

/// The ticket a list shows with a conversation: its latest one not resolved.
struct TicketSummary {
    std::string id, reason, category, priority, status;
    std::chrono::system_clock::time_point created_at{};
};

/// Who a conversation is assigned to, as lists show it.
struct AssigneeRef {
    std::string id;
    std::string name;
};

struct ConversationSummary : ConversationInfo {
    std::optional<AssigneeRef> assignee;      ///< none: nobody's (or an agent since removed)
    std::optional<LastMessage> last_message;  ///< none: no message (a silent reply is none)
    long long message_count = 0;              ///< messages anyone sent (a silent reply is none)
    std::optional<TicketSummary> ticket;
    std::string customer_name;  ///< the channel's profile name, else an appointment's name; "" unknown
};

struct ConversationPage {
    std::vector<ConversationSummary> conversations;
    std::string next;  ///< empty: no more
};

/// The tenant's conversations, the most recently active first (the newest handover first for
/// status handed_over). "invalid_value" for a bad cursor.
sdk::Result<ConversationPage> list_conversations(Database& db, const std::string& tenant_id,
                                                 const ConversationFilter& filter);

/// `text` as a pattern that finds it inside a message on `backend` (GLOB on SQLite, a regular
/// expression on PostgreSQL), each letter standing for its cases and Turkish forms. Exposed for tests.
std::string text_pattern(std::string_view text, Backend backend);

}  // namespace tezgah::engine
