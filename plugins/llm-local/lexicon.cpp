// The words the offline assistant knows, in folded form (lower case, Turkish letters folded to
// ASCII: "fiyatı" → "fiyati"). Product and business words come from the tenant's data instead.
#include "assistant.hpp"

#include <tezgah/sdk/text.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <set>
#include <unordered_map>

namespace tezgah::plugins::local {
namespace text = sdk::text;
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool any_phrase(std::string_view folded, std::initializer_list<std::string_view> phrases) {
    return std::any_of(phrases.begin(), phrases.end(),
                       [&](std::string_view p) { return has_phrase(folded, p); });
}

/// One of `words` is exactly one of `exact`.
bool any_word_of(const std::vector<std::string>& words, std::initializer_list<std::string_view> exact) {
    return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
        return std::find(exact.begin(), exact.end(), w) != exact.end();
    });
}

const std::set<std::string, std::less<>>& stop_words() {
    // clang-format off
    static const std::set<std::string, std::less<>> words = {
        // Turkish
        "ve", "veya", "ya", "ile", "de", "da", "mi", "mu", "ne", "nedir", "neler", "nelerdir",
        "nasil", "kac", "kaca", "kadar", "para", "tl", "lira", "bir", "bu", "su", "o", "icin",
        "var", "yok", "mevcut", "peki", "acaba", "sizde", "sizin", "size", "sizden", "bana", "ben",
        "biz", "siz", "hangi", "hangisi", "hangileri", "olan", "olani", "olanin", "olanlar",
        "olanlari", "olanlarin", "olandan", "olanlardan", "fiyat", "fiyati", "fiyatlari", "fiyatlar", "fiyatiniz",
        "fiyatlariniz", "fiyatini", "ucret", "ucreti", "ucretler", "ucretleri", "ucretiniz",
        "ucretli", "stok", "stokta", "stoklarda", "stokda", "stoklar", "kaldi", "kalmis", "lutfen",
        "istiyorum", "isterim", "istiyordum", "almak", "alabilir", "alabilirmiyim", "miyim",
        "misiniz", "musunuz", "misin", "musun", "mudur", "midir", "dir", "dur", "satiyor",
        "satiyormusunuz", "satiyorsunuz", "bulunuyor", "bulunur", "elinizde", "hakkinda", "bilgi",
        "verir", "verebilir", "misiniz", "ogrenmek", "soyler", "soyleyebilir", "detay", "detayli",
        "detaylari", "ozellik", "ozellikleri", "cesit", "cesitleri", "cesitler", "cesitleriniz",
        "model", "modeller", "modelleri", "modelleriniz", "secenek", "secenekleri", "urun",
        "urunler", "urunleri", "urunleriniz", "urunu", "urununuz", "tane", "en", "cok", "daha",
        "gibi", "ama", "fakat", "yani", "simdi", "hem", "ise", "ki", "varmi", "yokmu", "kacta",
        "neymis", "hani", "iste", "abi", "hocam", "efendim", "var mi", "mevcutmu", "ayrica",
        "yalnizca", "sadece", "peki", "onun", "bunun", "sunun", "onu", "bunu", "ona", "buna",
        "kac", "kactir", "kacadir", "olur", "olurmu", "oluyor", "mudur", "nedir", "hepsi",
        "tum", "butun", "listesi", "liste", "listele", "goster", "gosterir", "gosterebilir",
        "bakiyorum", "ariyorum", "arıyorum", "lazim", "gerek", "gerekiyor", "mi", "mu", "hala",
        "nelerdir", "neleriniz", "ne var", "sey", "seyler", "zaman", "acil", "sahip", "bakabilir",
        "yardimci", "olabilir", "musunuz", "acaba", "tesekkurler", "merhaba", "selam",
        // both of them, together: a sum asked for
        "ikisi", "ikisini", "ikisinin", "ikisine", "birlikte", "beraber", "both", "together",
        // paying ("ne öderim"): the price asked, not a product
        "oderim", "oderiz", "odesem", "odesek", "odeyecegim", "odeyecegiz", "odemem", "odemek",
        // English
        "the", "a", "an", "is", "are", "was", "do", "does", "did", "you", "your", "yours", "have",
        "has", "any", "some", "of", "for", "to", "in", "on", "at", "it", "its", "this", "that",
        "these", "those", "what", "which", "how", "much", "many", "price", "prices", "cost",
        "costs", "sell", "selling", "stock", "available", "availability", "please", "hi", "hello",
        "hey", "i", "me", "my", "we", "our", "us", "can", "could", "would", "like", "want",
        "need", "get", "buy", "there", "about", "tell", "show", "list", "and", "or", "also",
        "one", "ones", "kind", "kinds", "type", "types", "options", "details", "info",
        "information", "more", "left", "still", "with", "from", "by", "just", "looking", "look",
        "else", "got", "whats", "be", "will", "so", "then", "ok", "okay", "thanks", "too",
        "them", "they", "offer", "carry", "much", "currently", "right", "now", "if", "item",
        "items", "product", "products", "range", "all", "please", "know", "id", "im", "am",
        "ill", "ll", "take", "owe",  // "I'll take 3 simits, what do I owe?"
        "aldim", "aldik", "alicam", "alacagiz", "alalim",  // "brownie ve trileçe aldım, toplam?"
        "herkese", "herkes", "everyone", "everybody",      // "5 kişiyiz, herkese bir çay"
        // small talk said alongside a question
        "merhabalar", "selamlar", "slm", "mrb", "iyi", "gunler", "aksamlar", "gunaydin",
        "tesekkur", "ederim", "sagol", "sagolun", "kolay", "gelsin", "thank", "good", "morning",
        "evening", "afternoon", "tamam", "hanim", "bey", "abla", "sey", "dear",
        // how often ("I'm usually a 42", "genelde 38 giyiyorum")
        "usually", "normally", "generally", "always", "genelde", "genellikle", "normalde",
        "yapiyor", "yapiyormusunuz", "yapiyorsunuz", "yapilir", "yapilabilir", "ediyor",
        "ediyorsunuz", "ediyormusunuz", "kabul", "mumkun", "edebilir", "edebilirim",
        "edebilirmiyim", "edebilirsiniz", "verebilirmiyim", "vermek", "verebilirim",
        // superlatives and restock questions ("en ucuz pijama", "ne zaman gelir")
        "ucuz", "ucuzu", "ucuzlari", "uygun", "uygunu", "hesapli", "hesaplisi", "ekonomik",
        "dusuk", "yuksek", "pahali", "pahalisi", "fiyatli", "cheapest", "cheap", "least",
        "expensive", "most", "priciest", "lowest", "highest", "gelir", "gelecek", "gelecektir",
        "girer", "girecek", "tekrar", "yeniden", "stoga", "stoklara", "when", "back", "restock",
        "restocked", "come", "stokta", "tukendi", "tukenmis", "tukendimi", "bitti", "bitmis",
        "sold", "out", "acaba", "hala", "halen",
        // booking words around a service's name ("fizyoterapi randevusu ücretli mi")
        "randevu", "randevusu", "randevum", "randevumu", "randevular", "rezervasyon",
        "appointment", "booking",
        // the question itself, not its subject: totals, verbs of buying, wearing and teaching,
        // people and delivery times ("kaça eder", "3 tane alırsam", "hoca kim", "giyiyorum")
        "tutar", "tutuyor", "tutari", "eder", "ederi", "toplam", "toplami", "toplamda", "total", "altogether",
        "owe", "kilosu", "kilosunu", "kilolugu",
        "dahil", "dahilinde", "including", "included",
        "alirsam", "alsam", "alirsak", "alsak", "alacagim", "alayim", "alirim", "alacam", "olursa",
        "adet", "tanesini", "tanesi", "pieces", "piece", "pcs", "x",
        "iki", "uc", "dort", "bes", "alti", "yedi", "sekiz", "dokuz", "two", "three", "four",
        "five", "six", "seven", "eight", "nine", "ten",
        "yirmi", "otuz", "kirk", "elli", "altmis", "yetmis", "seksen", "doksan", "eleven", "twelve",
        "twenty", "thirty", "forty", "fifty", "dozen", "duzine", "couple",
        "yarim", "ceyrek", "bucuk", "half", "quarter",
        // people a service is for ("2 kişi manikür", "for two people"); the bill ("hesap ne olur")
        "kisi", "kisilik", "people", "person", "persons", "hesap", "hesabi",
        "kim", "kimler", "kimdir", "who", "whom", "hoca", "hocasi", "hocalar", "hocalari",
        "egitmen", "egitmeni", "egitmenler", "teacher", "teaches", "instructor", "instructors",
        "veriyor", "veren", "verir", "teach", "giyiyorum", "giyerim", "surer", "suruyor", "surmek",
        "sure", "sureci",
    };
    // clang-format on
    return words;
}

// Words that carry a question about a product rather than name it.
const std::set<std::string, std::less<>>& cue_words() {
    // clang-format off
    static const std::set<std::string, std::less<>> words = {
        "beden", "bedeni", "bedenleri", "bedenler", "bedenler", "bedenlerin", "bedeniniz",
        "bedenleriniz", "renk", "rengi", "renkleri", "renkler", "renkte", "renkleriniz", "kumas",
        "kumasi", "kumaslari", "olcu", "olculeri", "malzeme", "malzemesi", "size", "sizes",
        "color", "colors", "colour", "colours", "fabric", "material", "made", "sure", "suruyor",
        "surer", "dakika", "dk", "long", "minutes", "duration", "ozellikleri", "numara",
        "take", "takes", "last", "lasts", "hours", "saat", "cift", "pair", "pairs",
        "numarasi", "numaralari",
        // units a price or amount is asked by ("kilosu kaç para", "dilimi ne kadar")
        "kilo", "kilosu", "kilogram", "kg", "gram", "grami", "gramaj", "gramaji", "porsiyon",
        "porsiyonu", "dilim", "dilimi", "tanesi", "adedi",
    };
    // clang-format on
    return words;
}

}  // namespace

bool has_phrase(std::string_view folded, std::string_view phrase) {
    std::size_t pos = 0;
    while ((pos = folded.find(phrase, pos)) != std::string_view::npos) {
        bool left = pos == 0 || folded[pos - 1] == ' ';
        std::size_t end = pos + phrase.size();
        bool right = end == folded.size() || folded[end] == ' ';
        if (left && right) return true;
        ++pos;
    }
    return false;
}

bool has_prefix_word(const std::vector<std::string>& words,
                     std::initializer_list<std::string_view> prefixes) {
    for (const auto& w : words)
        for (auto p : prefixes)
            if (starts_with(w, p)) return true;
    return false;
}

std::string verb_root(std::string_view w) {
    for (std::string_view ending : {"abilirim", "ebilirim", "abiliriz", "ebiliriz", "abilir", "ebilir"}) {
        if (w.size() < ending.size() + 4 || !w.ends_with(ending)) continue;
        return std::string(w.substr(0, w.size() - ending.size()));
    }
    return {};
}

bool is_verb_form(std::string_view w) {
    if (w.size() < 6) return false;
    for (std::string_view ending :
         {"iyorum", "iyoruz",   "iyorsunuz", "iyor",     "uyor",     "uyorum", "irsam", "ursam",
          "arsam",  "ersem",    "irsem",     "ursak",    "irsak",    "arsak",  "ersek", "abilir",
          "ebilir", "abilirim", "ebilirim",  "abiliriz", "ebiliriz", "acagim", "ecegim"})
        if (w.size() >= ending.size() + 2 && w.substr(w.size() - ending.size()) == ending) return true;
    return false;
}

bool is_stop_word(std::string_view w) {
    if (w.size() < 2 || stop_words().count(w) > 0 || is_verb_form(w)) return true;
    // "kaş aldırmak", "manikür yaptırmak istiyorum": the verb of having a service done; the
    // service's own name says what is asked for.
    for (std::string_view verb : {"yaptir", "aldir", "ettir"})
        if (starts_with(w, verb)) return true;
    return false;
}

bool is_cue_word(std::string_view w) { return cue_words().count(w) > 0; }

int number_word(std::string_view w) {
    // Not "yüz" (a hundred), which is also the face of "yüz bakımı".
    static const std::pair<std::string_view, int> kNumbers[] = {
        {"iki", 2},     {"uc", 3},      {"dort", 4},    {"bes", 5},     {"alti", 6},    {"yedi", 7},
        {"sekiz", 8},   {"dokuz", 9},   {"on", 10},     {"yirmi", 20},  {"otuz", 30},   {"kirk", 40},
        {"elli", 50},   {"altmis", 60}, {"yetmis", 70}, {"seksen", 80}, {"doksan", 90}, {"duzine", 12},
        {"two", 2},     {"three", 3},   {"four", 4},    {"five", 5},    {"six", 6},     {"seven", 7},
        {"eight", 8},   {"nine", 9},    {"ten", 10},    {"eleven", 11}, {"twelve", 12}, {"twenty", 20},
        {"thirty", 30}, {"forty", 40},  {"fifty", 50},  {"dozen", 12},  {"couple", 2}};
    for (const auto& [word, n] : kNumbers)
        if (w == word) return n;
    return 0;
}

std::string english_unit(std::string_view unit, int n) {
    if (unit == "çift") return n == 1 ? "pair" : "pairs";
    if (unit == "porsiyon") return n == 1 ? "portion" : "portions";
    if (unit == "kişi") return n == 1 ? "person" : "people";
    if (unit == "kutu") return n == 1 ? "box" : "boxes";
    return std::string(unit);
}

std::string quantity_unit(std::string_view w) {
    // "2 tanesi ne tutar", "üç adedi": the count of the offering just talked about.
    if (w == "tane" || w == "adet" || w == "piece" || w == "pieces" || w == "pcs" || w == "x" ||
        w == "tanesi" || w == "tanesini" || w == "adedi")
        return "adet";
    if (w == "cift" || w == "pair" || w == "pairs") return "çift";
    if (w == "kg" || w == "kilo" || w == "kilogram" || w == "kilos" || w == "kilosu" || w == "kilosunu")
        return "kg";
    if (starts_with(w, "porsiyon") || w == "portions" || w == "portion") return "porsiyon";
    if (starts_with(w, "dilim") || w == "slices" || w == "slice") return "dilim";
    if (starts_with(w, "paket") || w == "packs" || w == "pack") return "paket";
    if (starts_with(w, "kutu") || w == "box" || w == "boxes") return "kutu";
    // "2 kişi manikür": a service for two is two of it ("iki kişilik düet" names one offering).
    if (w == "kisi" || w == "kisiyiz" || w == "people" || w == "person" || w == "persons") return "kişi";
    if (w == "ders" || w == "seans" || w == "classes" || w == "lessons" || w == "sessions") return "ders";
    return {};
}

bool looks_english(std::string_view message, const std::vector<std::string>& words,
                   const std::set<std::string_view>& english_words) {
    if (words.empty() || words.size() > 6) return false;
    if (std::any_of(message.begin(), message.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        return false;
    static const std::set<std::string, std::less<>> kCommon = {
        "free", "wifi", "wi", "fi", "parking", "delivery", "refund", "returns", "open", "closed", "hours",
        "price", "shipping", "cost", "card", "cash", "toilet", "kids", "address", "phone", "email", "menu",
        "gluten", "vegan", "sugar", "shower", "showers", "trial", "class", "classes", "lesson", "lessons",
        "haircut", "beard", "today", "tomorrow", "two", "three", "four", "five", "six", "seven", "eight",
        "nine", "ten", "pieces",
        // days, people and the words that ask about them
        "todays", "tomorrows", "tonight", "weekend", "timetable", "schedule", "instructor", "instructors",
        "teacher", "teachers", "staff", "stylist", "stylists", "what", "when", "who", "where", "which",
        // shop words customers ask with alone ("installments?", "exchange?")
        "installment", "installments", "instalment", "instalments", "payment", "exchange", "invoice",
        "discount", "wholesale", "gift", "wrap", "wrapping", "colour", "color", "sizes", "appointment",
        "booking", "cancel", "cancellation", "allergens", "allergy", "ingredients"};
    static const std::set<std::string, std::less<>> kTurkish = {
        "ve", "mi", "mu", "var", "yok", "ne",   "kac",   "kadar",  "fiyat", "fiyati", "bir",  "bu",
        "su", "de", "da", "ki",  "ile", "icin", "nasil", "nerede", "hangi", "peki",   "acik", "kapali"};
    int english = 0;
    for (const auto& w : words) {
        if (kTurkish.count(w) || is_verb_form(w)) return false;
        // "installments" for the tenant's "installment": an English plural counts too.
        if (kCommon.count(w) || english_words.count(w) ||
            (w.size() > 4 && w.back() == 's' &&
             english_words.count(std::string_view(w).substr(0, w.size() - 1))))
            ++english;
    }
    return english > 0;
}

namespace {

/// "gramajı ne", "kaç gram": the weight of an item, not an amount of it ("250 gram baklava").
bool asks_weight_of_item(const std::vector<std::string>& words) {
    for (std::size_t k = 0; k < words.size(); ++k)
        if (starts_with(words[k], "gram") &&
            (k == 0 || !std::isdigit(static_cast<unsigned char>(words[k - 1][0]))))
            return true;
    return false;
}

Cues read_cues(std::string_view folded) {
    const auto words = text::tokens(folded);
    Cues c;
    c.duration = (has_prefix_word(words, {"sur"}) && any_phrase(folded, {"ne kadar", "kac"})) ||
                 any_phrase(folded, {"kac dakika", "kac dk", "how long", "how many minutes", "how many hours",
                                     "ne kadar surer", "ne kadar suruyor", "duration"});
    c.price =
        !c.duration && (has_prefix_word(words, {"fiyat", "ucret", "kaca", "pahali", "ucuz"}) ||
                        any_phrase(folded, {"ne kadar", "kac para", "kac tl", "kac lira", "how much", "price",
                                            "prices", "cost", "costs", "pricing", "fee", "fees", "rate",
                                            "rates", "what does it cost", "do i owe"}) ||
                        // what an order comes to ("ne tutar", "toplam", "total")
                        has_prefix_word(words, {"tutar", "toplam"}) ||
                        any_phrase(folded, {"total", "hesap ne", "hesabi ne", "hesap kac", "hesabi kac"}));
    c.restock =
        any_phrase(folded, {"ne zaman gelir", "ne zaman gelecek", "ne zaman gelecektir", "tekrar gelir",
                            "tekrar gelecek", "yeniden gelir", "yeniden gelecek", "stoga girer",
                            "stoga girecek", "stoklara girer", "stoga ne zaman", "ne zaman stoga",
                            "back in stock", "restock", "restocked", "when will", "come back", "be back"});
    c.stock = c.restock || has_prefix_word(words, {"stok", "stog"}) ||
              any_phrase(folded, {"kaldi mi", "kalmis mi", "bulunuyor mu", "mevcut mu", "mevcut", "elinizde",
                                  "in stock", "stock", "available", "availability", "sold out", "any left",
                                  "out of stock", "tukendi", "tukenmis"});
    c.details =
        has_prefix_word(words, {"beden", "renk", "kumas", "olcu", "malzeme", "ozellik", "detay", "numara"}) ||
        asks_weight_of_item(words) || any_phrase(folded, {"size",           "sizes",
                                                          "color",          "colors",
                                                          "colour",         "colours",
                                                          "fabric",         "material",
                                                          "made of",        "details",
                                                          "detail",         "tell me about",
                                                          "what is it",     "nasil bir",
                                                          "neyden",         "hakkinda bilgi",
                                                          "bilgi verir",    "bilgi alabilir",
                                                          "anlatir",        "describe",
                                                          "neler dahil",    "ne dahil",
                                                          "dahil mi",       "what s included",
                                                          "whats included", "what is included",
                                                          "include",        "includes"});
    c.have = any_phrase(folded,
                        {"var mi",         "varmi",          "var midir",  "yok mu",      "satiyor musunuz",
                         "satiyormusunuz", "satiyor musun",  "bulunur mu", "do you have", "do you sell",
                         "do you carry",   "have you got",   "is there",   "are there",   "got any",
                         "can i buy",      "can i get",      "i want",     "i need",      "i am looking for",
                         "im looking for", "looking for",    "istiyorum",  "ariyorum",    "almak istiyorum",
                         "lazim",          "alabilir miyim", "bakiyorum"});
    if (any_phrase(folded, {"en ucuz", "en ucuzu", "en ucuzlari", "en uygun", "en uygunu", "en hesapli",
                            "en hesaplisi", "en ekonomik", "en dusuk fiyat", "en dusuk fiyatli", "cheapest",
                            "least expensive", "lowest price"}))
        c.extreme = "min";
    else if (any_phrase(folded, {"en pahali", "en pahalisi", "en yuksek fiyat", "en yuksek fiyatli",
                                 "most expensive", "priciest", "highest price"}))
        c.extreme = "max";
    if (!c.extreme.empty()) c.price = true;
    c.list = has_prefix_word(words, {"cesit", "model", "secenek", "listele"}) ||
             any_phrase(folded, {"hangi",
                                 "hangileri",
                                 "neler",
                                 "nelerdir",
                                 "ne var",
                                 "neleriniz",
                                 "ne tur",
                                 "ne cesit",
                                 "which",
                                 "what kind",
                                 "what kinds",
                                 "what types",
                                 "what type",
                                 "options",
                                 "list",
                                 "show me",
                                 "what do you have",
                                 "what do you sell",
                                 "what do you offer",
                                 "what are your",
                                 "range",
                                 "menu",
                                 "fiyat listesi",
                                 "price list",
                                 "neler satiyorsunuz",
                                 "ne satiyorsunuz",
                                 "neler satiyorsun",
                                 "ne satiyorsun"});
    return c;
}

}  // namespace

Cues detect_cues(std::string_view folded) {
    // One turn asks about the same words many times (each reading of the message, each clause):
    // the last few answers are kept per thread. The cues depend on the text alone.
    struct Memo {
        std::string text;
        Cues cues;
        bool used = false;
    };
    thread_local std::array<Memo, 8> memo;
    thread_local std::size_t next = 0;
    for (const auto& m : memo)
        if (m.used && m.text == folded) return m.cues;
    Cues cues = read_cues(folded);
    auto& slot = memo[next++ % memo.size()];
    slot.text.assign(folded);
    slot.cues = cues;
    slot.used = true;
    return cues;
}

SmallTalk detect_small_talk(std::string_view folded, std::string& rest) {
    struct Phrase {
        std::string_view words;
        SmallTalk kind;
    };
    // clang-format off
    static constexpr std::array<Phrase, 55> kPhrases{{
        {"iyi gunler", SmallTalk::greeting_or_farewell},
        {"iyi aksamlar", SmallTalk::greeting_or_farewell},
        {"tunaydin", SmallTalk::greeting},
        {"merhabalar", SmallTalk::greeting},
        {"merhaba", SmallTalk::greeting},
        {"selamlar", SmallTalk::greeting},
        {"selamun aleykum", SmallTalk::greeting},
        {"selam", SmallTalk::greeting},
        {"slm", SmallTalk::greeting},
        {"mrb", SmallTalk::greeting},
        {"mrhaba", SmallTalk::greeting},
        {"gunaydin", SmallTalk::greeting},
        {"kolay gelsin", SmallTalk::greeting},
        {"hello there", SmallTalk::greeting},
        {"hello", SmallTalk::greeting},
        {"hi there", SmallTalk::greeting},
        {"hi", SmallTalk::greeting},
        {"hey", SmallTalk::greeting},
        {"good morning", SmallTalk::greeting},
        {"good afternoon", SmallTalk::greeting},
        {"good evening", SmallTalk::greeting},
        {"cok tesekkur ederim", SmallTalk::thanks},
        {"tesekkur ederim", SmallTalk::thanks},
        {"tesekkur ederiz", SmallTalk::thanks},
        {"tesekkurler", SmallTalk::thanks},
        {"tesekkur", SmallTalk::thanks},
        {"tsk", SmallTalk::thanks},
        {"tskler", SmallTalk::thanks},
        {"sagolun", SmallTalk::thanks},
        {"sagol", SmallTalk::thanks},
        {"sag olun", SmallTalk::thanks},
        {"eyvallah", SmallTalk::thanks},
        {"thank you very much", SmallTalk::thanks},
        {"thank you", SmallTalk::thanks},
        {"thanks a lot", SmallTalk::thanks},
        {"thanks", SmallTalk::thanks},
        {"thx", SmallTalk::thanks},
        {"gorusuruz", SmallTalk::farewell},
        {"hosca kalin", SmallTalk::farewell},
        {"hoscakalin", SmallTalk::farewell},
        {"hosca kal", SmallTalk::farewell},
        {"iyi geceler", SmallTalk::farewell},
        {"goodbye", SmallTalk::farewell},
        {"good bye", SmallTalk::farewell},
        {"bye", SmallTalk::farewell},
        {"see you", SmallTalk::farewell},
        {"have a nice day", SmallTalk::farewell},
        {"tamamdir", SmallTalk::ack},
        {"tamam", SmallTalk::ack},
        {"anladim", SmallTalk::ack},
        {"okay", SmallTalk::ack},
        {"ok", SmallTalk::ack},
        {"got it", SmallTalk::ack},
        {"super", SmallTalk::ack},
        {"harika", SmallTalk::ack},
    }};
    // clang-format on
    std::string remaining(folded);
    SmallTalk found = SmallTalk::none;
    // Thanks or a farewell outranks a greeting said in the same breath ("merhaba, teşekkürler").
    auto rank = [](SmallTalk k) {
        switch (k) {
            case SmallTalk::farewell:
                return 5;
            case SmallTalk::thanks:
                return 4;
            case SmallTalk::greeting_or_farewell:
                return 3;
            case SmallTalk::greeting:
                return 2;
            case SmallTalk::ack:
                return 1;
            default:
                return 0;
        }
    };
    for (const auto& p : kPhrases) {
        while (has_phrase(remaining, p.words)) {
            // Cut the phrase out of " remaining " (GCC 12 misreads string::replace here).
            std::string padded(1, ' ');
            padded.append(remaining).push_back(' ');
            std::string needle(1, ' ');
            needle.append(p.words).push_back(' ');
            const auto pos = padded.find(needle);
            std::string cut = padded.substr(0, pos);
            cut.push_back(' ');
            cut.append(padded, pos + needle.size());
            remaining = text::fold(cut);
            if (rank(p.kind) > rank(found)) found = p.kind;
        }
    }
    // Leftover politeness and pronouns do not make a question.
    std::string kept;
    bool meaningful = false;
    for (const auto& w : text::tokens(remaining)) {
        if (!kept.empty()) kept += ' ';
        kept += w;
        static const std::set<std::string, std::less<>> kPolite = {
            "cok",     "size",  "sizlere",    "ederim",  "very",  "much",   "you",     "a",
            "lot",     "and",   "ve",         "de",      "da",    "ben",    "efendim", "hanim",
            "bey",     "hocam", "abi",        "abla",    "canim", "tekrar", "again",   "there",
            "for",     "all",   "everything", "herkese", "o",     "zaman",  "peki",    "yardiminiz",
            "icin",    "help",  "your",       "the",     "oldu",  "ederiz", "kendine", "iyi",
            "dilerim", "gun",   "day",        "nice",    "great", "have"};
        if (kPolite.count(w) == 0) meaningful = true;
    }
    rest = meaningful ? kept : std::string();
    return found;
}

namespace {

/// A request for a person: a word for staff ("temsilcinize", "yetkiliyle", "operatöre"), a
/// person with a verb of reaching them ("gerçek bir kişiyle konuşmak", "birine bağlar mısınız"),
/// or a call back ("beni arayın", "call me back"). "sizi arayabilir miyim" asks for our number.
bool asks_for_person(std::string_view folded, const std::vector<std::string>& words) {
    if (has_prefix_word(
            words, {"temsilci", "yetkili", "operator", "personel", "calisaniniz", "calisanla", "calisana",
                    "mudurle", "mudure", "mudurunuz", "mudurunuze", "sorumlusu", "sorumluyla", "sorumluya"}))
        return true;
    if (any_phrase(folded, {"musteri hizmet", "musteri hizmetleri", "musteri hizmetlerine",
                            "musteri hizmetleriyle", "sorumlu kisi", "sorumlu biri"}))
        return true;
    // "canlı destek", "canlı desteğe bağlanmak".
    for (std::size_t k = 0; k + 1 < words.size(); ++k)
        if (words[k] == "canli" &&
            (starts_with(words[k + 1], "deste") || starts_with(words[k + 1], "temsil") ||
             starts_with(words[k + 1], "yardim")))
            return true;
    // A person ("insanla", "gerçek bir kişi", "biriyle") with a verb of reaching them.
    const bool person =
        has_prefix_word(words, {"insanla", "insana", "insanin", "kisiyle", "kisiye", "biriyle", "birine",
                                "birisiyle", "birisine", "birini"}) ||
        any_phrase(folded, {"bir insan", "gercek insan", "gercek kisi", "gercek bir kisi", "gercek biri"});
    const bool reach =
        has_prefix_word(words, {"gorus", "konus", "bagla", "bagli", "aktar", "yonlendir", "ulas", "yaz"});
    if (person &&
        (reach || any_phrase(folded, {"gercek insan", "gercek kisi", "gercek bir kisi", "gercek biri"})))
        return true;
    // Call me back: "beni arayın", "arar mısınız", "geri arama", "bana dönüş yapın".
    if (any_phrase(folded, {"beni arayin",
                            "beni arar misiniz",
                            "beni arayabilir misiniz",
                            "beni arayabilirmisiniz",
                            "beni ara",
                            "beni geri",
                            "bizi arayin",
                            "arar misiniz",
                            "ararmisiniz",
                            "arayabilir misiniz",
                            "arayabilirmisiniz",
                            "arayin beni",
                            "geri arama",
                            "geri arayin",
                            "geri arar",
                            "beni aramanizi",
                            "bana donus",
                            "bana geri donus",
                            "donus yapar misiniz",
                            "donus yapabilir misiniz",
                            "kimse yok mu",
                            "kimse var mi",
                            "biri var mi",
                            "birisi var mi"}))
        return true;
    // English.
    return any_phrase(folded, {"talk to a person",
                               "talk to a human",
                               "speak to a person",
                               "speak to a human",
                               "speak to someone",
                               "talk to someone",
                               "speak with someone",
                               "talk with someone",
                               "speak with a person",
                               "talk with a person",
                               "real person",
                               "real human",
                               "human agent",
                               "live agent",
                               "live support",
                               "live chat",
                               "live person",
                               "representative",
                               "representatives",
                               "customer service",
                               "customer support",
                               "manager",
                               "a human",
                               "an agent",
                               "agent",
                               "agents",
                               "human",
                               "operator",
                               "someone from",
                               "call me",
                               "call me back",
                               "callback",
                               "call back",
                               "ring me",
                               "phone me",
                               "staff member",
                               "member of staff",
                               "someone from the store",
                               "a real one",
                               "anyone there",
                               "anybody there"});
}

}  // namespace

std::string detect_handoff(std::string_view folded, const std::vector<std::string>& topics) {
    const auto words = text::tokens(folded);
    // A complaint or an injury is answered with an apology even when it also asks for a person.
    const bool person = asks_for_person(folded, words);
    // An injury is a person's matter at once, whatever else the message asks.
    // Pain said as it is felt now or was felt ("belim ağrıyor", "dizim acıdı"), not a pain asked
    // about ("bel ağrısı için hangi ders").
    if (has_prefix_word(words, {"sakatla", "sakatlan", "yaralan", "yaraladi", "incittim", "incindi", "burkul",
                                "injur", "incinme", "agriyor", "agridi", "sprain"}) ||
        // ("açıyor", opening, folds the same as "acıyor", hurting: only with a word that says pain)
        any_word_of(words, {"acidi", "hurts", "hurting"}) ||
        any_phrase(folded, {"cok aciyor", "hala aciyor", "canim aciyor", "dizim aciyor", "belim aciyor"}) ||
        any_phrase(folded, {"hurt my", "i got hurt", "i was hurt", "got injured", "canim yandi",
                            "canimi yakti", "in pain", "pulled a muscle", "pulled my"}))
        return "injury";
    if (has_prefix_word(
            words, {"sikayet", "rezalet", "berbat", "complain", "terribl", "horribl", "awful", "disgust",
                    "unacceptabl", "dolandir", "magdur", "rezil",
                    // anger, and what went wrong with an order or a product
                    "kizgin", "sinirlen", "sinirliy", "angry", "furious", "upset", "bayat", "kuflu", "stale",
                    "mouldy", "moldy", "kayboldu", "kaybolmus", "kirik geldi",
                    // harm done by what was sold or done: poisoning, sickness, a reaction, hair lost
                    "zehirlen", "poisoned", "hastalan", "kustu", "kusmaya", "ishal", "vomit", "kasiniyor",
                    "kasindi", "kizardi", "kizariklik", "dokuldu", "dokulmeye", "overcharg", "mahvet",
                    "mahvol", "ruined", "rash"}) ||
        // ("kaba" alone is also coarse hair: only rudeness said of someone)
        any_word_of(words, {"kabaydi", "rude", "saygisiz", "saygisizdi", "yandi"}) ||
        any_phrase(folded, {"kaba davran", "cok kaba", "kaba konus"}) ||
        any_phrase(folded, {"cok kotu",
                            "kotu bir",
                            "memnun degilim",
                            "memnun kalmadim",
                            "hic memnun",
                            "beni kandirdiniz",
                            "kandirildim",
                            "paramı",
                            "worst",
                            "very bad",
                            "not happy",
                            "disappointed",
                            "scam",
                            "ripped off",
                            "hala gelmedi",
                            "still not arrived",
                            "never arrived",
                            "yirtik geldi",
                            "bozuk geldi",
                            "kusurlu",
                            "defective",
                            "arrived damaged",
                            "came damaged",
                            "was damaged",
                            "is damaged",
                            "damaged item",
                            "damaged package",
                            "received a damaged",
                            "hasarli geldi",
                            "hasarli urun",
                            "hasarli paket",
                            "siparisim gelmedi",
                            "kargom gelmedi",
                            "paketim gelmedi",
                            "siparisim ulasmadi",
                            "kargom ulasmadi",
                            "urunum gelmedi",
                            "yanlis urun",
                            "yanlis geldi",
                            "eksik geldi",
                            "eksik gonder",
                            "sac cikti",
                            "bocek cikti",
                            "wrong item",
                            "wrong order",
                            "didn t arrive",
                            "has not arrived",
                            "hasn t arrived",
                            "lost my",
                            "lost package",
                            "was lost",
                            "hair in",
                            "a bug in",
                            "i want a refund",
                            "param iade",
                            "paramı iade",
                            "got sick",
                            "fell ill",
                            "made me sick",
                            "was sick",
                            "midem bulan",
                            "midem bozul",
                            "fazla ucret",
                            "fazla para",
                            "allergic reaction"}))
        return "complaint";
    if (person) return "human";
    if (auto topic = text::matching_topic(folded, topics)) return "topic: " + *topic;
    return {};
}

std::vector<std::string> detect_business_topics(std::string_view folded, bool only_place_words) {
    const auto words = text::tokens(folded);
    std::vector<std::string> topics;
    if (has_prefix_word(words, {"saat", "mesai", "acilis", "kapanis", "acik", "kapali", "acilir", "aciliyor",
                                "kapan", "acar", "acik", "hours", "aciyor"}) ||
        any_phrase(folded, {"kacta", "kaca kadar", "calisiyor musunuz", "calisiyormusunuz", "calisma saat",
                            "open", "opening", "close", "closing", "closed", "when are you", "what time",
                            "acmis", "acarsiniz"}))
        topics.emplace_back("hours");
    if (has_prefix_word(words, {"adres", "konum", "lokasyon", "address", "location", "locat"}) ||
        any_phrase(folded, {"yol tarifi", "directions", "how do i get", "nasil gelirim", "nasil gelebilirim",
                            "nasil ulasabilirim", "harita"}) ||
        (only_place_words && any_phrase(folded, {"nerede", "neredesiniz", "nerdesiniz", "nerde", "where",
                                                 "hangi semt", "neresi"})))
        topics.emplace_back("address");
    bool contact = has_prefix_word(words, {"iletisim", "contact"});
    if (contact) {
        topics.emplace_back("contact");
        return topics;
    }
    if (has_prefix_word(words, {"telefon", "phone", "whatsapp", "arayabilir", "numaran", "numarad"}) ||
        any_phrase(folded, {"tel no", "numaraniz", "numaraniz nedir", "numaranizi", "call you", "arayabilir",
                            "sizi arayabilir", "nasil ulasirim", "ulasabilir miyim", "reach you", "number"}))
        topics.emplace_back("phone");
    if (has_prefix_word(words, {"mail", "eposta", "email"}) || any_phrase(folded, {"e posta"}))
        topics.emplace_back("email");
    return topics;
}

std::vector<std::string> info_key_synonyms(std::string_view key) {
    std::vector<std::string> words{std::string(key)};
    struct Entry {
        std::string_view key;
        std::initializer_list<std::string_view> words;
    };
    // clang-format off
    static const Entry kSynonyms[] = {
        {"iade", {"iade", "geri gonder", "geri ver", "return", "returns", "refund"}},
        {"kargo", {"kargo", "gonderim", "shipping", "ship", "postage", "teslimat", "delivery", "deliver"}},
        {"odeme", {"odeme", "taksit", "kredi", "havale", "eft", "kapida", "payment", "pay",
                   "card", "installment", "instalment", "cash"}},
        {"iptal", {"iptal", "cancel", "cancellation", "erteleme", "ertele"}},
        {"otopark", {"otopark", "park", "parking", "arabayla", "car"}},
        {"degisim", {"degisim", "exchange"}},
        {"teslimat", {"teslimat", "delivery"}},
    };
    // clang-format on
    for (const auto& e : kSynonyms)
        if (e.key == key)
            for (auto w : e.words) words.emplace_back(w);
    return words;
}

std::vector<std::string> category_synonyms(std::string_view category) {
    struct Entry {
        std::string_view category;
        std::initializer_list<std::string_view> words;
    };
    // clang-format off
    static const Entry kSynonyms[] = {
        {"gecelik", {"nightgown", "nightgowns", "nightdress", "nightie", "nighties"}},
        {"pijama", {"pyjama", "pyjamas", "pajama", "pajamas", "pjs"}},
        {"sabahlik", {"robe", "robes", "dressing gown"}},
        {"bornoz", {"bathrobe", "bathrobes"}},
        {"ic giyim", {"underwear", "lingerie", "icgiyim", "camasir"}},
        {"corap", {"socks", "sock", "hosiery"}},
        {"termal", {"thermal", "thermals"}},
        {"aksesuar", {"accessory", "accessories"}},
        {"yoga", {"yoga"}},
        {"pilates", {"pilates"}},
        {"nefes", {"breathwork", "breathing"}},
        {"saglik", {"health", "therapy"}},
        {"paket", {"package", "packages", "pass", "passes", "membership"}},
        {"hizmet", {"service"}},
    };
    // clang-format on
    std::vector<std::string> words;
    for (const auto& e : kSynonyms)
        if (e.category == category)
            for (auto w : e.words) words.emplace_back(w);
    return words;
}

std::string general_type_word(const std::vector<std::string>& words) {
    for (const auto& w : words) {
        if (starts_with(w, "ders") || starts_with(w, "hizmet") || starts_with(w, "service") ||
            starts_with(w, "class") || starts_with(w, "lesson") || starts_with(w, "seans") ||
            starts_with(w, "session"))
            return "SERVICE";
        if (starts_with(w, "urun") || w == "products" || w == "product") return "PRODUCT";
    }
    return {};
}

}  // namespace tezgah::plugins::local
