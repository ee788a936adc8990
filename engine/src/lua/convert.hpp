#pragma once
// Lua values <-> JSON, for tool arguments and results, the session table and tool schemas.

#include <tezgah/sdk/types.hpp>

#include <lua.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tezgah::engine::lua {

namespace json = boost::json;

/// How a Lua table with no entries converts.
enum class EmptyTable { object, array };

/// Pushes `value` as a Lua value: objects and arrays become tables, null becomes nil. Returns false
/// (pushing nothing) when it is nested too deeply. Call under Sandbox::Uncapped.
bool push_json(lua_State* L, const json::value& value);

/// Bytes a script handed the host, as text the host may store and send: each byte of invalid UTF-8
/// and each NUL (which PostgreSQL refuses in text) replaced with U+FFFD. `replaced`, when given, is
/// increased by the number of bytes replaced.
std::string text_from_script(std::string_view bytes, std::size_t* replaced = nullptr);

/// Converts the Lua value at `index` to JSON into `out`. Sequences (keys 1..n) become arrays, tables
/// with string keys objects, empty tables objects; in `schema` mode an empty table under the keys
/// `required` and `enum` becomes an array. Returns "" or a message naming the path of the first value
/// JSON cannot represent ("session.cart[2]: a function is not representable in JSON").
/// Strings and keys go through text_from_script(); `replaced` counts the bytes replaced.
/// Uses raw access only: no metamethod runs, nothing is allocated in the state.
std::string to_json(lua_State* L, int index, json::value& out, const std::string& path, bool schema = false,
                    std::size_t* replaced = nullptr);

}  // namespace tezgah::engine::lua
