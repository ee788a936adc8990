// Days a customer names ("yarın", "cumartesi", "hafta sonu", "on Saturday") resolved against the
// current time in the tenant's time zone, and the day names the replies use.
#include "people.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

namespace tezgah::plugins::local {
namespace {

constexpr std::array<const char*, 7> kKeys{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<const char*, 7> kTurkish{"Pazar",    "Pazartesi", "Salı",     "Çarşamba",
                                              "Perşembe", "Cuma",      "Cumartesi"};
constexpr std::array<const char*, 7> kEnglish{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};

/// The weekday (0 = Sunday) a folded word names, with a case suffix allowed ("cumartesiye",
/// "pazartesileri", "sundays"); -1 when none. The longest name wins: "pazartesi" is not "pazar".
int weekday_named(std::string_view word) {
    static const std::array<std::pair<std::string_view, int>, 14> kNames{{{"pazartesi", 1},
                                                                          {"sali", 2},
                                                                          {"carsamba", 3},
                                                                          {"persembe", 4},
                                                                          {"cumartesi", 6},
                                                                          {"cuma", 5},
                                                                          {"pazar", 0},
                                                                          {"monday", 1},
                                                                          {"tuesday", 2},
                                                                          {"wednesday", 3},
                                                                          {"thursday", 4},
                                                                          {"friday", 5},
                                                                          {"saturday", 6},
                                                                          {"sunday", 0}}};
    for (const auto& [name, day] : kNames) {
        if (!word.starts_with(name)) continue;
        auto rest = word.substr(name.size());
        if (rest.size() <= 6 && (rest.empty() || rest == "s" || rest[0] == 'y' || rest[0] == 'l' ||
                                 rest[0] == 'd' || rest[0] == 'n' || rest[0] == 'g' || rest[0] == 'i' ||
                                 rest[0] == 'a' || rest[0] == 'e' || rest[0] == 't'))
            return day;
    }
    return -1;
}

constexpr std::array<const char*, 12> kMonthsTurkish{"Ocak",  "Şubat",   "Mart",   "Nisan",
                                                     "Mayıs", "Haziran", "Temmuz", "Ağustos",
                                                     "Eylül", "Ekim",    "Kasım",  "Aralık"};
constexpr std::array<const char*, 12> kMonthsEnglish{"January",   "February", "March",    "April",
                                                     "May",       "June",     "July",     "August",
                                                     "September", "October",  "November", "December"};

/// The month (1..12) a folded word names ("aralik", "araligin", "december", "dec"), or 0.
int month_named(std::string_view word) {
    static const std::array<std::pair<std::string_view, int>, 27> kNames{
        {{"ocak", 1},    {"subat", 2},     {"mart", 3},     {"nisan", 4},     {"mayis", 5},
         {"haziran", 6}, {"temmuz", 7},    {"agustos", 8},  {"eylul", 9},     {"ekim", 10},
         {"kasim", 11},  {"aralik", 12},   {"aralig", 12},  {"january", 1},   {"february", 2},
         {"march", 3},   {"april", 4},     {"may", 5},      {"june", 6},      {"july", 7},
         {"august", 8},  {"september", 9}, {"october", 10}, {"november", 11}, {"december", 12},
         {"sept", 9},    {"dec", 12}}};
    for (const auto& [name, month] : kNames)
        if (word.starts_with(name) && word.size() <= name.size() + 4) return month;
    static const std::array<std::string_view, 12> kShort{"jan", "feb", "mar", "apr", "may", "jun",
                                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    for (std::size_t m = 0; m < kShort.size(); ++m)
        if (word == kShort[m]) return static_cast<int>(m) + 1;
    return 0;
}

/// A day of the month said as "15", "15th", "1st": 1..31, or 0.
int day_of_month(std::string_view word) {
    std::size_t digits = 0;
    while (digits < word.size() && std::isdigit(static_cast<unsigned char>(word[digits]))) ++digits;
    if (digits == 0 || digits > 2) return 0;
    const auto rest = word.substr(digits);
    // "15th", and Turkish suffixes ("20si", "20sinde", "15'i", "15'ine").
    static const std::array<std::string_view, 20> kSuffixes{
        "",   "st", "nd", "rd", "th", "si", "sinde", "inde", "unda", "nda",
        "de", "da", "te", "ta", "i",  "u",  "ne",    "ine",  "sine", "ye"};
    if (std::find(kSuffixes.begin(), kSuffixes.end(), rest) == kSuffixes.end()) return 0;
    const int day = std::stoi(std::string(word.substr(0, digits)));
    return day >= 1 && day <= 31 ? day : 0;
}

/// The next date on or after `today` with that month and day (a month of 0: this month or the
/// next), as days since the epoch; nullopt when no such date exists.
std::optional<long> next_date(int month, int day, const Today& today) {
    const date::year_month_day now{date::local_days{date::days{today.days_since_epoch}}};
    for (int step = 0; step < 14; ++step) {
        date::year_month_day candidate;
        if (month > 0) {
            candidate = {now.year() + date::years{step}, date::month{static_cast<unsigned>(month)},
                         date::day{static_cast<unsigned>(day)}};
        } else {
            const auto ym = date::year_month{now.year(), now.month()} + date::months{step};
            candidate = {ym.year(), ym.month(), date::day{static_cast<unsigned>(day)}};
        }
        if (!candidate.ok()) continue;
        const long days = date::local_days{candidate}.time_since_epoch().count();
        if (days >= today.days_since_epoch) return days;
    }
    return std::nullopt;
}

/// "15 Aralık", "December 15", "ayın 20'si", "the 20th": the date the words name, or nullopt.
std::optional<long> dated_day(const std::vector<std::string>& words, const Today& today) {
    for (std::size_t k = 0; k < words.size(); ++k) {
        const int day = day_of_month(words[k]);
        if (day == 0) continue;
        // "15 Aralık", "15 December", "December 15", "Dec 15th"
        for (std::size_t n : {k + 1, k - 1})
            if (n < words.size())
                if (int month = month_named(words[n]); month > 0) return next_date(month, day, today);
        // "ayın 20'si", "the 20th" (not "the 20 simits")
        const bool ordinal = !std::isdigit(static_cast<unsigned char>(words[k].back()));
        if (k > 0 && (words[k - 1] == "ayin" || (words[k - 1] == "the" && ordinal)))
            return next_date(0, day, today);
    }
    return std::nullopt;
}

/// A count of days said ahead of today: "3 gün sonra", "iki gün sonra", "in 2 days", "two days
/// from now"; 0 when none (or beyond two months, where a date is the way to say it).
int days_later(const std::vector<std::string>& words) {
    for (std::size_t k = 0; k + 1 < words.size(); ++k) {
        const auto& w = words[k];
        int n = number_word(w);
        if (n == 0 && !w.empty() && w.size() <= 2 &&
            std::all_of(w.begin(), w.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; }))
            n = std::stoi(w);
        if (n <= 0 || n > 60) continue;
        const auto& unit = words[k + 1];
        const bool after = k + 2 < words.size() && (words[k + 2] == "sonra" || words[k + 2] == "sonraki" ||
                                                    words[k + 2] == "from" || words[k + 2] == "later");
        if (unit == "gun" && after && words[k + 2] != "from") return n;
        if ((unit == "days" || unit == "day") && ((k > 0 && words[k - 1] == "in") || after)) return n;
    }
    return 0;
}

}  // namespace

bool month_said(std::string_view folded_word) { return month_named(folded_word) > 0; }

const char* weekday_key(int weekday) { return kKeys[static_cast<std::size_t>(((weekday % 7) + 7) % 7)]; }

std::string weekday_name(int weekday, std::string_view language) {
    auto i = static_cast<std::size_t>(((weekday % 7) + 7) % 7);
    return language == "en" ? kEnglish[i] : kTurkish[i];
}

std::string weekday_name(std::string_view key, std::string_view language) {
    for (int d = 0; d < 7; ++d)
        if (key == kKeys[static_cast<std::size_t>(d)]) return weekday_name(d, language);
    return std::string(key);
}

Today today_in(const std::string& timezone, std::chrono::system_clock::time_point now) {
    auto utc = date::floor<std::chrono::seconds>(now);
    date::local_seconds local{utc.time_since_epoch()};
    try {
        local = date::locate_zone(timezone)->to_local(utc);
    } catch (const std::exception&) {
        // An unknown zone: UTC.
    }
    auto day = date::floor<date::days>(local);
    Today out;
    out.days_since_epoch = day.time_since_epoch().count();
    out.weekday = static_cast<int>(date::weekday{day}.c_encoding());
    out.minute = static_cast<int>(date::floor<std::chrono::minutes>(local - day).count());
    return out;
}

std::string date_text(long days_since_epoch) {
    date::year_month_day ymd{date::local_days{date::days{days_since_epoch}}};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

std::vector<AskedDay> asked_days(const std::vector<std::string>& words, std::string_view folded,
                                 const Today& today) {
    std::vector<AskedDay> out;
    auto add = [&](int ahead, const char* tr, const char* en) {
        for (const auto& d : out)
            if (d.ahead == ahead) return;
        AskedDay d;
        d.ahead = ahead;
        d.weekday = (today.weekday + ahead) % 7;
        d.date = today.days_since_epoch + ahead;
        d.said_tr = tr;
        d.said_en = en;
        out.push_back(std::move(d));
    };
    auto next = [&](int weekday) { return ((weekday - today.weekday) % 7 + 7) % 7; };
    if (has_phrase(folded, "hafta sonu") || has_phrase(folded, "haftasonu") ||
        has_phrase(folded, "weekend") || has_phrase(folded, "hafta sonlari")) {
        // A weekend asked on Sunday is today; otherwise the coming Saturday and Sunday.
        if (today.weekday != 0) add(next(6), "", "");
        add(next(0), "", "");
        return out;
    }
    if (has_phrase(folded, "hafta ici") || has_phrase(folded, "haftaici") || has_phrase(folded, "weekdays") ||
        has_phrase(folded, "on weekdays") || has_phrase(folded, "during the week")) {
        for (int d = 1; d <= 5; ++d) add(next(d), "", "");  // Monday to Friday, in week order
        return out;
    }
    if (has_phrase(folded, "obur gun") || has_phrase(folded, "ertesi gun") ||
        has_phrase(folded, "day after tomorrow") || has_phrase(folded, "yarindan sonra")) {
        add(2, "öbür gün", "the day after tomorrow");
        return out;
    }
    // A date, or a day of a week to come, is said with its date: "15 Aralık (Salı)".
    auto add_dated = [&](int ahead) {
        add(ahead, "", "");
        const date::year_month_day ymd{date::local_days{date::days{out.back().date}}};
        const auto month = static_cast<unsigned>(ymd.month()) - 1;
        const auto day = std::to_string(static_cast<unsigned>(ymd.day()));
        out.back().said_tr = day + " " + kMonthsTurkish[month];
        out.back().said_en = "on " + std::string(kMonthsEnglish[month]) + " " + day;
    };
    // "3 gün sonra", "iki gün sonra", "in 2 days", "two days from now": that many days ahead.
    if (const int ahead = days_later(words); ahead > 0) {
        add_dated(ahead);
        return out;
    }
    if (auto date = dated_day(words, today)) {
        add_dated(static_cast<int>(*date - today.days_since_epoch));
        return out;
    }
    // "haftaya bugün": a week from today ("haftaya" alone is the week, no day).
    if (has_phrase(folded, "haftaya bugun") || has_phrase(folded, "a week from today")) {
        add_dated(7);
        return out;
    }
    const bool next_week = has_phrase(folded, "next week") || has_phrase(folded, "gelecek hafta") ||
                           has_phrase(folded, "onumuzdeki hafta") || has_phrase(folded, "haftaya") ||
                           has_phrase(folded, "sonraki hafta");
    if (has_phrase(folded, "bu aksam") || has_phrase(folded, "bu gece") || has_phrase(folded, "this evening"))
        add(0, "bu akşam", "this evening");
    if (has_phrase(folded, "tonight") || has_phrase(folded, "tonights")) add(0, "bu akşam", "tonight");
    for (std::size_t k = 0; k < words.size(); ++k) {
        const auto& w = words[k];
        const bool coming = k > 0 && (words[k - 1] == "onumuzdeki" || words[k - 1] == "gelecek" ||
                                      words[k - 1] == "next" || words[k - 1] == "sonraki");
        // "today's classes", "tomorrow's timetable": the possessive folds into the word.
        if (w == "bugun" || w == "today" || w == "bugunku" || w == "todays") {
            add(0, "bugün", "today");
        } else if (w == "yarin" || w == "yarinki" || w == "yarina" || w == "tomorrow" || w == "tomorrows") {
            add(1, "yarın", "tomorrow");
        } else if (int d = weekday_named(w); d >= 0 && next_week) {
            // "haftaya pazartesi", "next week on Monday": that day of the week after this one.
            const int to_monday = next(1) == 0 ? 7 : next(1);
            add_dated(to_monday + (d + 6) % 7);
        } else if (d >= 0 && coming) {
            add_dated(next(d) == 0 ? 7 : next(d));  // "önümüzdeki pazartesi", "next Monday"
        } else if (d >= 0) {
            add(next(d), "", "");
        }
    }
    return out;
}

std::string day_label(const AskedDay& day, std::string_view language) {
    const std::string name = weekday_name(day.weekday, language);
    if (language == "en") {
        if (!day.said_en.empty()) return day.said_en + " (" + name + ")";
        return "on " + name;
    }
    if (!day.said_tr.empty()) return day.said_tr + " (" + name + ")";
    return name + " günü";
}

}  // namespace tezgah::plugins::local
