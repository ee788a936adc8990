// A tenant's figures over a range of local days (store/analytics.hpp). Every query filters on
// tenant_id and the time of the tenant's messages (index messages_tenant_at, migration 13). A
// reply's tool calls and usage rows count at the reply's time, found by its id (tool_calls_message,
// usage_message): a turn's figures stay on one day, and they follow the engine's clock (the store
// stamps those rows with the wall clock when it writes them). Usage tied to no reply counts at its
// own time (usage_tenant_at). Counts are summed per quarter hour in SQL and regrouped by local day
// here, as `tezgah usage` does (every zone's offset is a whole number of quarter hours); only the
// assistant's replies are read row by row, for what their stored JSON holds (confidence, handoff,
// execution time).
#include "store/analytics.hpp"

#include "store/sql_support.hpp"

#include <tezgah/sdk/text.hpp>

#include <soci/soci.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

namespace tezgah::engine {
namespace {

using store::from_millis;
using store::to_millis;

constexpr long long kSliceMs = 15 * 60 * 1000;

/// What one stored reply says about itself.
struct ReplyFacts {
    double confidence = 1;
    double execution_time_ms = -1;  ///< -1: not recorded
    bool handoff = false;
};

ReplyFacts facts_of(const std::string& reply_json) {
    ReplyFacts out;
    boost::system::error_code ec;
    auto parsed = boost::json::parse(reply_json, ec);
    if (ec || !parsed.is_object()) return out;
    const auto& o = parsed.get_object();
    if (const auto* c = o.if_contains("confidence"); c && c->is_number())
        out.confidence = c->to_number<double>();
    if (const auto* t = o.if_contains("execution_time_ms"); t && t->is_number())
        out.execution_time_ms = t->to_number<double>();
    if (const auto* h = o.if_contains("handoff"); h && h->is_bool()) out.handoff = h->get_bool();
    return out;
}

/// The ways of saying there is no answer (folded: ASCII, lower case, punctuation as spaces) in the languages
/// the project ships, the offline assistant's first ("Bu konuda yardımcı olamıyorum.", "I can't help with
/// that.", plugins/llm-local/replies.cpp): a reply that says so is unanswered whatever its confidence.
bool says_it_does_not_know(const std::string& reply) {
    static const char* const kPhrases[] = {
        "i can t help with that",
        "i cannot help with that",
        "i don t know",
        "i do not know",
        "bu konuda yardimci olamiyorum",
        "bilmiyorum",
        "anlayamadim",
    };
    const std::string folded = sdk::text::fold(reply);
    return std::any_of(std::begin(kPhrases), std::end(kPhrases),
                       [&](const char* phrase) { return folded.find(phrase) != std::string::npos; });
}

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

void sort_by_count(std::vector<NamedCount>& list) {
    std::stable_sort(list.begin(), list.end(), [](const NamedCount& a, const NamedCount& b) {
        return a.count != b.count ? a.count > b.count : a.name < b.name;
    });
}

/// `value` to `per_unit`ths (1e4: four decimals), as the nearest double to that decimal.
double rounded(double value, double per_unit) { return std::round(value * per_unit) / per_unit; }

}  // namespace

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

sdk::Result<Analytics> read_analytics(Database& db, const AnalyticsQuery& query) {
    Analytics out;
    out.query = query;
    const auto from = day_start(query.from, query.timezone);
    const auto until = day_start(next_day(query.to), query.timezone);
    const long long from_ms = to_millis(from);
    const long long until_ms = to_millis(until);
    const std::string& tenant = query.tenant_id;

    std::map<std::string, AnalyticsDay> days;
    for (Day d = query.from; days_between(d, query.to) >= 0; d = next_day(d)) days[d.str()].date = d.str();
    auto day_of = [&](long long slice) {
        return day_at(from_millis(slice * kSliceMs), query.timezone).str();
    };

    std::map<std::pair<std::string, std::string>, CostLine> by_model;
    auto read = db.read("analytics [" + tenant + "]", [&](soci::session& sql) {
        // Messages: per quarter hour, conversation and role.
        {
            std::set<std::string> conversations;
            std::map<std::string, std::set<std::string>> conversations_by_day;
            long long slice = 0, count = 0;
            std::string conversation, role;
            const std::string slice_of = "at / " + std::to_string(kSliceMs);
            soci::statement st =
                (sql.prepare << "SELECT " + slice_of +
                                    ", conversation_id, role, COUNT(*) FROM messages "
                                    "WHERE tenant_id = :t AND at >= :f AND at < :u GROUP BY " +
                                    slice_of + ", conversation_id, role",
                 soci::into(slice), soci::into(conversation), soci::into(role), soci::into(count),
                 soci::use(tenant), soci::use(from_ms), soci::use(until_ms));
            st.execute();
            while (st.fetch()) {
                const auto date = day_of(slice);
                conversations.insert(conversation);
                conversations_by_day[date].insert(conversation);
                days[date].messages += count;
                if (role == "user") {
                    out.customer_messages += count;
                    out.customer_messages_by_hour.at(static_cast<std::size_t>(
                        hour_at(from_millis(slice * kSliceMs), query.timezone))) += count;
                } else if (role == "assistant")
                    out.assistant_messages += count;
                else if (role == "operator")
                    out.operator_messages += count;
            }
            out.conversations = static_cast<std::int64_t>(conversations.size());
            for (auto& [date, set] : conversations_by_day)
                days[date].conversations = static_cast<std::int64_t>(set.size());
        }

        // The assistant's replies, with the customer message each answers.
        std::set<std::string> handed_over;
        {
            std::string conversation, method, reply_json, reply_text, question;
            soci::indicator question_ind = soci::i_ok;
            soci::statement st =
                (sql.prepare
                     << "SELECT r.conversation_id, r.method, r.reply_json, r.text, q.text FROM messages r "
                        "LEFT JOIN messages q ON q.id = r.in_reply_to AND q.tenant_id = r.tenant_id "
                        "WHERE r.tenant_id = :t AND r.at >= :f AND r.at < :u AND r.role = 'assistant' "
                        "AND r.reply_json <> ''",
                 soci::into(conversation), soci::into(method), soci::into(reply_json), soci::into(reply_text),
                 soci::into(question, question_ind), soci::use(tenant), soci::use(from_ms),
                 soci::use(until_ms));
            st.execute();
            std::unordered_map<std::string, std::size_t> unanswered_at;  // folded question -> index
            while (st.fetch()) {
                const ReplyFacts facts = facts_of(reply_json);
                ++out.replies;
                ++out.replies_by_method[method];
                if (facts.execution_time_ms >= 0) out.response_times_ms.push_back(facts.execution_time_ms);
                if (facts.handoff) handed_over.insert(conversation);
                const bool unanswered = method == "fallback" ||
                                        facts.confidence < query.confidence_threshold ||
                                        says_it_does_not_know(reply_text);
                const std::string asked = question_ind == soci::i_ok ? trimmed(question) : "";
                if (!unanswered || asked.empty() || facts.handoff) continue;
                const std::string key = sdk::text::fold(asked);
                auto [it, added] = unanswered_at.try_emplace(key, out.unanswered.size());
                if (added) out.unanswered.push_back({asked, 0, 0});
                ++out.unanswered[it->second].count;
            }
            std::sort(out.response_times_ms.begin(), out.response_times_ms.end());
            sort_by_count(out.unanswered);
            if (out.unanswered.size() > query.unanswered_limit) out.unanswered.resize(query.unanswered_limit);
        }

        // Tickets (the handoff tool's): their conversations are handed over too, and their reasons
        // are the handoff reasons.
        {
            std::string conversation, reason;
            soci::indicator reason_ind = soci::i_ok;
            soci::statement st =
                (sql.prepare << "SELECT conversation_id, reason FROM tickets "
                                "WHERE tenant_id = :t AND created_at >= :f AND created_at < :u",
                 soci::into(conversation), soci::into(reason, reason_ind), soci::use(tenant),
                 soci::use(from_ms), soci::use(until_ms));
            st.execute();
            std::map<std::string, std::int64_t> reasons;
            while (st.fetch()) {
                handed_over.insert(conversation);
                ++reasons[reason_ind == soci::i_ok && !reason.empty() ? reason : "unspecified"];
            }
            for (auto& [name, count] : reasons) out.handoff_reasons.push_back({name, count, 0});
            sort_by_count(out.handoff_reasons);
        }
        out.handed_over = static_cast<std::int64_t>(handed_over.size());

        // Tools, most called first: the calls of the replies in the range.
        {
            std::string tool;
            long long calls = 0, failed = 0;
            soci::statement st =
                (sql.prepare
                     << "SELECT t.tool, COUNT(*), CAST(SUM(CASE WHEN t.ok = 0 THEN 1 ELSE 0 END) AS BIGINT) "
                        "FROM messages m JOIN tool_calls t ON t.tenant_id = m.tenant_id AND t.message_id = "
                        "m.id "
                        "WHERE m.tenant_id = :t AND m.at >= :f AND m.at < :u AND m.role = 'assistant' "
                        "GROUP BY t.tool",
                 soci::into(tool), soci::into(calls), soci::into(failed), soci::use(tenant),
                 soci::use(from_ms), soci::use(until_ms));
            st.execute();
            while (st.fetch()) out.tools.push_back({tool, calls, failed});
            sort_by_count(out.tools);
        }

        // Cost: the usage rows of the replies in the range, at the reply's time; then those of no
        // reply, at their own.
        {
            const std::string slice_of = std::to_string(kSliceMs);
            long long slice = 0, calls = 0;
            std::string provider, model;
            double usd = 0;
            auto add = [&] {
                auto& line = by_model[{provider, model}];
                line.provider = provider;
                line.model = model;
                line.calls += calls;
                line.cost_usd += usd;
                days[day_of(slice)].cost_usd += usd;
            };
            soci::statement replies =
                (sql.prepare
                     << "SELECT m.at / " + slice_of +
                            ", u.provider, u.model, COUNT(*), SUM(u.cost_usd) FROM messages m "
                            "JOIN usage u ON u.tenant_id = m.tenant_id AND u.message_id = m.id "
                            "WHERE m.tenant_id = :t AND m.at >= :f AND m.at < :u AND m.role = 'assistant' "
                            "GROUP BY m.at / " +
                            slice_of + ", u.provider, u.model",
                 soci::into(slice), soci::into(provider), soci::into(model), soci::into(calls),
                 soci::into(usd), soci::use(tenant), soci::use(from_ms), soci::use(until_ms));
            replies.execute();
            while (replies.fetch()) add();
            soci::statement loose =
                (sql.prepare << "SELECT at / " + slice_of +
                                    ", provider, model, COUNT(*), SUM(cost_usd) FROM usage "
                                    "WHERE tenant_id = :t AND at >= :f AND at < :u AND message_id = '' "
                                    "GROUP BY at / " +
                                    slice_of + ", provider, model",
                 soci::into(slice), soci::into(provider), soci::into(model), soci::into(calls),
                 soci::into(usd), soci::use(tenant), soci::use(from_ms), soci::use(until_ms));
            loose.execute();
            while (loose.fetch()) add();
        }

        // Appointments that start in the range, by service, resource and status.
        {
            std::string service, resource, status;
            long long count = 0;
            std::map<std::string, AppointmentCounts> services, resources;
            soci::statement st =
                (sql.prepare << "SELECT service_id, resource_id, status, COUNT(*) FROM appointments "
                                "WHERE tenant_id = :t AND start_at >= :f AND start_at < :u "
                                "GROUP BY service_id, resource_id, status",
                 soci::into(service), soci::into(resource), soci::into(status), soci::into(count),
                 soci::use(tenant), soci::use(from_ms), soci::use(until_ms));
            st.execute();
            out.appointments = {};
            while (st.fetch()) {
                auto& by_service = services[service];
                auto& by_resource = resources[resource];
                by_service.id = service;
                by_resource.id = resource;
                for (AppointmentCounts* c : {&out.appointments, &by_service, &by_resource}) {
                    if (status == "cancelled") {
                        c->cancelled += count;
                        continue;
                    }
                    c->booked += count;
                    if (status == "completed") c->completed += count;
                    if (status == "no_show") c->no_shows += count;
                }
            }
            auto most_booked = [](std::map<std::string, AppointmentCounts>& from) {
                std::vector<AppointmentCounts> list;
                list.reserve(from.size());
                for (auto& [id, counts] : from) list.push_back(std::move(counts));
                std::stable_sort(list.begin(), list.end(),
                                 [](const AppointmentCounts& a, const AppointmentCounts& b) {
                                     return a.booked > b.booked;
                                 });
                return list;
            };
            out.appointments_by_service = most_booked(services);
            out.appointments_by_resource = most_booked(resources);
        }
    });
    if (!read) return read.error();

    for (auto& [key, line] : by_model) out.cost.push_back(line);
    std::stable_sort(out.cost.begin(), out.cost.end(),
                     [](const CostLine& a, const CostLine& b) { return a.cost_usd > b.cost_usd; });
    for (auto& [date, day] : days) {
        day.date = date;
        out.by_day.push_back(day);
    }
    return out;
}

boost::json::object analytics_json(const Analytics& f) {
    namespace json = boost::json;
    auto usd = [](double v) { return rounded(v, 1e9); };  // no 0.000230199999…
    auto ratio = [](std::int64_t part, std::int64_t whole) {
        return whole == 0 ? 0.0 : rounded(static_cast<double>(part) / static_cast<double>(whole), 1e4);
    };
    json::array reasons;
    for (const auto& r : f.handoff_reasons) reasons.push_back({{"reason", r.name}, {"count", r.count}});
    json::array tools;
    for (const auto& t : f.tools)
        tools.push_back({{"name", t.name}, {"calls", t.count}, {"failed", t.failed}});
    json::array unanswered;
    for (const auto& u : f.unanswered) unanswered.push_back({{"text", u.name}, {"count", u.count}});
    json::object methods;
    for (const char* m : {"llm", "intent", "rule", "cache", "fallback"}) methods[m] = 0;
    for (const auto& [method, count] : f.replies_by_method) methods[method] = count;
    json::array cost;
    for (const auto& c : f.cost)
        cost.push_back({{"provider", c.provider},
                        {"model", c.model},
                        {"calls", c.calls},
                        {"cost_usd", usd(c.cost_usd)}});
    json::array days;
    for (const auto& d : f.by_day)
        days.push_back({{"date", d.date},
                        {"conversations", d.conversations},
                        {"messages", d.messages},
                        {"cost_usd", usd(d.cost_usd)}});
    json::array hours;
    for (std::size_t hour = 0; hour < f.customer_messages_by_hour.size(); ++hour)
        hours.push_back({{"hour", hour}, {"messages", f.customer_messages_by_hour[hour]}});
    auto appointment_counts = [&](const AppointmentCounts& c, const char* id_key) {
        json::object o;
        if (id_key != nullptr) {
            o[id_key] = c.id;
            o["name"] = c.name;
        }
        o["booked"] = c.booked;
        o["cancelled"] = c.cancelled;
        o["completed"] = c.completed;
        o["no_shows"] = c.no_shows;
        return o;
    };
    json::object appointments = appointment_counts(f.appointments, nullptr);
    appointments["cancellation_rate"] =
        ratio(f.appointments.cancelled, f.appointments.booked + f.appointments.cancelled);
    appointments["no_show_rate"] = ratio(f.appointments.no_shows, f.appointments.booked);
    json::array by_service, by_resource;
    for (const auto& c : f.appointments_by_service) by_service.push_back(appointment_counts(c, "service"));
    for (const auto& c : f.appointments_by_resource) by_resource.push_back(appointment_counts(c, "resource"));
    appointments["by_service"] = std::move(by_service);
    appointments["by_resource"] = std::move(by_resource);
    const std::int64_t cache_hits =
        f.replies_by_method.contains("cache") ? f.replies_by_method.at("cache") : 0;
    return {
        {"tenant", f.query.tenant_id},
        {"from", f.query.from.str()},
        {"to", f.query.to.str()},
        {"timezone", f.query.timezone},
        {"conversations", f.conversations},
        {"messages",
         {{"customer", f.customer_messages},
          {"assistant", f.assistant_messages},
          {"operator", f.operator_messages}}},
        {"handoff",
         {{"rate", ratio(f.handed_over, f.conversations)},
          {"count", f.handed_over},
          {"reasons", std::move(reasons)}}},
        {"tools", std::move(tools)},
        {"unanswered", std::move(unanswered)},
        {"replies_by_method", std::move(methods)},
        {"response_time_ms",
         {{"p50", percentile(f.response_times_ms, 50)},
          {"p90", percentile(f.response_times_ms, 90)},
          {"p99", percentile(f.response_times_ms, 99)}}},
        {"cost", std::move(cost)},
        {"cache", {{"hits", cache_hits}, {"replies", f.replies}, {"hit_rate", ratio(cache_hits, f.replies)}}},
        {"by_day", std::move(days)},
        {"by_hour", std::move(hours)},
        {"appointments", std::move(appointments)},
    };
}

}  // namespace tezgah::engine
