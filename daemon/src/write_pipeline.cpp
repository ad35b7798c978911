// tacetd's write pipeline: the writer thread executes groups of writes, the
// syncer makes each group durable with one WAL sync and answers it, the
// checkpointer signs the head after a quiet interval.
#include "session.h"

namespace tacet {

bool Server::Impl::SubmitWrite(std::shared_ptr<WriteJob> job) {
  std::lock_guard lock(writer_mu_);
  if (queued_items_ + job->items.size() > max_queued_writes_.load()) return false;
  queued_items_ += job->items.size();
  writer_queue_.push_back(std::move(job));
  writer_cv_.notify_one();
  return true;
}

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

// The writer executes groups of writes (no sync) and hands each group that
// appended events to the syncer; the syncer makes everything handed so far
// durable with one WAL sync, then answers. While one group syncs, the next
// executes: throughput is bounded by the slower of the two, not their sum
// (RocksDB's SyncWAL does not block writes of other threads).
void Server::Impl::WriterLoop() {
  std::vector<std::shared_ptr<WriteJob>> group;
  for (;;) {
    {
      std::unique_lock lock(writer_mu_);
      if (!TakeAll(lock, writer_cv_, writer_queue_, writer_exit_, group)) break;
      queued_items_ = 0;
    }
    const Status sticky = Sticky();
    const uint64_t before = ledger_->log().head().seq;
    for (auto& job : group) {
      for (WriteItem& w : job->items) {
        if (w.answered) continue;
        if (!read_only_.ok()) {
          w.reply = Reply::Error(errc::kIOError, read_only_.message());
          continue;
        }
        if (!sticky.ok()) {
          w.reply = Reply::Error(errc::kIOError, "an earlier write failed to reach the disk (" +
                                                     sticky.message() + "); restart tacetd");
          continue;
        }
        if (w.op->name == "reload") {
          if (auto bad = Service::CheckArguments(*w.op, w.args)) {
            w.reply = std::move(*bad);
            continue;
          }
          std::vector<std::string> changes;
          Status st = Reload(&changes);
          if (st.ok()) {
            w.reply.result = {{"reloaded", true},
                              {"head_seq", ledger_->log().head().seq},
                              {"policy_changes", changes}};
          } else {
            w.reply = Reply::Error(errc::kBadRequest, st.message());
          }
          continue;
        }
        w.reply = service_->Execute(*w.op, w.args, w.ctx);
      }
    }
    const uint64_t after = ledger_->log().head().seq;
    std::lock_guard lock(sync_mu_);
    sync_queue_.push_back(SyncGroup{std::move(group), before, after});
    sync_cv_.notify_one();
    group.clear();
  }
  std::lock_guard lock(sync_mu_);
  sync_exit_ = true;
  sync_cv_.notify_one();
}

void Server::Impl::CheckpointLoop() {
  if (!ledger_->log().has_checkpoint_key()) return;
  const auto interval =
      std::chrono::milliseconds(std::max<uint32_t>(ledger_->options().checkpoint.interval_ms, 10));
  std::unique_lock lock(checkpoint_mu_);
  while (!checkpoint_cv_.wait_for(lock, interval, [&] { return checkpoint_exit_; })) {
    if (!Sticky().ok()) continue;
    auto made = ledger_->log().Checkpoint(/*only_when_due=*/true);
    if (!made.ok()) {
      log_.Write(spdlog::level::critical, "checkpoint failed; refusing every further write",
                 {{"error", made.status().message()}});
    }
  }
}

void Server::Impl::SyncLoop() {
  std::vector<SyncGroup> groups;
  std::vector<json> lines;
  for (;;) {
    {
      std::unique_lock lock(sync_mu_);
      if (!TakeAll(lock, sync_cv_, sync_queue_, sync_exit_, groups)) return;
    }
    const bool appended = std::any_of(groups.begin(), groups.end(),
                                      [](const SyncGroup& g) { return g.after != g.before; });
    Status st = Sticky();
    if (appended && st.ok()) {
      st = ledger_->SyncWal();
      if (!st.ok()) {
        log_.Write(spdlog::level::critical, "WAL sync failed; refusing every further write",
                   {{"error", st.message()}});
      }
    }
    // One log line per durable write, written once the writers are answered.
    const bool log_writes = log_.enabled(spdlog::level::info);
    size_t ok_writes = 0;
    for (SyncGroup& g : groups)
      for (auto& job : g.jobs)
        for (WriteItem& w : job->items) {
          if (w.answered || !w.reply.ok || w.op->name == "reload") continue;
          if (!st.ok()) {
            w.reply = Reply::Error(errc::kIOError, "the write may not be durable: " + st.message());
            continue;
          }
          ++ok_writes;
          if (log_writes)
            lines.push_back({{"op", std::string(w.op->name)},
                             {"peer", w.ctx.actor.os_user},
                             {"seq", w.reply.result.value("seq", json(nullptr))},
                             {"subject", w.reply.result.value("subject", json(nullptr))}});
        }
    group_commits_.fetch_add(appended ? 1 : 0, std::memory_order_relaxed);
    committed_writes_.fetch_add(ok_writes, std::memory_order_relaxed);
    if (st.ok())
      for (SyncGroup& g : groups)
        if (g.after != g.before) Publish(g.before + 1, g.after);
    for (SyncGroup& g : groups)
      for (auto& job : g.jobs)
        if (job->done) job->done(job);
    groups.clear();
    for (const json& fields : lines) log_.Buffer(spdlog::level::info, "write", fields);
    if (!lines.empty()) log_.Flush();
    lines.clear();
  }
}

}  // namespace tacet
