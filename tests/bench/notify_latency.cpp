// Time from a handoff to its notice reaching the tenant's webhook, for scripts/bench --only notify.
// One process: the engine's event hub and database (SQLite in a temporary folder, or --db URL),
// the notifier with its workers, and a webhook receiver on loopback (the scriptable HTTP server)
// that checks each signature and notes when each notice arrived. Handoffs are published one every
// --interval-ms (as the turn pipeline publishes them); the time measured runs from the publish to
// the receiver having read the whole request: queueing, storing the notice, claiming it, signing
// and sending it. Prints `RESULT ...` with p50, p99 and the slowest.
//
//   tezgah-notify-bench [--count 500] [--interval-ms 5] [--workers 4] [--db URL]
#include "notify/notifier.hpp"
#include "store/database.hpp"
#include "support/fake_http_server.hpp"
#include "util/http_client.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace tezgah::engine;
using Steady = std::chrono::steady_clock;

int main(int argc, char** argv) {
    int count = 500;
    int interval_ms = 5;
    int workers = 4;
    std::string db_url;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        const std::string value = argv[i + 1];
        if (name == "--count")
            count = std::max(1, std::atoi(value.c_str()));
        else if (name == "--interval-ms")
            interval_ms = std::max(0, std::atoi(value.c_str()));
        else if (name == "--workers")
            workers = std::max(1, std::atoi(value.c_str()));
        else if (name == "--db")
            db_url = value;
        else {
            std::cerr << "tezgah-notify-bench: unknown option " << name << "\n";
            return 2;
        }
    }
    fs::path folder;
    if (db_url.empty()) {
        std::random_device random;
        folder = fs::temp_directory_path() / ("tezgah-notify-bench-" + std::to_string(random()));
        fs::create_directories(folder);
        db_url = "sqlite:" + (folder / "bench.db").string();
    }
    auto db = Database::open(db_url);
    if (!db) {
        std::cerr << "tezgah-notify-bench: " << db.error().message << "\n";
        return 1;
    }

    const std::string secret = "whsec_bench";
    std::mutex mutex;
    std::map<int, Steady::time_point> arrived;
    int bad_signatures = 0;
    int duplicates = 0;
    tezgah::testing::FakeHttpServer receiver(
        [&](const tezgah::testing::RecordedRequest& r, tezgah::testing::FakeReply& reply) {
            const auto at = Steady::now();
            const auto header = r.header("x-tezgah-signature");
            const auto comma = header.find(",v1=");
            const bool valid = comma != std::string::npos &&
                               header.substr(comma + 4) ==
                                   notify::webhook_signature(
                                       secret, std::atoll(header.substr(2, comma - 2).c_str()), r.body);
            const int n = std::atoi(std::string(json::parse(r.body).at("ticket_id").as_string()).c_str());
            {
                std::lock_guard lock(mutex);
                if (!valid) ++bad_signatures;
                if (!arrived.emplace(n, at).second) ++duplicates;
            }
            reply.status(204);
            reply.body("");
        },
        64);

    EventHub events;
    PocoHttpClient http;
    notify::NotifierOptions options;
    options.workers = workers;
    notify::NotifyTargets targets;
    targets.webhook = notify::WebhookTarget{receiver.url() + "/hook", secret};
    notify::Notifier notifier(
        **db, events, http,
        [&](const std::string&) -> tezgah::sdk::Result<notify::NotifyTargets> { return targets; }, options);
    notifier.start();

    std::vector<Steady::time_point> published(static_cast<std::size_t>(count));
    const auto began = Steady::now();
    for (int i = 0; i < count; ++i) {
        published[static_cast<std::size_t>(i)] = Steady::now();
        events.publish(Event{"handoff", "bench-shop",
                             json::object{{"conversation_id", "c-" + std::to_string(i)},
                                          {"user_id", "u-" + std::to_string(i)},
                                          {"channel", "whatsapp"},
                                          {"reason", "customer_request"},
                                          {"priority", "medium"},
                                          {"ticket_id", std::to_string(i)},
                                          {"text", "bir yetkiliyle görüşmek istiyorum"}}});
        if (interval_ms > 0)
            std::this_thread::sleep_until(began + std::chrono::milliseconds((i + 1) * interval_ms));
    }
    const bool all = receiver.wait_for_requests(static_cast<std::size_t>(count), std::chrono::seconds(60));
    notifier.stop();

    std::vector<double> ms;
    {
        std::lock_guard lock(mutex);
        for (const auto& [n, at] : arrived)
            ms.push_back(
                std::chrono::duration<double, std::milli>(at - published[static_cast<std::size_t>(n)])
                    .count());
    }
    std::sort(ms.begin(), ms.end());
    auto pct = [&](double p) {
        if (ms.empty()) return 0.0;
        return ms[std::min(ms.size() - 1,
                           static_cast<std::size_t>(p * static_cast<double>(ms.size() - 1) + 0.5))];
    };
    std::printf(
        "RESULT %d handoffs, one every %d ms, %d workers (%s): delivered %zu%s, p50 %.1f ms, p99 %.1f ms, "
        "max %.1f ms; bad signatures %d, delivered twice %d\n",
        count, interval_ms, workers, (*db)->backend() == Backend::sqlite ? "SQLite" : "PostgreSQL", ms.size(),
        all ? "" : " (not all within 60 s)", pct(0.5), pct(0.99), ms.empty() ? 0.0 : ms.back(),
        bad_signatures, duplicates);
    db->reset();
    std::error_code ec;
    if (!folder.empty()) fs::remove_all(folder, ec);
    return all && bad_signatures == 0 && duplicates == 0 ? 0 : 1;
}
