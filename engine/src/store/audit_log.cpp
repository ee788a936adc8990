// The audit log of operators' requests: stored in batches, read in pages (store/audit_log.hpp).
#include "store/audit_log.hpp"

#include "store/api_keys.hpp"
#include "store/sql_support.hpp"
#include "util/log.hpp"

#include <algorithm>

namespace tezgah::engine {
namespace {

using store::from_millis;
using store::to_millis;

/// Entries waiting at most; beyond, new ones are dropped (and counted) until the writer catches up.
constexpr std::size_t kMaxQueued = 100000;

}  // namespace

sdk::Status append_audit(Database& db, const std::vector<AuditEntry>& entries) {
    if (entries.empty()) return {};
    return db.write("append_audit", [&](soci::session& sql) {
        AuditEntry row;
        long long at = 0;
        soci::statement st =
            (sql.prepare << "INSERT INTO audit_log (key_id, method, route, tenant_id, status, client, "
                            "request_id, at) "
                            "VALUES (:key, :method, :route, :tenant, :status, :client, :request, :at)",
             soci::use(row.key_id), soci::use(row.method), soci::use(row.route), soci::use(row.tenant_id),
             soci::use(row.status), soci::use(row.client), soci::use(row.request_id), soci::use(at));
        for (const auto& entry : entries) {
            row = entry;
            at = to_millis(entry.at);
            st.execute(true);
        }
    });
}

sdk::Result<AuditPage> read_audit(Database& db, const AuditQuery& query) {
    AuditPage page;
    const int limit = std::clamp(query.limit, 1, 1000);
    auto read = db.read("read_audit", [&](soci::session& sql) {
        page.entries.clear();
        std::string where = "WHERE 1 = 1";
        if (!query.tenant_id.empty()) where += " AND tenant_id = :tenant";
        if (!query.key_id.empty()) where += " AND key_id = :key";
        if (query.before > 0) where += " AND id < :before";
        AuditEntry row;
        long long id = 0, at = 0;
        const long long before = query.before;
        // One more than asked: whether there is a next page.
        const int fetch = limit + 1;
        soci::statement st =
            (sql.prepare << "SELECT id, key_id, method, route, tenant_id, status, client, request_id, at "
                            "FROM audit_log " +
                                where + " ORDER BY id DESC LIMIT :limit",
             soci::into(id), soci::into(row.key_id), soci::into(row.method), soci::into(row.route),
             soci::into(row.tenant_id), soci::into(row.status), soci::into(row.client),
             soci::into(row.request_id), soci::into(at));
        if (!query.tenant_id.empty()) st.exchange(soci::use(query.tenant_id));
        if (!query.key_id.empty()) st.exchange(soci::use(query.key_id));
        if (query.before > 0) st.exchange(soci::use(before));
        st.exchange(soci::use(fetch));
        st.define_and_bind();
        st.execute();
        while (st.fetch()) {
            row.id = id;
            row.at = from_millis(at);
            page.entries.push_back(row);
        }
    });
    if (!read) return read.error();
    page.next = 0;
    if (page.entries.size() > static_cast<std::size_t>(limit)) {
        page.entries.resize(static_cast<std::size_t>(limit));
        page.next = page.entries.back().id;
    }
    return page;
}

AuditLog::AuditLog(Database& db, std::chrono::milliseconds period, std::chrono::seconds touch_every)
    : db_(db), period_(period), touch_every_(touch_every), thread_([this] { run(); }) {}

AuditLog::~AuditLog() { stop(); }

void AuditLog::record(AuditEntry entry) {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (queued_.size() >= kMaxQueued) {
        ++dropped_;
        return;
    }
    queued_.push_back(std::move(entry));
}

void AuditLog::touch(const std::string& key_id, std::chrono::system_clock::time_point at) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    auto it = last_touched_.find(key_id);
    if (it != last_touched_.end() && now - it->second < touch_every_) return;
    if (last_touched_.size() > 100000) last_touched_.clear();
    last_touched_[key_id] = now;
    touches_[key_id] = at;
}

void AuditLog::flush() {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    const auto mine = ++requested_;
    wake_.notify_one();
    written_.wait(lock, [&] { return done_ >= mine || stopped_; });
}

void AuditLog::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    stopped_ = true;
    written_.notify_all();
}

std::uint64_t AuditLog::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

void AuditLog::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, period_, [&] { return stopping_ || requested_ > done_; });
        auto entries = std::move(queued_);
        queued_.clear();
        auto touches = std::move(touches_);
        touches_.clear();
        const auto target = requested_;
        const bool last = stopping_;
        lock.unlock();
        write_batch(entries, touches);
        lock.lock();
        done_ = target;
        written_.notify_all();
        if (last) return;
    }
}

void AuditLog::write_batch(const std::vector<AuditEntry>& entries,
                           const std::map<std::string, std::chrono::system_clock::time_point>& touches) {
    if (auto stored = append_audit(db_, entries); !stored)
        log_event(spdlog::level::err, "audit", "audit entries could not be stored",
                  {{"entries", std::to_string(entries.size())}, {"error", stored.error().message}});
    for (const auto& [id, at] : touches) {
        if (auto touched = touch_api_key(db_, id, at); !touched)
            log_event(spdlog::level::warn, "audit", "a key's last use could not be stored",
                      {{"key_id", id}, {"error", touched.error().message}});
    }
}

}  // namespace tezgah::engine
