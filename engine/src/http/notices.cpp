// The notices route (http/notices.hpp).
#include "http/notices.hpp"

#include "http/request_parts.hpp"

#include "notify/notices.hpp"

#include <tezgah/sdk/errors.hpp>

#include <date/date.h>

#include <algorithm>
#include <cctype>

namespace tezgah::engine::http {
namespace {

constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kMaxLimit = 500;

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

    const auto params = query_params_or_answer(ex);
    if (!params) return;
    auto param = [&](const char* name) -> std::optional<std::string> {
        auto it = params->find(name);
        if (it == params->end()) return std::nullopt;
        return it->second;
    };
    std::string state = param("state").value_or("");
    if (!state.empty() && state != "queued" && state != "sent" && state != "failed")
        return ex.send_error(400, sdk::errc::invalid_field,
                             "state: expected queued, sent or failed, got \"" + state.substr(0, 40) + "\"");
    std::size_t limit = kDefaultLimit;
    if (auto text = param("limit")) {
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
