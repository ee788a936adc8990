// The schema, as a list of migrations.
#include "store/migrations.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "store/sql_support.hpp"

namespace tezgah::engine::store {
namespace {

enum class Only { both, sqlite, postgresql };

struct Statement {
    Only only;
    std::string sql;
};

struct Migration {
    int version;
    const char* description;
    std::vector<Statement> statements;
};

// `{ROWID}` is an auto-incrementing primary key on either backend.
const std::vector<Migration>& all_migrations() {
    static const std::vector<Migration> list = {
        {1,
         "tenants, catalog, knowledge with full-text search, conversations, messages, logs",
         {
             {Only::both, R"(CREATE TABLE tenants (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL))"},
             // Imported data keeps the full record (data) for exact reads, plus what queries need.
             {Only::both, R"(CREATE TABLE offerings (
                tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                position INTEGER NOT NULL,
                type TEXT NOT NULL,
                name TEXT NOT NULL,
                category TEXT NOT NULL,
                price DOUBLE PRECISION NOT NULL,
                available INTEGER NOT NULL,
                data TEXT NOT NULL,
                removed INTEGER NOT NULL DEFAULT 0,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, id)))"},
             {Only::both, "CREATE INDEX offerings_current ON offerings (tenant_id, removed, position)"},
             {Only::both, R"(CREATE TABLE knowledge (
                pk {ROWID},
                tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                position INTEGER NOT NULL,
                category TEXT NOT NULL,
                data TEXT NOT NULL,
                removed INTEGER NOT NULL DEFAULT 0,
                updated_at BIGINT NOT NULL,
                UNIQUE (tenant_id, id)))"},
             {Only::both, "CREATE INDEX knowledge_current ON knowledge (tenant_id, removed, position)"},
             // SQLite: FTS5 over Turkish-folded, stemmed text (unicode61 alone misses the dotless ı);
             // rowid = knowledge.pk; `tenant` holds one token per row so a search stays in its tenant.
             {Only::sqlite, R"(CREATE VIRTUAL TABLE knowledge_fts USING fts5(
                tenant, question, keywords, answer, tokenize = 'unicode61 remove_diacritics 2'))"},
             {Only::postgresql, "ALTER TABLE knowledge ADD COLUMN search_vector TSVECTOR"},
             {Only::postgresql, "CREATE INDEX knowledge_search ON knowledge USING GIN (search_vector)"},
             {Only::both, R"(CREATE TABLE resources (
                tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                position INTEGER NOT NULL,
                type TEXT NOT NULL,
                name TEXT NOT NULL,
                data TEXT NOT NULL,
                removed INTEGER NOT NULL DEFAULT 0,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, id)))"},
             {Only::both, R"(CREATE TABLE customers (
                tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                first_seen_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                last_channel TEXT NOT NULL,
                PRIMARY KEY (tenant_id, id)))"},
             {Only::both, R"(CREATE TABLE conversations (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                session_id TEXT NOT NULL,
                state TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_message_at BIGINT NOT NULL,
                UNIQUE (tenant_id, session_id),
                FOREIGN KEY (tenant_id, user_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE))"},
             {Only::both,
              "CREATE INDEX conversations_latest ON conversations "
              "(tenant_id, user_id, channel, last_message_at)"},
             {Only::both, R"(CREATE TABLE messages (
                seq {ROWID},
                id TEXT NOT NULL UNIQUE,
                tenant_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                text TEXT NOT NULL,
                method TEXT NOT NULL,
                language TEXT NOT NULL,
                at BIGINT NOT NULL,
                client_message_id TEXT NOT NULL DEFAULT ''))"},
             {Only::both, "CREATE INDEX messages_conversation ON messages (tenant_id, conversation_id, seq)"},
             {Only::both,
              "CREATE UNIQUE INDEX messages_client_id ON messages (tenant_id, client_message_id) "
              "WHERE client_message_id <> ''"},
             // The function-call log.
             {Only::both, R"(CREATE TABLE tool_calls (
                seq {ROWID},
                tenant_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                message_id TEXT NOT NULL,
                tool TEXT NOT NULL,
                arguments TEXT NOT NULL,
                result TEXT NOT NULL,
                ok INTEGER NOT NULL,
                duration_ms DOUBLE PRECISION NOT NULL,
                error TEXT NOT NULL,
                at BIGINT NOT NULL))"},
             {Only::both,
              "CREATE INDEX tool_calls_conversation ON tool_calls (tenant_id, conversation_id, seq)"},
             {Only::both, R"(CREATE TABLE usage (
                seq {ROWID},
                tenant_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                input_tokens BIGINT NOT NULL,
                output_tokens BIGINT NOT NULL,
                cost_usd DOUBLE PRECISION NOT NULL,
                at BIGINT NOT NULL))"},
             {Only::both, "CREATE INDEX usage_tenant ON usage (tenant_id, at)"},
         }},
        {2,
         "idempotent turns: a reply keeps its JSON and the inbound message it answers",
         {
             // Set on assistant messages stored by finish_turn; '' on everything else.
             {Only::both, "ALTER TABLE messages ADD COLUMN reply_json TEXT NOT NULL DEFAULT ''"},
             {Only::both, "ALTER TABLE messages ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT ''"},
         }},
        {3,
         "costs: one usage row per provider call, tied to its reply; a reply keeps its turn's cost",
         {
             {Only::both, "ALTER TABLE usage ADD COLUMN message_id TEXT NOT NULL DEFAULT ''"},
             {Only::both, "ALTER TABLE usage ADD COLUMN step INTEGER NOT NULL DEFAULT 0"},
             {Only::both, "ALTER TABLE usage ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0"},
             {Only::both, "ALTER TABLE messages ADD COLUMN cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0"},
             // Spend (budgets) and `tezgah usage` read a tenant's rows by time. Migration 1's
             // usage_tenant (tenant_id, at) becomes a covering index: a day's spend is summed
             // from the index alone.
             {Only::both, "DROP INDEX usage_tenant"},
             {Only::both, "CREATE INDEX usage_tenant_at ON usage (tenant_id, at, cost_usd)"},
         }},
        {4,
         "message ids that cannot get stuck: a turn's claim on its message expires, is released when "
         "the turn fails, and ends when the reply is stored",
         {
             // On customer messages with a client id: when the turn answering it claimed it (ms);
             // 0 once that turn failed and released it. NULL on rows stored before this version,
             // where the message's `at` stands in (so does it for a process of an older build).
             {Only::both, "ALTER TABLE messages ADD COLUMN claimed_at BIGINT"},
             // 1 once the reply is stored: a claim is taken by an UPDATE that reads this row alone,
             // so two processes racing for it are ordered by the row's lock on PostgreSQL too.
             {Only::both, "ALTER TABLE messages ADD COLUMN answered INTEGER NOT NULL DEFAULT 0"},
             {Only::both,
              "UPDATE messages SET answered = 1 WHERE client_message_id <> '' AND id IN "
              "(SELECT in_reply_to FROM messages WHERE reply_json <> '')"},
         }},
        {5,
         "the outbox: every outbound message is stored before it is sent, and keeps its state",
         {
             // Times in ms. A worker claims a queued message by moving claimed_until into the future
             // (its lease); the state stays queued until an attempt ends.
             {Only::both, R"(CREATE TABLE outbox (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                recipient TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                provider_id TEXT NOT NULL DEFAULT '',
                error TEXT NOT NULL DEFAULT '',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                claimed_until BIGINT NOT NULL DEFAULT 0,
                sent_at BIGINT NOT NULL DEFAULT 0))"},
             {Only::both, "CREATE UNIQUE INDEX outbox_key ON outbox (tenant_id, idempotency_key)"},
             {Only::both, "CREATE INDEX outbox_due ON outbox (state, next_attempt_at)"},
             {Only::both,
              "CREATE INDEX outbox_provider ON outbox (tenant_id, channel, provider_id) WHERE provider_id <> "
              "''"},
             {Only::both, "CREATE INDEX outbox_tenant ON outbox (tenant_id, created_at)"},
         }},
        {6,
         "the server's own secrets (the widget's token signing key), kept for every instance",
         {
             {Only::both, R"(CREATE TABLE server_secrets (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created_at BIGINT NOT NULL))"},
         }},
        {7,
         "what a channel keeps with a customer's message (attachments, a button's payload) as JSON",
         {
             {Only::both, "ALTER TABLE messages ADD COLUMN metadata TEXT NOT NULL DEFAULT ''"},
         }},
        {8,
         "the outbox's due messages in the order they are claimed, without a sort",
         {
             // outbox_claim reads `WHERE state = 'queued' AND next_attempt_at <= now ORDER BY
             // next_attempt_at, created_at LIMIT n`: with created_at in the index the rows come in
             // order and the read stops at n, instead of sorting every due message at each claim
             // (a backlog of 10,000 drained 2-3 times slower than 2,000; docs/performance.md).
             {Only::both, "CREATE INDEX outbox_due_order ON outbox (state, next_attempt_at, created_at)"},
             {Only::both, "DROP INDEX outbox_due"},
         }},
        {9,
         "operators' API keys, stored as hashes (store/api_keys.hpp), and the audit log of keyed requests "
         "(store/audit_log.hpp)",
         {
             // tenant_id '' is a key for every tenant; scopes comma-separated; times in ms, 0: never.
             {Only::both, R"(CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                scopes TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT NOT NULL DEFAULT 0,
                revoked_at BIGINT NOT NULL DEFAULT 0))"},
             // Every request that presented a key (store/audit_log.hpp): tenant_id '' for a
             // process-wide route; client the address --trusted-proxy resolution yields; at in ms.
             {Only::both, R"(CREATE TABLE audit_log (
                id {ROWID},
                key_id TEXT NOT NULL,
                method TEXT NOT NULL,
                route TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                status INTEGER NOT NULL,
                client TEXT NOT NULL,
                request_id TEXT NOT NULL,
                at BIGINT NOT NULL))"},
             {Only::both, "CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id)"},
             {Only::both, "CREATE INDEX audit_log_key ON audit_log (key_id, id)"},
         }},
        {10,
         "handoff: a conversation's state (bot, handed_over, closed), tickets, operators' messages "
         "(store/handoffs.hpp)",
         {
             // status_at: when the state last changed; operator_at: an operator last took over or
             // wrote (release_after_minutes counts from the later); relayed_seq: the last operator
             // message handed to a customer of a channel that cannot be pushed to (chat API, /webhook).
             {Only::both, "ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'bot'"},
             {Only::both, "ALTER TABLE conversations ADD COLUMN status_at BIGINT NOT NULL DEFAULT 0"},
             {Only::both, "ALTER TABLE conversations ADD COLUMN operator_at BIGINT NOT NULL DEFAULT 0"},
             {Only::both, "ALTER TABLE conversations ADD COLUMN relayed_seq BIGINT NOT NULL DEFAULT 0"},
             {Only::both,
              "CREATE INDEX conversations_status ON conversations (tenant_id, status, last_message_at)"},
             {Only::both, "CREATE INDEX conversations_recent ON conversations (tenant_id, last_message_at)"},
             // transcript: JSON [{"role", "text", "at"}]; times in ms.
             {Only::both, R"(CREATE TABLE tickets (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                reason TEXT NOT NULL,
                category TEXT NOT NULL,
                priority TEXT NOT NULL,
                status TEXT NOT NULL,
                assignee TEXT NOT NULL DEFAULT '',
                transcript TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL))"},
             {Only::both, "CREATE INDEX tickets_tenant ON tickets (tenant_id, status, created_at)"},
             {Only::both, "CREATE INDEX tickets_conversation ON tickets (tenant_id, conversation_id)"},
         }},
        {11,
         "notices to operators' targets (webhook, Slack, e-mail), sent by the notifier (notify/notices.hpp)",
         {
             // payload: the event's body as sent (JSON); target: webhook | slack | email; state:
             // queued | sent | failed; times in ms, 0: not yet. Secrets are never stored: a worker
             // reads the tenant's current target config when it sends.
             {Only::both, R"(CREATE TABLE notices (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                event TEXT NOT NULL,
                target TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT NOT NULL DEFAULT '',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                claimed_until BIGINT NOT NULL DEFAULT 0,
                sent_at BIGINT NOT NULL DEFAULT 0))"},
             {Only::both, "CREATE INDEX notices_due ON notices (state, next_attempt_at, created_at)"},
             {Only::both, "CREATE INDEX notices_tenant ON notices (tenant_id, created_at)"},
         }},
        {13,
         "analytics: a tenant's messages by time, and a reply's tool calls and usage (store/analytics.cpp)",
         {
             // GET /v1/tenants/{tenant}/analytics reads a tenant's messages in a time range, and the
             // tool calls and usage rows of the replies among them; without these, messages and
             // usage were read whole (their indexes lead with conversation_id or time) and each
             // reply's tool calls were looked up by a scan.
             {Only::both, "CREATE INDEX messages_tenant_at ON messages (tenant_id, at)"},
             {Only::both, "CREATE INDEX tool_calls_message ON tool_calls (tenant_id, message_id)"},
             {Only::both, "CREATE INDEX usage_message ON usage (tenant_id, message_id)"},
         }},
        {14,
         "appointments, and one lock row per resource that serializes bookings (appointments/store.hpp)",
         {
             // Times in ms since the epoch (UTC); status: confirmed | cancelled | completed |
             // no_show. The resource is held from start_at to end_at + buffer_minutes. user_id and
             // channel: the customer who booked through a conversation ('' when an operator did);
             // reminder_at: when its reminder was queued (NULL: not yet; reset when it moves).
             {Only::both, R"(CREATE TABLE appointments (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                service_id TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                start_at BIGINT NOT NULL,
                end_at BIGINT NOT NULL,
                buffer_minutes INTEGER NOT NULL DEFAULT 0,
                customer_name TEXT NOT NULL,
                customer_phone TEXT NOT NULL,
                notes TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL,
                channel TEXT NOT NULL DEFAULT '',
                user_id TEXT NOT NULL DEFAULT '',
                conversation_id TEXT NOT NULL DEFAULT '',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                reminder_at BIGINT))"},
             {Only::both,
              "CREATE INDEX appointments_resource ON appointments (tenant_id, resource_id, start_at)"},
             {Only::both,
              "CREATE INDEX appointments_customer ON appointments (tenant_id, user_id, start_at)"},
             {Only::both, "CREATE INDEX appointments_start ON appointments (tenant_id, start_at)"},
             {Only::both,
              "CREATE INDEX appointments_reminder ON appointments (status, reminder_at, start_at)"},
             // A booking's transaction first bumps its resource's row (inserted when missing), so
             // that bookings of one resource run one at a time on either backend and from any
             // number of processes; it then counts what overlaps and inserts.
             {Only::both, R"(CREATE TABLE appointment_locks (
                tenant_id TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                version BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant_id, resource_id)))"},
         }},
        {15,
         "the console's staff: agent accounts and their sessions, sign-in failures, notes on a "
         "conversation, canned replies, and a conversation's assignee (store/agents.hpp, "
         "store/staff_notes.hpp)",
         {
             // email_key: the e-mail lower-cased, unique per tenant; password_hash: Argon2id's encoded
             // string; times in ms, last_sign_in_at 0: never.
             {Only::both, R"(CREATE TABLE agents (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                name TEXT NOT NULL,
                email TEXT NOT NULL,
                email_key TEXT NOT NULL,
                role TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                last_sign_in_at BIGINT NOT NULL DEFAULT 0))"},
             {Only::both, "CREATE UNIQUE INDEX agents_email ON agents (tenant_id, email_key)"},
             // A session is found by the SHA-256 of its token (the token itself is never stored);
             // it ends 12 h after last_used_at and 7 days after created_at at the latest.
             {Only::both, R"(CREATE TABLE agent_sessions (
                token_hash TEXT PRIMARY KEY,
                agent_id TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                csrf_token TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT NOT NULL))"},
             {Only::both, "CREATE INDEX agent_sessions_agent ON agent_sessions (agent_id)"},
             // Failed sign-ins by e-mail (known or not), for the limit of 10 in 15 minutes.
             {Only::both, R"(CREATE TABLE sign_in_failures (
                id {ROWID},
                tenant_id TEXT NOT NULL,
                email_key TEXT NOT NULL,
                at BIGINT NOT NULL))"},
             {Only::both,
              "CREATE INDEX sign_in_failures_email ON sign_in_failures (tenant_id, email_key, at)"},
             // author_kind: agent | key; the author's name as it was when the note was written.
             {Only::both, R"(CREATE TABLE conversation_notes (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                conversation_id TEXT NOT NULL,
                author_kind TEXT NOT NULL,
                author_id TEXT NOT NULL,
                author_name TEXT NOT NULL,
                text TEXT NOT NULL,
                created_at BIGINT NOT NULL))"},
             {Only::both,
              "CREATE INDEX conversation_notes_conversation ON conversation_notes "
              "(tenant_id, conversation_id, created_at)"},
             // shared: every agent of the tenant sees it; otherwise only its owner (and keys).
             {Only::both, R"(CREATE TABLE canned_replies (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                title TEXT NOT NULL,
                text TEXT NOT NULL,
                shared INTEGER NOT NULL DEFAULT 0,
                owner_kind TEXT NOT NULL,
                owner_id TEXT NOT NULL,
                owner_name TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL))"},
             {Only::both, "CREATE INDEX canned_replies_tenant ON canned_replies (tenant_id, title)"},
             // The agent a conversation is assigned to; NULL: nobody.
             {Only::both, "ALTER TABLE conversations ADD COLUMN assignee TEXT"},
             {Only::both,
              "CREATE INDEX conversations_assignee ON conversations (tenant_id, assignee, last_message_at)"},
         }},
    };
    return list;
}

std::string for_backend(std::string sql, Backend backend) {
    const std::string rowid =
        backend == Backend::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
    for (auto pos = sql.find("{ROWID}"); pos != std::string::npos; pos = sql.find("{ROWID}", pos))
        sql.replace(pos, 7, rowid);
    return sql;
}

bool applies(Only only, Backend backend) {
    return only == Only::both || (only == Only::sqlite) == (backend == Backend::sqlite);
}

}  // namespace

int latest_schema_version() { return all_migrations().back().version; }

int migrate(soci::session& sql, Backend backend, std::optional<int> up_to) {
    Transaction tx(sql, backend);
    if (backend == Backend::postgresql) {
        // Any constant will do, as long as every Tezgah process uses the same one.
        sql << "SELECT pg_advisory_xact_lock(7405611)";
    }
    sql << "CREATE TABLE IF NOT EXISTS schema_migrations ("
           "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)";
    int current = 0;
    sql << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", soci::into(current);
    int version = current;
    for (const auto& migration : all_migrations()) {
        if (migration.version <= current) continue;
        if (up_to && migration.version > *up_to) break;
        for (const auto& statement : migration.statements) {
            if (applies(statement.only, backend)) sql << for_backend(statement.sql, backend);
        }
        std::string description = migration.description;
        long long now = to_millis(std::chrono::system_clock::now());
        sql << "INSERT INTO schema_migrations (version, description, applied_at) VALUES (:v, :d, :a)",
            soci::use(migration.version), soci::use(description), soci::use(now);
        version = migration.version;
    }
    tx.commit();
    return std::max(version, current);
}

}  // namespace tezgah::engine::store
