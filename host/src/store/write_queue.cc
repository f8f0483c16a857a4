#include "store/write_queue.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace polyhost {

WriteQueue::WriteQueue(size_t capacity, ApplyFn apply, const char* thread_name)
    : capacity_(std::max<size_t>(1, capacity)), apply_(std::move(apply)) {
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), thread_name);
}

WriteQueue::~WriteQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  not_empty_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WriteQueue::ThrowIfFailedLocked() const {
  if (failed_) throw StoreError("database writer failed: " + error_);
}

void WriteQueue::Submit(WriteBatch batch) {
  std::unique_lock<std::mutex> lock(mu_);
  ThrowIfFailedLocked();
  if (queue_.size() >= capacity_) {
    ++stats_.queue_full_waits;
    not_full_.wait(lock, [&] { return queue_.size() < capacity_ || failed_; });
    ThrowIfFailedLocked();
  }
  queue_.push_back(std::move(batch));
  stats_.queue_high_water = std::max(stats_.queue_high_water, static_cast<int64_t>(queue_.size()));
  ++submitted_;
  lock.unlock();
  not_empty_.notify_one();
}

void WriteQueue::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t target = submitted_;
  progress_.wait(lock, [&] { return completed_ >= target; });
  ThrowIfFailedLocked();
}

StoreStats WriteQueue::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  StoreStats s = stats_;
  s.queue_depth = static_cast<int64_t>(queue_.size());
  return s;
}

void WriteQueue::Loop() {
  for (;;) {
    WriteBatch batch;
    bool drop = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_empty_.wait(lock, [&] { return !queue_.empty() || stop_; });
      if (queue_.empty()) return;  // stopping, and everything is written
      batch = std::move(queue_.front());
      queue_.pop_front();
      drop = failed_;  // after a failure nothing more is written
    }
    not_full_.notify_one();
    Applied result;
    std::string error;
    int64_t elapsed_ns = 0;
    if (!drop) {
      try {
        // Timed per batch (thousands of rows), so the clock costs nothing per row.
        const auto t0 = std::chrono::steady_clock::now();
        result = apply_(batch);
        elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
      } catch (const std::exception& e) {
        error = e.what();
      } catch (...) {
        error = "unknown error";
      }
    }
    batch = WriteBatch();  // free it outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error.empty() && !failed_) {
        failed_ = true;
        error_ = error;
      }
      if (!drop && error.empty()) {
        ++stats_.batches;
        stats_.events_written += result.written;
        stats_.events_skipped += result.skipped;
        stats_.write_latency.Observe(elapsed_ns);
        stats_.batch_events.Observe(result.written + result.skipped);
      }
      ++completed_;
    }
    progress_.notify_all();
    if (!error.empty()) not_full_.notify_all();
  }
}

}  // namespace polyhost
