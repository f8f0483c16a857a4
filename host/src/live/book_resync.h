// Fetches whole books from the venue's REST API (GET {clob_url}/book?token_id=)
// on a worker thread and hands the answers to the book thread through the
// FrameQueue (kResyncBook / kResyncFailed), so books are only ever changed on
// the book thread, in order with the websocket frames.
//
// Thread: Request() and Stop() from any thread; one worker thread inside.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "live/frame_queue.h"

namespace polyhost {

// A synchronous HTTP GET: true with the body of a 2xx answer, else false with a
// reason (status line or transport error; never a secret).
using HttpGetFn = std::function<bool(const std::string& url, std::string* body, std::string* error)>;

// "{clob_url}/book?token_id={asset_id}" (one '/' between, whatever clob_url ends with).
std::string BookUrl(std::string_view clob_url, std::string_view asset_id);

class BookResyncer {
 public:
  BookResyncer(std::string clob_url, HttpGetFn get, FrameQueue* queue);
  ~BookResyncer();
  BookResyncer(const BookResyncer&) = delete;
  BookResyncer& operator=(const BookResyncer&) = delete;

  // Queues one fetch (the caller avoids duplicates).
  void Request(const std::string& asset_id);
  void Stop();

 private:
  void Work();

  const std::string clob_url_;
  HttpGetFn get_;
  FrameQueue* queue_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace polyhost
