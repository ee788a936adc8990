#include "rich.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tezgah::plugins::local {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

namespace {

/// The options one reply offers at most (a WhatsApp list holds 10 rows).
constexpr std::size_t kMaxOptions = 10;

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// An offering or category the reply may name: where it names it first, and what it becomes.
struct Named {
    std::size_t at = std::string::npos;
    sdk::ReplyOption option;
};

/// The offering `brief` ({"id", "name", ...}: the catalogue tool names it in the turn's language,
/// as the reply does) as an option.
std::optional<sdk::ReplyOption> offering_option(const json::value& brief) {
    const auto* o = brief.if_object();
    if (!o) return std::nullopt;
    std::string id = str(*o, "id");
    std::string title = str(*o, "name");
    if (id.empty() || title.empty()) return std::nullopt;
    return sdk::ReplyOption{std::move(id), std::move(title), {}};
}

void consider(std::vector<Named>& named, const std::string& text, std::optional<sdk::ReplyOption> option) {
    if (!option) return;
    if (std::any_of(named.begin(), named.end(), [&](const Named& n) { return n.option.id == option->id; }))
        return;
    const auto at = text.find(option->title);
    if (at == std::string::npos) return;
    named.push_back({at, std::move(*option)});
}

sdk::ReplyCard card_of(const json::object& product, std::string title) {
    sdk::ReplyCard card{str(product, "id"), std::move(title), str(product, "category"), {}, {}, {}};
    if (const auto* p = product.if_contains("price"); p && p->is_number()) {
        card.price = p->to_number<double>();
        card.currency = str(product, "currency");
    }
    card.image_url = str(product, "image_url");
    if (const auto* a = product.if_contains("attributes"); card.image_url.empty() && a && a->is_object())
        card.image_url = str(a->get_object(), "image_url");
    return card;
}

/// The text's last sentence is a question answered by yes or no: Turkish by its question
/// particle ("... miyim?", "... ister misiniz?"), English by its opening verb ("Is there ...?",
/// "Would you like ...?"); "A mı B mi" and "... or ...?" offer more than yes and no.
bool asks_yes_or_no(const std::string& text) {
    std::string_view t = sdk::text::trim(text);
    if (t.empty() || t.back() != '?') return false;
    const auto start = t.find_last_of(".!?", t.size() - 2);
    const std::string folded = sdk::text::fold(t.substr(start == std::string_view::npos ? 0 : start + 1));
    const auto words = sdk::text::tokens(folded);
    if (words.empty()) return false;
    static constexpr std::array<std::string_view, 12> kParticles = {"mi",      "mu",      "misin", "musun",
                                                                    "misiniz", "musunuz", "miyim", "muyum",
                                                                    "miyiz",   "muyuz",   "midir", "mudur"};
    int particles = 0;
    bool alternative = false;
    for (const auto& w : words) {
        if (std::find(kParticles.begin(), kParticles.end(), w) != kParticles.end()) ++particles;
        if (w == "or" || w == "veya" || w == "yoksa" || w == "hangi" || w == "hangisi" || w == "which")
            alternative = true;
    }
    if (alternative) return false;
    if (particles == 1) return true;
    static constexpr std::array<std::string_view, 14> kOpeners = {"is",    "are",   "do",  "does",  "did",
                                                                  "would", "could", "can", "shall", "should",
                                                                  "will",  "may",   "was", "were"};
    return particles == 0 && std::find(kOpeners.begin(), kOpeners.end(), words.front()) != kOpeners.end();
}

/// "evet", "yes please": 1; "hayır", "no thanks": -1; anything else 0.
int yes_or_no(const std::string& message) {
    static constexpr std::array<std::string_view, 9> kYes = {"evet", "e",    "olur", "tabii", "tabi",
                                                             "yes",  "yeah", "yep",  "sure"};
    static constexpr std::array<std::string_view, 5> kNo = {"hayir", "yok", "no", "nope", "gerek"};
    static constexpr std::array<std::string_view, 7> kFiller = {"lutfen", "please", "tesekkurler", "tesekkur",
                                                                "ederim", "thanks", "thank"};
    int said = 0;
    for (const auto& w : sdk::text::tokens(message)) {
        const int here = std::find(kYes.begin(), kYes.end(), w) != kYes.end() ? 1
                         : std::find(kNo.begin(), kNo.end(), w) != kNo.end()  ? -1
                                                                              : 0;
        if (here == 0) {
            if (std::find(kFiller.begin(), kFiller.end(), w) == kFiller.end() && w != "you") return 0;
            continue;
        }
        if (said != 0 && said != here) return 0;
        said = here;
    }
    return said;
}

}  // namespace

std::optional<std::string> answer_to_yes_or_no(const sdk::ProviderRequest& request,
                                               const std::string& language) {
    if (request.messages.size() < 2) return std::nullopt;
    const auto& asked = request.messages[request.messages.size() - 2];
    const auto& answer = request.messages.back();
    if (asked.role != sdk::Role::assistant || answer.role != sdk::Role::user || !asks_yes_or_no(asked.text))
        return std::nullopt;
    // Only the questions this assistant asks itself: whether it can help with anything else.
    const std::string folded = sdk::text::fold(asked.text);
    if (folded.find("yardimci olabilir") == std::string::npos &&
        folded.find("anything else") == std::string::npos)
        return std::nullopt;
    const int said = yes_or_no(answer.text);
    const bool en = language == "en";
    if (said > 0) return std::string(en ? "Sure, go ahead and ask." : "Buyurun, sorunuzu yazabilirsiniz.");
    if (said < 0) return std::string(en ? "All right, have a nice day!" : "Peki, iyi günler dileriz!");
    return std::nullopt;
}

void add_rich_reply(const sdk::ProviderRequest& request, const std::string& language,
                    sdk::ProviderResponse& response) {
    const std::string& text = response.text;
    std::vector<Named> named;
    std::vector<Named> categories;  // offered when fewer than two offerings are
    for (const auto& m : request.messages) {
        if (m.role != sdk::Role::tool || !m.tool_result || !m.tool_result->ok) continue;
        const auto* answer = m.tool_result->content.if_object();
        if (!answer) continue;
        if (const auto* product = answer->if_contains("product"); product && product->is_object()) {
            auto option = offering_option(*product);
            if (option && text.find(option->title) != std::string::npos &&
                std::none_of(response.cards.begin(), response.cards.end(),
                             [&](const sdk::ReplyCard& c) { return c.id == option->id; }))
                response.cards.push_back(card_of(product->get_object(), option->title));
        }
        for (const char* key : {"items", "also_matching", "alternatives", "suggestions"}) {
            const auto* list = answer->if_contains(key);
            if (!list || !list->is_array()) continue;
            for (const auto& brief : list->get_array()) consider(named, text, offering_option(brief));
        }
        // "Kategorilerimiz: A, B ve C. Hangisine bakmak istersiniz?"
        if (const auto* list = answer->if_contains("categories"); list && list->is_array())
            for (const auto& c : list->get_array())
                if (const auto* o = c.if_object(); o && !str(*o, "name").empty())
                    consider(categories, text, sdk::ReplyOption{str(*o, "name"), str(*o, "name"), {}});
    }
    // A list of categories names offerings within them ("Simit & Poğaça" names "Simit").
    if (named.size() < 2 && categories.size() >= 2) named = std::move(categories);
    if (named.size() >= 2) {
        std::stable_sort(named.begin(), named.end(),
                         [](const Named& a, const Named& b) { return a.at < b.at; });
        response.options.reserve(std::min(named.size(), kMaxOptions));
        for (auto& n : named) {
            if (response.options.size() == kMaxOptions) break;
            response.options.push_back(std::move(n.option));
        }
        return;
    }
    if (asks_yes_or_no(text)) {
        const bool en = language == "en";
        response.options = {{"yes", en ? "Yes" : "Evet", {}}, {"no", en ? "No" : "Hayır", {}}};
    }
}

}  // namespace tezgah::plugins::local
