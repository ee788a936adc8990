#include "tenants/response_cache.hpp"

#include "tenants/folder_files.hpp"
#include "util/digest.hpp"

#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/text.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tezgah::engine {

namespace json = boost::json;

std::string cached_answer_text(const CachedAnswer& answer) {
    json::array options;
    for (const auto& o : answer.options)
        options.push_back(json::object{{"id", o.id}, {"title", o.title}, {"description", o.description}});
    json::array cards;
    for (const auto& c : answer.cards) {
        json::object card{{"id", c.id},
                          {"title", c.title},
                          {"subtitle", c.subtitle},
                          {"currency", c.currency},
                          {"image_url", c.image_url}};
        if (c.price) card["price"] = *c.price;
        cards.push_back(std::move(card));
    }
    return sdk::json_text(json::object{{"reply", answer.reply},
                                       {"confidence", answer.confidence},
                                       {"language", answer.language},
                                       {"negative", answer.negative},
                                       {"options", std::move(options)},
                                       {"cards", std::move(cards)}});
}

std::optional<CachedAnswer> cached_answer_from(std::string_view text) {
    boost::system::error_code ec;
    auto parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) return std::nullopt;
    const auto& o = parsed.get_object();
    auto string_at = [](const json::object& from, std::string_view key) {
        const auto* v = from.if_contains(key);
        return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    const auto* reply = o.if_contains("reply");
    if (reply == nullptr || !reply->is_string()) return std::nullopt;
    CachedAnswer out;
    out.reply = std::string(reply->get_string());
    if (const auto* v = o.if_contains("confidence"); v && v->is_number())
        out.confidence = v->to_number<double>();
    out.language = string_at(o, "language");
    if (const auto* v = o.if_contains("negative"); v && v->is_bool()) out.negative = v->get_bool();
    if (const auto* v = o.if_contains("options"); v && v->is_array())
        for (const auto& item : v->get_array())
            if (item.is_object())
                out.options.push_back({string_at(item.get_object(), "id"),
                                       string_at(item.get_object(), "title"),
                                       string_at(item.get_object(), "description")});
    if (const auto* v = o.if_contains("cards"); v && v->is_array())
        for (const auto& item : v->get_array()) {
            if (!item.is_object()) continue;
            const auto& c = item.get_object();
            sdk::ReplyCard card{string_at(c, "id"), string_at(c, "title"),    string_at(c, "subtitle"),
                                std::nullopt,       string_at(c, "currency"), string_at(c, "image_url")};
            if (const auto* price = c.if_contains("price"); price && price->is_number())
                card.price = price->to_number<double>();
            out.cards.push_back(std::move(card));
        }
    return out;
}

std::string tenant_version_hash(const std::filesystem::path& folder) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto files = tenant_folder_files(folder);
    std::string all;
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream content;
        content << in.rdbuf();
        // Each file's relative name and the digest of its content: where the folder is mounted
        // does not matter, and one file's bytes cannot pass for another's.
        all += fs::relative(file, folder, ec).generic_string();
        all += '\0';
        all += sha256_hex(content.str());
        all += '\n';
    }
    return sha256_hex(all).substr(0, 16);
}

std::string ResponseCache::key(std::string_view language, std::string_view question) {
    return std::string(language) + "|" + sdk::text::fold(question);
}

std::optional<CachedAnswer> ResponseCache::get(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        ++misses_;
        return std::nullopt;
    }
    if (it->second.expires <= now) {
        lru_.erase(it->second.lru);
        entries_.erase(it);
        ++misses_;
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    ++hits_;
    return it->second.answer;
}

void ResponseCache::put(const std::string& key, CachedAnswer answer, std::chrono::seconds ttl,
                        Clock::time_point now) {
    if (ttl.count() <= 0 || max_entries_ == 0) return;
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        it->second.answer = std::move(answer);
        it->second.expires = now + ttl;
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return;
    }
    while (entries_.size() >= max_entries_) {
        entries_.erase(lru_.back());
        lru_.pop_back();
    }
    lru_.push_front(key);
    entries_.emplace(key, Entry{std::move(answer), now + ttl, lru_.begin()});
}

std::size_t ResponseCache::clear() {
    std::lock_guard lock(mutex_);
    const auto count = entries_.size();
    entries_.clear();
    lru_.clear();
    return count;
}

std::size_t ResponseCache::erase_if(
    const std::function<bool(const std::string&, const CachedAnswer&)>& drop) {
    std::lock_guard lock(mutex_);
    std::size_t count = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (drop(it->first, it->second.answer)) {
            lru_.erase(it->second.lru);
            it = entries_.erase(it);
            ++count;
        } else {
            ++it;
        }
    }
    return count;
}

ResponseCacheStats ResponseCache::stats() const {
    std::lock_guard lock(mutex_);
    ResponseCacheStats out;
    out.entries = entries_.size();
    for (const auto& [key, entry] : entries_) {
        out.bytes += key.size() + entry.answer.reply.size() + entry.answer.language.size();
        for (const auto& o : entry.answer.options)
            out.bytes += o.id.size() + o.title.size() + o.description.size();
        for (const auto& c : entry.answer.cards)
            out.bytes += c.id.size() + c.title.size() + c.subtitle.size();
    }
    out.hits = hits_;
    out.misses = misses_;
    return out;
}

}  // namespace tezgah::engine
