// Group commit for a ledger with many writers (the way databases share one
// log flush among concurrent transactions): writes queue up; one thread
// executes them in groups without waiting for the disk; a second makes each
// group durable with one sync (the data keys, then the WAL: Ledger::SyncWal)
// and only then completes its writes. While one group syncs, the next
// executes, so throughput is bounded by the slower of the two, not their
// sum. A failed sync is sticky: the ledger refuses every later write until
// it is reopened, and every write of the group completes with the failure.
// Any host of a ledger (tacetd, an embedding service) gets the same
// durability from this one place; the ledger must be opened with
// LedgerOptions::sync off, or each write waits for the disk anyway.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tacet/core/status.h"

namespace tacet {

class Ledger;

class GroupCommit {
 public:
  struct Job {
    size_t items = 1;  // writes it holds: what the queue's bound counts
    // On the writer thread: the job's writes on the ledger, not yet durable.
    std::function<void()> execute;
    // On the syncer thread, once the job's group is durable (`durable` ok)
    // or could not be made so.
    std::function<void(const Status& durable)> complete;
  };
  // What one sync covered, for the host's bookkeeping.
  struct Synced {
    Status durable;            // the sync's result (or the sticky error it met)
    bool sync_failed = false;  // this sync failed (not an earlier one)
    // The events appended by each group it covered: seqs [first, last].
    std::vector<std::pair<uint64_t, uint64_t>> appended;
  };
  struct Hooks {
    // On the syncer thread, after each sync and before its jobs complete
    // (tacetd publishes the new events to subscribers), and after they
    // complete (tacetd writes its log lines).
    std::function<void(const Synced&)> synced;
    std::function<void(const Synced&)> completed;
  };

  // Starts the writer and the syncer. `ledger` outlives this.
  GroupCommit(Ledger& ledger, size_t max_queued_items, Hooks hooks = {});
  // Stop().
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Queues a job; false (and nothing queued) when the items already queued
  // and the job's would pass the bound, or after Stop.
  bool Submit(std::shared_ptr<Job> job);
  // Every job submitted so far executes and completes, then both threads
  // end. Later submissions are refused.
  void Stop();
  void set_max_queued_items(size_t n) { max_queued_.store(n); }
  // Syncs that covered at least one appended event.
  uint64_t group_commits() const { return group_commits_.load(std::memory_order_relaxed); }

 private:
  struct Group {
    std::vector<std::shared_ptr<Job>> jobs;
    uint64_t before = 0, after = 0;  // the head's seq around their execution
  };
  void WriterLoop();
  void SyncLoop();

  Ledger& ledger_;
  Hooks hooks_;
  std::atomic<size_t> max_queued_;
  std::atomic<uint64_t> group_commits_{0};

  std::mutex writer_mu_;
  std::condition_variable writer_cv_;
  std::deque<std::shared_ptr<Job>> writer_queue_;  // guarded by writer_mu_
  size_t queued_items_ = 0;                        // guarded by writer_mu_
  bool writer_exit_ = false;                       // guarded by writer_mu_

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<Group> sync_queue_;  // guarded by sync_mu_
  bool sync_exit_ = false;        // guarded by sync_mu_

  std::thread writer_, syncer_;  // last: they start once the rest is ready
};

}  // namespace tacet
