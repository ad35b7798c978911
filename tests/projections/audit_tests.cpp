// Issue 17, the audit: every attempt of a period with its verdict at start
// and its evidence, violations first, attempts without a prior check
// flagged, totals per reason and per campaign; in text, CSV and JSON.
#define BOOST_TEST_MODULE audit_tests
#include <boost/test/unit_test.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "projections/ledger_fixture.h"
#include "tacet/projections/calling_hours.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/proof.h"
#include "tacet/service/audit.h"
#include "test_util.h"

using namespace tacet;
using namespace tacet::test;

namespace {

// The RPO in force, a phone consent type (SMS needs one), Italy's calling
// hours, and a cap on Italian voice calls: 3 per 24 hours, 7 days of
// silence after a refusal.
struct AuditFixture : Fixture {
  AuditFixture() {
    PolicyConfig p;
    p.consent_types_declared = true;
    p.consent_types = {{"TEL", "Contatto telefonico", "", 0, kUsePhone}};
    p.calling_hours_declared = true;
    p.calling_hours = {ItalyCodeOfConductHours()};
    p.caps_declared = true;
    FrequencyCapDefined cap;
    cap.name = "it-3-per-day";
    cap.regions = {"IT"};
    cap.channels = MaskOf(Channel::kVoice);
    cap.max_attempts = 3;
    cap.window_hours = 24;
    cap.cool_down_hours = 7 * 24;
    p.caps = {cap};
    auto r = ledger->ReconcilePolicy(p, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  }
  ContactReport Contact(const std::string& subject, const std::string& started,
                        const std::string& outcome, Channel c = Channel::kVoice,
                        const std::string& campaign = "winter", uint64_t check = 0) {
    ContactRequest req;
    req.subject = subject;
    req.channel = c;
    req.started_at = At(started);
    req.outcome = outcome;
    req.campaign = campaign;
    req.caller_id = "+390299999999";
    req.operator_id = "op7";
    req.decision_seq = check;
    auto r = ledger->RecordContact(req, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return *r;
  }
  struct Seen {
    uint64_t seq;
    bool violation;
    std::string verdict_and_reasons;
    std::vector<uint64_t> evidence;
    std::string subject;
    bool unchecked;
  };
  std::vector<Seen> Audit(const std::string& from, const std::string& to,
                          const std::string& campaign, AuditTotals* totals,
                          bool* counted_first = nullptr) {
    std::vector<Seen> rows;
    bool counted = false;
    bool first = true;
    AuditRequest req{At(from), At(to), campaign};
    auto t = ledger->Audit(
        req, [&](const AuditTotals&) { counted = true; },
        [&](const AuditRow& r) {
          first = first && counted;
          std::string codes = VerdictName(VerdictOf(r.attempt->verdict));
          for (const std::string& c : r.attempt->reasons) codes += " " + c;
          std::string subject = r.subject.state == Disclosed::State::kOpen
                                    ? r.subject.fields.subject
                                : r.subject.state == Disclosed::State::kErased ? "(erased)"
                                                                               : "(not opened)";
          rows.push_back({r.seq, r.violation, codes, r.attempt->evidence, subject,
                          (r.attempt->flags & kAttemptNoPriorCheck) != 0});
        });
    BOOST_TEST_REQUIRE(t.ok(), t.status().ToString());
    *totals = *t;
    if (counted_first) *counted_first = first;
    return rows;
  }
};

bool Cites(const std::vector<uint64_t>& evidence, uint64_t seq) {
  return std::find(evidence.begin(), evidence.end(), seq) != evidence.end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_tests)

// The acceptance: a history with each kind of violation; the audit
// lists each one with its evidence, violations first.
BOOST_FIXTURE_TEST_CASE(an_audit_lists_each_kind_of_violation_with_its_evidence, AuditFixture) {
  const std::string listed = "+390610000001", expired = "+390610000002", blocked = "+390610000003",
                    late = "+390610000004", capped = "+390610000005", cooled = "+390610000006",
                    texted = "anna@example.it", fine = "+390610000008", unchecked = "+390610000009";
  // 1 September: the RPO lists `listed` and clears `expired`.
  SetNow("2026-09-01 10:00");
  Export(listed + "\n" + expired + "\n");
  SetNow("2026-09-01 15:00");
  BOOST_TEST_REQUIRE(Import(1, "2026-09-01", "0610000002\n").ok());
  // 21 September: the others are cleared.
  SetNow("2026-09-21 10:00");
  Export(blocked + "\n" + late + "\n" + capped + "\n" + cooled + "\n" + fine + "\n");
  SetNow("2026-09-21 15:00");
  auto imp =
      Import(2, "2026-09-21", "0610000003\n0610000004\n0610000005\n0610000006\n0610000008\n");
  BOOST_TEST_REQUIRE(imp.ok(), imp.status().ToString());
  SetNow("2026-09-21 16:00");
  BlockRequest b;
  b.subject = blocked;
  b.channels = kEveryChannel;
  b.reason = "asked on the phone";
  auto block = ledger->Block(b, kOfficer);
  BOOST_TEST_REQUIRE(block.ok(), block.status().ToString());

  // 22 September (a Tuesday): the attempts.
  SetNow("2026-09-22 23:00");
  auto check = ledger->RecordCheck({fine, Channel::kVoice, "winter"}, kOfficer);
  BOOST_TEST_REQUIRE(check.ok());
  SetNow("2026-09-23 23:00");  // recorded in the evening, started during the day
  std::map<std::string, ContactReport> by;
  by["listed"] = Contact(listed, "2026-09-23 10:00", "answered");
  by["expired"] = Contact(expired, "2026-09-23 10:05", "answered");
  by["blocked"] = Contact(blocked, "2026-09-23 10:10", "answered");
  by["late"] = Contact(late, "2026-09-23 20:30", "no_answer");
  for (const char* t : {"2026-09-23 11:00", "2026-09-23 12:00", "2026-09-23 13:00"})
    Contact(capped, t, "no_answer", Channel::kVoice, "spring");
  by["capped"] = Contact(capped, "2026-09-23 14:00", "no_answer", Channel::kVoice, "spring");
  Contact(cooled, "2026-09-23 09:30", "refused");
  by["cooled"] = Contact(cooled, "2026-09-23 15:00", "answered");
  by["texted"] = Contact(texted, "2026-09-23 15:30", "answered", Channel::kEmail);
  by["unchecked"] = Contact(unchecked, "2026-09-23 16:00", "answered");
  by["fine"] = Contact(fine, "2026-09-23 09:15", "sale", Channel::kVoice, "winter", check->seq);
  // Outside the period: not audited.
  Contact(fine, "2026-09-22 10:00", "answered");

  AuditTotals t;
  bool counted_first = false;
  std::vector<Seen> rows = Audit("2026-09-23 00:00", "2026-09-24 00:00", "", &t, &counted_first);
  BOOST_TEST(counted_first);
  BOOST_TEST(rows.size() == 13u);
  std::map<uint64_t, Seen> of;
  for (const Seen& s : rows) of[s.seq] = s;
  const std::map<std::string, std::string> expect = {
      {"listed", "deny registry_listed"},
      {"expired", "deny registry_expired"},
      {"blocked", "deny blocked"},
      {"late", "deny outside_calling_hours"},
      {"capped", "deny frequency_cap"},
      {"cooled", "deny cool_down"},
      {"texted", "needs_justification consent_missing"},
      {"unchecked", "deny registry_unchecked"},
  };
  for (const auto& [name, codes] : expect) {
    const Seen& s = of.at(by[name].seq);
    BOOST_TEST(s.violation, name);
    BOOST_TEST(s.verdict_and_reasons == codes, name << ": " << s.verdict_and_reasons);
    BOOST_TEST(s.unchecked, name);  // none cited a recorded check
  }
  // Each with its evidence: the listing, the old clearance, the block, the
  // policy, the counted attempts, the refusal (an unchecked number has none:
  // nothing about it was ever recorded).
  BOOST_TEST(Cites(of.at(by["blocked"].seq).evidence, block->seq));
  BOOST_TEST(of.at(by["capped"].seq).evidence.size() >= 3u);
  BOOST_TEST(Cites(of.at(by["capped"].seq).evidence, by["capped"].seq - 1));
  BOOST_TEST(Cites(of.at(by["cooled"].seq).evidence, by["cooled"].seq - 1));
  for (const char* name : {"listed", "expired", "late"})
    BOOST_TEST(!of.at(by[name].seq).evidence.empty(), name);
  // Violations first, by start; then the others, by start.
  const size_t violations = 8;
  for (size_t i = 0; i < rows.size(); ++i) BOOST_TEST(rows[i].violation == (i < violations), i);
  BOOST_TEST(rows[0].seq == by["listed"].seq);
  BOOST_TEST(rows[violations - 1].seq == by["late"].seq);
  BOOST_TEST(rows[violations].seq == by["fine"].seq);  // 09:15, the first compliant
  const Seen& ok = of.at(by["fine"].seq);
  BOOST_TEST(ok.verdict_and_reasons == "allow registry_cleared consent_not_required");
  BOOST_TEST(!ok.unchecked);
  BOOST_TEST(ok.subject == fine);  // the number called, opened
  // Totals.
  BOOST_TEST(t.all.attempts == 13u);
  BOOST_TEST(t.all.violations == 8u);
  BOOST_TEST(t.all.no_prior_check == 12u);
  BOOST_TEST(t.denied == 7u);
  BOOST_TEST(t.needs_justification == 1u);
  BOOST_TEST(t.allowed == 5u);
  BOOST_TEST(t.by_reason.at("registry_listed") == 1u);
  BOOST_TEST(t.by_reason.at("frequency_cap") == 1u);
  BOOST_TEST(t.by_reason.at("consent_missing") == 1u);
  BOOST_TEST(t.by_campaign.at("spring").attempts == 4u);
  BOOST_TEST(t.by_campaign.at("spring").violations == 1u);
  BOOST_TEST(t.by_campaign.at("winter").attempts == 9u);
  BOOST_TEST(t.by_campaign.at("winter").violations == 7u);

  // One campaign.
  rows = Audit("2026-09-23 00:00", "2026-09-24 00:00", "spring", &t);
  BOOST_TEST(rows.size() == 4u);
  BOOST_TEST(rows[0].seq == by["capped"].seq);
  BOOST_TEST(t.all.attempts == 4u);
  BOOST_TEST(t.by_campaign.size() == 1u);

  // The documents: the CSV has a row per attempt, the JSON the same rows and
  // totals, the text names each violation.
  AuditRequest req = AuditPeriod(rome, "2026-09-23", "2026-09-23", "").value();
  BOOST_TEST(req.to == At("2026-09-24 00:00"));  // a bare date includes its day
  std::string csv, js, text;
  BOOST_TEST_REQUIRE(
      WriteAudit(*ledger, req, AuditFormat::kCsv, [&](std::string_view p) { csv += p; }).ok());
  BOOST_TEST_REQUIRE(
      WriteAudit(*ledger, req, AuditFormat::kJson, [&](std::string_view p) { js += p; }).ok());
  BOOST_TEST_REQUIRE(
      WriteAudit(*ledger, req, AuditFormat::kText, [&](std::string_view p) { text += p; }).ok());
  BOOST_TEST(std::count(csv.begin(), csv.end(), '\n') == 14);
  BOOST_TEST(csv.rfind("seq,started,recorded_at,subject,", 0) == 0);
  BOOST_TEST(csv.find(std::to_string(by["listed"].seq) + ",2026-09-23T08:00:00.000Z,") !=
             std::string::npos);
  auto doc = nlohmann::json::parse(js);
  BOOST_TEST(doc["attempts"].size() == 13u);
  BOOST_TEST(doc["totals"]["violations"] == 8);
  BOOST_TEST(doc["by_reason"]["cool_down"] == 1);
  BOOST_TEST(doc["attempts"][0]["subject"] == listed);
  BOOST_TEST(doc["attempts"][0]["reasons"][0] == "registry_listed");
  BOOST_TEST(doc["attempts"][0]["no_prior_check"] == true);
  BOOST_TEST(text.find("8 violations") != std::string::npos, text);
  BOOST_TEST(text.find("violations (8):") < text.find("other attempts (5):"), text);
  BOOST_TEST(text.find("NO PRIOR CHECK") != std::string::npos);
  for (const auto& [name, codes] : expect) {
    (void)codes;
    BOOST_TEST(text.find("seq " + std::to_string(by[name].seq) + " ") != std::string::npos, name);
  }
}

BOOST_FIXTURE_TEST_CASE(an_audit_refuses_an_empty_period_and_reports_none_found, AuditFixture) {
  BOOST_TEST(!AuditPeriod(rome, "2026-09-23", "2026-09-22", "").ok());
  BOOST_TEST(!AuditPeriod(rome, "2026-09-23", "", "").ok());
  auto bad = AuditPeriod(rome, "2026-02-30", "2026-03-01", "");
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.status().message().find("from") != std::string::npos, bad.status().message());
  AuditTotals t;
  BOOST_TEST(Audit("2026-09-01", "2026-10-01", "", &t).empty());
  BOOST_TEST(t.all.attempts == 0u);
  std::string text;
  AuditRequest req = AuditPeriod(rome, "2026-09-01", "2026-09-30", "").value();
  BOOST_TEST_REQUIRE(
      WriteAudit(*ledger, req, AuditFormat::kText, [&](std::string_view p) { text += p; }).ok());
  BOOST_TEST(text.find("no attempts") != std::string::npos, text);
}

// An erased subject's attempts stay in the audit, without the number.
BOOST_FIXTURE_TEST_CASE(an_erased_subjects_attempts_stay_audited_without_the_number, AuditFixture) {
  SetNow("2026-09-23 23:00");
  const std::string n = "+390610000011";
  ContactReport r = Contact(n, "2026-09-23 10:00", "answered");
  EraseRequest e;
  e.subject = n;
  e.request = "art. 17 request 12";
  e.officer = "dpo";
  BOOST_TEST_REQUIRE(ledger->Erase(e, kOfficer).ok());
  AuditTotals t;
  auto rows = Audit("2026-09-23", "2026-09-24", "", &t);
  BOOST_TEST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].seq == r.seq);
  BOOST_TEST(rows[0].subject == "(erased)");
  BOOST_TEST(rows[0].verdict_and_reasons == "deny registry_unchecked");
}

// history shows attempts among the other events; proof files cover them.
BOOST_FIXTURE_TEST_CASE(history_and_proofs_cover_attempts, AuditFixture) {
  const std::string n = "+390610000021";
  SetNow("2026-09-23 23:00");
  ContactReport r = Contact(n, "2026-09-23 10:00", "do_not_call");
  BOOST_TEST_REQUIRE(r.block_seq == r.seq + 1);
  auto h = ledger->History(n);
  BOOST_TEST_REQUIRE(h.ok(), h.status().ToString());
  std::vector<uint64_t> seqs;
  for (const HistoryItem& it : *h) {
    if (it.policy) continue;
    seqs.push_back(it.event.seq);
    BOOST_TEST((it.personal.state == Disclosed::State::kOpen));
  }
  BOOST_TEST((seqs == std::vector<uint64_t>{r.seq, r.block_seq}));
  const HistoryItem& attempt = *std::find_if(
      h->begin(), h->end(), [&](const HistoryItem& i) { return i.event.seq == r.seq; });
  const std::string said = DescribeEvent(attempt.event, attempt.payload, rome, &attempt.personal);
  BOOST_TEST(said.find("contact attempt by voice") != std::string::npos, said);
  BOOST_TEST(said.find("do_not_call") != std::string::npos, said);

  BOOST_TEST_REQUIRE(ledger->log().Checkpoint().ok());
  auto proof = MakeProof(*ledger, ProofRequest{n, 0});
  BOOST_TEST_REQUIRE(proof.ok(), proof.status().ToString());
  auto key = note::Verifier::Parse(ledger->log().CheckpointKey()->value());
  BOOST_TEST_REQUIRE(key.ok());
  auto check = VerifyProof(proof->dump(), *key);
  BOOST_TEST_REQUIRE(check.ok(), check.status().ToString());
  BOOST_TEST_REQUIRE(check->events.size() == 2u);
  const ProvenEvent& proven = check->events[0];
  BOOST_TEST(proven.event.seq == r.seq);
  BOOST_TEST_REQUIRE(std::holds_alternative<ContactAttempted>(proven.payload));
  BOOST_TEST(std::get<ContactAttempted>(proven.payload).outcome == "do_not_call");
  BOOST_TEST((proven.personal.state == Disclosed::State::kOpen));
  BOOST_TEST(proven.personal.fields.subject == n);
}

// The audit's passes read one moment of the store: an attempt recorded
// while it runs is in neither its totals nor its rows.
BOOST_FIXTURE_TEST_CASE(an_audit_reads_one_moment_while_attempts_are_recorded, AuditFixture) {
  SetNow("2026-09-23 23:00");
  for (int i = 0; i < 5; ++i)
    Contact("+39061000003" + std::to_string(i), "2026-09-23 10:00", "busy");
  AuditTotals counted;
  size_t rows = 0;
  auto t = ledger->Audit(
      AuditRequest{At("2026-09-23"), At("2026-09-24"), ""},
      [&](const AuditTotals& c) {
        counted = c;
        Contact("+390610000039", "2026-09-23 11:00", "answered");  // after the moment
      },
      [&](const AuditRow&) { ++rows; });
  BOOST_TEST_REQUIRE(t.ok(), t.status().ToString());
  BOOST_TEST(counted.all.attempts == 5u);
  BOOST_TEST(rows == 5u);
  AuditTotals now;
  BOOST_TEST(Audit("2026-09-23", "2026-09-24", "", &now).size() == 6u);
}

BOOST_AUTO_TEST_SUITE_END()
