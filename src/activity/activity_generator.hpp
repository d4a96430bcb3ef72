#pragma once
// Seed 003's demo activity (docs/activity.md): every tick (2 s by default) 3–6 random activities —
// HTTP requests, database queries, background jobs, cache operations — each a span with the
// seed's attributes and its log records; a warning every 10 s and an error every 24 s of run time.
//
// The generator is a pure function of (seed, tick index or activity index, the run's start time):
// no clock, no I/O, no state between calls, so tests assert its distributions and determinism
// without threads, and two runs with one seed differ only in their time stamps. Every draw is
// counter-based (core/random.hpp); trace and span ids come from the seed too.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/otlp.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::activity {

// What an activity is; `log` is a warning or an error: a log record alone, without a span.
enum class ActivityKind { http, db, job, cache, log };
// "http", "db", "job", "cache", "log".
std::string_view kind_name(ActivityKind kind);
// "debug", "info", "warning", "error" (the seed's level names; OTLP's are severity_text()).
std::string_view level_name(telemetry::Severity severity);

// One activity: its span (none for kind log) and log records, plus the facts its metrics count.
struct Activity {
  ActivityKind kind = ActivityKind::http;
  telemetry::Severity level = telemetry::Severity::info;  // of the activity's (last) log record
  std::string message;                                    // the same record's message
  std::vector<telemetry::Span> spans;
  std::vector<telemetry::LogRecord> logs;  // in time order
  int64_t duration_us = 0;                 // the span's length (0 for log)

  // For the metrics (set by kind): http
  std::string_view method, route;
  int status = 0;
  // db
  std::string_view table;
  // job
  std::string_view job_type;
  // cache
  bool cache_hit = false;
};

struct GeneratorOptions {
  uint64_t seed = 0;
  double intensity = 1.0;  // > 0: multiplies the activities per tick
  std::chrono::nanoseconds interval{std::chrono::seconds(2)};  // > 0: one tick's length
};

// The seed's tables, exposed for tests and docs.
struct ActivityTables {
  static const std::vector<std::string_view>& methods();    // GET POST PUT DELETE
  static const std::vector<std::string_view>& routes();     // /users /orders /products ...
  static const std::vector<std::string_view>& tables();     // users orders products sessions events
  static const std::vector<std::string_view>& job_types();  // send_email process_payment ...
  static const std::vector<std::string_view>& cache_keys();  // user:123 product:456 ...
  static const std::vector<std::string_view>& warnings();    // "Connection pool running low" ...
  static const std::vector<std::string_view>& errors();      // "Connection timeout to ..." ...
};

inline constexpr std::chrono::seconds kWarningEvery{10};
inline constexpr std::chrono::seconds kErrorEvery{24};

class ActivityGenerator {
 public:
  // intensity > 0 and interval > 0, otherwise std::invalid_argument.
  explicit ActivityGenerator(GeneratorOptions options);

  const GeneratorOptions& options() const { return options_; }

  // How many activities tick `tick` has: a draw of 3..6 times the intensity, rounded at random
  // to a whole number (so between floor(3 x intensity) and ceil(6 x intensity)).
  size_t activities_in_tick(uint64_t tick) const;

  // Tick `tick` of a run that started at run_start_unix_ns: its time is run start + tick x
  // interval, and its activities all end at or before that time (in the tick's last moments, so
  // that a span is never in the future when it is emitted). Warnings and errors not included.
  std::vector<Activity> tick(uint64_t tick, uint64_t run_start_unix_ns) const;

  // Activity k of a stress run (any kind but log), ending at end_unix_ns.
  Activity stress_activity(uint64_t k, uint64_t end_unix_ns) const;

  // The warnings (every 10 s) and errors (every 24 s) due in the run-time window (after_ns,
  // until_ns] since the run's start, in time order (a warning before an error at the same time),
  // each one log record stamped at its exact due time.
  std::vector<Activity> alerts_between(int64_t after_ns, int64_t until_ns,
                                       uint64_t run_start_unix_ns) const;

 private:
  GeneratorOptions options_;
};

}  // namespace trafficsim::activity
