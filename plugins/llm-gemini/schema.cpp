#include "schema.hpp"

#include <tezgah/sdk/json_text.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::plugins::gemini {

namespace json = boost::json;

namespace {

constexpr int kMaxDepth = 24;  // nesting of the converted schema
constexpr int kMaxRefs = 8;    // $ref expansions along one path: recursive definitions stop here

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_known_type(std::string_view t) {
    return t == "string" || t == "number" || t == "integer" || t == "boolean" || t == "array" ||
           t == "object";
}

std::optional<std::int64_t> whole_number(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get_uint64());
    if (v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double() &&
        std::fabs(v.get_double()) < 9.0e15)
        return static_cast<std::int64_t>(v.get_double());
    return std::nullopt;
}

/// A JSON pointer inside the root schema ("#/$defs/Address"); null when it leads nowhere.
const json::object* resolve_pointer(const json::object& root, std::string_view ref) {
    if (ref == "#") return &root;
    if (ref.substr(0, 2) != "#/") return nullptr;
    ref.remove_prefix(2);
    const json::value* current = nullptr;
    const json::object* object = &root;
    while (true) {
        auto slash = ref.find('/');
        std::string token(ref.substr(0, slash));
        for (std::size_t at = 0; (at = token.find('~', at)) != std::string::npos; ++at) {
            if (at + 1 < token.size() && token[at + 1] == '1')
                token.replace(at, 2, "/");
            else if (at + 1 < token.size() && token[at + 1] == '0')
                token.replace(at, 2, "~");
        }
        if (object) {
            current = object->if_contains(token);
        } else if (current && current->is_array()) {
            const auto& array = current->get_array();
            char* end = nullptr;
            unsigned long index = std::strtoul(token.c_str(), &end, 10);
            current = (!token.empty() && *end == '\0' && index < array.size()) ? &array[index] : nullptr;
        } else {
            current = nullptr;
        }
        if (!current) return nullptr;
        object = current->is_object() ? &current->get_object() : nullptr;
        if (slash == std::string_view::npos) return object;
        ref.remove_prefix(slash + 1);
    }
}

class Converter {
public:
    explicit Converter(const json::object& root) : root_(root) {}

    json::object convert(const json::object& node, int depth, int refs) const {
        if (depth > kMaxDepth) return json::object{{"type", "object"}};
        json::object s = expand(node, refs);

        json::object out;
        bool nullable = false;
        if (const auto* n = s.if_contains("nullable"); n && n->is_bool()) nullable = n->get_bool();
        std::string description;
        if (const auto* d = s.if_contains("description"); d && d->is_string())
            description = d->get_string();
        else if (const auto* t = s.if_contains("title"); t && t->is_string())
            description = t->get_string();

        // anyOf / oneOf: alternatives. Branches that only add constraints to a node that has a shape
        // of its own (e.g. anyOf: [{required: [a]}, {required: [b]}]) are dropped.
        std::vector<const json::object*> raw_branches;
        for (const char* key : {"anyOf", "oneOf"})
            if (const auto* a = s.if_contains(key); a && a->is_array())
                for (const auto& b : a->get_array())
                    if (b.is_object()) raw_branches.push_back(&b.get_object());
        bool own_shape = s.contains("type") || s.contains("properties") || s.contains("items") ||
                         s.contains("enum") || s.contains("const");
        bool branches_shaped = std::any_of(raw_branches.begin(), raw_branches.end(),
                                           [](const json::object* b) { return has_shape(*b); });
        if (!raw_branches.empty() && (branches_shaped || !own_shape)) {
            json::array branches;
            for (const auto* b : raw_branches) {
                json::object e = expand(*b, refs);
                if (is_null_only(e)) {
                    nullable = true;
                    continue;
                }
                branches.push_back(convert(e, depth + 1, refs));
            }
            if (branches.size() == 1) {
                out = std::move(branches[0].get_object());
            } else if (!branches.empty()) {
                out["anyOf"] = std::move(branches);
            }
            if (!out.empty()) {
                if (!description.empty() && !out.contains("description")) out["description"] = description;
                if (nullable) out["nullable"] = true;
                return out;
            }
            // Nothing but null: fall through and describe the node by its own keywords.
        }

        // Types: a name or a list of names; "null" in the list means nullable.
        std::vector<std::string> types;
        if (const auto* t = s.if_contains("type")) {
            auto add = [&](const json::value& v) {
                if (!v.is_string()) return;
                std::string name = lower(v.get_string());
                if (name == "null")
                    nullable = true;
                else if (is_known_type(name) && std::find(types.begin(), types.end(), name) == types.end())
                    types.push_back(name);
            };
            if (t->is_array())
                for (const auto& v : t->get_array()) add(v);
            else
                add(*t);
        }

        // const and enum become a list of strings: Gemini's enum is for strings only.
        const json::array* enum_values = nullptr;
        json::array const_values;
        if (const auto* c = s.if_contains("const")) {
            const_values.push_back(*c);
            enum_values = &const_values;
        } else if (const auto* e = s.if_contains("enum"); e && e->is_array()) {
            enum_values = &e->get_array();
        }
        if (enum_values) {
            json::array strings;
            for (const auto& v : *enum_values) {
                if (v.is_null()) {
                    nullable = true;
                    continue;
                }
                json::string text = v.is_string() ? v.get_string() : json::string(tezgah::sdk::json_text(v));
                if (std::find(strings.begin(), strings.end(), json::value(text)) == strings.end())
                    strings.push_back(std::move(text));
            }
            if (!strings.empty()) {
                out["type"] = "string";
                if (!description.empty()) out["description"] = description;
                if (nullable) out["nullable"] = true;
                out["enum"] = std::move(strings);
                return out;
            }
        }

        if (types.size() > 1) {
            json::array branches;
            for (const auto& t : types) {
                json::object copy = s;
                copy["type"] = t;
                copy.erase("nullable");
                copy.erase("description");
                copy.erase("title");
                branches.push_back(convert(copy, depth + 1, refs));
            }
            if (!description.empty()) out["description"] = description;
            if (nullable) out["nullable"] = true;
            out["anyOf"] = std::move(branches);
            return out;
        }

        std::string type;
        if (!types.empty())
            type = types.front();
        else if (s.contains("properties"))
            type = "object";
        else if (s.contains("items"))
            type = "array";
        else if (s.contains("minimum") || s.contains("maximum"))
            type = "number";
        else
            type = "string";  // "any value": the one type every value can be written as
        out["type"] = type;

        if (const auto* f = s.if_contains("format"); f && f->is_string()) {
            std::string_view format = f->get_string();
            bool known = (type == "string" && (format == "enum" || format == "date-time")) ||
                         (type == "integer" && (format == "int32" || format == "int64")) ||
                         (type == "number" && (format == "float" || format == "double"));
            if (known) out["format"] = format;
        }
        if (!description.empty()) out["description"] = description;
        if (nullable) out["nullable"] = true;

        if (type == "object") {
            json::object properties;
            if (const auto* p = s.if_contains("properties"); p && p->is_object()) {
                for (const auto& [name, value] : p->get_object()) {
                    if (value.is_object())
                        properties[name] = convert(value.get_object(), depth + 1, refs);
                    else
                        properties[name] = json::object{{"type", "string"}};  // `true`: any value
                }
            }
            if (!properties.empty()) {
                json::array required;
                if (const auto* r = s.if_contains("required"); r && r->is_array())
                    for (const auto& name : r->get_array())
                        if (name.is_string() && properties.contains(name.get_string()) &&
                            std::find(required.begin(), required.end(), name) == required.end())
                            required.push_back(name);
                json::array ordering;
                if (const auto* o = s.if_contains("propertyOrdering"); o && o->is_array())
                    for (const auto& name : o->get_array())
                        if (name.is_string() && properties.contains(name.get_string()) &&
                            std::find(ordering.begin(), ordering.end(), name) == ordering.end())
                            ordering.push_back(name);
                out["properties"] = std::move(properties);
                if (!required.empty()) out["required"] = std::move(required);
                if (!ordering.empty()) out["propertyOrdering"] = std::move(ordering);
            }
        } else if (type == "array") {
            json::object items{{"type", "string"}};  // Gemini requires items on an ARRAY
            if (const auto* i = s.if_contains("items")) {
                if (i->is_object()) {
                    items = convert(i->get_object(), depth + 1, refs);
                } else if (i->is_array() && !i->get_array().empty()) {  // a tuple: any of its members
                    json::object tuple{{"anyOf", i->get_array()}};
                    items = convert(tuple, depth + 1, refs);
                }
            }
            out["items"] = std::move(items);
            for (const char* key : {"minItems", "maxItems"})
                if (const auto* v = s.if_contains(key))
                    if (auto n = whole_number(*v); n && *n >= 0) out[key] = *n;
        } else if (type == "number" || type == "integer") {
            for (const char* key : {"minimum", "maximum"})
                if (const auto* v = s.if_contains(key); v && v->is_number()) {
                    if (type == "integer") {
                        if (auto n = whole_number(*v))
                            out[key] = *n;
                        else
                            out[key] = key == std::string_view("minimum")
                                           ? std::ceil(v->to_number<double>())
                                           : std::floor(v->to_number<double>());
                    } else {
                        out[key] = *v;
                    }
                }
        }
        return out;
    }

private:
    static bool has_shape(const json::object& s) {
        for (const char* key :
             {"type", "properties", "items", "enum", "const", "$ref", "anyOf", "oneOf", "allOf"})
            if (s.contains(key)) return true;
        return false;
    }

    static bool is_null_only(const json::object& s) {
        const auto* t = s.if_contains("type");
        if (!t) return false;
        if (t->is_string()) return lower(t->get_string()) == "null";
        if (t->is_array()) {
            const auto& a = t->get_array();
            return !a.empty() && std::all_of(a.begin(), a.end(), [](const json::value& v) {
                return v.is_string() && lower(v.get_string()) == "null";
            });
        }
        return false;
    }

    /// Resolves $ref and merges allOf, recursively, into one plain schema node.
    json::object expand(const json::object& node, int& refs) const {
        json::object s = node;
        if (const auto* r = s.if_contains("$ref")) {
            const json::object* target = nullptr;
            if (r->is_string() && refs < kMaxRefs) target = resolve_pointer(root_, r->get_string());
            if (!target) {
                json::object fallback{{"type", "object"}};
                if (const auto* d = s.if_contains("description")) fallback["description"] = *d;
                return fallback;
            }
            ++refs;
            json::object merged = expand(*target, refs);
            for (const auto& [key, value] : s)
                if (key != "$ref") merged[key] = value;  // the referring node's own words win
            s = std::move(merged);
        }
        if (const auto* all = s.if_contains("allOf"); all && all->is_array()) {
            json::array parts = all->get_array();
            s.erase("allOf");
            for (const auto& part : parts) {
                if (!part.is_object()) continue;
                json::object e = expand(part.get_object(), refs);
                merge_into(s, e);
            }
        }
        return s;
    }

    static void merge_into(json::object& base, const json::object& extra) {
        for (const auto& [key, value] : extra) {
            if (key == "properties" && value.is_object()) {
                auto& props = base["properties"];
                if (!props.is_object()) props = json::object{};
                for (const auto& [name, schema] : value.get_object())
                    if (!props.get_object().contains(name)) props.get_object()[name] = schema;
            } else if (key == "required" && value.is_array()) {
                auto& required = base["required"];
                if (!required.is_array()) required = json::array{};
                for (const auto& name : value.get_array())
                    if (std::find(required.get_array().begin(), required.get_array().end(), name) ==
                        required.get_array().end())
                        required.get_array().push_back(name);
            } else if (!base.contains(key)) {
                base[key] = value;
            }
        }
    }

    const json::object& root_;
};

}  // namespace

json::object to_gemini_schema(const json::object& schema) {
    Converter converter(schema);
    return converter.convert(schema, 0, 0);
}

bool has_properties(const json::object& converted) {
    const auto* type = converted.if_contains("type");
    const auto* properties = converted.if_contains("properties");
    return type && type->is_string() && type->get_string() == "object" && properties &&
           properties->is_object() && !properties->get_object().empty();
}

}  // namespace tezgah::plugins::gemini
