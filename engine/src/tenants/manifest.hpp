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
#include <string>
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
    std::string plan = "free";
    sdk::TenantProfile profile;  ///< id, name, locale, business, persona, handoff
    LlmRef llm;                  ///< provider empty: none named, the installed offline provider answers
    std::vector<LlmRef> fallback;
    LlmPolicy llm_policy;
    int handoff_low_confidence_turns = 3;  ///< `handoff.low_confidence_turns`: doubtful turns in a row
    std::map<std::string, json::object> channels;
    std::vector<PluginRef> tools;
    std::vector<PluginRef> rules;
    std::optional<int> lua_max_ms;  ///< `lua.max_ms`: wall clock per Lua call, within the server's ceiling
    std::string offerings_file;     ///< relative paths from `data`, empty when absent
    std::string knowledge_file;
    std::string resources_file;
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
};

/// Reads and validates `folder/tenant.json`. `registry` (may be null) checks plugin names and each
/// plugin's config against the schema it declares. `${NAME}` strings are read from the environment.
ManifestResult load_manifest(const std::filesystem::path& folder, const PluginRegistry* registry);

/// Reads and validates the data files a manifest names (JSON, records, duplicate ids).
TenantData load_data(const Manifest& manifest, std::vector<Problem>& problems);

/// The limits of the manifest's Lua scripts: `lua.max_ms` (else the server's default) within the
/// server's ceiling (`--lua-max-ms`).
lua::Limits lua_limits(const Manifest& manifest, const lua::ServerLimits& server);

/// Checks the Lua scripts a manifest names (exist, inside the folder, load within the limits they
/// will run with, declare the right kind).
void check_scripts(const Manifest& manifest, std::vector<Problem>& problems,
                   const lua::ServerLimits& server = {});

/// Every tenant folder under `root` (folders holding a tenant.json), sorted; or `root` itself when
/// it holds a tenant.json.
std::vector<std::filesystem::path> discover_tenants(const std::filesystem::path& root);

/// Parses JSON text, with an error that names the line and column.
sdk::Result<json::value> parse_json_text(const std::string& text);

}  // namespace tezgah::engine
