// Histograms as plain integer bucket counters, for components that measure on
// their own threads (the store's writer, the run's strategy thread) and hand a
// copy to a metrics collector when they publish their stats. Observe() is a
// short search over a constexpr array and two additions: no locks, no
// allocation, no floating point. obs::ToHistogramData turns one into Prometheus
// buckets at scrape time.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace polyhost {

// Counts per bucket (not cumulative): counts[i] holds the observations v with
// bounds[i-1] < v <= bounds[i]; the last entry is +Inf (Prometheus "le").
template <const auto& Bounds>
struct FixedHistogram {
  static constexpr const auto& kBounds = Bounds;
  std::array<int64_t, Bounds.size() + 1> counts{};
  int64_t sum = 0;

  void Observe(int64_t v) {
    const auto i = static_cast<size_t>(std::lower_bound(Bounds.begin(), Bounds.end(), v) - Bounds.begin());
    ++counts[i];
    sum += v;
  }
  int64_t count() const {
    int64_t n = 0;
    for (int64_t c : counts) n += c;
    return n;
  }
  void Merge(const FixedHistogram& o) {
    for (size_t i = 0; i < counts.size(); ++i) counts[i] += o.counts[i];
    sum += o.sum;
  }
};

// Durations in nanoseconds, 1 us .. 10 s (the same bounds as
// obs::LatencyBucketsSeconds, so all latency histograms line up).
inline constexpr std::array<int64_t, 16> kLatencyBoundsNs = {
    1'000,      2'500,      5'000,      10'000,      25'000,        50'000,         100'000,        250'000,
    500'000,    1'000'000,  2'500'000,  5'000'000,   10'000'000,    100'000'000,    1'000'000'000,  10'000'000'000};
using LatencyHistogramNs = FixedHistogram<kLatencyBoundsNs>;

// Sizes (rows per database batch), 1 .. 1M.
inline constexpr std::array<int64_t, 13> kCountBounds = {1,    10,    100,    500,     1'000,   2'500,    5'000,
                                                         10'000, 25'000, 50'000, 100'000, 250'000, 1'000'000};
using CountHistogram = FixedHistogram<kCountBounds>;

}  // namespace polyhost
