#include "util/host.hpp"

#include <tezgah/sdk/errors.hpp>

namespace tezgah::engine {

const SystemClock& SystemClock::instance() {
    static const SystemClock clock;
    return clock;
}

sdk::Result<sdk::HttpResponse> NoHttpClient::send(const sdk::OutboundRequest& request) {
    return sdk::Error{sdk::errc::unavailable, request.url + ": no HTTP from a plugin that serves no tenant"};
}

TenantlessHost::TenantlessHost(const std::string& logger_kind, const std::string& logger_name,
                               sdk::HttpClient& http)
    : logger_(logger_kind, logger_name, ""), http_(http) {}

}  // namespace tezgah::engine
