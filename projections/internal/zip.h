// The one boundary to libzip.
#pragma once

#include <string>
#include <string_view>

#include "tacet/core/status.h"

namespace tacet::internal {

// Creates `zip_path` (refused if it exists) holding one entry `entry_name`.
Status WriteZip(const std::string& zip_path, const std::string& entry_name,
                std::string_view content);
// True when the bytes start like a zip archive.
bool LooksLikeZip(std::string_view bytes);
// The one file of an archive held in memory (`bytes`, named `name` in
// messages), decompressed as a stream and refused as soon as it exceeds
// `max_bytes`, whatever size its header claims. An archive with no member
// or more than one is refused. `entry_name` receives the member's name.
Result<std::string> ReadOnlyMember(std::string_view bytes, const std::string& name,
                                   uint64_t max_bytes, std::string* entry_name);

}  // namespace tacet::internal
