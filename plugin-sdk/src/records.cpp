// Data-file records: parsing with errors that name the field, and the JSON form tools return.
#include <tezgah/sdk/catalog.hpp>

#include <cmath>

namespace tezgah::sdk {
namespace {

/// Reads one object's fields, remembering the first problem with the field's name.
class FieldReader {
public:
    explicit FieldReader(const json::object& object) : object_(object) {}

    std::string string(const char* key, bool required) {
        const auto* v = object_.if_contains(key);
        if (!v || v->is_null()) {
            if (required) fail(key, "required");
            return {};
        }
        if (!v->is_string()) {
            fail(key, "expected string");
            return {};
        }
        return std::string(v->get_string());
    }

    std::optional<double> number(const char* key, bool required) {
        const auto* v = object_.if_contains(key);
        if (!v || v->is_null()) {
            if (required) fail(key, "required");
            return std::nullopt;
        }
        if (v->is_int64()) return static_cast<double>(v->get_int64());
        if (v->is_uint64()) return static_cast<double>(v->get_uint64());
        if (v->is_double()) return v->get_double();
        fail(key, "expected number");
        return std::nullopt;
    }

    std::optional<long long> integer(const char* key, bool required) {
        auto n = number(key, required);
        if (!n) return std::nullopt;
        if (std::floor(*n) != *n) {
            fail(key, "expected integer");
            return std::nullopt;
        }
        return static_cast<long long>(*n);
    }

    std::optional<bool> boolean(const char* key, bool required) {
        const auto* v = object_.if_contains(key);
        if (!v || v->is_null()) {
            if (required) fail(key, "required");
            return std::nullopt;
        }
        if (!v->is_bool()) {
            fail(key, "expected boolean");
            return std::nullopt;
        }
        return v->get_bool();
    }

    std::vector<std::string> strings(const char* key) {
        std::vector<std::string> out;
        const auto* v = object_.if_contains(key);
        if (!v || v->is_null()) return out;
        if (!v->is_array()) {
            fail(key, "expected array of strings");
            return out;
        }
        for (const auto& item : v->get_array()) {
            if (!item.is_string()) {
                fail(key, "expected array of strings");
                return {};
            }
            out.emplace_back(item.get_string());
        }
        return out;
    }

    json::array array(const char* key) {
        const auto* v = object_.if_contains(key);
        if (!v || v->is_null()) return {};
        if (!v->is_array()) {
            fail(key, "expected array");
            return {};
        }
        return v->get_array();
    }

    json::object object(const char* key) {
        const auto* v = object_.if_contains(key);
        if (!v || v->is_null()) return {};
        if (!v->is_object()) {
            fail(key, "expected object");
            return {};
        }
        return v->get_object();
    }

    std::map<std::string, Translation> translations() {
        std::map<std::string, Translation> out;
        auto object = this->object("translations");
        for (const auto& [language, fields] : object) {
            if (!fields.is_object()) {
                fail("translations", std::string(language) + ": expected object");
                continue;
            }
            FieldReader inner(fields.get_object());
            Translation t;
            t.name = inner.string("name", false);
            t.aliases = inner.strings("aliases");
            t.description = inner.string("description", false);
            t.question = inner.string("question", false);
            t.answer = inner.string("answer", false);
            if (inner.error_) fail("translations", std::string(language) + "." + inner.error_->message);
            out.emplace(std::string(language), std::move(t));
        }
        return out;
    }

    void fail(const std::string& key, const std::string& message) {
        if (!error_) error_ = Error{"invalid_value", key + ": " + message};
    }

    const std::optional<Error>& error() const { return error_; }

private:
    const json::object& object_;
    std::optional<Error> error_;
};

template <class T>
Result<T> finish(const FieldReader& reader, T value) {
    if (const auto& error = reader.error()) return *error;
    return value;
}

json::object translations_json(const std::map<std::string, Translation>& translations) {
    json::object out;
    for (const auto& [language, t] : translations) {
        json::object o;
        if (!t.name.empty()) o["name"] = t.name;
        if (!t.aliases.empty()) {
            json::array a;
            for (const auto& alias : t.aliases) a.emplace_back(alias);
            o["aliases"] = std::move(a);
        }
        if (!t.description.empty()) o["description"] = t.description;
        if (!t.question.empty()) o["question"] = t.question;
        if (!t.answer.empty()) o["answer"] = t.answer;
        out[language] = std::move(o);
    }
    return out;
}

json::array string_array(const std::vector<std::string>& items) {
    json::array out;
    for (const auto& item : items) out.emplace_back(item);
    return out;
}

}  // namespace

const std::string& Offering::name_in(std::string_view language) const {
    auto it = translations.find(std::string(language));
    return it != translations.end() && !it->second.name.empty() ? it->second.name : name;
}

const std::string& KnowledgeEntry::question_in(std::string_view language) const {
    auto it = translations.find(std::string(language));
    return it != translations.end() && !it->second.question.empty() ? it->second.question : question;
}

const std::string& KnowledgeEntry::answer_in(std::string_view language) const {
    auto it = translations.find(std::string(language));
    return it != translations.end() && !it->second.answer.empty() ? it->second.answer : answer;
}

Result<Offering> parse_offering(const json::value& value) {
    if (!value.is_object()) return Error{"invalid_value", "expected object"};
    FieldReader r(value.get_object());
    Offering o;
    o.id = r.string("id", true);
    o.type = r.string("type", true);
    if (!o.type.empty() && o.type != "PRODUCT" && o.type != "SERVICE")
        r.fail("type", "expected PRODUCT or SERVICE, got \"" + o.type + "\"");
    o.name = r.string("name", true);
    o.category = r.string("category", false);
    o.price = r.number("price", true).value_or(0);
    if (o.price < 0) r.fail("price", "must not be negative");
    o.currency = r.string("currency", false);
    o.stock = r.integer("stock", false);
    if (o.stock && *o.stock < 0) r.fail("stock", "must not be negative");
    if (auto d = r.integer("duration_min", false)) {
        if (*d <= 0) r.fail("duration_min", "must be positive");
        o.duration_min = static_cast<int>(*d);
    }
    o.provider = r.string("provider", false);
    o.buffer_minutes = static_cast<int>(r.integer("buffer_minutes", false).value_or(0));
    for (const auto& slot : r.array("schedule")) {
        const auto* s = slot.if_object();
        const auto* day = s ? s->if_contains("day") : nullptr;
        const auto* time = s ? s->if_contains("time") : nullptr;
        if (!day || !day->is_string() || !time || !time->is_string()) {
            r.fail("schedule", "expected [{day, time}]");
            break;
        }
        o.schedule.push_back({std::string(day->get_string()), std::string(time->get_string())});
    }
    if (auto c = r.integer("capacity", false)) {
        if (*c < 1) r.fail("capacity", "must be at least 1");
        o.capacity = static_cast<int>(*c);
    }
    o.aliases = r.strings("aliases");
    o.attributes = r.object("attributes");
    o.available = r.boolean("available", false).value_or(true);
    o.description = r.string("description", false);
    o.translations = r.translations();
    return finish(r, std::move(o));
}

Result<KnowledgeEntry> parse_knowledge_entry(const json::value& value) {
    if (!value.is_object()) return Error{"invalid_value", "expected object"};
    FieldReader r(value.get_object());
    KnowledgeEntry e;
    e.id = r.string("id", true);
    e.question = r.string("question", true);
    e.answer = r.string("answer", true);
    e.category = r.string("category", false);
    e.keywords = r.strings("keywords");
    e.translations = r.translations();
    return finish(r, std::move(e));
}

Result<Resource> parse_resource(const json::value& value) {
    if (!value.is_object()) return Error{"invalid_value", "expected object"};
    FieldReader r(value.get_object());
    Resource res;
    res.id = r.string("id", true);
    res.name = r.string("name", true);
    res.type = r.string("type", true);
    if (!res.type.empty() && res.type != "person" && res.type != "room" && res.type != "equipment")
        r.fail("type", "expected person, room or equipment, got \"" + res.type + "\"");
    res.capacity = static_cast<int>(r.integer("capacity", false).value_or(1));
    if (res.capacity < 1) r.fail("capacity", "must be at least 1");
    for (const auto& [day, hours] : r.object("hours")) {
        if (!hours.is_string()) {
            r.fail("hours", std::string(day) + ": expected string");
            continue;
        }
        res.hours.emplace(std::string(day), std::string(hours.get_string()));
    }
    for (const auto& span : r.array("time_off")) {
        const auto* s = span.if_object();
        const auto* from = s ? s->if_contains("from") : nullptr;
        const auto* to = s ? s->if_contains("to") : nullptr;
        if (!from || !from->is_string() || !to || !to->is_string()) {
            r.fail("time_off", "expected [{from, to, reason?}]");
            break;
        }
        Resource::TimeOff off{std::string(from->get_string()), std::string(to->get_string()), {}};
        if (const auto* why = s->if_contains("reason"); why && why->is_string())
            off.reason = std::string(why->get_string());
        res.time_off.push_back(std::move(off));
    }
    return finish(r, std::move(res));
}

json::object to_json(const Offering& o) {
    json::object out{
        {"id", o.id},       {"type", o.type},         {"name", o.name},          {"category", o.category},
        {"price", o.price}, {"currency", o.currency}, {"available", o.available}};
    out["stock"] = o.stock ? json::value(*o.stock) : json::value(nullptr);
    if (o.duration_min) out["duration_min"] = *o.duration_min;
    if (!o.provider.empty()) out["provider"] = o.provider;
    if (o.buffer_minutes) out["buffer_minutes"] = o.buffer_minutes;
    if (!o.schedule.empty()) {
        json::array slots;
        for (const auto& slot : o.schedule)
            slots.push_back(json::object{{"day", slot.day}, {"time", slot.time}});
        out["schedule"] = std::move(slots);
    }
    if (o.capacity) out["capacity"] = *o.capacity;
    out["aliases"] = string_array(o.aliases);
    out["attributes"] = o.attributes;
    if (!o.description.empty()) out["description"] = o.description;
    if (!o.translations.empty()) out["translations"] = translations_json(o.translations);
    return out;
}

json::object to_json(const KnowledgeEntry& e) {
    json::object out{{"id", e.id},
                     {"question", e.question},
                     {"answer", e.answer},
                     {"category", e.category},
                     {"keywords", string_array(e.keywords)}};
    if (!e.translations.empty()) out["translations"] = translations_json(e.translations);
    return out;
}

}  // namespace tezgah::sdk
