#pragma once
// What the scripts of one tenant share, so that they cannot starve anyone: a cap on the Lua calls
// they run at once (a tenant's scripts never hold more than a bounded share of the server's
// threads, and a turn never queues for long behind a slow script), and a rate limit on the lines
// they log (ctx.log and print). One per tenant, kept across reloads (tenants/directory.cpp).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace tezgah::engine::lua {

struct QuotaOptions {
    int calls_at_once = 4;              ///< Lua calls of the tenant running, or waiting for their script
    double log_lines_per_second = 20;   ///< ctx.log and print, all the tenant's scripts together
    int log_burst = 100;                ///< lines logged at once before the rate applies
    std::size_t log_line_bytes = 1024;  ///< longer lines are cut
};

class TenantQuota {
public:
    /// `tenant` labels the metrics and log lines (empty for `tezgah check`: no metrics).
    explicit TenantQuota(std::string tenant, QuotaOptions options = {});
    TenantQuota(const TenantQuota&) = delete;
    TenantQuota& operator=(const TenantQuota&) = delete;

    const std::string& tenant() const { return tenant_; }
    const QuotaOptions& options() const { return options_; }

    /// A place among the tenant's calls, held while alive; empty when none was free in time.
    class Slot {
    public:
        Slot() = default;
        explicit Slot(TenantQuota* quota) : quota_(quota) {}
        Slot(Slot&& other) noexcept : quota_(other.quota_) { other.quota_ = nullptr; }
        Slot& operator=(Slot&&) = delete;
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        ~Slot();
        explicit operator bool() const { return quota_ != nullptr; }

    private:
        TenantQuota* quota_ = nullptr;
    };

    /// Takes a place, waiting up to `patience` for one to free up.
    Slot enter(std::chrono::milliseconds patience);

    /// Whether one more log line may be written now (a token bucket). A refused line is counted in
    /// tezgah_lua_log_dropped_total{tenant}; the first refusal after lines went through logs one
    /// warning, and the first line let through after refusals logs how many were dropped.
    bool admit_log_line();

    /// `text` cut to the longest line a script may log, at a UTF-8 boundary, marked when cut.
    std::string cut_log_line(std::string_view text) const;

private:
    void leave();

    const std::string tenant_;
    const QuotaOptions options_;

    std::mutex calls_mutex_;
    std::condition_variable call_left_;
    int calls_ = 0;
    int waiting_ = 0;

    std::mutex log_mutex_;
    double tokens_;
    std::chrono::steady_clock::time_point refilled_;
    long long dropped_ = 0;  ///< since the last line let through
};

using TenantQuotaPtr = std::shared_ptr<TenantQuota>;

}  // namespace tezgah::engine::lua
