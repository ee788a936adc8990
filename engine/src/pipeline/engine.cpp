#include "pipeline/engine.hpp"

#include "ops/costs.hpp"
#include "ops/metrics.hpp"
#include "pipeline/assistant.hpp"
#include "pipeline/prompt.hpp"
#include "pipeline/turn_json.hpp"
#include "util/common.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/json_schema.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

namespace tezgah::engine {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

/// To two decimals: this is the reply's execution_time_ms, and finer digits are noise to a reader.
double ms_since(Clock::time_point start) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return std::round(ms * 100) / 100;
}

}  // namespace

namespace {
std::unique_ptr<sdk::HttpClient> make_http_client() {
    PocoHttpClient::Options o;
    // Many conversations wait on one provider at once: keep their connections for reuse rather
    // than opening (and leaving in TIME_WAIT) a new one per call.
    o.max_idle_per_origin = 1024;
    return std::make_unique<PocoHttpClient>(o);
}
}  // namespace

Engine::Engine(EngineOptions options) : options_(std::move(options)), http_(make_http_client()) {}

Engine::~Engine() {
    stop_watching();
    std::lock_guard lock(tenants_mutex_);
    tenants_.clear();
}

namespace {

/// A hash of every file under a tenant folder (path, size, modification time): changes when any
/// manifest, data file or script is edited, added or removed.
std::size_t folder_fingerprint(const fs::path& folder) {
    std::size_t h = 0;
    auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with(".")) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        mix(std::hash<std::string>{}(file.string()));
        mix(static_cast<std::size_t>(fs::file_size(file, ec)));
        mix(static_cast<std::size_t>(fs::last_write_time(file, ec).time_since_epoch().count()));
    }
    if (files.empty()) mix(1);
    return h;
}

}  // namespace

sdk::Status Engine::start() {
    auto db = Database::open(options_.db_url);
    if (!db) return db.error();
    db_ = std::move(db).value();
    spend_ = std::make_unique<SpendTracker>(*db_);
    registry_.load_directories(options_.plugin_path.empty() ? default_plugin_path() : options_.plugin_path);
    std::error_code ec;
    if (!fs::is_directory(options_.tenants_dir, ec))
        return sdk::Error{"not_found", options_.tenants_dir.string() + ": tenants folder not found"};
    std::lock_guard lock(tenants_mutex_);
    for (const auto& folder : discover_tenants(options_.tenants_dir)) {
        Slot slot;
        slot.folder = folder;
        tenants_.emplace(folder.filename().string(), std::move(slot));
    }
    log_event(spdlog::level::info, "engine", "engine started",
              {{"tenants", std::to_string(tenants_.size())},
               {"plugins", std::to_string(registry_.plugins().size())},
               {"db", redact_url(options_.db_url)}});
    return {};
}

sdk::Result<std::shared_ptr<Tenant>> Engine::tenant(const std::string& id) {
    fs::path folder;
    std::shared_ptr<std::mutex> load_mutex;
    {
        std::lock_guard lock(tenants_mutex_);
        auto it = tenants_.find(id);
        if (it == tenants_.end()) return sdk::Error{"unknown_tenant", "unknown tenant \"" + id + "\""};
        if (it->second.tenant) return it->second.tenant;
        if (!it->second.error.empty()) return sdk::Error{"invalid_tenant", it->second.error};
        folder = it->second.folder;
        load_mutex = it->second.load_mutex;
    }
    // Load outside the map's lock, one loader per tenant: other tenants keep being served.
    std::lock_guard loading(*load_mutex);
    {
        std::lock_guard lock(tenants_mutex_);
        auto it = tenants_.find(id);
        if (it == tenants_.end()) return sdk::Error{"unknown_tenant", "unknown tenant \"" + id + "\""};
        if (it->second.tenant) return it->second.tenant;
        if (!it->second.error.empty()) return sdk::Error{"invalid_tenant", it->second.error};
    }
    auto fingerprint = folder_fingerprint(folder);
    auto loaded = load_tenant(folder, registry_, *db_, *clock_, *http_);
    std::lock_guard lock(tenants_mutex_);
    auto it = tenants_.find(id);
    if (it == tenants_.end()) return sdk::Error{"unknown_tenant", "unknown tenant \"" + id + "\""};
    it->second.fingerprint = fingerprint;
    if (!loaded) {
        it->second.error = loaded.error().message;
        log_event(spdlog::level::err, "tenants", "tenant failed to load",
                  {{"tenant", id}, {"reason", it->second.error}});
        return loaded.error();
    }
    it->second.tenant = std::move(loaded).value();
    return it->second.tenant;
}

std::vector<TenantStatus> Engine::tenants() const {
    std::lock_guard lock(tenants_mutex_);
    std::vector<TenantStatus> out;
    for (const auto& [id, slot] : tenants_) {
        out.push_back({id, slot.folder.string(),
                       slot.tenant ? "loaded" : (slot.error.empty() ? "not_loaded" : "failed"), slot.error,
                       slot.reload_error});
    }
    return out;
}

ReloadSummary Engine::reload_all() {
    std::lock_guard reloading(reload_mutex_);
    ReloadSummary summary;
    std::map<std::string, fs::path> on_disk;
    for (const auto& folder : discover_tenants(options_.tenants_dir))
        on_disk.emplace(folder.filename().string(), folder);

    // Which tenants to look at, taken under the lock; loading happens outside it.
    struct Candidate {
        std::string id;
        fs::path folder;
        bool loaded = false;
        std::size_t fingerprint = 0;
        std::shared_ptr<std::mutex> load_mutex;
    };
    std::vector<Candidate> candidates;
    {
        std::lock_guard lock(tenants_mutex_);
        for (auto it = tenants_.begin(); it != tenants_.end();) {
            if (!on_disk.count(it->first)) {
                summary.removed.push_back(it->first);
                it = tenants_.erase(it);  // turns in flight keep their shared_ptr
            } else {
                ++it;
            }
        }
        for (const auto& [id, folder] : on_disk) {
            auto it = tenants_.find(id);
            if (it == tenants_.end()) {
                Slot slot;
                slot.folder = folder;
                tenants_.emplace(id, std::move(slot));
                summary.added.push_back(id);
                continue;
            }
            if (it->second.tenant || !it->second.error.empty())
                candidates.push_back({id, folder, static_cast<bool>(it->second.tenant),
                                      it->second.fingerprint, it->second.load_mutex});
        }
    }
    for (const auto& c : candidates) {
        auto fingerprint = folder_fingerprint(c.folder);
        if (fingerprint == c.fingerprint) continue;
        std::lock_guard loading(*c.load_mutex);
        auto loaded = load_tenant(c.folder, registry_, *db_, *clock_, *http_);
        std::lock_guard lock(tenants_mutex_);
        auto it = tenants_.find(c.id);
        if (it == tenants_.end()) continue;
        auto& slot = it->second;
        slot.fingerprint = fingerprint;
        if (loaded) {
            slot.tenant = std::move(loaded).value();
            slot.error.clear();
            slot.reload_error.clear();
            summary.reloaded.push_back(c.id);
            log_event(spdlog::level::info, "tenants", "tenant reloaded", {{"tenant", c.id}});
        } else if (slot.tenant) {
            slot.reload_error = loaded.error().message;
            summary.failed.push_back(c.id);
            log_event(spdlog::level::err, "tenants", "reload refused; the last good version keeps serving",
                      {{"tenant", c.id}, {"reason", slot.reload_error}});
        } else {
            slot.error = loaded.error().message;
            summary.failed.push_back(c.id);
            log_event(spdlog::level::err, "tenants", "tenant failed to load",
                      {{"tenant", c.id}, {"reason", slot.error}});
        }
    }
    for (const auto& id : summary.added)
        log_event(spdlog::level::info, "tenants", "tenant discovered", {{"tenant", id}});
    for (const auto& id : summary.removed)
        log_event(spdlog::level::info, "tenants", "tenant removed", {{"tenant", id}});
    return summary;
}

void Engine::start_watching(std::chrono::milliseconds interval) {
    std::lock_guard lock(watcher_mutex_);
    if (watching_) return;
    watching_ = true;
    watcher_ = std::thread([this, interval] {
        std::unique_lock lock(watcher_mutex_);
        while (watching_) {
            watcher_wake_.wait_for(lock, interval, [this] { return !watching_; });
            if (!watching_) break;
            lock.unlock();
            try {
                reload_all();
            } catch (const std::exception& e) {
                log_event(spdlog::level::err, "tenants", "reload pass failed", {{"error", e.what()}});
            }
            lock.lock();
        }
    });
}

void Engine::stop_watching() {
    {
        std::lock_guard lock(watcher_mutex_);
        if (!watching_) return;
        watching_ = false;
    }
    watcher_wake_.notify_all();
    if (watcher_.joinable()) watcher_.join();
}

Engine::ConversationLocks::Guard::Guard(ConversationLocks& locks, std::string key)
    : locks_(locks), key_(std::move(key)) {
    {
        std::lock_guard table(locks_.table_mutex_);
        auto& entry = locks_.table_[key_];
        if (!entry) entry = std::make_unique<Entry>();
        ++entry->users;
        mutex_ = &entry->mutex;
    }
    mutex_->lock();
}

Engine::ConversationLocks::Guard::~Guard() {
    mutex_->unlock();
    std::lock_guard table(locks_.table_mutex_);
    auto it = locks_.table_.find(key_);
    if (it != locks_.table_.end() && --it->second->users == 0) locks_.table_.erase(it);
}

sdk::Result<sdk::TurnReply> Engine::handle(const sdk::InboundMessage& message, sdk::StreamSink* sink,
                                           const std::atomic<bool>* cancelled) {
    if (message.user_id.empty()) return sdk::Error{"missing_field", "user_id: required"};
    if (!sdk::text::valid_utf8(message.text)) return sdk::Error{"invalid_value", "text: not valid UTF-8"};
    if (sdk::text::trim(message.text).empty()) return sdk::Error{"invalid_value", "text: must not be empty"};
    if (sdk::text::length(message.text) > options_.max_message_chars)
        return sdk::Error{"invalid_value",
                          "text: longer than " + std::to_string(options_.max_message_chars) + " characters"};
    auto tenant = this->tenant(message.tenant_id);
    if (!tenant) return tenant.error();
    ConversationLocks::Guard lock(conversation_locks_, message.tenant_id + '\x1f' + message.user_id);
    try {
        return run_turn(**tenant, message, sink, cancelled);
    } catch (const std::exception& e) {
        log_event(spdlog::level::err, "pipeline", "turn failed",
                  {{"tenant", message.tenant_id}, {"error", e.what()}});
        return sdk::Error{"internal", "the turn could not be completed"};
    }
}

sdk::Result<sdk::TurnReply> Engine::run_turn(Tenant& tenant, const sdk::InboundMessage& message,
                                             sdk::StreamSink* sink, const std::atomic<bool>* cancelled) {
    const auto started = Clock::now();
    const auto& profile = tenant.profile();
    auto& db = *db_;
    // The open conversation: from memory when this process holds it and Database::open_conversation
    // would pick it too (the same session id given; or none given and not idle); else from the
    // database, which applies the rules itself.
    const auto now = clock_->now();
    std::optional<CachedConversation> conversation =
        conversations_.get(ConversationCache::key(tenant.id(), message.user_id, message.channel));
    if (conversation) {
        auto millis = [](std::chrono::system_clock::time_point t) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
        };
        bool current = message.session_id.empty()
                           ? millis(conversation->last_activity) >
                                 millis(now) - std::chrono::milliseconds(options_.idle_timeout).count()
                           : conversation->session_id == message.session_id;
        if (!current) conversation.reset();
    }
    if (!conversation) {
        auto opened = db.open_conversation(tenant.id(), message.user_id, message.channel, message.session_id,
                                           now, options_.idle_timeout);
        if (!opened) return opened.error();
        conversation =
            CachedConversation{opened->id, opened->session_id, opened->channel, opened->state, now, {}};
        if (!opened->is_new) {
            for (auto& m : db.recent_messages(tenant.id(), opened->id, options_.history_messages))
                conversation->history.push_back(std::move(m));
        }
    }
    // Until the turn is stored, the cached entry may no longer match the database: any way out
    // before then (an error, an exception) drops it, and the next turn reads the database.
    const std::string cache_key = ConversationCache::key(tenant.id(), message.user_id, conversation->channel);
    struct ForgetUnlessStored {
        ConversationCache& cache;
        const std::string& key;
        bool stored = false;
        ~ForgetUnlessStored() {
            if (!stored) cache.erase(key);
        }
    } forget{conversations_, cache_key};
    json::object state = conversation->state;

    // The reply's language: what the customer wrote in, if the tenant speaks it.
    std::string previous_language = profile.language;
    if (const auto* l = state.if_contains("language"); l && l->is_string())
        previous_language = l->get_string();
    std::string language = sdk::text::detect_language(message.text, previous_language);
    if (std::find(profile.languages.begin(), profile.languages.end(), language) == profile.languages.end())
        language = profile.language;

    const auto& history = conversation->history;
    sdk::TurnReply out;
    out.session_id = conversation->session_id;
    out.conversation_id = conversation->id;
    out.language = language;
    // The customer's message is committed before the turn runs. A message id seen before (a
    // retried request) gets the reply it already got; nothing runs twice.
    StoredMessage inbound{"user", message.text, "", language, clock_->now()};
    auto inbound_id = db.append_message(tenant.id(), conversation->id, inbound, message.message_id);
    if (!inbound_id) {
        if (inbound_id.error().code == "duplicate") return replay_turn(tenant, message, sink);
        return inbound_id.error();
    }

    sdk::TurnContext turn{
        tenant.id(),     message.user_id, conversation->session_id, conversation->id, language,
        message.channel, &state};
    sdk::InboundMessage in = message;
    in.tenant_id = tenant.id();
    std::string handoff_reason;
    std::vector<ToolCallRecord> calls;

    // Rules, before the assistant.
    for (const auto& rule : tenant.rules()) {
        if (*rule.disabled) continue;
        auto decision =
            guarded("rule " + rule.name + " on_message", [&] { return rule.plugin->on_message(turn, in); });
        if (!decision) {
            log_event(spdlog::level::err, "rules", "on_message failed; skipped",
                      {{"tenant", tenant.id()}, {"rule", rule.name}, {"error", decision.error().message}});
            if (decision.error().code == "plugin_failed") *rule.disabled = true;
            continue;
        }
        if (decision->handoff) {
            out.handoff = true;
            handoff_reason = decision->handoff_reason;
        }
        if (decision->reply) {
            out.reply = *decision->reply;
            out.method = "rule";
            break;
        }
    }

    // The assistant: from the response cache, within the budget, or through the provider chain.
    const bool stream_direct = sink && tenant.rules().empty();
    CountingSink direct(stream_direct ? sink : nullptr);
    std::vector<UsageRecord> usage;
    if (out.method.empty()) {
        AssistantTurn assistant{tenant,
                                message,
                                language,
                                history,
                                state,
                                turn,
                                started,
                                cancelled,
                                stream_direct ? &direct : nullptr,
                                dynamic_cast<TurnStream*>(sink),
                                out,
                                handoff_reason,
                                calls,
                                usage};
        run_assistant(assistant);
    }

    // Rules, after the assistant: they may rewrite the reply.
    for (const auto& rule : tenant.rules()) {
        if (*rule.disabled) continue;
        auto rewritten = guarded("rule " + rule.name + " on_reply",
                                 [&] { return rule.plugin->on_reply(turn, out.reply); });
        if (!rewritten) {
            log_event(spdlog::level::err, "rules", "on_reply failed; skipped",
                      {{"tenant", tenant.id()}, {"rule", rule.name}, {"error", rewritten.error().message}});
            if (rewritten.error().code == "plugin_failed") *rule.disabled = true;
            continue;
        }
        out.reply = std::move(rewritten).value();
    }
    if (sink && direct.streamed() != out.reply) {
        // Not streamed by the provider (a rule answered, rules rewrote it, or a fallback text).
        if (direct.streamed().empty()) sink->on_text(out.reply);
    }

    // Handoff: the assistant's or a rule's judgement, a handoff topic, or low confidence.
    if (!out.handoff) {
        auto folded = " " + sdk::text::fold(message.text) + " ";
        for (const auto& topic : profile.handoff_topics) {
            auto t = sdk::text::fold(topic);
            if (!t.empty() && folded.find(t) != std::string::npos) {
                out.handoff = true;
                handoff_reason = "topic: " + topic;
                break;
            }
        }
    }
    if (!out.handoff && out.confidence < profile.handoff_confidence_threshold) {
        out.handoff = true;
        handoff_reason = "low confidence";
    }
    // Doubtful answers in a row (below 0.6, or the threshold + 0.2 when that is higher): after
    // `handoff.low_confidence_turns` of them, a person takes over.
    if (out.method != "rule") {
        const double doubtful = std::max(0.6, profile.handoff_confidence_threshold + 0.2);
        std::int64_t streak = 0;
        if (const auto* v = state.if_contains("low_confidence_turns"); v && v->is_int64())
            streak = v->get_int64();
        streak = out.confidence < doubtful ? streak + 1 : 0;
        if (streak > 0)
            state["low_confidence_turns"] = streak;
        else
            state.erase("low_confidence_turns");
        const int limit = tenant.manifest().handoff_low_confidence_turns;
        if (!out.handoff && limit > 0 && streak >= limit) {
            out.handoff = true;
            handoff_reason = "low confidence in " + std::to_string(streak) + " answers in a row";
        }
    }

    // Persist the reply, the function-call log and the session state.
    state["language"] = out.language;
    // What falls out of the history window joins the rolling summary a remote model is given.
    if (tenant.manifest().llm.provider != "local" && history.size() + 2 > options_.history_messages) {
        std::vector<StoredMessage> leaving(
            history.begin(),
            history.begin() + static_cast<std::ptrdiff_t>(
                                  std::min(history.size(), history.size() + 2 - options_.history_messages)));
        std::string summary;
        if (const auto* v = state.if_contains("summary"); v && v->is_string()) summary = v->get_string();
        state["summary"] = roll_summary(std::move(summary), leaving);
    }
    if (out.handoff) state["handoff_reason"] = handoff_reason.empty() ? "requested" : handoff_reason;
    // One write, committed before the reply goes back: the reply (with its JSON, for a retried
    // message id), the function-call log, the usage and the session state.
    StoredMessage reply{"assistant", out.reply, out.method, out.language, clock_->now()};
    out.execution_time_ms = ms_since(started);
    TurnRecord record{tenant.id(),
                      conversation->id,
                      message.user_id,
                      message.channel,
                      *inbound_id,
                      reply,
                      json::serialize(sdk::to_json(out)),
                      std::move(calls),
                      std::move(usage),
                      state};
    if (auto reply_id = db.finish_turn(record); !reply_id) return reply_id.error();
    if (out.cost_usd > 0 && spend_) spend_->add(tenant.id(), out.cost_usd, record.reply.at);
    auto& metrics = Metrics::global();
    metrics.message(tenant.id(), out.method);
    for (const auto& call : out.tool_calls) metrics.tool_call(call.name, call.ok);
    for (const auto& used : record.usage)
        metrics.tokens(tenant.id(), used.model, used.input_tokens, used.output_tokens);

    conversation->state = std::move(state);
    conversation->history.push_back(std::move(inbound));
    conversation->history.push_back(std::move(reply));
    while (conversation->history.size() > options_.history_messages) conversation->history.pop_front();
    conversation->last_activity = std::max({conversation->last_activity, now, record.reply.at});
    conversations_.put(cache_key, std::move(*conversation));
    forget.stored = true;
    out.execution_time_ms = ms_since(started);
    return out;
}

sdk::Result<sdk::TurnReply> Engine::replay_turn(Tenant& tenant, const sdk::InboundMessage& message,
                                                sdk::StreamSink* sink) {
    const auto& id = message.message_id;
    auto stored = db_->stored_reply(tenant.id(), id);
    if (!stored) return stored.error();
    if (stored->user_id != message.user_id)
        return sdk::Error{"duplicate", "message_id \"" + id +
                                           "\" was already used by another customer of tenant \"" +
                                           tenant.id() + "\""};
    if (!stored->reply_json)
        return sdk::Error{"duplicate_in_flight", "message_id \"" + id +
                                                     "\" is being answered, or its first attempt failed; "
                                                     "retry later, or send a new message id"};
    auto reply = turn_reply_from_json(*stored->reply_json);
    if (!reply) {
        log_event(spdlog::level::err, "pipeline", "stored reply unreadable",
                  {{"tenant", tenant.id()}, {"message_id", id}, {"error", reply.error().message}});
        return sdk::Error{"internal", "the stored reply of message_id \"" + id + "\" could not be read"};
    }
    log_event(spdlog::level::info, "pipeline", "repeated message id answered with the stored reply",
              {{"tenant", tenant.id()}, {"message_id", id}});
    if (sink) sink->on_text(reply->reply);
    return reply;
}

}  // namespace tezgah::engine
