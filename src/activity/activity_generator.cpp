#include "activity/activity_generator.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "core/random.hpp"

namespace trafficsim::activity {

using telemetry::Severity;

std::string_view kind_name(ActivityKind kind) {
  switch (kind) {
    case ActivityKind::http:
      return "http";
    case ActivityKind::db:
      return "db";
    case ActivityKind::job:
      return "job";
    case ActivityKind::cache:
      return "cache";
    case ActivityKind::log:
      return "log";
  }
  return "log";
}

std::string_view level_name(Severity severity) {
  switch (severity) {
    case Severity::trace:
      return "trace";
    case Severity::debug:
      return "debug";
    case Severity::info:
      return "info";
    case Severity::warn:
      return "warning";
    case Severity::error:
      return "error";
    case Severity::fatal:
      return "fatal";
  }
  return "info";
}

const std::vector<std::string_view>& ActivityTables::methods() {
  static const std::vector<std::string_view> v = {"GET", "POST", "PUT", "DELETE"};
  return v;
}
const std::vector<std::string_view>& ActivityTables::routes() {
  static const std::vector<std::string_view> v = {"/users", "/orders", "/products", "/api/health",
                                                  "/search"};
  return v;
}
const std::vector<std::string_view>& ActivityTables::tables() {
  static const std::vector<std::string_view> v = {"users", "orders", "products", "sessions",
                                                  "events"};
  return v;
}
const std::vector<std::string_view>& ActivityTables::job_types() {
  static const std::vector<std::string_view> v = {"send_email", "process_payment",
                                                  "generate_report", "sync_inventory"};
  return v;
}
const std::vector<std::string_view>& ActivityTables::cache_keys() {
  static const std::vector<std::string_view> v = {"user:123", "product:456", "session:abc",
                                                  "config:main"};
  return v;
}
const std::vector<std::string_view>& ActivityTables::warnings() {
  static const std::vector<std::string_view> v = {"Connection pool running low",
                                                  "Slow query detected", "Rate limit approaching",
                                                  "Memory usage elevated"};
  return v;
}
const std::vector<std::string_view>& ActivityTables::errors() {
  static const std::vector<std::string_view> v = {"Connection timeout to external API",
                                                  "Failed to process webhook",
                                                  "Database deadlock detected"};
  return v;
}

namespace {

// Which part of the (imaginary) application each warning and error comes from: a structured
// field beside the message, as a real logger's metadata would be.
constexpr std::string_view kWarningComponents[] = {"db.pool", "db", "http", "runtime"};
constexpr std::string_view kErrorComponents[] = {"http.client", "webhooks", "db"};

// The seed's status mix: mostly 200, some 201, 301 and 404 (weights out of 100).
int draw_status(core::ArrivalRandom& r) {
  const uint64_t u = r.below(100);
  if (u < 60) return 200;
  if (u < 75) return 201;
  if (u < 85) return 301;
  return 404;
}

constexpr double kCacheHitShare = 0.75;

template <class T>
T pick(core::ArrivalRandom& r, const std::vector<T>& v) {
  return v[r.below(v.size())];
}

void fill_ids(core::ArrivalRandom& r, telemetry::Span& span) {
  uint64_t words[3];
  for (auto& w : words) {
    w = r.next_u64();
    if (w == 0) w = 1;  // all-zero ids mean "absent"
  }
  for (int i = 0; i < 8; ++i) {
    span.trace_id[i] = static_cast<uint8_t>(words[0] >> (56 - 8 * i));
    span.trace_id[8 + i] = static_cast<uint8_t>(words[1] >> (56 - 8 * i));
    span.span_id[i] = static_cast<uint8_t>(words[2] >> (56 - 8 * i));
  }
}

std::string ms_text(int64_t us) {
  return fmt::format("{}.{:03d} ms", us / 1000, static_cast<int>(us % 1000));
}

telemetry::LogRecord log_of(const telemetry::Span& span, uint64_t at, Severity severity,
                            std::string body, boost::json::object fields) {
  telemetry::LogRecord rec;
  rec.time_unix_nano = at;
  rec.severity = severity;
  rec.body = std::move(body);
  rec.attributes = std::move(fields);
  rec.trace_id = span.trace_id;
  rec.span_id = span.span_id;
  return rec;
}

// One activity of a random kind whose span ends at end_ns (its start: end_ns - its duration).
// `max_offset_us` > 0 moves the end back by a draw in [0, max_offset_us - duration) so that a
// tick's activities spread over the tick's window instead of ending all at once.
Activity make_activity(core::ArrivalRandom& r, uint64_t end_ns, int64_t window_us) {
  Activity a;
  a.kind = static_cast<ActivityKind>(r.below(4));
  telemetry::Span span;
  fill_ids(r, span);
  span.attributes["traffic.type"] = "activity";
  boost::json::object fields;
  switch (a.kind) {
    case ActivityKind::http: {
      a.method = pick(r, ActivityTables::methods());
      a.route = pick(r, ActivityTables::routes());
      a.status = draw_status(r);
      a.duration_us = r.between(5'000, 150'000);
      span.kind = telemetry::SpanKind::server;
      span.name = fmt::format("{} {}", a.method, a.route);
      span.attributes["http.request.method"] = a.method;
      span.attributes["http.route"] = a.route;
      span.attributes["url.path"] = a.route;
      span.attributes["http.response.status_code"] = a.status;
      a.level = Severity::info;
      a.message = fmt::format("{} {} {} ({})", a.method, a.route, a.status, ms_text(a.duration_us));
      fields = {{"http.request.method", a.method},
                {"http.route", a.route},
                {"http.response.status_code", a.status}};
      break;
    }
    case ActivityKind::db: {
      a.table = pick(r, ActivityTables::tables());
      static const std::vector<std::string_view> ops = {"SELECT", "SELECT", "SELECT", "INSERT",
                                                        "UPDATE"};
      const std::string_view op = pick(r, ops);
      a.duration_us = r.between(1'000, 50'000);
      span.kind = telemetry::SpanKind::client;
      span.name = fmt::format("{} {}", op, a.table);
      span.attributes["db.system"] = "postgresql";
      span.attributes["db.sql.table"] = a.table;
      span.attributes["db.operation"] = op;
      a.level = Severity::debug;
      a.message = fmt::format("Query {} on {} ({})", op, a.table, ms_text(a.duration_us));
      fields = {{"db.system", "postgresql"}, {"db.sql.table", a.table}, {"db.operation", op}};
      break;
    }
    case ActivityKind::job: {
      a.job_type = pick(r, ActivityTables::job_types());
      a.duration_us = r.between(50'000, 500'000);
      span.kind = telemetry::SpanKind::internal;
      span.name = fmt::format("job {}", a.job_type);
      span.attributes["job.type"] = a.job_type;
      a.level = Severity::info;
      a.message = fmt::format("Job {} completed ({})", a.job_type, ms_text(a.duration_us));
      fields = {{"job.type", a.job_type}};
      break;
    }
    case ActivityKind::cache:
    case ActivityKind::log: {
      a.kind = ActivityKind::cache;
      a.cache_hit = r.next_unit() < kCacheHitShare;
      const std::string_view key = pick(r, ActivityTables::cache_keys());
      a.duration_us = r.between(100, 2'000);
      span.kind = telemetry::SpanKind::client;
      span.name = "cache get";
      span.attributes["cache.key"] = key;
      span.attributes["cache.hit"] = a.cache_hit;
      a.level = Severity::debug;
      a.message = fmt::format("Cache {} {}", a.cache_hit ? "hit" : "miss", key);
      fields = {{"cache.key", key}, {"cache.hit", a.cache_hit}};
      break;
    }
  }
  if (window_us > a.duration_us) {
    end_ns -=
        static_cast<uint64_t>(r.below(static_cast<uint64_t>(window_us - a.duration_us))) * 1000;
  }
  span.end_unix_nano = end_ns;
  span.start_unix_nano = end_ns - static_cast<uint64_t>(a.duration_us) * 1000;
  fields["duration_ms"] = static_cast<double>(a.duration_us) / 1000.0;
  if (a.kind == ActivityKind::job) {
    boost::json::object started{{"job.type", a.job_type}};
    a.logs.push_back(log_of(span, span.start_unix_nano, Severity::info,
                            fmt::format("Job {} started", a.job_type), std::move(started)));
  }
  a.logs.push_back(log_of(span, span.end_unix_nano, a.level, a.message, std::move(fields)));
  a.spans.push_back(std::move(span));
  return a;
}

Activity alert(Severity severity, std::string_view message, std::string_view component,
               uint64_t at_ns) {
  Activity a;
  a.kind = ActivityKind::log;
  a.level = severity;
  a.message = std::string(message);
  telemetry::LogRecord rec;
  rec.time_unix_nano = at_ns;
  rec.severity = severity;
  rec.body = a.message;
  rec.attributes = {{"component", component}};
  a.logs.push_back(std::move(rec));
  return a;
}

const uint64_t kTickCountStream = core::stream_key("activity.tick");
const uint64_t kTickSlotStream = core::stream_key("activity.slot");
const uint64_t kStressStream = core::stream_key("activity.stress");
const uint64_t kWarningStream = core::stream_key("activity.warning");
const uint64_t kErrorStream = core::stream_key("activity.error");

}  // namespace

ActivityGenerator::ActivityGenerator(GeneratorOptions options) : options_(options) {
  if (!(options_.intensity > 0) || !std::isfinite(options_.intensity))
    throw std::invalid_argument("activity intensity must be a number above 0");
  if (options_.interval.count() <= 0)
    throw std::invalid_argument("activity interval must be above 0");
}

size_t ActivityGenerator::activities_in_tick(uint64_t tick) const {
  core::ArrivalRandom r(options_.seed, kTickCountStream, tick, core::Lane::gap);
  const double x = static_cast<double>(r.between(3, 6)) * options_.intensity;
  const double whole = std::floor(x);
  return static_cast<size_t>(whole) + (r.next_unit() < x - whole ? 1 : 0);
}

std::vector<Activity> ActivityGenerator::tick(uint64_t tick, uint64_t run_start_unix_ns) const {
  const uint64_t at = run_start_unix_ns + tick * static_cast<uint64_t>(options_.interval.count());
  const int64_t window_us = options_.interval.count() / 1000;
  const size_t n = activities_in_tick(tick);
  std::vector<Activity> out;
  out.reserve(n);
  const uint64_t stream = core::mix64(kTickSlotStream ^ tick);
  for (size_t slot = 0; slot < n; ++slot) {
    core::ArrivalRandom r(options_.seed, stream, slot, core::Lane::request);
    out.push_back(make_activity(r, at, window_us));
  }
  return out;
}

Activity ActivityGenerator::stress_activity(uint64_t k, uint64_t end_unix_ns) const {
  core::ArrivalRandom r(options_.seed, kStressStream, k, core::Lane::request);
  return make_activity(r, end_unix_ns, 0);
}

std::vector<Activity> ActivityGenerator::alerts_between(int64_t after_ns, int64_t until_ns,
                                                        uint64_t run_start_unix_ns) const {
  std::vector<Activity> out;
  if (until_ns <= after_ns || until_ns <= 0) return out;
  const int64_t warn_ns = std::chrono::nanoseconds(kWarningEvery).count();
  const int64_t err_ns = std::chrono::nanoseconds(kErrorEvery).count();
  // Multiples n x period (n >= 1) in (after, until], merged in time order.
  auto first = [&](int64_t period) { return after_ns < 0 ? 1 : after_ns / period + 1; };
  int64_t w = first(warn_ns), e = first(err_ns);
  while (true) {
    const int64_t wt = w * warn_ns, et = e * err_ns;
    const bool w_due = wt <= until_ns, e_due = et <= until_ns;
    if (!w_due && !e_due) break;
    if (w_due && (!e_due || wt <= et)) {
      core::ArrivalRandom r(options_.seed, kWarningStream, static_cast<uint64_t>(w),
                            core::Lane::request);
      const size_t i = r.below(ActivityTables::warnings().size());
      out.push_back(alert(Severity::warn, ActivityTables::warnings()[i], kWarningComponents[i],
                          run_start_unix_ns + static_cast<uint64_t>(wt)));
      ++w;
    } else {
      core::ArrivalRandom r(options_.seed, kErrorStream, static_cast<uint64_t>(e),
                            core::Lane::request);
      const size_t i = r.below(ActivityTables::errors().size());
      out.push_back(alert(Severity::error, ActivityTables::errors()[i], kErrorComponents[i],
                          run_start_unix_ns + static_cast<uint64_t>(et)));
      ++e;
    }
  }
  return out;
}

}  // namespace trafficsim::activity
