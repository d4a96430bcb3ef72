#include "jobs/demo_script_job.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/clock.hpp"
#include "jobs/job_runner.hpp"
#include "load/report.hpp"

namespace trafficsim::jobs {

namespace json = boost::json;

uint64_t PhaseSummary::successes() const {
  uint64_t failed = expected_failures + unexpected_failures;
  return requests > failed ? requests - failed : 0;
}

std::vector<scenarios::Scenario> load_phases(const scenarios::DemoScript& script) {
  std::vector<scenarios::Scenario> loaded;
  for (size_t i = 0; i < script.phases.size(); ++i) {
    const auto& ph = script.phases[i];
    scenarios::LoadOptions lo;
    lo.params = ph.params;
    scenarios::Scenario sc;
    try {
      sc = scenarios::load_scenario(ph.source, lo);
    } catch (const scenarios::ScenarioError& e) {
      throw scenarios::ScenarioError(
          fmt::format("{}:{}: phases[{}]: {}", script.source.path, ph.line, i, e.what()));
    }
    for (const auto& [k, v] : ph.params)
      if (!sc.used_params.count(k))
        throw scenarios::ScenarioError(fmt::format("{}:{}: phases[{}]: '{}' has no effect on {} '{}'",
                                                   script.source.path, ph.line, i, k, ph.kind,
                                                   ph.ref));
    loaded.push_back(std::move(sc));
  }
  return loaded;
}

namespace {

double number(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_number() ? it->value().to_number<double>() : 0;
}

std::string traffic_of(const scenarios::Phase& ph) {
  std::string t = ph.ref;
  if (auto it = ph.params.find("rate"); it != ph.params.end()) t += " @ " + it->second + "/s";
  if (auto it = ph.params.find("max_rps"); it != ph.params.end()) t += " @ " + it->second + "/s";
  return t;
}

void summarize(PhaseSummary& row, const TrafficResult& r) {
  const auto& rep = r.report;
  row.ran = true;
  row.requests = static_cast<uint64_t>(number(rep, "requests"));
  row.expected_failures = static_cast<uint64_t>(number(rep, "expected_failures"));
  row.unexpected_failures = static_cast<uint64_t>(number(rep, "unexpected_failures"));
  row.p95_us = number(rep.at("latency").as_object().at("corrected").as_object(), "p95_us");
  for (const auto& sv : rep.at("streams").as_array()) {
    const auto& so = sv.as_object();
    if (auto c = so.find("counters"); c != so.end() && c->value().is_object()) {
      row.has_tokens = true;
      for (const auto& [k, v] : c->value().as_object()) row.tokens += v.to_number<int64_t>();
    }
  }
  row.thresholds_passed = r.thresholds_passed();
}

}  // namespace

struct DemoScriptJob::Impl {
  scenarios::DemoScript script;
  std::vector<scenarios::Scenario> phases;
  DemoScriptSettings settings;
  TargetSession target;
  std::vector<std::string> notes;
  DemoScriptObserver* observer = nullptr;

  std::atomic<bool> stop_requested{false};
  std::mutex mu;  // guards current
  TrafficJob* current = nullptr;
  JobRunner<DemoScriptResult> runner;

  DemoScriptResult execute() {
    DemoScriptResult out;
    out.phases.resize(script.phases.size());
    for (size_t i = 0; i < script.phases.size(); ++i) {
      out.phases[i].index = i;
      out.phases[i].title = script.phases[i].title;
      out.phases[i].traffic = traffic_of(script.phases[i]);
      out.phases[i].duration_s =
          static_cast<double>(script.phases[i].duration.count()) / 1e9 / settings.time_scale;
    }
    for (size_t i = 0; i < script.phases.size(); ++i) {
      if (stop_requested) {
        out.stopped = true;
        break;
      }
      const auto& ph = script.phases[i];
      PhaseSummary& row = out.phases[i];
      TrafficJobSettings ts;
      ts.url = target.url();
      ts.duration = std::chrono::nanoseconds(static_cast<int64_t>(row.duration_s * 1e9));
      ts.seed = settings.seed + i;
      ts.threads = settings.threads;
      if (i == 0) ts.start_at = settings.start_at;
      ts.client_source = settings.client_source;
      ts.trace_ratio = settings.trace_ratio;
      ts.exporter = settings.exporter;
      ts.client_spans = settings.client_spans;
      if (phases[i].demo_clock) ts.clock = settings.clock;
      TrafficResult r;
      try {
        TrafficJob job(phases[i], ph.params, ts);
        uint64_t sub = 0;
        if (observer) {
          observer->phase_started(row, ph, job);
          sub = job.subscribe([this, &row](const TrafficSnapshot& s) { observer->snapshot(row, s); });
        }
        {
          std::lock_guard lock(mu);
          current = &job;
        }
        if (stop_requested) job.stop();  // a stop between the check above and `current`
        r = job.run();
        {
          std::lock_guard lock(mu);
          current = nullptr;
        }
        if (observer) job.unsubscribe(sub);
      } catch (const std::exception& e) {
        {
          std::lock_guard lock(mu);
          current = nullptr;
        }
        out.failed_phase = i;
        out.failure = e.what();
        break;
      }
      summarize(row, r);
      out.thresholds_passed = out.thresholds_passed && row.thresholds_passed;
      if (r.stopped) out.stopped = true;
      if (observer) observer->phase_ended(row, r);
      r.report["phase"] = json::object{{"index", i + 1},
                                       {"title", ph.title},
                                       {"narration", ph.narration},
                                       {"traffic", row.traffic}};
      out.reports.push_back(std::move(r.report));
      if (out.stopped) break;
    }
    return out;
  }

};

DemoScriptJob::DemoScriptJob(scenarios::DemoScript script, std::vector<scenarios::Scenario> phases,
                             DemoScriptSettings settings)
    : impl_(std::make_unique<Impl>()) {
  if (phases.size() != script.phases.size())
    throw std::invalid_argument("DemoScriptJob: one loaded scenario per phase expected");
  if (!(settings.time_scale > 0)) throw std::invalid_argument("DemoScriptJob: time scale <= 0");
  impl_->script = std::move(script);
  impl_->phases = std::move(phases);
  impl_->settings = std::move(settings);
  auto& s = impl_->settings;
  bool any_demo_clock = std::any_of(impl_->phases.begin(), impl_->phases.end(),
                                    [](const scenarios::Scenario& sc) { return sc.demo_clock; });
  if (any_demo_clock && !s.clock) {
    s.clock = resolve_demo_clock(s.url, std::nullopt, core::unix_now_s(), &impl_->notes);
    s.clock->time_scale *= s.time_scale;  // a rehearsal at 3x runs the story 3x faster too
  }
  TargetChoice choice = s.builtin;
  choice.url = s.url;
  impl_->target.open(choice, s.clock ? &*s.clock : nullptr);
}

DemoScriptJob::~DemoScriptJob() {
  if (impl_->runner.started()) stop();
  impl_->runner.join();
  impl_->target.close();
}

const std::string& DemoScriptJob::url() const { return impl_->target.url(); }
bool DemoScriptJob::builtin_target() const { return impl_->target.builtin(); }
const std::vector<std::string>& DemoScriptJob::notes() const { return impl_->notes; }

const scenarios::DemoScript& DemoScriptJob::script() const { return impl_->script; }

double DemoScriptJob::total_s() const {
  return static_cast<double>(impl_->script.total().count()) / 1e9 / impl_->settings.time_scale;
}

void DemoScriptJob::set_observer(DemoScriptObserver* observer) { impl_->observer = observer; }

DemoScriptResult DemoScriptJob::run() {
  return impl_->runner.run([this] { return impl_->execute(); });
}

void DemoScriptJob::start() {
  impl_->runner.start([this] { return impl_->execute(); });
}

DemoScriptResult DemoScriptJob::wait() { return impl_->runner.wait(); }

int DemoScriptJob::done_fd() const { return impl_->runner.done_fd(); }

void DemoScriptJob::stop() {
  impl_->stop_requested = true;
  std::lock_guard lock(impl_->mu);
  if (impl_->current) impl_->current->stop();
}

}  // namespace trafficsim::jobs
