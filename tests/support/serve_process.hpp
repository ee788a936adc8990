#pragma once
// `tezgah serve` as a child process, for tests that start, signal and kill the real binary.

#include "support/temp_tenants.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tezgah::testing {

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

/// The port of a ready line "tezgah listening on http://127.0.0.1:PORT", or 0.
inline std::uint16_t port_of(const std::string& ready_line) {
    const std::string prefix = "tezgah listening on http://127.0.0.1:";
    if (ready_line.rfind(prefix, 0) != 0) return 0;
    return static_cast<std::uint16_t>(std::stoi(ready_line.substr(prefix.size())));
}

}  // namespace tezgah::testing
