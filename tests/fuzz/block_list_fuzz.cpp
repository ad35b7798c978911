// Block lists recorded on a real ledger: blocked, or refused leaving the
// ledger as it was.
#include <cstdint>
#include <string>

#include "fuzz/fuzz_ledger.h"
#include "tacet/core/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tacet::Ledger& l = tacet::fuzz::FuzzLedger();
  const std::string content(reinterpret_cast<const char*>(data), size);
  tacet::BlockRequest req;
  req.reason = "fuzz";
  req.source = "robinson";
  const uint64_t before = l.log().head().seq;
  auto r = l.BlockFile("fuzz.txt", req, tacet::Actor{"fuzz", "", "fuzz"}, content);
  tacet::fuzz::RequireUnchanged(l, before, r.status());
  if (r.ok())
    for (const auto& line : r->invalid_lines)
      if (!tacet::IsValidUtf8(line)) std::abort();
  return 0;
}
