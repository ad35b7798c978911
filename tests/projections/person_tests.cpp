// Persons (issue 18): subjects linked to one record of the CRM.
#define BOOST_TEST_MODULE person_tests
#include <boost/test/unit_test.hpp>

#include "projections/contact_fixture.h"
#include "projections/ledger_fixture.h"
#include "tacet/core/codec.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/person_state.h"
#include "tacet/projections/subject_state.h"

using namespace tacet;
using namespace tacet::test;

BOOST_AUTO_TEST_SUITE(person_tests)

// A link is an event per subject whose person changes, sealed with the
// CRM's id, indexed under the subject and the person; a repeated link
// records nothing; an unlink ends it.
BOOST_AUTO_TEST_CASE(links_are_events_of_the_subject_and_the_person) {
  Fixture f;
  const uint64_t before = f.ledger->log().head().seq;
  auto r = f.ledger->LinkPerson(
      {"ANAG-0042", {"+39 347 123 4567", "mario@example.it", "+393471234567"}}, kOfficer);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->recorded.size() == 2u);  // the number named twice counts once
  BOOST_TEST(f.ledger->log().head().seq == before + 2);
  Event e = f.ledger->log().Read(r->recorded[0].seq).value();
  Payload p = DecodePayload(e.type, e.version, e.payload).value();
  BOOST_TEST_REQUIRE(std::holds_alternative<PersonLinked>(p));
  Disclosed d = f.ledger->Disclose(p);
  BOOST_TEST_REQUIRE((d.state == Disclosed::State::kOpen));
  BOOST_TEST(d.fields.subject == "+393471234567");
  BOOST_TEST(d.fields.text == "ANAG-0042");

  auto again = f.ledger->LinkPerson({"ANAG-0042", {"+393471234567"}}, kOfficer);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(again->recorded.empty());
  BOOST_TEST(again->unchanged == std::vector<std::string>{"+393471234567"});

  auto moved = f.ledger->LinkPerson({"ANAG-0077", {"+393471234567"}}, kOfficer);
  BOOST_TEST_REQUIRE(moved.ok());
  BOOST_TEST(moved->recorded.size() == 1u);
  auto off = f.ledger->UnlinkPerson({"ANAG-0042", {"+393471234567"}}, kOfficer);
  BOOST_TEST_REQUIRE(off.ok());
  BOOST_TEST(off->recorded.empty());  // it is ANAG-0077's now
  auto off77 = f.ledger->UnlinkPerson({"ANAG-0077", {"+393471234567"}}, kOfficer);
  BOOST_TEST_REQUIRE(off77.ok());
  BOOST_TEST(off77->recorded.size() == 1u);

  for (const char* bad : {"", "ANAG\n1"}) {
    auto refused = f.ledger->LinkPerson({bad, {"+393471234567"}}, kOfficer);
    BOOST_TEST(!refused.ok());
  }
  BOOST_TEST(!f.ledger->LinkPerson({std::string(129, 'x'), {"+393471234567"}}, kOfficer).ok());
}

// A merge and its undoing are one event each, an edge on both persons'
// records; a link that moves a subject leaves an entry on the person it
// left, with the same seq.
BOOST_AUTO_TEST_CASE(merges_and_moves_are_kept_on_both_persons) {
  Fixture f;
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"A", {"+393471000001"}}, kOfficer).ok());
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"B", {"+393471000002"}}, kOfficer).ok());
  auto m = f.ledger->MergePersons("A", "B", kOfficer);
  BOOST_TEST_REQUIRE(m.ok(), m.status().ToString());
  auto twice = f.ledger->MergePersons("A", "B", kOfficer);
  BOOST_TEST(twice.status().message().find("already merged") != std::string::npos);
  BOOST_TEST(!f.ledger->MergePersons("A", "A", kOfficer).ok());
  const TimeMs merged_at = f.ledger->log().head().recorded_at;
  f.clock.Advance(60'000);
  auto s = f.ledger->SplitPersons("A", "B", kOfficer);
  BOOST_TEST_REQUIRE(s.ok(), s.status().ToString());
  BOOST_TEST(!f.ledger->SplitPersons("A", "B", kOfficer).ok());
  auto moved = f.ledger->LinkPerson({"B", {"+393471000001"}}, kOfficer);
  BOOST_TEST_REQUIRE(moved.ok());

  auto record = [&](const char* crm) {
    auto r = f.ledger->Person(crm);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return *r;
  };
  PersonState a = record("A"), b = record("B");
  BOOST_TEST(a.edges.size() == 2u);
  BOOST_TEST(a.MergedAt(merged_at).size() == 1u);  // as known right after the merge
  BOOST_TEST(a.MergedAt(kKnownNow).empty());       // split since
  BOOST_TEST(a.SubjectsAt(kKnownNow).empty());     // its number moved to B
  BOOST_TEST(a.links.back().seq == moved->recorded[0].seq);
  BOOST_TEST(b.SubjectsAt(kKnownNow).size() == 2u);
}

// Acceptance: a person with three numbers objects once; all three, and a
// fourth linked a week later, deny, citing the objection and the links.
// A fifth number arrives with a merged person and leaves with the split;
// the fourth, unlinked, follows its own record again. A subject-level block
// of one number stays that number's.
BOOST_AUTO_TEST_CASE(a_persons_objection_covers_every_number_linked_then_and_later) {
  ContactFixture f;
  f.SetNow("2026-12-01 10:00");
  const std::vector<std::string> three = {"+393471000001", "+393471000002", "+393471000003"};
  auto linked = f.ledger->LinkPerson({"ANAG-7", three}, kOfficer);
  BOOST_TEST_REQUIRE(linked.ok(), linked.status().ToString());
  BOOST_TEST_REQUIRE(linked->recorded.size() == 3u);
  // The fourth and fifth numbers' own answer, before anything else.
  const TimeMs early = f.At("2026-12-01 11:00");
  const std::string own = Codes(f.Decide("+393471000004", Channel::kVoice, early));
  BOOST_TEST(own == "allow registry_out_of_scope consent_not_required");

  f.SetNow("2026-12-01 12:00");
  BlockRequest objection;
  objection.person = "ANAG-7";
  objection.source = "objection";
  objection.reason = "art. 21 objection by e-mail";
  auto blocked = f.ledger->Block(objection, kOfficer);
  BOOST_TEST_REQUIRE(blocked.ok(), blocked.status().ToString());
  {
    // Sealed under the person's own key: it opens to the CRM's id and reason.
    Event e = f.ledger->log().Read(blocked->seq).value();
    Payload p = DecodePayload(e.type, e.version, e.payload).value();
    BOOST_TEST_REQUIRE(std::holds_alternative<PersonBlocked>(p));
    Disclosed d = f.ledger->Disclose(p);
    BOOST_TEST_REQUIRE((d.state == Disclosed::State::kOpen));
    BOOST_TEST(d.fields.subject == "ANAG-7");
    BOOST_TEST(d.fields.text == "art. 21 objection by e-mail");
  }
  const TimeMs after = f.At("2026-12-01 12:30");
  for (size_t i = 0; i < 3; ++i) {
    const Decision d = f.Decide(three[i], Channel::kVoice, after);
    BOOST_TEST(Codes(d) == "deny person_blocked", three[i]);
    BOOST_TEST(Cites(d, blocked->seq));
    BOOST_TEST(Cites(d, linked->recorded[i].seq));
    // Before the objection it was the number's own answer; as known before
    // it, too.
    BOOST_TEST(Codes(f.Decide(three[i], Channel::kVoice, early)) == own);
    BOOST_TEST(Codes(f.Decide(three[i], Channel::kVoice, after, early)) == own);
  }

  // A week later the CRM links a fourth number: the objection covers it.
  f.SetNow("2026-12-08 10:00");
  auto fourth = f.ledger->LinkPerson({"ANAG-7", {"+393471000004"}}, kOfficer);
  BOOST_TEST_REQUIRE(fourth.ok());
  const TimeMs week = f.At("2026-12-08 10:30");
  Decision d4 = f.Decide("+393471000004", Channel::kVoice, week);
  BOOST_TEST(Codes(d4) == "deny person_blocked");
  BOOST_TEST(Cites(d4, blocked->seq));
  BOOST_TEST(Cites(d4, fourth->recorded[0].seq));
  // At a moment before its link, the fourth was not the person's.
  BOOST_TEST(Codes(f.Decide("+393471000004", Channel::kVoice, f.At("2026-12-05 10:00"))) == own);

  // A fifth number of another record of the CRM, merged into ANAG-7: denied
  // through the merge, citing it; the split restores its own answer.
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"ANAG-9", {"+393471000005"}}, kOfficer).ok());
  BOOST_TEST(Codes(f.Decide("+393471000005", Channel::kVoice, week)) == own);
  f.SetNow("2026-12-08 11:00");
  auto merged = f.ledger->MergePersons("ANAG-7", "ANAG-9", kOfficer);
  BOOST_TEST_REQUIRE(merged.ok());
  const TimeMs later = f.At("2026-12-08 11:30");
  Decision d5 = f.Decide("+393471000005", Channel::kVoice, later);
  BOOST_TEST(Codes(d5) == "deny person_blocked");
  BOOST_TEST(Cites(d5, blocked->seq));
  BOOST_TEST(Cites(d5, merged->seq));
  f.SetNow("2026-12-08 12:00");
  auto split = f.ledger->SplitPersons("ANAG-7", "ANAG-9", kOfficer);
  BOOST_TEST_REQUIRE(split.ok());
  const TimeMs noon = f.At("2026-12-08 12:30");
  BOOST_TEST(Codes(f.Decide("+393471000005", Channel::kVoice, noon)) == own);
  // As known while merged, the answer then stands.
  BOOST_TEST(Codes(f.Decide("+393471000005", Channel::kVoice, later, later)) ==
             "deny person_blocked");

  // The fourth leaves the person: its own record again.
  auto off = f.ledger->UnlinkPerson({"ANAG-7", {"+393471000004"}}, kOfficer);
  BOOST_TEST_REQUIRE(off.ok());
  BOOST_TEST(Codes(f.Decide("+393471000004", Channel::kVoice, noon + 3'600'000)) == own);

  // A subject-level block stays the subject's: the person's other numbers
  // answer as before once the person's block is lifted.
  BlockRequest one;
  one.subject = "+393471000001";
  one.reason = "asked on the phone";
  BOOST_TEST_REQUIRE(f.ledger->Block(one, kOfficer).ok());
  UnblockRequest lift;
  lift.person = "ANAG-7";
  lift.reason = "objection withdrawn";
  lift.officer = "dpo";
  auto lifted = f.ledger->Unblock(lift, kOfficer);
  BOOST_TEST_REQUIRE(lifted.ok(), lifted.status().ToString());
  BOOST_TEST(lifted->lifted.size() == 1u);
  const TimeMs end = f.clock.NowMs() + 60'000;
  BOOST_TEST(Codes(f.Decide("+393471000001", Channel::kVoice, end)) == "deny blocked");
  BOOST_TEST(Codes(f.Decide("+393471000002", Channel::kVoice, end)) == own);
  // Nothing left to lift: refused, nothing recorded.
  const uint64_t head = f.ledger->log().head().seq;
  BOOST_TEST(!f.ledger->Unblock(lift, kOfficer).ok());
  BOOST_TEST(f.ledger->log().head().seq == head);
  // The person's history: its links, its block and its lifting, every
  // event of each number ever linked (the fourth's too), once each.
  auto history = f.ledger->PersonHistory("ANAG-7");
  BOOST_TEST_REQUIRE(history.ok(), history.status().ToString());
  std::vector<uint64_t> seqs;
  for (const HistoryItem& h : *history) seqs.push_back(h.event.seq);
  BOOST_TEST(std::is_sorted(seqs.begin(), seqs.end()));
  BOOST_TEST((std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end()));
  for (uint64_t seq : {linked->recorded[0].seq, blocked->seq, fourth->recorded[0].seq,
                       off->recorded[0].seq, merged->seq, lifted->seq})
    BOOST_TEST(std::count(seqs.begin(), seqs.end(), seq) == 1, seq);
  // Described with the CRM's id, opened: a link's text, a block's subject.
  for (const HistoryItem& h : *history) {
    const std::string said = DescribeEvent(h.event, h.payload, f.rome, &h.personal);
    if (h.event.seq == linked->recorded[0].seq)
      BOOST_TEST(said.rfind("linked to person ANAG-7 (", 0) == 0, said);
    if (h.event.seq == blocked->seq)
      BOOST_TEST(said.rfind("person ANAG-7 blocked on every channel", 0) == 0, said);
  }
  // A block names a subject or a person.
  BlockRequest both = objection;
  both.subject = "+393471000001";
  BOOST_TEST(!f.ledger->Block(both, kOfficer).ok());
  BOOST_TEST(f.ledger->log().head().seq == head);
}

// Acceptance: two persons that each made two attempts in a day, under a cap
// of 3 in 24 hours counted per person ("regardless of the phone number
// used"), are merged: the merged person's fifth attempt that day is denied,
// and its audit says so; split again, each person counts its own.
BOOST_AUTO_TEST_CASE(a_cap_per_person_counts_every_number_of_the_merged_person) {
  PolicyConfig p;
  p.caps_declared = true;
  FrequencyCapDefined cap = VoiceCap("three-a-day", "IT", 3, 24, 0);
  cap.per = CapScope::kPerson;
  p.caps = {cap};
  ContactFixture f(p);
  f.SetNow("2026-12-09 09:00");
  BOOST_TEST_REQUIRE(
      f.ledger->LinkPerson({"A", {"+393471000001", "+393471000002"}}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      f.ledger->LinkPerson({"B", {"+393471000003", "+393471000004"}}, kOfficer).ok());
  f.SetNow("2026-12-09 10:00");
  std::vector<uint64_t> attempts;
  int minute = 10;
  for (const char* n : {"+393471000001", "+393471000002", "+393471000003", "+393471000004"}) {
    const ContactReport r =
        f.Contact(n, f.At("2026-12-09 09:" + std::to_string(minute)), "no_answer");
    minute += 10;
    BOOST_TEST(Codes(r.decision) == "allow registry_out_of_scope consent_not_required", n);
    attempts.push_back(r.seq);
  }
  // Two attempts each: under the cap.
  const TimeMs before_merge = f.At("2026-12-09 10:05");
  BOOST_TEST(Codes(f.Decide("+393471000001", Channel::kVoice, before_merge)).rfind("allow", 0) ==
             0);
  BOOST_TEST(Codes(f.Decide("+393471000003", Channel::kVoice, before_merge)).rfind("allow", 0) ==
             0);

  f.SetNow("2026-12-09 10:10");
  auto merged = f.ledger->MergePersons("A", "B", kOfficer);
  BOOST_TEST_REQUIRE(merged.ok());
  const Decision d = f.Decide("+393471000001", Channel::kVoice, f.At("2026-12-09 10:15"));
  BOOST_TEST(Codes(d) == "deny frequency_cap");
  for (uint64_t seq : attempts) BOOST_TEST(Cites(d, seq), seq);
  BOOST_TEST(Cites(d, merged->seq));
  // As known before the merge, the same moment was under the cap.
  BOOST_TEST(
      Codes(f.Decide("+393471000001", Channel::kVoice, f.At("2026-12-09 10:15"), before_merge))
          .rfind("allow", 0) == 0);

  // The fifth attempt that day is recorded, and its audit denies it.
  f.SetNow("2026-12-09 10:25");
  const ContactReport fifth = f.Contact("+393471000003", f.At("2026-12-09 10:20"), "answered");
  BOOST_TEST(Codes(fifth.decision) == "deny frequency_cap");
  BOOST_TEST((f.Stored(fifth.seq).verdict == StoredVerdict::kDeny));

  // Split: A counts its own two attempts; B its three.
  f.SetNow("2026-12-09 10:30");
  BOOST_TEST_REQUIRE(f.ledger->SplitPersons("A", "B", kOfficer).ok());
  const TimeMs after_split = f.At("2026-12-09 10:35");
  BOOST_TEST(Codes(f.Decide("+393471000002", Channel::kVoice, after_split)).rfind("allow", 0) == 0);
  BOOST_TEST(Codes(f.Decide("+393471000004", Channel::kVoice, after_split)) ==
             "deny frequency_cap");
  // A number of no person counts its own attempts only.
  BOOST_TEST(Codes(f.Decide("+393471000009", Channel::kVoice, after_split)).rfind("allow", 0) == 0);
}

// A number given to a new subscriber (`reassigned --since D`, or a
// wrong_number attempt) stops the earlier person's consents and links
// counting for it: the consents from D on, as known from the record; the
// link from the record on.
BOOST_AUTO_TEST_CASE(a_reassigned_number_leaves_its_person_and_its_consents) {
  ContactFixture f;
  const std::string n = "+393471234567", m = "+393479876543";
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"ANAG-7", {n, m}}, kOfficer).ok());
  BOOST_TEST_REQUIRE(
      f.ledger->GrantConsent({n, "TEL", "2026-08-01", "call recording 17"}, kOfficer).ok());
  BlockRequest objection;
  objection.person = "ANAG-7";
  objection.channels = MaskOf(Channel::kVoice);
  objection.source = "objection";
  objection.reason = "art. 21";
  BOOST_TEST_REQUIRE(f.ledger->Block(objection, kOfficer).ok());
  f.SetNow("2026-09-10 12:00");
  const TimeMs before_record = f.At("2026-09-08 12:00");
  BOOST_TEST(Codes(f.Decide(n, Channel::kVoice, f.clock.NowMs())).rfind("deny person_blocked", 0) ==
             0);
  BOOST_TEST(Codes(f.Decide(n, Channel::kSms, f.clock.NowMs())).find("consent_valid") !=
             std::string::npos);

  auto r = f.ledger->Reassign({n, "2026-09-05", "the operator's portability notice"}, kOfficer);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  const TimeMs now = f.clock.NowMs() + 1;
  // The person's objection no longer covers it; the earlier consent no
  // longer counts from the 5th on.
  const std::string voice = Codes(f.Decide(n, Channel::kVoice, now));
  BOOST_TEST(voice.find("person_blocked") == std::string::npos, voice);
  BOOST_TEST(Codes(f.Decide(n, Channel::kSms, now)).rfind("needs_justification", 0) == 0);
  BOOST_TEST(
      Codes(f.Decide(n, Channel::kSms, f.At("2026-09-07 12:00"))).rfind("needs_justification", 0) ==
      0);
  // Before the 5th it was the earlier subscriber's, consent and all; and as
  // known before the record, nothing changed.
  BOOST_TEST(Codes(f.Decide(n, Channel::kSms, f.At("2026-09-03 12:00"))).find("consent_valid") !=
             std::string::npos);
  BOOST_TEST(Codes(f.Decide(n, Channel::kSms, f.At("2026-09-07 12:00"), before_record))
                 .find("consent_valid") != std::string::npos);
  BOOST_TEST(
      Codes(f.Decide(n, Channel::kVoice, now, before_record)).rfind("deny person_blocked", 0) == 0);
  // The person's record says it left, with the reassignment's seq.
  auto person = f.ledger->Person("ANAG-7");
  BOOST_TEST_REQUIRE(person.ok());
  BOOST_TEST(person->SubjectsAt(now).size() == 1u);
  BOOST_TEST(person->links.back().seq == r->seq);
  BOOST_TEST(!person->links.back().linked);
  // The new subscriber's consent counts.
  BOOST_TEST_REQUIRE(
      f.ledger->GrantConsent({n, "TEL", "2026-09-10", "new contract"}, kOfficer).ok());
  BOOST_TEST(Codes(f.Decide(n, Channel::kSms, now + 1)).find("consent_valid") != std::string::npos);
  // Refusals: a day in the future, a subject that is no number or address.
  BOOST_TEST(!f.ledger->Reassign({n, "2026-09-11", ""}, kOfficer).ok());
  BOOST_TEST(!f.ledger->Reassign({"not a number", "2026-09-01", ""}, kOfficer).ok());

  // A wrong_number attempt ends the other number's link from its recording.
  BOOST_TEST(Codes(f.Decide(m, Channel::kVoice, now)).rfind("deny person_blocked", 0) == 0);
  f.SetNow("2026-09-10 15:00");
  f.Contact(m, f.At("2026-09-10 14:30"), "wrong_number");
  const std::string after = Codes(f.Decide(m, Channel::kVoice, f.clock.NowMs() + 1));
  BOOST_TEST(after.find("person_blocked") == std::string::npos, after);
  auto person_now = f.ledger->Person("ANAG-7");
  BOOST_TEST_REQUIRE(person_now.ok());
  BOOST_TEST(person_now->SubjectsAt(f.clock.NowMs() + 1).empty());
}

// Erasure of a person erases each subject ever linked to it and keeps
// each suppression, the person's own block included.
BOOST_AUTO_TEST_CASE(erasing_a_person_erases_each_linked_subject_and_keeps_suppression) {
  ContactFixture f;
  const std::string a = "+393471111111", b = "mario@example.it", c = "+393472222222";
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"ANAG-9", {a, b}}, kOfficer).ok());
  BOOST_TEST_REQUIRE(f.ledger->LinkPerson({"ANAG-9", {c}}, kOfficer).ok());
  BOOST_TEST_REQUIRE(f.ledger->UnlinkPerson({"ANAG-9", {c}}, kOfficer).ok());  // once linked
  BlockRequest objection;
  objection.person = "ANAG-9";
  objection.source = "objection";
  objection.reason = "art. 21";
  BOOST_TEST_REQUIRE(f.ledger->Block(objection, kOfficer).ok());
  // One of them erased before: reported, not refused.
  BOOST_TEST_REQUIRE(f.ledger->Erase({c, "DPO-1", "m.bianchi"}, kOfficer).ok());

  EraseRequest req;
  req.person = "ANAG-9";
  req.request = "DPO-2";
  BOOST_TEST(f.ledger->Erase(req, kOfficer).status().code() == StatusCode::kFailedPrecondition);
  req.officer = "m.bianchi";
  auto r = f.ledger->Erase(req, kOfficer);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->parts.size() == 3u);
  size_t erased_now = 0;
  for (const auto& part : r->parts) erased_now += part.seq != 0;
  BOOST_TEST(erased_now == 2u);
  BOOST_TEST(r->key_destroyed);  // the person's own key (its block's sealed fields)
  const TimeMs now = f.clock.NowMs() + 1;
  for (const std::string& s : {a, c})
    BOOST_TEST(Codes(f.Decide(s, Channel::kVoice, now)).rfind("deny erased", 0) == 0, s);
  BOOST_TEST(Codes(f.Decide(b, Channel::kEmail, now)).rfind("deny erased", 0) == 0);
  // Nothing about the person opens any more.
  auto history = f.ledger->PersonHistory("ANAG-9");
  BOOST_TEST_REQUIRE(history.ok(), history.status().ToString());
  for (const HistoryItem& item : *history)
    BOOST_TEST((item.personal.state != Disclosed::State::kOpen), item.event.seq);
  // Again: everything was erased already.
  auto again = f.ledger->Erase(req, kOfficer);
  BOOST_TEST_REQUIRE(again.ok(), again.status().ToString());
  BOOST_TEST(again->seq == 0u);
  req.person = "ANAG-unknown";
  BOOST_TEST(f.ledger->Erase(req, kOfficer).status().code() == StatusCode::kNotFound);
}

BOOST_AUTO_TEST_SUITE_END()
