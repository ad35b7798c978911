// Candidates files and CSVs (export, filter, block lists): one value per
// line or a column found by name, or a refusal naming the line.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "projections/internal/text.h"
#include "tacet/core/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view content(reinterpret_cast<const char*>(data), size);
  for (bool emails : {false, true}) {
    auto r = tacet::internal::ParseCandidates(content, "fuzz.csv", "", emails);
    if (!r.ok()) {
      if (!tacet::IsValidUtf8(r.status().message())) std::abort();
      continue;
    }
    for (const auto& c : *r)
      if (c.line == 0 || !tacet::IsValidUtf8(c.value)) std::abort();
  }
  auto named = tacet::internal::ParseCandidates(content, "fuzz.csv", "telefono", false);
  if (!named.ok() && !tacet::IsValidUtf8(named.status().message())) std::abort();
  return 0;
}
