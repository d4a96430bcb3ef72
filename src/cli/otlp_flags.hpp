#pragma once
// --otlp URL and --trace-ratio R, shared by bench, run, play, demo, target and telemetry: the
// exporters they make from the flag and the standard OTEL_* variables, and what the run report
// says of them ("export", documented in docs/report-format.md).
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <CLI/CLI.hpp>

namespace trafficsim::telemetry {
class OtlpExporter;
}

namespace trafficsim::cli {

// The service names the two exporters of a run report as (OTEL_SERVICE_NAME overrides the
// generator's; the built-in target keeps its own so a trace shows both sides).
inline constexpr std::string_view kGeneratorService = "trafficsim-loadgen";
inline constexpr std::string_view kTargetService = "trafficsim-target";

struct OtlpFlags {
  std::string otlp;         // --otlp URL (a base URL: /v1/traces, /v1/metrics, /v1/logs appended)
  std::string trace_ratio;  // --trace-ratio R (0..1)
};

void add_otlp_flag(CLI::App* cmd, OtlpFlags& flags, const std::string& what);
void add_trace_ratio_flag(CLI::App* cmd, OtlpFlags& flags);

// --trace-ratio as a number in [0, 1] (0 when absent); UsageError naming the flag otherwise.
double trace_ratio_of(const OtlpFlags& flags);

// An exporter from --otlp and OTEL_* (OTEL_EXPORTER_OTLP_ENDPOINT, per-signal endpoints, protocol,
// headers, timeout, compression, resource, sampler), or nullptr when neither names an endpoint.
// `service` is service.name unless OTEL_SERVICE_NAME is set and `honour_service_env`. Bad values:
// UsageError naming the variable or flag.
// `traces_only`: the load generator has spans only (no metrics or logs of its own to send).
std::shared_ptr<telemetry::OtlpExporter> make_exporter(const OtlpFlags& flags,
                                                       std::string_view service,
                                                       bool honour_service_env = true,
                                                       bool traces_only = false);

// Flushes and stops the exporters (each within its 5 s deadline) and puts their statistics in
// report["export"]: {traces|metrics|logs: {sent, dropped, failed, retried}} (the generator's and
// the built-in target's added together). A null exporter is skipped.
void finish_export(boost::json::object& report, telemetry::OtlpExporter* generator,
                   telemetry::OtlpExporter* target);

// One line for a person: "export: traces 1200 sent, 0 dropped, 0 failed; logs ...".
std::string export_summary(const boost::json::object& export_stats);

}  // namespace trafficsim::cli
