// The booking dialogue of the offline assistant (booking.cpp) and its reading of days and times
// (booking_when.cpp), at a fixed clock: Wednesday 2 December 2026, 09:00 in Istanbul. The
// appointments tools are played by an in-memory book that keeps the shared contract's JSON (one
// resource per service, hourly starts 10:00-18:00, Mondays closed), so every reply below is what a
// customer would read after the engine ran the tool.
#include "../booking.hpp"

#include <tezgah/sdk/plugin.hpp>
#include <tezgah/sdk/testing/fakes.hpp>
#include <tezgah/sdk/text.hpp>

#include <gtest/gtest.h>

#include <date/date.h>

#include <algorithm>
#include <map>
#include <memory>

extern "C" const tezgah::sdk::PluginDescriptor tezgah_plugin_descriptor;  // llm-local's own

namespace {

namespace sdk = tezgah::sdk;
namespace json = boost::json;
namespace local = tezgah::plugins::local;
using sdk::testing::FakeHost;
using namespace std::chrono_literals;

/// 2026-12-02 09:00 Europe/Istanbul (UTC+3), a Wednesday.
std::chrono::system_clock::time_point fixed_now() { return date::sys_days{date::year{2026} / 12 / 2} + 6h; }

local::Today fixed_today() { return local::today_in("Europe/Istanbul", fixed_now()); }

std::string day_of(const local::When& w) { return w.day ? local::date_text(*w.day) : std::string("-"); }
std::string time_of(const local::When& w) { return w.minute >= 0 ? local::hhmm(w.minute) : std::string("-"); }

// ---- the reading of days and times ----

struct WhenCase {
    const char* said;
    const char* day;   ///< "-" when no day is said
    const char* time;  ///< "-" when no time is said
};

class ReadWhen : public ::testing::TestWithParam<WhenCase> {};

TEST_P(ReadWhen, ResolvesAgainstTheTenantsToday) {
    const auto& c = GetParam();
    const auto w = local::read_when(c.said, fixed_today());
    EXPECT_EQ(day_of(w), c.day) << c.said;
    EXPECT_EQ(time_of(w), c.time) << c.said;
}

INSTANTIATE_TEST_SUITE_P(
    Phrases, ReadWhen,
    ::testing::Values(WhenCase{"bugün", "2026-12-02", "-"}, WhenCase{"yarın", "2026-12-03", "-"},
                      WhenCase{"öbür gün", "2026-12-04", "-"}, WhenCase{"cumartesi", "2026-12-05", "-"},
                      WhenCase{"cumartesiye alabilir miyiz", "2026-12-05", "-"},
                      WhenCase{"haftaya salı", "2026-12-08", "-"}, WhenCase{"15 Aralık", "2026-12-15", "-"},
                      WhenCase{"15.12", "2026-12-15", "-"},
                      WhenCase{"15/12 saat 10:30", "2026-12-15", "10:30"},
                      WhenCase{"5 Ocak", "2027-01-05", "-"}, WhenCase{"öğleden sonra 3", "-", "15:00"},
                      WhenCase{"akşam 7", "-", "19:00"}, WhenCase{"yarın akşam 7", "2026-12-03", "19:00"},
                      WhenCase{"sabah 10", "-", "10:00"}, WhenCase{"saat 14:30", "-", "14:30"},
                      WhenCase{"saat 14.30", "-", "14:30"}, WhenCase{"saat 3'te", "-", "15:00"},
                      WhenCase{"yok 4 olsun", "-", "16:00"}, WhenCase{"17:00", "-", "17:00"},
                      WhenCase{"3 Aralık 17:00", "2026-12-03", "17:00"},
                      WhenCase{"tomorrow", "2026-12-03", "-"}, WhenCase{"next Tuesday", "2026-12-08", "-"},
                      WhenCase{"Dec 15", "2026-12-15", "-"}, WhenCase{"3pm", "-", "15:00"},
                      WhenCase{"at 10", "-", "10:00"}, WhenCase{"actually make it 5pm", "-", "17:00"},
                      WhenCase{"Friday at 3pm", "2026-12-04", "15:00"}, WhenCase{"2 kişi için", "-", "-"},
                      WhenCase{"3 gün sonra", "2026-12-05", "-"},
                      WhenCase{"cumartesi olsun", "2026-12-05", "-"}));

TEST(ReadWhen, PartsOfTheDayAndAnotherDay) {
    const auto today = fixed_today();
    auto evening = local::read_when("yarın akşam reformer için yer var mı?", today);
    ASSERT_TRUE(evening.part);
    EXPECT_EQ(evening.part->from, 17 * 60);
    EXPECT_EQ(evening.minute, -1);
    auto afternoon = local::read_when("Friday afternoon", today);
    ASSERT_TRUE(afternoon.part);
    EXPECT_EQ(afternoon.part->from, 12 * 60);
    EXPECT_EQ(day_of(afternoon), "2026-12-04");
    EXPECT_TRUE(local::read_when("başka gün olur mu", today).other_day);
    EXPECT_TRUE(local::read_when("another day?", today).other_day);
    EXPECT_FALSE(local::read_when("randevu almak istiyorum", today).said());
}

// ---- the dialogue ----

/// The appointments tools over an in-memory book, answering as the contract says.
class FakeBook {
public:
    explicit FakeBook(FakeHost& host) : host_(host) {}

    static std::vector<sdk::ToolSpec> specs() {
        auto object = [](json::object properties, json::array required) {
            return json::object{
                {"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
        };
        const json::object string{{"type", "string"}};
        return {
            {"check_availability", "Free times of a service on a day",
             object({{"service", string}, {"date", string}, {"time", string}}, {"service", "date"})},
            {"create_appointment", "Books an appointment",
             object({{"service", string},
                     {"date", string},
                     {"time", string},
                     {"customer_name", string},
                     {"customer_phone", string},
                     {"notes", string}},
                    {"service", "date", "time", "customer_name", "customer_phone"})},
            {"list_my_appointments", "The customer's appointments", object({}, {})},
            {"cancel_appointment", "Cancels one of the customer's appointments",
             object({{"appointment_id", string}}, {"appointment_id"})},
            {"reschedule_appointment", "Moves one of the customer's appointments",
             object({{"appointment_id", string}, {"date", string}, {"time", string}},
                    {"appointment_id", "date", "time"})},
        };
    }

    sdk::ToolResult run(const sdk::ToolCall& call, const std::string& user) {
        sdk::ToolResult out{call.id, call.name, true, nullptr, "", 0};
        calls.push_back(call.name);
        const auto& a = call.arguments;
        auto arg = [&](const char* key) {
            const auto* v = a.if_contains(key);
            return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        if (call.name == "list_my_appointments") {
            json::array mine;
            for (const auto& [id, b] : book_)
                if (b.user == user && b.status == "confirmed") mine.push_back(appointment(id, b));
            out.content = json::object{{"appointments", std::move(mine)}};
            return out;
        }
        if (call.name == "cancel_appointment" || call.name == "reschedule_appointment") {
            auto it = book_.find(arg("appointment_id"));
            if (it == book_.end() || it->second.user != user) {
                out.ok = false;
                out.error = "not_found: no such appointment";
                return out;
            }
            if (call.name == "cancel_appointment") {
                it->second.status = "cancelled";
                const bool late = it->second.date == "2026-12-02" || it->second.date == "2026-12-03";
                out.content = json::object{{"cancelled", true},
                                           {"appointment", appointment(it->first, it->second)},
                                           {"policy", "Randevudan 24 saat öncesine kadar ücretsiz iptal."},
                                           {"late", late}};
                return out;
            }
            auto refusal = refused(it->second.service, arg("date"), arg("time"), it->first);
            if (!refusal.empty()) {
                out.content =
                    json::object{{"rescheduled", false},
                                 {"reason", refusal},
                                 {"message", message_for(refusal)},
                                 {"alternatives", nearest(it->second.service, arg("date"), arg("time"))}};
                return out;
            }
            json::object previous{{"start", it->second.date + "T" + it->second.time + ":00+03:00"}};
            it->second.date = arg("date");
            it->second.time = arg("time");
            out.content = json::object{{"rescheduled", true},
                                       {"appointment", appointment(it->first, it->second)},
                                       {"previous", previous}};
            return out;
        }
        const auto service = resolve(arg("service"));
        if (!service) {
            out.ok = false;
            out.error = "not_found: \"" + arg("service") + "\" adında bir hizmetimiz yok.";
            return out;
        }
        const std::string date = arg("date"), time = arg("time");
        if (call.name == "check_availability") {
            json::object r{{"service", json::object{{"id", service->id},
                                                    {"name", service->name},
                                                    {"duration_min", *service->duration_min},
                                                    {"price", service->price},
                                                    {"currency", "TRY"},
                                                    {"group", false}}},
                           {"date", date},
                           {"timezone", "Europe/Istanbul"},
                           {"slots", free(service->id, date)}};
            if (!time.empty()) {
                const auto refusal = refused(service->id, date, time, "");
                json::object requested{{"time", time}, {"available", refusal.empty()}};
                if (!refusal.empty()) {
                    requested["reason"] = refusal;
                    r["message"] = message_for(refusal);
                    r["alternatives"] = nearest(service->id, date, time);
                }
                r["requested"] = std::move(requested);
            } else if (r["slots"].as_array().empty()) {
                r["message"] = message_for(closed(date) ? "closed_day" : "past");
            }
            out.content = std::move(r);
            return out;
        }
        // create_appointment
        if (arg("customer_name").empty() || arg("customer_phone").empty()) {
            out.ok = false;
            out.error = "invalid_argument: customer_name and customer_phone are required";
            return out;
        }
        if (auto refusal = refused(service->id, date, time, ""); !refusal.empty()) {
            out.content = json::object{{"booked", false},
                                       {"reason", refusal},
                                       {"message", message_for(refusal)},
                                       {"alternatives", nearest(service->id, date, time)}};
            return out;
        }
        const std::string id = "apt_" + std::string(16 - std::to_string(book_.size() + 1).size(), '0') +
                               std::to_string(book_.size() + 1);
        book_[id] = {service->id, date, time, arg("customer_name"), arg("customer_phone"), user, "confirmed"};
        out.content = json::object{{"booked", true}, {"appointment", appointment(id, book_[id])}};
        return out;
    }

    /// A booking made elsewhere (another customer, or this one in an earlier conversation).
    std::string add(const std::string& service, const std::string& date, const std::string& time,
                    const std::string& user) {
        const std::string id = "apt_other" + std::to_string(book_.size());
        book_[id] = {service, date, time, "Başka Müşteri", "+905000000000", user, "confirmed"};
        return id;
    }

    struct Booking {
        std::string service, date, time, name, phone, user, status;
    };
    const std::map<std::string, Booking>& book() const { return book_; }
    std::vector<std::string> calls;

private:
    std::optional<sdk::Offering> resolve(const std::string& words) const {
        if (auto o = host_.catalog().get(words)) return o;
        auto found = host_.catalog().find(words, "tr", 1);
        if (found.empty() || !found.front().offering.duration_min) return std::nullopt;
        return found.front().offering;
    }

    static bool closed(const std::string& date) {
        const date::year_month_day ymd{date::year{std::stoi(date.substr(0, 4))},
                                       date::month{static_cast<unsigned>(std::stoi(date.substr(5, 2)))},
                                       date::day{static_cast<unsigned>(std::stoi(date.substr(8, 2)))}};
        return date::weekday{date::sys_days{ymd}} == date::Monday;
    }

    std::string refused(const std::string& service, const std::string& date, const std::string& time,
                        const std::string& except) const {
        if (date < "2026-12-02" || (date == "2026-12-02" && time < "10:00")) return "past";
        if (closed(date)) return "closed_day";
        if (time < "10:00" || time > "18:00") return "outside_hours";
        for (const auto& [id, b] : book_)
            if (id != except && b.status == "confirmed" && b.service == service && b.date == date &&
                b.time == time)
                return "taken";
        return {};
    }

    static std::string message_for(const std::string& reason) {
        if (reason == "closed_day") return "O gün kapalıyız.";
        if (reason == "past") return "Geçmiş bir zamana randevu verilemez.";
        if (reason == "outside_hours") return "Bu saat çalışma saatlerimizin dışında.";
        return "Bu saat dolu.";
    }

    json::object slot(const std::string& date, const std::string& time) const {
        return json::object{{"date", date},
                            {"time", time},
                            {"start", date + "T" + time + ":00+03:00"},
                            {"resource", "ayse"},
                            {"resource_name", "Ayşe Demir"},
                            {"places_left", 1}};
    }

    json::array free(const std::string& service, const std::string& date) const {
        json::array out;
        for (int h = 10; h <= 18; ++h) {
            const std::string time = (h < 10 ? "0" : "") + std::to_string(h) + ":00";
            if (refused(service, date, time, "").empty()) out.push_back(slot(date, time));
        }
        return out;
    }

    json::array nearest(const std::string& service, const std::string& date, const std::string& time) const {
        auto all = free(service, date);
        const int asked = std::stoi(time.substr(0, 2));
        std::stable_sort(all.begin(), all.end(), [&](const json::value& a, const json::value& b) {
            return std::abs(std::stoi(std::string(a.at("time").as_string()).substr(0, 2)) - asked) <
                   std::abs(std::stoi(std::string(b.at("time").as_string()).substr(0, 2)) - asked);
        });
        json::array out;
        for (std::size_t k = 0; k < all.size() && k < 3; ++k) out.push_back(all[k]);
        return out;
    }

    json::object appointment(const std::string& id, const Booking& b) const {
        const auto o = host_.catalog().get(b.service);
        return json::object{{"id", id},
                            {"service", b.service},
                            {"service_name", o ? o->name : b.service},
                            {"resource", "ayse"},
                            {"resource_name", "Ayşe Demir"},
                            {"start", b.date + "T" + b.time + ":00+03:00"},
                            {"end", b.date + "T" + b.time + ":50+03:00"},
                            {"customer_name", b.name},
                            {"customer_phone", b.phone},
                            {"notes", ""},
                            {"status", b.status},
                            {"channel", "test"},
                            {"created_at", "2026-12-02T06:00:00Z"}};
    }

    FakeHost& host_;
    std::map<std::string, Booking> book_;
};

/// The studio with the appointments tools, the assistant, and the engine's loop around them:
/// session updates merged (null erases), the last reply's options picked by number as the engine
/// does, history kept.
class Studio {
public:
    explicit Studio(json::object customer = {}, std::string user = "u1")
        : book(host), user_(std::move(user)) {
        const std::string dir = std::string(TEZGAH_FIXTURES_DIR) + "/nefes-studyo";
        host.load_manifest_file(dir + "/tenant.json");
        host.load_offerings_file(dir + "/data/offerings.json");
        host.load_knowledge_file(dir + "/data/knowledge.json");
        host.load_resources_file(dir + "/data/resources.json");
        host.time.set(fixed_now());
        auto made = sdk::testing::instantiate(tezgah_plugin_descriptor, host);
        if (!made) throw std::runtime_error("llm-local did not start");
        provider.reset(dynamic_cast<sdk::LlmProvider*>(made.release()));
        customer_ = std::move(customer);
        if (!customer_.contains("channel")) customer_["channel"] = "api";
    }

    struct Turn {
        std::string reply;
        std::vector<sdk::ReplyOption> options;
        std::vector<std::string> tools;
    };

    Turn say(std::string text) {
        // The engine: "2" picks the second option and continues as its title.
        if (!options_.empty() && text.size() == 1 && std::isdigit(static_cast<unsigned char>(text[0]))) {
            const auto n = static_cast<std::size_t>(text[0] - '0');
            if (n >= 1 && n <= options_.size()) text = options_[n - 1].title;
        }
        Turn out;
        history_.push_back({sdk::Role::user, text, {}, std::nullopt});
        auto messages = history_;
        sdk::ProviderRequest request;
        request.tenant_id = host.profile.id;
        request.language = sdk::text::detect_language(text, "tr");
        request.tools = FakeBook::specs();
        for (int step = 0; step < 5; ++step) {
            request.messages = messages;
            request.session = session_;
            request.session["customer"] = customer_;
            request.step = step;
            auto response = provider->complete(request, nullptr);
            if (!response.ok()) throw std::runtime_error(response.error().message);
            for (const auto& [k, v] : response->session_updates) {
                if (v.is_null())
                    session_.erase(k);
                else
                    session_[k] = v;
            }
            if (response->tool_calls.empty()) {
                out.reply = response->text;
                out.options = response->options;
                break;
            }
            messages.push_back({sdk::Role::assistant, response->text, response->tool_calls, std::nullopt});
            for (const auto& call : response->tool_calls) {
                out.tools.push_back(call.name);
                messages.push_back({sdk::Role::tool, "", {}, book.run(call, user_)});
            }
        }
        options_ = out.options;
        history_.push_back({sdk::Role::assistant, out.reply, {}, std::nullopt});
        return out;
    }

    bool in_booking() const { return session_.contains("booking"); }

    FakeHost host;
    FakeBook book;
    std::unique_ptr<sdk::LlmProvider> provider;

private:
    std::string user_;
    json::object customer_;
    json::object session_;
    std::vector<sdk::Message> history_;
    std::vector<sdk::ReplyOption> options_;
};

std::vector<std::string> titles(const std::vector<sdk::ReplyOption>& options) {
    std::vector<std::string> out;
    for (const auto& o : options) out.push_back(o.title);
    return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(BookingDialogue, BooksInTurkishWithAChangeOfMind) {
    Studio s;
    auto t = s.say("Merhaba, yarın öğleden sonra reformer için yer var mı?");
    EXPECT_EQ(t.tools, std::vector<std::string>{"check_availability"});
    EXPECT_EQ(titles(t.options), (std::vector<std::string>{"12:00", "13:00", "14:00", "15:00", "16:00"}))
        << t.reply;
    EXPECT_TRUE(has(t.reply, "3 Aralık Perşembe")) << t.reply;
    EXPECT_TRUE(has(t.reply, "Reformer Pilates")) << t.reply;

    t = s.say("4");  // the fourth option: 15:00
    EXPECT_TRUE(has(t.reply, "15:00")) << t.reply;
    EXPECT_TRUE(has(t.reply, "adına")) << t.reply;  // the name is asked (the channel gave none)
    t = s.say("Deniz Yılmaz");
    EXPECT_TRUE(has(t.reply, "telefon")) << t.reply;
    t = s.say("0532 111 22 33");
    EXPECT_TRUE(has(t.reply, "Onaylıyor musunuz?")) << t.reply;
    EXPECT_TRUE(has(t.reply, "Deniz Yılmaz")) << t.reply;
    EXPECT_TRUE(has(t.reply, "15:00")) << t.reply;
    EXPECT_EQ(titles(t.options), (std::vector<std::string>{"Evet", "Hayır"}));

    t = s.say("yok 4 olsun");  // a change of mind: 16:00, checked and summed up again
    EXPECT_EQ(t.tools, std::vector<std::string>{"check_availability"});
    EXPECT_TRUE(has(t.reply, "16:00")) << t.reply;
    EXPECT_TRUE(has(t.reply, "Onaylıyor musunuz?")) << t.reply;
    EXPECT_TRUE(s.book.book().empty());

    t = s.say("evet");
    EXPECT_EQ(t.tools, std::vector<std::string>{"create_appointment"});
    EXPECT_TRUE(has(t.reply, "Randevunuz oluşturuldu")) << t.reply;
    EXPECT_TRUE(has(t.reply, "16:00")) << t.reply;
    EXPECT_TRUE(has(t.reply, "3 Aralık Perşembe")) << t.reply;
    ASSERT_EQ(s.book.book().size(), 1u);
    const auto& b = s.book.book().begin()->second;
    EXPECT_EQ(b.service, "reformer-pilates");
    EXPECT_EQ(b.date, "2026-12-03");
    EXPECT_EQ(b.time, "16:00");
    EXPECT_EQ(b.name, "Deniz Yılmaz");
    EXPECT_EQ(b.phone, "05321112233");
    EXPECT_FALSE(s.in_booking());
}

TEST(BookingDialogue, BooksInEnglishOnWhatsAppWithoutAskingThePhone) {
    Studio s(json::object{{"channel", "whatsapp-cloud"}, {"phone", "+447700900123"}});
    auto t = s.say("Can I book a massage on Friday?");
    EXPECT_EQ(t.tools, std::vector<std::string>{"check_availability"});
    EXPECT_TRUE(has(t.reply, "Friday, December 4")) << t.reply;
    EXPECT_TRUE(has(t.reply, "Which one shall I book?")) << t.reply;
    EXPECT_LE(t.options.size(), 6u);
    t = s.say("3pm");
    EXPECT_TRUE(has(t.reply, "What name")) << t.reply;
    t = s.say("Sam Lee");
    EXPECT_TRUE(has(t.reply, "To confirm")) << t.reply;  // the phone came with the channel
    EXPECT_TRUE(has(t.reply, "+447700900123")) << t.reply;
    t = s.say("actually make it 5pm");
    EXPECT_TRUE(has(t.reply, "17:00")) << t.reply;
    t = s.say("yes");
    EXPECT_TRUE(has(t.reply, "You're booked")) << t.reply;
    EXPECT_TRUE(has(t.reply, "Friday, December 4 at 17:00")) << t.reply;
    ASSERT_EQ(s.book.book().size(), 1u);
    EXPECT_EQ(s.book.book().begin()->second.service, "spor-masaji");
    EXPECT_EQ(s.book.book().begin()->second.phone, "+447700900123");
}

TEST(BookingDialogue, NameFromTheChannelAndACorrection) {
    Studio s(json::object{{"channel", "twilio"}, {"phone", "+905321112233"}, {"name", "Deniz"}});
    auto t = s.say("cumartesi sabah 11'e reformer randevusu alabilir miyim");
    EXPECT_TRUE(has(t.reply, "Onaylıyor musunuz?")) << t.reply;  // the time was free, name and phone known
    EXPECT_TRUE(has(t.reply, "5 Aralık Cumartesi 11:00")) << t.reply;
    t = s.say("adım Deniz Kaya");
    EXPECT_TRUE(has(t.reply, "Deniz Kaya adına")) << t.reply;
    t = s.say("numaram 0533 444 55 66");
    EXPECT_TRUE(has(t.reply, "05334445566")) << t.reply;
    t = s.say("onaylıyorum");
    ASSERT_EQ(s.book.book().size(), 1u);
    EXPECT_EQ(s.book.book().begin()->second.name, "Deniz Kaya");
    EXPECT_EQ(s.book.book().begin()->second.phone, "05334445566");
}

TEST(BookingDialogue, ATakenTimeOffersTheNearestAndAnotherDay) {
    Studio s(json::object{{"channel", "whatsapp-cloud"}, {"phone", "+905321112233"}, {"name", "Deniz"}});
    s.book.add("reformer-pilates", "2026-12-03", "17:00", "u2");
    auto t = s.say("yarın saat 17:00 reformer randevusu");
    EXPECT_TRUE(has(t.reply, "dolu")) << t.reply;
    EXPECT_TRUE(has(t.reply, "16:00") && has(t.reply, "18:00")) << t.reply;
    EXPECT_FALSE(has(t.reply, "Başka Müşteri"));
    ASSERT_FALSE(t.options.empty());
    t = s.say("başka gün olur mu");  // the day after
    EXPECT_TRUE(has(t.reply, "4 Aralık Cuma")) << t.reply;
    t = s.say("cumartesi olsun");
    EXPECT_TRUE(has(t.reply, "5 Aralık Cumartesi")) << t.reply;
    t = s.say("18:00");
    EXPECT_TRUE(has(t.reply, "Onaylıyor musunuz?")) << t.reply;
    t = s.say("vazgeçtim");
    EXPECT_TRUE(has(t.reply, "vazgeçtik")) << t.reply;
    EXPECT_FALSE(s.in_booking());
    EXPECT_EQ(s.book.book().size(), 1u);  // only the other customer's
}

TEST(BookingDialogue, RefusalsArePassedOnPlainly) {
    Studio s;
    auto t = s.say("pazartesi reformer için yer var mı");
    EXPECT_TRUE(has(t.reply, "O gün kapalıyız.")) << t.reply;
    t = s.say("yarın kick boks için randevu almak istiyorum");
    EXPECT_EQ(t.tools, std::vector<std::string>{"check_availability"});
    EXPECT_TRUE(has(t.reply, "\"kick boks\" adında bir hizmetimiz yok.")) << t.reply;
    EXPECT_FALSE(t.options.empty());  // the services to pick from
}

TEST(BookingDialogue, OutsideTheHoursAndAMisspeltService) {
    Studio s;
    auto t = s.say("yarın saat 8'de reformr randevusu");
    EXPECT_EQ(t.tools, std::vector<std::string>{"check_availability"});
    EXPECT_TRUE(has(t.reply, "Bu saat çalışma saatlerimizin dışında.")) << t.reply;
    EXPECT_TRUE(has(t.reply, "10:00")) << t.reply;  // the nearest free time, offered
    EXPECT_FALSE(t.options.empty());
}

TEST(BookingDialogue, ABookingLeftHalfWayIsNotConfirmedHoursLater) {
    Studio s(json::object{{"channel", "twilio"}, {"phone", "+905321112233"}, {"name", "Deniz"}});
    auto t = s.say("yarın saat 11:00 reformer randevusu alabilir miyim");
    EXPECT_TRUE(has(t.reply, "Onaylıyor musunuz?")) << t.reply;
    s.host.time.set(fixed_now() + 5h);
    t = s.say("evet");
    EXPECT_TRUE(t.tools.empty()) << t.reply;
    EXPECT_TRUE(s.book.book().empty());
}

TEST(BookingDialogue, AsksForTheServiceAndTheDay) {
    Studio s;
    auto t = s.say("randevu almak istiyorum");
    EXPECT_TRUE(t.tools.empty());
    EXPECT_TRUE(has(t.reply, "Hangi hizmet")) << t.reply;
    EXPECT_GE(t.options.size(), 5u);
    t = s.say("spor masajı");
    EXPECT_TRUE(has(t.reply, "hangi gün")) << t.reply;
    t = s.say("yarın akşam");
    EXPECT_EQ(titles(t.options), (std::vector<std::string>{"17:00", "18:00"})) << t.reply;
}

TEST(BookingDialogue, ADayTheBusinessIsClosedIsSaidAtOnce) {
    Studio s;
    s.host.profile.hours["mon"] = "closed";
    auto t = s.say("pazartesi randevu alabilir miyim?");
    EXPECT_TRUE(t.tools.empty());
    EXPECT_TRUE(has(t.reply, "Pazartesi günleri kapalıyız")) << t.reply;
    EXPECT_TRUE(has(t.reply, "Hangi hizmet")) << t.reply;
    Studio en;
    en.host.profile.hours.erase("mon");
    t = en.say("can I book a massage on Monday?");
    EXPECT_TRUE(t.tools.empty()) << t.reply;
    EXPECT_TRUE(has(t.reply, "We are closed on Mondays")) << t.reply;
    EXPECT_TRUE(has(t.reply, "Which day")) << t.reply;
}

TEST(BookingDialogue, ListsCancelsAndReschedulesOnlyTheCustomersOwn) {
    Studio s;
    const auto massage = s.book.add("spor-masaji", "2026-12-03", "11:00", "u1");
    s.book.add("reformer-pilates", "2026-12-09", "10:00", "u1");
    const auto others = s.book.add("reformer-pilates", "2026-12-04", "12:00", "u2");
    auto t = s.say("randevularım");
    EXPECT_EQ(t.tools, std::vector<std::string>{"list_my_appointments"});
    EXPECT_TRUE(has(t.reply, "Spor Masajı") && has(t.reply, "9 Aralık")) << t.reply;
    EXPECT_FALSE(has(t.reply, "4 Aralık")) << t.reply;
    EXPECT_FALSE(has(t.reply, "apt_")) << t.reply;

    t = s.say("reschedule my massage to Friday 3pm");
    EXPECT_EQ(t.tools, (std::vector<std::string>{"list_my_appointments", "reschedule_appointment"}));
    EXPECT_TRUE(has(t.reply, "Friday, December 4 at 15:00")) << t.reply;
    EXPECT_EQ(s.book.book().at(massage).date, "2026-12-04");
    EXPECT_EQ(s.book.book().at(others).date, "2026-12-04");  // untouched

    t = s.say("randevumu iptal et");
    EXPECT_TRUE(has(t.reply, "Hangi randevunuzu")) << t.reply;
    ASSERT_EQ(t.options.size(), 2u);
    t = s.say("2");
    EXPECT_TRUE(has(t.reply, "iptal edeyim mi?")) << t.reply;
    EXPECT_TRUE(has(t.reply, "9 Aralık")) << t.reply;
    t = s.say("evet");
    EXPECT_TRUE(has(t.reply, "iptal edildi")) << t.reply;
    EXPECT_FALSE(has(t.reply, "24 saat")) << t.reply;  // not late: no policy quoted
    int cancelled = 0;
    for (const auto& [id, b] : s.book.book()) cancelled += b.status == "cancelled";
    EXPECT_EQ(cancelled, 1);
}

TEST(BookingDialogue, ALateCancellationQuotesThePolicyAndATakenMoveOffersTimes) {
    Studio s;
    s.book.add("spor-masaji", "2026-12-03", "11:00", "u1");
    s.book.add("spor-masaji", "2026-12-05", "15:00", "u2");
    auto t = s.say("randevumu cumartesi 15:00'e alabilir miyiz");
    EXPECT_TRUE(has(t.reply, "dolu")) << t.reply;
    EXPECT_TRUE(has(t.reply, "14:00")) << t.reply;
    t = s.say("14:00");
    EXPECT_TRUE(has(t.reply, "randevunuz değişti")) << t.reply;
    EXPECT_TRUE(has(t.reply, "5 Aralık Cumartesi 14:00")) << t.reply;

    Studio late;
    late.book.add("spor-masaji", "2026-12-03", "11:00", "u1");
    t = late.say("randevumu iptal etmek istiyorum");
    EXPECT_TRUE(has(t.reply, "iptal edeyim mi?")) << t.reply;
    t = late.say("evet");
    EXPECT_TRUE(has(t.reply, "24 saat öncesine kadar ücretsiz")) << t.reply;
}

TEST(BookingDialogue, LeavesPeopleQuestionsAndPoliciesToTheOtherAnswers) {
    Studio s;
    for (const char* asked :
         {"Mert hoca yarın müsait mi?", "randevu iptal politikanız nedir?", "Ayşe hoca hangi günler var",
          "hatha yoga hangi günler?", "randevu için kimi aramalıyım?", "who do I call to book a massage?"}) {
        auto t = s.say(asked);
        EXPECT_TRUE(t.tools.empty()) << asked << " → " << t.reply;
        EXPECT_FALSE(s.in_booking()) << asked;
    }
    auto t = s.say("is a massage available on Friday?");
    EXPECT_EQ(t.tools, std::vector<std::string>{"check_availability"}) << t.reply;
}

TEST(BookingDialogue, NothingChangesWithoutTheAppointmentsTools) {
    FakeHost host;
    const std::string dir = std::string(TEZGAH_FIXTURES_DIR) + "/nefes-studyo";
    host.load_manifest_file(dir + "/tenant.json");
    host.load_offerings_file(dir + "/data/offerings.json");
    host.time.set(fixed_now());
    sdk::ProviderRequest request;
    request.messages = {{sdk::Role::user, "yarın reformer için randevu almak istiyorum", {}, std::nullopt}};
    EXPECT_FALSE(local::booking_answer(request, host, "tr"));
}

}  // namespace
