#include "live/live_source.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/decimal.h"
#include "core/json_text.h"

namespace polyhost {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void AppendLevels(std::string& out, std::span<const Level> levels) {
  out += '[';
  char buf[kMaxDecimalChars];
  for (size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"price\":\"";
    out.append(buf, static_cast<size_t>(FormatDecimalTo(levels[i].price, buf)));
    out += "\",\"size\":\"";
    out.append(buf, static_cast<size_t>(FormatDecimalTo(levels[i].size, buf)));
    out += "\"}";
  }
  out += ']';
}

// A frame as it goes into a recording: JSON stays as sent, bare text ("PONG")
// becomes a JSON string.
bool LooksLikeJson(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[' || c == '"';
  }
  return false;
}

}  // namespace

struct LiveSource::Impl {
  explicit Impl(LiveOptions o) : options(std::move(o)) {
    for (const LiveAsset& a : options.assets) market_of[a.asset_id] = a.market;
  }

  LiveOptions options;
  std::atomic<bool> stop{false};
  std::mutex mu;                      // guards feed (pointer) and market_of
  WsFeed* feed = nullptr;
  std::unordered_map<std::string, std::string> market_of;  // subscribed asset -> market ("" unknown)

  // Book-thread state.
  BookEngine* engine = nullptr;
  FeedParser parser;
  ParsedLine parsed;
  ParseError error;
  std::string scratch;
  std::ofstream record;
  WriteBatch batch;
  int64_t source_id = 0;
  int64_t line_no = 0;
  int64_t lines_in_batch = 0;
  int64_t next_snapshot_ts = 0;
  size_t known_keys = 0;
  std::unordered_map<std::string, uint32_t> key_of;  // asset id -> engine key (live ids are unique)
  struct ShardState {
    bool connected = false;
    int64_t last_rx_ms = 0;
    std::vector<std::string> assets;
  };
  std::vector<ShardState> shards;
  struct ResyncState {
    bool pending = false;
    bool again = false;          // continuity broke again while the fetch was in flight
    int64_t retry_at_ms = 0;     // after a failure; 0 = none
  };
  std::unordered_map<std::string, ResyncState> resync;
  BookResyncer* resyncer = nullptr;
  LiveSummary summary;
  int64_t seen_breaks = 0, seen_drift = 0;

  ShardState& Shard(uint32_t id) {
    if (shards.size() <= id) shards.resize(id + 1);
    return shards[id];
  }

  void Warn(const std::string& m) {
    if (options.on_warning) {
      options.on_warning(m);
    } else {
      spdlog::warn("{}", m);
    }
  }

  void LearnKeys() {
    for (; known_keys < engine->asset_count(); ++known_keys) {
      key_of.emplace(engine->asset(static_cast<uint32_t>(known_keys)).asset_id, static_cast<uint32_t>(known_keys));
    }
  }

  bool Subscribed(const std::string& asset) {
    std::lock_guard lock(mu);
    return market_of.count(asset) != 0;
  }

  void RequestResync(const std::string& asset) {
    ResyncState& r = resync[asset];
    if (r.pending) {
      r.again = true;
      return;
    }
    r.pending = true;
    r.again = false;
    r.retry_at_ms = 0;
    ++summary.resync_requests;
    resyncer->Request(asset);
  }

  void MarkStale(const std::vector<std::string>& assets) {
    LearnKeys();
    for (const std::string& a : assets) {
      auto it = key_of.find(a);
      if (it == key_of.end()) continue;  // no book yet: nothing to distrust
      if (!engine->asset(it->second).stale) ++summary.stale_marks;
      engine->MarkAssetStale(it->second);
    }
  }

  // After a frame: every asset the engine newly found stale gets a resync.
  void ResyncNewlyStale() {
    const EngineCounters& c = engine->counters();
    if (c.continuity_breaks == seen_breaks && c.drift_checks_failed == seen_drift) return;
    seen_breaks = c.continuity_breaks;
    seen_drift = c.drift_checks_failed;
    for (uint32_t k = 0; k < engine->asset_count(); ++k) {
      const AssetState& a = engine->asset(k);
      if (!a.stale) continue;
      auto it = resync.find(a.asset_id);
      if (it != resync.end() && it->second.pending) continue;
      if (Subscribed(a.asset_id)) RequestResync(a.asset_id);
    }
  }

  void Record(int64_t recv_ts_ms, std::string_view frame) {
    if (!record.is_open()) return;
    std::string line = "{\"recv_ts_ms\":" + std::to_string(recv_ts_ms) + ",\"frame\":";
    if (LooksLikeJson(frame)) {
      line += frame;
    } else {
      AppendJsonQuoted(line, frame);
    }
    line += "}\n";
    record << line;
  }

  // Parses and applies one message's text as line `line_no`; false when malformed.
  bool ApplyText(const std::string& text, int64_t recv_ts_ms, const char* what) {
    scratch.assign(text);
    scratch.append(FeedParser::kPadding, '\0');
    ++line_no;
    if (!parser.Parse(scratch.data(), text.size(), FeedFormat::kP, &parsed, &error)) {
      engine->CountMalformed();
      Warn(options.source_name + ": message " + std::to_string(line_no) + " (" + what + "): " + error.ToString());
      ++lines_in_batch;
      return false;
    }
    if (parsed.recv_ts_ms == 0) parsed.recv_ts_ms = recv_ts_ms;
    engine->Apply(parsed, line_no, options.store != nullptr ? &batch : nullptr);
    LearnKeys();
    Record(recv_ts_ms, text);
    if (options.on_line) options.on_line(*engine, parsed, line_no);
    ++lines_in_batch;
    return true;
  }

  // A REST /book answer becomes a canonical `book` frame for the asset (so the
  // recording replays to the same book) and is applied like any frame.
  void ApplyResync(const LiveMessage& m) {
    ResyncState& r = resync[m.asset_id];
    r.pending = false;
    scratch.assign(m.text);
    scratch.append(FeedParser::kPadding, '\0');
    const FeedEvent* book = nullptr;
    if (parser.Parse(scratch.data(), m.text.size(), FeedFormat::kP, &parsed, &error)) {
      for (const FeedEvent& ev : parsed.events) {
        if (ev.type == EventType::kBook) {
          book = &ev;
          break;
        }
      }
    }
    if (book == nullptr) {
      ++summary.resync_failures;
      r.retry_at_ms = SteadyMs() + options.resync_retry_ms;
      Warn("live: GET " + BookUrl(options.clob_url, m.asset_id) + ": not a book: " +
           (parsed.events.empty() ? error.ToString() : std::string("no bids/asks")));
      return;
    }
    // The market the frames use for this asset wins, then the answer's, then ours.
    std::string market;
    LearnKeys();
    if (auto it = key_of.find(m.asset_id); it != key_of.end()) market = engine->asset(it->second).market;
    if (market.empty()) market = std::string(book->market);
    if (market.empty()) {
      std::lock_guard lock(mu);
      if (auto it = market_of.find(m.asset_id); it != market_of.end()) market = it->second;
    }
    std::string frame = "{\"event_type\":\"book\",\"market\":";
    AppendJsonQuoted(frame, market);
    frame += ",\"asset_id\":";
    AppendJsonQuoted(frame, m.asset_id);
    if (book->ts_ms != 0) frame += ",\"timestamp\":\"" + std::to_string(book->ts_ms) + "\"";
    frame += ",\"bids\":";
    AppendLevels(frame, parsed.bids(*book));
    frame += ",\"asks\":";
    AppendLevels(frame, parsed.asks(*book));
    frame += '}';
    if (ApplyText(frame, m.recv_ts_ms, "resync")) ++summary.resyncs;
    if (r.again) RequestResync(m.asset_id);
  }

  void Handle(LiveMessage& m, int64_t now) {
    switch (m.kind) {
      case LiveMessage::Kind::kFrame: {
        ++summary.messages;
        Shard(m.shard).last_rx_ms = now;
        ApplyText(m.text, m.recv_ts_ms, "frame");
        ResyncNewlyStale();
        return;
      }
      case LiveMessage::Kind::kConnected: {
        ShardState& s = Shard(m.shard);
        s.connected = true;
        s.last_rx_ms = now;
        s.assets = m.assets;
        for (const std::string& a : m.assets) RequestResync(a);
        return;
      }
      case LiveMessage::Kind::kSubscribed: {
        ShardState& s = Shard(m.shard);
        s.assets.insert(s.assets.end(), m.assets.begin(), m.assets.end());
        for (const std::string& a : m.assets) RequestResync(a);
        return;
      }
      case LiveMessage::Kind::kUnsubscribed: {
        ShardState& s = Shard(m.shard);
        for (const std::string& a : m.assets) std::erase(s.assets, a);
        return;
      }
      case LiveMessage::Kind::kDisconnected:
        Shard(m.shard).connected = false;
        MarkStale(m.assets);
        return;
      case LiveMessage::Kind::kGap:
        ++summary.gaps;
        MarkStale(m.assets);
        for (const std::string& a : m.assets) RequestResync(a);
        return;
      case LiveMessage::Kind::kResyncBook:
        ApplyResync(m);
        return;
      case LiveMessage::Kind::kResyncFailed: {
        ResyncState& r = resync[m.asset_id];
        r.pending = false;
        r.retry_at_ms = now + options.resync_retry_ms;
        ++summary.resync_failures;
        Warn("live: resync of " + m.asset_id + " failed: " + m.text + "; retrying in " +
             std::to_string(options.resync_retry_ms) + " ms");
        return;
      }
    }
  }

  // Silence for stale_after_ms on a connected shard: its books are stale and the
  // connection is replaced (a fresh one resyncs everything).
  void Watchdog(int64_t now, WsFeed& feed) {
    if (options.stale_after_ms <= 0) return;
    for (uint32_t id = 0; id < shards.size(); ++id) {
      ShardState& s = shards[id];
      if (!s.connected || now - s.last_rx_ms < options.stale_after_ms) continue;
      ++summary.watchdog_fires;
      Warn("live: shard " + std::to_string(id) + " silent for " + std::to_string(now - s.last_rx_ms) +
           " ms (stale_after_ms " + std::to_string(options.stale_after_ms) + "): books stale, reconnecting");
      MarkStale(s.assets);
      s.last_rx_ms = now;
      feed.Reconnect(id);
    }
  }

  void RetryFailedResyncs(int64_t now) {
    for (auto& [asset, r] : resync) {
      if (r.pending || r.retry_at_ms == 0 || r.retry_at_ms > now) continue;
      if (Subscribed(asset)) RequestResync(asset);
    }
  }

  void Submit() {
    if (options.store == nullptr) return;
    engine->CollectStatus(&batch);
    if (options.on_batch) options.on_batch(&batch);
    batch.last_line = line_no;
    options.store->Submit(std::move(batch));
    batch = WriteBatch{};
    batch.source_id = source_id;
    lines_in_batch = 0;
    if (record.is_open()) record.flush();
  }

  void MaybeSnapshot() {
    if (options.snapshot_interval_ms <= 0 || options.store == nullptr) return;
    if (engine->last_ts_ms() < next_snapshot_ts) return;
    if (next_snapshot_ts != 0) engine->CollectSnapshots(engine->last_ts_ms(), &batch);
    next_snapshot_ts = engine->last_ts_ms() + options.snapshot_interval_ms;
  }

  LiveSummary Run(BookEngine& e) {
    const auto start = std::chrono::steady_clock::now();
    engine = &e;
    summary = LiveSummary{};
    if (options.store != nullptr) {
      int64_t committed = 0;
      source_id = options.store->RegisterSource(options.source_name, &committed);
      line_no = committed;  // a reused source name continues after what is stored
    }
    batch = WriteBatch{};
    batch.source_id = source_id;
    if (!options.record_path.empty()) {
      record.open(options.record_path, std::ios::binary | std::ios::trunc);
      if (!record) throw std::runtime_error(options.record_path + ": cannot open for writing");
    }
    FrameQueue queue(options.queue_capacity);
    BookResyncer resync_worker(options.clob_url, options.http_get, &queue);
    resyncer = &resync_worker;
    WsFeed ws(options.ws, &queue);
    std::vector<std::string> ids;
    {
      std::lock_guard lock(mu);
      for (const auto& [asset, market] : market_of) ids.push_back(asset);
      feed = &ws;
    }
    std::sort(ids.begin(), ids.end());
    // Keep the caller's order (shards fill in it); the map only dedups.
    std::vector<std::string> ordered;
    std::unordered_set<std::string> seen;
    for (const LiveAsset& a : options.assets) {
      if (seen.insert(a.asset_id).second) ordered.push_back(a.asset_id);
    }
    for (const std::string& id : ids) {
      if (seen.insert(id).second) ordered.push_back(id);
    }
    ws.Subscribe(ordered);
    ws.Start();

    int64_t last_flush = SteadyMs();
    int64_t last_tick = last_flush;
    LiveMessage m;
    while (!stop.load() && (options.stop_flag == nullptr || !options.stop_flag->load()) &&
           (options.max_messages <= 0 || summary.messages < options.max_messages)) {
      const bool got = queue.Pop(&m, std::chrono::milliseconds(50));
      const int64_t now = SteadyMs();
      if (got) Handle(m, now);
      MaybeSnapshot();
      Watchdog(now, ws);
      RetryFailedResyncs(now);
      if (lines_in_batch >= options.batch_messages || (lines_in_batch > 0 && now - last_flush >= options.batch_interval_ms)) {
        Submit();
        last_flush = now;
      }
      if (now - last_tick >= 250) {
        last_tick = now;
        if (options.on_tick) {
          summary.ws = ws.stats();
          summary.counters = engine->counters();
          options.on_tick(summary);
        }
      }
    }
    {
      std::lock_guard lock(mu);
      feed = nullptr;
    }
    ws.Stop();
    resync_worker.Stop();
    queue.Close();
    resyncer = nullptr;
    if (options.store != nullptr) {
      engine->CollectSnapshots(engine->last_ts_ms(), &batch);
      Submit();
      options.store->Flush();
      summary.store = options.store->stats();
    }
    if (record.is_open()) record.close();

    summary.counters = engine->counters();
    summary.assets = static_cast<int64_t>(engine->asset_count());
    for (uint32_t k = 0; k < engine->asset_count(); ++k) summary.stale_assets += engine->asset(k).stale ? 1 : 0;
    summary.ws = ws.stats();
    summary.queue_overflows = queue.overflows();
    summary.queue_high_water = queue.high_water();
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    engine = nullptr;
    return summary;
  }
};

LiveSource::LiveSource(LiveOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
LiveSource::~LiveSource() = default;

LiveSummary LiveSource::Run(BookEngine& engine) { return impl_->Run(engine); }

void LiveSource::Stop() { impl_->stop.store(true); }

void LiveSource::Subscribe(const std::vector<LiveAsset>& assets) {
  std::vector<std::string> ids;
  std::lock_guard lock(impl_->mu);
  for (const LiveAsset& a : assets) {
    if (impl_->market_of.emplace(a.asset_id, a.market).second) ids.push_back(a.asset_id);
  }
  if (impl_->feed != nullptr && !ids.empty()) impl_->feed->Subscribe(ids);
}

void LiveSource::Unsubscribe(const std::vector<std::string>& asset_ids) {
  std::vector<std::string> ids;
  std::lock_guard lock(impl_->mu);
  for (const std::string& a : asset_ids) {
    if (impl_->market_of.erase(a) != 0) ids.push_back(a);
  }
  if (impl_->feed != nullptr && !ids.empty()) impl_->feed->Unsubscribe(ids);
}

ReplaySummary ToReplaySummary(const LiveSummary& live) {
  ReplaySummary r;
  r.counters = live.counters;
  r.assets = live.assets;
  r.stale_assets = live.stale_assets;
  r.bytes = live.ws.bytes;
  r.store = live.store;
  r.seconds = live.seconds;
  return r;
}

}  // namespace polyhost
