#include "util/common.hpp"

#include <date/tz.h>

#include <fstream>
#include <random>
#include <sstream>
#include <unistd.h>

namespace tezgah::engine {

std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return out.str();
}

std::string random_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* hex = "0123456789abcdef";
    std::string out(32, '0');
    for (int i = 0; i < 2; ++i) {
        auto v = rng();
        for (int j = 0; j < 16; ++j) out[i * 16 + j] = hex[(v >> (j * 4)) & 0xF];
    }
    return out;
}

std::optional<int> parse_hhmm(std::string_view text) {
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(text[0]) || !digit(text[1]) || !digit(text[3]) || !digit(text[4])) return std::nullopt;
    int h = (text[0] - '0') * 10 + (text[1] - '0');
    int m = (text[3] - '0') * 10 + (text[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
}

bool valid_hours_range(std::string_view range) {
    if (range == "closed") return true;
    auto dash = range.find('-');
    if (dash == std::string_view::npos) return false;
    auto from = parse_hhmm(range.substr(0, dash));
    auto to = parse_hhmm(range.substr(dash + 1));
    return from && to && *from < *to;
}

bool valid_timezone(const std::string& name) {
    try {
        return date::locate_zone(name) != nullptr;
    } catch (const std::exception&) {
        return false;
    }
}

bool is_open_at(const std::map<std::string, std::string>& hours, const std::string& timezone,
                std::chrono::system_clock::time_point when) {
    static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    auto local = std::chrono::floor<std::chrono::minutes>(when);
    date::local_time<std::chrono::minutes> lt{local.time_since_epoch()};
    try {
        const auto* zone = date::locate_zone(timezone);
        lt = date::floor<std::chrono::minutes>(date::make_zoned(zone, local).get_local_time());
    } catch (const std::exception&) {
        // unknown zone: UTC
    }
    auto day = date::floor<date::days>(lt);
    date::weekday wd{day};
    int minute = static_cast<int>((lt - day).count());
    auto it = hours.find(kDays[wd.c_encoding()]);
    if (it == hours.end() || it->second == "closed") return false;
    auto dash = it->second.find('-');
    if (dash == std::string::npos) return false;
    auto from = parse_hhmm(std::string_view(it->second).substr(0, dash));
    auto to = parse_hhmm(std::string_view(it->second).substr(dash + 1));
    return from && to && minute >= *from && minute < *to;
}

std::filesystem::path executable_dir() {
    char buf[4096];
    auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return std::filesystem::current_path();
    buf[n] = 0;
    return std::filesystem::path(buf).parent_path();
}

}  // namespace tezgah::engine
