// Weights: what the customer asks for by weight ("yarım kilo baklava", "1,5 kg", "250 gram",
// "half a kilo") as kilograms, for what is sold by the kilo ("Fıstıklı Baklava (kg)"). Whole
// kilograms ("2 kg") stay a count in kg; these are the amounts a count cannot say.
#include "assistant.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace tezgah::plugins::local {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

/// A fraction said as a word ("yarım", "half", "çeyrek"), or 0.
double fraction_word(std::string_view w) {
    if (w == "yarim" || w == "half") return 0.5;
    if (w == "ceyrek" || w == "quarter") return 0.25;
    return 0;
}

}  // namespace

double kilograms_in(std::string_view unit) {
    // "yarım kilosu", "2 kilosu": of the offering talked about.
    if (unit == "kg" || unit == "kilo" || unit == "kilogram" || unit == "kilos" || unit == "kilograms" ||
        unit == "kilosu" || unit == "kilosunu")
        return 1;
    if (unit == "gram" || unit == "gr" || unit == "g" || unit == "grams") return 0.001;
    return 0;
}

double asked_weight(const std::vector<std::string>& folded, const std::vector<std::string>& shown) {
    for (std::size_t k = 0; k < folded.size(); ++k) {
        double amount = 0;
        std::size_t next = k + 1;
        if (all_digits(folded[k]) && folded[k].size() <= 4) {
            amount = std::stod(folded[k]);
            // "1,5 kg" folds to "1 5 kg": a decimal comma or point said inside the word.
            const bool decimal = k < shown.size() && shown[k].find_first_of(",.") != std::string::npos;
            if (decimal && next < folded.size() && all_digits(folded[next])) {
                amount += std::stod(folded[next]) / std::pow(10.0, static_cast<double>(folded[next].size()));
                ++next;
            }
        } else if (const int n = number_word(folded[k]); n > 0) {
            amount = n;
        } else if (folded[k] == "bir" || folded[k] == "one") {
            amount = 1;  // "bir buçuk kilo"
        } else {
            amount = fraction_word(folded[k]);
        }
        if (amount <= 0) continue;
        // "bir buçuk kilo", "iki buçuk kg": and a half.
        if (next < folded.size() && folded[next] == "bucuk") {
            amount += 0.5;
            ++next;
        }
        while (next < folded.size() && (folded[next] == "a" || folded[next] == "of"))
            ++next;  // "half a kilo of"
        if (next < folded.size())
            if (const double per = kilograms_in(folded[next]); per > 0) return amount * per;
    }
    return 0;
}

}  // namespace tezgah::plugins::local
