// tacet: the compliance ledger's command-line tool. Opens the store directly
// (the embedded default). Exit status 0 on success; otherwise non-zero with a
// one-line reason on stderr. --json prints one JSON document on stdout.
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
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

  void Open(bool write, bool create = false, bool repair = false) {
    config = Must(LoadConfig(g.config_path));
    LedgerOptions o = config.ledger;
    if (!g.data_dir.empty()) o.data_dir = g.data_dir;
    o.read_only = !write;
    o.create_if_missing = create;
    o.repair = repair;
    o.policy_actor =
        Actor{OsUser(), "", "tacet config" + (config.source.empty() ? "" : " " + config.source)};
    ledger = Must(Ledger::Open(o));
    const PolicyReconcileReport& rec = ledger->reconciled();
    if (rec.appended > 0 && !create) {
      std::cerr << "tacet: policy reconciled with "
                << (config.source.empty() ? "the built-in defaults" : config.source) << ": ";
      for (size_t i = 0; i < rec.changes.size(); ++i)
        std::cerr << (i ? "; " : "") << rec.changes[i];
      std::cerr << "\n";
    }
  }
  Actor MakeActor(const std::string& tool) const {
    return Actor{OsUser(), g.operator_id, "tacet " + tool};
  }
  // --at: default now, or the moment a replayed copy stands at.
  TimeMs ParseAt(const std::string& at) const {
    if (at.empty() && ledger->replayed_as_known_at()) return *ledger->replayed_as_known_at();
    if (at.empty() || at == "now") return ledger->clock().NowMs();
    return Must(ledger->zone().Parse(at));
  }
  // --as-known-at: default everything recorded.
  TimeMs ParseKnownAt(const std::string& k) const {
    if (k.empty()) return kKnownNow;
    if (k == "now") return ledger->clock().NowMs();
    return Must(ledger->zone().Parse(k));
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

// "voice,sms"; empty or "all": every channel.
ChannelMask ParseChannels(const std::string& list) {
  if (list.empty() || list == "all") return kEveryChannel;
  ChannelMask m = 0;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    m |= MaskOf(Must(ParseChannel(list.substr(pos, end - pos))));
    pos = end + 1;
  }
  return m;
}

json ReasonsJson(const Decision& d) {
  json reasons = json::array();
  for (const auto& r : d.reasons)
    reasons.push_back({{"code", r.code}, {"detail", r.detail}, {"seqs", r.seqs}});
  return reasons;
}

json DecisionJson(const DecisionAnswer& a, const TimeZone& z) {
  const Decision& d = a.decision;
  json j = {{"subject", a.subject.value}, {"channel", ChannelName(a.channel)},
            {"at", FormatUtc(a.at)},      {"decision", VerdictName(d.verdict)},
            {"reasons", ReasonsJson(d)},  {"evidence", d.evidence}};
  if (a.subject.kind == SubjectKind::kPhone) j["line_type"] = LineTypeName(a.subject.line_type);
  if (a.known_at != kKnownNow) j["as_known_at"] = FormatUtc(a.known_at);
  if (d.valid_until) {
    j["valid_until"] = FormatUtc(d.valid_until);
    j["valid_until_local"] = z.Format(d.valid_until);
  } else {
    j["valid_until"] = nullptr;
  }
  if (d.verdict == Verdict::kNeedsJustification) j["allowed_reasons"] = d.allowed_reasons;
  return j;
}

std::string SeqList(const std::vector<uint64_t>& seqs) {
  std::string out;
  for (uint64_t s : seqs) out += (out.empty() ? "seq " : ", ") + std::to_string(s);
  return out;
}

std::string DecisionText(const DecisionAnswer& a, const TimeZone& z) {
  const Decision& d = a.decision;
  std::string verdict = VerdictName(d.verdict);
  for (char& ch : verdict) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string text = a.subject.value;
  if (a.subject.kind == SubjectKind::kPhone)
    text += " (" + std::string(LineTypeName(a.subject.line_type)) + ")";
  text += std::string(" ") + ChannelName(a.channel) + " at " + z.Format(a.at);
  if (a.known_at != kKnownNow) text += " as known at " + z.Format(a.known_at);
  text += ": " + verdict;
  text += d.valid_until ? " until " + z.Format(d.valid_until) : std::string(" (no change ahead)");
  text += "\n";
  for (const auto& r : d.reasons) {
    text += "  " + r.code + ": " + r.detail;
    if (!r.seqs.empty()) text += " [" + SeqList(r.seqs) + "]";
    text += "\n";
  }
  if (d.verdict == Verdict::kNeedsJustification) {
    std::string list;
    for (const auto& code : d.allowed_reasons) list += (list.empty() ? "" : ", ") + code;
    text += "  record one with: tacet justify " + a.subject.value + " --channel " +
            ChannelName(a.channel) +
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

  // Every query's time options.
  std::string at, known_at;
  auto time_options = [&](CLI::App* cmd) {
    cmd->add_option(
        "--at", at,
        "Evaluate at TIME (YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM], local zone; default now)");
    cmd->add_option("--as-known-at", known_at,
                    "Use only the events recorded up to TIME (default: everything recorded)");
  };

  // check
  std::string subject, channel_name = "voice";
  auto* chk = app.add_subcommand(
      "check",
      "May this subject be contacted on a channel? The answer, every reason and its events");
  chk->add_option("SUBJECT", subject, "Phone number (any common format) or e-mail")->required();
  chk->add_option("--channel", channel_name, "voice, sms, email or newsletter (default voice)");
  time_options(chk);
  chk->footer(
      "Example: tacet check '06 1234 5678' --channel voice --at '2026-09-15 23:59'\n"
      "Exit status 0 whatever the answer; the answer is allow, deny or needs_justification.");
  chk->callback([&] {
    c.Open(false);
    Channel ch = Must(ParseChannel(channel_name));
    DecisionAnswer a = Must(c.ledger->Decide(subject, ch, c.ParseAt(at), c.ParseKnownAt(known_at)));
    Print(c, DecisionJson(a, c.ledger->zone()), DecisionText(a, c.ledger->zone()));
  });

  // filter
  FilterRequest fr;
  std::string rejected_csv;
  auto* fil = app.add_subcommand(
      "filter", "Sort a list of subjects by their answer on a channel: the allowed ones on stdout");
  fil->add_option("FILE", fr.path, "One subject per line, or a CSV with a phone or e-mail column")
      ->required();
  fil->add_option("--channel", channel_name, "voice, sms, email or newsletter")->required();
  fil->add_option("--column", fr.column, "CSV column holding the subjects (default: detect)");
  fil->add_option("--rejected", rejected_csv,
                  "Write the others, with their answer and reasons, to this CSV (default: stderr)");
  time_options(fil);
  fil->footer(
      "Example: tacet filter --channel newsletter subscribers.csv > send.txt\n"
      "stdout: the allowed subjects, canonical, one per line. The others (denied, needing a\n"
      "justification, invalid) go to stderr or --rejected. Counts on stderr at the end.");
  fil->callback([&] {
    c.Open(false);
    fr.channel = Must(ParseChannel(channel_name));
    fr.at = c.ParseAt(at);
    fr.known_at = c.ParseKnownAt(known_at);
    std::FILE* rej = nullptr;
    if (!rejected_csv.empty()) {
      if (std::filesystem::exists(rejected_csv))
        Fail(Status::AlreadyExists("'" + rejected_csv + "' already exists; choose another name"));
      rej = std::fopen(rejected_csv.c_str(), "wx");
      if (rej == nullptr) Fail(Status::IOError("cannot create '" + rejected_csv + "'"));
      std::fputs("line,input,subject,decision,reasons,evidence,detail\n", rej);
    }
    json allowed = json::array(), others = json::array();
    std::string out;
    auto reject = [&](uint64_t line, const std::string& input, const std::string& subj,
                      const std::string& verdict, const std::string& codes,
                      const std::string& evidence, const std::string& detail) {
      if (c.g.json) {
        others.push_back({{"line", line},
                          {"input", input},
                          {"subject", subj},
                          {"decision", verdict},
                          {"reasons", codes},
                          {"evidence", evidence},
                          {"detail", detail}});
      } else if (rej != nullptr) {
        std::string row = std::to_string(line) + "," + Csv(input) + "," + Csv(subj) + "," +
                          verdict + "," + Csv(codes) + "," + Csv(evidence) + "," + Csv(detail) +
                          "\n";
        std::fputs(row.c_str(), rej);
      } else {
        std::cerr << "line " << line << ": " << (subj.empty() ? input : subj) << ": " << verdict
                  << (codes.empty() ? "" : " (" + codes + ")") << ": " << detail << "\n";
      }
    };
    FilterReport r = Must(c.ledger->Filter(fr, [&](const FilterItem& it) {
      if (it.answer == nullptr) {
        reject(it.line, it.input, "", "invalid", "", "", it.error);
        return;
      }
      const Decision& d = it.answer->decision;
      if (d.verdict == Verdict::kAllow) {
        if (c.g.json) {
          allowed.push_back(it.answer->subject.value);
        } else {
          out += it.answer->subject.value;
          out += '\n';
          if (out.size() > (1 << 16)) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            out.clear();
          }
        }
        return;
      }
      std::string codes, details, evidence;
      for (const auto& rs : d.reasons) {
        codes += (codes.empty() ? "" : ";") + rs.code;
        details += (details.empty() ? "" : "; ") + rs.detail;
      }
      for (uint64_t e : d.evidence) evidence += (evidence.empty() ? "" : ";") + std::to_string(e);
      reject(it.line, it.input, it.answer->subject.value, VerdictName(d.verdict), codes, evidence,
             details);
    }));
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (rej != nullptr && std::fclose(rej) != 0)
      Fail(Status::IOError("cannot write '" + rejected_csv + "'"));
    json counts = {{"lines", r.lines},     {"allowed", r.allowed},
                   {"denied", r.denied},   {"needs_justification", r.needs_justification},
                   {"invalid", r.invalid}, {"duplicates", r.duplicates}};
    if (c.g.json) {
      std::cout << json{{"channel", ChannelName(fr.channel)},
                        {"at", FormatUtc(fr.at)},
                        {"counts", counts},
                        {"allowed", allowed},
                        {"rejected", others}}
                       .dump(2)
                << "\n";
    } else {
      std::cerr << "filter " << ChannelName(fr.channel) << ": " << r.lines << " read, " << r.allowed
                << " allowed, " << r.denied << " denied, " << r.needs_justification
                << " need a justification, " << r.invalid << " invalid, " << r.duplicates
                << " duplicate\n";
    }
  });

  // consent grant | revoke
  auto* con = app.add_subcommand("consent", "Record a consent given or withdrawn");
  con->require_subcommand(1);
  ConsentRequest cr;
  auto* grant = con->add_subcommand("grant", "Record a consent the subject gave");
  grant->add_option("SUBJECT", cr.subject, "Phone number or e-mail")->required();
  grant->add_option("--type", cr.type_code, "Consent type code (see 'tacet policy')")->required();
  grant->add_option("--given", cr.given, "Day the person gave it (YYYY-MM-DD, not in the future)")
      ->required();
  grant->add_option("--evidence", cr.evidence,
                    "How it was captured: channel, form or script version, recording id");
  grant->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  grant->footer(
      "Example: tacet consent grant mario.rossi@example.it --type marketing --given 2026-09-01 "
      "--evidence 'web form v3, ip 192.0.2.1'");
  grant->callback([&] {
    c.Open(true);
    Recorded r = Must(c.ledger->GrantConsent(cr, c.MakeActor("consent grant")));
    const auto& z = c.ledger->zone();
    Print(c,
          {{"seq", r.seq},
           {"subject", r.subject},
           {"type", cr.type_code},
           {"valid_until", r.valid_until ? json(FormatUtc(r.valid_until)) : json(nullptr)}},
          "seq " + std::to_string(r.seq) + ": consent " + cr.type_code + " for " + r.subject +
              ", given " + cr.given + ", " +
              (r.valid_until ? "valid until " + z.Format(r.valid_until) : "no expiry") + "\n");
  });
  std::string revoke_reason;
  auto* revoke = con->add_subcommand("revoke", "Record that the subject withdrew a consent");
  revoke->add_option("SUBJECT", cr.subject, "Phone number or e-mail")->required();
  revoke->add_option("--type", cr.type_code, "Consent type code")->required();
  revoke->add_option("--reason", revoke_reason, "Why, or how it was withdrawn");
  revoke->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  revoke->footer(
      "Example: tacet consent revoke +393471234567 --type marketing --reason 'asked by phone'");
  revoke->callback([&] {
    c.Open(true);
    Recorded r = Must(c.ledger->RevokeConsent(cr.subject, cr.type_code, revoke_reason,
                                              c.MakeActor("consent revoke")));
    Print(c, {{"seq", r.seq}, {"subject", r.subject}, {"type", cr.type_code}},
          "seq " + std::to_string(r.seq) + ": consent " + cr.type_code + " of " + r.subject +
              " revoked\n");
  });

  // block / unblock
  BlockRequest br;
  std::string channels_list, block_file;
  auto* blk = app.add_subcommand(
      "block", "Put a subject, or a whole list, on the internal do-not-call list");
  blk->add_option("SUBJECT", br.subject, "Phone number or e-mail");
  blk->add_option("--file", block_file, "Block every subject of this file, as one recorded batch");
  blk->add_option("--channels", channels_list, "voice,sms,email,newsletter (default: all)");
  blk->add_option("--reason", br.reason, "Why (recorded)")->required();
  blk->add_option("--source", br.source,
                  "request, call_outcome, robinson, crm_classifier or objection (default request)");
  blk->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  blk->footer(
      "Examples: tacet block 0612345678 --reason 'asked not to be called' --source call_outcome\n"
      "          tacet block --file robinson.txt --source robinson --reason 'Robinson list "
      "2026-11'");
  blk->callback([&] {
    if (br.subject.empty() == block_file.empty())
      Fail(Status::InvalidArgument("give either SUBJECT or --file FILE"));
    br.channels = ParseChannels(channels_list);
    c.Open(true);
    if (!block_file.empty()) {
      BlockFileReport r = Must(c.ledger->BlockFile(block_file, br, c.MakeActor("block")));
      std::string text = block_file + ": " + std::to_string(r.lines) + " lines, " +
                         std::to_string(r.newly) + " newly blocked, " + std::to_string(r.already) +
                         " already blocked, " + std::to_string(r.invalid) + " invalid, " +
                         std::to_string(r.duplicates) + " duplicate\n";
      if (r.newly)
        text +=
            "  events " + std::to_string(r.first_seq) + ".." + std::to_string(r.last_seq) + "\n";
      for (const auto& l : r.invalid_lines) text += "  invalid: " + l + "\n";
      Print(c,
            {{"file", block_file},
             {"lines", r.lines},
             {"newly_blocked", r.newly},
             {"already_blocked", r.already},
             {"invalid", r.invalid},
             {"duplicates", r.duplicates},
             {"invalid_lines", r.invalid_lines},
             {"first_seq", r.first_seq},
             {"last_seq", r.last_seq}},
            text);
      return;
    }
    Recorded r = Must(c.ledger->Block(br, c.MakeActor("block")));
    Print(c, {{"seq", r.seq}, {"subject", r.subject}},
          "seq " + std::to_string(r.seq) + ": " + r.subject + " blocked\n");
  });
  UnblockRequest ur;
  auto* ublk = app.add_subcommand("unblock", "Lift a block (an officer's decision, recorded)");
  ublk->add_option("SUBJECT", ur.subject, "Phone number or e-mail")->required();
  ublk->add_option("--channels", channels_list, "voice,sms,email,newsletter (default: all)");
  ublk->add_option("--reason", ur.reason, "Why (recorded)")->required();
  ublk->add_option("--officer", ur.officer, "The compliance officer lifting it (required)");
  ublk->footer(
      "Example: tacet unblock 0612345678 --reason 'customer asked to be called back' --officer "
      "m.bianchi");
  ublk->callback([&] {
    ur.channels = ParseChannels(channels_list);
    c.Open(true);
    Recorded r = Must(c.ledger->Unblock(ur, c.MakeActor("unblock")));
    Print(c, {{"seq", r.seq}, {"subject", r.subject}},
          "seq " + std::to_string(r.seq) + ": " + r.subject + " unblocked by " + ur.officer + "\n");
  });

  // justify
  JustifyRequest jr;
  auto* jus =
      app.add_subcommand("justify", "Record why an operator contacts a subject without consent");
  jus->add_option("SUBJECT", jr.subject, "Phone number or e-mail")->required();
  jus->add_option("--channel", channel_name, "voice, sms or email")->required();
  jus->add_option("--reason", jr.reason_code, "Reason code (see 'tacet policy')")->required();
  jus->add_option("--operator", jr.operator_id, "The operator making the contact");
  jus->footer(
      "Example: tacet justify 0612345678 --channel voice --reason callback-requested --operator "
      "op17");
  jus->callback([&] {
    jr.channel = Must(ParseChannel(channel_name));
    c.g.operator_id = jr.operator_id;
    c.Open(true);
    Recorded r = Must(c.ledger->Justify(jr, c.MakeActor("justify")));
    Print(c, {{"seq", r.seq}, {"subject", r.subject}, {"valid_until", FormatUtc(r.valid_until)}},
          "seq " + std::to_string(r.seq) + ": " + ChannelName(jr.channel) + " contact with " +
              r.subject + " justified (" + jr.reason_code + ") until " +
              c.ledger->zone().Format(r.valid_until) + "\n");
  });

  // policy
  auto* pol = app.add_subcommand("policy", "The consent types, reasons and channel rules in force");
  pol->add_option("--at", at, "In force at TIME (default now)");
  pol->footer("Example: tacet policy --at 2026-09-01");
  pol->callback([&] {
    c.Open(false);
    PolicyView v = c.ledger->Policy(c.ParseAt(at));
    json types = json::array(), reasons = json::array();
    std::string text = "consent types:\n";
    for (const auto& [code, t] : v.consent_types) {
      std::vector<std::string> uses;
      if (t.value.uses & kUseNewsletter) uses.push_back("newsletter");
      if (t.value.uses & kUseEmail) uses.push_back("email");
      if (t.value.uses & kUsePhone) uses.push_back("phone");
      std::string u;
      for (auto& x : uses) u += (u.empty() ? "" : ",") + x;
      types.push_back({{"code", code},
                       {"title", t.value.title},
                       {"description", t.value.description},
                       {"validity_days", t.value.validity_days},
                       {"uses", uses},
                       {"seq", t.seq}});
      text += "  " + code + "  " + t.value.title + "  (" +
              (t.value.validity_days ? std::to_string(t.value.validity_days) + " days"
                                     : std::string("no expiry")) +
              "; " + u + ") [seq " + std::to_string(t.seq) + "]\n";
    }
    if (v.consent_types.empty()) text += "  (none)\n";
    text += "reasons for contact without consent:\n";
    for (const auto& [code, r] : v.reasons) {
      reasons.push_back({{"code", code}, {"title", r.value.title}, {"seq", r.seq}});
      text += "  " + code + "  " + r.value.title + " [seq " + std::to_string(r.seq) + "]\n";
    }
    if (v.reasons.empty()) text += "  (none)\n";
    std::vector<std::string> req;
    for (Channel ch : kAllChannels)
      if (v.channel_policy.value.consent_required & MaskOf(ch)) req.push_back(ChannelName(ch));
    std::string rl;
    for (auto& x : req) rl += (rl.empty() ? "" : ", ") + x;
    text += "channels: consent required for " + rl + "; a justification lasts " +
            std::to_string(v.channel_policy.value.justification_minutes) + " minutes" +
            (v.channel_policy.seq ? " [seq " + std::to_string(v.channel_policy.seq) + "]"
                                  : std::string(" (built-in default)")) +
            "\n";
    Print(c,
          {{"consent_types", types},
           {"reasons", reasons},
           {"channels",
            {{"consent_required", req},
             {"justification_minutes", v.channel_policy.value.justification_minutes},
             {"seq", v.channel_policy.seq}}}},
          text);
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
  std::string hsubject, format = "text";
  auto* his = app.add_subcommand(
      "history", "Every event about a subject, and the policy changes behind its answers");
  his->add_option("SUBJECT", hsubject, "Phone number or e-mail")->required();
  his->add_option("--format", format, "text, json or csv (default text; --json = json)")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  his->footer("Example: tacet history +390612345678 --format csv > history.csv");
  his->callback([&] {
    c.Open(false);
    if (c.g.json) format = "json";
    auto items = Must(c.ledger->History(hsubject));
    const auto& z = c.ledger->zone();
    json arr = json::array();
    std::string text;
    if (format == "csv") text = "seq,recorded_at,type,os_user,operator,tool,hash,policy,summary\n";
    for (auto& it : items) {
      const Event& e = it.event;
      std::string desc = DescribeEvent(e, it.payload, z);
      if (format == "json") {
        arr.push_back({{"seq", e.seq},
                       {"recorded_at", FormatUtc(e.recorded_at)},
                       {"type", PayloadTypeName(e.type)},
                       {"actor",
                        {{"os_user", e.actor.os_user},
                         {"operator", e.actor.operator_id},
                         {"tool", e.actor.tool}}},
                       {"hash", ToHex(e.hash)},
                       {"policy", it.policy},
                       {"summary", desc}});
      } else if (format == "csv") {
        text += std::to_string(e.seq) + "," + FormatUtc(e.recorded_at) + "," +
                PayloadTypeName(e.type) + "," + Csv(e.actor.os_user) + "," +
                Csv(e.actor.operator_id) + "," + Csv(e.actor.tool) + "," + ToHex(e.hash) + "," +
                (it.policy ? "true" : "false") + "," + Csv(desc) + "\n";
      } else {
        text += "seq " + std::to_string(e.seq) + "  " + z.Format(e.recorded_at) + "  " +
                e.actor.os_user + (e.actor.operator_id.empty() ? "" : "/" + e.actor.operator_id) +
                " (" + e.actor.tool + ")  " + Hex16(e.hash).substr(0, 12) + "  " + desc + "\n";
      }
    }
    if (format == "json") {
      std::cout << arr.dump(2) << "\n";
      return;
    }
    if (items.empty() && format == "text")
      text = "no events about " + Must(c.ledger->ParseSubject(hsubject)).value + "\n";
    std::cout << text;
  });

  // replay
  std::string replay_out;
  auto* rep =
      app.add_subcommand("replay", "Write a read-only copy of the ledger as it stood at a moment");
  rep->add_option("--as-known-at", known_at, "Copy the events recorded up to TIME")->required();
  rep->add_option("--out", replay_out, "Data directory of the copy (absent or empty)")->required();
  rep->footer(
      "Example: tacet replay --as-known-at '2026-09-15 12:00' --out /tmp/asof\n"
      "         tacet --data-dir /tmp/asof check 0612345678   (--at defaults to that moment)");
  rep->callback([&] {
    c.Open(false);
    TimeMs k = c.ParseKnownAt(known_at);
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
      text += "  " + f.name + ": before " + Hex16(f.before.sha256) + " (" +
              std::to_string(f.before.entries) + "), after " + Hex16(f.after.sha256) + " (" +
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
