// The bounded queue between Store::Submit and a backend's single writer thread.
// The writer applies each batch in one transaction (the backend's `apply`); the
// first failure is kept, later batches are dropped, and Submit/Flush rethrow it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"

namespace polyhost {

class WriteQueue {
 public:
  struct Applied {
    int64_t written = 0;
    int64_t skipped = 0;
  };
  using ApplyFn = std::function<Applied(const WriteBatch&)>;

  // Starts the writer thread (named `thread_name`, at most 15 characters).
  WriteQueue(size_t capacity, ApplyFn apply, const char* thread_name);
  // Writes what is queued, then stops the thread. Never throws.
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Blocks while the queue is full; throws StoreError after a writer failure.
  void Submit(WriteBatch batch);
  // Waits for every submitted batch; throws StoreError after a writer failure.
  void Flush();
  StoreStats stats() const;

 private:
  void Loop();
  void ThrowIfFailedLocked() const;

  const size_t capacity_;
  const ApplyFn apply_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_, progress_;
  std::deque<WriteBatch> queue_;
  bool stop_ = false;
  bool failed_ = false;
  std::string error_;
  int64_t submitted_ = 0;
  int64_t completed_ = 0;
  StoreStats stats_;
  std::thread thread_;
};

}  // namespace polyhost
