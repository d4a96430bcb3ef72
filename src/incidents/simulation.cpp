// The scenario runner: one thread per simulation plays its metrics, the store holds the incident
// from the first moment, the analysis lands when the play ends (or is stopped).
#include "incidents/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/trace_context.hpp"
#include "incidents/metric_pattern.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::incidents {

namespace json = boost::json;

std::string_view to_string(ExecutionMode m) {
  return m == ExecutionMode::demo ? "demo" : "realtime";
}

std::string_view to_string(SimulationStatus s) {
  switch (s) {
    case SimulationStatus::running: return "running";
    case SimulationStatus::completed: return "completed";
    case SimulationStatus::stopped: return "stopped";
    case SimulationStatus::failed: return "failed";
  }
  return "failed";
}

std::optional<ExecutionMode> parse_execution_mode(std::string_view text) {
  if (text == "demo") return ExecutionMode::demo;
  if (text == "realtime") return ExecutionMode::realtime;
  return std::nullopt;
}

json::object SimulationRecord::to_json() const {
  json::object o{{"simulation_id", simulation_id},
                 {"scenario_id", scenario_id},
                 {"incident_id", incident_id},
                 {"status", to_string(status)},
                 {"started_at", core::format_rfc3339(started_at, 3)},
                 {"hypotheses_count", hypotheses_count},
                 {"actions_count", actions_count},
                 {"metrics_injected", metrics_injected},
                 {"scenario_name", scenario_name},
                 {"service", service},
                 {"execution_mode", to_string(mode)},
                 {"auto_analyze", auto_analyze},
                 {"progress", std::round(progress * 1000) / 1000},
                 {"phase", phase},
                 {"wall_seconds", wall_seconds}};
  o["ended_at"] = ended_at ? json::value(core::format_rfc3339(*ended_at, 3)) : json::value(nullptr);
  if (!error.empty()) o["error"] = error;
  return o;
}

MetricInjector::MetricInjector(telemetry::Registry* registry) : registry_(registry) {}

bool MetricInjector::set(const std::string& metric, const std::string& help,
                         const std::string& service, const std::string& scenario, double value) {
  if (!registry_) return false;
  telemetry::GaugeFamily* family = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = families_.find(metric);
    if (it == families_.end()) {
      try {
        family = &registry_->gauge(metric, help.empty() ? "Injected by an incident simulation."
                                                        : help + " (incident simulation)",
                                   {"service", "scenario"});
      } catch (const std::exception&) {
        family = nullptr;  // a name the target already uses, or not a valid metric name
      }
      it = families_.emplace(metric, family).first;
    }
    family = it->second;
  }
  if (!family) return false;
  family->with({service, scenario}).set(value);
  return true;
}

struct SimulationRunner::Sim {
  IncidentScenario scenario;
  SimulationRequest request;
  uint64_t seed = 0;
  SimulationRecord record;  // under mutex
  std::function<void(const SimulationRecord&)> progress;
  std::function<void(const SimulationRecord&)> answer;  // called once: committed / done
  bool answered = false;
  bool stop_requested = false;  // under mutex
  std::mutex mutex;
  std::condition_variable cv;
  std::thread thread;
};

SimulationRunner::SimulationRunner(SimulationOptions options)
    : options_(std::move(options)), injector_(options_.registry) {
  if (!options_.store) throw std::invalid_argument("SimulationRunner needs an incident store");
  options_.demo_wall_seconds = std::clamp(options_.demo_wall_seconds, 0.0, 10.0);
  while (!options_.dashboard_url.empty() && options_.dashboard_url.back() == '/')
    options_.dashboard_url.pop_back();
}

SimulationRunner::~SimulationRunner() {
  std::vector<std::shared_ptr<Sim>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, sim] : sims_) all.push_back(sim);
  }
  for (auto& sim : all) {
    {
      std::lock_guard lock(sim->mutex);
      sim->stop_requested = true;
    }
    sim->cv.notify_all();
  }
  for (auto& sim : all)
    if (sim->thread.joinable()) sim->thread.join();
}

double SimulationRunner::now() const {
  return options_.now_unix_s ? options_.now_unix_s() : core::unix_now_s();
}

std::vector<Observation> SimulationRunner::observe(const IncidentScenario& scenario, uint64_t seed,
                                                   double played) {
  std::vector<Observation> out;
  const double d = scenario.duration_seconds;
  const double upto = std::clamp(played, 0.0, 1.0) * d;
  for (const auto& m : scenario.metrics) {
    std::vector<double> series;
    for (double t = 0; t <= upto + 1e-9; t += kStepSeconds)
      series.push_back(metric_value(m, t, d, seed));
    out.push_back(observe_series(m.name, m.unit, series));
  }
  return out;
}

Analysis analyze_scenario(const IncidentScenario& scenario, uint64_t seed, double played) {
  AnalysisInput in;
  in.service = scenario.service;
  in.title = scenario.name;
  in.metrics = SimulationRunner::observe(scenario, seed, played);
  in.context = scenario.context;
  return analyze(in);
}

SimulationRecord SimulationRunner::start(const IncidentScenario& scenario,
                                         const SimulationRequest& request,
                                         std::function<void(const SimulationRecord&)> progress) {
  std::promise<SimulationRecord> done;
  auto future = done.get_future();
  start_async(scenario, request, std::move(progress),
              [&done](const SimulationRecord& r) { done.set_value(r); });
  return future.get();
}

void SimulationRunner::start_async(const IncidentScenario& scenario,
                                   const SimulationRequest& request,
                                   std::function<void(const SimulationRecord&)> progress,
                                   std::function<void(const SimulationRecord&)> answer) {
  auto sim = std::make_shared<Sim>();
  sim->scenario = scenario;
  sim->request = request;
  sim->seed = request.seed ? request.seed : core::mix64(static_cast<uint64_t>(now() * 1e6));
  sim->progress = std::move(progress);
  sim->answer = std::move(answer);
  SimulationRecord& r = sim->record;
  r.simulation_id = "sim_" + core::to_hex(core::random_span_id()).substr(0, 8);
  r.scenario_id = scenario.id;
  r.scenario_name = scenario.name;
  r.service = scenario.service;
  r.mode = request.mode;
  r.auto_analyze = request.auto_analyze;
  r.started_at = now();
  r.phase = "injecting";
  r.metrics_injected = injector_.enabled();
  r.wall_seconds = request.mode == ExecutionMode::demo
                       ? std::min(options_.demo_wall_seconds, scenario.duration_seconds)
                       : scenario.duration_seconds;
  {
    std::lock_guard lock(mutex_);
    size_t running = 0;
    for (auto& [id, s] : sims_) {
      std::lock_guard l(s->mutex);
      running += s->record.status == SimulationStatus::running;
    }
    if (running >= options_.max_running)
      throw SimulationError(429, fmt::format("{} simulations are running (the most at once); stop "
                                             "one or wait for one to finish",
                                             running));
    // Keep the newest 256 records: join and forget the oldest finished ones.
    while (order_.size() >= 256) {
      auto it = sims_.find(order_.front());
      if (it != sims_.end()) {
        std::unique_lock l(it->second->mutex);
        if (it->second->record.status == SimulationStatus::running) break;
        l.unlock();
        if (it->second->thread.joinable()) it->second->thread.join();
        sims_.erase(it);
      }
      order_.erase(order_.begin());
    }
  }

  // The incident exists before anything is played: a caller given its id can read it.
  Incident draft;
  draft.title = fmt::format("{} ({})", scenario.name, scenario.service);
  draft.severity = std::string(to_string(scenario.severity));
  draft.service = scenario.service;
  draft.source = IncidentSource::simulation;
  draft.dedup_key = r.simulation_id;
  draft.labels = {{"scenario", scenario.id}, {"simulation", r.simulation_id}};
  if (!options_.dashboard_url.empty()) draft.dashboard_url = options_.dashboard_url + "/#incident={id}";
  draft.timeline.push_back(
      {r.started_at, "simulation",
       fmt::format("Simulation {} of {} started ({} mode: {:g} s of scenario time in {:g} s{})",
                   r.simulation_id, scenario.id, to_string(request.mode),
                   scenario.duration_seconds, r.wall_seconds,
                   injector_.enabled() ? ", metrics injected on /metrics" : ", simulated metrics only")});
  Incident opened = options_.store->open_or_update(draft);
  r.incident_id = opened.id;
  {
    std::lock_guard lock(mutex_);
    sims_[r.simulation_id] = sim;
    order_.push_back(r.simulation_id);
  }
  if (options_.on_incident) options_.on_incident(opened);
  if (sim->progress) sim->progress(r);
  sim->thread = std::thread([this, sim] { play(sim); });
  if (request.mode == ExecutionMode::realtime) {
    SimulationRecord copy;
    {
      std::lock_guard l(sim->mutex);
      sim->answered = true;
      copy = sim->record;
    }
    sim->answer(copy);
  }
}

void SimulationRunner::play(const std::shared_ptr<Sim>& sim) {
  using clock = std::chrono::steady_clock;
  const auto& sc = sim->scenario;
  const double wall = sim->record.wall_seconds;
  const double tick = sim->request.mode == ExecutionMode::demo
                          ? 0.1
                          : std::max(0.05, options_.realtime_tick_seconds);
  const auto begin = clock::now();
  bool injected_all = injector_.enabled();
  double played = 0;
  bool stopped = false;
  for (;;) {
    double elapsed = std::chrono::duration<double>(clock::now() - begin).count();
    played = wall > 0 ? std::min(1.0, elapsed / wall) : 1.0;
    if (injector_.enabled()) {
      for (const auto& m : sc.metrics)
        injected_all &= injector_.set(m.name, m.description, sc.service, sc.id,
                                      metric_value(m, played * sc.duration_seconds,
                                                   sc.duration_seconds, sim->seed));
    }
    {
      std::lock_guard l(sim->mutex);
      sim->record.progress = played;
      sim->record.metrics_injected = injected_all;
    }
    if (played >= 1.0) break;
    std::unique_lock l(sim->mutex);
    if (sim->cv.wait_for(l, std::chrono::duration<double>(tick),
                         [&] { return sim->stop_requested; })) {
      stopped = true;
      break;
    }
  }
  {
    std::lock_guard l(sim->mutex);
    sim->record.progress = played;
    sim->record.phase = sim->request.auto_analyze ? "analyzing" : "done";
  }
  if (sim->progress) sim->progress(get(sim->record.simulation_id).value_or(sim->record));
  try {
    auto& store = *options_.store;
    const std::string& id = sim->record.incident_id;
    if (sim->request.auto_analyze) {
      AnalysisInput in;
      in.service = sc.service;
      in.title = sc.name;
      in.metrics = observe(sc, sim->seed, played);
      in.context = sc.context;
      std::optional<Analysis> a;
      std::string by = "rules";
      if (options_.external_analyzer) {
        a = options_.external_analyzer(in);
        if (a) by = "llm";
      }
      if (!a) a = analyze(in);
      store.set_analysis(id, a->hypotheses, a->actions, a->evidence);
      store.add_timeline(id, {0, "analysis", fmt::format("Analyzed by the {} on {:.0f} % of the "
                                                         "scenario: {}",
                                                         by, played * 100, a->summary)});
      std::lock_guard l(sim->mutex);
      sim->record.hypotheses_count = a->hypotheses.size();
      sim->record.actions_count = a->actions.size();
    }
    store.add_timeline(id, {0, "simulation",
                            fmt::format("Simulation {} {} after {:.0f} % of the scenario",
                                        sim->record.simulation_id,
                                        stopped ? "stopped" : "completed", played * 100)});
    finish(sim, stopped ? SimulationStatus::stopped : SimulationStatus::completed);
  } catch (const std::exception& e) {
    {
      std::lock_guard l(sim->mutex);
      sim->record.error = e.what();
    }
    finish(sim, SimulationStatus::failed);
  }
}

void SimulationRunner::finish(const std::shared_ptr<Sim>& sim, SimulationStatus status) {
  SimulationRecord copy;
  bool answer = false;
  {
    std::lock_guard l(sim->mutex);
    sim->record.status = status;
    sim->record.ended_at = now();
    sim->record.phase = std::string(to_string(status));
    if (status == SimulationStatus::completed) sim->record.phase = "done";
    answer = !sim->answered;
    sim->answered = true;
    copy = sim->record;
  }
  sim->cv.notify_all();
  notify(sim);
  if (sim->progress) sim->progress(copy);
  if (answer) sim->answer(copy);
}

void SimulationRunner::notify(const std::shared_ptr<Sim>& sim) {
  if (!options_.on_incident) return;
  try {
    if (auto inc = options_.store->get(sim->record.incident_id)) options_.on_incident(*inc);
  } catch (const std::exception&) {
  }
}

std::shared_ptr<SimulationRunner::Sim> SimulationRunner::find(const std::string& simulation_id) const {
  std::lock_guard lock(mutex_);
  auto it = sims_.find(simulation_id);
  return it == sims_.end() ? nullptr : it->second;
}

std::optional<SimulationRecord> SimulationRunner::get(const std::string& simulation_id) const {
  std::shared_ptr<Sim> sim = find(simulation_id);
  if (!sim) return std::nullopt;
  std::lock_guard l(sim->mutex);
  return sim->record;
}

std::optional<SimulationRecord> SimulationRunner::stop(const std::string& simulation_id) {
  std::shared_ptr<Sim> sim = find(simulation_id);
  if (!sim) return std::nullopt;
  {
    std::lock_guard l(sim->mutex);
    if (sim->record.status != SimulationStatus::running) return sim->record;
    sim->stop_requested = true;
  }
  sim->cv.notify_all();
  // The play thread analyzes what was played and finishes; wait for it (seconds at most).
  std::unique_lock l(sim->mutex);
  sim->cv.wait_for(l, std::chrono::seconds(10),
                   [&] { return sim->record.status != SimulationStatus::running; });
  return sim->record;
}

std::vector<SimulationRecord> SimulationRunner::list() const {
  std::vector<SimulationRecord> out;
  std::lock_guard lock(mutex_);
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    auto s = sims_.find(*it);
    if (s == sims_.end()) continue;
    std::lock_guard l(s->second->mutex);
    out.push_back(s->second->record);
  }
  return out;
}

size_t SimulationRunner::running() const {
  size_t n = 0;
  std::lock_guard lock(mutex_);
  for (auto& [id, s] : sims_) {
    std::lock_guard l(s->mutex);
    n += s->record.status == SimulationStatus::running;
  }
  return n;
}

}  // namespace trafficsim::incidents
