// Chat turns from many customers, each with its own message id, until the server dies: the ids
// the server acknowledged (200) are written out, for scripts/bench --only durability to check
// against the database after `kill -9`.
//
//   tezgah-durability --port P --out FILE [--threads N] [--tenant ID]
//
// Each thread is one customer ("durable-<thread>") sending one message at a time on a
// keep-alive connection; a thread stops at its first failed exchange after the server went away.
#include "support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using tezgah::testing::send_all;

int connect_to(int port) { return tezgah::testing::connect_from("127.0.0.1", port); }

/// Reads one response with a Content-Length body; its status, or 0 when the connection failed.
int read_response(int fd, std::string& pending) {
    char buffer[8192];
    for (;;) {
        const auto head_end = pending.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            const auto at = pending.find("Content-Length: ");
            if (at == std::string::npos || at > head_end) return 0;
            const auto length = static_cast<std::size_t>(std::atol(pending.c_str() + at + 16));
            if (pending.size() >= head_end + 4 + length) {
                const int status = std::atoi(pending.c_str() + 9);
                pending.erase(0, head_end + 4 + length);
                return status;
            }
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 30000) <= 0) return 0;
        const auto n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return 0;
        pending.append(buffer, static_cast<std::size_t>(n));
    }
}

}  // namespace

int main(int argc, char** argv) {
    int port = 0;
    int threads = 32;
    std::string out;
    std::string tenant = "gece-butik";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--port")
            port = std::atoi(value.c_str());
        else if (flag == "--threads")
            threads = std::atoi(value.c_str());
        else if (flag == "--out")
            out = value;
        else if (flag == "--tenant")
            tenant = value;
        else {
            std::fprintf(stderr, "tezgah-durability: unknown option %s\n", flag.c_str());
            return 2;
        }
    }
    if (port <= 0 || out.empty()) {
        std::fprintf(stderr, "tezgah-durability: --port and --out are required\n");
        return 2;
    }
    static const char* kQuestions[] = {"saten gecelik ne kadar?", "kargo ücreti ne kadar?",
                                       "iade koşulları neler", "kadife sabahlık fiyatı", "merhaba"};
    std::mutex mutex;
    std::vector<std::string> acknowledged;
    std::atomic<long> sent{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            int fd = connect_to(port);
            std::string pending;
            for (long seq = 0; fd >= 0; ++seq) {
                const std::string id = "d-" + std::to_string(t) + "-" + std::to_string(seq);
                const std::string body = std::string(R"({"text": ")") + kQuestions[seq % 5] +
                                         R"(", "user_id": "durable-)" + std::to_string(t) +
                                         R"(", "message_id": ")" + id + R"("})";
                const std::string request = "POST /v1/tenants/" + tenant +
                                            "/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                            "Content-Length: " +
                                            std::to_string(body.size()) + "\r\n\r\n" + body;
                ++sent;
                if (!send_all(fd, request)) break;
                const int status = read_response(fd, pending);
                if (status == 0) break;  // the server went away
                if (status == 200) {
                    std::lock_guard lock(mutex);
                    acknowledged.push_back(id);
                }
            }
            if (fd >= 0) ::close(fd);
        });
    }
    for (auto& w : workers) w.join();
    std::ofstream file(out);
    for (const auto& id : acknowledged) file << id << '\n';
    std::printf("sent %ld messages; %zu acknowledged with 200\n", sent.load(), acknowledged.size());
    return 0;
}
