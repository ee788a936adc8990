#pragma once
// The tenants folder as the engine serves it: every tenant folder discovered, its manifest checked
// at start so health tells the truth at once, each tenant loaded on its first message, and loaded
// again when its files change — a tenant whose edit fails keeps serving its last good version.

#include "plugins/registry.hpp"
#include "store/database.hpp"
#include "tenants/tenant.hpp"

#include <tezgah/sdk/host.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::engine {

/// What the engine knows of a discovered tenant.
struct TenantStatus {
    std::string id;
    std::string folder;
    /// "not_loaded" | "loaded" | "unloaded" (idle, freed; loaded again on its next message) | "failed"
    std::string state;
    std::string error;         ///< why it failed, `path: field: message` lines
    std::string reload_error;  ///< loaded, but the last edit failed: the last good version serves
    /// Loaded: channels left out because a variable they read is not set, name -> why.
    std::map<std::string, std::string> disabled_channels;
};

/// What a reload pass changed.
struct ReloadSummary {
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::vector<std::string> reloaded;
    std::vector<std::string> failed;  ///< an edit that failed validation: the last good version stays
};

class TenantDirectory {
public:
    /// What loading a tenant needs; all of it outlives the directory.
    struct Services {
        const PluginRegistry& registry;
        Database& db;
        sdk::HttpClient& http;
        SharedEnv shared_env;     ///< variables every manifest may read besides its own
        lua::ServerLimits lua{};  ///< the operator's limits on every tenant's scripts
        AppointmentBooks* appointments =
            nullptr;  ///< makes each tenant's booking service (none: no bookings)
        /// Told the ids unload_idle() has just unloaded, before the freed memory is given back: what
        /// the engine keeps per tenant above this level (its customers' cached conversations) goes too.
        std::function<void(const std::set<std::string, std::less<>>&)> unloaded;
    };

    TenantDirectory(std::filesystem::path root, Services services);
    ~TenantDirectory();
    TenantDirectory(const TenantDirectory&) = delete;
    TenantDirectory& operator=(const TenantDirectory&) = delete;

    /// Finds the tenant folders and checks each manifest, data file and script without loading
    /// (what `tezgah check` checks): a broken tenant is "failed" from the start. Up to
    /// `check_inline` tenants are checked before this returns; more are checked on a background
    /// thread, so a start with thousands of tenants stays fast. Errors: not_found (no folder).
    sdk::Status discover(std::size_t check_inline = 100);

    /// The tenant, loaded on first use. Errors: unknown_tenant, invalid_tenant (with reasons).
    sdk::Result<std::shared_ptr<Tenant>> get(const std::string& id);

    std::vector<TenantStatus> statuses() const;

    /// Looks at the folder again: new tenants appear, removed ones go, and tenants whose files
    /// changed (loaded ones, and failed ones that may be fixed now) are loaded anew. Turns in flight
    /// finish on the version they started with. Safe from any thread (SIGHUP, the watcher).
    ReloadSummary reload_all();

    /// Loads tenant `id` anew from its folder now, without waiting for the watcher: an operator's
    /// edit is visible to the very next turn (a new version: its response cache and remembered
    /// catalog matches start empty). Errors: unknown_tenant; invalid_tenant when the folder does
    /// not load (a loaded tenant keeps serving its last good version).
    sdk::Status reload(const std::string& id);

    /// Unloads the loaded tenants nobody asked for (get()) for `idle` or longer on the directory's
    /// clock: their plugin instances, catalog and indexes are freed (a turn still holding one
    /// finishes on it), their checked status stays, and get() loads them again. The number unloaded.
    std::size_t unload_idle(std::chrono::milliseconds idle);

    /// Calls reload_all() every `interval` on a background thread until stop_watching(), and,
    /// when `unload_after` is not zero, unload_idle(unload_after).
    void start_watching(std::chrono::milliseconds interval,
                        std::chrono::milliseconds unload_after = std::chrono::milliseconds::zero());
    void stop_watching();

    /// The clock tenants loaded from now on are given (tests fix the time).
    void set_clock(const sdk::Clock& clock);

private:
    struct Slot {
        std::filesystem::path folder;
        std::shared_ptr<Tenant> tenant;
        std::string error;                                  ///< the last check or load failed (not loaded)
        std::string reload_error;                           ///< loaded, but the last reload failed
        std::size_t fingerprint = 0;                        ///< of the files the current state was built from
        std::chrono::system_clock::time_point last_used{};  ///< the last get() (unload_idle)
        bool unloaded = false;                              ///< loaded once, then unloaded for being idle
        std::shared_ptr<std::mutex> load_mutex = std::make_shared<std::mutex>();
        /// What the tenant's scripts share, kept across reloads: the versions of a tenant serving
        /// side by side while turns finish count against the same cap.
        lua::TenantQuotaPtr quota;
    };

    sdk::Result<std::shared_ptr<Tenant>> load(const std::string& id, const std::filesystem::path& folder);
    /// Checks the not-yet-loaded tenants among `ids` and records the failures.
    void check(const std::vector<std::string>& ids);

    std::filesystem::path root_;
    Services services_;
    const sdk::Clock* clock_;
    mutable std::mutex mutex_;  // guards tenants_ and clock_
    std::map<std::string, Slot> tenants_;
    std::mutex reload_mutex_;  // one reload pass at a time

    std::thread checker_;
    std::thread watcher_;
    std::mutex watcher_mutex_;
    std::condition_variable watcher_wake_;
    bool watching_ = false;
    bool stopping_ = false;
};

}  // namespace tezgah::engine
