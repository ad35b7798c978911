// Configuration: config/tacet.toml (documented there). Shared by the CLI and
// the daemon. Unknown keys are refused, naming the file and key.
#pragma once

#include <string>

#include "tacet/core/status.h"
#include "tacet/projections/ledger.h"

namespace tacet {

struct Config {
  std::string source;  // the file it came from; empty: built-in defaults
  LedgerOptions ledger;
};

// Resolution: `explicit_path` if given, else $TACET_CONFIG, else
// ./config/tacet.toml when present, else built-in defaults.
Result<Config> LoadConfig(const std::string& explicit_path);
Result<Config> ParseConfig(std::string_view toml, const std::string& source);

}  // namespace tacet
