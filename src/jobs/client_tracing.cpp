#include "jobs/client_tracing.hpp"

#include <strings.h>

#include <string>
#include <utility>

#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::jobs {

namespace {

std::string_view outcome_error(uint8_t outcome) {
  switch (outcome) {
    case 3:
      return "timeout";
    case 4:
      return "connect_error";
    case 5:
      return "closed_mid_response";
    case 6:
      return "transport_error";
    default:
      return {};
  }
}

}  // namespace

ClientTracer::ClientTracer(const load::Plan& plan,
                           std::shared_ptr<telemetry::OtlpExporter> exporter,
                           std::shared_ptr<telemetry::SpanBuffer> local)
    : plan_(plan), exporter_(std::move(exporter)), local_(std::move(local)) {
  shapes_.resize(plan.streams.size());
  for (size_t i = 0; i < plan.streams.size(); ++i) {
    const auto& stream = plan.streams[i];
    for (const auto& t : stream.requests) {
      Shape shape;
      const std::string path = t.target.substr(0, t.target.find('?'));
      shape.name = t.method + " " + (path.empty() ? std::string("/") : path);
      std::string traffic_type = stream.name;
      for (const auto& [k, v] : t.headers) {
        if (strcasecmp(k.c_str(), "x-traffic-type") == 0) traffic_type = v;
      }
      shape.attributes = {{"http.request.method", t.method},
                          {"url.full", stream.url.origin() + t.target},
                          {"url.path", path},
                          {"server.address", stream.url.host},
                          {"server.port", static_cast<int64_t>(stream.url.port)},
                          {"traffic.type", traffic_type},
                          {"trafficsim.stream", stream.name},
                          {"trafficsim.endpoint", t.name}};
      shapes_[i].push_back(std::move(shape));
    }
  }
}

void ClientTracer::attach(load::Plan& plan) {
  plan.on_spans = [this](std::vector<load::ClientSpanRecord>& records, uint64_t dropped) {
    on_spans(records, dropped);
  };
}

telemetry::Span ClientTracer::span_of(const load::ClientSpanRecord& r) const {
  telemetry::Span s;
  s.trace_id = r.trace_id;
  s.span_id = r.span_id;
  s.kind = telemetry::SpanKind::client;
  s.start_unix_nano = static_cast<uint64_t>(r.start_unix_ns);
  s.end_unix_nano = static_cast<uint64_t>(std::max(r.end_unix_ns, r.start_unix_ns));
  if (r.stream < shapes_.size() && r.tmpl < shapes_[r.stream].size()) {
    const Shape& shape = shapes_[r.stream][r.tmpl];
    s.name = shape.name;
    s.attributes = shape.attributes;
  } else {
    s.name = "HTTP";
  }
  if (r.status > 0) s.attributes["http.response.status_code"] = r.status;
  if (auto e = outcome_error(r.outcome); !e.empty()) {
    s.attributes["error.type"] = e;
    s.status = telemetry::SpanStatusCode::error;
    s.status_message = std::string(e);
  } else if (r.status >= 400) {
    // Client spans: a 4xx is an error too (semantic conventions); expected failures included.
    s.attributes["error.type"] = std::to_string(r.status);
    s.status = telemetry::SpanStatusCode::error;
  }
  if (r.outcome == 1) s.attributes["trafficsim.expected_failure"] = true;
  return s;
}

void ClientTracer::on_spans(std::vector<load::ClientSpanRecord>& records, uint64_t dropped) {
  dropped_ += dropped;
  spans_ += records.size();
  batch_.clear();
  batch_.reserve(records.size());
  for (const auto& r : records) batch_.push_back(span_of(r));
  if (local_) {
    for (const auto& s : batch_) local_->add(s);
  }
  if (exporter_) exporter_->add_spans(batch_);
  batch_.clear();
}

}  // namespace trafficsim::jobs
