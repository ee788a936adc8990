#pragma once
// The Lua host: rules and tools written in Lua, run in a sandbox (see docs/lua.md).
// One lua_State per script; only base (without dofile/loadfile/collectgarbage and binary load),
// string (with bounded pattern functions), table, math, utf8 and os.time/date/clock; unknown
// globals refused; a CPU budget per call that pcall cannot swallow; a memory cap; host objects
// dead after the call.

#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/result.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace tezgah::engine::lua {

namespace sdk = tezgah::sdk;

struct Limits {
    long long instructions_per_call = 5'000'000;  ///< the CPU budget, in VM instructions
    std::size_t memory_bytes = 16 * 1024 * 1024;  ///< per script state
    std::size_t pattern_subject_max = 4096;       ///< longest string the pattern functions accept
    std::size_t pattern_max = 256;                ///< longest pattern they accept
};

/// What a Lua file declared.
enum class ScriptKind { rule, tool };

/// A loaded script: a sdk::Rule or sdk::Tool instance, plus its kind and declared name.
struct LoadedScript {
    ScriptKind kind;
    std::string name;
    sdk::PluginPtr plugin;      ///< dynamic_cast to sdk::Rule or sdk::Tool by kind
    bool has_on_reply = false;  ///< a rule that may rewrite replies
};

/// Loads `path` (a text chunk that returns tezgah.rule{...} or tezgah.tool{...}). `host` outlives
/// the script. Errors name the file and line ("rules/x.lua:3: ..."); `display_path` is how the
/// file is named in them (the path relative to the tenants folder).
sdk::Result<LoadedScript> load_script(const std::string& path, const std::string& display_path,
                                      sdk::HostServices& host, const Limits& limits = {});

/// Loads and checks a script without a live tenant (for `tezgah check`): syntax, declaration shape
/// (name, hooks, tool parameters schema). Returns every problem as "field: message";
/// `display_path` (default: `path`) is how the file is named in them.
std::vector<std::string> check_script(const std::string& path, ScriptKind expected,
                                      const std::string& display_path = {});

}  // namespace tezgah::engine::lua
