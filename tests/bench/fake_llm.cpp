// tezgah-fake-llm: an OpenAI-compatible chat-completions server on loopback for benchmarks. It
// answers every POST /v1/chat/completions with a short text after --delay-ms, and reports what it
// was sent at GET /stats (POST /stats/reset starts over): requests, and the prompt size in estimated tokens (bytes of the
// messages and tools / 4, as the engine estimates) — mean and max.
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
        if (a == "--delay-ms" && i + 1 < argc) delay_ms = std::atoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
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
                reply.body(json::serialize(json::object{
                    {"requests", requests},
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
            long long prompt_tokens = 0;
            std::string last_user;
            try {
                auto body = json::parse(r.body).as_object();
                std::size_t bytes = json::serialize(body.at("messages")).size();
                if (const auto* t = body.if_contains("tools")) bytes += json::serialize(*t).size();
                prompt_tokens = static_cast<long long>((bytes + 3) / 4);
                for (const auto& m : body.at("messages").as_array())
                    if (m.as_object().at("role").as_string() == "user") last_user = m.as_object().at("content").as_string();
            } catch (const std::exception& e) {
                reply.status(400);
                reply.content_type("application/json");
                reply.body(json::serialize(json::object{
                    {"error", json::object{{"message", std::string("bad request: ") + e.what()},
                                           {"type", "invalid_request_error"}}}}));
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
                {"choices", json::array{json::object{
                                {"index", 0},
                                {"message", json::object{{"role", "assistant"},
                                                         {"content", "Merhaba! Sorunuzu aldım: " +
                                                                         last_user.substr(0, 60)}}},
                                {"finish_reason", "stop"}}}},
                {"usage", json::object{{"prompt_tokens", prompt_tokens}, {"completion_tokens", 12},
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
