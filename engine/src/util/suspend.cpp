// Waiting inside a turn without blocking a shared thread (util/suspend.hpp).

#include "util/suspend.hpp"

#include <thread>

namespace tezgah::engine {

PauseHook*& current_pause_hook() {
    thread_local PauseHook* hook = nullptr;
    return hook;
}

void pause_for(std::chrono::milliseconds duration) {
    if (auto* hook = current_pause_hook(); hook != nullptr && *hook) {
        (*hook)(duration);
        return;
    }
    std::this_thread::sleep_for(duration);
}

}  // namespace tezgah::engine
