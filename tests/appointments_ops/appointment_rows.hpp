#pragma once
// Appointments written into the database as the booking service stores them (schema 14), for
// tests whose subject is what is done with them afterwards: the feed, reminders.

#include "store/store_fixture.hpp"

#include <date/date.h>
#include <soci/soci.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace tezgah::testing {

/// One row of `appointments`; times in ms since the epoch.
struct AppointmentRow {
    std::string id;
    std::string tenant = "nefes-studyo";
    std::string service = "reformer-pilates";
    std::string resource = "ayse";
    long long start = 0;
    int minutes = 50;
    std::string customer_name = "Elif Şahin";
    std::string customer_phone = "+905551112233";
    std::string notes;
    std::string status = "confirmed";
    std::string channel = "whatsapp-cloud";
    std::string user_id = "905551112233";
    std::string conversation_id;
    long long created = 0;
    long long updated = 0;  ///< 0: created
};

inline void insert_appointment(soci::session& sql, const AppointmentRow& a) {
    const long long end = a.start + a.minutes * 60LL * 1000;
    const long long updated = a.updated != 0 ? a.updated : a.created;
    sql << "INSERT INTO appointments (id, tenant_id, service_id, resource_id, start_at, end_at, "
           "buffer_minutes, "
           "customer_name, customer_phone, notes, status, channel, user_id, conversation_id, created_at, "
           "updated_at) VALUES (:i, :t, :s, :r, :a, :e, 10, :n, :p, :o, :st, :ch, :u, :c, :cr, :up)",
        soci::use(a.id), soci::use(a.tenant), soci::use(a.service), soci::use(a.resource), soci::use(a.start),
        soci::use(end), soci::use(a.customer_name), soci::use(a.customer_phone), soci::use(a.notes),
        soci::use(a.status), soci::use(a.channel), soci::use(a.user_id), soci::use(a.conversation_id),
        soci::use(a.created), soci::use(updated);
}

/// `iso` ("2026-12-03T10:00:00+03:00" or "...Z") in ms since the epoch; 0 when malformed.
inline long long ms_of(const std::string& iso) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    char sign = 'Z';
    if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6 || iso.size() < 20)
        return 0;
    if (iso[19] != 'Z' && std::sscanf(iso.c_str() + 19, "%c%d:%d", &sign, &oh, &om) != 3) return 0;
    const date::sys_days day{date::year{y} / date::month{static_cast<unsigned>(mo)} /
                             date::day{static_cast<unsigned>(d)}};
    const long long offset_minutes = (sign == '-' ? -1 : sign == '+' ? 1 : 0) * (oh * 60 + om);
    const auto t =
        day + std::chrono::hours{h} + std::chrono::minutes{mi - offset_minutes} + std::chrono::seconds{sec};
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace tezgah::testing
