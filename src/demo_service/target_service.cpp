// TargetService: builds the service (catalog, access log, metrics, routes, server, query pools)
// and starts and stops it. The request path is in request_pipeline.cpp, the routes in
// routes_*.cpp, the metrics in service_metrics.cpp; service_impl.hpp is what they share.
#include "demo_service/target_service.hpp"

#include <algorithm>
#include <thread>

#include "core/clock.hpp"
#include "demo_service/service_impl.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

namespace {

int default_scan_threads() {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max(1u, cores / 2));
}

}  // namespace

TargetService::Impl::Impl(TargetOptions o)
    : options(std::move(o)),
      now(options.now_unix ? options.now_unix : std::function<double()>(core::unix_now_s)),
      seed(options.seed != 0 ? options.seed
                             : static_cast<uint64_t>(Clock::now().time_since_epoch().count())),
      spans(options.span_capacity),
      logs(options.log_capacity),
      clock(options.demo, now),
      users(options.users_capacity),
      faults(now) {
  try {
    catalog_info = prepare_catalog(CatalogOptions{options.data_dir, options.catalog_rows, 1});
  } catch (const CatalogError& e) {
    throw TargetError(e.what());
  }
  if (options.access_log != "off") {
    try {
      access_log = options.access_log == "-"
                       ? std::make_unique<telemetry::AsyncLineWriter>(1, false)
                       : telemetry::AsyncLineWriter::open_file(options.access_log);
    } catch (const std::exception& e) {
      throw TargetError(std::string("--access-log: ") + e.what());
    }
  }
  register_metrics();
  register_routes();
  try {
    http::ServerOptions so;
    so.host = options.host;
    so.port = options.port;
    so.threads = options.threads;
    so.idle_timeout = options.idle_timeout;
    so.read_timeout = options.read_timeout;
    so.max_connections = options.max_connections;
    // A liveness probe must get through while the cap is full of idle or slow clients.
    so.overload_paths = {"/health/live"};
    server = std::make_unique<http::Server>(
        so, [this](std::shared_ptr<const ServerRequest> req, http::Reply reply) {
          handle(std::move(req), std::move(reply));
        });
  } catch (const std::exception& e) {
    throw TargetError(e.what());
  }
  self_url = server->url();
  try {
    CatalogService::Options co;
    co.db_path = catalog_info.path;
    co.indexed_threads = options.indexed_threads;
    co.indexed_queue = options.indexed_queue;
    co.scan_threads = options.scan_threads > 0 ? options.scan_threads : default_scan_threads();
    co.scan_queue = options.scan_queue;
    catalog = std::make_unique<CatalogService>(co);
  } catch (const CatalogError& e) {
    throw TargetError(e.what());
  }
  // Last: nothing below throws, so the source never outlives a half-built service.
  if (options.exporter) {
    // The exporter's own counts on /metrics, and this registry as its OTLP metrics (sums,
    // gauges, histograms); cleared in stop() before the registry can go away.
    options.exporter->register_metrics(registry);
    const uint64_t start_ns = static_cast<uint64_t>(now() * 1e9);
    options.exporter->set_metrics_source([this, start_ns] {
      return telemetry::metrics_from_registry(registry, start_ns,
                                              static_cast<uint64_t>(now() * 1e9));
    });
  }
}

// ---------------------------------------------------------------------------------------------

TargetService::TargetService(TargetOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

TargetService::~TargetService() {
  stop();
  if (impl_ && impl_->options.exporter) impl_->options.exporter->set_metrics_source({});
}

void TargetService::start() {
  impl_->server->start();
}

void TargetService::stop() {
  if (!impl_ || !impl_->server) return;
  impl_->server->stop();
  impl_->catalog.reset();  // joins the pools; their last callbacks answer nobody
  if (impl_->access_log) impl_->access_log->flush(std::chrono::seconds(2));
}

uint16_t TargetService::port() const {
  return impl_->server->port();
}
std::string TargetService::url() const {
  return impl_->server->url();
}
const CatalogInfo& TargetService::catalog_info() const {
  return impl_->catalog_info;
}
telemetry::Registry& TargetService::registry() {
  return impl_->registry;
}
const telemetry::SpanBuffer& TargetService::spans() const {
  return impl_->spans;
}
const telemetry::LogBuffer& TargetService::logs() const {
  return impl_->logs;
}
void TargetService::start_demo(const core::DemoClockSpec& clock) {
  impl_->clock.start(clock);
}
DemoSettings TargetService::demo_settings() const {
  return impl_->clock.settings();
}

}  // namespace trafficsim::demo_service
