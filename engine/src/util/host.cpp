#include "util/host.hpp"

#include <tezgah/sdk/errors.hpp>

#include <cstdio>

namespace tezgah::engine {

const SystemClock& SystemClock::instance() {
    static const SystemClock clock;
    return clock;
}

ShiftedClock::ShiftedClock(std::chrono::system_clock::time_point start)
    : start_(start), started_(std::chrono::steady_clock::now()) {}

std::chrono::system_clock::time_point ShiftedClock::now() const {
    return start_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                        std::chrono::steady_clock::now() - started_);
}

std::optional<std::chrono::system_clock::time_point> parse_moment(const std::string& text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, oh = 0, om = 0, used = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5)
        return std::nullopt;
    std::size_t at = static_cast<std::size_t>(used);
    if (at < text.size() && text[at] == ':') {
        int more = 0;
        if (std::sscanf(text.c_str() + at, ":%2d%n", &sec, &more) != 1) return std::nullopt;
        at += static_cast<std::size_t>(more);
    }
    const std::string zone = text.substr(at);
    int sign = 0;
    if (zone == "Z") {
        sign = 1;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
               std::sscanf(zone.c_str() + 1, "%2d:%2d", &oh, &om) == 2) {
        sign = zone[0] == '+' ? 1 : -1;
    }
    const std::chrono::year_month_day date{std::chrono::year{y},
                                           std::chrono::month{static_cast<unsigned>(mo)},
                                           std::chrono::day{static_cast<unsigned>(d)}};
    if (sign == 0 || !date.ok() || h > 23 || mi > 59 || sec > 59 || oh > 14 || om > 59) return std::nullopt;
    const auto local = std::chrono::sys_days(date) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                       std::chrono::seconds(sec);
    return local - sign * (std::chrono::hours(oh) + std::chrono::minutes(om));
}

sdk::Result<sdk::HttpResponse> NoHttpClient::send(const sdk::OutboundRequest& request) {
    return sdk::Error{sdk::errc::unavailable, request.url + ": no HTTP from a plugin that serves no tenant"};
}

TenantlessHost::TenantlessHost(const std::string& logger_kind, const std::string& logger_name,
                               sdk::HttpClient& http)
    : logger_(logger_kind, logger_name, ""), http_(http) {}

}  // namespace tezgah::engine
