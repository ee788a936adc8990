#pragma once
// Reading the parts of an operator request the same way on every route: the query's parameters,
// the JSON object body, the allowed methods. Not used outside engine/src/http/.

#include "http/exchange.hpp"

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tezgah::engine::http {

/// `text` with %XX decoded (and '+' as a space when `plus_is_space`); none when an escape is
/// malformed.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// The query's parameters, percent-decoded ('+' as a space; the last of a repeated name wins).
/// Error bad_request naming the parameter that is not percent-encoded UTF-8 (or holds a NUL).
sdk::Result<std::map<std::string, std::string>> query_params(std::string_view query);

/// The query's parameters, or answers 400 naming the one that does not decode and returns none.
std::optional<std::map<std::string, std::string>> query_params_or_answer(Exchange& ex);

/// True when the request's method is one of `methods`; otherwise answers 405 with Allow.
bool allow_methods(Exchange& ex, std::initializer_list<std::string_view> methods);

/// The request's body as a JSON object; otherwise answers 415 (not JSON) or 400 (malformed, not
/// an object) and returns none. An empty body counts as {} when `empty_ok`.
std::optional<json::object> json_object_body(Exchange& ex, bool empty_ok = false);

/// A strong validator of a document: the first 128 bits of its SHA-256, in hex, quoted.
std::string strong_etag(std::string_view body);

/// Whether an If-None-Match header names `etag` (or is "*"); weak tags compare as strong.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace tezgah::engine::http
