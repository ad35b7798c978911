// Files that hold a secret (the checkpoint key, the ledger secret): made
// readable by their owner only, and refused when any other user may read
// them.
#pragma once

#include <string>

#include "tacet/core/status.h"

namespace tacet {

// Creates `path` (it must not exist) with mode 0600 and `content`, synced.
// `what` names the file in errors ("the checkpoint key").
Status WriteSecretFile(const std::string& path, const std::string& content,
                       const std::string& what);
// The file's content; NotFound when it does not exist; FailedPrecondition
// when every user may read or write it.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace tacet
