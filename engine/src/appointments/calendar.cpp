// The iCalendar document of the calendar feed (appointments/calendar.hpp).
#include "appointments/calendar.hpp"

#include "util/local_days.hpp"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace tezgah::engine::appointments {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::size_t kMaxOctets = 75;  // RFC 5545 3.1: a line's length, without its CRLF

const date::time_zone* find_zone(const std::string& timezone) {
    try {
        return date::locate_zone(timezone);
    } catch (const std::exception&) {
        return nullptr;
    }
}

/// "20270328T020000" (a wall time) or "20270328T010000Z" (UTC).
std::string local_stamp(date::local_seconds t) { return date::format("%Y%m%dT%H%M%S", t); }
std::string utc_stamp(TimePoint t) { return date::format("%Y%m%dT%H%M%SZ", date::floor<seconds>(t)); }

/// A UTC offset as iCalendar writes it: "+0100", "-0330", "+013045" when it has seconds.
std::string utc_offset(seconds offset) {
    const char sign = offset.count() < 0 ? '-' : '+';
    const long long total = std::llabs(offset.count());
    if (total % 60 != 0)
        return fmt::format("{}{:02}{:02}{:02}", sign, total / 3600, total / 60 % 60, total % 60);
    return fmt::format("{}{:02}{:02}", sign, total / 3600, total / 60 % 60);
}

/// An onset before any calendar an app would show (the tz database's "since the beginning of
/// time") is written as 1970: some apps refuse years before 1900.
date::local_seconds printable(date::local_seconds t) {
    const date::local_seconds earliest{date::local_days{date::year{1970} / 1 / 1}};
    return std::max(t, earliest);
}

/// The first instant of `t`'s year, and of the year after `t`'s, in UTC.
date::sys_seconds year_start(TimePoint t, int plus_years = 0) {
    const auto day = date::floor<date::days>(t);
    const date::year_month_day ymd{day};
    return date::sys_seconds{date::sys_days{(ymd.year() + date::years{plus_years}) / 1 / 1}};
}

std::string status_of(const std::string& status) { return status == "cancelled" ? "CANCELLED" : "CONFIRMED"; }

/// A SEQUENCE that grows with each change of the appointment: seconds from its booking to its last
/// change (calendar apps take a higher SEQUENCE as the newer version of the event).
long long sequence_of(const CalendarEvent& event) {
    const auto changed = std::chrono::duration_cast<seconds>(event.updated - event.created).count();
    return std::max<long long>(0, changed);
}

}  // namespace

std::string escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case ';':
                out += "\\;";
                break;
            case ',':
                out += "\\,";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                if (i + 1 < text.size() && text[i + 1] == '\n') break;  // CRLF: one line break
                out += "\\n";
                break;
            case '\t':
                out += ' ';
                break;
            default:
                // Other control characters are not allowed in a content line (RFC 5545 3.1).
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) break;
                out += c;
        }
    }
    return out;
}

std::string content_line(std::string_view line) {
    std::string out;
    out.reserve(line.size() + line.size() / 70 * 3 + 2);
    std::size_t limit = kMaxOctets;  // a continuation line's leading space counts
    while (line.size() > limit) {
        std::size_t cut = limit;
        // Never inside a UTF-8 character: back up to the first byte of the one that would be split.
        while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
        out.append(line.substr(0, cut));
        out += "\r\n ";
        line.remove_prefix(cut);
        limit = kMaxOctets - 1;
    }
    out.append(line);
    out += "\r\n";
    return out;
}

std::string vtimezone(const std::string& timezone, TimePoint from, TimePoint until) {
    const date::time_zone* zone = find_zone(timezone);
    std::string out = content_line("BEGIN:VTIMEZONE");
    out += content_line("TZID:" + timezone);
    auto component = [&](const date::sys_info& info, seconds offset_before) {
        // DTSTART is the onset's wall time on the clock before it (RFC 5545 3.6.5).
        const char* kind = info.save != minutes{0} ? "DAYLIGHT" : "STANDARD";
        const date::local_seconds onset{info.begin.time_since_epoch() + offset_before};
        out += content_line(std::string("BEGIN:") + kind);
        out += content_line("DTSTART:" + local_stamp(printable(onset)));
        out += content_line("TZOFFSETFROM:" + utc_offset(offset_before));
        out += content_line("TZOFFSETTO:" + utc_offset(info.offset));
        if (!info.abbrev.empty()) out += content_line("TZNAME:" + escape_text(info.abbrev));
        out += content_line(std::string("END:") + kind);
    };
    if (zone == nullptr) {
        date::sys_info utc;
        utc.begin = date::sys_seconds{};
        utc.offset = seconds{0};
        utc.save = minutes{0};
        utc.abbrev = "UTC";
        component(utc, seconds{0});
    } else {
        const auto first = year_start(from);
        const auto last = year_start(std::max(from, until), 1);
        // The offset in force when the range begins, then every transition until it ends.
        auto info = zone->get_info(first);
        auto before = info.begin > date::sys_seconds{date::sys_days{date::year{1800} / 1 / 1}}
                          ? zone->get_info(info.begin - seconds{1}).offset
                          : info.offset;
        component(info, before);
        while (info.end < last) {
            before = info.offset;
            info = zone->get_info(info.end);
            component(info, before);
        }
    }
    out += content_line("END:VTIMEZONE");
    return out;
}

std::string calendar_ics(const CalendarHead& head, const std::vector<CalendarEvent>& events) {
    const date::time_zone* zone = find_zone(head.timezone);
    const std::string tzid = zone != nullptr ? head.timezone : std::string("UTC");
    auto wall = [&](TimePoint t) {
        const auto utc = date::floor<seconds>(t);
        return local_stamp(zone != nullptr ? zone->to_local(utc)
                                           : date::local_seconds{utc.time_since_epoch()});
    };
    std::string out;
    out += content_line("BEGIN:VCALENDAR");
    out += content_line("VERSION:2.0");
    out += content_line("PRODID:-//Tezgah//Appointments " TEZGAH_VERSION "//EN");
    out += content_line("CALSCALE:GREGORIAN");
    out += content_line("METHOD:PUBLISH");
    out += content_line("X-WR-CALNAME:" + escape_text(head.name));
    out += content_line("X-WR-TIMEZONE:" + tzid);
    // How often a subscribed app should fetch again (RFC 7986, and Outlook's older name for it).
    out += content_line("REFRESH-INTERVAL;VALUE=DURATION:PT15M");
    out += content_line("X-PUBLISHED-TTL:PT15M");
    out += vtimezone(tzid, head.from, head.until);
    for (const auto& e : events) {
        out += content_line("BEGIN:VEVENT");
        out += content_line("UID:" + e.uid);
        // This version of the event was made when the appointment last changed: the same document
        // comes back until something changes (and its ETag with it).
        out += content_line("DTSTAMP:" + utc_stamp(e.updated));
        out += content_line("DTSTART;TZID=" + tzid + ":" + wall(e.start));
        out += content_line("DTEND;TZID=" + tzid + ":" + wall(e.end));
        out += content_line("CREATED:" + utc_stamp(e.created));
        out += content_line("LAST-MODIFIED:" + utc_stamp(e.updated));
        out += content_line("SEQUENCE:" + std::to_string(sequence_of(e)));
        out += content_line("STATUS:" + status_of(e.status));
        out += content_line("SUMMARY:" + escape_text(e.summary));
        if (!e.description.empty()) out += content_line("DESCRIPTION:" + escape_text(e.description));
        if (!e.location.empty()) out += content_line("LOCATION:" + escape_text(e.location));
        // A cancelled appointment no longer blocks the time.
        out += content_line(std::string("TRANSP:") + (e.status == "cancelled" ? "TRANSPARENT" : "OPAQUE"));
        out += content_line("END:VEVENT");
    }
    out += content_line("END:VCALENDAR");
    return out;
}

CalendarEvent calendar_event(const Appointment& a, const Tenant& tenant) {
    const auto& profile = tenant.profile();
    const bool turkish = profile.language != "en";
    CalendarEvent e;
    e.uid = a.id + "@" + a.tenant_id + ".tezgah";
    e.status = a.status;
    e.start = a.start;
    e.end = a.end;
    e.created = a.created_at;
    e.updated = std::max(a.updated_at, a.created_at);
    std::string service = a.service_id;
    if (auto offering = tenant.catalog().get(a.service_id)) service = offering->name_in(profile.language);
    e.summary = service + " — " + a.customer_name;

    std::string description;
    auto line = [&](const std::string& label, const std::string& value) {
        if (value.empty()) return;
        if (!description.empty()) description += "\n";
        description += label + ": " + value;
    };
    line(turkish ? "Telefon" : "Phone", a.customer_phone);
    for (const auto& r : profile.resources) {
        if (r.id != a.resource_id) continue;
        const bool room = r.type == "room";
        const bool equipment = r.type == "equipment";
        line(turkish ? (room        ? "Salon"
                        : equipment ? "Ekipman"
                                    : "Personel")
                     : (room        ? "Room"
                        : equipment ? "Equipment"
                                    : "With"),
             r.name);
    }
    line(turkish ? "Not" : "Notes", a.notes);
    if (a.status == kCompleted) line(turkish ? "Durum" : "Status", turkish ? "tamamlandı" : "completed");
    if (a.status == kNoShow) line(turkish ? "Durum" : "Status", turkish ? "gelmedi" : "no-show");
    e.description = std::move(description);
    e.location = profile.address;
    return e;
}

FeedWindow feed_window(TimePoint now, const std::string& timezone, int max_days_ahead) {
    const Day today = day_at(now, timezone);
    return {day_start(add_days(today, -kFeedDaysBack), timezone),
            day_start(add_days(today, std::max(0, max_days_ahead) + 1), timezone)};
}

}  // namespace tezgah::engine::appointments
