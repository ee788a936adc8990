#include "plugins/legacy.hpp"

#include <tezgah/sdk/config.hpp>

namespace tezgah::engine::legacy {
namespace {

/// The object behind `plugin` as the interface `Old` it was built against. Single inheritance
/// from sdk::Plugin puts the interface at the same address, and its virtual functions keep their
/// places in the table; only the types they traffic in differ, and Old declares those as built.
template <class Old, class Current>
Old* as_built(sdk::Plugin* plugin) {
    return reinterpret_cast<Old*>(static_cast<void*>(dynamic_cast<Current*>(plugin)));
}

/// ABI 1.0/1.1 tools: specs() returned a ToolSpec without read_only and cacheable (nothing is
/// assumed: both stay false).
class ToolFrom1_1 final : public sdk::Tool {
public:
    explicit ToolFrom1_1(sdk::PluginPtr inner)
        : inner_(std::move(inner)), tool_(as_built<v1_1::Tool, sdk::Tool>(inner_.get())) {}

    std::vector<sdk::ToolSpec> specs() const override {
        std::vector<sdk::ToolSpec> out;
        for (auto& spec : tool_->specs())
            out.push_back({std::move(spec.name), std::move(spec.description), std::move(spec.parameters)});
        return out;
    }
    sdk::Result<json::value> invoke(const sdk::ToolCall& call, sdk::TurnContext& turn) override {
        return tool_->invoke(call, turn);
    }

private:
    sdk::PluginPtr inner_;
    v1_1::Tool* tool_;
};

/// A 1.0-1.4 provider's response as the current one: no options or cards (the host derives them
/// from the turn's tool results as it does for any remote model that sets none).
sdk::Result<sdk::ProviderResponse> current(sdk::Result<v1_4::ProviderResponse> old) {
    if (!old) return old.error();
    auto& r = *old;
    sdk::ProviderResponse out;
    out.text = std::move(r.text);
    out.tool_calls = std::move(r.tool_calls);
    out.usage = r.usage;
    out.confidence = r.confidence;
    out.language = std::move(r.language);
    out.handoff = r.handoff;
    out.handoff_reason = std::move(r.handoff_reason);
    out.session_updates = std::move(r.session_updates);
    out.method = std::move(r.method);
    return out;
}

/// ABI 1.0/1.1 providers had no model(): the model is what their config names, or their name.
class ProviderFrom1_1 final : public sdk::LlmProvider {
public:
    ProviderFrom1_1(sdk::PluginPtr inner, std::string model)
        : inner_(std::move(inner)),
          provider_(as_built<v1_1::LlmProvider, sdk::LlmProvider>(inner_.get())),
          model_(std::move(model)) {}

    sdk::Result<sdk::ProviderResponse> complete(const sdk::ProviderRequest& request,
                                                sdk::StreamSink* sink) override {
        return current(provider_->complete(request, sink));
    }
    std::string model() const override { return model_; }

private:
    sdk::PluginPtr inner_;
    v1_1::LlmProvider* provider_;
    std::string model_;
};

/// ABI 1.2-1.4 providers returned a ProviderResponse without options and cards.
class ProviderFrom1_4 final : public sdk::LlmProvider {
public:
    explicit ProviderFrom1_4(sdk::PluginPtr inner)
        : inner_(std::move(inner)), provider_(as_built<v1_4::LlmProvider, sdk::LlmProvider>(inner_.get())) {}

    sdk::Result<sdk::ProviderResponse> complete(const sdk::ProviderRequest& request,
                                                sdk::StreamSink* sink) override {
        return current(provider_->complete(request, sink));
    }
    std::string model() const override { return provider_->model(); }

private:
    sdk::PluginPtr inner_;
    v1_4::LlmProvider* provider_;
};

}  // namespace

sdk::PluginPtr adapt(sdk::PluginPtr plugin, const PluginInfo& info, const json::object& config) {
    if (!plugin || info.abi_minor >= 5) return plugin;
    if (info.abi_minor >= 2) {
        // 1.2-1.4: only a provider's response changed since (1.5).
        if (info.kind == sdk::PluginKind::llm) return std::make_unique<ProviderFrom1_4>(std::move(plugin));
        return plugin;
    }
    switch (info.kind) {
        case sdk::PluginKind::tool:
            return std::make_unique<ToolFrom1_1>(std::move(plugin));
        case sdk::PluginKind::llm: {
            std::string model = sdk::ConfigView(config).string("model");
            return std::make_unique<ProviderFrom1_1>(std::move(plugin), model.empty() ? info.name : model);
        }
        case sdk::PluginKind::rule:
        case sdk::PluginKind::channel:
            return plugin;  // unchanged since 1.0 (1.5 appended to TurnReply, which the host builds)
    }
    return plugin;
}

}  // namespace tezgah::engine::legacy
