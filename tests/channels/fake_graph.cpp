#include "channels/fake_graph.hpp"

#include <tezgah/sdk/text.hpp>

namespace tezgah::testing {
namespace {

namespace json = boost::json;

std::size_t chars(const json::value* v) {
    return v != nullptr && v->is_string() ? sdk::text::length(v->get_string()) : 0;
}

const json::object* obj(const json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* arr(const json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

/// A string field of 1..max characters: "" when it is one, else why not.
std::string length_rule(const json::object& o, const char* key, std::size_t max, const std::string& what,
                        bool required = true) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return required ? what + " is required" : "";
    if (!v->is_string()) return what + " must be a string";
    const auto n = chars(v);
    if (n < 1 || n > max) return what + " length invalid. Min length: 1, Max length: " + std::to_string(max);
    return "";
}

}  // namespace

FakeGraph::FakeGraph(std::string phone_number_id, std::string token)
    : path_("/v21.0/" + phone_number_id + "/messages"),
      token_(std::move(token)),
      server_([this](const RecordedRequest& request, FakeReply& reply) { answer(request, reply); }) {}

void FakeGraph::always(Answer answer) {
    std::lock_guard lock(mutex_);
    default_ = answer;
}

void FakeGraph::then(Answer answer) {
    std::lock_guard lock(mutex_);
    script_.push_back(answer);
}

void FakeGraph::close_window(const std::string& wa_id) {
    std::lock_guard lock(mutex_);
    closed_.insert(wa_id);
}

std::vector<json::object> FakeGraph::accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
}

std::vector<std::string> FakeGraph::violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
}

std::string FakeGraph::error_body(long long code, const std::string& message, const std::string& details) {
    json::object error{{"message", message}, {"type", "OAuthException"}, {"code", code}};
    if (!details.empty())
        error["error_data"] = json::object{{"messaging_product", "whatsapp"}, {"details", details}};
    error["fbtrace_id"] = "AbCdEfGhIjKlMnOpQrStUvW";
    return json::serialize(json::object{{"error", std::move(error)}});
}

std::string FakeGraph::check(const json::object& body) const {
    if (const auto* p = body.if_contains("messaging_product"); p == nullptr || *p != "whatsapp")
        return "messaging_product is required and must be whatsapp";
    if (chars(body.if_contains("to")) == 0) return "to is required";
    const auto* type = body.if_contains("type");
    const std::string t = type != nullptr && type->is_string() ? std::string(type->get_string()) : "text";
    if (t == "text") {
        const auto* text = obj(body, "text");
        if (text == nullptr) return "text is required";
        return length_rule(*text, "body", 4096, "Message body");
    }
    if (t == "image") {
        const auto* image = obj(body, "image");
        if (image == nullptr ||
            (chars(image->if_contains("link")) == 0 && chars(image->if_contains("id")) == 0))
            return "image requires link or id";
        return length_rule(*image, "caption", 1024, "Caption", false);
    }
    if (t == "template") {
        const auto* tmpl = obj(body, "template");
        if (tmpl == nullptr || chars(tmpl->if_contains("name")) == 0) return "template name is required";
        const auto* language = obj(*tmpl, "language");
        if (language == nullptr || chars(language->if_contains("code")) == 0)
            return "template language is required";
        if (const auto* components = arr(*tmpl, "components")) {
            for (const auto& c : *components) {
                const auto* parameters = c.is_object() ? arr(c.get_object(), "parameters") : nullptr;
                if (parameters == nullptr) return "component parameters are required";
                for (const auto& p : *parameters) {
                    if (!p.is_object()) return "parameter must be an object";
                    const auto* text = p.get_object().if_contains("text");
                    if (text == nullptr || !text->is_string() || text->get_string().empty())
                        return "Param text cannot be empty";
                    const std::string s(text->get_string());
                    if (s.find('\n') != std::string::npos || s.find('\t') != std::string::npos ||
                        s.find("     ") != std::string::npos)
                        return "Param text cannot have new-line/tab characters or more than 4 consecutive "
                               "spaces";
                }
            }
        }
        return "";
    }
    if (t != "interactive") return "Unsupported message type " + t;
    const auto* interactive = obj(body, "interactive");
    if (interactive == nullptr) return "interactive is required";
    const auto* itype = interactive->if_contains("type");
    const auto* ibody = obj(*interactive, "body");
    const auto* action = obj(*interactive, "action");
    if (itype == nullptr || ibody == nullptr || action == nullptr)
        return "interactive type, body and action are required";
    if (const auto* header = obj(*interactive, "header"))
        if (auto why = length_rule(*header, "text", 60, "Header text"); !why.empty()) return why;
    if (const auto* footer = obj(*interactive, "footer"))
        if (auto why = length_rule(*footer, "text", 60, "Footer text"); !why.empty()) return why;
    if (*itype == "button") {
        if (auto why = length_rule(*ibody, "text", 1024, "Body text"); !why.empty()) return why;
        const auto* buttons = arr(*action, "buttons");
        if (buttons == nullptr || buttons->empty() || buttons->size() > 3)
            return "Buttons count invalid. Min: 1, Max: 3";
        std::set<std::string> ids, titles;
        for (const auto& b : *buttons) {
            const auto* reply = b.is_object() ? obj(b.get_object(), "reply") : nullptr;
            if (reply == nullptr || b.get_object().if_contains("type") == nullptr ||
                b.get_object().at("type") != "reply")
                return "Button type must be reply";
            if (auto why = length_rule(*reply, "title", 20, "Button title"); !why.empty()) return why;
            if (auto why = length_rule(*reply, "id", 256, "Button id"); !why.empty()) return why;
            if (!ids.insert(std::string(reply->at("id").as_string())).second) return "Duplicate button id";
            if (!titles.insert(std::string(reply->at("title").as_string())).second)
                return "Duplicate button title";
        }
        return "";
    }
    if (*itype == "list") {
        if (auto why = length_rule(*ibody, "text", 4096, "Body text"); !why.empty()) return why;
        if (auto why = length_rule(*action, "button", 20, "Button text"); !why.empty()) return why;
        const auto* sections = arr(*action, "sections");
        if (sections == nullptr || sections->empty() || sections->size() > 10)
            return "Sections count invalid. Min: 1, Max: 10";
        std::size_t rows_total = 0;
        std::set<std::string> ids;
        for (const auto& s : *sections) {
            if (!s.is_object()) return "section must be an object";
            if (sections->size() > 1)
                if (auto why = length_rule(s.get_object(), "title", 24, "Section title"); !why.empty())
                    return why;
            const auto* rows = arr(s.get_object(), "rows");
            if (rows == nullptr || rows->empty()) return "Rows are required";
            for (const auto& r : *rows) {
                if (!r.is_object()) return "row must be an object";
                ++rows_total;
                if (auto why = length_rule(r.get_object(), "title", 24, "Row title"); !why.empty())
                    return why;
                if (auto why = length_rule(r.get_object(), "id", 200, "Row id"); !why.empty()) return why;
                if (auto why = length_rule(r.get_object(), "description", 72, "Row description", false);
                    !why.empty())
                    return why;
                if (!ids.insert(std::string(r.get_object().at("id").as_string())).second)
                    return "Duplicate row id";
            }
        }
        if (rows_total > 10) return "Total row count exceed max allowed count: 10";
        return "";
    }
    return "Unsupported interactive type";
}

void FakeGraph::answer(const RecordedRequest& request, FakeReply& reply) {
    reply.content_type("application/json");
    {
        // always(server_error) is an outage: every request fails, whichever number it is for.
        std::lock_guard lock(mutex_);
        if (script_.empty() && default_ == Answer::server_error) {
            reply.status(500);
            reply.body(error_body(131000, "(#131000) Something went wrong", "Something went wrong"));
            return;
        }
    }
    if (request.method != "POST" || request.path != path_) {
        reply.status(400);
        reply.body(error_body(100, "Unsupported post request. Object with ID does not exist", ""));
        return;
    }
    if (request.header("authorization") != "Bearer " + token_) {
        reply.status(401);
        reply.body(error_body(190, "Invalid OAuth access token - Cannot parse access token", ""));
        return;
    }
    boost::system::error_code ec;
    auto parsed = json::parse(request.body, ec);
    if (ec || !parsed.is_object() ||
        request.header("content-type").find("application/json") == std::string::npos) {
        reply.status(400);
        reply.body(error_body(100, "(#100) Invalid parameter", "the request body is not JSON"));
        return;
    }
    const auto& body = parsed.get_object();
    std::lock_guard lock(mutex_);
    Answer answer = default_;
    if (!script_.empty()) {
        answer = script_.front();
        script_.pop_front();
    }
    switch (answer) {
        case Answer::too_many:
            reply.status(429);
            reply.header("Retry-After", "1");
            reply.body(error_body(130429, "(#130429) Rate limit hit",
                                  "Cloud API message throughput has been reached."));
            return;
        case Answer::server_error:
            reply.status(500);
            reply.body(error_body(131000, "(#131000) Something went wrong", "Something went wrong"));
            return;
        case Answer::bad_request:
            reply.status(400);
            reply.body(error_body(131026, "(#131026) Message undeliverable",
                                  "Receiver is incapable of receiving this message"));
            return;
        case Answer::drop:
            reply.drop();
            return;
        case Answer::ok:
            break;
    }
    if (auto why = check(body); !why.empty()) {
        violations_.push_back(why);
        reply.status(400);
        reply.body(error_body(131009, "(#131009) Parameter value is not valid", why));
        return;
    }
    const std::string to = body.at("to").is_string() ? std::string(body.at("to").as_string()) : "";
    const auto* type = body.if_contains("type");
    if (closed_.count(to) && !(type != nullptr && *type == "template")) {
        reply.status(400);
        reply.body(error_body(131047, "(#131047) Re-engagement message",
                              "Message failed to send because more than 24 hours have passed since the "
                              "customer last replied to this number."));
        return;
    }
    accepted_.push_back(body);
    const std::string wamid = "wamid.FAKE" + std::to_string(next_id_++);
    reply.status(200);
    reply.body(
        json::serialize(json::object{{"messaging_product", "whatsapp"},
                                     {"contacts", json::array{json::object{{"input", to}, {"wa_id", to}}}},
                                     {"messages", json::array{json::object{{"id", wamid}}}}}));
}

}  // namespace tezgah::testing
