#include "plugins/registry.hpp"

#include <tezgah/sdk/channel.hpp>
#include <tezgah/sdk/errors.hpp>

#include "util/common.hpp"
#include "util/log.hpp"

#include "plugins/guarded.hpp"
#include "plugins/legacy.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>

namespace tezgah::engine {
namespace fs = std::filesystem;

namespace {

bool looks_like_elf(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    in.read(magic, 4);
    return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

bool valid_kind(sdk::PluginKind kind) {
    switch (kind) {
        case sdk::PluginKind::llm:
        case sdk::PluginKind::channel:
        case sdk::PluginKind::tool:
        case sdk::PluginKind::rule:
            return true;
    }
    return false;
}

/// The smallest descriptor a plugin of ABI minor `minor` can have: the fields it knows of.
std::uint32_t descriptor_size_for(int minor) {
    return minor >= 2 ? static_cast<std::uint32_t>(offsetof(sdk::PluginDescriptor, capabilities) +
                                                   sizeof(sdk::PluginDescriptor::capabilities))
                      : sdk::kDescriptorSize_1_0;
}

/// The plugin's descriptor as this engine reads it: the bytes the plugin has (its struct_size,
/// at most what this engine knows), the rest zero. ABI 1.0 and 1.1 recorded no config key size:
/// zero means their layout.
sdk::PluginDescriptor copy_descriptor(const sdk::PluginDescriptor& raw) {
    sdk::PluginDescriptor d{};
    std::memcpy(&d, &raw, std::min<std::size_t>(raw.struct_size, sizeof d));
    if (d.abi_minor < 2) {
        d.config_key_size = 0;
        d.capabilities = 0;
    }
    return d;
}

}  // namespace

std::vector<fs::path> split_path_list(const std::string& list) {
    std::vector<fs::path> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        auto colon = list.find(':', start);
        auto part = list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!part.empty()) out.emplace_back(part);
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return out;
}

std::vector<fs::path> default_plugin_path() {
    if (const char* env = std::getenv("TEZGAH_PLUGIN_PATH"); env && *env) return split_path_list(env);
    return {(executable_dir() / ".." / "lib" / "tezgah" / "plugins").lexically_normal()};
}

void PluginRegistry::refuse(const fs::path& path, std::string reason) {
    log_event(spdlog::level::warn, "plugins", "plugin refused",
              {{"file", path.string()}, {"reason", reason}});
    refused_.push_back({path.string(), std::move(reason)});
}

void PluginRegistry::load_directories(const std::vector<fs::path>& folders) {
    for (const auto& folder : folders) {
        std::error_code ec;
        if (!fs::is_directory(folder, ec)) {
            refuse(folder, "not a folder");
            continue;
        }
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(folder, ec))
            if (entry.path().extension() == ".so") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        for (const auto& file : files) load_file(file);
    }
}

bool PluginRegistry::load_file(const fs::path& path) {
    if (!looks_like_elf(path)) {
        refuse(path, "not a shared library");
        return false;
    }
    auto library = std::make_shared<boost::dll::shared_library>();
    boost::system::error_code ec;
    library->load(boost::dll::fs::path(path.string()),
                  boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec) {
        refuse(path, "cannot be loaded: " + ec.message());
        return false;
    }
    if (!library->has(sdk::kDescriptorSymbol)) {
        refuse(path, std::string("no plugin descriptor (symbol ") + sdk::kDescriptorSymbol +
                         "; declare one with TEZGAH_PLUGIN)");
        return false;
    }
    const auto& raw = library->get<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
    // The ABI fields sit at fixed offsets before anything else: check them first.
    const std::string built_for = std::to_string(raw.abi_major) + "." + std::to_string(raw.abi_minor);
    const std::string ours = std::to_string(sdk::kAbiMajor) + "." + std::to_string(sdk::kAbiMinor);
    if (raw.abi_major != sdk::kAbiMajor) {
        refuse(path, "built for plugin ABI " + built_for + ", this engine speaks ABI " + ours +
                         " (another major version)");
        return false;
    }
    if (raw.abi_minor > sdk::kAbiMinor || raw.abi_minor < 0) {
        refuse(path, "built for plugin ABI " + built_for + ", newer than this engine's " + ours +
                         "; upgrade the engine");
        return false;
    }
    if (raw.struct_size < descriptor_size_for(raw.abi_minor)) {
        refuse(path, "descriptor too small for ABI " + built_for + " (" + std::to_string(raw.struct_size) +
                         " bytes, at least " + std::to_string(descriptor_size_for(raw.abi_minor)) + ")");
        return false;
    }
    const auto d = copy_descriptor(raw);
    if (!d.name || !*d.name || !d.create || !valid_kind(d.kind) || !d.version) {
        refuse(path, "incomplete descriptor (name, kind, version and factory are required)");
        return false;
    }
    if (d.config_key_count > 0 && d.config_key_size != 0 && d.config_key_size < sdk::kConfigKeySize_1_0) {
        refuse(path, "config keys of " + std::to_string(d.config_key_size) +
                         " bytes, smaller than ABI 1.0's " + std::to_string(sdk::kConfigKeySize_1_0));
        return false;
    }
    PluginInfo info;
    info.name = d.name;
    info.kind = d.kind;
    info.version = d.version;
    info.description = d.description ? d.description : "";
    info.abi_major = d.abi_major;
    info.abi_minor = d.abi_minor;
    info.path = path.string();
    info.create = d.create;
    // Channels declare what they can do from ABI 1.4 on (a 1.2 or 1.3 channel's bits mean nothing).
    if (d.kind == sdk::PluginKind::llm || (d.kind == sdk::PluginKind::channel && d.abi_minor >= 4))
        info.capabilities = d.capabilities;
    // A 1.4 channel knew only kChannelSends; the window and batch bits came with 1.5.
    if (d.kind == sdk::PluginKind::channel && d.abi_minor == 4) info.capabilities &= sdk::kChannelSends;
    info.config = sdk::config_keys(d);
    if (auto problems = sdk::check_config_keys(info.config); !problems.empty()) {
        std::string reasons;
        for (const auto& p : problems) reasons += (reasons.empty() ? "" : "; ") + p.key + ": " + p.message;
        refuse(path, "plugin \"" + info.name + "\" declares invalid config keys: " + reasons);
        return false;
    }
    if (const auto* other = find(info.name)) {
        refuse(path, "duplicate plugin name \"" + info.name + "\" (already loaded from " + other->path + ")");
        return false;
    }
    info.library = std::move(library);
    log_event(spdlog::level::debug, "plugins", "plugin loaded",
              {{"name", info.name}, {"kind", sdk::to_string(info.kind)}, {"file", info.path}});
    plugins_.push_back(std::move(info));
    return true;
}

const PluginInfo* PluginRegistry::find(std::string_view name, sdk::PluginKind kind) const {
    for (const auto& p : plugins_)
        if (p.name == name && p.kind == kind) return &p;
    return nullptr;
}

const PluginInfo* PluginRegistry::offline_provider() const {
    for (const auto& p : plugins_)
        if (p.kind == sdk::PluginKind::llm && p.has(sdk::kProviderOffline)) return &p;
    return nullptr;
}

const PluginInfo* PluginRegistry::find(std::string_view name) const {
    for (const auto& p : plugins_)
        if (p.name == name) return &p;
    return nullptr;
}

std::vector<sdk::ConfigProblem> PluginRegistry::validate_config(const PluginInfo& plugin,
                                                                json::object& config) {
    return sdk::validate_config(plugin.config, config);
}

sdk::Result<PluginInstance> PluginRegistry::instantiate(const PluginInfo& plugin, json::object config,
                                                        sdk::HostServices& host) const {
    auto problems = validate_config(plugin, config);
    if (!problems.empty()) {
        std::string message;
        for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p.key + ": " + p.message;
        return sdk::Error{sdk::errc::invalid_config, message};
    }
    auto made = guarded(plugin.name + ": factory", [&] { return plugin.create(config, host); });
    if (!made) return made.error();
    if (!made.value())
        return sdk::Error{sdk::errc::plugin_failed, plugin.name + ": factory returned nothing"};
    bool right_kind = false;
    switch (plugin.kind) {
        case sdk::PluginKind::llm:
            right_kind = dynamic_cast<sdk::LlmProvider*>(made.value().get());
            break;
        case sdk::PluginKind::tool:
            right_kind = dynamic_cast<sdk::Tool*>(made.value().get());
            break;
        case sdk::PluginKind::rule:
            right_kind = dynamic_cast<sdk::Rule*>(made.value().get());
            break;
        case sdk::PluginKind::channel:
            right_kind = dynamic_cast<sdk::Channel*>(made.value().get()) &&
                         (!plugin.has(sdk::kChannelSends) ||
                          dynamic_cast<sdk::ChannelSender*>(made.value().get()) != nullptr) &&
                         (!plugin.has(sdk::kChannelBatches) ||
                          dynamic_cast<sdk::ChannelBatch*>(made.value().get()) != nullptr);
            break;
    }
    if (!right_kind)
        return sdk::Error{
            sdk::errc::plugin_failed,
            plugin.name + ": factory built an object that is not a " + sdk::to_string(plugin.kind) +
                " plugin" + (plugin.has(sdk::kChannelSends) ? " that sends (a ChannelSender)" : "") +
                (plugin.has(sdk::kChannelBatches) ? " that parses batches (a ChannelBatch)" : "")};
    sdk::PluginPtr instance = std::move(made).value();
    if (plugin.abi_minor < sdk::kAbiMinor) instance = legacy::adapt(std::move(instance), plugin, config);
    return PluginInstance(plugin.library, std::move(instance));
}

}  // namespace tezgah::engine
