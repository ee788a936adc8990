#include "tenants/tenant.hpp"

#include "lua/lua_host.hpp"
#include "plugins/guarded.hpp"
#include "util/common.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>

namespace tezgah::engine {
namespace fs = std::filesystem;

std::optional<sdk::Offering> TenantCatalog::get(std::string_view id) const {
    for (const auto& o : offerings_)
        if (o.id == id) return o;
    return std::nullopt;
}

std::vector<sdk::OfferingMatch> TenantCatalog::find(std::string_view query, std::string_view language,
                                                    std::size_t limit) const {
    return matches_.get(query, language, limit,
                        [&] { return sdk::text::match_offerings(offerings_, query, language, limit); });
}

std::vector<sdk::KnowledgeHit> TenantKnowledge::search(std::string_view query, std::string_view language,
                                                       std::size_t limit) const {
    return searches_.get(query, language, limit, [&]() -> std::vector<sdk::KnowledgeHit> {
        auto hits = db_.search_knowledge(tenant_id_, query, language, limit);
        if (hits) return std::move(hits).value();
        // The interface has no error to give: the tool answers "nothing found", and the empty
        // answer is not remembered (searches_ keeps no empty answers), so the next ask searches again.
        log_event(spdlog::level::err, "tenants", "knowledge search failed",
                  {{"tenant", tenant_id_}, {"error", hits.error().message}});
        return {};
    });
}

TenantServices::TenantServices(const sdk::TenantProfile& profile, const sdk::CatalogStore& catalog,
                               const sdk::KnowledgeStore& knowledge, const sdk::Clock& clock,
                               sdk::HttpClient& http, const std::string& logger_kind,
                               const std::string& logger_name, const EnvValues& env_values,
                               sdk::AppointmentBook* appointments)
    : profile_(profile),
      catalog_(catalog),
      knowledge_(knowledge),
      clock_(clock),
      http_(http),
      logger_(logger_kind, logger_name, profile.id, env_values),
      appointments_(appointments) {}

bool TenantServices::is_open_at(std::chrono::system_clock::time_point when) const {
    return engine::is_open_at(profile_.hours, profile_.timezone, when);
}

Tenant::Tenant(Manifest manifest, std::unique_ptr<TenantCatalog> catalog,
               std::unique_ptr<TenantKnowledge> knowledge)
    : manifest_(std::move(manifest)), catalog_(std::move(catalog)), knowledge_(std::move(knowledge)) {}

Tenant::~Tenant() {
    // Instances first (they reference the services), then the services.
    channels_.clear();
    senders_.clear();
    rules_.clear();
    tools_.clear();
    providers_.clear();
    instances_.clear();
    services_.clear();
    appointments_.reset();
}

bool Tenant::has_remote_provider() const {
    return std::any_of(providers_.begin(), providers_.end(),
                       [](const ProviderEntry& p) { return !p.offline; });
}

bool Tenant::has_on_reply_rules() const {
    return std::any_of(rules_.begin(), rules_.end(), [](const RuleEntry& r) { return r.has_on_reply; });
}

const sdk::ToolSpec* Tenant::tool_spec(const std::string& name) const {
    auto it = tools_.find(name);
    return it == tools_.end() ? nullptr : &it->second.spec;
}

sdk::ChannelSender* Tenant::sender(const std::string& name) const {
    auto it = senders_.find(name);
    return it == senders_.end() ? nullptr : it->second;
}

sdk::ChannelBatch* Tenant::batcher(const std::string& name) const {
    auto it = batchers_.find(name);
    return it == batchers_.end() ? nullptr : it->second;
}

std::string Tenant::reopen_template(const std::string& name) const {
    auto it = manifest_.channels.find(name);
    if (it == manifest_.channels.end()) return {};
    const auto* value = it->second.if_contains("reopen_template");
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

sdk::Channel* Tenant::channel(const std::string& name) const {
    auto it = channels_.find(name);
    return it == channels_.end() ? nullptr : it->second;
}

namespace {

std::string join_problems(const std::vector<Problem>& problems) {
    std::string out;
    for (const auto& p : problems) out += (out.empty() ? "" : "\n") + p.str();
    return out;
}

}  // namespace

sdk::Result<std::shared_ptr<Tenant>> load_tenant(const fs::path& folder, const PluginRegistry& registry,
                                                 Database& db, const sdk::Clock& clock, sdk::HttpClient& http,
                                                 const SharedEnv& shared, const lua::ServerLimits& lua,
                                                 lua::TenantQuotaPtr quota, AppointmentBooks* appointments) {
    auto loaded = load_manifest(folder, &registry, shared);
    auto problems = loaded.problems;
    if (!loaded.manifest) return sdk::Error{sdk::errc::invalid_tenant, join_problems(problems)};
    auto manifest = std::move(*loaded.manifest);
    auto data = load_data(manifest, problems);
    check_scripts(manifest, problems, lua);
    if (!problems.empty()) return sdk::Error{sdk::errc::invalid_tenant, join_problems(problems)};

    const std::string id = manifest.profile.id;
    for (const auto& [channel, why] : manifest.disabled_channels)
        log_event(spdlog::level::warn, "tenants", "channel disabled",
                  {{"tenant", id}, {"channel", channel}, {"reason", why}});
    // Plugins' messages may quote their config: none may show what the environment gave.
    const EnvValues env_values = manifest.env_values;
    if (manifest.lua_max_ms && *manifest.lua_max_ms > lua.max_ms)
        log_event(spdlog::level::warn, "tenants",
                  "lua.max_ms is above the server's ceiling (--lua-max-ms); the ceiling applies",
                  {{"tenant", id},
                   {"lua.max_ms", std::to_string(*manifest.lua_max_ms)},
                   {"ceiling_ms", std::to_string(lua.max_ms)}});
    const lua::Limits script_limits = lua_limits(manifest, lua);
    if (!quota)
        quota =
            std::make_shared<lua::TenantQuota>(id, lua::QuotaOptions{.calls_at_once = lua.calls_per_tenant});
    auto fail = [&](const std::string& what, const sdk::Error& e) {
        return sdk::Error{sdk::errc::invalid_tenant,
                          manifest.manifest_path + ": " + what + ": " + env_values.redact(e.message, what)};
    };
    if (auto s = db.upsert_tenant(id, manifest.profile.name); !s) return fail("database", s.error());
    if (auto r = db.import_offerings(id, data.offerings); !r) return fail("data.offerings", r.error());
    if (auto r = db.import_knowledge(id, data.knowledge); !r) return fail("data.knowledge", r.error());
    if (auto r = db.import_resources(id, data.resources); !r) return fail("data.resources", r.error());
    // Providers answer who works when from the profile (the offline assistant's people answers).
    manifest.profile.resources = data.resources;

    auto offerings = db.offerings(id);
    if (!offerings) return fail("data.offerings: read after import", offerings.error());
    auto knowledge = db.knowledge(id);
    if (!knowledge) return fail("data.knowledge: read after import", knowledge.error());
    auto tenant = std::make_shared<Tenant>(
        std::move(manifest), std::make_unique<TenantCatalog>(std::move(offerings).value()),
        std::make_unique<TenantKnowledge>(db, id, std::move(knowledge).value()));
    const auto& m = tenant->manifest_;
    if (appointments) tenant->appointments_ = appointments->book_for(*tenant);
    auto services_for = [&](const std::string& kind, const std::string& name) -> TenantServices& {
        tenant->services_.push_back(
            std::make_unique<TenantServices>(m.profile, *tenant->catalog_, *tenant->knowledge_, clock, http,
                                             kind, name, m.env_values, tenant->appointments_.get()));
        return *tenant->services_.back();
    };
    auto invalid = [&](const std::string& field, const std::string& message) {
        return sdk::Error{sdk::errc::invalid_tenant,
                          m.manifest_path + ": " + field + ": " + env_values.redact(message, field)};
    };
    // One instance of a plugin or a script; `info` is null for scripts.
    struct Made {
        sdk::Plugin* plugin = nullptr;
        const PluginInfo* info = nullptr;
        bool has_on_reply = true;
        std::vector<std::string> examples;  ///< a Lua tool's `examples`
    };
    auto make = [&](sdk::PluginKind kind, const std::string& name, const json::object& config,
                    const std::string& field) -> sdk::Result<Made> {
        const auto* info = registry.find(name, kind);
        if (!info) return invalid(field, "plugin \"" + name + "\" is not installed");
        auto instance = registry.instantiate(*info, config, services_for(sdk::to_string(kind), name));
        if (!instance) return invalid(field, instance.error().message);
        auto* raw = instance->get();
        tenant->instances_.push_back(std::move(instance).value());
        return Made{raw, info};
    };
    auto script = [&](const PluginRef& ref) -> sdk::Result<Made> {
        // Read where it was found inside the folder (check_scripts refused one that leads out).
        auto file = resolve_in_folder(m.folder, ref.script);
        if (!file) return invalid(ref.field, file.error().message);
        auto shown = (m.folder / ref.script).string();
        auto loaded_script =
            lua::load_script(file->string(), shown, services_for("lua", ref.script), script_limits, quota);
        if (!loaded_script)
            return sdk::Error{sdk::errc::invalid_tenant, env_values.redact(loaded_script.error().message)};
        auto* raw = loaded_script->plugin.get();
        tenant->instances_.emplace_back(nullptr, std::move(loaded_script->plugin));
        return Made{raw, nullptr, loaded_script->has_on_reply, std::move(loaded_script->examples)};
    };

    // The chain: `llm` (when the manifest names one), its fallbacks, and an offline provider last.
    struct Link {
        LlmRef ref;
        std::string field;
    };
    std::vector<Link> chain;
    if (!m.llm.provider.empty()) chain.push_back({m.llm, "llm"});
    for (std::size_t i = 0; i < m.fallback.size(); ++i)
        chain.push_back({m.fallback[i], "llm.fallback[" + std::to_string(i) + "]"});
    const bool has_offline = std::any_of(chain.begin(), chain.end(), [&](const Link& link) {
        const auto* info = registry.find(link.ref.provider, sdk::PluginKind::llm);
        return info && info->has(sdk::kProviderOffline);
    });
    if (const auto* offline = registry.offline_provider(); offline && !has_offline)
        chain.push_back({LlmRef{offline->name, {}}, chain.empty() ? "llm" : "llm (offline last resort)"});
    if (chain.empty()) return invalid("llm", "no provider: name one, or install an offline provider plugin");
    for (const auto& link : chain) {
        auto made = make(sdk::PluginKind::llm, link.ref.provider, link.ref.config, link.field);
        if (!made) return made.error();
        ProviderEntry provider;
        provider.name = link.ref.provider;
        provider.plugin = dynamic_cast<sdk::LlmProvider*>(made->plugin);
        provider.offline = made->info->has(sdk::kProviderOffline);
        provider.streams = made->info->has(sdk::kProviderStreams);
        auto model =
            guarded("provider " + provider.name + " model()", [&] { return provider.plugin->model(); });
        if (!model) return invalid(link.field, model.error().message);
        provider.model = model->empty() ? provider.name : std::move(model).value();
        tenant->providers_.push_back(std::move(provider));
    }
    for (const auto& ref : m.tools) {
        auto made =
            ref.script.empty() ? make(sdk::PluginKind::tool, ref.name, ref.config, ref.field) : script(ref);
        if (!made) return made.error();
        auto* tool = dynamic_cast<sdk::Tool*>(made->plugin);
        if (!tool) return invalid(ref.field, "\"" + ref.script + "\" is not a tool");
        Enabled<sdk::Tool> owner{ref.script.empty() ? ref.name : ref.script, tool};
        auto specs = guarded("tool " + owner.name + " specs()", [&] { return tool->specs(); });
        if (!specs) return invalid(ref.field, specs.error().message);
        for (auto& spec : *specs) {
            if (tenant->tools_.count(spec.name))
                return invalid(ref.field, "tool \"" + spec.name + "\" is already offered by " +
                                              tenant->tools_[spec.name].owner.name);
            tenant->tool_specs_.push_back(spec);
            if (!made->examples.empty()) tenant->tool_examples_[spec.name] = made->examples;
            tenant->tools_.emplace(spec.name, ToolEntry{spec, owner});
        }
    }
    for (const auto& ref : m.rules) {
        auto made =
            ref.script.empty() ? make(sdk::PluginKind::rule, ref.name, ref.config, ref.field) : script(ref);
        if (!made) return made.error();
        auto* rule = dynamic_cast<sdk::Rule*>(made->plugin);
        if (!rule) return invalid(ref.field, "\"" + ref.script + "\" is not a rule");
        RuleEntry entry;
        entry.name = ref.script.empty() ? ref.name : ref.script;
        entry.plugin = rule;
        entry.has_on_reply = made->has_on_reply;
        tenant->rules_.push_back(std::move(entry));
    }
    for (const auto& [name, config] : m.channels) {
        auto made = make(sdk::PluginKind::channel, name, config, "channels." + name);
        if (!made) return made.error();
        tenant->channels_[name] = dynamic_cast<sdk::Channel*>(made->plugin);
        if (made->info->has(sdk::kChannelSends))
            tenant->senders_[name] = dynamic_cast<sdk::ChannelSender*>(made->plugin);
        if (made->info->has(sdk::kChannelBatches))
            tenant->batchers_[name] = dynamic_cast<sdk::ChannelBatch*>(made->plugin);
        if (made->info->has(sdk::kChannelCustomerWindow)) tenant->windowed_.insert(name);
    }
    log_event(spdlog::level::info, "tenants", "tenant loaded",
              {{"tenant", id},
               {"offerings", std::to_string(data.offerings.size())},
               {"knowledge", std::to_string(data.knowledge.size())},
               {"tools", std::to_string(tenant->tool_specs_.size())},
               {"rules", std::to_string(tenant->rules_.size())}});
    return tenant;
}

}  // namespace tezgah::engine
