#include "exec/clob_client.h"

#include <catch2/catch.hpp>

#include "exec/real_relayer.h"
#include "testing/loopback_http_server.h"

namespace polyhost {
namespace {

namespace bhttp = boost::beast::http;
using testing::LoopbackHttpServer;
using testing::Reply;
using testing::ServerRequest;

const char* kKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

ClobClientOptions Options(int port, std::vector<int64_t>* sleeps) {
  ClobClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/";
  o.creds = {"key-1", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=", "pass-1"};
  o.address = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
  o.unix_seconds = [] { return int64_t{1'700'000'000}; };
  o.sleep = [sleeps](int64_t ns) { sleeps->push_back(ns); };
  o.timeout = std::chrono::milliseconds(2000);
  return o;
}

TEST_CASE("venue errors map to stable reject codes") {
  auto code = [](int status, std::string_view body) { return MapVenueError(status, body).code; };
  CHECK(code(400, R"({"error":"not enough balance / allowance"})") == "insufficient_balance_allowance");
  CHECK(code(400, R"({"error":"order 0x1 is invalid. Price (0.555) breaks minimum tick size rule: 0.01"})") ==
        "invalid_tick");
  CHECK(code(400, R"({"error":"order 0x1 is invalid. Size (1) lower than the minimum: 5"})") == "below_min_size");
  CHECK(code(400, R"({"error":"order 0x1 is invalid. Duplicated."})") == "duplicate_order");
  CHECK(code(400, R"({"errorMsg":"order couldn't be fully filled. FOK orders are fully filled or killed."})") ==
        "fok_not_filled");
  CHECK(code(401, R"({"error":"Unauthorized/Invalid api key"})") == "auth_failed");
  CHECK(code(429, "Too Many Requests") == "rate_limited");
  CHECK(code(503, "") == "venue_unavailable");
  CHECK(code(400, R"({"error":"something new"})") == "venue_reject");
  VenueError e = MapVenueError(400, R"({"error":"not enough balance / allowance"})");
  CHECK(e.Reason() == "insufficient_balance_allowance: not enough balance / allowance");
  CHECK(MapVenueError(502, "").message == "(empty response)");
}

TEST_CASE("POST /order and cancel responses are parsed") {
  PostOrderResult ok = ParsePostOrderResponse(
      {200, R"({"success":true,"errorMsg":"","orderID":"0xabc","transactionsHashes":[],"status":"live"})"});
  CHECK(ok.success);
  CHECK(ok.order_id == "0xabc");
  CHECK(ok.status == "live");
  PostOrderResult soft = ParsePostOrderResponse({200, R"({"success":false,"errorMsg":"not enough balance / allowance"})"});
  CHECK_FALSE(soft.success);
  CHECK(soft.error.code == "insufficient_balance_allowance");
  PostOrderResult hard = ParsePostOrderResponse({400, R"({"error":"invalid tick size"})"});
  CHECK_FALSE(hard.success);
  CHECK(hard.error.code == "invalid_tick");
  CancelResult c = ParseCancelResponse({200, R"({"canceled":["0x1"],"not_canceled":{"0x2":"order not found"}})"});
  REQUIRE(c.canceled.size() == 1);
  CHECK(c.canceled[0] == "0x1");
  REQUIRE(c.not_canceled.size() == 1);
  CHECK(c.not_canceled[0] == std::pair<std::string, std::string>{"0x2", "order not found"});
}

TEST_CASE("requests carry L2 headers whose HMAC covers method, path and exact body") {
  LoopbackHttpServer server([](const ServerRequest& req) {
    if (req.target() == "/version") return Reply(200, R"({"version":2})");
    return Reply(200, R"({"canceled":["0xabc"],"not_canceled":{}})");
  });
  std::vector<int64_t> sleeps;
  ClobClient client(Options(server.port(), &sleeps));
  CHECK(client.GetVersion() == 2);
  ClobResponse r = client.CancelOrder("0xabc");
  CHECK(r.ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0]["POLY_API_KEY"].empty());  // /version is public
  const ServerRequest& del = reqs[1];
  CHECK(del.method() == bhttp::verb::delete_);
  CHECK(del.target() == "/order");
  CHECK(del.body() == R"({"orderID":"0xabc"})");
  CHECK(del["POLY_ADDRESS"] == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
  CHECK(del["POLY_API_KEY"] == "key-1");
  CHECK(del["POLY_PASSPHRASE"] == "pass-1");
  CHECK(del["POLY_TIMESTAMP"] == "1700000000");
  CHECK(del["POLY_SIGNATURE"] == signing::L2Signature("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=", "1700000000",
                                                      "DELETE", "/order", R"({"orderID":"0xabc"})"));
  CHECK(sleeps.empty());
}

TEST_CASE("idempotent requests are retried with backoff; POST /order never is") {
  int calls = 0;
  LoopbackHttpServer server([&calls](const ServerRequest&) {
    return ++calls <= 2 ? Reply(503, "busy") : Reply(200, R"({"canceled":[],"not_canceled":{}})");
  });
  std::vector<int64_t> sleeps;
  ClobClient client(Options(server.port(), &sleeps));
  CHECK(client.CancelAll().ok());
  CHECK(server.requests().size() == 3);
  CHECK(sleeps == std::vector<int64_t>{250'000'000, 500'000'000});  // 250 ms, doubled

  calls = 0;
  sleeps.clear();
  ClobResponse post = client.PostOrder("{}");
  CHECK(post.status == 503);  // answered, not retried
  CHECK(server.requests().size() == 4);
  CHECK(sleeps.empty());
}

TEST_CASE("a transport failure of POST /order is an error after one attempt") {
  std::vector<int64_t> sleeps;
  int port = 0;
  {
    LoopbackHttpServer gone([](const ServerRequest&) { return Reply(200, "{}"); });
    port = gone.port();
  }
  ClobClient client(Options(port, &sleeps));
  CHECK_THROWS_WITH(client.PostOrder("{\"x\":1}"), Catch::Contains("POST /order") && Catch::Contains("connecting"));
  CHECK(sleeps.empty());
  CHECK_THROWS_WITH(client.CancelAll(), Catch::Contains("failed after 3 attempts"));
  CHECK(sleeps.size() == 2);
}

TEST_CASE("open orders follow next_cursor to the end") {
  LoopbackHttpServer server([](const ServerRequest& req) {
    const std::string target(req.target());
    if (target.find("next_cursor=MA%3D%3D") != std::string::npos) {
      return Reply(200, R"({"data":[{"id":"0x1","side":"BUY","price":"0.5","asset_id":"7"}],"next_cursor":"Mg=="})");
    }
    return Reply(200, R"({"data":[{"id":"0x2","side":"SELL","price":"0.6","asset_id":"7"}],"next_cursor":"LTE="})");
  });
  std::vector<int64_t> sleeps;
  ClobClient client(Options(server.port(), &sleeps));
  std::vector<OpenOrder> orders = client.GetOpenOrders("", "7");
  REQUIRE(orders.size() == 2);
  CHECK(orders[0].id == "0x1");
  CHECK(orders[1].side == "SELL");
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].target() == "/data/orders?next_cursor=MA%3D%3D&asset_id=7");
  CHECK(reqs[1].target() == "/data/orders?next_cursor=Mg%3D%3D&asset_id=7");
  // The HMAC covers the path without the query.
  CHECK(reqs[0]["POLY_SIGNATURE"] ==
        signing::L2Signature("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=", "1700000000", "GET", "/data/orders", ""));
}

struct Recorder : RelayerListener {
  std::vector<OrderUpdate> updates;
  void OnOrderUpdate(const OrderUpdate& u) override { updates.push_back(u); }
  void OnFill(const Fill&) override {}
};

TEST_CASE("the real relayer in dry run signs and acknowledges locally and sends nothing") {
  LoopbackHttpServer server([](const ServerRequest&) { return Reply(200, R"({"version":2})"); });
  RealRelayerOptions o;
  o.dry_run = true;
  o.private_key = kKey;
  o.clob.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.market_params = [](std::string_view market, std::string_view) {
    return market == "unknown" ? MarketParams{} : MarketParams{10'000, false};
  };
  o.salt_seed = 1;
  auto relayer = MakeRealRelayer(o);
  Recorder rec;
  relayer->SetListener(&rec);
  relayer->Submit(Order{1, 1, "t", {"m", "123", Side::kBid, 560'000, 10'000000, TimeInForce::kGtc}});
  REQUIRE(rec.updates.size() == 1);
  CHECK(rec.updates[0].state == OrderState::kAcked);
  CHECK(rec.updates[0].reason == "dry_run: not sent");
  relayer->Cancel(1);
  CHECK(rec.updates.back().state == OrderState::kCancelled);
  relayer->Submit(Order{2, 2, "t", {"m", "123", Side::kAsk, 560'000, 10'000000, TimeInForce::kFok}});
  CHECK(rec.updates.back().state == OrderState::kCancelled);
  // Off-tick price and unknown tick are refused before signing.
  relayer->Submit(Order{3, 3, "t", {"m", "123", Side::kBid, 561'000, 10'000000, TimeInForce::kGtc}});
  CHECK(rec.updates.back().state == OrderState::kRejected);
  CHECK_THAT(rec.updates.back().reason, Catch::StartsWith("invalid_order: "));
  relayer->Submit(Order{4, 4, "t", {"unknown", "123", Side::kBid, 560'000, 10'000000, TimeInForce::kGtc}});
  CHECK_THAT(rec.updates.back().reason, Catch::Contains("tick size") && Catch::Contains("unknown"));
  CHECK(server.requests().empty());
}

TEST_CASE("the real relayer refuses to start without a key, with bad credentials or a version mismatch") {
  RealRelayerOptions o;
  CHECK_THROWS_WITH(MakeRealRelayer(o), Catch::Contains("needs a signing key"));
  o.private_key = "0x1234";
  CHECK_THROWS_WITH(MakeRealRelayer(o), Catch::Contains("[relayer] private_key") && !Catch::Contains("1234"));

  LoopbackHttpServer server([](const ServerRequest&) { return Reply(200, R"({"version":3})"); });
  o.private_key = kKey;
  o.dry_run = false;
  o.clob.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  CHECK_THROWS_WITH(MakeRealRelayer(o), Catch::Contains("api_key, api_secret and api_passphrase"));
  CHECK(server.requests().empty());
  o.private_key = kKey;  // cleared by the previous attempt
  o.clob.creds = {"k", "c2VjcmV0", "p"};
  CHECK_THROWS_WITH(MakeRealRelayer(o), Catch::Contains("version 3") && Catch::Contains("refusing to send"));
  o.private_key = kKey;
  o.rate_limits = "POST /order=fast";
  CHECK_THROWS_WITH(MakeRealRelayer(o), Catch::Contains("[relayer] rate_limits"));
}

}  // namespace
}  // namespace polyhost
