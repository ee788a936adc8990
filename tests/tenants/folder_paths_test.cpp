// The files a manifest names resolve inside its tenant's folder once symbolic links are followed: a
// link that leads out (to another tenant's data, to any file) is refused with the link named; a
// link that stays inside is fine, and so is a tenant folder that is itself a link.
#include "plugins/registry.hpp"
#include "tenants/manifest.hpp"

#include "support/temp_tenants.hpp"
#include "tenants/check_problems.hpp"

#include <gtest/gtest.h>

using namespace tezgah::engine;
using namespace tezgah::testing;

namespace {

class FolderPathsTest : public ::testing::Test {
protected:
    void SetUp() override {
        registry.load_directories({plugin_dir()});
        copy_fixtures(tenants);
        write(outside.path() / "secret.json",
              R"([{"id": "x", "type": "PRODUCT", "name": "Gizli", "price": 1}])");
        write(outside.path() / "kural.lua",
              "return tezgah.rule { name = 'x', on_message = function() end }\n");
    }

    std::vector<std::string> problems_of(const fs::path& folder) { return check_problems(folder, registry); }

    static bool has(const std::vector<std::string>& problems, const std::string& needle) {
        return has_problem(problems, needle);
    }
    static std::string all(const std::vector<std::string>& problems) { return problem_lines(problems); }

    /// Replaces `link` (a file or folder of a tenant) by a symbolic link to `target`.
    static void link(const fs::path& link, const fs::path& target) {
        fs::remove_all(link);
        fs::create_directories(link.parent_path());
        fs::create_symlink(target, link);
    }

    TempDir dir;
    TempDir outside;
    const fs::path tenants = dir.path() / "tenants";
    const fs::path butik = tenants / "gece-butik";
    const fs::path studyo = tenants / "nefes-studyo";
    PluginRegistry registry;
};

TEST_F(FolderPathsTest, ADataFileLinkedOutOfTheFolderIsRefusedAndNotRead) {
    link(butik / "data" / "offerings.json", "/etc/passwd");
    link(butik / "data" / "knowledge.json", studyo / "data" / "knowledge.json");  // another tenant's
    auto problems = problems_of(butik);
    const std::string f = (butik / "tenant.json").string() + ": ";
    EXPECT_TRUE(
        has(problems, f + "data.offerings: \"data/offerings.json\" leads outside the tenant folder (a "
                          "symbolic link to /etc/passwd)"))
        << all(problems);
    EXPECT_TRUE(
        has(problems, f +
                          "data.knowledge: \"data/knowledge.json\" leads outside the tenant folder (a "
                          "symbolic link to " +
                          fs::canonical(studyo / "data" / "knowledge.json").string() + ")"))
        << all(problems);
    // Refused before reading: nothing of the file shows (no JSON error about /etc/passwd's lines).
    EXPECT_FALSE(has(problems, "root:")) << all(problems);
    EXPECT_FALSE(has(problems, "malformed JSON")) << all(problems);
}

TEST_F(FolderPathsTest, AFolderOnTheWayLinkedOutIsNamed) {
    link(butik / "data", studyo / "data");
    edit_json(butik / "tenant.json", [](json::value& v) {
        v.as_object()["data"] = json::object{{"offerings", "data/offerings.json"}};
    });
    auto problems = problems_of(butik);
    EXPECT_TRUE(has(problems,
                    "data.offerings: \"data/offerings.json\" leads outside the tenant folder (data is a "
                    "symbolic link to " +
                        fs::canonical(studyo / "data").string() + ")"))
        << all(problems);
}

TEST_F(FolderPathsTest, ALinkThatStaysInsideTheFolderIsFine) {
    link(butik / "data" / "urunler.json", "offerings.json");  // relative, beside it
    fs::create_directories(butik / "surum");
    fs::rename(butik / "data" / "knowledge.json", butik / "surum" / "knowledge.json");
    link(butik / "data" / "knowledge.json", butik / "surum" / "knowledge.json");  // absolute, still inside
    write(butik / "rules" / "gercek.lua",
          "return tezgah.rule { name = 'gercek', on_message = function() end }\n");
    link(butik / "rules" / "kural.lua", "gercek.lua");
    edit_json(butik / "tenant.json", [](json::value& v) {
        v.as_object()["data"].as_object()["offerings"] = "data/urunler.json";
        v.as_object()["rules"] = json::array{"rules/kural.lua"};
    });
    auto problems = problems_of(butik);
    EXPECT_TRUE(problems.empty()) << all(problems);
    auto loaded = load_manifest(butik, &registry);
    ASSERT_TRUE(loaded.manifest);
    std::vector<Problem> data_problems;
    auto data = load_data(*loaded.manifest, data_problems);
    EXPECT_EQ(data.offerings.size(), 27u);
    EXPECT_FALSE(data.knowledge.empty());
}

TEST_F(FolderPathsTest, RulesAndToolsLinkedOutAreRefused) {
    link(butik / "rules" / "kural.lua", outside.path() / "kural.lua");
    link(butik / "tools", outside.path());
    edit_json(butik / "tenant.json", [](json::value& v) {
        v.as_object()["rules"] = json::array{"rules/kural.lua"};
        v.as_object()["tools"].as_array().push_back("tools/kural.lua");
    });
    auto problems = problems_of(butik);
    const std::string f = (butik / "tenant.json").string() + ": ";
    EXPECT_TRUE(
        has(problems, f +
                          "rules[0]: \"rules/kural.lua\" leads outside the tenant folder (a symbolic link "
                          "to " +
                          fs::canonical(outside.path() / "kural.lua").string() + ")"))
        << all(problems);
    EXPECT_TRUE(has(problems, f +
                                  "tools[2]: \"tools/kural.lua\" leads outside the tenant folder (tools is a "
                                  "symbolic link to " +
                                  fs::canonical(outside.path()).string() + ")"))
        << all(problems);
}

TEST_F(FolderPathsTest, ALinkToNothingIsRefused) {
    link(butik / "data" / "offerings.json", outside.path() / "not-yet.json");
    auto problems = problems_of(butik);
    EXPECT_TRUE(has(problems, "data.offerings: \"data/offerings.json\" leads nowhere (a symbolic link to " +
                                  (outside.path() / "not-yet.json").string() + ", which does not exist)"))
        << all(problems);
}

TEST_F(FolderPathsTest, AManifestLinkedOutOfTheFolderIsRefused) {
    fs::copy_file(butik / "tenant.json", outside.path() / "tenant.json");
    link(butik / "tenant.json", outside.path() / "tenant.json");
    auto loaded = load_manifest(butik, &registry);
    EXPECT_FALSE(loaded.manifest);
    ASSERT_EQ(loaded.problems.size(), 1u);
    EXPECT_EQ(loaded.problems[0].str(),
              (butik / "tenant.json").string() +
                  ": -: \"tenant.json\" leads outside the tenant folder (a symbolic "
                  "link to " +
                  fs::canonical(outside.path() / "tenant.json").string() + ")");
}

TEST_F(FolderPathsTest, ATenantFolderThatIsALinkIsJudgedWhereItLeads) {
    // As scripts/demo serves the tenants: a folder of links to the real folders.
    const fs::path served = dir.path() / "served";
    fs::create_directories(served);
    fs::create_directory_symlink(butik, served / "gece-butik");
    auto problems = problems_of(served / "gece-butik");
    EXPECT_TRUE(problems.empty()) << all(problems);
    ASSERT_EQ(discover_tenants(served).size(), 1u);

    // Its files may link anywhere inside the folder it leads to, by that folder's real path too.
    link(butik / "data" / "urunler.json", butik / "data" / "offerings.json");
    edit_json(butik / "tenant.json",
              [](json::value& v) { v.as_object()["data"].as_object()["offerings"] = "data/urunler.json"; });
    problems = problems_of(served / "gece-butik");
    EXPECT_TRUE(problems.empty()) << all(problems);

    // A link named after one tenant that leads to another's folder is that other tenant: its id
    // does not match the name it is served under.
    fs::create_directory_symlink(studyo, served / "sahte");
    problems = problems_of(served / "sahte");
    EXPECT_TRUE(has(problems, "id: \"nefes-studyo\" must equal the folder name \"sahte\"")) << all(problems);
}

}  // namespace
