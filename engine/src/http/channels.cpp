// Process-wide channel instances: one per channel plugin that mounts RouteScope::process routes,
// built with empty configuration and a host whose tenant profile is empty. They parse a request
// to learn which tenant it is for; the tenant's own instance then checks it again.
#include "http/exchange.hpp"

#include "plugins/guarded.hpp"
#include "util/host.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"

namespace tezgah::engine::http {

struct ProcessChannels::Holder {
    explicit Holder(const std::string& plugin) : services("channel", plugin, http_client) {}

    PocoHttpClient http_client;
    TenantlessHost services;  // references http_client: declared after it
    PluginInstance instance;  // destroyed first
};

ProcessChannels::ProcessChannels(const PluginRegistry& registry) {
    for (const auto& plugin : registry.plugins()) {
        if (plugin.kind != sdk::PluginKind::channel) continue;
        auto holder = std::make_unique<Holder>(plugin.name);
        auto instance = registry.instantiate(plugin, json::object{}, holder->services);
        if (!instance) {
            // Usual for a channel whose config has required keys: its routes are the tenants' own.
            log_event(spdlog::level::debug, "http", "channel plugin has no process-wide instance",
                      {{"plugin", plugin.name}, {"reason", instance.error().message}});
            continue;
        }
        auto* channel = instance->as<sdk::Channel>();
        if (channel == nullptr) continue;
        auto routes = guarded("channel " + plugin.name + " routes", [&] { return channel->routes(); });
        if (!routes) {
            log_event(spdlog::level::err, "http", "channel plugin's routes() failed",
                      {{"plugin", plugin.name}, {"error", routes.error().message}});
            continue;
        }
        auto* sender = plugin.has(sdk::kChannelSends) ? instance->as<sdk::ChannelSender>() : nullptr;
        bool mounted = false;
        for (const auto& route : *routes) {
            if (route.scope != sdk::RouteScope::process) continue;
            if (route.path.empty() || route.path.front() != '/' || route.path.starts_with("/v1/") ||
                route.path.starts_with("/health") || route.path == "/metrics") {
                log_event(spdlog::level::err, "http", "channel route refused: reserved or not absolute",
                          {{"plugin", plugin.name}, {"path", route.path}});
                continue;
            }
            mounts_[route.path].push_back(Mount{route.method, plugin.name, channel, sender});
            log_event(spdlog::level::info, "http", "channel route mounted",
                      {{"plugin", plugin.name}, {"method", route.method}, {"path", route.path}});
            mounted = true;
        }
        if (!mounted) continue;
        holder->instance = std::move(instance).value();
        holders_.push_back(std::move(holder));
    }
}

ProcessChannels::~ProcessChannels() = default;

const std::vector<ProcessChannels::Mount>* ProcessChannels::find(const std::string& path) const {
    auto it = mounts_.find(path);
    return it == mounts_.end() ? nullptr : &it->second;
}

}  // namespace tezgah::engine::http
