// The Gamma catalog into the database: once (`polyhost refresh-markets`) or
// periodically on a thread of its own (`polyhost run-service`).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "catalog/gamma_client.h"
#include "store/store.h"

namespace polyhost {

// Fetches every page and upserts the markets in one transaction; *written is
// how many markets were written. Throws GammaError (fetch) or StoreError.
GammaFetchResult RefreshMarketCatalog(Store& store, const GammaFetchOptions& options, int64_t* written);

// RefreshMarketCatalog at once and then every interval_ms, until Stop(). A failed
// refresh is logged (warn) and counted, never fatal: the service keeps running on
// the catalog it has. Stop() also cuts an in-flight refresh short (its next page
// request fails), so shutdown never waits for the venue.
class PeriodicCatalogRefresh {
 public:
  struct Stats {
    int64_t refreshes = 0;  // completed
    int64_t failures = 0;
    int64_t markets_written = 0;  // by the last completed refresh
  };

  PeriodicCatalogRefresh(Store& store, GammaFetchOptions options, int64_t interval_ms);
  ~PeriodicCatalogRefresh();
  PeriodicCatalogRefresh(const PeriodicCatalogRefresh&) = delete;
  PeriodicCatalogRefresh& operator=(const PeriodicCatalogRefresh&) = delete;

  void Stop();
  Stats stats() const;

 private:
  void Loop();

  Store& store_;
  GammaFetchOptions options_;
  const int64_t interval_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};
  Stats stats_;
  std::thread thread_;
};

}  // namespace polyhost
