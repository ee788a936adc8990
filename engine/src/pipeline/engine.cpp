// The turn, top to bottom: open the conversation, commit the customer's message, the rules'
// on_message, the assistant, the rules' on_reply, the handoff judgement, the summary, and one
// write that stores it all. Each step takes what it needs and returns what it decided.
#include "pipeline/engine.hpp"

#include "ops/costs.hpp"
#include "ops/metrics.hpp"
#include "pipeline/assistant.hpp"
#include "pipeline/choices.hpp"
#include "pipeline/prompt.hpp"
#include "pipeline/turn_json.hpp"
#include "plugins/guarded.hpp"
#include "shared/redis_state.hpp"
#include "store/handoffs.hpp"
#include "util/host.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"
#include "util/suspend.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <tuple>

namespace tezgah::engine {

namespace {

using Clock = std::chrono::steady_clock;

/// The shared channel of reload notices: a tenant id, or "*" for every tenant.
constexpr const char* kReloadChannel = "reload";

/// To two decimals: this is the reply's execution_time_ms, and finer digits are noise to a reader.
double ms_since(Clock::time_point start) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return std::round(ms * 100) / 100;
}

std::unique_ptr<sdk::HttpClient> make_http_client() {
    PocoHttpClient::Options o;
    // Many conversations wait on one provider at once: keep their connections for reuse rather
    // than opening (and leaving in TIME_WAIT) a new one per call.
    o.max_idle_per_origin = 1024;
    return std::make_unique<PocoHttpClient>(o);
}

/// The reply's language: what the customer wrote in, if the tenant speaks it.
std::string reply_language(const sdk::TenantProfile& profile, const json::object& state,
                           const std::string& text) {
    std::string previous = profile.language;
    if (const auto* l = state.if_contains("language"); l && l->is_string()) previous = l->get_string();
    std::string language = sdk::text::detect_language(text, previous);
    if (std::find(profile.languages.begin(), profile.languages.end(), language) == profile.languages.end())
        return profile.language;
    return language;
}

/// Whether the channel attached pictures or files to the message (`metadata.media`, a list).
bool has_media(const sdk::InboundMessage& message) {
    const auto* media = message.metadata.if_contains("media");
    return media != nullptr && media->is_array() && !media->get_array().empty();
}

/// The answer to a picture or a file without words: the assistant reads no pictures, so a person
/// looks at it (the turn sets handoff).
std::string media_reply(const std::string& language) {
    if (language == "en")
        return "Thank you for the file. A colleague will look at it and get back to you here shortly.";
    return "Gönderdiğiniz dosya için teşekkürler. Bir çalışma arkadaşımız inceleyip size buradan en kısa "
           "sürede dönecek.";
}

/// The note a customer over their tenant's plan gets, once per window (Engine::answer_refused):
/// when to write again, in their language.
std::string limit_reply(const std::string& language, Limit limit) {
    const bool daily = limit == Limit::llm_tokens_per_day;
    if (language == "en")
        return daily ? "We cannot answer more messages today. Please write to us again tomorrow; we will "
                       "gladly help you then."
                     : "We are receiving a lot of messages right now. Please write to us again in a minute; "
                       "we will gladly help you then.";
    return daily ? "Bugün daha fazla mesaja yanıt veremiyoruz. Lütfen yarın tekrar yazın; size memnuniyetle "
                   "yardımcı olacağız."
                 : "Şu anda çok sayıda mesaj alıyoruz. Lütfen bir dakika sonra tekrar yazın; size "
                   "memnuniyetle yardımcı olacağız.";
}

/// The two points where a tenant's rules run.
enum class RuleHook { on_message, on_reply };

/// What the rules decided at one hook.
struct RulesOutcome {
    std::optional<std::string> reply;  ///< on_message: answer with this; on_reply: the reply as rewritten
    bool handoff = false;
    std::string handoff_reason;
};

/// Runs the tenant's rules at `hook`, in manifest order. on_message stops at the first rule that
/// answers; on_reply hands each rule the reply as the one before left it (`reply`). A rule that
/// fails is skipped, and disabled for the tenant when it threw; the conversation goes on.
RulesOutcome apply_rules(const Tenant& tenant, RuleHook hook, sdk::TurnContext& turn,
                         const sdk::InboundMessage& message, std::string reply = {}) {
    RulesOutcome out;
    const char* hook_name = hook == RuleHook::on_message ? "on_message" : "on_reply";
    for (const auto& rule : tenant.rules()) {
        if (*rule.disabled || (hook == RuleHook::on_reply && !rule.has_on_reply)) continue;
        const std::string what = "rule " + rule.name + " " + hook_name;
        sdk::Status failed;
        if (hook == RuleHook::on_message) {
            auto decision = guarded(what, [&] { return rule.plugin->on_message(turn, message); });
            if (decision) {
                if (decision->handoff) {
                    out.handoff = true;
                    out.handoff_reason = decision->handoff_reason;
                }
                if (decision->reply) {
                    out.reply = std::move(decision->reply);
                    return out;
                }
                continue;
            }
            failed = decision.error();
        } else {
            auto rewritten = guarded(what, [&] { return rule.plugin->on_reply(turn, reply); });
            if (rewritten) {
                reply = std::move(rewritten).value();
                continue;
            }
            failed = rewritten.error();
        }
        log_event(
            spdlog::level::err, "rules", std::string(hook_name) + " failed; skipped",
            {{"tenant", tenant.id()}, {"rule", rule.name}, {"error", tenant.redact(failed.error().message)}});
        if (failed.error().code == sdk::errc::plugin_failed) *rule.disabled = true;
    }
    if (hook == RuleHook::on_reply) out.reply = std::move(reply);
    return out;
}

/// A channel's request for a person: `metadata.handoff` {"reason", "reply"} of the inbound
/// message (docs/plugin-authoring.md, "Channels that send"). None when it carries none.
std::optional<RulesOutcome> channel_handoff(const sdk::InboundMessage& message) {
    const auto* handoff = message.metadata.if_contains("handoff");
    if (handoff == nullptr || !handoff->is_object()) return std::nullopt;
    const auto* reply = handoff->get_object().if_contains("reply");
    const auto* reason = handoff->get_object().if_contains("reason");
    if (reply == nullptr || !reply->is_string() || reply->get_string().empty()) return std::nullopt;
    RulesOutcome out;
    out.reply = std::string(reply->get_string());
    out.handoff = true;
    out.handoff_reason =
        reason != nullptr && reason->is_string() ? std::string(reason->get_string()) : "channel";
    return out;
}

/// A complaint or an injury in the customer's own words ("şikayetim var", "berbat bir hizmet",
/// "dizimi sakatladım", "I got injured"): a person's matter, which a rule's canned reply (an
/// out-of-hours booking note) must not answer. The tenant's handoff topics add to these.
bool complaint_or_injury(const Tenant& tenant, const std::string& text) {
    if (sdk::text::matching_topic(text, tenant.profile().handoff_topics)) return true;
    static constexpr std::string_view kStems[] = {
        "sikayet", "rezalet", "rezil",   "berbat",   "magdur",  "sakatla", "sakatlan", "yaralan",
        "incindi", "burkul",  "complai", "terrible", "horribl", "awful",   "injur",    "unacceptabl"};
    static constexpr std::string_view kPhrases[] = {"cok kotu", "memnun degilim", "memnun kalmadim",
                                                    "hurt my",  "got hurt",       "very bad"};
    const std::string folded = sdk::text::fold(text);
    for (const auto& word : sdk::text::tokens(folded))
        for (auto stem : kStems)
            if (word.starts_with(stem)) return true;
    const std::string padded = " " + folded + " ";
    for (auto phrase : kPhrases)
        if (padded.find(" " + std::string(phrase) + " ") != std::string::npos) return true;
    return false;
}

/// Whether a person should take over, and why.
struct Handoff {
    bool wanted = false;
    std::string reason;
    std::int64_t doubtful_streak = 0;  ///< answers in a row below the doubt level
};

/// The handoff judgement: a rule's or the assistant's, a handoff topic, low confidence, or
/// `handoff.low_confidence_turns` doubtful answers in a row (below 0.6, or the threshold + 0.2
/// when that is higher). `streak` is the count before this turn.
Handoff judge_handoff(const Tenant& tenant, const std::string& text, const RulesOutcome& rules,
                      const AssistantOutcome& answer, std::int64_t streak) {
    const auto& profile = tenant.profile();
    Handoff out;
    if (rules.handoff) {
        out = {true,
               rules.handoff_reason.empty() && answer.handoff ? answer.handoff_reason : rules.handoff_reason};
    } else if (answer.handoff) {
        out = {true, answer.handoff_reason};
    } else if (auto topic = sdk::text::matching_topic(text, profile.handoff_topics)) {
        out = {true, "topic: " + *topic};
    } else if (complaint_or_injury(tenant, text)) {
        out = {true, "complaint"};
    } else if (answer.confidence < profile.handoff_confidence_threshold) {
        out = {true, "low confidence"};
    }
    if (answer.method == "rule") return out;
    const double doubtful = std::max(0.6, profile.handoff_confidence_threshold + 0.2);
    out.doubtful_streak = answer.confidence < doubtful ? streak + 1 : 0;
    const int limit = tenant.manifest().handoff_low_confidence_turns;
    if (!out.wanted && limit > 0 && out.doubtful_streak >= limit)
        out = {true, "low confidence in " + std::to_string(out.doubtful_streak) + " answers in a row",
               out.doubtful_streak};
    return out;
}

/// A call of the handoff tool's handover_to_human in the turn, with its arguments.
struct HandoverRequest {
    bool called = false;
    std::string reason;
    std::string category;
    std::string priority;
};

HandoverRequest handover_request(const std::vector<sdk::ToolCallSummary>& calls) {
    HandoverRequest out;
    for (const auto& call : calls) {
        if (call.name != "handover_to_human" || !call.ok) continue;
        out.called = true;
        auto text = [&](const char* key) {
            const auto* v = call.arguments.if_contains(key);
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        out.reason = text("reason");
        out.category = text("category");
        out.priority = text("priority");
    }
    return out;
}

/// The session's rolling summary with the messages that leave the history window this turn, for a
/// tenant that talks to a remote model (the offline assistant reads no summary).
void roll_history_summary(const Tenant& tenant, const std::deque<StoredMessage>& history, std::size_t window,
                          json::object& state) {
    if (!tenant.has_remote_provider() || history.size() + 2 <= window) return;
    const auto leaving = static_cast<std::ptrdiff_t>(std::min(history.size(), history.size() + 2 - window));
    std::vector<StoredMessage> dropped(history.begin(), history.begin() + leaving);
    std::string summary;
    if (const auto* v = state.if_contains("summary"); v && v->is_string()) summary = v->get_string();
    state["summary"] = roll_summary(std::move(summary), dropped);
}

/// How long a turn of `tenant` may hold its message id: its deadline plus the margin.
std::chrono::milliseconds claim_expiry(const Tenant& tenant, std::chrono::milliseconds margin) {
    return std::chrono::milliseconds(tenant.manifest().llm_policy.deadline_ms) + margin;
}

/// The 409 of a message id an earlier attempt may still be answering, `left` before a retry may
/// take it over.
sdk::Error in_flight(const std::string& message_id, std::chrono::milliseconds left) {
    const auto seconds = std::max<long long>(1, (left.count() + 999) / 1000);
    return sdk::Error{sdk::errc::duplicate_in_flight,
                      "message_id \"" + message_id +
                          "\" is being answered by an earlier attempt; a retry gets that reply once it is "
                          "stored, and is answered anew if there is none within " +
                          std::to_string(seconds) + " s"};
}

/// A turn that fails once its message is stored gives the message id back, so that a retry is
/// answered at once rather than when the claim expires (a process that dies leaves it to the
/// expiry). Empty `claimed_at`: the message has no id a retry could bring.
class ReleaseUnlessAnswered {
public:
    ReleaseUnlessAnswered(Database& db, const std::string& tenant_id, const std::string& message_id,
                          std::optional<std::chrono::system_clock::time_point> claimed_at)
        : db_(db), tenant_id_(tenant_id), message_id_(message_id), claimed_at_(claimed_at) {}
    ReleaseUnlessAnswered(const ReleaseUnlessAnswered&) = delete;
    ReleaseUnlessAnswered& operator=(const ReleaseUnlessAnswered&) = delete;
    ~ReleaseUnlessAnswered() {
        if (settled_ || !claimed_at_) return;
        try {
            auto released = db_.release_message(tenant_id_, message_id_, *claimed_at_);
            log_event(spdlog::level::warn, "pipeline",
                      released.ok()
                          ? "turn failed; its message id is free for a retry"
                          : "turn failed; its message id is free for a retry once its claim expires",
                      {{"tenant", tenant_id_}, {"message", message_id_}});
        } catch (...) {  // NOLINT(bugprone-empty-catch): the expiry frees the id all the same
        }
    }
    /// Nothing to give back: the turn was answered, or a retry took its message over.
    void settled() { settled_ = true; }

private:
    Database& db_;
    const std::string& tenant_id_;
    const std::string& message_id_;
    std::optional<std::chrono::system_clock::time_point> claimed_at_;
    bool settled_ = false;
};

/// The limiter's admission of a turn of `tenant`'s customer `user`; a tenant without plan figures
/// is let through without a look at the shared counters.
Limiter::Admission admit_turn(Limiter& limits, const Tenant& tenant, const std::string& user,
                              std::chrono::system_clock::time_point now) {
    if (limits.plan_of(tenant.manifest().plan) == nullptr) return {};
    return limits.admit(Engine::limit_subject(tenant, user), now);
}

}  // namespace

Engine::Engine(EngineOptions options)
    : options_(std::move(options)), clock_(&SystemClock::instance()), http_(make_http_client()) {}

Engine::~Engine() {
    // The outbox's workers call the tenants' channels: they stop first. Tenants (and the plugin
    // instances they hold) go before the registry and the database.
    if (release_subscription_ != 0) events_.unsubscribe(release_subscription_);
    // Nothing from other instances once the tenants start to go.
    bridge_.reset();
    if (reload_subscription_ != 0) shared_->unsubscribe(reload_subscription_);
    handoffs_.reset();
    outbox_.reset();
    tenants_.reset();
}

sdk::Status Engine::start() {
    auto db = Database::open(options_.db_url);
    if (!db) return db.error();
    db_ = std::move(db).value();
    if (options_.shared_state) {
        shared_ = options_.shared_state;  // tests: instances sharing one state
    } else if (options_.redis_url.empty()) {
        shared_ = make_local_state();
    } else {
        // A Redis that does not answer leaves the engine degraded, not stopped (shared/redis_state.hpp).
        auto redis = make_redis_state(options_.redis_url);
        if (!redis) return redis.error();
        shared_ = std::move(redis).value();
    }
    limits_ = std::make_unique<Limiter>(*shared_, options_.plans);
    conversation_locks_.set_shared(shared_.get());
    spend_ = std::make_unique<SpendTracker>(*db_, shared_.get());
    registry_.load_directories(options_.plugin_path.empty() ? default_plugin_path() : options_.plugin_path);
    bookings_ = std::make_unique<appointments::Bookings>(*db_, events_, [this] { return now(); });
    TenantDirectory::Services tenant_services{registry_,           *db_,         *http_,
                                              options_.shared_env, options_.lua, bookings_.get()};
    // An unloaded tenant's customers keep no conversation in memory: their next turn reads it
    // from the database again (and with 10,000 tenants, idle ones would hold most of the memory).
    tenant_services.unloaded = [this](const std::set<std::string, std::less<>>& ids) {
        const auto dropped = conversations_.erase_tenants(ids);
        if (dropped > 0)
            log_event(spdlog::level::debug, "engine", "cached conversations of unloaded tenants dropped",
                      {{"conversations", std::to_string(dropped)}});
    };
    tenants_ = std::make_unique<TenantDirectory>(options_.tenants_dir, std::move(tenant_services));
    tenants_->set_clock(*clock_);
    if (auto found = tenants_->discover(); !found) return found;
    OutboxOptions outbox_options = options_.outbox;
    if (outbox_options.clock == nullptr) outbox_options.clock = clock_;
    outbox_ = std::make_unique<Outbox>(
        *db_, [this](const std::string& id) { return tenant(id); }, outbox_options);
    handoffs_ = std::make_unique<Handoffs>(
        *db_, events_, *outbox_, [this](const std::string& id) { return tenant(id); },
        // Only tenants with a handed-over conversation: visiting every tenant would load them all
        // (and keep idle ones from being unloaded).
        [this] {
            auto ids = tenants_with_handovers(*db_);
            if (!ids)
                log_event(spdlog::level::err, "handoff", "handed-over conversations could not be read",
                          {{"error", ids.error().message}});
            return ids ? std::move(ids).value() : std::vector<std::string>{};
        },
        clock_);
    // A conversation given back to the bot is read again from the database at its next turn: its
    // history then holds what the operators said (the cached one has only the customer's side).
    release_subscription_ = events_.subscribe([this](const Event& event) {
        if (event.type != "release") return;
        const auto* user = event.data.if_contains("user_id");
        const auto* channel = event.data.if_contains("channel");
        if (user && user->is_string() && channel && channel->is_string())
            conversations_.erase(ConversationCache::key(event.tenant_id, std::string(user->get_string()),
                                                        std::string(channel->get_string())));
    });
    if (!options_.redis_url.empty()) {
        bridge_ = std::make_unique<EventBridge>(events_, *shared_);
        // Another instance reloaded a tenant (an operator's edit there): load it anew here too,
        // rather than when the watcher sees the files change.
        reload_subscription_ = shared_->subscribe(kReloadChannel, [this](const std::string& id) {
            if (id == "*") {
                tenants_->reload_all();
                return;
            }
            // A tenant not loaded here reads its files when it is first used: nothing to do now.
            const auto statuses = tenants_->statuses();
            const bool loaded = std::any_of(statuses.begin(), statuses.end(), [&](const TenantStatus& s) {
                return s.id == id && s.state == "loaded";
            });
            if (!loaded) return;
            if (auto reloaded = tenants_->reload(id); !reloaded)
                log_event(spdlog::level::warn, "engine", "a reload notice from another instance failed",
                          {{"tenant", id}, {"error", reloaded.error().message}});
        });
    }
    log_event(spdlog::level::info, "engine", "engine started",
              {{"tenants", std::to_string(tenants_->statuses().size())},
               {"plugins", std::to_string(registry_.plugins().size())},
               {"db", redact_url(options_.db_url)},
               {"shared", std::string(to_string(shared_->health()))}});
    return {};
}

void Engine::set_clock(const sdk::Clock* clock) {
    clock_ = clock ? clock : &SystemClock::instance();
    if (tenants_) tenants_->set_clock(*clock_);
    if (handoffs_) handoffs_->set_clock(clock_);
}

std::chrono::system_clock::time_point Engine::now() const { return clock_->now(); }

sdk::Result<std::shared_ptr<Tenant>> Engine::tenant(const std::string& id) { return tenants_->get(id); }

std::vector<TenantStatus> Engine::tenants() const { return tenants_->statuses(); }

ReloadSummary Engine::reload_all() { return tenants_->reload_all(); }

sdk::Status Engine::reload_tenant(const std::string& id) {
    auto reloaded = tenants_->reload(id);
    if (reloaded) shared_->publish(kReloadChannel, id);
    return reloaded;
}

void Engine::start_watching(std::chrono::milliseconds interval) {
    tenants_->start_watching(interval, options_.tenant_idle);
}

void Engine::stop_watching() {
    if (tenants_) tenants_->stop_watching();
}

sdk::Status Engine::check_message(const sdk::InboundMessage& message) const {
    if (message.user_id.empty()) return sdk::Error{sdk::errc::missing_field, "user_id: required"};
    // Every channel's text and ids, checked the same way before anything is stored: the same
    // bytes on SQLite and PostgreSQL (which refuses invalid UTF-8 and cuts at NUL).
    for (const auto& [field, value, max_bytes] :
         {std::tuple{"text", std::string_view(message.text), std::size_t{0}},
          std::tuple{"user_id", std::string_view(message.user_id), sdk::kMaxUserIdBytes},
          std::tuple{"session_id", std::string_view(message.session_id), sdk::kMaxSessionIdBytes},
          std::tuple{"message_id", std::string_view(message.message_id), sdk::kMaxMessageIdBytes}}) {
        if (!sdk::text::valid_utf8(value))
            return sdk::Error{sdk::errc::invalid_value, std::string(field) + ": not valid UTF-8"};
        if (value.find('\0') != std::string_view::npos)
            return sdk::Error{sdk::errc::invalid_value,
                              std::string(field) + ": contains a NUL character (\\u0000)"};
        if (max_bytes > 0 && value.size() > max_bytes)
            return sdk::Error{sdk::errc::invalid_value,
                              std::string(field) + ": longer than " + std::to_string(max_bytes) + " bytes"};
    }
    // A picture or a file without words is answered by a person (media_only()).
    if (sdk::text::trim(message.text).empty() && !has_media(message))
        return sdk::Error{sdk::errc::invalid_value, "text: must not be empty"};
    if (sdk::text::length(message.text) > options_.max_message_chars)
        return sdk::Error{sdk::errc::invalid_value,
                          "text: longer than " + std::to_string(options_.max_message_chars) + " characters"};
    return {};
}

sdk::Status Engine::check_burst(const std::vector<sdk::InboundMessage>& burst) const {
    for (const auto& part : burst) {
        if (auto checked = check_message(part); !checked) return checked.error();
        if (part.tenant_id != burst.back().tenant_id || part.user_id != burst.back().user_id ||
            part.channel != burst.back().channel)
            return sdk::Error{sdk::errc::invalid_value, "a burst is one customer's messages on one channel"};
    }
    return {};
}

ConversationLocks::Guard Engine::lock_customer(const Tenant& tenant, const sdk::InboundMessage& message) {
    return ConversationLocks::Guard(
        conversation_locks_, message.tenant_id + '\x1f' + message.user_id,
        ConversationLocks::shared_key(message.tenant_id, message.channel, message.user_id),
        claim_expiry(tenant, options_.in_flight_margin));
}

sdk::Result<sdk::TurnReply> Engine::handle(const sdk::InboundMessage& message, sdk::StreamSink* sink,
                                           const std::atomic<bool>* cancelled) {
    if (auto checked = check_message(message); !checked) return checked.error();
    auto tenant = this->tenant(message.tenant_id);
    if (!tenant) return tenant.error();
    // Before the customer's lock: a refused turn waits for nothing and holds nothing.
    auto admission = admit_turn(*limits_, **tenant, message.user_id, clock_->now());
    if (const auto& refused = admission.refusal()) return refusal_error(message.tenant_id, *refused);
    auto lock = lock_customer(**tenant, message);
    try {
        return run_turn(**tenant, std::span<const sdk::InboundMessage>(&message, 1), sink, cancelled,
                        &admission);
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "pipeline", "turn failed",
                  {{"tenant", message.tenant_id}, {"error", e.what()}});
        return sdk::Error{sdk::errc::internal, "the turn could not be completed"};
    }
}

sdk::Result<sdk::TurnReply> Engine::handle_burst(const std::vector<sdk::InboundMessage>& burst,
                                                 sdk::StreamSink* sink, const ReplyOutbound* outbound) {
    if (burst.empty()) return sdk::Error{sdk::errc::missing_field, "text: required"};
    if (burst.size() == 1 && outbound == nullptr) return handle(burst.front(), sink);
    if (auto checked = check_burst(burst); !checked) return checked.error();
    const auto& last = burst.back();
    auto tenant = this->tenant(last.tenant_id);
    if (!tenant) return tenant.error();
    // A burst is one turn: it counts once.
    auto admission = admit_turn(*limits_, **tenant, last.user_id, clock_->now());
    if (const auto& refused = admission.refusal()) return refusal_error(last.tenant_id, *refused);
    auto lock = lock_customer(**tenant, last);
    try {
        return run_turn(**tenant, burst, sink, nullptr, &admission, nullptr, outbound);
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "pipeline", "turn failed",
                  {{"tenant", last.tenant_id}, {"error", e.what()}});
        return sdk::Error{sdk::errc::internal, "the turn could not be completed"};
    }
}

LimitSubject Engine::limit_subject(const Tenant& tenant, const std::string& user) {
    return LimitSubject{tenant.id(), tenant.manifest().plan, user, tenant.profile().timezone};
}

sdk::Result<sdk::TurnReply> Engine::answer_refused(const std::vector<sdk::InboundMessage>& burst,
                                                   const sdk::Error& refused) {
    auto refusal = refusal_of(refused);
    if (!refusal || burst.empty()) return refused;
    if (auto checked = check_burst(burst); !checked) return checked.error();
    const auto& last = burst.back();
    auto tenant = this->tenant(last.tenant_id);
    if (!tenant) return tenant.error();
    const RefusedTurn turn{
        *refusal, limits_->tell_once(limit_subject(**tenant, last.user_id), *refusal, clock_->now())};
    auto lock = lock_customer(**tenant, last);
    try {
        return run_turn(**tenant, burst, nullptr, nullptr, nullptr, &turn);
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "pipeline", "storing a refused turn failed",
                  {{"tenant", last.tenant_id}, {"error", e.what()}});
        return sdk::Error{sdk::errc::internal, "the turn could not be completed"};
    }
}

sdk::Result<CachedConversation> Engine::open_conversation(const Tenant& tenant,
                                                          const sdk::InboundMessage& message,
                                                          std::chrono::system_clock::time_point now) {
    auto cached = conversations_.get(ConversationCache::key(tenant.id(), message.user_id, message.channel));
    if (cached) {
        const bool current = message.session_id.empty() ? cached->last_activity > now - options_.idle_timeout
                                                        : cached->session_id == message.session_id;
        if (current) return std::move(*cached);
    }
    auto opened = db_->open_conversation(tenant.id(), message.user_id, message.channel, message.session_id,
                                         now, options_.idle_timeout);
    if (!opened) return opened.error();
    CachedConversation conversation{opened->id, opened->session_id, opened->channel, opened->state, now, {}};
    if (!opened->is_new) {
        // Without its history the model would answer out of context: the turn fails instead.
        auto recent = db_->recent_messages(tenant.id(), opened->id, options_.history_messages);
        if (!recent) return recent.error();
        for (auto& m : *recent) conversation.history.push_back(std::move(m));
    }
    return conversation;
}

sdk::Result<sdk::TurnReply> Engine::run_turn(Tenant& tenant, std::span<const sdk::InboundMessage> parts,
                                             sdk::StreamSink* sink, const std::atomic<bool>* cancelled,
                                             Limiter::Admission* admission, const RefusedTurn* refused,
                                             const ReplyOutbound* outbound) {
    const auto started = Clock::now();
    // A burst is answered as one message whose text joins theirs; each is stored as it came.
    const sdk::InboundMessage& last = parts.back();
    const auto earlier = parts.first(parts.size() - 1);
    sdk::InboundMessage joined;
    if (!earlier.empty()) {
        joined = last;
        joined.text.clear();
        for (const auto& part : parts) {
            const auto text = sdk::text::trim(part.text);
            if (text.empty()) continue;
            if (!joined.text.empty()) joined.text += '\n';
            joined.text += text;
        }
    }
    const sdk::InboundMessage& received = earlier.empty() ? last : joined;
    const bool only_media = std::all_of(parts.begin(), parts.end(), [](const sdk::InboundMessage& m) {
        return sdk::text::trim(m.text).empty();
    });
    const auto now = clock_->now();
    auto conversation = open_conversation(tenant, received, now);
    if (!conversation) return conversation.error();
    // Until the turn is stored, the cached entry may no longer match the database: any way out
    // before then (an error, an exception) drops it, and the next turn reads the database.
    const std::string cache_key =
        ConversationCache::key(tenant.id(), received.user_id, conversation->channel);
    struct ForgetUnlessStored {
        ConversationCache& cache;
        const std::string& key;
        bool stored = false;
        ~ForgetUnlessStored() {
            if (!stored) cache.erase(key);
        }
    } forget{conversations_, cache_key};

    json::object state = conversation->state;
    const std::string language = reply_language(tenant.profile(), state, received.text);
    const auto& history = conversation->history;

    // An answer that picks one of the last reply's options ("2", its title, a button's id) is
    // the turn of its title, from here on: stored, read by the rules and answered as such.
    std::optional<sdk::InboundMessage> chosen;
    if (state.contains(kLastOptionsKey)) {
        if (auto option = chosen_option(received.text, last_options(state))) {
            chosen = received;
            chosen->text = option->title;
            log_event(spdlog::level::debug, "pipeline", "the message picks an option",
                      {{"tenant", tenant.id()}, {"option", option->id}});
        }
    }
    const sdk::InboundMessage& message = chosen ? *chosen : received;

    // The customer's message is committed before the turn runs. A message id seen before (a
    // retried request) gets the reply it already got, or waits while an earlier attempt may still
    // be answering it; nothing runs twice. A message whose attempt failed or died is taken over.
    std::vector<StoredMessage> stored_earlier;
    std::vector<std::string> earlier_ids;
    for (const auto& part : earlier) {
        StoredMessage m{"user", part.text, "", language, clock_->now(), part.metadata};
        auto stored = db_->append_message(tenant.id(), conversation->id, m, part.message_id);
        // Stored before: a redelivery of it joined this burst; its text is answered all the same.
        if (!stored && stored.error().code != sdk::errc::duplicate) return stored.error();
        if (!stored) continue;
        earlier_ids.push_back(std::move(stored).value());
        stored_earlier.push_back(std::move(m));
    }
    // A picked option is stored as its title; a burst's last part as it came.
    StoredMessage inbound{
        "user", earlier.empty() ? message.text : last.text, "", language, clock_->now(), last.metadata};
    const auto arrived = inbound.at;
    std::string inbound_id;
    // The conversation's handoff status comes with the write; a message a retry took over reads it.
    std::string status;
    const std::string* known_status = nullptr;
    if (auto stored =
            db_->append_message(tenant.id(), conversation->id, inbound, message.message_id, &status)) {
        inbound_id = std::move(stored).value();
        known_status = &status;
    } else if (stored.error().code != sdk::errc::duplicate) {
        return stored.error();
    } else {
        auto retried = retry_turn(tenant, message, conversation->id, arrived, sink);
        if (!retried) return retried.error();
        auto* taken = std::get_if<TakenOver>(&*retried);
        if (!taken) return std::get<sdk::TurnReply>(std::move(*retried));
        inbound_id = taken->message_id;
        // This turn's message, as stored: not an earlier one of the history read from the database.
        std::erase_if(conversation->history, [&](const StoredMessage& m) {
            return m.role == taken->message.role && m.at == taken->message.at &&
                   m.text == taken->message.text;
        });
        inbound = std::move(taken->message);
    }
    // Stored or taken over, a message with an id is this turn's from `arrived` on.
    std::optional<std::chrono::system_clock::time_point> claimed_at;
    if (!message.message_id.empty()) claimed_at = arrived;
    ReleaseUnlessAnswered release(*db_, tenant.id(), inbound_id, claimed_at);

    sdk::TurnContext turn{
        tenant.id(),     message.user_id, conversation->session_id, conversation->id, language,
        message.channel, &state};
    sdk::InboundMessage in = message;
    in.tenant_id = tenant.id();
    ReplyStream stream(sink, !tenant.has_on_reply_rules());

    // A conversation a person has taken over: the bot is silent. The customer's message is
    // stored (above) and streamed to operators; operators' replies waiting for a channel that
    // cannot be pushed to come back with this turn (docs/http-api.md, "Handoff").
    auto gate = handoffs_->before_turn(tenant, conversation->id, message.channel, known_status);
    if (!gate) return gate.error();
    handoffs_->message_event(tenant.id(), conversation->id, message.user_id, message.channel, "customer",
                             message.text, gate->handed_over);
    // A turn refused over the tenant's plan is stored the same way, with its note or nothing.
    if (gate->handed_over || refused != nullptr) {
        sdk::TurnReply out;
        if (gate->handed_over) {
            for (const auto& relayed : gate->relay)
                out.reply += (out.reply.empty() ? "" : "\n\n") + relayed.text;
            out.method = gate->relay.empty() ? "handoff" : "operator";
            out.handoff = true;
        } else {
            if (refused->tell) out.reply = limit_reply(language, refused->refusal.limit);
            out.method = "rate_limited";
        }
        out.session_id = conversation->session_id;
        out.conversation_id = conversation->id;
        out.language = language;
        if (sink && !out.reply.empty()) sink->on_text(out.reply);
        state["language"] = language;
        // Stored without text when handed over: the operators' words are in the history as their
        // own messages.
        StoredMessage reply{"assistant", gate->handed_over ? "" : out.reply, out.method, out.language,
                            clock_->now()};
        out.execution_time_ms = ms_since(started);
        TurnRecord record{tenant.id(),
                          conversation->id,
                          message.user_id,
                          message.channel,
                          inbound_id,
                          reply,
                          json::serialize(sdk::to_json(out)),
                          {},
                          {},
                          state,
                          claimed_at,
                          std::move(earlier_ids)};
        if (auto added = add_outbound(record, outbound, out); !added) return added.error();
        if (auto reply_id = db_->finish_turn(record); !reply_id) {
            if (reply_id.error().code == sdk::errc::duplicate_in_flight) release.settled();
            return reply_id.error();
        }
        release.settled();
        if (record.outbound && outbox_) outbox_->wake();
        Metrics::global().message(tenant.id(), out.method);
        conversation->state = std::move(state);
        for (auto& m : stored_earlier) conversation->history.push_back(std::move(m));
        conversation->history.push_back(std::move(inbound));
        if (!reply.text.empty()) conversation->history.push_back(std::move(reply));
        while (conversation->history.size() > options_.history_messages) conversation->history.pop_front();
        conversation->last_activity = std::max({conversation->last_activity, now, record.reply.at});
        conversations_.put(cache_key, std::move(*conversation));
        forget.stored = true;
        out.execution_time_ms = ms_since(started);
        return out;
    }

    // Rules, then the assistant (unless a rule answered), then the rules that rewrite replies.
    // A channel that asks for a person (a photo alone, which no assistant here can read) answers
    // with its own words; a message of media alone skips the rules; else the rules run.
    const RulesOutcome before = [&] {
        if (auto asked = channel_handoff(message)) return std::move(*asked);
        if (only_media) return RulesOutcome{};
        return apply_rules(tenant, RuleHook::on_message, turn, in);
    }();
    AssistantOutcome answer;
    // A complaint, an injury or a handoff topic is answered by the assistant, which
    // apologises and hands over: a rule's canned reply (an out-of-hours booking note) must not
    // stand in for that.
    const bool handoff_topic = before.reply && !before.handoff && complaint_or_injury(tenant, message.text);
    if (only_media) {
        answer.reply = media_reply(language);
        answer.method = "rule";
        answer.handoff = true;
        answer.handoff_reason = "media";
    } else if (before.reply && !handoff_topic) {
        answer.reply = *before.reply;
        answer.method = "rule";
    } else {
        answer = run_assistant(AssistantInput{tenant, message, language, history, turn, started, cancelled,
                                              stream, before.handoff});
    }
    answer.reply =
        apply_rules(tenant, RuleHook::on_reply, turn, in, std::move(answer.reply)).reply.value_or("");
    stream.finish(answer.reply);

    std::int64_t streak = 0;
    if (const auto* v = state.if_contains("low_confidence_turns"); v && v->is_int64())
        streak = v->get_int64();
    Handoff handoff = judge_handoff(tenant, message.text, before, answer, streak);
    // A model that called handover_to_human (the handoff tool) asked for a person with its reasons.
    const HandoverRequest asked = handover_request(answer.tool_calls);
    if (asked.called && !handoff.wanted) handoff = {true, asked.reason, handoff.doubtful_streak};
    if (asked.called && !asked.reason.empty()) handoff.reason = asked.reason;
    // The tenant's handoff tool makes it a handover: the customer is told once that a person will
    // answer, in this reply. The assistant's own handoff answer (and a model's, after calling the
    // tool) says so already; anything else gets the acknowledgement added.
    const bool handing_over = handoff.wanted && handoff_settings(tenant).has_value();
    if (handing_over && !answer.handoff && !asked.called) {
        const std::string ack = handoff_acknowledgement(language, tenant.profile());
        const std::string added = answer.reply.empty() ? ack : "\n\n" + ack;
        stream.on_text(added);
        answer.reply += added;
    }
    if (answer.method != "rule") {
        if (handoff.doubtful_streak > 0)
            state["low_confidence_turns"] = handoff.doubtful_streak;
        else
            state.erase("low_confidence_turns");
    }

    sdk::TurnReply out;
    out.reply = answer.reply;
    out.session_id = conversation->session_id;
    out.conversation_id = conversation->id;
    out.method = answer.method;
    out.confidence = answer.confidence;
    out.language = answer.language.empty() ? language : answer.language;
    out.tool_calls = std::move(answer.tool_calls);
    out.handoff = handoff.wanted;
    out.usage = answer.tokens;
    out.cost_usd = answer.cost_usd;
    out.options = std::move(answer.options);
    out.cards = std::move(answer.cards);

    // The session state, with what falls out of the history window rolled into the summary.
    state["language"] = out.language;
    remember_options(state, out.options);
    roll_history_summary(tenant, history, options_.history_messages, state);
    if (out.handoff) state["handoff_reason"] = handoff.reason.empty() ? "requested" : handoff.reason;

    // One write, committed before the reply goes back: the reply (with its JSON, for a retried
    // message id), the function-call log, the usage and the session state.
    StoredMessage reply{"assistant", out.reply, out.method, out.language, clock_->now()};
    out.execution_time_ms = ms_since(started);
    TurnRecord record{tenant.id(),
                      conversation->id,
                      message.user_id,
                      message.channel,
                      inbound_id,
                      reply,
                      json::serialize(sdk::to_json(out)),
                      std::move(answer.calls),
                      std::move(answer.usage),
                      state,
                      claimed_at,
                      std::move(earlier_ids)};
    if (auto added = add_outbound(record, outbound, out); !added) return added.error();
    if (auto reply_id = db_->finish_turn(record); !reply_id) {
        if (reply_id.error().code == sdk::errc::duplicate_in_flight) {
            release.settled();
            log_event(spdlog::level::warn, "pipeline", "a retry took the message over; this reply is dropped",
                      {{"tenant", tenant.id()}, {"message_id", message.message_id}});
        }
        return reply_id.error();
    }
    release.settled();
    if (record.outbound && outbox_) outbox_->wake();
    if (handing_over)
        handoffs_->hand_over(tenant, conversation->id, message.user_id, message.channel, handoff.reason,
                             asked.category, asked.priority, message.text);
    handoffs_->message_event(tenant.id(), conversation->id, message.user_id, message.channel, "bot",
                             out.reply, handing_over);
    if (out.cost_usd > 0 && spend_)
        spend_->add(tenant.id(), out.cost_usd, record.reply.at, tenant.profile().timezone);
    auto& metrics = Metrics::global();
    metrics.message(tenant.id(), out.method);
    for (const auto& call : out.tool_calls) metrics.tool_call(call.name, call.ok);
    for (const auto& used : record.usage) {
        metrics.tokens(tenant.id(), used.model, used.input_tokens, used.output_tokens);
        if (admission != nullptr) admission->add_tokens(used.input_tokens + used.output_tokens);
    }

    conversation->state = std::move(state);
    for (auto& m : stored_earlier) conversation->history.push_back(std::move(m));
    conversation->history.push_back(std::move(inbound));
    conversation->history.push_back(std::move(reply));
    while (conversation->history.size() > options_.history_messages) conversation->history.pop_front();
    conversation->last_activity = std::max({conversation->last_activity, now, record.reply.at});
    conversations_.put(cache_key, std::move(*conversation));
    forget.stored = true;
    out.execution_time_ms = ms_since(started);
    return out;
}

sdk::Status Engine::add_outbound(TurnRecord& record, const ReplyOutbound* outbound,
                                 const sdk::TurnReply& reply) {
    if (outbound == nullptr) return {};
    auto message = (*outbound)(reply);
    if (!message) return message.error();
    if (!*message) return {};
    auto prepared = Outbox::prepare(**message);
    if (!prepared) return prepared.error();
    record.outbound = std::move(prepared).value();
    return {};
}

sdk::Result<Engine::Retried> Engine::retry_turn(Tenant& tenant, const sdk::InboundMessage& message,
                                                const std::string& conversation_id,
                                                std::chrono::system_clock::time_point now,
                                                sdk::StreamSink* sink) {
    const auto& id = message.message_id;
    const auto expiry = claim_expiry(tenant, options_.in_flight_margin);
    // A second look when the take-over lost: another retry took the message a moment ago (it then
    // holds a whole claim), or the attempt that held it answered (its reply is then stored).
    for (int look = 0;; ++look) {
        auto stored = db_->stored_reply(tenant.id(), id);
        if (!stored) return stored.error();
        if (stored->user_id != message.user_id)
            return sdk::Error{sdk::errc::duplicate,
                              "message_id \"" + id + "\" was already used by another customer of tenant \"" +
                                  tenant.id() + "\""};
        if (stored->reply_json) return replay_turn(tenant, id, *stored->reply_json, sink);
        // No reply: an earlier attempt holds the message until no turn of this tenant could still
        // be running, or until it failed and gave it back (its claim is then the epoch).
        const auto expires = stored->claimed_at + expiry;
        if (expires > now) return in_flight(id, std::chrono::ceil<std::chrono::milliseconds>(expires - now));
        auto taken = db_->take_over_message(tenant.id(), id, conversation_id, now - expiry, now);
        if (taken) {
            log_event(spdlog::level::warn, "pipeline",
                      "message id taken over from an attempt that did not answer",
                      {{"tenant", tenant.id()},
                       {"message_id", id},
                       {"released", stored->claimed_at.time_since_epoch().count() == 0 ? "yes" : "no"}});
            return Retried(std::move(taken).value());
        }
        if (taken.error().code != sdk::errc::duplicate_in_flight) return taken.error();
        if (look > 0) return in_flight(id, expiry);
    }
}

sdk::Result<Engine::Retried> Engine::replay_turn(const Tenant& tenant, const std::string& message_id,
                                                 const std::string& reply_json, sdk::StreamSink* sink) {
    auto reply = turn_reply_from_json(reply_json);
    if (!reply) {
        log_event(spdlog::level::err, "pipeline", "stored reply unreadable",
                  {{"tenant", tenant.id()}, {"message_id", message_id}, {"error", reply.error().message}});
        return sdk::Error{sdk::errc::internal,
                          "the stored reply of message_id \"" + message_id + "\" could not be read"};
    }
    log_event(spdlog::level::info, "pipeline", "repeated message id answered with the stored reply",
              {{"tenant", tenant.id()}, {"message_id", message_id}});
    if (sink) sink->on_text(reply->reply);
    return Retried(std::move(reply).value());
}

}  // namespace tezgah::engine
