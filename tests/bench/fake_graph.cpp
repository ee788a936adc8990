// tezgah-fake-graph: a Graph API (WhatsApp Cloud) for benchmarks on loopback. It answers every
// POST /{version}/{phone_number_id}/messages with a Bearer token after --delay-ms, with Meta's
// success body and a new wamid, and counts them at GET /stats (distinct Idempotency-Keys too, so a
// message sent twice shows). Checks are cheap on purpose: it shares the machine with the engine.
//   tezgah-fake-graph [--delay-ms 200] [--threads 256]
#include "support/fake_http_server.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
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
    int delay_ms = 200;
    int threads = 256;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--delay-ms" && i + 1 < argc) {
            delay_ms = std::atoi(argv[++i]);
        } else if (a == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (a == "-h" || a == "--help") {
            std::cout
                << "tezgah-fake-graph [--delay-ms 200] [--threads 256]\n"
                   "A WhatsApp Cloud Graph API for benchmarks: answers sends after the delay; GET /stats.\n";
            return 0;
        } else {
            std::cerr << "tezgah-fake-graph: unknown option " << a << "\n";
            return 2;
        }
    }
    std::mutex mutex;
    long long requests = 0;
    std::set<std::string> keys;
    FakeHttpServer server(
        [&](const RecordedRequest& r, FakeReply& reply) {
            reply.content_type("application/json");
            if (r.method == "GET" && r.path == "/stats") {
                std::lock_guard lock(mutex);
                reply.body(json::serialize(json::object{
                    {"requests", requests}, {"distinct_keys", static_cast<long long>(keys.size())}}));
                return;
            }
            if (r.method != "POST" || !r.path.ends_with("/messages") ||
                !r.header("authorization").starts_with("Bearer ")) {
                reply.status(401);
                reply.body(
                    R"({"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}})");
                return;
            }
            long long n = 0;
            {
                std::lock_guard lock(mutex);
                n = ++requests;
                keys.insert(r.header("idempotency-key"));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            reply.body(
                R"({"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],"messages":[{"id":"wamid.BENCH)" +
                std::to_string(n) + R"("}]})");
        },
        threads);
    std::cout << "listening on " << server.url() << std::endl;
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 0;
}
