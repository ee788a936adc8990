#pragma once
// The engine's HTTP client for plugins (providers, channels that send): Poco, blocking, with
// per-request timeouts and incremental delivery of the body for server-sent events.

#include <tezgah/sdk/host.hpp>

namespace tezgah::engine {

class PocoHttpClient : public tezgah::sdk::HttpClient {
public:
    tezgah::sdk::Result<tezgah::sdk::HttpResponse> send(const tezgah::sdk::OutboundRequest& request) override;
};

}  // namespace tezgah::engine
