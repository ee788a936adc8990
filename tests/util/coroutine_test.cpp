// Turns as coroutines on a few threads (util/coroutine.hpp): what a task takes along when it
// resumes on another thread, waits that suspend rather than block, the bounded queue.
#include "util/coroutine.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "util/http_client.hpp"
#include "util/log.hpp"
#include "util/suspend.hpp"

namespace tezgah::engine {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

CoroutinePool::Options pool_of(int threads, int max_running = 256, std::size_t max_queued = 256) {
    CoroutinePool::Options options;
    options.threads = threads;
    options.max_running = max_running;
    options.max_queued = max_queued;
    return options;
}

TEST(CoroutinePoolTest, ATaskKeepsItsRequestIdAndCallLimitsWhileOthersRunOnItsThread) {
    // The thread-local state of a task (its request id for log lines, the call limits and count
    // of requests of the HTTP client) goes out when it suspends and comes back when it resumes,
    // wherever: 64 tasks interleaved on one thread each see only their own.
    CoroutinePool pool(pool_of(1));
    constexpr int kTasks = 64;
    std::atomic<int> wrong{0};
    std::atomic<int> inside{0};
    std::atomic<int> most_inside{0};
    std::atomic<bool> outside_coroutine{false};
    std::atomic<bool> cancelled{false};
    for (int i = 0; i < kTasks; ++i) {
        ASSERT_TRUE(pool.try_post([&, i] {
            if (!in_coroutine()) outside_coroutine = true;
            const std::string id = "task-" + std::to_string(i);
            const auto deadline = Clock::time_point(std::chrono::seconds(1000 + i));
            RequestIdScope scope(id);
            ScopedCallLimits limits({deadline, &cancelled});
            const auto sent = requests_sent_on_this_thread();
            const int now_inside = ++inside;
            for (int seen = most_inside.load();
                 now_inside > seen && !most_inside.compare_exchange_weak(seen, now_inside);) {
            }
            for (int step = 0; step < 20; ++step) {
                pause_for(1ms);
                if (current_request_id() != id || current_call_limits().deadline != deadline ||
                    current_call_limits().cancelled != &cancelled || requests_sent_on_this_thread() != sent)
                    ++wrong;
            }
            --inside;
        }));
    }
    ASSERT_TRUE(pool.drain(Clock::now() + 20s));
    EXPECT_FALSE(outside_coroutine);
    EXPECT_GT(most_inside, 1) << "the tasks never interleaved: the test proved nothing";
    EXPECT_EQ(wrong, 0) << "a task saw another's request id or call limits after it resumed";
    // Nothing of the tasks stays on this thread or leaks to it.
    EXPECT_EQ(current_request_id(), "");
    EXPECT_EQ(current_call_limits().deadline, Clock::time_point{});
}

TEST(CoroutinePoolTest, APauseHoldsNoThread) {
    // One thread, 100 tasks pausing 300 ms each: together in about 300 ms, not 30 s.
    CoroutinePool pool(pool_of(1));
    std::atomic<int> done{0};
    const auto started = Clock::now();
    for (int i = 0; i < 100; ++i)
        ASSERT_TRUE(pool.try_post([&] {
            pause_for(300ms);
            ++done;
        }));
    ASSERT_TRUE(pool.drain(Clock::now() + 20s));
    EXPECT_EQ(done, 100);
    EXPECT_LT(Clock::now() - started, 5s);
}

TEST(CoroutinePoolTest, BeyondRunningAndQueuedTasksAreRefused) {
    CoroutinePool pool(pool_of(2, /*max_running=*/1, /*max_queued=*/1));
    Signal release;
    std::atomic<int> ran{0};
    auto task = [&] {
        release.wait_until(Clock::now() + 20s);
        ++ran;
    };
    EXPECT_TRUE(pool.try_post(task));   // runs, and waits
    EXPECT_TRUE(pool.try_post(task));   // queued
    EXPECT_FALSE(pool.try_post(task));  // refused: the server answers 503
    EXPECT_EQ(pool.running(), 1u);
    release.set();
    ASSERT_TRUE(pool.drain(Clock::now() + 20s));
    EXPECT_EQ(ran, 2);
}

TEST(CoroutinePoolTest, ASignalWakesASuspendedTaskAndADeadlineEndsTheWait) {
    CoroutinePool pool(pool_of(1));
    Signal signal;
    Signal never;
    std::atomic<bool> woken{false};
    std::atomic<bool> timed_out{false};
    std::atomic<long long> waited_ms{-1};
    ASSERT_TRUE(pool.try_post([&] { woken = signal.wait_until(Clock::now() + 20s); }));
    ASSERT_TRUE(pool.try_post([&] {
        const auto started = Clock::now();
        timed_out = !never.wait_until(started + 200ms);
        waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    }));
    std::this_thread::sleep_for(50ms);
    signal.set();
    ASSERT_TRUE(pool.drain(Clock::now() + 20s));
    EXPECT_TRUE(woken);
    EXPECT_TRUE(timed_out);
    EXPECT_GE(waited_ms, 200);
    EXPECT_LT(waited_ms, 5000);
}

TEST(CoroutinePoolTest, BlockingWorkRunsOffTheTurnThreadsAndItsExceptionComesBack) {
    CoroutinePool pool(pool_of(1));
    std::atomic<bool> other_thread{false};
    std::atomic<bool> rethrown{false};
    ASSERT_TRUE(pool.try_post([&] {
        const auto mine = std::this_thread::get_id();
        run_blocking([&] { other_thread = std::this_thread::get_id() != mine; });
        try {
            run_blocking([] { throw std::runtime_error("no such host"); });
        } catch (const std::runtime_error& e) {
            rethrown = std::string(e.what()) == "no such host";
        }
    }));
    ASSERT_TRUE(pool.drain(Clock::now() + 20s));
    EXPECT_TRUE(other_thread);
    EXPECT_TRUE(rethrown);
}

TEST(CoroutinePoolTest, OutsideAPoolWaitsBlockAsBefore) {
    EXPECT_FALSE(in_coroutine());
    Signal signal;
    const auto started = Clock::now();
    EXPECT_FALSE(signal.wait_until(started + 50ms));
    EXPECT_GE(Clock::now() - started, 50ms);
    int ran = 0;
    run_blocking([&] { ++ran; });
    EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace tezgah::engine
