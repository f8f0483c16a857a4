// A Prometheus registry (prometheus-cpp) built from plain numbers at scrape or
// export time.
//
// Components keep plain counters of their own (replay counters, run summary,
// risk-gate rejects, database rows) and never touch this on their hot paths; a
// collector turns a snapshot of those numbers into a MetricsBuilder when the
// metrics are read. That keeps locks, map lookups and allocations out of the
// per-event path and lets a separate process (polyhost metrics-export) expose
// the same names from the database.
//
// Names follow the Prometheus conventions and are checked when added:
// "polyhost_" prefix, snake_case, counters end in "_total", durations in
// "_seconds", sizes in "_bytes"; values are in base units (seconds, bytes,
// USDC, shares).
#pragma once

#include <prometheus/family.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_histogram.h"

namespace polyhost::obs {

using MetricLabels = std::map<std::string, std::string>;

// A histogram's counts per bucket (not cumulative; the last bucket is +Inf)
// and the sum of the observed values.
struct HistogramData {
  std::vector<double> bounds;        // upper bounds, increasing
  std::vector<double> bucket_counts; // bounds.size() + 1 entries
  double sum = 0;
  // Adds one observation.
  void Observe(double value);
  int64_t count() const;
};

// Latency buckets in seconds, 1 us .. 10 s.
std::vector<double> LatencyBucketsSeconds();

// A component's integer histogram in Prometheus form; `unit` converts its
// values to base units (1e-9 for nanoseconds, 1 for counts).
template <const auto& Bounds>
HistogramData ToHistogramData(const FixedHistogram<Bounds>& h, double unit) {
  HistogramData d;
  for (int64_t b : Bounds) d.bounds.push_back(static_cast<double>(b) * unit);
  for (int64_t c : h.counts) d.bucket_counts.push_back(static_cast<double>(c));
  d.sum = static_cast<double>(h.sum) * unit;
  return d;
}

class MetricsBuilder {
 public:
  MetricsBuilder();

  // Each metric name gets one help text and one type; adding the same name again
  // with other labels adds a series. Throws std::invalid_argument on a name that
  // breaks the conventions above or a type clash.
  void Counter(const std::string& name, const std::string& help, const MetricLabels& labels, double value);
  void Gauge(const std::string& name, const std::string& help, const MetricLabels& labels, double value);
  void Histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                 const HistogramData& data);

  std::vector<prometheus::MetricFamily> Collect() const;
  // The Prometheus text exposition format (what /metrics serves).
  std::string Text() const;
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  template <typename T>
  prometheus::Family<T>& FamilyOf(const std::string& name, const std::string& help, char type);

  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::string, std::pair<char, void*>> families_;  // name -> (type, Family<T>*)
};

// Checks a metric name against the conventions; returns "" or why not.
std::string CheckMetricName(std::string_view name, char type);  // type: 'c' counter, 'g' gauge, 'h' histogram

// Text exposition of several builders' families (e.g. database + live run).
std::string ExpositionText(const std::vector<const MetricsBuilder*>& builders);

}  // namespace polyhost::obs
