// The notices table: stored, claimed, finished, listed (notify/notices.hpp).
#include "notify/notices.hpp"

#include "store/sql_support.hpp"

#include <tezgah/sdk/errors.hpp>

#include <algorithm>

namespace tezgah::engine::notify {
namespace {

using store::from_millis;
using store::to_millis;

constexpr const char* kColumns =
    "SELECT id, tenant_id, event, target, payload, state, attempts, last_error, created_at, updated_at, "
    "next_attempt_at, claimed_until, sent_at FROM notices ";

/// Rows of `kColumns + where`, binding the text parameters then the numeric ones, in order.
void select_notices(soci::session& sql, const std::string& where, const std::vector<std::string>& texts,
                    const std::vector<long long>& numbers, std::vector<Notice>& out) {
    out.clear();
    Notice n;
    long long created = 0, updated = 0, next = 0, claimed = 0, sent = 0;
    soci::statement st(sql);
    st.alloc();
    st.prepare(std::string(kColumns) + where);
    st.exchange(soci::into(n.id));
    st.exchange(soci::into(n.tenant_id));
    st.exchange(soci::into(n.event));
    st.exchange(soci::into(n.target));
    st.exchange(soci::into(n.payload));
    st.exchange(soci::into(n.state));
    st.exchange(soci::into(n.attempts));
    st.exchange(soci::into(n.last_error));
    st.exchange(soci::into(created));
    st.exchange(soci::into(updated));
    st.exchange(soci::into(next));
    st.exchange(soci::into(claimed));
    st.exchange(soci::into(sent));
    for (const auto& t : texts) st.exchange(soci::use(t));
    for (const auto& v : numbers) st.exchange(soci::use(v));
    st.define_and_bind();
    st.execute();
    while (st.fetch()) {
        n.created_at = from_millis(created);
        n.updated_at = from_millis(updated);
        n.next_attempt_at = from_millis(next);
        n.claimed_until = from_millis(claimed);
        n.sent_at = from_millis(sent);
        out.push_back(n);
    }
}

}  // namespace

sdk::Status insert_notices(Database& db, const std::vector<Notice>& notices) {
    if (notices.empty()) return {};
    return db.write("insert_notices", [&](soci::session& sql) {
        for (const auto& n : notices) {
            const long long created = to_millis(n.created_at);
            const std::string queued = "queued";
            sql << "INSERT INTO notices (id, tenant_id, event, target, payload, state, created_at, "
                   "updated_at, "
                   "next_attempt_at) VALUES (:id, :t, :e, :g, :p, :s, :c, :u, :n)",
                soci::use(n.id), soci::use(n.tenant_id), soci::use(n.event), soci::use(n.target),
                soci::use(n.payload), soci::use(queued), soci::use(created), soci::use(created),
                soci::use(created);
        }
    });
}

sdk::Result<std::vector<Notice>> claim_notices(Database& db, std::chrono::system_clock::time_point now,
                                               std::chrono::system_clock::time_point lease_until,
                                               std::size_t limit) {
    std::vector<Notice> out;
    if (limit == 0) return out;
    const long long now_ms = to_millis(now);
    const long long lease_ms = to_millis(lease_until);
    const long long max_rows = static_cast<long long>(std::min<std::size_t>(limit, 1000));
    auto written = db.write("claim_notices", [&](soci::session& sql) {
        out.clear();  // a unit of work may run twice
        std::vector<Notice> due;
        select_notices(sql,
                       "WHERE state = 'queued' AND next_attempt_at <= :a AND claimed_until <= :b "
                       "ORDER BY next_attempt_at, created_at LIMIT :n",
                       {}, {now_ms, now_ms, max_rows}, due);
        for (auto& n : due) {
            // Another process may have claimed it since the SELECT: the UPDATE decides.
            soci::statement st =
                (sql.prepare << "UPDATE notices SET claimed_until = :l, attempts = attempts + 1, "
                                "updated_at = :u WHERE id = :id AND state = 'queued' AND "
                                "claimed_until <= :n",
                 soci::use(lease_ms), soci::use(now_ms), soci::use(n.id), soci::use(now_ms));
            st.execute(true);
            if (st.get_affected_rows() != 1) continue;
            n.attempts += 1;
            n.claimed_until = lease_until;
            n.updated_at = now;
            out.push_back(std::move(n));
        }
    });
    if (!written) return written.error();
    return out;
}

sdk::Result<bool> finish_notice(Database& db, const NoticeAttempt& a) {
    bool out = false;
    const long long claimed = to_millis(a.claimed_until);
    const long long now_ms = to_millis(a.now);
    const long long next = to_millis(a.next_attempt_at);
    const int sent_flag = a.state == "sent" ? 1 : 0;
    const long long sent_at = sent_flag ? now_ms : 0;
    auto written = db.write("finish_notice " + a.id, [&](soci::session& sql) {
        soci::statement st =
            (sql.prepare << "UPDATE notices SET state = :s, last_error = :e, next_attempt_at = :n, "
                            "claimed_until = 0, updated_at = :u, sent_at = :sent WHERE id = :id AND "
                            "state = 'queued' AND (claimed_until = :c OR :accepted = 1)",
             soci::use(a.state), soci::use(a.error), soci::use(next), soci::use(now_ms), soci::use(sent_at),
             soci::use(a.id), soci::use(claimed), soci::use(sent_flag));
        st.execute(true);
        out = st.get_affected_rows() == 1;
    });
    if (!written) return written.error();
    return out;
}

sdk::Status release_notice(Database& db, const std::string& id,
                           std::chrono::system_clock::time_point claimed_until) {
    const long long claimed = to_millis(claimed_until);
    return db.write("release_notice " + id, [&](soci::session& sql) {
        sql << "UPDATE notices SET claimed_until = 0, attempts = attempts - 1 WHERE id = :id AND "
               "state = 'queued' AND claimed_until = :c",
            soci::use(id), soci::use(claimed);
    });
}

sdk::Result<std::optional<std::chrono::system_clock::time_point>> next_notice_due(Database& db) {
    std::optional<std::chrono::system_clock::time_point> out;
    auto read = db.read("next_notice_due", [&](soci::session& sql) {
        out.reset();
        long long next = 0, claimed = 0;
        soci::indicator ind = soci::i_null;
        sql << "SELECT next_attempt_at, claimed_until FROM notices WHERE state = 'queued' "
               "ORDER BY next_attempt_at LIMIT 1",
            soci::into(next, ind), soci::into(claimed);
        if (sql.got_data() && ind == soci::i_ok) out = from_millis(std::max(next, claimed));
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::vector<Notice>> list_notices(Database& db, const std::string& tenant_id,
                                              const std::string& state, std::size_t limit) {
    std::vector<Notice> out;
    const long long max_rows = static_cast<long long>(std::clamp<std::size_t>(limit, 1, 1000));
    auto read = db.read("list_notices [" + tenant_id + "]", [&](soci::session& sql) {
        if (state.empty())
            select_notices(sql, "WHERE tenant_id = :t ORDER BY created_at DESC, id LIMIT :n", {tenant_id},
                           {max_rows}, out);
        else
            select_notices(sql, "WHERE tenant_id = :t AND state = :s ORDER BY created_at DESC, id LIMIT :n",
                           {tenant_id, state}, {max_rows}, out);
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<Notice> find_notice(Database& db, const std::string& tenant_id, const std::string& id) {
    std::vector<Notice> out;
    auto read = db.read("find_notice [" + tenant_id + "]", [&](soci::session& sql) {
        select_notices(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, id}, {}, out);
    });
    if (!read) return read.error();
    if (out.empty())
        return sdk::make_error(sdk::errc::not_found,
                               "notice \"" + id + "\" of tenant \"" + tenant_id + "\" not found");
    return out.front();
}

}  // namespace tezgah::engine::notify
