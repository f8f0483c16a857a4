// polyhost relayer-dry-run MARKET OUTCOME buy|sell PRICE SIZE [--base-url URL]
//     [--private-key KEY] [--tick-size T] [--neg-risk] [--order-type GTC|GTD|FOK|FAK]
//     [--signature-type eoa|proxy|safe] [--salt-seed N] [--timestamp-ms MS] [--db-url URL | --no-db]
//
// Builds and signs a CLOB V2 limit order and prints, on stdout, exactly the HTTP
// request the real relayer would send (request line, headers, body) with the API
// key, passphrase and HMAC secret masked. Sends nothing. Notes (order hash,
// amounts, warnings) go to stderr so stdout is the request alone. The order is
// recorded in `orders` with status dry_run unless --no-db. See docs/relayer.md.
//
// Also: relayer-open-orders, relayer-cancel-all (sends only when dry_run = false),
// relayer-approve-usdc and relayer-approve-outcome (explain and print the
// approval transactions; never send them), and RealRelayerOptionsFromConfig.
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <cstdlib>
#include <iostream>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

#include "cli/command.h"
#include "cli/relayer_options.h"
#include "core/decimal.h"
#include "core/json_text.h"
#include "exec/clob_client.h"
#include "signing/clob_auth.h"
#include "signing/order_builder.h"

namespace polyhost {
namespace {

// The signing key: from --private-key (warned about, and wiped from the flag),
// else [relayer] private_key (secrets file or environment). "" when neither.
std::string TakeSigningKey(std::string& flag_key, const Config& config) {
  if (flag_key.empty()) return config.relayer.private_key;
  std::cerr << "warning: --private-key puts the key in your shell history and the process list; "
               "prefer secrets.local.toml (chmod 600) or POLYHOST_RELAYER_PRIVATE_KEY\n";
  std::string key = flag_key;
  OPENSSL_cleanse(flag_key.data(), flag_key.size());
  flag_key.clear();
  return key;
}

namespace sg = signing;

// The parsed signing key (see TakeSigningKey); its text is wiped either way.
// `use` says what needs it, for the error when there is none.
sg::PrivateKey LoadSigningKey(std::string& flag_key, const Config& config, std::string_view use) {
  std::string key_text = TakeSigningKey(flag_key, config);
  if (key_text.empty()) {
    throw UsageError("no signing key (" + std::string(use) +
                     "): set [relayer] private_key in secrets.local.toml, POLYHOST_RELAYER_PRIVATE_KEY, or pass "
                     "--private-key");
  }
  try {
    sg::PrivateKey key = sg::PrivateKey::FromHex(key_text);
    OPENSSL_cleanse(key_text.data(), key_text.size());
    return key;
  } catch (const sg::SigningError& e) {
    OPENSSL_cleanse(key_text.data(), key_text.size());
    throw UsageError(std::string("private key: ") + e.what());
  }
}

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

// The first non-empty of a config value and an environment variable.
std::string ConfigOrEnv(const std::string& value, const char* env) {
  if (!value.empty()) return value;
  const char* v = std::getenv(env);
  return v != nullptr ? std::string(v) : std::string();
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
  const sg::PrivateKey key = LoadSigningKey(f.private_key, config, "the order is signed with it");

  // --- API credentials (L2) --------------------------------------------------------
  sg::ApiCredentials creds = RealRelayerOptionsFromConfig(config).clob.creds;
  const bool placeholder_creds = creds.api_key.empty() || creds.secret.empty() || creds.passphrase.empty();
  if (placeholder_creds) {
    creds.api_key = "00000000-0000-0000-0000-000000000000";
    creds.secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    creds.passphrase = "placeholder";
  }

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
    order = sg::BuildLimitOrder(key, sg::PolygonV2Domain(f.neg_risk), p);
    body = sg::PostOrderBody(order, creds.api_key, f.order_type);
    shown_body = sg::PostOrderBody(order, sg::Masked(creds.api_key), f.order_type);
    headers = sg::L2Headers(sg::ChecksumAddress(key.address()), creds, timestamp_s, "POST", path, body);
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
            << "  signer " << sg::ChecksumAddress(key.address()) << ", maker " << sg::ChecksumAddress(order.order.maker)
            << ", signatureType " << static_cast<int>(order.order.signature_type) << "\n"
            << "  order hash " << sg::ToHex0x(order.digest) << "\n"
            << "  POLY_API_KEY, POLY_PASSPHRASE and the \"owner\" field are masked; POLY_SIGNATURE is the HMAC of the"
               " unmasked body\n";
  if (placeholder_creds) {
    std::cerr << "  note: [relayer] api_key / api_secret / api_passphrase (or POLYHOST_CLOB_API_KEY / _SECRET / "
                 "_PASSPHRASE) not all set: the L2 headers use placeholder credentials\n";
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


// --- relayer-open-orders / relayer-cancel-all -------------------------------------

struct VenueFlags {
  CommonFlags common;
  bool json = false;
  std::string market, asset_id;
  std::string private_key;
};

// The signer's address: the key from --private-key (warned) or [relayer] private_key.
std::string SignerAddress(VenueFlags& f, const Config& config) {
  return sg::ChecksumAddress(
      LoadSigningKey(f.private_key, config, "its address authenticates the request").address());
}

ClobClient VenueClient(VenueFlags& f, const Config& config) {
  RealRelayerOptions o = RealRelayerOptionsFromConfig(config);
  const sg::ApiCredentials& c = o.clob.creds;
  if (c.api_key.empty() || c.secret.empty() || c.passphrase.empty()) {
    throw UsageError("CLOB API credentials missing: set [relayer] api_key, api_secret and api_passphrase in "
                     "secrets.local.toml (or POLYHOST_RELAYER_API_KEY / _API_SECRET / _API_PASSPHRASE)");
  }
  o.clob.address = SignerAddress(f, config);
  try {
    o.clob.rate_limits = ParseRateLimits(o.rate_limits, o.clob.rate_limits);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("[relayer] rate_limits: ") + e.what());
  }
  return ClobClient(o.clob);
}

int RunOpenOrders(VenueFlags& f) {
  LoadedConfig loaded = LoadConfigFor(f.common);
  ClobClient client = VenueClient(f, loaded.config);
  std::vector<OpenOrder> orders = client.GetOpenOrders(f.market, f.asset_id);
  if (f.json) {
    std::string out = "[";
    for (size_t i = 0; i < orders.size(); ++i) {
      const OpenOrder& o = orders[i];
      if (i > 0) out += ',';
      out += "{\"id\":" + JsonQuoted(o.id) + ",\"market\":" + JsonQuoted(o.market) + ",\"asset_id\":" +
             JsonQuoted(o.asset_id) + ",\"side\":" + JsonQuoted(o.side) + ",\"price\":" + JsonQuoted(o.price) +
             ",\"original_size\":" + JsonQuoted(o.original_size) + ",\"size_matched\":" + JsonQuoted(o.size_matched) +
             ",\"status\":" + JsonQuoted(o.status) + "}";
    }
    std::cout << out << "]\n";
    return 0;
  }
  std::cout << orders.size() << " open order(s) at " << client.options().base_url << "\n";
  for (const OpenOrder& o : orders) {
    std::cout << o.id << "  " << o.side << " " << o.original_size << " @ " << o.price << "  matched "
              << o.size_matched << "  " << o.status << "  asset " << o.asset_id << "\n";
  }
  return 0;
}

int RunCancelAll(VenueFlags& f) {
  LoadedConfig loaded = LoadConfigFor(f.common);
  if (loaded.config.relayer.dry_run) {
    std::cout << "dry run ([relayer] dry_run = true): would send DELETE " << loaded.config.polymarket.clob_url
              << "/cancel-all; nothing was sent\n";
    return 0;
  }
  ClobClient client = VenueClient(f, loaded.config);
  ClobResponse r = client.CancelAll();
  if (!r.ok()) {
    throw std::runtime_error("DELETE /cancel-all: HTTP " + std::to_string(r.status) + ": " +
                             MapVenueError(r.status, r.body).Reason());
  }
  CancelResult c = ParseCancelResponse(r);
  std::cout << "cancelled " << c.canceled.size() << " order(s)";
  if (!c.not_canceled.empty()) std::cout << ", " << c.not_canceled.size() << " not cancelled";
  std::cout << "\n";
  for (const auto& [id, reason] : c.not_canceled) std::cout << "  not cancelled: " << id << ": " << reason << "\n";
  return 0;
}

// --- relayer-api-key ---------------------------------------------------------------

struct ApiKeyFlags {
  VenueFlags venue;
  std::string action;  // create | derive
  std::string out;
  uint64_t nonce = 0;
  bool force = false;
};

// TOML basic-string quoting for the credentials file.
std::string TomlQuoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Creates or derives the CLOB API credentials of the signing key (L1) and writes
// them, owner-readable only, as a [relayer] section to merge into
// secrets.local.toml. They are never printed.
int RunApiKey(ApiKeyFlags& f) {
  LoadedConfig loaded = LoadConfigFor(f.venue.common);
  const Config& config = loaded.config;
  if (!f.force && std::filesystem::exists(f.out)) {
    throw UsageError(f.out + " exists; pass --force to replace it");
  }
  const sg::PrivateKey key = LoadSigningKey(f.venue.private_key, config, "L1 signs with it");
  RealRelayerOptions o = RealRelayerOptionsFromConfig(config);
  o.clob.address = sg::ChecksumAddress(key.address());
  ClobClient client(o.clob);
  const bool create = f.action == "create";
  sg::ApiCredentials creds =
      client.CreateOrDeriveApiKey(key, static_cast<uint64_t>(config.relayer.chain_id), f.nonce, create);

  const std::string text = "# CLOB API credentials of " + o.clob.address + " (nonce " + std::to_string(f.nonce) +
                           "), from `polyhost relayer-api-key " + f.action +
                           "`.\n# Secrets: merge into secrets.local.toml, never commit.\n[relayer]\napi_key = " +
                           TomlQuoted(creds.api_key) + "\napi_secret = " + TomlQuoted(creds.secret) +
                           "\napi_passphrase = " + TomlQuoted(creds.passphrase) + "\n";
  OPENSSL_cleanse(creds.secret.data(), creds.secret.size());
  OPENSSL_cleanse(creds.passphrase.data(), creds.passphrase.size());
  const std::string tmp = f.out + ".tmp";
  {
    // Created 0600 before anything is written, then renamed over --out.
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    const ssize_t n = ::write(fd, text.data(), text.size());
    const bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
      std::filesystem::remove(tmp);
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    }
  }
  std::filesystem::rename(tmp, f.out);
  std::cout << (create ? "created" : "derived") << " CLOB API credentials for " << o.clob.address << " (nonce "
            << f.nonce << ") and wrote them to " << f.out
            << " (mode 600); merge its [relayer] keys into secrets.local.toml\n";
  return 0;
}

// --- relayer-approve-usdc / relayer-approve-outcome ---------------------------------

// Polygon mainnet, V2 (docs.polymarket.com/resources/contracts, Polymarket/ctf-exchange-v2).
constexpr std::string_view kCollateralPusd = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB";
constexpr std::string_view kConditionalTokens = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045";
constexpr std::string_view kNegRiskAdapter = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296";

struct ApproveFlags {
  CommonFlags common;
  std::string amount;
  std::string token;
  bool json = false;
};

struct Spender {
  std::string name;
  std::string address;  // EIP-55
  std::string why;
};

std::vector<Spender> Spenders(const Config& config) {
  auto checksum = [](std::string_view a, const char* key) {
    try {
      return sg::ChecksumAddress(sg::AddressFromHex(a));
    } catch (const sg::SigningError& e) {
      throw UsageError(std::string("[relayer] ") + key + ": " + e.what());
    }
  };
  return {
      {"CTF Exchange V2", checksum(config.relayer.exchange, "exchange"), "settles orders in regular markets"},
      {"Neg Risk CTF Exchange V2", checksum(config.relayer.neg_risk_exchange, "neg_risk_exchange"),
       "settles orders in neg-risk (multi-outcome) markets"},
      {"Neg Risk Adapter", checksum(kNegRiskAdapter, "neg risk adapter"),
       "converts positions in neg-risk markets; the CLOB also checks allowances for it there"},
  };
}

// 4-byte function selector: keccak256(signature)[0..4].
std::string Selector(std::string_view signature) {
  const sg::Hash32 h = sg::Keccak256(signature);
  return sg::ToHex0x(h.data(), 4);
}

std::string Word(const sg::Hash32& w) { return sg::ToHex0x(w).substr(2); }

sg::Hash32 UintWord(uint64_t v) {
  sg::Hash32 w{};
  for (int i = 0; i < 8; ++i) w[31 - i] = static_cast<uint8_t>(v >> (8 * i));
  return w;
}

struct Tx {
  std::string spender_name, spender, why, to, data, call;
};

void PrintTxs(const std::vector<Tx>& txs, const Config& config, bool json, const std::string& intro,
              const std::string& note) {
  const std::string chain = std::to_string(config.relayer.chain_id);
  if (json) {
    std::string out = "{\"send\":false,\"chain_id\":" + chain + ",\"transactions\":[";
    for (size_t i = 0; i < txs.size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"spender\":" + JsonQuoted(txs[i].spender) + ",\"spender_name\":" + JsonQuoted(txs[i].spender_name) +
             ",\"to\":" + JsonQuoted(txs[i].to) + ",\"value\":\"0\",\"data\":" + JsonQuoted(txs[i].data) +
             ",\"call\":" + JsonQuoted(txs[i].call) + "}";
    }
    std::cout << out << "],\"note\":" << JsonQuoted(note) << "}\n";
    return;
  }
  std::cout << intro << "\n\n";
  for (size_t i = 0; i < txs.size(); ++i) {
    const Tx& t = txs[i];
    std::cout << i + 1 << ". " << t.spender_name << " " << t.spender << " — " << t.why << "\n"
              << "   " << t.call << "\n"
              << "   to:      " << t.to << "\n"
              << "   value:   0\n"
              << "   chainId: " << chain << "\n"
              << "   data:    " << t.data << "\n\n";
  }
  std::cout << note << "\n";
}

const char* kNotSent =
    "Sending on-chain transactions is NOT part of this build: nothing was signed or sent. Sign and send the "
    "transactions above with your wallet (it sets nonce, gas and fees), from the address that holds the funds "
    "(the [relayer] funder, or the signer's own address).";

int RunApproveUsdc(ApproveFlags& f) {
  LoadedConfig loaded = LoadConfigFor(f.common);
  int64_t micros = 0;
  if (ParseDecimal(f.amount, &micros) != DecimalError::kOk || micros <= 0) {
    throw UsageError("--amount must be a positive USDC amount with at most 6 decimals (got '" + f.amount + "')");
  }
  const std::string selector = Selector("approve(address,uint256)");
  std::vector<Tx> txs;
  for (const Spender& s : Spenders(loaded.config)) {
    Tx t{s.name, s.address, s.why, std::string(kCollateralPusd), "", ""};
    t.data = selector + Word(sg::AddressWord(sg::AddressFromHex(s.address))) + Word(UintWord(static_cast<uint64_t>(micros)));
    t.call = "pUSD.approve(" + s.address + ", " + std::to_string(micros) + ")  // " + FormatDecimal(micros) + " pUSD";
    txs.push_back(std::move(t));
  }
  PrintTxs(txs, loaded.config, f.json,
           "Buying outcome tokens spends collateral: the exchanges need an ERC-20 allowance on Polymarket USD "
           "(pUSD, " + std::string(kCollateralPusd) + ", 6 decimals; wrap USDC into pUSD first via the Collateral "
           "Onramp). Without it the CLOB rejects orders with \"not enough balance / allowance\". Approvals of " +
               FormatDecimal(micros) + " pUSD to each spender:",
           kNotSent);
  return 0;
}

int RunApproveOutcome(ApproveFlags& f) {
  LoadedConfig loaded = LoadConfigFor(f.common);
  if (f.token.empty() || f.token.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError("--token must be the outcome token id (decimal digits), got '" + f.token + "'");
  }
  int64_t micros = 0;
  if (ParseDecimal(f.amount, &micros) != DecimalError::kOk || micros <= 0) {
    throw UsageError("--amount must be a positive number of outcome tokens (got '" + f.amount + "')");
  }
  const std::string selector = Selector("setApprovalForAll(address,bool)");
  std::vector<Tx> txs;
  for (const Spender& s : Spenders(loaded.config)) {
    Tx t{s.name, s.address, s.why, std::string(kConditionalTokens), "", ""};
    t.data = selector + Word(sg::AddressWord(sg::AddressFromHex(s.address))) + Word(UintWord(1));
    t.call = "ConditionalTokens.setApprovalForAll(" + s.address + ", true)";
    txs.push_back(std::move(t));
  }
  PrintTxs(txs, loaded.config, f.json,
           "Selling outcome tokens moves them from your wallet: the exchanges must be approved operators of the "
           "Conditional Tokens contract (ERC-1155, " + std::string(kConditionalTokens) + "). ERC-1155 has no "
           "per-token or per-amount allowance: setApprovalForAll covers every outcome token, so token " + f.token +
               " and amount " + FormatDecimal(micros) + " need no separate approval. Approvals:",
           kNotSent);
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

  auto oo = std::make_shared<VenueFlags>();
  CLI::App* open_cmd = app.add_subcommand(
      "relayer-open-orders", "List your open orders at the CLOB (GET /data/orders; read-only, L2-authenticated)");
  open_cmd->add_option("--market", oo->market, "only this market (condition id)");
  open_cmd->add_option("--asset-id", oo->asset_id, "only this outcome token id");
  open_cmd->add_option("--private-key", oo->private_key, "signing key (prefer secrets.local.toml)");
  open_cmd->add_flag("--json", oo->json, "print a JSON array");
  AddCommonFlags(open_cmd, &oo->common, /*with_db=*/false);
  registry.Add(open_cmd, [oo]() -> int { return RunOpenOrders(*oo); });

  auto ca = std::make_shared<VenueFlags>();
  CLI::App* cancel_cmd = app.add_subcommand(
      "relayer-cancel-all", "Cancel all your open orders at the CLOB (DELETE /cancel-all); only when dry_run = false");
  cancel_cmd->add_option("--private-key", ca->private_key, "signing key (prefer secrets.local.toml)");
  AddCommonFlags(cancel_cmd, &ca->common, /*with_db=*/false);
  registry.Add(cancel_cmd, [ca]() -> int { return RunCancelAll(*ca); });

  auto ak = std::make_shared<ApiKeyFlags>();
  CLI::App* key_cmd = app.add_subcommand(
      "relayer-api-key",
      "Create (POST /auth/api-key) or derive (GET /auth/derive-api-key) your CLOB API credentials with the signing "
      "key (L1) and write them to a 0600 file");
  key_cmd->add_option("action", ak->action, "create | derive")->required()->check(CLI::IsMember({"create", "derive"}));
  key_cmd->add_option("--out", ak->out, "file to write the [relayer] api_key/api_secret/api_passphrase to")
      ->required();
  key_cmd->add_option("--nonce", ak->nonce, "ClobAuth nonce (default 0)");
  key_cmd->add_flag("--force", ak->force, "replace --out if it exists");
  key_cmd->add_option("--private-key", ak->venue.private_key, "signing key (prefer secrets.local.toml)");
  AddCommonFlags(key_cmd, &ak->venue.common, /*with_db=*/false);
  registry.Add(key_cmd, [ak]() -> int { return RunApiKey(*ak); });

  auto au = std::make_shared<ApproveFlags>();
  CLI::App* usdc = app.add_subcommand(
      "relayer-approve-usdc",
      "Explain the collateral (pUSD) approvals the exchanges need and print the transactions; sends nothing");
  usdc->add_option("--amount", au->amount, "allowance in USDC (pUSD), e.g. 1000")->required();
  usdc->add_flag("--json", au->json, "print the transactions as JSON");
  AddCommonFlags(usdc, &au->common, /*with_db=*/false);
  registry.Add(usdc, [au]() -> int { return RunApproveUsdc(*au); });

  auto ao = std::make_shared<ApproveFlags>();
  CLI::App* outcome = app.add_subcommand(
      "relayer-approve-outcome",
      "Explain the outcome-token (ERC-1155) approvals needed to sell and print the transactions; sends nothing");
  outcome->add_option("--token", ao->token, "outcome token id")->required();
  outcome->add_option("--amount", ao->amount, "tokens you intend to sell (for reference: ERC-1155 approves all)")
      ->required();
  outcome->add_flag("--json", ao->json, "print the transactions as JSON");
  AddCommonFlags(outcome, &ao->common, /*with_db=*/false);
  registry.Add(outcome, [ao]() -> int { return RunApproveOutcome(*ao); });
}

RealRelayerOptions RealRelayerOptionsFromConfig(const Config& config) {
  RealRelayerOptions o;
  o.dry_run = config.relayer.dry_run;
  o.private_key = config.relayer.private_key;
  o.funder = config.relayer.funder;
  o.chain_id = static_cast<uint64_t>(config.relayer.chain_id);
  o.exchange = config.relayer.exchange;
  o.neg_risk_exchange = config.relayer.neg_risk_exchange;
  o.rate_limits = config.relayer.rate_limits;
  o.clob.base_url = config.polymarket.clob_url;
  o.clob.timeout = std::chrono::milliseconds(config.relayer.request_timeout_ms);
  o.clob.creds.api_key = ConfigOrEnv(config.relayer.api_key, "POLYHOST_CLOB_API_KEY");
  o.clob.creds.secret = ConfigOrEnv(config.relayer.api_secret, "POLYHOST_CLOB_API_SECRET");
  o.clob.creds.passphrase = ConfigOrEnv(config.relayer.api_passphrase, "POLYHOST_CLOB_API_PASSPHRASE");
  return o;
}

}  // namespace polyhost
