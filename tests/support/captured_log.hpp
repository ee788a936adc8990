#pragma once
// The process log's lines written while a CapturedLog lives, for tests that assert what was logged.

#include "util/log.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <boost/json.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::testing {

class CapturedLog {
public:
    CapturedLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_)) {
        sink_->set_pattern("%v");
        engine::log().sinks().push_back(sink_);
    }
    ~CapturedLog() { engine::log().sinks().pop_back(); }
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;

    /// Everything written, one JSON line each.
    std::string text() const { return stream_.str(); }

    /// Every line whose message contains `needle`, parsed.
    std::vector<boost::json::object> lines_with(const std::string& needle) const {
        std::vector<boost::json::object> out;
        std::istringstream lines(stream_.str());
        for (std::string line; std::getline(lines, line);) {
            boost::system::error_code ec;
            auto value = boost::json::parse(line, ec);
            if (ec || !value.is_object()) continue;
            const auto* message = value.as_object().if_contains("message");
            if (message && message->is_string() &&
                std::string_view(message->get_string()).find(needle) != std::string_view::npos)
                out.push_back(value.as_object());
        }
        return out;
    }

private:
    std::ostringstream stream_;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace tezgah::testing
