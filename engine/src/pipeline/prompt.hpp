#pragma once
// What a remote language model is sent: a system prompt built from the persona, the business
// information and only the catalog and knowledge entries relevant to the conversation, within a
// token budget; the history truncated by priority, with a rolling summary of what fell out; and
// the customer's words clearly delimited, so instructions hidden in them stay the customer's words.

#include "store/database.hpp"

#include <tezgah/sdk/catalog.hpp>
#include <tezgah/sdk/host.hpp>
#include <tezgah/sdk/types.hpp>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

namespace tezgah::engine {

struct PromptBudget {
    std::int64_t context_tokens = 650;  ///< catalog and knowledge entries
    std::int64_t info_tokens = 300;     ///< business.info texts (the rest are named, for the tools)
    std::int64_t history_tokens = 500;  ///< earlier messages of the conversation
    std::size_t max_offerings = 8;
    std::size_t max_knowledge = 3;
};

struct PromptInput {
    const sdk::TenantProfile* profile = nullptr;
    const sdk::CatalogStore* catalog = nullptr;
    const sdk::KnowledgeStore* knowledge = nullptr;
    std::string language;                                ///< the reply's language
    const std::deque<StoredMessage>* history = nullptr;  ///< oldest first, the current message excluded
    std::string customer_text;                           ///< the current message
    std::string summary;                                 ///< the rolling summary of earlier messages, if any
    std::chrono::system_clock::time_point now{};
    const std::vector<sdk::ToolSpec>* tools = nullptr;  ///< the tools the model may call
    /// prompt_preamble(*profile, language, *tools, budget), made once per tenant version and
    /// language; null: made here.
    const std::string* preamble = nullptr;
    /// What the channel says of the customer (WhatsApp: the number and profile name); the model is
    /// told so that it books with them instead of asking. Empty: not known.
    std::string customer_phone;
    std::string customer_name;
};

struct Prompt {
    std::string system;
    std::vector<sdk::Message> messages;  ///< history kept, then the current message, delimited
    std::size_t offerings = 0;           ///< catalog entries included
    std::size_t knowledge = 0;           ///< knowledge entries included
    std::size_t history_dropped = 0;     ///< earlier messages left out for the budget
};

/// The part of the system prompt that depends only on the tenant and the reply's language: the
/// persona, the rules (naming the enabled tools that look the business's data up), the business,
/// its hours and short business.info texts.
std::string prompt_preamble(const sdk::TenantProfile& profile, const std::string& language,
                            const std::vector<sdk::ToolSpec>& tools, const PromptBudget& budget = {});

/// The prompt for a remote model.
Prompt build_prompt(const PromptInput& input, const PromptBudget& budget = {});

/// The customer's words between <customer_message> tags; tags inside them are neutralised.
std::string delimit_customer_text(std::string_view text);

/// `summary` extended with the gist of `dropped` messages (oldest first), at most `max_chars`:
/// the oldest gists go first when it grows too long.
std::string roll_summary(std::string summary, const std::vector<StoredMessage>& dropped,
                         std::size_t max_chars = 800);

/// The whole catalog as a prompt would list it (for comparing prompt sizes in benchmarks).
std::string whole_catalog_text(const std::vector<sdk::Offering>& offerings, const std::string& language);

}  // namespace tezgah::engine
