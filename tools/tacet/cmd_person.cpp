// tacet person link | unlink | merge | split: the CRM's persons (issue 18).
#include "commands.h"

namespace tacet::cli {

void AddPersonCommands(CLI::App& app, Context& c) {
  static auto* person = app.add_subcommand("person", "Link subjects to a person of the CRM");
  person->require_subcommand(1);
  static std::string id;
  static std::vector<std::string> subjects;
  auto add = [&](const char* name, const char* op, const char* help, const char* verb) {
    auto* cmd = person->add_subcommand(name, help);
    cmd->add_option("PERSON", id, "The CRM's id of the person (its anagrafica record)")->required();
    cmd->add_option("SUBJECT", subjects, "Phone numbers or e-mail addresses")->required();
    cmd->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
    cmd->callback([&c, op, verb] {
      json r = c.Run(op, {{"person", id}, {"subjects", subjects}, {"operator", c.g.operator_id}});
      std::string text;
      for (const json& e : r["recorded"])
        text += "seq " + Num(e, "seq") + ": " + Str(e, "subject") + " " + verb + " " + id + "\n";
      for (const json& s : r["unchanged"])
        text += s.get<std::string>() + ": already so, nothing recorded\n";
      Print(c, r, text);
    });
    return cmd;
  };
  add("link", "person_link", "Link subjects to the person (moving them from any other)",
      "linked to")
      ->footer("Example: tacet person link ANAG-0042 0612345678 mario.rossi@example.it");
  add("unlink", "person_unlink", "Unlink subjects from the person", "unlinked from")
      ->footer("Example: tacet person unlink ANAG-0042 0612345678");
  static std::string into, from;
  auto pair = [&](const char* name, const char* op, const char* help, const char* done) {
    auto* cmd = person->add_subcommand(name, help);
    cmd->add_option("INTO", into, "The CRM's id of the record kept")->required();
    cmd->add_option("FROM", from, "The CRM's id of the other record")->required();
    cmd->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
    cmd->callback([&c, op, done] {
      json r = c.Run(op, {{"into", into}, {"from", from}, {"operator", c.g.operator_id}});
      Print(c, r, "seq " + Num(r, "seq") + ": " + from + " " + done + " " + into + "\n");
    });
    return cmd;
  };
  pair("merge", "person_merge", "Record that two records of the CRM are one person", "merged into")
      ->footer("Example: tacet person merge ANAG-0042 ANAG-0913");
  pair("split", "person_split", "Undo a merge: each record is its own person again", "split from")
      ->footer("Example: tacet person split ANAG-0042 ANAG-0913");

  static std::string subject, since, note;
  static auto* re = app.add_subcommand(
      "reassigned",
      "Record that a number was given to a new subscriber: what was recorded for "
      "the earlier one stops counting");
  re->add_option("SUBJECT", subject, "The phone number")->required();
  re->add_option("--since", since, "The day it went to the new subscriber (YYYY-MM-DD)")
      ->required();
  re->add_option("--note", note, "How this was learnt (kept sealed)");
  re->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  re->footer(
      "Example: tacet reassigned 0612345678 --since 2026-01-01 --note 'operator database'\n"
      "The consents recorded for it stop counting from that day; its link to a person ends.\n"
      "A contact attempt with the wrong_number outcome does the same from its recording.");
  re->callback([&c] {
    json r = c.Run(
        "reassigned",
        {{"subject", subject}, {"since", since}, {"note", note}, {"operator", c.g.operator_id}});
    Print(c, r,
          "seq " + Num(r, "seq") + ": " + Str(r, "subject") +
              " belongs to a new subscriber since " + since + "\n");
  });
}

}  // namespace tacet::cli
