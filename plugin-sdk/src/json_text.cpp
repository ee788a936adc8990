#include <tezgah/sdk/json_text.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace tezgah::sdk {
namespace {

namespace json = boost::json;

void append_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    if (value == 0) {  // -0 too: clients have no use for the sign of zero
        out += '0';
        return;
    }
    // The shortest round-trip digits, read off the scientific form "d.ddde±XX".
    char buffer[64];
    const auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    if (ec != std::errc()) {
        out += "null";
        return;
    }
    const std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
    const auto e = text.find('e');
    std::string digits;
    bool negative = false;
    for (char c : text.substr(0, e)) {
        if (c == '-')
            negative = true;
        else if (c != '.')
            digits += c;
    }
    std::string_view exponent_text = text.substr(e + 1);
    const bool negative_exponent = exponent_text.front() == '-';
    exponent_text.remove_prefix(1);  // to_chars always writes the sign
    int exponent = 0;
    std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
    if (negative_exponent) exponent = -exponent;
    // ECMAScript's Number::toString: `point` is where the decimal point goes in `digits`.
    const int k = static_cast<int>(digits.size());
    const int point = exponent + 1;
    if (negative) out += '-';
    if (k <= point && point <= 21) {
        out += digits;
        out.append(static_cast<std::size_t>(point - k), '0');
    } else if (0 < point && point <= 21) {
        out.append(digits, 0, static_cast<std::size_t>(point));
        out += '.';
        out.append(digits, static_cast<std::size_t>(point));
    } else if (-6 < point && point <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-point), '0');
        out += digits;
    } else {
        out += digits[0];
        if (k > 1) {
            out += '.';
            out.append(digits, 1);
        }
        out += exponent < 0 ? "e-" : "e+";
        out += std::to_string(std::abs(exponent));
    }
}

/// True for the bytes a JSON string must escape: '"', '\\' and the control characters.
constexpr bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void append_string(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t run = 0;  // start of the bytes not written yet, copied in one piece
    for (std::size_t i = 0; i < text.size(); ++i) {
        // Eight bytes at a time while none of them needs escaping (most text): a byte below 0x20,
        // a quote or a backslash sets the high bit of its lane.
        while (i + 8 <= text.size()) {
            std::uint64_t x;
            std::memcpy(&x, text.data() + i, 8);
            constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
            const auto zero_in = [&](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
            const std::uint64_t below_space = (x - kOnes * 0x20) & ~x & kHigh;
            if (below_space | zero_in(x ^ (kOnes * '"')) | zero_in(x ^ (kOnes * '\\'))) break;
            i += 8;
        }
        if (i >= text.size()) break;
        const auto c = static_cast<unsigned char>(text[i]);
        if (!needs_escape(c)) continue;
        out.append(text, run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += "\\u00";
                out += kHex[(c >> 4) & 0xF];
                out += kHex[c & 0xF];
        }
    }
    out.append(text, run, text.size() - run);
    out += '"';
}

template <class Integer>
void append_integer(std::string& out, Integer value) {
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, static_cast<std::size_t>(end - buffer));
}

void append_array(std::string& out, const json::array& array) {
    out += '[';
    bool first = true;
    for (const auto& element : array) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, element);
    }
    out += ']';
}

void append_object(std::string& out, const json::object& object) {
    out += '{';
    bool first = true;
    for (const auto& member : object) {
        if (!first) out += ',';
        first = false;
        append_string(out, member.key());
        out += ':';
        append_json_text(out, member.value());
    }
    out += '}';
}

}  // namespace

void append_json_text(std::string& out, const json::value& value) {
    switch (value.kind()) {
        case json::kind::null:
            out += "null";
            break;
        case json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            break;
        case json::kind::int64:
            append_integer(out, value.get_int64());
            break;
        case json::kind::uint64:
            append_integer(out, value.get_uint64());
            break;
        case json::kind::double_:
            append_number(out, value.get_double());
            break;
        case json::kind::string:
            append_string(out, value.get_string());
            break;
        case json::kind::array:
            append_array(out, value.get_array());
            break;
        case json::kind::object:
            append_object(out, value.get_object());
            break;
    }
}

std::string json_text(const json::value& value) {
    std::string out;
    append_json_text(out, value);
    return out;
}

std::string json_text(const json::object& object) {
    std::string out;
    append_object(out, object);
    return out;
}

std::string json_text(const json::array& array) {
    std::string out;
    append_array(out, array);
    return out;
}

std::string json_number_text(double value) {
    std::string out;
    append_number(out, value);
    return out;
}

const char* kind_of(const boost::json::value& value) noexcept {
    switch (value.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return "a boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
        case boost::json::kind::double_:
            return "a number";
        case boost::json::kind::string:
            return "a string";
        case boost::json::kind::array:
            return "an array";
        case boost::json::kind::object:
            return "an object";
    }
    return "a value";
}

}  // namespace tezgah::sdk
