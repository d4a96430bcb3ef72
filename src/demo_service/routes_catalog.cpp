// The product catalog of seed 002: GET /products (indexed, fast) and
// GET /products/recommendations (the unindexed scan, slowed and failed by the demo timeline).
#include <algorithm>
#include <cmath>

#include "demo_service/catalog_sql.hpp"
#include "demo_service/service_impl.hpp"
#include "http/query_string.hpp"

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

using http::query_param;

namespace {

json::object product_json(const Product& p) {
  return {{"id", p.id},
          {"name", p.name},
          {"category", p.category},
          {"price", std::round(p.price * 100.0) / 100.0},
          {"popularity", p.popularity},
          {"active", p.active}};
}

// A query that did not complete, as the endpoint answers it.
ServerResponse query_failure(const QueryResult& r, std::string_view error_text) {
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

}  // namespace

void TargetService::Impl::add_catalog_routes() {
  router.add("GET", "/products", bind(&Impl::products));
  router.add("GET", "/products/recommendations", bind(&Impl::recommendations));
}

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
  db.attributes["db.operation.name"] = "SELECT";
  db.attributes["db.collection.name"] = "products";
  db.attributes["db.namespace"] = "ecommerce";
  db.attributes["db.pool.name"] = pool;

  // The seed's demo trace: the query span holds the connection-pool wait and the execution, each
  // as a child span (a waterfall shows where the time went) and as an event on the query span.
  const uint64_t total_ns = db.end_unix_nano - db.start_unix_nano;
  const uint64_t wait_ns = std::min(total_ns, static_cast<uint64_t>(s.queue_wait_seconds * 1e9));
  const uint64_t exec_ns = total_ns - wait_ns;
  auto phase = [&](std::string name, uint64_t start, uint64_t length) {
    telemetry::Span p;
    p.trace_id = db.trace_id;
    p.span_id = core::random_span_id();
    p.parent_span_id = db.span_id;
    p.name = std::move(name);
    p.kind = telemetry::SpanKind::internal;
    p.start_unix_nano = start;
    p.end_unix_nano = start + length;
    p.attributes = {{"db.pool.name", pool}, {"traffic.type", ex->traffic_type}};
    return p;
  };
  auto wait = phase("Connection pool wait", db.start_unix_nano, wait_ns);
  wait.attributes["db.pool_wait_ms"] = std::round(s.queue_wait_seconds * 1e6) / 1e3;
  db.events.push_back({db.start_unix_nano, "pool.wait.start", {{"db.pool.name", pool}}});
  db.events.push_back({db.start_unix_nano + wait_ns,
                       "pool.connection.acquired",
                       {{"db.pool_wait_ms", std::round(s.queue_wait_seconds * 1e6) / 1e3}}});
  ex->children.push_back(std::move(wait));
  if (r.status == QueryStatus::ok || s.execution_seconds > 0) {
    auto exec = phase("Query execution", db.start_unix_nano + wait_ns, exec_ns);
    exec.attributes["db.rows_scanned"] = s.rows_scanned;
    ex->children.push_back(std::move(exec));
  }
  ex->children.push_back(std::move(db));
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

}  // namespace trafficsim::demo_service
