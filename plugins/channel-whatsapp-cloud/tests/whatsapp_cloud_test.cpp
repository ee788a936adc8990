// The whatsapp-cloud channel alone, through the SDK fakes: Meta's published signature vector and
// the Graph API bodies within Meta's limits. The channel over real HTTP is in tests/channels.
#include "../whatsapp.hpp"

#include <gtest/gtest.h>

namespace tezgah::plugins::whatsapp {
namespace {

TEST(WhatsAppSignature, MatchesMetasPublishedVector) {
    // The official Node SDK's test: secret TEST_APP_SECRET, body "test".
    EXPECT_EQ(hub_signature("TEST_APP_SECRET", "test"),
              "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221");
    EXPECT_TRUE(signature_matches("sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221",
                                  "TEST_APP_SECRET", "test"));
    EXPECT_TRUE(signature_matches("sha256=0C61947B610D4F45E65F3D680E26027121EC2413E77598BCB6CFC6E0D9888221",
                                  "TEST_APP_SECRET", "test"));
    EXPECT_FALSE(signature_matches("sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888222",
                                   "TEST_APP_SECRET", "test"));
    EXPECT_FALSE(signature_matches("0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221",
                                   "TEST_APP_SECRET", "test"));
    EXPECT_FALSE(signature_matches("", "TEST_APP_SECRET", "test"));
    EXPECT_FALSE(signature_matches(hub_signature("TEST_APP_SECRET", "test"), "OTHER", "test"));
}

TEST(WhatsAppQuery, DecodesTheVerificationQuery) {
    const std::string q = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=a%20b+c%26";
    EXPECT_EQ(query_value(q, "hub.mode").value_or("-"), "subscribe");
    EXPECT_EQ(query_value(q, "hub.challenge").value_or("-"), "1158201444");
    EXPECT_EQ(query_value(q, "hub.verify_token").value_or("-"), "a b c&");
    EXPECT_FALSE(query_value(q, "hub.other"));
}

TEST(WhatsAppShorten, CutsByCharactersWithAnEllipsis) {
    EXPECT_EQ(shorten("kısa", 20), "kısa");
    EXPECT_EQ(shorten("Saten gecelik şampanya rengi", 20), "Saten gecelik şampa…");
    EXPECT_EQ(sdk::text::length(shorten(std::string(5000, 'a'), 4096)), 4096u);
    EXPECT_EQ(shorten("ğğğğğ", 3), "ğğ…");
}

}  // namespace
}  // namespace tezgah::plugins::whatsapp
