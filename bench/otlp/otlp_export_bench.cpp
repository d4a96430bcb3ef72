// Spans encoded and exported per CPU-second: N spans shaped like the demo target's server spans
// (name, ids, times, eleven attributes) are made, queued on telemetry::OtlpExporter and sent to
// an OTLP/HTTP sink; the figure is N / (this process's user + system CPU time). Run by
// bench/otlp_bench.py beside the OpenTelemetry JavaScript SDK doing the same
// (bench/otlp/sdk_export.mjs) against the same sink.
//
//   otlp_export_bench --url http://127.0.0.1:PORT --spans 200000 [--json] [--gzip] [--map]
//                     [--prebuilt]
// By default a span is made as the load engine's client tracer makes one: a shared template
// (name and fixed attributes, encoded once) plus inline scalars; --map puts every attribute in
// the span's own boost::json map (the general form the demo target and the activity use).
// --prebuilt makes the spans before the CPU clock starts (encoding and export alone; their
// destruction after sending still counts).
// Prints one JSON line: {"spans":N,"sent":..,"cpu_s":..,"wall_s":..,"spans_per_cpu_s":..}.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "core/clock.hpp"
#include "core/trace_context.hpp"
#include "telemetry/otlp_exporter.hpp"

using namespace trafficsim;

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The way the load engine's client tracer and other hot producers make spans: the route's fixed
// name and attributes shared (encoded once), the per-span values as inline scalars. The same
// eleven attributes as make_span's map.
telemetry::Span make_span_templated(uint64_t i) {
  static const auto shape = std::make_shared<const telemetry::SpanTemplate>(
      "GET /products/recommendations",
      boost::json::object{{"http.request.method", "GET"},
                          {"http.route", "/products/recommendations"},
                          {"url.path", "/products/recommendations"},
                          {"server.address", "127.0.0.1"},
                          {"endpoint.type", "slow_unindexed"},
                          {"db.index_used", "NONE"}});
  telemetry::Span s;
  s.trace_id = core::random_trace_id();
  s.span_id = core::random_span_id();
  s.base = shape;
  s.kind = telemetry::SpanKind::server;
  s.start_unix_nano = core::unix_now_ns();
  s.end_unix_nano = s.start_unix_nano + 35'000'000 + i % 1000;
  s.scalars.add("http.response.status_code", int64_t{200});
  s.scalars.add("traffic.type", std::string_view("demo"));
  s.scalars.add("db.rows_scanned", int64_t{500000});
  s.scalars.add("demo.minute", 21.5);
  s.scalars.add("demo.phase", std::string_view("critical"));
  return s;
}

// Every attribute in the span's own map (boost::json::object): the general form.
telemetry::Span make_span(uint64_t i) {
  telemetry::Span s;
  s.trace_id = core::random_trace_id();
  s.span_id = core::random_span_id();
  s.name = "GET /products/recommendations";
  s.kind = telemetry::SpanKind::server;
  s.start_unix_nano = core::unix_now_ns();
  s.end_unix_nano = s.start_unix_nano + 35'000'000 + i % 1000;
  s.attributes = {{"http.request.method", "GET"},
                  {"http.route", "/products/recommendations"},
                  {"url.path", "/products/recommendations"},
                  {"http.response.status_code", 200},
                  {"server.address", "127.0.0.1"},
                  {"traffic.type", "demo"},
                  {"endpoint.type", "slow_unindexed"},
                  {"db.index_used", "NONE"},
                  {"db.rows_scanned", 500000},
                  {"demo.minute", 21.5},
                  {"demo.phase", "critical"}};
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  uint64_t n = 200'000;
  bool json = false, gzip = false, prebuilt = false, map = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--url" && i + 1 < argc) {
      url = argv[++i];
    } else if (a == "--spans" && i + 1 < argc) {
      n = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--json") {
      json = true;
    } else if (a == "--gzip") {
      gzip = true;
    } else if (a == "--map") {
      map = true;  // every attribute in the span's own map instead of template + scalars
    } else if (a == "--prebuilt") {
      prebuilt = true;  // spans made before the clock starts: encoding and export alone
    } else {
      std::fprintf(stderr, "usage: otlp_export_bench --url URL [--spans N] [--json] [--gzip] [--map] [--prebuilt]\n");
      return 2;
    }
  }
  if (url.empty()) {
    std::fprintf(stderr, "otlp_export_bench: --url is required\n");
    return 2;
  }
  auto env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  telemetry::OtlpOptions o = telemetry::otlp_options_from(env, url, "otlp-bench");
  o.metrics_endpoint.reset();
  o.logs_endpoint.reset();
  o.protocol = json ? telemetry::OtlpProtocol::json : telemetry::OtlpProtocol::protobuf;
  o.gzip = gzip;
  o.max_queue = 8192;
  o.batch_delay = std::chrono::milliseconds(200);

  std::vector<telemetry::Span> made;
  if (prebuilt) {
    made.reserve(n);
    for (uint64_t i = 0; i < n; ++i) made.push_back(map ? make_span(i) : make_span_templated(i));
  }
  const double cpu0 = cpu_seconds();
  const auto wall0 = std::chrono::steady_clock::now();
  uint64_t sent = 0, dropped = 0, failed = 0;
  {
    telemetry::OtlpExporter exporter(o);
    for (uint64_t i = 0; i < n; ++i) {
      // Keep the queue below its bound: the benchmark measures throughput, not drops.
      while (exporter.queued(telemetry::Signal::traces) >= o.max_queue - 1) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      exporter.add_span(prebuilt ? std::move(made[i])
                                 : (map ? make_span(i) : make_span_templated(i)));
    }
    exporter.shutdown();
    const auto st = exporter.stats(telemetry::Signal::traces);
    sent = st.sent;
    dropped = st.dropped;
    failed = st.failed;
  }
  const double cpu = cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf(
      "{\"spans\":%llu,\"sent\":%llu,\"dropped\":%llu,\"failed\":%llu,\"cpu_s\":%.4f,\"wall_s\":%.4f,"
      "\"spans_per_cpu_s\":%.0f}\n",
      static_cast<unsigned long long>(n), static_cast<unsigned long long>(sent),
      static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(failed), cpu, wall,
      cpu > 0 ? static_cast<double>(sent) / cpu : 0.0);
  return sent == n ? 0 : 1;
}
