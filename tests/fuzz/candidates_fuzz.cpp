// Candidates files and CSVs (export, filter, block lists, registered lists):
// one value per line or a column found by name, or a refusal naming the
// line; and the numbers of such a file as an export and a list
// registration read them (issue 18): each distinct, with its keyed hash.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "projections/internal/number_file.h"
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

  static const tacet::SubjectParser parser("IT");
  static const tacet::SubjectKeyer keyer(std::string(tacet::kLedgerSecretBytes, 'k'));
  tacet::internal::NumberFileCounts counts;
  auto numbers = tacet::internal::ParseNumberFile(
      content, "fuzz.csv", "", parser, keyer, [](const tacet::Subject&) { return true; }, &counts);
  if (!numbers.ok()) {
    if (!tacet::IsValidUtf8(numbers.status().message())) std::abort();
    return 0;
  }
  // Each number once, with the keyed hash of its E.164 text; every value
  // read is a number, invalid or a repeat.
  std::set<uint64_t> seen;
  for (const auto& n : *numbers) {
    if (!seen.insert(n.e164).second) std::abort();
    if (n.id != keyer.Of("+" + std::to_string(n.e164))) std::abort();
  }
  if (numbers->size() + counts.invalid + counts.duplicates + counts.out_of_scope != counts.lines)
    std::abort();
  for (const auto& s : counts.invalid_samples)
    if (!tacet::IsValidUtf8(s)) std::abort();
  return 0;
}
