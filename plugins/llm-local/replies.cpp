// Replies in Turkish and English, written from tool results. Prices, stock and durations always
// come from the results (never from the customer's words), so nothing is invented.
#include "assistant.hpp"
#include "attributes.hpp"
#include "fields.hpp"

#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

bool tr(std::string_view language) { return language != "en"; }

std::optional<long long> opt_int(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<long long>(v->get_uint64());
    if (v->is_double()) return static_cast<long long>(v->get_double());
    return std::nullopt;
}

const json::object& obj(const json::object& o, std::string_view key) {
    static const json::object kEmpty;
    const auto* v = o.if_contains(key);
    return v && v->is_object() ? v->get_object() : kEmpty;
}

std::vector<json::object> objects(const json::object& o, std::string_view key) {
    std::vector<json::object> out;
    const auto* v = o.if_contains(key);
    if (v && v->is_array())
        for (const auto& item : v->get_array())
            if (item.is_object()) out.push_back(item.get_object());
    return out;
}

}  // namespace

std::string name_of(const json::object& brief, std::string_view language, sdk::HostServices& host) {
    if (auto o = host.catalog().get(str(brief, "id"))) return o->name_in(language);
    return str(brief, "name");
}

namespace {

std::string price_of(const json::object& brief, std::string_view language) {
    double price = num(brief, "price", -1);
    if (price < 0) return {};
    if (price == 0) return tr(language) ? "ücretsiz" : "free";
    std::string currency = str(brief, "currency");
    return format_price(price, currency.empty() ? "TRY" : currency, language);
}

}  // namespace

std::string join_list(const std::vector<std::string>& items, std::string_view language) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? (tr(language) ? " ve " : " and ") : ", ";
        out += items[i];
    }
    return out;
}

namespace {

/// "Saten Gecelik Siyah (299,99 TL)", with the duration for a service; out of stock marked, and
/// with `say_stock` in stock said too ("299,99 TL, stokta var").
std::string brief_line(const json::object& brief, std::string_view language, sdk::HostServices& host,
                       bool mark_out_of_stock, bool say_stock = false) {
    std::string line = name_of(brief, language, host) + " (";
    // A list's brief entries carry no type or duration; the catalogue knows them.
    const auto offering = host.catalog().get(str(brief, "id"));
    auto duration = opt_int(brief, "duration_min");
    if (!duration && offering && offering->duration_min) duration = *offering->duration_min;
    if (duration) line += std::to_string(*duration) + (tr(language) ? " dk, " : " min, ");
    line += price_of(brief, language);
    const std::string type = brief.contains("type") ? str(brief, "type") : offering ? offering->type : "";
    const bool product = type != "SERVICE" && !duration;
    if (mark_out_of_stock && !flag(brief, "in_stock", true))
        line += tr(language) ? ", şu an stokta yok" : ", out of stock";
    else if (say_stock && product)
        line += ", " + stock_phrase(brief, language);
    return line + ")";
}

}  // namespace

namespace {

struct Label {
    std::string_view key, tr, en;
};

const Label* known_label(std::string_view key) {
    static const Label kLabels[] = {
        {"renk", "renk", "colour"},
        {"kumas", "kumaş", "fabric"},
        {"beden", "bedenler", "sizes"},
        {"yas", "yaş", "age"},
        {"adet", "adet", "pieces"},
        {"numara", "numaralar", "sizes"},
        {"denye", "denye", "denier"},
        {"gecerlilik_gun", "geçerlilik (gün)", "valid (days)"},
        {"alerjenler", "alerjenler", "allergens"},
        {"gramaj", "gramaj", "weight (g)"},
        {"glutensiz", "glutensiz", "gluten-free"},
        {"hacim_ml", "hacim (ml)", "volume (ml)"},
        {"sac_tipi", "saç tipi", "hair type"},
        {"gecerlilik_ay", "geçerlilik (ay)", "valid (months)"},
        {"hazirlik_saat", "hazırlık (saat)", "preparation (hours)"},
        {"min_kg", "en az (kg)", "minimum (kg)"},
    };
    for (const auto& l : kLabels)
        if (l.key == key) return &l;
    return nullptr;
}

}  // namespace

std::string attribute_label(std::string_view key, std::string_view language) {
    if (const auto* l = known_label(key)) return std::string(tr(language) ? l->tr : l->en);
    std::string label(key);
    std::replace(label.begin(), label.end(), '_', ' ');
    return label;
}

namespace {

std::string attributes_text(const json::object& attributes, std::string_view language) {
    std::vector<std::string> parts;
    for (const auto& [key, value] : attributes) {
        // A key of the tenant's own bookkeeping ("uzunluk_fiyati": true, "fiyat_baz") is no
        // word a customer reads: only labelled keys and one-word ones ("vegan") are shown.
        if (!known_label(key) && key.find('_') != std::string::npos) continue;
        std::string v;
        // Values in the reply's language where they are known words ("zümrüt" → "emerald").
        if (value.is_string()) {
            v = attribute_value_in(std::string(value.get_string()), language);
        } else if (value.is_array()) {
            for (const auto& item : value.get_array()) {
                if (!v.empty()) v += ", ";
                v += item.is_string() ? attribute_value_in(std::string(item.get_string()), language)
                                      : sdk::json_text(item);
            }
        } else if (value.is_bool()) {
            // "vegan": true says itself by its name; a false flag says nothing to a customer.
            if (value.get_bool()) parts.push_back(attribute_label(key, language));
            continue;
        } else if (!value.is_null()) {
            v = sdk::json_text(value);
        }
        if (!v.empty()) parts.push_back(attribute_label(key, language) + ": " + v);
    }
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

}  // namespace

std::string stock_phrase(const json::object& product, std::string_view language) {
    auto stock = opt_int(product, "stock");
    if (tr(language)) {
        if (!stock) return "mevcut";
        if (*stock <= 0) return "şu an stokta yok";
        if (*stock <= 5) return "stokta son " + std::to_string(*stock) + " adet var";
        return "stokta var";
    }
    if (!stock) return "available";
    if (*stock <= 0) return "out of stock";
    if (*stock <= 5) return "in stock (only " + std::to_string(*stock) + " left)";
    return "in stock";
}

namespace {

std::string suggestions_text(const std::vector<json::object>& items, std::string_view intro_tr,
                             std::string_view intro_en, std::string_view language, sdk::HostServices& host) {
    std::vector<std::string> lines;
    for (const auto& b : items) {
        if (!flag(b, "in_stock", true)) continue;
        if (auto o = host.catalog().get(str(b, "id")); o && !o->available) continue;
        lines.push_back(brief_line(b, language, host, false));
        if (lines.size() == 3) break;
    }
    if (lines.empty()) return {};
    return " " + std::string(tr(language) ? intro_tr : intro_en) + " " + join_list(lines, language) + ".";
}

void remember_products(json::object& session, const std::vector<std::string>& ids,
                       const std::string& category, const std::string& query_type) {
    json::array a;
    for (const auto& id : ids) a.emplace_back(id);
    session["last_product_ids"] = std::move(a);
    if (!category.empty()) session["last_category"] = category;
    if (!query_type.empty()) session["last_query_type"] = query_type;
    session["last_topic"] = "product";
    session.erase("last_facts");  // a facts answer keeps its own after this
}

const char* const kNoMatchTr = "Maalesef \"";
const char* const kNoMatchEn = "Sorry, we don't have anything matching";

std::string not_found(const Intent& intent, const std::vector<json::object>& suggestions,
                      std::string_view language, sdk::HostServices& host) {
    std::string words =
        intent.words.empty() ? std::string(tr(language) ? "bu ürün" : "that") : "\"" + intent.words + "\"";
    std::string out = tr(language) ? "Maalesef " + words + " ile eşleşen bir ürünümüz ya da hizmetimiz yok."
                                   : std::string(kNoMatchEn) + " " + words + ".";
    // Suggestions that share no word with what was asked ("araba" → tights) help no one: then say
    // what this assistant can help with, and the phone.
    auto asked = text::tokens(intent.words);
    std::erase_if(asked, [](const auto& w) { return is_stop_word(w) || is_cue_word(w); });
    std::vector<json::object> related;
    for (const auto& b : suggestions) {
        const auto o = host.catalog().get(str(b, "id"));
        if (asked.empty() || (o && fit_offering(asked, *o).coverage > 0)) related.push_back(b);
    }
    auto more = suggestions_text(related, "Şunlar ilginizi çekebilir:", "You might like:", language, host);
    if (more.empty() && !suggestions.empty()) return out + " " + what_i_help_with(language, host);
    if (more.empty())
        more = tr(language) ? " Ürünlerimizi görmek isterseniz \"neler var?\" diye sorabilirsiniz."
                            : " Ask \"what do you have?\" to see what we offer.";
    return out + more;
}

/// One product: price, stock, details; out of stock or discontinued with alternatives.
/// The sizes an offering comes in ("beden" or "numara"), as the shop writes them.
std::vector<std::string> sizes_of(const json::object& product) {
    std::vector<std::string> out;
    const auto& attributes = obj(product, "attributes");
    for (const char* key : {"beden", "numara"}) {
        const auto* v = attributes.if_contains(key);
        if (!v) continue;
        if (v->is_string()) out.emplace_back(v->get_string());
        if (v->is_array())
            for (const auto& item : v->get_array())
                if (item.is_string()) out.emplace_back(item.get_string());
    }
    return out;
}

/// Whether `size` is one of `sizes`: "S" in "S/M", "38" in "38-39".
bool has_size(const std::vector<std::string>& sizes, std::string_view size) {
    const std::string wanted = text::fold(size);
    for (const auto& s : sizes)
        for (const auto& part : text::tokens(s))
            if (part == wanted) return true;
    return false;
}

/// The answer to "S beden var mı" for one in-stock product.
std::string size_answer(const json::object& p, const std::string& name, const std::string& price,
                        const std::string& size, std::string_view language) {
    const auto sizes = sizes_of(p);
    if (sizes.empty())
        return tr(language) ? name + " için beden seçeneği bilgisi yok; fiyatı " + price + ", " +
                                  stock_phrase(p, language) + "."
                            : "I have no size information for the " + name + "; it costs " + price +
                                  " and is " + stock_phrase(p, language) + ".";
    if (sizes.size() == 1 && (has_size(sizes, "standart") || has_size(sizes, "standard")))
        return tr(language) ? name + " tek beden (standart) olarak satılıyor; fiyatı " + price + ", " +
                                  stock_phrase(p, language) + "."
                            : "The " + name + " comes in one standard size; it costs " + price + " and is " +
                                  stock_phrase(p, language) + ".";
    const bool numbers = obj(p, "attributes").contains("numara");
    const std::string unit = numbers ? " numarası" : " bedeni";
    if (has_size(sizes, size))
        return tr(language) ? "Evet, " + name + " ürününün " + size + unit + " var (" + price + ", " +
                                  stock_phrase(p, language) + ")."
                            : "Yes, the " + name + " comes in size " + size + " (" + price + ", " +
                                  stock_phrase(p, language) + ").";
    return tr(language) ? name + " ürününde " + size +
                              (numbers ? " numara yok; numaralar: " : " beden yok; bedenler: ") +
                              join_list(sizes, language) + "."
                        : "The " + name + " does not come in size " + size +
                              "; sizes: " + join_list(sizes, language) + ".";
}

/// "3 adet Simit: 3 × 15 TL = 45 TL, stokta var." — a quantity's total, and never more promised than
/// the stock holds ("stokta yalnızca 4 adet var").
std::string quantity_answer(const json::object& p, const std::string& full_name, int quantity,
                            const std::string& unit, std::string_view language) {
    // "2 kg Fıstıklı Baklava", not "2 kg Fıstıklı Baklava (kg)": the unit is said once.
    std::string name = full_name;
    const std::string unit_suffix = " (" + (unit.empty() ? std::string("adet") : unit) + ")";
    if (name.size() > unit_suffix.size() && name.ends_with(unit_suffix))
        name.resize(name.size() - unit_suffix.size());
    const double price = num(p, "price", -1);
    std::string currency = str(p, "currency");
    if (currency.empty()) currency = "TRY";
    const std::string shown_unit = unit.empty() ? "adet" : unit;
    auto amount = [&](int n) {
        return tr(language)
                   ? std::to_string(n) + " " + shown_unit
                   : std::to_string(n) + (shown_unit == "adet" ? "" : " " + english_unit(shown_unit, n));
    };
    auto total = [&](int n) {
        return std::to_string(n) + " × " + format_price(price, currency, language) + " = " +
               format_price(price * n, currency, language);
    };
    const auto stock = opt_int(p, "stock");
    if (price < 0) return {};
    if (stock && *stock < quantity) {
        if (tr(language))
            return "Maalesef " + name + " stokta yalnızca " + std::to_string(*stock) + " " + shown_unit +
                   " var, " + amount(quantity) + " veremiyoruz. " + amount(static_cast<int>(*stock)) +
                   " için tutar: " + total(static_cast<int>(*stock)) + ".";
        return "Sorry, we only have " + std::to_string(*stock) + " " + name +
               " in stock, so we can't supply " + std::to_string(quantity) + ". " + std::to_string(*stock) +
               " would come to " + total(static_cast<int>(*stock)) + ".";
    }
    if (tr(language))
        return amount(quantity) + " " + name + ": " + total(quantity) + (stock ? ", stokta var." : ".");
    return amount(quantity) + (shown_unit == "adet" ? " × " : " of ") + name + ": " + total(quantity) +
           (stock ? ", in stock." : ".");
}

std::string one_product(const json::object& p, const json::object& answer, const std::string& qt,
                        std::string_view language, sdk::HostServices& host, const std::string& size = {},
                        bool restock = false, int quantity = 0, const std::string& unit = {}) {
    const std::string name = name_of(p, language, host);
    const std::string price = price_of(p, language);
    const bool service = str(p, "type") == "SERVICE";
    const bool available = flag(p, "available", true);
    const bool in_stock = flag(p, "in_stock", available);
    // Only offerings of the same type and kind stand in for it (attributes.cpp); looked for only
    // when it cannot be had.
    auto alternatives = [&] { return same_kind_alternatives(p, objects(answer, "alternatives"), host); };
    if (!available) {
        return (tr(language) ? name + " artık satışta değil." : name + " is no longer available.") +
               suggestions_text(alternatives(), "Bunun yerine şunlara bakabilirsiniz:",
                                "Instead you could look at:", language, host);
    }
    // Details follow the name in brackets; the description is its own sentence after the price,
    // never glued to the name.
    std::string details, description;
    if (qt == "details") {
        auto attrs = attributes_text(obj(p, "attributes"), language);
        if (!attrs.empty()) details = " (" + attrs + ")";
        description = str(p, "description");
        if (!description.empty() && description.back() != '.' && description.back() != '!')
            description += '.';
        if (!description.empty()) description = " " + description;
    }
    if (service) {
        auto d = opt_int(p, "duration_min");
        std::string out = name + details + ": ";
        if (d) out += std::to_string(*d) + (tr(language) ? " dakika, " : " minutes, ");
        if (quantity > 1 && num(p, "price", -1) > 0)
            return out + price + " (" + std::to_string(quantity) + " × " + price + " = " +
                   format_price(num(p, "price") * quantity,
                                str(p, "currency").empty() ? "TRY" : str(p, "currency"), language) +
                   ")." + description;
        return out + price + "." + description;
    }
    if (!in_stock) {
        std::string when;
        if (restock)
            when = tr(language) ? " Ne zaman tekrar geleceğine dair elimde bir tarih yok; " +
                                      host.tenant().phone + " numarasından sorabilirsiniz."
                                : " I don't have a date for when it will be back; you can ask us on " +
                                      host.tenant().phone + ".";
        return (tr(language) ? name + " (" + price + ") şu an stokta yok."
                             : name + " (" + price + ") is out of stock right now.") +
               when +
               suggestions_text(alternatives(),
                                "Stokta olan benzerleri:", "Similar items in stock:", language, host);
    }
    if (!size.empty()) return size_answer(p, name, price, size, language);
    if (quantity > 0) {
        auto out = quantity_answer(p, name, quantity, unit, language);
        if (!out.empty()) return out + description;
    }
    if (qt == "stock") {
        return tr(language)
                   ? "Evet, " + name + " " + stock_phrase(p, language) + ". Fiyatı " + price + "."
                   : "Yes, " + name + " is " + stock_phrase(p, language) + ". It costs " + price + ".";
    }
    if (qt == "details") {
        return name + details + ": " + price + ", " + stock_phrase(p, language) + "." + description;
    }
    return name + ": " + price + ", " + stock_phrase(p, language) + ".";
}

std::string render_product(const Intent& intent, const json::object& answer, const Plan& plan,
                           sdk::HostServices& host, json::object& session) {
    const auto& language = plan.language;
    const std::string qt = str(intent.arguments, "query_type");
    if (!flag(answer, "found", false)) {
        session["last_topic"] = "product";
        return not_found(intent, objects(answer, "suggestions"), language, host);
    }
    const auto& product = obj(answer, "product");
    const std::string id = str(product, "id");
    // The tool matched something this assistant would not call by those words ("yoga matı" is
    // not Hatha Yoga): say so and offer it rather than answer as if it were asked for.
    if (!intent.follow_up && (intent.picked.empty() || std::find(intent.picked.begin(), intent.picked.end(),
                                                                 id) == intent.picked.end())) {
        auto words = text::tokens(intent.words);
        std::erase_if(words, [](const auto& w) { return is_stop_word(w) || is_cue_word(w); });
        auto offering = host.catalog().get(id);
        bool fits = offering && !words.empty() && fit_offering(words, *offering).coverage >= 0.99;
        if (!fits) {
            std::vector<json::object> suggestions{product};
            for (auto& b : objects(answer, "also_matching")) suggestions.push_back(b);
            session["last_topic"] = "product";
            return not_found(intent, suggestions, language, host);
        }
    }
    // Several offerings fit the words equally ("saten gecelik"): name them all.
    std::vector<json::object> same{product};
    for (const auto& b : objects(answer, "also_matching")) {
        const std::string other = str(b, "id");
        if (other != id &&
            std::find(intent.picked.begin(), intent.picked.end(), other) != intent.picked.end())
            same.push_back(b);
    }
    // A size from the size chart or an attribute asked about: from their own attributes.
    if (intent.asks_facts() && flag(product, "available", true)) {
        std::vector<std::string> ids;
        ids.reserve(same.size());
        for (const auto& b : same) ids.push_back(str(b, "id"));
        remember_products(session, ids, str(product, "category"), qt);
        remember_facts(session, intent);
        return render_facts(intent, same, language, host);
    }
    // "2 pijama takımı ne tutar": each of them for that count.
    if (same.size() > 1 && !intent.follow_up && intent.quantity > 0) {
        std::vector<json::object> offered;
        std::vector<std::string> ids;
        for (const auto& b : same) {
            if (auto o = host.catalog().get(str(b, "id")); o && !o->available) continue;
            offered.push_back(b);
            ids.push_back(str(b, "id"));
        }
        remember_products(session, ids, str(product, "category"), qt);
        if (offered.size() > 1)
            return render_counted_list(offered, intent, {}, language, host, offered.size());
    }
    // "saten gecelikte S beden var mı": each of them in that size.
    if (same.size() > 1 && !intent.follow_up && !intent.size.empty()) {
        std::vector<std::string> ids;
        std::string out;
        for (auto b : same) {
            const auto o = host.catalog().get(str(b, "id"));
            if (!o || !o->available) continue;
            if (!b.contains("attributes")) b["attributes"] = o->attributes;
            ids.push_back(o->id);
            std::string line =
                size_answer(b, name_of(b, language, host), format_price(o->price, o->currency, language),
                            intent.size, language);
            for (const std::string_view yes : {"Evet, ", "Yes, the "})
                if (line.starts_with(yes))
                    line = (yes == "Yes, the " ? "The " : "") + line.substr(yes.size());
            out += (out.empty() ? "" : " ") + line;
        }
        if (!out.empty()) {
            remember_products(session, ids, str(product, "category"), qt);
            return out;
        }
    }
    if (same.size() > 1 && !intent.follow_up) {
        std::vector<std::string> lines, ids;
        for (auto b : same) {
            const auto o = host.catalog().get(str(b, "id"));
            if (o && !o->available) continue;
            // "saten gecelik hangi bedenlerde": details asked of several, with each one's sizes.
            if (qt == "details" && o) {
                if (!b.contains("attributes")) b["attributes"] = o->attributes;
                if (const auto sizes = sizes_of(b); !sizes.empty()) {
                    lines.push_back(name_of(b, language, host) + " (" +
                                    (tr(language) ? "bedenler: " : "sizes: ") + join_list(sizes, language) +
                                    "; " + format_price(o->price, o->currency, language) + ", " +
                                    stock_phrase(b, language) + ")");
                    ids.push_back(o->id);
                    continue;
                }
            }
            lines.push_back(brief_line(b, language, host, true, true));
            ids.push_back(str(b, "id"));
        }
        remember_products(session, ids, str(product, "category"), qt);
        return (tr(language) ? std::to_string(lines.size()) + " seçenek var: "
                             : "There are " + std::to_string(lines.size()) + " options: ") +
               join_list(lines, language) + ".";
    }
    remember_products(session, {id}, str(product, "category"), qt);
    // "çay kaç para" → "5 kişiyiz": one each of what is sold by the piece.
    const auto offering = host.catalog().get(id);
    const std::string unit =
        intent.unit == "kişi" && offering && offering->type == "PRODUCT" ? "adet" : intent.unit;
    return one_product(product, answer, qt, language, host, intent.size, intent.restock, intent.quantity,
                       unit);
}

/// "En uygun fiyatlı pijamamız ...": the cheapest (or dearest) of a list, in stock ones first.
std::string extreme_of(const std::vector<json::object>& items, const std::string& extreme,
                       const std::string& category, std::string_view language, sdk::HostServices& host,
                       json::object& session) {
    const json::object* pick = nullptr;
    for (int pass = 0; pass < 2 && !pick; ++pass)
        for (const auto& b : items) {
            if (pass == 0 && !flag(b, "in_stock", true)) continue;
            if (num(b, "price", -1) < 0) continue;
            const double price = num(b, "price"), best = pick ? num(*pick, "price") : 0;
            if (!pick || (extreme == "max" ? price > best : price < best)) pick = &b;
        }
    if (!pick)
        return tr(language) ? "Bu seçeneklerin fiyat bilgisi elimde yok." : "I don't have prices for these.";
    remember_products(session, {str(*pick, "id")}, str(*pick, "category"), "price");
    const std::string line = brief_line(*pick, language, host, true, true);
    const bool min = extreme != "max";
    if (tr(language)) {
        std::string what = min ? "en uygun fiyatlı seçeneğimiz " : "en yüksek fiyatlı seçeneğimiz ";
        if (category.empty()) return "E" + what.substr(1) + line + ".";
        return category + " kategorisinde " + what + line + ".";
    }
    return std::string(min ? "Our cheapest option is " : "Our most expensive option is ") + line + ".";
}

std::string render_list(const Intent& intent, const json::object& answer, const Plan& plan,
                        sdk::HostServices& host, const Settings& settings, json::object& session) {
    const auto& language = plan.language;
    auto items = objects(answer, "items");
    const std::string category = str(answer, "category").empty() ? intent.words : str(answer, "category");
    session["last_topic"] = "list";
    session["last_product_ids"] = json::array();
    if (!category.empty()) session["last_category"] = category;
    if (!intent.extreme.empty() && !items.empty())
        return extreme_of(items, intent.extreme, category, language, host, session);
    auto categories = objects(answer, "categories");
    if (category.empty() && str(intent.arguments, "type") != "SERVICE" && categories.size() > 1 &&
        items.size() > settings.max_list_items) {
        std::vector<std::string> names;
        names.reserve(categories.size());
        for (const auto& c : categories) names.push_back(str(c, "name"));
        return tr(language)
                   ? "Kategorilerimiz: " + join_list(names, language) + ". Hangisine bakmak istersiniz?"
                   : "Our categories: " + join_list(names, language) + ". Which one would you like to see?";
    }
    if (items.empty())
        return tr(language) ? "Şu an bu kategoride sunabileceğimiz bir şey yok."
                            : "We have nothing to offer in that category right now.";
    if (items.size() == 1) {
        remember_products(session, {str(items.front(), "id")}, str(items.front(), "category"), "price");
        return one_product(items.front(), {}, "price", language, host, {}, false, intent.quantity,
                           intent.unit);
    }
    if (intent.quantity > 0)
        return render_counted_list(items, intent, category, language, host, settings.max_list_items);
    // In-stock first; out-of-stock ones are marked.
    std::stable_partition(items.begin(), items.end(),
                          [](const auto& b) { return flag(b, "in_stock", true); });
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < items.size() && i < settings.max_list_items; ++i)
        lines.push_back(brief_line(items[i], language, host, true));
    std::string head;
    bool services =
        str(intent.arguments, "type") == "SERVICE" ||
        std::all_of(items.begin(), items.end(), [](const auto& b) { return str(b, "type") == "SERVICE"; });
    if (!category.empty())
        head = tr(language) ? category + " seçeneklerimiz: " : "Here is what we have in " + category + ": ";
    else if (services)
        head = tr(language) ? "Hizmetlerimiz: " : "Our services: ";
    else
        head = tr(language) ? "Ürünlerimiz: " : "Our products: ";
    std::string out = head + join_list(lines, language) + ".";
    if (items.size() > settings.max_list_items) {
        auto more = std::to_string(items.size() - settings.max_list_items);
        out += tr(language) ? " Ve " + more + " seçenek daha var." : " And " + more + " more.";
    }
    return out;
}

const char* day_name(std::string_view day, std::string_view language) {
    static const std::pair<const char*, std::pair<const char*, const char*>> kNames[] = {
        {"mon", {"Pazartesi", "Monday"}},  {"tue", {"Salı", "Tuesday"}}, {"wed", {"Çarşamba", "Wednesday"}},
        {"thu", {"Perşembe", "Thursday"}}, {"fri", {"Cuma", "Friday"}},  {"sat", {"Cumartesi", "Saturday"}},
        {"sun", {"Pazar", "Sunday"}}};
    for (const auto& [key, names] : kNames)
        if (day == key) return tr(language) ? names.first : names.second;
    return "";
}

std::string hours_text(const std::map<std::string, std::string>& hours, const Intent& intent,
                       std::optional<bool> open_now, std::string_view language) {
    static const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    auto hours_of = [&](const char* d) {
        auto it = hours.find(d);
        return it == hours.end() || it->second.empty() ? std::string("closed") : it->second;
    };
    std::string out;
    if (!intent.day.empty()) {
        auto h = hours_of(intent.day.c_str());
        std::string day = day_name(intent.day, language);
        out = h == "closed"
                  ? (tr(language) ? day + " günleri kapalıyız. " : "We are closed on " + day + "s. ")
                  : (tr(language) ? day + " günleri " + h + " arası açığız. "
                                  : "On " + day + "s we are open " + h + ". ");
    }
    std::vector<std::string> groups;
    for (int i = 0; i < 7;) {
        int j = i;
        while (j + 1 < 7 && hours_of(kDays[j + 1]) == hours_of(kDays[i])) ++j;
        std::string h = hours_of(kDays[i]);
        std::string days = day_name(kDays[i], language);
        if (j > i) days += std::string("-") + day_name(kDays[j], language);
        if (i == 0 && j == 6) days = tr(language) ? "Her gün" : "Every day";
        groups.push_back(days + " " + (h == "closed" ? (tr(language) ? "kapalı" : "closed") : h));
        i = j + 1;
    }
    out +=
        (tr(language) ? "Çalışma saatlerimiz: " : "Our opening hours: ") + join_list(groups, language) + ".";
    if (intent.asks_now && open_now)
        out += *open_now ? (tr(language) ? " Şu an açığız." : " We are open now.")
                         : (tr(language) ? " Şu an kapalıyız." : " We are closed right now.");
    return out;
}

std::string fact_text(const std::string& type, const std::string& value, const Intent& intent,
                      const std::map<std::string, std::string>& hours, std::optional<bool> open_now,
                      std::string_view language, const sdk::TenantProfile& tenant) {
    if (type == "hours") return hours_text(hours, intent, open_now, language);
    if (type == "address")
        return tr(language) ? "Adresimiz: " + value + "." : "Our address is " + value + ".";
    if (type == "phone")
        return tr(language) ? "Telefon numaramız: " + value + "." : "Our phone number is " + value + ".";
    if (type == "email")
        return tr(language) ? "E-posta adresimiz: " + value + "." : "Our email address is " + value + ".";
    if (type == "contact") {
        std::string out =
            tr(language) ? "Bize " + tenant.phone + " numarasından" : "You can call us on " + tenant.phone;
        if (!tenant.email.empty())
            out += tr(language) ? " ya da " + tenant.email + " adresinden ulaşabilirsiniz."
                                : " or write to " + tenant.email + ".";
        else
            out += tr(language) ? " ulaşabilirsiniz." : ".";
        if (!tenant.address.empty())
            out += tr(language) ? " Adresimiz: " + tenant.address + "."
                                : " Our address is " + tenant.address + ".";
        return out;
    }
    return value;
}

std::string render_knowledge(const Intent& intent, const json::object& answer, const Plan& plan,
                             sdk::HostServices& host, json::object& session) {
    auto results = objects(answer, "results");
    const json::object* chosen = nullptr;
    for (const auto& r : results)
        if (str(r, "id") == intent.knowledge_id) chosen = &r;
    if (!chosen && !results.empty() && intent.knowledge_id.empty()) chosen = &results.front();
    session["last_topic"] = "knowledge";
    if (!chosen) {
        // The tool found nothing this assistant also judged relevant: use its own pick.
        for (const auto& e : host.knowledge().all())
            if (e.id == intent.knowledge_id) return e.answer_in(plan.language);
        const auto& t = host.tenant();
        return tr(plan.language)
                   ? "Bu konuda elimde bilgi yok; " + t.phone + " numarasından bize sorabilirsiniz."
                   : "I don't have that information; please call us on " + t.phone + ".";
    }
    for (const auto& e : host.knowledge().all())
        if (e.id == str(*chosen, "id")) return e.answer_in(plan.language);
    return str(*chosen, "answer");
}

}  // namespace

bool is_no_match_reply(std::string_view reply) {
    return reply.rfind(kNoMatchTr, 0) == 0 || reply.rfind(kNoMatchEn, 0) == 0;
}

std::string format_price(double amount, std::string_view currency, std::string_view language) {
    long long cents = std::llround(amount * 100);
    long long whole = cents / 100;
    int fraction = static_cast<int>(cents % 100);
    std::string digits = std::to_string(whole);
    const char group = tr(language) ? '.' : ',';
    std::string grouped;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) grouped += group;
        grouped += digits[i];
    }
    if (fraction != 0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%c%02d", tr(language) ? ',' : '.', fraction);
        grouped += buf;
    }
    std::string unit = currency == "TRY" || currency == "TL" ? "TL" : std::string(currency);
    return grouped + " " + unit;
}

std::string render_intent(const Intent& intent, const sdk::ToolResult* result, const Plan& plan,
                          sdk::HostServices& host, const Settings& settings, json::object& session) {
    if (intent.kind == IntentKind::text) return intent.text;
    if (intent.tool.empty()) return render_business_fact(intent, plan.language, host);
    if (!result || !result->ok || !result->content.is_object()) {
        if (intent.kind == IntentKind::info) return render_business_fact(intent, plan.language, host);
        return tr(plan.language)
                   ? "Bu bilgiye şu an ulaşamıyorum; " + host.tenant().phone +
                         " numarasından bize sorabilirsiniz."
                   : "I can't look that up right now; please call us on " + host.tenant().phone + ".";
    }
    const auto& answer = result->content.get_object();
    switch (intent.kind) {
        case IntentKind::product:
            return render_product(intent, answer, plan, host, session);
        case IntentKind::list:
            return render_list(intent, answer, plan, host, settings, session);
        case IntentKind::knowledge:
            return render_knowledge(intent, answer, plan, host, session);
        case IntentKind::info: {
            session["last_topic"] = str(intent.arguments, "info_type");
            std::map<std::string, std::string> hours;
            for (const auto& [day, h] : obj(answer, "hours"))
                if (h.is_string()) hours[std::string(day)] = std::string(h.get_string());
            if (hours.empty()) hours = host.tenant().hours;
            std::optional<bool> open_now;
            if (const auto* v = answer.if_contains("open_now"); v && v->is_bool()) open_now = v->get_bool();
            std::string type = str(answer, "info_type");
            if (type.empty()) type = str(intent.arguments, "info_type");
            return fact_text(type, str(answer, "value"), intent, hours, open_now, plan.language,
                             host.tenant());
        }
        case IntentKind::text:
            break;
    }
    return intent.text;
}

std::string render_business_fact(const Intent& intent, std::string_view language, sdk::HostServices& host) {
    const auto& t = host.tenant();
    const std::string type = str(intent.arguments, "info_type");
    std::string value;
    if (type == "address")
        value = t.address;
    else if (type == "phone")
        value = t.phone;
    else if (type == "email")
        value = t.email;
    for (const auto& [key, text] : t.info)
        if (key == type) value = text;
    bool open = host.is_open_at(host.clock().now());
    return fact_text(type, value, intent, t.hours, open, language, t);
}

std::string render_small_talk(SmallTalk kind, bool earlier_turns, std::string_view language,
                              const sdk::TenantProfile& tenant) {
    if (kind == SmallTalk::greeting_or_farewell)
        kind = earlier_turns ? SmallTalk::farewell : SmallTalk::greeting;
    const std::string me = tenant.persona.name.empty() ? "" : tenant.persona.name;
    switch (kind) {
        case SmallTalk::greeting:
            if (tr(language))
                return me.empty() ? "Merhaba! " + tenant.name + " olarak size nasıl yardımcı olabiliriz?"
                                  : "Merhaba! Ben " + me + ", " + tenant.name +
                                        " asistanıyım. Size nasıl yardımcı olabilirim?";
            return "Hello, welcome to " + tenant.name + "!" + (me.empty() ? "" : " I'm " + me + ".") +
                   " How can I help you?";
        case SmallTalk::thanks:
            return tr(language) ? "Rica ederim! Başka bir sorunuz olursa buradayım."
                                : "You're welcome! Let me know if there is anything else.";
        case SmallTalk::farewell:
            return tr(language) ? "İyi günler dileriz, yine bekleriz!"
                                : "Have a nice day, hope to see you again!";
        case SmallTalk::ack:
            return tr(language) ? "Tamam. Başka bir konuda yardımcı olabilir miyim?"
                                : "All right. Is there anything else I can help with?";
        default:
            return {};
    }
}

std::string what_i_help_with(std::string_view language, sdk::HostServices& host) {
    const auto& t = host.tenant();
    auto all = host.catalog().all();
    std::size_t services =
        std::count_if(all.begin(), all.end(), [](const auto& o) { return o.type == "SERVICE"; });
    bool mostly_services = services * 2 > all.size();
    // Classes are offerings with a timetable; a salon has services only.
    const bool classes =
        std::any_of(all.begin(), all.end(), [](const auto& o) { return !o.schedule.empty(); });
    std::vector<std::string> topics;
    if (tr(language)) {
        topics.push_back(!mostly_services ? "ürünlerimiz, fiyatlar ve stok durumu"
                         : classes        ? "derslerimiz, hizmetlerimiz ve ücretleri"
                                          : "hizmetlerimiz ve ücretleri");
        topics.push_back("çalışma saatlerimiz");
        topics.push_back("adres ve iletişim bilgilerimiz");
    } else {
        topics.push_back(!mostly_services ? "our products, prices and stock"
                         : classes        ? "our classes, services and prices"
                                          : "our services and prices");
        topics.push_back("our opening hours");
        topics.push_back("our address and contact details");
    }
    std::vector<std::string> keys;
    for (const auto& [key, value] : t.info) {
        static const std::pair<const char*, std::pair<const char*, const char*>> kNames[] = {
            {"iade", {"iade", "returns"}},          {"kargo", {"kargo", "shipping"}},
            {"odeme", {"ödeme", "payment"}},        {"iptal", {"iptal", "cancellation"}},
            {"otopark", {"otopark", "parking"}},    {"siparis", {"sipariş", "ordering"}},
            {"teslimat", {"teslimat", "delivery"}}, {"alerjen", {"alerjen", "allergen"}},
            {"randevu", {"randevu", "appointment"}}};
        std::string name = key;
        for (const auto& [k, names] : kNames)
            if (key == k) name = tr(language) ? names.first : names.second;
        keys.push_back(name);
    }
    if (!keys.empty())
        topics.push_back(join_list(keys, language) + (tr(language) ? " koşulları" : " policies"));
    std::string out = tr(language) ? "Size " + join_list(topics, language) + " hakkında yardımcı olabilirim."
                                   : "I can help with " + join_list(topics, language) + ".";
    if (!t.phone.empty())
        out += tr(language) ? " Diğer sorularınız için " + t.phone + " numarasından bize ulaşabilirsiniz."
                            : " For anything else, you can call us on " + t.phone + ".";
    return out;
}

std::string render_help(std::string_view language, sdk::HostServices& host) {
    return (tr(language) ? "Bu konuda yardımcı olamıyorum. " : "I can't help with that. ") +
           what_i_help_with(language, host);
}

std::string render_handoff(std::string_view reason, std::string_view language,
                           const sdk::TenantProfile& tenant) {
    bool injury = reason == "injury";
    bool complaint = injury || reason == "complaint" || reason.substr(0, 6) == "topic:";
    if (tr(language)) {
        std::string out = injury      ? "Çok geçmiş olsun, yaşadığınız için çok üzgünüz. "
                          : complaint ? "Yaşadığınız sorun için çok üzgünüz. "
                                      : "Elbette. ";
        out += "Sizi bir yetkilimize aktarıyorum; en kısa sürede size dönüş yapılacak.";
        if (!tenant.phone.empty())
            out += " Dilerseniz " + tenant.phone + " numarasından da bize ulaşabilirsiniz.";
        return out;
    }
    std::string out = injury      ? "We are very sorry to hear that, and we hope you feel better soon. "
                      : complaint ? "We are very sorry about this. "
                                  : "Of course. ";
    out += "I'm passing you to a member of our team; they will get back to you shortly.";
    if (!tenant.phone.empty()) out += " You can also call us on " + tenant.phone + ".";
    return out;
}

}  // namespace tezgah::plugins::local
