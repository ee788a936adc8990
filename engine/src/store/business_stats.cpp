#include "store/business_stats.hpp"

#include "store/sql_support.hpp"

namespace tezgah::engine {

sdk::Result<BusinessStats> business_stats(Database& db, const std::string& tenant_id,
                                          std::chrono::system_clock::time_point now) {
    BusinessStats out;
    const long long since = store::to_millis(now - std::chrono::hours(24));
    auto status = db.read("business stats [" + tenant_id + "]", [&](soci::session& sql) {
        out = BusinessStats{};
        sql << "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM conversations WHERE tenant_id = :t",
            soci::into(out.conversations), soci::into(out.customers), soci::use(tenant_id);
        sql << "SELECT COUNT(*) FROM messages WHERE tenant_id = :t AND at >= :s",
            soci::into(out.messages_last_24h), soci::use(tenant_id), soci::use(since);
        std::string role, method;
        long long count = 0;
        soci::statement st =
            (sql.prepare << "SELECT role, method, COUNT(*) FROM messages WHERE tenant_id = :t "
                            "GROUP BY role, method",
             soci::into(role), soci::into(method), soci::into(count), soci::use(tenant_id));
        st.execute();
        while (st.fetch()) {
            if (role == "user") {
                out.customer_messages += count;
            } else if (role == "assistant") {
                out.bot_messages += count;
                out.replies_by_method[method.empty() ? "unknown" : method] += count;
            }
        }
    });
    if (!status) return status.error();
    return out;
}

}  // namespace tezgah::engine
