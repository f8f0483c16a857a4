// polyhost relayer-dry-run MARKET OUTCOME buy|sell PRICE SIZE [--base-url URL]
//     [--private-key KEY] [--tick-size T] [--neg-risk] [--order-type GTC|GTD|FOK|FAK]
//     [--signature-type eoa|proxy|safe] [--salt-seed N] [--timestamp-ms MS] [--db-url URL | --no-db]
//
// Builds and signs a CLOB V2 limit order and prints, on stdout, exactly the HTTP
// request the real relayer would send (request line, headers, body) with the API
// key, passphrase and HMAC secret masked. Sends nothing. Notes (order hash,
// amounts, warnings) go to stderr so stdout is the request alone. The order is
// recorded in `orders` with status dry_run unless --no-db. See docs/relayer.md.
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "core/decimal.h"
#include "signing/clob_auth.h"
#include "signing/order_builder.h"

namespace polyhost {
namespace {

namespace sg = signing;

struct DryRunFlags {
  CommonFlags common;
  std::string market;
  std::string outcome;
  std::string side;
  std::string price;
  std::string size;
  std::string base_url = "https://clob.polymarket.com";
  std::string private_key;
  std::string tick_size = "0.01";
  bool neg_risk = false;
  std::string order_type = "GTC";
  std::string signature_type;  // default: eoa, or proxy when [relayer] funder is set
  std::optional<uint64_t> salt_seed;
  std::optional<uint64_t> timestamp_ms;
  bool no_db = false;
};

// "https://host[:port][/]" -> host[:port]; a path prefix is refused (the signed
// request path is the API path itself, e.g. "/order").
std::string HostOf(const std::string& url) {
  std::string_view u = url;
  const size_t scheme = u.find("://");
  if (scheme == std::string_view::npos) throw UsageError("--base-url must look like https://host[:port] (got '" + url + "')");
  const std::string_view scheme_name = u.substr(0, scheme);
  if (scheme_name != "http" && scheme_name != "https") throw UsageError("--base-url: scheme must be http or https");
  u.remove_prefix(scheme + 3);
  while (!u.empty() && u.back() == '/') u.remove_suffix(1);
  if (u.empty() || u.find('/') != std::string_view::npos || u.find('?') != std::string_view::npos) {
    throw UsageError("--base-url must be https://host[:port] without a path (got '" + url + "')");
  }
  return std::string(u);
}

std::string EnvOr(const char* name, const std::string& fallback, bool* from_env) {
  const char* v = std::getenv(name);
  if (v != nullptr && *v != '\0') {
    *from_env = true;
    return v;
  }
  return fallback;
}

sg::SignatureType SignatureTypeFlag(const std::string& s, bool have_funder) {
  if (s.empty()) return have_funder ? sg::SignatureType::kPolyProxy : sg::SignatureType::kEoa;
  if (s == "eoa") return sg::SignatureType::kEoa;
  if (s == "proxy") return sg::SignatureType::kPolyProxy;
  if (s == "safe") return sg::SignatureType::kPolyGnosisSafe;
  throw UsageError("--signature-type must be eoa, proxy or safe (got '" + s + "')");
}

int RunDryRun(DryRunFlags& f) {
  LoadedConfig loaded = LoadConfigFor(f.common);
  const Config& config = loaded.config;

  // --- inputs -------------------------------------------------------------------
  sg::OrderSide side;
  if (f.side == "buy" || f.side == "BUY") side = sg::OrderSide::kBuy;
  else if (f.side == "sell" || f.side == "SELL") side = sg::OrderSide::kSell;
  else throw UsageError("SIDE must be buy or sell (got '" + f.side + "')");
  if (f.outcome.empty() || f.outcome.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError("OUTCOME must be the outcome token id (decimal digits, the book's asset_id); got '" + f.outcome +
                     "'");
  }
  if (f.order_type != "GTC" && f.order_type != "GTD" && f.order_type != "FOK" && f.order_type != "FAK") {
    throw UsageError("--order-type must be GTC, GTD, FOK or FAK");
  }
  if (f.order_type == "GTD") throw UsageError("--order-type GTD needs an expiration, which this command does not take yet");
  const std::string host = HostOf(f.base_url);

  // --- the key: command line (warned), else [relayer] private_key (secrets file / env) ---
  std::string key_text;
  if (!f.private_key.empty()) {
    std::cerr << "warning: --private-key puts the key in your shell history and the process list; "
                 "prefer secrets.local.toml (chmod 600) or POLYHOST_RELAYER_PRIVATE_KEY\n";
    key_text = f.private_key;
    OPENSSL_cleanse(f.private_key.data(), f.private_key.size());
    f.private_key.clear();
  } else {
    key_text = config.relayer.private_key;
  }
  if (key_text.empty()) {
    throw UsageError(
        "no signing key: set [relayer] private_key in secrets.local.toml, POLYHOST_RELAYER_PRIVATE_KEY, or pass "
        "--private-key");
  }
  std::optional<sg::PrivateKey> key;
  try {
    key.emplace(sg::PrivateKey::FromHex(key_text));
  } catch (const sg::SigningError& e) {
    OPENSSL_cleanse(key_text.data(), key_text.size());
    throw UsageError(std::string("private key: ") + e.what());
  }
  OPENSSL_cleanse(key_text.data(), key_text.size());

  // --- API credentials (L2) --------------------------------------------------------
  bool have_key = false, have_secret = false, have_pass = false;
  sg::ApiCredentials creds;
  creds.api_key = EnvOr("POLYHOST_CLOB_API_KEY", "00000000-0000-0000-0000-000000000000", &have_key);
  creds.secret = EnvOr("POLYHOST_CLOB_API_SECRET", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &have_secret);
  creds.passphrase = EnvOr("POLYHOST_CLOB_API_PASSPHRASE", "placeholder", &have_pass);
  const bool placeholder_creds = !(have_key && have_secret && have_pass);

  // --- build and sign ---------------------------------------------------------------
  const auto now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  const uint64_t ts_ms = f.timestamp_ms.value_or(now_ms);

  sg::LimitOrderParams p;
  p.token_id = f.outcome;
  p.side = side;
  p.price = f.price;
  p.size = f.size;
  p.tick_size = f.tick_size;
  p.neg_risk = f.neg_risk;
  const bool have_funder = !config.relayer.funder.empty();
  p.signature_type = SignatureTypeFlag(f.signature_type, have_funder);
  if (have_funder) {
    try {
      p.funder = sg::AddressFromHex(config.relayer.funder);
    } catch (const sg::SigningError& e) {
      throw UsageError(std::string("[relayer] funder: ") + e.what());
    }
  } else if (p.signature_type != sg::SignatureType::kEoa) {
    throw UsageError("--signature-type proxy/safe needs [relayer] funder (the proxy or Safe address)");
  }
  p.timestamp_ms = ts_ms;
  p.salt = sg::MakeSalt(f.salt_seed);

  sg::SignedOrder order;
  std::string body, shown_body;
  sg::Headers headers;
  const std::string path = "/order";
  const std::string timestamp_s = std::to_string(ts_ms / 1000);
  try {
    order = sg::BuildLimitOrder(*key, sg::PolygonV2Domain(f.neg_risk), p);
    body = sg::PostOrderBody(order, creds.api_key, f.order_type);
    shown_body = sg::PostOrderBody(order, sg::Masked(creds.api_key), f.order_type);
    headers = sg::L2Headers(sg::ChecksumAddress(key->address()), creds, timestamp_s, "POST", path, body);
  } catch (const sg::SigningError& e) {
    throw UsageError(e.what());
  }

  // --- notes (stderr) ------------------------------------------------------------------
  std::cerr << "dry run: nothing is sent. market " << f.market << ", token " << f.outcome << ", "
            << sg::OrderSideName(side) << " " << f.size << " @ " << f.price << " (tick " << f.tick_size
            << (f.neg_risk ? ", neg-risk exchange" : ", regular exchange") << ")\n"
            << "  makerAmount " << order.order.maker_amount << " (" << FormatDecimal(static_cast<int64_t>(order.order.maker_amount))
            << "), takerAmount " << order.order.taker_amount << " ("
            << FormatDecimal(static_cast<int64_t>(order.order.taker_amount)) << ")\n"
            << "  signer " << sg::ChecksumAddress(key->address()) << ", maker " << sg::ChecksumAddress(order.order.maker)
            << ", signatureType " << static_cast<int>(order.order.signature_type) << "\n"
            << "  order hash " << sg::ToHex0x(order.digest) << "\n"
            << "  POLY_API_KEY, POLY_PASSPHRASE and the \"owner\" field are masked; POLY_SIGNATURE is the HMAC of the"
               " unmasked body\n";
  if (placeholder_creds) {
    std::cerr << "  note: POLYHOST_CLOB_API_KEY / _SECRET / _PASSPHRASE not all set: the L2 headers use placeholder "
                 "credentials\n";
  }

  // --- record it in `orders` as a dry run (plan_id "dry-run:<order hash>") ---------------
  if (!f.no_db) {
    const int64_t price_micros = sg::ParseTruncated(f.price, 6);
    const uint64_t shares = side == sg::OrderSide::kBuy ? order.order.taker_amount : order.order.maker_amount;
    WriteBatch batch;
    batch.new_assets.push_back(NewAsset{1, f.market, f.outcome});
    OrderRow row;
    row.plan_id = "dry-run:" + sg::ToHex0x(order.digest);
    row.leg = 0;
    row.plugin = "relayer-dry-run";
    row.asset_key = 1;
    row.side = side == sg::OrderSide::kBuy ? Side::kBid : Side::kAsk;
    row.price = price_micros;
    row.size = static_cast<int64_t>(shares);
    row.tif = f.order_type;
    row.status = "dry_run";
    row.relayer = "real";
    row.dry_run = true;
    row.ts_ms = static_cast<int64_t>(now_ms);
    batch.orders.push_back(std::move(row));
    auto store = OpenStore(config, /*read_only=*/false);
    store->Submit(std::move(batch));
    store->Flush();
    std::cerr << "  recorded in orders as dry_run, plan_id dry-run:" << sg::ToHex0x(order.digest) << "\n";
  }

  // --- the request (stdout) ------------------------------------------------------------
  std::cout << "POST " << path << " HTTP/1.1\r\n";
  std::cout << "Host: " << host << "\r\n";
  for (const auto& [name, value] : headers) {
    std::cout << name << ": " << (sg::IsSecretHeader(name) ? sg::Masked(value) : value) << "\r\n";
  }
  std::cout << "Content-Type: application/json\r\n";
  std::cout << "Content-Length: " << body.size() << "\r\n\r\n";
  std::cout << shown_body << "\n";
  return 0;
}

}  // namespace

void AddRelayerCommands(CLI::App& app, CommandRegistry& registry) {
  auto f = std::make_shared<DryRunFlags>();
  CLI::App* cmd = app.add_subcommand(
      "relayer-dry-run", "Build and sign a CLOB V2 order and print the HTTP request that would be sent; sends nothing");
  cmd->add_option("MARKET", f->market, "market (condition id), shown for reference")->required();
  cmd->add_option("OUTCOME", f->outcome, "outcome token id (the book's asset_id)")->required();
  cmd->add_option("SIDE", f->side, "buy|sell")->required();
  cmd->add_option("PRICE", f->price, "limit price, on the tick, e.g. 0.56")->required();
  cmd->add_option("SIZE", f->size, "shares, rounded down to 2 decimals")->required();
  cmd->add_option("--base-url", f->base_url, "CLOB base URL (default https://clob.polymarket.com)");
  cmd->add_option("--private-key", f->private_key,
                  "signing key (64 hex digits); prefer [relayer] private_key in secrets.local.toml or "
                  "POLYHOST_RELAYER_PRIVATE_KEY");
  cmd->add_option("--tick-size", f->tick_size, "market tick size: 0.1, 0.01, 0.005, 0.0025, 0.001 or 0.0001");
  cmd->add_flag("--neg-risk", f->neg_risk, "sign for the Neg Risk CTF Exchange");
  cmd->add_option("--order-type", f->order_type, "GTC (default), FOK or FAK");
  cmd->add_option("--signature-type", f->signature_type,
                  "eoa|proxy|safe (default: eoa, or proxy when [relayer] funder is set)");
  cmd->add_option("--salt-seed", f->salt_seed, "derive the salt from this seed (reproducible output)");
  cmd->add_option("--timestamp-ms", f->timestamp_ms, "order timestamp in ms (default: now); POLY_TIMESTAMP = ms/1000");
  cmd->add_flag("--no-db", f->no_db, "do not record the dry-run order in the orders table");
  AddCommonFlags(cmd, &f->common);
  registry.Add(cmd, [f]() -> int { return RunDryRun(*f); });
}

}  // namespace polyhost
