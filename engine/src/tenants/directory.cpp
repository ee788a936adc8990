#include "tenants/directory.hpp"

#include "ops/metrics.hpp"
#include "tenants/folder_files.hpp"
#include "tenants/manifest.hpp"
#include "util/host.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>

#include <malloc.h>

#include <algorithm>

namespace tezgah::engine {
namespace fs = std::filesystem;

namespace {

/// A hash of every file under a tenant folder (path, size, modification time): changes when any
/// manifest, data file or script is edited, added or removed.
std::size_t folder_fingerprint(const fs::path& folder) {
    std::size_t h = 0;
    auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    std::error_code ec;
    const auto files = tenant_folder_files(folder);
    for (const auto& file : files) {
        mix(std::hash<std::string>{}(file.string()));
        mix(static_cast<std::size_t>(fs::file_size(file, ec)));
        mix(static_cast<std::size_t>(fs::last_write_time(file, ec).time_since_epoch().count()));
    }
    if (files.empty()) mix(1);
    return h;
}

/// The problems `tezgah check` would print for `folder`, one per line; empty when it is fine.
std::string check_folder(const fs::path& folder, const PluginRegistry& registry, const SharedEnv& shared,
                         const lua::ServerLimits& lua) {
    auto loaded = load_manifest(folder, &registry, shared);
    auto problems = loaded.problems;
    if (loaded.manifest) {
        load_data(*loaded.manifest, problems);
        check_scripts(*loaded.manifest, problems, lua);
    }
    std::string out;
    for (const auto& p : problems) out += (out.empty() ? "" : "\n") + p.str();
    return out;
}

sdk::Error unknown(const std::string& id) {
    return sdk::Error{sdk::errc::unknown_tenant, "unknown tenant \"" + id + "\""};
}

}  // namespace

TenantDirectory::TenantDirectory(fs::path root, Services services)
    : root_(std::move(root)), services_(std::move(services)), clock_(&SystemClock::instance()) {}

TenantDirectory::~TenantDirectory() {
    stop_watching();
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    if (checker_.joinable()) checker_.join();
    std::lock_guard lock(mutex_);
    tenants_.clear();
}

void TenantDirectory::set_clock(const sdk::Clock& clock) {
    std::lock_guard lock(mutex_);
    clock_ = &clock;
}

sdk::Status TenantDirectory::discover(std::size_t check_inline) {
    std::error_code ec;
    if (!fs::is_directory(root_, ec))
        return sdk::Error{sdk::errc::not_found, root_.string() + ": tenants folder not found"};
    std::vector<std::string> ids;
    {
        std::lock_guard lock(mutex_);
        for (const auto& folder : discover_tenants(root_)) {
            Slot slot;
            slot.folder = folder;
            ids.push_back(folder.filename().string());
            tenants_.emplace(ids.back(), std::move(slot));
        }
    }
    if (ids.size() <= check_inline)
        check(ids);
    else
        checker_ = std::thread([this, ids = std::move(ids)] { check(ids); });
    return {};
}

void TenantDirectory::check(const std::vector<std::string>& ids) {
    if (ids.empty()) return;  // a rescan that found no new folder: nothing to say
    std::size_t failed = 0;
    for (const auto& id : ids) {
        fs::path folder;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            auto it = tenants_.find(id);
            if (it == tenants_.end() || it->second.tenant || !it->second.error.empty()) continue;
            folder = it->second.folder;
        }
        const auto fingerprint = folder_fingerprint(folder);
        auto problems = check_folder(folder, services_.registry, services_.shared_env, services_.lua);
        if (problems.empty()) continue;
        std::lock_guard lock(mutex_);
        auto it = tenants_.find(id);
        if (it == tenants_.end() || it->second.tenant) continue;  // loaded meanwhile: that tells more
        it->second.error = problems;
        it->second.fingerprint = fingerprint;
        ++failed;
        log_event(spdlog::level::err, "tenants", "tenant failed its check",
                  {{"tenant", id}, {"reason", problems}});
    }
    log_event(spdlog::level::info, "tenants", "tenants checked",
              {{"checked", std::to_string(ids.size())}, {"failed", std::to_string(failed)}});
}

sdk::Result<std::shared_ptr<Tenant>> TenantDirectory::load(const std::string& id, const fs::path& folder) {
    const sdk::Clock* clock;
    lua::TenantQuotaPtr quota;
    {
        std::lock_guard lock(mutex_);
        clock = clock_;
        if (auto it = tenants_.find(id); it != tenants_.end()) {
            auto& slot = it->second;
            if (!slot.quota)
                slot.quota = std::make_shared<lua::TenantQuota>(
                    id, lua::QuotaOptions{.calls_at_once = services_.lua.calls_per_tenant});
            quota = slot.quota;
        }
    }
    return load_tenant(folder, services_.registry, services_.db, *clock, services_.http, services_.shared_env,
                       services_.lua, std::move(quota), services_.appointments);
}

sdk::Result<std::shared_ptr<Tenant>> TenantDirectory::get(const std::string& id) {
    fs::path folder;
    std::shared_ptr<std::mutex> load_mutex;
    {
        std::lock_guard lock(mutex_);
        auto it = tenants_.find(id);
        if (it == tenants_.end()) return unknown(id);
        it->second.last_used = clock_->now();
        if (it->second.tenant) return it->second.tenant;
        if (!it->second.error.empty()) return sdk::Error{sdk::errc::invalid_tenant, it->second.error};
        folder = it->second.folder;
        load_mutex = it->second.load_mutex;
    }
    // Load outside the map's lock, one loader per tenant: other tenants keep being served.
    std::lock_guard loading(*load_mutex);
    {
        std::lock_guard lock(mutex_);
        auto it = tenants_.find(id);
        if (it == tenants_.end()) return unknown(id);
        if (it->second.tenant) return it->second.tenant;
        if (!it->second.error.empty()) return sdk::Error{sdk::errc::invalid_tenant, it->second.error};
    }
    const auto fingerprint = folder_fingerprint(folder);
    auto loaded = load(id, folder);
    std::lock_guard lock(mutex_);
    auto it = tenants_.find(id);
    if (it == tenants_.end()) return unknown(id);
    it->second.fingerprint = fingerprint;
    if (!loaded) {
        it->second.error = loaded.error().message;
        log_event(spdlog::level::err, "tenants", "tenant failed to load",
                  {{"tenant", id}, {"reason", it->second.error}});
        return loaded.error();
    }
    it->second.tenant = std::move(loaded).value();
    it->second.last_used = clock_->now();
    if (it->second.unloaded)
        log_event(spdlog::level::debug, "tenants", "tenant loaded again", {{"tenant", id}});
    it->second.unloaded = false;
    return it->second.tenant;
}

std::size_t TenantDirectory::unload_idle(std::chrono::milliseconds idle) {
    std::vector<std::shared_ptr<Tenant>> freed;  // destroyed outside the lock
    std::set<std::string, std::less<>> ids;
    {
        std::lock_guard lock(mutex_);
        const auto now = clock_->now();
        for (auto& [id, slot] : tenants_) {
            // A tenant whose last edit failed serves a version its folder no longer holds: kept.
            if (!slot.tenant || !slot.reload_error.empty() || now - slot.last_used < idle) continue;
            ids.insert(id);
            freed.push_back(std::move(slot.tenant));
            slot.tenant.reset();
            slot.unloaded = true;
            Metrics::global().tenant_unloaded();
        }
    }
    const std::size_t count = freed.size();
    freed.clear();  // the last holder, unless a turn still runs on one: freed here
    if (count > 0 && services_.unloaded) services_.unloaded(ids);
    // glibc keeps freed memory in its arenas; give it back, or unloading would not lower the RSS.
    if (count > 0) ::malloc_trim(0);
    if (count > 0)
        log_event(spdlog::level::info, "tenants", "idle tenants unloaded",
                  {{"unloaded", std::to_string(count)},
                   {"idle_minutes",
                    std::to_string(std::chrono::duration_cast<std::chrono::minutes>(idle).count())}});
    return count;
}

std::vector<TenantStatus> TenantDirectory::statuses() const {
    std::lock_guard lock(mutex_);
    std::vector<TenantStatus> out;
    out.reserve(tenants_.size());
    for (const auto& [id, slot] : tenants_) {
        out.push_back(
            {id, slot.folder.string(),
             slot.tenant ? "loaded"
                         : (!slot.error.empty() ? "failed"
                            : slot.unloaded     ? "unloaded"
                                                : "not_loaded"),
             slot.error, slot.reload_error,
             slot.tenant ? slot.tenant->manifest().disabled_channels : std::map<std::string, std::string>{}});
    }
    return out;
}

ReloadSummary TenantDirectory::reload_all() {
    std::lock_guard reloading(reload_mutex_);
    ReloadSummary summary;
    std::map<std::string, fs::path> on_disk;
    for (const auto& folder : discover_tenants(root_)) on_disk.emplace(folder.filename().string(), folder);

    // Which tenants to look at, taken under the lock; loading happens outside it.
    struct Candidate {
        std::string id;
        fs::path folder;
        std::size_t fingerprint = 0;
        std::shared_ptr<std::mutex> load_mutex;
    };
    std::vector<Candidate> candidates;
    {
        std::lock_guard lock(mutex_);
        for (auto it = tenants_.begin(); it != tenants_.end();) {
            if (!on_disk.count(it->first)) {
                summary.removed.push_back(it->first);
                it = tenants_.erase(it);  // turns in flight keep their shared_ptr
            } else {
                ++it;
            }
        }
        for (const auto& [id, folder] : on_disk) {
            auto it = tenants_.find(id);
            if (it == tenants_.end()) {
                Slot slot;
                slot.folder = folder;
                tenants_.emplace(id, std::move(slot));
                summary.added.push_back(id);
                continue;
            }
            if (it->second.tenant || !it->second.error.empty())
                candidates.push_back({id, folder, it->second.fingerprint, it->second.load_mutex});
        }
    }
    for (const auto& c : candidates) {
        const auto fingerprint = folder_fingerprint(c.folder);
        if (fingerprint == c.fingerprint) continue;
        std::lock_guard loading(*c.load_mutex);
        auto loaded = load(c.id, c.folder);
        std::lock_guard lock(mutex_);
        auto it = tenants_.find(c.id);
        if (it == tenants_.end()) continue;
        auto& slot = it->second;
        slot.fingerprint = fingerprint;
        if (loaded) {
            slot.tenant = std::move(loaded).value();
            slot.error.clear();
            slot.reload_error.clear();
            summary.reloaded.push_back(c.id);
            log_event(spdlog::level::info, "tenants", "tenant reloaded", {{"tenant", c.id}});
        } else if (slot.tenant) {
            slot.reload_error = loaded.error().message;
            summary.failed.push_back(c.id);
            log_event(spdlog::level::err, "tenants", "reload refused; the last good version keeps serving",
                      {{"tenant", c.id}, {"reason", slot.reload_error}});
        } else {
            slot.error = loaded.error().message;
            summary.failed.push_back(c.id);
            log_event(spdlog::level::err, "tenants", "tenant failed to load",
                      {{"tenant", c.id}, {"reason", slot.error}});
        }
    }
    for (const auto& id : summary.added)
        log_event(spdlog::level::info, "tenants", "tenant discovered", {{"tenant", id}});
    for (const auto& id : summary.removed)
        log_event(spdlog::level::info, "tenants", "tenant removed", {{"tenant", id}});
    check(summary.added);  // a new folder's problems show at once, as at start
    return summary;
}

sdk::Status TenantDirectory::reload(const std::string& id) {
    fs::path folder;
    std::shared_ptr<std::mutex> load_mutex;
    {
        std::lock_guard lock(mutex_);
        auto it = tenants_.find(id);
        if (it == tenants_.end()) return unknown(id);
        folder = it->second.folder;
        load_mutex = it->second.load_mutex;
    }
    std::lock_guard loading(*load_mutex);
    const auto fingerprint = folder_fingerprint(folder);
    auto loaded = load(id, folder);
    std::lock_guard lock(mutex_);
    auto it = tenants_.find(id);
    if (it == tenants_.end()) return unknown(id);
    auto& slot = it->second;
    if (!loaded) {
        // The watcher would try this version again only after another change; so would we.
        slot.fingerprint = fingerprint;
        if (slot.tenant)
            slot.reload_error = loaded.error().message;
        else
            slot.error = loaded.error().message;
        return sdk::Error{sdk::errc::invalid_tenant, loaded.error().message};
    }
    slot.fingerprint = fingerprint;
    slot.tenant = std::move(loaded).value();
    slot.error.clear();
    slot.reload_error.clear();
    log_event(spdlog::level::info, "tenants", "tenant reloaded after an edit", {{"tenant", id}});
    return {};
}

void TenantDirectory::start_watching(std::chrono::milliseconds interval,
                                     std::chrono::milliseconds unload_after) {
    std::lock_guard lock(watcher_mutex_);
    if (watching_) return;
    watching_ = true;
    watcher_ = std::thread([this, interval, unload_after] {
        std::unique_lock lock(watcher_mutex_);
        while (watching_) {
            watcher_wake_.wait_for(lock, interval, [this] { return !watching_; });
            if (!watching_) break;
            lock.unlock();
            try {
                reload_all();
                if (unload_after.count() > 0) unload_idle(unload_after);
            } catch (const std::exception& e) {
                log_event(spdlog::level::err, "tenants", "reload pass failed", {{"error", e.what()}});
            }
            lock.lock();
        }
    });
}

void TenantDirectory::stop_watching() {
    {
        std::lock_guard lock(watcher_mutex_);
        if (!watching_) return;
        watching_ = false;
    }
    watcher_wake_.notify_all();
    if (watcher_.joinable()) watcher_.join();
}

}  // namespace tezgah::engine
