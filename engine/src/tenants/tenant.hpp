#pragma once
// A loaded tenant: its manifest, its data in the database, and its plugin instances (provider,
// tools, rules, channels), each with host services of its own. Built by load_tenant().

#include "plugins/registry.hpp"
#include "store/database.hpp"
#include "tenants/manifest.hpp"
#include "tenants/response_cache.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/plugin.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tezgah::engine {

/// The tenant's offerings, read from the database once per load and matched in memory. They do not
/// change while this object lives (a reload builds a new one), so the last answered matches are
/// remembered, bounded: the same question (every remote-model turn retrieves for its prompt, and
/// the tools look up the same words) is not matched twice.
class TenantCatalog : public sdk::CatalogStore {
public:
    explicit TenantCatalog(std::vector<sdk::Offering> offerings) : offerings_(std::move(offerings)) {}
    std::vector<sdk::Offering> all() const override { return offerings_; }
    std::optional<sdk::Offering> get(std::string_view id) const override;
    std::vector<sdk::OfferingMatch> find(std::string_view query, std::string_view language,
                                         std::size_t limit) const override;

private:
    static constexpr std::size_t kMaxRemembered = 1024;
    std::vector<sdk::Offering> offerings_;
    mutable std::mutex matches_mutex_;
    /// "limit \x1f language \x1f query" → matches.
    mutable std::map<std::string, std::vector<sdk::OfferingMatch>, std::less<>> matches_;
};

/// The tenant's knowledge base, searched with the database's full-text index. The entries are
/// imported once per load (a reload builds a new TenantKnowledge), so the hits for a query do not
/// change while this object lives: the last answered searches are remembered, bounded.
class TenantKnowledge : public sdk::KnowledgeStore {
public:
    TenantKnowledge(Database& db, std::string tenant_id, std::vector<sdk::KnowledgeEntry> entries)
        : db_(db), tenant_id_(std::move(tenant_id)), entries_(std::move(entries)) {}
    std::vector<sdk::KnowledgeEntry> all() const override { return entries_; }
    std::vector<sdk::KnowledgeHit> search(std::string_view query, std::string_view language,
                                          std::size_t limit) const override;

private:
    static constexpr std::size_t kMaxRemembered = 1024;
    Database& db_;
    std::string tenant_id_;
    std::vector<sdk::KnowledgeEntry> entries_;
    mutable std::mutex searches_mutex_;
    /// "limit \x1f language \x1f query" → hits; only searches that found something (an empty
    /// answer may be a database error, which must not be remembered).
    mutable std::map<std::string, std::vector<sdk::KnowledgeHit>, std::less<>> searches_;
};

/// What one plugin instance of one tenant is lent: shared stores, its own logger.
class TenantServices : public sdk::HostServices {
public:
    TenantServices(const sdk::TenantProfile& profile, const sdk::CatalogStore& catalog,
                   const sdk::KnowledgeStore& knowledge, const sdk::Clock& clock, sdk::HttpClient& http,
                   std::string logger_kind, std::string logger_name);
    sdk::Logger& logger() override { return logger_; }
    const sdk::TenantProfile& tenant() const override { return profile_; }
    const sdk::CatalogStore& catalog() const override { return catalog_; }
    const sdk::KnowledgeStore& knowledge() const override { return knowledge_; }
    const sdk::Clock& clock() const override { return clock_; }
    sdk::HttpClient& http() override { return http_; }
    bool is_open_at(std::chrono::system_clock::time_point when) const override;

private:
    const sdk::TenantProfile& profile_;
    const sdk::CatalogStore& catalog_;
    const sdk::KnowledgeStore& knowledge_;
    const sdk::Clock& clock_;
    sdk::HttpClient& http_;
    PluginLogger logger_;
};

/// A plugin instance of a tenant with what it is called by, and whether it has been disabled
/// after failing.
template <class Interface>
struct Enabled {
    std::string name;  ///< plugin name or script path
    Interface* plugin = nullptr;
    std::shared_ptr<std::atomic<bool>> disabled = std::make_shared<std::atomic<bool>>(false);
    std::string model;  ///< providers: the `model` of their config (defaults filled), for costs
};

struct ToolEntry {
    sdk::ToolSpec spec;
    Enabled<sdk::Tool> owner;
};

class Tenant {
public:
    Tenant(Manifest manifest, std::unique_ptr<TenantCatalog> catalog, std::unique_ptr<TenantKnowledge> knowledge);
    ~Tenant();
    Tenant(const Tenant&) = delete;
    Tenant& operator=(const Tenant&) = delete;

    const std::string& id() const { return manifest_.profile.id; }
    const Manifest& manifest() const { return manifest_; }
    const sdk::TenantProfile& profile() const { return manifest_.profile; }
    const sdk::CatalogStore& catalog() const { return *catalog_; }
    const sdk::KnowledgeStore& knowledge() const { return *knowledge_; }

    /// The providers to try in order: `llm`, then `llm.fallback`.
    const std::vector<Enabled<sdk::LlmProvider>>& providers() const { return providers_; }
    const std::map<std::string, ToolEntry>& tools() const { return tools_; }
    const std::vector<sdk::ToolSpec>& tool_specs() const { return tool_specs_; }
    const std::vector<Enabled<sdk::Rule>>& rules() const { return rules_; }
    sdk::Channel* channel(const std::string& name) const;
    bool has_on_reply_rules() const { return !rules_.empty(); }
    /// Answers to repeated questions. This version of the tenant only: an edit starts it empty.
    ResponseCache& response_cache() const { return response_cache_; }

private:
    friend sdk::Result<std::shared_ptr<Tenant>> load_tenant(const std::filesystem::path&, const PluginRegistry&,
                                                             Database&, const sdk::Clock&, sdk::HttpClient&);
    Manifest manifest_;
    std::unique_ptr<TenantCatalog> catalog_;
    std::unique_ptr<TenantKnowledge> knowledge_;
    // Host services must outlive the instances that hold references to them: declared first.
    std::vector<std::unique_ptr<TenantServices>> services_;
    std::vector<PluginInstance> instances_;
    std::vector<Enabled<sdk::LlmProvider>> providers_;
    std::map<std::string, ToolEntry> tools_;
    std::vector<sdk::ToolSpec> tool_specs_;
    std::vector<Enabled<sdk::Rule>> rules_;
    std::map<std::string, sdk::Channel*> channels_;
    mutable ResponseCache response_cache_;
};

/// Validates the tenant folder, imports its data into `db` (idempotently), and builds its plugin
/// instances. The error lists every problem, one per line, as `path: field: message`.
sdk::Result<std::shared_ptr<Tenant>> load_tenant(const std::filesystem::path& folder, const PluginRegistry& registry,
                                                 Database& db, const sdk::Clock& clock, sdk::HttpClient& http);

}  // namespace tezgah::engine
