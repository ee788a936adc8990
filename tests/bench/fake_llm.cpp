// tezgah-fake-llm: an OpenAI-compatible chat-completions server on loopback for benchmarks. It
// answers every POST /v1/chat/completions with a short text after --delay-ms, and reports what it
// was sent at GET /stats (POST /stats/reset starts over): requests, and the prompt size in estimated tokens
// (bytes of the request body / 4, as the engine estimates) — mean and max.
//   tezgah-fake-llm [--delay-ms 500] [--threads 1200] [--port 0]
#include "support/fake_http_server.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

namespace json = boost::json;
using tezgah::testing::FakeHttpServer;
using tezgah::testing::FakeReply;
using tezgah::testing::RecordedRequest;

namespace {
std::atomic<bool> stop{false};
void on_signal(int) { stop = true; }
}  // namespace

int main(int argc, char** argv) {
    int delay_ms = 500;
    int threads = 1200;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--delay-ms" && i + 1 < argc)
            delay_ms = std::atoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else if (a == "-h" || a == "--help") {
            std::cout << "tezgah-fake-llm [--delay-ms 500] [--threads 1200]\n"
                         "An OpenAI-compatible server for benchmarks: answers after the delay; GET /stats.\n";
            return 0;
        } else {
            std::cerr << "tezgah-fake-llm: unknown option " << a << "\n";
            return 2;
        }
    }
    std::mutex mutex;
    long long requests = 0, tokens_sum = 0, tokens_max = 0;
    FakeHttpServer server(
        [&](const RecordedRequest& r, FakeReply& reply) {
            if (r.method == "GET" && r.path == "/stats") {
                std::lock_guard lock(mutex);
                reply.content_type("application/json");
                reply.body(
                    json::serialize(json::object{{"requests", requests},
                                                 {"prompt_tokens_mean", requests ? tokens_sum / requests : 0},
                                                 {"prompt_tokens_max", tokens_max}}));
                return;
            }
            if (r.method == "POST" && r.path == "/stats/reset") {
                std::lock_guard lock(mutex);
                requests = tokens_sum = tokens_max = 0;
                reply.body("");
                return;
            }
            if (r.method != "POST" || r.path != "/v1/chat/completions") {
                reply.status(404);
                reply.content_type("application/json");
                reply.body(R"({"error":{"message":"not found","type":"invalid_request_error"}})");
                return;
            }
            // Cheap on purpose: it shares the machine with the engine it measures. The prompt size
            // is the request body's bytes / 4 (the engine's own estimate); the body is checked to
            // be a chat-completions request, not parsed whole.
            const long long prompt_tokens = static_cast<long long>((r.body.size() + 3) / 4);
            if (r.body.find("\"messages\"") == std::string::npos ||
                r.body.find("\"model\"") == std::string::npos) {
                reply.status(400);
                reply.content_type("application/json");
                reply.body(
                    R"({"error":{"message":"bad request: expected model and messages","type":"invalid_request_error"}})");
                return;
            }
            {
                std::lock_guard lock(mutex);
                ++requests;
                tokens_sum += prompt_tokens;
                tokens_max = std::max(tokens_max, prompt_tokens);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            json::object answer{
                {"id", "chatcmpl-bench"},
                {"object", "chat.completion"},
                {"created", 1764000000},
                {"model", "bench"},
                {"choices",
                 json::array{json::object{
                     {"index", 0},
                     {"message", json::object{{"role", "assistant"},
                                              {"content", "Merhaba! Size nasıl yardımcı olabilirim?"}}},
                     {"finish_reason", "stop"}}}},
                {"usage", json::object{{"prompt_tokens", prompt_tokens},
                                       {"completion_tokens", 12},
                                       {"total_tokens", prompt_tokens + 12}}}};
            reply.content_type("application/json");
            reply.body(json::serialize(answer));
        },
        threads);
    std::cout << "listening on " << server.url() << std::endl;
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 0;
}
