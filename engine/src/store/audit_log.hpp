#pragma once
// The audit log of operators' requests (docs/operators.md, "Keys and the audit log"): every request
// that presented an API key, valid or refused (when the key it names exists), with its key id,
// method, route template, tenant, status, client address, request id and time. The server records
// entries through an AuditLog, which writes them in batches off the request path.

#include "store/database.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::engine {

struct AuditEntry {
    std::int64_t id = 0;  ///< set when read: the row's number, increasing as entries are written
    std::string key_id;
    std::string method;
    std::string route;      ///< a route template: /v1/tenants/{tenant}/chat
    std::string tenant_id;  ///< empty: a process-wide route (/metrics, /v1/audit)
    int status = 0;
    std::string client;  ///< the client address (after --trusted-proxy resolution)
    std::string request_id;
    std::chrono::system_clock::time_point at{};
};

struct AuditQuery {
    std::string tenant_id;  ///< empty: every tenant
    std::string key_id;     ///< empty: every key
    int limit = 50;
    std::int64_t before = 0;  ///< 0: from the newest; else entries with a smaller id (a page's `next`)
};

struct AuditPage {
    std::vector<AuditEntry> entries;  ///< newest first
    std::int64_t next = 0;            ///< 0: no more; else the `before` of the next page
};

/// Stores `entries` in one transaction.
sdk::Status append_audit(Database& db, const std::vector<AuditEntry>& entries);

/// One page of entries matching `query`, newest first. Errors: store_error.
sdk::Result<AuditPage> read_audit(Database& db, const AuditQuery& query);

/// Records entries and keys' last use off the request path: record() and touch() only queue; a
/// thread writes what is queued every `period` (and at flush() and stop()), so nothing recorded
/// before a clean stop is lost. A key's last use is written at most once per `touch_every`.
class AuditLog {
public:
    explicit AuditLog(Database& db, std::chrono::milliseconds period = std::chrono::milliseconds(200),
                      std::chrono::seconds touch_every = std::chrono::seconds(60));
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    void record(AuditEntry entry);
    /// Key `key_id` was used at `at`; queued when it was last written over `touch_every` ago.
    void touch(const std::string& key_id, std::chrono::system_clock::time_point at);
    /// Writes what is queued now and returns once it is stored (or failed, logged).
    void flush();
    /// Writes what is queued and ends the thread; record() after it writes nothing.
    void stop();

    /// Entries dropped because the queue was full (the database too slow or down).
    std::uint64_t dropped() const;

private:
    void run();
    void write_batch(const std::vector<AuditEntry>& entries,
                     const std::map<std::string, std::chrono::system_clock::time_point>& touches);

    Database& db_;
    const std::chrono::milliseconds period_;
    const std::chrono::seconds touch_every_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable written_;
    std::vector<AuditEntry> queued_;
    std::map<std::string, std::chrono::system_clock::time_point> touches_;       ///< to write
    std::map<std::string, std::chrono::steady_clock::time_point> last_touched_;  ///< per key, in this process
    std::uint64_t requested_ = 0;                                                ///< flush() calls asked
    std::uint64_t done_ = 0;  ///< writes completed (for flush())
    std::uint64_t dropped_ = 0;
    bool stopping_ = false;
    bool stopped_ = false;
    std::thread thread_;
};

}  // namespace tezgah::engine
