#pragma once
// What the edit tests share: the fixture tenants in a temporary folder, API keys made in the
// database before the server starts, and `tezgah serve` on that database (SQLite or a throwaway
// PostgreSQL). When the tests run as root the server runs as `nobody`, so that a read-only folder
// is read-only to it (root writes anywhere).

#include "http/http_fixture.hpp"
#include "store/api_keys.hpp"
#include "store/store_fixture.hpp"
#include "support/temp_tenants.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace tezgah::testing {

using engine::Backend;

inline constexpr uid_t kNobody = 65534;

/// `tezgah serve` as a child process (as `nobody` when we are root); killed with the object.
class EditServer {
public:
    EditServer(const fs::path& dir, const std::string& db_url, const std::vector<std::string>& env = {},
               const std::string& log_name = "serve.log") {
        int out[2];
        if (::pipe(out) != 0) return;
        const std::string binary = (fs::path(TEZGAH_BINARY_DIR) / "bin" / "tezgah").string();
        std::vector<std::string> args = {binary,     "serve",      "--tenants", (dir / "tenants").string(),
                                         "--db",     db_url,       "--plugins", plugin_dir().string(),
                                         "--listen", "127.0.0.1:0"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const std::string log = (dir / log_name).string();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (err >= 0) ::dup2(err, STDERR_FILENO);
            ::close(out[0]);
            for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
            if (::geteuid() == 0 && (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) std::_Exit(126);
            ::execv(binary.c_str(), argv.data());
            std::_Exit(127);
        }
        ::close(out[1]);
        FILE* stdout_file = ::fdopen(out[0], "r");
        char line[512] = {0};
        if (stdout_file != nullptr && std::fgets(line, sizeof line, stdout_file) != nullptr)
            port_ = port_of(line);
        if (stdout_file != nullptr) std::fclose(stdout_file);
    }
    ~EditServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    std::uint16_t port() const { return port_; }

private:
    static std::uint16_t port_of(std::string line) {
        const std::string prefix = "tezgah listening on http://127.0.0.1:";
        if (line.rfind(prefix, 0) != 0) return 0;
        return static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
    }
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
};

/// Gives the folder to the server's user (see EditServer) when we are root, writable by it (the
/// shared fixtures are read-only).
inline void hand_to_server(const fs::path& dir) {
    std::vector<fs::path> paths{dir};
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it)
        paths.push_back(it->path());
    for (const auto& path : paths) {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_write, fs::perm_options::add, ec);
        if (::geteuid() == 0) (void)::lchown(path.c_str(), kNobody, kNobody);
    }
}

/// A test on each backend: the fixture tenants, keys, and a server started by serve().
class EditsTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        if (GetParam() == Backend::postgresql && engine::testing::PostgresServer::instance().skipped())
            GTEST_SKIP() << "TEZGAH_SKIP_PG=1";
        scratch = std::make_unique<engine::testing::ScratchDatabase>(GetParam());
        ASSERT_TRUE(scratch->error().empty()) << scratch->error();
        copy_fixtures(dir.path() / "tenants");
        fs::create_directories(dir.path() / "var");
        db_url = GetParam() == Backend::sqlite ? "sqlite:" + (dir.path() / "var" / "tezgah.db").string()
                                               : scratch->url();
        auto db = engine::Database::open(db_url);
        ASSERT_TRUE(db) << db.error().message;
        const auto now = std::chrono::system_clock::now();
        const auto key = [&](const std::string& name, const std::string& tenant,
                             const std::vector<std::string>& scopes) {
            auto made = engine::create_api_key(**db, name, tenant, scopes, now);
            EXPECT_TRUE(made) << made.error().message;
            return made ? "Bearer " + made->secret : std::string();
        };
        gece = key("gece staff", "gece-butik", {"catalog:write", "knowledge:write", "analytics:read"});
        nefes = key("nefes staff", "nefes-studyo", {"catalog:write", "knowledge:write", "analytics:read"});
        gece_reader = key("gece reader", "gece-butik", {"analytics:read", "conversations:read"});
        every = key("operator", "", {"catalog:write", "knowledge:write", "analytics:read"});
    }

    /// Starts the server (after the test edited the folder as it likes).
    void serve(const std::vector<std::string>& env = {}) {
        hand_to_server(dir.path());
        server = std::make_unique<EditServer>(dir.path(), db_url, env);
        port = server->port();
        ASSERT_NE(port, 0) << slurp(dir.path() / "serve.log");
    }

    HttpReply call(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& auth, const std::string& content_type = "application/json") {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!auth.empty()) headers.emplace_back("Authorization", auth);
        if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
        return http_request(port, method, path, body, headers);
    }

    /// One customer message through the chat API: the reply's text.
    std::string ask(const std::string& text, const std::string& user) {
        auto reply = http_request(port, "POST", "/v1/tenants/gece-butik/chat", chat_body(text, user));
        EXPECT_EQ(reply.status, 200) << reply.body;
        auto value = reply.json();
        return value.is_object() ? std::string(value.at("reply").as_string()) : reply.body;
    }

    fs::path tenant_file(const std::string& relative) const {
        return dir.path() / "tenants" / "gece-butik" / relative;
    }
    json::value on_disk(const std::string& relative) const {
        return json::parse(slurp(tenant_file(relative)));
    }

    /// `tezgah check` of the tenants folder (`env`: "NAME=value" for it): its exit status and output.
    std::pair<int, std::string> check(const std::string& env = "") const {
        const std::string command = env + " " + (fs::path(TEZGAH_BINARY_DIR) / "bin" / "tezgah").string() +
                                    " check " + (dir.path() / "tenants").string() + " --plugins " +
                                    plugin_dir().string() + " 2>&1";
        std::string output;
        FILE* pipe = ::popen(command.c_str(), "r");
        if (pipe == nullptr) return {-1, "popen failed"};
        char buffer[4096];
        while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
        const int status = ::pclose(pipe);
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
    }

    TempDir dir;
    std::unique_ptr<engine::testing::ScratchDatabase> scratch;
    std::string db_url;
    std::string gece, nefes, gece_reader, every;  ///< "Bearer KEY"
    std::unique_ptr<EditServer> server;
    std::uint16_t port = 0;
};

}  // namespace tezgah::testing
