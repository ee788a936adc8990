#pragma once
// `tezgah serve` with the reference tenants (gece-butik, nefes-studyo) on SQLite or PostgreSQL,
// keys of every kind made before it starts, and rows written as the pipeline stores them
// (conversations, messages, tickets, tool calls) for the console's reads to find.

#include "appointments_ops/appointment_rows.hpp"
#include "http/http_fixture.hpp"
#include "store/api_keys.hpp"
#include "store/store_fixture.hpp"
#include "support/serve_process.hpp"

#include <tezgah/sdk/text.hpp>

#include <date/date.h>
#include <soci/soci.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace tezgah::testing {

using engine::Backend;

/// One conversation row, as the pipeline and the handoff store write it.
struct ConversationRow {
    std::string id;
    std::string tenant = "gece-butik";
    std::string user = "u-1";
    std::string channel = "api";
    std::string status = "bot";
    long long created = 0;
    long long last = 0;       ///< last_message_at; 0: created
    long long status_at = 0;  ///< when it was handed over (or released)
};

/// One message row. `reply_json` is what finish_turn keeps on a reply.
struct MessageRow {
    std::string id;
    std::string tenant = "gece-butik";
    std::string conversation;
    std::string role = "user";
    std::string text;
    std::string method;
    long long at = 0;
    std::string metadata;
    std::string reply_json;
};

class ConsoleReads : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        copy_fixtures(dir.path() / "tenants");
        auto opened = engine::Database::open(scratch->url());
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        db = std::move(*opened);
        sql = engine::testing::open_sql_session(scratch->url());
        ASSERT_TRUE(sql);
        for (const char* t : {"gece-butik", "nefes-studyo"})
            *sql << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (:i, :n, 0, 0)",
                soci::use(std::string(t)), soci::use(std::string(t));
    }
    void TearDown() override {
        process.reset();
        sql.reset();
        db.reset();
        scratch.reset();
    }

    /// A key made in the server's database, as `tezgah keys create` would. `tenant` empty: every tenant.
    std::string key(const std::string& tenant, const std::vector<std::string>& scopes) {
        auto made =
            engine::create_api_key(*db, "console test", tenant, scopes, std::chrono::system_clock::now());
        EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
        return made.ok() ? made->secret : std::string();
    }

    /// Starts the server; `clock`: its fixed time (--clock), none when empty.
    void start(const std::string& clock = "") {
        std::vector<std::string> args{"--db", scratch->url()};
        if (!clock.empty()) {
            args.emplace_back("--clock");
            args.push_back(clock);
        }
        process = std::make_unique<ServeProcess>(dir.path(), "127.0.0.1:0", args);
        port = port_of(process->ready_line());
        ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");
    }

    HttpReply get(const std::string& path, const std::string& bearer) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
        return http_request(port, "GET", path, "", headers);
    }
    HttpReply post(const std::string& path, const std::string& body, const std::string& bearer = "") {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!bearer.empty()) headers.emplace_back("Authorization", "Bearer " + bearer);
        return http_request(port, "POST", path, body, headers);
    }

    void insert(const ConversationRow& c) {
        const long long last = c.last != 0 ? c.last : c.created;
        *sql << "INSERT INTO customers (tenant_id, id, first_seen_at, last_seen_at, last_channel) "
                "VALUES (:t, :u, :f, :l, :c) ON CONFLICT (tenant_id, id) DO NOTHING",
            soci::use(c.tenant), soci::use(c.user), soci::use(c.created), soci::use(last),
            soci::use(c.channel);
        const std::string session = c.channel + ":" + c.id;
        *sql << "INSERT INTO conversations (id, tenant_id, user_id, channel, session_id, state, created_at, "
                "last_message_at, status, status_at) VALUES (:i, :t, :u, :ch, :s, '{}', :cr, :l, :st, :sa)",
            soci::use(c.id), soci::use(c.tenant), soci::use(c.user), soci::use(c.channel), soci::use(session),
            soci::use(c.created), soci::use(last), soci::use(c.status), soci::use(c.status_at);
    }
    void insert(const MessageRow& m) {
        const std::string language = "tr";
        *sql << "INSERT INTO messages (id, tenant_id, conversation_id, role, text, method, language, at, "
                "metadata, reply_json) VALUES (:i, :t, :c, :r, :x, :m, :l, :a, :md, :rj)",
            soci::use(m.id), soci::use(m.tenant), soci::use(m.conversation), soci::use(m.role),
            soci::use(m.text), soci::use(m.method), soci::use(language), soci::use(m.at),
            soci::use(m.metadata), soci::use(m.reply_json);
    }
    void insert_ticket(const std::string& id, const std::string& tenant, const std::string& conversation,
                       const std::string& status, const std::string& reason, const std::string& priority,
                       long long at) {
        const std::string user = "u", channel = "api", category = "genel", assignee, transcript = "[]";
        *sql
            << "INSERT INTO tickets (id, tenant_id, conversation_id, user_id, channel, reason, category, "
               "priority, status, assignee, transcript, created_at, updated_at) VALUES (:i, :t, :c, :u, :ch, "
               ":r, :cat, :p, :s, :a, :tr, :cr, :up)",
            soci::use(id), soci::use(tenant), soci::use(conversation), soci::use(user), soci::use(channel),
            soci::use(reason), soci::use(category), soci::use(priority), soci::use(status),
            soci::use(assignee), soci::use(transcript), soci::use(at), soci::use(at);
    }

    TempDir dir;
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
    std::unique_ptr<engine::Database> db;
    std::unique_ptr<soci::session> sql;
    std::unique_ptr<ServeProcess> process;
    std::uint16_t port = 0;
};

}  // namespace tezgah::testing
