#include "cli/otlp_flags.hpp"

#include <cmath>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "cli/arguments.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::cli {

void add_otlp_flag(CLI::App* cmd, OtlpFlags& flags, const std::string& what) {
  cmd->add_option("--otlp", flags.otlp,
                  "Export " + what +
                      " over OTLP/HTTP to this base URL (/v1/traces, /v1/metrics, /v1/logs are "
                      "appended), e.g. http://127.0.0.1:4318; OTEL_EXPORTER_OTLP_* also apply");
}

void add_trace_ratio_flag(CLI::App* cmd, OtlpFlags& flags) {
  cmd->add_option("--trace-ratio", flags.trace_ratio,
                  "Send a W3C traceparent on every request and make a client span of this share "
                  "of them (0..1, default 0: no traceparent)");
}

double trace_ratio_of(const OtlpFlags& flags) {
  if (flags.trace_ratio.empty()) return 0;
  char* end = nullptr;
  const double r = std::strtod(flags.trace_ratio.c_str(), &end);
  if (end == flags.trace_ratio.c_str() || *end != '\0' || !std::isfinite(r) || r < 0 || r > 1) {
    throw UsageError(fmt::format("invalid ratio for --trace-ratio: '{}' must be a number from 0 to 1",
                                 flags.trace_ratio));
  }
  return r;
}

std::shared_ptr<telemetry::OtlpExporter> make_exporter(const OtlpFlags& flags,
                                                       std::string_view service,
                                                       bool honour_service_env,
                                                       bool traces_only) {
  telemetry::OtlpOptions o;
  try {
    auto env = telemetry::process_environment();
    telemetry::EnvLookup lookup = env;
    if (!honour_service_env) {
      lookup = [env](std::string_view name) -> std::optional<std::string> {
        if (name == "OTEL_SERVICE_NAME") return std::nullopt;
        return env(name);
      };
    }
    o = telemetry::otlp_options_from(
        lookup, flags.otlp.empty() ? std::nullopt : std::optional<std::string>(flags.otlp), service);
  } catch (const telemetry::OtlpConfigError& e) {
    throw UsageError(e.what());
  }
  if (traces_only) {
    o.metrics_endpoint.reset();
    o.logs_endpoint.reset();
  }
  if (!o.any()) return nullptr;
  return std::make_shared<telemetry::OtlpExporter>(std::move(o));
}

void finish_export(boost::json::object& report, telemetry::OtlpExporter* generator,
                   telemetry::OtlpExporter* target) {
  if (generator == nullptr && target == nullptr) return;
  boost::json::object out;
  for (auto* e : {generator, target}) {
    if (e == nullptr) continue;
    e->shutdown();
    for (auto s : {telemetry::Signal::traces, telemetry::Signal::metrics, telemetry::Signal::logs}) {
      if (!e->exports(s)) continue;
      const auto st = e->stats(s);
      auto& o = out[telemetry::signal_name(s)];
      if (!o.is_object()) {
        o = boost::json::object{{"sent", 0}, {"dropped", 0}, {"failed", 0}, {"retried", 0}};
      }
      auto& obj = o.as_object();
      auto add = [&](const char* key, uint64_t v) {
        obj[key] = obj[key].to_number<uint64_t>() + v;
      };
      add("sent", st.sent);
      add("dropped", st.dropped);
      add("failed", st.failed);
      add("retried", st.retried);
      if (st.rejected > 0) {
        if (!obj.contains("rejected")) obj["rejected"] = 0;
        add("rejected", st.rejected);
      }
      if (!st.last_error.empty()) obj["last_error"] = st.last_error;
    }
  }
  report["export"] = std::move(out);
}

std::string export_summary(const boost::json::object& export_stats) {
  std::string out = "export:";
  bool first = true;
  for (const auto& [signal, v] : export_stats) {
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    auto n = [&](const char* k) {
      const auto* x = o.if_contains(k);
      return x ? x->to_number<uint64_t>() : 0;
    };
    out += fmt::format("{} {} {} sent, {} dropped, {} failed, {} retried", first ? "" : ";",
                       std::string_view(signal), n("sent"), n("dropped"), n("failed"),
                       n("retried"));
    first = false;
    if (const auto* e = o.if_contains("last_error"); e && e->is_string() && n("failed") > 0) {
      out += fmt::format(" (last error: {})", std::string_view(e->as_string()));
    }
  }
  return out;
}

}  // namespace trafficsim::cli
