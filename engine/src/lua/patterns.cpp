// string.find / match / gmatch / gsub for the sandbox. Lua's own matcher backtracks inside C, where
// the count hook never fires: string.rep("a", 3000):find(".-.-.-b") would run for a minute. This
// matcher implements the same pattern language (Lua 5.4 manual, §6.4.1) but charges every step to
// the script's CPU budget, and refuses subjects and patterns above the sandbox's size limits.
//
// Everything here raises Lua errors with longjmp, so the frames hold trivially destructible data only.
#include "lua/sandbox.hpp"

#include <cctype>
#include <cstring>

namespace tezgah::engine::lua {

namespace {

constexpr int kMaxCaptures = 32;
constexpr int kMaxDepth = 200;
constexpr long long kChargeEvery = 256;  // steps between charges to the budget
constexpr std::ptrdiff_t kCapUnfinished = -1;
constexpr std::ptrdiff_t kCapPosition = -2;
constexpr char kEscape = '%';
constexpr const char* kSpecials = "^$*+?.([%-";

struct Capture {
    const char* init;
    std::ptrdiff_t length;
};

struct MatchState {
    lua_State* L;
    const char* subject;
    const char* subject_end;
    const char* pattern_end;
    int depth;
    int level;
    long long steps;
    Capture captures[kMaxCaptures];
};

void step(MatchState* ms) {
    if (++ms->steps >= kChargeEvery) {
        Sandbox::charge(ms->L, ms->steps);
        ms->steps = 0;
    }
}

void finish(MatchState* ms) {
    if (ms->steps > 0) Sandbox::charge(ms->L, ms->steps);
    ms->steps = 0;
}

bool class_matches(int c, int class_char) {
    bool result;
    switch (std::tolower(class_char)) {
        case 'a':
            result = std::isalpha(c);
            break;
        case 'c':
            result = std::iscntrl(c);
            break;
        case 'd':
            result = std::isdigit(c);
            break;
        case 'g':
            result = std::isgraph(c);
            break;
        case 'l':
            result = std::islower(c);
            break;
        case 'p':
            result = std::ispunct(c);
            break;
        case 's':
            result = std::isspace(c);
            break;
        case 'u':
            result = std::isupper(c);
            break;
        case 'w':
            result = std::isalnum(c);
            break;
        case 'x':
            result = std::isxdigit(c);
            break;
        default:
            return class_char == c;
    }
    return std::isupper(class_char) ? !result : result;
}

/// `p` points at '[', `last` at the closing ']'.
bool set_matches(int c, const char* p, const char* last) {
    bool positive = true;
    if (*(p + 1) == '^') {
        positive = false;
        ++p;
    }
    while (++p < last) {
        if (*p == kEscape) {
            ++p;
            if (class_matches(c, static_cast<unsigned char>(*p))) return positive;
        } else if (*(p + 1) == '-' && p + 2 < last) {
            p += 2;
            if (static_cast<unsigned char>(*(p - 2)) <= c && c <= static_cast<unsigned char>(*p))
                return positive;
        } else if (static_cast<unsigned char>(*p) == c) {
            return positive;
        }
    }
    return !positive;
}

/// The end of the single-character class starting at `p`.
const char* class_end(MatchState* ms, const char* p) {
    if (*p++ == kEscape) {
        if (p == ms->pattern_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (*(p - 1) == '[') {
        if (*p == '^') ++p;
        do {  // the first character of a set is literal, even ']'
            if (p == ms->pattern_end) luaL_error(ms->L, "malformed pattern (missing ']')");
            if (*(p++) == kEscape && p < ms->pattern_end) ++p;
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

bool single_match(MatchState* ms, const char* s, const char* p, const char* ep) {
    if (s >= ms->subject_end) return false;
    int c = static_cast<unsigned char>(*s);
    switch (*p) {
        case '.':
            return true;
        case kEscape:
            return class_matches(c, static_cast<unsigned char>(*(p + 1)));
        case '[':
            return set_matches(c, p, ep - 1);
        default:
            return static_cast<unsigned char>(*p) == c;
    }
}

const char* match(MatchState* ms, const char* s, const char* p);

const char* match_balance(MatchState* ms, const char* s, const char* p) {
    if (p + 1 >= ms->pattern_end) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->subject_end || *s != *p) return nullptr;
    char open = *p;
    char close = *(p + 1);
    int depth = 1;
    while (++s < ms->subject_end) {
        step(ms);
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            ++depth;
        }
    }
    return nullptr;
}

const char* max_expand(MatchState* ms, const char* s, const char* p, const char* ep) {
    std::ptrdiff_t count = 0;
    while (single_match(ms, s + count, p, ep)) {
        step(ms);
        ++count;
    }
    while (count >= 0) {  // try the longest first, then back off
        if (const char* end = match(ms, s + count, ep + 1)) return end;
        --count;
    }
    return nullptr;
}

const char* min_expand(MatchState* ms, const char* s, const char* p, const char* ep) {
    for (;;) {
        if (const char* end = match(ms, s, ep + 1)) return end;
        if (!single_match(ms, s, p, ep)) return nullptr;
        ++s;
    }
}

const char* start_capture(MatchState* ms, const char* s, const char* p, std::ptrdiff_t what) {
    if (ms->level >= kMaxCaptures) luaL_error(ms->L, "too many captures");
    ms->captures[ms->level].init = s;
    ms->captures[ms->level].length = what;
    ++ms->level;
    const char* end = match(ms, s, p);
    if (end == nullptr) --ms->level;
    return end;
}

int capture_to_close(MatchState* ms) {
    for (int level = ms->level - 1; level >= 0; --level)
        if (ms->captures[level].length == kCapUnfinished) return level;
    luaL_error(ms->L, "invalid pattern capture");
    return 0;
}

const char* end_capture(MatchState* ms, const char* s, const char* p) {
    int level = capture_to_close(ms);
    ms->captures[level].length = s - ms->captures[level].init;
    const char* end = match(ms, s, p);
    if (end == nullptr) ms->captures[level].length = kCapUnfinished;
    return end;
}

int check_capture(MatchState* ms, int digit) {
    int index = digit - '1';
    if (index < 0 || index >= ms->level || ms->captures[index].length == kCapUnfinished)
        luaL_error(ms->L, "invalid capture index %%%d", index + 1);
    return index;
}

const char* match_capture(MatchState* ms, const char* s, int digit) {
    int index = check_capture(ms, digit);
    std::size_t length = static_cast<std::size_t>(ms->captures[index].length);
    if (static_cast<std::size_t>(ms->subject_end - s) >= length &&
        std::memcmp(ms->captures[index].init, s, length) == 0)
        return s + length;
    return nullptr;
}

const char* match(MatchState* ms, const char* s, const char* p) {
    if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
    for (;;) {
        step(ms);
        if (p == ms->pattern_end) break;
        bool literal = false;
        switch (*p) {
            case '(':
                s = *(p + 1) == ')' ? start_capture(ms, s, p + 2, kCapPosition)
                                    : start_capture(ms, s, p + 1, kCapUnfinished);
                break;
            case ')':
                s = end_capture(ms, s, p + 1);
                break;
            case '$':
                if (p + 1 != ms->pattern_end) {
                    literal = true;
                    break;
                }
                s = s == ms->subject_end ? s : nullptr;
                break;
            case kEscape:
                switch (*(p + 1)) {
                    case 'b':
                        s = match_balance(ms, s, p + 2);
                        if (s != nullptr) {
                            p += 4;
                            continue;
                        }
                        break;
                    case 'f': {
                        p += 2;
                        if (*p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
                        const char* ep = class_end(ms, p);
                        int previous = s == ms->subject ? '\0' : static_cast<unsigned char>(*(s - 1));
                        int current = s < ms->subject_end ? static_cast<unsigned char>(*s) : '\0';
                        if (!set_matches(previous, p, ep - 1) && set_matches(current, p, ep - 1)) {
                            p = ep;
                            continue;
                        }
                        s = nullptr;
                        break;
                    }
                    case '0':
                    case '1':
                    case '2':
                    case '3':
                    case '4':
                    case '5':
                    case '6':
                    case '7':
                    case '8':
                    case '9':
                        s = match_capture(ms, s, static_cast<unsigned char>(*(p + 1)));
                        if (s != nullptr) {
                            p += 2;
                            continue;
                        }
                        break;
                    default:
                        literal = true;
                }
                break;
            default:
                literal = true;
        }
        if (!literal) break;

        const char* ep = class_end(ms, p);
        if (!single_match(ms, s, p, ep)) {
            if (*ep == '*' || *ep == '?' || *ep == '-') {  // accepts an empty match
                p = ep + 1;
                continue;
            }
            s = nullptr;
            break;
        }
        switch (*ep) {
            case '?':
                if (const char* end = match(ms, s + 1, ep + 1)) {
                    s = end;
                } else {
                    p = ep + 1;
                    continue;
                }
                break;
            case '+':
                s = max_expand(ms, s + 1, p, ep);
                break;
            case '*':
                s = max_expand(ms, s, p, ep);
                break;
            case '-':
                s = min_expand(ms, s, p, ep);
                break;
            default:
                ++s;
                p = ep;
                continue;
        }
        break;
    }
    ++ms->depth;
    return s;
}

void push_one_capture(MatchState* ms, int i, const char* s, const char* e) {
    if (i >= ms->level) {
        if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, static_cast<std::size_t>(e - s));
        return;
    }
    std::ptrdiff_t length = ms->captures[i].length;
    if (length == kCapUnfinished) luaL_error(ms->L, "unfinished capture");
    if (length == kCapPosition)
        lua_pushinteger(ms->L, (ms->captures[i].init - ms->subject) + 1);
    else
        lua_pushlstring(ms->L, ms->captures[i].init, static_cast<std::size_t>(length));
}

int push_captures(MatchState* ms, const char* s, const char* e) {
    int count = (ms->level == 0 && s != nullptr) ? 1 : ms->level;
    luaL_checkstack(ms->L, count, "too many captures");
    for (int i = 0; i < count; ++i) push_one_capture(ms, i, s, e);
    return count;
}

void prepare(MatchState* ms, lua_State* L, const char* s, std::size_t ls, const char* p, std::size_t lp) {
    ms->L = L;
    ms->subject = s;
    ms->subject_end = s + ls;
    ms->pattern_end = p + lp;
    ms->steps = 0;
}

void reprepare(MatchState* ms) {
    ms->level = 0;
    ms->depth = kMaxDepth;
}

/// Checks the sizes the sandbox allows; raises naming the function.
void check_sizes(lua_State* L, const char* function, std::size_t subject, std::size_t pattern) {
    const Limits& limits = Sandbox::of(L).limits();
    if (subject > limits.pattern_subject_max)
        luaL_error(L, "string.%s: subject of %d bytes is over the sandbox limit of %d", function,
                   static_cast<int>(subject), static_cast<int>(limits.pattern_subject_max));
    if (pattern > limits.pattern_max)
        luaL_error(L, "string.%s: pattern of %d bytes is over the sandbox limit of %d", function,
                   static_cast<int>(pattern), static_cast<int>(limits.pattern_max));
}

std::size_t start_position(lua_Integer position, std::size_t length) {
    if (position > 0) return static_cast<std::size_t>(position);
    if (position == 0) return 1;
    if (position < -static_cast<lua_Integer>(length)) return 1;
    return length + static_cast<std::size_t>(position) + 1;
}

bool has_specials(const char* p, std::size_t lp) {
    for (std::size_t i = 0; i < lp; ++i)
        if (p[i] != '\0' && std::strchr(kSpecials, p[i]) != nullptr) return true;
    return false;
}

const char* find_plain(const char* s, std::size_t ls, const char* p, std::size_t lp, MatchState* ms) {
    if (lp == 0) return s;
    if (lp > ls) return nullptr;
    for (std::size_t i = 0; i + lp <= ls; ++i) {
        step(ms);
        if (s[i] == p[0] && std::memcmp(s + i, p, lp) == 0) return s + i;
    }
    return nullptr;
}

int find_or_match(lua_State* L, bool find) {
    std::size_t ls = 0, lp = 0;
    const char* s = luaL_checklstring(L, 1, &ls);
    const char* p = luaL_checklstring(L, 2, &lp);
    check_sizes(L, find ? "find" : "match", ls, lp);
    std::size_t init = start_position(luaL_optinteger(L, 3, 1), ls);
    if (init > ls + 1) {
        luaL_pushfail(L);
        return 1;
    }
    MatchState ms;
    prepare(&ms, L, s, ls, p, lp);
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char* found = find_plain(s + init - 1, ls - init + 1, p, lp, &ms);
        finish(&ms);
        if (found == nullptr) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (found - s) + 1);
        lua_pushinteger(L, static_cast<lua_Integer>(found - s) + static_cast<lua_Integer>(lp));
        return 2;
    }
    bool anchored = *p == '^';
    if (anchored) {
        ++p;
        --lp;
        ms.pattern_end = p + lp;
    }
    const char* start = s + init - 1;
    do {
        reprepare(&ms);
        if (const char* end = match(&ms, start, p)) {
            finish(&ms);
            if (find) {
                lua_pushinteger(L, (start - s) + 1);
                lua_pushinteger(L, end - s);
                return push_captures(&ms, nullptr, nullptr) + 2;
            }
            return push_captures(&ms, start, end);
        }
    } while (start++ < ms.subject_end && !anchored);
    finish(&ms);
    luaL_pushfail(L);
    return 1;
}

int bounded_find(lua_State* L) { return find_or_match(L, true); }
int bounded_match(lua_State* L) { return find_or_match(L, false); }

struct GmatchState {
    const char* position;
    const char* pattern;
    const char* last_match;
    MatchState ms;
};

int gmatch_next(lua_State* L) {
    auto* gm = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
    gm->ms.L = L;  // the iterator may run on another thread (coroutine)
    for (const char* start = gm->position; start <= gm->ms.subject_end; ++start) {
        reprepare(&gm->ms);
        const char* end = match(&gm->ms, start, gm->pattern);
        if (end != nullptr && end != gm->last_match) {
            finish(&gm->ms);
            gm->position = gm->last_match = end;
            return push_captures(&gm->ms, start, end);
        }
    }
    finish(&gm->ms);
    return 0;
}

int bounded_gmatch(lua_State* L) {
    std::size_t ls = 0, lp = 0;
    const char* s = luaL_checklstring(L, 1, &ls);
    const char* p = luaL_checklstring(L, 2, &lp);
    check_sizes(L, "gmatch", ls, lp);
    std::size_t init = start_position(luaL_optinteger(L, 3, 1), ls);
    if (init > ls + 1) init = ls + 1;
    lua_settop(L, 2);  // the strings stay alive as upvalues
    auto* gm = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
    prepare(&gm->ms, L, s, ls, p, lp);
    gm->position = s + init - 1;
    gm->pattern = p;
    gm->last_match = nullptr;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

void add_replacement_string(MatchState* ms, luaL_Buffer* buffer, const char* s, const char* e) {
    lua_State* L = ms->L;
    std::size_t length = 0;
    const char* text = lua_tolstring(L, 3, &length);
    const char* end = text + length;
    for (const char* p = text; p < end; ++p) {
        if (*p != kEscape) {
            luaL_addchar(buffer, *p);
            continue;
        }
        ++p;
        if (p < end && *p == kEscape) {
            luaL_addchar(buffer, *p);
        } else if (p < end && *p == '0') {
            luaL_addlstring(buffer, s, static_cast<std::size_t>(e - s));
        } else if (p < end && std::isdigit(static_cast<unsigned char>(*p))) {
            push_one_capture(ms, *p - '1', s, e);
            luaL_tolstring(L, -1, nullptr);
            lua_remove(L, -2);
            luaL_addvalue(buffer);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", kEscape);
        }
    }
}

void add_replacement(MatchState* ms, luaL_Buffer* buffer, const char* s, const char* e, int type) {
    lua_State* L = ms->L;
    switch (type) {
        case LUA_TFUNCTION: {
            lua_pushvalue(L, 3);
            int count = push_captures(ms, s, e);
            lua_call(L, count, 1);
            break;
        }
        case LUA_TTABLE:
            push_one_capture(ms, 0, s, e);
            lua_gettable(L, 3);
            break;
        default:
            add_replacement_string(ms, buffer, s, e);
            return;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(buffer, s, static_cast<std::size_t>(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(buffer);
    }
}

int bounded_gsub(lua_State* L) {
    std::size_t ls = 0, lp = 0;
    const char* s = luaL_checklstring(L, 1, &ls);
    const char* p = luaL_checklstring(L, 2, &lp);
    check_sizes(L, "gsub", ls, lp);
    int type = lua_type(L, 3);
    luaL_argexpected(
        L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE, 3,
        "string/function/table");
    lua_Integer max_replacements = luaL_optinteger(L, 4, static_cast<lua_Integer>(ls) + 1);
    bool anchored = *p == '^';
    if (anchored) {
        ++p;
        --lp;
    }
    const char* last_match = nullptr;
    const char* src = s;
    lua_Integer count = 0;
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    MatchState ms;
    prepare(&ms, L, s, ls, p, lp);
    while (count < max_replacements) {
        reprepare(&ms);
        const char* end = match(&ms, src, p);
        if (end != nullptr && end != last_match) {
            ++count;
            finish(&ms);  // the replacement may call the script: settle the budget first
            add_replacement(&ms, &buffer, src, end, type);
            src = last_match = end;
        } else if (src < ms.subject_end) {
            luaL_addchar(&buffer, *src++);
        } else {
            break;
        }
        if (anchored) break;
    }
    finish(&ms);
    luaL_addlstring(&buffer, src, static_cast<std::size_t>(ms.subject_end - src));
    luaL_pushresult(&buffer);
    lua_pushinteger(L, count);
    return 2;
}

/// string.rep, refusing results larger than the memory cap before building them.
int bounded_rep(lua_State* L) {
    std::size_t length = 0, separator_length = 0;
    luaL_checklstring(L, 1, &length);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &separator_length);
    if (n <= 0 || length + separator_length == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    std::size_t cap = Sandbox::of(L).limits().memory_bytes;
    double total = static_cast<double>(n) * static_cast<double>(length) +
                   static_cast<double>(n - 1) * static_cast<double>(separator_length);
    if (total > static_cast<double>(cap)) Sandbox::memory_exceeded(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

}  // namespace

void install_bounded_string_functions(lua_State* L) {
    int string_table = lua_gettop(L);
    lua_pushcfunction(L, bounded_find);
    lua_setfield(L, string_table, "find");
    lua_pushcfunction(L, bounded_match);
    lua_setfield(L, string_table, "match");
    lua_pushcfunction(L, bounded_gmatch);
    lua_setfield(L, string_table, "gmatch");
    lua_pushcfunction(L, bounded_gsub);
    lua_setfield(L, string_table, "gsub");
    lua_getfield(L, string_table, "rep");
    lua_pushcclosure(L, bounded_rep, 1);
    lua_setfield(L, string_table, "rep");
}

}  // namespace tezgah::engine::lua
