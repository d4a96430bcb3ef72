#include "incidents/incident_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/clock.hpp"
#include "core/trace_context.hpp"

namespace trafficsim::incidents {

namespace json = boost::json;
using storage::Database;
using storage::SqliteError;
using storage::Statement;
using storage::Transaction;

namespace {

constexpr int64_t kSchemaVersion = 1;
constexpr int kTimeFractionDigits = 6;

// ----- JSON: writing -----

json::array strings_to_json(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& s : items) out.emplace_back(s);
  return out;
}

// Rounded to the microsecond (format_rfc3339(double) truncates the double's nanoseconds, which
// turns .25 into .249999).
json::value time_to_json(double unix_s) {
  const std::chrono::microseconds us(std::llround(unix_s * 1e6));
  return json::value(
      core::format_rfc3339(std::chrono::system_clock::time_point(us), kTimeFractionDigits));
}

json::object labels_to_json(const LabelMap& labels) {
  json::object out;
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

json::array timeline_to_json(const std::vector<TimelineEvent>& timeline) {
  json::array out;
  for (const auto& e : timeline) {
    out.emplace_back(json::object{{"t_unix", e.t_unix},
                                  {"at", time_to_json(e.t_unix)},
                                  {"kind", e.kind},
                                  {"message", e.message}});
  }
  return out;
}

json::object evidence_to_json(const Evidence& evidence) {
  json::array metrics;
  for (const auto& m : evidence.metrics) {
    json::object o{{"name", m.name},
                   {"value", m.value},
                   {"baseline", m.baseline},
                   {"sigma", m.sigma},
                   {"unit", m.unit}};
    // How far from the baseline, in σ: derived, never read back.
    if (m.sigma > 0) o["deviation_sigma"] = (m.value - m.baseline) / m.sigma;
    metrics.emplace_back(std::move(o));
  }
  json::array slow;
  for (const auto& q : evidence.slow_queries) {
    slow.emplace_back(
        json::object{{"query", q.query}, {"duration_ms", q.duration_ms}, {"count", q.count}});
  }
  return json::object{{"metrics", std::move(metrics)},
                      {"trace_ids", strings_to_json(evidence.trace_ids)},
                      {"active_faults", strings_to_json(evidence.active_faults)},
                      {"slow_queries", std::move(slow)}};
}

json::array hypotheses_to_json(const std::vector<Hypothesis>& hypotheses) {
  json::array out;
  for (const auto& h : hypotheses) {
    out.emplace_back(json::object{{"category", h.category},
                                  {"description", h.description},
                                  {"confidence", h.confidence},
                                  {"evidence", strings_to_json(h.evidence)}});
  }
  return out;
}

json::array actions_to_json(const std::vector<Action>& actions) {
  json::array out;
  for (const auto& a : actions) {
    out.emplace_back(json::object{{"type", a.type},
                                  {"risk", a.risk},
                                  {"blast_radius", a.blast_radius},
                                  {"steps", strings_to_json(a.steps)},
                                  {"runbook", a.runbook}});
  }
  return out;
}

// ----- JSON: reading; every error names the field's path -----

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::invalid_argument(path + ": " + what);
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

const json::object& as_object(const json::value& v, const std::string& path) {
  if (!v.is_object()) fail(path.empty() ? "body" : path, "must be an object");
  return v.get_object();
}

const json::array* optional_array(const json::object& o, std::string_view key,
                                  const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_array()) fail(child(path, key), "must be an array");
  return &v->get_array();
}

std::string read_string(const json::object& o, std::string_view key, const std::string& path,
                        bool required = false) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) fail(child(path, key), "is required");
    return {};
  }
  if (!v->is_string()) fail(child(path, key), "must be a string");
  return std::string(v->get_string());
}

double read_number(const json::object& o, std::string_view key, const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return 0;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  fail(child(path, key), "must be a number");
}

std::optional<double> read_time(const json::object& o, std::string_view key,
                                const std::string& path, bool required = false) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) fail(child(path, key), "is required");
    return std::nullopt;
  }
  if (!v->is_string()) fail(child(path, key), "must be an RFC 3339 string");
  auto t = parse_rfc3339_unix_s(v->get_string());
  if (!t) fail(child(path, key), "must be an RFC 3339 date-time");
  return t;
}

std::vector<std::string> read_strings(const json::object& o, std::string_view key,
                                      const std::string& path) {
  std::vector<std::string> out;
  const json::array* a = optional_array(o, key, path);
  if (a == nullptr) return out;
  for (size_t i = 0; i < a->size(); ++i) {
    const json::value& v = (*a)[i];
    if (!v.is_string()) fail(child(path, key) + "[" + std::to_string(i) + "]", "must be a string");
    out.emplace_back(v.get_string());
  }
  return out;
}

// Calls read(object, "<key>[i]") for each element of o[key].
template <typename T, typename Read>
std::vector<T> read_objects(const json::object& o, std::string_view key, const std::string& path,
                            Read read) {
  std::vector<T> out;
  const json::array* a = optional_array(o, key, path);
  if (a == nullptr) return out;
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string item = child(path, key) + "[" + std::to_string(i) + "]";
    out.push_back(read(as_object((*a)[i], item), item));
  }
  return out;
}

LabelMap read_labels(const json::object& o, std::string_view key, const std::string& path) {
  LabelMap out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  for (const auto& [k, value] : as_object(*v, child(path, key))) {
    if (!value.is_string()) fail(child(child(path, key), k), "must be a string");
    out.emplace(std::string(k), std::string(value.get_string()));
  }
  return out;
}

std::vector<TimelineEvent> read_timeline(const json::object& o, const std::string& path) {
  return read_objects<TimelineEvent>(o, "timeline", path,
                                     [](const json::object& e, const std::string& at) {
                                       TimelineEvent event;
                                       if (e.contains("t_unix")) {
                                         event.t_unix = read_number(e, "t_unix", at);
                                       } else {
                                         event.t_unix = read_time(e, "at", at, true).value();
                                       }
                                       event.kind = read_string(e, "kind", at, true);
                                       event.message = read_string(e, "message", at);
                                       return event;
                                     });
}

Evidence read_evidence(const json::object& o, const std::string& path) {
  Evidence out;
  const json::value* v = o.if_contains("evidence");
  if (v == nullptr || v->is_null()) return out;
  const std::string at = child(path, "evidence");
  const json::object& e = as_object(*v, at);
  out.metrics = read_objects<MetricEvidence>(
      e, "metrics", at, [](const json::object& m, const std::string& p) {
        return MetricEvidence{read_string(m, "name", p, true), read_number(m, "value", p),
                              read_number(m, "baseline", p), read_number(m, "sigma", p),
                              read_string(m, "unit", p)};
      });
  out.trace_ids = read_strings(e, "trace_ids", at);
  out.active_faults = read_strings(e, "active_faults", at);
  out.slow_queries = read_objects<SlowQueryEvidence>(
      e, "slow_queries", at, [](const json::object& q, const std::string& p) {
        return SlowQueryEvidence{read_string(q, "query", p, true), read_number(q, "duration_ms", p),
                                 static_cast<int64_t>(read_number(q, "count", p))};
      });
  return out;
}

std::vector<Hypothesis> read_hypotheses(const json::object& o, const std::string& path) {
  return read_objects<Hypothesis>(
      o, "hypotheses", path, [](const json::object& h, const std::string& p) {
        return Hypothesis{read_string(h, "category", p, true), read_string(h, "description", p),
                          read_number(h, "confidence", p), read_strings(h, "evidence", p)};
      });
}

std::vector<Action> read_actions(const json::object& o, const std::string& path) {
  return read_objects<Action>(o, "actions", path, [](const json::object& a, const std::string& p) {
    return Action{read_string(a, "type", p, true), read_string(a, "risk", p),
                  read_string(a, "blast_radius", p), read_strings(a, "steps", p),
                  read_string(a, "runbook", p)};
  });
}

// ----- SQL -----

// Scalars in columns (the filters' and the dedup lookup's, indexed); the nested parts as the
// same JSON the API shows. At most one unresolved incident per non-empty dedup key, enforced.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  service TEXT NOT NULL,
  source TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  monitor_id TEXT NOT NULL,
  dashboard_url TEXT NOT NULL,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  resolved_at REAL,
  labels TEXT NOT NULL,
  timeline TEXT NOT NULL,
  evidence TEXT NOT NULL,
  hypotheses TEXT NOT NULL,
  actions TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status);
CREATE INDEX IF NOT EXISTS incidents_service ON incidents (service);
CREATE INDEX IF NOT EXISTS incidents_created_at ON incidents (created_at);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_unresolved_dedup_key ON incidents (dedup_key)
  WHERE status != 'resolved' AND dedup_key != '';
)sql";

constexpr std::string_view kColumns =
    "id, title, status, severity, service, source, dedup_key, monitor_id, dashboard_url, "
    "created_at, updated_at, resolved_at, labels, timeline, evidence, hypotheses, actions";

json::object parse_column(const Statement& row, int column, const char* name) {
  // The column holds {"<name>": ...} so that the API's readers (and their paths) apply.
  json::error_code ec;
  json::value v = json::parse(row.column_text(column), ec);
  if (ec) throw std::invalid_argument(std::string(name) + ": not JSON in the store");
  return json::object{{name, std::move(v)}};
}

Incident read_row(const Statement& row) {
  Incident out;
  out.id = row.column_text(0);
  out.title = row.column_text(1);
  out.status = parse_incident_status(row.column_text(2)).value_or(IncidentStatus::open);
  out.severity = row.column_text(3);
  out.service = row.column_text(4);
  out.source = parse_incident_source(row.column_text(5)).value_or(IncidentSource::monitor);
  out.dedup_key = row.column_text(6);
  out.monitor_id = row.column_text(7);
  out.dashboard_url = row.column_text(8);
  out.created_at = row.column_double(9);
  out.updated_at = row.column_double(10);
  if (!row.column_is_null(11)) out.resolved_at = row.column_double(11);
  out.labels = read_labels(parse_column(row, 12, "labels"), "labels", "");
  out.timeline = read_timeline(parse_column(row, 13, "timeline"), "");
  out.evidence = read_evidence(parse_column(row, 14, "evidence"), "");
  out.hypotheses = read_hypotheses(parse_column(row, 15, "hypotheses"), "");
  out.actions = read_actions(parse_column(row, 16, "actions"), "");
  return out;
}

void bind_incident(Statement& s, const Incident& i) {
  s.bind_text(":id", i.id)
      .bind_text(":title", i.title)
      .bind_text(":status", to_string(i.status))
      .bind_text(":severity", i.severity)
      .bind_text(":service", i.service)
      .bind_text(":source", to_string(i.source))
      .bind_text(":dedup_key", i.dedup_key)
      .bind_text(":monitor_id", i.monitor_id)
      .bind_text(":dashboard_url", i.dashboard_url)
      .bind_double(":created_at", i.created_at)
      .bind_double(":updated_at", i.updated_at)
      .bind_text(":labels", json::serialize(labels_to_json(i.labels)))
      .bind_text(":timeline", json::serialize(timeline_to_json(i.timeline)))
      .bind_text(":evidence", json::serialize(evidence_to_json(i.evidence)))
      .bind_text(":hypotheses", json::serialize(hypotheses_to_json(i.hypotheses)))
      .bind_text(":actions", json::serialize(actions_to_json(i.actions)));
  if (i.resolved_at) {
    s.bind_double(":resolved_at", *i.resolved_at);
  } else {
    s.bind_null(":resolved_at");
  }
}

// Times are kept to the microsecond: 16 significant digits, which Boost.JSON's parser reads
// back exactly (it rounds longer mantissas), so a stored incident reads back equal.
double whole_microseconds(double unix_s) {
  return static_cast<double>(std::llround(unix_s * 1e6)) / 1e6;
}

std::string new_incident_id() {
  return "inc-" + core::to_hex(core::random_span_id()).substr(0, 12);
}

std::string context_for(const std::filesystem::path& path, std::string_view what) {
  return "incident store " + path.string() + ": " + std::string(what);
}

void ensure_schema(Database& db, const std::filesystem::path& path) {
  Transaction tx(db);
  db.exec(kSchema);
  std::optional<int64_t> version = db.query_int64("SELECT max(version) FROM schema_version");
  if (!version || *version == 0) {
    db.exec("DELETE FROM schema_version");
    db.exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(kSchemaVersion) + ")");
  } else if (*version > kSchemaVersion) {
    throw SqliteError(SQLITE_ERROR,
                      "schema version " + std::to_string(*version) +
                          " is newer than this build's " + std::to_string(kSchemaVersion),
                      {}, context_for(path, "opening"));
  }
  tx.commit();
}

}  // namespace

// ----- names -----

std::string_view to_string(IncidentStatus s) {
  switch (s) {
    case IncidentStatus::open:
      return "open";
    case IncidentStatus::acknowledged:
      return "acknowledged";
    case IncidentStatus::resolved:
      return "resolved";
  }
  return "open";
}

std::string_view to_string(IncidentSource s) {
  switch (s) {
    case IncidentSource::monitor:
      return "monitor";
    case IncidentSource::alertmanager:
      return "alertmanager";
    case IncidentSource::simulation:
      return "simulation";
  }
  return "monitor";
}

std::optional<IncidentStatus> parse_incident_status(std::string_view text) {
  for (auto s : {IncidentStatus::open, IncidentStatus::acknowledged, IncidentStatus::resolved}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::optional<IncidentSource> parse_incident_source(std::string_view text) {
  for (auto s :
       {IncidentSource::monitor, IncidentSource::alertmanager, IncidentSource::simulation}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

// ----- JSON -----

json::object to_json(const Incident& i) {
  return json::object{
      {"id", i.id},
      {"title", i.title},
      {"status", to_string(i.status)},
      {"severity", i.severity},
      {"service", i.service},
      {"source", to_string(i.source)},
      {"dedup_key", i.dedup_key},
      {"monitor_id", i.monitor_id},
      {"dashboard_url", i.dashboard_url},
      {"labels", labels_to_json(i.labels)},
      {"created_at", time_to_json(i.created_at)},
      {"updated_at", time_to_json(i.updated_at)},
      {"resolved_at", i.resolved_at ? time_to_json(*i.resolved_at) : json::value(nullptr)},
      {"timeline", timeline_to_json(i.timeline)},
      {"evidence", evidence_to_json(i.evidence)},
      {"hypotheses", hypotheses_to_json(i.hypotheses)},
      {"actions", actions_to_json(i.actions)},
  };
}

Incident incident_from_json(const json::value& value) {
  const json::object& o = as_object(value, "");
  Incident out;
  out.id = read_string(o, "id", "", true);
  out.title = read_string(o, "title", "", true);
  const std::string status = read_string(o, "status", "", true);
  if (!parse_incident_status(status)) fail("status", "must be open, acknowledged or resolved");
  out.status = *parse_incident_status(status);
  out.severity = read_string(o, "severity", "", true);
  out.service = read_string(o, "service", "", true);
  const std::string source = read_string(o, "source", "", true);
  if (!parse_incident_source(source)) fail("source", "must be monitor, alertmanager or simulation");
  out.source = *parse_incident_source(source);
  out.dedup_key = read_string(o, "dedup_key", "");
  out.monitor_id = read_string(o, "monitor_id", "");
  out.dashboard_url = read_string(o, "dashboard_url", "");
  out.labels = read_labels(o, "labels", "");
  out.created_at = read_time(o, "created_at", "", true).value();
  out.updated_at = read_time(o, "updated_at", "").value_or(out.created_at);
  out.resolved_at = read_time(o, "resolved_at", "");
  out.timeline = read_timeline(o, "");
  out.evidence = read_evidence(o, "");
  out.hypotheses = read_hypotheses(o, "");
  out.actions = read_actions(o, "");
  return out;
}

// ----- the store -----

std::filesystem::path default_incident_store_path(const std::filesystem::path& data_dir) {
  return data_dir / "incidents.sqlite";
}

namespace {

Database open_database(const std::filesystem::path& path, const IncidentStoreOptions& options) {
  try {
    if (options.read_only) {
      Database db(path, {storage::Access::read_only});
      db.set_busy_timeout(options.busy_timeout);
      // Fails here, not at the first read, when the file is not an incident store.
      db.query_int64("SELECT max(version) FROM schema_version");
      return db;
    }
    if (path.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);  // the open reports failure
    }
    Database db(path, {storage::Access::read_write_create});
    // SQLite quietly opens a write-protected file read-only; a store opened to write says so now.
    if (sqlite3_db_readonly(db.handle(), "main") == 1) {
      throw SqliteError(SQLITE_READONLY, "the file is read-only", {}, "opening for writing");
    }
    db.enable_wal(options.busy_timeout);
    // WAL's default here is NORMAL (durable at checkpoints); an acknowledged incident must
    // survive a power cut, so every commit syncs the log.
    db.exec("PRAGMA synchronous=FULL");
    // Keep the -wal and -shm files when the last writer closes, so that a reader without write
    // permission on the directory (another user, a read-only mount) can still open the file.
    int persist_wal = 1;
    sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
    ensure_schema(db, path);
    return db;
  } catch (const SqliteError& e) {
    if (e.sql().empty() && e.what() != nullptr &&
        std::string_view(e.what()).find(path.string()) != std::string_view::npos) {
      throw;  // already names the file
    }
    throw SqliteError(e.code(), e.sqlite_message(), {},
                      context_for(path, options.read_only ? "opening read-only" : "opening"),
                      e.os_errno());
  }
}

}  // namespace

IncidentStore::IncidentStore(std::filesystem::path path, IncidentStoreOptions options)
    : path_(std::move(path)), options_(std::move(options)), db_(open_database(path_, options_)) {}

double IncidentStore::now() const {
  return whole_microseconds(options_.now_unix_s ? options_.now_unix_s() : core::unix_now_s());
}

void IncidentStore::rethrow_with_context(const SqliteError& error, std::string_view what) const {
  // "disk I/O error" alone hides a full quota or a file-size limit: say which.
  std::string message = error.sqlite_message();
  if (error.os_errno() != 0) message += std::string(": ") + std::strerror(error.os_errno());
  throw SqliteError(error.code(), std::move(message), {}, context_for(path_, what),
                    error.os_errno());
}

template <typename Fn>
auto IncidentStore::write(std::string_view what, Fn&& fn) {
  std::lock_guard lock(mutex_);
  if (options_.read_only) {
    throw SqliteError(SQLITE_READONLY, "the store is open read-only", {}, context_for(path_, what));
  }
  try {
    Transaction tx(db_);
    auto result = fn();
    tx.commit();
    return result;
  } catch (const SqliteError& e) {
    rethrow_with_context(e, what);
  }
}

std::optional<Incident> IncidentStore::find_locked(std::string_view id) const {
  Statement s = db_.prepare("SELECT " + std::string(kColumns) + " FROM incidents WHERE id = ?1");
  s.bind_text(1, id);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::optional<Incident> IncidentStore::find_unresolved_locked(std::string_view dedup_key) const {
  Statement s = db_.prepare("SELECT " + std::string(kColumns) +
                            " FROM incidents WHERE dedup_key = ?1 AND status != 'resolved' AND "
                            "dedup_key != ''");
  s.bind_text(1, dedup_key);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

void IncidentStore::insert_locked(const Incident& incident) {
  Statement s = db_.prepare(
      "INSERT INTO incidents (" + std::string(kColumns) +
      ") VALUES (:id, :title, :status, :severity, :service, :source, :dedup_key, :monitor_id, "
      ":dashboard_url, :created_at, :updated_at, :resolved_at, :labels, :timeline, :evidence, "
      ":hypotheses, :actions)");
  bind_incident(s, incident);
  s.step();
}

void IncidentStore::update_locked(const Incident& incident) {
  Statement s = db_.prepare(
      "UPDATE incidents SET title = :title, status = :status, severity = :severity, "
      "service = :service, source = :source, dedup_key = :dedup_key, monitor_id = :monitor_id, "
      "dashboard_url = :dashboard_url, created_at = :created_at, updated_at = :updated_at, "
      "resolved_at = :resolved_at, labels = :labels, timeline = :timeline, evidence = :evidence, "
      "hypotheses = :hypotheses, actions = :actions WHERE id = :id");
  bind_incident(s, incident);
  s.step();
}

Incident IncidentStore::open_or_update(const Incident& draft) {
  return write("open_or_update", [&] {
    const double t = now();
    if (!draft.dedup_key.empty()) {
      if (auto existing = find_unresolved_locked(draft.dedup_key)) {
        // A repeat says what repeated: the draft's own newest entry (the alert's reason), or
        // its title.
        existing->timeline.push_back(
            {t, "repeated", draft.timeline.empty() ? draft.title : draft.timeline.back().message});
        existing->updated_at = t;
        update_locked(*existing);
        return *existing;
      }
    }
    Incident incident = draft;
    for (auto& event : incident.timeline) event.t_unix = whole_microseconds(event.t_unix);
    do {
      incident.id = new_incident_id();
    } while (find_locked(incident.id));
    // A link to the incident's own page: "{id}" in the draft's URL becomes the new id.
    if (auto at = incident.dashboard_url.find("{id}"); at != std::string::npos)
      incident.dashboard_url.replace(at, 4, incident.id);
    incident.status = IncidentStatus::open;
    incident.resolved_at.reset();
    incident.created_at = incident.created_at > 0 ? whole_microseconds(incident.created_at) : t;
    incident.updated_at = t;
    // "opened" first, then what the caller said about it (the alert that opened it).
    incident.timeline.insert(
        incident.timeline.begin(),
        TimelineEvent{t, "opened",
                      "Opened from " + std::string(to_string(incident.source)) + ": " + draft.title});
    insert_locked(incident);
    return incident;
  });
}

std::optional<Incident> IncidentStore::get(std::string_view id) const {
  std::lock_guard lock(mutex_);
  try {
    return find_locked(id);
  } catch (const SqliteError& e) {
    rethrow_with_context(e, "get");
  }
}

std::vector<Incident> IncidentStore::list(const IncidentFilter& filter) const {
  std::lock_guard lock(mutex_);
  try {
    std::string sql = "SELECT " + std::string(kColumns) + " FROM incidents WHERE 1";
    if (filter.status) sql += " AND status = :status";
    if (filter.service) sql += " AND service = :service";
    if (filter.since_unix_s) sql += " AND created_at >= :since";
    sql += " ORDER BY created_at DESC, seq DESC LIMIT :limit";
    Statement s = db_.prepare(sql);
    if (filter.status) s.bind_text(":status", to_string(*filter.status));
    if (filter.service) s.bind_text(":service", *filter.service);
    if (filter.since_unix_s) s.bind_double(":since", *filter.since_unix_s);
    s.bind_int64(":limit", static_cast<int64_t>(filter.limit));
    std::vector<Incident> out;
    while (s.step()) out.push_back(read_row(s));
    return out;
  } catch (const SqliteError& e) {
    rethrow_with_context(e, "list");
  }
}

std::optional<Incident> IncidentStore::mutate(std::string_view what, std::string_view id,
                                              const std::function<void(Incident&)>& change) {
  return write(what, [&]() -> std::optional<Incident> {
    std::optional<Incident> incident = find_locked(id);
    if (!incident) return std::nullopt;
    const Incident before = *incident;
    change(*incident);
    if (*incident != before) {
      incident->updated_at = now();
      update_locked(*incident);
    }
    return incident;
  });
}

namespace {
std::string with_note(std::string_view base, std::string_view note) {
  return note.empty() ? std::string(base) : std::string(base) + ": " + std::string(note);
}
}  // namespace

std::optional<Incident> IncidentStore::acknowledge(std::string_view id, std::string_view note) {
  return mutate("acknowledge " + std::string(id), id, [&](Incident& i) {
    if (i.status != IncidentStatus::open) return;
    i.status = IncidentStatus::acknowledged;
    i.timeline.push_back({now(), "acknowledged", with_note("Acknowledged", note)});
  });
}

std::optional<Incident> IncidentStore::resolve(std::string_view id, std::string_view note) {
  return mutate("resolve " + std::string(id), id, [&](Incident& i) {
    if (i.status == IncidentStatus::resolved) return;
    const double t = now();
    i.status = IncidentStatus::resolved;
    i.resolved_at = t;
    i.timeline.push_back({t, "resolved", with_note("Resolved", note)});
  });
}

std::optional<Incident> IncidentStore::resolve_by_dedup_key(std::string_view dedup_key,
                                                            std::string_view note) {
  return write("resolve_by_dedup_key " + std::string(dedup_key), [&]() -> std::optional<Incident> {
    if (dedup_key.empty()) return std::nullopt;
    std::optional<Incident> incident = find_unresolved_locked(dedup_key);
    if (!incident) return std::nullopt;
    const double t = now();
    incident->status = IncidentStatus::resolved;
    incident->resolved_at = t;
    incident->updated_at = t;
    incident->timeline.push_back({t, "resolved", with_note("Resolved", note)});
    update_locked(*incident);
    return incident;
  });
}

std::optional<Incident> IncidentStore::add_timeline(std::string_view id, TimelineEvent event) {
  return mutate("add_timeline " + std::string(id), id, [&](Incident& i) {
    event.t_unix = event.t_unix > 0 ? whole_microseconds(event.t_unix) : now();
    i.timeline.push_back(std::move(event));
  });
}

std::optional<Incident> IncidentStore::set_analysis(std::string_view id,
                                                    std::vector<Hypothesis> hypotheses,
                                                    std::vector<Action> actions,
                                                    Evidence evidence) {
  return mutate("set_analysis " + std::string(id), id, [&](Incident& i) {
    const std::string message = std::to_string(hypotheses.size()) + " hypotheses, " +
                                std::to_string(actions.size()) + " actions";
    i.hypotheses = std::move(hypotheses);
    i.actions = std::move(actions);
    i.evidence = std::move(evidence);
    i.timeline.push_back({now(), "analysis", message});
  });
}

}  // namespace trafficsim::incidents
