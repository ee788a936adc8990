#pragma once
// Tenant manifests (tenants/<id>/tenant.json) and their data files: parsing and validation.
// Every problem is reported as `path: field: message`; validation goes on after a problem so one
// run names them all.

#include "lua/lua_host.hpp"

#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/host.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

class PluginRegistry;

/// One problem found in a tenant's files.
struct Problem {
    std::string path;   ///< the file, as the user named the folder
    std::string field;  ///< e.g. "locale.timezone", "[3].price"; "-" for the whole file
    std::string message;
    std::string str() const { return path + ": " + field + ": " + message; }
};

/// The environment variables every tenant's manifest may read besides its own
/// (`--shared-env NAME,NAME`, TEZGAH_SHARED_ENV).
using SharedEnv = std::set<std::string>;

/// Parses a `--shared-env` list: names separated by commas (spaces and empty items ignored).
/// Errors (invalid_value) name the entry: not a variable name, or a `TEZGAH_` name (the engine's
/// own settings and the tenants' own variables are never shared).
sdk::Result<SharedEnv> parse_shared_env(std::string_view list);

/// The prefix of a tenant's own variables: "TEZGAH_GECE_BUTIK__" for gece-butik.
std::string tenant_env_prefix(std::string_view id);

/// The values a manifest read from the environment, kept so that none is ever shown: messages and
/// log lines name the variable instead.
class EnvValues {
public:
    /// `field` is where the manifest used it ("llm.api_key").
    void add(std::string field, std::string variable, std::string value);
    bool empty() const { return entries_.empty(); }
    /// The variable whose value was read at exactly `field` ("business.info.wifi"); empty when
    /// the field was not read from the environment.
    std::string variable_at(std::string_view field) const;

    /// `text` with every value hidden. `"VALUE"`, the way messages quote a value, becomes
    /// `the value of ${NAME}`; VALUE anywhere else becomes `${NAME}` when it has at least
    /// kMinBareLength characters (shorter ones cannot be told apart from ordinary words). A value
    /// read at `field` (or inside it) is named by its own variable first.
    std::string redact(std::string text, std::string_view field = {}) const;

    static constexpr std::size_t kMinBareLength = 4;

private:
    struct Entry {
        std::string field;
        std::string variable;
        std::string value;
    };
    std::vector<Entry> entries_;  // longest value first: one inside another is not replaced alone
};

/// A provider entry of `llm` or `llm.fallback`: the plugin name and the rest as its config.
struct LlmRef {
    std::string provider;
    json::object config;
};

/// A tool or rule entry: a plugin by name (with config) or a Lua script path.
struct PluginRef {
    std::string name;    ///< plugin name; empty for scripts
    std::string script;  ///< path relative to the tenant folder, e.g. "rules/x.lua"
    json::object config;
    std::string field;  ///< where it was declared, e.g. "tools[2]"
};

/// What the engine (not the provider plugin) reads from the `llm` block.
struct LlmPolicy {
    int deadline_ms = 20000;            ///< `llm.deadline_ms`: the whole turn, fallbacks included
    std::optional<double> daily_usd;    ///< `llm.budget.daily_usd`
    std::optional<double> monthly_usd;  ///< `llm.budget.monthly_usd`
    bool refuse_on_exceed = false;      ///< `llm.budget.on_exceed`: "refuse" (else "fallback")
    std::string refuse_message;         ///< `llm.budget.message`: the polite refusal, when set
    int cache_ttl_s = 600;              ///< `llm.cache.ttl_s`; 0 turns the response cache off
    int cache_negative_ttl_s = 30;      ///< `llm.cache.negative_ttl_s`: failures, briefly
};

struct Manifest {
    std::filesystem::path folder;
    std::string manifest_path;  ///< as displayed in problems
    std::string plan;  ///< `plan`: free, basic, premium or enterprise; empty: no plan (no plan limits)
    sdk::TenantProfile profile;  ///< id, name, locale, business, persona, handoff
    LlmRef llm;                  ///< provider empty: none named, the installed offline provider answers
    std::vector<LlmRef> fallback;
    LlmPolicy llm_policy;
    int handoff_low_confidence_turns = 3;  ///< `handoff.low_confidence_turns`: doubtful turns in a row
    std::map<std::string, json::object> channels;
    /// Channels left out because a variable their config reads is not set: name -> why
    /// (`channels.twilio.auth_token: environment variable ... is not set: ...`).
    std::map<std::string, std::string> disabled_channels;
    std::vector<PluginRef> tools;
    std::vector<PluginRef> rules;
    std::optional<int> lua_max_ms;  ///< `lua.max_ms`: wall clock per Lua call, within the server's ceiling
    std::string offerings_file;     ///< relative paths from `data`, empty when absent
    std::string knowledge_file;
    std::string resources_file;
    EnvValues env_values;  ///< what `${NAME}` read: hidden from every message and plugin log line
};

/// A tenant's data files, parsed.
struct TenantData {
    std::vector<sdk::Offering> offerings;
    std::vector<sdk::KnowledgeEntry> knowledge;
    std::vector<sdk::Resource> resources;
};

struct ManifestResult {
    std::optional<Manifest> manifest;  ///< empty when the file could not be read as a manifest
    std::vector<Problem> problems;
    /// What does not stop the tenant: a channel disabled because its variable is not set.
    std::vector<Problem> warnings;
};

/// Reads and validates `folder/tenant.json`. `registry` (may be null) checks plugin names and each
/// plugin's config against the schema it declares. A string `"${NAME}"` is read from the
/// environment when NAME is the tenant's own (`TEZGAH_<ID>__<REST>`) or in `shared`; no problem's
/// message shows a value read so.
ManifestResult load_manifest(const std::filesystem::path& folder, const PluginRegistry* registry,
                             const SharedEnv& shared = {});

/// Reads and validates the data files a manifest names (inside the folder, JSON, records, duplicate
/// ids).
TenantData load_data(const Manifest& manifest, std::vector<Problem>& problems);

/// The limits of the manifest's Lua scripts: `lua.max_ms` (else the server's default) within the
/// server's ceiling (`--lua-max-ms`).
lua::Limits lua_limits(const Manifest& manifest, const lua::ServerLimits& server);

/// Checks the Lua scripts a manifest names (exist, inside the folder, load within the limits they
/// will run with, declare the right kind).
void check_scripts(const Manifest& manifest, std::vector<Problem>& problems,
                   const lua::ServerLimits& server = {});

/// Where `relative`, a path the manifest names, leads inside `folder` once every symbolic link is
/// followed: the file to read. A path that leaves the folder, lexically (absolute, `..`) or through
/// a symbolic link, or that goes through a link to nothing, is refused (invalid_value, with a
/// message that starts with the quoted path and says why).
sdk::Result<std::filesystem::path> resolve_in_folder(const std::filesystem::path& folder,
                                                     const std::string& relative);

/// Every tenant folder under `root` (folders holding a tenant.json), sorted; or `root` itself when
/// it holds a tenant.json.
std::vector<std::filesystem::path> discover_tenants(const std::filesystem::path& root);

/// Parses JSON text, with an error that names the line and column.
sdk::Result<json::value> parse_json_text(const std::string& text);

}  // namespace tezgah::engine
