// A real ledger for the fuzz targets that record: RocksDB in a temporary
// directory made once per process, without syncs (a fuzzer's thousands of
// inputs a second must not wait on the disk). Each target checks the rule of
// every refusal: the head is exactly where it was.
#pragma once

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "tacet/projections/ledger.h"

namespace tacet::fuzz {

inline Ledger& FuzzLedger() {
  static Ledger* ledger = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tacet-fuzz-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    LedgerOptions o;
    o.data_dir = tmpl;
    o.create_if_missing = true;
    o.sync = false;
    auto l = Ledger::Open(o);
    if (!l.ok()) {
      std::fprintf(stderr, "cannot open the fuzz ledger: %s\n", l.status().message().c_str());
      std::abort();
    }
    return std::move(l).value().release();  // lives as long as the process
  }();
  return *ledger;
}

// Aborts (a finding) when a refused write moved the head.
inline void RequireUnchanged(const Ledger& l, uint64_t before, const Status& st) {
  if (!st.ok() && l.log().head().seq != before) {
    std::fprintf(stderr, "a refused write moved the head from %llu to %llu: %s\n",
                 static_cast<unsigned long long>(before),
                 static_cast<unsigned long long>(l.log().head().seq), st.message().c_str());
    std::abort();
  }
}

}  // namespace tacet::fuzz
