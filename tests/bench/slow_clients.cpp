// One host holding many silent or dribbling connections, and another client measured meanwhile:
// the figures behind docs/performance.md's "slow clients" section (scripts/bench --only slow).
//
//   tezgah-slow-clients --port P [--silent N] [--dribbling N] [--samples N] [--tenant ID]
//
// Opens --silent connections from 127.0.0.2 that send nothing and --dribbling ones that send a
// request line, then one header byte a second; waits a second; then, from 127.0.0.1, sends
// --samples GET /health and as many chat turns, one at a time, each on a new connection, and
// prints how many of the slow connections the server still holds and p50/p95/max latency of each.
#include "support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using tezgah::testing::connect_from;
using tezgah::testing::send_all;
using Clock = std::chrono::steady_clock;

/// One request on a new connection from 127.0.0.1; its status (0: none) and time in ms.
std::pair<int, double> exchange(int port, const std::string& request) {
    const auto begun = Clock::now();
    const int fd = connect_from("127.0.0.1", port);
    if (fd < 0) return {0, 0};
    int status = 0;
    if (send_all(fd, request)) {
        const auto answer = tezgah::testing::read_until_closed(fd, std::chrono::seconds(10));
        if (answer.rfind("HTTP/1.1 ", 0) == 0) status = std::atoi(answer.c_str() + 9);
    }
    ::close(fd);
    return {status, std::chrono::duration<double, std::milli>(Clock::now() - begun).count()};
}

/// Connections the server neither answered nor closed (nothing to read on them).
int still_open(const std::vector<int>& fds) {
    int open = 0;
    for (int fd : fds) {
        pollfd p{fd, POLLIN, 0};
        open += ::poll(&p, 1, 0) == 0;
    }
    return open;
}

void report(const char* what, std::vector<std::pair<int, double>> samples) {
    std::vector<double> ms;
    int ok = 0;
    for (const auto& [status, took] : samples) {
        ms.push_back(took);
        ok += status == 200;
    }
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) {
        return ms.empty() ? 0.0 : ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))];
    };
    std::printf("%s: %d of %zu answered 200; p50 %.2f ms, p95 %.2f ms, max %.2f ms\n", what, ok,
                samples.size(), at(0.5), at(0.95), ms.empty() ? 0.0 : ms.back());
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    int silent = 500;
    int dribbling = 500;
    int samples = 200;
    std::string tenant = "gece-butik";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--port")
            port = std::atoi(value.c_str());
        else if (flag == "--silent")
            silent = std::atoi(value.c_str());
        else if (flag == "--dribbling")
            dribbling = std::atoi(value.c_str());
        else if (flag == "--samples")
            samples = std::atoi(value.c_str());
        else if (flag == "--tenant")
            tenant = value;
        else {
            std::fprintf(stderr, "tezgah-slow-clients: unknown option %s\n", flag.c_str());
            return 2;
        }
    }
    if (port <= 0) {
        std::fprintf(stderr, "tezgah-slow-clients: --port is required\n");
        return 2;
    }
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }

    std::vector<int> quiet;
    std::vector<int> slow;
    for (int i = 0; i < silent; ++i)
        if (int fd = connect_from("127.0.0.2", port); fd >= 0) quiet.push_back(fd);
    for (int i = 0; i < dribbling; ++i) {
        if (int fd = connect_from("127.0.0.2", port); fd >= 0) {
            send_all(fd, "POST /v1/tenants/" + tenant + "/chat HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            slow.push_back(fd);
        }
    }
    std::atomic<bool> done{false};
    std::thread dribbler([&] {
        while (!done) {
            for (int fd : slow) ::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            for (int i = 0; i < 10 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::printf(
        "slow host 127.0.0.2: %zu silent and %zu dribbling connections opened; the server holds %d silent, "
        "%d dribbling\n",
        quiet.size(), slow.size(), still_open(quiet), still_open(slow));

    std::vector<std::pair<int, double>> health;
    std::vector<std::pair<int, double>> chats;
    for (int i = 0; i < samples; ++i) {
        health.push_back(exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        const std::string body =
            R"({"text": "kargo ne kadar?", "user_id": "measured-)" + std::to_string(i) + R"("})";
        chats.push_back(exchange(port, "POST /v1/tenants/" + tenant +
                                           "/chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                                           "application/json\r\nContent-Length: " +
                                           std::to_string(body.size()) + "\r\n\r\n" + body));
    }
    std::printf("while they are held: the server holds %d silent, %d dribbling\n", still_open(quiet),
                still_open(slow));
    report("GET /health from 127.0.0.1", health);
    report("chat turn from 127.0.0.1", chats);
    done = true;
    dribbler.join();
    for (int fd : quiet) ::close(fd);
    for (int fd : slow) ::close(fd);
    return 0;
}
