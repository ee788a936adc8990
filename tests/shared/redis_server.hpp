#pragma once
// A real redis-server on a free loopback port, in a temporary folder, for the tests of
// shared/redis_state.*: no persistence, stopped (and started again on the same port) at will.

#include "support/temp_tenants.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace tezgah::testing {

class RedisServer {
public:
    RedisServer() : port_(free_port()) {}
    ~RedisServer() { stop(); }
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    /// Whether redis-server is installed (scripts/setup installs it).
    static bool available() { return std::system("command -v redis-server >/dev/null 2>&1") == 0; }

    /// Starts it on its port and waits until it accepts connections; whether it did.
    bool start() {
        const std::string port = std::to_string(port_);
        const std::string folder = dir_.path().string();
        pid_ = fork();
        if (pid_ == 0) {
            execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save",
                   "", "--appendonly", "no", "--dir", folder.c_str(), "--loglevel", "warning", nullptr);
            _exit(127);
        }
        for (int i = 0; i < 500; ++i) {
            if (accepts()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    /// Stops it (SIGKILL: as if the machine it runs on went away) and waits for it to be gone.
    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    int port() const { return port_; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

    /// A port nothing listens on now.
    static int free_port() {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        socklen_t length = sizeof address;
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
        close(fd);
        return ntohs(address.sin_port);
    }

private:
    bool accepts() const {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<uint16_t>(port_));
        const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        close(fd);
        return connected;
    }

    TempDir dir_;
    int port_;
    pid_t pid_ = -1;
};

/// Polls `done` every 10 ms for up to `limit`: whether it came true.
template <class Done>
bool eventually(Done&& done, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

}  // namespace tezgah::testing
