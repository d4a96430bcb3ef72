#include "control/control_api.hpp"

#include <fmt/format.h>

#include <sqlite3.h>  // result codes only

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <sstream>

#include <boost/json/serialize.hpp>

#include "control/assets.hpp"
#include "control/html_report.hpp"
#include "control/responses.hpp"
#include "http/query_string.hpp"
#include "http/sse.hpp"
#include "storage/sqlite.hpp"

namespace trafficsim::control {

namespace json = boost::json;
using http::ApiError;
using http::ServerRequest;
using http::ServerResponse;

namespace {

// "/traffic/status/ID" -> "ID" (empty when the path has another shape).
std::string_view tail_after(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return {};
  std::string_view rest = path.substr(prefix.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) return {};
  return rest;
}

ServerResponse asset_response(std::string_view name) {
  auto text = asset(name);
  if (!text) return not_found(fmt::format("no asset {}", name));
  ServerResponse r;
  r.content_type = std::string(content_type_for(name));
  r.body = std::string(*text);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace

boost::json::object target_panel_json(const std::string& text) {
  // Sums over label sets: bucket counts per le, sums, counts, and a gauge.
  std::map<double, double> buckets;
  double tokens_sum = 0, tokens_count = 0, requests = 0, error_rate = 0;
  std::istringstream in(text);
  std::string line;
  auto value_of = [](const std::string& l) {
    auto sp = l.rfind(' ');
    return sp == std::string::npos ? 0.0 : std::strtod(l.c_str() + sp + 1, nullptr);
  };
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("llm_request_duration_seconds_bucket")) {
      auto le = line.find("le=\"");
      if (le == std::string::npos) continue;
      std::string bound = line.substr(le + 4, line.find('"', le + 4) - le - 4);
      double b = bound == "+Inf" ? std::numeric_limits<double>::infinity()
                                 : std::strtod(bound.c_str(), nullptr);
      buckets[b] += value_of(line);
    } else if (line.starts_with("llm_tokens_per_request_sum")) {
      tokens_sum += value_of(line);
    } else if (line.starts_with("llm_tokens_per_request_count")) {
      tokens_count += value_of(line);
    } else if (line.starts_with("llm_requests_total")) {
      requests += value_of(line);
    } else if (line.starts_with("llm_error_rate")) {
      error_rate = value_of(line);
    }
  }
  double total = buckets.empty() ? 0 : buckets.rbegin()->second;
  double p95 = 0;
  if (total > 0) {
    double rank = 0.95 * total, prev_b = 0, prev_c = 0;
    for (const auto& [b, c] : buckets) {
      if (c >= rank) {
        p95 = std::isinf(b) ? prev_b
                            : prev_b + (b - prev_b) * (c > prev_c ? (rank - prev_c) / (c - prev_c) : 1);
        break;
      }
      prev_b = b;
      prev_c = c;
    }
  }
  auto r1 = [](double v) { return std::round(v * 10) / 10; };
  return json::object{
      {"builtin", true},
      {"llm", json::object{{"p95Ms", r1(p95 * 1000)},
                           {"errorRate", std::round(error_rate * 10000) / 10000},
                           {"tokensPerRequest", tokens_count > 0 ? r1(tokens_sum / tokens_count) : 0},
                           {"requests", requests}}}};
}

ControlApi::ControlApi(JobManager& manager, RequestGuard guard,
                       std::function<std::string()> exposition)
    : manager_(manager), guard_(std::move(guard)), exposition_(std::move(exposition)) {}

bool ControlApi::is_control_path(std::string_view path) {
  return path == "/" || path == "/index.html" || path == "/favicon.ico" ||
         path.starts_with("/assets/") || path == "/traffic" || path.starts_with("/traffic/") ||
         path == "/admin/traffic-stats" || path == "/api/v1/monitors" ||
         IncidentApi::is_incident_path(path) || TelemetryApi::is_telemetry_path(path);
}

bool ControlApi::handle(const std::shared_ptr<const ServerRequest>& request,
                        const http::Reply& reply, bool claim_all) {
  const ServerRequest& req = *request;
  if (!is_control_path(req.path())) {
    if (!claim_all) return false;
    if (auto e = guard_.check_host(req)) return reply.send(error_response(*e)), true;
    reply.send(not_found(fmt::format("no route for {} {}", req.method, req.path())));
    return true;
  }
  if (auto e = guard_.check_host(req)) return reply.send(error_response(*e)), true;
  try {
    route(req, reply);
  } catch (const ApiFailure& f) {
    reply.send(error_response(f.error, f.extra));
  } catch (const storage::SqliteError& e) {
    // The incident store could not write: a full disk is the server's lack of space (507), a
    // read-only file a state that may pass (503); the message names the store and what it did.
    const int code = e.primary_code();
    const bool full = code == SQLITE_FULL ||
                      (code == SQLITE_IOERR && (e.os_errno() == ENOSPC || e.os_errno() == EDQUOT ||
                                                e.os_errno() == EFBIG));
    if (full)
      reply.send(error_response(ApiError{507, "insufficient_storage", "", e.what()}));
    else if (code == SQLITE_READONLY) {
      auto r = error_response(ApiError{503, "store_read_only", "", e.what()});
      r.headers.emplace_back("Retry-After", "5");
      reply.send(std::move(r));
    } else
      reply.send(error_response(ApiError{500, "store_error", "", e.what()}));
  } catch (const std::exception& e) {
    reply.send(error_response(ApiError{500, "internal_error", "", e.what()}));
  }
  return true;
}

void ControlApi::route(const ServerRequest& req, const http::Reply& reply) {
  const std::string_view path = req.path();
  const bool get = req.method == "GET" || req.method == "HEAD";
  const bool post = req.method == "POST";
  auto mutation = [&]() -> bool {
    if (auto e = guard_.check_mutation(req)) {
      reply.send(error_response(*e));
      return false;
    }
    return true;
  };

  // The dashboard.
  if (path == "/" || path == "/index.html") {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    return reply.send(asset_response("public/index.html"));
  }
  if (path == "/favicon.ico") return reply.send(ServerResponse{204, "image/x-icon", {}, {}, false});
  if (path.starts_with("/assets/")) {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    std::string_view name = path.substr(8);
    if (name.find("..") != std::string_view::npos) return reply.send(not_found("no such asset"));
    if (name.starts_with("vendor/")) return reply.send(asset_response(name));
    return reply.send(asset_response("public/" + std::string(name)));
  }
  if (path == "/admin/traffic-stats") {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    if (auto e = guard_.check_key(req)) return reply.send(error_response(*e));
    auto stats = manager_.traffic_stats();
    if (!stats)
      return reply.send(not_found("no dual-mode job is running: start one with "
                                  "POST /traffic/start {\"scenario\": \"blackfriday\"}"));
    return reply.send(json_response(200, *stats));
  }
  if (IncidentApi::is_incident_path(path)) {
    if (!incidents_) {
      if (auto e = guard_.check_key(req)) return reply.send(error_response(*e));
      return reply.send(not_found("incidents are off on this server"));
    }
    return incidents_->route(req, reply, guard_);
  }
  if (TelemetryApi::is_telemetry_path(path)) {
    if (telemetry_) return telemetry_->route(req, reply, guard_);
    if (auto e = guard_.check_key(req)) return reply.send(error_response(*e));
    return reply.send(not_found("traces, logs and metrics are off on this server"));
  }
  if (path == "/api/v1/monitors") {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    if (auto e = guard_.check_key(req)) return reply.send(error_response(*e));
    if (!monitors_) return reply.send(not_found("monitors are off on this server"));
    return reply.send(json_response(200, monitors_()));
  }
  if (path == "/traffic/start") {
    if (!post) return reply.send(method_not_allowed(req, "POST"));
    if (!mutation()) return;
    StartRequest sr = parse_start_request(req.body);
    return reply.send(json_response(202, manager_.start(sr)));
  }
  if (path == "/traffic/jobs") {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    json::array jobs;
    for (const auto& j : manager_.list()) jobs.emplace_back(j->state_json());
    return reply.send(json_response(200, json::object{{"jobs", std::move(jobs)}}));
  }
  if (path == "/traffic/scenarios") {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    return reply.send(json_response(200, manager_.scenarios_json()));
  }
  if (path == "/traffic/target") {
    if (!get) return reply.send(method_not_allowed(req, "GET"));
    if (!exposition_) return reply.send(json_response(200, json::object{{"builtin", false}}));
    return reply.send(json_response(200, target_panel_json(exposition_())));
  }
  struct JobRoute {
    std::string_view prefix;
    const char* method;
  };
  for (JobRoute r : {JobRoute{"/traffic/status/", "GET"}, JobRoute{"/traffic/stop/", "POST"},
                     JobRoute{"/traffic/stream/", "GET"}, JobRoute{"/traffic/report/", "GET"}}) {
    std::string_view id = tail_after(path, r.prefix);
    if (id.empty()) continue;
    if (std::string_view(r.method) == "GET" ? !get : !post)
      return reply.send(method_not_allowed(req, r.method));
    if (!get && !mutation()) return;
    auto job = manager_.find(std::string(id));
    if (!job) return reply.send(not_found(fmt::format("no job {} (finished jobs are kept {} s)",
                                                      id, manager_.options().retention.count() / 1000)));
    if (r.prefix == "/traffic/status/") return reply.send(json_response(200, job->state_json()));
    if (r.prefix == "/traffic/stop/") {
      job->stop();
      return reply.send(json_response(200, job->state_json()));
    }
    if (r.prefix == "/traffic/stream/") {
      std::optional<uint64_t> after;
      if (auto h = http::SseWriter::last_event_id(req); h && !h->empty()) {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
        if (ec != std::errc() || p != h->data() + h->size())
          return reply.send(error_response(ApiError{400, "invalid_value", "Last-Event-ID",
                                                    "Last-Event-ID must be a decimal event id"}));
        after = v;
      }
      if (!job->subscribe(reply, after)) {
        ServerResponse busy = error_response(ApiError{
            503, "too_many_subscribers", "jobId",
            fmt::format("job {} already has {} open streams: close one or retry later", id,
                        ControlJob::kMaxSubscribers)});
        busy.headers.emplace_back("Retry-After", "1");
        return reply.send(std::move(busy));
      }
      return;
    }
    // /traffic/report/{id}
    if (job->active())
      return reply.send(error_response(ApiError{
          409, "job_running", "jobId",
          fmt::format("job {} is {}: its report exists once it ends", id, to_string(job->status()))}));
    auto report = job->report();
    if (!report)
      return reply.send(not_found(fmt::format("job {} failed before it could report", id)));
    ServerResponse resp;
    resp.headers.emplace_back("Cache-Control", "no-store");
    if (http::query_param(req.query(), "format").value_or("json") == "html") {
      if (job->spec().kind == "activity")  // a run's totals: nothing for the HTML report to draw
        return reply.send(error_response(ApiError{
            400, "invalid_value", "format", "an activity job's report is JSON only"}));
      resp.content_type = "text/html; charset=utf-8";
      resp.body = render_html_report(*report);
      resp.headers.emplace_back(
          "Content-Disposition",
          fmt::format("attachment; filename=\"trafficsim-{}-{}.html\"", job->spec().scenario, id));
      return reply.send(std::move(resp));
    }
    resp.body = json::serialize(*report);
    return reply.send(std::move(resp));
  }
  if (path.starts_with("/traffic/"))
    return reply.send(not_found(fmt::format("no route for {} {}", req.method, path)));
  reply.send(not_found(fmt::format("no route for {} {}", req.method, path)));
}

}  // namespace trafficsim::control
