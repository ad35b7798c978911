// tacet: the compliance ledger's command-line tool. Opens the store directly
// (the embedded default). Exit status 0 on success; otherwise non-zero with a
// one-line reason on stderr. --json prints one JSON document on stdout.

#include "commands.h"

using namespace tacet::cli;

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

  AddAdminCommands(app, c);
  AddRpoCommands(app, c);
  AddQueryCommands(app, c);
  AddRecordCommands(app, c);
  AddProofCommands(app, c);
  AddContactCommands(app, c);
  AddPersonCommands(app, c);
  AddProvenanceCommands(app, c);
  AddAuditCommands(app, c);

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
