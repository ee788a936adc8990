#include "tenants/manifest.hpp"

#include "lua/lua_host.hpp"
#include "plugins/registry.hpp"
#include "util/common.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>

namespace tezgah::engine {
namespace fs = std::filesystem;

namespace {

const std::set<std::string> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string join_field(const std::string& base, std::string_view key) {
    return base.empty() ? std::string(key) : base + "." + std::string(key);
}

/// Replaces every string "${NAME}" with the environment variable NAME, reporting missing ones.
void substitute_env(json::value& value, const std::string& field, const std::string& path,
                    std::vector<Problem>& problems) {
    static const std::regex kVar(R"(^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$)");
    if (value.is_string()) {
        std::smatch m;
        std::string s(value.get_string());
        if (std::regex_match(s, m, kVar)) {
            const char* env = std::getenv(m[1].str().c_str());
            if (!env) {
                problems.push_back({path, field, "environment variable " + m[1].str() + " is not set"});
                value = "";
            } else {
                value = env;
            }
        }
    } else if (value.is_object()) {
        for (auto& [key, item] : value.get_object())
            substitute_env(item, join_field(field, key), path, problems);
    } else if (value.is_array()) {
        std::size_t i = 0;
        for (auto& item : value.get_array())
            substitute_env(item, field + "[" + std::to_string(i++) + "]", path, problems);
    }
}

/// Typed reads of one JSON object's fields that record problems with full field names.
class Reader {
public:
    Reader(const json::object& object, std::string field, std::string path, std::vector<Problem>& problems)
        : object_(object), field_(std::move(field)), path_(std::move(path)), problems_(problems) {}

    void allow_only(std::initializer_list<const char*> keys) {
        for (const auto& [key, _] : object_) {
            bool known = std::any_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; });
            if (!known) {
                std::string list;
                for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
                problem(key, "unknown key (expected one of: " + list + ")");
            }
        }
    }

    const json::value* get(const char* key) const {
        const auto* v = object_.if_contains(key);
        return v && !v->is_null() ? v : nullptr;
    }

    std::string string(const char* key, bool required, const std::string& fallback = {}) {
        const auto* v = get(key);
        if (!v) {
            if (required) problem(key, "required");
            return fallback;
        }
        if (!v->is_string()) {
            problem(key, "expected string, got " + kind(*v));
            return fallback;
        }
        return std::string(v->get_string());
    }

    const json::object* object(const char* key, bool required = false) {
        const auto* v = get(key);
        if (!v) {
            if (required) problem(key, "required");
            return nullptr;
        }
        if (!v->is_object()) {
            problem(key, "expected object, got " + kind(*v));
            return nullptr;
        }
        return &v->get_object();
    }

    const json::array* array(const char* key) {
        const auto* v = get(key);
        if (!v) return nullptr;
        if (!v->is_array()) {
            problem(key, "expected array, got " + kind(*v));
            return nullptr;
        }
        return &v->get_array();
    }

    /// An integer field in [lo, hi] into `out`; absent leaves `out` as it is.
    void integer(const char* key, long long lo, long long hi, int& out) {
        const auto* v = get(key);
        if (!v) return;
        if (!v->is_int64() && !v->is_uint64()) {
            problem(key, "expected integer, got " + kind(*v));
            return;
        }
        auto n = v->is_int64() ? v->get_int64() : static_cast<long long>(v->get_uint64());
        if (n < lo || n > hi) {
            problem(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
            return;
        }
        out = static_cast<int>(n);
    }

    std::vector<std::string> strings(const char* key) {
        std::vector<std::string> out;
        const auto* a = array(key);
        if (!a) return out;
        for (std::size_t i = 0; i < a->size(); ++i) {
            if (!(*a)[i].is_string()) {
                problem(std::string(key) + "[" + std::to_string(i) + "]", "expected string");
                continue;
            }
            out.emplace_back((*a)[i].get_string());
        }
        return out;
    }

    Reader sub(const json::object& o, const char* key) {
        return Reader(o, join_field(field_, key), path_, problems_);
    }
    void problem(std::string_view key, std::string message) {
        problems_.push_back({path_, join_field(field_, key), std::move(message)});
    }
    static std::string kind(const json::value& v) { return sdk::kind_of(v); }
    const std::string& field() const { return field_; }

private:
    const json::object& object_;
    std::string field_;
    std::string path_;
    std::vector<Problem>& problems_;
};

LlmRef read_llm_entry(const json::object& o, const std::string& field, const std::string& path,
                      std::vector<Problem>& problems, bool allow_fallback) {
    LlmRef ref;
    for (const auto& [key, value] : o) {
        if (key == "provider") {
            if (!value.is_string() || value.get_string().empty())
                problems.push_back({path, field + ".provider", "expected a provider plugin name"});
            else
                ref.provider = value.get_string();
        } else if (key == "fallback") {
            if (!allow_fallback)
                problems.push_back(
                    {path, field + ".fallback", "a fallback entry cannot have its own fallback"});
        } else if (key == "deadline_ms" || key == "budget" || key == "cache") {
            // The engine's own settings (read_llm_policy): for the whole chain, not one provider.
            if (!allow_fallback)
                problems.push_back({path, field + "." + std::string(key),
                                    "set on \"llm\" itself: it applies to the whole provider chain"});
        } else if (!value.is_null()) {
            ref.config[key] = value;
        }
    }
    if (ref.provider.empty() && !o.contains("provider"))
        problems.push_back({path, field + ".provider", "required"});
    return ref;
}

/// `llm.deadline_ms`, `llm.budget` and `llm.cache`: the engine's settings for the provider chain.
LlmPolicy read_llm_policy(Reader& llm) {
    LlmPolicy policy;
    llm.integer("deadline_ms", 1000, 300000, policy.deadline_ms);
    if (const auto* budget = llm.object("budget")) {
        auto b = llm.sub(*budget, "budget");
        b.allow_only({"daily_usd", "monthly_usd", "on_exceed", "message"});
        auto amount = [&](const char* key, std::optional<double>& out) {
            const auto* v = b.get(key);
            if (!v) return;
            if (!v->is_number()) {
                b.problem(key, "expected number (US dollars), got " + Reader::kind(*v));
                return;
            }
            double usd = v->to_number<double>();
            if (usd < 0) {
                b.problem(key, "must not be negative");
                return;
            }
            out = usd;
        };
        amount("daily_usd", policy.daily_usd);
        amount("monthly_usd", policy.monthly_usd);
        auto on_exceed = b.string("on_exceed", false, "fallback");
        if (on_exceed != "fallback" && on_exceed != "refuse")
            b.problem("on_exceed",
                      "\"" + on_exceed + "\": expected \"fallback\" (answer with local) or \"refuse\"");
        policy.refuse_on_exceed = on_exceed == "refuse";
        policy.refuse_message = b.string("message", false);
    }
    if (const auto* cache = llm.object("cache")) {
        auto c = llm.sub(*cache, "cache");
        c.allow_only({"ttl_s", "negative_ttl_s"});
        c.integer("ttl_s", 0, 7 * 24 * 3600, policy.cache_ttl_s);
        c.integer("negative_ttl_s", 0, 3600, policy.cache_negative_ttl_s);
    }
    return policy;
}

void check_plugin(const PluginRegistry* registry, sdk::PluginKind kind, const std::string& name,
                  json::object config, const std::string& field, const std::string& path,
                  std::vector<Problem>& problems) {
    if (!registry) return;
    const auto* info = registry->find(name, kind);
    if (!info) {
        std::string known;
        for (const auto& p : registry->plugins())
            if (p.kind == kind) known += (known.empty() ? "" : ", ") + p.name;
        problems.push_back({path, field,
                            std::string("unknown ") + sdk::to_string(kind) + " plugin \"" + name +
                                "\" (installed: " + (known.empty() ? "none" : known) + ")"});
        return;
    }
    for (auto& p : PluginRegistry::validate_config(*info, config))
        problems.push_back({path, field + "." + p.key, std::move(p.message)});
}

std::vector<PluginRef> read_plugin_list(Reader& r, const char* key, sdk::PluginKind kind,
                                        const PluginRegistry* registry, const std::string& path,
                                        std::vector<Problem>& problems) {
    std::vector<PluginRef> out;
    const auto* a = r.array(key);
    if (!a) return out;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < a->size(); ++i) {
        std::string field = std::string(key) + "[" + std::to_string(i) + "]";
        const auto& item = (*a)[i];
        PluginRef ref;
        ref.field = field;
        if (item.is_string()) {
            std::string s(item.get_string());
            if (s.size() > 4 && s.ends_with(".lua"))
                ref.script = s;
            else
                ref.name = s;
        } else if (item.is_object()) {
            const auto& o = item.get_object();
            const auto* name = o.if_contains("name");
            if (!name || !name->is_string()) {
                problems.push_back({path, field + ".name", "required"});
                continue;
            }
            ref.name = name->get_string();
            for (const auto& [k, v] : o)
                if (k != "name") ref.config[k] = v;
        } else {
            problems.push_back({path, field, "expected a plugin name, a .lua path, or {name, ...config}"});
            continue;
        }
        std::string id = ref.script.empty() ? ref.name : ref.script;
        if (!seen.insert(id).second) problems.push_back({path, field, "\"" + id + "\" listed twice"});
        if (!ref.name.empty()) check_plugin(registry, kind, ref.name, ref.config, field, path, problems);
        out.push_back(std::move(ref));
    }
    return out;
}

}  // namespace

sdk::Result<json::value> parse_json_text(const std::string& text) {
    json::stream_parser parser;
    boost::system::error_code ec;
    std::size_t consumed = parser.write_some(text.data(), text.size(), ec);
    if (!ec && consumed < text.size()) {
        // trailing content after a complete value
        ec = json::error::extra_data;
    }
    if (!ec) parser.finish(ec);
    if (ec) {
        std::size_t offset = std::min(consumed, text.size());
        int line = 1, column = 1;
        for (std::size_t i = 0; i < offset; ++i) {
            if (text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        std::string what =
            ec == json::error::incomplete || consumed >= text.size() ? "truncated JSON" : "malformed JSON";
        return sdk::Error{sdk::errc::invalid_json, what + " at line " + std::to_string(line) + ", column " +
                                                       std::to_string(column) + " (" + ec.message() + ")"};
    }
    return parser.release();
}

std::vector<fs::path> discover_tenants(const fs::path& root) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (fs::exists(root / "tenant.json", ec)) return {root};
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        if (entry.is_directory(ec) && fs::exists(entry.path() / "tenant.json", ec))
            out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

ManifestResult load_manifest(const fs::path& folder, const PluginRegistry* registry) {
    ManifestResult result;
    auto& problems = result.problems;
    const std::string path = (folder / "tenant.json").string();
    auto text = read_file(folder / "tenant.json");
    if (!text) {
        problems.push_back({path, "-", "cannot read the file"});
        return result;
    }
    auto parsed = parse_json_text(*text);
    if (!parsed) {
        problems.push_back({path, "-", parsed.error().message});
        return result;
    }
    json::value root = std::move(parsed).value();
    if (!root.is_object()) {
        problems.push_back({path, "-", "expected a JSON object"});
        return result;
    }
    substitute_env(root, "", path, problems);

    Manifest m;
    m.folder = folder;
    m.manifest_path = path;
    auto& p = m.profile;
    Reader r(root.get_object(), "", path, problems);
    r.allow_only({"id", "name", "plan", "locale", "business", "persona", "llm", "channels", "tools", "rules",
                  "lua", "handoff", "data"});

    p.id = r.string("id", true);
    static const std::regex kId("^[a-z0-9-]{2,63}$");
    std::string folder_name = fs::absolute(folder).lexically_normal().filename().string();
    if (folder_name.empty())
        folder_name = fs::absolute(folder).lexically_normal().parent_path().filename().string();
    if (!p.id.empty()) {
        if (!std::regex_match(p.id, kId))
            r.problem("id", "\"" + p.id + "\" must match [a-z0-9-]{2,63}");
        else if (p.id != folder_name)
            r.problem("id", "\"" + p.id + "\" must equal the folder name \"" + folder_name + "\"");
    }
    p.name = r.string("name", true);
    m.plan = r.string("plan", false, "free");
    static const std::set<std::string> kPlans = {"free", "basic", "premium", "enterprise"};
    if (!kPlans.count(m.plan))
        r.problem("plan", "\"" + m.plan + "\" is not one of free, basic, premium, enterprise");

    if (const auto* locale = r.object("locale")) {
        auto l = r.sub(*locale, "locale");
        l.allow_only({"language", "languages", "timezone", "currency"});
        p.language = l.string("language", false, "tr");
        p.languages = l.strings("languages");
        p.timezone = l.string("timezone", false, "UTC");
        p.currency = l.string("currency", false, "TRY");
        static const std::regex kLang("^[a-z]{2}$");
        if (!std::regex_match(p.language, kLang))
            l.problem("language", "\"" + p.language + "\" is not a two-letter language code");
        for (const auto& lang : p.languages)
            if (!std::regex_match(lang, kLang))
                l.problem("languages", "\"" + lang + "\" is not a two-letter language code");
        if (!valid_timezone(p.timezone))
            l.problem("timezone", "\"" + p.timezone + "\" is not a known time zone");
        static const std::regex kCurrency("^[A-Z]{3}$");
        if (!std::regex_match(p.currency, kCurrency))
            l.problem("currency", "\"" + p.currency + "\" is not an ISO 4217 code");
    }
    if (p.languages.empty()) p.languages = {p.language};
    if (std::find(p.languages.begin(), p.languages.end(), p.language) == p.languages.end())
        p.languages.insert(p.languages.begin(), p.language);

    if (const auto* business = r.object("business")) {
        auto b = r.sub(*business, "business");
        b.allow_only({"phone", "email", "address", "hours", "info"});
        p.phone = b.string("phone", false);
        p.email = b.string("email", false);
        p.address = b.string("address", false);
        if (!p.email.empty() && p.email.find('@') == std::string::npos)
            b.problem("email", "\"" + p.email + "\" is not an e-mail address");
        if (const auto* hours = b.object("hours")) {
            auto h = b.sub(*hours, "hours");
            for (const auto& [day, range] : *hours) {
                if (!kDays.count(std::string(day))) {
                    h.problem(day, "unknown day (expected mon, tue, wed, thu, fri, sat, sun)");
                    continue;
                }
                if (range.is_null()) continue;
                if (!range.is_string() || !valid_hours_range(range.get_string())) {
                    h.problem(day, "expected \"HH:MM-HH:MM\" (opening before closing) or \"closed\"");
                    continue;
                }
                p.hours[std::string(day)] = std::string(range.get_string());
            }
        }
        if (const auto* info = b.object("info")) {
            auto in = b.sub(*info, "info");
            for (const auto& [key, text] : *info) {
                if (!text.is_string()) {
                    in.problem(key, "expected string");
                    continue;
                }
                p.info.emplace_back(std::string(key), std::string(text.get_string()));
            }
        }
    }
    if (const auto* persona = r.object("persona")) {
        auto ps = r.sub(*persona, "persona");
        ps.allow_only({"name", "tone", "instructions"});
        p.persona = sdk::Persona{ps.string("name", false), ps.string("tone", false),
                                 ps.string("instructions", false)};
    }
    if (const auto* llm = r.object("llm")) {
        m.llm = read_llm_entry(*llm, "llm", path, problems, true);
        auto policy_reader = r.sub(*llm, "llm");
        m.llm_policy = read_llm_policy(policy_reader);
        check_plugin(registry, sdk::PluginKind::llm, m.llm.provider, m.llm.config, "llm", path, problems);
        if (const auto* fb = llm->if_contains("fallback"); fb && !fb->is_null()) {
            if (!fb->is_array()) {
                problems.push_back({path, "llm.fallback", "expected array"});
            } else {
                for (std::size_t i = 0; i < fb->get_array().size(); ++i) {
                    std::string field = "llm.fallback[" + std::to_string(i) + "]";
                    const auto& e = fb->get_array()[i];
                    if (!e.is_object()) {
                        problems.push_back({path, field, "expected object {provider, ...}"});
                        continue;
                    }
                    auto ref = read_llm_entry(e.get_object(), field, path, problems, false);
                    check_plugin(registry, sdk::PluginKind::llm, ref.provider, ref.config, field, path,
                                 problems);
                    m.fallback.push_back(std::move(ref));
                }
            }
        }
    } else if (registry && !registry->offline_provider()) {
        problems.push_back(
            {path, "llm", "required: no offline provider plugin is installed to answer without one"});
    }
    if (const auto* channels = r.object("channels")) {
        for (const auto& [name, config] : *channels) {
            std::string field = "channels." + std::string(name);
            if (!config.is_object() && !config.is_null()) {
                problems.push_back({path, field, "expected the channel's config object"});
                continue;
            }
            json::object c = config.is_object() ? config.get_object() : json::object{};
            check_plugin(registry, sdk::PluginKind::channel, std::string(name), c, field, path, problems);
            m.channels.emplace(std::string(name), std::move(c));
        }
    }
    m.tools = read_plugin_list(r, "tools", sdk::PluginKind::tool, registry, path, problems);
    m.rules = read_plugin_list(r, "rules", sdk::PluginKind::rule, registry, path, problems);
    if (const auto* lua_block = r.object("lua")) {
        auto l = r.sub(*lua_block, "lua");
        l.allow_only({"max_ms"});
        int max_ms = 0;
        l.integer("max_ms", 1, 60000, max_ms);
        if (max_ms > 0) m.lua_max_ms = max_ms;
    }
    if (const auto* handoff = r.object("handoff")) {
        auto h = r.sub(*handoff, "handoff");
        h.allow_only({"confidence_threshold", "topics", "low_confidence_turns"});
        h.integer("low_confidence_turns", 0, 100, m.handoff_low_confidence_turns);
        if (const auto* t = h.get("confidence_threshold")) {
            if (!t->is_number())
                h.problem("confidence_threshold", "expected number");
            else if (t->to_number<double>() < 0 || t->to_number<double>() > 1)
                h.problem("confidence_threshold", "must be between 0 and 1");
            else
                p.handoff_confidence_threshold = t->to_number<double>();
        }
        p.handoff_topics = h.strings("topics");
    }
    if (const auto* data = r.object("data")) {
        auto d = r.sub(*data, "data");
        d.allow_only({"offerings", "knowledge", "resources"});
        m.offerings_file = d.string("offerings", false);
        m.knowledge_file = d.string("knowledge", false);
        m.resources_file = d.string("resources", false);
    }
    result.manifest = std::move(m);
    return result;
}

namespace {

/// Resolves a path from the manifest inside the tenant folder; refuses escapes.
std::optional<fs::path> inside_folder(const fs::path& folder, const std::string& relative) {
    fs::path rel(relative);
    if (rel.is_absolute()) return std::nullopt;
    auto normal = rel.lexically_normal();
    if (normal.empty() || *normal.begin() == "..") return std::nullopt;
    return folder / normal;
}

/// Records of one data file, with the position each had in the file (for messages).
template <class Record>
struct Records {
    std::vector<Record> items;
    std::vector<std::size_t> positions;
};

template <class Record, class Parse>
Records<Record> load_records(const Manifest& m, const std::string& relative, const char* field, Parse parse,
                             std::vector<Problem>& problems) {
    Records<Record> out;
    if (relative.empty()) return out;
    auto file = inside_folder(m.folder, relative);
    if (!file) {
        problems.push_back({m.manifest_path, std::string("data.") + field,
                            "\"" + relative + "\" must be a path inside the tenant folder"});
        return out;
    }
    const std::string path = file->string();
    auto text = read_file(*file);
    if (!text) {
        problems.push_back(
            {m.manifest_path, std::string("data.") + field, "cannot read \"" + relative + "\""});
        return out;
    }
    auto value = parse_json_text(*text);
    if (!value) {
        problems.push_back({path, "-", value.error().message});
        return out;
    }
    if (!value->is_array()) {
        problems.push_back({path, "-", "expected a JSON array of records"});
        return out;
    }
    std::set<std::string> ids;
    const auto& items = value->get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::string where = "[" + std::to_string(i) + "]";
        auto record = parse(items[i]);
        if (!record) {
            const auto& message = record.error().message;
            auto colon = message.find(": ");
            if (colon == std::string::npos)
                problems.push_back({path, where, message});
            else
                problems.push_back({path, where + "." + message.substr(0, colon), message.substr(colon + 2)});
            continue;
        }
        if (!ids.insert(record->id).second) {
            problems.push_back({path, where + ".id", "duplicate id \"" + record->id + "\""});
            continue;
        }
        out.items.push_back(std::move(record).value());
        out.positions.push_back(i);
    }
    return out;
}

}  // namespace

TenantData load_data(const Manifest& m, std::vector<Problem>& problems) {
    TenantData data;
    auto offerings =
        load_records<sdk::Offering>(m, m.offerings_file, "offerings", sdk::parse_offering, problems);
    data.knowledge = load_records<sdk::KnowledgeEntry>(m, m.knowledge_file, "knowledge",
                                                       sdk::parse_knowledge_entry, problems)
                         .items;
    data.resources =
        load_records<sdk::Resource>(m, m.resources_file, "resources", sdk::parse_resource, problems).items;
    // Services name the resource that provides them.
    if (!data.resources.empty()) {
        std::set<std::string> resource_ids;
        for (const auto& r : data.resources) resource_ids.insert(r.id);
        auto file = inside_folder(m.folder, m.offerings_file);
        for (std::size_t i = 0; i < offerings.items.size(); ++i) {
            const auto& o = offerings.items[i];
            if (!o.provider.empty() && !resource_ids.count(o.provider))
                problems.push_back({file ? file->string() : m.offerings_file,
                                    "[" + std::to_string(offerings.positions[i]) + "].provider",
                                    "unknown resource \"" + o.provider + "\""});
        }
    }
    data.offerings = std::move(offerings.items);
    return data;
}

lua::Limits lua_limits(const Manifest& m, const lua::ServerLimits& server) {
    lua::Limits limits;
    limits.wall_per_call = server.wall_for(m.lua_max_ms);
    return limits;
}

void check_scripts(const Manifest& m, std::vector<Problem>& problems, const lua::ServerLimits& server) {
    const lua::Limits limits = lua_limits(m, server);
    auto check = [&](const std::vector<PluginRef>& refs, lua::ScriptKind kind) {
        for (const auto& ref : refs) {
            if (ref.script.empty()) continue;
            auto file = inside_folder(m.folder, ref.script);
            if (!file) {
                problems.push_back({m.manifest_path, ref.field,
                                    "\"" + ref.script + "\" must be a path inside the tenant folder"});
                continue;
            }
            std::error_code ec;
            if (!fs::is_regular_file(*file, ec)) {
                problems.push_back({m.manifest_path, ref.field, "script \"" + ref.script + "\" not found"});
                continue;
            }
            for (const auto& message : lua::check_script(file->string(), kind, limits)) {
                auto colon = message.find(": ");
                if (colon == std::string::npos)
                    problems.push_back({file->string(), "-", message});
                else
                    problems.push_back({file->string(), message.substr(0, colon), message.substr(colon + 2)});
            }
        }
    };
    check(m.tools, lua::ScriptKind::tool);
    check(m.rules, lua::ScriptKind::rule);
}

}  // namespace tezgah::engine
