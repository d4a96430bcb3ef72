// `incident ID` runs: in-process over the store, or through a server's REST API; the progress
// view both share.
#include "cli/incident_run.hpp"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "cli/incident_printing.hpp"
#include "cli/signals.hpp"
#include "core/clock.hpp"
#include "http/simple_get.hpp"
#include "http/url.hpp"
#include "jobs/target_session.hpp"

namespace trafficsim::cli {

namespace json = boost::json;
using incidents::SimulationRecord;
using incidents::SimulationStatus;
using Clock = std::chrono::steady_clock;

std::string default_incidents_db() {
  return incidents::default_incident_store_path(jobs::default_data_dir()).string();
}

namespace {

constexpr auto kTick = std::chrono::milliseconds(100);

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Phase lines as they happen; on a TTY a live line beneath them, redrawn every tick.
class PhaseView {
 public:
  PhaseView(const Style& st, bool enabled) : st_(st), enabled_(enabled), tty_(is_tty(1)) {}
  ~PhaseView() { clear(); }

  void phase(const std::string& phase, const std::string& text) {
    if (!enabled_ || phase == last_) return;
    last_ = phase;
    clear();
    fmt::print("  {} {}\n", text.starts_with("failed") ? st_.red("✗") : st_.cyan("▸"), text);
    std::fflush(stdout);
  }
  void tick(double share, double elapsed_s, double wall_s) {
    if (!enabled_ || !tty_) return;
    int cells = static_cast<int>(std::clamp(share, 0.0, 1.0) * 24);
    std::string bar;
    for (int i = 0; i < 24; ++i) bar += i < cells ? "█" : "░";
    fmt::print("\r\033[K    {} {:>3.0f} %  {:.1f} s of {}", st_.cyan(bar), share * 100, elapsed_s,
               wall_s > 0 ? fmt::format("{:.1f} s", wall_s) : std::string("?"));
    std::fflush(stdout);
    drawn_ = true;
  }
  void clear() {
    if (!drawn_) return;
    fmt::print("\r\033[K");
    std::fflush(stdout);
    drawn_ = false;
  }

 private:
  const Style& st_;
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  std::string last_;
};

// What a phase change says, from the record.
std::string phase_text(const SimulationRecord& r, const incidents::IncidentScenario& sc,
                       const Style& st) {
  if (r.phase == "injecting")
    return fmt::format("incident {} opened; playing {:g} s of scenario time in {:g} s ({})",
                       st.bold(r.incident_id), sc.duration_seconds, r.wall_seconds,
                       r.metrics_injected ? "metrics injected on the server's /metrics"
                                          : "simulated metrics only, nothing injected");
  if (r.phase == "analyzing")
    return fmt::format("analyzing {:.0f} % of the scenario", r.progress * 100);
  if (r.status == SimulationStatus::failed) return "failed: " + r.error;
  if (r.status == SimulationStatus::running) return "played; no analysis asked (--no-analyze)";
  double took = r.ended_at ? *r.ended_at - r.started_at : 0;
  return fmt::format("{} after {:.1f} s: {} {}, {} {}",
                     r.status == SimulationStatus::stopped ? "stopped" : "completed", took,
                     r.hypotheses_count, r.hypotheses_count == 1 ? "hypothesis" : "hypotheses",
                     r.actions_count, r.actions_count == 1 ? "action" : "actions");
}

std::string incident_url(const std::string& dashboard, const std::string& id) {
  std::string base = dashboard;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/#incident=" + id;
}

// Stops on the first Ctrl+C: true once the stop fd fired (consumed).
bool wait_tick(int stop_fd) {
  pollfd p{stop_fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(kTick.count())) > 0 && (p.revents & POLLIN)) {
    uint64_t n = 0;
    [[maybe_unused]] ssize_t r = ::read(stop_fd, &n, sizeof n);
    return true;
  }
  return false;
}

IncidentRunResult run_in_process(const incidents::IncidentScenario& sc, const IncidentRunOptions& o,
                                 const Style& st) {
  const std::string path = o.incidents_db.empty() ? default_incidents_db() : o.incidents_db;
  std::unique_ptr<incidents::IncidentStore> store;
  try {
    store = std::make_unique<incidents::IncidentStore>(path);
  } catch (const std::exception& e) {
    throw IncidentRunError(1, fmt::format("cannot open the incident store: {}", e.what()));
  }
  const std::string dashboard = o.dashboard.empty() ? kDefaultDashboardUrl : o.dashboard;
  // Phase changes come from the simulation's thread; this thread prints them.
  std::mutex mutex;
  std::deque<SimulationRecord> changes;
  incidents::SimulationOptions so;
  so.store = store.get();
  {
    std::string base = dashboard;
    while (!base.empty() && base.back() == '/') base.pop_back();
    so.dashboard_url = base;
  }
  incidents::SimulationRunner runner(so);  // after store and changes: joined before they go
  incidents::SimulationRequest request{o.analyze, o.mode, o.seed};
  PhaseView view(st, o.progress);
  const int stop_fd = install_stop_signals();
  const auto begin = Clock::now();
  try {
    runner.start_async(
        sc, request,
        [&](const SimulationRecord& r) {
          std::lock_guard lock(mutex);
          changes.push_back(r);
        },
        [](const SimulationRecord&) {});
  } catch (const std::exception& e) {
    throw IncidentRunError(1, fmt::format("could not start the simulation: {}", e.what()));
  }
  std::string sim_id;
  {
    std::lock_guard lock(mutex);
    sim_id = changes.front().simulation_id;  // start_async reports "injecting" before it returns
  }
  bool finished = false, stop_sent = false;
  while (!finished) {
    std::deque<SimulationRecord> now;
    {
      std::lock_guard lock(mutex);
      now.swap(changes);
    }
    for (const auto& r : now) {
      view.phase(r.phase + "/" + std::string(incidents::to_string(r.status)),
                 phase_text(r, sc, st));
      finished |= r.status != SimulationStatus::running;
    }
    if (finished) break;
    if (auto r = runner.get(sim_id)) view.tick(r->progress, seconds_since(begin), r->wall_seconds);
    if (wait_tick(stop_fd) && !stop_sent) {
      stop_sent = true;
      view.clear();
      if (o.progress) fmt::print("  {}\n", st.yellow("stopping: analyzing what was played"));
      runner.stop(sim_id);
    }
  }
  view.clear();
  SimulationRecord final_record = runner.get(sim_id).value();
  IncidentRunResult out;
  out.record = final_record.to_json();
  out.status = std::string(incidents::to_string(final_record.status));
  out.metrics_injected = final_record.metrics_injected;
  out.where = "in-process, incident store " + path;
  auto incident = store->get(final_record.incident_id);
  if (!incident)
    throw IncidentRunError(1,
                           fmt::format("incident {} is not in {}", final_record.incident_id, path));
  out.incident = std::move(*incident);
  out.incident_url = incident_url(dashboard, out.incident.id);
  return out;
}

// One REST call to the server; the JSON it answered with on 200, else IncidentRunError.
class ServerApi {
 public:
  explicit ServerApi(const IncidentRunOptions& o) : base_(o.server) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    std::string error;
    if (!http::parse_url(base_ + "/", &error))
      throw IncidentRunError(2, fmt::format("invalid --server '{}': {}", o.server, error));
    headers_ = {{"Accept", "application/json"}};
    std::string key = o.api_key;
    if (key.empty())
      if (const char* k = std::getenv("TRAFFICSIM_API_KEY")) key = k;
    if (!key.empty()) headers_.emplace_back("X-API-Key", key);
  }
  const std::string& base() const { return base_; }

  json::object call(std::string_view method, const std::string& path, const std::string& body,
                    std::chrono::milliseconds timeout) const {
    std::string error;
    auto url = http::parse_url(base_ + path, &error);
    if (!url) throw IncidentRunError(2, fmt::format("invalid URL {}{}: {}", base_, path, error));
    auto headers = headers_;
    if (method == "POST") headers.emplace_back("Content-Type", "application/json");
    auto r = http::simple_request(method, *url, headers, body, timeout, &error, 8 << 20);
    if (!r)
      throw IncidentRunError(1, fmt::format("{} {}{}: {} (is `trafficsim demo` or `serve` "
                                            "running there?)",
                                            method, base_, path, error));
    json::value v;
    boost::system::error_code ec;
    v = json::parse(r->body, ec);
    std::string message = r->body.substr(0, 300);
    if (!ec && v.is_object()) {
      const auto& obj = v.as_object();
      for (const char* k : {"message", "error"})
        if (auto* m = obj.if_contains(k); m && m->is_string()) {
          message = std::string(m->as_string());
          break;
        }
    }
    if (r->status == 200 && !ec && v.is_object()) return v.as_object();
    std::string what =
        fmt::format("{} {}{} answered {}: {}", method, base_, path, r->status, message);
    if (r->status == 401 || r->status == 403)
      throw IncidentRunError(
          1, what + " (give the server's key with --api-key or $TRAFFICSIM_API_KEY)");
    if (r->status == 400 || r->status == 404 || r->status == 422) throw IncidentRunError(2, what);
    throw IncidentRunError(1, what);
  }

 private:
  std::string base_;
  http::HeaderList headers_;
};

std::string string_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

double number_field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return 0;
}

IncidentRunResult run_via_server(const incidents::IncidentScenario& sc, const IncidentRunOptions& o,
                                 const Style& st) {
  ServerApi api(o);
  json::object body{{"auto_analyze", o.analyze}, {"execution_mode", incidents::to_string(o.mode)}};
  if (o.seed) body["seed"] = o.seed;
  const std::string start_path = "/api/v1/simulator/scenarios/" + sc.id + "/start";
  PhaseView view(st, o.progress);
  const int stop_fd = install_stop_signals();
  const auto begin = Clock::now();
  // Demo mode answers when the play is analyzed (about 6 s): wait on a thread, show the clock.
  auto pending = std::async(std::launch::async, [&] {
    return api.call("POST", start_path, json::serialize(body), std::chrono::seconds(60));
  });
  if (o.progress && o.mode == incidents::ExecutionMode::demo)
    view.phase("starting", fmt::format("started on {} (demo mode: the server answers when it has "
                                       "played and analyzed the scenario)",
                                       api.base()));
  while (pending.wait_for(kTick) != std::future_status::ready)
    view.tick(std::min(0.99, seconds_since(begin) / 6.0), seconds_since(begin), 6.0);
  json::object record = pending.get();
  auto phase_of = [&](const json::object& r) {
    std::string status = string_field(r, "status");
    std::string phase = string_field(r, "phase");
    if (status == "running")
      return phase == "analyzing"
                 ? std::string("analyzing")
                 : fmt::format(
                       "incident {} opened on the server; playing {:g} s of scenario "
                       "time ({})",
                       st.bold(string_field(r, "incident_id")), sc.duration_seconds,
                       r.if_contains("metrics_injected") && r.at("metrics_injected").is_bool() &&
                               r.at("metrics_injected").as_bool()
                           ? "metrics injected on its /metrics"
                           : "simulated metrics only");
    if (status == "failed") return "failed: " + string_field(r, "error");
    return fmt::format("{}: {} hypotheses, {} actions (incident {})", status,
                       number_field(r, "hypotheses_count"), number_field(r, "actions_count"),
                       string_field(r, "incident_id"));
  };
  const std::string sim_id = string_field(record, "simulation_id");
  if (sim_id.empty()) throw IncidentRunError(1, "the server's start answer has no simulation_id");
  bool stop_sent = false;
  while (string_field(record, "status") == "running") {
    view.phase(string_field(record, "phase"), phase_of(record));
    view.tick(number_field(record, "progress"), seconds_since(begin),
              number_field(record, "wall_seconds"));
    bool stop = false;
    for (int i = 0; i < 5 && !stop; ++i) stop = wait_tick(stop_fd);
    if (stop && !stop_sent) {
      stop_sent = true;
      view.clear();
      if (o.progress)
        fmt::print("  {}\n", st.yellow("stopping: the server analyzes what was played"));
      record = api.call("POST", "/api/v1/simulator/simulations/" + sim_id + "/stop", "{}",
                        std::chrono::seconds(20));
    } else {
      record =
          api.call("GET", "/api/v1/simulator/simulations/" + sim_id, "", std::chrono::seconds(10));
    }
  }
  view.phase("end", phase_of(record));
  view.clear();
  IncidentRunResult out;
  out.record = record;
  out.status = string_field(record, "status");
  out.metrics_injected = record.if_contains("metrics_injected") &&
                         record.at("metrics_injected").is_bool() &&
                         record.at("metrics_injected").as_bool();
  out.where = "via " + api.base();
  const std::string incident_id = string_field(record, "incident_id");
  json::object inc =
      api.call("GET", "/api/v1/incidents/" + incident_id, "", std::chrono::seconds(10));
  try {
    out.incident = incidents::incident_from_json(inc);
  } catch (const std::exception& e) {
    throw IncidentRunError(1, fmt::format("the server's incident {}: {}", incident_id, e.what()));
  }
  out.incident_url = incident_url(o.dashboard.empty() ? api.base() : o.dashboard, incident_id);
  return out;
}

}  // namespace

IncidentRunResult run_incident_scenario(const incidents::IncidentScenario& scenario,
                                        const IncidentRunOptions& options, const Style& style) {
  return options.server.empty() ? run_in_process(scenario, options, style)
                                : run_via_server(scenario, options, style);
}

json::object run_result_json(const IncidentRunResult& result) {
  return {{"simulation", result.record}, {"incident", incidents::to_json(result.incident)}};
}

void print_run_result(const IncidentRunResult& r, const Style& st) {
  const auto& inc = r.incident;
  fmt::print("\n{}  {}  {}\n", st.bold("Hypotheses"), st.dim(inc.id), st.dim(inc.title));
  print_hypotheses(inc.hypotheses, st);
  fmt::print("\n{}\n", st.bold("Actions"));
  print_actions(inc.actions, st);
  fmt::print("\n  simulation {} ({})\n",
             r.status == "completed" ? st.green(r.status) : st.yellow(r.status), r.where);
  if (!r.metrics_injected)
    fmt::print("  {}\n", st.dim("metrics_injected: false — the metrics were simulated for the "
                                "analysis, not published on a /metrics (run it with --server "
                                "against `trafficsim demo` to inject them)"));
  fmt::print("  {} {}\n", st.bold("open it:"), st.cyan(r.incident_url));
}

}  // namespace trafficsim::cli
