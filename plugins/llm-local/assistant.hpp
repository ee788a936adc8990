#pragma once
// The offline assistant's parts: what a customer message asks for (understand.cpp), the words it
// knows (lexicon.cpp) and the replies it writes from tool results (replies.cpp).

#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/text.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::plugins::local {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

// ---- lexicon.cpp: vocabulary on folded text (sdk::text::fold) ----

/// True when `folded` contains `phrase` as whole words ("ne kadar" in "bu ne kadar").
bool has_phrase(std::string_view folded, std::string_view phrase);
/// True when any word of `folded` starts with one of `prefixes`.
bool has_prefix_word(const std::vector<std::string>& words, std::initializer_list<std::string_view> prefixes);

/// Filler and question words that say nothing about which product is meant.
bool is_stop_word(std::string_view folded_word);
/// A Turkish verb form ("giyiyorum", "veriyor", "alırsam"): never part of an offering's name.
bool is_verb_form(std::string_view folded_word);
/// The root of "-abilir" forms ("dondurabilir" → "dondur"), which a knowledge entry may name by its
/// verbal noun ("dondurma"); empty for other words.
std::string verb_root(std::string_view folded_word);
/// A short message written in English though it has few of the words language detection knows
/// ("free wifi?"): ASCII only, no Turkish word, and some English word.
/// `english_words`: the tenant's own (words only its English texts use).
bool looks_english(std::string_view message, const std::vector<std::string>& folded_words,
                   const std::set<std::string_view>& english_words = {});
/// A number word ("iki", "three") as a number, or 0.
int number_word(std::string_view folded_word);
/// A unit a quantity is counted in ("tane", "adet", "kg", "porsiyon"): how replies name it, with
/// "adet" for plain counts; empty when `folded_word` is not one.
std::string quantity_unit(std::string_view folded_word);
/// "5'er", "ikişer", "birer" (folded): the count said for each of several items, or 0 (orders.cpp).
int distributive_count(std::string_view folded_word);
/// A unit as English replies name it for `n` ("çift" → "pairs"); others as they are ("kg").
std::string english_unit(std::string_view unit, int n);

// ---- words.cpp: one word table for every tenant's index ----

/// `word` as kept in one table that every tenant's index in this process shares: an index holds
/// these views rather than strings of its own. Valid while the plugin library is loaded. Thread-safe.
std::string_view intern(std::string_view word);
/// Every word of `words`, interned, in the same order.
std::vector<std::string_view> intern_all(const std::vector<std::string>& words);

// ---- packages.cpp: an offering that sells several of another at once ----

/// "8 Derslik Aylık Mat Pilates Paketi": `count` of `single_id` ("Mat Pilates Grup Dersi").
struct Package {
    std::string id;
    std::string single_id;
    int count = 0;
};
/// The catalogue's packages: a name counting lessons ("8 derslik") whose other words all name
/// one priced service.
std::vector<Package> find_packages(const std::vector<sdk::Offering>& offerings);
/// "paket mi tek tek mi daha uygun", "is the pass cheaper than paying per class".
bool asks_package_or_single(std::string_view folded);
/// The package's price beside its count times the single price, and which is cheaper by how much.
std::string package_or_single(const Package& package, const std::vector<sdk::Offering>& offerings,
                              std::string_view language);

// ---- weights.cpp: amounts asked for by weight ----

/// Kilograms in one of `folded_unit`: 1 for "kg" or "kilo", 0.001 for "gram"; 0 when it is no weight.
double kilograms_in(std::string_view folded_unit);
/// The weight the words ask for, in kilograms ("yarım kilo" 0.5, "1,5 kg" 1.5, "250 gram" 0.25,
/// "half a kilo"), or 0; `shown` holds each folded word as written, for its decimal comma.
double asked_weight(const std::vector<std::string>& folded, const std::vector<std::string>& shown);

/// What a question asks about a product.
struct Cues {
    bool price = false;     ///< ne kadar, fiyat, how much
    bool stock = false;     ///< stokta var mı, in stock
    bool details = false;   ///< beden, renk, kumaş, size, colour
    bool duration = false;  ///< kaç dakika, how long
    bool have = false;      ///< var mı, satıyor musunuz, do you have / sell
    bool list = false;      ///< hangi, neler, çeşitler, what ... do you have
    bool restock = false;   ///< ne zaman gelir, stoğa girer mi, back in stock
    std::string extreme;    ///< "min" for en ucuz / cheapest, "max" for en pahalı; else empty
    bool any_product() const { return price || stock || details || duration || have; }
};
Cues detect_cues(std::string_view folded);
/// Words that carry a cue and so are not part of a product's name ("beden", "renk", "size").
bool is_cue_word(std::string_view folded_word);

enum class SmallTalk { none, greeting, thanks, ack, farewell, greeting_or_farewell };
/// Small talk at the start or end of a message; `rest` receives the message without it.
SmallTalk detect_small_talk(std::string_view folded, std::string& rest);

/// A request for a person or a complaint: the reason ("human" or "complaint"), or empty.
std::string detect_handoff(std::string_view folded, const std::vector<std::string>& topics);

/// Business facts the host knows: hours, address, phone, email, contact; empty when none.
std::vector<std::string> detect_business_topics(std::string_view folded, bool only_place_words);
/// Words that point at a business.info key (its own name plus a few synonyms).
std::vector<std::string> info_key_synonyms(std::string_view folded_key);
/// English words for some Turkish category names ("nightgown" → "gecelik").
std::vector<std::string> category_synonyms(std::string_view folded_category);
/// Words asking for services or products in general ("dersler", "services", "ürünler").
std::string general_type_word(const std::vector<std::string>& words);

/// How well a customer's word matches a catalogue word, 0..1 (stems, suffixes, typos).
using sdk::text::word_match;

// ---- understand.cpp ----

/// One slip of the keyboard between two words of five letters or more ("pijma", "gecelk"),
/// compared as written and by stem ("pijmalar" → "pijma").
bool one_typo(std::string_view a, std::string_view b);

enum class IntentKind {
    product,    ///< get_product_info with the customer's words or an id
    list,       ///< list_offerings
    info,       ///< get_general_info
    knowledge,  ///< search_knowledge_base
    text,       ///< answered without a tool
};

struct Intent {
    IntentKind kind = IntentKind::text;
    std::string tool;  ///< the tool to call; empty for text
    json::object arguments;
    std::string text;                 ///< the answer for IntentKind::text
    std::vector<std::string> picked;  ///< the offerings this assistant itself matched, best first
    std::string words;                ///< the customer's words naming what they ask about
    std::string knowledge_id;         ///< this assistant's own pick among knowledge entries
    std::string day;                  ///< hours: a day asked about ("sun"), or empty
    bool asks_now = false;            ///< hours: "şu an açık mısınız"
    bool follow_up = false;           ///< resolved from the conversation's earlier turns
    std::string size;                 ///< a size asked about ("S", "XL", "38"), or empty
    bool restock = false;             ///< "ne zaman gelir": when it is back in stock
    std::string extreme;              ///< list: "min" (en ucuz) or "max" (en pahalı), or empty
    int quantity = 0;                 ///< product: how many the customer asks about ("3 tane"), or 0
    std::string unit;                 ///< the quantity's unit as the customer said it ("kg"), or empty
    double weight = 0;                ///< product: kilograms asked for that no count says ("yarım kilo")
    // An offering's own facts asked about (attributes.cpp):
    int worn = 0;                               ///< a size number the customer wears ("38 giyiyorum")
    int worn_to = 0;                            ///< the upper end of a span worn ("38-40"), or 0
    std::vector<std::string> fitting_sizes;     ///< the size chart's sizes for `worn` ("S", "M")
    std::vector<std::string> attribute_keys;    ///< attributes asked about ("alerjenler", "kumas")
    std::vector<std::string> attribute_values;  ///< values asked about, as the data writes them ("süt")
    std::string attribute_value_key;            ///< the attribute those values belong to
    bool allergy = false;                       ///< the customer is allergic to them: a "yes" warns
    bool without = false;                       ///< asked whether it is without them ("yumurtasız mı")
    std::string unlisted;                       ///< an ingredient no data lists, as said ("şeker")
    std::string notice;                         ///< a general note said once beside the answer
    bool asks_facts() const {
        return worn > 0 || !attribute_keys.empty() || !attribute_values.empty() || !unlisted.empty();
    }
    bool with_charges = false;  ///< product: asked with a fee or discount ("kargo dahil")
    double confidence = 0.9;
};

struct Plan {
    std::string language;  ///< the reply's language
    SmallTalk small_talk = SmallTalk::none;
    bool earlier_turns = false;  ///< the conversation had messages before this one
    std::string handoff_reason;  ///< non-empty: hand over to a person
    std::vector<Intent> intents;
    bool order_again = false;  ///< the intents are the order of the turn before, changed: summed
};

/// "simit ve poğaçadan 5'er tane", "3 each of": every item the plan names gets that count (orders.cpp).
void share_each_count(Plan& plan, const std::vector<std::string>& folded_words);
/// "hepsi", "toplam", "altogether": the message asks for an order's total (orders.cpp).
bool asks_order_total(const std::vector<std::string>& folded_words);
/// "simiti çıkar", "take out the coffees": the message takes items out of an order.
bool takes_out(std::string_view folded);
/// The order of the turn before asked about again: all of it when `content` names none of its
/// items ("hepsi ne kadar"); without the ones it names best when `removing` ("simiti çıkar"), or
/// with `count` of them when it gives one ("simiti 5 yap"); empty when the words do none of these.
std::vector<Intent> order_again(const std::vector<Intent>& last_order,
                                const std::vector<std::string>& content, bool removing, int count,
                                sdk::HostServices& host);

struct Settings {
    std::size_t max_list_items = 8;
};

/// The tenant's catalogue and knowledge base with their folded words, built once per plugin
/// instance so that reading a message compares against ready words (understand.cpp).
struct TenantIndex;
std::shared_ptr<const TenantIndex> index_tenant(sdk::HostServices& host);

/// Reads the last user message of `request` into intents; deterministic for the same request.
Plan understand(const sdk::ProviderRequest& request, sdk::HostServices& host, const TenantIndex& index);
/// The same, indexing the tenant's data for this one call.
Plan understand(const sdk::ProviderRequest& request, sdk::HostServices& host);

/// How well `words` name `offering`: share of the customer's words explained (0..1) and the share
/// of the offering's name or one alias they cover.
struct OfferingFit {
    double coverage = 0;
    double specificity = 0;
    double score() const { return coverage * (0.5 + 0.5 * specificity); }
};
OfferingFit fit_offering(const std::vector<std::string>& words, const sdk::Offering& offering);

// ---- replies.cpp ----

/// "299,99 TL" (tr) or "299.99 TL" (en).
std::string format_price(double amount, std::string_view currency, std::string_view language);
/// The name of an offering brief in the reply's language, from the catalogue when it knows the id.
std::string name_of(const json::object& brief, std::string_view language, sdk::HostServices& host);
/// "stokta var", "stokta son 3 adet var", "in stock".
std::string stock_phrase(const json::object& product, std::string_view language);
/// "a, b ve c" (tr) or "a, b and c" (en).
std::string join_list(const std::vector<std::string>& items, std::string_view language);
/// An attribute key as a customer reads it ("kumas" → "kumaş" or "fabric").
std::string attribute_label(std::string_view key, std::string_view language);

/// Writes the reply for one intent from its tool result (nullptr for text intents or a missing
/// result).
std::string render_intent(const Intent& intent, const sdk::ToolResult* result, const Plan& plan,
                          sdk::HostServices& host, const Settings& settings, json::object& session);

/// True for the "nothing matches those words" answer of a product question.
bool is_no_match_reply(std::string_view reply);

/// The greeting, thanks, farewell or "what I can help with" answers, and the handoff answer.
std::string render_small_talk(SmallTalk kind, bool earlier_turns, std::string_view language,
                              const sdk::TenantProfile& tenant);
std::string render_help(std::string_view language, sdk::HostServices& host);
/// "Size ürünlerimiz, ... hakkında yardımcı olabilirim." and the business's phone.
std::string what_i_help_with(std::string_view language, sdk::HostServices& host);
std::string render_handoff(std::string_view reason, std::string_view language,
                           const sdk::TenantProfile& tenant);
/// A business fact straight from the tenant profile (when get_general_info is not enabled).
std::string render_business_fact(const Intent& intent, std::string_view language, sdk::HostServices& host);

// ---- tools.cpp: the tenant's own tools (Lua tools) ----

/// What the assistant reads tool requests against, built once per plugin instance.
struct ToolIndex;
std::shared_ptr<const ToolIndex> index_tools(sdk::HostServices& host);

/// A call of one of the tenant's own tools that the message asks for.
struct ToolRequest {
    std::string tool;
    json::object arguments;               ///< what the message (and the turns before) gave
    std::vector<std::string> missing;     ///< required parameters not given yet, in schema order
    const sdk::ToolSpec* spec = nullptr;  ///< in the request's tools
};
/// The tenant tool the last user message calls, or completes when the session holds a call
/// waiting for a parameter ("pending_tool"); none when the message is about something else.
std::optional<ToolRequest> read_tool_request(const sdk::ProviderRequest& request, const ToolIndex& index);
/// The question for the first missing parameter, in `language`, from its schema and description.
std::string ask_for_parameter(const ToolRequest& call, std::string_view language);
/// The reply from a tenant tool's result: its `message`, or its fields.
std::string render_tool_result(const sdk::ToolResult* result, std::string_view language);
/// A tool this assistant has no intent of its own for (not catalog, knowledge, info, ...).
bool is_tenant_tool(std::string_view name);
// ---- totals.cpp ----

/// A fee or a discount the tenant's knowledge base states, read from its answers once.
struct Charge {
    enum class Kind { fee, discount };
    Kind kind = Kind::fee;
    std::string entry_id;               ///< the knowledge entry that states it
    double amount = 0;                  ///< fee: its amount ("kapıda ödeme (+20 TL)")
    double free_from = 0;               ///< fee: the order total from which it is free; 0 = never
    double percent = 0;                 ///< discount: "%10"
    int min_quantity = 0;               ///< discount: "50 adet ve üzeri"
    std::vector<std::string> scope;     ///< discount: folded words of what it is for; empty = all
    std::vector<std::string> triggers;  ///< folded words a customer asks for it with
    std::vector<std::string> words;     ///< folded words naming it, none of an offering's name
    std::string label_tr, label_en;     ///< "kargo ücreti", "shipping cost"
};
/// Fees free above a total ("500 TL ve üzeri ... ücretsiz; altındaki ... 49,90 TL"), flat fees
/// ("(+20 TL)", "30 TL karşılığında", "costs 30 TL") and quantity discounts ("50 adet ve üzeri ...
/// %10 indirim"), in Turkish and English.
std::vector<Charge> charges_of(const std::vector<sdk::KnowledgeEntry>& knowledge);
/// Words that say a charge is one, never what it is for ("ücreti" of "kargo ücreti", "sipariş").
bool is_charge_word(std::string_view folded_word);
/// Whether a message's folded words ask for `charge` ("kargo dahil", "kapıda ödersem").
bool asks_for(const Charge& charge, const std::vector<std::string>& folded_words);
/// The charges the tenant's knowledge base states, read when the tenant was indexed.
const std::vector<Charge>& charges_in(const TenantIndex& index);

/// An order's reply: empty text when the message is no order (then `items` holds a counted item
/// answered as a product, if any).
struct Order {
    std::string text;
    std::vector<std::size_t> intents;  ///< the plan's product intents it answers
    std::vector<std::string> entries;  ///< knowledge entries whose charges it applied
    std::vector<std::string> topics;   ///< folded words of the fees it applied
    json::array items;                 ///< {id, quantity, unit} of each line, for "kargo dahil?" next
};
/// Several counted items, or items with the fees or discounts the message asks for: each line
/// (quantity × unit price, stock checked), discounts, fees and the total. `results` holds the
/// tool result of each intent of `plan` (or null).
Order render_order(const Plan& plan, const std::vector<const sdk::ToolResult*>& results,
                   std::string_view message, const std::vector<Charge>& charges, sdk::HostServices& host);
/// "2 kg için: Çikolatalı Yaş Pasta 2 × 850 TL = 1.700 TL; ...": a count asked over a list
/// (`items` are list_offerings briefs), in-stock ones first, at most `max_items`.
std::string render_counted_list(const std::vector<json::object>& items, const Intent& intent,
                                std::string_view category, std::string_view language, sdk::HostServices& host,
                                std::size_t max_items);

}  // namespace tezgah::plugins::local
