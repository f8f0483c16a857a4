#include "live/book_resync.h"

#include <chrono>

#include "core/url_encode.h"

namespace polyhost {

std::string BookUrl(std::string_view clob_url, std::string_view asset_id) {
  std::string url(clob_url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/book?token_id=";
  // Token ids are decimal digits; anything else is percent-encoded to keep the URL intact.
  AppendUrlEncoded(url, asset_id);
  return url;
}

BookResyncer::BookResyncer(std::string clob_url, HttpGetFn get, FrameQueue* queue)
    : clob_url_(std::move(clob_url)), get_(std::move(get)), queue_(queue), thread_([this] { Work(); }) {}

BookResyncer::~BookResyncer() { Stop(); }

void BookResyncer::Request(const std::string& asset_id) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(asset_id);
  }
  cv_.notify_one();
}

void BookResyncer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    pending_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BookResyncer::Work() {
  for (;;) {
    std::string asset;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      asset = std::move(pending_.front());
      pending_.pop_front();
    }
    LiveMessage m;
    m.asset_id = asset;
    std::string body, error;
    bool ok = false;
    if (!get_) {
      error = "no HTTP client configured";
    } else {
      try {
        ok = get_(BookUrl(clob_url_, asset), &body, &error);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    m.kind = ok ? LiveMessage::Kind::kResyncBook : LiveMessage::Kind::kResyncFailed;
    m.text = ok ? std::move(body) : std::move(error);
    m.recv_ts_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    queue_->PushControl(std::move(m));
  }
}

}  // namespace polyhost
