#include "lua/quota.hpp"

#include "ops/metrics.hpp"
#include "util/log.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tezgah::engine::lua {

TenantQuota::TenantQuota(std::string tenant, QuotaOptions options)
    : tenant_(std::move(tenant)),
      options_(options),
      tokens_(options.log_burst),
      refilled_(std::chrono::steady_clock::now()) {}

TenantQuota::Slot::~Slot() {
    if (quota_) quota_->leave();
}

TenantQuota::Slot TenantQuota::enter(std::chrono::milliseconds patience) {
    std::unique_lock lock(calls_mutex_);
    const int cap = std::max(1, options_.calls_at_once);
    if (calls_ >= cap) {  // the usual case, a free place, reads no clock
        ++waiting_;
        const bool freed = call_left_.wait_for(lock, patience, [&] { return calls_ < cap; });
        --waiting_;
        if (!freed) return Slot();
    }
    ++calls_;
    return Slot(this);
}

void TenantQuota::leave() {
    bool wake = false;
    {
        std::lock_guard lock(calls_mutex_);
        --calls_;
        wake = waiting_ > 0;
    }
    if (wake) call_left_.notify_one();
}

bool TenantQuota::admit_log_line() {
    long long dropped_before = 0;
    {
        std::lock_guard lock(log_mutex_);
        const auto now = std::chrono::steady_clock::now();
        const double elapsed = std::chrono::duration<double>(now - refilled_).count();
        refilled_ = now;
        tokens_ = std::min<double>(options_.log_burst, tokens_ + elapsed * options_.log_lines_per_second);
        if (tokens_ < 1) {
            if (dropped_++ == 0) {
                log_event(spdlog::level::warn, "lua",
                          "script log lines over the tenant's limit are dropped until the rate falls",
                          {{"tenant", tenant_},
                           {"lines_per_second", fmt::format("{}", options_.log_lines_per_second)},
                           {"burst", std::to_string(options_.log_burst)}});
            }
            if (!tenant_.empty()) Metrics::global().lua_log_dropped(tenant_);
            return false;
        }
        tokens_ -= 1;
        dropped_before = dropped_;
        dropped_ = 0;
    }
    if (dropped_before > 0)
        log_event(spdlog::level::warn, "lua", "script log lines were dropped",
                  {{"tenant", tenant_}, {"dropped", std::to_string(dropped_before)}});
    return true;
}

std::string TenantQuota::cut_log_line(std::string_view text) const {
    const std::size_t limit = options_.log_line_bytes;
    if (text.size() <= limit) return std::string(text);
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    return std::string(text.substr(0, end)) + " [" + std::to_string(text.size() - end) + " bytes cut]";
}

}  // namespace tezgah::engine::lua
