#pragma once
// A deterministic stand-in for a language model, shared by the fake Gemini and OpenAI servers:
// on a customer's question it calls the tool that fits, and once the results are in it answers
// from them. The fake servers translate its decisions to and from their wire formats.

#include <boost/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace tezgah::testing {

struct FakeTurnMessage {
    std::string role;                ///< "user", "assistant" or "tool"
    std::string text;                ///< user or assistant text
    std::string tool_name;           ///< role "tool": which function answered
    boost::json::value tool_result;  ///< role "tool": what it answered
};

struct FakeDecision {
    std::string text;                                                ///< the answer, when no calls
    std::vector<std::pair<std::string, boost::json::object>> calls;  ///< functions to call first
};

/// Policy words (iade, kargo, return, shipping...) → get_general_info or search_knowledge_base;
/// anything else → get_product_info {product: the customer's words}; after tool results → a text
/// answer quoting them ("<name>: <price> <currency>, stok: <stock>"). Without tools → a greeting.
FakeDecision fake_model_decide(const std::vector<FakeTurnMessage>& conversation,
                               const std::vector<std::string>& tool_names);

}  // namespace tezgah::testing
