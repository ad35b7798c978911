#include "tacet/projections/ledger.h"

#define BOOST_TEST_MODULE rpo_cycle_tests
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "projections/ledger_fixture.h"
#include "test_util.h"

using namespace tacet;
using namespace tacet::test;

namespace {

const char* kA = "06 1234 5678";
const char* kB = "+39 347 123 4567";
const char* kC = "0039 02 8765 4321";

}  // namespace

BOOST_AUTO_TEST_SUITE(rpo_cycle_tests)

BOOST_FIXTURE_TEST_CASE(seed_example_clears_for_fifteen_days_in_rome, Fixture) {
  ExportReport e = Export(std::string(kA) + "\n" + kB + "\n" + kC + "\n" + kA + "\n");
  BOOST_TEST(e.exported == 3u);
  BOOST_TEST(e.duplicates == 1u);
  BOOST_TEST_REQUIRE(e.files.size() == 1u);
  BOOST_TEST(std::filesystem::path(e.files[0].txt_path).filename() == "crm20260831100000.txt");
  BOOST_TEST(std::filesystem::exists(e.files[0].zip_path));
  // National format, no prefix or separators, CRLF, each number once, sorted.
  BOOST_TEST(FileLines(e.files[0].txt_path) ==
             std::vector<std::string>({"0287654321", "0612345678", "3471234567"}));

  // The return of 31 August lists A and B: C was filtered out (listed).
  SetNow("2026-08-31 15:00");
  auto r = Import(1, "2026-08-31", "0612345678\r\n3471234567\r\n");
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->cleared == 2u);
  BOOST_TEST(r->listed == 1u);

  VoiceAnswer a = Check(kA, "2026-09-15 23:59");
  BOOST_TEST(a.allow);
  BOOST_TEST(a.status == "registry_cleared");
  BOOST_TEST(a.valid_until == At("2026-09-16 00:00"));
  BOOST_TEST(a.decided_by.size() == 1u);
  a = Check(kA, "2026-09-16 00:00");
  BOOST_TEST(!a.allow);
  BOOST_TEST(a.status == "registry_expired");
  BOOST_TEST(!Check(kB, "2026-09-16 00:00").allow);
  VoiceAnswer c = Check(kC, "2026-09-01 10:00");
  BOOST_TEST(!c.allow);
  BOOST_TEST(c.status == "registry_listed");
  BOOST_TEST(Check("06 5555 1234", "2026-09-01 10:00").status == "registry_unchecked");
  // The answer names the event that decided it.
  auto ev = ledger->log().Read(a.decided_by[0]);
  BOOST_TEST_REQUIRE(ev.ok());
  BOOST_TEST(ev->type == PayloadType::kRegistryResult);

  // 14 September: a new session, its return received the same day, extends A and B.
  SetNow("2026-09-14 09:00");
  ExportReport e2 = Export(std::string(kA) + "\n" + kB + "\n" + kC + "\n06 4444 1111\n");
  BOOST_TEST(e2.known_listed == 1u);  // C is left out: it costs credit and is listed
  BOOST_TEST(e2.exported == 3u);
  BOOST_TEST_REQUIRE(e2.files.size() == 1u);
  BOOST_TEST(FileLines(e2.files[0].txt_path) ==
             std::vector<std::string>({"0612345678", "0644441111", "3471234567"}));
  SetNow("2026-09-14 18:00");
  auto r2 = Import(2, "2026-09-14", "0612345678\n3471234567\n0644441111\n");
  BOOST_TEST_REQUIRE(r2.ok(), r2.status().ToString());
  BOOST_TEST(Check(kA, "2026-09-29 23:59").allow);
  BOOST_TEST(!Check(kA, "2026-09-30 00:00").allow);
  // Replaying an earlier moment still gives the earlier answer.
  VoiceAnswer past = Check(kA, "2026-09-10 12:00");
  BOOST_TEST(past.allow);
  // The second return, known now, keeps it callable through its own window.
  BOOST_TEST(past.valid_until == At("2026-09-30 00:00"));

  // C is still listed and stays out of the next export.
  SetNow("2026-09-28 09:00");
  ExportReport e3 = Export(std::string(kC) + "\n");
  BOOST_TEST(e3.known_listed == 1u);
  BOOST_TEST(e3.exported == 0u);
  BOOST_TEST(e3.files.empty());
}

BOOST_FIXTURE_TEST_CASE(export_counts_every_reason_and_limit_takes_soonest_expiring, Fixture) {
  Export("06 1111 0001\n06 1111 0002\n06 1111 0003\n");
  SetNow("2026-08-31 12:00");
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "0611110001\n0611110002\n0611110003\n").ok());
  SetNow("2026-09-03 12:00");
  Export("06 1111 0004\n");
  SetNow("2026-09-03 13:00");
  BOOST_TEST_REQUIRE(Import(2, "2026-09-03", "0611110004\n").ok());
  // On 13 September: 0001-0003 expire 16 Sep (< 3 days away), 0004 expires 19 Sep (fresh).
  SetNow("2026-09-13 09:00");
  ExportReport e = Export(
      "06 2222 0001\nnot a number\n+44 20 7946 0958\n06 1111 0004\n06 1111 0003\n"
      "06 1111 0001\n06 2222 0001\n",
      2);
  BOOST_TEST(e.lines == 7u);
  BOOST_TEST(e.invalid == 1u);
  BOOST_TEST_REQUIRE(e.invalid_samples.size() == 1u);
  BOOST_TEST(e.invalid_samples[0].find("line 2") != std::string::npos);
  BOOST_TEST(e.duplicates == 1u);
  BOOST_TEST(e.out_of_scope == 1u);
  BOOST_TEST(e.fresh == 1u);
  BOOST_TEST(e.over_limit == 1u);
  BOOST_TEST(e.exported == 2u);
  // The expiring ones (0003 and 0001) are taken; the never-checked one is cut.
  BOOST_TEST(FileLines(e.files[0].txt_path) ==
             std::vector<std::string>({"0611110001", "0611110003"}));
  // With --fresh-days 10, the fresh one is eligible again.
  ExportRequest req;
  test::WriteText(dir / "c2.txt", "06 1111 0004\n");
  req.candidates_path = dir / "c2.txt";
  req.out_dir = dir / "out2";
  req.fresh_days = 10;
  SetNow("2026-09-13 09:00:05");
  auto e2 = ledger->Export(req, kOfficer);
  BOOST_TEST_REQUIRE(e2.ok());
  BOOST_TEST(e2->exported == 1u);

  // On 17 September 0002 has expired (16 Sep) and 0004 expires on 19 Sep:
  // the limit takes the soonest expiry first, then the later one, and only
  // then a never-checked number.
  SetNow("2026-09-17 09:00");
  ExportReport one = Export("06 3333 0001\n06 1111 0004\n06 1111 0002\n", 1);
  BOOST_TEST(FileLines(one.files[0].txt_path) == std::vector<std::string>({"0611110002"}));
  SetNow("2026-09-17 09:00:01");
  // 0004 (expiring) first, then never-checked ones in input order: 3333 0001, not 1111 0005.
  ExportReport two = Export("06 3333 0001\n06 1111 0004\n06 1111 0005\n", 2);
  BOOST_TEST(two.over_limit == 1u);
  BOOST_TEST(FileLines(two.files[0].txt_path) ==
             std::vector<std::string>({"0611110004", "0633330001"}));
}

BOOST_FIXTURE_TEST_CASE(csv_candidates_use_the_named_column, Fixture) {
  ExportReport e =
      Export("id;nome;telefono\n1;Mario;06 1234 5678\n2;\"Rossi; Anna\";347 123 4567\n");
  BOOST_TEST(e.exported == 2u);
  ExportRequest req;
  test::WriteText(dir / "c.csv", "id,name,email\n1,a,a@b.it\n");
  req.candidates_path = dir / "c.csv";
  auto bad = ledger->Export(req, kOfficer);
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.status().message().find("--column") != std::string::npos, bad.status().message());
}

BOOST_FIXTURE_TEST_CASE(more_than_the_line_limit_makes_further_sessions, Fixture) {
  LedgerOptions o = ledger->options();
  ledger.reset();
  // The line limit is the registry's definition: recorded as policy when a
  // writer reconciles with a config that declares it.
  o.policy.registries_declared = true;
  o.policy.registries[0].definition.max_lines = 2;
  o.reconcile_policy = true;
  ledger = Ledger::Open(o).value();
  BOOST_TEST(ledger->reconciled().changes == std::vector<std::string>{"registry defined: it-rpo"},
             boost::test_tools::per_element());
  ExportReport e = Export("06 1111 0001\n06 1111 0002\n06 1111 0003\n06 1111 0004\n06 1111 0005\n");
  BOOST_TEST_REQUIRE(e.files.size() == 3u);
  BOOST_TEST(e.files[2].numbers == 1u);
  BOOST_TEST(e.files[2].session_id == 3u);
  BOOST_TEST(std::filesystem::path(e.files[1].txt_path).filename() == "crm20260831100000_2.txt");
  auto sessions = ledger->Sessions();
  BOOST_TEST_REQUIRE(sessions.ok());
  BOOST_TEST(sessions->size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(status_layout_and_zipped_returns_are_understood, Fixture) {
  Export(std::string(kA) + "\n" + kB + "\n" + kC + "\n");
  SetNow("2026-09-01 09:00");
  // BOM, CRLF and blank lines are tolerated.
  auto r = Import(1, "2026-09-01",
                  "\xEF\xBB\xBF"
                  "0612345678,0,2026-09-01\r\n\r\n3471234567,1\r\n0287654321,0\r\n");
  BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
  BOOST_TEST(r->layout == ReturnLayout::kStatus);
  BOOST_TEST(r->cleared == 2u);
  BOOST_TEST(r->listed == 1u);
  BOOST_TEST(Check(kB, "2026-09-02 10:00").status == "registry_listed");
  BOOST_TEST(Check(kC, "2026-09-02 10:00").allow);

  // A second session answered by a .zip holding the .txt.
  SetNow("2026-09-14 09:00");
  ExportReport e2 = Export(std::string(kA) + "\n");
  BOOST_TEST_REQUIRE(e2.files.size() == 1u);
  // The upload .zip itself holds the exported .txt: import it as the return.
  auto z = ImportFile(2, "2026-09-14", e2.files[0].zip_path);
  BOOST_TEST_REQUIRE(z.ok(), z.status().ToString());
  BOOST_TEST(z->cleared == 1u);
  BOOST_TEST(z->file_name == std::filesystem::path(e2.files[0].txt_path).filename().string());
  BOOST_TEST(Check(kA, "2026-09-29 12:00").allow);
}

BOOST_FIXTURE_TEST_CASE(listed_number_is_callable_again_only_after_a_later_clearance, Fixture) {
  Export(std::string(kA) + "\n" + kB + "\n");
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "0612345678\n").ok());
  BOOST_TEST(!Check(kB, "2026-09-05 10:00").allow);
  SetNow("2026-09-10 10:00");
  // B is known listed: it is only sent again when asked for explicitly (here: not at all).
  ExportReport e = Export(std::string(kB) + "\n");
  BOOST_TEST(e.exported == 0u);
  BOOST_TEST(!Check(kB, "2026-09-11 10:00").allow);
}

BOOST_FIXTURE_TEST_CASE(each_refusal_names_the_problem_and_leaves_the_ledger_unchanged, Fixture) {
  Export(std::string(kA) + "\n" + kB + "\n" + kC + "\n");
  SetNow("2026-09-01 09:00");

  {  // numbers not in the session
    HeadGuard g(*ledger);
    auto r = Import(1, "2026-09-01", "0612345678\n0699999999\n3471234567\n0288888888\n");
    BOOST_TEST(!r.ok());
    const std::string& m = r.status().message();
    BOOST_TEST(m.find("2 numbers are not in session 1") != std::string::npos, m);
    BOOST_TEST(m.find("line 2 '0699999999'") != std::string::npos, m);
    BOOST_TEST(m.find("line 4 '0288888888'") != std::string::npos, m);
    BOOST_TEST(m.find("right session") != std::string::npos, m);
    g.Check();
  }
  {  // malformed lines
    HeadGuard g(*ledger);
    auto r = Import(1, "2026-09-01", "0612345678\n06-ABC\n1234567890123456\n");
    BOOST_TEST(!r.ok());
    const std::string& m = r.status().message();
    BOOST_TEST(m.find("2 malformed lines") != std::string::npos, m);
    BOOST_TEST(m.find("line 2 '06-ABC' (not a number)") != std::string::npos, m);
    BOOST_TEST(m.find("line 3 '1234567890123456' (too long)") != std::string::npos, m);
    g.Check();
  }
  {  // a status line in a bad layout
    HeadGuard g(*ledger);
    auto r = Import(1, "2026-09-01", "0612345678,0\n3471234567,2\n");
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.status().message().find("line 2") != std::string::npos, r.status().message());
    g.Check();
  }
  {  // received before the export, or in the future
    HeadGuard g(*ledger);
    auto r = Import(1, "2026-08-30", "0612345678\n");
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.status().message().find("before the export of session 1 on 2026-08-31") !=
                   std::string::npos,
               r.status().message());
    r = Import(1, "2026-09-02", "0612345678\n");
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.status().message().find("in the future") != std::string::npos,
               r.status().message());
    r = Import(1, "2026-9-1", "0612345678\n");
    BOOST_TEST(r.status().message().find("'2026-9-1'") != std::string::npos, r.status().message());
    g.Check();
  }
  {  // unknown session
    HeadGuard g(*ledger);
    auto r = Import(42, "2026-09-01", "0612345678\n");
    BOOST_TEST(r.status().code() == StatusCode::kNotFound);
    BOOST_TEST(r.status().message().find("unknown session 42") != std::string::npos);
    g.Check();
  }
  // A good return goes in...
  auto ok = Import(1, "2026-09-01", "0612345678\n3471234567\n", false, "ret1.txt");
  BOOST_TEST_REQUIRE(ok.ok(), ok.status().ToString());
  {  // ...the same file again is refused, even under another name or with --supersede
    HeadGuard g(*ledger);
    auto r = Import(1, "2026-09-01", "0612345678\n3471234567\n", true, "ret1-copy.txt");
    BOOST_TEST(r.status().code() == StatusCode::kAlreadyExists);
    BOOST_TEST(r.status().message().find("already imported for session 1 as seq " +
                                         std::to_string(ok->first_seq)) != std::string::npos,
               r.status().message());
    g.Check();
  }
  {  // a second, different return needs --supersede
    HeadGuard g(*ledger);
    auto r = Import(1, "2026-09-01", "0612345678\n");
    BOOST_TEST(r.status().code() == StatusCode::kFailedPrecondition);
    BOOST_TEST(r.status().message().find("--supersede") != std::string::npos);
    g.Check();
  }
  // With --supersede it replaces the earlier return: B becomes listed.
  auto sup = Import(1, "2026-09-01", "0612345678\n", true);
  BOOST_TEST_REQUIRE(sup.ok(), sup.status().ToString());
  BOOST_TEST(Check(kB, "2026-09-01 12:00").status == "registry_listed");
  BOOST_TEST(ledger->Verify().ok);
}

// Issue 15: a number awaiting an open session's answer is not sent again;
// each session has its own name; --limit 0 and an empty return are refused;
// the same bytes may answer two sessions.
BOOST_FIXTURE_TEST_CASE(export_leaves_out_numbers_pending_in_an_open_session, Fixture) {
  ExportReport first = Export("06 1111 0001\n06 1111 0002\n");
  BOOST_TEST_REQUIRE(first.exported == 2u);
  // Same second: a name of its own, the next second's.
  ExportReport second = Export("06 1111 0002\n06 1111 0003\n");
  BOOST_TEST(second.pending == 1u);
  BOOST_TEST(second.exported == 1u);
  BOOST_TEST_REQUIRE(second.files.size() == 1u);
  BOOST_TEST(std::filesystem::path(first.files[0].txt_path).filename() == "crm20260831100000.txt");
  BOOST_TEST(std::filesystem::path(second.files[0].txt_path).filename() == "crm20260831100001.txt");
  BOOST_TEST(FileLines(second.files[0].txt_path) == std::vector<std::string>({"0611110003"}));
  // A third in the same second takes the second after that.
  ExportRequest again;
  test::WriteText(dir / "again.txt", "06 1111 0001\n");
  again.candidates_path = dir / "again.txt";
  again.out_dir = dir / "out";
  again.include_pending = true;
  auto third = ledger->Export(again, kOfficer);
  BOOST_TEST_REQUIRE(third.ok(), third.status().ToString());
  BOOST_TEST(third->pending == 0u);
  BOOST_TEST(third->exported == 1u);
  BOOST_TEST(std::filesystem::path(third->files[0].txt_path).filename() == "crm20260831100002.txt");

  {  // --limit 0 is refused, nothing recorded
    HeadGuard g(*ledger);
    ExportRequest zero = again;
    zero.limit = 0;
    auto r = ledger->Export(zero, kOfficer);
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.status().message().find("--limit 0") != std::string::npos, r.status().message());
    g.Check();
  }
  // Session 1 answered: its numbers are no longer pending; session 2 still
  // open holds 0003.
  SetNow("2026-08-31 15:00");
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "0611110001\n").ok());
  ExportReport after = Export("06 1111 0002\n06 1111 0003\n");
  BOOST_TEST(after.pending == 1u);       // 0003, in session 2
  BOOST_TEST(after.known_listed == 1u);  // 0002, listed by session 1's return
  BOOST_TEST(after.exported == 0u);
  // Overdue (more than 2 days): pending no more.
  SetNow("2026-09-02 10:00:02");
  ExportReport overdue = Export("06 1111 0003\n");
  BOOST_TEST(overdue.pending == 0u);
  BOOST_TEST(overdue.exported == 1u);

  {  // an empty return is refused unless the officer says it lists everyone
    HeadGuard g(*ledger);
    auto r = Import(2, "2026-09-01", "\r\n");
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.status().message().find("holds no number: as a filtered return it would mark all "
                                         "1 numbers of session 2 listed") != std::string::npos,
               r.status().message());
    BOOST_TEST(r.status().message().find("--empty-is-all-listed") != std::string::npos);
    g.Check();
  }
  auto empty2 = ImportAllListed(2, "2026-09-01");
  BOOST_TEST_REQUIRE(empty2.ok(), empty2.status().ToString());
  BOOST_TEST(empty2->listed == 1u);
  // The same (empty) bytes answer session 3 too: same-file detection is per
  // session.
  auto empty3 = ImportAllListed(3, "2026-09-01");
  BOOST_TEST_REQUIRE(empty3.ok(), empty3.status().ToString());
  BOOST_TEST(empty3->listed == 1u);
  HeadGuard g(*ledger);
  auto twice = ImportFile(3, "2026-09-01", dir / "twice-empty.txt", true, true);
  BOOST_TEST(!twice.ok());  // no such file yet: written below
  test::WriteText(dir / "twice-empty.txt", "");
  twice = ImportFile(3, "2026-09-01", dir / "twice-empty.txt", true, true);
  BOOST_TEST(twice.status().code() == StatusCode::kAlreadyExists, twice.status().ToString());
  g.Check();
}

BOOST_FIXTURE_TEST_CASE(sessions_report_open_answered_and_overdue, Fixture) {
  Export(std::string(kA) + "\n");
  SetNow("2026-08-31 11:00");
  Export(std::string(kB) + "\n");
  SetNow("2026-09-01 09:00");
  BOOST_TEST_REQUIRE(Import(2, "2026-09-01", "3471234567\n").ok());
  auto s = ledger->Sessions();
  BOOST_TEST_REQUIRE(s.ok());
  BOOST_TEST_REQUIRE(s->size() == 2u);
  BOOST_TEST(SessionStateName((*s)[0].state) == std::string("open"));
  BOOST_TEST(SessionStateName((*s)[1].state) == std::string("answered"));
  SetNow("2026-09-02 10:01");  // more than 2 days after the export of 31 Aug 10:00
  s = ledger->Sessions();
  BOOST_TEST(SessionStateName((*s)[0].state) == std::string("overdue"));
}

BOOST_FIXTURE_TEST_CASE(history_lists_every_event_about_the_number, Fixture) {
  Export(std::string(kA) + "\n" + kB + "\n");
  SetNow("2026-08-31 16:00");
  BOOST_TEST_REQUIRE(Import(1, "2026-08-31", "0612345678\n").ok());
  auto h = ledger->History("+390612345678");
  BOOST_TEST_REQUIRE(h.ok());
  BOOST_TEST_REQUIRE(h->size() == 2u);
  BOOST_TEST((*h)[0].event.type == PayloadType::kSessionNumber);
  BOOST_TEST((*h)[1].event.type == PayloadType::kRegistryResult);
  BOOST_TEST((*h)[0].event.seq < (*h)[1].event.seq);
  BOOST_TEST((*h)[1].event.actor.os_user == "officer");
  BOOST_TEST(DescribeEvent((*h)[1].event, (*h)[1].payload, rome).find("cleared") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
