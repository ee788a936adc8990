// The `knowledge` tool plugin: searches the tenant's questions and answers (returns, shipping,
// sizes...) and answers in the customer's language when the entry has a translation.
#include <tezgah/sdk/sdk.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace tezgah::plugins::knowledge {
namespace {

namespace json = boost::json;
using sdk::Error;
using sdk::Result;

constexpr std::int64_t kDefaultLimit = 3;
constexpr std::int64_t kMaxLimit = 10;

const char* const kSearchSchema = R"({
  "type": "object",
  "properties": {
    "query": {"type": "string", "minLength": 1,
              "description": "The customer's question or its key words, e.g. 'iade koşulları', 'return policy'."},
    "limit": {"type": "integer", "minimum": 1, "maximum": 10,
              "description": "How many entries to return at most (default 3)."}
  },
  "required": ["query"],
  "additionalProperties": false
})";

class KnowledgeTool final : public sdk::Tool {
public:
    explicit KnowledgeTool(sdk::HostServices& host) : host_(host) {}

    std::vector<sdk::ToolSpec> specs() const override {
        return {{.name = "search_knowledge_base",
                 .description =
                     "Searches the business's frequently asked questions (returns, exchanges, shipping, "
                     "payment, sizes, care...) and gives the best matching answers.",
                 .parameters = json::parse(kSearchSchema).as_object(),
                 .read_only = true,
                 .cacheable = true}};
    }

    Result<json::value> invoke(const sdk::ToolCall& call, sdk::TurnContext& turn) override {
        if (call.name != "search_knowledge_base") {
            return Error{"invalid_argument", "knowledge: unknown tool '" + call.name + "'"};
        }
        const auto* query = call.arguments.if_contains("query");
        if (query == nullptr || !query->is_string()) {
            return Error{"invalid_argument", "search_knowledge_base: query: expected string"};
        }
        std::int64_t limit = kDefaultLimit;
        if (const auto* value = call.arguments.if_contains("limit"); value && value->is_number()) {
            limit = std::clamp<std::int64_t>(value->to_number<std::int64_t>(), 1, kMaxLimit);
        }
        std::string language = turn.language;
        if (language.empty()) language = host_.tenant().language.empty() ? "tr" : host_.tenant().language;

        json::array results;
        for (const auto& hit :
             host_.knowledge().search(query->get_string(), language, static_cast<std::size_t>(limit))) {
            results.push_back(json::object{{"id", hit.entry.id},
                                           {"question", hit.entry.question_in(language)},
                                           {"answer", hit.entry.answer_in(language)},
                                           {"category", hit.entry.category},
                                           {"score", hit.score}});
        }
        return json::value(json::object{{"results", std::move(results)}});
    }

private:
    sdk::HostServices& host_;
};

Result<sdk::PluginPtr> make_knowledge(const json::object& /*config*/, sdk::HostServices& host) {
    return sdk::PluginPtr(std::make_unique<KnowledgeTool>(host));
}

}  // namespace
}  // namespace tezgah::plugins::knowledge

TEZGAH_PLUGIN_NO_CONFIG("knowledge", tool, "1.0.0", "Searches the tenant's questions and answers",
                        &tezgah::plugins::knowledge::make_knowledge);
