// Booking with the offline assistant through the real binary and the real appointments tool, the
// way a customer meets it: `tezgah chat --json --clock` with the customer's lines on standard input
// and `tezgah serve --clock` over the chat API, on a copy of the studio fixture (nefes-studyo) and
// of the shipped salon (makas-kuafor), each with `{"name": "appointments"}` in its tools. The
// conversations book in Turkish and English, change their mind, meet a taken time, list, cancel and
// reschedule; each turn checks what the customer reads, and a later "randevularım" / "my
// appointments" turn checks that the booking is really in the database. Both paths must answer
// every turn alike.
#include "support/serve_process.hpp"
#include "support/temp_tenants.hpp"

#include <Poco/Net/HTTPClientSession.h>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <algorithm>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <array>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace tezgah::testing {
namespace {

namespace json = boost::json;

/// Wednesday 2 December 2026, 09:00 in Istanbul; the salon opens at 09:30 (its rule answers
/// before the assistant while it is closed), so its customers come at 11:00.
constexpr const char* kStudioClock = "2026-12-02T09:00:00+03:00";
constexpr const char* kSalonClock = "2026-12-02T11:00:00+03:00";

struct Turn {
    std::string user;
    std::vector<std::string> contains;
    std::vector<std::string> not_contains;
    std::size_t min_options = 0;  ///< the reply offers at least this many options
};

struct Conversation {
    std::string name;  ///< also the customer's user id
    std::string tenant;
    std::string clock;
    std::vector<Turn> turns;
};

/// In order: later conversations meet what earlier ones booked.
std::vector<Conversation> conversations() {
    return {
        {"deniz",
         "nefes-studyo",
         kStudioClock,
         {{"Merhaba, yarın öğleden sonra reformer için yer var mı?",
           {"3 Aralık Perşembe", "Reformer Pilates", "15:00"},
           {},
           3},
          {"15:00", {"15:00", "adına"}, {}, 0},
          {"Deniz Yılmaz", {"telefon"}, {}, 0},
          {"0532 111 22 33", {"Onaylıyor musunuz?", "Deniz Yılmaz", "15:00"}, {}, 2},
          {"yok 4 olsun", {"16:00", "Onaylıyor musunuz?"}, {"15:00"}, 2},
          {"evet", {"Randevunuz oluşturuldu", "3 Aralık Perşembe 16:00"}, {}, 0},
          {"randevularım", {"3 Aralık Perşembe 16:00", "Reformer"}, {"apt_"}, 0}}},
        {"sam",
         "nefes-studyo",
         kStudioClock,
         {{"Can I book a massage on Friday?", {"Friday, December 4", "Which one shall I book?"}, {}, 3},
          {"3pm", {"15:00", "What name"}, {}, 0},
          {"Sam Lee", {"phone"}, {}, 0},
          {"+44 7700 900123", {"To confirm", "Sam Lee", "+447700900123"}, {}, 2},
          {"actually make it 5pm", {"17:00", "To confirm"}, {}, 2},
          {"yes", {"You're booked", "Friday, December 4 at 17:00"}, {}, 0},
          {"reschedule my massage to Monday 2pm",
           {"Monday, December 7 at 14:00", "Friday, December 4 at 17:00"},
           {},
           0},
          {"my appointments", {"Monday, December 7 at 14:00"}, {"Friday"}, 0}}},
        {"ali",
         "nefes-studyo",
         kStudioClock,
         {// Deniz has 16:00 with Ayşe: the nearest free times are offered, never Deniz's booking.
          {"yarın saat 16:00 reformer randevusu almak istiyorum",
           {"15:00", "17:00"},
           {"Deniz", "Onaylıyor"},
           2},
          {"başka gün olur mu", {"4 Aralık Cuma"}, {}, 2},
          {"vazgeçtim", {"vazgeçtik"}, {}, 0},
          {"randevularım", {"randevunuz yok"}, {"Reformer"}, 0}}},
        {"deniz",
         "nefes-studyo",
         kStudioClock,
         {{"randevumu iptal et", {"3 Aralık Perşembe 16:00", "iptal edeyim mi?"}, {}, 2},
          {"evet", {"iptal edildi"}, {}, 0},
          {"randevularım", {"randevunuz yok"}, {"16:00"}, 0}}},
        {"ayse",
         "makas-kuafor",
         kSalonClock,
         {{"cumartesi manikür randevusu alabilir miyim", {"5 Aralık Cumartesi", "Manikür"}, {}, 3},
          {"1", {"adına"}, {}, 0},
          {"adım Ayşe Kara", {"telefon"}, {}, 0},
          {"05441234567", {"Onaylıyor musunuz?", "Ayşe Kara"}, {}, 2},
          {"evet", {"Randevunuz oluşturuldu", "5 Aralık Cumartesi", "Manikür"}, {}, 0},
          {"randevumu pazar gününe alabilir miyiz", {"6 Aralık Pazar"}, {}, 2},
          {"2", {"randevunuz değişti", "6 Aralık Pazar"}, {}, 0},
          {"randevularım", {"Manikür", "6 Aralık Pazar"}, {"Cumartesi"}, 0}}},
    };
}

/// The studio fixture and the salon, each with the appointments tool on its default settings (the
/// shipped salon's own entry, with its longer notice, is replaced so the turns' times stay valid).
void tenants_with_appointments(const fs::path& dir) {
    copy_fixtures(dir / "tenants");
    fs::copy(fs::path(TEZGAH_SOURCE_DIR) / "tenants" / "makas-kuafor", dir / "tenants" / "makas-kuafor",
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    for (const char* tenant : {"nefes-studyo", "makas-kuafor"})
        edit_json(dir / "tenants" / tenant / "tenant.json", [](json::value& v) {
            auto& tools = v.as_object()["tools"].as_array();
            tools.erase(std::remove_if(tools.begin(), tools.end(),
                                       [](const json::value& tool) {
                                           return tool.is_object() && tool.as_object().contains("name") &&
                                                  tool.as_object().at("name") == "appointments";
                                       }),
                        tools.end());
            tools.push_back(json::object{{"name", "appointments"}});
        });
    fs::create_directories(dir / "var");
}

std::string check_turn(const Turn& turn, const json::value& reply) {
    if (!reply.is_object() || !reply.as_object().contains("reply"))
        return "not a chat reply: " + json::serialize(reply);
    const std::string text(reply.at("reply").as_string());
    std::string problems;
    for (const auto& want : turn.contains)
        if (text.find(want) == std::string::npos) problems += " missing \"" + want + "\";";
    for (const auto& unwanted : turn.not_contains)
        if (text.find(unwanted) != std::string::npos) problems += " says \"" + unwanted + "\";";
    std::size_t options = 0;
    if (const auto* list = reply.as_object().if_contains("options"); list && list->is_array())
        options = list->as_array().size();
    if (options < turn.min_options) problems += " offers " + std::to_string(options) + " option(s);";
    return problems.empty() ? "" : "\"" + turn.user + "\" → \"" + text + "\":" + problems;
}

std::vector<json::value> replies_from_cli(const Conversation& c, const fs::path& dir, int n) {
    const fs::path input = dir / (c.name + std::to_string(n) + ".in");
    std::string lines;
    for (const auto& t : c.turns) lines += t.user + "\n";
    write(input, lines);
    const std::string command =
        std::string(TEZGAH_BINARY_DIR) + "/bin/tezgah chat --json --tenant " + c.tenant + " --user " +
        c.name + " --clock " + c.clock + " --tenants " + (dir / "tenants").string() +
        " --db sqlite:" + (dir / "var" / "chat.db").string() + " --plugins " + plugin_dir().string() + " < " +
        input.string() + " 2>>" + (dir / "chat.log").string();
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        std::array<char, 4096> buf{};
        while (auto got = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), got);
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

TEST(AppointmentsDialogue, BookChangeListCancelAndRescheduleThroughChatAndTheChatApi) {
    TempDir dir;
    tenants_with_appointments(dir.path());
    const auto table = conversations();

    std::vector<std::vector<json::value>> cli;
    int n = 0;
    for (const auto& c : table) {
        cli.push_back(replies_from_cli(c, dir.path(), ++n));
        ASSERT_EQ(cli.back().size(), c.turns.size())
            << c.name << ": tezgah chat printed another number of replies; "
            << slurp(dir.path() / "chat.log");
        for (std::size_t i = 0; i < c.turns.size(); ++i) {
            const auto problem = check_turn(c.turns[i], cli.back()[i]);
            EXPECT_TRUE(problem.empty()) << "tezgah chat, " << c.name << ": " << problem;
        }
    }

    // The chat API: one server per clock, the conversations at that moment in the same order.
    const fs::path db = dir.path() / "var" / "serve.db";
    for (const char* clock : {kStudioClock, kSalonClock}) {
        ServeProcess serve(dir.path(), "127.0.0.1:0", {"--clock", clock, "--db", "sqlite:" + db.string()});
        const auto port = port_of(serve.ready_line());
        ASSERT_NE(port, 0) << "tezgah serve did not start: " << slurp(dir.path() / "serve.log");
        for (std::size_t k = 0; k < table.size(); ++k) {
            const auto& c = table[k];
            if (c.clock != clock) continue;
            for (std::size_t i = 0; i < c.turns.size(); ++i) {
                const auto reply = reply_from_api(port, c.tenant, c.name, c.turns[i].user);
                const auto problem = check_turn(c.turns[i], reply);
                EXPECT_TRUE(problem.empty()) << "chat API, " << c.name << ": " << problem;
                if (reply.is_object() && cli[k][i].is_object()) {
                    EXPECT_EQ(reply.at("reply"), cli[k][i].at("reply")) << c.name << ", turn " << i + 1;
                }
            }
        }
    }
}

}  // namespace
}  // namespace tezgah::testing
