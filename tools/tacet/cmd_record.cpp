// tacet consent, block, unblock, justify, erase and exports prune: what
// officers and operators record.
#include "commands.h"

namespace tacet::cli {

// CLI11 binds each option to storage that must outlive the parse: the
// options of these commands live for the run (static), as do the
// subcommands their callbacks consult.
void AddRecordCommands(CLI::App& app, Context& c) {
  static std::string subject, channel_name;
  // consent grant | revoke
  static auto* con = app.add_subcommand("consent", "Record a consent given or withdrawn");
  con->require_subcommand(1);
  static std::string type_code, given, evidence, reason;
  static auto* grant = con->add_subcommand("grant", "Record a consent the subject gave");
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
  static auto* revoke = con->add_subcommand("revoke", "Record that the subject withdrew a consent");
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
  static std::string channels_list, block_file, source = "request", officer, person;
  static std::vector<std::string> unblock_sources;
  static auto* blk = app.add_subcommand(
      "block", "Put a subject, or a whole list, on the internal do-not-call list");
  blk->add_option("SUBJECT", subject, "Phone number or e-mail");
  blk->add_option("--file", block_file, "Block every subject of this file, as one recorded batch");
  blk->add_option("--person", person,
                  "Block a person of the CRM (its id): every number linked to it, then and later");
  blk->add_option("--channels", channels_list, "voice,sms,email,newsletter (default: all)");
  blk->add_option("--reason", reason, "Why (recorded)")->required();
  blk->add_option("--source", source,
                  "request, call_outcome, robinson, crm_classifier or objection (default request)");
  blk->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  blk->footer(
      "Examples: tacet block 0612345678 --reason 'asked not to be called' --source call_outcome\n"
      "          tacet block --file robinson.txt --source robinson --reason 'Robinson list "
      "2026-11'\n"
      "          tacet block --person ANAG-0042 --source objection --reason 'art. 21 objection'");
  blk->callback([&] {
    if (int(!subject.empty()) + int(!block_file.empty()) + int(!person.empty()) != 1)
      Fail(Status::InvalidArgument("give one of SUBJECT, --file FILE or --person ID"));
    json args = {{"channels", channels_list.empty() ? "all" : channels_list},
                 {"reason", reason},
                 {"source", source},
                 {"operator", c.g.operator_id}};
    if (!person.empty()) {
      args["person"] = person;
      json r = c.Run("block", args);
      Print(c, r, "seq " + Num(r, "seq") + ": person " + Str(r, "person") + " blocked\n");
      return;
    }
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
  static auto* ublk =
      app.add_subcommand("unblock", "Lift a block (an officer's decision, recorded)");
  ublk->add_option("SUBJECT", subject, "Phone number or e-mail");
  ublk->add_option("--person", person, "Lift a person's own block (its CRM id)");
  ublk->add_option("--channels", channels_list, "voice,sms,email,newsletter (default: all)");
  ublk->add_option("--reason", reason, "Why (recorded)")->required();
  ublk->add_option("--officer", officer, "The compliance officer lifting it (required)");
  ublk->add_option("--source", unblock_sources,
                   "Lift only the blocks of this source (repeatable; default: every source)");
  ublk->footer(
      "Examples: tacet unblock 0612345678 --source call_outcome --reason 'operator error' "
      "--officer m.bianchi\n"
      "          tacet unblock 0612345678 --reason 'customer asked to be called back' --officer "
      "m.bianchi   (every source's block)\n"
      "          tacet unblock --person ANAG-0042 --reason 'objection withdrawn' --officer "
      "m.bianchi");
  ublk->callback([&] {
    if (subject.empty() == person.empty())
      Fail(Status::InvalidArgument("give SUBJECT or --person ID"));
    json args = {{"channels", channels_list.empty() ? "all" : channels_list},
                 {"sources", unblock_sources},
                 {"reason", reason},
                 {"officer", officer},
                 {"operator", c.g.operator_id}};
    if (person.empty()) {
      args["subject"] = subject;
    } else {
      args["person"] = person;
    }
    json r = c.Run("unblock", args);
    const std::string who = person.empty() ? Str(r, "subject") : "person " + Str(r, "person");
    std::string text = "seq " + Num(r, "seq") + ": " + who + " unblocked by " + officer + "\n";
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
  static auto* jus =
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
  static std::string erase_request;
  static auto* era = app.add_subcommand(
      "erase", "Erase a subject's personal data (GDPR art. 17); it stays suppressed");
  static std::string erase_person;
  era->add_option("SUBJECT", subject, "Phone number or e-mail");
  era->add_option("--person", erase_person,
                  "Instead of SUBJECT, the CRM's id of a person: every subject ever linked to it "
                  "is erased, then the person's own sealed fields");
  era->add_option("--request", erase_request, "The erasure request's reference (recorded)")
      ->required();
  era->add_option("--officer", officer, "The compliance officer erasing it (required)");
  era->footer(
      "Example: tacet erase 0612345679 --request DPO-2026-118 --officer m.bianchi\n"
      "Example: tacet erase --person ANAG-0913 --request DPO-2026-119 --officer m.bianchi\n"
      "The subject's data key is destroyed: its evidence and reasons read as erased, every "
      "channel denies it,\nand exports leave it out. Upload files under exports/ that still "
      "list it are named; 'tacet exports prune'\nremoves those of answered sessions.");
  era->callback([&] {
    if (subject.empty() == erase_person.empty())
      Fail(Status::InvalidArgument("name a SUBJECT or a --person, one of them"));
    json args = {{"request", erase_request}, {"officer", officer}, {"operator", c.g.operator_id}};
    if (erase_person.empty()) {
      args["subject"] = subject;
    } else {
      args["person"] = erase_person;
    }
    json r = c.Run("erase", args);
    std::string text;
    for (const auto& s : r.value("subjects", json::array()))
      text += s["seq"].is_null() ? "  subject " + Str(s, "subject_id") + " was erased already\n"
                                 : "seq " + Num(s, "seq") + ": subject " + Str(s, "subject_id") +
                                       " erased; suppressed on every channel\n";
    text += erase_person.empty()
                ? "seq " + Num(r, "seq") + ": " + Str(r, "subject") + " erased (request " +
                      erase_request + "); suppressed on every channel\n"
                : (r["seq"].get<uint64_t>() != 0
                       ? "seq " + Num(r, "seq") + ": the person's own sealed fields erased\n"
                       : std::string()) +
                      "person " + erase_person + ": " + std::to_string(r["subjects"].size()) +
                      " subject(s) erased or already erased (request " + erase_request +
                      "); its own blocks stay in force\n";
    if (!r["key_destroyed"].get<bool>()) text += "  it had no personal data recorded\n";
    for (const auto& f : r["export_files"])
      text += "  still listed in " + f.get<std::string>() +
              " (the registry's copy; remove it with 'tacet exports prune' once answered)\n";
    Print(c, r, text);
  });

  // exports
  static std::string answered_before;
  static auto* exps = app.add_subcommand("exports", "The upload files kept under exports/");
  exps->require_subcommand(1);
  static auto* prune = exps->add_subcommand(
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
}

// tacet contact record: one contact attempt, audited as it is recorded.
void AddContactCommands(CLI::App& app, Context& c) {
  static std::string subject, channel_name = "voice", started, outcome, campaign, caller_id;
  static uint32_t duration = 0;
  static uint64_t decision = 0;
  static auto* con = app.add_subcommand("contact", "Record the contacts made");
  con->require_subcommand(1);
  static auto* rec = con->add_subcommand(
      "record", "Record one contact attempt; Tacet audits it against the rules of its start");
  rec->add_option("SUBJECT", subject, "Phone number or e-mail called or written to")->required();
  rec->add_option("--channel", channel_name, "voice, sms, email or newsletter (default voice)");
  rec->add_option("--started", started,
                  "When it started, by the dialer's clock: YYYY-MM-DD HH:MM[:SS] in the "
                  "ledger's zone, or with Z or +HH:MM")
      ->required();
  rec->add_option("--outcome", outcome, "Outcome code (see 'tacet policy')")->required();
  rec->add_option("--campaign", campaign, "The campaign it was made for");
  rec->add_option("--caller-id", caller_id, "The calling number shown");
  rec->add_option("--duration", duration, "Seconds");
  rec->add_option("--decision", decision,
                  "The seq of the recorded check it acted on ('tacet check --record')");
  rec->add_option("--operator", c.g.operator_id, "The operator who made it");
  rec->footer(
      "Example: tacet contact record +393471234567 --started '2026-12-03 19:30' --outcome "
      "do_not_call --campaign autumn --caller-id +390299999999 --operator op7");
  rec->callback([&] {
    json r = c.Run("contact", {{"subject", subject},
                               {"channel", channel_name},
                               {"started", started},
                               {"outcome", outcome},
                               {"campaign", campaign},
                               {"caller_id", caller_id},
                               {"duration", duration},
                               {"decision", decision},
                               {"operator", c.g.operator_id}});
    std::string reasons;
    for (const auto& x : r["reasons"])
      reasons += (reasons.empty() ? "" : ", ") + x.get<std::string>();
    std::string text = "seq " + Num(r, "seq") + ": " + Str(r, "channel") + " attempt to " +
                       Str(r, "subject") + " (" + outcome +
                       ") recorded; at its start: " + Str(r, "verdict_at_start") +
                       (reasons.empty() ? "" : " (" + reasons + ")") + "\n";
    if (!r["block_seq"].is_null())
      text += "  its outcome blocked it: seq " + Num(r, "block_seq") + "\n";
    if (r["no_prior_check"].get<bool>()) text += "  no recorded check preceded it\n";
    if (r["unregistered_caller"].get<bool>())
      text += "  its caller id was not registered for its campaign (tacet caller register)\n";
    Print(c, r, text);
  });
  static std::string import_file;
  static auto* imp = con->add_subcommand(
      "import", "Record every attempt of a dialer's call-detail export (CSV), as one batch");
  imp->add_option("FILE", import_file,
                  "CSV with named columns: subject (or phone, number, email), started, outcome; "
                  "optional channel, campaign, caller_id, operator, duration, decision")
      ->required();
  imp->add_option("--operator", c.g.operator_id, "Operator id recorded with the batch");
  imp->footer(
      "Example: tacet contact import calls.csv\n"
      "A bad line refuses the whole file, naming its line, column and value: nothing is "
      "recorded.");
  imp->callback([&] {
    json args = {{"operator", c.g.operator_id}};
    c.AddFile(args, "path", import_file, true);
    json r = c.Run("contact_import", args);
    Print(c, r,
          Num(r, "recorded") + " attempts recorded (seq " + Num(r, "first_seq") + ".." +
              Num(r, "last_seq") + "); at their start " + Num(r, "allowed") + " allowed, " +
              Num(r, "denied") + " denied, " + Num(r, "needs_justification") +
              " needed a justification; " + Num(r, "no_prior_check") +
              " without a prior recorded check; " + Num(r, "unregistered_caller") +
              " with an unregistered caller id; " + Num(r, "blocks") +
              " blocks from their outcomes\n");
  });
}

}  // namespace tacet::cli
