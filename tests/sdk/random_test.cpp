// The SDK's one id generator: the formats the engine and plugins build their ids from, no repeats
// across threads, and none after fork() either (where a copied engine state would repeat).
#include <tezgah/sdk/random.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::sdk {
namespace {

bool lowercase_hex(const std::string& s) {
    return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(RandomHex, TwoLowercaseHexDigitsPerByte) {
    for (std::size_t bytes : {0u, 1u, 4u, 8u, 16u, 63u, 64u, 65u, 1000u}) {
        auto id = random_hex(bytes);
        EXPECT_EQ(id.size(), bytes * 2) << bytes;
        EXPECT_TRUE(lowercase_hex(id)) << id;
    }
}

TEST(RandomHex, EveryDigitComesUpInBothHalvesOfAByte) {
    // 2000 bytes: each of the 16 digits is missing from a half with odds far below one in 10^50.
    auto id = random_hex(2000);
    std::set<char> high, low;
    for (std::size_t i = 0; i < id.size(); i += 2) {
        high.insert(id[i]);
        low.insert(id[i + 1]);
    }
    EXPECT_EQ(high.size(), 16u);
    EXPECT_EQ(low.size(), 16u);
}

TEST(RandomHex, NoRepeatsAcrossThreads) {
    constexpr int kThreads = 8;
    constexpr int kIds = 2000;
    std::vector<std::vector<std::string>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&made, t] {
            for (int i = 0; i < kIds; ++i) made[t].push_back(random_hex(8));
        });
    }
    for (auto& thread : threads) thread.join();
    std::set<std::string> all;
    for (const auto& ids : made) all.insert(ids.begin(), ids.end());
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kIds));
}

TEST(RandomHex, AForkedChildDrawsOtherIds) {
    const std::string before = random_hex(16);  // whatever a per-thread state would have cached
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(pipe_fds[0]);
        const std::string id = random_hex(16);
        const bool written = ::write(pipe_fds[1], id.data(), id.size()) == static_cast<ssize_t>(id.size());
        ::_exit(written ? 0 : 1);
    }
    ::close(pipe_fds[1]);
    const std::string in_parent = random_hex(16);
    std::string in_child(32, '\0');
    std::size_t got = 0;
    while (got < in_child.size()) {
        const ssize_t n = ::read(pipe_fds[0], in_child.data() + got, in_child.size() - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(got, in_child.size());
    EXPECT_TRUE(lowercase_hex(in_child)) << in_child;
    EXPECT_NE(in_child, in_parent);
    EXPECT_NE(in_child, before);
}

TEST(RandomChars, DrawsOnlyFromTheAlphabetAndUsesAllOfIt) {
    constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    auto id = random_chars(24, kAlphabet);
    EXPECT_EQ(id.size(), 24u);
    EXPECT_EQ(id.find_first_not_of(kAlphabet), std::string::npos) << id;

    auto many = random_chars(20000, kAlphabet);
    EXPECT_EQ(many.size(), 20000u);
    EXPECT_EQ(std::set<char>(many.begin(), many.end()).size(), kAlphabet.size());
}

TEST(RandomChars, AnAlphabetOfOneOrOfEveryByte) {
    EXPECT_EQ(random_chars(5, "x"), "xxxxx");
    std::string every_byte;
    for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
    EXPECT_EQ(random_chars(100, every_byte).size(), 100u);
}

TEST(RandomChars, NoAlphabetOrOneTooLargeGivesNothing) {
    EXPECT_EQ(random_chars(10, ""), "");
    EXPECT_EQ(random_chars(10, std::string(257, 'a')), "");
    EXPECT_EQ(random_chars(0, "abc"), "");
}

}  // namespace
}  // namespace tezgah::sdk
