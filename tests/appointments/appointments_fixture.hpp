#pragma once
// The studio (a copy of shared/fixtures/tenants/nefes-studyo with {"name": "appointments"} added
// to its tools; the fixture itself is never edited) under an Engine on SQLite or PostgreSQL, with
// a fixed clock: Wednesday 2026-12-02 09:00 in Istanbul (06:00 UTC). Shared by the booking tests.
//
// The studio's week, as the tests lean on it: Ayşe (reformer, 50 min + 10 buffer) works Mon-Fri
// 09:00-18:00 and Sat 10:00-14:00, never on Sunday; Salon A holds 8 for the mat pilates class on
// Mon and Wed at 19:00, Fri at 08:00, Sat at 10:00. The copy closes on 2026-12-08 (a Tuesday).

#include "appointments/book.hpp"
#include "appointments/store.hpp"
#include "pipeline/engine.hpp"
#include "store/store_fixture.hpp"
#include "support/temp_tenants.hpp"

#include <tezgah/sdk/testing/fakes.hpp>

#include <date/date.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace tezgah::testing {

using engine::Backend;
namespace apt = engine::appointments;

inline constexpr const char* kStudio = "nefes-studyo";

/// 2026-12-02 09:00 in Istanbul (UTC+3 all year).
inline std::chrono::system_clock::time_point studio_now() {
    return date::sys_days{date::year{2026} / 12 / 2} + std::chrono::hours(6);
}

/// "YYYY-MM-DDTHH:MM:SSZ" for `tezgah serve --clock`.
inline std::string utc_text(std::chrono::system_clock::time_point t) {
    return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(t));
}

/// Copies the fixture tenants into `tenants` and enables appointments for the studio.
inline void studio_with_appointments(const fs::path& tenants, const json::object& extra = {}) {
    fs::copy(fixtures_dir(), tenants, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    edit_json(tenants / kStudio / "tenant.json", [&](json::value& v) {
        json::object entry{{"name", "appointments"}, {"closures", json::array{"2026-12-08"}}};
        for (const auto& [key, value] : extra) entry[key] = value;
        v.as_object()["tools"].as_array().push_back(entry);
    });
}

/// Every `appointment` event the engine publishes.
class EventLog {
public:
    explicit EventLog(engine::EventHub& hub) : hub_(hub) {
        id_ = hub_.subscribe([this](const engine::Event& e) {
            if (e.type != "appointment") return;
            std::lock_guard lock(mutex_);
            events_.push_back(e.data);
        });
    }
    ~EventLog() { hub_.unsubscribe(id_); }
    std::vector<json::object> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }
    std::vector<std::string> actions() const {
        std::vector<std::string> out;
        for (const auto& e : events()) out.emplace_back(e.at("action").as_string());
        return out;
    }

private:
    engine::EventHub& hub_;
    std::uint64_t id_ = 0;
    mutable std::mutex mutex_;
    std::vector<json::object> events_;
};

/// The studio on a fresh database of GetParam(), an Engine with a fixed clock, and the tools called
/// the way a turn calls them: through the plugin (its .so), which forwards to the engine.
class StudioTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        studio_with_appointments(dir.path() / "tenants", settings);
        if (!llm.empty())
            edit_json(dir.path() / "tenants" / kStudio / "tenant.json",
                      [&](json::value& v) { v.as_object()["llm"] = llm; });
        clock.set(studio_now());
        engine::EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = scratch->url();
        o.plugin_path = {plugin_dir()};
        e = std::make_unique<engine::Engine>(o);
        auto started = e->start();
        ASSERT_TRUE(started.ok()) << started.error().message;
        e->set_clock(&clock);
        auto loaded = e->tenant(kStudio);
        ASSERT_TRUE(loaded.ok()) << loaded.error().message;
        studio = *loaded;
        events = std::make_unique<EventLog>(e->events());
    }
    void TearDown() override {
        events.reset();
        studio.reset();
        e.reset();
        scratch.reset();
    }

    static sdk::TurnContext turn(const std::string& user, const std::string& language = "tr") {
        sdk::TurnContext t;
        t.tenant_id = kStudio;
        t.user_id = user;
        t.channel = "whatsapp-cloud";
        t.conversation_id = "conv-" + user;
        t.language = language;
        return t;
    }

    /// Calls tool `name` through the studio's appointments plugin, as a turn does.
    sdk::Result<json::value> call(const std::string& name, const json::object& args, const std::string& user,
                                  const std::string& language = "tr") {
        const auto it = studio->tools().find(name);
        if (it == studio->tools().end()) return sdk::Error{"not_found", "no tool " + name};
        auto t = turn(user, language);
        return it->second.owner.plugin->invoke(sdk::ToolCall{"call-1", name, args}, t);
    }
    /// The answer of a call that must succeed (an empty object when it failed the test).
    json::object ok(const std::string& name, const json::object& args, const std::string& user,
                    const std::string& language = "tr") {
        auto r = call(name, args, user, language);
        EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().code + " " + r.error().message);
        return r.ok() && r->is_object() ? r->as_object() : json::object{};
    }
    json::object book(const std::string& service, const std::string& date, const std::string& time,
                      const std::string& user, const std::string& language = "tr") {
        return ok("create_appointment",
                  {{"service", service},
                   {"date", date},
                   {"time", time},
                   {"customer_name", "Müşteri " + user},
                   {"customer_phone", "+90555" + std::to_string(user.size()) + "112233"}},
                  user, language);
    }
    /// Every stored appointment of the studio, earliest first.
    std::vector<apt::Appointment> stored(const std::string& status = {}) {
        apt::AppointmentFilter filter;
        filter.status = status;
        auto list = apt::list_appointments(e->database(), kStudio, filter);
        EXPECT_TRUE(list.ok());
        return list.ok() ? *list : std::vector<apt::Appointment>{};
    }

    json::object settings;  ///< more of the tool's settings, set before SetUp
    json::object llm;       ///< the studio's `llm` block, when set before SetUp (else the offline assistant)
    TempDir dir;
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
    sdk::testing::FakeClock clock;
    std::unique_ptr<engine::Engine> e;
    std::shared_ptr<engine::Tenant> studio;
    std::unique_ptr<EventLog> events;
};

}  // namespace tezgah::testing
