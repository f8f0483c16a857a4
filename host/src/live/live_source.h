// A live market feed driving the books: the websocket shards (WsFeed), REST
// resync (BookResyncer) and the bounded queue between them and the book thread,
// where this class applies every message to a BookEngine with the same
// continuity rules as replay (docs/recordings.md) and decides when a book must
// be fetched again:
//   - on every (re)connect, for every asset of that connection;
//   - when a frame breaks continuity (price_change before book, best_bid/best_ask
//     drift): the engine marks the asset stale, this class resyncs it;
//   - when the connection drops, frames were dropped (queue full), or a shard was
//     silent for stale_after_ms (the watchdog, which also reconnects it): every
//     asset of the shard is marked stale and resynced.
// A stale asset stays stale until its resync book is applied (and the risk gate
// refuses plans on stale books).
//
// Every message applied is one "line" of the session's source in the store, and
// --record writes the same messages as format P envelopes, so replaying the
// recording rebuilds identical books.
//
// Thread: Run() on the book thread (it blocks); Stop/Subscribe/Unsubscribe from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "live/book_resync.h"
#include "live/ws_feed.h"
#include "replay/book_engine.h"
#include "replay/replayer.h"
#include "store/store.h"

namespace polyhost {

struct LiveAsset {
  std::string market;    // condition id; may be empty when unknown (the feed tells)
  std::string asset_id;  // token id
  std::string ws_url;    // market channel to subscribe it on; empty = LiveOptions::ws.url
};

struct LiveSummary;

struct LiveOptions {
  // The market channel (and TLS options) of every asset without its own ws_url.
  // Assets with another ws_url get a feed of their own with the same options: one
  // WsFeed (sharded) per URL, all into one queue and one book engine.
  WsFeedOptions ws;
  std::string clob_url;          // REST base for GET /book?token_id=
  HttpGetFn http_get;            // how to GET it
  std::vector<LiveAsset> assets;
  // Assets known but not subscribed at the start: Subscribe() of one of them (by
  // asset id, e.g. when a plugin subscribes at run time) uses its market and ws_url.
  std::vector<LiveAsset> on_demand;
  // Frame budgets per market (run-service [[markets]] max_messages): a frame counts
  // for every market one of whose books it changed. A market whose budget is
  // spent is unsubscribed and its books marked stale (nothing follows them any
  // more); with end_when_budgets_spent the run ends instead once every budget is.
  std::map<std::string, int64_t> market_max_messages;
  bool end_when_budgets_spent = false;
  size_t queue_capacity = 65536;  // [ingestion] buffer_size
  int64_t stale_after_ms = 30000;  // [ingestion] stale_after_ms
  int64_t max_messages = 0;      // stop after this many websocket frames; 0 = until stopped
  int64_t resync_retry_ms = 1000;  // wait after a failed REST fetch
  Store* store = nullptr;
  std::string source_name;       // sources.path for this session's rows
  int64_t batch_messages = 1024;  // messages per store transaction at most
  int64_t batch_interval_ms = 250;
  int64_t snapshot_interval_ms = 0;  // feed time between snapshots; 0 = only at the end
  std::string record_path;       // format P envelopes of every applied message; empty = none
  const std::atomic<bool>* stop_flag = nullptr;  // e.g. set by SIGINT
  std::function<void(const std::string&)> on_warning;
  std::function<void(const BookEngine&, const ParsedLine&, int64_t line_no)> on_line;
  std::function<void(WriteBatch*)> on_batch;
  // Called about every 250 ms on the book thread with the counts so far
  // (progress lines, periodic jobs).
  std::function<void(const LiveSummary&)> on_tick;
  // Called once on the book thread when intake has stopped (connections closed)
  // and before the final snapshot and flush: what it does there (cancelling open
  // orders) is recorded through on_batch in the last batch.
  std::function<void()> on_stop;
};

struct LiveSummary {
  EngineCounters counters;
  int64_t assets = 0;
  int64_t stale_assets = 0;
  int64_t messages = 0;          // websocket frames applied (PONGs included)
  WsFeedStats ws;
  int64_t resync_requests = 0;
  int64_t resyncs = 0;           // REST books applied
  int64_t resync_failures = 0;
  int64_t gaps = 0;              // runs of frames dropped because the queue was full
  int64_t watchdog_fires = 0;    // shards silent for stale_after_ms
  int64_t stale_marks = 0;       // assets marked stale by disconnects, gaps and the watchdog
  int64_t queue_overflows = 0;
  int64_t feeds = 0;             // websocket URLs (one sharded WsFeed each)
  int64_t markets_done = 0;      // markets whose frame budget was spent
  size_t queue_high_water = 0;
  StoreStats store;
  double seconds = 0;
};

class LiveSource {
 public:
  explicit LiveSource(LiveOptions options);
  ~LiveSource();
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  // Connects, runs until max_messages frames, *stop_flag, Stop() or every market
  // budget is spent, then closes the connections, calls on_stop, snapshots every
  // book into the store and flushes it.
  LiveSummary Run(BookEngine& engine);
  void Stop();
  // Adds assets (already subscribed ones are ignored); an empty ws_url takes the
  // on_demand entry's, else LiveOptions::ws.url. Before Run() it only extends the
  // initial subscription.
  void Subscribe(const std::vector<LiveAsset>& assets);
  void Unsubscribe(const std::vector<std::string>& asset_ids);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The summary in ReplaySummary terms (for `polyhost run`).
ReplaySummary ToReplaySummary(const LiveSummary& live);

}  // namespace polyhost
