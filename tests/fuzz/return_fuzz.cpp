// Registry returns (either layout, plain or zipped) imported into a real
// session of a real ledger: imported, or refused leaving the ledger as it
// was.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_ledger.h"
#include "tacet/core/clock.h"
#include "tacet/core/time.h"

namespace {

// One export session of ten numbers, +39347100000[0-9], made once.
uint64_t Session(tacet::Ledger& l) {
  static uint64_t id = [&] {
    tacet::ExportRequest ex;
    ex.candidates_path = "fuzz-candidates";
    std::string list;
    for (int i = 0; i < 10; ++i) list += "+39347100000" + std::to_string(i) + "\n";
    ex.candidates_content = list;
    ex.out_dir = l.options().data_dir + "/exports";
    auto r = l.Export(ex, tacet::Actor{"fuzz", "", "fuzz"});
    if (!r.ok() || r->files.empty()) std::abort();
    return r->files[0].session_id;
  }();
  return id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tacet::Ledger& l = tacet::fuzz::FuzzLedger();
  tacet::ImportRequest req;
  req.session_id = Session(l);
  req.received = tacet::FormatDate(l.zone().DayOf(l.clock().NowMs()));
  req.path = "fuzz-return.txt";
  req.content = std::string(reinterpret_cast<const char*>(data), size);
  req.supersede = true;
  const uint64_t before = l.log().head().seq;
  auto r = l.ImportReturn(req, tacet::Actor{"fuzz", "", "fuzz"});
  tacet::fuzz::RequireUnchanged(l, before, r.status());
  return 0;
}
