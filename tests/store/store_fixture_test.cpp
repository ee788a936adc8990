// The two-backend test harness (store_fixture.hpp). Named *_test.cpp so that the tests' build
// glob compiles it into store_tests.
#include "store_fixture.hpp"
#include "store/connection_url.hpp"

#include <soci/soci.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/random.hpp>

// The backends' factories (their headers want libpq's, which the tests do not need).
extern "C" soci::backend_factory const* factory_sqlite3();
extern "C" soci::backend_factory const* factory_postgresql();

namespace tezgah::engine::testing {
namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::string source_dir() {
    auto from_env = env("TEZGAH_SOURCE_DIR");
    return from_env.empty() ? TEZGAH_SOURCE_DIR : from_env;
}

/// `text` in single quotes for sh (our paths and SQL hold no single quotes).
std::string shell_quoted(const std::string& text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '\'';
    out += text;
    out += '\'';
    return out;
}

/// Runs a command, returning its exit status and standard output.
std::pair<int, std::string> run(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return {-1, out};
    std::array<char, 512> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe)) out += buffer.data();
    int status = ::pclose(pipe);
    return {status, out};
}

bool postgres_tests_selected() {
    const auto& unit = *::testing::UnitTest::GetInstance();
    for (int s = 0; s < unit.total_test_suite_count(); ++s) {
        const auto& suite = *unit.GetTestSuite(s);
        for (int t = 0; t < suite.total_test_count(); ++t) {
            const auto& info = *suite.GetTestInfo(t);
            if (info.should_run() && std::string(info.name()).ends_with("/postgresql")) return true;
        }
    }
    return false;
}

/// Runs one SQL command with psql on the server's own database (the test URL has no quotes).
std::pair<int, std::string> psql(const std::string& url, const std::string& command) {
    return run("psql -X -q -v ON_ERROR_STOP=1 -d " + shell_quoted(url) + " -c " + shell_quoted(command) +
               " 2>&1");
}

/// `url` with its database name replaced by `name`.
std::string with_database(const std::string& url, const std::string& name) {
    auto scheme_end = url.find("://");
    auto slash = url.find('/', scheme_end + 3);
    auto query = url.find('?', slash);
    return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

template <class T, class Parse>
std::vector<T> fixture_file(const std::string& tenant, const std::string& file, Parse parse) {
    std::string path = std::string(TEZGAH_FIXTURES_DIR) + "/" + tenant + "/data/" + file;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<T> out;
    boost::system::error_code ec;
    auto value = json::parse(text.str(), ec);
    if (ec || !value.is_array()) {
        ADD_FAILURE() << path << ": not a JSON array";
        return out;
    }
    for (const auto& item : value.get_array()) {
        auto record = parse(item);
        if (!record) {
            ADD_FAILURE() << path << ": " << record.error().message;
            continue;
        }
        out.push_back(record.value());
    }
    return out;
}

[[maybe_unused]] auto* const registered_server =
    ::testing::AddGlobalTestEnvironment(&PostgresServer::instance());

}  // namespace

PostgresServer& PostgresServer::instance() {
    static auto* server = new PostgresServer;  // owned by GoogleTest once registered
    return *server;
}

void PostgresServer::SetUp() {
    if (env("TEZGAH_SKIP_PG") == "1") {
        skipped_ = true;
        return;
    }
    url_ = env("TEZGAH_TEST_PG_URL");
    if (!url_.empty() || !postgres_tests_selected()) return;

    std::string dir_template = std::filesystem::temp_directory_path().string() + "/tezgah-store-pg.XXXXXX";
    std::vector<char> dir(dir_template.begin(), dir_template.end());
    dir.push_back('\0');
    if (!::mkdtemp(dir.data())) {
        error_ = "cannot create a temporary folder for PostgreSQL";
        return;
    }
    std::string script = source_dir() + "/scripts/pg-test-server";
    auto [status, out] = run(shell_quoted(script) + " start " + shell_quoted(dir.data()));
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (status != 0 || !out.starts_with("postgresql://")) {
        error_ = script + " failed (status " + std::to_string(status) + "): " + out;
        std::filesystem::remove_all(dir.data());
        return;
    }
    started_dir_ = dir.data();
    url_ = out;
}

void PostgresServer::TearDown() {
    if (started_dir_.empty()) return;
    run(shell_quoted(source_dir() + "/scripts/pg-test-server") + " stop " + shell_quoted(started_dir_));
    started_dir_.clear();
}

ScratchDatabase::ScratchDatabase(Backend backend) : backend_(backend) {
    if (backend == Backend::sqlite) {
        folder_ = std::filesystem::temp_directory_path() / ("tezgah-store-test-" + sdk::random_hex(6));
        // A folder that does not exist yet: open() must create it.
        url_ = "sqlite:" + (folder_ / "var" / "tezgah.db").string();
        return;
    }
    const auto& server = PostgresServer::instance();
    if (server.url().empty()) {
        error_ = "no PostgreSQL server: " + server.error();
        return;
    }
    pg_name_ = "tezgah_t_" + sdk::random_hex(6);
    auto [status, out] = psql(server.url(), "CREATE DATABASE " + pg_name_);
    if (status != 0) {
        error_ = "CREATE DATABASE on " + redact_url(server.url()) + ": " + out;
        pg_name_.clear();
        return;
    }
    url_ = with_database(server.url(), pg_name_);
}

ScratchDatabase::~ScratchDatabase() {
    if (backend_ == Backend::sqlite) {
        std::error_code ec;
        std::filesystem::remove_all(folder_, ec);
        return;
    }
    if (pg_name_.empty()) return;
    psql(PostgresServer::instance().url(), "DROP DATABASE IF EXISTS " + pg_name_ + " WITH (FORCE)");
}

void StoreTest::SetUp() {
    if (GetParam() == Backend::postgresql && PostgresServer::instance().skipped())
        GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
    scratch = std::make_unique<ScratchDatabase>(GetParam());
    ASSERT_TRUE(scratch->error().empty()) << scratch->error();
    auto opened = Database::open(scratch->url());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db = std::move(opened.value());
}

void StoreTest::TearDown() {
    db.reset();
    scratch.reset();
}

std::unique_ptr<Database> StoreTest::open_again() {
    auto opened = Database::open(scratch->url());
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::move(opened.value()) : nullptr;
}

void StoreTest::add_tenant(const std::string& id) {
    auto status = db->upsert_tenant(id, "Tenant " + id);
    ASSERT_TRUE(status.ok()) << status.error().message;
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::sqlite ? "sqlite" : "postgresql";
}

std::unique_ptr<soci::session> open_sql_session(const std::string& url) {
    auto target = store::parse_database_url(url);
    if (!target) {
        ADD_FAILURE() << target.error().message;
        return nullptr;
    }
    try {
        auto sql = std::make_unique<soci::session>();
        if (target->backend == Backend::sqlite) {
            sql->open(*factory_sqlite3(), "db=" + target->sqlite_path);
            *sql << "PRAGMA busy_timeout=15000";
        } else {
            sql->open(*factory_postgresql(), target->pg_conninfo);
        }
        return sql;
    } catch (const std::exception& e) {
        ADD_FAILURE() << redact_url(url) << ": " << e.what();
        return nullptr;
    }
}

std::vector<sdk::Offering> fixture_offerings(const std::string& tenant) {
    return fixture_file<sdk::Offering>(tenant, "offerings.json", sdk::parse_offering);
}

std::vector<sdk::KnowledgeEntry> fixture_knowledge(const std::string& tenant) {
    return fixture_file<sdk::KnowledgeEntry>(tenant, "knowledge.json", sdk::parse_knowledge_entry);
}

std::vector<sdk::Resource> fixture_resources(const std::string& tenant) {
    return fixture_file<sdk::Resource>(tenant, "resources.json", sdk::parse_resource);
}

}  // namespace tezgah::engine::testing
