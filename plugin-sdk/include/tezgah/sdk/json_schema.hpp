#pragma once
/// @file json_schema.hpp
/// A small JSON Schema checker for tool arguments: type, properties, required, enum, items,
/// minimum/maximum, minLength/maxLength, additionalProperties:false.

#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

namespace tezgah::sdk {

/// Checks `value` against `schema`; the error names the path, e.g. "product: expected string".
Status validate_json(const json::value& value, const json::object& schema);

}  // namespace tezgah::sdk
