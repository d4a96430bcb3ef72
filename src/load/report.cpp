#include "load/report.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json.hpp>

#include "core/arrival_schedule.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"

namespace trafficsim::load {

namespace json = boost::json;

namespace {

json::object latency_to_json(const core::LatencyHistogram& h) {
  json::object o;
  // Percentiles are reported at the top of their bucket (HdrHistogram's convention); clamp them
  // to the exact extremes so no percentile ever exceeds max or undercuts min.
  auto pct = [&h](double p) { return std::clamp(h.percentile(p), h.min(), h.max()); };
  o["count"] = h.count();
  o["min_us"] = h.min();
  o["mean_us"] = std::round(h.mean() * 10) / 10;
  o["p50_us"] = pct(50);
  o["p90_us"] = pct(90);
  o["p95_us"] = pct(95);
  o["p99_us"] = pct(99);
  o["p999_us"] = pct(99.9);
  o["max_us"] = h.max();
  o["sum_us"] = h.mean() * static_cast<double>(h.count());
  o["histogram"] = h.encode_compressed_base64();
  return o;
}

[[noreturn]] void bad(const std::string& what) {
  throw std::runtime_error(what);
}

const json::value& field(const json::object& o, std::string_view name, std::string_view where) {
  auto it = o.find(name);
  if (it == o.end()) bad(fmt::format("missing field '{}' in {}", name, where));
  return it->value();
}

uint64_t u64(const json::object& o, std::string_view name, std::string_view where) {
  const json::value& v = field(o, name, where);
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64() && v.as_int64() >= 0) return static_cast<uint64_t>(v.as_int64());
  bad(fmt::format("field '{}' in {} must be a non-negative integer", name, where));
}

double num(const json::object& o, std::string_view name, std::string_view where) {
  const json::value& v = field(o, name, where);
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  bad(fmt::format("field '{}' in {} must be a number", name, where));
}

const json::object& obj(const json::object& o, std::string_view name, std::string_view where) {
  const json::value& v = field(o, name, where);
  if (!v.is_object()) bad(fmt::format("field '{}' in {} must be an object", name, where));
  return v.as_object();
}

core::LatencyHistogram latency_from_json(const json::object& o, std::string_view where) {
  const json::value& h = field(o, "histogram", where);
  if (!h.is_string()) bad(fmt::format("field 'histogram' in {} must be a string", where));
  auto decoded = core::LatencyHistogram::decode_compressed_base64(h.as_string());
  if (!decoded) bad(fmt::format("field 'histogram' in {} is not a valid HdrHistogram", where));
  if (decoded->count() > 0)
    decoded->set_exact_extremes(static_cast<int64_t>(num(o, "min_us", where)),
                                static_cast<int64_t>(num(o, "max_us", where)),
                                num(o, "sum_us", where));
  return std::move(*decoded);
}

json::array series_to_json(const std::vector<TimePoint>& points) {
  json::array series;
  for (const auto& p : points)
    series.push_back(json::object{{"t_s", p.t_s},
                                  {"rps", p.rps},
                                  {"error_ratio", p.error_ratio},
                                  {"p50_us", p.p50_us},
                                  {"p95_us", p.p95_us},
                                  {"p99_us", p.p99_us}});
  return series;
}

// Merges the time series of segments: points matched by t_s rounded to 0.5 s; rates summed,
// error ratios weighted by rate, the worst percentiles kept. `series_of` gives a report's
// series (nullptr when it has none).
template <typename SeriesOf>
json::array merge_series(const std::vector<std::pair<std::string, json::object>>& reports,
                         SeriesOf series_of) {
  std::map<int64_t, json::object> series;
  for (const auto& [file, r] : reports) {
    const json::value* v = series_of(r);
    if (!v || !v->is_array()) continue;
    for (const auto& pv : v->as_array()) {
      if (!pv.is_object()) continue;
      const auto& p = pv.as_object();
      int64_t key = std::llround(num(p, "t_s", "timeseries") * 2);
      auto& q = series[key];
      double rps = num(p, "rps", "timeseries");
      double prev_rps = q.contains("rps") ? q["rps"].to_number<double>() : 0;
      double prev_err = q.contains("error_ratio") ? q["error_ratio"].to_number<double>() : 0;
      double err = num(p, "error_ratio", "timeseries");
      q["t_s"] = static_cast<double>(key) / 2;
      q["rps"] = prev_rps + rps;
      q["error_ratio"] =
          prev_rps + rps > 0 ? (prev_err * prev_rps + err * rps) / (prev_rps + rps) : 0.0;
      for (const char* k : {"p50_us", "p95_us", "p99_us"}) {
        int64_t pv64 = static_cast<int64_t>(num(p, k, "timeseries"));
        q[k] = q.contains(k) ? std::max(q[k].to_number<int64_t>(), pv64) : pv64;
      }
    }
  }
  json::array out;
  for (auto& [k, v] : series) out.push_back(std::move(v));
  return out;
}

}  // namespace

MergeError::MergeError(std::vector<std::string> problems)
    : std::runtime_error(fmt::format("cannot merge: {} problem{}:\n  {}", problems.size(),
                                     problems.size() == 1 ? "" : "s",
                                     fmt::join(problems, "\n  "))),
      problems_(std::move(problems)) {}

json::object stats_to_json(const EndpointStats& s, double duration_s,
                           const std::vector<std::string>& counter_names) {
  json::object o;
  o["requests"] = s.requests;
  json::object responses;
  for (size_t code = 0; code < s.responses_by_status.size(); ++code)
    if (s.responses_by_status[code]) responses[std::to_string(code)] = s.responses_by_status[code];
  o["responses"] = std::move(responses);
  o["errors"] = json::object{{"connect", s.errors_connect},
                             {"timeout", s.errors_timeout},
                             {"closed_mid_response", s.errors_closed_mid_response},
                             {"other", s.errors_other},
                             {"status", s.errors_status}};
  uint64_t completed = s.completed();
  o["error_ratio"] =
      completed ? static_cast<double>(s.errors()) / static_cast<double>(completed) : 0.0;
  o["expected_failures"] = s.expected_failures;
  o["unexpected_failures"] = s.errors();
  o["dropped"] = s.dropped;
  o["bytes_in"] = s.bytes_in;
  o["bytes_out"] = s.bytes_out;
  o["duration_s"] = duration_s;
  o["achieved_rps"] = duration_s > 0 ? static_cast<double>(completed) / duration_s : 0.0;
  o["latency"] = json::object{{"corrected", latency_to_json(s.corrected)},
                              {"service", latency_to_json(s.service)},
                              {"send_lateness", latency_to_json(s.send_lateness)}};
  if (!counter_names.empty()) {
    json::object c;
    for (size_t i = 0; i < counter_names.size() && i < s.counters.size(); ++i)
      c[counter_names[i]] = s.counters[i];
    o["counters"] = std::move(c);
  }
  return o;
}

EndpointStats stats_from_json(const json::object& o) {
  EndpointStats s;
  s.requests = u64(o, "requests", "stats");
  for (const auto& [code, n] : obj(o, "responses", "stats")) {
    int c = std::atoi(std::string(code).c_str());
    if (c < 100 || c > 599) bad(fmt::format("invalid status '{}' in responses", std::string(code)));
    if (!n.is_int64() && !n.is_uint64()) bad("response counts must be integers");
    s.responses_by_status[c] = n.to_number<uint64_t>();
  }
  const auto& errors = obj(o, "errors", "stats");
  s.errors_connect = u64(errors, "connect", "errors");
  s.errors_timeout = u64(errors, "timeout", "errors");
  s.errors_other = u64(errors, "other", "errors");
  // Absent in reports written before the kind existed (they counted it under "other").
  s.errors_closed_mid_response =
      errors.contains("closed_mid_response") ? u64(errors, "closed_mid_response", "errors") : 0;
  s.errors_status = errors.contains("status") ? u64(errors, "status", "errors") : 0;
  s.expected_failures =
      o.contains("expected_failures") ? u64(o, "expected_failures", "stats") : 0;
  s.dropped = u64(o, "dropped", "stats");
  s.bytes_in = o.contains("bytes_in") ? u64(o, "bytes_in", "stats") : 0;
  s.bytes_out = o.contains("bytes_out") ? u64(o, "bytes_out", "stats") : 0;
  const auto& lat = obj(o, "latency", "stats");
  s.corrected = latency_from_json(obj(lat, "corrected", "latency"), "latency.corrected");
  s.service = latency_from_json(obj(lat, "service", "latency"), "latency.service");
  s.send_lateness =
      latency_from_json(obj(lat, "send_lateness", "latency"), "latency.send_lateness");
  if (auto it = o.find("counters"); it != o.end() && it->value().is_object()) {
    for (const auto& [k, v] : it->value().as_object()) {
      (void)k;
      s.counters.push_back(v.is_int64() ? v.as_int64()
                                        : static_cast<int64_t>(v.to_number<double>()));
    }
  }
  return s;
}

json::object build_report(const Plan& plan, const RunResult& result, const std::string& version) {
  json::object report;
  report["format_version"] = kReportFormatVersion;
  json::object meta;
  meta["trafficsim_version"] = version;
  meta["plan_hash"] = plan.hash();
  meta["seed"] = plan.seed;
  meta["segment"] = json::object{{"index", plan.segment.index}, {"count", plan.segment.count}};
  meta["model"] = plan.model == LoadModel::open ? "open" : "closed";
  meta["threads"] = result.threads;
  meta["start_at"] = result.start_at ? json::value(core::format_rfc3339(*result.start_at, 6))
                                      : json::value(nullptr);
  meta["started_at"] = core::format_rfc3339(result.started_at, 6);
  meta["ended_at"] = core::format_rfc3339(result.ended_at, 6);
  meta["planned_duration_s"] = static_cast<double>(plan.duration.count()) / 1e9;
  meta["stopped_early"] = result.stopped_early;
  json::array notes;
  for (const auto& n : plan.notes) notes.emplace_back(n);
  meta["notes"] = std::move(notes);
  report["meta"] = std::move(meta);

  EndpointStats total = result.stats.total();
  for (auto& [k, v] : stats_to_json(total, result.duration_s, {})) report[k] = v;
  report["saturation"] =
      json::object{{"saturated", result.saturated}, {"reason", result.saturation_reason}};
  json::array samples;
  for (const auto& e : result.error_samples) samples.emplace_back(e);
  report["error_samples"] = std::move(samples);

  json::array streams;
  for (size_t i = 0; i < plan.streams.size(); ++i) {
    const Stream& st = plan.streams[i];
    const StreamStats& ss = result.stats.streams.at(i);
    json::object so = stats_to_json(ss.total(), result.duration_s, st.counter_names);
    so["name"] = st.name;
    so["url"] = st.url.origin();
    if (plan.model == LoadModel::open) {
      // Uniform arrivals: k = 0 .. N-1 (N = ceil of the integral); segment i owns k mod n = i.
      const uint64_t total = static_cast<uint64_t>(std::ceil(st.profile.total_arrivals() - 1e-9));
      const uint64_t n = plan.segment.count, i = plan.segment.index;
      if (st.gap_jitter_s) {
        // Jittered gaps: the count depends on the draws; walk this segment's schedule (the
        // workers' union) to get it exactly.
        core::GapJitter jitter{st.gap_jitter_s->first, st.gap_jitter_s->second};
        core::ArrivalSchedule schedule(st.profile, st.process, plan.seed,
                                       core::stream_key(st.name), i, n, jitter);
        uint64_t count = 0;
        while (schedule.next()) ++count;
        so["planned_requests"] = count;
      } else {
        so["planned_requests"] = total > i ? (total - 1 - i) / n + 1 : 0;
      }
      so["peak_target_rps"] = st.profile.peak_rate() / plan.segment.count;
    } else {
      so["connections"] = st.connections;
    }
    json::array endpoints;
    for (size_t j = 0; j < st.requests.size(); ++j) {
      const RequestTemplate& t = st.requests[j];
      json::object eo = stats_to_json(ss.endpoints.at(j), result.duration_s, st.counter_names);
      eo["name"] = t.name.empty() ? t.method + " " + t.target : t.name;
      eo["method"] = t.method;
      eo["target"] = t.target;
      if (t.injected) eo["injected"] = true;
      endpoints.push_back(std::move(eo));
    }
    so["endpoints"] = std::move(endpoints);
    so["timeseries"] = i < result.stream_timeseries.size()
                           ? series_to_json(result.stream_timeseries[i])
                           : json::array();
    streams.push_back(std::move(so));
  }
  report["streams"] = std::move(streams);
  report["timeseries"] = series_to_json(result.timeseries);
  return report;
}

void check_writable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw std::runtime_error(
        fmt::format("cannot write report '{}': it exists and is not a regular file", path));
  std::string tmp = path + ".tmp-check";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot write report '{}': {}", path, strerror(errno)));
  // Creating an empty file succeeds on a full filesystem: reserve room for a report too, so a
  // full disk (or a file-size limit) is found before the run, not after it.
  constexpr off_t kReserveBytes = 1 << 20;
  int err = ::posix_fallocate(fd, 0, kReserveBytes);
  if (err == EOPNOTSUPP || err == EINVAL) {  // no fallocate here: write the bytes instead
    static const char zeros[64 << 10] = {};
    err = 0;
    for (off_t done = 0; done < kReserveBytes && err == 0;) {
      ssize_t n = ::write(fd, zeros, sizeof zeros);
      if (n < 0 && errno != EINTR) err = errno;
      if (n > 0) done += n;
    }
  }
  ::close(fd);
  ::unlink(tmp.c_str());
  if (err != 0)
    throw std::runtime_error(fmt::format("cannot write report '{}': {} (no room for a 1 MiB report)",
                                         path, strerror(err)));
}

void write_json_atomic(const std::string& path, const json::value& value) {
  std::string text = json::serialize(value);
  text += '\n';
  write_text_atomic(path, text);
}

void write_text_atomic(const std::string& path, std::string_view text) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot write report '{}': {}", path, strerror(errno)));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error(fmt::format("cannot write report '{}': {}", path, strerror(e)));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write report '{}': {}", path, strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error(fmt::format("cannot write report '{}': {}", path, strerror(e)));
  }
}

json::object read_report(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(fmt::format("cannot read report '{}': {}", path, strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  if (ec)
    throw std::runtime_error(fmt::format("report '{}' is not valid JSON: {}", path, ec.message()));
  if (!v.is_object() || !v.as_object().contains("meta") || !v.as_object().contains("streams"))
    throw std::runtime_error(
        fmt::format("'{}' is not a trafficsim report (no meta/streams)", path));
  return std::move(v.as_object());
}

std::vector<std::string> merge_problems(
    const std::vector<std::pair<std::string, json::object>>& reports) {
  std::vector<std::string> problems;
  if (reports.empty()) return {"no reports to merge"};
  struct Seg {
    std::string file;
    uint64_t index, count;
    std::string hash, start_at;  // start_at: "" when the segment had none
  };
  std::vector<Seg> segs;
  for (const auto& [file, r] : reports) {
    try {
      const auto& meta = obj(r, "meta", "report");
      const auto& seg = obj(meta, "segment", "meta");
      if (!seg.contains("index") || !seg.at("index").is_number())
        bad("it is already a merged report");
      const json::value& h = field(meta, "plan_hash", "meta");
      if (!h.is_string()) bad("meta.plan_hash must be a string");
      std::string start_at;
      if (auto it = meta.find("start_at"); it != meta.end() && it->value().is_string())
        start_at = std::string(it->value().as_string());
      segs.push_back({file, u64(seg, "index", "meta.segment"), u64(seg, "count", "meta.segment"),
                      std::string(h.as_string()), start_at});
    } catch (const std::runtime_error& e) {
      problems.push_back(fmt::format("{}: {}", file, e.what()));
    }
  }
  if (segs.empty()) return problems;
  // The plan is the majority's (the first file's on a tie); every other report is foreign.
  std::map<std::string, size_t> votes;
  for (const auto& s : segs) ++votes[s.hash];
  std::string plan = segs[0].hash;
  for (const auto& s : segs)
    if (votes[s.hash] > votes[plan]) plan = s.hash;
  std::vector<const Seg*> own;
  for (const auto& s : segs) {
    if (s.hash == plan) {
      own.push_back(&s);
    } else {
      problems.push_back(fmt::format("{} is a report of another plan (plan_hash {}, not {})",
                                     s.file, s.hash, plan));
    }
  }
  const uint64_t n = own[0]->count;
  std::map<uint64_t, std::string> seen;
  for (const Seg* s : own) {
    if (s->count != n) {
      problems.push_back(fmt::format("{} is segment {}/{} but {} is segment {}/{}: segment "
                                     "counts differ",
                                     s->file, s->index, s->count, own[0]->file, own[0]->index, n));
      continue;
    }
    auto [it, inserted] = seen.emplace(s->index, s->file);
    if (!inserted)
      problems.push_back(fmt::format("segment {}/{} appears twice: {} and {}", s->index, n,
                                     it->second, s->file));
  }
  for (uint64_t i = 0; i < n; ++i)
    if (!seen.count(i)) problems.push_back(fmt::format("segment {}/{} is missing", i, n));
  // One --start-at for all (or none): segments on different schedules are not one run.
  for (const Seg* s : own)
    if (s->start_at != own[0]->start_at)
      problems.push_back(fmt::format(
          "{} has meta.start_at {} but {} has {}: segments of one run start at one instant",
          s->file, s->start_at.empty() ? "null" : s->start_at, own[0]->file,
          own[0]->start_at.empty() ? "null" : own[0]->start_at));
  return problems;
}

json::object merge_reports(const std::vector<std::pair<std::string, json::object>>& reports) {
  if (auto problems = merge_problems(reports); !problems.empty()) throw MergeError(problems);
  const uint64_t n = reports[0]
                         .second.at("meta")
                         .as_object()
                         .at("segment")
                         .as_object()
                         .at("count")
                         .to_number<uint64_t>();

  // Merge streams and endpoints position by position.
  const json::object& first = reports[0].second;
  json::object out;
  out["format_version"] = kReportFormatVersion;
  json::object meta = obj(first, "meta", "report");
  json::array merged_idx;
  for (uint64_t i = 0; i < n; ++i) merged_idx.emplace_back(i);
  meta["segment"] = json::object{{"count", n}, {"merged", merged_idx}};
  std::string started, ended;
  bool stopped_early = false;
  for (const auto& [file, r] : reports) {
    const auto& m = r.at("meta").as_object();
    std::string s = m.contains("started_at") ? std::string(m.at("started_at").as_string()) : "";
    std::string e = m.contains("ended_at") ? std::string(m.at("ended_at").as_string()) : "";
    if (started.empty() || (!s.empty() && s < started)) started = s;
    if (e > ended) ended = e;
    if (m.contains("stopped_early") && m.at("stopped_early").is_bool())
      stopped_early = stopped_early || m.at("stopped_early").as_bool();
  }
  meta["started_at"] = started;
  meta["ended_at"] = ended;
  // How far apart the segments' first sends were (the started_at of each), in milliseconds.
  std::optional<int64_t> first_ns, last_ns;
  for (const auto& [file, r] : reports) {
    const auto& m = r.at("meta").as_object();
    auto it = m.find("started_at");
    if (it == m.end() || !it->value().is_string()) continue;
    auto t = core::parse_rfc3339(it->value().as_string());
    if (!t) continue;
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count();
    first_ns = first_ns ? std::min(*first_ns, ns) : ns;
    last_ns = last_ns ? std::max(*last_ns, ns) : ns;
  }
  meta["start_skew_ms"] =
      first_ns ? std::round(static_cast<double>(*last_ns - *first_ns) / 1e3) / 1e3 : 0.0;
  if (!meta.contains("start_at")) meta["start_at"] = nullptr;
  meta["stopped_early"] = stopped_early;
  out["meta"] = meta;

  double duration_s = 0;
  for (const auto& [file, r] : reports)
    duration_s = std::max(duration_s, num(r, "duration_s", file));

  const json::array& first_streams = first.at("streams").as_array();
  json::array streams_out;
  EndpointStats grand;
  json::array reasons;
  bool saturated = false;
  for (const auto& [file, r] : reports) {
    if (auto it = r.find("saturation"); it != r.end() && it->value().is_object()) {
      const auto& so = it->value().as_object();
      if (so.contains("saturated") && so.at("saturated").is_bool() &&
          so.at("saturated").as_bool()) {
        saturated = true;
        reasons.emplace_back(fmt::format(
            "{}: {}", file, so.contains("reason") ? std::string(so.at("reason").as_string()) : ""));
      }
    }
  }
  for (size_t si = 0; si < first_streams.size(); ++si) {
    const json::object& fs = first_streams[si].as_object();
    std::vector<std::string> counter_names;
    if (auto it = fs.find("counters"); it != fs.end() && it->value().is_object())
      for (const auto& [k, v] : it->value().as_object()) counter_names.emplace_back(k);
    const json::array& first_eps = fs.at("endpoints").as_array();
    std::vector<EndpointStats> eps(first_eps.size());
    double planned = 0, peak = 0;
    for (const auto& [file, r] : reports) {
      const json::array& ss = r.at("streams").as_array();
      if (ss.size() != first_streams.size() || !ss[si].is_object())
        bad(fmt::format("{}: streams differ from {}", file, reports[0].first));
      const json::object& so = ss[si].as_object();
      const json::array& e = so.at("endpoints").as_array();
      if (e.size() != first_eps.size())
        bad(fmt::format("{}: endpoints of stream {} differ from {}", file, si, reports[0].first));
      if (so.contains("planned_requests")) planned += num(so, "planned_requests", file);
      if (so.contains("peak_target_rps")) peak += num(so, "peak_target_rps", file);
      for (size_t ei = 0; ei < e.size(); ++ei) {
        try {
          eps[ei].merge(stats_from_json(e[ei].as_object()));
        } catch (const std::runtime_error& ex) {
          bad(fmt::format("{}: stream {} endpoint {}: {}", file, si, ei, ex.what()));
        }
      }
    }
    StreamStats merged_stream;
    merged_stream.endpoints = std::move(eps);
    EndpointStats st_total = merged_stream.total();
    grand.merge(st_total);
    json::object so = stats_to_json(st_total, duration_s, counter_names);
    for (const char* k : {"name", "url", "connections"})
      if (fs.contains(k)) so[k] = fs.at(k);
    if (fs.contains("planned_requests")) so["planned_requests"] = planned;
    if (fs.contains("peak_target_rps")) so["peak_target_rps"] = peak;
    json::array endpoints_out;
    for (size_t ei = 0; ei < first_eps.size(); ++ei) {
      json::object eo = stats_to_json(merged_stream.endpoints[ei], duration_s, counter_names);
      const json::object& fe = first_eps[ei].as_object();
      for (const char* k : {"name", "method", "target", "injected"})
        if (fe.contains(k)) eo[k] = fe.at(k);
      endpoints_out.push_back(std::move(eo));
    }
    so["endpoints"] = std::move(endpoints_out);
    so["timeseries"] = merge_series(reports, [si](const json::object& r) -> const json::value* {
      const json::array& ss = r.at("streams").as_array();
      if (si >= ss.size() || !ss[si].is_object()) return nullptr;
      auto it = ss[si].as_object().find("timeseries");
      return it == ss[si].as_object().end() ? nullptr : &it->value();
    });
    streams_out.push_back(std::move(so));
  }
  for (auto& [k, v] : stats_to_json(grand, duration_s, {})) out[k] = v;
  out["saturation"] = json::object{{"saturated", saturated},
                                   {"reason", saturated ? json::value(reasons) : json::value("")}};
  json::array samples;
  for (const auto& [file, r] : reports)
    if (auto it = r.find("error_samples"); it != r.end() && it->value().is_array())
      for (const auto& e : it->value().as_array())
        if (samples.size() < 8 && std::find(samples.begin(), samples.end(), e) == samples.end())
          samples.push_back(e);
  out["error_samples"] = std::move(samples);
  out["streams"] = std::move(streams_out);

  // Time series: sum rates at matching times; keep the worst percentiles.
  out["timeseries"] = merge_series(reports, [](const json::object& r) -> const json::value* {
    auto it = r.find("timeseries");
    return it == r.end() ? nullptr : &it->value();
  });
  return out;
}

}  // namespace trafficsim::load
