// Unit tests of the live feed against an in-process websocket server (loopback):
// queue overflow, backoff, URL parsing, sharding, reconnect/resubscribe, PING,
// gap reporting, and LiveSource's resync and watchdog with a fake REST client.
#include <catch2/catch.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "live/frame_queue.h"
#include "live/live_source.h"
#include "live/ws_feed.h"

namespace polyhost {
namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using Ws = websocket::stream<tcp::socket>;

// A synchronous websocket server: one thread per connection runs `handler`
// with the connection's index (0, 1, ...).
class MockServer {
 public:
  explicit MockServer(std::function<void(int, Ws&)> handler) : handler_(std::move(handler)) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] {
      for (;;) {
        tcp::socket socket(io_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (stop_) return;
        if (ec) continue;
        std::lock_guard lock(mu_);
        const int index = connections_++;
        threads_.emplace_back([this, index, s = std::move(socket)]() mutable {
          try {
            Ws ws(std::move(s));
            ws.accept();
            handler_(index, ws);
          } catch (const std::exception&) {
          }
        });
      }
    });
  }
  ~MockServer() {
    stop_ = true;
    try {
      asio::io_context io;
      tcp::socket poke(io);
      poke.connect(acceptor_.local_endpoint());
    } catch (const std::exception&) {
    }
    thread_.join();
    std::lock_guard lock(mu_);
    for (auto& t : threads_) t.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/ws/market"; }
  int connections() {
    std::lock_guard lock(mu_);
    return connections_;
  }

 private:
  std::function<void(int, Ws&)> handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
  int connections_ = 0;
  std::atomic<bool> stop_{false};
};

std::string ReadText(Ws& ws) {
  boost::beast::flat_buffer b;
  ws.read(b);
  return boost::beast::buffers_to_string(b.data());
}

// Reads until the client goes away.
void Drain(Ws& ws) {
  for (;;) ReadText(ws);
}

void Send(Ws& ws, const std::string& text) {
  ws.text(true);
  ws.write(asio::buffer(text));
}

// Pops until `pred` matches (or 5 s pass); returns the matching message.
LiveMessage PopUntil(FrameQueue& q, const std::function<bool(const LiveMessage&)>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  LiveMessage m;
  while (std::chrono::steady_clock::now() < deadline) {
    if (q.Pop(&m, std::chrono::milliseconds(50)) && pred(m)) return m;
  }
  FAIL("no matching message within 5 s");
  return m;
}

bool WaitFor(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

WsFeedOptions FastOptions(const std::string& url) {
  WsFeedOptions o;
  o.url = url;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  o.jitter_seed = 42;
  return o;
}

LiveMessage Frame(const std::string& text) {
  LiveMessage m;
  m.text = text;
  return m;
}

}  // namespace

TEST_CASE("FrameQueue refuses and counts frames beyond capacity; control messages always enter") {
  FrameQueue q(3);
  for (int i = 0; i < 5; ++i) q.TryPush(Frame(std::to_string(i)));
  CHECK(q.overflows() == 2);
  LiveMessage gap;
  gap.kind = LiveMessage::Kind::kGap;
  q.PushControl(std::move(gap));
  CHECK(q.size() == 4);
  LiveMessage m;
  REQUIRE(q.Pop(&m, std::chrono::milliseconds(0)));
  CHECK(m.text == "0");
  CHECK(q.TryPush(Frame("3")));  // a frame left: room for one more
  CHECK_FALSE(q.TryPush(Frame("4")));
  CHECK(q.overflows() == 3);
  q.Close();
  CHECK_FALSE(q.TryPush(Frame("x")));
}

TEST_CASE("Backoff doubles from the initial delay, is capped, and jitters within [d/2, d]") {
  CHECK(BackoffDelayMs(0, 500, 30000, 0.0) == 250);
  CHECK(BackoffDelayMs(0, 500, 30000, 0.999999) == 500);
  CHECK(BackoffDelayMs(3, 500, 30000, 0.0) == 2000);
  CHECK(BackoffDelayMs(3, 500, 30000, 0.999999) == 4000);
  CHECK(BackoffDelayMs(20, 500, 30000, 0.999999) == 30000);
  CHECK(BackoffDelayMs(20, 500, 30000, 0.0) == 15000);
  for (double u = 0; u < 1; u += 0.01) {
    const int64_t d = BackoffDelayMs(2, 100, 1000, u);
    CHECK(d >= 200);
    CHECK(d <= 400);
  }
}

TEST_CASE("ParseWsUrl splits ws and wss URLs and refuses other schemes") {
  WsUrl u = ParseWsUrl("ws://127.0.0.1:8080/ws/market?x=1");
  CHECK_FALSE(u.tls);
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == "8080");
  CHECK(u.target == "/ws/market?x=1");
  u = ParseWsUrl("wss://ws-subscriptions-clob.polymarket.com/ws/market");
  CHECK(u.tls);
  CHECK(u.port == "443");
  CHECK(ParseWsUrl("ws://h").target == "/");
  CHECK_THROWS_WITH(ParseWsUrl("https://h/x"), Catch::Contains("scheme must be ws or wss"));
  CHECK_THROWS(ParseWsUrl("not a url"));
}

TEST_CASE("BookUrl joins the CLOB base and the token id") {
  CHECK(BookUrl("http://127.0.0.1:9/", "123") == "http://127.0.0.1:9/book?token_id=123");
  CHECK(BookUrl("https://clob.polymarket.com", "a b") == "https://clob.polymarket.com/book?token_id=a%20b");
}

TEST_CASE("More than 500 assets are sharded over connections of at most 500; later ones subscribe dynamically") {
  std::mutex mu;
  std::vector<std::vector<std::string>> seen(4);
  MockServer server([&](int conn, Ws& ws) {
    for (;;) {
      std::string text = ReadText(ws);
      std::lock_guard lock(mu);
      seen[static_cast<size_t>(conn)].push_back(text);
    }
  });
  FrameQueue q(1024);
  WsFeed feed(FastOptions(server.url()), &q);
  std::vector<std::string> assets;
  for (int i = 0; i < 1200; ++i) assets.push_back(std::to_string(1000 + i));
  feed.Subscribe(assets);
  feed.Start();
  std::vector<size_t> sizes;
  for (int i = 0; i < 3; ++i) {
    LiveMessage m = PopUntil(q, [](const LiveMessage& x) { return x.kind == LiveMessage::Kind::kConnected; });
    sizes.push_back(m.assets.size());
  }
  std::sort(sizes.begin(), sizes.end());
  CHECK(sizes == std::vector<size_t>{200, 500, 500});
  REQUIRE(WaitFor([&] {
    std::lock_guard lock(mu);
    return !seen[0].empty() && !seen[1].empty() && !seen[2].empty();
  }));
  {
    std::lock_guard lock(mu);
    for (int c = 0; c < 3; ++c) {
      CHECK(seen[static_cast<size_t>(c)][0].starts_with("{\"assets_ids\":[\""));
      CHECK(seen[static_cast<size_t>(c)][0].ends_with("],\"type\":\"market\"}"));
    }
  }
  CHECK(server.connections() == 3);
  // One more asset fits in the shard of 200: sent as a subscribe operation, no new connection.
  feed.Subscribe({"77"});
  LiveMessage sub = PopUntil(q, [](const LiveMessage& x) { return x.kind == LiveMessage::Kind::kSubscribed; });
  CHECK(sub.assets == std::vector<std::string>{"77"});
  REQUIRE(WaitFor([&] {
    std::lock_guard lock(mu);
    for (auto& s : seen) {
      for (auto& t : s) {
        if (t == "{\"assets_ids\":[\"77\"],\"operation\":\"subscribe\"}") return true;
      }
    }
    return false;
  }));
  feed.Unsubscribe({"77"});
  REQUIRE(WaitFor([&] {
    std::lock_guard lock(mu);
    for (auto& s : seen) {
      for (auto& t : s) {
        if (t == "{\"assets_ids\":[\"77\"],\"operation\":\"unsubscribe\"}") return true;
      }
    }
    return false;
  }));
  CHECK(server.connections() == 3);
  CHECK(feed.stats().shards == 3);
  feed.Stop();
}

TEST_CASE("A dropped connection is reported, reconnected with the same subscription, and counted") {
  std::mutex mu;
  std::vector<std::string> subscriptions;
  MockServer server([&](int conn, Ws& ws) {
    {
      std::string sub = ReadText(ws);
      std::lock_guard lock(mu);
      subscriptions.push_back(sub);
    }
    Send(ws, "{\"n\":" + std::to_string(conn) + "}");
    if (conn == 0) {
      ws.next_layer().close();  // abrupt: no close frame
      return;
    }
    Drain(ws);
  });
  FrameQueue q(64);
  WsFeed feed(FastOptions(server.url()), &q);
  feed.Subscribe({"1", "2"});
  feed.Start();
  std::vector<std::string> kinds;
  LiveMessage m;
  while (kinds.size() < 5 && q.Pop(&m, std::chrono::seconds(5))) {
    kinds.push_back(std::string(LiveMessageKindName(m.kind)) + (m.kind == LiveMessage::Kind::kFrame ? ":" + m.text : ""));
  }
  CHECK(kinds == std::vector<std::string>{"connected", "frame:{\"n\":0}", "disconnected", "connected", "frame:{\"n\":1}"});
  WsFeedStats s = feed.stats();
  CHECK(s.connects == 2);
  CHECK(s.reconnects == 1);
  feed.Stop();
  std::lock_guard lock(mu);
  REQUIRE(subscriptions.size() == 2);
  CHECK(subscriptions[0] == "{\"assets_ids\":[\"1\",\"2\"],\"type\":\"market\"}");
  CHECK(subscriptions[1] == subscriptions[0]);
}

TEST_CASE("The feed sends a text PING every ping interval") {
  std::atomic<int> pings{0};
  MockServer server([&](int, Ws& ws) {
    ReadText(ws);
    for (;;) {
      if (ReadText(ws) == "PING") {
        ++pings;
        Send(ws, "PONG");
      }
    }
  });
  FrameQueue q(64);
  WsFeedOptions o = FastOptions(server.url());
  o.ping_interval_ms = 30;
  WsFeed feed(o, &q);
  feed.Subscribe({"1"});
  feed.Start();
  CHECK(WaitFor([&] { return pings >= 3; }));
  LiveMessage pong = PopUntil(q, [](const LiveMessage& x) { return x.kind == LiveMessage::Kind::kFrame; });
  CHECK(pong.text == "PONG");
  feed.Stop();
  CHECK(feed.stats().pings >= 3);
}

TEST_CASE("Frames the full queue refuses are counted and reported as one gap, never silently") {
  MockServer server([&](int, Ws& ws) {
    ReadText(ws);
    for (int i = 0; i < 20; ++i) Send(ws, "{\"i\":" + std::to_string(i) + "}");
    Drain(ws);
  });
  FrameQueue q(4);
  WsFeed feed(FastOptions(server.url()), &q);
  feed.Subscribe({"1", "2"});
  feed.Start();
  REQUIRE(WaitFor([&] { return feed.stats().frames == 20; }));
  feed.Stop();
  CHECK(feed.stats().dropped == 16);
  CHECK(q.overflows() == 16);
  std::vector<std::string> kinds;
  LiveMessage m;
  while (q.Pop(&m, std::chrono::milliseconds(0))) {
    kinds.push_back(LiveMessageKindName(m.kind));
    if (m.kind == LiveMessage::Kind::kGap) CHECK(m.assets == std::vector<std::string>{"1", "2"});
  }
  // connected, 4 frames, then exactly one gap for the run of 16 drops (and the disconnect at Stop).
  CHECK(kinds == std::vector<std::string>{"connected", "frame", "frame", "frame", "frame", "gap", "disconnected"});
}

namespace {

constexpr const char* kBook1 =
    R"({"event_type":"book","market":"0xm","asset_id":"111","timestamp":"1000","bids":[{"price":"0.48","size":"10"}],"asks":[{"price":"0.52","size":"10"}]})";
// Claims best bid 0.50 after setting 0.49: the local book disagrees (0.49), so drift.
constexpr const char* kDrift =
    R"({"event_type":"price_change","market":"0xm","timestamp":"1001","price_changes":[{"asset_id":"111","price":"0.49","size":"5","side":"BUY","best_bid":"0.50","best_ask":"0.52"}]})";
constexpr const char* kRestBook =
    R"({"market":"0xm","asset_id":"111","timestamp":"1002","hash":"0xabc","bids":[{"price":"0.47","size":"1"},{"price":"0.50","size":"7"}],"asks":[{"price":"0.53","size":"3"}],"tick_size":"0.01","min_order_size":"5","neg_risk":false})";

}  // namespace

TEST_CASE("LiveSource resyncs from REST on connect and after drift; stale until the resync lands") {
  MockServer server([&](int, Ws& ws) {
    ReadText(ws);
    Send(ws, kBook1);
    Send(ws, kDrift);
    Send(ws, "PONG");
    Drain(ws);
  });
  std::atomic<int> fetches{0};
  LiveOptions o;
  o.ws = FastOptions(server.url());
  o.clob_url = "http://clob.test";
  o.http_get = [&](const std::string& url, std::string* body, std::string*) {
    CHECK(url == "http://clob.test/book?token_id=111");
    ++fetches;
    *body = kRestBook;
    return true;
  };
  o.assets = {{"0xm", "111", ""}};
  o.stale_after_ms = 0;
  LiveSource source(o);
  BookEngine engine;
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    WaitFor([&] { return fetches >= 2; });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    source.Stop();
    done = true;
  });
  LiveSummary s = source.Run(engine);
  stopper.join();
  CHECK(s.messages == 3);
  CHECK(s.counters.drift_checks_failed == 1);
  CHECK(s.resync_requests >= 2);  // on connect, and after the drift
  CHECK(s.resyncs >= 2);
  REQUIRE(engine.asset_count() == 1);
  const AssetState& a = engine.asset(0);
  CHECK_FALSE(a.stale);
  CHECK(a.book.best_bid() == 500000);
  CHECK(a.book.best_ask() == 530000);
  CHECK(s.ws.connects == 1);
}

TEST_CASE("LiveSource: a silent shard trips the watchdog, goes stale, reconnects and resyncs") {
  MockServer server([&](int conn, Ws& ws) {
    ReadText(ws);
    if (conn == 0) Send(ws, kBook1);  // then silence
    Drain(ws);
  });
  LiveOptions o;
  o.ws = FastOptions(server.url());
  o.ws.ping_interval_ms = 60000;
  o.clob_url = "http://clob.test";
  std::atomic<int> fetches{0};
  o.http_get = [&](const std::string&, std::string* body, std::string*) {
    ++fetches;
    *body = kRestBook;
    return true;
  };
  o.assets = {{"0xm", "111", ""}};
  o.stale_after_ms = 150;
  LiveSource source(o);
  BookEngine engine;
  std::thread stopper([&] {
    WaitFor([&] { return server.connections() >= 2 && fetches >= 2; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    source.Stop();
  });
  LiveSummary s = source.Run(engine);
  stopper.join();
  CHECK(s.watchdog_fires >= 1);
  CHECK(s.stale_marks >= 1);
  CHECK(s.ws.reconnects >= 1);
  CHECK(s.resyncs >= 2);
  CHECK(engine.counters().continuity_breaks >= 1);
}

TEST_CASE("LiveSource: a failed REST fetch is counted and retried; the book stays stale meanwhile") {
  MockServer server([&](int, Ws& ws) {
    ReadText(ws);
    Send(ws, kBook1);
    Send(ws, kDrift);
    Drain(ws);
  });
  LiveOptions o;
  o.ws = FastOptions(server.url());
  o.clob_url = "http://clob.test";
  std::atomic<int> calls{0};
  o.http_get = [&](const std::string&, std::string* body, std::string* error) {
    // Fetch 1 (connect) succeeds, fetch 2 (drift) fails, fetch 3 (retry) succeeds.
    const int n = ++calls;
    if (n == 2) {
      *error = "HTTP 503 Service Unavailable";
      return false;
    }
    *body = kRestBook;
    return true;
  };
  o.assets = {{"0xm", "111", ""}};
  o.stale_after_ms = 0;
  o.resync_retry_ms = 50;
  LiveSource source(o);
  BookEngine engine;
  std::thread stopper([&] {
    WaitFor([&] { return calls >= 3; });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    source.Stop();
  });
  LiveSummary s = source.Run(engine);
  stopper.join();
  CHECK(s.resync_failures == 1);
  CHECK(s.resyncs >= 2);
  CHECK_FALSE(engine.asset(0).stale);
}

TEST_CASE("LiveSource: one feed per ws_url into one engine, market budgets end the run, on_stop runs before the end") {
  // Market A on server 1, market B on server 2; each server sends its market's book twice.
  auto serve = [](const char* market, const char* asset) {
    return [market, asset](int, Ws& ws) {
      const std::string sub = ReadText(ws);
      CHECK(sub.find(asset) != std::string::npos);
      const std::string book = std::string(R"({"event_type":"book","market":")") + market + R"(","asset_id":")" +
                               asset + R"(","timestamp":"1000","bids":[{"price":"0.4","size":"1"}],"asks":[{"price":"0.6","size":"1"}]})";
      Send(ws, book);
      Send(ws, "PONG");  // counts for no market
      Send(ws, book);
      Drain(ws);
    };
  };
  MockServer one(serve("0xa", "111"));
  MockServer two(serve("0xb", "222"));
  LiveOptions o;
  o.ws = FastOptions(one.url());
  o.clob_url = "http://clob.test";
  o.http_get = [](const std::string&, std::string*, std::string* error) {
    *error = "no REST here";
    return false;
  };
  o.resync_retry_ms = 60000;
  o.stale_after_ms = 0;
  o.assets = {{"0xa", "111", ""}, {"0xb", "222", two.url()}};
  o.market_max_messages = {{"0xa", 2}, {"0xb", 2}};
  o.end_when_budgets_spent = true;
  bool stopped = false;
  o.on_stop = [&] { stopped = true; };
  LiveSource source(o);
  BookEngine engine;
  LiveSummary s = source.Run(engine);  // ends by itself once both markets had 2 frames
  CHECK(stopped);
  CHECK(s.feeds == 2);
  CHECK(s.ws.connects == 2);
  CHECK(s.markets_done == 2);
  CHECK(engine.Find("0xa", "111") >= 0);
  CHECK(engine.Find("0xb", "222") >= 0);
  CHECK(one.connections() == 1);
  CHECK(two.connections() == 1);
}

TEST_CASE("LiveSource: Subscribe during the run uses the on_demand entry's market and ws_url") {
  std::atomic<bool> second_subscribed{false};
  MockServer one([&](int, Ws& ws) {
    ReadText(ws);
    Send(ws, "PONG");
    Drain(ws);
  });
  MockServer two([&](int, Ws& ws) {
    const std::string sub = ReadText(ws);
    CHECK(sub.find("\"333\"") != std::string::npos);
    second_subscribed = true;
    Send(ws, R"({"event_type":"book","market":"0xc","asset_id":"333","timestamp":"5","bids":[{"price":"0.3","size":"2"}],"asks":[]})");
    Drain(ws);
  });
  LiveOptions o;
  o.ws = FastOptions(one.url());
  o.clob_url = "http://clob.test";
  o.http_get = [](const std::string&, std::string*, std::string* error) {
    *error = "no REST here";
    return false;
  };
  o.resync_retry_ms = 60000;
  o.stale_after_ms = 0;
  o.assets = {{"0xa", "111", ""}};
  o.on_demand = {{"0xc", "333", two.url()}};
  o.max_messages = 2;  // the PONG and the book of 333
  LiveSource source(o);
  BookEngine engine;
  std::thread subscriber([&] {
    WaitFor([&] { return one.connections() >= 1; });
    source.Subscribe({{"", "333", ""}});
  });
  LiveSummary s = source.Run(engine);
  subscriber.join();
  CHECK(second_subscribed);
  CHECK(s.feeds == 2);
  REQUIRE(engine.Find("0xc", "333") >= 0);
  CHECK(engine.asset(static_cast<uint32_t>(engine.Find("0xc", "333"))).book.best_bid() == 300000);
}

TEST_CASE("LiveSource: a market whose budget is spent is unsubscribed and stale while the others go on") {
  std::atomic<bool> unsubscribed{false};
  MockServer server([&](int, Ws& ws) {
    ReadText(ws);
    Send(ws, R"({"event_type":"book","market":"0xa","asset_id":"111","timestamp":"1","bids":[{"price":"0.4","size":"1"}],"asks":[]})");
    // The unsubscription of 111 arrives before anything else is read.
    const std::string unsub = ReadText(ws);
    unsubscribed = unsub.find("\"unsubscribe\"") != std::string::npos && unsub.find("\"111\"") != std::string::npos;
    Send(ws, R"({"event_type":"book","market":"0xb","asset_id":"222","timestamp":"2","bids":[{"price":"0.3","size":"1"}],"asks":[]})");
    Drain(ws);
  });
  LiveOptions o;
  o.ws = FastOptions(server.url());
  o.ws.ping_interval_ms = 60000;
  o.clob_url = "http://clob.test";
  o.http_get = [](const std::string&, std::string*, std::string* error) {
    *error = "no REST here";
    return false;
  };
  o.resync_retry_ms = 60000;
  o.stale_after_ms = 0;
  o.assets = {{"0xa", "111", ""}, {"0xb", "222", ""}};
  o.market_max_messages = {{"0xa", 1}};
  o.max_messages = 2;
  LiveSource source(o);
  BookEngine engine;
  LiveSummary s = source.Run(engine);
  CHECK(unsubscribed);
  CHECK(s.markets_done == 1);
  REQUIRE(engine.Find("0xa", "111") >= 0);
  CHECK(engine.asset(static_cast<uint32_t>(engine.Find("0xa", "111"))).stale);
  REQUIRE(engine.Find("0xb", "222") >= 0);
  CHECK_FALSE(engine.asset(static_cast<uint32_t>(engine.Find("0xb", "222"))).stale);
}

}  // namespace polyhost
