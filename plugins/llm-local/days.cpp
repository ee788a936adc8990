// Days a customer names ("yarın", "cumartesi", "hafta sonu", "on Saturday") resolved against the
// current time in the tenant's time zone, and the day names the replies use.
#include "people.hpp"

#include <date/tz.h>

#include <array>
#include <cstdio>

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

}  // namespace

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
    if (has_phrase(folded, "obur gun") || has_phrase(folded, "ertesi gun") ||
        has_phrase(folded, "day after tomorrow")) {
        add(2, "öbür gün", "the day after tomorrow");
        return out;
    }
    if (has_phrase(folded, "bu aksam") || has_phrase(folded, "bu gece") || has_phrase(folded, "this evening"))
        add(0, "bu akşam", "this evening");
    for (const auto& w : words) {
        if (w == "bugun" || w == "today" || w == "tonight" || w == "bugunku") {
            add(0, "bugün", "today");
        } else if (w == "yarin" || w == "yarinki" || w == "tomorrow") {
            add(1, "yarın", "tomorrow");
        } else if (int d = weekday_named(w); d >= 0) {
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
