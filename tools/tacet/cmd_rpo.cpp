// tacet export, import-return and sessions: the round trip with a registry.
#include "commands.h"

namespace tacet::cli {

// CLI11 binds each option to storage that must outlive the parse: the
// options of these commands live for the run (static), as do the
// subcommands their callbacks consult.
void AddRpoCommands(CLI::App& app, Context& c) {
  // export
  static std::string candidates, out_dir, column, registry = "it-rpo";
  static uint64_t limit = 0;
  static uint32_t fresh = 0;
  static auto* exp =
      app.add_subcommand("export", "Write the upload file of numbers to check with a registry");
  exp->add_option("--registry", registry, "Registry (it-rpo)")->required();
  exp->add_option("--candidates", candidates,
                  "File: one number per line, or a CSV with a phone column")
      ->required();
  exp->add_option("--column", column,
                  "CSV column holding the numbers (default: detect phone/telefono/numero...)");
  static auto* limit_opt = exp->add_option(
      "--limit", limit, "At most N numbers, N >= 1 (soonest-expiring first, then never-checked)");
  static bool include_pending = false;
  exp->add_flag("--include-pending", include_pending,
                "Export numbers still awaiting the return of an open session too");
  static auto* fresh_opt = exp->add_option(
      "--fresh-days", fresh, "Leave out clearances valid for more than D days (default 3)");
  exp->add_option("--out", out_dir, "Output directory (default: <data-dir>/exports)");
  static std::string export_campaign;
  exp->add_option("--campaign", export_campaign,
                  "Export for this campaign: when it requires provenance, only numbers on one of "
                  "its registered lists");
  exp->add_option("--operator", c.g.operator_id, "Operator id recorded with the session");
  exp->footer("Example: tacet export --registry it-rpo --candidates numbers.csv --limit 50000");
  exp->callback([&] {
    json args = {{"registry", registry}, {"operator", c.g.operator_id}};
    if (*limit_opt) args["limit"] = limit;
    if (include_pending) args["include_pending"] = true;
    if (!column.empty()) args["column"] = column;
    if (*fresh_opt) args["fresh_days"] = fresh;
    if (!out_dir.empty()) args["out"] = out_dir;
    if (!export_campaign.empty()) args["campaign"] = export_campaign;
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
            " internally blocked, " + Num(l, "no_provenance") +
            " on none of the campaign's lists, " + Num(l, "known_listed") + " known listed, " +
            Num(l, "fresh") + " still fresh, " + Num(l, "pending") +
            " pending in an open session, " + Num(l, "over_limit") + " over the limit\n";
    for (const auto& smp : r["invalid_samples"])
      text += "  invalid: " + smp.get<std::string>() + "\n";
    if (r["sessions"].empty()) text += "nothing to export; no session recorded\n";
    Print(c, r, text);
  });

  // import-return
  static uint64_t session_id = 0;
  static std::string received, return_file;
  static bool supersede = false;
  static auto* imp =
      app.add_subcommand("import-return", "Import a registry's return for an export session");
  imp->add_option("--session", session_id, "The export session this file answers")->required();
  imp->add_option("--received", received, "Date the return was received (YYYY-MM-DD)")->required();
  imp->add_flag("--supersede", supersede, "Replace the session's earlier return");
  static bool empty_is_all_listed = false;
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

  // sessions
  static auto* ses =
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
}

}  // namespace tacet::cli
