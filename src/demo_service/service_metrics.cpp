#include "demo_service/service_metrics.hpp"

#include <string_view>

#include "demo_service/service_impl.hpp"
#include "http/server.hpp"

namespace trafficsim::demo_service {

std::unique_ptr<ServiceMetrics> ServiceMetrics::register_in(telemetry::Registry& registry) {
  using telemetry::exponential_buckets;
  std::vector<double> latency = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10,   30};
  return std::unique_ptr<ServiceMetrics>(new ServiceMetrics{
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
      registry.counter("access_log_dropped_lines_total",
                       "Access-log lines dropped because the writer fell behind."),
  });
}

// ----- the HTTP server's counters -----

namespace {

enum class Kind { counter, gauge };

// One exposed series: a family (created on its first row) and, for families with a label, the
// label value of this row.
struct ServerCounterRow {
  Kind kind;
  std::string_view family;
  std::string_view help;
  std::string_view label;  // empty: a family without labels
  std::string_view label_value;
  uint64_t http::ServerCounters::*field;
};

// The one place where a server counter becomes a metric family: add a row.
constexpr ServerCounterRow kServerCounterRows[] = {
    {Kind::gauge, "http_connections_open", "Open client connections.", "", "",
     &http::ServerCounters::connections_open},
    {Kind::counter, "http_server_connections_accepted_total",
     "Client connections the HTTP server accepted.", "", "",
     &http::ServerCounters::connections_accepted},
    {Kind::counter, "http_server_requests_total",
     "Requests the HTTP server read, before routing (answered or not).", "", "",
     &http::ServerCounters::requests},
    {Kind::counter, "http_server_rejected_requests_total",
     "Requests the HTTP server refused before any handler ran, by reason.", "reason",
     "body_too_large", &http::ServerCounters::rejected_body_too_large},
    {Kind::counter, "http_server_rejected_requests_total", "", "reason", "header_too_large",
     &http::ServerCounters::rejected_header_too_large},
    {Kind::counter, "http_server_rejected_requests_total", "", "reason", "bad_request",
     &http::ServerCounters::rejected_bad_request},
    {Kind::counter, "http_server_rejected_requests_total", "", "reason", "overloaded",
     &http::ServerCounters::rejected_overloaded},
    {Kind::counter, "http_server_connections_refused_total",
     "Connections closed at once: the connection cap and its overflow were full.", "", "",
     &http::ServerCounters::connections_refused},
    {Kind::counter, "http_server_streams_dropped_total",
     "Streamed replies dropped because the client stopped reading.", "", "",
     &http::ServerCounters::streams_dropped},
    {Kind::counter, "http_server_timeouts_total",
     "Connections closed by the read, idle or write timeout.", "", "",
     &http::ServerCounters::timeouts},
    {Kind::counter, "http_server_client_gone_total",
     "Connections the client closed while a request was in work.", "", "",
     &http::ServerCounters::client_gone},
};

}  // namespace

ServerCounterMetrics::ServerCounterMetrics(telemetry::Registry& registry) {
  struct Registered {
    std::string_view name;
    telemetry::CounterFamily* counters = nullptr;
    telemetry::GaugeFamily* gauges = nullptr;
  };
  std::vector<Registered> families;
  for (const auto& row : kServerCounterRows) {
    Registered* family = nullptr;
    for (auto& f : families)
      if (f.name == row.family) family = &f;
    if (family == nullptr) {
      std::vector<std::string> labels;
      if (!row.label.empty()) labels.emplace_back(row.label);
      Registered added{row.family};
      if (row.kind == Kind::counter)
        added.counters = &registry.counter(std::string(row.family), std::string(row.help), labels);
      else
        added.gauges = &registry.gauge(std::string(row.family), std::string(row.help), labels);
      families.push_back(added);
      family = &families.back();
    }
    Series series;
    std::vector<std::string_view> values;
    if (!row.label.empty()) values.push_back(row.label_value);
    if (family->counters != nullptr) series.counter = &family->counters->with(values);
    if (family->gauges != nullptr) series.gauge = &family->gauges->with(values);
    series_.push_back(series);
  }
}

void ServerCounterMetrics::update(const http::ServerCounters& counters) {
  for (size_t i = 0; i < series_.size(); ++i) {
    Series& series = series_[i];
    const uint64_t value = counters.*(kServerCounterRows[i].field);
    if (series.gauge != nullptr) {
      series.gauge->set(static_cast<double>(value));
    } else if (value > series.reported) {
      series.counter->inc(static_cast<double>(value - series.reported));
      series.reported = value;
    }
  }
}

// ----- on-demand values -----

void TargetService::Impl::register_metrics() {
  m = ServiceMetrics::register_in(registry);
  server_metrics = std::make_unique<ServerCounterMetrics>(registry);
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
    if (server) server_metrics->update(server->counters());
    if (access_log) {
      uint64_t dropped = access_log->dropped_lines();
      m->access_log_dropped.with({}).inc(
          static_cast<double>(dropped - access_log_dropped_reported));
      access_log_dropped_reported = dropped;
    }
  });
}

}  // namespace trafficsim::demo_service
