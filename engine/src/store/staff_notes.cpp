// Notes on a conversation and canned replies (store/staff_notes.hpp).
#include "store/staff_notes.hpp"

#include "store/sql_support.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>

namespace tezgah::engine {
namespace {

namespace json = boost::json;
using store::from_millis;
using store::to_millis;

std::vector<ConversationNote> read_notes(soci::session& sql, const std::string& where,
                                         const std::vector<std::string>& params) {
    std::vector<ConversationNote> out;
    ConversationNote note;
    long long at = 0;
    soci::statement st(sql);
    for (auto* field : {&note.id, &note.tenant_id, &note.conversation_id, &note.author.kind, &note.author.id,
                        &note.author.name, &note.text})
        st.exchange(soci::into(*field));
    st.exchange(soci::into(at));
    for (const auto& p : params) st.exchange(soci::use(p));
    st.alloc();
    st.prepare(
        "SELECT id, tenant_id, conversation_id, author_kind, author_id, author_name, text, created_at FROM "
        "conversation_notes " +
        where);
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        note.at = from_millis(at);
        out.push_back(note);
    }
    return out;
}

std::vector<CannedReply> read_replies(soci::session& sql, const std::string& where,
                                      const std::vector<std::string>& params) {
    std::vector<CannedReply> out;
    CannedReply reply;
    int shared = 0;
    long long updated = 0;
    soci::statement st(sql);
    for (auto* field : {&reply.id, &reply.tenant_id, &reply.title, &reply.text})
        st.exchange(soci::into(*field));
    st.exchange(soci::into(shared));
    for (auto* field : {&reply.owner.kind, &reply.owner.id, &reply.owner.name})
        st.exchange(soci::into(*field));
    st.exchange(soci::into(updated));
    for (const auto& p : params) st.exchange(soci::use(p));
    st.alloc();
    st.prepare(
        "SELECT id, tenant_id, title, text, shared, owner_kind, owner_id, owner_name, updated_at FROM "
        "canned_replies " +
        where);
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        reply.shared = shared != 0;
        reply.updated_at = from_millis(updated);
        out.push_back(reply);
    }
    return out;
}

}  // namespace

json::object to_json(const StaffAuthor& author) {
    return json::object{{"kind", author.kind}, {"id", author.id}, {"name", author.name}};
}

json::object to_json(const ConversationNote& note) {
    return json::object{{"id", note.id},
                        {"conversation_id", note.conversation_id},
                        {"author", to_json(note.author)},
                        {"text", note.text},
                        {"at", to_millis(note.at)}};
}

json::object to_json(const CannedReply& reply) {
    return json::object{{"id", reply.id},
                        {"title", reply.title},
                        {"text", reply.text},
                        {"shared", reply.shared},
                        {"owner", to_json(reply.owner)},
                        {"updated_at", to_millis(reply.updated_at)}};
}

sdk::Result<ConversationNote> add_note(Database& db, const std::string& tenant_id,
                                       const std::string& conversation_id, const StaffAuthor& author,
                                       const std::string& text, std::chrono::system_clock::time_point now) {
    ConversationNote note;
    note.id = "no_" + sdk::random_hex(8);
    note.tenant_id = tenant_id;
    note.conversation_id = conversation_id;
    note.author = author;
    note.text = text;
    note.at = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
    const long long at = to_millis(now);
    bool found = false;
    auto written = db.write("add_note " + conversation_id, [&](soci::session& sql) {
        long long n = 0;
        sql << "SELECT COUNT(*) FROM conversations WHERE tenant_id = :t AND id = :id", soci::into(n),
            soci::use(tenant_id), soci::use(conversation_id);
        found = n > 0;
        if (!found) return;
        sql << "INSERT INTO conversation_notes (id, tenant_id, conversation_id, author_kind, author_id, "
               "author_name, text, created_at) VALUES (:id, :t, :c, :k, :a, :n, :x, :at)",
            soci::use(note.id), soci::use(tenant_id), soci::use(conversation_id), soci::use(author.kind),
            soci::use(author.id), soci::use(author.name), soci::use(text), soci::use(at);
    });
    if (!written) return written.error();
    if (!found) return sdk::Error{sdk::errc::not_found, "conversation \"" + conversation_id + "\" not found"};
    return note;
}

sdk::Result<std::vector<ConversationNote>> list_notes(Database& db, const std::string& tenant_id,
                                                      const std::string& conversation_id) {
    std::vector<ConversationNote> out;
    auto read = db.read("list_notes " + conversation_id, [&](soci::session& sql) {
        out = read_notes(sql, "WHERE tenant_id = :t AND conversation_id = :c ORDER BY created_at, id",
                         {tenant_id, conversation_id});
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::optional<ConversationNote>> find_note(Database& db, const std::string& tenant_id,
                                                       const std::string& conversation_id,
                                                       const std::string& id) {
    std::vector<ConversationNote> rows;
    auto read = db.read("find_note " + id, [&](soci::session& sql) {
        rows = read_notes(sql, "WHERE tenant_id = :t AND conversation_id = :c AND id = :id",
                          {tenant_id, conversation_id, id});
    });
    if (!read) return read.error();
    if (rows.empty()) return std::optional<ConversationNote>();
    return std::optional<ConversationNote>(rows.front());
}

sdk::Result<bool> delete_note(Database& db, const std::string& tenant_id, const std::string& conversation_id,
                              const std::string& id) {
    bool deleted = false;
    auto written = db.write("delete_note " + id, [&](soci::session& sql) {
        soci::statement st = (sql.prepare << "DELETE FROM conversation_notes WHERE tenant_id = :t AND "
                                             "conversation_id = :c AND id = :id",
                              soci::use(tenant_id), soci::use(conversation_id), soci::use(id));
        st.execute(true);
        deleted = st.get_affected_rows() > 0;
    });
    if (!written) return written.error();
    return deleted;
}

sdk::Result<std::vector<CannedReply>> list_canned_replies(Database& db, const std::string& tenant_id,
                                                          const std::string& agent_id) {
    std::vector<CannedReply> out;
    auto read = db.read("list_canned_replies " + tenant_id, [&](soci::session& sql) {
        out =
            agent_id.empty()
                ? read_replies(sql, "WHERE tenant_id = :t ORDER BY title, id", {tenant_id})
                : read_replies(sql,
                               "WHERE tenant_id = :t AND (shared = 1 OR (owner_kind = 'agent' AND owner_id = "
                               ":a)) ORDER BY title, id",
                               {tenant_id, agent_id});
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::optional<CannedReply>> find_canned_reply(Database& db, const std::string& tenant_id,
                                                          const std::string& id) {
    std::vector<CannedReply> rows;
    auto read = db.read("find_canned_reply " + id, [&](soci::session& sql) {
        rows = read_replies(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, id});
    });
    if (!read) return read.error();
    if (rows.empty()) return std::optional<CannedReply>();
    return std::optional<CannedReply>(rows.front());
}

sdk::Status save_canned_reply(Database& db, const CannedReply& reply, bool is_new) {
    const long long at = to_millis(reply.updated_at);
    const int shared = reply.shared ? 1 : 0;
    return db.write("save_canned_reply " + reply.id, [&](soci::session& sql) {
        if (is_new) {
            sql << "INSERT INTO canned_replies (id, tenant_id, title, text, shared, owner_kind, owner_id, "
                   "owner_name, created_at, updated_at) VALUES (:id, :t, :ti, :x, :s, :k, :o, :n, :c, :u)",
                soci::use(reply.id), soci::use(reply.tenant_id), soci::use(reply.title),
                soci::use(reply.text), soci::use(shared), soci::use(reply.owner.kind),
                soci::use(reply.owner.id), soci::use(reply.owner.name), soci::use(at), soci::use(at);
        } else {
            sql << "UPDATE canned_replies SET title = :ti, text = :x, shared = :s, updated_at = :u WHERE "
                   "tenant_id = :t AND id = :id",
                soci::use(reply.title), soci::use(reply.text), soci::use(shared), soci::use(at),
                soci::use(reply.tenant_id), soci::use(reply.id);
        }
    });
}

sdk::Result<bool> delete_canned_reply(Database& db, const std::string& tenant_id, const std::string& id) {
    bool deleted = false;
    auto written = db.write("delete_canned_reply " + id, [&](soci::session& sql) {
        soci::statement st = (sql.prepare << "DELETE FROM canned_replies WHERE tenant_id = :t AND id = :id",
                              soci::use(tenant_id), soci::use(id));
        st.execute(true);
        deleted = st.get_affected_rows() > 0;
    });
    if (!written) return written.error();
    return deleted;
}

}  // namespace tezgah::engine
