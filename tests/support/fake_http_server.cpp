#include "support/fake_http_server.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <thread>

namespace tezgah::testing {

std::string RecordedRequest::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (n == name) return v;
    return {};
}

FakeReply::FakeReply(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                     const std::atomic<bool>& server_stopping)
    : request_(request), response_(response), server_stopping_(server_stopping) {}

FakeReply::~FakeReply() {
    if (!stream_ && !done_) body("");
}

void FakeReply::status(int code) {
    response_.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(code));
}

void FakeReply::header(const std::string& name, const std::string& value) { response_.set(name, value); }

void FakeReply::content_type(const std::string& type) { response_.setContentType(type); }

void FakeReply::body(std::string_view text) {
    if (stream_ || done_) return;
    done_ = true;
    response_.setContentLength(static_cast<std::streamsize>(text.size()));
    auto& out = response_.send();
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
}

void FakeReply::chunk(std::string_view text) {
    if (done_) return;
    if (!stream_) {
        response_.setChunkedTransferEncoding(true);
        stream_ = &response_.send();
    }
    stream_->write(text.data(), static_cast<std::streamsize>(text.size()));
    stream_->flush();
}

void FakeReply::pause(std::chrono::milliseconds how_long) { std::this_thread::sleep_for(how_long); }

bool FakeReply::stall(std::chrono::milliseconds how_long) {
    using namespace std::chrono;
    auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request_).socket();
    const auto until = steady_clock::now() + how_long;
    for (;;) {
        if (server_stopping_) return false;
        const auto left = duration_cast<microseconds>(until - steady_clock::now());
        if (left.count() <= 0) return true;
        // Short slices, to notice the server shutting down; a hang-up wakes the poll at once.
        const auto slice = std::min<microseconds>(left, 50ms);
        bool hung_up = false;
        try {
            // A client waiting for the answer sends nothing more: a readable socket is its end.
            if (socket.poll(Poco::Timespan(slice.count()),
                            Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
                char byte = 0;
                hung_up = socket.receiveBytes(&byte, 1, MSG_PEEK) <= 0;
                if (!hung_up) std::this_thread::sleep_for(slice);  // bytes after the request: wait on
            }
        } catch (const Poco::Exception&) {
            hung_up = true;
        }
        if (hung_up) {
            client_left_ = true;
            done_ = true;  // nothing more to send to no one
            return false;
        }
    }
}

void FakeReply::drop() {
    if (stream_) stream_->flush();
    done_ = true;
    try {
        auto& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request_).socket();
        socket.shutdown();
    } catch (const std::exception&) {
    }
}

namespace {

class Handler : public Poco::Net::HTTPRequestHandler {
public:
    explicit Handler(FakeHttpServer& server) : server_(server) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        server_.serve(request, response);
    }

private:
    FakeHttpServer& server_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(FakeHttpServer& server) : server_(server) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler(server_);
    }

private:
    FakeHttpServer& server_;
};

}  // namespace

FakeHttpServer::FakeHttpServer(FakeHandler handler, int threads) : handler_(std::move(handler)) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 1024);
    port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(4096);
    params->setKeepAlive(true);
    pool_ = std::make_unique<Poco::ThreadPool>(2, std::max(threads, 2) + 4, 60, 256 * 1024);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), *pool_, socket, params);
    server_->start();
}

FakeHttpServer::~FakeHttpServer() {
    stopping_ = true;
    server_->stopAll(true);
    server_.reset();
    pool_->joinAll();
}

std::string FakeHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeHttpServer::set_handler(FakeHandler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t FakeHttpServer::request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
}

void FakeHttpServer::clear_requests() {
    std::lock_guard lock(mutex_);
    requests_.clear();
}

bool FakeHttpServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

std::size_t FakeHttpServer::cut_off_count() const {
    std::lock_guard lock(mutex_);
    return cut_offs_;
}

bool FakeHttpServer::wait_for_cut_offs(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return cut_offs_ >= n; });
}

void FakeHttpServer::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    RecordedRequest r;
    r.method = request.getMethod();
    r.remote_port = request.clientAddress().port();
    const auto& uri = request.getURI();
    auto q = uri.find('?');
    r.path = uri.substr(0, q);
    if (q != std::string::npos) r.query = uri.substr(q + 1);
    for (const auto& [name, value] : request) {
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        r.headers.emplace_back(lower, value);
    }
    Poco::StreamCopier::copyToString(request.stream(), r.body);
    FakeHandler handler;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
        handler = handler_;
    }
    changed_.notify_all();
    FakeReply reply(request, response, stopping_);
    if (handler) handler(r, reply);
    if (reply.client_left()) {
        {
            std::lock_guard lock(mutex_);
            ++cut_offs_;
        }
        changed_.notify_all();
    }
}

}  // namespace tezgah::testing
