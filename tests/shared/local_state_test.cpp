// SharedState in this process's memory: what one instance without Redis uses.

#include "shared/shared_state.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace tezgah::engine {
namespace {

using std::chrono::milliseconds;

TEST(LocalStateTest, CountersAddUpAndStartAgainOnceTheirTimeIsOver) {
    auto state = make_local_state();
    EXPECT_EQ(state->add("rl:a", 1, milliseconds(50)), 1);
    EXPECT_EQ(state->add("rl:a", 2, milliseconds(50)), 3);
    EXPECT_EQ(state->add_all({{"rl:a", 1, milliseconds(50)}, {"rl:b", 5, milliseconds(50)}}),
              (std::vector<long long>{4, 5}));
    std::this_thread::sleep_for(milliseconds(80));
    EXPECT_EQ(state->add("rl:a", 1, milliseconds(50)), 1);
    EXPECT_DOUBLE_EQ(state->add_float("spend:a", 0.25, milliseconds(1000)), 0.25);
    EXPECT_DOUBLE_EQ(state->add_float("spend:a", 0.5, milliseconds(1000)), 0.75);
}

TEST(LocalStateTest, ALockIsTakenOnceAndReleasedByItsHolderOnly) {
    auto state = make_local_state();
    EXPECT_TRUE(state->put_if_absent("lock:t:u", "me", milliseconds(1000)));
    EXPECT_FALSE(state->put_if_absent("lock:t:u", "other", milliseconds(1000)));
    EXPECT_FALSE(state->erase_if_equal("lock:t:u", "other"));
    EXPECT_EQ(state->get("lock:t:u"), "me");
    EXPECT_TRUE(state->erase_if_equal("lock:t:u", "me"));
    EXPECT_TRUE(state->put_if_absent("lock:t:u", "other", milliseconds(30)));
    std::this_thread::sleep_for(milliseconds(50));
    EXPECT_TRUE(state->put_if_absent("lock:t:u", "third", milliseconds(1000))) << "an expired lock is free";
}

TEST(LocalStateTest, ListsAreTakenWholeInOrder) {
    auto state = make_local_state();
    EXPECT_EQ(state->push("burst:t:u", "one", milliseconds(1000)), 1u);
    EXPECT_EQ(state->push("burst:t:u", "two", milliseconds(1000)), 2u);
    EXPECT_EQ(state->take_all("burst:t:u"), (std::vector<std::string>{"one", "two"}));
    EXPECT_TRUE(state->take_all("burst:t:u").empty());
}

TEST(LocalStateTest, OneInstanceIsLocalAndMakesNoRoundTrips) {
    auto state = make_local_state();
    EXPECT_EQ(state->health(), SharedHealth::local);
    EXPECT_EQ(to_string(state->health()), "local");
    EXPECT_EQ(state->instance_id().size(), 16u);
    EXPECT_NE(make_local_state()->instance_id(), state->instance_id());
    state->put("cache:q", "answer", milliseconds(1000));
    EXPECT_EQ(state->get("cache:q"), "answer");
    EXPECT_EQ(state->round_trips(), 0);
}

}  // namespace
}  // namespace tezgah::engine
