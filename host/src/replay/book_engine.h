// Applies parsed feed lines to the L2 books of every asset and enforces the
// continuity rules of docs/recordings.md. Produces the rows the store persists.
//
// Thread: single-threaded (the ingest/strategy thread owns it).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "book/order_book.h"
#include "core/asset_key_index.h"
#include "ingest/feed_parser.h"
#include "store/store.h"

namespace polyhost {

// The fields every update touches come first (one cache line with the book's
// vectors), the ids last.
struct AssetState {
  OrderBook book;
  bool has_book = false;          // a book/snapshot has been applied
  bool stale = false;             // continuity lost since the last book/snapshot
  bool ignore_until_book = false; // format S gap: deltas are dropped until a snapshot
  int64_t seq = 0;                // host sequence: events applied to this asset
  int64_t feed_seq = 0;           // format S: last applied seq
  int64_t last_update_ts_ms = 0;
  int64_t events = 0;
  int64_t continuity_breaks = 0;
  int64_t snapshot_seq = -1;      // seq of its last snapshot (-1: none yet)
  bool status_dirty = false;
  std::string market;
  std::string asset_id;
};

struct EngineCounters {
  int64_t lines = 0;              // every line read, blank and malformed included
  int64_t events = 0;             // event objects (format P) and snapshot/delta lines
  std::array<int64_t, kEventTypeCount> by_type{};
  int64_t text_frames = 0;        // PONG, "NO NEW ASSETS", ...
  int64_t blank_lines = 0;
  int64_t malformed = 0;
  int64_t continuity_breaks = 0;  // times an asset went from fresh to stale
  int64_t drift_checks_failed = 0;  // best_bid/best_ask disagreements (all, not only transitions)
  int64_t ignored_changes = 0;    // changes not applied (no book yet, or waiting for a snapshot)
  int64_t level_updates = 0;      // levels set or removed
};

class BookEngine {
 public:
  // default_market applies to format S lines without "market".
  explicit BookEngine(std::string default_market = {});

  // Applies one parsed line. When batch is non-null the rows to persist are
  // appended to it: new assets always, event rows only when emit_events (a resumed
  // replay re-applies lines the store already holds without re-emitting them).
  void Apply(const ParsedLine& line, int64_t line_no, WriteBatch* batch, bool emit_events = true);

  // Counts a line that was rejected by the parser.
  void CountMalformed() { ++counters_.lines, ++counters_.malformed; }
  // Live feeds: continuity was lost outside the frames (connection dropped, frames
  // dropped by a full queue, silence). Counted like any other break; the next book
  // (a REST resync) clears it.
  void MarkAssetStale(uint32_t key) { MarkStale(*assets_[key]); }

  // Appends a market_status row for every asset changed since the last call.
  void CollectStatus(WriteBatch* batch);
  // Appends a snapshot of every asset with a book (persist_snapshot_now).
  void CollectSnapshots(int64_t ts_ms, WriteBatch* batch);
  // The periodic schedule: a snapshot of each book that changed since its last
  // snapshot by at least as many events as it has levels (at least one event).
  // A book with fewer changes is cheaper to rebuild from its previous snapshot
  // and those events than to store whole again (on the benchmark feed, a full
  // set every minute of feed time was half the bytes a replay wrote). Returns
  // the number of snapshots appended.
  size_t CollectChangedSnapshots(int64_t ts_ms, WriteBatch* batch);

  // Assets whose book changed during the last Apply(), each once.
  std::span<const uint32_t> touched() const { return touched_; }

  const EngineCounters& counters() const { return counters_; }
  size_t asset_count() const { return assets_.size(); }
  const AssetState& asset(uint32_t key) const { return *assets_[key]; }
  // Returns the key of (market, asset_id), or -1.
  int64_t Find(std::string_view market, std::string_view asset_id) const;
  int64_t last_ts_ms() const { return last_ts_ms_; }

 private:
  uint32_t Intern(std::string_view market, std::string_view asset_id, WriteBatch* batch);
  void InternItems(std::string_view market, std::span<const ChangeItem> items, WriteBatch* batch);
  uint32_t AddAsset(uint32_t key, std::string_view market, std::string_view asset_id, WriteBatch* batch);
  void Touch(uint32_t key) {  // inline: every applied change calls it
    if (touched_epoch_[key] != epoch_) {
      touched_epoch_[key] = epoch_;
      touched_.push_back(key);
    }
  }
  void MarkStale(AssetState& a);
  void ApplyBook(uint32_t key, std::span<const Level> bids, std::span<const Level> asks,
                 const FeedEvent& ev, int64_t line_no, WriteBatch* batch);
  bool ApplyChange(uint32_t key, const ChangeItem& c, const FeedEvent& ev, int64_t line_no,
                   WriteBatch* batch);
  void ApplyPEvent(const ParsedLine& line, const FeedEvent& ev, int64_t line_no, WriteBatch* batch);
  void ApplySEvent(const ParsedLine& line, const FeedEvent& ev, int64_t line_no, WriteBatch* batch);
  // Appends the event row to batch, if rows are wanted (inline: without
  // storage, as in `replay --no-db`, every change skips the call).
  void Emit(WriteBatch* batch, uint32_t key, int64_t line_no, const FeedEvent& ev, EventKind kind,
            Side side, int64_t price, int64_t size) {
    if (batch != nullptr && emit_events_) EmitRow(batch, key, line_no, ev, kind, side, price, size);
  }
  void EmitRow(WriteBatch* batch, uint32_t key, int64_t line_no, const FeedEvent& ev, EventKind kind,
               Side side, int64_t price, int64_t size);

  std::string default_market_;
  std::vector<std::unique_ptr<AssetState>> assets_;
  AssetKeyIndex index_;  // (market, asset_id) -> key
  std::vector<uint32_t> item_keys_;    // scratch: keys of one price_change's items
  std::vector<uint64_t> item_hashes_;  // scratch: their AssetKeyIndex hashes
  std::vector<uint32_t> touched_;
  std::vector<uint64_t> touched_epoch_;
  uint64_t epoch_ = 0;
  uint32_t item_ = 0;        // row index within the current line
  bool emit_events_ = true;
  int64_t recv_ts_ms_ = 0;   // of the current line
  int64_t last_ts_ms_ = 0;   // newest event timestamp seen
  EngineCounters counters_;
};

}  // namespace polyhost
