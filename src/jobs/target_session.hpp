#pragma once
// The target a job sends to: a URL, or the demo target started in this process on a free
// loopback port (access log off, catalog cached in the data directory). And the demo clock a job
// runs on: DEMO_* from the environment, or the one a trafficsim target reports at /health, so
// the traffic and the service tell the same demo minute. UI-free: notes are returned, not printed.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "scenarios/scenario.hpp"

namespace trafficsim::demo_service {
class TargetService;
}
namespace trafficsim::telemetry {
class OtlpExporter;
}

namespace trafficsim::jobs {

// A bad DEMO_* environment variable (the message names it): a usage error at the edge.
class ClockConfigError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A target that could not be started (the message says why): a run failure at the edge.
class TargetStartError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TargetChoice {
  std::string url;       // empty: the built-in target
  // Called just before the built-in target starts (its first start generates the catalog, which
  // takes seconds: a face may want to say so).
  std::function<void()> on_builtin_start;
  std::string data_dir;  // built-in target: catalog directory (empty: the default cache)
  int64_t catalog_rows = 500'000;
  uint64_t seed = 0;
  // When set, the built-in target exports its spans, logs and metrics here (OTLP).
  std::shared_ptr<telemetry::OtlpExporter> exporter;
};

// ~/.cache/trafficsim (or $XDG_CACHE_HOME/trafficsim): where the built-in catalog is kept.
std::string default_data_dir();

class TargetSession {
 public:
  TargetSession();
  ~TargetSession();  // close()
  TargetSession(const TargetSession&) = delete;
  TargetSession& operator=(const TargetSession&) = delete;

  // Starts the built-in target when no URL was given (on the demo clock when `clock` is set; the
  // first start generates the catalog). Throws TargetStartError.
  void open(const TargetChoice& choice, const scenarios::DemoClockSpec* clock);
  const std::string& url() const { return url_; }  // no trailing '/'
  bool builtin() const { return service_ != nullptr; }
  void close();  // stops the built-in target; idempotent

 private:
  std::unique_ptr<demo_service::TargetService> service_;
  std::string url_;
};

// The demo clock of a run: DEMO_START_TIMESTAMP (default now), DEMO_TIME_SCALE or `time_scale`,
// DEMO_DURATION_MINUTES; against a URL, the target's own clock when its /health reports one.
// Throws ClockConfigError for bad DEMO_* values. What was chosen and why goes to *notes.
scenarios::DemoClockSpec resolve_demo_clock(const std::string& url,
                                            std::optional<double> time_scale, double now_unix,
                                            std::vector<std::string>* notes);

}  // namespace trafficsim::jobs
