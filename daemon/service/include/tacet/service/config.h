// Configuration: config/tacet.toml (documented there). Shared by the CLI and
// the daemon. Unknown keys are refused, naming the file and key.
#pragma once

#include <string>
#include <vector>

#include "tacet/core/status.h"
#include "tacet/projections/ledger.h"

namespace tacet {

// Who may do what through tacetd. Roles are cumulative: a writer may read,
// an officer may do everything.
enum class Role : uint8_t { kNone = 0, kReader = 1, kWriter = 2, kOfficer = 3 };
const char* RoleName(Role r);

struct RoleMembers {
  std::vector<std::string> users;   // user names, or numeric uids
  std::vector<std::string> groups;  // group names, or numeric gids
};

// [daemon] and [roles]: tacetd's settings (config/tacet.toml documents each).
struct DaemonConfig {
  std::string socket;  // empty: <data_dir>/tacet.sock
  uint32_t socket_mode = 0660;
  std::string socket_group;  // empty: the daemon's group
  std::string import_dir;    // empty: <data_dir>/inbox
  uint64_t max_line_bytes = 1 << 20;
  uint32_t max_connections = 256;
  uint32_t idle_timeout_seconds = 300;
  uint32_t max_in_flight = 1024;       // requests per connection awaiting replies
  uint32_t max_queued_writes = 65536;  // across connections, before `busy`
  uint32_t subscriber_queue = 65536;   // events a subscriber may lag behind
  uint32_t threads = 2;                // I/O threads
  std::string log_format = "text";     // text or json
  std::string log_level = "info";
  // The daemon's own user (it owns the data directory and could open the
  // store directly) has this role.
  Role owner_role = Role::kOfficer;
  RoleMembers readers, writers, officers;

  std::string SocketPath(const std::string& data_dir) const;
  std::string ImportDir(const std::string& data_dir) const;
};

struct Config {
  std::string source;  // the file it came from; empty: built-in defaults
  LedgerOptions ledger;
  DaemonConfig daemon;
};

// Resolution: `explicit_path` if given, else $TACET_CONFIG, else
// ./config/tacet.toml when present, else built-in defaults.
Result<Config> LoadConfig(const std::string& explicit_path);
Result<Config> ParseConfig(std::string_view toml, const std::string& source);

}  // namespace tacet
