#include "live/frame_queue.h"

#include <algorithm>

namespace polyhost {

const char* LiveMessageKindName(LiveMessage::Kind kind) {
  switch (kind) {
    case LiveMessage::Kind::kFrame: return "frame";
    case LiveMessage::Kind::kConnected: return "connected";
    case LiveMessage::Kind::kSubscribed: return "subscribed";
    case LiveMessage::Kind::kUnsubscribed: return "unsubscribed";
    case LiveMessage::Kind::kDisconnected: return "disconnected";
    case LiveMessage::Kind::kGap: return "gap";
    case LiveMessage::Kind::kResyncBook: return "resync_book";
    case LiveMessage::Kind::kResyncFailed: return "resync_failed";
  }
  return "?";
}

FrameQueue::FrameQueue(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

bool FrameQueue::TryPush(LiveMessage&& message) {
  {
    std::lock_guard lock(mu_);
    if (closed_ || frames_waiting_ >= capacity_) {
      ++overflows_;
      return false;
    }
    ++frames_waiting_;
    items_.push_back(std::move(message));
    high_water_ = std::max(high_water_, items_.size());
  }
  cv_.notify_one();
  return true;
}

void FrameQueue::PushControl(LiveMessage&& message) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    items_.push_back(std::move(message));
    high_water_ = std::max(high_water_, items_.size());
  }
  cv_.notify_one();
}

bool FrameQueue::Pop(LiveMessage* out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return !items_.empty() || closed_; })) return false;
  if (items_.empty()) return false;
  *out = std::move(items_.front());
  items_.pop_front();
  if (out->kind == LiveMessage::Kind::kFrame) --frames_waiting_;
  return true;
}

void FrameQueue::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

size_t FrameQueue::size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

int64_t FrameQueue::overflows() const {
  std::lock_guard lock(mu_);
  return overflows_;
}

size_t FrameQueue::high_water() const {
  std::lock_guard lock(mu_);
  return high_water_;
}

}  // namespace polyhost
