#pragma once
// JSON Schema → the subset of OpenAPI 3.0 schema that Gemini's functionDeclarations accept.
// Gemini answers 400 INVALID_ARGUMENT ("Unknown name ... Cannot find field") to any keyword
// outside that subset, so every tool schema goes through here before it is sent.

#include <boost/json.hpp>

namespace tezgah::plugins::gemini {

/// Converts one JSON Schema to Gemini's subset. Keeps type (lower case), format (the ones Gemini
/// knows), description, nullable, enum (strings), properties, required, items, minItems,
/// maxItems, minimum, maximum, anyOf and propertyOrdering; rewrites type arrays, const, oneOf,
/// allOf and $ref (resolved against $defs/definitions of `schema` itself); drops everything else.
/// Never fails: whatever comes in, what comes out is a schema Gemini accepts.
boost::json::object to_gemini_schema(const boost::json::object& schema);

/// True when a converted schema describes an object with at least one property: only then is it
/// sent as a function's `parameters` (Gemini refuses an OBJECT with empty properties).
bool has_properties(const boost::json::object& converted);

}  // namespace tezgah::plugins::gemini
