// Issue 17: contact attempts recorded and audited, calling hours with their
// holiday calendar, frequency caps and cool-downs, outcomes and their effects.
#define BOOST_TEST_MODULE contact_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <new>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "../../projections/internal/producer.h"
#include "projections/contact_fixture.h"
#include "projections/ledger_fixture.h"
#include "tacet/core/codec.h"
#include "tacet/projections/calling_hours.h"
#include "tacet/projections/ledger.h"
#include "test_util.h"

using namespace tacet;
using namespace tacet::test;

BOOST_AUTO_TEST_SUITE(contact_tests)

// The import's parsing thread: items in order, at most `depth` waiting,
// a consumer that leaves early releases it, and what it throws reaches the
// consumer after the items made before (a thread must not end tacetd).
BOOST_AUTO_TEST_CASE(a_producer_hands_items_in_order_and_its_failure_to_the_consumer) {
  std::atomic<int> made{0};
  {
    internal::Producer<int> p(
        [&](const internal::Producer<int>::Yield& yield) {
          for (int i = 0; i < 1000; ++i) {
            if (!yield(int{i})) return;
            ++made;
          }
        },
        2);
    for (int i = 0; i < 10; ++i) BOOST_TEST(*p.Next() == i);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(made.load() <= 13);  // ten taken, two waiting, one in hand
  }                                 // left early: the producer is released, not run to the end
  BOOST_TEST(made.load() < 1000);

  internal::Producer<int> failing([](const internal::Producer<int>::Yield& yield) {
    yield(1);
    yield(2);
    throw std::bad_alloc();
  });
  BOOST_TEST(*failing.Next() == 1);
  BOOST_TEST(*failing.Next() == 2);
  BOOST_CHECK_THROW(failing.Next(), std::bad_alloc);
  BOOST_TEST(!failing.Next().has_value());  // thrown once, then the end
}

BOOST_AUTO_TEST_CASE(easter_and_the_italian_calendar_are_computed) {
  BOOST_TEST(FormatDate(EasterSunday(2026)) == "2026-04-05");
  BOOST_TEST(FormatDate(EasterSunday(2027)) == "2027-03-28");
  BOOST_TEST(FormatDate(EasterSunday(2000)) == "2000-04-23");
  BOOST_TEST(FormatDate(EasterSunday(2038)) == "2038-04-25");
  auto it = CallingHours::Make(ItalyCodeOfConductHours()).value();
  auto day = [](const char* d) { return ParseDate(d).value(); };
  BOOST_TEST(it->IsHoliday(day("2027-03-29")));   // Easter Monday
  BOOST_TEST(it->IsHoliday(day("2026-12-08")));   // Immacolata
  BOOST_TEST(!it->IsHoliday(day("2025-10-04")));  // San Francesco: from 2026 only
  BOOST_TEST(it->IsHoliday(day("2027-10-04")));
  // Every national holiday of a year, from the precomputed table and (2250)
  // from the rules: 11, and 12 from 2026 (4 October).
  for (const auto& [year, expected] : {std::pair{2025, 11}, {2027, 12}, {2199, 12}, {2250, 12}}) {
    int found = 0;
    const Day first = day((std::to_string(year) + "-01-01").c_str());
    const Day next = day((std::to_string(year + 1) + "-01-01").c_str());
    for (Day d = first; d < next; ++d) found += it->IsHoliday(d);
    BOOST_TEST(found == expected, year);
  }
  BOOST_TEST(it->IsHoliday(day("2250-12-26")));
  BOOST_TEST((it->TypeOf(day("2026-12-07")) == DayType::kPreHoliday));
  BOOST_TEST((it->TypeOf(day("2026-12-12")) == DayType::kSaturday));
  BOOST_TEST((it->TypeOf(day("2026-12-13")) == DayType::kSunday));
  BOOST_TEST((it->TypeOf(day("2026-12-03")) == DayType::kWeekday));
  auto fr = CallingHours::Make(FranceD2239Hours()).value();
  BOOST_TEST(fr->IsHoliday(day("2027-05-06")));  // Ascension: Easter + 39
  BOOST_TEST(fr->IsHoliday(day("2027-05-17")));  // Whit Monday: Easter + 50
  // France: 13:00-14:00 is closed on a weekday.
  const TimeZone paris = TimeZone::Load("Europe/Paris").value();
  BOOST_TEST(fr->OpenAt(paris.Parse("2026-12-03 12:59").value()));
  BOOST_TEST(!fr->OpenAt(paris.Parse("2026-12-03 13:00").value()));
  BOOST_TEST(fr->NextChange(paris.Parse("2026-12-03 13:00").value()) ==
             paris.Parse("2026-12-03 14:00").value());
}

// The acceptance, Italy with adherence on, Europe/Rome.
BOOST_AUTO_TEST_CASE(italian_calling_hours_deny_outside_and_say_when_they_open) {
  ContactFixture f(ItalyHours());
  const std::string n = "+390612345678";
  Decision d = f.Decide(n, Channel::kVoice, f.At("2026-12-03 19:59"));  // a Thursday
  BOOST_TEST(Codes(d) == "allow registry_out_of_scope consent_not_required");
  BOOST_TEST(d.valid_until == f.At("2026-12-03 20:00"));
  d = f.Decide(n, Channel::kVoice, f.At("2026-12-03 20:00"));
  BOOST_TEST(Codes(d) == "deny outside_calling_hours");
  BOOST_TEST(d.valid_until == f.At("2026-12-04 09:00"));
  // Monday 7 December precedes a holiday: 10-19.
  d = f.Decide(n, Channel::kVoice, f.At("2026-12-07 18:59"));
  BOOST_TEST(Codes(d) == "allow registry_out_of_scope consent_not_required");
  d = f.Decide(n, Channel::kVoice, f.At("2026-12-07 19:00"));
  BOOST_TEST(Codes(d) == "deny outside_calling_hours");
  BOOST_TEST(d.valid_until == f.At("2026-12-09 09:00"));
  BOOST_TEST(d.reasons[0].detail.find("the day before a holiday") != std::string::npos,
             d.reasons[0].detail);
  d = f.Decide(n, Channel::kVoice, f.At("2026-12-12 19:00"));  // a Saturday
  BOOST_TEST(Codes(d) == "deny outside_calling_hours");
  BOOST_TEST(d.valid_until == f.At("2026-12-14 09:00"));
  for (const char* t : {"2027-03-29 09:00", "2027-03-29 12:00", "2027-03-29 19:30"}) {
    d = f.Decide(n, Channel::kVoice, f.At(t));  // Easter Monday
    BOOST_TEST(Codes(d) == "deny outside_calling_hours", t);
    BOOST_TEST(d.valid_until == f.At("2027-03-30 09:00"), t);
  }
  // The evidence is the policy event; e-mail is not governed.
  BOOST_TEST(d.evidence.size() == 1u);
  f.ledger->GrantConsent({"a@b.it", "TEL", "2026-08-31", "form"}, kOfficer).value();
  BOOST_TEST(
      (f.Decide("a@b.it", Channel::kEmail, f.At("2027-03-29 12:00")).verdict != Verdict::kDeny));
}

BOOST_FIXTURE_TEST_CASE(adherence_off_leaves_every_hour_open, ContactFixture) {
  BOOST_TEST(Codes(Decide("+390612345678", Channel::kVoice, At("2026-12-13 23:00"))) ==
             "allow registry_out_of_scope consent_not_required");
}

// France: a 5th attempt within 30 days is denied until the first leaves the
// window; after a refusal, 60 days of silence.
BOOST_AUTO_TEST_CASE(french_caps_count_attempts_and_refusals_start_a_cool_down) {
  ContactFixture f(FranceCaps());
  const std::string n = "+33123456789";
  const TimeMs d0 = f.At("2026-09-01 11:00");
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 4; ++i) {
    f.clock.Set(d0 + i * 5 * kDay + 60'000);
    ContactReport r = f.Contact(n, d0 + i * 5 * kDay, i % 2 ? "no_answer" : "busy");
    BOOST_TEST((r.decision.verdict == Verdict::kAllow), i);
    BOOST_TEST((f.Stored(r.seq).verdict == StoredVerdict::kAllow));
    seqs.push_back(r.seq);
  }
  Decision d = f.Decide(n, Channel::kVoice, d0 + 20 * kDay);
  BOOST_TEST(Codes(d) == "deny frequency_cap");
  BOOST_TEST(d.valid_until == d0 + 30 * kDay);
  for (uint64_t s : seqs) BOOST_TEST(Cites(d, s));
  BOOST_TEST(Codes(f.Decide(n, Channel::kVoice, d0 + 30 * kDay)) ==
             "allow registry_out_of_scope consent_not_required");
  // The 5th attempt happened anyway: recorded, flagged by its verdict.
  f.clock.Set(d0 + 20 * kDay + 60'000);
  ContactReport fifth = f.Contact(n, d0 + 20 * kDay, "answered");
  BOOST_TEST(Codes(fifth.decision) == "deny frequency_cap");
  ContactAttempted stored = f.Stored(fifth.seq);
  BOOST_TEST((stored.verdict == StoredVerdict::kDeny));
  BOOST_TEST(stored.reasons == std::vector<std::string>{"frequency_cap"});
  BOOST_TEST(stored.flags == kAttemptNoPriorCheck);
  // Replay: the answer at its start as known when recorded is the one stored.
  Event e = f.ledger->log().Read(fifth.seq).value();
  Decision replay = f.Decide(n, Channel::kVoice, d0 + 20 * kDay, e.recorded_at - 1);
  BOOST_TEST(replay.evidence == stored.evidence);
  // Another number: a refusal, then 60 days of silence.
  const std::string m = "+33123456780";
  f.clock.Set(d0 + 21 * kDay);
  ContactReport refused = f.Contact(m, d0 + 21 * kDay - 60'000, "refused");
  d = f.Decide(m, Channel::kVoice, d0 + 21 * kDay + 59 * kDay);
  BOOST_TEST(Codes(d) == "deny cool_down");
  BOOST_TEST(d.valid_until == d0 + 21 * kDay - 60'000 + 60 * kDay);
  BOOST_TEST(Cites(d, refused.seq));
  BOOST_TEST(Codes(f.Decide(m, Channel::kVoice, d0 + 81 * kDay)) ==
             "allow registry_out_of_scope consent_not_required");
  // Italian numbers are not under the French cap.
  BOOST_TEST(Codes(f.Decide("+390612345678", Channel::kVoice, d0 + 20 * kDay)) ==
             "allow registry_out_of_scope consent_not_required");
}

// Seed 003: a do_not_call outcome blocks the number in the attempt's own
// batch; a CRM sending the refusers back with fresh consents gets deny.
BOOST_FIXTURE_TEST_CASE(seed003_do_not_call_outcomes_block_and_crm_consents_do_not_undo_them,
                        ContactFixture) {
  SetNow("2026-09-01 10:00");
  std::vector<std::pair<std::string, uint64_t>> blocked;
  for (int i = 0; i < 100; ++i) {
    const std::string n = "+3934712" + std::to_string(10000 + i);
    ContactReport r = Contact(n, At("2026-09-01 09:00"), "do_not_call");
    BOOST_TEST_REQUIRE(r.block_seq == r.seq + 1);  // the same batch
    blocked.emplace_back(n, r.block_seq);
  }
  SetNow("2026-09-02 10:00");
  size_t denied = 0;
  for (const auto& [n, block] : blocked) {
    BOOST_TEST_REQUIRE(ledger->GrantConsent({n, "TEL", "2026-09-02", "crm sync"}, kOfficer).ok());
    for (Channel c : {Channel::kVoice, Channel::kSms}) {
      Decision d = Decide(n, c, At("2026-09-02 11:00"));
      BOOST_TEST(Codes(d) == "deny blocked");
      BOOST_TEST(Cites(d, block));
      denied += d.verdict == Verdict::kDeny;
    }
  }
  BOOST_TEST(denied == 200u);
}

BOOST_FIXTURE_TEST_CASE(a_wrong_number_ends_the_consents_given_for_it, ContactFixture) {
  SetNow("2026-09-01 10:00");
  const std::string n = "+393471234567";
  ledger->GrantConsent({n, "TEL", "2026-09-01", "form"}, kOfficer).value();
  BOOST_TEST(Codes(Decide(n, Channel::kSms, At("2026-09-01 10:30"))) ==
             "allow registry_out_of_scope consent_valid");
  SetNow("2026-09-03 10:00");
  Contact(n, At("2026-09-03 09:00"), "wrong_number");
  BOOST_TEST(Codes(Decide(n, Channel::kSms, At("2026-09-03 10:30"))) ==
             "needs_justification registry_out_of_scope consent_missing");
  // Before the wrong number was recorded, as then known: the consent held.
  BOOST_TEST(Codes(Decide(n, Channel::kSms, At("2026-09-02 10:30"))) ==
             "allow registry_out_of_scope consent_valid");
  // A consent given after it counts again.
  SetNow("2026-09-04 10:00");
  ledger->GrantConsent({n, "TEL", "2026-09-04", "the new subscriber"}, kOfficer).value();
  BOOST_TEST(Codes(Decide(n, Channel::kSms, At("2026-09-04 10:30"))) ==
             "allow registry_out_of_scope consent_valid");
}

BOOST_FIXTURE_TEST_CASE(a_refused_attempt_records_nothing_and_says_why, ContactFixture) {
  BOOST_TEST(ledger->Policy(kKnownNow).outcomes.size() == 8u);  // the shipped ones
  const uint64_t head = ledger->log().head().seq;
  auto refused = [&](ContactRequest req, const std::string& says) {
    auto r = ledger->RecordContact(req, kOfficer);
    BOOST_TEST(!r.ok(), says);
    if (!r.ok())
      BOOST_TEST(r.status().message().find(says) != std::string::npos, r.status().message());
    BOOST_TEST(ledger->log().head().seq == head);
  };
  ContactRequest ok;
  ok.subject = "+390612345678";
  ok.started_at = At("2026-08-31 09:00");
  ok.outcome = "answered";
  ContactRequest r = ok;
  r.outcome = "hung_up";
  refused(r, "unknown outcome 'hung_up'");
  r = ok;
  r.started_at = At("2026-08-31 10:01");
  refused(r, "is after its recording");
  r = ok;
  r.channel = Channel::kEmail;
  refused(r, "is a phone number");
  r = ok;
  r.campaign = std::string(300, 'x');
  refused(r, "--campaign is 300 bytes");
  r = ok;
  r.operator_id = "\xff";
  refused(r, "--operator");
  BOOST_TEST(ledger->RecordContact(ok, kOfficer).ok());
}

// A check that leaves a trace, and an attempt that cites it: attempts with
// no recorded check before their start are flagged.
BOOST_FIXTURE_TEST_CASE(an_attempt_cites_the_recorded_check_it_acted_on, ContactFixture) {
  const std::string n = "+390612345678";
  SetNow("2026-09-01 10:00");
  auto check = ledger->RecordCheck({n, Channel::kVoice, "autumn"}, kOfficer);
  BOOST_TEST_REQUIRE(check.ok(), check.status().ToString());
  BOOST_TEST((check->answer.decision.verdict == Verdict::kAllow));
  Event e = ledger->log().Read(check->seq).value();
  const CheckRecorded stored =
      std::get<CheckRecorded>(DecodePayload(e.type, e.version, e.payload).value());
  BOOST_TEST((stored.verdict == StoredVerdict::kAllow));
  BOOST_TEST(stored.campaign == "autumn");
  // Plain checks stay reads.
  const uint64_t head = ledger->log().head().seq;
  BOOST_TEST_REQUIRE(ledger->Decide(n, Channel::kVoice, At("2026-09-01 10:00")).ok());
  BOOST_TEST(ledger->log().head().seq == head);

  SetNow("2026-09-01 10:05");
  ContactRequest req;
  req.subject = n;
  req.started_at = At("2026-09-01 10:01");
  req.outcome = "answered";
  req.decision_seq = check->seq;
  auto cited = ledger->RecordContact(req, kOfficer);
  BOOST_TEST_REQUIRE(cited.ok(), cited.status().ToString());
  BOOST_TEST(!cited->no_prior_check);
  BOOST_TEST(Stored(cited->seq).flags == 0);
  BOOST_TEST(Stored(cited->seq).decision_seq == check->seq);
  // Started before the check was recorded: not a prior check.
  req.started_at = At("2026-09-01 09:59");
  auto early = ledger->RecordContact(req, kOfficer);
  BOOST_TEST_REQUIRE(early.ok());
  BOOST_TEST(early->no_prior_check);
  BOOST_TEST(Stored(early->seq).flags == kAttemptNoPriorCheck);
  // A seq that is no check of this subject on this channel is refused.
  const uint64_t before = ledger->log().head().seq;
  for (auto [seq, channel, subject, says] :
       {std::tuple{cited->seq, Channel::kVoice, n, "is not a recorded check"},
        std::tuple{check->seq, Channel::kSms, n, "is not a recorded check"},
        std::tuple{check->seq, Channel::kVoice, std::string("+390612345679"),
                   "of another subject or channel"},
        std::tuple{before + 5, Channel::kVoice, n, "no such event"}}) {
    ContactRequest bad = req;
    bad.decision_seq = seq;
    bad.channel = channel;
    bad.subject = subject;
    auto r = ledger->RecordContact(bad, kOfficer);
    BOOST_TEST(!r.ok(), says);
    if (!r.ok())
      BOOST_TEST(r.status().message().find(says) != std::string::npos, r.status().message());
  }
  BOOST_TEST(ledger->log().head().seq == before);
}

// Calling hours, caps and outcomes recorded later are not the rules of an
// earlier moment: a decision about a night before Italy's hours were
// recorded allows (the view of the past once took today's hours whenever
// only they had changed since).
BOOST_AUTO_TEST_CASE(hours_recorded_later_do_not_govern_an_earlier_moment) {
  ContactFixture f;
  f.SetNow("2026-09-02 10:00");
  auto r = f.ledger->ReconcilePolicy(ItalyHours(), kOfficer);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  const TimeMs night_before = f.At("2026-09-01 22:00");
  BOOST_TEST(Codes(f.Decide("+390612345678", Channel::kVoice, night_before)) ==
             "allow registry_out_of_scope consent_not_required");
  BOOST_TEST(Codes(f.Decide("+390612345678", Channel::kVoice, f.At("2026-09-02 22:00"))) ==
             "deny outside_calling_hours");
}

// An answer as known at K does not move with what is recorded after K:
// a block recorded two days later is no moment of a decision as known
// before it (valid_until once took the block's time, where the verdict as
// known at K had turned to allow).
BOOST_AUTO_TEST_CASE(valid_until_as_known_at_k_ignores_records_made_after_k) {
  PolicyConfig p = ItalyHours();
  p.caps_declared = true;
  p.caps = {VoiceCap("it-cool-down", "IT", 10, 24, 24)};
  ContactFixture f(p);
  f.SetNow("2026-12-07 10:30");  // a Monday before a holiday: open 10-19
  f.Contact("+39 347 123 4567", f.At("2026-12-07 10:00"), "refused");
  const TimeMs at = f.At("2026-12-07 10:30");
  const TimeMs known = f.clock.NowMs();
  const Decision before = f.Decide("+393471234567", Channel::kVoice, at, known);
  BOOST_TEST(Codes(before) == "deny cool_down");
  // The cool-down ends on Tuesday 8 December at 10:00, a holiday: the
  // verdict changes at the next opening, Wednesday at 09:00.
  BOOST_TEST(before.valid_until == f.At("2026-12-09 09:00"));
  f.SetNow("2026-12-09 11:00");  // the cool-down over, the window open
  BlockRequest b;
  b.subject = "+393471234567";
  b.reason = "asked by letter";
  BOOST_TEST_REQUIRE(f.ledger->Block(b, kOfficer).ok());
  const Decision after = f.Decide("+393471234567", Channel::kVoice, at, known);
  BOOST_TEST(Codes(after) == "deny cool_down");
  BOOST_TEST(after.valid_until == before.valid_until);
  BOOST_TEST(after.evidence == before.evidence);
}

// A dialer's call-detail export: one batch, audited line by line, with the
// file's earlier lines counted by the caps; any bad line refuses it all.
BOOST_AUTO_TEST_CASE(a_call_detail_file_is_one_audited_batch) {
  ContactFixture f(FranceCaps());
  f.SetNow("2026-09-30 12:00");
  std::string csv = "Campaign;Subject;Started;Outcome;Duration;Agent name\n";
  // Five attempts to one French number within 30 days: the fifth is over
  // the cap of four, counting the four lines before it.
  for (int day = 1; day <= 5; ++day)
    csv += "autumn;+33 1 23 45 67 89;2026-09-0" + std::to_string(day) + " 11:00;no_answer;0;x\n";
  csv += "autumn;+39 347 123 4567;2026-09-10 11:00;do_not_call;35;y\n";
  auto r = f.ledger->ImportContacts({"calls.csv", csv}, kOfficer);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->lines == 6u);
  BOOST_TEST(r->recorded == 6u);
  BOOST_TEST(r->blocks == 1u);
  BOOST_TEST(r->denied == 1u);
  BOOST_TEST(r->allowed == 5u);
  BOOST_TEST(r->no_prior_check == 6u);
  BOOST_TEST(r->last_seq == r->first_seq + 6);
  ContactAttempted fifth = f.Stored(r->first_seq + 4);
  BOOST_TEST(fifth.reasons == std::vector<std::string>{"frequency_cap"});
  // The four earlier lines of the file, and the cap's policy event.
  BOOST_TEST(fifth.evidence.size() == 5u);
  for (uint64_t k = 0; k < 4; ++k)
    BOOST_TEST(std::count(fifth.evidence.begin(), fifth.evidence.end(), r->first_seq + k) == 1);
  BOOST_TEST(f.Stored(r->first_seq + 5).duration_s == 35u);
  // The block follows the attempts in the batch, and denies.
  Decision d = f.Decide("+393471234567", Channel::kVoice, f.At("2026-09-30 12:30"));
  BOOST_TEST(Codes(d) == "deny blocked");
  BOOST_TEST(Cites(d, r->last_seq));
  {
    // Its reason is sealed under the number's key, made for the attempt.
    Event e = f.ledger->log().Read(r->last_seq).value();
    Payload p = DecodePayload(e.type, e.version, e.payload).value();
    BOOST_TEST_REQUIRE(std::holds_alternative<Blocked>(p));
    Disclosed why = f.ledger->Disclose(p);
    BOOST_TEST_REQUIRE((why.state == Disclosed::State::kOpen));
    BOOST_TEST(why.fields.text ==
               "outcome do_not_call of the attempt started 2026-09-10T09:00:00.000Z (calls.csv:7)");
  }

  // Bad lines: all named, nothing recorded.
  const uint64_t head = f.ledger->log().head().seq;
  const std::string bad =
      "subject,started,outcome,duration\n"
      "+33123456789,2026-09-20 11:00,no_answer,\n"
      "not a number,2026-09-20 11:00,no_answer,\n"
      "+33123456789,2026-13-20 11:00,no_answer,\n"
      "+33123456789,2026-09-20 11:00,hung_up,\n"
      "+33123456789,2026-09-20 11:00,busy,ten\n"
      "+33123456789,2026-10-20 11:00,busy,\n";
  auto refused = f.ledger->ImportContacts({"bad.csv", bad}, kOfficer);
  BOOST_TEST_REQUIRE(!refused.ok());
  const std::string& m = refused.status().message();
  for (const char* says :
       {"5 bad lines; nothing was recorded", "bad.csv:3: subject 'not a number'",
        "bad.csv:4: started '2026-13-20 11:00'", "bad.csv:5: outcome 'hung_up'",
        "bad.csv:6: duration 'ten'", "bad.csv:7: started '2026-10-20 11:00': after its recording"})
    BOOST_TEST(m.find(says) != std::string::npos, says << " in " << m);
  BOOST_TEST(f.ledger->log().head().seq == head);
  auto no_outcome =
      f.ledger->ImportContacts({"x.csv", "subject,started\n+33123456789,2026-09-20\n"}, kOfficer);
  BOOST_TEST(!no_outcome.ok());
  BOOST_TEST(no_outcome.status().message().find("no outcome column") != std::string::npos);
}

// An erased number stays suppressed without a block of the file's, and no
// personal data about it is recorded again: its attempt is stored unsealed.
BOOST_AUTO_TEST_CASE(an_erased_numbers_lines_are_recorded_unsealed_and_block_nothing) {
  ContactFixture f;
  f.SetNow("2026-09-30 12:00");
  f.Contact("+39 347 123 4567", f.At("2026-09-10 11:00"), "answered");
  EraseRequest e;
  e.subject = "+39 347 123 4567";
  e.request = "art. 17 request 4";
  e.officer = "dpo";
  BOOST_TEST_REQUIRE(f.ledger->Erase(e, kOfficer).ok());
  auto r = f.ledger->ImportContacts({"calls.csv",
                                     "subject,started,outcome\n"
                                     "+39 347 123 4567,2026-09-20 11:00,do_not_call\n"
                                     "+39 347 765 4321,2026-09-20 11:05,do_not_call\n"},
                                    kOfficer);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->recorded == 2u);
  BOOST_TEST(r->blocks == 1u);  // the other number's
  BOOST_TEST(r->last_seq == r->first_seq + 2);
  BOOST_TEST(f.Stored(r->first_seq).sealed.bytes.empty());
  BOOST_TEST(!f.Stored(r->first_seq + 1).sealed.bytes.empty());
  Event block = f.ledger->log().Read(r->last_seq).value();
  Payload p = DecodePayload(block.type, block.version, block.payload).value();
  BOOST_TEST_REQUIRE(std::holds_alternative<Blocked>(p));
  BOOST_TEST(std::get<Blocked>(p).subject == f.Stored(r->first_seq + 1).subject);
  BOOST_TEST(Codes(f.Decide("+393471234567", Channel::kVoice, f.At("2026-09-30 12:30"))) ==
             "deny erased");
}

BOOST_AUTO_TEST_SUITE_END()
