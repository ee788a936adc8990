#pragma once
// Questions about an offering's own facts (attributes.cpp): which size of the shop's size chart
// fits the number a customer wears, what an offering's attributes say (allergens, fabric,
// colours, vegan), and which alternatives are of the same kind as an offering that is missing.

#include "assistant.hpp"

#include <map>
#include <set>

namespace tezgah::plugins::local {

/// A size chart found in the knowledge base ("S: 36-38, M: 38-40, ..."), parsed once per index.
struct SizeChart {
    struct Row {
        std::string label;  ///< as the chart writes it ("XL")
        int low = 0;
        int high = 0;
    };
    std::vector<Row> rows;  ///< in the chart's order
    bool empty() const { return rows.empty(); }
    /// The labels whose range holds `number`: one, or two on a boundary (38 → S, M). With `to`
    /// (a span worn, "38-40"), the one whose range holds it all, else those of both ends.
    std::vector<std::string> labels_for(int number, int to = 0) const;
};

/// The tenant's attributes as questions name them, built once per index from its data.
struct TenantFacts {
    SizeChart chart;
    std::set<std::string> array_keys;           ///< keys whose values are lists ("alerjenler")
    std::map<std::string, std::string> values;  ///< folded value → its key ("susam" → "alerjenler")
    std::map<std::string, std::string> shown;   ///< folded value → as the data writes it ("süt")
    struct ValueWord {
        std::string word, stem;  ///< a word of a value, and its stem when it has five letters or more
        std::string value;       ///< the folded value it is part of ("antep fistigi")
    };
    std::vector<ValueWord> value_words;
    std::map<std::string, std::string> key_words;  ///< a word naming a key → the key ("gramaj")
    std::set<std::string_view> naming;  ///< folded words of offerings' names and aliases (interned)
    /// Two words side by side in a name or alias, any language ("almond", "croissant"), interned.
    std::set<std::pair<std::string_view, std::string_view>> name_pairs;
    std::map<std::string, std::string> notice;  ///< language → the kitchen's allergen note, if any
    std::set<std::string> keys;                 ///< every attribute key but sizes
    bool capacities = false;                    ///< some offering says how many people it takes
};
TenantFacts tenant_facts(const std::vector<sdk::Offering>& offerings,
                         const std::vector<sdk::KnowledgeEntry>& knowledge);

/// What a question asks of the size chart or of an offering's attributes.
struct FactAsk {
    int worn = 0;                     ///< a size number the customer wears ("38 giyiyorum")
    int worn_to = 0;                  ///< the upper end of a span worn ("38 ile 40 arası"), or 0
    bool measured = false;            ///< asked by height, weight or a body measurement, no number worn
    std::string label;                ///< a chart size whose numbers are asked ("M beden kaç numara")
    std::vector<std::string> keys;    ///< attribute keys asked about ("alerjenler", "kumas")
    std::vector<std::string> values;  ///< folded attribute values asked about ("susam")
    std::string value_key;            ///< the key `values` belong to
    bool allergy = false;             ///< the customer said they are allergic to `values`
    bool without = false;             ///< asked whether it is without them ("yumurtasız mı")
    bool listing = false;             ///< asked which offerings have them ("sütsüz ne var")
    std::string unlisted;             ///< folded: an ingredient no attribute lists ("seker")
    std::vector<bool> used;           ///< per word: it carries the question, it names no offering
    bool any() const {
        return worn > 0 || measured || !label.empty() || !keys.empty() || !values.empty() ||
               !unlisted.empty();
    }
};
FactAsk read_fact_ask(const std::vector<std::string>& folded_words, const TenantFacts& facts);

/// True when a number among `folded_words` is a size worn, not a quantity ("38 giyiyorum").
bool says_size_worn(const std::vector<std::string>& folded_words);

/// Copies what `ask` asks onto a product intent, with the chart's sizes and the allergen note.
void apply_fact_ask(Intent& intent, const FactAsk& ask, const TenantFacts& facts, std::string_view language);

/// An attribute value as the reply's language says it ("zümrüt" → "emerald" in English).
std::string attribute_value_in(const std::string& value, std::string_view language);

/// The size chart's own answer when no offering is asked about ("M beden 38-40"); asked by height
/// or weight, the chart with a request for the number worn and `phone`.
std::string size_chart_answer(const FactAsk& ask, const SizeChart& chart, std::string_view language,
                              std::string_view phone = {});

/// "hangi ürünlerde fındık var?": the offerings whose attribute holds (or, asked without, lacks)
/// the values asked, with the allergen note; offerings that do not list the attribute are left out.
std::string offerings_with(const FactAsk& ask, const std::vector<sdk::Offering>& offerings,
                           const TenantFacts& facts, std::string_view language);

/// The answer to a size or attribute question about `products` (one, or several the words name
/// equally), from their own attributes.
std::string render_facts(const Intent& intent, const std::vector<json::object>& products,
                         std::string_view language, sdk::HostServices& host);

/// Keeps what a facts answer asked in the session, for a follow-up naming another offering.
void remember_facts(json::object& session, const Intent& intent);

/// "peki poğaça?", "and the sourdough bread?" after a facts answer: the same question of the
/// offerings `intents` name, when the message asks nothing of its own. False when it is no such
/// follow-up.
bool recall_facts(std::vector<Intent>& intents, const std::vector<std::string>& folded_words,
                  const json::object& session);

/// Of the alternatives to a missing `product` (and its category's other offerings), the in-stock
/// ones of the same type and kind: a bra for a bra, never a men's vest.
std::vector<json::object> same_kind_alternatives(const json::object& product,
                                                 const std::vector<json::object>& alternatives,
                                                 sdk::HostServices& host);

}  // namespace tezgah::plugins::local
