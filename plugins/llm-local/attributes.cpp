// An offering's own facts: the size chart of the knowledge base read against the number a
// customer wears, and attribute questions ("simitte susam var mı", "is the robe cotton") answered
// from that offering's attributes. Attribute keys are the tenant's own words, so a small
// vocabulary maps question words onto them and the keys' own words work as they are.
#include "attributes.hpp"
#include "fields.hpp"

#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cctype>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.rfind(p, 0) == 0; }

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

/// The keys the size questions of replies.cpp already answer ("S beden var mı").
bool is_size_key(std::string_view key) { return key == "beden" || key == "numara"; }

/// Question words for attributes most shops have.
struct Concept {
    std::string_view key_start;  ///< how such a key begins ("alerjen")
    std::initializer_list<std::string_view> prefixes;
    std::initializer_list<std::string_view> phrases;
};
const Concept kConcepts[] = {
    {"kumas", {"kumas", "materyal", "malzeme", "fabric", "material", "neyden"}, {"made of", "made from"}},
    {"renk", {"renk", "reng", "colour", "color"}, {}},
    {"alerjen", {"alerj", "allerg", "icerik", "ingredient"}, {"icinde ne var", "ne var icinde", "whats in"}},
    {"vegan", {"vegan"}, {}},
    {"glutensiz", {"glutensiz"}, {}},
    {"gramaj", {"gramaj", "gram", "agirlik", "weigh", "heavy"}, {}},
    {"hacim", {"hacim", "volume"}, {"kac ml", "how many ml"}},
    {"yas", {"yas", "age"}, {}},
    {"sac_tip", {}, {"hair type", "sac tipi"}},
    // Turkish "geçerli" finds its key as a key word, or the knowledge base's answer.
    {"gecerlilik", {"valid"}, {}},
};

/// Attribute values in English: for questions ("sesame") and for English replies.
const std::pair<std::string_view, std::string_view> kValueNames[] = {
    {"susam", "sesame"},
    {"sut", "milk"},
    {"sut", "dairy"},
    {"yumurta", "egg"},
    {"gluten", "gluten"},
    {"findik", "hazelnut"},
    {"ceviz", "walnut"},
    {"badem", "almond"},
    {"antep fistigi", "pistachio"},
    {"pamuk", "cotton"},
    {"saten", "satin"},
    {"ipek", "silk"},
    {"kadife", "velvet"},
    {"polar", "fleece"},
    {"viskon", "viscose"},
    {"havlu", "towelling"},
    {"pike", "piqué"},
    {"siyah", "black"},
    {"beyaz", "white"},
    {"kirmizi", "red"},
    {"mavi", "blue"},
    {"lacivert", "navy"},
    {"gri", "grey"},
    {"pembe", "pink"},
    {"sari", "yellow"},
    {"krem", "cream"},
    {"bordo", "burgundy"},
    {"zumrut", "emerald"},
    {"pudra", "powder pink"},
    {"ten", "nude"},
    {"karisik", "mixed"},
    {"boyali", "coloured"},
    {"yipranmis", "damaged"},
    // the size of a one-size offering
    {"standart", "one size"},
};
/// What an allergen is called by the condition it causes, as a word's start ("çölyağım",
/// "laktoz intoleransım"): saying it is saying the allergy.
const std::pair<std::string_view, std::string_view> kConditions[] = {
    {"colyak", "gluten"},  {"colyag", "gluten"}, {"celiac", "gluten"},
    {"coeliac", "gluten"}, {"laktoz", "sut"},    {"lactose", "sut"},
};
/// Ingredients shops rarely list: asked about, they are not on record rather than a product
/// word ("simitte şeker var mı", "is there sugar in the sourdough?").
struct Unlisted {
    std::string_view start, tr, en;
};
const Unlisted kUnlisted[] = {
    {"seker", "şeker", "sugar"},
    {"sugar", "şeker", "sugar"},
    {"tuz", "tuz", "salt"},
    {"salt", "tuz", "salt"},
    {"tereyag", "tereyağı", "butter"},
    {"butter", "tereyağı", "butter"},
    {"katki", "katkı maddesi", "additives"},
    {"additive", "katkı maddesi", "additives"},
    {"koruyucu", "koruyucu", "preservatives"},
    {"preservative", "koruyucu", "preservatives"},
    {"soya", "soya", "soy"},
    {"palm", "palm yağı", "palm oil"},
};
const std::string_view kNuts[] = {"findik", "ceviz", "badem", "antep fistigi"};

/// How many people an offering takes is no attribute but the offering's capacity; asked like one.
constexpr std::string_view kCapacity = "kapasite";
const std::string_view kCapacityPhrases[] = {"kac kisilik", "kac kisi", "how many people", "group size",
                                             "class size"};

/// Allergens that make an offering not vegan.
bool animal_allergen(std::string_view folded) {
    return folded == "sut" || folded == "yumurta" || folded == "bal";
}

const json::object& attributes_of(const json::object& product) {
    static const json::object kEmpty;
    const auto* v = product.if_contains("attributes");
    return v && v->is_object() ? v->get_object() : kEmpty;
}

std::vector<std::string> strings_of(const json::value& v) {
    std::vector<std::string> out;
    if (v.is_string()) out.emplace_back(v.get_string());
    if (v.is_array())
        for (const auto& item : v.get_array())
            if (item.is_string()) out.emplace_back(item.get_string());
    return out;
}

/// An attribute value as the reply's language says it ("süt" → "milk").
std::string value_in(const std::string& value, std::string_view language) {
    if (language != "en") return value;
    const std::string folded = text::fold(value);
    for (const auto& [tr, en] : kValueNames)
        if (tr == folded) return std::string(en);
    return value;
}

std::string values_in(const std::vector<std::string>& values, std::string_view language) {
    std::vector<std::string> shown;
    shown.reserve(values.size());
    for (const auto& v : values) shown.push_back(value_in(v, language));
    return join_list(shown, language);
}

bool question_particle(const std::vector<std::string>& w, std::size_t k) {
    if (k + 1 >= w.size()) return false;
    const auto& p = w[k + 1];
    return p == "mi" || p == "mu" || p == "midir" || p == "mudur" || p == "misiniz";
}

/// "is the robe cotton?", "does the croissant have almonds?": an English yes/no question.
bool yes_no_question(const std::vector<std::string>& w) {
    return !w.empty() && (w[0] == "is" || w[0] == "are" || w[0] == "does" || w[0] == "do" || w[0] == "has");
}

bool condition_word(std::string_view x) {
    return std::any_of(std::begin(kConditions), std::end(kConditions),
                       [&](const auto& c) { return starts_with(x, c.first); });
}

/// "susama alerjim var", "çölyak hastasıyım", "I can't have gluten": the customer says what they
/// must not eat, so a "yes, it contains it" would read as "yes, you can".
bool says_allergy(const std::vector<std::string>& w) {
    for (std::size_t k = 0; k < w.size(); ++k) {
        const auto& x = w[k];
        if (starts_with(x, "alerj") || starts_with(x, "allerg") || starts_with(x, "intoleran") ||
            starts_with(x, "hassasiyet") || condition_word(x) || starts_with(x, "yiyemiyor") ||
            starts_with(x, "yiyemem") || starts_with(x, "dokunuyor"))
            return true;
        const bool cannot =
            x == "cant" || x == "cannot" || (x == "can" && k + 1 < w.size() && w[k + 1] == "t");
        for (std::size_t j = k + 1; cannot && j < w.size() && j <= k + 3; ++j)
            if (w[j] == "have" || w[j] == "eat") return true;
    }
    return false;
}

bool asks_contains(const std::vector<std::string>& w) {
    return says_allergy(w) || std::any_of(w.begin(), w.end(), [](const auto& x) {
               return x == "var" || x == "varmi" || starts_with(x, "icer") || starts_with(x, "icinde") ||
                      starts_with(x, "contain") || x == "has" || x == "have" || x == "with" || x == "any" ||
                      x == "without" || x == "there";
           });
}

/// The folded value a question word names ("susamlı" → "susam", "sesame" → "susam"), or empty.
std::string value_named(const std::string& w, const TenantFacts& facts) {
    if (w.size() < 3) return {};
    for (const auto& [tr, en] : kValueNames)
        if ((w == en || w == std::string(en) + "s") && facts.values.count(std::string(tr)))
            return std::string(tr);
    for (const auto& [start, value] : kConditions)
        if (starts_with(w, start) && facts.values.count(std::string(value))) return std::string(value);
    const std::string stem = w.size() >= 5 ? text::stem(w) : std::string();
    // "glutene", "yumurtaya", "cevize": a value with a case ending of up to three letters.
    auto with_case = [&](const std::string& v) {
        return v.size() >= 4 && w.size() <= v.size() + 3 && starts_with(w, v);
    };
    for (const auto& v : facts.value_words)
        if (w == v.word || w == v.word + "li" || w == v.word + "lu" || (!stem.empty() && stem == v.stem) ||
            with_case(v.word))
            return v.value;
    return {};
}

const SizeChart::Row* chart_row(const SizeChart& chart, std::string_view folded_label) {
    for (const auto& r : chart.rows)
        if (text::fold(r.label) == folded_label) return &r;
    return nullptr;
}

void read_size(const std::vector<std::string>& w, const SizeChart& chart, FactAsk& ask) {
    if (chart.empty()) return;
    int low = chart.rows.front().low, high = chart.rows.front().high;
    for (const auto& r : chart.rows) {
        low = std::min(low, r.low);
        high = std::max(high, r.high);
    }
    if (says_size_worn(w) || std::any_of(w.begin(), w.end(), [](const auto& x) {
            return starts_with(x, "beden") || starts_with(x, "numara") || x == "size";
        })) {
        for (std::size_t k = 0; k < w.size(); ++k) {
            if (!all_digits(w[k]) || w[k].size() != 2) continue;
            const int n = std::stoi(w[k]);
            if (n < low - 6 || n > high + 6) continue;
            if (k + 1 < w.size() && !quantity_unit(w[k + 1]).empty()) continue;
            ask.worn = n;
            ask.used[k] = true;
            // "38 ile 40 arası", "between 42 and 44", "40-42": a span worn.
            for (std::size_t j = k + 1; j < w.size() && j <= k + 3; ++j)
                if (all_digits(w[j]) && w[j].size() == 2 && std::stoi(w[j]) > n && std::stoi(w[j]) <= n + 4) {
                    ask.worn_to = std::stoi(w[j]);
                    for (std::size_t u = k; u <= j; ++u) ask.used[u] = true;
                    break;
                }
            for (std::size_t j = 0; j < w.size(); ++j)
                if (starts_with(w[j], "giy") || starts_with(w[j], "wear") || starts_with(w[j], "arasi") ||
                    w[j] == "between")
                    ask.used[j] = true;
            return;
        }
    }
    // "boyum 1.65 kilom 60 hangi beden", "I'm 170 cm and 65 kg, what size": the chart is by number
    // worn, so the answer gives it and asks for that number.
    const bool measures = std::any_of(w.begin(), w.end(), [](const auto& x) {
        return x == "boyum" || x == "boy" || x == "kilom" || x == "kilo" || x == "kiloyum" || x == "cm" ||
               x == "santim" || x == "kg" || x == "tall" || starts_with(x, "height") ||
               starts_with(x, "weigh") || starts_with(x, "gogus") || x == "belim" ||
               starts_with(x, "basen") || x == "chest" || x == "waist" || x == "hips" || x == "bust" ||
               starts_with(x, "olcum");
    });
    const bool asks_size = std::any_of(w.begin(), w.end(), [](const auto& x) {
        return starts_with(x, "beden") || x == "size" || x == "sizes" || starts_with(x, "olurum") ||
               x == "fit";
    });
    if (measures && asks_size) {
        ask.measured = true;
        ask.used.assign(w.size(), true);
        return;
    }
    // "M beden kaç numara?", "what number is an M?"
    const bool asks_number = std::any_of(w.begin(), w.end(), [](const auto& x) {
        return starts_with(x, "numara") || starts_with(x, "number") || starts_with(x, "karsilik") ||
               starts_with(x, "denk") || starts_with(x, "equivalent") || starts_with(x, "correspond");
    });
    if (!asks_number) return;
    for (std::size_t k = 0; k < w.size(); ++k)
        if (const auto* row = chart_row(chart, w[k])) {
            ask.label = row->label;
            ask.used[k] = true;
            return;
        }
}

void read_keys(const std::vector<std::string>& w, const TenantFacts& facts, FactAsk& ask) {
    const std::string folded = [&] {
        std::string s;
        for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
        return s;
    }();
    auto add_key = [&](const std::string& key) {
        if (std::find(ask.keys.begin(), ask.keys.end(), key) == ask.keys.end()) ask.keys.push_back(key);
    };
    // A word that also names an offering ("vegan" in "Vegan Çikolatalı Pasta") asks only as a
    // question of its own ("vegan mı", "is it vegan").
    // "250 gram baklava": a unit after a number is an amount asked for, not the item's weight.
    auto amount = [&](std::size_t k) {
        return k > 0 && (all_digits(w[k - 1]) || number_word(w[k - 1]) > 0) && kilograms_in(w[k]) > 0;
    };
    auto asking = [&](std::size_t k) {
        return !amount(k) && (!facts.naming.count(w[k]) || question_particle(w, k) ||
                              (yes_no_question(w) && k + 1 == w.size()));
    };
    for (const auto& c : kConcepts) {
        std::string key;
        for (const auto& k : facts.keys)
            if (starts_with(k, c.key_start)) key = k;
        if (key.empty()) continue;
        for (std::size_t k = 0; k < w.size(); ++k)
            if (std::any_of(c.prefixes.begin(), c.prefixes.end(),
                            [&](auto p) { return starts_with(w[k], p); }) &&
                asking(k)) {
                add_key(key);
                ask.used[k] = true;
            }
        for (auto phrase : c.phrases)
            if (has_phrase(folded, phrase)) {
                add_key(key);
                for (const auto& p : text::tokens(phrase))
                    for (std::size_t k = 0; k < w.size(); ++k)
                        if (w[k] == p) ask.used[k] = true;
            }
    }
    // "mat pilates kaç kişilik", "kontenjanı", "how many people in a group class?"
    const bool capacity_word = std::any_of(w.begin(), w.end(), [](const auto& x) {
        return starts_with(x, "kontenjan") || starts_with(x, "capacit");
    });
    if (facts.capacities &&
        (capacity_word || std::any_of(std::begin(kCapacityPhrases), std::end(kCapacityPhrases),
                                      [&](auto phrase) { return has_phrase(folded, phrase); }))) {
        add_key(std::string(kCapacity));
        for (std::size_t k = 0; k < w.size(); ++k)
            if (starts_with(w[k], "kisi") || starts_with(w[k], "kontenjan") || starts_with(w[k], "capacit") ||
                w[k] == "people" || w[k] == "size")
                ask.used[k] = true;
    }
    // A new tenant's own keys: a question word that is the key's word, or its start ("kaç ay
    // geçerli" for "gecerlilik_ay").
    for (std::size_t k = 0; k < w.size(); ++k) {
        if (ask.used[k] || w[k].size() < 4 || !asking(k)) continue;
        for (const auto& [word, key] : facts.key_words)
            if (word_match(w[k], word) >= 0.85 || (w[k].size() >= 5 && starts_with(word, w[k]))) {
                add_key(key);
                ask.used[k] = true;
            }
    }
}

/// "hangileri", "sütsüz ne var", "ne önerirsiniz", "what do you have": which offerings, not one.
bool asks_which(const std::vector<std::string>& w) {
    for (std::size_t k = 0; k < w.size(); ++k) {
        const auto& x = w[k];
        if (starts_with(x, "hangi") || x == "neler" || starts_with(x, "oner") || starts_with(x, "tavsiye") ||
            x == "which" || starts_with(x, "recommend") || starts_with(x, "suggest") ||
            (x == "ne" && k + 1 < w.size() && w[k + 1] == "var") ||
            (x == "what" && k + 2 < w.size() && w[k + 1] == "do" && w[k + 2] == "you"))
            return true;
    }
    return false;
}

/// "yıpranmış saçlar için", "for damaged hair": the value a customer needs something for.
bool for_need(const std::vector<std::string>& w, std::size_t k) {
    if (k > 0 && w[k - 1] == "for") return true;
    for (std::size_t j = k + 1; j < w.size() && j <= k + 2; ++j)
        if (w[j] == "icin") return true;
    return false;
}

/// A value of a one-value attribute asked of a named offering: "boyalı saça uygun mu", "is the
/// shampoo for damaged hair", "saten gecelikte pamuk var mı". ("do you have a shampoo for
/// coloured hair" asks for an offering instead.)
bool fits_or_holds(const std::vector<std::string>& w, std::size_t k) {
    if (k > 0 && w[k - 1] == "for" && (w[0] == "is" || w[0] == "are")) return true;
    if (k + 1 < w.size() && (w[k + 1] == "var" || w[k + 1] == "varmi") &&
        (k + 2 == w.size() || question_particle(w, k + 1)))
        return true;
    for (std::size_t j = k + 1; j < w.size() && j <= k + 2; ++j)
        if (starts_with(w[j], "uygun")) return true;
    return false;
}

/// "simitte şeker var mı": an ingredient the tenant's lists do not record. Only a tenant that
/// lists allergens is asked this way, and only a word that names no offering.
void read_unlisted(const std::vector<std::string>& w, const TenantFacts& facts, FactAsk& ask) {
    if (!asks_contains(w)) return;
    const auto key = std::find_if(facts.array_keys.begin(), facts.array_keys.end(),
                                  [](const auto& k) { return starts_with(k, "alerjen"); });
    if (key == facts.array_keys.end()) return;
    for (std::size_t k = 0; k < w.size(); ++k) {
        if (facts.naming.count(w[k])) continue;
        for (const auto& u : kUnlisted)
            if (starts_with(w[k], u.start) && w[k].size() <= u.start.size() + 3) {
                ask.unlisted = std::string(u.start);
                ask.value_key = *key;
                ask.used[k] = true;
                return;
            }
    }
}

/// The last value word asks ("does the hazelnut brownie contain nuts"): the ones before it name
/// the offering.
void read_values(const std::vector<std::string>& w, const TenantFacts& facts, FactAsk& ask) {
    for (std::size_t k = w.size(); k-- > 0;) {
        if (ask.used[k]) continue;
        // "yumurtasız mı", "is it dairy free?": asked without the value.
        const bool suffix = w[k].size() > 5 && (w[k].ends_with("siz") || w[k].ends_with("suz"));
        const bool free = k + 2 == w.size() && w[k + 1] == "free" && yes_no_question(w);
        const std::string word = suffix ? w[k].substr(0, w[k].size() - 3) : w[k];
        std::vector<std::string> values;
        if (word == "nuts" || word == "nut" || starts_with(word, "kuruyemis")) {
            for (auto nut : kNuts)
                if (facts.values.count(std::string(nut))) values.emplace_back(nut);
        } else if (auto v = value_named(word, facts); !v.empty()) {
            values.push_back(v);
        }
        if (values.empty()) continue;
        if (k + 1 < w.size() && w[k + 1] == "free" && !free) continue;  // "gluten free bread": a name
        const std::string key = facts.values.at(values.front());
        // A list ("alerjenler") is asked with "var mı", "contains"; a single value ("siyah") only
        // as a question of its own, else it picks an offering ("siyah gecelik var mı").
        const bool own_question =
            question_particle(w, k) || free || (yes_no_question(w) && k + 1 == w.size());
        const bool listing = asks_which(w);
        const bool asked =
            facts.array_keys.count(key) && !suffix
                ? own_question || asks_contains(w) || yes_no_question(w)
                : own_question || (suffix && listing) || fits_or_holds(w, k) || (listing && for_need(w, k));
        // A word of a name asks only in a question of its own ("sütsüz ne var", not "sütsüz pasta").
        // A condition ("çölyak") says the allergy even where it names an offering ("çölyak ekmeği").
        if (!asked || (facts.naming.count(w[k]) && !question_particle(w, k) && !fits_or_holds(w, k) &&
                       !(suffix && listing) && !condition_word(w[k])))
            continue;
        // "do you have almond croissant?": the value is part of the name asked for.
        // Either word may carry a suffix or a plural ("almond croissants").
        const auto named_with = [&](std::size_t a, std::size_t b) {
            return std::any_of(facts.name_pairs.begin(), facts.name_pairs.end(), [&](const auto& p) {
                return word_match(w[a], p.first) >= 0.9 && word_match(w[b], p.second) >= 0.9;
            });
        };
        if (!free && ((k + 1 < w.size() && named_with(k, k + 1)) || (k > 0 && named_with(k - 1, k))))
            continue;
        // "what do you have without milk?"
        const bool after_without = k > 0 && w[k - 1] == "without";
        ask.values = std::move(values);
        ask.value_key = key;
        ask.without = suffix || free || after_without;
        ask.listing = listing;
        ask.used[k] = true;
        if (free) ask.used[k + 1] = true;
        if (after_without) ask.used[k - 1] = true;
        // "çölyak hastasıyım", "lactose intolerant": the words of the condition say no offering.
        for (std::size_t j = k + 1; j < w.size() && j <= k + 2; ++j)
            if (starts_with(w[j], "hasta") || says_allergy({w[j]})) ask.used[j] = true;
        return;
    }
}

/// The first of a knowledge entry's sentences: its gist, said briefly.
std::string first_sentence(const std::string& answer) {
    const auto end = answer.find(". ");
    return end == std::string::npos ? answer : answer.substr(0, end + 1);
}

bool tr(std::string_view language) { return language != "en"; }

std::string unknown(const std::string& name, const std::string& key, std::string_view language,
                    sdk::HostServices& host) {
    const auto& phone = host.tenant().phone;
    return tr(language) ? name + " için " + attribute_label(key, language) + " bilgisi kayıtlarımızda yok; " +
                              phone + " numarasından sorabilirsiniz."
                        : "I don't have the " + attribute_label(key, language) + " of the " + name +
                              " on record; you can ask us on " + phone + ".";
}

/// "Evet, Simit vegan." for a flag; absent, what the allergens say of vegan and gluten-free.
std::string flag_answer(const json::object& p, const std::string& name, const std::string& key,
                        std::string_view language, sdk::HostServices& host) {
    const auto& attributes = attributes_of(p);
    const std::string label = attribute_label(key, language);
    std::optional<bool> yes;
    std::vector<std::string> because;
    if (const auto* v = attributes.if_contains(key); v && v->is_bool()) yes = v->get_bool();
    if (!yes) {
        for (const auto& [k, v] : attributes) {
            if (!starts_with(k, "alerjen")) continue;
            for (const auto& a : strings_of(v)) {
                const std::string folded = text::fold(a);
                if ((starts_with(key, "vegan") && animal_allergen(folded)) ||
                    (starts_with(key, "glutensiz") && folded == "gluten"))
                    because.push_back(a);
            }
            if (because.empty()) return unknown(name, key, language, host);
            yes = false;
        }
    }
    if (!yes) return unknown(name, key, language, host);
    const std::string why = because.empty()
                                ? ""
                                : (tr(language) ? ": " : "; it contains ") + values_in(because, language) +
                                      (tr(language) ? " içerir" : "");
    if (tr(language))
        return (*yes ? "Evet, " + name + " " + label : "Hayır, " + name + " " + label + " değil") + why + ".";
    return (*yes ? "Yes, the " + name + " is " + label : "No, the " + name + " is not " + label) + why + ".";
}

/// "Mat Pilates Grup Dersi en fazla 8 kişilik.", from the offering's capacity.
std::string capacity_answer(const json::object& p, const std::string& name, std::string_view language,
                            sdk::HostServices& host) {
    const auto o = p.contains("id") && p.at("id").is_string() ? host.catalog().get(p.at("id").get_string())
                                                              : std::nullopt;
    const auto& phone = host.tenant().phone;
    if (!o || !o->capacity)
        return tr(language)
                   ? name + " için kişi sınırı kayıtlarımızda yok; " + phone + " numarasından sorabilirsiniz."
                   : "I don't have a group size for the " + name + " on record; you can ask us on " + phone +
                         ".";
    const std::string n = std::to_string(*o->capacity);
    return tr(language) ? name + " en fazla " + n + " kişi alır."
                        : "The " + name + " takes up to " + n + " people.";
}

/// "Simit: gluten, susam içerir; vegan." / "Kadife Sabahlık: renk zümrüt."
std::string key_answer(const json::object& p, const std::string& name, const std::string& key,
                       std::string_view language, sdk::HostServices& host) {
    if (key == kCapacity) return capacity_answer(p, name, language, host);
    const auto& attributes = attributes_of(p);
    const auto* v = attributes.if_contains(key);
    if (!v || v->is_null()) {
        if (starts_with(key, "vegan") || starts_with(key, "glutensiz"))
            return flag_answer(p, name, key, language, host);
        return unknown(name, key, language, host);
    }
    if (v->is_bool()) return flag_answer(p, name, key, language, host);
    const auto values = strings_of(*v);
    const std::string shown = values.empty() ? sdk::json_text(*v) : values_in(values, language);
    if (starts_with(key, "alerjen")) {
        // Its dietary flags belong with its allergens ("; vegan").
        std::string flags;
        for (const auto& [k, f] : attributes)
            if (f.is_bool() && f.get_bool() && (starts_with(k, "vegan") || starts_with(k, "glutensiz")))
                flags += "; " + attribute_label(k, language);
        return tr(language) ? name + ": " + shown + " içerir" + flags + "."
                            : "The " + name + " contains " + shown + flags + ".";
    }
    return name + ": " + attribute_label(key, language) + " " + shown + ".";
}

/// "simitte şeker var mı": not on record, with what the list does say and where to ask.
std::string unlisted_answer(const json::object& p, const std::string& name, const Intent& intent,
                            std::string_view language, sdk::HostServices& host) {
    const auto& phone = host.tenant().phone;
    std::string listed;
    if (const auto* v = attributes_of(p).if_contains(intent.attribute_value_key); v && !v->is_null())
        listed = " (" + attribute_label(intent.attribute_value_key, language) + ": " +
                 values_in(strings_of(*v), language) + ")";
    return tr(language) ? name + " içinde " + intent.unlisted + " olup olmadığı kayıtlarımızda yok" + listed +
                              "; " + phone + " numarasından sorabilirsiniz."
                        : "Whether the " + name + " has " + intent.unlisted + " is not on record" + listed +
                              "; you can ask us on " + phone + ".";
}

/// "Evet, Simit susam içerir (alerjenler: gluten, susam)." — a clear yes or no first.
std::string value_answer(const json::object& p, const std::string& name, const Intent& intent,
                         std::string_view language, sdk::HostServices& host) {
    const auto& key = intent.attribute_value_key;
    const auto* v = attributes_of(p).if_contains(key);
    if (!v || v->is_null()) return unknown(name, key, language, host);
    const auto values = strings_of(*v);
    std::vector<std::string> found;
    for (const auto& value : values)
        if (std::any_of(intent.attribute_values.begin(), intent.attribute_values.end(),
                        [&](const auto& a) { return text::fold(a) == text::fold(value); }))
            found.push_back(value);
    const std::string label = attribute_label(key, language);
    const std::string all = label + ": " + values_in(values, language);
    std::vector<std::string> asked;
    asked.reserve(intent.attribute_values.size());
    for (const auto& a : intent.attribute_values) asked.push_back(value_in(a, language));
    const bool list = v->is_array();
    if (intent.without && list) {
        // "yumurtasız mı": yes when the list lacks it.
        if (!found.empty())
            return tr(language)
                       ? "Hayır, " + name + " " + values_in(found, language) + " içerir (" + all + ")."
                       : "No, the " + name + " contains " + values_in(found, language) + " (" + all + ").";
        return tr(language)
                   ? "Evet, " + name + " için " + label + " listesinde " + join_list(asked, language) +
                         " yok (" + all + ")."
                   : "Yes, " + join_list(asked, language) + " is not among the " + name + "'s " + all + ".";
    }
    if (!found.empty()) {
        // "susama alerjim var": a "yes" would read as "yes, you can eat it".
        if (intent.allergy)
            return tr(language)
                       ? "Dikkat: " + name + " " + values_in(found, language) + " içerir (" + all + ")."
                       : "Careful: the " + name + " contains " + values_in(found, language) + " (" + all +
                             ").";
        if (!list)
            return tr(language) ? "Evet; " + name + " için " + all + "."
                                : "Yes; the " + name + "'s " + all + ".";
        return tr(language)
                   ? "Evet, " + name + " " + values_in(found, language) + " içerir (" + all + ")."
                   : "Yes, the " + name + " contains " + values_in(found, language) + " (" + all + ").";
    }
    if (!list)
        return tr(language) ? "Hayır; " + name + " için " + all + "." : "No; the " + name + "'s " + all + ".";
    // To someone allergic a "no" could read as "no, you can't eat it": the list says it plainly.
    const std::string no = intent.allergy ? "" : (tr(language) ? "Hayır, " : "No, ");
    std::string out = tr(language)
                          ? no + name + " için " + label + " listesinde " + join_list(asked, language) +
                                " yok (" + all + ")."
                          : no + join_list(asked, language) + " is not among the " + name + "'s " + all + ".";
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));  // "Milk is not among"
    return out;
}

std::string price_text(const json::object& p, std::string_view language) {
    const auto* v = p.if_contains("price");
    if (!v || !v->is_number()) return {};
    const auto* currency = p.if_contains("currency");
    return format_price(v->to_number<double>(),
                        currency && currency->is_string() ? std::string(currency->get_string()) : "TRY",
                        language);
}

bool in_stock(const json::object& p) {
    const auto* v = p.if_contains("in_stock");
    return !v || !v->is_bool() || v->get_bool();
}

/// "Simit: 15 TL, stokta var."
std::string price_line(const json::object& p, const std::string& name, std::string_view language) {
    const std::string state = in_stock(p) ? stock_phrase(p, language)
                                          : (tr(language) ? "şu an stokta yok" : "out of stock right now");
    return name + ": " + price_text(p, language) + ", " + state + ".";
}

/// "Saten Gecelik Siyah: S ve M bedenleri var (299,99 TL, stokta var)."
std::string size_fit(const json::object& p, const std::string& name, const Intent& intent,
                     std::string_view language) {
    const auto& attributes = attributes_of(p);
    const std::string price = price_text(p, language);
    const std::string state = in_stock(p)
                                  ? stock_phrase(p, language)
                                  : (tr(language) ? "ama şu an stokta yok" : "but out of stock right now");
    // Shoe-like numbers ("38-39") are read straight; letter sizes through the chart.
    if (const auto* v = attributes.if_contains("numara")) {
        std::vector<std::string> fits;
        const auto numbers = strings_of(*v);
        for (const auto& n : numbers)
            for (const auto& part : text::tokens(n))
                if (all_digits(part) && std::stoi(part) == intent.worn) fits.push_back(n);
        if (fits.empty())
            return tr(language) ? name + ": " + std::to_string(intent.worn) +
                                      " numarası yok; numaralar: " + join_list(numbers, language) + "."
                                : "The " + name + " does not come in " + std::to_string(intent.worn) +
                                      "; sizes: " + join_list(numbers, language) + ".";
        return tr(language)
                   ? name + ": " + fits.front() + " numarası var (" + price + ", " + state + ")."
                   : "The " + name + " comes in " + fits.front() + " (" + price + ", " + state + ").";
    }
    const auto* v = attributes.if_contains("beden");
    const auto sizes = v ? strings_of(*v) : std::vector<std::string>{};
    if (sizes.empty())
        return tr(language) ? name + " için beden bilgisi yok."
                            : "I have no size information for the " + name + ".";
    if (sizes.size() == 1 &&
        (text::fold(sizes.front()) == "standart" || text::fold(sizes.front()) == "standard"))
        return tr(language) ? name + " tek beden (standart); fiyatı " + price + ", " + state + "."
                            : "The " + name + " comes in one standard size (" + price + ", " + state + ").";
    std::vector<std::string> fits;
    for (const auto& s : sizes)
        for (const auto& part : text::tokens(s))
            if (std::any_of(intent.fitting_sizes.begin(), intent.fitting_sizes.end(),
                            [&](const auto& f) { return text::fold(f) == part; }) &&
                std::find(fits.begin(), fits.end(), s) == fits.end())
                fits.push_back(s);
    if (fits.empty())
        return tr(language) ? name + " için bu beden yok; bedenleri: " + join_list(sizes, language) + "."
                            : "The " + name +
                                  " does not come in that size; sizes: " + join_list(sizes, language) + ".";
    return tr(language)
               ? name + ": " + join_list(fits, language) + (fits.size() > 1 ? " bedenleri" : " bedeni") +
                     " var (" + price + ", " + state + ")."
               : "The " + name + " comes in " + join_list(fits, language) + " (" + price + ", " + state +
                     ").";
}

std::string worn_sentence(const Intent& intent, std::string_view language) {
    const std::string n = std::to_string(intent.worn) +
                          (intent.worn_to > intent.worn ? "-" + std::to_string(intent.worn_to) : "");
    if (intent.fitting_sizes.empty())
        return tr(language) ? "Beden tablomuzda " + n + " numaranın karşılığı yok."
                            : "Our size chart has no size for " + n + ".";
    std::string sizes;
    for (const auto& s : intent.fitting_sizes)
        sizes += (sizes.empty() ? "" : (tr(language) ? " veya " : " or ")) + s;
    return tr(language) ? "Beden tablomuza göre " + n + " numara " + sizes + " bedene denk gelir."
                        : "By our size chart, a " + n + " is size " + sizes + ".";
}

/// Words of an offering's names that say what kind of thing it is, and the head of each name
/// (its last such word: "Sütyen" in "Destekli Sütyen", "Bra" in "Padded Bra").
struct KindWords {
    std::vector<std::string> words, heads;
};

KindWords kind_words(const sdk::Offering& o) {
    std::set<std::string> own_values;
    for (const auto& [key, value] : o.attributes)
        for (const auto& s : strings_of(value))
            for (auto& t : text::tokens(s)) own_values.insert(t);
    std::vector<std::string> names{o.name};
    for (const auto& [lang, t] : o.translations)
        if (!t.name.empty()) names.push_back(t.name);
    KindWords out;
    for (auto name : names) {
        if (auto bracket = name.find('('); bracket != std::string::npos) name.resize(bracket);  // "(kg)"
        std::string head;
        for (auto& t : text::tokens(name)) {
            // Counts, units and its colour or fabric say nothing of its kind.
            if (t.size() < 3 ||
                std::any_of(t.begin(), t.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
                own_values.count(t))
                continue;
            head = t;
            out.words.push_back(t);
        }
        if (!head.empty()) out.heads.push_back(head);
    }
    return out;
}

bool same_kind(const KindWords& a, const KindWords& b) {
    auto head_in = [](const KindWords& x, const KindWords& y) {
        return std::any_of(x.heads.begin(), x.heads.end(), [&](const auto& h) {
            return std::any_of(y.words.begin(), y.words.end(),
                               [&](const auto& w) { return word_match(h, w) >= 0.85; });
        });
    };
    return head_in(a, b) || head_in(b, a);
}

json::object brief_of(const sdk::Offering& o) {
    json::object b{
        {"id", o.id},       {"name", o.name},         {"type", o.type},          {"category", o.category},
        {"price", o.price}, {"currency", o.currency}, {"in_stock", o.in_stock()}};
    if (o.stock) b["stock"] = *o.stock;
    return b;
}

}  // namespace

std::string attribute_value_in(const std::string& value, std::string_view language) {
    return value_in(value, language);
}

std::vector<std::string> SizeChart::labels_for(int number, int to) const {
    std::vector<std::string> out;
    if (to > number) {
        for (const auto& r : rows)
            if (r.low <= number && to <= r.high) out.push_back(r.label);
        if (!out.empty()) return out;
        for (const auto& r : rows)
            if ((r.low <= number && number <= r.high) || (r.low <= to && to <= r.high))
                if (std::find(out.begin(), out.end(), r.label) == out.end()) out.push_back(r.label);
        return out;
    }
    for (const auto& r : rows)
        if (r.low <= number && number <= r.high) out.push_back(r.label);
    return out;
}

namespace {

/// "S: 36-38, M: 38-40, ...": a label of letters (or digits), a colon and a range, three times
/// or more in one answer.
SizeChart parse_size_chart(const std::string& answer) {
    SizeChart chart;
    for (std::size_t colon = answer.find(':'); colon != std::string::npos;
         colon = answer.find(':', colon + 1)) {
        std::size_t start = colon;
        while (start > 0 && std::isalnum(static_cast<unsigned char>(answer[start - 1]))) --start;
        const std::string label = answer.substr(start, colon - start);
        if (label.empty() || label.size() > 4) continue;
        std::size_t i = colon + 1;
        while (i < answer.size() && answer[i] == ' ') ++i;
        auto number = [&](int& out) {
            const std::size_t from = i;
            while (i < answer.size() && std::isdigit(static_cast<unsigned char>(answer[i]))) ++i;
            if (i == from || i - from > 3) return false;
            out = std::stoi(answer.substr(from, i - from));
            return true;
        };
        SizeChart::Row row{label};
        if (!number(row.low) || i >= answer.size() || answer[i] != '-') continue;
        ++i;
        if (!number(row.high) || row.high < row.low) continue;
        chart.rows.push_back(row);
    }
    if (chart.rows.size() < 3) chart.rows.clear();
    return chart;
}

}  // namespace

TenantFacts tenant_facts(const std::vector<sdk::Offering>& offerings,
                         const std::vector<sdk::KnowledgeEntry>& knowledge) {
    TenantFacts facts;
    for (const auto& e : knowledge)
        if (facts.chart.empty()) facts.chart = parse_size_chart(e.answer);
    std::set<std::string> known;  // words the knowledge base answers on its own ("sipariş")
    for (const auto& e : knowledge) {
        for (auto& w : text::tokens(e.question)) known.insert(w);
        for (const auto& k : e.keywords)
            for (auto& w : text::tokens(k)) known.insert(w);
    }
    for (const auto& o : offerings) {
        for (auto& w : text::tokens(o.name)) facts.naming.insert(intern(w));
        for (const auto& a : o.aliases)
            for (auto& w : text::tokens(a)) facts.naming.insert(intern(w));
        // "almond croissant", "susamlı simit": two words side by side in a name, any language.
        auto pairs_of = [&](const std::string& name) {
            const auto t = text::tokens(name);
            for (std::size_t k = 0; k + 1 < t.size(); ++k)
                facts.name_pairs.emplace(intern(t[k]), intern(t[k + 1]));
        };
        pairs_of(o.name);
        for (const auto& a : o.aliases) pairs_of(a);
        for (const auto& [lang, t] : o.translations) {
            pairs_of(t.name);
            for (const auto& a : t.aliases) pairs_of(a);
        }
        for (const auto& [key, value] : o.attributes) {
            if (is_size_key(key)) continue;
            facts.keys.insert(key);
            if (value.is_array()) facts.array_keys.insert(key);
            for (const auto& s : strings_of(value)) {
                const std::string folded = text::fold(s);
                if (facts.values.emplace(folded, key).second)
                    for (auto& t : text::tokens(folded))
                        if (t.size() >= 3)
                            facts.value_words.push_back(
                                {t, t.size() >= 5 ? text::stem(t) : std::string(), folded});
                facts.shown[folded] = s;
            }
            std::string spaced(key);
            std::replace(spaced.begin(), spaced.end(), '_', ' ');
            for (auto& w : text::tokens(spaced)) {
                const bool cue = detect_cues(w).any_product();
                const bool answered = std::any_of(known.begin(), known.end(),
                                                  [&](const auto& k) { return word_match(k, w) >= 0.85; });
                if (w.size() >= 4 && !is_stop_word(w) && !cue && !answered) facts.key_words[w] = key;
            }
        }
    }
    facts.capacities =
        std::any_of(offerings.begin(), offerings.end(), [](const auto& o) { return o.capacity.has_value(); });
    // The kitchen's note on allergens in general, said once beside an allergen answer.
    const bool allergens = std::any_of(facts.keys.begin(), facts.keys.end(),
                                       [](const auto& k) { return starts_with(k, "alerjen"); });
    for (const auto& e : knowledge) {
        if (!allergens || !facts.notice.empty()) break;
        bool about = starts_with(text::fold(e.id), "alerj") || starts_with(text::fold(e.category), "alerj");
        for (const auto& k : e.keywords) about = about || starts_with(text::fold(k), "alerj");
        if (!about) continue;
        facts.notice["tr"] = "Alerjen uyarısı: " + first_sentence(e.answer_in("tr"));
        facts.notice["en"] = "Allergen notice: " + first_sentence(e.answer_in("en"));
    }
    return facts;
}

bool says_size_worn(const std::vector<std::string>& w) {
    return std::any_of(w.begin(), w.end(), [](const auto& x) {
        return starts_with(x, "giyiyor") || starts_with(x, "giyer") || starts_with(x, "giydig") ||
               starts_with(x, "wear") || x == "bedenim" || x == "numaram";
    });
}

FactAsk read_fact_ask(const std::vector<std::string>& w, const TenantFacts& facts) {
    FactAsk ask;
    ask.used.assign(w.size(), false);
    read_size(w, facts.chart, ask);
    read_keys(w, facts, ask);
    // "I'm allergic to sesame": the value named is the question, its list ("alerjenler") the way
    // it was asked.
    FactAsk values = ask;
    read_values(w, facts, values);
    const bool only_its_key =
        ask.keys.empty() || (ask.keys.size() == 1 && ask.keys.front() == values.value_key);
    if (!values.values.empty() && only_its_key) {
        values.allergy = !ask.keys.empty() || says_allergy(w);
        values.keys.clear();
        return values;
    }
    if (!ask.any()) read_unlisted(w, facts, ask);
    return ask;
}

void apply_fact_ask(Intent& intent, const FactAsk& ask, const TenantFacts& facts, std::string_view language) {
    intent.worn = ask.worn;
    intent.worn_to = ask.worn_to;
    intent.fitting_sizes = facts.chart.labels_for(ask.worn, ask.worn_to);
    intent.attribute_keys = ask.keys;
    intent.attribute_values.clear();
    for (const auto& v : ask.values) intent.attribute_values.push_back(facts.shown.at(v));
    intent.attribute_value_key = ask.value_key;
    intent.allergy = ask.allergy;
    intent.without = ask.without;
    intent.unlisted.clear();
    for (const auto& u : kUnlisted)
        if (!ask.unlisted.empty() && u.start == ask.unlisted)
            intent.unlisted = std::string(tr(language) ? u.tr : u.en);
    intent.size.clear();
    intent.quantity = 0;
    intent.arguments["query_type"] = "details";
    const bool allergen =
        starts_with(ask.value_key, "alerjen") ||
        std::any_of(ask.keys.begin(), ask.keys.end(), [](const auto& k) {
            return starts_with(k, "alerjen") || starts_with(k, "vegan") || starts_with(k, "gluten");
        });
    if (auto it = facts.notice.find(std::string(language)); allergen && it != facts.notice.end())
        intent.notice = it->second;
}

std::string size_chart_answer(const FactAsk& ask, const SizeChart& chart, std::string_view language,
                              std::string_view phone) {
    std::vector<std::string> rows;
    rows.reserve(chart.rows.size());
    for (const auto& r : chart.rows)
        rows.push_back(r.label + ": " + std::to_string(r.low) + "-" + std::to_string(r.high));
    if (ask.measured && ask.worn == 0) {
        std::string out =
            tr(language) ? "Beden tablomuz giydiğiniz numaraya göre: " + join_list(rows, language) +
                               ". Boy, kilo ya da vücut ölçüsüne göre bir tablomuz yok; genelde kaç numara "
                               "giydiğinizi "
                               "yazarsanız hangi bedenin uygun olduğunu söyleyebilirim."
                         : "Our size chart goes by the size number you wear: " + join_list(rows, language) +
                               ". We have no chart by height, weight or body measurements; tell me the size "
                               "number you "
                               "usually wear and I'll tell you which size fits.";
        if (!phone.empty())
            out += tr(language) ? " Dilerseniz " + std::string(phone) + " numarasından da sorabilirsiniz."
                                : " You can also call us on " + std::string(phone) + ".";
        return out;
    }
    if (!ask.label.empty())
        for (const auto& r : chart.rows)
            if (r.label == ask.label) {
                const std::string range = std::to_string(r.low) + "-" + std::to_string(r.high);
                return tr(language)
                           ? "Beden tablomuza göre " + r.label + " beden " + range + " numaraya denk gelir."
                           : "By our size chart, size " + r.label + " is " + range + ".";
            }
    Intent worn;
    worn.worn = ask.worn;
    worn.worn_to = ask.worn_to;
    worn.fitting_sizes = chart.labels_for(ask.worn, ask.worn_to);
    std::string out = worn_sentence(worn, language);
    if (worn.fitting_sizes.empty()) {
        out += (tr(language) ? " Tablomuz: " : " Our chart: ") + join_list(rows, language) + ".";
    } else {
        out += tr(language)
                   ? " Hangi ürüne baktığınızı söylerseniz o bedenin stokta olup olmadığına bakabilirim."
                   : " Tell me which item you're looking at and I'll check whether that size is in stock.";
    }
    return out;
}

std::string offerings_with(const FactAsk& ask, const std::vector<sdk::Offering>& offerings,
                           const TenantFacts& facts, std::string_view language) {
    std::vector<std::string> names, asked;
    for (const auto& v : ask.values) asked.push_back(value_in(facts.shown.at(v), language));
    for (const auto& o : offerings) {
        if (!o.available) continue;
        const auto* v = o.attributes.if_contains(ask.value_key);
        if (!v) continue;  // not on record: neither with nor without
        bool has = false;
        for (const auto& value : strings_of(*v))
            has =
                has || std::find(ask.values.begin(), ask.values.end(), text::fold(value)) != ask.values.end();
        if (has != ask.without) names.push_back(o.name_in(language));
    }
    // "fındık, ceviz veya badem": any of them.
    std::string what;
    for (std::size_t k = 0; k < asked.size(); ++k)
        what += (k == 0 ? "" : k + 1 == asked.size() ? (tr(language) ? " veya " : " or ") : ", ") + asked[k];
    const std::string label = attribute_label(ask.value_key, language);
    std::string out;
    if (names.empty())
        out = tr(language) ? label + " listesine göre " + what + (ask.without ? " içermeyen" : " içeren") +
                                 " bir ürünümüz yok."
                           : "By their " + label + ", none of our products " +
                                 (ask.without ? "is without " : "contains ") + what + ".";
    else if (tr(language))
        out = (ask.without ? label + " listesinde " + what + " olmayan ürünlerimiz: "
                           : label + " listesinde " + what + " olan ürünlerimiz: ") +
              join_list(names, language) + ".";
    else
        out = std::string(ask.without ? "Our products without " : "Our products with ") + what +
              " in their " + label + ": " + join_list(names, language) + ".";
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    if (auto it = facts.notice.find(std::string(language)); it != facts.notice.end()) out += " " + it->second;
    return out;
}

std::string render_facts(const Intent& intent, const std::vector<json::object>& products,
                         std::string_view language, sdk::HostServices& host) {
    std::vector<std::string> parts;
    // The chart speaks of letter sizes; shoe-like numbers ("38-39") answer for themselves.
    const bool lettered = std::any_of(products.begin(), products.end(), [&](const auto& p) {
        const auto o = p.contains("id") && p.at("id").is_string()
                           ? host.catalog().get(p.at("id").get_string())
                           : std::nullopt;
        return !o || !o->attributes.contains("numara");
    });
    if (intent.worn > 0 && lettered) parts.push_back(worn_sentence(intent, language));
    // "simit ne kadar, vegan mı": the price asked first is answered too.
    const auto* asked = intent.arguments.if_contains("query_type");
    const bool with_price = asked && asked->is_string() && asked->get_string() != "details";
    for (auto p : products) {
        if (p.contains("available") && p.at("available").is_bool() && !p.at("available").get_bool()) continue;
        // The also-matching ones come as briefs, without their attributes.
        if (!p.contains("attributes") && p.contains("id") && p.at("id").is_string())
            if (auto o = host.catalog().get(p.at("id").get_string())) p["attributes"] = o->attributes;
        const std::string name = name_of(p, language, host);
        if (with_price && intent.worn == 0) parts.push_back(price_line(p, name, language));
        if (intent.worn > 0) parts.push_back(size_fit(p, name, intent, language));
        if (!intent.attribute_values.empty()) parts.push_back(value_answer(p, name, intent, language, host));
        if (!intent.unlisted.empty()) parts.push_back(unlisted_answer(p, name, intent, language, host));
        for (const auto& key : intent.attribute_keys)
            parts.push_back(key_answer(p, name, key, language, host));
    }
    if (!intent.notice.empty()) parts.push_back(intent.notice);
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
    return out;
}

void remember_facts(json::object& session, const Intent& intent) {
    auto strings = [](const std::vector<std::string>& v) {
        json::array a;
        for (const auto& s : v) a.emplace_back(s);
        return a;
    };
    session["last_facts"] = json::object{{"keys", strings(intent.attribute_keys)},
                                         {"values", strings(intent.attribute_values)},
                                         {"value_key", intent.attribute_value_key},
                                         {"allergy", intent.allergy},
                                         {"without", intent.without},
                                         {"unlisted", intent.unlisted},
                                         {"notice", intent.notice}};
}

bool recall_facts(std::vector<Intent>& intents, const std::vector<std::string>& w,
                  const json::object& session) {
    // Only "peki X?", "ya X?", "and X?", "what about X?" right after a facts answer.
    const bool and_what =
        !w.empty() && (w[0] == "peki" || w[0] == "ya" || w[0] == "and" ||
                       ((w[0] == "what" || w[0] == "how") && w.size() > 1 && w[1] == "about"));
    const auto* topic = session.if_contains("last_topic");
    const auto* last = session.if_contains("last_facts");
    if (!and_what || !topic || !topic->is_string() || topic->get_string() != "product" || !last ||
        !last->is_object() || intents.empty())
        return false;
    std::string said;
    for (const auto& x : w) said += (said.empty() ? "" : " ") + x;
    if (detect_cues(said).any_product()) return false;  // "and how much is it?" asks its own
    for (const auto& i : intents)
        if (i.kind != IntentKind::product || i.picked.empty() || i.asks_facts()) return false;
    const auto& f = last->get_object();
    for (auto& i : intents) {
        i.attribute_keys = strings_of(f.contains("keys") ? f.at("keys") : json::value());
        i.attribute_values = strings_of(f.contains("values") ? f.at("values") : json::value());
        i.attribute_value_key = str(f, "value_key");
        i.allergy = flag(f, "allergy", false);
        i.without = flag(f, "without", false);
        i.unlisted = str(f, "unlisted");
        i.arguments["query_type"] = "details";
    }
    intents.back().notice = str(f, "notice");
    return true;
}

std::vector<json::object> same_kind_alternatives(const json::object& product,
                                                 const std::vector<json::object>& alternatives,
                                                 sdk::HostServices& host) {
    const auto id = product.contains("id") && product.at("id").is_string()
                        ? std::string(product.at("id").get_string())
                        : std::string();
    const auto missing = host.catalog().get(id);
    if (!missing) return alternatives;
    const KindWords kind = kind_words(*missing);
    // The tool's picks first (they matched the customer's words), then the rest of the category.
    std::vector<sdk::Offering> candidates;
    for (const auto& a : alternatives)
        if (a.contains("id") && a.at("id").is_string())
            if (auto o = host.catalog().get(a.at("id").get_string())) candidates.push_back(*o);
    for (auto& o : host.catalog().all())
        if (o.category == missing->category) candidates.push_back(std::move(o));
    std::vector<json::object> out;
    std::set<std::string> seen{missing->id};
    for (const auto& o : candidates) {
        if (!seen.insert(o.id).second || !o.in_stock() || o.type != missing->type) continue;
        if (same_kind(kind, kind_words(o))) out.push_back(brief_of(o));
    }
    return out;
}

}  // namespace tezgah::plugins::local
