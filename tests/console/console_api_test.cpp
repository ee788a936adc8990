// The console's staff over real HTTP against `tezgah serve` (a fixed --clock, behind a trusted
// proxy on loopback), on SQLite and PostgreSQL: sign-in and its cookie, the CSRF token and Origin
// of every unsafe request made with the cookie, a session's tenant and role, its expiry, a
// password change, the last owner, assignment, notes and canned replies with their events, and the
// audit log's `agent:<id>`.
#include "http/event_reader.hpp"
#include "http/http_fixture.hpp"
#include "store/agents.hpp"
#include "store/api_keys.hpp"
#include "store/store_fixture.hpp"
#include "support/serve_process.hpp"

#include <Poco/Net/StreamSocket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <regex>
#include <thread>

namespace tezgah::testing {
namespace {

using engine::Backend;
using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kClock = "2026-12-01T10:00:00+03:00";
const std::string kShop = "/v1/tenants/gece-butik";
constexpr const char* kPassword = "correct horse 1";

bool eventually(const std::function<bool()>& check, std::chrono::milliseconds within = 10s) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
        if (check()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return check();
}

/// A signed-in agent as a browser holds it: the cookie's token and the CSRF token.
struct Session {
    std::string token;
    std::string csrf;
    std::string agent_id;
    Headers cookie() const { return {{"Cookie", "theme=dark; tezgah_session=" + token}}; }
    /// The cookie and the CSRF token, as the console sends them on an unsafe request.
    Headers unsafe() const {
        auto h = cookie();
        h.emplace_back("X-CSRF-Token", csrf);
        return h;
    }
};

class ConsoleApi : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        copy_fixtures(dir.path() / "tenants");
        auto opened = engine::Database::open(scratch->url());
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        db = std::move(opened).value();
        owner = agent("Ayşe Owner", "owner@gece.example", engine::kRoleOwner);
        clerk = agent("Mehmet Clerk", "mehmet@gece.example", engine::kRoleAgent);
        other_clerk = agent("Zeynep Clerk", "zeynep@gece.example", engine::kRoleAgent);
        studio_owner = agent("Nefes Owner", "owner@nefes.example", engine::kRoleOwner, "nefes-studyo");
        auto made = engine::create_api_key(*db, "console test", "gece-butik",
                                           {"conversations:read", "conversations:write", "tenant:admin"},
                                           std::chrono::system_clock::now());
        ASSERT_TRUE(made.ok());
        key = made->secret;
        key_id = made->key.id;
        serve =
            std::make_unique<ServeProcess>(dir.path(), "127.0.0.1:0",
                                           std::vector<std::string>{"--db", scratch->url(), "--clock", kClock,
                                                                    "--trusted-proxy", "127.0.0.1"});
        port = port_of(serve->ready_line());
        ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
    }
    void TearDown() override {
        serve.reset();
        db.reset();
        scratch.reset();
    }

    std::string agent(const std::string& name, const std::string& email, const std::string& role,
                      const std::string& tenant = "gece-butik") {
        auto made = engine::create_agent(*db, {tenant, name, email, kPassword, role},
                                         std::chrono::system_clock::now());
        EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
        return made.ok() ? made->id : "";
    }

    HttpReply call(const std::string& method, const std::string& path, const std::string& body = "",
                   const Headers& headers = {}) {
        return http_request(port, method, path, body, headers);
    }
    HttpReply keyed(const std::string& method, const std::string& path, const std::string& body = "") {
        return call(method, path, body, {{"Authorization", "Bearer " + key}});
    }
    HttpReply sign_in_reply(const std::string& email, const std::string& password,
                            const std::string& tenant = "gece-butik", const Headers& headers = {}) {
        return call("POST", "/v1/tenants/" + tenant + "/session",
                    json::serialize(json::object{{"email", email}, {"password", password}}), headers);
    }
    Session sign_in(const std::string& email, const std::string& tenant = "gece-butik",
                    const std::string& password = kPassword) {
        auto reply = sign_in_reply(email, password, tenant);
        EXPECT_EQ(reply.status, 200) << reply.body;
        Session s;
        std::smatch m;
        const std::string cookie = reply.header("set-cookie");
        if (std::regex_search(cookie, m, std::regex("^tezgah_session=([0-9a-f]{64});"))) s.token = m[1];
        EXPECT_FALSE(s.token.empty()) << cookie;
        const auto body = reply.json();
        if (body.is_object()) {
            s.csrf = std::string(body.at("csrf_token").as_string());
            s.agent_id = std::string(body.at("agent").at("id").as_string());
        }
        return s;
    }
    std::size_t agent_count() {
        auto listed = engine::list_agents(*db, "gece-butik");
        return listed.ok() ? listed->size() : 0;
    }
    /// A conversation of the shop, started by a customer on the chat API (loopback, no key).
    std::string conversation(const std::string& user = "customer-1") {
        auto reply = call("POST", kShop + "/chat", chat_body("merhaba", user));
        EXPECT_EQ(reply.status, 200) << reply.body;
        return reply.status == 200 ? std::string(reply.json().at("conversation_id").as_string()) : "";
    }

    TempDir dir;
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
    std::unique_ptr<engine::Database> db;
    std::unique_ptr<ServeProcess> serve;
    std::uint16_t port = 0;
    std::string owner, clerk, other_clerk, studio_owner, key, key_id;
};
TEZGAH_STORE_BACKENDS(ConsoleApi);

TEST_P(ConsoleApi, SignInSetsAStrictHttpOnlyCookieAndRefusesWrongUnknownAndDisabledAlike) {
    auto reply = sign_in_reply("MEHMET@gece.example", kPassword);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const std::string cookie = reply.header("set-cookie");
    EXPECT_TRUE(std::regex_match(
        cookie, std::regex("tezgah_session=[0-9a-f]{64}; Path=/; Max-Age=604800; HttpOnly; SameSite=Strict")))
        << cookie;
    EXPECT_EQ(reply.header("cache-control"), "no-store");
    const auto body = reply.json();
    EXPECT_EQ(body.at("agent").at("id").as_string(), clerk);
    EXPECT_EQ(body.at("agent").at("role").as_string(), "agent");
    EXPECT_FALSE(body.at("agent").as_object().contains("password_hash"));
    EXPECT_EQ(reply.body.find("argon2"), std::string::npos);
    EXPECT_EQ(body.at("tenant").as_string(), "gece-butik");
    EXPECT_EQ(
        json::serialize(body.at("scopes")),
        R"(["conversations:read","conversations:write","appointments:read","appointments:write","calendar:read"])");
    EXPECT_EQ(body.at("csrf_token").as_string().size(), 64u);
    // 12 hours after now, on the server's clock.
    EXPECT_EQ(body.at("expires_at").as_int64() / 1000 / 60, (1796108400000LL + 12 * 3600 * 1000) / 1000 / 60);

    // Through a trusted proxy that says the client used HTTPS, the cookie is Secure too.
    auto secure =
        sign_in_reply("mehmet@gece.example", kPassword, "gece-butik", {{"X-Forwarded-Proto", "https"}});
    ASSERT_EQ(secure.status, 200);
    EXPECT_TRUE(secure.header("set-cookie").ends_with("; HttpOnly; SameSite=Strict; Secure"))
        << secure.header("set-cookie");

    // A wrong password, an unknown e-mail, another tenant, a disabled agent: one answer.
    engine::AgentPatch off;
    off.disabled = true;
    ASSERT_TRUE(
        engine::update_agent(*db, "gece-butik", other_clerk, off, std::chrono::system_clock::now()).ok());
    std::string message;
    for (const auto& [email, password, tenant] :
         std::vector<std::array<std::string, 3>>{{"mehmet@gece.example", "wrong password", "gece-butik"},
                                                 {"nobody@gece.example", kPassword, "gece-butik"},
                                                 {"mehmet@gece.example", kPassword, "nefes-studyo"},
                                                 {"zeynep@gece.example", kPassword, "gece-butik"}}) {
        auto refused = sign_in_reply(email, password, tenant);
        EXPECT_EQ(refused.status, 401) << email << ": " << refused.body;
        EXPECT_EQ(refused.error_code(), "invalid_credentials");
        EXPECT_TRUE(refused.header("set-cookie").empty());
        const std::string said(refused.json().at("error").at("message").as_string());
        if (message.empty()) message = said;
        EXPECT_EQ(said, message);
    }
    // Bad bodies are named.
    auto missing = call("POST", kShop + "/session", R"({"email": "mehmet@gece.example"})");
    EXPECT_EQ(missing.status, 400);
    EXPECT_NE(missing.body.find("password: required"), std::string::npos) << missing.body;
    EXPECT_EQ(
        call("POST", "/v1/tenants/no-such-shop/session", R"({"email": "a@b.c", "password": "0123456789"})")
            .status,
        404);

    // Ten failures for one e-mail within 15 minutes: then 429 with Retry-After, even the right password.
    for (int i = 1; i < engine::kSignInFailures; ++i)
        EXPECT_EQ(sign_in_reply("mehmet@gece.example", "wrong password").status, 401);
    auto limited = sign_in_reply("mehmet@gece.example", kPassword);
    EXPECT_EQ(limited.status, 429) << limited.body;
    EXPECT_EQ(limited.error_code(), "rate_limited");
    const int retry = std::atoi(limited.header("retry-after").c_str());
    EXPECT_GT(retry, 800);
    EXPECT_LE(retry, 900);
    // The owner is not held back by the clerk's failures.
    EXPECT_EQ(sign_in_reply("owner@gece.example", kPassword).status, 200);
}

TEST_P(ConsoleApi, GetSessionSaysWhoIsAskingAndSignOutEndsTheSession) {
    const Session s = sign_in("mehmet@gece.example");
    auto me = call("GET", "/v1/session", "", s.cookie());
    ASSERT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(me.json().at("kind").as_string(), "agent");
    EXPECT_EQ(me.json().at("agent").at("name").as_string(), "Mehmet Clerk");
    EXPECT_EQ(me.json().at("csrf_token").as_string(), s.csrf);
    EXPECT_EQ(me.json().at("tenant").as_string(), "gece-butik");

    auto as_key = keyed("GET", "/v1/session");
    ASSERT_EQ(as_key.status, 200) << as_key.body;
    EXPECT_EQ(as_key.json().at("kind").as_string(), "key");
    EXPECT_EQ(as_key.json().at("key").at("id").as_string(), key_id);
    EXPECT_EQ(as_key.json().at("tenant").as_string(), "gece-butik");
    EXPECT_EQ(as_key.json().at("scopes").as_array().size(), 3u);
    EXPECT_FALSE(as_key.json().as_object().contains("csrf_token"));
    EXPECT_EQ(call("GET", "/v1/session").status, 401);
    // A bad key beside a good cookie: the key decides.
    auto both = call("GET", "/v1/session", "",
                     {{"Cookie", "tezgah_session=" + s.token}, {"Authorization", "Bearer x"}});
    EXPECT_EQ(both.status, 401);

    // Signing out needs the CSRF token like any unsafe request.
    EXPECT_EQ(call("DELETE", kShop + "/session", "", s.cookie()).status, 403);
    auto out = call("DELETE", kShop + "/session", "", s.unsafe());
    EXPECT_EQ(out.status, 204) << out.body;
    EXPECT_TRUE(out.header("set-cookie").starts_with("tezgah_session=; Path=/; Max-Age=0;"))
        << out.header("set-cookie");
    auto after = call("GET", "/v1/session", "", s.cookie());
    EXPECT_EQ(after.status, 401);
    EXPECT_TRUE(after.header("set-cookie").starts_with("tezgah_session=; Path=/; Max-Age=0;"));
    EXPECT_EQ(call("GET", kShop + "/conversations", "", s.cookie()).status, 401);
    // Neither the token, the CSRF token nor the password reaches the server's log.
    const std::string log = slurp(dir.path() / "serve.log");
    EXPECT_FALSE(log.empty());
    EXPECT_EQ(log.find(s.token), std::string::npos);
    EXPECT_EQ(log.find(s.csrf), std::string::npos);
    EXPECT_EQ(log.find(kPassword), std::string::npos);
}

TEST_P(ConsoleApi, AnUnsafeRequestWithTheCookieNeedsTheCsrfTokenAndNoForeignOrigin) {
    const Session s = sign_in("owner@gece.example");
    const std::string body = R"({"name": "Deniz", "email": "deniz@gece.example", "password": "0123456789"})";
    const std::size_t before = agent_count();
    const std::string own_origin = "http://127.0.0.1:" + std::to_string(port);

    auto no_token = call("POST", kShop + "/agents", body, s.cookie());
    EXPECT_EQ(no_token.status, 403) << no_token.body;
    EXPECT_EQ(no_token.error_code(), "csrf_failed");
    auto wrong = s.cookie();
    wrong.emplace_back("X-CSRF-Token", std::string(64, 'a'));
    EXPECT_EQ(call("POST", kShop + "/agents", body, wrong).error_code(), "csrf_failed");
    auto foreign = s.unsafe();
    foreign.emplace_back("Origin", "https://evil.example");
    EXPECT_EQ(call("POST", kShop + "/agents", body, foreign).error_code(), "csrf_failed");
    auto null_origin = s.unsafe();
    null_origin.emplace_back("Origin", "null");
    EXPECT_EQ(call("POST", kShop + "/agents", body, null_origin).status, 403);
    // Another session's token does not do either.
    const Session other = sign_in("mehmet@gece.example");
    auto crossed = s.cookie();
    crossed.emplace_back("X-CSRF-Token", other.csrf);
    EXPECT_EQ(call("POST", kShop + "/agents", body, crossed).status, 403);
    EXPECT_EQ(agent_count(), before) << "nothing was made";
    // A foreign page cannot sign a browser in either.
    EXPECT_EQ(
        sign_in_reply("owner@gece.example", kPassword, "gece-butik", {{"Origin", "https://evil.example"}})
            .status,
        403);

    // Reads need no token; the right token with our own origin (or none) passes.
    EXPECT_EQ(call("GET", kShop + "/agents", "", s.cookie()).status, 200);
    auto ours = s.unsafe();
    ours.emplace_back("Origin", own_origin);
    auto made = call("POST", kShop + "/agents", body, ours);
    ASSERT_EQ(made.status, 201) << made.body;
    EXPECT_EQ(made.json().at("email").as_string(), "deniz@gece.example");
    EXPECT_EQ(agent_count(), before + 1);
    // A key has nothing ambient about it: no CSRF token needed.
    auto by_key =
        keyed("POST", kShop + "/agents",
              R"({"name": "Ece", "email": "ece@gece.example", "password": "0123456789", "role": "owner"})");
    EXPECT_EQ(by_key.status, 201) << by_key.body;
}

TEST_P(ConsoleApi, ASessionActsOnItsOwnTenantWithItsRolesScopesAndIsAudited) {
    const Session shop_owner = sign_in("owner@gece.example");
    const Session shop_clerk = sign_in("mehmet@gece.example");
    // Tenant Y with a session of tenant X: 403.
    auto elsewhere = call("GET", "/v1/tenants/nefes-studyo/agents", "", shop_owner.cookie());
    EXPECT_EQ(elsewhere.status, 403) << elsewhere.body;
    EXPECT_EQ(elsewhere.body.find("Nefes Owner"), std::string::npos);
    EXPECT_EQ(call("GET", "/v1/tenants/nefes-studyo/conversations", "", shop_clerk.cookie()).status, 403);
    // An agent lacks tenant:admin; an owner has it.
    EXPECT_EQ(call("GET", kShop + "/agents", "", shop_clerk.cookie()).status, 403);
    auto listed = call("GET", kShop + "/agents", "", shop_owner.cookie());
    ASSERT_EQ(listed.status, 200) << listed.body;
    const auto agents = listed.json().at("agents").as_array();
    ASSERT_EQ(agents.size(), 3u);
    EXPECT_EQ(agents[0].at("name").as_string(), "Ayşe Owner");  // by name
    EXPECT_EQ(listed.body.find("argon2"), std::string::npos);
    // The role's other scopes: conversations yes, analytics and the catalog no.
    EXPECT_EQ(call("GET", kShop + "/conversations", "", shop_clerk.cookie()).status, 200);
    EXPECT_EQ(call("GET", kShop + "/analytics", "", shop_clerk.cookie()).status, 403);
    EXPECT_EQ(call("GET", kShop + "/analytics", "", shop_owner.cookie()).status, 200);
    EXPECT_EQ(
        call("PATCH", kShop + "/offerings/no-such-offering", R"({"price": 10})", shop_clerk.unsafe()).status,
        403);
    // An agent renames itself, but may not make itself an owner.
    auto renamed = call("PATCH", kShop + "/agents/" + clerk, R"({"name": "Mehmet K."})", shop_clerk.unsafe());
    EXPECT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(renamed.json().at("name").as_string(), "Mehmet K.");
    EXPECT_EQ(call("PATCH", kShop + "/agents/" + clerk, R"({"role": "owner"})", shop_clerk.unsafe()).status,
              403);
    EXPECT_EQ(call("PATCH", kShop + "/agents/" + other_clerk, R"({"name": "X"})", shop_clerk.unsafe()).status,
              403);

    // The audit log names the agent.
    ASSERT_TRUE(eventually([&] {
        auto audit = call("GET", kShop + "/audit?limit=100", "", shop_owner.cookie());
        return audit.status == 200 && audit.body.find("\"agent:" + clerk + "\"") != std::string::npos &&
               audit.body.find("\"agent:" + owner + "\"") != std::string::npos;
    }));
}

TEST_P(ConsoleApi, APasswordChangeEndsTheAgentsOtherSessionsAndTheLastOwnerStays) {
    const Session laptop = sign_in("mehmet@gece.example");
    const Session phone = sign_in("mehmet@gece.example");
    auto changed =
        call("PATCH", kShop + "/agents/" + clerk, R"({"password": "battery staple 2"})", laptop.unsafe());
    ASSERT_EQ(changed.status, 200) << changed.body;
    EXPECT_EQ(call("GET", "/v1/session", "", laptop.cookie()).status, 200);
    EXPECT_EQ(call("GET", "/v1/session", "", phone.cookie()).status, 401);
    EXPECT_EQ(sign_in_reply("mehmet@gece.example", kPassword).status, 401);
    EXPECT_EQ(sign_in_reply("mehmet@gece.example", "battery staple 2").status, 200);

    // The owner disables the clerk: the clerk's sessions end.
    const Session boss = sign_in("owner@gece.example");
    EXPECT_EQ(call("PATCH", kShop + "/agents/" + clerk, R"({"disabled": true})", boss.unsafe()).status, 200);
    EXPECT_EQ(call("GET", "/v1/session", "", laptop.cookie()).status, 401);

    // The last enabled owner is neither demoted, disabled nor removed.
    for (const std::string body : {R"({"role": "agent"})", R"({"disabled": true})"}) {
        auto refused = call("PATCH", kShop + "/agents/" + owner, body, boss.unsafe());
        EXPECT_EQ(refused.status, 409) << refused.body;
        EXPECT_EQ(refused.error_code(), "conflict");
    }
    EXPECT_EQ(call("DELETE", kShop + "/agents/" + owner, "", boss.unsafe()).status, 409);
    // Taken e-mails and bad fields are named.
    auto taken =
        call("POST", kShop + "/agents",
             R"({"name": "Z", "email": "ZEYNEP@gece.example", "password": "0123456789"})", boss.unsafe());
    EXPECT_EQ(taken.status, 409) << taken.body;
    auto bad = call("POST", kShop + "/agents",
                    R"({"name": "Z", "email": "zeynep", "password": "0123456789"})", boss.unsafe());
    EXPECT_EQ(bad.status, 422);
    EXPECT_NE(bad.body.find("email:"), std::string::npos) << bad.body;
    auto untyped = call("POST", kShop + "/agents",
                        R"({"name": 5, "email": "z@z.z", "password": "0123456789"})", boss.unsafe());
    EXPECT_EQ(untyped.status, 400);
    EXPECT_NE(untyped.body.find("name:"), std::string::npos) << untyped.body;
    // Removing the clerk (with a second owner made first, the first owner could go too).
    EXPECT_EQ(call("DELETE", kShop + "/agents/" + clerk, "", boss.unsafe()).status, 204);
    EXPECT_EQ(call("DELETE", kShop + "/agents/" + clerk, "", boss.unsafe()).status, 404);
}

TEST_P(ConsoleApi, ASessionEndsTwelveHoursAfterItsLastUseOnTheServersClock) {
    // Sessions made in the database at times before the server's clock (kClock).
    const auto clock = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796108400000LL));
    auto stale = engine::sign_in(*db, "gece-butik", "mehmet@gece.example", kPassword, clock - 12h - 1min);
    auto fresh = engine::sign_in(*db, "gece-butik", "mehmet@gece.example", kPassword, clock - 11h);
    auto old = engine::sign_in(*db, "gece-butik", "owner@gece.example", kPassword, clock - 7 * 24h - 1min);
    ASSERT_TRUE(stale.ok() && fresh.ok() && old.ok());
    const Headers stale_cookie = {{"Cookie", "tezgah_session=" + stale->token}};
    const Headers fresh_cookie = {{"Cookie", "tezgah_session=" + fresh->token}};
    EXPECT_EQ(call("GET", "/v1/session", "", stale_cookie).status, 401);
    auto alive = call("GET", "/v1/session", "", fresh_cookie);
    ASSERT_EQ(alive.status, 200) << alive.body;
    // Used now: 12 hours from now.
    EXPECT_GE(alive.json().at("expires_at").as_int64(), 1796108400000LL + 12 * 3600 * 1000);
    EXPECT_EQ(call("GET", "/v1/session", "", {{"Cookie", "tezgah_session=" + old->token}}).status, 401);
    EXPECT_EQ(call("GET", "/v1/session", "", {{"Cookie", "tezgah_session=" + std::string(64, '0')}}).status,
              401);
}

TEST_P(ConsoleApi, AssignmentNotesAndCannedRepliesRoundTripWithTheirEvents) {
    const std::string id = conversation();
    ASSERT_FALSE(id.empty());
    EventReader events(port, kShop + "/events", "Authorization: Bearer " + key);
    ASSERT_TRUE(eventually([&] { return events.has(": connected"); }));
    const Session boss = sign_in("owner@gece.example");
    const Session mehmet = sign_in("mehmet@gece.example");
    const Session zeynep = sign_in("zeynep@gece.example");
    // The console reads the stream with the agent's cookie.
    EventReader agents_view(port, kShop + "/events", "Cookie: tezgah_session=" + zeynep.token);
    ASSERT_TRUE(eventually([&] { return agents_view.has(": connected"); })) << agents_view.text();
    const std::string conv = kShop + "/conversations/" + id;

    // Assignment.
    auto assigned = call("PUT", conv + "/assignee", R"({"agent_id": ")" + clerk + R"("})", boss.unsafe());
    ASSERT_EQ(assigned.status, 200) << assigned.body;
    EXPECT_EQ(assigned.json().at("id").as_string(), id);
    EXPECT_EQ(assigned.json().at("assignee").at("id").as_string(), clerk);
    EXPECT_EQ(assigned.json().at("assignee").at("name").as_string(), "Mehmet Clerk");
    ASSERT_TRUE(eventually([&] { return !events.events("assignment").empty(); })) << events.text();
    const auto assignment = events.events("assignment").front();
    EXPECT_EQ(assignment.at("tenant").as_string(), "gece-butik");
    EXPECT_EQ(assignment.at("conversation_id").as_string(), id);
    EXPECT_EQ(assignment.at("assignee").at("id").as_string(), clerk);
    EXPECT_EQ(assignment.at("by").at("kind").as_string(), "agent");
    EXPECT_EQ(assignment.at("by").at("id").as_string(), owner);
    auto unknown = call("PUT", conv + "/assignee", R"({"agent_id": "ag_0000000000000000"})", boss.unsafe());
    EXPECT_EQ(unknown.status, 422);
    EXPECT_EQ(unknown.error_code(), "invalid_value");
    auto foreign =
        call("PUT", conv + "/assignee", R"({"agent_id": ")" + studio_owner + R"("})", boss.unsafe());
    EXPECT_EQ(foreign.status, 422);
    EXPECT_EQ(call("PUT", kShop + "/conversations/c-no-such/assignee", R"({"agent_id": null})", boss.unsafe())
                  .status,
              404);
    auto cleared = keyed("PUT", conv + "/assignee", R"({"agent_id": null})");
    ASSERT_EQ(cleared.status, 200) << cleared.body;
    EXPECT_TRUE(cleared.json().at("assignee").is_null());
    ASSERT_TRUE(eventually([&] { return events.events("assignment").size() == 2; }));
    EXPECT_EQ(events.events("assignment").back().at("by").at("kind").as_string(), "key");
    EXPECT_TRUE(events.events("assignment").back().at("assignee").is_null());

    // Notes: written by an agent, read oldest first, deleted by their author or an owner.
    auto note =
        call("POST", conv + "/notes", R"({"text": "Müşteri iade istiyor, dikkat."})", mehmet.unsafe());
    ASSERT_EQ(note.status, 201) << note.body;
    const std::string note_id(note.json().at("id").as_string());
    EXPECT_EQ(note.json().at("author").at("kind").as_string(), "agent");
    EXPECT_EQ(note.json().at("author").at("id").as_string(), clerk);
    EXPECT_EQ(note.json().at("author").at("name").as_string(), "Mehmet Clerk");
    ASSERT_TRUE(eventually([&] { return !events.events("note").empty(); }));
    EXPECT_EQ(events.events("note").front().at("id").as_string(), note_id);
    EXPECT_EQ(events.events("note").front().at("text").as_string(), "Müşteri iade istiyor, dikkat.");
    ASSERT_TRUE(eventually([&] { return !agents_view.events("note").empty(); })) << agents_view.text();
    EXPECT_EQ(agents_view.events("assignment").size(), 2u);
    ASSERT_EQ(keyed("POST", conv + "/notes", R"({"text": "Kargo kodu 42"})").status, 201);
    EXPECT_EQ(call("POST", conv + "/notes", R"({"text": ""})", mehmet.unsafe()).status, 422);
    EXPECT_EQ(call("POST", conv + "/notes", json::serialize(json::object{{"text", std::string(4001, 'x')}}),
                   mehmet.unsafe())
                  .status,
              422);
    auto notes = call("GET", conv + "/notes", "", zeynep.cookie());
    ASSERT_EQ(notes.status, 200) << notes.body;
    const auto list = notes.json().at("notes").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("id").as_string(), note_id);
    EXPECT_EQ(list[1].at("author").at("kind").as_string(), "key");
    EXPECT_EQ(list[1].at("author").at("id").as_string(), key_id);
    // Never shown to the customer: the conversation's messages do not hold it.
    auto transcript = keyed("GET", conv);
    EXPECT_EQ(transcript.body.find("iade istiyor"), std::string::npos);
    EXPECT_EQ(call("DELETE", conv + "/notes/" + note_id, "", zeynep.unsafe()).status, 403);
    EXPECT_EQ(call("DELETE", conv + "/notes/" + note_id, "", mehmet.unsafe()).status, 204);
    EXPECT_EQ(call("DELETE", conv + "/notes/" + note_id, "", mehmet.unsafe()).status, 404);
    const std::string keys_note(list[1].at("id").as_string());
    EXPECT_EQ(call("DELETE", conv + "/notes/" + keys_note, "", boss.unsafe()).status, 204);  // an owner may
    EXPECT_EQ(call("GET", kShop + "/conversations/c-no-such/notes", "", zeynep.cookie()).status, 404);

    // Canned replies: an agent's own, and shared ones (only an owner shares).
    auto own = call("POST", kShop + "/canned-replies", R"({"title": "Kargo", "text": "Kargonuz yolda."})",
                    mehmet.unsafe());
    ASSERT_EQ(own.status, 201) << own.body;
    const std::string own_id(own.json().at("id").as_string());
    EXPECT_FALSE(own.json().at("shared").as_bool());
    EXPECT_EQ(own.json().at("owner").at("id").as_string(), clerk);
    EXPECT_EQ(call("POST", kShop + "/canned-replies", R"({"title": "A", "text": "B", "shared": true})",
                   mehmet.unsafe())
                  .status,
              403);
    auto shared =
        call("POST", kShop + "/canned-replies",
             R"({"title": "Teslimat", "text": "14 gün içinde iade edebilirsiniz.", "shared": true})",
             boss.unsafe());
    ASSERT_EQ(shared.status, 201) << shared.body;
    const std::string shared_id(shared.json().at("id").as_string());
    EXPECT_EQ(
        call("POST", kShop + "/canned-replies",
             json::serialize(json::object{{"title", std::string(81, 't')}, {"text", "x"}}), mehmet.unsafe())
            .status,
        422);
    auto titles = [&](const Headers& who) {
        auto r = call("GET", kShop + "/canned-replies", "", who);
        std::vector<std::string> out;
        if (r.status != 200) return out;
        const auto body = r.json();
        for (const auto& c : body.at("canned_replies").as_array())
            out.emplace_back(c.at("title").as_string());
        return out;
    };
    EXPECT_EQ(titles(mehmet.cookie()), (std::vector<std::string>{"Kargo", "Teslimat"}));
    EXPECT_EQ(titles(zeynep.cookie()), (std::vector<std::string>{"Teslimat"}));
    EXPECT_EQ(titles({{"Authorization", "Bearer " + key}}).size(), 2u);
    // Its owner or an owner of the tenant changes it; another agent does not even see a private one.
    EXPECT_EQ(
        call("PUT", kShop + "/canned-replies/" + own_id, R"({"title": "X", "text": "Y"})", zeynep.unsafe())
            .status,
        404);
    EXPECT_EQ(
        call("PUT", kShop + "/canned-replies/" + shared_id, R"({"title": "X", "text": "Y"})", mehmet.unsafe())
            .status,
        403);
    auto edited = call("PUT", kShop + "/canned-replies/" + own_id,
                       R"({"title": "Kargo", "text": "Yarın teslim."})", mehmet.unsafe());
    ASSERT_EQ(edited.status, 200) << edited.body;
    EXPECT_EQ(edited.json().at("text").as_string(), "Yarın teslim.");
    EXPECT_EQ(call("PUT", kShop + "/canned-replies/" + own_id, R"({"title": "Kargo", "text": "Bugün."})",
                   boss.unsafe())
                  .status,
              200);
    EXPECT_EQ(call("DELETE", kShop + "/canned-replies/" + shared_id, "", mehmet.unsafe()).status, 403);
    EXPECT_EQ(call("DELETE", kShop + "/canned-replies/" + shared_id, "", boss.unsafe()).status, 204);
    EXPECT_EQ(call("DELETE", kShop + "/canned-replies/" + own_id, "", mehmet.unsafe()).status, 204);
    EXPECT_TRUE(titles(mehmet.cookie()).empty());
}

}  // namespace
}  // namespace tezgah::testing
