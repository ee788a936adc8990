#pragma once
// The files that make up a tenant folder: every regular file under it, hidden ones (a leading dot,
// and whatever is under a hidden folder) left out, sorted by path. What the reload watcher
// fingerprints and what the shared response cache's version digests.

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

namespace tezgah::engine {

inline std::vector<std::filesystem::path> tenant_folder_files(const std::filesystem::path& folder) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with(".")) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace tezgah::engine
