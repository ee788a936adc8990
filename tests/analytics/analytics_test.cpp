// GET /v1/tenants/{tenant}/analytics over real HTTP against `tezgah serve`, on SQLite and
// PostgreSQL: conversations are made through the chat API with the offline assistant at chosen
// times (`--clock`), and every figure is checked against what was sent — counts, handoffs, tools,
// unanswered questions, methods, response times, cost, days in the tenant's time zone (Europe/
// Istanbul, UTC+3: a message at 00:30 local is the next day there but the same day in UTC) — and
// another tenant's data is never counted. Keys are made with create_api_key on the same database.
#include "http/http_fixture.hpp"
#include "store/api_keys.hpp"
#include "store/store_fixture.hpp"
#include "support/fake_openai.hpp"
#include "support/serve_process.hpp"

#include <soci/soci.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace tezgah::testing {
namespace {

using engine::Backend;
using engine::testing::ScratchDatabase;

/// One customer message as sent, and what the chat API answered.
struct Sent {
    std::string tenant;
    std::string text;
    json::object reply;
};

class Analytics : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        scratch = std::make_unique<ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        copy_fixtures(dir.path() / "tenants");
        auto db = engine::Database::open(scratch->url());
        ASSERT_TRUE(db) << db.error().message;
        const auto now = std::chrono::system_clock::now();
        auto key = [&](const std::string& tenant, std::vector<std::string> scopes) {
            auto made = engine::create_api_key(**db, "analytics test", tenant, scopes, now);
            EXPECT_TRUE(made) << made.error().message;
            return made ? made->secret : std::string();
        };
        gece_key = key("gece-butik", {"analytics:read"});
        nefes_key = key("nefes-studyo", {"analytics:read"});
        gece_without_scope = key("gece-butik", {"conversations:read"});
        all_tenants_key = key("", {"analytics:read"});
    }

    /// Serves with the clock at `clock` (ISO 8601 with offset) until the returned process ends.
    std::unique_ptr<ServeProcess> serve(const std::string& clock) {
        auto process = std::make_unique<ServeProcess>(
            dir.path(), "127.0.0.1:0", std::vector<std::string>{"--db", scratch->url(), "--clock", clock});
        port = port_of(process->ready_line());
        EXPECT_GT(port, 0) << slurp(dir.path() / "serve.log");
        return process;
    }

    void say(const std::string& tenant, const std::string& user, const std::string& text) {
        auto answer = http_request(port, "POST", "/v1/tenants/" + tenant + "/chat", chat_body(text, user));
        ASSERT_EQ(answer.status, 200) << answer.body;
        sent.push_back({tenant, text, answer.json().as_object()});
    }

    HttpReply analytics(const std::string& tenant, const std::string& query, const std::string& key) {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!key.empty()) headers.emplace_back("Authorization", "Bearer " + key);
        return http_request(port, "GET", "/v1/tenants/" + tenant + "/analytics" + query, "", headers);
    }

    json::object figures(const std::string& tenant, const std::string& query, const std::string& key) {
        auto answer = analytics(tenant, query, key);
        EXPECT_EQ(answer.status, 200) << answer.body;
        auto value = answer.json();
        return value.is_object() ? value.as_object() : json::object{};
    }

    /// The replies of `tenant` (optionally only those of `texts_after`: the index in `sent` to start at).
    std::vector<json::object> replies_of(const std::string& tenant, std::size_t first = 0,
                                         std::size_t last = std::string::npos) const {
        std::vector<json::object> out;
        for (std::size_t i = first; i < std::min(last, sent.size()); ++i)
            if (sent[i].tenant == tenant) out.push_back(sent[i].reply);
        return out;
    }

    TempDir dir;
    std::unique_ptr<ScratchDatabase> scratch;
    std::uint16_t port = 0;
    std::string gece_key, nefes_key, gece_without_scope, all_tenants_key;
    std::vector<Sent> sent;
};

std::int64_t integer(const json::value& v) { return v.to_number<std::int64_t>(); }
double number(const json::value& v) { return v.to_number<double>(); }

/// The nearest-rank percentile of the execution times the chat API reported.
double expected_percentile(const std::vector<json::object>& replies, double p) {
    std::vector<double> times;
    for (const auto& r : replies) times.push_back(number(r.at("execution_time_ms")));
    std::sort(times.begin(), times.end());
    if (times.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(times.size())));
    return times[std::clamp<std::size_t>(rank, 1, times.size()) - 1];
}

/// The language-model calls the offline assistant made for these replies: one per turn, and one
/// more after a round of tool calls.
std::int64_t expected_model_calls(const std::vector<json::object>& replies) {
    std::int64_t calls = 0;
    for (const auto& r : replies) calls += r.at("tool_calls").as_array().empty() ? 1 : 2;
    return calls;
}

std::int64_t tool_count(const std::vector<json::object>& replies, const std::string& name) {
    std::int64_t n = 0;
    for (const auto& r : replies)
        for (const auto& call : r.at("tool_calls").as_array()) n += call.at("name").as_string() == name;
    return n;
}

const std::string kGibberish = "qwzx blorp fnord";

TEST_P(Analytics, EveryFigureMatchesTheConversationsSentAndDaysAreTheTenantsLocalDays) {
    {
        // 23:30 in Istanbul on 10 November (20:30 UTC).
        auto process = serve("2026-11-10T23:30:00+03:00");
        ASSERT_GT(port, 0);
        say("gece-butik", "ayse", "merhaba");
        say("gece-butik", "ayse", "kadife sabahlık fiyatı");
        say("gece-butik", "ayse", kGibberish);
        say("gece-butik", "bob", "can I talk to a human");
        say("nefes-studyo", "nur", "merhaba");
        say("nefes-studyo", "nur", "zzyzx plonk vurt");
    }
    const std::size_t second_day = sent.size();
    // 00:30 in Istanbul on 11 November: still 10 November (21:30) in UTC.
    auto process = serve("2026-11-11T00:30:00+03:00");
    ASSERT_GT(port, 0);
    say("gece-butik", "cem", "iade politikanız nedir");
    say("gece-butik", "cem", "  QWZX blorp fnord ");
    say("gece-butik", "cem", "kadife sabahlık fiyatı");

    const auto gece = replies_of("gece-butik");
    ASSERT_EQ(gece.size(), 7u);
    EXPECT_TRUE(gece[3].at("handoff").as_bool())
        << "the offline assistant hands \"can I talk to a human\" over";
    for (std::size_t i : {0, 1, 2, 4, 5, 6}) EXPECT_FALSE(gece[i].at("handoff").as_bool()) << i;

    auto f = figures("gece-butik", "?from=2026-11-10&to=2026-11-11", gece_key);
    EXPECT_EQ(f.at("tenant").as_string(), "gece-butik");
    EXPECT_EQ(f.at("from").as_string(), "2026-11-10");
    EXPECT_EQ(f.at("to").as_string(), "2026-11-11");
    EXPECT_EQ(f.at("timezone").as_string(), "Europe/Istanbul");
    EXPECT_EQ(integer(f.at("conversations")), 3);  // ayse, bob, cem
    const auto& messages = f.at("messages").as_object();
    EXPECT_EQ(integer(messages.at("customer")), 7);
    EXPECT_EQ(integer(messages.at("assistant")), 7);
    EXPECT_EQ(integer(messages.at("operator")), 0);

    const auto& handoff = f.at("handoff").as_object();
    EXPECT_EQ(integer(handoff.at("count")), 1);
    EXPECT_NEAR(number(handoff.at("rate")), 1.0 / 3.0, 1e-4);

    const auto& tools = f.at("tools").as_array();
    ASSERT_EQ(tools.size(), 2u) << json::serialize(tools);
    EXPECT_EQ(tools[0].at("name").as_string(), "get_product_info");  // most called first
    EXPECT_EQ(integer(tools[0].at("calls")), tool_count(gece, "get_product_info"));
    EXPECT_EQ(integer(tools[0].at("calls")), 2);
    EXPECT_EQ(tools[1].at("name").as_string(), "search_knowledge_base");
    EXPECT_EQ(integer(tools[1].at("calls")), 1);
    EXPECT_EQ(integer(tools[0].at("failed")) + integer(tools[1].at("failed")), 0);

    // The same question twice (case and spaces aside), as first asked; the handoff is not in it.
    const auto& unanswered = f.at("unanswered").as_array();
    ASSERT_EQ(unanswered.size(), 1u) << json::serialize(unanswered);
    EXPECT_EQ(unanswered[0].at("text").as_string(), kGibberish);
    EXPECT_EQ(integer(unanswered[0].at("count")), 2);

    const auto& methods = f.at("replies_by_method").as_object();
    std::map<std::string, std::int64_t> sent_methods;
    for (const auto& r : gece) ++sent_methods[std::string(r.at("method").as_string())];
    for (const char* m : {"llm", "intent", "rule", "cache", "fallback"})
        EXPECT_EQ(integer(methods.at(m)), sent_methods[m]) << m;

    // Response times: the execution_time_ms each reply was stored with (the client's figure is
    // taken a little later, once the reply is stored), never more than the client's.
    std::vector<json::object> stored;
    {
        auto sql = engine::testing::open_sql_session(scratch->url());
        ASSERT_TRUE(sql);
        std::string reply_json;
        soci::statement st =
            (sql->prepare << "SELECT reply_json FROM messages WHERE tenant_id = 'gece-butik' AND "
                             "role = 'assistant'",
             soci::into(reply_json));
        st.execute();
        while (st.fetch()) stored.push_back(json::parse(reply_json).as_object());
    }
    ASSERT_EQ(stored.size(), 7u);
    const auto& times = f.at("response_time_ms").as_object();
    for (auto [name, p] : {std::pair{"p50", 50.0}, std::pair{"p90", 90.0}, std::pair{"p99", 99.0}}) {
        EXPECT_NEAR(number(times.at(name)), expected_percentile(stored, p), 1e-9) << name;
        EXPECT_LE(number(times.at(name)), expected_percentile(gece, p)) << name;
    }
    EXPECT_GT(number(times.at("p99")), 0.0);

    const auto& cost = f.at("cost").as_array();
    ASSERT_EQ(cost.size(), 1u) << json::serialize(cost);
    EXPECT_EQ(cost[0].at("provider").as_string(), "local");
    EXPECT_EQ(integer(cost[0].at("calls")), expected_model_calls(gece));
    EXPECT_EQ(number(cost[0].at("cost_usd")), 0.0);

    const auto& cache = f.at("cache").as_object();
    EXPECT_EQ(integer(cache.at("hits")), sent_methods["cache"]);
    EXPECT_EQ(integer(cache.at("replies")), 7);

    // Local days: 10 November has ayse's and bob's 4 turns (8 messages); 11 November cem's 3.
    const auto& days = f.at("by_day").as_array();
    ASSERT_EQ(days.size(), 2u) << json::serialize(days);
    EXPECT_EQ(days[0].at("date").as_string(), "2026-11-10");
    EXPECT_EQ(integer(days[0].at("conversations")), 2);
    EXPECT_EQ(integer(days[0].at("messages")), 8);
    EXPECT_EQ(days[1].at("date").as_string(), "2026-11-11");
    EXPECT_EQ(integer(days[1].at("conversations")), 1);
    EXPECT_EQ(integer(days[1].at("messages")), 6);

    // 11 November alone: cem's conversation only, although in UTC it is all 10 November.
    auto eleventh = figures("gece-butik", "?from=2026-11-11&to=2026-11-11", gece_key);
    EXPECT_EQ(integer(eleventh.at("conversations")), 1);
    EXPECT_EQ(integer(eleventh.at("messages").at("customer")), 3);
    EXPECT_EQ(integer(eleventh.at("handoff").at("count")), 0);
    EXPECT_EQ(integer(eleventh.at("unanswered").as_array().at(0).at("count")), 1);
    EXPECT_EQ(integer(eleventh.at("cost").as_array().at(0).at("calls")),
              expected_model_calls(replies_of("gece-butik", second_day)));
    // And a range that ends the day before holds nothing of it.
    auto ninth = figures("gece-butik", "?from=2026-11-09&to=2026-11-09", gece_key);
    EXPECT_EQ(integer(ninth.at("conversations")), 0);
    EXPECT_EQ(integer(ninth.at("handoff").at("count")), 0);
    EXPECT_EQ(number(ninth.at("handoff").at("rate")), 0.0);
    EXPECT_EQ(ninth.at("by_day").as_array().size(), 1u);

    // The default range: the 7 days to today on the server's clock (11 November in Istanbul).
    auto recent = figures("gece-butik", "", gece_key);
    EXPECT_EQ(recent.at("from").as_string(), "2026-11-05");
    EXPECT_EQ(recent.at("to").as_string(), "2026-11-11");
    EXPECT_EQ(recent.at("by_day").as_array().size(), 7u);
    EXPECT_EQ(integer(recent.at("conversations")), 3);

    // The other tenant counts its own conversation alone, and neither sees the other's words.
    auto nefes = figures("nefes-studyo", "?from=2026-11-10&to=2026-11-11", nefes_key);
    EXPECT_EQ(integer(nefes.at("conversations")), 1);
    EXPECT_EQ(integer(nefes.at("messages").at("customer")), 2);
    EXPECT_EQ(integer(nefes.at("handoff").at("count")), 0);
    const std::string nefes_text = json::serialize(nefes), gece_text = json::serialize(f);
    EXPECT_EQ(nefes_text.find("qwzx"), std::string::npos);
    EXPECT_EQ(nefes_text.find("get_product_info"), std::string::npos);
    EXPECT_EQ(gece_text.find("zzyzx"), std::string::npos);
    ASSERT_EQ(nefes.at("unanswered").as_array().size(), 1u) << nefes_text;
    EXPECT_EQ(nefes.at("unanswered").as_array()[0].at("text").as_string(), "zzyzx plonk vurt");
    // A key for every tenant reads either.
    EXPECT_EQ(
        integer(
            figures("nefes-studyo", "?from=2026-11-10&to=2026-11-11", all_tenants_key).at("conversations")),
        1);
}

TEST_P(Analytics, AModelsCostTheCacheAndAFallbackAreCountedAsTheClientWasTold) {
    // gece-butik on a remote model (the fake OpenAI server), the offline assistant behind it.
    FakeOpenAi model;
    model.push_back(FakeOpenAiBehaviour::error(500, "server_error", "down for a moment"));
    edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
        v.as_object()["llm"] = json::object{{"provider", "openai"},
                                            {"api_key", "k"},
                                            {"base_url", model.base_url()},
                                            {"model", "gpt-4o-mini"},
                                            {"max_retries", 0}};
    });
    auto process = serve("2026-11-10T15:00:00+03:00");
    ASSERT_GT(port, 0);
    say("gece-butik", "f1", "saten gecelik ne kadar?");  // the model fails: the offline assistant answers
    const std::size_t calls_before = model.request_count();
    say("gece-butik", "c1", "iade koşulları neler?");  // the model answers
    const auto model_calls = static_cast<std::int64_t>(model.request_count() - calls_before);
    say("gece-butik", "c2", "iade koşulları neler?");  // from the response cache
    ASSERT_EQ(sent[0].reply.at("method").as_string(), "fallback") << json::serialize(sent[0].reply);
    ASSERT_EQ(sent[1].reply.at("method").as_string(), "llm") << json::serialize(sent[1].reply);
    ASSERT_EQ(sent[2].reply.at("method").as_string(), "cache") << json::serialize(sent[2].reply);
    const double charged = number(sent[1].reply.at("usage").at("cost_usd"));
    ASSERT_GT(charged, 0.0);

    auto f = figures("gece-butik", "?from=2026-11-10&to=2026-11-10", gece_key);
    const auto& methods = f.at("replies_by_method").as_object();
    EXPECT_EQ(integer(methods.at("fallback")), 1);
    EXPECT_EQ(integer(methods.at("llm")), 1);
    EXPECT_EQ(integer(methods.at("cache")), 1);
    EXPECT_EQ(integer(methods.at("intent")), 0);
    const auto& cache = f.at("cache").as_object();
    EXPECT_EQ(integer(cache.at("hits")), 1);
    EXPECT_EQ(integer(cache.at("replies")), 3);
    EXPECT_NEAR(number(cache.at("hit_rate")), 0.3333, 1e-9);

    // Cost by model: the model's calls of the answered turn, at what the client was charged.
    const json::object* remote = nullptr;
    for (const auto& line : f.at("cost").as_array())
        if (line.at("provider").as_string() == "openai") remote = &line.as_object();
    ASSERT_NE(remote, nullptr) << json::serialize(f.at("cost"));
    EXPECT_EQ(remote->at("model").as_string(), "gpt-4o-mini");
    EXPECT_EQ(integer(remote->at("calls")), model_calls);
    EXPECT_NEAR(number(remote->at("cost_usd")), charged, 1e-9);
    EXPECT_EQ(f.at("cost").as_array().front(), json::value(*remote)) << "most expensive first";
    EXPECT_NEAR(number(f.at("by_day").as_array().at(0).at("cost_usd")), charged, 1e-9);

    // The fallback's question is one the assistant could not answer.
    const auto& unanswered = f.at("unanswered").as_array();
    ASSERT_EQ(unanswered.size(), 1u) << json::serialize(unanswered);
    EXPECT_EQ(unanswered[0].at("text").as_string(), "saten gecelik ne kadar?");
}

TEST_P(Analytics, HandoffReasonsComeFromTickets) {
    auto process = serve("2026-11-10T12:00:00+03:00");
    ASSERT_GT(port, 0);
    say("gece-butik", "bob", "can I talk to a human");
    say("gece-butik", "ayse", "merhaba");
    say("nefes-studyo", "nur", "merhaba");
    // Without tickets: the count from the replies' handoff flag, no reasons.
    auto before = figures("gece-butik", "?from=2026-11-10&to=2026-11-10", gece_key);
    EXPECT_EQ(integer(before.at("handoff").at("count")), 1);
    EXPECT_TRUE(before.at("handoff").at("reasons").as_array().empty());

    // Tickets as the handoff tool stores them (schema version 10), written here directly: the
    // tenant does not enable the tool, so these are the only ones.
    auto sql = engine::testing::open_sql_session(scratch->url());
    ASSERT_TRUE(sql);
    // 10 November 12:00 in Istanbul, in ms; and one of the day before, and one of the other tenant.
    const long long noon = 1794301200000LL;
    const std::string bob_conversation(sent[0].reply.at("conversation_id").as_string());
    const std::string ayse_conversation(sent[1].reply.at("conversation_id").as_string());
    auto ticket = [&](const std::string& id, const std::string& tenant, const std::string& conversation,
                      const std::string& reason, long long at) {
        *sql << "INSERT INTO tickets (id, tenant_id, conversation_id, user_id, channel, reason, category, "
                "priority, status, assignee, transcript, created_at, updated_at) VALUES (:i, :t, :c, 'u', "
                "'api', "
                ":r, '', 'medium', 'open', '', '[]', :a, :a2)",
            soci::use(id), soci::use(tenant), soci::use(conversation), soci::use(reason), soci::use(at),
            soci::use(at);
    };
    ticket("t1", "gece-butik", bob_conversation, "customer asked for a person", noon);
    ticket("t2", "gece-butik", ayse_conversation, "complaint", noon + 1000);
    ticket("t3", "gece-butik", ayse_conversation, "complaint", noon + 2000);
    ticket("t4", "gece-butik", ayse_conversation, "old", noon - 24LL * 3600 * 1000);
    ticket("t5", "nefes-studyo", "elsewhere", "injury", noon);

    auto after = figures("gece-butik", "?from=2026-11-10&to=2026-11-10", gece_key);
    EXPECT_EQ(integer(after.at("handoff").at("count")), 2);  // bob's and ayse's conversations
    EXPECT_NEAR(number(after.at("handoff").at("rate")), 1.0, 1e-9);
    const auto& reasons = after.at("handoff").at("reasons").as_array();
    ASSERT_EQ(reasons.size(), 2u) << json::serialize(reasons);
    EXPECT_EQ(reasons[0].at("reason").as_string(), "complaint");
    EXPECT_EQ(integer(reasons[0].at("count")), 2);
    EXPECT_EQ(reasons[1].at("reason").as_string(), "customer asked for a person");
    EXPECT_EQ(integer(reasons[1].at("count")), 1);
    EXPECT_EQ(json::serialize(after).find("injury"), std::string::npos);
}

TEST_P(Analytics, AppointmentsAreCountedByTheLocalDayTheyStartOnByServiceAndResource) {
    auto process = serve("2026-11-10T12:00:00+03:00");
    ASSERT_GT(port, 0);
    // Appointments as the booking service stores them (schema 14), written here directly.
    auto sql = engine::testing::open_sql_session(scratch->url());
    ASSERT_TRUE(sql);
    const long long noon = 1794301200000LL;  // 10 November 12:00 in Istanbul
    const long long hour = 3600LL * 1000;
    int n = 0;
    auto appointment = [&](const std::string& tenant, const std::string& service, const std::string& resource,
                           const std::string& status, long long start) {
        const std::string id = "apt_" + std::to_string(1000000000000000LL + ++n);
        const long long end = start + 50 * 60 * 1000;
        const long long booked_at = noon - 48 * hour;
        *sql << "INSERT INTO appointments (id, tenant_id, service_id, resource_id, start_at, end_at, "
                "buffer_minutes, customer_name, customer_phone, notes, status, channel, user_id, "
                "conversation_id, created_at, updated_at) VALUES (:i, :t, :s, :r, :a, :e, 10, 'Elif', "
                "'+905551112233', '', :st, 'api', 'u', '', :c, :u)",
            soci::use(id), soci::use(tenant), soci::use(service), soci::use(resource), soci::use(start),
            soci::use(end), soci::use(status), soci::use(booked_at), soci::use(booked_at);
    };
    // 10 November (Istanbul): 3 reformer with Ayşe (2 confirmed, 1 completed), 1 reformer cancelled,
    // 1 mat class in Salon A missed, 1 duet with Ayşe completed.
    appointment("nefes-studyo", "reformer-pilates", "ayse", "confirmed", noon);
    appointment("nefes-studyo", "reformer-pilates", "ayse", "confirmed", noon + hour);
    appointment("nefes-studyo", "reformer-pilates", "ayse", "completed", noon - 2 * hour);
    appointment("nefes-studyo", "reformer-pilates", "ayse", "cancelled", noon + 2 * hour);
    appointment("nefes-studyo", "mat-pilates", "salon-a", "no_show", noon + 7 * hour);
    appointment("nefes-studyo", "reformer-duet", "ayse", "completed", noon - 3 * hour);
    // 00:30 on 11 November in Istanbul is still 10 November in UTC: the next day's.
    appointment("nefes-studyo", "reformer-pilates", "ayse", "confirmed", noon + 12 * hour + hour / 2);
    // 23:30 on 9 November: the day before.
    appointment("nefes-studyo", "reformer-pilates", "ayse", "confirmed", noon - 12 * hour - hour / 2);
    // Another tenant's, at the same time.
    appointment("gece-butik", "reformer-pilates", "ayse", "confirmed", noon);

    auto day = figures("nefes-studyo", "?from=2026-11-10&to=2026-11-10", nefes_key);
    ASSERT_TRUE(day.contains("appointments")) << json::serialize(day);
    const auto& a = day.at("appointments").as_object();
    EXPECT_EQ(integer(a.at("booked")), 5) << json::serialize(a);  // confirmed + completed + no-show
    EXPECT_EQ(integer(a.at("cancelled")), 1);
    EXPECT_EQ(integer(a.at("completed")), 2);
    EXPECT_EQ(integer(a.at("no_shows")), 1);
    EXPECT_NEAR(number(a.at("cancellation_rate")), 1.0 / 6, 1e-4);
    EXPECT_NEAR(number(a.at("no_show_rate")), 0.2, 1e-9);

    const auto& services = a.at("by_service").as_array();
    ASSERT_EQ(services.size(), 3u) << json::serialize(services);
    EXPECT_EQ(services[0].at("service"), "reformer-pilates");  // most booked first
    EXPECT_EQ(services[0].at("name"), "Reformer Pilates (Birebir)");
    EXPECT_EQ(integer(services[0].at("booked")), 3);
    EXPECT_EQ(integer(services[0].at("cancelled")), 1);
    EXPECT_EQ(integer(services[0].at("completed")), 1);
    const auto& resources = a.at("by_resource").as_array();
    ASSERT_EQ(resources.size(), 2u) << json::serialize(resources);
    EXPECT_EQ(resources[0].at("resource"), "ayse");
    EXPECT_EQ(resources[0].at("name"), "Ayşe Demir");
    EXPECT_EQ(integer(resources[0].at("booked")), 4);
    EXPECT_EQ(integer(resources[0].at("cancelled")), 1);
    EXPECT_EQ(resources[1].at("resource"), "salon-a");
    EXPECT_EQ(resources[1].at("name"), "Salon A");
    EXPECT_EQ(integer(resources[1].at("no_shows")), 1);

    // Three days: the one before and the one after join in; the other tenant never does.
    auto three = figures("nefes-studyo", "?from=2026-11-09&to=2026-11-11", nefes_key);
    EXPECT_EQ(integer(three.at("appointments").at("booked")), 7);
    auto other = figures("gece-butik", "?from=2026-11-09&to=2026-11-11", gece_key);
    EXPECT_EQ(integer(other.at("appointments").at("booked")), 1);
    EXPECT_TRUE(other.at("appointments").at("by_resource").at(0).at("name").as_string().empty());
}

TEST_P(Analytics, KeysAreCheckedAndBadRangesAreRefusedNamingTheField) {
    auto process = serve("2026-11-10T12:00:00+03:00");
    ASSERT_GT(port, 0);
    say("gece-butik", "ayse", "merhaba");
    const std::string range = "?from=2026-11-10&to=2026-11-10";

    auto none = analytics("gece-butik", range, "");
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.error_code(), "unauthorized");
    EXPECT_EQ(analytics("gece-butik", range, "tzk_0000000000000000_" + std::string(64, '0')).status, 401);
    for (const auto& [key, why] : {std::pair{nefes_key, "another tenant's key"},
                                   std::pair{gece_without_scope, "a key without analytics:read"}}) {
        auto refused = analytics("gece-butik", range, key);
        EXPECT_EQ(refused.status, 403) << why;
        EXPECT_EQ(refused.error_code(), "forbidden") << why;
        EXPECT_EQ(refused.body.find("conversations\""), std::string::npos) << why;
    }
    auto unknown = analytics("no-such-shop", range, all_tenants_key);
    EXPECT_EQ(unknown.status, 404) << unknown.body;

    struct Bad {
        std::string query;
        std::string field;
    };
    for (const auto& bad : std::vector<Bad>{{"?from=2026-13-01&to=2026-11-10", "from"},
                                            {"?from=2026-02-30", "from"},
                                            {"?from=2026-11-10&to=yesterday", "to"},
                                            {"?to=10.11.2026", "to"},
                                            {"?from=2026-11-11&to=2026-11-10", "from"},
                                            {"?from=2025-11-01&to=2026-11-10", "366"}}) {
        auto refused = analytics("gece-butik", bad.query, gece_key);
        EXPECT_EQ(refused.status, 400) << bad.query << " " << refused.body;
        EXPECT_EQ(refused.error_code(), "invalid_field") << bad.query;
        const auto v = refused.json();
        ASSERT_TRUE(v.is_object()) << refused.body;
        const std::string message(v.at("error").at("message").as_string());
        EXPECT_NE(message.find(bad.field), std::string::npos) << bad.query << ": " << message;
        EXPECT_FALSE(v.at("error").at("request_id").as_string().empty());
    }
    // 366 days is the most: a leap year's whole.
    EXPECT_EQ(analytics("gece-butik", "?from=2024-01-01&to=2024-12-31", gece_key).status, 200);
    auto posted = http_request(port, "POST", "/v1/tenants/gece-butik/analytics", "{}",
                               {{"Authorization", "Bearer " + gece_key}});
    EXPECT_EQ(posted.status, 405);
}

TEST_P(Analytics, TheQueriesAreServedByIndexes) {
    // Migration 13: a tenant's messages by time, and a reply's tool calls and usage by its id.
    auto sql = engine::testing::open_sql_session(scratch->url());
    ASSERT_TRUE(sql);
    const bool sqlite = GetParam() == Backend::sqlite;
    if (!sqlite) *sql << "SET enable_seqscan = off";  // tables this small would be scanned anyway
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"messages_tenant_at", "SELECT COUNT(*) FROM messages WHERE tenant_id = 'x' AND at >= 1 AND at < 2"},
        {"tool_calls_message", "SELECT COUNT(*) FROM tool_calls WHERE tenant_id = 'x' AND message_id = 'm'"},
        {"usage_message", "SELECT COUNT(*) FROM usage WHERE tenant_id = 'x' AND message_id = 'm'"},
    };
    for (const auto& [index, query] : cases) {
        std::string plan, line;
        if (sqlite) {
            int id = 0, parent = 0, unused = 0;
            soci::statement st = (sql->prepare << "EXPLAIN QUERY PLAN " + query, soci::into(id),
                                  soci::into(parent), soci::into(unused), soci::into(line));
            st.execute();
            while (st.fetch()) plan += line + "\n";
        } else {
            soci::statement st = (sql->prepare << "EXPLAIN " + query, soci::into(line));
            st.execute();
            while (st.fetch()) plan += line + "\n";
        }
        EXPECT_NE(plan.find(index), std::string::npos) << query << "\n" << plan;
    }
}

TEZGAH_STORE_BACKENDS(Analytics);

}  // namespace
}  // namespace tezgah::testing
