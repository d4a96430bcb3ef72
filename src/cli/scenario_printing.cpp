#include "cli/scenario_printing.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/summary.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

namespace {

std::string describe_rate(const scenarios::StreamSpec& spec, const load::Stream& s) {
  using K = scenarios::RateSpec::Kind;
  double peak = s.profile.peak_rate();
  switch (spec.rate.kind) {
    case K::constant:
      return fmt::format("{} req/s", format_rate(peak));
    case K::peak:
      return fmt::format("peak {} req/s (ramp 25%, hold, ramp down)", format_rate(peak));
    case K::ramp:
      return fmt::format("ramp {} -> {} req/s", format_rate(spec.rate.from_rps),
                         format_rate(spec.rate.to_rps));
    case K::steps:
      return fmt::format("steps up to {} req/s", format_rate(peak));
    case K::table:
      return fmt::format("table up to {} req/s", format_rate(peak));
    case K::demo_minutes:
      return fmt::format("{} -> {} rpm on the demo clock", std::lround(s.profile.rate_at(0) * 60),
                         std::lround(peak * 60));
  }
  return {};
}

const char* outcome_color(std::string_view outcome) {
  if (outcome == "ok") return "32";
  if (outcome == "expected_failure") return "33";
  return "31";
}

}  // namespace

void print_plan(std::FILE* out, const scenarios::Scenario& scenario, const load::Plan& plan,
                const Style& style) {
  for (size_t i = 0; i < plan.streams.size(); ++i) {
    const auto& st = plan.streams[i];
    const auto& spec = scenario.streams[i];
    std::string extra;
    if (st.gap_jitter_s)
      extra += fmt::format(", +{}-{} ms between requests", std::lround(st.gap_jitter_s->first * 1e3),
                           std::lround(st.gap_jitter_s->second * 1e3));
    if (st.hard_cap)
      extra += fmt::format(", hard cap {} req/s (burst {})", format_rate(st.hard_cap->refill_per_s),
                           format_rate(st.hard_cap->capacity));
    fmt::print(out, "  {} {}, timeout {}, {} request type{}{}\n", style.bold(st.name),
               describe_rate(spec, st),
               format_seconds(static_cast<double>(st.timeout.count()) / 1e9), st.requests.size(),
               st.requests.size() == 1 ? "" : "s", extra);
  }
  for (const auto& n : plan.notes) fmt::print(out, "  {} {}\n", style.yellow("note:"), n);
  std::fflush(out);
}

std::function<void(const load::RequestEvent&)> verbose_request_logger(const scenarios::Scenario& scenario) {
  Style err_style = Style::for_fd(fileno(stderr));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> names;
  for (const auto& st : scenario.streams) names.push_back(st.name);
  bool color = err_style.color();
  return [t0, names, color](const load::RequestEvent& e) {
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string status = e.status ? std::to_string(e.status) : std::string(e.outcome);
    std::string outcome(e.outcome);
    if (color) outcome = fmt::format("\033[{}m{}\033[0m", outcome_color(e.outcome), outcome);
    fmt::print(stderr, "[{:8.3f}s] {} #{} {} -> {} {} {}\n", t, names[e.stream], e.k,
               e.request_line, status, format_us(e.latency_us), outcome);
  };
}

namespace {

double num(const json::object& o, std::string_view k) {
  return report_number(o, k);
}

uint64_t cnt(const json::object& o, std::string_view k) {
  return report_count(o, k);
}

// The responses by status, then the transport errors by kind.
std::string outcomes_text(const json::object& stats, const Style& st) {
  std::string s = statuses_text(stats, st);
  const auto& e = stats.at("errors").as_object();
  for (const char* k : {"timeout", "connect", "closed_mid_response", "other"}) {
    uint64_t n = cnt(e, k);
    if (n == 0) continue;
    if (!s.empty()) s += ", ";
    s += st.red(fmt::format("{} x{}", k, format_count(n)));
  }
  return s.empty() ? std::string("none") : s;
}

std::string latency_text(const json::object& stats) {
  const auto& lat = stats.at("latency").as_object().at("corrected").as_object();
  if (cnt(lat, "count") == 0) return "-";
  auto f = [&](const char* k) { return format_us(static_cast<int64_t>(num(lat, k))); };
  return fmt::format("p50 {}  p90 {}  p95 {}  p99 {}  max {}", f("p50_us"), f("p90_us"),
                     f("p95_us"), f("p99_us"), f("max_us"));
}

// success / expected failures / unexpected failures, of the requests that completed.
struct Outcomes {
  uint64_t requests, expected, unexpected, success, dropped;
};
Outcomes outcomes(const json::object& stats) {
  Outcomes o{};
  o.requests = cnt(stats, "requests");
  o.expected = cnt(stats, "expected_failures");
  o.unexpected = cnt(stats, "unexpected_failures");
  o.success = o.requests >= o.expected + o.unexpected ? o.requests - o.expected - o.unexpected : 0;
  o.dropped = cnt(stats, "dropped");
  return o;
}

std::string pct(uint64_t n, uint64_t of) {
  return of ? fmt::format("{:.1f}%", 100.0 * static_cast<double>(n) / static_cast<double>(of))
            : "-";
}

}  // namespace

void print_scenario_summary(std::FILE* out, const json::object& report,
                            const std::vector<scenarios::ThresholdResult>& thresholds,
                            const Style& st) {
  double duration = num(report, "duration_s");
  const auto& streams = report.at("streams").as_array();
  for (const auto& sv : streams) {
    const auto& s = sv.as_object();
    auto o = outcomes(s);
    fmt::print(out, "\n  {}  {} requests in {} ({} req/s)\n", st.bold(std::string(s.at("name").as_string())),
               format_count(o.requests), format_seconds(duration),
               format_rate(num(s, "achieved_rps")));
    std::string success = fmt::format("success {} ({})", pct(o.success, o.requests),
                                      format_count(o.success));
    fmt::print(out, "    {}  ·  expected failures {} ({})  ·  unexpected failures {} ({}){}\n",
               o.unexpected == 0 ? st.green(success) : success, format_count(o.expected),
               pct(o.expected, o.requests),
               o.unexpected ? st.red(format_count(o.unexpected)) : format_count(o.unexpected),
               pct(o.unexpected, o.requests),
               o.dropped ? fmt::format("  ·  dropped {}", st.yellow(format_count(o.dropped)))
                         : std::string());
    fmt::print(out, "    latency   {}\n", latency_text(s));
    fmt::print(out, "    statuses  {}\n", outcomes_text(s, st));
    if (auto c = s.find("counters"); c != s.end() && c->value().is_object()) {
      std::string text;
      int64_t total = 0;
      for (const auto& [k, v] : c->value().as_object()) {
        int64_t n = v.to_number<int64_t>();
        total += n;
        if (!text.empty()) text += "  ·  ";
        text += fmt::format("{} {}", std::string(k), format_count(static_cast<uint64_t>(n)));
      }
      uint64_t ok = o.success;
      fmt::print(out, "    tokens    {}  ·  total {}{}\n", text,
                 format_count(static_cast<uint64_t>(total)),
                 ok ? fmt::format("  ·  {} per successful request",
                                  format_count(static_cast<uint64_t>(total) / ok))
                    : std::string());
    }
    const auto& eps = s.at("endpoints").as_array();
    if (eps.size() > 1) {
      fmt::print(out, "    {}\n", st.dim(fmt::format("{:<34}{:>9}{:>9}{:>10}{:>10}{:>10}", "endpoint",
                                                     "requests", "share", "ok", "injected",
                                                     "p95")));
      for (const auto& ev : eps) {
        const auto& e = ev.as_object();
        auto eo = outcomes(e);
        const auto& lat = e.at("latency").as_object().at("corrected").as_object();
        std::string name(e.at("name").as_string());
        if (name.size() > 33) name = name.substr(0, 32) + "~";
        fmt::print(out, "    {:<34}{:>9}{:>9}{:>10}{:>10}{:>10}\n", name,
                   format_count(eo.requests), pct(eo.requests, o.requests),
                   pct(eo.success, eo.requests), eo.expected ? pct(eo.expected, eo.requests) : "-",
                   cnt(lat, "count") ? format_us(static_cast<int64_t>(num(lat, "p95_us"))) : "-");
      }
    }
  }
  if (auto ts = report.find("traffic_stats"); ts != report.end()) {
    fmt::print(out, "\n  {} {}\n", st.bold("traffic_stats"), json::serialize(ts->value()));
  }
  if (!thresholds.empty()) {
    fmt::print(out, "\n  {}\n", st.bold("thresholds"));
    for (const auto& t : thresholds) {
      fmt::print(out, "    {} {}{}  (actual {})\n", t.passed ? st.green("PASS") : st.red("FAIL"),
                 t.stream.empty() ? "" : t.stream + ": ", t.threshold.text, t.actual_text);
    }
  }
  fmt::print(out, "\n");
}

void print_wrapped(std::FILE* out, const std::string& text, size_t width,
                   const std::string& indent) {
  // Each line of the text is a paragraph; narration keeps long words (URLs) whole.
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string paragraph = text.substr(start, end - start);
    if (paragraph.find_first_not_of(' ') != std::string::npos)
      for (const auto& line : wrap_words(paragraph, width - indent.size(), false))
        fmt::print(out, "{}{}\n", indent, line);
    start = end + 1;
  }
}

std::vector<std::string> wrap_words(const std::string& text, size_t width, bool cut_long_words) {
  std::vector<std::string> lines;
  std::string line;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    std::string word = text.substr(i, j - i);
    i = j + 1;
    if (word.empty()) continue;
    while (cut_long_words && word.size() > width) {  // longer than the column: cut, marked
      if (!line.empty()) lines.push_back(std::move(line)), line.clear();
      lines.push_back(word.substr(0, width - 1) + "-");
      word = word.substr(width - 1);
    }
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

}  // namespace trafficsim::cli
