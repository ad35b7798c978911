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
// Reads the single text file of the archive: the only entry, or the only
// ".txt" entry. `entry_name` receives its name.
Result<std::string> ReadTextFromZip(const std::string& zip_path, std::string* entry_name);

}  // namespace tacet::internal
