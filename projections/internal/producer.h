// A thread of its own that makes items one consumer takes, in order, while
// the consumer works on the ones before: a contact import parses the next
// lines of its file while the batch records the last ones. At most `depth`
// items wait (the producer blocks beyond that), so memory stays bounded
// whatever the file's size. What the producer throws (std::bad_alloc) is
// thrown again by the consumer's Next, after the items made before it: a
// thread must not end the process.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace tacet::internal {

template <class T>
class Producer {
 public:
  // Hands one item to the consumer; false when the consumer stopped
  // listening (the producer should then return).
  using Yield = std::function<bool(T&&)>;

  // `produce` runs on the thread and calls its argument once per item.
  explicit Producer(std::function<void(const Yield&)> produce, size_t depth = 4)
      : depth_(depth), thread_([this, produce = std::move(produce)] {
          std::exception_ptr failure;
          try {
            produce([this](T&& item) { return Put(std::move(item)); });
          } catch (...) {
            failure = std::current_exception();
          }
          std::lock_guard<std::mutex> lock(mu_);
          failure_ = failure;
          done_ = true;
          cv_.notify_all();
        }) {}
  // Stops listening: a producer waiting for room is released, and what it
  // still makes is dropped.
  ~Producer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      queue_.clear();
      cv_.notify_all();
    }
    thread_.join();
  }
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // The next item, in the order made; nullopt once the producer returned
  // and every item was taken; what it threw, if it threw.
  std::optional<T> Next() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
      return std::nullopt;
    }
    T item = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return item;
  }

 private:
  bool Put(T&& item) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < depth_ || stop_; });
    if (stop_) return false;
    queue_.push_back(std::move(item));
    cv_.notify_all();
    return true;
  }

  const size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> queue_;
  std::exception_ptr failure_;  // what the producer threw
  bool done_ = false;           // the producer returned
  bool stop_ = false;           // the consumer is gone
  std::thread thread_;          // last: starts once the rest is ready
};

}  // namespace tacet::internal
