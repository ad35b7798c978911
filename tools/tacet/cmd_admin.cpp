// tacet init, policy, replay, rebuild and stats: the ledger's upkeep.
#include "commands.h"

namespace tacet::cli {

// CLI11 binds each option to storage that must outlive the parse: the
// options of these commands live for the run (static), as do the
// subcommands their callbacks consult.
void AddAdminCommands(CLI::App& app, Context& c) {
  // init
  static auto* init = app.add_subcommand("init", "Create an empty ledger in the data directory");
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

  // policy
  static std::string at, known_at;
  static auto* pol =
      app.add_subcommand("policy", "The consent types, reasons and channel rules in force");
  pol->add_option("--at", at, "In force at TIME (default now)");
  pol->footer(
      "Examples: tacet policy --at 2026-09-01\n"
      "          tacet policy apply --dry-run   (what 'policy apply' would record)");
  static auto* pol_apply = pol->add_subcommand(
      "apply", "Record the config's policy in the ledger: print each difference, then record them");
  static bool dry_run = false;
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
    text += "registries:\n";
    for (const auto& g : r["registries"])
      text += "  " + Str(g, "name") + "  " + Str(g, "kind") + ", layout " + Str(g, "layout") +
              "; regions " + Join(g["regions"], ",") + "; " + Join(g["channels"], ", ") + "; " +
              Str(g, "time_zone") + "; answers valid " + Num(g, "validity_days") + " days" +
              (g["seq"].get<uint64_t>() ? " [seq " + Num(g, "seq") + "]"
                                        : std::string(" (built-in default)")) +
              "\n";
    if (r["registries"].empty()) text += "  (none)\n";
    text += "campaigns:\n";
    for (const auto& m : r["campaigns"])
      text += "  " + Str(m, "code") + "  " + Str(m, "title") + "; controller " +
              Str(m, "controller") + "; purpose " + Str(m, "purpose") +
              (m["requires_provenance"].get<bool>() ? "; requires provenance" : "") + " [seq " +
              Num(m, "seq") + "]\n";
    if (r["campaigns"].empty()) text += "  (none)\n";
    text += "caller ids:\n";
    for (const auto& n : r["callers"])
      text += "  " + Str(n, "number") + "  " +
              (Str(n, "campaign").empty() ? std::string("every campaign")
                                          : "campaign " + Str(n, "campaign")) +
              (Str(n, "roc").empty() ? "" : "; ROC " + Str(n, "roc")) + "; from " +
              Str(n, "valid_from") + (n["valid_to"].is_null() ? "" : " to " + Str(n, "valid_to")) +
              " [seq " + Num(n, "seq") + "]\n";
    if (r["callers"].empty()) text += "  (none: attempts' caller ids are not checked)\n";
    Print(c, r, text);
  });

  // replay
  static std::string replay_out;
  static auto* rep =
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
  static auto* reb = app.add_subcommand(
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

  // stats
  static auto* sta =
      app.add_subcommand("stats", "tacetd's uptime, counts and latencies per operation");
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
}

}  // namespace tacet::cli
