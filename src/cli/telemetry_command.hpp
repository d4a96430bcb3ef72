#pragma once
// `trafficsim telemetry`: seed 003's demo activity (docs/activity.md) — HTTP requests, database
// queries, jobs, cache operations, warnings and errors as spans, metrics and logs — to OTLP
// (--otlp or OTEL_EXPORTER_OTLP_*) and/or JSON lines on stdout (the default without an OTLP
// endpoint), until --duration or Ctrl+C.
#include <string>

#include "cli/otlp_flags.hpp"

namespace CLI {
class App;
}

namespace trafficsim::cli {

struct TelemetryOptions {
  std::string interval = "2s";
  std::string intensity;     // default 1
  std::string rate;          // stress mode: spans per second (bench's rate grammar)
  std::string duration;      // empty: until Ctrl+C
  std::string seed_text;     // empty: a random seed
  bool json_stdout = false;  // JSON lines on stdout even with an OTLP endpoint
  OtlpFlags otlp;
};

CLI::App* add_telemetry_command(CLI::App& app, TelemetryOptions& options);
int run_telemetry(const TelemetryOptions& options);

}  // namespace trafficsim::cli
