#pragma once
/// @file catalog.hpp
/// A tenant's catalog and knowledge base as plugins see them: plain records and read-only stores.

#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::sdk {

/// Text fields of an offering or knowledge entry in another language.
struct Translation {
    std::string name;                  ///< offerings
    std::vector<std::string> aliases;  ///< offerings
    std::string description;           ///< offerings
    std::string question;              ///< knowledge entries
    std::string answer;                ///< knowledge entries
};

/// When a group class meets: a day ("mon".."sun") and a start time ("HH:MM").
struct ScheduleSlot {
    std::string day;
    std::string time;
};

/// One product or service a tenant offers (`data/offerings.json`).
struct Offering {
    std::string id;
    std::string type;  ///< "PRODUCT" or "SERVICE"
    std::string name;
    std::string category;
    double price = 0;
    std::string currency;
    std::optional<long long> stock;  ///< empty: not tracked
    std::optional<int> duration_min;
    std::string provider;  ///< resource id for services
    int buffer_minutes = 0;
    std::vector<ScheduleSlot> schedule;  ///< group classes: when it meets; empty otherwise
    std::optional<int> capacity;         ///< group classes: places per session
    std::vector<std::string> aliases;
    json::object attributes;
    bool available = true;  ///< false: discontinued, never offered
    std::string description;
    std::map<std::string, Translation> translations;

    /// The name in `language`, or the original name.
    const std::string& name_in(std::string_view language) const;
    /// True when it can be sold now: available and (stock untracked or above zero).
    bool in_stock() const { return available && (!stock || *stock > 0); }
};

/// One question and answer of a tenant's knowledge base (`data/knowledge.json`).
struct KnowledgeEntry {
    std::string id;
    std::string question;
    std::string answer;
    std::string category;
    std::vector<std::string> keywords;
    std::map<std::string, Translation> translations;

    const std::string& question_in(std::string_view language) const;
    const std::string& answer_in(std::string_view language) const;
};

/// A person, room or piece of equipment that services need (`data/resources.json`).
struct Resource {
    std::string id;
    std::string name;
    std::string type;  ///< person | room | equipment
    int capacity = 1;
    std::map<std::string, std::string> hours;  ///< "mon" -> "09:00-18:00"
    struct TimeOff {
        std::string from;  ///< "YYYY-MM-DD", inclusive
        std::string to;    ///< "YYYY-MM-DD", inclusive
        std::string reason;
    };
    std::vector<TimeOff> time_off;
};

/// An offering with how well it matched a query (0..1, higher is better).
struct OfferingMatch {
    Offering offering;
    double score = 0;
};

/// A knowledge entry with its search rank (higher is better).
struct KnowledgeHit {
    KnowledgeEntry entry;
    double score = 0;
};

/// The tenant's offerings. Every call is scoped to the tenant the store was handed for.
class CatalogStore {
public:
    virtual ~CatalogStore();
    /// Every offering, discontinued ones included (check `available`).
    virtual std::vector<Offering> all() const = 0;
    virtual std::optional<Offering> get(std::string_view id) const = 0;
    /// Fuzzy, Turkish-aware match of a customer's words against names, aliases and translations,
    /// best first; at most `limit` results above a minimal score.
    virtual std::vector<OfferingMatch> find(std::string_view query, std::string_view language,
                                            std::size_t limit) const = 0;
    /// ABI 1.7: every offering as the store holds them (what all() copies), valid while the store
    /// lives; null when it holds none in memory, then all() answers. For an index built once that
    /// should not keep a second copy of the catalog.
    virtual const std::vector<Offering>* held() const { return nullptr; }
};

/// The tenant's knowledge base, searched by full text.
class KnowledgeStore {
public:
    virtual ~KnowledgeStore();
    virtual std::vector<KnowledgeEntry> all() const = 0;
    /// Ranked full-text search over questions, answers and keywords, best first.
    virtual std::vector<KnowledgeHit> search(std::string_view query, std::string_view language,
                                             std::size_t limit) const = 0;
    /// ABI 1.7: every entry as the store holds them (what all() copies), valid while the store
    /// lives; null when it holds none in memory, then all() answers.
    virtual const std::vector<KnowledgeEntry>* held() const { return nullptr; }
};

/// Reads records from their data-file JSON form. Errors name the field ("price: expected number").
Result<Offering> parse_offering(const json::value& value);
Result<KnowledgeEntry> parse_knowledge_entry(const json::value& value);
Result<Resource> parse_resource(const json::value& value);

/// The data-file JSON form of an offering (what tools answer with, minus nothing).
json::object to_json(const Offering& offering);
json::object to_json(const KnowledgeEntry& entry);

}  // namespace tezgah::sdk
