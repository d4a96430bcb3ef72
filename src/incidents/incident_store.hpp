#pragma once
// Incidents and their one durable home: a SQLite file in WAL mode (default
// <data dir>/incidents.sqlite) written through storage/sqlite. An incident is what a monitor, an
// Alertmanager alert or a simulation opened: its status, its timeline, the evidence gathered at
// the time, and the analysis (hypotheses, actions) added later.
//
// Durability contract: every IncidentStore method returns only after its transaction committed
// with synchronous=FULL, so whatever a caller was given survives kill -9 and a power cut. A failed
// write (disk full, read-only file) throws storage::SqliteError naming the file and the
// operation, rolls back, and leaves the store usable (reads keep working).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "incidents/alertmanager_webhook.hpp"  // LabelMap
#include "storage/sqlite.hpp"

namespace trafficsim::incidents {

enum class IncidentStatus { open, acknowledged, resolved };
enum class IncidentSource { monitor, alertmanager, simulation };
std::string_view to_string(IncidentStatus s);
std::string_view to_string(IncidentSource s);
std::optional<IncidentStatus> parse_incident_status(std::string_view text);
std::optional<IncidentSource> parse_incident_source(std::string_view text);

struct TimelineEvent {
  double t_unix = 0;  // seconds since the Unix epoch
  std::string kind;   // opened, repeated, acknowledged, resolved, analysis, note, ...
  std::string message;
  bool operator==(const TimelineEvent&) const = default;
};

// A metric as it stood when the evidence was taken: its value against its baseline, in σ.
struct MetricEvidence {
  std::string name;
  double value = 0;
  double baseline = 0;
  double sigma = 0;  // the baseline's standard deviation; 0 when unknown
  std::string unit;
  bool operator==(const MetricEvidence&) const = default;
};

struct SlowQueryEvidence {
  std::string query;
  double duration_ms = 0;
  int64_t count = 0;
  bool operator==(const SlowQueryEvidence&) const = default;
};

struct Evidence {
  std::vector<MetricEvidence> metrics;
  std::vector<std::string> trace_ids;      // example traces (32 hex digits each)
  std::vector<std::string> active_faults;  // faults injected at the time
  std::vector<SlowQueryEvidence> slow_queries;
  bool operator==(const Evidence&) const = default;
};

struct Hypothesis {
  std::string category;  // memory_leak, capacity, database, bad_deployment, dependency, ...
  std::string description;
  double confidence = 0;  // [0, 1]
  std::vector<std::string> evidence;
  bool operator==(const Hypothesis&) const = default;
};

struct Action {
  std::string type;  // restart, rollback, scale_out, create_index, circuit_breaker, ...
  std::string risk;  // low, medium, high
  std::string blast_radius;
  std::vector<std::string> steps;
  std::string runbook;
  bool operator==(const Action&) const = default;
};

struct Incident {
  std::string id;  // "inc-" + 12 hex digits, given by the store
  std::string title;
  IncidentStatus status = IncidentStatus::open;
  std::string severity;  // critical, high, medium, low (or the alert's own, "page")
  std::string service;
  IncidentSource source = IncidentSource::monitor;
  // What makes a repeat the same incident while it is unresolved: the Alertmanager fingerprint,
  // "monitor:<id>", a simulation's id. Empty: never deduplicated.
  std::string dedup_key;
  std::string monitor_id;
  std::string dashboard_url;
  LabelMap labels;
  double created_at = 0;  // Unix seconds
  double updated_at = 0;
  std::optional<double> resolved_at;
  std::vector<TimelineEvent> timeline;  // oldest first
  Evidence evidence;
  std::vector<Hypothesis> hypotheses;
  std::vector<Action> actions;
  bool operator==(const Incident&) const = default;
};

// The API's shape, snake_case: {"id","title","status","severity","service","source",
// "dedup_key","monitor_id","dashboard_url","labels","created_at","updated_at","resolved_at",
// "timeline","evidence","hypotheses","actions"}; times are RFC 3339 UTC with microseconds
// (timeline events carry "t_unix" as well as "at"); resolved_at is null until resolved.
boost::json::object to_json(const Incident& incident);
// The inverse of to_json (times to the microsecond). Throws std::invalid_argument naming the
// field at fault ("timeline[2].kind: must be a string"). id, title, status, severity, service,
// source and created_at are required; everything else defaults.
Incident incident_from_json(const boost::json::value& json);

struct IncidentFilter {
  std::optional<IncidentStatus> status;
  std::optional<std::string> service;
  std::optional<double> since_unix_s;  // created at or after
  size_t limit = 100;
};

struct IncidentStoreOptions {
  bool read_only = false;  // writes then throw SqliteError (SQLITE_READONLY) naming the file
  std::chrono::milliseconds busy_timeout{5000};
  // The clock for created_at, updated_at and timeline stamps; empty means core::unix_now_s.
  std::function<double()> now_unix_s;
};

// <data_dir>/incidents.sqlite
std::filesystem::path default_incident_store_path(const std::filesystem::path& data_dir);

// Thread-safe: one mutex around one connection; every member may be called from any thread.
// Several processes may open the same file (WAL, writers wait up to busy_timeout).
class IncidentStore {
 public:
  // Opens or creates the file (and its directory) and its schema. Read-only opens an existing
  // file and never changes it. Throws SqliteError naming the file: cannot open, not writable
  // when opened for writing, a schema from a newer build.
  explicit IncidentStore(std::filesystem::path path, IncidentStoreOptions options = {});

  // When an unresolved incident has draft.dedup_key (non-empty), a "repeated" timeline event is
  // appended to it and it is returned; otherwise a new incident is stored from the draft (new
  // id, status open, created_at from the draft or now, an "opened" event before the draft's
  // own; "{id}" in dashboard_url replaced by the new id) and returned.
  Incident open_or_update(const Incident& draft);

  std::optional<Incident> get(std::string_view id) const;
  std::vector<Incident> list(const IncidentFilter& filter = {}) const;  // newest first

  // Each returns the incident as stored afterwards, or nullopt for an unknown id.
  // acknowledge: open -> acknowledged with an "acknowledged" event; otherwise unchanged.
  std::optional<Incident> acknowledge(std::string_view id, std::string_view note = {});
  // resolve: -> resolved (resolved_at now) with a "resolved" event; a resolved one is unchanged.
  std::optional<Incident> resolve(std::string_view id, std::string_view note = {});
  // The unresolved incident with this dedup key, resolved; nullopt when there is none.
  std::optional<Incident> resolve_by_dedup_key(std::string_view dedup_key,
                                               std::string_view note = {});
  // Appends the event (t_unix 0 means now).
  std::optional<Incident> add_timeline(std::string_view id, TimelineEvent event);
  // Replaces the analysis and the evidence, with an "analysis" event.
  std::optional<Incident> set_analysis(std::string_view id, std::vector<Hypothesis> hypotheses,
                                       std::vector<Action> actions, Evidence evidence);

  const std::filesystem::path& path() const { return path_; }

 private:
  double now() const;
  std::optional<Incident> find_locked(std::string_view id) const;
  std::optional<Incident> find_unresolved_locked(std::string_view dedup_key) const;
  void insert_locked(const Incident& incident);
  void update_locked(const Incident& incident);
  // Runs fn in one write transaction under the mutex; SqliteErrors gain the file and `what`.
  template <typename Fn>
  auto write(std::string_view what, Fn&& fn);
  std::optional<Incident> mutate(std::string_view what, std::string_view id,
                                 const std::function<void(Incident&)>& change);
  [[noreturn]] void rethrow_with_context(const storage::SqliteError& error,
                                         std::string_view what) const;

  const std::filesystem::path path_;
  const IncidentStoreOptions options_;
  mutable std::mutex mutex_;
  mutable storage::Database db_;
};

}  // namespace trafficsim::incidents
