#pragma once
// A stored reply (sdk::to_json(TurnReply), kept with the reply message) read back, for answering a
// retried message id with the reply it already got.

#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

#include <string_view>

namespace tezgah::engine {

/// The reply of `text` (the JSON object sdk::to_json wrote). "invalid_value" when it is not one.
sdk::Result<sdk::TurnReply> turn_reply_from_json(std::string_view text);

}  // namespace tezgah::engine
