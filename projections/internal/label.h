// Labels the ledger records as given: a person's CRM id, a campaign's code,
// a supplier's name. Short UTF-8 without control characters.
#pragma once

#include <string>
#include <string_view>

#include "tacet/core/status.h"
#include "tacet/core/utf8.h"
#include "text.h"

namespace tacet::internal {

// 1..max bytes (0..max when `optional`) of UTF-8 without control
// characters; the refusal names `what` and the value.
inline Status CheckLabel(std::string_view what, std::string_view value, size_t max,
                         bool optional = false) {
  const std::string name = std::string(what) + " " + Quote(value);
  if ((value.empty() && !optional) || value.size() > max)
    return Status::InvalidArgument(name + ": " + (optional ? "0" : "1") + " to " +
                                   std::to_string(max) + " bytes (" + std::to_string(value.size()) +
                                   "); nothing was recorded");
  if (!IsValidUtf8(value))
    return Status::InvalidArgument(name + " is not UTF-8; nothing was recorded");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f)
      return Status::InvalidArgument(name + " holds a control character; nothing was recorded");
  return Status::Ok();
}

}  // namespace tacet::internal
