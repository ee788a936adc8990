#pragma once
// Rich replies in the turn (DESIGN "Rich replies"): the options a reply offered are kept in the
// session, and a customer who answers with one's number ("2", "2.", "ikincisi", "the second"),
// its id or its title continues as if they had typed the title. For a remote model that set
// none, the options and cards come from the results of the tools it called.

#include "store/database.hpp"

#include <tezgah/sdk/types.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace tezgah::engine {

/// The session key of the last reply's options.
inline constexpr const char* kLastOptionsKey = "last_options";

/// The options a reply may offer at most (WhatsApp lists hold 10 rows).
inline constexpr std::size_t kMaxOptions = 10;

/// The last reply's options as the session keeps them; empty when it offered none.
std::vector<sdk::ReplyOption> last_options(const json::object& session);

/// Keeps `options` in the session for the next turn (or forgets the last ones when empty).
void remember_options(json::object& session, const std::vector<sdk::ReplyOption>& options);

/// The option `text` picks: its number among them (1-based, "2", "2.", "2)", "#2", the ordinal
/// words "ikinci(si)", "second", "the second one"), its id (case-insensitive) or its title (case-
/// and diacritic-insensitive). None when the text is anything else.
std::optional<sdk::ReplyOption> chosen_option(std::string_view text,
                                              const std::vector<sdk::ReplyOption>& options);

/// What a remote model's turn offers, read from the results of the tools it called: the
/// offerings of a list (`items`) or of suggestions and alternatives become options (at most
/// kMaxOptions); a described product (`product`) becomes a card.
struct RichParts {
    std::vector<sdk::ReplyOption> options;
    std::vector<sdk::ReplyCard> cards;
};
RichParts rich_from_tool_results(const std::vector<ToolCallRecord>& calls);

}  // namespace tezgah::engine
