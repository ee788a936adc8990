#include "store/group_commit.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "ops/metrics.hpp"
#include "store/sql_support.hpp"
#include "util/log.hpp"

namespace tezgah::engine::store {

GroupCommitWriter::GroupCommitWriter(Backend backend, std::string name, WithSession with_session,
                                     std::size_t max_batch)
    : backend_(backend),
      name_(std::move(name)),
      with_session_(std::move(with_session)),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      thread_([this] { loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

std::string GroupCommitWriter::run(Work work) {
    std::future<std::string> result;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return "the database is closing";
        auto& unit = queue_.emplace_back(Unit{std::move(work), {}});
        result = unit.done.get_future();
    }
    wake_.notify_one();
    return result.get();
}

GroupCommitWriter::Stats GroupCommitWriter::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::size_t GroupCommitWriter::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void GroupCommitWriter::loop() {
    std::deque<Unit> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            // No timer: the writer sleeps only while there is nothing to write. What queues up while
            // a batch commits is the next batch.
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything is written
            auto n = std::min(queue_.size(), max_batch_);
            for (std::size_t i = 0; i < n; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        const auto started = std::chrono::steady_clock::now();
        try {
            with_session_([&](soci::session& sql) { apply(batch, sql); });
        } catch (const std::exception& e) {
            // No session to write on (a pool that could not lend one): every waiter hears why.
            for (auto& unit : batch) unit.done.set_value(std::string("no database session: ") + e.what());
        }
        Metrics::global().db_operation(
            "write_batch", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        {
            std::lock_guard lock(mutex_);
            ++stats_.batches;
            stats_.units += batch.size();
        }
        batch.clear();
    }
}

void GroupCommitWriter::apply(std::deque<Unit>& batch, soci::session& sql) {
    std::string batch_error;
    try {
        Transaction tx(sql, backend_);
        for (auto& unit : batch) unit.work(sql);
        tx.commit();
    } catch (const std::exception& e) {
        batch_error = e.what();
    }
    if (batch_error.empty()) {
        for (auto& unit : batch) unit.done.set_value({});
        return;
    }
    if (batch.size() > 1) {
        log_event(spdlog::level::warn, "store", "write batch failed; retrying its writes one by one",
                  {{"db", name_}, {"writes", std::to_string(batch.size())}, {"error", batch_error}});
        std::lock_guard lock(mutex_);
        ++stats_.isolated;
    }
    if (backend_ == Backend::postgresql) {
        // A dropped connection fails every write after it: reconnect once before the retries.
        try {
            sql << "SELECT 1";
        } catch (const std::exception&) {
            try {
                sql.reconnect();
            } catch (const std::exception& e) {
                log_event(spdlog::level::err, "store", "reconnect failed", {{"db", name_}, {"error", e.what()}});
            }
        }
    }
    for (auto& unit : batch) {
        if (batch.size() == 1) {
            unit.done.set_value(batch_error);
            continue;
        }
        try {
            Transaction tx(sql, backend_);
            unit.work(sql);
            tx.commit();
            unit.done.set_value({});
        } catch (const std::exception& e) {
            unit.done.set_value(e.what());
        }
    }
}

}  // namespace tezgah::engine::store
