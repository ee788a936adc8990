#pragma once
// A loaded tenant: its manifest, its data in the database, and its plugin instances (provider,
// tools, rules, channels), each with host services of its own. Built by load_tenant().

#include "plugins/registry.hpp"
#include "store/database.hpp"
#include "tenants/manifest.hpp"
#include "tenants/response_cache.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/channel.hpp>
#include <tezgah/sdk/plugin.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine {

/// The last answers to searches over data that does not change while its owner lives (a reload
/// builds a new owner): the same question — every remote-model turn retrieves for its prompt, and
/// the tools look up the same words — is not searched twice. Bounded; thread-safe.
template <class Hit>
class RememberedSearches {
public:
    /// `remember_empty`: false where an empty answer may be a failure (a database search).
    explicit RememberedSearches(bool remember_empty) : remember_empty_(remember_empty) {}

    /// The answer to `query` in `language` with at most `limit` hits: remembered, or from
    /// `search()`.
    template <class Search>
    std::vector<Hit> get(std::string_view query, std::string_view language, std::size_t limit,
                         Search&& search) const {
        std::string key = std::to_string(limit);
        key += '\x1f';
        key += language;
        key += '\x1f';
        key += query;
        {
            std::lock_guard lock(mutex_);
            if (auto it = hits_.find(key); it != hits_.end()) return it->second;
        }
        std::vector<Hit> hits = search();
        if (remember_empty_ || !hits.empty()) {
            std::lock_guard lock(mutex_);
            if (hits_.size() >= kMaxRemembered) hits_.clear();
            hits_.emplace(std::move(key), hits);
        }
        return hits;
    }

    /// Forgets every answer (an operator asked for it: /admin/cache/invalidate).
    void forget() const {
        std::lock_guard lock(mutex_);
        hits_.clear();
    }

private:
    static constexpr std::size_t kMaxRemembered = 1024;
    bool remember_empty_;
    mutable std::mutex mutex_;
    mutable std::map<std::string, std::vector<Hit>, std::less<>> hits_;
};

/// The tenant's offerings, read from the database once per load and matched in memory.
class TenantCatalog : public sdk::CatalogStore {
public:
    explicit TenantCatalog(std::vector<sdk::Offering> offerings) : offerings_(std::move(offerings)) {}
    std::vector<sdk::Offering> all() const override { return offerings_; }
    const std::vector<sdk::Offering>* held() const override { return &offerings_; }
    std::optional<sdk::Offering> get(std::string_view id) const override;
    std::vector<sdk::OfferingMatch> find(std::string_view query, std::string_view language,
                                         std::size_t limit) const override;
    void forget_matches() const { matches_.forget(); }

private:
    std::vector<sdk::Offering> offerings_;
    RememberedSearches<sdk::OfferingMatch> matches_{true};  // matching is pure: "none" is an answer too
};

/// The tenant's knowledge base, searched with the database's full-text index. The entries are
/// imported once per load (a reload builds a new TenantKnowledge), so the hits for a query do not
/// change while this object lives.
class TenantKnowledge : public sdk::KnowledgeStore {
public:
    TenantKnowledge(Database& db, std::string tenant_id, std::vector<sdk::KnowledgeEntry> entries)
        : db_(db), tenant_id_(std::move(tenant_id)), entries_(std::move(entries)) {}
    std::vector<sdk::KnowledgeEntry> all() const override { return entries_; }
    const std::vector<sdk::KnowledgeEntry>* held() const override { return &entries_; }
    std::vector<sdk::KnowledgeHit> search(std::string_view query, std::string_view language,
                                          std::size_t limit) const override;
    void forget_searches() const { searches_.forget(); }

private:
    Database& db_;
    std::string tenant_id_;
    std::vector<sdk::KnowledgeEntry> entries_;
    RememberedSearches<sdk::KnowledgeHit> searches_{false};
};

/// A plugin's logger that hides the values its tenant's manifest read from the environment, even
/// when a plugin (or a server it quotes) writes one into a message.
class TenantLogger : public sdk::Logger {
public:
    TenantLogger(const std::string& kind, const std::string& name, const std::string& tenant,
                 const EnvValues& env_values)
        : inner_(kind, name, tenant), env_values_(env_values) {}
    void log(sdk::LogLevel level, std::string_view message) override {
        if (env_values_.empty())
            inner_.log(level, message);
        else
            inner_.log(level, env_values_.redact(std::string(message)));
    }

private:
    PluginLogger inner_;
    const EnvValues& env_values_;
};

/// What one plugin instance of one tenant is lent: shared stores, its own logger, and the
/// tenant's booking service when it enables appointments.
class TenantServices : public sdk::HostServices {
public:
    /// `env_values` (the manifest's) outlives the services, as `profile` and `appointments` do.
    TenantServices(const sdk::TenantProfile& profile, const sdk::CatalogStore& catalog,
                   const sdk::KnowledgeStore& knowledge, const sdk::Clock& clock, sdk::HttpClient& http,
                   const std::string& logger_kind, const std::string& logger_name,
                   const EnvValues& env_values, sdk::AppointmentBook* appointments = nullptr);
    sdk::Logger& logger() override { return logger_; }
    const sdk::TenantProfile& tenant() const override { return profile_; }
    const sdk::CatalogStore& catalog() const override { return catalog_; }
    const sdk::KnowledgeStore& knowledge() const override { return knowledge_; }
    const sdk::Clock& clock() const override { return clock_; }
    sdk::HttpClient& http() override { return http_; }
    bool is_open_at(std::chrono::system_clock::time_point when) const override;
    sdk::AppointmentBook* appointments() override { return appointments_; }

private:
    const sdk::TenantProfile& profile_;
    const sdk::CatalogStore& catalog_;
    const sdk::KnowledgeStore& knowledge_;
    const sdk::Clock& clock_;
    sdk::HttpClient& http_;
    TenantLogger logger_;
    sdk::AppointmentBook* appointments_;
};

/// A plugin instance of a tenant with what it is called by, and whether it has been disabled
/// after failing.
template <class Interface>
struct Enabled {
    std::string name;  ///< plugin name or script path
    Interface* plugin = nullptr;
    std::shared_ptr<std::atomic<bool>> disabled = std::make_shared<std::atomic<bool>>(false);
};

/// A provider of the chain, with what its plugin declared and reported when the tenant loaded.
struct ProviderEntry : Enabled<sdk::LlmProvider> {
    std::string model;     ///< LlmProvider::model(): usage, costs and metrics are recorded under it
    bool offline = false;  ///< sdk::kProviderOffline: no budget, no deadline share, the last resort
    bool streams = false;  ///< sdk::kProviderStreams: passes text to the sink as it comes
};

/// A rule, and whether it may rewrite replies (a Lua rule without on_reply does not).
struct RuleEntry : Enabled<sdk::Rule> {
    bool has_on_reply = true;
};

struct ToolEntry {
    sdk::ToolSpec spec;
    Enabled<sdk::Tool> owner;
};

class Tenant;

/// Makes the booking service each loaded tenant lends its plugins through
/// HostServices::appointments(): the engine's appointments area (appointments/book.hpp) does, one
/// level above this one.
class AppointmentBooks {
public:
    virtual ~AppointmentBooks() = default;
    /// The booking service of `tenant`, called while it loads (its manifest, catalog and profile
    /// are complete; its plugins are made next); null when it does not enable the `appointments`
    /// tool. The tenant owns what this returns.
    virtual std::unique_ptr<sdk::AppointmentBook> book_for(const Tenant& tenant) = 0;
};

class Tenant {
public:
    Tenant(Manifest manifest, std::unique_ptr<TenantCatalog> catalog,
           std::unique_ptr<TenantKnowledge> knowledge);
    ~Tenant();
    Tenant(const Tenant&) = delete;
    Tenant& operator=(const Tenant&) = delete;

    const std::string& id() const { return manifest_.profile.id; }
    /// The booking service its plugins are lent (HostServices::appointments()); null when the
    /// tenant does not enable the `appointments` tool.
    sdk::AppointmentBook* appointments() const { return appointments_.get(); }
    const Manifest& manifest() const { return manifest_; }
    const sdk::TenantProfile& profile() const { return manifest_.profile; }
    const sdk::CatalogStore& catalog() const { return *catalog_; }
    const sdk::KnowledgeStore& knowledge() const { return *knowledge_; }
    /// `text` (a plugin's error, say) with every value the manifest read from the environment
    /// hidden behind its variable's name: for log lines, stored calls and the model.
    std::string redact(std::string text) const { return manifest_.env_values.redact(std::move(text)); }

    /// The providers to try in order: `llm`, then `llm.fallback`, then an offline provider as the
    /// last resort (when one is installed and the chain has none).
    const std::vector<ProviderEntry>& providers() const { return providers_; }
    /// True when a provider of the chain calls a remote model (not an offline one).
    bool has_remote_provider() const;
    const std::map<std::string, ToolEntry>& tools() const { return tools_; }
    const std::vector<sdk::ToolSpec>& tool_specs() const { return tool_specs_; }
    /// The phrases that call each tool, by tool name: Lua tools' `examples` (none: absent).
    const std::map<std::string, std::vector<std::string>>& tool_examples() const { return tool_examples_; }
    /// The spec of tool `name`, or null when no enabled plugin offers it.
    const sdk::ToolSpec* tool_spec(const std::string& name) const;
    const std::vector<RuleEntry>& rules() const { return rules_; }
    sdk::Channel* channel(const std::string& name) const;
    /// The sending side of channel `name` (a plugin that declares sdk::kChannelSends), or null.
    sdk::ChannelSender* sender(const std::string& name) const;
    /// The batch parser of channel `name` (a plugin that declares sdk::kChannelBatches), or null.
    sdk::ChannelBatch* batcher(const std::string& name) const;
    /// True when channel `name` keeps its provider's 24-hour window (sdk::kChannelCustomerWindow).
    bool has_customer_window(const std::string& name) const { return windowed_.count(name) != 0; }
    /// The `reopen_template` of channel `name`'s config: the template sent in place of a message
    /// outside the customer's window. Empty when none.
    std::string reopen_template(const std::string& name) const;
    /// True when a rule may rewrite the reply: the reply cannot stream to the client as it is made.
    bool has_on_reply_rules() const;
    /// Answers to repeated questions. This version of the tenant only: an edit starts it empty.
    ResponseCache& response_cache() const { return response_cache_; }
    /// Forgets the remembered catalog matches and knowledge searches (the response cache is
    /// response_cache()'s to clear).
    void forget_searches() const {
        catalog_->forget_matches();
        knowledge_->forget_searches();
    }
    /// Text that depends only on this version of the tenant and `key` (the fixed part of a model's
    /// system prompt, per language): made by `make()` on first use, then kept. Few keys.
    template <class Make>
    const std::string& fixed_text(const std::string& key, Make&& make) const {
        {
            std::lock_guard lock(fixed_texts_mutex_);
            if (auto it = fixed_texts_.find(key); it != fixed_texts_.end()) return it->second;
        }
        std::string text = make();
        std::lock_guard lock(fixed_texts_mutex_);
        return fixed_texts_.emplace(key, std::move(text)).first->second;  // a node's text never moves
    }

private:
    friend sdk::Result<std::shared_ptr<Tenant>> load_tenant(const std::filesystem::path&,
                                                            const PluginRegistry&, Database&,
                                                            const sdk::Clock&, sdk::HttpClient&,
                                                            const SharedEnv&, const lua::ServerLimits&,
                                                            lua::TenantQuotaPtr, AppointmentBooks*);
    Manifest manifest_;
    std::unique_ptr<TenantCatalog> catalog_;
    std::unique_ptr<TenantKnowledge> knowledge_;
    std::unique_ptr<sdk::AppointmentBook> appointments_;  ///< outlives the services that lend it
    // Host services must outlive the instances that hold references to them: declared first.
    std::vector<std::unique_ptr<TenantServices>> services_;
    std::vector<PluginInstance> instances_;
    std::vector<ProviderEntry> providers_;
    std::map<std::string, ToolEntry> tools_;
    std::vector<sdk::ToolSpec> tool_specs_;
    std::map<std::string, std::vector<std::string>> tool_examples_;
    std::vector<RuleEntry> rules_;
    std::map<std::string, sdk::Channel*> channels_;
    std::map<std::string, sdk::ChannelSender*> senders_;
    std::map<std::string, sdk::ChannelBatch*> batchers_;
    std::set<std::string> windowed_;
    mutable ResponseCache response_cache_;
    mutable std::mutex fixed_texts_mutex_;
    mutable std::map<std::string, std::string> fixed_texts_;
};

/// Validates the tenant folder, imports its data into `db` (idempotently), and builds its plugin
/// instances. The error lists every problem, one per line, as `path: field: message`; it never
/// shows a value the manifest read from the environment. `shared`: as for load_manifest(). Its Lua
/// scripts run within `lua` and share `quota` (none: a quota of their own, with
/// `lua.calls_per_tenant` calls at once). `appointments` (none: no booking service) makes the
/// tenant's booking service.
sdk::Result<std::shared_ptr<Tenant>> load_tenant(const std::filesystem::path& folder,
                                                 const PluginRegistry& registry, Database& db,
                                                 const sdk::Clock& clock, sdk::HttpClient& http,
                                                 const SharedEnv& shared = {},
                                                 const lua::ServerLimits& lua = {},
                                                 lua::TenantQuotaPtr quota = nullptr,
                                                 AppointmentBooks* appointments = nullptr);

}  // namespace tezgah::engine
