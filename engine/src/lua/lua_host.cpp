// Rules and tools written in Lua: the `tezgah.rule{}` / `tezgah.tool{}` declarations, the `ctx` and
// `msg` objects handed to hooks, and the sdk::Rule / sdk::Tool adapters. The sandbox itself is in
// sandbox.cpp. C functions called by scripts raise Lua errors (longjmp): they raise only where no
// C++ object with a destructor is alive.
#include "lua/lua_host.hpp"

#include "lua/convert.hpp"
#include "lua/sandbox.hpp"
#include "ops/metrics.hpp"
#include "util/common.hpp"
#include "util/host.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

namespace tezgah::engine::lua {

namespace {

constexpr const char* kReplyMarker = "tezgah.reply";
constexpr const char* kDeclarations = "tezgah.declarations";
constexpr std::size_t kMaxHandoffReason = 1024;
constexpr lua_Integer kDefaultFindLimit = 5;
constexpr lua_Integer kMaxFindLimit = 20;
constexpr std::size_t kMaxFindQuery = 1024;       // ctx.catalog.find: longer queries are cut
constexpr long long kFindSteps = 10'000;          // a search goes through every offering
constexpr long long kFindStepsPerByte = 256;      // each query word is matched against each of them
constexpr std::size_t kMaxFoldBytes = 64 * 1024;  // tezgah.fold / tezgah.mentions input and words
constexpr long long kComparisonsPerStep = 128;    // std::string::find, at worst every place × word

enum class Hook { on_message, on_reply, run };

const char* hook_name(Hook hook) {
    switch (hook) {
        case Hook::on_message:
            return "on_message";
        case Hook::on_reply:
            return "on_reply";
        case Hook::run:
            return "run";
    }
    return "?";
}

/// What the C functions of `ctx` reach during one hook call. Lives on the C++ stack of the call;
/// the script reaches it through a token userdata that is cleared when the call returns.
struct CallState {
    sdk::HostServices* host;
    sdk::TurnContext* turn;
    Hook hook;
    std::string language;
    bool handoff = false;
    std::string handoff_reason;
    std::size_t replaced = 0;  ///< bytes of invalid UTF-8 in what the script handed over
};

CallState* live_call(lua_State* L, const char* function) {
    auto* slot = static_cast<CallState**>(lua_touserdata(L, lua_upvalueindex(1)));
    if (slot == nullptr || *slot == nullptr)
        luaL_error(
            L,
            "ctx.%s: this ctx is dead: host objects are valid only during the hook call that received them",
            function);
    return *slot;
}

// ---- ctx functions ---------------------------------------------------------------------------

int ctx_now(lua_State* L) {
    CallState* call = live_call(L, "now");
    auto now = call->host->clock().now();
    lua_pushinteger(L, std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    return 1;
}

/// The instant a time function was asked about: its optional epoch-seconds argument, or now.
std::chrono::system_clock::time_point instant_argument(lua_State* L, const CallState& call) {
    if (lua_isnoneornil(L, 1)) return call.host->clock().now();
    lua_Integer epoch = luaL_checkinteger(L, 1);
    return std::chrono::system_clock::time_point{std::chrono::seconds{epoch}};
}

lua_Integer epoch_of(std::chrono::system_clock::time_point when) {
    return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

int ctx_is_closed(lua_State* L) {
    CallState* call = live_call(L, "is_closed");
    auto when = instant_argument(L, *call);
    int closed = -1;
    try {
        closed = call->host->is_open_at(when) ? 0 : 1;
    } catch (...) {
    }
    if (closed < 0) return luaL_error(L, "ctx.is_closed: the host could not tell the opening hours");
    lua_pushboolean(L, closed);
    return 1;
}

// ---- the tenant's calendar -------------------------------------------------------------------
// Computed from the manifest's business.hours and locale.timezone (host.tenant()), so a script
// never keeps its own copy of the hours or a UTC offset.

constexpr const char* kDayNamesTr[] = {"Pazar",    "Pazartesi", "Salı",     "Çarşamba",
                                       "Perşembe", "Cuma",      "Cumartesi"};
constexpr const char* kDayNamesEn[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};

void set_integer(lua_State* L, const char* field, lua_Integer value) {
    lua_pushinteger(L, value);
    lua_setfield(L, -2, field);
}

/// The weekday's key ("mon") and its names in Turkish and English.
void set_weekday(lua_State* L, int weekday) {
    lua_pushstring(L, weekday_key(weekday));
    lua_setfield(L, -2, "wday");
    lua_pushstring(L, kDayNamesTr[weekday]);
    lua_setfield(L, -2, "day_name_tr");
    lua_pushstring(L, kDayNamesEn[weekday]);
    lua_setfield(L, -2, "day_name_en");
}

/// Pushes {year, month, day, hour, min, sec, yday, wday, day_name_tr, day_name_en, date, time}.
void push_local_time(lua_State* L, const LocalTime& local) {
    char date[16];
    char time[8];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", local.year, local.month, local.day);
    std::snprintf(time, sizeof time, "%02d:%02d", local.hour, local.minute);
    lua_createtable(L, 0, 12);
    set_integer(L, "year", local.year);
    set_integer(L, "month", local.month);
    set_integer(L, "day", local.day);
    set_integer(L, "hour", local.hour);
    set_integer(L, "min", local.minute);
    set_integer(L, "sec", local.second);
    set_integer(L, "yday", local.yday);
    set_weekday(L, local.weekday);
    lua_pushstring(L, date);
    lua_setfield(L, -2, "date");
    lua_pushstring(L, time);
    lua_setfield(L, -2, "time");
}

int ctx_local_time(lua_State* L) {
    CallState* call = live_call(L, "local_time");
    auto when = instant_argument(L, *call);
    std::optional<LocalTime> local;  // trivially destructible: safe to raise past
    try {
        local = local_time_at(call->host->tenant().timezone, when);
    } catch (...) {
    }
    if (!local) return luaL_error(L, "ctx.local_time: the host could not tell the local time");
    push_local_time(L, *local);
    return 1;
}

int ctx_next_opening(lua_State* L) {
    CallState* call = live_call(L, "next_opening");
    auto when = instant_argument(L, *call);
    std::optional<Opening> opening;  // trivially destructible: safe to raise past
    bool failed = false;
    try {
        const sdk::TenantProfile& tenant = call->host->tenant();
        opening = next_opening(tenant.hours, tenant.timezone, when);
    } catch (...) {
        failed = true;
    }
    if (failed) return luaL_error(L, "ctx.next_opening: the host could not tell the opening hours");
    if (!opening) {
        lua_pushnil(L);
        return 1;
    }
    push_local_time(L, opening->local);
    set_integer(L, "epoch", epoch_of(opening->at));
    set_integer(L, "in_minutes", std::chrono::ceil<std::chrono::minutes>(opening->at - when).count());
    set_integer(L, "days_ahead", opening->days_ahead);
    lua_pushboolean(L, opening->days_ahead == 0);
    lua_setfield(L, -2, "today");
    lua_pushboolean(L, opening->days_ahead == 1);
    lua_setfield(L, -2, "tomorrow");
    return 1;
}

/// Pushes ctx.hours: {mon = "10:00-20:00", ..., sun = "closed"}, every day present.
void push_hours(lua_State* L, const std::map<std::string, std::string>& hours) {
    lua_createtable(L, 0, 7);
    for (int weekday = 0; weekday < 7; ++weekday) {
        auto it = hours.find(weekday_key(weekday));
        bool closed = it == hours.end() || it->second.empty();
        lua_pushstring(L, closed ? "closed" : it->second.c_str());
        lua_setfield(L, -2, weekday_key(weekday));
    }
}

int ctx_log(lua_State* L) {
    CallState* call = live_call(L, "log");
    Sandbox& sandbox = Sandbox::of(L);
    bool admitted = false;
    try {
        admitted = sandbox.quota().admit_log_line();
    } catch (...) {
    }
    if (!admitted) return 0;  // over the tenant's rate: dropped (and counted) before any work
    std::size_t length = 0;
    const char* text = luaL_tolstring(L, 1, &length);
    try {
        call->host->logger().info(sandbox.display_path() + ": " +
                                  text_from_script(sandbox.quota().cut_log_line({text, length})));
    } catch (...) {
    }
    return 0;
}

int ctx_reply(lua_State* L) {
    CallState* call = live_call(L, "reply");
    if (call->hook != Hook::on_message)
        return luaL_error(
            L, "ctx.reply: only in on_message (on_reply returns the new text; a tool returns its answer)");
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    lua_newuserdatauv(L, 0, 1);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, kReplyMarker);
    return 1;
}

int ctx_handoff(lua_State* L) {
    CallState* call = live_call(L, "handoff");
    if (call->hook != Hook::on_message) return luaL_error(L, "ctx.handoff: only in on_message");
    std::size_t length = 0;
    const char* reason = luaL_optlstring(L, 1, "", &length);
    call->handoff = true;
    try {
        call->handoff_reason =
            text_from_script({reason, std::min(length, kMaxHandoffReason)}, &call->replaced);
    } catch (...) {
        call->handoff_reason.clear();
    }
    return 0;
}

/// Pushes table[name] without metamethods: the host reads script tables outside protected calls.
void raw_field(lua_State* L, int index, const char* name) {
    index = lua_absindex(L, index);
    lua_pushstring(L, name);
    lua_rawget(L, index);
}

void set_string(lua_State* L, const char* field, std::string_view value) {
    lua_pushlstring(L, value.data(), value.size());
    lua_setfield(L, -2, field);
}

/// Pushes one catalog match as {id, name, price, currency, stock, available, category}.
void push_offering(lua_State* L, const sdk::Offering& offering, std::string_view language) {
    lua_createtable(L, 0, 7);
    set_string(L, "id", offering.id);
    set_string(L, "name", offering.name_in(language));
    lua_pushnumber(L, offering.price);
    lua_setfield(L, -2, "price");
    set_string(L, "currency", offering.currency);
    if (offering.stock) {
        lua_pushinteger(L, *offering.stock);
        lua_setfield(L, -2, "stock");
    }
    lua_pushboolean(L, offering.available);
    lua_setfield(L, -2, "available");
    set_string(L, "category", offering.category);
}

int catalog_find(lua_State* L) {
    CallState* call = live_call(L, "catalog.find");
    std::size_t length = 0;
    const char* query = luaL_checklstring(L, 1, &length);
    lua_Integer limit = std::clamp<lua_Integer>(luaL_optinteger(L, 2, kDefaultFindLimit), 1, kMaxFindLimit);
    if (length > kMaxFindQuery) {  // the first words of a long message, cut between letters
        length = kMaxFindQuery;
        while (length > 0 && (static_cast<unsigned char>(query[length]) & 0xC0) == 0x80) --length;
    }
    Sandbox::charge(L, kFindSteps + static_cast<long long>(length) * kFindStepsPerByte);
    bool failed = false;
    {
        std::vector<sdk::OfferingMatch> matches;
        try {
            matches = call->host->catalog().find(std::string_view(query, length), call->language,
                                                 static_cast<std::size_t>(limit));
        } catch (...) {
            failed = true;
        }
        if (!failed) {
            // Uncapped: nothing below may raise while `matches` is alive.
            Sandbox::Uncapped uncapped(L);
            lua_createtable(L, static_cast<int>(matches.size()), 0);
            lua_Integer i = 1;
            for (const auto& match : matches) {
                push_offering(L, match.offering, call->language);
                lua_rawseti(L, -2, i++);
            }
        }
    }
    if (failed) return luaL_error(L, "ctx.catalog.find: the catalog failed");
    return 1;
}

// ---- declarations ----------------------------------------------------------------------------

bool in_list(const char* name, const char* const* list) {
    for (; *list; ++list)
        if (std::strcmp(name, *list) == 0) return true;
    return false;
}

/// Raises unless field `name` of the table at 1 is absent or of `type`; returns its type.
int check_field(lua_State* L, const char* what, const char* name, int type, bool required) {
    raw_field(L, 1, name);
    int actual = lua_type(L, -1);
    lua_pop(L, 1);
    if (actual == LUA_TNIL) {
        if (required) luaL_error(L, "%s: %s: required", what, name);
        return actual;
    }
    if (actual != type)
        luaL_error(L, "%s: %s: expected a %s, got a %s", what, name, lua_typename(L, type),
                   lua_typename(L, actual));
    return actual;
}

bool valid_tool_name(const char* name) {
    std::size_t length = std::strlen(name);
    if (length == 0 || length > 64) return false;
    for (const char* p = name; *p; ++p)
        if (!(std::isalnum(static_cast<unsigned char>(*p)) || *p == '_' || *p == '-')) return false;
    return true;
}

/// Checks the schema of a tool's parameters (at the top of the stack); writes a problem into
/// `problem`, or leaves it empty. Holds C++ objects: never raises.
void check_parameters(lua_State* L, char* problem, std::size_t size) {
    json::value schema;
    std::string error = to_json(L, -1, schema, "parameters", true);
    if (error.empty()) {
        const json::object* object = schema.if_object();
        const json::value* type = object ? object->if_contains("type") : nullptr;
        if (object == nullptr) {
            error = "parameters: expected a table";
        } else if (type == nullptr || !type->is_string() || type->get_string() != "object") {
            error = "parameters.type: must be \"object\"";
        } else if (const json::value* properties = object->if_contains("properties");
                   properties && !properties->is_object()) {
            error = "parameters.properties: expected a table of name = schema";
        } else if (const json::value* required = object->if_contains("required")) {
            if (!required->is_array()) {
                error = "parameters.required: expected a list of property names";
            } else {
                const json::value* properties = object->if_contains("properties");
                std::size_t i = 0;
                for (const auto& item : required->get_array()) {
                    ++i;
                    if (!item.is_string()) {
                        error = "parameters.required[" + std::to_string(i) + "]: expected a string";
                        break;
                    }
                    if (!properties || !properties->get_object().contains(item.get_string())) {
                        error = "parameters.required[" + std::to_string(i) + "]: '" +
                                std::string(item.get_string()) + "' is not in parameters.properties";
                        break;
                    }
                }
            }
        }
    }
    std::snprintf(problem, size, "%s", error.c_str());
}

/// Raises unless a tool's `examples` (a table, at 1) is a list of 1..kMaxExamples non-empty strings:
/// phrases a customer would write to call the tool, which an offline assistant matches.
constexpr lua_Integer kMaxExamples = 20;
void check_examples(lua_State* L, const char* what) {
    raw_field(L, 1, "examples");
    const auto count = static_cast<lua_Integer>(lua_rawlen(L, -1));
    if (count < 1 || count > kMaxExamples)
        luaL_error(L, "%s: examples: expected a list of 1 to %d phrases, got %d", what,
                   static_cast<int>(kMaxExamples), static_cast<int>(count));
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > count)
            luaL_error(L, "%s: examples: expected a list of phrases, not a table with named keys", what);
    }
    for (lua_Integer i = 1; i <= count; ++i) {
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: examples[%d]: expected a string, got a %s", what, static_cast<int>(i),
                       luaL_typename(L, -1));
        if (lua_rawlen(L, -1) == 0)
            luaL_error(L, "%s: examples[%d]: must not be empty", what, static_cast<int>(i));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

int declare(lua_State* L, ScriptKind kind) {
    static const char* const kRuleFields[] = {"name", "description", "on_message", "on_reply", nullptr};
    static const char* const kToolFields[] = {"name",      "description", "parameters", "run",
                                              "read_only", "cacheable",   "examples",   nullptr};
    const char* what = kind == ScriptKind::rule ? "tezgah.rule" : "tezgah.tool";
    const char* const* fields = kind == ScriptKind::rule ? kRuleFields : kToolFields;
    const char* expected = kind == ScriptKind::rule
                               ? "name, description, on_message, on_reply"
                               : "name, description, parameters, run, read_only, cacheable, examples";
    if (lua_type(L, 1) != LUA_TTABLE)
        return luaL_error(L, "%s: expected a table {name = ..., ...}, got a %s", what, luaL_typename(L, 1));
    lua_settop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "%s: unexpected %s key (fields are %s)", what, luaL_typename(L, -1),
                              expected);
        if (!in_list(lua_tostring(L, -1), fields))
            return luaL_error(L, "%s: unknown field '%s' (fields are %s)", what, lua_tostring(L, -1),
                              expected);
    }
    check_field(L, what, "name", LUA_TSTRING, true);
    raw_field(L, 1, "name");
    const char* name = lua_tostring(L, -1);
    if (*name == '\0') return luaL_error(L, "%s: name: must not be empty", what);
    if (kind == ScriptKind::tool && !valid_tool_name(name))
        return luaL_error(L, "%s: name: '%s' must be 1-64 letters, digits, '_' or '-'", what, name);
    lua_pop(L, 1);
    check_field(L, what, "description", LUA_TSTRING, kind == ScriptKind::tool);
    if (kind == ScriptKind::rule) {
        int on_message = check_field(L, what, "on_message", LUA_TFUNCTION, false);
        int on_reply = check_field(L, what, "on_reply", LUA_TFUNCTION, false);
        if (on_message == LUA_TNIL && on_reply == LUA_TNIL)
            return luaL_error(L, "%s: needs on_message, on_reply or both", what);
    } else {
        check_field(L, what, "run", LUA_TFUNCTION, true);
        check_field(L, what, "read_only", LUA_TBOOLEAN, false);
        check_field(L, what, "cacheable", LUA_TBOOLEAN, false);
        if (check_field(L, what, "examples", LUA_TTABLE, false) == LUA_TTABLE) check_examples(L, what);
        if (check_field(L, what, "parameters", LUA_TTABLE, false) == LUA_TTABLE) {
            char problem[512] = {};
            raw_field(L, 1, "parameters");
            check_parameters(L, problem, sizeof problem);
            lua_pop(L, 1);
            if (problem[0] != '\0') return luaL_error(L, "%s: %s", what, problem);
        }
    }
    lua_getfield(L, LUA_REGISTRYINDEX, kDeclarations);
    lua_pushvalue(L, 1);
    lua_pushstring(L, kind == ScriptKind::rule ? "rule" : "tool");
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 1;
}

/// tezgah.fold(text): the engine's Turkish folding (sdk::text::fold): lower case, ASCII letters
/// (ı→i, ş→s, ...), punctuation as spaces. Scripts compare customer words with it.
int text_fold(lua_State* L) {
    std::size_t length = 0;
    const char* text = luaL_checklstring(L, 1, &length);
    luaL_argcheck(L, length <= kMaxFoldBytes, 1, "text longer than 65536 bytes");
    Sandbox::charge(L, 1 + static_cast<long long>(length));
    {
        std::string folded = sdk::text::fold(std::string_view(text, length));
        Sandbox::Uncapped uncapped(L);  // nothing below may raise while `folded` is alive
        lua_pushlstring(L, folded.data(), folded.size());
    }
    return 1;
}

/// tezgah.mentions(text, words): true when the folded text contains any of the folded words. Each
/// word is charged before it is folded and looked for (a search may compare every byte of the text
/// with every byte of the word).
int text_mentions(lua_State* L) {
    std::size_t length = 0;
    const char* text = luaL_checklstring(L, 1, &length);
    luaL_argcheck(L, length <= kMaxFoldBytes, 1, "text longer than 65536 bytes");
    luaL_checktype(L, 2, LUA_TTABLE);
    Sandbox::charge(L, 1 + static_cast<long long>(length));
    const auto count = static_cast<lua_Integer>(lua_rawlen(L, 2));
    bool found = false;
    bool stopped = false;
    lua_Integer bad_word = 0;
    lua_Integer long_word = 0;
    {
        const std::string folded = sdk::text::fold(std::string_view(text, length));
        Sandbox::Uncapped uncapped(L);
        for (lua_Integer i = 1; i <= count && !found && !bad_word && !long_word && !stopped; ++i) {
            if (lua_rawgeti(L, 2, i) != LUA_TSTRING) {
                bad_word = i;
            } else {
                std::size_t word_length = 0;
                const char* word = lua_tolstring(L, -1, &word_length);
                if (word_length > kMaxFoldBytes) {
                    long_word = i;
                } else if (!Sandbox::try_charge(L, 1 + static_cast<long long>(word_length))) {
                    stopped = true;
                } else {
                    const std::string needle = sdk::text::fold(std::string_view(word, word_length));
                    // Each place the word may start, compared up to the word's length.
                    const std::size_t places =
                        needle.size() <= folded.size() ? folded.size() - needle.size() + 1 : 0;
                    const auto search = static_cast<long long>(places * needle.size()) / kComparisonsPerStep;
                    if (!Sandbox::try_charge(L, search))
                        stopped = true;
                    else
                        found = !needle.empty() && folded.find(needle) != std::string::npos;
                }
            }
            lua_pop(L, 1);
        }
    }
    if (stopped) Sandbox::raise_stopped(L);
    if (bad_word)
        return luaL_error(L, "tezgah.mentions: words[%d] is not a string", static_cast<int>(bad_word));
    if (long_word)
        return luaL_error(L, "tezgah.mentions: words[%d] is longer than 65536 bytes",
                          static_cast<int>(long_word));
    lua_pushboolean(L, found);
    return 1;
}

int declare_rule(lua_State* L) { return declare(L, ScriptKind::rule); }
int declare_tool(lua_State* L) { return declare(L, ScriptKind::tool); }

void install_tezgah_api(lua_State* L) {
    Sandbox::Uncapped uncapped(L);
    // declaration table -> kind; weak keys so a discarded declaration costs nothing.
    lua_createtable(L, 0, 1);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, kDeclarations);
    luaL_newmetatable(L, kReplyMarker);
    lua_pushstring(L, kReplyMarker);
    lua_setfield(L, -2, "__metatable");  // scripts cannot reach it to add a finalizer
    lua_pop(L, 1);

    lua_pushglobaltable(L);
    lua_pushliteral(L, "tezgah");
    lua_createtable(L, 0, 4);
    lua_pushcfunction(L, declare_rule);
    lua_setfield(L, -2, "rule");
    lua_pushcfunction(L, declare_tool);
    lua_setfield(L, -2, "tool");
    lua_pushcfunction(L, text_fold);
    lua_setfield(L, -2, "fold");
    lua_pushcfunction(L, text_mentions);
    lua_setfield(L, -2, "mentions");
    lua_rawset(L, -3);  // raw: the globals refuse new names
    lua_pop(L, 1);
}

// ---- the script --------------------------------------------------------------------------------

/// One loaded script: its sandbox and declaration. Calls are serialised by `mutex_`, and counted
/// against the tenant's quota of calls at once.
class Script {
public:
    Script(sdk::HostServices& host, std::string display_path, const Limits& limits, TenantQuotaPtr quota)
        : host_(host),
          quota_(quota ? std::move(quota) : std::make_shared<TenantQuota>(host.tenant().id)),
          sandbox_(limits, host.logger(), std::move(display_path), *quota_) {
        install_tezgah_api(sandbox_.state());
    }

    ~Script() = default;  // closing the state releases the declaration too

    Script(const Script&) = delete;
    Script& operator=(const Script&) = delete;

    const std::string& display_path() const { return sandbox_.display_path(); }
    ScriptKind kind() const { return kind_; }
    const std::string& name() const { return name_; }
    const sdk::ToolSpec& spec() const { return spec_; }
    const std::vector<std::string>& examples() const { return examples_; }

    /// Runs the chunk, within the same budget and wall clock as a call, and reads its declaration.
    sdk::Status load(std::string_view source) {
        std::lock_guard lock(mutex_);
        lua_State* L = sandbox_.state();
        if (auto status = sandbox_.compile(source); !status) return status;
        if (auto status = sandbox_.call(0, 1); !status) return status;
        Sandbox::Uncapped uncapped(L);
        std::optional<ScriptKind> kind;
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_getfield(L, LUA_REGISTRYINDEX, kDeclarations);
            lua_pushvalue(L, -2);
            lua_rawget(L, -2);
            if (const char* declared = lua_tostring(L, -1))
                kind = std::strcmp(declared, "rule") == 0 ? ScriptKind::rule : ScriptKind::tool;
            lua_pop(L, 2);
        }
        if (!kind) {
            std::string got = luaL_typename(L, -1);
            lua_pop(L, 1);
            return sdk::make_error(kLuaError, display_path() +
                                                  ": the script must return tezgah.rule{...} or "
                                                  "tezgah.tool{...}; it returned a " +
                                                  got);
        }
        kind_ = *kind;
        raw_field(L, -1, "name");
        name_ = text_from_script(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (kind_ == ScriptKind::tool) {
            spec_.name = name_;
            raw_field(L, -1, "description");
            spec_.description = text_from_script(lua_tostring(L, -1));
            lua_pop(L, 1);
            raw_field(L, -1, "parameters");
            json::value parameters;
            std::string error =
                lua_isnil(L, -1) ? std::string() : to_json(L, -1, parameters, "parameters", true);
            lua_pop(L, 1);
            if (!error.empty()) {
                lua_pop(L, 1);
                return sdk::make_error(kLuaError, display_path() + ": " + error);
            }
            if (parameters.is_object())
                spec_.parameters = std::move(parameters.get_object());
            else
                spec_.parameters = json::object{{"type", "object"}, {"properties", json::object()}};
            raw_field(L, -1, "read_only");
            spec_.read_only = lua_toboolean(L, -1) != 0;
            lua_pop(L, 1);
            raw_field(L, -1, "cacheable");
            spec_.cacheable = lua_toboolean(L, -1) != 0;
            lua_pop(L, 1);
            raw_field(L, -1, "examples");  // declare() checked: absent, or a list of strings
            for (lua_Integer i = 1, n = lua_istable(L, -1) ? static_cast<lua_Integer>(lua_rawlen(L, -1)) : 0;
                 i <= n; ++i) {
                lua_rawgeti(L, -1, i);
                examples_.push_back(text_from_script(lua_tostring(L, -1)));
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        declaration_ = luaL_ref(L, LUA_REGISTRYINDEX);
        return {};
    }

    bool has_hook(const char* hook) {
        std::lock_guard lock(mutex_);
        lua_State* L = sandbox_.state();
        lua_rawgeti(L, LUA_REGISTRYINDEX, declaration_);
        raw_field(L, -1, hook);
        bool present = lua_type(L, -1) == LUA_TFUNCTION;
        lua_pop(L, 2);
        return present;
    }

    /// What a hook call produced, read while the state is still locked.
    struct Outcome {
        std::optional<std::string> text;  ///< on_message's reply / on_reply's new text, valid UTF-8
        bool handoff = false;
        std::string handoff_reason;
        json::value result;  ///< run's answer
    };

    /// Calls `hook` with (ctx, argument) where `push_argument` pushes the second argument. A call
    /// waits for a place among the tenant's calls, then for the script, at most a quarter of its wall
    /// clock each; then it is not run (lua_busy). A turn never queues for long behind a slow script,
    /// and the turns of a tenant whose scripts are slow hold few threads, briefly.
    template <class PushArgument>
    sdk::Result<Outcome> call(Hook hook, sdk::TurnContext& turn, PushArgument push_argument) {
        const auto patience = std::max(std::chrono::milliseconds(1), sandbox_.limits().wall_per_call / 4);
        const auto slot = quota_->enter(patience);
        if (!slot)
            return fail(hook, sdk::make_error(
                                  kLuaBusy,
                                  display_path() + ": not run: the tenant's scripts are at their limit of " +
                                      std::to_string(quota_->options().calls_at_once) + " calls at once"));
        std::unique_lock lock(mutex_, std::try_to_lock);  // the usual case, a free script, reads no clock
        if (!lock.owns_lock() && !lock.try_lock_for(patience))
            return fail(hook,
                        sdk::make_error(kLuaBusy,
                                        display_path() +
                                            ": not run: the script was still busy with another call after " +
                                            std::to_string(patience.count()) + " ms"));
        lua_State* L = sandbox_.state();
        int base = lua_gettop(L);
        CallState state{&host_, &turn, hook, turn.language.empty() ? host_.tenant().language : turn.language};
        CallState** token = nullptr;
        try {
            {
                Sandbox::Uncapped uncapped(L);
                token = static_cast<CallState**>(lua_newuserdatauv(L, sizeof(CallState*), 0));
                *token = &state;
                push_context(L, base + 1, state, turn);
                lua_rawgeti(L, LUA_REGISTRYINDEX, declaration_);
                raw_field(L, -1, hook_name(hook));
                lua_remove(L, -2);
                lua_pushvalue(L, base + 2);
                push_argument(L);
            }
            auto status = sandbox_.call(2, 1);
            *token = nullptr;  // the token is still on the stack, so still alive
            if (!status) {
                lua_settop(L, base);
                return fail(hook, status.error());
            }
            Sandbox::Uncapped uncapped(L);
            auto outcome = read_outcome(L, hook, state);
            if (outcome.ok()) write_back_session(L, base + 2, turn, state);
            lua_settop(L, base);
            if (!outcome.ok()) return fail(hook, outcome.error());
            if (state.replaced > 0)
                host_.logger().warn(display_path() + ": " + hook_name(hook) +
                                    " handed over text that is not valid UTF-8; " +
                                    std::to_string(state.replaced) + " byte(s) replaced with U+FFFD");
            return outcome;
        } catch (const std::exception& e) {
            if (token) *token = nullptr;
            lua_settop(L, base);
            return fail(hook, sdk::make_error(kLuaError, display_path() + ": " + e.what()));
        }
    }

private:
    void push_context(lua_State* L, int token, const CallState& state, const sdk::TurnContext& turn) {
        lua_createtable(L, 0, 16);
        set_string(L, "tenant", turn.tenant_id.empty() ? host_.tenant().id : turn.tenant_id);
        set_string(L, "user_id", turn.user_id);
        set_string(L, "language", state.language);
        set_string(L, "channel", turn.channel);
        static const struct {
            const char* name;
            lua_CFunction function;
        } kFunctions[] = {{"now", ctx_now},
                          {"is_closed", ctx_is_closed},
                          {"local_time", ctx_local_time},
                          {"next_opening", ctx_next_opening},
                          {"log", ctx_log},
                          {"reply", ctx_reply},
                          {"handoff", ctx_handoff}};
        for (const auto& [name, function] : kFunctions) {
            lua_pushvalue(L, token);
            lua_pushcclosure(L, function, 1);
            lua_setfield(L, -2, name);
        }
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, token);
        lua_pushcclosure(L, catalog_find, 1);
        lua_setfield(L, -2, "find");
        lua_setfield(L, -2, "catalog");
        push_hours(L, host_.tenant().hours);
        lua_setfield(L, -2, "hours");
        if (turn.session == nullptr || !push_json(L, *turn.session)) lua_createtable(L, 0, 0);
        lua_setfield(L, -2, "session");
    }

    /// What the hook returned. Text is repaired to valid UTF-8 (text_from_script), counted in
    /// `state.replaced`: what a script hands over is stored and sent, never raw bytes.
    sdk::Result<Outcome> read_outcome(lua_State* L, Hook hook, CallState& state) {
        Outcome outcome;
        outcome.handoff = state.handoff;
        outcome.handoff_reason = state.handoff_reason;
        int type = lua_type(L, -1);
        if (hook == Hook::run) {
            std::string error = to_json(L, -1, outcome.result, "result", false, &state.replaced);
            if (!error.empty()) return sdk::make_error(kLuaError, display_path() + ": run returned " + error);
            return outcome;
        }
        auto text_at_top = [&] {
            std::size_t length = 0;
            const char* text = lua_tolstring(L, -1, &length);
            return text_from_script({text, length}, &state.replaced);
        };
        if (type == LUA_TNIL) return outcome;
        if (type == LUA_TSTRING) {
            outcome.text = text_at_top();
            return outcome;
        }
        if (hook == Hook::on_message && luaL_testudata(L, -1, kReplyMarker) != nullptr) {
            lua_getiuservalue(L, -1, 1);
            outcome.text = text_at_top();
            lua_pop(L, 1);
            return outcome;
        }
        std::string expected =
            hook == Hook::on_message ? "nil, a string or ctx.reply(text)" : "nil or a string";
        return sdk::make_error(kLuaError, display_path() + ": " + hook_name(hook) + " returned a " +
                                              luaL_typename(L, -1) + "; expected " + expected);
    }

    /// Copies ctx.session back into the turn: JSON-representable entries only, text repaired.
    void write_back_session(lua_State* L, int context, sdk::TurnContext& turn, CallState& state) {
        if (turn.session == nullptr) return;
        raw_field(L, context, "session");
        if (lua_type(L, -1) != LUA_TTABLE) {
            host_.logger().warn(display_path() +
                                ": ctx.session is no longer a table; the session is unchanged");
            lua_pop(L, 1);
            return;
        }
        json::object session;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                host_.logger().warn(display_path() + ": ctx.session: a " + luaL_typename(L, -2) +
                                    " key is not kept (keys must be strings)");
                lua_pop(L, 1);
                continue;
            }
            std::size_t key_length = 0;
            const char* key_bytes = lua_tolstring(L, -2, &key_length);  // a string: safe during lua_next
            std::string key = text_from_script({key_bytes, key_length}, &state.replaced);
            json::value value;
            std::string error = to_json(L, -1, value, "session." + key, false, &state.replaced);
            lua_pop(L, 1);
            if (!error.empty()) {
                host_.logger().warn(display_path() + ": ctx." + error + "; not kept");
                continue;
            }
            session[key] = std::move(value);
        }
        lua_pop(L, 1);
        *turn.session = std::move(session);
    }

    /// Logs a call that did not complete and counts it in tezgah_lua_skipped_total.
    sdk::Error fail(Hook hook, sdk::Error error) {
        try {
            host_.logger().error(std::string("lua ") + (kind_ == ScriptKind::rule ? "rule '" : "tool '") +
                                 name_ + "' " + hook_name(hook) + " failed (" + error.code +
                                 "): " + error.message);
            if (!quota_->tenant().empty())
                Metrics::global().lua_skipped(quota_->tenant(), skip_reason(error));
        } catch (...) {
        }
        return error;
    }

    /// The `reason` label of tezgah_lua_skipped_total. The sandbox is read only for a call that ran
    /// (under `mutex_`); a busy one never reached it.
    const char* skip_reason(const sdk::Error& error) const {
        if (error.code == kLuaBusy) return "busy";
        switch (sandbox_.stopped()) {
            case Stop::cpu_budget:
                return "cpu_budget";
            case Stop::wall_clock:
                return "wall_clock";
            case Stop::memory:
                return "memory";
            case Stop::none:
                break;
        }
        return error.code == kLuaMemory ? "memory" : "error";
    }

    sdk::HostServices& host_;
    TenantQuotaPtr quota_;  // before the sandbox, which holds a reference to it
    std::timed_mutex mutex_;
    Sandbox sandbox_;
    int declaration_ = LUA_NOREF;
    ScriptKind kind_ = ScriptKind::rule;
    std::string name_;
    sdk::ToolSpec spec_;
    std::vector<std::string> examples_;  ///< a tool's `examples`
};

using ScriptPtr = std::unique_ptr<Script>;

class LuaRule final : public sdk::Rule {
public:
    explicit LuaRule(ScriptPtr script)
        : script_(std::move(script)),
          has_on_message_(script_->has_hook("on_message")),
          has_on_reply_(script_->has_hook("on_reply")) {}

    std::string name() const override { return script_->name(); }

    sdk::Result<sdk::RuleDecision> on_message(sdk::TurnContext& turn,
                                              const sdk::InboundMessage& message) override {
        if (!has_on_message_) return sdk::RuleDecision{};
        std::string language = turn.language;
        auto outcome = script_->call(Hook::on_message, turn, [&](lua_State* L) {
            lua_createtable(L, 0, 6);
            set_string(L, "text", message.text);
            set_string(L, "user_id", message.user_id);
            set_string(L, "channel", message.channel);
            set_string(L, "language", language);
            set_string(L, "session_id", message.session_id);
            set_string(L, "platform", message.platform);
        });
        if (!outcome) return outcome.error();
        sdk::RuleDecision decision;
        decision.reply = std::move(outcome->text);
        decision.handoff = outcome->handoff;
        decision.handoff_reason = std::move(outcome->handoff_reason);
        return decision;
    }

    sdk::Result<std::string> on_reply(sdk::TurnContext& turn, const std::string& reply) override {
        if (!has_on_reply_) return reply;
        auto outcome = script_->call(Hook::on_reply, turn,
                                     [&](lua_State* L) { lua_pushlstring(L, reply.data(), reply.size()); });
        if (!outcome) return outcome.error();
        if (auto& text = outcome->text) return std::move(*text);
        return reply;
    }

private:
    ScriptPtr script_;
    bool has_on_message_;
    bool has_on_reply_;
};

class LuaTool final : public sdk::Tool {
public:
    explicit LuaTool(ScriptPtr script) : script_(std::move(script)) {}

    std::vector<sdk::ToolSpec> specs() const override { return {script_->spec()}; }

    sdk::Result<json::value> invoke(const sdk::ToolCall& call, sdk::TurnContext& turn) override {
        if (call.name != script_->name())
            return sdk::make_error("unknown_tool", script_->display_path() + ": offers '" + script_->name() +
                                                       "', not '" + call.name + "'");
        json::value arguments = call.arguments;
        auto outcome = script_->call(Hook::run, turn, [&](lua_State* L) {
            if (!push_json(L, arguments)) lua_createtable(L, 0, 0);
        });
        if (!outcome) return outcome.error();
        return std::move(outcome->result);
    }

private:
    ScriptPtr script_;
};

std::optional<std::string> read_source(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

const char* kind_name(ScriptKind kind) { return kind == ScriptKind::rule ? "rule" : "tool"; }

}  // namespace

std::chrono::milliseconds ServerLimits::wall_for(std::optional<int> requested_ms) const {
    return std::chrono::milliseconds(std::clamp(requested_ms.value_or(default_ms), 1, std::max(1, max_ms)));
}

sdk::Result<LoadedScript> load_script(const std::string& path, const std::string& display_path,
                                      sdk::HostServices& host, const Limits& limits, TenantQuotaPtr quota) {
    auto source = read_source(path);
    if (!source) return sdk::make_error(sdk::errc::not_found, display_path + ": cannot read the file");
    try {
        auto script = std::make_unique<Script>(host, display_path, limits, std::move(quota));
        if (auto status = script->load(*source); !status) {
            host.logger().error(status.error().message);
            return status.error();
        }
        LoadedScript loaded{script->kind(), script->name(), nullptr, script->has_hook("on_reply"),
                            script->examples()};
        if (loaded.kind == ScriptKind::rule)
            loaded.plugin = std::make_unique<LuaRule>(std::move(script));
        else
            loaded.plugin = std::make_unique<LuaTool>(std::move(script));
        return loaded;
    } catch (const std::exception& e) {
        return sdk::make_error(kLuaError, display_path + ": " + e.what());
    }
}

std::vector<std::string> check_script(const std::string& path, ScriptKind expected,
                                      const std::string& display_path, const Limits& limits) {
    const std::string& shown = display_path.empty() ? path : display_path;
    std::vector<std::string> problems;
    auto source = read_source(path);
    if (!source) {
        problems.push_back("file: cannot read " + shown);
        return problems;
    }
    try {
        NoHttpClient no_http;
        TenantlessHost host("lua", shown, no_http);
        Script script(host, shown, limits, nullptr);
        if (auto status = script.load(*source); !status) {
            problems.push_back("script: " + status.error().message);
            return problems;
        }
        if (script.kind() != expected)
            problems.push_back(std::string("kind: expected a ") + kind_name(expected) + " (return tezgah." +
                               kind_name(expected) + "{...}), found a " + kind_name(script.kind()));
    } catch (const std::exception& e) {
        problems.push_back(std::string("script: ") + e.what());
    }
    return problems;
}

}  // namespace tezgah::engine::lua
