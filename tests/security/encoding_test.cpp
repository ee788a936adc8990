// Encoding: NUL and invalid UTF-8 in any text or id are refused with 422 invalid_value by every
// entrance (the chat API, its Idempotency-Key header, the webhook), the same on SQLite and
// PostgreSQL — PostgreSQL would refuse the bytes (500) or cut the text at NUL, so that
// "pgvictim\u0000zzz" joined pgvictim's conversation.
#include "security/security_fixture.hpp"

#include "store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace tezgah::testing {
namespace {

using engine::Backend;
using engine::testing::ScratchDatabase;

class Encoding : public ServerFixture, public ::testing::WithParamInterface<Backend> {
protected:
    void SetUp() override {
        ServerFixture::SetUp();
        scratch = std::make_unique<ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        db_url = scratch->url();
        start();
    }
    void TearDown() override {
        ServerFixture::TearDown();
        scratch.reset();
    }

    /// A chat request with a raw body (bytes JSON escaping would not produce).
    HttpReply raw_chat(const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        return http_request(port, "POST", "/v1/tenants/gece-butik/chat", body, headers);
    }

    std::unique_ptr<ScratchDatabase> scratch;
};

struct BadInput {
    std::string name;
    std::string path;
    std::string body;
    std::string field;  ///< the field the message must name
    std::vector<std::pair<std::string, std::string>> headers = {};
};

TEST_P(Encoding, NulAndInvalidUtf8AreRefusedWith422ByEveryEntrance) {
    const std::string chat = "/v1/tenants/gece-butik/chat";
    const std::string bad = "\xC3\x28\xFF";  // not UTF-8
    const std::string half = "\xC4";         // the first byte of "ğ" alone
    const std::vector<BadInput> cases = {
        {"NUL in user_id", chat, R"({"text": "merhaba", "user_id": "pgvictim\u0000zzz"})", "user_id"},
        {"NUL in text", chat, R"({"text": "mer\u0000haba", "user_id": "u1"})", "text"},
        {"NUL in session_id", chat, R"({"text": "merhaba", "user_id": "u1", "session_id": "s\u0000"})",
         "session_id"},
        {"NUL in message_id", chat, R"({"text": "merhaba", "user_id": "u1", "message_id": "m\u0000"})",
         "message_id"},
        {"invalid UTF-8 in text", chat, R"({"text": "fiyat )" + bad + R"(", "user_id": "u1"})", "text"},
        {"half a letter in user_id", chat, R"({"text": "merhaba", "user_id": "u)" + half + R"("})",
         "user_id"},
        {"invalid UTF-8 in session_id", chat,
         R"({"text": "merhaba", "user_id": "u1", "session_id": ")" + bad + R"("})", "session_id"},
        {"invalid UTF-8 in Idempotency-Key",
         chat,
         chat_body("merhaba", "u1"),
         "message_id",
         {{"Idempotency-Key", "key-" + bad}}},
        {"a 1,000,000-byte user_id", chat, chat_body("merhaba", std::string(1000000, 'u')), "user_id"},
        {"a 129-byte session_id", chat,
         R"({"text": "merhaba", "user_id": "u1", "session_id": ")" + std::string(129, 's') + R"("})",
         "session_id"},
        {"webhook: NUL in kullanici_id", "/webhook",
         R"({"mesaj_metni": "merhaba", "kullanici_id": "pgvictim\u0000zzz", "isletme_id": "gece-butik"})",
         "kullanici_id"},
        {"webhook: invalid UTF-8 in mesaj_metni", "/webhook",
         R"({"mesaj_metni": "a)" + bad + R"(", "kullanici_id": "u1", "isletme_id": "gece-butik"})",
         "mesaj_metni"},
        {"webhook: a 1,000,000-byte kullanici_id", "/webhook",
         R"({"mesaj_metni": "merhaba", "kullanici_id": ")" + std::string(1000000, 'u') +
             R"(", "isletme_id": "gece-butik"})",
         "kullanici_id"},
    };
    for (const auto& c : cases) {
        auto reply = http_request(port, "POST", c.path, c.body, c.headers);
        EXPECT_EQ(reply.status, 422) << c.name << ": " << reply.body;
        EXPECT_EQ(reply.error_code(), "invalid_value") << c.name << ": " << reply.body;
        const auto json = reply.json();
        if (json.is_object()) {
            EXPECT_TRUE(has(std::string(json.at("error").at("message").as_string()), c.field))
                << c.name << ": the message does not name " << c.field << ": " << reply.body;
        }
    }
}

TEST_P(Encoding, AUserIdWithNulNeverJoinsAnotherCustomersConversation) {
    auto victim = raw_chat(chat_body("saten gecelik ne kadar?", "pgvictim"));
    ASSERT_EQ(victim.status, 200) << victim.body;
    const auto victims_session = std::string(victim.json().at("session_id").as_string());
    auto intruder = raw_chat(R"({"text": "son mesajım neydi?", "user_id": "pgvictim\u0000zzz"})");
    EXPECT_EQ(intruder.status, 422) << intruder.body;
    EXPECT_FALSE(has(intruder.body, victims_session));
    // The victim's conversation goes on, untouched.
    auto again = raw_chat(chat_body("kargo ne kadar?", "pgvictim"));
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.json().at("session_id").as_string(), victims_session);
}

TEST_P(Encoding, TurkishLettersAndEmojiInTextAndIdsRoundTripOnBothDatabases) {
    const std::string user = "müşteri-çğıöşü-👍";
    auto first = raw_chat(chat_body("saten gecelik ne kadar? 🙏", user));
    ASSERT_EQ(first.status, 200) << first.body;
    auto second = raw_chat(chat_body("kargo ücreti ne kadar?", user));
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(second.json().at("session_id").as_string(), first.json().at("session_id").as_string());
    // A message id in Turkish, retried: the stored reply, not a second answer.
    const std::string body =
        R"({"text": "iade süresi kaç gün?", "user_id": ")" + user + R"(", "message_id": "mesaj-ğüş-1"})";
    auto once = raw_chat(body);
    auto twice = raw_chat(body);
    ASSERT_EQ(once.status, 200) << once.body;
    ASSERT_EQ(twice.status, 200) << twice.body;
    EXPECT_EQ(once.json().at("reply"), twice.json().at("reply"));
}

TEZGAH_STORE_BACKENDS(Encoding);

}  // namespace
}  // namespace tezgah::testing
