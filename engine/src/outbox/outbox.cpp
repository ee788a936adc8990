#include "outbox/outbox.hpp"

#include "ops/metrics.hpp"
#include "plugins/guarded.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/random.hpp>

#include <soci/soci.h>

#include <algorithm>
#include <cmath>

namespace tezgah::engine {
namespace {

using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;

constexpr std::size_t kStuckShown = 20;

json::object option_json(const sdk::ReplyOption& o) {
    json::object out{{"id", o.id}, {"title", o.title}};
    if (!o.description.empty()) out["description"] = o.description;
    return out;
}

json::object card_json(const sdk::ReplyCard& c) {
    json::object out{{"id", c.id}, {"title", c.title}};
    if (!c.subtitle.empty()) out["subtitle"] = c.subtitle;
    if (c.price) out["price"] = *c.price;
    if (!c.currency.empty()) out["currency"] = c.currency;
    if (!c.image_url.empty()) out["image_url"] = c.image_url;
    return out;
}

std::string text_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::array* array_at(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_array() ? &v->get_array() : nullptr;
}

double seconds_since(Clock::time_point then) {
    return std::max(0.0, std::chrono::duration<double>(Clock::now() - then).count());
}

}  // namespace

std::string outbox_payload(const sdk::OutboundMessage& m) {
    json::object out{{"text", m.text}};
    if (!m.options.empty()) {
        json::array options;
        for (const auto& o : m.options) options.push_back(option_json(o));
        out["options"] = std::move(options);
    }
    if (!m.cards.empty()) {
        json::array cards;
        for (const auto& c : m.cards) cards.push_back(card_json(c));
        out["cards"] = std::move(cards);
    }
    if (m.template_message)
        out["template"] =
            json::object{{"name", m.template_message->name}, {"variables", m.template_message->variables}};
    if (!m.metadata.empty()) out["metadata"] = m.metadata;
    return json::serialize(out);
}

sdk::OutboundMessage outbound_message(const OutboxRecord& record) {
    sdk::OutboundMessage m;
    m.id = record.id;
    m.tenant_id = record.tenant_id;
    m.channel = record.channel;
    m.recipient = record.recipient;
    m.idempotency_key = record.idempotency_key;
    m.attempt = std::max(1, record.attempts);
    boost::system::error_code ec;
    auto parsed = json::parse(record.payload, ec);
    if (ec || !parsed.is_object()) return m;
    const auto& p = parsed.get_object();
    m.text = text_at(p, "text");
    if (const auto* options = array_at(p, "options")) {
        for (const auto& v : *options) {
            if (!v.is_object()) continue;
            const auto& o = v.get_object();
            m.options.push_back({text_at(o, "id"), text_at(o, "title"), text_at(o, "description")});
        }
    }
    if (const auto* cards = array_at(p, "cards")) {
        for (const auto& v : *cards) {
            if (!v.is_object()) continue;
            const auto& c = v.get_object();
            sdk::ReplyCard card{text_at(c, "id"), text_at(c, "title"),    text_at(c, "subtitle"),
                                std::nullopt,     text_at(c, "currency"), text_at(c, "image_url")};
            if (const auto* price = c.if_contains("price"); price && price->is_number())
                card.price = price->to_number<double>();
            m.cards.push_back(std::move(card));
        }
    }
    if (const auto* t = p.if_contains("template"); t && t->is_object()) {
        sdk::MessageTemplate tmpl{text_at(t->get_object(), "name"), {}};
        if (const auto* vars = t->get_object().if_contains("variables"); vars && vars->is_object())
            tmpl.variables = vars->get_object();
        m.template_message = std::move(tmpl);
    }
    if (const auto* meta = p.if_contains("metadata"); meta && meta->is_object())
        m.metadata = meta->get_object();
    return m;
}

milliseconds outbox_backoff(const OutboxOptions& options, int attempt,
                            std::optional<milliseconds> retry_after, std::mt19937_64& random) {
    const int doublings = std::clamp(attempt - 1, 0, 40);
    const double full = std::min(static_cast<double>(options.first_retry.count()) * std::pow(2.0, doublings),
                                 static_cast<double>(options.max_retry.count()));
    std::uniform_real_distribution<double> upper_half(full / 2, full);
    auto wait = milliseconds(static_cast<long long>(upper_half(random)));
    if (retry_after && *retry_after > wait)
        wait = std::min(*retry_after, milliseconds(std::chrono::hours(24)));
    return wait;
}

Outbox::Outbox(Database& db, TenantLookup tenants, OutboxOptions options)
    : db_(db), tenants_(std::move(tenants)), options_(options), random_(std::random_device{}()) {
    options_.workers = std::max(1, options_.workers);
}

Outbox::~Outbox() { stop(); }

sdk::Result<OutboxRecord> Outbox::prepare(const sdk::OutboundMessage& message) {
    for (const auto& [field, value] :
         {std::pair<const char*, const std::string*>{"tenant_id", &message.tenant_id},
          {"channel", &message.channel},
          {"recipient", &message.recipient},
          {"idempotency_key", &message.idempotency_key}}) {
        if (value->empty())
            return sdk::make_error(sdk::errc::missing_field,
                                   std::string("outbound message: ") + field + ": required");
    }
    OutboxRecord record;
    record.id = sdk::random_hex(16);
    record.tenant_id = message.tenant_id;
    record.channel = message.channel;
    record.recipient = message.recipient;
    record.idempotency_key = message.idempotency_key;
    record.payload = outbox_payload(message);
    record.created_at = Clock::now();
    return record;
}

sdk::Result<bool> Outbox::holds(const std::string& tenant_id, const std::string& idempotency_key) {
    long long stored = 0;
    auto read = db_.read("outbox_holds [" + tenant_id + "]", [&](soci::session& sql) {
        sql << "SELECT count(*) FROM outbox WHERE tenant_id = :t AND idempotency_key = :k",
            soci::into(stored), soci::use(tenant_id), soci::use(idempotency_key);
    });
    if (!read) return read.error();
    return stored > 0;
}

void Outbox::wake() {
    std::lock_guard lock(mutex_);
    woken_ = true;
    wake_dispatcher_.notify_one();
}

sdk::Result<OutboxRecord> Outbox::enqueue(const sdk::OutboundMessage& message) {
    auto record = prepare(message);
    if (!record) return record;
    auto stored = db_.outbox_enqueue(*record);
    if (!stored) return stored;
    if (stored->id == record->id) {
        log_event(spdlog::level::debug, "outbox", "message queued",
                  {{"tenant", record->tenant_id}, {"channel", record->channel}, {"id", record->id}});
        wake();
    }
    return stored;
}

sdk::Result<bool> Outbox::report(const std::string& tenant_id, const std::string& channel,
                                 const sdk::DeliveryReport& report) {
    auto moved = db_.outbox_report(tenant_id, channel, report.provider_id, sdk::to_string(report.state),
                                   report.error, Clock::now());
    if (moved && *moved) Metrics::global().outbox_report(channel, sdk::to_string(report.state));
    return moved;
}

void Outbox::start() {
    std::lock_guard lock(mutex_);
    if (!threads_.empty()) return;
    stopping_ = false;
    threads_.emplace_back([this] { dispatch_loop(); });
    for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

void Outbox::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_dispatcher_.notify_all();
    wake_workers_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
    // Claimed but not attempted: given back, so that the next start (or another instance) need
    // not wait for their lease to end.
    for (const auto& record : claimed_) {
        if (auto released = db_.outbox_release(record.id, record.claimed_until); !released)
            log_event(spdlog::level::warn, "outbox", "claim not given back; it ends with its lease",
                      {{"id", record.id}, {"error", released.error().message}});
    }
    claimed_.clear();
    idle_workers_ = 0;
}

void Outbox::dispatch_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const std::size_t free = idle_workers_ > static_cast<int>(claimed_.size())
                                     ? static_cast<std::size_t>(idle_workers_) - claimed_.size()
                                     : 0;
        auto wait_until = std::chrono::steady_clock::now() + options_.poll;
        if (free > 0) {
            woken_ = false;
            lock.unlock();
            const auto now = Clock::now();
            // A read first: an idle outbox costs one SELECT per poll, no write transaction.
            auto due = db_.outbox_next_due();
            std::vector<OutboxRecord> got;
            if (due && *due && **due <= now) {
                auto claimed = db_.outbox_claim(now, now + options_.lease, free);
                if (claimed) got = std::move(claimed).value();
            } else if (due && *due) {
                wait_until = std::min(wait_until, std::chrono::steady_clock::now() +
                                                      std::chrono::duration_cast<milliseconds>(**due - now) +
                                                      milliseconds(1));
            }
            lock.lock();
            if (!got.empty()) {
                for (auto& r : got) claimed_.push_back(std::move(r));
                wake_workers_.notify_all();
                continue;  // perhaps more is due
            }
        }
        wake_dispatcher_.wait_until(lock, wait_until, [&] {
            const bool has_free = idle_workers_ > static_cast<int>(claimed_.size());
            return stopping_ || (woken_ && has_free);
        });
    }
}

void Outbox::worker_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
        ++idle_workers_;
        wake_dispatcher_.notify_one();
        wake_workers_.wait(lock, [&] { return stopping_ || !claimed_.empty(); });
        --idle_workers_;
        if (stopping_) return;
        OutboxRecord record = std::move(claimed_.front());
        claimed_.pop_front();
        lock.unlock();
        attempt(record);
        lock.lock();
        woken_ = true;  // a worker is free again: look for more at once
    }
}

std::size_t Outbox::run_due() {
    constexpr std::size_t kBatch = 64;
    const auto now = Clock::now();
    auto claimed = db_.outbox_claim(now, now + options_.lease, kBatch);
    if (!claimed) return 0;
    for (const auto& record : *claimed) attempt(record);
    return claimed->size();
}

sdk::SendResult Outbox::send(const OutboxRecord& record) {
    sdk::SendResult out;
    out.outcome = sdk::SendResult::Outcome::retry_later;
    auto tenant = tenants_(record.tenant_id);
    if (!tenant) {
        out.error = "tenant not available: " + tenant.error().message;
        return out;
    }
    sdk::ChannelSender* sender = (*tenant)->sender(record.channel);
    if (sender == nullptr) {
        // The manifest may enable it again (an unset secret, an edit): kept, and retried.
        out.error =
            "tenant \"" + record.tenant_id + "\" has no channel \"" + record.channel + "\" that sends";
        return out;
    }
    auto message = outbound_message(record);
    // Outside the customer's 24-hour window only a template goes out: the message's own, else
    // the channel's reopen_template (with the message's text as its "text" variable); without
    // one the message is kept as window_closed. The same when the provider says the window closed.
    const bool windowed = (*tenant)->has_customer_window(record.channel);
    auto reopen = [&](const std::string& why) -> std::optional<sdk::SendResult> {
        const std::string name = (*tenant)->reopen_template(record.channel);
        if (name.empty()) {
            sdk::SendResult kept;
            kept.outcome = sdk::SendResult::Outcome::window_closed;
            kept.error = why + "; no reopen_template in the " + record.channel + " channel's config";
            return kept;
        }
        message.template_message = sdk::MessageTemplate{name, json::object{{"text", message.text}}};
        log_event(spdlog::level::info, "outbox", "outside the customer's window: sent as a template",
                  {{"tenant", record.tenant_id},
                   {"channel", record.channel},
                   {"id", record.id},
                   {"template", name}});
        return std::nullopt;
    };
    if (windowed && !message.template_message) {
        auto open = window_open(record);
        if (!open) {
            out.error = open.error().message;
            return out;
        }
        if (!*open) {
            if (auto kept = reopen("outside the customer's 24-hour window")) return *kept;
        }
    }
    auto send_once = [&]() -> sdk::SendResult {
        auto sent = guarded("channel " + record.channel + " send", [&] { return sender->send(message); });
        if (!sent) {
            sdk::SendResult failed;
            failed.outcome = sdk::SendResult::Outcome::retry_later;
            failed.error = (*tenant)->redact(sent.error().message);
            return failed;
        }
        sent->error = (*tenant)->redact(sent->error);
        return std::move(sent).value();
    };
    auto result = send_once();
    if (windowed && result.outcome == sdk::SendResult::Outcome::window_closed && !message.template_message) {
        if (auto kept = reopen("the provider said the customer's window is closed (" + result.error + ")"))
            return *kept;
        result = send_once();
    }
    return result;
}

sdk::Result<bool> Outbox::window_open(const OutboxRecord& record) {
    auto last = db_.last_inbound_at(record.tenant_id, record.recipient, record.channel);
    if (!last) return last.error();
    const auto now = options_.clock != nullptr ? options_.clock->now() : Clock::now();
    return *last && **last > now - options_.customer_window;
}

void Outbox::attempt(const OutboxRecord& record) {
    const auto began = std::chrono::steady_clock::now();
    auto result = send(record);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();

    OutboxAttempt done;
    done.id = record.id;
    done.claimed_until = record.claimed_until;
    done.now = Clock::now();
    done.error = result.error;
    const char* outcome = "retry_later";
    switch (result.outcome) {
        case sdk::SendResult::Outcome::accepted:
            done.state = "sent";
            done.provider_id = result.provider_id;
            done.error.clear();
            outcome = "accepted";
            break;
        case sdk::SendResult::Outcome::failed:
            done.state = "failed";
            outcome = "failed";
            break;
        case sdk::SendResult::Outcome::window_closed:
            done.state = "window_closed";
            outcome = "window_closed";
            break;
        case sdk::SendResult::Outcome::retry_later:
        default:
            if (record.attempts >= options_.max_attempts) {
                done.state = "failed";
                done.error =
                    "gave up after " + std::to_string(record.attempts) + " attempts: " + result.error;
                outcome = "failed";
            } else {
                std::lock_guard lock(mutex_);
                done.state = "queued";
                done.next_attempt_at =
                    done.now + outbox_backoff(options_, record.attempts, result.retry_after, random_);
            }
            break;
    }
    Metrics::global().outbox_send(record.tenant_id, record.channel, outcome, seconds);
    if (done.state == "sent")
        Metrics::global().outbox_queue_wait(record.channel, seconds_since(record.created_at));

    auto recorded = db_.outbox_finish_attempt(done);
    auto log = [&](spdlog::level::level_enum level, std::string_view message) {
        log_event(level, "outbox", message,
                  {{"tenant", record.tenant_id},
                   {"channel", record.channel},
                   {"id", record.id},
                   {"attempt", std::to_string(record.attempts)},
                   {"outcome", outcome},
                   {"error", done.error}});
    };
    if (!recorded) {
        // Kept queued with its claim: retried when the lease ends (the provider may dedupe an
        // accepted one by its idempotency key).
        log(spdlog::level::err, "could not record an attempt: " + recorded.error().message);
    } else if (!*recorded) {
        log(spdlog::level::warn, "attempt outlived its claim; another one decides");
    } else if (done.state == "failed" || done.state == "window_closed") {
        log(spdlog::level::warn, "message not sent");
    } else if (done.state == "queued") {
        log(spdlog::level::info, "send to be retried");
    } else {
        log(spdlog::level::debug, "message sent");
    }
}

sdk::Result<Outbox::Health> Outbox::health() {
    Health out;
    auto counts = db_.outbox_counts();
    if (!counts) return counts.error();
    for (const auto& [state, count] : *counts)
        if (state == "queued") out.queued = count;
    auto stuck = db_.outbox_stuck(Clock::now() - options_.stuck_after, kStuckShown);
    if (!stuck) return stuck.error();
    out.stuck = std::move(stuck).value();
    return out;
}

void Outbox::update_metrics() {
    auto counts = db_.outbox_counts();
    if (!counts) return;
    Metrics::global().outbox_states(*counts);
}

}  // namespace tezgah::engine
