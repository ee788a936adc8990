#include "plugins/registry.hpp"

#include "util/common.hpp"
#include "util/log.hpp"

#include <algorithm>
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

bool type_matches(const json::value& v, sdk::ConfigType type) {
    switch (type) {
        case sdk::ConfigType::string:
            return v.is_string();
        case sdk::ConfigType::integer:
            return v.is_int64() || v.is_uint64();
        case sdk::ConfigType::number:
            return v.is_number();
        case sdk::ConfigType::boolean:
            return v.is_bool();
        case sdk::ConfigType::object:
            return v.is_object();
        case sdk::ConfigType::array:
            return v.is_array();
        case sdk::ConfigType::string_list:
            return v.is_array() && std::all_of(v.get_array().begin(), v.get_array().end(),
                                               [](const json::value& x) { return x.is_string(); });
    }
    return false;
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
    const auto& d = library->get<const sdk::PluginDescriptor>(sdk::kDescriptorSymbol);
    // The ABI fields sit at fixed offsets before anything else: check them first.
    if (d.abi_major != sdk::kAbiMajor) {
        refuse(path, "built for plugin ABI " + std::to_string(d.abi_major) + "." +
                         std::to_string(d.abi_minor) + ", this engine speaks ABI " +
                         std::to_string(sdk::kAbiMajor) + "." + std::to_string(sdk::kAbiMinor) +
                         " (another major version)");
        return false;
    }
    if (d.abi_minor > sdk::kAbiMinor) {
        refuse(path, "built for plugin ABI " + std::to_string(d.abi_major) + "." +
                         std::to_string(d.abi_minor) + ", newer than this engine's " +
                         std::to_string(sdk::kAbiMajor) + "." + std::to_string(sdk::kAbiMinor) +
                         "; upgrade the engine");
        return false;
    }
    if (d.struct_size < sizeof(sdk::PluginDescriptor)) {
        refuse(path, "descriptor too small (" + std::to_string(d.struct_size) + " bytes)");
        return false;
    }
    if (!d.name || !*d.name || !d.create || !valid_kind(d.kind) || !d.version) {
        refuse(path, "incomplete descriptor (name, kind, version and factory are required)");
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
    for (std::size_t i = 0; i < d.config_key_count && d.config_keys; ++i) {
        const auto& k = d.config_keys[i];
        info.config.push_back({k.name ? k.name : "", k.type, k.required, k.default_json ? k.default_json : "",
                               k.description ? k.description : ""});
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

const PluginInfo* PluginRegistry::find(std::string_view name) const {
    for (const auto& p : plugins_)
        if (p.name == name) return &p;
    return nullptr;
}

std::vector<std::string> PluginRegistry::validate_config(const PluginInfo& plugin, json::object& config) {
    std::vector<std::string> problems;
    for (const auto& [key, value] : config) {
        auto it = std::find_if(plugin.config.begin(), plugin.config.end(),
                               [&](const ConfigKeyInfo& k) { return k.name == key; });
        if (it == plugin.config.end()) {
            std::string known;
            for (const auto& k : plugin.config) known += (known.empty() ? "" : ", ") + k.name;
            problems.push_back(
                std::string(key) + ": unknown key" +
                (known.empty() ? " (this plugin takes no configuration)" : " (known: " + known + ")"));
            continue;
        }
        if (!type_matches(value, it->type))
            problems.push_back(std::string(key) + ": expected " + sdk::to_string(it->type));
    }
    for (const auto& k : plugin.config) {
        if (config.contains(k.name)) continue;
        if (k.required) {
            problems.push_back(k.name + ": required");
        } else if (!k.default_json.empty()) {
            boost::system::error_code ec;
            auto v = json::parse(k.default_json, ec);
            if (!ec) config[k.name] = std::move(v);
        }
    }
    return problems;
}

sdk::Result<PluginInstance> PluginRegistry::instantiate(const PluginInfo& plugin, json::object config,
                                                        sdk::HostServices& host) const {
    auto problems = validate_config(plugin, config);
    if (!problems.empty()) {
        std::string message;
        for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
        return sdk::Error{"invalid_config", message};
    }
    try {
        auto made = plugin.create(config, host);
        if (!made) return made.error();
        if (!made.value()) return sdk::Error{"plugin_failed", plugin.name + ": factory returned nothing"};
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
                right_kind = dynamic_cast<sdk::Channel*>(made.value().get());
                break;
        }
        if (!right_kind)
            return sdk::Error{"plugin_failed", plugin.name + ": factory built an object that is not a " +
                                                   sdk::to_string(plugin.kind) + " plugin"};
        return PluginInstance(plugin.library, std::move(made).value());
    } catch (const std::exception& e) {
        return sdk::Error{"plugin_failed", plugin.name + ": factory threw: " + e.what()};
    } catch (...) {
        return sdk::Error{"plugin_failed", plugin.name + ": factory threw an unknown exception"};
    }
}

}  // namespace tezgah::engine
