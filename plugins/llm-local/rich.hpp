#pragma once
// Rich replies of the offline assistant (DESIGN "Rich replies"): what the customer can pick next
// and the products a reply describes, read from the reply it wrote and this turn's tool results.
// The reply's text is not touched: a channel without buttons numbers the options itself.

#include <tezgah/sdk/types.hpp>

namespace tezgah::plugins::local {

/// Sets `response.options` and `response.cards` for its final text (no tool calls left):
/// - the offerings (or categories) from this turn's catalogue results that the text names, in the
///   order it names them, when it names two or more: each as {id, title};
/// - a card for each product a get_product_info result described and the text names;
/// - else, when the text ends with a yes/no question ("... yardımcı olabilir miyim?", "Is there
///   anything else...?"), the options Evet/Hayır (Yes/No), ids "yes" and "no".
void add_rich_reply(const sdk::ProviderRequest& request, const std::string& language,
                    sdk::ProviderResponse& response);

}  // namespace tezgah::plugins::local
