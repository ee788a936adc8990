#include "tenants/folder_edits.hpp"

#include "util/common.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace tezgah::engine {
namespace fs = std::filesystem;

namespace {

void append_pretty(std::string& out, const json::value& value, int indent) {
    const auto newline = [&](int spaces) {
        out += '\n';
        out.append(static_cast<std::size_t>(spaces), ' ');
    };
    if (value.is_object() && !value.get_object().empty()) {
        out += '{';
        bool first = true;
        for (const auto& [key, member] : value.get_object()) {
            if (!first) out += ',';
            first = false;
            newline(indent + 2);
            sdk::append_json_text(out, json::string(key));
            out += ": ";
            append_pretty(out, member, indent + 2);
        }
        newline(indent);
        out += '}';
    } else if (value.is_array() && !value.get_array().empty()) {
        out += '[';
        bool first = true;
        for (const auto& element : value.get_array()) {
            if (!first) out += ',';
            first = false;
            newline(indent + 2);
            append_pretty(out, element, indent + 2);
        }
        newline(indent);
        out += ']';
    } else {
        sdk::append_json_text(out, value);
    }
}

sdk::Error error(const char* code, std::string message) { return sdk::Error{code, std::move(message)}; }

/// One mutex per file edited, for the life of the process (a handful of files per tenant).
std::mutex& file_mutex(const fs::path& file) {
    static std::mutex table_mutex;
    static std::map<std::string, std::unique_ptr<std::mutex>> table;
    std::error_code ec;
    auto key = fs::weakly_canonical(fs::absolute(file), ec).string();
    if (ec) key = file.string();
    std::lock_guard lock(table_mutex);
    auto& slot = table[key];
    if (!slot) slot = std::make_unique<std::mutex>();
    return *slot;
}

/// An exclusive flock(2) on the folder holding a file, for as long as it lives: other processes
/// on this host (another `tezgah serve` on the same tenants folder) edit it one at a time too. No
/// lock (the folder cannot be opened) is not an error: the write that follows reports it.
class FolderLock {
public:
    explicit FolderLock(const fs::path& folder)
        : fd_(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (fd_ >= 0)
            while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
            }
    }
    ~FolderLock() {
        if (fd_ >= 0) ::close(fd_);  // releases the lock
    }
    FolderLock(const FolderLock&) = delete;
    FolderLock& operator=(const FolderLock&) = delete;

private:
    int fd_;
};

/// Writes `text` to a temporary file beside `file`, flushes it to disk, renames it over `file` and
/// flushes the folder: a reader (or a crash) sees the old file or the new one, never a part.
sdk::Status write_atomically(const fs::path& file, const std::string& text, const std::string& shown) {
    static std::atomic<unsigned> counter{0};
    // A leading dot: the folder watcher and the loader ignore it while it exists.
    const fs::path temp = file.parent_path() / ("." + file.filename().string() + ".edit-" +
                                                std::to_string(::getpid()) + "-" + std::to_string(++counter));
    const auto failed = [&](const char* step, int err) {
        ::unlink(temp.c_str());
        return error(kWriteFailed, "cannot write " + shown + " (" + step + ": " + std::strerror(err) +
                                       "); the file is unchanged");
    };
    mode_t mode = 0644;
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) mode = st.st_mode & 07777;
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return error(kWriteFailed,
                     "cannot write " + shown + " (" + std::strerror(errno) + "); the file is unchanged");
    std::size_t done = 0;
    while (done < text.size()) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            ::close(fd);
            return failed("write", err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        return failed("fsync", err);
    }
    if (::close(fd) != 0) return failed("close", errno);
    if (::rename(temp.c_str(), file.c_str()) != 0) return failed("rename", errno);
    if (const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return {};
}

/// The file a manifest's data path names, and how messages show it (relative to the folder).
struct DataFile {
    fs::path path;
    std::string shown;
};

sdk::Result<DataFile> data_file(const Manifest& manifest, const std::string& relative, const char* kind) {
    if (relative.empty())
        return error(kFileConflict, std::string("the tenant's manifest names no ") + kind + " file (data." +
                                        kind + " in tenant.json)");
    auto resolved = resolve_in_folder(manifest.folder, relative);
    if (!resolved) return error(kFileConflict, std::string("data.") + kind + ": " + resolved.error().message);
    return DataFile{*resolved, fs::path(relative).lexically_normal().string()};
}

/// Reads, changes and writes one file under its lock, then applies the edit; puts the file back
/// when the apply fails. `change` edits the parsed document and answers what was stored.
template <class Change>
sdk::Result<EditResult> edit_file(const DataFile& file, Change&& change, const ApplyEdit& apply) {
    std::lock_guard lock(file_mutex(file.path));
    FolderLock across_processes(file.path.parent_path());
    auto before = read_file(file.path);
    if (!before) return error(kFileConflict, "cannot read " + file.shown);
    auto document = parse_json_text(*before);
    if (!document)
        return error(kFileConflict, file.shown + " is not valid JSON now: " + document.error().message);
    sdk::Result<EditResult> result = change(*document);
    if (!result) return result;
    std::string after = pretty_json(*document);
    if (before->empty() || before->back() == '\n') after += '\n';
    if (auto written = write_atomically(file.path, after, file.shown); !written) return written.error();
    if (auto applied = apply(); !applied) {
        // What the loader refused is not left behind: the last good file serves on.
        auto restored = write_atomically(file.path, *before, file.shown);
        if (restored) (void)apply();
        log_event(spdlog::level::warn, "tenants", "an edit was undone: the tenant does not load with it",
                  {{"file", file.shown}, {"reason", applied.error().message}});
        if (!restored) return restored.error();
        if (applied.error().code == sdk::errc::invalid_tenant)
            return error(sdk::errc::invalid_value,
                         "the edit was undone: the tenant does not load with it: " + applied.error().message);
        return applied.error();
    }
    return result;
}

/// A JSON type a field must have.
enum class Kind { string, number, integer, boolean, array, object };

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::string:
            return "a string";
        case Kind::number:
            return "a number";
        case Kind::integer:
            return "an integer";
        case Kind::boolean:
            return "a boolean";
        case Kind::array:
            return "an array";
        case Kind::object:
            return "an object";
    }
    return "";
}

bool has_kind(const json::value& v, Kind kind) {
    switch (kind) {
        case Kind::string:
            return v.is_string();
        case Kind::number:
            return v.is_number();
        case Kind::integer:
            return v.is_int64() || v.is_uint64() ||
                   (v.is_double() &&
                    v.get_double() == static_cast<double>(static_cast<long long>(v.get_double())));
        case Kind::boolean:
            return v.is_bool();
        case Kind::array:
            return v.is_array();
        case Kind::object:
            return v.is_object();
    }
    return false;
}

/// Checks the fields of a request body against `fields`: an unknown field or one of the wrong JSON
/// type is invalid_field (400), naming it. Null passes (it removes the field).
sdk::Status check_fields(const json::object& body, const std::map<std::string, Kind>& fields) {
    for (const auto& [key, value] : body) {
        auto it = fields.find(std::string(key));
        if (it == fields.end()) {
            std::string known;
            for (const auto& [name, kind] : fields) known += (known.empty() ? "" : ", ") + name;
            return error(sdk::errc::invalid_field,
                         std::string(key) + ": unknown field (allowed: " + known + ")");
        }
        if (value.is_null() || has_kind(value, it->second)) continue;
        return error(sdk::errc::invalid_field, std::string(key) + ": expected " + kind_name(it->second) +
                                                   ", got " + sdk::kind_of(value));
    }
    return {};
}

/// RFC 7396: null removes, objects merge, anything else replaces.
void merge_patch(json::object& target, const json::object& patch) {
    for (const auto& [key, value] : patch) {
        if (value.is_null()) {
            target.erase(key);
        } else if (value.is_object()) {
            auto* existing = target.if_contains(key);
            if (existing == nullptr || !existing->is_object()) {
                json::object fresh;
                merge_patch(fresh, value.get_object());
                target[key] = std::move(fresh);
            } else {
                merge_patch(existing->get_object(), value.get_object());
            }
        } else {
            target[key] = value;
        }
    }
}

/// The loader's error for one record ("price: must not be negative") as a 422.
sdk::Error invalid(const sdk::Error& parse_error) {
    return error(sdk::errc::invalid_value, parse_error.message);
}

/// The index of the record with `id` in a data file's array, or -1.
long find_record(const json::array& records, const std::string& id) {
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto* object = records[i].if_object();
        const auto* record_id = object ? object->if_contains("id") : nullptr;
        if (record_id && record_id->is_string() && record_id->get_string() == id) return static_cast<long>(i);
    }
    return -1;
}

sdk::Result<json::array*> records_of(json::value& document, const DataFile& file) {
    if (!document.is_array()) return error(kFileConflict, file.shown + ": expected a JSON array of records");
    return &document.get_array();
}

const std::map<std::string, Kind>& offering_fields() {
    static const std::map<std::string, Kind> fields = {
        {"id", Kind::string},          {"type", Kind::string},
        {"name", Kind::string},        {"category", Kind::string},
        {"price", Kind::number},       {"currency", Kind::string},
        {"stock", Kind::integer},      {"duration_min", Kind::integer},
        {"provider", Kind::string},    {"buffer_minutes", Kind::integer},
        {"schedule", Kind::array},     {"capacity", Kind::integer},
        {"aliases", Kind::array},      {"attributes", Kind::object},
        {"available", Kind::boolean},  {"description", Kind::string},
        {"translations", Kind::object}};
    return fields;
}

const std::map<std::string, Kind>& knowledge_fields() {
    static const std::map<std::string, Kind> fields = {
        {"id", Kind::string},       {"question", Kind::string}, {"answer", Kind::string},
        {"category", Kind::string}, {"keywords", Kind::array},  {"translations", Kind::object}};
    return fields;
}

/// The resource ids of the tenant's resources file (none when it names none or it does not read):
/// a service's provider must be one of them, as the loader checks.
std::set<std::string> resource_ids(const Manifest& manifest) {
    std::set<std::string> ids;
    if (manifest.resources_file.empty()) return ids;
    auto file = resolve_in_folder(manifest.folder, manifest.resources_file);
    if (!file) return ids;
    auto text = read_file(*file);
    if (!text) return ids;
    auto value = parse_json_text(*text);
    if (!value || !value->is_array()) return ids;
    for (const auto& item : value->get_array()) {
        if (auto resource = sdk::parse_resource(item)) ids.insert(resource->id);
    }
    return ids;
}

}  // namespace

std::string pretty_json(const json::value& value) {
    std::string out;
    append_pretty(out, value, 0);
    return out;
}

sdk::Result<EditResult> patch_offering(const Manifest& manifest, const std::string& id,
                                       const json::object& patch, const ApplyEdit& apply) {
    if (auto checked = check_fields(patch, offering_fields()); !checked) return checked.error();
    if (const auto* patched_id = patch.if_contains("id");
        patched_id && !(patched_id->is_string() && patched_id->get_string() == id))
        return error(sdk::errc::invalid_value, "id: an offering's id cannot be changed");
    auto file = data_file(manifest, manifest.offerings_file, "offerings");
    if (!file) {
        // No offerings file: no offering to edit.
        return error(sdk::errc::not_found, "unknown offering \"" + id + "\"");
    }
    const auto resources = resource_ids(manifest);
    return edit_file(
        *file,
        [&](json::value& document) -> sdk::Result<EditResult> {
            auto records = records_of(document, *file);
            if (!records) return records.error();
            const long at = find_record(**records, id);
            if (at < 0) return error(sdk::errc::not_found, "unknown offering \"" + id + "\"");
            json::value& record = (**records)[static_cast<std::size_t>(at)];
            json::object merged = record.get_object();
            merge_patch(merged, patch);
            auto parsed = sdk::parse_offering(merged);
            if (!parsed) return invalid(parsed.error());
            if (!resources.empty() && !parsed->provider.empty() && !resources.count(parsed->provider))
                return error(sdk::errc::invalid_value,
                             "provider: unknown resource \"" + parsed->provider + "\"");
            record = merged;
            return EditResult{record, false};
        },
        apply);
}

sdk::Result<EditResult> put_info(const Manifest& manifest, const std::string& key, const std::string& text,
                                 const ApplyEdit& apply) {
    if (key.empty() || key.size() > 100)
        return error(sdk::errc::invalid_value, "key: must be 1 to 100 bytes");
    if (!sdk::text::valid_utf8(key) || std::any_of(key.begin(), key.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        }))
        return error(sdk::errc::invalid_value, "key: must be UTF-8 text without control characters");
    if (text.empty()) return error(sdk::errc::invalid_value, "text: must not be empty");
    if (text.size() > 20000) return error(sdk::errc::invalid_value, "text: longer than 20000 bytes");
    if (!sdk::text::valid_utf8(text) || text.find('\0') != std::string::npos)
        return error(sdk::errc::invalid_value, "text: must be UTF-8 text without NUL");
    // A text that is a whole "${NAME}" would be read from the environment when the tenant loads:
    // an operator's key must not turn the tenant's secrets into an answer customers can read.
    if (text.size() > 3 && text.starts_with("${") && text.back() == '}')
        return error(
            sdk::errc::invalid_value,
            "text: \"${NAME}\" would be read from the environment; write such a value in tenant.json");
    auto manifest_file = resolve_in_folder(manifest.folder, "tenant.json");
    if (!manifest_file) return error(kFileConflict, "tenant.json: " + manifest_file.error().message);
    const DataFile file{*manifest_file, "tenant.json"};
    return edit_file(
        file,
        [&](json::value& document) -> sdk::Result<EditResult> {
            if (!document.is_object()) return error(kFileConflict, "tenant.json: expected a JSON object");
            auto& root = document.get_object();
            json::value& business = root["business"];
            if (business.is_null()) business = json::object{};
            if (!business.is_object())
                return error(kFileConflict, "tenant.json: business: expected an object");
            json::value& info = business.get_object()["info"];
            if (info.is_null()) info = json::object{};
            if (!info.is_object())
                return error(kFileConflict, "tenant.json: business.info: expected an object");
            const bool created = !info.get_object().contains(key);
            info.get_object()[key] = text;  // an existing key keeps its place
            return EditResult{json::object{{"key", key}, {"text", text}}, created};
        },
        apply);
}

sdk::Result<EditResult> put_knowledge(const Manifest& manifest, const std::string& id,
                                      const json::object& entry, const ApplyEdit& apply) {
    if (auto checked = check_fields(entry, knowledge_fields()); !checked) return checked.error();
    if (const auto* entry_id = entry.if_contains("id");
        entry_id && !(entry_id->is_string() && entry_id->get_string() == id))
        return error(sdk::errc::invalid_value, "id: must be the id of the URL, \"" + id + "\"");
    json::object record{{"id", id}};
    for (const auto& [key, value] : entry) {
        if (key != "id" && !value.is_null()) record[key] = value;
    }
    if (auto parsed = sdk::parse_knowledge_entry(record); !parsed) return invalid(parsed.error());
    auto file = data_file(manifest, manifest.knowledge_file, "knowledge");
    if (!file) return file.error();
    return edit_file(
        *file,
        [&](json::value& document) -> sdk::Result<EditResult> {
            auto records = records_of(document, *file);
            if (!records) return records.error();
            const long at = find_record(**records, id);
            if (at < 0) {
                (*records)->push_back(record);
                return EditResult{record, true};
            }
            (**records)[static_cast<std::size_t>(at)] = record;
            return EditResult{record, false};
        },
        apply);
}

sdk::Result<EditResult> delete_knowledge(const Manifest& manifest, const std::string& id,
                                         const ApplyEdit& apply) {
    auto file = data_file(manifest, manifest.knowledge_file, "knowledge");
    if (!file) return error(sdk::errc::not_found, "unknown knowledge entry \"" + id + "\"");
    return edit_file(
        *file,
        [&](json::value& document) -> sdk::Result<EditResult> {
            auto records = records_of(document, *file);
            if (!records) return records.error();
            const long at = find_record(**records, id);
            if (at < 0) return error(sdk::errc::not_found, "unknown knowledge entry \"" + id + "\"");
            json::value removed = (**records)[static_cast<std::size_t>(at)];
            (*records)->erase((*records)->begin() + at);
            return EditResult{std::move(removed), false};
        },
        apply);
}

}  // namespace tezgah::engine
