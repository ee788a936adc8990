#pragma once
/// @file plugin.hpp
/// The four plugin interfaces, the descriptor a shared-library plugin exports, and the macro that
/// exports it.
///
/// Lifetimes and threads, for every kind:
/// - The descriptor and everything it points to (name, version, description, the config keys and
///   their strings, `allowed` lists) must have static storage duration: the host reads them for as
///   long as the library is loaded, long after the factory returned.
/// - The factory runs once per tenant (and per reload of that tenant), on any thread, never
///   concurrently for the same tenant. `HostServices` outlives the instance it was given to.
/// - `specs()` and `routes()` are called once, when the tenant loads; the host keeps the answers.
/// - `complete()`, `invoke()`, `on_message()`, `on_reply()`, `parse()` and `render()` may run
///   concurrently on several threads for different conversations of the same tenant; the calls of
///   one conversation never overlap (the host runs one turn per customer at a time).
/// - An instance is destroyed only when no call on it is in flight (turns in flight keep their
///   tenant's version alive), and before its library is unloaded.

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
    /// One model call. When `sink` is not null, text is also passed to it as it is produced
    /// (providers that declare kProviderStreams; others answer whole and the host passes it on).
    virtual Result<ProviderResponse> complete(const ProviderRequest& request, StreamSink* sink) = 0;
    /// ABI 1.2: the model this instance calls, as the price table names it (e.g.
    /// "gemini-2.0-flash", "gpt-4o-mini"): usage, costs and metrics are recorded under it.
    virtual std::string model() const = 0;
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
    /// The rule's own name (a Lua rule's `name`), for logs; the host names a rule in its logs by
    /// the plugin name or script path of the manifest entry, which is unique within the tenant.
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
enum class ConfigType : std::int32_t {
    string = 1,
    integer,
    number,
    boolean,
    object,
    array,
    string_list,
    url,  ///< ABI 1.2: a string that is an http:// or https:// URL
};

const char* to_string(ConfigType type) noexcept;

/// A bound on a number: `set` false means none. Write `bound(1)`.
struct ConfigBound {
    bool set;
    double value;
};
constexpr ConfigBound bound(double value) noexcept { return ConfigBound{true, value}; }

/// One configuration key a plugin accepts, described as data (Fluent Bit's config_map). The host
/// checks a tenant's config against these before the factory runs, fills defaults, and prints
/// them in `tezgah plugins` and the plugin's README table. Every pointer must have static storage.
///
///     {.name = "timeout_ms", .type = ConfigType::integer, .default_json = "15000",
///      .description = "Time for one call", .minimum = bound(1), .maximum = bound(600000)}
struct ConfigKey {
    const char* name;
    ConfigType type;
    bool required;
    const char* default_json;  ///< the default as JSON text, or nullptr
    const char* description;
    // --- ABI 1.2; a plugin built for 1.0 or 1.1 has none of these (the host reads them as unset) ---
    bool secret;                 ///< never printed: messages, logs and listings show no value
    ConfigBound minimum;         ///< integer and number: the smallest value allowed
    ConfigBound maximum;         ///< integer and number: the largest value allowed
    const char* const* allowed;  ///< string: the values allowed, ending with nullptr; nullptr: any
};

/// The size of a ConfigKey as plugins built for ABI 1.0 and 1.1 laid it out (they did not
/// record it): the host steps through their config_keys with it.
inline constexpr std::uint32_t kConfigKeySize_1_0 = 32;

/// Builds one instance for one tenant. `config` has been validated against the config keys and
/// has defaults filled in, so the factory reads it without checks (`tezgah/sdk/config.hpp`).
/// `host` outlives the instance.
using PluginFactory = Result<PluginPtr> (*)(const json::object& config, HostServices& host);

/// What an llm plugin can do, declared in its descriptor (ABI 1.2). A plugin built for 1.0 or 1.1
/// declares nothing: the host takes it for a remote model that may stream.
enum ProviderCapability : std::uint32_t {
    kProviderOffline = 1u << 0,  ///< answers without a network or a paid model: no budget, no
                                 ///< deadline share; the engine's last resort
    kProviderStreams = 1u << 1,  ///< passes text to the StreamSink as it is produced
};

/// What a shared-library plugin exports, once, under the symbol `tezgah_plugin_descriptor`.
/// `struct_size` and the ABI fields come first so the loader can check them before anything else.
/// The layout only grows at the end: the host reads the fields a plugin's `struct_size` and minor
/// version say it has, and takes the rest as zero.
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
    // --- ABI 1.2 ---
    std::uint32_t config_key_size;  ///< sizeof(ConfigKey) as the plugin was built
    std::uint32_t capabilities;     ///< llm: ProviderCapability bits; channel (1.4): ChannelCapability
                                    ///< bits (channel.hpp); other kinds: 0
};

/// The size of the descriptor of ABI 1.0 and 1.1: the smallest the loader accepts.
inline constexpr std::uint32_t kDescriptorSize_1_0 = 72;

inline constexpr const char* kDescriptorSymbol = "tezgah_plugin_descriptor";

}  // namespace tezgah::sdk

/// Declares the plugin of this shared library. Use once, at namespace scope:
///   TEZGAH_PLUGIN("catalog", tool, "1.0.0", "Catalog lookups", kConfig, &make_catalog);
/// where kConfig is a `static const tezgah::sdk::ConfigKey kConfig[]` (or use
/// TEZGAH_PLUGIN_NO_CONFIG) and the factory matches tezgah::sdk::PluginFactory. An llm plugin
/// declares its capabilities with TEZGAH_LLM_PLUGIN(name, version, description, config, factory,
/// capabilities), e.g. `tezgah::sdk::kProviderStreams`.
#define TEZGAH_DECLARE_PLUGIN_(NAME, KIND, VERSION, DESCRIPTION, KEYS, KEY_COUNT, FACTORY, CAPABILITIES) \
    extern "C" BOOST_SYMBOL_EXPORT const ::tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;       \
    extern "C" BOOST_SYMBOL_EXPORT const ::tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor = {    \
        sizeof(::tezgah::sdk::PluginDescriptor),                                                         \
        ::tezgah::sdk::kAbiMajor,                                                                        \
        ::tezgah::sdk::kAbiMinor,                                                                        \
        NAME,                                                                                            \
        ::tezgah::sdk::PluginKind::KIND,                                                                 \
        VERSION,                                                                                         \
        DESCRIPTION,                                                                                     \
        KEYS,                                                                                            \
        KEY_COUNT,                                                                                       \
        FACTORY,                                                                                         \
        sizeof(::tezgah::sdk::ConfigKey),                                                                \
        CAPABILITIES}

#define TEZGAH_PLUGIN(NAME, KIND, VERSION, DESCRIPTION, CONFIG_KEYS, FACTORY) \
    TEZGAH_DECLARE_PLUGIN_(NAME, KIND, VERSION, DESCRIPTION, CONFIG_KEYS,     \
                           sizeof(CONFIG_KEYS) / sizeof(::tezgah::sdk::ConfigKey), FACTORY, 0u)

#define TEZGAH_PLUGIN_NO_CONFIG(NAME, KIND, VERSION, DESCRIPTION, FACTORY) \
    TEZGAH_DECLARE_PLUGIN_(NAME, KIND, VERSION, DESCRIPTION, nullptr, 0, FACTORY, 0u)

#define TEZGAH_LLM_PLUGIN(NAME, VERSION, DESCRIPTION, CONFIG_KEYS, FACTORY, CAPABILITIES)   \
    TEZGAH_DECLARE_PLUGIN_(NAME, llm, VERSION, DESCRIPTION, CONFIG_KEYS,                    \
                           sizeof(CONFIG_KEYS) / sizeof(::tezgah::sdk::ConfigKey), FACTORY, \
                           static_cast<std::uint32_t>(CAPABILITIES))
