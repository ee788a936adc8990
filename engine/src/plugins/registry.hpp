#pragma once
// Finds shared-library plugins on the plugin path, checks their descriptors, and builds instances.
// A loaded library outlives every object it created: each PluginInstance holds its library.

#include <tezgah/sdk/channel.hpp>
#include <tezgah/sdk/config.hpp>
#include <tezgah/sdk/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tezgah::engine {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

/// A plugin library that passed every check.
struct PluginInfo {
    std::string name;
    sdk::PluginKind kind;
    std::string version;
    std::string description;
    int abi_major = 0;
    int abi_minor = 0;
    std::string path;
    /// The declared keys, read with the plugin's own element size; their strings live in the
    /// library, which `library` keeps loaded.
    std::vector<sdk::ConfigKey> config;
    /// llm: sdk::ProviderCapability bits (ABI 1.2; 0 before); channel: sdk::ChannelCapability bits
    /// (ABI 1.4; 0 before).
    std::uint32_t capabilities = 0;
    sdk::PluginFactory create = nullptr;
    std::shared_ptr<boost::dll::shared_library> library;

    bool has(sdk::ProviderCapability capability) const {
        return kind == sdk::PluginKind::llm && (capabilities & capability) != 0;
    }
    bool has(sdk::ChannelCapability capability) const {
        return kind == sdk::PluginKind::channel && (capabilities & capability) != 0;
    }
};

/// A file that was not loaded, and why.
struct PluginRefusal {
    std::string path;
    std::string reason;
};

/// A plugin instance that keeps its library loaded for as long as it lives.
class PluginInstance {
public:
    PluginInstance() = default;
    PluginInstance(std::shared_ptr<boost::dll::shared_library> library, sdk::PluginPtr plugin)
        : library_(std::move(library)), plugin_(std::move(plugin)) {}
    PluginInstance(PluginInstance&&) noexcept = default;
    PluginInstance& operator=(PluginInstance&& other) noexcept {
        plugin_ = std::move(other.plugin_);  // destroy our object before dropping our library
        library_ = std::move(other.library_);
        return *this;
    }
    ~PluginInstance() { plugin_.reset(); }

    sdk::Plugin* get() const { return plugin_.get(); }
    template <class T>
    T* as() const {
        return dynamic_cast<T*>(plugin_.get());
    }
    explicit operator bool() const { return static_cast<bool>(plugin_); }

private:
    std::shared_ptr<boost::dll::shared_library> library_;  // declared first: destroyed last
    sdk::PluginPtr plugin_;
};

class PluginRegistry {
public:
    /// Loads every `*.so` in each folder (sorted by name). Refusals are recorded and logged.
    void load_directories(const std::vector<std::filesystem::path>& folders);
    /// Loads one file; false (and a refusal) when it is not a usable plugin.
    bool load_file(const std::filesystem::path& path);

    const std::vector<PluginInfo>& plugins() const { return plugins_; }
    const std::vector<PluginRefusal>& refused() const { return refused_; }
    const PluginInfo* find(std::string_view name, sdk::PluginKind kind) const;
    const PluginInfo* find(std::string_view name) const;
    /// The first llm plugin (by file name) that declares kProviderOffline: a tenant's provider
    /// when its manifest names none, and every chain's last resort. Null when none is installed.
    const PluginInfo* offline_provider() const;

    /// Checks `config` against the plugin's config keys and fills defaults (sdk::validate_config).
    static std::vector<sdk::ConfigProblem> validate_config(const PluginInfo& plugin, json::object& config);

    /// Validates `config`, then builds an instance, guarding against exceptions and null results.
    /// An instance of a plugin built for an older minor ABI comes wrapped in the current interface
    /// (plugins/legacy.hpp).
    sdk::Result<PluginInstance> instantiate(const PluginInfo& plugin, json::object config,
                                            sdk::HostServices& host) const;

private:
    void refuse(const std::filesystem::path& path, std::string reason);
    std::vector<PluginInfo> plugins_;
    std::vector<PluginRefusal> refused_;
};

/// The default plugin path: TEZGAH_PLUGIN_PATH (colon-separated) when set, else
/// <executable dir>/../lib/tezgah/plugins.
std::vector<std::filesystem::path> default_plugin_path();

/// Splits a colon-separated path list.
std::vector<std::filesystem::path> split_path_list(const std::string& list);

}  // namespace tezgah::engine
