// The venue's market channel over websockets (ws:// or wss://), sharded.
//
// Assets are spread over connections ("shards") of at most
// max_assets_per_connection each (the venue's limit is 500). Each shard runs as a
// coroutine on one network thread: connect (TLS with SNI and certificate
// verification unless insecure), send {"assets_ids":[...],"type":"market"},
// then read frames into the FrameQueue, send a text PING every ping_interval,
// and on any failure reconnect with exponential backoff and jitter and
// subscribe again. Subscribe/Unsubscribe work at any time: a connected shard
// gets {"assets_ids":[...],"operation":"subscribe"|"unsubscribe"}, a new shard
// is opened when every shard is full.
//
// What the book thread needs to keep books honest arrives as control messages
// in the same queue, in order with the frames: kConnected (resync these),
// kDisconnected (stale), kGap (frames were dropped: stale and resync).
//
// Thread: the public methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "live/frame_queue.h"

namespace polyhost {

struct WsUrl {
  bool tls = false;
  std::string host;
  std::string port;    // "80"/"443" when absent
  std::string target;  // path and query, at least "/"
};
// Throws std::invalid_argument naming what is wrong.
WsUrl ParseWsUrl(std::string_view url);

struct WsFeedOptions {
  std::string url;
  bool insecure = false;     // TLS without certificate or host name checks (explicit flag only)
  std::string ca_file;       // extra trusted CA (PEM), besides the system store
  size_t max_assets_per_connection = 500;
  int64_t ping_interval_ms = 10000;
  int64_t connect_timeout_ms = 10000;
  int64_t backoff_initial_ms = 500;
  int64_t backoff_max_ms = 30000;
  uint64_t jitter_seed = 0;  // 0: random
  // Added to the shard ids this feed puts in its messages (and expected back by
  // Reconnect), so several feeds (one per URL) can share one FrameQueue.
  uint32_t shard_id_base = 0;
};

// Delay before reconnect attempt `attempt` (0-based): initial·2^attempt capped at
// max, then "equal jitter": uniformly within [delay/2, delay]. `unit` in [0, 1).
int64_t BackoffDelayMs(int attempt, int64_t initial_ms, int64_t max_ms, double unit);

struct WsFeedStats {
  int64_t connects = 0;      // successful connections (handshake and subscription sent)
  int64_t reconnects = 0;    // connections after the first one of a shard
  int64_t disconnects = 0;   // connections lost or refused
  int64_t frames = 0;        // text frames received
  int64_t bytes = 0;
  int64_t pings = 0;
  int64_t dropped = 0;       // frames the full queue refused
  int64_t shards = 0;        // shards opened so far
};

class WsFeed {
 public:
  // Throws std::invalid_argument for a bad URL or CA file.
  WsFeed(WsFeedOptions options, FrameQueue* queue);
  ~WsFeed();
  WsFeed(const WsFeed&) = delete;
  WsFeed& operator=(const WsFeed&) = delete;

  void Start();
  void Stop();  // closes every connection and joins the network thread

  void Subscribe(const std::vector<std::string>& assets);
  void Unsubscribe(const std::vector<std::string>& assets);
  // Drops the shard's connection (the watchdog's remedy); it reconnects and resubscribes.
  void Reconnect(uint32_t shard);

  WsFeedStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace polyhost
