// The assistant part of a turn: the response cache, the tenant's budget, then the provider chain
// (the manifest's `llm`, its `fallback`s, and an offline provider last) under one deadline for the
// whole turn.
#include "pipeline/assistant.hpp"

#include "ops/costs.hpp"
#include "ops/metrics.hpp"
#include "pipeline/choices.hpp"
#include "pipeline/engine.hpp"
#include "pipeline/prompt.hpp"
#include "plugins/guarded.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
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

/// The tools offered to the model that a reply may rest on and still be cached.
bool cacheable_calls(const Tenant& tenant, const std::vector<sdk::ToolCallSummary>& calls) {
    return std::all_of(calls.begin(), calls.end(), [&](const sdk::ToolCallSummary& c) {
        const auto* spec = tenant.tool_spec(c.name);
        return c.ok && spec && spec->cacheable;
    });
}

/// Runs one tool call the model asked for: its arguments checked against the tool's schema, the
/// tool guarded. `invalid` is set when the model's call was malformed (it goes back to the model).
sdk::ToolResult run_tool(const Tenant& tenant, const sdk::ToolCall& call, sdk::TurnContext& turn,
                         bool& invalid) {
    const auto started = Clock::now();
    sdk::ToolResult result{call.id, call.name, false, nullptr, {}, 0};
    auto it = tenant.tools().find(call.name);
    if (const auto* raw = call.arguments.if_contains(sdk::llm::kInvalidArguments)) {
        invalid = true;
        result.error = "invalid arguments: not a JSON object: " +
                       (raw->is_string() ? std::string(raw->get_string()) : sdk::json_text(*raw));
    } else if (it == tenant.tools().end()) {
        invalid = true;
        result.error = "unknown tool \"" + call.name + "\"";
    } else if (*it->second.owner.disabled) {
        result.error = "tool \"" + call.name + "\" is disabled after an earlier failure";
    } else if (auto valid = sdk::validate_json(call.arguments, it->second.spec.parameters); !valid) {
        invalid = true;
        result.error = "invalid arguments: " + valid.error().message;
    } else {
        auto answer =
            guarded("tool " + call.name, [&] { return it->second.owner.plugin->invoke(call, turn); });
        if (answer) {
            result.ok = true;
            result.content = std::move(answer).value();
        } else {
            // The model and the stored call see it: a value from the environment is named instead.
            result.error = tenant.redact(answer.error().message);
            if (answer.error().code == sdk::errc::plugin_failed) {
                *it->second.owner.disabled = true;
                log_event(spdlog::level::err, "tools", "tool disabled for this tenant",
                          {{"tenant", tenant.id()}, {"tool", call.name}, {"error", result.error}});
            }
        }
    }
    result.duration_ms = ms_since(started);
    return result;
}

/// Each remote provider gets an equal share of what is left of the turn's deadline, so a stalled
/// one leaves time for the next; an offline provider needs none. None: no time is left, or the
/// customer has gone.
std::optional<Clock::time_point> provider_deadline(const std::vector<ProviderEntry>& providers, std::size_t p,
                                                   Clock::time_point turn_deadline,
                                                   const std::atomic<bool>* cancelled) {
    std::size_t remotes_left = 0;
    for (std::size_t q = p; q < providers.size(); ++q)
        if (!providers[q].offline && !*providers[q].disabled) ++remotes_left;
    const auto left = std::chrono::duration_cast<milliseconds>(turn_deadline - kReserve - Clock::now());
    if (left.count() <= 0 || (cancelled && cancelled->load())) return std::nullopt;
    return Clock::now() + left / static_cast<long>(std::max<std::size_t>(remotes_left, 1));
}

/// What one provider's part of the turn came to.
enum class ProviderVerdict { answered, failed };

/// What the channel says of the customer, handed to the provider beside the session state (never
/// stored): the channel, and where the user id is a phone number (WhatsApp Cloud, Twilio) that
/// number, and the name the customer's profile shows. The offline assistant books with them
/// instead of asking again.
json::object customer_facts(const sdk::TurnContext& turn, const sdk::InboundMessage& message) {
    json::object out{{"channel", turn.channel}};
    std::string phone;
    if (turn.channel == "whatsapp-cloud") phone = "+" + turn.user_id;
    if (turn.channel == "twilio") {
        phone = turn.user_id;
        if (phone.starts_with("whatsapp:")) phone.erase(0, 9);
    }
    if (phone.size() > 6) out["phone"] = phone;
    if (const auto* name = message.metadata.if_contains("profile_name"); name && name->is_string())
        out["name"] = name->get_string();
    return out;
}

}  // namespace

AssistantOutcome Engine::run_assistant(const AssistantInput& in) {
    Tenant& tenant = in.tenant;
    const auto& profile = tenant.profile();
    const auto& policy = tenant.manifest().llm_policy;
    auto& state = *in.turn.session;
    auto& metrics = Metrics::global();
    const auto& providers = tenant.providers();
    const auto turn_deadline = in.started + milliseconds(policy.deadline_ms);
    const bool has_remote = std::any_of(providers.begin(), providers.end(),
                                        [](const ProviderEntry& p) { return !p.offline && !*p.disabled; });
    AssistantOutcome out;

    // The response cache: the first question of a conversation (a follow-up depends on what came
    // before), for tenants that pay for a remote model.
    // With Redis, the cache is every instance's (`cache:<tenant>:<version>:<question>`); the
    // version is a digest of the tenant's files, so an edit anywhere starts it empty everywhere.
    const bool cacheable = has_remote && policy.cache_ttl_s > 0 && in.history.empty();
    const bool shared_cache = cacheable && shared_->health() != SharedHealth::local;
    std::string cache_key = cacheable ? ResponseCache::key(in.language, in.message.text) : std::string();
    if (shared_cache) {
        const auto& version = tenant.fixed_text(
            "response-cache-version", [&] { return tenant_version_hash(tenant.manifest().folder); });
        cache_key = "cache:" + tenant.id() + ":" + version + ":" + cache_key;
    }
    auto cached = [&]() -> std::optional<CachedAnswer> {
        if (!shared_cache) return tenant.response_cache().get(cache_key);
        auto text = shared_->get(cache_key);
        return text ? cached_answer_from(*text) : std::nullopt;
    };
    auto remember = [&](const CachedAnswer& answer, int ttl_s) {
        if (!shared_cache) return tenant.response_cache().put(cache_key, answer, std::chrono::seconds(ttl_s));
        shared_->put(cache_key, cached_answer_text(answer), std::chrono::seconds(ttl_s));
    };
    if (cacheable) {
        if (auto hit = cached()) {
            metrics.response_cache(tenant.id(), hit->negative ? "negative_hit" : "hit");
            out.reply = hit->reply;
            out.method = "cache";
            out.confidence = hit->confidence;
            out.language = hit->language;
            out.options = hit->options;
            out.cards = hit->cards;
            return out;
        }
        metrics.response_cache(tenant.id(), "miss");
    }

    // The budget: spending stops at the limit.
    // A tenant without `llm.budget` gets the operator's default daily one (--default-daily-usd).
    bool remote_allowed = true;
    if (has_remote && spend_) {
        const bool own = policy.daily_usd || policy.monthly_usd;
        Budget budget{own ? policy.daily_usd : std::optional<double>(options_.default_daily_usd),
                      policy.monthly_usd,
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
                out.reply = budget_refusal(profile, in.language, policy.refuse_message);
                out.method = "fallback";
                return out;
            }
            remote_allowed = false;
        }
    }

    // The conversation as each kind of provider gets it: an offline provider reads the plain
    // history; a remote model gets the built prompt (made once, on first use).
    std::vector<sdk::Message> plain_messages;
    std::optional<Prompt> prompt;
    auto messages_for = [&](const ProviderEntry& provider) -> const std::vector<sdk::Message>& {
        if (!provider.offline) {
            if (!prompt) {
                std::string summary;
                if (const auto* v = state.if_contains("summary"); v && v->is_string())
                    summary = v->get_string();
                PromptInput input{&profile,    &tenant.catalog(), &tenant.knowledge(), in.language,
                                  &in.history, in.message.text,   std::move(summary),  clock_->now()};
                input.tools = &tenant.tool_specs();
                const auto customer = customer_facts(in.turn, in.message);
                if (const auto* phone = customer.if_contains("phone"))
                    input.customer_phone = phone->get_string();
                if (const auto* name = customer.if_contains("name")) input.customer_name = name->get_string();
                input.preamble = &tenant.fixed_text("prompt|" + in.language, [&] {
                    return prompt_preamble(profile, in.language, tenant.tool_specs());
                });
                prompt = build_prompt(input);
            }
            return prompt->messages;
        }
        if (plain_messages.empty()) {
            plain_messages.reserve(in.history.size() + 1);
            for (const auto& h : in.history)
                plain_messages.push_back(
                    {h.role == "user" ? sdk::Role::user : sdk::Role::assistant, h.text, {}, {}});
            plain_messages.push_back({sdk::Role::user, in.message.text, {}, {}});
        }
        return plain_messages;
    };

    // One provider's part of the turn: model calls and tool rounds until it answers in text, fails,
    // or runs out of steps or time.
    auto ask = [&](const ProviderEntry& provider, bool first, Clock::time_point deadline) -> ProviderVerdict {
        const bool remote = !provider.offline;
        sdk::ProviderRequest request;
        request.tenant_id = tenant.id();
        request.language = in.language;
        request.tools = tenant.tool_specs();
        request.tool_examples = tenant.tool_examples();
        request.deadline = remote ? deadline : Clock::time_point{};
        request.messages = messages_for(provider);
        request.system_prompt = remote ? prompt->system : tenant.fixed_text("local|" + in.language, [&] {
            return local_system_prompt(profile, in.language);
        });
        int invalid_calls = 0;
        for (int step = 0; step < options_.max_tool_steps; ++step) {
            request.step = step;
            request.session = state;
            request.session["customer"] = customer_facts(in.turn, in.message);
            if (step == options_.max_tool_steps - 1) request.tools.clear();  // last call: answer in text
            const auto call_started = Clock::now();
            sdk::Result<sdk::ProviderResponse> response = sdk::Error{sdk::errc::internal, "not called"};
            {
                ScopedCallLimits limits({request.deadline, in.cancelled});
                const auto sent_before = requests_sent_on_this_thread();
                response = guarded("provider " + provider.name, [&] {
                    return provider.plugin->complete(request, in.stream.for_provider(provider.streams));
                });
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
                           {"error", tenant.redact(response.error().message)},
                           {"ms", std::to_string(static_cast<long>(ms_since(call_started)))}});
                if (response.error().code == sdk::errc::plugin_failed) *provider.disabled = true;
                if (remote) metrics.llm_call(tenant.id(), provider.name, provider.model, false);
                return ProviderVerdict::failed;
            }
            // Usage of this call: reported, or estimated from the text when the provider did not say.
            auto used = response->usage;
            if (remote && used.input_tokens == 0 && used.output_tokens == 0) {
                used.input_tokens = sdk::llm::estimate_tokens(request);
                used.output_tokens = sdk::llm::estimate_tokens(response->text);
                used.estimated = true;
            }
            if (used.input_tokens || used.output_tokens) {
                const double usd =
                    remote ? prices().cost(provider.model, used.input_tokens, used.output_tokens).usd : 0.0;
                UsageRecord record{tenant.id(),
                                   in.turn.conversation_id,
                                   provider.name,
                                   provider.model,
                                   used.input_tokens,
                                   used.output_tokens,
                                   usd};
                record.step = step;
                record.estimated = used.estimated;
                out.usage.push_back(std::move(record));
                out.tokens.input_tokens += used.input_tokens;
                out.tokens.output_tokens += used.output_tokens;
                out.tokens.estimated = out.tokens.estimated || used.estimated;
                out.cost_usd += usd;
                if (usd > 0) metrics.llm_cost(tenant.id(), provider.model, usd);
            }
            if (remote) metrics.llm_call(tenant.id(), provider.name, provider.model, true);

            for (const auto& [key, value] : response->session_updates) {
                if (value.is_null())
                    state.erase(key);
                else
                    state[key] = value;
            }
            if (response->tool_calls.empty() || request.tools.empty()) {
                if (remote && sdk::text::trim(response->text).empty()) {
                    log_event(spdlog::level::warn, "assistant", "provider answered with no text",
                              {{"tenant", tenant.id()}, {"provider", provider.name}});
                    return ProviderVerdict::failed;
                }
                out.reply = response->text;
                out.method = first ? response->method : "fallback";
                out.confidence = response->confidence;
                out.language = response->language;
                out.handoff = response->handoff;
                out.handoff_reason = response->handoff_reason;
                out.options = std::move(response->options);
                out.cards = std::move(response->cards);
                // A remote model writes text only: what it may offer comes from the tools it used.
                if (remote && out.options.empty() && out.cards.empty()) {
                    auto parts = rich_from_tool_results(out.calls);
                    out.options = std::move(parts.options);
                    out.cards = std::move(parts.cards);
                }
                return ProviderVerdict::answered;
            }

            request.messages.push_back({sdk::Role::assistant, response->text, response->tool_calls, {}});
            for (const auto& call : response->tool_calls) {
                bool invalid = false;
                auto result = run_tool(tenant, call, in.turn, invalid);
                if (invalid) ++invalid_calls;
                json::object arguments = call.arguments;
                arguments.erase(sdk::llm::kInvalidArguments);
                out.tool_calls.push_back({call.name, arguments, result.ok});
                out.calls.push_back({tenant.id(),
                                     in.turn.conversation_id,
                                     {},
                                     call.name,
                                     std::move(arguments),
                                     result.ok ? result.content : json::value(nullptr),
                                     result.ok,
                                     result.duration_ms,
                                     result.error});
                request.messages.push_back({sdk::Role::tool, {}, {}, std::move(result)});
            }
            // An invalid call goes back to the model once, with the error; a second one ends
            // this provider's part of the turn.
            if (invalid_calls > 1) {
                log_event(spdlog::level::warn, "assistant",
                          "invalid tool calls again; the next provider answers",
                          {{"tenant", tenant.id()}, {"provider", provider.name}});
                return ProviderVerdict::failed;
            }
            if (remote && Clock::now() >= deadline) {
                log_event(spdlog::level::warn, "assistant",
                          "provider's share of the turn deadline is used up",
                          {{"tenant", tenant.id()}, {"provider", provider.name}});
                return ProviderVerdict::failed;
            }
        }
        return ProviderVerdict::failed;
    };

    // The chain: the first provider that answers gives the reply.
    bool remote_failed = false;
    bool answered = false;
    for (std::size_t p = 0; p < providers.size() && !answered; ++p) {
        const auto& provider = providers[p];
        if (*provider.disabled || (!provider.offline && !remote_allowed)) continue;
        Clock::time_point deadline{};
        if (!provider.offline) {
            auto share = provider_deadline(providers, p, turn_deadline, in.cancelled);
            if (!share) {
                remote_failed = true;
                continue;
            }
            deadline = *share;
        }
        answered = ask(provider, p == 0, deadline) == ProviderVerdict::answered;
        if (!answered) {
            // This provider did not answer: the next one does. Text it already streamed is withdrawn.
            if (!provider.offline) remote_failed = true;
            in.stream.withdraw();
        }
    }
    if (!answered) {
        out.reply = unavailable_text(profile, in.language);
        out.method = "fallback";
        out.confidence = 0;
    }

    // Remember the answer: a remote model's answer built on the tenant's data only, for the TTL; a
    // fallback's answer after the remote model failed, briefly.
    if (cacheable && !out.handoff && !in.handoff_requested && cacheable_calls(tenant, out.tool_calls)) {
        if (out.method == "llm") {
            remember({out.reply, out.confidence, out.language, false, out.options, out.cards},
                     policy.cache_ttl_s);
        } else if (out.method == "fallback" && remote_failed && remote_allowed &&
                   policy.cache_negative_ttl_s > 0) {
            remember({out.reply, out.confidence, out.language, true, {}, {}}, policy.cache_negative_ttl_s);
        }
    }
    return out;
}

ReplyStream::ReplyStream(sdk::StreamSink* client, bool live)
    : client_(client), events_(dynamic_cast<TurnStream*>(client)), live_(client != nullptr && live) {}

void ReplyStream::on_text(std::string_view delta) {
    streamed_ += delta;
    if (client_) client_->on_text(delta);
}

void ReplyStream::withdraw() {
    if (streamed_.empty()) return;
    if (events_) events_->on_reset();
    streamed_.clear();
}

void ReplyStream::finish(const std::string& reply) {
    // Not streamed by the provider (a rule answered, rules rewrote it, the cache, or a fallback
    // text): the client gets it whole.
    if (client_ && streamed_.empty()) client_->on_text(reply);
}

}  // namespace tezgah::engine
