// Group commit: writes from many threads share transactions, every write is committed exactly once,
// and one bad write in a batch fails alone. Both backends.
#include <atomic>
#include <future>
#include <thread>

#include "store/group_commit.hpp"
#include "store_fixture.hpp"

namespace tezgah::engine::testing {
namespace {

class GroupCommitTest : public StoreTest {};
TEZGAH_STORE_BACKENDS(GroupCommitTest);

TEST_P(GroupCommitTest, SixteenThreadsStoreEveryTurnExactlyOnce) {
    add_tenant("gece-butik");
    constexpr int kThreads = 16;
    constexpr int kTurns = 25;
    std::vector<std::string> conversation_ids(kThreads);
    std::vector<std::string> errors(kThreads);
    std::atomic<int> strays_refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto now = std::chrono::system_clock::now();
            std::string user = "user-" + std::to_string(t);
            auto c = db->open_conversation("gece-butik", user, "webhook", "", now, std::chrono::minutes(30));
            if (!c) return void(errors[t] = c.error().message);
            conversation_ids[t] = c->id;
            for (int turn = 0; turn < kTurns; ++turn) {
                auto in =
                    db->append_message("gece-butik", c->id, StoredMessage{"user", "soru", "", "tr", now},
                                       user + "-" + std::to_string(turn));
                if (!in) return void(errors[t] = in.error().message);
                TurnRecord record{
                    "gece-butik",
                    c->id,
                    user,
                    "webhook",
                    *in,
                    StoredMessage{"assistant", "cevap " + std::to_string(turn), "intent", "tr", now},
                    "{\"reply\":\"cevap\"}",
                    {ToolCallRecord{"gece-butik",
                                    c->id,
                                    {},
                                    "list_offerings",
                                    json::object{},
                                    json::array{},
                                    true,
                                    1,
                                    ""}},
                    {UsageRecord{"gece-butik", c->id, "local", "", 1, 1, 0}},
                    json::object{{"turn", turn}}};
                auto reply = db->finish_turn(record);
                if (!reply) return void(errors[t] = reply.error().message);
                // Interleaved with the good writes: one that must fail alone, storing nothing.
                record.conversation_id = "no-such-conversation";
                auto stray = db->finish_turn(record);
                if (!stray && stray.error().code == "not_found") ++strays_refused;
            }
        });
    }
    for (auto& thread : threads) thread.join();

    for (int t = 0; t < kThreads; ++t) {
        ASSERT_TRUE(errors[t].empty()) << "thread " << t << ": " << errors[t];
        auto messages = db->recent_messages("gece-butik", conversation_ids[t], 1000);
        ASSERT_TRUE(messages.ok()) << messages.error().message;
        ASSERT_EQ(messages->size(), 2u * kTurns) << t;
        for (int turn = 0; turn < kTurns; ++turn) {
            EXPECT_EQ((*messages)[2 * turn].role, "user");
            EXPECT_EQ((*messages)[2 * turn + 1].text, "cevap " + std::to_string(turn));
        }
        auto calls = db->tool_calls("gece-butik", conversation_ids[t]);
        ASSERT_TRUE(calls.ok()) << calls.error().message;
        EXPECT_EQ(calls->size(), static_cast<std::size_t>(kTurns)) << t;
        // The state of the last turn is kept with the conversation.
        auto again = db->open_conversation("gece-butik", "user-" + std::to_string(t), "webhook", "",
                                           std::chrono::system_clock::now(), std::chrono::minutes(30));
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(again->id, conversation_ids[t]);
        EXPECT_EQ(json::value_to<int>(again->state.at("turn")), kTurns - 1);
    }
    EXPECT_EQ(strays_refused.load(), kThreads * kTurns);
}

TEST_P(GroupCommitTest, RetriedClientMessageIdIsRefusedEvenWithinOneBatch) {
    add_tenant("gece-butik");
    auto now = std::chrono::system_clock::now();
    auto c = db->open_conversation("gece-butik", "u", "webhook", "", now, std::chrono::minutes(30));
    ASSERT_TRUE(c.ok());
    constexpr int kThreads = 16;
    std::atomic<int> stored{0}, duplicates{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            auto id = db->append_message("gece-butik", c->id, StoredMessage{"user", "bir kez", "", "tr", now},
                                         "same-id");
            if (id)
                ++stored;
            else if (id.error().code == "duplicate")
                ++duplicates;
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(stored.load(), 1);
    EXPECT_EQ(duplicates.load(), kThreads - 1);
    auto messages = db->recent_messages("gece-butik", c->id, 100);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    EXPECT_EQ(messages->size(), 1u);
}

TEST_P(GroupCommitTest, AFailingWriteInABatchFailsAloneAndTheOthersCommit) {
    auto sql = open_sql_session(scratch->url());  // as the writer would have
    ASSERT_NE(sql, nullptr);
    *sql << "CREATE TABLE probe (n INTEGER PRIMARY KEY)";
    store::GroupCommitWriter writer(GetParam(), "scratch",
                                    [&](const std::function<void(soci::session&)>& f) { f(*sql); });

    // The first write holds the writer until everything else is queued: the rest is one batch.
    std::promise<void> started, release;
    auto gate = release.get_future().share();
    auto first = std::async(std::launch::async, [&] {
        return writer.run([&](soci::session& s) {
            s << "INSERT INTO probe (n) VALUES (0)";
            started.set_value();
            gate.wait();
        });
    });
    started.get_future().wait();

    constexpr int kWrites = 10;
    constexpr int kBad = 5;
    std::vector<std::future<std::string>> results;
    for (int i = 1; i <= kWrites; ++i) {
        results.push_back(std::async(std::launch::async, [&writer, i] {
            return writer.run([i](soci::session& s) {
                if (i == kBad)
                    s << "INSERT INTO no_such_table (n) VALUES (1)";
                else
                    s << "INSERT INTO probe (n) VALUES (" + std::to_string(i) + ")";
            });
        }));
    }
    while (writer.queued() < static_cast<std::size_t>(kWrites)) std::this_thread::yield();
    release.set_value();

    EXPECT_EQ(first.get(), "");
    for (int i = 1; i <= kWrites; ++i) {
        auto error = results[i - 1].get();
        if (i == kBad)
            EXPECT_NE(error.find("no_such_table"), std::string::npos) << error;
        else
            EXPECT_EQ(error, "") << "write " << i;
    }
    int rows = 0;
    *sql << "SELECT COUNT(*) FROM probe", soci::into(rows);
    EXPECT_EQ(rows, kWrites);  // 0 and 1..10 but 5
    auto stats = writer.stats();
    EXPECT_EQ(stats.batches, 2u);
    EXPECT_EQ(stats.units, static_cast<std::uint64_t>(kWrites + 1));
    EXPECT_EQ(stats.isolated, 1u);
}

}  // namespace
}  // namespace tezgah::engine::testing
