// The conversations list (store/conversation_list.hpp). The page is chosen by an inner query on
// conversations alone (indexes conversations_recent and conversations_status, migration 10), and
// only its rows are completed by the outer one: the last message and the count through
// messages_conversation, the open ticket through tickets_conversation, a name through
// appointments_customer, the agent by its id. `assignee` filters through conversations_assignee
// (migration 15).
#include "store/conversation_list.hpp"

#include "store/sql_support.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/text.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace tezgah::engine {
namespace {

using store::from_millis;

/// The UTF-8 sequence starting at `at` (1 to 4 bytes; 1 for a stray byte).
std::size_t sequence_length(std::string_view text, std::size_t at) {
    const auto lead = static_cast<unsigned char>(text[at]);
    const std::size_t n = lead < 0x80         ? 1
                          : (lead >> 5) == 6  ? 2
                          : (lead >> 4) == 14 ? 3
                          : (lead >> 3) == 30 ? 4
                                              : 1;
    return std::min(n, text.size() - at);
}

/// The letters a folded ASCII letter stands for: its cases and the Turkish (and circumflexed)
/// letters that fold to it.
std::string letter_class(char folded) {
    const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(folded)));
    std::string out{folded, upper};
    switch (folded) {
        case 'a':
            out += "âÂ";
            break;
        case 'c':
            out += "çÇ";
            break;
        case 'g':
            out += "ğĞ";
            break;
        case 'i':
            out += "İıîÎ";
            break;
        case 'o':
            out += "öÖ";
            break;
        case 's':
            out += "şŞ";
            break;
        case 'u':
            out += "üÜûÛ";
            break;
        default:
            break;
    }
    return out;
}

/// The ASCII letter `character` (one UTF-8 sequence) folds to, or 0 when it is not a letter that
/// folds to one.
char folded_letter(std::string_view character) {
    if (character.size() == 1) {
        const auto c = static_cast<unsigned char>(character[0]);
        return std::isalpha(c) ? static_cast<char>(std::tolower(c)) : '\0';
    }
    for (char letter : std::string_view("acgiosu")) {
        const std::string forms = letter_class(letter);
        for (std::size_t at = 2; at < forms.size(); at += sequence_length(forms, at))
            if (std::string_view(forms).substr(at, sequence_length(forms, at)) == character) return letter;
    }
    return 0;
}

/// The last message's text as a list shows it: at most kLastMessageCharacters characters.
std::string shortened(const std::string& text) {
    std::size_t at = 0, characters = 0;
    while (at < text.size() && characters < kLastMessageCharacters) {
        at += sequence_length(text, at);
        ++characters;
    }
    return at >= text.size() ? text : text.substr(0, at) + "…";
}

/// The profile name a channel stored with a customer's message (`metadata.profile_name`).
std::string profile_name(const std::string& metadata) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(metadata, ec);
    if (ec || !parsed.is_object()) return "";
    const auto* name = parsed.get_object().if_contains("profile_name");
    return name != nullptr && name->is_string() ? std::string(name->get_string()) : "";
}

/// A message that is not a silent reply (a turn the bot kept quiet for stores an empty reply).
constexpr const char* kSpoken = "(m.role <> 'assistant' OR m.text <> '')";

}  // namespace

std::string text_pattern(std::string_view text, Backend backend) {
    const bool glob = backend == Backend::sqlite;
    std::string out = glob ? "*" : "";
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t n = sequence_length(text, at);
        const std::string_view character = text.substr(at, n);
        at += n;
        if (const char letter = folded_letter(character); letter != 0) {
            out += '[' + letter_class(letter) + ']';
        } else if (character.size() > 1 || std::isalnum(static_cast<unsigned char>(character[0]))) {
            out += character;
        } else if (glob) {
            // GLOB's own characters stand for themselves inside a class.
            const char c = character[0];
            if (c == '*' || c == '?' || c == '[') {
                out += '[';
                out += c;
                out += ']';
            } else {
                out += c;
            }
        } else {
            out += '\\';  // a backslash before punctuation means the character itself
            out += character;
        }
    }
    if (glob) out += '*';
    return out;
}

sdk::Result<ConversationPage> list_conversations(Database& db, const std::string& tenant_id,
                                                 const ConversationFilter& filter) {
    // The cursor is "<ms>.<id>" of the last row of the page before: its last message's time, or
    // when it was handed over for status handed_over.
    long long cursor_at = 0;
    std::string cursor_id;
    if (!filter.cursor.empty()) {
        const auto dot = filter.cursor.find('.');
        bool ok = dot != std::string::npos && dot > 0 && dot + 1 < filter.cursor.size() &&
                  std::all_of(filter.cursor.begin(), filter.cursor.begin() + static_cast<std::ptrdiff_t>(dot),
                              [](char c) { return c >= '0' && c <= '9'; }) &&
                  dot <= 18;
        if (!ok) return sdk::Error{sdk::errc::invalid_value, "cursor: not a cursor this API gave"};
        cursor_at = std::stoll(filter.cursor.substr(0, dot));
        cursor_id = filter.cursor.substr(dot + 1);
    }
    const std::string order = filter.status == kStatusHandedOver ? "status_at" : "last_message_at";
    std::string where = "WHERE c.tenant_id = :t";
    std::vector<std::string> texts{tenant_id};
    if (!filter.status.empty()) {
        where += " AND c.status = :s";
        texts.push_back(filter.status);
    }
    if (!filter.channel.empty()) {
        where += " AND c.channel = :ch";
        texts.push_back(filter.channel);
    }
    if (!filter.user_id.empty()) {
        where += " AND c.user_id = :u";
        texts.push_back(filter.user_id);
    }
    if (!filter.text.empty()) {
        where += std::string(
                     " AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = c.tenant_id AND "
                     "m.conversation_id = c.id AND m.text ") +
                 (db.backend() == Backend::sqlite ? "GLOB" : "~") + " :q)";
        texts.push_back(text_pattern(filter.text, db.backend()));
    }
    if (filter.assignee && filter.assignee->empty()) {
        where += " AND (c.assignee IS NULL OR c.assignee = '')";
    } else if (filter.assignee) {
        where += " AND c.assignee = :as";
        texts.push_back(*filter.assignee);
    }
    std::vector<long long> numbers;
    if (filter.active_from_ms != 0) {
        where += " AND c.last_message_at >= :f";
        numbers.push_back(filter.active_from_ms);
    }
    if (filter.active_until_ms != 0) {
        where += " AND c.last_message_at < :un";
        numbers.push_back(filter.active_until_ms);
    }
    if (!filter.cursor.empty()) {
        where += " AND (c." + order + " < :ca OR (c." + order + " = :ca2 AND c.id < :ci))";
        numbers.push_back(cursor_at);
        numbers.push_back(cursor_at);
    }
    const std::string page_query =
        "SELECT c.id, c.tenant_id, c.user_id, c.channel, c.session_id, c.status, c.created_at, "
        "c.last_message_at, c.status_at, c.operator_at, c.assignee FROM conversations c " +
        where + " ORDER BY c." + order + " DESC, c.id DESC LIMIT :n";
    const std::string query =
        "SELECT p.id, p.user_id, p.channel, p.session_id, p.status, p.created_at, p.last_message_at, "
        "p.status_at, p.operator_at, "
        "(SELECT COUNT(*) FROM messages m WHERE m.tenant_id = p.tenant_id AND m.conversation_id = p.id AND " +
        std::string(kSpoken) +
        "), lm.role, lm.text, lm.at, tk.id, tk.reason, tk.category, tk.priority, tk.status, tk.created_at, "
        "(SELECT m.metadata FROM messages m WHERE m.tenant_id = p.tenant_id AND m.conversation_id = p.id AND "
        "m.role = 'user' AND m.metadata LIKE '%profile_name%' ORDER BY m.seq DESC LIMIT 1), "
        "(SELECT a.customer_name FROM appointments a WHERE a.tenant_id = p.tenant_id AND a.user_id = "
        "p.user_id "
        "ORDER BY a.created_at DESC LIMIT 1), ag.id, ag.name "
        "FROM (" +
        page_query +
        ") p "
        "LEFT JOIN messages lm ON lm.seq = (SELECT MAX(m.seq) FROM messages m WHERE m.tenant_id = "
        "p.tenant_id "
        "AND m.conversation_id = p.id AND " +
        kSpoken +
        ") "
        "LEFT JOIN tickets tk ON tk.tenant_id = p.tenant_id AND tk.id = (SELECT t2.id FROM tickets t2 WHERE "
        "t2.tenant_id = p.tenant_id AND t2.conversation_id = p.id AND t2.status <> 'resolved' ORDER BY "
        "t2.created_at DESC, t2.id DESC LIMIT 1) "
        "LEFT JOIN agents ag ON ag.tenant_id = p.tenant_id AND ag.id = p.assignee "
        "ORDER BY p." +
        order + " DESC, p.id DESC";

    ConversationPage page;
    const long long limit = static_cast<long long>(filter.limit) + 1;
    auto read = db.read("list_conversations [" + tenant_id + "]", [&](soci::session& sql) {
        page.conversations.clear();
        ConversationSummary row;
        long long created = 0, updated = 0, status_at = 0, operator_at = 0, count = 0, last_at = 0,
                  ticket_at = 0;
        LastMessage last;
        TicketSummary ticket;
        std::string metadata, booked_name, agent_id, agent_name;
        soci::indicator last_ind = soci::i_ok, last_text_ind = soci::i_ok, last_at_ind = soci::i_ok,
                        ticket_ind = soci::i_ok, metadata_ind = soci::i_ok, booked_ind = soci::i_ok,
                        agent_ind = soci::i_ok, agent_name_ind = soci::i_ok;
        soci::indicator ticket_inds[5] = {soci::i_ok, soci::i_ok, soci::i_ok, soci::i_ok, soci::i_ok};
        soci::statement st(sql);
        for (auto* target : {&row.id, &row.user_id, &row.channel, &row.session_id, &row.status})
            st.exchange(soci::into(*target));
        for (auto* target : {&created, &updated, &status_at, &operator_at, &count})
            st.exchange(soci::into(*target));
        st.exchange(soci::into(last.role, last_ind));
        st.exchange(soci::into(last.text, last_text_ind));
        st.exchange(soci::into(last_at, last_at_ind));
        st.exchange(soci::into(ticket.id, ticket_ind));
        st.exchange(soci::into(ticket.reason, ticket_inds[0]));
        st.exchange(soci::into(ticket.category, ticket_inds[1]));
        st.exchange(soci::into(ticket.priority, ticket_inds[2]));
        st.exchange(soci::into(ticket.status, ticket_inds[3]));
        st.exchange(soci::into(ticket_at, ticket_inds[4]));
        st.exchange(soci::into(metadata, metadata_ind));
        st.exchange(soci::into(booked_name, booked_ind));
        st.exchange(soci::into(agent_id, agent_ind));
        st.exchange(soci::into(agent_name, agent_name_ind));
        for (const auto& p : texts) st.exchange(soci::use(p));
        for (const auto& n : numbers) st.exchange(soci::use(n));
        if (!filter.cursor.empty()) st.exchange(soci::use(cursor_id));
        st.exchange(soci::use(limit));
        st.alloc();
        st.prepare(query);
        st.define_and_bind();
        st.execute(false);
        while (st.fetch()) {
            ConversationSummary item = row;
            item.tenant_id = tenant_id;
            item.created_at = from_millis(created);
            item.updated_at = from_millis(updated);
            item.status_at = from_millis(status_at);
            item.operator_at = from_millis(operator_at);
            item.message_count = count;
            if (last_ind == soci::i_ok)
                item.last_message =
                    LastMessage{last.role, last_text_ind == soci::i_ok ? shortened(last.text) : "",
                                from_millis(last_at_ind == soci::i_ok ? last_at : 0)};
            if (ticket_ind == soci::i_ok) {
                item.ticket = ticket;
                item.ticket->created_at = from_millis(ticket_inds[4] == soci::i_ok ? ticket_at : 0);
            }
            if (metadata_ind == soci::i_ok) item.customer_name = profile_name(metadata);
            if (item.customer_name.empty() && booked_ind == soci::i_ok) item.customer_name = booked_name;
            if (agent_ind == soci::i_ok)
                item.assignee = AssigneeRef{agent_id, agent_name_ind == soci::i_ok ? agent_name : ""};
            page.conversations.push_back(std::move(item));
        }
    });
    if (!read) return read.error();
    if (page.conversations.size() > filter.limit) {
        page.conversations.resize(filter.limit);
        const auto& last = page.conversations.back();
        const auto key = filter.status == kStatusHandedOver ? last.status_at : last.updated_at;
        page.next = std::to_string(store::to_millis(key)) + "." + last.id;
    }
    return page;
}

}  // namespace tezgah::engine
