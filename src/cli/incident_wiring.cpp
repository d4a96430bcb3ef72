#include "cli/incident_wiring.hpp"

#include <cstdlib>

#include <boost/json/array.hpp>

#include "incidents/llm_analyzer.hpp"
#include "jobs/live_evidence.hpp"
#include "monitors/monitor_spec.hpp"

namespace trafficsim::cli {

namespace json = boost::json;

namespace {

// What the LLM is told: the analyzer's own input, as JSON.
json::object llm_context(const incidents::AnalysisInput& in) {
  json::array metrics;
  for (const auto& m : in.metrics)
    metrics.push_back(json::object{{"name", m.name},
                                   {"value", m.value},
                                   {"baseline", m.baseline},
                                   {"sigma", m.sigma},
                                   {"deviation_sigma", m.deviation()},
                                   {"shape", incidents::to_string(m.shape)},
                                   {"unit", m.unit}});
  json::array deployments;
  for (const auto& d : in.context.recent_deployments)
    deployments.push_back(json::object{{"service", d.service},
                                       {"version", d.version},
                                       {"minutes_ago", d.minutes_ago},
                                       {"change", d.change}});
  json::array deps, notes;
  for (const auto& d : in.context.dependencies) deps.push_back(json::value(d));
  for (const auto& n : in.context.notes) notes.push_back(json::value(n));
  return json::object{{"service", in.service},
                      {"title", in.title},
                      {"metrics", std::move(metrics)},
                      {"context", json::object{{"recent_deployments", std::move(deployments)},
                                               {"dependencies", std::move(deps)},
                                               {"notes", std::move(notes)}}}};
}

const char* env(const char* name) {
  return std::getenv(name);
}

}  // namespace

IncidentWiring wire_incidents(control::IncidentApi& api, incidents::IncidentStore& store,
                              const IncidentWiringOptions& o) {
  IncidentWiring w;
  if (auto pd = incidents::pagerduty_options_from(o.pagerduty_url, env)) {
    w.pagerduty = std::make_unique<incidents::PagerDutyNotifier>(std::move(*pd));
    api.set_notifier([n = w.pagerduty.get()](const incidents::Incident& inc, bool resolved) {
      n->notify(inc, resolved ? incidents::PagerDutyAction::resolve
                              : incidents::PagerDutyAction::trigger);
    });
  }
  incidents::SimulationOptions so;
  so.store = &store;
  so.registry = o.registry;
  so.dashboard_url = o.dashboard_url;
  if (auto llm = incidents::llm_config_from_env(env)) {
    w.llm_model = llm->model;
    so.external_analyzer = [cfg = *llm](const incidents::AnalysisInput& in)
        -> std::optional<incidents::Analysis> {
      std::string error;
      auto r = incidents::analyze_with_llm(cfg, llm_context(in), &error);
      if (!r || r->hypotheses.empty()) return std::nullopt;  // the rules answer instead
      incidents::Analysis a = incidents::analyze(in);  // evidence and anomaly from the rules
      a.hypotheses = std::move(r->hypotheses);
      a.actions = std::move(r->actions);
      a.summary = "LLM " + r->model + ": " + a.hypotheses[0].category + ": " +
                  a.hypotheses[0].description;
      return a;
    };
  }
  if (w.pagerduty) {
    so.on_incident = [n = w.pagerduty.get()](const incidents::Incident& inc) {
      n->notify(inc, incidents::PagerDutyAction::trigger);  // same dedup key: one PagerDuty incident
    };
  }
  w.simulations = std::make_unique<incidents::SimulationRunner>(std::move(so));
  api.set_simulations(w.simulations.get());
  jobs::LiveProbeOptions probe;
  probe.target_url = o.target_url;
  probe.admin_key = o.admin_key;
  probe.time_scale = o.time_scale;
  api.set_live_analyzer(jobs::live_analyzer(
      std::move(probe), o.monitors ? o.monitors->specs() : monitors::builtin_monitors()));
  return w;
}

}  // namespace trafficsim::cli
