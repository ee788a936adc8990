#pragma once
// The engine: plugins, storage and tenants, and the turn pipeline
//   intake → rules on_message → assistant loop (provider → tool calls checked against their
//   schema → tools → provider, bounded steps) → rules on_reply → handoff → persist.

#include "appointments/book.hpp"
#include "ops/limits.hpp"
#include "ops/plans.hpp"
#include "outbox/outbox.hpp"
#include "pipeline/conversation_cache.hpp"
#include "pipeline/conversation_locks.hpp"
#include "pipeline/handoff.hpp"
#include "plugins/registry.hpp"
#include "shared/event_bridge.hpp"
#include "shared/shared_state.hpp"
#include "store/database.hpp"
#include "tenants/directory.hpp"
#include "tenants/tenant.hpp"
#include "util/events.hpp"

#include <tezgah/sdk/plugin.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace tezgah::engine {

/// How long past its deadline (the tenant's `llm.deadline_ms`) a turn may hold its message id before
/// a retry of that id takes the message over, unless EngineOptions::in_flight_margin says otherwise.
/// The deadline bounds the model calls, not the tools, rules and the write that come after them,
/// and instances on one database may not agree on the time to the millisecond. A turn that runs
/// longer still cannot answer twice: once a retry took over, its reply is not stored
/// (Database::finish_turn).
inline constexpr std::chrono::milliseconds kDefaultInFlightMargin{10000};

struct EngineOptions {
    std::filesystem::path tenants_dir = "tenants";
    std::string db_url = "sqlite:var/tezgah.db";
    std::vector<std::filesystem::path> plugin_path;   ///< empty: default_plugin_path()
    int max_tool_steps = 4;                           ///< provider calls per turn
    std::chrono::seconds idle_timeout{30 * 60};       ///< a session ends after this long idle
    std::size_t history_messages = 10;                ///< earlier messages sent to the provider
    std::size_t max_message_chars = 4000;             ///< longer customer messages are refused
    std::size_t conversation_cache_entries = 100000;  ///< open conversations kept in memory (LRU)
    SharedEnv shared_env;  ///< `--shared-env`: variables every tenant's manifest may read
    /// A message id whose turn has not answered is held for the tenant's deadline plus this
    /// (`tezgah serve --in-flight-margin-ms`); then a retry of it is answered anew.
    std::chrono::milliseconds in_flight_margin = kDefaultInFlightMargin;
    lua::ServerLimits lua;  ///< the limits on every tenant's Lua scripts
    OutboxOptions outbox;   ///< its workers run once Engine::outbox().start() is called (serve)
    /// The daily budget (US dollars) of a tenant whose manifest sets no `llm.budget`
    /// (`--default-daily-usd`): never unlimited.
    double default_daily_usd = 10.0;
    /// `--redis URL` (`redis://HOST:PORT[/DB]`): state shared with other instances; empty: this
    /// process's memory (shared/shared_state.hpp).
    std::string redis_url;
    /// This state instead of one of its own: engines in one process that stand for several
    /// instances (tests) share it. Null: local memory, or Redis with redis_url.
    std::shared_ptr<SharedState> shared_state;
    /// `--plans FILE`: what each plan allows (ops/plans.hpp); none configured: no plan limits.
    Plans plans;
    /// `--tenant-idle-minutes`: a loaded tenant without a message for this long is unloaded by the
    /// watcher (start_watching) and loaded again on its next one; zero: never.
    std::chrono::milliseconds tenant_idle{0};
};

/// A client stream that can withdraw the text sent so far: a provider failed after streaming part
/// of its answer, and the next one in the chain answers instead (SSE clients get a `reset` event).
class TurnStream : public sdk::StreamSink {
public:
    virtual void on_reset() = 0;
};

struct AssistantInput;
struct AssistantOutcome;
class SpendTracker;

class Engine {
public:
    explicit Engine(EngineOptions options);
    ~Engine();

    /// Opens the database, loads the plugins, discovers the tenants and checks their manifests
    /// (they load on first use).
    sdk::Status start();

    /// The tenant, loading it on first use. Errors: unknown_tenant, invalid_tenant (with reasons).
    sdk::Result<std::shared_ptr<Tenant>> tenant(const std::string& id);

    /// One customer turn. `sink`, when given, receives the reply text as it is produced (after the
    /// tenant's on_reply rules when it has any). Errors: unknown_tenant, invalid_value, internal,
    /// store_error; for a `message.message_id` stored before, duplicate (another customer's) or
    /// duplicate_in_flight (an earlier attempt may still answer it: see retry_turn).
    /// `cancelled`, when given and set (the customer left), ends the provider calls in flight; the
    /// turn still completes, from the fallback, and is stored.
    sdk::Result<sdk::TurnReply> handle(const sdk::InboundMessage& message, sdk::StreamSink* sink = nullptr,
                                       const std::atomic<bool>* cancelled = nullptr);
    /// One turn for a burst: one customer's messages on one channel that came within its
    /// `burst_window_ms`, oldest first (docs/channels.md, "Bursts"). Each is checked as handle()
    /// checks one, and stored as it came (its id, its metadata); the turn reads their texts joined
    /// by newlines as the customer's message and answers them all with one reply. A retry of any
    /// of their ids gets that reply. A burst of one is handle().
    /// `outbound`, when given, is asked on the turn's thread just before the reply is stored: the
    /// message to queue in the outbox in the same transaction (none: nothing to queue), so a reply
    /// is never stored without being queued (a channel turn past its reply deadline:
    /// http/channel_turns.hpp). It is not asked when no reply is stored by this turn (a failure,
    /// or a redelivery answered from the stored turn).
    using ReplyOutbound =
        std::function<sdk::Result<std::optional<sdk::OutboundMessage>>(const sdk::TurnReply&)>;
    sdk::Result<sdk::TurnReply> handle_burst(const std::vector<sdk::InboundMessage>& burst,
                                             sdk::StreamSink* sink = nullptr,
                                             const ReplyOutbound* outbound = nullptr);

    /// handle() and handle_burst() refuse a turn over its tenant's plan (ops/limits.hpp) with a
    /// `rate_limited` error before anything is stored or sent to a model. A customer channel, which
    /// cannot tell its customer to retry, calls this with that error: the messages are stored (a
    /// person sees them; nothing is lost) with a reply of method "rate_limited" that is, the first
    /// time in the limit's window for that customer, a polite note in their language, else empty
    /// (the channel then answers nothing). Nothing is sent to a model. Any other error: returned.
    sdk::Result<sdk::TurnReply> answer_refused(const std::vector<sdk::InboundMessage>& burst,
                                               const sdk::Error& refused);

    /// The checks every customer message passes before anything is stored (handle() makes them):
    /// a user id, valid UTF-8 and no NUL in the text and ids, their lengths, a text (or media).
    sdk::Status check_message(const sdk::InboundMessage& message) const;

    std::vector<TenantStatus> tenants() const;
    /// How many customers' open conversations are kept in memory (the conversation cache).
    std::size_t cached_conversations() const { return conversations_.size(); }

    /// See TenantDirectory::reload_all (tenants/directory.hpp).
    ReloadSummary reload_all();
    /// See TenantDirectory::reload: tenant `id` loaded anew now (an operator's edit). With Redis,
    /// the other instances are told (channel `reload`) and load it anew too.
    sdk::Status reload_tenant(const std::string& id);
    /// Calls reload_all() every `interval` on a background thread until stop_watching(), and
    /// unloads tenants idle for EngineOptions::tenant_idle.
    void start_watching(std::chrono::milliseconds interval = std::chrono::milliseconds(500));
    void stop_watching();
    const PluginRegistry& plugins() const { return registry_; }
    Database& database() { return *db_; }
    /// Where outbound messages wait for their channel to send them (after start()).
    Outbox& outbox() { return *outbox_; }
    /// Messages, handoffs, tickets and appointments as they happen (util/events.hpp).
    EventHub& events() { return events_; }
    /// Counters, locks, caches and fan-out shared with other instances (after start(); local
    /// memory without `--redis`).
    SharedState& shared() { return *shared_; }
    const SharedState& shared() const { return *shared_; }
    /// The plans' limits over shared() (after start()).
    Limiter& limits() { return *limits_; }
    /// What the limiter knows of a turn of `tenant`'s customer `user`.
    static LimitSubject limit_subject(const Tenant& tenant, const std::string& user);
    /// Conversation states, tickets and operators' replies (pipeline/handoff.hpp; after start()).
    Handoffs& handoffs() { return *handoffs_; }
    /// The booking service: the `appointments` tools of every tenant that enables them, and the
    /// operator routes (appointments/book.hpp; after start()).
    appointments::Bookings& bookings() { return *bookings_; }
    /// The clock of turns and of tenants loaded from now on (null: the system clock).
    void set_clock(const sdk::Clock* clock);
    /// The time on that clock (the operator API's "today", as the turns' own).
    std::chrono::system_clock::time_point now() const;

private:
    /// A turn refused over a limit, stored with the polite note (`tell`) or without a reply.
    struct RefusedTurn {
        Refusal refusal;
        bool tell = false;
    };
    /// Each message of a burst checked as handle() checks one, and all of one customer on one channel.
    sdk::Status check_burst(const std::vector<sdk::InboundMessage>& burst) const;
    /// The lock of `message`'s customer (this process, and other instances with Redis), held
    /// while the returned guard lives.
    ConversationLocks::Guard lock_customer(const Tenant& tenant, const sdk::InboundMessage& message);
    /// `parts`: the customer's messages this turn answers (one, or a burst), oldest first.
    /// `admission`: the limiter's, to add the turn's tokens to. `refused`: store the messages and
    /// answer without a model (answer_refused()).
    sdk::Result<sdk::TurnReply> run_turn(Tenant& tenant, std::span<const sdk::InboundMessage> parts,
                                         sdk::StreamSink* sink, const std::atomic<bool>* cancelled,
                                         Limiter::Admission* admission, const RefusedTurn* refused = nullptr,
                                         const ReplyOutbound* outbound = nullptr);
    /// `outbound`'s message for `reply`, as the outbox stores it, into `record` (run_turn).
    static sdk::Status add_outbound(TurnRecord& record, const ReplyOutbound* outbound,
                                    const sdk::TurnReply& reply);

    /// The conversation to continue: from memory when this process holds it and the database would
    /// pick it too (the same session id given; or none given and not idle), else the database's.
    sdk::Result<CachedConversation> open_conversation(const Tenant& tenant,
                                                      const sdk::InboundMessage& message,
                                                      std::chrono::system_clock::time_point now);
    /// The response cache, the budget, then the provider chain (pipeline/assistant.cpp).
    AssistantOutcome run_assistant(const AssistantInput& input);
    /// For a retried request (its `message.message_id` is stored): the reply already given, or the
    /// stored message, taken over at `now` into `conversation_id` for this turn to answer, when the
    /// attempt that stored it failed or has held it past the tenant's deadline plus the in-flight margin.
    /// Errors: "duplicate_in_flight" (an earlier attempt may still be answering it), "duplicate"
    /// (the id belongs to another customer of the tenant).
    using Retried = std::variant<sdk::TurnReply, TakenOver>;
    sdk::Result<Retried> retry_turn(Tenant& tenant, const sdk::InboundMessage& message,
                                    const std::string& conversation_id,
                                    std::chrono::system_clock::time_point now, sdk::StreamSink* sink);
    /// The stored reply of `message_id`, sent to `sink` as a whole.
    static sdk::Result<Retried> replay_turn(const Tenant& tenant, const std::string& message_id,
                                            const std::string& reply_json, sdk::StreamSink* sink);

    EngineOptions options_;
    PluginRegistry registry_;
    std::unique_ptr<Database> db_;
    const sdk::Clock* clock_;
    std::unique_ptr<sdk::HttpClient> http_;
    std::shared_ptr<SharedState> shared_;    ///< after start()
    std::unique_ptr<Limiter> limits_;        ///< after start()
    std::unique_ptr<EventBridge> bridge_;    ///< after start(), with Redis: events across instances
    std::uint64_t reload_subscription_ = 0;  ///< with Redis: other instances' reload notices
    std::unique_ptr<SpendTracker> spend_;    ///< per-tenant spend for budgets (after start())
    std::unique_ptr<appointments::Bookings> bookings_;  ///< after start(); outlives the tenants that lend it
    std::unique_ptr<TenantDirectory> tenants_;          ///< after start()
    std::unique_ptr<Outbox> outbox_;                    ///< after start(); stopped before the tenants go
    std::unique_ptr<Handoffs> handoffs_;                ///< after start(); goes before the outbox
    std::uint64_t release_subscription_ = 0;            ///< forgets a released conversation's cached history
    ConversationLocks conversation_locks_;
    EventHub events_;
    ConversationCache conversations_{options_.conversation_cache_entries};
};

}  // namespace tezgah::engine
