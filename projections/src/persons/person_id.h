// The CRM's id of a person, as the ledger accepts it.
#pragma once

#include <string_view>

#include "../../internal/text.h"
#include "tacet/core/status.h"
#include "tacet/core/utf8.h"

namespace tacet::persons {

inline constexpr size_t kMaxPersonIdBytes = 128;

// 1..128 bytes of UTF-8 without control characters; the refusal names it.
inline Status CheckPersonId(std::string_view id) {
  const auto& Q = internal::Quote;
  if (id.empty() || id.size() > kMaxPersonIdBytes)
    return Status::InvalidArgument("person id " + Q(id) + ": 1 to 128 bytes (" +
                                   std::to_string(id.size()) + "); nothing was recorded");
  if (!IsValidUtf8(id))
    return Status::InvalidArgument("person id " + Q(id) + " is not UTF-8; nothing was recorded");
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f)
      return Status::InvalidArgument("person id " + Q(id) +
                                     " holds a control character; nothing was recorded");
  return Status::Ok();
}

}  // namespace tacet::persons
