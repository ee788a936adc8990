#pragma once
// What `tezgah check` would report for one tenant folder, for the manifest tests.

#include "plugins/registry.hpp"
#include "tenants/manifest.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace tezgah::testing {

/// Every problem of the folder's manifest, data and scripts, as "path: field: message".
inline std::vector<std::string> check_problems(const std::filesystem::path& folder,
                                               const engine::PluginRegistry& registry,
                                               const engine::SharedEnv& shared = {}) {
    auto loaded = engine::load_manifest(folder, &registry, shared);
    auto problems = loaded.problems;
    if (loaded.manifest) {
        engine::load_data(*loaded.manifest, problems);
        engine::check_scripts(*loaded.manifest, problems);
    }
    std::vector<std::string> out;
    for (const auto& p : problems) out.push_back(p.str());
    return out;
}

/// True when one of `problems` contains `needle`.
inline bool has_problem(const std::vector<std::string>& problems, const std::string& needle) {
    for (const auto& p : problems)
        if (p.find(needle) != std::string::npos) return true;
    return false;
}

/// The problems one per line, for failure messages.
inline std::string problem_lines(const std::vector<std::string>& problems) {
    std::string out;
    for (const auto& p : problems) out += p + "\n";
    return out;
}

}  // namespace tezgah::testing
