// Issue 18, provenance: campaigns that require it, the lists numbers came
// from, and the caller ids a campaign may show. Real RocksDB in a
// temporary directory; decisions, attempts and the audit read back.
#define BOOST_TEST_MODULE provenance_tests
#include <boost/test/unit_test.hpp>

#include <map>

#include "projections/contact_fixture.h"

namespace tacet::test {
namespace {

const std::string kListed = "+393471234567";    // on the supplier's list
const std::string kUnlisted = "+393479999999";  // on no list
const std::string kBoth = "+390612345678";      // on two suppliers' lists

struct ProvenanceFixture : ContactFixture {
  uint64_t campaign_seq = 0;

  ProvenanceFixture() {
    auto c = ledger->DefineCampaign(
        {"WINTER26", "Winter offers", "Acme Energia SpA", "marketing", true}, kOfficer);
    BOOST_TEST_REQUIRE(c.ok(), c.status().ToString());
    campaign_seq = c->seq;
    // A campaign that does not require provenance.
    BOOST_TEST_REQUIRE(
        ledger
            ->DefineCampaign({"CARE", "Customer care", "Acme Energia SpA", "service", false},
                             kOfficer)
            .ok());
  }
  Result<ListReport> RegisterList(const std::string& content, const std::string& supplier,
                                  const std::string& campaign = "WINTER26") {
    ListRequest req;
    req.path = "leads-" + supplier + ".csv";
    req.content = content;
    req.campaign = campaign;
    req.supplier = supplier;
    req.acquired = "2026-08-20";
    req.basis = "supplier_consent";
    return ledger->RegisterList(req, kOfficer);
  }
  Decision DecideFor(const std::string& subject, const std::string& campaign, TimeMs at,
                     TimeMs known = kKnownNow) {
    DecisionAnswer a;
    a.subject = ledger->ParseSubject(subject).value();
    a.channel = Channel::kVoice;
    a.at = at;
    a.known_at = known;
    a.campaign = campaign;
    const Status st = ledger->DecideAll(std::span(&a, 1));
    BOOST_TEST_REQUIRE(st.ok(), st.ToString());
    return a.decision;
  }
  ContactReport Attempt(const std::string& subject, TimeMs started, const std::string& campaign,
                        const std::string& caller_id, const std::string& outcome = "no_answer") {
    ContactRequest req;
    req.subject = subject;
    req.started_at = started;
    req.outcome = outcome;
    req.campaign = campaign;
    req.caller_id = caller_id;
    auto r = ledger->RecordContact(req, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return *r;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(provenance_tests)

// Acceptance: a campaign requiring provenance: a number on a registered
// list allows (other rules permitting), one on no list denies
// no_provenance; the audit names the supplier of every attempted number.
BOOST_FIXTURE_TEST_CASE(a_campaign_requiring_provenance_allows_only_numbers_of_its_lists,
                        ProvenanceFixture) {
  const TimeMs before_lists = clock.NowMs();
  SetNow("2026-08-31 11:00");
  auto first = RegisterList("telefono\n347 123 4567\n06 1234 5678\n347 123 4567\nnot a number\n",
                            "Lead Co Srl");
  BOOST_TEST_REQUIRE(first.ok(), first.status().ToString());
  BOOST_TEST(first->list_id == 1u);
  BOOST_TEST(first->lines == 4u);
  BOOST_TEST(first->members == 2u);
  BOOST_TEST(first->duplicates == 1u);
  BOOST_TEST(first->invalid == 1u);
  BOOST_TEST(first->last_seq == first->first_seq + 2);
  auto second = RegisterList("06 1234 5678\n", "Data Srl");
  BOOST_TEST_REQUIRE(second.ok(), second.status().ToString());
  BOOST_TEST(second->list_id == 2u);
  SetNow("2026-08-31 12:00");
  const TimeMs now = clock.NowMs();

  // On the list: allowed, citing its membership; on none: denied.
  const Decision listed = DecideFor(kListed, "WINTER26", now);
  BOOST_TEST(Codes(listed) == "allow on_list registry_out_of_scope consent_not_required");
  BOOST_TEST(listed.reasons[0].seqs.size() == 1u);
  BOOST_TEST(listed.reasons[0].detail.find("Lead Co Srl") != std::string::npos,
             listed.reasons[0].detail);
  const Decision unlisted = DecideFor(kUnlisted, "WINTER26", now);
  BOOST_TEST(Codes(unlisted) == "deny no_provenance");
  BOOST_TEST(Cites(unlisted, campaign_seq));
  // On both lists: both memberships cited.
  const Decision both = DecideFor(kBoth, "WINTER26", now);
  BOOST_TEST(Codes(both) == "allow on_list registry_out_of_scope consent_not_required");
  BOOST_TEST(both.reasons[0].seqs.size() == 2u);
  BOOST_TEST(Cites(both, second->first_seq + 1));
  // Other rules still speak: a blocked number on the list is denied.
  BlockRequest block;
  block.subject = kBoth;
  block.reason = "asked";
  BOOST_TEST_REQUIRE(ledger->Block(block, kOfficer).ok());
  BOOST_TEST(Codes(DecideFor(kBoth, "WINTER26", now + 1)) == "deny blocked");
  // No campaign, or one that does not require provenance: no denial.
  BOOST_TEST(Codes(DecideFor(kUnlisted, "", now)) ==
             "allow registry_out_of_scope consent_not_required");
  BOOST_TEST(Codes(DecideFor(kUnlisted, "CARE", now)) ==
             "allow registry_out_of_scope consent_not_required");
  // As known before the lists were registered, the listed number had none.
  BOOST_TEST(Codes(DecideFor(kListed, "WINTER26", now, before_lists)) == "deny no_provenance");
  const Decision earlier = DecideFor(kListed, "WINTER26", before_lists);
  BOOST_TEST(Codes(earlier) == "deny no_provenance");
  BOOST_TEST(earlier.valid_until == ledger->log().Read(first->first_seq).value().recorded_at);

  // check_batch and filter take the campaign.
  std::vector<std::string> subjects = {kListed, kUnlisted, "bad"};
  std::vector<std::string> got;
  auto many = ledger->DecideMany(
      subjects, Channel::kVoice, now, kKnownNow,
      [&](const FilterItem& it) { got.push_back(it.answer ? Codes(it.answer->decision) : "bad"); },
      Explain::kCodes, "WINTER26");
  BOOST_TEST_REQUIRE(many.ok(), many.status().ToString());
  BOOST_TEST(
      got == (std::vector<std::string>{"allow on_list registry_out_of_scope consent_not_required",
                                       "deny no_provenance", "bad"}),
      got.size());
  FilterRequest fr;
  fr.path = "calls.txt";
  fr.content = kListed + "\n" + kUnlisted + "\n";
  fr.channel = Channel::kVoice;
  fr.at = now;
  fr.campaign = "WINTER26";
  auto filtered = ledger->Filter(fr, [](const FilterItem&) {});
  BOOST_TEST_REQUIRE(filtered.ok(), filtered.status().ToString());
  BOOST_TEST(filtered->allowed == 1u);
  BOOST_TEST(filtered->denied == 1u);

  // The attempts and their audit: the supplier of every attempted number.
  SetNow("2026-08-31 15:00");
  const ContactReport a1 = Attempt(kListed, At("2026-08-31 14:00"), "WINTER26", "", "refused");
  const ContactReport a2 = Attempt(kUnlisted, At("2026-08-31 14:05"), "WINTER26", "");
  const ContactReport a3 = Attempt(kListed, At("2026-08-31 14:10"), "WINTER26", "");
  BOOST_TEST(Codes(a1.decision) == "allow on_list registry_out_of_scope consent_not_required");
  BOOST_TEST(Codes(a2.decision) == "deny no_provenance");
  BOOST_TEST(Stored(a2.seq).reasons == (std::vector<std::string>{"no_provenance"}));
  std::map<uint64_t, std::vector<std::string>> suppliers;
  auto totals = ledger->Audit(
      AuditRequest{At("2026-08-31 00:00"), At("2026-09-01 00:00"), ""}, [](const AuditTotals&) {},
      [&](const AuditRow& r) { suppliers[r.seq] = r.suppliers; });
  BOOST_TEST_REQUIRE(totals.ok(), totals.status().ToString());
  BOOST_TEST(totals->all.attempts == 3u);
  BOOST_TEST(totals->all.violations == 1u);
  BOOST_TEST(totals->by_reason.at("no_provenance") == 1u);
  BOOST_TEST(suppliers[a1.seq] == (std::vector<std::string>{"Lead Co Srl"}));
  BOOST_TEST(suppliers[a2.seq].empty());
  BOOST_TEST(suppliers[a3.seq] == (std::vector<std::string>{"Lead Co Srl"}));
  BOOST_TEST(totals->by_supplier.at("Lead Co Srl").attempts == 2u);
  BOOST_TEST(totals->by_supplier.at("Lead Co Srl").complaints == 1u);
  BOOST_TEST(totals->by_supplier.at("Lead Co Srl").listed == 0u);
  BOOST_TEST(totals->by_supplier.at("").attempts == 1u);
  BOOST_TEST(totals->by_supplier.count("Data Srl") == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_list_refused_records_nothing_and_names_what_was_wrong,
                        ProvenanceFixture) {
  const uint64_t head = ledger->log().head().seq;
  auto undefined = RegisterList("347 123 4567\n", "Lead Co Srl", "SUMMER");
  BOOST_TEST(undefined.status().code() == StatusCode::kNotFound);
  BOOST_TEST(undefined.status().message().find("'SUMMER'") != std::string::npos);
  auto empty = RegisterList("telefono\nnot a number\n", "Lead Co Srl");
  BOOST_TEST(empty.status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(empty.status().message().find("leads-Lead Co Srl.csv: no valid phone number") !=
                 std::string::npos,
             empty.status().message());
  ListRequest future;
  future.path = "f.csv";
  future.content = "347 123 4567\n";
  future.campaign = "WINTER26";
  future.supplier = "x";
  future.acquired = "2026-09-01";
  future.basis = "own_customers";
  BOOST_TEST(ledger->RegisterList(future, kOfficer).status().message().find("in the future") !=
             std::string::npos);
  future.acquired = "2026-08-01";
  future.supplier = std::string("bad\x01", 4);
  BOOST_TEST(ledger->RegisterList(future, kOfficer).status().message().find("control") !=
             std::string::npos);
  BOOST_TEST(ledger->log().head().seq == head);
  BOOST_TEST_REQUIRE(RegisterList("347 123 4567\n", "Lead Co Srl").ok());
  auto again = RegisterList("347 123 4567\n", "Lead Co Srl");
  BOOST_TEST(again.status().code() == StatusCode::kAlreadyExists);
  BOOST_TEST(again.status().message().find("list 1 of campaign WINTER26") != std::string::npos,
             again.status().message());
  // A campaign defined again unchanged records nothing.
  auto same = ledger->DefineCampaign(
      {"WINTER26", "Winter offers", "Acme Energia SpA", "marketing", true}, kOfficer);
  BOOST_TEST_REQUIRE(same.ok());
  BOOST_TEST(same->seq == 0u);
  // Retired, it no longer requires provenance.
  CampaignRequest retire;
  retire.code = "WINTER26";
  retire.retire = true;
  BOOST_TEST_REQUIRE(ledger->DefineCampaign(retire, kOfficer).ok());
  BOOST_TEST(Codes(DecideFor(kUnlisted, "WINTER26", clock.NowMs())) ==
             "allow registry_out_of_scope consent_not_required");
}

// Acceptance: an attempt with an unregistered caller id is flagged; a
// registered one is not.
BOOST_FIXTURE_TEST_CASE(an_unregistered_caller_id_is_flagged_and_a_registered_one_is_not,
                        ProvenanceFixture) {
  // (The number called is on the campaign's list: its attempts are allowed.)
  BOOST_TEST_REQUIRE(RegisterList(kListed + "\n", "Lead Co Srl").ok());
  // No caller id registered yet: nothing is checked.
  SetNow("2026-08-31 10:30");
  const ContactReport before = Attempt(kListed, At("2026-08-31 10:20"), "WINTER26", "0211111111");
  BOOST_TEST(!before.unregistered_caller);
  BOOST_TEST((Stored(before.seq).flags & kAttemptUnregisteredCaller) == 0);

  // 02 9999 9999 for WINTER26, 02 8888 8888 for every campaign, 02 7777 7777
  // for WINTER26 until 12:00.
  auto r1 = ledger->RegisterCaller({"02 9999 9999", "WINTER26", "ROC-1"}, kOfficer);
  BOOST_TEST_REQUIRE(r1.ok(), r1.status().ToString());
  BOOST_TEST(r1->subject == "+390299999999");
  BOOST_TEST_REQUIRE(ledger->RegisterCaller({"02 8888 8888", ""}, kOfficer).ok());
  CallerRequest until_noon{"02 7777 7777", "WINTER26"};
  until_noon.valid_to = At("2026-08-31 12:00");
  BOOST_TEST_REQUIRE(ledger->RegisterCaller(until_noon, kOfficer).ok());
  // Registered so already: nothing recorded.
  auto same = ledger->RegisterCaller({"+390299999999", "WINTER26", "ROC-1"}, kOfficer);
  BOOST_TEST_REQUIRE(same.ok());
  BOOST_TEST(same->seq == 0u);
  // A campaign that is not defined is refused.
  BOOST_TEST(ledger->RegisterCaller({"02 9999 9999", "SUMMER"}, kOfficer).status().code() ==
             StatusCode::kNotFound);

  SetNow("2026-08-31 13:00");
  struct Case {
    const char* caller;
    const char* campaign;
    const char* started;
    bool flagged;
  };
  const Case cases[] = {
      {"+390299999999", "WINTER26", "2026-08-31 12:30", false},  // registered for it
      {"02 9999 9999", "WINTER26", "2026-08-31 12:31", false},   // the same, written nationally
      {"0288888888", "CARE", "2026-08-31 12:32", false},         // registered for every campaign
      {"0288888888", "", "2026-08-31 12:33", false},             // (no campaign named)
      {"0211111111", "WINTER26", "2026-08-31 12:34", true},      // never registered
      {"0299999999", "CARE", "2026-08-31 12:35", true},          // registered for another
      {"", "WINTER26", "2026-08-31 12:36", true},                // none shown
      {"0277777777", "WINTER26", "2026-08-31 11:59", false},     // within its validity
      {"0277777777", "WINTER26", "2026-08-31 12:37", true},      // after it
      {"0299999999", "WINTER26", "2026-08-31 10:29", false},     // before any was registered
  };
  size_t flagged = 0;
  for (const Case& c : cases) {
    const ContactReport r = Attempt(kListed, At(c.started), c.campaign, c.caller);
    BOOST_TEST(r.unregistered_caller == c.flagged, c.caller << " " << c.campaign);
    BOOST_TEST(((Stored(r.seq).flags & kAttemptUnregisteredCaller) != 0) == c.flagged);
    flagged += c.flagged;
  }
  BOOST_TEST(flagged == 4u);

  // Retired, 02 8888 8888 is flagged from then on.
  CallerRequest retire{"02 8888 8888", ""};
  retire.retire = true;
  BOOST_TEST_REQUIRE(ledger->RegisterCaller(retire, kOfficer).ok());
  SetNow("2026-08-31 13:10");
  BOOST_TEST(Attempt(kListed, At("2026-08-31 13:05"), "CARE", "0288888888").unregistered_caller);

  // A call-detail file is checked the same way.
  auto imported = ledger->ImportContacts(
      {"calls.csv", "subject,started,outcome,campaign,caller_id\n" + kListed +
                        ",2026-08-31 13:06,no_answer,WINTER26,0299999999\n" + kListed +
                        ",2026-08-31 13:07,no_answer,WINTER26,0211111111\n"},
      kOfficer);
  BOOST_TEST_REQUIRE(imported.ok(), imported.status().ToString());
  BOOST_TEST(imported->unregistered_caller == 1u);

  // The audit counts them as violations, by reason unregistered_caller_id.
  auto totals = ledger->Audit(
      AuditRequest{At("2026-08-31 00:00"), At("2026-09-01 00:00"), ""}, [](const AuditTotals&) {},
      [](const AuditRow&) {});
  BOOST_TEST_REQUIRE(totals.ok(), totals.status().ToString());
  BOOST_TEST(totals->all.unregistered_caller == 6u);
  BOOST_TEST(totals->by_reason.at("unregistered_caller_id") == 6u);
  BOOST_TEST(totals->all.violations == 6u);
  BOOST_TEST(totals->all.attempts == 14u);
}

// An export for a campaign that requires provenance asks the registry only
// about the numbers of its lists; the others are counted no_provenance.
BOOST_AUTO_TEST_CASE(an_export_for_a_campaign_leaves_out_numbers_on_none_of_its_lists) {
  Fixture f;  // the built-in it-rpo in force
  BOOST_TEST_REQUIRE(
      f.ledger->DefineCampaign({"WINTER26", "Winter offers", "Acme", "marketing", true}, kOfficer)
          .ok());
  ListRequest list;
  list.path = "leads.csv";
  list.content = "347 123 4567\n06 1234 5678\n";
  list.campaign = "WINTER26";
  list.supplier = "Lead Co Srl";
  list.acquired = "2026-08-20";
  list.basis = "supplier_consent";
  BOOST_TEST_REQUIRE(f.ledger->RegisterList(list, kOfficer).ok());
  test::WriteText(f.dir / "candidates.txt", "347 123 4567\n347 999 9999\n06 1234 5678\n");
  ExportRequest req;
  req.candidates_path = f.dir / "candidates.txt";
  req.out_dir = f.dir / "out";
  req.campaign = "WINTER26";
  auto r = f.ledger->Export(req, kOfficer);
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->exported == 2u);
  BOOST_TEST(r->no_provenance == 1u);
  // An undefined campaign is refused, with nothing written.
  req.campaign = "SUMMER";
  const uint64_t head = f.ledger->log().head().seq;
  BOOST_TEST(f.ledger->Export(req, kOfficer).status().code() == StatusCode::kNotFound);
  BOOST_TEST(f.ledger->log().head().seq == head);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace tacet::test
