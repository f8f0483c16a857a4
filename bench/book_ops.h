// The book operations of a feed, extracted once so that book structures can be
// replayed against exactly the same sequence of snapshots and level updates
// without parsing in the timed loop. Continuity rules mirror BookEngine: a level
// change is applied only once its asset has a book (and, in format S, not while
// the asset waits for a snapshot after a seq gap). bench/ only.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench_util.h"
#include "book/order_book.h"
#include "ingest/feed_parser.h"
#include "replay/book_engine.h"

namespace polyhost::bench {

struct BookOps {
  enum Kind : uint8_t { kLevelOp = 0, kSnapshotOp = 1 };
  struct Op {
    uint32_t asset;
    Kind kind;
    Side side;
    uint32_t snapshot;  // kSnapshotOp: index into snapshots
    int64_t price;
    int64_t size;
  };
  struct Snapshot {
    uint32_t bids_begin, bids_count, asks_begin, asks_count;
  };

  std::vector<Op> ops;
  std::vector<Snapshot> snapshots;
  std::vector<Level> levels;
  std::vector<std::string> market;    // by asset index
  std::vector<std::string> asset_id;  // by asset index
  size_t level_updates = 0;
  size_t lines = 0;

  size_t asset_count() const { return market.size(); }
  std::span<const Level> bids(const Op& op) const {
    const Snapshot& s = snapshots[op.snapshot];
    return {levels.data() + s.bids_begin, s.bids_count};
  }
  std::span<const Level> asks(const Op& op) const {
    const Snapshot& s = snapshots[op.snapshot];
    return {levels.data() + s.asks_begin, s.asks_count};
  }
};

// Extracts the ops of every line of `feed`. When `engine` is non-null every
// parsed line is also applied to it (for cross-checking the replayed books).
inline BookOps ExtractBookOps(const FeedBuffer& feed, BookEngine* engine) {
  BookOps out;
  FeedParser parser;
  ParsedLine parsed;
  ParseError error;
  struct State {
    bool has_book = false;
    bool ignore_until_book = false;
    int64_t feed_seq = 0;
  };
  std::vector<State> state;
  std::unordered_map<std::string, uint32_t> index;
  std::string key;
  auto intern = [&](std::string_view market, std::string_view asset) -> uint32_t {
    key.assign(market);
    key.push_back('\x1f');
    key.append(asset);
    auto [it, inserted] = index.try_emplace(key, static_cast<uint32_t>(out.market.size()));
    if (inserted) {
      out.market.emplace_back(market);
      out.asset_id.emplace_back(asset);
      state.emplace_back();
    }
    return it->second;
  };
  auto snapshot = [&](uint32_t a, std::span<const Level> bids, std::span<const Level> asks) {
    BookOps::Snapshot s{static_cast<uint32_t>(out.levels.size()), static_cast<uint32_t>(bids.size()), 0, 0};
    out.levels.insert(out.levels.end(), bids.begin(), bids.end());
    s.asks_begin = static_cast<uint32_t>(out.levels.size());
    s.asks_count = static_cast<uint32_t>(asks.size());
    out.levels.insert(out.levels.end(), asks.begin(), asks.end());
    out.ops.push_back({a, BookOps::kSnapshotOp, Side::kBid, static_cast<uint32_t>(out.snapshots.size()), 0, 0});
    out.snapshots.push_back(s);
    state[a].has_book = true;
    state[a].ignore_until_book = false;
  };
  auto level = [&](uint32_t a, const ChangeItem& c) {
    if (!state[a].has_book || state[a].ignore_until_book) return false;
    out.ops.push_back({a, BookOps::kLevelOp, c.side, 0, c.price, c.size});
    ++out.level_updates;
    return true;
  };

  for (size_t i = 0; i < feed.lines.size(); ++i) {
    ++out.lines;
    if (!parser.Parse(feed.line_data(i), feed.lines[i].len, FeedFormat::kAuto, &parsed, &error)) {
      if (engine != nullptr) engine->CountMalformed();
      continue;
    }
    if (engine != nullptr) engine->Apply(parsed, static_cast<int64_t>(i + 1), nullptr);
    if (parsed.kind != ParsedLine::Kind::kEvents) continue;
    for (const FeedEvent& ev : parsed.events) {
      switch (ev.type) {
        case EventType::kBook:
          snapshot(intern(ev.market, ev.asset_id), parsed.bids(ev), parsed.asks(ev));
          break;
        case EventType::kPriceChange:
          for (const ChangeItem& c : parsed.items(ev)) level(intern(ev.market, c.asset_id), c);
          break;
        case EventType::kSnapshot:
          snapshot(intern(ev.market, ev.asset_id), parsed.bids(ev), parsed.asks(ev));
          state[intern(ev.market, ev.asset_id)].feed_seq = ev.seq;
          break;
        case EventType::kDelta: {
          const uint32_t a = intern(ev.market, ev.asset_id);
          State& s = state[a];
          if (s.has_book && !s.ignore_until_book && ev.seq != s.feed_seq + 1) s.ignore_until_book = true;
          if (level(a, parsed.items(ev)[0])) s.feed_seq = ev.seq;
          break;
        }
        default:
          break;
      }
    }
  }
  return out;
}

}  // namespace polyhost::bench
