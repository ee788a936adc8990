#pragma once
// Helpers for the security suite: raw client sockets bound to a chosen loopback address (so one
// "host" can open a thousand connections while another client is measured), and timing.

#include "http/http_fixture.hpp"
#include "support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace tezgah::testing {

/// True when the server closed `fd` (or reset it) within `timeout`.
inline bool closed_within(int fd, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        const auto n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) return true;
    }
}

/// How long `f` took.
template <class F>
std::chrono::milliseconds timed(F&& f) {
    const auto begun = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begun);
}

inline bool has(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
}

/// The JSON body of a raw response (after the blank line), or null.
inline json::value raw_json(const std::string& response) {
    const auto start = response.find("\r\n\r\n");
    if (start == std::string::npos) return nullptr;
    boost::system::error_code ec;
    auto value = json::parse(response.substr(start + 4), ec);
    return ec ? json::value() : value;
}

/// A header of a raw response (name in any case), or "".
inline std::string raw_header(const std::string& response, const std::string& name) {
    const std::string head = lower(response.substr(0, response.find("\r\n\r\n")));
    const auto at = head.find("\r\n" + lower(name) + ":");
    if (at == std::string::npos) return "";
    auto value_start = at + 3 + name.size();
    const auto end = head.find("\r\n", value_start);
    std::string value = response.substr(value_start, end - value_start);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    return value;
}

}  // namespace tezgah::testing
