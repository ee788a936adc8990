// Built-in functions charged to the CPU budget. Lua's count hook never fires inside a C function, so
// `big:upper()` in a loop would spend a 4 MB pass per VM instruction and run for minutes on a
// budget meant for milliseconds. Each function below is wrapped by a C closure that first charges
// the work its arguments announce (bytes read, elements moved or compared) and then calls the
// original, in the same frame. What a function allocates is charged by the allocator (sandbox.cpp),
// so a function that only copies (string.rep, `..`, string.sub) needs no wrapper.
//
// The charges raise with longjmp (Sandbox::charge): the frames here hold plain values only.
#include "lua/sandbox.hpp"

#include <algorithm>
#include <bit>
#include <iterator>
#include <string_view>

namespace tezgah::engine::lua {

namespace {

/// The most values a C function can push (Lua's stack limit): a longer slice is refused by the
/// function itself before it does any work, so charging more would only change the error.
constexpr long long kMaxPushed = LUAI_MAXSTACK;

/// The positions from `first` to `last` (none when `last` < `first`), capped at 2^50: a count that
/// no table or string can hold, reached without overflowing.
long long span(lua_Integer first, lua_Integer last) {
    if (last < first) return 0;
    const auto count = static_cast<unsigned long long>(last) - static_cast<unsigned long long>(first);
    return static_cast<long long>(std::min<unsigned long long>(count, 1ULL << 50)) + 1;
}

/// `pos` of a string of `length` bytes as string.byte reads it: negative counts from the end.
lua_Integer relative_position(lua_Integer pos, std::size_t length) {
    const auto len = static_cast<lua_Integer>(length);
    if (pos >= 0) return pos;
    if (pos < -len) return 0;
    return len + pos + 1;
}

/// The integer argument at `index`, or `fallback` when it is absent, nil or not an integer (the
/// function itself raises for a bad one).
lua_Integer integer_or(lua_State* L, int index, lua_Integer fallback) {
    if (lua_isnoneornil(L, index)) return fallback;
    int is_integer = 0;
    lua_Integer value = lua_tointegerx(L, index, &is_integer);
    return is_integer ? value : fallback;
}

long long string_length(lua_State* L, int index) {
    return lua_type(L, index) == LUA_TSTRING ? static_cast<long long>(lua_rawlen(L, index)) : 0;
}

/// The bytes of every string argument: string.upper, lower, reverse, format, pack, unpack,
/// utf8.offset, tonumber, os.date read them all.
long long string_arguments(lua_State* L) {
    long long total = 1;
    for (int i = 1, n = lua_gettop(L); i <= n; ++i) total += string_length(L, i);
    return total;
}

/// The bytes from `i` to `j` of the string at 1 (string.byte, utf8.codepoint, utf8.len).
long long byte_range(lua_State* L, lua_Integer default_i, bool j_defaults_to_i, lua_Integer default_j) {
    if (lua_type(L, 1) != LUA_TSTRING) return 1;
    const std::size_t length = lua_rawlen(L, 1);
    const lua_Integer i = std::max<lua_Integer>(1, relative_position(integer_or(L, 2, default_i), length));
    const lua_Integer j = std::min<lua_Integer>(
        static_cast<lua_Integer>(length),
        relative_position(integer_or(L, 3, j_defaults_to_i ? integer_or(L, 2, default_i) : default_j),
                          length));
    return 1 + std::min(span(i, j), kMaxPushed);
}

long long string_byte(lua_State* L) { return byte_range(L, 1, true, 0); }
long long utf8_codepoint(lua_State* L) { return byte_range(L, 1, true, 0); }
long long utf8_len(lua_State* L) { return byte_range(L, 1, false, -1); }

/// One step per argument: string.char, utf8.char.
long long argument_count(lua_State* L) { return 1 + lua_gettop(L); }

/// #t as the table functions see it (__len included); 0 when the first argument is not a table
/// (the function raises).
lua_Integer table_length(lua_State* L) {
    if (lua_type(L, 1) != LUA_TTABLE) return 0;
    return luaL_len(L, 1);
}

/// table.concat(t, sep, i, j): the elements joined (the result is charged as it is allocated).
long long table_concat(lua_State* L) {
    const lua_Integer first = integer_or(L, 3, 1);
    const lua_Integer last = lua_isnoneornil(L, 4) ? table_length(L) : integer_or(L, 4, 0);
    return 1 + span(first, last);
}

/// table.insert(t, pos, v): the elements shifted up.
long long table_insert(lua_State* L) {
    if (lua_gettop(L) != 3) return 1;
    return 1 + span(integer_or(L, 2, 0), table_length(L));
}

/// table.remove(t, pos): the elements shifted down.
long long table_remove(lua_State* L) {
    const lua_Integer size = table_length(L);
    return 1 + span(integer_or(L, 2, size), size);
}

/// table.sort(t, comp): n log n comparisons (a Lua comparator is counted by the hook as well).
long long table_sort(lua_State* L) {
    const auto n = static_cast<unsigned long long>(std::max<lua_Integer>(0, table_length(L)));
    return 1 + static_cast<long long>(std::min<unsigned long long>(n, 1ULL << 40) * std::bit_width(n));
}

/// table.unpack(t, i, j): the values pushed.
long long table_unpack(lua_State* L) {
    const lua_Integer first = integer_or(L, 2, 1);
    const lua_Integer last = lua_isnoneornil(L, 3) ? table_length(L) : integer_or(L, 3, 0);
    return 1 + std::min(span(first, last), kMaxPushed);
}

using Cost = long long (*)(lua_State*);

/// Which cost a wrapped function is charged: its index in kCosts.
enum CostIndex {
    kStringArguments,
    kStringByte,
    kUtf8Codepoint,
    kUtf8Len,
    kArgumentCount,
    kTableConcat,
    kTableInsert,
    kTableRemove,
    kTableSort,
    kTableUnpack,
};

constexpr Cost kCosts[] = {
    string_arguments,  // kStringArguments
    string_byte,       // kStringByte
    utf8_codepoint,    // kUtf8Codepoint
    utf8_len,          // kUtf8Len
    argument_count,    // kArgumentCount
    table_concat,      // kTableConcat
    table_insert,      // kTableInsert
    table_remove,      // kTableRemove
    table_sort,        // kTableSort
    table_unpack,      // kTableUnpack
};
static_assert(std::size(kCosts) == kTableUnpack + 1);

/// Upvalues: 1 the original function (a C function without upvalues), 2 its CostIndex.
int charged_call(lua_State* L) {
    const auto cost = static_cast<std::size_t>(lua_tointeger(L, lua_upvalueindex(2)));
    Sandbox::charge(L, kCosts[cost](L));
    // The original takes no upvalues: called in this frame, it sees the same arguments.
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/// One step of the iterator utf8.codes returns (upvalue 1: Lua's). A step skips the continuation
/// bytes after the current character, which in a string of nothing else is the whole string: it is
/// charged by the bytes it will skip.
int charged_codes_step(lua_State* L) {
    long long steps = 1;
    if (lua_type(L, 1) == LUA_TSTRING) {
        std::size_t length = 0;
        const char* s = lua_tolstring(L, 1, &length);
        const lua_Integer current = integer_or(L, 2, 0);
        if (current > 0) {
            for (auto at = static_cast<std::size_t>(current);
                 at < length && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80; ++at)
                ++steps;
        }
    }
    Sandbox::charge(L, steps);
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/// utf8.codes: Lua's, with its iterator wrapped (upvalue 1: Lua's utf8.codes).
int charged_codes(lua_State* L) {
    const int results = lua_tocfunction(L, lua_upvalueindex(1))(L);  // iterator, s, 0
    lua_pushvalue(L, -results);
    lua_pushcclosure(L, charged_codes_step, 1);
    lua_replace(L, -results - 1);
    return results;
}

/// Replaces field `name` of the table at the top of the stack with a charged wrapper.
void wrap(lua_State* L, const char* name, CostIndex cost) {
    lua_getfield(L, -1, name);
    lua_pushinteger(L, cost);
    lua_pushcclosure(L, charged_call, 2);
    lua_setfield(L, -2, name);
}

}  // namespace

void install_charged_builtins(lua_State* L) {
    struct Entry {
        const char* name;
        CostIndex cost;
    };
    struct Library {
        const char* name;  ///< a global table, or nullptr for the globals themselves
        std::initializer_list<Entry> functions;
    };
    static const Library kLibraries[] = {
        {nullptr, {{"tonumber", kStringArguments}}},
        {"string",
         {{"upper", kStringArguments},
          {"lower", kStringArguments},
          {"reverse", kStringArguments},
          {"format", kStringArguments},
          {"pack", kStringArguments},
          {"packsize", kStringArguments},
          {"unpack", kStringArguments},
          {"byte", kStringByte},
          {"char", kArgumentCount}}},
        {"utf8",
         {{"len", kUtf8Len},
          {"codepoint", kUtf8Codepoint},
          {"offset", kStringArguments},
          {"char", kArgumentCount}}},
        {"table",
         {{"concat", kTableConcat},
          {"insert", kTableInsert},
          {"remove", kTableRemove},
          {"sort", kTableSort},
          {"unpack", kTableUnpack}}},
        {"os", {{"date", kStringArguments}}},
    };
    const int globals = lua_gettop(L);
    // Arithmetic on strings ("10" + 1) goes through the string metatable's C functions, which
    // convert the whole string.
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    for (const char* name : {"__add", "__sub", "__mul", "__mod", "__pow", "__div", "__idiv", "__unm"})
        wrap(L, name, kStringArguments);
    lua_pop(L, 2);
    for (const auto& library : kLibraries) {
        if (library.name != nullptr)
            lua_getfield(L, globals, library.name);
        else
            lua_pushvalue(L, globals);
        for (const auto& [name, cost] : library.functions) wrap(L, name, cost);
        if (library.name != nullptr && std::string_view(library.name) == "utf8") {
            lua_getfield(L, -1, "codes");
            lua_pushcclosure(L, charged_codes, 1);
            lua_setfield(L, -2, "codes");
        }
        lua_pop(L, 1);
    }
}

}  // namespace tezgah::engine::lua
