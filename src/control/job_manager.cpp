#include "control/job_manager.hpp"

#include "telemetry/otlp_exporter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include <boost/json/parse.hpp>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "jobs/activity_job.hpp"
#include "telemetry/log_buffer.hpp"
#include "telemetry/span.hpp"
#include "scenarios/builtin.hpp"
#include "scenarios/scenario.hpp"

namespace trafficsim::control {

namespace json = boost::json;
using http::ApiError;

namespace {

struct CardScenario {
  const char* name;
  const char* title;
};
// The Traffic Simulator card's radios, in the seed's order.
constexpr CardScenario kCard[] = {{"normal", "Normal Traffic"},
                                  {"peak", "Peak Usage"},
                                  {"error", "Error Injection"},
                                  {"latency", "Latency Degradation"},
                                  {"stress", "Stress Test (Safe)"}};
const std::vector<std::string> kEndpoints = {"list", "create", "get", "update"};

bool is_card(std::string_view name) {
  return std::any_of(std::begin(kCard), std::end(kCard),
                     [&](const CardScenario& c) { return name == c.name; });
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string title_of(const std::string& name) {
  for (const auto& c : kCard)
    if (name == c.name) return c.title;
  if (name == "blackfriday") return "Black Friday (baseline + demo)";
  std::string t = name;
  std::replace(t.begin(), t.end(), '_', ' ');
  if (!t.empty()) t[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
  return t;
}

[[noreturn]] void bad(std::string field, std::string message, std::string code = "invalid_value") {
  throw ApiFailure(ApiError{400, std::move(code), std::move(field), std::move(message)});
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

json::value json_number(double v) {
  if (v == std::floor(v) && std::abs(v) < 9e15) return json::value(static_cast<int64_t>(v));
  return json::value(v);
}

namespace {

std::string fmt_number(double v) {
  return v == std::floor(v) ? fmt::format("{:.0f}", v) : fmt::format("{}", v);
}

}  // namespace

std::string new_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          static_cast<uint64_t>(core::monotonic_now_ns())};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

StartRequest parse_start_request(std::string_view body) {
  if (body.empty()) bad("body", "the body must be a JSON object with at least \"scenario\"",
                        "missing_field");
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) bad("body", fmt::format("the body is not valid JSON: {}", ec.message()), "invalid_json");
  if (!v.is_object()) bad("body", "the body must be a JSON object", "invalid_type");
  const json::object& o = v.get_object();
  StartRequest r;
  static const std::vector<std::string> known = {"scenario", "duration", "maxRps", "endpoints",
                                                 "timeScale"};
  for (const auto& kv : o)
    if (!contains(known, kv.key()))
      bad(std::string(kv.key()),
          fmt::format("unknown field '{}': expected {}", std::string(kv.key()), joined(known)),
          "unknown_field");
  auto sc = o.find("scenario");
  if (sc == o.end()) bad("scenario", "scenario is required", "missing_field");
  if (!sc->value().is_string() || sc->value().get_string().empty())
    bad("scenario", "scenario must be a non-empty string", "invalid_type");
  r.scenario = std::string(sc->value().get_string());
  if (auto d = o.find("duration"); d != o.end() && !d->value().is_null()) {
    double s = 0;
    if (d->value().is_number()) {
      s = d->value().to_number<double>();
    } else if (d->value().is_string()) {
      std::string text(d->value().get_string());
      auto ns = core::parse_duration(text);
      if (!ns)
        bad("duration", fmt::format("invalid duration '{}': expected seconds or 30s, 2m, 1h",
                                    text));
      s = static_cast<double>(ns->count()) / 1e9;
    } else {
      bad("duration", "duration must be seconds (a number) or a string like \"2m\"",
          "invalid_type");
    }
    double max_s = std::chrono::duration<double>(core::kMaxDuration).count();
    if (!(s > 0) || s > max_s)
      bad("duration", fmt::format("duration must be more than 0 and at most {} s", max_s));
    r.duration_s = s;
  }
  if (auto m = o.find("maxRps"); m != o.end() && !m->value().is_null()) {
    if (!m->value().is_number()) bad("maxRps", "maxRps must be a number", "invalid_type");
    double rps = m->value().to_number<double>();
    if (!(rps > 0) || rps > core::kMaxRateRps)
      bad("maxRps", fmt::format("maxRps must be more than 0 and at most {}", core::kMaxRateRps));
    r.max_rps = rps;
  }
  if (auto t = o.find("timeScale"); t != o.end() && !t->value().is_null()) {
    if (!t->value().is_number()) bad("timeScale", "timeScale must be a number", "invalid_type");
    double scale = t->value().to_number<double>();
    if (!(scale > 0) || scale > 3600)
      bad("timeScale", "timeScale must be more than 0 and at most 3600");
    r.time_scale = scale;
  }
  if (auto e = o.find("endpoints"); e != o.end() && !e->value().is_null()) {
    std::vector<std::string> list;
    if (e->value().is_string()) {
      list.push_back(std::string(e->value().get_string()));
    } else if (e->value().is_array()) {
      for (const auto& x : e->value().get_array()) {
        if (!x.is_string()) bad("endpoints", "endpoints must be strings", "invalid_type");
        list.push_back(std::string(x.get_string()));
      }
    } else {
      bad("endpoints", "endpoints must be \"all\" or a list of list, create, get, update",
          "invalid_type");
    }
    if (list.empty()) bad("endpoints", "endpoints must not be empty");
    if (!(list.size() == 1 && list[0] == "all")) {
      for (const auto& x : list)
        if (!contains(kEndpoints, x))
          bad("endpoints", fmt::format("unknown endpoint '{}': expected all, or some of {}", x,
                                       joined(kEndpoints)));
      r.endpoints = list;
    }
  }
  return r;
}

JobManager::JobManager(ManagerOptions options) : options_(std::move(options)) {
  if (!options_.activity_spans) options_.activity_spans = std::make_shared<telemetry::SpanBuffer>();
  if (!options_.activity_logs) options_.activity_logs = std::make_shared<telemetry::LogBuffer>();
  if (!options_.activity_registry || !options_.activity_metrics) {
    options_.activity_registry = std::make_shared<telemetry::Registry>();
    // The metrics hold references into the registry: the registry lives as long as they do.
    auto registry = options_.activity_registry;
    options_.activity_metrics = std::shared_ptr<activity::ActivityMetrics>(
        new activity::ActivityMetrics(*registry), [registry](activity::ActivityMetrics* m) { delete m; });
  }
  housekeeper_ = std::thread([this] { housekeeping(); });
}

JobManager::~JobManager() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  housekeeper_.join();
  stop_all();
  wait_all();
}

void JobManager::housekeeping() {
  std::unique_lock lock(mu_);
  const auto beat = std::max(options_.heartbeat, std::chrono::milliseconds(10));
  const auto tick = std::min<std::chrono::milliseconds>(beat, std::chrono::seconds(1));
  auto next_beat = std::chrono::steady_clock::now() + beat;
  while (!closing_) {
    cv_.wait_for(lock, tick);
    if (closing_) break;
    auto jobs = jobs_;
    lock.unlock();
    if (std::chrono::steady_clock::now() >= next_beat) {
      for (const auto& j : jobs) j->heartbeat();
      next_beat = std::chrono::steady_clock::now() + beat;
    }
    sweep();
    lock.lock();
  }
}

void JobManager::sweep() {
  double now = static_cast<double>(core::monotonic_now_ns()) / 1e9;
  double keep_s = static_cast<double>(options_.retention.count()) / 1000.0;
  std::vector<std::shared_ptr<ControlJob>> expired;
  {
    std::lock_guard lock(mu_);
    std::erase_if(jobs_, [&](const std::shared_ptr<ControlJob>& j) {
      auto ended = j->ended_mono_s();
      if (!ended || now - *ended < keep_s) return false;
      expired.push_back(j);
      return true;
    });
  }
  for (auto& j : expired) j->join();  // outside the lock: its thread has ended
}

std::shared_ptr<ControlJob> JobManager::add(JobSpec spec) {
  std::lock_guard lock(mu_);
  std::vector<std::string> running;
  for (const auto& j : jobs_)
    if (j->active()) running.push_back(j->id());
  if (running.size() >= options_.max_jobs) {
    json::array ids;
    for (const auto& id : running) ids.emplace_back(id);
    throw ApiFailure(
        ApiError{409, "too_many_jobs", "scenario",
                 fmt::format("{} jobs are running (at most {}; --max-jobs): stop one of {} first",
                             running.size(), options_.max_jobs, joined(running))},
        json::object{{"running", std::move(ids)}});
  }
  auto job = std::make_shared<ControlJob>(new_uuid(), std::move(spec));
  jobs_.push_back(job);
  return job;
}

json::object JobManager::start_activity(const StartRequest& req) {
  if (req.max_rps)
    bad("maxRps", "scenario 'activity' has no request rate: it makes 3-6 activities every 2 s");
  if (req.endpoints) bad("endpoints", "scenario 'activity' does not choose endpoints");
  if (req.time_scale)
    bad("timeScale", "scenario 'activity' does not run on the demo clock: timeScale has no effect "
                     "on it");
  JobSpec spec;
  spec.kind = "activity";
  spec.scenario = std::string(kActivityScenario);
  spec.title = "Demo activity";
  spec.duration_s = req.duration_s.value_or(kDefaultDurationS);
  spec.endpoints.emplace_back("all");
  jobs::ActivityJobSettings settings;
  settings.run.generator.seed = options_.seed ? options_.seed : std::random_device{}();
  settings.run.duration = std::chrono::nanoseconds(static_cast<int64_t>(*spec.duration_s * 1e9));
  settings.exporter = options_.exporter;  // shared: its metrics source stays its owner's
  if (options_.make_activity_exporter) {
    if (auto own = options_.make_activity_exporter()) {
      settings.exporter = std::move(own);
      settings.export_metrics = true;
    }
  }
  settings.tap_spans = options_.activity_spans;
  settings.tap_logs = options_.activity_logs;
  settings.tap_metrics = options_.activity_metrics;
  auto job = add(spec);
  job->start([settings](ControlJob& cj) -> json::value {
    jobs::ActivityJob aj(settings);
    cj.running([&aj] { aj.stop(); });
    jobs::ActivityResult r = aj.run();
    if (settings.export_metrics && settings.exporter) {
      settings.exporter->shutdown();  // its own: everything sent (5 s at most) before "done"
      r.report["export"] = settings.exporter->stats_json();
    }
    cj.finished_running(r.totals.stopped);
    return json::value(std::move(r.report));
  });
  json::object out = job->state_json();
  out["status"] = "starting";
  return out;
}

json::object JobManager::start(const StartRequest& req) {
  if (req.scenario == kActivityScenario) return start_activity(req);
  const auto& modes = scenarios::mode_names();
  const auto& names = scenarios::scenario_names();
  bool is_mode = contains(modes, req.scenario);
  if (!is_mode && !contains(names, req.scenario)) {
    std::vector<std::string> all = names;
    all.insert(all.end(), modes.begin(), modes.end());
    all.emplace_back(kActivityScenario);
    bad("scenario", fmt::format("unknown scenario '{}': expected one of {}", req.scenario,
                                joined(all)));
  }
  bool capped = is_mode || is_card(req.scenario);
  JobSpec spec;
  spec.scenario = req.scenario;
  spec.title = title_of(req.scenario);
  std::map<std::string, std::string> params;
  if (capped) {
    double requested = req.max_rps.value_or(options_.hard_cap);
    double rps = std::min(requested, options_.hard_cap);
    spec.max_rps = rps;
    if (requested > options_.hard_cap) {
      spec.clamped = true;
      spec.requested_max_rps = requested;
    }
    params[is_mode ? "rate" : "max_rps"] = fmt_number(rps);
    params["hard_cap"] = fmt_number(options_.hard_cap);
  }
  if (req.endpoints) {
    std::string list;
    for (const auto& e : *req.endpoints) {
      list += (list.empty() ? "" : ",") + e;
      spec.endpoints.emplace_back(e);
    }
    params["endpoints"] = list;
  } else {
    spec.endpoints.emplace_back("all");
  }
  scenarios::LoadOptions lo;
  lo.params = params;
  scenarios::Scenario sc;
  try {
    sc = scenarios::load_scenario(*scenarios::builtin_source(req.scenario), lo);
  } catch (const std::exception& e) {
    bad("scenario", e.what());
  }
  if (req.endpoints && !sc.used_params.count("endpoints"))
    bad("endpoints", fmt::format("scenario '{}' does not choose endpoints", req.scenario));
  if (req.time_scale && !sc.demo_clock)
    bad("timeScale", fmt::format("scenario '{}' does not run on the demo clock: timeScale has no "
                                 "effect on it",
                                 req.scenario));
  spec.dual_mode = sc.demo_clock;
  for (const auto& s : sc.streams) spec.stream_names.push_back(s.name);
  std::optional<scenarios::DemoClockSpec> clock;
  if (sc.demo_clock) clock = demo_clock_for(req.time_scale.value_or(default_time_scale()));
  double scale = clock ? clock->time_scale : req.time_scale.value_or(default_time_scale());
  if (req.duration_s) {
    spec.duration_s = req.duration_s;
  } else if (!sc.demo_clock) {
    spec.duration_s = kDefaultDurationS;
  } else if (sc.duration) {
    spec.duration_s = static_cast<double>(sc.duration->count()) / 1e9 / scale;
  }

  jobs::TrafficJobSettings settings;
  settings.url = options_.target_url;
  if (spec.duration_s)
    settings.duration = std::chrono::nanoseconds(static_cast<int64_t>(*spec.duration_s * 1e9));
  settings.seed = options_.seed ? options_.seed : (std::random_device{}() | 1u);
  settings.threads = options_.threads;
  settings.trace_ratio = options_.trace_ratio;
  settings.exporter = options_.exporter;
  settings.client_spans = options_.client_spans;
  if (capped) settings.hard_cap = options_.hard_cap;
  if (sc.demo_clock) {
    settings.clock = clock;
    if (!clock) settings.time_scale = scale;
  }
  auto job = add(spec);
  job->start([sc = std::move(sc), params, settings](ControlJob& cj) -> json::value {
    jobs::TrafficJob tj(sc, params, settings);
    tj.subscribe([&cj](const jobs::TrafficSnapshot& s) { cj.publish(s, std::nullopt); });
    cj.running([&tj] { tj.stop(); });
    jobs::TrafficResult r = tj.run();
    cj.finished_running(r.stopped);
    return json::value(std::move(r.report));
  });
  json::object out = job->state_json();
  out["status"] = "starting";
  return out;
}

namespace {

// Tees a script's phases to the terminal's observer and publishes them on the job, on one time
// line: `elapsed` counts from the script's start and the counters run on across phases (each
// phase is a run of its own, whose counters start at 0); `phase.elapsed` is the phase's own.
class ScriptObserver : public jobs::DemoScriptObserver {
 public:
  ScriptObserver(ControlJob& job, jobs::DemoScriptObserver* next, size_t count)
      : job_(job), next_(next), count_(count), start_ns_(core::monotonic_now_ns()) {}
  void phase_started(const jobs::PhaseSummary& s, const scenarios::Phase& p,
                     const jobs::TrafficJob& j) override {
    phase_offset_s_ = static_cast<double>(core::monotonic_now_ns() - start_ns_) / 1e9;
    if (next_) next_->phase_started(s, p, j);
  }
  void snapshot(const jobs::PhaseSummary& s, const jobs::TrafficSnapshot& snap) override {
    jobs::TrafficSnapshot continued = snap;
    continued.engine.elapsed_s += phase_offset_s_;
    add(continued.engine.total, totals_);
    for (auto& stream : continued.engine.streams) add(stream, by_stream_[stream.name]);
    last_ = snap;
    PhaseInfo info{s.index, count_, s.title};
    info.elapsed_s = snap.engine.elapsed_s;
    job_.publish(continued, info);
    if (next_) next_->snapshot(s, snap);
  }
  void phase_ended(const jobs::PhaseSummary& s, const jobs::TrafficResult& r) override {
    if (last_) {  // the phase's final snapshot holds its cumulative counters
      accumulate(totals_, last_->engine.total);
      for (const auto& stream : last_->engine.streams) accumulate(by_stream_[stream.name], stream);
      last_.reset();
    }
    if (next_) next_->phase_ended(s, r);
  }

 private:
  struct Counters {
    uint64_t requests = 0, errors = 0, dropped = 0, completed = 0, expected_failures = 0;
  };
  static void add(load::StreamSnapshot& s, const Counters& c) {
    s.requests += c.requests;
    s.errors += c.errors;
    s.dropped += c.dropped;
    s.completed += c.completed;
    s.expected_failures += c.expected_failures;
  }
  static void accumulate(Counters& c, const load::StreamSnapshot& s) {
    c.requests += s.requests;
    c.errors += s.errors;
    c.dropped += s.dropped;
    c.completed += s.completed;
    c.expected_failures += s.expected_failures;
  }

  ControlJob& job_;
  jobs::DemoScriptObserver* next_;
  size_t count_;
  int64_t start_ns_;
  double phase_offset_s_ = 0;
  Counters totals_;
  std::map<std::string, Counters> by_stream_;
  std::optional<jobs::TrafficSnapshot> last_;
};

}  // namespace

std::shared_ptr<ControlJob> JobManager::start_script(scenarios::DemoScript script,
                                                     std::vector<scenarios::Scenario> phases,
                                                     double time_scale,
                                                     jobs::DemoScriptObserver* observer,
                                                     std::function<void(const jobs::DemoScriptResult&)>
                                                         on_result) {
  JobSpec spec;
  spec.kind = "script";
  spec.scenario = script.name;
  spec.title = script.description.empty() ? script.name : script.description;
  spec.duration_s = static_cast<double>(script.total().count()) / 1e9 / time_scale;
  spec.endpoints.emplace_back("all");
  for (const auto& sc : phases)
    for (const auto& s : sc.streams)
      if (!contains(spec.stream_names, s.name)) spec.stream_names.push_back(s.name);
  jobs::DemoScriptSettings settings;
  settings.url = options_.target_url;
  settings.time_scale = time_scale;
  settings.seed = options_.seed ? options_.seed : 1;
  settings.threads = options_.threads;
  settings.trace_ratio = options_.trace_ratio;
  settings.exporter = options_.exporter;
  settings.client_spans = options_.client_spans;
  bool any_demo_clock = std::any_of(phases.begin(), phases.end(),
                                    [](const scenarios::Scenario& sc) { return sc.demo_clock; });
  settings.clock = options_.clock;
  if (any_demo_clock && options_.start_demo_clock) settings.clock = demo_clock_for(time_scale);
  auto job = add(spec);
  job->start([script = std::move(script), phases = std::move(phases), settings,
              observer, on_result](ControlJob& cj) mutable -> json::value {
    jobs::DemoScriptJob sj(script, std::move(phases), settings);
    ScriptObserver tee(cj, observer, script.phases.size());
    sj.set_observer(&tee);
    cj.running([&sj] { sj.stop(); });
    jobs::DemoScriptResult r = sj.run();
    cj.finished_running(r.stopped);
    if (on_result) on_result(r);
    json::array reports;
    for (auto& rep : r.reports) reports.emplace_back(std::move(rep));
    json::object out{{"phases", std::move(reports)}};
    if (r.failed_phase) {
      out["failed_phase"] = *r.failed_phase;
      out["failure"] = r.failure;
    }
    return out;
  });
  return job;
}

double JobManager::default_time_scale() const {
  return options_.time_scale.value_or(options_.clock ? options_.clock->time_scale : 1);
}

std::optional<scenarios::DemoClockSpec> JobManager::demo_clock_for(double time_scale) {
  if (!options_.start_demo_clock) return options_.clock;
  std::lock_guard lock(mu_);
  bool running = std::any_of(jobs_.begin(), jobs_.end(), [](const std::shared_ptr<ControlJob>& j) {
    return j->spec().dual_mode && j->active();
  });
  if (running && started_clock_) return started_clock_;
  scenarios::DemoClockSpec clock{core::unix_now_s(), time_scale, 30};
  if (!options_.start_demo_clock(clock)) return options_.clock;
  started_clock_ = clock;
  return clock;
}

std::shared_ptr<ControlJob> JobManager::find(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& j : jobs_)
    if (j->id() == id) return j;
  return nullptr;
}

std::vector<std::shared_ptr<ControlJob>> JobManager::list() const {
  std::lock_guard lock(mu_);
  return {jobs_.rbegin(), jobs_.rend()};
}

std::optional<json::object> JobManager::traffic_stats() const {
  for (const auto& j : list()) {
    if (!j->spec().dual_mode || !j->active()) continue;
    if (auto snap = j->latest()) return traffic_stats_json(*snap);
  }
  return std::nullopt;
}

json::object JobManager::scenarios_json() const {
  json::array list;
  for (const auto& info : scenarios::builtin_list()) {
    if (info.kind == scenarios::BuiltinKind::script) continue;
    json::object o;
    o["name"] = info.name;
    o["title"] = title_of(info.name);
    o["description"] = info.description;
    o["kind"] = info.kind == scenarios::BuiltinKind::mode ? "mode" : "scenario";
    o["card"] = is_card(info.name);
    bool capped = info.kind == scenarios::BuiltinKind::mode || is_card(info.name);
    o["capped"] = capped;
    o["dualMode"] = info.name == "blackfriday";
    list.emplace_back(std::move(o));
  }
  list.emplace_back(json::object{
      {"name", kActivityScenario},
      {"title", "Demo activity"},
      {"description",
       "Seed 003: 3-6 HTTP, database, job and cache activities every 2 s as spans, metrics and "
       "logs, a warning every 10 s, an error every 24 s (docs/activity.md)"},
      {"kind", "activity"},
      {"card", false},
      {"capped", false},
      {"dualMode", false}});
  // The card's five first, in the seed's order.
  std::stable_sort(list.begin(), list.end(), [](const json::value& a, const json::value& b) {
    auto rank = [](const json::value& v) {
      std::string_view n = v.at("name").get_string();
      for (size_t i = 0; i < std::size(kCard); ++i)
        if (n == kCard[i].name) return static_cast<int>(i);
      return 100;
    };
    return rank(a) < rank(b);
  });
  json::array endpoints{"all"};
  for (const auto& e : kEndpoints) endpoints.emplace_back(e);
  return json::object{
      {"hardCap", json_number(options_.hard_cap)},
      {"defaults",
       json::object{{"duration", json_number(kDefaultDurationS)},
                    {"maxRps", json_number(options_.hard_cap)},
                    {"endpoints", "all"}}},
      {"endpoints", std::move(endpoints)},
      {"durations", json::array{30, 60, 120, 300, 600}},
      {"scenarios", std::move(list)}};
}

void JobManager::stop_all() {
  for (const auto& j : list()) j->stop();
}

void JobManager::wait_all() {
  for (const auto& j : list()) j->join();
}

bool JobManager::flush_streams(std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  for (;;) {
    bool all = true;
    for (const auto& j : list()) all = j->streams_flushed() && all;
    if (all) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    // Shutdown only: the io threads write, nothing announces the last byte out.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace trafficsim::control
