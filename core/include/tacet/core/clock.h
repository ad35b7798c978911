// Clock: where the ledger learns the time. Injected so tests and replays are
// deterministic. Times are UTC milliseconds since the Unix epoch.
#pragma once

#include <atomic>
#include <cstdint>

namespace tacet {

using TimeMs = int64_t;  // UTC milliseconds since 1970-01-01T00:00:00Z

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual TimeMs NowMs() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  TimeMs NowMs() const override;
  static SystemClock* Default();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs now) : now_(now) {}
  TimeMs NowMs() const override { return now_.load(); }
  void Set(TimeMs now) { now_.store(now); }
  void Advance(TimeMs delta) { now_.fetch_add(delta); }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace tacet
