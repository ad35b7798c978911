// tacetd's writes: each session's write job goes through the ledger's group
// commit (GroupCommit: its writer executes groups, its syncer makes each
// durable with one sync and completes it); the checkpointer signs the head
// after a quiet interval.
#include "session.h"

namespace tacet {

bool Server::Impl::SubmitWrite(std::shared_ptr<WriteJob> job) {
  auto gc = std::make_shared<GroupCommit::Job>();
  gc->items = job->items.size();
  gc->execute = [this, job] { ExecuteWrites(*job); };
  gc->complete = [this, job](const Status& durable) { CompleteWrites(job, durable); };
  return commits_->Submit(std::move(gc));
}

// On the group commit's writer thread.
void Server::Impl::ExecuteWrites(WriteJob& job) {
  const Status sticky = Sticky();
  for (WriteItem& w : job.items) {
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

// On the group commit's syncer thread, once the job's group is durable.
void Server::Impl::CompleteWrites(const std::shared_ptr<WriteJob>& job, const Status& durable) {
  // One log line per durable write, written once the writers are answered.
  const bool log_writes = log_.enabled(spdlog::level::info);
  size_t ok_writes = 0;
  for (WriteItem& w : job->items) {
    if (w.answered || !w.reply.ok || w.op->name == "reload") continue;
    if (!durable.ok()) {
      w.reply = Reply::Error(errc::kIOError, "the write may not be durable: " + durable.message());
      continue;
    }
    ++ok_writes;
    if (log_writes)
      write_lines_.push_back({{"op", std::string(w.op->name)},
                              {"peer", w.ctx.actor.os_user},
                              {"seq", w.reply.result.value("seq", json(nullptr))},
                              {"subject", w.reply.result.value("subject", json(nullptr))}});
  }
  committed_writes_.fetch_add(ok_writes, std::memory_order_relaxed);
  if (job->done) job->done(job);
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

}  // namespace tacet
