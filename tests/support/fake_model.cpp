#include "support/fake_model.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <cstdio>

namespace tezgah::testing {
namespace json = boost::json;

namespace {

bool has(const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
}

std::string str(const json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_null()) return {};
    if (v->is_double()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f", v->get_double());
        return buf;
    }
    return json::serialize(*v);
}

std::string render(const json::value& result) {
    if (result.is_object()) {
        const auto& o = result.get_object();
        if (const auto* p = o.if_contains("product"); p && p->is_object()) {
            const auto& product = p->get_object();
            std::string out =
                str(product, "name") + ": " + str(product, "price") + " " + str(product, "currency");
            if (product.contains("stock")) out += ", stok: " + str(product, "stock");
            return out;
        }
        if (const auto* t = o.if_contains("text"); t && t->is_string()) return std::string(t->get_string());
        if (const auto* r = o.if_contains("results"); r && r->is_array() && !r->get_array().empty()) {
            const auto& first = r->get_array().front();
            if (first.is_object()) {
                auto a = str(first.get_object(), "answer");
                if (!a.empty()) return a;
            }
        }
    }
    auto s = json::serialize(result);
    if (s.size() > 300) s.resize(300);
    return s;
}

}  // namespace

FakeDecision fake_model_decide(const std::vector<FakeTurnMessage>& conversation,
                               const std::vector<std::string>& tool_names) {
    FakeDecision out;
    if (conversation.empty()) {
        out.text = "Merhaba!";
        return out;
    }
    // Tool results since the last user message: answer from them.
    std::vector<std::string> parts;
    for (auto it = conversation.rbegin(); it != conversation.rend() && it->role == "tool"; ++it)
        parts.insert(parts.begin(), render(it->tool_result));
    if (!parts.empty()) {
        out.text = "Bilgi: ";
        for (std::size_t i = 0; i < parts.size(); ++i) out.text += (i ? "; " : "") + parts[i];
        return out;
    }
    std::string question;
    for (auto it = conversation.rbegin(); it != conversation.rend(); ++it)
        if (it->role == "user") {
            question = it->text;
            break;
        }
    if (tool_names.empty() || question.empty()) {
        out.text = "Merhaba! Size nasıl yardımcı olabilirim?";
        return out;
    }
    const std::string folded = " " + sdk::text::fold(question) + " ";
    static const std::pair<const char*, const char*> policies[] = {
        {"iade", "iade"},       {"return", "iade"},     {"kargo", "kargo"}, {"shipping", "kargo"},
        {"odeme", "odeme"},     {"payment", "odeme"},   {"iptal", "iptal"}, {"cancel", "iptal"},
        {"otopark", "otopark"}, {"parking", "otopark"}, {"saat", "hours"},  {"hours", "hours"},
        {"adres", "address"},   {"address", "address"}};
    for (const auto& [word, topic] : policies) {
        if (folded.find(word) == std::string::npos) continue;
        if (has(tool_names, "get_general_info")) {
            out.calls.push_back({"get_general_info", json::object{{"info_type", topic}}});
            return out;
        }
        if (has(tool_names, "search_knowledge_base")) {
            out.calls.push_back({"search_knowledge_base", json::object{{"query", question}}});
            return out;
        }
    }
    if (has(tool_names, "get_product_info")) {
        out.calls.push_back({"get_product_info", json::object{{"product", question}}});
        return out;
    }
    if (has(tool_names, "search_knowledge_base")) {
        out.calls.push_back({"search_knowledge_base", json::object{{"query", question}}});
        return out;
    }
    out.text = "Merhaba! Size nasıl yardımcı olabilirim?";
    return out;
}

}  // namespace tezgah::testing
