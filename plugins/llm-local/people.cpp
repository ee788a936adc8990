// People and times, answered from the tenant's resources (hours, time off), its offerings
// (provider, schedule, capacity, duration) and its opening hours: "eğitmenleriniz kim", "Ayşe hoca
// hangi günler var", "reformer dersini kim veriyor", "hatha yoga hangi günler", "yarın kaçta
// açıksınız", "what classes are on Saturday".
#include "people.hpp"

#include <algorithm>
#include <map>

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

/// Folded words of `phrase` matched in order at some position of `words`, each customer word
/// starting with the phrase's word (a suffix allowed: "yogası", "reformer'ı").
bool phrase_in(const std::vector<std::string>& words, const std::vector<std::string>& phrase) {
    if (phrase.empty() || phrase.size() > words.size()) return false;
    for (std::size_t start = 0; start + phrase.size() <= words.size(); ++start) {
        bool all = true;
        for (std::size_t k = 0; k < phrase.size() && all; ++k) {
            const auto& w = words[start + k];
            const auto& p = phrase[k];
            all = w == p || (p.size() >= 4 && w.starts_with(p) && w.size() <= p.size() + 5);
        }
        if (all) return true;
    }
    return false;
}

/// The offering the message names best (longest name or alias matched), among available ones.
/// `said` receives the name or alias matched.
const sdk::Offering* named_offering(const std::vector<sdk::Offering>& offerings,
                                    const std::vector<std::string>& words, std::vector<std::string>& said) {
    const sdk::Offering* best = nullptr;
    std::size_t best_length = 0;
    auto consider = [&](const sdk::Offering& o, const std::string& name) {
        auto phrase = text::tokens(name);
        std::size_t length = 0;
        for (const auto& p : phrase) length += p.size();
        if (length > best_length && phrase_in(words, phrase)) {
            best = &o;
            best_length = length;
            said = std::move(phrase);
        }
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
        for (const auto& w : text::tokens(name))
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
        bool shares = phrase_in(text::tokens(o.name), said);
        for (const auto& [lang, t] : o.translations) shares = shares || phrase_in(text::tokens(t.name), said);
        if (shares) out.push_back(&o);
    }
    return out;
}

/// The person the message names by first name, full name or surname.
const sdk::Resource* named_person(const std::vector<const sdk::Resource*>& people,
                                  const std::vector<std::string>& words) {
    for (const auto* p : people) {
        const auto names = text::tokens(p->name);
        for (const auto& n : names) {
            if (n.size() < 3) continue;
            for (const auto& w : words)
                if (w == n || (w.starts_with(n) && w.size() <= n.size() + 5 && n.size() >= 4)) return p;
        }
    }
    return nullptr;
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
std::string schedule_text(const sdk::Offering& o, std::string_view language) {
    std::vector<std::pair<int, std::string>> slots;
    for (const auto& s : o.schedule) {
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

/// The times of `o` on weekday `weekday`, "18:30" or "10:00, 19:00"; empty when it does not meet.
std::string times_on(const sdk::Offering& o, int weekday) {
    std::string out;
    for (const auto& s : o.schedule)
        if (s.day == weekday_key(weekday)) out += (out.empty() ? "" : ", ") + s.time;
    return out;
}

class Answerer {
public:
    Answerer(sdk::HostServices& host, std::string_view language, std::string folded)
        : host_(host), profile_(host.tenant()), language_(language), folded_(std::move(folded)) {
        words_ = text::tokens(folded_);
        for (const auto& r : profile_.resources)
            if (r.type == "person") people_.push_back(&r);
        today_ = today_in(profile_.timezone, host.clock().now());
        days_ = asked_days(words_, folded_, today_);
    }

    std::optional<std::string> answer() {
        const bool en = language_ == "en";
        const bool staff =
            has_prefix_word(words_, {"egitmen", "hoca", "instructor", "teacher", "trainer", "staff",
                                     "personel", "calisan", "stylist", "ekib", "team", "uzman", "kuafor",
                                     "berber", "usta", "barber", "hairdresser", "therapist", "terapist"});
        // "which stylist", "hangi usta": a person asked for by their trade.
        const bool who =
            any_word(words_, {"kim", "kimler", "kimdir", "kimde", "kimin", "who", "whom", "whose"}) ||
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
        const bool price = cues.price;
        const bool hours_cue = [&] {
            auto topics = detect_business_topics(folded_, false);
            return std::find(topics.begin(), topics.end(), "hours") != topics.end();
        }();
        const bool class_word =
            has_prefix_word(words_, {"ders", "class", "seans", "session", "grup", "group"});
        const sdk::Resource* person = people_.empty() ? nullptr : named_person(people_, words_);
        // Most messages ask none of this: leave before reading the catalogue.
        if (!who && !staff && !when && days_.empty() && !person) return std::nullopt;
        const auto offerings = host_.catalog().all();
        std::vector<std::string> said;
        const sdk::Offering* offering = named_offering(offerings, words_, said);
        // "yoga hangi günler": a word several classes are called by names them all, not only the
        // one it is an alias of.
        if (const auto shared = classes_sharing(offerings, said);
            shared.size() > 1 && !price && (who || when || !days_.empty())) {
            std::string out;
            for (const auto* o : shared)
                out +=
                    (out.empty() ? "" : " ") + (who ? provider_answer(*o, offerings) : schedule_answer(*o));
            return out;
        }

        if (person && !price) return person_answer(*person, offerings, when, who && !staff);
        // "manikürü kim yapıyor, fiyatı ne": who gives it, beside the price the catalogue answers.
        if (offering && (who || (!price && staff && !offering->schedule.empty() && !when)))
            return provider_answer(*offering, offerings);
        if (!people_.empty() &&
            ((who && staff) ||
             any_phrase_of(folded_,
                           {"kimler calisiyor", "kimler var", "kim var", "kim calisiyor", "who s working",
                            "whos working", "who s in", "who is in", "who works", "who is working",
                            "who are your", "hangi hocalar", "egitmenleriniz", "egitmenler kim"}) ||
             (staff && (has_prefix_word(words_, {"hangi", "neler", "liste", "list"}) || !days_.empty()))))
            return people_answer(offerings, when);
        if (offering && !offering->schedule.empty() && !price && (when || !days_.empty()))
            return schedule_answer(*offering);
        // A private session has no timetable: when it can be had is when its person works.
        const bool booking =
            has_prefix_word(words_, {"randevu", "rezervasyon", "book", "appointment", "ayirt"});
        if (offering && offering->schedule.empty() && !price && !booking && (when || !days_.empty()))
            if (const auto* r = resource(offering->provider); r && r->type == "person")
                return provider_answer(*offering, offerings);
        if (!days_.empty() && class_word && !offering && !hours_cue) return classes_on_days(offerings);
        if (!offering && !price && when && days_.empty())
            if (auto group = scheduled_named(offerings, class_word); !group.empty()) return timetable(group);
        // One weekday by name is the hours answer's own ("Pazartesi günleri kapalıyız"); today,
        // tomorrow and the weekend are resolved here.
        const bool relative = days_.size() > 1 || (!days_.empty() && !days_.front().said_tr.empty());
        if (!days_.empty() && hours_cue && !offering && relative) return hours_on_days();
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

    std::string person_answer(const sdk::Resource& p, const std::vector<sdk::Offering>& offerings, bool when,
                              bool who_is) {
        const bool en = language_ == "en";
        std::string out;
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

    std::string people_answer(const std::vector<sdk::Offering>& offerings, bool with_hours) {
        const bool en = language_ == "en";
        const bool instructors =
            has_prefix_word(words_, {"egitmen", "hoca", "instructor", "teacher", "trainer"});
        std::vector<const sdk::Resource*> shown;
        std::string lead;
        if (!days_.empty()) {
            std::string out;
            for (const auto& d : days_) {
                std::vector<std::string> in;
                for (const auto* p : people_) {
                    auto span = span_of(p->hours, weekday_key(d.weekday));
                    if (!span.empty() && !off_on(*p, d.date)) in.push_back(p->name + " (" + span + ")");
                }
                std::string list;
                for (std::size_t i = 0; i < in.size(); ++i) list += (i ? ", " : "") + in[i];
                if (en)
                    out += (out.empty() ? "" : " ") +
                           (in.empty() ? "Nobody is on " + day_label(d, language_) + "."
                                       : capitalized(day_label(d, language_)) + ": " + list + ".");
                else
                    out += (out.empty() ? "" : " ") +
                           (in.empty()
                                ? capitalized(day_label(d, language_)) + " kimse çalışmıyor."
                                : capitalized(day_label(d, language_)) + " burada olanlar: " + list + ".");
            }
            return out;
        }
        std::string out = en ? (instructors ? "Our instructors: " : "Our team: ")
                             : (instructors ? "Eğitmenlerimiz: " : "Ekibimiz: ");
        for (std::size_t i = 0; i < people_.size(); ++i) {
            const auto* p = people_[i];
            out += (i ? "; " : "") + p->name;
            auto services = given_by(offerings, p->id);
            if (with_hours) {
                if (auto week = week_text(p->hours, language_); !week.empty()) out += ": " + week;
            } else if (!services.empty()) {
                out += " (" + names_of(services) + ")";
            }
        }
        out += ".";
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
            const std::string times = times_on(o, d.weekday);
            const std::string label = day_label(d, language_);
            if (times.empty()) {
                any_missing = true;
                out += (out.empty() ? "" : " ") + (en ? "There is no " + name + " class " + label + "."
                                                      : capitalized(label) + " " + name + " dersi yok.");
            } else {
                out += (out.empty() ? "" : " ") +
                       (en ? capitalized(label) + " " + name + " is at " + times + "."
                           : capitalized(label) + " " + name + " dersi saat " + times + ".");
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

    std::string timetable(const std::vector<const sdk::Offering*>& group) const {
        std::string out;
        for (const auto* o : group)
            out += (out.empty() ? "" : " ") + o->name_in(language_) + ": " + schedule_text(*o, language_) +
                   duration_and_capacity(*o, language_) + ".";
        return out;
    }

    std::string classes_on_days(const std::vector<sdk::Offering>& offerings) {
        const bool en = language_ == "en";
        bool scheduled = std::any_of(offerings.begin(), offerings.end(),
                                     [](const auto& o) { return o.available && !o.schedule.empty(); });
        if (!scheduled) return hours_on_days();
        std::string out;
        for (const auto& d : days_) {
            std::vector<std::pair<std::string, std::string>> on;
            for (const auto& o : offerings)
                if (o.available)
                    if (auto t = times_on(o, d.weekday); !t.empty()) on.emplace_back(t, o.name_in(language_));
            std::sort(on.begin(), on.end());
            std::string list;
            for (std::size_t i = 0; i < on.size(); ++i)
                list += (i ? ", " : "") + on[i].second + " " + on[i].first;
            const std::string label = capitalized(day_label(d, language_));
            if (en)
                out += (out.empty() ? "" : " ") +
                       (on.empty() ? "There are no group classes " + day_label(d, language_) + "."
                                   : "Group classes " + day_label(d, language_) + ": " + list + ".");
            else
                out += (out.empty() ? "" : " ") +
                       (on.empty() ? label + " grup dersi yok." : label + " grup dersleri: " + list + ".");
        }
        return out;
    }

    std::string hours_on_days() {
        const bool en = language_ == "en";
        std::string out;
        for (const auto& d : days_) {
            const std::string span = span_of(profile_.hours, weekday_key(d.weekday));
            const std::string label = day_label(d, language_);
            std::string line;
            if (span.empty())
                line = en ? "We are closed " + label + "." : capitalized(label) + " kapalıyız.";
            else
                line = en ? capitalized(label) + " we are open " + span + "."
                          : capitalized(label) + " " + span + " saatleri arasında açığız.";
            out += (out.empty() ? "" : " ") + line;
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
};

}  // namespace

std::optional<std::string> answer_people_and_times(const sdk::ProviderRequest& request,
                                                   sdk::HostServices& host, std::string_view language) {
    const sdk::Message* last = nullptr;
    for (const auto& m : request.messages)
        if (m.role == sdk::Role::user) last = &m;
    if (!last || last->text.size() > 2000) return std::nullopt;
    return Answerer(host, language, text::fold(last->text)).answer();
}

}  // namespace tezgah::plugins::local
