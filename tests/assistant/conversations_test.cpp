// Conversations with the offline assistant through the real binary, the way a tenant tries them:
// `tezgah chat --json --clock TIME` with the customer's lines on standard input, and
// `tezgah serve --clock TIME` over the chat API. The table (conversations.json) gives each
// conversation's tenant, its moment (day-dependent answers: hours, "yarın", class days, pickup
// dates) and, per turn, what the reply must and must not say. Both paths must pass every turn and
// give the same replies (and options). A turn may name the options and cards its reply offers; a
// customer's "2" or an option's title then picks one. These are development cases; the held-out evaluation is
// heldout_test.cpp.
#include "support/serve_process.hpp"
#include "support/temp_tenants.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <array>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tezgah::testing {
namespace {

namespace json = boost::json;

const fs::path kTable = fs::path(TEZGAH_SOURCE_DIR) / "tests" / "assistant" / "conversations.json";

struct Turn {
    std::string user;
    json::object expect;
};

struct Conversation {
    std::string name, tenant, clock;
    std::vector<Turn> turns;
};

std::vector<Conversation> load_table() {
    std::vector<Conversation> out;
    const auto doc = json::parse(slurp(kTable));
    for (const auto& item : doc.at("conversations").as_array()) {
        const auto& o = item.as_object();
        Conversation c{std::string(o.at("name").as_string()),
                       std::string(o.at("tenant").as_string()),
                       std::string(o.at("clock").as_string()),
                       {}};
        for (const auto& t : o.at("turns").as_array())
            c.turns.push_back({std::string(t.at("user").as_string()), t.as_object()});
        out.push_back(std::move(c));
    }
    return out;
}

/// The fixture tenants and the shipped ones, with their rules and tools, in `dir`/tenants.
void copy_all_tenants(const fs::path& dir) {
    copy_fixtures(dir / "tenants");
    for (const auto& entry : fs::directory_iterator(fs::path(TEZGAH_SOURCE_DIR) / "tenants"))
        if (entry.is_directory())
            fs::copy(entry.path(), dir / "tenants" / entry.path().filename(),
                     fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    fs::create_directories(dir / "var");
}

/// What is wrong with `reply` (one chat reply object) for `turn`; empty when it passes.
std::string check_turn(const Turn& turn, const json::value& reply) {
    if (!reply.is_object() || !reply.as_object().contains("reply"))
        return "not a chat reply: " + json::serialize(reply);
    const std::string text(reply.at("reply").as_string());
    std::string problems;
    if (const auto* all = turn.expect.if_contains("contains")) {
        for (const auto& want : all->as_array()) {
            if (want.is_string()) {
                if (text.find(want.as_string().c_str()) == std::string::npos)
                    problems += " missing \"" + std::string(want.as_string()) + "\";";
                continue;
            }
            bool found = false;
            for (const auto& alternative : want.as_array())
                found = found || text.find(alternative.as_string().c_str()) != std::string::npos;
            if (!found) problems += " none of " + json::serialize(want) + ";";
        }
    }
    if (const auto* none = turn.expect.if_contains("not_contains")) {
        for (const auto& unwanted : none->as_array())
            if (text.find(unwanted.as_string().c_str()) != std::string::npos)
                problems += " says \"" + std::string(unwanted.as_string()) + "\";";
    }
    // "options": the titles the reply offers, in order ([] for none); "cards": its cards' ids.
    for (const auto& [key, field] : {std::pair{"options", "title"}, std::pair{"cards", "id"}}) {
        const auto* want = turn.expect.if_contains(key);
        if (!want) continue;
        json::array got;
        if (const auto* list = reply.as_object().if_contains(key); list && list->is_array())
            for (const auto& item : list->as_array()) got.push_back(item.at(field));
        if (got != want->as_array())
            problems += std::string(" ") + key + " are " + json::serialize(got) + ";";
    }
    if (const auto* handoff = turn.expect.if_contains("handoff"); handoff && reply.at("handoff") != *handoff)
        problems += " handoff is " + json::serialize(reply.at("handoff")) + ";";
    if (const auto* language = turn.expect.if_contains("language");
        language && reply.at("language") != *language)
        problems += " language is " + json::serialize(reply.at("language")) + ";";
    return problems.empty() ? "" : "\"" + turn.user + "\" → \"" + text + "\":" + problems;
}

/// Every turn's reply through `tezgah chat --json`, one process for the conversation.
std::vector<json::value> replies_from_cli(const Conversation& c, const fs::path& dir) {
    const fs::path input = dir / (c.name + ".in");
    std::string lines;
    for (const auto& t : c.turns) lines += t.user + "\n";
    write(input, lines);
    const std::string command = std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah chat --json --tenant " +
                                c.tenant + " --user " + c.name + " --clock " + c.clock + " --tenants " +
                                (dir / "tenants").string() +
                                " --db sqlite:" + (dir / "var" / "chat.db").string() + " --plugins " +
                                plugin_dir().string() + " < " + input.string() + " 2>/dev/null";
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        std::array<char, 4096> buf{};
        while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
        ::pclose(p);
    }
    std::vector<json::value> replies;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        replies.push_back(ec ? json::value(line) : v);
    }
    return replies;
}

/// One turn over the chat API.
json::value reply_from_api(std::uint16_t port, const std::string& tenant, const std::string& user,
                           const std::string& text) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(20, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/v1/tenants/" + tenant + "/chat",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    const std::string body = json::serialize(json::object{{"text", text}, {"user_id", user}});
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::string answer;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
    boost::system::error_code ec;
    auto v = json::parse(answer, ec);
    return ec ? json::value(std::to_string(response.getStatus()) + " " + answer) : v;
}

TEST(Conversations, AnswerRightThroughChatJsonAndTheChatApi) {
    const auto table = load_table();
    ASSERT_GE(table.size(), 10u) << kTable;
    TempDir dir;
    copy_all_tenants(dir.path());

    // The CLI: one process per conversation, each with its own clock.
    std::map<std::string, std::vector<json::value>> cli;
    for (const auto& c : table) {
        cli[c.name] = replies_from_cli(c, dir.path());
        ASSERT_EQ(cli[c.name].size(), c.turns.size())
            << c.name << ": tezgah chat printed another number of replies";
        for (std::size_t i = 0; i < c.turns.size(); ++i) {
            const auto problem = check_turn(c.turns[i], cli[c.name][i]);
            EXPECT_TRUE(problem.empty()) << "tezgah chat, " << c.name << ": " << problem;
        }
    }

    // The chat API: one server per clock, the conversations at that moment as separate customers.
    std::map<std::string, std::vector<const Conversation*>> by_clock;
    for (const auto& c : table) by_clock[c.clock].push_back(&c);
    int server = 0;
    for (const auto& [clock, conversations] : by_clock) {
        const fs::path db = dir.path() / "var" / ("serve" + std::to_string(++server) + ".db");
        ServeProcess serve(dir.path(), "127.0.0.1:0", {"--clock", clock, "--db", "sqlite:" + db.string()});
        const auto port = port_of(serve.ready_line());
        ASSERT_NE(port, 0) << "tezgah serve --clock " << clock
                           << " did not start: " << slurp(dir.path() / "serve.log");
        for (const auto* c : conversations) {
            for (std::size_t i = 0; i < c->turns.size(); ++i) {
                const auto reply = reply_from_api(port, c->tenant, c->name, c->turns[i].user);
                const auto problem = check_turn(c->turns[i], reply);
                EXPECT_TRUE(problem.empty()) << "chat API, " << c->name << ": " << problem;
                // The same engine and clock answer alike whichever way the customer came.
                if (reply.is_object() && cli[c->name][i].is_object()) {
                    EXPECT_EQ(reply.at("reply"), cli[c->name][i].at("reply"))
                        << c->name << ", turn " << i + 1;
                    EXPECT_EQ(reply.at("options"), cli[c->name][i].at("options"))
                        << c->name << ", turn " << i + 1;
                }
            }
        }
    }
}

}  // namespace
}  // namespace tezgah::testing
