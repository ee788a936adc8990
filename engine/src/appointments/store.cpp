// Appointments as stored (appointments/store.hpp): rows of `appointments`, and the booking
// transaction that serializes on the resource's row of `appointment_locks`.
#include "appointments/store.hpp"

#include "store/sql_support.hpp"

#include <tezgah/sdk/random.hpp>

#include <soci/soci.h>

#include <date/date.h>

namespace tezgah::engine::appointments {
namespace {

using store::from_millis;
using store::to_millis;

constexpr const char* kColumns =
    "id, tenant_id, service_id, resource_id, start_at, end_at, buffer_minutes, customer_name, "
    "customer_phone, notes, status, channel, user_id, conversation_id, created_at, updated_at, reminder_at";

/// One row as SOCI fills it.
struct Row {
    Appointment a;
    long long start = 0, end = 0, created = 0, updated = 0, reminder = 0;
    int buffer = 0;
    soci::indicator reminder_null = soci::i_ok;

    void bind(soci::statement& st) {
        for (auto* field : {&a.id, &a.tenant_id, &a.service_id, &a.resource_id})
            st.exchange(soci::into(*field));
        st.exchange(soci::into(start));
        st.exchange(soci::into(end));
        st.exchange(soci::into(buffer));
        for (auto* field : {&a.customer_name, &a.customer_phone, &a.notes, &a.status, &a.channel, &a.user_id,
                            &a.conversation_id})
            st.exchange(soci::into(*field));
        st.exchange(soci::into(created));
        st.exchange(soci::into(updated));
        st.exchange(soci::into(reminder, reminder_null));
    }
    Appointment finish() const {
        Appointment out = a;
        out.start = from_millis(start);
        out.end = from_millis(end);
        out.buffer_minutes = buffer;
        out.created_at = from_millis(created);
        out.updated_at = from_millis(updated);
        out.reminder_at = reminder_null == soci::i_null ? std::nullopt : std::optional(from_millis(reminder));
        return out;
    }
};

/// The rows of `where` (after "FROM appointments "), with `params` bound in order.
std::vector<Appointment> select(soci::session& sql, const std::string& where,
                                const std::vector<std::string>& params,
                                const std::vector<long long>& numbers) {
    std::vector<Appointment> out;
    Row row;
    soci::statement st(sql);
    row.bind(st);
    for (const auto& p : params) st.exchange(soci::use(p));
    for (const auto& n : numbers) st.exchange(soci::use(n));
    st.alloc();
    st.prepare(std::string("SELECT ") + kColumns + " FROM appointments " + where);
    st.define_and_bind();
    st.execute(false);
    while (st.fetch()) out.push_back(row.finish());
    return out;
}

std::optional<Appointment> select_one(soci::session& sql, const std::string& tenant_id,
                                      const std::string& id) {
    auto rows = select(sql, "WHERE tenant_id = :t AND id = :id", {tenant_id, id}, {});
    if (rows.empty()) return std::nullopt;
    return rows.front();
}

/// Takes the resource's lock row for the rest of the transaction: inserted when missing, then
/// bumped, so that every other booking of the resource waits for this transaction to end.
void lock_resource(soci::session& sql, const std::string& tenant_id, const std::string& resource_id) {
    sql << "INSERT INTO appointment_locks (tenant_id, resource_id, version) VALUES (:t, :r, 0) "
           "ON CONFLICT (tenant_id, resource_id) DO NOTHING",
        soci::use(tenant_id), soci::use(resource_id);
    sql << "UPDATE appointment_locks SET version = version + 1 WHERE tenant_id = :t AND resource_id = :r",
        soci::use(tenant_id), soci::use(resource_id);
}

/// The resource's confirmed appointments that hold it at some moment of [from, to), `except` left out.
std::vector<Busy> read_busy(soci::session& sql, const std::string& tenant_id, const std::string& resource_id,
                            TimePoint from, TimePoint to, const std::string& except) {
    std::vector<Busy> out;
    long long start = 0, end = 0;
    int buffer = 0;
    std::string service;
    const long long from_ms = to_millis(from), to_ms = to_millis(to);
    soci::statement st =
        (sql.prepare
             << "SELECT start_at, end_at, buffer_minutes, service_id FROM appointments WHERE tenant_id = :t "
                "AND resource_id = :r AND status = 'confirmed' AND id <> :x AND start_at < :to AND "
                "end_at + buffer_minutes * 60000 > :from ORDER BY start_at, id",
         soci::into(start), soci::into(end), soci::into(buffer), soci::into(service), soci::use(tenant_id),
         soci::use(resource_id), soci::use(except), soci::use(to_ms), soci::use(from_ms));
    st.execute();
    while (st.fetch()) out.push_back(Busy{from_millis(start), from_millis(end), buffer, service});
    return out;
}

/// The interval an appointment holds its resource for: [start, end + buffer).
TimePoint held_until(const Appointment& a) { return a.end + std::chrono::minutes(a.buffer_minutes); }

std::string iso_utc(TimePoint when) {
    return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(when));
}

}  // namespace

bool valid_status(std::string_view status) {
    return status == kConfirmed || status == kCancelled || status == kCompleted || status == kNoShow;
}

std::string new_appointment_id() { return "apt_" + sdk::random_hex(8); }

json::object to_json(const Appointment& a, const std::string& timezone, const Names& names) {
    return json::object{{"id", a.id},
                        {"service", a.service_id},
                        {"service_name", names.service},
                        {"resource", a.resource_id},
                        {"resource_name", names.resource},
                        {"start", iso_local(a.start, timezone)},
                        {"end", iso_local(a.end, timezone)},
                        {"customer_name", a.customer_name},
                        {"customer_phone", a.customer_phone},
                        {"notes", a.notes},
                        {"status", a.status},
                        {"channel", a.channel},
                        {"created_at", iso_utc(a.created_at)}};
}

sdk::Result<std::optional<Appointment>> find_appointment(Database& db, const std::string& tenant_id,
                                                         const std::string& id) {
    std::optional<Appointment> out;
    auto read = db.read("find_appointment [" + tenant_id + "]",
                        [&](soci::session& sql) { out = select_one(sql, tenant_id, id); });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::vector<std::string>> tenants_with_upcoming_appointments(Database& db, TimePoint now) {
    std::vector<std::string> out;
    const long long from = to_millis(now);
    auto read = db.read("tenants_with_upcoming_appointments", [&](soci::session& sql) {
        out.clear();
        std::string id;
        soci::statement st = (sql.prepare << "SELECT DISTINCT tenant_id FROM appointments WHERE status = "
                                             "'confirmed' AND reminder_at IS NULL AND start_at > :now",
                              soci::use(from), soci::into(id));
        st.execute(false);
        while (st.fetch()) out.push_back(id);
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::vector<Appointment>> list_appointments(Database& db, const std::string& tenant_id,
                                                        const AppointmentFilter& filter) {
    std::string where = "WHERE tenant_id = :t";
    std::vector<std::string> params{tenant_id};
    for (const auto& [column, value] :
         {std::pair{"status", &filter.status}, std::pair{"resource_id", &filter.resource},
          std::pair{"service_id", &filter.service}, std::pair{"user_id", &filter.user_id}}) {
        if (value->empty()) continue;
        where += std::string(" AND ") + column + " = :p" + std::to_string(params.size());
        params.push_back(*value);
    }
    std::vector<long long> numbers;
    if (filter.from) {
        where += " AND start_at >= :from";
        numbers.push_back(to_millis(*filter.from));
    }
    if (filter.to) {
        where += " AND start_at < :to";
        numbers.push_back(to_millis(*filter.to));
    }
    where += " ORDER BY start_at, id LIMIT :n";
    numbers.push_back(static_cast<long long>(std::max<std::size_t>(filter.limit, 1)));
    std::vector<Appointment> out;
    auto read = db.read("list_appointments [" + tenant_id + "]",
                        [&](soci::session& sql) { out = select(sql, where, params, numbers); });
    if (!read) return read.error();
    return out;
}

sdk::Result<std::vector<Busy>> busy_intervals(Database& db, const std::string& tenant_id,
                                              const std::string& resource_id, TimePoint from, TimePoint to) {
    std::vector<Busy> out;
    auto read = db.read("busy_intervals [" + tenant_id + "]", [&](soci::session& sql) {
        out = read_busy(sql, tenant_id, resource_id, from, to, "");
    });
    if (!read) return read.error();
    return out;
}

sdk::Result<BookResult> book(Database& db, const Appointment& appointment, const PlacesCheck& check) {
    BookResult result;
    const long long start = to_millis(appointment.start), end = to_millis(appointment.end);
    const long long created = to_millis(appointment.created_at), updated = to_millis(appointment.updated_at);
    const std::string status = kConfirmed;
    auto written = db.write("book_appointment [" + appointment.tenant_id + "]", [&](soci::session& sql) {
        result = BookResult{};
        result.appointment = appointment;
        lock_resource(sql, appointment.tenant_id, appointment.resource_id);
        const auto busy = read_busy(sql, appointment.tenant_id, appointment.resource_id, appointment.start,
                                    held_until(appointment), "");
        if (const auto refusal = check(busy); refusal != Refusal::none) {
            result.reason = refusal_name(refusal);
            return;
        }
        sql << "INSERT INTO appointments (id, tenant_id, service_id, resource_id, start_at, end_at, "
               "buffer_minutes, "
               "customer_name, customer_phone, notes, status, channel, user_id, conversation_id, created_at, "
               "updated_at, reminder_at) VALUES (:id, :t, :s, :r, :st, :en, :b, :cn, :cp, :no, :stat, :ch, "
               ":u, :c, "
               ":cr, :up, NULL)",
            soci::use(appointment.id), soci::use(appointment.tenant_id), soci::use(appointment.service_id),
            soci::use(appointment.resource_id), soci::use(start), soci::use(end),
            soci::use(appointment.buffer_minutes), soci::use(appointment.customer_name),
            soci::use(appointment.customer_phone), soci::use(appointment.notes), soci::use(status),
            soci::use(appointment.channel), soci::use(appointment.user_id),
            soci::use(appointment.conversation_id), soci::use(created), soci::use(updated);
        result.done = true;
        result.appointment.status = kConfirmed;
        result.appointment.reminder_at.reset();
    });
    if (!written) return written.error();
    return result;
}

sdk::Result<BookResult> reschedule(Database& db, const std::string& tenant_id, const std::string& id,
                                   TimePoint start, TimePoint end, TimePoint now, const PlacesCheck& check) {
    BookResult result;
    const long long start_ms = to_millis(start), end_ms = to_millis(end), now_ms = to_millis(now);
    auto written = db.write("reschedule_appointment [" + tenant_id + "]", [&](soci::session& sql) {
        result = BookResult{};
        auto found = select_one(sql, tenant_id, id);
        if (!found) {
            result.reason = "not_found";
            return;
        }
        lock_resource(sql, tenant_id, found->resource_id);
        // Read again under the lock: a move or cancellation that committed meanwhile counts.
        found = select_one(sql, tenant_id, id);
        result.appointment = *found;
        result.previous_start = found->start;
        result.previous_end = found->end;
        if (found->status != kConfirmed) {
            result.reason = "not_confirmed";
            return;
        }
        Appointment moved = *found;
        moved.start = start;
        moved.end = end;
        const auto busy = read_busy(sql, tenant_id, moved.resource_id, moved.start, held_until(moved), id);
        if (const auto refusal = check(busy); refusal != Refusal::none) {
            result.reason = refusal_name(refusal);
            return;
        }
        if (start != found->start) {
            sql << "UPDATE appointments SET start_at = :s, end_at = :e, updated_at = :u, reminder_at = NULL "
                   "WHERE tenant_id = :t AND id = :id",
                soci::use(start_ms), soci::use(end_ms), soci::use(now_ms), soci::use(tenant_id),
                soci::use(id);
            moved.reminder_at.reset();
        } else {
            sql << "UPDATE appointments SET end_at = :e, updated_at = :u WHERE tenant_id = :t AND id = :id",
                soci::use(end_ms), soci::use(now_ms), soci::use(tenant_id), soci::use(id);
        }
        moved.updated_at = now;
        result.appointment = moved;
        result.done = true;
    });
    if (!written) return written.error();
    return result;
}

sdk::Result<BookResult> reconfirm(Database& db, const std::string& tenant_id, const std::string& id,
                                  TimePoint now, const PlacesCheck& check) {
    BookResult result;
    const long long now_ms = to_millis(now);
    auto written = db.write("reconfirm_appointment [" + tenant_id + "]", [&](soci::session& sql) {
        result = BookResult{};
        auto found = select_one(sql, tenant_id, id);
        if (!found) {
            result.reason = "not_found";
            return;
        }
        lock_resource(sql, tenant_id, found->resource_id);
        found = select_one(sql, tenant_id, id);
        result.appointment = *found;
        if (found->status == kConfirmed) {
            result.done = true;  // nothing to do: it holds its place
            return;
        }
        const auto busy = read_busy(sql, tenant_id, found->resource_id, found->start, held_until(*found), id);
        if (const auto refusal = check(busy); refusal != Refusal::none) {
            result.reason = refusal_name(refusal);
            return;
        }
        const std::string status = kConfirmed;
        sql << "UPDATE appointments SET status = :s, updated_at = :u WHERE tenant_id = :t AND id = :id",
            soci::use(status), soci::use(now_ms), soci::use(tenant_id), soci::use(id);
        result.appointment.status = kConfirmed;
        result.appointment.updated_at = now;
        result.done = true;
    });
    if (!written) return written.error();
    return result;
}

namespace {

/// Sets one text column (`status` or `notes`, never a caller's string) of appointment `id` and
/// reads the row back; nullopt when the tenant has no such appointment.
sdk::Result<std::optional<Appointment>> set_column(Database& db, const std::string& tenant_id,
                                                   const std::string& id, const char* column,
                                                   const std::string& value, TimePoint now) {
    std::optional<Appointment> out;
    const long long now_ms = to_millis(now);
    const std::string update = std::string("UPDATE appointments SET ") + column +
                               " = :v, updated_at = :u WHERE tenant_id = :t AND id = :id";
    auto written =
        db.write(std::string("set_appointment_") + column + " [" + tenant_id + "]", [&](soci::session& sql) {
            out.reset();
            sql << update, soci::use(value), soci::use(now_ms), soci::use(tenant_id), soci::use(id);
            out = select_one(sql, tenant_id, id);
        });
    if (!written) return written.error();
    return out;
}

}  // namespace

sdk::Result<std::optional<Appointment>> set_status(Database& db, const std::string& tenant_id,
                                                   const std::string& id, const std::string& status,
                                                   TimePoint now) {
    return set_column(db, tenant_id, id, "status", status, now);
}

sdk::Result<std::optional<Appointment>> cancel(Database& db, const std::string& tenant_id,
                                               const std::string& id, TimePoint now) {
    return set_status(db, tenant_id, id, kCancelled, now);
}

sdk::Result<std::optional<Appointment>> set_notes(Database& db, const std::string& tenant_id,
                                                  const std::string& id, const std::string& notes,
                                                  TimePoint now) {
    return set_column(db, tenant_id, id, "notes", notes, now);
}

}  // namespace tezgah::engine::appointments
