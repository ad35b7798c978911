// Crash safety: the real `tacet` binary, killed with SIGKILL while importing a
// 1,000,000-line return, leaves either none of the import or all of it, and
// the chain verifies.
#include "tacet/projections/ledger.h"

#define BOOST_TEST_MODULE crash_tests
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "test_util.h"

using namespace tacet;

namespace {

constexpr uint64_t kNumbers = 1'000'000;

std::unique_ptr<Ledger> Open(const std::string& dir, bool write) {
  LedgerOptions o;
  o.data_dir = dir;
  o.create_if_missing = write;
  o.read_only = !write;
  auto l = Ledger::Open(o);
  BOOST_TEST_REQUIRE(l.ok(), l.status().ToString());
  return std::move(l).value();
}

std::string Number(uint64_t i) { return "06" + std::to_string(10'000'000 + i); }

}  // namespace

BOOST_AUTO_TEST_SUITE(crash_tests)

BOOST_AUTO_TEST_CASE(sigkill_during_a_million_line_import_leaves_none_or_all) {
  test::TempDir dir;
  std::string candidates;
  for (uint64_t i = 0; i < kNumbers; ++i) candidates += Number(i) + "\n";
  test::WriteText(dir / "candidates.txt", candidates);
  std::string today;
  {
    auto ledger = Open(dir.path(), true);
    ExportRequest req;
    req.candidates_path = dir / "candidates.txt";
    auto r = ledger->Export(req, Actor{"tester", "", "crash_tests"});
    BOOST_TEST_REQUIRE(r.ok(), r.status().ToString());
    BOOST_TEST_REQUIRE(r->exported == kNumbers);
    today = FormatDate(ledger->zone().DayOf(ledger->clock().NowMs()));
  }
  // The return clears every number: 1,000,000 lines.
  test::WriteText(dir / "return.txt", candidates);

  const uint64_t before = kNumbers + 1;  // the export: header + one event per number
  int killed_mid_import = 0;
  bool all = false;
  for (int delay_ms : {150, 600, 1200, 2000, 3000, 60000}) {
    pid_t pid = fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(TACET_BIN, TACET_BIN, "--data-dir", dir.path().c_str(), "import-return", "--session",
            "1", "--received", today.c_str(), (dir / "return.txt").c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    auto start = std::chrono::steady_clock::now();
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(delay_ms)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFSIGNALED(status)) {
      ++killed_mid_import;
    } else {
      BOOST_TEST_REQUIRE(WIFEXITED(status));
      BOOST_TEST_REQUIRE(WEXITSTATUS(status) == 0,
                         "tacet import-return exited " << WEXITSTATUS(status));
    }

    auto ledger = Open(dir.path(), false);
    Head h = ledger->log().head();
    BOOST_TEST_MESSAGE("delay " << delay_ms
                                << " ms: " << (WIFSIGNALED(status) ? "killed" : "finished")
                                << ", head " << h.seq);
    BOOST_TEST((h.seq == before || h.seq == before + 1 + kNumbers), "head " << h.seq);
    VerifyReport v = ledger->Verify();
    BOOST_TEST_REQUIRE(v.ok, v.problem);
    auto first = ledger->Decide(Number(0), Channel::kVoice, ledger->clock().NowMs());
    auto last = ledger->Decide(Number(kNumbers - 1), Channel::kVoice, ledger->clock().NowMs());
    BOOST_TEST_REQUIRE((first.ok() && last.ok()));
    auto sessions = ledger->Sessions();
    BOOST_TEST_REQUIRE(sessions.ok());
    if (h.seq == before) {
      BOOST_TEST(first->decision.reasons.at(0).code == "registry_unchecked");
      BOOST_TEST(last->decision.reasons.at(0).code == "registry_unchecked");
      BOOST_TEST((*sessions)[0].record.returns.empty());
    } else {
      all = true;
      BOOST_TEST((first->decision.verdict == Verdict::kAllow));
      BOOST_TEST((last->decision.verdict == Verdict::kAllow));
      BOOST_TEST((*sessions)[0].record.returns.size() == 1u);
      break;
    }
  }
  BOOST_TEST(killed_mid_import >= 1);
  BOOST_TEST(all, "the import finally completed");
}

BOOST_AUTO_TEST_SUITE_END()
