// The booking dialogue over the `appointments` tools (docs/appointments.md "What customers can
// say"). Its state lives in the conversation's session under "booking": the flow (book, cancel,
// reschedule, list), the stage it waits at, the service, day and time asked, the times offered and
// the customer's name and phone. Step 0 of a turn reads the message against that state and calls a
// tool or asks; the steps after a tool round write the reply from the result, or call the next tool
// (a cancellation lists the customer's bookings first). The tools decide what is free and whose
// booking is whose; this file never invents a time.
#include "booking.hpp"

#include <tezgah/sdk/text.hpp>

#include <date/date.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace tezgah::plugins::local {
namespace {

namespace text = sdk::text;

constexpr const char* kKey = "booking";
constexpr std::size_t kMaxSlots = 6;         ///< times offered at once
constexpr std::int64_t kStateMinutes = 120;  ///< how long a booking left half-way waits

constexpr std::array<const char*, 12> kMonthsTr{"Ocak",   "Şubat",   "Mart",  "Nisan", "Mayıs", "Haziran",
                                                "Temmuz", "Ağustos", "Eylül", "Ekim",  "Kasım", "Aralık"};
constexpr std::array<const char*, 12> kMonthsEn{"January",   "February", "March",    "April",
                                                "May",       "June",     "July",     "August",
                                                "September", "October",  "November", "December"};

std::string str(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object* obj(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

const json::array* arr(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v ? v->if_array() : nullptr;
}

bool said_any(const std::vector<std::string>& words, std::initializer_list<std::string_view> forms) {
    return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
        return std::find(forms.begin(), forms.end(), w) != forms.end();
    });
}

bool has_tool(const sdk::ProviderRequest& request, std::string_view name) {
    return std::any_of(request.tools.begin(), request.tools.end(),
                       [&](const auto& t) { return t.name == name; });
}

bool is_booking_tool(std::string_view name) {
    return name == "check_availability" || name == "create_appointment" || name == "list_my_appointments" ||
           name == "cancel_appointment" || name == "reschedule_appointment";
}

std::string last_user_text(const sdk::ProviderRequest& request) {
    for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it)
        if (it->role == sdk::Role::user) return it->text;
    return {};
}

/// "2026-12-03" as days since the epoch; nullopt when malformed.
std::optional<long> days_of(std::string_view ymd) {
    if (ymd.size() < 10) return std::nullopt;
    const int y = std::atoi(std::string(ymd.substr(0, 4)).c_str());
    const int m = std::atoi(std::string(ymd.substr(5, 2)).c_str());
    const int d = std::atoi(std::string(ymd.substr(8, 2)).c_str());
    const date::year_month_day ymd_{date::year{y}, date::month{static_cast<unsigned>(m)},
                                    date::day{static_cast<unsigned>(d)}};
    if (!ymd_.ok()) return std::nullopt;
    return date::local_days{ymd_}.time_since_epoch().count();
}

/// "3 Aralık Perşembe" / "Thursday, December 3" for "2026-12-03".
std::string day_words(std::string_view ymd, std::string_view language) {
    const auto days = days_of(ymd);
    if (!days) return std::string(ymd);
    const date::year_month_day d{date::local_days{date::days{*days}}};
    const auto month = static_cast<unsigned>(d.month()) - 1;
    const auto day = std::to_string(static_cast<unsigned>(d.day()));
    const int weekday = static_cast<int>(date::weekday{date::local_days{date::days{*days}}}.c_encoding());
    if (language == "en") return weekday_name(weekday, "en") + ", " + kMonthsEn[month] + " " + day;
    return day + " " + kMonthsTr[month] + " " + weekday_name(weekday, "tr");
}

/// "3 Aralık" / "December 3": a date in an option's title.
std::string short_day(std::string_view ymd, std::string_view language) {
    const auto days = days_of(ymd);
    if (!days) return std::string(ymd);
    const date::year_month_day d{date::local_days{date::days{*days}}};
    const auto month = static_cast<unsigned>(d.month()) - 1;
    const auto day = std::to_string(static_cast<unsigned>(d.day()));
    return language == "en" ? std::string(kMonthsEn[month]) + " " + day : day + " " + kMonthsTr[month];
}

/// The local date and time of an ISO 8601 start ("2026-12-03T10:00:00+03:00").
std::string date_part(std::string_view iso) {
    return std::string(iso.substr(0, std::min<std::size_t>(10, iso.size())));
}
std::string time_part(std::string_view iso) {
    return iso.size() >= 16 ? std::string(iso.substr(11, 5)) : std::string();
}

std::string join(const std::vector<std::string>& items, std::string_view language) {
    return join_list(items, language);
}

/// "evet", "yes please", "onaylıyorum": 1; "hayır", "no": -1; else 0.
int yes_or_no(const std::vector<std::string>& words) {
    int said = 0;
    for (const auto& w : words) {
        int here = 0;
        if (std::string_view(w) == "evet" || w == "e" || w == "olur" || w == "tamam" || w == "tabii" ||
            w == "tabi" || w.starts_with("onay") || w == "dogru" || w == "yes" || w == "yeah" || w == "yep" ||
            w == "sure" || w == "ok" || w == "okay" || w == "confirm" || w == "confirmed" || w == "correct" ||
            w == "please" || w == "lutfen" || w == "aynen" || w == "uygun")
            here = w == "please" || w == "lutfen" ? 0 : 1;
        else if (w == "hayir" || w == "no" || w == "nope" || w == "istemiyorum" || w == "olmasin")
            here = -1;
        else if (w.size() > 2)
            return 0;  // more than a yes or a no
        if (here == 0) continue;
        if (said != 0 && said != here) return 0;
        said = here;
    }
    return said;
}

/// "vazgeçtim", "boşver", "cancel that", "never mind": leave the booking being made.
bool abandons(std::string_view folded, const std::vector<std::string>& words) {
    return said_any(words, {"vazgectim", "vazgec", "vazgectik", "bosver", "bosverin", "nevermind"}) ||
           has_phrase(folded, "cancel that") || has_phrase(folded, "never mind") ||
           has_phrase(folded, "forget it") || has_phrase(folded, "forget about it") ||
           has_phrase(folded, "istemiyorum artik") || has_phrase(folded, "iptal et bunu") ||
           has_phrase(folded, "don t book");
}

bool says_appointment(const std::vector<std::string>& words) {
    return std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w.starts_with("randevu") || w.starts_with("rezervasyon") || w.starts_with("appointment") ||
               w.starts_with("booking") || w == "reservation" || w == "reservations";
    });
}

bool asks_my_list(std::string_view folded, const std::vector<std::string>& words) {
    return said_any(words, {"randevularim", "randevularimi", "randevularimiz", "rezervasyonlarim"}) ||
           has_phrase(folded, "my appointments") || has_phrase(folded, "my bookings") ||
           has_phrase(folded, "randevum var mi") || has_phrase(folded, "randevum ne zaman") ||
           has_phrase(folded, "randevumu goster") || has_phrase(folded, "when is my appointment") ||
           has_phrase(folded, "do i have an appointment") || has_phrase(folded, "do i have a booking");
}

/// A question about the rules ("randevu iptal politikası", "iptal edersem ücret var mı"), which the
/// knowledge base answers, not a request.
bool asks_rules(const std::vector<std::string>& words) {
    return std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w.starts_with("politika") || w.starts_with("kosul") || w.starts_with("ucret") ||
               w == "nasil" || w.starts_with("kural") || w == "policy" || w == "fee" || w == "fees" ||
               w == "how" || w.starts_with("sart");
    });
}

/// A question about whom to call or how to reach the business ("randevu için kimi aramalıyım",
/// "randevu numaranız", "who do I call to book"): the contact answer's, not a request to book.
bool asks_contact(const std::vector<std::string>& words) {
    return std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w.starts_with("arama") || w.starts_with("arayabil") || w.starts_with("arayay") ||
               w.starts_with("arayin") || w.starts_with("telefon") || w.starts_with("numara") ||
               w.starts_with("iletisim") || w == "kimi" || w == "kime" || w == "call" || w == "phone" ||
               w == "contact" || w == "whom";
    });
}

/// "randevum", "randevumu", "rezervasyonumu": the customer's own booking.
bool says_mine(const std::vector<std::string>& words) {
    return std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w.starts_with("randevum") || w.starts_with("rezervasyonum");
    });
}

bool asks_cancel(std::string_view folded, const std::vector<std::string>& words) {
    if (asks_rules(words)) return false;
    const bool cancel =
        std::any_of(words.begin(), words.end(), [](const std::string& w) { return w.starts_with("iptal"); });
    return (cancel &&
            (says_mine(words) || (says_appointment(words) &&
                                  (has_phrase(folded, "iptal et") || has_phrase(folded, "iptal etmek"))))) ||
           has_phrase(folded, "cancel my") || has_phrase(folded, "cancel the appointment") ||
           has_phrase(folded, "cancel the booking") || has_phrase(folded, "cancel appointment");
}

bool asks_reschedule(std::string_view folded, const std::vector<std::string>& words) {
    if (asks_rules(words)) return false;
    const bool moves = std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w.starts_with("ertele") || w.starts_with("degistir") || w.starts_with("kaydir") ||
               w.starts_with("tasi") || w.starts_with("alabilir") || w.starts_with("alalim") ||
               w.starts_with("cekebilir") || w.starts_with("alin") || w.starts_with("alir");
    });
    return (says_mine(words) && moves) || has_phrase(folded, "reschedule") || has_phrase(folded, "move my") ||
           has_phrase(folded, "change my appointment") || has_phrase(folded, "change my booking");
}

bool asks_booking(std::string_view folded, const std::vector<std::string>& words, bool names_service,
                  const When& when) {
    if (asks_rules(words) || asks_contact(words) ||
        std::any_of(words.begin(), words.end(), [](const std::string& w) { return w.starts_with("iptal"); }))
        return false;
    if (says_appointment(words)) return true;
    if (has_phrase(folded, "yer var mi") || has_phrase(folded, "yeriniz var mi") ||
        has_phrase(folded, "bos saat") || has_phrase(folded, "bos yer") || has_phrase(folded, "can i book") ||
        has_phrase(folded, "i want to book") || has_phrase(folded, "book a") ||
        has_phrase(folded, "book me") || has_phrase(folded, "i d like to book") ||
        has_phrase(folded, "any slots") || has_phrase(folded, "free slot") ||
        has_phrase(folded, "kayit olmak") || has_phrase(folded, "yazdirmak") || has_phrase(folded, "ayirt"))
        return true;
    // "müsait", "available" are as often asked of a person ("Mert hoca yarın müsait mi?", which
    // the people answers take): a booking only with a service named.
    if (names_service && std::any_of(words.begin(), words.end(), [](const std::string& w) {
            return w.starts_with("musait") || w == "available" || w == "availability";
        }))
        return true;
    // "yarın akşam reformer'a gelebilir miyim", "cuma masaj olur mu": a service and a day.
    return names_service && when.day && std::any_of(words.begin(), words.end(), [](const std::string& w) {
               return w.starts_with("gelebilir") || w.starts_with("gelmek") || w.starts_with("olur") ||
                      w.starts_with("alabilir") || w.starts_with("yaptir") || w == "book";
           });
}

/// Words that are about booking or time, not about which service.
bool booking_word(std::string_view w) {
    static constexpr std::string_view kWords[] = {
        "randevu", "randevum",  "randevumu", "rezervasyon", "almak",       "istiyorum", "alabilir",
        "miyim",   "yer",       "var",       "mi",          "mu",          "icin",      "bos",
        "saat",    "saatler",   "musait",    "book",        "appointment", "booking",   "can",
        "i",       "want",      "to",        "a",           "an",          "the",       "on",
        "for",     "at",        "is",        "there",       "any",         "free",      "slot",
        "slots",   "available", "olsun",     "yok",         "aksam",       "sabah",     "ogleden",
        "sonra",   "ogle",      "evening",   "morning",     "afternoon",   "tomorrow",  "today",
        "bugun",   "yarin",     "next",      "haftaya",     "like",        "d",         "me",
        "please",  "lutfen"};
    return std::find(std::begin(kWords), std::end(kWords), w) != std::end(kWords) || w.starts_with("randevu");
}

/// The bookable services: offerings with a duration that are sold now.
std::vector<sdk::Offering> services_of(sdk::HostServices& host) {
    std::vector<sdk::Offering> out;
    for (auto& o : host.catalog().all())
        if (o.duration_min && o.type != "PRODUCT" && o.available) out.push_back(std::move(o));
    return out;
}

/// The services the customer's words name best (several when equally well: "reformer" names both
/// reformer sessions); empty when none.
std::vector<sdk::Offering> services_named(const std::vector<std::string>& words, sdk::HostServices& host) {
    std::vector<std::string> content;
    for (const auto& w : words)
        if (!is_stop_word(w) && !booking_word(w) && !std::isdigit(static_cast<unsigned char>(w[0])))
            content.push_back(w);
    if (content.empty()) return {};
    std::vector<std::pair<double, sdk::Offering>> scored;
    for (auto& o : services_of(host)) {
        const auto fit = fit_offering(content, o);
        if (fit.coverage <= 0) continue;
        scored.emplace_back(fit.score(), std::move(o));
    }
    if (scored.empty()) return {};
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<sdk::Offering> out;
    for (auto& [score, o] : scored)
        if (score >= scored.front().first - 1e-9) out.push_back(std::move(o));
    return out;
}

/// The customer's words left once booking and time words are taken out ("masage" of "can I book a
/// masage on Friday"): what the tool matches service names against when this assistant matched none.
std::string service_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        if (is_stop_word(w) || booking_word(w) || std::isdigit(static_cast<unsigned char>(w[0])) ||
            month_said(w))
            continue;
        bool day = false;
        for (int d = 0; d < 7 && !day; ++d)
            day = w.starts_with(text::fold(weekday_name(d, "tr"))) ||
                  w.starts_with(text::fold(weekday_name(d, "en")));
        if (day || w.starts_with("aksam") || w.starts_with("sabah") || w == "pm" || w == "am") continue;
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

/// A phone number in the message: 10 to 13 digits, with a leading '+' kept; empty when none.
std::string phone_in(std::string_view message) {
    std::string digits;
    bool plus = false;
    for (char c : message) {
        if (std::isdigit(static_cast<unsigned char>(c)))
            digits += c;
        else if (c == '+' && digits.empty())
            plus = true;
    }
    if (digits.size() < 10 || digits.size() > 13) return {};
    return (plus ? "+" : "") + digits;
}

/// The words of `said` as written (letters kept), split on spaces, punctuation trimmed at the ends.
std::vector<std::string> written_words(std::string_view said) {
    std::vector<std::string> out;
    std::string word;
    auto flush = [&] {
        while (!word.empty() && std::ispunct(static_cast<unsigned char>(word.back()))) word.pop_back();
        std::size_t start = 0;
        while (start < word.size() && std::ispunct(static_cast<unsigned char>(word[start]))) ++start;
        if (start < word.size()) out.push_back(word.substr(start));
        word.clear();
    };
    for (char c : said) {
        if (c == ' ' || c == '\t' || c == '\n')
            flush();
        else
            word += c;
    }
    flush();
    return out;
}

/// A name the customer gives ("Deniz Yılmaz", "adım Deniz Yılmaz", "my name is Sam Lee"); empty
/// when the message does not read as one. `introduced`: only a name said with "adım", "my name is".
std::string name_in(std::string_view message, bool introduced) {
    std::string said(text::trim(message));
    const std::string folded = text::fold(said);
    static constexpr std::array<std::string_view, 12> kIntros{
        "benim adim", "adim", "ismim", "benim ismim", "adi",  "my name is",
        "name is",    "i m",  "i am",  "it s",        "name", "ad soyad"};
    bool found = false;
    for (auto intro : kIntros) {
        if (!has_phrase(folded, intro)) continue;
        // Cut the text after the intro's last word, as written.
        const auto last = text::tokens(intro).back();
        const auto words = written_words(said);
        std::size_t k = 0;
        for (; k < words.size(); ++k)
            if (text::fold(words[k]) == last) break;
        if (k + 1 >= words.size()) continue;
        said.clear();
        for (std::size_t j = k + 1; j < words.size(); ++j) said += (said.empty() ? "" : " ") + words[j];
        found = true;
        break;
    }
    if (introduced && !found) return {};
    // "Deniz Yılmaz", "Deniz Yılmaz olsun", "ben Deniz": letters only, one to four words.
    auto words = written_words(said);
    while (!words.empty() && (text::fold(words.back()) == "olsun" || text::fold(words.back()) == "degil" ||
                              text::fold(words.back()) == "please" || text::fold(words.back()) == "lutfen"))
        words.pop_back();
    if (!words.empty() && (text::fold(words.front()) == "ben" || text::fold(words.front()) == "im"))
        words.erase(words.begin());
    if (words.empty() || words.size() > 4) return {};
    std::string out;
    for (auto& w : words) {
        if (std::any_of(w.begin(), w.end(),
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            return {};
        const std::string f = text::fold(w);
        // Names are read as they come ("Ali Can", "Deniz"); only booking words and answers are not.
        if (f.starts_with("randevu") || f == "saat" || f == "yarin" || f == "bugun") return {};
        // A question is no name ("fiyatı ne kadar", "what time?").
        if (!found && (message.find('?') != std::string_view::npos || f == "ne" || f == "nasil" ||
                       f == "kadar" || f == "mi" || f == "mu" || f == "neden" || f == "nerede" ||
                       f == "what" || f == "how" || f == "why" || f == "where" || f == "when"))
            return {};
        if (f == "evet" || f == "hayir" || f == "tamam" || f == "yes" || f == "no" || f == "ok" ||
            f == "merhaba" || f == "selam" || f == "hello" || f == "hi" || f == "tesekkurler" ||
            f == "thanks")
            return {};
        // Capitalised as a name is written ("deniz" → "Deniz"), keeping the customer's own letters.
        if (!w.empty() && std::islower(static_cast<unsigned char>(w[0])))
            w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

/// The language of a booking message: its booking words ("randevumu iptal et", "my appointments")
/// tell, else the detector, else the conversation's.
std::string language_of(std::string_view message, const std::string& conversation) {
    const auto words = text::tokens(message);
    const bool tr = std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w.starts_with("randevu") || w.starts_with("iptal") || w.starts_with("vazgec") ||
               w.starts_with("musait") || w.starts_with("istiyor") || w.starts_with("alabilir") ||
               w == "olsun" || w == "yarin" || w == "bugun" || w == "evet" || w == "hayir" || w == "adim" ||
               w == "numaram";
    });
    const bool en = std::any_of(words.begin(), words.end(), [](const std::string& w) {
        return w == "appointment" || w == "appointments" || w == "book" || w == "booking" || w == "cancel" ||
               w == "reschedule" || w == "yes" || w == "tomorrow" || w == "my" || w == "please";
    });
    if (tr != en) return tr ? "tr" : "en";
    return text::detect_language(message, conversation);
}

class Dialogue {
public:
    Dialogue(const sdk::ProviderRequest& request, sdk::HostServices& host, const std::string& language)
        : request_(request), host_(host) {
        // The message's own language when it shows one ("randevumu iptal et" after an English
        // turn), else the conversation's.
        language_ = language_of(last_user_text(request), language);
        en_ = language_ == "en";
        if (const auto* b = request.session.if_contains(kKey); b && b->is_object()) state_ = b->get_object();
        // A booking left half-way is not picked up by a message long after ("evet" a day later
        // confirms nothing): the state is kept for kStateMinutes from its last step.
        now_minute_ =
            std::chrono::duration_cast<std::chrono::minutes>(host.clock().now().time_since_epoch()).count();
        if (const auto* at = state_.if_contains("at");
            at && at->is_int64() && now_minute_ - at->get_int64() > kStateMinutes)
            state_.clear();
        // A dialogue goes on in the language it began in ("Sam Lee" reads as no language at all).
        if (const auto kept = str(state_, "language"); !kept.empty()) {
            language_ = kept;
            en_ = kept == "en";
        }
        if (const auto* c = obj(request.session, "customer")) customer_ = *c;
        message_ = last_user_text(request);
        folded_ = text::fold(message_);
        words_ = text::tokens(folded_);
        today_ = today_in(host.tenant().timezone, host.clock().now());
        when_ = read_when(message_, today_);
        response_.method = "intent";
        response_.confidence = 0.9;
        response_.language = language_;
    }

    std::optional<sdk::ProviderResponse> begin() {
        const bool active = !state_.empty();
        if (active && abandons(folded_, words_)) {
            say(en_ ? "All right, I've dropped it; nothing was booked or changed."
                    : "Tamam, vazgeçtik; bir randevu oluşturulmadı ya da değiştirilmedi.");
            return done(true);
        }
        if (has_tool(request_, "list_my_appointments")) {
            if (asks_cancel(folded_, words_) && has_tool(request_, "cancel_appointment"))
                return list_for("cancel");
            if (asks_reschedule(folded_, words_) && has_tool(request_, "reschedule_appointment") &&
                !asks_my_list(folded_, words_))
                return list_for("reschedule");
            if (asks_my_list(folded_, words_)) return list_for("list");
        }
        const auto named = services_named(words_, host_);
        const bool asks = asks_booking(folded_, words_, !named.empty(), when_);
        // A new request naming another service ("yarın kick boks için randevu") starts over.
        const bool other_service =
            asks && (named.empty() ? !service_words(words_).empty()
                                   : std::none_of(named.begin(), named.end(), [&](const sdk::Offering& o) {
                                         return o.id == str(state_, "service");
                                     }));
        if (active && !other_service)
            if (auto answered = continue_stage()) return answered;
        if (!asks) return std::nullopt;
        state_ = json::object{{"flow", "book"}};
        choose_service(named);
        take_when(false);
        return check();
    }

    std::optional<sdk::ProviderResponse> after_tools() {
        const sdk::ToolCall* call = nullptr;
        for (const auto& m : request_.messages)
            if (m.role == sdk::Role::assistant && !m.tool_calls.empty()) call = &m.tool_calls.front();
        if (!call || !is_booking_tool(call->name)) return std::nullopt;
        const sdk::ToolResult* result = nullptr;
        for (const auto& m : request_.messages)
            if (m.role == sdk::Role::tool && m.tool_result && m.tool_result->call_id == call->id)
                result = &*m.tool_result;
        if (!result || !result->ok) {
            // The tool's refusal, passed on as it says it ("No service named ...").
            std::string error = result ? result->error : std::string();
            if (const auto colon = error.find(": ");
                colon != std::string::npos && colon < 24 &&
                std::all_of(error.begin(), error.begin() + static_cast<long>(colon),
                            [](char c) { return std::islower(static_cast<unsigned char>(c)) || c == '_'; }))
                error.erase(0, colon + 2);
            if (error.empty())
                error = en_ ? "I could not reach the booking system just now."
                            : "Randevu sistemine şu an ulaşamadım.";
            say(error);
            if (call->name == "check_availability" && str(state_, "flow") == "book") offer_services();
            return done(false);
        }
        const auto* content = result->content.if_object();
        static const json::object kEmpty;
        const json::object& r = content ? *content : kEmpty;
        state_.erase("pending");
        if (call->name == "check_availability") return checked(r);
        if (call->name == "create_appointment") return created(r);
        if (call->name == "list_my_appointments") return listed(r);
        if (call->name == "cancel_appointment") return cancelled(r);
        return rescheduled(r);
    }

private:
    // ---- step 0: the message against the stage the dialogue waits at ----

    std::optional<sdk::ProviderResponse> continue_stage() {
        const std::string stage = str(state_, "stage");
        const std::string flow = str(state_, "flow");
        const int yes = yes_or_no(words_);
        if (stage == "service") {
            const auto named = services_named(words_, host_);
            if (named.empty() && !when_.said()) return std::nullopt;
            choose_service(named);
            take_when(true);
            return check();
        }
        if (stage == "day") {
            if (!when_.said()) return std::nullopt;
            take_when(true);
            return flow == "reschedule" ? check_for_move() : check();
        }
        if (stage == "slot") {
            if (auto slot = picked_slot()) return chosen(*slot);
            if (!when_.said() && services_named(words_, host_).empty()) return std::nullopt;
            if (const auto named = services_named(words_, host_); !named.empty() && flow == "book")
                choose_service(named);
            take_when(true);
            return flow == "reschedule" ? move_or_check() : check();
        }
        if (stage == "name" || stage == "phone" || stage == "confirm") {
            // A change of day or time goes back to the free times.
            if (when_.day || when_.minute >= 0 || when_.other_day) {
                take_when(true);
                return check();
            }
            const bool corrected = correct_details(stage);
            if (stage == "confirm" && !corrected) {
                if (yes > 0) return create();
                if (yes < 0) {
                    state_["stage"] = "slot";
                    say(en_ ? "All right, not booked. Tell me another day or time, or say \"cancel that\"."
                            : "Peki, randevuyu oluşturmadım. Başka bir gün ya da saat yazabilirsiniz; "
                              "vazgeçtiyseniz \"vazgeçtim\" yazın.");
                    return done(false);
                }
                return std::nullopt;
            }
            if (!corrected) return std::nullopt;
            return details();
        }
        if (stage == "pick") {
            auto picked = picked_appointment();
            if (!picked) return std::nullopt;
            return appointment_chosen(*picked);
        }
        if (stage == "cancel_confirm") {
            if (yes > 0) return call("cancel_appointment", {{"appointment_id", str(state_, "appointment")}});
            if (yes < 0) {
                say(en_ ? "All right, your appointment stays as it is."
                        : "Tamam, randevunuz olduğu gibi duruyor.");
                return done(true);
            }
            return std::nullopt;
        }
        return std::nullopt;
    }

    /// "adım Ayşe", "numaram 0532 ...", or the name or phone asked for: kept; true when anything was.
    bool correct_details(const std::string& stage) {
        bool changed = false;
        if (auto phone = phone_in(message_); !phone.empty()) {
            state_["phone"] = phone;
            changed = true;
        }
        const bool asked_name = stage == "name";
        if (auto name = name_in(message_, !asked_name);
            !name.empty() &&
            (asked_name || !changed || name.find_first_of("0123456789") == std::string::npos)) {
            if (!(changed && !asked_name && phone_in(name).size())) {
                state_["name"] = name;
                changed = true;
            }
        }
        return changed;
    }

    /// The service the words name: one kept, several offered as options (asked next).
    void choose_service(const std::vector<sdk::Offering>& named) {
        if (named.size() == 1) {
            state_["service"] = named.front().id;
            state_["service_name"] = named.front().name_in(language_);
        } else if (named.size() > 1) {
            json::array ids;
            for (const auto& o : named) ids.push_back(json::value(o.id));
            state_["service_choices"] = ids;
            state_.erase("service");
        } else if (auto words = service_words(words_); !words.empty() && !state_.contains("service")) {
            state_["service"] = words;  // the tool matches names, misspellings included
        }
    }

    /// The day, time and part of day the message says, over what was said before. `change`: a
    /// new day keeps the time asked; "başka gün" moves to the day after the one talked about.
    void take_when(bool change) {
        if (when_.day)
            state_["date"] = date_text(*when_.day);
        else if (when_.other_day) {
            const auto current = days_of(str(state_, "date"));
            state_["date"] = date_text((current ? *current : today_.days_since_epoch) + 1);
            state_.erase("time");
        }
        if (when_.minute >= 0)
            state_["time"] = hhmm(when_.minute);
        else if (change && when_.day && !when_.part)
            state_.erase("time");
        if (when_.part) {
            state_["part"] = json::object{{"from", when_.part->from}, {"to", when_.part->to}};
            if (when_.minute < 0) state_.erase("time");
        } else if (change && when_.day) {
            state_.erase("part");
        }
        // A time or a part of the day without a day: today.
        if (!state_.contains("date") && (when_.minute >= 0 || when_.part))
            state_["date"] = date_text(today_.days_since_epoch);
    }

    /// check_availability for the service and day asked, or the question for what is missing.
    std::optional<sdk::ProviderResponse> check() {
        state_["flow"] = str(state_, "flow").empty() ? "book" : str(state_, "flow");
        // A day the business is closed is said at once ("Pazartesi günleri kapalıyız"), whatever
        // else is still missing, and the day is asked again.
        if (const auto days = days_of(str(state_, "date"))) {
            const int weekday =
                static_cast<int>(date::weekday{date::local_days{date::days{*days}}}.c_encoding());
            const auto& hours = host_.tenant().hours;
            const auto open = hours.find(weekday_key(weekday));
            if (!hours.empty() && (open == hours.end() || open->second == "closed")) {
                const std::string name = weekday_name(weekday, language_);
                say(en_ ? "We are closed on " + name + "s." : name + " günleri kapalıyız.");
                state_.erase("date");
                state_.erase("time");
            }
        }
        if (!state_.contains("service")) {
            offer_services();
            return done(false);
        }
        if (!state_.contains("date")) {
            state_["stage"] = "day";
            const std::string name = str(state_, "service_name");
            std::string ask =
                name.empty()
                    ? (en_ ? "Which day would suit you? (e.g. tomorrow, Saturday, Dec 15)"
                           : "Hangi gün uygun olur? (ör. yarın, cumartesi, 15 Aralık)")
                    : (en_ ? "Which day would suit you for " + name + "? (e.g. tomorrow, Saturday, Dec 15)"
                           : name + " için hangi gün uygun olur? (ör. yarın, cumartesi, 15 Aralık)");
            // After "Pazartesi günleri kapalıyız." when the day asked was a closed one.
            say(response_.text.empty() ? std::move(ask) : response_.text + " " + ask);
            return done(false);
        }
        json::object args{{"service", str(state_, "service")}, {"date", str(state_, "date")}};
        if (state_.contains("time")) args["time"] = str(state_, "time");
        return call("check_availability", std::move(args));
    }

    /// The services offered as options when none or several were named.
    void offer_services() {
        std::vector<sdk::Offering> choices;
        if (const auto* ids = arr(state_, "service_choices"))
            for (const auto& id : *ids)
                if (auto o = host_.catalog().get(id.as_string())) choices.push_back(*o);
        if (choices.empty()) choices = services_of(host_);
        state_.erase("service_choices");
        state_["stage"] = "service";
        std::vector<std::string> names;
        for (const auto& o : choices) {
            if (response_.options.size() == 10) break;
            response_.options.push_back({o.id, o.name_in(language_), {}});
            names.push_back(o.name_in(language_));
        }
        const std::string ask =
            en_ ? "Which service would you like to book?" : "Hangi hizmet için randevu almak istersiniz?";
        if (response_.text.empty())
            say(ask);
        else
            response_.text += " " + ask;
        if (names.size() <= 3 && !names.empty()) response_.text += " " + join(names, language_) + ".";
    }

    // ---- after check_availability ----

    std::optional<sdk::ProviderResponse> checked(const json::object& r) {
        if (const auto* service = obj(r, "service")) {
            if (!str(*service, "id").empty()) state_["service"] = str(*service, "id");
            if (!str(*service, "name").empty()) state_["service_name"] = str(*service, "name");
        }
        if (!str(r, "date").empty()) state_["date"] = str(r, "date");
        const std::string day = str(state_, "date");
        const json::array* slots = arr(r, "slots");
        const json::object* requested = obj(r, "requested");
        // The time asked is free: straight on to the customer's details.
        if (requested && requested->if_contains("available") && requested->at("available").is_bool() &&
            requested->at("available").as_bool()) {
            const std::string time = str(*requested, "time");
            json::object slot{{"date", day}, {"time", time}};
            if (slots)
                for (const auto& s : *slots)
                    if (const auto* o = s.if_object(); o && str(*o, "time") == time) slot = *o;
            return chosen(slot);
        }
        std::vector<json::object> offered;
        std::string lead;
        if (requested) {
            // Taken or refused: the tool's words, then its nearest alternatives.
            lead = str(r, "message");
            if (lead.empty())
                lead = en_ ? str(*requested, "time") + " is not free." : str(*requested, "time") + " dolu.";
            if (const auto* alternatives = arr(r, "alternatives"))
                for (const auto& a : *alternatives)
                    if (const auto* o = a.if_object()) offered.push_back(*o);
        }
        std::vector<json::object> day_slots;
        if (slots)
            for (const auto& s : *slots)
                if (const auto* o = s.if_object();
                    o && (!o->if_contains("places_left") || o->at("places_left").to_number<double>() > 0))
                    day_slots.push_back(*o);
        // Within the part of the day asked, when any is.
        if (const auto* part = obj(state_, "part")) {
            const int from = static_cast<int>(part->at("from").to_number<double>());
            const int to = static_cast<int>(part->at("to").to_number<double>());
            std::vector<json::object> within;
            for (const auto& s : day_slots) {
                const int t = clock_minutes(str(s, "time"));
                if (t >= from && t < to) within.push_back(s);
            }
            if (!within.empty())
                day_slots = std::move(within);
            else if (!day_slots.empty() && lead.empty())
                lead = en_ ? "Nothing is free then on that day; the nearest times are below."
                           : "O saatlerde boş yer yok; en yakın saatler şunlar.";
        }
        // Nearest to the time asked first; with no time asked and more free times than are offered,
        // the ones on the hour first, so the offer spans the day (or the part of it) as a person's would.
        const int asked = state_.contains("time") ? clock_minutes(str(state_, "time")) : -1;
        if (asked >= 0)
            std::stable_sort(day_slots.begin(), day_slots.end(), [&](const auto& a, const auto& b) {
                return std::abs(clock_minutes(str(a, "time")) - asked) <
                       std::abs(clock_minutes(str(b, "time")) - asked);
            });
        else if (day_slots.size() > kMaxSlots)
            std::stable_partition(day_slots.begin(), day_slots.end(), [](const json::object& slot) {
                return clock_minutes(str(slot, "time")) % 60 == 0;
            });
        for (const auto& s : day_slots) {
            if (offered.size() >= kMaxSlots) break;
            const bool seen = std::any_of(offered.begin(), offered.end(), [&](const json::object& o) {
                return str(o, "date") == str(s, "date") && str(o, "time") == str(s, "time");
            });
            if (!seen) offered.push_back(s);
        }
        if (offered.empty())
            if (const auto* alternatives = arr(r, "alternatives"))
                for (const auto& a : *alternatives)
                    if (const auto* o = a.if_object()) offered.push_back(*o);
        std::stable_sort(offered.begin(), offered.end(), [](const json::object& a, const json::object& b) {
            return std::make_pair(str(a, "date"), str(a, "time")) <
                   std::make_pair(str(b, "date"), str(b, "time"));
        });
        const std::string service = str(state_, "service_name");
        if (offered.empty()) {
            std::string message = str(r, "message");
            if (message.empty())
                message = en_ ? "There is no free time for " + service + " on " + day_words(day, "en") + "."
                              : day_words(day, "tr") + " için " + service + " boş saat yok.";
            say(message + (en_ ? " Would another day suit you? Tell me which."
                               : " Başka bir gün yazarsanız ona bakayım."));
            state_["stage"] = "day";
            return done(false);
        }
        json::array kept;
        std::vector<std::string> shown;
        for (const auto& s : offered) {
            const std::string title = str(s, "date") == day
                                          ? str(s, "time")
                                          : short_day(str(s, "date"), language_) + " " + str(s, "time");
            std::string description = str(s, "resource_name");
            if (const auto* places = s.if_contains("places_left");
                places && places->is_number() && obj(r, "service") &&
                obj(r, "service")->if_contains("group") && obj(r, "service")->at("group").is_bool() &&
                obj(r, "service")->at("group").as_bool())
                description += (description.empty() ? "" : ", ") +
                               std::to_string(static_cast<int>(places->to_number<double>())) +
                               (en_ ? " places" : " yer");
            response_.options.push_back({str(s, "date") + " " + str(s, "time"), title, description});
            shown.push_back(title);
            json::object k = s;
            k["title"] = title;
            kept.push_back(std::move(k));
        }
        state_["offered"] = std::move(kept);
        state_["stage"] = "slot";
        const bool same_day =
            std::all_of(offered.begin(), offered.end(), [&](const auto& s) { return str(s, "date") == day; });
        std::string text = lead.empty() ? "" : lead + " ";
        // The tool's words already name every time offered ("The nearest free times: Dec 7 10:00,
        // …"): only the question follows them.
        const bool named =
            !lead.empty() && std::all_of(offered.begin(), offered.end(), [&](const json::object& s) {
                return lead.find(str(s, "time")) != std::string::npos;
            });
        if (named)
            text += en_ ? "Which one shall I book?" : "Hangisini ayırayım?";
        else if (en_)
            text += (same_day ? "Free times for " + service + " on " + day_words(day, "en") + ": "
                              : "Free times for " + service + ": ") +
                    join(shown, "en") + ". Which one shall I book?";
        else
            text += (same_day ? day_words(day, "tr") + " " + service + " için boş saatler: "
                              : service + " için boş saatler: ") +
                    join(shown, "tr") + ". Hangisini ayırayım?";
        say(text);
        return done(false);
    }

    /// The offered time the message picks: its title ("17:00", "4 Aralık 10:00"), its number, or
    /// the time said ("yok 4 olsun" when 16:00 was offered).
    std::optional<json::object> picked_slot() const {
        const auto* offered = arr(state_, "offered");
        if (!offered) return std::nullopt;
        std::vector<json::object> slots;
        for (const auto& s : *offered)
            if (const auto* o = s.if_object()) slots.push_back(*o);
        const std::string said = text::fold(message_);
        for (const auto& s : slots)
            if (text::fold(str(s, "title")) == said ||
                str(s, "date") + " " + str(s, "time") == std::string(text::trim(message_)))
                return s;
        if (words_.size() == 1 && std::all_of(words_[0].begin(), words_[0].end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
            })) {
            const auto n = static_cast<std::size_t>(std::stoi(words_[0]));
            if (n >= 1 && n <= slots.size() && n <= kMaxSlots) return slots[n - 1];
        }
        if (when_.minute >= 0) {
            const std::string time = hhmm(when_.minute);
            const std::string date = when_.day ? date_text(*when_.day) : std::string();
            for (const auto& s : slots)
                if (str(s, "time") == time && (date.empty() || str(s, "date") == date)) return s;
        }
        return std::nullopt;
    }

    /// A time is chosen: for a move, the move; for a booking, the customer's details next.
    std::optional<sdk::ProviderResponse> chosen(const json::object& slot) {
        state_["chosen"] = slot;
        state_["date"] = str(slot, "date");
        state_["time"] = str(slot, "time");
        state_.erase("offered");
        if (str(state_, "flow") == "reschedule")
            return call("reschedule_appointment", {{"appointment_id", str(state_, "appointment")},
                                                   {"date", str(slot, "date")},
                                                   {"time", str(slot, "time")}});
        return details();
    }

    /// The name and the phone when the channel has not given them, then the summary to confirm.
    std::optional<sdk::ProviderResponse> details() {
        if (str(state_, "name").empty() && !str(customer_, "name").empty())
            state_["name"] = str(customer_, "name");
        if (str(state_, "phone").empty() && !str(customer_, "phone").empty())
            state_["phone"] = str(customer_, "phone");
        const std::string lead = chosen_words() + ".";
        if (str(state_, "name").empty()) {
            state_["stage"] = "name";
            say(lead + (en_ ? " What name should I book it under?"
                            : " Randevuyu kimin adına alayım? Adınızı ve soyadınızı yazar mısınız?"));
            return done(false);
        }
        if (str(state_, "phone").empty()) {
            state_["stage"] = "phone";
            say(en_ ? "Thanks, " + str(state_, "name") + ". What phone number can we reach you on?"
                    : "Teşekkürler, " + str(state_, "name") +
                          ". Size ulaşabileceğimiz telefon numaranız nedir?");
            return done(false);
        }
        state_["stage"] = "confirm";
        say(en_ ? "To confirm: " + chosen_words() + ", for " + str(state_, "name") + " (" +
                      str(state_, "phone") + "). Shall I book it?"
                : "Özetliyorum: " + chosen_words() + ", " + str(state_, "name") + " adına (" +
                      str(state_, "phone") + "). Onaylıyor musunuz?");
        response_.options = {{"yes", en_ ? "Yes" : "Evet", {}}, {"no", en_ ? "No" : "Hayır", {}}};
        return done(false);
    }

    /// "Reformer Pilates, 3 Aralık Perşembe 17:00, Ayşe Demir ile".
    std::string chosen_words() const {
        const json::object* slot = obj(state_, "chosen");
        const std::string date = slot ? str(*slot, "date") : str(state_, "date");
        const std::string time = slot ? str(*slot, "time") : str(state_, "time");
        const std::string who = slot ? str(*slot, "resource_name") : std::string();
        std::string out = str(state_, "service_name");
        if (en_)
            return out + " on " + day_words(date, "en") + " at " + time + (who.empty() ? "" : " with " + who);
        return out + ", " + day_words(date, "tr") + " " + time + (who.empty() ? "" : ", " + who + " ile");
    }

    std::optional<sdk::ProviderResponse> create() {
        json::object args{{"service", str(state_, "service")},
                          {"date", str(state_, "date")},
                          {"time", str(state_, "time")},
                          {"customer_name", str(state_, "name")},
                          {"customer_phone", str(state_, "phone")}};
        return call("create_appointment", std::move(args));
    }

    std::optional<sdk::ProviderResponse> created(const json::object& r) {
        const auto* booked = r.if_contains("booked");
        if (booked && booked->is_bool() && booked->as_bool()) {
            const json::object* a = obj(r, "appointment");
            say(a ? (en_ ? "You're booked: " : "Randevunuz oluşturuldu: ") + appointment_words(*a) + "." +
                        (en_ ? " See you then!" : " Görüşmek üzere!")
                  : (en_ ? "You're booked." : "Randevunuz oluşturuldu."));
            return done(true);
        }
        // Taken meanwhile, or refused: the tool's words and its alternatives.
        return checked_refusal(r);
    }

    std::optional<sdk::ProviderResponse> checked_refusal(const json::object& r) {
        json::object as_check{
            {"date", str(state_, "date")},
            {"requested",
             json::object{{"time", str(state_, "time")}, {"available", false}, {"reason", str(r, "reason")}}},
            {"message", str(r, "message")}};
        if (const auto* alternatives = r.if_contains("alternatives"))
            as_check["alternatives"] = *alternatives;
        state_.erase("chosen");
        return checked(as_check);
    }

    /// "Reformer Pilates (Birebir), 3 Aralık Perşembe 17:00, Ayşe Demir ile, Deniz Yılmaz adına".
    std::string appointment_words(const json::object& a, bool with_customer = true) const {
        const std::string start = str(a, "start");
        const std::string who = str(a, "resource_name");
        const std::string name = str(a, "customer_name");
        std::string service = str(a, "service_name");
        if (service.empty()) service = str(a, "service");
        if (en_)
            return service + " on " + day_words(date_part(start), "en") + " at " + time_part(start) +
                   (who.empty() ? "" : " with " + who) +
                   (with_customer && !name.empty() ? ", for " + name : "");
        return service + ", " + day_words(date_part(start), "tr") + " " + time_part(start) +
               (who.empty() ? "" : ", " + who + " ile") +
               (with_customer && !name.empty() ? ", " + name + " adına" : "");
    }

    /// "3 Aralık 17:00 Reformer Pilates (Birebir)": an appointment as an option's title.
    std::string appointment_title(const json::object& a) const {
        const std::string start = str(a, "start");
        std::string service = str(a, "service_name");
        if (service.empty()) service = str(a, "service");
        return short_day(date_part(start), language_) + " " + time_part(start) + " " + service;
    }

    // ---- the customer's own bookings ----

    std::optional<sdk::ProviderResponse> list_for(const std::string& flow) {
        state_ = json::object{{"flow", flow}};
        if (flow == "reschedule") {
            take_when(false);
            if (auto words = service_words(words_); !words.empty()) state_["about"] = words;
        }
        return call("list_my_appointments", json::object{});
    }

    std::optional<sdk::ProviderResponse> listed(const json::object& r) {
        std::vector<json::object> mine;
        if (const auto* list = arr(r, "appointments"))
            for (const auto& a : *list)
                if (const auto* o = a.if_object()) mine.push_back(*o);
        const std::string flow = str(state_, "flow");
        if (mine.empty()) {
            say(en_ ? "I see no upcoming appointments for you. To book one, tell me the service and the day."
                    : "Görünen yaklaşan bir randevunuz yok. Yeni randevu için hizmeti ve günü "
                      "yazabilirsiniz.");
            return done(true);
        }
        if (flow == "list") {
            std::vector<std::string> lines;
            lines.reserve(mine.size());
            for (const auto& a : mine) lines.push_back(appointment_words(a, false));
            std::string text = en_ ? "Your appointments: " : "Randevularınız: ";
            if (lines.size() == 1)
                text = (en_ ? "Your appointment: " : "Randevunuz: ") + lines.front() + ".";
            else
                for (std::size_t k = 0; k < lines.size(); ++k)
                    text += std::to_string(k + 1) + ") " + lines[k] + (k + 1 < lines.size() ? "; " : ".");
            say(text);
            return done(true);
        }
        json::array kept;
        for (const auto& a : mine)
            kept.push_back(
                json::object{{"id", str(a, "id")}, {"title", appointment_title(a)}, {"appointment", a}});
        state_["appointments"] = kept;
        // A move names the booking by its service ("my massage"), when several are listed.
        if (mine.size() > 1 && !str(state_, "about").empty()) {
            const auto about = text::tokens(str(state_, "about"));
            std::vector<json::object> fitting;
            for (const auto& a : mine)
                if (names_service(about, a)) fitting.push_back(a);
            if (fitting.size() == 1) mine = fitting;
        }
        if (mine.size() == 1) return appointment_chosen(mine.front());
        state_["stage"] = "pick";
        for (const auto& a : mine)
            response_.options.push_back({str(a, "id"), appointment_title(a), str(a, "resource_name")});
        say(flow == "cancel" ? (en_ ? "Which appointment shall I cancel?" : "Hangi randevunuzu iptal edelim?")
                             : (en_ ? "Which appointment shall I move?" : "Hangi randevunuzu değiştirelim?"));
        return done(false);
    }

    /// The appointment of the listed ones the message picks: its title, id, number, or words of
    /// its service or day.
    std::optional<json::object> picked_appointment() const {
        const auto* list = arr(state_, "appointments");
        if (!list) return std::nullopt;
        std::vector<json::object> all;
        for (const auto& a : *list)
            if (const auto* o = a.if_object(); o && obj(*o, "appointment"))
                all.push_back(*obj(*o, "appointment"));
        const std::string said = text::fold(message_);
        for (std::size_t k = 0; k < all.size(); ++k) {
            const auto& entry = list->at(k).as_object();
            if (text::fold(str(entry, "title")) == said || str(entry, "id") == text::trim(message_))
                return all[k];
        }
        if (words_.size() == 1 && std::all_of(words_[0].begin(), words_[0].end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
            })) {
            const auto n = static_cast<std::size_t>(std::stoi(words_[0]));
            if (n >= 1 && n <= all.size()) return all[n - 1];
        }
        std::vector<json::object> fitting;
        for (const auto& a : all) {
            const bool by_service = names_service(words_, a);
            const bool by_day = when_.day && date_part(str(a, "start")) == date_text(*when_.day);
            if (by_service || by_day) fitting.push_back(a);
        }
        if (fitting.size() == 1) return fitting.front();
        return std::nullopt;
    }

    /// The customer's words name the appointment's service, in any of its names ("my massage" for
    /// the "Spor Masajı"), as the catalogue knows them.
    bool names_service(const std::vector<std::string>& words, const json::object& a) const {
        std::vector<std::string> content;
        for (const auto& w : words)
            if (w.size() > 3 && !is_stop_word(w) && !booking_word(w)) content.push_back(w);
        if (content.empty()) return false;
        if (const auto o = host_.catalog().get(str(a, "service")))
            return fit_offering(content, *o).coverage > 0;
        const auto names = text::tokens(str(a, "service_name"));
        return std::any_of(content.begin(), content.end(), [&](const std::string& w) {
            return std::any_of(names.begin(), names.end(),
                               [&](const std::string& n) { return word_match(w, n) >= 0.85; });
        });
    }

    std::optional<sdk::ProviderResponse> appointment_chosen(const json::object& a) {
        state_["appointment"] = str(a, "id");
        state_["service"] = str(a, "service");
        state_["service_name"] = str(a, "service_name");
        state_["current"] = a;
        state_.erase("appointments");
        if (str(state_, "flow") == "cancel") {
            state_["stage"] = "cancel_confirm";
            say(en_ ? "Shall I cancel " + appointment_words(a, false) + "?"
                    : appointment_words(a, false) + " randevunuzu iptal edeyim mi?");
            response_.options = {{"yes", en_ ? "Yes" : "Evet", {}}, {"no", en_ ? "No" : "Hayır", {}}};
            return done(false);
        }
        // A move: straight to it when the day and time were said, else the day's free times.
        if (auto said = read_when(message_, today_); said.day || said.minute >= 0) {
            when_ = said;
            take_when(true);
        }
        return move_or_check();
    }

    std::optional<sdk::ProviderResponse> move_or_check() {
        if (state_.contains("date") && state_.contains("time"))
            return call("reschedule_appointment", {{"appointment_id", str(state_, "appointment")},
                                                   {"date", str(state_, "date")},
                                                   {"time", str(state_, "time")}});
        return check_for_move();
    }

    std::optional<sdk::ProviderResponse> check_for_move() {
        if (!state_.contains("date")) {
            state_["stage"] = "day";
            const json::object* a = obj(state_, "current");
            say(en_ ? "Which day shall I move " + (a ? appointment_words(*a, false) : std::string("it")) +
                          " to?"
                    : (a ? appointment_words(*a, false) + " randevunuzu" : std::string("Randevunuzu")) +
                          " hangi güne alalım?");
            return done(false);
        }
        json::object args{{"service", str(state_, "service")}, {"date", str(state_, "date")}};
        if (state_.contains("time")) args["time"] = str(state_, "time");
        return call("check_availability", std::move(args));
    }

    std::optional<sdk::ProviderResponse> cancelled(const json::object& r) {
        const auto* done_ = r.if_contains("cancelled");
        if (done_ && done_->is_bool() && done_->as_bool()) {
            const json::object* a = obj(r, "appointment");
            std::string text = (en_ ? "Cancelled: " : "Randevunuz iptal edildi: ") +
                               (a ? appointment_words(*a, false) : std::string()) + ".";
            const auto* late = r.if_contains("late");
            if (late && late->is_bool() && late->as_bool() && !str(r, "policy").empty())
                text +=
                    (en_ ? " Please note our cancellation policy: " : " Hatırlatma, iptal koşullarımız: ") +
                    str(r, "policy");
            say(text);
            return done(true);
        }
        const std::string reason = str(r, "reason");
        say(reason == "past"
                ? (en_ ? "That appointment has already passed, so it cannot be cancelled."
                       : "Bu randevunun saati geçtiği için iptal edilemiyor.")
                : (en_ ? "That appointment was already cancelled." : "Bu randevu zaten iptal edilmiş."));
        return done(true);
    }

    std::optional<sdk::ProviderResponse> rescheduled(const json::object& r) {
        const auto* moved = r.if_contains("rescheduled");
        if (moved && moved->is_bool() && moved->as_bool()) {
            const json::object* a = obj(r, "appointment");
            std::string text = (en_ ? "Done, your appointment is now: " : "Tamam, randevunuz değişti: ") +
                               (a ? appointment_words(*a, false) : std::string()) + ".";
            if (const auto* previous = obj(r, "previous"); previous && !str(*previous, "start").empty())
                text += en_ ? " (It was " + day_words(date_part(str(*previous, "start")), "en") + " at " +
                                  time_part(str(*previous, "start")) + ".)"
                            : " (Önceki: " + day_words(date_part(str(*previous, "start")), "tr") + " " +
                                  time_part(str(*previous, "start")) + ".)";
            say(text);
            return done(true);
        }
        return checked_refusal(r);
    }

    // ---- the response ----

    std::optional<sdk::ProviderResponse> call(const std::string& tool, json::object args) {
        if (!has_tool(request_, tool)) return std::nullopt;
        state_["pending"] = tool;
        response_.tool_calls.push_back(
            {"call_booking_" + std::to_string(request_.step + 1), tool, std::move(args)});
        response_.text.clear();
        response_.options.clear();
        return done(false);
    }

    void say(std::string text) { response_.text = std::move(text); }

    /// The response with the state kept for the next message, or forgotten when `finished`.
    std::optional<sdk::ProviderResponse> done(bool finished) {
        if (finished) {
            response_.session_updates[kKey] = nullptr;
        } else {
            if (!state_.contains("language")) state_["language"] = language_;
            state_["at"] = now_minute_;
            response_.session_updates[kKey] = state_;
        }
        return std::move(response_);
    }

    const sdk::ProviderRequest& request_;
    sdk::HostServices& host_;
    bool en_;
    std::string language_;
    json::object state_;
    json::object customer_;
    std::string message_;
    std::string folded_;
    std::vector<std::string> words_;
    Today today_;
    std::int64_t now_minute_ = 0;  ///< the clock, in minutes since the epoch
    When when_;
    sdk::ProviderResponse response_;
};

}  // namespace

std::optional<sdk::ProviderResponse> booking_answer(const sdk::ProviderRequest& request,
                                                    sdk::HostServices& host, const std::string& language) {
    if (!has_tool(request, "check_availability")) return std::nullopt;
    Dialogue dialogue(request, host, language);
    return request.step == 0 ? dialogue.begin() : dialogue.after_tools();
}

}  // namespace tezgah::plugins::local
