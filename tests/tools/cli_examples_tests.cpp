// Every example printed by `tacet COMMAND --help` runs, as printed, with the
// shipped config/tacet.toml, on a ledger brought to the state the example
// presumes by the examples before it. Dates in examples are illustrative:
// each is replaced by today's (a date-time by the current minute), and the
// file an example's `$(date +%F)` wrote by its name of today.
#define BOOST_TEST_MODULE cli_examples_tests
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "tacet/core/clock.h"
#include "tacet/core/time.h"
#include "test_util.h"

using namespace tacet;

namespace {

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run Shell(const test::TempDir& dir, const std::string& command) {
  std::string cmd =
      "cd " + dir.path() + " && (" + command + ") >" + dir / "stdout" + " 2>" + dir / "stderr";
  int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, test::ReadText(dir / "stdout"),
          test::ReadText(dir / "stderr")};
}

// The examples of one command's --help: the text after "Example:" or
// "Examples:" and the indented `tacet ...` lines after it, without a
// trailing "   (comment)".
std::vector<std::string> Examples(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool in_examples = false;
  while (std::getline(in, line)) {
    std::string text;
    if (size_t at = line.find("Example"); at != std::string::npos) {
      size_t colon = line.find(':', at);
      text = line.substr(colon + 1);
      in_examples = true;
    } else if (in_examples && line.find_first_not_of(' ') != std::string::npos &&
               line.compare(line.find_first_not_of(' '), 6, "tacet ") == 0) {
      text = line;
    } else {
      in_examples = false;
      continue;
    }
    text = text.substr(text.find_first_not_of(' '));
    if (size_t c = text.find("   ("); c != std::string::npos) text = text.substr(0, c);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (text.rfind("tacet ", 0) == 0) out.push_back(text);
  }
  return out;
}

// The names listed under "Subcommands:" in a --help text.
std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool listing = false;
  while (std::getline(in, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      listing = true;
    } else if (listing && line.rfind("  ", 0) == 0) {
      std::istringstream words(line);
      std::string name;
      words >> name;
      out.push_back(name);
    } else {
      listing = false;
    }
  }
  return out;
}

std::string ShellDate() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%F", std::localtime(&t));
  return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_examples_tests)

BOOST_AUTO_TEST_CASE(every_help_example_runs_with_the_shipped_config) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "config");
  std::filesystem::copy_file(std::string(TACET_SOURCE_DIR) + "/config/tacet.toml",
                             dir / "config/tacet.toml");
  const std::string bin = TACET_BIN;
  const TimeZone rome = TimeZone::Load("Europe/Rome").value();
  const TimeMs now = SystemClock::Default()->NowMs();
  const std::string today = FormatDate(rome.DayOf(now));
  const std::string minute = rome.Format(now).substr(0, 16);  // YYYY-MM-DD HH:MM

  // The commands in the order their examples build on each other.
  const std::vector<std::string> commands = {
      "init",       "policy",  "policy apply",  "export",         "import-return",
      "check",      "filter",  "consent grant", "consent revoke", "block",
      "unblock",    "justify", "sessions",      "history",        "key",
      "checkpoint", "proof",   "verify",        "replay",         "rebuild",
      "stats"};
  // Every command has its place in that order (a new one must be added).
  for (const std::string& group : {std::string(), std::string("consent"), std::string("policy")}) {
    Run help = Shell(dir, bin + " " + group + " --help");
    for (const std::string& sub : Subcommands(help.out)) {
      const std::string name = group.empty() ? sub : group + " " + sub;
      if (name == "consent") continue;  // a group: its commands have the examples
      BOOST_TEST((std::find(commands.begin(), commands.end(), name) != commands.end()),
                 name << " is not in the examples' order");
    }
  }
  // Files the examples name.
  test::WriteText(dir / "numbers.csv", "id;telefono\n1;06 1234 5678\n2;347 123 4567\n");
  test::WriteText(dir / "subscribers.csv", "name,email\nMario,mario.rossi@example.it\n");
  test::WriteText(dir / "robinson.txt", "06 1234 5678\n");

  std::set<std::string> ran;
  for (const std::string& cmd : commands) {
    Run help = Shell(dir, bin + " " + cmd + " --help");
    BOOST_TEST_REQUIRE(help.status == 0, cmd << ": " << help.err);
    std::vector<std::string> examples = Examples(help.out);
    BOOST_TEST(!examples.empty(), cmd << " --help shows no example");
    for (std::string ex : examples) {
      // The return the registry sent for session 1: every number of the
      // upload file cleared (the filtered layout).
      if (cmd == "import-return") {
        std::string upload;
        for (const auto& f : std::filesystem::directory_iterator(dir / "var/exports"))
          if (f.path().extension() == ".txt") upload = test::ReadText(f.path().string());
        BOOST_TEST_REQUIRE(!upload.empty());
        test::WriteText(dir / "crm20260831101500_ret.txt", upload);
      }
      ex = std::regex_replace(ex, std::regex(R"(checkpoint-\d{4}-\d\d-\d\d)"),
                              "checkpoint-" + ShellDate());
      ex = std::regex_replace(ex, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d)"), minute);
      ex = std::regex_replace(ex, std::regex(R"(\b\d{4}-\d\d-\d\d\b)"), today);
      Run r = Shell(dir, bin + ex.substr(5));
      BOOST_TEST(r.status == 0, cmd << ": " << ex << "\n" << r.err);
      ran.insert(ex);
    }
  }
  // The examples left the ledger sound, and each made what the next used.
  Run v = Shell(dir, bin + " verify");
  BOOST_TEST(v.status == 0, v.err);
  BOOST_TEST(std::filesystem::exists(dir / "send.txt"));
  BOOST_TEST(std::filesystem::file_size(dir / "history.csv") > 0u);
  BOOST_TEST(ran.size() >= commands.size());
}

BOOST_AUTO_TEST_SUITE_END()
