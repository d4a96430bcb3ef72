#pragma once
// Monitors on live traffic: a thread that scrapes one source (the built-in target's registry
// in-process, any Prometheus /metrics URL, or the load engine's statistics: ClientSource) at an
// interval, feeds the scrape to a monitors::MonitorSet and keeps the transitions (bounded) for
// the API, the terminal and, later, the incidents. UI-free: callers print or serve what it
// publishes.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/array.hpp>

#include "monitors/monitor_set.hpp"

namespace trafficsim::jobs {

struct MonitorRunnerOptions {
  std::vector<monitors::MonitorSpec> monitors;  // as written (the runner scales them)
  double time_scale = 1;
  // Seconds between scrapes; 0: 1 s divided by the time scale, at least 100 ms.
  double interval_s = 0;
  // Returns the exposition text, or nullopt with *error set (a scrape that failed: no data).
  std::function<std::optional<std::string>(std::string* error)> scrape;
  std::string source_name;  // "the demo target", "http://host:port/metrics", "client"
};

// A scrape source for any URL (http): GET with a 2 s timeout, 16 MiB at most.
std::function<std::optional<std::string>(std::string*)> url_scrape(const std::string& url);

class MonitorRunner {
 public:
  static constexpr size_t kMaxEvents = 500;  // the newest transitions kept

  explicit MonitorRunner(MonitorRunnerOptions options);
  ~MonitorRunner();  // stops and joins
  // The monitors as written (unscaled), e.g. for their runbooks.
  const std::vector<monitors::MonitorSpec>& specs() const { return options_.monitors; }
  MonitorRunner(const MonitorRunner&) = delete;
  MonitorRunner& operator=(const MonitorRunner&) = delete;

  // Called on the runner's thread for every transition, in order.
  void on_event(std::function<void(const monitors::MonitorEvent&)> fn);
  void start();
  void stop();
  // One scrape and evaluation now, on the caller's thread (tests; the final check of a run).
  std::vector<monitors::MonitorEvent> tick();

  bool any_alerted() const { return set_.any_alerted(); }
  std::vector<monitors::MonitorStatus> statuses() const { return set_.statuses(); }
  // GET /api/v1/monitors: the monitors' states, values and thresholds, plus the source and the
  // newest transitions: {"source", "timeScale", "scrapeErrors", "lastError", "monitors", "events"}.
  boost::json::object to_json() const;
  double interval_s() const { return interval_s_; }

 private:
  void loop();

  MonitorRunnerOptions options_;
  monitors::MonitorSet set_;
  double interval_s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<monitors::MonitorEvent> events_;
  std::vector<std::function<void(const monitors::MonitorEvent&)>> listeners_;
  uint64_t scrape_errors_ = 0;
  std::string last_error_;
  std::mutex tick_mu_;  // one evaluation at a time
  std::thread thread_;
};

}  // namespace trafficsim::jobs
