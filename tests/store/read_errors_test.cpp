// A read the database cannot answer comes back as an error that names the call and the tenant,
// never as an empty list that looks like "none"; on both backends. The database is made to fail
// by renaming the tables a read needs, from a session of the test's own, while the Database stays
// open: both backends then refuse the query the same way, at once, and recover when the names
// come back.
#include <soci/soci.h>

#include "store_fixture.hpp"

namespace tezgah::engine::testing {
namespace {

using namespace std::chrono_literals;

class ReadErrorTest : public StoreTest {
protected:
    void SetUp() override {
        StoreTest::SetUp();
        if (!db) return;
        add_tenant("gece-butik");
        auto offerings = db->import_offerings("gece-butik", fixture_offerings("gece-butik"));
        ASSERT_TRUE(offerings.ok()) << offerings.error().message;
        auto knowledge = db->import_knowledge("gece-butik", fixture_knowledge("gece-butik"));
        ASSERT_TRUE(knowledge.ok()) << knowledge.error().message;
        // The boutique has no resources of its own: the studio's will do.
        auto resources = db->import_resources("gece-butik", fixture_resources("nefes-studyo"));
        ASSERT_TRUE(resources.ok()) << resources.error().message;

        // A stored turn: a message, a reply, a tool call and a usage row to read back.
        const auto now = std::chrono::system_clock::now();
        auto c = db->open_conversation("gece-butik", "905551112233", "webhook", "", now, 30min);
        ASSERT_TRUE(c.ok()) << c.error().message;
        conversation = c->id;
        auto in =
            db->append_message("gece-butik", conversation, StoredMessage{"user", "kargo?", "", "tr", now});
        ASSERT_TRUE(in.ok()) << in.error().message;
        TurnRecord turn{
            "gece-butik", conversation, "905551112233",
            "webhook",    *in,          StoredMessage{"assistant", "2-3 iş günü.", "llm", "tr", now + 1s}};
        turn.reply_json = "{}";
        turn.tool_calls.push_back(ToolCallRecord{"gece-butik", conversation, "", "search_knowledge",
                                                 json::object{{"query", "kargo"}}, json::array{}, true, 1,
                                                 ""});
        turn.usage.push_back(
            UsageRecord{"gece-butik", conversation, "openai", "gpt-4o-mini", 100, 10, 0.001});
        auto reply = db->finish_turn(turn);
        ASSERT_TRUE(reply.ok()) << reply.error().message;

        sql = open_sql_session(scratch->url());
        ASSERT_NE(sql, nullptr);
    }

    /// Renames every table the reads below need: to `<table>_away` when `away`, else back.
    void move_tables(bool away) {
        for (const char* table : {"offerings", "knowledge", "resources", "messages", "tool_calls", "usage"}) {
            const std::string name = table;
            *sql << (away ? "ALTER TABLE " + name + " RENAME TO " + name + "_away"
                          : "ALTER TABLE " + name + "_away RENAME TO " + name);
        }
    }

    template <class T>
    static sdk::Result<std::size_t> size_of(const sdk::Result<std::vector<T>>& read) {
        if (!read) return read.error();
        return read->size();
    }

    /// Each read, named as its error must begin, with the number of rows it found or its error.
    std::vector<std::pair<std::string, sdk::Result<std::size_t>>> read_everything() {
        return {
            {"offerings [gece-butik]", size_of(db->offerings("gece-butik"))},
            {"knowledge [gece-butik]", size_of(db->knowledge("gece-butik"))},
            {"resources [gece-butik]", size_of(db->resources("gece-butik"))},
            {"search_knowledge [gece-butik]", size_of(db->search_knowledge("gece-butik", "kargo", "tr", 5))},
            {"recent_messages [gece-butik] conversation " + conversation,
             size_of(db->recent_messages("gece-butik", conversation, 10))},
            {"tool_calls [gece-butik] conversation " + conversation,
             size_of(db->tool_calls("gece-butik", conversation))},
            {"usage [gece-butik] conversation " + conversation,
             size_of(db->usage("gece-butik", conversation))},
        };
    }

    std::string conversation;
    std::unique_ptr<soci::session> sql;
};
TEZGAH_STORE_BACKENDS(ReadErrorTest);

TEST_P(ReadErrorTest, AReadTheDatabaseFailsIsAnErrorNamingTheCallAndTenantNotAnEmptyList) {
    // Every read finds something first: an empty list later would be a lie, not an answer.
    for (const auto& [call, read] : read_everything()) {
        ASSERT_TRUE(read.ok()) << call << ": " << read.error().message;
        EXPECT_GT(*read, 0u) << call;
    }

    move_tables(true);
    for (const auto& [call, read] : read_everything()) {
        ASSERT_FALSE(read.ok()) << call << " answered " << *read << " rows from a missing table";
        EXPECT_EQ(read.error().code, "store_error") << call;
        // "<call> [<tenant>] ...: <the database's reason>"
        EXPECT_EQ(read.error().message.rfind(call + ": ", 0), 0u) << read.error().message;
    }

    // The failures left nothing broken behind: the same Database reads again once it can.
    move_tables(false);
    for (const auto& [call, read] : read_everything()) {
        ASSERT_TRUE(read.ok()) << call << ": " << read.error().message;
        EXPECT_GT(*read, 0u) << call;
    }
}

}  // namespace
}  // namespace tezgah::engine::testing
