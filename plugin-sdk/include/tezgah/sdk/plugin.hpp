#pragma once
/// @file plugin.hpp
/// The four plugin interfaces, the descriptor a shared-library plugin exports, and the macro that
/// exports it.

#include <tezgah/sdk/abi.hpp>
#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

#include <boost/config.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::sdk {

enum class PluginKind : std::int32_t { llm = 1, channel = 2, tool = 3, rule = 4 };

const char* to_string(PluginKind kind) noexcept;

/// Every plugin instance. The concrete interface is chosen by the descriptor's kind.
class Plugin {
public:
    virtual ~Plugin();
};
using PluginPtr = std::unique_ptr<Plugin>;

/// A language model: turns a conversation plus tool specs into text and/or tool calls.
class LlmProvider : public Plugin {
public:
    ~LlmProvider() override;
    /// One model call. When `sink` is not null, text is also passed to it as it is produced.
    virtual Result<ProviderResponse> complete(const ProviderRequest& request, StreamSink* sink) = 0;
};
using LlmProviderPtr = std::unique_ptr<LlmProvider>;

/// One or more functions the assistant may call.
class Tool : public Plugin {
public:
    ~Tool() override;
    /// The functions this plugin offers, with JSON-schema parameters.
    virtual std::vector<ToolSpec> specs() const = 0;
    /// Runs `call` (its arguments already checked against the spec). The answer is any JSON.
    virtual Result<json::value> invoke(const ToolCall& call, TurnContext& turn) = 0;
};
using ToolPtr = std::unique_ptr<Tool>;

/// What a rule decided about an inbound message.
struct RuleDecision {
    std::optional<std::string> reply;  ///< set: answer with this and skip the assistant
    bool handoff = false;
    std::string handoff_reason;
};

/// Per-tenant business logic at fixed hook points.
class Rule : public Plugin {
public:
    ~Rule() override;
    virtual std::string name() const = 0;
    /// Before the assistant. An empty decision lets the turn go on.
    virtual Result<RuleDecision> on_message(TurnContext& turn, const InboundMessage& message) = 0;
    /// After the assistant; may rewrite the reply text.
    virtual Result<std::string> on_reply(TurnContext& turn, const std::string& reply) = 0;
};
using RulePtr = std::unique_ptr<Rule>;

/// An inbound HTTP request as a channel sees it. Header names are lower case.
struct HttpRequest {
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string remote_address;

    /// The first header named `name` (lower case), or empty.
    std::string_view header(std::string_view name) const;
};

/// Where a channel route is mounted.
enum class RouteScope {
    process,  ///< at `path` exactly, once per process; the channel names the tenant in parse()
    tenant,   ///< under `/v1/tenants/{tenant}/channels/<plugin>` + path, per tenant
};

struct Route {
    std::string method;
    std::string path;
    RouteScope scope = RouteScope::tenant;
};

/// Mounts routes, verifies and parses inbound traffic, renders replies.
class Channel : public Plugin {
public:
    ~Channel() override;
    virtual std::vector<Route> routes() const = 0;
    /// Verifies and parses a request. Error codes map to HTTP statuses: see error_status().
    virtual Result<InboundMessage> parse(const HttpRequest& request) = 0;
    /// The channel's answer to a parsed message once its turn is done.
    virtual HttpResponse render(const InboundMessage& message, const TurnReply& reply) = 0;
};
using ChannelPtr = std::unique_ptr<Channel>;

/// The HTTP status for an error code a channel or the engine returns:
/// invalid_json/bad_request/missing_field 400, unauthorized 401, forbidden 403, not_found 404,
/// duplicate and duplicate_in_flight 409, payload_too_large 413, unsupported_media_type 415, invalid_value
/// 422, rate_limited 429, overloaded 503; anything else 500.
int error_status(std::string_view code) noexcept;

/// True for `application/json`, with any parameters (`; charset=utf-8`), in any letter case.
bool is_json_content_type(std::string_view content_type) noexcept;

/// The type of a configuration value.
enum class ConfigType : std::int32_t { string = 1, integer, number, boolean, object, array, string_list };

const char* to_string(ConfigType type) noexcept;

/// One configuration key a plugin accepts, described as data.
struct ConfigKey {
    const char* name;
    ConfigType type;
    bool required;
    const char* default_json;  ///< the default as JSON text, or nullptr
    const char* description;
};

/// Builds one instance for one tenant. `config` has been validated against the config keys and
/// has defaults filled in. `host` outlives the instance.
using PluginFactory = Result<PluginPtr> (*)(const json::object& config, HostServices& host);

/// What a shared-library plugin exports, once, under the symbol `tezgah_plugin_descriptor`.
/// `struct_size` and the ABI fields come first so the loader can check them before anything else.
struct PluginDescriptor {
    std::uint32_t struct_size;
    std::int32_t abi_major;
    std::int32_t abi_minor;
    const char* name;
    PluginKind kind;
    const char* version;
    const char* description;
    const ConfigKey* config_keys;
    std::size_t config_key_count;
    PluginFactory create;
};

inline constexpr const char* kDescriptorSymbol = "tezgah_plugin_descriptor";

}  // namespace tezgah::sdk

/// Declares the plugin of this shared library. Use once, at namespace scope:
///   TEZGAH_PLUGIN("catalog", tool, "1.0.0", "Catalog lookups", kConfig, &make_catalog);
/// where kConfig is a `static const tezgah::sdk::ConfigKey kConfig[]` (or use
/// TEZGAH_PLUGIN_NO_CONFIG) and the factory matches tezgah::sdk::PluginFactory.
#define TEZGAH_PLUGIN(NAME, KIND, VERSION, DESCRIPTION, CONFIG_KEYS, FACTORY)                         \
    extern "C" BOOST_SYMBOL_EXPORT const ::tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;    \
    extern "C" BOOST_SYMBOL_EXPORT const ::tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor = { \
        sizeof(::tezgah::sdk::PluginDescriptor),                                                      \
        ::tezgah::sdk::kAbiMajor,                                                                     \
        ::tezgah::sdk::kAbiMinor,                                                                     \
        NAME,                                                                                         \
        ::tezgah::sdk::PluginKind::KIND,                                                              \
        VERSION,                                                                                      \
        DESCRIPTION,                                                                                  \
        CONFIG_KEYS,                                                                                  \
        sizeof(CONFIG_KEYS) / sizeof(::tezgah::sdk::ConfigKey),                                       \
        FACTORY}

#define TEZGAH_PLUGIN_NO_CONFIG(NAME, KIND, VERSION, DESCRIPTION, FACTORY)                            \
    extern "C" BOOST_SYMBOL_EXPORT const ::tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;    \
    extern "C" BOOST_SYMBOL_EXPORT const ::tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor = { \
        sizeof(::tezgah::sdk::PluginDescriptor),                                                      \
        ::tezgah::sdk::kAbiMajor,                                                                     \
        ::tezgah::sdk::kAbiMinor,                                                                     \
        NAME,                                                                                         \
        ::tezgah::sdk::PluginKind::KIND,                                                              \
        VERSION,                                                                                      \
        DESCRIPTION,                                                                                  \
        nullptr,                                                                                      \
        0,                                                                                            \
        FACTORY}
