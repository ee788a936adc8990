#pragma once
// Rich replies of the offline assistant (DESIGN "Rich replies"): what the customer can pick next
// and the products a reply describes, read from the reply it wrote and this turn's tool results.
// The reply's text is not touched: a channel without buttons numbers the options itself.

#include <tezgah/sdk/types.hpp>

#include <optional>
#include <string>

namespace tezgah::plugins::local {

/// Sets `response.options` and `response.cards` for its final text (no tool calls left):
/// - the offerings (or categories) from this turn's catalogue results that the text names, in the
///   order it names them, when it names two or more: each as {id, title};
/// - a card for each product a get_product_info result described and the text names;
/// - else, when the text ends with a yes/no question ("... yardımcı olabilir miyim?", "Is there
///   anything else...?"), the options Evet/Hayır (Yes/No), ids "yes" and "no".
void add_rich_reply(const sdk::ProviderRequest& request, const std::string& language,
                    sdk::ProviderResponse& response);

/// The answer to the customer's "Evet"/"Hayır" (a picked option, or typed; "yes please", "no
/// thanks") right after this assistant asked whether it can help with anything else: an
/// invitation to ask, or a goodbye. None for any other message.
std::optional<std::string> answer_to_yes_or_no(const sdk::ProviderRequest& request,
                                               const std::string& language);

}  // namespace tezgah::plugins::local
