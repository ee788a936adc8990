// One table of the words the tenants' indexes hold (understand.cpp, attributes.cpp): an index keeps
// views into it, 16 bytes a word, rather than a string of its own for every word of every tenant.
#include "assistant.hpp"

#include <mutex>
#include <set>

namespace tezgah::plugins::local {

std::string_view intern(std::string_view word) {
    // A set's nodes never move, so a view of a word stays valid as the table grows. Words are
    // never removed: the table holds a vocabulary, which tenants mostly share, not the tenants.
    static std::mutex mutex;
    static std::set<std::string, std::less<>> words;
    std::lock_guard lock(mutex);
    auto it = words.find(word);
    if (it == words.end()) it = words.emplace(word).first;
    return *it;
}

std::vector<std::string_view> intern_all(const std::vector<std::string>& words) {
    std::vector<std::string_view> out;
    out.reserve(words.size());
    for (const auto& w : words) out.push_back(intern(w));
    return out;
}

}  // namespace tezgah::plugins::local
