// tacet campaign | caller | list | lists: where numbers came from and which
// caller ids a campaign may show (issue 18).
#include "commands.h"

namespace tacet::cli {

namespace {

void AddCampaign(CLI::App& app, Context& c) {
  static auto* campaign = app.add_subcommand("campaign", "Define the campaigns calls are made for");
  campaign->require_subcommand(1);
  static std::string code, title, controller, purpose;
  static bool requires_provenance = false;
  static auto* def = campaign->add_subcommand("define", "Define a campaign, or change it");
  def->add_option("CODE", code, "The campaign's code, as attempts and checks name it")->required();
  def->add_option("--title", title, "What it is")->required();
  def->add_option("--controller", controller, "The data controller the calls are made for")
      ->required();
  def->add_option("--purpose", purpose, "The purpose of the processing")->required();
  def->add_flag("--requires-provenance", requires_provenance,
                "Numbers on none of its registered lists are denied for it (no_provenance)");
  def->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  def->footer(
      "Example: tacet campaign define WINTER26 --title 'Winter offers' --controller 'Acme "
      "Energia SpA' --purpose marketing --requires-provenance");
  def->callback([&c] {
    json r = c.Run("campaign_define", {{"code", code},
                                       {"title", title},
                                       {"controller", controller},
                                       {"purpose", purpose},
                                       {"requires_provenance", requires_provenance},
                                       {"operator", c.g.operator_id}});
    Print(c, r,
          r["changed"].get<bool>() ? "seq " + Num(r, "seq") + ": campaign " + code + " defined\n"
                                   : "campaign " + code +
                                         " is defined so already; nothing "
                                         "recorded\n");
  });
  static auto* ret = campaign->add_subcommand("retire", "Withdraw a campaign");
  ret->add_option("CODE", code, "The campaign's code")->required();
  ret->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  ret->footer("Example: tacet campaign retire WINTER26");
  ret->callback([&c] {
    json r =
        c.Run("campaign_define", {{"code", code}, {"retire", true}, {"operator", c.g.operator_id}});
    Print(c, r, "seq " + Num(r, "seq") + ": campaign " + code + " retired\n");
  });
}

void AddCaller(CLI::App& app, Context& c) {
  static auto* caller =
      app.add_subcommand("caller", "Register the caller ids (numbers shown) a campaign may use");
  caller->require_subcommand(1);
  static std::string number, campaign, roc, valid_from, valid_to;
  static auto* reg = caller->add_subcommand("register", "Register a caller id for a campaign");
  reg->add_option("NUMBER", number, "The number shown to the called party")->required();
  reg->add_option("--campaign", campaign, "The campaign (default: every campaign)");
  reg->add_option("--roc", roc, "Its registration's reference (Italy: the ROC entry)");
  reg->add_option("--valid-from", valid_from, "From TIME (YYYY-MM-DD[ HH:MM]; default now)");
  reg->add_option("--valid-to", valid_to, "Until TIME, exclusive (default: no end)");
  reg->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  reg->footer(
      "Example: tacet caller register 0212345678 --campaign WINTER26 --roc ROC-12345\n"
      "Once any caller id is registered, the audit flags attempts whose caller id was not\n"
      "registered for their campaign at their start (unregistered_caller_id).");
  reg->callback([&c] {
    json args = {{"number", number}, {"operator", c.g.operator_id}};
    if (!campaign.empty()) args["campaign"] = campaign;
    if (!roc.empty()) args["roc"] = roc;
    if (!valid_from.empty()) args["valid_from"] = valid_from;
    if (!valid_to.empty()) args["valid_to"] = valid_to;
    json r = c.Run("caller_register", args);
    const std::string what =
        Str(r, "number") + (campaign.empty() ? " for every campaign" : " for campaign " + campaign);
    Print(c, r,
          r["changed"].get<bool>() ? "seq " + Num(r, "seq") + ": " + what + " registered\n"
                                   : what + " is registered so already; nothing recorded\n");
  });
  static auto* ret = caller->add_subcommand("retire", "Withdraw a caller id from a campaign");
  ret->add_option("NUMBER", number, "The number")->required();
  ret->add_option("--campaign", campaign, "The campaign (default: every campaign)");
  ret->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  ret->footer("Example: tacet caller retire 0212345678 --campaign WINTER26");
  ret->callback([&c] {
    json args = {{"number", number}, {"retire", true}, {"operator", c.g.operator_id}};
    if (!campaign.empty()) args["campaign"] = campaign;
    json r = c.Run("caller_register", args);
    Print(c, r, "seq " + Num(r, "seq") + ": " + Str(r, "number") + " retired\n");
  });
}

void AddLists(CLI::App& app, Context& c) {
  static auto* list = app.add_subcommand("list", "Register the lists numbers were acquired in");
  list->require_subcommand(1);
  static std::string file, column, campaign, supplier, acquired, basis, consent_text;
  static auto* reg = list->add_subcommand(
      "register", "Record where a list came from, and each of its numbers as a member");
  reg->add_option("FILE", file, "One number per line, or a CSV with a phone column")->required();
  reg->add_option("--campaign", campaign, "The campaign it was acquired for")->required();
  reg->add_option("--supplier", supplier, "Who supplied it")->required();
  reg->add_option("--acquired", acquired, "When (YYYY-MM-DD)")->required();
  reg->add_option("--basis", basis,
                  "The legal basis: supplier_consent, own_customers, legitimate_interest, ...")
      ->required();
  reg->add_option("--consent-text", consent_text, "The consent text's reference, if any");
  reg->add_option("--column", column, "CSV column holding the numbers (default: detect)");
  reg->add_option("--operator", c.g.operator_id, "Operator id recorded with it");
  reg->footer(
      "Example: tacet list register leads-2026-11.csv --campaign WINTER26 --supplier 'Lead "
      "Co Srl' --acquired 2026-11-20 --basis supplier_consent");
  reg->callback([&c] {
    json args = {{"campaign", campaign},
                 {"supplier", supplier},
                 {"acquired", acquired},
                 {"basis", basis},
                 {"operator", c.g.operator_id}};
    if (!consent_text.empty()) args["consent_text"] = consent_text;
    if (!column.empty()) args["column"] = column;
    c.AddFile(args, "path", file, true);
    json r = c.Run("list_register", args);
    std::string text = "list " + Num(r, "list") + ": " + Num(r, "members") +
                       " numbers recorded as members (seq " + Num(r, "first_seq") + " to " +
                       Num(r, "last_seq") + "), sha256 " + Str(r, "sha256") + "\nread " +
                       Num(r, "lines") + " lines: " + Num(r, "duplicates") + " duplicate, " +
                       Num(r, "invalid") + " invalid\n";
    for (const auto& s : r["invalid_samples"]) text += "  invalid: " + s.get<std::string>() + "\n";
    Print(c, r, text);
  });

  static std::string lists_campaign;
  static auto* lists = app.add_subcommand("lists", "The registered lists: where numbers came from");
  lists->add_option("--campaign", lists_campaign, "Only this campaign's");
  lists->footer("Example: tacet lists --campaign WINTER26");
  lists->callback([&c] {
    json args = json::object();
    if (!lists_campaign.empty()) args["campaign"] = lists_campaign;
    json r = c.Run("lists", args);
    std::string text;
    for (const auto& l : r["lists"])
      text += "list " + Num(l, "list") + "  campaign " + Str(l, "campaign") + "  supplier " +
              Str(l, "supplier") + "  acquired " + Str(l, "acquired") + "  basis " +
              Str(l, "basis") +
              (Str(l, "consent_text").empty() ? "" : "  consent text " + Str(l, "consent_text")) +
              "\n  " + Str(l, "file") + "  " + Num(l, "numbers") + " numbers  sha256 " +
              Str(l, "sha256") + "  [seq " + Num(l, "seq") + ", " + Str(l, "recorded_at") + "]\n";
    if (r["lists"].empty()) text = "no lists registered\n";
    Print(c, r, text);
  });
}

}  // namespace

void AddProvenanceCommands(CLI::App& app, Context& c) {
  AddCampaign(app, c);
  AddCaller(app, c);
  AddLists(app, c);
}

}  // namespace tacet::cli
