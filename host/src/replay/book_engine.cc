#include "replay/book_engine.h"

#include <algorithm>

#include "store/levels_json.h"

namespace polyhost {

BookEngine::BookEngine(std::string default_market) : default_market_(std::move(default_market)) {}

int64_t BookEngine::Find(std::string_view market, std::string_view asset_id) const {
  const uint32_t key = index_.Find(market, asset_id);
  return key == AssetKeyIndex::kNotFound ? -1 : static_cast<int64_t>(key);
}

uint32_t BookEngine::Intern(std::string_view market, std::string_view asset_id, WriteBatch* batch) {
  if (market.empty()) market = default_market_;
  bool inserted = false;
  const uint32_t key = index_.FindOrInsert(market, asset_id, &inserted);
  return inserted ? AddAsset(key, market, asset_id, batch) : key;
}

// item_keys_[i] = Intern(market, items[i].asset_id), in item order, with the
// memory loads of all the items' lookups overlapping: every slot is requested
// before the first is read, and every asset's state and top levels before the
// first change is applied. With hundreds of books these loads miss L1/L2, and
// a price_change names two or more assets (the outcomes of a market).
void BookEngine::InternItems(std::string_view market, std::span<const ChangeItem> items, WriteBatch* batch) {
  if (market.empty()) market = default_market_;
  const size_t n = items.size();
  item_keys_.resize(n);
  item_hashes_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    item_hashes_[i] = AssetKeyIndex::Hash(market, items[i].asset_id);
    index_.PrefetchSlot(item_hashes_[i]);
  }
  for (size_t i = 0; i < n; ++i) {  // the likely keys: their ids and states
    const uint32_t candidate = index_.PrefetchCandidate(item_hashes_[i]);
    if (candidate != AssetKeyIndex::kNotFound) __builtin_prefetch(&assets_[candidate]->book);
  }
  for (size_t i = 0; i < n; ++i) {
    bool inserted = false;
    uint32_t key = index_.FindOrInsertHashed(market, items[i].asset_id, item_hashes_[i], &inserted);
    if (inserted) key = AddAsset(key, market, items[i].asset_id, batch);
    item_keys_[i] = key;
  }
  for (size_t i = 0; i < n; ++i) {
    const std::span<const Level> side = assets_[item_keys_[i]]->book.levels(items[i].side);
    if (!side.empty()) __builtin_prefetch(side.data());
  }
}

// A new asset's state (out of line: once per asset).
uint32_t BookEngine::AddAsset(uint32_t key, std::string_view market, std::string_view asset_id, WriteBatch* batch) {
  auto state = std::make_unique<AssetState>();
  state->market = std::string(market);
  state->asset_id = std::string(asset_id);
  assets_.push_back(std::move(state));
  touched_epoch_.push_back(0);
  if (batch != nullptr) batch->new_assets.push_back({key, std::string(market), std::string(asset_id)});
  return key;
}

// A break is counted when an asset goes from fresh to stale; further trouble on an
// already-stale asset is part of the same outage (it is healed by the next book).
void BookEngine::MarkStale(AssetState& a) {
  if (!a.stale) {
    a.stale = true;
    ++a.continuity_breaks;
    ++counters_.continuity_breaks;
  }
  a.status_dirty = true;
}

void BookEngine::EmitRow(WriteBatch* batch, uint32_t key, int64_t line_no, const FeedEvent& ev,
                         EventKind kind, Side side, int64_t price, int64_t size) {
  EventRow row{};
  row.asset_key = key;
  row.item = item_++;
  row.line = line_no;
  row.ts_ms = ev.ts_ms;
  row.recv_ts_ms = recv_ts_ms_;
  row.seq = assets_[key]->seq;
  row.kind = kind;
  row.side = side;
  row.price = price;
  row.size = size;
  if (kind == EventKind::kBook) row.levels_json = EncodeLevelsJson(assets_[key]->book);
  batch->events.push_back(std::move(row));
}

void BookEngine::ApplyBook(uint32_t key, std::span<const Level> bids, std::span<const Level> asks,
                           const FeedEvent& ev, int64_t line_no, WriteBatch* batch) {
  AssetState& a = *assets_[key];
  a.book.ApplySnapshot(bids, asks);
  a.has_book = true;
  a.stale = false;
  a.ignore_until_book = false;
  a.feed_seq = ev.seq;
  ++a.seq;
  ++a.events;
  if (ev.ts_ms != 0) a.last_update_ts_ms = ev.ts_ms;
  a.status_dirty = true;
  Touch(key);
  Emit(batch, key, line_no, ev, EventKind::kBook, Side::kBid, 0, 0);
}

bool BookEngine::ApplyChange(uint32_t key, const ChangeItem& c, const FeedEvent& ev, int64_t line_no,
                             WriteBatch* batch) {
  AssetState& a = *assets_[key];
  if (!a.has_book || a.ignore_until_book) {
    // recordings.md: a change before any book is a continuity break and is not applied.
    if (!a.has_book) MarkStale(a);
    ++counters_.ignored_changes;
    return false;
  }
  a.book.ApplyLevel(c.side, c.price, c.size);
  ++a.seq;
  ++a.events;
  ++counters_.level_updates;
  if (ev.ts_ms != 0) a.last_update_ts_ms = ev.ts_ms;
  a.status_dirty = true;
  Touch(key);
  Emit(batch, key, line_no, ev, EventKind::kLevel, c.side, c.price, c.size);
  return true;
}

void BookEngine::ApplyPEvent(const ParsedLine& line, const FeedEvent& ev, int64_t line_no,
                             WriteBatch* batch) {
  switch (ev.type) {
    case EventType::kBook:
      ApplyBook(Intern(ev.market, ev.asset_id, batch), line.bids(ev), line.asks(ev), ev, line_no, batch);
      return;
    case EventType::kPriceChange: {
      auto items = line.items(ev);
      // Apply every change of the event first, then check the venue's best levels.
      InternItems(ev.market, items, batch);
      for (size_t i = 0; i < items.size(); ++i) ApplyChange(item_keys_[i], items[i], ev, line_no, batch);
      for (size_t i = 0; i < items.size(); ++i) {
        const ChangeItem& c = items[i];
        if (!c.has_best_bid && !c.has_best_ask) continue;
        AssetState& a = *assets_[item_keys_[i]];
        if (!a.has_book) continue;
        if ((c.has_best_bid && c.best_bid != a.book.best_bid()) ||
            (c.has_best_ask && c.best_ask != a.book.best_ask())) {
          ++counters_.drift_checks_failed;
          MarkStale(a);
        }
      }
      return;
    }
    case EventType::kTickSizeChange: {
      uint32_t key = Intern(ev.market, ev.asset_id, batch);
      AssetState& a = *assets_[key];
      a.book.set_tick_size(ev.value);
      ++a.seq;
      a.status_dirty = true;
      Emit(batch, key, line_no, ev, EventKind::kTick, Side::kBid, ev.value, 0);
      return;
    }
    case EventType::kBestBidAsk: {
      int64_t key = Find(ev.market.empty() ? default_market_ : ev.market, ev.asset_id);
      if (key < 0) return;
      AssetState& a = *assets_[static_cast<size_t>(key)];
      if (!a.has_book) return;
      if ((ev.has_value && ev.value != a.book.best_bid()) || (ev.has_value2 && ev.value2 != a.book.best_ask())) {
        ++counters_.drift_checks_failed;
        MarkStale(a);
      }
      return;
    }
    default:
      return;  // trades and catalog events do not change books
  }
}

void BookEngine::ApplySEvent(const ParsedLine& line, const FeedEvent& ev, int64_t line_no, WriteBatch* batch) {
  uint32_t key = Intern(ev.market, ev.asset_id, batch);
  if (ev.type == EventType::kSnapshot) {
    ApplyBook(key, line.bids(ev), line.asks(ev), ev, line_no, batch);
    return;
  }
  AssetState& a = *assets_[key];
  if (a.has_book && !a.ignore_until_book && ev.seq != a.feed_seq + 1) {
    // A seq gap: stale, and this asset's deltas are ignored until its next snapshot.
    MarkStale(a);
    a.ignore_until_book = true;
  }
  if (ApplyChange(key, line.items(ev)[0], ev, line_no, batch)) a.feed_seq = ev.seq;
}

void BookEngine::Apply(const ParsedLine& line, int64_t line_no, WriteBatch* batch, bool emit_events) {
  ++counters_.lines;
  emit_events_ = emit_events;
  ++epoch_;
  touched_.clear();
  item_ = 0;
  recv_ts_ms_ = line.recv_ts_ms;
  if (line.kind == ParsedLine::Kind::kEmpty) {
    ++counters_.blank_lines;
    return;
  }
  if (line.kind == ParsedLine::Kind::kTextFrame) {
    ++counters_.text_frames;
    return;
  }
  for (const FeedEvent& ev : line.events) {
    ++counters_.events;
    ++counters_.by_type[static_cast<size_t>(ev.type)];
    if (ev.ts_ms > last_ts_ms_) last_ts_ms_ = ev.ts_ms;
    if (ev.type == EventType::kSnapshot || ev.type == EventType::kDelta) {
      ApplySEvent(line, ev, line_no, batch);
    } else {
      ApplyPEvent(line, ev, line_no, batch);
    }
  }
}

void BookEngine::CollectStatus(WriteBatch* batch) {
  for (uint32_t key = 0; key < assets_.size(); ++key) {
    AssetState& a = *assets_[key];
    if (!a.status_dirty) continue;
    a.status_dirty = false;
    batch->status.push_back(StatusRow{key, a.last_update_ts_ms, a.seq, a.book.best_bid(), a.book.best_ask(),
                                      a.stale, a.events, a.continuity_breaks});
  }
}

void BookEngine::CollectSnapshots(int64_t ts_ms, WriteBatch* batch) {
  for (uint32_t key = 0; key < assets_.size(); ++key) {
    AssetState& a = *assets_[key];
    if (!a.has_book) continue;
    batch->snapshots.push_back(SnapshotRow{key, ts_ms, a.seq, EncodeLevelsJson(a.book)});
    a.snapshot_seq = a.seq;
  }
}

size_t BookEngine::CollectChangedSnapshots(int64_t ts_ms, WriteBatch* batch) {
  size_t n = 0;
  for (uint32_t key = 0; key < assets_.size(); ++key) {
    AssetState& a = *assets_[key];
    if (!a.has_book) continue;
    const int64_t changes = a.snapshot_seq < 0 ? a.seq : a.seq - a.snapshot_seq;
    const auto levels = static_cast<int64_t>(a.book.bids().size() + a.book.asks().size());
    if (changes < std::max<int64_t>(1, levels)) continue;
    batch->snapshots.push_back(SnapshotRow{key, ts_ms, a.seq, EncodeLevelsJson(a.book)});
    a.snapshot_seq = a.seq;
    ++n;
  }
  return n;
}

}  // namespace polyhost
