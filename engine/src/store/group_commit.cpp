#include "store/group_commit.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ops/metrics.hpp"
#include "store/sql_support.hpp"
#include "util/log.hpp"

namespace tezgah::engine::store {

namespace {

constexpr std::uint32_t kWaiting = 0;   ///< queued; its waiter is not asleep (yet)
constexpr std::uint32_t kSleeping = 1;  ///< its waiter sleeps on the word
constexpr std::uint32_t kDone = 2;      ///< written (or failed): `error` is final

#if defined(__linux__)
void sleep_while(std::atomic<std::uint32_t>& word, std::uint32_t value) {
    // Returns at once when the word no longer holds `value`; a spurious wake-up is looped over.
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, value, nullptr, nullptr,
            0);
}
void wake_one(std::atomic<std::uint32_t>& word) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}
#else
void sleep_while(std::atomic<std::uint32_t>& word, std::uint32_t value) { word.wait(value); }
void wake_one(std::atomic<std::uint32_t>& word) { word.notify_one(); }
#endif

}  // namespace

void GroupCommitWriter::Unit::finish(std::string why) {
    error = std::move(why);
    // After the exchange the waiter may return and its Unit go: only the wake-up follows, and a
    // wake-up on a word that is gone wakes nobody (the waiter's loop absorbs a stray one).
    if (state.exchange(kDone, std::memory_order_acq_rel) == kSleeping) wake_one(state);
}

std::string GroupCommitWriter::Unit::wait() {
    std::uint32_t seen = kWaiting;
    if (state.compare_exchange_strong(seen, kSleeping, std::memory_order_acq_rel)) seen = kSleeping;
    while (seen != kDone) {
        sleep_while(state, kSleeping);
        seen = state.load(std::memory_order_acquire);
    }
    return std::move(error);
}

GroupCommitWriter::GroupCommitWriter(Backend backend, std::string name, WithSession with_session,
                                     std::size_t max_batch, std::function<void()> after_failure)
    : backend_(backend),
      name_(std::move(name)),
      with_session_(std::move(with_session)),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      after_failure_(std::move(after_failure)),
      thread_([this] { loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

std::string GroupCommitWriter::run(const Work& work) {
    Unit unit{&work, {}};
    bool was_idle = false;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return "the database is closing";
        was_idle = queue_.empty();
        queue_.push_back(&unit);
    }
    // The writer sleeps only on an empty queue: a second unit finds it awake already.
    if (was_idle) wake_.notify_one();
    return unit.wait();
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
    std::vector<Unit*> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            // No timer: the writer sleeps only while there is nothing to write. What queues up while
            // a batch commits is the next batch.
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything is written
            if (queue_.size() <= max_batch_) {
                batch.swap(queue_);  // both keep their capacity: no allocation once warmed up
            } else {
                auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
                batch.assign(queue_.begin(), end);
                queue_.erase(queue_.begin(), end);
            }
            // Counted before any waiter is released: a caller that returns sees its batch counted.
            ++stats_.batches;
            stats_.units += batch.size();
        }
        const auto started = std::chrono::steady_clock::now();
        try {
            with_session_([&](soci::session& sql) { apply(batch, sql); });
        } catch (const std::exception& e) {
            // No session to write on (a pool that could not lend one): every waiter hears why.
            for (auto* unit : batch) unit->finish(std::string("no database session: ") + e.what());
        }
        Metrics::global().db_operation(
            "write_batch", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        batch.clear();
    }
}

void GroupCommitWriter::apply(std::vector<Unit*>& batch, soci::session& sql) {
    std::string batch_error;
    try {
        Transaction tx(sql, backend_);
        for (auto* unit : batch) (*unit->work)(sql);
        tx.commit();
    } catch (const std::exception& e) {
        batch_error = e.what();
    }
    if (batch_error.empty()) {
        // A waiter may return (and its Unit go) as soon as it is released: nothing touches it after.
        for (auto* unit : batch) unit->finish({});
        return;
    }
    if (after_failure_) after_failure_();
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
                log_event(spdlog::level::err, "store", "reconnect failed",
                          {{"db", name_}, {"error", e.what()}});
            }
        }
    }
    for (auto* unit : batch) {
        if (batch.size() == 1) {
            unit->finish(batch_error);
            continue;
        }
        std::string error;
        try {
            Transaction tx(sql, backend_);
            (*unit->work)(sql);
            tx.commit();
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (!error.empty() && after_failure_) after_failure_();
        unit->finish(std::move(error));
    }
}

}  // namespace tezgah::engine::store
