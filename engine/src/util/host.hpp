#pragma once
// The wall clock, and the host services of a plugin instance that serves no tenant: the
// process-wide instance of a channel that reads which tenant a request is for, and a Lua script
// loaded only to be checked (`tezgah check`).

#include "util/log.hpp"

#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/host.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace tezgah::engine {

/// The real time. Tests replace it with sdk::testing::FakeClock (Engine::set_clock).
class SystemClock final : public sdk::Clock {
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
    /// The process's clock.
    static const SystemClock& instance();
};

/// The real time, moved to start at a chosen moment: `tezgah chat --clock` and `serve --clock`
/// answer as if it were that moment (hours, "yarın", class days), and time runs on from there.
class ShiftedClock final : public sdk::Clock {
public:
    explicit ShiftedClock(std::chrono::system_clock::time_point start);
    std::chrono::system_clock::time_point now() const override;

private:
    std::chrono::system_clock::time_point start_;
    std::chrono::steady_clock::time_point started_;
};

/// "2026-12-05T10:30:00+03:00" (or "...Z", seconds optional) as a moment; nullopt when the text
/// is not such a date and time with its offset from UTC.
std::optional<std::chrono::system_clock::time_point> parse_moment(const std::string& text);

/// An HTTP client that refuses every request: a script being checked sends nothing.
class NoHttpClient final : public sdk::HttpClient {
public:
    sdk::Result<sdk::HttpResponse> send(const sdk::OutboundRequest& request) override;
};

/// Host services with an empty tenant profile, catalog and knowledge base. `http` outlives it.
class TenantlessHost final : public sdk::HostServices {
public:
    TenantlessHost(const std::string& logger_kind, const std::string& logger_name, sdk::HttpClient& http);

    sdk::Logger& logger() override { return logger_; }
    const sdk::TenantProfile& tenant() const override { return profile_; }
    const sdk::CatalogStore& catalog() const override { return catalog_; }
    const sdk::KnowledgeStore& knowledge() const override { return knowledge_; }
    const sdk::Clock& clock() const override { return SystemClock::instance(); }
    sdk::HttpClient& http() override { return http_; }
    /// No hours: never open.
    bool is_open_at(std::chrono::system_clock::time_point) const override { return false; }

private:
    class EmptyCatalog final : public sdk::CatalogStore {
    public:
        std::vector<sdk::Offering> all() const override { return {}; }
        std::optional<sdk::Offering> get(std::string_view) const override { return std::nullopt; }
        std::vector<sdk::OfferingMatch> find(std::string_view, std::string_view, std::size_t) const override {
            return {};
        }
    };
    class EmptyKnowledge final : public sdk::KnowledgeStore {
    public:
        std::vector<sdk::KnowledgeEntry> all() const override { return {}; }
        std::vector<sdk::KnowledgeHit> search(std::string_view, std::string_view,
                                              std::size_t) const override {
            return {};
        }
    };

    PluginLogger logger_;
    sdk::TenantProfile profile_;
    EmptyCatalog catalog_;
    EmptyKnowledge knowledge_;
    sdk::HttpClient& http_;
};

}  // namespace tezgah::engine
