#pragma once
// Group commit: every write of a Database goes through one writer thread, which applies all the
// work queued so far (up to a batch limit) in ONE transaction, commits, then wakes each waiter.
// SQLite has one writer at a time and each commit costs a WAL write; PostgreSQL pays a round trip
// per commit: batching turns N commits into one without making any caller wait for a timer.
//
// A unit of work runs on the writer's session inside the batch's transaction and throws
// (soci::soci_error, std::exception) on failure. When one throws, the batch is rolled back and
// every unit of it is run again on its own, so a bad unit fails alone and the others still commit.
// Work must therefore be repeatable: it computes its outcome afresh each run (assigns, never
// appends, to what it captures), and chooses its ids before it is queued.

#include <soci/soci.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"

namespace tezgah::engine::store {

class GroupCommitWriter {
public:
    using Work = std::function<void(soci::session&)>;
    /// Runs its argument with the session the writer writes on (held for one batch).
    using WithSession = std::function<void(const std::function<void(soci::session&)>&)>;

    struct Stats {
        std::uint64_t batches = 0;   ///< transactions committed or attempted
        std::uint64_t units = 0;     ///< units of work completed (committed or failed)
        std::uint64_t isolated = 0;  ///< batches that failed and were retried one unit at a time
    };

    /// `name` (the redacted URL) is for log lines. `max_batch` bounds one transaction.
    /// `after_failure` (may be empty) runs on the writer thread after a batch failed and was rolled
    /// back, before any reconnect and the one-by-one retries: the place to drop what was prepared
    /// on the session (statements of a broken or reconnected connection).
    GroupCommitWriter(Backend backend, std::string name, WithSession with_session,
                      std::size_t max_batch = 512, std::function<void()> after_failure = {});
    /// Finishes everything queued, then stops the thread.
    ~GroupCommitWriter();
    GroupCommitWriter(const GroupCommitWriter&) = delete;
    GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

    /// Queues `work` and waits until its transaction committed. Empty when committed; otherwise
    /// why it failed (the unit's own exception text). `work` is used in place (the caller waits),
    /// never copied.
    std::string run(const Work& work);

    Stats stats() const;
    /// Units waiting for the next batch (not counting the one being written).
    std::size_t queued() const;

private:
    /// Lives on the waiting caller's stack: queuing allocates nothing.
    /// Lives on the waiting caller's stack: queuing allocates nothing. Its waiter sleeps on a futex
    /// word the writer sets once: one wake-up system call per unit, no spin. std::binary_semaphore
    /// spun with sched_yield before it slept (about 4 % of a turn's CPU with 64 waiters); a mutex
    /// and a condition variable cost the writer a signal and a mutex hand-over per unit.
    struct Unit {
        const Work* work;
        std::string error;
        std::atomic<std::uint32_t> state{0};  ///< kWaiting, kSleeping or kDone
        void finish(std::string why);
        /// The batch's outcome for this unit, once it is committed or failed.
        std::string wait();
    };

    void loop();
    void apply(std::vector<Unit*>& batch, soci::session& sql);

    Backend backend_;
    std::string name_;
    WithSession with_session_;
    std::size_t max_batch_;
    std::function<void()> after_failure_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Unit*> queue_;
    bool stopping_ = false;
    Stats stats_;
    std::thread thread_;  ///< last: starts once everything above is ready
};

}  // namespace tezgah::engine::store
