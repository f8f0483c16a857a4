#include "obs/http_server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "obs/logging.h"

namespace polyhost::obs {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct MetricsServer::Impl {
  MetricsHandlers handlers;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<bool> stopped{false};
  uint16_t port = 0;

  void Accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          ModuleLogger("http")->warn("metrics server accept failed: {}", ec.message());
        }
      } else {
        Serve(std::move(socket));
      }
      if (!stopped.load()) Accept();
    });
  }

  // Answers one request synchronously; a client that sends nothing is cut off
  // after 5 s so it cannot hold the server.
  void Serve(tcp::socket socket) {
    timeval tv{5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req;
    boost::system::error_code ec;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(false);
    res.set(http::field::server, "polyhost");
    std::string target(req.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::content_type, "text/plain");
      res.body() = "only GET\n";
    } else if (target == "/metrics") {
      try {
        res.body() = handlers.metrics();
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      } catch (const std::exception& e) {
        res.result(http::status::internal_server_error);
        res.set(http::field::content_type, "text/plain");
        res.body() = std::string("metrics unavailable: ") + e.what() + "\n";
        ModuleLogger("http")->warn("metrics scrape failed: {}", e.what());
      }
    } else if (target == "/healthz") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain");
      res.body() = "ok\n";
    } else if (target == "/readyz") {
      std::string why;
      bool ready = false;
      try {
        ready = handlers.ready ? handlers.ready(&why) : true;
      } catch (const std::exception& e) {
        why = e.what();
      }
      res.result(ready ? http::status::ok : http::status::service_unavailable);
      res.set(http::field::content_type, "text/plain");
      res.body() = ready ? "ready\n" : "not ready: " + why + "\n";
    } else {
      res.result(http::status::not_found);
      res.set(http::field::content_type, "text/plain");
      res.body() = "not found; try /metrics, /healthz, /readyz\n";
    }
    if (req.method() == http::verb::head) {
      res.content_length(res.body().size());
      http::response<http::empty_body> head{res.result(), res.version()};
      for (const auto& f : res) head.set(f.name_string(), f.value());
      http::write(socket, head, ec);
    } else {
      res.prepare_payload();
      http::write(socket, res, ec);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
};

MetricsServer::MetricsServer(const std::string& host, uint16_t port, MetricsHandlers handlers)
    : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("metrics server: '" + host + "' is not an IP address");
  const tcp::endpoint endpoint(address, port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("metrics server: cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             ec.message());
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  // The server thread takes no signals: SIGINT/SIGTERM stay with the main thread
  // (default action, or its sigwait).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

MetricsServer::~MetricsServer() { Stop(); }

uint16_t MetricsServer::port() const { return impl_->port; }

void MetricsServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace polyhost::obs
