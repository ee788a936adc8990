// A deliberately small JSON Schema checker: enough for tool arguments.
#include <tezgah/sdk/json_schema.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

namespace tezgah::sdk {
namespace {

bool has_type(const json::value& v, std::string_view type) {
    if (type == "string") return v.is_string();
    if (type == "integer")
        return v.is_int64() || v.is_uint64() ||
               (v.is_double() &&
                v.get_double() == static_cast<double>(static_cast<long long>(v.get_double())));
    if (type == "number") return v.is_number();
    if (type == "boolean") return v.is_bool();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "null") return v.is_null();
    return true;  // unknown type keywords are not ours to refuse
}

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string where(const std::string& path) { return path.empty() ? "arguments" : path; }

double as_number(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
}

Status check(const json::value& value, const json::object& schema, const std::string& path) {
    if (const auto* type = schema.if_contains("type")) {
        bool ok = false;
        std::string expected;
        if (type->is_string()) {
            ok = has_type(value, type->get_string());
            expected = type->get_string();
        } else if (type->is_array()) {
            for (const auto& t : type->get_array()) {
                if (!t.is_string()) continue;
                ok = ok || has_type(value, t.get_string());
                expected += (expected.empty() ? "" : " or ") + std::string(t.get_string());
            }
        } else {
            ok = true;
        }
        if (!ok) return Error{"invalid_arguments", where(path) + ": expected " + expected};
    }
    if (const auto* e = schema.if_contains("enum"); e && e->is_array()) {
        bool found = false;
        for (const auto& option : e->get_array()) found = found || option == value;
        if (!found) {
            std::string options;
            for (const auto& option : e->get_array())
                options += (options.empty() ? "" : ", ") + json_text(option);
            return Error{"invalid_arguments", where(path) + ": must be one of " + options};
        }
    }
    if (value.is_number()) {
        if (const auto* m = schema.if_contains("minimum");
            m && m->is_number() && as_number(value) < as_number(*m))
            return Error{"invalid_arguments", where(path) + ": must be at least " + json_text(*m)};
        if (const auto* m = schema.if_contains("maximum");
            m && m->is_number() && as_number(value) > as_number(*m))
            return Error{"invalid_arguments", where(path) + ": must be at most " + json_text(*m)};
    }
    if (value.is_string()) {
        auto length = text::length(value.get_string());
        if (const auto* m = schema.if_contains("minLength");
            m && m->is_number() && static_cast<double>(length) < as_number(*m))
            return Error{"invalid_arguments",
                         where(path) + ": must have at least " + json_text(*m) + " characters"};
        if (const auto* m = schema.if_contains("maxLength");
            m && m->is_number() && static_cast<double>(length) > as_number(*m))
            return Error{"invalid_arguments",
                         where(path) + ": must have at most " + json_text(*m) + " characters"};
    }
    if (value.is_object()) {
        const auto& object = value.get_object();
        const json::object* properties = nullptr;
        if (const auto* p = schema.if_contains("properties"); p && p->is_object())
            properties = &p->get_object();
        if (const auto* required = schema.if_contains("required"); required && required->is_array()) {
            for (const auto& key : required->get_array()) {
                if (key.is_string() && !object.contains(key.get_string()))
                    return Error{"invalid_arguments", join(path, key.get_string()) + ": required"};
            }
        }
        bool closed = false;
        if (const auto* a = schema.if_contains("additionalProperties"); a && a->is_bool())
            closed = !a->get_bool();
        for (const auto& [key, item] : object) {
            const json::value* sub = properties ? properties->if_contains(key) : nullptr;
            if (!sub) {
                if (closed) return Error{"invalid_arguments", join(path, key) + ": unknown argument"};
                continue;
            }
            if (!sub->is_object()) continue;
            if (auto s = check(item, sub->get_object(), join(path, key)); !s) return s;
        }
    }
    if (value.is_array()) {
        if (const auto* items = schema.if_contains("items"); items && items->is_object()) {
            std::size_t i = 0;
            for (const auto& item : value.get_array()) {
                if (auto s = check(item, items->get_object(), path + "[" + std::to_string(i++) + "]"); !s)
                    return s;
            }
        }
    }
    return {};
}

}  // namespace

Status validate_json(const json::value& value, const json::object& schema) {
    return check(value, schema, "");
}

}  // namespace tezgah::sdk
