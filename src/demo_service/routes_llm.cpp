// The LLM classify API of seed 000 (POST /hackathon/classify) and its debug view.
#include <cmath>

#include "demo_service/llm_classifier.hpp"
#include "demo_service/service_impl.hpp"

namespace trafficsim::demo_service {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

void TargetService::Impl::add_llm_routes() {
  router.add("POST", "/hackathon/classify", bind(&Impl::classify));
  router.add("GET", "/debug/llm", bind(&Impl::debug_llm));
}

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
  ex->attributes["llm.model_latency_ms"] = c.model_latency_ms;
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

}  // namespace trafficsim::demo_service
