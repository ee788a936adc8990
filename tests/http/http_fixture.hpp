#pragma once
// Test helpers: a real server on 127.0.0.1:0 over a temporary copy of the fixture tenants, and
// small HTTP clients (Poco's, and raw sockets for what a well-behaved client would not send).

#include "http/server.hpp"
#include "pipeline/engine.hpp"

#include "support/temp_tenants.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tezgah::testing {

namespace json = boost::json;
using engine::Engine;
using engine::EngineOptions;
using engine::http::HttpServer;
using engine::http::ServerOptions;

struct HttpReply {
    int status = 0;
    std::map<std::string, std::string> headers;  ///< names lower case
    std::string body;

    json::value json() const {
        boost::system::error_code ec;
        auto v = boost::json::parse(body, ec);
        return ec ? json::value() : v;
    }
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
    std::string error_code() const {
        auto v = json();
        if (!v.is_object() || !v.as_object().contains("error")) return "";
        return std::string(v.at("error").at("code").as_string());
    }
};

inline std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// One request over a fresh Poco client session.
inline HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& path,
                              const std::string& body = "",
                              const std::vector<std::pair<std::string, std::string>>& headers = {},
                              Poco::Net::HTTPClientSession* session = nullptr) {
    std::unique_ptr<Poco::Net::HTTPClientSession> own;
    if (session == nullptr) {
        own = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", port);
        session = own.get();
    }
    session->setTimeout(Poco::Timespan(20, 0));
    session->setKeepAlive(true);
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    bool typed = false;
    for (const auto& [name, value] : headers) {
        request.set(name, value);
        typed = typed || lower(name) == "content-type";
    }
    if (!body.empty() || method == "POST") {
        if (!typed) request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session->sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    HttpReply out;
    out.status = static_cast<int>(response.getStatus());
    for (const auto& [name, value] : response) out.headers[lower(name)] = value;
    Poco::StreamCopier::copyToString(in, out.body);
    return out;
}

inline std::string chat_body(const std::string& text, const std::string& user) {
    return json::serialize(json::object{{"text", text}, {"user_id", user}});
}

/// Raw bytes in, everything the server sends until it closes (or `timeout`) out.
inline std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    socket.setReceiveTimeout(Poco::Timespan(timeout.count() * 1000));
    if (!bytes.empty()) socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    std::string out;
    char buffer[4096];
    try {
        while (true) {
            int n = socket.receiveBytes(buffer, sizeof buffer);
            if (n <= 0) break;
            out.append(buffer, static_cast<std::size_t>(n));
        }
    } catch (const std::exception&) {
    }
    return out;
}

/// The status of a raw HTTP response ("HTTP/1.1 413 ..."), or 0.
inline int raw_status(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
    return std::atoi(response.c_str() + 9);
}

struct SseEvent {
    std::string name;
    std::string data;
};

inline std::vector<SseEvent> parse_events(const std::string& body) {
    std::vector<SseEvent> events;
    std::size_t pos = 0;
    while (pos < body.size()) {
        auto end = body.find("\n\n", pos);
        if (end == std::string::npos) end = body.size();
        std::string block = body.substr(pos, end - pos);
        SseEvent event;
        std::size_t line_start = 0;
        while (line_start < block.size()) {
            auto line_end = block.find('\n', line_start);
            if (line_end == std::string::npos) line_end = block.size();
            std::string line = block.substr(line_start, line_end - line_start);
            if (line.rfind("event: ", 0) == 0) event.name = line.substr(7);
            if (line.rfind("data: ", 0) == 0) event.data += line.substr(6);
            line_start = line_end + 1;
        }
        if (!event.name.empty()) events.push_back(event);
        pos = end + 2;
    }
    return events;
}

/// An engine over a temporary copy of the fixtures and a server on 127.0.0.1:0.
class ServerFixture : public ::testing::Test {
protected:
    void SetUp() override { copy_fixtures(dir.path() / "tenants"); }
    void TearDown() override {
        if (server) server->stop(std::chrono::seconds(10));
        server.reset();
        engine.reset();
    }

    std::uint16_t start(ServerOptions options = {}) {
        EngineOptions o;
        o.tenants_dir = dir.path() / "tenants";
        o.db_url = db_url.empty() ? "sqlite:" + (dir.path() / "var" / "tezgah.db").string() : db_url;
        o.plugin_path = {plugin_dir()};
        o.lua = lua;
        engine = std::make_unique<Engine>(o);
        auto s = engine->start();
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        options.host = "127.0.0.1";
        options.port = 0;
        server = std::make_unique<HttpServer>(*engine, options);
        auto started = server->start();
        EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().message);
        port = server->port();
        return port;
    }

    HttpReply chat(const std::string& tenant, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        return http_request(port, "POST", "/v1/tenants/" + tenant + "/chat", body, headers);
    }

    TempDir dir;
    std::string db_url;             ///< empty: SQLite in `dir`
    engine::lua::ServerLimits lua;  ///< what `tezgah serve --lua-*` would set; read by start()
    std::unique_ptr<Engine> engine;
    std::unique_ptr<HttpServer> server;
    std::uint16_t port = 0;
};

}  // namespace tezgah::testing
