#pragma once
// Small pieces shared by the store's SQL code: transactions that fit each backend, and clocks.

#include <soci/soci.h>

#include <chrono>

#include "store/database.hpp"

namespace tezgah::engine::store {

/// A transaction that rolls back unless committed. SQLite takes the write lock at BEGIN
/// (IMMEDIATE), so a transaction that reads then writes never fails half-way on a busy database.
class Transaction {
public:
    Transaction(soci::session& sql, Backend backend) : sql_(sql) {
        sql_ << (backend == Backend::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() {
        if (open_) {
            try {
                sql_ << "ROLLBACK";
            } catch (...) {  // NOLINT(bugprone-empty-catch): the connection is broken already
            }
        }
    }
    void commit() {
        sql_ << "COMMIT";
        open_ = false;
    }

private:
    soci::session& sql_;
    bool open_ = true;
};

/// Milliseconds since the Unix epoch: how every time is stored.
inline long long to_millis(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline std::chrono::system_clock::time_point from_millis(long long ms) {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace tezgah::engine::store
