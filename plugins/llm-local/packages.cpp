// Packages: an offering that sells several of another one at once ("8 Derslik Aylık Mat Pilates
// Paketi" holds eight "Mat Pilates Grup Dersi"), found once from the catalogue, and the answer to
// "paket mi tek tek mi daha uygun": the package's price beside the count times the single price.
#include "assistant.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cctype>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

bool tr(std::string_view language) { return language != "en"; }

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

/// "derslik", "ders", "seans", "class" after the count: what the package holds are lessons.
bool lesson_word(std::string_view w) {
    return w.starts_with("ders") || w.starts_with("seans") || w.starts_with("class") ||
           w.starts_with("lesson");
}

/// Words of a package's name that say it is one ("paketi", "aylık"), not what it holds.
bool package_word(std::string_view w) {
    return w.starts_with("paket") || w.starts_with("pass") || w.starts_with("package") ||
           w.starts_with("aylik") || w.starts_with("monthly") || lesson_word(w);
}

/// The count of lessons a name says ("8 derslik ..."), or 0.
int count_in_name(const std::vector<std::string>& words) {
    for (std::size_t k = 0; k + 1 < words.size(); ++k)
        if (all_digits(words[k]) && words[k].size() <= 3 && lesson_word(words[k + 1]))
            return std::stoi(words[k]);
    return 0;
}

}  // namespace

std::vector<Package> find_packages(const std::vector<sdk::Offering>& offerings) {
    std::vector<Package> out;
    for (const auto& p : offerings) {
        const auto words = text::tokens(p.name);
        const int count = count_in_name(words);
        if (count < 2 || p.price <= 0) continue;
        std::vector<std::string> held;  // "mat", "pilates": what the package holds
        for (const auto& w : words)
            if (!all_digits(w) && !package_word(w) && !is_stop_word(w)) held.push_back(w);
        // The single offering: a priced service whose name holds all those words.
        const sdk::Offering* single = nullptr;
        for (const auto& o : offerings) {
            if (&o == &p || o.type != "SERVICE" || o.price <= 0) continue;
            const auto name = text::tokens(o.name);
            const bool holds = !held.empty() && std::all_of(held.begin(), held.end(), [&](const auto& h) {
                return std::find(name.begin(), name.end(), h) != name.end();
            });
            if (holds && (!single || o.name.size() < single->name.size())) single = &o;
        }
        if (single) out.push_back({p.id, single->id, count});
    }
    return out;
}

bool asks_package_or_single(std::string_view folded) {
    const auto words = text::tokens(folded);
    const bool package = has_prefix_word(words, {"paket", "pass", "package", "bundle"});
    const bool compares = has_phrase(folded, "tek tek") || has_phrase(folded, "ayri ayri") ||
                          has_phrase(folded, "tek ders") || has_phrase(folded, "daha uygun") ||
                          has_phrase(folded, "daha ucuz") || has_phrase(folded, "daha karli") ||
                          has_phrase(folded, "avantajli") || has_phrase(folded, "cheaper") ||
                          has_phrase(folded, "per class") || has_phrase(folded, "individually") ||
                          has_phrase(folded, "better deal") || has_phrase(folded, "worth it") ||
                          has_phrase(folded, "save") ||
                          // what one lesson comes to with the package
                          has_phrase(folded, "ders basi") || has_phrase(folded, "ders basina") ||
                          has_phrase(folded, "seans basi") || has_phrase(folded, "seans basina") ||
                          has_phrase(folded, "each class") || has_phrase(folded, "per lesson") ||
                          has_phrase(folded, "each lesson") || has_phrase(folded, "per session");
    return package && compares;
}

std::string package_or_single(const Package& package, const std::vector<sdk::Offering>& offerings,
                              std::string_view language) {
    auto find = [&](const std::string& id) {
        return std::find_if(offerings.begin(), offerings.end(), [&](const auto& o) { return o.id == id; });
    };
    const auto p = find(package.id);
    const auto single = find(package.single_id);
    if (p == offerings.end() || single == offerings.end()) return {};
    const std::string currency = p->currency.empty() ? "TRY" : p->currency;
    auto price = [&](double amount) { return format_price(amount, currency, language); };
    const double separately = single->price * package.count;
    const std::string sum = std::to_string(package.count) + " × " + single->name_in(language) + " (" +
                            price(single->price) + ") = " + price(separately);
    const double saved = separately - p->price;
    const std::string each = price(p->price / package.count);
    if (tr(language)) {
        std::string out = p->name_in(language) + ": " + price(p->price) + " (ders başına " + each +
                          "); tek tek " + sum + ". ";
        if (saved > 0) return out + "Paket " + price(saved) + " daha uygun.";
        if (saved < 0) return out + "Tek tek almak " + price(-saved) + " daha uygun.";
        return out + "İkisi aynı tutar.";
    }
    std::string out = p->name_in(language) + ": " + price(p->price) + " (" + each +
                      " per class); one by one, " + sum + ". ";
    if (saved > 0) return out + "The pass saves you " + price(saved) + ".";
    if (saved < 0) return out + "Paying per class is " + price(-saved) + " cheaper.";
    return out + "Both come to the same.";
}

}  // namespace tezgah::plugins::local
