#pragma once
// SharedState over Redis (`tezgah serve --redis redis://HOST:PORT[/DB]`): what several instances
// of the engine share (shared/shared_state.hpp). Every key is namespaced "tezgah:".
//
// A dead Redis never holds a turn up: connecting and reading time out after 200 ms. When an
// operation fails, it is logged once for the outage, that operation and every one after it use
// this process's memory (make_local_state()), and health() says `degraded`; a probe PINGs Redis
// every second and, once it answers, the engine goes back to it (`ok`). What was counted in memory
// during the outage stays there: it is not merged back into Redis.

#include "shared/shared_state.hpp"

#include <tezgah/sdk/result.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace tezgah::engine {

struct RedisAddress {
    std::string host;
    int port = 6379;
    int database = 0;
};

/// `redis://HOST:PORT[/DB]` (PORT defaults to 6379, DB to 0). The error names `option` and the value.
sdk::Result<RedisAddress> parse_redis_url(std::string_view url, std::string_view option = "--redis");

struct RedisOptions {
    std::chrono::milliseconds timeout{200};       ///< connect and read, per operation
    std::chrono::milliseconds probe_every{1000};  ///< while degraded: a PING this often
    std::size_t pool_size = 16;                   ///< idle connections kept for reuse
};

/// SharedState over the Redis at `url`. Fails only on a malformed URL: a Redis that does not
/// answer makes a state that starts `degraded` (logged), so the engine still starts.
sdk::Result<std::unique_ptr<SharedState>> make_redis_state(const std::string& url, RedisOptions options = {});

}  // namespace tezgah::engine
