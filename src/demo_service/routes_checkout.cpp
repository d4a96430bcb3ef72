// POST /checkout of seed 002: calls /products/recommendations over HTTP (this service or
// catalog_url) as a child span, so a slow catalog shows up as failed checkouts.
#include <fmt/format.h>

#include <boost/json/parse.hpp>

#include "demo_service/service_impl.hpp"
#include "http/async_client.hpp"

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

void TargetService::Impl::add_checkout_routes() {
  router.add("POST", "/checkout", bind(&Impl::checkout));
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

}  // namespace trafficsim::demo_service
