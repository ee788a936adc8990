#include "tenants/manifest.hpp"

#include "lua/lua_host.hpp"
#include "plugins/registry.hpp"
#include "util/common.hpp"
#include "util/local_days.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>

#include <algorithm>
#include <cctype>
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

const std::regex& env_reference_pattern() {
    static const std::regex kVar(R"(^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$)");
    return kVar;
}

/// Hides what the environment gave in `problems` from `first` on: in messages, and in paths (a
/// data file or script may have been named by a variable).
void hide_env_values(const EnvValues& values, std::vector<Problem>& problems, std::size_t first) {
    if (values.empty()) return;
    for (auto i = first; i < problems.size(); ++i) {
        problems[i].path = values.redact(problems[i].path, problems[i].field);
        problems[i].message = values.redact(problems[i].message, problems[i].field);
    }
}

/// The variable `text` names when it is exactly "${NAME}"; empty otherwise.
std::string env_reference(const std::string& text) {
    std::smatch m;
    return std::regex_match(text, m, env_reference_pattern()) ? m[1].str() : std::string();
}

/// Variables named so are the engine's settings and the tenants' own: never shared.
constexpr std::string_view kEnginePrefix = "TEZGAH_";

/// The id part of a tenant variable TEZGAH_<ID>__<REST> (the first double underscore ends the
/// id; neither part empty), or nothing for any other name.
std::optional<std::string> variable_owner(std::string_view variable) {
    if (!variable.starts_with(kEnginePrefix)) return std::nullopt;
    auto rest = variable.substr(kEnginePrefix.size());
    auto ends_id = rest.find("__");
    if (ends_id == 0 || ends_id == std::string_view::npos || ends_id + 2 == rest.size()) return std::nullopt;
    return std::string(rest.substr(0, ends_id));
}

/// The id as it appears in its variables: capitals, `-` as `_`.
std::string env_form(std::string_view id) {
    std::string out;
    for (char c : id) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

/// Which variables a manifest may read: the tenant's own and the operator's shared ones.
struct EnvScope {
    std::string id;  ///< the tenant's id; empty while it is not known to be right
    const SharedEnv& shared;
};

/// The variables the operator shares, for messages: "none" or "OPENAI_API_KEY, SMTP_PASSWORD".
std::string shared_names(const SharedEnv& shared) {
    if (shared.empty()) return "none";
    std::string out;
    for (const auto& name : shared) out += (out.empty() ? "" : ", ") + name;
    return out;
}

/// Why `variable` may not be read, saying which names may and what to do instead; empty when it
/// may be read.
std::string refusal(const EnvScope& scope, const std::string& variable) {
    if (scope.shared.count(variable)) return {};
    const std::string reference = "${" + variable + "}";
    const std::string shared = "shared with --shared-env (now " + shared_names(scope.shared) + ")";
    // TEZGAH_ names are never shared (parse_shared_env), so sharing is no way out for them.
    const bool shareable = !variable.starts_with(kEnginePrefix);
    const std::string or_share = shareable ? ", or share it with --shared-env " + variable : "";
    if (scope.id.empty())
        return reference +
               " is not read: a tenant's own variables are named after its id, and this manifest's id is "
               "missing or not right, so it reads only the variables " +
               shared;
    const std::string id = env_form(scope.id);
    if (id.find("__") != std::string::npos || id.ends_with('_'))
        return reference + " is not read: the id \"" + scope.id +
               "\" cannot name variables (\"--\" or a trailing \"-\" makes a double underscore, which "
               "ends the id in TEZGAH_<ID>__<REST>), so it reads only the variables " +
               shared + (shareable ? "; share it with --shared-env " + variable : "; rename the tenant");
    const auto owner = variable_owner(variable);
    if (owner == id) return {};
    // What to call it as this tenant's own: its <REST>, or the name without the TEZGAH_ prefix.
    std::string rest = variable;
    if (owner)
        rest = variable.substr(kEnginePrefix.size() + owner->size() + 2);
    else if (variable.starts_with(kEnginePrefix))
        rest = variable.substr(kEnginePrefix.size());
    const std::string prefix = tenant_env_prefix(scope.id);
    return reference + " is not this tenant's variable: " + scope.id + " reads " + prefix +
           "<NAME> and the variables " + shared + "; name it " + prefix + rest + or_share;
}

/// Replaces every string "${NAME}" the tenant may read with the environment variable NAME,
/// remembering each value so that no message shows it, and reports the variables it may not read
/// and the unset ones. The top-level `id` is left alone: it names the tenant's variables.
void substitute_env(json::value& value, const std::string& field, const std::string& path,
                    const EnvScope& scope, EnvValues& values, std::vector<Problem>& problems,
                    std::vector<Problem>& unset) {
    if (value.is_string()) {
        const std::string variable = env_reference(std::string(value.get_string()));
        if (variable.empty()) return;
        if (auto refused = refusal(scope, variable); !refused.empty()) {
            problems.push_back({path, field, std::move(refused)});
            value = "";
            return;
        }
        const char* env = std::getenv(variable.c_str());
        if (!env) {
            unset.push_back({path, field, "environment variable " + variable + " is not set"});
            value = "";
            return;
        }
        values.add(field, variable, env);
        value = env;
    } else if (value.is_object()) {
        for (auto& [key, item] : value.get_object()) {
            if (field.empty() && key == "id") continue;
            substitute_env(item, join_field(field, key), path, scope, values, problems, unset);
        }
    } else if (value.is_array()) {
        std::size_t i = 0;
        for (auto& item : value.get_array())
            substitute_env(item, field + "[" + std::to_string(i++) + "]", path, scope, values, problems,
                           unset);
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
    // The engine reads the appointments tool's settings itself (appointments/book.hpp): a closure
    // that is not a date is named here, so `tezgah check` finds it before the tenant loads.
    if (kind == sdk::PluginKind::tool && name == "appointments") {
        const auto* closures = config.if_contains("closures");
        if (closures && closures->is_array()) {
            const auto& days = closures->get_array();
            for (std::size_t i = 0; i < days.size(); ++i)
                if (days[i].is_string() && !parse_day(days[i].get_string()))
                    problems.push_back({path, field + ".closures[" + std::to_string(i) + "]",
                                        "\"" + std::string(days[i].get_string()).substr(0, 40) +
                                            "\" is not a date YYYY-MM-DD"});
        }
    }
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

std::string tenant_env_prefix(std::string_view id) {
    return std::string(kEnginePrefix) + env_form(id) + "__";
}

sdk::Result<SharedEnv> parse_shared_env(std::string_view list) {
    SharedEnv out;
    static const std::regex kName("^[A-Za-z_][A-Za-z0-9_]*$");
    while (!list.empty()) {
        const auto comma = list.find(',');
        std::string name(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        if (name.empty()) continue;
        if (!std::regex_match(name, kName))
            return sdk::Error{sdk::errc::invalid_value,
                              "\"" + name +
                                  "\" is not an environment variable name (letters, digits and _, not "
                                  "starting with a digit)"};
        if (name.starts_with(kEnginePrefix))
            return sdk::Error{sdk::errc::invalid_value,
                              name +
                                  ": TEZGAH_ variables are the engine's own settings and the tenants' own "
                                  "(TEZGAH_<ID>__<REST>), never shared; share a name without the prefix"};
        out.insert(std::move(name));
    }
    return out;
}

void EnvValues::add(std::string field, std::string variable, std::string value) {
    if (value.empty()) return;  // nothing to hide, and "" would match everywhere
    Entry entry{std::move(field), std::move(variable), std::move(value)};
    auto at = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.value.size() < entry.value.size(); });
    entries_.insert(at, std::move(entry));
}

std::string EnvValues::variable_at(std::string_view field) const {
    for (const auto& e : entries_)
        if (e.field == field) return e.variable;
    return {};
}

std::string EnvValues::redact(std::string text, std::string_view field) const {
    if (entries_.empty()) return text;
    // `inner` is `outer` or a part of it: "llm.api_key" of "llm", "tools[1]" of "tools".
    const auto within = [](std::string_view inner, std::string_view outer) {
        return inner.starts_with(outer) &&
               (inner.size() == outer.size() || inner[outer.size()] == '.' || inner[outer.size()] == '[');
    };
    std::vector<const Entry*> order;
    for (const auto& e : entries_)
        if (!field.empty() && (within(field, e.field) || within(e.field, field))) order.push_back(&e);
    for (const auto& e : entries_)
        if (std::find(order.begin(), order.end(), &e) == order.end()) order.push_back(&e);
    // One pass, so that a replacement is never searched again for another value; at each place the
    // longest match wins, so a value inside a longer one never leaves the rest of the longer one.
    std::string out;
    out.reserve(text.size());
    const std::string_view view(text);
    for (std::size_t i = 0; i < view.size();) {
        const std::string_view at = view.substr(i);
        const Entry* best = nullptr;
        std::size_t best_length = 0;
        bool quoted = false;
        for (const Entry* e : order) {
            const std::size_t n = e->value.size();
            if (at.size() >= n + 2 && at[0] == '"' && at.substr(1, n) == e->value && at[n + 1] == '"' &&
                n + 2 > best_length) {
                best = e;
                best_length = n + 2;
                quoted = true;
            } else if (n >= kMinBareLength && at.starts_with(e->value) && n > best_length) {
                best = e;
                best_length = n;
                quoted = false;
            }
        }
        if (!best) {
            out += view[i++];
            continue;
        }
        out += (quoted ? "the value of ${" : "${") + best->variable + "}";
        i += best_length;
    }
    return out;
}

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

namespace {

/// The folder's name as it was reached (a tenant folder may be a symbolic link: its name is the
/// link's, which the id must equal, not its target's).
std::string folder_name_of(const fs::path& folder) {
    std::string name = fs::absolute(folder).lexically_normal().filename().string();
    if (name.empty()) name = fs::absolute(folder).lexically_normal().parent_path().filename().string();
    return name;
}

const std::regex& id_pattern() {
    static const std::regex kId("^[a-z0-9-]{2,63}$");
    return kId;
}

/// Reads and checks everything but the environment: `root` has had its `${NAME}` strings replaced.
void read_manifest(const json::object& root, const PluginRegistry* registry, const std::string& path,
                   Manifest& m, std::vector<Problem>& problems);

}  // namespace

ManifestResult load_manifest(const fs::path& folder, const PluginRegistry* registry,
                             const SharedEnv& shared) {
    ManifestResult result;
    auto& problems = result.problems;
    const std::string path = (folder / "tenant.json").string();
    auto file = resolve_in_folder(folder, "tenant.json");
    if (!file) {
        problems.push_back({path, "-", file.error().message});
        return result;
    }
    auto text = read_file(*file);
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
    Manifest m;
    m.folder = folder;
    m.manifest_path = path;
    // The id names the tenant's own variables, so it is known before any is read; one that is not
    // right (reported below) reads none of them.
    EnvScope scope{"", shared};
    if (const auto* id = root.get_object().if_contains("id"); id && id->is_string()) {
        std::string text_id(id->get_string());
        if (std::regex_match(text_id, id_pattern()) && text_id == folder_name_of(folder)) scope.id = text_id;
    }
    std::vector<Problem> unset;
    substitute_env(root, "", path, scope, m.env_values, problems, unset);
    // A channel whose secret is not set is disabled with a warning; the tenant serves the rest.
    for (auto& p : unset) {
        constexpr std::string_view kChannels = "channels.";
        if (p.field.starts_with(kChannels) && p.field.size() > kChannels.size()) {
            const auto name_end = p.field.find_first_of(".[", kChannels.size());
            std::string name = p.field.substr(kChannels.size(), name_end - kChannels.size());
            p.message += ": the " + name + " channel is disabled";
            m.disabled_channels.emplace(std::move(name), p.field + ": " + p.message);
            result.warnings.push_back(std::move(p));
        } else {
            problems.push_back(std::move(p));
        }
    }
    read_manifest(root.get_object(), registry, path, m, problems);
    hide_env_values(m.env_values, problems, 0);
    result.manifest = std::move(m);
    return result;
}

namespace {

void read_manifest(const json::object& root, const PluginRegistry* registry, const std::string& path,
                   Manifest& m, std::vector<Problem>& problems) {
    const fs::path& folder = m.folder;
    auto& p = m.profile;
    Reader r(root, "", path, problems);
    r.allow_only({"id", "name", "plan", "locale", "business", "persona", "llm", "channels", "tools", "rules",
                  "lua", "handoff", "data"});

    p.id = r.string("id", true);
    const std::string folder_name = folder_name_of(folder);
    if (!env_reference(p.id).empty())
        r.problem("id",
                  "\"" + p.id +
                      "\": the id cannot come from the environment (it names the tenant's own variables, "
                      "TEZGAH_<ID>__<REST>)");
    else if (!p.id.empty() && !std::regex_match(p.id, id_pattern()))
        r.problem("id", "\"" + p.id + "\" must match [a-z0-9-]{2,63}");
    else if (!p.id.empty() && p.id != folder_name)
        r.problem("id", "\"" + p.id + "\" must equal the folder name \"" + folder_name + "\"");
    p.name = r.string("name", true);
    // No plan: none of the plans file's limits apply (ops/plans.hpp).
    m.plan = r.string("plan", false, "");
    static const std::set<std::string> kPlans = {"free", "basic", "premium", "enterprise"};
    if (const auto* plan = root.if_contains("plan"); plan && plan->is_string() && !kPlans.count(m.plan))
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
            if (m.disabled_channels.contains(std::string(name))) continue;
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
}

/// Whether `path` is `folder` or inside it; both absolute and without symbolic links.
bool is_within(const fs::path& folder, const fs::path& path) {
    auto [f, p] = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
    // A trailing separator on `folder` shows as a last, empty element.
    return f == folder.end() || (std::next(f) == folder.end() && f->empty());
}

/// The path a manifest names, as problems show it: under the folder as the user named it.
std::string shown_path(const fs::path& folder, const std::string& relative) {
    return (folder / fs::path(relative).lexically_normal()).string();
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
    auto file = resolve_in_folder(m.folder, relative);
    if (!file) {
        problems.push_back({m.manifest_path, std::string("data.") + field, file.error().message});
        return out;
    }
    const std::string path = shown_path(m.folder, relative);
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

sdk::Result<fs::path> resolve_in_folder(const fs::path& folder, const std::string& relative) {
    const fs::path normal = fs::path(relative).lexically_normal();
    if (fs::path(relative).is_absolute() || normal.empty() || *normal.begin() == "..")
        return sdk::Error{sdk::errc::invalid_value,
                          "\"" + relative + "\" must be a path inside the tenant folder"};
    std::error_code ec;
    // The folder itself may be a symbolic link (scripts/demo links the tenants it serves): its
    // files are judged against where it leads.
    const fs::path root = fs::weakly_canonical(fs::absolute(folder), ec);
    if (ec) return sdk::Error{sdk::errc::not_found, "\"" + relative + "\": " + ec.message()};
    const auto outside = [&](const std::string& how) {
        return sdk::Error{sdk::errc::invalid_value,
                          "\"" + relative + "\" leads outside the tenant folder (" + how + ")"};
    };
    // Each link on the way, so that the message names the one that leads out.
    fs::path on_the_way = root;
    for (const auto& part : normal) {
        on_the_way /= part;
        if (!fs::is_symlink(on_the_way, ec)) continue;
        const auto link = on_the_way.lexically_relative(root);
        if (!fs::exists(on_the_way, ec))
            return sdk::Error{sdk::errc::invalid_value,
                              "\"" + relative + "\" leads nowhere (" +
                                  (link == normal ? std::string("a symbolic link")
                                                  : link.string() + " is a symbolic link") +
                                  " to " + fs::read_symlink(on_the_way, ec).string() +
                                  ", which does not exist)"};
        const auto target = fs::weakly_canonical(on_the_way, ec);
        if (!ec && !is_within(root, target))
            return outside(
                (link == normal ? std::string("a symbolic link") : link.string() + " is a symbolic link") +
                " to " + target.string());
    }
    const fs::path target = fs::weakly_canonical(root / normal, ec);
    if (ec) return sdk::Error{sdk::errc::not_found, "\"" + relative + "\": " + ec.message()};
    if (!is_within(root, target)) return outside("through a symbolic link, to " + target.string());
    return target;
}

TenantData load_data(const Manifest& m, std::vector<Problem>& problems) {
    const std::size_t first_new = problems.size();
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
        for (std::size_t i = 0; i < offerings.items.size(); ++i) {
            const auto& o = offerings.items[i];
            if (!o.provider.empty() && !resource_ids.count(o.provider))
                problems.push_back({shown_path(m.folder, m.offerings_file),
                                    "[" + std::to_string(offerings.positions[i]) + "].provider",
                                    "unknown resource \"" + o.provider + "\""});
        }
    }
    data.offerings = std::move(offerings.items);
    hide_env_values(m.env_values, problems, first_new);
    return data;
}

lua::Limits lua_limits(const Manifest& m, const lua::ServerLimits& server) {
    lua::Limits limits;
    limits.wall_per_call = server.wall_for(m.lua_max_ms);
    return limits;
}

void check_scripts(const Manifest& m, std::vector<Problem>& problems, const lua::ServerLimits& server) {
    const std::size_t first_new = problems.size();
    const lua::Limits limits = lua_limits(m, server);
    auto check = [&](const std::vector<PluginRef>& refs, lua::ScriptKind kind) {
        for (const auto& ref : refs) {
            if (ref.script.empty()) continue;
            auto file = resolve_in_folder(m.folder, ref.script);
            if (!file) {
                problems.push_back({m.manifest_path, ref.field, file.error().message});
                continue;
            }
            std::error_code ec;
            if (!fs::is_regular_file(*file, ec)) {
                problems.push_back({m.manifest_path, ref.field, "script \"" + ref.script + "\" not found"});
                continue;
            }
            // Read where it was found to lead, named as the manifest names it.
            const std::string shown = shown_path(m.folder, ref.script);
            for (const auto& message : lua::check_script(file->string(), kind, shown, limits)) {
                auto colon = message.find(": ");
                if (colon == std::string::npos)
                    problems.push_back({shown, "-", message});
                else
                    problems.push_back({shown, message.substr(0, colon), message.substr(colon + 2)});
            }
        }
    };
    check(m.tools, lua::ScriptKind::tool);
    check(m.rules, lua::ScriptKind::rule);
    hide_env_values(m.env_values, problems, first_new);
}

}  // namespace tezgah::engine
