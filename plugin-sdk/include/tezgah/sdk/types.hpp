#pragma once
/// @file types.hpp
/// Plain data that crosses the plugin boundary: messages, tool specs, calls, results,
/// provider requests and responses. All owned by value; no pointers into engine memory.

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::sdk {

namespace json = boost::json;

/// Who wrote a message in the conversation.
enum class Role { system, user, assistant, tool };

const char* to_string(Role role) noexcept;

/// One call of a tool, as the assistant asked for it.
struct ToolCall {
    std::string id;          ///< unique within the turn; providers' own ids are kept
    std::string name;        ///< the tool's name, e.g. "get_product_info"
    json::object arguments;  ///< checked against the tool's schema before it runs
};

/// What a tool answered.
struct ToolResult {
    std::string call_id;
    std::string name;
    bool ok = false;
    json::value content;  ///< the tool's answer when ok
    std::string error;    ///< why it failed when !ok
    double duration_ms = 0;
};

/// One message of the conversation as the provider sees it.
struct Message {
    Role role = Role::user;
    std::string text;
    std::vector<ToolCall> tool_calls;       ///< assistant messages that called tools
    std::optional<ToolResult> tool_result;  ///< role == tool
};

/// A function the assistant may call. `parameters` is a JSON Schema object.
struct ToolSpec {
    std::string name;
    std::string description;
    json::object parameters;
    // --- ABI 1.2 ---
    /// Changes nothing outside the turn (no booking, no message, no ticket): safe to call again.
    bool read_only = false;
    /// Its answer depends only on the tenant's own data (catalog, knowledge, business info), so a
    /// reply built on it may be kept in the response cache until that data changes.
    bool cacheable = false;
};

/// Token counts of one provider call.
struct Usage {
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    bool estimated = false;  ///< true when the provider reported none and the host estimated
};

/// Receives text as a provider produces it. Owned by the caller; valid for one complete() call.
class StreamSink {
public:
    virtual ~StreamSink();
    virtual void on_text(std::string_view delta) = 0;
};

/// Who the assistant speaks for: read from the tenant's manifest.
struct Persona {
    std::string name;
    std::string tone;
    std::string instructions;
};

/// A choice the customer can pick next (DESIGN "Rich replies"): an offering, a time slot, yes or
/// no. A customer who answers with its id, its title or its number continues as if they had typed
/// the title. (Declared in channel.hpp in ABI 1.4, with this layout.)
struct ReplyOption {
    std::string id;
    std::string title;
    std::string description;  ///< may be empty
};

/// A product or offering shown as a card (DESIGN "Rich replies").
struct ReplyCard {
    std::string id;
    std::string title;
    std::string subtitle;         ///< may be empty
    std::optional<double> price;  ///< none: no price shown
    std::string currency;         ///< with price, e.g. "TRY"
    std::string image_url;        ///< may be empty
};

/// A request to a language model: the conversation so far and the tools it may call.
struct ProviderRequest {
    std::string tenant_id;
    std::string language;           ///< the language the customer wrote in ("tr", "en")
    std::string system_prompt;      ///< built by the host from the persona and the tenant
    std::vector<Message> messages;  ///< oldest first; the last user message is the question
    std::vector<ToolSpec> tools;
    json::object session;  ///< the conversation's session state (read only here)
    int step = 0;          ///< 0 on the first call of a turn, +1 after each tool round
    /// ABI 1.1: when the answer is needed by (the turn's deadline, minus time kept for the
    /// fallback). Zero: no deadline. A provider must not wait past it; the host's HTTP client
    /// clamps its timeouts to it as well.
    std::chrono::steady_clock::time_point deadline{};
    /// ABI 1.3: phrases a customer would write to call a tool, by tool name (a Lua tool's
    /// `examples`); tools that declare none are absent. An offline provider matches messages
    /// against them; a remote model needs them not. Kept here, not in ToolSpec: plugins build
    /// ToolSpecs, and an older plugin's layout of it cannot grow.
    std::map<std::string, std::vector<std::string>> tool_examples;
};

/// What a language model answered: text, or tool calls to run before asking again.
struct ProviderResponse {
    std::string text;
    std::vector<ToolCall> tool_calls;
    Usage usage;
    double confidence = 1.0;  ///< 0..1, the provider's own estimate
    std::string language;     ///< the reply's language when the provider knows it
    bool handoff = false;     ///< the provider judged that a person should take over
    std::string handoff_reason;
    json::object session_updates;  ///< keys to merge into the session state
    std::string method = "llm";    ///< how it was answered: "llm", or "intent" (local)
    // --- ABI 1.5: appended. A 1.0-1.4 provider returns the layout above (engine/src/plugins/legacy.*).
    /// What the customer can pick next. Empty: the host derives them for a remote model from the
    /// tool results of the turn (a list of offerings); an offline provider sets its own.
    std::vector<ReplyOption> options;
    std::vector<ReplyCard> cards;  ///< offerings shown as cards (a product the reply describes)
};

/// The longest ids an inbound message may carry (bytes). The host refuses longer ones with
/// invalid_value; a channel that checks its own fields uses the same limits, so every channel
/// answers alike.
inline constexpr std::size_t kMaxUserIdBytes = 256;
inline constexpr std::size_t kMaxSessionIdBytes = 128;
inline constexpr std::size_t kMaxMessageIdBytes = 256;

/// An inbound customer message, after a channel parsed it.
struct InboundMessage {
    std::string tenant_id;  ///< may be empty when the route is tenant-scoped
    std::string user_id;
    std::string text;
    std::string channel;     ///< the channel plugin's name, e.g. "webhook"
    std::string session_id;  ///< optional: the client's own session id
    std::string message_id;  ///< optional: the client's id, used for idempotency
    std::string platform;    ///< optional: where the channel got it from
    json::object metadata;   ///< anything else the channel wants to keep
};

/// One tool call as reported in a reply.
struct ToolCallSummary {
    std::string name;
    json::object arguments;
    bool ok = false;
};

/// The outcome of one turn, as every channel renders it.
struct TurnReply {
    std::string reply;
    std::string session_id;
    std::string conversation_id;
    std::string method;  ///< llm | intent | rule | cache | fallback
    double confidence = 1.0;
    std::string language;
    std::vector<ToolCallSummary> tool_calls;
    bool handoff = false;
    Usage usage;
    double cost_usd = 0;
    double execution_time_ms = 0;
    // --- ABI 1.5: appended (a channel built for 1.4 or earlier reads the fields above only) ---
    std::vector<ReplyOption> options;  ///< what the customer can pick next; may be empty
    std::vector<ReplyCard> cards;      ///< may be empty
};

/// The contract's JSON form of a reply (the HTTP chat reply and `tezgah chat --json`). `options`
/// and `cards` are always there, as [] when the reply has none.
json::object to_json(const TurnReply& reply);
/// `{"id", "title", "description"?}`: description only when set.
json::object to_json(const ReplyOption& option);
/// `{"id", "title", "subtitle"?, "price"?, "currency"?, "image_url"?}`: each only when set.
json::object to_json(const ReplyCard& card);
/// The option or card of a JSON object as to_json wrote it (the id and title strings are
/// required: none when either is missing or empty).
std::optional<ReplyOption> reply_option_from_json(const json::value& value);
std::optional<ReplyCard> reply_card_from_json(const json::value& value);

}  // namespace tezgah::sdk
