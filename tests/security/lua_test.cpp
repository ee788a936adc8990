// Lua that cannot starve anyone: a tenant's rule burning CPU inside the string built-ins (where
// Lua's instruction count does not reach) is stopped and skipped, the conversation goes on, and
// another tenant is answered promptly meanwhile; a script that burns while loading is reported by
// `tezgah check`; ctx.log in a loop is rate-limited. Generous limits (seconds): the probe saw a
// core held for 243 s and other tenants waiting 57 s.
#include "security/security_fixture.hpp"

#include "support/captured_log.hpp"
#include "support/serve_process.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>
#include <vector>

namespace tezgah::testing {
namespace {

using namespace std::chrono_literals;

/// Attacks through the built-ins, chosen by the message text.
constexpr const char* kBombs = R"(
local big = string.rep("a", 4 * 1024 * 1024)
local turkish = string.rep("Ğ", 30000)
local attacks = {
  upper = function() while true do local _ = big:upper() end end,
  format = function() while true do local _ = string.format("%s%s", big, big) end end,
  reverse = function() while true do local _ = big:reverse() end end,
  rep = function() while true do local _ = string.rep("ab", 2 * 1024 * 1024) end end,
  concat = function() while true do local _ = big .. "x" end end,
  tconcat = function() local t = {} for i = 1, 100000 do t[i] = "abcdefgh" end while true do local _ = table.concat(t) end end,
  fold = function() while true do local _ = tezgah.fold(turkish) end end,
  find = function() while true do local _ = big:find("b", 1, true) end end,
}
return tezgah.rule {
  name = "bombs",
  on_message = function(ctx, msg)
    local attack = attacks[msg.text]
    if attack then attack() end
  end,
}
)";

class LuaBombs : public ServerFixture {
protected:
    void add_rule(const std::string& tenant, const std::string& file, const std::string& source) {
        const auto folder = dir.path() / "tenants" / tenant;
        write(folder / "rules" / file, source);
        edit_json(folder / "tenant.json", [&](json::value& v) {
            auto& rules = v.as_object()["rules"];
            if (!rules.is_array()) rules = json::array{};
            rules.as_array().emplace_back("rules/" + file);
        });
    }

    // Outlives the server: the fixture's TearDown stops it before members go (a sink removed
    // while server threads log would race).
    CapturedLog log;
};

TEST_F(LuaBombs, BuiltInsThatBurnAreStoppedAndAnotherTenantIsAnsweredMeanwhile) {
    add_rule("gece-butik", "bombs.lua", kBombs);
    start();
    const std::vector<std::string> attacks = {"upper",  "format",  "reverse", "rep",
                                              "concat", "tconcat", "fold",    "find"};
    std::vector<std::thread> attackers;
    std::vector<HttpReply> replies(attacks.size() * 2);
    std::vector<std::chrono::milliseconds> took(replies.size());
    // Two rounds of every attack at once: more burning turns than the machine has cores.
    for (std::size_t i = 0; i < replies.size(); ++i)
        attackers.emplace_back([&, i] {
            took[i] = timed([&] {
                replies[i] = chat("gece-butik",
                                  chat_body(attacks[i % attacks.size()], "attacker-" + std::to_string(i)));
            });
        });
    // Meanwhile, the other tenant's customers are answered promptly.
    std::vector<std::chrono::milliseconds> neighbour;
    for (int i = 0; i < 10; ++i) {
        HttpReply r;
        neighbour.push_back(timed([&] {
            r = chat("nefes-studyo", chat_body("reformer pilates ne kadar?", "n-" + std::to_string(i)));
        }));
        EXPECT_EQ(r.status, 200) << r.body;
        std::this_thread::sleep_for(50ms);
    }
    for (auto& t : attackers) t.join();
    for (std::size_t i = 0; i < neighbour.size(); ++i)
        EXPECT_LT(neighbour[i], 2s) << "neighbour message " << i;
    // Every attack was stopped and skipped: the customer still got an answer, within seconds.
    for (std::size_t i = 0; i < replies.size(); ++i) {
        EXPECT_EQ(replies[i].status, 200) << attacks[i % attacks.size()] << ": " << replies[i].body;
        EXPECT_LT(took[i], 20s) << attacks[i % attacks.size()];
    }
    // The rule's failure is logged, and the tenant goes on answering.
    EXPECT_EQ(chat("gece-butik", chat_body("kargo ne kadar?", "after")).status, 200);
}

TEST_F(LuaBombs, ALogLoopIsRateLimitedAndTheDroppedLinesAreCounted) {
    add_rule("gece-butik", "log.lua", R"(
return tezgah.rule {
  name = "chatty",
  on_message = function(ctx, msg)
    local line = string.rep("x", 1000)
    for i = 1, 10000 do ctx.log(line) end
  end,
}
)");
    start();
    EXPECT_EQ(chat("gece-butik", chat_body("merhaba", "chatty")).status, 200);
    const auto text = log.text();
    // 10,000 lines of 1,000 bytes were asked for (10 MB); far less is written.
    EXPECT_LT(text.size(), 1024u * 1024u) << text.size() << " bytes of log";
    const auto metrics = http_request(port, "GET", "/metrics").body;
    EXPECT_TRUE(has(metrics, "tezgah_lua_log_dropped_total{tenant=\"gece-butik\"}"))
        << metrics.substr(0, 2000);
}

TEST(LuaBombsInCheck, AScriptThatBurnsWhileLoadingIsReportedByCheck) {
    TempDir dir;
    copy_fixtures(dir.path());
    write(dir.path() / "gece-butik" / "rules" / "loader.lua", R"(
local big = string.rep("a", 4 * 1024 * 1024)
while true do big = big:upper():lower() end
return tezgah.rule { name = "never", on_message = function(ctx, msg) end }
)");
    edit_json(dir.path() / "gece-butik" / "tenant.json",
              [](json::value& v) { v.as_object()["rules"] = json::array{"rules/loader.lua"}; });
    const std::string binary = (fs::path(TEZGAH_BINARY_DIR) / "bin" / "tezgah").string();
    std::string out;
    int status = -1;
    const auto took = timed([&] {
        FILE* pipe = ::popen(
            (binary + " check " + dir.path().string() + " --plugins " + plugin_dir().string() + " 2>&1")
                .c_str(),
            "r");
        ASSERT_NE(pipe, nullptr);
        char buffer[4096];
        while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
        status = WEXITSTATUS(::pclose(pipe));
    });
    EXPECT_LT(took, 20s);
    EXPECT_EQ(status, 1) << out;
    EXPECT_TRUE(has(out, "rules/loader.lua")) << out;
}

}  // namespace
}  // namespace tezgah::testing
