// The console's staff over HTTP (docs/console.md, "Staff accounts and sign-in"): an agent's
// sign-in and sign-out under /v1/tenants/{tenant}/session (a cookie `tezgah_session`, HttpOnly,
// SameSite=Strict, with a CSRF token for every unsafe request), GET /v1/session, agent accounts
// (tenant:admin), a conversation's assignee, private notes on a conversation and canned replies.
// A session is an ApiKey-shaped principal with its role's scopes on its own tenant, so every keyed
// route takes it through Routes::authenticate.
#include "http/exchange.hpp"
#include "http/request_parts.hpp"

#include "pipeline/engine.hpp"
#include "store/agents.hpp"
#include "store/handoffs.hpp"
#include "store/sql_support.hpp"
#include "store/staff_notes.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/text.hpp>

#include <openssl/crypto.h>

#include <algorithm>

namespace tezgah::engine::http {
namespace {

constexpr std::string_view kCookie = "tezgah_session";
constexpr std::size_t kMaxNote = 4000;        ///< characters in a note
constexpr std::size_t kMaxCannedTitle = 80;   ///< characters in a canned reply's title
constexpr std::size_t kMaxCannedText = 4096;  ///< characters in a canned reply's text

json::value millis_or_null(std::chrono::system_clock::time_point t) {
    if (t.time_since_epoch().count() == 0) return nullptr;
    return store::to_millis(t);
}

json::object agent_json(const Agent& a) {
    return json::object{{"id", a.id},
                        {"tenant", a.tenant_id},
                        {"name", a.name},
                        {"email", a.email},
                        {"role", a.role},
                        {"disabled", a.disabled},
                        {"created_at", store::to_millis(a.created_at)},
                        {"last_sign_in_at", millis_or_null(a.last_sign_in_at)}};
}

json::array scopes_json(const std::vector<std::string>& scopes) {
    json::array out;
    for (const auto& s : scopes) out.emplace_back(s);
    return out;
}

/// The answer of sign-in and of GET /v1/session for an agent.
json::object session_json(const AgentSession& session, bool with_kind) {
    json::object out;
    if (with_kind) out["kind"] = "agent";
    out["agent"] = agent_json(session.agent);
    out["tenant"] = session.agent.tenant_id;
    out["scopes"] = scopes_json(role_scopes(session.agent.role));
    out["csrf_token"] = session.csrf_token;
    out["expires_at"] = store::to_millis(session.expires_at());
    return out;
}

/// `tezgah_session=VALUE; ...` with the attributes the contract fixes (Secure over HTTPS).
std::string session_cookie_header(const Exchange& ex, const std::string& value, long long max_age) {
    std::string out = std::string(kCookie) + "=" + value + "; Path=/; Max-Age=" + std::to_string(max_age) +
                      "; HttpOnly; SameSite=Strict";
    if (ex.request.forwarded_https) out += "; Secure";
    return out;
}

void clear_cookie(Exchange& ex) { ex.set_header("Set-Cookie", session_cookie_header(ex, "", 0)); }

/// Errors of the staff stores: "conflict" is 409 here; the rest as everywhere.
void send_store_error(Exchange& ex, const sdk::Error& error) {
    if (error.code == "conflict") return ex.send_error(409, "conflict", error.message);
    ex.send_error(error);
}

/// The request's Origin, when present, names this server (scheme aside): the same host and port as
/// Host. An `Origin: null` (a sandboxed or privacy-sensitive context) is not this server either.
bool same_origin(const Request& request) {
    const std::string_view origin = request.header("origin");
    if (origin.empty()) return true;
    const auto scheme_end = origin.find("://");
    if (scheme_end == std::string_view::npos) return false;
    const std::string_view authority = origin.substr(scheme_end + 3);
    const std::string_view host = request.header("host");
    if (authority.empty() || host.empty() || authority.size() != host.size()) return false;
    return std::equal(authority.begin(), authority.end(), host.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// Who wrote a note or owns a canned reply: the agent, or the key.
StaffAuthor author_of(const ApiKey& who) {
    if (who.agent()) return {"agent", who.agent_id, who.name};
    return {"key", who.id, who.name};
}

bool is_author(const ApiKey& who, const StaffAuthor& author) {
    const StaffAuthor me = author_of(who);
    return me.kind == author.kind && me.id == author.id;
}

/// A string field of `body`: none (answered 400) when missing and `required`, or not a string.
/// `present` tells whether it was there.
std::optional<std::string> string_field(Exchange& ex, const json::object& body, std::string_view name,
                                        bool required, bool* present = nullptr) {
    const auto* value = body.if_contains(name);
    if (present != nullptr) *present = value != nullptr;
    if (value == nullptr) {
        if (required) ex.send_error(400, "missing_field", std::string(name) + ": required");
        return required ? std::nullopt : std::optional<std::string>(std::string());
    }
    if (!value->is_string()) {
        ex.send_error(400, "invalid_field", std::string(name) + ": expected a string");
        return std::nullopt;
    }
    return std::string(value->get_string());
}

/// True when every field of `body` is one of `known`; else answers 400 naming the first other.
bool known_fields(Exchange& ex, const json::object& body, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : body) {
        if (std::find(known.begin(), known.end(), std::string_view(key)) != known.end()) continue;
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        ex.send_error(400, "invalid_field",
                      "body: unknown field \"" + std::string(key) + "\" (" + list + ")");
        return false;
    }
    return true;
}

/// A text of 1..`max` characters, valid UTF-8 without NUL; else answers 422 naming `field`.
bool checked_text(Exchange& ex, const std::string& text, std::string_view field, std::size_t max) {
    if (!sdk::text::valid_utf8(text) || text.find('\0') != std::string::npos) {
        ex.send_error(422, "invalid_value", std::string(field) + ": not valid UTF-8, or contains a NUL");
        return false;
    }
    if (sdk::text::trim(text).empty() || sdk::text::length(text) > max) {
        ex.send_error(422, "invalid_value",
                      std::string(field) + ": 1 to " + std::to_string(max) + " characters, not only spaces");
        return false;
    }
    return true;
}

/// An id from the path: 1..200 bytes, valid UTF-8, no NUL.
bool sane_id(std::string_view id) {
    return !id.empty() && id.size() <= 200 && sdk::text::valid_utf8(id) &&
           id.find('\0') == std::string_view::npos;
}

}  // namespace

std::string_view session_cookie(const Request& request) {
    // Cookie: a=b; tezgah_session=TOKEN; c=d (several Cookie headers are rare; the first is read).
    std::string_view cookies = request.header("cookie");
    while (!cookies.empty()) {
        const auto semicolon = cookies.find(';');
        std::string_view pair = cookies.substr(0, semicolon);
        cookies = semicolon == std::string_view::npos ? std::string_view() : cookies.substr(semicolon + 1);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        if (pair.size() > kCookie.size() && pair.starts_with(kCookie) && pair[kCookie.size()] == '=')
            return pair.substr(kCookie.size() + 1);
    }
    return {};
}

std::optional<ApiKey> Routes::authenticate_session(Exchange& ex, std::string_view token) {
    auto found = find_session(engine.database(), token, engine.now());
    if (!found) {
        ex.send_error(found.error());
        return std::nullopt;
    }
    if (!*found) {
        clear_cookie(ex);
        ex.set_header("WWW-Authenticate", "Bearer");
        ex.send_error(401, "unauthorized", "the console session has ended or is not known: sign in again");
        return std::nullopt;
    }
    const AgentSession& session = **found;
    ex.key_id = "agent:" + session.agent.id;
    const auto& method = ex.request.method;
    if (method != "GET" && method != "HEAD") {
        if (!constant_time_equal(ex.request.header("x-csrf-token"), session.csrf_token)) {
            ex.send_error(
                403, "csrf_failed",
                "X-CSRF-Token: a request with a console session must carry the session's CSRF token");
            return std::nullopt;
        }
        if (!same_origin(ex.request)) {
            ex.send_error(
                403, "csrf_failed",
                "Origin: \"" + std::string(ex.request.header("origin")) + "\" is not this server's origin");
            return std::nullopt;
        }
    }
    ApiKey principal;
    principal.id = ex.key_id;
    principal.agent_id = session.agent.id;
    principal.name = session.agent.name;
    principal.tenant_id = session.agent.tenant_id;
    principal.scopes = role_scopes(session.agent.role);
    principal.created_at = session.created_at;
    principal.last_used_at = session.last_used_at;
    return principal;
}

void Routes::session_route(Exchange& ex) {
    ex.route = "/v1/session";
    if (!allow_methods(ex, {"GET"})) return;
    ex.set_header("Cache-Control", "no-store");
    auto who = authenticate(ex);
    if (!who) return;
    if (!who->agent()) {
        return ex.send_json(200, json::object{{"kind", "key"},
                                              {"key", json::object{{"id", who->id}, {"name", who->name}}},
                                              {"tenant", who->all_tenants() ? json::value(nullptr)
                                                                            : json::value(who->tenant_id)},
                                              {"scopes", scopes_json(who->scopes)}});
    }
    auto found = find_session(engine.database(), session_cookie(ex.request), engine.now());
    if (!found) return ex.send_error(found.error());
    if (!*found) return ex.send_error(401, "unauthorized", "the console session has ended: sign in again");
    ex.send_json(200, session_json(**found, true));
}

namespace {

/// A principal of `tenant` that may use `scope`, or (when `or_scope` is set) that other scope.
/// Answers 401/403 and returns none otherwise.
std::optional<ApiKey> authorize_either(Routes& routes, Exchange& ex, const std::string& tenant,
                                       std::string_view scope, std::string_view or_scope) {
    auto who = routes.authenticate(ex);
    if (!who) return std::nullopt;
    if (who->covers(tenant) && who->has_scope(or_scope)) return who;
    if (!routes.permit(ex, *who, tenant, scope)) return std::nullopt;
    return who;
}

/// The tenant is served: else answers its error.
bool known_tenant(Routes& routes, Exchange& ex, const std::string& tenant) {
    if (auto known = routes.engine.tenant(tenant); !known) {
        ex.send_error(known.error());
        return false;
    }
    return true;
}

void sign_in_route(Routes& routes, Exchange& ex, const std::string& tenant) {
    if (!same_origin(ex.request))
        return ex.send_error(
            403, "csrf_failed",
            "Origin: \"" + std::string(ex.request.header("origin")) + "\" is not this server's origin");
    auto body = json_object_body(ex);
    if (!body) return;
    if (!known_fields(ex, *body, {"email", "password"})) return;
    auto email = string_field(ex, *body, "email", true);
    if (!email) return;
    auto password = string_field(ex, *body, "password", true);
    if (!password) return;
    if (!known_tenant(routes, ex, tenant)) return;
    auto result = sign_in(routes.engine.database(), tenant, *email, *password, routes.engine.now());
    if (!result) return ex.send_error(result.error());
    switch (result->outcome) {
        case SignIn::Outcome::rate_limited:
            ex.set_header("Retry-After", std::to_string(result->retry_after.count()));
            return ex.send_error(429, "rate_limited",
                                 "too many failed sign-ins for this e-mail: try again in " +
                                     std::to_string(result->retry_after.count()) + " seconds");
        case SignIn::Outcome::refused:
            return ex.send_error(401, "invalid_credentials", "the e-mail or the password is not right");
        case SignIn::Outcome::signed_in:
            break;
    }
    ex.key_id = "agent:" + result->session.agent.id;
    ex.set_header("Set-Cookie", session_cookie_header(
                                    ex, result->token,
                                    std::chrono::duration_cast<std::chrono::seconds>(kSessionLife).count()));
    ex.send_json(200, session_json(result->session, false));
}

void sign_out_route(Routes& routes, Exchange& ex, const std::string& tenant) {
    const std::string_view token = session_cookie(ex.request);
    if (token.empty() || !ex.request.header("authorization").empty())
        return ex.send_error(401, "unauthorized", "signing out needs the console session's cookie");
    auto who = routes.authenticate(ex);
    if (!who) return;
    if (!who->covers(tenant))
        return ex.send_error(403, "forbidden", "the session is not for tenant \"" + tenant + "\"");
    auto ended = end_session(routes.engine.database(), session_token_hash(token));
    if (!ended) return ex.send_error(ended.error());
    clear_cookie(ex);
    ex.send(204, "application/json", "");
}

/// The body of POST /agents and PATCH /agents/{id}, checked for types; values are the store's.
struct AgentFields {
    AgentPatch patch;
    bool ok = false;
};

AgentFields agent_fields(Exchange& ex, const json::object& body) {
    AgentFields out;
    if (!known_fields(ex, body, {"name", "email", "password", "role", "disabled"})) return out;
    for (const char* name : {"name", "email", "password", "role"}) {
        bool present = false;
        auto value = string_field(ex, body, name, false, &present);
        if (!value) return out;
        if (!present) continue;
        const std::string_view n = name;
        (n == "name"       ? out.patch.name
         : n == "email"    ? out.patch.email
         : n == "password" ? out.patch.password
                           : out.patch.role) = *value;
    }
    if (const auto* disabled = body.if_contains("disabled")) {
        if (!disabled->is_bool()) {
            ex.send_error(400, "invalid_field", "disabled: expected true or false");
            return out;
        }
        out.patch.disabled = disabled->get_bool();
    }
    out.ok = true;
    return out;
}

void list_agents_route(Routes& routes, Exchange& ex, const std::string& tenant) {
    auto agents = list_agents(routes.engine.database(), tenant);
    if (!agents) return ex.send_error(agents.error());
    json::array list;
    for (const auto& a : *agents) list.push_back(agent_json(a));
    ex.send_json(200, json::object{{"agents", std::move(list)}});
}

void create_agent_route(Routes& routes, Exchange& ex, const std::string& tenant) {
    auto body = json_object_body(ex);
    if (!body) return;
    auto fields = agent_fields(ex, *body);
    if (!fields.ok) return;
    if (fields.patch.disabled)
        return ex.send_error(400, "invalid_field",
                             "disabled: a new agent is enabled (PATCH it to disable it)");
    for (const auto* required : {&fields.patch.name, &fields.patch.email, &fields.patch.password})
        if (!*required) {
            const char* name = required == &fields.patch.name    ? "name"
                               : required == &fields.patch.email ? "email"
                                                                 : "password";
            return ex.send_error(400, "missing_field", std::string(name) + ": required");
        }
    NewAgent agent{tenant, *fields.patch.name, *fields.patch.email, *fields.patch.password,
                   fields.patch.role.value_or(kRoleAgent)};
    auto made = create_agent(routes.engine.database(), agent, routes.engine.now());
    if (!made) return send_store_error(ex, made.error());
    ex.send_json(201, agent_json(*made));
}

void change_agent_route(Routes& routes, Exchange& ex, const std::string& tenant, const std::string& id) {
    auto who = routes.authenticate(ex);
    if (!who) return;
    std::optional<json::object> body;
    AgentFields fields;
    if (ex.request.method == "PATCH") {
        body = json_object_body(ex);
        if (!body) return;
        fields = agent_fields(ex, *body);
        if (!fields.ok) return;
    }
    // An agent changes its own name and password; everything else is the owners' (tenant:admin).
    const auto& p = fields.patch;
    const bool own = ex.request.method == "PATCH" && who->agent() && who->agent_id == id &&
                     who->covers(tenant) && !p.email && !p.role && !p.disabled;
    if (!own && !routes.permit(ex, *who, tenant, "tenant:admin")) return;
    if (!sane_id(id)) return ex.send_error(404, "not_found", "no such agent");
    auto& db = routes.engine.database();
    if (ex.request.method == "DELETE") {
        auto removed = remove_agent(db, tenant, id);
        if (!removed) return send_store_error(ex, removed.error());
        if (!*removed) return ex.send_error(404, "not_found", "agent \"" + id + "\" not found");
        return ex.send(204, "application/json", "");
    }
    if (!p.name && !p.email && !p.password && !p.role && !p.disabled)
        return ex.send_error(400, "missing_field",
                             "body: give at least one of name, email, password, role, disabled");
    // The session making a change keeps going; the agent's other sessions end on a new password.
    const std::string keep = who->agent() ? session_token_hash(session_cookie(ex.request)) : "";
    auto updated = update_agent(db, tenant, id, p, routes.engine.now(), keep);
    if (!updated) return send_store_error(ex, updated.error());
    if (!*updated) return ex.send_error(404, "not_found", "agent \"" + id + "\" not found");
    ex.send_json(200, agent_json(**updated));
}

void assignee_route(Routes& routes, Exchange& ex, const std::string& tenant, const std::string& id) {
    auto who = routes.authorize(ex, tenant, "conversations:write");
    if (!who) return;
    auto body = json_object_body(ex);
    if (!body) return;
    if (!known_fields(ex, *body, {"agent_id"})) return;
    const auto* value = body->if_contains("agent_id");
    if (value == nullptr) return ex.send_error(400, "missing_field", "agent_id: required (null: nobody)");
    if (!value->is_null() && !value->is_string())
        return ex.send_error(400, "invalid_field", "agent_id: expected an agent's id or null");
    const std::string agent_id = value->is_null() ? "" : std::string(value->get_string());
    if (!value->is_null() && !sane_id(agent_id))
        return ex.send_error(422, "invalid_value", "agent_id: not an agent's id");
    if (!sane_id(id) || !known_tenant(routes, ex, tenant)) {
        if (!ex.sent()) ex.send_error(404, "not_found", "no such conversation");
        return;
    }
    auto& db = routes.engine.database();
    auto assigned = assign_conversation(db, tenant, id, agent_id);
    if (!assigned) return ex.send_error(assigned.error());
    auto conversation = find_conversation(db, tenant, id);
    if (!conversation) return ex.send_error(conversation.error());
    if (!*conversation) return ex.send_error(404, "not_found", "conversation \"" + id + "\" not found");
    const json::value assignee =
        *assigned ? json::value(json::object{{"id", (*assigned)->id}, {"name", (*assigned)->name}})
                  : json::value(nullptr);
    json::object out = to_json(**conversation);
    out["assignee"] = assignee;
    routes.engine.events().publish(Event{"assignment", tenant,
                                         json::object{{"tenant", tenant},
                                                      {"conversation_id", id},
                                                      {"assignee", assignee},
                                                      {"by", to_json(author_of(*who))}}});
    ex.send_json(200, out);
}

void notes_route(Routes& routes, Exchange& ex, const std::string& tenant, const std::string& id) {
    const bool reading = ex.request.method == "GET";
    auto who = routes.authorize(ex, tenant, reading ? "conversations:read" : "conversations:write");
    if (!who) return;
    if (!known_tenant(routes, ex, tenant)) return;
    auto& db = routes.engine.database();
    if (!sane_id(id)) return ex.send_error(404, "not_found", "no such conversation");
    if (reading) {
        auto conversation = find_conversation(db, tenant, id);
        if (!conversation) return ex.send_error(conversation.error());
        if (!*conversation) return ex.send_error(404, "not_found", "conversation \"" + id + "\" not found");
        auto notes = list_notes(db, tenant, id);
        if (!notes) return ex.send_error(notes.error());
        json::array list;
        for (const auto& n : *notes) list.push_back(to_json(n));
        return ex.send_json(200, json::object{{"notes", std::move(list)}});
    }
    auto body = json_object_body(ex);
    if (!body) return;
    if (!known_fields(ex, *body, {"text"})) return;
    auto text = string_field(ex, *body, "text", true);
    if (!text || !checked_text(ex, *text, "text", kMaxNote)) return;
    auto note = add_note(db, tenant, id, author_of(*who), *text, routes.engine.now());
    if (!note) return ex.send_error(note.error());
    json::object out = to_json(*note);
    json::object event = out;
    event["tenant"] = tenant;
    routes.engine.events().publish(Event{"note", tenant, std::move(event)});
    ex.send_json(201, out);
}

void delete_note_route(Routes& routes, Exchange& ex, const std::string& tenant, const std::string& id,
                       const std::string& note_id) {
    auto who = authorize_either(routes, ex, tenant, "conversations:write", "tenant:admin");
    if (!who) return;
    if (!sane_id(id) || !sane_id(note_id)) return ex.send_error(404, "not_found", "no such note");
    auto& db = routes.engine.database();
    auto note = find_note(db, tenant, id, note_id);
    if (!note) return ex.send_error(note.error());
    if (!*note) return ex.send_error(404, "not_found", "note \"" + note_id + "\" not found");
    if (!is_author(*who, (*note)->author) && !who->has_scope("tenant:admin"))
        return ex.send_error(403, "forbidden", "only its author or an owner (tenant:admin) deletes a note");
    auto deleted = delete_note(db, tenant, id, note_id);
    if (!deleted) return ex.send_error(deleted.error());
    ex.send(204, "application/json", "");
}

/// title, text and shared of a canned reply's body into `reply`; false when answered.
bool canned_fields(Exchange& ex, const ApiKey& who, const json::object& body, CannedReply& reply) {
    if (!known_fields(ex, body, {"title", "text", "shared"})) return false;
    auto title = string_field(ex, body, "title", true);
    if (!title) return false;
    auto text = string_field(ex, body, "text", true);
    if (!text) return false;
    if (!checked_text(ex, *title, "title", kMaxCannedTitle) ||
        !checked_text(ex, *text, "text", kMaxCannedText))
        return false;
    if (const auto* shared = body.if_contains("shared")) {
        if (!shared->is_bool()) {
            ex.send_error(400, "invalid_field", "shared: expected true or false");
            return false;
        }
        if (shared->get_bool() && !reply.shared && !who.has_scope("tenant:admin")) {
            ex.send_error(403, "forbidden",
                          "shared: sharing a canned reply with every agent needs tenant:admin");
            return false;
        }
        reply.shared = shared->get_bool();
    }
    reply.title = *title;
    reply.text = *text;
    return true;
}

void canned_replies_route(Routes& routes, Exchange& ex, const std::string& tenant) {
    const bool reading = ex.request.method == "GET";
    auto who = routes.authorize(ex, tenant, reading ? "conversations:read" : "conversations:write");
    if (!who) return;
    if (!known_tenant(routes, ex, tenant)) return;
    auto& db = routes.engine.database();
    if (reading) {
        auto replies = list_canned_replies(db, tenant, who->agent_id);
        if (!replies) return ex.send_error(replies.error());
        json::array list;
        for (const auto& r : *replies) list.push_back(to_json(r));
        return ex.send_json(200, json::object{{"canned_replies", std::move(list)}});
    }
    auto body = json_object_body(ex);
    if (!body) return;
    CannedReply reply;
    if (!canned_fields(ex, *who, *body, reply)) return;
    reply.id = "cr_" + sdk::random_hex(8);
    reply.tenant_id = tenant;
    reply.owner = author_of(*who);
    reply.updated_at = std::chrono::time_point_cast<std::chrono::milliseconds>(routes.engine.now());
    if (auto saved = save_canned_reply(db, reply, true); !saved) return ex.send_error(saved.error());
    ex.send_json(201, to_json(reply));
}

void canned_reply_route(Routes& routes, Exchange& ex, const std::string& tenant, const std::string& id) {
    auto who = authorize_either(routes, ex, tenant, "conversations:write", "tenant:admin");
    if (!who) return;
    if (!sane_id(id)) return ex.send_error(404, "not_found", "no such canned reply");
    auto& db = routes.engine.database();
    auto found = find_canned_reply(db, tenant, id);
    if (!found) return ex.send_error(found.error());
    const bool admin = who->has_scope("tenant:admin");
    // Another agent's own reply is not even seen by an agent who is not an owner.
    if (!*found || (who->agent() && !admin && !(*found)->shared && !is_author(*who, (*found)->owner)))
        return ex.send_error(404, "not_found", "canned reply \"" + id + "\" not found");
    if (!is_author(*who, (*found)->owner) && !admin)
        return ex.send_error(403, "forbidden",
                             "only its owner or an owner of the tenant (tenant:admin) changes it");
    if (ex.request.method == "DELETE") {
        auto deleted = delete_canned_reply(db, tenant, id);
        if (!deleted) return ex.send_error(deleted.error());
        return ex.send(204, "application/json", "");
    }
    auto body = json_object_body(ex);
    if (!body) return;
    CannedReply reply = **found;
    if (!canned_fields(ex, *who, *body, reply)) return;
    reply.updated_at = std::chrono::time_point_cast<std::chrono::milliseconds>(routes.engine.now());
    if (auto saved = save_canned_reply(db, reply, false); !saved) return ex.send_error(saved.error());
    ex.send_json(200, to_json(reply));
}

}  // namespace

bool Routes::agents_route(Exchange& ex, const std::string& tenant, std::string_view rest) {
    enum class Kind { session, agents, agent, assignee, notes, note, canned, canned_one } kind;
    std::string id, note_id;
    constexpr std::string_view kAgents = "/agents";
    constexpr std::string_view kCanned = "/canned-replies";
    constexpr std::string_view kConversations = "/conversations/";
    if (rest == "/session") {
        kind = Kind::session;
        ex.route = "/v1/tenants/{tenant}/session";
    } else if (rest == kAgents) {
        kind = Kind::agents;
        ex.route = "/v1/tenants/{tenant}/agents";
    } else if (rest.starts_with("/agents/") && rest.find('/', kAgents.size() + 1) == std::string_view::npos) {
        kind = Kind::agent;
        id = std::string(rest.substr(kAgents.size() + 1));
        ex.route = "/v1/tenants/{tenant}/agents/{id}";
    } else if (rest == kCanned) {
        kind = Kind::canned;
        ex.route = "/v1/tenants/{tenant}/canned-replies";
    } else if (rest.starts_with("/canned-replies/") &&
               rest.find('/', kCanned.size() + 1) == std::string_view::npos) {
        kind = Kind::canned_one;
        id = std::string(rest.substr(kCanned.size() + 1));
        ex.route = "/v1/tenants/{tenant}/canned-replies/{id}";
    } else if (rest.starts_with(kConversations)) {
        const std::string_view tail = rest.substr(kConversations.size());
        const auto slash = tail.find('/');
        if (slash == std::string_view::npos) return false;
        id = std::string(tail.substr(0, slash));
        const std::string_view action = tail.substr(slash);
        constexpr std::string_view kNotes = "/notes/";
        if (action == "/assignee") {
            kind = Kind::assignee;
            ex.route = "/v1/tenants/{tenant}/conversations/{id}/assignee";
        } else if (action == "/notes") {
            kind = Kind::notes;
            ex.route = "/v1/tenants/{tenant}/conversations/{id}/notes";
        } else if (action.starts_with(kNotes) && action.find('/', kNotes.size()) == std::string_view::npos) {
            kind = Kind::note;
            note_id = std::string(action.substr(kNotes.size()));
            ex.route = "/v1/tenants/{tenant}/conversations/{id}/notes/{note}";
        } else {
            return false;
        }
    } else {
        return false;
    }
    ex.tenant = tenant;
    ex.set_header("Cache-Control", "no-store");
    const std::string& method = ex.request.method;
    switch (kind) {
        case Kind::session:
            if (!allow_methods(ex, {"POST", "DELETE"})) break;
            if (method == "POST") {
                sign_in_route(*this, ex, tenant);
            } else {
                sign_out_route(*this, ex, tenant);
            }
            break;
        case Kind::agents:
            if (!allow_methods(ex, {"GET", "POST"}) || !authorize(ex, tenant, "tenant:admin") ||
                !known_tenant(*this, ex, tenant))
                break;
            if (method == "GET") {
                list_agents_route(*this, ex, tenant);
            } else {
                create_agent_route(*this, ex, tenant);
            }
            break;
        case Kind::agent:
            if (allow_methods(ex, {"PATCH", "DELETE"})) change_agent_route(*this, ex, tenant, id);
            break;
        case Kind::assignee:
            if (allow_methods(ex, {"PUT"})) assignee_route(*this, ex, tenant, id);
            break;
        case Kind::notes:
            if (allow_methods(ex, {"GET", "POST"})) notes_route(*this, ex, tenant, id);
            break;
        case Kind::note:
            if (allow_methods(ex, {"DELETE"})) delete_note_route(*this, ex, tenant, id, note_id);
            break;
        case Kind::canned:
            if (allow_methods(ex, {"GET", "POST"})) canned_replies_route(*this, ex, tenant);
            break;
        case Kind::canned_one:
            if (allow_methods(ex, {"PUT", "DELETE"})) canned_reply_route(*this, ex, tenant, id);
            break;
    }
    return true;
}

}  // namespace tezgah::engine::http
