// The server's own secrets (the widget's token signing key): the first value stored is kept, and
// every Database on the same database reads it; on both backends.
#include "store_fixture.hpp"

namespace tezgah::engine::testing {
namespace {

class ServerSecretsTest : public StoreTest {};
TEZGAH_STORE_BACKENDS(ServerSecretsTest);

TEST_P(ServerSecretsTest, TheFirstValueStoredIsKeptAndSharedByEveryInstance) {
    if (!db) return;
    auto first = db->server_secret("widget_token_key", "aaaa");
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(*first, "aaaa");
    // A second instance (another process, or this one restarted) proposes its own: the stored one wins.
    auto other = open_again();
    ASSERT_NE(other, nullptr);
    auto second = other->server_secret("widget_token_key", "bbbb");
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(*second, "aaaa");
    auto again = db->server_secret("widget_token_key", "cccc");
    EXPECT_EQ(*again, "aaaa");
    // Names are separate.
    auto another = db->server_secret("another_key", "dddd");
    EXPECT_EQ(*another, "dddd");
}

}  // namespace
}  // namespace tezgah::engine::testing
