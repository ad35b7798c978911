// Issue 16: a registry's definition is policy recorded in the log, so an
// answer as known at T uses the definition in force at T; a retired registry
// takes no new exports but its sessions still take their returns.
#define BOOST_TEST_MODULE registry_tests
#include <boost/test/unit_test.hpp>

#include "projections/ledger_fixture.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/registry.h"
#include "test_util.h"

using namespace tacet;
using namespace tacet::test;

namespace {

const char* kRome = "06 1234 5678";  // +39 0612345678

struct RegistryFixture : Fixture {
  // Records the registries `defs` declare (none: every recorded one retired).
  std::vector<std::string> Declare(std::vector<RegistryDefined> defs) {
    PolicyConfig p;
    p.registries_declared = true;
    p.registries.clear();
    for (auto& d : defs) {
      RegistryConfig r;
      r.definition = std::move(d);
      p.registries.push_back(std::move(r));
    }
    auto r = ledger->ReconcilePolicy(p, kOfficer);
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    return r->changes;
  }
  std::string Codes(const std::string& subject, Channel c, TimeMs at, TimeMs known = kKnownNow) {
    auto a = ledger->Decide(subject, c, at, known);
    BOOST_TEST_REQUIRE(a.ok(), a.status().ToString());
    std::string s = VerdictName(a->decision.verdict);
    for (const auto& r : a->decision.reasons) s += " " + r.code;
    return s;
  }
};

RegistryDefined Rpo(std::vector<std::string> regions, uint32_t validity_days = 15) {
  RegistryDefined d = ItRpoDefinition();
  d.regions = std::move(regions);
  d.validity_days = validity_days;
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(registry_tests)

BOOST_FIXTURE_TEST_CASE(a_ledger_that_defines_none_has_the_built_in_rpo, RegistryFixture) {
  PolicyView v = ledger->Policy(kKnownNow);
  BOOST_TEST_REQUIRE(v.registries.size() == 1u);
  const RegistryVersion& rpo = v.registries.at("it-rpo");
  BOOST_TEST(rpo.seq == 0u);
  BOOST_TEST((rpo.value->definition() == ItRpoDefinition()));
  BOOST_TEST(Codes(kRome, Channel::kVoice, At("2026-08-31 10:00")) == "deny registry_unchecked");
}

BOOST_FIXTURE_TEST_CASE(a_changed_scope_decides_from_its_moment_on_and_the_past_keeps_its_own,
                        RegistryFixture) {
  SetNow("2026-09-01 10:00");
  BOOST_TEST(Declare({Rpo({"IT"})}) == std::vector<std::string>{"registry defined: it-rpo"},
             boost::test_tools::per_element());
  const TimeMs first_known = At("2026-09-01 10:00");
  SetNow("2026-09-10 10:00");
  // San Marino's numbers only, from 10 September: Rome's leaves the scope.
  BOOST_TEST(Declare({Rpo({"SM"})}) == std::vector<std::string>{"registry changed: it-rpo"},
             boost::test_tools::per_element());
  BOOST_TEST(Codes(kRome, Channel::kVoice, At("2026-09-11 10:00")) ==
             "allow registry_out_of_scope consent_not_required");
  auto out = ledger->Decide(kRome, Channel::kVoice, At("2026-09-11 10:00"));
  BOOST_TEST_REQUIRE(out.ok());
  BOOST_TEST(out->decision.reasons.at(0).detail ==
             "no registry in force covers voice to this number (not of its regions, or not on its "
             "channels)");
  // 5 September, as known now and as known then: the definition of then.
  BOOST_TEST(Codes(kRome, Channel::kVoice, At("2026-09-05 10:00")) == "deny registry_unchecked");
  BOOST_TEST(Codes(kRome, Channel::kVoice, At("2026-09-11 10:00"), At("2026-09-05 10:00")) ==
             "deny registry_unchecked");
  // Before the ledger recorded any definition, as known then: the built-in.
  BOOST_TEST(Codes(kRome, Channel::kVoice, At("2026-08-31 10:00"), first_known - 1) ==
             "deny registry_unchecked");
  // A number of the new scope is the registry's now, and was not before.
  BOOST_TEST(Codes("+378 0549 912345", Channel::kVoice, At("2026-09-11 10:00")) ==
             "deny registry_unchecked");
  BOOST_TEST(Codes("+378 0549 912345", Channel::kVoice, At("2026-09-05 10:00")) ==
             "allow registry_out_of_scope consent_not_required");
}

BOOST_FIXTURE_TEST_CASE(an_import_uses_the_validity_in_force_and_earlier_clearances_keep_theirs,
                        RegistryFixture) {
  Declare({Rpo({"IT"}, 15)});
  Export(std::string(kRome) + "\n");
  SetNow("2026-09-01 09:00");
  auto first = Import(1, "2026-09-01", "0612345678\n");
  BOOST_TEST_REQUIRE(first.ok(), first.status().ToString());
  BOOST_TEST(first->valid_until == At("2026-09-17 00:00"));
  SetNow("2026-09-02 09:00");
  BOOST_TEST(Declare({Rpo({"IT"}, 10)}) == std::vector<std::string>{"registry changed: it-rpo"},
             boost::test_tools::per_element());
  // The clearance already recorded keeps its window.
  BOOST_TEST(Check(kRome, "2026-09-16 23:59").allow);
  ExportRequest req;
  test::WriteText(dir / "again.txt", "06 1234 5678\n");
  req.candidates_path = dir / "again.txt";
  req.out_dir = dir / "out";
  req.fresh_days = 30;  // re-export a number still cleared
  auto e = ledger->Export(req, kOfficer);
  BOOST_TEST_REQUIRE(e.ok(), e.status().ToString());
  BOOST_TEST_REQUIRE(e->exported == 1u);
  auto second = Import(2, "2026-09-02", "0612345678\n");
  BOOST_TEST_REQUIRE(second.ok(), second.status().ToString());
  BOOST_TEST(second->valid_until == At("2026-09-13 00:00"));
}

BOOST_FIXTURE_TEST_CASE(a_retired_registry_takes_no_export_but_its_sessions_take_their_return,
                        RegistryFixture) {
  Declare({Rpo({"IT"})});
  Export(std::string(kRome) + "\n");
  SetNow("2026-09-01 09:00");
  BOOST_TEST(Declare({}) == std::vector<std::string>{"registry retired: it-rpo"},
             boost::test_tools::per_element());
  HeadGuard guard(*ledger);
  ExportRequest req;
  test::WriteText(dir / "c.txt", "06 1111 2222\n");
  req.candidates_path = dir / "c.txt";
  req.out_dir = dir / "out";
  auto refused = ledger->Export(req, kOfficer);
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.status().message() == "unknown registry 'it-rpo' (in force: none)");
  guard.Check();
  auto r = Import(1, "2026-09-01", "0612345678\n");
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->valid_until == At("2026-09-17 00:00"));
  // No registry governs calls any more; before the retirement it did.
  BOOST_TEST(Codes(kRome, Channel::kVoice, At("2026-09-02 10:00")) ==
             "allow registry_out_of_scope consent_not_required");
  BOOST_TEST(Codes(kRome, Channel::kVoice, At("2026-08-31 11:00")) == "deny registry_unchecked");
}

BOOST_FIXTURE_TEST_CASE(the_history_of_a_number_shows_the_registry_definitions, RegistryFixture) {
  Declare({Rpo({"IT"})});
  Export(std::string(kRome) + "\n");
  auto h = ledger->History(kRome);
  BOOST_TEST_REQUIRE(h.ok(), h.status().ToString());
  BOOST_TEST_REQUIRE(h->size() == 2u);
  BOOST_TEST((*h)[0].policy);
  BOOST_TEST(DescribeEvent((*h)[0].event, (*h)[0].payload, rome) ==
             "policy: registry it-rpo defined (round_trip, layout it-rpo; regions IT; voice, sms; "
             "Europe/Rome; answers valid 15 days; overdue after 2 days)");
}

BOOST_AUTO_TEST_CASE(a_definition_names_a_built_in_layout_and_a_safe_file_prefix) {
  RegistryDefined d = ItRpoDefinition();
  BOOST_TEST(MakeRegistry(d).ok());
  d.file_prefix = "../crm";
  BOOST_TEST(MakeRegistry(d).status().message() ==
             "registry it-rpo: file_prefix '../crm' must be letters, digits, '_' or '-'");
  d = ItRpoDefinition();
  d.kind = RegistryKind::kDownloadedList;
  d.layout = "uk-tps";
  BOOST_TEST(MakeRegistry(d).status().message() ==
             "registry it-rpo: no downloaded_list layout 'uk-tps' is built in (known: it-rpo "
             "(round_trip))");
  d = ItRpoDefinition();
  d.regions = {"XX"};
  BOOST_TEST(MakeRegistry(d).status().message() ==
             "registry it-rpo: region 'XX' is not a known region");
  d = ItRpoDefinition();
  d.time_zone = "Mars/Olympus";
  BOOST_TEST(!MakeRegistry(d).ok());
}

BOOST_AUTO_TEST_CASE(the_rpo_layout_names_and_reads_its_files) {
  auto made = MakeRegistry(ItRpoDefinition());
  BOOST_TEST_REQUIRE(made.ok());
  auto* rpo = dynamic_cast<const RoundTripRegistry*>(made->get());
  BOOST_TEST_REQUIRE(rpo != nullptr);
  BOOST_TEST(rpo->UploadName("20260831100000", 1) == "crm20260831100000");
  BOOST_TEST(rpo->UploadName("20260831100000", 3) == "crm20260831100000_3");
  BOOST_TEST(rpo->StampOf("crm20260831100000_3.txt") == "20260831100000");
  BOOST_TEST(rpo->StampOf("other20260831100000.txt") == "");
  std::string_view numbers[] = {"0612345678", "3471234567"};
  BOOST_TEST(rpo->UploadContent(numbers) == "0612345678\r\n3471234567\r\n");
  BOOST_TEST(rpo->CountryPrefix() == "+39");
  auto status = rpo->ParseReturn("0612345678,1,2026-09-01\r\n3471234567,0\r\n", "r.txt");
  BOOST_TEST_REQUIRE(status.ok(), status.status().ToString());
  BOOST_TEST((status->layout == ReturnLayout::kStatus));
  BOOST_TEST_REQUIRE(status->rows.size() == 2u);
  BOOST_TEST(status->rows[0].listed);
  BOOST_TEST(!status->rows[1].listed);
  BOOST_TEST(status->rows[1].line == 2u);
  auto bad = rpo->ParseReturn("0612345678,2\nabc\n", "r.txt");
  BOOST_TEST(bad.status().message() ==
             "r.txt: 2 malformed lines: line 1 '0612345678,2' (status must be 0 or 1); line 2 "
             "'abc' (expected number,status[,date]); nothing was imported");
}

BOOST_AUTO_TEST_SUITE_END()
