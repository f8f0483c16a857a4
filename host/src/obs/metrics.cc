#include "obs/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace polyhost::obs {

void HistogramData::Observe(double value) {
  if (bucket_counts.size() != bounds.size() + 1) bucket_counts.assign(bounds.size() + 1, 0);
  const size_t i = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  bucket_counts[i] += 1;
  sum += value;
}

int64_t HistogramData::count() const {
  double n = 0;
  for (double c : bucket_counts) n += c;
  return static_cast<int64_t>(n);
}

std::vector<double> LatencyBucketsSeconds() {
  return {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 0.1, 1, 10};
}

std::string CheckMetricName(std::string_view name, char type) {
  std::string why;
  auto problem = [&](std::string_view what) {
    why.append("'").append(name).append("' ").append(what);
    return why;
  };
  if (!name.starts_with("polyhost_")) return problem("lacks the polyhost_ prefix");
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return problem("is not snake_case");
  }
  const bool total = name.ends_with("_total");
  if (type == 'c' && !total) return problem("is a counter: it must end in _total");
  if (type != 'c' && total) return problem("is not a counter: only counters end in _total");
  for (std::string_view unit : {"_ms", "_us", "_ns", "_millis", "_micros", "_kb", "_mb"}) {
    std::string inner(unit);
    inner += '_';
    if (name.ends_with(unit) || name.find(inner) != std::string_view::npos) {
      return problem("must use base units (seconds, bytes)");
    }
  }
  return why;
}

MetricsBuilder::MetricsBuilder() : registry_(std::make_shared<prometheus::Registry>()) {}

template <typename T>
prometheus::Family<T>& MetricsBuilder::FamilyOf(const std::string& name, const std::string& help, char type) {
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.first != type) throw std::invalid_argument("metric '" + name + "' added with two types");
    return *static_cast<prometheus::Family<T>*>(it->second.second);
  }
  if (std::string why = CheckMetricName(name, type); !why.empty()) throw std::invalid_argument("metric " + why);
  prometheus::Family<T>* family = nullptr;
  if constexpr (std::is_same_v<T, prometheus::Counter>) {
    family = &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  } else if constexpr (std::is_same_v<T, prometheus::Gauge>) {
    family = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  } else {
    family = &prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
  }
  families_.emplace(name, std::make_pair(type, static_cast<void*>(family)));
  return *family;
}

void MetricsBuilder::Counter(const std::string& name, const std::string& help, const MetricLabels& labels,
                             double value) {
  auto& c = FamilyOf<prometheus::Counter>(name, help, 'c').Add(labels);
  if (value > c.Value()) c.Increment(value - c.Value());
}

void MetricsBuilder::Gauge(const std::string& name, const std::string& help, const MetricLabels& labels, double value) {
  FamilyOf<prometheus::Gauge>(name, help, 'g').Add(labels).Set(value);
}

void MetricsBuilder::Histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                               const HistogramData& data) {
  auto& h = FamilyOf<prometheus::Histogram>(name, help, 'h').Add(labels, data.bounds);
  std::vector<double> counts = data.bucket_counts;
  counts.resize(data.bounds.size() + 1, 0);
  h.ObserveMultiple(counts, data.sum);
}

std::vector<prometheus::MetricFamily> MetricsBuilder::Collect() const { return registry_->Collect(); }

std::string MetricsBuilder::Text() const { return ExpositionText({this}); }

std::string ExpositionText(const std::vector<const MetricsBuilder*>& builders) {
  std::vector<prometheus::MetricFamily> all;
  for (const MetricsBuilder* b : builders) {
    for (prometheus::MetricFamily& f : b->Collect()) all.push_back(std::move(f));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, all);
  return out.str();
}

}  // namespace polyhost::obs
