// SharedState over Redis (shared/redis_state.hpp). Each operation is one round trip: counters,
// compare-and-delete and list reads that need several commands run as one Lua script (EVAL), so
// no other instance sees them half done. Publish/subscribe has a connection and a thread of its
// own, spoken to in RESP directly: Poco's client cannot write a SUBSCRIBE while another thread
// waits for messages, nor wait with a timeout without breaking its stream.

#include "shared/redis_state.hpp"

#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Client.h>
#include <Poco/Redis/Type.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tezgah::engine {

namespace redis = Poco::Redis;

sdk::Result<RedisAddress> parse_redis_url(std::string_view url, std::string_view option) {
    auto bad = [&](const std::string& why) {
        return sdk::Error{sdk::errc::invalid_value,
                          std::string(option) + ": \"" + std::string(url) + "\": " + why};
    };
    constexpr std::string_view kScheme = "redis://";
    if (!url.starts_with(kScheme)) return bad("expected redis://HOST:PORT[/DB]");
    std::string_view rest = url.substr(kScheme.size());
    RedisAddress out;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        const auto db = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (!db.empty()) {
            auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), out.database);
            if (ec != std::errc() || end != db.data() + db.size() || out.database < 0)
                return bad("the database after '/' must be a number 0 or more");
        }
    }
    if (rest.find('@') != std::string_view::npos) return bad("a user or password is not supported");
    if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        const auto port = rest.substr(colon + 1);
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
        if (ec != std::errc() || end != port.data() + port.size() || out.port < 1 || out.port > 65535)
            return bad("the port must be a number from 1 to 65535");
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) return bad("a host is required");
    out.host = std::string(rest);
    return out;
}

namespace {

using std::chrono::milliseconds;
constexpr std::string_view kPrefix = "tezgah:";

// Counters get their lifetime when they are created: a key without one (PTTL < 0) was just made.
constexpr const char* kAddScript = R"(local out = {}
for i, key in ipairs(KEYS) do
  out[i] = redis.call('INCRBY', key, ARGV[2 * i - 1])
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return out)";
constexpr const char* kAddFloatScript = R"(local v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v)";
constexpr const char* kEraseIfEqualScript = R"(if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0)";
constexpr const char* kPushScript = R"(local n = redis.call('RPUSH', KEYS[1], ARGV[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n)";
constexpr const char* kTakeAllScript = R"(local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items)";

std::string prefixed(std::string_view key) {
    std::string out(kPrefix);
    out += key;
    return out;
}

std::string ttl_text(milliseconds ttl) { return std::to_string(std::max<long long>(1, ttl.count())); }

/// The reply of one command, or an exception: an error reply is a failure like a lost connection.
redis::RedisType::Ptr send(redis::Client& client, const redis::Array& command) {
    auto reply = client.sendCommand(command);
    if (!reply) throw redis::RedisException("no reply");
    if (reply->isError()) throw redis::RedisException(reply->toString());
    return reply;
}

long long integer_of(const redis::RedisType::Ptr& reply) {
    if (!reply->isInteger()) throw redis::RedisException("expected an integer reply");
    return static_cast<const redis::Type<Poco::Int64>*>(reply.get())->value();
}

std::optional<std::string> bulk_of(const redis::RedisType::Ptr& reply) {
    if (!reply->isBulkString()) throw redis::RedisException("expected a bulk string reply");
    const auto& value = static_cast<const redis::Type<redis::BulkString>*>(reply.get())->value();
    if (value.isNull()) return std::nullopt;
    return value.value();
}

const redis::Array& array_of(const redis::RedisType::Ptr& reply) {
    if (!reply->isArray()) throw redis::RedisException("expected an array reply");
    return static_cast<const redis::Type<redis::Array>*>(reply.get())->value();
}

/// A value of the RESP protocol, as the publish/subscribe connection reads it.
struct Resp {
    char type = 0;
    std::string text;
    std::vector<Resp> items;
};

/// One complete value at `pos` of `buffer` (pos moves past it), or none when more bytes are needed.
std::optional<Resp> parse_resp(const std::string& buffer, std::size_t& pos) {
    const auto line_end = buffer.find("\r\n", pos);
    if (line_end == std::string::npos || line_end == pos) return std::nullopt;
    Resp out;
    out.type = buffer[pos];
    std::string line = buffer.substr(pos + 1, line_end - pos - 1);
    std::size_t next = line_end + 2;
    if (out.type == '$' || out.type == '*') {
        const long long count = std::stoll(line);
        if (out.type == '$') {
            if (count >= 0) {
                if (buffer.size() < next + static_cast<std::size_t>(count) + 2) return std::nullopt;
                out.text = buffer.substr(next, static_cast<std::size_t>(count));
                next += static_cast<std::size_t>(count) + 2;
            }
        } else {
            for (long long i = 0; i < count; ++i) {
                auto item = parse_resp(buffer, next);
                if (!item) return std::nullopt;
                out.items.push_back(std::move(*item));
            }
        }
    } else {
        out.text = std::move(line);
    }
    pos = next;
    return out;
}

std::string resp_command(const std::vector<std::string>& words) {
    std::string out = "*" + std::to_string(words.size()) + "\r\n";
    for (const auto& w : words) out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
    return out;
}

class RedisState final : public SharedState {
public:
    RedisState(RedisAddress address, std::string url, RedisOptions options)
        : address_(std::move(address)), url_(std::move(url)), options_(options), local_(make_local_state()) {
        if (ping()) {
            health_ = SharedHealth::ok;
            log_event(spdlog::level::info, "redis", "shared state on Redis", {{"redis", url_}});
        } else {
            health_ = SharedHealth::degraded;
            log_event(spdlog::level::err, "redis",
                      "Redis does not answer; this instance uses its own memory until it does (degraded)",
                      {{"redis", url_}, {"error", last_error()}});
        }
        probe_ = std::thread([this] { probe_loop(); });
        subscriber_ = std::thread([this] { subscriber_loop(); });
    }

    ~RedisState() override {
        {
            std::lock_guard lock(threads_mutex_);
            stopping_ = true;
        }
        threads_changed_.notify_all();
        probe_.join();
        subscriber_.join();
    }

    RedisState(const RedisState&) = delete;
    RedisState& operator=(const RedisState&) = delete;

    long long add(const std::string& key, long long delta, milliseconds ttl) override {
        return add_all({CounterAdd{key, delta, ttl}}).front();
    }

    std::vector<long long> add_all(const std::vector<CounterAdd>& adds) override {
        if (adds.empty()) return {};
        auto values = attempt("add", [&](redis::Client& client) {
            redis::Array command;
            command << "EVAL" << kAddScript << std::to_string(adds.size());
            for (const auto& one : adds) command << prefixed(one.key);
            for (const auto& one : adds) command << std::to_string(one.delta) << ttl_text(one.ttl);
            const auto reply = send(client, command);
            const auto& array = array_of(reply);
            std::vector<long long> out;
            for (std::size_t i = 0; !array.isNull() && i < array.size(); ++i)
                out.push_back(array.get<Poco::Int64>(i));
            if (out.size() != adds.size()) throw redis::RedisException("add: a value per counter expected");
            return out;
        });
        return values ? std::move(*values) : local_->add_all(adds);
    }

    double add_float(const std::string& key, double delta, milliseconds ttl) override {
        auto value = attempt("add_float", [&](redis::Client& client) {
            redis::Array command;
            command << "EVAL" << kAddFloatScript << "1" << prefixed(key) << money_text(delta)
                    << ttl_text(ttl);
            auto text = bulk_of(send(client, command));
            return text ? std::stod(*text) : 0.0;
        });
        return value ? *value : local_->add_float(key, delta, ttl);
    }

    std::optional<std::string> get(const std::string& key) override {
        auto value = attempt("get", [&](redis::Client& client) {
            redis::Array command;
            command << "GET" << prefixed(key);
            return bulk_of(send(client, command));
        });
        return value ? std::move(*value) : local_->get(key);
    }

    void put(const std::string& key, const std::string& value, milliseconds ttl) override {
        auto done = attempt("put", [&](redis::Client& client) {
            redis::Array command;
            command << "SET" << prefixed(key) << value << "PX" << ttl_text(ttl);
            send(client, command);
            return true;
        });
        if (!done) local_->put(key, value, ttl);
    }

    bool put_if_absent(const std::string& key, const std::string& value, milliseconds ttl) override {
        auto taken = attempt("put_if_absent", [&](redis::Client& client) {
            redis::Array command;
            command << "SET" << prefixed(key) << value << "NX"
                    << "PX" << ttl_text(ttl);
            const auto reply = send(client, command);
            return reply->isSimpleString();  // OK; a null bulk string when the key is set
        });
        return taken ? *taken : local_->put_if_absent(key, value, ttl);
    }

    bool erase_if_equal(const std::string& key, const std::string& value) override {
        auto erased = attempt("erase_if_equal", [&](redis::Client& client) {
            redis::Array command;
            command << "EVAL" << kEraseIfEqualScript << "1" << prefixed(key) << value;
            return integer_of(send(client, command)) > 0;
        });
        // What was taken in memory during an outage is released there too.
        const bool local = local_->erase_if_equal(key, value);
        return erased ? *erased || local : local;
    }

    void erase(const std::string& key) override {
        auto done = attempt("erase", [&](redis::Client& client) {
            redis::Array command;
            command << "DEL" << prefixed(key);
            send(client, command);
            return true;
        });
        if (!done) local_->erase(key);
    }

    std::size_t push(const std::string& key, const std::string& value, milliseconds ttl) override {
        auto length = attempt("push", [&](redis::Client& client) {
            redis::Array command;
            command << "EVAL" << kPushScript << "1" << prefixed(key) << value << ttl_text(ttl);
            return static_cast<std::size_t>(integer_of(send(client, command)));
        });
        return length ? *length : local_->push(key, value, ttl);
    }

    std::vector<std::string> take_all(const std::string& key) override {
        auto items = attempt("take_all", [&](redis::Client& client) {
            redis::Array command;
            command << "EVAL" << kTakeAllScript << "1" << prefixed(key);
            const auto reply = send(client, command);
            const auto& array = array_of(reply);
            std::vector<std::string> out;  // an empty array is a null one to Poco
            for (std::size_t i = 0; !array.isNull() && i < array.size(); ++i) {
                auto item = array.get<redis::BulkString>(i);
                if (!item.isNull()) out.push_back(item.value());
            }
            return out;
        });
        return items ? std::move(*items) : local_->take_all(key);
    }

    void publish(const std::string& channel, const std::string& payload) override {
        // Lost during an outage: the other instances cannot be reached.
        attempt("publish", [&](redis::Client& client) {
            redis::Array command;
            command << "PUBLISH" << prefixed(channel) << instance_id() + " " + payload;
            send(client, command);
            return true;
        });
    }

    std::uint64_t subscribe(const std::string& channel, Subscriber subscriber) override {
        std::uint64_t id = 0;
        {
            std::lock_guard lock(subscribers_mutex_);
            subscribers_[id = ++last_subscription_] = {channel, std::move(subscriber)};
        }
        threads_changed_.notify_all();  // the subscriber thread connects now, not at its next look
        return id;
    }

    void unsubscribe(std::uint64_t id) override {
        {
            std::lock_guard lock(subscribers_mutex_);
            subscribers_.erase(id);
        }
        // A delivery in progress may still call it: once this returns, none does (so its owner may
        // go). Not to be called from a subscriber.
        std::lock_guard delivering(delivery_mutex_);
    }

    SharedHealth health() const override { return health_.load(); }
    const std::string& instance_id() const override { return local_->instance_id(); }
    long long round_trips() const override { return round_trips_.load(); }
    long long errors() const override { return errors_.load(); }

private:
    static std::string money_text(double value) {
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
        return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
    }

    std::unique_ptr<redis::Client> connect() {
        auto client = std::make_unique<redis::Client>();
        const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(options_.timeout.count()) * 1000);
        client->connect(address_.host, address_.port, timeout);
        client->setReceiveTimeout(timeout);
        if (address_.database != 0) {
            redis::Array select;
            select << "SELECT" << std::to_string(address_.database);
            send(*client, select);
            ++round_trips_;
        }
        return client;
    }

    /// A connection of the pool (`reused`), or a new one.
    std::unique_ptr<redis::Client> acquire(bool& reused) {
        {
            std::lock_guard lock(pool_mutex_);
            reused = !idle_.empty();
            if (reused) {
                auto client = std::move(idle_.back());
                idle_.pop_back();
                return client;
            }
        }
        return connect();
    }

    void give_back(std::unique_ptr<redis::Client> client) {
        std::lock_guard lock(pool_mutex_);
        if (idle_.size() < options_.pool_size) idle_.push_back(std::move(client));
    }

    /// `work` on a connection of the pool (one round trip); none when Redis is degraded or the
    /// round trip failed (then degraded), and the caller uses this process's memory.
    template <class Work>
    auto attempt(std::string_view operation, Work&& work)
        -> std::optional<std::invoke_result_t<Work, redis::Client&>> {
        if (health_.load() != SharedHealth::ok) return std::nullopt;
        std::string error;
        // A connection kept from before may have been closed meanwhile (Redis restarted, an idle
        // timeout): one more try on a new connection before Redis counts as away.
        for (int attempt = 0; attempt < 2; ++attempt) {
            bool reused = false;
            try {
                auto client = acquire(reused);
                auto result = work(*client);
                ++round_trips_;
                give_back(std::move(client));
                return result;
            } catch (const Poco::Exception& e) {
                error = e.displayText();
            } catch (const std::exception& e) {
                error = e.what();
            }
            if (!reused) break;
            std::lock_guard lock(pool_mutex_);
            idle_.clear();
        }
        failed(operation, error);
        return std::nullopt;
    }

    void failed(std::string_view operation, const std::string& error) {
        ++errors_;
        {
            std::lock_guard lock(pool_mutex_);
            idle_.clear();  // connections opened before the failure may be dead too
            last_error_ = error;
        }
        auto expected = SharedHealth::ok;
        if (health_.compare_exchange_strong(expected, SharedHealth::degraded))
            log_event(spdlog::level::err, "redis",
                      "Redis failed; this instance uses its own memory until Redis answers again (degraded)",
                      {{"redis", url_}, {"operation", std::string(operation)}, {"error", error}});
    }

    std::string last_error() {
        std::lock_guard lock(pool_mutex_);
        return last_error_;
    }

    bool ping() {
        try {
            auto client = connect();
            redis::Array command;
            command << "PING";
            send(*client, command);
            ++round_trips_;
            give_back(std::move(client));
            return true;
        } catch (const Poco::Exception& e) {
            std::lock_guard lock(pool_mutex_);
            last_error_ = e.displayText();
        } catch (const std::exception& e) {
            std::lock_guard lock(pool_mutex_);
            last_error_ = e.what();
        }
        return false;
    }

    void probe_loop() {
        std::unique_lock lock(threads_mutex_);
        while (!stopping_) {
            threads_changed_.wait_for(lock, options_.probe_every, [&] { return stopping_; });
            if (stopping_ || health_.load() == SharedHealth::ok) continue;
            lock.unlock();
            const bool answered = ping();
            if (answered) {
                health_ = SharedHealth::ok;
                log_event(spdlog::level::info, "redis",
                          "Redis answers again; shared state is back on Redis (what was counted in "
                          "memory meanwhile is not merged back)",
                          {{"redis", url_}});
            }
            lock.lock();
        }
    }

    /// The channels someone subscribed to, as Redis names them.
    std::set<std::string> wanted_channels() {
        std::lock_guard lock(subscribers_mutex_);
        std::set<std::string> out;
        for (const auto& [id, entry] : subscribers_) out.insert(prefixed(entry.first));
        return out;
    }

    void deliver(const std::string& channel, const std::string& message) {
        const auto space = message.find(' ');
        if (space == std::string::npos || message.compare(0, space, instance_id()) == 0) return;  // our own
        const std::string payload = message.substr(space + 1);
        const std::string name = channel.substr(kPrefix.size());
        std::lock_guard delivering(delivery_mutex_);
        std::vector<Subscriber> targets;
        {
            std::lock_guard lock(subscribers_mutex_);
            for (const auto& [id, entry] : subscribers_)
                if (entry.first == name) targets.push_back(entry.second);
        }
        for (const auto& target : targets) {
            try {
                target(payload);
            } catch (const std::exception& e) {
                log_event(spdlog::level::err, "redis", "a subscriber failed",
                          {{"channel", name}, {"error", e.what()}});
            }
        }
    }

    /// One connection for publish/subscribe while it lasts; then again, a second later.
    void subscriber_loop() {
        while (true) {
            {
                std::unique_lock lock(threads_mutex_);
                if (stopping_) return;
            }
            if (health_.load() == SharedHealth::ok && !wanted_channels().empty()) {
                // A lost subscription is an outage like any other: logged once, then the probe
                // finds Redis again and this loop subscribes anew.
                try {
                    listen();
                } catch (const Poco::Exception& e) {
                    failed("subscribe", e.displayText());
                } catch (const std::exception& e) {
                    failed("subscribe", e.what());
                }
            }
            std::unique_lock lock(threads_mutex_);
            threads_changed_.wait_for(lock, milliseconds(250), [&] { return stopping_; });
        }
    }

    void listen() {
        Poco::Net::StreamSocket socket;
        const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(options_.timeout.count()) * 1000);
        socket.connect(Poco::Net::SocketAddress(address_.host, static_cast<Poco::UInt16>(address_.port)),
                       timeout);
        socket.setNoDelay(true);
        std::set<std::string> subscribed;
        std::string buffer;
        std::vector<char> chunk(16384);
        while (true) {
            {
                std::lock_guard lock(threads_mutex_);
                if (stopping_) return;
            }
            std::vector<std::string> fresh{"SUBSCRIBE"};
            for (const auto& channel : wanted_channels())
                if (subscribed.insert(channel).second) fresh.push_back(channel);
            if (fresh.size() > 1) {
                const auto command = resp_command(fresh);
                socket.sendBytes(command.data(), static_cast<int>(command.size()));
            }
            if (!socket.poll(Poco::Timespan(200 * 1000), Poco::Net::Socket::SELECT_READ)) continue;
            const int received = socket.receiveBytes(chunk.data(), static_cast<int>(chunk.size()));
            if (received <= 0) throw Poco::IOException("the connection was closed");
            buffer.append(chunk.data(), static_cast<std::size_t>(received));
            std::size_t pos = 0;
            while (auto value = parse_resp(buffer, pos)) {
                if (value->type == '*' && value->items.size() == 3 && value->items[0].text == "message")
                    deliver(value->items[1].text, value->items[2].text);
            }
            buffer.erase(0, pos);
        }
    }

    const RedisAddress address_;
    const std::string url_;
    const RedisOptions options_;
    const std::unique_ptr<SharedState> local_;  ///< during an outage; and the instance id
    std::atomic<SharedHealth> health_{SharedHealth::degraded};
    std::atomic<long long> round_trips_{0};
    std::atomic<long long> errors_{0};

    std::mutex pool_mutex_;
    std::vector<std::unique_ptr<redis::Client>> idle_;
    std::string last_error_;

    std::mutex subscribers_mutex_;
    std::map<std::uint64_t, std::pair<std::string, Subscriber>> subscribers_;
    std::mutex delivery_mutex_;  ///< held while subscribers are called
    std::uint64_t last_subscription_ = 0;

    std::mutex threads_mutex_;
    std::condition_variable threads_changed_;
    bool stopping_ = false;
    std::thread probe_;
    std::thread subscriber_;
};

}  // namespace

sdk::Result<std::unique_ptr<SharedState>> make_redis_state(const std::string& url, RedisOptions options) {
    auto address = parse_redis_url(url);
    if (!address) return address.error();
    return std::unique_ptr<SharedState>(std::make_unique<RedisState>(std::move(*address), url, options));
}

}  // namespace tezgah::engine
