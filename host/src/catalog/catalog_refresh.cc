#include "catalog/catalog_refresh.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace polyhost {

GammaFetchResult RefreshMarketCatalog(Store& store, const GammaFetchOptions& options, int64_t* written) {
  GammaFetchResult r = FetchGammaMarkets(options);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<MarketRecord> rows;
  rows.reserve(r.markets.size());
  for (const GammaMarket& g : r.markets) {
    MarketRecord m;
    m.condition_id = g.spec.market;
    m.question = g.spec.question;
    m.slug = g.slug;
    m.event_id = g.spec.event_id;
    m.neg_risk = g.spec.neg_risk;
    m.tick_size_micros = g.spec.tick_size_micros;
    m.min_order_size_micros = g.spec.min_order_size_micros;
    m.end_date_ms = g.spec.end_time_ms;
    m.active = g.spec.active;
    m.closed = g.spec.closed;
    m.updated_ms = now;
    m.asset_ids = g.spec.asset_ids;
    m.outcomes = g.spec.outcomes;
    rows.push_back(std::move(m));
  }
  *written = store.UpsertMarkets(rows);
  return r;
}

PeriodicCatalogRefresh::PeriodicCatalogRefresh(Store& store, GammaFetchOptions options, int64_t interval_ms)
    : store_(store), options_(std::move(options)), interval_ms_(interval_ms) {
  // Every page request checks the stop flag first, so Stop() ends a refresh
  // between pages instead of after the whole catalog.
  auto get = std::move(options_.get);
  options_.get = [this, get](const std::string& url, std::string* body, std::string* error) {
    if (stopping_.load()) {
      *error = "stopping";
      return false;
    }
    return get(url, body, error);
  };
  thread_ = std::thread([this] { Loop(); });
}

PeriodicCatalogRefresh::~PeriodicCatalogRefresh() { Stop(); }

void PeriodicCatalogRefresh::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stopping_.store(true);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PeriodicCatalogRefresh::Stats PeriodicCatalogRefresh::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void PeriodicCatalogRefresh::Loop() {
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    try {
      int64_t written = 0;
      const GammaFetchResult r = RefreshMarketCatalog(store_, options_, &written);
      std::lock_guard lock(mu_);
      ++stats_.refreshes;
      stats_.markets_written = written;
      spdlog::info("catalog: refreshed {} markets from {} pages ({} malformed skipped)", written, r.pages, r.skipped);
    } catch (const std::exception& e) {
      if (stopping_.load()) return;
      std::lock_guard lock(mu_);
      ++stats_.failures;
      spdlog::warn("catalog: refresh from {} failed: {}; next try in {} ms", options_.gamma_url, e.what(),
                   interval_ms_);
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, start + std::chrono::milliseconds(interval_ms_), [this] { return stop_; })) return;
  }
}

}  // namespace polyhost
