#pragma once
// People and times: who works here and when, who gives a service, when a group class meets, and the
// opening hours of one day, with days like "yarın" or "on Saturday" resolved in the tenant's time
// zone (people.cpp, days.cpp).

#include "assistant.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tezgah::plugins::local {

// ---- days.cpp ----

/// The tenant's local date now.
struct Today {
    long days_since_epoch = 0;
    int weekday = 0;  ///< 0 = Sunday
    int minute = 0;   ///< minutes since local midnight
};
Today today_in(const std::string& timezone, std::chrono::system_clock::time_point now);

/// A day the customer named, resolved to a date.
struct AskedDay {
    int ahead = 0;  ///< days from today
    int weekday = 0;
    long date = 0;        ///< days since the epoch
    std::string said_tr;  ///< "bugün", "yarın", or empty for a weekday named
    std::string said_en;
};
/// The days a folded message names, in the order named: "bugün", "yarın", weekdays, "hafta sonu".
std::vector<AskedDay> asked_days(const std::vector<std::string>& words, std::string_view folded,
                                 const Today& today);

const char* weekday_key(int weekday);
std::string weekday_name(int weekday, std::string_view language);
std::string weekday_name(std::string_view key, std::string_view language);
/// "yarın (Perşembe)", "Cumartesi günü", "tomorrow (Thursday)", "on Saturday".
std::string day_label(const AskedDay& day, std::string_view language);
/// A month's name, Turkish or English, with a suffix allowed ("aralik", "araligin", "dec").
bool month_said(std::string_view folded_word);
/// "2027-01-11" for a day since the epoch.
std::string date_text(long days_since_epoch);

// ---- moments.cpp ----

/// A stretch of the day the customer asked about ("sabah", "öğleden sonra", "akşam 7'den
/// sonra", "after 6pm"): minutes since midnight, from inclusive, to exclusive.
struct DayPart {
    int from = 0;
    int to = 24 * 60;
    std::string said_tr;    ///< "sabah", "19:00 sonrası"
    std::string said_en;    ///< "in the morning", "after 19:00"
    std::string of_day_tr;  ///< after a weekday: "Pazartesi akşamı", "Cuma sabahı"
    /// A "HH:MM" time within the stretch.
    bool holds(std::string_view time) const;
};
std::optional<DayPart> asked_day_part(const std::vector<std::string>& words, std::string_view folded);
/// A moment of the clock asked about ("saat 9'da", "18:30'da", "at 7pm", "8'e kadar", "until 8"):
/// minutes since midnight, or -1; `until`, when given, is set for "8'e kadar", "until 8".
int asked_clock(const std::vector<std::string>& words, std::string_view folded, bool* until = nullptr);
/// "19:00'da", "20:00'de", "15:30'da": a time with the Turkish locative its spoken form takes.
std::string clock_locative(int minutes);
/// -1 for the earliest ("en erken", "first"), 1 for the latest ("en geç", "last"), else 0.
int asked_extreme(const std::vector<std::string>& words, std::string_view folded);
/// "şu an", "şimdi", "now", "right now".
bool asks_now(const std::vector<std::string>& words, std::string_view folded);
/// "18:30" as minutes since midnight; -1 when not a time.
int clock_minutes(std::string_view hhmm);
/// "09:00-18:00" as minutes since midnight, the end past the start; nullopt when not a span.
std::optional<std::pair<int, int>> span_minutes(std::string_view span);

// ---- people.cpp ----

/// The answer to a question about people, class schedules or one day's opening hours, written from
/// the tenant's data; nullopt when the message asks something else.
std::optional<std::string> answer_people_and_times(const sdk::ProviderRequest& request,
                                                   sdk::HostServices& host, std::string_view language);

/// "Pazartesi günü kapalıyız.": the message names one day and the business is closed then;
/// empty otherwise (said beside an answer about something else, "pazartesi randevu alabilir miyim").
std::string closed_day_note(const sdk::ProviderRequest& request, sdk::HostServices& host,
                            std::string_view language);

}  // namespace tezgah::plugins::local
