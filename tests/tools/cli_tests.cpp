// The `tacet` binary as users and scripts see it: exit status, a one-line
// reason on stderr, --json documents on stdout.
#define BOOST_TEST_MODULE cli_tests
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "tacet/core/hash.h"
#include "tacet/core/merkle.h"
#include "tacet/core/note.h"
#include "test_util.h"

using namespace tacet;
using json = nlohmann::json;

namespace {

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run Tacet(const test::TempDir& dir, const std::string& args, const std::string& data = "data") {
  // In the test's directory: no ./config/tacet.toml is picked up by accident.
  std::string cmd = "cd " + dir.path() + " && " + std::string(TACET_BIN) + " --data-dir " +
                    dir / data + " " + args + " >" + dir / "stdout" + " 2>" + dir / "stderr";
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

// Seed 001's kind of policy, declared in a config file.
const char* kPolicyToml = R"(
[channels]
consent_required = ["sms", "email", "newsletter"]
justification_minutes = 30

[consent_types.mkt30]
title = "Marketing e-mail"
validity_days = 30
uses = ["email", "newsletter"]

[reasons.cust-req]
title = "The customer asked"
)";

BOOST_AUTO_TEST_CASE(policy_from_the_config_consent_block_filter_and_history) {
  test::TempDir dir;
  test::WriteText(dir / "tacet.toml", kPolicyToml);
  const std::string cfg = "--config " + dir / "tacet.toml" + " ";
  Run init = Tacet(dir, cfg + "init --json");
  BOOST_TEST_REQUIRE(init.status == 0, init.err);
  BOOST_TEST(json::parse(init.out)["policy_changes"].size() == 3u);
  // A second writer's open finds nothing to reconcile.
  Run again = Tacet(dir, cfg + "block a@example.it --reason 'asked' --source request");
  BOOST_TEST_REQUIRE(again.status == 0, again.err);
  BOOST_TEST(again.err.empty(), again.err);

  // Refusals: one line naming the problem, head unchanged.
  const std::string head = json::parse(Tacet(dir, cfg + "verify --json").out)["head_hash"];
  struct Refusal {
    std::string args, says;
  };
  for (const Refusal& r : std::vector<Refusal>{
           {"consent grant b@example.it --type nope --given 2020-01-01",
            "unknown consent type 'nope'"},
           {"consent grant b@example.it --type mkt30 --given 2999-01-01", "in the future"},
           {"unblock a@example.it --reason review", "--officer"},
           {"justify b@example.it --channel email --reason nope", "unknown reason 'nope'"}}) {
    Run bad = Tacet(dir, cfg + r.args);
    BOOST_TEST(bad.status != 0, r.args);
    BOOST_TEST(bad.err.find(r.says) != std::string::npos, bad.err);
    BOOST_TEST(std::count(bad.err.begin(), bad.err.end(), '\n') == 1, bad.err);
    BOOST_TEST(json::parse(Tacet(dir, cfg + "verify --json").out)["head_hash"] == head, r.args);
  }

  // Given today (D): valid through D+30, needs a justification on D+31.
  const TimeZone rome = TimeZone::Load("Europe/Rome").value();
  const Day today = rome.DayOf(SystemClock::Default()->NowMs());
  const std::string d = FormatDate(today);
  BOOST_TEST_REQUIRE(
      Tacet(dir, cfg + "consent grant b@example.it --type mkt30 --given " + d).status == 0);
  BOOST_TEST_REQUIRE(
      Tacet(dir, cfg + "consent grant a@example.it --type mkt30 --given " + d).status == 0);
  Run in = Tacet(dir, cfg + "check b@example.it --channel email --at '" + FormatDate(today + 30) +
                          " 23:59' --json");
  BOOST_TEST_REQUIRE(in.status == 0, in.err);
  BOOST_TEST(json::parse(in.out)["decision"] == "allow");
  Run out = Tacet(
      dir, cfg + "check b@example.it --channel email --at " + FormatDate(today + 31) + " --json");
  json oj = json::parse(out.out);
  BOOST_TEST(oj["decision"] == "needs_justification");
  BOOST_TEST(oj["allowed_reasons"] == json::array({"cust-req"}));

  // A Robinson list as one batch: counts with line numbers.
  test::WriteText(dir / "robinson.txt",
                  "06 1234 5678\nnot a number\n+39 347 123 4567\n0612345678\n");
  Run blk = Tacet(dir, cfg + "block --file " + dir / "robinson.txt" +
                           " --source robinson --reason 'Robinson 2026-11' --json");
  BOOST_TEST_REQUIRE(blk.status == 0, blk.err);
  json bj = json::parse(blk.out);
  BOOST_TEST(bj["newly_blocked"] == 2);
  BOOST_TEST(bj["invalid"] == 1);
  BOOST_TEST(bj["duplicates"] == 1);
  BOOST_TEST(bj["invalid_lines"][0].get<std::string>().rfind("line 2 ", 0) == 0u);
  BOOST_TEST(bj["last_seq"].get<int>() - bj["first_seq"].get<int>() == 1);
  Run blk2 = Tacet(dir, cfg + "block --file " + dir / "robinson.txt" +
                            " --source robinson --reason 'again' --json");
  BOOST_TEST(json::parse(blk2.out)["already_blocked"] == 2);
  BOOST_TEST(json::parse(blk2.out)["newly_blocked"] == 0);

  // Newsletter filter: only b (a is blocked); the others go to the CSV.
  test::WriteText(dir / "list.csv", "name,email\nA,a@example.it\nB,b@example.it\nC,c@example.it\n");
  Run f = Tacet(dir, cfg + "filter --channel newsletter " + dir / "list.csv" + " --rejected " +
                         dir / "rejected.csv");
  BOOST_TEST_REQUIRE(f.status == 0, f.err);
  BOOST_TEST(f.out == "b@example.it\n");
  std::string rej = test::ReadText(dir / "rejected.csv");
  BOOST_TEST(rej.find("2,a@example.it,a@example.it,deny,blocked,") != std::string::npos, rej);
  BOOST_TEST(rej.find("4,c@example.it,c@example.it,deny,consent_missing,") != std::string::npos,
             rej);
  BOOST_TEST(f.err.find("1 allowed, 2 denied") != std::string::npos, f.err);

  // History as CSV: the subject's events and the policy behind them.
  Run h = Tacet(dir, cfg + "history b@example.it --format csv");
  BOOST_TEST_REQUIRE(h.status == 0, h.err);
  BOOST_TEST(h.out.rfind("seq,recorded_at,type,", 0) == 0u);
  BOOST_TEST(h.out.find(",consent_type_defined,") != std::string::npos, h.out);
  BOOST_TEST(h.out.find(",consent_granted,") != std::string::npos, h.out);

  // Rebuild equals incremental; a replayed copy is read-only.
  Run rb = Tacet(dir, cfg + "rebuild --json");
  BOOST_TEST_REQUIRE(rb.status == 0, rb.err);
  BOOST_TEST(json::parse(rb.out)["equal"] == true);
  Run rp = Tacet(dir, cfg + "replay --as-known-at now --out " + dir / "copy" + " --json");
  BOOST_TEST_REQUIRE(rp.status == 0, rp.err);
  Run w = Tacet(dir, cfg + "block z@example.it --reason x", "copy");
  BOOST_TEST(w.status != 0);
  BOOST_TEST(w.err.find("read-only") != std::string::npos, w.err);
  Run rc = Tacet(dir, cfg + "check a@example.it --channel email --json", "copy");
  BOOST_TEST_REQUIRE(rc.status == 0, rc.err);
  BOOST_TEST(json::parse(rc.out)["reasons"][0]["code"] == "blocked");
}

BOOST_AUTO_TEST_CASE(a_bad_policy_in_the_config_names_file_line_and_value) {
  test::TempDir dir;
  test::WriteText(dir / "tacet.toml", "[consent_types.x]\ntitle = \"X\"\nuses = [\"fax\"]\n");
  Run r = Tacet(dir, "--config " + dir / "tacet.toml" + " init");
  BOOST_TEST(r.status != 0);
  BOOST_TEST(r.err.find("tacet.toml:3") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("'fax'") != std::string::npos, r.err);
}

// Issue 16: registries are policy. Without a declared one the built-in
// it-rpo is in force; a config that declares it records it, once.
BOOST_AUTO_TEST_CASE(the_policy_lists_the_registries_in_force) {
  test::TempDir dir;
  BOOST_TEST_REQUIRE(Tacet(dir, "init").status == 0);
  Run built_in = Tacet(dir, "policy --json");
  BOOST_TEST_REQUIRE(built_in.status == 0, built_in.err);
  json b = json::parse(built_in.out)["registries"];
  BOOST_TEST_REQUIRE(b.size() == 1u);
  BOOST_TEST(b[0]["name"] == "it-rpo");
  BOOST_TEST(b[0]["seq"] == 0);
  test::WriteText(dir / "tacet.toml", "[registry.it-rpo]\nvalidity_days = 10\n");
  Run apply = Tacet(dir, "--config " + dir / "tacet.toml" + " policy apply");
  BOOST_TEST_REQUIRE(apply.status == 0, apply.err);
  BOOST_TEST(apply.out.find("registry defined: it-rpo") != std::string::npos, apply.out);
  Run again = Tacet(dir, "--config " + dir / "tacet.toml" + " policy apply");
  BOOST_TEST(again.out.find("registry") == std::string::npos, again.out);
  Run now = Tacet(dir, "policy");
  BOOST_TEST(now.out.find("it-rpo  round_trip, layout it-rpo; regions IT; voice, sms; "
                          "Europe/Rome; answers valid 10 days [seq") != std::string::npos,
             now.out);
}

BOOST_AUTO_TEST_CASE(a_proof_file_travels_with_only_the_public_key) {
  test::TempDir dir;
  BOOST_TEST_REQUIRE(Tacet(dir, "init").status == 0);
  BOOST_TEST_REQUIRE(Tacet(dir, "block 0612345678 --reason asked").status == 0);
  BOOST_TEST_REQUIRE(Tacet(dir, "block 0612345679 --reason asked").status == 0);
  Run key = Tacet(dir, "key");
  BOOST_TEST_REQUIRE(key.status == 0, key.err);
  test::WriteText(dir / "tacet.pub", key.out);
  Run cp = Tacet(dir, "checkpoint");
  BOOST_TEST_REQUIRE(cp.status == 0, cp.err);
  BOOST_TEST(cp.out.find("\n2\n") != std::string::npos, cp.out);  // the CLI signed its head
  test::WriteText(dir / "cp2.txt", cp.out);
  Run proof = Tacet(dir, "proof '06 1234 5678' --out " + dir / "proof.json");
  BOOST_TEST_REQUIRE(proof.status == 0, proof.err);

  // Checked with another data directory that holds nothing: only the key.
  Run ok =
      Tacet(dir, "verify --proof " + dir / "proof.json" + " --key " + dir / "tacet.pub" + " --json",
            "elsewhere");
  BOOST_TEST_REQUIRE(ok.status == 0, ok.err);
  json oj = json::parse(ok.out);
  BOOST_TEST(oj["size"] == 2);
  BOOST_TEST(oj["events"].size() == 1u);
  BOOST_TEST(oj["events"][0]["seq"] == 1);

  // One changed character of the event: refused, naming the field.
  json doc = json::parse(test::ReadText(dir / "proof.json"));
  std::string body = doc["events"][0]["body"];
  body[10] = body[10] == 'A' ? 'B' : 'A';
  doc["events"][0]["body"] = body;
  test::WriteText(dir / "altered.json", doc.dump());
  Run bad = Tacet(dir, "verify --proof " + dir / "altered.json" + " --key " + dir / "tacet.pub");
  BOOST_TEST(bad.status != 0);
  BOOST_TEST(bad.err.find("\"events\"[0] (seq 1)") != std::string::npos, bad.err);
  // Without a key the file alone proves nothing.
  Run nokey = Tacet(dir, "verify --proof " + dir / "proof.json");
  BOOST_TEST(nokey.status != 0);
  BOOST_TEST(nokey.err.find("--key") != std::string::npos, nokey.err);

  // The log grew: it still extends the checkpoint of 2 events.
  BOOST_TEST_REQUIRE(Tacet(dir, "block 0612345670 --reason asked").status == 0);
  Run since = Tacet(dir, "verify --since " + dir / "cp2.txt" + " --json");
  BOOST_TEST_REQUIRE(since.status == 0, since.err);
  json sj = json::parse(since.out);
  BOOST_TEST(sj["old_size"] == 2);
  BOOST_TEST(sj["new_size"] == 3);
  // It prints what it checked: an auditor checks the same proof again.
  std::vector<Hash256> path;
  for (const auto& h : sj["proof"]) path.push_back(HashFromBase64(h.get<std::string>()).value());
  BOOST_TEST(!path.empty());
  BOOST_TEST(
      merkle::VerifyConsistency(2, 3, HashFromBase64(sj["old_root"].get<std::string>()).value(),
                                HashFromBase64(sj["new_root"].get<std::string>()).value(), path));
  BOOST_TEST(sj["checkpoint"].get<std::string>().find("\n3\n") != std::string::npos);
  // The auditor's checkpoint is the newest: the same size, no proof, one root.
  Run cp3 = Tacet(dir, "checkpoint");
  BOOST_TEST_REQUIRE(cp3.status == 0, cp3.err);
  test::WriteText(dir / "cp3.txt", cp3.out);
  Run same = Tacet(dir, "verify --since " + dir / "cp3.txt" + " --json");
  BOOST_TEST_REQUIRE(same.status == 0, same.err);
  json samej = json::parse(same.out);
  BOOST_TEST(samej["old_size"] == 3);
  BOOST_TEST(samej["new_size"] == 3);
  BOOST_TEST(samej["proof"].empty());
  BOOST_TEST(samej["old_root"] == samej["new_root"]);
  // The empty log, signed with the ledger's own key: every log extends it.
  auto signer = note::Signer::Parse(test::ReadText(dir / "data/checkpoint.key"));
  BOOST_TEST_REQUIRE(signer.ok(), signer.status().ToString());
  note::Checkpoint empty{signer->name(), 0, merkle::EmptyRoot(), {}};
  test::WriteText(dir / "cp0.txt", signer->Sign(note::FormatCheckpoint(empty)).value());
  Run zero = Tacet(dir, "verify --since " + dir / "cp0.txt" + " --json");
  BOOST_TEST_REQUIRE(zero.status == 0, zero.err);
  json zj = json::parse(zero.out);
  BOOST_TEST(zj["old_size"] == 0);
  BOOST_TEST(zj["proof"].empty());
  // A checkpoint of 2 events with another root: the log was rewritten.
  note::Checkpoint forged{signer->name(), 2, merkle::LeafHash("not the events"), {}};
  test::WriteText(dir / "forged.txt", signer->Sign(note::FormatCheckpoint(forged)).value());
  Run rewritten = Tacet(dir, "verify --since " + dir / "forged.txt");
  BOOST_TEST(rewritten.status != 0);
  BOOST_TEST(rewritten.err.find("NOT an extension") != std::string::npos, rewritten.err);
  Run all = Tacet(dir, "verify --json");
  BOOST_TEST_REQUIRE(all.status == 0, all.err);
  BOOST_TEST(json::parse(all.out)["checkpoints"].get<int>() >= 2);
}

BOOST_AUTO_TEST_CASE(the_data_directory_is_the_owners_alone_whatever_the_umask) {
  test::TempDir dir;
  BOOST_TEST_REQUIRE(Tacet(dir, "init", "data").status == 0);
  test::WriteText(dir / "c.txt", "06 1234 5678\n");
  // A careless umask: nothing of the ledger becomes readable by others.
  std::string cmd = "cd " + dir.path() + " && umask 000 && " + std::string(TACET_BIN) +
                    " --data-dir " + dir / "data2" + " init >/dev/null && umask 000 && " +
                    std::string(TACET_BIN) + " --data-dir " + dir / "data2" +
                    " export --registry it-rpo --candidates " + dir / "c.txt" + " >/dev/null";
  BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0);
  namespace fs = std::filesystem;
  BOOST_TEST(static_cast<unsigned>(fs::status(dir / "data2").permissions()) == 0700u);
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "data2")) {
    const auto p = static_cast<unsigned>(e.status().permissions());
    if (e.is_directory()) {
      BOOST_TEST((p & 077u) == 0u, e.path().string());
    } else {
      ++files;
      BOOST_TEST((p & 077u) == 0u, e.path().string());
    }
  }
  BOOST_TEST(files > 8u);  // WAL, MANIFEST, OPTIONS, key, exports...
  // A data directory every user can read is refused to a writer, named.
  fs::permissions(dir / "data", fs::perms::others_read | fs::perms::others_exec,
                  fs::perm_options::add);
  Run w = Tacet(dir, "block 0612345678 --reason r", "data");
  BOOST_TEST(w.status != 0);
  BOOST_TEST(
      w.err.find("is open to every user (mode 0705); it holds personal data") != std::string::npos,
      w.err);
  BOOST_TEST(w.err.find("chmod 700 " + dir / "data") != std::string::npos, w.err);
  // Reads go on.
  BOOST_TEST(Tacet(dir, "check 0612345678", "data").status == 0);
}

// Issue 15: a configured data group gets 0750 on the directory and 0640 on
// the files, whatever the umask; the signing key and the ledger secret
// stay 0600, the data keys' directory 0700.
BOOST_AUTO_TEST_CASE(a_configured_data_group_may_read_the_ledger) {
  test::TempDir dir;
  const gid_t gid = ::getgid();
  test::WriteText(dir / "g.toml", "data_group = \"" + std::to_string(gid) + "\"\n");
  test::WriteText(dir / "c.txt", "06 1234 5678\n");
  const std::string cfg = "--config " + dir / "g.toml" + " ";
  std::string cmd = "cd " + dir.path() + " && umask 000 && " + std::string(TACET_BIN) + " " + cfg +
                    "--data-dir " + dir / "data" + " init >/dev/null && umask 077 && " +
                    std::string(TACET_BIN) + " " + cfg + "--data-dir " + dir / "data" +
                    " export --registry it-rpo --candidates " + dir / "c.txt" + " >/dev/null";
  BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0);
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat((dir / "data").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 02750u);
  BOOST_TEST(st.st_gid == gid);
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "data")) {
    BOOST_TEST_REQUIRE(::stat(e.path().c_str(), &st) == 0);
    BOOST_TEST(st.st_gid == gid, e.path().string());
    const unsigned mode = st.st_mode & 0777;
    const std::string rel = std::filesystem::relative(e.path(), dir / "data").string();
    if (e.path().filename() == "checkpoint.key" || e.path().filename() == "ledger.secret") {
      BOOST_TEST(mode == 0600u, rel);
    } else if (rel == "keys") {
      BOOST_TEST(mode == 0700u, rel);  // the data keys stay the owner's
    } else if (rel.rfind("keys/", 0) == 0) {
      continue;  // inside it, the umask's 0640 is shut by the directory
    } else if (e.is_directory()) {
      BOOST_TEST(mode == 0750u, e.path().string() << " " << std::oct << mode);
    } else if (e.path().filename() != "LOCK") {
      ++files;
      BOOST_TEST(mode == 0640u, e.path().string() << " " << std::oct << mode);
    }
  }
  BOOST_TEST(files > 6u);  // WAL, MANIFEST, OPTIONS, exports...
  // A group that does not exist is refused, named.
  test::WriteText(dir / "bad.toml", "data_group = \"no-such-group-tacet\"\n");
  Run bad = Tacet(dir, "--config " + dir / "bad.toml" + " init", "data3");
  BOOST_TEST(bad.status != 0);
  BOOST_TEST(bad.err.find("data_group 'no-such-group-tacet' is not a group of this system") !=
                 std::string::npos,
             bad.err);
}

BOOST_AUTO_TEST_CASE(arguments_that_are_not_utf8_are_refused_naming_them) {
  test::TempDir dir;
  BOOST_TEST_REQUIRE(Tacet(dir, "init").status == 0);
  // printf: /bin/sh has no $'...'; \350 is 0xE8, a Latin-1 e-grave.
  Run r = Tacet(dir, "block 0612345678 --reason \"$(printf 'caff\\350')\"");
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.err.find("(the value of --reason) is not valid UTF-8: byte offset 4 (0xE8)") !=
                 std::string::npos,
             r.err);
  Run h = Tacet(dir, "history 0612345678 --json");
  BOOST_TEST(json::parse(h.out).size() == 0u);
}

// Issue 15: a write with another --config never swings the policy; only
// init, policy apply (and tacetd) record it.
BOOST_AUTO_TEST_CASE(policy_changes_only_by_init_and_policy_apply) {
  test::TempDir dir;
  test::WriteText(dir / "a.toml", kPolicyToml);
  test::WriteText(
      dir / "b.toml",
      std::string(kPolicyToml) + "\n[consent_types.tel]\ntitle = \"Calls\"\nuses = [\"phone\"]\n");
  const std::string a = "--config " + dir / "a.toml" + " ";
  const std::string b = "--config " + dir / "b.toml" + " ";
  BOOST_TEST_REQUIRE(Tacet(dir, a + "init").status == 0);
  auto head = [&] { return json::parse(Tacet(dir, a + "verify --json").out)["head_seq"]; };
  const json before = head();

  // A write under b: recorded, with a warning, under the ledger's policy.
  Run w = Tacet(dir, b + "block 0612345678 --reason asked");
  BOOST_TEST_REQUIRE(w.status == 0, w.err);
  BOOST_TEST(
      w.err == "tacet: the policy of " + dir / "b.toml" +
                   " differs from the ledger's (consent type defined: tel); going on with the "
                   "ledger's. 'tacet policy apply' records it.\n",
      w.err);
  BOOST_TEST(head() == before.get<int>() + 1);  // the block, no policy event
  Run grant = Tacet(dir, b + "consent grant 0612345678 --type tel --given 2026-01-01");
  BOOST_TEST(grant.status != 0);
  BOOST_TEST(grant.err.find("unknown consent type 'tel'") != std::string::npos, grant.err);
  // A read warns too.
  Run p = Tacet(dir, b + "policy --json");
  BOOST_TEST_REQUIRE(p.status == 0, p.err);
  BOOST_TEST(json::parse(p.out)["consent_types"].size() == 1u);
  BOOST_TEST(p.err.find("differs from the ledger's") != std::string::npos, p.err);

  // policy apply --dry-run says what it would record, and records nothing.
  Run dry = Tacet(dir, b + "policy apply --dry-run");
  BOOST_TEST_REQUIRE(dry.status == 0, dry.err);
  BOOST_TEST(dry.out == "  policy: consent type defined: tel\nwould record 1 change\n", dry.out);
  BOOST_TEST(dry.err.empty(), dry.err);
  BOOST_TEST(head() == before.get<int>() + 1);
  // policy apply prints the difference, then records it.
  Run apply = Tacet(dir, b + "policy apply");
  BOOST_TEST_REQUIRE(apply.status == 0, apply.err);
  BOOST_TEST(apply.out == "  policy: consent type defined: tel\nrecorded 1 change\n", apply.out);
  BOOST_TEST(head() == before.get<int>() + 2);
  Run again = Tacet(dir, b + "policy apply --json");
  BOOST_TEST(json::parse(again.out)["policy_changes"].empty());
  BOOST_TEST(Tacet(dir, b + "consent grant 0612345678 --type tel --given 2026-01-01").status == 0);
  // Back under a: a warning that tel would be retired; tel stays in force.
  Run back = Tacet(dir, a + "check 0612345678 --channel sms --json");
  BOOST_TEST(back.err.find("consent type retired: tel") != std::string::npos, back.err);
}

// Issue 15: a replay of a moment to come is refused; a replayed copy prints
// the original's key and keeps the checkpoints of its prefix.
BOOST_AUTO_TEST_CASE(a_replayed_copy_keeps_the_key_and_refuses_the_future) {
  test::TempDir dir;
  BOOST_TEST_REQUIRE(Tacet(dir, "init").status == 0);
  BOOST_TEST_REQUIRE(Tacet(dir, "block 0612345678 --reason asked").status == 0);
  Run future = Tacet(dir, "replay --as-known-at '2999-01-01 00:00' --out " + dir / "copy");
  BOOST_TEST(future.status != 0);
  BOOST_TEST(future.err.find("is in the future") != std::string::npos, future.err);
  BOOST_TEST(!std::filesystem::exists(dir / "copy"));
  Run rp = Tacet(dir, "replay --as-known-at now --out " + dir / "copy");
  BOOST_TEST_REQUIRE(rp.status == 0, rp.err);
  Run key = Tacet(dir, "key");
  Run copy_key = Tacet(dir, "key", "copy");
  BOOST_TEST_REQUIRE(copy_key.status == 0, copy_key.err);
  BOOST_TEST(!key.out.empty());
  BOOST_TEST(copy_key.out == key.out);
  Run cp = Tacet(dir, "checkpoint --json", "copy");
  BOOST_TEST_REQUIRE(cp.status == 0, cp.err);
  // The block's checkpoint, signed by the original, covers the copy's head.
  BOOST_TEST(json::parse(cp.out)["size"] == 1);
  BOOST_TEST(json::parse(cp.out)["head_seq"] == 1);
  Run v = Tacet(dir, "verify --json", "copy");
  BOOST_TEST(json::parse(v.out)["ok"] == true, v.out);
  BOOST_TEST(json::parse(v.out)["checkpoints"].get<int>() >= 1, v.out);
}

// The README's OpenSSL recipe, as printed there, on fresh ledgers: about half
// of all keys have a '+' in their base64, which a recipe cutting at '+' lost.
BOOST_AUTO_TEST_CASE(the_readmes_openssl_recipe_verifies_a_checkpoint) {
  const std::string readme = test::ReadText(std::string(TACET_SOURCE_DIR) + "/README.md");
  const size_t at = readme.find("checked by OpenSSL 3");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  const size_t begin = readme.find("```sh\n", at) + 6;
  const size_t end = readme.find("```", begin);
  const std::string recipe = readme.substr(begin, end - begin);
  BOOST_TEST_REQUIRE(recipe.find("openssl pkeyutl -verify") != std::string::npos);
  int with_plus = 0;
  for (int i = 0; i < 8; ++i) {
    test::TempDir dir;
    BOOST_TEST_REQUIRE(Tacet(dir, "init").status == 0);
    BOOST_TEST_REQUIRE(Tacet(dir, "block 0612345678 --reason r").status == 0);
    Run key = Tacet(dir, "key");
    BOOST_TEST_REQUIRE(key.status == 0);
    test::WriteText(dir / "tacet.pub", key.out);
    Run cp = Tacet(dir, "checkpoint");
    BOOST_TEST_REQUIRE(cp.status == 0);
    test::WriteText(dir / "checkpoint.txt", cp.out);
    test::WriteText(dir / "recipe.sh", "set -e\n" + recipe);
    with_plus +=
        key.out.substr(key.out.find('+', key.out.find('+') + 1)).find('+') != std::string::npos;
    const std::string cmd = "cd " + dir.path() + " && bash recipe.sh >" + dir / "out" + " 2>&1";
    const int rc = std::system(cmd.c_str());
    BOOST_TEST(rc == 0, key.out << test::ReadText(dir / "out"));
    BOOST_TEST(test::ReadText(dir / "out").find("Signature Verified Successfully") !=
               std::string::npos);
  }
  BOOST_TEST_MESSAGE(with_plus << " of 8 keys had a '+' in their base64");
}

BOOST_AUTO_TEST_SUITE_END()
