// Turns as stackful coroutines on a few threads (util/coroutine.hpp).
//
// Every task runs on a strand of its own: its code and the handlers of its waits (a timer that
// ends a wait, another thread waking it) never run at once, so a wait may keep its descriptor and
// timer on the coroutine's stack. Thread-local state is reached only through the functions below
// that are never inlined: a coroutine that resumes on another thread must not use an address of
// the first thread's storage that the compiler kept from before the switch.

#include "util/coroutine.hpp"

#include <tezgah/sdk/llm.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "util/http_client.hpp"
#include "util/log.hpp"
#include "util/suspend.hpp"

namespace tezgah::engine {
namespace {

namespace asio = boost::asio;
using Strand = asio::strand<asio::io_context::executor_type>;
using Yield = asio::basic_yield_context<Strand>;
using SteadyClock = std::chrono::steady_clock;

/// One running task: how it suspends, and the thread-local state it takes along.
struct Task {
    Yield yield;
    Strand strand;
    PauseHook pause;
    CallLimits limits{};
    std::uint64_t sent = 0;
    std::string request_id;
};

[[gnu::noinline]] Task*& task_slot() {
    thread_local Task* task = nullptr;
    return task;
}

[[gnu::noinline]] Task* current_task() { return task_slot(); }

/// The task takes the thread: its state in, the thread's out (kept in the task until leave()).
[[gnu::noinline]] void enter(Task* task) {
    task_slot() = task;
    current_pause_hook() = &task->pause;
    swap_call_state(task->limits, task->sent);
    swap_request_id(task->request_id);
}

/// The task leaves the thread (it suspends or ends): the same swaps undone.
[[gnu::noinline]] void leave(Task* task) {
    swap_request_id(task->request_id);
    swap_call_state(task->limits, task->sent);
    current_pause_hook() = nullptr;
    task_slot() = nullptr;
}

/// Runs `wait(task)`, which suspends the current coroutine, with the thread handed back meanwhile.
template <class Wait>
auto suspended(Wait&& wait) {
    Task* task = current_task();
    leave(task);
    struct Reenter {
        Task* task;
        ~Reenter() { enter(task); }
    } reenter{task};
    return wait(*task);
}

std::atomic<std::size_t> g_deepest_stack{0};

/// Stacks of tasks that ended, kept for the next ones. Unmapping a stack a thread has used costs a
/// TLB shootdown on every core the process runs on (measured: 15 % of the server's CPU with 1,000
/// turns in flight), and a fresh stack a page fault per page it touches; a kept stack costs only
/// the pages it touched, resident.
class StackCache {
public:
    StackCache(std::size_t stack_bytes, std::size_t keep) : inner_(stack_bytes), keep_(keep) {}
    ~StackCache() {
        for (auto& stack : free_) inner_.deallocate(stack);
    }
    StackCache(const StackCache&) = delete;
    StackCache& operator=(const StackCache&) = delete;

    boost::context::stack_context allocate() {
        {
            std::lock_guard lock(mutex_);
            if (!free_.empty()) {
                auto stack = free_.back();
                free_.pop_back();
                return stack;
            }
        }
        return inner_.allocate();
    }

    void deallocate(boost::context::stack_context& stack) noexcept {
        record_depth(stack);
        {
            std::lock_guard lock(mutex_);
            if (free_.size() < keep_) {
                free_.push_back(stack);
                return;
            }
        }
        inner_.deallocate(stack);
    }

private:
    /// How much of the stack was ever touched: its pages that are resident.
    static void record_depth(const boost::context::stack_context& stack) noexcept {
        static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        std::array<unsigned char, 1024> resident{};
        const std::size_t pages = std::min(stack.size / page, resident.size());
        auto* top = static_cast<char*>(stack.sp);
        if (::mincore(top - pages * page, pages * page, resident.data()) != 0) return;
        std::size_t touched = 0;
        for (std::size_t i = 0; i < pages; ++i) touched += resident[i] & 1;
        const std::size_t bytes = touched * page;
        auto deepest = g_deepest_stack.load(std::memory_order_relaxed);
        while (bytes > deepest && !g_deepest_stack.compare_exchange_weak(deepest, bytes)) {
        }
    }

    boost::context::protected_fixedsize_stack inner_;
    const std::size_t keep_;
    std::mutex mutex_;
    std::vector<boost::context::stack_context> free_;
};

/// The stack allocator spawn() takes (copied into every coroutine): the pool's cache.
class CachedStack {
public:
    explicit CachedStack(StackCache& cache) : cache_(&cache) {}
    boost::context::stack_context allocate() { return cache_->allocate(); }
    void deallocate(boost::context::stack_context& stack) noexcept { cache_->deallocate(stack); }

private:
    StackCache* cache_;
};

/// The waits of coroutines whose call may be cancelled, by the cancellation flag they watch: how
/// cancel_calls() reaches them.
struct CancellableWaits {
    std::mutex mutex;
    std::unordered_multimap<const std::atomic<bool>*, std::function<void()>> wakers;
    std::uint64_t next = 0;

    static CancellableWaits& global() {
        static auto* waits = new CancellableWaits;  // never destroyed: a departure may come at exit
        return *waits;
    }
};

/// Registers `wake` under `flag` while it lives.
class CancellableWait {
public:
    CancellableWait(const std::atomic<bool>* flag, std::function<void()> wake) {
        if (flag == nullptr) return;
        auto& waits = CancellableWaits::global();
        std::lock_guard lock(waits.mutex);
        it_ = waits.wakers.emplace(flag, std::move(wake));
        registered_ = true;
    }
    ~CancellableWait() {
        if (!registered_) return;
        auto& waits = CancellableWaits::global();
        std::lock_guard lock(waits.mutex);
        waits.wakers.erase(it_);
    }
    CancellableWait(const CancellableWait&) = delete;
    CancellableWait& operator=(const CancellableWait&) = delete;

private:
    bool registered_ = false;
    std::unordered_multimap<const std::atomic<bool>*, std::function<void()>>::iterator it_;
};

asio::thread_pool& blocking_threads() {
    // Never destroyed: a resolution may still run when the process exits.
    static auto* pool = new asio::thread_pool(4);
    return *pool;
}

}  // namespace

// ---- The pool --------------------------------------------------------------------------------

struct CoroutinePool::Impl {
    explicit Impl(Options o)
        : options(o), stacks(o.stack_bytes, static_cast<std::size_t>(std::max(1, o.max_running))) {}

    Options options;
    StackCache stacks;  ///< before the loop: coroutines give their stacks back to it as they end
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::vector<std::thread> threads;
    mutable std::mutex mutex;
    std::condition_variable idle;
    std::deque<std::function<void()>> queue;
    std::size_t running = 0;
    bool stopping = false;
    bool joined = false;

    void start(std::function<void()> task) {
        auto strand = asio::make_strand(io);
        asio::spawn(
            strand, std::allocator_arg, CachedStack(stacks),
            [this, task = std::move(task)](const Yield& yield) mutable {
                run(yield, task);
                finished();
            },
            asio::detached);
    }

    void run(const Yield& yield, std::function<void()>& task) {
        Task state{yield, yield.get_executor(), {}, {}, 0, {}};
        state.pause = [](std::chrono::milliseconds duration) {
            suspended([&](Task& t) {
                asio::steady_timer timer(t.strand, duration);
                boost::system::error_code ec;
                timer.async_wait(t.yield[ec]);
                return 0;
            });
        };
        enter(&state);
        try {
            task();
        } catch (const std::exception& e) {
            log_event(spdlog::level::err, "http", "a task on the turn threads threw", {{"error", e.what()}});
        } catch (...) {
            log_event(spdlog::level::err, "http", "a task on the turn threads threw", {});
        }
        leave(&state);
        task = nullptr;  // what the task holds goes now, on its own stack
    }

    void finished() {
        std::function<void()> next;
        {
            std::lock_guard lock(mutex);
            if (!queue.empty()) {
                next = std::move(queue.front());
                queue.pop_front();
            } else if (--running == 0) {
                idle.notify_all();
            }
        }
        if (next) start(std::move(next));
    }
};

CoroutinePool::CoroutinePool(Options options) : impl_(std::make_shared<Impl>(options)) {
    // The SDK's waits (a provider's retry back-off) suspend a turn rather than block its thread.
    sdk::llm::set_wait_function(&pause_for);
    const int threads = std::max(1, options.threads);
    for (int i = 0; i < threads; ++i) {
        impl_->threads.emplace_back([impl = impl_.get()] {
            for (;;) {
                try {
                    impl->io.run();
                    return;
                } catch (const std::exception& e) {
                    log_event(spdlog::level::err, "http", "turn thread error", {{"error", e.what()}});
                }
            }
        });
    }
}

CoroutinePool::~CoroutinePool() { join(); }

bool CoroutinePool::try_post(std::function<void()> task) {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopping) return false;
        if (impl_->running >= static_cast<std::size_t>(std::max(1, impl_->options.max_running))) {
            if (impl_->queue.size() >= impl_->options.max_queued) return false;
            impl_->queue.push_back(std::move(task));
            return true;
        }
        ++impl_->running;
    }
    impl_->start(std::move(task));
    return true;
}

void CoroutinePool::post_detached(std::function<void()> task) {
    {
        std::lock_guard lock(impl_->mutex);
        ++impl_->running;
    }
    impl_->start(std::move(task));
}

bool CoroutinePool::drain(std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(impl_->mutex);
    return impl_->idle.wait_until(lock, until, [&] { return impl_->running == 0 && impl_->queue.empty(); });
}

void CoroutinePool::join() {
    {
        std::unique_lock lock(impl_->mutex);
        impl_->stopping = true;
        if (impl_->joined) return;
        impl_->idle.wait(lock, [&] { return impl_->running == 0 && impl_->queue.empty(); });
        impl_->joined = true;
    }
    impl_->work.reset();
    for (auto& thread : impl_->threads)
        if (thread.joinable()) thread.join();
}

int CoroutinePool::threads() const { return static_cast<int>(impl_->threads.size()); }

std::size_t CoroutinePool::running() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->running;
}

std::size_t CoroutinePool::deepest_stack() { return g_deepest_stack.load(); }

bool in_coroutine() { return current_task() != nullptr; }

// ---- Waits -----------------------------------------------------------------------------------

bool wait_ready(int fd, Readiness what, std::chrono::microseconds timeout) {
    if (current_task() == nullptr) {
        pollfd p{fd, static_cast<short>(what == Readiness::read ? POLLIN : POLLOUT), 0};
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
        return ::poll(&p, 1, static_cast<int>(std::clamp<long long>(ms, 0, 1 << 30))) > 0;
    }
    const std::atomic<bool>* cancelled = current_call_limits().cancelled;
    return suspended([&](Task& task) {
        asio::posix::stream_descriptor descriptor(task.strand);
        // Handlers that may run after the wait ended (a timer due at the same time, a departure
        // just then) find `live` false and leave the descriptor, gone by then, alone. They run
        // through the task's strand: never while the coroutine itself runs.
        auto live = std::make_shared<bool>(true);
        const CancellableWait cancellable(cancelled, [&descriptor, live, strand = task.strand] {
            asio::post(strand, [&descriptor, live] {
                if (!*live) return;
                boost::system::error_code ignored;
                descriptor.cancel(ignored);
            });
        });
        if (cancelled != nullptr && cancelled->load()) return false;
        boost::system::error_code ec;
        descriptor.assign(fd, ec);  // registers the descriptor with this loop's epoll
        if (ec) return true;        // not a descriptor to wait on: the caller's read or write tells why
        asio::steady_timer timer(task.strand, timeout);
        timer.async_wait([&descriptor, live](const boost::system::error_code& error) {
            if (error || !*live) return;
            boost::system::error_code ignored;
            descriptor.cancel(ignored);
        });
        descriptor.async_wait(what == Readiness::read ? asio::posix::descriptor_base::wait_read
                                                      : asio::posix::descriptor_base::wait_write,
                              task.yield[ec]);
        *live = false;
        timer.cancel();
        descriptor.release();  // deregisters it; the descriptor stays its owner's
        return !ec;            // an error or a hang-up counts as ready: the next read says which
    });
}

void cancel_calls(std::atomic<bool>& flag) {
    flag.store(true);
    auto& waits = CancellableWaits::global();
    std::lock_guard lock(waits.mutex);
    const auto [first, last] = waits.wakers.equal_range(&flag);
    for (auto it = first; it != last; ++it) it->second();
}

void run_blocking(const std::function<void()>& work) {
    if (current_task() == nullptr) return work();
    Signal done;
    std::exception_ptr error;
    asio::post(blocking_threads(), [&] {
        try {
            work();
        } catch (...) {
            error = std::current_exception();
        }
        done.set();
    });
    done.wait_until(SteadyClock::time_point::max());
    if (error) std::rethrow_exception(error);
}

// ---- Signal ----------------------------------------------------------------------------------

struct Signal::State {
    std::mutex mutex;
    std::condition_variable changed;
    bool set = false;
    std::function<void()> wake;  ///< how set() reaches a suspended waiter
};

Signal::Signal() : state_(std::make_shared<State>()) {}
Signal::~Signal() = default;

void Signal::set() {
    const auto state = state_;  // the waiter may return, and this Signal go, once it is set
    std::function<void()> wake;
    {
        std::lock_guard lock(state->mutex);
        state->set = true;
        wake = std::move(state->wake);
        state->wake = nullptr;
    }
    state->changed.notify_all();
    if (wake) wake();
}

bool Signal::is_set() const {
    std::lock_guard lock(state_->mutex);
    return state_->set;
}

bool Signal::wait_until(std::chrono::steady_clock::time_point deadline) {
    const auto state = state_;
    if (current_task() == nullptr) {
        std::unique_lock lock(state->mutex);
        state->changed.wait_until(lock, deadline, [&] { return state->set; });
        return state->set;
    }
    return suspended([&](Task& task) {
        auto timer = std::make_shared<asio::steady_timer>(task.strand, deadline);
        {
            std::lock_guard lock(state->mutex);
            if (state->set) return true;
            // Posted to the task's strand: it runs once the coroutine has suspended on the timer.
            state->wake = [timer, strand = task.strand] { asio::post(strand, [timer] { timer->cancel(); }); };
        }
        boost::system::error_code ec;
        timer->async_wait(task.yield[ec]);
        std::lock_guard lock(state->mutex);
        state->wake = nullptr;
        return state->set;
    });
}

}  // namespace tezgah::engine
