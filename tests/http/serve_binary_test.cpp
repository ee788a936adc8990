// `tezgah serve` as a process: the ready line, and SIGTERM finishing a request in flight before
// exiting 0.
#include "http_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

using namespace tezgah::testing;

namespace {

/// The real binary, started with its stdout on a pipe; killed if the test leaves early.
class ServeProcess {
public:
    ServeProcess(const fs::path& dir) {
        int out[2];
        if (::pipe(out) != 0) return;
        const std::string binary = (fs::path(TEZGAH_BINARY_DIR) / "bin" / "tezgah").string();
        const std::string tenants = (dir / "tenants").string();
        const std::string db = "sqlite:" + (dir / "var" / "tezgah.db").string();
        const std::string plugins = plugin_dir().string();
        const std::string log = (dir / "serve.log").string();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (err >= 0) ::dup2(err, STDERR_FILENO);
            ::close(out[0]);
            ::execl(binary.c_str(), binary.c_str(), "serve", "--tenants", tenants.c_str(), "--db", db.c_str(),
                    "--plugins", plugins.c_str(), "--listen", "127.0.0.1:0", static_cast<char*>(nullptr));
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
    const std::string head = "POST /v1/tenants/gece-butik/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10);
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
        for (int n; (n = socket.receiveBytes(buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
    } catch (const std::exception&) {
    }
    EXPECT_EQ(raw_status(answer), 200) << answer;
    EXPECT_NE(answer.find("\"reply\""), std::string::npos) << answer;
    EXPECT_EQ(serve.wait(), 0) << slurp(dir.path() / "serve.log");
}

}  // namespace
