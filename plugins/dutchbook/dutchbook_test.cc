// The built dutchbook plugin (.so), loaded through PluginHost in-process and fed
// books that BookEngine builds from feed lines, the way `polyhost run` does:
// line -> BookEngine -> DispatchBook for every touched asset -> DrainPlans.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <boost/json.hpp>

#include "catalog/market_catalog.h"
#include "catalog/markets_extension.h"
#include "ingest/feed_parser.h"
#include "plugin/plugin_host.h"
#include "replay/book_engine.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;
const std::string kSource = POLYHOST_SOURCE_DIR;

PluginConfig Config(std::initializer_list<std::pair<const char*, const char*>> kv) {
  PluginConfig c;
  for (const auto& [k, v] : kv) c[k] = PluginConfigValue{PluginValueKind::kString, v};
  return c;
}

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The host side of a run, reduced to what the plugin sees.
class Harness {
 public:
  struct Options {
    PluginConfig config;
    std::string catalog;  // Gamma JSON to load first; empty: none
    bool markets_extension = true;
    bool accept_plans = true;
  };

  explicit Harness(PluginConfig config = {}, std::string catalog = {}, bool markets_extension = true)
      : Harness(Options{std::move(config), std::move(catalog), markets_extension, true}) {}

  explicit Harness(Options o) : options_(std::move(o)), markets_(catalog_) {
    if (!options_.catalog.empty()) catalog_.LoadGammaMarketsJson(options_.catalog);
    PluginHostOptions ho;
    ho.log = [this](const PluginLogLine& l) {
      std::string text(l.message);
      if (l.from_plugin) plugin_log.push_back(text);
      if (l.level >= PluginLogLevel::kWarn) warnings.push_back(text);
    };
    ho.metric = [this](std::string_view, std::string_view name, PluginMetricKind kind, int64_t value) {
      int64_t& m = metrics[std::string(name)];
      m = kind == PluginMetricKind::kCounter ? m + value : value;
    };
    ho.clock = [this] { return now_ms; };
    host_ = std::make_unique<PluginHost>(ho);
    host_->SetBookProvider([this](std::string_view market, std::string_view asset_id, BookRef* out) {
      const int64_t key = engine_.Find(market, asset_id);
      if (key < 0) return false;
      const AssetState& a = engine_.asset(static_cast<uint32_t>(key));
      out->book = &a.book;
      out->meta = Meta(a);
      return true;
    });
    if (options_.markets_extension) host_->RegisterExtension(PH_EXT_MARKETS, markets_.table());
    const PluginLoadResult r = host_->Load(DUTCHBOOK_PLUGIN_PATH, options_.config, "dutchbook");
    load_error = r.error;
    loaded = r.ok;
    if (loaded) host_->ActivateAll();
  }

  static BookMeta Meta(const AssetState& a) {
    BookMeta m;
    m.seq = a.seq;
    m.ts_ms = a.last_update_ts_ms;
    m.stale = a.stale;
    return m;
  }

  void Line(const std::string& text) {
    std::string buf = text + std::string(FeedParser::kPadding, '\0');
    ParseError err;
    ++line_no_;
    if (!parser_.Parse(buf.data(), text.size(), FeedFormat::kAuto, &parsed_, &err)) {
      engine_.CountMalformed();
      return;
    }
    engine_.Apply(parsed_, line_no_, nullptr);
    now_ms = parsed_.recv_ts_ms != 0 ? parsed_.recv_ts_ms : engine_.last_ts_ms();
    for (uint32_t key : engine_.touched()) {
      const AssetState& a = engine_.asset(key);
      catalog_.AddObservedAsset(a.market, a.asset_id);
      host_->DispatchBook(host_->InternAsset(a.market, a.asset_id), a.book, Meta(a));
    }
    for (Plan& p : host_->DrainPlans()) {
      if (options_.accept_plans) {
        PluginOrderUpdate u;
        u.plan_id = p.plan_id;
        u.event = PluginOrderEvent::kPlanAccepted;
        u.dry_run = true;
        host_->DispatchOrderUpdate(u);
      }
      plans.push_back(std::move(p));
    }
  }
  void Lines(const std::vector<std::string>& lines) {
    for (const std::string& l : lines) Line(l);
  }

  int64_t Metric(const std::string& name) const {
    auto it = metrics.find(name);
    return it == metrics.end() ? 0 : it->second;
  }
  std::vector<std::string> Opportunities() const {
    std::vector<std::string> out;
    for (const std::string& l : plugin_log) {
      if (l.rfind("opportunity ", 0) == 0) out.push_back(l);
    }
    return out;
  }
  PluginState state() const { return host_->ListPlugins().at(0).state; }
  MarketCatalog& catalog() { return catalog_; }

  bool loaded = false;
  std::string load_error;
  int64_t now_ms = 0;
  std::vector<Plan> plans;
  std::vector<std::string> plugin_log;
  std::vector<std::string> warnings;
  std::map<std::string, int64_t> metrics;

 private:
  Options options_;
  MarketCatalog catalog_;
  MarketsExtension markets_;
  BookEngine engine_;
  FeedParser parser_;
  ParsedLine parsed_;
  int64_t line_no_ = 0;
  std::unique_ptr<PluginHost> host_;  // destroyed first: the plugin may not outlive the catalog
};

void CheckLeg(const PlanLeg& leg, const char* market, const char* asset, int64_t price, int64_t size,
              TimeInForce tif = TimeInForce::kFok) {
  CHECK(leg.market == market);
  CHECK(leg.asset_id == asset);
  CHECK(leg.side == Side::kBid);
  CHECK(leg.price == price);
  CHECK(leg.size == size);
  CHECK(leg.tif == tif);
}

std::vector<std::string> Sample() { return ReadLines(kSource + "/recordings/sample.jsonl"); }

// ---- binary markets: recordings/sample.jsonl ----------------------------------------
//
// mkt-1 after line 13: YES asks 0.51x35 0.52x80 ..., NO asks 0.47x40 0.56x500.
// Walking both: 35 at 0.51+0.47 = 0.98, then 5 at 0.52+0.47 = 0.99, then 0.52+0.56 > 1:
// 40 of each for 20.45 + 18.80 = 39.25, profit 0.75. Line 15 shrinks YES 0.51 to 25
// (a second, different opportunity: 40 for 39.35, profit 0.65); line 18 ends it.

TEST_CASE("sample.jsonl: the Dutch book on mkt-1 becomes one FOK plan on both legs") {
  Harness h;
  REQUIRE(h.loaded);
  h.Lines(Sample());
  REQUIRE(h.plans.size() == 1);
  const Plan& p = h.plans[0];
  CHECK(p.plugin == "dutchbook");
  CHECK(p.client_tag == "dutchbook:market:mkt-1");
  CHECK(p.reason.find("expected profit 0.75 USDC") != std::string::npos);
  REQUIRE(p.legs.size() == 2);
  CheckLeg(p.legs[0], "mkt-1", "yes", 520'000, 40'000'000);
  CheckLeg(p.legs[1], "mkt-1", "no", 470'000, 40'000'000);
  CHECK(h.Metric("opportunities") == 2);
  CHECK(h.Metric("detected_edge_micros") == 750'000 + 650'000);
  CHECK(h.Metric("plans_submitted") == 1);
  CHECK(h.Metric("plans_accepted") == 1);
  CHECK(h.Metric("executed_edge_micros") == 750'000);
  CHECK(h.Metric("skipped_cooldown") == 1);  // the line-15 opportunity, 200 ms later
  const auto opps = h.Opportunities();
  REQUIRE(opps.size() == 2);
  CHECK(opps[0] == "opportunity market:mkt-1 sum=0.98 fees=0 edge=0.02 max_size=35 legs=yes@0.51,no@0.47");
  CHECK(opps[1] == "opportunity market:mkt-1 sum=0.98 fees=0 edge=0.02 max_size=25 legs=yes@0.51,no@0.47");
  CHECK(h.state() == PluginState::kActive);
}

TEST_CASE("cooldown: one plan per group per cooldown_ms of feed time") {
  SECTION("cooldown 0: every evaluation of the live edge plans again (lines 13, 14 and 15)") {
    Harness h(Config({{"cooldown_ms", "0"}}));
    h.Lines(Sample());
    REQUIRE(h.plans.size() == 3);
    CHECK(h.plans[2].legs[0].size == 40'000'000);
    CHECK(h.Metric("opportunities") == 2);  // still reported once each
  }
  SECTION("150 ms: line 14 (100 ms later) is cooled down, line 15 (200 ms) plans again") {
    Harness h(Config({{"cooldown_ms", "150"}}));
    h.Lines(Sample());
    REQUIRE(h.plans.size() == 2);
    CheckLeg(h.plans[1].legs[0], "mkt-1", "yes", 520'000, 40'000'000);
    CHECK(h.plans[1].reason.find("expected profit 0.65 USDC") != std::string::npos);
  }
}

TEST_CASE("a stale leg means no plan until it is resynced") {
  std::vector<std::string> lines = Sample();
  lines.resize(12);  // up to the NO ask of 0.47
  // YES skips seq 5: a gap, YES is stale and its deltas are ignored.
  lines.push_back(R"({"type":"delta","market":"mkt-1","asset_id":"yes","seq":6,"ts_ms":1763000001250,"side":"bid","price":"0.4","size":"1"})");
  const std::vector<std::string> sample = Sample();
  lines.push_back(sample[12]);  // NO ask 0.47x40: the edge, but YES is stale
  lines.push_back(sample[13]);
  Harness h;
  h.Lines(lines);
  CHECK(h.plans.empty());
  CHECK(h.Metric("skipped_stale") >= 1);
  CHECK(h.Metric("opportunities") == 0);
  // A YES snapshot resyncs it: the edge is traded.
  h.Line(R"({"type":"snapshot","market":"mkt-1","asset_id":"yes","seq":9,"ts_ms":1763000001600,"bids":[["0.49","20"]],"asks":[["0.51","35"],["0.52","80"]]})");
  REQUIRE(h.plans.size() == 1);
  CheckLeg(h.plans[0].legs[0], "mkt-1", "yes", 520'000, 40'000'000);
}

TEST_CASE("fees: an edge the fees eat is no opportunity") {
  SECTION("500 bps: 0.05 x (0.51 x 0.49 + 0.47 x 0.53) = 0.02495 > 0.02") {
    Harness h(Config({{"fee_rate_bps", "500"}}));
    h.Lines(Sample());
    CHECK(h.plans.empty());
    CHECK(h.Metric("opportunities") == 0);
  }
  SECTION("100 bps: 0.00499 per set; the edge survives, smaller") {
    Harness h(Config({{"fee_rate_bps", "100"}}));
    h.Lines(Sample());
    REQUIRE(h.plans.size() == 1);
    CheckLeg(h.plans[0].legs[0], "mkt-1", "yes", 520'000, 40'000'000);
    const auto opps = h.Opportunities();
    REQUIRE_FALSE(opps.empty());
    CHECK(opps[0] == "opportunity market:mkt-1 sum=0.98 fees=0.00499 edge=0.01501 max_size=35 legs=yes@0.51,no@0.47");
  }
}

TEST_CASE("min_profit_usdc, threshold, max_size and leg_tif shape the plan") {
  SECTION("min_profit 1 USDC: 0.75 is not enough") {
    Harness h(Config({{"min_profit_usdc", "1"}}));
    h.Lines(Sample());
    CHECK(h.plans.empty());
    CHECK(h.Metric("opportunities") == 2);
    CHECK(h.Metric("skipped_small") == 2);
  }
  SECTION("threshold 0.015: only the first level (0.98) qualifies") {
    Harness h(Config({{"threshold", "0.015"}}));
    h.Lines(Sample());
    REQUIRE(h.plans.size() == 1);
    CheckLeg(h.plans[0].legs[0], "mkt-1", "yes", 510'000, 35'000'000);
    CheckLeg(h.plans[0].legs[1], "mkt-1", "no", 470'000, 35'000'000);
  }
  SECTION("threshold 0.02: nothing") {
    Harness h(Config({{"threshold", "0.02"}}));
    h.Lines(Sample());
    CHECK(h.plans.empty());
  }
  SECTION("max_size 10 and IOC legs") {
    Harness h(Config({{"max_size", "10"}, {"leg_tif", "IOC"}}));
    h.Lines(Sample());
    REQUIRE(h.plans.size() == 1);
    CheckLeg(h.plans[0].legs[0], "mkt-1", "yes", 510'000, 10'000'000, TimeInForce::kIoc);
    CheckLeg(h.plans[0].legs[1], "mkt-1", "no", 470'000, 10'000'000, TimeInForce::kIoc);
  }
  SECTION("max_cost 20 USDC") {
    Harness h(Config({{"max_cost_usdc", "20"}}));
    h.Lines(Sample());
    REQUIRE(h.plans.size() == 1);
    // 40 sets cost 39.25: scaled to 40 x 20 / 39.25 = 20.38 (in 0.01 lots), 19.9724 USDC.
    CHECK(h.plans[0].legs[0].size == 20'380'000);
    CHECK(h.plans[0].legs[0].price == 510'000);
  }
  SECTION("a resting GTC leg is refused") {
    Harness h(Config({{"leg_tif", "GTC"}}));
    CHECK_FALSE(h.loaded);
    CHECK(h.load_error.find("PH_ERR_CONFIG") != std::string::npos);
    const bool named = std::any_of(h.warnings.begin(), h.warnings.end(), [](const std::string& w) {
      return w.find("config key 'plugin.dutchbook.leg_tif' must be \"FOK\" or \"IOC\"") != std::string::npos;
    });
    CHECK(named);
  }
}

TEST_CASE("without the markets extension, binary markets are recognised from the feed") {
  Harness h({}, "", /*markets_extension=*/false);
  REQUIRE(h.loaded);
  h.Lines(Sample());
  REQUIRE(h.plans.size() == 1);
  CheckLeg(h.plans[0].legs[0], "mkt-1", "yes", 520'000, 40'000'000);
  CheckLeg(h.plans[0].legs[1], "mkt-1", "no", 470'000, 40'000'000);
  CHECK(h.plugin_log[0].find("no polyhost.markets/1 catalog") != std::string::npos);
}

// ---- a six-outcome neg-risk event (testdata/six_outcomes.catalog.json) ---------------
//
// YES asks: y1 0.15x100 0.16x50 | y2 0.16x30 0.17x100 | y3 0.17x100 | y4 0.15x60 |
//           y5 0.16x100 | y6 0.17x100 0.18x100.
// Σ best = 0.96: 30 sets at 0.96, then y2 moves to 0.17: 30 more at 0.97, then y4
// is empty. 60 sets for 9 + 9.9 + 10.2 + 9 + 9.6 + 10.2 = 57.9, profit 2.1.

std::vector<std::string> SixOutcomeLines() {
  const char* asks[6] = {R"([["0.15","100"],["0.16","50"]])", R"([["0.16","30"],["0.17","100"]])",
                         R"([["0.17","100"]])",                 R"([["0.15","60"]])",
                         R"([["0.16","100"]])",                 R"([["0.17","100"],["0.18","100"]])"};
  std::vector<std::string> lines;
  for (int k = 1; k <= 6; ++k) {
    lines.push_back(R"({"type":"snapshot","market":"0xe)" + std::to_string(k) + R"(","asset_id":"y)" +
                    std::to_string(k) + R"(","seq":1,"ts_ms":)" + std::to_string(1763000000000 + 100 * k) +
                    R"(,"bids":[["0.1","10"]],"asks":)" + asks[k - 1] + "}");
  }
  return lines;
}

const std::string kSixCatalog = kSource + "/plugins/dutchbook/testdata/six_outcomes.catalog.json";

void CheckSixOutcomePlan(const Harness& h) {
  REQUIRE(h.plans.size() == 1);
  const Plan& p = h.plans[0];
  CHECK(p.client_tag == "dutchbook:event:evt-6");
  CHECK(p.reason.find("expected profit 2.1 USDC") != std::string::npos);
  REQUIRE(p.legs.size() == 6);
  const int64_t limits[6] = {150'000, 170'000, 170'000, 150'000, 160'000, 170'000};
  for (int k = 0; k < 6; ++k) {
    const std::string m = "0xe" + std::to_string(k + 1), a = "y" + std::to_string(k + 1);
    CheckLeg(p.legs[k], m.c_str(), a.c_str(), limits[k], 60'000'000);
  }
}

TEST_CASE("six-outcome neg-risk event: every YES is bought once all six books are there") {
  Harness h({}, kSixCatalog);
  REQUIRE(h.loaded);
  const auto lines = SixOutcomeLines();
  for (size_t i = 0; i + 1 < lines.size(); ++i) h.Line(lines[i]);
  CHECK(h.plans.empty());  // a leg without a book: nothing yet
  h.Line(lines.back());
  CheckSixOutcomePlan(h);
  const auto opps = h.Opportunities();
  REQUIRE(opps.size() == 1);
  CHECK(opps[0] == "opportunity event:evt-6 sum=0.96 fees=0 edge=0.04 max_size=30 "
                   "legs=y1@0.15,y2@0.16,y3@0.17,y4@0.15,y5@0.16,y6@0.17");
  CHECK(h.Metric("executed_edge_micros") == 2'100'000);
}

TEST_CASE("six-outcome event with subscriptions by name from the catalog") {
  Harness h(Config({{"subscribe_all", "false"}}), kSixCatalog);
  REQUIRE(h.loaded);
  h.Lines(SixOutcomeLines());
  CheckSixOutcomePlan(h);
}

TEST_CASE("six-outcome event: events can be switched off, legs under the minimum order are skipped") {
  SECTION("neg_risk_events = false") {
    Harness h(Config({{"neg_risk_events", "false"}}), kSixCatalog);
    h.Lines(SixOutcomeLines());
    CHECK(h.plans.empty());
  }
  SECTION("y4's market needs 100 tokens per order") {
    Harness h({}, kSixCatalog);
    h.catalog().LoadGammaMarketsText(
        R"([{"conditionId":"0xe4","clobTokenIds":"[\"y4\",\"n4\"]","outcomes":"[\"Yes\",\"No\"]","negRisk":true,
             "orderMinSize":100,"events":[{"id":"evt-6"}]}])",
        "inline");
    h.Lines(SixOutcomeLines());
    CHECK(h.plans.empty());
    CHECK(h.Metric("skipped_min_size") == 1);
  }
  SECTION("a stale leg") {
    Harness h({}, kSixCatalog);
    auto lines = SixOutcomeLines();
    h.Lines(lines);
    REQUIRE(h.plans.size() == 1);
    // y3 gaps (seq 1 -> 3): stale. y1 improves: the edge grows, but no plan.
    h.Line(R"({"type":"delta","market":"0xe3","asset_id":"y3","seq":3,"ts_ms":1763000009000,"side":"bid","price":"0.11","size":"1"})");
    h.Line(R"({"type":"delta","market":"0xe1","asset_id":"y1","seq":2,"ts_ms":1763000009100,"side":"ask","price":"0.14","size":"10"})");
    CHECK(h.plans.size() == 1);
    CHECK(h.Metric("skipped_stale") >= 1);
  }
}

// ---- detection against the golden (feedA) -----------------------------------------------

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// One opportunity as "group|max_size|asset@price,..." (legs in group order).
std::string Key(const std::string& group, const std::string& max_size, const std::string& legs) {
  return group + "|" + max_size + "|" + legs;
}

TEST_CASE("feedA: detected opportunities match the golden detections") {
  const std::string python = DUTCHBOOK_TEST_PYTHON;
  if (python.empty()) {
    WARN("python3 not found at configure time: feedA cannot be regenerated; skipped");
    return;
  }
  // Regenerate feedA with the arguments of feeds.txt, the catalog to a temp file.
  std::string args;
  for (const std::string& line : ReadLines(kSource + "/recordings/golden/feeds.txt")) {
    if (line.rfind("feedA ", 0) == 0) args = line.substr(6);
  }
  REQUIRE_FALSE(args.empty());
  const fs::path dir = fs::temp_directory_path() / ("dutchbook_feedA_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::istringstream in(args);
  std::string cmd = python + " " + kSource + "/tools/gen_recording.py";
  for (std::string tok, prev; in >> tok; prev = tok) {
    cmd += " " + (prev == "--catalog" ? (dir / "catalog.json").string() : tok);
  }
  cmd += " --out " + (dir / "feedA.jsonl").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string sha_cmd = python + " -c \"import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())\" " +
                              (dir / "feedA.jsonl").string() + " > " + (dir / "sha").string();
  REQUIRE(std::system(sha_cmd.c_str()) == 0);

  namespace json = boost::json;
  std::ifstream gin(kSource + "/recordings/golden/feedA.detections.json");
  std::stringstream gtext;
  gtext << gin.rdbuf();
  const json::object golden = json::parse(gtext.str()).as_object();
  REQUIRE(Trim(ReadLines(dir / "sha").at(0)) == std::string(golden.at("feed_sha256").as_string()));

  // Threshold 0, fees 0, min_profit 0, cooldown 0: report every edge.
  Harness h(Config({{"threshold", "0"}, {"fee_rate_bps", "0"}, {"min_profit_usdc", "0"}, {"cooldown_ms", "0"}}),
            (dir / "catalog.json").string());
  REQUIRE(h.loaded);
  h.Lines(ReadLines(dir / "feedA.jsonl"));
  CHECK(h.state() == PluginState::kActive);

  std::map<std::string, std::vector<std::string>> ours, theirs;  // group -> opportunities in order
  for (const std::string& l : h.Opportunities()) {
    // "opportunity <group> sum=.. fees=.. edge=.. max_size=<m> legs=<a@p,...>"
    std::istringstream s(l);
    std::string word, group, max_size, legs;
    s >> word >> group;
    while (s >> word) {
      if (word.rfind("max_size=", 0) == 0) max_size = word.substr(9);
      if (word.rfind("legs=", 0) == 0) legs = word.substr(5);
    }
    ours[group].push_back(Key(group, max_size, legs));
  }
  size_t golden_count = 0;
  for (const json::value& v : golden.at("opportunities").as_array()) {
    const json::object& o = v.as_object();
    std::string legs;
    for (const json::value& leg : o.at("legs").as_array()) {
      if (!legs.empty()) legs += ',';
      legs += std::string(leg.at("asset_id").as_string()) + "@" + std::string(leg.at("price").as_string());
    }
    const std::string group(o.at("group").as_string());
    theirs[group].push_back(Key(group, std::string(o.at("max_size").as_string()), legs));
    ++golden_count;
  }
  size_t our_count = 0;
  for (const auto& [g, list] : ours) our_count += list.size();
  INFO("golden: " << golden_count << " opportunities, plugin: " << our_count);
  for (const auto& [group, list] : theirs) {
    const auto& mine = ours[group];
    INFO("group " << group << ": golden " << list.size() << ", plugin " << mine.size());
    size_t first_diff = 0;
    while (first_diff < list.size() && first_diff < mine.size() && list[first_diff] == mine[first_diff]) ++first_diff;
    INFO("first difference at #" << first_diff << ": golden "
                                 << (first_diff < list.size() ? list[first_diff] : "(end)") << " / plugin "
                                 << (first_diff < mine.size() ? mine[first_diff] : "(end)"));
    CHECK(mine == list);
  }
  for (const auto& [group, list] : ours) {
    INFO("group " << group << " only in the plugin's detections");
    CHECK(theirs.count(group) == 1);
  }
  CHECK(our_count == golden_count);
  CHECK(h.Metric("plans_submitted") > 0);
  CHECK(h.Metric("skipped_cooldown") == 0);  // cooldown 0 is none, even when recv_ts_ms steps back
  fs::remove_all(dir);
}

}  // namespace
}  // namespace polyhost
