// The sandbox every Lua script runs in. Two things to keep in mind when reading it:
//  - Lua is built as C here: lua_error unwinds with longjmp, so no C++ object with a destructor
//    may be alive in a C function at the point where it (or any Lua API call that can fail)
//    raises. Functions below raise only from frames holding trivially destructible locals.
//  - The count hook never fires inside C functions, so the work they do is charged separately:
//    every byte the state allocates (here), the bytes and elements built-ins read (charged.cpp,
//    patterns.cpp, table.move, load), and the wall clock is looked at in the hook and in charges.
#include "lua/sandbox.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace tezgah::engine::lua {

namespace {

/// Writes "<source>:<line>" of the innermost Lua function on `L`'s stack into `out`, or "" when
/// none. Reads the call stack only: safe from the allocator and from hooks.
void where_into(lua_State* L, char* out, std::size_t size) {
    out[0] = '\0';
    lua_Debug ar;
    for (int level = 0; level < 64 && lua_getstack(L, level, &ar); ++level) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            std::snprintf(out, size, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

int unknown_global_read(lua_State* L) {
    const char* name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
    return luaL_error(L, "unknown global '%s'", name);
}

int unknown_global_write(lua_State* L) {
    const char* name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
    return luaL_error(L, "unknown global '%s' (scripts cannot create globals; use local)", name);
}

/// load(): text chunks given as strings only, never binary.
int safe_load(lua_State* L) {
    if (lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "load: only a string holding a text chunk is allowed in the sandbox");
    std::size_t length = 0;
    const char* chunk = lua_tolstring(L, 1, &length);
    Sandbox::charge(L, static_cast<long long>(length));  // the lexer reads every byte
    const char* name = luaL_optstring(L, 2, "=(load)");
    bool has_env = !lua_isnone(L, 4);
    int status = luaL_loadbufferx(L, chunk, length, name, "t");
    if (status != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    }
    return 1;
}

/// setmetatable() without __gc: finalizers would run at arbitrary points, outside any budget.
int safe_setmetatable(lua_State* L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not allowed in the sandbox");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/// table.move() charged to the CPU budget: its loop is C, where the count hook does not fire.
int bounded_table_move(lua_State* L) {
    lua_Integer first = luaL_checkinteger(L, 2);
    lua_Integer last = luaL_checkinteger(L, 3);
    if (last >= first) {
        double count = static_cast<double>(last) - static_cast<double>(first) + 1;
        Sandbox::charge(L, count > 1e15 ? static_cast<long long>(1e15) : static_cast<long long>(count));
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/// print() goes to the script's logger, never to the process's standard output, within the
/// tenant's log rate (a line over it is dropped before it is even built).
int print_to_log(lua_State* L) {
    Sandbox& sandbox = Sandbox::of(L);
    bool admitted = false;
    try {
        admitted = sandbox.quota().admit_log_line();
    } catch (...) {
    }
    if (!admitted) return 0;
    int n = lua_gettop(L);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    for (int i = 1; i <= n; ++i) {
        if (i > 1) luaL_addchar(&buffer, '\t');
        luaL_tolstring(L, i, nullptr);
        luaL_addvalue(&buffer);
    }
    luaL_pushresult(&buffer);
    std::size_t length = 0;
    const char* text = lua_tolstring(L, -1, &length);
    try {
        sandbox.logger().info(sandbox.display_path() + ": " +
                              sdk::text::repair_utf8(sandbox.quota().cut_log_line({text, length})));
    } catch (...) {
        // A failing logger must not take the script down.
    }
    return 0;
}

void remove_field(lua_State* L, int table, const char* name) {
    lua_pushnil(L);
    lua_setfield(L, table, name);
}

}  // namespace

Sandbox::Sandbox(const Limits& limits, sdk::Logger& logger, std::string display_path, TenantQuota& quota)
    : limits_(limits), logger_(logger), display_path_(std::move(display_path)), quota_(quota) {
    L_ = lua_newstate(&Sandbox::allocate, this);
    if (L_ == nullptr) throw std::bad_alloc();
    *static_cast<Sandbox**>(lua_getextraspace(L_)) = this;
    open_libraries();
    reset_budget();
    lua_settop(L_, 0);
    uncapped_ = false;
}

Sandbox::~Sandbox() {
    if (L_ == nullptr) return;
    // Nothing of the script may run any more, whatever lua_close triggers.
    stop_ = Stop::cpu_budget;
    std::snprintf(stop_message_, sizeof stop_message_, "%s: the script is being closed",
                  display_path_.c_str());
    uncapped_ = true;
    lua_sethook(L_, &Sandbox::count_hook, LUA_MASKCOUNT, 1);
    lua_close(L_);
}

Sandbox& Sandbox::of(lua_State* L) { return **static_cast<Sandbox**>(lua_getextraspace(L)); }

void Sandbox::open_libraries() {
    lua_State* L = L_;
    struct Library {
        const char* name;
        lua_CFunction open;
    };
    // Coroutines are safe: new threads inherit the count hook, and errors propagate to resume.
    static const Library kLibraries[] = {
        {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string}, {LUA_TABLIBNAME, luaopen_table},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine},
    };
    for (const auto& library : kLibraries) {
        luaL_requiref(L, library.name, library.open, 1);
        lua_pop(L, 1);
    }

    lua_pushglobaltable(L);
    int globals = lua_gettop(L);
    for (const char* name : {"dofile", "loadfile", "collectgarbage", "require", "warn"})
        remove_field(L, globals, name);
    lua_pushcfunction(L, safe_load);
    lua_setfield(L, globals, "load");
    lua_pushcfunction(L, print_to_log);
    lua_setfield(L, globals, "print");
    lua_getfield(L, globals, "setmetatable");
    lua_pushcclosure(L, safe_setmetatable, 1);
    lua_setfield(L, globals, "setmetatable");

    // os: time, date and clock only, from a table the script never sees whole.
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_createtable(L, 0, 3);
    for (const char* name : {"time", "date", "clock"}) {
        lua_getfield(L, -2, name);
        lua_setfield(L, -2, name);
    }
    lua_setfield(L, globals, "os");
    lua_pop(L, 1);

    lua_getfield(L, globals, "string");
    remove_field(L, lua_gettop(L), "dump");
    install_bounded_string_functions(L);
    lua_pop(L, 1);

    lua_getfield(L, globals, "table");
    lua_getfield(L, -1, "move");
    lua_pushcclosure(L, bounded_table_move, 1);
    lua_setfield(L, -2, "move");
    lua_pop(L, 1);

    install_charged_builtins(L);

    // The globals refuse unknown names; the metatable itself is locked.
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, unknown_global_read);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, unknown_global_write);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, globals);
    lua_pop(L, 1);
}

void* Sandbox::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
    auto* self = static_cast<Sandbox*>(ud);
    std::size_t old_size = ptr != nullptr ? osize : 0;
    if (nsize == 0) {
        std::free(ptr);
        self->in_use_ -= old_size;
        return nullptr;
    }
    bool grows = nsize > old_size;
    if (grows && !self->uncapped_) {
        // A refusal makes Lua raise a memory error where the script is; call() reports why.
        if (self->in_call_ && !self->charge_allocation(nsize - old_size)) return nullptr;
        if (self->in_use_ - old_size + nsize > self->limits_.memory_bytes) {
            self->note_memory_refusal(ptr, osize, nsize);
            return nullptr;
        }
    }
    void* block = std::realloc(ptr, nsize);
    if (block == nullptr) return nullptr;
    self->in_use_ = self->in_use_ - old_size + nsize;
    if (grows) self->refused_once_ = false;
    return block;
}

bool Sandbox::charge_allocation(std::size_t bytes) {
    // Allocation is where `..`, string.rep, string.format, table.concat and the like spend their
    // time: the VM instruction or call that asks for the bytes counts as one step only.
    constexpr std::size_t kLargeAllocation = 64 * 1024;
    if (stop_ != Stop::none) return false;  // a stopped call gets nothing more
    allocated_ += bytes;
    if (spent() > limits_.instructions_per_call) {
        stop(L_, Stop::cpu_budget);
        return false;
    }
    if (bytes >= kLargeAllocation && Clock::now() >= deadline_) {
        stop(L_, Stop::wall_clock);
        return false;
    }
    return true;
}

void Sandbox::note_memory_refusal(void* ptr, std::size_t osize, std::size_t nsize) {
    // Lua answers a refusal with an emergency collection and asks again: only a second refusal
    // of the same request is an out-of-memory error.
    bool retry = refused_once_ && refused_ptr_ == ptr && refused_osize_ == osize && refused_nsize_ == nsize;
    refused_once_ = true;
    refused_ptr_ = ptr;
    refused_osize_ = osize;
    refused_nsize_ = nsize;
    if (!retry || stop_ != Stop::none || !in_call_) return;
    stop(L_, Stop::memory);
}

void Sandbox::reset_budget() {
    used_ = 0;
    allocated_ = 0;
    stop_ = Stop::none;
    stop_message_[0] = '\0';
    refused_once_ = false;
    hook_every_ = static_cast<int>(std::clamp<long long>(limits_.instructions_per_call, 1, 1000));
    next_clock_check_ = hook_every_;
    deadline_ = Clock::now() + limits_.wall_per_call;
    lua_sethook(L_, &Sandbox::count_hook, LUA_MASKCOUNT, hook_every_);
}

void Sandbox::make_sticky(lua_State* running) {
    // From now on the hook fires on every instruction, in the running thread and the main one,
    // so a pcall or coroutine that caught the error cannot go on. (A coroutine other than the
    // running one stops at its own next hook, at most `hook_every_` instructions later.)
    lua_sethook(running, &Sandbox::count_hook, LUA_MASKCOUNT, 1);
    if (running != L_) lua_sethook(L_, &Sandbox::count_hook, LUA_MASKCOUNT, 1);
}

void Sandbox::stop(lua_State* L, Stop why) {
    // Called from the hook, from C functions and from the allocator: no Lua allocation, no throw.
    stop_ = why;
    char where[256];
    where_into(L, where, sizeof where);
    const char* at = where[0] ? where : display_path_.c_str();
    switch (why) {
        case Stop::cpu_budget:
            std::snprintf(stop_message_, sizeof stop_message_,
                          "%s: CPU budget exhausted (more than %lld instructions, or as much work in "
                          "built-in functions, in one call)",
                          at, limits_.instructions_per_call);
            break;
        case Stop::wall_clock:
            std::snprintf(stop_message_, sizeof stop_message_,
                          "%s: wall-clock limit exceeded (more than %lld ms in one call)", at,
                          static_cast<long long>(limits_.wall_per_call.count()));
            break;
        case Stop::memory:
        case Stop::none:
            std::snprintf(stop_message_, sizeof stop_message_, "%s: memory limit of %zu bytes exceeded", at,
                          limits_.memory_bytes);
            break;
    }
    make_sticky(L);
}

bool Sandbox::spend(lua_State* L, long long steps) {
    if (stop_ != Stop::none) return false;
    used_ += steps;
    if (spent() > limits_.instructions_per_call) {
        stop(L, Stop::cpu_budget);
        return false;
    }
    if (spent() >= next_clock_check_) {
        next_clock_check_ = spent() + hook_every_;
        if (Clock::now() >= deadline_) {
            stop(L, Stop::wall_clock);
            return false;
        }
    }
    return true;
}

void Sandbox::raise_stopped(lua_State* L) {
    Sandbox& self = of(L);
    self.make_sticky(L);
    {
        // The message is pushed past the cap: a stopped call's allocations are refused, and a
        // refusal here would cost an emergency collection for every raise.
        bool previous = self.uncapped_;
        self.uncapped_ = true;
        lua_pushstring(L, self.stop_message_);
        self.uncapped_ = previous;
    }
    lua_error(L);
    std::abort();  // lua_error never returns
}

void Sandbox::count_hook(lua_State* L, lua_Debug*) {
    Sandbox& self = of(L);
    if (self.stop_ == Stop::none) {
        // Every ~1000 instructions: one clock read is cheap next to them. An instruction that does
        // much work (comparing or converting a long string) is caught here, by the clock.
        self.used_ += self.hook_every_;
        if (self.spent() > self.limits_.instructions_per_call)
            self.stop(L, Stop::cpu_budget);
        else if (Clock::now() >= self.deadline_)
            self.stop(L, Stop::wall_clock);
        else
            return;
    }
    raise_stopped(L);
}

void Sandbox::charge(lua_State* L, long long steps) {
    if (!of(L).spend(L, steps)) raise_stopped(L);
}

bool Sandbox::try_charge(lua_State* L, long long steps) { return of(L).spend(L, steps); }

void Sandbox::memory_exceeded(lua_State* L) {
    Sandbox& self = of(L);
    if (self.stop_ == Stop::none) self.stop(L, Stop::memory);
    raise_stopped(L);
}

int Sandbox::message_handler(lua_State* L) {
    Sandbox& self = of(L);
    if (self.stop_ != Stop::none) return 1;  // classified by call()
    char where[256];
    where_into(L, where, sizeof where);
    if (lua_type(L, 1) == LUA_TSTRING) {
        const char* message = lua_tostring(L, 1);
        std::size_t prefix = std::strlen(where);
        const char* colon = std::strchr(where, ':');
        std::size_t source_length = colon ? static_cast<std::size_t>(colon - where) : prefix;
        // Keep messages that already carry a position ("file:line: ...").
        if (std::strncmp(message, where, source_length) == 0 || std::strncmp(message, "[string ", 8) == 0 ||
            where[0] == '\0')
            return 1;
        lua_pushfstring(L, "%s: %s", where, message);
        return 1;
    }
    lua_pushfstring(L, "%s: error object is a %s value", where[0] ? where : "?", luaL_typename(L, 1));
    return 1;
}

sdk::Status Sandbox::compile(std::string_view source) {
    std::string chunk_name = "@" + display_path_;
    int status = luaL_loadbufferx(L_, source.data(), source.size(), chunk_name.c_str(), "t");
    if (status == LUA_OK) return {};
    std::string message;
    if (status == LUA_ERRMEM) {
        message = display_path_ + ": memory limit of " + std::to_string(limits_.memory_bytes) +
                  " bytes exceeded while compiling";
    } else {
        const char* text = lua_tostring(L_, -1);
        message = text ? text : display_path_ + ": cannot compile";
    }
    lua_pop(L_, 1);
    return sdk::make_error(status == LUA_ERRMEM ? kLuaMemory : kLuaError, std::move(message));
}

sdk::Status Sandbox::call(int nargs, int nresults) {
    int handler = lua_gettop(L_) - nargs;
    {
        Uncapped uncapped(L_);
        lua_pushcfunction(L_, &Sandbox::message_handler);
        lua_insert(L_, handler);
    }
    reset_budget();
    in_call_ = true;
    int status = lua_pcall(L_, nargs, nresults, handler);
    in_call_ = false;
    Uncapped uncapped(L_);

    if (status == LUA_OK && stop_ == Stop::none) {
        lua_remove(L_, handler);
        return {};
    }
    std::string code = kLuaError;
    std::string message;
    if (stop_ == Stop::cpu_budget || stop_ == Stop::wall_clock) {
        code = kLuaTimeout;
        message = stop_message_;
    } else if (stop_ == Stop::memory || status == LUA_ERRMEM) {
        code = kLuaMemory;
        message = stop_ == Stop::memory ? std::string(stop_message_)
                                        : display_path_ + ": memory limit of " +
                                              std::to_string(limits_.memory_bytes) + " bytes exceeded";
    } else if (lua_type(L_, -1) == LUA_TSTRING) {
        message = sdk::text::repair_utf8(lua_tostring(L_, -1));
    } else {
        message = display_path_ + ": error object is a " + luaL_typename(L_, -1) + " value";
    }
    lua_settop(L_, handler - 1);
    if (code == kLuaMemory) lua_gc(L_, LUA_GCCOLLECT, 0);
    return sdk::make_error(std::move(code), std::move(message));
}

}  // namespace tezgah::engine::lua
