#include "pipeline/turn_json.hpp"

#include <tezgah/sdk/errors.hpp>

namespace tezgah::engine {
namespace json = boost::json;

namespace {

std::string text_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

double number_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v) return 0;
    if (v->is_double()) return v->get_double();
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    return 0;
}

bool flag_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_bool() && v->get_bool();
}

}  // namespace

sdk::Result<sdk::TurnReply> turn_reply_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec || !value.is_object())
        return sdk::make_error(sdk::errc::invalid_value,
                               "stored reply: not a JSON object" + (ec ? ": " + ec.message() : ""));
    const auto& o = value.get_object();
    sdk::TurnReply r;
    r.reply = text_of(o, "reply");
    r.session_id = text_of(o, "session_id");
    r.conversation_id = text_of(o, "conversation_id");
    r.method = text_of(o, "method");
    r.confidence = number_of(o, "confidence");
    r.language = text_of(o, "language");
    r.handoff = flag_of(o, "handoff");
    r.execution_time_ms = number_of(o, "execution_time_ms");
    if (const auto* calls = o.if_contains("tool_calls"); calls && calls->is_array()) {
        for (const auto& c : calls->get_array()) {
            if (!c.is_object()) continue;
            const auto& call = c.get_object();
            sdk::ToolCallSummary summary{text_of(call, "name"), {}, flag_of(call, "ok")};
            if (const auto* a = call.if_contains("arguments"); a && a->is_object())
                summary.arguments = a->get_object();
            r.tool_calls.push_back(std::move(summary));
        }
    }
    // Replies stored before options and cards existed have neither: they come back empty.
    if (const auto* options = o.if_contains("options"); options && options->is_array())
        for (const auto& v : options->get_array())
            if (auto option = sdk::reply_option_from_json(v)) r.options.push_back(std::move(*option));
    if (const auto* cards = o.if_contains("cards"); cards && cards->is_array())
        for (const auto& v : cards->get_array())
            if (auto card = sdk::reply_card_from_json(v)) r.cards.push_back(std::move(*card));
    if (const auto* usage = o.if_contains("usage"); usage && usage->is_object()) {
        const auto& u = usage->get_object();
        r.usage.input_tokens = static_cast<decltype(r.usage.input_tokens)>(number_of(u, "input_tokens"));
        r.usage.output_tokens = static_cast<decltype(r.usage.output_tokens)>(number_of(u, "output_tokens"));
        r.cost_usd = number_of(u, "cost_usd");
    }
    return r;
}

}  // namespace tezgah::engine
