// A thread that processes the chunks one producer hands it
// (core/internal/chunk_worker.h).
#include "../internal/chunk_worker.h"

namespace tacet::internal {

ChunkWorker::ChunkWorker(std::function<Status(std::string_view)> process, size_t depth)
    : process_(std::move(process)), depth_(depth), thread_([this] { Run(); }) {}

ChunkWorker::~ChunkWorker() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status ChunkWorker::Hand(std::string& chunk, size_t reserve) {
  if (chunk.empty()) return Status::Ok();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.size() < depth_ || !status_.ok(); });
  if (!status_.ok()) return status_;
  queue_.push_back(std::move(chunk));
  if (spare_.empty()) {
    chunk = std::string();
  } else {
    chunk = std::move(spare_.back());
    spare_.pop_back();
  }
  lock.unlock();
  cv_.notify_all();
  chunk.reserve(reserve);
  return Status::Ok();
}

Status ChunkWorker::Finish() {
  if (!thread_.joinable()) return Status::Internal("a chunk worker finished twice");
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
  return status_;
}

void ChunkWorker::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (stop_ || (queue_.empty() && done_)) return;
    std::string chunk = std::move(queue_.front());
    queue_.pop_front();
    const bool failed = !status_.ok();
    lock.unlock();
    Status s = failed ? Status::Ok() : process_(chunk);
    chunk.clear();
    lock.lock();
    if (!s.ok() && status_.ok()) status_ = s;
    spare_.push_back(std::move(chunk));
    cv_.notify_all();
  }
}

}  // namespace tacet::internal
