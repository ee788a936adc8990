// Operators' keys over real HTTP against `tezgah serve`, on SQLite and PostgreSQL: one table of every
// route that touches tenant data, each called from a non-loopback client (--trusted-proxy 127.0.0.1
// with X-Forwarded-For: 203.0.113.7) with no key, a malformed key, an unknown key, a known key with
// a wrong secret, a revoked key, the other tenant's key and a key without the scope (401/403, and
// nothing of the other tenant in the body), then with the right key (neither 401 nor 403). Also:
// the loopback rule, the audit log (recorded, read, paged, kept over a clean stop), keys' last use,
// and that no key ever reaches the server's log.
//
// The scope each operator route needs (DESIGN "Operators"). A route added on another branch adds
// its row to operator_routes() below, one line each:
//   chat:write           POST /v1/tenants/{tenant}/chat, POST /webhook (off loopback only)
//   ops:read             GET /metrics, GET /health/detailed (off loopback only), GET /v1/audit
//                        (an all-tenants key)
//   tenant:admin         GET /v1/tenants/{tenant}/audit
//   conversations:read   GET /v1/tenants/{tenant}/conversations, /conversations/{id}, /tickets,
//                        /events
//   conversations:write  POST /conversations/{id}/takeover, /conversations/{id}/messages,
//                        /conversations/{id}/release; PATCH /tickets/{id}
//   catalog:write        PATCH /offerings/{id}; PUT /admin/products/{id}/{product_id};
//                        POST /admin/cache/invalidate/{id}, /admin/cache/invalidate-product/{id}/{pid}
//   knowledge:write      PUT /info/{key}; PUT|DELETE /knowledge/{id}; PUT /admin/business/{id}/meta
//   analytics:read       GET /analytics; GET /stats/{id}; GET /admin/cache/stats/{id}
//   appointments:read    GET /availability, GET /appointments, GET /appointments/{id}
//   appointments:write   POST /appointments; PATCH|DELETE /appointments/{id}
//   calendar:read (or appointments:read)   GET /calendar.ics (a key in its URL: calendar:read alone;
//                        tests/appointments_ops/calendar_test.cpp)
//   tenant:admin         GET|POST /agents, PATCH|DELETE /agents/{id} (an agent's own name and password
//                        without it: tests/console)
//   conversations:write  PUT /conversations/{id}/assignee, POST /conversations/{id}/notes,
//                        POST /canned-replies; DELETE /conversations/{id}/notes/{note} and
//                        PUT|DELETE /canned-replies/{id} (or tenant:admin; the author or owner, else 403)
//   conversations:read   GET /conversations/{id}/notes, GET /canned-replies
// Not in the table, because a key is not what they check: POST /v1/tenants/{tenant}/session (signing
// in: anyone, with an e-mail and password), DELETE /v1/tenants/{tenant}/session (the session's
// cookie only) and GET /v1/session (any valid key or session, whatever its tenant or scopes); they
// are tested with agents' sessions in tests/console/console_api_test.cpp.
//   any scope            GET /v1/tenants (any key: the tenants it covers), GET /v1/tenants/{tenant},
//                        /offerings, /knowledge, /info (a key of the tenant)
#include "security/security_fixture.hpp"

#include "store/api_keys.hpp"
#include "store/audit_log.hpp"
#include "store/store_fixture.hpp"
#include "support/serve_process.hpp"

#include <tezgah/sdk/random.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

namespace tezgah::testing {
namespace {

using engine::Backend;
using engine::testing::ScratchDatabase;

/// One operator route. `{tenant}` in the path or body stands for the tenant under test; a path
/// without it is process-wide (only an all-tenants key may use it), unless `tenant_in_body`.
struct OperatorRoute {
    std::string method;
    std::string path;
    std::string scope;
    std::string body = "";
    /// With the right key: 0 for any 2xx; 404 where the row names an id that does not exist (the
    /// key passed; the resource is unknown); -1 for an event stream, not called with the right key
    /// here (it never ends; tests/handoff reads it with one).
    int right_status = 0;
    /// Another scope that opens the route too (GET /calendar.ics: appointments:read): the key
    /// "without the scope" lacks this one as well.
    std::string also = "";
    /// A route without {tenant} that any key may use, answering with what the key covers (GET
    /// /v1/tenants): a tenant's key is its right key, and no key of a tenant is refused.
    bool any_tenant = false;
};

/// The scopes of a key that may use `route`: its scope, or one unrelated scope when the route
/// needs none in particular.
std::vector<std::string> scopes_for(const OperatorRoute& route) {
    return route.scope.empty() ? std::vector<std::string>{"chat:write"}
                               : std::vector<std::string>{route.scope};
}

const std::vector<OperatorRoute>& operator_routes() {
    static const std::vector<OperatorRoute> rows = {
        {"POST", "/v1/tenants/{tenant}/chat", "chat:write",
         R"({"text": "merhaba", "user_id": "auth-probe"})"},
        {"POST", "/webhook", "chat:write",
         R"({"mesaj_metni": "merhaba", "kullanici_id": "auth-probe", "isletme_id": "{tenant}"})"},
        {"GET", "/v1/tenants/{tenant}/audit", "tenant:admin"},
        {"GET", "/v1/audit", "ops:read"},
        {"GET", "/metrics", "ops:read"},
        {"GET", "/health/detailed", "ops:read"},
        {"GET", "/v1/tenants/{tenant}/conversations", "conversations:read"},
        {"GET", "/v1/tenants/{tenant}/conversations/c-no-such", "conversations:read", "", 404},
        {"POST", "/v1/tenants/{tenant}/conversations/c-no-such/takeover", "conversations:write", "{}", 404},
        {"POST", "/v1/tenants/{tenant}/conversations/c-no-such/messages", "conversations:write",
         R"({"text": "merhaba"})", 404},
        {"POST", "/v1/tenants/{tenant}/conversations/c-no-such/release", "conversations:write", "{}", 404},
        {"GET", "/v1/tenants/{tenant}/tickets", "conversations:read"},
        {"PATCH", "/v1/tenants/{tenant}/tickets/t-no-such", "conversations:write",
         R"({"status": "resolved"})", 404},
        {"GET", "/v1/tenants/{tenant}/events", "conversations:read", "", -1},
        {"GET", "/v1/tenants/{tenant}/notices", "conversations:read"},
        {"PATCH", "/v1/tenants/{tenant}/offerings/no-such-offering", "catalog:write", R"({"price": 10})",
         404},
        {"PUT", "/v1/tenants/{tenant}/info/auth-probe", "knowledge:write", R"({"text": "deneme"})"},
        {"PUT", "/v1/tenants/{tenant}/knowledge/auth-probe", "knowledge:write",
         R"({"question": "Deneme?", "answer": "Deneme.", "category": "genel", "keywords": ["deneme"]})"},
        {"DELETE", "/v1/tenants/{tenant}/knowledge/no-such-entry", "knowledge:write", "", 404},
        {"GET", "/v1/tenants/{tenant}/analytics", "analytics:read"},
        // The fixture tenants do not enable appointments: a booking service's route is 404 there.
        {"GET", "/v1/tenants/{tenant}/availability?service=reformer&date=2026-12-03", "appointments:read", "",
         404},
        {"GET", "/v1/tenants/{tenant}/appointments", "appointments:read"},
        {"GET", "/v1/tenants/{tenant}/appointments/apt-no-such", "appointments:read", "", 404},
        {"POST", "/v1/tenants/{tenant}/appointments", "appointments:write",
         R"({"service": "reformer", "date": "2026-12-03", "time": "10:00", "customer_name": "A", "customer_phone": "1"})",
         404},
        {"PATCH", "/v1/tenants/{tenant}/appointments/apt-no-such", "appointments:write", R"({"notes": "x"})",
         404},
        {"DELETE", "/v1/tenants/{tenant}/appointments/apt-no-such", "appointments:write", "", 404},
        {"POST", "/admin/cache/invalidate/{tenant}", "catalog:write", "{}"},
        {"POST", "/admin/cache/invalidate-product/{tenant}/no-such-offering", "catalog:write", "{}", 404},
        {"GET", "/admin/cache/stats/{tenant}", "analytics:read"},
        {"PUT", "/admin/products/{tenant}/no-such-offering", "catalog:write",
         R"({"price": 10, "stock_quantity": 1})", 404},
        {"PUT", "/admin/business/{tenant}/meta", "knowledge:write",
         R"({"info_type": "auth-probe", "new_value": "deneme"})"},
        {"GET", "/stats/{tenant}", "analytics:read"},
        {"GET", "/v1/tenants/{tenant}/calendar.ics", "calendar:read", "", 0, "appointments:read"},
        {"GET", "/v1/tenants/{tenant}/agents", "tenant:admin"},
        {"POST", "/v1/tenants/{tenant}/agents", "tenant:admin",
         R"({"name": "Probe", "email": "probe@example.com", "password": "0123456789"})"},
        {"PATCH", "/v1/tenants/{tenant}/agents/ag_no_such", "tenant:admin", R"({"name": "Probe"})", 404},
        {"DELETE", "/v1/tenants/{tenant}/agents/ag_no_such", "tenant:admin", "", 404},
        {"PUT", "/v1/tenants/{tenant}/conversations/c-no-such/assignee", "conversations:write",
         R"({"agent_id": null})", 404},
        {"GET", "/v1/tenants/{tenant}/conversations/c-no-such/notes", "conversations:read", "", 404},
        {"POST", "/v1/tenants/{tenant}/conversations/c-no-such/notes", "conversations:write",
         R"({"text": "x"})", 404},
        {"DELETE", "/v1/tenants/{tenant}/conversations/c-no-such/notes/no_no_such", "conversations:write", "",
         404, "tenant:admin"},
        {"GET", "/v1/tenants/{tenant}/canned-replies", "conversations:read"},
        {"POST", "/v1/tenants/{tenant}/canned-replies", "conversations:write",
         R"({"title": "T", "text": "X"})"},
        {"PUT", "/v1/tenants/{tenant}/canned-replies/cr_no_such", "conversations:write",
         R"({"title": "T", "text": "X"})", 404, "tenant:admin"},
        {"DELETE", "/v1/tenants/{tenant}/canned-replies/cr_no_such", "conversations:write", "", 404,
         "tenant:admin"},
        // The console's reads of a tenant: a key of the tenant, whatever its scopes.
        {"GET", "/v1/tenants", "", "", 0, "", true},
        {"GET", "/v1/tenants/{tenant}", ""},
        {"GET", "/v1/tenants/{tenant}/offerings", ""},
        {"GET", "/v1/tenants/{tenant}/knowledge", ""},
        {"GET", "/v1/tenants/{tenant}/info", ""},
    };
    return rows;
}

constexpr const char* kRemote = "203.0.113.7";

/// What would give a tenant away: its id, its name, names from its catalog and staff.
const std::map<std::string, std::vector<std::string>>& markers() {
    static const std::map<std::string, std::vector<std::string>> m = {
        {"gece-butik", {"gece-butik", "Gece Butik", "Saten Gecelik", "Pamuklu Uzun Gecelik"}},
        {"nefes-studyo", {"nefes-studyo", "Nefes Pilates", "Reformer Pilates", "Ayşe Demir", "Hatha Yoga"}},
    };
    return m;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

bool process_wide(const OperatorRoute& route) {
    return route.path.find("{tenant}") == std::string::npos &&
           route.body.find("{tenant}") == std::string::npos && !route.any_tenant;
}

class OperatorAuth : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        copy_fixtures(dir.path() / "tenants");
        scratch = std::make_unique<ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
    }
    void TearDown() override {
        serve.reset();
        scratch.reset();
    }

    /// A key made in the database the server will use (as `tezgah keys create` would).
    std::string make_key(const std::string& tenant, const std::vector<std::string>& scopes,
                         const std::string& name = "test") {
        auto db = engine::Database::open(scratch->url());
        EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
        if (!db) return "";
        auto made = engine::create_api_key(**db, name, tenant, scopes, std::chrono::system_clock::now());
        EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
        if (!made) return "";
        ids[made->secret] = made->key.id;
        return made->secret;
    }
    void revoke(const std::string& key) {
        auto db = engine::Database::open(scratch->url());
        ASSERT_TRUE(db.ok());
        auto revoked = engine::revoke_api_key(**db, ids.at(key), std::chrono::system_clock::now());
        ASSERT_TRUE(revoked.ok() && *revoked);
    }

    void start(const std::vector<std::string>& more = {}) {
        std::vector<std::string> args = {"--db", scratch->url(), "--trusted-proxy", "127.0.0.1"};
        args.insert(args.end(), more.begin(), more.end());
        serve = std::make_unique<ServeProcess>(dir.path(), "127.0.0.1:0", args);
        port = port_of(serve->ready_line());
        ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");
    }
    /// Stops the server cleanly (SIGTERM), as an operator would.
    void stop() {
        serve->signal(SIGTERM);
        EXPECT_EQ(serve->wait(), 0);
    }

    /// A request from the "remote" client (behind the trusted proxy), with `key` when not empty.
    HttpReply call(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& key, bool remote = true) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (remote) headers.emplace_back("X-Forwarded-For", kRemote);
        if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
        return http_request(port, method, path, method == "GET" ? "" : body, headers);
    }

    static std::vector<std::string> all_scopes_but(const std::string& scope, const std::string& also = "") {
        std::vector<std::string> out;
        for (const auto& s : engine::api_key_scopes())
            if (s != scope && s != also) out.push_back(s);
        return out;
    }

    TempDir dir;
    std::unique_ptr<ScratchDatabase> scratch;
    std::unique_ptr<ServeProcess> serve;
    std::uint16_t port = 0;
    std::map<std::string, std::string> ids;  ///< key -> its id
};
TEZGAH_STORE_BACKENDS(OperatorAuth);

/// The contract's error body, with the code expected.
void expect_error_body(const HttpReply& reply, const std::string& code) {
    const auto body = reply.json();
    ASSERT_TRUE(body.is_object() && body.as_object().contains("error")) << reply.body;
    const auto& error = body.at("error").as_object();
    EXPECT_EQ(error.at("code").as_string(), code) << reply.body;
    EXPECT_TRUE(error.contains("message") && error.contains("request_id")) << reply.body;
}

TEST_P(OperatorAuth, EveryOperatorRouteRefusesWhatMayNotUseItAndAcceptsTheRightKey) {
    const std::vector<std::string> tenants = {"gece-butik", "nefes-studyo"};
    // Keys of every kind, made before the server starts.
    std::map<std::string, std::string> every_scope;  // tenant -> a key with every scope
    std::map<std::string, std::string> revoked;      // tenant -> a revoked key with every scope
    for (const auto& t : tenants) {
        every_scope[t] = make_key(t, engine::api_key_scopes());
        revoked[t] = make_key(t, engine::api_key_scopes());
        revoke(revoked[t]);
    }
    std::map<std::pair<std::string, std::string>, std::string> only, without;  // (tenant or "*", scope)
    for (const auto& route : operator_routes()) {
        for (const std::string t : {"gece-butik", "nefes-studyo", ""}) {
            const std::string who = t.empty() ? "*" : t;
            if (!only.count({who, route.scope})) only[{who, route.scope}] = make_key(t, scopes_for(route));
            if (route.scope.empty()) continue;  // every key has "any scope"
            if (!without.count({who, route.scope + route.also}))
                without[{who, route.scope + route.also}] =
                    make_key(t, all_scopes_but(route.scope, route.also));
        }
    }
    start();
    const std::string unknown = "tzk_" + sdk::random_hex(8) + "_" + sdk::random_hex(32);
    const std::string& known = every_scope["gece-butik"];
    const std::string wrong_secret = known.substr(0, 21) + sdk::random_hex(32);

    for (const auto& route : operator_routes()) {
        for (const auto& tenant : tenants) {
            const std::string other = tenant == tenants[0] ? tenants[1] : tenants[0];
            const std::string path = replace_all(route.path, "{tenant}", tenant);
            const std::string body = replace_all(route.body, "{tenant}", tenant);
            const bool wide = process_wide(route);
            SCOPED_TRACE(route.method + " " + path + " (" + route.scope + ")");

            struct Refusal {
                std::string what;
                std::string key;
                int status;
            };
            std::vector<Refusal> refusals = {
                {"no key", "", 401},
                {"a malformed key", "not-a-key", 401},
                {"an unknown key", unknown, 401},
                {"a known key id with a wrong secret", wrong_secret, 401},
                {"a revoked key", revoked[tenant], 401},
                {"the other tenant's key", every_scope[other], 403},
            };
            if (!route.scope.empty())
                refusals.push_back({"a key without the scope",
                                    without[{wide ? "*" : tenant, route.scope + route.also}], 403});
            if (route.any_tenant) std::erase_if(refusals, [](const Refusal& r) { return r.status == 403; });
            if (wide) refusals.push_back({"a tenant's key with the scope", only[{tenant, route.scope}], 403});
            for (const auto& r : refusals) {
                SCOPED_TRACE(r.what);
                auto reply = call(route.method, path, body, r.key);
                EXPECT_EQ(reply.status, r.status) << reply.body;
                expect_error_body(reply, r.status == 401 ? "unauthorized" : "forbidden");
                if (r.status == 401) {
                    EXPECT_EQ(reply.header("www-authenticate"), "Bearer");
                }
                for (const auto& marker : markers().at(other))
                    EXPECT_EQ(reply.body.find(marker), std::string::npos) << marker << " in " << reply.body;
            }
            // The right key: a key with only that scope, for this tenant (every tenant for a
            // process-wide route).
            if (route.right_status < 0) continue;
            auto reply = call(route.method, path, body, only[{wide ? "*" : tenant, route.scope}]);
            EXPECT_NE(reply.status, 401) << reply.body;
            EXPECT_NE(reply.status, 403) << reply.body;
            if (route.right_status == 0) {
                EXPECT_LT(reply.status, 300) << reply.body;
            } else {
                EXPECT_EQ(reply.status, route.right_status) << reply.body;
            }
            if (!wide) {
                for (const auto& marker : markers().at(other))
                    EXPECT_EQ(reply.body.find(marker), std::string::npos) << marker << " in " << reply.body;
            }
        }
    }
}

TEST_P(OperatorAuth, LoopbackClientsNeedNoKeyForChatWebhookMetricsAndHealthButAKeySentIsChecked) {
    const std::string key = make_key("gece-butik", {"chat:write"});
    start();
    EXPECT_EQ(call("GET", "/metrics", "", "", false).status, 200);
    EXPECT_EQ(call("GET", "/health/detailed", "", "", false).status, 200);
    EXPECT_EQ(call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "local"), "", false).status,
              200);
    EXPECT_EQ(
        call("POST", "/webhook",
             R"({"mesaj_metni": "merhaba", "kullanici_id": "local", "isletme_id": "gece-butik"})", "", false)
            .status,
        200);
    // The audit routes need a key from anywhere.
    EXPECT_EQ(call("GET", "/v1/audit", "", "", false).status, 401);
    EXPECT_EQ(call("GET", "/v1/tenants/gece-butik/audit", "", "", false).status, 401);
    // A key presented on loopback is checked like any other.
    const std::string bogus = "tzk_" + sdk::random_hex(8) + "_" + sdk::random_hex(32);
    EXPECT_EQ(call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "local"), bogus, false).status,
              401);
    EXPECT_EQ(call("POST", "/v1/tenants/nefes-studyo/chat", chat_body("merhaba", "local"), key, false).status,
              403);
    EXPECT_EQ(call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "local"), key, false).status,
              200);
    // The health check for load balancers stays open.
    EXPECT_EQ(call("GET", "/health", "", "").status, 200);
}

TEST_P(OperatorAuth, KeyedRequestsAreAuditedReadableByOperatorsPagedAndKeptOverACleanStop) {
    const std::string shop = make_key("gece-butik", {"chat:write", "tenant:admin"}, "shop");
    const std::string studio = make_key("nefes-studyo", {"chat:write", "tenant:admin"}, "studio");
    const std::string ops = make_key("", {"ops:read"}, "ops");
    const std::string gone = make_key("gece-butik", {"chat:write"}, "gone");
    revoke(gone);
    start();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(
            call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "a" + std::to_string(i)), shop)
                .status,
            200);
    EXPECT_EQ(call("POST", "/v1/tenants/nefes-studyo/chat", chat_body("merhaba", "b"), studio).status, 200);
    EXPECT_EQ(call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "c"), gone).status, 401);
    EXPECT_EQ(call("POST", "/v1/tenants/nefes-studyo/chat", chat_body("merhaba", "d"), shop).status, 403);
    // Unkeyed requests (loopback) are not audited.
    EXPECT_EQ(call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "e"), "", false).status, 200);

    auto all = call("GET", "/v1/audit?limit=100", "", ops);
    ASSERT_EQ(all.status, 200) << all.body;
    const auto all_body = all.json();
    const auto& entries = all_body.at("entries").as_array();
    ASSERT_EQ(entries.size(), 6u) << all.body;  // 3 + 1 + the revoked key + the 403
    // Newest first by id. An entry is recorded once its answer is sent, so requests answered within
    // a moment of each other may be recorded in either order: the refusals are found by key.
    auto find = [&](const std::string& key_id, std::int64_t status) -> const json::object* {
        for (const auto& e : entries)
            if (e.at("key_id").as_string() == key_id && e.at("status").as_int64() == status)
                return &e.as_object();
        return nullptr;
    };
    const json::object* forbidden_entry = find(ids[shop], 403);
    const json::object* refused_entry = find(ids[gone], 401);
    ASSERT_NE(forbidden_entry, nullptr) << all.body;
    ASSERT_NE(refused_entry, nullptr) << all.body;
    const auto& forbidden = *forbidden_entry;
    const auto& refused = *refused_entry;
    EXPECT_EQ(forbidden.at("key_id").as_string(), ids[shop]);
    EXPECT_EQ(forbidden.at("route").as_string(), "/v1/tenants/{tenant}/chat");
    EXPECT_EQ(forbidden.at("tenant").as_string(), "nefes-studyo");
    EXPECT_EQ(forbidden.at("status").as_int64(), 403);
    EXPECT_EQ(forbidden.at("method").as_string(), "POST");
    EXPECT_EQ(forbidden.at("client").as_string(), kRemote);
    EXPECT_FALSE(forbidden.at("request_id").as_string().empty());
    EXPECT_FALSE(forbidden.at("at").as_string().empty());
    EXPECT_EQ(refused.at("key_id").as_string(), ids[gone]);  // refused, but the key is known
    EXPECT_EQ(refused.at("status").as_int64(), 401);
    for (std::size_t i = 1; i < entries.size(); ++i)
        EXPECT_LT(entries[i].at("id").as_int64(), entries[i - 1].at("id").as_int64());
    EXPECT_TRUE(all_body.at("next").is_null());

    // Filters; and a tenant reads only its own tenant's entries.
    auto by_key = call("GET", "/v1/audit?key=" + ids[studio], "", ops);
    ASSERT_EQ(by_key.status, 200);
    EXPECT_EQ(by_key.json().at("entries").as_array().size(), 1u) << by_key.body;
    auto own = call("GET", "/v1/tenants/nefes-studyo/audit", "", studio);
    ASSERT_EQ(own.status, 200) << own.body;
    EXPECT_EQ(own.json().at("entries").as_array().size(), 2u) << own.body;  // its chat, and the 403 on it
    const auto own_body = own.json();
    for (const auto& e : own_body.at("entries").as_array())
        EXPECT_EQ(e.at("tenant").as_string(), "nefes-studyo");
    EXPECT_EQ(own.body.find("gece-butik"), std::string::npos) << own.body;

    // Pages of two, newest first, each entry once.
    std::set<std::int64_t> seen;
    std::string cursor;
    int pages = 0;
    for (;;) {
        ++pages;
        auto page =
            call("GET", "/v1/tenants/gece-butik/audit?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor),
                 "", shop);
        ASSERT_EQ(page.status, 200) << page.body;
        std::int64_t last = std::numeric_limits<std::int64_t>::max();
        const auto page_body = page.json();
        for (const auto& e : page_body.at("entries").as_array()) {
            EXPECT_LT(e.at("id").as_int64(), last);
            last = e.at("id").as_int64();
            EXPECT_TRUE(seen.insert(last).second);
        }
        if (page_body.at("next").is_null()) break;
        cursor = std::string(page_body.at("next").as_string());
        ASSERT_LT(pages, 10);
    }
    // gece-butik: 3 chats + the revoked key's refusal + the audit reads before each page.
    EXPECT_GE(seen.size(), 4u);
    EXPECT_GE(pages, 2);

    // Bad parameters are named.
    auto bad = call("GET", "/v1/audit?limit=0", "", ops);
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("limit"), std::string::npos) << bad.body;
    bad = call("GET", "/v1/audit?key=zz", "", ops);
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("key"), std::string::npos) << bad.body;
    bad = call("GET", "/v1/audit?colour=red", "", ops);
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("colour"), std::string::npos) << bad.body;

    // Right before a clean stop: still stored, as is every key's last use.
    for (int i = 0; i < 5; ++i)
        call("POST", "/v1/tenants/gece-butik/chat", chat_body("son", "z" + std::to_string(i)), shop);
    stop();
    auto db = engine::Database::open(scratch->url());
    ASSERT_TRUE(db.ok());
    engine::AuditQuery query;
    query.key_id = ids[shop];
    query.limit = 1000;
    auto stored = engine::read_audit(**db, query);
    ASSERT_TRUE(stored.ok());
    int chats = 0;
    for (const auto& e : stored->entries) chats += e.route == "/v1/tenants/{tenant}/chat" && e.status == 200;
    EXPECT_EQ(chats, 8);
    auto keys = engine::list_api_keys(**db);
    ASSERT_TRUE(keys.ok());
    for (const auto& k : *keys) {
        if (k.id == ids[shop] || k.id == ids[studio] || k.id == ids[ops]) {
            EXPECT_NE(k.last_used_at.time_since_epoch().count(), 0) << k.name;
        }
        if (k.id == ids[gone]) {
            EXPECT_EQ(k.last_used_at.time_since_epoch().count(), 0);  // refused: not "used"
        }
    }
}

TEST_P(OperatorAuth, NoKeyEverReachesTheServersLog) {
    const std::string key = make_key("gece-butik", {"chat:write", "tenant:admin"});
    const std::string ops = make_key("", {"ops:read"});
    const std::string gone = make_key("gece-butik", {"chat:write"});
    revoke(gone);
    const std::string calendar = make_key("gece-butik", {"calendar:read"});
    start({"--log-level", "debug"});
    // Keys in a URL: the calendar feed's own, and one refused there for having more scopes.
    call("GET", "/v1/tenants/gece-butik/calendar.ics?key=" + calendar, "", "");
    call("GET", "/v1/tenants/gece-butik/calendar.ics?key=" + key, "", "");
    call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "u1"), key);
    call("POST", "/v1/tenants/nefes-studyo/chat", chat_body("merhaba", "u1"), key);
    call("POST", "/v1/tenants/gece-butik/chat", chat_body("merhaba", "u1"), gone);
    call("GET", "/v1/tenants/gece-butik/audit", "", key);
    call("GET", "/metrics", "", ops);
    call("GET", "/v1/audit", "", ops);
    call("POST", "/webhook",
         R"({"mesaj_metni": "merhaba", "kullanici_id": "u2", "isletme_id": "gece-butik"})", key);
    stop();
    const std::string log = slurp(dir.path() / "serve.log");
    ASSERT_NE(log.find("/v1/tenants/{tenant}/chat"), std::string::npos) << "the access log was not written";
    ASSERT_NE(log.find("/v1/tenants/{tenant}/calendar.ics"), std::string::npos);
    for (const auto& k : {key, ops, gone, calendar}) {
        EXPECT_EQ(log.find(k), std::string::npos) << "a key in the log";
        EXPECT_EQ(log.find(k.substr(21)), std::string::npos) << "a key's secret in the log";
    }
    EXPECT_EQ(lower(log).find("bearer"), std::string::npos);
}

}  // namespace
}  // namespace tezgah::testing
