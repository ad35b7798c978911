// tacet-bench's shared pieces: timing, medians, the synthetic numbers, and a
// seeded ledger (N candidates exported and their return imported).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tacet/core/status.h"
#include "tacet/projections/ledger.h"

namespace tacet::bench {

using Wall = std::chrono::steady_clock;

inline double Seconds(Wall::time_point since) {
  return std::chrono::duration<double>(Wall::now() - since).count();
}

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The p-quantile (0..1) of `v`, sorted in place.
inline double Quantile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// Where Die writes: stderr, or the terminal's stderr saved while the daemon
// bench sends fd 2 (tacetd's log) to a file.
inline int& DieFd() {
  static int fd = 2;
  return fd;
}

[[noreturn]] inline void Die(const Status& s) {
  dprintf(DieFd(), "tacet-bench: %s\n", s.ToString().c_str());
  std::exit(1);
}

// The k-th synthetic number, half national fixed ("06 1000001"), half
// international mobile ("+39 347 1000000"), as CRMs write them.
inline std::string Phone(uint64_t k) {
  return (k % 2 ? "06 " : "+39 347 ") + std::to_string(1'000'000 + k);
}

struct Options {
  uint64_t numbers = 1'000'000;
  int runs = 3;
  uint64_t checks = 100'000;
  std::string tmp;
  std::string only;      // --daemon: one measure (sequential, pipelined, batch, writes)
  uint32_t threads = 0;  // --daemon: tacetd's I/O threads (0: the config's default)
  std::string tacet;     // --cli: the tacet binary
  bool caps = false;     // --daemon: a cap and calling hours over every number checked
};

// An RPO cycle on `ledger`: N candidates (Phone(0..N-1)) written under
// `dir` and exported, then their N-line return imported with every tenth
// number listed and the rest cleared from today. Timed.
struct Seeded {
  ExportReport exported;
  ImportReport imported;
  double export_s = 0, import_s = 0;
};
Seeded SeedRpo(Ledger& ledger, const std::string& dir, uint64_t n);

// Issues 2 and 3: export, import, check, decide, rebuild on the library.
int RunLedgerBench(const Options& o);
// Issue 4: tacetd over its Unix socket.
int RunDaemonBench(const Options& o);
// Issue 16: whole `tacet export` and `tacet import-return` processes.
int RunCliBench(const Options& o);
// Issue 17: whole `tacet contact import` and `tacet audit` processes.
int RunContactBench(const Options& o);
// Runs argv to its end, stderr to `log` and stdout to `out` (empty: to
// `log` too); the wall seconds from spawn to exit. Dies when it fails.
double TimedProcess(const std::vector<std::string>& args, const std::string& log,
                    const std::string& out);

}  // namespace tacet::bench
