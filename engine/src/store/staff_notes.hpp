#pragma once
// What the console's staff keep beside a conversation (docs/console.md, "Staff accounts and
// sign-in"): private notes on a conversation, never shown to the customer, and canned replies —
// an agent's own, or shared with the whole tenant. Each names who wrote it (an agent or a key) with
// the name it had then. Every query filters on tenant_id; times are ms since the epoch (schema 15).

#include "store/database.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine {

/// Who wrote a note or owns a canned reply.
struct StaffAuthor {
    std::string kind;  ///< agent | key
    std::string id;    ///< the agent's id (ag_...) or the key's id
    std::string name;
};
boost::json::object to_json(const StaffAuthor& author);

struct ConversationNote {
    std::string id;  ///< no_<16 hex>
    std::string tenant_id;
    std::string conversation_id;
    StaffAuthor author;
    std::string text;
    std::chrono::system_clock::time_point at{};
};
boost::json::object to_json(const ConversationNote& note);

/// Stores a note on the tenant's conversation. "not_found" for no such conversation.
sdk::Result<ConversationNote> add_note(Database& db, const std::string& tenant_id,
                                       const std::string& conversation_id, const StaffAuthor& author,
                                       const std::string& text, std::chrono::system_clock::time_point now);
/// The conversation's notes, oldest first.
sdk::Result<std::vector<ConversationNote>> list_notes(Database& db, const std::string& tenant_id,
                                                      const std::string& conversation_id);
/// Note `id` of the conversation; none when there is none.
sdk::Result<std::optional<ConversationNote>> find_note(Database& db, const std::string& tenant_id,
                                                       const std::string& conversation_id,
                                                       const std::string& id);
/// Deletes note `id`; false when there was none.
sdk::Result<bool> delete_note(Database& db, const std::string& tenant_id, const std::string& conversation_id,
                              const std::string& id);

struct CannedReply {
    std::string id;  ///< cr_<16 hex>
    std::string tenant_id;
    std::string title;
    std::string text;
    bool shared = false;
    StaffAuthor owner;
    std::chrono::system_clock::time_point updated_at{};
};
boost::json::object to_json(const CannedReply& reply);

/// The tenant's canned replies by title: all of them when `agent_id` is empty (a key), else the
/// agent's own and the shared ones.
sdk::Result<std::vector<CannedReply>> list_canned_replies(Database& db, const std::string& tenant_id,
                                                          const std::string& agent_id);
sdk::Result<std::optional<CannedReply>> find_canned_reply(Database& db, const std::string& tenant_id,
                                                          const std::string& id);
/// Stores `reply` (id, owner and the rest set by the caller) as new, or over the one of its id.
sdk::Status save_canned_reply(Database& db, const CannedReply& reply, bool is_new);
sdk::Result<bool> delete_canned_reply(Database& db, const std::string& tenant_id, const std::string& id);

}  // namespace tezgah::engine
