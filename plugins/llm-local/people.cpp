// People and times, answered from the tenant's resources (hours, time off), its offerings
// (provider, schedule, capacity, duration) and its opening hours: "eğitmenleriniz kim", "Ayşe hoca
// hangi günler var", "reformer dersini kim veriyor", "hatha yoga hangi günler", "yarın kaçta
// açıksınız", "what classes are on Saturday".
#include "people.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

namespace tezgah::plugins::local {
namespace {

namespace text = sdk::text;

constexpr int kWeekOrder[] = {1, 2, 3, 4, 5, 6, 0};  // Monday first

bool any_word(const std::vector<std::string>& words, std::initializer_list<std::string_view> exact) {
    return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
        return std::find(exact.begin(), exact.end(), w) != exact.end();
    });
}

bool any_phrase_of(std::string_view folded, std::initializer_list<std::string_view> phrases) {
    return std::any_of(phrases.begin(), phrases.end(), [&](auto p) { return has_phrase(folded, p); });
}

std::string capitalized(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    if (s.starts_with("ö")) s.replace(0, std::string_view("ö").size(), "Ö");
    return s;
}

/// The span of `hours` for a day key, or empty when closed or missing.
std::string span_of(const std::map<std::string, std::string>& hours, std::string_view key) {
    auto it = hours.find(std::string(key));
    if (it == hours.end() || it->second.empty() || it->second == "closed") return {};
    return it->second;
}

/// "Pazartesi–Cuma 09:00-18:00; Cumartesi 10:00-14:00": the week, consecutive days of the same hours
/// joined, and days apart with the same hours named together ("Pazartesi, Çarşamba, Cuma 10:00-19:00").
std::string week_text(const std::map<std::string, std::string>& hours, std::string_view language) {
    std::vector<std::pair<std::string, std::string>> parts;  // days, hours
    std::size_t i = 0;
    while (i < 7) {
        const std::string span = span_of(hours, weekday_key(kWeekOrder[i]));
        if (span.empty()) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j + 1 < 7 && span_of(hours, weekday_key(kWeekOrder[j + 1])) == span) ++j;
        std::string days = weekday_name(kWeekOrder[i], language);
        if (j == i + 1)
            days += ", " + weekday_name(kWeekOrder[j], language);
        else if (j > i)
            days += "–" + weekday_name(kWeekOrder[j], language);
        auto same = std::find_if(parts.begin(), parts.end(), [&](const auto& p) { return p.second == span; });
        if (same == parts.end())
            parts.emplace_back(days, span);
        else
            same->first += ", " + days;
        i = j + 1;
    }
    std::string out;
    for (const auto& [days, span] : parts) out += (out.empty() ? "" : "; ") + days + " " + span;
    return out;
}

std::string shown_date(const std::string& iso, std::string_view language) {
    if (language == "en" || iso.size() != 10) return iso;
    return iso.substr(8, 2) + "." + iso.substr(5, 2) + "." + iso.substr(0, 4);
}

/// The time off of `person` that covers `date` (days since the epoch), or null.
const sdk::Resource::TimeOff* off_on(const sdk::Resource& person, long date) {
    const std::string day = date_text(date);
    for (const auto& off : person.time_off)
        if (off.from <= day && day <= off.to) return &off;
    return nullptr;
}

/// The last word of a name of two words or more said shortened after the others ("men's hair"
/// for "Men's Haircut"), the words before it holding the name.
bool shortened_last(const std::string& said, const std::string& name_word, std::size_t at,
                    std::size_t words) {
    return words >= 2 && at + 1 == words && said.size() >= 4 && name_word.starts_with(said);
}

/// Folded words of `phrase` matched in order at some position of `words`, each customer word
/// starting with the phrase's word (a suffix allowed: "yogası", "reformer'ı"), or with `slips`,
/// one slip of the keyboard away from it ("hatah yoga", "reformar") or a last word shortened.
bool phrase_in(const std::vector<std::string>& words, const std::vector<std::string>& phrase,
               bool slips = false) {
    if (phrase.empty() || phrase.size() > words.size()) return false;
    for (std::size_t start = 0; start + phrase.size() <= words.size(); ++start) {
        bool all = true;
        for (std::size_t k = 0; k < phrase.size() && all; ++k) {
            const auto& w = words[start + k];
            const auto& p = phrase[k];
            all = w == p || (p.size() >= 4 && w.starts_with(p) && w.size() <= p.size() + 5) ||
                  // the first letters compared first: most pairs end there, unstemmed
                  (slips && w[0] == p[0] && (one_typo(w, p) || shortened_last(w, p, k, phrase.size())));
        }
        if (all) return true;
    }
    return false;
}

/// The offering the message names best (longest name or alias matched), among available ones.
/// `said` receives the name or alias matched.
/// The folded words of an offering's name or alias. Names are read for most messages about people
/// and times, so each thread keeps the words of the last few thousand it has read.
const std::vector<std::string>& name_tokens(const std::string& name) {
    thread_local std::unordered_map<std::string, std::vector<std::string>> read;
    if (auto it = read.find(name); it != read.end()) return it->second;
    if (read.size() >= 4096) read.clear();
    return read.emplace(name, text::tokens(name)).first->second;
}

const sdk::Offering* named_offering(const std::vector<sdk::Offering>& offerings,
                                    const std::vector<std::string>& words, std::vector<std::string>& said) {
    const sdk::Offering* best = nullptr;
    std::size_t best_score = 0;
    // A longer name said with a slip beats a shorter one said right ("hatah yoga" is Hatha Yoga,
    // not every class the alias "yoga" names); of equal length, the one said right wins.
    auto consider = [&](const sdk::Offering& o, const std::string& name) {
        const auto& phrase = name_tokens(name);
        std::size_t score = 0;
        for (const auto& p : phrase) score += 2 * p.size();
        if (score + 1 <= best_score) return;
        if (phrase_in(words, phrase))
            ++score;
        else if (score <= best_score || !phrase_in(words, phrase, true))
            return;
        best = &o;
        best_score = score;
        said = phrase;
    };
    for (const auto& o : offerings) {
        if (!o.available) continue;
        consider(o, o.name);
        for (const auto& a : o.aliases) consider(o, a);
        for (const auto& [lang, t] : o.translations) {
            consider(o, t.name);
            for (const auto& a : t.aliases) consider(o, a);
        }
    }
    if (best) return best;
    // No whole name: one word of a name that no other offering shares ("balyajı" for "Balyaj /
    // Ombre"); a word several share ("kesimi", "yoga") names none of them.
    auto names_word = [&](const std::string& name) {
        for (const auto& w : name_tokens(name))
            if (w.size() >= 4 && !is_stop_word(w) && phrase_in(words, {w})) return true;
        return false;
    };
    for (const auto& o : offerings) {
        if (!o.available) continue;
        bool named = names_word(o.name);
        for (const auto& [lang, t] : o.translations) named = named || names_word(t.name);
        if (!named) continue;
        if (best) return nullptr;
        best = &o;
    }
    return best;
}

/// The group classes a one-word name is shared by ("yoga": Hatha Yoga, Yin Yoga), in catalogue order.
std::vector<const sdk::Offering*> classes_sharing(const std::vector<sdk::Offering>& offerings,
                                                  const std::vector<std::string>& said) {
    std::vector<const sdk::Offering*> out;
    if (said.size() != 1) return out;
    for (const auto& o : offerings) {
        if (!o.available || o.schedule.empty()) continue;
        bool shares = phrase_in(name_tokens(o.name), said);
        for (const auto& [lang, t] : o.translations) shares = shares || phrase_in(name_tokens(t.name), said);
        if (shares) out.push_back(&o);
    }
    return out;
}

/// The people the message names by first name, full name or surname ("Ayşe ve Zeynep").
std::vector<const sdk::Resource*> named_people(const std::vector<const sdk::Resource*>& people,
                                               const std::vector<std::string>& words) {
    std::vector<const sdk::Resource*> out;
    for (const auto* p : people) {
        const auto names = text::tokens(p->name);
        const bool named = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
            return n.size() >= 3 && std::any_of(words.begin(), words.end(), [&](const std::string& w) {
                       return w == n || (w.starts_with(n) && w.size() <= n.size() + 5 && n.size() >= 4);
                   });
        });
        if (named) out.push_back(p);
    }
    return out;
}

std::string duration_and_capacity(const sdk::Offering& o, std::string_view language) {
    std::vector<std::string> parts;
    if (o.duration_min)
        parts.push_back(std::to_string(*o.duration_min) + (language == "en" ? " minutes" : " dakika"));
    if (o.capacity)
        parts.push_back(language == "en" ? "up to " + std::to_string(*o.capacity) + " people"
                                         : "en fazla " + std::to_string(*o.capacity) + " kişi");
    if (parts.empty()) return {};
    std::string out = " (";
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
    return out + ")";
}

/// "Salı 18:30, Perşembe 18:30, Pazar 11:00" in week order.
std::string schedule_text(const std::vector<sdk::ScheduleSlot>& schedule, std::string_view language) {
    std::vector<std::pair<int, std::string>> slots;
    for (const auto& s : schedule) {
        int order = 7;
        for (int i = 0; i < 7; ++i)
            if (s.day == weekday_key(kWeekOrder[i])) order = i;
        slots.emplace_back(order * 10000 + std::stoi("0" + s.time.substr(0, 2)) * 60,
                           weekday_name(s.day, language) + " " + s.time);
    }
    std::stable_sort(slots.begin(), slots.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& [_, t] : slots) out += (out.empty() ? "" : ", ") + t;
    return out;
}

std::string schedule_text(const sdk::Offering& o, std::string_view language) {
    return schedule_text(o.schedule, language);
}

/// "Hatha Yoga dersi", "Yin Yoga class", but "Mat Pilates Grup Dersi" and "Mat Pilates Group
/// Class" as they are: the class noun said once.
std::string with_class_noun(const std::string& name, std::string_view language) {
    const std::string noun = language == "en" ? "class" : "dersi";
    return text::fold(name).ends_with(noun) ? name : name + " " + noun;
}

class Answerer {
public:
    /// `folded`: what is asked about; `days_said`: the message the days are read from, the same
    /// one unless a follow-up ("peki perşembe?") borrows its subject from the message before.
    Answerer(sdk::HostServices& host, std::string_view language, std::string folded,
             std::string_view days_said)
        : host_(host), profile_(host.tenant()), language_(language), folded_(std::move(folded)) {
        words_ = text::tokens(folded_);
        for (const auto& r : profile_.resources)
            if (r.type == "person") people_.push_back(&r);
        today_ = today_in(profile_.timezone, host.clock().now());
        days_ = asked_days(text::tokens(days_said), days_said, today_);
        part_ = asked_day_part(words_, folded_);
        extreme_ = asked_extreme(words_, folded_);
        now_ = asks_now(words_, folded_);
        // A minute asked, also within a part of the day ("akşam 8'e kadar"), not a bound ("7'den sonra").
        if (!part_ || part_->said_en.starts_with("in the") || part_->said_en == "around noon")
            clock_ = asked_clock(words_, folded_, &until_);
        // "haftaya", "next week" without a day: the week as a whole.
        this_week_ = days_.empty() && any_phrase_of(days_said, {"bu hafta", "this week", "bu haftaki"});
        week_ahead_ =
            days_.empty() && any_phrase_of(days_said, {"next week", "gelecek hafta", "onumuzdeki hafta",
                                                       "haftaya", "sonraki hafta"});
    }

    /// The message names a day or a week ("peki perşembe?", "peki haftaya?").
    bool names_a_day() const { return !days_.empty() || week_ahead_; }
    /// The message names a day or a part of one: a follow-up can borrow the rest.
    bool names_a_moment() const { return names_a_day() || part_.has_value(); }

    std::optional<std::string> answer() {
        const bool en = language_ == "en";
        const bool staff =
            has_prefix_word(words_, {"egitmen", "hoca",        "instructor", "teacher",    "trainer",
                                     "staff",   "personel",    "calisan",    "stylist",    "ekib",
                                     "team",    "uzman",       "kuafor",     "berber",     "usta",
                                     "barber",  "hairdresser", "therapist",  "terapist",   "artist",
                                     "stilist", "colourist",   "colorist",   "estetisyen", "beautician"}) ||
            any_phrase_of(folded_, {"kac kisi calis", "kac kisisiniz", "how many people work"});
        // "which stylist", "hangi usta": a person asked for by their trade.
        const bool who = any_word(words_, {"kim", "kimler", "kimdir", "kimde", "kimin", "kimle", "kiminle",
                                           "kime", "who", "whom", "whose", "whos"}) ||
                         (staff && any_word(words_, {"hangi", "which"}));
        const Cues cues = detect_cues(folded_);
        // "boya kaç saat sürer" asks how long, not when.
        const bool when =
            !cues.duration &&
            (any_phrase_of(
                 folded_,
                 {"hangi gun",  "hangi gunler",    "ne zaman",      "kacta",      "saat kac",  "hangi saat",
                  "when",       "what time",       "which day",     "which days", "what days", "program",
                  "takvim",     "schedule",        "timetable",     "gunleri",    "saatleri",  "kac gun",
                  "what times", "hangi saatlerde", "hangi gunlerde"}) ||
             // a week asked about as a whole: its timetable
             any_phrase_of(folded_, {"next week", "this week", "haftaya", "gelecek hafta", "onumuzdeki hafta",
                                     "bu hafta"}) ||
             has_prefix_word(words_, {"saat", "program", "schedul"}));
        // "kaça kadar burada": until what time, not what it costs.
        const bool price = cues.price && !has_phrase(folded_, "kaca kadar");
        const bool hours_cue = [&] {
            auto topics = detect_business_topics(folded_, false);
            return std::find(topics.begin(), topics.end(), "hours") != topics.end();
        }();
        const bool class_word = has_prefix_word(
            words_, {"ders", "class", "seans", "session", "grup", "group", "timetable", "schedul"});
        const auto persons = named_people(people_, words_);
        const sdk::Resource* person = persons.empty() ? nullptr : persons.front();
        const bool moment = part_ || extreme_ != 0;
        // Most messages ask none of this: leave before reading the catalogue.
        if (!who && !staff && !when && days_.empty() && !person && !(class_word && moment) &&
            !(now_ && hours_cue) && !(part_ && hours_cue) && !(clock_ >= 0 && hours_cue))
            return std::nullopt;
        const auto offerings = host_.catalog().all();
        std::vector<std::string> said;
        const sdk::Offering* offering = named_offering(offerings, words_, said);
        // "yoga hangi günler": a word several classes are called by names them all, not only the
        // one it is an alias of.
        // "yoga hocası kim", "does Ayşe teach yoga": who gives each of the services that word names,
        // the private ones too.
        if (const auto sharing = offerings_sharing(offerings, said);
            sharing.size() > 1 && !price && (who || (persons.size() == 1 && !when && days_.empty()))) {
            if (persons.size() == 1) return gives_any_answer(*persons.front(), sharing, offerings);
            return givers_answer(sharing);
        }
        if (const auto shared = classes_sharing(offerings, said);
            shared.size() > 1 && !price && (who || when || !days_.empty())) {
            // "perşembe akşamı yoga var mı": the ones that meet then, not each one's timetable.
            if (!who && moment) return days_.empty() ? timetable(shared) : classes_on_days(offerings, shared);
            std::string out;
            for (const auto* o : shared)
                out +=
                    (out.empty() ? "" : " ") + (who ? provider_answer(*o, offerings) : schedule_answer(*o));
            return out;
        }

        // "yarına pasta yetişir mi", "can I get a cake for tomorrow?": what is made to order, by
        // the day asked or the earliest one.
        if (!price && !person && (!days_.empty() || ready_asked()))
            if (const auto made = made_to_order(offerings, offering); !made.empty())
                return ready_answer(made);
        if (person && !price) {
            // "Gamze hanım manikür yapıyor mu": yes or no, from the offering's provider. With a day
            // asked ("Mert hoca yarın masaj yapar mı"), the day is the answer when it is theirs.
            if (const auto* giver = offering ? resource(offering->provider) : nullptr;
                persons.size() == 1 && giver && giver->type == "person" && (days_.empty() || giver != person))
                return gives_answer(*person, *offering, *giver);
            // "Zeynep hoca hatha yoga veriyor mu": a group class has no person on record.
            if (persons.size() == 1 && offering && !offering->schedule.empty() && days_.empty() && !when)
                return gives_any_answer(*person, {offering}, offerings);
            std::string out;
            for (const auto* p : persons)
                out += (out.empty() ? "" : " ") + person_answer(*p, offerings, when, who && !staff);
            return out;
        }
        if (now_ && hours_cue && !offering && days_.empty()) return open_now_answer();
        if (now_ && (who || staff) && !offering && days_.empty() && !people_.empty()) return people_now();
        // "manikürü kim yapıyor, fiyatı ne": who gives it, beside the price the catalogue answers.
        // "erkek berberiniz var mı": the person who gives it.
        const auto* giver = offering ? resource(offering->provider) : nullptr;
        if (offering && (who || (!price && staff && !when &&
                                 (!offering->schedule.empty() || (giver && giver->type == "person")))))
            return provider_answer(*offering, offerings);
        // "who does coloring?", "pilates hocası kim": no one offering named, but words of several
        // services' names; who gives each.
        if (!offering && who && !price)
            if (const auto group = services_named(offerings); !group.empty()) return givers_answer(group);
        if (!people_.empty() &&
            ((who && staff) || (who && has_prefix_word(words_, {"calis", "work", "teach"})) ||
             // "pazar günü kim ders veriyor"
             (who && class_word && has_prefix_word(words_, {"veri", "veren"})) ||
             any_phrase_of(folded_, {"kimler calisiyor", "kimler var", "kim var", "kim calisiyor",
                                     "who s working", "whos working", "who s in", "whos in", "whos on",
                                     "who is on", "whos teaching", "who is in", "who works", "who is working",
                                     "who are your", "hangi hocalar", "egitmenleriniz", "egitmenler kim"}) ||
             (staff && (has_prefix_word(words_, {"hangi", "neler", "liste", "list"}) || !days_.empty())) ||
             // "kaç eğitmeniniz var", "kaç kişi çalışıyorsunuz", "how many staff": who they are
             (staff && any_word(words_, {"kac", "many"})) ||
             // "hocaların çalışma saatleri", "when do your stylists work": each one's days and hours
             (staff && when && !offering && !price) ||
             // "instructors?", "tell me about your instructors", "eğitmenleriniz hakkında bilgi"
             (staff && !offering && !price && days_.empty() &&
              (any_word(words_, {"about", "hakkinda", "tanitir", "tanitabilir", "introduce"}) ||
               std::count_if(words_.begin(), words_.end(),
                             [](const std::string& w) { return !is_stop_word(w); }) <= 1))))
            return people_answer(offerings, when, hours_cue);
        if (offering && !offering->schedule.empty() && !price && (when || !days_.empty()))
            return schedule_answer(*offering);
        // A private session has no timetable: when it can be had is when its person works.
        const bool booking =
            has_prefix_word(words_, {"randevu", "rezervasyon", "book", "appointment", "ayirt"});
        // ("when can I book a private session?" asks when, booking or not)
        if (offering && offering->schedule.empty() && !price && (!booking || when) &&
            (when || !days_.empty()))
            if (const auto* r = resource(offering->provider); r && r->type == "person")
                return provider_answer(*offering, offerings);
        // "pazar günü ders var mı, kaçta": a class word makes "kaçta" the classes' times, not the hours.
        if (!days_.empty() && (class_word || (moment && !hours_cue)) && !offering) {
            // "yarın kaçta açıksınız, ders var mı": the day's hours beside its classes.
            const bool both = class_word && hours_cue && scheduled(offerings);
            return (both ? hours_on_days() + " " : "") + classes_on_days(offerings, {});
        }
        // "pilates yarın var mı": the group classes a word of their name is said of, on that day.
        if (!days_.empty() && !offering && !price && !hours_cue)
            if (auto group = scheduled_named(offerings, false); !group.empty()) {
                std::string out;
                for (const auto* o : group) out += (out.empty() ? "" : " ") + schedule_answer(*o);
                return out;
            }
        if (!offering && !price && (when || moment) && days_.empty())
            if (auto group = scheduled_named(offerings, class_word); !group.empty()) return timetable(group);
        // "cumartesi 18:30'da açık mısınız", "are you open at 7pm tomorrow?": open at that minute.
        if (clock_ >= 0 && hours_cue && !offering && !class_word && !price && !person && !staff) {
            if (days_.empty()) days_ = asked_days({"bugun"}, "bugun", today_);
            return open_at_answer();
        }
        // One weekday by name is the hours answer's own ("Pazartesi günleri kapalıyız"); today,
        // tomorrow and the weekend are resolved here.
        const bool relative = days_.size() > 1 || (!days_.empty() && !days_.front().said_tr.empty());
        if (!days_.empty() && hours_cue && !offering && relative) return hours_on_days();
        // "akşam kaça kadar açıksınız": a part of a day and no day is today, then the week.
        if (days_.empty() && part_ && hours_cue && !offering && !class_word && !price) {
            days_ = asked_days({"bugun"}, "bugun", today_);
            std::string out = hours_on_days();
            if (const auto week = week_text(profile_.hours, language_); !week.empty())
                out += en ? " Our hours: " + week + "." : " Çalışma saatlerimiz: " + week + ".";
            return out;
        }
        (void)en;
        return std::nullopt;
    }

private:
    std::vector<const sdk::Offering*> given_by(const std::vector<sdk::Offering>& offerings,
                                               const std::string& id) const {
        std::vector<const sdk::Offering*> out;
        for (const auto& o : offerings)
            if (o.available && o.provider == id) out.push_back(&o);
        return out;
    }

    /// The services one word of the message is said of, in the names of two or more ("yoga":
    /// Hatha Yoga, Yin Yoga, Hamile Yogası), when that is the word `said` names an offering by.
    std::vector<const sdk::Offering*> offerings_sharing(const std::vector<sdk::Offering>& offerings,
                                                        const std::vector<std::string>& said) const {
        std::vector<const sdk::Offering*> out;
        if (said.size() != 1) return out;
        for (const auto& o : offerings) {
            if (!o.available || o.provider.empty()) continue;
            bool shares = phrase_in(name_tokens(o.name), said);
            for (const auto& [lang, t] : o.translations)
                shares = shares || phrase_in(name_tokens(t.name), said);
            if (shares) out.push_back(&o);
        }
        return out;
    }

    /// The services a word of the message names by a word of their names or aliases ("coloring":
    /// Full Hair Colour by its alias "hair color"; "pilates": the pilates services), when that word
    /// is no word about people, days or classes.
    std::vector<const sdk::Offering*> services_named(const std::vector<sdk::Offering>& offerings) const {
        std::vector<const sdk::Offering*> out;
        for (const auto& w : words_) {
            if (w.size() < 4 || is_stop_word(w) || is_verb_form(w) ||
                has_prefix_word({w}, {"ders", "class", "grup", "group", "seans", "session", "hoca", "egitmen",
                                      "instructor", "teach", "work", "calis", "kuafor", "usta", "stylist",
                                      "hizmet", "service", "does", "doing"}))
                continue;
            auto names = [&](const std::string& name) {
                for (const auto& n : name_tokens(name))
                    if (n.size() >= 4 && (w == n || (w.starts_with(n) && w.size() <= n.size() + 4)))
                        return true;
                return false;
            };
            for (const auto& o : offerings) {
                if (!o.available || o.provider.empty()) continue;
                bool named = names(o.name);
                for (const auto& a : o.aliases) named = named || names(a);
                for (const auto& [lang, t] : o.translations) {
                    named = named || names(t.name);
                    for (const auto& a : t.aliases) named = named || names(a);
                }
                if (named && std::find(out.begin(), out.end(), &o) == out.end()) out.push_back(&o);
            }
            if (!out.empty()) return out;
        }
        return out;
    }

    /// Who gives each of `group`: the services of one person together, then the group classes.
    std::string givers_answer(const std::vector<const sdk::Offering*>& group) const {
        const bool en = language_ == "en";
        std::vector<std::pair<const sdk::Resource*, std::vector<const sdk::Offering*>>> by_person;
        std::vector<const sdk::Offering*> others;
        for (const auto* o : group) {
            const auto* r = resource(o->provider);
            if (!r || r->type != "person") {
                others.push_back(o);
                continue;
            }
            auto it =
                std::find_if(by_person.begin(), by_person.end(), [&](const auto& p) { return p.first == r; });
            if (it == by_person.end())
                by_person.emplace_back(r, std::vector<const sdk::Offering*>{o});
            else
                it->second.push_back(o);
        }
        std::string out;
        for (const auto& [r, list] : by_person) {
            out += (out.empty() ? "" : " ") +
                   (en ? names_of(list) + (list.size() > 1 ? " are" : " is") + " given by " + r->name + "."
                       : names_of(list) + (list.size() > 1 ? " hizmetlerini " : " hizmetini ") + r->name +
                             " veriyor.");
            if (!days_.empty()) {
                for (const auto& d : days_) out += " " + person_on_day(*r, d);
            } else if (const auto week = week_text(r->hours, language_); !week.empty()) {
                out += en ? " " + r->name + " works " + week + "."
                          : " " + r->name + " şu günlerde çalışıyor: " + week + ".";
            }
        }
        for (const auto* o : others) out += (out.empty() ? "" : " ") + group_class_text(*o);
        return out;
    }

    /// "Hatha Yoga bir grup dersi, Salon A'da: Salı 18:30, ..." (no instructor on record).
    std::string group_class_text(const sdk::Offering& o) const {
        const bool en = language_ == "en";
        const auto* r = resource(o.provider);
        const std::string name = o.name_in(language_);
        const std::string where = r ? (en ? " in " + r->name : ", " + r->name + "'da") : "";
        if (o.schedule.empty())
            return en ? name + " is given" + where + "." : name + " hizmeti" + where + " veriliyor.";
        return en ? name + " is a group class" + where + ": " + schedule_text(o, language_) +
                        duration_and_capacity(o, language_) + "."
                  : name + " bir grup dersi" + where + ": " + schedule_text(o, language_) +
                        duration_and_capacity(o, language_) + ".";
    }

    /// "does Ayşe teach yoga": yes for the ones `asked` gives, else that they do not and who does.
    std::string gives_any_answer(const sdk::Resource& asked, const std::vector<const sdk::Offering*>& group,
                                 const std::vector<sdk::Offering>& offerings) const {
        const bool en = language_ == "en";
        std::vector<const sdk::Offering*> theirs, others;
        for (const auto* o : group) (o->provider == asked.id ? theirs : others).push_back(o);
        std::string out;
        if (!theirs.empty()) {
            out = en ? "Yes, " + asked.name + " gives " + names_of(theirs) + "."
                     : "Evet, " + names_of(theirs) + (theirs.size() > 1 ? " hizmetlerini " : " hizmetini ") +
                           asked.name + " veriyor.";
            if (const auto week = week_text(asked.hours, language_); !week.empty())
                out += en ? " " + asked.name + " works " + week + "."
                          : " " + asked.name + " şu günlerde çalışıyor: " + week + ".";
            return out;
        }
        const bool classes_only = std::all_of(group.begin(), group.end(), [&](const sdk::Offering* o) {
            const auto* r = resource(o->provider);
            return !r || r->type != "person";
        });
        if (classes_only)
            out = en ? "No instructor is on record for " + names_of(group) + "."
                     : names_of(group) + " için kayıtlı bir eğitmen yok.";
        else
            out = en ? asked.name + " does not give " + names_of(group) + "."
                     : asked.name + " " + names_of(group) +
                           (group.size() > 1 ? " hizmetlerini" : " hizmetini") + " vermiyor.";
        out += " " + givers_answer(group);
        if (const auto own = given_by(offerings, asked.id); !own.empty())
            out += en ? " " + asked.name + " gives " + names_of(own) + "."
                      : " " + asked.name + " şu hizmetleri veriyor: " + names_of(own) + ".";
        return out;
    }

    static bool joined_names_hold_and(const std::vector<const sdk::Offering*>& list) {
        return std::any_of(list.begin(), list.end(), [](const sdk::Offering* o) {
            return o->name.find(" ve ") != std::string::npos || o->name.find(" and ") != std::string::npos;
        });
    }

    std::string names_of(const std::vector<const sdk::Offering*>& list) const {
        std::string out;
        for (std::size_t i = 0; i < list.size(); ++i) {
            const bool last = i + 1 == list.size() && !joined_names_hold_and(list);
            if (i) out += last ? (language_ == "en" ? " and " : " ve ") : ", ";
            out += list[i]->name_in(language_);
        }
        return out;
    }

    /// "Mert Aksoy 11.01.2027–15.01.2027 arasında izinde." for time off still to come.
    std::string coming_time_off(const sdk::Resource& p) const {
        const std::string today = date_text(today_.days_since_epoch);
        std::string out;
        for (const auto& off : p.time_off) {
            if (off.to < today) continue;
            if (language_ == "en")
                out += " " + p.name + " is away from " + shown_date(off.from, language_) + " to " +
                       shown_date(off.to, language_) + ".";
            else
                out += " " + p.name + " " + shown_date(off.from, language_) + "–" +
                       shown_date(off.to, language_) + " tarihleri arasında izinde" +
                       (off.from > today ? " olacak." : ".");
        }
        return out;
    }

    std::string person_on_day(const sdk::Resource& p, const AskedDay& day) const {
        const bool en = language_ == "en";
        const std::string label = day_label(day, language_);
        if (const auto* off = off_on(p, day.date)) {
            (void)off;
            return en ? capitalized(label) + " " + p.name + " is away (time off); back after " +
                            shown_date(off->to, language_) + "."
                      : capitalized(label) + " " + p.name + " izinde; " + shown_date(off->to, language_) +
                            " sonrasında dönüyor.";
        }
        const std::string span = span_of(p.hours, weekday_key(day.weekday));
        if (span.empty())
            return en ? p.name + " does not work " + label + "."
                      : capitalized(label) + " " + p.name + " çalışmıyor.";
        return en ? p.name + " works " + label + ", " + span + "."
                  : capitalized(label) + " " + p.name + " " + span + " saatleri arasında burada.";
    }

    /// "Mert Aksoy izinde mi": yes with the dates, not now but soon, or no time off on record.
    std::string time_off_answer(const sdk::Resource& p) const {
        const bool en = language_ == "en";
        if (const auto* off = off_on(p, today_.days_since_epoch))
            return en ? "Yes, " + p.name + " is away from " + shown_date(off->from, language_) + " to " +
                            shown_date(off->to, language_) + "."
                      : "Evet, " + p.name + " " + shown_date(off->from, language_) + "–" +
                            shown_date(off->to, language_) + " tarihleri arasında izinde.";
        const std::string coming = coming_time_off(p);
        if (!coming.empty())
            return (en ? p.name + " is not away now." : p.name + " şu an izinde değil.") + coming;
        return en ? p.name + " has no time off on record." : p.name + " izinde değil; kayıtlı bir izni yok.";
    }

    /// "haftaya Mert hoca var mı": the person's working days of next week, time off taken out.
    /// "Mert hoca bu hafta var mı": the person's working days left this week, today included,
    /// time off taken out.
    std::string this_week_answer(const sdk::Resource& p) const {
        const bool en = language_ == "en";
        std::string in, away;
        const int left = (7 - today_.weekday) % 7;  // days after today up to Sunday
        for (int k = 0; k <= left; ++k) {
            const int weekday = (today_.weekday + k) % 7;
            const std::string span = span_of(p.hours, weekday_key(weekday));
            if (span.empty()) continue;
            std::string day = weekday_name(weekday, language_);
            if (k == 0) day += en ? " (today)" : " (bugün)";
            if (k == 1) day += en ? " (tomorrow)" : " (yarın)";
            if (off_on(p, today_.days_since_epoch + k))
                away += (away.empty() ? "" : ", ") + day;
            else
                in += (in.empty() ? "" : ", ") + day + " " + span;
        }
        std::string out;
        if (!in.empty())
            out = en ? "This week " + p.name + " works " + in + "."
                     : "Bu hafta " + p.name + " şu günlerde burada: " + in + ".";
        else
            out = en ? p.name + " has no more working days this week."
                     : "Bu hafta " + p.name + " için kalan çalışma günü yok.";
        if (!away.empty()) out += en ? " Away (time off): " + away + "." : " İzinde: " + away + ".";
        return out;
    }

    std::string week_ahead_answer(const sdk::Resource& p) const {
        const bool en = language_ == "en";
        const int to_monday = 7 - (today_.weekday + 6) % 7;
        std::string in, away;
        const sdk::Resource::TimeOff* off = nullptr;  // the time off the week falls in
        for (int k = 0; k < 7; ++k) {
            const long date = today_.days_since_epoch + to_monday + k;
            const int weekday = (k + 1) % 7;
            const std::string span = span_of(p.hours, weekday_key(weekday));
            if (span.empty()) continue;
            const std::string day = weekday_name(weekday, language_);
            if (const auto* o = off_on(p, date)) {
                off = off ? off : o;
                away += (away.empty() ? "" : ", ") + day;
            } else {
                in += (in.empty() ? "" : ", ") + day + " " + span;
            }
        }
        std::string out;
        if (!in.empty())
            out = en ? "Next week " + p.name + " works " + in + "."
                     : "Haftaya " + p.name + " şu günlerde burada: " + in + ".";
        else if (!off)
            out =
                en ? p.name + " has no working days on record." : p.name + " için kayıtlı çalışma günü yok.";
        if (off) {
            const std::string dates =
                shown_date(off->from, language_) + (en ? " to " : "–") + shown_date(off->to, language_);
            out += (out.empty() ? "" : " ") +
                   (en ? p.name + " is away next week on " + away + " (time off " + dates + ")."
                       : p.name + " haftaya " + away + " izinde (" + dates + ").");
        }
        return out;
    }

    std::string person_answer(const sdk::Resource& p, const std::vector<sdk::Offering>& offerings, bool when,
                              bool who_is) {
        const bool en = language_ == "en";
        std::string out;
        const bool off_asked = has_prefix_word(words_, {"izin", "tatil", "holiday", "vacation", "leave"}) ||
                               any_word(words_, {"off", "away"});
        if (week_ahead_) return week_ahead_answer(p);
        if (this_week_ && days_.empty()) return this_week_answer(p);
        if (off_asked && days_.empty()) {
            const std::string week = week_text(p.hours, language_);
            out = time_off_answer(p);
            if (!week.empty())
                out += en ? " Working days: " + week + "." : " Çalıştığı günler: " + week + ".";
            return out;
        }
        if (!days_.empty()) {
            for (const auto& d : days_) out += (out.empty() ? "" : " ") + person_on_day(p, d);
            const std::string week = week_text(p.hours, language_);
            if (!week.empty())
                out += en ? " Working days: " + week + "." : " Çalıştığı günler: " + week + ".";
            return out;
        }
        const auto services = given_by(offerings, p.id);
        const std::string week = week_text(p.hours, language_);
        if (en) {
            out = p.name + " works " + (week.empty() ? "by appointment" : week) + ".";
            if (!services.empty() && (who_is || !when))
                out += " " + p.name + " gives " + names_of(services) + ".";
        } else {
            out = week.empty() ? p.name + " randevuyla çalışıyor."
                               : p.name + " şu günlerde çalışıyor: " + week + ".";
            if (!services.empty() && (who_is || !when))
                out += " Verdiği hizmetler: " + names_of(services) + ".";
        }
        out += coming_time_off(p);
        return out;
    }

    /// "Gamze hanım manikür yapıyor mu": whether `asked` gives `o`, and when the one who does works.
    std::string gives_answer(const sdk::Resource& asked, const sdk::Offering& o,
                             const sdk::Resource& giver) const {
        const bool en = language_ == "en";
        const std::string& name = o.name_in(language_);
        std::string out;
        // "Yes" when only who gives it is asked; with a day or a week asked, the day answers.
        const bool yes = days_.empty() && !week_ahead_;
        if (&asked == &giver)
            out = en ? (yes ? "Yes, " : "") + name + " is given by " + giver.name + "."
                     : (yes ? "Evet, " : "") + name + " hizmetini " + giver.name + " veriyor.";
        else
            out = en ? name + " is given by " + giver.name + ", not " + asked.name + "."
                     : name + " hizmetini " + asked.name + " değil, " + giver.name + " veriyor.";
        if (week_ahead_) return out + " " + week_ahead_answer(giver);
        if (this_week_ && days_.empty()) return out + " " + this_week_answer(giver);
        if (!days_.empty()) {
            for (const auto& d : days_) out += " " + person_on_day(giver, d);
        } else if (auto week = week_text(giver.hours, language_); !week.empty()) {
            out += en ? " " + giver.name + " works " + week + "."
                      : " " + giver.name + " şu günlerde çalışıyor: " + week + ".";
            out += coming_time_off(giver);
        }
        return out;
    }

    /// "şu an açık mısınız": open or closed at this minute, and until when or when next open.
    std::string open_now_answer() const {
        const bool en = language_ == "en";
        const std::string today = span_of(profile_.hours, weekday_key(today_.weekday));
        const auto now = span_minutes(today);
        if (now && now->first <= today_.minute && today_.minute < now->second)
            return en ? "We are open now; today's hours are " + today + "."
                      : "Şu an açığız; bugün " + today + " saatleri arasında buradayız.";
        std::string out = en ? "We are closed right now." : "Şu an kapalıyız.";
        if (now)
            out += en ? " Today's hours: " + today + "." : " Bugünkü çalışma saatlerimiz: " + today + ".";
        for (int ahead = now && today_.minute < now->first ? 0 : 1; ahead < 8; ++ahead) {
            const int weekday = (today_.weekday + ahead) % 7;
            const std::string span = span_of(profile_.hours, weekday_key(weekday));
            if (span.empty()) continue;
            const std::string opens = span.substr(0, span.find('-'));
            const std::string day =
                ahead == 0   ? (en ? "today" : "bugün")
                : ahead == 1 ? (en ? "tomorrow (" : "yarın (") + weekday_name(weekday, language_) + ")"
                             : (en ? "on " : "") + weekday_name(weekday, language_);
            out +=
                en ? " We open " + day + " at " + opens + "." : " Tekrar açılış: " + day + " " + opens + ".";
            break;
        }
        return out;
    }

    /// "şu an kim var": the people working at this minute, time off taken out.
    std::string people_now() const {
        const bool en = language_ == "en";
        std::string list;
        for (const auto* p : people_) {
            const std::string span = span_of(p->hours, weekday_key(today_.weekday));
            const auto minutes = span_minutes(span);
            if (!minutes || today_.minute < minutes->first || today_.minute >= minutes->second ||
                off_on(*p, today_.days_since_epoch))
                continue;
            list += (list.empty() ? "" : ", ") + p->name + " (" + span + ")";
        }
        if (list.empty()) return en ? "Nobody is in right now." : "Şu an burada kimse yok.";
        return en ? "In right now: " + list + "." : "Şu an burada olanlar: " + list + ".";
    }

    const sdk::Resource* resource(const std::string& id) const {
        for (const auto& r : profile_.resources)
            if (r.id == id) return &r;
        return nullptr;
    }

    std::string provider_answer(const sdk::Offering& o, const std::vector<sdk::Offering>& offerings) {
        const bool en = language_ == "en";
        const auto* r = resource(o.provider);
        const std::string name = o.name_in(language_);
        if (r && r->type == "person") {
            std::string out =
                en ? name + " is given by " + r->name + "." : name + " hizmetini " + r->name + " veriyor.";
            if (!days_.empty()) {
                for (const auto& d : days_) out += " " + person_on_day(*r, d);
            } else if (auto week = week_text(r->hours, language_); !week.empty()) {
                out += en ? " " + r->name + " works " + week + "."
                          : " " + r->name + " şu günlerde çalışıyor: " + week + ".";
            }
            return out;
        }
        (void)offerings;
        if (!o.schedule.empty()) {
            std::string where = r ? (en ? " in " + r->name : ", " + r->name + "'da") : "";
            return en ? name + " is a group class" + where + ": " + schedule_text(o, language_) +
                            duration_and_capacity(o, language_) + "."
                      : name + " bir grup dersi" + where + ": " + schedule_text(o, language_) +
                            duration_and_capacity(o, language_) + ".";
        }
        return en ? "I don't have who gives " + name + " on record; please call us at " + profile_.phone + "."
                  : name + " hizmetini kimin verdiği bende kayıtlı değil; " + profile_.phone +
                        " numarasından sorabilirsiniz.";
    }

    /// "Cumartesi günü burada olanlar: ...", or that the business is closed that day; with
    /// `open_hours`, the day's opening hours first ("hafta sonu açık mısınız, kim çalışıyor").
    std::string people_on_day(const AskedDay& d, bool open_hours) const {
        const bool en = language_ == "en";
        const std::string label = day_label(d, language_);
        const std::string open = span_of(profile_.hours, weekday_key(d.weekday));
        if (open.empty()) return en ? "We are closed " + label + "." : capitalized(label) + " kapalıyız.";
        std::string list;
        for (const auto* p : people_) {
            const std::string span = span_of(p->hours, weekday_key(d.weekday));
            if (span.empty() || off_on(*p, d.date)) continue;
            // "salı akşamı kim var": those in during that part of the day.
            if (const auto m = span_minutes(span);
                part_ && m && (m->second <= part_->from || m->first >= part_->to))
                continue;
            list += (list.empty() ? "" : ", ") + p->name + " (" + span + ")";
        }
        if (en) {
            if (list.empty()) return "Nobody is working " + label + ".";
            return open_hours ? capitalized(label) + " we are open " + open + "; in: " + list + "."
                              : capitalized(label) + ": " + list + ".";
        }
        if (list.empty()) return capitalized(label) + " kimse çalışmıyor.";
        return capitalized(label) +
               (open_hours ? " " + open + " saatleri arasında açığız; burada olanlar: "
                           : " burada olanlar: ") +
               list + ".";
    }

    std::string people_answer(const std::vector<sdk::Offering>& offerings, bool with_hours, bool open_hours) {
        const bool en = language_ == "en";
        const bool instructors =
            has_prefix_word(words_, {"egitmen", "hoca", "instructor", "teacher", "trainer"});
        if (!days_.empty()) {
            std::string out;
            for (const auto& d : days_) out += (out.empty() ? "" : " ") + people_on_day(d, open_hours);
            return out;
        }
        std::string out = en ? (instructors ? "Our instructors: " : "Our team: ")
                             : (instructors ? "Eğitmenlerimiz: " : "Ekibimiz: ");
        for (std::size_t i = 0; i < people_.size(); ++i) {
            const auto* p = people_[i];
            // each one's week has its own "; ": people apart by sentences then
            out += (i ? (with_hours ? ". " : "; ") : "") + p->name;
            auto services = given_by(offerings, p->id);
            if (with_hours) {
                if (auto week = week_text(p->hours, language_); !week.empty()) out += ": " + week;
            } else if (!services.empty()) {
                out += " (" + names_of(services) + ")";
            }
        }
        out += ".";
        if (!with_hours)
            out += en ? " Ask me about anyone's days and hours."
                      : " Dilerseniz birinin çalıştığı gün ve saatleri de söyleyebilirim.";
        return out;
    }

    std::string schedule_answer(const sdk::Offering& o) {
        const bool en = language_ == "en";
        const std::string name = o.name_in(language_);
        const std::string all = schedule_text(o, language_) + duration_and_capacity(o, language_);
        if (days_.empty()) return en ? name + " meets " + all + "." : name + " ders günleri: " + all + ".";
        std::string out;
        bool any_missing = false;
        for (const auto& d : days_) {
            std::string times;
            for (const auto& t : meetings({&o}, d.weekday, true))
                times += (times.empty() ? "" : ", ") + t.first;
            const std::string label = moment_label(d);
            if (times.empty()) {
                any_missing = true;
                out += (out.empty() ? "" : " ") +
                       (en ? "There is no " + with_class_noun(name, language_) + " " + label + "."
                           : capitalized(label) + " " + with_class_noun(name, language_) + " yok.");
            } else {
                out += (out.empty() ? "" : " ") +
                       (en ? capitalized(label) + " " + name + " is at " + times + "."
                           : capitalized(label) + " " + with_class_noun(name, language_) + " saat " + times +
                                 ".");
            }
        }
        if (any_missing || o.duration_min || o.capacity)
            out += en ? " Its days: " + all + "." : " Ders günleri: " + all + ".";
        return out;
    }

    /// Group classes whose names hold one of the customer's words ("pilates dersleri hangi
    /// günler"), or all of them when the message only says "dersler" ("ders programınız").
    std::vector<const sdk::Offering*> scheduled_named(const std::vector<sdk::Offering>& offerings,
                                                      bool class_word) const {
        std::vector<const sdk::Offering*> named, all;
        for (const auto& o : offerings) {
            if (!o.available || o.schedule.empty()) continue;
            all.push_back(&o);
            const auto name = text::tokens(o.name_in(language_));
            const bool hit = std::any_of(words_.begin(), words_.end(), [&](const std::string& w) {
                if (w.size() < 4 || is_stop_word(w) ||
                    has_prefix_word({w}, {"ders", "class", "grup", "group"}))
                    return false;
                return std::any_of(name.begin(), name.end(), [&](const std::string& n) {
                    return n.size() >= 4 && (w.starts_with(n) || n.starts_with(w));
                });
            });
            if (hit) named.push_back(&o);
        }
        if (!named.empty()) return named;
        return class_word ? all : std::vector<const sdk::Offering*>{};
    }

    static bool scheduled(const std::vector<sdk::Offering>& offerings) {
        return std::any_of(offerings.begin(), offerings.end(),
                           [](const auto& o) { return o.available && !o.schedule.empty(); });
    }

    /// "Cumartesi öğleden sonra", "tomorrow (Monday) in the morning": the day with the part of it
    /// asked, unless the day already says it ("bu akşam").
    std::string moment_label(const AskedDay& d) const {
        std::string label = day_label(d, language_);
        if (!part_ || d.said_tr == "bu akşam") return label;
        if (language_ == "en") return label + " " + part_->said_en;
        // "Pazartesi akşamı", but "yarın (Pazartesi) sabah"
        if (d.said_tr.empty()) return weekday_name(d.weekday, language_) + " " + part_->of_day_tr;
        return label + " " + part_->said_tr;
    }

    /// The times and names of `classes` meeting on `weekday`, by time; with `in_part`, only
    /// those within the part of the day asked.
    std::vector<std::pair<std::string, std::string>> meetings(
        const std::vector<const sdk::Offering*>& classes, int weekday, bool in_part) const {
        std::vector<std::pair<std::string, std::string>> on;
        for (const auto* o : classes)
            for (const auto& s : o->schedule)
                if (s.day == weekday_key(weekday) && (!in_part || !part_ || part_->holds(s.time)))
                    on.emplace_back(s.time, o->name_in(language_));
        std::sort(on.begin(), on.end());
        return on;
    }

    static std::string listed(const std::vector<std::pair<std::string, std::string>>& on) {
        std::string out;
        for (const auto& [time, name] : on) out += (out.empty() ? "" : ", ") + name + " " + time;
        return out;
    }

    /// Each class's week, or with a part of the day or "en erken" asked, only the meetings then.
    std::string timetable(const std::vector<const sdk::Offering*>& group) const {
        const bool en = language_ == "en";
        std::string out;
        if (!part_ && !extreme_) {
            for (const auto* o : group)
                out += (out.empty() ? "" : " ") + o->name_in(language_) + ": " +
                       schedule_text(*o, language_) + duration_and_capacity(*o, language_) + ".";
            return out;
        }
        // The meetings asked about: within the part of the day, or the earliest or latest time.
        std::vector<std::pair<const sdk::Offering*, const sdk::ScheduleSlot*>> slots;
        for (const auto* o : group)
            for (const auto& s : o->schedule)
                if (!part_ || part_->holds(s.time)) slots.emplace_back(o, &s);
        if (extreme_ && !slots.empty()) {
            auto by_time = [](const auto& a, const auto& b) { return a.second->time < b.second->time; };
            const auto pick = *(extreme_ < 0 ? std::min_element(slots.begin(), slots.end(), by_time)
                                             : std::max_element(slots.begin(), slots.end(), by_time));
            std::erase_if(slots, [&](const auto& s) { return s.second->time != pick.second->time; });
        }
        if (slots.empty()) {
            const std::string said = part_ ? (en ? part_->said_en : part_->said_tr) : "";
            return en ? "There are no group classes " + said + ". Our timetable: " + timetable_of(group)
                      : capitalized(said) + " grup dersi yok. Ders programımız: " + timetable_of(group);
        }
        for (const auto* o : group) {
            std::vector<sdk::ScheduleSlot> its;
            for (const auto& [of, slot] : slots)
                if (of == o) its.push_back(*slot);
            if (!its.empty())
                out +=
                    (out.empty() ? "" : "; ") + o->name_in(language_) + " " + schedule_text(its, language_);
        }
        if (extreme_)
            return en ? (extreme_ < 0 ? "The earliest class: " : "The latest class: ") + out + "."
                      : (extreme_ < 0 ? "En erken ders: " : "En geç ders: ") + out + ".";
        return en ? "Group classes " + part_->said_en + ": " + out + "."
                  : "Grup dersleri (" + part_->said_tr + "): " + out + ".";
    }

    /// "Hatha Yoga ya da Yin Yoga", "Hatha Yoga or Yin Yoga".
    static std::string join_or(const std::vector<std::string>& names, bool en) {
        std::string out;
        for (std::size_t i = 0; i < names.size(); ++i)
            out += (i == 0 ? "" : i + 1 == names.size() ? (en ? " or " : " ya da ") : ", ") + names[i];
        return out;
    }

    /// "Hatha Yoga: Salı 18:30, ...": each class's whole week.
    std::string timetable_of(const std::vector<const sdk::Offering*>& group) const {
        std::string out;
        for (const auto* o : group)
            out +=
                (out.empty() ? "" : " ") + o->name_in(language_) + ": " + schedule_text(*o, language_) + ".";
        return out;
    }

    /// The group classes that meet on each asked day, within the part of the day asked, or only
    /// the first or last; `group` narrows them ("yoga") when not empty.
    std::string classes_on_days(const std::vector<sdk::Offering>& offerings,
                                std::vector<const sdk::Offering*> group) {
        const bool en = language_ == "en";
        // Asked for some classes ("yoga"): a day without them may still have others.
        const bool narrowed = !group.empty();
        std::vector<const sdk::Offering*> all;
        for (const auto& o : offerings)
            if (o.available && !o.schedule.empty()) all.push_back(&o);
        if (group.empty()) group = all;
        if (group.empty()) return hours_on_days();
        std::string out;
        for (const auto& d : days_) {
            auto on = meetings(group, d.weekday, true);
            if (extreme_ && !on.empty()) on = {extreme_ < 0 ? on.front() : on.back()};
            const std::string label = moment_label(d);
            std::string line;
            if (on.empty() && narrowed) {
                // "bu akşam yoga var mı": none of those, but the classes that do meet then.
                std::vector<std::string> names;
                names.reserve(group.size());
                for (const auto* o : group) names.push_back(o->name_in(language_));
                line = en ? "There is no " + join_or(names, en) + " " + label + "."
                          : capitalized(label) + " " + join_or(names, en) + " yok.";
                if (const auto others = meetings(all, d.weekday, true); !others.empty())
                    line += (en ? " Group classes then: " : " O saatlerdeki grup dersleri: ") +
                            listed(others) + ".";
            } else if (on.empty()) {
                line = en ? "There are no group classes " + label + "."
                          : capitalized(label) + " grup dersi yok.";
                // Part of one day asked: the classes of the rest of it.
                if (const auto whole = meetings(group, d.weekday, false);
                    part_ && days_.size() == 1 && !whole.empty())
                    line += (en ? " That day: " : " O gün: ") + listed(whole) + ".";
            } else if (extreme_) {
                line = en ? std::string(extreme_ < 0 ? "The first class " : "The last class ") + label +
                                ": " + listed(on) + "."
                          : capitalized(label) + (extreme_ < 0 ? " ilk ders: " : " son ders: ") + listed(on) +
                                ".";
            } else {
                line = en ? "Group classes " + label + ": " + listed(on) + "."
                          : capitalized(label) + " grup dersleri: " + listed(on) + ".";
            }
            out += (out.empty() ? "" : " ") + line;
        }
        return out;
    }

    /// Hours an offering needs to be made ("hazirlik_saat": 48), from an attribute whose key says
    /// preparation; 0 when it is sold as it is.
    static int preparation_hours(const sdk::Offering& o) {
        for (const auto& [key, value] : o.attributes) {
            const std::string_view k = key;
            if (!(k.starts_with("hazirlik") || k.starts_with("preparation") || k.starts_with("lead_time")))
                continue;
            if (value.is_int64()) return static_cast<int>(value.get_int64());
            if (value.is_double()) return static_cast<int>(value.get_double());
        }
        return 0;
    }

    /// "ne zaman hazır olur", "when will it be ready".
    bool ready_asked() const {
        return any_phrase_of(folded_, {"ne zaman hazir", "hazir olur", "yetisir", "yetistir",
                                       "when will it be ready", "how soon", "en erken ne zaman"});
    }

    /// The offerings made to order that the message names: the one named, or those a word of
    /// their names is said of ("pasta").
    std::vector<const sdk::Offering*> made_to_order(const std::vector<sdk::Offering>& offerings,
                                                    const sdk::Offering* named) const {
        std::vector<const sdk::Offering*> out;
        if (named) {
            if (preparation_hours(*named) > 0) out.push_back(named);
            return out;
        }
        for (const auto& o : offerings) {
            if (!o.available || preparation_hours(o) <= 0) continue;
            bool hit = false;
            for (const auto& n : name_tokens(o.name_in(language_)))
                for (const auto& w : words_)
                    hit = hit || (n.size() >= 4 && w.size() >= 4 && !is_stop_word(w) &&
                                  (w.starts_with(n) || (n.starts_with(w) && w.size() + 1 >= n.size())));
            if (hit) out.push_back(&o);
        }
        return out;
    }

    /// The first day a made-to-order offering can be had: its hours of preparation counted in
    /// whole days on which the business is open (a closed day makes nothing), from today.
    AskedDay earliest_ready(int hours) const {
        const int days = (hours + 23) / 24;
        int counted = 0, ahead = 0;
        while (counted < days && ahead < 60) {
            ++ahead;
            if (!span_of(profile_.hours, weekday_key((today_.weekday + ahead) % 7)).empty() ||
                profile_.hours.empty())
                ++counted;
        }
        AskedDay d;
        d.ahead = ahead;
        d.weekday = (today_.weekday + ahead) % 7;
        d.date = today_.days_since_epoch + ahead;
        d.said_tr = date_label(d.date, "tr");
        d.said_en = "on " + date_label(d.date, "en");
        return d;
    }

    static std::string date_label(long date, std::string_view language) {
        static constexpr std::array<const char*, 12> kTr{"Ocak",  "Şubat",   "Mart",   "Nisan",
                                                         "Mayıs", "Haziran", "Temmuz", "Ağustos",
                                                         "Eylül", "Ekim",    "Kasım",  "Aralık"};
        static constexpr std::array<const char*, 12> kEn{"January",   "February", "March",    "April",
                                                         "May",       "June",     "July",     "August",
                                                         "September", "October",  "November", "December"};
        const std::string iso = date_text(date);  // "2026-12-04"
        const int month = std::stoi(iso.substr(5, 2));
        const std::string day = std::to_string(std::stoi(iso.substr(8, 2)));
        return language == "en" ? std::string(kEn[static_cast<std::size_t>(month - 1)]) + " " + day
                                : day + " " + kTr[static_cast<std::size_t>(month - 1)];
    }

    /// "Sipariş pastaları en az 48 saat önceden hazırlanır; yarın (Perşembe) için yetişmez. En erken
    /// 4 Aralık (Cuma) teslim alabilirsiniz."
    std::string ready_answer(const std::vector<const sdk::Offering*>& made) const {
        const bool en = language_ == "en";
        int hours = 0;
        for (const auto* o : made) hours = std::max(hours, preparation_hours(*o));
        const AskedDay first = earliest_ready(hours);
        std::string names;
        const bool one_category = std::all_of(made.begin(), made.end(), [&](const sdk::Offering* o) {
            return !o->category.empty() && o->category == made.front()->category;
        });
        if (made.size() > 1 && one_category && !en) {
            names = made.front()->category + " ürünlerimiz";
        } else {
            for (std::size_t i = 0; i < made.size() && i < 3; ++i)
                names += (i ? ", " : "") + made[i]->name_in(language_);
            if (made.size() > 3) names += en ? " and others" : " ve diğerleri";
        }
        std::string out =
            en ? names + (made.size() > 1 ? " are" : " is") + " made to order, at least " +
                     std::to_string(hours) + " hours ahead."
               : names + " siparişle, en az " + std::to_string(hours) + " saat önceden hazırlanır.";
        for (const auto& d : days_) {
            // "bugün sipariş versem ne zaman hazır olur": today is when it is ordered
            if (d.ahead == 0 && ready_asked()) continue;
            const std::string label = day_label(d, language_);
            const bool open = !span_of(profile_.hours, weekday_key(d.weekday)).empty();
            if (d.date >= first.date && open)
                out +=
                    en ? " Yes, it can be ready " + label + "." : " " + capitalized(label) + " için yetişir.";
            else if (!open)
                out += en ? " We are closed " + label + "." : " " + capitalized(label) + " kapalıyız.";
            else
                out +=
                    en ? " It cannot be ready " + label + "." : " " + capitalized(label) + " için yetişmez.";
        }
        out += en ? " The earliest is " + day_label(first, language_) + "."
                  : " En erken " + day_label(first, language_) + " hazır olur.";
        return out;
    }

    /// Whether the business is open at the asked minute of each asked day, with that day's hours.
    std::string open_at_answer() const {
        const bool en = language_ == "en";
        const std::string at_tr = clock_locative(clock_);
        const std::string at = at_tr.substr(0, 5);
        // "until 8": open through the minute before it.
        const int minute = until_ ? std::max(0, clock_ - 1) : clock_;
        std::string out;
        for (const auto& d : days_) {
            const std::string label = day_label(d, language_);
            const std::string span = span_of(profile_.hours, weekday_key(d.weekday));
            const auto minutes = span_minutes(span);
            std::string line;
            if (!minutes)
                line = en ? "No, we are closed " + label + "." : "Hayır, " + label + " kapalıyız.";
            else if (minutes->first <= minute && minute < minutes->second)
                line = en ? "Yes, " + label + " we are open " + (until_ ? "until " : "at ") + at + " (" +
                                span + ")."
                          : "Evet, " + label + " " +
                                (until_ ? span + " saatleri arasında açığız."
                                        : "saat " + at_tr + " açığız (" + span + ").");
            else
                line = en ? "No, " + label + " we are not open " + (until_ ? "until " : "at ") + at +
                                "; our hours then are " + span + "."
                          : "Hayır, " + label + " " + (until_ ? at + " saatine kadar" : "saat " + at_tr) +
                                " açık değiliz; o gün " + span + " saatleri arasında açığız.";
            out += (out.empty() ? "" : " ") + line;
        }
        return out;
    }

    /// Each asked day's opening hours; a run of three or more weekdays with the same hours
    /// ("hafta içi") said once: "Pazartesi–Cuma 07:00-21:00 saatleri arasında açığız."
    std::string hours_on_days() {
        const bool en = language_ == "en";
        std::string out;
        for (std::size_t i = 0; i < days_.size();) {
            const auto& d = days_[i];
            const std::string span = span_of(profile_.hours, weekday_key(d.weekday));
            std::size_t j = i;
            while (j + 1 < days_.size() && d.said_tr.empty() && days_[j + 1].said_tr.empty() &&
                   days_[j + 1].weekday == (days_[j].weekday + 1) % 7 &&
                   span_of(profile_.hours, weekday_key(days_[j + 1].weekday)) == span)
                ++j;
            if (j < i + 2) j = i;
            const std::string label = j > i ? (en ? "from " : "") + weekday_name(d.weekday, language_) + "–" +
                                                  weekday_name(days_[j].weekday, language_)
                                            : day_label(d, language_);
            std::string line;
            if (span.empty())
                line = en ? "We are closed " + label + "." : capitalized(label) + " kapalıyız.";
            else
                line = en ? capitalized(label) + " we are open " + span + "."
                          : capitalized(label) + " " + span + " saatleri arasında açığız.";
            out += (out.empty() ? "" : " ") + line;
            i = j + 1;
        }
        return out;
    }

    sdk::HostServices& host_;
    const sdk::TenantProfile& profile_;
    std::string language_;
    std::string folded_;
    std::vector<std::string> words_;
    std::vector<const sdk::Resource*> people_;
    Today today_;
    std::vector<AskedDay> days_;
    std::optional<DayPart> part_;
    int extreme_ = 0;
    bool now_ = false;
    int clock_ = -1;      ///< a minute of the day asked about ("saat 9'da"), or -1
    bool until_ = false;  ///< asked as "until then" ("8'e kadar")
    bool week_ahead_ = false;
    bool this_week_ = false;  ///< "bu hafta", "this week": the days left of this one
};

}  // namespace

std::optional<std::string> answer_people_and_times(const sdk::ProviderRequest& request,
                                                   sdk::HostServices& host, std::string_view language) {
    const sdk::Message* last = nullptr;
    for (const auto& m : request.messages)
        if (m.role == sdk::Role::user) last = &m;
    if (!last || last->text.size() > 2000) return std::nullopt;
    const std::string folded = text::fold(last->text);
    Answerer now(host, language, folded, folded);
    if (auto out = now.answer()) return out;
    // "peki perşembe?", "what about Saturday?": a day alone asks the previous question again for
    // that day; the subject comes from the customer's message before.
    if (!now.names_a_moment() || text::tokens(folded).size() > 4) return std::nullopt;
    const sdk::Message* before = nullptr;
    for (const auto& m : request.messages) {
        if (&m == last) break;
        if (m.role == sdk::Role::user) before = &m;
    }
    if (!before || before->text.size() > 2000) return std::nullopt;
    const std::string subject = text::fold(before->text) + " " + folded;
    // A part of a day alone ("peki akşam?") keeps the day asked before.
    return Answerer(host, language, subject, now.names_a_day() ? folded : subject).answer();
}

std::string closed_day_note(const sdk::ProviderRequest& request, sdk::HostServices& host,
                            std::string_view language) {
    const sdk::Message* last = nullptr;
    for (const auto& m : request.messages)
        if (m.role == sdk::Role::user) last = &m;
    if (!last || last->text.size() > 2000) return {};
    const auto& profile = host.tenant();
    if (profile.hours.empty()) return {};
    const std::string folded = text::fold(last->text);
    const auto days =
        asked_days(text::tokens(folded), folded, today_in(profile.timezone, host.clock().now()));
    if (days.size() != 1 || !span_of(profile.hours, weekday_key(days.front().weekday)).empty()) return {};
    const std::string label = day_label(days.front(), language);
    return language == "en" ? "We are closed " + label + "." : capitalized(label) + " kapalıyız.";
}

}  // namespace tezgah::plugins::local
