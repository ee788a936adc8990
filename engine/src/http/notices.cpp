// The notices route (http/notices.hpp).
#include "http/notices.hpp"

#include "notify/notices.hpp"

#include <tezgah/sdk/errors.hpp>

#include <date/date.h>

#include <algorithm>
#include <cctype>

namespace tezgah::engine::http {
namespace {

constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kMaxLimit = 500;

/// `name`'s value in a query string (the first one), percent-decoded; none when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) != name) continue;
        std::string out;
        std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '+') {
                out += ' ';
            } else if (raw[i] == '%' && i + 2 < raw.size() + 0 &&
                       std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
                       std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
                out += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                out += raw[i];
            }
        }
        return out;
    }
    return std::nullopt;
}

json::value time_json(std::chrono::system_clock::time_point t) {
    if (t.time_since_epoch().count() == 0) return nullptr;
    return json::value(date::format("%FT%TZ", std::chrono::time_point_cast<std::chrono::milliseconds>(t)));
}

}  // namespace

void notices_route(Routes& routes, Exchange& ex, const std::string& tenant) {
    if (!routes.authorize(ex, tenant, "conversations:read")) return;
    const auto known = routes.engine.tenants();
    if (std::none_of(known.begin(), known.end(), [&](const TenantStatus& t) { return t.id == tenant; }))
        return ex.send_error(404, sdk::errc::unknown_tenant, "unknown tenant \"" + tenant + "\"");

    std::string state = query_value(ex.request.query, "state").value_or("");
    if (!state.empty() && state != "queued" && state != "sent" && state != "failed")
        return ex.send_error(400, sdk::errc::invalid_field,
                             "state: expected queued, sent or failed, got \"" + state.substr(0, 40) + "\"");
    std::size_t limit = kDefaultLimit;
    if (auto text = query_value(ex.request.query, "limit")) {
        const bool digits =
            !text->empty() && text->size() <= 6 &&
            std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
        const long value = digits ? std::stol(*text) : 0;
        if (value < 1 || value > static_cast<long>(kMaxLimit))
            return ex.send_error(400, sdk::errc::invalid_field,
                                 "limit: expected an integer 1.." + std::to_string(kMaxLimit));
        limit = static_cast<std::size_t>(value);
    }
    auto notices = notify::list_notices(routes.engine.database(), tenant, state, limit);
    if (!notices) return ex.send_error(notices.error());
    json::array out;
    for (const auto& n : *notices) {
        out.push_back(json::object{
            {"id", n.id},
            {"event", n.event},
            {"target", n.target},
            {"state", n.state},
            {"attempts", n.attempts},
            {"last_error", n.last_error.empty() ? json::value(nullptr) : json::value(n.last_error)},
            {"created_at", time_json(n.created_at)},
            {"updated_at", time_json(n.updated_at)},
            {"next_attempt_at", n.state == "queued" ? time_json(n.next_attempt_at) : nullptr},
            {"sent_at", time_json(n.sent_at)}});
    }
    ex.send_json(200, json::object{{"notices", std::move(out)}});
}

}  // namespace tezgah::engine::http
