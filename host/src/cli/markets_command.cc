// polyhost refresh-markets [GAMMA_URL] [--active-only]: the Gamma catalog into the DB.
// polyhost markets [--search TEXT] [--json]: what the DB holds.
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include "catalog/catalog_refresh.h"
#include "cli/command.h"
#include "core/decimal.h"
#include "live/http_get.h"

namespace polyhost {
namespace {

struct RefreshFlags {
  CommonFlags common;
  std::string gamma_url;
  bool active_only = false;
  bool insecure = false;
  std::string ca_file;
  int64_t offset_cap = 10000;
  int64_t max_markets = 0;
  bool json = false;
};

struct MarketsFlags {
  CommonFlags common;
  std::string search;
  bool json = false;
};

}  // namespace

void AddMarketsCommands(CLI::App& app, CommandRegistry& registry) {
  auto r = std::make_shared<RefreshFlags>();
  CLI::App* refresh = app.add_subcommand("refresh-markets", "Load the Gamma market catalog into the database");
  refresh->add_option("GAMMA_URL", r->gamma_url, "Gamma API base URL (default: [polymarket] gamma_url)");
  refresh->add_flag("--active-only", r->active_only, "only markets that are active and not closed");
  refresh->add_flag("--insecure", r->insecure, "TLS without certificate checks (local test servers only)");
  refresh->add_option("--ca-file", r->ca_file, "PEM CA certificates to trust instead of the system store");
  refresh->add_option("--offset-cap", r->offset_cap, "largest offset the venue accepts (paging switches windows there)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  refresh->add_option("--max-markets", r->max_markets, "stop after N markets (default: all)")
      ->check(CLI::NonNegativeNumber);
  refresh->add_flag("--json", r->json, "print the summary as JSON");
  AddCommonFlags(refresh, &r->common);
  registry.Add(refresh, [r]() -> int {
    LoadedConfig loaded = LoadConfigFor(r->common);
    const Config& config = loaded.config;
    GammaFetchOptions o;
    o.gamma_url = r->gamma_url.empty() ? config.polymarket.gamma_url : r->gamma_url;
    if (!o.gamma_url.starts_with("http://") && !o.gamma_url.starts_with("https://")) {
      throw UsageError("GAMMA_URL must start with http:// or https:// (got '" + o.gamma_url + "')");
    }
    o.active_only = r->active_only;
    o.offset_cap = r->offset_cap;
    o.max_markets = r->max_markets;
    HttpGetOptions http;
    http.insecure = r->insecure;
    http.ca_file = r->ca_file;
    if (r->insecure) spdlog::warn("--insecure: TLS certificates are NOT verified");
    o.get = MakeHttpGet(http);
    o.on_warning = [](const std::string& m) { spdlog::warn("{}", m); };
    if (isatty(STDERR_FILENO) != 0 && !r->json) {
      o.on_page = [](int64_t pages, int64_t markets) {
        std::fprintf(stderr, "\rrefresh-markets: %lld pages, %lld markets   ", static_cast<long long>(pages),
                     static_cast<long long>(markets));
      };
    }
    std::unique_ptr<Store> store = OpenStore(config, false);
    int64_t written = 0;
    GammaFetchResult res = RefreshMarketCatalog(*store, o, &written);
    if (o.on_page) std::fprintf(stderr, "\r\033[K");
    if (r->json) {
      boost::json::object j{{"markets", written},      {"pages", res.pages}, {"windows", res.windows},
                            {"skipped", res.skipped}};
      std::cout << boost::json::serialize(j) << "\n";
    } else {
      std::printf("refresh-markets: %lld markets from %lld pages (%lld windows), %lld malformed skipped\n",
                  static_cast<long long>(written), static_cast<long long>(res.pages),
                  static_cast<long long>(res.windows), static_cast<long long>(res.skipped));
    }
    return 0;
  });

  auto m = std::make_shared<MarketsFlags>();
  CLI::App* markets = app.add_subcommand("markets", "List the market catalog stored by refresh-markets");
  markets->add_option("--search", m->search,
                      "only markets whose question, slug, condition id, event id or token id contains TEXT");
  markets->add_flag("--json", m->json, "machine-readable output");
  AddCommonFlags(markets, &m->common);
  registry.Add(markets, [m]() -> int {
    LoadedConfig loaded = LoadConfigFor(m->common);
    std::unique_ptr<Store> store = OpenStore(loaded.config, true);
    std::vector<MarketRecord> rows = store->ListMarkets(m->search);
    if (m->json) {
      boost::json::array arr;
      for (const MarketRecord& r : rows) {
        boost::json::array outcomes;
        for (size_t i = 0; i < r.asset_ids.size(); ++i) {
          outcomes.push_back({{"asset_id", r.asset_ids[i]}, {"outcome", i < r.outcomes.size() ? r.outcomes[i] : ""}});
        }
        arr.push_back({{"condition_id", r.condition_id},
                       {"question", r.question},
                       {"slug", r.slug},
                       {"event_id", r.event_id},
                       {"neg_risk", r.neg_risk},
                       {"tick_size", FormatDecimal(r.tick_size_micros)},
                       {"min_order_size", FormatDecimal(r.min_order_size_micros)},
                       {"end_date", FormatTimestampMs(r.end_date_ms)},
                       {"active", r.active},
                       {"closed", r.closed},
                       {"updated", FormatTimestampMs(r.updated_ms)},
                       {"outcomes", std::move(outcomes)}});
      }
      std::cout << boost::json::serialize(arr) << "\n";
      return 0;
    }
    if (rows.empty()) {
      std::printf("no markets%s (run polyhost refresh-markets first)\n", m->search.empty() ? "" : " match");
      return 0;
    }
    for (const MarketRecord& r : rows) {
      std::printf("%s  %s%s%s\n", r.condition_id.c_str(), r.question.empty() ? "(no question)" : r.question.c_str(),
                  r.closed ? "  [closed]" : (r.active ? "" : "  [inactive]"), r.neg_risk ? "  [neg-risk]" : "");
      std::printf("  tick %s, min size %s, ends %s%s%s\n", FormatDecimal(r.tick_size_micros).c_str(),
                  FormatDecimal(r.min_order_size_micros).c_str(), FormatTimestampMs(r.end_date_ms).c_str(),
                  r.event_id.empty() ? "" : ", event ", r.event_id.c_str());
      for (size_t i = 0; i < r.asset_ids.size(); ++i) {
        std::printf("  %-6s %s\n", i < r.outcomes.size() && !r.outcomes[i].empty() ? r.outcomes[i].c_str() : "?",
                    r.asset_ids[i].c_str());
      }
    }
    std::printf("%zu markets\n", rows.size());
    return 0;
  });
}

}  // namespace polyhost
