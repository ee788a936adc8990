// Counts and follow-ups over a whole order: a count said once for each item ("simit ve poğaçadan
// 5'er tane", "ikişer", "3 each of"), and the order of the turn before asked about again, whole
// ("hepsi ne kadar?"), without one of its items ("simiti çıkar, toplam?") or with another count of
// one ("simiti 5 yap").
#include "assistant.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cctype>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

/// "5", "12" or "two", "five": a count of up to three digits or said as a word, or 0.
int count_word(std::string_view folded) {
    const bool digits = !folded.empty() && folded.size() <= 3 &&
                        std::all_of(folded.begin(), folded.end(),
                                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    return digits ? std::stoi(std::string(folded)) : number_word(folded);
}

}  // namespace

int distributive_count(std::string_view folded) {
    // Turkish says "each" with a suffix on the number: "birer", "ikişer", "üçer", "altışar",
    // "5'er", "10'ar", "6'şar" (folded without the apostrophe). Not "onar" (ten each), which is
    // also "repairs" ("onarıcı").
    for (std::string_view suffix : {"ser", "sar", "er", "ar"}) {
        if (!folded.ends_with(suffix) || folded.size() <= suffix.size()) continue;
        const auto number = folded.substr(0, folded.size() - suffix.size());
        if (number == "bir") return 1;
        if (number != "on" && count_word(number) > 0) return count_word(number);
    }
    return 0;
}

void share_each_count(Plan& plan, const std::vector<std::string>& folded_words) {
    int count = 0;
    std::string unit = "adet";
    for (std::size_t k = 0; k < folded_words.size() && count == 0; ++k) {
        // "5'er tane", "ikişer ders"; "5 each", "two each of".
        std::size_t next = k + 1;
        count = distributive_count(folded_words[k]);
        if (count == 0 && next < folded_words.size() && folded_words[next] == "each") {
            count = count_word(folded_words[k]);
            ++next;
        }
        if (count > 0 && next < folded_words.size())
            if (auto said = quantity_unit(folded_words[next]); !said.empty()) unit = said;
    }
    if (count <= 0) return;
    for (auto& i : plan.intents)
        if (i.kind == IntentKind::product && i.weight <= 0) {
            i.quantity = count;
            i.unit = unit;
        }
}

bool asks_order_total(const std::vector<std::string>& folded_words) {
    return has_prefix_word(folded_words, {"hepsi", "toplam", "total", "altogether", "together", "hesap"});
}

bool takes_out(std::string_view folded) {
    const auto words = text::tokens(folded);
    return has_prefix_word(words, {"cikar", "haric", "remove", "without", "olmadan", "drop"}) ||
           has_phrase(folded, "take out") || has_phrase(folded, "leave out");
}

std::vector<Intent> order_again(const std::vector<Intent>& last_order,
                                const std::vector<std::string>& content, bool removing, int count,
                                sdk::HostServices& host) {
    // How fully the words name each item of the order: "simiti" names the simit by its name and
    // the poğaça only by their category ("Simit & Poğaça"), so it takes out the simit.
    std::vector<double> named;
    for (const auto& item : last_order) {
        const auto offering = item.picked.empty() ? std::nullopt : host.catalog().get(item.picked.front());
        const auto fit = offering ? fit_offering(content, *offering) : OfferingFit{};
        named.push_back(fit.coverage + fit.specificity);
    }
    const double best = named.empty() ? 0 : *std::max_element(named.begin(), named.end());
    // "hepsi ne kadar" names no item; "simiti çıkar" and "simiti 5 yap" name the one they change.
    const bool changes = removing || count > 0;
    if (changes != (best > 0)) return {};
    std::vector<Intent> out;
    for (std::size_t k = 0; k < last_order.size(); ++k) {
        const bool named_best = best > 0 && named[k] >= best - 0.01;
        if (removing && named_best) continue;
        out.push_back(last_order[k]);
        if (named_best) out.back().quantity = count;
    }
    return out;
}

}  // namespace tezgah::plugins::local
