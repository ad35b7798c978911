#include "tacet/projections/decision.h"

#include <set>

#define BOOST_TEST_MODULE consent_tests
#include <boost/test/unit_test.hpp>

#include "projections/ledger_fixture.h"
#include "tacet/projections/ledger.h"
#include "test_util.h"

using namespace tacet;
using namespace tacet::test;

namespace {

// Seed 001's settings: a 30-day marketing consent for e-mail and newsletter,
// a phone consent without expiry, and two reasons for contacting without one.
struct PolicyFixture : Fixture {
  PolicyFixture() {
    PolicyConfig p;
    p.consent_types_declared = true;
    p.consent_types = {{"MKT30", "Marketing e-mail", "", 30, kUseEmail | kUseNewsletter},
                       {"TEL", "Contatto telefonico", "", 0, kUsePhone}};
    p.reasons_declared = true;
    p.reasons = {{"CUST_REQ", "The customer asked to be contacted"},
                 {"CONTRACT", "Service about an active contract"}};
    auto r = ledger->ReconcilePolicy(p, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    BOOST_TEST_REQUIRE(r->appended == 4u);
  }
  Recorded Grant(const std::string& subject, const std::string& type, const std::string& given) {
    auto r = ledger->GrantConsent({subject, type, given, "web form v3"}, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return *r;
  }
  Decision Decide(const std::string& subject, Channel c, const std::string& at,
                  TimeMs known = kKnownNow) {
    auto a = ledger->Decide(subject, c, At(at), known);
    BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
    return a->decision;
  }
};

std::string Codes(const Decision& d) {
  std::string s = VerdictName(d.verdict);
  for (const auto& r : d.reasons) s += " " + r.code;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(consent_tests)

BOOST_FIXTURE_TEST_CASE(seed001_a_30_day_consent_allows_email_through_day_30, PolicyFixture) {
  SetNow("2026-09-01 11:00");
  Recorded g = Grant("Mario.Rossi@Example.it", "MKT30", "2026-09-01");
  BOOST_TEST(g.subject == "mario.rossi@example.it");
  BOOST_TEST(g.valid_until == At("2026-10-02 00:00"));

  Decision d = Decide("mario.rossi@example.it", Channel::kEmail, "2026-10-01 23:59");
  BOOST_TEST(Codes(d) == "allow consent_valid");
  BOOST_TEST(d.evidence == std::vector<uint64_t>{g.seq});
  BOOST_TEST(d.valid_until == At("2026-10-02 00:00"));

  d = Decide("mario.rossi@example.it", Channel::kEmail, "2026-10-02 00:00");
  BOOST_TEST(Codes(d) == "needs_justification consent_missing");
  BOOST_TEST(d.allowed_reasons == std::vector<std::string>({"CONTRACT", "CUST_REQ"}));
  // The newsletter is never justified.
  BOOST_TEST(Codes(Decide("mario.rossi@example.it", Channel::kNewsletter, "2026-10-02 00:00")) ==
             "deny consent_missing");
}

BOOST_FIXTURE_TEST_CASE(newsletter_goes_only_to_valid_consents_without_block, PolicyFixture) {
  SetNow("2026-09-10 09:00");
  auto addr = [](int i) { return "user" + std::to_string(i) + "@example.it"; };
  size_t expected = 0;
  for (int i = 0; i < 1000; ++i) {
    if (i % 3 == 0) Grant(addr(i), "MKT30", "2026-09-01");  // newsletter allowed
    if (i % 3 == 1) Grant(addr(i), "MKT30", "2026-07-01");  // expired on 2026-08-01
    if (i % 30 == 0) {
      auto b =
          ledger->Block({addr(i), kEveryChannel, "objection by e-mail", "objection"}, kOfficer);
      BOOST_TEST_REQUIRE(b.ok(), b.status().ToString());
    }
    if (i % 3 == 0 && i % 30 != 0) ++expected;
  }
  size_t allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    Decision d = Decide(addr(i), Channel::kNewsletter, "2026-09-10 12:00");
    bool should = i % 3 == 0 && i % 30 != 0;
    BOOST_TEST((d.verdict == Verdict::kAllow) == should, addr(i) << ": " << Codes(d));
    allowed += d.verdict == Verdict::kAllow;
  }
  BOOST_TEST(allowed == expected);
  BOOST_TEST(expected == 300u);
}

BOOST_FIXTURE_TEST_CASE(seed003_blocked_refusers_stay_denied_whatever_the_crm_sends,
                        PolicyFixture) {
  std::vector<std::string> numbers;
  std::string candidates;
  for (int i = 0; i < 100; ++i) {
    numbers.push_back("+39 347 555 " + std::to_string(1000 + i));
    candidates += numbers.back() + "\n";
  }
  // All 100 cleared by the registry first.
  ExportReport e = Export(candidates);
  BOOST_TEST_REQUIRE(e.exported == 100u);
  SetNow("2026-08-31 15:00");
  std::string ret;
  for (auto& l : FileLines(e.files[0].txt_path)) ret += l + "\r\n";
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", ret).ok());

  // Day 1: every call ends with "do not call".
  SetNow("2026-09-01 10:00");
  std::vector<uint64_t> block_seq;
  for (auto& n : numbers) {
    auto b = ledger->Block({n, kEveryChannel, "nie dzwonić", "call_outcome"}, kOfficer);
    BOOST_TEST_REQUIRE(b.ok(), b.status().ToString());
    block_seq.push_back(b->seq);
  }
  // Day 2: the CRM re-sends them with fresh consents and no block flag.
  SetNow("2026-09-02 10:00");
  for (auto& n : numbers) Grant(n, "TEL", "2026-09-02");
  for (size_t i = 0; i < numbers.size(); ++i) {
    Decision d = Decide(numbers[i], Channel::kVoice, "2026-09-02 11:00");
    BOOST_TEST(Codes(d) == "deny blocked");
    BOOST_TEST(d.evidence == std::vector<uint64_t>{block_seq[i]});
  }
  // Only an explicit unblock by an officer lifts it.
  HeadGuard guard(*ledger);
  auto refused = ledger->Unblock({numbers[0], kEveryChannel, {}, "CRM says ok", ""}, kOfficer);
  BOOST_TEST(!refused.ok());
  BOOST_TEST(refused.status().message().find("officer") != std::string::npos);
  guard.Check();
  BOOST_TEST_REQUIRE(
      ledger->Unblock({numbers[0], kEveryChannel, {}, "asked to be called again", "Anna"}, kOfficer)
          .ok());
  BOOST_TEST(Codes(Decide(numbers[0], Channel::kVoice, "2026-09-02 11:00")) ==
             "allow registry_cleared consent_valid");
  BOOST_TEST(Codes(Decide(numbers[1], Channel::kVoice, "2026-09-02 11:00")) == "deny blocked");
}

// Issue 15: a Robinson block after a call-outcome block is recorded, and an
// officer's unblock of one source leaves the other in force.
BOOST_FIXTURE_TEST_CASE(blocks_are_per_source_and_an_unblock_names_what_it_lifts, PolicyFixture) {
  const std::string n = "06 1234 5678";
  SetNow("2026-09-01 10:00");
  auto outcome = ledger->Block({n, kEveryChannel, "nie dzwonić", "call_outcome"}, kOfficer);
  BOOST_TEST_REQUIRE(outcome.ok());
  SetNow("2026-09-02 10:00");
  BlockRequest robinson{"", MaskOf(Channel::kVoice) | MaskOf(Channel::kSms), "Robinson 2026-09",
                        "robinson"};
  auto file = ledger->BlockFile("robinson.txt", robinson, kOfficer,
                                std::string("0612345678\n0612345679\n"));
  BOOST_TEST_REQUIRE(file.ok(), file.status().ToString());
  BOOST_TEST(file->newly == 2u);  // the number blocked by a call outcome is recorded again
  BOOST_TEST(file->already == 0u);
  const uint64_t robinson_seq = file->first_seq;  // in the file's order: ...678 first
  // The same list from the same source again: nothing new.
  auto again = ledger->BlockFile("robinson.txt", robinson, kOfficer, std::string("0612345678\n"));
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(again->newly == 0u);
  BOOST_TEST(again->already == 1u);

  SetNow("2026-09-03 10:00");
  Decision both = Decide(n, Channel::kVoice, "2026-09-03 10:00");
  BOOST_TEST(Codes(both) == "deny blocked");
  BOOST_TEST(both.evidence == (std::vector<uint64_t>{outcome->seq, robinson_seq}));

  // Lifting the call-outcome block leaves Robinson's.
  UnblockRequest one{n, kEveryChannel, {"call_outcome"}, "operator error", "m.bianchi"};
  auto lifted = ledger->Unblock(one, kOfficer);
  BOOST_TEST_REQUIRE(lifted.ok(), lifted.status().ToString());
  BOOST_TEST_REQUIRE(lifted->lifted.size() == 1u);
  BOOST_TEST(lifted->lifted[0].seq == outcome->seq);
  BOOST_TEST(lifted->lifted[0].source == "call_outcome");
  BOOST_TEST(lifted->channels == kEveryChannel);
  Decision rest = Decide(n, Channel::kVoice, "2026-09-03 10:00");
  BOOST_TEST(Codes(rest) == "deny blocked");
  BOOST_TEST(rest.evidence == std::vector<uint64_t>{robinson_seq});
  // SMS keeps Robinson's too.
  BOOST_TEST(Codes(Decide(n, Channel::kSms, "2026-09-03 10:00")) == "deny blocked");

  // Refusals record nothing: a source with no block in force, a channel
  // not blocked, a subject not blocked.
  HeadGuard guard(*ledger);
  auto twice = ledger->Unblock(one, kOfficer);
  BOOST_TEST(!twice.ok());
  BOOST_TEST(twice.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(twice.status().message() ==
                 "+390612345678 is not blocked by call_outcome; nothing was recorded",
             twice.status().message());
  auto email = ledger->Unblock({n, MaskOf(Channel::kEmail), {}, "x", "m.bianchi"}, kOfficer);
  BOOST_TEST(!email.ok());
  BOOST_TEST(email.status().message().find("not blocked on email") != std::string::npos);
  auto never = ledger->Unblock({"06 5555 1234", kEveryChannel, {}, "x", "m.bianchi"}, kOfficer);
  BOOST_TEST(!never.ok());
  BOOST_TEST(never.status().message().find("+390655551234 is not blocked;") != std::string::npos,
             never.status().message());
  auto unknown = ledger->Unblock({n, kEveryChannel, {"crm"}, "x", "m.bianchi"}, kOfficer);
  BOOST_TEST(!unknown.ok());
  BOOST_TEST(unknown.status().message().find("unknown block source 'crm'") != std::string::npos);
  guard.Check();

  // Without a source: every block in force, each named.
  auto all = ledger->Unblock({n, kEveryChannel, {}, "consent renewed", "m.bianchi"}, kOfficer);
  BOOST_TEST_REQUIRE(all.ok(), all.status().ToString());
  BOOST_TEST_REQUIRE(all->lifted.size() == 1u);
  BOOST_TEST(all->lifted[0].seq == robinson_seq);
  BOOST_TEST(all->lifted[0].channels == (MaskOf(Channel::kVoice) | MaskOf(Channel::kSms)));
  BOOST_TEST(Codes(Decide(n, Channel::kVoice, "2026-09-03 10:00")) == "deny registry_unchecked");
  // As known before the unblocks, still blocked.
  BOOST_TEST(Codes(Decide(n, Channel::kVoice, "2026-09-03 10:00", At("2026-09-02 12:00"))) ==
             "deny blocked");
}

BOOST_FIXTURE_TEST_CASE(an_unblock_of_some_channels_leaves_the_others_blocked, PolicyFixture) {
  const std::string who = "anna@example.it";
  SetNow("2026-09-01 10:00");
  Grant(who, "MKT30", "2026-09-01");
  auto b = ledger->Block({who, kEveryChannel, "asked to stop", "request"}, kOfficer);
  BOOST_TEST_REQUIRE(b.ok());
  auto u = ledger->Unblock({who, MaskOf(Channel::kEmail), {}, "service mails only", "m.bianchi"},
                           kOfficer);
  BOOST_TEST_REQUIRE(u.ok(), u.status().ToString());
  BOOST_TEST(u->channels == MaskOf(Channel::kEmail));
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-01 11:00")) == "allow consent_valid");
  BOOST_TEST(Codes(Decide(who, Channel::kNewsletter, "2026-09-01 11:00")) == "deny blocked");
  // E-mail is no longer blocked: lifting it again, with newsletter, is refused.
  HeadGuard guard(*ledger);
  auto again = ledger->Unblock(
      {who, MaskOf(Channel::kEmail) | MaskOf(Channel::kNewsletter), {}, "x", "m.bianchi"},
      kOfficer);
  BOOST_TEST(!again.ok());
  BOOST_TEST(again.status().message().find("not blocked on email;") != std::string::npos,
             again.status().message());
  guard.Check();
}

BOOST_FIXTURE_TEST_CASE(italy_a_consent_before_the_listing_does_not_count, PolicyFixture) {
  ExportReport e = Export("06 1234 5678\n06 1234 5679\n");
  BOOST_TEST_REQUIRE(e.exported == 2u);
  SetNow("2026-08-31 15:00");
  BOOST_TEST_REQUIRE(ImportAllListed(1, "2026-08-31").ok());  // both listed
  SetNow("2026-09-03 10:00");
  Grant("06 1234 5678", "TEL", "2026-08-20");  // before the listing
  Grant("06 1234 5679", "TEL", "2026-09-02");  // after it
  Decision before = Decide("06 1234 5678", Channel::kVoice, "2026-09-03 12:00");
  BOOST_TEST(Codes(before) == "deny registry_listed");
  BOOST_TEST(before.reasons[0].detail.find("predates the listing") != std::string::npos);
  Decision after = Decide("06 1234 5679", Channel::kVoice, "2026-09-03 12:00");
  BOOST_TEST(Codes(after) == "allow registry_listed_consent_after_listing");
  BOOST_TEST(after.evidence.size() == 2u);
}

// Issue 16: a consent's days are the ledger's calendar ([ledger] time_zone),
// a clearance's the registry's.
BOOST_FIXTURE_TEST_CASE(consents_follow_the_ledgers_zone_clearances_the_registrys, PolicyFixture) {
  LedgerOptions o = ledger->options();
  ledger.reset();
  o.time_zone = "Europe/London";
  auto reopened = Ledger::Open(o);
  BOOST_TEST_REQUIRE(reopened.ok(), reopened.status().ToString());
  ledger = std::move(reopened).value();
  const TimeZone london = TimeZone::Load("Europe/London").value();
  SetNow("2026-09-01 11:00");
  Recorded g = Grant("anna@example.it", "MKT30", "2026-09-01");
  // Through 1 October, London time: 00:00 BST on 2 October is 23:00 UTC.
  BOOST_TEST(g.valid_until == london.StartOfDay(ParseDate("2026-10-02").value()));
  BOOST_TEST(g.valid_until == At("2026-10-02 00:00") + 3'600'000);
  // The RPO window still closes at midnight in Rome.
  ExportReport e = Export("06 1234 5678\n");
  SetNow("2026-09-01 15:00");
  auto r = Import(1, "2026-09-01", "0612345678\n");
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->valid_until == At("2026-09-17 00:00"));
  BOOST_TEST(ledger->zone().name() == "Europe/London");
  BOOST_TEST(ledger->Policy(kKnownNow).registries.at("it-rpo").value->zone().name() ==
             "Europe/Rome");
}

BOOST_FIXTURE_TEST_CASE(a_justification_allows_one_contact_window, PolicyFixture) {
  SetNow("2026-09-05 10:00");
  const std::string who = "lucia@example.it";
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-05 10:00")) ==
             "needs_justification consent_missing");
  auto j = ledger->Justify({who, Channel::kEmail, "CUST_REQ", "op7"}, kOfficer);
  BOOST_TEST_REQUIRE(j.ok(), j.status().ToString());
  BOOST_TEST(j->valid_until == At("2026-09-05 10:30"));
  Decision d = Decide(who, Channel::kEmail, "2026-09-05 10:10");
  BOOST_TEST(Codes(d) == "allow justified");
  BOOST_TEST(d.valid_until == At("2026-09-05 10:30"));
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-05 10:30")) ==
             "needs_justification consent_missing");
}

// Issue 15: only a missing consent can be justified; a block, a listing and
// an expired clearance deny whatever the reason, and the refusal records
// nothing.
BOOST_FIXTURE_TEST_CASE(a_justification_is_refused_where_it_cannot_lift_the_denial, PolicyFixture) {
  ExportReport e = Export("06 1234 5678\n06 1234 5679\n06 1234 5670\n");
  BOOST_TEST_REQUIRE(e.exported == 3u);
  SetNow("2026-08-31 15:00");
  // The filtered return lists the numbers that may be called: ...679 is
  // listed (absent), the other two cleared.
  std::string ret;
  for (auto& l : FileLines(e.files[0].txt_path))
    if (l.find("5679") == std::string::npos) ret += l + "\r\n";
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", ret).ok());
  SetNow("2026-09-01 10:00");
  auto b = ledger->Block({"06 1234 5670", kEveryChannel, "asked to stop", "request"}, kOfficer);
  BOOST_TEST_REQUIRE(b.ok());
  // The cleared number needs no consent for voice (Italy): SMS needs one, and
  // a justification supplies it.
  auto ok = ledger->Justify({"06 1234 5678", Channel::kSms, "CUST_REQ", "op7"}, kOfficer);
  BOOST_TEST_REQUIRE(ok.ok(), ok.status().ToString());

  HeadGuard guard(*ledger);
  auto blocked = ledger->Justify({"06 1234 5670", Channel::kSms, "CUST_REQ", "op7"}, kOfficer);
  BOOST_TEST(!blocked.ok());
  BOOST_TEST(blocked.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(blocked.status().message() ==
                 "a justification cannot lift this denial of sms to +390612345670: blocked (on "
                 "the internal do-not-call list, seq " +
                     std::to_string(b->seq) + "); nothing was recorded",
             blocked.status().message());
  auto listed = ledger->Justify({"06 1234 5679", Channel::kVoice, "CUST_REQ", "op7"}, kOfficer);
  BOOST_TEST(!listed.ok());
  BOOST_TEST(
      listed.status().message().find(": registry_listed (listed in it-rpo") != std::string::npos,
      listed.status().message());
  auto unchecked = ledger->Justify({"06 9999 0000", Channel::kVoice, "CUST_REQ", ""}, kOfficer);
  BOOST_TEST(!unchecked.ok());
  BOOST_TEST(unchecked.status().message().find("registry_unchecked") != std::string::npos);
  guard.Check();

  // Sixteen days on the clearance has ended: expired, refused too.
  SetNow("2026-09-16 10:00");
  HeadGuard later(*ledger);
  auto expired = ledger->Justify({"06 1234 5678", Channel::kSms, "CUST_REQ", "op7"}, kOfficer);
  BOOST_TEST(!expired.ok());
  BOOST_TEST(expired.status().message().find("registry_expired") != std::string::npos,
             expired.status().message());
  later.Check();
}

BOOST_FIXTURE_TEST_CASE(as_known_at_answers_with_what_was_recorded_then, PolicyFixture) {
  const std::string who = "gianni@example.it";
  SetNow("2026-09-05 10:00");
  Grant(who, "MKT30", "2026-09-01");
  SetNow("2026-09-06 10:00");
  BOOST_TEST_REQUIRE(
      ledger->Block({who, kEveryChannel, "asked to stop", "request"}, kOfficer).ok());
  // What Tacet answered on 5 September, and what it knows now about then.
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-05 12:00", At("2026-09-05 12:00"))) ==
             "allow consent_valid");
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-07 12:00")) == "deny blocked");
  // On 7 September, as known on the 5th: the block was not recorded yet.
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-07 12:00", At("2026-09-05 12:00"))) ==
             "allow consent_valid");
  // Consent given on 1 September but recorded on the 5th: unknown on the 3rd.
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-03 12:00", At("2026-09-03 12:00"))) ==
             "needs_justification consent_missing");
  BOOST_TEST(Codes(Decide(who, Channel::kEmail, "2026-09-03 12:00")) == "allow consent_valid");
}

BOOST_FIXTURE_TEST_CASE(refusals_leave_the_head_unchanged, PolicyFixture) {
  SetNow("2026-09-05 10:00");
  HeadGuard guard(*ledger);
  auto unknown_type = ledger->GrantConsent({"a@example.it", "NOPE", "2026-09-01", ""}, kOfficer);
  BOOST_TEST(!unknown_type.ok());
  BOOST_TEST(unknown_type.status().message().find("unknown consent type 'NOPE'") !=
             std::string::npos);
  auto future = ledger->GrantConsent({"a@example.it", "MKT30", "2026-09-06", ""}, kOfficer);
  BOOST_TEST(!future.ok());
  BOOST_TEST(future.status().message().find("in the future") != std::string::npos);
  auto no_officer = ledger->Unblock({"a@example.it", kEveryChannel, {}, "why not", ""}, kOfficer);
  BOOST_TEST(!no_officer.ok());
  auto unknown_reason = ledger->Justify({"a@example.it", Channel::kEmail, "BORED", ""}, kOfficer);
  BOOST_TEST(!unknown_reason.ok());
  BOOST_TEST(unknown_reason.status().message().find("unknown reason 'BORED'") != std::string::npos);
  auto bad_subject = ledger->Block({"not a number", kEveryChannel, "x", "request"}, kOfficer);
  BOOST_TEST(!bad_subject.ok());
  BOOST_TEST(bad_subject.status().message().find("not a number") != std::string::npos);
  guard.Check();
}

BOOST_FIXTURE_TEST_CASE(policy_is_reconciled_by_differences_and_replayed_by_time, PolicyFixture) {
  // Same config again: nothing appended.
  PolicyConfig same;
  same.consent_types_declared = true;
  same.consent_types = {{"MKT30", "Marketing e-mail", "", 30, kUseEmail | kUseNewsletter},
                        {"TEL", "Contatto telefonico", "", 0, kUsePhone}};
  same.reasons_declared = true;
  same.reasons = {{"CUST_REQ", "The customer asked to be contacted"},
                  {"CONTRACT", "Service about an active contract"}};
  auto r = ledger->ReconcilePolicy(same, kOfficer);
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r->appended == 0u);
  // Voice starts requiring consent on 10 September.
  SetNow("2026-09-10 00:00");
  PolicyConfig stricter = same;
  ChannelPolicySet ch = DefaultChannelPolicy();
  ch.consent_required |= MaskOf(Channel::kVoice);
  stricter.channels = ch;
  stricter.reasons = {{"CUST_REQ", "The customer asked to be contacted"}};
  r = ledger->ReconcilePolicy(stricter, kOfficer);
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r->appended == 2u);  // channel policy, CONTRACT retired
  BOOST_TEST(ledger->Policy(At("2026-09-09 12:00")).reasons.size() == 2u);
  BOOST_TEST(ledger->Policy(At("2026-09-10 12:00")).reasons.size() == 1u);
  // A foreign number (out of the RPO's scope) on voice, before and after.
  BOOST_TEST(Codes(Decide("+44 20 7946 0000", Channel::kVoice, "2026-09-09 12:00")) ==
             "allow registry_out_of_scope consent_not_required");
  BOOST_TEST(Codes(Decide("+44 20 7946 0000", Channel::kVoice, "2026-09-10 12:00")) ==
             "needs_justification registry_out_of_scope consent_missing");
}

BOOST_FIXTURE_TEST_CASE(a_decision_costs_at_most_two_point_lookups, PolicyFixture) {
  ExportReport e = Export("06 1234 5678\n");
  BOOST_TEST_REQUIRE(e.files.size() == 1u);
  SetNow("2026-08-31 15:00");
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "0612345678\n").ok());
  Grant("06 1234 5678", "TEL", "2026-08-31");
  Grant("a@example.it", "MKT30", "2026-08-31");
  auto lookups = [&](const std::string& subject, Channel c) {
    uint64_t before = ledger->log().point_lookups();
    auto a = ledger->Decide(subject, c, At("2026-09-01 10:00"));
    BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
    return ledger->log().point_lookups() - before;
  };
  // The subject's record and its registry record; e-mail has no registry.
  BOOST_TEST(lookups("06 1234 5678", Channel::kVoice) == 2u);
  BOOST_TEST(lookups("06 1234 5678", Channel::kSms) == 2u);
  BOOST_TEST(lookups("a@example.it", Channel::kEmail) == 1u);
  BOOST_TEST(lookups("a@example.it", Channel::kNewsletter) == 1u);
  // As known at an earlier moment, with the policy of that moment: the same.
  uint64_t before = ledger->log().point_lookups();
  BOOST_TEST_REQUIRE(
      ledger
          ->Decide("06 1234 5678", Channel::kVoice, At("2026-08-31 12:00"), At("2026-08-31 12:00"))
          .ok());
  BOOST_TEST(ledger->log().point_lookups() - before == 2u);
}

// check_batch asks for reasons without their sentences (Explain::kCodes);
// valid_until is found with verdicts alone (Explain::kVerdict). Every level
// must give the same verdict, valid_until, codes and evidence as the full one.
BOOST_FIXTURE_TEST_CASE(every_explanation_level_gives_the_same_decision, PolicyFixture) {
  ExportReport e = Export("06 1234 5678\n06 1234 5679\n347 555 1000\n347 555 1001\n");
  BOOST_TEST_REQUIRE(e.exported == 4u);
  SetNow("2026-08-31 15:00");
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "3475551000\n3475551001\n").ok());
  SetNow("2026-09-02 10:00");
  Grant("06 1234 5678", "TEL", "2026-08-20");  // before its listing
  Grant("06 1234 5679", "TEL", "2026-09-02");  // after it
  Grant("mario@example.it", "MKT30", "2026-09-01");
  BOOST_TEST_REQUIRE(
      ledger->Block({"347 555 1001", kEveryChannel, "asked to stop", "request"}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      ledger->Justify({"lucia@example.it", Channel::kEmail, "CUST_REQ", "op7"}, kOfficer).ok());
  std::vector<DecisionAnswer> answers;
  for (const char* subject :
       {"06 1234 5678", "06 1234 5679", "347 555 1000", "347 555 1001", "347 555 1002",
        "+44 20 7946 0000", "mario@example.it", "lucia@example.it", "nobody@example.it"}) {
    auto s = ledger->ParseSubject(subject);
    BOOST_TEST_REQUIRE(s.ok(), s.status().ToString());
    const bool phone = s->kind == SubjectKind::kPhone;
    for (Channel c : phone ? std::vector<Channel>{Channel::kVoice, Channel::kSms}
                           : std::vector<Channel>{Channel::kEmail, Channel::kNewsletter})
      for (const char* at : {"2026-09-02 10:10", "2026-09-20 12:00"})
        for (Explain x : {Explain::kFull, Explain::kCodes, Explain::kVerdict}) {
          DecisionAnswer& a = answers.emplace_back();
          a.subject = *s;
          a.channel = c;
          a.at = At(at);
          a.explain = x;
        }
  }
  BOOST_TEST_REQUIRE(ledger->DecideAll(answers).ok());
  std::set<std::string> codes_seen;
  for (size_t i = 0; i < answers.size(); i += 3) {
    const Decision& full = answers[i].decision;
    const Decision& codes = answers[i + 1].decision;
    const Decision& verdict = answers[i + 2].decision;
    const std::string what = answers[i].subject.value + " " + ChannelName(answers[i].channel) +
                             " " + std::to_string(answers[i].at) + ": " + Codes(full);
    BOOST_TEST(Codes(codes) == Codes(full), what);
    BOOST_TEST(codes.evidence == full.evidence, what);
    BOOST_TEST(codes.allowed_reasons == full.allowed_reasons, what);
    BOOST_TEST(codes.valid_until == full.valid_until, what);
    for (const auto& r : full.reasons) {
      BOOST_TEST(!r.detail.empty(), what);
      codes_seen.insert(r.code);
    }
    for (const auto& r : codes.reasons) BOOST_TEST(r.detail.empty(), what);
    BOOST_TEST((verdict.verdict == full.verdict), what);
    BOOST_TEST(verdict.valid_until == full.valid_until, what);
    BOOST_TEST(verdict.reasons.empty(), what);
  }
  // The subjects above reach every reason there is.
  BOOST_TEST(
      codes_seen ==
      std::set<std::string>({"blocked", "consent_missing", "consent_not_required", "consent_valid",
                             "justified", "registry_cleared", "registry_expired", "registry_listed",
                             "registry_listed_consent_after_listing", "registry_out_of_scope",
                             "registry_unchecked"}));
}

BOOST_AUTO_TEST_SUITE_END()
