#pragma once
// Runs every store test against both backends: SQLite in a temporary folder, and PostgreSQL on a
// throwaway server (TEZGAH_TEST_PG_URL, or one this binary starts with scripts/pg-test-server and
// stops at the end). Each test gets a fresh database. Without PostgreSQL the PG cases fail, unless
// TEZGAH_SKIP_PG=1.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace soci {
class session;
}

namespace tezgah::engine::testing {

/// The PostgreSQL server of this test run.
class PostgresServer : public ::testing::Environment {
public:
    static PostgresServer& instance();

    void SetUp() override;
    void TearDown() override;

    bool skipped() const { return skipped_; }
    /// Empty when the server could not be had; then error() says why.
    const std::string& url() const { return url_; }
    const std::string& error() const { return error_; }

private:
    bool skipped_ = false;
    std::string url_;
    std::string error_;
    std::string started_dir_;  ///< set when this binary started the server
};

/// A fresh, empty database of `backend` for one test; dropped/removed on destruction.
class ScratchDatabase {
public:
    explicit ScratchDatabase(Backend backend);
    ~ScratchDatabase();
    ScratchDatabase(const ScratchDatabase&) = delete;
    ScratchDatabase& operator=(const ScratchDatabase&) = delete;

    const std::string& url() const { return url_; }
    /// Empty when the database could not be made.
    const std::string& error() const { return error_; }

private:
    Backend backend_;
    std::string url_;
    std::string error_;
    std::filesystem::path folder_;  ///< sqlite
    std::string pg_name_;           ///< postgresql
};

/// Base of the parameterised suites: `db` is open on a fresh database of GetParam().
class StoreTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override;
    void TearDown() override;

    /// Another Database on the same URL (as a second process would have).
    std::unique_ptr<Database> open_again();
    /// upsert_tenant that must succeed.
    void add_tenant(const std::string& id);

    std::unique_ptr<ScratchDatabase> scratch;
    std::unique_ptr<Database> db;
};

std::string backend_name(const ::testing::TestParamInfo<Backend>& info);

/// A SOCI session of its own on `url`, beside any Database open on it: for what the Database does
/// not offer (a table of the test's own, a schema changed under it). Fails the test and answers
/// null when it cannot connect.
std::unique_ptr<soci::session> open_sql_session(const std::string& url);

#define TEZGAH_STORE_BACKENDS(Suite)                                                                 \
    INSTANTIATE_TEST_SUITE_P(                                                                        \
        Backends, Suite,                                                                             \
        ::testing::Values(::tezgah::engine::Backend::sqlite, ::tezgah::engine::Backend::postgresql), \
        ::tezgah::engine::testing::backend_name)

// Fixture data (shared/fixtures/tenants/<tenant>/data/*.json), parsed with the SDK's parsers.
std::vector<sdk::Offering> fixture_offerings(const std::string& tenant);
std::vector<sdk::KnowledgeEntry> fixture_knowledge(const std::string& tenant);
std::vector<sdk::Resource> fixture_resources(const std::string& tenant);

}  // namespace tezgah::engine::testing
