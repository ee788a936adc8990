#pragma once
// Appointments as stored (schema 14, docs/appointments.md "Booking safely"), on Database::read and
// Database::write like the other feature stores. Every query filters on tenant_id; times are UTC
// instants (ms since the epoch in the table).
//
// A booking, a move and a re-confirmation run in one transaction that first bumps the resource's
// row in appointment_locks (inserted when missing): on SQLite the writer is one at a time anyway,
// on PostgreSQL the row lock makes every other transaction booking that resource, in any process,
// wait until this one commits. Only then are the resource's confirmed appointments read and the
// caller's check (appointments::check_start over them, which counts places with places_left)
// decides; a refused booking writes nothing.

#include "appointments/availability.hpp"
#include "store/database.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine::appointments {

namespace json = boost::json;

/// The states of an appointment (appointments.status).
inline constexpr const char* kConfirmed = "confirmed";
inline constexpr const char* kCancelled = "cancelled";
inline constexpr const char* kCompleted = "completed";
inline constexpr const char* kNoShow = "no_show";
/// One of the four states above.
bool valid_status(std::string_view status);

/// One row of `appointments`.
struct Appointment {
    std::string id;  ///< "apt_" + 16 lowercase hex digits (new_appointment_id())
    std::string tenant_id;
    std::string service_id;   ///< the offering's id
    std::string resource_id;  ///< the resource it holds
    TimePoint start;
    TimePoint end;           ///< start + the service's duration (the buffer is not part of it)
    int buffer_minutes = 0;  ///< the service's buffer when booked: the resource is held until end + this
    std::string customer_name;
    std::string customer_phone;
    std::string notes;
    std::string status = kConfirmed;
    std::string channel;  ///< where the customer booked ("" when an operator did)
    std::string user_id;  ///< the customer who booked through a conversation ("" when an operator did)
    std::string conversation_id;  ///< the conversation it was booked in ("" when none)
    TimePoint created_at{};
    TimePoint updated_at{};
    std::optional<TimePoint> reminder_at;  ///< when its reminder was queued; none: not yet (reset by a move)
};

/// A fresh appointment id: "apt_" + 16 lowercase hex random digits.
std::string new_appointment_id();

/// The names to_json shows next to the ids (in the turn's language).
struct Names {
    std::string service;   ///< the offering's name ("" when it is gone from the catalog)
    std::string resource;  ///< the resource's name ("" when it is gone)
};

/// The contract's Appointment JSON: {"id", "service", "service_name", "resource", "resource_name",
/// "start", "end" (ISO 8601 with `timezone`'s offset), "customer_name", "customer_phone", "notes",
/// "status", "channel", "created_at" (ISO 8601 UTC, "Z")}.
json::object to_json(const Appointment& appointment, const std::string& timezone, const Names& names);

/// What list_appointments returns; every field empty or unset means "any".
struct AppointmentFilter {
    std::optional<TimePoint> from;  ///< start >= from
    std::optional<TimePoint> to;    ///< start < to
    std::string status;
    std::string resource;
    std::string service;
    std::string user_id;
    std::size_t limit = 1000;
};

/// The tenant's appointment `id`; none when it has none by that id.
sdk::Result<std::optional<Appointment>> find_appointment(Database& db, const std::string& tenant_id,
                                                         const std::string& id);
/// The tenant's appointments that pass `filter`, earliest start first (then by id).
sdk::Result<std::vector<Appointment>> list_appointments(Database& db, const std::string& tenant_id,
                                                        const AppointmentFilter& filter);
/// The tenants with a confirmed appointment starting after `now` not yet reminded of: the reminder
/// sweep visits these alone (thousands of tenants without bookings are not loaded for it).
sdk::Result<std::vector<std::string>> tenants_with_upcoming_appointments(Database& db, TimePoint now);
/// The confirmed appointments of `resource_id` that hold it at some moment of [from, to) (their
/// start up to their end plus buffer), as availability takes them, earliest first.
sdk::Result<std::vector<Busy>> busy_intervals(Database& db, const std::string& tenant_id,
                                              const std::string& resource_id, TimePoint from, TimePoint to);

/// Decides, inside the booking transaction and after the resource's lock, whether the start can
/// still be taken given the resource's confirmed appointments at that moment (`busy`: those that
/// touch the new interval, the appointment being moved left out). Refusal::none books. Pure: it
/// may run more than once (group commit).
using PlacesCheck = std::function<Refusal(const std::vector<Busy>& busy)>;

/// What a booking, a move or a re-confirmation came to.
struct BookResult {
    bool done = false;   ///< booked, moved, confirmed
    std::string reason;  ///< not done: "past" | "too_soon" | "too_far" | "closed_day" | "outside_hours" |
                         ///< "off_grid" | "taken" (the check's), "not_found", "not_confirmed" (a move of a
                         ///< cancelled, completed or no-show appointment)
    Appointment appointment;     ///< done: as stored now; refused: as it was (the one asked for, for book)
    TimePoint previous_start{};  ///< reschedule: where it was
    TimePoint previous_end{};
};

/// Books `appointment` (id, tenant, service, resource, times, buffer, customer, channel, user,
/// conversation set; status confirmed; created_at = updated_at = now) when `check` allows it.
sdk::Result<BookResult> book(Database& db, const Appointment& appointment, const PlacesCheck& check);
/// Moves the confirmed appointment `id` to [start, end) (same id, service, resource and buffer)
/// when `check` allows it (its own old place left out); its reminder is due again (reminder_at
/// NULL) when the start changed.
sdk::Result<BookResult> reschedule(Database& db, const std::string& tenant_id, const std::string& id,
                                   TimePoint start, TimePoint end, TimePoint now, const PlacesCheck& check);
/// Makes a cancelled (or completed, no-show) appointment confirmed again when `check` allows it:
/// it takes a place again.
sdk::Result<BookResult> reconfirm(Database& db, const std::string& tenant_id, const std::string& id,
                                  TimePoint now, const PlacesCheck& check);
/// Cancels appointment `id` (set_status to cancelled); none when the tenant has no such appointment.
sdk::Result<std::optional<Appointment>> cancel(Database& db, const std::string& tenant_id,
                                               const std::string& id, TimePoint now);
/// Sets the status of appointment `id` to cancelled, completed or no_show (confirmed goes through
/// reconfirm). The appointment as stored afterwards; none when the tenant has no such appointment.
sdk::Result<std::optional<Appointment>> set_status(Database& db, const std::string& tenant_id,
                                                   const std::string& id, const std::string& status,
                                                   TimePoint now);
/// Replaces the notes of appointment `id`; none when the tenant has no such appointment.
sdk::Result<std::optional<Appointment>> set_notes(Database& db, const std::string& tenant_id,
                                                  const std::string& id, const std::string& notes,
                                                  TimePoint now);

}  // namespace tezgah::engine::appointments
