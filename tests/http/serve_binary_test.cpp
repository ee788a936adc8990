// `tezgah serve` as a process: the ready line, SIGTERM finishing a request in flight before
// exiting 0, live edits, a busy port refused, and a message id left in flight by a server killed
// mid-turn (409 until the deadline and the margin have passed, then answered).
#include "http_fixture.hpp"
#include "support/fake_openai.hpp"

#include <Poco/Net/ServerSocket.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

using namespace tezgah::testing;

namespace {

/// The real binary, started with its stdout on a pipe and its stderr in `dir`/serve.log; killed if
/// the test leaves early.
class ServeProcess {
public:
    explicit ServeProcess(const fs::path& dir, const std::string& listen = "127.0.0.1:0",
                          const std::vector<std::string>& more = {}) {
        int out[2];
        if (::pipe(out) != 0) return;
        const std::string binary = (fs::path(TEZGAH_BINARY_DIR) / "bin" / "tezgah").string();
        const std::string tenants = (dir / "tenants").string();
        const std::string db = "sqlite:" + (dir / "var" / "tezgah.db").string();
        const std::string plugins = plugin_dir().string();
        const std::string log = (dir / "serve.log").string();
        std::vector<std::string> args = {binary, "serve",     "--tenants", tenants,    "--db",
                                         db,     "--plugins", plugins,     "--listen", listen};
        args.insert(args.end(), more.begin(), more.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (err >= 0) ::dup2(err, STDERR_FILENO);
            ::close(out[0]);
            ::execv(binary.c_str(), argv.data());
            std::_Exit(127);
        }
        ::close(out[1]);
        stdout_ = ::fdopen(out[0], "r");
    }
    ~ServeProcess() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (stdout_) std::fclose(stdout_);
    }

    /// The first line the server prints (blocks until it is ready or exits).
    std::string ready_line() {
        char line[512] = {0};
        if (stdout_ == nullptr || std::fgets(line, sizeof line, stdout_) == nullptr) return "";
        std::string s = line;
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
        return s;
    }
    void signal(int number) { ::kill(pid_, number); }
    /// The exit status, or -1 when it did not exit normally.
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    pid_t pid_ = -1;
    FILE* stdout_ = nullptr;
    bool reaped_ = false;
};

TEST(ServeBinary, PrintsItsAddressWhenReadyAndFinishesARequestInFlightOnSigterm) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    ServeProcess serve(dir.path());
    const std::string line = serve.ready_line();
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << "ready line: '" << line << "'";
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
    ASSERT_GT(port, 0);
    ASSERT_EQ(http_request(port, "GET", "/health").status, 200);

    // A request in flight: its headers and half its body are sent.
    const std::string body = chat_body("merhaba", "sigterm-user");
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    const std::string head =
        "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10);
    socket.sendBytes(head.data(), static_cast<int>(head.size()));
    // Wait until the server is handling it (this request plus the health request itself).
    bool handling = false;
    for (int i = 0; i < 500 && !handling; ++i) {
        auto detailed = http_request(port, "GET", "/health/detailed").json();
        handling = detailed.at("http").at("in_flight").as_int64() >= 2;
    }
    ASSERT_TRUE(handling);

    serve.signal(SIGTERM);
    const std::string rest = body.substr(10);
    socket.sendBytes(rest.data(), static_cast<int>(rest.size()));
    socket.setReceiveTimeout(Poco::Timespan(20, 0));
    std::string answer;
    char buffer[4096];
    try {
        for (int n; (n = socket.receiveBytes(buffer, sizeof buffer)) > 0;)
            answer.append(buffer, static_cast<std::size_t>(n));
    } catch (const std::exception&) {
    }
    EXPECT_EQ(raw_status(answer), 200) << answer;
    EXPECT_NE(answer.find("\"reply\""), std::string::npos) << answer;
    EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
}

/// The reply text to a price question, over HTTP.
std::string price_reply(std::uint16_t port, const std::string& user) {
    auto reply = http_request(port, "POST", "/v1/tenants/gece-butik/chat",
                              chat_body("kadife sabahlık ne kadar?", user));
    return reply.status == 200 ? std::string(reply.json().at("reply").as_string()) : reply.body;
}

void set_robe_price(const fs::path& tenants, double price) {
    edit_json(tenants / "gece-butik" / "data" / "offerings.json", [&](json::value& v) {
        for (auto& o : v.as_array())
            if (o.at("id").as_string() == "kadife-sabahlik") o.as_object()["price"] = price;
    });
}

/// Asks until the reply contains `needle` or `limit` passes.
bool answers_within(std::uint16_t port, const std::string& needle, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        if (price_reply(port, "reload-" + std::to_string(i)).find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

TEST(ServeBinary, EditsAreLiveWithinTwoSecondsAndABadEditKeepsTheLastGoodVersion) {
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    ServeProcess serve(dir.path());
    const std::string line = serve.ready_line();
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
    ASSERT_NE(price_reply(port, "before").find("599"), std::string::npos);

    // A valid edit, no signal: the watcher makes it live.
    set_robe_price(dir.path() / "tenants", 649);
    EXPECT_TRUE(answers_within(port, "649", std::chrono::seconds(2))) << "the edit was not live within 2 s";

    // An edit that fails validation: the last good version keeps answering, and health says why.
    write(dir.path() / "tenants" / "gece-butik" / "tenant.json", "{\"id\": \"gece-butik\", \"name\": ");
    bool reported = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!reported && std::chrono::steady_clock::now() < deadline) {
        auto detailed = http_request(port, "GET", "/health/detailed");
        reported = detailed.body.find("reload_error") != std::string::npos &&
                   detailed.body.find("truncated JSON") != std::string::npos;
        if (!reported) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(reported) << http_request(port, "GET", "/health/detailed").body;
    EXPECT_NE(price_reply(port, "after-bad-edit").find("649"), std::string::npos);
    EXPECT_EQ(http_request(port, "GET", "/health").json().at("status"), "degraded");

    // A new tenant folder appears; SIGHUP reloads at once.
    fs::copy(dir.path() / "tenants" / "nefes-studyo", dir.path() / "tenants" / "nefes-moda",
             fs::copy_options::recursive);
    edit_json(dir.path() / "tenants" / "nefes-moda" / "tenant.json",
              [](json::value& v) { v.as_object()["id"] = "nefes-moda"; });
    serve.signal(SIGHUP);
    bool added = false;
    for (int i = 0; i < 40 && !added; ++i) {
        added =
            http_request(port, "POST", "/v1/tenants/nefes-moda/chat", chat_body("merhaba", "hup")).status ==
            200;
        if (!added) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(added);
    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
}

/// The port of a ready line "tezgah listening on http://127.0.0.1:PORT", or 0.
std::uint16_t port_of(const std::string& ready_line) {
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    if (ready_line.rfind(prefix, 0) != 0) return 0;
    return static_cast<std::uint16_t>(std::stoi(ready_line.substr(prefix.size())));
}

TEST(ServeBinary, RefusesAPortAlreadyInUseAndSaysHowToPickAnother) {
    TempDir first_dir;
    copy_fixtures(first_dir.path() / "tenants");
    ServeProcess first(first_dir.path());
    const std::string first_line = first.ready_line();
    const auto port = port_of(first_line);
    ASSERT_GT(port, 0) << "ready line: '" << first_line << "'";
    const std::string address = "127.0.0.1:" + std::to_string(port);

    // A second server on the same port: it must not start (with SO_REUSEPORT it did, silently, and
    // the kernel split the connections between the two).
    TempDir second_dir;
    copy_fixtures(second_dir.path() / "tenants");
    ServeProcess second(second_dir.path(), address);
    EXPECT_EQ(second.ready_line(), "");  // its standard output closes without a ready line
    EXPECT_EQ(second.wait(), 1);
    const std::string said = slurp(second_dir.path() / "serve.log");
    EXPECT_NE(said.find("tezgah serve: listen on " + address + ": the port is already in use"),
              std::string::npos)
        << said;
    EXPECT_NE(said.find("--listen HOST:PORT"), std::string::npos) << said;

    // Every connection still reaches the first server.
    for (int i = 0; i < 20; ++i) ASSERT_EQ(http_request(port, "GET", "/health").status, 200);
    first.signal(SIGTERM);
    EXPECT_EQ(first.wait(), 0) << slurp(first_dir.path() / "serve.log");

    // A port some other program listens on is refused the same way.
    Poco::Net::ServerSocket other(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string other_address = "127.0.0.1:" + std::to_string(other.address().port());
    TempDir third_dir;
    copy_fixtures(third_dir.path() / "tenants");
    ServeProcess third(third_dir.path(), other_address);
    EXPECT_EQ(third.ready_line(), "");
    EXPECT_EQ(third.wait(), 1);
    EXPECT_NE(slurp(third_dir.path() / "serve.log").find(other_address + ": the port is already in use"),
              std::string::npos);
}

TEST(ServeBinary, AMessageIdInFlightWhenTheServerWasKilledIsAnsweredAfterTheDeadlineAndTheMargin) {
    using namespace std::chrono;
    FakeOpenAi model;
    model.push_back(FakeOpenAiBehaviour::stall(minutes(5)));  // the first attempt's model never answers
    TempDir dir;
    copy_fixtures(dir.path() / "tenants");
    auto use_deadline = [&](int deadline_ms) {
        edit_json(dir.path() / "tenants" / "gece-butik" / "tenant.json", [&](json::value& v) {
            v.as_object()["llm"] =
                json::object{{"provider", "openai"},   {"api_key", "k"},   {"base_url", model.base_url()},
                             {"model", "gpt-4o-mini"}, {"max_retries", 0}, {"deadline_ms", deadline_ms}};
        });
    };
    // The first server gives the turn a long deadline, so it is surely still waiting on the model
    // when it is killed (with 1 s, the fallback could answer first on a busy machine). The restarted
    // server judges the claim by what it is configured with: a deadline of 1 s plus a margin of 4 s.
    use_deadline(60000);
    const auto expiry = milliseconds(1000) + milliseconds(4000);
    const std::string body = json::serialize(
        json::object{{"text", "saten gecelik ne kadar?"}, {"user_id", "killed"}, {"message_id", "m-killed"}});
    const std::string path = "/v1/tenants/gece-butik/chat";

    // The claim is taken after `sent`, when the server stores the message.
    const auto sent = steady_clock::now();
    bool in_flight = false;
    {
        ServeProcess first(dir.path());
        const auto port = port_of(first.ready_line());
        ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");
        std::thread client([&] {
            try {
                http_request(port, "POST", path, body);  // never answered: the server dies
            } catch (const std::exception&) {
            }
        });
        // Once the model has the request, the message is stored and its turn is in flight.
        in_flight = model.wait_for_requests(1);
        first.signal(SIGKILL);
        first.wait();
        client.join();
    }
    ASSERT_TRUE(in_flight) << "the model was never called: " << slurp(dir.path() / "serve.log");

    use_deadline(1000);
    ServeProcess second(dir.path(), "127.0.0.1:0", {"--in-flight-margin-ms", "4000"});
    const auto port = port_of(second.ready_line());
    ASSERT_GT(port, 0) << slurp(dir.path() / "serve.log");

    // Retried as a client would: 409 while the killed attempt might still be answering, then
    // answered. The only waits that are not for an event are these pauses between retries.
    int refused = 0;
    HttpReply answered;
    while (true) {
        auto r = http_request(port, "POST", path, body);
        if (r.status != 409) {
            answered = std::move(r);
            break;
        }
        EXPECT_EQ(r.error_code(), "duplicate_in_flight") << r.body;
        ++refused;
        ASSERT_LT(steady_clock::now() - sent, expiry + seconds(60)) << "still refused: " << r.body;
        std::this_thread::sleep_for(milliseconds(250));
    }
    const auto answered_after = steady_clock::now() - sent;
    ASSERT_EQ(answered.status, 200) << answered.body;
    EXPECT_GE(answered_after, expiry) << "answered before the claim could have expired";
    EXPECT_GT(refused, 0) << "the restart took longer than the claim lasts; nothing was refused";
    const auto reply = answered.json().as_object();
    EXPECT_FALSE(reply.at("reply").as_string().empty());
    EXPECT_GE(model.request_count(), 2u);  // the retry's turn asked the model again

    // Answered now: the same id gets the same reply, and nothing runs again.
    const auto asked = model.request_count();
    auto again = http_request(port, "POST", path, body);
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.json().at("reply"), reply.at("reply"));
    EXPECT_EQ(model.request_count(), asked);
    second.signal(SIGTERM);
    EXPECT_EQ(second.wait(), 0) << slurp(dir.path() / "serve.log");

    // One customer message for the id, and one reply, in the conversation.
    auto db = tezgah::engine::Database::open("sqlite:" + (dir.path() / "var" / "tezgah.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    auto messages =
        (*db)->recent_messages("gece-butik", std::string(reply.at("conversation_id").as_string()), 100);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    ASSERT_EQ(messages->size(), 2u);
    EXPECT_EQ((*messages)[0].role, "user");
    EXPECT_EQ((*messages)[0].text, "saten gecelik ne kadar?");
    EXPECT_EQ((*messages)[1].role, "assistant");
}

}  // namespace
