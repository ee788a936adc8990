#pragma once
// Turns that wait without holding a thread. A CoroutinePool runs each task as a stackful coroutine
// (boost::asio::spawn over Boost.Context, a protected fixed-size stack each, kept for the next task
// when it ends) on a few threads sharing one io_context. Code a task runs is ordinary blocking-style code;
// where it would wait for the network it calls wait_ready(), run_blocking() or Signal::wait_until(), which
// suspend the coroutine (its thread runs other tasks meanwhile) inside a pool and block as before outside one
// (the CLI, tests, the outbox's and the notifier's own threads). pause_for() (util/suspend.hpp)
// suspends too: the pool installs its hook for every task.
//
// A coroutine may resume on another thread of the pool than the one it left. The thread-local
// state that belongs to a task — its call limits (util/http_client.hpp), the count of requests it
// sent, its request id for log lines (util/log.hpp) — goes with it: it is swapped out of the
// thread when the task suspends and back in, on whichever thread, when it resumes. A task must
// not hold a std::mutex across a wait (it may be unlocked on another thread, and every other task
// wanting it would block a pool thread): waits for what another turn holds poll with pause_for().

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace tezgah::engine {

class CoroutinePool {
public:
    struct Options {
        int threads = 4;                      ///< threads running the coroutines
        int max_running = 128;                ///< tasks running at once; more wait in the queue
        std::size_t max_queued = 256;         ///< tasks waiting to start; beyond, try_post refuses
        std::size_t stack_bytes = 256 << 10;  ///< each task's stack (plus a guard page)
    };

    explicit CoroutinePool(Options options);
    /// Waits for every task, then ends the threads (join()).
    ~CoroutinePool();
    CoroutinePool(const CoroutinePool&) = delete;
    CoroutinePool& operator=(const CoroutinePool&) = delete;

    /// Starts `task` as a coroutine, or queues it while max_running run; false when the queue is
    /// full too (the caller answers 503) or the pool stops.
    bool try_post(std::function<void()> task);
    /// Starts `task` now, beyond max_running (a turn that goes on after its request was answered).
    void post_detached(std::function<void()> task);
    /// Waits until no task runs or waits, up to `until`; false when time ran out.
    bool drain(std::chrono::steady_clock::time_point until);
    /// Refuses new tasks, waits for every task started or queued, then ends the threads.
    void join();

    int threads() const;
    /// Tasks running now (suspended ones included).
    std::size_t running() const;
    /// The most stack any finished task used, in bytes (pages it touched): to size stack_bytes.
    static std::size_t deepest_stack();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

/// Whether the calling code runs in a CoroutinePool task.
bool in_coroutine();

enum class Readiness { read, write };

/// Waits until `fd` can be read (or written), has an error or a hang-up, or `timeout` passed;
/// true when it is ready. In a coroutine the wait suspends it, and cancel_calls() on the current
/// call limits' flag ends it early (false); elsewhere it is a poll().
bool wait_ready(int fd, Readiness what, std::chrono::microseconds timeout);

/// Sets `flag` (a call's cancellation, CallLimits::cancelled: the customer left) and wakes every
/// wait_ready() a coroutine waits in under it, so the call ends now rather than at its next check.
void cancel_calls(std::atomic<bool>& flag);

/// Runs `work` on a thread kept for calls that block (name resolution) and returns when it is
/// done, rethrowing what it threw; outside a coroutine `work` runs right here.
void run_blocking(const std::function<void()>& work);

/// A one-shot flag one thread sets and another waits for, with a deadline. A coroutine waiting
/// for it holds no thread; any other waiter blocks.
class Signal {
public:
    Signal();
    ~Signal();
    Signal(const Signal&) = delete;
    Signal& operator=(const Signal&) = delete;

    void set();
    bool is_set() const;
    /// True when set (before `deadline`, or already).
    bool wait_until(std::chrono::steady_clock::time_point deadline);

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace tezgah::engine
