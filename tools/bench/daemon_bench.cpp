// Issue 4: tacetd over its Unix socket. An in-process server (the same
// Server as tacetd, two I/O threads) on a ledger seeded with an RPO cycle of
// N numbers; clients are real sockets in this process. Per run:
//   sequential  one client, one check at a time: rate, p50 and p99 latency
//   pipelined   one connection, a sender thread writing every request while
//               the main thread reads the replies
//   batch       check_batch of 10,000 subjects, one batch at a time
//   writes      32 clients, each one durable consent_grant at a time
//   (before it: the same number of bare RocksDB synced writes from 32 threads,
//   what the storage engine alone does on this disk)
// Every reply is checked to be a result; an error stops the benchmark.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rocksdb/db.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bench.h"
#include "tacet/daemon/client.h"
#include "tacet/daemon/server.h"
#include "tacet/service/config.h"

namespace tacet::bench {
namespace {

constexpr const char* kPolicy = R"(
[consent_types.mkt]
title = "Marketing"
validity_days = 365
uses = ["phone", "email", "newsletter"]

[reasons.callback]
title = "Asked to be called back"

[daemon]
log_level = "info"  # the default: a line per write, in DIR/tacetd.log
)";

// --caps (issue 17): a cap and calling hours that cover every number the
// bench checks, so each voice decision also reads its range of attempts.
constexpr const char* kCapsPolicy = R"(
[caps.it-bench]
regions = ["IT"]
channels = ["voice"]
max_attempts = 3
window_hours = 24
cool_down_days = 7

[calling_hours]
it-code-of-conduct = true
)";

constexpr size_t kBatch = 10'000;
constexpr int kWriters = 32;

Client Connect(const std::string& socket) {
  auto c = Client::Connect(socket);
  if (!c.ok()) Die(c.status());
  return std::move(c).value();
}

std::string ReadReply(Client& c) {
  auto line = c.ReadLine();
  if (!line.ok()) Die(line.status());
  if (line->find("\"result\":") == std::string::npos)
    Die(Status::Internal("tacetd answered an error: " + *line));
  return std::move(line).value();
}

// CPU time of this process (the daemon and its clients), all threads.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The floor under sequential checks: 100-byte round trips over a Unix
// socket pair between two threads of this process, nothing else.
double RawRoundTripsPerSecond(uint64_t n) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) Die(Status::IOError("socketpair"));
  auto exact = [](int fd, char* b, bool write) {
    size_t done = 0;
    while (done < 100) {
      ssize_t k = write ? ::write(fd, b + done, 100 - done) : ::read(fd, b + done, 100 - done);
      if (k <= 0) Die(Status::IOError("socket pair"));
      done += static_cast<size_t>(k);
    }
  };
  std::thread echo([&] {
    char b[100];
    for (uint64_t i = 0; i < n; ++i) {
      exact(sv[1], b, false);
      exact(sv[1], b, true);
    }
  });
  char b[100] = {};
  auto t0 = Wall::now();
  for (uint64_t i = 0; i < n; ++i) {
    exact(sv[0], b, true);
    exact(sv[0], b, false);
  }
  const double rate = static_cast<double>(n) / Seconds(t0);
  echo.join();
  ::close(sv[0]);
  ::close(sv[1]);
  return rate;
}

// The floor under durable writes: `threads` threads each writing one
// 380-byte record at a time (what a consent_grant adds to the WAL) with
// RocksDB's own synced writes (its group commit), nothing else: no socket,
// no request, no projection. `n` writes in all, in a fresh store under `dir`.
double RawSyncedWritesPerSecond(const std::string& dir, int threads, uint64_t n) {
  std::filesystem::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw); !s.ok())
    Die(Status::IOError("bare RocksDB store " + dir + ": " + s.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw);
  const uint64_t per_thread = std::max<uint64_t>(1, n / static_cast<uint64_t>(threads));
  const std::string value(380, 'v');
  std::atomic<bool> failed{false};
  std::vector<std::thread> ts;
  auto t0 = Wall::now();
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      for (uint64_t i = 0; i < per_thread; ++i)
        if (!db->Put(wo, std::to_string(t) + ":" + std::to_string(i), value).ok()) failed = true;
    });
  for (auto& t : ts) t.join();
  const double rate =
      static_cast<double>(per_thread * static_cast<uint64_t>(threads)) / Seconds(t0);
  db.reset();
  std::filesystem::remove_all(dir);
  if (failed) Die(Status::IOError("a synced write to the bare RocksDB store failed"));
  return rate;
}

std::string CheckLine(uint64_t id, uint64_t k) {
  std::string r = "{\"id\":";
  r += std::to_string(id);
  r += ",\"op\":\"check\",\"subject\":\"";
  r += Phone(k);
  r += "\",\"channel\":\"voice\"}\n";
  return r;
}

struct Run {
  double pipelined_cpu_us = 0;  // CPU of the process (clients and daemon) per check
  double batch_cpu_us = 0;      // ... per subject of a check_batch
  double writes_cpu_us = 0;     // and per write
  double raw_per_s = 0;         // bare socket round trips, just before
  double raw_writes_per_s = 0;  // bare RocksDB synced writes from as many threads, just before
  double seq_per_s = 0, p50_us = 0, p99_us = 0, pipelined_per_s = 0, batch_per_s = 0,
         writes_per_s = 0;
};

Run OneRun(const std::string& socket, const std::string& dir, uint64_t n, uint64_t checks,
           const std::string& only, std::mt19937_64& rng, uint64_t& write_base,
           const std::string& today) {
  Run r;
  auto want = [&](const char* m) { return only.empty() || only == m; };
  // Sequential, with each round trip timed.
  if (want("sequential")) {
    r.raw_per_s = RawRoundTripsPerSecond(checks);
    Client c = Connect(socket);
    std::vector<double> lat;
    lat.reserve(checks);
    auto t0 = Wall::now();
    for (uint64_t i = 0; i < checks; ++i) {
      std::string req = CheckLine(i, rng() % n);
      auto s = Wall::now();
      if (Status st = c.Send(req); !st.ok()) Die(st);
      ReadReply(c);
      lat.push_back(std::chrono::duration<double, std::micro>(Wall::now() - s).count());
    }
    r.seq_per_s = static_cast<double>(checks) / Seconds(t0);
    r.p50_us = Quantile(lat, 0.50);
    r.p99_us = Quantile(lat, 0.99);
  }
  // Pipelined on one connection.
  if (want("pipelined")) {
    Client c = Connect(socket);
    std::vector<uint64_t> keys(checks);
    for (auto& k : keys) k = rng() % n;
    auto t0 = Wall::now();
    const double cpu0 = CpuSeconds();
    std::thread sender([&] {
      std::string buf;
      for (uint64_t i = 0; i < checks; ++i) {
        buf += CheckLine(i, keys[i]);
        if (buf.size() >= (1 << 16) || i + 1 == checks) {
          if (Status st = c.Send(buf); !st.ok()) Die(st);
          buf.clear();
        }
      }
    });
    for (uint64_t i = 0; i < checks; ++i) ReadReply(c);
    r.pipelined_per_s = static_cast<double>(checks) / Seconds(t0);
    r.pipelined_cpu_us = (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(checks);
    sender.join();
  }
  // check_batch: ten times as many subjects as single checks.
  if (want("batch")) {
    Client c = Connect(socket);
    const uint64_t batches = std::max<uint64_t>(1, checks * 10 / kBatch);
    std::vector<std::string> reqs;
    for (uint64_t b = 0; b < batches; ++b) {
      std::string req = "{\"id\":" + std::to_string(b) + ",\"op\":\"check_batch\",\"subjects\":[";
      for (size_t i = 0; i < kBatch; ++i) {
        if (i) req += ',';
        req += '"';
        req += Phone(rng() % n);
        req += '"';
      }
      req += "],\"channel\":\"voice\"}\n";
      reqs.push_back(std::move(req));
    }
    auto t0 = Wall::now();
    const double cpu0 = CpuSeconds();
    for (const std::string& req : reqs) {
      if (Status st = c.Send(req); !st.ok()) Die(st);
      ReadReply(c);
    }
    r.batch_per_s = static_cast<double>(batches * kBatch) / Seconds(t0);
    r.batch_cpu_us = (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(batches * kBatch);
  }
  // Durable writes: 32 clients, one consent at a time each, on numbers
  // never consented before.
  if (want("writes")) {
    const uint64_t per_client = std::max<uint64_t>(1, checks / 20 / kWriters);
    r.raw_writes_per_s = RawSyncedWritesPerSecond(dir + "/bare-rocksdb", kWriters, checks / 20);
    std::vector<std::thread> ts;
    auto t0 = Wall::now();
    const double cpu0 = CpuSeconds();
    for (int w = 0; w < kWriters; ++w) {
      uint64_t base = write_base + static_cast<uint64_t>(w) * per_client;
      ts.emplace_back([&socket, &today, base, per_client] {
        Client c = Connect(socket);
        for (uint64_t i = 0; i < per_client; ++i) {
          std::string req = "{\"id\":" + std::to_string(i) +
                            ",\"op\":\"consent_grant\",\"type\":\"mkt\",\"given\":\"" + today +
                            "\",\"evidence\":\"bench\",\"subject\":\"" + Phone(base + i) + "\"}\n";
          if (Status st = c.Send(req); !st.ok()) Die(st);
          ReadReply(c);
        }
      });
    }
    for (auto& t : ts) t.join();
    r.writes_per_s = static_cast<double>(per_client * kWriters) / Seconds(t0);
    r.writes_cpu_us = (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(per_client * kWriters);
    write_base += per_client * kWriters;
  }
  return r;
}

}  // namespace

int RunDaemonBench(const Options& opt) {
  namespace fs = std::filesystem;
  const std::string dir = opt.tmp + "/tacet-bench-daemon-" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto cfg = ParseConfig(std::string(kPolicy) + (opt.caps ? kCapsPolicy : ""), "tacet-bench");
  if (!cfg.ok()) Die(cfg.status());
  Config config = std::move(cfg).value();
  config.ledger.data_dir = dir + "/data";
  config.ledger.create_if_missing = true;
  config.ledger.reconcile_policy = true;  // as tacet init would
  config.daemon.socket = dir + "/tacet.sock";
  if (opt.threads > 0) config.daemon.threads = opt.threads;
  std::string today;
  {
    auto ledger = Ledger::Open(config.ledger);
    if (!ledger.ok()) Die(ledger.status());
    Seeded s = SeedRpo(**ledger, dir, opt.numbers);
    today = FormatDate((*ledger)->zone().DayOf((*ledger)->clock().NowMs()));
    std::printf("seeded: %llu numbers exported and returned (%llu cleared, %llu listed)\n",
                static_cast<unsigned long long>(s.exported.exported),
                static_cast<unsigned long long>(s.imported.cleared),
                static_cast<unsigned long long>(s.imported.listed));
  }
  // tacetd logs to stderr: sent to a file for the run, as journald would take it.
  const int terminal = dup(STDERR_FILENO);
  const int log_fd = open((dir + "/tacetd.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (terminal < 0 || log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0)
    Die(Status::IOError("cannot send tacetd's log to " + dir + "/tacetd.log"));
  close(log_fd);
  DieFd() = terminal;
  ServerOptions so;
  so.config = config;
  so.handle_signals = false;
  const auto start = Wall::now();
  auto server = Server::Start(so);
  if (!server.ok()) Die(server.status());
  std::printf("tacetd ready in %.2f s (store opened, projections loaded into memory)\n",
              Seconds(start));
  Status served;
  std::thread serving([&] { served = (*server)->Run(); });

  std::mt19937_64 rng(42);
  // Consents go to numbers past the seeded ones: each is a new event.
  uint64_t write_base = opt.numbers;
  std::vector<double> raw, seq, p50, p99, pipelined, batch, writes, raw_writes;
  for (int run = 1; run <= opt.runs; ++run) {
    Run r = OneRun(config.daemon.socket, dir, opt.numbers, opt.checks, opt.only, rng, write_base,
                   today);
    raw.push_back(r.raw_per_s);
    seq.push_back(r.seq_per_s);
    p50.push_back(r.p50_us);
    p99.push_back(r.p99_us);
    pipelined.push_back(r.pipelined_per_s);
    batch.push_back(r.batch_per_s);
    writes.push_back(r.writes_per_s);
    raw_writes.push_back(r.raw_writes_per_s);
    std::printf(
        "run %d: sequential %.0f checks/s (p50 %.1f us, p99 %.1f us; bare socket round trips "
        "%.0f/s), pipelined %.0f checks/s "
        "(%.1f us of CPU each), "
        "check_batch %.0f subjects/s (%.2f us of CPU each), durable writes from %d clients %.0f/s "
        "(%.1f us of CPU each; bare RocksDB synced writes from as many threads %.0f/s)\n",
        run, r.seq_per_s, r.p50_us, r.p99_us, r.raw_per_s, r.pipelined_per_s, r.pipelined_cpu_us,
        r.batch_per_s, r.batch_cpu_us, kWriters, r.writes_per_s, r.writes_cpu_us,
        r.raw_writes_per_s);
    std::fflush(stdout);
  }
  {
    // The daemon's own view: time from a request line's parse to its reply
    // queued, per operation (the stats op).
    Client c = Connect(config.daemon.socket);
    if (Status st = c.Send("{\"id\":0,\"op\":\"stats\"}\n"); !st.ok()) Die(st);
    auto all = nlohmann::json::parse(ReadReply(c))["result"];
    auto stats = all["ops"];
    std::printf("tacetd's projections in memory: %.0f MB\n",
                all["projections_in_memory_bytes"].get<double>() / 1e6);
    if (all["group_commits"].get<uint64_t>() > 0)
      std::printf("in tacetd: %llu writes in %llu group commits (%.1f per WAL sync)\n",
                  static_cast<unsigned long long>(all["committed_writes"].get<uint64_t>()),
                  static_cast<unsigned long long>(all["group_commits"].get<uint64_t>()),
                  all["committed_writes"].get<double>() / all["group_commits"].get<double>());
    std::printf(
        "in tacetd, from a request line parsed to its reply queued (a check of a pipelined run "
        "waits for the whole run):\n");
    for (const char* op : {"check", "check_batch", "consent_grant"})
      if (stats.contains(op))
        std::printf("  %s: p50 %.1f us, p99 %.1f us over %llu requests\n", op,
                    stats[op]["p50_us"].get<double>(), stats[op]["p99_us"].get<double>(),
                    static_cast<unsigned long long>(stats[op]["count"].get<uint64_t>()));
  }
  (*server)->Stop();
  serving.join();
  if (!served.ok()) Die(served);
  std::printf(
      "median of %d: sequential %.0f checks/s (bare socket %.0f/s), p50 %.1f us, p99 %.1f us, "
      "pipelined %.0f "
      "checks/s, check_batch %.0f subjects/s, durable writes from %d clients %.0f/s (bare "
      "RocksDB %.0f/s)\n",
      opt.runs, Median(seq), Median(raw), Median(p50), Median(p99), Median(pipelined),
      Median(batch), kWriters, Median(writes), Median(raw_writes));
  server->reset();
  dup2(terminal, STDERR_FILENO);
  close(terminal);
  DieFd() = STDERR_FILENO;
  {
    std::ifstream in(dir + "/tacetd.log");
    size_t lines = 0, write_lines = 0;
    for (std::string line; std::getline(in, line); ++lines)
      write_lines += line.find(" info write op=") != std::string::npos;
    std::printf("tacetd's log at info: %zu lines, %zu of them for writes\n", lines, write_lines);
  }
  fs::remove_all(dir);
  return 0;
}

}  // namespace tacet::bench
