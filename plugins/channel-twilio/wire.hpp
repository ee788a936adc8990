#pragma once
// Twilio's wire formats, without I/O: the X-Twilio-Signature check, form bodies, TwiML, the text a
// reply becomes, and Twilio's error bodies. See ../shared/reference/wire-formats.md, "Twilio".

#include <tezgah/sdk/channel.hpp>
#include <tezgah/sdk/result.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tezgah::plugins::twilio {

/// A form body's fields in the order they came; a name may repeat.
using Form = std::vector<std::pair<std::string, std::string>>;

/// Decodes `application/x-www-form-urlencoded` (also a query string): `+` is a space, `%XX` a
/// byte. Errors (bad_request) name the field: a broken `%` escape, invalid UTF-8, a NUL.
sdk::Result<Form> parse_form(std::string_view body);
/// Encodes fields as a form body (what the Messages API takes).
std::string encode_form(const Form& form);
/// The first value of `name`, or empty.
std::string_view form_value(const Form& form, std::string_view name);

/// Twilio's signature of a request: base64(HMAC-SHA1(token, url + each parameter's name and
/// value, sorted by name, then value)).
std::string signature(std::string_view auth_token, std::string_view url, const Form& params);

/// The URLs Twilio may have signed for `url`: as given, without its port, and with the scheme's
/// default port (twilio-python's request_validator).
std::vector<std::string> url_variants(std::string_view url);

/// Whether `given` (X-Twilio-Signature) signs the request at `url`: over the form's parameters, or,
/// when the URL carries `bodySHA256` (a JSON body), over the URL alone with that hash checked
/// against `body`. Constant-time comparisons.
bool valid_signature(std::string_view auth_token, std::string_view given, std::string_view url,
                     const Form& params, std::string_view body);

/// Hex SHA-256 of `data` (lower case).
std::string sha256_hex(std::string_view data);
/// Standard base64 with padding.
std::string base64(std::string_view data);

/// What a reply carries, as Twilio sends it: its text, options and cards.
struct Outgoing {
    std::string text;
    std::vector<sdk::ReplyOption> options;
    std::vector<sdk::ReplyCard> cards;
};

/// The message body: the text, then the cards and options as numbered lines ("1. Title —
/// description"), cut to Twilio's 1,600 characters.
std::string message_body(const Outgoing& out);
/// The first card's picture, sent as the message's media (WhatsApp shows one per message), or empty.
std::string media_url(const Outgoing& out);

/// A TwiML document: `<Response/>` when `out` has nothing to say, else one `<Message>`.
std::string twiml(const Outgoing& out);

/// Twilio's error body ({"code", "message", "more_info", "status"}) in words:
/// "Twilio error 21211: The 'To' number is not a valid phone number." Empty when it is none.
std::string twilio_error(std::string_view body, int* code = nullptr);

/// The outbox state a status callback's MessageStatus means, or none for one that changes
/// nothing (queued, accepted, sending, scheduled).
std::optional<sdk::DeliveryState> delivery_state(std::string_view message_status);

}  // namespace tezgah::plugins::twilio
