// Many threads writing at once: no "database is locked", nothing lost, on both backends.
#include <atomic>
#include <thread>

#include "store_fixture.hpp"

namespace tezgah::engine::testing {
namespace {

class ConcurrencyTest : public StoreTest {};
TEZGAH_STORE_BACKENDS(ConcurrencyTest);

TEST_P(ConcurrencyTest, EightThreadsWriteWithoutErrors) {
    add_tenant("gece-butik");
    constexpr int kThreads = 8;
    constexpr int kTurns = 15;
    auto offerings = fixture_offerings("gece-butik");
    auto knowledge = fixture_knowledge("gece-butik");
    // The data is there before the threads start; re-imports during the run must never hide it.
    ASSERT_TRUE(db->import_offerings("gece-butik", offerings).ok());
    ASSERT_TRUE(db->import_knowledge("gece-butik", knowledge).ok());

    std::atomic<int> failures{0};
    std::vector<std::string> first_errors(kThreads);
    std::vector<std::string> conversation_ids(kThreads);
    auto fail = [&](int thread, const std::string& what) {
        if (failures++ == 0 || first_errors[thread].empty()) first_errors[thread] = what;
    };

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto now = std::chrono::system_clock::now();
            std::string user = "user-" + std::to_string(t);
            for (int turn = 0; turn < kTurns; ++turn) {
                auto c =
                    db->open_conversation("gece-butik", user, "webhook", "", now, std::chrono::minutes(30));
                if (!c) return fail(t, c.error().message);
                conversation_ids[t] = c->id;
                auto id =
                    db->append_message("gece-butik", c->id, StoredMessage{"user", "soru", "", "tr", now},
                                       user + "-" + std::to_string(turn));
                if (!id) return fail(t, id.error().message);
                auto call = db->record_tool_call(ToolCallRecord{"gece-butik", c->id, *id, "list_offerings",
                                                                json::object{}, json::array{}, true, 1, ""});
                if (!call.ok()) return fail(t, call.error().message);
                if (!db->append_message("gece-butik", c->id,
                                        StoredMessage{"assistant", "cevap", "intent", "tr", now}))
                    return fail(t, "append reply");
                auto state = db->save_state("gece-butik", c->id, json::object{{"turn", turn}});
                if (!state.ok()) return fail(t, state.error().message);
                if (!db->record_usage(UsageRecord{"gece-butik", c->id, "local", "", 1, 1, 0}).ok())
                    return fail(t, "usage");
                auto hits = db->search_knowledge("gece-butik", "kargo", "tr", 3);
                if (!hits) return fail(t, hits.error().message);
                if (hits->empty()) return fail(t, "search found nothing");
                // Readers and an importer in the middle of it all.
                if (turn % 5 == 0) {
                    auto stats = t % 2 ? db->import_offerings("gece-butik", offerings)
                                       : db->import_knowledge("gece-butik", knowledge);
                    if (!stats) return fail(t, stats.error().message);
                }
                auto stored = db->offerings("gece-butik");
                if (!stored) return fail(t, stored.error().message);
                if (stored->size() != offerings.size()) return fail(t, "offerings vanished");
            }
        });
    }
    for (auto& thread : threads) thread.join();

    for (int t = 0; t < kThreads; ++t)
        EXPECT_TRUE(first_errors[t].empty()) << "thread " << t << ": " << first_errors[t];
    EXPECT_EQ(failures.load(), 0);
    for (int t = 0; t < kThreads; ++t) {
        auto messages = db->recent_messages("gece-butik", conversation_ids[t], 1000);
        ASSERT_TRUE(messages.ok()) << messages.error().message;
        EXPECT_EQ(messages->size(), 2u * kTurns) << t;
        auto calls = db->tool_calls("gece-butik", conversation_ids[t]);
        ASSERT_TRUE(calls.ok()) << calls.error().message;
        EXPECT_EQ(calls->size(), static_cast<std::size_t>(kTurns)) << t;
    }
    auto stored = db->offerings("gece-butik");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(stored->size(), offerings.size());
}

}  // namespace
}  // namespace tezgah::engine::testing
