// An llm plugin as a plugin author wrote it against an older SDK (ABI 1.0 or 1.1, which had no
// LlmProvider::model() and no capabilities; or 1.2, whose ProviderRequest ended at `deadline`; or
// 1.4, whose ProviderResponse ended at `method`, before 1.5 appended options and cards):
// see old_tool.cpp.
#include <tezgah/sdk/sdk.hpp>

#include <string>

namespace {
using namespace tezgah::sdk;

class OldModel : public LlmProvider {
public:
    Result<ProviderResponse> complete(const ProviderRequest& request, StreamSink* sink) override {
        ProviderResponse response;
        // First a call of the tenant's echo tool, then an answer with what it said.
        if (request.step == 0 && !request.tools.empty()) {
            response.tool_calls.push_back({"c1", request.tools.front().name, json::object{{"text", "ses"}}});
            return response;
        }
        std::string heard;
        for (const auto& m : request.messages)
            if (m.tool_result && m.tool_result->ok) heard = json::serialize(m.tool_result->content);
        response.text = "old model heard " + heard;
        response.usage.input_tokens = 10;
        response.usage.output_tokens = 5;
        response.confidence = 0.9;
        if (sink) sink->on_text(response.text);
        return response;
    }
#if FIXTURE_ABI_MINOR >= 2
    std::string model() const override { return "old-model-7"; }
#endif
};

Result<PluginPtr> make(const json::object&, HostServices&) { return PluginPtr(std::make_unique<OldModel>()); }

const ConfigKey kConfig[] = {
    {"model", ConfigType::string, false, "\"old-model-7\"", "The model"},
};
}  // namespace

TEZGAH_PLUGIN(FIXTURE_PLUGIN, llm, "0.9.0", "A model provider built against an older SDK", kConfig, &make);
