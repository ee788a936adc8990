#pragma once
// A sweep that runs on its own thread at once and then every interval until stopped: the
// handoff's release sweep and the appointment reminders use one.

#include "util/log.hpp"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace tezgah::engine {

class Periodic {
public:
    Periodic() = default;
    Periodic(const Periodic&) = delete;
    Periodic& operator=(const Periodic&) = delete;
    ~Periodic() { stop(); }

    /// Runs `work` at once (a restart finds what fell due while it was down), then every
    /// `interval`, until stop(). A `work` that throws is logged under `logger` as "`what` failed"
    /// and runs again at the next interval. A second start() while running does nothing.
    void start(std::chrono::milliseconds interval, std::string logger, std::string what,
               std::function<void()> work) {
        std::lock_guard lock(mutex_);
        if (thread_.joinable()) return;
        stopping_ = false;
        thread_ = std::thread(
            [this, interval, logger = std::move(logger), what = std::move(what), work = std::move(work)] {
                std::unique_lock lock(mutex_);
                do {
                    lock.unlock();
                    try {
                        work();
                    } catch (const std::exception& e) {
                        log_event(spdlog::level::err, logger, what + " failed", {{"error", e.what()}});
                    }
                    lock.lock();
                } while (!wake_.wait_for(lock, interval, [this] { return stopping_; }));
            });
    }

    /// Ends the thread after the run in progress, if any.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tezgah::engine
