// The `tacet` binary as users and scripts see it: exit status, a one-line
// reason on stderr, --json documents on stdout.
#define BOOST_TEST_MODULE cli_tests
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace tacet;
using json = nlohmann::json;

namespace {

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run Tacet(const test::TempDir& dir, const std::string& args) {
  std::string cmd = std::string(TACET_BIN) + " --data-dir " + dir / "data" + " " + args + " >" +
                    dir / "stdout" + " 2>" + dir / "stderr";
  int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, test::ReadText(dir / "stdout"),
          test::ReadText(dir / "stderr")};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_tests)

BOOST_AUTO_TEST_CASE(a_missing_ledger_fails_with_one_line_naming_init) {
  test::TempDir dir;
  Run r = Tacet(dir, "check 0612345678");
  BOOST_TEST(r.status != 0);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err.find("tacet init") != std::string::npos, r.err);
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

BOOST_AUTO_TEST_CASE(json_output_of_the_rpo_commands) {
  test::TempDir dir;
  BOOST_TEST_REQUIRE(Tacet(dir, "init").status == 0);
  test::WriteText(dir / "c.txt", "06 1234 5678\n347 123 4567\nbad\n");
  Run e = Tacet(dir, "export --registry it-rpo --candidates " + dir / "c.txt" + " --out " +
                         dir / "out --json");
  BOOST_TEST_REQUIRE(e.status == 0, e.err);
  json ej = json::parse(e.out);
  BOOST_TEST(ej["exported"] == 2);
  BOOST_TEST(ej["left_out"]["invalid"] == 1);
  BOOST_TEST_REQUIRE(ej["sessions"].size() == 1u);

  Run s = Tacet(dir, "sessions --json");
  BOOST_TEST_REQUIRE(s.status == 0, s.err);
  json sj = json::parse(s.out);
  BOOST_TEST_REQUIRE(sj.size() == 1u);
  BOOST_TEST(sj[0]["state"] == "open");
  BOOST_TEST(sj[0]["numbers"] == 2);

  Run c = Tacet(dir, "check '06 1234 5678' --json");
  BOOST_TEST_REQUIRE(c.status == 0, c.err);
  json cj = json::parse(c.out);
  BOOST_TEST(cj["subject"] == "+390612345678");
  BOOST_TEST(cj["decision"] == "deny");
  BOOST_TEST(cj["reasons"][0]["code"] == "registry_unchecked");

  // A refused import: non-zero, one line naming the problem, nothing recorded.
  test::WriteText(dir / "ret.txt", "0699999999\n");
  Run before = Tacet(dir, "verify --json");
  Run bad = Tacet(dir, "import-return --session 1 --received 2020-01-01 " + dir / "ret.txt");
  BOOST_TEST(bad.status != 0);
  BOOST_TEST(bad.err.find("before the export of session 1") != std::string::npos, bad.err);
  BOOST_TEST(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  Run after = Tacet(dir, "verify --json");
  BOOST_TEST(json::parse(after.out)["head_hash"] == json::parse(before.out)["head_hash"]);
  BOOST_TEST(json::parse(after.out)["ok"] == true);
  BOOST_TEST(json::parse(after.out)["head_seq"] == 3);
}

BOOST_AUTO_TEST_SUITE_END()
