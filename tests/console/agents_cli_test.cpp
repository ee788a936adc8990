// `tezgah agents`: the first owner made from the command line (a random password printed once, or
// one read from standard input), listed without any hash, disabled and removed (never the last
// owner), and clear errors for bad options.
#include "support/temp_tenants.hpp"

#include "store/agents.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>

using namespace tezgah::testing;

namespace {

struct CliRun {
    int status = -1;
    std::string out;
    std::string err;
};

class AgentsCli : public ::testing::Test {
protected:
    /// `tezgah agents ARGS --db sqlite:<tmp>/agents.db`, with `input` on standard input.
    CliRun agents(const std::string& args, const std::string& input = "") {
        const auto in = dir.path() / "in";
        const auto out = dir.path() / "out";
        const auto err = dir.path() / "err";
        {
            std::ofstream file(in);
            file << input;
        }
        const std::string cmd = std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah agents " + args + " --db " +
                                db() + " < " + in.string() + " > " + out.string() + " 2> " + err.string();
        const int status = std::system(cmd.c_str());
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
    }
    std::string db() const { return "sqlite:" + (dir.path() / "var" / "agents.db").string(); }
    TempDir dir;
};

TEST_F(AgentsCli, CreateMakesTheFirstOwnerWithAPasswordShownOnceThatSignsIn) {
    auto made =
        agents("create --tenant gece-butik --email Ayse@example.com --name 'Ayşe Yılmaz' --role owner");
    ASSERT_EQ(made.status, 0) << made.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(made.out, m, std::regex("(ag_[0-9a-f]{16})\n([A-Za-z0-9]{20})\n")))
        << made.out;
    const std::string id = m[1], password = m[2];
    EXPECT_NE(made.err.find("shown only this once"), std::string::npos) << made.err;

    auto typed =
        agents("create --tenant gece-butik --email mehmet@example.com --name Mehmet --password-stdin",
               "battery staple 2\n");
    ASSERT_EQ(typed.status, 0) << typed.err;
    EXPECT_TRUE(std::regex_match(typed.out, std::regex("ag_[0-9a-f]{16}\n"))) << typed.out;

    // Both sign in with what was printed or typed.
    auto opened = tezgah::engine::Database::open(db());
    ASSERT_TRUE(opened.ok());
    auto& store = **opened;
    const auto now = std::chrono::system_clock::now();
    auto owner = tezgah::engine::sign_in(store, "gece-butik", "ayse@example.com", password, now);
    ASSERT_TRUE(owner.ok());
    EXPECT_EQ(owner->outcome, tezgah::engine::SignIn::Outcome::signed_in);
    EXPECT_EQ(owner->session.agent.id, id);
    auto agent = tezgah::engine::sign_in(store, "gece-butik", "mehmet@example.com", "battery staple 2", now);
    ASSERT_TRUE(agent.ok());
    EXPECT_EQ(agent->outcome, tezgah::engine::SignIn::Outcome::signed_in);

    auto list = agents("list --tenant gece-butik");
    ASSERT_EQ(list.status, 0) << list.err;
    EXPECT_NE(list.out.find("LAST SIGN-IN"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("Ayşe Yılmaz"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("owner"), std::string::npos) << list.out;
    auto json_list = agents("list --tenant gece-butik --json");
    ASSERT_EQ(json_list.status, 0) << json_list.err;
    EXPECT_EQ(json_list.out.find("argon2"), std::string::npos);
    EXPECT_EQ(json_list.out.find(password), std::string::npos);
    const auto parsed = boost::json::parse(json_list.out);
    ASSERT_EQ(parsed.as_array().size(), 2u);
    EXPECT_EQ(parsed.as_array()[0].at("email").as_string(), "Ayse@example.com");
    EXPECT_FALSE(parsed.as_array()[0].at("last_sign_in_at").is_null());
    EXPECT_EQ(agents("list --tenant nefes-studyo").out,
              "no agents of tenant nefes-studyo (tezgah agents create)\n");

    // The same e-mail in another case: taken.
    auto taken = agents("create --tenant gece-butik --email AYSE@EXAMPLE.COM --name Other");
    EXPECT_EQ(taken.status, 1);
    EXPECT_NE(taken.err.find("e-mail"), std::string::npos) << taken.err;
}

TEST_F(AgentsCli, DisableAndRemoveButNeverTheLastOwner) {
    auto owner = agents("create --tenant gece-butik --email o@example.com --name Owner --role owner");
    ASSERT_EQ(owner.status, 0) << owner.err;
    const std::string owner_id = owner.out.substr(0, 19);
    auto agent = agents("create --tenant gece-butik --email a@example.com --name Agent");
    ASSERT_EQ(agent.status, 0) << agent.err;
    const std::string agent_id = agent.out.substr(0, 19);

    auto last = agents("disable " + owner_id);
    EXPECT_EQ(last.status, 1);
    EXPECT_NE(last.err.find("last enabled owner"), std::string::npos) << last.err;
    EXPECT_EQ(agents("remove " + owner_id).status, 1);

    auto disabled = agents("disable " + agent_id);
    ASSERT_EQ(disabled.status, 0) << disabled.err;
    EXPECT_EQ(disabled.out, "disabled " + agent_id + "\n");
    EXPECT_NE(agents("list --tenant gece-butik").out.find("yes"), std::string::npos);
    auto removed = agents("remove " + agent_id);
    ASSERT_EQ(removed.status, 0) << removed.err;
    auto again = agents("remove " + agent_id);
    EXPECT_EQ(again.status, 1);
    EXPECT_NE(again.err.find("no agent " + agent_id), std::string::npos) << again.err;
}

TEST_F(AgentsCli, BadOptionsAreNamedWithExitStatus2) {
    struct Case {
        std::string args;
        std::string input;
        std::string says;
    };
    const std::vector<Case> cases = {
        {"", "", "a subcommand is required"},
        {"promote", "", "unknown subcommand \"promote\""},
        {"create --email a@b.c --name A", "", "--tenant ID is required"},
        {"create --tenant Gece --email a@b.c --name A", "", "not a tenant id"},
        {"create --tenant gece-butik --name A", "", "--email is required"},
        {"create --tenant gece-butik --email a@b.c", "", "--name is required"},
        {"create --tenant gece-butik --email nobody --name A", "", "--email: expected one @"},
        {"create --tenant gece-butik --email a@b.c --name A --role boss", "", "--role: \"boss\""},
        {"create --tenant gece-butik --email a@b.c --name A --password-stdin", "short\n",
         "--password: 10 to 200 bytes (read from standard input)"},
        {"create --tenant gece-butik --email a@b.c --name A --json", "", "--json does not apply here"},
        {"list", "", "--tenant ID is required"},
        {"disable", "", "expected one AGENT_ID"},
        {"remove a b", "", "expected one AGENT_ID"},
    };
    for (const auto& c : cases) {
        auto run = agents(c.args, c.input);
        EXPECT_EQ(run.status, 2) << c.args << ": " << run.err;
        EXPECT_NE(run.err.find(c.says), std::string::npos) << c.args << ": " << run.err;
    }
    const std::string help =
        std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah agents --help > " + (dir.path() / "help").string();
    ASSERT_EQ(std::system(help.c_str()), 0);
    const std::string text = slurp(dir.path() / "help");
    EXPECT_NE(text.find("tezgah agents create --tenant ID --email EMAIL --name NAME"), std::string::npos)
        << text;
    EXPECT_NE(text.find("--password-stdin"), std::string::npos);
}

}  // namespace
