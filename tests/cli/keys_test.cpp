// `tezgah keys`: a key printed once and alone, listed without its secret, revoked; the audit log;
// clear errors for every bad option.
#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <regex>

using namespace tezgah::testing;

namespace {

struct KeysRun {
    int status = -1;
    std::string out;
    std::string err;
};

class KeysCli : public ::testing::Test {
protected:
    /// `tezgah keys ARGS --db sqlite:<tmp>/keys.db`, standard output and error apart.
    KeysRun keys(const std::string& args, bool with_db = true) {
        const auto out = dir.path() / "out";
        const auto err = dir.path() / "err";
        const std::string cmd = std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah keys " + args +
                                (with_db ? " --db " + db() : "") + " < /dev/null > " + out.string() + " 2> " +
                                err.string();
        const int status = std::system(cmd.c_str());
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
    }
    std::string db() const { return "sqlite:" + (dir.path() / "var" / "keys.db").string(); }
    TempDir dir;
};

TEST_F(KeysCli, CreatePrintsTheKeyAloneOnceAndListNeverShowsIt) {
    auto shop = keys("create --tenant gece-butik --scopes chat:write,conversations:read --name 'shop front'");
    ASSERT_EQ(shop.status, 0) << shop.err;
    EXPECT_TRUE(std::regex_match(shop.out, std::regex("tzk_[0-9a-f]{16}_[0-9a-f]{64}\n"))) << shop.out;
    const std::string id = shop.out.substr(4, 16);
    const std::string secret = shop.out.substr(21, 64);
    auto ops = keys("create --all-tenants --scopes ops:read");
    ASSERT_EQ(ops.status, 0) << ops.err;

    auto list = keys("list");
    ASSERT_EQ(list.status, 0) << list.err;
    EXPECT_NE(list.out.find("ID"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("shop front"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("chat:write,conversations:read"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find(" * "), std::string::npos) << list.out;  // the all-tenants key
    EXPECT_EQ(list.out.find(secret), std::string::npos);

    auto json_list = keys("list --json");
    ASSERT_EQ(json_list.status, 0) << json_list.err;
    EXPECT_EQ(json_list.out.find(secret), std::string::npos);
    const auto parsed = boost::json::parse(json_list.out);
    ASSERT_EQ(parsed.as_array().size(), 2u);
    const auto& newest = parsed.as_array()[0].as_object();
    EXPECT_EQ(newest.at("tenant").as_string(), "*");
    EXPECT_TRUE(newest.at("revoked_at").is_null());
    EXPECT_TRUE(newest.at("last_used_at").is_null());

    auto revoked = keys("revoke " + id);
    EXPECT_EQ(revoked.status, 0) << revoked.err;
    auto after = keys("list --json");
    const auto again = boost::json::parse(after.out);
    for (const auto& k : again.as_array())
        if (k.at("id").as_string() == id) {
            EXPECT_FALSE(k.at("revoked_at").is_null()) << after.out;
        }
    auto twice = keys("revoke " + id);
    EXPECT_EQ(twice.status, 1);
    EXPECT_NE(twice.err.find("revoked already"), std::string::npos) << twice.err;

    auto audit = keys("audit");
    EXPECT_EQ(audit.status, 0) << audit.err;
    EXPECT_EQ(audit.out, "no audit entries\n");
    auto audit_json = keys("audit --json --tenant gece-butik --limit 5");
    EXPECT_EQ(audit_json.status, 0) << audit_json.err;
    EXPECT_EQ(audit_json.out, "[]\n");
}

TEST_F(KeysCli, TheDatabaseComesFromTezgahDbToo) {
    const std::string cmd =
        "TEZGAH_DB=" + db() + " " + std::string(TEZGAH_BINARY_DIR) +
        "/bin/tezgah keys create --tenant nefes-studyo --scopes tenant:admin > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    auto list = keys("list");
    EXPECT_NE(list.out.find("nefes-studyo"), std::string::npos) << list.out << list.err;
}

TEST_F(KeysCli, BadOptionsAreNamedAndNothingIsMade) {
    struct Case {
        std::string args;
        int status;
        std::string says;
    };
    for (const auto& c : std::vector<Case>{
             {"create --tenant gece-butik --scopes chat:write,chat:read", 2,
              "unknown scope \"chat:read\" (known: chat:write, calendar:read, conversations:read"},
             {"create --scopes chat:write", 2, "give either --tenant ID or --all-tenants"},
             {"create --tenant gece-butik --all-tenants --scopes chat:write", 2, "not both"},
             {"create --tenant Gece_Butik --scopes chat:write", 2, "--tenant Gece_Butik: not a tenant id"},
             {"create --tenant gece-butik", 2, "--scopes S,... is required"},
             {"create --all-tenants --scopes ops:read --limit 3", 2, "--limit does not apply here"},
             {"revoke", 2, "expected one key ID"},
             {"audit --limit 0", 2, "--limit 0: expected a whole number >= 1"},
             {"rotate", 2, "unknown subcommand \"rotate\""},
         }) {
        SCOPED_TRACE(c.args);
        auto r = keys(c.args);
        EXPECT_EQ(r.status, c.status) << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
        EXPECT_EQ(r.out.find("tzk_"), std::string::npos);
    }
    // Nothing was made: not even the database.
    EXPECT_FALSE(fs::exists(dir.path() / "var" / "keys.db"));
    auto missing = keys("list");
    EXPECT_EQ(missing.status, 1);
    EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
    ASSERT_EQ(keys("create --all-tenants --scopes ops:read").status, 0);
    auto unknown = keys("revoke 0123456789abcdef");
    EXPECT_EQ(unknown.status, 1);
    EXPECT_NE(unknown.err.find("no key 0123456789abcdef"), std::string::npos) << unknown.err;

    auto help = keys("--help", false);
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("tezgah keys create (--tenant ID | --all-tenants)"), std::string::npos)
        << help.out;
}

}  // namespace
