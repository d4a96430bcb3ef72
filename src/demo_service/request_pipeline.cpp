// The demo service's request path: route -> (admin key) -> faults -> handler -> respond(), where
// respond() is the one place that records metrics, the span and the access-log line, so every
// answer — handler, fault, 404 or 503 — is observed the same way.
#include <fmt/format.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cmath>
#include <ctime>

#include "core/ascii.hpp"
#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "http/api_key.hpp"
#include "demo_service/llm_classifier.hpp"
#include "demo_service/service_impl.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

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

std::string_view canonical_traffic_type(std::optional<std::string_view> header) {
  if (!header) return "none";
  std::string_view v = *header;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return "none";
  for (auto t : kTrafficTypes)
    if (core::iequals_ascii(t, v)) return t;
  return "other";
}

std::string_view method_label(std::string_view m) {
  static constexpr std::array<std::string_view, 7> known = {"GET",    "POST", "PUT",    "PATCH",
                                                            "DELETE", "HEAD", "OPTIONS"};
  for (auto k : known)
    if (k == m) return k;
  return "OTHER";
}

bool observability_route(std::string_view route) {
  return route.starts_with("/health") || route == "/metrics" || route.starts_with("/admin") ||
         route.starts_with("/debug");
}

}  // namespace

void TargetService::Impl::register_routes() {
  add_admin_routes();
  add_llm_routes();
  add_users_routes();
  add_catalog_routes();
  add_checkout_routes();
}

void TargetService::Impl::handle(std::shared_ptr<const ServerRequest> request, http::Reply reply) {
  if (options.front_handler && options.front_handler(request, reply)) return;
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
  if (!ex->trace.valid()) {
    // No usable parent: a new trace, sampled for export at the exporter's ratio.
    ex->trace.trace_id = core::random_trace_id();
    ex->trace.flags = options.exporter && !core::sampled_by_ratio(ex->trace.trace_id,
                                                                  options.exporter->options().trace_ratio)
                          ? 0x00
                          : 0x01;
  }

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
    if (!http::request_has_api_key(req, options.api_key))
      return respond(ex, error_response(ApiError{
                             401, "unauthorized", "X-API-Key",
                             "a valid X-API-Key (or Authorization: Bearer) header is required"}));
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
  // The API's error code on failed answers (error.type, as the semantic conventions name it):
  // what the live analysis breaks an error burst down by. Parsed only on the error path.
  if (status >= 400 && !span.attributes.contains("error.type") && !response.body.empty() &&
      response.body.front() == '{') {
    boost::system::error_code ec;
    json::value v = json::parse(response.body, ec);
    if (!ec && v.is_object())
      if (auto* code = v.as_object().if_contains("error"); code && code->is_string())
        span.attributes["error.type"] = code->as_string();
  }
  span.attributes["http.request.method"] = req.method;
  span.attributes["http.route"] = ex->route;
  span.attributes["url.path"] = req.path();
  span.attributes["http.response.status_code"] = status;
  span.attributes["traffic.type"] = ex->traffic_type;
  span.attributes["server.address"] = options.host;
  span.attributes["server.port"] = static_cast<int64_t>(server ? server->port() : options.port);

  // Export follows the caller's sampling decision (the traceparent's sampled flag); a request
  // without one is sampled at the exporter's ratio (OTEL_TRACES_SAMPLER). The recent-span ring
  // keeps every span either way: the dashboard and the live analysis read it.
  telemetry::OtlpExporter* exporter = options.exporter.get();
  const bool sampled = exporter != nullptr && exporter->exports(telemetry::Signal::traces) &&
                       ((ex->trace.flags & 0x01) != 0);
  if (sampled) {
    for (const auto& child : ex->children) exporter->add_span(child);
    exporter->add_span(span);
  }
  for (auto& child : ex->children) spans.add(std::move(child));
  spans.add(std::move(span));

  // The access-log line as a log record, tied to the span (the Logs page; OTLP logs).
  {
    telemetry::LogRecord log;
    log.time_unix_nano = static_cast<uint64_t>((ex->started_unix + seconds) * 1e9);
    log.severity = status >= 500   ? telemetry::Severity::error
                   : status >= 400 ? telemetry::Severity::warn
                                   : telemetry::Severity::info;
    log.body = std::string(req.method) + " " + std::string(req.path()) + " " + status_text + " " +
               fmt::format("{:.1f}ms", seconds * 1e3);
    log.attributes = {{"traffic.type", ex->traffic_type},
                      {"http.request.method", req.method},
                      {"http.route", ex->route},
                      {"url.path", req.path()},
                      {"http.response.status_code", status},
                      {"latency_ms", std::round(seconds * 1e6) / 1e3}};
    log.trace_id = ex->trace.trace_id;
    log.span_id = ex->trace.span_id;
    if (exporter != nullptr && exporter->exports(telemetry::Signal::logs)) exporter->add_log(log);
    logs.add(std::move(log));
  }

  if (access_log) {
    json::object line{{"time", core::format_rfc3339(ex->started_unix + seconds, 3)},
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

}  // namespace trafficsim::demo_service
