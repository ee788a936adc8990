#pragma once
// Plugins built for an older minor ABI, called through the layouts they were built with.
//
// A minor version may add fields at the end of what the host hands a plugin (ProviderRequest,
// TurnReply...) and of the descriptor: an older plugin never reads them. But a type a plugin
// builds and returns (a ToolSpec, a response) or a virtual function it does not have cannot
// change under it. So the host keeps here, frozen, the interfaces as every older minor version it
// accepts declared them, calls an older plugin through those, and converts the answers. The
// engine sees only the current interfaces.

#include "plugins/registry.hpp"

#include <tezgah/sdk/plugin.hpp>

#include <string>
#include <vector>

namespace tezgah::engine::legacy {

/// ABI 1.0 to 1.4: what a provider returned before 1.5 appended options and cards. A provider
/// builds it, so the host must read it with the layout the plugin was built with.
namespace v1_4 {

struct ProviderResponse {
    std::string text;
    std::vector<sdk::ToolCall> tool_calls;
    sdk::Usage usage;
    double confidence = 1.0;
    std::string language;
    bool handoff = false;
    std::string handoff_reason;
    json::object session_updates;
    std::string method = "llm";
};

/// ABI 1.2 to 1.4 (1.2 added model()).
class LlmProvider : public sdk::Plugin {
public:
    virtual sdk::Result<ProviderResponse> complete(const sdk::ProviderRequest& request,
                                                   sdk::StreamSink* sink) = 0;
    virtual std::string model() const = 0;
};

}  // namespace v1_4

/// ABI 1.0 and 1.1 (1.1 only appended ProviderRequest::deadline, a field the host fills). These
/// declarations must never change: plugins built for those versions are laid out this way.
namespace v1_1 {

struct ToolSpec {
    std::string name;
    std::string description;
    json::object parameters;
};

class Tool : public sdk::Plugin {
public:
    virtual std::vector<ToolSpec> specs() const = 0;
    virtual sdk::Result<json::value> invoke(const sdk::ToolCall& call, sdk::TurnContext& turn) = 0;
};

class LlmProvider : public sdk::Plugin {
public:
    /// The response as 1.0-1.4 laid it out (it said sdk::ProviderResponse, which was this then).
    virtual sdk::Result<v1_4::ProviderResponse> complete(const sdk::ProviderRequest& request,
                                                         sdk::StreamSink* sink) = 0;
};

}  // namespace v1_1

/// `plugin`, built by `info` (a plugin of an older minor ABI) with `config`, behind the current
/// interface of its kind; kinds whose interface did not change come back as they are.
sdk::PluginPtr adapt(sdk::PluginPtr plugin, const PluginInfo& info, const json::object& config);

}  // namespace tezgah::engine::legacy
