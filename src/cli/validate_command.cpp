#include "cli/validate_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>
#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/terminal.hpp"
#include "http/simple_get.hpp"
#include "http/url.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

// ---- the histogram quantile ---------------------------------------------------------------------

std::optional<double> histogram_quantile(std::string_view exposition, std::string_view family,
                                         std::string_view label_filter, double q) {
  const std::string prefix = std::string(family) + "_bucket{";
  std::map<double, double> cumulative;  // upper bound -> count, summed over matching series
  while (!exposition.empty()) {
    size_t eol = exposition.find('\n');
    std::string_view line = exposition.substr(0, eol);
    exposition.remove_prefix(eol == std::string_view::npos ? exposition.size() : eol + 1);
    if (!line.starts_with(prefix)) continue;
    size_t close = line.rfind('}');
    if (close == std::string_view::npos) continue;
    std::string_view labels = line.substr(prefix.size(), close - prefix.size());
    if (labels.find(label_filter) == std::string_view::npos) continue;
    size_t le = labels.find("le=\"");
    if (le == std::string_view::npos) continue;
    std::string bound(labels.substr(le + 4, labels.find('"', le + 4) - le - 4));
    double upper = bound == "+Inf" ? INFINITY : std::strtod(bound.c_str(), nullptr);
    std::string value(line.substr(close + 1));
    cumulative[upper] += std::strtod(value.c_str(), nullptr);
  }
  if (cumulative.empty() || cumulative.rbegin()->second <= 0) return std::nullopt;
  const double total = cumulative.rbegin()->second;
  const double rank = q * total;
  double lower = 0, below = 0, largest_finite = 0;
  for (const auto& [upper, count] : cumulative) {
    if (std::isfinite(upper)) largest_finite = upper;
    if (count >= rank) {
      if (!std::isfinite(upper)) return largest_finite;
      if (count == below) return upper;
      return lower + (upper - lower) * (rank - below) / (count - below);
    }
    lower = upper;
    below = count;
  }
  return largest_finite;
}

namespace {

// ---- checks ------------------------------------------------------------------------------------

enum class Outcome { pass, fail, info, skipped };

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::pass: return "pass";
    case Outcome::fail: return "fail";
    case Outcome::info: return "info";
    default: return "skipped";
  }
}

struct Check {
  std::string name;
  Outcome outcome;
  std::string expected;
  std::string actual;
};

struct Limits {
  double max_error_ratio;
  double max_p95_s;
};

// A GET of base + path: the JSON body, or the reason it is missing.
struct Fetched {
  std::optional<http::SimpleResponse> response;
  std::string error;  // "" when a response came
};

Fetched get(const http::Url& base, std::string_view path, std::chrono::milliseconds timeout,
            size_t max_body = 1 << 20, const std::string& api_key = {}) {
  http::Url url = base;
  std::string root = base.target;
  if (auto q = root.find('?'); q != std::string::npos) root.erase(q);
  while (!root.empty() && root.back() == '/') root.pop_back();
  url.target = root + std::string(path);
  Fetched f;
  http::HeaderList headers;
  if (!api_key.empty()) headers.emplace_back("X-API-Key", api_key);
  f.response = http::simple_request("GET", url, headers, {}, timeout, &f.error, max_body);
  return f;
}

std::optional<json::object> json_object_of(const Fetched& f, std::string* why) {
  if (!f.response) {
    *why = f.error;
    return std::nullopt;
  }
  if (f.response->status != 200) {
    *why = fmt::format("status {}", f.response->status);
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value v = json::parse(f.response->body, ec);
  if (ec || !v.is_object()) {
    *why = "the body is not a JSON object";
    return std::nullopt;
  }
  return std::move(v.as_object());
}

const json::object* object_in(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

std::optional<double> number_in(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_number()) return std::nullopt;
  return it->value().to_number<double>();
}

// The stream's error ratio: "error_ratio" when present, else the seed's "error_rate": "0.1%".
std::optional<double> error_ratio_of(const json::object& stream) {
  if (auto r = number_in(stream, "error_ratio")) return r;
  auto it = stream.find("error_rate");
  if (it == stream.end() || !it->value().is_string()) return std::nullopt;
  std::string text(it->value().as_string());
  char* end = nullptr;
  double pct = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || std::string_view(end) != "%") return std::nullopt;
  return pct / 100.0;
}

std::string pct(double ratio) { return fmt::format("{:.1f}%", ratio * 100.0); }
std::string ms(double seconds) {
  double v = seconds * 1000.0;
  return v < 10 ? fmt::format("{:.1f} ms", v) : fmt::format("{:.0f} ms", v);
}

// The dashboard's panel rule (docs/control-api.md), for the demo stream's information row.
std::string_view panel_colour(double error_ratio, std::optional<double> p95_s) {
  double p95 = p95_s.value_or(0);
  if (error_ratio >= 0.5 || p95 >= 2.5) return "red";
  if (error_ratio < 0.05 && p95 < 0.5) return "green";
  return "yellow";
}

std::vector<Check> run_checks(const http::Url& base, const std::string& api_key,
                              std::chrono::milliseconds timeout,
                              const Limits& limits) {
  std::vector<Check> checks;
  const std::string origin = base.origin();
  auto skip_rest = [&](std::vector<std::string> names) {
    for (auto& n : names) checks.push_back({std::move(n), Outcome::skipped, "", "not checked"});
  };

  // 1. The target answers /health.
  std::string why;
  auto health = json_object_of(get(base, "/health", timeout), &why);
  if (!health) {
    checks.push_back({"target reachable", Outcome::fail, "GET /health answers 200 with JSON",
                      fmt::format("cannot read {}/health: {} (is `trafficsim demo --scenario "
                                  "blackfriday` running there?)", origin, why)});
    skip_rest({"demo mode on", "demo minute", "traffic stats", "baseline error rate",
               "baseline p95"});
    return checks;
  }
  auto text_in = [](const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
  };
  checks.push_back({"target reachable", Outcome::pass, "GET /health answers 200 with JSON",
                    fmt::format("{} {} ({})", text_in(*health, "service"),
                                text_in(*health, "version"), text_in(*health, "status"))});

  // 2. Demo mode on, and its minute.
  const json::object* demo = object_in(*health, "demo");
  bool enabled = false;
  if (demo) {
    auto it = demo->find("enabled");
    enabled = it != demo->end() && it->value().is_bool() && it->value().as_bool();
  }
  std::string mode = demo ? text_in(*demo, "mode") : "";
  checks.push_back(
      {"demo mode on", enabled ? Outcome::pass : Outcome::fail, "/health demo.enabled is true",
       !demo      ? std::string("no demo clock in /health (not a trafficsim target?)")
       : enabled  ? fmt::format("mode {}", mode.empty() ? "(unnamed)" : mode)
                  : fmt::format("off{} — start the demo with --scenario blackfriday or DEMO_MODE",
                                mode.empty() ? "" : " (mode " + mode + ")")});
  std::optional<double> minute = demo ? number_in(*demo, "minute") : std::nullopt;
  double length = demo ? number_in(*demo, "duration_minutes").value_or(30) : 30;
  double scale = demo ? number_in(*demo, "time_scale").value_or(1) : 1;

  // 3. Traffic stats (the control plane's view of the running dual-mode job).
  auto stats = json_object_of(get(base, "/admin/traffic-stats", timeout, 1 << 20, api_key), &why);
  const json::object* baseline = stats ? object_in(*stats, "baseline") : nullptr;
  const json::object* demo_stream = stats ? object_in(*stats, "demo") : nullptr;

  Check minute_check{"demo minute", Outcome::fail,
                     fmt::format("0..{:g} and the same as the traffic stats' demo_minute", length),
                     ""};
  if (!enabled || !minute) {
    minute_check.outcome = enabled ? Outcome::fail : Outcome::skipped;
    minute_check.actual = enabled ? "/health reports no demo minute" : "demo mode is off";
  } else {
    std::string phase = text_in(*demo, "phase");
    minute_check.actual = fmt::format("minute {:.1f}{}", *minute, phase.empty() ? "" : " (" + phase + ")");
    bool in_range = *minute >= 0 && *minute <= length;
    // A plain double (NaN: none): GCC's -O2 flow analysis warns about an optional<double> here.
    const double stats_minute_value =
        demo_stream ? number_in(*demo_stream, "demo_minute").value_or(NAN) : NAN;
    const bool has_stats_minute = !std::isnan(stats_minute_value);
    // The stats are the latest 500 ms snapshot, floored: allow a minute plus a second's worth.
    double tolerance = 1.0 + scale / 60.0;
    bool agrees = !has_stats_minute || std::abs(stats_minute_value - *minute) <= tolerance;
    if (has_stats_minute)
      minute_check.actual += fmt::format("; traffic stats say {:.1f}", stats_minute_value);
    if (!in_range) minute_check.actual += fmt::format(" — outside the demo's {:g} minutes", length);
    minute_check.outcome = in_range && agrees ? Outcome::pass : Outcome::fail;
  }
  checks.push_back(std::move(minute_check));

  auto requests_of = [&](const json::object* s) { return s ? number_in(*s, "requests").value_or(0) : 0; };
  Check stats_check{"traffic stats", Outcome::fail,
                    "GET /admin/traffic-stats has baseline and demo, both with requests", ""};
  if (!stats) {
    stats_check.actual = fmt::format("cannot read {}/admin/traffic-stats: {}{}", origin, why,
                                     why == "status 404" ? " (no dual-mode job runs)"
                                     : why == "status 401" ? (api_key.empty() ? " (the control plane needs an API key: --api-key)" : " (the API key was refused)")
                                                           : "");
  } else if (!baseline || !demo_stream) {
    stats_check.actual = fmt::format("no '{}' entry", !baseline ? "baseline" : "demo");
  } else {
    stats_check.actual = fmt::format("baseline {:.0f} requests, demo {:.0f} requests",
                                     requests_of(baseline), requests_of(demo_stream));
    stats_check.outcome = requests_of(baseline) > 0 && requests_of(demo_stream) > 0
                              ? Outcome::pass : Outcome::fail;
  }
  checks.push_back(std::move(stats_check));

  // 4. The baseline's error rate (the load generator's count).
  Check errors{"baseline error rate", Outcome::fail, fmt::format("<= {}", pct(limits.max_error_ratio)), ""};
  std::optional<double> baseline_ratio = baseline ? error_ratio_of(*baseline) : std::nullopt;
  if (!baseline) {
    errors.outcome = Outcome::skipped;
    errors.actual = "no baseline traffic stats";
  } else if (!baseline_ratio) {
    errors.actual = "the baseline entry has no error_rate";
  } else {
    errors.actual = fmt::format("{} ({:.0f} of {:.0f})", pct(*baseline_ratio),
                                number_in(*baseline, "errors").value_or(0), requests_of(baseline));
    errors.outcome = *baseline_ratio <= limits.max_error_ratio ? Outcome::pass : Outcome::fail;
  }
  checks.push_back(std::move(errors));

  // 5. The baseline's p95 (the target's own histogram).
  Check p95{"baseline p95", Outcome::fail, fmt::format("<= {} (target's /metrics)", ms(limits.max_p95_s)), ""};
  Fetched metrics = get(base, "/metrics", timeout, 16 << 20);
  std::optional<double> baseline_p95, demo_p95;
  if (!metrics.response || metrics.response->status != 200) {
    p95.actual = fmt::format("cannot read {}/metrics: {}", origin,
                             metrics.response ? fmt::format("status {}", metrics.response->status)
                                              : metrics.error);
  } else {
    const std::string& text = metrics.response->body;
    baseline_p95 = histogram_quantile(text, "http_request_duration_seconds",
                                      "traffic_type=\"baseline\"", 0.95);
    demo_p95 = histogram_quantile(text, "http_request_duration_seconds", "traffic_type=\"demo\"", 0.95);
    if (!baseline_p95) {
      p95.actual = "no baseline requests in http_request_duration_seconds";
    } else {
      p95.actual = ms(*baseline_p95);
      p95.outcome = *baseline_p95 <= limits.max_p95_s ? Outcome::pass : Outcome::fail;
    }
  }
  checks.push_back(std::move(p95));

  // The demo stream, for the presenter: expected to degrade, so information only.
  if (demo_stream) {
    double ratio = error_ratio_of(*demo_stream).value_or(0);
    auto rpm = number_in(*demo_stream, "current_rpm");
    checks.push_back({"demo stream", Outcome::info, "degrades with the demo minute (seed 002)",
                      fmt::format("{} errors, p95 {}{} — {}", pct(ratio),
                                  demo_p95 ? ms(*demo_p95) : std::string("n/a"),
                                  rpm ? fmt::format(", {:.0f} rpm", *rpm) : "",
                                  panel_colour(ratio, demo_p95))});
  }
  return checks;
}

// ---- output ------------------------------------------------------------------------------------

void print_table(const std::vector<Check>& checks, const std::string& origin, const Style& style) {
  size_t name_w = 5, expected_w = 8;
  for (const auto& c : checks) {
    name_w = std::max(name_w, c.name.size());
    expected_w = std::max(expected_w, c.expected.size());
  }
  fmt::print("Dual-mode validation of {}\n\n", style.bold(origin));
  fmt::print("  {:<7} {:<{}}  {:<{}}  {}\n", "", "check", name_w, "expected", expected_w, "actual");
  for (const auto& c : checks) {
    std::string label;
    switch (c.outcome) {
      case Outcome::pass: label = style.green("PASS   "); break;
      case Outcome::fail: label = style.red("FAIL   "); break;
      case Outcome::info: label = style.cyan("INFO   "); break;
      default: label = style.dim("SKIP   ");
    }
    fmt::print("  {} {:<{}}  {:<{}}  {}\n", label, c.name, name_w, c.expected, expected_w,
               c.outcome == Outcome::fail ? style.red(c.actual) : c.actual);
  }
  size_t failed = std::count_if(checks.begin(), checks.end(),
                                [](const Check& c) { return c.outcome == Outcome::fail; });
  size_t skipped = std::count_if(checks.begin(), checks.end(),
                                 [](const Check& c) { return c.outcome == Outcome::skipped; });
  std::string tail = skipped ? fmt::format(", {} not checked", skipped) : "";
  fmt::print("\n{}\n", failed ? style.red(fmt::format("{} check{} failed{}", failed,
                                                      failed == 1 ? "" : "s", tail))
                              : style.green("All checks passed"));
}

double parse_percent_arg(const std::string& text, const std::string& flag) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || std::string_view(end) != "%" || !(v >= 0 && v <= 100))
    throw UsageError(fmt::format("invalid value for {}: '{}' (use a percentage such as 2%)", flag, text));
  return v / 100.0;
}

}  // namespace

CLI::App* add_validate_command(CLI::App& app, ValidateOptions& o) {
  auto* validate = app.add_subcommand("validate", "Check a running demo against the seeds' expectations");
  validate->require_subcommand(1);
  auto* dual = validate->add_subcommand(
      "dual-mode",
      "Seed 002's validation: the target is up, demo mode is on and its minute is right, the "
      "traffic stats have both streams, and the baseline stays healthy (error rate, p95).\n"
      "Exit codes: 0 all passed, 1 a check failed or the target cannot be reached, 2 bad flags.");
  dual->add_option("--url", o.url, "Base URL of `trafficsim demo` (target and control plane)")
      ->capture_default_str();
  dual->add_option("--max-baseline-error-rate", o.max_error_rate,
                   "Most errors the baseline may have (traffic stats)")
      ->capture_default_str();
  dual->add_option("--max-baseline-p95", o.max_p95,
                   "Slowest p95 the baseline may have (the target's /metrics histogram)")
      ->capture_default_str();
  dual->add_option("--timeout", o.timeout, "Per request")->capture_default_str();
  dual->add_option("--api-key", o.api_key,
                   "The control plane's key, sent as X-API-Key on /admin/traffic-stats (default: "
                   "TRAFFICSIM_API_KEY)");
  dual->add_flag("--json", o.json, "Print the checks as JSON instead of the table");
  dual->add_flag("--no-color", o.no_color, "No colours");
  return dual;
}

int run_validate_dual_mode(const ValidateOptions& o) {
  http::Url base;
  Limits limits{};
  std::chrono::milliseconds timeout{};
  try {
    base = parse_url_arg(o.url, "--url");
    if (base.tls()) throw UsageError(fmt::format("invalid --url '{}': validate speaks plain http", o.url));
    limits.max_error_ratio = parse_percent_arg(o.max_error_rate, "--max-baseline-error-rate");
    limits.max_p95_s = std::chrono::duration<double>(parse_duration_arg(o.max_p95, "--max-baseline-p95")).count();
    timeout = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration_arg(o.timeout, "--timeout"));
  } catch (const UsageError& e) {
    fmt::print(stderr, "trafficsim validate dual-mode: {}\n", e.what());
    return kExitUsage;
  }
  std::string key = o.api_key;
  if (key.empty())
    if (const char* env = std::getenv("TRAFFICSIM_API_KEY")) key = env;
  std::vector<Check> checks = run_checks(base, key, timeout, limits);
  bool passed = std::none_of(checks.begin(), checks.end(),
                             [](const Check& c) { return c.outcome == Outcome::fail; });
  if (o.json) {
    json::array list;
    for (const auto& c : checks)
      list.push_back(json::object{{"name", c.name},
                                  {"status", outcome_name(c.outcome)},
                                  {"expected", c.expected},
                                  {"actual", c.actual}});
    fmt::print("{}\n", json::serialize(json::object{
                           {"url", base.origin()}, {"passed", passed}, {"checks", std::move(list)}}));
  } else {
    print_table(checks, base.origin(), Style::for_fd(fileno(stdout), !o.no_color));
  }
  return passed ? kExitOk : kExitRunFailed;
}

}  // namespace trafficsim::cli
