// tacet-bench: measures the speed targets of the issues on fresh ledgers in
// temporary directories (a benchmark, never a timed test). Prints each run
// and the median of --runs runs.
//   tacet-bench            export, import, check, decide, rebuild (library)
//   tacet-bench --daemon   tacetd over its socket: sequential, pipelined and
//                          batched checks, durable writes from 32 clients
//   tacet-bench --cli      whole tacet processes: export and import-return
//   tacet-bench --contacts whole tacet processes: contact import and audit
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "bench.h"
#include "tacet/core/allocator.h"

int main(int argc, char** argv) {
  using namespace tacet;
  // As tacet and tacetd: the ledgers' directories and files are the
  // owner's alone (a writer refuses a data directory others can read).
  ::umask(077);
  CLI::App app{"tacet-bench: the speed targets, measured on fresh temporary ledgers"};
  bench::Options o;
  o.tmp = std::filesystem::temp_directory_path().string();
  bool daemon = false, cli = false, contacts = false;
  o.tacet = (std::filesystem::path(argv[0]).parent_path() / "../tacet/tacet").lexically_normal();
  app.add_option("--numbers", o.numbers, "Candidates exported and returned (default 1000000)");
  app.add_option("--runs", o.runs, "Runs; the median is reported (default 3)");
  app.add_option("--checks", o.checks, "Checks timed per measure and run (default 100000)");
  app.add_option("--tmp", o.tmp, "Where the temporary ledgers go");
  app.add_option("--only", o.only, "With --daemon: only this measure")
      ->check(CLI::IsMember({"sequential", "pipelined", "batch", "writes"}));
  app.add_option("--threads", o.threads, "With --daemon: tacetd's I/O threads (default 2)");
  app.add_flag("--caps", o.caps,
               "With --daemon: a frequency cap and calling hours cover every number checked");
  app.add_flag("--daemon", daemon, "Measure tacetd over its Unix socket instead of the library");
  app.add_flag("--cli", cli, "Time whole tacet export and import-return processes");
  app.add_flag("--contacts", contacts,
               "Time whole tacet contact import and audit processes (--numbers attempts)");
  app.add_option("--tacet", o.tacet,
                 "With --cli or --contacts: the tacet binary (default: the build's)");
  CLI11_PARSE(app, argc, argv);
  std::printf("allocator: %s\n", AllocatorInfo().c_str());
  if (cli) return bench::RunCliBench(o);
  if (contacts) return bench::RunContactBench(o);
  return daemon ? bench::RunDaemonBench(o) : bench::RunLedgerBench(o);
}
