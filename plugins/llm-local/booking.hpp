#pragma once
// Appointments in the offline assistant: when a customer means ("yarın akşam 7", "haftaya salı",
// "Dec 15 at 3pm"), read against the tenant's today (booking_when.cpp), and the booking dialogue
// over the `appointments` tools (booking.cpp): free times offered as options, the customer's name
// and phone, a summary to confirm, and the customer's own bookings listed, cancelled or moved.

#include "people.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tezgah::plugins::local {

// ---- booking_when.cpp ----

/// What a message says of when: a day, a time of day, a stretch of the day. Each part is absent
/// when the message does not say it.
struct When {
    std::optional<long> day;      ///< days since the epoch, on the tenant's calendar
    int minute = -1;              ///< minutes since local midnight; -1 when no time was said
    std::optional<DayPart> part;  ///< "akşam", "öğleden sonra", "in the morning", "after 6pm"
    bool other_day = false;       ///< "başka gün", "another day": any day but the one talked about
    bool said() const { return day || minute >= 0 || part || other_day; }
};
/// Reads `message` (as the customer wrote it) at `today`: "bugün", "yarın", "öbür gün",
/// "cumartesi", "haftaya salı", "15 Aralık", "15.12", "öğleden sonra 3", "akşam 7", "sabah 10",
/// "saat 14:30", "tomorrow", "next Tuesday", "Dec 15", "3pm", "at 10", "yok 4 olsun".
/// An hour said without a.m./p.m. or a part of the day is an afternoon one below 8 ("saat 3" is 15:00).
When read_when(std::string_view message, const Today& today);
/// "14:30" for minutes since midnight.
std::string hhmm(int minutes);

// ---- booking.cpp ----

/// The booking dialogue's answer to this step of the turn: tool calls of the `appointments`
/// tools, or the reply written from their results; nullopt when the message is none of its
/// business or the tenant has no appointments tools. `rich` options are set by it.
std::optional<sdk::ProviderResponse> booking_answer(const sdk::ProviderRequest& request,
                                                    sdk::HostServices& host, const std::string& language);

}  // namespace tezgah::plugins::local
