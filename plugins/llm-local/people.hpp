#pragma once
// People and times: who works here and when, who gives a service, when a group class meets, and the
// opening hours of one day, with days like "yarın" or "on Saturday" resolved in the tenant's time
// zone (people.cpp, days.cpp).

#include "assistant.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
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
/// "2027-01-11" for a day since the epoch.
std::string date_text(long days_since_epoch);

// ---- people.cpp ----

/// The answer to a question about people, class schedules or one day's opening hours, written from
/// the tenant's data; nullopt when the message asks something else.
std::optional<std::string> answer_people_and_times(const sdk::ProviderRequest& request,
                                                   sdk::HostServices& host, std::string_view language);

}  // namespace tezgah::plugins::local
