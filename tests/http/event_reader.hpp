#pragma once
// A `GET /v1/tenants/{tenant}/events` stream read on its own thread until the reader goes, for the
// tests that watch the operator events over real HTTP (handoff, the console's API).

#include "http/http_fixture.hpp"

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tezgah::testing {

class EventReader {
public:
    /// `credential`: a whole header line, `Authorization: Bearer KEY` or `Cookie: tezgah_session=...`.
    EventReader(std::uint16_t port, const std::string& path, const std::string& credential) {
        socket_.connect(Poco::Net::SocketAddress("127.0.0.1", port));
        socket_.setReceiveTimeout(Poco::Timespan(0, 200000));
        const std::string request = "GET " + path +
                                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n" +
                                    credential + "\r\n\r\n";
        socket_.sendBytes(request.data(), static_cast<int>(request.size()));
        thread_ = std::thread([this] {
            char buffer[4096];
            while (!stop_) {
                try {
                    const int n = socket_.receiveBytes(buffer, sizeof buffer);
                    if (n <= 0) break;
                    std::lock_guard lock(mutex_);
                    text_.append(buffer, static_cast<std::size_t>(n));
                } catch (const Poco::TimeoutException&) {
                } catch (...) {
                    break;
                }
            }
            closed_ = true;
        });
    }
    ~EventReader() {
        stop_ = true;
        thread_.join();
        socket_.close();
    }
    std::string text() {
        std::lock_guard lock(mutex_);
        return text_;
    }
    bool has(const std::string& part) { return text().find(part) != std::string::npos; }
    /// True once the server ended the stream (or the connection failed).
    bool closed() const { return closed_; }
    /// The data of every event named `name`, in order.
    std::vector<json::object> events(const std::string& name) {
        std::vector<json::object> out;
        const std::string all = text();
        const auto body = all.find("\r\n\r\n");
        for (const auto& e : parse_events(body == std::string::npos ? all : all.substr(body + 4))) {
            // The stream is chunked: a frame's data may carry a chunk's size line; take the JSON.
            if (e.name != name) continue;
            const auto start = e.data.find('{');
            const auto end = e.data.rfind('}');
            if (start == std::string::npos || end == std::string::npos) continue;
            boost::system::error_code ec;
            auto parsed = json::parse(e.data.substr(start, end - start + 1), ec);
            if (!ec && parsed.is_object()) out.push_back(parsed.as_object());
        }
        return out;
    }

private:
    Poco::Net::StreamSocket socket_;
    std::mutex mutex_;
    std::string text_;
    std::atomic<bool> stop_{false}, closed_{false};
    std::thread thread_;
};

}  // namespace tezgah::testing
