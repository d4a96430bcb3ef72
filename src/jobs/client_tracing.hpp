#pragma once
// The load engine's client spans (--trace-ratio): each drain's ClientSpanRecords turned into
// OTLP client spans — named "METHOD path" ("POST /hackathon/classify"), with
// http.request.method, url.full, server.address, server.port, http.response.status_code,
// traffic.type (the template's X-Traffic-Type, else the stream's name), trafficsim.stream,
// trafficsim.endpoint (the template's name) and
// error.type on failures — and queued on the exporter and, when given, a local ring the
// dashboard reads. Runs on the engine's thread (Plan::on_spans), never on a worker.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/json/object.hpp>

#include "load/plan.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::telemetry {
class OtlpExporter;
}

namespace trafficsim::jobs {

class ClientTracer {
 public:
  // plan must outlive the tracer; exporter and local may be null.
  ClientTracer(const load::Plan& plan, std::shared_ptr<telemetry::OtlpExporter> exporter,
               std::shared_ptr<telemetry::SpanBuffer> local);

  // Sets plan.on_spans to this tracer (plan.trace_ratio must already be set).
  void attach(load::Plan& plan);

  void on_spans(std::vector<load::ClientSpanRecord>& records, uint64_t dropped);

  // The span of one record (exposed for tests).
  telemetry::Span span_of(const load::ClientSpanRecord& r) const;

  uint64_t spans() const { return spans_.load(); }
  uint64_t dropped() const { return dropped_.load(); }  // by workers (over their bound)

 private:
  const load::Plan& plan_;
  std::shared_ptr<telemetry::OtlpExporter> exporter_;
  std::shared_ptr<telemetry::SpanBuffer> local_;
  // Per stream, per template: the name and the attributes every span of it carries, encoded
  // once (a span costs a reference to it and a few inline scalars: no map, no allocation).
  std::vector<std::vector<std::shared_ptr<const telemetry::SpanTemplate>>> shapes_;
  std::vector<telemetry::Span> batch_;  // reused between drains
  std::atomic<uint64_t> spans_{0}, dropped_{0};
};

}  // namespace trafficsim::jobs
