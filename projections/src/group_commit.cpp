// Group commit: a writer thread executes groups of writes, a syncer makes
// each group durable with one sync and completes it
// (tacet/projections/group_commit.h).
#include "tacet/projections/group_commit.h"

#include <algorithm>

#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

// Waits (on `lock`, of `q`) until `q` has items or `exit` is set, then moves
// every item to `out`. False when exiting with nothing left.
template <class T>
bool TakeAll(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, std::deque<T>& q,
             const bool& exit, std::vector<T>& out) {
  cv.wait(lock, [&] { return exit || !q.empty(); });
  if (q.empty()) return false;
  for (T& item : q) out.push_back(std::move(item));
  q.clear();
  return true;
}

}  // namespace

GroupCommit::GroupCommit(Ledger& ledger, size_t max_queued_items, Hooks hooks)
    : ledger_(ledger),
      hooks_(std::move(hooks)),
      max_queued_(max_queued_items),
      writer_([this] { WriterLoop(); }),
      syncer_([this] { SyncLoop(); }) {}

GroupCommit::~GroupCommit() { Stop(); }

bool GroupCommit::Submit(std::shared_ptr<Job> job) {
  std::lock_guard lock(writer_mu_);
  if (writer_exit_ || queued_items_ + job->items > max_queued_.load()) return false;
  queued_items_ += job->items;
  writer_queue_.push_back(std::move(job));
  writer_cv_.notify_one();
  return true;
}

void GroupCommit::Stop() {
  {
    std::lock_guard lock(writer_mu_);
    writer_exit_ = true;
  }
  writer_cv_.notify_one();
  if (writer_.joinable()) writer_.join();  // it tells the syncer to end
  if (syncer_.joinable()) syncer_.join();
}

void GroupCommit::WriterLoop() {
  std::vector<std::shared_ptr<Job>> jobs;
  for (;;) {
    {
      std::unique_lock lock(writer_mu_);
      if (!TakeAll(lock, writer_cv_, writer_queue_, writer_exit_, jobs)) break;
      queued_items_ = 0;
    }
    Group g;
    g.before = ledger_.log().head().seq;
    for (auto& job : jobs)
      if (job->execute) job->execute();
    g.after = ledger_.log().head().seq;
    g.jobs = std::move(jobs);
    jobs.clear();
    {
      std::lock_guard lock(sync_mu_);
      sync_queue_.push_back(std::move(g));
    }
    sync_cv_.notify_one();
  }
  {
    std::lock_guard lock(sync_mu_);
    sync_exit_ = true;
  }
  sync_cv_.notify_one();
}

void GroupCommit::SyncLoop() {
  std::vector<Group> groups;
  for (;;) {
    {
      std::unique_lock lock(sync_mu_);
      if (!TakeAll(lock, sync_cv_, sync_queue_, sync_exit_, groups)) return;
    }
    Synced synced;
    for (const Group& g : groups)
      if (g.after != g.before) synced.appended.emplace_back(g.before + 1, g.after);
    synced.durable = ledger_.log().sticky_error();
    if (!synced.appended.empty() && synced.durable.ok()) {
      synced.durable = ledger_.SyncWal();
      synced.sync_failed = !synced.durable.ok();
      group_commits_.fetch_add(1, std::memory_order_relaxed);
    }
    if (hooks_.synced) hooks_.synced(synced);
    for (Group& g : groups)
      for (auto& job : g.jobs)
        if (job->complete) job->complete(synced.durable);
    if (hooks_.completed) hooks_.completed(synced);
    groups.clear();
  }
}

}  // namespace tacet
