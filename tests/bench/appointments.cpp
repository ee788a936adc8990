// The appointments benchmark behind scripts/bench --only appointments (docs/performance.md,
// "Appointments"). One busy salon: 20 stylists (r01..r20, 08:00-20:00 every day, Europe/Istanbul),
// one 45-minute service with a 15-minute buffer each (s01..s20), and 10,000 confirmed
// appointments spread over the 60 days after today, 500 per stylist, on the hour.
//
//   tezgah-appointments-bench engine [--iterations 2000]
//       the availability engine alone: free_slots of s01 over 60 days, with its stylist's 500
//       appointments (what the store hands it): p50/p99/max of the wall clock and of the thread's
//       CPU time (the difference is the time the thread waited for a core); nearest_slots
//   tezgah-appointments-bench tenant DIR
//       writes the salon as DIR/salon-20 (tenant.json with the appointments tool, data/*.json)
//   tezgah-appointments-bench seed-sql
//       prints the INSERTs of the 10,000 appointments (SQLite and PostgreSQL alike), from tomorrow
//   tezgah-appointments-bench http --port P --key KEY [--requests 300]
//       GET /v1/tenants/salon-20/availability?service=s01&date=TOMORROW&days=60, one at a time on a
//       keep-alive connection: p50/p99/max and the slots in the answer
//   tezgah-appointments-bench book --port P --key KEY [--clients 64] [--count 3000] [--contested]
//       POST /v1/tenants/salon-20/appointments from --clients threads, each on its own connection:
//       on distinct free slots (bookings/s), or with --contested every client asks for the same
//       slot at once, round after round (--count rounds), through a barrier: attempts/s, the
//       bookings won per slot (exactly one expected) and the answers' codes
//
// Prints `RESULT {...}` lines (JSON) for scripts/bench.
#include "appointments/availability.hpp"
#include "util/local_days.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
namespace fs = std::filesystem;
namespace apt = tezgah::engine::appointments;
using tezgah::engine::Day;
using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int kResources = 20;
constexpr int kPerResource = 500;
constexpr int kDays = 60;
constexpr int kOpen = 8 * 60;
constexpr int kClose = 20 * 60;
constexpr int kDuration = 45;
constexpr int kBuffer = 15;
const std::string kZone = "Europe/Istanbul";
const std::string kTenant = "salon-20";

std::string resource_id(int i) { return fmt::format("r{:02}", i + 1); }
std::string service_id(int i) { return fmt::format("s{:02}", i + 1); }

const char* const kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::map<std::string, std::string> every_day(const std::string& range) {
    std::map<std::string, std::string> hours;
    for (const char* day : kWeekdays) hours[day] = range;
    return hours;
}

const std::string kHours = fmt::format("{:02}:00-{:02}:00", kOpen / 60, kClose / 60);

struct Salon {
    std::map<std::string, std::string> business_hours = every_day(kHours);
    std::vector<tezgah::sdk::Resource> resources;
    std::vector<tezgah::sdk::Offering> services;
};

Salon make_salon() {
    Salon salon;
    for (int i = 0; i < kResources; ++i) {
        tezgah::sdk::Resource r;
        r.id = resource_id(i);
        r.name = fmt::format("Stylist {}", i + 1);
        r.type = "person";
        r.hours = every_day(kHours);
        salon.resources.push_back(r);
        tezgah::sdk::Offering s;
        s.id = service_id(i);
        s.type = "SERVICE";
        s.name = fmt::format("Kesim {}", i + 1);
        s.price = 500;
        s.currency = "TRY";
        s.duration_min = kDuration;
        s.buffer_minutes = kBuffer;
        s.provider = r.id;
        salon.services.push_back(s);
    }
    return salon;
}

/// One stored appointment of the seed: which stylist, when.
struct Seeded {
    int resource;
    Clock::time_point start;
};

/// 500 of the 720 hourly starts of each stylist over the 60 days after `today` (a fixed shuffle).
std::vector<Seeded> make_appointments(const Day& today) {
    std::vector<Seeded> out;
    std::mt19937 random(12);
    const int per_day = (kClose - kOpen) / 60;
    for (int r = 0; r < kResources; ++r) {
        std::vector<int> hours(kDays * per_day);
        for (std::size_t i = 0; i < hours.size(); ++i) hours[i] = static_cast<int>(i);
        std::shuffle(hours.begin(), hours.end(), random);
        hours.resize(kPerResource);
        std::sort(hours.begin(), hours.end());
        for (int h : hours) {
            const Day day = tezgah::engine::add_days(today, 1 + h / per_day);
            const auto start = apt::local_instant(day, kOpen + (h % per_day) * 60, kZone);
            out.push_back({r, *start});
        }
    }
    return out;
}

std::vector<apt::Busy> busy_of(const std::vector<Seeded>& seeded, int resource) {
    std::vector<apt::Busy> busy;
    for (const auto& s : seeded) {
        if (s.resource != resource) continue;
        busy.push_back({s.start, s.start + std::chrono::minutes{kDuration}, kBuffer, service_id(s.resource)});
    }
    return busy;
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(at, values.size() - 1)];
}

std::string ms(double value) { return fmt::format("{:.3f}", value); }

double thread_cpu_ms() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

Day today_here() { return tezgah::engine::day_at(Clock::now(), kZone); }

int engine_bench(int iterations) {
    const Salon salon = make_salon();
    // A fixed day, so two runs ask the same question.
    const Day today{2026, 12, 1};
    const auto seeded = make_appointments(today);
    apt::Query query;
    query.service = &salon.services[0];
    query.resource = &salon.resources[0];
    query.business_hours = &salon.business_hours;
    query.timezone = kZone;
    query.from = tezgah::engine::add_days(today, 1);
    query.days = kDays;
    query.now = *apt::local_instant(today, 9 * 60, kZone);
    query.busy = busy_of(seeded, 0);
    std::size_t slots = 0;
    std::vector<double> wall;
    std::vector<double> cpu;  // the thread's own CPU time: what the wall clock shows minus preemption
    for (int i = 0; i < iterations + iterations / 10; ++i) {
        const auto t0 = Steady::now();
        const double c0 = thread_cpu_ms();
        slots = apt::free_slots(query).size();
        const double c1 = thread_cpu_ms();
        const double elapsed = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
        if (i < iterations / 10) continue;  // the first tenth warms up
        wall.push_back(elapsed);
        cpu.push_back(c1 - c0);
    }
    std::printf(
        "RESULT {\"what\": \"free_slots, 60 days\", \"busy\": %zu, \"slots\": %zu, \"iterations\": %d, "
        "\"p50_ms\": %s, \"p99_ms\": %s, \"max_ms\": %s, \"cpu_p50_ms\": %s, \"cpu_p99_ms\": %s}\n",
        query.busy.size(), slots, iterations, ms(percentile(wall, 0.5)).c_str(),
        ms(percentile(wall, 0.99)).c_str(), ms(*std::max_element(wall.begin(), wall.end())).c_str(),
        ms(percentile(cpu, 0.5)).c_str(), ms(percentile(cpu, 0.99)).c_str());
    // The alternatives a refused time gets: nearest_slots over the same range.
    const auto asked = *apt::local_instant(tezgah::engine::add_days(today, 30), 12 * 60, kZone);
    std::vector<double> times;
    for (int i = 0; i < iterations; ++i) {
        const auto t0 = Steady::now();
        (void)apt::nearest_slots(query, asked, 3);
        times.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    }
    std::printf(
        "RESULT {\"what\": \"nearest_slots (3), 60 days\", \"busy\": %zu, \"p50_ms\": %s, \"p99_ms\": %s}\n",
        query.busy.size(), ms(percentile(times, 0.5)).c_str(), ms(percentile(times, 0.99)).c_str());
    return 0;
}

int write_tenant(const fs::path& dir) {
    const Salon salon = make_salon();
    const fs::path root = dir / kTenant;
    fs::create_directories(root / "data");
    json::object hours;
    for (const auto& [day, range] : salon.business_hours) hours[day] = range;
    json::object tenant{
        {"id", kTenant},
        {"name", "Yirmi Koltuk Kuaför"},
        {"locale",
         {{"language", "tr"},
          {"languages", json::array{"tr", "en"}},
          {"timezone", kZone},
          {"currency", "TRY"}}},
        {"business", {{"phone", "+90 212 555 20 20"}, {"hours", hours}}},
        {"llm", {{"provider", "local"}}},
        {"channels", {{"webhook", json::object{}}}},
        {"tools", json::array{"catalog", json::object{{"name", "appointments"},
                                                      {"slot_minutes", 30},
                                                      {"min_notice_minutes", 0},
                                                      {"max_days_ahead", kDays}}}},
        {"data", {{"offerings", "data/offerings.json"}, {"resources", "data/resources.json"}}},
    };
    json::array offerings;
    for (const auto& s : salon.services)
        offerings.push_back({{"id", s.id},
                             {"type", "SERVICE"},
                             {"name", s.name},
                             {"category", "Saç"},
                             {"price", s.price},
                             {"currency", s.currency},
                             {"duration_min", kDuration},
                             {"buffer_minutes", kBuffer},
                             {"provider", s.provider},
                             {"available", true}});
    json::array resources;
    for (const auto& r : salon.resources) {
        json::object h;
        for (const auto& [day, range] : r.hours) h[day] = range;
        resources.push_back(
            {{"id", r.id}, {"name", r.name}, {"type", "person"}, {"capacity", 1}, {"hours", h}});
    }
    std::ofstream(root / "tenant.json") << json::serialize(tenant) << "\n";
    std::ofstream(root / "data" / "offerings.json") << json::serialize(offerings) << "\n";
    std::ofstream(root / "data" / "resources.json") << json::serialize(resources) << "\n";
    std::cout << root.string() << "\n";
    return 0;
}

int seed_sql() {
    const auto seeded = make_appointments(today_here());
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
    std::cout << "BEGIN;\n";
    int n = 0;
    for (const auto& s : seeded) {
        const auto start =
            std::chrono::duration_cast<std::chrono::milliseconds>(s.start.time_since_epoch()).count();
        const auto end = start + kDuration * 60 * 1000;
        std::cout << fmt::format(
            "INSERT INTO appointments (id, tenant_id, service_id, resource_id, start_at, end_at, "
            "buffer_minutes, "
            "customer_name, customer_phone, notes, status, channel, user_id, conversation_id, created_at, "
            "updated_at) VALUES ('apt_seed{:012}', '{}', '{}', '{}', {}, {}, {}, 'Seed {}', '+905550000000', "
            "'', "
            "'confirmed', '', '', '', {}, {});\n",
            n, kTenant, service_id(s.resource), resource_id(s.resource), start, end, kBuffer, n, now_ms,
            now_ms);
        ++n;
    }
    std::cout << "COMMIT;\n";
    return 0;
}

/// One keep-alive connection to the server.
class Client {
public:
    Client(int port, std::string key)
        : session_("127.0.0.1", static_cast<Poco::UInt16>(port)), key_(std::move(key)) {
        session_.setKeepAlive(true);
        session_.setTimeout(Poco::Timespan(60, 0));
    }
    /// The status and body of one exchange; status 0 when the connection failed.
    std::pair<int, std::string> call(const std::string& method, const std::string& path,
                                     const std::string& body = {}) {
        try {
            Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
            request.set("Authorization", "Bearer " + key_);
            if (!body.empty()) {
                request.setContentType("application/json");
                request.setContentLength(static_cast<std::streamsize>(body.size()));
            }
            auto& out = session_.sendRequest(request);
            out << body;
            Poco::Net::HTTPResponse response;
            auto& in = session_.receiveResponse(response);
            std::ostringstream text;
            text << in.rdbuf();
            return {static_cast<int>(response.getStatus()), text.str()};
        } catch (const std::exception& e) {
            session_.reset();
            return {0, e.what()};
        }
    }

private:
    Poco::Net::HTTPClientSession session_;
    std::string key_;
};

int http_bench(int port, const std::string& key, int requests) {
    Client client(port, key);
    const std::string date = tezgah::engine::add_days(today_here(), 1).str();
    const std::string path = fmt::format("/v1/tenants/{}/availability?service={}&date={}&days={}", kTenant,
                                         service_id(0), date, kDays);
    std::vector<double> times;
    std::size_t slots = 0;
    for (int i = 0; i < requests + 20; ++i) {
        const auto t0 = Steady::now();
        const auto [status, body] = client.call("GET", path);
        const double elapsed = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
        if (status != 200) {
            std::cerr << "tezgah-appointments-bench: GET " << path << ": " << status << " " << body << "\n";
            return 1;
        }
        if (i < 20) continue;  // warm-up: the tenant loads, the catalog is read
        times.push_back(elapsed);
        if (i == 20) slots = json::parse(body).at("slots").as_array().size();
    }
    std::printf(
        "RESULT {\"what\": \"GET availability, 60 days\", \"requests\": %d, \"slots\": %zu, \"p50_ms\": %s, "
        "\"p99_ms\": %s, \"max_ms\": %s}\n",
        requests, slots, ms(percentile(times, 0.5)).c_str(), ms(percentile(times, 0.99)).c_str(),
        ms(*std::max_element(times.begin(), times.end())).c_str());
    return 0;
}

std::string booking_body(int resource, const Day& day, int minute, int n) {
    return json::serialize(json::object{{"service", service_id(resource)},
                                        {"date", day.str()},
                                        {"time", fmt::format("{:02}:{:02}", minute / 60, minute % 60)},
                                        {"customer_name", fmt::format("Bench {}", n)},
                                        {"customer_phone", fmt::format("+90555{:07}", n)}});
}

int book_bench(int port, const std::string& key, int clients, int count, bool contested) {
    const std::string path = "/v1/tenants/" + kTenant + "/appointments";
    const Day tomorrow = tezgah::engine::add_days(today_here(), 1);
    // Distinct slots: stylist by stylist, day by day, hour by hour (a 60-minute hold each); the
    // contested ones walk the same list, one slot per round.
    const int per_day = (kClose - kOpen) / 60;
    const int total = kResources * kDays * per_day;
    auto slot = [&](int i) {
        const int resource = i % kResources;
        const int rest = i / kResources;
        return std::tuple{resource, tezgah::engine::add_days(tomorrow, rest / per_day),
                          kOpen + (rest % per_day) * 60};
    };
    count = std::min(count, total);
    std::mutex mutex;
    std::map<int, int> statuses;
    std::vector<int> won(static_cast<std::size_t>(count), 0);
    std::vector<double> times;
    std::atomic<int> next{0};
    std::barrier round(clients);
    const auto t0 = Steady::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            Client client(port, key);
            std::map<int, int> mine;
            std::vector<double> my_times;
            for (int r = 0;; ++r) {
                const int i = contested ? r : next.fetch_add(1);
                if (i >= count) break;
                if (contested) round.arrive_and_wait();
                const auto [resource, day, minute] = slot(i);
                const auto started = Steady::now();
                const auto [status, body] =
                    client.call("POST", path, booking_body(resource, day, minute, i * clients + c));
                my_times.push_back(
                    std::chrono::duration<double, std::milli>(Steady::now() - started).count());
                ++mine[status];
                if (status == 201) {
                    std::lock_guard lock(mutex);
                    ++won[static_cast<std::size_t>(i)];
                } else if (status != 409 || !contested) {
                    std::lock_guard lock(mutex);
                    std::cerr << "tezgah-appointments-bench: POST " << status << " " << body.substr(0, 300)
                              << "\n";
                }
            }
            std::lock_guard lock(mutex);
            for (const auto& [status, n] : mine) statuses[status] += n;
            times.insert(times.end(), my_times.begin(), my_times.end());
        });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Steady::now() - t0).count();
    int booked = 0;
    int twice = 0;
    int none = 0;
    for (int w : won) {
        booked += w;
        twice += w > 1;
        none += w == 0;
    }
    std::string codes;
    for (const auto& [status, n] : statuses)
        codes += fmt::format("{}\"{}\": {}", codes.empty() ? "" : ", ", status, n);
    const int attempts = static_cast<int>(times.size());
    std::printf(
        "RESULT {\"what\": \"%s\", \"clients\": %d, \"slots\": %d, \"attempts\": %d, \"seconds\": %.2f, "
        "\"bookings_per_s\": %.1f, \"attempts_per_s\": %.1f, \"booked\": %d, \"slots_booked_twice\": %d, "
        "\"slots_not_booked\": %d, \"p50_ms\": %s, \"p99_ms\": %s, \"codes\": {%s}}\n",
        contested ? "POST appointments, one contested slot per round" : "POST appointments, distinct slots",
        clients, count, attempts, seconds, booked / seconds, attempts / seconds, booked, twice, none,
        ms(percentile(times, 0.5)).c_str(), ms(percentile(times, 0.99)).c_str(), codes.c_str());
    return twice == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: tezgah-appointments-bench engine|tenant DIR|seed-sql|http|book [options]\n";
        return 2;
    }
    const std::string mode = argv[1];
    int port = 0;
    std::string key;
    int iterations = 2000;
    int requests = 300;
    int clients = 64;
    int count = 3000;
    bool contested = false;
    std::string dir;
    for (int i = 2; i < argc; ++i) {
        const std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "tezgah-appointments-bench: " << flag << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (flag == "--port")
            port = std::atoi(value().c_str());
        else if (flag == "--key")
            key = value();
        else if (flag == "--iterations")
            iterations = std::max(10, std::atoi(value().c_str()));
        else if (flag == "--requests")
            requests = std::max(1, std::atoi(value().c_str()));
        else if (flag == "--clients")
            clients = std::max(1, std::atoi(value().c_str()));
        else if (flag == "--count")
            count = std::max(1, std::atoi(value().c_str()));
        else if (flag == "--contested")
            contested = true;
        else if (mode == "tenant" && dir.empty())
            dir = flag;
        else {
            std::cerr << "tezgah-appointments-bench: unknown option " << flag << "\n";
            return 2;
        }
    }
    if (mode == "engine") return engine_bench(iterations);
    if (mode == "tenant") return dir.empty() ? 2 : write_tenant(dir);
    if (mode == "seed-sql") return seed_sql();
    if (port <= 0 || key.empty()) {
        std::cerr << "tezgah-appointments-bench: " << mode << " needs --port and --key\n";
        return 2;
    }
    if (mode == "http") return http_bench(port, key, requests);
    if (mode == "book") return book_bench(port, key, clients, count, contested);
    std::cerr << "tezgah-appointments-bench: unknown mode " << mode << "\n";
    return 2;
}
