#include "lua/convert.hpp"

#include <tezgah/sdk/text.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace tezgah::engine::lua {

namespace {

constexpr int kMaxDepth = 64;

bool push_value(lua_State* L, const json::value& value, int depth) {
    if (depth > kMaxDepth || !lua_checkstack(L, 3)) return false;
    switch (value.kind()) {
        case json::kind::null:
            lua_pushnil(L);
            return true;
        case json::kind::bool_:
            lua_pushboolean(L, value.get_bool());
            return true;
        case json::kind::int64:
            lua_pushinteger(L, value.get_int64());
            return true;
        case json::kind::uint64: {
            auto number = value.get_uint64();
            if (number <= static_cast<std::uint64_t>(std::numeric_limits<lua_Integer>::max()))
                lua_pushinteger(L, static_cast<lua_Integer>(number));
            else
                lua_pushnumber(L, static_cast<lua_Number>(number));
            return true;
        }
        case json::kind::double_:
            lua_pushnumber(L, value.get_double());
            return true;
        case json::kind::string: {
            const auto& text = value.get_string();
            lua_pushlstring(L, text.data(), text.size());
            return true;
        }
        case json::kind::array: {
            const auto& array = value.get_array();
            lua_createtable(L, static_cast<int>(array.size()), 0);
            lua_Integer i = 1;
            for (const auto& item : array) {
                if (!push_value(L, item, depth + 1)) {
                    lua_pop(L, 1);
                    return false;
                }
                lua_rawseti(L, -2, i++);
            }
            return true;
        }
        case json::kind::object: {
            const auto& object = value.get_object();
            lua_createtable(L, 0, static_cast<int>(object.size()));
            for (const auto& [key, item] : object) {
                lua_pushlstring(L, key.data(), key.size());
                if (!push_value(L, item, depth + 1)) {
                    lua_pop(L, 2);
                    return false;
                }
                lua_rawset(L, -3);
            }
            return true;
        }
    }
    return false;
}

std::string convert(lua_State* L, int index, json::value& out, const std::string& path, bool schema,
                    EmptyTable empty, int depth, std::size_t* replaced) {
    index = lua_absindex(L, index);
    switch (lua_type(L, index)) {
        case LUA_TNIL:
            out = nullptr;
            return {};
        case LUA_TBOOLEAN:
            out = static_cast<bool>(lua_toboolean(L, index));
            return {};
        case LUA_TNUMBER: {
            if (lua_isinteger(L, index)) {
                out = static_cast<std::int64_t>(lua_tointeger(L, index));
                return {};
            }
            double number = lua_tonumber(L, index);
            if (!std::isfinite(number))
                return path + ": " + (std::isnan(number) ? "nan" : "inf") + " is not representable in JSON";
            // 10/2 is 5.0 in Lua; send it as 5.
            if (std::trunc(number) == number && std::fabs(number) < 9.0e15)
                out = static_cast<std::int64_t>(number);
            else
                out = number;
            return {};
        }
        case LUA_TSTRING: {
            std::size_t length = 0;
            const char* text = lua_tolstring(L, index, &length);
            out = json::string(text_from_script({text, length}, replaced));
            return {};
        }
        case LUA_TTABLE:
            break;
        default:
            return path + ": a " + luaL_typename(L, index) + " is not representable in JSON";
    }
    if (depth >= kMaxDepth) return path + ": nested more than 64 levels deep (or a cycle)";
    if (!lua_checkstack(L, 4)) return path + ": nested too deeply";

    // Decide the shape: a sequence 1..n is an array, string keys an object.
    std::size_t entries = 0;
    bool all_strings = true;
    bool all_positive_integers = true;
    lua_Integer largest = 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        ++entries;
        if (lua_type(L, -2) == LUA_TSTRING) {
            all_positive_integers = false;
        } else {
            all_strings = false;
            if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1)
                largest = std::max(largest, lua_tointeger(L, -2));
            else
                all_positive_integers = false;
        }
        lua_pop(L, 1);
    }
    if (entries == 0) {
        if (empty == EmptyTable::array)
            out = json::array();
        else
            out = json::object();
        return {};
    }
    if (all_positive_integers && static_cast<std::size_t>(largest) == entries) {
        json::array array;
        array.reserve(entries);
        for (lua_Integer i = 1; i <= largest; ++i) {
            lua_rawgeti(L, index, i);
            json::value item;
            std::string error = convert(L, -1, item, path + "[" + std::to_string(i) + "]", schema,
                                        EmptyTable::object, depth + 1, replaced);
            lua_pop(L, 1);
            if (!error.empty()) return error;
            array.push_back(std::move(item));
        }
        out = std::move(array);
        return {};
    }
    if (!all_strings)
        return path +
               ": a table mixing keys that are not strings, or a sequence with holes, is not "
               "representable in JSON";
    json::object object;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        std::size_t length = 0;
        const char* key = lua_tolstring(L, -2, &length);  // a string: safe during lua_next
        std::string name = text_from_script({key, length}, replaced);
        bool array_key = schema && (name == "required" || name == "enum");
        json::value item;
        std::string error = convert(L, -1, item, path.empty() ? name : path + "." + name, schema,
                                    array_key ? EmptyTable::array : EmptyTable::object, depth + 1, replaced);
        lua_pop(L, 1);
        if (!error.empty()) {
            lua_pop(L, 1);
            return error;
        }
        object[name] = std::move(item);
    }
    out = std::move(object);
    return {};
}

}  // namespace

std::string text_from_script(std::string_view bytes, std::size_t* replaced) {
    if (bytes.empty() ||
        (std::memchr(bytes.data(), '\0', bytes.size()) == nullptr && sdk::text::valid_utf8(bytes)))
        return std::string(bytes);
    std::size_t count = 0;
    std::string text = sdk::text::repair_utf8(bytes, &count);
    for (std::size_t at = text.find('\0'); at != std::string::npos; at = text.find('\0', at + 3)) {
        text.replace(at, 1, "\xEF\xBF\xBD");  // U+FFFD
        ++count;
    }
    if (replaced) *replaced += count;
    return text;
}

bool push_json(lua_State* L, const json::value& value) { return push_value(L, value, 0); }

std::string to_json(lua_State* L, int index, json::value& out, const std::string& path, bool schema,
                    std::size_t* replaced) {
    return convert(L, index, out, path, schema, EmptyTable::object, 0, replaced);
}

}  // namespace tezgah::engine::lua
