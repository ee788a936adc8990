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

/// Writes one JSON log line with the given fields plus time, level and logger name.
void log_event(spdlog::level::level_enum level, std::string_view logger, std::string_view message,
               std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

/// A logger for one plugin instance, named `<kind>.<name>[tenant]`.
class PluginLogger : public sdk::Logger {
public:
    PluginLogger(std::string kind, std::string name, std::string tenant);
    void log(sdk::LogLevel level, std::string_view message) override;
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::string tenant_;
};

}  // namespace tezgah::engine
