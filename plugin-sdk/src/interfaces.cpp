// Out-of-line destructors give each interface one home for its vtable and type info, so that
// dynamic_cast works across the engine and every plugin library.
#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/plugin.hpp>

#include <algorithm>
#include <cctype>

namespace tezgah::sdk {

StreamSink::~StreamSink() = default;
CatalogStore::~CatalogStore() = default;
KnowledgeStore::~KnowledgeStore() = default;
Logger::~Logger() = default;
Clock::~Clock() = default;
HttpClient::~HttpClient() = default;
HostServices::~HostServices() = default;
Plugin::~Plugin() = default;
LlmProvider::~LlmProvider() = default;
Tool::~Tool() = default;
Rule::~Rule() = default;
Channel::~Channel() = default;

const char* to_string(Role role) noexcept {
    switch (role) {
        case Role::system:
            return "system";
        case Role::user:
            return "user";
        case Role::assistant:
            return "assistant";
        case Role::tool:
            return "tool";
    }
    return "user";
}

const char* to_string(PluginKind kind) noexcept {
    switch (kind) {
        case PluginKind::llm:
            return "llm";
        case PluginKind::channel:
            return "channel";
        case PluginKind::tool:
            return "tool";
        case PluginKind::rule:
            return "rule";
    }
    return "unknown";
}

const char* to_string(ConfigType type) noexcept {
    switch (type) {
        case ConfigType::string:
            return "string";
        case ConfigType::integer:
            return "integer";
        case ConfigType::number:
            return "number";
        case ConfigType::boolean:
            return "boolean";
        case ConfigType::object:
            return "object";
        case ConfigType::array:
            return "array";
        case ConfigType::string_list:
            return "string list";
    }
    return "unknown";
}

int error_status(std::string_view code) noexcept {
    if (code == "invalid_json" || code == "bad_request" || code == "missing_field" || code == "invalid_field")
        return 400;
    if (code == "unauthorized") return 401;
    if (code == "forbidden") return 403;
    if (code == "not_found" || code == "unknown_tenant") return 404;
    if (code == "method_not_allowed") return 405;
    if (code == "duplicate_in_flight" || code == "duplicate") return 409;
    if (code == "payload_too_large") return 413;
    if (code == "unsupported_media_type") return 415;
    if (code == "invalid_value") return 422;
    if (code == "rate_limited") return 429;
    if (code == "overloaded") return 503;
    return 500;
}

bool is_json_content_type(std::string_view value) noexcept {
    value = value.substr(0, value.find(';'));
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    constexpr std::string_view kJson = "application/json";
    return value.size() == kJson.size() &&
           std::equal(value.begin(), value.end(), kJson.begin(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

std::string_view HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return value;
    }
    return {};
}

json::object to_json(const TurnReply& reply) {
    json::array calls;
    for (const auto& call : reply.tool_calls)
        calls.push_back(json::object{{"name", call.name}, {"arguments", call.arguments}, {"ok", call.ok}});
    return json::object{
        {"reply", reply.reply},
        {"session_id", reply.session_id},
        {"conversation_id", reply.conversation_id},
        {"method", reply.method},
        {"confidence", reply.confidence},
        {"language", reply.language},
        {"tool_calls", std::move(calls)},
        {"handoff", reply.handoff},
        {"usage", json::object{{"input_tokens", reply.usage.input_tokens},
                               {"output_tokens", reply.usage.output_tokens},
                               {"cost_usd", reply.cost_usd}}},
        {"execution_time_ms", reply.execution_time_ms},
    };
}

}  // namespace tezgah::sdk
