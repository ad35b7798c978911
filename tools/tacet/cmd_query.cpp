// tacet check, filter and history: what the ledger says about subjects.
#include "commands.h"

namespace tacet::cli {

// CLI11 binds each option to storage that must outlive the parse: the
// options of these commands live for the run (static), as do the
// subcommands their callbacks consult.
void AddQueryCommands(CLI::App& app, Context& c) {
  // Every query's time options.
  static std::string at, known_at;
  static auto time_options = [&](CLI::App* cmd) {
    cmd->add_option(
        "--at", at,
        "Evaluate at TIME (YYYY-MM-DD[ HH:MM[:SS]][Z|+HH:MM], local zone; default now)");
    cmd->add_option("--as-known-at", known_at,
                    "Use only the events recorded up to TIME (default: everything recorded)");
  };
  static auto add_times = [&](json& args) {
    if (!at.empty()) args["at"] = at;
    if (!known_at.empty()) args["as_known_at"] = known_at;
  };

  static std::string column;
  // check
  static std::string subject, channel_name;
  static auto* chk = app.add_subcommand(
      "check",
      "May this subject be contacted on a channel? The answer, every reason and its events");
  chk->add_option("SUBJECT", subject, "Phone number (any common format) or e-mail")->required();
  chk->add_option("--channel", channel_name,
                  "voice, sms, email or newsletter (default: voice for a number, email for an "
                  "address)");
  time_options(chk);
  static std::string check_campaign;
  static bool record = false;
  chk->add_option("--campaign", check_campaign,
                  "The campaign the contact is for (its caps, its lists' provenance)");
  chk->add_flag("--record", record,
                "Record the answer as an event (now, as known now): a contact made on it "
                "cites its seq with 'tacet contact record --decision SEQ'");
  chk->footer(
      "Example: tacet check '06 1234 5678' --channel voice --at '2026-09-15 23:59'\n"
      "Exit status 0 whatever the answer; the answer is allow, deny or needs_justification.");
  chk->callback([&] {
    json args = {{"subject", subject}};
    if (!channel_name.empty()) args["channel"] = channel_name;
    if (!check_campaign.empty()) args["campaign"] = check_campaign;
    if (record) {
      if (!at.empty() || !known_at.empty())
        Fail(
            Status::InvalidArgument("--record answers now, as known now: no --at or "
                                    "--as-known-at"));
      args["operator"] = c.g.operator_id;
      json r = c.Run("check_record", args);
      Print(c, r, "seq " + Num(r, "seq") + " recorded\n" + DecisionText(r));
      return;
    }
    add_times(args);
    json r = c.Run("check", args);
    Print(c, r, DecisionText(r));
  });

  // filter
  static std::string filter_file, rejected_csv;
  static auto* fil = app.add_subcommand(
      "filter", "Sort a list of subjects by their answer on a channel: the allowed ones on stdout");
  fil->add_option("FILE", filter_file,
                  "One subject per line, or a CSV with a phone or e-mail column")
      ->required();
  fil->add_option("--channel", channel_name, "voice, sms, email or newsletter")->required();
  fil->add_option("--column", column, "CSV column holding the subjects (default: detect)");
  fil->add_option("--rejected", rejected_csv,
                  "Write the others, with their answer and reasons, to this CSV (default: stderr)");
  time_options(fil);
  static std::string filter_campaign;
  fil->add_option("--campaign", filter_campaign,
                  "The campaign the contacts are for (its caps, its lists' provenance)");
  fil->footer(
      "Example: tacet filter --channel newsletter subscribers.csv > send.txt\n"
      "stdout: the allowed subjects, canonical, one per line. The others (denied, needing a\n"
      "justification, invalid) go to stderr or --rejected. Counts on stderr at the end.");
  fil->callback([&] {
    if (!rejected_csv.empty() && std::filesystem::exists(rejected_csv))
      Fail(Status::AlreadyExists("'" + rejected_csv + "' already exists; choose another name"));
    json args = {{"channel", channel_name}};
    if (!column.empty()) args["column"] = column;
    if (!filter_campaign.empty()) args["campaign"] = filter_campaign;
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

  // history
  static std::string format = "text", person;
  static auto* his = app.add_subcommand(
      "history", "Every event about a subject, and the policy changes behind its answers");
  his->add_option("SUBJECT", subject, "Phone number or e-mail");
  his->add_option("--person", person,
                  "Every event about this person of the CRM and each number linked to it");
  his->add_option("--format", format, "text, json or csv (default text; --json = json)")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  his->footer(
      "Examples: tacet history +390612345678 --format csv > history.csv\n"
      "          tacet history --person ANAG-0042");
  his->callback([&] {
    if (c.g.json) format = "json";
    if (subject.empty() == person.empty())
      Fail(Status::InvalidArgument("give SUBJECT or --person ID"));
    json r =
        c.Run("history", person.empty() ? json{{"subject", subject}} : json{{"person", person}});
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
    if (events.empty() && format == "text")
      text = "no events about " +
             (person.empty() ? Str(r, "subject") : "person " + Str(r, "person")) + "\n";
    std::cout << text;
  });
}

}  // namespace tacet::cli
