#pragma once
// Finds shared-library plugins on the plugin path, checks their descriptors, and builds instances.
// A loaded library outlives every object it created: each PluginInstance holds its library.

#include <tezgah/sdk/plugin.hpp>

#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tezgah::engine {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

/// A configuration key as the engine keeps it (copied out of the plugin's descriptor).
struct ConfigKeyInfo {
    std::string name;
    sdk::ConfigType type;
    bool required = false;
    std::string default_json;
    std::string description;
};

/// A plugin library that passed every check.
struct PluginInfo {
    std::string name;
    sdk::PluginKind kind;
    std::string version;
    std::string description;
    int abi_major = 0;
    int abi_minor = 0;
    std::string path;
    std::vector<ConfigKeyInfo> config;
    sdk::PluginFactory create = nullptr;
    std::shared_ptr<boost::dll::shared_library> library;
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

    /// Checks `config` against the plugin's config keys, filling defaults. Problems are
    /// "key: message" (unknown key, required, wrong type).
    static std::vector<std::string> validate_config(const PluginInfo& plugin, json::object& config);

    /// Validates `config`, then builds an instance, guarding against exceptions and null results.
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
