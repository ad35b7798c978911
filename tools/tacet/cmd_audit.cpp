// tacet audit: the contact attempts of a period, violations first.
#include <cstdio>

#include "commands.h"
#include "tacet/service/audit.h"

namespace tacet::cli {

void AddAuditCommands(CLI::App& app, Context& c) {
  static std::string from, to, campaign, format = "text";
  static auto* aud = app.add_subcommand(
      "audit",
      "Every contact attempt of a period with its verdict at its start and the evidence: "
      "violations first, attempts made without a prior check flagged, totals per reason and "
      "campaign");
  aud->add_option("--from", from, "First moment: YYYY-MM-DD[ HH:MM[:SS]] (ledger's zone)")
      ->required();
  aud->add_option("--to", to,
                  "End of the period, excluded; a bare date YYYY-MM-DD includes that day")
      ->required();
  aud->add_option("--campaign", campaign, "Only the attempts of this campaign");
  aud->add_option("--format", format, "text, json or csv (default text; --json = json)")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  aud->footer(
      "Example: tacet audit --from 2026-12-01 --to 2026-12-31 --format csv > december.csv\n"
      "Exit status 0 whatever the verdicts; 'violation' is a verdict other than allow.");
  aud->callback([&] {
    if (c.g.json) format = "json";
    json args = {{"from", from}, {"to", to}, {"format", format}};
    if (!campaign.empty()) args["campaign"] = campaign;
    if (c.ConnectDaemon()) {
      json r = c.Run("audit", args);
      if (format == "json") {
        std::cout << ToJsonText(r, 2) << "\n";
      } else {
        std::cout << r["text"].get<std::string>();
      }
      return;
    }
    // The store opened here: written straight to stdout, a piece at a time,
    // whatever the period's size.
    c.Open(false);
    const AuditRequest req = Must(AuditPeriod(c.ledger->zone(), from, to, campaign));
    const AuditFormat f = Must(ParseAuditFormat(format));
    std::cout.flush();
    (void)Must(WriteAudit(*c.ledger, req, f, [](std::string_view piece) {
      if (std::fwrite(piece.data(), 1, piece.size(), stdout) != piece.size())
        Fail(Status::IOError("cannot write the audit to stdout"));
    }));
    if (format == "json") std::fputc('\n', stdout);
    if (std::fflush(stdout) != 0) Fail(Status::IOError("cannot write the audit to stdout"));
  });
}

}  // namespace tacet::cli
