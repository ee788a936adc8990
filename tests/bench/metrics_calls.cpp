// The metric updates one chat turn and one HTTP request make, alone, from T threads: what metrics
// cost the hot path whichever registry is behind ops/metrics.hpp. Prints ns per turn's and per
// request's updates; under `valgrind --tool=callgrind` the inclusive instruction counts of
// turn_metrics and request_metrics divided by --iterations give the same per call, unaffected by
// whatever else the machine runs. Built with -DTEZGAH_BUILD_BENCH=ON.
//
//   metrics_calls [--iterations N] [--threads T]
#include "ops/metrics.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using tezgah::engine::Metrics;

namespace {

// What an offline-assistant turn of `turns --threads 1` records, as counted there with callgrind:
// the turn (engine.cpp, after finish_turn) with one tool call and two model steps whose usage has
// no model name (the fixture tenants' `local` provider), and the group-commit writer's two
// batches, the inbound message and the finished turn (group_commit.cpp).
[[gnu::noinline]] void turn_metrics(Metrics& m, long i) {
    m.message("gece-butik", "llm");
    m.tool_call("search_catalog", true);
    m.tokens("gece-butik", "", 300 + i % 7, 40);
    m.tokens("gece-butik", "", 420 + i % 5, 60);
    m.db_operation("write_batch", 0.0004);
    m.db_operation("write_batch", 0.0007);
}

// What the HTTP server records for every request it answers (server.cpp).
[[gnu::noinline]] void request_metrics(Metrics& m, long i) {
    m.http_request("/v1/tenants/{tenant}/chat", "POST", 200, 0.0008 + static_cast<double>(i % 3) * 0.001);
}

template <class Work>
double ns_per_call(long iterations, int threads, Work work) {
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (long i = 0; i < iterations; ++i) work(i);
        });
    for (auto& thread : pool) thread.join();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    return std::chrono::duration<double, std::nano>(elapsed).count() /
           static_cast<double>(iterations * threads);
}

}  // namespace

int main(int argc, char** argv) {
    long iterations = 1000000;
    int threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--iterations")
            iterations = std::stol(argv[i + 1]);
        else if (flag == "--threads")
            threads = std::stoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", flag.c_str());
            return 2;
        }
    }
    auto& m = Metrics::global();
    // The first update of a series makes it; a server runs with its series made long ago.
    turn_metrics(m, 0);
    request_metrics(m, 0);

    const double turn = ns_per_call(iterations, threads, [&](long i) { turn_metrics(m, i); });
    const double request = ns_per_call(iterations, threads, [&](long i) { request_metrics(m, i); });
    std::printf("threads %d  iterations %ld each\n", threads, iterations);
    std::printf("a turn's metric updates     %8.1f ns\n", turn);
    std::printf("a request's metric updates  %8.1f ns\n", request);
    std::printf("exposition %zu bytes\n", m.render().size());
    return 0;
}
