// In-process throughput of the turn pipeline: N turns from T threads through Engine::handle, on a
// temporary copy of the fixture tenants with SQLite (WAL), the offline assistant and the real
// plugins of this build. Prints turns/s and p50/p95/p99 latency, then checks that every turn was
// persisted (two message rows per turn).
//
//   turns [--turns N] [--threads T] [--users U] [--tenant ID] [--rule-only 1]
//
// --rule-only 1 adds a Lua rule answering every message, so the offline assistant never runs:
// what remains is the engine's own path (intake, conversation, rules, persistence).
//
// Each thread talks as its own U customers in turn, so conversations continue (cache hits) and
// the history grows as it would with real customers. Built with -DTEZGAH_BUILD_BENCH=ON.
#include "pipeline/engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace tezgah::engine;
namespace sdk = tezgah::sdk;

namespace {

struct Options {
    long turns = 100000;
    int threads = 64;
    int users = 8;  ///< customers per thread
    std::string tenant = "gece-butik";
    bool rule_only = false;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        std::string value = argv[i + 1];
        if (flag == "--turns")
            o.turns = std::stol(value);
        else if (flag == "--threads")
            o.threads = std::stoi(value);
        else if (flag == "--users")
            o.users = std::stoi(value);
        else if (flag == "--tenant")
            o.tenant = value;
        else if (flag == "--rule-only")
            o.rule_only = value == "1";
        else {
            std::fprintf(stderr, "unknown option %s\n", flag.c_str());
            std::exit(2);
        }
    }
    return o;
}

/// A temporary folder removed at the end.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("tezgah-bench-" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

double percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
    return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = parse(argc, argv);
    // Quiet: the engine logs JSON lines to stderr; a benchmark wants only its own figures.
    spdlog::set_level(spdlog::level::warn);

    TempDir dir;
    fs::copy(TEZGAH_FIXTURES_DIR, dir.path / "tenants", fs::copy_options::recursive);
    if (options.rule_only) {
        fs::create_directories(dir.path / "tenants" / options.tenant / "rules");
        std::ofstream(dir.path / "tenants" / options.tenant / "rules" / "bench.lua")
            << "return tezgah.rule { name = \"bench\", on_message = function(ctx, msg) "
               "return ctx.reply(\"Merhaba, nasıl yardımcı olabilirim?\") end }\n";
        auto manifest_path = dir.path / "tenants" / options.tenant / "tenant.json";
        std::ifstream in(manifest_path);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto manifest = boost::json::parse(text);
        manifest.as_object()["rules"] = boost::json::array{"rules/bench.lua"};
        std::ofstream(manifest_path) << boost::json::serialize(manifest);
    }
    EngineOptions eo;
    eo.tenants_dir = dir.path / "tenants";
    eo.db_url = "sqlite:" + (dir.path / "var" / "tezgah.db").string();
    eo.plugin_path = {fs::path(TEZGAH_BINARY_DIR) / "lib" / "tezgah" / "plugins"};
    Engine engine(eo);
    if (auto s = engine.start(); !s) {
        std::fprintf(stderr, "engine: %s\n", s.error().message.c_str());
        return 1;
    }

    const std::vector<std::string> texts = {
        "saten gecelik ne kadar, stokta var mı?",
        "peki bordo olanı?",
        "kargo ne kadar sürer?",
        "How much is the velvet robe?",
        "iade koşullarınız nedir?",
        "kapıda ödeme var mı?",
        "merhaba",
        "pazar günü açık mısınız?",
    };
    // Warm up: load the tenant before the clock starts.
    {
        sdk::InboundMessage m{options.tenant, "warmup", "merhaba", "bench", {}, {}, {}, {}};
        if (auto r = engine.handle(m); !r) {
            std::fprintf(stderr, "warm-up turn: %s\n", r.error().message.c_str());
            return 1;
        }
    }

    std::atomic<long> next{0};
    std::atomic<long> failures{0};
    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(options.threads));
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < options.threads; ++t) {
        threads.emplace_back([&, t] {
            auto& mine = latencies[static_cast<std::size_t>(t)];
            mine.reserve(static_cast<std::size_t>(options.turns / options.threads + 1));
            for (long i = next++; i < options.turns; i = next++) {
                sdk::InboundMessage m;
                m.tenant_id = options.tenant;
                m.user_id = "bench-" + std::to_string(t) + "-" + std::to_string(i % options.users);
                m.text = texts[static_cast<std::size_t>(i) % texts.size()];
                m.channel = "bench";
                m.message_id = "m-" + std::to_string(i);
                const auto t0 = std::chrono::steady_clock::now();
                auto r = engine.handle(m);
                mine.push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                if (!r && failures++ == 0)
                    std::fprintf(stderr, "turn %ld: %s\n", i, r.error().message.c_str());
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    std::printf("turns %zu  threads %d  users %d  failures %ld\n", all.size(), options.threads,
                options.threads * options.users, failures.load());
    std::printf("throughput %.0f turns/s  (%.2f s)\n", static_cast<double>(all.size()) / seconds, seconds);
    std::printf("latency ms  p50 %.3f  p95 %.3f  p99 %.3f  max %.3f\n", percentile(all, 0.50),
                percentile(all, 0.95), percentile(all, 0.99), all.empty() ? 0 : all.back());

    // Everything persisted: every turn stored its message and its reply.
    long stored = 0;
    for (int t = 0; t < options.threads; ++t) {
        for (int u = 0; u < options.users; ++u) {
            sdk::InboundMessage probe;
            auto user = "bench-" + std::to_string(t) + "-" + std::to_string(u);
            auto c = engine.database().open_conversation(
                options.tenant, user, "bench", "", std::chrono::system_clock::now(), std::chrono::hours(1));
            if (!c || c->is_new) continue;
            auto messages = engine.database().recent_messages(options.tenant, c->id, 1000000);
            if (!messages) {
                std::fprintf(stderr, "%s\n", messages.error().message.c_str());
                return 1;
            }
            stored += static_cast<long>(messages->size());
        }
    }
    std::printf("stored messages %ld (expected %ld)\n", stored, 2 * (options.turns - failures.load()));
    return stored == 2 * (options.turns - failures.load()) ? 0 : 1;
}
