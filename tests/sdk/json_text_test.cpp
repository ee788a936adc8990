// The SDK's JSON text: numbers as people and clients expect them (0.9, not Boost.JSON's 9E-1),
// everything else as Boost.JSON writes it.
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/types.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace tezgah::sdk {
namespace {

namespace json = boost::json;

TEST(JsonText, WritesFractionsPlainly) {
    EXPECT_EQ(json_number_text(0.9), "0.9");
    EXPECT_EQ(json_number_text(2.53), "2.53");
    EXPECT_EQ(json_number_text(299.99), "299.99");
    EXPECT_EQ(json_number_text(0.1 + 0.2), "0.30000000000000004");  // the shortest that reads back
    EXPECT_EQ(json_number_text(0.0002302), "0.0002302");
    EXPECT_EQ(json_number_text(0.0000352), "0.0000352");
    EXPECT_EQ(json_number_text(0.000001), "0.000001");
}

TEST(JsonText, WritesWholeNumbersWithoutAFraction) {
    EXPECT_EQ(json_number_text(0.0), "0");
    EXPECT_EQ(json_number_text(-0.0), "0");
    EXPECT_EQ(json_number_text(1.0), "1");
    EXPECT_EQ(json_number_text(600.0), "600");
    EXPECT_EQ(json_number_text(1e15), "1000000000000000");
    EXPECT_EQ(json_number_text(123456789012345680000.0), "123456789012345680000");
}

TEST(JsonText, WritesNegativeNumbers) {
    EXPECT_EQ(json_number_text(-3.0), "-3");
    EXPECT_EQ(json_number_text(-0.5), "-0.5");
    EXPECT_EQ(json_number_text(-1e-7), "-1e-7");
}

TEST(JsonText, UsesAnExponentOnlyForTheTinyAndTheHuge) {
    EXPECT_EQ(json_number_text(1e-7), "1e-7");  // a cost of a tenth of a micro-dollar
    EXPECT_EQ(json_number_text(1.5e-7), "1.5e-7");
    EXPECT_EQ(json_number_text(1e21), "1e+21");
    EXPECT_EQ(json_number_text(1.7976931348623157e308), "1.7976931348623157e+308");
    EXPECT_EQ(json_number_text(5e-324), "5e-324");
}

TEST(JsonText, WritesNullForWhatJsonCannotHold) {
    EXPECT_EQ(json_number_text(std::numeric_limits<double>::quiet_NaN()), "null");
    EXPECT_EQ(json_number_text(std::numeric_limits<double>::infinity()), "null");
    EXPECT_EQ(json_number_text(-std::numeric_limits<double>::infinity()), "null");
    EXPECT_EQ(json_text(json::object{{"x", std::nan("")}}), R"({"x":null})");
}

TEST(JsonText, EveryDoubleReadsBackTheSame) {
    std::mt19937_64 random(42);
    std::uniform_real_distribution<double> exponent(-30, 30);
    std::uniform_real_distribution<double> mantissa(-10, 10);
    for (int i = 0; i < 20000; ++i) {
        const double value = mantissa(random) * std::pow(10.0, exponent(random));
        const std::string text = json_number_text(value);
        EXPECT_EQ(text.find('E'), std::string::npos) << text;
        double back = 0;
        std::from_chars(text.data(), text.data() + text.size(), back);
        EXPECT_EQ(back, value) << text;
        EXPECT_FALSE(json::parse(text).is_null()) << text;
    }
}

TEST(JsonText, WritesEverythingElseAsBoostJsonDoes) {
    const json::value value = json::parse(
        R"({"text":"Merhaba \"Ayşe\"\n\ttab\\ \u0001 / ü","n":-12,"u":18446744073709551615,"ok":true,)"
        R"("none":null,"list":[1,"two",[],{}],"nested":{"a":{"b":[false]}}})");
    EXPECT_EQ(json_text(value), json::serialize(value));
    EXPECT_EQ(json_text(value.as_object()), json::serialize(value));
    EXPECT_EQ(json_text(json::array{1, 2}), "[1,2]");
}

TEST(JsonText, StringsOfEveryLengthWithEscapesAnywhereAreWrittenAsBoostJsonWritesThem) {
    // Strings are scanned eight bytes at a time: put each kind of byte that must be escaped at
    // every position of strings of many lengths, with UTF-8 around it.
    const std::string specials[] = {"\"", "\\",  "\n", "\t", std::string(1, '\x01'), std::string(1, '\x1f'),
                                    "ş",  "\x7f"};
    std::mt19937 random(7);
    for (std::size_t length = 0; length < 40; ++length) {
        for (const auto& special : specials) {
            for (std::size_t at = 0; at <= length; ++at) {
                std::string text;
                for (std::size_t i = 0; i < length; ++i) text += static_cast<char>('a' + random() % 26);
                text.insert(at, special);
                const json::value value(text);
                ASSERT_EQ(json_text(value), json::serialize(value)) << length << " " << at;
            }
        }
    }
}

TEST(JsonText, ATurnReplyReadsAsPeopleWriteNumbers) {
    TurnReply reply;
    reply.method = "intent";
    reply.confidence = 0.9;
    reply.cost_usd = 0;
    reply.execution_time_ms = 2.53;
    const std::string text = json_text(to_json(reply));
    EXPECT_NE(text.find(R"("confidence":0.9,)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("cost_usd":0})"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("execution_time_ms":2.53})"), std::string::npos) << text;
    EXPECT_EQ(text.find('E'), std::string::npos) << text;
}

}  // namespace
}  // namespace tezgah::sdk
