#pragma once
/// @file channel.hpp
/// ABI 1.4: channels that send. A channel plugin that declares `kChannelSends` in its descriptor
/// (TEZGAH_SENDING_CHANNEL_PLUGIN) builds an object that is both a `Channel` and a
/// `ChannelSender`. The engine stores every outbound message in its outbox first, then calls
/// `send()` from a small pool of outbox workers — never from a request thread — and retries what
/// the plugin says may be retried. The channel also reads its provider's status callbacks into
/// `DeliveryReport`s, which move the stored message on (sent → delivered → read, or failed).
///
/// Why a second interface rather than new virtual functions on `Channel`: a plugin built for
/// ABI 1.0-1.3 has no slot for them in its vtable. The engine asks for a `ChannelSender` only of
/// a plugin whose descriptor says it sends, and only such a plugin can have been built with one.
///
/// Threads: `send()` runs on the outbox's workers, concurrently for different messages of the
/// same tenant (never twice at once for the same message). `reply_message()` and
/// `delivery_reports()` run on request threads, like `parse()`.

#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::sdk {

/// What a channel plugin can do, declared in its descriptor's `capabilities` (ABI 1.4). A plugin
/// built for an earlier minor declares nothing: it only receives.
enum ChannelCapability : std::uint32_t {
    kChannelSends = 1u << 0,  ///< the instance is also a ChannelSender
    /// ABI 1.5: the provider lets a business write freely only within 24 hours of the customer's
    /// last message on this channel (WhatsApp); outside it the outbox sends a template instead
    /// (the message's own, else the channel config's `reopen_template`) or keeps the message as
    /// `window_closed` (docs/channels.md, "The 24-hour window").
    kChannelCustomerWindow = 1u << 1,
    /// ABI 1.5: one request may carry several customers' messages (a WhatsApp Cloud webhook): the
    /// instance is also a ChannelBatch, and the engine runs one turn per message it returns.
    kChannelBatches = 1u << 2,
};

// ReplyOption and ReplyCard (DESIGN "Rich replies") are declared in types.hpp since ABI 1.5, where
// TurnReply and ProviderResponse carry them too; their layout is the one 1.4 declared here.

/// A message pre-approved by the provider (WhatsApp templates, Twilio content templates): the
/// only kind that may open a conversation outside the customer's 24-hour window.
struct MessageTemplate {
    std::string name;        ///< the tenant's name for it (the channel maps it to its provider's id)
    json::object variables;  ///< name (or position, "1") -> value
};

/// One message to a customer, as the outbox stored it.
struct OutboundMessage {
    std::string id;  ///< the outbox's id for it; stable across attempts and restarts
    std::string tenant_id;
    std::string channel;    ///< the channel plugin's name
    std::string recipient;  ///< the channel's address of the customer (InboundMessage::user_id)
    std::string text;
    std::vector<ReplyOption> options;  ///< rendered as the channel can: buttons, a list, numbered text
    std::vector<ReplyCard> cards;
    std::optional<MessageTemplate> template_message;
    /// Unique per tenant; the same for every attempt. Pass it to the provider where it takes one
    /// (an `Idempotency-Key` header), so that an attempt the provider accepted but the engine did
    /// not hear about (a crash, a cut connection) is not delivered twice.
    std::string idempotency_key;
    int attempt = 1;        ///< 1 for the first attempt
    json::object metadata;  ///< what reply_message() put there, kept with the message
};

/// What became of one attempt to send.
struct SendResult {
    enum class Outcome : std::int32_t {
        accepted = 1,   ///< the provider took it; `provider_id` names it in status callbacks
        retry_later,    ///< 429, 5xx, a transport error: try again (after `retry_after` when set)
        failed,         ///< refused for good (another 4xx): `error` says why, in the provider's words
        window_closed,  ///< refused because the customer's 24-hour window is closed
    };
    Outcome outcome = Outcome::failed;
    std::string provider_id;
    std::optional<std::chrono::milliseconds> retry_after;  ///< the provider's Retry-After
    std::string error;
};

/// The states of an outbound message (docs/channels.md, "Outbox").
enum class DeliveryState : std::int32_t {
    queued = 1,     ///< stored, not yet accepted by the provider (being retried, perhaps)
    sent,           ///< accepted by the provider
    delivered,      ///< reached the customer's device
    read,           ///< seen by the customer
    failed,         ///< will not be delivered: the error says why
    window_closed,  ///< kept: outside the customer's window, and no template to send instead
};

const char* to_string(DeliveryState state) noexcept;
/// The state named `name` ("delivered"), or none.
std::optional<DeliveryState> parse_delivery_state(std::string_view name) noexcept;

/// What a provider's status callback says about a message it accepted.
struct DeliveryReport {
    std::string provider_id;  ///< SendResult::provider_id of the accepted attempt
    DeliveryState state = DeliveryState::delivered;
    std::string error;  ///< failed: the provider's reason
};

/// What a request on one of the channel's routes carried for the outbox.
struct DeliveryReports {
    std::vector<DeliveryReport> reports;
    /// Set when the request carried delivery reports only: the host records them and answers
    /// with this, without calling parse(). Unset: the host records the reports (if any), then
    /// goes on with parse() as for any request.
    std::optional<HttpResponse> answer;
};

/// The sending side of a channel. Implemented by the same object as its `Channel`.
class ChannelSender {
public:
    virtual ~ChannelSender();
    /// Sends one message. Called by outbox workers only. Never throws; classify the provider's
    /// answer with send_result() or on your own.
    virtual SendResult send(const OutboundMessage& message) = 0;
    /// After a turn on one of the channel's routes: the reply to send through the outbox, or none
    /// when render() answers it in the HTTP response. The host fills in `tenant_id`, `channel`,
    /// and `idempotency_key` when left empty (from the inbound message's id, so a redelivered
    /// message is not answered twice); `recipient` defaults to the customer's user id.
    virtual std::optional<OutboundMessage> reply_message(const InboundMessage& message,
                                                         const TurnReply& reply) = 0;
    /// Reads the delivery reports in a request on the channel's routes (a status callback),
    /// before parse(). Verify the request as parse() would; errors map to HTTP statuses as
    /// parse()'s do. A request with none: an empty `reports` and no `answer`.
    virtual Result<DeliveryReports> delivery_reports(const HttpRequest& request) = 0;
};

/// ABI 1.5: a channel whose requests may carry several customers' messages. Implemented by the
/// same object as its `Channel` when the descriptor declares kChannelBatches. The engine calls
/// `parse_batch()` instead of `parse()`, runs one turn per message in order (each idempotent by
/// its own `message_id`), queues each reply through `reply_message()` when the channel sends, and
/// answers the request with `render()` of the last one. An empty list is answered with `render()`
/// of an empty message and reply. When one turn fails the request fails with its error: the
/// provider delivers it again, and the turns already done answer from the stored ones.
class ChannelBatch {
public:
    virtual ~ChannelBatch();
    /// Verifies and parses a request, as parse() does, into every message it carries.
    virtual Result<std::vector<InboundMessage>> parse_batch(const HttpRequest& request) = 0;
};

/// The usual reading of a provider's HTTP answer to a send: 2xx accepted (with `provider_id`,
/// which the caller reads from the body), 408, 429 and every 5xx retry later (with the Retry-After
/// header), any other status failed for good with the body as the error (cut to 500 bytes), a
/// transport error retry later.
SendResult send_result(const Result<HttpResponse>& response, std::string provider_id = {});

}  // namespace tezgah::sdk

/// Declares a channel plugin that sends (ABI 1.4): its factory's object must derive from both
/// tezgah::sdk::Channel and tezgah::sdk::ChannelSender.
#define TEZGAH_SENDING_CHANNEL_PLUGIN(NAME, VERSION, DESCRIPTION, CONFIG_KEYS, FACTORY)     \
    TEZGAH_DECLARE_PLUGIN_(NAME, channel, VERSION, DESCRIPTION, CONFIG_KEYS,                \
                           sizeof(CONFIG_KEYS) / sizeof(::tezgah::sdk::ConfigKey), FACTORY, \
                           static_cast<std::uint32_t>(::tezgah::sdk::kChannelSends))

/// Declares a channel plugin with the capabilities `CAPABILITIES` (ChannelCapability bits, ABI
/// 1.5), e.g. `tezgah::sdk::kChannelSends | tezgah::sdk::kChannelCustomerWindow`.
#define TEZGAH_CHANNEL_PLUGIN(NAME, VERSION, DESCRIPTION, CONFIG_KEYS, FACTORY, CAPABILITIES) \
    TEZGAH_DECLARE_PLUGIN_(NAME, channel, VERSION, DESCRIPTION, CONFIG_KEYS,                  \
                           sizeof(CONFIG_KEYS) / sizeof(::tezgah::sdk::ConfigKey), FACTORY,   \
                           static_cast<std::uint32_t>(CAPABILITIES))
