#include "live/live_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
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

// Shard ids of feed i start at i << kFeedShift (WsFeedOptions::shard_id_base).
constexpr uint32_t kFeedShift = 16;

struct LiveSource::Impl {
  explicit Impl(LiveOptions o) : options(std::move(o)) {
    for (const LiveAsset& a : options.on_demand) route[a.asset_id] = a;
    for (const LiveAsset& a : options.assets) AddLocked(a);
  }

  LiveOptions options;
  std::atomic<bool> stop{false};
  std::mutex mu;                      // guards feeds, running, queue_ptr, market_of, url_of, route
  // One sharded feed per websocket URL, in the order the URLs were first needed.
  std::vector<std::pair<std::string, std::unique_ptr<WsFeed>>> feeds;
  bool running = false;               // between Run()'s start and its stop: feeds are live
  FrameQueue* queue_ptr = nullptr;
  std::unordered_map<std::string, std::string> market_of;  // subscribed asset -> market ("" unknown)
  std::unordered_map<std::string, std::string> url_of;     // subscribed asset -> its ws URL
  std::unordered_map<std::string, LiveAsset> route;        // on_demand entries by asset id
  std::vector<std::string> order;     // subscription order (shards fill in it); may hold removed ids

  // The asset's URL: its own, its on_demand entry's, else the default.
  std::string UrlFor(const LiveAsset& a) {
    if (!a.ws_url.empty()) return a.ws_url;
    if (auto it = route.find(a.asset_id); it != route.end() && !it->second.ws_url.empty()) return it->second.ws_url;
    return options.ws.url;
  }

  // Records a new subscription (mu held or not yet shared); false when known.
  bool AddLocked(const LiveAsset& a) {
    std::string market = a.market;
    if (market.empty()) {
      if (auto it = route.find(a.asset_id); it != route.end()) market = it->second.market;
    }
    if (!market_of.emplace(a.asset_id, market).second) return false;
    url_of[a.asset_id] = UrlFor(a);
    order.push_back(a.asset_id);
    return true;
  }

  // The feed of `url`, created (and started when running) on first use; mu held.
  // Throws std::invalid_argument for a bad URL.
  WsFeed& FeedLocked(const std::string& url) {
    for (auto& [u, f] : feeds) {
      if (u == url) return *f;
    }
    WsFeedOptions wo = options.ws;
    wo.url = url;
    wo.shard_id_base = static_cast<uint32_t>(feeds.size()) << kFeedShift;
    auto feed = std::make_unique<WsFeed>(std::move(wo), queue_ptr);
    if (running) feed->Start();
    feeds.emplace_back(url, std::move(feed));
    return *feeds.back().second;
  }

  WsFeedStats FeedStats() {
    std::lock_guard lock(mu);
    WsFeedStats sum;
    for (auto& [url, f] : feeds) {
      const WsFeedStats s = f->stats();
      sum.connects += s.connects;
      sum.reconnects += s.reconnects;
      sum.disconnects += s.disconnects;
      sum.frames += s.frames;
      sum.bytes += s.bytes;
      sum.pings += s.pings;
      sum.dropped += s.dropped;
      sum.shards += s.shards;
    }
    return sum;
  }

  void SubscribeAssets(const std::vector<LiveAsset>& assets) {
    std::lock_guard lock(mu);
    std::map<std::string, std::vector<std::string>> by_url;
    for (const LiveAsset& a : assets) {
      if (AddLocked(a)) by_url[url_of[a.asset_id]].push_back(a.asset_id);
    }
    if (!running) return;
    for (auto& [url, ids] : by_url) {
      try {
        FeedLocked(url).Subscribe(ids);
      } catch (const std::invalid_argument& e) {
        Warn("live: cannot subscribe " + std::to_string(ids.size()) + " asset(s) on " + url + ": " + e.what());
        for (const std::string& id : ids) {
          market_of.erase(id);
          url_of.erase(id);
        }
      }
    }
  }

  void UnsubscribeAssets(const std::vector<std::string>& asset_ids) {
    std::lock_guard lock(mu);
    std::map<std::string, std::vector<std::string>> by_url;
    for (const std::string& a : asset_ids) {
      if (market_of.erase(a) == 0) continue;
      by_url[url_of[a]].push_back(a);
      url_of.erase(a);
    }
    if (!running) return;
    for (auto& [url, ids] : by_url) FeedLocked(url).Unsubscribe(ids);
  }

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
  std::map<uint32_t, ShardState> shards;  // by shard id (feed index << kFeedShift | shard)
  // Market frame budgets (book thread).
  std::unordered_map<std::string, std::string> budget_market_of;  // asset -> market with a budget
  std::map<std::string, int64_t> market_frames;
  std::vector<std::string> touched_markets;
  int64_t budgets_left = 0;
  struct ResyncState {
    bool pending = false;
    bool again = false;          // continuity broke again while the fetch was in flight
    int64_t retry_at_ms = 0;     // after a failure; 0 = none
  };
  std::unordered_map<std::string, ResyncState> resync;
  BookResyncer* resyncer = nullptr;
  LiveSummary summary;
  int64_t seen_breaks = 0, seen_drift = 0;

  ShardState& Shard(uint32_t id) { return shards[id]; }

  // After a frame was applied: charge it to the budget of every market whose book it changed.
  void ChargeBudgets() {
    if (budget_market_of.empty()) return;
    touched_markets.clear();
    for (uint32_t key : engine->touched()) {  // the books the frame changed (price_change items included)
      auto it = budget_market_of.find(engine->asset(key).asset_id);
      if (it == budget_market_of.end()) continue;
      if (std::find(touched_markets.begin(), touched_markets.end(), it->second) == touched_markets.end()) {
        touched_markets.push_back(it->second);
      }
    }
    for (const std::string& market : touched_markets) {
      const int64_t budget = options.market_max_messages[market];
      if (++market_frames[market] != budget) continue;
      ++summary.markets_done;
      --budgets_left;
      if (options.end_when_budgets_spent && budgets_left == 0) continue;  // the run ends now
      // Nothing follows this market any more: its books must not be traded on.
      std::vector<std::string> ids;
      for (const auto& [asset, m] : budget_market_of) {
        if (m == market) ids.push_back(asset);
      }
      spdlog::info("live: market {} received its {} messages: unsubscribing its {} assets", market, budget,
                   ids.size());
      UnsubscribeAssets(ids);
      MarkStale(ids);
    }
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
        if (ApplyText(m.text, m.recv_ts_ms, "frame")) ChargeBudgets();
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
  void Watchdog(int64_t now) {
    if (options.stale_after_ms <= 0) return;
    for (auto& [id, s] : shards) {
      if (!s.connected || now - s.last_rx_ms < options.stale_after_ms) continue;
      ++summary.watchdog_fires;
      Warn("live: shard " + std::to_string(id) + " silent for " + std::to_string(now - s.last_rx_ms) +
           " ms (stale_after_ms " + std::to_string(options.stale_after_ms) + "): books stale, reconnecting");
      MarkStale(s.assets);
      s.last_rx_ms = now;
      std::lock_guard lock(mu);
      const size_t feed = id >> kFeedShift;
      if (feed < feeds.size()) feeds[feed].second->Reconnect(id);
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
    // A batch without new lines (the final one, after a stop) must not carry the
    // old watermark: the store would take it for a resubmission it already has
    // and drop its snapshots.
    batch.last_line = lines_in_batch > 0 ? line_no : 0;
    options.store->Submit(std::move(batch));
    batch = WriteBatch{};
    batch.source_id = source_id;
    lines_in_batch = 0;
    if (record.is_open()) record.flush();
  }

  void MaybeSnapshot() {
    if (options.snapshot_interval_ms <= 0 || options.store == nullptr) return;
    if (engine->last_ts_ms() < next_snapshot_ts) return;
    if (next_snapshot_ts != 0) engine->CollectChangedSnapshots(engine->last_ts_ms(), &batch);
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
    // Budgets: every asset of a market with one (known now: initial and on_demand).
    budget_market_of.clear();
    market_frames.clear();
    budgets_left = 0;
    for (const auto& [market, budget] : options.market_max_messages) {
      if (budget > 0) ++budgets_left;
    }
    for (const std::vector<LiveAsset>* list : {&options.assets, &options.on_demand}) {
      for (const LiveAsset& a : *list) {
        auto it = options.market_max_messages.find(a.market);
        if (it != options.market_max_messages.end() && it->second > 0) budget_market_of[a.asset_id] = a.market;
      }
    }
    {
      // Every URL's feed gets its assets in subscription order (shards fill in it).
      std::lock_guard lock(mu);
      queue_ptr = &queue;
      std::map<std::string, std::vector<std::string>> by_url;
      std::vector<std::string> urls;
      std::unordered_set<std::string> seen;
      for (const std::string& id : order) {
        auto it = url_of.find(id);
        if (it == url_of.end() || !seen.insert(id).second) continue;
        if (by_url.find(it->second) == by_url.end()) urls.push_back(it->second);
        by_url[it->second].push_back(id);
      }
      order.clear();
      for (const std::string& url : urls) FeedLocked(url).Subscribe(by_url[url]);
      if (feeds.empty()) FeedLocked(options.ws.url);  // nothing yet: connect when assets come
      for (auto& [url, f] : feeds) f->Start();
      running = true;
    }

    int64_t last_flush = SteadyMs();
    int64_t last_tick = last_flush;
    LiveMessage m;
    while (!stop.load() && (options.stop_flag == nullptr || !options.stop_flag->load()) &&
           (options.max_messages <= 0 || summary.messages < options.max_messages) &&
           !(options.end_when_budgets_spent && budgets_left == 0 && !options.market_max_messages.empty())) {
      const bool got = queue.Pop(&m, std::chrono::milliseconds(50));
      const int64_t now = SteadyMs();
      if (got) Handle(m, now);
      MaybeSnapshot();
      Watchdog(now);
      RetryFailedResyncs(now);
      if (lines_in_batch >= options.batch_messages || (lines_in_batch > 0 && now - last_flush >= options.batch_interval_ms)) {
        Submit();
        last_flush = now;
      }
      if (now - last_tick >= 250) {
        last_tick = now;
        if (options.on_tick) {
          summary.ws = FeedStats();
          summary.counters = engine->counters();
          options.on_tick(summary);
        }
      }
    }
    std::vector<std::unique_ptr<WsFeed>> stopped;
    {
      std::lock_guard lock(mu);
      running = false;
      for (auto& [url, f] : feeds) stopped.push_back(std::move(f));
      feeds.clear();
    }
    for (auto& f : stopped) f->Stop();
    resync_worker.Stop();
    queue.Close();
    resyncer = nullptr;
    {
      std::lock_guard lock(mu);
      queue_ptr = nullptr;
    }
    if (options.on_stop) options.on_stop();
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
    summary.ws = WsFeedStats{};
    for (auto& f : stopped) {
      const WsFeedStats st = f->stats();
      summary.ws.connects += st.connects;
      summary.ws.reconnects += st.reconnects;
      summary.ws.disconnects += st.disconnects;
      summary.ws.frames += st.frames;
      summary.ws.bytes += st.bytes;
      summary.ws.pings += st.pings;
      summary.ws.dropped += st.dropped;
      summary.ws.shards += st.shards;
    }
    summary.feeds = static_cast<int64_t>(stopped.size());
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

void LiveSource::Subscribe(const std::vector<LiveAsset>& assets) { impl_->SubscribeAssets(assets); }

void LiveSource::Unsubscribe(const std::vector<std::string>& asset_ids) { impl_->UnsubscribeAssets(asset_ids); }

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
