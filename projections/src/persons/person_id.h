// The CRM's id of a person, as the ledger accepts it.
#pragma once

#include <string_view>

#include "../../internal/label.h"
#include "tacet/core/status.h"

namespace tacet::persons {

inline constexpr size_t kMaxPersonIdBytes = 128;

// 1..128 bytes of UTF-8 without control characters; the refusal names it.
inline Status CheckPersonId(std::string_view id) {
  return internal::CheckLabel("person id", id, kMaxPersonIdBytes);
}

}  // namespace tacet::persons
