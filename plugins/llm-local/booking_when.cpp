// When a customer means, for a booking: days through days.cpp's asked_days, dates written with
// digits ("15.12", "15/12"), and times of day ("akşam 7", "öğleden sonra 3", "saat 14:30", "3pm",
// "yok 4 olsun"), each read against the tenant's today.
#include "booking.hpp"

#include <tezgah/sdk/text.hpp>

#include <date/date.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace tezgah::plugins::local {
namespace {

bool digits(std::string_view w) {
    return !w.empty() && std::all_of(w.begin(), w.end(),
                                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

/// The next date on or after `today` with that month and day (and year when given), as days since
/// the epoch; nullopt when there is none.
std::optional<long> date_of(int day, int month, int year, const Today& today) {
    const date::year_month_day now{date::local_days{date::days{today.days_since_epoch}}};
    for (int step = 0; step < 2; ++step) {
        const date::year y =
            year > 0 ? date::year{year < 100 ? 2000 + year : year} : now.year() + date::years{step};
        const date::year_month_day candidate{y, date::month{static_cast<unsigned>(month)},
                                             date::day{static_cast<unsigned>(day)}};
        if (!candidate.ok()) return std::nullopt;
        const long days = date::local_days{candidate}.time_since_epoch().count();
        if (days >= today.days_since_epoch || year > 0) return days;
    }
    return std::nullopt;
}

/// A number said as an hour, with what it was said with: "7", "7de" ("7'de" folded), "5e", "3pm".
struct HourWord {
    int hour = -1;
    int meridiem = 0;     ///< 1 pm, -1 am, 0 neither
    bool suffix = false;  ///< a Turkish case ending said it is a time ("4te", "5e", "7den")
};

HourWord hour_word(std::string_view w) {
    HourWord out;
    if (w.ends_with("pm") || w.ends_with("am")) {
        out.meridiem = w.ends_with("pm") ? 1 : -1;
        w.remove_suffix(2);
    } else {
        for (std::string_view ending :
             {"den", "dan", "ten", "tan", "de", "da", "te", "ta", "ye", "ya", "e", "a"})
            if (w.size() > ending.size() && w.ends_with(ending) &&
                digits(w.substr(0, w.size() - ending.size()))) {
                w.remove_suffix(ending.size());
                out.suffix = true;
                break;
            }
    }
    if (!digits(w) || w.size() > 2) return out;
    const int hour = std::stoi(std::string(w));
    if (hour <= 24) out.hour = hour;
    return out;
}

bool one_of(std::string_view w, std::initializer_list<std::string_view> forms) {
    return std::find(forms.begin(), forms.end(), w) != forms.end();
}

/// Words before an hour that make the number a time of day.
bool time_word_before(const std::vector<std::string>& words, std::size_t k) {
    if (k == 0) return false;
    const auto& w = words[k - 1];
    if (one_of(w, {"saat",    "saati",   "at",        "around",  "about",  "by",    "it",
                   "yok",     "hayir",   "aksam",     "sabah",   "ogle",   "oglen", "gece",
                   "evening", "morning", "afternoon", "tonight", "aksami", "sabahi"}))
        return true;
    return w == "sonra" && k > 1 &&
           (words[k - 2] == "ogleden" || words[k - 2] == "oglen");  // öğleden sonra 3
}

/// Words after an hour that make the number a time of day.
bool time_word_after(const std::vector<std::string>& words, std::size_t k) {
    if (k + 1 >= words.size()) return false;
    return one_of(words[k + 1], {"olsun", "gibi", "civari", "civarinda", "bucuk", "pm", "am", "oclock",
                                 "uygun", "olur", "olabilir", "ok", "works", "sularinda", "saatinde"});
}

/// Words after a number that make it something else: a count, a date, a duration.
bool counted(const std::vector<std::string>& words, std::size_t k) {
    if (k + 1 < words.size() &&
        one_of(words[k + 1], {"gun",  "gunluk", "days",   "day",   "kisi",    "kisilik", "people", "kg",
                              "tane", "adet",   "dakika", "dk",    "minutes", "min",     "hafta",  "weeks",
                              "ay",   "months", "saat",   "hours", "hour",    "yas",     "ders",   "seans"}))
        return true;
    return false;
}

}  // namespace

std::string hhmm(int minutes) {
    const int h = minutes / 60;
    const int m = minutes % 60;
    return (h < 10 ? "0" : "") + std::to_string(h) + ":" + (m < 10 ? "0" : "") + std::to_string(m);
}

When read_when(std::string_view message, const Today& today) {
    When out;
    // Digits joined by ':' or '.' are read before folding turns the punctuation into spaces:
    // "14:30" is a time; "15.12" and "15/12" are a date (day first) unless their second number cannot
    // be a month ("14.30") or "saat" comes before them.
    std::string text = sdk::text::lower_tr(message);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i])) ||
            (i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1]))))
            continue;
        std::size_t j = i;
        while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
        if (j - i > 2 || j + 1 >= text.size()) continue;
        const char sep = text[j];
        if (sep != ':' && sep != '.' && sep != '/') continue;
        std::size_t k = j + 1;
        while (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) ++k;
        if (k - (j + 1) < 1 || k - (j + 1) > 2) continue;
        const int a = std::stoi(text.substr(i, j - i));
        const int b = std::stoi(text.substr(j + 1, k - j - 1));
        int year = 0;
        std::size_t end = k;
        if (sep != ':' && k + 1 < text.size() && text[k] == sep &&
            std::isdigit(static_cast<unsigned char>(text[k + 1]))) {
            std::size_t y = k + 1;
            while (y < text.size() && std::isdigit(static_cast<unsigned char>(text[y]))) ++y;
            if (y - k - 1 == 2 || y - k - 1 == 4) {
                year = std::stoi(text.substr(k + 1, y - k - 1));
                end = y;
            }
        }
        const bool after_saat =
            i >= 5 && sdk::text::fold(text.substr(i >= 6 ? i - 6 : 0, 6)).find("saat") != std::string::npos;
        const bool as_time =
            sep == ':' || (sep == '.' && year == 0 && (b > 12 || after_saat || b == 0) && k - j - 1 == 2);
        if (as_time && a <= 24 && b < 60 && k - j - 1 == 2) {
            if (out.minute < 0) out.minute = std::min(a, 23) * 60 + b;
        } else if (!as_time && b >= 1 && b <= 12 && a >= 1 && a <= 31) {
            if (!out.day) out.day = date_of(a, b, year, today);
        } else {
            continue;
        }
        std::fill(text.begin() + static_cast<long>(i), text.begin() + static_cast<long>(end), ' ');
        i = end;
    }
    const std::string folded = sdk::text::fold(text);
    const auto words = sdk::text::tokens(folded);

    if (!out.day) {
        const auto days = asked_days(words, folded, today);
        if (!days.empty()) out.day = days.front().date;
    }
    out.other_day = has_phrase(folded, "baska gun") || has_phrase(folded, "baska bir gun") ||
                    has_phrase(folded, "farkli bir gun") || has_phrase(folded, "another day") ||
                    has_phrase(folded, "different day") || has_phrase(folded, "other day");
    out.part = asked_day_part(words, folded);
    // A bound ("7'den sonra") is a stretch, not the time asked for.
    const bool bound = out.part && (out.part->from % 60 != 0 || out.part->to % 60 != 0 ||
                                    out.part->said_tr.find("sonrası") != std::string::npos ||
                                    out.part->said_tr.find("öncesi") != std::string::npos);

    if (out.minute < 0 && !bound) {
        for (std::size_t k = 0; k < words.size(); ++k) {
            const HourWord h = hour_word(words[k]);
            if (h.hour < 0 || counted(words, k)) continue;
            // A number beside a month name is the day of a date ("15 Aralık").
            if (h.meridiem == 0 && !h.suffix &&
                ((k + 1 < words.size() && month_said(words[k + 1])) || (k > 0 && month_said(words[k - 1]))))
                continue;
            const bool alone = words.size() <= 2 && h.meridiem == 0;  // "4 olsun", "17"
            if (!(h.meridiem != 0 || h.suffix || time_word_before(words, k) || time_word_after(words, k) ||
                  (alone && words.size() == 1 && h.hour >= 8)))
                continue;
            int minute = 0;
            std::size_t next = k + 1;
            int meridiem = h.meridiem;
            if (next < words.size() && words[next].size() == 2 && digits(words[next]) &&
                std::stoi(words[next]) < 60) {
                minute = std::stoi(words[next]);  // "saat 14 30" after folding
                ++next;
            } else if (next < words.size() && words[next] == "bucuk") {
                minute = 30;
                ++next;
            }
            if (meridiem == 0 && next < words.size())
                meridiem = words[next] == "pm" ? 1 : words[next] == "am" ? -1 : 0;
            if (k > 1 && words[k - 1] == "past" && words[k - 2] == "half") minute = 30;
            int hour = h.hour;
            const bool later_part = out.part && out.part->from >= 12 * 60;
            const bool morning = out.part && out.part->to <= 12 * 60;
            const bool afternoon =
                hour < 12 && (meridiem > 0 || (meridiem == 0 && (later_part || (!morning && hour < 8))));
            if (afternoon) hour += 12;
            if (meridiem < 0 && hour == 12) hour = 0;
            out.minute = std::min(hour, 23) * 60 + minute;
            break;
        }
    }
    return out;
}

}  // namespace tezgah::plugins::local
