#pragma once
// One sandboxed lua_State: a capped allocator, a CPU budget per call that pcall cannot swallow,
// only the safe libraries, and globals that refuse unknown names. Used by lua_host.cpp; see
// docs/lua.md for what a script may and may not do.

#include "lua/lua_host.hpp"

#include <lua.hpp>

#include <string>
#include <string_view>

namespace tezgah::engine::lua {

/// Error codes a script call can fail with.
inline constexpr const char* kLuaError = "lua_error";
inline constexpr const char* kLuaTimeout = "lua_timeout";
inline constexpr const char* kLuaMemory = "lua_memory";

class Sandbox {
public:
    /// `logger` receives print() output; `display_path` names the script in every error.
    Sandbox(const Limits& limits, sdk::Logger& logger, std::string display_path);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    lua_State* state() const { return L_; }
    const std::string& display_path() const { return display_path_; }
    const Limits& limits() const { return limits_; }
    sdk::Logger& logger() const { return logger_; }

    /// Compiles `source` as a text chunk named after the script; on success pushes the function.
    sdk::Status compile(std::string_view source);

    /// Calls the function below `nargs` arguments on the stack, with a fresh CPU budget. On success
    /// leaves `nresults` values; on failure leaves nothing and returns a lua_error / lua_timeout /
    /// lua_memory error whose message names the file and line. The state stays usable.
    sdk::Status call(int nargs, int nresults);

    /// Charges `steps` of work done inside a C function (pattern matching) to the CPU budget;
    /// raises the budget error when it is spent. Only from a C function called by the script.
    static void charge(lua_State* L, long long steps);

    /// Refuses an allocation a C function knows would pass the memory cap (string.rep): counts as
    /// running out of memory, sticky like the budget. Raises; never returns.
    static void memory_exceeded(lua_State* L);

    static Sandbox& of(lua_State* L);

    /// While alive, allocations are not capped: the host builds bounded values (arguments, catalog
    /// results) for the script without risking an allocation error in the middle of C++ code.
    class Uncapped {
    public:
        explicit Uncapped(lua_State* L) : sandbox_(of(L)), previous_(sandbox_.uncapped_) {
            sandbox_.uncapped_ = true;
        }
        ~Uncapped() { sandbox_.uncapped_ = previous_; }
        Uncapped(const Uncapped&) = delete;
        Uncapped& operator=(const Uncapped&) = delete;

    private:
        Sandbox& sandbox_;
        bool previous_;
    };

private:
    static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize);
    static void count_hook(lua_State* L, lua_Debug* ar);
    static int message_handler(lua_State* L);

    void open_libraries();
    void reset_budget();
    void make_sticky(lua_State* running);
    void note_timeout(lua_State* L, lua_Debug* ar);
    void note_memory_refusal(void* ptr, std::size_t osize, std::size_t nsize);
    const char* sticky_message();
    std::string location_of_main_thread() const;

    Limits limits_;
    sdk::Logger& logger_;
    std::string display_path_;
    lua_State* L_ = nullptr;

    // Memory accounting (the allocator's user data is this object).
    std::size_t in_use_ = 0;
    bool uncapped_ = true;
    const void* refused_ptr_ = nullptr;
    std::size_t refused_osize_ = 0;
    std::size_t refused_nsize_ = 0;
    bool refused_once_ = false;

    // Per-call state.
    bool in_call_ = false;
    int hook_every_ = 1000;
    long long used_ = 0;
    bool timed_out_ = false;
    bool out_of_memory_ = false;
    std::string timeout_message_;
    char memory_where_[256] = {};
    std::string sticky_message_;
};

/// Replaces string.find/match/gmatch/gsub with bounded versions (subject and pattern size limits,
/// every matching step charged to the CPU budget) and string.rep with one bounded by the memory
/// cap. Expects the `string` table at the top of the stack.
void install_bounded_string_functions(lua_State* L);

}  // namespace tezgah::engine::lua
