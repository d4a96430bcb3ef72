#include "cli/scenario_runner.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "cli/progress.hpp"
#include "cli/summary.hpp"
#include "cli/target_command.hpp"
#include "http/simple_get.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"
#include "scenarios/run_report.hpp"
#include "demo_service/demo_clock.hpp"
#include "demo_service/target_service.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SessionTarget::SessionTarget() = default;
SessionTarget::~SessionTarget() { close(); }

void SessionTarget::open(const TargetChoice& choice, const scenarios::DemoClockSpec* clock) {
  if (!choice.url.empty()) {
    url_ = choice.url;
    while (url_.size() > 1 && url_.back() == '/') url_.pop_back();
    return;
  }
  fmt::print("Starting the built-in target (catalog of {} rows; generated once, then reused)...\n",
             format_count(static_cast<uint64_t>(choice.catalog_rows)));
  std::fflush(stdout);
  demo_service::TargetOptions t;
  t.host = "127.0.0.1";
  t.port = 0;
  t.data_dir = choice.data_dir.empty() ? default_data_dir() : choice.data_dir;
  t.catalog_rows = choice.catalog_rows;
  t.access_log = "off";
  t.seed = choice.seed;
  if (clock) {
    t.demo.enabled = true;
    t.demo.mode = "blackfriday";
    t.demo.start_unix_seconds = clock->start_unix;
    t.demo.time_scale = clock->time_scale;
    t.demo.duration_minutes = clock->duration_minutes;
  }
  try {
    service_ = std::make_unique<demo_service::TargetService>(std::move(t));
    service_->start();
  } catch (const demo_service::TargetError& e) {
    service_.reset();
    throw std::runtime_error(fmt::format("cannot start the built-in target: {}", e.what()));
  }
  url_ = service_->url();
}

void SessionTarget::close() {
  if (service_) {
    service_->stop();
    service_.reset();
  }
}

scenarios::DemoClockSpec resolve_demo_clock(const std::string& url,
                                            std::optional<double> time_scale, double now_unix,
                                            std::vector<std::string>* notes) {
  scenarios::DemoClockSpec clock;
  try {
    auto env = demo_service::demo_settings_from_env([](const char* n) { return std::getenv(n); },
                                              now_unix);
    clock.start_unix = env.start_unix_seconds;
    clock.time_scale = env.time_scale;
    clock.duration_minutes = env.duration_minutes;
  } catch (const demo_service::ConfigError& e) {
    throw UsageError(e.what());
  }
  if (time_scale) clock.time_scale = *time_scale;
  if (url.empty()) return clock;
  // A trafficsim target tells its clock at /health; adopting it makes both tell the same minute.
  std::string error;
  auto parsed = http::parse_url(url + "/health", &error);
  if (!parsed || parsed->tls()) return clock;
  auto r = http::simple_get(*parsed, std::chrono::seconds(3), &error);
  if (!r || r->status != 200) {
    notes->push_back(fmt::format("could not read {}/health ({}): using this run's own demo clock",
                                 url, r ? fmt::format("status {}", r->status) : error));
    return clock;
  }
  json::value v;
  try {
    v = json::parse(r->body);
  } catch (const std::exception&) {
    return clock;
  }
  const json::object* demo = nullptr;
  if (v.is_object())
    if (auto it = v.as_object().find("demo"); it != v.as_object().end() && it->value().is_object())
      demo = &it->value().as_object();
  if (!demo) {
    notes->push_back("the target is not a trafficsim target (no demo clock in /health): using "
                     "this run's own demo clock");
    return clock;
  }
  auto num = [&](const char* k, double def) {
    auto it = demo->find(k);
    return it != demo->end() && it->value().is_number() ? it->value().to_number<double>() : def;
  };
  bool enabled = demo->contains("enabled") && demo->at("enabled").is_bool() &&
                 demo->at("enabled").as_bool();
  if (!enabled) {
    notes->push_back("the target's demo mode is off (start it with DEMO_MODE=blackfriday): its "
                     "recommendations will not degrade");
    return clock;
  }
  scenarios::DemoClockSpec adopted{num("start_timestamp", clock.start_unix),
                                   num("time_scale", clock.time_scale),
                                   num("duration_minutes", clock.duration_minutes)};
  if (time_scale && std::abs(*time_scale - adopted.time_scale) > 1e-9)
    notes->push_back(fmt::format("--time-scale {:g} ignored: the target's clock runs at {:g}",
                                 *time_scale, adopted.time_scale));
  notes->push_back(fmt::format("adopted the target's demo clock: minute {:.1f}, time scale {:g}",
                               scenarios::demo_minute(adopted, now_unix), adopted.time_scale));
  return adopted;
}

bool RunOutcome::thresholds_passed() const {
  for (const auto& t : thresholds)
    if (!t.passed) return false;
  return true;
}

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

RunOutcome run_scenario(const scenarios::Scenario& scenario,
                        const std::map<std::string, std::string>& params, const RunSettings& s,
                        std::FILE* out, const Style& style) {
  scenarios::BuildOptions b;
  b.url = s.url;
  b.duration = s.duration;
  b.seed = s.seed;
  b.threads = s.threads > 0 ? s.threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  b.hard_cap = s.hard_cap;
  b.clock = s.clock;
  b.now_unix = unix_now();
  load::Plan plan = scenarios::build_plan(scenario, b);

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

  auto started_unix = unix_now();
  if (s.verbose) {
    // One line per finished request on stderr (stdio locks the stream per call: a debugging aid
    // that costs throughput, never on by default).
    Style err_style = Style::for_fd(fileno(stderr));
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> names;
    for (const auto& st : plan.streams) names.push_back(st.name);
    bool color = err_style.color();
    plan.on_request = [t0, names, color](const load::RequestEvent& e) {
      double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::string status = e.status ? std::to_string(e.status) : std::string(e.outcome);
      std::string outcome(e.outcome);
      if (color) outcome = fmt::format("\033[{}m{}\033[0m", outcome_color(e.outcome), outcome);
      fmt::print(stderr, "[{:8.3f}s] {} #{} {} -> {} {} {}\n", t, names[e.stream], e.k,
                 e.request_line, status, format_us(e.latency_us), outcome);
    };
  }

  load::Engine engine(plan);
  ProgressLine progress(stderr, s.quiet || s.verbose);
  progress.set_prefix(s.progress_prefix);
  if (plan.streams.size() > 1 || s.clock) {
    auto clock = s.clock;
    progress.set_suffix([clock, started_unix](const load::Snapshot& snap) {
      std::string x;
      if (snap.streams.size() > 1)
        for (const auto& st : snap.streams)
          x += fmt::format("  | {} {}/s {:.1f}%", st.name, format_rate(st.interval_rps),
                           st.interval_error_ratio * 100);
      if (clock)
        x += fmt::format("  | demo minute {:.1f}",
                         scenarios::demo_minute(*clock, started_unix + snap.elapsed_s));
      return x;
    });
  }
  load::RunResult result =
      engine.run([&](const load::Snapshot& snap) { progress.update(snap); }, s.stop_fd);
  progress.finish();

  RunOutcome o;
  o.stopped = result.stopped_early;
  o.report = load::build_report(plan, result, TRAFFICSIM_VERSION);
  o.thresholds = scenarios::evaluate_thresholds(scenario, o.report);
  std::optional<json::object> stats;
  if (s.clock)
    // The demo minute when issuing ended (not after in-flight requests drained).
    stats = scenarios::traffic_stats(plan, scenario, o.report, &*s.clock,
                                     started_unix + result.duration_s);
  scenarios::annotate_report(o.report, scenario, params, o.thresholds,
                             s.clock ? &*s.clock : nullptr, stats ? &*stats : nullptr);
  return o;
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
  for (const char* k : {"timeout", "connect", "other"}) {
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
  std::string line;
  size_t i = 0;
  auto flush = [&] {
    fmt::print(out, "{}{}\n", indent, line);
    line.clear();
  };
  while (i < text.size()) {
    if (text[i] == '\n') {
      if (!line.empty()) flush();
      ++i;
      continue;
    }
    size_t j = text.find_first_of(" \n", i);
    if (j == std::string::npos) j = text.size();
    std::string word = text.substr(i, j - i);
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) flush();
    if (!word.empty()) line += (line.empty() ? "" : " ") + word;
    i = j < text.size() && text[j] == ' ' ? j + 1 : j;
  }
  if (!line.empty()) flush();
}

}  // namespace trafficsim::cli
