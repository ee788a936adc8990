#pragma once
// Test helpers: copies of the fixture tenants in a temporary folder, edited per test.

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>

namespace tezgah::testing {

namespace fs = std::filesystem;
namespace json = boost::json;

inline fs::path fixtures_dir() { return TEZGAH_FIXTURES_DIR; }
inline fs::path plugin_dir() { return fs::path(TEZGAH_BINARY_DIR) / "lib" / "tezgah" / "plugins"; }

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

/// A temporary folder removed with the object.
class TempDir {
public:
    TempDir() {
        std::random_device rd;
        path_ = fs::temp_directory_path() / ("tezgah-test-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// Copies the fixture tenants (and optionally the repository's tenants/) into `dir`.
inline void copy_fixtures(const fs::path& dir) {
    fs::copy(fixtures_dir(), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

/// Edits a JSON file in place.
inline void edit_json(const fs::path& file, const std::function<void(json::value&)>& edit) {
    auto value = json::parse(slurp(file));
    edit(value);
    write(file, json::serialize(value));
}

}  // namespace tezgah::testing
