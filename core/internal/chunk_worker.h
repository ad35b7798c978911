// A thread of its own that processes byte chunks one producer hands it, in
// order, while the producer makes the next ones: a bulk batch's sorted files
// and its leaf hashes and tree records are made this way beside the events.
// At most `depth` chunks wait (the producer blocks beyond that), and chunks
// come back to the producer for reuse: the memory stays small and warm (a
// fresh buffer per chunk is fresh memory the kernel must zero first).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tacet/core/status.h"

namespace tacet::internal {

class ChunkWorker {
 public:
  // `process` runs on the thread, once per chunk, in the order handed; its
  // first failure stops the processing and is reported by Hand or Finish.
  explicit ChunkWorker(std::function<Status(std::string_view)> process, size_t depth = 2);
  // Stops the thread; chunks still waiting are dropped unprocessed.
  ~ChunkWorker();
  ChunkWorker(const ChunkWorker&) = delete;
  ChunkWorker& operator=(const ChunkWorker&) = delete;

  // Hands `chunk` over (empty chunks are skipped) and leaves in its place
  // an empty buffer with at least `reserve` bytes of room (a processed
  // chunk when one is back). The thread's first failure, if any.
  Status Hand(std::string& chunk, size_t reserve);
  // Waits until every handed chunk is processed and ends the thread. The
  // first failure, if any. Hand may not be called afterwards.
  Status Finish();

 private:
  void Run();

  std::function<Status(std::string_view)> process_;
  const size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;   // handed, in order
  std::vector<std::string> spare_;  // processed, to be refilled
  bool done_ = false;               // no more chunks will come
  bool stop_ = false;               // leave the rest unprocessed
  Status status_;                   // the first failure
  std::thread thread_;              // last: starts once the rest is ready
};

}  // namespace tacet::internal
