// The assistant part of a turn: the response cache, the tenant's budget, then the provider chain
// (the manifest's `llm`, its `fallback`s, and `local` last) under one deadline for the whole turn.
#include "pipeline/assistant.hpp"

#include "ops/costs.hpp"
#include "ops/metrics.hpp"
#include "pipeline/engine.hpp"
#include "pipeline/prompt.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/json_schema.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/text.hpp>

#include <algorithm>

namespace tezgah::engine {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Kept back from a remote provider's share of the deadline: the offline assistant, the rules and
/// storing the turn come after it.
constexpr milliseconds kReserve{400};

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// The short system prompt of the offline assistant (which reads the conversation, not prompts).
std::string local_system_prompt(const sdk::TenantProfile& p, const std::string& language) {
    std::string out = "You are " + (p.persona.name.empty() ? std::string("the assistant") : p.persona.name) +
                      ", the customer assistant of " + p.name + ".";
    if (!p.persona.tone.empty()) out += " Tone: " + p.persona.tone + ".";
    if (!p.persona.instructions.empty()) out += " " + p.persona.instructions;
    out += " Answer in the customer's language (" + language +
           "). Use the tools for prices, stock, policies and business information; never invent them.";
    return out;
}

std::string unavailable_text(const sdk::TenantProfile& p, const std::string& language) {
    if (language == "en")
        return "Sorry, I can't answer right now. Please try again shortly" +
               (p.phone.empty() ? std::string(".") : " or call us on " + p.phone + ".");
    return "Üzgünüm, şu anda yanıt veremiyorum. Lütfen biraz sonra tekrar deneyin" +
           (p.phone.empty() ? std::string(".") : " ya da bizi " + p.phone + " numarasından arayın.");
}

std::string budget_refusal(const sdk::TenantProfile& p, const std::string& language,
                           const std::string& custom) {
    if (!custom.empty()) return custom;
    if (language == "en")
        return "Sorry, our online assistant can't take more questions today." +
               (p.phone.empty() ? std::string(" Please try again tomorrow.")
                                : " Please call us on " + p.phone + ".");
    return "Üzgünüz, çevrim içi asistanımız bugün daha fazla soru yanıtlayamıyor." +
           (p.phone.empty() ? std::string(" Lütfen yarın tekrar deneyin.")
                            : " Bize " + p.phone + " numarasından ulaşabilirsiniz.");
}

/// Tools whose answers depend only on the tenant's data: a reply built on them may be cached.
bool read_only_tool(const std::string& name) {
    return name == "get_product_info" || name == "list_offerings" || name == "get_general_info" ||
           name == "search_knowledge_base";
}

bool is_local(const std::string& provider) { return provider == "local"; }

}  // namespace

void Engine::run_assistant(AssistantTurn& t) {
    Tenant& tenant = t.tenant;
    const auto& manifest = tenant.manifest();
    const auto& profile = tenant.profile();
    const auto& policy = manifest.llm_policy;
    auto& out = t.out;
    auto& metrics = Metrics::global();
    const auto& providers = tenant.providers();
    const auto turn_deadline = t.started + milliseconds(policy.deadline_ms);

    const bool has_remote = std::any_of(providers.begin(), providers.end(),
                                        [](const auto& p) { return !is_local(p.name) && !*p.disabled; });

    // The response cache: the first question of a conversation (a follow-up depends on what came
    // before), for tenants that pay for a remote model.
    const bool cacheable = has_remote && policy.cache_ttl_s > 0 && t.history.empty();
    std::string cache_key;
    if (cacheable) {
        cache_key = ResponseCache::key(t.language, t.message.text);
        if (auto hit = tenant.response_cache().get(cache_key)) {
            metrics.response_cache(tenant.id(), hit->negative ? "negative_hit" : "hit");
            out.reply = hit->reply;
            out.method = "cache";
            out.confidence = hit->confidence;
            if (!hit->language.empty()) out.language = hit->language;
            return;
        }
        metrics.response_cache(tenant.id(), "miss");
    }

    // The budget: spending stops at the limit.
    bool remote_allowed = true;
    if (has_remote && (policy.daily_usd || policy.monthly_usd) && spend_) {
        Budget budget{policy.daily_usd, policy.monthly_usd,
                      policy.refuse_on_exceed ? Budget::OnExceed::refuse : Budget::OnExceed::fallback};
        auto check = spend_->check(budget, tenant.id(), clock_->now(), profile.timezone);
        if (!check.allowed) {
            metrics.budget_exceeded(tenant.id(), check.period);
            log_event(spdlog::level::warn, "assistant", "budget reached; the remote model is not called",
                      {{"tenant", tenant.id()},
                       {"period", check.period},
                       {"limit_usd", std::to_string(check.limit_usd)},
                       {"spent_usd", std::to_string(check.spent_usd)},
                       {"on_exceed", policy.refuse_on_exceed ? "refuse" : "fallback"}});
            if (policy.refuse_on_exceed) {
                out.reply = budget_refusal(profile, t.language, policy.refuse_message);
                out.method = "fallback";
                out.confidence = 1;
                return;
            }
            remote_allowed = false;
        }
    }

    // The conversation as each kind of provider gets it: the offline assistant reads the plain
    // history; a remote model gets the built prompt (made once, on first use).
    std::vector<sdk::Message> local_messages;
    std::optional<Prompt> prompt;
    auto summary = [&]() -> std::string {
        if (const auto* s = t.state.if_contains("summary"); s && s->is_string())
            return std::string(s->get_string());
        return {};
    };

    bool remote_failed = false;
    for (std::size_t p = 0; p < providers.size() && out.method.empty(); ++p) {
        const auto& provider = providers[p];
        if (*provider.disabled) continue;
        const bool remote = !is_local(provider.name);
        if (remote && !remote_allowed) continue;

        // Each remote provider gets an equal share of what is left of the deadline, so a stalled
        // one leaves time for the next; the offline assistant needs none.
        Clock::time_point deadline{};
        if (remote) {
            std::size_t remotes_left = 0;
            for (std::size_t q = p; q < providers.size(); ++q)
                if (!is_local(providers[q].name) && !*providers[q].disabled) ++remotes_left;
            auto left = std::chrono::duration_cast<milliseconds>(turn_deadline - kReserve - Clock::now());
            if (left.count() <= 0 || (t.cancelled && t.cancelled->load())) {
                remote_failed = true;
                continue;
            }
            deadline = Clock::now() + left / static_cast<long>(std::max<std::size_t>(remotes_left, 1));
        }

        sdk::ProviderRequest request;
        request.tenant_id = tenant.id();
        request.language = t.language;
        request.tools = tenant.tool_specs();
        request.deadline = deadline;
        if (remote) {
            if (!prompt) {
                PromptInput input{&profile,   &tenant.catalog(), &tenant.knowledge(), t.language,
                                  &t.history, t.message.text,    summary(),           clock_->now()};
                input.preamble = &tenant.fixed_text("prompt|" + t.language,
                                                    [&] { return prompt_preamble(profile, t.language); });
                prompt = build_prompt(input);
            }
            request.system_prompt = prompt->system;
            request.messages = prompt->messages;
        } else {
            if (local_messages.empty()) {
                local_messages.reserve(t.history.size() + 1);
                for (const auto& h : t.history)
                    local_messages.push_back(
                        {h.role == "assistant" ? sdk::Role::assistant : sdk::Role::user, h.text, {}, {}});
                local_messages.push_back({sdk::Role::user, t.message.text, {}, {}});
            }
            request.system_prompt = tenant.fixed_text(
                "local|" + t.language, [&] { return local_system_prompt(profile, t.language); });
            request.messages = local_messages;
        }

        bool failed = false;
        int invalid_calls = 0;
        for (int step = 0; step < options_.max_tool_steps && !failed; ++step) {
            request.step = step;
            request.session = t.state;
            if (step == options_.max_tool_steps - 1) request.tools.clear();  // last call: answer in text
            const auto call_started = Clock::now();
            sdk::Result<sdk::ProviderResponse> response = sdk::Error{"internal", "not called"};
            {
                ScopedCallLimits limits({deadline, t.cancelled});
                const auto sent_before = requests_sent_on_this_thread();
                response = guarded("provider " + provider.name,
                                   [&] { return provider.plugin->complete(request, t.direct); });
                // A provider call is one request; more were its retries.
                for (auto n = requests_sent_on_this_thread() - sent_before; n > 1; --n)
                    metrics.provider_retry(provider.name);
            }
            if (!response) {
                log_event(spdlog::level::err, "assistant", "provider failed",
                          {{"tenant", tenant.id()},
                           {"provider", provider.name},
                           {"step", std::to_string(step)},
                           {"code", response.error().code},
                           {"error", response.error().message},
                           {"ms", std::to_string(static_cast<long>(ms_since(call_started)))}});
                if (response.error().code == "plugin_failed") *provider.disabled = true;
                if (remote) metrics.llm_call(tenant.id(), provider.name, provider.model, false);
                failed = true;
                break;
            }
            // Usage of this call: reported, or estimated from the text when the provider did not say.
            auto used = response->usage;
            if (remote && used.input_tokens == 0 && used.output_tokens == 0) {
                used.input_tokens = sdk::llm::estimate_tokens(request);
                used.output_tokens = sdk::llm::estimate_tokens(response->text);
                used.estimated = true;
            }
            if (used.input_tokens || used.output_tokens) {
                auto cost = prices().cost(provider.model, used.input_tokens, used.output_tokens);
                UsageRecord record{tenant.id(),       t.turn.conversation_id, provider.name, provider.model,
                                   used.input_tokens, used.output_tokens,     cost.usd};
                record.step = step;
                record.estimated = used.estimated;
                t.usage.push_back(std::move(record));
                out.usage.input_tokens += used.input_tokens;
                out.usage.output_tokens += used.output_tokens;
                out.usage.estimated = out.usage.estimated || used.estimated;
                out.cost_usd += cost.usd;
                if (cost.usd > 0) metrics.llm_cost(tenant.id(), provider.model, cost.usd);
            }
            if (remote) metrics.llm_call(tenant.id(), provider.name, provider.model, true);

            for (const auto& [key, value] : response->session_updates) {
                if (value.is_null())
                    t.state.erase(key);
                else
                    t.state[key] = value;
            }
            if (response->tool_calls.empty() || request.tools.empty()) {
                if (sdk::text::trim(response->text).empty() && remote) {
                    log_event(spdlog::level::warn, "assistant", "provider answered with no text",
                              {{"tenant", tenant.id()}, {"provider", provider.name}});
                    failed = true;
                    break;
                }
                out.reply = response->text;
                out.method = p == 0 ? response->method : "fallback";
                out.confidence = response->confidence;
                if (!response->language.empty()) out.language = response->language;
                if (response->handoff) {
                    out.handoff = true;
                    if (t.handoff_reason.empty()) t.handoff_reason = response->handoff_reason;
                }
                break;
            }

            request.messages.push_back({sdk::Role::assistant, response->text, response->tool_calls, {}});
            for (const auto& call : response->tool_calls) {
                const auto tool_started = Clock::now();
                sdk::ToolResult result{call.id, call.name, false, nullptr, {}, 0};
                auto it = tenant.tools().find(call.name);
                bool invalid = false;
                if (const auto* raw = call.arguments.if_contains(sdk::llm::kInvalidArguments)) {
                    invalid = true;
                    result.error = "invalid arguments: not a JSON object: " +
                                   (raw->is_string() ? std::string(raw->get_string()) : sdk::json_text(*raw));
                } else if (it == tenant.tools().end()) {
                    invalid = true;
                    result.error = "unknown tool \"" + call.name + "\"";
                } else if (*it->second.owner.disabled) {
                    result.error = "tool \"" + call.name + "\" is disabled after an earlier failure";
                } else if (auto valid = sdk::validate_json(call.arguments, it->second.spec.parameters);
                           !valid) {
                    invalid = true;
                    result.error = "invalid arguments: " + valid.error().message;
                } else {
                    auto answer = guarded("tool " + call.name,
                                          [&] { return it->second.owner.plugin->invoke(call, t.turn); });
                    if (answer) {
                        result.ok = true;
                        result.content = std::move(answer).value();
                    } else {
                        result.error = answer.error().message;
                        if (answer.error().code == "plugin_failed") {
                            *it->second.owner.disabled = true;
                            log_event(
                                spdlog::level::err, "tools", "tool disabled for this tenant",
                                {{"tenant", tenant.id()}, {"tool", call.name}, {"error", result.error}});
                        }
                    }
                }
                if (invalid) ++invalid_calls;
                result.duration_ms = ms_since(tool_started);
                json::object arguments = call.arguments;
                arguments.erase(sdk::llm::kInvalidArguments);
                out.tool_calls.push_back({call.name, arguments, result.ok});
                t.calls.push_back({tenant.id(),
                                   t.turn.conversation_id,
                                   {},
                                   call.name,
                                   std::move(arguments),
                                   result.ok ? result.content : json::value(nullptr),
                                   result.ok,
                                   result.duration_ms,
                                   result.error});
                request.messages.push_back({sdk::Role::tool, {}, {}, result});
            }
            // An invalid call goes back to the model once, with the error; a second one ends
            // this provider's part of the turn.
            if (invalid_calls > 1) {
                log_event(spdlog::level::warn, "assistant",
                          "invalid tool calls again; the next provider answers",
                          {{"tenant", tenant.id()}, {"provider", provider.name}});
                failed = true;
            }
            if (remote && Clock::now() >= deadline) {
                log_event(spdlog::level::warn, "assistant",
                          "provider's share of the turn deadline is used up",
                          {{"tenant", tenant.id()}, {"provider", provider.name}});
                failed = true;
            }
        }
        if (out.method.empty()) {
            // This provider did not answer: the next one does. Text it already streamed is withdrawn.
            if (remote) remote_failed = true;
            if (t.direct && !t.direct->streamed().empty()) {
                if (t.events) t.events->on_reset();
                t.direct->clear();
            }
        }
    }
    if (out.method.empty()) {
        out.reply = unavailable_text(profile, t.language);
        out.method = "fallback";
        out.confidence = 0;
    }

    // Remember the answer: a remote model's answer built on the tenant's data only, for the TTL; a
    // fallback's answer after the remote model failed, briefly.
    if (cacheable && !out.handoff) {
        const bool data_only = std::all_of(out.tool_calls.begin(), out.tool_calls.end(),
                                           [](const auto& c) { return c.ok && read_only_tool(c.name); });
        if (out.method == "llm" && data_only) {
            tenant.response_cache().put(cache_key, {out.reply, out.confidence, out.language, false},
                                        std::chrono::seconds(policy.cache_ttl_s));
        } else if (out.method == "fallback" && remote_failed && remote_allowed && data_only &&
                   policy.cache_negative_ttl_s > 0) {
            tenant.response_cache().put(cache_key, {out.reply, out.confidence, out.language, true},
                                        std::chrono::seconds(policy.cache_negative_ttl_s));
        }
    }
}

}  // namespace tezgah::engine
