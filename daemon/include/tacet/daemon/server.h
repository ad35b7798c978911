// tacetd's server: the ledger behind a Unix-domain socket speaking
// newline-delimited JSON (daemon/PROTOCOL.md).
//
// Threads: `daemon.threads` I/O threads run the sessions and answer reads
// inline; one writer thread executes every write and group-commits them
// (one WAL sync for everything it collected); a small pool runs long reads
// (verify, filter) and subscription catch-up.
#pragma once

#include <memory>
#include <string>

#include "tacet/core/status.h"
#include "tacet/service/config.h"

namespace tacet {

struct ServerOptions {
  Config config;               // ledger and daemon settings
  std::string config_path;     // reread on SIGHUP / reload; empty: keep `config`
  bool handle_signals = true;  // SIGTERM/SIGINT drain and stop, SIGHUP reloads
  const Clock* clock = nullptr;
};

class Server {
 public:
  // Opens the store (reconciling the policy), then binds the socket: when
  // this returns OK the daemon is ready and clients may connect. Refuses
  // when another process holds the data directory or serves the socket,
  // naming it; replaces the stale socket of a dead daemon.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();

  // Serves until Stop() or a SIGTERM/SIGINT, then drains: stops accepting,
  // finishes the requests in flight, syncs and closes the store, removes
  // the socket. Returns the first durability error, if any.
  Status Run();
  // Thread-safe; begins the drain.
  void Stop();
  // Thread-safe; what SIGHUP does: reread the config, apply the roles and
  // the log level, reconcile the policy. False (and a warning logged) when
  // the writer queue is full and the reload was dropped.
  bool Reload();

  const std::string& socket_path() const;

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "uid=1000(alice) gid=1000(staff)": the actor of a socket client's events.
std::string PeerName(uint32_t uid, uint32_t gid);

}  // namespace tacet
