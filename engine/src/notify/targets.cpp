// The notify block of a tenant's handoff tool, and sending one notice to one target
// (notify/targets.hpp).
#include "notify/targets.hpp"

#include "util/digest.hpp"
#include "util/http_connection.hpp"
#include "util/http_tls.hpp"

#include <tezgah/sdk/errors.hpp>

#include <Poco/Net/MailMessage.h>
#include <Poco/Net/MailRecipient.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureSMTPClientSession.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <memory>

namespace tezgah::engine::notify {
namespace {

using Kind = SendOutcome::Kind;

sdk::Error field_error(const std::string& field, const std::string& message) {
    return sdk::make_error(sdk::errc::invalid_value, field + ": " + message);
}

/// A required or optional string of `o`; an error naming `field.key` when it has another type.
sdk::Result<std::string> string_at(const json::object& o, const std::string& field, const char* key,
                                   bool required) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) {
        if (required) return field_error(field + "." + key, "required");
        return std::string();
    }
    if (!v->is_string()) return field_error(field + "." + key, "expected a string");
    std::string text(v->get_string());
    if (required && text.empty()) return field_error(field + "." + key, "required (it is empty)");
    return text;
}

sdk::Status only_keys(const json::object& o, const std::string& field,
                      std::initializer_list<const char*> keys) {
    for (const auto& [key, _] : o) {
        bool known = false;
        std::string list;
        for (const char* k : keys) {
            known = known || key == k;
            list += (list.empty() ? "" : ", ") + std::string(k);
        }
        if (!known)
            return field_error(field + "." + std::string(key), "unknown key (expected one of: " + list + ")");
    }
    return {};
}

/// An http(s) URL with a host, or an error naming `field`.
sdk::Status check_url(const std::string& url, const std::string& field) {
    try {
        Poco::URI uri(url);
        if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty())
            return field_error(field, "expected an http:// or https:// URL");
    } catch (const Poco::Exception&) {
        return field_error(field, "not a URL");
    }
    return {};
}

bool looks_like_address(const std::string& text) {
    const auto at = text.find('@');
    return at != std::string::npos && at > 0 && at + 1 < text.size() &&
           text.find_first_of(" \r\n<>") == std::string::npos;
}

json::value text_or_null(const json::object& data, std::string_view key) {
    const auto* v = data.if_contains(key);
    if (!v || v->is_null()) return nullptr;
    if (v->is_string()) return *v;
    if (v->is_number() || v->is_bool()) return json::value(json::serialize(*v));
    return nullptr;
}

std::string field_text(const json::object& body, std::string_view key) {
    const auto* v = body.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// Slack's mrkdwn needs only these three escaped.
std::string slack_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else
            out += c;
    }
    return out;
}

std::string event_title(const json::object& body) {
    const std::string event = field_text(body, "event");
    if (event == "handoff") return "A customer asks for a person";
    if (event == "ticket") return "New ticket";
    if (event == "appointment") {
        const std::string action = field_text(body, "action");
        if (action == "cancelled") return "Appointment cancelled";
        if (action == "rescheduled") return "Appointment moved";
        return "New appointment";
    }
    return "Notice: " + event;
}

/// "Reformer Pilates (Birebir), 2026-12-03T10:00:00+03:00, Ayşe Yılmaz (+905551112233)": the
/// appointment a notice carries, in one line ("" when it carries none).
std::string appointment_line(const json::object& body) {
    const auto* value = body.if_contains("appointment");
    if (value == nullptr || !value->is_object()) return "";
    const auto& a = value->get_object();
    std::string service = field_text(a, "service_name");
    if (service.empty()) service = field_text(a, "service");
    std::string out = service + ", " + field_text(a, "start");
    if (auto resource = field_text(a, "resource_name"); !resource.empty()) out += ", " + resource;
    if (auto name = field_text(a, "customer_name"); !name.empty()) {
        out += ", " + name;
        if (auto phone = field_text(a, "customer_phone"); !phone.empty()) out += " (" + phone + ")";
    }
    return out;
}

/// The start an appointment was moved from ("" when the notice says none).
std::string previous_start(const json::object& body) {
    const auto* value = body.if_contains("previous");
    return value && value->is_object() ? field_text(value->get_object(), "start") : std::string();
}

/// The outcome of an HTTP answer: 2xx sent; 429 and 5xx retried; anything else failed for good.
SendOutcome http_outcome(const sdk::Result<sdk::HttpResponse>& response, const std::string& what) {
    if (!response) return {Kind::retry, what + ": " + response.error().message};
    const int status = response->status;
    if (status >= 200 && status < 300) return {Kind::sent, {}};
    std::string detail = response->body.substr(0, 200);
    for (auto& c : detail)
        if (c == '\n' || c == '\r') c = ' ';
    std::string error =
        what + " answered HTTP " + std::to_string(status) + (detail.empty() ? "" : ": " + detail);
    if (status == 429 || status >= 500) return {Kind::retry, error};
    if (status >= 300 && status < 400) error += " (redirects are not followed)";
    return {Kind::failed, error};
}

bool private_v4(const unsigned char* a) {
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
           (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] == 100 && (a[1] & 0xc0) == 64);  // carrier-grade NAT
}

bool private_v6(const unsigned char* a) {
    static const std::array<unsigned char, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const std::array<unsigned char, 16> kAny{};
    if (std::equal(a, a + 16, kLoopback.begin()) || std::equal(a, a + 16, kAny.begin())) return true;
    if ((a[0] & 0xfe) == 0xfc) return true;                  // unique local fc00::/7
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return true;  // link-local fe80::/10
    const bool mapped =
        std::all_of(a, a + 10, [](unsigned char b) { return b == 0; }) && a[10] == 0xff && a[11] == 0xff;
    return mapped && private_v4(a + 12);
}

std::string host_of(const std::string& url) {
    try {
        return Poco::URI(url).getHost();
    } catch (const Poco::Exception&) {
        return {};
    }
}

/// Poco's STARTTLS session, with its socket in reach for the host name check.
class SmtpSession : public Poco::Net::SecureSMTPClientSession {
public:
    using Poco::Net::SecureSMTPClientSession::SecureSMTPClientSession;
    Poco::Net::DialogSocket& dialog() { return socket(); }
};

/// The first reply code ("535") in an SMTP error's text, or 0.
int smtp_code(const std::string& text) {
    for (std::size_t i = 0; i + 3 <= text.size(); ++i) {
        if (text[i] >= '2' && text[i] <= '5' && std::isdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isdigit(static_cast<unsigned char>(text[i + 2])) &&
            (i == 0 || !std::isdigit(static_cast<unsigned char>(text[i - 1]))) &&
            (i + 3 == text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 3]))))
            return std::stoi(text.substr(i, 3));
    }
    return 0;
}

}  // namespace

std::vector<std::string> NotifyTargets::kinds() const {
    std::vector<std::string> out;
    if (webhook) out.emplace_back("webhook");
    if (slack) out.emplace_back("slack");
    if (email) out.emplace_back("email");
    return out;
}

sdk::Result<NotifyTargets> parse_notify_targets(const json::object& handoff_config) {
    NotifyTargets out;
    const auto* notify = handoff_config.if_contains("notify");
    if (!notify || notify->is_null()) return out;
    if (!notify->is_object()) return field_error("notify", "expected an object {webhook, slack, email}");
    const auto& n = notify->get_object();
    if (auto s = only_keys(n, "notify", {"webhook", "slack", "email"}); !s) return s.error();

    auto block = [&](const char* key) -> sdk::Result<const json::object*> {
        const auto* v = n.if_contains(key);
        if (!v || v->is_null()) return static_cast<const json::object*>(nullptr);
        if (!v->is_object()) return field_error(std::string("notify.") + key, "expected an object");
        return &v->get_object();
    };

    auto webhook = block("webhook");
    if (!webhook) return webhook.error();
    if (*webhook) {
        const std::string f = "notify.webhook";
        if (auto s = only_keys(**webhook, f, {"url", "secret"}); !s) return s.error();
        auto url = string_at(**webhook, f, "url", true);
        if (!url) return url.error();
        if (auto s = check_url(*url, f + ".url"); !s) return s.error();
        auto secret = string_at(**webhook, f, "secret", true);
        if (!secret) return secret.error();
        out.webhook = WebhookTarget{*url, *secret};
    }

    auto slack = block("slack");
    if (!slack) return slack.error();
    if (*slack) {
        const std::string f = "notify.slack";
        if (auto s = only_keys(**slack, f, {"webhook_url"}); !s) return s.error();
        auto url = string_at(**slack, f, "webhook_url", true);
        if (!url) return url.error();
        if (auto s = check_url(*url, f + ".webhook_url"); !s) return s.error();
        out.slack = SlackTarget{*url};
    }

    auto email = block("email");
    if (!email) return email.error();
    if (*email) {
        const std::string f = "notify.email";
        const auto& e = **email;
        if (auto s =
                only_keys(e, f, {"smtp_host", "smtp_port", "starttls", "username", "password", "from", "to"});
            !s)
            return s.error();
        EmailTarget t;
        auto host = string_at(e, f, "smtp_host", true);
        if (!host) return host.error();
        t.smtp_host = *host;
        if (const auto* port = e.if_contains("smtp_port"); port && !port->is_null()) {
            // A port read from the environment ("${...}") arrives as text.
            long long value = 0;
            if (port->is_int64())
                value = port->get_int64();
            else if (port->is_uint64())
                value = static_cast<long long>(std::min<std::uint64_t>(port->get_uint64(), 70000));
            else if (port->is_string() && !port->get_string().empty() &&
                     std::all_of(port->get_string().begin(), port->get_string().end(),
                                 [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
                     port->get_string().size() <= 5)
                value = std::stoll(std::string(port->get_string()));
            if (value < 1 || value > 65535)
                return field_error(f + ".smtp_port", "expected an integer 1..65535");
            t.smtp_port = static_cast<int>(value);
        }
        if (const auto* tls = e.if_contains("starttls"); tls && !tls->is_null()) {
            if (!tls->is_bool()) return field_error(f + ".starttls", "expected true or false");
            t.starttls = tls->get_bool();
        }
        auto user = string_at(e, f, "username", false);
        if (!user) return user.error();
        t.username = *user;
        auto password = string_at(e, f, "password", false);
        if (!password) return password.error();
        t.password = *password;
        if (!t.username.empty() && t.password.empty())
            return field_error(f + ".password", "required when a username is set");
        auto from = string_at(e, f, "from", true);
        if (!from) return from.error();
        if (!looks_like_address(*from)) return field_error(f + ".from", "expected an e-mail address");
        t.from = *from;
        const auto* to = e.if_contains("to");
        if (!to || to->is_null()) return field_error(f + ".to", "required");
        if (to->is_string()) {
            t.to.emplace_back(to->get_string());
        } else if (to->is_array()) {
            for (const auto& item : to->get_array()) {
                if (!item.is_string())
                    return field_error(f + ".to", "expected an address or a list of addresses");
                t.to.emplace_back(item.get_string());
            }
        } else {
            return field_error(f + ".to", "expected an address or a list of addresses");
        }
        if (t.to.empty()) return field_error(f + ".to", "required (the list is empty)");
        for (std::size_t i = 0; i < t.to.size(); ++i)
            if (!looks_like_address(t.to[i]))
                return field_error(f + ".to", "\"" + t.to[i] + "\" is not an e-mail address");
        out.email = std::move(t);
    }
    return out;
}

sdk::Result<NotifyTargets> notify_targets(const Manifest& manifest) {
    for (const auto& tool : manifest.tools) {
        if (tool.name != "handoff") continue;
        auto parsed = parse_notify_targets(tool.config);
        if (!parsed)
            return sdk::make_error(parsed.error().code,
                                   manifest.manifest_path + ": " + tool.field + "." +
                                       manifest.env_values.redact(parsed.error().message));
        return parsed;
    }
    return NotifyTargets{};
}

std::string webhook_signature(const std::string& secret, long long unix_seconds, const std::string& body) {
    const std::string signed_text = std::to_string(unix_seconds) + "." + body;
    return hmac_sha256_hex(secret, signed_text);
}

std::string signature_header(const std::string& secret, long long unix_seconds, const std::string& body) {
    return "t=" + std::to_string(unix_seconds) + ",v1=" + webhook_signature(secret, unix_seconds, body);
}

json::object notice_body(const std::string& event, const std::string& tenant, const json::object& data) {
    json::object body{{"event", event}, {"tenant", tenant}};
    for (const char* key :
         {"conversation_id", "user_id", "channel", "reason", "priority", "ticket_id", "text"})
        body[key] = text_or_null(data, key);
    if (event == "appointment") {
        // What happened to it (created, cancelled, rescheduled) and by whom, and where it was.
        body["action"] = text_or_null(data, "action");
        body["by"] = text_or_null(data, "by");
        if (const auto* previous = data.if_contains("previous"); previous && previous->is_object())
            body["previous"] = *previous;
    }
    if (const auto* appointment = data.if_contains("appointment"); appointment && appointment->is_object())
        body["appointment"] = *appointment;
    return body;
}

std::string slack_text(const json::object& body) {
    const std::string event = field_text(body, "event");
    std::string out =
        "*" + slack_escape(event_title(body)) + "* at *" + slack_escape(field_text(body, "tenant")) + "*";
    if (auto priority = field_text(body, "priority"); !priority.empty())
        out += " — priority *" + slack_escape(priority) + "*";
    out += "\n";
    if (auto reason = field_text(body, "reason"); !reason.empty())
        out += "*Reason:* " + slack_escape(reason) + "\n";
    if (auto ticket = field_text(body, "ticket_id"); !ticket.empty())
        out += "*Ticket:* `" + slack_escape(ticket) + "`\n";
    if (auto appointment = appointment_line(body); !appointment.empty())
        out += "*Appointment:* " + slack_escape(appointment) + "\n";
    if (auto previous = previous_start(body); !previous.empty())
        out += "*Was:* " + slack_escape(previous) + "\n";
    if (auto conversation = field_text(body, "conversation_id"); !conversation.empty()) {
        out += "*Conversation:* `" + slack_escape(conversation) + "`";
        if (auto channel = field_text(body, "channel"); !channel.empty())
            out += " on " + slack_escape(channel);
        if (auto user = field_text(body, "user_id"); !user.empty())
            out += ", customer `" + slack_escape(user) + "`";
        out += "\n";
    }
    if (auto text = field_text(body, "text"); !text.empty()) {
        std::string quoted = "> ";
        for (char c : slack_escape(text)) quoted += c == '\n' ? std::string("\n> ") : std::string(1, c);
        out += quoted + "\n";
    }
    return out;
}

std::string email_subject(const json::object& body) {
    std::string subject = "[" + field_text(body, "tenant") + "] " + event_title(body);
    if (auto appointment = appointment_line(body); !appointment.empty()) subject += ": " + appointment;
    if (auto reason = field_text(body, "reason"); !reason.empty()) subject += ": " + reason;
    if (auto priority = field_text(body, "priority"); !priority.empty()) subject += " (" + priority + ")";
    for (auto& c : subject)
        if (c == '\r' || c == '\n') c = ' ';
    return subject;
}

std::string email_text(const json::object& body) {
    std::string out = event_title(body) + ".\n\n";
    auto line = [&](const char* label, const char* key) {
        if (auto value = field_text(body, key); !value.empty())
            out += std::string(label) + ": " + value + "\n";
    };
    line("Business", "tenant");
    line("Reason", "reason");
    line("Priority", "priority");
    line("Ticket", "ticket_id");
    line("Conversation", "conversation_id");
    line("Channel", "channel");
    line("Customer", "user_id");
    if (auto appointment = appointment_line(body); !appointment.empty())
        out += "Appointment: " + appointment + "\n";
    if (auto previous = previous_start(body); !previous.empty()) out += "Was: " + previous + "\n";
    if (auto text = field_text(body, "text"); !text.empty()) out += "\nThe customer wrote:\n\n" + text + "\n";
    out += "\n-- \nSent by Tezgah. Answer the customer through the operator API or your dashboard.\n";
    return out;
}

std::string private_target_refusal(const std::string& host) {
    if (host.empty()) return "no host to check";
    std::string bare = host;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(bare.c_str(), nullptr, &hints, &found); rc != 0)
        return "retry:cannot resolve " + host + ": " + gai_strerror(rc);
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
    for (auto* a = found; a != nullptr; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        bool refused = false;
        if (a->ai_family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
            refused = private_v4(reinterpret_cast<const unsigned char*>(&in->sin_addr));
            inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        } else if (a->ai_family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
            refused = private_v6(reinterpret_cast<const unsigned char*>(&in6->sin6_addr));
            inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        }
        if (refused)
            return host + " resolves to " + text +
                   ", a loopback or private address, and the server runs with --block-private-targets";
    }
    return {};
}

namespace {

/// The refusal of `host` under --block-private-targets as an outcome; none when it may be reached.
std::optional<SendOutcome> blocked(const std::string& host, const SendOptions& options) {
    if (!options.block_private_targets) return std::nullopt;
    std::string refusal = private_target_refusal(host);
    if (refusal.empty()) return std::nullopt;
    if (refusal.starts_with("retry:")) return SendOutcome{Kind::retry, refusal.substr(6)};
    return SendOutcome{Kind::failed, refusal};
}

}  // namespace

SendOutcome send_webhook(sdk::HttpClient& http, const WebhookTarget& target, const std::string& notice_id,
                         const std::string& body, const SendOptions& options) {
    if (auto refused = blocked(host_of(target.url), options)) return *refused;
    const long long now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    sdk::OutboundRequest request;
    request.method = "POST";
    request.url = target.url;
    request.body = body;
    request.timeout_ms = static_cast<int>(options.timeout.count());
    request.headers = {{"Content-Type", "application/json"},
                       {"X-Tezgah-Signature", signature_header(target.secret, now, body)},
                       {"X-Tezgah-Notice-Id", notice_id},
                       {"User-Agent", "Tezgah-Notifier"}};
    return http_outcome(http.send(request), "the webhook");
}

SendOutcome send_slack(sdk::HttpClient& http, const SlackTarget& target, const std::string& body,
                       const SendOptions& options) {
    if (auto refused = blocked(host_of(target.webhook_url), options)) return *refused;
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_object()) return {Kind::failed, "the stored notice is not a JSON object"};
    sdk::OutboundRequest request;
    request.method = "POST";
    request.url = target.webhook_url;
    request.body = json::serialize(json::object{{"text", slack_text(parsed.get_object())}});
    request.timeout_ms = static_cast<int>(options.timeout.count());
    request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "Tezgah-Notifier"}};
    return http_outcome(http.send(request), "Slack");
}

SendOutcome send_email(const EmailTarget& target, const std::string& notice_id, const std::string& body,
                       const SendOptions& options) {
    if (auto refused = blocked(target.smtp_host, options)) return *refused;
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_object()) return {Kind::failed, "the stored notice is not a JSON object"};
    const std::string where = "SMTP " + target.smtp_host + ":" + std::to_string(target.smtp_port);
    const Poco::Timespan timeout(static_cast<long>(options.timeout.count() / 1000),
                                 static_cast<long>(options.timeout.count() % 1000) * 1000);
    try {
        Poco::Net::StreamSocket socket;
        socket.connect(
            Poco::Net::SocketAddress(target.smtp_host, static_cast<Poco::UInt16>(target.smtp_port)), timeout);
        SmtpSession session(socket);
        session.setTimeout(timeout);
        session.login();  // EHLO
        if (target.starttls) {
            http::clear_certificate_failure();
            bool started = false;
            try {
                started = session.startTLS(http::client_tls_context(options.ca_file));
            } catch (const Poco::Exception& e) {
                std::string reason = http::take_certificate_failure();
                return {Kind::retry, where + ": TLS: " + (reason.empty() ? e.displayText() : reason)};
            }
            if (!started)
                return {Kind::failed, where +
                                          ": the server does not offer STARTTLS (set starttls: false only "
                                          "on a network you trust)"};
            Poco::Net::SecureStreamSocket secure(session.dialog());
            http::check_certificate_host(secure, target.smtp_host);
        }
        if (!target.username.empty())
            session.login(Poco::Net::SMTPClientSession::AUTH_PLAIN, target.username, target.password);
        else if (target.starttls)
            session.login();  // EHLO again over TLS

        Poco::Net::MailMessage message;
        message.setSender(target.from);
        for (const auto& to : target.to)
            message.addRecipient(Poco::Net::MailRecipient(Poco::Net::MailRecipient::PRIMARY_RECIPIENT, to));
        message.setSubject(Poco::Net::MailMessage::encodeWord(email_subject(parsed.get_object()), "UTF-8"));
        message.setContentType("text/plain; charset=UTF-8");
        message.set("X-Tezgah-Notice-Id", notice_id);
        message.setContent(email_text(parsed.get_object()),
                           Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
        session.sendMessage(message);
        try {
            session.close();
        } catch (...) {  // NOLINT(bugprone-empty-catch): the message was accepted; QUIT is a courtesy
        }
        return {Kind::sent, {}};
    } catch (const Poco::Net::SMTPException& e) {
        std::string text = e.displayText();
        const int code = e.code() >= 200 && e.code() < 600 ? e.code() : smtp_code(text);
        // 5xx is the server's "never" (a refused recipient, bad credentials); 4xx and the rest: later.
        return {code >= 500 ? Kind::failed : Kind::retry, where + ": " + text};
    } catch (const http::Failure& f) {
        return {Kind::retry, where + ": " + f.code + ": " + f.detail};
    } catch (const Poco::Exception& e) {
        std::string reason = http::take_certificate_failure();
        return {Kind::retry, where + ": " + (reason.empty() ? e.displayText() : reason)};
    } catch (const std::exception& e) {
        return {Kind::retry, where + ": " + e.what()};
    }
}

}  // namespace tezgah::engine::notify
