#pragma once
// One sandboxed lua_State: a capped allocator, a CPU budget per call that pcall cannot swallow and
// that built-in functions are charged to, a wall clock per call, only the safe libraries, and
// globals that refuse unknown names. Used by lua_host.cpp; see
// docs/lua.md for what a script may and may not do.

#include "lua/lua_host.hpp"

#include <lua.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace tezgah::engine::lua {

/// Error codes a script call can fail with.
inline constexpr const char* kLuaError = "lua_error";
inline constexpr const char* kLuaTimeout = "lua_timeout";  ///< the CPU budget or the wall clock is spent
inline constexpr const char* kLuaMemory = "lua_memory";
inline constexpr const char* kLuaBusy = "lua_busy";  ///< not run: the tenant's calls at their cap

/// Why a call was stopped before it finished.
enum class Stop { none, cpu_budget, wall_clock, memory };

/// Steps of the CPU budget (one VM instruction each) that work inside C functions costs: a byte read
/// by a function that looks at every byte (string.upper, utf8.len, ...) is a step, about as long as
/// a VM instruction takes; a byte allocated (and written, mostly by a copy) a sixteenth of one.
inline constexpr long long kBytesAllocatedPerStep = 16;

class Sandbox {
public:
    /// `logger` receives print() output, within `quota`'s log rate; `display_path` names the script
    /// in every error. `quota` outlives the sandbox.
    Sandbox(const Limits& limits, sdk::Logger& logger, std::string display_path, TenantQuota& quota);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    lua_State* state() const { return L_; }
    const std::string& display_path() const { return display_path_; }
    const Limits& limits() const { return limits_; }
    sdk::Logger& logger() const { return logger_; }
    TenantQuota& quota() const { return quota_; }

    /// Compiles `source` as a text chunk named after the script; on success pushes the function.
    sdk::Status compile(std::string_view source);

    /// Calls the function below `nargs` arguments on the stack, with a fresh CPU budget and wall
    /// clock. On success leaves `nresults` values; on failure leaves nothing and returns a lua_error /
    /// lua_timeout / lua_memory error whose message names the file and line. The state stays usable.
    sdk::Status call(int nargs, int nresults);

    /// Why the last call was stopped (Stop::none when it finished or failed on its own).
    Stop stopped() const { return stop_; }

    /// Charges `steps` of work done inside a C function to the CPU budget, and looks at the wall
    /// clock now and then; raises the budget error when either is spent. Only from a C function
    /// called by the script, with no C++ object that has a destructor alive in its frame.
    static void charge(lua_State* L, long long steps);

    /// charge() without raising, for C functions that hold C++ objects: false when the budget or the
    /// wall clock is spent. The call is then stopped: the function returns, destroys what it holds,
    /// and raises with raise_stopped() (or the script is interrupted at its next instruction).
    static bool try_charge(lua_State* L, long long steps);

    /// Raises the error of a stopped call. Never returns.
    [[noreturn]] static void raise_stopped(lua_State* L);

    /// Refuses an allocation a C function knows would pass the memory cap (string.rep): counts as
    /// running out of memory, sticky like the budget. Raises; never returns.
    [[noreturn]] static void memory_exceeded(lua_State* L);

    static Sandbox& of(lua_State* L);

    /// While alive, allocations are neither capped nor charged: the host builds bounded values
    /// (arguments, catalog results) for the script without risking an allocation error in the middle
    /// of C++ code.
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
    using Clock = std::chrono::steady_clock;

    static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize);
    static void count_hook(lua_State* L, lua_Debug* ar);
    static int message_handler(lua_State* L);

    void open_libraries();
    void reset_budget();
    long long spent() const { return used_ + static_cast<long long>(allocated_ / kBytesAllocatedPerStep); }
    bool spend(lua_State* L, long long steps);
    bool charge_allocation(std::size_t bytes);
    void stop(lua_State* L, Stop why);
    void make_sticky(lua_State* running);
    void note_memory_refusal(void* ptr, std::size_t osize, std::size_t nsize);

    Limits limits_;
    sdk::Logger& logger_;
    std::string display_path_;
    TenantQuota& quota_;
    lua_State* L_ = nullptr;

    // Memory accounting (the allocator's user data is this object).
    std::size_t in_use_ = 0;
    bool uncapped_ = true;
    const void* refused_ptr_ = nullptr;
    std::size_t refused_osize_ = 0;
    std::size_t refused_nsize_ = 0;
    bool refused_once_ = false;

    // Per-call state. Written from the hook and the allocator, where nothing may throw or allocate
    // through Lua: plain values and fixed buffers only.
    bool in_call_ = false;
    int hook_every_ = 1000;
    long long used_ = 0;              ///< instructions and charges of C functions
    std::size_t allocated_ = 0;       ///< bytes allocated by the call
    long long next_clock_check_ = 0;  ///< spent() at which charge() next looks at the clock
    Clock::time_point deadline_;
    Stop stop_ = Stop::none;
    char stop_message_[512] = {};
};

/// Replaces string.find/match/gmatch/gsub with bounded versions (subject and pattern size limits,
/// every matching step charged to the CPU budget) and string.rep with one bounded by the memory
/// cap. Expects the `string` table at the top of the stack.
void install_bounded_string_functions(lua_State* L);

/// Wraps the built-in functions of string, table, utf8, os.date and tonumber whose work grows with
/// their input (bytes read, elements moved or compared) so that each call first charges that work to
/// the CPU budget (charged.cpp). Expects the globals table at the top of the stack.
void install_charged_builtins(lua_State* L);

}  // namespace tezgah::engine::lua
