#include "jobs/client_tracing.hpp"

#include <strings.h>

#include <algorithm>
#include <array>
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

// "404" for 404: error.type of a failed status, from a static table (a span's scalars are views).
std::string_view status_text(int status) {
  static const auto table = [] {
    std::array<std::array<char, 3>, 1000> t{};
    for (int i = 0; i < 1000; ++i) {
      t[i] = {static_cast<char>('0' + i / 100), static_cast<char>('0' + i / 10 % 10),
              static_cast<char>('0' + i % 10)};
    }
    return t;
  }();
  if (status < 100 || status > 999) return "error";
  return {table[static_cast<size_t>(status)].data(), 3};
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
      const std::string path = t.target.substr(0, t.target.find('?'));
      std::string traffic_type = stream.name;
      for (const auto& [k, v] : t.headers) {
        if (strcasecmp(k.c_str(), "x-traffic-type") == 0) traffic_type = v;
      }
      shapes_[i].push_back(std::make_shared<const telemetry::SpanTemplate>(
          t.method + " " + (path.empty() ? std::string("/") : path),
          boost::json::object{{"http.request.method", t.method},
                              {"url.full", stream.url.origin() + t.target},
                              {"url.path", path},
                              {"server.address", stream.url.host},
                              {"server.port", static_cast<int64_t>(stream.url.port)},
                              {"traffic.type", traffic_type},
                              {"trafficsim.stream", stream.name},
                              {"trafficsim.endpoint", t.name}}));
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
    s.base = shapes_[r.stream][r.tmpl];
  } else {
    s.name = "HTTP";
  }
  if (r.status > 0) s.scalars.add("http.response.status_code", static_cast<int64_t>(r.status));
  if (auto e = outcome_error(r.outcome); !e.empty()) {
    s.scalars.add("error.type", e);
    s.status = telemetry::SpanStatusCode::error;
    s.status_message = std::string(e);
  } else if (r.status >= 400) {
    // Client spans: a 4xx is an error too (semantic conventions); expected failures included.
    s.scalars.add("error.type", status_text(r.status));
    s.status = telemetry::SpanStatusCode::error;
  }
  if (r.outcome == 1) s.scalars.add("trafficsim.expected_failure", true);
  return s;
}

void ClientTracer::on_spans(std::vector<load::ClientSpanRecord>& records, uint64_t dropped) {
  dropped_ += dropped;
  spans_ += records.size();
  const size_t n = records.size();
  // Make only the spans something keeps: the exporter's free room (the rest are counted as its
  // drops without being made) and the newest the local ring holds.
  const size_t export_n =
      exporter_ ? std::min(n, exporter_->room(telemetry::Signal::traces)) : 0;
  const size_t local_n = local_ ? std::min(n, local_->capacity()) : 0;
  if (exporter_) exporter_->count_dropped(telemetry::Signal::traces, n - export_n);
  if (local_) {
    for (size_t i = n - local_n; i < n; ++i) local_->add(span_of(records[i]));
  }
  if (export_n > 0) {
    batch_.clear();
    batch_.reserve(export_n);
    for (size_t i = 0; i < export_n; ++i) batch_.push_back(span_of(records[i]));
    exporter_->add_spans(batch_);
    batch_.clear();
  }
}

}  // namespace trafficsim::jobs
