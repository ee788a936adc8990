// Moments within a day that a customer asks about: a part of the day ("sabah", "öğleden sonra",
// "akşam 7'den sonra", "after 6pm"), the earliest or latest of something ("en erken ders",
// "latest class"), and "now" ("şu an açık mısınız", "who's in right now").
#include "people.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>

namespace tezgah::plugins::local {
namespace {

constexpr int kDayEnd = 24 * 60;

bool is_number(std::string_view w) {
    return !w.empty() && w.size() <= 2 && std::all_of(w.begin(), w.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
}

/// "7", "19", "7pm", "8am": the hour and whether "pm"/"am" was said (1 pm, -1 am, 0 neither);
/// -1 as the hour when the word is none of these.
std::pair<int, int> hour_word(std::string_view w) {
    int meridiem = 0;
    if (w.ends_with("pm")) meridiem = 1;
    if (w.ends_with("am")) meridiem = -1;
    if (meridiem != 0) w.remove_suffix(2);
    if (!is_number(w)) return {-1, 0};
    const int hour = std::stoi(std::string(w));
    return {hour <= 24 ? hour : -1, meridiem};
}

/// The clock time of an hour said without a.m./p.m.: small hours and any hour said with an
/// evening word are afternoon ones ("akşam 7" is 19:00, "after 5" is 17:00).
int in_minutes(int hour, int meridiem, bool evening) {
    if (hour < 12 && (meridiem > 0 || (meridiem == 0 && (evening || hour <= 6)))) hour += 12;
    return std::min(hour, 24) * 60;
}

std::string clock_text(int minutes) {
    const int h = minutes / 60;
    const int m = minutes % 60;
    return (h < 10 ? "0" : "") + std::to_string(h) + ":" + (m < 10 ? "0" : "") + std::to_string(m);
}

/// "7den" ("7'den" folded), "00dan": the word without its ablative ending.
std::string_view without_ablative(std::string_view w) {
    for (std::string_view ending : {"den", "dan", "ten", "tan"})
        if (w.size() > ending.size() && w.ends_with(ending)) return w.substr(0, w.size() - ending.size());
    return w;
}

/// "9da" ("9'da" folded), "30de", "00te": the word without its locative ending, else the word.
std::string_view without_locative(std::string_view w) {
    for (std::string_view ending : {"da", "de", "ta", "te"})
        if (w.size() > ending.size() && w.ends_with(ending)) return w.substr(0, w.size() - ending.size());
    return w;
}

/// "akşam 7'den sonra", "saat 18:30'dan önce", "after 7pm", "before 10": a bound on the clock.
std::optional<DayPart> clock_bound(const std::vector<std::string>& words, bool evening) {
    for (std::size_t k = 0; k < words.size(); ++k) {
        const auto& w = words[k];
        const bool later = w == "sonra" || w == "itibaren" || w == "after";
        const bool earlier = w == "once" || w == "before";
        if (!later && !earlier) continue;
        int hour = -1, meridiem = 0, minute = 0;
        if (w == "after" || w == "before") {
            if (k + 1 >= words.size()) continue;
            std::tie(hour, meridiem) = hour_word(words[k + 1]);  // "after 7pm", "after 7 pm"
            if (meridiem == 0 && k + 2 < words.size())
                meridiem = words[k + 2] == "pm" ? 1 : words[k + 2] == "am" ? -1 : 0;
        } else if (k > 0) {
            // "7den sonra"; "18 30dan sonra" (the colon folded to a space)
            const auto said = without_ablative(words[k - 1]);
            std::tie(hour, meridiem) = hour_word(said);
            if (k > 1 && said.size() == 2 && is_number(words[k - 2]) && hour >= 0 && hour < 60) {
                minute = hour;
                std::tie(hour, meridiem) = hour_word(words[k - 2]);
            }
        }
        if (hour < 0) continue;
        const int minutes = in_minutes(hour, meridiem, evening) + minute;
        DayPart part;
        if (later) {
            part.from = minutes;
            part.said_tr = clock_text(minutes) + " sonrası";
            part.said_en = "after " + clock_text(minutes);
            part.of_day_tr = part.said_tr;
        } else {
            part.to = minutes;
            part.said_tr = clock_text(minutes) + " öncesi";
            part.said_en = "before " + clock_text(minutes);
            part.of_day_tr = part.said_tr;
        }
        return part;
    }
    return std::nullopt;
}

}  // namespace

std::optional<DayPart> asked_day_part(const std::vector<std::string>& words, std::string_view folded) {
    auto said = [&](std::initializer_list<std::string_view> forms) {
        return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
            return std::find(forms.begin(), forms.end(), w) != forms.end();
        });
    };
    // Whole words only: "sabahlık" is a robe, not the morning.
    const bool evening = said({"aksam", "aksami", "aksamlari", "aksamki", "aksamleyin", "aksamustu",
                               "evening", "evenings", "tonight"}) ||
                         has_phrase(folded, "bu gece") || has_phrase(folded, "is cikisi") ||
                         has_phrase(folded, "after work");
    if (auto bound = clock_bound(words, evening)) return bound;
    // "öğleden sonra" before "öğle": the afternoon, not noon.
    if (has_phrase(folded, "ogleden sonra") || has_phrase(folded, "oglen sonra") ||
        said({"afternoon", "afternoons", "ikindi"}))
        return DayPart{12 * 60, 17 * 60, "öğleden sonra", "in the afternoon", "öğleden sonra"};
    if (evening) return DayPart{17 * 60, kDayEnd, "akşam", "in the evening", "akşamı"};
    if (has_phrase(folded, "ogleden once") ||
        said({"sabah", "sabahlari", "sabahleyin", "sabahki", "sabahtan", "morning", "mornings"}))
        return DayPart{0, 12 * 60, "sabah", "in the morning", "sabahı"};
    if (said({"ogle", "oglen", "ogleyin", "noon", "lunchtime"}))
        return DayPart{11 * 60, 14 * 60, "öğlen", "around noon", "öğlen"};
    return std::nullopt;
}

int asked_clock(const std::vector<std::string>& words, std::string_view folded, bool* until_asked) {
    const bool evening = std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w == "aksam" || w == "aksamki" || w == "evening" || w == "tonight";
    });
    for (std::size_t k = 0; k < words.size(); ++k) {
        const auto& w = words[k];
        int hour = -1, meridiem = 0, minute = 0;
        bool until = false;
        // "at 7pm", "at 6 30pm" (the colon folded to a space), "at 19 00"
        if ((w == "at" || w == "saat" || w == "until" || w == "till") && k + 1 < words.size()) {
            std::tie(hour, meridiem) = hour_word(words[k + 1]);
            std::size_t next = k + 2;
            if (hour >= 0 && next < words.size()) {
                std::string_view mm = words[next];
                int mer = 0;
                if (mm.ends_with("pm") || mm.ends_with("am")) {
                    mer = mm.ends_with("pm") ? 1 : -1;
                    mm.remove_suffix(2);
                }
                if (mm.size() == 2 && is_number(mm) && std::stoi(std::string(mm)) < 60) {
                    minute = std::stoi(std::string(mm));
                    meridiem = mer != 0 ? mer : meridiem;
                    ++next;
                } else if (const auto bare = without_locative(words[next]);
                           bare.size() == 2 && is_number(bare)) {
                    minute = std::stoi(std::string(bare));  // "saat 18 30da"
                    ++next;
                }
            }
            if (meridiem == 0 && next < words.size())
                meridiem = words[next] == "pm" ? 1 : words[next] == "am" ? -1 : 0;
            if (hour < 0 && words[k] == "saat") {
                const auto bare = without_locative(words[k + 1]);  // "saat 9da"
                if (is_number(bare)) hour = std::stoi(std::string(bare));
            }
            until = w == "until" || w == "till";
        } else if (const auto bare = without_locative(w); bare.size() < w.size() && is_number(bare)) {
            // "9da", "18 30da": an hour said with the locative, not a count ("2 kg")
            hour = std::stoi(std::string(bare));
            if (k > 0 && is_number(words[k - 1]) && hour < 60 && bare.size() == 2) {
                minute = hour;
                hour = std::stoi(words[k - 1]);
            }
        } else if (k + 1 < words.size() && words[k + 1] == "kadar") {
            // "8e kadar", "7ye kadar" ("8'e", "7'ye" folded): open until then
            std::string_view bare = w;
            for (std::string_view ending : {"ye", "ya", "e", "a"})
                if (bare.size() > ending.size() && bare.ends_with(ending)) {
                    bare.remove_suffix(ending.size());
                    break;
                }
            if (bare.size() < w.size() && is_number(bare)) {
                hour = std::stoi(std::string(bare));
                until = true;
            }
        }
        if (hour < 0 || hour > 24) continue;
        // "9'a kadar açık mısınız": a closing time said without a.m./p.m. is an evening one.
        int minutes = in_minutes(hour, meridiem, evening || until) + minute;
        if (until_asked) *until_asked = until;
        return std::min(minutes, kDayEnd - 1);
    }
    (void)folded;
    return -1;
}

std::string clock_locative(int minutes) {
    // The number said last: the minutes, or the hour when they are zero ("19:00" is "on dokuz").
    int n = minutes % 60 != 0 ? minutes % 60 : minutes / 60;
    static constexpr std::array<const char*, 10> kOnes{"",    "'de", "'de", "'te", "'te",
                                                       "'te", "'da", "'de", "'de", "'da"};
    static constexpr std::array<const char*, 6> kTens{"'da", "'da", "'de", "'da", "'ta", "'de"};
    if (n % 10 != 0) return clock_text(minutes) + kOnes[static_cast<std::size_t>(n % 10)];
    return clock_text(minutes) + kTens[static_cast<std::size_t>(n / 10 % 6)];
}

int asked_extreme(const std::vector<std::string>& words, std::string_view folded) {
    if (has_phrase(folded, "en erken") || std::any_of(words.begin(), words.end(), [](const auto& w) {
            return w == "earliest" || w == "first";
        }))
        return -1;
    if (has_phrase(folded, "en gec") || has_phrase(folded, "en son") || has_phrase(folded, "son ders") ||
        std::any_of(words.begin(), words.end(), [](const auto& w) { return w == "latest" || w == "last"; }))
        return 1;
    return 0;
}

bool asks_now(const std::vector<std::string>& words, std::string_view folded) {
    return has_phrase(folded, "su an") || has_phrase(folded, "su anda") || has_phrase(folded, "su saatte") ||
           has_phrase(folded, "right now") || std::any_of(words.begin(), words.end(), [](const auto& w) {
               return w == "simdi" || w == "now" || w == "currently";
           });
}

int clock_minutes(std::string_view hhmm) {
    if (hhmm.size() < 5 || hhmm[2] != ':') return -1;
    if (!is_number(hhmm.substr(0, 2)) || !is_number(hhmm.substr(3, 2))) return -1;
    return std::stoi(std::string(hhmm.substr(0, 2))) * 60 + std::stoi(std::string(hhmm.substr(3, 2)));
}

std::optional<std::pair<int, int>> span_minutes(std::string_view span) {
    const auto dash = span.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const int from = clock_minutes(span.substr(0, dash));
    const int to = clock_minutes(span.substr(dash + 1));
    if (from < 0 || to < 0) return std::nullopt;
    return std::pair{from, to <= from ? to + kDayEnd : to};
}

bool DayPart::holds(std::string_view time) const {
    const int t = clock_minutes(time);
    return t >= from && t < to;
}

}  // namespace tezgah::plugins::local
