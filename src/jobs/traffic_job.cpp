#include "jobs/traffic_job.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/clock.hpp"
#include "jobs/client_tracing.hpp"
#include "load/report.hpp"
#include "scenarios/run_report.hpp"
#include "telemetry/otlp_exporter.hpp"

#ifndef TRAFFICSIM_VERSION
#define TRAFFICSIM_VERSION "dev"
#endif

namespace trafficsim::jobs {

bool TrafficResult::thresholds_passed() const {
  return std::all_of(thresholds.begin(), thresholds.end(),
                     [](const scenarios::ThresholdResult& t) { return t.passed; });
}

struct TrafficJob::Impl {
  scenarios::Scenario scenario;
  std::map<std::string, std::string> params;
  TrafficJobSettings settings;
  TargetSession target;
  std::vector<std::string> notes;
  load::Plan plan;
  std::unique_ptr<ClientTracer> tracer;  // --trace-ratio: plan.on_spans

  EventFlag stop_flag;
  std::atomic<bool> stop_requested{false};
  JobRunner<TrafficResult> runner;

  mutable std::mutex mu;  // guards subscribers and latest (control paths only)
  std::vector<std::pair<uint64_t, Subscriber>> subscribers;
  uint64_t next_id = 1;
  std::optional<TrafficSnapshot> latest;

  void publish(const TrafficSnapshot& snap) {
    std::vector<Subscriber> fns;
    {
      std::lock_guard lock(mu);
      latest = snap;
      fns.reserve(subscribers.size());
      for (const auto& [id, fn] : subscribers) fns.push_back(fn);
    }
    for (const auto& fn : fns) fn(snap);
  }

  TrafficResult execute() {
    const double started_unix = core::unix_now_s();
    load::Engine engine(plan);
    const auto clock = settings.clock;
    load::RunResult run = engine.run(
        [&](const load::Snapshot& s) {
          TrafficSnapshot snap{s, std::nullopt};
          if (clock) snap.demo_minute = scenarios::demo_minute(*clock, started_unix + s.elapsed_s);
          publish(snap);
        },
        stop_flag.fd());
    TrafficResult r;
    r.stopped = run.stopped_early;
    r.report = load::build_report(plan, run, TRAFFICSIM_VERSION);
    r.thresholds = scenarios::evaluate_thresholds(scenario, r.report);
    std::optional<boost::json::object> stats;
    if (clock)
      // The demo minute when issuing ended (not after in-flight requests drained).
      stats = scenarios::traffic_stats(plan, scenario, r.report, &*clock,
                                       started_unix + run.duration_s);
    scenarios::annotate_report(r.report, scenario, params, r.thresholds,
                               clock ? &*clock : nullptr, stats ? &*stats : nullptr);
    if (tracer) {
      r.report["tracing"] = boost::json::object{{"ratio", plan.trace_ratio},
                                                {"client_spans", tracer->spans()},
                                                {"dropped", tracer->dropped()}};
    }
    if (settings.exporter) r.report["export"] = settings.exporter->stats_json();
    return r;
  }

};

TrafficJob::TrafficJob(scenarios::Scenario scenario, std::map<std::string, std::string> params,
                       TrafficJobSettings settings)
    : impl_(std::make_unique<Impl>()) {
  impl_->scenario = std::move(scenario);
  impl_->params = std::move(params);
  impl_->settings = std::move(settings);
  auto& s = impl_->settings;
  if (impl_->scenario.demo_clock && !s.clock)
    s.clock = resolve_demo_clock(s.url, s.time_scale, core::unix_now_s(), &impl_->notes);
  TargetChoice choice = s.builtin;
  choice.url = s.url;
  impl_->target.open(choice, s.clock ? &*s.clock : nullptr);
  scenarios::BuildOptions b;
  b.url = impl_->target.url();
  b.duration = s.duration;
  b.seed = s.seed;
  b.threads =
      s.threads > 0 ? s.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  b.hard_cap = s.hard_cap;
  b.clock = s.clock;
  b.now_unix = core::unix_now_s();
  if (s.seed_from_plan) {
    b.seed = 0;
    b.seed = std::stoull(scenarios::build_plan(impl_->scenario, b).hash(), nullptr, 16);
  }
  impl_->plan = scenarios::build_plan(impl_->scenario, b);
  if (s.segment) impl_->plan.segment = *s.segment;
  impl_->plan.on_request = s.on_request;
  impl_->plan.start_at = s.start_at;
  if (s.client_source) s.client_source->attach(impl_->plan);
  if (s.trace_ratio > 0) {
    impl_->plan.trace_ratio = s.trace_ratio;
    impl_->tracer = std::make_unique<ClientTracer>(impl_->plan, s.exporter, s.client_spans);
    impl_->tracer->attach(impl_->plan);
  }
}

TrafficJob::~TrafficJob() {
  if (impl_->runner.started()) stop();
  impl_->runner.join();
  impl_->target.close();
}

const scenarios::Scenario& TrafficJob::scenario() const { return impl_->scenario; }
const load::Plan& TrafficJob::plan() const { return impl_->plan; }
const TrafficJobSettings& TrafficJob::settings() const { return impl_->settings; }
const std::string& TrafficJob::url() const { return impl_->target.url(); }
bool TrafficJob::builtin_target() const { return impl_->target.builtin(); }
const std::optional<scenarios::DemoClockSpec>& TrafficJob::clock() const {
  return impl_->settings.clock;
}
const std::vector<std::string>& TrafficJob::notes() const { return impl_->notes; }

uint64_t TrafficJob::subscribe(Subscriber fn) {
  std::lock_guard lock(impl_->mu);
  uint64_t id = impl_->next_id++;
  impl_->subscribers.emplace_back(id, std::move(fn));
  return id;
}

void TrafficJob::unsubscribe(uint64_t id) {
  std::lock_guard lock(impl_->mu);
  std::erase_if(impl_->subscribers, [id](const auto& p) { return p.first == id; });
}

TrafficResult TrafficJob::run() {
  return impl_->runner.run([this] { return impl_->execute(); });
}

void TrafficJob::start() {
  impl_->runner.start([this] { return impl_->execute(); });
}

TrafficResult TrafficJob::wait() { return impl_->runner.wait(); }

int TrafficJob::done_fd() const { return impl_->runner.done_fd(); }

void TrafficJob::stop() {
  if (!impl_->stop_requested.exchange(true)) impl_->stop_flag.raise();
}

JobState TrafficJob::state() const { return impl_->runner.state(); }

std::optional<TrafficSnapshot> TrafficJob::latest() const {
  std::lock_guard lock(impl_->mu);
  return impl_->latest;
}

}  // namespace trafficsim::jobs
