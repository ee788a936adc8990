#pragma once
// Notices customers who leave while their turn runs. One thread polls the sockets of the chat
// requests in progress for the peer's shutdown (POLLRDHUP) and sets their flag; the engine then
// cancels the provider call in flight (the turn still completes from the fallback, and is stored).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace tezgah::engine {

class Departures {
public:
    static Departures& global();

    /// Watches `fd` until destroyed; sets `*gone` when the client closes its side.
    class Watch {
    public:
        Watch(Departures& owner, std::uint64_t id) : owner_(owner), id_(id) {}
        ~Watch();
        Watch(const Watch&) = delete;
        Watch& operator=(const Watch&) = delete;

    private:
        Departures& owner_;
        std::uint64_t id_;
    };

    Watch watch(int fd, std::atomic<bool>* gone);

private:
    struct Entry {
        int fd;
        std::atomic<bool>* gone;
    };
    void loop();
    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::uint64_t, Entry> entries_;
    std::uint64_t next_id_ = 1;
    bool started_ = false;
};

}  // namespace tezgah::engine
