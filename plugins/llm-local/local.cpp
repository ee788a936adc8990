// llm-local: the offline assistant. Step 0 reads the customer's message into intents and asks for
// the tools that answer them; the next step writes the reply from the tools' results with
// per-language templates. No network, no model: every answer comes from the tenant's own data.
#include "assistant.hpp"
#include "people.hpp"
#include "rich.hpp"

#include <tezgah/sdk/config.hpp>
#include <tezgah/sdk/plugin.hpp>

#include <algorithm>
#include <map>
#include <mutex>

namespace tezgah::plugins::local {
namespace {

const sdk::ConfigKey kConfig[] = {
    {.name = "max_list_items",
     .type = sdk::ConfigType::integer,
     .default_json = "8",
     .description = "How many offerings a list answer names before saying how many more there are.",
     .minimum = sdk::bound(1),
     .maximum = sdk::bound(50)},
};

std::int64_t estimate_tokens(std::size_t chars) { return static_cast<std::int64_t>((chars + 3) / 4); }

class LocalProvider final : public sdk::LlmProvider {
public:
    LocalProvider(sdk::HostServices& host, Settings settings)
        : host_(host), settings_(settings), index_(index_tenant(host)), tool_index_(index_tools(host)) {}

    sdk::Result<sdk::ProviderResponse> complete(const sdk::ProviderRequest& request,
                                                sdk::StreamSink* sink) override {
        try {
            return answer(request, sink);
        } catch (const std::exception& e) {
            return sdk::make_error("internal", std::string("llm-local: ") + e.what());
        }
    }

    /// The price table knows "local" (it costs nothing).
    std::string model() const override { return "local"; }

private:
    sdk::ProviderResponse answer(const sdk::ProviderRequest& request, sdk::StreamSink* sink) {
        sdk::ProviderResponse response;
        response.method = "intent";
        const auto plan_ptr = plan_of(request);
        const Plan& plan = *plan_ptr;
        response.language = plan.language;
        response.session_updates["language"] = plan.language;
        // A question about a tool's parameter is answered now or never: a message about
        // something else drops the waiting call (read_tool_request keeps it when answered).
        if (request.step == 0 && request.session.contains("pending_tool"))
            response.session_updates["pending_tool"] = nullptr;

        // The calls this turn already made, with their results, in order.
        std::vector<sdk::ToolCall> made;
        std::map<std::string, const sdk::ToolResult*> results;
        for (const auto& m : request.messages) {
            if (m.role == sdk::Role::assistant && !m.tool_calls.empty()) made = m.tool_calls;
            if (m.role == sdk::Role::tool && m.tool_result) results[m.tool_result->call_id] = &*m.tool_result;
        }

        if (!plan.handoff_reason.empty()) {
            response.handoff = true;
            response.handoff_reason = plan.handoff_reason;
            response.confidence = 0.9;
            response.text = render_handoff(plan.handoff_reason, plan.language, host_.tenant());
            return finish(request, sink, response, plan_ptr);
        }
        if (auto said = request.step == 0 ? answer_to_yes_or_no(request, plan.language) : std::nullopt) {
            response.text = std::move(*said);  // rich.cpp
            response.confidence = 0.9;
            return finish(request, sink, response, plan_ptr);
        }
        if (auto call = request.step == 0 ? read_tool_request(request, *tool_index_) : std::nullopt) {
            // One of the tenant's own tools: called when the message gave every required
            // parameter, else the first missing one is asked for and the call waits for it.
            response.confidence = 0.9;
            if (call->missing.empty()) {
                response.tool_calls.push_back({"call_1", call->tool, call->arguments});
                int n = 1;
                for (const auto& intent : beside_tool(plan).intents)
                    if (has_tool(request, intent.tool))
                        response.tool_calls.push_back(
                            {"call_" + std::to_string(++n), intent.tool, intent.arguments});
                response.session_updates["pending_tool"] = nullptr;
            } else {
                response.text = greeting(plan) + ask_for_parameter(*call, plan.language);
                response.session_updates["pending_tool"] = json::object{
                    {"tool", call->tool}, {"arguments", call->arguments}, {"asked", call->missing.front()}};
            }
            return finish(request, sink, response, plan_ptr);
        }
        if (auto tool = request.step > 0 ? tenant_tool_called(made) : std::nullopt) {
            auto it = results.find(tool->id);
            response.text = greeting(plan) +
                            render_tool_result(it == results.end() ? nullptr : it->second, plan.language);
            if (Plan rest = beside_tool(plan); !rest.intents.empty())
                response.text += " " + write_reply(rest, request, made, results, response.session_updates);
            response.confidence = 0.9;
            return finish(request, sink, response, plan_ptr);
        }
        // People, class schedules and one day's hours come straight from the tenant's data; a
        // question that also asks a price, a duration or stock ("cilt bakımı kim yapıyor ve ne
        // kadar sürüyor") gets the catalogue's answer first, then this one.
        const bool product_too = needs_tools(plan) && asks_about_product(request) && names_an_offering(plan);
        // After a tool round only an answer beside the catalogue's is wanted.
        auto people = request.step == 0 || product_too
                          ? answer_people_and_times(request, host_, plan.language)
                          : std::nullopt;
        const bool beside_product = people && product_too;
        if (people && !beside_product) {
            response.text = std::move(*people);
            response.confidence = 0.9;
        } else if (request.step == 0 && needs_tools(plan)) {
            int n = 0;
            for (const auto& intent : plan.intents)
                if (!intent.tool.empty() && has_tool(request, intent.tool))
                    response.tool_calls.push_back(
                        {"call_" + std::to_string(++n), intent.tool, intent.arguments});
            response.confidence = confidence_of(plan);
        } else {
            response.text = write_reply(plan, request, made, results, response.session_updates);
            if (beside_product) response.text += " " + *people;
            // "pazartesi randevu alabilir miyim" on a closed Monday: the answer, and that.
            if (auto closed = closed_day_note(request, host_, plan.language); !closed.empty()) {
                const auto said = sdk::text::fold(response.text);
                if (!has_phrase(said, "kapali") && !has_phrase(said, "kapaliyiz") &&
                    !has_phrase(said, "closed"))
                    response.text += " " + closed;
            }
            response.confidence = confidence_of(plan);
        }
        return finish(request, sink, response, plan_ptr);
    }

    /// The reading of this turn's message: made at step 0, and kept for the steps after a tool
    /// round (the session's "local_plan" names it), so a turn reads its message once.
    std::shared_ptr<const Plan> plan_of(const sdk::ProviderRequest& request) {
        if (const auto* id = request.session.if_contains(kPlanKey);
            id && id->is_int64() && request.step > 0) {
            std::lock_guard lock(plans_mutex_);
            if (auto it = plans_.find(id->get_int64()); it != plans_.end()) return it->second;
        }
        return std::make_shared<const Plan>(understand(request, host_, *index_));
    }

    /// The estimated usage, the plan kept while tools run, and the text streamed.
    sdk::ProviderResponse finish(const sdk::ProviderRequest& request, sdk::StreamSink* sink,
                                 sdk::ProviderResponse& response, const std::shared_ptr<const Plan>& plan) {
        if (!response.tool_calls.empty()) {
            std::lock_guard lock(plans_mutex_);
            const std::int64_t id = ++last_plan_;
            plans_[id] = plan;
            if (plans_.size() > kPlansKept) plans_.erase(plans_.begin());
            response.session_updates[kPlanKey] = id;
        } else if (request.session.contains(kPlanKey)) {
            response.session_updates[kPlanKey] = nullptr;
        }
        std::size_t input_chars = request.system_prompt.size();
        for (const auto& m : request.messages) input_chars += m.text.size();
        response.usage.input_tokens = estimate_tokens(input_chars);
        std::size_t output_chars = response.text.size();
        for (const auto& c : response.tool_calls) output_chars += json::serialize(c.arguments).size();
        response.usage.output_tokens = estimate_tokens(output_chars);
        response.usage.estimated = true;
        if (response.tool_calls.empty() && !response.text.empty())
            add_rich_reply(request, response.language, response);  // rich.cpp
        if (sink && !response.text.empty()) sink->on_text(response.text);
        return std::move(response);
    }

    /// Some intent of the plan names an offering this assistant matched ("Zeynep" names none).
    static bool names_an_offering(const Plan& plan) {
        return std::any_of(plan.intents.begin(), plan.intents.end(), [](const Intent& i) {
            return i.kind == IntentKind::product && (!i.picked.empty() || i.follow_up);
        });
    }

    /// The customer's message asks a price, a duration or stock.
    static bool asks_about_product(const sdk::ProviderRequest& request) {
        for (auto m = request.messages.rbegin(); m != request.messages.rend(); ++m) {
            if (m->role != sdk::Role::user) continue;
            const auto cues = detect_cues(sdk::text::fold(m->text));
            return cues.price || cues.duration || cues.stock;
        }
        return false;
    }

    static bool has_tool(const sdk::ProviderRequest& request, std::string_view name) {
        return std::any_of(request.tools.begin(), request.tools.end(),
                           [&](const auto& t) { return t.name == name; });
    }

    /// What a message asks beside a call of a tenant tool: business facts ("pazar açık mısınız?"),
    /// answered after the tool's reply. The offerings it names are the tool's to answer about.
    static Plan beside_tool(Plan plan) {
        std::erase_if(plan.intents, [](const Intent& i) { return i.kind != IntentKind::info; });
        plan.small_talk = SmallTalk::none;  // greeting() said it before the tool's reply
        return plan;
    }

    /// "Merhaba! " before an answer to a message that opens with a greeting, else nothing.
    static std::string greeting(const Plan& plan) {
        if (!greets(plan)) return {};
        return plan.language == "en" ? "Hello! " : "Merhaba! ";
    }

    static bool greets(const Plan& plan) {
        return plan.small_talk == SmallTalk::greeting ||
               (plan.small_talk == SmallTalk::greeting_or_farewell && !plan.earlier_turns);
    }

    /// The call of a tenant tool this turn made, if any (its reply comes from the tool's result).
    static std::optional<sdk::ToolCall> tenant_tool_called(const std::vector<sdk::ToolCall>& made) {
        for (const auto& call : made)
            if (is_tenant_tool(call.name)) return call;
        return std::nullopt;
    }

    static bool needs_tools(const Plan& plan) {
        return std::any_of(plan.intents.begin(), plan.intents.end(),
                           [](const Intent& i) { return !i.tool.empty(); });
    }

    static double confidence_of(const Plan& plan) {
        if (plan.intents.empty()) return plan.small_talk == SmallTalk::none ? 0.5 : 0.95;
        double c = 1;
        for (const auto& i : plan.intents) c = std::min(c, i.confidence);
        return c;
    }

    std::string write_reply(const Plan& plan, const sdk::ProviderRequest& request,
                            const std::vector<sdk::ToolCall>& made,
                            const std::map<std::string, const sdk::ToolResult*>& results,
                            json::object& session) {
        const auto& language = plan.language;
        std::vector<std::string> parts;
        bool greeted = false;
        if (greets(plan)) {
            if (!plan.intents.empty()) {
                parts.push_back(language == "en" ? "Hello!" : "Merhaba!");
                greeted = true;
            }
        }
        if (plan.intents.empty()) {
            if (plan.small_talk != SmallTalk::none)
                return render_small_talk(plan.small_talk, plan.earlier_turns, language, host_.tenant());
            return render_help(language, host_);
        }
        // Pair each intent that needed a tool with the call made for it: same tool and arguments.
        std::vector<const sdk::ToolResult*> paired(plan.intents.size(), nullptr);
        std::vector<bool> used(made.size(), false);
        for (std::size_t i = 0; i < plan.intents.size(); ++i) {
            const auto& intent = plan.intents[i];
            for (std::size_t k = 0; k < made.size() && !intent.tool.empty(); ++k) {
                if (used[k] || made[k].name != intent.tool || made[k].arguments != intent.arguments) continue;
                used[k] = true;
                if (auto it = results.find(made[k].id); it != results.end()) paired[i] = it->second;
                break;
            }
        }
        // Several counted items, or a fee or discount asked about with them: one answer with the total,
        // in place of the items' own answers and of the knowledge entries whose charges it applied.
        const Order order = render_order(plan, paired, last_user_text(request), charges_in(*index_), host_);
        session["last_order"] = order.items;  // empty when this turn was no order
        for (std::size_t i = 0; i < plan.intents.size(); ++i) {
            const auto& intent = plan.intents[i];
            const sdk::ToolResult* result = paired[i];
            bool tool_missing = !intent.tool.empty() && !has_tool(request, intent.tool);
            if (!order.text.empty() && answered_by(order, intent, i)) {
                if (i == order.intents.front()) parts.push_back(order.text);
                continue;
            }
            std::string part;
            if (tool_missing && intent.kind == IntentKind::info) {
                part = render_business_fact(intent, language, host_);
            } else if (tool_missing) {
                continue;
            } else {
                part = render_intent(intent, result, plan, host_, settings_, session);
            }
            // Words the assistant could not place, asked beside questions it did answer ("ve
            // hocası kim"), are not a product the shop lacks: no "nothing matches" next to an answer.
            if (plan.intents.size() > 1 && intent.kind == IntentKind::product && intent.picked.empty() &&
                !intent.follow_up && is_no_match_reply(part))
                continue;
            if (!part.empty() && std::find(parts.begin(), parts.end(), part) == parts.end())
                parts.push_back(std::move(part));
        }
        if (parts.size() == (greeted ? 1u : 0u)) parts.push_back(render_help(language, host_));
        without_yes_before_no(parts);
        if (plan.small_talk == SmallTalk::thanks)
            parts.push_back(language == "en" ? "You're welcome!" : "Rica ederim!");
        std::string reply;
        for (const auto& p : parts) reply += (reply.empty() ? "" : " ") + p;
        return without_repeated_sentences(reply);
    }

    /// An answer that says no further on ("… iç giyim ürünlerinde iade kabul edilmez") is not
    /// preceded by a "yes" ("Evet, Kadın Külot stokta var."): the facts stay, the "yes" goes, so
    /// the reply never seems to promise what it then refuses.
    static void without_yes_before_no(std::vector<std::string>& parts) {
        auto says_no = [](const std::string& part) {
            const std::string folded = sdk::text::fold(part);
            for (const auto& w : sdk::text::tokens(folded))
                if (w == "cannot" || w == "not" || w == "degil" ||
                    ((w.ends_with("maz") || w.ends_with("mez")) &&
                     (w.starts_with("edil") || w.starts_with("yapil") || w.starts_with("alin") ||
                      w.starts_with("veril") || w.starts_with("kabul"))))
                    return true;
            return has_phrase(folded, "can t") || has_phrase(folded, "don t") ||
                   has_phrase(folded, "kabul etmiyoruz");
        };
        for (std::size_t k = 1; k < parts.size(); ++k) {
            if (!says_no(parts[k])) continue;
            for (std::size_t j = 0; j < k; ++j)
                for (const std::string_view yes : {"Evet, ", "Yes, "})
                    if (parts[j].starts_with(yes)) parts[j].erase(0, yes.size());
            return;
        }
    }

    static std::string last_user_text(const sdk::ProviderRequest& request) {
        for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it)
            if (it->role == sdk::Role::user) return it->text;
        return {};
    }

    /// Whether the order's answer says what `intent` asks: one of its items, or the fee or discount
    /// a knowledge entry or a business fact ("kargo") states.
    static bool answered_by(const Order& order, const Intent& intent, std::size_t index) {
        if (std::find(order.intents.begin(), order.intents.end(), index) != order.intents.end()) return true;
        if (intent.kind == IntentKind::knowledge)
            return std::find(order.entries.begin(), order.entries.end(), intent.knowledge_id) !=
                   order.entries.end();
        if (intent.kind == IntentKind::info || intent.kind == IntentKind::text) {
            const std::string key = sdk::text::fold(intent.words);  // the info key ("kargo")
            return !key.empty() &&
                   std::any_of(order.topics.begin(), order.topics.end(),
                               [&](const std::string& t) { return word_match(key, t) >= 0.85; });
        }
        return false;
    }

    /// Each sentence once: two answers that end the same way ("Fiyatı 120 TL.") say it once.
    static std::string without_repeated_sentences(const std::string& reply) {
        std::vector<std::string> seen;
        std::string out;
        std::size_t start = 0;
        while (start < reply.size()) {
            std::size_t end = reply.find(". ", start);
            end = end == std::string::npos ? reply.size() : end + 1;
            std::string sentence = reply.substr(start, end - start);
            start = end;
            while (start < reply.size() && reply[start] == ' ') ++start;
            if (sentence.size() > 12 && std::find(seen.begin(), seen.end(), sentence) != seen.end()) continue;
            seen.push_back(sentence);
            out += (out.empty() ? "" : " ") + sentence;
        }
        return out;
    }

    sdk::HostServices& host_;
    Settings settings_;
    std::shared_ptr<const TenantIndex> index_;  ///< the tenant's data as of this instance's build
    std::shared_ptr<const ToolIndex> tool_index_;
    static constexpr const char* kPlanKey = "local_plan";
    static constexpr std::size_t kPlansKept = 1024;  ///< turns waiting for their tools at once
    std::mutex plans_mutex_;
    std::int64_t last_plan_ = 0;
    std::map<std::int64_t, std::shared_ptr<const Plan>> plans_;  ///< by id, oldest first
};

sdk::Result<sdk::PluginPtr> make_local(const json::object& config, sdk::HostServices& host) {
    Settings settings;
    settings.max_list_items = static_cast<std::size_t>(sdk::ConfigView(config).integer("max_list_items"));
    return sdk::PluginPtr(std::make_unique<LocalProvider>(host, settings));
}

}  // namespace
}  // namespace tezgah::plugins::local

TEZGAH_LLM_PLUGIN("local", "1.0.0",
                  "The offline assistant: intent detection and Turkish-aware matching, no API key",
                  tezgah::plugins::local::kConfig, &tezgah::plugins::local::make_local,
                  tezgah::sdk::kProviderOffline | tezgah::sdk::kProviderStreams);
