// The `handoff` tool plugin: `handover_to_human {reason, category?, priority?}`, which a model
// calls when a person should take over. The engine does the handover itself (pipeline/handoff.hpp):
// it sees the call, hands the conversation over, opens the ticket and publishes the events; this
// plugin checks the arguments, tells the model what to say, and declares the settings
// (`release_after_minutes`, `notify`) that the engine and the notifier read from the manifest.
#include <tezgah/sdk/sdk.hpp>

#include <string>
#include <vector>

namespace tezgah::plugins::handoff {
namespace {

namespace json = boost::json;
using sdk::Error;
using sdk::Result;

const char* const kHandoverSchema = R"({
  "type": "object",
  "properties": {
    "reason": {"type": "string", "minLength": 1, "maxLength": 500,
               "description": "Why a person should take over, in a few words: 'customer asked for a person', 'complaint: damaged parcel', 'injury in class'."},
    "category": {"type": "string", "maxLength": 100,
                 "description": "Optional: complaint, injury, request, billing, other..."},
    "priority": {"type": "string", "enum": ["low", "medium", "high", "urgent"],
                 "description": "Optional: how urgent. A complaint or an injury is high."}
  },
  "required": ["reason"],
  "additionalProperties": false
})";

class HandoffTool final : public sdk::Tool {
public:
    std::vector<sdk::ToolSpec> specs() const override {
        return {{.name = "handover_to_human",
                 .description =
                     "Hands the conversation to a member of staff: call it when the customer asks for a "
                     "person, complains, reports an injury or harm, or needs something you cannot do. "
                     "A person then answers the customer on this channel; you stop answering.",
                 .parameters = json::parse(kHandoverSchema).as_object(),
                 .read_only = false,
                 .cacheable = false}};
    }

    Result<json::value> invoke(const sdk::ToolCall& call, sdk::TurnContext& turn) override {
        if (call.name != "handover_to_human")
            return Error{"invalid_argument", "handoff: unknown tool '" + call.name + "'"};
        const auto* reason = call.arguments.if_contains("reason");
        if (reason == nullptr || !reason->is_string() || reason->get_string().empty())
            return Error{"invalid_argument", "handover_to_human: reason: expected a non-empty string"};
        const bool english = turn.language == "en";
        return json::value(json::object{
            {"handed_over", true},
            {"reason", reason->get_string()},
            {"instructions",
             english
                 ? "A member of staff takes over now. Tell the customer, in one or two short sentences in "
                   "English, that a person will answer them here shortly; answer nothing else."
                 : "Bir çalışan konuşmayı devralıyor. Müşteriye, bir iki kısa Türkçe cümleyle, bir "
                   "yetkilinin "
                   "buradan kısa sürede yazacağını söyle; başka bir şey yanıtlama."}});
    }
};

/// `notify`'s blocks and their keys: a manifest with a block or key not listed is refused, naming it.
sdk::Status check_notify(const json::object& notify) {
    struct Block {
        const char* name;
        std::vector<std::pair<const char*, const char*>>
            keys;  // key, type: string | url | integer | boolean | strings
        std::vector<const char*> required;
    };
    static const std::vector<Block> kBlocks = {
        {"webhook", {{"url", "url"}, {"secret", "string"}}, {"url"}},
        {"slack", {{"webhook_url", "url"}}, {"webhook_url"}},
        {"email",
         {{"smtp_host", "string"},
          {"smtp_port", "integer"},
          {"starttls", "boolean"},
          {"username", "string"},
          {"password", "string"},
          {"from", "string"},
          {"to", "strings"}},
         {"smtp_host", "from", "to"}},
    };
    for (const auto& [name, value] : notify) {
        const Block* block = nullptr;
        for (const auto& b : kBlocks)
            if (name == b.name) block = &b;
        const std::string field = "notify." + std::string(name);
        if (block == nullptr)
            return Error{sdk::errc::invalid_config, field + ": unknown target (webhook, slack, email)"};
        if (!value.is_object()) return Error{sdk::errc::invalid_config, field + ": expected an object"};
        const auto& config = value.get_object();
        for (const auto& [key, v] : config) {
            const char* type = nullptr;
            for (const auto& [k, t] : block->keys)
                if (key == k) type = t;
            const std::string path = field + "." + std::string(key);
            if (type == nullptr) return Error{sdk::errc::invalid_config, path + ": unknown key"};
            const std::string_view kind = type;
            if (kind == "integer") {
                if (!v.is_int64() || v.get_int64() < 1 || v.get_int64() > 65535)
                    return Error{sdk::errc::invalid_config, path + ": expected a port number (1..65535)"};
            } else if (kind == "boolean") {
                if (!v.is_bool()) return Error{sdk::errc::invalid_config, path + ": expected true or false"};
            } else if (kind == "strings") {
                bool ok = v.is_string() && !v.get_string().empty();
                if (v.is_array()) {
                    ok = !v.get_array().empty();
                    for (const auto& item : v.get_array())
                        ok = ok && item.is_string() && !item.get_string().empty();
                }
                if (!ok)
                    return Error{sdk::errc::invalid_config,
                                 path + ": expected an address or a list of addresses"};
            } else {
                if (!v.is_string() || v.get_string().empty())
                    return Error{sdk::errc::invalid_config, path + ": expected a non-empty string"};
                if (kind == "url") {
                    const std::string_view url = v.get_string();
                    if (!url.starts_with("http://") && !url.starts_with("https://"))
                        return Error{sdk::errc::invalid_config,
                                     path + ": expected an http:// or https:// URL"};
                }
            }
        }
        for (const char* key : block->required)
            if (!config.contains(key))
                return Error{sdk::errc::invalid_config, field + "." + key + ": required"};
    }
    return {};
}

const sdk::ConfigKey kConfig[] = {
    {.name = "release_after_minutes",
     .type = sdk::ConfigType::integer,
     .default_json = "60",
     .description =
         "After this many minutes without a word from an operator, the conversation goes back to the bot.",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(10080)},
    {.name = "notify",
     .type = sdk::ConfigType::object,
     .description = "Who is told of a handoff: webhook {url, secret}, slack {webhook_url}, email {smtp_host, "
                    "smtp_port, starttls, username, password, from, to}."},
};

Result<sdk::PluginPtr> make_handoff(const json::object& config, sdk::HostServices& /*host*/) {
    if (const auto* notify = sdk::ConfigView(config).object("notify")) {
        if (auto checked = check_notify(*notify); !checked) return checked.error();
    }
    return sdk::PluginPtr(std::make_unique<HandoffTool>());
}

}  // namespace
}  // namespace tezgah::plugins::handoff

TEZGAH_PLUGIN("handoff", tool, "1.0.0",
              "Hands a conversation to a person: handover_to_human, tickets, notices",
              tezgah::plugins::handoff::kConfig, &tezgah::plugins::handoff::make_handoff);
