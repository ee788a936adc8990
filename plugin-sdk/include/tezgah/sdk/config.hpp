#pragma once
/// @file config.hpp
/// A plugin's configuration as data. The host checks a tenant's config against the keys a plugin
/// declares with validate_config() before the factory runs, and `sdk::testing::instantiate` does
/// exactly the same, so a factory reads its config with ConfigView and checks nothing by hand.
/// The same keys print `tezgah plugins` and each plugin's README table (config_table()).

#include <tezgah/sdk/plugin.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::sdk {

/// One thing wrong with a plugin's configuration.
struct ConfigProblem {
    std::string key;      ///< the key, e.g. "timeout_ms"
    std::string message;  ///< e.g. "expected an integer from 1 to 600000, got 0"
};

/// Checks `config` against `keys` and fills the default of every absent key: unknown keys,
/// required keys (an empty string counts as absent), types, minimum and maximum, allowed values.
/// A key set to null counts as absent. An integer written as 15000.0 is stored as 15000. Messages
/// say what was expected and what was given, except for a secret key: its value is never shown.
std::vector<ConfigProblem> validate_config(std::span<const ConfigKey> keys, json::object& config);

/// What `key` accepts, for people: "an integer from 1 to 600000", "one of auto, none, required,
/// omit", "an http:// or https:// URL".
std::string expectation(const ConfigKey& key);

/// The config keys of `descriptor`, read with the element size the plugin was built with
/// (`config_key_size`; 0 means the ABI 1.0 layout). `descriptor` is complete up to its own
/// minor version: the host's copy of a plugin's descriptor, or the plugin's own descriptor in its
/// tests. The keys point into the plugin's static data.
std::vector<ConfigKey> config_keys(const PluginDescriptor& descriptor);

/// Checks the keys a plugin declares: names present and unique, known types, defaults that are
/// valid JSON and valid values of their key, bounds and allowed values on the right types.
/// Problems name the key.
std::vector<ConfigProblem> check_config_keys(std::span<const ConfigKey> keys);

/// A key's type with its bounds, allowed values and secrecy: "integer from 1 to 600000",
/// "string: auto, none, required, omit", "string, secret".
std::string type_summary(const ConfigKey& key);

/// The keys as a Markdown table (key, type, default, description), as each plugin's README shows
/// them and `tezgah plugins --markdown` prints them.
std::string config_table(std::span<const ConfigKey> keys);

/// Reads a config that validate_config checked and filled. A key that is absent (optional, no
/// default) reads as empty, 0 or false, or nullopt / nullptr from the optional forms.
class ConfigView {
public:
    explicit ConfigView(const json::object& config) : config_(config) {}

    std::string string(std::string_view key) const;
    std::int64_t integer(std::string_view key) const;
    std::optional<std::int64_t> optional_integer(std::string_view key) const;
    double number(std::string_view key) const;
    std::optional<double> optional_number(std::string_view key) const;
    bool boolean(std::string_view key) const;
    std::vector<std::string> strings(std::string_view key) const;
    const json::object* object(std::string_view key) const;

private:
    const json::value* get(std::string_view key) const;
    const json::object& config_;
};

}  // namespace tezgah::sdk
