// OTLP exporter options from the standard OTEL_* variables (opentelemetry-specification,
// protocol/exporter.md and sdk-environment-variables.md) and the --otlp flag.
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::telemetry {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string percent_decode(std::string_view s, std::string_view field) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int v = 0;
    if (i + 2 >= s.size()) {
      throw OtlpConfigError(fmt::format("{}: incomplete percent escape in '{}'", field, s));
    }
    auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + i + 3) {
      throw OtlpConfigError(fmt::format("{}: bad percent escape in '{}'", field, s));
    }
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return out;
}

// "k1=v1,k2=v2" (W3C Baggage-like, values percent-encoded): OTEL_EXPORTER_OTLP_HEADERS and
// OTEL_RESOURCE_ATTRIBUTES.
std::vector<std::pair<std::string, std::string>> key_values(std::string_view text,
                                                            std::string_view field) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) {
      if (comma >= text.size()) break;
      continue;
    }
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      throw OtlpConfigError(fmt::format("{}: '{}' is not key=value", field, item));
    }
    std::string key = percent_decode(trim(item.substr(0, eq)), field);
    std::string value = percent_decode(trim(item.substr(eq + 1)), field);
    for (char c : key + value) {
      if (c == '\r' || c == '\n' || c == '\0') {
        throw OtlpConfigError(fmt::format("{}: '{}' holds a control character", field, key));
      }
    }
    out.emplace_back(std::move(key), std::move(value));
    if (comma >= text.size()) break;
  }
  return out;
}

http::Url url_of(std::string_view text, std::string_view field) {
  std::string error;
  auto url = http::parse_url(trim(text), &error);
  if (!url) throw OtlpConfigError(fmt::format("{}: '{}': {}", field, text, error));
  return *url;
}

// A base URL with /v1/<signal> appended to its path (a trailing '/' is not doubled).
http::Url with_signal_path(const http::Url& base, std::string_view signal) {
  http::Url url = base;
  std::string path = url.target;
  const size_t q = path.find('?');
  std::string query;
  if (q != std::string::npos) {
    query = path.substr(q);
    path.resize(q);
  }
  if (path.empty() || path.back() != '/') path.push_back('/');
  url.target = path + "v1/" + std::string(signal) + query;
  return url;
}

int64_t milliseconds_of(std::string_view text, std::string_view field, int64_t lo, int64_t hi) {
  const std::string_view t = trim(text);
  int64_t v = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (r.ec != std::errc() || r.ptr != t.data() + t.size() || t.empty()) {
    throw OtlpConfigError(
        fmt::format("{}: '{}' is not a whole number of milliseconds", field, text));
  }
  if (v < lo || v > hi) {
    throw OtlpConfigError(fmt::format("{}: {} is outside [{}, {}] ms", field, v, lo, hi));
  }
  return v;
}

}  // namespace

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

OtlpOptions otlp_options_from(const EnvLookup& env, const std::optional<std::string>& flag_endpoint,
                              std::string_view default_service) {
  OtlpOptions o;
  auto get = [&](std::string_view name) -> std::optional<std::string> {
    auto v = env(name);
    if (v && trim(*v).empty()) return std::nullopt;  // set but empty counts as unset
    return v;
  };

  std::optional<http::Url> base;
  if (flag_endpoint) {
    base = url_of(*flag_endpoint, "--otlp");
  } else if (auto v = get("OTEL_EXPORTER_OTLP_ENDPOINT")) {
    base = url_of(*v, "OTEL_EXPORTER_OTLP_ENDPOINT");
  }
  if (base) {
    o.traces_endpoint = with_signal_path(*base, "traces");
    o.metrics_endpoint = with_signal_path(*base, "metrics");
    o.logs_endpoint = with_signal_path(*base, "logs");
  }
  // Per-signal endpoints are used as given; --otlp still wins for all three.
  if (!flag_endpoint) {
    if (auto v = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
      o.traces_endpoint = url_of(*v, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    }
    if (auto v = get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) {
      o.metrics_endpoint = url_of(*v, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    }
    if (auto v = get("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")) {
      o.logs_endpoint = url_of(*v, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
    }
  }
  // OTEL_{TRACES,METRICS,LOGS}_EXPORTER=none switches a signal off.
  for (auto [name, endpoint] : {std::pair{"OTEL_TRACES_EXPORTER", &o.traces_endpoint},
                                std::pair{"OTEL_METRICS_EXPORTER", &o.metrics_endpoint},
                                std::pair{"OTEL_LOGS_EXPORTER", &o.logs_endpoint}}) {
    if (auto v = get(name)) {
      const std::string_view t = trim(*v);
      if (t == "none") {
        endpoint->reset();
      } else if (t != "otlp") {
        throw OtlpConfigError(fmt::format("{}: '{}' is not supported (otlp or none)", name, *v));
      }
    }
  }

  if (auto v = get("OTEL_EXPORTER_OTLP_PROTOCOL")) {
    const std::string_view t = trim(*v);
    if (t == "http/protobuf") {
      o.protocol = OtlpProtocol::protobuf;
    } else if (t == "http/json") {
      o.protocol = OtlpProtocol::json;
    } else {
      throw OtlpConfigError(fmt::format(
          "OTEL_EXPORTER_OTLP_PROTOCOL: '{}' is not supported (http/protobuf or http/json)", *v));
    }
  }
  if (auto v = get("OTEL_EXPORTER_OTLP_HEADERS")) {
    o.headers = key_values(*v, "OTEL_EXPORTER_OTLP_HEADERS");
  }
  if (auto v = get("OTEL_EXPORTER_OTLP_TIMEOUT")) {
    o.timeout = std::chrono::milliseconds(
        milliseconds_of(*v, "OTEL_EXPORTER_OTLP_TIMEOUT", 1, 600'000));
  }
  if (auto v = get("OTEL_EXPORTER_OTLP_COMPRESSION")) {
    const std::string_view t = trim(*v);
    if (t == "gzip") {
      o.gzip = true;
    } else if (t == "none") {
      o.gzip = false;
    } else {
      throw OtlpConfigError(
          fmt::format("OTEL_EXPORTER_OTLP_COMPRESSION: '{}' is not supported (gzip or none)", *v));
    }
  }
  if (auto v = get("OTEL_METRIC_EXPORT_INTERVAL")) {
    o.metric_interval = std::chrono::milliseconds(
        milliseconds_of(*v, "OTEL_METRIC_EXPORT_INTERVAL", 100, 3'600'000));
  }

  // Resource: OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME over its service.name.
  o.resource.attributes["service.name"] = std::string(default_service);
  if (auto v = get("OTEL_RESOURCE_ATTRIBUTES")) {
    for (auto& [k, val] : key_values(*v, "OTEL_RESOURCE_ATTRIBUTES")) o.resource.attributes[k] = val;
  }
  if (auto v = get("OTEL_SERVICE_NAME")) o.resource.attributes["service.name"] = std::string(trim(*v));
  o.resource.attributes["telemetry.sdk.name"] = "trafficsim";
  o.resource.attributes["telemetry.sdk.language"] = "cpp";

  // Sampler: always_on, always_off, traceidratio, parentbased_{always_on,always_off,traceidratio}.
  std::string sampler = "parentbased_always_on";
  if (auto v = get("OTEL_TRACES_SAMPLER")) sampler = std::string(trim(*v));
  if (sampler == "always_on" || sampler == "parentbased_always_on") {
    o.trace_ratio = 1.0;
  } else if (sampler == "always_off" || sampler == "parentbased_always_off") {
    o.trace_ratio = 0.0;
  } else if (sampler == "traceidratio" || sampler == "parentbased_traceidratio") {
    o.trace_ratio = 1.0;
    if (auto v = get("OTEL_TRACES_SAMPLER_ARG")) {
      const std::string t(trim(*v));
      char* end = nullptr;
      const double r = std::strtod(t.c_str(), &end);
      if (end == t.c_str() || *end != '\0' || !std::isfinite(r) || r < 0 || r > 1) {
        throw OtlpConfigError(fmt::format(
            "OTEL_TRACES_SAMPLER_ARG: '{}' is not a ratio between 0 and 1", *v));
      }
      o.trace_ratio = r;
    }
  } else {
    throw OtlpConfigError(fmt::format(
        "OTEL_TRACES_SAMPLER: '{}' is not supported (always_on, always_off, traceidratio, "
        "parentbased_always_on, parentbased_always_off, parentbased_traceidratio)",
        sampler));
  }
  return o;
}

}  // namespace trafficsim::telemetry
