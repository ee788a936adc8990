#include "pipeline/choices.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

namespace tezgah::engine {

namespace {

/// Ordinal words, folded, by position: Turkish with and without the possessive ("ikinci",
/// "ikincisi"), English.
constexpr std::array<std::array<std::string_view, 4>, kMaxOptions> kOrdinals = {{
    {"birinci", "birincisi", "first", "ilki"},
    {"ikinci", "ikincisi", "second", "2nd"},
    {"ucuncu", "ucuncusu", "third", "3rd"},
    {"dorduncu", "dorduncusu", "fourth", "4th"},
    {"besinci", "besincisi", "fifth", "5th"},
    {"altinci", "altincisi", "sixth", "6th"},
    {"yedinci", "yedincisi", "seventh", "7th"},
    {"sekizinci", "sekizincisi", "eighth", "8th"},
    {"dokuzuncu", "dokuzuncusu", "ninth", "9th"},
    {"onuncu", "onuncusu", "tenth", "10th"},
}};

/// Words around an ordinal that change nothing: "the second one", "ikincisi lütfen", "option 2".
bool filler(std::string_view word) {
    static constexpr std::array<std::string_view, 10> kFiller = {
        "the", "one", "please", "option", "number", "no", "lutfen", "secenek", "numara", "olsun"};
    return std::find(kFiller.begin(), kFiller.end(), word) != kFiller.end();
}

/// The 1-based position `words` name, or 0.
std::size_t position_named(const std::vector<std::string>& words) {
    std::size_t found = 0;
    for (const auto& word : words) {
        std::size_t here = 0;
        if (word == "1st") {
            here = 1;
        } else if (!word.empty() &&
                   std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            if (word.size() > 2) return 0;
            std::from_chars(word.data(), word.data() + word.size(), here);
        } else {
            for (std::size_t i = 0; i < kOrdinals.size() && here == 0; ++i)
                if (std::find(kOrdinals[i].begin(), kOrdinals[i].end(), word) != kOrdinals[i].end())
                    here = i + 1;
        }
        if (here == 0) {
            if (!filler(word)) return 0;  // another word: not a pick by number
            continue;
        }
        if (found != 0) return 0;  // two numbers: "2 or 3"
        found = here;
    }
    return found;
}

std::string string_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// An offering of a tool's answer (`{"id", "name"|"title", ...}`) as an option, or none.
std::optional<sdk::ReplyOption> option_of(const json::value& v) {
    if (!v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    std::string id = string_of(o, "id");
    std::string title = string_of(o, "name");
    if (title.empty()) title = string_of(o, "title");
    if (id.empty() || title.empty()) return std::nullopt;
    return sdk::ReplyOption{std::move(id), std::move(title), {}};
}

std::optional<sdk::ReplyCard> card_of(const json::value& v) {
    auto option = option_of(v);
    if (!option) return std::nullopt;
    const auto& o = v.get_object();
    sdk::ReplyCard card{
        std::move(option->id), std::move(option->title), string_of(o, "category"), {}, {}, {}};
    if (const auto* p = o.if_contains("price"); p && p->is_number()) {
        card.price = p->to_number<double>();
        card.currency = string_of(o, "currency");
    }
    card.image_url = string_of(o, "image_url");
    if (const auto* a = o.if_contains("attributes"); card.image_url.empty() && a && a->is_object())
        card.image_url = string_of(a->get_object(), "image_url");
    return card;
}

void add_option(std::vector<sdk::ReplyOption>& options, sdk::ReplyOption option) {
    if (options.size() >= kMaxOptions) return;
    if (std::any_of(options.begin(), options.end(), [&](const auto& o) { return o.id == option.id; })) return;
    options.push_back(std::move(option));
}

}  // namespace

std::vector<sdk::ReplyOption> last_options(const json::object& session) {
    std::vector<sdk::ReplyOption> out;
    const auto* kept = session.if_contains(kLastOptionsKey);
    if (!kept || !kept->is_array()) return out;
    out.reserve(kept->get_array().size());
    for (const auto& v : kept->get_array())
        if (auto option = sdk::reply_option_from_json(v)) out.push_back(std::move(*option));
    return out;
}

void remember_options(json::object& session, const std::vector<sdk::ReplyOption>& options) {
    if (options.empty()) {
        session.erase(kLastOptionsKey);
        return;
    }
    json::array kept;
    kept.reserve(options.size());
    for (const auto& option : options)
        kept.push_back(json::object{{"id", option.id}, {"title", option.title}});
    session[kLastOptionsKey] = std::move(kept);
}

std::optional<sdk::ReplyOption> chosen_option(std::string_view text,
                                              const std::vector<sdk::ReplyOption>& options) {
    if (options.empty() || text.size() > 200) return std::nullopt;
    const std::string trimmed(sdk::text::trim(text));
    for (const auto& option : options)  // a button's or list row's id, as the channel passed it on
        if (trimmed.size() == option.id.size() &&
            std::equal(trimmed.begin(), trimmed.end(), option.id.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            }))
            return option;
    const std::string folded(sdk::text::trim(sdk::text::fold(text)));
    if (folded.empty()) return std::nullopt;
    for (const auto& option : options)
        if (std::string(sdk::text::trim(sdk::text::fold(option.title))) == folded) return option;
    const std::size_t n = position_named(sdk::text::tokens(folded));
    if (n >= 1 && n <= options.size()) return options[n - 1];
    return std::nullopt;
}

RichParts rich_from_tool_results(const std::vector<ToolCallRecord>& calls) {
    RichParts out;
    for (const auto& call : calls) {
        if (!call.ok || !call.result.is_object()) continue;
        const auto& result = call.result.get_object();
        if (const auto* product = result.if_contains("product"))
            if (auto card = card_of(*product)) out.cards.push_back(std::move(*card));
        // A list's offerings first, then what is offered instead of a product (its close matches,
        // alternatives to one out of stock, suggestions when nothing matched).
        for (const char* key : {"items", "also_matching", "alternatives", "suggestions"}) {
            const auto* list = result.if_contains(key);
            if (!list || !list->is_array()) continue;
            for (const auto& v : list->get_array())
                if (auto option = option_of(v)) add_option(out.options, std::move(*option));
        }
    }
    // One product described with others like it: the described one is an option too, first.
    if (out.cards.size() == 1 && !out.options.empty()) {
        out.options.insert(out.options.begin(),
                           sdk::ReplyOption{out.cards.front().id, out.cards.front().title, {}});
        if (out.options.size() > kMaxOptions) out.options.pop_back();
    }
    if (out.cards.size() > kMaxOptions) out.cards.resize(kMaxOptions);
    return out;
}

}  // namespace tezgah::engine
