// Reading a customer message: split it into questions, and for each decide what it asks about
// (a product, a category, a business fact, a knowledge-base topic) using the tenant's own data,
// with follow-ups resolved from the conversation's session ("peki bordo olanı?").
#include "assistant.hpp"
#include "attributes.hpp"
#include "fields.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <tuple>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

/// One word of a message: folded for matching, as written (lower case) for replies.
struct Word {
    std::string folded;
    std::string shown;
};
using Words = std::vector<Word>;

std::string join(const Words& words, bool shown) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        out += shown ? w.shown : w.folded;
    }
    return out;
}

std::vector<std::string> folded_of(const Words& words) {
    std::vector<std::string> out;
    for (const auto& w : words) out.push_back(w.folded);
    return out;
}

bool is_ascii_punct(char c) {
    return c == '?' || c == '!' || c == '.' || c == ',' || c == ';' || c == ':' || c == '"' || c == '(' ||
           c == ')' || c == '\'' || c == '*' || c == '-';
}

Words split_words(std::string_view segment) {
    Words out;
    std::size_t i = 0;
    while (i < segment.size()) {
        while (i < segment.size() && (segment[i] == ' ' || segment[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < segment.size() && segment[i] != ' ' && segment[i] != '\t') ++i;
        std::string_view chunk = segment.substr(start, i - start);
        while (!chunk.empty() && is_ascii_punct(chunk.front())) chunk.remove_prefix(1);
        while (!chunk.empty() && is_ascii_punct(chunk.back())) chunk.remove_suffix(1);
        if (chunk.empty()) continue;
        auto pieces = text::tokens(chunk);
        // "Gecelik'in" folds to two tokens; show the word without its suffix. An English
        // possessive ("men's") is part of the name: no Turkish suffix is a bare "s".
        std::string shown = text::lower_tr(chunk);
        if (auto apostrophe = shown.find('\'');
            apostrophe != std::string::npos && shown.substr(apostrophe) != "'s")
            shown.resize(apostrophe);
        for (std::size_t k = 0; k < pieces.size(); ++k)
            out.push_back({pieces[k], k == 0 ? shown : pieces[k]});
    }
    return out;
}

/// Words an offering's name joins with "ve" / "and" ("kesimi" and "fon" of "Kadın Saç Kesimi ve Fön").
using JoinedWords = std::set<std::pair<std::string, std::string>>;

/// Whether the "ve" / "and" at `k` joins two words of one offering's name ("a haircut and a blow
/// dry": an article between is skipped).
bool joins_a_name(const Words& words, std::size_t k, const JoinedWords& joined) {
    std::size_t next = k + 1;
    while (next < words.size() && (words[next].folded == "a" || words[next].folded == "an")) ++next;
    if (k == 0 || next >= words.size()) return false;
    return std::any_of(joined.begin(), joined.end(), [&](const auto& pair) {
        return word_match(words[k - 1].folded, pair.first) >= 0.85 &&
               word_match(words[next].folded, pair.second) >= 0.85;
    });
}

/// Questions in a message: sentences, then clauses joined by "ve", "and", "bir de", "ayrıca" (not
/// the "ve" of a name: "kadın saç kesimi ve fön ne kadar").
std::vector<Words> split_questions(std::string_view message, const JoinedWords& joined) {
    std::vector<std::string> sentences{""};
    for (std::size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        // Not the comma of "1,5 kg": between digits it is a decimal one.
        const bool decimal = c == ',' && i > 0 && i + 1 < message.size() &&
                             std::isdigit(static_cast<unsigned char>(message[i - 1])) &&
                             std::isdigit(static_cast<unsigned char>(message[i + 1]));
        bool boundary = c == '?' || c == '!' || c == ';' || c == '\n' || (c == ',' && !decimal) ||
                        (c == '.' && (i + 1 == message.size() || message[i + 1] == ' '));
        if (boundary) {
            sentences.emplace_back();
        } else if (c == '+') {
            sentences.back() += " ve ";  // "manikür + pedikür"
        } else {
            sentences.back() += c;
        }
    }
    std::vector<Words> out;
    for (const auto& s : sentences) {
        Words words = split_words(s);
        Words current;
        for (std::size_t k = 0; k < words.size(); ++k) {
            const auto& f = words[k].folded;
            // "a pass plus a massage" joins two items; "plus size" is a size.
            const bool plus = f == "plus" && !(k + 1 < words.size() && words[k + 1].folded == "size");
            bool conj = ((f == "ve" || f == "and") && !joins_a_name(words, k, joined)) || f == "ayrica" ||
                        f == "also" || plus ||
                        (f == "bir" && k + 1 < words.size() && words[k + 1].folded == "de");
            if (conj) {
                if (f == "bir") ++k;
                if (!current.empty()) out.push_back(std::move(current));
                current.clear();
                continue;
            }
            current.push_back(words[k]);
            // "sporcu sütyeni var mı iade edebilir miyim": a question particle closes a question
            // when another of two words or more follows it.
            const bool particle = f == "mi" || f == "mu" || f == "misiniz" || f == "musunuz";
            if (particle && k + 2 < words.size() && current.size() >= 2) {
                out.push_back(std::move(current));
                current.clear();
            }
        }
        if (!current.empty()) out.push_back(std::move(current));
    }
    return out;
}

/// Words of an offering, weighted by where they come from: strings for one question
/// (fit_offering), views into the word table (intern) in the index.
template <class W>
struct BasicOfferingWords {
    std::vector<std::vector<W>> names;    ///< the name in every language
    std::vector<std::vector<W>> aliases;  ///< every alias in every language
    std::vector<W> category;
    std::vector<W> attributes;  ///< string attribute values
};
using OfferingWords = BasicOfferingWords<std::string_view>;

BasicOfferingWords<std::string> words_of(const sdk::Offering& o) {
    BasicOfferingWords<std::string> w;
    w.names.push_back(text::tokens(o.name));
    for (const auto& a : o.aliases) w.aliases.push_back(text::tokens(a));
    for (const auto& [lang, t] : o.translations) {
        if (!t.name.empty()) w.names.push_back(text::tokens(t.name));
        for (const auto& a : t.aliases) w.aliases.push_back(text::tokens(a));
    }
    w.category = text::tokens(o.category);
    for (const auto& [key, value] : o.attributes) {
        if (value.is_string()) {
            for (auto& t : text::tokens(value.get_string())) w.attributes.push_back(t);
        } else if (value.is_array()) {
            for (const auto& item : value.get_array())
                if (item.is_string())
                    for (auto& t : text::tokens(item.get_string())) w.attributes.push_back(t);
        }
    }
    return w;
}

/// The index's form of `w`: every word interned, no spare capacity.
OfferingWords interned(const BasicOfferingWords<std::string>& w) {
    OfferingWords out;
    out.names.reserve(w.names.size());
    for (const auto& n : w.names) out.names.push_back(intern_all(n));
    out.aliases.reserve(w.aliases.size());
    for (const auto& a : w.aliases) out.aliases.push_back(intern_all(a));
    out.category = intern_all(w.category);
    out.attributes = intern_all(w.attributes);
    return out;
}

/// Words of the tenant's English texts that none of its Turkish texts use.
std::set<std::string_view> english_words_of(const std::vector<sdk::Offering>& offerings,
                                            const std::vector<sdk::KnowledgeEntry>& knowledge) {
    std::set<std::string, std::less<>> english, turkish;
    auto add = [](std::set<std::string, std::less<>>& to, const std::string& text) {
        for (auto& w : text::tokens(text))
            if (w.size() >= 3 && !is_stop_word(w)) to.insert(std::move(w));
    };
    for (const auto& o : offerings) {
        add(turkish, o.name);
        add(turkish, o.description);
        for (const auto& a : o.aliases) add(turkish, a);
        if (auto t = o.translations.find("en"); t != o.translations.end()) {
            add(english, t->second.name);
            add(english, t->second.description);
            for (const auto& a : t->second.aliases) add(english, a);
        }
    }
    for (const auto& e : knowledge) {
        add(turkish, e.question);
        add(turkish, e.answer);
        if (auto t = e.translations.find("en"); t != e.translations.end()) {
            add(english, t->second.question);
            add(english, t->second.answer);
        }
    }
    std::set<std::string_view> only_english;
    for (const auto& w : english)
        if (!turkish.contains(w)) only_english.insert(intern(w));
    return only_english;
}

/// "07:30" somewhere in `text`.
bool gives_time_of_day(std::string_view text) {
    auto digit = [&](std::size_t i) { return std::isdigit(static_cast<unsigned char>(text[i])) != 0; };
    for (std::size_t i = 2; i + 2 < text.size(); ++i)
        if (text[i] == ':' && digit(i - 2) && digit(i - 1) && digit(i + 1) && digit(i + 2)) return true;
    return false;
}

template <class W>
double best_in(std::string_view q, const std::vector<W>& words) {
    double best = 0;
    for (const auto& w : words) best = std::max(best, word_match(q, w));
    return best;
}

template <class W>
double covered_share(const std::vector<W>& target, const std::vector<std::string>& query) {
    if (target.empty()) return 0;
    int covered = 0;
    for (const auto& t : target)
        if (std::any_of(query.begin(), query.end(), [&](const auto& q) { return word_match(q, t) >= 0.75; }))
            ++covered;
    return static_cast<double>(covered) / static_cast<double>(target.size());
}

struct Category {
    std::string name;
    std::vector<std::string> words;  ///< folded words naming it, both languages
    std::string only_offering;       ///< the id of its one offering, when it holds one
};

/// Categories with the words that name them: their own name, known English synonyms, and words
/// most of their offerings' translated names share ("nightgown") that no other category uses.
std::vector<Category> categories_of(const std::vector<sdk::Offering>& offerings) {
    std::map<std::string, std::vector<const sdk::Offering*>> by_category;
    for (const auto& o : offerings)
        if (o.available) by_category[o.category].push_back(&o);
    std::map<std::string, std::set<std::string>> word_categories;
    std::map<std::string, std::map<std::string, int>> word_counts;
    for (const auto& [cat, items] : by_category)
        for (const auto* o : items)
            for (const auto& [lang, t] : o->translations) {
                std::set<std::string> seen;
                for (auto& w : text::tokens(t.name)) seen.insert(text::stem(w));
                for (const auto& w : seen) {
                    word_categories[w].insert(cat);
                    ++word_counts[cat][w];
                }
            }
    std::vector<Category> out;
    for (const auto& [cat, items] : by_category) {
        Category c{cat, text::tokens(cat), items.size() == 1 ? items.front()->id : std::string()};
        for (auto& s : category_synonyms(text::fold(cat))) c.words.push_back(s);
        for (const auto& [w, n] : word_counts[cat])
            if (n >= 2 && n * 10 >= static_cast<int>(items.size()) * 6 && word_categories[w].size() == 1 &&
                w.size() >= 4)
                c.words.push_back(w);
        out.push_back(std::move(c));
    }
    return out;
}

/// Words of a knowledge entry as best_knowledge compares them.
struct KnowledgeWords {
    /// Question (every language) and keyword words, no stop words; the words are interned.
    std::vector<std::string_view> strong;
    std::vector<std::string_view> category;
    std::vector<std::string> phrases;  ///< folded keywords of more than one word
    /// Words said only as a part of a compound ("free" of "gluten-free" or of the keyword "dairy
    /// free"), never alone in a question or keyword, with the compound's other parts.
    std::map<std::string, std::vector<std::string>, std::less<>> parts;
    std::vector<std::string_view> answer;  ///< the answer's words (Turkish), when it gives a time
    bool gives_time = false;               ///< the answer gives a time of day ("07:30")
};

/// The parts of hyphenated compounds in `question` ("gluten-free" → "free": {"gluten"}), and the
/// words said on their own.
void compound_parts(std::string_view question,
                    std::map<std::string, std::vector<std::string>, std::less<>>& parts,
                    std::set<std::string>& alone) {
    std::size_t i = 0;
    while (i < question.size()) {
        const std::size_t start = i;
        while (i < question.size() && question[i] != ' ') ++i;
        const std::string_view chunk = question.substr(start, i - start);
        ++i;
        const auto words = text::tokens(chunk);
        if (words.size() < 2 || chunk.find('-') == std::string_view::npos) {
            alone.insert(words.begin(), words.end());
            continue;
        }
        for (const auto& w : words)
            for (const auto& other : words)
                if (other != w) parts[w].push_back(other);
    }
}

KnowledgeWords knowledge_words_of(const sdk::KnowledgeEntry& e) {
    KnowledgeWords kw;
    kw.gives_time = gives_time_of_day(e.answer);
    // Only an answer that gives a time is compared word by word (timed_entry_names).
    if (kw.gives_time) kw.answer = intern_all(text::tokens(e.answer));
    std::vector<std::string> strong = text::tokens(e.question);
    for (const auto& [lang, t] : e.translations)
        for (auto& w : text::tokens(t.question)) strong.push_back(w);
    for (const auto& k : e.keywords) {
        auto folded = text::fold(k);
        for (auto& w : text::tokens(folded)) strong.push_back(w);
        if (folded.find(' ') != std::string::npos) kw.phrases.push_back(std::move(folded));
    }
    std::erase_if(strong, [](const auto& w) { return is_stop_word(w); });
    kw.strong = intern_all(strong);
    std::set<std::string> alone;
    compound_parts(e.question, kw.parts, alone);
    for (const auto& [lang, t] : e.translations) compound_parts(t.question, kw.parts, alone);
    // A keyword of several words ("dairy free") is a compound too; a part whose partners are all
    // question words ("ne giymeli") is said alone.
    for (const auto& k : e.keywords) {
        auto words = text::tokens(k);
        std::erase_if(words, [](const auto& w) { return is_stop_word(w); });
        if (words.size() < 2) alone.insert(words.begin(), words.end());
        for (const auto& w : words)
            for (const auto& other : words)
                if (other != w) kw.parts[w].push_back(other);
    }
    std::erase_if(kw.parts, [&](const auto& part) { return alone.count(part.first) > 0; });
    kw.category = intern_all(text::tokens(e.category));
    kw.phrases.shrink_to_fit();
    return kw;
}

template <class W>
OfferingFit fit_words(const std::vector<std::string>& words, const BasicOfferingWords<W>& ow);

/// "parkı" of "çocuk parkı": a word that is `head` with a possessive ending ("-ı", "-si"),
/// whose compound says what kind of `head` it is by the word before it.
bool possessive_of(std::string_view word, std::string_view head) {
    if (head.size() < 3 || !word.starts_with(head)) return false;
    const auto rest = word.substr(head.size());
    return rest == "i" || rest == "u" || rest == "si" || rest == "su" || rest == "yi";
}

/// Turkish noun compounds whose head a tenant's word names but whose first word it does not:
/// "çocuk parkı" (a playground) is no "park" (parking). For each word of `words`, whether it is
/// such a head of `key_words` (the modifier before it names none of them).
std::vector<bool> foreign_compound_heads(const std::vector<std::string>& words,
                                         const std::vector<std::string_view>& key_words) {
    std::vector<bool> out(words.size(), false);
    for (std::size_t k = 1; k < words.size(); ++k) {
        const auto& modifier = words[k - 1];
        if (modifier.size() < 3 || is_stop_word(modifier) ||
            std::isdigit(static_cast<unsigned char>(modifier[0])))
            continue;
        const bool head = std::any_of(key_words.begin(), key_words.end(),
                                      [&](std::string_view kw) { return possessive_of(words[k], kw); });
        if (!head) continue;  // most words: no word_match at all
        const bool modifier_named = std::any_of(key_words.begin(), key_words.end(), [&](std::string_view kw) {
            return word_match(modifier, kw) >= 0.85;
        });
        out[k] = !modifier_named;
    }
    return out;
}

/// How well `q` matches an entry's words; a part of a compound ("free" of "gluten-free") counts
/// half unless the query says another part too, so "free wifi" is not about gluten.
double part_aware_match(std::string_view q, const KnowledgeWords& kw, const std::vector<std::string>& query) {
    double best = 0;
    for (const auto& w : kw.strong) {
        double m = word_match(q, w);
        if (m <= best) continue;
        if (auto part = kw.parts.find(w); part != kw.parts.end()) {
            const bool whole = std::any_of(part->second.begin(), part->second.end(), [&](const auto& other) {
                return std::any_of(query.begin(), query.end(),
                                   [&](const auto& x) { return word_match(x, other) >= 0.85; });
            });
            if (!whole) m *= 0.5;
        }
        best = std::max(best, m);
    }
    return best;
}

}  // namespace

/// What the assistant reads a tenant's messages against, built once per plugin instance (a
/// tenant reload builds a new instance): the catalogue and knowledge base with their words.
struct TenantIndex {
    /// The catalogue and knowledge base as the host holds them (CatalogStore::held(), alive as
    /// long as this plugin instance), or `own_offerings` / `own_knowledge`: a copy, only from a
    /// host that holds none.
    const std::vector<sdk::Offering>* offerings_ptr = nullptr;
    const std::vector<sdk::KnowledgeEntry>* knowledge_ptr = nullptr;
    std::vector<sdk::Offering> own_offerings;
    std::vector<sdk::KnowledgeEntry> own_knowledge;
    const std::vector<sdk::Offering>& offerings() const { return *offerings_ptr; }
    const std::vector<sdk::KnowledgeEntry>& knowledge() const { return *knowledge_ptr; }
    std::vector<OfferingWords> offering_words;    ///< one per offering, same order
    std::vector<KnowledgeWords> knowledge_words;  ///< one per entry, same order
    std::vector<Category> categories;
    std::set<std::string> tenant_words;
    std::set<std::string> detail_words;  ///< attribute names no offering is called by
    /// Numbers in offerings' names with the words beside them ("40" → "corap", "denye").
    std::map<std::string, std::set<std::string>> name_numbers;
    /// Words only the tenant's English texts use (translations of names, aliases, questions and
    /// answers), so that a short "gift wrap?" is known for English.
    std::set<std::string_view> english_words;  ///< interned
    TenantFacts facts;                         ///< the size chart and attribute words (attributes.cpp)
    /// Filler words that begin an offering's name or alias ("su" of "Su Böreği"), with the words
    /// that follow them there.
    std::map<std::string, std::set<std::string>> name_starts;
    std::vector<Charge> charges;    ///< fees and discounts the knowledge base states
    JoinedWords joined_by_and;      ///< words names join with "ve" / "and"
    std::vector<Package> packages;  ///< offerings that sell several of another (packages.cpp)
};

namespace {

/// Whether the filler word at `k` begins an offering's name said there ("su böreği", not "şu
/// gecelik").
bool starts_a_name(const Words& words, std::size_t k, const TenantIndex& index) {
    auto it = index.name_starts.find(words[k].folded);
    if (it == index.name_starts.end() || k + 1 >= words.size()) return false;
    return std::any_of(it->second.begin(), it->second.end(),
                       [&](const auto& next) { return word_match(words[k + 1].folded, next) >= 0.85; });
}

/// Everything needed to read one message.
class Reader {
public:
    Reader(const sdk::ProviderRequest& request, sdk::HostServices& host, const TenantIndex& index)
        : request_(request),
          host_(host),
          index_(index),
          offerings_(index.offerings()),
          knowledge_(index.knowledge()),
          categories_(index.categories),
          tenant_words_(index.tenant_words),
          detail_words_(index.detail_words) {
        read_session();
    }

    Plan read();

private:
    bool has_tool(std::string_view name) const {
        return std::any_of(request_.tools.begin(), request_.tools.end(),
                           [&](const auto& t) { return t.name == name; });
    }
    void read_session();
    bool is_detail_word(std::string_view folded_word) const;
    std::vector<Intent> read_question(const Words& question);
    std::vector<Intent> read_facts(const Words& question, const FactAsk& ask);
    /// The words of `question` that do not carry `ask`: those that name the offering.
    static Words unasked(const Words& question, const FactAsk& ask) {
        Words rest;
        for (std::size_t k = 0; k < question.size(); ++k)
            if (!ask.used[k]) rest.push_back(question[k]);
        return rest;
    }
    std::vector<Intent> read_clause(const Words& question);
    bool attach_to_previous(const Words& clause, std::vector<Intent>& previous) const;
    Words content_of(const Words& words) const;
    Words without_charges(const Words& content, const Cues& cues) const;
    bool names_charge(const Word& w) const;
    std::vector<Intent> order_with_charges(const Words& question, const Words& content) const;
    void add_to_last_order(std::string_view folded, Plan& plan) const;
    std::vector<Intent> order_asked_again(std::string_view message) const;
    const Package& package_asked(const Words& question) const;
    bool names_business(std::string_view folded_word) const;
    std::optional<Category> category_naming(const Words& content) const;
    std::vector<std::pair<const sdk::Offering*, OfferingFit>> rank(const Words& content,
                                                                   std::string_view only_category) const;
    std::pair<std::string, double> best_knowledge(
        const Words& words, const std::function<bool(const sdk::KnowledgeEntry&)>& only = {}) const;
    std::string info_key_in(const Words& words, std::string_view folded) const;
    /// The words of `content` that name an offering or a category.
    std::vector<std::string> offering_words_in(const Words& content) const;
    /// Knowledge entry `e` (one of knowledge_) gives a time of day and holds one of `words` in its
    /// question, keywords or answer.
    bool timed_entry_names(const sdk::KnowledgeEntry& e, const std::vector<std::string>& words) const;

    Intent product_intent(const Words& content, const std::vector<std::string>& picked,
                          std::string query_type, double confidence) const;
    Intent product_by_id(const std::string& id, std::string query_type) const;
    Intent list_intent(const std::string& category, const std::string& type) const;
    Intent info_intent(std::string info_type, const Words& words) const;
    Intent knowledge_intent(const Words& words, std::string id) const;
    std::vector<Intent> info_or_knowledge(const std::string& key, const Words& words,
                                          const std::pair<std::string, double>& kb) const;
    std::vector<Intent> with_named_offering(const std::string& key, const Words& content, const Words& words,
                                            const std::pair<std::string, double>& kb) const;

    const sdk::ProviderRequest& request_;
    sdk::HostServices& host_;
    const TenantIndex& index_;
    const std::vector<sdk::Offering>& offerings_;
    const std::vector<sdk::KnowledgeEntry>& knowledge_;
    const std::vector<Category>& categories_;
    const std::set<std::string>& tenant_words_;
    const std::set<std::string>& detail_words_;  ///< attribute names ("alerjenler", "gramaj") no name uses
    std::string language_ = "tr";
    std::vector<std::string> last_products_;
    std::vector<Intent> last_order_;  ///< the items of the previous turn's order, by id
    bool asks_price_ = false;         ///< the message asks a price, in any of its clauses
    std::string last_category_;
    std::string last_query_type_;
    std::vector<std::string> earlier_products_;  ///< the offerings priced the turn before the last
};

/// The names of the catalogue's attributes ("alerjenler", "gramaj", "hacim") ask about an
/// offering's details ("simidin alerjenleri neler?") unless some offering is called by them
/// ("vegan" in "Vegan Çikolatalı Pasta").
std::set<std::string> detail_words_of(const std::vector<sdk::Offering>& offerings,
                                      const std::vector<OfferingWords>& offering_words) {
    std::set<std::string> detail_words;
    std::set<std::string_view> naming;
    for (const auto& ow : offering_words) {
        for (const auto& n : ow.names) naming.insert(n.begin(), n.end());
        for (const auto& a : ow.aliases) naming.insert(a.begin(), a.end());
        naming.insert(ow.category.begin(), ow.category.end());
    }
    for (const auto& o : offerings)
        for (const auto& [key, value] : o.attributes) {
            std::string spaced(key);
            std::replace(spaced.begin(), spaced.end(), '_', ' ');
            for (auto& w : text::tokens(spaced)) {
                if (w.size() < 5) continue;  // "kg", "ml", "saat": units, not questions
                const bool names = std::any_of(naming.begin(), naming.end(),
                                               [&](const auto& n) { return word_match(w, n) >= 0.85; });
                if (!names) detail_words.insert(w);
            }
        }
    return detail_words;
}

bool Reader::is_detail_word(std::string_view w) const {
    return std::any_of(detail_words_.begin(), detail_words_.end(),
                       [&](const auto& d) { return word_match(w, d) >= 0.85; });
}

void Reader::read_session() {
    const auto& s = request_.session;
    if (const auto* v = s.if_contains("last_product_ids"); v && v->is_array())
        for (const auto& id : v->get_array())
            if (id.is_string()) last_products_.emplace_back(id.get_string());
    if (const auto* v = s.if_contains("earlier_product_ids"); v && v->is_array())
        for (const auto& id : v->get_array())
            if (id.is_string()) earlier_products_.emplace_back(id.get_string());
    if (const auto* v = s.if_contains("last_category"); v && v->is_string())
        last_category_ = std::string(v->get_string());
    if (const auto* v = s.if_contains("last_query_type"); v && v->is_string())
        last_query_type_ = std::string(v->get_string());
    if (const auto* v = s.if_contains("last_order"); v && v->is_array())
        for (const auto& item : v->get_array()) {
            const auto* o = item.if_object();
            if (!o || !o->contains("id") || !o->at("id").is_string()) continue;
            Intent i = product_by_id(std::string(o->at("id").get_string()), "price");
            if (const auto* q = o->if_contains("quantity"); q && q->is_int64())
                i.quantity = static_cast<int>(q->get_int64());
            if (const auto* u = o->if_contains("unit"); u && u->is_string())
                i.unit = std::string(u->get_string());
            last_order_.push_back(std::move(i));
        }
}

/// "iki kişi manikür ve pedikür": the people the message counts have each service it names
/// without a count of its own.
void share_people_count(Plan& plan) {
    const auto people = std::find_if(plan.intents.begin(), plan.intents.end(), [](const Intent& i) {
        return i.kind == IntentKind::product && i.unit == "kişi" && i.quantity > 0;
    });
    if (people == plan.intents.end()) return;
    const int count = people->quantity;
    for (auto& i : plan.intents)
        if (i.kind == IntentKind::product && i.quantity == 0) {
            i.quantity = count;
            i.unit = "kişi";
        }
}

/// "bir de 3 poğaça, toplam ne olur?" after "2 simit alacağım": the items named now join the
/// order of the turn before, which comes first, when the customer adds them and asks for a total.
void Reader::add_to_last_order(std::string_view folded, Plan& plan) const {
    static constexpr std::array<std::string_view, 6> kAdding = {"bir de", "ayrica", "ekle",
                                                                "also",   "plus",   "add"};
    const auto words = text::tokens(folded);
    const bool adds =
        std::any_of(kAdding.begin(), kAdding.end(), [&](auto p) { return has_phrase(folded, p); }) ||
        has_prefix_word(words, {"ekle"});  // "saç bakım maskesi de eklersem, toplam?"
    const bool total =
        has_prefix_word(words, {"toplam", "tutar", "hepsi", "hesap", "total", "altogether", "together"});
    const bool names_items = std::any_of(plan.intents.begin(), plan.intents.end(),
                                         [](const Intent& i) { return i.kind == IntentKind::product; });
    // One offering priced the turn before ("kadın saç kesimi ne kadar") is an order of one.
    std::vector<Intent> last = last_order_;
    if (last.empty() && last_products_.size() == 1) {
        auto i = product_by_id(last_products_.front(), "price");
        i.picked = last_products_;
        last.push_back(std::move(i));
    }
    if (last.empty() || !adds || !total || !names_items) return;
    std::vector<Intent> before;
    for (const auto& o : last) {
        const bool named_again = std::any_of(plan.intents.begin(), plan.intents.end(), [&](const Intent& i) {
            return i.tool == o.tool && i.arguments == o.arguments;
        });
        if (!named_again) before.push_back(o);
    }
    plan.intents.insert(plan.intents.begin(), before.begin(), before.end());
}

std::pair<int, std::string> asked_quantity(const Words& words, const TenantIndex& index);
int people_of_us(std::string_view folded_word);
int count_of(std::string_view f);
bool with_my_someone(std::string_view folded_word);

/// "hepsi ne kadar", "simiti çıkar, toplam?", "simiti 5 yap, toplam?" after an order or several
/// items priced: that order again, summed, without what the message takes out or with the count it
/// now gives an item.
std::vector<Intent> Reader::order_asked_again(std::string_view message) const {
    const std::string folded = text::fold(message);
    // "saten gecelik ne kadar" → "kadife sabahlık ne kadar" → "ikisi toplam ne tutar": the
    // offerings priced in the two turns before, one of each, summed.
    if (last_order_.size() <= 1 && !earlier_products_.empty() && !last_products_.empty() &&
        earlier_products_ != last_products_ &&
        (asks_order_total(text::tokens(folded)) ||
         has_prefix_word(text::tokens(folded), {"ikisi", "both", "birlikte", "beraber"}))) {
        const Words named = content_of(split_words(message));
        if (std::all_of(named.begin(), named.end(),
                        [&](const Word& w) { return names_charge(w) || is_charge_word(w.folded); })) {
            std::vector<Intent> out;
            for (const auto* ids : {&earlier_products_, &last_products_}) {
                auto i = product_by_id(ids->front(), "price");
                i.picked = *ids;
                out.push_back(std::move(i));
            }
            const Words said = split_words(message);
            const bool charges =
                std::any_of(said.begin(), said.end(), [&](const Word& w) { return names_charge(w); });
            for (auto& i : out) i.with_charges = charges;
            return out;
        }
    }
    if (last_order_.empty() || (!asks_order_total(text::tokens(folded)) && !detect_cues(folded).price))
        return {};
    const Words said = split_words(message);
    const int count = asked_quantity(said, index_).first;
    const bool removing = takes_out(folded) && count == 0;  // "poğaçayı 4'e çıkar" raises a count
    const Words content = content_of(said);
    // "bir de 3 poğaça, toplam ne olur": an item the order does not hold makes a new order.
    const auto ranked = rank(content, "");
    const bool names_new = !ranked.empty() && ranked.front().second.coverage >= 0.5 &&
                           std::none_of(last_order_.begin(), last_order_.end(), [&](const Intent& i) {
                               return !i.picked.empty() && i.picked.front() == ranked.front().first->id;
                           });
    if (names_new && !removing) return {};
    auto out = order_again(last_order_, folded_of(content), removing, count, host_);
    const bool charges =
        std::any_of(said.begin(), said.end(), [&](const Word& w) { return names_charge(w); });
    for (auto& i : out) i.with_charges = charges;
    return out;
}

/// "kargo dahil?", "with delivery?" right after an order: the same order, with the fee.
std::vector<Intent> Reader::order_with_charges(const Words& question, const Words& content) const {
    if (!std::any_of(question.begin(), question.end(), [&](const Word& w) { return names_charge(w); }))
        return {};
    // "how much with shipping?", "kargo dahil ne kadar?" after one offering's price: that one, with
    // the fee (of several named alike, the first in stock).
    auto order = last_order_;
    if (order.empty() && !last_products_.empty() && last_products_.size() <= 3) {
        const std::string folded = join(question, false);
        const auto words = folded_of(question);
        if (!detect_cues(folded).price &&
            !has_prefix_word(words, {"dahil", "including", "included", "with", "ile", "birlikte"}))
            return {};
        auto i = product_by_id(last_products_.front(), "price");
        i.picked = last_products_;
        order.push_back(std::move(i));
    }
    if (order.empty()) return {};
    Words rest;
    for (const auto& w : content)
        if (!names_charge(w) && !is_charge_word(w.folded)) rest.push_back(w);
    const auto ranked = rank(rest, "");
    if (!ranked.empty() && ranked.front().second.score() >= 0.5) return {};  // names an item of its own
    auto out = order;
    for (auto& i : out) i.with_charges = true;
    return out;
}

bool Reader::names_business(std::string_view w) const {
    static const std::set<std::string, std::less<>> kPlaces = {
        "studyo",   "studyosu", "studyonuz", "studio", "magaza", "magazaniz",
        "magazasi", "butik",    "butiginiz", "store",  "shop"};
    return tenant_words_.count(std::string(w)) > 0 || kPlaces.count(w) > 0;
}

Words Reader::content_of(const Words& words) const {
    Words out;
    bool after_for = false;  // the words after "for" up to the first that names an offering
    for (std::size_t k = 0; k < words.size(); ++k) {
        const auto& f = words[k].folded;
        if (f == "for") {
            after_for = true;
            continue;
        }
        if ((is_stop_word(f) && !starts_a_name(words, k, index_)) || is_cue_word(f) || is_detail_word(f))
            continue;
        if (!general_type_word({f}).empty()) continue;
        // "kurabiye 2 paket", "3 kutu kurabiye": the unit a count is said in names nothing.
        if (k > 0 && count_of(words[k - 1].folded) > 0 && !quantity_unit(f).empty() &&
            quantity_unit(f) != "ders")
            continue;
        // "30 simits for an office meeting": what they are for names none of them.
        if (after_for && offering_words_in({words[k]}).empty()) continue;
        after_for = false;
        // "ikimiz", "annemle": the people, not what they ask for.
        if (people_of_us(f) > 0 || (with_my_someone(f) && offering_words_in({words[k]}).empty())) continue;
        // "ofis için 100 simit": what the items are for names none of them, unless it names an
        // offering itself ("çocuk için pijama").
        if (k + 1 < words.size() && words[k + 1].folded == "icin" && offering_words_in({words[k]}).empty())
            continue;
        // "ikişer", "5 each": a count for each item names none.
        if (distributive_count(f) > 0 || f == "each") continue;
        // The business's own name ("Nefes stüdyosu") is not a product.
        bool next_is_name = k + 1 < words.size() && names_business(words[k + 1].folded);
        bool prev_is_name = k > 0 && names_business(words[k - 1].folded);
        if (tenant_words_.count(f) && (next_is_name || prev_is_name)) continue;
        if (names_business(f) && !tenant_words_.count(f)) continue;
        // Sizes and numbers ("M beden", "38") narrow a product down, they do not name one.
        if (f.size() <= 3 && (f == "xs" || f == "xl" || f == "xxl" || f == "m" || f == "l" || f == "s" ||
                              std::isdigit(static_cast<unsigned char>(f[0]))))
            continue;
        out.push_back(words[k]);
    }
    return out;
}

/// "2 simit eve teslim ile ne tutar", "saten gecelik kargo dahil": the words of a fee or discount
/// asked about with a price name no product; the total's answer applies the charge. Kept unless
/// the rest names an offering ("kargo ücreti ne kadar" asks about the fee itself).
Words Reader::without_charges(const Words& content, const Cues& cues) const {
    if (!cues.price) return content;
    Words rest;
    bool named = false;
    for (const auto& w : content) {
        const bool charge = names_charge(w);
        named = named || charge;
        if (!charge && !is_charge_word(w.folded)) rest.push_back(w);  // "toplu sipariş", "kargo ücreti"
    }
    if (!named || rest.empty()) return content;
    // Only when the rest names an offering ("toplu sipariş" is the bulk-order topic, not "sipariş").
    const auto ranked = rank(rest, "");
    if (ranked.empty() || ranked.front().second.specificity == 0) return content;
    const auto& best = ranked.front().second;
    const bool clear = best.coverage >= 0.99 || (rest.size() >= 3 && best.coverage >= 0.66);
    return clear ? rest : content;
}

bool Reader::names_charge(const Word& w) const {
    return std::any_of(index_.charges.begin(), index_.charges.end(), [&](const Charge& c) {
        return std::any_of(c.words.begin(), c.words.end(),
                           [&](const std::string& t) { return word_match(w.folded, t) >= 0.8; });
    });
}

}  // namespace

/// One slip of the keyboard between two words of five letters or more ("pijma", "gecelk"),
/// compared as written and by stem ("pijmalar" → "pijma").
bool one_typo(std::string_view a, std::string_view b) {
    auto close = [](std::string_view x, std::string_view y) {
        if (x.size() < 5 || y.size() < 5 || x[0] != y[0]) return false;
        const double longest = static_cast<double>(std::max(x.size(), y.size()));
        return std::lround((1.0 - text::similarity(x, y)) * longest) <= 1;
    };
    return close(a, b) || close(text::stem(a), text::stem(b));
}

namespace {

/// The day a word names ("mon" for "pazartesi", "pazartesileri", "monday"), or empty. The longest
/// day name the word starts with wins, followed by at most a case suffix, so "pazartesi" is
/// Monday and not "pazar" (Sunday), "cumartesi" Saturday and not "cuma".
std::string day_named(std::string_view folded) {
    static const std::pair<std::string_view, const char*> kDays[] = {
        {"pazartesi", "mon"}, {"sali", "tue"},      {"carsamba", "wed"}, {"persembe", "thu"},
        {"cuma", "fri"},      {"cumartesi", "sat"}, {"pazar", "sun"},    {"monday", "mon"},
        {"tuesday", "tue"},   {"wednesday", "wed"}, {"thursday", "thu"}, {"friday", "fri"},
        {"saturday", "sat"},  {"sunday", "sun"}};
    std::string_view best_name;
    const char* best_day = "";
    for (const auto& [name, day] : kDays) {
        if (folded.rfind(name, 0) != 0 || name.size() <= best_name.size()) continue;
        best_name = name;
        best_day = day;
    }
    if (best_name.empty()) return {};
    // "pazara", "cumaya", "pazartesileri", "sundays"; not a longer word that merely starts so.
    const std::string_view rest = folded.substr(best_name.size());
    static const std::set<std::string_view> kSuffixes = {
        "",    "s",   "ya",  "ye", "a",   "e",   "da",   "de",   "ta",    "te",   "dan",
        "den", "tan", "ten", "n",  "nin", "nun", "in",   "un",   "leri",  "lari", "ler",
        "lar", "ki",  "yi",  "yu", "i",   "u",   "ndan", "nden", "sidir", "dir",  "dur"};
    return kSuffixes.count(rest) ? best_day : std::string();
}

/// A size the question asks about ("S beden var mı", "XL var mı", "38 numara"), as the shop
/// writes it ("S", "XL", "38"); empty when none. A lone letter counts only next to a size word.
std::string asked_size(const Words& words) {
    static const std::set<std::string> kLetters = {"xs", "s", "m", "l", "xl", "xxl", "xxxl", "2xl", "3xl"};
    bool size_word = std::any_of(words.begin(), words.end(), [](const Word& w) {
        return w.folded.rfind("beden", 0) == 0 || w.folded.rfind("numara", 0) == 0 || w.folded == "size" ||
               w.folded == "sizes";
    });
    // "does it come in L?"
    for (std::size_t k = 0; k + 2 < words.size() && !size_word; ++k)
        size_word = (words[k].folded == "come" || words[k].folded == "comes") && words[k + 1].folded == "in";
    for (const auto& w : words) {
        const auto& f = w.folded;
        const bool letters = kLetters.count(f) > 0 && (size_word || f.size() >= 2);
        const bool number =
            size_word && !f.empty() && f.size() <= 4 && std::isdigit(static_cast<unsigned char>(f[0]));
        if (!letters && !number) continue;
        std::string out;
        for (char c : f) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return out;
    }
    return {};
}

/// How many the customer asks about ("3 tane", "2 kg", "iki simit", "three"), with its unit; 0
/// when none. A bare number that is part of an offering's name ("40 denye", "8 derslik") is no
/// quantity, nor a size ("38 numara").
/// Whether the number at `k` is part of an offering's name said around it ("40 denye").
bool number_in_a_name(const Words& words, std::size_t k,
                      const std::map<std::string, std::set<std::string>>& name_numbers) {
    auto it = name_numbers.find(words[k].folded);
    if (it == name_numbers.end()) return false;
    for (std::size_t n : {k - 1, k + 1})
        if (n < words.size() && std::any_of(it->second.begin(), it->second.end(), [&](const auto& b) {
                return word_match(words[n].folded, b) >= 0.85;
            }))
            return true;
    return false;
}

/// Which of the tenant's packages the words mean: the one whose count they say ("8 derslik"),
/// else the first.
const Package& Reader::package_asked(const Words& question) const {
    for (const auto& p : index_.packages)
        if (std::any_of(question.begin(), question.end(),
                        [&](const Word& w) { return w.folded == std::to_string(p.count); }))
            return p;
    return index_.packages.front();
}

/// Kilograms the words ask for ("yarım kilo"), or 0.
double weight_of(const Words& words) {
    std::vector<std::string> shown;
    for (const auto& w : words) shown.push_back(w.shown);
    return asked_weight(folded_of(words), shown);
}

/// "3x", "x3": a count of items said with the times sign.
bool times_count(std::string_view f) {
    if (f.size() < 2 || f.size() > 4 || (f.front() != 'x' && f.back() != 'x')) return false;
    const auto n = f.front() == 'x' ? f.substr(1) : f.substr(0, f.size() - 1);
    return std::all_of(n.begin(), n.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

/// A count said as digits ("2", "3x", "x3") or a word ("iki", "three", "dozen"), or 0; not "on"
/// (ten), which is also the English "on".
int count_of(std::string_view f) {
    auto digits = [](std::string_view s) {
        return !s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
        });
    };
    if (digits(f)) return std::stoi(std::string(f));
    if (times_count(f))
        return std::stoi(std::string(f.front() == 'x' ? f.substr(1) : f.substr(0, f.size() - 1)));
    if (f == "on") return 0;
    return number_word(f) > 0 ? number_word(f) : distributive_count(f);
}

/// The number said by the words from `k`: "on iki" and "yirmi beş" (a ten and a unit said as
/// words) are one number, and `k` moves to its last word.
int number_at(const Words& words, std::size_t& k) {
    const auto& f = words[k].folded;
    // "yarım düzine", "half a dozen": six.
    if (f == "yarim" || f == "half") {
        std::size_t n = k + 1;
        if (n < words.size() && words[n].folded == "a") ++n;
        if (n < words.size() && (words[n].folded == "duzine" || words[n].folded == "dozen")) {
            k = n;
            return 6;
        }
    }
    const int tens = f == "on" ? 10 : count_of(f);
    const bool word = !f.empty() && !std::isdigit(static_cast<unsigned char>(f[0]));
    if (word && tens >= 10 && tens % 10 == 0 && tens < 100 && k + 1 < words.size()) {
        const int unit = number_word(words[k + 1].folded);
        if (unit > 0 && unit < 10) {
            ++k;
            return tens + unit;
        }
    }
    return count_of(f);
}

/// "ikimiz", "üçümüz": how many of us; 0 for another word.
int people_of_us(std::string_view f) {
    static const std::pair<std::string_view, int> kUs[] = {
        {"ikimiz", 2}, {"ucumuz", 3}, {"dordumuz", 4}, {"besimiz", 5}, {"altimiz", 6}};
    for (const auto& [word, n] : kUs)
        if (f == word) return n;
    return 0;
}

/// "annemle", "arkadaşımla", "eşimle": with someone of mine, so two people.
bool with_my_someone(std::string_view f) {
    return f.size() >= 6 && (f.ends_with("imla") || f.ends_with("imle") || f.ends_with("umla") ||
                             f.ends_with("umle") || f.ends_with("emle") || f.ends_with("amla"));
}

std::pair<int, std::string> asked_quantity(const Words& words, const TenantIndex& index) {
    auto in_a_name = [&](std::size_t k) { return number_in_a_name(words, k, index.name_numbers); };
    for (const auto& w : words)
        if (const int n = people_of_us(w.folded)) return {n, "kişi"};
    for (std::size_t k = 0; k < words.size(); ++k) {
        const auto& f = words[k].folded;
        const bool digits = !f.empty() && std::isdigit(static_cast<unsigned char>(f[0]));
        // "1,5 kg": a decimal amount is no count of items (its two pieces are skipped).
        if (digits && words[k].shown.find_first_of(",.") != std::string::npos) {
            ++k;
            continue;
        }
        const std::size_t first = k;
        const int n = number_at(words, k);
        if (n <= 0) continue;
        if (in_a_name(first)) continue;  // "Erkek Atlet 3'lü", "8 derslik paket"
        // "a couple of simits": the words after the number, past an "of".
        std::size_t next = k + 1;
        if (next < words.size() && words[next].folded == "of") ++next;
        std::string unit = next < words.size() ? quantity_unit(words[next].folded) : std::string();
        if (unit.empty() && (times_count(f) || (first > 0 && words[first - 1].folded == "x"))) unit = "adet";
        if (!unit.empty()) return {n, unit};
        // "iki kişilik düet": the people an offering is for describe it; "38 beden" is a size.
        const bool describes = next < words.size() && (words[next].folded.rfind("beden", 0) == 0 ||
                                                       words[next].folded.rfind("numara", 0) == 0 ||
                                                       words[next].folded == "kisilik");
        if (describes) continue;
        if (digits && says_size_worn(folded_of(words))) continue;  // "38 giyiyorum"
        // "iki simit", "2 simit ne kadar", "3 su böreği": a number before an offering's name counts it.
        if (next < words.size() && (!is_stop_word(words[next].folded) || starts_a_name(words, next, index)))
            return {n, "adet"};
        if (!digits && next == words.size()) return {n, "adet"};  // "three?" after a product
        // "for 2?", "peki 5?", "and 4?": a number said as the last word after a follow-up word.
        if (digits && next == words.size() && first > 0 &&
            (words[first - 1].folded == "for" || words[first - 1].folded == "peki" ||
             words[first - 1].folded == "ya" || words[first - 1].folded == "and" ||
             words[first - 1].folded == "about"))
            return {n, "adet"};
        // "what would five cost?", "how much would 5 be?", "five of them?": a number followed by
        // question words only, in a short or a price question, counts the offering talked about.
        const bool only_question_after =
            std::all_of(words.begin() + static_cast<std::ptrdiff_t>(next), words.end(), [](const Word& w) {
                return is_stop_word(w.folded) || is_cue_word(w.folded) || w.folded == "cost" ||
                       w.folded == "them";
            });
        const bool a_time =
            first > 0 && (words[first - 1].folded == "saat" || words[first - 1].folded == "at");
        if (only_question_after && next < words.size() && !a_time &&
            (words.size() <= 4 || detect_cues(join(words, false)).price))
            return {n, "adet"};
        // "simitten 3": a number after an item said with "from" counts it.
        if (const auto& before = first > 0 ? words[first - 1].folded : f;
            next == words.size() && before.size() > 5 &&
            (before.ends_with("dan") || before.ends_with("den") || before.ends_with("tan") ||
             before.ends_with("ten")))
            return {n, "adet"};
    }
    // "annemle manikür yaptıracağız": the customer and someone with them.
    if (std::any_of(words.begin(), words.end(), [](const Word& w) { return with_my_someone(w.folded); }))
        return {2, "kişi"};
    return {0, {}};
}

/// "2 simit 3 poğaça ne tutar": a clause that counts several items, split before each count that
/// follows a named item, the question words staying with the last one.
std::vector<Words> split_at_counts(const Words& clause,
                                   const std::map<std::string, std::set<std::string>>& name_numbers) {
    std::vector<Words> out{{}};
    bool named = false;  // the current part names something after its count
    // "bir simit bir çay": "bir" counts one of each item.
    auto counts = [](const std::string& f) { return count_of(f) > 0 || f == "bir" || f == "one"; };
    for (std::size_t k = 0; k < clause.size(); ++k) {
        const bool count = counts(clause[k].folded) && !number_in_a_name(clause, k, name_numbers);
        if (count && named) {
            out.emplace_back();
            named = false;
        }
        out.back().push_back(clause[k]);
        if (!count && !is_stop_word(clause[k].folded) && quantity_unit(clause[k].folded).empty() &&
            counts(out.back().front().folded))
            named = true;
    }
    return out;
}

std::optional<Category> Reader::category_naming(const Words& content) const {
    if (content.empty()) return std::nullopt;
    for (const auto& c : categories_) {
        bool all = std::all_of(content.begin(), content.end(),
                               [&](const Word& w) { return best_in(w.folded, c.words) >= 0.85; });
        if (all) return c;
    }
    // A misspelt category word ("pijma var mı") reads as the category when it is the only
    // word and no offering's own name is a closer fit.
    if (content.size() == 1) {
        const auto& w = content.front().folded;
        std::optional<Category> found;
        for (const auto& c : categories_)
            if (std::any_of(c.words.begin(), c.words.end(), [&](const auto& k) { return one_typo(w, k); })) {
                if (found) return std::nullopt;  // two categories: not clear
                found = c;
            }
        if (!found) return found;
        auto ranked = rank(content, "");
        if (!ranked.empty() && ranked.front().second.coverage >= 0.99 &&
            ranked.front().first->category != found->name)
            return std::nullopt;
        return found;
    }
    return std::nullopt;
}

std::vector<std::pair<const sdk::Offering*, OfferingFit>> Reader::rank(const Words& content,
                                                                       std::string_view only_category) const {
    std::vector<std::pair<const sdk::Offering*, OfferingFit>> out;
    auto words = folded_of(content);
    for (std::size_t k = 0; k < offerings_.size(); ++k) {
        const auto& o = offerings_[k];
        if (!only_category.empty() && o.category != only_category) continue;
        auto fit = fit_words(words, index_.offering_words[k]);
        if (fit.coverage > 0) out.emplace_back(&o, fit);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.second.score() > b.second.score(); });
    return out;
}

std::pair<std::string, double> Reader::best_knowledge(
    const Words& words, const std::function<bool(const sdk::KnowledgeEntry&)>& only) const {
    std::vector<std::string> query;
    for (const auto& w : words)
        if (!is_stop_word(w.folded))
            query.push_back(w.folded);
        else if (auto root = verb_root(w.folded); !root.empty())
            query.push_back(std::move(root));  // "dondurabilir miyim" asks about "dondurma"
    // "online ders var mı": a general word ("ders", "ürün") beside others does not pick an entry
    // ("Derse gelirken ne giymeliyim?") on its own.
    std::vector<std::string> specific;
    for (const auto& q : query)
        if (general_type_word({q}).empty()) specific.push_back(q);
    // "kaç ders" alone names no entry either.
    if (specific.empty()) return {"", 0};
    query = std::move(specific);
    std::string best_id;
    double best = 0;
    const std::string folded_query = join(words, false);
    const std::vector<std::string> said = folded_of(words);
    for (std::size_t k = 0; k < knowledge_.size(); ++k) {
        const auto& e = knowledge_[k];
        if (only && !only(e)) continue;
        const auto& category = index_.knowledge_words[k].category;
        const bool keyword_phrase =
            std::any_of(index_.knowledge_words[k].phrases.begin(), index_.knowledge_words[k].phrases.end(),
                        [&](const auto& kw) { return has_phrase(folded_query, kw); });
        // "çocuk parkı" is no "park": a compound's head counts half when its first word is not the entry's.
        const auto foreign = foreign_compound_heads(said, index_.knowledge_words[k].strong);
        double sum = 0;
        for (const auto& q : query) {
            double m =
                std::max(part_aware_match(q, index_.knowledge_words[k], query), 0.8 * best_in(q, category));
            for (std::size_t i = 0; i < said.size(); ++i)
                if (foreign[i] && said[i] == q) m *= 0.5;
            sum += m;
        }
        double score = sum / static_cast<double>(query.size());
        if (keyword_phrase) score = std::max(score, 0.75);
        if (score > best) {
            best = score;
            best_id = e.id;
        }
    }
    return {best_id, best};
}

std::vector<std::string> Reader::offering_words_in(const Words& content) const {
    std::vector<std::string> out;
    for (const auto& w : content) {
        const bool names =
            std::any_of(index_.offering_words.begin(), index_.offering_words.end(), [&](const auto& ow) {
                return best_in(w.folded, ow.category) >= 0.9 ||
                       std::any_of(ow.names.begin(), ow.names.end(),
                                   [&](const auto& name) { return best_in(w.folded, name) >= 0.9; });
            });
        if (names) out.push_back(w.folded);
    }
    return out;
}

bool Reader::timed_entry_names(const sdk::KnowledgeEntry& e, const std::vector<std::string>& words) const {
    const auto k = static_cast<std::size_t>(&e - knowledge_.data());
    const auto& kw = index_.knowledge_words[k];
    if (!kw.gives_time) return false;
    return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
        return std::max(best_in(w, kw.strong), best_in(w, kw.answer)) >= 0.9;
    });
}

std::string Reader::info_key_in(const Words& words, std::string_view folded) const {
    for (const auto& [key, value] : host_.tenant().info) {
        for (const auto& synonym : info_key_synonyms(text::fold(key))) {
            if (synonym.find(' ') != std::string::npos) {
                if (has_phrase(folded, synonym)) return key;
                continue;
            }
            // Stricter than product matching: "hava" (weather) must not read as "havale".
            for (std::size_t k = 0; k < words.size(); ++k) {
                const auto& f = words[k].folded;
                // "çocuk parkı": a compound's head whose first word is not about this key
                if (k > 0 && possessive_of(f, synonym) &&
                    foreign_compound_heads({words[k - 1].folded, f}, {synonym})[1])
                    continue;
                if (f == synonym ||
                    (synonym.size() >= 4 && f.rfind(synonym, 0) == 0 && f.size() - synonym.size() <= 8) ||
                    (synonym.size() >= 6 && f.size() >= 6 && text::similarity(f, synonym) >= 0.85))
                    return key;
            }
        }
    }
    return {};
}

Intent Reader::product_intent(const Words& content, const std::vector<std::string>& picked,
                              std::string query_type, double confidence) const {
    Intent i;
    i.kind = IntentKind::product;
    i.tool = "get_product_info";
    i.words = join(content, true);
    i.arguments = {{"product", i.words}, {"query_type", query_type}};
    i.picked = picked;
    i.confidence = confidence;
    return i;
}

Intent Reader::product_by_id(const std::string& id, std::string query_type) const {
    Intent i;
    i.kind = IntentKind::product;
    i.tool = "get_product_info";
    i.arguments = {{"product", id}, {"query_type", query_type}};
    i.picked = {id};
    i.follow_up = true;
    i.confidence = 0.8;
    return i;
}

Intent Reader::list_intent(const std::string& category, const std::string& type) const {
    Intent i;
    i.kind = IntentKind::list;
    i.tool = "list_offerings";
    if (!category.empty()) i.arguments["category"] = category;
    if (!type.empty()) i.arguments["type"] = type;
    i.words = category;
    i.confidence = 0.85;
    return i;
}

Intent Reader::info_intent(std::string info_type, const Words& words) const {
    Intent i;
    i.kind = IntentKind::info;
    i.tool = has_tool("get_general_info") ? "get_general_info" : "";
    i.arguments = {{"info_type", info_type}};
    i.words = info_type;
    for (const auto& w : words) {
        if (auto day = day_named(w.folded); !day.empty()) i.day = day;
        if (w.folded == "simdi" || w.folded == "now" || w.folded == "bugun" || w.folded == "today" ||
            w.folded == "su" || w.folded == "an")
            i.asks_now = true;
    }
    if (i.tool.empty()) i.kind = IntentKind::text;
    return i;
}

Intent Reader::knowledge_intent(const Words& words, std::string id) const {
    Intent i;
    i.kind = IntentKind::knowledge;
    i.tool = "search_knowledge_base";
    i.words = join(words, true);
    i.arguments = {{"query", i.words}, {"limit", 5}};
    i.knowledge_id = std::move(id);
    return i;
}

std::vector<Intent> Reader::info_or_knowledge(const std::string& key, const Words& words,
                                              const std::pair<std::string, double>& kb) const {
    bool knowledge_fits = has_tool("search_knowledge_base") && !kb.first.empty() &&
                          kb.second >= (language_ == "en" ? 0.4 : 0.45);
    if (knowledge_fits) return {knowledge_intent(words, kb.first)};
    if (language_ == "en" && has_tool("search_knowledge_base")) {
        // The business's own notes are written in one language; an English question about the
        // same topic is better answered by the knowledge entry on it, which has a translation.
        const std::string folded_key = text::fold(key);
        auto on_topic = [&](const sdk::KnowledgeEntry& e) {
            if (!e.translations.count("en")) return false;
            if (text::fold(e.id) == folded_key || text::fold(e.category) == folded_key) return true;
            return std::any_of(e.keywords.begin(), e.keywords.end(),
                               [&](const auto& k) { return text::fold(k) == folded_key; });
        };
        auto topic = best_knowledge(words, on_topic);
        if (topic.first.empty())
            for (const auto& e : knowledge_)
                if (on_topic(e)) {
                    topic.first = e.id;
                    break;
                }
        if (!topic.first.empty()) {
            auto i = knowledge_intent(words, topic.first);
            i.confidence = 0.8;
            return {i};
        }
    }
    return {info_intent(key, words)};
}

/// A business topic asked about together with an offering named exactly ("kestaneli pasta
/// sipariş edebilir miyim", "simit teslimat var mı"): the offering's own answer (its price and
/// stock, or that it is no longer sold) first, then the topic's.
std::vector<Intent> Reader::with_named_offering(const std::string& key, const Words& content,
                                                const Words& words,
                                                const std::pair<std::string, double>& kb) const {
    auto out = info_or_knowledge(key, words, kb);
    Words rest;
    for (const auto& w : content)
        if (info_key_in({w}, w.folded) != key) rest.push_back(w);
    if (rest.empty()) return out;
    const auto ranked = rank(rest, "");
    if (ranked.empty() || ranked.front().second.coverage < 0.99 || ranked.front().second.specificity < 0.99)
        return out;
    std::vector<std::string> ids;
    for (const auto& [o, fit] : ranked)
        if (fit.coverage >= 0.99 && fit.specificity >= 0.99) ids.push_back(o->id);
    // Its price and stock plainly: a "yes" here would read as the answer to the topic's question
    // ("külot iade edebilir miyim" → "Evet, ..." and then "no returns on underwear").
    out.insert(out.begin(), product_intent(rest, ids, "price", 0.85));
    return out;
}

/// A size worn or an attribute asked about ("38 giyiyorum", "simitte susam var mı"): the offering
/// is what the other words name, or the one talked about before; with none, the size chart's
/// own answer. Empty when the question is not about one offering ("ürünlerinizde alerjen var mı").
std::vector<Intent> Reader::read_facts(const Words& question, const FactAsk& ask) {
    const Words rest = unasked(question, ask);
    std::vector<Intent> products;
    for (auto& i : read_clause(rest)) {
        // Only an offering it picked: words it could not place ("should") are no product.
        if (i.kind == IntentKind::product && !i.picked.empty()) {
            products.push_back(std::move(i));
            continue;
        }
        // "sabahlık hangi renklerde": each offering of the category named.
        if (i.kind == IntentKind::list && i.arguments.contains("category") && !ask.keys.empty())
            for (const auto& o : offerings_)
                if (o.available && o.category == i.words && products.size() < 4)
                    products.push_back(product_by_id(o.id, "details"));
    }
    const Words content = content_of(rest);
    const auto ranked = rank(content, "");
    // "poğaça vegan mı": the words name an offering though a knowledge entry mentions them too.
    if (products.empty() && !ranked.empty()) {
        // Fully named, or by an alias among other words ("can I eat the poğaça").
        std::vector<std::string> ids;
        const auto& best = ranked.front().second;
        for (const auto& [o, fit] : ranked)
            if ((best.coverage >= 0.99 || (best.coverage >= 0.5 && best.specificity >= 0.99)) &&
                fit.coverage >= best.coverage - 0.01 && fit.score() >= best.score() - 0.01)
                ids.push_back(o->id);
        if (!ids.empty()) products.push_back(product_intent(content, ids, "details", 0.85));
    }
    // "I wear 42, will it fit?": words that name no offering ask about the one talked about before.
    const bool names_none = ranked.empty() || ranked.front().second.coverage < 0.5;
    const bool general = !general_type_word(folded_of(rest)).empty();
    if (products.empty() && names_none && !general)
        for (std::size_t k = 0; k < last_products_.size() && k < 3; ++k)
            products.push_back(product_by_id(last_products_[k], "details"));
    // "hangi ürünlerde fındık var?", "which products contain nuts?"
    if (products.empty() && !ask.values.empty() &&
        (general || ask.listing || detect_cues(join(question, false)).list)) {
        Intent i;
        i.text = offerings_with(ask, offerings_, index_.facts, language_);
        return {i};
    }
    if ((products.empty() && (ask.worn > 0 || !ask.label.empty())) || (ask.measured && ask.worn == 0)) {
        Intent i;
        i.text = size_chart_answer(ask, index_.facts.chart, language_, host_.tenant().phone);
        return {i};
    }
    // "ürünlerinizde alerjen var mı": about no one offering, so the knowledge base's answer.
    if (const auto kb = best_knowledge(question);
        products.empty() && has_tool("search_knowledge_base") && !kb.first.empty() && kb.second >= 0.45)
        return {knowledge_intent(question, kb.first)};
    for (auto& i : products) apply_fact_ask(i, ask, index_.facts, language_);
    for (std::size_t k = 0; k + 1 < products.size(); ++k) products[k].notice.clear();  // said once, last
    return products;
}

/// "haftada iki gün ... aylık", "twice a week ... a month": the lessons a month of that makes
/// (four weeks), with the words that say it taken out of `rest`; 0 when the words say no such thing.
int monthly_lessons(const Words& question, Words& rest) {
    const auto words = folded_of(question);
    const bool month = has_prefix_word(words, {"aylik", "ayda", "month", "monthly"});
    int weekly = 0;
    std::set<std::size_t> said;
    for (std::size_t k = 0; k < words.size() && month; ++k) {
        const bool week = words[k] == "haftada" || words[k] == "week" || words[k] == "weekly";
        if (!week) continue;
        said.insert(k);
        // "haftada iki gün" (after), "twice a week", "2 times a week", "2 classes per week" (before)
        for (std::size_t j : {k + 1, k - 1, k - 2, k - 3}) {
            if (j >= words.size()) continue;
            const int n = words[j] == "twice"                                            ? 2
                          : words[j] == "once" || words[j] == "bir" || words[j] == "one" ? 1
                                                                                         : count_of(words[j]);
            if (n > 0 && n <= 7) {
                weekly = n;
                said.insert(j);
                break;
            }
        }
    }
    if (weekly == 0) return 0;
    static const std::set<std::string, std::less<>> kSaid = {
        "gun",     "kez",    "kere",     "defa",     "times", "a",       "per",      "aylik", "ayda", "month",
        "monthly", "gelsem", "gelirsem", "gidersem", "come",  "classes", "sessions", "ders",  "seans"};
    rest.clear();
    for (std::size_t k = 0; k < question.size(); ++k)
        if (!said.count(k) && !kSaid.count(words[k])) rest.push_back(question[k]);
    return weekly * 4;
}

std::vector<Intent> Reader::read_question(const Words& question) {
    // "mat pilatese haftada iki gün gelsem aylık ne öderim": four weeks of it, compared with a
    // package of as many lessons when there is one.
    if (Words rest; const int lessons = monthly_lessons(question, rest)) {
        auto intents = read_clause(rest);
        for (auto& i : intents) {
            if (i.kind != IntentKind::product || i.picked.size() != 1) continue;
            for (const auto& p : index_.packages)
                if (p.single_id == i.picked.front() && p.count == lessons) {
                    Intent compare;
                    compare.text = package_or_single(p, offerings_, language_);
                    if (!compare.text.empty()) return {compare};
                }
            i.quantity = lessons;
            i.unit = "ders";
            i.arguments["query_type"] = "price";
        }
        if (!intents.empty()) return intents;
    }
    // "8 derslik paket mi tek tek mi daha uygun": the package beside its lessons one by one.
    if (!index_.packages.empty() && asks_package_or_single(join(question, false))) {
        Intent i;
        i.text = package_or_single(package_asked(question), offerings_, language_);
        if (!i.text.empty()) return {i};
    }
    // "mat pilates ne kadar" → "8 ders alsam ne tutar": as many lessons as a package holds, of
    // the lesson talked about, asked what they come to: both ways of buying them.
    if (!index_.packages.empty() && last_products_.size() == 1 &&
        (detect_cues(join(question, false)).price || question.size() <= 4))
        for (const auto& p : index_.packages) {
            const bool lessons = std::any_of(question.begin(), question.end(), [&](const Word& w) {
                const auto at = static_cast<std::size_t>(&w - question.data());
                return w.folded == std::to_string(p.count) && at + 1 < question.size() &&
                       quantity_unit(question[at + 1].folded) == "ders";
            });
            const auto named = content_of(question);
            if (lessons && p.single_id == last_products_.front() && named.empty()) {
                Intent i;
                i.text = package_or_single(p, offerings_, language_);
                if (!i.text.empty()) return {i};
            }
        }
    if (const auto ask = read_fact_ask(folded_of(question), index_.facts); ask.any())
        if (auto intents = read_facts(question, ask); !intents.empty()) return intents;
    auto intents = read_clause(question);
    const Cues cues = detect_cues(join(question, false));
    const std::string size = asked_size(question);
    for (auto& i : intents) {
        // "2 kg pasta ne tutar": a count over a category gives each one's total.
        if (i.kind == IntentKind::list) std::tie(i.quantity, i.unit) = asked_quantity(question, index_);
        if (i.kind != IntentKind::product) continue;
        i.size = size;
        i.restock = cues.restock;
        // An order asked again ("kargo dahil?") keeps its counts unless the message gives one.
        if (auto asked = asked_quantity(question, index_); asked.first > 0 || i.quantity == 0)
            std::tie(i.quantity, i.unit) = asked;
        // "yarım kilo", "1,5 kg", "250 gram": a weight no count says.
        if (const double kg = weight_of(question); kg > 0 && kg != std::floor(kg)) {
            i.weight = kg;
            i.quantity = 0;
            i.unit = "kg";
        }
        i.with_charges =
            std::any_of(question.begin(), question.end(), [&](const Word& w) { return names_charge(w); });
        if (!size.empty()) i.arguments["query_type"] = "details";
    }
    return intents;
}

std::vector<Intent> Reader::read_clause(const Words& question) {
    const std::string folded = join(question, false);
    Cues cues = detect_cues(folded);
    const bool names_detail = std::any_of(question.begin(), question.end(),
                                          [&](const Word& w) { return is_detail_word(w.folded); });
    if (names_detail) cues.details = true;
    // "3 tane alırsam?": a quantity asks what it comes to.
    if ((asked_quantity(question, index_).first > 0 || weight_of(question) > 0) && !cues.stock &&
        !cues.details)
        cues.price = true;
    // "a velvet robe gift wrapped, how much?": a fee named beside an item whose price the message
    // asks, in this clause or another, is asked with it.
    Cues charge_cues = cues;
    charge_cues.price = cues.price || asks_price_;
    Words content = without_charges(content_of(question), charge_cues);
    // "2 tane alırsam kargo dahil ne tutar" after a price: a count and a fee name no item of their
    // own; the offering talked about is counted, with the fee.
    if (!last_products_.empty() && asked_quantity(question, index_).first > 0 &&
        (cues.price ||
         std::any_of(content.begin(), content.end(), [&](const Word& w) { return names_charge(w); })) &&
        std::all_of(content.begin(), content.end(),
                    [&](const Word& w) { return names_charge(w) || is_charge_word(w.folded); }))
        content.clear();
    // Not "teslimat var mı": whether there is delivery is the knowledge entry's answer.
    if (!cues.have && !cues.list && !cues.stock)
        if (auto again = order_with_charges(question, content); !again.empty()) return again;

    static const std::set<std::string> kPlaceWords = {"nerede",  "neredesiniz", "nerde", "where",
                                                      "located", "neresi",      "hangi", "semt"};
    bool only_place = std::all_of(content.begin(), content.end(),
                                  [&](const Word& w) { return kPlaceWords.count(w.folded) > 0; });
    auto topics = detect_business_topics(folded, only_place);
    // "boya kaç saat sürer" asks how long a service takes, not the opening hours.
    if (cues.duration && !content.empty()) std::erase(topics, "hours");
    // "simit kaçta çıkıyor": the time the business's notes give for something it sells, not the
    // opening hours — when an entry names that offering and its answer gives a time of day.
    if (topics.size() == 1 && topics.front() == "hours" && has_tool("search_knowledge_base")) {
        if (const auto named = offering_words_in(content); !named.empty()) {
            auto about_it = [&](const sdk::KnowledgeEntry& e) { return timed_entry_names(e, named); };
            auto kb = best_knowledge(question, about_it);
            if (kb.first.empty())
                for (const auto& e : knowledge_)
                    if (about_it(e)) {
                        kb.first = e.id;
                        break;
                    }
            if (!kb.first.empty()) return {knowledge_intent(question, kb.first)};
        }
    }
    // "ofis için 100 simit sipariş edersem fiyatı ne olur": a count of an offering named exactly,
    // asked what it comes to, is an order, not the business's ordering note.
    if (!topics.empty() && cues.price && asked_quantity(question, index_).first > 0) {
        const auto named = rank(content, "");
        if (!named.empty() && named.front().second.coverage >= 0.99 &&
            named.front().second.specificity >= 0.99)
            topics.clear();
    }
    if (!topics.empty()) {
        std::vector<Intent> out;
        out.reserve(topics.size());
        for (const auto& t : topics) out.push_back(info_intent(t, question));
        return out;
    }

    const std::string info_key = info_key_in(question, folded);
    const auto kb = best_knowledge(question);
    const bool has_kb = has_tool("search_knowledge_base");
    const auto ranked = rank(content, "");
    auto category = category_naming(content);
    // "2 sabahlık": a count asks for an item, so an offering the words name exactly wins even over
    // a category of the same name.
    const bool counted = asked_quantity(question, index_).first > 0;
    if (category && (!cues.list || cues.details) && !ranked.empty() &&
        ranked.front().second.coverage >= 0.99 && ranked.front().second.specificity >= 0.99 &&
        (counted || covered_share(text::tokens(category->name), folded_of(content)) < 0.99)) {
        // "simit ne kadar": an offering named exactly so wins over a category ("Simit & Poğaça")
        // whose name merely contains the word; "hangi simitleriniz var" still lists it, but
        // "simidin alerjenleri neler" asks about the one.
        category.reset();
    }
    const std::string type_word = general_type_word(text::tokens(folded));
    // "8 derslik paketten 2 tane ne tutar": a category of one offering, named but not listed,
    // names that offering.
    if (category && !category->only_offering.empty() && !cues.list && !cues.have && cues.extreme.empty()) {
        auto i = product_by_id(category->only_offering, cues.stock ? "stock" : "price");
        i.follow_up = false;
        return {i};
    }

    std::vector<std::string> strong;  // offerings the words name, best first
    if (!ranked.empty()) {
        const auto& best = ranked.front().second;
        bool clear = best.coverage >= 0.99 || (content.size() >= 3 && best.coverage >= 0.66);
        if (clear && best.score() >= 0.5) {
            // Every offering the words name as fully as the best ("saten gecelik": both colours).
            for (const auto& [o, fit] : ranked)
                if (fit.coverage >= best.coverage - 0.01 &&
                    fit.score() >= best.score() - (best.coverage >= 0.99 ? 0.2 : 0.01))
                    strong.push_back(o->id);
        }
    }
    // "peki bordo olanı?": a word that picks one offering of the category just talked about.
    std::vector<std::string> follow;
    std::string context_category = last_category_;
    if (context_category.empty() && !last_products_.empty())
        if (auto o = host_.catalog().get(last_products_.front())) context_category = o->category;
    if (!context_category.empty() && !content.empty() && content.size() <= 2) {
        auto in_category = rank(content, context_category);
        if (!in_category.empty() && in_category.front().second.coverage >= 0.99) {
            const auto& best = in_category.front().second;
            for (const auto& [o, fit] : in_category)
                if (fit.coverage >= 0.99 && fit.score() >= best.score() - 0.01) follow.push_back(o->id);
        }
    }

    // An offering the words name exactly ("haircut" is its alias) wins over a loose fit within
    // the category talked about before ("Hair Colour").
    if (!follow.empty() && !strong.empty() && ranked.front().second.coverage >= 0.99 &&
        ranked.front().second.specificity >= 0.99 &&
        std::find(follow.begin(), follow.end(), ranked.front().first->id) == follow.end())
        follow.clear();
    // A detail named ("brownie gramajı ne kadar") is what "ne kadar" asks; the answer has the
    // price too.
    std::string query_type = names_detail                               ? "details"
                             : cues.stock || (cues.have && !cues.price) ? "stock"
                             : cues.price                               ? "price"
                             : cues.details                             ? "details"
                                                                        : "price";
    auto products_from = [&](const std::vector<std::string>& ids, double confidence, bool is_follow_up) {
        std::string qt = query_type;
        if (is_follow_up && !cues.any_product() && !last_query_type_.empty()) qt = last_query_type_;
        if (is_follow_up) {
            auto i = product_by_id(ids.front(), qt);
            i.picked = ids;
            return std::vector<Intent>{i};
        }
        return std::vector<Intent>{product_intent(content, ids, qt, confidence)};
    };
    const bool kb_strong = has_kb && kb.second >= 0.6;
    const bool kb_ok = has_kb && kb.second >= 0.45;

    if (!cues.extreme.empty() && (category || content.empty())) {
        // "en ucuz pijama hangisi": the cheapest of a category (or of everything) from its list.
        auto i = category ? list_intent(category->name, "") : list_intent("", type_word);
        i.extreme = cues.extreme;
        return {i};
    }
    // The question is a knowledge entry's own ("Uzun saçta boya fiyatı değişir mi?", "Vegan
    // ürünleriniz neler?"): an offering that explains only some of its words ("boya"), or that
    // merely carries a word of a question about products in general ("vegan"), does not answer it.
    const bool kb_exact = has_kb && kb.second >= 0.9 && !category && follow.empty() && !ranked.empty() &&
                          (ranked.front().second.coverage < 0.99 ||
                           (cues.list && !type_word.empty() && ranked.front().second.specificity < 0.99));
    if (cues.any_product() || cues.list) {
        if (category) return {list_intent(category->name, "")};
        if (!follow.empty()) return products_from(follow, 0.8, true);
        if (kb_exact) return {knowledge_intent(question, kb.first)};
        if (!strong.empty()) return products_from(strong, 0.9, false);
        const bool about_product =
            cues.price || cues.stock || cues.details || cues.duration || !asked_size(question).empty();
        if (content.empty() && about_product && !last_products_.empty() && (type_word.empty() || counted)) {
            std::vector<Intent> out;
            for (std::size_t k = 0; k < last_products_.size() && k < 3; ++k) {
                auto i = product_by_id(last_products_[k], query_type);
                i.picked = {last_products_[k]};
                out.push_back(std::move(i));
            }
            return out;
        }
        if (content.empty() && !type_word.empty()) return {list_intent("", type_word)};
        if (!info_key.empty()) return with_named_offering(info_key, content, question, kb);
        if (kb_ok) return {knowledge_intent(question, kb.first)};
        if (content.empty()) {
            if (!type_word.empty() || cues.list || cues.have) return {list_intent("", type_word)};
            if (cues.price && !context_category.empty()) return {list_intent(context_category, "")};
            if (cues.price) return {list_intent("", "")};
            return {};
        }
        if (cues.any_product() || cues.list) {
            auto i = product_intent(content, {}, query_type, 0.6);
            return {i};
        }
        return {};
    }
    if (!info_key.empty()) return with_named_offering(info_key, content, question, kb);
    // "simit" alone names the offering; an entry that merely mentions it ("Simit ve poğaça kaçta
    // çıkıyor?") is not what was asked.
    const bool names_one_exactly = !ranked.empty() && ranked.front().second.coverage >= 0.99 &&
                                   ranked.front().second.specificity >= 0.99;
    if (kb_strong && (strong.empty() || (kb.second >= 0.9 && !names_one_exactly)))
        return {knowledge_intent(question, kb.first)};
    if (category) return {list_intent(category->name, "")};
    if (!follow.empty()) return products_from(follow, 0.75, true);
    if (!strong.empty()) return products_from(strong, 0.85, false);
    if (!type_word.empty() && content.empty()) return {list_intent("", type_word)};
    if (kb_ok) {
        auto i = knowledge_intent(question, kb.first);
        i.confidence = 0.7;
        return {i};
    }
    return {};
}

bool Reader::attach_to_previous(const Words& clause, std::vector<Intent>& previous) const {
    const std::string folded = join(clause, false);
    const Cues cues = detect_cues(folded);
    const auto [quantity, unit] = asked_quantity(clause, index_);
    // "simit ne kadar, vegan mı?": an attribute asked names nothing of its own.
    const FactAsk ask = read_fact_ask(folded_of(clause), index_.facts);
    const Words own = ask.any() ? unasked(clause, ask) : clause;
    if ((!cues.any_product() && quantity == 0 && !ask.any()) || !cues.extreme.empty() ||
        !content_of(own).empty())
        return false;
    if (!detect_business_topics(folded, false).empty() || !info_key_in(own, join(own, false)).empty())
        return false;
    if (previous.empty()) return false;
    // The earlier clause's answer already gives price and stock (or the fact asked about); a size
    // or details question asks for more of the same products.
    const std::string size = asked_size(clause);
    for (auto& i : previous) {
        if (i.kind != IntentKind::product) continue;
        if (ask.any()) {
            // The earlier clause's question ("ne kadar") is answered beside the attribute.
            const auto asked = i.arguments["query_type"];
            apply_fact_ask(i, ask, index_.facts, language_);
            i.arguments["query_type"] = asked;
            continue;
        }
        if (cues.details || cues.duration || !size.empty()) i.arguments["query_type"] = "details";
        if (!size.empty()) i.size = size;
        if (cues.restock) i.restock = true;
        if (quantity > 0) {
            i.quantity = quantity;
            i.unit = unit;
        }
    }
    return true;
}

Plan Reader::read() {
    Plan plan;
    const sdk::Message* current = nullptr;
    for (auto it = request_.messages.rbegin(); it != request_.messages.rend(); ++it)
        if (it->role == sdk::Role::user) {
            current = &*it;
            break;
        }
    for (const auto& m : request_.messages) {
        if (&m == current) break;
        if (m.role == sdk::Role::user || m.role == sdk::Role::assistant) plan.earlier_turns = true;
    }
    std::string fallback = request_.language.empty() ? host_.tenant().language : request_.language;
    if (const auto* v = request_.session.if_contains("language"); v && v->is_string())
        fallback = std::string(v->get_string());
    const std::string message = current ? current->text : std::string();
    language_ = text::detect_language(message, fallback);
    if (language_ != "tr" && language_ != "en") language_ = "tr";
    if (language_ != "en" && looks_english(message, text::tokens(message), index_.english_words))
        language_ = "en";
    plan.language = language_;

    const std::string folded = text::fold(message);
    plan.handoff_reason = detect_handoff(folded, host_.tenant().handoff_topics);
    if (!plan.handoff_reason.empty()) return plan;

    std::string rest;
    plan.small_talk = detect_small_talk(folded, rest);
    if (rest.empty() && plan.small_talk != SmallTalk::none) return plan;

    asks_price_ = detect_cues(folded).price || asked_quantity(split_words(message), index_).first > 0;
    if (auto again = order_asked_again(message); !again.empty()) {
        plan.intents = std::move(again);
        plan.order_again = true;
        return plan;
    }

    // "I'm 170 cm and 65 kg, what size?", "between 42 and 44, which size?": one size question,
    // however many clauses it is said in.
    if (!index_.facts.chart.empty() && has_prefix_word(text::tokens(folded), {"beden", "size", "olurum"})) {
        Words all;
        for (auto& clause : split_questions(message, index_.joined_by_and))
            all.insert(all.end(), clause.begin(), clause.end());
        if (const auto ask = read_fact_ask(folded_of(all), index_.facts); ask.measured || ask.worn_to > 0) {
            if (plan.intents = read_facts(all, ask); !plan.intents.empty()) return plan;
        } else if (const auto letter = asked_size(all);
                   !letter.empty() && !std::isdigit(static_cast<unsigned char>(letter[0]))) {
            // "S beden var mı saten gecelikte": the size and the offering it is asked of, one question.
            auto intents = read_question(all);
            if (std::any_of(intents.begin(), intents.end(), [](const Intent& i) {
                    return i.kind == IntentKind::product && !i.picked.empty() && !i.size.empty();
                })) {
                plan.intents = std::move(intents);
                return plan;
            }
        }
    }

    // Clauses that ask nothing on their own ("siyah", in "siyah ve bordo gecelik var mı") are
    // read together with the clause after them.
    Words carry;
    std::size_t previous_clause = 0;  // where the intents of the previous clause begin
    Words previous_words;             // what the previous clause named
    std::vector<Words> clauses;
    for (auto& clause : split_questions(message, index_.joined_by_and))
        for (auto& part : split_at_counts(clause, index_.name_numbers)) clauses.push_back(std::move(part));
    // "with the monthly pass, how much is each class?": a package and the comparison asked in two
    // clauses of one question.
    if (!index_.packages.empty() && clauses.size() == 2 && asks_package_or_single(folded) &&
        std::none_of(clauses.begin(), clauses.end(),
                     [](const Words& c) { return asks_package_or_single(join(c, false)); })) {
        Words all = clauses.front();
        all.insert(all.end(), clauses.back().begin(), clauses.back().end());
        clauses = {all};
    }
    for (const auto& q : clauses) {
        Words question = carry;
        question.insert(question.end(), q.begin(), q.end());
        // "saten gecelik ne kadar, stokta var mı?": a clause naming nothing of its own asks
        // about what the clause before it named.
        if (previous_clause < plan.intents.size()) {
            std::vector<Intent> previous(plan.intents.begin() + static_cast<std::ptrdiff_t>(previous_clause),
                                         plan.intents.end());
            if (attach_to_previous(question, previous)) {
                std::copy(previous.begin(), previous.end(),
                          plan.intents.begin() + static_cast<std::ptrdiff_t>(previous_clause));
                carry.clear();
                continue;
            }
        }
        // "M beden giyiyorum, kadın pijama takımı var mı", "susama alerjim var, simit yiyebilir
        // miyim": a size or an attribute said before the product it is for belongs to that
        // product, not to the one talked about before.
        const auto fact = read_fact_ask(folded_of(question), index_.facts);
        // "with delivery, 4 brownies and 2 trilece": a fee said alone before counted items (whose
        // count asks what they come to) is asked with them; "kargo, iade" are two questions.
        const bool fee_words =
            std::any_of(question.begin(), question.end(), [&](const Word& w) { return names_charge(w); }) &&
            std::all_of(question.begin(), question.end(), [&](const Word& w) {
                return names_charge(w) || is_charge_word(w.folded) || is_stop_word(w.folded) ||
                       w.folded == "pay" || w.folded.starts_with("ode");  // "do I pay shipping?"
            });
        const bool only_fee =
            fee_words && &q != &clauses.back() && asked_quantity(*(&q + 1), index_).first > 0;
        // "4 sleep masks plus gift wrapping": a fee said after counted items is asked with them.
        if (fee_words && asks_price_ && previous_clause < plan.intents.size() &&
            std::all_of(plan.intents.begin() + static_cast<std::ptrdiff_t>(previous_clause),
                        plan.intents.end(),
                        [](const Intent& i) { return i.kind == IntentKind::product && i.quantity > 0; })) {
            for (auto it = plan.intents.begin() + static_cast<std::ptrdiff_t>(previous_clause);
                 it != plan.intents.end(); ++it)
                it->with_charges = true;
            continue;
        }
        // "for two people, a facial and gel polish": the people counted have the services after.
        const bool only_people =
            asked_quantity(question, index_).second == "kişi" && content_of(question).empty();
        const bool names_nothing = only_people ||
                                   (!asked_size(question).empty() && content_of(question).empty()) ||
                                   (fact.any() && content_of(unasked(question, fact)).empty()) || only_fee;
        if (&q != &clauses.back() && names_nothing) {
            const auto said = detect_cues(join(question, false));
            if (!said.price && !said.stock && !said.have) {
                carry = question;
                continue;
            }
        }
        auto intents = read_question(question);
        if (intents.empty() && !previous_words.empty()) {
            // "aylık paket kaç para ve kaç gün geçerli": read with what the clause before named.
            Words with_previous = previous_words;
            with_previous.insert(with_previous.end(), question.begin(), question.end());
            intents = read_question(with_previous);
        }
        const auto cues = detect_cues(join(q, false));
        if (intents.empty() && !cues.any_product() && !cues.list) {
            carry = question;
            continue;
        }
        carry.clear();
        const std::size_t before = plan.intents.size();
        for (auto& i : intents) {
            bool duplicate = std::any_of(plan.intents.begin(), plan.intents.end(), [&](const Intent& p) {
                return p.tool == i.tool && p.arguments == i.arguments && p.kind == i.kind;
            });
            if (!duplicate) plan.intents.push_back(std::move(i));
        }
        if (plan.intents.size() > before) {
            previous_clause = before;
            previous_words = content_of(question);
        }
    }
    recall_facts(plan.intents, text::tokens(folded), request_.session);
    share_people_count(plan);
    // "a cake for 10 people": people are no count of what is sold by the kilo.
    auto by_kilo = [&](const std::string& id) {
        const auto o = host_.catalog().get(id);
        if (!o) return false;
        const auto open = o->name.rfind('(');
        return open != std::string::npos && has_prefix_word(text::tokens(o->name.substr(open)), {"kg"});
    };
    for (auto& i : plan.intents) {
        if (i.unit != "kişi") continue;
        std::vector<std::string> ids = i.picked;
        if (i.kind == IntentKind::list)
            for (const auto& o : offerings_)
                if (o.category == str(i.arguments, "category")) ids.push_back(o.id);
        if (!ids.empty() && std::all_of(ids.begin(), ids.end(), by_kilo)) {
            i.quantity = 0;
            i.unit.clear();
        }
    }
    share_each_count(plan, text::tokens(folded));
    add_to_last_order(folded, plan);
    return plan;
}

}  // namespace

OfferingFit fit_offering(const std::vector<std::string>& words, const sdk::Offering& offering) {
    if (words.empty()) return {};
    return fit_words(words, words_of(offering));
}

std::shared_ptr<const TenantIndex> index_tenant(sdk::HostServices& host) {
    auto index = std::make_shared<TenantIndex>();
    index->offerings_ptr = host.catalog().held();
    if (index->offerings_ptr == nullptr) {
        index->own_offerings = host.catalog().all();
        index->offerings_ptr = &index->own_offerings;
    }
    index->knowledge_ptr = host.knowledge().held();
    if (index->knowledge_ptr == nullptr) {
        index->own_knowledge = host.knowledge().all();
        index->knowledge_ptr = &index->own_knowledge;
    }
    const auto& offerings = index->offerings();
    const auto& knowledge = index->knowledge();
    index->offering_words.reserve(offerings.size());
    for (const auto& o : offerings) index->offering_words.push_back(interned(words_of(o)));
    index->knowledge_words.reserve(knowledge.size());
    for (const auto& e : knowledge) index->knowledge_words.push_back(knowledge_words_of(e));
    index->categories = categories_of(offerings);
    for (const auto& w : text::tokens(host.tenant().name)) index->tenant_words.insert(w);
    index->detail_words = detail_words_of(offerings, index->offering_words);
    index->english_words = english_words_of(offerings, knowledge);
    index->facts = tenant_facts(offerings, knowledge);
    index->charges = charges_of(knowledge);
    index->packages = find_packages(offerings);
    for (const auto& ow : index->offering_words)
        for (const auto& names : {ow.names, ow.aliases})
            for (const auto& name : names)
                if (name.size() > 1 && is_stop_word(name.front()))
                    index->name_starts[std::string(name.front())].emplace(name[1]);
    for (const auto& ow : index->offering_words)
        for (const auto& names : {ow.names, ow.aliases})
            for (const auto& name : names)
                for (std::size_t k = 1; k + 1 < name.size(); ++k)
                    if (name[k] == "ve" || name[k] == "and")
                        index->joined_by_and.emplace(name[k - 1], name[k + 1]);
    for (const auto& ow : index->offering_words)
        for (const auto& names : {ow.names, ow.aliases})
            for (const auto& name : names)
                for (std::size_t k = 0; k < name.size(); ++k) {
                    if (name[k].empty() || !std::isdigit(static_cast<unsigned char>(name[k][0]))) continue;
                    auto& beside = index->name_numbers[std::string(name[k])];
                    if (k > 0) beside.emplace(name[k - 1]);
                    if (k + 1 < name.size()) beside.emplace(name[k + 1]);
                }
    return index;
}

const std::vector<Charge>& charges_in(const TenantIndex& index) { return index.charges; }

Plan understand(const sdk::ProviderRequest& request, sdk::HostServices& host, const TenantIndex& index) {
    return Reader(request, host, index).read();
}

namespace {

template <class W>
OfferingFit fit_words(const std::vector<std::string>& words, const BasicOfferingWords<W>& ow) {
    OfferingFit fit;
    if (words.empty()) return fit;
    // A word is explained by the name, an alias or the category; an attribute ("pamuk",
    // "siyah") explains it only half, so it narrows down but does not name an offering.
    // An attribute said exactly ("pembe terlik") explains its word fully once another word names
    // the offering.
    double explained = 0;
    int named = 0, exact_attributes = 0;
    for (const auto& q : words) {
        double best = 0;
        for (const auto& n : ow.names) best = std::max(best, best_in(q, n));
        for (const auto& a : ow.aliases) best = std::max(best, best_in(q, a));
        best = std::max(best, 0.9 * best_in(q, ow.category));
        if (best >= 0.72) ++named;
        const double attribute = best_in(q, ow.attributes);
        if (best < 0.72 && attribute >= 0.99) ++exact_attributes;
        best = std::max(best, 0.7 * attribute);
        explained += best >= 0.72 ? 1 : best >= 0.55 ? 0.5 : 0;
    }
    if (named > 0) explained += 0.5 * exact_attributes;
    fit.coverage = explained / static_cast<double>(words.size());
    for (const auto& n : ow.names) fit.specificity = std::max(fit.specificity, covered_share(n, words));
    for (const auto& a : ow.aliases) fit.specificity = std::max(fit.specificity, covered_share(a, words));
    return fit;
}

}  // namespace

Plan understand(const sdk::ProviderRequest& request, sdk::HostServices& host) {
    return understand(request, host, *index_tenant(host));
}

}  // namespace tezgah::plugins::local
