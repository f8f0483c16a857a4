#include "live/ws_feed.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/json_text.h"

namespace polyhost {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// {"assets_ids":[...],"type":"market"} on connect; {"assets_ids":[...],"operation":"subscribe"} later.
std::string SubscriptionMessage(const std::vector<std::string>& assets, std::string_view operation) {
  std::string out = "{\"assets_ids\":[";
  for (size_t i = 0; i < assets.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonQuoted(out, assets[i]);
  }
  out += "],";
  if (operation.empty()) {
    out += "\"type\":\"market\"}";
  } else {
    out += "\"operation\":";
    AppendJsonQuoted(out, operation);
    out += '}';
  }
  return out;
}

struct Shard {
  explicit Shard(asio::io_context& io, uint32_t shard_id) : id(shard_id), wake(io), backoff(io), ping(io) {}
  uint32_t id;
  std::vector<std::string> assets;   // what this connection is (or will be) subscribed to
  std::deque<std::string> outbox;    // text frames to send, in order
  asio::steady_timer wake;            // the writer sleeps on it; Notify() cancels it
  asio::steady_timer backoff;
  asio::steady_timer ping;
  bool wake_pending = false;
  std::function<void()> abort;       // closes the current socket; empty when none
  bool connected = false;
  bool retired = false;              // every asset unsubscribed: close and do not reconnect
  bool gap_open = false;             // frames were dropped since the last accepted one
  int attempt = 0;
  int64_t connections = 0;
  std::string last_error;
};

}  // namespace

WsUrl ParseWsUrl(std::string_view text) {
  auto r = boost::urls::parse_uri(text);
  if (!r) throw std::invalid_argument("websocket URL '" + std::string(text) + "': " + r.error().message());
  WsUrl url;
  const std::string scheme(r->scheme());
  if (scheme == "wss") {
    url.tls = true;
  } else if (scheme != "ws") {
    throw std::invalid_argument("websocket URL '" + std::string(text) + "': scheme must be ws or wss");
  }
  url.host = std::string(r->encoded_host());
  if (url.host.empty()) throw std::invalid_argument("websocket URL '" + std::string(text) + "': no host");
  if (url.host.size() > 2 && url.host.front() == '[') url.host = url.host.substr(1, url.host.size() - 2);
  url.port = r->has_port() ? std::string(r->port()) : (url.tls ? "443" : "80");
  url.target = std::string(r->encoded_path());
  if (url.target.empty()) url.target = "/";
  if (r->has_query()) url.target += "?" + std::string(r->encoded_query());
  return url;
}

int64_t BackoffDelayMs(int attempt, int64_t initial_ms, int64_t max_ms, double unit) {
  int64_t delay = std::max<int64_t>(initial_ms, 1);
  for (int i = 0; i < attempt && delay < max_ms; ++i) delay *= 2;
  delay = std::min(delay, std::max<int64_t>(max_ms, 1));
  const int64_t half = delay / 2;
  const auto jitter = static_cast<int64_t>(unit * static_cast<double>(delay - half + 1));
  return std::min(half + jitter, delay);
}

struct WsFeed::Impl {
  Impl(WsFeedOptions o, FrameQueue* q) : options(std::move(o)), queue(q), url(ParseWsUrl(options.url)) {
    rng.seed(options.jitter_seed != 0 ? options.jitter_seed : std::random_device{}());
    if (url.tls) {
      ssl_ctx.emplace(ssl::context::tls_client);
      if (options.insecure) {
        ssl_ctx->set_verify_mode(ssl::verify_none);
      } else {
        ssl_ctx->set_default_verify_paths();
        if (!options.ca_file.empty()) {
          boost::system::error_code ec;
          ssl_ctx->load_verify_file(options.ca_file, ec);
          if (ec) throw std::invalid_argument("CA file '" + options.ca_file + "': " + ec.message());
        }
        ssl_ctx->set_verify_mode(ssl::verify_peer);
      }
    }
  }

  WsFeedOptions options;
  FrameQueue* queue;
  WsUrl url;
  asio::io_context io;  // declared before the shards: their timers deregister first
  std::optional<ssl::context> ssl_ctx;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::vector<std::unique_ptr<Shard>> shards;
  std::unordered_map<std::string, uint32_t> shard_of;  // asset -> shard (network thread only)
  std::mt19937_64 rng;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool started = false;

  std::atomic<int64_t> connects{0}, reconnects{0}, disconnects{0}, frames{0}, bytes{0}, pings{0}, dropped{0},
      shards_opened{0};

  void Notify(Shard& s) {
    s.wake_pending = true;
    s.wake.cancel();
  }

  void Control(LiveMessage::Kind kind, const Shard& s, std::vector<std::string> assets) {
    LiveMessage m;
    m.kind = kind;
    m.shard = options.shard_id_base + s.id;
    m.recv_ts_ms = WallMs();
    m.assets = std::move(assets);
    queue->PushControl(std::move(m));
  }

  template <class WS>
  asio::awaitable<void> ReadLoop(Shard& s, WS& ws) {
    beast::flat_buffer buffer;
    try {
      for (;;) {
        co_await ws.async_read(buffer, asio::use_awaitable);
        const auto data = buffer.cdata();
        LiveMessage m;
        m.kind = LiveMessage::Kind::kFrame;
        m.shard = options.shard_id_base + s.id;
        m.recv_ts_ms = WallMs();
        m.text.assign(static_cast<const char*>(data.data()), data.size());
        buffer.consume(buffer.size());
        frames.fetch_add(1, std::memory_order_relaxed);
        bytes.fetch_add(static_cast<int64_t>(m.text.size()), std::memory_order_relaxed);
        if (queue->TryPush(std::move(m))) {
          s.gap_open = false;
          continue;
        }
        // The book thread is behind: this frame is lost, so every book of the shard
        // is in doubt until resynced. Reported once per run of drops.
        const int64_t n = dropped.fetch_add(1, std::memory_order_relaxed) + 1;
        if (!s.gap_open) {
          s.gap_open = true;
          spdlog::warn("live: queue full ({} messages): dropping frames of shard {} ({} dropped so far); its {} "
                       "assets are stale until resynced",
                       queue->capacity(), s.id, n, s.assets.size());
          Control(LiveMessage::Kind::kGap, s, s.assets);
        }
      }
    } catch (const boost::system::system_error& e) {
      s.last_error = e.code().message();
    } catch (const std::exception& e) {
      s.last_error = e.what();
    }
  }

  template <class WS>
  asio::awaitable<void> WriteLoop(Shard& s, WS& ws) {
    try {
      for (;;) {
        while (!s.outbox.empty()) {
          std::string text = std::move(s.outbox.front());
          s.outbox.pop_front();
          co_await ws.async_write(asio::buffer(text), asio::use_awaitable);
        }
        s.wake.expires_at(asio::steady_timer::time_point::max());
        boost::system::error_code ec;
        co_await s.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (s.wake_pending) {
          s.wake_pending = false;
          continue;
        }
        co_return;  // cancelled: the connection is ending
      }
    } catch (const boost::system::system_error& e) {
      s.last_error = e.code().message();
    } catch (const std::exception& e) {
      s.last_error = e.what();
    }
  }

  asio::awaitable<void> PingLoop(Shard& s) {
    for (;;) {
      s.ping.expires_after(std::chrono::milliseconds(options.ping_interval_ms));
      boost::system::error_code ec;
      co_await s.ping.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      // The venue expects the text "PING" (it answers "PONG"), not a websocket ping.
      s.outbox.push_back("PING");
      pings.fetch_add(1, std::memory_order_relaxed);
      Notify(s);
    }
  }

  // Handshake, subscribe, then read/write/ping until one of them ends.
  template <class WS>
  asio::awaitable<void> Serve(Shard& s, WS& ws) {
    std::string host = url.host;
    if (!((url.tls && url.port == "443") || (!url.tls && url.port == "80"))) host += ":" + url.port;
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "polyhost/0.1"); }));
    co_await ws.async_handshake(host, url.target, asio::use_awaitable);
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws.text(true);
    ws.read_message_max(size_t{64} << 20);
    if (!s.assets.empty()) co_await ws.async_write(asio::buffer(SubscriptionMessage(s.assets, {})), asio::use_awaitable);
    s.outbox.clear();  // operations queued while down are covered by the full subscription
    s.wake_pending = false;
    s.connected = true;
    s.attempt = 0;
    s.gap_open = false;
    connects.fetch_add(1);
    if (s.connections++ > 0) reconnects.fetch_add(1);
    spdlog::info("live: shard {} connected to {} ({} assets)", s.id, options.url, s.assets.size());
    Control(LiveMessage::Kind::kConnected, s, s.assets);
    co_await (ReadLoop(s, ws) || WriteLoop(s, ws) || PingLoop(s));
  }

  asio::awaitable<void> Connect(Shard& s) {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::use_awaitable);
    const auto timeout = std::chrono::milliseconds(options.connect_timeout_ms);
    if (url.tls) {
      websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ex, *ssl_ctx);
      s.abort = [&ws] { beast::get_lowest_layer(ws).close(); };
      // SNI: the venue's CDN picks the certificate by name.
      if (!SSL_set_tlsext_host_name(ws.next_layer().native_handle(), url.host.c_str())) {
        throw std::runtime_error("cannot set TLS SNI host name");
      }
      if (!options.insecure) ws.next_layer().set_verify_callback(ssl::host_name_verification(url.host));
      beast::get_lowest_layer(ws).expires_after(timeout);
      co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::use_awaitable);
      co_await ws.next_layer().async_handshake(ssl::stream_base::client, asio::use_awaitable);
      co_await Serve(s, ws);
      s.abort = nullptr;
    } else {
      websocket::stream<beast::tcp_stream> ws(ex);
      s.abort = [&ws] { beast::get_lowest_layer(ws).close(); };
      beast::get_lowest_layer(ws).expires_after(timeout);
      co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::use_awaitable);
      co_await Serve(s, ws);
      s.abort = nullptr;
    }
  }

  asio::awaitable<void> RunShard(Shard& s) {
    while (!stopping && !s.retired) {
      s.last_error.clear();
      try {
        co_await Connect(s);
      } catch (const boost::system::system_error& e) {
        s.last_error = e.code().message();
      } catch (const std::exception& e) {
        s.last_error = e.what();
      }
      s.abort = nullptr;
      const bool was_connected = s.connected;
      s.connected = false;
      s.ping.cancel();
      disconnects.fetch_add(1);
      if (was_connected) Control(LiveMessage::Kind::kDisconnected, s, s.assets);
      if (stopping || s.retired) break;
      const int64_t delay = BackoffDelayMs(s.attempt++, options.backoff_initial_ms, options.backoff_max_ms,
                                           std::uniform_real_distribution<double>(0.0, 1.0)(rng));
      spdlog::warn("live: shard {} {}: {}; reconnecting in {} ms", s.id, was_connected ? "disconnected" : "cannot connect",
                   s.last_error.empty() ? "connection closed" : s.last_error, delay);
      s.backoff.expires_after(std::chrono::milliseconds(delay));
      boost::system::error_code ec;
      co_await s.backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  void Spawn(Shard& s) {
    asio::co_spawn(io, RunShard(s), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("live: shard coroutine failed: {}", ex.what());
      }
    });
  }

  void DoSubscribe(const std::vector<std::string>& assets) {
    std::map<uint32_t, std::vector<std::string>> added;
    std::vector<uint32_t> fresh;
    const size_t cap = std::max<size_t>(options.max_assets_per_connection, 1);
    for (const std::string& a : assets) {
      if (shard_of.count(a) != 0) continue;
      Shard* target = nullptr;
      for (auto& s : shards) {
        if (!s->retired && s->assets.size() < cap) {
          target = s.get();
          break;
        }
      }
      if (target == nullptr) {
        shards.push_back(std::make_unique<Shard>(io, static_cast<uint32_t>(shards.size())));
        target = shards.back().get();
        fresh.push_back(target->id);
        shards_opened.fetch_add(1);
      }
      target->assets.push_back(a);
      shard_of.emplace(a, target->id);
      added[target->id].push_back(a);
    }
    for (auto& [id, list] : added) {
      Shard& s = *shards[id];
      if (std::find(fresh.begin(), fresh.end(), id) != fresh.end()) continue;
      if (!s.connected) continue;  // the next connection subscribes to all of s.assets
      s.outbox.push_back(SubscriptionMessage(list, "subscribe"));
      Notify(s);
      Control(LiveMessage::Kind::kSubscribed, s, list);
    }
    for (uint32_t id : fresh) Spawn(*shards[id]);
  }

  void DoUnsubscribe(const std::vector<std::string>& assets) {
    std::map<uint32_t, std::vector<std::string>> removed;
    for (const std::string& a : assets) {
      auto it = shard_of.find(a);
      if (it == shard_of.end()) continue;
      Shard& s = *shards[it->second];
      s.assets.erase(std::remove(s.assets.begin(), s.assets.end(), a), s.assets.end());
      removed[it->second].push_back(a);
      shard_of.erase(it);
    }
    for (auto& [id, list] : removed) {
      Shard& s = *shards[id];
      Control(LiveMessage::Kind::kUnsubscribed, s, list);
      if (s.assets.empty()) {
        s.retired = true;
        if (s.abort) s.abort();
        s.backoff.cancel();
      } else if (s.connected) {
        s.outbox.push_back(SubscriptionMessage(list, "unsubscribe"));
        Notify(s);
      }
    }
  }
};

WsFeed::WsFeed(WsFeedOptions options, FrameQueue* queue)
    : impl_(std::make_unique<Impl>(std::move(options), queue)) {}

WsFeed::~WsFeed() { Stop(); }

void WsFeed::Start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->guard.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void WsFeed::Stop() {
  Impl& d = *impl_;
  if (!d.started || d.stopping.exchange(true)) return;
  asio::post(d.io, [&d] {
    for (auto& s : d.shards) {
      if (s->abort) s->abort();
      s->backoff.cancel();
      s->ping.cancel();
    }
    d.guard.reset();
  });
  // Connections close within moments; a peer that never answers does not hold us up.
  auto done = std::async(std::launch::async, [&d] { d.thread.join(); });
  if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) d.io.stop();
  done.wait();
}

void WsFeed::Subscribe(const std::vector<std::string>& assets) {
  asio::post(impl_->io, [this, assets] { impl_->DoSubscribe(assets); });
}

void WsFeed::Unsubscribe(const std::vector<std::string>& assets) {
  asio::post(impl_->io, [this, assets] { impl_->DoUnsubscribe(assets); });
}

void WsFeed::Reconnect(uint32_t shard) {
  if (shard < impl_->options.shard_id_base) return;
  shard -= impl_->options.shard_id_base;
  asio::post(impl_->io, [this, shard] {
    if (shard < impl_->shards.size() && impl_->shards[shard]->abort) impl_->shards[shard]->abort();
  });
}

WsFeedStats WsFeed::stats() const {
  const Impl& d = *impl_;
  WsFeedStats s;
  s.connects = d.connects.load();
  s.reconnects = d.reconnects.load();
  s.disconnects = d.disconnects.load();
  s.frames = d.frames.load();
  s.bytes = d.bytes.load();
  s.pings = d.pings.load();
  s.dropped = d.dropped.load();
  s.shards = d.shards_opened.load();
  return s;
}

}  // namespace polyhost
