#pragma once
// Structured JSON logs on stderr (spdlog), and the per-plugin loggers handed to plugins.

#include <tezgah/sdk/host.hpp>

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace tezgah::engine {

namespace sdk = tezgah::sdk;

/// Configures the process logger: JSON lines on stderr at `level` (trace..error, off).
void init_logging(std::string_view level);

/// The process logger.
spdlog::logger& log();

/// Writes one JSON log line with the given fields plus time, level and logger name, and the
/// thread's current request id (RequestIdScope) when it has one and `fields` names none.
void log_event(spdlog::level::level_enum level, std::string_view logger, std::string_view message,
               std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

/// While it lives, every log line this thread writes carries `"request_id": id`: the access log,
/// the engine's lines and every plugin's, so the lines of one request can be found together. The
/// HTTP layer opens one per request it handles; a turn runs on that thread from start to end.
/// Scopes nest: the outer id comes back when the inner scope ends.
class RequestIdScope {
public:
    explicit RequestIdScope(std::string request_id);
    ~RequestIdScope();
    RequestIdScope(const RequestIdScope&) = delete;
    RequestIdScope& operator=(const RequestIdScope&) = delete;

private:
    std::string outer_;
};

/// The request id of this thread's innermost RequestIdScope; empty outside any.
const std::string& current_request_id();

/// Swaps this thread's request id with `id`: a turn running as a coroutine takes it along when it
/// moves to another thread (util/coroutine.hpp).
void swap_request_id(std::string& id);

/// A logger for one plugin instance, named `<kind>.<name>[tenant]`.
class PluginLogger : public sdk::Logger {
public:
    PluginLogger(const std::string& kind, const std::string& name, std::string tenant);
    void log(sdk::LogLevel level, std::string_view message) override;
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::string tenant_;
};

}  // namespace tezgah::engine
