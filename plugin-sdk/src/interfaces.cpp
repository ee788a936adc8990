// Out-of-line destructors give each interface one home for its vtable and type info, so that
// dynamic_cast works across the engine and every plugin library.
#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/plugin.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>

namespace tezgah::sdk {

// Layouts that plugins built for older minor versions have: the loader reads them with these sizes.
static_assert(offsetof(ConfigKey, secret) == kConfigKeySize_1_0, "ConfigKey may only grow at its end");
static_assert(offsetof(PluginDescriptor, config_key_size) == kDescriptorSize_1_0,
              "PluginDescriptor may only grow at its end");

StreamSink::~StreamSink() = default;
CatalogStore::~CatalogStore() = default;
KnowledgeStore::~KnowledgeStore() = default;
Logger::~Logger() = default;
Clock::~Clock() = default;
HttpClient::~HttpClient() = default;
HostServices::~HostServices() = default;
AppointmentBook::~AppointmentBook() = default;
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
        case ConfigType::url:
            return "url";
    }
    return "unknown";
}

int error_status(std::string_view code) noexcept {
    struct Entry {
        const char* code;
        int status;
    };
    static constexpr Entry kStatuses[] = {
        {errc::invalid_json, 400},
        {errc::bad_request, 400},
        {errc::missing_field, 400},
        {errc::invalid_field, 400},
        {errc::unauthorized, 401},
        {errc::forbidden, 403},
        {errc::not_found, 404},
        {errc::unknown_tenant, 404},
        {errc::method_not_allowed, 405},
        {errc::duplicate, 409},
        {errc::duplicate_in_flight, 409},
        {errc::payload_too_large, 413},
        {errc::unsupported_media_type, 415},
        {errc::invalid_value, 422},
        {errc::rate_limited, 429},
        {errc::overloaded, 503},
    };
    for (const auto& entry : kStatuses)
        if (code == entry.code) return entry.status;
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

json::object to_json(const ReplyOption& option) {
    json::object out{{"id", option.id}, {"title", option.title}};
    if (!option.description.empty()) out["description"] = option.description;
    return out;
}

json::object to_json(const ReplyCard& card) {
    json::object out{{"id", card.id}, {"title", card.title}};
    if (!card.subtitle.empty()) out["subtitle"] = card.subtitle;
    if (card.price) out["price"] = *card.price;
    if (card.price && !card.currency.empty()) out["currency"] = card.currency;
    if (!card.image_url.empty()) out["image_url"] = card.image_url;
    return out;
}

namespace {

std::string string_field(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::optional<ReplyOption> reply_option_from_json(const json::value& value) {
    if (!value.is_object()) return std::nullopt;
    const auto& o = value.get_object();
    ReplyOption option{string_field(o, "id"), string_field(o, "title"), string_field(o, "description")};
    if (option.id.empty() || option.title.empty()) return std::nullopt;
    return option;
}

std::optional<ReplyCard> reply_card_from_json(const json::value& value) {
    if (!value.is_object()) return std::nullopt;
    const auto& o = value.get_object();
    ReplyCard card;
    card.id = string_field(o, "id");
    card.title = string_field(o, "title");
    if (card.id.empty() || card.title.empty()) return std::nullopt;
    card.subtitle = string_field(o, "subtitle");
    if (const auto* p = o.if_contains("price"); p && p->is_number()) card.price = p->to_number<double>();
    card.currency = string_field(o, "currency");
    card.image_url = string_field(o, "image_url");
    return card;
}

json::object to_json(const TurnReply& reply) {
    json::array calls;
    calls.reserve(reply.tool_calls.size());
    for (const auto& call : reply.tool_calls)
        calls.push_back(json::object{{"name", call.name}, {"arguments", call.arguments}, {"ok", call.ok}});
    json::array options;
    options.reserve(reply.options.size());
    for (const auto& option : reply.options) options.push_back(to_json(option));
    json::array cards;
    cards.reserve(reply.cards.size());
    for (const auto& card : reply.cards) cards.push_back(to_json(card));
    return json::object{
        {"reply", reply.reply},
        {"session_id", reply.session_id},
        {"conversation_id", reply.conversation_id},
        {"method", reply.method},
        {"confidence", reply.confidence},
        {"language", reply.language},
        {"tool_calls", std::move(calls)},
        {"handoff", reply.handoff},
        {"options", std::move(options)},
        {"cards", std::move(cards)},
        {"usage", json::object{{"input_tokens", reply.usage.input_tokens},
                               {"output_tokens", reply.usage.output_tokens},
                               {"cost_usd", reply.cost_usd}}},
        {"execution_time_ms", reply.execution_time_ms},
    };
}

}  // namespace tezgah::sdk
