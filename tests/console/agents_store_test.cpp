// The console's staff in the store, on both backends: accounts and their checks, sign-in (right,
// wrong, unknown, disabled, the failure limit), sessions and their two expiries on a fixed clock,
// a password change ending the other sessions, the last owner kept, removal, assignment, notes and
// canned replies.
#include "store/store_fixture.hpp"

#include "store/agents.hpp"
#include "store/staff_notes.hpp"

#include <soci/soci.h>

#include <chrono>
#include <iostream>

namespace tezgah::engine::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point kNoon =
    Clock::time_point(std::chrono::milliseconds(1796212800000LL));  // 2026-12-02 12:00Z

class AgentsStore : public StoreTest {
protected:
    Agent make(const std::string& email, const std::string& role = kRoleAgent,
               const std::string& tenant = "gece-butik", const std::string& password = "correct horse 1") {
        NewAgent fields{tenant, "Name of " + email, email, password, role};
        auto made = create_agent(*db, fields, kNoon);
        EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
        return made.ok() ? *made : Agent{};
    }
    SignIn sign(const std::string& email, const std::string& password, Clock::time_point at = kNoon,
                const std::string& tenant = "gece-butik") {
        auto result = sign_in(*db, tenant, email, password, at);
        EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
        return result.ok() ? *result : SignIn{};
    }
    std::string conversation(const std::string& tenant = "gece-butik") {
        add_tenant(tenant);
        auto opened = db->open_conversation(tenant, "customer-1", "api", "", kNoon, 30min);
        EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
        return opened.ok() ? opened->id : "";
    }
};
TEZGAH_STORE_BACKENDS(AgentsStore);

TEST_P(AgentsStore, PasswordsAreArgon2idHashesThatVerify) {
    auto hash = hash_password("correct horse 1");
    ASSERT_TRUE(hash.ok());
    EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=3,p=1$")) << *hash;
    EXPECT_TRUE(verify_password(*hash, "correct horse 1"));
    EXPECT_FALSE(verify_password(*hash, "correct horse 2"));
    EXPECT_FALSE(verify_password("not a hash", "correct horse 1"));
    auto again = hash_password("correct horse 1");
    ASSERT_TRUE(again.ok());
    EXPECT_NE(*again, *hash);  // salted
}

TEST_P(AgentsStore, AccountsAreCheckedAndAnEmailIsUniquePerTenantInAnyCase) {
    const Agent owner = make("Ayse@Example.com", kRoleOwner);
    EXPECT_TRUE(owner.id.starts_with("ag_") && owner.id.size() == 19) << owner.id;
    EXPECT_EQ(owner.email, "Ayse@Example.com");
    make("mehmet@example.com");
    make("ayse@example.com", kRoleAgent, "nefes-studyo");  // another tenant: fine

    auto taken =
        create_agent(*db, {"gece-butik", "Other", "AYSE@example.COM", "long enough 1", "agent"}, kNoon);
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ(taken.error().code, "conflict");

    struct Bad {
        NewAgent fields;
        std::string field;
    };
    const std::vector<Bad> bad = {
        {{"gece-butik", "", "a@b.c", "long enough 1", "agent"}, "name"},
        {{"gece-butik", std::string(101, 'x'), "a@b.c", "long enough 1", "agent"}, "name"},
        {{"gece-butik", "A", "nobody", "long enough 1", "agent"}, "email"},
        {{"gece-butik", "A", "a@b@c", "long enough 1", "agent"}, "email"},
        {{"gece-butik", "A", "a@" + std::string(260, 'b'), "long enough 1", "agent"}, "email"},
        {{"gece-butik", "A", "a@b.c", "short", "agent"}, "password"},
        {{"gece-butik", "A", "a@b.c", std::string(201, 'p'), "agent"}, "password"},
        {{"gece-butik", "A", "a@b.c", "long enough 1", "boss"}, "role"},
    };
    for (const auto& b : bad) {
        auto refused = create_agent(*db, b.fields, kNoon);
        ASSERT_FALSE(refused.ok()) << b.field;
        EXPECT_EQ(refused.error().code, "invalid_value");
        EXPECT_TRUE(refused.error().message.starts_with(b.field + ":")) << refused.error().message;
    }
    // A name of 100 characters (not bytes) is fine.
    std::string hundred;
    for (int i = 0; i < 100; ++i) hundred += "ş";
    EXPECT_TRUE(create_agent(*db, {"gece-butik", hundred, "s@b.c", "long enough 1", "agent"}, kNoon).ok());

    auto listed = list_agents(*db, "gece-butik");
    ASSERT_TRUE(listed.ok());
    ASSERT_EQ(listed->size(), 3u);
    EXPECT_EQ((*listed)[0].email, "Ayse@Example.com");  // by name: "Name of A..." first
    for (const auto& a : *listed) EXPECT_EQ(a.tenant_id, "gece-butik");
}

TEST_P(AgentsStore, SignInRefusesWrongUnknownAndDisabledAlikeAndGivesASession) {
    const Agent agent = make("mehmet@example.com");
    make("owner@example.com", kRoleOwner);
    auto ok = sign("MEHMET@example.com", "correct horse 1");
    ASSERT_EQ(ok.outcome, SignIn::Outcome::signed_in);
    EXPECT_EQ(ok.session.agent.id, agent.id);
    EXPECT_EQ(ok.token.size(), 64u);
    EXPECT_EQ(ok.session.csrf_token.size(), 64u);
    EXPECT_EQ(ok.session.token_hash, session_token_hash(ok.token));
    EXPECT_EQ(ok.session.expires_at(), kNoon + kSessionIdle);

    // Only the hash is stored.
    auto sql = open_sql_session(scratch->url());
    ASSERT_TRUE(sql);
    long long with_token = 0;
    *sql << "SELECT COUNT(*) FROM agent_sessions WHERE token_hash = :t", soci::into(with_token),
        soci::use(ok.token);
    EXPECT_EQ(with_token, 0);

    auto found = find_session(*db, ok.token, kNoon + 1min);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->agent.id, agent.id);
    EXPECT_EQ((*found)->csrf_token, ok.session.csrf_token);
    auto listed = find_agent(*db, "gece-butik", agent.id);
    ASSERT_TRUE(listed.ok() && listed->has_value());
    EXPECT_EQ((*listed)->last_sign_in_at, kNoon);

    EXPECT_EQ(sign("mehmet@example.com", "correct horse 2").outcome, SignIn::Outcome::refused);
    EXPECT_EQ(sign("nobody@example.com", "correct horse 1").outcome, SignIn::Outcome::refused);
    EXPECT_EQ(sign("mehmet@example.com", "correct horse 1", kNoon, "nefes-studyo").outcome,
              SignIn::Outcome::refused);
    auto garbage = find_session(*db, "not a token", kNoon);
    ASSERT_TRUE(garbage.ok());
    EXPECT_FALSE(garbage->has_value());

    AgentPatch off;
    off.disabled = true;
    ASSERT_TRUE(update_agent(*db, "gece-butik", agent.id, off, kNoon).ok());
    EXPECT_EQ(sign("mehmet@example.com", "correct horse 1").outcome, SignIn::Outcome::refused);
    auto ended = find_session(*db, ok.token, kNoon + 2min);
    ASSERT_TRUE(ended.ok());
    EXPECT_FALSE(ended->has_value()) << "a disabled agent's session ended";
}

TEST_P(AgentsStore, TenFailuresForOneEmailIn15MinutesStopSignInUntilTheOldestIsOutOfTheWindow) {
    make("mehmet@example.com");
    make("other@example.com");
    for (int i = 0; i < kSignInFailures; ++i)
        EXPECT_EQ(sign("mehmet@example.com", "wrong password", kNoon + std::chrono::minutes(i)).outcome,
                  SignIn::Outcome::refused);
    // The right password is refused too now, with how long to wait.
    auto limited = sign("Mehmet@example.com", "correct horse 1", kNoon + 10min);
    ASSERT_EQ(limited.outcome, SignIn::Outcome::rate_limited);
    EXPECT_EQ(limited.retry_after, 5min);
    // Another e-mail of the tenant is not held back.
    EXPECT_EQ(sign("other@example.com", "correct horse 1", kNoon + 10min).outcome,
              SignIn::Outcome::signed_in);
    // Once the first failure is 15 minutes old, one more try is allowed; success clears the count.
    EXPECT_EQ(sign("mehmet@example.com", "correct horse 1", kNoon + 15min + 1s).outcome,
              SignIn::Outcome::signed_in);
    EXPECT_EQ(sign("mehmet@example.com", "wrong password", kNoon + 16min).outcome, SignIn::Outcome::refused);
    EXPECT_EQ(sign("mehmet@example.com", "correct horse 1", kNoon + 16min).outcome,
              SignIn::Outcome::signed_in);
    // Unknown e-mails are limited the same way (nothing tells them apart).
    for (int i = 0; i < kSignInFailures; ++i) sign("ghost@example.com", "whatever it is", kNoon);
    EXPECT_EQ(sign("ghost@example.com", "whatever it is", kNoon).outcome, SignIn::Outcome::rate_limited);
}

TEST_P(AgentsStore, ASessionEnds12HoursAfterItsLastUseAnd7DaysAfterSignInAtTheLatest) {
    make("mehmet@example.com");
    auto idle = sign("mehmet@example.com", "correct horse 1");
    ASSERT_EQ(idle.outcome, SignIn::Outcome::signed_in);
    auto still = find_session(*db, idle.token, kNoon + 11h);  // used: 12 h more from here
    ASSERT_TRUE(still.ok() && still->has_value());
    EXPECT_EQ((*still)->expires_at(), kNoon + 23h);
    EXPECT_TRUE(find_session(*db, idle.token, kNoon + 22h)->has_value());
    auto gone = find_session(*db, idle.token, kNoon + 22h + 12h);
    ASSERT_TRUE(gone.ok());
    EXPECT_FALSE(gone->has_value());

    // Used every 11 hours, it still ends 7 days after sign-in.
    auto busy = sign("mehmet@example.com", "correct horse 1");
    Clock::time_point at = kNoon;
    while (at + 11h < kNoon + kSessionLife) {
        at += 11h;
        ASSERT_TRUE(find_session(*db, busy.token, at)->has_value()) << "at +" << (at - kNoon) / 1h << " h";
    }
    EXPECT_FALSE(find_session(*db, busy.token, kNoon + kSessionLife)->has_value());
    // Signing out ends it at once.
    auto out = sign("mehmet@example.com", "correct horse 1", kNoon + 8 * 24h);
    ASSERT_TRUE(end_session(*db, out.session.token_hash).ok());
    EXPECT_FALSE(find_session(*db, out.token, kNoon + 8 * 24h)->has_value());
}

TEST_P(AgentsStore, APasswordChangeEndsTheOtherSessionsAndTheNewPasswordSignsIn) {
    const Agent agent = make("mehmet@example.com");
    auto laptop = sign("mehmet@example.com", "correct horse 1");
    auto phone = sign("mehmet@example.com", "correct horse 1");
    AgentPatch patch;
    patch.password = "battery staple 2";
    auto changed = update_agent(*db, "gece-butik", agent.id, patch, kNoon + 1min, laptop.session.token_hash);
    ASSERT_TRUE(changed.ok() && changed->has_value());
    EXPECT_TRUE(find_session(*db, laptop.token, kNoon + 2min)->has_value()) << "the session that changed it";
    EXPECT_FALSE(find_session(*db, phone.token, kNoon + 2min)->has_value());
    EXPECT_EQ(sign("mehmet@example.com", "correct horse 1", kNoon + 3min).outcome, SignIn::Outcome::refused);
    EXPECT_EQ(sign("mehmet@example.com", "battery staple 2", kNoon + 3min).outcome,
              SignIn::Outcome::signed_in);
    // A name change leaves sessions alone.
    AgentPatch rename;
    rename.name = "Mehmet Kaya";
    ASSERT_TRUE(update_agent(*db, "gece-butik", agent.id, rename, kNoon + 4min).ok());
    EXPECT_TRUE(find_session(*db, laptop.token, kNoon + 5min)->has_value());
}

TEST_P(AgentsStore, TheLastEnabledOwnerIsNeitherDemotedDisabledNorRemoved) {
    const Agent first = make("first@example.com", kRoleOwner);
    AgentPatch demote;
    demote.role = kRoleAgent;
    AgentPatch disable;
    disable.disabled = true;
    for (const auto* patch : {&demote, &disable}) {
        auto refused = update_agent(*db, "gece-butik", first.id, *patch, kNoon);
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().code, "conflict");
    }
    auto kept = remove_agent(*db, "gece-butik", first.id);
    ASSERT_FALSE(kept.ok());
    EXPECT_EQ(kept.error().code, "conflict");
    // Another tenant's owner does not count.
    make("elsewhere@example.com", kRoleOwner, "nefes-studyo");
    EXPECT_FALSE(update_agent(*db, "gece-butik", first.id, demote, kNoon).ok());
    // With a second owner, the first may go.
    const Agent second = make("second@example.com", kRoleOwner);
    ASSERT_TRUE(update_agent(*db, "gece-butik", first.id, demote, kNoon).ok());
    EXPECT_FALSE(update_agent(*db, "gece-butik", second.id, disable, kNoon).ok());
    auto removed = remove_agent(*db, "gece-butik", first.id);
    ASSERT_TRUE(removed.ok());
    EXPECT_TRUE(*removed);
    EXPECT_FALSE(find_agent(*db, "gece-butik", first.id)->has_value());
}

TEST_P(AgentsStore, AssignmentNamesAnAgentOfTheTenantAndRemovalClearsIt) {
    const std::string id = conversation();
    const Agent agent = make("mehmet@example.com");
    const Agent stranger = make("x@example.com", kRoleAgent, "nefes-studyo");
    make("owner@example.com", kRoleOwner);
    auto assigned = assign_conversation(*db, "gece-butik", id, agent.id);
    ASSERT_TRUE(assigned.ok()) << assigned.error().message;
    ASSERT_TRUE(assigned->has_value());
    EXPECT_EQ((*assigned)->name, agent.name);
    EXPECT_EQ((*conversation_assignee(*db, "gece-butik", id))->id, agent.id);

    auto foreign = assign_conversation(*db, "gece-butik", id, stranger.id);
    ASSERT_FALSE(foreign.ok());
    EXPECT_EQ(foreign.error().code, "invalid_value");
    auto missing = assign_conversation(*db, "gece-butik", "c-no-such", agent.id);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, "not_found");
    auto other_tenant = assign_conversation(*db, "nefes-studyo", id, stranger.id);
    ASSERT_FALSE(other_tenant.ok());
    EXPECT_EQ(other_tenant.error().code, "not_found");

    ASSERT_TRUE(remove_agent(*db, "gece-butik", agent.id).ok());
    EXPECT_FALSE(conversation_assignee(*db, "gece-butik", id)->has_value());
    auto sql = open_sql_session(scratch->url());
    ASSERT_TRUE(sql);
    soci::indicator null_or_not = soci::i_ok;
    std::string assignee;
    *sql << "SELECT assignee FROM conversations WHERE id = :id", soci::into(assignee, null_or_not),
        soci::use(id);
    EXPECT_EQ(null_or_not, soci::i_null);
}

TEST_P(AgentsStore, NotesAndCannedRepliesRoundTrip) {
    const std::string id = conversation();
    const StaffAuthor ayse{"agent", "ag_0000000000000001", "Ayşe"};
    auto first = add_note(*db, "gece-butik", id, ayse, "Müşteri iade istiyor", kNoon);
    ASSERT_TRUE(first.ok());
    auto second =
        add_note(*db, "gece-butik", id, {"key", "0123456789abcdef", "ops"}, "Kargo kodu: 42", kNoon + 1s);
    ASSERT_TRUE(second.ok());
    EXPECT_FALSE(add_note(*db, "nefes-studyo", id, ayse, "elsewhere", kNoon).ok());
    auto notes = list_notes(*db, "gece-butik", id);
    ASSERT_TRUE(notes.ok());
    ASSERT_EQ(notes->size(), 2u);
    EXPECT_EQ((*notes)[0].text, "Müşteri iade istiyor");
    EXPECT_EQ((*notes)[0].author.name, "Ayşe");
    EXPECT_EQ((*notes)[1].author.kind, "key");
    EXPECT_TRUE(list_notes(*db, "nefes-studyo", id)->empty());
    EXPECT_TRUE(*delete_note(*db, "gece-butik", id, first->id));
    EXPECT_FALSE(*delete_note(*db, "gece-butik", id, first->id));
    EXPECT_EQ(list_notes(*db, "gece-butik", id)->size(), 1u);

    auto reply = [&](const std::string& rid, const std::string& title, bool shared,
                     const StaffAuthor& owner) {
        CannedReply r{rid, "gece-butik", title, "Metin " + title, shared, owner, kNoon};
        ASSERT_TRUE(save_canned_reply(*db, r, true).ok());
    };
    const StaffAuthor mehmet{"agent", "ag_0000000000000002", "Mehmet"};
    reply("cr_3", "Teşekkür", false, ayse);
    reply("cr_1", "Kargo", true, mehmet);
    reply("cr_2", "İade", false, mehmet);
    auto mine = list_canned_replies(*db, "gece-butik", ayse.id);
    ASSERT_TRUE(mine.ok());
    ASSERT_EQ(mine->size(), 2u);  // her own and the shared one, by title
    EXPECT_EQ((*mine)[0].id, "cr_1");
    EXPECT_EQ((*mine)[1].id, "cr_3");
    EXPECT_EQ(list_canned_replies(*db, "gece-butik", "")->size(), 3u);  // a key sees all
    EXPECT_TRUE(list_canned_replies(*db, "nefes-studyo", "")->empty());
    auto stored = find_canned_reply(*db, "gece-butik", "cr_3");
    ASSERT_TRUE(stored.ok() && stored->has_value());
    CannedReply changed = **stored;
    changed.text = "Yeni metin";
    changed.updated_at = kNoon + 1h;
    ASSERT_TRUE(save_canned_reply(*db, changed, false).ok());
    EXPECT_EQ((*find_canned_reply(*db, "gece-butik", "cr_3"))->text, "Yeni metin");
    EXPECT_TRUE(*delete_canned_reply(*db, "gece-butik", "cr_3"));
    EXPECT_FALSE(find_canned_reply(*db, "gece-butik", "cr_3")->has_value());
}

/// The time of one Argon2id hash with the parameters in use (docs/console.md says the figure).
TEST(PasswordHashing, OneHashTakesWellUnderASecond) {
    const auto begun = std::chrono::steady_clock::now();
    constexpr int kRuns = 5;
    for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(hash_password("correct horse battery").ok());
    const auto each = (std::chrono::steady_clock::now() - begun) / kRuns;
    std::cout << "ARGON2ID_HASH_MS " << std::chrono::duration<double, std::milli>(each).count() << "\n";
    EXPECT_LT(each, 1s);
}

}  // namespace
}  // namespace tezgah::engine::testing
