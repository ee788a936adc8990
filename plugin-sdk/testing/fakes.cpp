#include <tezgah/sdk/testing/fakes.hpp>

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tezgah::sdk::testing {

void FakeLogger::log(LogLevel level, std::string_view message) {
    lines.emplace_back(level, std::string(message));
}

bool FakeLogger::contains(std::string_view needle) const {
    for (const auto& [level, line] : lines)
        if (line.find(needle) != std::string::npos) return true;
    return false;
}

Result<HttpResponse> FakeHttpClient::send(const OutboundRequest& request) {
    sent.push_back(request);
    if (responses.empty()) return Error{"unavailable", "FakeHttpClient: no scripted response left"};
    auto response = std::move(responses.front());
    responses.pop_front();
    // As the host does: only a successful body streams; an error's comes back whole.
    if (response.ok() && request.on_chunk && response->status >= 200 && response->status < 300)
        request.on_chunk(response->body);
    return response;
}

std::optional<Offering> FakeCatalog::get(std::string_view id) const {
    for (const auto& o : offerings)
        if (o.id == id) return o;
    return std::nullopt;
}

std::vector<OfferingMatch> FakeCatalog::find(std::string_view query, std::string_view language,
                                             std::size_t limit) const {
    return text::match_offerings(offerings, query, language, limit);
}

std::vector<KnowledgeHit> FakeKnowledge::search(std::string_view query, std::string_view language,
                                                std::size_t limit) const {
    return text::rank_knowledge(entries, query, language, limit);
}

bool FakeHost::is_open_at(std::chrono::system_clock::time_point when) const {
    static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    auto it = profile.hours.find(kDays[tm.tm_wday]);
    if (it == profile.hours.end() || it->second == "closed") return false;
    int h1 = 0, m1 = 0, h2 = 0, m2 = 0;
    if (std::sscanf(it->second.c_str(), "%d:%d-%d:%d", &h1, &m1, &h2, &m2) != 4) return false;
    int minute = tm.tm_hour * 60 + tm.tm_min;
    return minute >= h1 * 60 + m1 && minute < h2 * 60 + m2;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

namespace {
json::array read_array(const std::string& path) {
    auto value = json::parse(read_file(path));
    if (!value.is_array()) throw std::runtime_error(path + ": expected a JSON array");
    return value.get_array();
}
std::string str(const json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
}  // namespace

void FakeHost::load_offerings_file(const std::string& path) {
    std::size_t i = 0;
    for (const auto& item : read_array(path)) {
        auto parsed = parse_offering(item);
        if (!parsed)
            throw std::runtime_error(path + ": [" + std::to_string(i) + "]." + parsed.error().message);
        offerings.offerings.push_back(std::move(parsed).value());
        ++i;
    }
}

void FakeHost::load_knowledge_file(const std::string& path) {
    std::size_t i = 0;
    for (const auto& item : read_array(path)) {
        auto parsed = parse_knowledge_entry(item);
        if (!parsed)
            throw std::runtime_error(path + ": [" + std::to_string(i) + "]." + parsed.error().message);
        knowledge_base.entries.push_back(std::move(parsed).value());
        ++i;
    }
}

void FakeHost::load_resources_file(const std::string& path) {
    std::size_t i = 0;
    for (const auto& item : read_array(path)) {
        auto parsed = parse_resource(item);
        if (!parsed)
            throw std::runtime_error(path + ": [" + std::to_string(i) + "]." + parsed.error().message);
        profile.resources.push_back(std::move(parsed).value());
        ++i;
    }
}

void FakeHost::load_manifest_file(const std::string& path) {
    auto value = json::parse(read_file(path));
    const auto& m = value.as_object();
    profile.id = str(m, "id");
    profile.name = str(m, "name");
    if (const auto* locale = m.if_contains("locale"); locale && locale->is_object()) {
        const auto& l = locale->get_object();
        profile.language = str(l, "language");
        profile.timezone = str(l, "timezone");
        profile.currency = str(l, "currency");
        if (const auto* ls = l.if_contains("languages"); ls && ls->is_array())
            for (const auto& x : ls->get_array()) profile.languages.emplace_back(x.as_string());
    }
    if (const auto* business = m.if_contains("business"); business && business->is_object()) {
        const auto& b = business->get_object();
        profile.phone = str(b, "phone");
        profile.email = str(b, "email");
        profile.address = str(b, "address");
        if (const auto* hours = b.if_contains("hours"); hours && hours->is_object())
            for (const auto& [day, h] : hours->get_object())
                profile.hours[std::string(day)] = std::string(h.as_string());
        if (const auto* info = b.if_contains("info"); info && info->is_object())
            for (const auto& [key, text] : info->get_object())
                profile.info.emplace_back(std::string(key), std::string(text.as_string()));
    }
    if (const auto* persona = m.if_contains("persona"); persona && persona->is_object()) {
        const auto& p = persona->get_object();
        profile.persona = Persona{str(p, "name"), str(p, "tone"), str(p, "instructions")};
    }
    if (const auto* handoff = m.if_contains("handoff"); handoff && handoff->is_object()) {
        const auto& h = handoff->get_object();
        if (const auto* t = h.if_contains("confidence_threshold"); t && t->is_number())
            profile.handoff_confidence_threshold = t->to_number<double>();
        if (const auto* topics = h.if_contains("topics"); topics && topics->is_array())
            for (const auto& x : topics->get_array()) profile.handoff_topics.emplace_back(x.as_string());
    }
}

PluginPtr instantiate(const PluginDescriptor& descriptor, HostServices& host, const json::object& config) {
    json::object checked = config;
    auto problems = validate_config(config_keys(descriptor), checked);
    if (!problems.empty()) {
        for (const auto& p : problems)
            host.logger().error(std::string(descriptor.name) + ": " + p.key + ": " + p.message);
        return nullptr;
    }
    auto made = descriptor.create(checked, host);
    if (!made) {
        host.logger().error(std::string(descriptor.name) + ": " + made.error().message);
        return nullptr;
    }
    return std::move(made).value();
}

}  // namespace tezgah::sdk::testing
