// Every example printed by `tacet COMMAND --help` runs, as printed, with the
// shipped config/tacet.toml, on a ledger brought to the state the example
// presumes by the examples before it. Dates in examples are illustrative:
// each is replaced by today's (a date-time by the current minute), and the
// file an example's `$(date +%F)` wrote by its name of today.
#define BOOST_TEST_MODULE cli_examples_tests
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
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

// `text` with every date of an example made today's: "YYYY-MM-DD HH:MM" the
// current minute, a "checkpoint-YYYY-MM-DD" file name the shell's date (what
// `$(date +%F)` wrote), any other "YYYY-MM-DD" the day in Rome. (By hand:
// libstdc++'s <regex> trips -Wmaybe-uninitialized under the sanitizers.)
std::string WithToday(const std::string& text, const std::string& shell_date,
                      const std::string& today, const std::string& minute) {
  auto digits = [&](size_t at, size_t n) {
    if (at + n > text.size()) return false;
    for (size_t i = at; i < at + n; ++i)
      if (text[i] < '0' || text[i] > '9') return false;
    return true;
  };
  auto date_at = [&](size_t i) {
    return digits(i, 4) && text[i + 4] == '-' && digits(i + 5, 2) && text[i + 7] == '-' &&
           digits(i + 8, 2) &&
           (i + 10 == text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 10]))) &&
           (i == 0 || !std::isdigit(static_cast<unsigned char>(text[i - 1])));
  };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (!date_at(i)) {
      out.push_back(text[i++]);
      continue;
    }
    if (i + 16 <= text.size() && text[i + 10] == ' ' && digits(i + 11, 2) && text[i + 13] == ':' &&
        digits(i + 14, 2)) {
      out += minute;
      i += 16;
    } else {
      out += out.size() >= 11 && out.compare(out.size() - 11, 11, "checkpoint-") == 0 ? shell_date
                                                                                      : today;
      i += 10;
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
  const std::vector<std::string> commands = {"init",
                                             "policy",
                                             "policy apply",
                                             "export",
                                             "import-return",
                                             "check",
                                             "filter",
                                             "consent grant",
                                             "consent revoke",
                                             "block",
                                             "unblock",
                                             "justify",
                                             "campaign define",
                                             "list register",
                                             "lists",
                                             "caller register",
                                             "contact record",
                                             "contact import",
                                             "audit",
                                             "person link",
                                             "person merge",
                                             "person split",
                                             "person unlink",
                                             "reassigned",
                                             "erase",
                                             "exports prune",
                                             "sessions",
                                             "history",
                                             "key",
                                             "checkpoint",
                                             "proof",
                                             "verify",
                                             "replay",
                                             "rebuild",
                                             "stats",
                                             "caller retire",
                                             "campaign retire"};
  // Every command has its place in that order (a new one must be added).
  for (const std::string& group :
       {std::string(), std::string("consent"), std::string("policy"), std::string("exports"),
        std::string("contact"), std::string("person"), std::string("campaign"),
        std::string("caller"), std::string("list")}) {
    Run help = Shell(dir, bin + " " + group + " --help");
    for (const std::string& sub : Subcommands(help.out)) {
      const std::string name = group.empty() ? sub : group + " " + sub;
      if (name == "consent" || name == "exports" || name == "contact" || name == "person" ||
          name == "campaign" || name == "caller" || name == "list")
        continue;  // a group: its commands have the examples
      BOOST_TEST((std::find(commands.begin(), commands.end(), name) != commands.end()),
                 name << " is not in the examples' order");
    }
  }
  // Files the examples name.
  test::WriteText(dir / "numbers.csv", "id;telefono\n1;06 1234 5678\n2;347 123 4567\n");
  test::WriteText(dir / "subscribers.csv", "name,email\nMario,mario.rossi@example.it\n");
  test::WriteText(dir / "robinson.txt", "06 1234 5678\n");
  test::WriteText(dir / "leads-2026-11.csv", "telefono\n347 123 4567\n06 1234 5678\n");
  test::WriteText(dir / "calls.csv",
                  "subject;started;outcome;campaign\n347 123 4567;2026-01-02 10:00;no_answer;"
                  "autumn\n");

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
      ex = WithToday(ex, ShellDate(), today, minute);
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
