#pragma once
// Internal to the demo service (not for other modules): what the request pipeline
// (request_pipeline.cpp), the service's metrics (service_metrics.cpp) and the routes of each
// domain (routes_llm.cpp, routes_users.cpp, routes_catalog.cpp, routes_checkout.cpp,
// routes_admin.cpp) share — the request in flight, the service's state, and the few response
// and query-parameter helpers every route uses.
//
// A request's path: Impl::handle (route -> admin key -> faults) -> a route's handler ->
// Impl::respond, the one place that records metrics, the span and the access-log line, so every
// answer — handler, fault, 404 or 503 — is observed the same way.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/random.hpp"
#include "core/trace_context.hpp"
#include "demo_service/catalog_store.hpp"
#include "demo_service/demo_clock.hpp"
#include "demo_service/fault_registry.hpp"
#include "demo_service/query_pool.hpp"
#include "demo_service/service_metrics.hpp"
#include "demo_service/target_service.hpp"
#include "demo_service/users_store.hpp"
#include "http/api_error.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "telemetry/line_writer.hpp"
#include "telemetry/log_buffer.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/span.hpp"
#include "telemetry/windowed_ratio.hpp"

namespace trafficsim::demo_service {

using Clock = std::chrono::steady_clock;

// One request in flight, from routing to respond(). Handlers add span attributes and child
// spans; they run one after another (io thread, then maybe a pool thread), never concurrently.
struct Exchange {
  std::shared_ptr<const http::ServerRequest> request;
  http::Reply reply;
  std::string_view route = "unmatched";
  std::string_view traffic_type;
  std::string id_param;  // {id} / {name}
  Clock::time_point started;
  double started_unix = 0;
  core::TraceContext trace;
  core::SpanId parent_span_id{};
  boost::json::object attributes;
  std::vector<telemetry::Span> children;
  std::atomic<bool> done{false};

  explicit Exchange(std::shared_ptr<const http::ServerRequest> r, http::Reply rep)
      : request(std::move(r)), reply(std::move(rep)) {}
};
using ExchangePtr = std::shared_ptr<Exchange>;
using Handler = std::function<void(const ExchangePtr&)>;

// ----- what every route uses (route_params.cpp) -----

http::ServerResponse json_response(int status, const boost::json::value& body);
http::ServerResponse error_response(const http::ApiError& e);
// 400 "invalid_query" naming the parameter.
http::ApiError query_error(std::string field, std::string message);
// A query parameter as an integer in [lo, hi], or def when absent.
std::variant<int64_t, http::ApiError> int_param(std::string_view query, std::string_view name,
                                                int64_t def, int64_t lo, int64_t hi);
// A query parameter as a finite number in [lo, hi], or def when absent.
std::variant<double, http::ApiError> number_param(std::string_view query, std::string_view name,
                                                  double def, double lo, double hi);
// ?category=: 1-64 letters, digits, '-' or '_'; "electronics" when absent.
std::variant<std::string, http::ApiError> category_param(std::string_view query);

// The service's state. Built once by TargetService (target_service.cpp), then shared by the io
// threads and the catalog's pool threads: everything here is thread-safe or immutable after
// construction.
struct TargetService::Impl {
  TargetOptions options;
  std::function<double()> now;  // unix seconds
  uint64_t seed;
  std::atomic<uint64_t> draws{0};
  Clock::time_point started_at = Clock::now();
  CatalogInfo catalog_info;

  telemetry::Registry registry;
  std::unique_ptr<ServiceMetrics> m;
  std::unique_ptr<ServerCounterMetrics> server_metrics;

  telemetry::SpanBuffer spans;
  telemetry::LogBuffer logs;
  std::unique_ptr<telemetry::AsyncLineWriter> access_log;
  uint64_t access_log_dropped_reported = 0;
  std::mutex collect_mu;
  DemoClock clock;
  UsersStore users;
  FaultRegistry faults;
  telemetry::WindowedRatio llm_window{60};
  std::atomic<uint64_t> llm_requests{0}, llm_errors{0}, llm_input_tokens{0}, llm_output_tokens{0};

  http::Router<Handler> router;
  std::unique_ptr<http::Server> server;
  std::string self_url;
  // Declared last: destroyed first, so its pool threads are joined while everything their
  // callbacks touch still exists.
  std::unique_ptr<CatalogService> catalog;

  explicit Impl(TargetOptions o);
  void register_metrics();  // service_metrics.cpp
  void register_routes();   // request_pipeline.cpp: every domain's add_*_routes()

  uint64_t random_bits() {
    return core::mix64(seed +
                       0x9e3779b97f4a7c15ULL * draws.fetch_add(1, std::memory_order_relaxed));
  }
  double mono_seconds() const {
    return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  }
  // A member function as a route handler.
  Handler bind(void (Impl::*fn)(const ExchangePtr&)) {
    return Handler([this, fn](const ExchangePtr& ex) { (this->*fn)(ex); });
  }

  // The request pipeline (request_pipeline.cpp).
  void handle(std::shared_ptr<const http::ServerRequest> request, http::Reply reply);
  void run_handler(const ExchangePtr& ex, const Handler& handler, std::optional<FaultAbort> abort);
  void respond(const ExchangePtr& ex, http::ServerResponse response);

  // LLM classify, seed 000 (routes_llm.cpp).
  void add_llm_routes();
  void classify(const ExchangePtr& ex);
  void debug_llm(const ExchangePtr& ex);

  // Users, seed 001 (routes_users.cpp).
  void add_users_routes();
  void users_list(const ExchangePtr& ex);
  void users_create(const ExchangePtr& ex);
  void users_get(const ExchangePtr& ex);
  void users_patch(const ExchangePtr& ex);
  void users_error(const ExchangePtr& ex);

  // Catalog, seed 002 (routes_catalog.cpp).
  void add_catalog_routes();
  void products(const ExchangePtr& ex);
  void recommendations(const ExchangePtr& ex);
  // The database metrics, span attributes and child span of one catalog query.
  void record_db(const ExchangePtr& ex, std::string_view query, std::string_view pool,
                 const QueryResult& r, std::string_view sql);

  // Checkout, seed 002: calls recommendations over HTTP (routes_checkout.cpp).
  void add_checkout_routes();
  void checkout(const ExchangePtr& ex);

  // Health, metrics, debug traces and fault administration (routes_admin.cpp).
  void add_admin_routes();
  void health(const ExchangePtr& ex);
  void debug_traces(const ExchangePtr& ex);
  void faults_list(const ExchangePtr& ex);
  void faults_put(const ExchangePtr& ex);
  void faults_delete(const ExchangePtr& ex);
  void faults_clear(const ExchangePtr& ex);
  void demo_get(const ExchangePtr& ex);
  void demo_start(const ExchangePtr& ex);
  void demo_stop(const ExchangePtr& ex);
};

}  // namespace trafficsim::demo_service
