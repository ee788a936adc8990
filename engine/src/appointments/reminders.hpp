#pragma once
// Reminders (docs/appointments.md, "Reminders and notices"): `reminder_hours` (the appointments
// tool's setting, 24 by default) before each confirmed appointment, one message to the customer on
// the channel they booked on, through the outbox, in their language, naming the service, the day,
// the time and the business. `tezgah serve` sweeps every minute and once at start.
//
// Sent once: an appointment is claimed by setting its reminder_at (`... WHERE reminder_at IS
// NULL`, so one instance of several wins), and its message is queued with the idempotency key
// `reminder:<id>:<start ms>`, so a sweep that runs again (a restart, another instance) queues
// nothing new. A reschedule sets reminder_at back to NULL (appointments/store.hpp): the moved
// appointment is reminded of again, under a new key.
//
// Not reminded (reminder_at set, logged at debug): an appointment booked on a channel that cannot
// send (the chat API, /webhook, the widget) or by an operator without a channel; one booked when
// its start was already within reminder_hours (the booking's confirmation was its reminder); one
// whose start has passed.

#include "appointments/store.hpp"
#include "outbox/outbox.hpp"
#include "tenants/tenant.hpp"
#include "util/periodic.hpp"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::engine::appointments {

/// The name a channel's `templates` may give the template a reminder goes out as when the
/// customer's 24-hour window is closed. Its variables: text, customer_name, service, date, time,
/// business.
inline constexpr const char* kReminderTemplate = "appointment_reminder";

/// What a reminder says and the template variables it carries.
struct ReminderText {
    std::string text;
    std::string customer_name;
    std::string service;
    std::string date;  ///< "3 Aralık Perşembe" | "Thursday 3 December"
    std::string time;  ///< "HH:MM", the tenant's wall clock
    std::string business;
};

/// The reminder of `appointment` in `language` (tr, else en).
ReminderText reminder_text(const Appointment& appointment, const Tenant& tenant, const std::string& language);

class Reminders {
public:
    using TenantLookup = std::function<sdk::Result<std::shared_ptr<Tenant>>(const std::string&)>;
    /// Loaded tenants' ids.
    using TenantIds = std::function<std::vector<std::string>()>;
    using Now = std::function<TimePoint()>;

    Reminders(Database& db, Outbox& outbox, TenantLookup tenants, TenantIds tenant_ids, Now now);
    ~Reminders();
    Reminders(const Reminders&) = delete;
    Reminders& operator=(const Reminders&) = delete;

    /// Queues the reminders that are due now, for every loaded tenant that enables the
    /// appointments tool; how many it queued.
    std::size_t sweep();
    /// Runs sweep() at once and then every `interval` on a thread until stop() (serve).
    void start(std::chrono::milliseconds interval = std::chrono::minutes(1));
    void stop();

private:
    /// The tenant's due reminders; how many were queued.
    std::size_t sweep_tenant(const Tenant& tenant, TimePoint now);
    /// The language the customer was last answered in, in the appointment's conversation ("" when
    /// unknown).
    std::string customer_language(const Appointment& appointment);

    Database& db_;
    Outbox& outbox_;
    TenantLookup tenants_;
    TenantIds tenant_ids_;
    Now now_;

    Periodic sweeper_;  ///< last: stopped before the members its sweep() uses go
};

}  // namespace tezgah::engine::appointments
