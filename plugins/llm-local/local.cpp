// llm-local: the offline assistant. Step 0 reads the customer's message into intents and asks for
// the tools that answer them; the next step writes the reply from the tools' results with
// per-language templates. No network, no model: every answer comes from the tenant's own data.
#include "assistant.hpp"
#include "booking.hpp"
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
        // Booking, listing, cancelling or moving appointments (booking.cpp), when the tenant has
        // the appointments tools: its own questions, options and tool calls.
        if (auto booking = booking_answer(request, host_, plan.language)) {
            booking->session_updates["language"] = plan.language;
            if (request.step == 0 && request.session.contains("pending_tool"))
                booking->session_updates["pending_tool"] = nullptr;
            return finish(request, sink, *booking, plan_ptr, false);
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
                for (const auto& intent : beside_tool(plan, call->arguments).intents)
                    if (has_tool(request, intent.tool))
                        response.tool_calls.push_back(
                            {"call_" + std::to_string(++n), intent.tool, intent.arguments});
                response.session_updates["pending_tool"] = nullptr;
                response.session_updates["last_topic"] = "tool";
            } else {
                response.session_updates["pending_tool"] = json::object{
                    {"tool", call->tool}, {"arguments", call->arguments}, {"asked", call->missing.front()}};
                // "2 kg pasta ne tutar?": what each of the counted choices comes to, then the
                // question; the catalogue answers first and the question waits in the session.
                if (counts_choices(plan)) {
                    int n = 0;
                    for (const auto& intent : plan.intents)
                        if (!intent.tool.empty() && has_tool(request, intent.tool))
                            response.tool_calls.push_back(
                                {"call_" + std::to_string(++n), intent.tool, intent.arguments});
                    response.session_updates[kAskKey] = ask_for_parameter(*call, plan.language);
                    return finish(request, sink, response, plan_ptr);
                }
                response.text = greeting(plan) + ask_for_parameter(*call, plan.language);
            }
            return finish(request, sink, response, plan_ptr);
        }
        if (auto tool = request.step > 0 ? tenant_tool_called(made) : std::nullopt) {
            auto it = results.find(tool->id);
            response.text = greeting(plan) +
                            render_tool_result(it == results.end() ? nullptr : it->second, plan.language);
            if (Plan rest = beside_tool(plan, tool->arguments); !rest.intents.empty()) {
                response.text += " " + write_reply(rest, request, made, results, response.session_updates);
                response.text += total_beside_tool(rest, it == results.end() ? nullptr : it->second, request);
            } else {
                response.text += fee_beside_tool(*tool, it == results.end() ? nullptr : it->second, request,
                                                 plan.language);
            }
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
            remember_earlier_products(request, response.session_updates);
            if (beside_product) response.text += " " + *people;
            if (const auto* ask = request.session.if_contains(kAskKey); ask && ask->is_string()) {
                response.text += " " + std::string(ask->get_string());
                response.session_updates[kAskKey] = nullptr;
            }
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
    /// `rich`: options and cards read from the reply (a booking reply sets its own).
    sdk::ProviderResponse finish(const sdk::ProviderRequest& request, sdk::StreamSink* sink,
                                 sdk::ProviderResponse& response, const std::shared_ptr<const Plan>& plan,
                                 bool rich = true) {
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
        if (rich && response.tool_calls.empty() && !response.text.empty())
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

    /// What a message asks beside a call of a tenant tool, answered after the tool's reply:
    /// business facts ("pazar açık mısınız?") and offerings the call's arguments do not name ("2
    /// kg çikolatalı pasta ve 10 simit": the simit). The offerings they name are the tool's.
    Plan beside_tool(Plan plan, const json::object& arguments) const {
        std::vector<std::string> named;  // the words of the call's text arguments
        for (const auto& [key, value] : arguments)
            if (value.is_string())
                for (auto& w : sdk::text::tokens(value.get_string())) named.push_back(std::move(w));
        std::erase_if(plan.intents, [&](const Intent& i) {
            if (i.kind == IntentKind::info) return false;
            if (i.kind != IntentKind::product || i.picked.empty() || named.empty()) return true;
            return std::any_of(i.picked.begin(), i.picked.end(), [&](const std::string& id) {
                const auto o = host_.catalog().get(id);
                return !o || fit_offering(named, *o).coverage > 0;
            });
        });
        plan.small_talk = SmallTalk::none;  // greeting() said it before the tool's reply
        return plan;
    }

    /// " Pasta teslimatı: 150 TL. Toplam: 1.850 TL." after a tool's price when the message asks for
    /// a fee the knowledge base states for what the call names ("2 kg çikolatalı pasta eve teslim
    /// ile ne tutar"); else nothing.
    std::string fee_beside_tool(const sdk::ToolCall& call, const sdk::ToolResult* result,
                                const sdk::ProviderRequest& request, const std::string& language) const {
        const auto* content = result && result->ok ? result->content.if_object() : nullptr;
        const auto* price = content ? content->if_contains("price") : nullptr;
        if (!price || !price->is_number()) return {};
        std::vector<std::string> named;  // the words of the call's text arguments
        for (const auto& [key, value] : call.arguments)
            if (value.is_string())
                for (auto& w : sdk::text::tokens(value.get_string())) named.push_back(std::move(w));
        // In the catalogue's own words too ("chocolate cake" is the "Çikolatalı Yaş Pasta").
        for (const auto& o : host_.catalog().all())
            if (fit_offering(named, o).coverage >= 0.99) {
                for (auto& w : sdk::text::tokens(o.name)) named.push_back(std::move(w));
                break;
            }
        const auto words = sdk::text::tokens(sdk::text::fold(last_user_text(request)));
        for (const auto& c : charges_in(*index_)) {
            if (c.kind != Charge::Kind::fee || c.scope.empty() || c.amount <= 0 || !asks_for(c, words))
                continue;
            const bool for_it = std::any_of(c.scope.begin(), c.scope.end(), [&](const std::string& s) {
                return std::any_of(named.begin(), named.end(),
                                   [&](const std::string& n) { return word_match(n, s) >= 0.85; });
            });
            if (!for_it) continue;
            std::string currency = "TRY";
            if (const auto* cur = content->if_contains("currency"); cur && cur->is_string())
                currency = std::string(cur->get_string());
            std::string label = language == "en" ? c.label_en : c.label_tr;
            if (!label.empty() && static_cast<unsigned char>(label[0]) < 0x80)
                label[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
            const double total = price->to_number<double>() + c.amount;
            return " " + label + ": " + format_price(c.amount, currency, language) + "." +
                   (language == "en" ? " Total: " : " Toplam: ") + format_price(total, currency, language) +
                   ".";
        }
        return {};
    }

    /// " Toplam: 2.850 TL." after a tool's price and the offerings asked beside it, when the
    /// customer asks for the total ("tüm boya uzun saç ve fön toplam ne tutar"); else nothing.
    std::string total_beside_tool(const Plan& rest, const sdk::ToolResult* result,
                                  const sdk::ProviderRequest& request) const {
        const auto* content = result && result->ok ? result->content.if_object() : nullptr;
        const auto* price = content ? content->if_contains("price") : nullptr;
        if (!price || !price->is_number()) return {};
        const auto words = sdk::text::tokens(sdk::text::fold(last_user_text(request)));
        if (!has_prefix_word(words, {"toplam", "total", "hepsi", "altogether", "together", "birlikte"}))
            return {};
        std::string currency = "TRY";
        if (const auto* c = content->if_contains("currency"); c && c->is_string())
            currency = std::string(c->get_string());
        double total = price->to_number<double>();
        for (const auto& i : rest.intents) {
            if (i.kind != IntentKind::product) continue;
            const auto o = i.picked.size() == 1 ? host_.catalog().get(i.picked.front()) : std::nullopt;
            if (!o || o->currency != currency || o->price <= 0) return {};
            total += o->price * std::max(1, i.quantity);
        }
        return (rest.language == "en" ? " Total: " : " Toplam: ") +
               format_price(total, currency, rest.language) + ".";
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

    /// A turn that answered about other offerings than the turn before keeps those of the turn
    /// before as "earlier_product_ids", so that "ikisi toplam ne tutar" can sum both.
    static void remember_earlier_products(const sdk::ProviderRequest& request, json::object& session) {
        const auto* now = session.if_contains("last_product_ids");
        const auto* before = request.session.if_contains("last_product_ids");
        if (!now || !now->is_array() || now->get_array().empty()) return;
        if (before && before->is_array() && !before->get_array().empty() && *before != *now)
            session["earlier_product_ids"] = *before;
    }

    /// The message counts a kind of which several are sold ("2 kg pasta"), and asks nothing else.
    static bool counts_choices(const Plan& plan) {
        return !plan.intents.empty() &&
               std::all_of(plan.intents.begin(), plan.intents.end(), [](const Intent& i) {
                   return (i.kind == IntentKind::list ||
                           (i.kind == IntentKind::product && i.picked.size() > 1)) &&
                          i.quantity > 0 && i.extreme.empty();
               });
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
            if (intent.kind == IntentKind::knowledge || intent.kind == IntentKind::info)
                part = exception_for_asked(plan, part);
            // Words the assistant could not place, asked beside questions it did answer ("ve
            // hocası kim"), are not a product the shop lacks: no "nothing matches" next to an answer.
            if (plan.intents.size() > 1 && intent.kind == IntentKind::product && intent.picked.empty() &&
                !intent.follow_up && is_no_match_reply(part))
                continue;
            // "nothing matches" said once in a reply, for the first words it could not place.
            if (is_no_match_reply(part) && std::any_of(parts.begin(), parts.end(), [](const std::string& p) {
                    return is_no_match_reply(p);
                }))
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

    /// A policy whose exception names the category of an offering asked about in the same message
    /// ("… iade edebilirsiniz. Hijyen nedeniyle iç giyim ürünlerinde iade kabul edilmez." beside
    /// "külot var mı"): only the exception, which is the answer for that offering.
    std::string exception_for_asked(const Plan& plan, const std::string& part) const {
        std::vector<std::string> categories;
        for (const auto& i : plan.intents) {
            if (i.kind != IntentKind::product) continue;
            for (const auto& id : i.picked)
                if (auto o = host_.catalog().get(id); o && !o->category.empty()) {
                    const std::string folded = sdk::text::fold(o->category);
                    categories.push_back(folded);
                    for (auto& w : category_synonyms(folded)) categories.push_back(std::move(w));
                }
        }
        if (categories.empty()) return part;
        std::vector<std::string> sentences;
        for (std::size_t start = 0; start < part.size();) {
            std::size_t end = part.find(". ", start);
            end = end == std::string::npos ? part.size() : end + 1;
            sentences.push_back(part.substr(start, end - start));
            start = end;
            while (start < part.size() && part[start] == ' ') ++start;
        }
        if (sentences.size() < 2) return part;
        std::string kept;
        for (const auto& sentence : sentences) {
            const std::string folded = sdk::text::fold(sentence);
            if (says_no(sentence) && std::any_of(categories.begin(), categories.end(),
                                                 [&](const std::string& c) { return has_phrase(folded, c); }))
                kept += (kept.empty() ? "" : " ") + sentence;
        }
        return kept.empty() ? part : kept;
    }

    /// A sentence that refuses: "cannot", "değil", "kabul edilmez", "don't".
    static bool says_no(const std::string& part) {
        const std::string folded = sdk::text::fold(part);
        for (const auto& w : sdk::text::tokens(folded))
            if (w == "cannot" || w == "not" || w == "degil" || w == "yoktur" ||
                ((w.ends_with("maz") || w.ends_with("mez")) &&
                 (w.starts_with("edil") || w.starts_with("yapil") || w.starts_with("alin") ||
                  w.starts_with("veril") || w.starts_with("kabul"))))
                return true;
        return has_phrase(folded, "can t") || has_phrase(folded, "don t") ||
               has_phrase(folded, "kabul etmiyoruz");
    }

    /// An answer that says no further on ("… iç giyim ürünlerinde iade kabul edilmez") is not
    /// preceded by a "yes" ("Evet, Kadın Külot stokta var."): the facts stay, the "yes" goes, so
    /// the reply never seems to promise what it then refuses.
    static void without_yes_before_no(std::vector<std::string>& parts) {
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
    static constexpr const char* kAskKey = "local_ask";  ///< a tool's question said after this turn's tools
    static constexpr std::size_t kPlansKept = 1024;      ///< turns waiting for their tools at once
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
