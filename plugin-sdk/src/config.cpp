#include <tezgah/sdk/config.hpp>
#include <tezgah/sdk/json_text.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

namespace tezgah::sdk {
namespace {

/// A number as people write it: 600000, not 6e+05; 0.5 as 0.5.
std::string number_text(double value) {
    char buffer[400];  // fixed notation of any double fits
    const auto format = std::abs(value) < 1e15 ? std::chars_format::fixed : std::chars_format::general;
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value, format);
    return std::string(buffer, result.ptr);
}

bool is_http_url(std::string_view s) {
    for (std::string_view scheme : {"http://", "https://"}) {
        if (s.size() > scheme.size() && s.substr(0, scheme.size()) == scheme) return true;
    }
    return false;
}

std::string allowed_list(const ConfigKey& key) {
    std::string out;
    for (const char* const* a = key.allowed; a && *a; ++a) out += (out.empty() ? "" : ", ") + std::string(*a);
    return out;
}

bool is_allowed(const ConfigKey& key, std::string_view value) {
    if (!key.allowed) return true;
    for (const char* const* a = key.allowed; *a; ++a)
        if (value == *a) return true;
    return false;
}

/// The integer `v` holds (also written as 15000.0), or none.
std::optional<std::int64_t> as_integer(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        double d = v.get_double();
        if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e15) return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

std::string range_text(const ConfigKey& key) {
    if (key.minimum.set && key.maximum.set)
        return " from " + number_text(key.minimum.value) + " to " + number_text(key.maximum.value);
    if (key.minimum.set) return " of at least " + number_text(key.minimum.value);
    if (key.maximum.set) return " of at most " + number_text(key.maximum.value);
    return "";
}

bool in_range(const ConfigKey& key, double value) {
    return !(key.minimum.set && value < key.minimum.value) && !(key.maximum.set && value > key.maximum.value);
}

/// Checks one present value; fills `message` and returns false when it does not fit.
bool check_value(const ConfigKey& key, json::value& value, std::string& message) {
    const auto given = [&](const std::string& what) { return key.secret ? std::string() : ", got " + what; };
    const auto wrong_type = [&] {
        message = "expected " + expectation(key) + ", got " + kind_of(value);
        return false;
    };
    switch (key.type) {
        case ConfigType::string:
        case ConfigType::url: {
            if (!value.is_string()) return wrong_type();
            std::string_view s = value.get_string();
            if (key.type == ConfigType::url && !is_http_url(s)) {
                message = "expected " + expectation(key) + given("\"" + std::string(s) + "\"");
                return false;
            }
            if (!is_allowed(key, s)) {
                message = "expected " + expectation(key) + given("\"" + std::string(s) + "\"");
                return false;
            }
            return true;
        }
        case ConfigType::integer: {
            auto n = as_integer(value);
            if (!n) {
                if (value.is_number()) {
                    message = "expected " + expectation(key) + given(json::serialize(value));
                    return false;
                }
                return wrong_type();
            }
            if (!in_range(key, static_cast<double>(*n))) {
                message = "expected " + expectation(key) + given(std::to_string(*n));
                return false;
            }
            value = *n;
            return true;
        }
        case ConfigType::number: {
            if (!value.is_number()) return wrong_type();
            double d = value.to_number<double>();
            if (!std::isfinite(d) || !in_range(key, d)) {
                message = "expected " + expectation(key) + given(number_text(d));
                return false;
            }
            return true;
        }
        case ConfigType::boolean:
            return value.is_bool() || wrong_type();
        case ConfigType::object:
            return value.is_object() || wrong_type();
        case ConfigType::array:
            return value.is_array() || wrong_type();
        case ConfigType::string_list: {
            if (!value.is_array()) return wrong_type();
            const auto& items = value.get_array();
            for (std::size_t i = 0; i < items.size(); ++i) {
                if (!items[i].is_string()) {
                    message = "[" + std::to_string(i) + "]: expected a string, got " + kind_of(items[i]);
                    return false;
                }
                if (!is_allowed(key, items[i].get_string())) {
                    message = "[" + std::to_string(i) + "]: expected one of " + allowed_list(key) +
                              given("\"" + std::string(items[i].get_string()) + "\"");
                    return false;
                }
            }
            return true;
        }
    }
    message = "has a type this engine does not know";
    return false;
}

bool known_type(ConfigType type) {
    switch (type) {
        case ConfigType::string:
        case ConfigType::integer:
        case ConfigType::number:
        case ConfigType::boolean:
        case ConfigType::object:
        case ConfigType::array:
        case ConfigType::string_list:
        case ConfigType::url:
            return true;
    }
    return false;
}

/// Null, or an empty string where the key needs a value: the key counts as not given.
bool counts_as_absent(const ConfigKey& key, const json::value* value) {
    if (!value || value->is_null()) return true;
    return value->is_string() && value->get_string().empty() && (key.required || key.default_json);
}

}  // namespace

std::string expectation(const ConfigKey& key) {
    switch (key.type) {
        case ConfigType::string:
            return key.allowed ? "one of " + allowed_list(key) : std::string("a string");
        case ConfigType::url:
            return "an http:// or https:// URL";
        case ConfigType::integer:
            return "an integer" + range_text(key);
        case ConfigType::number:
            return "a number" + range_text(key);
        case ConfigType::boolean:
            return "true or false";
        case ConfigType::object:
            return "an object";
        case ConfigType::array:
            return "an array";
        case ConfigType::string_list:
            return key.allowed ? "a list of " + allowed_list(key) : std::string("a list of strings");
    }
    return "a value";
}

std::vector<ConfigProblem> validate_config(std::span<const ConfigKey> keys, json::object& config) {
    std::vector<ConfigProblem> problems;
    auto find = [&](std::string_view name) -> const ConfigKey* {
        for (const auto& k : keys)
            if (k.name && name == k.name) return &k;
        return nullptr;
    };
    for (auto& [name, value] : config) {
        const ConfigKey* key = find(name);
        if (!key) {
            std::string known;
            for (const auto& k : keys)
                known += (known.empty() ? "" : ", ") + std::string(k.name ? k.name : "");
            problems.push_back({std::string(name), known.empty()
                                                       ? "unknown key (this plugin takes no configuration)"
                                                       : "unknown key (known: " + known + ")"});
            continue;
        }
        if (counts_as_absent(*key, &value)) continue;  // filled or reported below
        std::string message;
        if (!check_value(*key, value, message)) problems.push_back({std::string(name), std::move(message)});
    }
    for (const auto& key : keys) {
        if (!key.name) continue;
        auto* value = config.if_contains(key.name);
        if (!counts_as_absent(key, value)) continue;
        if (key.required) {
            problems.push_back({key.name, "required"});
        } else if (key.default_json) {
            boost::system::error_code ec;
            auto parsed = json::parse(key.default_json, ec);
            if (!ec) config[key.name] = std::move(parsed);
        } else if (value && value->is_null()) {
            config.erase(key.name);
        }
    }
    return problems;
}

std::vector<ConfigKey> config_keys(const PluginDescriptor& descriptor) {
    std::vector<ConfigKey> keys;
    if (!descriptor.config_keys || descriptor.config_key_count == 0) return keys;
    const std::size_t stride = descriptor.config_key_size ? descriptor.config_key_size : kConfigKeySize_1_0;
    const auto* base = reinterpret_cast<const unsigned char*>(descriptor.config_keys);
    keys.reserve(descriptor.config_key_count);
    for (std::size_t i = 0; i < descriptor.config_key_count; ++i) {
        ConfigKey key{};
        std::memcpy(&key, base + i * stride, std::min(stride, sizeof(ConfigKey)));
        keys.push_back(key);
    }
    return keys;
}

std::vector<ConfigProblem> check_config_keys(std::span<const ConfigKey> keys) {
    std::vector<ConfigProblem> problems;
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& key = keys[i];
        if (!key.name || !*key.name) {
            problems.push_back({"[" + std::to_string(i) + "]", "a config key without a name"});
            continue;
        }
        if (!names.insert(key.name).second) problems.push_back({key.name, "declared twice"});
        if (!known_type(key.type)) {
            problems.push_back({key.name, "unknown type " + std::to_string(static_cast<int>(key.type))});
            continue;
        }
        const bool numeric = key.type == ConfigType::integer || key.type == ConfigType::number;
        if ((key.minimum.set || key.maximum.set) && !numeric)
            problems.push_back({key.name, "minimum and maximum apply to integer and number keys only"});
        if (key.minimum.set && key.maximum.set && key.minimum.value > key.maximum.value)
            problems.push_back({key.name, "minimum is larger than maximum"});
        if (key.allowed && key.type != ConfigType::string && key.type != ConfigType::string_list)
            problems.push_back({key.name, "allowed values apply to string and string list keys only"});
        if (key.default_json) {
            boost::system::error_code ec;
            auto parsed = json::parse(key.default_json, ec);
            std::string message;
            if (ec)
                problems.push_back({key.name, "default is not valid JSON: " + std::string(key.default_json)});
            else if (!check_value(key, parsed, message))
                problems.push_back({key.name, "default " + std::string(key.default_json) + ": " + message});
        }
    }
    return problems;
}

std::string config_table(std::span<const ConfigKey> keys) {
    const auto cell = [](std::string_view text) {
        std::string out;
        for (char c : text) {
            if (c == '|')
                out += "\\|";
            else if (c == '\n')
                out += ' ';
            else
                out += c;
        }
        return out;
    };
    std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
    if (keys.empty()) return out + "| (none) | | | this plugin takes no configuration |\n";
    for (const auto& key : keys) {
        std::string fallback = key.required       ? "required"
                               : key.default_json ? "`" + std::string(key.default_json) + "`"
                                                  : "";
        out += "| `" + std::string(key.name ? key.name : "") + "` | " + cell(type_summary(key)) + " | " +
               cell(fallback) + " | " + cell(key.description ? key.description : "") + " |\n";
    }
    return out;
}

std::string type_summary(const ConfigKey& key) {
    std::string out = to_string(key.type);
    out += range_text(key);
    if (key.allowed) out += ": " + allowed_list(key);
    if (key.secret) out += ", secret";
    return out;
}

const json::value* ConfigView::get(std::string_view key) const {
    const auto* v = config_.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
}

std::string ConfigView::string(std::string_view key) const {
    const auto* v = get(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t ConfigView::integer(std::string_view key) const { return optional_integer(key).value_or(0); }

std::optional<std::int64_t> ConfigView::optional_integer(std::string_view key) const {
    const auto* v = get(key);
    return v ? as_integer(*v) : std::nullopt;
}

double ConfigView::number(std::string_view key) const { return optional_number(key).value_or(0); }

std::optional<double> ConfigView::optional_number(std::string_view key) const {
    const auto* v = get(key);
    if (!v || !v->is_number()) return std::nullopt;
    return v->to_number<double>();
}

bool ConfigView::boolean(std::string_view key) const {
    const auto* v = get(key);
    return v && v->is_bool() && v->get_bool();
}

std::vector<std::string> ConfigView::strings(std::string_view key) const {
    std::vector<std::string> out;
    if (const auto* v = get(key); v && v->is_array())
        for (const auto& item : v->get_array())
            if (item.is_string()) out.emplace_back(item.get_string());
    return out;
}

const json::object* ConfigView::object(std::string_view key) const {
    const auto* v = get(key);
    return v && v->is_object() ? &v->get_object() : nullptr;
}

}  // namespace tezgah::sdk
