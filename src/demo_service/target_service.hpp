#pragma once
// The demo target service: the system under test that tells the seeds' stories — an LLM
// classify API (seed 000), a users API with an error endpoint (001), a product catalog whose
// recommendations query lacks its index and a checkout that depends on it (002) — with runtime
// fault injection, Prometheus metrics, a JSON access log and recent spans built in.
// Started by `trafficsim target` and, in-process, by the commands that need a target.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "demo_service/catalog_store.hpp"
#include "demo_service/demo_clock.hpp"
#include "http/server.hpp"
#include "telemetry/log_buffer.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::telemetry {
class Registry;
class OtlpExporter;
}

namespace trafficsim::demo_service {

struct TargetOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;            // 0: a free port
  std::filesystem::path data_dir;  // where catalog.sqlite lives (created when missing)
  int64_t catalog_rows = 500'000;
  std::string access_log = "-";  // "-" stdout, "off", or a file path (appended)
  std::string api_key;           // required as X-API-Key on /admin/* when not empty
  std::string catalog_url;       // what checkout calls; empty: this service itself
  DemoSettings demo;
  int threads = 0;  // io threads; 0: one per core
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds read_timeout{10'000};  // a request head/body, from its first byte
  // Concurrent connections served; beyond them a few more may ask /health/live (answered) or
  // anything else (503 + Retry-After), and past those a connection is closed at once. Both are
  // counted in /metrics (http_server_connections_refused_total, ..._rejected_requests_total).
  size_t max_connections = 20'000;
  std::chrono::milliseconds checkout_timeout{5'000};         // checkout -> recommendations
  std::chrono::milliseconds recommendations_timeout{5'000};  // queue wait + scan, server side
  std::chrono::milliseconds products_timeout{2'000};         // queue wait + indexed query
  int indexed_threads = 4;
  size_t indexed_queue = 1024;
  int scan_threads = 0;  // 0: half the cores, at least 1 (the scan pool is meant to be small)
  size_t scan_queue = 16;
  size_t users_capacity = 10'000;
  size_t span_capacity = 8192;
  size_t log_capacity = 2048;  // recent log records kept for the dashboard's Logs page
  // When set, every server span, database child span and access-log record is also queued here
  // (OTLP export), and the service's metrics are exported from its registry.
  std::shared_ptr<telemetry::OtlpExporter> exporter;
  uint64_t seed = 0;                 // 0: from the clock
  std::function<double()> now_unix;  // injected clock (unix seconds) for tests; empty: system
  // Sees every request first; when it returns true it has answered (or will answer) the request
  // and the service neither routes, measures, logs nor traces it: how `trafficsim demo` serves
  // its control API and dashboard on the target's port without changing what the target
  // measures. Called on an io thread.
  std::function<bool(const std::shared_ptr<const http::ServerRequest>&, const http::Reply&)>
      front_handler;
};

class TargetError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class TargetService {
 public:
  // Prepares the catalog (generates it on first use: seconds) and binds the listening socket.
  // Throws TargetError with a message naming what is wrong (catalog, address, log file).
  explicit TargetService(TargetOptions options);
  ~TargetService();
  TargetService(const TargetService&) = delete;
  TargetService& operator=(const TargetService&) = delete;

  void start();
  void stop();  // idempotent; in-flight work is cancelled, the access log flushed

  uint16_t port() const;
  std::string url() const;
  const CatalogInfo& catalog_info() const;
  telemetry::Registry& registry();
  // The recent spans (GET /debug/traces) and log records (one per request, the access log's
  // fields) the dashboard's Traces and Logs pages read.
  const telemetry::SpanBuffer& spans() const;
  const telemetry::LogBuffer& logs() const;
  // The Black Friday story starts over on this clock (what POST /admin/demo does); throws
  // std::invalid_argument naming a bad field.
  void start_demo(const core::DemoClockSpec& clock);
  DemoSettings demo_settings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::demo_service
