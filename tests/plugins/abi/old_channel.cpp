// A channel plugin as a plugin author wrote it against the 1.3 SDK, before channels could send:
// built against those headers by build-fixtures.sh; the .so it made is kept in v1.3/. Its
// descriptor carries a stray capability bit (1.3 said "other kinds: 0", and nothing checked): the
// engine must read a 1.3 channel as a receiver whatever the bits say, and call it as built.
#include <tezgah/sdk/sdk.hpp>

#include <string>

namespace {
using namespace tezgah::sdk;

class OldChannel : public Channel {
public:
    std::vector<Route> routes() const override { return {Route{"POST", "/", RouteScope::tenant}}; }
    Result<InboundMessage> parse(const HttpRequest& request) override {
        InboundMessage m;
        m.user_id = "old-customer";
        m.text = request.body;
        m.channel = FIXTURE_PLUGIN;
        return m;
    }
    HttpResponse render(const InboundMessage&, const TurnReply& reply) override {
        return HttpResponse{200, {}, "text/plain", "old channel says " + reply.reply};
    }
};

Result<PluginPtr> make(const json::object&, HostServices&) {
    return PluginPtr(std::make_unique<OldChannel>());
}
}  // namespace

TEZGAH_DECLARE_PLUGIN_(FIXTURE_PLUGIN, channel, "0.9.0", "A channel built against an older SDK", nullptr, 0,
                       &make, 1u);
