// What the channel knows of the customer reaches the booking dialogue: on WhatsApp (Twilio or the
// Cloud API) the number the customer writes from and the name their profile shows are used, so the
// assistant goes from the time straight to the summary without asking for them. A real engine on
// the studio fixture with the appointments tool, SQLite and a fixed clock.
#include "support/engine_fixture.hpp"

#include <date/date.h>

namespace tezgah::testing {
namespace {

class ChannelCustomer : public EngineFixture {
protected:
    void SetUp() override {
        EngineFixture::SetUp();
        edit_json(dir.path() / "tenants" / "nefes-studyo" / "tenant.json", [](json::value& v) {
            v.as_object()["tools"].as_array().push_back(json::object{{"name", "appointments"}});
        });
        // Wednesday 2 December 2026, 09:00 in Istanbul.
        clock.set(date::sys_days{date::year{2026} / 12 / 2} + std::chrono::hours(6));
    }
};

TEST_F(ChannelCustomer, TwilioWhatsAppGivesThePhoneAndTheProfileName) {
    auto e = start();
    auto m =
        msg("nefes-studyo", "whatsapp:+905321112233", "yarın saat 11:00 reformer randevusu alabilir miyim");
    m.channel = "twilio";
    m.metadata["profile_name"] = "Deniz Yılmaz";
    auto r = ask(*e, m);
    EXPECT_NE(r.reply.find("Onaylıyor musunuz?"), std::string::npos) << r.reply;
    EXPECT_NE(r.reply.find("3 Aralık Perşembe 11:00"), std::string::npos) << r.reply;
    EXPECT_NE(r.reply.find("Deniz Yılmaz adına (+905321112233)"), std::string::npos) << r.reply;
    m.text = "evet";
    r = ask(*e, m);
    EXPECT_NE(r.reply.find("Randevunuz oluşturuldu"), std::string::npos) << r.reply;
    m.text = "randevularım";
    r = ask(*e, m);
    EXPECT_NE(r.reply.find("3 Aralık Perşembe 11:00"), std::string::npos) << r.reply;
}

TEST_F(ChannelCustomer, OtherChannelsAskForTheNameAndPhone) {
    auto e = start();
    auto cloud = msg("nefes-studyo", "905551234567", "yarın saat 12:00 reformer randevusu alabilir miyim");
    cloud.channel = "whatsapp-cloud";
    auto r = ask(*e, cloud);
    EXPECT_NE(r.reply.find("adına"), std::string::npos) << r.reply;  // no profile name came
    cloud.text = "Ece Demir";
    r = ask(*e, cloud);
    EXPECT_NE(r.reply.find("Ece Demir adına (+905551234567)"), std::string::npos) << r.reply;

    auto web = msg("nefes-studyo", "visitor-1", "yarın saat 13:00 reformer randevusu alabilir miyim");
    r = ask(*e, web);
    EXPECT_NE(r.reply.find("adına"), std::string::npos) << r.reply;
    web.text = "Ali Can";
    r = ask(*e, web);
    EXPECT_NE(r.reply.find("telefon"), std::string::npos) << r.reply;
}

}  // namespace
}  // namespace tezgah::testing
