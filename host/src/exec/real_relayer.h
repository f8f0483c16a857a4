// The real relayer: CLOB V2 orders, signed (signing/) and, only when
// dry_run = false, sent through the ClobClient.
//
// dry_run = true (the default): every order is built and signed, logged with
// its order hash, acknowledged locally with reason "dry_run: not sent" and never
// leaves the process; GTC orders rest locally (cancellable), IOC/FOK end at once.
// No network request of any kind is made.
//
// dry_run = false: start-up checks GET /version against the order version this
// build signs and refuses to start on a mismatch; each order is one
// POST /order (not retried), cancels are DELETE /order. Venue errors become
// rejects whose reason starts with a stable code (MapVenueError).
//
// Thread: strategy thread; Submit()/Cancel() block for the HTTP round trip.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "exec/clob_client.h"
#include "exec/relayer.h"
#include "signing/eip712.h"

namespace polyhost {

// What the relayer needs to know about a market to sign for it.
struct MarketParams {
  int64_t tick_micros = 0;  // 0: unknown (the order is rejected)
  bool neg_risk = false;
};

struct RealRelayerOptions {
  bool dry_run = true;
  std::string private_key;  // hex; secret: cleared after parsing
  std::string funder;       // maker address for proxy / Safe wallets; empty: the signer
  // Exchange domain: version, chain and both verifying contracts.
  std::string exchange_version = "2";
  uint64_t chain_id = 137;
  std::string exchange = "0xE111180000d2663C0091e4f400237545B87B996B";
  std::string neg_risk_exchange = "0xe2222d279d744050d28e00520010520000310F59";
  // The order API version this build signs; GET /version must report it.
  int expected_api_version = 2;
  // HTTP (used only when dry_run = false).
  ClobClientOptions clob;
  std::string rate_limits;  // overrides, see ParseRateLimits
  // Tick size and neg-risk flag per (market, asset id).
  std::function<MarketParams(std::string_view market, std::string_view asset_id)> market_params;
  // Salt seed for reproducible dry runs (tests); empty: random.
  std::optional<uint64_t> salt_seed;
  std::function<uint64_t()> now_ms;  // order timestamps (default: the system clock)
};

// Throws std::runtime_error with a clear message for a missing or malformed key,
// incomplete API credentials (live only), bad rate limits, or a /version mismatch
// or failure (live only). Never echoes a secret.
std::unique_ptr<Relayer> MakeRealRelayer(RealRelayerOptions options);

// The venue order type for a time in force: GTC -> GTC, IOC -> FAK, FOK -> FOK.
const char* VenueOrderType(TimeInForce tif);

}  // namespace polyhost
