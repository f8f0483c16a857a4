// Book structure comparison: the production sorted-vector OrderBook against the
// flat tick-indexed FlatBook (flat_book.h), replaying the same snapshots and level
// updates extracted from the feed (book_ops.h). Also the per-update latency rows.
#include <cinttypes>
#include <climits>
#include <type_traits>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_commands.h"
#include "bench_util.h"
#include "book/order_book.h"
#include "flat_book.h"

namespace polyhost::bench {
namespace {

struct ReplayTimes {
  int64_t level_ns = 0;     // time in runs of consecutive level updates
  int64_t snapshot_ns = 0;  // time in snapshots (each timed alone, clock overhead subtracted)
  size_t rejected = 0;      // FlatBook: updates off its price grid
};

template <class Book>
bool ApplyOne(Book& book, const BookOps::Op& op) {
  if constexpr (std::is_same_v<Book, FlatBook>) {
    return book.ApplyLevel(op.side, op.price, op.size);
  } else {
    book.ApplyLevel(op.side, op.price, op.size);
    return true;
  }
}

// Replays all ops into `books` (one per asset), timing level-update runs and
// snapshots separately.
template <class Book>
ReplayTimes Replay(const BookOps& ops, Book* books, int64_t clock_overhead_ns) {
  ReplayTimes t;
  const BookOps::Op* op = ops.ops.data();
  const BookOps::Op* const end = op + ops.ops.size();
  while (op != end) {
    if (op->kind == BookOps::kSnapshotOp) {
      auto t0 = Clock::now();
      books[op->asset].ApplySnapshot(ops.bids(*op), ops.asks(*op));
      auto t1 = Clock::now();
      t.snapshot_ns += std::max<int64_t>(0, NanosBetween(t0, t1) - clock_overhead_ns);
      ++op;
      continue;
    }
    auto t0 = Clock::now();
    size_t rejected = 0;
    for (; op != end && op->kind == BookOps::kLevelOp; ++op) rejected += !ApplyOne(books[op->asset], *op);
    auto t1 = Clock::now();
    t.level_ns += NanosBetween(t0, t1);
    t.rejected += rejected;
  }
  return t;
}

template <class BookA, class BookB>
size_t CountMismatches(const BookA& a, const BookB& b) {
  std::vector<Level> la, lb;
  size_t bad = 0;
  for (Side side : {Side::kBid, Side::kAsk}) {
    la.clear();
    lb.clear();
    if constexpr (std::is_same_v<BookA, FlatBook>) {
      a.ForEachLevel(side, [&](Level l) { la.push_back(l); });
    } else {
      la.assign(a.levels(side).begin(), a.levels(side).end());
    }
    if constexpr (std::is_same_v<BookB, FlatBook>) {
      b.ForEachLevel(side, [&](Level l) { lb.push_back(l); });
    } else {
      lb.assign(b.levels(side).begin(), b.levels(side).end());
    }
    bad += la != lb;
  }
  bad += a.best_bid() != b.best_bid() || a.best_ask() != b.best_ask();
  return bad;
}

// Per-update latency: each ApplyLevel timed alone, and per-update means of
// batches of `batch` consecutive updates (snapshots applied untimed in between).
template <class Book>
void LevelLatency(const BookOps& ops, int batch, std::vector<int64_t>* per_call, std::vector<int64_t>* per_batch) {
  {
    auto books = std::make_unique<Book[]>(ops.asset_count());
    per_call->reserve(ops.level_updates);
    for (const BookOps::Op& op : ops.ops) {
      if (op.kind == BookOps::kSnapshotOp) {
        books[op.asset].ApplySnapshot(ops.bids(op), ops.asks(op));
        continue;
      }
      auto t0 = Clock::now();
      ApplyOne(books[op.asset], op);
      auto t1 = Clock::now();
      per_call->push_back(NanosBetween(t0, t1));
    }
  }
  auto books = std::make_unique<Book[]>(ops.asset_count());
  const BookOps::Op* op = ops.ops.data();
  const BookOps::Op* const end = op + ops.ops.size();
  while (op != end) {
    if (op->kind == BookOps::kSnapshotOp) {
      books[op->asset].ApplySnapshot(ops.bids(*op), ops.asks(*op));
      ++op;
      continue;
    }
    int n = 0;
    auto t0 = Clock::now();
    for (; op != end && op->kind == BookOps::kLevelOp && n < batch; ++op, ++n) ApplyOne(books[op->asset], *op);
    auto t1 = Clock::now();
    if (n == batch) per_batch->push_back(NanosBetween(t0, t1) / batch);
  }
}

void PrintLatency(const std::string& name, const Percentiles& p) {
  std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", name.c_str(), Fixed(p.p50, 0).c_str(),
              Fixed(p.p90, 0).c_str(), Fixed(p.p99, 0).c_str(), Fixed(p.p999, 0).c_str(), Fixed(p.max, 0).c_str(),
              Fixed(p.mean, 1).c_str(), Group(static_cast<double>(p.n)).c_str());
  std::fflush(stdout);
}

// Untimed: what the level updates do to a sorted-vector book (explains its cost).
void DescribeOps(const BookOps& ops) {
  auto books = std::make_unique<OrderBook[]>(ops.asset_count());
  size_t inserts = 0, removes = 0, modifies = 0, noops = 0, at_best = 0;
  double depth_sum = 0, side_len_sum = 0;
  for (const BookOps::Op& op : ops.ops) {
    OrderBook& b = books[op.asset];
    if (op.kind == BookOps::kSnapshotOp) {
      b.ApplySnapshot(ops.bids(op), ops.asks(op));
      continue;
    }
    auto side = b.levels(op.side);
    size_t depth = 0;
    bool found = false;
    for (; depth < side.size(); ++depth) {
      const bool better = op.side == Side::kBid ? side[depth].price > op.price : side[depth].price < op.price;
      if (!better) {
        found = side[depth].price == op.price;
        break;
      }
    }
    depth_sum += static_cast<double>(depth);
    side_len_sum += static_cast<double>(side.size());
    at_best += depth == 0;
    if (found) {
      (op.size > 0 ? modifies : removes) += 1;
    } else {
      (op.size > 0 ? inserts : noops) += 1;
    }
    b.ApplyLevel(op.side, op.price, op.size);
  }
  const double n = static_cast<double>(ops.level_updates);
  std::fprintf(stderr,
               "  level updates: %.1f%% insert a level, %.1f%% remove one, %.1f%% change a size, %.1f%% remove a "
               "missing level; %.1f%% at the best price; mean depth %.2f levels from best; mean side length %.1f\n",
               100.0 * inserts / n, 100.0 * removes / n, 100.0 * modifies / n, 100.0 * noops / n, 100.0 * at_best / n,
               depth_sum / n, side_len_sum / n);
}

}  // namespace

void PrintLevelLatencyRows(const BookOps& ops, int64_t clock_overhead_ns, int batch) {
  std::vector<int64_t> call, batched;
  LevelLatency<OrderBook>(ops, batch, &call, &batched);
  PrintLatency("`OrderBook::ApplyLevel` (sorted vector), per call incl. clock", ComputePercentiles(std::move(call)));
  PrintLatency("`OrderBook::ApplyLevel` (sorted vector), mean per update in batches of " + std::to_string(batch),
               ComputePercentiles(std::move(batched)));
  call.clear();
  batched.clear();
  LevelLatency<FlatBook>(ops, batch, &call, &batched);
  PrintLatency("`FlatBook::ApplyLevel` (bench flat array), per call incl. clock", ComputePercentiles(std::move(call)));
  PrintLatency("`FlatBook::ApplyLevel` (bench flat array), mean per update in batches of " + std::to_string(batch),
               ComputePercentiles(std::move(batched)));
}

int RunBooks(const Args& args) {
  const FeedBuffer feed = LoadFeed(args.feed, args.limit);
  BookEngine engine;
  const BookOps ops = ExtractBookOps(feed, &engine);
  const size_t n_assets = ops.asset_count();
  const int64_t overhead = ClockOverheadNs();
  std::fprintf(stderr, "  %zu assets, %zu level updates, %zu snapshots, clock pair %" PRId64 " ns\n", n_assets,
               ops.level_updates, ops.snapshots.size(), overhead);

  DescribeOps(ops);

  // Memory: heap growth (glibc mallinfo2, exact for what the books allocate) of
  // building every book from nothing and replaying the whole feed into it. (RSS
  // deltas inside one process are not reliable here: glibc reuses pages freed
  // while extracting the ops.)
  int64_t heap0 = HeapInUseBytes();
  auto vec_books = std::make_unique<OrderBook[]>(n_assets);
  Replay(ops, vec_books.get(), overhead);
  const int64_t vec_heap = HeapInUseBytes() - heap0;
  heap0 = HeapInUseBytes();
  auto flat_books = std::make_unique<FlatBook[]>(n_assets);
  const ReplayTimes flat_first = Replay(ops, flat_books.get(), overhead);
  const int64_t flat_heap = HeapInUseBytes() - heap0;

  // Correctness: both structures and the engine's books agree level by level.
  size_t mismatch_flat = 0, mismatch_engine = 0;
  for (uint32_t a = 0; a < n_assets; ++a) {
    mismatch_flat += CountMismatches(vec_books[a], flat_books[a]);
    const int64_t key = engine.Find(ops.market[a], ops.asset_id[a]);
    mismatch_engine += key < 0 ? 1 : CountMismatches(vec_books[a], engine.asset(static_cast<uint32_t>(key)).book);
  }
  vec_books.reset();
  flat_books.reset();

  // Timing: fresh books every run (constructed outside the timed region), best of N.
  ReplayTimes best_vec{INT64_MAX, INT64_MAX, 0}, best_flat{INT64_MAX, INT64_MAX, 0};
  for (int r = 0; r < args.repeat; ++r) {
    ReplayTimes tv, tf;
    {
      auto books = std::make_unique<OrderBook[]>(n_assets);
      tv = Replay(ops, books.get(), overhead);
    }
    {
      auto books = std::make_unique<FlatBook[]>(n_assets);
      tf = Replay(ops, books.get(), overhead);
    }
    best_vec.level_ns = std::min(best_vec.level_ns, tv.level_ns);
    best_vec.snapshot_ns = std::min(best_vec.snapshot_ns, tv.snapshot_ns);
    best_flat.level_ns = std::min(best_flat.level_ns, tf.level_ns);
    best_flat.snapshot_ns = std::min(best_flat.snapshot_ns, tf.snapshot_ns);
    std::fprintf(stderr, "  run %d: vector %.2f ns/update %.0f ns/snapshot, flat %.2f ns/update %.0f ns/snapshot\n", r,
                 static_cast<double>(tv.level_ns) / static_cast<double>(ops.level_updates),
                 static_cast<double>(tv.snapshot_ns) / static_cast<double>(ops.snapshots.size()),
                 static_cast<double>(tf.level_ns) / static_cast<double>(ops.level_updates),
                 static_cast<double>(tf.snapshot_ns) / static_cast<double>(ops.snapshots.size()));
  }
  const double upd = static_cast<double>(ops.level_updates);
  const double snaps = static_cast<double>(ops.snapshots.size());
  const double per_book = n_assets > 0 ? 1.0 / static_cast<double>(n_assets) : 0;
  auto row = [&](const char* name, const ReplayTimes& t, int64_t heap, size_t size_of, const std::string& check) {
    std::printf("| %s | %s | %s | %s | %s B | %zu B | %s |\n", name,
                Fixed(static_cast<double>(t.level_ns) / upd, 2).c_str(),
                Group(upd * 1e9 / static_cast<double>(t.level_ns)).c_str(),
                Fixed(static_cast<double>(t.snapshot_ns) / snaps, 0).c_str(),
                Group(static_cast<double>(heap) * per_book).c_str(), size_of, check.c_str());
  };
  row("sorted vector `OrderBook` (production)", best_vec, vec_heap, sizeof(OrderBook),
      mismatch_engine == 0 ? "= BookEngine books" : std::to_string(mismatch_engine) + " mismatches vs BookEngine");
  row("flat tick array `FlatBook` (bench/flat_book.h)", best_flat, flat_heap, sizeof(FlatBook),
      (mismatch_flat == 0 ? std::string("= sorted vector") : std::to_string(mismatch_flat) + " mismatches") +
          (flat_first.rejected ? ", " + std::to_string(flat_first.rejected) + " off-grid updates" : ""));
  std::fflush(stdout);
  return mismatch_flat + mismatch_engine == 0 ? 0 : 1;
}

}  // namespace polyhost::bench
