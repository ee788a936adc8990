// The `catalog` tool plugin: product lookups, listings by category, and the business's general
// information (hours, address, contact, business.info texts), for the assistant to call.
#include <tezgah/sdk/sdk.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tezgah::plugins::catalog {
namespace {

namespace json = boost::json;
namespace text = sdk::text;
using sdk::Error;
using sdk::Offering;
using sdk::Result;

/// Other offerings whose score is within this of the best are reported as "also_matching".
constexpr double kCloseScore = 0.1;
constexpr std::size_t kMaxAlternatives = 3;
constexpr std::size_t kMaxSuggestions = 3;

const char* const kProductInfoSchema = R"({
  "type": "object",
  "properties": {
    "product": {"type": "string", "minLength": 1,
                "description": "The product or service: its id, or the customer's own words (e.g. 'saten gecelik', 'velvet robe')."},
    "query_type": {"type": "string", "enum": ["price", "stock", "details"],
                   "description": "What the customer wants to know: price, stock, or details (default)."}
  },
  "required": ["product"],
  "additionalProperties": false
})";

const char* const kListSchema = R"({
  "type": "object",
  "properties": {
    "category": {"type": "string", "description": "Only this category (e.g. 'Pijama'); omit for every category."},
    "type": {"type": "string", "enum": ["PRODUCT", "SERVICE", "product", "service"],
             "description": "Only products or only services; omit for both."}
  },
  "additionalProperties": false
})";

const char* const kGeneralInfoSchema = R"({
  "type": "object",
  "properties": {
    "info_type": {"type": "string", "minLength": 1,
                  "description": "hours, address, phone, email, contact, all, or a business information topic such as iade (returns), kargo (shipping), odeme (payment)."}
  },
  "required": ["info_type"],
  "additionalProperties": false
})";

json::object parse_schema(const char* text) { return json::parse(text).as_object(); }

std::string string_arg(const json::object& args, std::string_view key) {
    const auto* value = args.if_contains(key);
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::string language_of(const sdk::TurnContext& turn, const sdk::TenantProfile& tenant) {
    if (!turn.language.empty()) return turn.language;
    return tenant.language.empty() ? "tr" : tenant.language;
}

json::value stock_json(const Offering& offering) {
    return offering.stock ? json::value(*offering.stock) : json::value(nullptr);
}

/// The short form of an offering used in lists, suggestions and alternatives.
json::object brief(const Offering& offering, std::string_view language) {
    return json::object{{"id", offering.id},
                        {"name", offering.name_in(language)},
                        {"price", offering.price},
                        {"currency", offering.currency},
                        {"stock", stock_json(offering)},
                        {"in_stock", offering.in_stock()},
                        {"category", offering.category}};
}

json::object details(const Offering& offering, std::string_view language) {
    json::object out{{"id", offering.id},
                     {"name", offering.name_in(language)},
                     {"original_name", offering.name},
                     {"type", offering.type},
                     {"category", offering.category},
                     {"price", offering.price},
                     {"currency", offering.currency},
                     {"stock", stock_json(offering)},
                     {"in_stock", offering.in_stock()},
                     {"available", offering.available}};
    if (offering.duration_min) out["duration_min"] = *offering.duration_min;
    out["attributes"] = offering.attributes;
    std::string description = offering.description;
    if (const auto it = offering.translations.find(std::string(language));
        it != offering.translations.end() && !it->second.description.empty()) {
        description = it->second.description;
    }
    if (!description.empty()) out["description"] = description;
    return out;
}

/// Days in the order people read them.
constexpr std::array<std::pair<const char*, const char*>, 7> kDays = {{{"mon", "Monday"},
                                                                       {"tue", "Tuesday"},
                                                                       {"wed", "Wednesday"},
                                                                       {"thu", "Thursday"},
                                                                       {"fri", "Friday"},
                                                                       {"sat", "Saturday"},
                                                                       {"sun", "Sunday"}}};

/// Words customers use for the fixed topics, folded (both languages).
const std::map<std::string, std::string>& fixed_synonyms() {
    static const std::map<std::string, std::string> words = {
        {"hours", "hours"},   {"hour", "hours"},      {"open", "hours"},       {"opening", "hours"},
        {"saat", "hours"},    {"saatler", "hours"},   {"calisma", "hours"},    {"acik", "hours"},
        {"mesai", "hours"},   {"address", "address"}, {"adres", "address"},    {"location", "address"},
        {"konum", "address"}, {"nerede", "address"},  {"where", "address"},    {"magaza", "address"},
        {"phone", "phone"},   {"telefon", "phone"},   {"tel", "phone"},        {"numara", "phone"},
        {"number", "phone"},  {"call", "phone"},      {"email", "email"},      {"mail", "email"},
        {"eposta", "email"},  {"contact", "contact"}, {"iletisim", "contact"}, {"all", "all"},
        {"hepsi", "all"},     {"tum", "all"},         {"everything", "all"},
    };
    return words;
}

/// English words for common business.info keys; used only when the tenant has that key.
const std::map<std::string, std::string>& info_synonyms() {
    static const std::map<std::string, std::string> words = {
        {"return", "iade"},    {"returns", "iade"},       {"refund", "iade"},     {"shipping", "kargo"},
        {"delivery", "kargo"}, {"cargo", "kargo"},        {"payment", "odeme"},   {"pay", "odeme"},
        {"cancel", "iptal"},   {"cancellation", "iptal"}, {"parking", "otopark"},
    };
    return words;
}

class CatalogTool final : public sdk::Tool {
public:
    CatalogTool(sdk::HostServices& host, std::size_t max_results) : host_(host), max_results_(max_results) {}

    /// Every lookup reads the tenant's own data and changes nothing: read-only and cacheable.
    std::vector<sdk::ToolSpec> specs() const override {
        return {
            {.name = "get_product_info",
             .description =
                 "Looks up one product or service by id or by the customer's words: price, stock and "
                 "details, similar matches, and in-stock alternatives when it is sold out or "
                 "discontinued.",
             .parameters = parse_schema(kProductInfoSchema),
             .read_only = true,
             .cacheable = true},
            {.name = "list_offerings",
             .description =
                 "Lists the available products and services, optionally of one category or type, with "
                 "every category and its count.",
             .parameters = parse_schema(kListSchema),
             .read_only = true,
             .cacheable = true},
            {.name = "get_general_info",
             .description =
                 "The business's general information: opening hours (and whether it is open now), "
                 "address, phone, email, contact, or a topic such as returns, shipping or payment.",
             .parameters = parse_schema(kGeneralInfoSchema),
             .read_only = true,
             .cacheable = true},
        };
    }

    Result<json::value> invoke(const sdk::ToolCall& call, sdk::TurnContext& turn) override {
        const std::string language = language_of(turn, host_.tenant());
        if (call.name == "get_product_info") return product_info(call.arguments, language);
        if (call.name == "list_offerings") return list_offerings(call.arguments, language);
        if (call.name == "get_general_info") return general_info(call.arguments);
        return Error{"invalid_argument", "catalog: unknown tool '" + call.name + "'"};
    }

private:
    Result<json::value> product_info(const json::object& args, const std::string& language) const {
        const std::string product = string_arg(args, "product");
        std::string query_type = string_arg(args, "query_type");
        if (query_type.empty()) query_type = "details";
        if (text::fold(product).empty()) {
            return Error{"invalid_argument", "get_product_info: product: expected the product's name or id"};
        }
        const auto& catalog = host_.catalog();

        std::vector<sdk::OfferingMatch> matches;
        if (auto exact = catalog.get(product)) {
            matches.push_back({std::move(*exact), 1.0});
        } else {
            matches = catalog.find(product, language, std::max<std::size_t>(max_results_, 10));
        }
        if (matches.empty()) return not_found(product, language);

        const Offering& best = matches.front().offering;
        json::array also_matching;
        for (std::size_t i = 1; i < matches.size() && also_matching.size() + 1 < max_results_; ++i) {
            const auto& other = matches[i];
            if (other.offering.available && other.offering.id != best.id &&
                other.score >= matches.front().score - kCloseScore) {
                also_matching.push_back(brief(other.offering, language));
            }
        }
        json::object out{{"found", true},
                         {"query_type", query_type},
                         {"product", details(best, language)},
                         {"also_matching", std::move(also_matching)}};
        json::array alternatives;
        if (!best.in_stock()) alternatives = alternatives_for(best, matches, language);
        out["alternatives"] = std::move(alternatives);
        return json::value(std::move(out));
    }

    /// In-stock offerings of the same category, those that matched the query first.
    json::array alternatives_for(const Offering& missing, const std::vector<sdk::OfferingMatch>& matches,
                                 const std::string& language) const {
        std::vector<std::pair<double, Offering>> candidates;
        for (auto& offering : host_.catalog().all()) {
            if (offering.id == missing.id || !offering.in_stock() || offering.category != missing.category)
                continue;
            double score = 0;
            for (const auto& match : matches) {
                if (match.offering.id == offering.id) score = match.score;
            }
            candidates.emplace_back(score, std::move(offering));
        }
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        json::array out;
        for (const auto& [score, offering] : candidates) {
            if (out.size() == kMaxAlternatives) break;
            out.push_back(brief(offering, language));
        }
        return out;
    }

    /// Nothing matched well: the closest sellable offerings by word similarity, else the best
    /// stocked ones, so the assistant always has something to offer.
    json::value not_found(const std::string& query, const std::string& language) const {
        const auto words = text::tokens(query);
        std::vector<std::pair<double, Offering>> candidates;
        for (auto& offering : host_.catalog().all()) {
            if (!offering.in_stock()) continue;
            double closeness = 0;
            for (const auto& name_word : text::tokens(offering.name_in(language))) {
                for (const auto& word : words) {
                    closeness =
                        std::max(closeness, text::similarity(text::stem(word), text::stem(name_word)));
                }
            }
            const double stock = offering.stock ? static_cast<double>(*offering.stock) : 0.0;
            // Similarity first; among unrelated ones, the best stocked.
            candidates.emplace_back(closeness >= 0.5 ? closeness * 1e6 : stock, std::move(offering));
        }
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        json::array suggestions;
        for (const auto& [rank, offering] : candidates) {
            if (suggestions.size() == kMaxSuggestions) break;
            suggestions.push_back(brief(offering, language));
        }
        return json::object{{"found", false}, {"query", query}, {"suggestions", std::move(suggestions)}};
    }

    /// The catalog's own category name for what the customer called it, or empty.
    std::string resolve_category(const std::string& wanted, const std::vector<Offering>& offerings,
                                 const std::string& language) const {
        const std::string folded = text::fold(wanted);
        std::string best;
        double best_score = 0;
        for (const auto& offering : offerings) {
            const std::string category = text::fold(offering.category);
            double score = category == folded ? 1.0 : 0.0;
            if (score == 0 && text::stem(category) == text::stem(folded)) score = 0.95;
            if (score == 0)
                score = text::similarity(category, folded) >= 0.8 ? text::similarity(category, folded) : 0;
            if (score > best_score) best_score = score, best = offering.category;
        }
        if (!best.empty()) return best;
        // "pyjamas", "nightgowns": the category of the offerings those words name.
        const auto matches = host_.catalog().find(wanted, language, 1);
        return matches.empty() ? std::string() : matches.front().offering.category;
    }

    Result<json::value> list_offerings(const json::object& args, const std::string& language) const {
        const std::string wanted_category = string_arg(args, "category");
        std::string type = string_arg(args, "type");
        std::transform(type.begin(), type.end(), type.begin(),
                       [](unsigned char c) { return std::toupper(c); });

        const auto offerings = host_.catalog().all();
        std::string category;
        if (!text::fold(wanted_category).empty()) {
            category = resolve_category(wanted_category, offerings, language);
        }
        json::array items;
        std::vector<std::pair<std::string, std::int64_t>> counts;
        for (const auto& offering : offerings) {
            if (!offering.available) continue;
            auto counted = std::find_if(counts.begin(), counts.end(),
                                        [&](const auto& entry) { return entry.first == offering.category; });
            if (counted == counts.end())
                counts.emplace_back(offering.category, 1);
            else
                ++counted->second;

            if (!wanted_category.empty() && offering.category != category) continue;
            if (!type.empty() && offering.type != type) continue;
            json::object item = brief(offering, language);
            item["type"] = offering.type;
            if (offering.duration_min) item["duration_min"] = *offering.duration_min;
            items.push_back(std::move(item));
        }
        json::array categories;
        for (const auto& [name, count] : counts)
            categories.push_back(json::object{{"name", name}, {"count", count}});

        json::object out;
        if (wanted_category.empty())
            out["category"] = nullptr;
        else
            out["category"] = category.empty() ? wanted_category : category;
        out["type"] = type.empty() ? json::value(nullptr) : json::value(type);
        out["items"] = std::move(items);
        out["categories"] = std::move(categories);
        return json::value(std::move(out));
    }

    /// The topic key for the customer's words: a fixed topic or a business.info key.
    std::string resolve_info_key(const std::string& info_type) const {
        const auto& tenant = host_.tenant();
        const auto has_info = [&](const std::string& key) {
            return std::any_of(tenant.info.begin(), tenant.info.end(),
                               [&](const auto& entry) { return text::fold(entry.first) == key; });
        };
        const auto words = text::tokens(info_type);
        // Exact words (and their stems) first, in the customer's order.
        for (const auto& word : words) {
            for (const auto& form : {word, text::stem(word)}) {
                if (has_info(form)) return form;
                if (const auto it = info_synonyms().find(form);
                    it != info_synonyms().end() && has_info(it->second)) {
                    return it->second;
                }
                if (const auto it = fixed_synonyms().find(form); it != fixed_synonyms().end())
                    return it->second;
            }
        }
        // Then typos against the business.info keys.
        std::string best;
        double best_score = 0.79;
        for (const auto& word : words) {
            for (const auto& [key, value] : tenant.info) {
                const double score = std::max(text::similarity(word, text::fold(key)),
                                              text::similarity(text::stem(word), text::fold(key)));
                if (score > best_score) best_score = score, best = text::fold(key);
            }
        }
        return best;
    }

    json::object hours_json() const {
        json::object hours;
        for (const auto& [day, name] : kDays) {
            const auto it = host_.tenant().hours.find(day);
            hours[day] = it == host_.tenant().hours.end() ? "closed" : it->second;
        }
        return hours;
    }

    std::string hours_text() const {
        std::string out;
        for (const auto& [day, name] : kDays) {
            const auto it = host_.tenant().hours.find(day);
            if (!out.empty()) out += ", ";
            out += std::string(day) + " " + (it == host_.tenant().hours.end() ? "closed" : it->second);
        }
        return out;
    }

    Result<json::value> general_info(const json::object& args) const {
        const std::string info_type = string_arg(args, "info_type");
        const std::string key = resolve_info_key(info_type);
        const auto& tenant = host_.tenant();
        const auto missing = [&](const std::string& what) {
            return Error{"not_found", "get_general_info: " + what + " is not set for this business"};
        };

        json::object out{{"info_type", key}};
        if (key == "hours") {
            if (tenant.hours.empty()) return missing("hours");
            out["value"] = hours_text();
            out["hours"] = hours_json();
            out["open_now"] = host_.is_open_at(host_.clock().now());
        } else if (key == "address" || key == "phone" || key == "email") {
            const std::string& value = key == "address" ? tenant.address
                                       : key == "phone" ? tenant.phone
                                                        : tenant.email;
            if (value.empty()) return missing(key);
            out["value"] = value;
        } else if (key == "contact" || key == "all") {
            std::string value;
            for (const auto& [name, field] :
                 {std::pair{"phone", &tenant.phone}, std::pair{"email", &tenant.email},
                  std::pair{"address", &tenant.address}}) {
                if (field->empty()) continue;
                if (!value.empty()) value += "; ";
                value += std::string(name) + ": " + *field;
                out[name] = *field;
            }
            if (key == "all") {
                if (!tenant.hours.empty()) {
                    value += (value.empty() ? "" : "; ") + std::string("hours: ") + hours_text();
                    out["hours"] = hours_json();
                    out["open_now"] = host_.is_open_at(host_.clock().now());
                }
                json::object info;
                for (const auto& [name, text] : tenant.info) info[name] = text;
                out["info"] = std::move(info);
            }
            if (value.empty()) return missing(key);
            out["value"] = value;
        } else {
            const auto it = std::find_if(tenant.info.begin(), tenant.info.end(), [&](const auto& entry) {
                return !key.empty() && text::fold(entry.first) == key;
            });
            if (it == tenant.info.end()) {
                std::string known = "hours, address, phone, email, contact, all";
                for (const auto& [name, text] : tenant.info) known += ", " + name;
                return Error{"not_found",
                             "get_general_info: no information about '" + info_type + "'; known: " + known};
            }
            out["info_type"] = it->first;
            out["value"] = it->second;
        }
        return json::value(std::move(out));
    }

    sdk::HostServices& host_;
    std::size_t max_results_;
};

const sdk::ConfigKey kConfig[] = {
    {.name = "max_results",
     .type = sdk::ConfigType::integer,
     .default_json = "5",
     .description = "How many offerings get_product_info reports at most (the product plus also_matching).",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(50)},
};

Result<sdk::PluginPtr> make_catalog(const json::object& config, sdk::HostServices& host) {
    const auto max_results = static_cast<std::size_t>(sdk::ConfigView(config).integer("max_results"));
    return sdk::PluginPtr(std::make_unique<CatalogTool>(host, max_results));
}

}  // namespace
}  // namespace tezgah::plugins::catalog

TEZGAH_PLUGIN("catalog", tool, "1.0.0", "Product lookups, listings and the business's general information",
              tezgah::plugins::catalog::kConfig, &tezgah::plugins::catalog::make_catalog);
