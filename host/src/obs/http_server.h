// A small HTTP/1.1 server for scrapes: GET /metrics (Prometheus text exposition),
// /healthz (the process is serving) and /readyz (ready for work, else 503 with
// why). One background thread; each request is answered and the connection
// closed, which is all Prometheus and probes need.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace polyhost::obs {

struct MetricsHandlers {
  // The exposition text; an exception becomes a 500 with its message.
  std::function<std::string()> metrics;
  // true when ready; otherwise *why says what is missing.
  std::function<bool(std::string* why)> ready;
};

class MetricsServer {
 public:
  // Binds host:port (0: any free port) and starts serving. Throws
  // std::runtime_error naming the address when it cannot bind.
  MetricsServer(const std::string& host, uint16_t port, MetricsHandlers handlers);
  ~MetricsServer();  // stops and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const;
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace polyhost::obs
