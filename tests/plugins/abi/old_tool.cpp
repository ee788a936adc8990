// A tool plugin as a plugin author wrote it against an older SDK (ABI 1.0, 1.1 or 1.2): built
// against those headers by build-fixtures.sh; the .so files it made are kept in v1.0/, v1.1/ and
// v1.2/. The loader must read its descriptor and config keys in their old layout, and the engine
// must call it through the interface it was built against.
#include <tezgah/sdk/sdk.hpp>

#include <string>

namespace {
using namespace tezgah::sdk;

class OldEcho : public Tool {
public:
    OldEcho(std::string prefix, long long times) : prefix_(std::move(prefix)), times_(times) {}

    std::vector<ToolSpec> specs() const override {
        return {{FIXTURE_TOOL, "Repeats the text it is given",
                 json::object{{"type", "object"},
                              {"properties", json::object{{"text", json::object{{"type", "string"}}}}},
                              {"required", json::array{"text"}}}}};
    }

    Result<json::value> invoke(const ToolCall& call, TurnContext&) override {
        std::string out = prefix_;
        for (long long i = 0; i < times_; ++i) out += std::string(call.arguments.at("text").as_string());
        return json::value(json::object{{"echo", out}});
    }

private:
    std::string prefix_;
    long long times_;
};

Result<PluginPtr> make(const json::object& config, HostServices&) {
    return PluginPtr(std::make_unique<OldEcho>(std::string(config.at("prefix").as_string()),
                                               config.at("times").as_int64()));
}

const ConfigKey kConfig[] = {
    {"prefix", ConfigType::string, false, "\">\"", "Put before the echo"},
    {"times", ConfigType::integer, false, "2", "How many times the text is repeated"},
    {"label", ConfigType::string, true, nullptr, "A required key"},
};
}  // namespace

TEZGAH_PLUGIN(FIXTURE_PLUGIN, tool, "0.9.0", "A tool built against an older SDK", kConfig, &make);
