// The target's request path: route -> (admin key) -> faults -> handler -> respond(), where
// respond() is the one place that records metrics, the span and the access-log line, so every
// answer — handler, fault, 404 or 503 — is observed the same way.
#include "demo_service/target_service.hpp"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <ctime>

#include "core/json_text.hpp"
#include "core/random.hpp"
#include "core/trace_context.hpp"
#include "http/async_client.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/api_error.hpp"
#include "demo_service/catalog_sql.hpp"
#include "demo_service/fault_registry.hpp"
#include "demo_service/llm_classifier.hpp"
#include "demo_service/query_pool.hpp"
#include "http/query_string.hpp"
#include "demo_service/users_store.hpp"
#include "telemetry/line_writer.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/windowed_ratio.hpp"
#include "telemetry/span.hpp"

#ifndef TRAFFICSIM_VERSION
#define TRAFFICSIM_VERSION "dev"
#endif

namespace trafficsim::demo_service {

using http::query_param;

namespace json = boost::json;
using http::ServerRequest;
using http::ServerResponse;
using Clock = std::chrono::steady_clock;

namespace {

// X-Traffic-Type values kept as label values; anything else folds into "other" so a client
// cannot blow up the metrics' cardinality.
constexpr std::array<std::string_view, 16> kTrafficTypes = {
    "baseline",
    "demo",
    "checkout",
    "synthetic",
    "normal",
    "peak",
    "error",
    "latency",
    "stress",
    "HACKATHON_TRAFFIC",
    "HACKATHON_TRAFFIC_NORMAL_TRAFFIC",
    "HACKATHON_TRAFFIC_LATENCY_INJECTION",
    "HACKATHON_TRAFFIC_ERROR_INJECTION",
    "HACKATHON_TRAFFIC_TOKEN_BLOAT",
    "load",
    "test",
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view canonical_traffic_type(std::optional<std::string_view> header) {
  if (!header) return "none";
  std::string_view v = *header;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return "none";
  for (auto t : kTrafficTypes)
    if (iequals(t, v)) return t;
  return "other";
}

std::string_view method_label(std::string_view m) {
  static constexpr std::array<std::string_view, 7> known = {"GET",    "POST", "PUT",    "PATCH",
                                                            "DELETE", "HEAD", "OPTIONS"};
  for (auto k : known)
    if (k == m) return k;
  return "OTHER";
}

double system_now_unix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string iso_time(double unix_seconds) {
  auto secs = static_cast<std::time_t>(unix_seconds);
  int ms = static_cast<int>((unix_seconds - static_cast<double>(secs)) * 1000.0);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

ServerResponse json_response(int status, const json::value& body) {
  return ServerResponse{status, "application/json", core::json_text(body), {}, false};
}

ServerResponse error_response(const ApiError& e) {
  return json_response(e.status, e.to_json());
}

ApiError query_error(std::string field, std::string message) {
  return ApiError{400, "invalid_query", std::move(field), std::move(message)};
}

// A query parameter as an integer in [lo, hi], or def when absent.
std::variant<int64_t, ApiError> int_param(std::string_view query, std::string_view name,
                                          int64_t def, int64_t lo, int64_t hi) {
  auto v = query_param(query, name);
  if (!v) return def;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
    return query_error(std::string(name), fmt::format("query parameter '{}' must be an integer "
                                                      "from {} to {}",
                                                      name, lo, hi));
  return static_cast<int64_t>(n);
}

std::variant<double, ApiError> number_param(std::string_view query, std::string_view name,
                                            double def, double lo, double hi) {
  auto v = query_param(query, name);
  if (!v) return def;
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(d) || d < lo || d > hi)
    return query_error(
        std::string(name),
        fmt::format("query parameter '{}' must be a number from {} to {}", name, lo, hi));
  return d;
}

std::variant<std::string, ApiError> category_param(std::string_view query) {
  auto v = query_param(query, "category");
  if (!v) return std::string("electronics");
  bool ok = !v->empty() && v->size() <= 64;
  for (char c : *v)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!ok)
    return query_error("category",
                       "query parameter 'category' must be 1-64 letters, digits, '-' or '_'");
  return *v;
}

json::object product_json(const Product& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"category", p.category},
          {"price", std::round(p.price * 100.0) / 100.0},
          {"popularity", p.popularity},
          {"active", p.active}};
}

bool observability_route(std::string_view route) {
  return route.starts_with("/health") || route == "/metrics" || route.starts_with("/admin") ||
         route.starts_with("/debug");
}

}  // namespace

// One request in flight, from routing to respond(). Handlers add span attributes and child
// spans; they run one after another (io thread, then maybe a pool thread), never concurrently.
struct Exchange {
  std::shared_ptr<const ServerRequest> request;
  http::Reply reply;
  std::string_view route = "unmatched";
  std::string_view traffic_type;
  std::string id_param;  // {id} / {name}
  Clock::time_point started;
  double started_unix = 0;
  core::TraceContext trace;
  core::SpanId parent_span_id{};
  json::object attributes;
  std::vector<telemetry::Span> children;
  std::atomic<bool> done{false};

  explicit Exchange(std::shared_ptr<const ServerRequest> r, http::Reply rep)
      : request(std::move(r)), reply(std::move(rep)) {}
};
using ExchangePtr = std::shared_ptr<Exchange>;
using Handler = std::function<void(const ExchangePtr&)>;

struct TargetService::Impl {
  TargetOptions options;
  std::function<double()> now;
  uint64_t seed;
  std::atomic<uint64_t> draws{0};
  Clock::time_point started_at = Clock::now();
  CatalogInfo catalog_info;

  telemetry::Registry registry;
  struct Metrics {
    telemetry::CounterFamily& http_requests;
    telemetry::HistogramFamily& http_duration;
    telemetry::HistogramFamily& llm_duration;
    telemetry::CounterFamily& llm_tokens;
    telemetry::HistogramFamily& llm_tokens_per_request;
    telemetry::CounterFamily& llm_requests;
    telemetry::CounterFamily& llm_errors;
    telemetry::GaugeFamily& llm_error_rate;
    telemetry::HistogramFamily& db_duration;
    telemetry::CounterFamily& db_rows_scanned;
    telemetry::HistogramFamily& db_pool_wait;
    telemetry::CounterFamily& db_queries;
    telemetry::GaugeFamily& db_pool_queued;
    telemetry::GaugeFamily& db_pool_busy;
    telemetry::CounterFamily& recommendation_scripted_failures;
    telemetry::CounterFamily& checkout_requests;
    telemetry::CounterFamily& checkout_failures;
    telemetry::CounterFamily& fault_hits;
    telemetry::GaugeFamily& demo_minute;
    telemetry::GaugeFamily& demo_phase;
    telemetry::GaugeFamily& connections_open;
    telemetry::CounterFamily& access_log_dropped;
  };
  std::unique_ptr<Metrics> m;

  telemetry::SpanBuffer spans;
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
  void register_metrics();
  void register_routes();

  uint64_t random_bits() {
    return core::mix64(seed +
                       0x9e3779b97f4a7c15ULL * draws.fetch_add(1, std::memory_order_relaxed));
  }
  double mono_seconds() const {
    return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  }

  void handle(std::shared_ptr<const ServerRequest> request, http::Reply reply);
  void run_handler(const ExchangePtr& ex, const Handler& handler, std::optional<FaultAbort> abort);
  void respond(const ExchangePtr& ex, ServerResponse response);
  void record_db(const ExchangePtr& ex, std::string_view query, std::string_view pool,
                 const QueryResult& r, std::string_view sql);

  // Handlers.
  void classify(const ExchangePtr& ex);
  void users_list(const ExchangePtr& ex);
  void users_create(const ExchangePtr& ex);
  void users_get(const ExchangePtr& ex);
  void users_patch(const ExchangePtr& ex);
  void users_error(const ExchangePtr& ex);
  void products(const ExchangePtr& ex);
  void recommendations(const ExchangePtr& ex);
  void checkout(const ExchangePtr& ex);
  void health(const ExchangePtr& ex);
  void debug_llm(const ExchangePtr& ex);
  void debug_traces(const ExchangePtr& ex);
  void faults_list(const ExchangePtr& ex);
  void faults_put(const ExchangePtr& ex);
  void faults_delete(const ExchangePtr& ex);
  void faults_clear(const ExchangePtr& ex);
};

// ---------------------------------------------------------------------------------------------
// Construction

static int default_scan_threads() {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max(1u, cores / 2));
}

TargetService::Impl::Impl(TargetOptions o)
    : options(std::move(o)),
      now(options.now_unix ? options.now_unix : std::function<double()>(system_now_unix)),
      seed(options.seed != 0 ? options.seed
                             : static_cast<uint64_t>(Clock::now().time_since_epoch().count())),
      spans(options.span_capacity),
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
}

void TargetService::Impl::register_metrics() {
  using telemetry::exponential_buckets;
  std::vector<double> latency = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10,   30};
  m.reset(new Metrics{
      registry.counter("http_requests_total", "HTTP requests answered, by route template.",
                       {"endpoint", "method", "status", "traffic_type"}),
      registry.histogram("http_request_duration_seconds",
                         "Time from receiving a request to answering it.",
                         {"endpoint", "method", "traffic_type"}, latency),
      registry.histogram("llm_request_duration_seconds",
                         "Latency of /hackathon/classify as its callers see it (model time "
                         "plus injected delays).",
                         {"model", "traffic_type"}, {0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 3, 5, 10, 30}),
      registry.counter("llm_tokens_used_total", "LLM tokens used, by direction.",
                       {"type", "traffic_type"}),
      registry.histogram("llm_tokens_per_request", "Input plus output tokens per LLM request.",
                         {"traffic_type"}, exponential_buckets(50, 2, 10)),
      registry.counter("llm_requests_total", "LLM classify requests answered.", {"traffic_type"}),
      registry.counter("llm_errors_total", "LLM classify requests answered with 4xx or 5xx.",
                       {"traffic_type", "status"}),
      registry.gauge("llm_error_rate",
                     "Share of LLM classify requests that failed over the "
                     "last minute (0-1)."),
      registry.histogram("db_query_duration_seconds", "Catalog query execution time.",
                         {"query", "index_used"},
                         {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}),
      registry.counter("db_rows_scanned_total", "Rows the catalog queries visited.",
                       {"query", "index_used"}),
      registry.histogram("db_pool_wait_seconds", "Time a query waited for a pool connection.",
                         {"pool"}, latency),
      registry.counter("db_queries_total", "Catalog queries by pool and outcome.",
                       {"pool", "outcome"}),
      registry.gauge("db_pool_queued", "Queries waiting for a connection.", {"pool"}),
      registry.gauge("db_pool_busy", "Connections running a query.", {"pool"}),
      registry.counter("recommendations_scripted_failures_total",
                       "Recommendations failed by the demo timeline.", {"phase"}),
      registry.counter("checkout_requests_total", "Checkouts answered, by result.", {"result"}),
      registry.counter("checkout_failures_total", "Checkouts that failed, by reason.", {"reason"}),
      registry.counter("fault_hits_total", "Requests a named fault acted on.", {"fault", "kind"}),
      registry.gauge("demo_minute", "Black Friday demo minute (0 when demo mode is off)."),
      registry.gauge("demo_phase", "1 for the current demo phase.", {"phase"}),
      registry.gauge("http_connections_open", "Open client connections."),
      registry.counter("access_log_dropped_lines_total",
                       "Access-log lines dropped because the writer fell behind."),
  });
  registry.on_collect([this] {
    std::lock_guard lock(collect_mu);
    auto w = llm_window.totals(mono_seconds());
    m->llm_error_rate.with({}).set(w.ratio());
    if (catalog) {
      auto is = catalog->indexed_stats();
      auto ss = catalog->scan_stats();
      m->db_pool_queued.with({"indexed"}).set(static_cast<double>(is.queued));
      m->db_pool_busy.with({"indexed"}).set(static_cast<double>(is.busy));
      m->db_pool_queued.with({"scan"}).set(static_cast<double>(ss.queued));
      m->db_pool_busy.with({"scan"}).set(static_cast<double>(ss.busy));
    }
    double minute = clock.settings().enabled ? clock.minute() : 0.0;
    m->demo_minute.with({}).set(minute);
    auto current = clock.rule().phase;
    for (const auto& rule : demo_phase_table())
      m->demo_phase.with({demo_phase_name(rule.phase)})
          .set(clock.settings().enabled && rule.phase == current ? 1 : 0);
    if (server)
      m->connections_open.with({}).set(static_cast<double>(server->counters().connections_open));
    if (access_log) {
      uint64_t dropped = access_log->dropped_lines();
      m->access_log_dropped.with({}).inc(
          static_cast<double>(dropped - access_log_dropped_reported));
      access_log_dropped_reported = dropped;
    }
  });
}

void TargetService::Impl::register_routes() {
  auto h = [this](void (Impl::*fn)(const ExchangePtr&)) {
    return Handler([this, fn](const ExchangePtr& ex) { (this->*fn)(ex); });
  };
  router.add("GET", "/health", h(&Impl::health));
  router.add("GET", "/health/live", Handler([this](const ExchangePtr& ex) {
               respond(ex, ServerResponse{200, "application/json", "{\"status\":\"alive\"}"});
             }));
  router.add("GET", "/health/ready", Handler([this](const ExchangePtr& ex) {
               bool ready = catalog != nullptr;
               respond(ex, json_response(ready ? 200 : 503,
                                         json::object{{"status", ready ? "ready" : "starting"},
                                                      {"catalog_rows", catalog_info.rows}}));
             }));
  router.add("GET", "/metrics", Handler([this](const ExchangePtr& ex) {
               respond(ex, ServerResponse{200, std::string(telemetry::kPrometheusContentType),
                                          registry.expose()});
             }));
  router.add("GET", "/debug/llm", h(&Impl::debug_llm));
  router.add("GET", "/debug/traces", h(&Impl::debug_traces));
  router.add("POST", "/hackathon/classify", h(&Impl::classify));
  router.add("GET", "/api/v1/users", h(&Impl::users_list));
  router.add("POST", "/api/v1/users", h(&Impl::users_create));
  router.add("GET", "/api/v1/users/error", h(&Impl::users_error));
  router.add("GET", "/api/v1/users/{id}", h(&Impl::users_get));
  router.add("PATCH", "/api/v1/users/{id}", h(&Impl::users_patch));
  router.add("GET", "/products", h(&Impl::products));
  router.add("GET", "/products/recommendations", h(&Impl::recommendations));
  router.add("POST", "/checkout", h(&Impl::checkout));
  router.add("GET", "/admin/faults", h(&Impl::faults_list));
  router.add("POST", "/admin/faults", h(&Impl::faults_put));
  router.add("DELETE", "/admin/faults", h(&Impl::faults_clear));
  router.add("POST", "/admin/faults/reset", h(&Impl::faults_clear));
  router.add("DELETE", "/admin/faults/{name}", h(&Impl::faults_delete));
}

// ---------------------------------------------------------------------------------------------
// The request path

void TargetService::Impl::handle(std::shared_ptr<const ServerRequest> request, http::Reply reply) {
  auto ex = std::make_shared<Exchange>(std::move(request), std::move(reply));
  const ServerRequest& req = *ex->request;
  ex->started = Clock::now();
  ex->started_unix = now();
  ex->traffic_type = canonical_traffic_type(req.header("X-Traffic-Type"));
  if (auto tp = req.header("traceparent"); tp) {
    if (auto parent = core::parse_traceparent(*tp)) {
      ex->trace.trace_id = parent->trace_id;
      ex->trace.flags = parent->flags;
      ex->parent_span_id = parent->span_id;
    }
  }
  ex->trace.span_id = core::random_span_id();
  if (!ex->trace.valid()) ex->trace.trace_id = core::random_trace_id();  // no usable parent

  auto match = router.match(req.method, req.path());
  if (match.kind == http::Router<Handler>::Match::Kind::not_found) {
    return respond(
        ex, error_response(ApiError{404, "not_found", "path",
                                    fmt::format("no route for {} {}", req.method, req.path())}));
  }
  if (match.kind == http::Router<Handler>::Match::Kind::method_not_allowed) {
    std::string allow;
    for (auto m : match.allowed) allow += (allow.empty() ? "" : ", ") + std::string(m);
    auto r = error_response(ApiError{
        405, "method_not_allowed", "method",
        fmt::format("{} is not allowed on {}; allowed: {}", req.method, req.path(), allow)});
    r.headers.emplace_back("Allow", allow);
    return respond(ex, std::move(r));
  }
  ex->route = match.route;
  if (match.param_count > 0) ex->id_param = std::string(match.params[0].second);
  const Handler& handler = *match.handler;

  if (ex->route.starts_with("/admin") && !options.api_key.empty()) {
    auto key = req.header("X-API-Key");
    if (!key || *key != options.api_key)
      return respond(ex, error_response(ApiError{401, "unauthorized", "X-API-Key",
                                                 "a valid X-API-Key header is required"}));
  }
  if (observability_route(ex->route) || faults.empty()) return run_handler(ex, handler, {});

  FaultDecision decision = faults.evaluate(req.method, ex->route, req.path(), random_bits());
  for (const auto& [name, kind] : decision.applied) m->fault_hits.with({name, kind}).inc();
  if (!decision.applied.empty()) {
    json::array names;
    for (const auto& [name, kind] : decision.applied) names.emplace_back(name + ":" + kind);
    ex->attributes["fault.applied"] = json::serialize(names);
  }
  if (decision.delay.count() > 0) {
    ex->attributes["fault.delay_ms"] = decision.delay.count() / 1000.0;
    server->after(decision.delay, [this, ex, &handler, abort = std::move(decision.abort)] {
      run_handler(ex, handler, abort);
    });
    return;
  }
  run_handler(ex, handler, std::move(decision.abort));
}

void TargetService::Impl::run_handler(const ExchangePtr& ex, const Handler& handler,
                                      std::optional<FaultAbort> abort) {
  if (abort) {
    ServerResponse r{abort->status, abort->content_type, abort->body};
    return respond(ex, std::move(r));
  }
  try {
    handler(ex);
  } catch (const std::exception& e) {
    respond(ex, error_response(ApiError{500, "internal_error", "", e.what()}));
  }
}

void TargetService::Impl::respond(const ExchangePtr& ex, ServerResponse response) {
  if (ex->done.exchange(true)) return;
  const ServerRequest& req = *ex->request;
  double seconds = std::chrono::duration<double>(Clock::now() - ex->started).count();
  // A request whose client went away is recorded the way nginx logs it.
  int status = ex->reply.cancelled() ? 499 : response.status;
  auto method = method_label(req.method);
  auto status_text = std::to_string(status);
  m->http_requests.with({ex->route, method, status_text, ex->traffic_type}).inc();
  m->http_duration.with({ex->route, method, ex->traffic_type}).observe(seconds);
  if (ex->route == "/hackathon/classify") {
    bool failed = status >= 400;
    m->llm_duration.with({kLlmModel, ex->traffic_type}).observe(seconds);
    m->llm_requests.with({ex->traffic_type}).inc();
    llm_requests.fetch_add(1, std::memory_order_relaxed);
    if (failed) {
      m->llm_errors.with({ex->traffic_type, status_text}).inc();
      llm_errors.fetch_add(1, std::memory_order_relaxed);
    }
    llm_window.record(failed, mono_seconds());
  }

  telemetry::Span span;
  span.trace_id = ex->trace.trace_id;
  span.span_id = ex->trace.span_id;
  span.parent_span_id = ex->parent_span_id;
  span.name = std::string(method) + " " + std::string(ex->route);
  span.kind = telemetry::SpanKind::server;
  span.start_unix_nano = static_cast<uint64_t>(ex->started_unix * 1e9);
  span.end_unix_nano = span.start_unix_nano + static_cast<uint64_t>(seconds * 1e9);
  span.status = status >= 500 ? telemetry::SpanStatusCode::error : telemetry::SpanStatusCode::unset;
  span.attributes = std::move(ex->attributes);
  span.attributes["http.request.method"] = req.method;
  span.attributes["http.route"] = ex->route;
  span.attributes["url.path"] = req.path();
  span.attributes["http.response.status_code"] = status;
  span.attributes["traffic.type"] = ex->traffic_type;
  for (auto& child : ex->children) spans.add(std::move(child));
  spans.add(std::move(span));

  if (access_log) {
    json::object line{{"time", iso_time(ex->started_unix + seconds)},
                      {"traffic_type", ex->traffic_type},
                      {"method", req.method},
                      {"endpoint", ex->route},
                      {"path", req.path()},
                      {"status", status},
                      {"latency_ms", std::round(seconds * 1e6) / 1e3},
                      {"trace_id", core::to_hex(ex->trace.trace_id)},
                      {"span_id", core::to_hex(ex->trace.span_id)}};
    access_log->write(core::json_text(line));
  }
  response.headers.emplace_back("X-Trace-Id", core::to_hex(ex->trace.trace_id));
  ex->reply.send(std::move(response));
}

// ---------------------------------------------------------------------------------------------
// LLM classify (seed 000)

void TargetService::Impl::classify(const ExchangePtr& ex) {
  const ServerRequest& req = *ex->request;
  auto parsed = parse_classify_request(req.body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return respond(ex, error_response(*e));
  auto delay = parse_fault_delay_ms(req.header("X-Fault-Delay-Ms").value_or(""));
  if (auto* e = std::get_if<ApiError>(&delay)) return respond(ex, error_response(*e));
  int64_t fault_ms = std::get<int64_t>(delay);
  const auto& email = std::get<ClassifyRequest>(parsed);
  Classification c = classify_email(email, random_bits());
  int64_t total_ms = c.model_latency_ms + fault_ms;

  auto tt = ex->traffic_type;
  m->llm_tokens.with({"input", tt}).inc(static_cast<double>(c.input_tokens));
  m->llm_tokens.with({"output", tt}).inc(static_cast<double>(c.output_tokens));
  m->llm_tokens_per_request.with({tt}).observe(
      static_cast<double>(c.input_tokens + c.output_tokens));
  llm_input_tokens.fetch_add(static_cast<uint64_t>(c.input_tokens), std::memory_order_relaxed);
  llm_output_tokens.fetch_add(static_cast<uint64_t>(c.output_tokens), std::memory_order_relaxed);
  ex->attributes["gen_ai.provider.name"] = kLlmProvider;
  ex->attributes["gen_ai.request.model"] = kLlmModel;
  ex->attributes["gen_ai.usage.input_tokens"] = c.input_tokens;
  ex->attributes["gen_ai.usage.output_tokens"] = c.output_tokens;
  ex->attributes["llm.category"] = c.category;
  if (fault_ms > 0) ex->attributes["fault.delay_ms"] = fault_ms;

  json::object body{
      {"category", c.category},
      {"confidence", std::round(c.confidence * 1000.0) / 1000.0},
      {"model", kLlmModel},
      {"provider", kLlmProvider},
      {"tokens", json::object{{"input", c.input_tokens}, {"output", c.output_tokens}}},
      {"latency_ms", total_ms}};
  server->after(std::chrono::milliseconds(total_ms),
                [this, ex, body = std::move(body)] { respond(ex, json_response(200, body)); });
}

// ---------------------------------------------------------------------------------------------
// Users (seed 001)

void TargetService::Impl::users_list(const ExchangePtr& ex) {
  auto page = users.list(ex->request->query());
  if (auto* e = std::get_if<ApiError>(&page)) return respond(ex, error_response(*e));
  const auto& p = std::get<UsersStore::Page>(page);
  json::array items;
  for (const auto& u : p.users) items.push_back(user_to_json(u));
  respond(ex, json_response(200, json::object{{"users", std::move(items)},
                                              {"total", p.total},
                                              {"offset", p.offset},
                                              {"limit", p.limit}}));
}

void TargetService::Impl::users_create(const ExchangePtr& ex) {
  auto r = users.create(ex->request->body);
  if (auto* e = std::get_if<ApiError>(&r)) return respond(ex, error_response(*e));
  respond(ex, json_response(201, user_to_json(std::get<User>(r))));
}

void TargetService::Impl::users_get(const ExchangePtr& ex) {
  auto r = users.get(ex->id_param);
  if (auto* e = std::get_if<ApiError>(&r)) return respond(ex, error_response(*e));
  respond(ex, json_response(200, user_to_json(std::get<User>(r))));
}

void TargetService::Impl::users_patch(const ExchangePtr& ex) {
  auto r = users.patch(ex->id_param, ex->request->body);
  if (auto* e = std::get_if<ApiError>(&r)) return respond(ex, error_response(*e));
  respond(ex, json_response(200, user_to_json(std::get<User>(r))));
}

void TargetService::Impl::users_error(const ExchangePtr& ex) {
  auto rate = parse_error_rate(ex->request->query());
  if (auto* e = std::get_if<ApiError>(&rate)) return respond(ex, error_response(*e));
  int status = pick_error_endpoint_status(std::get<double>(rate), random_bits());
  if (status == 200)
    return respond(ex, json_response(200, json::object{{"status", "ok"},
                                                       {"errorRate", std::get<double>(rate)}}));
  respond(ex, json_response(status, json::object{{"error", "simulated_error"},
                                                 {"status", status},
                                                 {"message", "simulated upstream failure"}}));
}

// ---------------------------------------------------------------------------------------------
// Catalog and checkout (seed 002)

void TargetService::Impl::record_db(const ExchangePtr& ex, std::string_view query,
                                    std::string_view pool, const QueryResult& r,
                                    std::string_view sql) {
  m->db_queries.with({pool, query_status_name(r.status)}).inc();
  if (r.status == QueryStatus::rejected) return;
  const auto& s = r.stats;
  std::string_view index = s.index_used.empty() ? std::string_view("NONE") : s.index_used;
  m->db_pool_wait.with({pool}).observe(s.queue_wait_seconds);
  if (r.status == QueryStatus::ok || s.execution_seconds > 0) {
    m->db_duration.with({query, index}).observe(s.execution_seconds);
    m->db_rows_scanned.with({query, index}).inc(static_cast<double>(s.rows_scanned));
  }
  ex->attributes["db.index_used"] = index;
  ex->attributes["db.full_table_scan"] = s.full_scan;
  ex->attributes["db.rows_scanned"] = s.rows_scanned;
  ex->attributes["db.pool_wait_ms"] = std::round(s.queue_wait_seconds * 1e6) / 1e3;

  telemetry::Span db;
  db.trace_id = ex->trace.trace_id;
  db.span_id = core::random_span_id();
  db.parent_span_id = ex->trace.span_id;
  db.name = "SELECT ecommerce.products";
  db.kind = telemetry::SpanKind::client;
  double end = now();
  db.end_unix_nano = static_cast<uint64_t>(end * 1e9);
  db.start_unix_nano =
      db.end_unix_nano - static_cast<uint64_t>((s.queue_wait_seconds + s.execution_seconds) * 1e9);
  db.status = r.status == QueryStatus::ok ? telemetry::SpanStatusCode::unset
                                          : telemetry::SpanStatusCode::error;
  if (r.status != QueryStatus::ok) db.status_message = std::string(query_status_name(r.status));
  db.attributes = {{"db.system.name", "sqlite"},
                   {"db.query.text", sql},
                   {"db.index_used", index},
                   {"db.full_table_scan", s.full_scan},
                   {"db.rows_scanned", s.rows_scanned},
                   {"db.pool_wait_ms", std::round(s.queue_wait_seconds * 1e6) / 1e3},
                   {"traffic.type", ex->traffic_type}};
  if (s.full_scan) db.attributes["db.missing_index"] = "idx_products_category";
  ex->children.push_back(std::move(db));
}

// A query that did not complete, as the endpoint answers it.
static ServerResponse query_failure(const QueryResult& r, std::string_view error_text) {
  std::string_view reason = "db-error";
  int status = 500;
  switch (r.status) {
    case QueryStatus::rejected:
      reason = "db-pool-exhausted", status = 503;
      break;
    case QueryStatus::timed_out:
      reason = "db-timeout", status = 503;
      break;
    case QueryStatus::cancelled:
      reason = "client-gone", status = 499;
      break;
    default:
      break;
  }
  return json_response(status, json::object{{"error", error_text}, {"reason", reason}});
}

void TargetService::Impl::products(const ExchangePtr& ex) {
  auto q = ex->request->query();
  auto category = category_param(q);
  if (auto* e = std::get_if<ApiError>(&category)) return respond(ex, error_response(*e));
  auto limit = int_param(q, "limit", 50, 1, 100);
  if (auto* e = std::get_if<ApiError>(&limit)) return respond(ex, error_response(*e));
  ex->attributes["endpoint.type"] = "fast_indexed";
  ex->attributes["db.index_used"] = "idx_products_category_active";
  auto started = Clock::now();
  catalog->products(
      std::get<std::string>(category), static_cast<int>(std::get<int64_t>(limit)),
      started + options.products_timeout, ex->reply.cancel_flag(),
      [this, ex, cat = std::get<std::string>(category)](QueryResult r) {
        record_db(ex, "products", "indexed", r, kProductsSql);
        if (r.status != QueryStatus::ok)
          return respond(ex, query_failure(r, "products unavailable"));
        json::array items;
        for (const auto& p : r.products) items.push_back(product_json(p));
        respond(ex,
                json_response(200, json::object{{"category", cat},
                                                {"count", items.size()},
                                                {"products", std::move(items)},
                                                {"index_used", "idx_products_category_active"},
                                                {"query_ms", r.stats.execution_seconds * 1e3}}));
      });
}

void TargetService::Impl::recommendations(const ExchangePtr& ex) {
  auto q = ex->request->query();
  auto category = category_param(q);
  if (auto* e = std::get_if<ApiError>(&category)) return respond(ex, error_response(*e));
  auto min_price = number_param(q, "min_price", 10, 0, 1e9);
  if (auto* e = std::get_if<ApiError>(&min_price)) return respond(ex, error_response(*e));
  auto max_price = number_param(q, "max_price", 500, 0, 1e9);
  if (auto* e = std::get_if<ApiError>(&max_price)) return respond(ex, error_response(*e));
  if (std::get<double>(max_price) < std::get<double>(min_price))
    return respond(ex, error_response(query_error("max_price",
                                                  "max_price must not be below "
                                                  "min_price")));
  auto user = query_param(q, "user_id");
  if (user && user->size() > 64)
    return respond(ex, error_response(query_error("user_id",
                                                  "user_id is longer than 64 "
                                                  "characters")));
  ex->attributes["endpoint.type"] = "slow_unindexed";
  ex->attributes["db.index_used"] = "NONE";
  if (user) ex->attributes["user.id"] = *user;

  const RecommendationEffect effect = clock.effect_at(now(), random_bits());
  if (clock.settings().enabled) {
    ex->attributes["demo.minute"] = std::floor(effect.minute * 100) / 100;
    ex->attributes["demo.phase"] = demo_phase_name(effect.phase);
    ex->attributes["demo.added_delay_ms"] = std::round(effect.delay_ms);
  }
  const double delay_ms = effect.delay_ms;
  const bool scripted = effect.fail;
  const DemoPhase phase = effect.phase;
  auto run = [this, ex, cat = std::get<std::string>(category), lo = std::get<double>(min_price),
              hi = std::get<double>(max_price), scripted, phase] {
    if (scripted) {
      m->recommendation_scripted_failures.with({demo_phase_name(phase)}).inc();
      ex->attributes["demo.scripted_failure"] = true;
      return respond(ex, json_response(503, json::object{{"error", "recommendations unavailable"},
                                                         {"reason", "db-timeout"}}));
    }
    catalog->recommendations(
        cat, lo, hi, 10, Clock::now() + options.recommendations_timeout, ex->reply.cancel_flag(),
        [this, ex, cat](QueryResult r) {
          record_db(ex, "recommendations", "scan", r, kRecommendationsSql);
          if (r.status != QueryStatus::ok)
            return respond(ex, query_failure(r, "recommendations unavailable"));
          json::array items;
          for (const auto& p : r.products) items.push_back(product_json(p));
          respond(ex,
                  json_response(200, json::object{{"category", cat},
                                                  {"count", items.size()},
                                                  {"recommendations", std::move(items)},
                                                  {"index_used", "NONE"},
                                                  {"rows_scanned", r.stats.rows_scanned},
                                                  {"query_ms", r.stats.execution_seconds * 1e3}}));
        });
  };
  if (delay_ms > 0)
    server->after(std::chrono::microseconds(static_cast<int64_t>(delay_ms * 1000)), std::move(run));
  else
    run();
}

void TargetService::Impl::checkout(const ExchangePtr& ex) {
  const ServerRequest& req = *ex->request;
  std::string user = fmt::format("user-{:04}", random_bits() % 10000);
  if (!req.body.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(req.body, ec);
    if (ec)
      return respond(ex, error_response(ApiError{400, "invalid_json", "body",
                                                 "request body is not valid JSON"}));
    if (!v.is_object())
      return respond(ex, error_response(ApiError{400, "invalid_type", "body",
                                                 "request body must be a JSON object"}));
    if (auto* u = v.as_object().if_contains("user_id")) {
      if (!u->is_string() || u->as_string().empty() || u->as_string().size() > 64)
        return respond(ex, error_response(ApiError{400, "invalid_type", "user_id",
                                                   "user_id must be a string of 1-64 "
                                                   "characters"}));
      user = std::string(u->as_string());
    }
  }
  ex->attributes["user.id"] = user;
  ex->attributes["checkout.calls"] = "/products/recommendations";

  // The outgoing call is a child span; its id travels in traceparent.
  core::TraceContext call = ex->trace;
  call.span_id = core::random_span_id();
  std::string base = options.catalog_url.empty() ? self_url : options.catalog_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::ClientRequest creq;
  creq.url = base + "/products/recommendations?category=electronics&user_id=" + user;
  creq.timeout = options.checkout_timeout;
  creq.headers = {
      {"traceparent", call.traceparent()},
      {"X-Traffic-Type", std::string(ex->traffic_type == "none" ? "checkout" : ex->traffic_type)}};
  if (auto ts = req.header("tracestate"); ts && ts->size() <= 512)
    creq.headers.emplace_back("tracestate", std::string(*ts));
  double call_started = now();
  http::async_http_call(
      *server, std::move(creq), [this, ex, call, call_started, user](http::ClientResult r) {
        telemetry::Span client;
        client.trace_id = call.trace_id;
        client.span_id = call.span_id;
        client.parent_span_id = ex->trace.span_id;
        client.name = "GET /products/recommendations";
        client.kind = telemetry::SpanKind::client;
        client.start_unix_nano = static_cast<uint64_t>(call_started * 1e9);
        client.end_unix_nano = static_cast<uint64_t>(now() * 1e9);
        client.attributes = {{"http.request.method", "GET"},
                             {"server.address", "product-catalog"},
                             {"traffic.type", ex->traffic_type}};
        std::string_view reason;
        if (r.outcome == http::ClientOutcome::timeout)
          reason = "product-recommendations-timeout";
        else if (r.outcome != http::ClientOutcome::ok)
          reason = "product-recommendations-unavailable";
        else if (r.status >= 500)
          reason = "product-recommendations-error";
        if (r.outcome == http::ClientOutcome::ok)
          client.attributes["http.response.status_code"] = r.status;
        if (!reason.empty()) {
          client.status = telemetry::SpanStatusCode::error;
          client.status_message = r.error.empty() ? std::string(reason) : r.error;
        }
        ex->children.push_back(std::move(client));
        if (!reason.empty()) {
          m->checkout_failures.with({reason}).inc();
          m->checkout_requests.with({"failed"}).inc();
          ex->attributes["checkout.failure_reason"] = reason;
          return respond(ex, json_response(503, json::object{{"error", "Checkout failed"},
                                                             {"reason", reason}}));
        }
        m->checkout_requests.with({"confirmed"}).inc();
        json::array recommended;
        boost::system::error_code ec;
        json::value v = json::parse(r.body, ec);
        if (!ec && v.is_object())
          if (auto* items = v.as_object().if_contains("recommendations");
              items && items->is_array())
            for (const auto& item : items->as_array())
              if (item.is_object())
                if (auto* id = item.as_object().if_contains("id")) recommended.push_back(*id);
        respond(ex, json_response(
                        200, json::object{{"status", "confirmed"},
                                          {"order_id", fmt::format("order-{:016x}", random_bits())},
                                          {"user_id", user},
                                          {"recommended_product_ids", std::move(recommended)}}));
      });
}

// ---------------------------------------------------------------------------------------------
// Health, debug, admin

void TargetService::Impl::health(const ExchangePtr& ex) {
  double uptime = std::chrono::duration<double>(Clock::now() - started_at).count();
  respond(ex, json_response(
                  200, json::object{{"status", "healthy"},
                                    {"service", "trafficsim-target"},
                                    {"version", TRAFFICSIM_VERSION},
                                    {"uptime_seconds", std::round(uptime * 10) / 10},
                                    {"demo", clock.to_json()},
                                    {"catalog", json::object{{"rows", catalog_info.rows},
                                                             {"path", catalog_info.path.string()}}},
                                    {"faults_active", faults.list().size()}}));
}

void TargetService::Impl::debug_llm(const ExchangePtr& ex) {
  auto w = llm_window.totals(mono_seconds());
  respond(ex, json_response(
                  200, json::object{
                           {"provider", kLlmProvider},
                           {"model", kLlmModel},
                           {"configured", true},
                           {"flags", json::object{{"simulated", true},
                                                  {"fault_delay_header", "X-Fault-Delay-Ms"},
                                                  {"max_fault_delay_ms", 30000}}},
                           {"counters", json::object{{"requests", llm_requests.load()},
                                                     {"errors", llm_errors.load()},
                                                     {"input_tokens", llm_input_tokens.load()},
                                                     {"output_tokens", llm_output_tokens.load()},
                                                     {"requests_last_minute", w.events},
                                                     {"error_rate_last_minute", w.ratio()}}}}));
}

void TargetService::Impl::debug_traces(const ExchangePtr& ex) {
  auto limit = int_param(ex->request->query(), "limit", 50, 1, 1000);
  if (auto* e = std::get_if<ApiError>(&limit)) return respond(ex, error_response(*e));
  json::array items;
  for (const auto& s : spans.recent(static_cast<size_t>(std::get<int64_t>(limit))))
    items.push_back(telemetry::span_to_otlp_json(s));
  respond(ex, json_response(
                  200, json::object{{"spans", std::move(items)}, {"total", spans.total_added()}}));
}

void TargetService::Impl::faults_list(const ExchangePtr& ex) {
  json::array items;
  double t = now();
  for (const auto& f : faults.list()) items.push_back(fault_to_json(f, t));
  respond(ex, json_response(200, json::object{{"faults", std::move(items)}}));
}

void TargetService::Impl::faults_put(const ExchangePtr& ex) {
  double t = now();
  auto parsed = parse_fault(ex->request->body, t);
  if (auto* e = std::get_if<ApiError>(&parsed)) return respond(ex, error_response(*e));
  Fault fault = std::get<Fault>(parsed);
  auto body = fault_to_json(fault, t);
  auto put = faults.put(std::move(fault));
  if (auto* e = std::get_if<ApiError>(&put)) return respond(ex, error_response(*e));
  bool created = std::get<FaultRegistry::PutOutcome>(put) == FaultRegistry::PutOutcome::created;
  respond(ex, json_response(created ? 201 : 200, body));
}

void TargetService::Impl::faults_delete(const ExchangePtr& ex) {
  if (!faults.remove(ex->id_param))
    return respond(ex, error_response(ApiError{404, "not_found", "name",
                                               "no fault named '" + ex->id_param + "'"}));
  respond(ex, ServerResponse{204, "application/json", ""});
}

void TargetService::Impl::faults_clear(const ExchangePtr& ex) {
  size_t n = faults.list().size();
  faults.clear();
  respond(ex, json_response(200, json::object{{"removed", n}}));
}

// ---------------------------------------------------------------------------------------------

TargetService::TargetService(TargetOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

TargetService::~TargetService() {
  stop();
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

}  // namespace trafficsim::demo_service
