#pragma once
/// @file json_text.hpp
/// JSON text for people and clients: what the engine and plugins send (replies, events, error
/// bodies, reports, requests to providers, tool results a model reads).
///
/// Boost.JSON's own serializer (1.81) writes every double in exponent form: 0.9 becomes `9E-1`,
/// 0 becomes `0E0`. Here a double is written as JavaScript's `JSON.stringify` writes it: the
/// shortest digits that read back to the same double (`std::to_chars`), in plain decimal
/// notation from 1e-6 up to 1e21 (`0.9`, `2.53`, `0.0000352`), whole numbers without a fraction
/// (`0`, `299`, `-3`), and an exponent only outside that range (`1e-7`, `1e+21`). NaN and the
/// infinities, which JSON cannot hold, are written as `null`. Everything else is as Boost.JSON
/// writes it: compact, keys in their order, strings escaped the same way.

#include <boost/json.hpp>

#include <string>

namespace tezgah::sdk {

/// `value` as compact JSON text, with numbers as described above.
std::string json_text(const boost::json::value& value);
std::string json_text(const boost::json::object& object);  ///< without copying it into a value
std::string json_text(const boost::json::array& array);    ///< without copying it into a value

/// Appends `value` as JSON text to `out`.
void append_json_text(std::string& out, const boost::json::value& value);

/// What kind of value `value` is, for messages: "a string", "a number", "a boolean", "null",
/// "an array", "an object" ("expected a string, got a number").
const char* kind_of(const boost::json::value& value) noexcept;

/// One double as JSON text: `0.9`, `0`, `1e-7`; `null` for NaN and the infinities.
std::string json_number_text(double value);

}  // namespace tezgah::sdk
