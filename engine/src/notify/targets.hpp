#pragma once
// Where a tenant's notices go: the `notify` block of its `handoff` tool config (DESIGN
// "Operators"), and sending one notice to one target — a signed webhook, a Slack incoming
// webhook, or e-mail over SMTP with STARTTLS. See docs/operators.md, "Notifications".

#include "tenants/manifest.hpp"

#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/result.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine::notify {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

struct WebhookTarget {
    std::string url;
    std::string secret;  ///< signs every body (X-Tezgah-Signature)
};

struct SlackTarget {
    std::string webhook_url;
};

struct EmailTarget {
    std::string smtp_host;
    int smtp_port = 587;
    bool starttls = true;  ///< false: plain SMTP (only sensible on a trusted network)
    std::string username;  ///< empty: no AUTH
    std::string password;
    std::string from;
    std::vector<std::string> to;
};

/// A tenant's targets; each one absent when not configured.
struct NotifyTargets {
    std::optional<WebhookTarget> webhook;
    std::optional<SlackTarget> slack;
    std::optional<EmailTarget> email;

    bool empty() const { return !webhook && !slack && !email; }
    /// "webhook", "slack", "email": those configured, in that order.
    std::vector<std::string> kinds() const;
};

/// The targets of a `handoff` tool config object ({release_after_minutes, notify: {...}}).
/// Errors (invalid_value) name the field: "notify.email.smtp_port: expected an integer 1..65535".
sdk::Result<NotifyTargets> parse_notify_targets(const json::object& handoff_config);

/// The targets of a manifest: its `tools` entry named "handoff" (none: no targets).
sdk::Result<NotifyTargets> notify_targets(const Manifest& manifest);

/// HMAC-SHA256(secret, "UNIX.BODY") in lower-case hex: the v1 of X-Tezgah-Signature.
std::string webhook_signature(const std::string& secret, long long unix_seconds, const std::string& body);
/// The whole header value: "t=UNIX,v1=HEX".
std::string signature_header(const std::string& secret, long long unix_seconds, const std::string& body);

/// The body every target is sent from (the contract's webhook body): {"event", "tenant",
/// "conversation_id", "user_id", "channel", "reason", "priority", "ticket_id", "text"}, each a
/// string or null when the event did not carry it (an appointment event adds "action" — created,
/// cancelled or rescheduled —, "by", the "appointment" object, and "previous" {"start", "end"}
/// when it was moved and the event says from where).
json::object notice_body(const std::string& event, const std::string& tenant, const json::object& data);

/// The Slack message for a notice body (mrkdwn, with &, < and > escaped).
std::string slack_text(const json::object& body);
/// The e-mail's subject and plain-text body for a notice body.
std::string email_subject(const json::object& body);
std::string email_text(const json::object& body);

/// How one attempt ended.
struct SendOutcome {
    enum class Kind { sent, retry, failed };
    Kind kind = Kind::retry;
    std::string error;  ///< retry, failed: why (never a secret)
};

struct SendOptions {
    std::chrono::milliseconds timeout{10000};  ///< per HTTP request, per SMTP command
    bool block_private_targets = false;        ///< refuse hosts on loopback and private addresses
    std::string ca_file;                       ///< extra CA (PEM) trusted for SMTP TLS, besides the system's
};

/// Why `host` may not be reached with --block-private-targets (it resolves to a loopback, private,
/// link-local or unspecified address), empty when it may. A name that does not resolve: a
/// transport error, retried ("retry:" prefix).
std::string private_target_refusal(const std::string& host);

SendOutcome send_webhook(sdk::HttpClient& http, const WebhookTarget& target, const std::string& notice_id,
                         const std::string& body, const SendOptions& options);
SendOutcome send_slack(sdk::HttpClient& http, const SlackTarget& target, const std::string& body,
                       const SendOptions& options);
SendOutcome send_email(const EmailTarget& target, const std::string& notice_id, const std::string& body,
                       const SendOptions& options);

}  // namespace tezgah::engine::notify
