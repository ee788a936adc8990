// The tenant's own tools (Lua tools, or any tool this assistant does not know by name): a message
// calls one when it says what only that tool uses (a weight with the tool's unit, a value of one
// of its enums, a yes/no its description names) or reads like one of its `examples`, and talks
// about what the tool is for. Parameters are filled from the message by their JSON schema; a
// missing required one is asked for, and the call waits in the session for the answer.
#include "assistant.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

/// The tools other plugins of this project offer, which the assistant calls through its own intents.
bool is_builtin_tool(std::string_view name) {
    static const std::set<std::string_view> kBuiltin = {
        "get_product_info",       "list_offerings",     "get_general_info",   "search_knowledge_base",
        "check_availability",     "create_appointment", "cancel_appointment", "list_my_appointments",
        "reschedule_appointment", "handover_to_human"};
    return kBuiltin.count(name) > 0;
}

/// Folded words of the catalogue's names, with how many offerings each names.
using CatalogWords = std::map<std::string, int>;
/// The same for the whole catalogue, in the index: its words interned (the word table, words.cpp),
/// sorted, in one array rather than a tree node per word.
using CatalogIndex = std::vector<std::pair<std::string_view, int>>;
/// A word of more offerings than this names a kind ("pasta"), not one that a tool can quote.
constexpr int kOfferingsOfAName = 3;

/// One word of the message: folded, and as the customer wrote it (lower case) for arguments.
struct Word {
    std::string folded;
    std::string shown;
    bool used = false;  ///< taken by a parameter already
};

/// The message's words. A decimal point between digits is kept inside the number ("2,5 kg").
std::vector<Word> words_of(std::string_view message) {
    std::vector<Word> out;
    std::string chunk;
    auto flush = [&] {
        const auto folded = text::tokens(chunk);
        std::string shown = text::lower_tr(chunk);
        while (!shown.empty() && std::ispunct(static_cast<unsigned char>(shown.back()))) shown.pop_back();
        while (!shown.empty() && std::ispunct(static_cast<unsigned char>(shown.front()))) shown.erase(0, 1);
        if (auto apostrophe = shown.find('\''); apostrophe != std::string::npos) shown.resize(apostrophe);
        for (std::size_t k = 0; k < folded.size(); ++k)
            out.push_back({folded[k], k == 0 ? shown : folded[k]});
        chunk.clear();
    };
    for (std::size_t i = 0; i < message.size(); ++i) {
        const char c = message[i];
        const bool decimal = (c == ',' || c == '.') && i > 0 && i + 1 < message.size() &&
                             std::isdigit(static_cast<unsigned char>(message[i - 1])) &&
                             std::isdigit(static_cast<unsigned char>(message[i + 1]));
        if (decimal) {
            chunk += 'p';  // kept as one token ("2p5"), read back by number_in()
        } else if (c == ' ' || c == '\t' || c == '\n') {
            flush();
        } else {
            chunk += c;
        }
    }
    flush();
    return out;
}

/// A number a word says ("3", "2p5" for 2,5, "iki", "3kg"), with what follows its digits ("kg").
std::optional<double> number_in(std::string_view w, std::string& rest) {
    std::size_t i = 0;
    while (i < w.size() && std::isdigit(static_cast<unsigned char>(w[i]))) ++i;
    if (i == 0) {
        int n = number_word(w);
        rest.clear();
        return n > 0 ? std::optional<double>(n) : std::nullopt;
    }
    if (i > 9) return std::nullopt;  // a phone or order number, not an amount
    double value = std::stod(std::string(w.substr(0, i)));
    if (i + 1 < w.size() && w[i] == 'p' && std::isdigit(static_cast<unsigned char>(w[i + 1]))) {
        std::size_t j = i + 1;
        while (j < w.size() && std::isdigit(static_cast<unsigned char>(w[j]))) ++j;
        value = std::stod(std::string(w.substr(0, i)) + "." + std::string(w.substr(i + 1, j - i - 1)));
        i = j;
    }
    rest = std::string(w.substr(i));
    return value;
}

/// The unit a word names ("kilo", "kiloluk", "kilograms" → "kg"), or empty.
std::string unit_of(std::string_view w) {
    if (auto unit = quantity_unit(w); !unit.empty()) return unit;
    for (std::string_view suffix : {"luk", "lik", "lu", "li", "s", "lar", "ler"})
        if (w.size() > suffix.size() + 1 && w.substr(w.size() - suffix.size()) == suffix)
            if (auto unit = quantity_unit(w.substr(0, w.size() - suffix.size())); !unit.empty()) return unit;
    return {};
}

bool matches(std::string_view word, std::string_view known) { return word_match(word, known) >= 0.85; }

/// A word that says a choice's name: the name itself, or with a case ending ("uzuna", "altına",
/// "shoulders"), never a word made from it ("uzunluğum" is a length, not "uzun").
bool names_choice(std::string_view word, std::string_view name) {
    if (word == name || text::stem(word) == name) return true;
    // "omuz boyu" is "omuz hizası": the length of something measured at a part of the body.
    if (name == "hizasi" && (word == "boyu" || word == "boyunda" || word == "boyunca")) return true;
    if (word.size() > name.size() && word.size() <= name.size() + 3 && word.substr(0, name.size()) == name &&
        word[name.size()] != 'l')
        return true;
    // "bele kadar" said of one's own: "beline kadar", "omzuma" aside; the root before the dative.
    if (name.size() >= 4 && (name.back() == 'a' || name.back() == 'e')) {
        const auto root = name.substr(0, name.size() - 1);
        const auto rest = word.substr(std::min(word.size(), root.size()));
        return word.starts_with(root) && rest.size() >= 2 && rest.size() <= 3 &&
               (rest.front() == 'i' || rest.front() == 'u') && rest.back() == name.back();
    }
    return false;
}

/// Words that may say something in a description: not filler, not a number, three letters or more.
std::vector<std::string> meaningful(std::string_view utf8) {
    std::vector<std::string> out;
    for (auto& w : text::tokens(utf8))
        if (w.size() > 2 && !is_stop_word(w) && !is_cue_word(w) &&
            !std::isdigit(static_cast<unsigned char>(w[0])))
            out.push_back(std::move(w));
    return out;
}

/// An enum parameter's values and the names customers call them by. A description may name them
/// as "Title / title: value, value: tr name, tr name / en name, en name; ...": then "omuz altı"
/// reads as the value whose names hold it, and the question for it lists the names.
struct EnumParameter {
    struct Choice {
        std::string value;                              ///< sent to the tool
        std::vector<std::vector<std::string>> phrases;  ///< folded words of every name and value
        std::array<std::string, 2> label;               ///< the first name in tr, in en
    };
    std::array<std::string, 2> title;  ///< tr, en
    std::vector<Choice> choices;
};

std::string trimmed(std::string_view s) { return std::string(text::trim(s)); }

std::vector<std::string> split(std::string_view s, char by) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find(by, start);
        if (end == std::string_view::npos) end = s.size();
        if (auto part = trimmed(s.substr(start, end - start)); !part.empty()) out.push_back(part);
        start = end + 1;
    }
    return out;
}

EnumParameter enum_parameter(const json::array& values, std::string_view description) {
    EnumParameter p;
    auto phrase = [](std::string_view s) {
        std::string spaced(s);
        std::replace(spaced.begin(), spaced.end(), '-', ' ');
        return text::tokens(spaced);
    };
    // "Title / title: a, b: ... ; c, d: ..." — the title ends at the first ": " before a ';'.
    std::string_view rest = description;
    if (auto colon = description.find(": "); colon != std::string_view::npos &&
                                             description.find(';') != std::string_view::npos &&
                                             colon < description.find(';')) {
        const auto titles = split(description.substr(0, colon), '/');
        for (std::size_t k = 0; k < 2 && k < titles.size(); ++k) p.title[k] = titles[k];
        rest = description.substr(colon + 2);
    }
    for (const auto& segment :
         rest.find(';') == std::string_view::npos ? std::vector<std::string>{} : split(rest, ';')) {
        const auto colon = segment.find(':');
        if (colon == std::string::npos) continue;
        EnumParameter::Choice choice;
        for (const auto& key : split(std::string_view(segment).substr(0, colon), ',')) {
            const bool declared = std::any_of(values.begin(), values.end(), [&](const json::value& v) {
                return v.is_string() && v.get_string() == key;
            });
            if (!declared) continue;
            if (choice.value.empty()) choice.value = key;
            choice.phrases.push_back(phrase(key));
        }
        if (choice.value.empty()) continue;
        const auto languages = split(std::string_view(segment).substr(colon + 1), '/');
        for (std::size_t k = 0; k < languages.size() && k < 2; ++k) {
            const auto names = split(languages[k], ',');
            if (!names.empty()) choice.label[k] = names.front();
            for (const auto& name : names) choice.phrases.push_back(phrase(name));
        }
        p.choices.push_back(std::move(choice));
    }
    // Values the description does not name stand for themselves.
    for (const auto& v : values) {
        if (!v.is_string()) continue;
        const std::string value(v.get_string());
        const bool named = std::any_of(p.choices.begin(), p.choices.end(), [&](const auto& c) {
            return std::any_of(c.phrases.begin(), c.phrases.end(),
                               [&](const auto& ph) { return ph == phrase(value); });
        });
        if (!named) p.choices.push_back({value, {phrase(value)}, {value, value}});
    }
    return p;
}

/// One parameter of a tool's schema, as far as filling it from a message goes.
struct Parameter {
    std::string name;
    std::string type;  ///< "number", "integer", "boolean", "string"
    std::string description;
    std::vector<std::string> words;  ///< meaningful words of the description
    std::string unit;                ///< a number's unit named in the description ("kg"), or empty
    std::optional<double> minimum, maximum;
    std::optional<EnumParameter> choices;
    bool required = false;
};

std::optional<double> number_field(const json::object& o, std::string_view key) {
    if (const auto* v = o.if_contains(key); v && v->is_number()) return v->to_number<double>();
    return std::nullopt;
}

/// A tool offered in this request, read for matching: its parameters and the words it is known by.
struct ToolWords {
    std::vector<Parameter> parameters;
    std::vector<std::string> vocabulary;             ///< examples, description, parameters' descriptions
    std::vector<std::vector<std::string>> examples;  ///< each example's meaningful words
    bool examples_ask_prices = false;                ///< every example asks what something costs
    std::vector<std::string> required;               ///< the required parameters, in order
};

ToolWords tool_words(const sdk::ToolSpec& spec, const std::vector<std::string>* examples) {
    ToolWords t;
    std::set<std::string> required;
    if (const auto* r = spec.parameters.if_contains("required"); r && r->is_array())
        for (const auto& name : r->get_array())
            if (name.is_string() && required.emplace(name.get_string()).second)
                t.required.emplace_back(name.get_string());
    auto add = [&](std::vector<std::string> words) {
        t.vocabulary.insert(t.vocabulary.end(), words.begin(), words.end());
    };
    add(meaningful(spec.description));
    if (const auto* props = spec.parameters.if_contains("properties"); props && props->is_object()) {
        for (const auto& [name, schema_value] : props->get_object()) {
            if (!schema_value.is_object()) continue;
            const auto& schema = schema_value.get_object();
            Parameter p;
            p.name = std::string(name);
            if (const auto* type = schema.if_contains("type"); type && type->is_string())
                p.type = std::string(type->get_string());
            if (const auto* d = schema.if_contains("description"); d && d->is_string())
                p.description = std::string(d->get_string());
            p.words = meaningful(p.description);
            for (const auto& w : p.words)
                if (auto unit = unit_of(w); !unit.empty() && unit != "adet" && p.unit.empty()) p.unit = unit;
            p.minimum = number_field(schema, "minimum");
            p.maximum = number_field(schema, "maximum");
            if (const auto* e = schema.if_contains("enum"); e && e->is_array())
                p.choices = enum_parameter(e->get_array(), p.description);
            p.required = required.count(p.name) > 0;
            add(p.words);
            t.parameters.push_back(std::move(p));
        }
    }
    if (examples) {
        t.examples_ask_prices = !examples->empty();
        for (const auto& e : *examples) {
            t.examples.push_back(meaningful(e));
            add(t.examples.back());
            t.examples_ask_prices = t.examples_ask_prices && detect_cues(text::fold(e)).price;
        }
    }
    return t;
}

/// A value the message gives a parameter; marks the words it takes.
struct Reading {
    std::vector<Word>& words;
    const CatalogWords& catalog_words;  ///< the message's words that name offerings
    bool asks_duration = false;         ///< "ne kadar sürer", "how long"

    /// The word at `k` is said of a time: "how long", "uzun süre", "long time".
    bool about_time(std::size_t k) const {
        if (k > 0 && words[k - 1].folded == "how") return true;
        if (k + 1 >= words.size()) return false;
        const auto& next = words[k + 1].folded;
        return next.starts_with("sur") || next == "time" || next == "zaman" || next == "while";
    }

    bool matches_any(std::string_view w, const std::vector<std::string>& known) const {
        return std::any_of(known.begin(), known.end(), [&](const auto& k) { return matches(w, k); });
    }

    /// "2 kg", "iki kilo", "3 kiloluk", "2,5 kg"; a bare number only when `bare` (the answer to
    /// "how many kilos?") or when the parameter names no unit.
    std::optional<double> number(const Parameter& p, bool bare) {
        for (std::size_t k = 0; k < words.size(); ++k) {
            if (words[k].used) continue;
            std::string rest;
            auto n = number_in(words[k].folded, rest);
            if (!n) continue;
            std::size_t last = k;
            if (k + 1 < words.size() && words[k + 1].folded == "bucuk") {  // "iki buçuk kilo"
                *n += 0.5;
                ++last;
            }
            std::string unit = unit_of(rest);
            if (unit.empty() && last + 1 < words.size()) {
                unit = unit_of(words[last + 1].folded);
                if (!unit.empty()) ++last;
            }
            const bool fits = p.unit.empty() ? (unit.empty() || unit == "adet") : unit == p.unit;
            if (!fits && !(bare && unit.empty())) continue;
            for (std::size_t j = k; j <= last; ++j) words[j].used = true;
            return n;
        }
        return std::nullopt;
    }

    /// The choice whose longest name the message says ("çok uzun" over "uzun", "omuz altı").
    std::optional<std::string> choice(const EnumParameter& e) {
        const EnumParameter::Choice* best = nullptr;
        std::vector<std::size_t> best_at;
        for (const auto& c : e.choices)
            for (const auto& phrase : c.phrases) {
                if (phrase.empty() || (best && phrase.size() <= best_at.size())) continue;
                auto at = find_phrase(phrase);
                if (at.empty()) continue;
                best = &c;
                best_at = std::move(at);
            }
        if (!best) return std::nullopt;
        for (auto k : best_at) words[k].used = true;
        return best->value;
    }

    /// Where the words of `phrase` stand in a row in the message; empty when they do not. A
    /// single word about time is no value: "how long does it take", "ne kadar uzun sürer",
    /// "uzun süre kalır".
    std::vector<std::size_t> find_phrase(const std::vector<std::string>& phrase) const {
        for (std::size_t k = 0; k + phrase.size() <= words.size(); ++k) {
            bool all = true;
            for (std::size_t j = 0; j < phrase.size() && all; ++j)
                all = !words[k + j].used && names_choice(words[k + j].folded, phrase[j]);
            if (!all) continue;
            if (phrase.size() == 1 && (asks_duration || about_time(k))) continue;
            std::vector<std::size_t> at;
            for (std::size_t j = 0; j < phrase.size(); ++j) at.push_back(k + j);
            return at;
        }
        return {};
    }

    /// True when the message says what the description names ("fotoğraflı" for "photo ... /
    /// fotoğraf"), and not its absence ("fotoğrafsız", "no photo").
    std::optional<bool> yes_no(const Parameter& p) {
        for (std::size_t k = 0; k < words.size(); ++k) {
            const auto& w = words[k].folded;
            if (words[k].used || w.size() < 4 || catalog_words.count(w) || !matches_any(w, p.words)) continue;
            words[k].used = true;
            const bool without =
                w.ends_with("siz") || w.ends_with("suz") ||
                (k > 0 && (words[k - 1].folded == "no" || words[k - 1].folded == "without")) ||
                (k + 1 < words.size() &&
                 (words[k + 1].folded == "yok" || words[k + 1].folded.starts_with("olmasin") ||
                  words[k + 1].folded.starts_with("istemiyor")));
            return !without;
        }
        return std::nullopt;
    }

    /// The words that name something in the catalogue, as the customer wrote them ("çikolatalı
    /// pasta"), leaving out words other parameters describe ("saç" of "saç uzunluğu"). Words that
    /// only name a kind ("pasta", "cake": every cake) name nothing to quote: none then.
    std::optional<std::string> name(const std::vector<const Parameter*>& others) {
        std::string out;
        bool names_few = false;
        // "doğum günü için": what it is for, not which one ("doğum günü pastası" is another cake).
        std::vector<bool> purpose(words.size(), false);
        for (std::size_t k = 1; k < words.size(); ++k)
            if (words[k].folded == "icin")
                for (std::size_t j = k; j-- > 0 && catalog_words.count(words[j].folded);) purpose[j] = true;
        // "tüm boya uzun saç ve fön": of several items joined by "ve", the one said with the
        // tool's values ("uzun") is the one the tool is asked about.
        std::vector<int> clause(words.size(), 0);
        std::set<int> valued;
        for (std::size_t k = 0; k < words.size(); ++k) {
            const bool joins = words[k].folded == "ve" || words[k].folded == "and";
            clause[k] = (k > 0 ? clause[k - 1] : 0) + (joins ? 1 : 0);
            if (words[k].used) valued.insert(clause[k]);
        }
        if (clause.empty() || clause.back() == 0) valued.clear();
        for (std::size_t k = 0; k < words.size(); ++k)
            if (!valued.empty() && !valued.count(clause[k])) purpose[k] = true;
        for (std::size_t k = 0; k < words.size(); ++k) {
            auto& w = words[k];
            const auto named = catalog_words.find(w.folded);
            if (w.used || purpose[k] || is_stop_word(w.folded) || is_cue_word(w.folded) ||
                named == catalog_words.end())
                continue;
            if (std::any_of(others.begin(), others.end(),
                            [&](const Parameter* o) { return matches_any(w.folded, o->words); }))
                continue;
            w.used = true;
            names_few = names_few || named->second <= kOfferingsOfAName;
            out += (out.empty() ? "" : " ") + w.shown;
        }
        return names_few ? std::optional<std::string>(out) : std::nullopt;
    }
};

/// The folded words of every offering's names, aliases (all languages) and category, with their
/// stems (so that "pastası" finds "pasta"): how many offerings each names.
CatalogIndex catalog_words_of(sdk::HostServices& host) {
    std::map<std::string_view, int> counts;
    // Read where the host holds them (no copy of the catalogue per tenant loaded); a copy otherwise.
    std::vector<sdk::Offering> copy;
    const auto* offerings = host.catalog().held();
    if (offerings == nullptr) offerings = &(copy = host.catalog().all());
    for (const auto& o : *offerings) {
        std::set<std::string> own;
        auto add = [&](std::string_view s) {
            for (const auto& w : text::tokens(s)) {
                own.insert(w);
                own.insert(text::stem(w));
            }
        };
        add(o.name);
        add(o.category);
        for (const auto& a : o.aliases) add(a);
        for (const auto& [language, t] : o.translations) {
            add(t.name);
            for (const auto& a : t.aliases) add(a);
        }
        for (const auto& w : own) ++counts[intern(w)];
    }
    return {counts.begin(), counts.end()};
}

/// How many offerings `w` names (as written or by its stem); 0 for none.
int offerings_named(const CatalogIndex& catalog, std::string_view w) {
    auto count = [&](std::string_view word) {
        const auto it =
            std::lower_bound(catalog.begin(), catalog.end(), word,
                             [](const auto& entry, std::string_view x) { return entry.first < x; });
        return it != catalog.end() && it->first == word ? it->second : 0;
    };
    if (const int n = count(w)) return n;
    return count(text::stem(w));
}

/// The message's words that name something in the catalogue, with how many offerings each names.
CatalogWords catalog_words_in(const std::vector<Word>& words, const CatalogIndex& catalog) {
    CatalogWords out;
    for (const auto& w : words)
        if (int n = offerings_named(catalog, w.folded)) out[w.folded] = n;
    return out;
}

/// The parameters only this tool uses (numbers, choices, yes/no) that the message gives, added to
/// `arguments`; `asked` is the parameter the customer was just asked for (a bare "3" answers
/// "how many kilos?"). Returns how many it found.
int fill_own_values(const ToolWords& tool, std::vector<Word>& words, const CatalogWords& catalog_words,
                    json::object& arguments, std::string_view asked) {
    std::string folded;
    for (const auto& w : words) folded += (folded.empty() ? "" : " ") + w.folded;
    Reading read{words, catalog_words, detect_cues(folded).duration};
    int specific = 0;
    for (const auto& p : tool.parameters) {
        if (p.choices) {
            if (auto v = read.choice(*p.choices)) {
                arguments[p.name] = *v;
                ++specific;
            }
        } else if (p.type == "number" || p.type == "integer") {
            if (auto n = read.number(p, asked == p.name)) {
                if (p.type == "integer") *n = std::round(*n);
                const bool in_range = (!p.minimum || *n >= *p.minimum) && (!p.maximum || *n <= *p.maximum);
                if (in_range) {
                    if (p.type == "integer")
                        arguments[p.name] = static_cast<std::int64_t>(*n);
                    else
                        arguments[p.name] = *n;
                }
                ++specific;  // out of range: asked again, with the range
            }
        } else if (p.type == "boolean") {
            if (auto b = read.yes_no(p)) {
                arguments[p.name] = *b;
                ++specific;
            }
        }
    }
    return specific;
}

/// The text parameters the message gives (names of offerings), added to `arguments`.
void fill_names(const ToolWords& tool, std::vector<Word>& words, const CatalogWords& catalog_words,
                json::object& arguments) {
    Reading read{words, catalog_words};
    for (const auto& p : tool.parameters) {
        if (p.type != "string" || p.choices || arguments.contains(p.name)) continue;
        std::vector<const Parameter*> others;
        for (const auto& o : tool.parameters)
            if (&o != &p) others.push_back(&o);
        if (auto name = read.name(others)) arguments[p.name] = *name;
    }
}

/// How much of the message is about `tool`: its words that the tool's examples or descriptions
/// use (beyond the parameters' values), and the best share of an example's words it says.
struct Relevance {
    int vocabulary = 0;  ///< message words the tool's texts use
    int tool_only = 0;   ///< of those, words no offering is called by ("sipariş", "order")
    double example = 0;  ///< the best share of one example's words the message says
    /// The best share of one example's words the message says, leaving out the example's values
    /// ("3 kiloluk", "meyveli", "fotoğraflı"): "pasta sipariş etmek istiyorum" reads like "3
    /// kiloluk meyveli pasta sipariş vermek istiyorum" with its values still to be asked.
    double frame = 0;
    bool names_only_its_own = true;  ///< every word naming offerings is one the tool's texts use
};

Relevance relevance(const ToolWords& tool, const std::vector<Word>& words, const CatalogIndex& catalog) {
    // A choice's name left unused was said of something else ("ne kadar uzun sürer").
    auto names_a_choice = [&](std::string_view w) {
        return std::any_of(tool.parameters.begin(), tool.parameters.end(), [&](const Parameter& p) {
            return p.choices &&
                   std::any_of(p.choices->choices.begin(), p.choices->choices.end(), [&](const auto& c) {
                       return std::any_of(c.phrases.begin(), c.phrases.end(), [&](const auto& phrase) {
                           return phrase.size() == 1 && names_choice(w, phrase.front());
                       });
                   });
        });
    };
    Relevance r;
    std::vector<std::string> said;
    for (const auto& w : words) {
        if (w.used || w.folded.size() <= 2 || is_stop_word(w.folded) || is_cue_word(w.folded)) continue;
        if (names_a_choice(w.folded)) continue;
        said.push_back(w.folded);
        const bool names_offerings = offerings_named(catalog, w.folded) > 0;
        if (std::none_of(tool.vocabulary.begin(), tool.vocabulary.end(),
                         [&](const auto& v) { return matches(w.folded, v); })) {
            r.names_only_its_own = r.names_only_its_own && !names_offerings;
            continue;
        }
        ++r.vocabulary;
        if (!names_offerings && unit_of(w.folded).empty()) ++r.tool_only;
    }
    auto is_said = [&](const std::string& e) {
        return std::any_of(said.begin(), said.end(), [&](const auto& s) { return matches(s, e); });
    };
    // A word of an example that gives a value: a unit, a choice, a yes/no the tool describes, or
    // a word naming few offerings (the one the example asks about).
    auto is_value = [&](const std::string& e) {
        if (!unit_of(e).empty() || names_a_choice(e)) return true;
        const int named = offerings_named(catalog, e);
        if (named > 0 && named <= kOfferingsOfAName) return true;
        return std::any_of(tool.parameters.begin(), tool.parameters.end(), [&](const Parameter& p) {
            return p.type == "boolean" &&
                   std::any_of(p.words.begin(), p.words.end(), [&](const auto& d) { return matches(e, d); });
        });
    };
    for (const auto& example : tool.examples) {
        if (example.empty()) continue;
        const auto hit = std::count_if(example.begin(), example.end(), is_said);
        r.example = std::max(r.example, static_cast<double>(hit) / static_cast<double>(example.size()));
        std::size_t frame_words = 0, frame_hits = 0;
        for (const auto& e : example) {
            if (is_value(e)) continue;
            ++frame_words;
            frame_hits += is_said(e) ? 1 : 0;
        }
        if (frame_words >= 2)
            r.frame = std::max(r.frame, static_cast<double>(frame_hits) / static_cast<double>(frame_words));
    }
    return r;
}

/// The required parameters `arguments` lacks, in the order the schema's `required` names them
/// (the order of its properties may differ from one load to the next).
std::vector<std::string> missing_of(const ToolWords& tool, const json::object& arguments) {
    std::vector<std::string> out;
    for (const auto& name : tool.required)
        if (!arguments.contains(name) && std::any_of(tool.parameters.begin(), tool.parameters.end(),
                                                     [&](const Parameter& p) { return p.name == name; }))
            out.push_back(name);
    return out;
}

std::string number_text(double n) {
    std::ostringstream out;
    out << n;
    return out.str();
}

}  // namespace

struct ToolIndex {
    CatalogIndex catalog_words;  ///< every word of the catalogue's names: how many offerings it names

    /// `spec` read for matching, once per tool: an instance serves one version of the tenant, whose
    /// tools and their examples do not change.
    std::shared_ptr<const ToolWords> words_of_tool(const sdk::ToolSpec& spec,
                                                   const std::vector<std::string>* examples) const {
        std::lock_guard lock(mutex);
        auto& words = tools[spec.name];
        if (!words) words = std::make_shared<const ToolWords>(tool_words(spec, examples));
        return words;
    }

private:
    mutable std::mutex mutex;
    mutable std::map<std::string, std::shared_ptr<const ToolWords>> tools;
};

std::shared_ptr<const ToolIndex> index_tools(sdk::HostServices& host) {
    auto index = std::make_shared<ToolIndex>();
    index->catalog_words = catalog_words_of(host);
    return index;
}

namespace {

using ExamplesOf = std::function<const std::vector<std::string>*(const std::string&)>;

/// The call waiting in the session for the parameter asked last turn, completed with what
/// `message` says; none when the message does not give that parameter.
std::optional<ToolRequest> complete_pending(const sdk::ProviderRequest& request, std::string_view message,
                                            const ToolIndex& index, const ExamplesOf& examples_of) {
    const auto* pending = request.session.if_contains("pending_tool");
    if (!pending || !pending->is_object()) return std::nullopt;
    const auto& p = pending->get_object();
    const auto* name = p.if_contains("tool");
    const auto* arguments = p.if_contains("arguments");
    const auto* asked = p.if_contains("asked");
    if (!name || !name->is_string() || !arguments || !arguments->is_object() || !asked || !asked->is_string())
        return std::nullopt;
    const auto spec = std::find_if(request.tools.begin(), request.tools.end(),
                                   [&](const auto& t) { return t.name == name->get_string(); });
    if (spec == request.tools.end()) return std::nullopt;
    const auto tool_ptr = index.words_of_tool(*spec, examples_of(spec->name));
    const ToolWords& tool = *tool_ptr;
    auto words = words_of(message);
    const auto catalog_words = catalog_words_in(words, index.catalog_words);
    json::object filled = arguments->get_object();
    fill_own_values(tool, words, catalog_words, filled, asked->get_string());
    fill_names(tool, words, catalog_words, filled);
    if (!filled.contains(asked->get_string())) return std::nullopt;
    auto missing = missing_of(tool, filled);
    return ToolRequest{spec->name, std::move(filled), std::move(missing), &*spec};
}

/// Every word of `name` is one the tool's texts use ("balayage", "fruit cake"; not "fıstıklı
/// baklava" for a cake quote).
bool tool_names(const ToolWords& tool, const std::string& name, const CatalogIndex& catalog) {
    const auto words = text::tokens(name);
    auto known = [&](const std::string& w) {
        return std::any_of(tool.vocabulary.begin(), tool.vocabulary.end(),
                           [&](const auto& v) { return matches(w, v); });
    };
    // Every word that names few offerings ("keratin" of "keratin bakımı"), and one word at least.
    return std::any_of(words.begin(), words.end(), known) &&
           std::all_of(words.begin(), words.end(), [&](const std::string& w) {
               const int named = offerings_named(catalog, w);
               return named == 0 || named > kOfferingsOfAName || known(w);
           });
}

/// The tenant tool `message` asks for most clearly, with what it gives of its parameters. A
/// message that gives only the tool's own values ("my hair is long", "3 kg please") takes the
/// offering from `previous`, the customer's message before, when the tool is about that one
/// ("balayage price please", "I'd like a fruit cake").
std::optional<ToolRequest> best_tool(const sdk::ProviderRequest& request, std::string_view message,
                                     std::string_view previous, const ToolIndex& index,
                                     const ExamplesOf& examples_of) {
    std::optional<ToolRequest> best;
    double best_score = 0;
    const auto message_words = words_of(message);
    const auto catalog_words = catalog_words_in(message_words, index.catalog_words);
    // "uzun saç için hangi şampuan": another kind of question than a price tool's examples ask.
    const auto cues = detect_cues(text::fold(message));
    const bool asks_other_than_price =
        !cues.price && (cues.list || cues.stock || cues.details || cues.duration);
    const auto said = text::tokens(text::fold(message));
    const bool asks_yes_no =
        std::any_of(said.begin(), said.end(),
                    [](const auto& w) { return w == "mi" || w == "mu" || w == "midir" || w == "mudur"; }) ||
        (!said.empty() &&
         (said.front() == "is" || said.front() == "are" || said.front() == "does" || said.front() == "do"));
    const bool states_a_wish =
        !cues.price && !cues.stock && !cues.details && !cues.duration && !cues.list && !cues.restock &&
        message.find('?') == std::string_view::npos &&
        std::none_of(said.begin(), said.end(), [](const auto& w) {
            return w == "mi" || w == "mu" || w == "misiniz" || w == "musunuz" || w == "do" || w == "can";
        });
    for (const auto& spec : request.tools) {
        if (is_builtin_tool(spec.name)) continue;
        const auto tool_ptr = index.words_of_tool(spec, examples_of(spec.name));
        const ToolWords& tool = *tool_ptr;
        if (tool.examples_ask_prices && asks_other_than_price) continue;
        auto words = message_words;  // each tool marks the words its parameters take
        json::object arguments;
        const int specific = fill_own_values(tool, words, catalog_words, arguments, {});
        auto r = relevance(tool, words, index.catalog_words);
        fill_names(tool, words, catalog_words, arguments);
        if (specific > 0 && !previous.empty() && !missing_of(tool, arguments).empty()) {
            auto before = words_of(previous);
            json::object borrowed = arguments;
            fill_names(tool, before, catalog_words_in(before, index.catalog_words), borrowed);
            const bool about_it = std::all_of(borrowed.begin(), borrowed.end(), [&](const auto& kv) {
                return arguments.contains(kv.key()) || !kv.value().is_string() ||
                       tool_names(tool, std::string(kv.value().get_string()), index.catalog_words);
            });
            if (borrowed.size() > arguments.size() && about_it) {
                arguments = std::move(borrowed);
                ++r.vocabulary;
            }
        }
        // Something only this tool uses (a value of its own, or a word like "order" in a message
        // that reads like one of its examples), and the message talks about what the tool is for.
        // A wish said in an example's words with its values left out ("pasta sipariş etmek
        // istiyorum"), not a question about it ("pasta siparişi alıyor musunuz?").
        const bool wish = states_a_wish && r.names_only_its_own && r.vocabulary >= 2 &&
                          (r.tool_only > 0 ? r.frame >= 0.6 : r.frame >= 0.99);
        const bool says_its_own = specific > 0 || (r.tool_only > 0 && r.example >= 0.6) || wish;
        if (!says_its_own || r.vocabulary == 0) continue;
        const double score = specific + r.vocabulary + r.example;
        if (score <= best_score) continue;
        best_score = score;
        auto missing = missing_of(tool, arguments);
        // "uzun saçlarda fiyat farkı var mı": a yes/no question naming no offering is answered
        // from what the business says, not with the tool's question back.
        const bool names_missing = std::any_of(missing.begin(), missing.end(), [&](const std::string& m) {
            return std::any_of(tool.parameters.begin(), tool.parameters.end(), [&](const Parameter& p) {
                return p.name == m && p.type == "string" && !p.choices;
            });
        });
        if (names_missing && asks_yes_no) continue;
        best = ToolRequest{spec.name, std::move(arguments), std::move(missing), &spec};
    }
    return best;
}

}  // namespace

std::optional<ToolRequest> read_tool_request(const sdk::ProviderRequest& request, const ToolIndex& index) {
    const sdk::Message* current = nullptr;
    for (auto it = request.messages.rbegin(); it != request.messages.rend() && !current; ++it)
        if (it->role == sdk::Role::user) current = &*it;
    if (!current) return std::nullopt;
    const ExamplesOf examples_of = [&](const std::string& name) -> const std::vector<std::string>* {
        auto it = request.tool_examples.find(name);
        return it == request.tool_examples.end() ? nullptr : &it->second;
    };
    if (auto call = complete_pending(request, current->text, index, examples_of)) return call;
    // The customer's message before this one, unless a tool answered it: a call answered is not
    // changed by the next message.
    std::string_view previous;
    const auto* topic = request.session.if_contains("last_topic");
    if (!(topic && topic->is_string() && topic->get_string() == "tool")) {
        bool past_current = false;
        for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
            if (it->role != sdk::Role::user) continue;
            if (past_current) {
                previous = it->text;
                break;
            }
            past_current = &*it == current;
        }
    }
    return best_tool(request, current->text, previous, index, examples_of);
}

std::string ask_for_parameter(const ToolRequest& call, std::string_view language) {
    const auto tool = tool_words(*call.spec, nullptr);
    const bool en = language == "en";
    const auto it = std::find_if(tool.parameters.begin(), tool.parameters.end(),
                                 [&](const auto& p) { return p.name == call.missing.front(); });
    if (it == tool.parameters.end()) return {};
    const Parameter& p = *it;
    if (p.choices) {
        const int k = en ? 1 : 0;
        std::string options;
        std::set<std::string> seen;
        for (const auto& c : p.choices->choices) {
            const std::string& label = c.label[k].empty() ? c.value : c.label[k];
            if (!seen.insert(label).second) continue;
            options += (options.empty() ? "" : ", ") + label;
        }
        std::string title = p.choices->title[k];
        if (title.empty()) title = en ? "Which one" : "Hangisi";
        title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
        return title + ": " + options + "?";
    }
    if (p.type == "number" || p.type == "integer") {
        std::string range;
        if (p.minimum && p.maximum)
            range = " (" + number_text(*p.minimum) + "-" + number_text(*p.maximum) +
                    (p.unit.empty() ? "" : " " + p.unit) + ")";
        if (p.unit == "kg") return (en ? "How many kilograms?" : "Kaç kilo olsun?") + range;
        if (!p.unit.empty() && p.unit != "adet")
            return (en ? "How many " + p.unit + "?" : "Kaç " + p.unit + " olsun?") + range;
        return (en ? "How many?" : "Kaç tane olsun?") + range;
    }
    // A name or free text: a description written "Title / Title: Turkish examples / English
    // examples" gives the question in each language; another is shown as it is.
    const auto colon = p.description.find(": ");
    const auto titles = split(std::string_view(p.description).substr(0, colon), '/');
    if (colon != std::string::npos && titles.size() == 2) {
        const auto options = split(std::string_view(p.description).substr(colon + 2), '/');
        const std::size_t k = en && options.size() > 1 ? 1 : 0;
        return titles[en ? 1 : 0] + (options.empty() ? "" : ": " + options[k]) + "?";
    }
    // "the service, e.g. 'balyaj', 'tüm boya'": its quoted examples, in either language.
    std::vector<std::string> quoted;
    for (std::size_t open = p.description.find('\''); open != std::string::npos;) {
        const auto close = p.description.find('\'', open + 1);
        if (close == std::string::npos) break;
        quoted.push_back(p.description.substr(open + 1, close - open - 1));
        open = p.description.find('\'', close + 1);
    }
    if (!quoted.empty()) {
        std::string list;
        for (const auto& q : quoted) list += (list.empty() ? "" : ", ") + q;
        return (en ? "Which one? (e.g. " : "Hangisi? (ör. ") + list + ")";
    }
    return (en ? "Which one? (" : "Hangisi? (") + p.description + ")";
}

std::string render_tool_result(const sdk::ToolResult* result, std::string_view language) {
    const bool en = language == "en";
    if (!result || !result->ok)
        return en ? "Sorry, I could not work that out just now; please ask us directly."
                  : "Üzgünüm, bunu şu an hesaplayamadım; lütfen bize doğrudan sorun.";
    if (const auto* o = result->content.if_object()) {
        if (const auto* message = o->if_contains("message"); message && message->is_string())
            return std::string(message->get_string());
        // No message of its own: the result's fields, one per sentence part.
        std::string out;
        for (const auto& [key, value] : *o) {
            std::string shown = value.is_string() ? std::string(value.get_string()) : json::serialize(value);
            std::string name(key);
            std::replace(name.begin(), name.end(), '_', ' ');
            out += (out.empty() ? "" : "; ") + name + ": " + shown;
        }
        return out.empty() ? std::string() : out + ".";
    }
    if (const auto* s = result->content.if_string()) return std::string(*s);
    return json::serialize(result->content);
}

bool is_tenant_tool(std::string_view name) { return !is_builtin_tool(name); }

}  // namespace tezgah::plugins::local
