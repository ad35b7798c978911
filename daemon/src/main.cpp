// tacetd: the compliance ledger's daemon. Serves the ledger of the
// configured data directory on a Unix-domain socket (daemon/PROTOCOL.md).
// Exit status 0 after a clean drain (SIGTERM, SIGINT); 1 when it cannot
// start (the reason on stderr) or a write failed to reach the disk.
#include <sys/stat.h>
#include <CLI/CLI.hpp>
#include <iostream>

#include "tacet/daemon/server.h"
#include "tacet/service/config.h"

int main(int argc, char** argv) {
  // Every file of the data directory (WAL, SST, MANIFEST, exports, keys) is
  // its owner's alone, whatever the caller's umask.
  ::umask(077);
  CLI::App app{
      "tacetd: the Tacet compliance ledger daemon (newline-delimited JSON on a Unix socket)"};
  std::string config_path, data_dir, socket;
  app.add_option("--config", config_path,
                 "Config file (default: $TACET_CONFIG, else ./config/tacet.toml if present, else "
                 "built-in defaults)");
  app.add_option("--data-dir", data_dir, "Data directory (overrides the config's data_dir)");
  app.add_option("--socket", socket, "Socket path (overrides daemon.socket)");
  app.footer(
      "Example: tacetd --config config/tacet.toml\n"
      "Signals: SIGTERM/SIGINT drain and stop; SIGHUP rereads the config (roles, log level, "
      "policy).");
  CLI11_PARSE(app, argc, argv);

  auto config = tacet::LoadConfig(config_path);
  if (!config.ok()) {
    std::cerr << "tacetd: " << config.status().message() << "\n";
    return 1;
  }
  tacet::ServerOptions o;
  o.config = std::move(config).value();
  // A data group reads the ledger's files: 0640 instead of 0600. A reload
  // does not change it (data_dir needs a restart too).
  if (!o.config.ledger.data_group.empty()) ::umask(027);
  o.config_path = o.config.source;
  if (!data_dir.empty()) o.config.ledger.data_dir = data_dir;
  if (!socket.empty()) o.config.daemon.socket = socket;
  auto server = tacet::Server::Start(std::move(o));
  if (!server.ok()) {
    std::cerr << "tacetd: " << server.status().message() << "\n";
    return 1;
  }
  tacet::Status st = (*server)->Run();
  if (!st.ok()) {
    std::cerr << "tacetd: " << st.message() << "\n";
    return 1;
  }
  return 0;
}
