// The conversations list and a conversation as the console reads them, over real HTTP against
// `tezgah serve` on both databases: the filters (state, channel, days in the tenant's zone, text
// with Turkish letters, assignee), what each item carries (last message, count, open ticket,
// agent, customer's name), paging 1,000 conversations without duplicates or gaps within the
// inbox's time, and a reply's tool calls and handoff from real turns.
#include "console_reads/console_reads_fixture.hpp"

#include "store/agents.hpp"

#include <chrono>
#include <set>

namespace tezgah::testing {
namespace {

class ConversationsList : public ConsoleReads {
protected:
    void SetUp() override {
        ConsoleReads::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        reader = key("gece-butik", {"conversations:read"});
        writer_only = key("gece-butik", {"conversations:write", "analytics:read"});
        studio = key("nefes-studyo", {"conversations:read"});
    }

    /// Three days of a shop's conversations in Europe/Istanbul (UTC+3), and one of the studio's.
    void seed() {
        ConversationRow c1{"c-1",
                           "gece-butik",
                           "u-ayse",
                           "api",
                           "bot",
                           ms_of("2026-11-28T10:00:00+03:00"),
                           ms_of("2026-11-28T10:01:00+03:00")};
        insert(c1);
        insert(MessageRow{"m-1a", "gece-butik", "c-1", "user", "Merhaba, İPEK gecelik var mı?", "",
                          ms_of("2026-11-28T10:00:00+03:00"), R"({"profile_name": "Ayşe Yılmaz"})"});
        insert(MessageRow{"m-1b", "gece-butik", "c-1", "assistant", "Evet, İpek Gecelik 899 TL.", "intent",
                          ms_of("2026-11-28T10:01:00+03:00"), "", R"({"reply": "Evet", "handoff": false})"});
        *sql
            << "INSERT INTO tool_calls (tenant_id, conversation_id, message_id, tool, arguments, result, ok, "
               "duration_ms, error, at) VALUES ('gece-butik', 'c-1', 'm-1b', 'get_product_info', "
               "'{\"query\": \"ipek gecelik\"}', '{}', 1, 2.5, '', 0)";

        // Handed over on the 30th; last active late that evening.
        ConversationRow c2{"c-2",
                           "gece-butik",
                           "905551112233",
                           "whatsapp-cloud",
                           "handed_over",
                           ms_of("2026-11-30T08:00:00+03:00"),
                           ms_of("2026-11-30T23:30:00+03:00"),
                           ms_of("2026-11-30T09:00:00+03:00")};
        insert(c2);
        insert(MessageRow{"m-2a", "gece-butik", "c-2", "user", "Şikayetim var, siparişim gelmedi", "",
                          ms_of("2026-11-30T08:00:00+03:00")});
        insert(MessageRow{"m-2b", "gece-butik", "c-2", "operator", "Hemen bakıyorum.", "operator",
                          ms_of("2026-11-30T23:30:00+03:00")});
        insert_ticket("tk-old", "gece-butik", "c-2", "resolved", "question", "low",
                      ms_of("2026-11-29T08:00:00+03:00"));
        insert_ticket("tk-1", "gece-butik", "c-2", "open", "complaint", "high",
                      ms_of("2026-11-30T09:00:00+03:00"));

        // Handed over earlier (the 29th) but active later: half an hour after midnight on 1 December
        // in Istanbul, still 30 November in UTC.
        ConversationRow c3{"c-3",
                           "gece-butik",
                           "u-3",
                           "api",
                           "handed_over",
                           ms_of("2026-11-29T11:00:00+03:00"),
                           ms_of("2026-12-01T00:30:00+03:00"),
                           ms_of("2026-11-29T12:00:00+03:00")};
        insert(c3);
        insert(MessageRow{"m-3a", "gece-butik", "c-3", "user", "ipek sabahlık var mı", "",
                          ms_of("2026-12-01T00:30:00+03:00")});
        insert(MessageRow{"m-3b", "gece-butik", "c-3", "assistant", "", "handoff",
                          ms_of("2026-12-01T00:30:00+03:00"), "",
                          R"({"reply": "", "handoff": true})"});  // silent while a person has it

        // A month ago: a long message, and a customer known by the appointment they booked.
        ConversationRow c5{"c-5", "gece-butik", "u-5", "api", "closed", ms_of("2026-11-01T10:00:00+03:00")};
        insert(c5);
        std::string long_text;
        while (long_text.size() < 600) long_text += "çok güzel bir gecelik arıyorum ";
        insert(MessageRow{"m-5a", "gece-butik", "c-5", "user", long_text, "",
                          ms_of("2026-11-01T10:00:00+03:00")});
        *sql << "INSERT INTO appointments (id, tenant_id, service_id, resource_id, start_at, end_at, "
                "customer_name, customer_phone, status, user_id, created_at, updated_at) VALUES ('apt-1', "
                "'gece-butik', 'hediye-paketi', 'x', 0, 0, 'Elif Şahin', '+905550000000', 'confirmed', "
                "'u-5', 0, 0)";

        // c-2 is Selin's (schema 15's conversations.assignee).
        *sql
            << "INSERT INTO agents (id, tenant_id, name, email, email_key, role, password_hash, created_at, "
               "updated_at) VALUES ('ag_00000000000000a1', 'gece-butik', 'Selin Kaya', 'selin@gece.example', "
               "'selin@gece.example', 'agent', 'x', 0, 0)";
        *sql << "UPDATE conversations SET assignee = 'ag_00000000000000a1' WHERE id = 'c-2'";

        // Another tenant's, with the same words: never in the shop's list.
        insert(ConversationRow{"c-9", "nefes-studyo", "u-9", "api", "handed_over",
                               ms_of("2026-11-30T10:00:00+03:00"), 0, ms_of("2026-11-30T10:00:00+03:00")});
        insert(MessageRow{"m-9a", "nefes-studyo", "c-9", "user", "ipek gecelik şikayet", "",
                          ms_of("2026-11-30T10:00:00+03:00")});
    }

    std::vector<std::string> ids(const std::string& query) {
        auto reply = get("/v1/tenants/gece-butik/conversations" + query, reader);
        EXPECT_EQ(reply.status, 200) << query << ": " << reply.body;
        std::vector<std::string> out;
        if (reply.status != 200) return out;
        const auto list = reply.json().at("conversations").as_array();
        for (const auto& c : list) out.emplace_back(c.at("id").as_string());
        return out;
    }
    json::object item(const std::string& id) {
        auto reply = get("/v1/tenants/gece-butik/conversations?limit=200", reader);
        const auto list = reply.json().at("conversations").as_array();
        for (const auto& c : list)
            if (c.at("id") == json::string(id)) return c.as_object();
        ADD_FAILURE() << id << " not listed: " << reply.body;
        return {};
    }

    std::string reader, writer_only, studio;
};
TEZGAH_STORE_BACKENDS(ConversationsList);

using Ids = std::vector<std::string>;

TEST_P(ConversationsList, FiltersByStateChannelDaysInTheTenantsZoneAndText) {
    seed();
    start();
    EXPECT_EQ(ids(""), (Ids{"c-3", "c-2", "c-1", "c-5"}));
    // The newest handover first, not the latest activity.
    EXPECT_EQ(ids("?status=handed_over"), (Ids{"c-2", "c-3"}));
    EXPECT_EQ(ids("?channel=whatsapp-cloud"), (Ids{"c-2"}));
    EXPECT_EQ(ids("?status=closed"), (Ids{"c-5"}));

    // Days are Istanbul's: c-3's last message (00:30 on 1 December there) is on the 1st.
    EXPECT_EQ(ids("?from=2026-12-01"), (Ids{"c-3"}));
    EXPECT_EQ(ids("?from=2026-11-30&to=2026-11-30"), (Ids{"c-2"}));
    EXPECT_EQ(ids("?to=2026-11-30"), (Ids{"c-2", "c-1", "c-5"}));
    EXPECT_EQ(ids("?from=2026-11-28&to=2026-11-29"), (Ids{"c-1"}));

    // Text in any message, whatever the case, with Turkish letters or their ASCII forms.
    EXPECT_EQ(ids("?q=ipek"), (Ids{"c-3", "c-1"}));
    EXPECT_EQ(ids("?q=%C4%B0PEK"), (Ids{"c-3", "c-1"}));  // İPEK
    EXPECT_EQ(ids("?q=IPEK"), (Ids{"c-3", "c-1"}));
    EXPECT_EQ(ids("?q=%C4%B0PEK+gecelik"), (Ids{"c-1"}));
    EXPECT_EQ(ids("?q=sikayet"), (Ids{"c-2"}));         // "Şikayetim"
    EXPECT_EQ(ids("?q=bak%C4%B1yorum"), (Ids{"c-2"}));  // an operator's message counts too
    EXPECT_EQ(ids("?q=gecelik&status=handed_over"), Ids{});
    EXPECT_EQ(ids("?q=100%25+pamuk"), Ids{});
    EXPECT_EQ(ids("?q=*"), Ids{});  // a pattern character is only itself
    EXPECT_EQ(ids("?q=gecelik&to=2026-11-28"), (Ids{"c-1", "c-5"}));

    // By the agent it is assigned to, or nobody's.
    EXPECT_EQ(ids("?assignee=ag_00000000000000a1"), (Ids{"c-2"}));
    EXPECT_EQ(ids("?assignee=none"), (Ids{"c-3", "c-1", "c-5"}));
    EXPECT_EQ(ids("?assignee=ag_00000000000000ff"), Ids{});
    EXPECT_EQ(ids("?assignee=none&status=handed_over"), (Ids{"c-3"}));
    auto me = get("/v1/tenants/gece-butik/conversations?assignee=me", reader);
    EXPECT_EQ(me.status, 422) << me.body;  // a key is nobody
    EXPECT_EQ(get("/v1/tenants/gece-butik/conversations?assignee=selin", reader).status, 422);

    auto bad_day = get("/v1/tenants/gece-butik/conversations?from=2026-13-01", reader);
    EXPECT_EQ(bad_day.status, 422) << bad_day.body;
    EXPECT_NE(bad_day.body.find("from"), std::string::npos);
    EXPECT_EQ(get("/v1/tenants/gece-butik/conversations?q=" + std::string(201, 'a'), reader).status, 422);
    EXPECT_EQ(ids("?q=" + std::string(200, 'a')), Ids{});
}

TEST_P(ConversationsList, EachItemCarriesWhatTheInboxShows) {
    seed();
    start();
    const auto c1 = item("c-1");
    EXPECT_EQ(c1.at("message_count"), 2);
    EXPECT_EQ(c1.at("last_message").at("from"), "bot");
    EXPECT_EQ(c1.at("last_message").at("text"), "Evet, İpek Gecelik 899 TL.");
    EXPECT_EQ(c1.at("last_message").at("at"), ms_of("2026-11-28T10:01:00+03:00"));
    EXPECT_TRUE(c1.at("ticket").is_null());
    EXPECT_EQ(c1.at("customer_name"), "Ayşe Yılmaz");  // the channel's profile name

    // The latest ticket not resolved.
    const auto c2 = item("c-2");
    ASSERT_TRUE(c2.at("ticket").is_object());
    EXPECT_EQ(c2.at("ticket").at("id"), "tk-1");
    EXPECT_EQ(c2.at("ticket").at("reason"), "complaint");
    EXPECT_EQ(c2.at("ticket").at("priority"), "high");
    EXPECT_EQ(c2.at("ticket").at("status"), "open");
    EXPECT_EQ(c2.at("ticket").at("created_at"), ms_of("2026-11-30T09:00:00+03:00"));
    EXPECT_EQ(c2.at("last_message").at("from"), "operator");
    EXPECT_EQ(c2.at("customer_name"), "");
    ASSERT_TRUE(c2.at("assignee").is_object()) << json::serialize(c2);
    EXPECT_EQ(c2.at("assignee").at("id"), "ag_00000000000000a1");
    EXPECT_EQ(c2.at("assignee").at("name"), "Selin Kaya");
    EXPECT_TRUE(c1.at("assignee").is_null());

    // A silent reply is no message.
    const auto c3 = item("c-3");
    EXPECT_EQ(c3.at("message_count"), 1);
    EXPECT_EQ(c3.at("last_message").at("from"), "customer");

    // A long message is cut at 200 characters; the name comes from the customer's appointment.
    const auto c5 = item("c-5");
    const std::string text(c5.at("last_message").at("text").as_string());
    EXPECT_EQ(sdk::text::length(text), 201u) << text;  // 200 and an ellipsis
    EXPECT_TRUE(text.starts_with("çok güzel bir gecelik"));
    EXPECT_EQ(c5.at("customer_name"), "Elif Şahin");

    // The studio's conversation with the same words is never the shop's.
    EXPECT_EQ(item("c-1").at("id"), "c-1");
    auto listed = get("/v1/tenants/gece-butik/conversations?limit=200", reader);
    EXPECT_EQ(listed.body.find("c-9"), std::string::npos);
}

TEST_P(ConversationsList, ARepliesToolCallsAreOnTheConversation) {
    seed();
    start();
    auto reply = get("/v1/tenants/gece-butik/conversations/c-1", reader);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto messages = reply.json().at("messages").as_array();
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_FALSE(messages[0].as_object().contains("tool_calls"));  // the customer's
    const auto& calls = messages[1].at("tool_calls").as_array();
    ASSERT_EQ(calls.size(), 1u) << reply.body;
    EXPECT_EQ(calls[0].at("name"), "get_product_info");
    EXPECT_EQ(calls[0].at("arguments").at("query"), "ipek gecelik");
    EXPECT_EQ(calls[0].at("ok"), true);
    EXPECT_FALSE(messages[1].as_object().contains("handoff"));
    EXPECT_TRUE(reply.json().at("assignee").is_null());
    auto assigned = get("/v1/tenants/gece-butik/conversations/c-2", reader);
    ASSERT_EQ(assigned.status, 200) << assigned.body;
    EXPECT_EQ(assigned.json().at("assignee").at("name"), "Selin Kaya");
}

TEST_P(ConversationsList, AnAgentSignedInReadsItsTenantAndFindsWhatIsAssignedToIt) {
    seed();
    auto agent = engine::create_agent(*db,
                                      engine::NewAgent{"gece-butik", "Deniz Ak", "deniz@gece.example",
                                                       "dogru-parola-123", engine::kRoleAgent},
                                      std::chrono::system_clock::now());
    ASSERT_TRUE(agent.ok()) << agent.error().message;
    *sql << "UPDATE conversations SET assignee = :a WHERE id = 'c-1'", soci::use(agent->id);
    start();
    auto signed_in = post("/v1/tenants/gece-butik/session",
                          R"({"email": "deniz@gece.example", "password": "dogru-parola-123"})");
    ASSERT_EQ(signed_in.status, 200) << signed_in.body;
    const std::string cookie =
        signed_in.header("set-cookie").substr(0, signed_in.header("set-cookie").find(';'));
    ASSERT_TRUE(cookie.starts_with("tezgah_session=")) << cookie;
    auto as_agent = [&](const std::string& path) {
        return http_request(port, "GET", path, "", {{"Cookie", cookie}});
    };

    auto mine = as_agent("/v1/tenants/gece-butik/conversations?assignee=me");
    ASSERT_EQ(mine.status, 200) << mine.body;
    const auto list = mine.json().at("conversations").as_array();
    ASSERT_EQ(list.size(), 1u) << mine.body;
    EXPECT_EQ(list[0].at("id"), "c-1");
    EXPECT_EQ(list[0].at("assignee").at("name"), "Deniz Ak");

    // The tenant's reads answer the agent's session, for its own tenant only.
    auto tenants = as_agent("/v1/tenants");
    ASSERT_EQ(tenants.status, 200) << tenants.body;
    EXPECT_EQ(tenants.json().at("tenants").as_array().size(), 1u);
    EXPECT_EQ(tenants.json().at("tenants").as_array()[0].at("id"), "gece-butik");
    EXPECT_EQ(as_agent("/v1/tenants/gece-butik/offerings?q=ipek").status, 200);
    EXPECT_EQ(as_agent("/v1/tenants/nefes-studyo").status, 403);
    // An agent has no analytics:read.
    EXPECT_EQ(as_agent("/v1/tenants/gece-butik/analytics").status, 403);
}

TEST_P(ConversationsList, TheRoutesNeedAKeyOfTheTenantWithConversationsRead) {
    seed();
    start();
    for (const std::string path : {"/conversations", "/conversations/c-1"}) {
        SCOPED_TRACE(path);
        EXPECT_EQ(get("/v1/tenants/gece-butik" + path, "").status, 401);
        auto other = get("/v1/tenants/gece-butik" + path, studio);
        EXPECT_EQ(other.status, 403);
        EXPECT_EQ(other.body.find("Şikayet"), std::string::npos);
        EXPECT_EQ(get("/v1/tenants/gece-butik" + path, writer_only).status, 403);
        EXPECT_EQ(get("/v1/tenants/gece-butik" + path, reader).status, 200);
    }
}

TEST_P(ConversationsList, AThousandConversationsArePagedWithoutDuplicatesOrGapsAndQuickly) {
    // Two conversations share each minute, so the order's ties are broken by id across pages.
    const long long start_ms = ms_of("2026-11-01T09:00:00+03:00");
    *sql << "BEGIN";
    for (int i = 0; i < 1000; ++i) {
        const std::string id = "c-" + std::to_string(10000 + i);
        const long long at = start_ms + (i / 2) * 60 * 1000LL;
        ConversationRow c{id,
                          "gece-butik",
                          "u-" + std::to_string(i),
                          i % 3 == 0 ? "whatsapp-cloud" : "api",
                          i % 4 == 0 ? "handed_over" : "bot",
                          at,
                          at,
                          i % 4 == 0 ? at - (i % 8) * 1000LL : 0};
        insert(c);
        for (int m = 0; m < 4; ++m)
            insert(MessageRow{id + "-" + std::to_string(m), "gece-butik", id,
                              m % 2 == 0 ? "user" : "assistant",
                              m == 0 ? "Merhaba, gecelik bakıyorum " + std::to_string(i) : "Buyurun.",
                              m % 2 == 0 ? "" : "intent", at - (3 - m) * 1000LL});
        if (i % 4 == 0) insert_ticket("tk-" + id, "gece-butik", id, "open", "asked_for_human", "medium", at);
    }
    *sql << "COMMIT";
    start();

    for (const std::string filter : {"", "status=handed_over", "channel=whatsapp-cloud", "q=gecelik"}) {
        SCOPED_TRACE(filter);
        std::vector<std::string> seen;
        std::string cursor;
        double slowest_ms = 0, first_ms = 0;
        int pages = 0;
        do {
            const std::string path = "/v1/tenants/gece-butik/conversations?limit=50" +
                                     (filter.empty() ? "" : "&" + filter) +
                                     (cursor.empty() ? "" : "&cursor=" + cursor);
            const auto began = std::chrono::steady_clock::now();
            auto page = get(path, reader);
            const double ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
            slowest_ms = std::max(slowest_ms, ms);
            if (pages == 0) first_ms = ms;
            ASSERT_EQ(page.status, 200) << page.body;
            const auto body = page.json();
            for (const auto& c : body.at("conversations").as_array()) {
                seen.emplace_back(c.at("id").as_string());
                EXPECT_EQ(c.at("message_count"), 4);
            }
            cursor = body.at("next").is_null() ? "" : std::string(body.at("next").as_string());
            ++pages;
        } while (!cursor.empty() && pages < 100);
        const std::size_t expected = filter == "status=handed_over"  ? 250
                                     : filter.starts_with("channel") ? 334
                                                                     : 1000;
        EXPECT_EQ(seen.size(), expected);
        EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), expected) << "a conversation twice";
        // The inbox's first load is one page: well within a second on loopback.
        EXPECT_LT(slowest_ms, 1000) << "the slowest page of 50 took " << slowest_ms << " ms";
        std::printf("[ figures ] %s %s: %d pages of 50, the first %.1f ms, the slowest %.1f ms\n",
                    GetParam() == Backend::sqlite ? "sqlite" : "postgresql",
                    filter.empty() ? "(no filter)" : filter.c_str(), pages, first_ms, slowest_ms);
    }
}

/// Real turns through `tezgah serve`: the offline assistant calls the catalog tool, and the handoff
/// tool hands the conversation over.
class ConversationTurns : public ConsoleReads {
protected:
    void SetUp() override {
        ConsoleReads::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [](json::value& v) {
            v.at("tools").as_array().push_back(json::object{{"name", "handoff"}});
        });
        reader = key("gece-butik", {"conversations:read"});
        start();
    }
    std::string reader;
};
TEZGAH_STORE_BACKENDS(ConversationTurns);

TEST_P(ConversationTurns, AReplyShowsTheToolsItCalledAndTheOneThatHandedOver) {
    auto asked =
        post("/v1/tenants/gece-butik/chat", chat_body("saten gecelik ne kadar, stokta var mı?", "t-1"));
    ASSERT_EQ(asked.status, 200) << asked.body;
    const std::string conversation(asked.json().at("conversation_id").as_string());
    ASSERT_FALSE(asked.json().at("tool_calls").as_array().empty()) << asked.body;
    auto person = post("/v1/tenants/gece-butik/chat", chat_body("bir yetkiliyle görüşmek istiyorum", "t-1"));
    ASSERT_EQ(person.status, 200) << person.body;
    ASSERT_EQ(person.json().at("handoff"), true) << person.body;

    auto reply = get("/v1/tenants/gece-butik/conversations/" + conversation, reader);
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto messages = reply.json().at("messages").as_array();
    ASSERT_EQ(messages.size(), 4u) << reply.body;
    const auto& priced = messages[1].as_object();
    EXPECT_EQ(priced.at("from"), "bot");
    ASSERT_FALSE(priced.at("tool_calls").as_array().empty()) << reply.body;
    EXPECT_EQ(priced.at("tool_calls").as_array()[0].at("name"), "get_product_info");
    EXPECT_EQ(priced.at("tool_calls").as_array()[0].at("ok"), true);
    EXPECT_TRUE(priced.at("tool_calls").as_array()[0].at("arguments").is_object());
    EXPECT_FALSE(priced.contains("handoff"));
    const auto& handed = messages[3].as_object();
    EXPECT_EQ(handed.at("handoff"), true) << reply.body;

    // In the list: handed over, with the ticket the handoff opened.
    auto listed = get("/v1/tenants/gece-butik/conversations?status=handed_over", reader);
    ASSERT_EQ(listed.status, 200) << listed.body;
    const auto first = listed.json().at("conversations").as_array().at(0);
    EXPECT_EQ(first.at("id"), json::string(conversation));
    EXPECT_EQ(first.at("message_count"), 4);
    ASSERT_TRUE(first.at("ticket").is_object()) << listed.body;
    EXPECT_EQ(first.at("ticket").at("status"), "open");
}

}  // namespace
}  // namespace tezgah::testing
