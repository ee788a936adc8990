#pragma once
// The Lua host: rules and tools written in Lua, run in a sandbox (see docs/lua.md).
// One lua_State per script; only base (without dofile/loadfile/collectgarbage and binary load),
// string (with bounded pattern functions), table, math, utf8 and os.time/date/clock; unknown
// globals refused; a CPU budget per call that pcall cannot swallow and that covers the work done
// inside built-in functions; a wall-clock limit per call; a memory cap; a cap on the calls one
// tenant runs at once; host objects dead after the call.

#include "lua/quota.hpp"

#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine::lua {

namespace sdk = tezgah::sdk;

/// The limits of one script. The CPU budget counts VM instructions and, in the same units, the work
/// of built-in functions: bytes they read, and bytes allocated (docs/lua.md, "Limits").
struct Limits {
    long long instructions_per_call = 5'000'000;   ///< the CPU budget, in VM instructions
    std::chrono::milliseconds wall_per_call{100};  ///< wall-clock time per call, and for loading
    std::size_t memory_bytes = 16 * 1024 * 1024;   ///< per script state
    std::size_t pattern_subject_max = 4096;        ///< longest string the pattern functions accept
    std::size_t pattern_max = 256;                 ///< longest pattern they accept
};

/// What the operator sets for every tenant's scripts (`tezgah serve` / `check` options).
struct ServerLimits {
    int default_ms = 100;       ///< wall clock per call when the manifest sets no `lua.max_ms`
    int max_ms = 1000;          ///< `--lua-max-ms`: the most a manifest's `lua.max_ms` obtains
    int calls_per_tenant = 32;  ///< `--lua-concurrency`: one tenant's Lua calls at once

    /// The wall clock for a tenant that asks for `requested_ms` (none: the default), within the ceiling.
    std::chrono::milliseconds wall_for(std::optional<int> requested_ms) const;
};

/// What a Lua file declared.
enum class ScriptKind { rule, tool };

/// A loaded script: a sdk::Rule or sdk::Tool instance, plus its kind and declared name.
struct LoadedScript {
    ScriptKind kind;
    std::string name;
    sdk::PluginPtr plugin;      ///< dynamic_cast to sdk::Rule or sdk::Tool by kind
    bool has_on_reply = false;  ///< a rule that may rewrite replies
    /// A tool's `examples`: phrases a customer would write to call it (for offline providers).
    std::vector<std::string> examples;
};

/// Loads `path` (a text chunk that returns tezgah.rule{...} or tezgah.tool{...}). `host` outlives
/// the script. Errors name the file and line ("rules/x.lua:3: ..."); `display_path` is how the
/// file is named in them (the path relative to the tenants folder). `quota` is shared by the
/// tenant's scripts; none: the script gets one of its own.
sdk::Result<LoadedScript> load_script(const std::string& path, const std::string& display_path,
                                      sdk::HostServices& host, const Limits& limits = {},
                                      TenantQuotaPtr quota = nullptr);

/// Loads and checks a script without a live tenant (for `tezgah check`): syntax, declaration shape
/// (name, hooks, tool parameters schema), and a top level that finishes within `limits`. Returns
/// every problem as "field: message"; `display_path` (default: `path`) is how the file is named
/// in them.
std::vector<std::string> check_script(const std::string& path, ScriptKind expected,
                                      const std::string& display_path = {}, const Limits& limits = {});

}  // namespace tezgah::engine::lua
