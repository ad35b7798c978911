// tacet: the compliance ledger's command-line tool. Opens the store directly
// (the embedded default). Exit status 0 on success; otherwise non-zero with a
// one-line reason on stderr. --json prints one JSON document on stdout.
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tacet/projections/config.h"
#include "tacet/projections/ledger.h"

namespace {

using json = nlohmann::json;
using namespace tacet;

struct Globals {
  std::string config_path;
  std::string data_dir;
  std::string operator_id;
  bool json = false;
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

  void Open(bool write, bool create = false) {
    config = Must(LoadConfig(g.config_path));
    LedgerOptions o = config.ledger;
    if (!g.data_dir.empty()) o.data_dir = g.data_dir;
    o.read_only = !write;
    o.create_if_missing = create;
    ledger = Must(Ledger::Open(o));
  }
  Actor MakeActor(const std::string& tool) const {
    return Actor{OsUser(), g.operator_id, "tacet " + tool};
  }
  TimeMs ParseAt(const std::string& at) const {
    if (at.empty() || at == "now") return ledger->clock().NowMs();
    return Must(ledger->zone().Parse(at));
  }
};

void Print(const Context& c, const json& j, const std::string& text) {
  if (c.g.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << text;
  }
}

std::string Hex16(const Hash256& h) { return ToHex(h).substr(0, 16); }

json CheckJson(const CheckAnswer& a, const TimeZone& z) {
  json j = {{"subject", a.subject.value},
            {"line_type", LineTypeName(a.subject.line_type)},
            {"channel", a.channel},
            {"at", FormatUtc(a.at)},
            {"decision", a.allow ? "allow" : "deny"},
            {"registry", a.registry},
            {"reason", RegistryStatusName(a.status)},
            {"decided_by", a.decided_by}};
  if (a.valid_until) {
    j["valid_until"] = FormatUtc(a.valid_until);
    j["valid_until_local"] = z.Format(a.valid_until);
  }
  if (a.session_id) {
    j["session"] = a.session_id;
    j["received"] = FormatDate(a.received_day);
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tacet: compliance ledger for outbound contact (RPO cycle, consents, do-not-call)"};
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted after the subcommand too
  Context c;
  app.add_option("--config", c.g.config_path,
                 "Config file (default: $TACET_CONFIG, else ./config/tacet.toml if present, else "
                 "built-in defaults)");
  app.add_option("--data-dir", c.g.data_dir, "Data directory (default from config: ./var)");
  app.add_flag("--json", c.g.json, "Print one JSON document instead of text");
  app.footer("Run 'tacet COMMAND --help' for a command's options and an example.");

  // init
  auto* init = app.add_subcommand("init", "Create an empty ledger in the data directory");
  init->footer("Example: tacet init --data-dir ./var");
  init->callback([&] {
    c.Open(true, true);
    Head h = c.ledger->log().head();
    Print(c, {{"data_dir", c.ledger->options().data_dir}, {"head_seq", h.seq}},
          "ledger ready in " + c.ledger->options().data_dir + " (head seq " +
              std::to_string(h.seq) + ")\n");
  });

  // export
  ExportRequest ex;
  uint32_t fresh = 0;
  auto* exp =
      app.add_subcommand("export", "Write the upload file of numbers to check with a registry");
  exp->add_option("--registry", ex.registry, "Registry (it-rpo)")->required();
  exp->add_option("--candidates", ex.candidates_path,
                  "File: one number per line, or a CSV with a phone column")
      ->required();
  exp->add_option("--column", ex.column,
                  "CSV column holding the numbers (default: detect phone/telefono/numero...)");
  exp->add_option("--limit", ex.limit,
                  "At most N numbers (soonest-expiring first, then never-checked)");
  auto* fresh_opt = exp->add_option("--fresh-days", fresh,
                                    "Leave out clearances valid for more than D days (default 3)");
  exp->add_option("--out", ex.out_dir, "Output directory (default: <data-dir>/exports)");
  exp->add_option("--operator", c.g.operator_id, "Operator id recorded with the session");
  exp->footer("Example: tacet export --registry it-rpo --candidates numbers.csv --limit 50000");
  exp->callback([&] {
    c.Open(true);
    if (*fresh_opt) ex.fresh_days = fresh;
    ExportReport r = Must(c.ledger->Export(ex, c.MakeActor("export")));
    json files = json::array();
    std::string text;
    for (auto& f : r.files) {
      files.push_back({{"session", f.session_id},
                       {"file", f.txt_path},
                       {"sha256", ToHex(f.txt_sha256)},
                       {"zip", f.zip_path},
                       {"zip_sha256", ToHex(f.zip_sha256)},
                       {"numbers", f.numbers}});
      text += "session " + std::to_string(f.session_id) + ": " + f.txt_path + " (" +
              std::to_string(f.numbers) + " numbers, sha256 " + ToHex(f.txt_sha256) +
              ")\n  upload: " + f.zip_path + "\n";
    }
    json left = {{"invalid", r.invalid},           {"duplicate", r.duplicates},
                 {"out_of_scope", r.out_of_scope}, {"blocked", r.blocked},
                 {"known_listed", r.known_listed}, {"fresh", r.fresh},
                 {"over_limit", r.over_limit}};
    json j = {{"candidates", r.lines},
              {"exported", r.exported},
              {"left_out", left},
              {"sessions", files},
              {"invalid_samples", r.invalid_samples}};
    text = "read " + std::to_string(r.lines) + " candidates, exported " +
           std::to_string(r.exported) + "\n" + text;
    text += "left out: " + std::to_string(r.invalid) + " invalid, " + std::to_string(r.duplicates) +
            " duplicate, " + std::to_string(r.out_of_scope) + " outside the registry's scope, " +
            std::to_string(r.blocked) + " internally blocked, " + std::to_string(r.known_listed) +
            " known listed, " + std::to_string(r.fresh) + " still fresh, " +
            std::to_string(r.over_limit) + " over the limit\n";
    for (auto& s : r.invalid_samples) text += "  invalid: " + s + "\n";
    if (r.files.empty()) text += "nothing to export; no session recorded\n";
    Print(c, j, text);
  });

  // import-return
  ImportRequest im;
  auto* imp =
      app.add_subcommand("import-return", "Import a registry's return for an export session");
  imp->add_option("--session", im.session_id, "The export session this file answers")->required();
  imp->add_option("--received", im.received, "Date the return was received (YYYY-MM-DD)")
      ->required();
  imp->add_flag("--supersede", im.supersede, "Replace the session's earlier return");
  imp->add_option("--operator", c.g.operator_id, "Operator id recorded with the import");
  imp->add_option("FILE", im.path, "The returned .txt, or a .zip holding it")->required();
  imp->footer(
      "Example: tacet import-return --session 3 --received 2026-09-01 crm20260831101500_ret.txt");
  imp->callback([&] {
    c.Open(true);
    ImportReport r = Must(c.ledger->ImportReturn(im, c.MakeActor("import-return")));
    const auto& z = c.ledger->zone();
    json j = {{"session", r.session_id},
              {"file", r.file_name},
              {"sha256", ToHex(r.file_sha256)},
              {"layout", r.layout == ReturnLayout::kStatus ? "status" : "filtered"},
              {"received", FormatDate(r.received_day)},
              {"lines", r.lines},
              {"cleared", r.cleared},
              {"listed", r.listed},
              {"valid_until", FormatUtc(r.valid_until)},
              {"first_seq", r.first_seq},
              {"last_seq", r.last_seq}};
    Print(c, j,
          "session " + std::to_string(r.session_id) + ": imported " + r.file_name + " (sha256 " +
              Hex16(r.file_sha256) + "..., " +
              (r.layout == ReturnLayout::kStatus ? "status" : "filtered") + " layout)\n" +
              "  cleared " + std::to_string(r.cleared) + " (callable until " +
              z.Format(r.valid_until) + "), listed " + std::to_string(r.listed) + "\n  events " +
              std::to_string(r.first_seq) + ".." + std::to_string(r.last_seq) + "\n");
  });

  // check
  std::string subject, at;
  auto* chk =
      app.add_subcommand("check", "May this number be called? (voice channel, registry rules)");
  chk->add_option("SUBJECT", subject, "Phone number (any common format) or e-mail")->required();
  chk->add_option("--at", at,
                  "Evaluate at TIME (YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM], local zone; default now)");
  chk->footer(
      "Example: tacet check '06 1234 5678' --at '2026-09-15 23:59'\nExit status 0 whether allowed "
      "or denied.");
  chk->callback([&] {
    c.Open(false);
    CheckAnswer a = Must(c.ledger->Check(subject, c.ParseAt(at)));
    const auto& z = c.ledger->zone();
    std::string text = a.subject.value + " (" + LineTypeName(a.subject.line_type) + ") voice at " +
                       z.Format(a.at) + ": " + (a.allow ? "ALLOW" : "DENY") + " " +
                       RegistryStatusName(a.status);
    if (a.valid_until)
      text += std::string(a.allow ? ", valid until " : ", expired at ") + z.Format(a.valid_until);
    if (!a.decided_by.empty())
      text += " [seq " + std::to_string(a.decided_by[0]) + ", session " +
              std::to_string(a.session_id) + "]";
    Print(c, CheckJson(a, z), text + "\n");
  });

  // sessions
  auto* ses =
      app.add_subcommand("sessions", "List export sessions with their state, counts and files");
  ses->footer("Example: tacet sessions --json");
  ses->callback([&] {
    c.Open(false);
    auto list = Must(c.ledger->Sessions());
    const auto& z = c.ledger->zone();
    json arr = json::array();
    std::string text;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-6s %-9s %-25s %-22s %9s %9s %9s\n", "ID", "STATE", "FILE",
                  "EXPORTED", "NUMBERS", "CLEARED", "LISTED");
    text += buf;
    for (auto& s : list) {
      const auto& r = s.record;
      uint64_t cl = r.returns.empty() ? 0 : r.returns.back().cleared;
      uint64_t li = r.returns.empty() ? 0 : r.returns.back().listed;
      json js = {{"id", r.id},
                 {"state", SessionStateName(s.state)},
                 {"registry", r.registry},
                 {"file", r.file_name},
                 {"sha256", ToHex(r.file_sha256)},
                 {"zip", r.zip_name},
                 {"exported_at", FormatUtc(r.opened_at)},
                 {"numbers", r.number_count},
                 {"seq", r.opened_seq}};
      json rets = json::array();
      for (auto& ret : r.returns)
        rets.push_back({{"seq", ret.seq},
                        {"file", ret.file_name},
                        {"sha256", ToHex(ret.file_sha256)},
                        {"received", FormatDate(ret.received_day)},
                        {"cleared", ret.cleared},
                        {"listed", ret.listed}});
      js["returns"] = rets;
      arr.push_back(js);
      std::snprintf(buf, sizeof buf, "%-6llu %-9s %-25s %-22s %9llu %9s %9s\n",
                    static_cast<unsigned long long>(r.id), SessionStateName(s.state),
                    r.file_name.c_str(), z.Format(r.opened_at).substr(0, 19).c_str(),
                    static_cast<unsigned long long>(r.number_count),
                    r.returns.empty() ? "-" : std::to_string(cl).c_str(),
                    r.returns.empty() ? "-" : std::to_string(li).c_str());
      text += buf;
    }
    Print(c, arr, text);
  });

  // history
  std::string hsubject;
  auto* his = app.add_subcommand("history", "Every event about a subject, oldest first");
  his->add_option("SUBJECT", hsubject, "Phone number or e-mail")->required();
  his->footer("Example: tacet history +390612345678");
  his->callback([&] {
    c.Open(false);
    auto items = Must(c.ledger->History(hsubject));
    const auto& z = c.ledger->zone();
    json arr = json::array();
    std::string text;
    for (auto& it : items) {
      const Event& e = it.event;
      std::string desc = DescribeEvent(e, it.payload, z);
      arr.push_back({{"seq", e.seq},
                     {"recorded_at", FormatUtc(e.recorded_at)},
                     {"type", PayloadTypeName(e.type)},
                     {"actor",
                      {{"os_user", e.actor.os_user},
                       {"operator", e.actor.operator_id},
                       {"tool", e.actor.tool}}},
                     {"hash", ToHex(e.hash)},
                     {"summary", desc}});
      text += "seq " + std::to_string(e.seq) + "  " + z.Format(e.recorded_at) + "  " +
              e.actor.os_user + (e.actor.operator_id.empty() ? "" : "/" + e.actor.operator_id) +
              " (" + e.actor.tool + ")  " + Hex16(e.hash).substr(0, 12) + "  " + desc + "\n";
    }
    if (items.empty())
      text = "no events about " + Must(c.ledger->ParseSubject(hsubject)).value + "\n";
    Print(c, arr, text);
  });

  // verify
  auto* ver =
      app.add_subcommand("verify", "Walk the whole hash chain; name the first bad sequence number");
  ver->footer("Example: tacet verify");
  ver->callback([&] {
    c.Open(false);
    VerifyReport r = c.ledger->Verify();
    if (!r.ok) {
      if (c.g.json)
        std::cout << json{{"ok", false}, {"first_bad_seq", r.first_bad_seq}, {"problem", r.problem}}
                         .dump(2)
                  << "\n";
      Fail(Status::Corruption("verify failed at seq " + std::to_string(r.first_bad_seq) + ": " +
                              r.problem));
    }
    Print(c,
          {{"ok", true},
           {"events", r.events},
           {"head_seq", r.head.seq},
           {"head_hash", ToHex(r.head.hash)}},
          "ok: " + std::to_string(r.events) + " events, head seq " + std::to_string(r.head.seq) +
              " hash " + ToHex(r.head.hash) + "\n");
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
