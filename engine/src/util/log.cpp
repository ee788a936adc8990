#include "util/log.hpp"

#include <tezgah/sdk/json_text.hpp>

#include <spdlog/sinks/stdout_sinks.h>
#include <boost/json.hpp>

#include <chrono>

namespace tezgah::engine {
namespace {

std::shared_ptr<spdlog::logger>& process_logger() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l =
            std::make_shared<spdlog::logger>("tezgah", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        l->set_pattern("%v");
        l->set_level(spdlog::level::info);
        return l;
    }();
    return logger;
}

const char* level_name(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
            return "trace";
        case spdlog::level::debug:
            return "debug";
        case spdlog::level::info:
            return "info";
        case spdlog::level::warn:
            return "warn";
        case spdlog::level::err:
            return "error";
        case spdlog::level::critical:
            return "critical";
        default:
            return "info";
    }
}

thread_local std::string request_id_of_thread;

std::string iso_now() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

}  // namespace

void init_logging(std::string_view level) {
    auto parsed = spdlog::level::from_str(std::string(level));
    if (level == "error") parsed = spdlog::level::err;
    process_logger()->set_level(parsed);
}

spdlog::logger& log() { return *process_logger(); }

void log_event(spdlog::level::level_enum level, std::string_view logger, std::string_view message,
               std::initializer_list<std::pair<std::string_view, std::string>> fields) {
    auto& l = log();
    if (!l.should_log(level)) return;
    boost::json::object line{
        {"time", iso_now()}, {"level", level_name(level)}, {"logger", logger}, {"message", message}};
    if (!request_id_of_thread.empty()) line["request_id"] = request_id_of_thread;
    for (const auto& [key, value] : fields) line[key] = value;
    l.log(level, sdk::json_text(line));
}

RequestIdScope::RequestIdScope(std::string request_id) : outer_(std::move(request_id_of_thread)) {
    request_id_of_thread = std::move(request_id);
}

RequestIdScope::~RequestIdScope() { request_id_of_thread = std::move(outer_); }

const std::string& current_request_id() { return request_id_of_thread; }

void swap_request_id(std::string& id) { request_id_of_thread.swap(id); }

PluginLogger::PluginLogger(const std::string& kind, const std::string& name, std::string tenant)
    : name_(kind + "." + name + (tenant.empty() ? "" : "[" + tenant + "]")), tenant_(std::move(tenant)) {}

void PluginLogger::log(sdk::LogLevel level, std::string_view message) {
    spdlog::level::level_enum l = spdlog::level::info;
    switch (level) {
        case sdk::LogLevel::trace:
            l = spdlog::level::trace;
            break;
        case sdk::LogLevel::debug:
            l = spdlog::level::debug;
            break;
        case sdk::LogLevel::info:
            l = spdlog::level::info;
            break;
        case sdk::LogLevel::warn:
            l = spdlog::level::warn;
            break;
        case sdk::LogLevel::error:
            l = spdlog::level::err;
            break;
    }
    if (tenant_.empty())
        log_event(l, name_, message);
    else
        log_event(l, name_, message, {{"tenant", tenant_}});
}

}  // namespace tezgah::engine
