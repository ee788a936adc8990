// The Database over SOCI: one implementation for SQLite and PostgreSQL, differing only where the
// SQL must (full-text search, transactions, a few functions).
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/text.hpp>
#include <unordered_set>

#include "store/connection_url.hpp"
#include "store/database.hpp"
#include "store/group_commit.hpp"
#include "store/migrations.hpp"
#include "store/sql_support.hpp"
#include "util/log.hpp"

namespace tezgah::engine {

namespace {
/// Store failures go to the engine's JSON log (stderr), never to standard output.
template <class... Args>
void store_error(fmt::format_string<Args...> format, Args&&... args) {
    log_event(spdlog::level::err, "store", fmt::format(format, std::forward<Args>(args)...));
}
}  // namespace

Database::~Database() = default;

namespace store {
namespace {

constexpr std::size_t kPoolSize = 4;
constexpr int kSqliteBusyTimeoutMs = 15000;

// ---------------------------------------------------------------- ids and JSON

/// A time-ordered (version 7 style) uuid: 8-4-4-4-12 hex digits, the first 12 the milliseconds
/// since the epoch, the rest random. Ids made one after the other sort together, so each insert
/// lands on the same last page of an id index instead of a random one: fewer pages per commit.
std::string new_uuid() {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string hex = sdk::random_hex(16);
    auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    for (int i = 11; i >= 0; --i, ms >>= 4) hex[static_cast<std::size_t>(i)] = kDigits[ms & 0xf];
    hex[12] = '7';
    hex[16] = "89ab"[hex[16] % 4];
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
           "-" + hex.substr(20);
}

json::object parse_object(const std::string& text) {
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec || !value.is_object()) return {};
    return std::move(value.get_object());
}

json::value parse_value(const std::string& text) {
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    return ec ? json::value(nullptr) : value;
}

json::object resource_json(const sdk::Resource& r) {
    json::object hours;
    for (const auto& [day, span] : r.hours) hours[day] = span;
    json::object out{
        {"id", r.id}, {"name", r.name}, {"type", r.type}, {"capacity", r.capacity}, {"hours", hours}};
    if (!r.time_off.empty()) {
        json::array spans;
        for (const auto& off : r.time_off) {
            json::object span{{"from", off.from}, {"to", off.to}};
            if (!off.reason.empty()) span["reason"] = off.reason;
            spans.push_back(std::move(span));
        }
        out["time_off"] = std::move(spans);
    }
    return out;
}

// ---------------------------------------------------------------- full-text search text

/// Folded words of each text, each followed by its stem when that differs: what the index holds.
std::string index_text(const std::vector<std::string_view>& texts) {
    std::string out;
    for (auto text : texts) {
        for (const auto& word : sdk::text::tokens(text)) {
            out += word;
            out += ' ';
            auto stem = sdk::text::stem(word);
            if (!stem.empty() && stem != word) {
                out += stem;
                out += ' ';
            }
        }
    }
    return out;
}

bool is_stopword(const std::string& folded) {
    static const std::unordered_set<std::string> kStopwords = {
        // Turkish (folded)
        "ve", "veya", "ile", "mi", "mu", "misiniz", "musunuz", "miyim", "muyum", "ne", "bir", "bu", "su", "o",
        "da", "de", "ki", "icin", "gibi", "nasil", "var", "ben", "sen", "biz", "siz", "benim", "sizin",
        "acaba", "lutfen", "merhaba",
        // English
        "the", "a", "an", "is", "are", "do", "does", "you", "your", "i", "my", "me", "what", "how", "can",
        "of", "to", "in", "on", "for", "and", "or", "it", "be", "with", "please", "hello"};
    return kStopwords.count(folded) > 0;
}

struct QueryTerm {
    std::string word;
    bool prefix;
};

/// The words a query is searched by: stems (as prefixes) of its non-stop words, plus the word
/// itself where the stem is not its prefix (geceligin → gecelik).
std::vector<QueryTerm> query_terms(std::string_view query) {
    auto words = sdk::text::tokens(query);
    std::vector<std::string> kept;
    for (const auto& w : words) {
        if (!is_stopword(w)) kept.push_back(w);
    }
    if (kept.empty()) kept = words;  // a query of stop words only still searches
    std::vector<QueryTerm> terms;
    std::set<std::string> seen;
    auto add = [&](const std::string& word) {
        if (word.empty() || !seen.insert(word).second) return;
        terms.push_back({word, word.size() >= 3});
    };
    for (const auto& w : kept) {
        auto stem = sdk::text::stem(w);
        add(stem.empty() ? w : stem);
        if (!stem.empty() && !w.starts_with(stem)) add(w);
    }
    return terms;
}

std::string fts5_query(const std::vector<QueryTerm>& terms) {
    std::string out;
    for (const auto& term : terms) {
        if (!out.empty()) out += " OR ";
        out += '"';
        for (char c : term.word) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
        if (term.prefix) out += '*';
    }
    return out;
}

std::string tsquery(const std::vector<QueryTerm>& terms) {
    std::string out;
    for (const auto& term : terms) {
        if (!out.empty()) out += " | ";
        out += '\'';
        for (char c : term.word) {
            if (c == '\'' || c == '\\') out += c == '\'' ? '\'' : '\\';
            out += c;
        }
        out += '\'';
        if (term.prefix) out += ":*";
    }
    return out;
}

/// FTS5 token that scopes a knowledge row to its tenant (tenant ids contain '-', which the
/// tokenizer would split on, so the id is hex-encoded).
std::string tenant_token(const std::string& tenant_id) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out = "t";
    for (unsigned char c : tenant_id) {
        out += kDigits[c >> 4];
        out += kDigits[c & 0xf];
    }
    return out;
}

/// The three indexed texts of a knowledge entry, over every language.
struct KnowledgeText {
    std::string question, keywords, answer;
};

KnowledgeText knowledge_text(const sdk::KnowledgeEntry& e) {
    std::vector<std::string_view> questions{e.question};
    std::vector<std::string_view> answers{e.answer};
    std::vector<std::string_view> keywords{e.category};
    for (const auto& k : e.keywords) keywords.emplace_back(k);
    for (const auto& [language, t] : e.translations) {
        questions.emplace_back(t.question);
        answers.emplace_back(t.answer);
    }
    return {index_text(questions), index_text(keywords), index_text(answers)};
}

// ---------------------------------------------------------------- the writer's prepared statements

/// The statements every turn runs, prepared once on the writer's session and executed again with
/// new values: parsing and planning SQL cost more than running it. Each statement is bound to the
/// members of its own struct (soci::use by reference): assign them, then execute(true). Only the
/// writer thread uses them. Dropped after a failed batch (SqlDatabase::drop_statements), so a
/// broken or reconnected session never runs a statement of its former connection.
struct WriterStatements {
    struct MessageByClientId {
        std::string tenant, client_id, id;
        soci::indicator found = soci::i_null;
        soci::statement st;
        explicit MessageByClientId(soci::session& sql)
            // `<> ''` lets the partial unique index answer (without it SQLite scans the tenant's messages).
            : st((sql.prepare << "SELECT id FROM messages WHERE tenant_id = :t AND client_message_id = :m "
                                 "AND client_message_id <> ''",
                  soci::into(id, found), soci::use(tenant), soci::use(client_id))) {}
    };
    struct TenantExists {
        std::string tenant;
        int count = 0;
        soci::statement st;
        explicit TenantExists(soci::session& sql)
            : st((sql.prepare << "SELECT COUNT(*) FROM tenants WHERE id = :t", soci::into(count),
                  soci::use(tenant))) {}
    };
    struct TouchConversation {
        long long at = 0;
        std::string state, tenant, conversation, status;
        soci::statement plain, with_state, with_status;
        TouchConversation(soci::session& sql, Backend backend)
            : plain((sql.prepare << text(backend, false), soci::use(at), soci::use(tenant),
                     soci::use(conversation))),
              with_state((sql.prepare << text(backend, true), soci::use(at), soci::use(state),
                          soci::use(tenant), soci::use(conversation))),
              // The handoff status in the same statement (SQLite 3.35+, PostgreSQL): one statement
              // where a turn ran a second, a read of its own, before.
              with_status((sql.prepare << text(backend, false) + " RETURNING status", soci::into(status),
                           soci::use(at), soci::use(tenant), soci::use(conversation))) {}
        static std::string text(Backend backend, bool state) {
            return std::string("UPDATE conversations SET last_message_at = ") +
                   (backend == Backend::sqlite ? "MAX" : "GREATEST") + "(last_message_at, :at)" +
                   (state ? ", state = :s" : "") + " WHERE tenant_id = :t AND id = :c";
        }
    };
    struct InsertMessage {
        std::string id, tenant, conversation, role, text, method, language, client_id, reply_json,
            in_reply_to, metadata;
        long long at = 0, claimed_at = 0;
        soci::indicator claimed = soci::i_null;
        double cost = 0;
        soci::statement st;
        explicit InsertMessage(soci::session& sql)
            : st((sql.prepare
                      << "INSERT INTO messages (id, tenant_id, conversation_id, role, text, method, "
                         "language, at, client_message_id, reply_json, in_reply_to, cost_usd, claimed_at, "
                         "metadata) VALUES (:id, :t, :c, :role, :text, :method, :language, :at, :cmid, "
                         ":reply, :to, :cost, :claimed, :meta)",
                  soci::use(id), soci::use(tenant), soci::use(conversation), soci::use(role), soci::use(text),
                  soci::use(method), soci::use(language), soci::use(at), soci::use(client_id),
                  soci::use(reply_json), soci::use(in_reply_to), soci::use(cost),
                  soci::use(claimed_at, claimed), soci::use(metadata))) {}
    };
    /// Ends the claim of a finished turn on its inbound message, if the turn still holds it.
    struct MarkAnswered {
        std::string tenant, message;
        long long claimed_at = 0;
        soci::statement st;
        explicit MarkAnswered(soci::session& sql)
            : st((sql.prepare << "UPDATE messages SET answered = 1 WHERE tenant_id = :t AND id = :m "
                                 "AND answered = 0 AND claimed_at = :claimed",
                  soci::use(tenant), soci::use(message), soci::use(claimed_at))) {}
    };
    struct InsertToolCall {
        std::string tenant, conversation, message, tool, arguments, result, error;
        int ok = 0;
        double duration_ms = 0;
        long long at = 0;
        soci::statement st;
        explicit InsertToolCall(soci::session& sql)
            : st((sql.prepare
                      << "INSERT INTO tool_calls (tenant_id, conversation_id, message_id, tool, arguments, "
                         "result, ok, duration_ms, error, at) VALUES (:t, :c, :m, :tool, :args, :result, "
                         ":ok, :d, :e, :at)",
                  soci::use(tenant), soci::use(conversation), soci::use(message), soci::use(tool),
                  soci::use(arguments), soci::use(result), soci::use(ok), soci::use(duration_ms),
                  soci::use(error), soci::use(at))) {}
    };
    struct InsertUsage {
        std::string tenant, conversation, provider, model, message;
        long long input = 0, output = 0, at = 0;
        double cost = 0;
        int step = 0, estimated = 0;
        soci::statement st;
        explicit InsertUsage(soci::session& sql)
            : st((sql.prepare
                      << "INSERT INTO usage (tenant_id, conversation_id, provider, model, input_tokens, "
                         "output_tokens, cost_usd, at, message_id, step, estimated) VALUES (:t, :c, :p, :m, "
                         ":i, :o, :cost, :at, :msg, :step, :est)",
                  soci::use(tenant), soci::use(conversation), soci::use(provider), soci::use(model),
                  soci::use(input), soci::use(output), soci::use(cost), soci::use(at), soci::use(message),
                  soci::use(step), soci::use(estimated))) {}
    };
    struct UpsertCustomer {
        std::string tenant, user, channel;
        long long at = 0;
        soci::statement st;
        explicit UpsertCustomer(soci::session& sql)
            : st((sql.prepare
                      << "INSERT INTO customers (tenant_id, id, first_seen_at, last_seen_at, last_channel) "
                         "VALUES (:t, :id, :f, :l, :c) ON CONFLICT (tenant_id, id) DO UPDATE SET "
                         "last_seen_at = excluded.last_seen_at, last_channel = excluded.last_channel",
                  soci::use(tenant), soci::use(user), soci::use(at), soci::use(at), soci::use(channel))) {}
    };
    struct CustomerSeen {
        long long at = 0;
        std::string channel, tenant, user;
        soci::statement st;
        explicit CustomerSeen(soci::session& sql)
            : st((sql.prepare << "UPDATE customers SET last_seen_at = :l, last_channel = :c "
                                 "WHERE tenant_id = :t AND id = :u",
                  soci::use(at), soci::use(channel), soci::use(tenant), soci::use(user))) {}
    };

    WriterStatements(soci::session& sql, Backend backend)
        : session(&sql),
          message_by_client_id(sql),
          tenant_exists(sql),
          touch_conversation(sql, backend),
          insert_message(sql),
          mark_answered(sql),
          insert_tool_call(sql),
          insert_usage(sql),
          upsert_customer(sql),
          customer_seen(sql) {}

    soci::session* session;  ///< what they were prepared on
    MessageByClientId message_by_client_id;
    TenantExists tenant_exists;
    TouchConversation touch_conversation;
    InsertMessage insert_message;
    MarkAnswered mark_answered;
    InsertToolCall insert_tool_call;
    InsertUsage insert_usage;
    UpsertCustomer upsert_customer;
    CustomerSeen customer_seen;
};

/// Executes a prepared SELECT of at most one row and steps it to its end: a statement left on a
/// row would keep its read snapshot (SQLite) after the transaction. True when it found a row.
bool select_one(soci::statement& st) {
    bool found = st.execute(true);
    if (found) st.fetch();  // no second row: this only finishes the statement
    return found;
}

/// A tool call as the writer stores it: its JSON serialized by the caller, not the writer thread.
struct ToolCallRow {
    const ToolCallRecord* record;
    std::string arguments, result;
};

// ---------------------------------------------------------------- the database

struct StoredRow {
    std::string data;
    int position = 0;
    bool removed = false;
};

class SqlDatabase final : public Database {
public:
    SqlDatabase(Backend backend, std::string redacted_url, std::size_t pool_size)
        : backend_(backend), url_(std::move(redacted_url)), pool_size_(pool_size), pool_(pool_size) {}

    ~SqlDatabase() override {
        writer_.reset();      // everything queued is written first
        statements_.reset();  // before the sessions they were prepared on close
    }

    /// Opens every pooled session and the writer's, migrates, and starts the writer thread.
    /// Throws soci::soci_error / std::exception.
    void connect(const ConnectionTarget& target) {
        for (std::size_t i = 0; i < pool_size_; ++i) open_session(pool_.at(i), target);
        {
            soci::session sql(pool_);
            version_ = migrate(sql, backend_);
        }
        GroupCommitWriter::WithSession with_session;
        if (target.backend == Backend::sqlite && target.sqlite_path == ":memory:") {
            // One database per connection: the writer borrows the only one, batch by batch.
            // The pooled session itself (not a borrowing wrapper): the prepared statements keep it.
            with_session = [this](const std::function<void(soci::session&)>& f) {
                struct Lease {
                    soci::connection_pool& pool;
                    std::size_t position;
                    ~Lease() { pool.give_back(position); }
                } lease{pool_, pool_.lease()};
                f(pool_.at(lease.position));
            };
        } else {
            open_session(writer_session_, target);
            with_session = [this](const std::function<void(soci::session&)>& f) { f(writer_session_); };
        }
        writer_ = std::make_unique<GroupCommitWriter>(backend_, url_, std::move(with_session), 512,
                                                      [this] { statements_.reset(); });
    }

    Backend backend() const override { return backend_; }

    void open_session(soci::session& sql, const ConnectionTarget& target) {
        if (backend_ == Backend::sqlite) {
            sql.open(soci::sqlite3, "db=" + quoted(target.sqlite_path) +
                                        " timeout=" + std::to_string(kSqliteBusyTimeoutMs / 1000));
            // busy_timeout first: switching to WAL waits for other connections opening now.
            sql << "PRAGMA busy_timeout=" + std::to_string(kSqliteBusyTimeoutMs);
            std::string mode;
            sql << "PRAGMA journal_mode=WAL", soci::into(mode);
            sql << "PRAGMA synchronous=NORMAL";
            sql << "PRAGMA foreign_keys=ON";
            // Checkpoint every ~40 MB of WAL rather than every 4 MB: fewer, larger checkpoints on the
            // writer; the WAL file is reset once a checkpoint catches up, so it does not grow for good.
            sql << "PRAGMA wal_autocheckpoint=10000";
            sql << "PRAGMA temp_store=MEMORY";
            sql << "PRAGMA cache_size=-16384";  // 16 MB of pages per connection
        } else {
            sql.open(soci::postgresql, target.pg_conninfo);
            sql << "SET client_min_messages TO WARNING";
        }
    }

    int schema_version() override {
        try {
            soci::session sql(pool_);
            int version = 0;
            sql << "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", soci::into(version);
            return version;
        } catch (const std::exception& e) {
            store_error("schema_version on {}: {}", url_, e.what());
            return version_;
        }
    }

    sdk::Status ping() override {
        try {
            soci::session sql(pool_);
            int one = 0;
            sql << "SELECT 1", soci::into(one);
            if (one != 1) return failure("ping", "SELECT 1 answered " + std::to_string(one));
            return {};
        } catch (const std::exception& e) {
            return failure("ping", e.what());
        }
    }

    // ------------------------------------------------------------ tenants and imports

    sdk::Status upsert_tenant(const std::string& tenant_id, const std::string& name) override {
        long long now = now_millis();
        auto error = write([&](soci::session& sql) {
            sql << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (:id, :name, :c, :u) "
                   "ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
                soci::use(tenant_id), soci::use(name), soci::use(now), soci::use(now);
        });
        if (!error.empty()) return failure("upsert_tenant " + tenant_id, error);
        return {};
    }

    sdk::Result<ImportStats> import_offerings(const std::string& tenant_id,
                                              const std::vector<sdk::Offering>& offerings) override {
        std::vector<Record> records;
        records.reserve(offerings.size());
        for (const auto& o : offerings)
            records.push_back({o.id, json::serialize(sdk::to_json(o)), &o, nullptr, nullptr});
        return import_records(tenant_id, "offerings", records);
    }

    sdk::Result<ImportStats> import_knowledge(const std::string& tenant_id,
                                              const std::vector<sdk::KnowledgeEntry>& entries) override {
        std::vector<Record> records;
        records.reserve(entries.size());
        for (const auto& e : entries)
            records.push_back({e.id, json::serialize(sdk::to_json(e)), nullptr, &e, nullptr});
        return import_records(tenant_id, "knowledge", records);
    }

    sdk::Result<ImportStats> import_resources(const std::string& tenant_id,
                                              const std::vector<sdk::Resource>& resources) override {
        std::vector<Record> records;
        records.reserve(resources.size());
        for (const auto& r : resources)
            records.push_back({r.id, json::serialize(resource_json(r)), nullptr, nullptr, &r});
        return import_records(tenant_id, "resources", records);
    }

    sdk::Result<std::vector<sdk::Offering>> offerings(const std::string& tenant_id) override {
        return read_records<sdk::Offering>(tenant_id, "offerings", sdk::parse_offering);
    }

    sdk::Result<std::vector<sdk::KnowledgeEntry>> knowledge(const std::string& tenant_id) override {
        return read_records<sdk::KnowledgeEntry>(tenant_id, "knowledge", sdk::parse_knowledge_entry);
    }

    sdk::Result<std::vector<sdk::Resource>> resources(const std::string& tenant_id) override {
        return read_records<sdk::Resource>(tenant_id, "resources", sdk::parse_resource);
    }

    sdk::Result<std::vector<sdk::KnowledgeHit>> search_knowledge(
        const std::string& tenant_id, std::string_view query,
        std::string_view /*language: every language is indexed*/, std::size_t limit) override {
        std::vector<sdk::KnowledgeHit> hits;
        auto terms = query_terms(query);
        if (terms.empty() || limit == 0) return hits;
        try {
            soci::session sql(pool_);
            std::string data;
            double score = 0;
            long long max_rows = static_cast<long long>(std::min<std::size_t>(limit, 1000));
            std::string match;
            std::string sql_text;
            if (backend_ == Backend::sqlite) {
                // bm25 is lower for better matches; the tenant column only scopes (weight 0).
                match = "tenant : " + tenant_token(tenant_id) + " AND {question keywords answer} : (" +
                        fts5_query(terms) + ")";
                sql_text =
                    "SELECT k.data, f.rank FROM (SELECT rowid AS pk, "
                    "bm25(knowledge_fts, 0.0, 4.0, 2.0, 1.0) AS rank FROM knowledge_fts "
                    "WHERE knowledge_fts MATCH :match) f JOIN knowledge k ON k.pk = f.pk "
                    "WHERE k.tenant_id = :tenant AND k.removed = 0 ORDER BY f.rank, k.position LIMIT :n";
            } else {
                match = tsquery(terms);
                sql_text =
                    "SELECT k.data, ts_rank(k.search_vector, q.query) AS rank FROM knowledge k, "
                    "(SELECT to_tsquery('simple', CAST(:match AS TEXT)) AS query) q "
                    "WHERE k.tenant_id = :tenant AND k.removed = 0 AND k.search_vector @@ q.query "
                    "ORDER BY rank DESC, k.position LIMIT :n";
            }
            soci::statement st = (sql.prepare << sql_text, soci::into(data), soci::into(score),
                                  soci::use(match), soci::use(tenant_id), soci::use(max_rows));
            st.execute();
            while (st.fetch()) {
                // A row that no longer parses is left out, as read_records does: it fails no search.
                boost::system::error_code ec;
                auto value = json::parse(data, ec);
                if (ec) continue;
                auto entry = sdk::parse_knowledge_entry(value);
                if (!entry) continue;
                hits.push_back({std::move(entry.value()), backend_ == Backend::sqlite ? -score : score});
            }
        } catch (const std::exception& e) {
            return failure("search_knowledge [" + tenant_id + "]", e.what());
        }
        return hits;
    }

    // ------------------------------------------------------------ conversations

    sdk::Result<Conversation> open_conversation(const std::string& tenant_id, const std::string& user_id,
                                                const std::string& channel, const std::string& session_id,
                                                std::chrono::system_clock::time_point now,
                                                std::chrono::seconds idle_timeout) override {
        // Chosen before queuing: a retried unit of work must not make other ids.
        const std::string new_id = new_uuid();
        const std::string new_session = sdk::random_hex(16);
        sdk::Result<Conversation> out = unknown_tenant(tenant_id);
        auto error = write([&](soci::session& sql) {
            out = open_conversation_in(sql, tenant_id, user_id, channel, session_id, now, idle_timeout,
                                       new_id, new_session);
        });
        if (!error.empty()) return failure("open_conversation [" + tenant_id + "] user " + user_id, error);
        return out;
    }

    sdk::Status save_state(const std::string& tenant_id, const std::string& conversation_id,
                           const json::object& state) override {
        std::string text = json::serialize(state);
        sdk::Status out;
        auto error = write([&](soci::session& sql) {
            soci::statement st =
                (sql.prepare << "UPDATE conversations SET state = :s WHERE tenant_id = :t AND id = :c",
                 soci::use(text), soci::use(tenant_id), soci::use(conversation_id));
            st.execute(true);
            out = st.get_affected_rows() == 0 ? sdk::Status(unknown_conversation(tenant_id, conversation_id))
                                              : sdk::Status();
        });
        if (!error.empty())
            return failure("save_state [" + tenant_id + "] conversation " + conversation_id, error);
        return out;
    }

    sdk::Result<std::string> append_message(const std::string& tenant_id, const std::string& conversation_id,
                                            const StoredMessage& message,
                                            const std::string& client_message_id,
                                            std::string* conversation_status) override {
        const std::string id = new_uuid();
        sdk::Result<std::string> out = id;
        std::string status;
        // A unique-index violation (another process stored the same client id between the check and
        // the insert) fails the batch; on the retry alone the check finds the stored row.
        auto error = write([&](soci::session& sql) {
            auto& st = statements(sql);
            if (auto existing = message_by_client_id(st, tenant_id, client_message_id)) {
                out = duplicate(client_message_id, *existing);
                return;
            }
            if (!touch_conversation(st, tenant_id, conversation_id, message.at, nullptr,
                                    conversation_status ? &status : nullptr)) {
                out = unknown_conversation(tenant_id, conversation_id);
                return;
            }
            insert_message(st, id, tenant_id, conversation_id, message, client_message_id, {}, {});
            out = id;
        });
        if (!error.empty())
            return failure("append_message [" + tenant_id + "] conversation " + conversation_id, error);
        if (out && conversation_status) *conversation_status = std::move(status);
        return out;
    }

    sdk::Result<std::vector<StoredMessage>> recent_messages(const std::string& tenant_id,
                                                            const std::string& conversation_id,
                                                            std::size_t limit) override {
        std::vector<StoredMessage> out;
        if (limit == 0) return out;
        try {
            soci::session sql(pool_);
            StoredMessage m;
            long long at = 0;
            std::string metadata;
            long long max_rows = static_cast<long long>(std::min<std::size_t>(limit, 100000));
            soci::statement st =
                (sql.prepare << "SELECT role, text, method, language, at, metadata FROM messages "
                                "WHERE tenant_id = :t AND conversation_id = :c ORDER BY seq DESC LIMIT :n",
                 soci::into(m.role), soci::into(m.text), soci::into(m.method), soci::into(m.language),
                 soci::into(at), soci::into(metadata), soci::use(tenant_id), soci::use(conversation_id),
                 soci::use(max_rows));
            st.execute();
            while (st.fetch()) {
                m.at = from_millis(at);
                m.metadata.clear();
                if (!metadata.empty()) {
                    boost::system::error_code ec;
                    auto parsed = json::parse(metadata, ec);
                    if (!ec && parsed.is_object()) m.metadata = std::move(parsed.get_object());
                }
                out.push_back(m);
            }
            std::reverse(out.begin(), out.end());
        } catch (const std::exception& e) {
            return failure("recent_messages [" + tenant_id + "] conversation " + conversation_id, e.what());
        }
        return out;
    }

    sdk::Status record_tool_call(const ToolCallRecord& r) override {
        long long at = now_millis();
        ToolCallRow row{&r, json::serialize(r.arguments), json::serialize(r.result)};
        auto error =
            write([&](soci::session& sql) { insert_tool_call(statements(sql), row, r.message_id, at); });
        if (!error.empty()) return failure("record_tool_call [" + r.tenant_id + "] " + r.tool, error);
        return {};
    }

    sdk::Status record_usage(const UsageRecord& r) override {
        long long at = now_millis();
        auto error = write([&](soci::session& sql) { insert_usage(statements(sql), r, r.message_id, at); });
        if (!error.empty()) return failure("record_usage [" + r.tenant_id + "]", error);
        return {};
    }

    sdk::Result<std::string> finish_turn(const TurnRecord& turn) override {
        const std::string id = new_uuid();
        const long long now = now_millis();
        const std::string state = json::serialize(turn.state);
        // Serialized here, on the caller's thread: the writer thread is the one every turn waits on.
        std::vector<ToolCallRow> calls;
        calls.reserve(turn.tool_calls.size());
        for (const auto& call : turn.tool_calls)
            calls.push_back({&call, json::serialize(call.arguments), json::serialize(call.result)});
        const long long seen = to_millis(turn.reply.at == std::chrono::system_clock::time_point{}
                                             ? std::chrono::system_clock::now()
                                             : turn.reply.at);
        double cost = 0;
        for (const auto& usage : turn.usage) cost += usage.cost_usd;
        sdk::Result<std::string> out = id;
        auto error = write([&](soci::session& sql) {
            auto& st = statements(sql);
            // The claim first: a turn a retry took over stores nothing (the retry's reply counts).
            if (turn.claimed_at) {
                auto& a = st.mark_answered;
                a.tenant = turn.tenant_id;
                a.message = turn.in_reply_to;
                a.claimed_at = to_millis(*turn.claimed_at);
                a.st.execute(true);
                if (a.st.get_affected_rows() == 0) {
                    out = sdk::make_error(sdk::errc::duplicate_in_flight,
                                          "message " + turn.in_reply_to +
                                              " was taken over by a retry before this turn finished");
                    return;
                }
            }
            // The conversation next: when it is not this tenant's, nothing is written (the mark
            // above is undone; this unit holds the row).
            if (!touch_conversation(st, turn.tenant_id, turn.conversation_id, turn.reply.at, &state)) {
                if (turn.claimed_at)
                    sql << "UPDATE messages SET answered = 0 WHERE tenant_id = :t AND id = :m",
                        soci::use(turn.tenant_id), soci::use(turn.in_reply_to);
                out = unknown_conversation(turn.tenant_id, turn.conversation_id);
                return;
            }
            insert_message(st, id, turn.tenant_id, turn.conversation_id, turn.reply, {}, turn.reply_json,
                           turn.in_reply_to, cost);
            for (const auto& earlier : turn.also_answers)
                sql << "UPDATE messages SET answered = 1 WHERE tenant_id = :t AND id = :m",
                    soci::use(turn.tenant_id), soci::use(earlier);
            for (const auto& call : calls) insert_tool_call(st, call, id, now);
            for (const auto& usage : turn.usage) insert_usage(st, usage, id, now);
            if (turn.outbound) queue_unless_queued(sql, *turn.outbound);
            if (!turn.user_id.empty()) {
                auto& c = st.customer_seen;
                c.at = seen;
                c.channel = turn.channel;
                c.tenant = turn.tenant_id;
                c.user = turn.user_id;
                c.st.execute(true);
            }
            out = id;
        });
        if (!error.empty())
            return failure("finish_turn [" + turn.tenant_id + "] conversation " + turn.conversation_id,
                           error);
        return out;
    }

    sdk::Result<StoredReply> stored_reply(const std::string& tenant_id,
                                          const std::string& client_message_id) override {
        try {
            soci::session sql(pool_);
            std::string message_id;
            StoredReply out;
            soci::indicator found = soci::i_null;
            long long claimed_at = 0;
            if (!client_message_id.empty()) {
                sql << "SELECT m.id, m.conversation_id, c.user_id, COALESCE(m.claimed_at, m.at) "
                       "FROM messages m JOIN conversations c "
                       "ON c.id = m.conversation_id AND c.tenant_id = m.tenant_id "
                       "WHERE m.tenant_id = :t AND m.client_message_id = :m AND m.client_message_id <> ''",
                    soci::into(message_id, found), soci::into(out.conversation_id), soci::into(out.user_id),
                    soci::into(claimed_at), soci::use(tenant_id), soci::use(client_message_id);
            }
            if (client_message_id.empty() || !sql.got_data() || found != soci::i_ok)
                return sdk::make_error(sdk::errc::not_found, "no message with client message id \"" +
                                                                 client_message_id + "\" for tenant \"" +
                                                                 tenant_id + "\"");
            out.message_id = message_id;
            out.claimed_at = from_millis(claimed_at);
            std::string reply;
            soci::indicator has_reply = soci::i_null;
            sql << "SELECT reply_json FROM messages WHERE tenant_id = :t AND conversation_id = :c "
                   "AND in_reply_to = :m AND reply_json <> '' ORDER BY seq LIMIT 1",
                soci::into(reply, has_reply), soci::use(tenant_id), soci::use(out.conversation_id),
                soci::use(message_id);
            if (sql.got_data() && has_reply == soci::i_ok) {
                out.reply_json = std::move(reply);
                return out;
            }
            // Answered without a reply of its own: an earlier message of a burst, which the burst's
            // reply (the next one in its conversation) answered.
            int answered = 0;
            long long seq = 0;
            sql << "SELECT answered, seq FROM messages WHERE tenant_id = :t AND id = :m",
                soci::into(answered), soci::into(seq), soci::use(tenant_id), soci::use(message_id);
            if (answered == 0) return out;
            sql << "SELECT reply_json FROM messages WHERE tenant_id = :t AND conversation_id = :c "
                   "AND seq > :s AND reply_json <> '' ORDER BY seq LIMIT 1",
                soci::into(reply, has_reply), soci::use(tenant_id), soci::use(out.conversation_id),
                soci::use(seq);
            if (sql.got_data() && has_reply == soci::i_ok) out.reply_json = std::move(reply);
            return out;
        } catch (const std::exception& e) {
            return failure("stored_reply [" + tenant_id + "] " + client_message_id, e.what());
        }
    }

    sdk::Result<TakenOver> take_over_message(const std::string& tenant_id,
                                             const std::string& client_message_id,
                                             const std::string& conversation_id,
                                             std::chrono::system_clock::time_point stale_before,
                                             std::chrono::system_clock::time_point now) override {
        const long long stale_ms = to_millis(stale_before);
        const long long now_ms = to_millis(now);
        sdk::Result<TakenOver> out = unknown_conversation(tenant_id, conversation_id);
        auto error = write([&](soci::session& sql) {
            int conversations = 0;
            sql << "SELECT COUNT(*) FROM conversations WHERE tenant_id = :t AND id = :c",
                soci::into(conversations), soci::use(tenant_id), soci::use(conversation_id);
            if (conversations == 0) {
                out = unknown_conversation(tenant_id, conversation_id);
                return;
            }
            TakenOver taken;
            long long at = 0;
            soci::indicator found = soci::i_null;
            if (!client_message_id.empty()) {
                sql << "SELECT id, conversation_id, role, text, method, language, at FROM messages "
                       "WHERE tenant_id = :t AND client_message_id = :m AND client_message_id <> ''",
                    soci::into(taken.message_id, found), soci::into(taken.from_conversation),
                    soci::into(taken.message.role), soci::into(taken.message.text),
                    soci::into(taken.message.method), soci::into(taken.message.language), soci::into(at),
                    soci::use(tenant_id), soci::use(client_message_id);
            }
            if (client_message_id.empty() || !sql.got_data() || found != soci::i_ok) {
                out = sdk::make_error(sdk::errc::not_found, "no message with client message id \"" +
                                                                client_message_id + "\" for tenant \"" +
                                                                tenant_id + "\"");
                return;
            }
            taken.message.at = from_millis(at);
            // The decision, on this row alone: on PostgreSQL a second claimer waits for the first's
            // row lock, then finds the claim young and takes nothing; SQLite has one writer at a time.
            soci::statement claim =
                (sql.prepare << "UPDATE messages SET claimed_at = :now, conversation_id = :c "
                                "WHERE tenant_id = :t AND id = :id AND answered = 0 "
                                "AND COALESCE(claimed_at, at) <= :stale",
                 soci::use(now_ms), soci::use(conversation_id), soci::use(tenant_id),
                 soci::use(taken.message_id), soci::use(stale_ms));
            claim.execute(true);
            if (claim.get_affected_rows() == 0) {
                out = sdk::make_error(sdk::errc::duplicate_in_flight,
                                      "client message id \"" + client_message_id +
                                          "\" is held by another turn, or was answered");
                return;
            }
            touch_conversation(statements(sql), tenant_id, conversation_id, now, nullptr);
            out = std::move(taken);
        });
        if (!error.empty())
            return failure("take_over_message [" + tenant_id + "] " + client_message_id, error);
        return out;
    }

    sdk::Status release_message(const std::string& tenant_id, const std::string& message_id,
                                std::chrono::system_clock::time_point claimed_at) override {
        const long long claimed_ms = to_millis(claimed_at);
        auto error = write([&](soci::session& sql) {
            sql << "UPDATE messages SET claimed_at = 0 WHERE tenant_id = :t AND id = :id AND answered = 0 "
                   "AND claimed_at = :claimed",
                soci::use(tenant_id), soci::use(message_id), soci::use(claimed_ms);
        });
        if (!error.empty()) return failure("release_message [" + tenant_id + "] " + message_id, error);
        return {};
    }

    sdk::Result<std::vector<ToolCallRecord>> tool_calls(const std::string& tenant_id,
                                                        const std::string& conversation_id) override {
        std::vector<ToolCallRecord> out;
        try {
            soci::session sql(pool_);
            ToolCallRecord r;
            std::string arguments, result;
            int ok = 0;
            soci::statement st =
                (sql.prepare
                     << "SELECT message_id, tool, arguments, result, ok, duration_ms, error FROM tool_calls "
                        "WHERE tenant_id = :t AND conversation_id = :c ORDER BY seq",
                 soci::into(r.message_id), soci::into(r.tool), soci::into(arguments), soci::into(result),
                 soci::into(ok), soci::into(r.duration_ms), soci::into(r.error), soci::use(tenant_id),
                 soci::use(conversation_id));
            st.execute();
            while (st.fetch()) {
                r.tenant_id = tenant_id;
                r.conversation_id = conversation_id;
                r.arguments = parse_object(arguments);
                r.result = parse_value(result);
                r.ok = ok != 0;
                out.push_back(r);
            }
        } catch (const std::exception& e) {
            return failure("tool_calls [" + tenant_id + "] conversation " + conversation_id, e.what());
        }
        return out;
    }

    // ------------------------------------------------------------ usage and costs

    sdk::Result<std::vector<UsageRecord>> usage(const std::string& tenant_id,
                                                const std::string& conversation_id) override {
        std::vector<UsageRecord> out;
        try {
            soci::session sql(pool_);
            UsageRecord r;
            long long input = 0, output = 0, at = 0;
            int estimated = 0;
            soci::statement st =
                (sql.prepare
                     << "SELECT provider, model, input_tokens, output_tokens, cost_usd, step, estimated, "
                        "message_id, at FROM usage WHERE tenant_id = :t AND conversation_id = :c "
                        "ORDER BY seq",
                 soci::into(r.provider), soci::into(r.model), soci::into(input), soci::into(output),
                 soci::into(r.cost_usd), soci::into(r.step), soci::into(estimated), soci::into(r.message_id),
                 soci::into(at), soci::use(tenant_id), soci::use(conversation_id));
            st.execute();
            while (st.fetch()) {
                r.tenant_id = tenant_id;
                r.conversation_id = conversation_id;
                r.input_tokens = input;
                r.output_tokens = output;
                r.estimated = estimated != 0;
                r.at = from_millis(at);
                out.push_back(r);
            }
        } catch (const std::exception& e) {
            return failure("usage [" + tenant_id + "] conversation " + conversation_id, e.what());
        }
        return out;
    }

    sdk::Result<double> message_cost(const std::string& tenant_id, const std::string& message_id) override {
        try {
            soci::session sql(pool_);
            double cost = 0;
            soci::indicator found = soci::i_null;
            sql << "SELECT cost_usd FROM messages WHERE tenant_id = :t AND id = :m", soci::into(cost, found),
                soci::use(tenant_id), soci::use(message_id);
            if (!sql.got_data() || found != soci::i_ok)
                return sdk::make_error(sdk::errc::not_found,
                                       "no message \"" + message_id + "\" for tenant \"" + tenant_id + "\"");
            return cost;
        } catch (const std::exception& e) {
            return failure("message_cost [" + tenant_id + "] " + message_id, e.what());
        }
    }

    sdk::Result<double> spent_usd(const std::string& tenant_id, std::chrono::system_clock::time_point from,
                                  std::chrono::system_clock::time_point to) override {
        try {
            soci::session sql(pool_);
            const long long from_ms = to_millis(from);
            const long long to_ms = to_millis(to);
            double spent = 0;
            sql << "SELECT COALESCE(SUM(cost_usd), 0.0) FROM usage WHERE tenant_id = :t AND at >= :f AND at "
                   "< :u",
                soci::into(spent), soci::use(tenant_id), soci::use(from_ms), soci::use(to_ms);
            return spent;
        } catch (const std::exception& e) {
            return failure("spent_usd [" + tenant_id + "]", e.what());
        }
    }

    sdk::Result<std::vector<UsageSlice>> usage_slices(const std::string& tenant_id,
                                                      std::chrono::system_clock::time_point from,
                                                      std::chrono::system_clock::time_point to) override {
        constexpr long long kSliceMs = 15 * 60 * 1000;
        std::vector<UsageSlice> out;
        try {
            soci::session sql(pool_);
            const long long from_ms = to_millis(from);
            const long long to_ms = to_millis(to);
            const std::string slice_of =
                "at / " + std::to_string(kSliceMs);  // a literal: PostgreSQL groups by it
            UsageSlice s;
            long long slice = 0, calls = 0, input = 0, output = 0, estimated = 0;
            // Sums cast to BIGINT: PostgreSQL sums BIGINT into NUMERIC.
            soci::statement st =
                (sql.prepare << "SELECT " + slice_of +
                                    ", provider, model, COUNT(*), "
                                    "CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT), "
                                    "SUM(cost_usd), CAST(SUM(estimated) AS BIGINT) "
                                    "FROM usage WHERE tenant_id = :t AND at >= :f AND at < :u "
                                    "GROUP BY " +
                                    slice_of + ", provider, model ORDER BY 1, 2, 3",
                 soci::into(slice), soci::into(s.provider), soci::into(s.model), soci::into(calls),
                 soci::into(input), soci::into(output), soci::into(s.cost_usd), soci::into(estimated),
                 soci::use(tenant_id), soci::use(from_ms), soci::use(to_ms));
            st.execute();
            while (st.fetch()) {
                s.start = from_millis(slice * kSliceMs);
                s.calls = calls;
                s.input_tokens = input;
                s.output_tokens = output;
                s.estimated_calls = estimated;
                out.push_back(s);
            }
        } catch (const std::exception& e) {
            return failure("usage_slices [" + tenant_id + "]", e.what());
        }
        return out;
    }

    // ------------------------------------------------------------ the outbox

    /// Stores `record` as queued, unless a message with its idempotency key is stored already:
    /// the stored one, either way.
    static OutboxRecord queue_unless_queued(soci::session& sql, const OutboxRecord& record) {
        std::vector<OutboxRecord> existing;
        select_outbox(sql, "WHERE tenant_id = :a AND idempotency_key = :b", record.tenant_id,
                      record.idempotency_key, 0, 0, 1, existing);
        if (!existing.empty()) return std::move(existing.front());
        const long long created = to_millis(record.created_at);
        const std::string queued = "queued";
        sql << "INSERT INTO outbox (id, tenant_id, channel, recipient, idempotency_key, payload, state, "
               "created_at, updated_at, next_attempt_at) VALUES (:id, :t, :c, :r, :k, :p, :s, :cr, :u, :n)",
            soci::use(record.id), soci::use(record.tenant_id), soci::use(record.channel),
            soci::use(record.recipient), soci::use(record.idempotency_key), soci::use(record.payload),
            soci::use(queued), soci::use(created), soci::use(created), soci::use(created);
        OutboxRecord stored = record;
        stored.state = queued;
        stored.attempts = 0;
        stored.updated_at = stored.next_attempt_at = record.created_at;
        return stored;
    }

    sdk::Result<OutboxRecord> outbox_enqueue(const OutboxRecord& record) override {
        sdk::Result<OutboxRecord> out = record;
        auto error = write([&](soci::session& sql) { out = queue_unless_queued(sql, record); });
        if (!error.empty()) return failure("outbox_enqueue [" + record.tenant_id + "]", error);
        return out;
    }

    sdk::Result<std::vector<OutboxRecord>> outbox_claim(std::chrono::system_clock::time_point now,
                                                        std::chrono::system_clock::time_point lease_until,
                                                        std::size_t limit) override {
        std::vector<OutboxRecord> out;
        if (limit == 0) return out;
        const long long now_ms = to_millis(now);
        const long long lease_ms = to_millis(lease_until);
        auto error = write([&](soci::session& sql) {
            out.clear();  // a unit of work may run twice
            std::vector<OutboxRecord> due;
            select_outbox(sql,
                          "WHERE state = 'queued' AND next_attempt_at <= :a AND claimed_until <= :b "
                          "ORDER BY next_attempt_at, created_at",
                          std::string(), std::string(), now_ms, now_ms, limit, due);
            for (auto& record : due) {
                // Another process may have claimed it since the SELECT: the UPDATE decides.
                soci::statement st =
                    (sql.prepare
                         << "UPDATE outbox SET claimed_until = :l, attempts = attempts + 1, "
                            "updated_at = :u WHERE id = :id AND state = 'queued' AND claimed_until <= :n",
                     soci::use(lease_ms), soci::use(now_ms), soci::use(record.id), soci::use(now_ms));
                st.execute(true);
                if (st.get_affected_rows() != 1) continue;
                record.attempts += 1;
                record.claimed_until = lease_until;
                record.updated_at = now;
                out.push_back(std::move(record));
            }
        });
        if (!error.empty()) return failure("outbox_claim", error);
        return out;
    }

    sdk::Result<bool> outbox_finish_attempt(const OutboxAttempt& a) override {
        bool out = false;
        const long long claimed = to_millis(a.claimed_until);
        const long long now_ms = to_millis(a.now);
        const long long next = to_millis(a.next_attempt_at);
        const bool accepted = a.state == "sent";
        const long long sent_at = accepted ? now_ms : 0;
        // An accepted attempt is recorded even when its claim expired meanwhile (a slow provider):
        // the message went out, and another attempt now would send it twice.
        const std::string sql_text = std::string(
            "UPDATE outbox SET state = :s, provider_id = :p, error = :e, next_attempt_at = :n, "
            "claimed_until = 0, updated_at = :u, sent_at = :sent WHERE id = :id AND state = 'queued' "
            "AND (claimed_until = :c OR :accepted = 1)");
        const int accepted_flag = accepted ? 1 : 0;
        auto error = write([&](soci::session& sql) {
            soci::statement st = (sql.prepare << sql_text, soci::use(a.state), soci::use(a.provider_id),
                                  soci::use(a.error), soci::use(next), soci::use(now_ms), soci::use(sent_at),
                                  soci::use(a.id), soci::use(claimed), soci::use(accepted_flag));
            st.execute(true);
            out = st.get_affected_rows() == 1;
        });
        if (!error.empty()) return failure("outbox_finish_attempt " + a.id, error);
        return out;
    }

    sdk::Status outbox_release(const std::string& id,
                               std::chrono::system_clock::time_point claimed_until) override {
        const long long claimed = to_millis(claimed_until);
        auto error = write([&](soci::session& sql) {
            sql << "UPDATE outbox SET claimed_until = 0, attempts = attempts - 1 WHERE id = :id AND state = "
                   "'queued' "
                   "AND claimed_until = :c",
                soci::use(id), soci::use(claimed);
        });
        if (!error.empty()) return failure("outbox_release " + id, error);
        return {};
    }

    sdk::Result<bool> outbox_report(const std::string& tenant_id, const std::string& channel,
                                    const std::string& provider_id, const std::string& state,
                                    const std::string& error_text,
                                    std::chrono::system_clock::time_point now) override {
        bool out = false;
        if (provider_id.empty()) return out;
        const long long now_ms = to_millis(now);
        auto error = write([&](soci::session& sql) {
            out = false;
            std::string id, current;
            soci::indicator found = soci::i_null;
            sql << "SELECT id, state FROM outbox WHERE tenant_id = :t AND channel = :c AND provider_id = :p "
                   "AND provider_id <> ''",
                soci::into(id, found), soci::into(current), soci::use(tenant_id), soci::use(channel),
                soci::use(provider_id);
            if (!sql.got_data() || found != soci::i_ok || !report_moves(current, state)) return;
            // A failure keeps the provider's reason; any other report keeps the last attempt's error.
            const std::string sql_text =
                std::string("UPDATE outbox SET state = :s, updated_at = :u, error = ") +
                (state == "failed" ? ":e" : "error || :e") +
                " WHERE tenant_id = :t AND id = :id AND state = :old";
            const std::string kept_error = state == "failed" ? error_text : std::string();
            soci::statement st =
                (sql.prepare << sql_text, soci::use(state), soci::use(now_ms), soci::use(kept_error),
                 soci::use(tenant_id), soci::use(id), soci::use(current));
            st.execute(true);
            out = st.get_affected_rows() == 1;
        });
        if (!error.empty()) return failure("outbox_report [" + tenant_id + "] " + provider_id, error);
        return out;
    }

    sdk::Result<OutboxRecord> outbox_message(const std::string& tenant_id, const std::string& id) override {
        std::vector<OutboxRecord> found;
        try {
            soci::session sql(pool_);
            select_outbox(sql, "WHERE tenant_id = :a AND id = :b", tenant_id, id, 0, 0, 1, found);
        } catch (const std::exception& e) {
            return failure("outbox_message [" + tenant_id + "] " + id, e.what());
        }
        if (found.empty())
            return sdk::make_error(sdk::errc::not_found,
                                   "no outbox message \"" + id + "\" for tenant \"" + tenant_id + "\"");
        return std::move(found.front());
    }

    sdk::Result<std::vector<OutboxRecord>> outbox_messages(const std::string& tenant_id,
                                                           std::size_t limit) override {
        std::vector<OutboxRecord> out;
        try {
            soci::session sql(pool_);
            select_outbox(sql, "WHERE tenant_id = :a ORDER BY created_at, id", tenant_id, std::string(), 0, 0,
                          limit, out);
        } catch (const std::exception& e) {
            return failure("outbox_messages [" + tenant_id + "]", e.what());
        }
        return out;
    }

    sdk::Result<std::vector<std::pair<std::string, long long>>> outbox_counts() override {
        std::vector<std::pair<std::string, long long>> out;
        try {
            soci::session sql(pool_);
            std::string state;
            long long count = 0;
            soci::statement st =
                (sql.prepare << "SELECT state, CAST(COUNT(*) AS BIGINT) FROM outbox GROUP BY state "
                                "ORDER BY state",
                 soci::into(state), soci::into(count));
            st.execute();
            while (st.fetch()) out.emplace_back(state, count);
        } catch (const std::exception& e) {
            return failure("outbox_counts", e.what());
        }
        return out;
    }

    sdk::Result<std::string> server_secret(const std::string& name, const std::string& candidate) override {
        std::string value;
        auto error = write([&](soci::session& sql) {
            const long long now = to_millis(std::chrono::system_clock::now());
            sql << "INSERT INTO server_secrets (name, value, created_at) VALUES (:n, :v, :a) "
                   "ON CONFLICT (name) DO NOTHING",
                soci::use(name), soci::use(candidate), soci::use(now);
            sql << "SELECT value FROM server_secrets WHERE name = :n", soci::into(value), soci::use(name);
        });
        if (!error.empty()) return failure("server_secret " + name, error);
        return value;
    }

    sdk::Result<std::optional<std::chrono::system_clock::time_point>> last_inbound_at(
        const std::string& tenant_id, const std::string& user_id, const std::string& channel) override {
        std::optional<std::chrono::system_clock::time_point> out;
        try {
            soci::session sql(pool_);
            long long at = 0;
            soci::indicator found = soci::i_null;
            // The customer's conversations on the channel (conversations_latest), then their
            // messages (messages_conversation).
            sql << "SELECT MAX(m.at) FROM conversations c JOIN messages m ON m.tenant_id = c.tenant_id AND "
                   "m.conversation_id = c.id WHERE c.tenant_id = :t AND c.user_id = :u AND c.channel = :c "
                   "AND m.role = 'user'",
                soci::into(at, found), soci::use(tenant_id), soci::use(user_id), soci::use(channel);
            if (sql.got_data() && found == soci::i_ok) out = from_millis(at);
        } catch (const std::exception& e) {
            return failure("last_inbound_at [" + tenant_id + "]", e.what());
        }
        return out;
    }

    sdk::Result<std::optional<std::chrono::system_clock::time_point>> outbox_next_due() override {
        std::optional<std::chrono::system_clock::time_point> out;
        try {
            soci::session sql(pool_);
            long long due = 0;
            soci::indicator found = soci::i_null;
            sql << std::string("SELECT MIN(") + (backend_ == Backend::sqlite ? "MAX" : "GREATEST") +
                       "(next_attempt_at, claimed_until)) FROM outbox WHERE state = 'queued'",
                soci::into(due, found);
            if (sql.got_data() && found == soci::i_ok) out = from_millis(due);
        } catch (const std::exception& e) {
            return failure("outbox_next_due", e.what());
        }
        return out;
    }

    sdk::Result<std::vector<OutboxRecord>> outbox_stuck(std::chrono::system_clock::time_point created_before,
                                                        std::size_t limit) override {
        std::vector<OutboxRecord> out;
        try {
            soci::session sql(pool_);
            const long long before = to_millis(created_before);
            select_outbox(sql, "WHERE state = 'queued' AND created_at <= :a ORDER BY created_at",
                          std::string(), std::string(), before, 0, limit, out);
        } catch (const std::exception& e) {
            return failure("outbox_stuck", e.what());
        }
        return out;
    }

private:
    /// One record to import: its id, its JSON form, and the record itself (one pointer set).
    struct Record {
        std::string id;
        std::string data;
        const sdk::Offering* offering;
        const sdk::KnowledgeEntry* entry;
        const sdk::Resource* resource;
    };

    static std::string quoted(const std::string& value) {
        if (value.find_first_of(" \"") == std::string::npos) return value;
        return "\"" + value + "\"";
    }

    static long long now_millis() { return to_millis(std::chrono::system_clock::now()); }

    /// Runs `work` in the writer's next transaction; empty when committed, else why not.
    std::string write(const GroupCommitWriter::Work& work) { return writer_->run(work); }

    /// Whether a delivery report of `state` moves a message that is `current` (never back).
    static bool report_moves(const std::string& current, const std::string& state) {
        auto rank = [](const std::string& s) {
            if (s == "sent") return 1;
            if (s == "delivered") return 2;
            if (s == "read") return 3;
            return 0;
        };
        if (state == "failed") return current == "sent" || current == "delivered";
        return rank(state) > 0 && rank(current) > 0 && rank(state) > rank(current);
    }

    /// Reads outbox rows, at most `limit` (0: no limit here). `where` (and ORDER BY) names :a and
    /// :b: the texts `a` and `b` when not empty, else the numbers `na` and `nb` when not 0.
    static void select_outbox(soci::session& sql, const std::string& where, const std::string& a,
                              const std::string& b, long long na, long long nb, std::size_t limit,
                              std::vector<OutboxRecord>& out) {
        OutboxRecord r;
        long long created = 0, updated = 0, next = 0, claimed = 0, sent = 0;
        const long long max_rows =
            static_cast<long long>(std::min<std::size_t>(limit == 0 ? 100000 : limit, 100000));
        soci::statement st(sql);
        st.alloc();
        st.prepare(
            "SELECT id, tenant_id, channel, recipient, idempotency_key, payload, state, attempts, "
            "provider_id, error, created_at, updated_at, next_attempt_at, claimed_until, sent_at "
            "FROM outbox " +
            where + " LIMIT :limit");
        st.exchange(soci::into(r.id));
        st.exchange(soci::into(r.tenant_id));
        st.exchange(soci::into(r.channel));
        st.exchange(soci::into(r.recipient));
        st.exchange(soci::into(r.idempotency_key));
        st.exchange(soci::into(r.payload));
        st.exchange(soci::into(r.state));
        st.exchange(soci::into(r.attempts));
        st.exchange(soci::into(r.provider_id));
        st.exchange(soci::into(r.error));
        st.exchange(soci::into(created));
        st.exchange(soci::into(updated));
        st.exchange(soci::into(next));
        st.exchange(soci::into(claimed));
        st.exchange(soci::into(sent));
        if (!a.empty()) st.exchange(soci::use(a));
        if (!b.empty()) st.exchange(soci::use(b));
        if (a.empty() && na != 0) st.exchange(soci::use(na));
        if (b.empty() && nb != 0) st.exchange(soci::use(nb));
        st.exchange(soci::use(max_rows));
        st.define_and_bind();
        st.execute();
        while (st.fetch()) {
            r.created_at = from_millis(created);
            r.updated_at = from_millis(updated);
            r.next_attempt_at = from_millis(next);
            r.claimed_until = from_millis(claimed);
            r.sent_at = from_millis(sent);
            out.push_back(r);
        }
    }

    /// The body of open_conversation, inside the writer's transaction.
    sdk::Result<Conversation> open_conversation_in(
        soci::session& sql, const std::string& tenant_id, const std::string& user_id,
        const std::string& channel, const std::string& session_id, std::chrono::system_clock::time_point now,
        std::chrono::seconds idle_timeout, const std::string& new_id, const std::string& new_session) {
        auto& prepared = statements(sql);
        {
            auto& t = prepared.tenant_exists;
            t.tenant = tenant_id;
            t.count = 0;
            select_one(t.st);
            if (t.count == 0) return unknown_tenant(tenant_id);
        }
        long long now_ms = to_millis(now);
        {
            auto& u = prepared.upsert_customer;
            u.tenant = tenant_id;
            u.user = user_id;
            u.at = now_ms;
            u.channel = channel;
            u.st.execute(true);
        }

        Conversation c;
        c.tenant_id = tenant_id;
        c.user_id = user_id;
        std::string state;
        soci::indicator found = soci::i_null;
        std::string session_owner;
        if (!session_id.empty()) {
            sql << "SELECT id, user_id, channel, state FROM conversations "
                   "WHERE tenant_id = :t AND session_id = :s",
                soci::into(c.id, found), soci::into(session_owner), soci::into(c.channel), soci::into(state),
                soci::use(tenant_id), soci::use(session_id);
            if (sql.got_data() && found == soci::i_ok && session_owner == user_id) {
                c.session_id = session_id;
                c.state = parse_object(state);
                return c;
            }
        } else {
            long long since = now_ms - idle_timeout.count() * 1000;
            sql << "SELECT id, session_id, channel, state FROM conversations "
                   "WHERE tenant_id = :t AND user_id = :u AND channel = :c AND last_message_at > :since "
                   "ORDER BY last_message_at DESC LIMIT 1",
                soci::into(c.id, found), soci::into(c.session_id), soci::into(c.channel), soci::into(state),
                soci::use(tenant_id), soci::use(user_id), soci::use(channel), soci::use(since);
            if (sql.got_data() && found == soci::i_ok) {
                c.state = parse_object(state);
                return c;
            }
        }

        // A new conversation. A session id already held by another customer is not taken over.
        bool session_taken = !session_id.empty() && sql.got_data() && found == soci::i_ok;
        c.id = new_id;
        c.session_id = session_id.empty() || session_taken ? new_session : session_id;
        c.channel = channel;
        c.state = {};
        c.is_new = true;
        std::string empty_state = "{}";
        sql << "INSERT INTO conversations (id, tenant_id, user_id, channel, session_id, state, created_at, "
               "last_message_at) VALUES (:id, :t, :u, :c, :s, :state, :created, :last)",
            soci::use(c.id), soci::use(tenant_id), soci::use(user_id), soci::use(channel),
            soci::use(c.session_id), soci::use(empty_state), soci::use(now_ms), soci::use(now_ms);
        return c;
    }

    /// The writer's prepared statements for `sql`, prepared on first use (again after a failed batch).
    WriterStatements& statements(soci::session& sql) {
        if (!statements_ || statements_->session != &sql) {
            statements_.reset();
            statements_ = std::make_unique<WriterStatements>(sql, backend_);
        }
        return *statements_;
    }

    /// Moves the conversation's last activity to `at` (never back), and sets its state when given.
    /// False when the conversation is not this tenant's.
    /// `status`, when given, gets the conversation's handoff status.
    static bool touch_conversation(WriterStatements& prepared, const std::string& tenant_id,
                                   const std::string& conversation_id,
                                   std::chrono::system_clock::time_point at_time, const std::string* state,
                                   std::string* status = nullptr) {
        auto& t = prepared.touch_conversation;
        t.at = to_millis(at_time == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now()
                                                                            : at_time);
        t.tenant = tenant_id;
        t.conversation = conversation_id;
        if (status) {
            // One row at most (the primary key): select_one steps the statement to its end.
            if (!select_one(t.with_status)) return false;
            *status = t.status;
            return true;
        }
        if (state) t.state = *state;
        auto& st = state ? t.with_state : t.plain;
        st.execute(true);
        return st.get_affected_rows() > 0;
    }

    static void insert_message(WriterStatements& prepared, const std::string& id,
                               const std::string& tenant_id, const std::string& conversation_id,
                               const StoredMessage& message, const std::string& client_message_id,
                               const std::string& reply_json, const std::string& in_reply_to,
                               double cost_usd = 0) {
        auto& m = prepared.insert_message;
        m.at =
            to_millis(message.at == std::chrono::system_clock::time_point{} ? std::chrono::system_clock::now()
                                                                            : message.at);
        m.id = id;
        m.tenant = tenant_id;
        m.conversation = conversation_id;
        m.role = message.role;
        m.text = message.text;
        m.method = message.method;
        m.language = message.language;
        m.client_id = client_message_id;
        m.reply_json = reply_json;
        m.in_reply_to = in_reply_to;
        m.cost = cost_usd;
        m.metadata = message.metadata.empty() ? std::string() : json::serialize(message.metadata);
        // Stored with a client id: the turn that stores it holds it from now on.
        m.claimed = client_message_id.empty() ? soci::i_null : soci::i_ok;
        m.claimed_at = m.at;
        m.st.execute(true);
    }

    static void insert_tool_call(WriterStatements& prepared, const ToolCallRow& row,
                                 const std::string& message_id, long long at) {
        const auto& r = *row.record;
        auto& c = prepared.insert_tool_call;
        c.tenant = r.tenant_id;
        c.conversation = r.conversation_id;
        c.message = message_id;
        c.tool = r.tool;
        c.arguments = row.arguments;
        c.result = row.result;
        c.ok = r.ok ? 1 : 0;
        c.duration_ms = r.duration_ms;
        c.error = r.error;
        c.at = at;
        c.st.execute(true);
    }

    /// `at` is used when the record has no time of its own.
    static void insert_usage(WriterStatements& prepared, const UsageRecord& r, const std::string& message_id,
                             long long at) {
        auto& u = prepared.insert_usage;
        u.tenant = r.tenant_id;
        u.conversation = r.conversation_id;
        u.provider = r.provider;
        u.model = r.model;
        u.input = r.input_tokens;
        u.output = r.output_tokens;
        u.cost = r.cost_usd;
        u.at = r.at == std::chrono::system_clock::time_point{} ? at : to_millis(r.at);
        u.message = message_id;
        u.step = r.step;
        u.estimated = r.estimated ? 1 : 0;
        u.st.execute(true);
    }

    sdk::Status read(const std::string& what, const std::function<void(soci::session&)>& work) override {
        try {
            soci::session sql(pool_);
            work(sql);
            return {};
        } catch (const std::exception& e) {
            return failure(what, e.what());
        }
    }

    sdk::Status write(const std::string& what, const std::function<void(soci::session&)>& work) override {
        auto error = writer_->run(work);
        if (!error.empty()) return failure(what, error);
        return {};
    }

    sdk::Error failure(const std::string& what, const std::string& why) const {
        store_error("{} on {}: {}", what, url_, why);
        return sdk::make_error("store_error", what + ": " + why);
    }

    static sdk::Error unknown_tenant(const std::string& tenant_id) {
        return sdk::make_error(sdk::errc::not_found, "tenant \"" + tenant_id + "\" is not in the database");
    }

    static sdk::Error unknown_conversation(const std::string& tenant_id, const std::string& conversation_id) {
        return sdk::make_error(sdk::errc::not_found, "conversation \"" + conversation_id + "\" of tenant \"" +
                                                         tenant_id + "\" not found");
    }

    static sdk::Error duplicate(const std::string& client_message_id, const std::string& existing_id) {
        return sdk::make_error(
            "duplicate", "client message id \"" + client_message_id + "\" already stored as " + existing_id);
    }

    static bool tenant_exists(soci::session& sql, const std::string& tenant_id) {
        int count = 0;
        sql << "SELECT COUNT(*) FROM tenants WHERE id = :t", soci::into(count), soci::use(tenant_id);
        return count > 0;
    }

    static std::optional<std::string> message_by_client_id(WriterStatements& prepared,
                                                           const std::string& tenant_id,
                                                           const std::string& client_message_id) {
        if (client_message_id.empty()) return std::nullopt;
        auto& q = prepared.message_by_client_id;
        q.tenant = tenant_id;
        q.client_id = client_message_id;
        q.found = soci::i_null;
        if (!select_one(q.st) || q.found != soci::i_ok) return std::nullopt;
        return q.id;
    }

    /// `table` is one of our own table names, never user input.
    sdk::Result<ImportStats> import_records(const std::string& tenant_id, const std::string& table,
                                            const std::vector<Record>& records) {
        std::set<std::string> ids;
        for (std::size_t i = 0; i < records.size(); ++i) {
            const auto& id = records[i].id;
            std::string where = table + "[" + std::to_string(i) + "].id";
            if (id.empty()) return sdk::make_error(sdk::errc::invalid_value, where + ": required");
            if (!ids.insert(id).second)
                return sdk::make_error(sdk::errc::invalid_value, where + ": duplicate id \"" + id + "\"");
        }
        sdk::Result<ImportStats> out = unknown_tenant(tenant_id);
        auto error = write([&](soci::session& sql) {
            if (!tenant_exists(sql, tenant_id)) {
                out = unknown_tenant(tenant_id);
                return;
            }

            std::map<std::string, StoredRow> existing;
            {
                std::string id;
                StoredRow row;
                int removed = 0;
                soci::statement st = (sql.prepare << "SELECT id, data, position, removed FROM " + table +
                                                         " WHERE tenant_id = :t",
                                      soci::into(id), soci::into(row.data), soci::into(row.position),
                                      soci::into(removed), soci::use(tenant_id));
                st.execute();
                while (st.fetch()) {
                    row.removed = removed != 0;
                    existing[id] = row;
                }
            }

            ImportStats stats;
            long long now = now_millis();
            for (std::size_t i = 0; i < records.size(); ++i) {
                const auto& record = records[i];
                int position = static_cast<int>(i);
                auto it = existing.find(record.id);
                if (it == existing.end() || it->second.removed) {
                    ++stats.inserted;  // new, or back in the file after a removal
                } else if (it->second.data != record.data) {
                    ++stats.updated;
                } else {
                    ++stats.unchanged;
                    if (it->second.position == position) continue;  // moved in the file: keep the order
                }
                write_record(sql, tenant_id, record, position, now);
            }
            for (const auto& [id, row] : existing) {
                if (row.removed || ids.count(id)) continue;
                remove_record(sql, tenant_id, table, id, now);
                ++stats.removed;
            }
            out = stats;
        });
        if (!error.empty()) return failure("import " + table + " [" + tenant_id + "]", error);
        return out;
    }

    void write_record(soci::session& sql, const std::string& tenant_id, const Record& r, int position,
                      long long now) {
        if (r.offering) {
            const auto& o = *r.offering;
            int available = o.available ? 1 : 0;
            sql << "INSERT INTO offerings (tenant_id, id, position, type, name, category, price, available, "
                   "data, "
                   "removed, updated_at) VALUES (:t, :id, :pos, :type, :name, :cat, :price, :avail, :data, "
                   "0, :now) "
                   "ON CONFLICT (tenant_id, id) DO UPDATE SET position = excluded.position, type = "
                   "excluded.type, "
                   "name = excluded.name, category = excluded.category, price = excluded.price, "
                   "available = excluded.available, data = excluded.data, removed = 0, "
                   "updated_at = excluded.updated_at",
                soci::use(tenant_id), soci::use(o.id), soci::use(position), soci::use(o.type),
                soci::use(o.name), soci::use(o.category), soci::use(o.price), soci::use(available),
                soci::use(r.data), soci::use(now);
        } else if (r.resource) {
            const auto& res = *r.resource;
            sql << "INSERT INTO resources (tenant_id, id, position, type, name, data, removed, updated_at) "
                   "VALUES (:t, :id, :pos, :type, :name, :data, 0, :now) "
                   "ON CONFLICT (tenant_id, id) DO UPDATE SET position = excluded.position, type = "
                   "excluded.type, "
                   "name = excluded.name, data = excluded.data, removed = 0, updated_at = "
                   "excluded.updated_at",
                soci::use(tenant_id), soci::use(res.id), soci::use(position), soci::use(res.type),
                soci::use(res.name), soci::use(r.data), soci::use(now);
        } else {
            write_knowledge(sql, tenant_id, r, position, now);
        }
    }

    void write_knowledge(soci::session& sql, const std::string& tenant_id, const Record& r, int position,
                         long long now) {
        const auto& e = *r.entry;
        auto text = knowledge_text(e);
        if (backend_ == Backend::postgresql) {
            sql << "INSERT INTO knowledge (tenant_id, id, position, category, data, removed, updated_at, "
                   "search_vector) VALUES (:t, :id, :pos, :cat, :data, 0, :now, "
                   "setweight(to_tsvector('simple', CAST(:q AS TEXT)), 'A') || "
                   "setweight(to_tsvector('simple', CAST(:k AS TEXT)), 'B') || "
                   "setweight(to_tsvector('simple', CAST(:a AS TEXT)), 'C')) "
                   "ON CONFLICT (tenant_id, id) DO UPDATE SET position = excluded.position, "
                   "category = excluded.category, data = excluded.data, removed = 0, "
                   "updated_at = excluded.updated_at, search_vector = excluded.search_vector",
                soci::use(tenant_id), soci::use(e.id), soci::use(position), soci::use(e.category),
                soci::use(r.data), soci::use(now), soci::use(text.question), soci::use(text.keywords),
                soci::use(text.answer);
            return;
        }
        sql << "INSERT INTO knowledge (tenant_id, id, position, category, data, removed, updated_at) "
               "VALUES (:t, :id, :pos, :cat, :data, 0, :now) "
               "ON CONFLICT (tenant_id, id) DO UPDATE SET position = excluded.position, "
               "category = excluded.category, data = excluded.data, removed = 0, updated_at = "
               "excluded.updated_at",
            soci::use(tenant_id), soci::use(e.id), soci::use(position), soci::use(e.category),
            soci::use(r.data), soci::use(now);
        long long pk = knowledge_pk(sql, tenant_id, e.id);
        std::string tenant = tenant_token(tenant_id);
        sql << "DELETE FROM knowledge_fts WHERE rowid = :pk", soci::use(pk);
        sql << "INSERT INTO knowledge_fts (rowid, tenant, question, keywords, answer) "
               "VALUES (:pk, :tenant, :q, :k, :a)",
            soci::use(pk), soci::use(tenant), soci::use(text.question), soci::use(text.keywords),
            soci::use(text.answer);
    }

    static long long knowledge_pk(soci::session& sql, const std::string& tenant_id, const std::string& id) {
        long long pk = 0;
        sql << "SELECT pk FROM knowledge WHERE tenant_id = :t AND id = :id", soci::into(pk),
            soci::use(tenant_id), soci::use(id);
        return pk;
    }

    void remove_record(soci::session& sql, const std::string& tenant_id, const std::string& table,
                       const std::string& id, long long now) {
        sql << "UPDATE " + table + " SET removed = 1, updated_at = :now WHERE tenant_id = :t AND id = :id",
            soci::use(now), soci::use(tenant_id), soci::use(id);
        if (table == "knowledge" && backend_ == Backend::sqlite) {
            long long pk = knowledge_pk(sql, tenant_id, id);
            sql << "DELETE FROM knowledge_fts WHERE rowid = :pk", soci::use(pk);
        }
    }

    template <class T, class Parse>
    sdk::Result<std::vector<T>> read_records(const std::string& tenant_id, const std::string& table,
                                             Parse parse) {
        std::vector<T> out;
        try {
            soci::session sql(pool_);
            std::string id, data;
            soci::statement st =
                (sql.prepare << "SELECT id, data FROM " + table +
                                    " WHERE tenant_id = :t AND removed = 0 ORDER BY position",
                 soci::into(id), soci::into(data), soci::use(tenant_id));
            st.execute();
            while (st.fetch()) {
                boost::system::error_code ec;
                auto value = json::parse(data, ec);
                auto record = ec ? sdk::Result<T>(sdk::make_error(sdk::errc::invalid_value, ec.message()))
                                 : parse(value);
                if (!record) {
                    store_error("{} [{}] row {}: {}", table, tenant_id, id, record.error().message);
                    continue;
                }
                out.push_back(std::move(record.value()));
            }
        } catch (const std::exception& e) {
            return failure(table + " [" + tenant_id + "]", e.what());
        }
        return out;
    }

    Backend backend_;
    std::string url_;  ///< redacted, for messages
    std::size_t pool_size_;
    soci::connection_pool pool_;
    soci::session writer_session_;  ///< the writer's own connection (unused for sqlite::memory:)
    int version_ = 0;
    std::unique_ptr<WriterStatements> statements_;  ///< the writer thread's only
    std::unique_ptr<GroupCommitWriter> writer_;     ///< last: stopped before the sessions close
};

}  // namespace
}  // namespace store

sdk::Result<std::unique_ptr<Database>> Database::open(const std::string& url) {
    auto target = store::parse_database_url(url);
    if (!target) return target.error();
    std::string redacted = redact_url(url);
    std::size_t pool_size = store::kPoolSize;
    if (target->backend == Backend::sqlite) {
        if (target->sqlite_path == ":memory:") {
            pool_size = 1;  // every connection to :memory: would be another database
        } else {
            std::error_code ec;
            auto parent = std::filesystem::path(target->sqlite_path).parent_path();
            if (!parent.empty()) std::filesystem::create_directories(parent, ec);
            if (ec)
                return sdk::make_error("store_unavailable", "database " + redacted +
                                                                ": cannot create folder " + parent.string() +
                                                                ": " + ec.message());
        }
    }
    try {
        auto db = std::make_unique<store::SqlDatabase>(target->backend, redacted, pool_size);
        db->connect(*target);
        return std::unique_ptr<Database>(std::move(db));
    } catch (const std::exception& e) {
        return sdk::make_error("store_unavailable", "database " + redacted + ": " + e.what());
    }
}

}  // namespace tezgah::engine
