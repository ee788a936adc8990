// Orders: several counted items in one message ("2 simit 3 poğaça ne tutar?") and the fees and
// discounts the tenant's knowledge base states ("500 TL ve üzeri siparişlerde kargo ücretsizdir;
// altındaki siparişlerde kargo ücreti 49,90 TL'dir", "kapıda ödeme (+20 TL)", "50 adet ve üzeri
// ... %10 indirim"), read from the knowledge answers once per plugin instance and applied to a total
// when the customer asks for them.
#include "assistant.hpp"
#include "fields.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

bool tr(std::string_view language) { return language != "en"; }

/// "10" for 10; "12,5" (tr) or "12.5" (en) for 12.5.
std::string format_number(double value, std::string_view language) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", value);
    std::string out = buf;
    if (tr(language)) std::replace(out.begin(), out.end(), '.', ',');
    return out;
}

/// One piece of a knowledge sentence: a word, a number, an amount of money or a percentage.
struct Piece {
    enum class Kind { word, number, money, percent } kind = Kind::word;
    std::string folded;  ///< a word, folded
    std::string shown;   ///< a word as written (lower case), for labels
    double value = 0;
    bool plus = false;      ///< "(+20 TL)": an amount added to something
    bool boundary = false;  ///< a comma, colon or bracket follows: a phrase ends here
};

/// "1.000" and "1,000" are a thousand; "49,90", "49.90" and "12,5" have a fraction: a separator
/// followed by one or two digits at the end is the decimal one, any other groups thousands.
std::optional<double> parse_amount(std::string_view s) {
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())) ||
        !std::isdigit(static_cast<unsigned char>(s.back())))
        return std::nullopt;
    std::string digits;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (std::isdigit(static_cast<unsigned char>(c))) {
            digits += c;
        } else if (c == '.' || c == ',') {
            if (s.size() - i - 1 <= 2) digits += '.';
        } else {
            return std::nullopt;
        }
    }
    return std::stod(digits);
}

bool is_money_word(std::string_view folded) {
    return folded == "tl" || folded == "try" || folded == "lira" || folded == "₺";
}

/// The pieces of one sentence. "TL'dir" is "TL"; "(+20" marks the amount as added.
std::vector<Piece> pieces_of(std::string_view sentence) {
    std::vector<std::string_view> chunks;
    for (std::size_t i = 0; i < sentence.size();) {
        while (i < sentence.size() && sentence[i] == ' ') ++i;
        const std::size_t start = i;
        while (i < sentence.size() && sentence[i] != ' ') ++i;
        if (i > start) chunks.push_back(sentence.substr(start, i - start));
    }
    std::vector<Piece> out;
    for (auto chunk : chunks) {
        Piece p;
        while (!chunk.empty() && (chunk.front() == '(' || chunk.front() == '+' || chunk.front() == '"')) {
            if (chunk.front() == '+') p.plus = true;
            chunk.remove_prefix(1);
        }
        while (!chunk.empty() && std::string_view(",;:)\"!?").find(chunk.back()) != std::string_view::npos) {
            p.boundary = true;
            chunk.remove_suffix(1);
        }
        if (auto apostrophe = chunk.find('\''); apostrophe != std::string_view::npos)
            chunk = chunk.substr(0, apostrophe);
        if (auto apostrophe = chunk.find("’"); apostrophe != std::string_view::npos)
            chunk = chunk.substr(0, apostrophe);
        if (chunk.empty()) continue;
        const bool percent_before = chunk.front() == '%';
        const bool percent_after = chunk.back() == '%';
        auto number = chunk;
        if (percent_before) number.remove_prefix(1);
        if (percent_after) number.remove_suffix(1);
        if (auto value = parse_amount(number)) {
            p.value = *value;
            p.kind = percent_before || percent_after ? Piece::Kind::percent : Piece::Kind::number;
            out.push_back(p);
            continue;
        }
        p.folded = text::fold(chunk);
        if (is_money_word(p.folded) && !out.empty() && out.back().kind == Piece::Kind::number) {
            out.back().kind = Piece::Kind::money;
            out.back().boundary = p.boundary;
            continue;
        }
        p.shown = text::lower_tr(chunk);
        out.push_back(std::move(p));
    }
    return out;
}

/// Sentences of a knowledge answer: a full stop followed by a space ends one ("1.000 TL" does not).
std::vector<std::string> sentences_of(const std::string& answer) {
    std::vector<std::string> out{""};
    for (std::size_t i = 0; i < answer.size(); ++i) {
        if (answer[i] == '.' && (i + 1 == answer.size() || answer[i + 1] == ' ')) {
            out.emplace_back();
            continue;
        }
        out.back() += answer[i];
    }
    std::erase_if(out, [](const auto& s) { return s.find_first_not_of(' ') == std::string::npos; });
    return out;
}

bool word_is(const Piece& p, std::initializer_list<std::string_view> words) {
    return p.kind == Piece::Kind::word &&
           std::any_of(words.begin(), words.end(), [&](auto w) { return p.folded == w; });
}

bool word_starts(const Piece& p, std::initializer_list<std::string_view> prefixes) {
    return p.kind == Piece::Kind::word &&
           std::any_of(prefixes.begin(), prefixes.end(), [&](auto w) { return p.folded.starts_with(w); });
}

/// "ve üzeri", "üzerindeki", "or more", "and over" after an amount, or "over", "above" before it:
/// the amount is a lower bound.
bool lower_bound_at(const std::vector<Piece>& pieces, std::size_t k) {
    if (k > 0 && word_is(pieces[k - 1], {"over", "above"})) return true;
    for (std::size_t n = k + 1; n < pieces.size() && n <= k + 3; ++n) {
        if (word_starts(pieces[n], {"uzeri", "uzerin", "ustu"}) ||
            word_is(pieces[n], {"more", "over", "above", "fazla"}))
            return true;
        if (pieces[n].kind != Piece::Kind::word) return false;
    }
    return false;
}

}  // namespace

bool is_charge_word(std::string_view folded) {
    static const std::set<std::string, std::less<>> kWords = {
        "ucret", "ucreti", "ucretsiz", "ucretsizdir", "cost",        "costs",  "fee",
        "fees",  "free",   "fiyat",    "fiyati",      "price",       "bedava", "siparis",
        "order", "orders", "indirim",  "discount",    "karsiliginda"};
    return kWords.count(folded) > 0;
}

namespace {

/// The words just before piece `k` back to a phrase boundary ("havale/EFT ve [kapıda ödeme] (+20
/// TL)"), at most three, as written; empty when a stop word or verb is among them.
std::vector<const Piece*> label_before(const std::vector<Piece>& pieces, std::size_t k) {
    std::vector<const Piece*> out;
    for (std::size_t n = k; n-- > 0 && out.size() < 3;) {
        const auto& p = pieces[n];
        if (p.kind != Piece::Kind::word || p.boundary || word_is(p, {"ve", "and", "or", "veya", "ile"}) ||
            word_starts(p, {"siparis", "order", "altind", "below"}))
            break;
        if (word_is(p, {"costs", "cost"})) continue;
        out.insert(out.begin(), &p);
    }
    // "cash on delivery" and "(a) gift box" are labels, "on edible paper" or "it" is not.
    if (!out.empty() && word_is(*out.front(), {"a", "an", "the"})) out.erase(out.begin());
    if (!out.empty() && (is_stop_word(out.front()->folded) || is_stop_word(out.back()->folded))) return {};
    for (const auto* p : out)
        if (is_verb_form(p->folded)) return {};
    return out;
}

/// "[30 TL] karşılığında hediye paketi yapıyor": up to two words after the amount, before a verb.
std::vector<const Piece*> label_after(const std::vector<Piece>& pieces, std::size_t k) {
    std::vector<const Piece*> out;
    for (std::size_t n = k + 1; n < pieces.size() && out.size() < 2; ++n) {
        const auto& p = pieces[n];
        if (p.kind != Piece::Kind::word || is_stop_word(p.folded) || is_verb_form(p.folded)) break;
        out.push_back(&p);
        if (p.boundary) break;
    }
    return out;
}

std::string shown_of(const std::vector<const Piece*>& label) {
    std::string out;
    for (const auto* p : label) out += (out.empty() ? "" : " ") + p->shown;
    return out;
}

/// The charges one sentence of one language states, added to `out`; `base` holds the entry's id and
/// its keywords' words.
void read_sentence(const std::vector<Piece>& pieces, std::string_view language, Charge base,
                   std::vector<Charge>& out) {
    auto money = [&](std::size_t k) { return pieces[k].kind == Piece::Kind::money; };
    const bool free = std::any_of(pieces.begin(), pieces.end(), [](const Piece& p) {
        return word_starts(p, {"ucretsiz", "free"});
    });
    // "500 TL ve üzeri siparişlerde kargo ücretsizdir; altındaki siparişlerde kargo ücreti 49,90 TL".
    if (free) {
        std::optional<std::size_t> threshold, fee;
        for (std::size_t k = 0; k < pieces.size(); ++k) {
            if (!money(k)) continue;
            if (!threshold && lower_bound_at(pieces, k))
                threshold = k;
            else if (!fee)
                fee = k;
        }
        if (threshold && fee) {
            base.amount = pieces[*fee].value;
            base.free_from = pieces[*threshold].value;
            const auto label = label_before(pieces, *fee);
            (tr(language) ? base.label_tr : base.label_en) = shown_of(label);
            out.push_back(std::move(base));
        }
        return;
    }
    // "50 adet ve üzeri simit, poğaça ve börek siparişlerinde %10 indirim".
    const bool discount =
        std::any_of(pieces.begin(), pieces.end(),
                    [](const Piece& p) {
                        return word_starts(p, {"indirim", "discount"});
                    }) ||
        std::any_of(pieces.begin(), pieces.end(), [](const Piece& p) { return word_is(p, {"off"}); });
    if (discount) {
        auto percent = std::find_if(pieces.begin(), pieces.end(),
                                    [](const Piece& p) { return p.kind == Piece::Kind::percent; });
        for (std::size_t k = 0; k < pieces.size() && percent != pieces.end(); ++k) {
            if (pieces[k].kind != Piece::Kind::number || !lower_bound_at(pieces, k)) continue;
            base.kind = Charge::Kind::discount;
            base.percent = percent->value;
            base.min_quantity = static_cast<int>(pieces[k].value);
            // What it is for: the words after the bound up to "siparişlerinde" / "get".
            std::size_t n = k + 1;
            while (n < pieces.size() && !word_starts(pieces[n], {"uzeri", "uzerin", "ustu"}) &&
                   !word_is(pieces[n], {"more", "over", "above", "fazla"}))
                ++n;
            for (++n; n < pieces.size(); ++n) {
                const auto& p = pieces[n];
                if (p.kind != Piece::Kind::word || word_starts(p, {"siparis", "order", "alim"}) ||
                    word_is(p, {"get", "receive", "have"}))
                    break;
                if (!word_is(p, {"ve", "and", "or", "veya", "adet"}) && !is_stop_word(p.folded))
                    base.scope.push_back(p.folded);
            }
            out.push_back(std::move(base));
            return;
        }
        return;
    }
    // "kapıda ödeme (+20 TL)", "30 TL karşılığında hediye paketi", "gift wrapping costs 30 TL".
    bool flat = false;
    for (std::size_t k = 0; k < pieces.size(); ++k) {
        if (!money(k)) continue;
        std::vector<const Piece*> label;
        if (pieces[k].plus || (k > 0 && word_is(pieces[k - 1], {"costs", "cost"})))
            label = label_before(pieces, k);
        else if (k + 1 < pieces.size() && word_is(pieces[k + 1], {"karsiliginda"}))
            label = label_after(pieces, k + 1);
        if (label.empty()) continue;
        Charge c = base;
        c.amount = pieces[k].value;
        (tr(language) ? c.label_tr : c.label_en) = shown_of(label);
        // A flat fee is asked for by its own first word ("kapıda", "hediye", "gift").
        c.triggers.push_back(label.front()->folded);
        out.push_back(std::move(c));
        flat = true;
    }
    if (flat) return;
    // "Pasta teslimatı ... 150 TL'dir": the entry's own fee ("teslimat") for some items only
    // ("pasta"); kept only beside a fee of the same entry for everything else (charges_of).
    const auto amounts = std::count_if(pieces.begin(), pieces.end(),
                                       [](const Piece& p) { return p.kind == Piece::Kind::money; });
    if (amounts != 1) return;
    for (std::size_t k = 1; k < pieces.size(); ++k) {
        const auto& p = pieces[k];
        const bool topic = p.kind == Piece::Kind::word &&
                           std::any_of(base.words.begin(), base.words.end(),
                                       [&](const auto& w) { return word_match(p.folded, w) >= 0.8; });
        if (!topic) continue;
        const auto& before = pieces[k - 1];
        if (before.kind != Piece::Kind::word || before.boundary || is_stop_word(before.folded) ||
            is_charge_word(before.folded))
            return;
        Charge c = base;
        c.amount = std::find_if(pieces.begin(), pieces.end(), [](const Piece& q) {
                       return q.kind == Piece::Kind::money;
                   })->value;
        c.scope = {before.folded};
        (tr(language) ? c.label_tr : c.label_en) = before.shown + " " + p.shown;
        out.push_back(std::move(c));
        return;
    }
}

/// The same charge read from the Turkish answer and from its translation: one charge.
bool same_charge(const Charge& a, const Charge& b) {
    return a.entry_id == b.entry_id && a.kind == b.kind && std::abs(a.amount - b.amount) < 0.005 &&
           std::abs(a.percent - b.percent) < 0.005 && a.min_quantity == b.min_quantity;
}

/// A label missing in one language: the entry's first keyword said in that language's answer or
/// question ("shipping cost" for "below that it costs 49.90 TL").
std::string label_from_keywords(const sdk::KnowledgeEntry& e, std::string_view language) {
    const auto said = text::tokens(e.answer_in(language) + " " + e.question_in(language));
    for (const auto& k : e.keywords) {
        const auto words = text::tokens(k);
        const bool all_said = std::all_of(words.begin(), words.end(), [&](const auto& w) {
            return std::any_of(said.begin(), said.end(),
                               [&](const auto& s) { return word_match(s, w) >= 0.8; });
        });
        if (all_said) return text::lower_tr(k);
    }
    return {};
}

void sort_unique(std::vector<std::string>& words) {
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
}

/// Labels, and the words that ask for a charge and that name it.
void complete(Charge& c, const sdk::KnowledgeEntry& e) {
    // A fee free above a total, or one for some items, is the entry's own topic ("kargo",
    // "teslimat", "delivery"): its keywords ask for it. A flat fee is named by its label only
    // ("kapıda ödeme", not every word about payments).
    const bool topic_fee = c.kind == Charge::Kind::fee && (c.free_from > 0 || !c.scope.empty());
    if (topic_fee)
        for (const auto& w : c.words)
            if (w.size() >= 4) c.triggers.push_back(w);
    if (!topic_fee) c.words.clear();
    if (c.kind == Charge::Kind::discount)
        for (const char* w : {"indirim", "indirimli", "discount", "toplu", "bulk"}) c.triggers.push_back(w);
    if (c.label_tr.empty()) c.label_tr = label_from_keywords(e, "tr");
    if (c.label_en.empty()) c.label_en = label_from_keywords(e, "en");
    // Every word naming it, so that "kadife sabahlık hediye paketi ile" leaves the sabahlık.
    for (const auto& label : {c.label_tr, c.label_en})
        for (auto& w : text::tokens(label)) c.words.push_back(std::move(w));
    std::erase_if(c.words, [&](const auto& w) {
        return is_stop_word(w) || is_charge_word(w) ||
               std::find(c.scope.begin(), c.scope.end(), w) != c.scope.end();
    });
    c.words.insert(c.words.end(), c.triggers.begin(), c.triggers.end());
    sort_unique(c.words);
    sort_unique(c.triggers);
    sort_unique(c.scope);
}

/// The charges one entry states, read from its answer and its English translation, each once.
std::vector<Charge> charges_in_entry(const sdk::KnowledgeEntry& e) {
    std::vector<Charge> found;
    for (const char* language : {"tr", "en"}) {
        if (language == std::string_view("en") && !e.translations.count("en")) continue;
        Charge base;
        base.entry_id = e.id;
        for (const auto& k : e.keywords)
            for (auto& w : text::tokens(k))
                if (!is_stop_word(w) && !is_charge_word(w)) base.words.push_back(std::move(w));
        for (const auto& sentence : sentences_of(e.answer_in(language)))
            read_sentence(pieces_of(sentence), language, base, found);
    }
    std::vector<Charge> merged;
    for (auto& c : found) {
        auto same =
            std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return same_charge(m, c); });
        if (same == merged.end()) {
            merged.push_back(std::move(c));
            continue;
        }
        if (same->label_tr.empty()) same->label_tr = c.label_tr;
        if (same->label_en.empty()) same->label_en = c.label_en;
        same->triggers.insert(same->triggers.end(), c.triggers.begin(), c.triggers.end());
        same->scope.insert(same->scope.end(), c.scope.begin(), c.scope.end());
    }
    // A fee for some items only stands beside the entry's fee for everything else.
    std::erase_if(merged, [&](const Charge& c) {
        return c.kind == Charge::Kind::fee && !c.scope.empty() &&
               std::none_of(merged.begin(), merged.end(), [&](const Charge& m) {
                   return m.kind == Charge::Kind::fee && m.scope.empty() && m.free_from > 0;
               });
    });
    for (auto& c : merged) complete(c, e);
    return merged;
}

}  // namespace

std::vector<Charge> charges_of(const std::vector<sdk::KnowledgeEntry>& knowledge) {
    std::vector<Charge> out;
    for (const auto& e : knowledge)
        for (auto& c : charges_in_entry(e)) out.push_back(std::move(c));
    return out;
}

namespace {

/// One counted item of an order, from its get_product_info result.
struct Line {
    std::size_t intent = 0;  ///< its index in the plan
    std::optional<sdk::Offering> offering;
    json::object product;
    int quantity = 1;
    double weight = 0;    ///< kilograms of what is sold by the kilo ("yarım kilo baklava"), or 0
    std::string unit;     ///< "adet", "kg"
    bool priced = false;  ///< in the total: available and in stock
};

/// The product a found result answers with; of several that fit the words equally ("saten
/// gecelik": black and burgundy), the first one in stock.
std::optional<json::object> product_of(const Intent& intent, const sdk::ToolResult* result) {
    if (!result || !result->ok || !result->content.is_object()) return std::nullopt;
    const auto& answer = result->content.get_object();
    const auto* product = answer.if_contains("product");
    if (!flag(answer, "found", false) || !product || !product->is_object()) return std::nullopt;
    const auto& first = product->get_object();
    const bool picked = intent.follow_up || std::find(intent.picked.begin(), intent.picked.end(),
                                                      str(first, "id")) != intent.picked.end();
    if (!picked) return std::nullopt;  // the tool's own guess: answered as a product question
    if (flag(first, "in_stock", true)) return first;
    if (const auto* also = answer.if_contains("also_matching"); also && also->is_array())
        for (const auto& b : also->get_array())
            if (b.is_object() && flag(b.get_object(), "in_stock", false) &&
                std::find(intent.picked.begin(), intent.picked.end(), str(b.get_object(), "id")) !=
                    intent.picked.end())
                return b.get_object();
    return first;
}

/// "Kargo ücreti" from "kargo ücreti": the first letter upper case (ASCII and Turkish letters).
std::string capitalized(std::string s, std::string_view language) {
    if (s.empty()) return s;
    if (s[0] == 'i' && tr(language)) return "İ" + s.substr(1);
    if (s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    static const std::pair<std::string_view, std::string_view> kUpper[] = {
        {"ç", "Ç"}, {"ğ", "Ğ"}, {"ı", "I"}, {"ö", "Ö"}, {"ş", "Ş"}, {"ü", "Ü"}};
    for (const auto& [lower, upper] : kUpper)
        if (s.starts_with(lower)) return std::string(upper) + s.substr(lower.size());
    return s;
}

/// Whether a discount's words ("simit", "poğaça", "börek") name this offering; no words: all do.
bool in_scope(const Charge& discount, const std::optional<sdk::Offering>& offering) {
    if (discount.scope.empty()) return true;
    if (!offering) return false;
    std::vector<std::string> names = text::tokens(offering->name);
    for (const auto& a : offering->aliases)
        for (auto& w : text::tokens(a)) names.push_back(std::move(w));
    return std::any_of(discount.scope.begin(), discount.scope.end(), [&](const std::string& s) {
        return std::any_of(names.begin(), names.end(),
                           [&](const auto& n) { return word_match(n, s) >= 0.85; });
    });
}

/// Whether the offering is priced by the kilo: its name says so ("Fıstıklı Baklava (kg)").
bool sold_by_kilo(const Line& line) {
    const std::string name = line.offering ? line.offering->name : str(line.product, "name");
    const auto open = name.rfind(" (");
    return open != std::string::npos && name.back() == ')' &&
           quantity_unit(text::fold(name.substr(open + 2, name.size() - open - 3))) == "kg";
}

/// "0,5 kg Fıstıklı Baklava: 0,5 × 1.400 TL = 700 TL" for `kg` kilograms (what the stock holds
/// when it holds less than asked); adds the line's amount to `sum`.
std::string weighed_text(Line& line, const std::string& name, double kg, double price,
                         const std::string& currency, std::string_view language, double& sum) {
    std::string shortage;
    if (kg < line.weight)
        shortage = tr(language) ? " (stokta yalnızca " + format_number(kg, language) + " kg var)"
                                : " (only " + format_number(kg, language) + " kg in stock)";
    sum += price * kg;
    line.priced = true;
    const std::string amount = format_number(kg, language) + (tr(language) ? " kg " : " kg of ") + name;
    return amount + ": " + format_number(kg, language) + " × " + format_price(price, currency, language) +
           " = " + format_price(price * kg, currency, language) + shortage;
}

/// "2 adet Simit: 2 × 15 TL = 30 TL" ("Simit: 2 × 15 TL = 30 TL" without `say_amount`), with what
/// the stock holds when it holds fewer; adds the line's amount to `sum`.
std::string line_text(Line& line, const std::string& currency, std::string_view language, double& sum,
                      bool say_amount = true) {
    std::string name = line.offering ? line.offering->name_in(language) : str(line.product, "name");
    // "Su Böreği (porsiyon)" counted is "3 porsiyon Su Böreği"; "Fıstıklı Baklava (kg)" by kg "2 kg ...".
    if (const auto open = name.rfind(" ("); open != std::string::npos && name.back() == ')') {
        const std::string said = name.substr(open + 2, name.size() - open - 3);
        const std::string unit = quantity_unit(text::fold(said));
        if (unit == line.unit || (line.unit == "adet" && !unit.empty() && tr(language))) {
            line.unit = line.unit == "adet" ? said : line.unit;
            name.resize(open);
        }
    }
    const bool counted = line.unit == "adet";
    auto amount = [&](int n) {
        if (tr(language)) return std::to_string(n) + " " + line.unit + " " + name;
        return std::to_string(n) + (counted ? " × " : " " + english_unit(line.unit, n) + " of ") + name;
    };
    if (!flag(line.product, "available", true) || (line.offering && !line.offering->available))
        return tr(language) ? name + " artık satışta değil" : name + " is no longer available";
    const auto* stock_value = line.product.if_contains("stock");
    const bool known_stock = stock_value && (stock_value->is_int64() || stock_value->is_uint64());
    const int stock = known_stock ? static_cast<int>(num(line.product, "stock", 0)) : line.quantity;
    if (!flag(line.product, "in_stock", true) || stock <= 0)
        return tr(language) ? name + " şu an stokta yok" : name + " is out of stock right now";
    std::string shortage;
    if (stock < line.quantity) {
        shortage = tr(language) ? " (stokta yalnızca " + std::to_string(stock) + " " + line.unit + " var)"
                                : " (only " + std::to_string(stock) + " in stock)";
        line.quantity = stock;
    }
    const double price = num(line.product, "price", 0);
    if (line.weight > 0)
        return weighed_text(line, name, known_stock ? std::min<double>(stock, line.weight) : line.weight,
                            price, currency, language, sum);
    sum += price * line.quantity;
    line.priced = true;
    if (line.quantity == 1 && counted && shortage.empty())
        return name + ": " + format_price(price, currency, language);
    // "3 adet" of a class or a service reads wrong: its line is "Mat Pilates: 3 × 400 TL = 1.200 TL".
    const bool service = line.offering && line.offering->type == "SERVICE";
    return (say_amount && !service ? amount(line.quantity) : name) + ": " + std::to_string(line.quantity) +
           " × " + format_price(price, currency, language) + " = " +
           format_price(price * line.quantity, currency, language) + shortage;
}

}  // namespace

namespace {

/// The found product intents of `plan` as order lines.
std::vector<Line> lines_of(const Plan& plan, const std::vector<const sdk::ToolResult*>& results,
                           sdk::HostServices& host) {
    std::vector<Line> lines;
    for (std::size_t k = 0; k < plan.intents.size() && k < results.size(); ++k) {
        const auto& intent = plan.intents[k];
        if (intent.kind != IntentKind::product) continue;
        auto product = product_of(intent, results[k]);
        if (!product) continue;
        Line line{
            k, host.catalog().get(str(*product, "id")),   std::move(*product), std::max(1, intent.quantity),
            0, intent.unit.empty() ? "adet" : intent.unit};
        if (sold_by_kilo(line)) line.weight = intent.weight;
        // "5 kişiyiz, herkese bir çay": one each of what is sold by the piece.
        if (line.unit == "kişi" && line.offering && line.offering->type == "PRODUCT") line.unit = "adet";
        lines.push_back(std::move(line));
    }
    return lines;
}

/// The fees the message asks for with its items: a fee asked about on its own beside them ("simit
/// kaç para, teslimat var mı") is the knowledge entry's answer, and a gift wrap also sold as an
/// item is counted by its line. A fee for some of the items ("pasta teslimatı") replaces the
/// entry's general one.
std::vector<const Charge*> fees_asked(const std::vector<Charge>& charges, const std::vector<Line>& lines,
                                      const Plan& plan, const std::vector<std::string>& words) {
    const bool with_items = std::any_of(lines.begin(), lines.end(),
                                        [&](const Line& l) { return plan.intents[l.intent].with_charges; });
    std::vector<const Charge*> fees;
    for (const auto& c : charges) {
        if (c.kind != Charge::Kind::fee || !with_items || !asks_for(c, words)) continue;
        const bool sold = std::any_of(lines.begin(), lines.end(), [&](const Line& l) {
            return l.offering && asks_for(c, text::tokens(l.offering->name));
        });
        const bool for_these = c.scope.empty() || std::any_of(lines.begin(), lines.end(), [&](const Line& l) {
                                   return in_scope(c, l.offering);
                               });
        if (!sold && for_these) fees.push_back(&c);
    }
    std::erase_if(fees, [&](const Charge* c) {
        return c->scope.empty() && std::any_of(fees.begin(), fees.end(), [&](const Charge* s) {
                   return !s->scope.empty() && s->entry_id == c->entry_id;
               });
    });
    return fees;
}

/// How many of the lines a discount is for, and what they cost.
std::pair<int, double> in_scope_of(const Charge& discount, const std::vector<Line>& lines) {
    int quantity = 0;
    double amount = 0;
    for (const auto& line : lines)
        if (line.priced && in_scope(discount, line.offering)) {
            quantity += line.quantity;
            amount += num(line.product, "price", 0) * line.quantity;
        }
    return {quantity, amount};
}

}  // namespace

Order render_order(const Plan& plan, const std::vector<const sdk::ToolResult*>& results,
                   std::string_view message, const std::vector<Charge>& charges, sdk::HostServices& host) {
    const std::string& language = plan.language;
    const std::string folded = text::fold(message);
    const auto words = text::tokens(folded);
    auto lines = lines_of(plan, results, host);
    Order out;
    if (lines.empty()) return out;
    std::string currency = str(lines.front().product, "currency");
    if (currency.empty()) currency = "TRY";
    auto price = [&](double amount) { return format_price(amount, currency, language); };
    std::string text;
    double goods = 0;
    for (auto& line : lines) {
        text += (text.empty() ? "" : "; ") + line_text(line, currency, language, goods);
        out.intents.push_back(line.intent);
        out.items.push_back(json::object{{"id", str(line.product, "id")},
                                         {"quantity", plan.intents[line.intent].quantity},
                                         {"unit", plan.intents[line.intent].unit}});
    }
    text += ".";

    // An order: several counted items or items summed, or items with a fee asked for, or a discount
    // that applies or is asked about.
    const auto counted = std::count_if(lines.begin(), lines.end(),
                                       [&](const Line& l) { return plan.intents[l.intent].quantity > 0; });
    const auto fees = fees_asked(charges, lines, plan, words);
    std::vector<const Charge*> discounts;
    for (const auto& c : charges)
        if (c.kind == Charge::Kind::discount &&
            (asks_for(c, words) || in_scope_of(c, lines).first >= c.min_quantity))
            discounts.push_back(&c);
    const bool asks_total =
        detect_cues(folded).price || has_prefix_word(words, {"tutar", "toplam", "total", "dahil", "hesap"});
    // "saten gecelik ve kadife sabahlık toplam ne tutar", "manikür ve pedikür ikisi", "both", an
    // order asked about again ("pedikürü çıkarırsak ne kadar olur?"): several items summed.
    // "how much are three simits and a tea?", "how much for a haircut and a hair mask?": items asked
    // what they come to, one of them counted or all said after "for", are one order too.
    const bool how_much_for = has_phrase(folded, "how much for") || has_phrase(folded, "what would");
    const bool sums = lines.size() >= 2 &&
                      (plan.order_again || (counted >= 1 && asks_total) || how_much_for ||
                       has_prefix_word(words, {"toplam", "total", "altogether", "together", "hepsi", "tutar",
                                               "owe", "ikisi", "both", "birlikte", "beraber", "hesap"}));
    const bool weighed = std::any_of(lines.begin(), lines.end(), [](const Line& l) { return l.weight > 0; });
    if (counted < 2 && !sums && !weighed && (fees.empty() || (!asks_total && counted == 0)) &&
        (discounts.empty() || counted == 0)) {
        // One item counted ("2 tane alsam?") is answered as a product, but "kargo dahil?" next
        // prices it as an order; so are several items priced one by one ("hepsi ne kadar?").
        Order none;
        if (counted > 0 || lines.size() > 1) none.items = std::move(out.items);
        return none;
    }

    double total = goods;
    std::vector<std::string> adjustments;
    for (const auto* d : discounts) {
        const auto [quantity, amount] = in_scope_of(*d, lines);
        const std::string percent = tr(language) ? "%" + format_number(d->percent, language)
                                                 : format_number(d->percent, language) + "%";
        const std::string from = std::to_string(d->min_quantity);
        out.entries.push_back(d->entry_id);
        if (quantity < d->min_quantity || amount <= 0) {
            adjustments.push_back(
                tr(language) ? percent + " indirim " + from + " adet ve üzeri siparişlerde geçerli"
                             : "The " + percent + " discount applies to orders of " + from + " or more");
            continue;
        }
        const double off = amount * d->percent / 100;
        total -= off;
        adjustments.push_back(tr(language) ? percent + " indirim (" + from + " adet ve üzeri): -" + price(off)
                                           : percent + " discount (" + from + " or more): -" + price(off));
    }
    const double before_fees = total;
    for (const auto* c : fees) {
        const std::string label = capitalized(tr(language) ? c->label_tr : c->label_en, language);
        out.entries.push_back(c->entry_id);
        out.topics.insert(out.topics.end(), c->triggers.begin(), c->triggers.end());
        if (c->free_from > 0 && before_fees >= c->free_from) {
            adjustments.push_back(tr(language)
                                      ? label + ": ücretsiz (" + price(c->free_from) +
                                            " ve üzeri siparişlerde; altında " + price(c->amount) + ")"
                                      : label + ": free (orders of " + price(c->free_from) + " or more; " +
                                            price(c->amount) + " below)");
            continue;
        }
        total += c->amount;
        std::string when;
        if (c->free_from > 0)
            when = tr(language) ? " (" + price(c->free_from) + " altı siparişlerde)"
                                : " (orders under " + price(c->free_from) + ")";
        adjustments.push_back(label + ": " + price(c->amount) + when);
    }
    const bool adjusted = total != goods;
    if (adjusted && lines.size() > 1)
        text += tr(language) ? " Ara toplam: " + price(goods) + "." : " Subtotal: " + price(goods) + ".";
    for (const auto& a : adjustments) text += " " + a + ".";
    if (lines.size() > 1 || adjusted || !fees.empty())
        text += tr(language) ? " Toplam: " + price(total) + "." : " Total: " + price(total) + ".";
    // Not asked, but worth knowing before ordering: "500 TL altı siparişlerde kargo ücreti 49,90 TL".
    for (const auto& c : charges) {
        const bool said = std::any_of(fees.begin(), fees.end(),
                                      [&](const Charge* f) { return f->entry_id == c.entry_id; }) ||
                          std::any_of(plan.intents.begin(), plan.intents.end(),
                                      [&](const Intent& i) { return i.knowledge_id == c.entry_id; });
        if (c.kind != Charge::Kind::fee || c.free_from <= 0 || before_fees >= c.free_from || said) continue;
        text += tr(language) ? " " + price(c.free_from) + " altı siparişlerde " + c.label_tr + " " +
                                   price(c.amount) + "."
                             : " " + capitalized(c.label_en, language) + " is " + price(c.amount) +
                                   " on orders under " + price(c.free_from) + ".";
    }
    out.text = std::move(text);
    return out;
}

std::string render_counted_list(const std::vector<json::object>& items, const Intent& intent,
                                std::string_view category, std::string_view language, sdk::HostServices& host,
                                std::size_t max_items) {
    const std::string unit = intent.unit.empty() ? "adet" : intent.unit;
    std::vector<std::string> lines;
    // "a cake for 10 people": people are no count of what is sold by the kilo; each one's price.
    const bool people_by_kilo =
        unit == "kişi" && std::all_of(items.begin(), items.end(), [&](const auto& b) {
            return sold_by_kilo(Line{0, host.catalog().get(str(b, "id")), b, 1, 0, unit});
        });
    if (people_by_kilo) {
        for (const auto& b : items) {
            if (lines.size() == max_items) break;
            const std::string currency = str(b, "currency").empty() ? "TRY" : str(b, "currency");
            lines.push_back(str(b, "name") + " (" + format_price(num(b, "price", 0), currency, language) +
                            ")");
        }
        return join_list(lines, language) + ".";
    }
    for (int pass = 0; pass < 2; ++pass)
        for (const auto& b : items) {
            if (lines.size() == max_items) break;
            const bool in_stock = flag(b, "in_stock", true);
            if (in_stock != (pass == 0)) continue;
            Line line{0, host.catalog().get(str(b, "id")), b, intent.quantity, 0, unit};
            std::string currency = str(b, "currency");
            double ignored = 0;
            lines.push_back(line_text(line, currency.empty() ? "TRY" : currency, language, ignored, false));
        }
    const std::string amount =
        std::to_string(intent.quantity) +
        (unit == "adet" && !tr(language) ? ""
                                         : " " + (tr(language) ? unit : english_unit(unit, intent.quantity)));
    std::string head = tr(language) ? amount + " için" : "For " + amount;
    if (!category.empty())
        head +=
            tr(language) ? " " + std::string(category) + " seçeneklerimiz" : " of " + std::string(category);
    std::string out = head + ": ";
    for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? "; " : "") + lines[i];
    return out + ".";
}

bool asks_for(const Charge& charge, const std::vector<std::string>& folded_words) {
    return std::any_of(charge.triggers.begin(), charge.triggers.end(), [&](const std::string& t) {
        return std::any_of(folded_words.begin(), folded_words.end(),
                           [&](const std::string& w) { return word_match(w, t) >= 0.8; });
    });
}

}  // namespace tezgah::plugins::local
