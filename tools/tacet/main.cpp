// tacet: the compliance ledger's command-line tool. Opens the store directly
// (the embedded default). Exit status 0 on success; otherwise non-zero with a
// one-line reason on stderr. --json prints one JSON document on stdout.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "tacet/core/merkle.h"
#include "tacet/core/note.h"
#include "tacet/core/utf8.h"
#include "tacet/daemon/client.h"
#include "tacet/service/config.h"
#include "tacet/projections/ledger.h"
#include "tacet/projections/proof.h"
#include "tacet/service/service.h"

namespace {

using json = nlohmann::json;
using namespace tacet;

struct Globals {
  std::string config_path;
  std::string data_dir;
  std::string socket;
  std::string operator_id;
  bool json = false;
  bool local = false;
};

std::string OsUser() {
  if (const passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return "uid:" + std::to_string(geteuid());
}

[[noreturn]] void Fail(const Status& s, int code = 1) {
  std::cerr << "tacet: " << s.message() << "\n";
  std::exit(code);
}

template <class T>
T Must(Result<T> r) {
  if (!r.ok()) Fail(r.status());
  return std::move(r).value();
}

struct Context {
  Globals g;
  Config config;
  std::unique_ptr<Ledger> ledger;
  std::optional<Client> client;  // set when a daemon serves the socket
  std::string socket;

  void LoadConfigOnce() {
    if (!config.source.empty() || loaded) return;
    config = Must(LoadConfig(g.config_path));
    loaded = true;
    // A data group reads the files this run writes: 0640 instead of 0600.
    if (!config.ledger.data_group.empty()) ::umask(027);
  }
  std::string DataDir() {
    LoadConfigOnce();
    return g.data_dir.empty() ? config.ledger.data_dir : g.data_dir;
  }
  // The daemon's socket for this data directory: --socket, else the
  // configured one, unless --data-dir names another ledger.
  std::string SocketPath() {
    LoadConfigOnce();
    if (!g.socket.empty()) return g.socket;
    if (!g.data_dir.empty() && g.data_dir != config.ledger.data_dir)
      return g.data_dir + "/tacet.sock";
    return config.daemon.SocketPath(DataDir());
  }
  // Connects when a daemon serves the socket (and --local is not given).
  bool ConnectDaemon() {
    if (g.local) return false;
    if (client) return true;
    socket = SocketPath();
    auto c = Client::Connect(socket);
    if (!c.ok()) {
      if (c.status().code() == StatusCode::kNotFound) return false;
      Fail(c.status());
    }
    client.emplace(std::move(c).value());
    return true;
  }

  // Only `init` and `policy apply` record the config's policy (reconcile);
  // any other command goes on with the ledger's and says on stderr when the
  // config's differs, so another --config never swings the policy unseen.
  void Open(bool write, bool create = false, bool repair = false, bool reconcile = false) {
    LoadConfigOnce();
    LedgerOptions o = config.ledger;
    if (!g.data_dir.empty()) o.data_dir = g.data_dir;
    o.read_only = !write;
    o.create_if_missing = create;
    o.repair = repair;
    o.reconcile_policy = write && (create || reconcile);
    o.policy_actor = Actor{OsUser(), "",
                           "tacet " + std::string(create ? "init" : "policy apply") +
                               (config.source.empty() ? "" : " " + config.source)};
    ledger = Must(Ledger::Open(o));
    const std::vector<std::string>& diff = ledger->policy_differences();
    if (!diff.empty() && !reconcile) {
      std::cerr << "tacet: the policy of "
                << (config.source.empty() ? "the built-in defaults" : config.source)
                << " differs from the ledger's (";
      for (size_t i = 0; i < diff.size(); ++i) std::cerr << (i ? "; " : "") << diff[i];
      std::cerr << "); going on with the ledger's. 'tacet policy apply' records it.\n";
    }
  }

  // Runs one operation through the daemon when one serves the socket,
  // otherwise on the store opened here. Same result either way; an error
  // exits with its message.
  json Run(const std::string& op, json args) {
    const OpSpec* spec = FindOp(op);
    if (ConnectDaemon()) {
      args["op"] = op;
      args["id"] = 1;
      std::string line = Must(client->Call(ToJsonText(args)));
      json reply = json::parse(line, nullptr, false);
      if (reply.is_discarded() || !reply.is_object())
        Fail(Status::Internal("tacetd sent an unreadable reply: " +
                              EscapeInvalidUtf8(TruncateUtf8(line, 200))));
      if (auto e = reply.find("error"); e != reply.end())
        Fail(Status::InvalidArgument(e->value("message", std::string("error")) + " [" +
                                     e->value("code", std::string("?")) + "]"));
      return reply["result"];
    }
    if (!ledger) Open(spec->kind == OpKind::kWrite);
    CallContext ctx;
    ctx.actor = MakeActor(op);
    Reply r = Service(*ledger).Execute(*spec, args, ctx);
    if (!r.ok) Fail(Status::InvalidArgument(r.message));
    // A one-shot writer leaves the head signed: its commits may have fallen
    // within the checkpoint interval.
    if (spec->kind == OpKind::kWrite && ledger->log().has_checkpoint_key())
      (void)Must(ledger->log().Checkpoint());
    return r.Result();
  }

  // A file of the request: its path when the daemon can read it (under its
  // import directory) or when the store is opened here; else its content.
  void AddFile(json& args, const char* path_key, const std::string& path, bool content_ok) {
    namespace fs = std::filesystem;
    if (!ConnectDaemon()) {
      args[path_key] = path;
      return;
    }
    std::error_code ec;
    fs::path full = fs::weakly_canonical(fs::absolute(path, ec), ec);
    fs::path base = fs::weakly_canonical(fs::absolute(config.daemon.ImportDir(DataDir()), ec), ec);
    auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
    if (b == base.end() || !content_ok) {
      args[path_key] = full.string();
      return;
    }
    auto size = fs::file_size(full, ec);
    if (ec) Fail(Status::InvalidArgument("cannot read '" + path + "': " + ec.message()));
    if (size > config.daemon.max_line_bytes / 2)
      Fail(Status::InvalidArgument("'" + path + "' is too large to send to tacetd (" +
                                   std::to_string(size) + " bytes); put it under " + base.string() +
                                   " or run with --local after stopping tacetd"));
    std::ifstream in(full, std::ios::binary);
    std::string content(std::istreambuf_iterator<char>(in), {});
    // Checked here: the request's JSON could not carry the stray bytes.
    if (auto bad = CheckUtf8File(content, path)) Fail(Status::InvalidArgument(*bad));
    args["content"] = std::move(content);
    args[path_key] = path;
  }

  Actor MakeActor(const std::string& tool) const {
    return Actor{OsUser(), g.operator_id, "tacet " + tool};
  }

  bool loaded = false;
};

void Print(const Context& c, const json& j, const std::string& text) {
  if (c.g.json) {
    std::cout << ToJsonText(j, 2) << "\n";
  } else {
    std::cout << text;
  }
}

std::string Hex16(const std::string& hex) { return hex.substr(0, 16); }
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || !it->is_string() ? std::string() : it->get<std::string>();
}
std::string Num(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || !it->is_number() ? std::string("0") : it->dump();
}

// The strings of a JSON array joined with `sep`.
std::string Join(const json& arr, const char* sep) {
  std::string out;
  for (const auto& x : arr) {
    if (!out.empty()) out.append(sep);
    out.append(x.get<std::string>());
  }
  return out;
}

std::string SeqList(const json& seqs) {
  std::string out;
  for (const auto& s : seqs) out += (out.empty() ? "seq " : ", ") + s.dump();
  return out;
}

// The text of a check's answer, from its JSON.
std::string DecisionText(const json& a) {
  std::string verdict = Str(a, "decision");
  for (char& ch : verdict) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string text = Str(a, "subject");
  if (a.contains("line_type")) text += " (" + Str(a, "line_type") + ")";
  text += " " + Str(a, "channel") + " at " + Str(a, "at_local");
  if (a.contains("as_known_at_local")) text += " as known at " + Str(a, "as_known_at_local");
  text += ": " + verdict;
  text += a.contains("valid_until_local") ? " until " + Str(a, "valid_until_local")
                                          : std::string(" (no change ahead)");
  text += "\n";
  for (const auto& r : a["reasons"]) {
    text += "  " + Str(r, "code") + ": " + Str(r, "detail");
    if (!r["seqs"].empty()) text += " [" + SeqList(r["seqs"]) + "]";
    text += "\n";
  }
  if (a.contains("allowed_reasons")) {
    std::string list = Join(a["allowed_reasons"], ", ");
    text += "  record one with: tacet justify " + Str(a, "subject") + " --channel " +
            Str(a, "channel") +
            " --reason CODE   (reasons: " + (list.empty() ? "none defined" : list) + ")\n";
  }
  return text;
}

// A CSV field, quoted when it must be (RFC 4180).
std::string Csv(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // Every file of the data directory (WAL, SST, MANIFEST, exports, keys) is
  // its owner's alone, whatever the caller's umask.
  ::umask(077);
  CLI::App app{"tacet: compliance ledger for outbound contact (RPO cycle, consents, do-not-call)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted after the subcommand too
  Context c;
  app.add_option("--config", c.g.config_path,
                 "Config file (default: $TACET_CONFIG, else ./config/tacet.toml if present, else "
                 "built-in defaults)");
  app.add_option("--data-dir", c.g.data_dir, "Data directory (default from config: ./var)");
  app.add_option("--socket", c.g.socket,
                 "tacetd's socket (default from config: <data-dir>/tacet.sock)");
  app.add_flag("--local", c.g.local,
               "Open the store here even if a daemon serves the socket (it then holds the store: "
               "writes fail)");
  app.add_flag("--json", c.g.json, "Print one JSON document instead of text");
  app.footer(
      "When tacetd serves the configured socket, every command goes through it; otherwise the\n"
      "store is opened directly. The output is the same either way.\n"
      "Run 'tacet COMMAND --help' for a command's options and an example.");

  // init
  auto* init = app.add_subcommand("init", "Create an empty ledger in the data directory");
  init->footer("Example: tacet init --data-dir ./var");
  init->callback([&] {
    if (c.ConnectDaemon()) {
      json st = c.Run("stats", json::object());
      Print(c,
            {{"data_dir", st["data_dir"]},
             {"head_seq", st["head_seq"]},
             {"policy_changes", json::array()}},
            "tacetd (pid " + Num(st, "pid") + ") already serves the ledger in " +
                Str(st, "data_dir") + " (head seq " + Num(st, "head_seq") + ")\n");
      return;
    }
    c.Open(true, true);
    Head h = c.ledger->log().head();
    const PolicyReconcileReport& rec = c.ledger->reconciled();
    std::string text = "ledger ready in " + c.ledger->options().data_dir + " (head seq " +
                       std::to_string(h.seq) + ")\n";
    for (const auto& ch : rec.changes) text += "  policy: " + ch + "\n";
    Print(c,
          {{"data_dir", c.ledger->options().data_dir},
           {"head_seq", h.seq},
           {"policy_changes", rec.changes}},
          text);
  });

  // export
  std::string candidates, out_dir, column, registry = "it-rpo";
  uint64_t limit = 0;
  uint32_t fresh = 0;
  auto* exp =
      app.add_subcommand("export", "Write the upload file of numbers to check with a registry");
  exp->add_option("--registry", registry, "Registry (it-rpo)")->required();
  exp->add_option("--candidates", candidates,
                  "File: one number per line, or a CSV with a phone column")
      ->required();
  exp->add_option("--column", column,
                  "CSV column holding the numbers (default: detect phone/telefono/numero...)");
  auto* limit_opt = exp->add_option(
      "--limit", limit, "At most N numbers, N >= 1 (soonest-expiring first, then never-checked)");
  bool include_pending = false;
  exp->add_flag("--include-pending", include_pending,
                "Export numbers still awaiting the return of an open session too");
  auto* fresh_opt = exp->add_option("--fresh-days", fresh,
                                    "Leave out clearances valid for more than D days (default 3)");
  exp->add_option("--out", out_dir, "Output directory (default: <data-dir>/exports)");
  exp->add_option("--operator", c.g.operator_id, "Operator id recorded with the session");
  exp->footer("Example: tacet export --registry it-rpo --candidates numbers.csv --limit 50000");
  exp->callback([&] {
    json args = {{"registry", registry}, {"operator", c.g.operator_id}};
    if (*limit_opt) args["limit"] = limit;
    if (include_pending) args["include_pending"] = true;
    if (!column.empty()) args["column"] = column;
    if (*fresh_opt) args["fresh_days"] = fresh;
    if (!out_dir.empty()) args["out"] = out_dir;
    c.AddFile(args, "candidates", candidates, true);
    json r = c.Run("export", args);
    std::string text =
        "read " + Num(r, "candidates") + " candidates, exported " + Num(r, "exported") + "\n";
    for (const auto& f : r["sessions"])
      text += "session " + Num(f, "session") + ": " + Str(f, "file") + " (" + Num(f, "numbers") +
              " numbers, sha256 " + Str(f, "sha256") + ")\n  upload: " + Str(f, "zip") + "\n";
    const json& l = r["left_out"];
    text += "left out: " + Num(l, "invalid") + " invalid, " + Num(l, "duplicate") + " duplicate, " +
            Num(l, "out_of_scope") + " outside the registry's scope, " + Num(l, "blocked") +
            " internally blocked, " + Num(l, "known_listed") + " known listed, " + Num(l, "fresh") +
            " still fresh, " + Num(l, "pending") + " pending in an open session, " +
            Num(l, "over_limit") + " over the limit\n";
    for (const auto& smp : r["invalid_samples"])
      text += "  invalid: " + smp.get<std::string>() + "\n";
    if (r["sessions"].empty()) text += "nothing to export; no session recorded\n";
    Print(c, r, text);
  });

  // import-return
  uint64_t session_id = 0;
  std::string received, return_file;
  bool supersede = false;
  auto* imp =
      app.add_subcommand("import-return", "Import a registry's return for an export session");
  imp->add_option("--session", session_id, "The export session this file answers")->required();
  imp->add_option("--received", received, "Date the return was received (YYYY-MM-DD)")->required();
  imp->add_flag("--supersede", supersede, "Replace the session's earlier return");
  bool empty_is_all_listed = false;
  imp->add_flag("--empty-is-all-listed", empty_is_all_listed,
                "Accept a file with no number: the registry lists every number of the session");
  imp->add_option("--operator", c.g.operator_id, "Operator id recorded with the import");
  imp->add_option("FILE", return_file, "The returned .txt, or a .zip holding it")->required();
  imp->footer(
      "Example: tacet import-return --session 1 --received 2026-09-01 crm20260831101500_ret.txt\n"
      "Through tacetd the file must lie under its import directory (daemon.import_dir).");
  imp->callback([&] {
    json args = {{"session", session_id},
                 {"received", received},
                 {"supersede", supersede},
                 {"operator", c.g.operator_id}};
    if (empty_is_all_listed) args["empty_is_all_listed"] = true;
    c.AddFile(args, "path", return_file, false);
    json r = c.Run("import_return", args);
    Print(c, r,
          "session " + Num(r, "session") + ": imported " + Str(r, "file") + " (sha256 " +
              Hex16(Str(r, "sha256")) + "..., " + Str(r, "layout") + " layout)\n" + "  cleared " +
              Num(r, "cleared") + " (callable until " + Str(r, "valid_until_local") + "), listed " +
              Num(r, "listed") + "\n  events " + Num(r, "first_seq") + ".." + Num(r, "last_seq") +
              "\n");
  });

  // Every query's time options.
  std::string at, known_at;
  auto time_options = [&](CLI::App* cmd) {
    cmd->add_option(
        "--at", at,
        "Evaluate at TIME (YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM], local zone; default now)");
    cmd->add_option("--as-known-at", known_at,
                    "Use only the events recorded up to TIME (default: everything recorded)");
  };
  auto add_times = [&](json& args) {
    if (!at.empty()) args["at"] = at;
    if (!known_at.empty()) args["as_known_at"] = known_at;
  };

  // check
  std::string subject, channel_name;
  auto* chk = app.add_subcommand(
      "check",
      "May this subject be contacted on a channel? The answer, every reason and its events");
  chk->add_option("SUBJECT", subject, "Phone number (any common format) or e-mail")->required();
  chk->add_option("--channel", channel_name,
                  "voice, sms, email or newsletter (default: voice for a number, email for an "
                  "address)");
  time_options(chk);
  chk->footer(
      "Example: tacet check '06 1234 5678' --channel voice --at '2026-09-15 23:59'\n"
      "Exit status 0 whatever the answer; the answer is allow, deny or needs_justification.");
  chk->callback([&] {
    json args = {{"subject", subject}};
    if (!channel_name.empty()) args["channel"] = channel_name;
    add_times(args);
    json r = c.Run("check", args);
    Print(c, r, DecisionText(r));
  });

  // filter
  std::string filter_file, rejected_csv;
  auto* fil = app.add_subcommand(
      "filter", "Sort a list of subjects by their answer on a channel: the allowed ones on stdout");
  fil->add_option("FILE", filter_file,
                  "One subject per line, or a CSV with a phone or e-mail column")
      ->required();
  fil->add_option("--channel", channel_name, "voice, sms, email or newsletter")->required();
  fil->add_option("--column", column, "CSV column holding the subjects (default: detect)");
  fil->add_option("--rejected", rejected_csv,
                  "Write the others, with their answer and reasons, to this CSV (default: stderr)");
  time_options(fil);
  fil->footer(
      "Example: tacet filter --channel newsletter subscribers.csv > send.txt\n"
      "stdout: the allowed subjects, canonical, one per line. The others (denied, needing a\n"
      "justification, invalid) go to stderr or --rejected. Counts on stderr at the end.");
  fil->callback([&] {
    if (!rejected_csv.empty() && std::filesystem::exists(rejected_csv))
      Fail(Status::AlreadyExists("'" + rejected_csv + "' already exists; choose another name"));
    json args = {{"channel", channel_name}};
    if (!column.empty()) args["column"] = column;
    add_times(args);
    c.AddFile(args, "path", filter_file, true);
    json r = c.Run("filter", args);
    if (c.g.json) {
      std::cout << ToJsonText(r, 2) << "\n";
      return;
    }
    std::string out;
    for (const auto& s : r["allowed"]) {
      out += s.get<std::string>();
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::string rej =
        rejected_csv.empty() ? "" : "line,input,subject,decision,reasons,evidence,detail\n";
    for (const auto& o : r["rejected"]) {
      if (!rejected_csv.empty()) {
        rej += Num(o, "line") + "," + Csv(Str(o, "input")) + "," + Csv(Str(o, "subject")) + "," +
               Str(o, "decision") + "," + Csv(Str(o, "reasons")) + "," + Csv(Str(o, "evidence")) +
               "," + Csv(Str(o, "detail")) + "\n";
      } else {
        std::string subj = Str(o, "subject"), codes = Str(o, "reasons");
        std::cerr << "line " << Num(o, "line") << ": " << (subj.empty() ? Str(o, "input") : subj)
                  << ": " << Str(o, "decision") << (codes.empty() ? "" : " (" + codes + ")") << ": "
                  << Str(o, "detail") << "\n";
      }
    }
    if (!rejected_csv.empty()) {
      std::FILE* f = std::fopen(rejected_csv.c_str(), "wx");
      if (f == nullptr || std::fwrite(rej.data(), 1, rej.size(), f) != rej.size() ||
          std::fclose(f) != 0)
        Fail(Status::IOError("cannot write '" + rejected_csv + "'"));
    }
    const json& n = r["counts"];
    std::cerr << "filter " << Str(r, "channel") << ": " << Num(n, "lines") << " read, "
              << Num(n, "allowed") << " allowed, " << Num(n, "denied") << " denied, "
              << Num(n, "needs_justification") << " need a justification, " << Num(n, "invalid")
              << " invalid, " << Num(n, "duplicates") << " duplicate\n";
  });

  // consent grant | revoke
  auto* con = app.add_subcommand("consent", "Record a consent given or withdrawn");
  con->require_subcommand(1);
  std::string type_code, given, evidence, reason;
  auto* grant = con->add_subcommand("grant", "Record a consent the subject gave");
  grant->add_option("SUBJECT", subject, "Phone number or e-mail")->required();
  grant->add_option("--type", type_code, "Consent type code (see 'tacet policy')")->required();
  grant->add_option("--given", given, "Day the person gave it (YYYY-MM-DD, not in the future)")
      ->required();
  grant->add_option("--evidence", evidence,
                    "How it was captured: channel, form or script version, recording id");
  grant->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  grant->footer(
      "Example: tacet consent grant mario.rossi@example.it --type email-marketing --given "
      "2026-09-01 "
      "--evidence 'web form v3, ip 192.0.2.1'");
  grant->callback([&] {
    json r = c.Run("consent_grant", {{"subject", subject},
                                     {"type", type_code},
                                     {"given", given},
                                     {"evidence", evidence},
                                     {"operator", c.g.operator_id}});
    Print(c, r,
          "seq " + Num(r, "seq") + ": consent " + type_code + " for " + Str(r, "subject") +
              ", given " + given + ", " +
              (r["valid_until"].is_null() ? std::string("no expiry")
                                          : "valid until " + Str(r, "valid_until_local")) +
              "\n");
  });
  auto* revoke = con->add_subcommand("revoke", "Record that the subject withdrew a consent");
  revoke->add_option("SUBJECT", subject, "Phone number or e-mail")->required();
  revoke->add_option("--type", type_code, "Consent type code")->required();
  revoke->add_option("--reason", reason, "Why, or how it was withdrawn");
  revoke->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  revoke->footer(
      "Example: tacet consent revoke +393471234567 --type phone-marketing --reason 'asked by "
      "phone'");
  revoke->callback([&] {
    json r = c.Run("consent_revoke", {{"subject", subject},
                                      {"type", type_code},
                                      {"reason", reason},
                                      {"operator", c.g.operator_id}});
    Print(c, r,
          "seq " + Num(r, "seq") + ": consent " + type_code + " of " + Str(r, "subject") +
              " revoked\n");
  });

  // block / unblock
  std::string channels_list, block_file, source = "request", officer;
  std::vector<std::string> unblock_sources;
  auto* blk = app.add_subcommand(
      "block", "Put a subject, or a whole list, on the internal do-not-call list");
  blk->add_option("SUBJECT", subject, "Phone number or e-mail");
  blk->add_option("--file", block_file, "Block every subject of this file, as one recorded batch");
  blk->add_option("--channels", channels_list, "voice,sms,email,newsletter (default: all)");
  blk->add_option("--reason", reason, "Why (recorded)")->required();
  blk->add_option("--source", source,
                  "request, call_outcome, robinson, crm_classifier or objection (default request)");
  blk->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  blk->footer(
      "Examples: tacet block 0612345678 --reason 'asked not to be called' --source call_outcome\n"
      "          tacet block --file robinson.txt --source robinson --reason 'Robinson list "
      "2026-11'");
  blk->callback([&] {
    if (subject.empty() == block_file.empty())
      Fail(Status::InvalidArgument("give either SUBJECT or --file FILE"));
    json args = {{"channels", channels_list.empty() ? "all" : channels_list},
                 {"reason", reason},
                 {"source", source},
                 {"operator", c.g.operator_id}};
    if (block_file.empty()) {
      args["subject"] = subject;
      json r = c.Run("block", args);
      Print(c, r, "seq " + Num(r, "seq") + ": " + Str(r, "subject") + " blocked\n");
      return;
    }
    c.AddFile(args, "path", block_file, true);
    json r = c.Run("block", args);
    r["file"] = block_file;
    std::string text = block_file + ": " + Num(r, "lines") + " lines, " + Num(r, "newly_blocked") +
                       " newly blocked, " + Num(r, "already_blocked") + " already blocked, " +
                       Num(r, "invalid") + " invalid, " + Num(r, "duplicates") + " duplicate\n";
    if (r["newly_blocked"].get<uint64_t>() > 0)
      text += "  events " + Num(r, "first_seq") + ".." + Num(r, "last_seq") + "\n";
    for (const auto& l : r["invalid_lines"]) text += "  invalid: " + l.get<std::string>() + "\n";
    Print(c, r, text);
  });
  auto* ublk = app.add_subcommand("unblock", "Lift a block (an officer's decision, recorded)");
  ublk->add_option("SUBJECT", subject, "Phone number or e-mail")->required();
  ublk->add_option("--channels", channels_list, "voice,sms,email,newsletter (default: all)");
  ublk->add_option("--reason", reason, "Why (recorded)")->required();
  ublk->add_option("--officer", officer, "The compliance officer lifting it (required)");
  ublk->add_option("--source", unblock_sources,
                   "Lift only the blocks of this source (repeatable; default: every source)");
  ublk->footer(
      "Examples: tacet unblock 0612345678 --source call_outcome --reason 'operator error' "
      "--officer m.bianchi\n"
      "          tacet unblock 0612345678 --reason 'customer asked to be called back' --officer "
      "m.bianchi   (every source's block)");
  ublk->callback([&] {
    json r = c.Run("unblock", {{"subject", subject},
                               {"channels", channels_list.empty() ? "all" : channels_list},
                               {"sources", unblock_sources},
                               {"reason", reason},
                               {"officer", officer},
                               {"operator", c.g.operator_id}});
    std::string text =
        "seq " + Num(r, "seq") + ": " + Str(r, "subject") + " unblocked by " + officer + "\n";
    for (const auto& b : r["lifted"]) {
      std::string chans;
      for (const auto& ch : b["channels"])
        chans += (chans.empty() ? "" : ", ") + ch.get<std::string>();
      text += "  lifted seq " + std::to_string(b["seq"].get<uint64_t>()) + " (source " +
              b["source"].get<std::string>() + ") on " + chans + "\n";
    }
    Print(c, r, text);
  });

  // justify
  auto* jus =
      app.add_subcommand("justify", "Record why an operator contacts a subject without consent");
  jus->add_option("SUBJECT", subject, "Phone number or e-mail")->required();
  jus->add_option("--channel", channel_name, "voice, sms or email")->required();
  jus->add_option("--reason", reason, "Reason code (see 'tacet policy')")->required();
  jus->add_option("--operator", c.g.operator_id, "The operator making the contact");
  jus->footer(
      "Example: tacet justify 0612345678 --channel voice --reason callback-requested --operator "
      "op17");
  jus->callback([&] {
    json r = c.Run("justify", {{"subject", subject},
                               {"channel", channel_name},
                               {"reason", reason},
                               {"operator", c.g.operator_id}});
    Print(c, {{"seq", r["seq"]}, {"subject", r["subject"]}, {"valid_until", r["valid_until"]}},
          "seq " + Num(r, "seq") + ": " + Str(r, "channel") + " contact with " + Str(r, "subject") +
              " justified (" + reason + ") until " + Str(r, "valid_until_local") + "\n");
  });

  // erase
  std::string erase_request;
  auto* era = app.add_subcommand(
      "erase", "Erase a subject's personal data (GDPR art. 17); it stays suppressed");
  era->add_option("SUBJECT", subject, "Phone number or e-mail")->required();
  era->add_option("--request", erase_request, "The erasure request's reference (recorded)")
      ->required();
  era->add_option("--officer", officer, "The compliance officer erasing it (required)");
  era->footer(
      "Example: tacet erase 0612345679 --request DPO-2026-118 --officer m.bianchi\n"
      "The subject's data key is destroyed: its evidence and reasons read as erased, every "
      "channel denies it,\nand exports leave it out. Upload files under exports/ that still "
      "list it are named; 'tacet exports prune'\nremoves those of answered sessions.");
  era->callback([&] {
    json r = c.Run("erase", {{"subject", subject},
                             {"request", erase_request},
                             {"officer", officer},
                             {"operator", c.g.operator_id}});
    std::string text = "seq " + Num(r, "seq") + ": " + Str(r, "subject") + " erased (request " +
                       erase_request + "); suppressed on every channel\n";
    if (!r["key_destroyed"].get<bool>()) text += "  it had no personal data recorded\n";
    for (const auto& f : r["export_files"])
      text += "  still listed in " + f.get<std::string>() +
              " (the registry's copy; remove it with 'tacet exports prune' once answered)\n";
    Print(c, r, text);
  });

  // exports
  std::string answered_before;
  auto* exps = app.add_subcommand("exports", "The upload files kept under exports/");
  exps->require_subcommand(1);
  auto* prune = exps->add_subcommand(
      "prune", "Remove the upload files of sessions answered before a day (their SHA-256 stays)");
  prune->add_option("--answered-before", answered_before, "YYYY-MM-DD")->required();
  prune->footer("Example: tacet exports prune --answered-before 2026-12-01");
  prune->callback([&] {
    json r = c.Run("exports_prune",
                   {{"answered_before", answered_before}, {"operator", c.g.operator_id}});
    std::string text = "removed " + std::to_string(r["removed"].size()) + " file(s), " +
                       Num(r, "bytes") + " bytes, of " + Num(r, "sessions") +
                       " session(s) answered before " + answered_before + "\n";
    for (const auto& f : r["removed"]) text += "  " + f.get<std::string>() + "\n";
    Print(c, r, text);
  });

  // policy
  auto* pol = app.add_subcommand("policy", "The consent types, reasons and channel rules in force");
  pol->add_option("--at", at, "In force at TIME (default now)");
  pol->footer(
      "Examples: tacet policy --at 2026-09-01\n"
      "          tacet policy apply --dry-run   (what 'policy apply' would record)");
  auto* pol_apply = pol->add_subcommand(
      "apply", "Record the config's policy in the ledger: print each difference, then record them");
  bool dry_run = false;
  pol_apply->add_flag("--dry-run", dry_run, "Print the differences; record nothing");
  pol_apply->footer(
      "Example: tacet --config config/tacet.toml policy apply\n"
      "Only 'init', 'policy apply' and tacetd (start, SIGHUP, reload) record the config's\n"
      "policy; other commands use the ledger's and warn when the config's differs. Through\n"
      "tacetd this asks it to reload its own configuration.");
  pol_apply->callback([&] {
    std::vector<std::string> changes;
    std::string verb = dry_run ? "would record" : "recorded";
    if (!dry_run && c.ConnectDaemon()) {
      json r = c.Run("reload", json::object());
      for (const auto& ch : r["policy_changes"]) changes.push_back(ch.get<std::string>());
      verb = "tacetd reloaded its configuration and recorded";
    } else if (dry_run) {
      c.Open(false, false, false, true);
      changes = c.ledger->policy_differences();
    } else {
      c.Open(true, false, false, true);
      changes = c.ledger->reconciled().changes;
    }
    std::string text;
    for (const auto& ch : changes) text += "  policy: " + ch + "\n";
    text += changes.empty() ? "the ledger's policy already matches the config; nothing recorded\n"
                            : verb + " " + std::to_string(changes.size()) + " change" +
                                  (changes.size() == 1 ? "" : "s") + "\n";
    Print(c, {{"policy_changes", changes}, {"recorded", !dry_run}}, text);
  });
  pol->callback([&] {
    if (pol_apply->parsed()) return;
    json args = json::object();
    if (!at.empty()) args["at"] = at;
    json r = c.Run("policy", args);
    std::string text = "consent types:\n";
    for (const auto& t : r["consent_types"]) {
      std::string u = Join(t["uses"], ",");
      uint64_t days = t["validity_days"].get<uint64_t>();
      text += "  " + Str(t, "code") + "  " + Str(t, "title") + "  (" +
              (days ? std::to_string(days) + " days" : std::string("no expiry")) + "; " + u +
              ") [seq " + Num(t, "seq") + "]\n";
    }
    if (r["consent_types"].empty()) text += "  (none)\n";
    text += "reasons for contact without consent:\n";
    for (const auto& x : r["reasons"])
      text += "  " + Str(x, "code") + "  " + Str(x, "title") + " [seq " + Num(x, "seq") + "]\n";
    if (r["reasons"].empty()) text += "  (none)\n";
    const json& ch = r["channels"];
    std::string rl = Join(ch["consent_required"], ", ");
    text += "channels: consent required for " + rl + "; a justification lasts " +
            Num(ch, "justification_minutes") + " minutes" +
            (ch["seq"].get<uint64_t>() ? " [seq " + Num(ch, "seq") + "]"
                                       : std::string(" (built-in default)")) +
            "\n";
    Print(c, r, text);
  });

  // sessions
  auto* ses =
      app.add_subcommand("sessions", "List export sessions with their state, counts and files");
  ses->footer("Example: tacet sessions --json");
  ses->callback([&] {
    json r = c.Run("sessions", json::object());
    std::string text;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-6s %-9s %-25s %-22s %9s %9s %9s\n", "ID", "STATE", "FILE",
                  "EXPORTED", "NUMBERS", "CLEARED", "LISTED");
    text += buf;
    for (const auto& s : r["sessions"]) {
      const json& rets = s["returns"];
      std::string cl = rets.empty() ? "-" : Num(rets.back(), "cleared");
      std::string li = rets.empty() ? "-" : Num(rets.back(), "listed");
      std::snprintf(buf, sizeof buf, "%-6s %-9s %-25s %-22s %9s %9s %9s\n", Num(s, "id").c_str(),
                    Str(s, "state").c_str(), Str(s, "file").c_str(),
                    Str(s, "exported_at_local").substr(0, 19).c_str(), Num(s, "numbers").c_str(),
                    cl.c_str(), li.c_str());
      text += buf;
    }
    Print(c, r["sessions"], text);
  });

  // history
  std::string format = "text";
  auto* his = app.add_subcommand(
      "history", "Every event about a subject, and the policy changes behind its answers");
  his->add_option("SUBJECT", subject, "Phone number or e-mail")->required();
  his->add_option("--format", format, "text, json or csv (default text; --json = json)")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  his->footer("Example: tacet history +390612345678 --format csv > history.csv");
  his->callback([&] {
    if (c.g.json) format = "json";
    json r = c.Run("history", {{"subject", subject}});
    const json& events = r["events"];
    if (format == "json") {
      std::cout << ToJsonText(events, 2) << "\n";
      return;
    }
    std::string text;
    if (format == "csv") text = "seq,recorded_at,type,os_user,operator,tool,hash,policy,summary\n";
    for (const auto& e : events) {
      const json& a = e["actor"];
      if (format == "csv") {
        text += Num(e, "seq") + "," + Str(e, "recorded_at") + "," + Str(e, "type") + "," +
                Csv(Str(a, "os_user")) + "," + Csv(Str(a, "operator")) + "," + Csv(Str(a, "tool")) +
                "," + Str(e, "hash") + "," + (e["policy"].get<bool>() ? "true" : "false") + "," +
                Csv(Str(e, "summary")) + "\n";
      } else {
        std::string op = Str(a, "operator");
        text += "seq " + Num(e, "seq") + "  " + Str(e, "recorded_at_local") + "  " +
                Str(a, "os_user") + (op.empty() ? "" : "/" + op) + " (" + Str(a, "tool") + ")  " +
                Str(e, "hash").substr(0, 12) + "  " + Str(e, "summary") + "\n";
      }
    }
    if (events.empty() && format == "text") text = "no events about " + Str(r, "subject") + "\n";
    std::cout << text;
  });

  // replay
  std::string replay_out;
  auto* rep =
      app.add_subcommand("replay", "Write a read-only copy of the ledger as it stood at a moment");
  rep->add_option("--as-known-at", known_at, "Copy the events recorded up to TIME")->required();
  rep->add_option("--out", replay_out, "Data directory of the copy (absent or empty)")->required();
  rep->footer(
      "Examples: tacet replay --as-known-at '2026-09-15 12:00' --out ./asof\n"
      "          tacet --data-dir ./asof check 0612345678   (--at defaults to that moment)");
  rep->callback([&] {
    c.Open(false);
    TimeMs k =
        known_at == "now" ? c.ledger->clock().NowMs() : Must(c.ledger->zone().Parse(known_at));
    ReplayReport r = Must(c.ledger->ReplayTo(replay_out, k));
    Print(c,
          {{"data_dir", r.data_dir},
           {"as_known_at", FormatUtc(r.known_at)},
           {"events", r.events},
           {"head_seq", r.head.seq},
           {"head_hash", ToHex(r.head.hash)},
           {"source_head_seq", r.source_head_seq}},
          "replayed " + std::to_string(r.events) + " of " + std::to_string(r.source_head_seq) +
              " events (recorded up to " + c.ledger->zone().Format(r.known_at) + ") into " +
              r.data_dir + "\n  head seq " + std::to_string(r.head.seq) + " hash " +
              ToHex(r.head.hash) + "\n  read-only; query it with --data-dir " + r.data_dir + "\n");
  });

  // rebuild
  auto* reb = app.add_subcommand(
      "rebuild", "Drop the projections, refold them from the log, compare digests before/after");
  reb->footer("Example: tacet rebuild\nExit status 1 when a rebuilt projection differs.");
  reb->callback([&] {
    if (c.ConnectDaemon())
      Fail(Status::FailedPrecondition("tacetd (pid " + std::to_string(c.client->peer_pid()) +
                                      ") serves this ledger; stop it before a rebuild"));
    c.Open(true, false, true);
    RebuildReport r = Must(c.ledger->Rebuild());
    json fams = json::array();
    std::string text = "rebuilt from " + std::to_string(r.events) + " events in " +
                       std::to_string(r.seconds).substr(0, 5) + " s (" +
                       std::to_string(static_cast<uint64_t>(
                           r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0)) +
                       " events/s)\n";
    for (const auto& f : r.families) {
      bool same = f.before.sha256 == f.after.sha256 && f.before.entries == f.after.entries;
      fams.push_back(
          {{"family", f.name},
           {"before", {{"sha256", ToHex(f.before.sha256)}, {"entries", f.before.entries}}},
           {"after", {{"sha256", ToHex(f.after.sha256)}, {"entries", f.after.entries}}},
           {"equal", same}});
      text += "  " + f.name + ": before " + Hex16(ToHex(f.before.sha256)) + " (" +
              std::to_string(f.before.entries) + "), after " + Hex16(ToHex(f.after.sha256)) + " (" +
              std::to_string(f.after.entries) + ") " + (same ? "equal" : "DIFFERENT") + "\n";
    }
    Print(c, {{"events", r.events}, {"seconds", r.seconds}, {"equal", r.equal}, {"families", fams}},
          text);
    if (!r.equal)
      Fail(
          Status::Corruption("the rebuilt projections differ from the incrementally maintained "
                             "ones; the rebuilt ones are now in place"));
  });

  // verify
  std::string proof_file, since_file, key_arg;
  auto* ver = app.add_subcommand(
      "verify",
      "Check the chain, the Merkle tree and every signed checkpoint; or a proof file; or that "
      "the log only grew since a checkpoint");
  ver->add_option("--proof", proof_file, "Check this proof file (from 'tacet proof') offline");
  ver->add_option("--since", since_file,
                  "Check that today's log extends this earlier checkpoint (a file)");
  ver->add_option("--key", key_arg,
                  "The ledger's public key: a file, or the key itself (from 'tacet key'); "
                  "required with --proof");
  ver->footer(
      "Examples: tacet verify\n"
      "          tacet verify --proof proof.json --key tacet.pub\n"
      "          tacet verify --since checkpoint-2026-11-01.txt");
  ver->callback([&] {
    auto read_file = [](const std::string& path) {
      std::ifstream in(path, std::ios::binary);
      if (!in) Fail(Status::InvalidArgument("cannot read '" + path + "'"));
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    auto verifier_of = [&](const std::string& arg) {
      std::string text = std::filesystem::exists(arg) ? read_file(arg) : arg;
      auto v = note::Verifier::Parse(text);
      if (!v.ok()) Fail(v.status().WithContext("--key " + arg));
      return std::move(v).value();
    };
    if (!proof_file.empty()) {
      if (key_arg.empty())
        Fail(
            Status::InvalidArgument("--proof needs --key: the public key you trust for this "
                                    "ledger ('tacet key' prints it)"));
      note::Verifier v = verifier_of(key_arg);
      auto check = VerifyProof(read_file(proof_file), v);
      if (!check.ok()) Fail(check.status().WithContext(proof_file));
      const note::Checkpoint& cp = check->checkpoint;
      std::string text = "ok: " + std::to_string(check->events.size()) + " event(s) " +
                         (check->subject.empty() ? "" : "about " + check->subject + " ") +
                         "are in the log '" + cp.origin + "' of " + std::to_string(cp.size) +
                         " events signed by " + v.name() + "\n";
      json events = json::array();
      for (const auto& pe : check->events) {
        // The sealed fields the file's data key opened: checked against the
        // ciphertext the proof covers.
        const Disclosed& d = pe.personal;
        const char* state = d.state == Disclosed::State::kOpen     ? "open"
                            : d.state == Disclosed::State::kErased ? "erased"
                            : d.state == Disclosed::State::kSealed ? "sealed"
                                                                   : "";
        std::string opened;
        if (d.state == Disclosed::State::kOpen && !d.fields.text.empty())
          opened = "  \"" + EscapeInvalidUtf8(d.fields.text) + "\"";
        else if (*state != 0 && d.state != Disclosed::State::kOpen)
          opened = std::string("  [") + state + "]";
        text += "  seq " + std::to_string(pe.event.seq) + "  " + FormatUtc(pe.event.recorded_at) +
                "  " + PayloadTypeName(pe.event.type) + opened + "\n";
        json ej = {{"seq", pe.event.seq}, {"type", PayloadTypeName(pe.event.type)}};
        if (*state != 0) ej["personal"] = state;
        if (d.state == Disclosed::State::kOpen) {
          ej["subject"] = EscapeInvalidUtf8(d.fields.subject);
          ej["text"] = EscapeInvalidUtf8(d.fields.text);
        }
        events.push_back(std::move(ej));
      }
      if (!check->pending.empty())
        text += "  not yet covered by this checkpoint: " + json(check->pending).dump() + "\n";
      Print(c,
            {{"ok", true},
             {"origin", cp.origin},
             {"size", cp.size},
             {"root", ToHex(cp.root)},
             {"events", events},
             {"pending", check->pending}},
            text);
      return;
    }
    if (!since_file.empty()) {
      const std::string old_note = read_file(since_file);
      json latest = c.Run("checkpoint", json::object());
      if (latest["key"].is_null() && key_arg.empty())
        Fail(Status::FailedPrecondition("the ledger has no checkpoint key; give --key"));
      note::Verifier v = verifier_of(key_arg.empty() ? latest["key"].get<std::string>() : key_arg);
      auto text = v.Open(old_note);
      if (!text.ok()) Fail(text.status().WithContext(since_file));
      auto old_cp = note::ParseCheckpoint(*text);
      if (!old_cp.ok()) Fail(old_cp.status().WithContext(since_file));
      json r = c.Run("consistency", {{"old_size", old_cp->size}});
      auto new_text = v.Open(r["checkpoint"].get<std::string>());
      if (!new_text.ok()) Fail(new_text.status().WithContext("the ledger's latest checkpoint"));
      note::Checkpoint new_cp = Must(note::ParseCheckpoint(*new_text));
      std::vector<Hash256> proof;
      for (const auto& h : r["proof"]) {
        auto x = HashFromBase64(h.get<std::string>());
        if (!x.ok()) Fail(x.status().WithContext("the consistency proof"));
        proof.push_back(*x);
      }
      if (old_cp->origin != new_cp.origin ||
          !merkle::VerifyConsistency(old_cp->size, new_cp.size, old_cp->root, new_cp.root, proof))
        Fail(Status::Corruption(
            "the ledger is NOT an extension of " + since_file + ": its first " +
            std::to_string(old_cp->size) +
            " events no longer hash to that checkpoint's root (the log was rewritten)"));
      // What was checked, so an auditor can check it again elsewhere: both
      // roots, the signed checkpoint of the new size and the proof.
      Print(c,
            {{"ok", true},
             {"old_size", old_cp->size},
             {"new_size", new_cp.size},
             {"origin", new_cp.origin},
             {"old_root", Base64Encode(AsBytes(old_cp->root))},
             {"new_root", Base64Encode(AsBytes(new_cp.root))},
             {"checkpoint", r["checkpoint"]},
             {"proof", r["proof"]}},
            "ok: the log of " + std::to_string(new_cp.size) + " events extends the checkpoint of " +
                std::to_string(old_cp->size) + " events in " + since_file +
                " (consistency proof of " + std::to_string(proof.size()) + " hashes, signed by " +
                v.name() + ")\n");
      return;
    }
    json r = c.Run("verify", json::object());
    if (!r["ok"].get<bool>()) {
      if (c.g.json) std::cout << ToJsonText(r, 2) << "\n";
      Fail(Status::Corruption("verify failed at seq " + Num(r, "first_bad_seq") + ": " +
                              Str(r, "problem")));
    }
    Print(c, r,
          "ok: " + Num(r, "events") + " events, head seq " + Num(r, "head_seq") + " hash " +
              Str(r, "head_hash") + "; Merkle tree and " + Num(r, "checkpoints") +
              " signed checkpoints match\n");
  });

  // key, checkpoint, proof
  auto* key = app.add_subcommand("key", "Print the ledger's public key (signed-note verifier key)");
  key->footer(
      "Example: tacet key > tacet.pub   (hand it to whoever checks proofs: tacet verify --proof "
      "... --key tacet.pub)");
  key->callback([&] {
    json r = c.Run("checkpoint", json::object());
    if (r["key"].is_null())
      Fail(
          Status::FailedPrecondition("the ledger has no checkpoint key yet (tacet init makes it)"));
    Print(c, {{"key", r["key"]}}, Str(r, "key") + "\n");
  });
  uint64_t cp_size = 0;
  auto* chp = app.add_subcommand("checkpoint", "Print the latest signed checkpoint");
  chp->add_option("--size", cp_size, "The checkpoint of exactly this many events");
  chp->footer("Example: tacet checkpoint > checkpoint-$(date +%F).txt");
  chp->callback([&] {
    json args = json::object();
    if (cp_size > 0) args["size"] = cp_size;
    json r = c.Run("checkpoint", args);
    if (r["checkpoint"].is_null())
      Fail(Status::FailedPrecondition("the ledger has no checkpoint yet"));
    Print(c, r, Str(r, "checkpoint"));
  });
  uint64_t proof_seq = 0;
  std::string proof_out;
  auto* prf = app.add_subcommand(
      "proof",
      "Write a self-contained proof that a subject's events (or one event) are in the log");
  prf->add_option("SUBJECT", subject, "Phone number or e-mail");
  prf->add_option("--seq", proof_seq, "Prove this one event instead");
  prf->add_option("--out", proof_out, "Write the proof here (default: stdout)");
  prf->footer(
      "Example: tacet proof +390612345678 --out proof.json\n"
      "The receiver checks it with: tacet verify --proof proof.json --key tacet.pub");
  prf->callback([&] {
    if (subject.empty() == (proof_seq == 0))
      Fail(Status::InvalidArgument("give SUBJECT or --seq N"));
    json args = json::object();
    if (!subject.empty()) args["subject"] = subject;
    if (proof_seq) args["seq"] = proof_seq;
    json r = c.Run("proof", args);
    std::string doc = ToJsonText(r, 2) + "\n";
    if (proof_out.empty()) {
      std::cout << doc;
      return;
    }
    if (std::filesystem::exists(proof_out))
      Fail(Status::AlreadyExists("'" + proof_out + "' already exists; choose another name"));
    std::ofstream out(proof_out, std::ios::binary);
    out << doc;
    if (!out.flush()) Fail(Status::IOError("cannot write '" + proof_out + "'"));
    std::cerr << "wrote " << proof_out << ": " << r["events"].size() << " event(s)"
              << (r["pending"].empty()
                      ? ""
                      : ", " + std::to_string(r["pending"].size()) + " newer than the checkpoint")
              << "\n";
  });

  // stats
  auto* sta = app.add_subcommand("stats", "tacetd's uptime, counts and latencies per operation");
  sta->footer("Example: tacet stats --json");
  sta->callback([&] {
    json r = c.Run("stats", json::object());
    std::string text = "head seq " + Num(r, "head_seq") + " in " + Str(r, "data_dir") + "\n";
    if (r.contains("uptime_seconds")) {
      text += "tacetd pid " + Num(r, "pid") + ", up " + Num(r, "uptime_seconds") + " s, " +
              Num(r, "connections") + " connections, " + Num(r, "subscribers") + " subscribers, " +
              Num(r, "committed_writes") + " writes in " + Num(r, "group_commits") +
              " group commits\n";
      char buf[256];
      std::snprintf(buf, sizeof buf, "  %-15s %10s %8s %10s %10s %10s\n", "OP", "COUNT", "ERRORS",
                    "P50 us", "P99 us", "P99.9 us");
      text += buf;
      for (auto it = r["ops"].begin(); it != r["ops"].end(); ++it) {
        const json& o = it.value();
        std::snprintf(buf, sizeof buf, "  %-15s %10s %8s %10.1f %10.1f %10.1f\n", it.key().c_str(),
                      Num(o, "count").c_str(), Num(o, "errors").c_str(), o["p50_us"].get<double>(),
                      o["p99_us"].get<double>(), o["p999_us"].get<double>());
        text += buf;
      }
    } else {
      text += "no daemon serves " + c.SocketPath() + "\n";
    }
    Print(c, r, text);
  });

  // Every argument is text the ledger may store or print: refused unless
  // it is UTF-8, naming the argument and the byte.
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (auto at = FirstInvalidUtf8(arg)) {
      std::string which = "argument " + std::to_string(i);
      if (arg.substr(0, 2) == "--")
        which += " (" + EscapeInvalidUtf8(arg.substr(0, arg.find('='))) + ")";
      else if (i > 1 && std::string_view(argv[i - 1]).substr(0, 2) == "--")
        which += " (the value of " + EscapeInvalidUtf8(argv[i - 1]) + ")";
      std::cerr << "tacet: " << which << " is not valid UTF-8: " << DescribeInvalidByte(arg, *at)
                << "\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // A reply or file this build did not expect: say so, never abort.
    std::cerr << "tacet: internal error: " << EscapeInvalidUtf8(e.what()) << "\n";
    return 70;
  }
  return 0;
}
