#pragma once
// Storage: SOCI over SQLite (WAL) or PostgreSQL, versioned migrations, and every query the engine
// makes. Every query on tenant data filters on tenant_id. Thread-safe: calls may come from any
// thread. Reads use a pool of sessions; every write goes through one writer thread that commits
// whatever is queued in one transaction (group commit, store/group_commit.hpp), and a write call
// returns once its transaction has committed.

#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace tezgah::engine {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

enum class Backend { sqlite, postgresql };

/// How an import changed the stored rows.
struct ImportStats {
    int inserted = 0;
    int updated = 0;
    int unchanged = 0;
    int removed = 0;  ///< entries no longer in the file: no longer offered or searched
};

/// A conversation: one customer with one tenant over one channel, within one session.
struct Conversation {
    std::string id;          ///< conversation id (uuid-like text)
    std::string session_id;  ///< the session id given to the client
    std::string tenant_id;
    std::string user_id;
    std::string channel;
    json::object state;   ///< session state kept with the conversation (ctx.session, slots)
    bool is_new = false;  ///< started by this call
};

/// A stored message of a conversation.
struct StoredMessage {
    std::string role;  ///< user | assistant
    std::string text;
    std::string method;
    std::string language;
    std::chrono::system_clock::time_point at;
    /// What the channel kept with a customer's message (sdk::InboundMessage::metadata): attachments
    /// under "media" [{"url", "content_type"}], a button's "payload" and "text", the sender's name.
    json::object metadata;
};

/// One row of the function-call log.
struct ToolCallRecord {
    std::string tenant_id;
    std::string conversation_id;
    std::string message_id;  ///< the assistant message it belongs to (may be empty)
    std::string tool;
    json::object arguments;
    json::value result;
    bool ok = false;
    double duration_ms = 0;
    std::string error;
};

/// Token usage of one provider call.
struct UsageRecord {
    std::string tenant_id;
    std::string conversation_id;
    std::string provider;
    std::string model;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    double cost_usd = 0;
    int step = 0;            ///< the call's place in its turn: 0, then one more per tool-calling round
    bool estimated = false;  ///< the tokens were estimated (the provider reported none)
    std::string message_id;  ///< the reply it belongs to (finish_turn sets it; empty otherwise)
    std::chrono::system_clock::time_point at{};  ///< when; the epoch means "when stored"
};

/// Usage summed over one quarter hour (UTC) and one provider and model: fine enough to regroup by
/// day in any time zone (every zone's offset is a whole number of quarter hours).
struct UsageSlice {
    std::chrono::system_clock::time_point start;  ///< the quarter hour's start
    std::string provider;
    std::string model;
    std::int64_t calls = 0;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    double cost_usd = 0;
    std::int64_t estimated_calls = 0;  ///< calls whose tokens were estimated
};

/// One message of the outbox (engine/src/outbox/outbox.hpp), as stored.
struct OutboxRecord {
    std::string id;
    std::string tenant_id;
    std::string channel;
    std::string recipient;
    std::string idempotency_key;  ///< unique per tenant
    std::string payload;          ///< JSON: text, options, cards, template, metadata
    std::string state;            ///< sdk::to_string(sdk::DeliveryState): queued, sent, ...
    int attempts = 0;             ///< attempts claimed so far (the one in flight included)
    std::string provider_id;      ///< set once the provider accepted it
    std::string error;            ///< the last attempt's or the provider's error
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point updated_at{};
    std::chrono::system_clock::time_point next_attempt_at{};  ///< queued: not before
    std::chrono::system_clock::time_point claimed_until{};    ///< a worker's claim (epoch: none)
    std::chrono::system_clock::time_point sent_at{};          ///< epoch until accepted
};

/// Everything a finished turn stores, written in one transaction by Database::finish_turn.
struct TurnRecord {
    std::string tenant_id;
    std::string conversation_id;
    std::string user_id;  ///< the customer (last seen and channel are updated)
    std::string channel;
    std::string in_reply_to;                 ///< id of the stored inbound message
    StoredMessage reply;                     ///< role "assistant"
    std::string reply_json;                  ///< the reply as the client got it (sdk::to_json), for retries
    std::vector<ToolCallRecord> tool_calls;  ///< message_id is set to the reply's id
    std::vector<UsageRecord> usage;          ///< one per provider call; message_id is set to the reply's id
    json::object state;                      ///< the conversation's session state after the turn
    /// Set when the inbound message has a client message id: the claim this turn holds on it (its
    /// `at` when append_message stored it, or the `now` of take_over_message). A retry that took
    /// the message over since wins: finish_turn then stores nothing.
    std::optional<std::chrono::system_clock::time_point> claimed_at;
    /// The stored ids of the earlier messages of a burst this turn answers with `in_reply_to`'s
    /// (docs/channels.md, "Bursts"): marked answered too, so a retry of one gets this reply.
    std::vector<std::string> also_answers;
    /// The reply to send through the outbox, queued with the reply in the same transaction (a
    /// channel turn past its reply deadline: http/channel_turns.hpp), unless a message with its
    /// idempotency key is queued already. Nothing is queued when nothing is stored.
    std::optional<OutboxRecord> outbound;
};

/// The turn of a client message id, as stored.
struct StoredReply {
    std::string user_id;  ///< the customer who sent the message
    std::string conversation_id;
    std::string message_id;  ///< the stored inbound message
    std::optional<std::string>
        reply_json;  ///< none yet: still running, or it failed after storing the message
    /// When the turn answering it was last claimed (stored, or taken over by a retry); the epoch
    /// once a failed turn released it. A retry may take the message over when this is old enough.
    std::chrono::system_clock::time_point claimed_at;
};

/// A customer message whose turn a retry took over (Database::take_over_message).
struct TakenOver {
    std::string message_id;         ///< the stored message: the retry's turn answers it
    std::string from_conversation;  ///< where it was stored (it moves to the retry's conversation)
    StoredMessage message;          ///< as first stored (as an earlier read of the history has it)
};

/// How an attempt to send ended, as the outbox stores it (Database::outbox_finish_attempt).
struct OutboxAttempt {
    std::string id;
    std::chrono::system_clock::time_point claimed_until;  ///< the claim the attempt held
    std::string state;                                    ///< queued (again), sent, failed or window_closed
    std::string provider_id;                              ///< sent
    std::string error;
    std::chrono::system_clock::time_point next_attempt_at{};  ///< queued: the next attempt's time
    std::chrono::system_clock::time_point now{};
};

/// A database that fails makes reads fail as writes do, with an error ("store_error", naming the call
/// and the tenant): an empty list always means "none", never "could not read".
class Database {
public:
    /// Opens `url`: `sqlite:PATH` (folders created, WAL, synchronous=NORMAL) or
    /// `postgresql://user@host:port/db` (also `postgres://`). Runs pending migrations.
    /// The error names the URL (without its password) and the reason.
    static sdk::Result<std::unique_ptr<Database>> open(const std::string& url);
    virtual ~Database();

    virtual Backend backend() const = 0;
    /// The schema version after migrations.
    virtual int schema_version() = 0;
    /// A cheap round trip (SELECT 1), for health checks.
    virtual sdk::Status ping() = 0;

    // --- tenants and their data (idempotent imports) ---
    virtual sdk::Status upsert_tenant(const std::string& tenant_id, const std::string& name) = 0;
    /// Inserts new entries, updates changed ones, marks entries missing from `offerings` removed
    /// (soft delete; an entry coming back counts as inserted). One transaction per import.
    /// Errors: "not_found" for a tenant not upserted first, "invalid_value" for empty or duplicate ids.
    virtual sdk::Result<ImportStats> import_offerings(const std::string& tenant_id,
                                                      const std::vector<sdk::Offering>& offerings) = 0;
    virtual sdk::Result<ImportStats> import_knowledge(const std::string& tenant_id,
                                                      const std::vector<sdk::KnowledgeEntry>& entries) = 0;
    virtual sdk::Result<ImportStats> import_resources(const std::string& tenant_id,
                                                      const std::vector<sdk::Resource>& resources) = 0;
    /// Current (not removed) rows, in file order; empty for a tenant without any. A row whose stored
    /// JSON no longer parses is logged and left out.
    virtual sdk::Result<std::vector<sdk::Offering>> offerings(const std::string& tenant_id) = 0;
    virtual sdk::Result<std::vector<sdk::KnowledgeEntry>> knowledge(const std::string& tenant_id) = 0;
    virtual sdk::Result<std::vector<sdk::Resource>> resources(const std::string& tenant_id) = 0;
    /// Ranked full-text search (SQLite FTS5 over a Turkish-folded column / PostgreSQL tsvector),
    /// over question, answer and keywords in every language, best first; empty when nothing matches.
    virtual sdk::Result<std::vector<sdk::KnowledgeHit>> search_knowledge(const std::string& tenant_id,
                                                                         std::string_view query,
                                                                         std::string_view language,
                                                                         std::size_t limit) = 0;

    // --- conversations ---
    /// The conversation to continue: the one with `session_id` when given and known for this
    /// tenant and user; else this user's latest one on `channel` when its last message is younger
    /// than `idle_timeout`; else a new one (with a new session id, or `session_id` when given).
    /// A given `session_id` is the client's choice: when it is not known, a new conversation starts
    /// with that id (the idle rule applies only without one); when another user of the tenant holds
    /// it, the new conversation gets a fresh session id instead. "not_found" for an unknown tenant.
    virtual sdk::Result<Conversation> open_conversation(const std::string& tenant_id,
                                                        const std::string& user_id,
                                                        const std::string& channel,
                                                        const std::string& session_id,
                                                        std::chrono::system_clock::time_point now,
                                                        std::chrono::seconds idle_timeout) = 0;
    /// Saves the session state of a conversation.
    virtual sdk::Status save_state(const std::string& tenant_id, const std::string& conversation_id,
                                   const json::object& state) = 0;
    /// Stores a message; returns its id. `client_message_id` (may be empty) is kept for idempotency:
    /// unique per tenant, so a retried delivery with the same id stores nothing and fails with
    /// code "duplicate" (the message names the stored message's id) — the caller then knows the
    /// turn was already handled, or is being handled. A message stored with a client id is claimed
    /// at its `at` by the turn that stores it (see take_over_message). "not_found" when the
    /// conversation is not this tenant's. `conversation_status`, when given, gets the
    /// conversation's handoff status (bot, handed_over, closed) as the message was stored: read in
    /// the same statement that moves its last activity, so a turn needs no read of its own to learn
    /// whether a person has taken the conversation over (pipeline/handoff.cpp, before_turn).
    virtual sdk::Result<std::string> append_message(const std::string& tenant_id,
                                                    const std::string& conversation_id,
                                                    const StoredMessage& message,
                                                    const std::string& client_message_id = {},
                                                    std::string* conversation_status = nullptr) = 0;
    /// The last `limit` messages of a conversation, oldest first.
    virtual sdk::Result<std::vector<StoredMessage>> recent_messages(const std::string& tenant_id,
                                                                    const std::string& conversation_id,
                                                                    std::size_t limit) = 0;
    virtual sdk::Status record_tool_call(const ToolCallRecord& record) = 0;
    virtual sdk::Status record_usage(const UsageRecord& record) = 0;
    /// Stores a finished turn at once: the reply message (with the turn's cost: the sum of its usage
    /// rows' cost_usd), its tool calls, the usage rows, the session state and the customer's last
    /// activity, and marks the inbound message answered. Returns the reply message's id.
    /// "not_found" (and nothing stored) when the conversation is not this tenant's;
    /// "duplicate_in_flight" (and nothing stored) when `turn.claimed_at` is set and no longer the
    /// inbound message's claim: a retry took the message over while this turn ran past its time.
    virtual sdk::Result<std::string> finish_turn(const TurnRecord& turn) = 0;
    /// For a client message id already stored (append_message answered "duplicate"): who sent it,
    /// its claim, and the stored reply JSON of that turn (for an earlier message of a burst, the
    /// burst's reply: the next one stored in its conversation). "not_found" when no message has that id.
    virtual sdk::Result<StoredReply> stored_reply(const std::string& tenant_id,
                                                  const std::string& client_message_id) = 0;
    /// Takes over the turn of a stored client message id for a retry, when that message has no
    /// reply and its claim was made at or before `stale_before` (the turn that held it died with
    /// its process, or ran far past its deadline) or was released (release_message). The message
    /// is then claimed at `now` and moved to `conversation_id`, the retry's, keeping its id: one
    /// message per client id in the history. The decision is one conditional UPDATE of the
    /// message's row, so of several retries at once, in any number of processes, exactly one takes
    /// it. Errors: "duplicate_in_flight" when another turn holds a younger claim or the message was
    /// answered meanwhile; "not_found" when no message has that id or the conversation is not this
    /// tenant's.
    virtual sdk::Result<TakenOver> take_over_message(const std::string& tenant_id,
                                                     const std::string& client_message_id,
                                                     const std::string& conversation_id,
                                                     std::chrono::system_clock::time_point stale_before,
                                                     std::chrono::system_clock::time_point now) = 0;
    /// Releases the claim `claimed_at` of a turn that failed on stored message `message_id`: a retry
    /// may take the message over at once (its claim moves to the epoch). Nothing changes when the
    /// message was answered or another turn holds the claim now.
    virtual sdk::Status release_message(const std::string& tenant_id, const std::string& message_id,
                                        std::chrono::system_clock::time_point claimed_at) = 0;
    /// Function-call log of a conversation, oldest first (for tests and operators).
    virtual sdk::Result<std::vector<ToolCallRecord>> tool_calls(const std::string& tenant_id,
                                                                const std::string& conversation_id) = 0;

    // --- usage and costs ---
    /// Usage rows of a conversation, in the order stored (for tests and operators).
    virtual sdk::Result<std::vector<UsageRecord>> usage(const std::string& tenant_id,
                                                        const std::string& conversation_id) = 0;
    /// What the turn that stored reply `message_id` cost (its cost_usd); "not_found" for no such reply.
    virtual sdk::Result<double> message_cost(const std::string& tenant_id, const std::string& message_id) = 0;
    /// The sum of cost_usd of the tenant's usage rows with `at` in [from, to); 0 when none.
    virtual sdk::Result<double> spent_usd(const std::string& tenant_id,
                                          std::chrono::system_clock::time_point from,
                                          std::chrono::system_clock::time_point to) = 0;
    /// The tenant's usage with `at` in [from, to), summed per quarter hour, provider and model,
    /// oldest first (what `tezgah usage` regroups by local day).
    virtual sdk::Result<std::vector<UsageSlice>> usage_slices(const std::string& tenant_id,
                                                              std::chrono::system_clock::time_point from,
                                                              std::chrono::system_clock::time_point to) = 0;

    // --- the outbox (engine/src/outbox). Claims and counts span every tenant: they are the
    // workers' and the operators' view; everything a tenant's caller reads filters on tenant_id. ---
    /// Stores `record` (id, tenant, channel, recipient, key, payload, created_at; state queued, due
    /// at created_at). Idempotent on (tenant_id, idempotency_key): when the key is stored already,
    /// the stored message comes back unchanged and nothing is written.
    virtual sdk::Result<OutboxRecord> outbox_enqueue(const OutboxRecord& record) = 0;
    /// Claims up to `limit` queued messages due at `now` whose claim (if any) has expired, oldest
    /// due first: each is claimed until `lease_until` and counts one more attempt. Each is
    /// claimed by one caller only, in any number of processes (a conditional UPDATE of its row).
    virtual sdk::Result<std::vector<OutboxRecord>> outbox_claim(
        std::chrono::system_clock::time_point now, std::chrono::system_clock::time_point lease_until,
        std::size_t limit) = 0;
    /// Records how an attempt ended and releases its claim. An accepted attempt ("sent") is
    /// recorded while the message is queued, even when its claim expired meanwhile; any other
    /// outcome only while the attempt still holds the claim. False when nothing was recorded.
    virtual sdk::Result<bool> outbox_finish_attempt(const OutboxAttempt& attempt) = 0;
    /// Gives back a claim no attempt was made on (a stopping process): the message is due again at
    /// once, its attempt not counted. Nothing changes when the claim is no longer `claimed_until`.
    virtual sdk::Status outbox_release(const std::string& id,
                                       std::chrono::system_clock::time_point claimed_until) = 0;
    /// A provider's delivery report on the tenant's message with `provider_id` on `channel`: moves
    /// it forward (sent → delivered → read; sent or delivered → failed, keeping `error`), never
    /// back. False when no message matched or the report changed nothing.
    virtual sdk::Result<bool> outbox_report(const std::string& tenant_id, const std::string& channel,
                                            const std::string& provider_id, const std::string& state,
                                            const std::string& error,
                                            std::chrono::system_clock::time_point now) = 0;
    /// The tenant's message `id`; "not_found" when it has none.
    virtual sdk::Result<OutboxRecord> outbox_message(const std::string& tenant_id, const std::string& id) = 0;
    /// The tenant's messages, oldest first, at most `limit` (for tests and operators).
    virtual sdk::Result<std::vector<OutboxRecord>> outbox_messages(const std::string& tenant_id,
                                                                   std::size_t limit) = 0;
    /// How many messages are in each state, over every tenant (states with none are absent).
    virtual sdk::Result<std::vector<std::pair<std::string, long long>>> outbox_counts() = 0;
    /// When the next queued message is due (its next attempt's time, or the end of its claim when
    /// later); none when nothing is queued.
    virtual sdk::Result<std::optional<std::chrono::system_clock::time_point>> outbox_next_due() = 0;
    /// When customer `user_id` last wrote to the tenant on `channel` (their latest stored message
    /// in a conversation on that channel): the start of a WhatsApp 24-hour window. None when
    /// they never wrote there.
    virtual sdk::Result<std::optional<std::chrono::system_clock::time_point>> last_inbound_at(
        const std::string& tenant_id, const std::string& user_id, const std::string& channel) = 0;
    /// Queued messages stored at or before `created_before`, oldest first, at most `limit`: stuck.
    virtual sdk::Result<std::vector<OutboxRecord>> outbox_stuck(
        std::chrono::system_clock::time_point created_before, std::size_t limit) = 0;

    // --- the server's own secrets ---
    /// The secret named `name`, shared by every instance on this database: the stored one, or
    /// `candidate`, stored now when there is none (the first instance to store one wins).
    virtual sdk::Result<std::string> server_secret(const std::string& name, const std::string& candidate) = 0;

    // --- for the stores of features kept in their own files (keys and the audit log, tickets,
    // notices, analytics): raw SQL on the same database, with the same rules (every query on tenant
    // data filters on tenant_id; times are ms since the epoch, store/sql_support.hpp). ---
    /// Runs `work` on a pooled session, outside any transaction (reads). `work` throws on failure
    /// (soci::soci_error, std::exception); the error is then "store_error" naming `what`.
    virtual sdk::Status read(const std::string& what, const std::function<void(soci::session&)>& work) = 0;
    /// Runs `work` in the writer's next transaction (group commit) and returns once it committed.
    /// `work` may run more than once (store/group_commit.hpp): it must be repeatable, assigning to
    /// what it captures rather than appending. Errors as for read().
    virtual sdk::Status write(const std::string& what, const std::function<void(soci::session&)>& work) = 0;
};

/// `url` with any password replaced by "***", for messages and logs.
std::string redact_url(const std::string& url);

}  // namespace tezgah::engine
