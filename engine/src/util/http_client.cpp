#include "util/http_client.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/URI.h>

#include <istream>

namespace tezgah::engine {
namespace sdk = tezgah::sdk;

sdk::Result<sdk::HttpResponse> PocoHttpClient::send(const sdk::OutboundRequest& request) {
    try {
        Poco::URI uri(request.url);
        if (uri.getScheme() != "http")
            return sdk::Error{"unsupported", "only http:// URLs are supported by this build (got " + uri.getScheme() + ")"};
        Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
        session.setTimeout(Poco::Timespan(static_cast<long>(request.timeout_ms) * 1000));
        std::string target = uri.getPathAndQuery();
        if (target.empty()) target = "/";
        Poco::Net::HTTPRequest req(request.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [name, value] : request.headers) req.set(name, value);
        req.setContentLength(static_cast<std::streamsize>(request.body.size()));
        session.sendRequest(req) << request.body;
        Poco::Net::HTTPResponse res;
        std::istream& in = session.receiveResponse(res);
        sdk::HttpResponse out;
        out.status = static_cast<int>(res.getStatus());
        out.content_type = res.getContentType();
        for (const auto& [name, value] : res) out.headers.emplace_back(name, value);
        char buffer[4096];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            std::string_view chunk(buffer, static_cast<std::size_t>(in.gcount()));
            out.body.append(chunk);
            if (request.on_chunk) request.on_chunk(chunk);
        }
        return out;
    } catch (const Poco::TimeoutException& e) {
        return sdk::Error{"timeout", request.url + ": " + e.displayText()};
    } catch (const Poco::Exception& e) {
        return sdk::Error{"unavailable", request.url + ": " + e.displayText()};
    } catch (const std::exception& e) {
        return sdk::Error{"unavailable", request.url + ": " + e.what()};
    }
}

}  // namespace tezgah::engine
