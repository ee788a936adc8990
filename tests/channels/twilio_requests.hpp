#pragma once
// Inbound Twilio WhatsApp webhooks as Twilio posts them, for tests that drive `tezgah serve`: the
// form, its body, and X-Twilio-Signature computed by the official `twilio` npm package
// (tests/channels/twilio_sign.js), so the engine's check is tested against the real client's.
#include "http/http_fixture.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace tezgah::testing {

using Form = std::vector<std::pair<std::string, std::string>>;

inline constexpr const char* kTwilioSid = "AC0123456789abcdef0123456789abcdef";
inline constexpr const char* kTwilioToken = "f3b6c1d2e4a5968778695a4b3c2d1e0f";
inline constexpr const char* kTwilioFrom = "whatsapp:+14155238886";
inline constexpr const char* kEmptyTwiml = R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)";

inline std::string percent_encode(const std::string& in) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

inline std::string form_body(const Form& form) {
    std::string out;
    for (const auto& [name, value] : form)
        out += (out.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
    return out;
}

/// X-Twilio-Signature values computed by the official twilio package, one per (url, params);
/// empty when node or the package could not be run.
inline std::vector<std::string> twilio_signatures(const std::string& token,
                                                  const std::vector<std::pair<std::string, Form>>& requests) {
    TempDir scratch;
    boost::json::array list;
    for (const auto& [url, params] : requests) {
        boost::json::object p;
        for (const auto& [name, value] : params) p[name] = value;
        list.push_back(boost::json::object{{"url", url}, {"params", std::move(p)}});
    }
    const auto in = scratch.path() / "in.json";
    const auto out = scratch.path() / "out.json";
    std::ofstream(in) << boost::json::serialize(
        boost::json::object{{"token", token}, {"requests", std::move(list)}});
    const std::string source = TEZGAH_SOURCE_DIR;
    const std::string command =
        "cd '" + source + "/tests/node' && NODE_PATH='" + source + "/tests/node/node_modules' node '" +
        source + "/tests/channels/twilio_sign.js' < '" + in.string() + "' > '" + out.string() + "'";
    if (std::system(command.c_str()) != 0) return {};
    std::vector<std::string> signatures;
    boost::system::error_code ec;
    const boost::json::value parsed = boost::json::parse(slurp(out), ec);
    if (ec || !parsed.is_array()) return {};
    for (const auto& v : parsed.get_array()) signatures.emplace_back(v.as_string());
    return signatures;
}

inline std::string twilio_signature(const std::string& token, const std::string& url, const Form& params) {
    auto signatures = twilio_signatures(token, {{url, params}});
    return signatures.empty() ? std::string() : signatures.front();
}

/// A customer's text message `body` from `from` ("whatsapp:+90..."), as Twilio posts it.
inline Form inbound(const std::string& sid, const std::string& from, const std::string& body) {
    return {{"SmsMessageSid", sid},
            {"NumMedia", "0"},
            {"ProfileName", "Ayşe"},
            {"MessageType", "text"},
            {"SmsSid", sid},
            {"WaId", from.substr(10)},
            {"SmsStatus", "received"},
            {"Body", body},
            {"To", kTwilioFrom},
            {"NumSegments", "1"},
            {"MessageSid", sid},
            {"AccountSid", kTwilioSid},
            {"From", from},
            {"ApiVersion", "2010-04-01"}};
}

}  // namespace tezgah::testing
