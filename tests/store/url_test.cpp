// Database URLs: parsing into what the backends want, redaction, and errors that name the URL
// without its password.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/connection_url.hpp"

namespace tezgah::engine {
namespace {

TEST(DatabaseUrl, PasswordsAreRedacted) {
    EXPECT_EQ(redact_url("postgresql://tezgah:s3cret@db.local:5432/tezgah"),
              "postgresql://tezgah:***@db.local:5432/tezgah");
    EXPECT_EQ(redact_url("postgres://u:p%40ss@h/db?sslmode=require"),
              "postgres://u:***@h/db?sslmode=require");
    EXPECT_EQ(redact_url("postgresql://u@h/db?password=hunter2&sslmode=disable"),
              "postgresql://u@h/db?password=***&sslmode=disable");
    EXPECT_EQ(redact_url("postgresql://u@h:5432/db"), "postgresql://u@h:5432/db");
    EXPECT_EQ(redact_url("sqlite:var/tezgah.db"), "sqlite:var/tezgah.db");
}

TEST(DatabaseUrl, PostgresUrlBecomesLibpqKeywords) {
    auto target =
        store::parse_database_url("postgresql://tez%20gah:p'w@127.0.0.1:6543/tezgah_db?sslmode=disable");
    ASSERT_TRUE(target.ok()) << target.error().message;
    EXPECT_EQ(target->backend, Backend::postgresql);
    EXPECT_EQ(
        target->pg_conninfo,
        "user='tez gah' password='p\\'w' host='127.0.0.1' port='6543' dbname='tezgah_db' sslmode='disable'");

    auto short_form = store::parse_database_url("postgres://postgres@[::1]/x");
    ASSERT_TRUE(short_form.ok()) << short_form.error().message;
    EXPECT_EQ(short_form->pg_conninfo, "user='postgres' host='::1' dbname='x'");
}

TEST(DatabaseUrl, SqliteUrls) {
    auto relative = store::parse_database_url("sqlite:var/tezgah.db");
    ASSERT_TRUE(relative.ok());
    EXPECT_EQ(relative->backend, Backend::sqlite);
    EXPECT_EQ(relative->sqlite_path, "var/tezgah.db");
    auto absolute = store::parse_database_url("sqlite:///tmp/x.db");
    ASSERT_TRUE(absolute.ok());
    EXPECT_EQ(absolute->sqlite_path, "/tmp/x.db");
}

TEST(DatabaseUrl, BadUrlsAreRefusedWithoutShowingThePassword) {
    for (const char* url : {"mysql://u:topsecret@h/db", "postgresql://u:topsecret@h:port/db",
                            "postgresql://u:topsecret@h:5432", "sqlite:"}) {
        auto opened = Database::open(url);
        ASSERT_FALSE(opened.ok()) << url;
        EXPECT_EQ(opened.error().code, "invalid_argument") << url;
        EXPECT_EQ(opened.error().message.find("topsecret"), std::string::npos) << opened.error().message;
    }
}

TEST(DatabaseUrl, UnreachableServerErrorNamesTheUrlWithoutPassword) {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    auto opened = Database::open("postgresql://tezgah:topsecret@127.0.0.1:1/tezgah");
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error().code, "store_unavailable");
    EXPECT_NE(opened.error().message.find("postgresql://tezgah:***@127.0.0.1:1/tezgah"), std::string::npos)
        << opened.error().message;
    EXPECT_EQ(opened.error().message.find("topsecret"), std::string::npos);
}

TEST(DatabaseUrl, SqliteCreatesItsFolders) {
    auto folder = std::filesystem::temp_directory_path() / "tezgah-url-test" / "deeper";
    std::filesystem::remove_all(folder.parent_path());
    auto opened = Database::open("sqlite:" + (folder / "t.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_TRUE(std::filesystem::exists(folder / "t.db"));
    opened.value().reset();
    std::filesystem::remove_all(folder.parent_path());
}

}  // namespace
}  // namespace tezgah::engine
