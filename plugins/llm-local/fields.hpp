#pragma once
// A tool result's JSON fields as replies read them: the value, or a fallback when the field is
// missing or of another type.

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace tezgah::plugins::local {

inline std::string str(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

inline double num(const boost::json::object& o, std::string_view key, double fallback = 0) {
    const auto* v = o.if_contains(key);
    if (!v) return fallback;
    if (v->is_double()) return v->get_double();
    if (v->is_int64()) return static_cast<double>(v->get_int64());
    if (v->is_uint64()) return static_cast<double>(v->get_uint64());
    return fallback;
}

inline bool flag(const boost::json::object& o, std::string_view key, bool fallback) {
    const auto* v = o.if_contains(key);
    return v && v->is_bool() ? v->get_bool() : fallback;
}

}  // namespace tezgah::plugins::local
