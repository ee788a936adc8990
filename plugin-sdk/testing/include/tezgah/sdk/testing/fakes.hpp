#pragma once
/// @file fakes.hpp
/// In-memory host services for testing a plugin alone, without the engine:
///
///   tezgah::sdk::testing::FakeHost host;
///   host.load_offerings_file("tenants/x/data/offerings.json");
///   auto plugin = tezgah::sdk::testing::instantiate(tezgah_plugin_descriptor, host, config);
///
/// Link `Tezgah::sdk_testing`.

#include <tezgah/sdk/sdk.hpp>

#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace tezgah::sdk::testing {

/// Keeps every line it is given, for assertions.
class FakeLogger : public Logger {
public:
    void log(LogLevel level, std::string_view message) override;
    std::vector<std::pair<LogLevel, std::string>> lines;
    bool contains(std::string_view needle) const;
};

/// A clock that stands still until told to move.
class FakeClock : public Clock {
public:
    std::chrono::system_clock::time_point now() const override { return now_; }
    void set(std::chrono::system_clock::time_point t) { now_ = t; }
    void advance(std::chrono::seconds s) { now_ += s; }

private:
    std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
};

/// Answers outbound requests from a queue of scripted responses and records what was sent.
class FakeHttpClient : public HttpClient {
public:
    Result<HttpResponse> send(const OutboundRequest& request) override;
    std::deque<Result<HttpResponse>> responses;
    std::vector<OutboundRequest> sent;
};

class FakeCatalog : public CatalogStore {
public:
    std::vector<Offering> all() const override { return offerings; }
    std::optional<Offering> get(std::string_view id) const override;
    std::vector<OfferingMatch> find(std::string_view query, std::string_view language,
                                    std::size_t limit) const override;
    std::vector<Offering> offerings;
};

class FakeKnowledge : public KnowledgeStore {
public:
    std::vector<KnowledgeEntry> all() const override { return entries; }
    std::vector<KnowledgeHit> search(std::string_view query, std::string_view language,
                                     std::size_t limit) const override;
    std::vector<KnowledgeEntry> entries;
};

/// Host services backed by the fakes above. Opening hours follow `profile.hours` in UTC.
class FakeHost : public HostServices {
public:
    Logger& logger() override { return log; }
    const TenantProfile& tenant() const override { return profile; }
    const CatalogStore& catalog() const override { return offerings; }
    const KnowledgeStore& knowledge() const override { return knowledge_base; }
    const Clock& clock() const override { return time; }
    HttpClient& http() override { return web; }
    bool is_open_at(std::chrono::system_clock::time_point when) const override;
    AppointmentBook* appointments() override { return bookings; }

    /// Loads a data file in the tenant folder format; throws std::runtime_error naming the problem.
    void load_offerings_file(const std::string& path);
    void load_knowledge_file(const std::string& path);
    /// Fills `profile.resources` from a resources.json.
    void load_resources_file(const std::string& path);
    /// Fills `profile` from a tenant.json (id, name, locale, business, persona, handoff).
    void load_manifest_file(const std::string& path);

    TenantProfile profile;
    FakeLogger log;
    FakeClock time;
    FakeHttpClient web;
    FakeCatalog offerings;
    FakeKnowledge knowledge_base;
    AppointmentBook* bookings = nullptr;  ///< what appointments() answers (not owned); none by default
};

/// Builds an instance from a descriptor exactly as the engine does: `config` is checked against the
/// descriptor's config keys and its defaults are filled in (validate_config), then the factory
/// runs. Returns nullptr and records each problem (`key: message`) or the factory's error in
/// host.log otherwise.
PluginPtr instantiate(const PluginDescriptor& descriptor, HostServices& host,
                      const json::object& config = {});

/// Reads a whole file; throws std::runtime_error naming the path.
std::string read_file(const std::string& path);

}  // namespace tezgah::sdk::testing
