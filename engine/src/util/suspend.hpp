#pragma once
// Waiting inside a turn. A turn may run on a thread of its own or, where the server runs turns as
// coroutines (so that a turn waiting on a remote model holds no thread), on a coroutine sharing a
// few threads with many others. Code a turn runs that waits for something another turn holds (a
// customer's lock, a shared lock in Redis) must not block such a thread: it polls with
// pause_for(), which suspends the coroutine when there is one and sleeps the thread otherwise.

#include <chrono>
#include <functional>

namespace tezgah::engine {

/// How the current thread waits: set by whatever runs coroutines on it, for the coroutine it is
/// running (null: sleep the thread).
using PauseHook = std::function<void(std::chrono::milliseconds)>;
PauseHook*& current_pause_hook();

/// Waits `duration`: suspends the current coroutine when a hook is installed, else sleeps.
void pause_for(std::chrono::milliseconds duration);

}  // namespace tezgah::engine
