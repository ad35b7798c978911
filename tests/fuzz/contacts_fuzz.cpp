// Call-detail files (issue 17) imported on a real ledger: recorded whole,
// or refused leaving the ledger as it was, with a message in UTF-8.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_ledger.h"
#include "tacet/core/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tacet::Ledger& l = tacet::fuzz::FuzzLedger();
  tacet::ContactImportRequest req;
  req.path = "calls.csv";
  req.content = std::string(reinterpret_cast<const char*>(data), size);
  const uint64_t before = l.log().head().seq;
  auto r = l.ImportContacts(req, tacet::Actor{"fuzz", "", "fuzz"});
  tacet::fuzz::RequireUnchanged(l, before, r.status());
  if (!r.ok() && !tacet::IsValidUtf8(r.status().message())) std::abort();
  if (r.ok() && l.log().head().seq != before + r->recorded + r->blocks) std::abort();
  return 0;
}
