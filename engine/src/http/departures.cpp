#include "http/departures.hpp"

#include "util/coroutine.hpp"

#include <poll.h>

#include <vector>

namespace tezgah::engine {

Departures& Departures::global() {
    static auto* instance = new Departures;  // lives as long as the process; its thread too
    return *instance;
}

Departures::Watch::~Watch() {
    std::lock_guard lock(owner_.mutex_);
    owner_.entries_.erase(id_);
}

Departures::Watch Departures::watch(int fd, std::atomic<bool>* gone) {
    std::lock_guard lock(mutex_);
    const auto id = next_id_++;
    if (fd >= 0) entries_.emplace(id, Entry{fd, gone});
    if (!started_) {
        started_ = true;
        std::thread([this] { loop(); }).detach();
    }
    wake_.notify_one();
    return Watch(*this, id);
}

void Departures::loop() {
    std::vector<std::uint64_t> ids;
    std::vector<pollfd> fds;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return !entries_.empty(); });
            ids.clear();
            fds.clear();
            for (const auto& [id, entry] : entries_) {
                ids.push_back(id);
                fds.push_back(pollfd{entry.fd, POLLRDHUP, 0});
            }
        }
        int ready = ::poll(fds.data(), fds.size(), 200);
        if (ready > 0) {
            std::lock_guard lock(mutex_);
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
                // Only while still watched: after its Watch is gone the fd may belong to another.
                auto it = entries_.find(ids[i]);
                if (it == entries_.end()) continue;
                cancel_calls(*it->second.gone);  // and wakes the call waiting under it
                entries_.erase(it);
            }
        }
        // A closed peer keeps the socket readable: without this pause a gone client still being
        // answered would spin the loop.
        std::this_thread::sleep_for(std::chrono::milliseconds(ready > 0 ? 50 : 0));
    }
}

}  // namespace tezgah::engine
