// An out-of-tree tool plugin: greets a customer by name, in the tenant's persona.
#include <tezgah/sdk/sdk.hpp>

namespace {
using namespace tezgah::sdk;

class GreetingTool : public Tool {
public:
    GreetingTool(std::string salutation, HostServices& host)
        : salutation_(std::move(salutation)), host_(host) {}

    std::vector<ToolSpec> specs() const override {
        return {{"greet_customer", "Greets a customer by name",
                 json::object{{"type", "object"},
                              {"properties", json::object{{"name", json::object{{"type", "string"}}}}},
                              {"required", json::array{"name"}}}}};
    }

    Result<json::value> invoke(const ToolCall& call, TurnContext&) override {
        const auto& name = call.arguments.at("name").as_string();
        host_.logger().info("greeting a customer");
        return json::value(json::object{
            {"greeting", salutation_ + " " + std::string(name) + ", " + host_.tenant().name + "!"}});
    }

private:
    std::string salutation_;
    HostServices& host_;
};

Result<PluginPtr> make(const json::object& config, HostServices& host) {
    return PluginPtr(std::make_unique<GreetingTool>(std::string(config.at("salutation").as_string()), host));
}

const ConfigKey kConfig[] = {
    {"salutation", ConfigType::string, false, "\"Merhaba\"", "The word the greeting starts with"},
};
}  // namespace

TEZGAH_PLUGIN("greeting", tool, "1.0.0", "Greets customers by name", kConfig, &make);
