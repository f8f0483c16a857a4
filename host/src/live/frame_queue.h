// The bounded queue between the network thread (websocket shards, REST resync)
// and the book/plugin thread.
//
// Frames enter with TryPush, which never blocks the network thread: when the
// queue is full the frame is dropped and counted (overflows()), and the caller
// must report the gap (a kGap control message) so the affected books are marked
// stale and resynced — a drop is never silent. Control messages (connects,
// resync answers) always enter with PushControl: they are few (bounded by the
// number of shards and assets) and losing one would leave a book stale forever.
//
// Thread: any number of producers, one consumer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

#include "live/live_message.h"

namespace polyhost {

class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity);

  // False (and counted) when `capacity` frames are already waiting or the queue is closed.
  bool TryPush(LiveMessage&& message);
  // Always enqueues (unless closed).
  void PushControl(LiveMessage&& message);
  // Waits up to `timeout` for a message; false on timeout or when closed and empty.
  bool Pop(LiveMessage* out, std::chrono::milliseconds timeout);
  // Wakes the consumer; later pushes are refused.
  void Close();

  size_t capacity() const { return capacity_; }
  size_t size() const;
  int64_t overflows() const;
  size_t high_water() const;  // the most messages ever waiting

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LiveMessage> items_;
  size_t frames_waiting_ = 0;
  size_t high_water_ = 0;
  int64_t overflows_ = 0;
  bool closed_ = false;
};

}  // namespace polyhost
