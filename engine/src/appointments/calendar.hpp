#pragma once
// The calendar feed (docs/appointments.md, "Calendar feed"): a tenant's appointments as an
// RFC 5545 iCalendar document that Google Calendar, Apple Calendar and Outlook subscribe to. Lines
// end in CRLF and are folded at 75 octets; TEXT values are escaped; the tenant's time zone is
// described by a VTIMEZONE built from the tz database (the zone's real offsets and transitions
// over the years the feed covers), and every event's start and end are wall times in it. The
// route (http/calendar.cpp) reads the appointments and hands them here; the document itself is
// made by pure functions.

#include "appointments/store.hpp"
#include "tenants/tenant.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine::appointments {

using TimePoint = std::chrono::system_clock::time_point;

/// One appointment as the calendar shows it.
struct CalendarEvent {
    std::string uid;     ///< `<appointment id>@<tenant>.tezgah`: stable, so an app updates it in place
    std::string status;  ///< confirmed | cancelled | completed | no_show
    TimePoint start;
    TimePoint end;
    TimePoint created;
    TimePoint updated;  ///< DTSTAMP, LAST-MODIFIED and SEQUENCE: a rescheduled event moves in the app
    std::string summary;
    std::string description;
    std::string location;
};

/// The calendar around the events.
struct CalendarHead {
    std::string name;              ///< X-WR-CALNAME: what the app lists the calendar as
    std::string timezone = "UTC";  ///< an IANA zone; the events' TZID and the VTIMEZONE
    TimePoint from;                ///< the VTIMEZONE describes the zone from this year's start ...
    TimePoint until;               ///< ... to the end of this one's
};

/// `text` as an iCalendar TEXT value: backslash, semicolon and comma escaped, a line break as
/// `\n`, other control characters dropped.
std::string escape_text(std::string_view text);

/// One content line, CRLF-terminated, folded so that no line is longer than 75 octets (a
/// continuation starts with a space; a UTF-8 character is never split).
std::string content_line(std::string_view line);

/// The VTIMEZONE of `timezone` over [from's year, until's year]: a STANDARD or DAYLIGHT component
/// for the offset in force at the start and for each transition after it, with the zone's own
/// offsets and abbreviations. Folded content lines. An unknown zone is described as UTC.
std::string vtimezone(const std::string& timezone, TimePoint from, TimePoint until);

/// The whole document.
std::string calendar_ics(const CalendarHead& head, const std::vector<CalendarEvent>& events);

/// `appointment` of `tenant` as an event: "service — customer" as its summary; the customer's
/// phone, the notes, the person or room and a completed or missed visit in its description (in
/// the tenant's language); the business's address as its location.
CalendarEvent calendar_event(const Appointment& appointment, const Tenant& tenant);

/// The days a feed made at `now` covers: from 30 days back (the tenant's day) to the booking
/// horizon, `max_days_ahead` days on (the end exclusive).
struct FeedWindow {
    TimePoint from;
    TimePoint until;
};
FeedWindow feed_window(TimePoint now, const std::string& timezone, int max_days_ahead);
inline constexpr int kFeedDaysBack = 30;

}  // namespace tezgah::engine::appointments
