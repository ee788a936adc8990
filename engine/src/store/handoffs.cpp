// Conversation states, tickets and operators' messages (store/handoffs.hpp).
#include "store/handoffs.hpp"

#include "store/sql_support.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>

#include <algorithm>

namespace tezgah::engine {
namespace {

namespace json = boost::json;
using store::from_millis;
using store::to_millis;

long long ms(std::chrono::system_clock::time_point t) { return to_millis(t); }

json::value millis_json(std::chrono::system_clock::time_point t) { return json::value(to_millis(t)); }

constexpr const char* kConversationColumns =
    "id, tenant_id, user_id, channel, session_id, status, created_at, last_message_at, status_at, "
    "operator_at";

struct ConversationRow {
    ConversationInfo info;
    long long created = 0, updated = 0, status_at = 0, operator_at = 0;
    void finish() {
        info.created_at = from_millis(created);
        info.updated_at = from_millis(updated);
        info.status_at = from_millis(status_at);
        info.operator_at = from_millis(operator_at);
    }
};

void bind_conversation(soci::statement& st, ConversationRow& row) {
    st.exchange(soci::into(row.info.id));
    st.exchange(soci::into(row.info.tenant_id));
    st.exchange(soci::into(row.info.user_id));
    st.exchange(soci::into(row.info.channel));
    st.exchange(soci::into(row.info.session_id));
    st.exchange(soci::into(row.info.status));
    st.exchange(soci::into(row.created));
    st.exchange(soci::into(row.updated));
    st.exchange(soci::into(row.status_at));
    st.exchange(soci::into(row.operator_at));
}

std::optional<ConversationInfo> read_conversation(soci::session& sql, const std::string& tenant_id,
                                                  const std::string& id) {
    ConversationRow row;
    soci::statement st(sql);
    bind_conversation(st, row);
    st.exchange(soci::use(tenant_id));
    st.exchange(soci::use(id));
    st.alloc();
    st.prepare(std::string("SELECT ") + kConversationColumns +
               " FROM conversations WHERE tenant_id = :t AND id = :id");
    st.define_and_bind();
    st.execute(false);
    if (!st.fetch()) return std::nullopt;
    row.finish();
    return row.info;
}

constexpr const char* kTicketColumns =
    "id, tenant_id, conversation_id, user_id, channel, reason, category, priority, status, assignee, "
    "transcript, created_at, updated_at";

void read_tickets(soci::session& sql, const std::string& where, const std::vector<std::string>& params,
                  std::size_t limit, std::vector<Ticket>& out) {
    out.clear();
    Ticket t;
    std::string transcript;
    long long created = 0, updated = 0;
    soci::statement st(sql);
    for (auto* target : {&t.id, &t.tenant_id, &t.conversation_id, &t.user_id, &t.channel, &t.reason,
                         &t.category, &t.priority, &t.status, &t.assignee})
        st.exchange(soci::into(*target));
    st.exchange(soci::into(transcript));
    st.exchange(soci::into(created));
    st.exchange(soci::into(updated));
    for (const auto& p : params) st.exchange(soci::use(p));
    const long long max_rows = static_cast<long long>(std::max<std::size_t>(limit, 1));
    st.exchange(soci::use(max_rows));
    st.alloc();
    st.prepare(std::string("SELECT ") + kTicketColumns + " FROM tickets " + where +
               " ORDER BY created_at DESC, id DESC LIMIT :n");
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) {
        boost::system::error_code ec;
        auto parsed = json::parse(transcript, ec);
        t.transcript = !ec && parsed.is_array() ? parsed.get_array() : json::array{};
        t.created_at = from_millis(created);
        t.updated_at = from_millis(updated);
        out.push_back(t);
    }
}

/// The conversation's messages as a transcript (what a ticket keeps), oldest first.
json::array transcript_of(soci::session& sql, const std::string& tenant_id,
                          const std::string& conversation_id) {
    json::array out;
    std::string role, text;
    long long at = 0;
    soci::statement st = (sql.prepare << "SELECT role, text, at FROM messages WHERE tenant_id = :t AND "
                                         "conversation_id = :c ORDER BY seq DESC LIMIT 200",
                          soci::into(role), soci::into(text), soci::into(at), soci::use(tenant_id),
                          soci::use(conversation_id));
    st.execute();
    while (st.fetch()) {
        if (text.empty()) continue;
        out.push_back(json::object{{"role", role}, {"text", text}, {"at", at}});
    }
    std::reverse(out.begin(), out.end());
    return out;
}

sdk::Error unknown_conversation(const std::string& tenant_id, const std::string& id) {
    return sdk::Error{sdk::errc::not_found,
                      "conversation \"" + id + "\" not found for tenant \"" + tenant_id + "\""};
}

}  // namespace

bool valid_conversation_status(std::string_view status) {
    return status == kStatusBot || status == kStatusHandedOver || status == kStatusClosed;
}
bool valid_ticket_status(std::string_view status) {
    return status == "open" || status == "assigned" || status == "resolved";
}
bool valid_ticket_priority(std::string_view priority) {
    return priority == "low" || priority == "medium" || priority == "high" || priority == "urgent";
}

json::object to_json(const Ticket& ticket, bool with_transcript) {
    json::object out{
        {"id", ticket.id},
        {"conversation_id", ticket.conversation_id},
        {"user_id", ticket.user_id},
        {"channel", ticket.channel},
        {"reason", ticket.reason},
        {"category", ticket.category},
        {"priority", ticket.priority},
        {"status", ticket.status},
        {"assignee", ticket.assignee.empty() ? json::value(nullptr) : json::value(ticket.assignee)},
        {"created_at", millis_json(ticket.created_at)},
        {"updated_at", millis_json(ticket.updated_at)}};
    if (with_transcript) out["transcript"] = ticket.transcript;
    return out;
}

json::object to_json(const ConversationInfo& c) {
    return json::object{{"id", c.id},
                        {"user_id", c.user_id},
                        {"channel", c.channel},
                        {"session_id", c.session_id},
                        {"status", c.status},
                        {"created_at", millis_json(c.created_at)},
                        {"updated_at", millis_json(c.updated_at)}};
}

sdk::Result<std::optional<ConversationInfo>> find_conversation(Database& db, const std::string& tenant_id,
                                                               const std::string& id) {
    std::optional<ConversationInfo> out;
    auto read = db.read("find_conversation [" + tenant_id + "]",
                        [&](soci::session& sql) { out = read_conversation(sql, tenant_id, id); });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::vector<OperatorView>> conversation_messages(Database& db, const std::string& tenant_id,
                                                             const std::string& conversation_id,
                                                             std::size_t limit) {
    std::vector<OperatorView> out;
    const long long max_rows = static_cast<long long>(std::max<std::size_t>(limit, 1));
    auto read = db.read("conversation_messages [" + tenant_id + "]", [&](soci::session& sql) {
        out.clear();
        OperatorView m;
        long long at = 0;
        std::string reply_json;
        soci::statement st =
            (sql.prepare
                 << "SELECT seq, id, role, text, method, at, reply_json FROM messages WHERE tenant_id "
                    "= :t AND conversation_id = :c ORDER BY seq DESC LIMIT :n",
             soci::into(m.seq), soci::into(m.id), soci::into(m.role), soci::into(m.text),
             soci::into(m.method), soci::into(at), soci::into(reply_json), soci::use(tenant_id),
             soci::use(conversation_id), soci::use(max_rows));
        st.execute();
        while (st.fetch()) {
            m.at = from_millis(at);
            m.handoff = false;
            if (!reply_json.empty()) {
                boost::system::error_code ec;
                auto reply = json::parse(reply_json, ec);
                if (!ec && reply.is_object())
                    if (const auto* h = reply.get_object().if_contains("handoff"); h && h->is_bool())
                        m.handoff = h->get_bool();
            }
            out.push_back(m);
        }
        std::reverse(out.begin(), out.end());
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::optional<Ticket>> hand_over(Database& db, Ticket ticket,
                                             std::chrono::system_clock::time_point now) {
    const long long at = ms(now);
    std::optional<Ticket> out;
    if (ticket.id.empty()) ticket.id = "tk_" + sdk::random_hex(8);
    ticket.created_at = ticket.updated_at = from_millis(at);
    auto written = db.write("hand_over [" + ticket.tenant_id + "]", [&](soci::session& sql) {
        out.reset();
        soci::statement st =
            (sql.prepare
                 << "UPDATE conversations SET status = 'handed_over', status_at = :at, operator_at = 0 "
                    "WHERE tenant_id = :t AND id = :c AND status <> 'handed_over'",
             soci::use(at), soci::use(ticket.tenant_id), soci::use(ticket.conversation_id));
        st.execute(true);
        if (st.get_affected_rows() == 0) return;
        Ticket made = ticket;
        made.transcript = transcript_of(sql, ticket.tenant_id, ticket.conversation_id);
        const std::string transcript = json::serialize(made.transcript);
        sql << "INSERT INTO tickets (id, tenant_id, conversation_id, user_id, channel, reason, category, "
               "priority, status, assignee, transcript, created_at, updated_at) VALUES (:id, :t, :c, :u, "
               ":ch, "
               ":r, :cat, :p, :s, :a, :tr, :cr, :up)",
            soci::use(made.id), soci::use(made.tenant_id), soci::use(made.conversation_id),
            soci::use(made.user_id), soci::use(made.channel), soci::use(made.reason),
            soci::use(made.category), soci::use(made.priority), soci::use(made.status),
            soci::use(made.assignee), soci::use(transcript), soci::use(at), soci::use(at);
        out = std::move(made);
    });
    if (!written) return written.error();
    return out;
}

sdk::Result<bool> take_over(Database& db, const std::string& tenant_id, const std::string& conversation_id,
                            std::chrono::system_clock::time_point now) {
    const long long at = ms(now);
    bool changed = false, found = false;
    auto written = db.write("take_over [" + tenant_id + "]", [&](soci::session& sql) {
        soci::statement moved =
            (sql.prepare
                 << "UPDATE conversations SET status = 'handed_over', status_at = :at, operator_at = :at2 "
                    "WHERE tenant_id = :t AND id = :c AND status <> 'handed_over'",
             soci::use(at), soci::use(at), soci::use(tenant_id), soci::use(conversation_id));
        moved.execute(true);
        changed = moved.get_affected_rows() > 0;
        soci::statement touched =
            (sql.prepare << "UPDATE conversations SET operator_at = :at WHERE tenant_id = :t AND id = :c",
             soci::use(at), soci::use(tenant_id), soci::use(conversation_id));
        touched.execute(true);
        found = touched.get_affected_rows() > 0;
    });
    if (!written) return written.error();
    if (!found) return unknown_conversation(tenant_id, conversation_id);
    return changed;
}

sdk::Result<bool> give_back(Database& db, const std::string& tenant_id, const std::string& conversation_id,
                            std::chrono::system_clock::time_point now,
                            std::chrono::system_clock::time_point only_if_idle_before) {
    const long long at = ms(now);
    const long long idle = ms(only_if_idle_before);
    bool changed = false, found = false;
    auto written = db.write("give_back [" + tenant_id + "]", [&](soci::session& sql) {
        changed = found = false;
        std::string sql_text =
            "UPDATE conversations SET status = 'bot', status_at = :at WHERE tenant_id = :t AND id = :c AND "
            "status <> 'bot'";
        if (idle != 0) sql_text += " AND status_at < :i1 AND operator_at < :i2";
        soci::statement st(sql);
        st.exchange(soci::use(at));
        st.exchange(soci::use(tenant_id));
        st.exchange(soci::use(conversation_id));
        if (idle != 0) {
            st.exchange(soci::use(idle));
            st.exchange(soci::use(idle));
        }
        st.alloc();
        st.prepare(sql_text);
        st.define_and_bind();
        st.execute(true);
        changed = st.get_affected_rows() > 0;
        if (changed) {
            found = true;
            return;
        }
        long long count = 0;
        sql << "SELECT COUNT(*) FROM conversations WHERE tenant_id = :t AND id = :c", soci::into(count),
            soci::use(tenant_id), soci::use(conversation_id);
        found = count > 0;
    });
    if (!written) return written.error();
    if (!found) return unknown_conversation(tenant_id, conversation_id);
    return changed;
}

sdk::Result<OperatorView> store_operator_message(Database& db, const std::string& tenant_id,
                                                 const std::string& conversation_id, const std::string& text,
                                                 const std::string& language,
                                                 std::chrono::system_clock::time_point now) {
    const long long at = ms(now);
    OperatorView out;
    out.id = "op-" + sdk::random_hex(12);
    out.role = "operator";
    out.text = text;
    out.method = "operator";
    out.at = from_millis(at);
    bool found = false;
    auto written = db.write("store_operator_message [" + tenant_id + "]", [&](soci::session& sql) {
        found = false;
        soci::statement st =
            (sql.prepare
                 << "UPDATE conversations SET operator_at = :at, last_message_at = CASE WHEN "
                    "last_message_at < :at2 THEN :at3 ELSE last_message_at END, status_at = CASE WHEN "
                    "status = 'handed_over' THEN status_at ELSE :at4 END, status = 'handed_over' "
                    "WHERE tenant_id = :t AND id = :c",
             soci::use(at), soci::use(at), soci::use(at), soci::use(at), soci::use(tenant_id),
             soci::use(conversation_id));
        st.execute(true);
        if (st.get_affected_rows() == 0) return;
        found = true;
        const std::string role = "operator", method = "operator";
        sql << "INSERT INTO messages (id, tenant_id, conversation_id, role, text, method, language, at) "
               "VALUES (:id, :t, :c, :r, :x, :m, :l, :at)",
            soci::use(out.id), soci::use(tenant_id), soci::use(conversation_id), soci::use(role),
            soci::use(text), soci::use(method), soci::use(language), soci::use(at);
        sql << "SELECT seq FROM messages WHERE id = :id", soci::into(out.seq), soci::use(out.id);
    });
    if (!written) return written.error();
    if (!found) return unknown_conversation(tenant_id, conversation_id);
    return out;
}

sdk::Result<std::vector<OperatorView>> take_operator_messages(Database& db, const std::string& tenant_id,
                                                              const std::string& conversation_id) {
    std::vector<OperatorView> out;
    auto written = db.write("take_operator_messages [" + tenant_id + "]", [&](soci::session& sql) {
        out.clear();
        long long relayed = 0;
        sql << "SELECT relayed_seq FROM conversations WHERE tenant_id = :t AND id = :c", soci::into(relayed),
            soci::use(tenant_id), soci::use(conversation_id);
        OperatorView m;
        long long at = 0;
        soci::statement st =
            (sql.prepare
                 << "SELECT seq, id, text, at FROM messages WHERE tenant_id = :t AND conversation_id = :c "
                    "AND role = 'operator' AND seq > :r ORDER BY seq",
             soci::into(m.seq), soci::into(m.id), soci::into(m.text), soci::into(at), soci::use(tenant_id),
             soci::use(conversation_id), soci::use(relayed));
        st.execute();
        while (st.fetch()) {
            m.role = "operator";
            m.method = "operator";
            m.at = from_millis(at);
            out.push_back(m);
        }
        if (out.empty()) return;
        const long long last = out.back().seq;
        sql << "UPDATE conversations SET relayed_seq = :s WHERE tenant_id = :t AND id = :c", soci::use(last),
            soci::use(tenant_id), soci::use(conversation_id);
    });
    if (!written) return written.error();
    return out;
}

sdk::Result<std::vector<ConversationInfo>> idle_handovers(Database& db, const std::string& tenant_id,
                                                          std::chrono::system_clock::time_point idle_before) {
    std::vector<ConversationInfo> out;
    const long long idle = ms(idle_before);
    auto read = db.read("idle_handovers [" + tenant_id + "]", [&](soci::session& sql) {
        out.clear();
        ConversationRow row;
        soci::statement st(sql);
        bind_conversation(st, row);
        st.exchange(soci::use(tenant_id));
        st.exchange(soci::use(idle));
        st.exchange(soci::use(idle));
        st.alloc();
        st.prepare(
            std::string("SELECT ") + kConversationColumns +
            " FROM conversations WHERE tenant_id = :t AND status = 'handed_over' AND status_at < :i1 AND "
            "operator_at < :i2 LIMIT 500");
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            row.finish();
            out.push_back(row.info);
        }
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::vector<std::string>> tenants_with_handovers(Database& db) {
    std::vector<std::string> out;
    auto read = db.read("tenants_with_handovers", [&](soci::session& sql) {
        out.clear();
        std::string id;
        soci::statement st = (sql.prepare << "SELECT DISTINCT tenant_id FROM conversations WHERE status = "
                                             "'handed_over'",
                              soci::into(id));
        st.execute(false);
        while (st.fetch()) out.push_back(id);
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::vector<Ticket>> list_tickets(Database& db, const std::string& tenant_id,
                                              const std::string& status, const std::string& conversation_id,
                                              std::size_t limit) {
    std::vector<Ticket> out;
    std::string where = "WHERE tenant_id = :t";
    std::vector<std::string> params{tenant_id};
    if (!status.empty()) {
        where += " AND status = :s";
        params.push_back(status);
    }
    if (!conversation_id.empty()) {
        where += " AND conversation_id = :c";
        params.push_back(conversation_id);
    }
    auto read = db.read("list_tickets [" + tenant_id + "]",
                        [&](soci::session& sql) { read_tickets(sql, where, params, limit, out); });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::optional<Ticket>> update_ticket(Database& db, const std::string& tenant_id,
                                                 const std::string& id, const TicketPatch& patch,
                                                 std::chrono::system_clock::time_point now) {
    const long long at = ms(now);
    std::vector<Ticket> found;
    auto written = db.write("update_ticket [" + tenant_id + "]", [&](soci::session& sql) {
        found.clear();
        read_tickets(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, id}, 1, found);
        if (found.empty()) return;
        Ticket& t = found.front();
        if (patch.status) t.status = *patch.status;
        if (patch.assignee) t.assignee = *patch.assignee;
        if (patch.priority) t.priority = *patch.priority;
        // A ticket given to someone is assigned, unless the same change says otherwise.
        if (patch.assignee && !patch.assignee->empty() && !patch.status && t.status == "open")
            t.status = "assigned";
        t.updated_at = from_millis(at);
        sql << "UPDATE tickets SET status = :s, assignee = :a, priority = :p, updated_at = :at WHERE "
               "tenant_id = :t "
               "AND id = :id",
            soci::use(t.status), soci::use(t.assignee), soci::use(t.priority), soci::use(at),
            soci::use(tenant_id), soci::use(id);
    });
    if (!written) return written.error();
    if (found.empty()) return std::optional<Ticket>{};
    return std::optional<Ticket>{found.front()};
}

}  // namespace tezgah::engine
