#include "exec/real_relayer.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <map>
#include <stdexcept>

#include "core/decimal.h"
#include "signing/order_builder.h"

namespace polyhost {
namespace {

namespace sg = signing;

uint64_t SystemNowMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

sg::Address AddressOption(const std::string& text, const char* key) {
  try {
    return sg::AddressFromHex(text);
  } catch (const sg::SigningError& e) {
    throw std::runtime_error(std::string("[relayer] ") + key + ": " + e.what());
  }
}

class RealRelayer final : public Relayer {
 public:
  explicit RealRelayer(RealRelayerOptions options) : options_(std::move(options)) {
    if (options_.private_key.empty()) {
      throw std::runtime_error(
          "[relayer] type = \"real\" needs a signing key: set [relayer] private_key in secrets.local.toml "
          "(chmod 600) or POLYHOST_RELAYER_PRIVATE_KEY; nothing was sent");
    }
    try {
      key_.emplace(sg::PrivateKey::FromHex(options_.private_key));
    } catch (const sg::SigningError& e) {
      OPENSSL_cleanse(options_.private_key.data(), options_.private_key.size());
      throw std::runtime_error(std::string("[relayer] private_key: ") + e.what());
    }
    OPENSSL_cleanse(options_.private_key.data(), options_.private_key.size());
    options_.private_key.clear();

    for (bool neg_risk : {false, true}) {
      sg::ExchangeDomain& d = domains_[neg_risk ? 1 : 0];
      d.version = options_.exchange_version;
      d.chain_id = options_.chain_id;
      d.verifying_contract = AddressOption(neg_risk ? options_.neg_risk_exchange : options_.exchange,
                                           neg_risk ? "neg_risk_exchange" : "exchange");
    }
    if (!options_.funder.empty()) funder_ = AddressOption(options_.funder, "funder");
    if (!options_.now_ms) options_.now_ms = SystemNowMs;

    if (options_.dry_run) {
      spdlog::info("real relayer: dry run (dry_run = true): orders are signed and logged, nothing is sent");
      return;
    }
    const sg::ApiCredentials& c = options_.clob.creds;
    if (c.api_key.empty() || c.secret.empty() || c.passphrase.empty()) {
      throw std::runtime_error(
          "[relayer] dry_run = false needs the CLOB API credentials: api_key, api_secret and api_passphrase in "
          "[relayer] of secrets.local.toml (or POLYHOST_RELAYER_API_KEY / _API_SECRET / _API_PASSPHRASE); "
          "nothing was sent");
    }
    try {
      options_.clob.rate_limits = ParseRateLimits(options_.rate_limits, options_.clob.rate_limits);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("[relayer] rate_limits: ") + e.what());
    }
    options_.clob.address = sg::ChecksumAddress(key_->address());
    client_ = std::make_unique<ClobClient>(options_.clob);
    int version = 0;
    try {
      version = client_->GetVersion();
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("real relayer start-up: cannot read the CLOB's order API version: ") +
                               e.what() + "; nothing was sent");
    }
    if (version != options_.expected_api_version) {
      throw std::runtime_error("real relayer start-up: the CLOB at " + options_.clob.base_url +
                               " reports order API version " + std::to_string(version) +
                               ", but this build signs version " + std::to_string(options_.expected_api_version) +
                               " orders (EIP-712 domain version \"" + options_.exchange_version +
                               "\"); refusing to send. Update polyhost or [relayer] exchange settings.");
    }
    spdlog::warn("real relayer: LIVE (dry_run = false): orders are sent to {} as {}", options_.clob.base_url,
                 options_.clob.address);
  }

  std::string_view name() const override { return "real"; }

  void Submit(const Order& order) override {
    const PlanLeg& leg = order.leg;
    const char* type = VenueOrderType(leg.tif);
    sg::SignedOrder signed_order;
    try {
      signed_order = Sign(leg);
    } catch (const std::exception& e) {
      Report({order.order_id, OrderState::kRejected, 0, leg.size, std::string("invalid_order: ") + e.what()});
      return;
    }
    const std::string hash = sg::ToHex0x(signed_order.digest);
    const char* side = leg.side == Side::kBid ? "BUY" : "SELL";
    if (options_.dry_run) {
      spdlog::info("dry run: not sent: POST /order {} {} {} @ {} {} (market {}, order hash {})", side,
                   FormatDecimal(leg.size), leg.asset_id, FormatDecimal(leg.price), type, leg.market, hash);
      Report({order.order_id, OrderState::kAcked, 0, leg.size, "dry_run: not sent"});
      if (leg.tif != TimeInForce::kGtc) {
        Report({order.order_id, OrderState::kCancelled, 0, leg.size,
                std::string(TimeInForceName(leg.tif)) + ": dry_run: not sent, not filled"});
        return;
      }
      open_[order.order_id] = OpenOrder{hash, leg.size};
      return;
    }
    const std::string body = sg::PostOrderBody(signed_order, options_.clob.creds.api_key, type);
    ClobResponse response;
    try {
      response = client_->PostOrder(body);
    } catch (const ClobError& e) {
      // The request may or may not have reached the venue: say so, do not resend.
      spdlog::error("POST /order {} failed: {}", hash, e.what());
      Report({order.order_id, OrderState::kRejected, 0, leg.size,
              std::string("send_failed: ") + e.what() + " (outcome unknown: check open orders for " + hash + ")"});
      return;
    }
    PostOrderResult r = ParsePostOrderResponse(response);
    if (!r.success) {
      spdlog::warn("POST /order {} rejected (HTTP {}): {}", hash, response.status, r.error.Reason());
      Report({order.order_id, OrderState::kRejected, 0, leg.size, r.error.Reason()});
      return;
    }
    const std::string venue_id = r.order_id.empty() ? hash : r.order_id;
    spdlog::info("POST /order {} {} {} @ {} {}: {} ({})", side, FormatDecimal(leg.size), leg.asset_id,
                 FormatDecimal(leg.price), type, r.status, venue_id);
    Report({order.order_id, OrderState::kAcked, 0, leg.size, "venue status " + r.status});
    if (leg.tif != TimeInForce::kGtc && r.status != "matched") {
      // FAK/FOK that did not match are killed by the venue.
      Report({order.order_id, OrderState::kCancelled, 0, leg.size, "venue status " + r.status});
      return;
    }
    open_[order.order_id] = OpenOrder{venue_id, leg.size};
  }

  void Cancel(int64_t order_id) override {
    auto it = open_.find(order_id);
    if (it == open_.end()) return;
    const OpenOrder o = it->second;
    if (options_.dry_run) {
      open_.erase(it);
      Report({order_id, OrderState::kCancelled, 0, o.size, "cancelled (dry_run: not sent)"});
      return;
    }
    ClobResponse response;
    try {
      response = client_->CancelOrder(o.venue_id);
    } catch (const ClobError& e) {
      spdlog::error("DELETE /order {} failed: {}", o.venue_id, e.what());
      return;  // still open as far as we know
    }
    if (!response.ok()) {
      spdlog::warn("DELETE /order {}: {}", o.venue_id, MapVenueError(response.status, response.body).Reason());
      return;
    }
    CancelResult c = ParseCancelResponse(response);
    for (const auto& [id, reason] : c.not_canceled) {
      if (id == o.venue_id) {
        spdlog::warn("DELETE /order {}: not cancelled: {}", id, reason);
        return;
      }
    }
    open_.erase(order_id);
    Report({order_id, OrderState::kCancelled, 0, o.size, "cancelled"});
  }

 private:
  struct OpenOrder {
    std::string venue_id;
    int64_t size = 0;
  };

  sg::SignedOrder Sign(const PlanLeg& leg) {
    MarketParams mp;
    if (options_.market_params) mp = options_.market_params(leg.market, leg.asset_id);
    if (mp.tick_micros <= 0) {
      throw std::runtime_error("tick size of " + leg.market + "/" + leg.asset_id +
                               " unknown (no book or catalog entry yet)");
    }
    sg::LimitOrderParams p;
    p.token_id = leg.asset_id;
    p.side = leg.side == Side::kBid ? sg::OrderSide::kBuy : sg::OrderSide::kSell;
    p.price = FormatDecimal(leg.price);
    p.size = FormatDecimal(leg.size);
    p.tick_size = FormatDecimal(mp.tick_micros);
    p.neg_risk = mp.neg_risk;
    if (funder_) {
      p.funder = funder_;
      p.signature_type = sg::SignatureType::kPolyProxy;
    }
    p.timestamp_ms = options_.now_ms();
    p.salt = options_.salt_seed ? sg::MakeSalt(*options_.salt_seed + salt_counter_++) : sg::MakeSalt();
    return sg::BuildLimitOrder(*key_, domains_[mp.neg_risk ? 1 : 0], p);
  }

  void Report(const OrderUpdate& u) {
    if (listener_ != nullptr) listener_->OnOrderUpdate(u);
  }

  RealRelayerOptions options_;
  std::optional<sg::PrivateKey> key_;
  sg::ExchangeDomain domains_[2];
  std::optional<sg::Address> funder_;
  std::unique_ptr<ClobClient> client_;
  std::map<int64_t, OpenOrder> open_;
  uint64_t salt_counter_ = 0;
};

}  // namespace

const char* VenueOrderType(TimeInForce tif) {
  switch (tif) {
    case TimeInForce::kGtc: return "GTC";
    case TimeInForce::kIoc: return "FAK";
    case TimeInForce::kFok: return "FOK";
  }
  return "GTC";
}

std::unique_ptr<Relayer> MakeRealRelayer(RealRelayerOptions options) {
  return std::make_unique<RealRelayer>(std::move(options));
}

}  // namespace polyhost
