// Zip archives: the one member under the cap, or a refusal; never an
// allocation of what a header claims.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "projections/internal/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string entry;
  constexpr uint64_t kCap = 1 << 20;
  auto r = tacet::internal::ReadOnlyMember(bytes, "fuzz.zip", kCap, &entry);
  if (r.ok() && r->size() > kCap) std::abort();
  return 0;
}
