// tacetd's statistics: counts and latency percentiles per operation.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "tacet/service/service.h"

namespace tacet {

using Clock_ = std::chrono::steady_clock;

// ---------------------------------------------------------------- stats

// Counts and a log-linear latency histogram per operation (4 buckets per
// power of two of nanoseconds): lock-free to record, read by `stats`.
class Stats {
 public:
  static constexpr size_t kBuckets = 64 * 4;

  void Record(size_t op, bool ok, Clock_::duration d) {
    Op& o = ops_[op];
    o.count.fetch_add(1, std::memory_order_relaxed);
    if (!ok) o.errors.fetch_add(1, std::memory_order_relaxed);
    uint64_t ns =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    o.buckets[Bucket(ns)].fetch_add(1, std::memory_order_relaxed);
  }

  json ToJson() const {
    json out = json::object();
    const auto& all = AllOps();
    for (size_t i = 0; i < all.size(); ++i) {
      const Op& o = ops_[i];
      uint64_t n = o.count.load(std::memory_order_relaxed);
      if (n == 0) continue;
      std::array<uint64_t, kBuckets> b{};
      uint64_t total = 0;
      for (size_t k = 0; k < kBuckets; ++k)
        total += b[k] = o.buckets[k].load(std::memory_order_relaxed);
      auto pct = [&](double p) {
        uint64_t want = static_cast<uint64_t>(p * static_cast<double>(total)), seen = 0;
        for (size_t k = 0; k < kBuckets; ++k) {
          seen += b[k];
          if (seen > want) return static_cast<double>(Upper(k)) / 1000.0;
        }
        return static_cast<double>(Upper(kBuckets - 1)) / 1000.0;
      };
      out[std::string(all[i].name)] = {
          {"count", n},          {"errors", o.errors.load(std::memory_order_relaxed)},
          {"p50_us", pct(0.50)}, {"p90_us", pct(0.90)},
          {"p99_us", pct(0.99)}, {"p999_us", pct(0.999)}};
    }
    return out;
  }

 private:
  static size_t Bucket(uint64_t ns) {
    if (ns < 4) return static_cast<size_t>(ns);
    int log = 63 - __builtin_clzll(ns);
    size_t sub = static_cast<size_t>((ns >> (log - 2)) & 3);
    return std::min(kBuckets - 1, static_cast<size_t>(log) * 4 + sub);
  }
  // The largest value of bucket k (an upper bound on its members).
  static uint64_t Upper(size_t k) {
    if (k < 4) return k;
    size_t log = k / 4, sub = k % 4;
    return ((4 + sub + 1) << (log - 2)) - 1;
  }
  struct Op {
    std::atomic<uint64_t> count{0}, errors{0};
    std::array<std::atomic<uint64_t>, kBuckets> buckets{};
  };
  // One slot per operation of the table, however many it grows to.
  std::unique_ptr<Op[]> ops_ = std::make_unique<Op[]>(AllOps().size());
};

inline size_t OpIndex(const OpSpec* op) { return static_cast<size_t>(op - AllOps().data()); }

}  // namespace tacet
